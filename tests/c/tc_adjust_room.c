/* Making room in tc: bpf_skb_adjust_room grows IPv4/IPv6 packets by 8 bytes after the IP header
 * and shrinks them back, then by 4 after the MAC header; bpf_skb_change_tail pads to 100 bytes
 * and bpf_skb_change_head pushes 4 zero bytes. Non-IP packets get -ENOTSUPP. Every return value
 * goes into r0. */
#include "lab.h"

static long (*bpf_skb_adjust_room)(struct __sk_buff *skb, __s32 len_diff, __u32 mode, __u64 flags) =
	(void *)BPF_FUNC_skb_adjust_room;
static long (*bpf_skb_change_tail)(struct __sk_buff *skb, __u32 len, __u64 flags) = (void *)BPF_FUNC_skb_change_tail;
static long (*bpf_skb_change_head)(struct __sk_buff *skb, __u32 len, __u64 flags) = (void *)BPF_FUNC_skb_change_head;

__u32 lens[6];

SEC("tc")
int tc_adjust_room(struct __sk_buff *skb)
{
	long r = 0;
	r = r * 1000 - bpf_skb_adjust_room(skb, 8, BPF_ADJ_ROOM_NET, 0);
	lens[0] = skb->len;
	r = r * 1000 - bpf_skb_adjust_room(skb, -8, BPF_ADJ_ROOM_NET, 0);
	lens[1] = skb->len;
	r = r * 1000 - bpf_skb_adjust_room(skb, 4, BPF_ADJ_ROOM_MAC, 0);
	lens[2] = skb->len;
	r = r * 1000 - bpf_skb_adjust_room(skb, -4, BPF_ADJ_ROOM_MAC, 0);
	lens[3] = skb->len;
	r = r * 1000 - bpf_skb_change_tail(skb, 100, 0);
	lens[4] = skb->len;
	r = r * 1000 - bpf_skb_change_head(skb, 4, 0);
	lens[5] = skb->len;
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	__u8 *p = data;
	if ((void *)(p + 40) <= data_end)
		p[39] = 0xee;
	return r;
}

char LICENSE[] SEC("license") = "GPL";
