/* A kprobe reading its function's arguments from struct pt_regs (x86-64: di, si, dx are the
 * first three), the way PT_REGS_PARM1..3 do: counts calls by the first argument's low bits and
 * remembers the last second and third arguments. */
#include "lab.h"

/* The kernel's struct pt_regs on x86-64 (vmlinux.h spells it so). */
struct pt_regs {
	unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di, orig_ax, ip, cs,
		flags, sp, ss;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} calls SEC(".maps");

__u64 last_si, last_dx;

SEC("kprobe/do_sys_openat2")
int kprobe_args(struct pt_regs *ctx)
{
	__u32 key = ctx->di & 3;
	__u64 *n = bpf_map_lookup_elem(&calls, &key);
	if (n)
		*n += 1;
	last_si = ctx->si;
	last_dx = (__u32)ctx->dx;
	return ctx->si > ctx->dx ? 1 : 0;
}

char LICENSE[] SEC("license") = "GPL";
