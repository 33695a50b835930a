// SPDX-License-Identifier: GPL-2.0-only
/*
 * "cpu": the named CPU models the library knows (cpu models), and one of
 * them in full (cpu show MODEL); the profile actions are profile_cmd.c's.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char *const reg_names[] = { "eax", "ebx", "ecx", "edx" };

static void json_names(const char *const *names)
{
	const char *sep = "";

	putchar('[');
	for (; names && *names; names++) {
		printf("%s", sep);
		json_string(*names);
		sep = ", ";
	}
	putchar(']');
}

static void print_aliases(const struct hvr_cpu_model *m)
{
	const char *const *a;

	for (a = m->aliases; *a; a++)
		printf("%s%s", a == m->aliases ? "" : " ", *a);
	if (!*m->aliases)
		printf("-");
}

static int cmd_models(int argc, char **argv)
{
	unsigned int i;

	if (argc > 1)
		return usage_error("cpu models: unexpected '%s'", esc(argv[1]));
	printf("%-24s %-13s %-9s %s\n", "MODEL", "VENDOR", "F/M/S", "ALIASES");
	for (i = 0; i < hvr_cpu_model_count(); i++) {
		const struct hvr_cpu_model *m = hvr_cpu_model_get(i);
		char fms[16];

		if (m->vendor)
			snprintf(fms, sizeof(fms), "%u/%u/%u", m->family, m->model, m->stepping);
		else
			snprintf(fms, sizeof(fms), "-");
		printf("%-24s %-13s %-9s ", m->name, m->vendor ? m->vendor : "(host's)", fms);
		print_aliases(m);
		putchar('\n');
	}
	return 0;
}

/* Whether a set bit before (@word, @bit) already has @name. */
static bool listed(const struct hvr_cpu_model *m, const char *name, unsigned int word,
		   unsigned int bit)
{
	unsigned int w, b;

	for (w = 0; w <= word; w++) {
		for (b = 0; b < (w == word ? bit : 32); b++) {
			if (m->words[w] >> b & 1 && !strcmp(hvr_cpu_feature_name(w, b), name))
				return true;
		}
	}
	return false;
}

static void show_json(const struct hvr_cpu_model *m)
{
	unsigned int w, bit, reg;
	uint32_t fn, idx;
	const char *sep = "";

	printf("{\n  \"name\": ");
	json_string(m->name);
	printf(",\n  \"aliases\": ");
	json_names(m->aliases);
	printf(",\n  \"source\": ");
	json_string(m->source);
	if (m->vendor) {
		printf(",\n  \"vendor\": ");
		json_string(m->vendor);
		printf(",\n  \"family\": %u,\n  \"model\": %u,\n  \"stepping\": %u", m->family,
		       m->model, m->stepping);
		printf(",\n  \"brand\": ");
		json_string(m->brand);
	} else {
		printf(",\n  \"vendor\": null");
	}
	printf(",\n  \"features\": [");
	for (w = 0; w < HVR_CPU_NR_WORDS; w++) {
		for (bit = 0; bit < 32; bit++) {
			const char *name = hvr_cpu_feature_name(w, bit);

			/* AMD's copies of leaf 1 in 0x80000001 EDX are one feature each. */
			if (m->words[w] >> bit & 1 && !listed(m, name, w, bit)) {
				printf("%s\"%s\"", sep, name);
				sep = ", ";
			}
		}
	}
	printf("],\n  \"msr_features\": ");
	json_names(m->msr_features);
	/* Every word, the empty ones too: a caller masking with them needs all. */
	printf(",\n  \"words\": [");
	for (w = 0; w < HVR_CPU_NR_WORDS; w++) {
		hvr_cpu_word_leaf(w, &fn, &idx, &reg);
		printf("%s\n    { \"function\": \"0x%08x\", \"index\": %u, \"reg\": \"%s\", "
		       "\"value\": \"0x%08x\" }", w ? "," : "", fn, idx, reg_names[reg], m->words[w]);
	}
	printf("\n  ]\n}\n");
}

static void show_text(const struct hvr_cpu_model *m)
{
	unsigned int w, bit, reg, col;
	uint32_t fn, idx;
	const char *const *f;

	printf("model     %s\n", m->name);
	printf("aliases   ");
	print_aliases(m);
	printf("\nsource    %s\n", m->source);
	if (m->vendor) {
		printf("vendor    %s\n", m->vendor);
		printf("family    %u, model %u, stepping %u\n", m->family, m->model, m->stepping);
		printf("brand     %s\n", *m->brand ? m->brand : "(none)");
	} else {
		printf("vendor    none: the host's vendor, family, model and brand are kept\n");
	}
	printf("\nleaf        sub reg  value       features\n");
	for (w = 0; w < HVR_CPU_NR_WORDS; w++) {
		hvr_cpu_word_leaf(w, &fn, &idx, &reg);
		printf("0x%08x  %u   %s  0x%08x ", fn, idx, reg_names[reg], m->words[w]);
		col = 0;
		for (bit = 0; bit < 32; bit++) {
			const char *name = hvr_cpu_feature_name(w, bit);

			if (!(m->words[w] >> bit & 1))
				continue;
			if (col && col + strlen(name) > 44) {
				printf("\n%34s", "");
				col = 0;
			}
			col += printf(" %s", name);
		}
		if (!m->words[w])
			printf(" (none)");
		putchar('\n');
	}
	if (*m->msr_features) {
		printf("\nnot CPUID (MSR bits, not applied by the CPUID mask):");
		for (f = m->msr_features; *f; f++)
			printf(" %s", *f);
		putchar('\n');
	}
}

static int cmd_show_model(int argc, char **argv)
{
	const struct hvr_cpu_model *m;
	const char *name = NULL;
	struct hvr_error err;
	bool json = false;
	int i;

	for (i = 1; i < argc; i++) {
		if (is_help(argv[i])) {
			print_help("cpu");
			return 0;
		} else if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return usage_error("cpu show: unknown option '%s'", esc(argv[i]));
		} else if (name) {
			return usage_error("cpu show: one MODEL only; '%s' is extra", esc(argv[i]));
		} else {
			name = argv[i];
		}
	}
	if (!name)
		return usage_error("cpu show: which MODEL? ('" PROG " cpu models' lists them)");
	/*
	 * A model name is part of the command line: an unknown one is a usage
	 * error, like an unknown option, and nothing is printed on stdout.
	 */
	if (hvr_cpu_model_lookup(name, &m, &err))
		return usage_error("cpu show: %s", err.msg);
	if (json)
		show_json(m);
	else
		show_text(m);
	return 0;
}

int cmd_cpu(int argc, char **argv)
{
	if (argc < 2)
		return usage_error("cpu: models, show, capture, check or baseline?");
	if (is_help(argv[1])) {
		print_help("cpu");
		return 0;
	}
	if (!strcmp(argv[1], "models")) {
		if (argc > 2 && is_help(argv[2])) {
			print_help("cpu");
			return 0;
		}
		return cmd_models(argc - 1, argv + 1);
	}
	if (!strcmp(argv[1], "show"))
		return cmd_show_model(argc - 1, argv + 1);
	if (!strcmp(argv[1], "capture") || !strcmp(argv[1], "check") || !strcmp(argv[1], "baseline"))
		return cmd_profile(argc - 1, argv + 1);
	return usage_error("cpu: '%s' is not models, show, capture, check or baseline", esc(argv[1]));
}
