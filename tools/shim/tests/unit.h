/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the unit test files share: the expectation macros, the report, and
 * the fixture directory.  Each file's tests print "PASS name" / "FAIL name".
 */
#ifndef HVR_UNIT_H
#define HVR_UNIT_H

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* The fixture directory, from the command line. */
extern const char *fixtures;
/* unit_profile.c: the profile fixture <name>.profile.json, or exit(2) */
struct hvr_cpu_profile *fixture(const char *name);

/* Record a failed expectation; report() prints them all under the test's name. */
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void report(const char *name);
/* A test that cannot run here: "SKIP name reason", which run.sh lists as a TAP SKIP. */
void skip(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define EXPECT(cond) do { if (!(cond)) note("%s:%d: %s", __FILE__, __LINE__, #cond); } while (0)
#define EXPECT_HEX(got, want) do {						\
	unsigned long long g_ = (got), w_ = (want);				\
	if (g_ != w_)								\
		note("%s:%d: %s = 0x%llx, want 0x%llx", __FILE__, __LINE__, #got, g_, w_); \
} while (0)

/* unit_cpu.c */
void test_cpu_models(void);

/* unit_json.c */
void test_json(void);

/* unit_apply.c */
void test_apply(void);

/* unit_profile.c */
void test_profiles(void);

#endif
