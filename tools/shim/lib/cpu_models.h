/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The generated CPU model table (cpu_models_table.c, written by
 * gen/cpu-models.py) and what cpu_model.c needs to read it; not installed.
 */
#ifndef HVR_CPU_MODELS_H
#define HVR_CPU_MODELS_H

#include "internal.h"

/**
 * struct hvr_cpu_word_def - where a feature word lives, and its bits' names
 * @function: CPUID leaf
 * @index: subleaf
 * @reg: output register
 * @dynamic: bits the OS or the VMM sets at run time (OSXSAVE, OSPKE, the
 *	hypervisor bit): passed through from the host, never a model's
 * @names: QEMU's name for each bit the facts place, else NULL
 */
struct hvr_cpu_word_def {
	uint32_t function;
	uint32_t index;
	enum hvr_reg reg;
	uint32_t dynamic;
	const char *names[32];
};

extern const struct hvr_cpu_word_def hvr_cpu_word_defs[];
extern const struct hvr_cpu_model hvr_cpu_models[];
extern const unsigned int hvr_cpu_nr_models;
/* "qemu-system-x86_64 --version" and the package the table came from */
extern const char hvr_cpu_models_qemu[];
extern const char hvr_cpu_models_package[];

/* The entry of @function/@index among @n entries at @e, or NULL. */
struct kvm_cpuid_entry2 *hvr_cpuid_find(struct kvm_cpuid_entry2 *e, unsigned int n,
					uint32_t function, uint32_t index);

#endif /* HVR_CPU_MODELS_H */
