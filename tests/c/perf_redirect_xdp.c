/* Perf event output and the XDP redirects: each packet sends a record (its length and the first
 * 14 packet bytes) to the running CPU's perf event, and one to a slot past the array's end
 * (refused); then it is redirected by interface, through an empty devmap (a miss answers the
 * fallback action in the flags), broadcast through the devmap, or to an empty cpumap or xskmap,
 * by its IP protocol. */
#include "lab.h"

static long (*bpf_perf_event_output)(void *ctx, void *map, __u64 flags, void *data, __u64 size) =
    (void *)BPF_FUNC_perf_event_output;
static long (*bpf_redirect)(__u32 ifindex, __u64 flags) = (void *)BPF_FUNC_redirect;
static long (*bpf_redirect_map)(void *map, __u64 key, __u64 flags) = (void *)BPF_FUNC_redirect_map;

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} cpus SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} sockets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __s64);
} results SEC(".maps");

SEC("xdp")
int perf_redirect_xdp(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *data_end = (unsigned char *)(long)ctx->data_end;
	__u32 len = data_end - data, k = 0;
	__u64 ctxlen = len >= 14 ? 14 : 0;
	__s64 *r = bpf_map_lookup_elem(&results, &k);

	if (!r)
		return XDP_ABORTED;
	*r = bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU | (ctxlen << 32), &len, sizeof(len));
	k = 1;
	r = bpf_map_lookup_elem(&results, &k);
	if (r)
		*r = bpf_perf_event_output(ctx, &events, 4096, &len, sizeof(len));
	if (data + 24 > data_end)
		return bpf_redirect_map(&sockets, 0, XDP_DROP);
	switch (data[23]) {
	case 17:
		return bpf_redirect(1, 0);
	case 6:
		return bpf_redirect_map(&ports, 1, XDP_PASS);
	case 1:
		return bpf_redirect_map(&ports, 0, BPF_F_BROADCAST);
	case 0:
		return bpf_redirect(1, 4);
	default:
		return bpf_redirect_map(&cpus, 0, XDP_TX);
	}
}

char LICENSE[] SEC("license") = "GPL";
