/* A longest-prefix-match routing table (BPF_MAP_TYPE_LPM_TRIE) keyed by IPv4 address, filled
 * by the program itself on its first packet: 10.0.0.0/8, 10.0.0.0/24 and 10.0.0.2/32. Each
 * packet's source and destination are looked up, the matched route's counter is bumped, and
 * the /32 is deleted after the fourth packet, so later packets match the /24. */
#include "lab.h"

struct lpm_v4 {
	__u32 prefixlen;
	__u8 addr[4];
};

struct route {
	__u32 id;
	__u32 hits;
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 8);
	__type(key, struct lpm_v4);
	__type(value, struct route);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} routes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __noinline int add(__u32 prefixlen, __u8 a, __u8 b, __u8 c, __u8 d, __u32 id)
{
	struct lpm_v4 key = { prefixlen, { a, b, c, d } };
	struct route r = { id, 0 };

	return bpf_map_update_elem(&routes, &key, &r, BPF_NOEXIST);
}

SEC("xdp")
int lpm_trie_xdp(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *data_end = (unsigned char *)(long)ctx->data_end;
	struct lpm_v4 key = { 32 };
	struct route *r;
	__u32 k = 0;
	__u64 *packets = bpf_map_lookup_elem(&stats, &k);
	long added;

	if (!packets)
		return XDP_ABORTED;
	*packets += 1;
	/* After the first packet these fail with -EEXIST; the failures are counted. */
	added = add(8, 10, 0, 0, 0, 8) + add(24, 10, 0, 0, 99, 24) + add(32, 10, 0, 0, 2, 32);
	k = 1;
	__u64 *failed = bpf_map_lookup_elem(&stats, &k);
	if (failed && added)
		*failed += 1;
	if (*packets == 4) {
		struct lpm_v4 host = { 32, { 10, 0, 0, 2 } };
		bpf_map_delete_elem(&routes, &host);
	}
	if (data + 34 > data_end || data[12] != 0x08 || data[13] != 0)
		return XDP_PASS;
	__builtin_memcpy(key.addr, data + 26, 4);
	r = bpf_map_lookup_elem(&routes, &key);
	if (r)
		r->hits++;
	__builtin_memcpy(key.addr, data + 30, 4);
	r = bpf_map_lookup_elem(&routes, &key);
	if (!r)
		return XDP_DROP;
	r->hits++;
	return r->id == 32 ? XDP_TX : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
