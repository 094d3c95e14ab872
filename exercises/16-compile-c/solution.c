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

	if (data + 34 > data_end) /* Ethernet (14) + IPv4 header (20) */
		return XDP_PASS;
	if (data[12] != 0x08 || data[13] != 0x00) /* not IPv4 */
		return XDP_PASS;
	if (data[22] > 1) /* TTL */
		return XDP_PASS;
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(&drops, &key);
	if (n)
		__sync_fetch_and_add(n, 1);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
