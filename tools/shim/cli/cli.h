/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KVM_HV_RELAY_CLI_H
#define KVM_HV_RELAY_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "hvrelay.h"

#define EXIT_NOT_OK	1	/* refused, not ready, or an ioctl failed */
#define EXIT_USAGE	2	/* the command line itself is wrong */

#define PROG		"kvm-hv-relay"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define CLI_PRINTF(f, a)	__attribute__((format(printf, f, a)))
#else
#define CLI_PRINTF(f, a)
#endif

int usage_error(const char *fmt, ...) CLI_PRINTF(1, 2);
int fail(const char *fmt, ...) CLI_PRINTF(1, 2);
void print_help(const char *topic);
bool is_help(const char *arg);

int cmd_show(int argc, char **argv);
int cmd_host_cpuid(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_relay(int argc, char **argv);
int cmd_cpu(int argc, char **argv);
void json_string(const char *s);
/* cpu capture|check|baseline, argv[0] being the action */
int cmd_profile(int argc, char **argv);

/*
 * User text fit for a message: control and non-ASCII bytes as \xHH.  The
 * result lives in one of a few static buffers, so several may be used in
 * one printf.
 */
const char *esc(const char *s);
/* A decimal number 0..@max for an option; a message and EXIT_USAGE if not. */
int parse_option_number(const char *opt, const char *s, long long min, long long max,
			long long *out);

#endif
