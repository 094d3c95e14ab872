/* What a tc classifier reads of the test run's skb and socket: pkt_type, protocol, ifindex,
 * wire_len and len, and through skb->sk the family, addresses and state of the socket the test
 * run creates, recorded in .bss for comparison. */
#include "lab.h"

struct seen {
	__u32 pkt_type, protocol, ifindex, wire_len, len, family, src_ip4, dst_ip4, state, has_sk;
} seen;

SEC("tc")
int tc_skb_fields(struct __sk_buff *skb)
{
	seen.pkt_type = skb->pkt_type;
	seen.protocol = skb->protocol;
	seen.ifindex = skb->ifindex;
	seen.wire_len = skb->wire_len;
	seen.len = skb->len;
	struct bpf_sock *sk = skb->sk;
	if (sk) {
		seen.has_sk = 1;
		seen.family = sk->family;
		seen.src_ip4 = sk->src_ip4;
		seen.dst_ip4 = sk->dst_ip4;
		seen.state = sk->state;
	}
	return skb->pkt_type == 2 ? 2 /* TC_ACT_SHOT */ : 0 /* TC_ACT_OK */;
}

char LICENSE[] SEC("license") = "GPL";
