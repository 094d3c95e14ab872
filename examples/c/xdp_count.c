/* Count packets per IP protocol in an array map and let every packet pass.
 * The C twin of examples/xdp_count.s.
 *   clang-19 -target bpf -O2 -g -I/usr/include/$(uname -m)-linux-gnu -c xdp_count.c -o xdp_count.o
 *   ebpf-lab run xdp_count.o --packet examples/udp.pkt
 */
#include "lab.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *data_end = (unsigned char *)(long)ctx->data_end;

	/* Ethernet (14) + IPv4 header (20): the verifier insists on this bounds check. */
	if (data + 34 > data_end)
		return XDP_PASS;
	__u32 proto = data[23]; /* the IPv4 protocol byte */
	__u64 *count = bpf_map_lookup_elem(&counts, &proto);
	if (count)
		__sync_fetch_and_add(count, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
