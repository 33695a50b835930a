// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Named CPU models: finding one, and masking a host's CPUID down to it.
 * The models themselves are generated (cpu_models_table.c).
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "cpu_models.h"

#define BRAND_LEAF_FIRST	0x80000002u
#define BRAND_LEAF_LAST		0x80000004u

unsigned int hvr_cpu_model_count(void)
{
	return hvr_cpu_nr_models;
}

const struct hvr_cpu_model *hvr_cpu_model_get(unsigned int i)
{
	return i < hvr_cpu_nr_models ? &hvr_cpu_models[i] : NULL;
}

static bool model_is_called(const struct hvr_cpu_model *m, const char *name,
			    int (*cmp)(const char *, const char *))
{
	const char *const *a;

	if (!cmp(m->name, name))
		return true;
	for (a = m->aliases; a && *a; a++) {
		if (!cmp(*a, name))
			return true;
	}
	return false;
}

int hvr_cpu_model_lookup(const char *name, const struct hvr_cpu_model **model,
			 struct hvr_error *err)
{
	char shown[96];
	unsigned int i;

	for (i = 0; name && i < hvr_cpu_nr_models; i++) {
		if (model_is_called(&hvr_cpu_models[i], name, strcmp)) {
			*model = &hvr_cpu_models[i];
			return 0;
		}
	}
	hvr_printable(name ? name : "", name ? strlen(name) : 0, shown, sizeof(shown));
	/*
	 * QEMU's -cpu is case-sensitive and so are we, so that a name means
	 * the same in both; but "skylake-server" is an obvious slip to point at.
	 */
	for (i = 0; name && i < hvr_cpu_nr_models; i++) {
		const struct hvr_cpu_model *m = &hvr_cpu_models[i];
		const char *const *a;

		if (!strcasecmp(m->name, name))
			return hvr_fail(err, -ENOENT, "unknown CPU model '%s' (did you mean '%s'?)",
					shown, m->name);
		for (a = m->aliases; *a; a++) {
			if (!strcasecmp(*a, name))
				return hvr_fail(err, -ENOENT,
						"unknown CPU model '%s' (did you mean '%s'?)", shown, *a);
		}
	}
	return hvr_fail(err, -ENOENT, "unknown CPU model '%s'", shown);
}

int hvr_cpu_word_leaf(enum hvr_cpu_word word, uint32_t *function, uint32_t *index,
		      unsigned int *reg)
{
	const struct hvr_cpu_word_def *d;

	if ((unsigned int)word >= HVR_CPU_NR_WORDS)
		return -EINVAL;
	d = &hvr_cpu_word_defs[word];
	*function = d->function;
	*index = d->index;
	*reg = d->reg;
	return 0;
}

const char *hvr_cpu_feature_name(enum hvr_cpu_word word, unsigned int bit)
{
	if ((unsigned int)word >= HVR_CPU_NR_WORDS || bit >= 32)
		return NULL;
	return hvr_cpu_word_defs[word].names[bit];
}

struct kvm_cpuid_entry2 *hvr_cpuid_find(struct kvm_cpuid_entry2 *e, unsigned int n,
					uint32_t function, uint32_t index)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (e[i].function == function && e[i].index == index)
			return &e[i];
	}
	return NULL;
}

/*
 * Leaf 1 EAX as the SDM and APM define it: a family above 0xF is 0xF plus
 * the extended family, the model's high nibble is the extended model.
 */
static uint32_t signature(const struct hvr_cpu_model *m)
{
	uint32_t fam = m->family, base = fam > 0xf ? 0xf : fam;

	return (m->stepping & 0xf) | (m->model & 0xf) << 4 | base << 8 |
	       ((m->model >> 4) & 0xf) << 16 | ((fam - base) & 0xff) << 20;
}

static void vendor_of(const struct kvm_cpuid_entry2 *leaf0, char v[13])
{
	memcpy(v, &leaf0->ebx, 4);
	memcpy(v + 4, &leaf0->edx, 4);
	memcpy(v + 8, &leaf0->ecx, 4);
	v[12] = '\0';
}

