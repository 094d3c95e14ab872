/* Maps of maps the way libbpf declares them: an array of maps and a hash of maps whose inner
 * maps are given by `__array(values, ...)` and filled statically with `.values`. Each packet
 * picks an inner counter table by the parity of its IP protocol and counts there. */
#include "lab.h"

#ifndef __array
#define __array(name, val) typeof(val) *name[]
#endif

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
};

struct inner even SEC(".maps"), odd SEC(".maps"), other SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 3);
	__type(key, __u32);
	__array(values, struct inner);
} by_parity SEC(".maps") = {
	.values = { [0] = &even, [1] = &odd },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner);
} by_kind SEC(".maps") = {
	.values = { [2] = &other },
};

SEC("xdp")
int map_in_map_xdp(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *data_end = (unsigned char *)(long)ctx->data_end;
	__u32 parity = 2, kind = 2, slot = 0;
	void *table;
	__u64 *count;

	if (data + 24 <= data_end && data[12] == 0x08 && data[13] == 0)
		parity = data[23] & 1;
	else
		slot = 1;
	table = bpf_map_lookup_elem(&by_parity, &parity);
	if (!table) {
		/* Slot 2 is empty: fall back to the hash of maps. */
		table = bpf_map_lookup_elem(&by_kind, &kind);
		if (!table)
			return XDP_ABORTED;
	}
	count = bpf_map_lookup_elem(table, &slot);
	if (!count)
		return XDP_DROP;
	*count += 1;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
