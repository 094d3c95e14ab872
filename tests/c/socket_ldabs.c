/* A socket filter in the classic style of the kernel's samples/bpf (tcbpf1_kern.c) and
 * suricata: legacy packet loads, also at SKF_NET_OFF / SKF_LL_OFF (relative to the network and
 * link-layer headers). Keeps UDP packets whole, the first 20 bytes of TCP ones, drops the rest. */
#include "lab.h"

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

#define SKF_NET_OFF (-0x100000)
#define SKF_LL_OFF (-0x200000)

SEC("socket")
int socket_ldabs(struct __sk_buff *skb)
{
	if (load_half(skb, SKF_LL_OFF + 12) != 0x0800)
		return 0;
	__u32 proto = load_byte(skb, SKF_NET_OFF + 9);
	__u32 saddr = load_word(skb, SKF_NET_OFF + 12);
	if (saddr == 0)
		return 0;
	if (proto == 17)
		return skb->len;
	if (proto == 6)
		return 20;
	/* Far past the end: the kernel ends the program with 0. */
	return load_byte(skb, SKF_NET_OFF + 4000) + 1;
}

char LICENSE[] SEC("license") = "GPL";
