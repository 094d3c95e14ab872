/* Callbacks as XDP code writes them: bpf_loop walks the packet's first bytes through a context
 * on the stack (packet pointers included, checked in the callback), and bpf_for_each_map_elem
 * sums an array of per-protocol counters (stopping at protocol 5) and a hash of per-length
 * counts. (The kernel visits a hash in bucket order: a stop rule there would make the result
 * depend on the order.) */
#include "lab.h"

static long (*bpf_loop)(__u32 nr_loops, void *callback_fn, void *callback_ctx, __u64 flags) =
    (void *)BPF_FUNC_loop;
static long (*bpf_for_each_map_elem)(void *map, void *callback_fn, void *callback_ctx, __u64 flags) =
    (void *)BPF_FUNC_for_each_map_elem;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} protos SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} lengths SEC(".maps");

struct walk {
	unsigned char *data, *data_end;
	__u64 sum;
	__u32 zeros;
};

struct total {
	__u64 sum, visited, last_key;
};

__u64 loop_calls, byte_sum, zero_bytes, proto_total, proto_visited, length_total, length_visited;

static long add_byte(__u32 i, struct walk *w)
{
	unsigned char *p = w->data + (i & 63);

	if (p + 1 > w->data_end)
		return 1;
	w->sum += *p;
	if (*p == 0)
		w->zeros++;
	return 0;
}

static long add_proto(void *map, __u32 *key, __u64 *value, struct total *t)
{
	t->sum += *value * (*key + 1);
	t->visited++;
	return *key == 5;
}

static long add_length(void *map, __u32 *key, __u64 *value, struct total *t)
{
	t->sum += *value;
	t->last_key += *key;
	return 0;
}

SEC("xdp")
int callbacks_xdp(struct xdp_md *ctx)
{
	struct walk w = { .data = (void *)(long)ctx->data, .data_end = (void *)(long)ctx->data_end };
	__u32 len = w.data_end - w.data;
	__u32 proto = 7, len_key = len / 16;
	struct total t = {};
	__u64 one = 1, *count;

	loop_calls += bpf_loop(len < 48 ? len : 48, add_byte, &w, 0);
	byte_sum += w.sum;
	zero_bytes += w.zeros;

	if (w.data + 34 <= w.data_end)
		proto = w.data[23] & 7;
	count = bpf_map_lookup_elem(&protos, &proto);
	if (count)
		*count += 1;
	count = bpf_map_lookup_elem(&lengths, &len_key);
	if (count)
		*count += 1;
	else
		bpf_map_update_elem(&lengths, &len_key, &one, BPF_ANY);

	proto_visited += bpf_for_each_map_elem(&protos, add_proto, &t, 0);
	proto_total += t.sum;
	t.sum = 0;
	length_visited += bpf_for_each_map_elem(&lengths, add_length, &t, 0);
	length_total += t.sum + t.last_key;
	return t.sum > 4 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
