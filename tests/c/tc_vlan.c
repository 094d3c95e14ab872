/* VLAN tags in tc: untagged frames get tag 100 (bpf_skb_vlan_push) and then a second one, which
 * moves the first into the packet; tagged frames lose their tag (bpf_skb_vlan_pop). The skb's
 * vlan fields and protocol after each step go to a map. */
#include "lab.h"

static long (*bpf_skb_vlan_push)(struct __sk_buff *skb, __be16 proto, __u16 tci) = (void *)BPF_FUNC_skb_vlan_push;
static long (*bpf_skb_vlan_pop)(struct __sk_buff *skb) = (void *)BPF_FUNC_skb_vlan_pop;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} steps SEC(".maps");

static __noinline void record(struct __sk_buff *skb, __u32 step, long ret)
{
	__u64 v = ((__u64)skb->vlan_present << 48) | ((__u64)skb->vlan_tci << 32) | (skb->vlan_proto << 16) |
		  skb->protocol;
	v ^= (__u64)ret << 56;
	v += (__u64)skb->len << 40;
	bpf_map_update_elem(&steps, &step, &v, BPF_ANY);
}

SEC("tc")
int tc_vlan(struct __sk_buff *skb)
{
	if (skb->protocol == __builtin_bswap16(0x8100) || skb->protocol == __builtin_bswap16(0x88a8)) {
		record(skb, 0, bpf_skb_vlan_pop(skb));
		record(skb, 1, bpf_skb_vlan_pop(skb));
		return 0;
	}
	record(skb, 0, bpf_skb_vlan_push(skb, __builtin_bswap16(0x8100), 100));
	record(skb, 1, bpf_skb_vlan_push(skb, __builtin_bswap16(0x88a8), 7));
	record(skb, 2, bpf_skb_vlan_pop(skb));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
