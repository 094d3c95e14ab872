/* sk_lookup: drop lookups for ports 7 and 9 over TCP, count the rest by local port. */
#include "lab.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} ports SEC(".maps");

SEC("sk_lookup")
int sk_lookup_port(struct bpf_sk_lookup *ctx)
{
	__u32 port = ctx->local_port, one = 1;
	if (ctx->protocol == 6 && (port == 7 || port == 9))
		return SK_DROP;
	__u32 *n = bpf_map_lookup_elem(&ports, &port);
	if (n)
		*n += 1;
	else
		bpf_map_update_elem(&ports, &port, &one, BPF_ANY);
	if (ctx->family == 10 && ctx->remote_ip6[3] == 0)
		return SK_DROP;
	return ctx->remote_ip4 == ctx->local_ip4 && ctx->remote_port == 0 ? SK_DROP : SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
