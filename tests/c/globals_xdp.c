/* Global data as libbpf programs use it: a .bss table of counters, a .data step, a .rodata
 * limit that user space may set before loading (--global max_len=...), and bpf_trace_printk
 * with its format string in .rodata.str1.1. */
#include "lab.h"

static long (*bpf_trace_printk)(const char *fmt, __u32 fmt_size, ...) = (void *)BPF_FUNC_trace_printk;

__u64 seen[256];                    /* .bss: packets per IP protocol */
__u64 too_long;                     /* .bss */
__u32 step = 1;                     /* .data */
const volatile __u32 max_len = 100; /* .rodata */

SEC("xdp")
int globals_xdp(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *data_end = (unsigned char *)(long)ctx->data_end;
	__u32 len = data_end - data;

	if (len > max_len) {
		too_long += step;
		bpf_trace_printk("too long: %u", 13, len);
		return XDP_DROP;
	}
	if (data + 34 > data_end)
		return XDP_PASS;
	seen[data[23]] += step;
	step++;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
