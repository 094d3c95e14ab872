/* lwt_in: reads the packet (from its IP header) and counts bytes per IP version; a
 * lightweight tunnel's input hook may read but not change it. */
#include "lab.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} bytes SEC(".maps");

SEC("lwt_in")
int lwt_in_count(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	__u8 *p = data;
	if ((void *)(p + 1) > data_end)
		return 2; /* BPF_DROP */
	__u32 version = p[0] >> 4;
	__u64 *n = bpf_map_lookup_elem(&bytes, &version);
	if (n)
		*n += skb->len;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
