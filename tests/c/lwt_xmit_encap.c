/* lwt_xmit: pushes an Ethernet header in front of the IP packet (bpf_skb_change_head, then
 * bpf_skb_store_bytes), pads short packets to 64 bytes and trims long ones to 96
 * (bpf_skb_change_tail), and sets a tunnel key for IPv4 ones. */
#include "lab.h"

static long (*bpf_skb_change_head)(struct __sk_buff *skb, __u32 len, __u64 flags) = (void *)BPF_FUNC_skb_change_head;
static long (*bpf_skb_change_tail)(struct __sk_buff *skb, __u32 len, __u64 flags) = (void *)BPF_FUNC_skb_change_tail;
static long (*bpf_skb_store_bytes)(struct __sk_buff *skb, __u32 offset, const void *from, __u32 len,
				   __u64 flags) = (void *)BPF_FUNC_skb_store_bytes;
static long (*bpf_skb_set_tunnel_key)(struct __sk_buff *skb, struct bpf_tunnel_key *key, __u32 size,
				      __u64 flags) = (void *)BPF_FUNC_skb_set_tunnel_key;

long results;

SEC("lwt_xmit")
int lwt_xmit_encap(struct __sk_buff *skb)
{
	__u8 eth[14] = { 2, 0, 0, 0, 0, 9, 2, 0, 0, 0, 0, 8, 0x08, 0x00 };
	long r = bpf_skb_change_head(skb, sizeof(eth), 0);
	results = r;
	if (r)
		return 2; /* BPF_DROP */
	results = results * 16 - bpf_skb_store_bytes(skb, 0, eth, sizeof(eth), 0);
	if (skb->len < 64)
		results = results * 16 - bpf_skb_change_tail(skb, 64, 0);
	else if (skb->len > 96)
		results = results * 16 - bpf_skb_change_tail(skb, 96, 0);
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	__u8 *ip = data + 14;
	if ((void *)(ip + 20) > data_end || (ip[0] >> 4) != 4)
		return 0; /* BPF_OK */
	struct bpf_tunnel_key key = {};
	key.tunnel_id = ip[9];
	__builtin_memcpy(&key.remote_ipv4, ip + 16, 4);
	key.tunnel_ttl = ip[8];
	results = results * 16 - bpf_skb_set_tunnel_key(skb, &key, sizeof(key), 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
