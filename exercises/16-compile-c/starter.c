/* Drop IPv4 packets whose TTL is 0 or 1 and count the drops in drops[0]; pass the rest. */
#include "lab.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

SEC("xdp")
int ttl_guard(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *data_end = (unsigned char *)(long)ctx->data_end;

	/* TODO: bounds check, IPv4, TTL, count, drop */
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
