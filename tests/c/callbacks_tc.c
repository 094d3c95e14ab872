/* Callbacks in a tc classifier: a per-CPU array of counters summed with bpf_for_each_map_elem,
 * a hash aged by a callback that deletes the element it visits, and a bpf_loop whose callback
 * runs a bpf_loop of its own (a checksum of the first bytes, two at a time). */
#include "lab.h"

static long (*bpf_loop)(__u32 nr_loops, void *callback_fn, void *callback_ctx, __u64 flags) =
    (void *)BPF_FUNC_loop;
static long (*bpf_for_each_map_elem)(void *map, void *callback_fn, void *callback_ctx, __u64 flags) =
    (void *)BPF_FUNC_for_each_map_elem;
static long (*bpf_skb_load_bytes)(const void *skb, __u32 offset, void *to, __u32 len) =
    (void *)BPF_FUNC_skb_load_bytes;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} per_cpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32);
	__type(key, __u32);
	__type(value, __u32);
} ages SEC(".maps");

struct sum {
	__u64 total;
	__u32 seen;
};

struct bytes {
	unsigned char b[32];
	__u32 csum, row;
};

__u64 cpu_total, cpu_seen, aged, kept, csum;

static long add_cpu(void *map, __u32 *key, __u64 *value, struct sum *s)
{
	s->total += *value;
	s->seen++;
	return 0;
}

static long age(void *map, __u32 *key, __u32 *value, struct sum *s)
{
	*value += 1;
	if (*value > 2) {
		bpf_map_delete_elem(map, key);
		s->seen++;
	} else {
		s->total++;
	}
	return 0;
}

static long add_pair(__u32 j, struct bytes *b)
{
	__u32 at = (b->row * 4 + j) & 31;

	b->csum += b->b[at] << (j & 1 ? 0 : 8);
	return 0;
}

static long add_row(__u32 i, struct bytes *b)
{
	b->row = i;
	bpf_loop(4, add_pair, b, 0);
	return 0;
}

SEC("tc")
int callbacks_tc(struct __sk_buff *skb)
{
	struct sum s = {};
	struct bytes b = {};
	__u32 slot = skb->len & 3, key = skb->len & 15;
	__u32 one = 1;
	__u64 *c;

	c = bpf_map_lookup_elem(&per_cpu, &slot);
	if (c)
		*c += skb->len;
	if (!bpf_map_lookup_elem(&ages, &key))
		bpf_map_update_elem(&ages, &key, &one, BPF_NOEXIST);
	bpf_for_each_map_elem(&per_cpu, add_cpu, &s, 0);
	cpu_total += s.total;
	cpu_seen += s.seen;

	s.total = 0;
	s.seen = 0;
	bpf_for_each_map_elem(&ages, age, &s, 0);
	aged += s.seen;
	kept += s.total;

	if (bpf_skb_load_bytes(skb, 0, b.b, sizeof(b.b)) == 0)
		bpf_loop(8, add_row, &b, 0);
	csum += b.csum;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
