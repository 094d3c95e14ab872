/* A raw tracepoint program (sys_enter: args[0] the pt_regs pointer, args[1] the syscall number)
 * reading its u64 arguments, as bpf_raw_tracepoint_args hands them over. */
#include "lab.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u64);
	__type(value, __u64);
} by_nr SEC(".maps");

SEC("raw_tp/sys_enter")
int raw_tp_args(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 nr = ctx->args[1] & 0xff, one = 1;
	__u64 *n = bpf_map_lookup_elem(&by_nr, &nr);
	if (n)
		*n += 1;
	else
		bpf_map_update_elem(&by_nr, &nr, &one, BPF_NOEXIST);
	return (int)(ctx->args[0] >> 32) ^ (int)ctx->args[11];
}

char LICENSE[] SEC("license") = "GPL";
