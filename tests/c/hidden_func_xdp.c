/* A `__hidden` global function, as libbpf's usdt.bpf.h writes its helpers: libbpf marks it
 * static in the BTF it loads, so the kernel verifies it with its caller's arguments (here a
 * stack pointer) instead of alone, where `res` could be NULL and the store would be refused. */
#include "lab.h"

__attribute__((visibility("hidden"))) __noinline int first_byte(struct xdp_md *ctx, long *res)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *data_end = (unsigned char *)(long)ctx->data_end;

	*res = 0;
	if (data + 1 > data_end)
		return -1;
	*res = data[0];
	return 0;
}

SEC("xdp")
int hidden_func_xdp(struct xdp_md *ctx)
{
	long b;

	if (first_byte(ctx, &b))
		return XDP_ABORTED;
	return b & 1 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
