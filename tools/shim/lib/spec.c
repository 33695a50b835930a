// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The enlightenment spec: "[preset][+token]...", as OpenVMM's hv=<spec>.
 * This file knows the syntax and the presets; what each flag is called and
 * needs is its row in flags.c.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

#define F(x)	HVR_FLAG(HVR_##x)

static const char *const preset_names[] = {
	[HVR_PRESET_DEFAULT]	= "default",
	[HVR_PRESET_WINDOWS]	= "windows",
	[HVR_PRESET_NONE]	= "none",
};

/*
 * The presets mean what OpenVMM's of the same name do (PR #3743,
 * HvEnlightenments::default(), windows_nested(), windows_non_nested()), so
 * that an OpenVMM spec string carries over.  "default" is OpenVMM's base
 * set; spinlocks only makes the count settable (never notify by default).
 */
#define PRESET_DEFAULT	(F(TIME) | F(FREQUENCIES) | F(VPINDEX) | F(RUNTIME) | F(SYNIC) | \
			 F(STIMER) | F(VAPIC) | F(SPINLOCKS))

/*
 * OpenVMM's windows set, nested or not: the base plus relaxed timing,
 * remote flush, cluster IPI, direct timers and the reset MSR.  avic is
 * ours: AutoEOI deprecated (OpenVMM's builder always says so) lets APICv
 * and AVIC stay on.
 */
#define PRESET_WINDOWS	(PRESET_DEFAULT | F(RELAXED) | F(TLBFLUSH) | F(IPI) | \
			 F(STIMER_DIRECT) | F(RESET) | F(AVIC))

/*
 * With nesting OpenVMM adds evmcs and reenlightenment; without
 * reenlightenment hvix64 resets the partition mid-boot, without eVMCS it
 * spins on failing launches.  tlbflush_direct and emsr_bitmap, QEMU's
 * hv-tlbflush-direct and hv-emsr-bitmap, spare the relay's L0 exits that
 * KVM can serve for L2 directly.  nested_hint tells
 * it that it runs nested, as OpenVMM #3743 tells every nested guest; only
 * this preset sets it, since a Linux guest given the bit moves its SynIC to
 * MSRs KVM does not have.
 */
#define PRESET_WINDOWS_NESTED	(F(REENLIGHTENMENT) | F(TLBFLUSH_DIRECT) | F(EMSR_BITMAP) | \
				 F(NESTED_HINT))

const char *hvr_flag_name(enum hvr_flag flag)
{
	const struct hvr_flag_row *row = hvr_flag_row(flag);

	return row ? row->name : NULL;
}

/*
 * OpenVMM names for things this library always grants along with another
 * flag: the hypercall MSRs come with any enlightenment (QEMU sets
 * HV_HYPERCALL_AVAILABLE unconditionally too), and "time" brings the
 * reference TSC page.  Naming them changes nothing; removing them cannot be
 * done here.
 */
static const struct {
	const char *name;
	const char *why;
} implied[] = {
	{ "hypercall", "the hypercall MSRs come with every enlightenment (as in QEMU)" },
	{ "reference_tsc_page", "'time' always brings the reference TSC page; 'no_time' removes both" },
};

static bool same(const char *a, const char *name, size_t len)
{
	return strlen(a) == len && !memcmp(a, name, len);
}

static int lookup_n(const char *name, size_t len)
{
	unsigned int i;

	for (i = 0; i < HVR_NR_FLAGS; i++) {
		if (same(hvr_flag_rows[i].name, name, len))
			return (int)i;
	}
	/*
	 * OpenVMM's hv= spec (PR #3743, HvEnlightenments::field_mut) also
	 * accepts these spellings; its spec strings must mean the same here.
	 */
	for (i = 0; i < HVR_NR_FLAGS; i++) {
		if (hvr_flag_rows[i].alias && same(hvr_flag_rows[i].alias, name, len))
			return (int)i;
	}
	return -ENOENT;
}

static int implied_n(const char *name, size_t len)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(implied); i++) {
		if (same(implied[i].name, name, len))
			return (int)i;
	}
	return -ENOENT;
}

int hvr_flag_lookup(const char *name)
{
	return name ? lookup_n(name, strlen(name)) : -ENOENT;
}

const char *hvr_preset_name(enum hvr_preset preset)
{
	if ((unsigned int)preset >= ARRAY_SIZE(preset_names))
		return NULL;
	return preset_names[preset];
}

const char *hvr_vendor_name(enum hvr_vendor vendor)
{
	switch (vendor) {
	case HVR_VENDOR_INTEL:
		return "intel";
	case HVR_VENDOR_AMD:
		return "amd";
	default:
		return "unknown";
	}
}

uint64_t hvr_preset_flags(enum hvr_preset preset, enum hvr_vendor vendor, bool nested)
{
	uint64_t f;

	switch (preset) {
	case HVR_PRESET_DEFAULT:
		return PRESET_DEFAULT;
	case HVR_PRESET_WINDOWS:
		f = PRESET_WINDOWS;
		if (nested) {
			f |= PRESET_WINDOWS_NESTED;
			if (vendor == HVR_VENDOR_INTEL)
				f |= F(EVMCS);
		}
		return f;
	default:
		return 0;
	}
}

uint64_t hvr_flag_deps(enum hvr_flag flag)
{
	const struct hvr_flag_row *row = hvr_flag_row(flag);

	return row ? row->deps : 0;
}

static int preset_lookup(const char *s, size_t len)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(preset_names); i++) {
		if (strlen(preset_names[i]) == len && !memcmp(preset_names[i], s, len))
			return i;
	}
	return -ENOENT;
}

/*
 * Catch the QEMU spelling ("hv-stimer-direct") and name ours.  Returns the
 * suggestion in @buf, or NULL.
 */
