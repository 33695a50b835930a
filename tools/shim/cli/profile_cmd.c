// SPDX-License-Identifier: GPL-2.0-only
/*
 * "cpu capture", "cpu check" and "cpu baseline": CPU profiles of hosts, for
 * moving guests around a cluster.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Profiles are 12 KiB structures: keep them off the stack. */
static struct hvr_cpu_profile *new_profile(void)
{
	struct hvr_cpu_profile *p = calloc(1, sizeof(*p));

	if (!p) {
		fail("out of memory");
		exit(EXIT_NOT_OK);
	}
	return p;
}

static int capture_host(struct hvr_cpu_profile *p)
{
	struct hvr_error err;
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return fail("/dev/kvm: %s (capture needs KVM on this host; --host FILE takes a captured profile)",
			    strerror(errno));
	if (hvr_profile_capture(fd, p, &err)) {
		close(fd);
		return fail("%s", err.msg);
	}
	close(fd);
	return 0;
}

static int write_profile(const struct hvr_cpu_profile *p, const char *out)
{
	struct hvr_error err;
	int len;
	char *buf;

	if (out)
		return hvr_profile_save(p, out, &err) ? fail("%s", err.msg) : 0;
	len = hvr_profile_format(p, NULL, 0);
	buf = malloc((size_t)len + 1);
	if (!buf)
		return fail("out of memory");
	hvr_profile_format(p, buf, (size_t)len + 1);
	fputs(buf, stdout);
	free(buf);
	return fflush(stdout) ? fail("stdout: %s", strerror(errno)) : 0;
}

/* "-o FILE" or "--output FILE"; Return: 1 if @argv[*i] was it, -EXIT_USAGE if its value is missing. */
static int output_option(int argc, char **argv, int *i, const char *cmd, const char **out)
{
	if (strcmp(argv[*i], "-o") && strcmp(argv[*i], "--output"))
		return 0;
	if (*i + 1 >= argc)
		return -usage_error("cpu %s: %s needs a FILE", cmd, argv[*i]);
	if (*out)
		return -usage_error("cpu %s: one %s only", cmd, argv[*i]);
	*out = argv[++*i];
	return 1;
}

static int cmd_capture(int argc, char **argv)
{
	struct hvr_cpu_profile *p;
	const char *out = NULL;
	int i, r;

	for (i = 1; i < argc; i++) {
		if (is_help(argv[i])) {
			print_help("cpu");
			return 0;
		}
		r = output_option(argc, argv, &i, "capture", &out);
		if (r < 0)
			return -r;
		if (!r)
			return usage_error("cpu capture: unexpected '%s'", esc(argv[i]));
	}
	p = new_profile();
	r = capture_host(p);
	if (!r)
		r = write_profile(p, out);
	free(p);
	return r;
}

static int load(const char *path, struct hvr_cpu_profile *p)
{
	struct hvr_error err;

	return hvr_profile_load(path, p, &err) ? fail("%s", err.msg) : 0;
}

static int cmd_check_profile(int argc, char **argv)
{
	struct hvr_cpu_profile *host, *want;
	struct hvr_profile_issue *issues = NULL;
	const char *path = NULL, *host_path = NULL;
	struct hvr_error err;
	int i, n, r;

	for (i = 1; i < argc; i++) {
		if (is_help(argv[i])) {
			print_help("cpu");
			return 0;
		} else if (!strcmp(argv[i], "--host")) {
			if (i + 1 >= argc)
				return usage_error("cpu check: --host needs a FILE");
			host_path = argv[++i];
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return usage_error("cpu check: unknown option '%s'", esc(argv[i]));
		} else if (path) {
			return usage_error("cpu check: one PROFILE only; '%s' is extra", esc(argv[i]));
		} else {
			path = argv[i];
		}
	}
	if (!path)
		return usage_error("cpu check: which PROFILE?");
	host = new_profile();
	want = new_profile();
	r = load(path, want);
	if (!r)
		r = host_path ? load(host_path, host) : capture_host(host);
	if (r)
		goto out;
	n = hvr_profile_check(host, want, NULL, 0, &err);
	if (n < 0) {
		r = fail("%s", err.msg);
		goto out;
	}
	if (!n) {
		printf("%s: this host can run it\n", esc(path));
		goto out;
	}
	issues = calloc((size_t)n, sizeof(*issues));
	if (!issues) {
		r = fail("out of memory");
		goto out;
	}
	hvr_profile_check(host, want, issues, (unsigned int)n, &err);
	printf("%s: this host cannot run it (%d problem%s):\n", esc(path), n, n == 1 ? "" : "s");
	for (i = 0; i < n; i++)
		printf("  %s\n", issues[i].text);
	r = EXIT_NOT_OK;
out:
	free(issues);
	free(host);
	free(want);
	return r;
}

static int cmd_baseline(int argc, char **argv)
{
	const struct hvr_cpu_profile **hosts;
	const struct hvr_cpu_model *model, *level;
	struct hvr_profile_issue *left = NULL;
	struct hvr_cpu_profile *out_p = NULL;
	const char *out = NULL;
	struct hvr_error err;
	unsigned int n = 0, k;
	FILE *say;
	int i, r = 0, nleft;

	hosts = calloc((size_t)argc, sizeof(*hosts));
	if (!hosts)
		return fail("out of memory");
	for (i = 1; i < argc && !r; i++) {
		if (is_help(argv[i])) {
			print_help("cpu");
			goto out;
		}
		r = output_option(argc, argv, &i, "baseline", &out);
		if (r < 0) {
			r = -r;
			goto out;
		}
		if (r) {
			r = 0;
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1]) {
			r = usage_error("cpu baseline: unknown option '%s'", esc(argv[i]));
			goto out;
		}
		hosts[n] = new_profile();
		r = load(argv[i], (struct hvr_cpu_profile *)hosts[n++]);
	}
	if (r)
		goto out;
	if (!n) {
		r = usage_error("cpu baseline: which PROFILEs? (one per host)");
		goto out;
	}
	out_p = new_profile();
	nleft = hvr_profile_baseline(hosts, n, out_p, NULL, 0, &err);
	if (nleft < 0) {
		r = fail("%s", err.msg);
		goto out;
	}
	left = calloc((size_t)nleft + 1, sizeof(*left));
	if (!left) {
		r = fail("out of memory");
		goto out;
	}
	hvr_profile_baseline(hosts, n, out_p, left, (unsigned int)nleft, &err);
	r = write_profile(out_p, out);
	if (r)
		goto out;
	/* With the profile on stdout, what is said about it goes beside it. */
	say = out ? stdout : stderr;
	model = hvr_profile_newest_model(out_p, false);
	level = hvr_profile_newest_model(out_p, true);
	fprintf(say, "newest model: %s\n", model ? model->name : "none of the named models");
	fprintf(say, "psABI level:  %s\n", level ? level->name : "none (not even x86-64-v2)");
	for (k = 0; k < (unsigned int)nleft; k++)
		fprintf(say, "left out: %s\n", left[k].text);
out:
	for (k = 0; k < n; k++)
		free((void *)hosts[k]);
	free(hosts);
	free(out_p);
	free(left);
	return r;
}

int cmd_profile(int argc, char **argv)
{
	if (!strcmp(argv[0], "capture"))
		return cmd_capture(argc, argv);
	if (!strcmp(argv[0], "check"))
		return cmd_check_profile(argc, argv);
	return cmd_baseline(argc, argv);
}
