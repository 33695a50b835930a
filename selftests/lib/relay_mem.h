/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kernel's own view of memory, for tests that bound what the module
 * keeps (relay_lifecycle, relay_vcpus): /proc/meminfo and the slab caches.
 */
#ifndef RELAY_MEM_H
#define RELAY_MEM_H

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A /proc/meminfo field in KiB, -1 when absent. */
static inline long meminfo_kb(const char *key)
{
	char line[128];
	size_t n = strlen(key);
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

static inline void write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);

	if (fd >= 0) {
		if (write(fd, val, strlen(val)) < 0)
			; /* not every cache can be shrunk: best effort */
		close(fd);
	}
}

/*
 * Freed objects sit in per-CPU slabs and freed pages in per-CPU lists
 * until something asks for them back: ask, so that only live memory counts.
 */
static inline void relay_mem_settle(void)
{
	char path[300];
	struct dirent *e;
	DIR *d;

	write_str("/proc/sys/vm/drop_caches", "3");
	d = opendir("/sys/kernel/slab");
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink", e->d_name);
		write_str(path, "1");
	}
	if (d)
		closedir(d);
}

#endif /* RELAY_MEM_H */