static const char *suggest(const char *tok, size_t len, char *buf, size_t size)
{
	const char *cand = buf;
	size_t i;

	if (len >= size)
		return NULL;
	for (i = 0; i < len; i++)
		buf[i] = tok[i] == '-' ? '_' : tok[i];
	buf[len] = '\0';
	if (!strncmp(cand, "hv_", 3))
		cand += 3;
	if (strlen(cand) == len && !memcmp(cand, tok, len))
		return NULL;
	if (hvr_flag_lookup(cand) >= 0)
		return cand;
	if (!strncmp(cand, "no_", 3) && hvr_flag_lookup(cand + 3) >= 0)
		return cand;
	return NULL;
}

static int refuse_unknown(const char *tok, size_t len, struct hvr_error *err)
{
	char buf[64], shown[128];
	const char *s = suggest(tok, len, buf, sizeof(buf));

	hvr_printable(tok, len, shown, sizeof(shown));
	if (s)
		return hvr_fail(err, -EINVAL, "unknown enlightenment '%s' (did you mean '%s'?)",
				shown, s);
	return hvr_fail(err, -EINVAL, "unknown enlightenment '%s'", shown);
}

/*
 * Decimal or 0x-hex, as OpenVMM's parse_int: "017777" is 17777, not octal.
 * Any 32-bit count, as there: the TLFS gives no floor, and a small one only
 * makes the guest notify sooner.
 */
static int parse_count(const char *v, size_t len, uint32_t *out, struct hvr_error *err)
{
	char shown[128];
	uint64_t n;
	int ret;

	if (!len)
		return hvr_fail(err, -EINVAL, "'spinlocks=' needs a number");
	hvr_printable(v, len, shown, sizeof(shown));
	ret = hvr_parse_u64(v, len, &n);
	if (ret == -EINVAL)
		return hvr_fail(err, -EINVAL, "'spinlocks=%s': not a number", shown);
	if (ret == -ERANGE || n > 0xffffffffull)
		return hvr_fail(err, -EINVAL, "'spinlocks=%s': at most 0xffffffff", shown);
	*out = (uint32_t)n;
	return 0;
}

/* An OpenVMM name for something always granted: accept it, refuse its "no_". */
static int parse_implied(const char *tok, size_t len, size_t nlen, struct hvr_error *err)
{
	bool on = nlen <= 3 || memcmp(tok, "no_", 3);
	int i = on ? implied_n(tok, nlen) : implied_n(tok + 3, nlen - 3);

	if (i < 0)
		return refuse_unknown(tok, nlen, err);
	if (nlen != len)
		return hvr_fail(err, -EINVAL, "'%s' takes no value (only spinlocks=<n> does)",
				implied[i].name);
	if (!on)
		return hvr_fail(err, -EINVAL, "'no_%s' cannot be had: %s", implied[i].name,
				implied[i].why);
	return 0;
}

static int parse_token(const char *tok, size_t len, struct hvr_spec *spec, struct hvr_error *err)
{
	const char *eq = memchr(tok, '=', len);
	size_t nlen = eq ? (size_t)(eq - tok) : len;
	bool on = true;
	int f, ret;

	f = lookup_n(tok, nlen);
	/* "no_nonarch_coresharing" is a name of its own, so try it whole first. */
	if (f < 0 && nlen > 3 && !memcmp(tok, "no_", 3)) {
		f = lookup_n(tok + 3, nlen - 3);
		on = false;
	}
	if (f < 0)
		return parse_implied(tok, len, nlen, err);

	if (eq) {
		if (f != HVR_SPINLOCKS || !on)
			return hvr_fail(err, -EINVAL,
					"'%.*s' takes no value (only spinlocks=<n> does)",
					(int)nlen, tok);
		ret = parse_count(eq + 1, len - nlen - 1, &spec->spin_count, err);
		if (ret)
			return ret;
		spec->spin_given = true;
	} else if (f == HVR_SPINLOCKS) {
		/* A later plain "spinlocks" or "no_spinlocks" drops the count. */
		spec->spin_given = false;
	}

	if (on) {
		spec->set |= HVR_FLAG(f);
		spec->clear &= ~HVR_FLAG(f);
	} else {
		spec->clear |= HVR_FLAG(f);
		spec->set &= ~HVR_FLAG(f);
	}
	return 0;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * As OpenVMM's apply_spec(): tokens are trimmed and empty ones skipped, so
 * "windows++relaxed" and "windows + relaxed" mean "windows+relaxed"; the
 * first token left may be a preset.
 */
int hvr_spec_parse(const char *text, struct hvr_spec *spec, struct hvr_error *err)
{
	struct hvr_spec s = { .preset = HVR_PRESET_DEFAULT };
	const char *p = text ? text : "";
	bool first = true, any = !*p;
	int ret;

	for (;;) {
		const char *end = strchr(p, '+');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		int preset;

		while (len && blank(*p)) {
			p++;
			len--;
		}
		while (len && blank(p[len - 1]))
			len--;
		if (len) {
			preset = preset_lookup(p, len);
			if (preset >= 0 && !first)
				return hvr_fail(err, -EINVAL,
						"preset '%.*s' must come first in the spec",
						(int)len, p);
			if (preset >= 0) {
				s.preset = preset;
			} else {
				ret = parse_token(p, len, &s, err);
				if (ret)
					return ret;
			}
			first = false;
			any = true;
		}
		if (!end)
			break;
		p = end + 1;
	}
	/* Only separators and blanks: OpenVMM refuses that too. */
	if (!any)
		return hvr_fail(err, -EINVAL, "empty spec: no preset and no token in it");
	*spec = s;
	return 0;
}
