/* SPDX-License-Identifier: GPL-2.0-only */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM kvm_hv_relay

#if !defined(KVM_HV_RELAY_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define KVM_HV_RELAY_TRACE_H

#include <linux/tracepoint.h>

/* A call handed to userspace as KVM_EXIT_HYPERV. */
TRACE_EVENT(kvm_hv_relay_relayed,
	    TP_PROTO(unsigned int vcpu_id, u64 input, u64 l2_gpa, u64 param0),
	    TP_ARGS(vcpu_id, input, l2_gpa, param0),
	    TP_STRUCT__entry(__field(unsigned int, vcpu_id)
			     __field(u64, input)
			     __field(u64, l2_gpa)
			     __field(u64, param0)),
	    TP_fast_assign(__entry->vcpu_id = vcpu_id;
			   __entry->input = input;
			   __entry->l2_gpa = l2_gpa;
			   __entry->param0 = param0;),
	    TP_printk("vcpu %u input 0x%llx l2_gpa 0x%llx param0 0x%llx",
		      __entry->vcpu_id, __entry->input, __entry->l2_gpa,
		      __entry->param0)
);

/* A call finished: in the kernel (eventfd, bad input) or by userspace. */
TRACE_EVENT(kvm_hv_relay_completed,
	    TP_PROTO(unsigned int vcpu_id, u64 input, u64 result, bool stale),
	    TP_ARGS(vcpu_id, input, result, stale),
	    TP_STRUCT__entry(__field(unsigned int, vcpu_id)
			     __field(u64, input)
			     __field(u64, result)
			     __field(bool, stale)),
	    TP_fast_assign(__entry->vcpu_id = vcpu_id;
			   __entry->input = input;
			   __entry->result = result;
			   __entry->stale = stale;),
	    TP_printk("vcpu %u input 0x%llx result 0x%llx%s", __entry->vcpu_id,
		      __entry->input, __entry->result,
		      __entry->stale ? " stale: L2 context changed, not written" : "")
);

/* A relayed call completed in the kernel with an error status. */
TRACE_EVENT(kvm_hv_relay_rejected,
	    TP_PROTO(unsigned int vcpu_id, u64 input, u16 status, u8 reason),
	    TP_ARGS(vcpu_id, input, status, reason),
	    TP_STRUCT__entry(__field(unsigned int, vcpu_id)
			     __field(u64, input)
			     __field(u16, status)
			     __field(u8, reason)),
	    TP_fast_assign(__entry->vcpu_id = vcpu_id;
			   __entry->input = input;
			   __entry->status = status;
			   __entry->reason = reason;),
	    TP_printk("vcpu %u input 0x%llx status %u: %s", __entry->vcpu_id,
		      __entry->input, __entry->status,
		      __print_symbolic(__entry->reason,
				       { RELAY_REJECT_INPUT, "reserved, rep or varhead bits" },
				       { RELAY_REJECT_ALIGN, "unaligned or page-crossing" },
				       { RELAY_REJECT_UNMAPPED, "not readable in L1 stage-2" },
				       { RELAY_REJECT_NO_MEMORY, "outside L1 memory" },
				       { RELAY_REJECT_OPERAND, "reserved operand bits" }))
);

/* A candidate L1 did not authorise: reflected to L1 as without the module. */
TRACE_EVENT(kvm_hv_relay_unauthorised,
	    TP_PROTO(unsigned int vcpu_id, u64 input, u8 auth),
	    TP_ARGS(vcpu_id, input, auth),
	    TP_STRUCT__entry(__field(unsigned int, vcpu_id)
			     __field(u64, input)
			     __field(u8, auth)),
	    TP_fast_assign(__entry->vcpu_id = vcpu_id;
			   __entry->input = input;
			   __entry->auth = auth;),
	    TP_printk("vcpu %u input 0x%llx directhypercall %u nested_flush_hypercall %u inter_partition_comm %u",
		      __entry->vcpu_id, __entry->input, !!(__entry->auth & 1),
		      !!(__entry->auth & 2), !!(__entry->auth & 4))
);

#endif /* KVM_HV_RELAY_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE relay_trace
#include <trace/define_trace.h>
