/* A cgroup ingress filter: parses the IPv4 header (the packet starts at the network header),
 * counts packets by IP protocol, drops ICMP, and records what it reads of the skb's socket. */
#include "lab.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} by_proto SEC(".maps");

__u32 seen_family, seen_remote, seen_local, seen_len;

SEC("cgroup_skb/ingress")
int cgroup_skb_filter(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	seen_family = skb->family;
	seen_remote = skb->remote_ip4;
	seen_local = skb->local_ip4;
	seen_len = skb->len;
	if (skb->protocol != __builtin_bswap16(0x0800))
		return 1;
	__u8 *ip = data;
	if ((void *)(ip + 20) > data_end)
		return 1;
	__u32 proto = ip[9];
	__u64 *n = bpf_map_lookup_elem(&by_proto, &proto);
	if (n)
		*n += 1;
	return proto == 1 ? 0 : 1;
}

char LICENSE[] SEC("license") = "GPL";