/* Leaves 0x80000002..4, 16 bytes each, NUL-padded (an empty brand is zeros). */
static int set_brand(const struct hvr_cpu_model *m, struct kvm_cpuid_entry2 *out,
		     unsigned int *n, unsigned int max, struct hvr_error *err)
{
	struct kvm_cpuid_entry2 *ext = hvr_cpuid_find(out, *n, 0x80000000u, 0);
	char text[48] = { 0 };
	uint32_t fn;

	if (!ext)
		return hvr_fail(err, -EINVAL, "the host's CPUID has no leaf 0x80000000");
	/* 48 bytes with no NUL is a full brand string, as the SDM allows. */
	memcpy(text, m->brand, strnlen(m->brand, sizeof(text)));
	for (fn = BRAND_LEAF_FIRST; fn <= BRAND_LEAF_LAST; fn++) {
		struct kvm_cpuid_entry2 *e = hvr_cpuid_find(out, *n, fn, 0);
		const char *p = text + (fn - BRAND_LEAF_FIRST) * 16;

		if (!e) {
			if (*n >= max)
				return hvr_fail(err, -ENOSPC,
						"%u CPUID entries do not hold the brand string leaves", max);
			e = &out[(*n)++];
			memset(e, 0, sizeof(*e));
			e->function = fn;
		}
		memcpy(&e->eax, p, 4);
		memcpy(&e->ebx, p + 4, 4);
		memcpy(&e->ecx, p + 8, 4);
		memcpy(&e->edx, p + 12, 4);
	}
	if (ext->eax < BRAND_LEAF_LAST)
		ext->eax = BRAND_LEAF_LAST;
	return 0;
}

static int set_identity(const struct hvr_cpu_model *m, struct kvm_cpuid_entry2 *out,
			unsigned int *n, unsigned int max, struct hvr_error *err)
{
	struct kvm_cpuid_entry2 *e;

	e = hvr_cpuid_find(out, *n, 1, 0);
	if (e)
		e->eax = signature(m);
	/* APM: Fn8000_0001_EAX repeats the family, model and stepping. */
	e = hvr_cpuid_find(out, *n, 0x80000001u, 0);
	if (e && (!strcmp(m->vendor, "AuthenticAMD") || !strcmp(m->vendor, "HygonGenuine")))
		e->eax = signature(m);
	return set_brand(m, out, n, max, err);
}

int hvr_cpu_model_mask(const struct hvr_cpu_model *model, const struct kvm_cpuid_entry2 *host,
		       unsigned int nhost, struct kvm_cpuid_entry2 *out, unsigned int max,
		       struct hvr_error *err)
{
	struct kvm_cpuid_entry2 *leaf0;
	unsigned int n = nhost, w;
	char vendor[13];
	int ret;

	if (nhost > max)
		return hvr_fail(err, -ENOSPC, "%u CPUID entries do not hold the host's %u", max, nhost);
	memcpy(out, host, nhost * sizeof(*out));
	leaf0 = hvr_cpuid_find(out, n, 0, 0);
	if (!leaf0)
		return hvr_fail(err, -EINVAL, "the host's CPUID has no leaf 0");
	vendor_of(leaf0, vendor);
	/*
	 * A guest takes the vendor's code paths (SYSCALL vs SYSENTER in compat
	 * mode, the vendor's MSRs, its errata); KVM does not emulate the other
	 * vendor's, so a model of another vendor is refused, not faked.
	 */
	if (model->vendor && strcmp(model->vendor, vendor))
		return hvr_fail(err, -EINVAL, "CPU model '%s' is %s, this host is %s",
				model->name, model->vendor, vendor);

	for (w = 0; w < HVR_CPU_NR_WORDS; w++) {
		const struct hvr_cpu_word_def *d = &hvr_cpu_word_defs[w];
		struct kvm_cpuid_entry2 *e = hvr_cpuid_find(out, n, d->function, d->index);
		uint32_t v;

		if (!e)
			continue;
		v = hvr_reg_get(e, d->reg);
		hvr_reg_set(e, d->reg, (v & model->words[w] & ~d->dynamic) | (v & d->dynamic));
	}

	if (model->vendor) {
		ret = set_identity(model, out, &n, max, err);
		if (ret)
			return ret;
	}
	return (int)n;
}
