/* Queue and stack maps: every packet pushes its length on a queue (dropping the oldest when
 * full, BPF_EXIST) and its IP protocol on a stack (refused when full); every third packet pops
 * the stack and peeks at the queue. The return value carries the helpers' answers. */
#include "lab.h"

static long (*bpf_map_push_elem)(void *map, const void *value, __u64 flags) = (void *)BPF_FUNC_map_push_elem;
static long (*bpf_map_pop_elem)(void *map, void *value) = (void *)BPF_FUNC_map_pop_elem;
static long (*bpf_map_peek_elem)(void *map, void *value) = (void *)BPF_FUNC_map_peek_elem;

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 4);
	__type(value, __u32);
} lengths SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK);
	__uint(max_entries, 3);
	__type(value, __u8);
} protocols SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

SEC("xdp")
int queue_stack_xdp(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *data_end = (unsigned char *)(long)ctx->data_end;
	__u32 len = data_end - data, k = 0, head = 0;
	__u8 proto = data + 24 <= data_end ? data[23] : 255, top = 0;
	long pushed, popped = 1, peeked = 1;
	__u64 *count = bpf_map_lookup_elem(&seen, &k);

	if (!count)
		return XDP_ABORTED;
	*count += 1;
	bpf_map_push_elem(&lengths, &len, BPF_EXIST);
	pushed = bpf_map_push_elem(&protocols, &proto, 0);
	if (*count % 3 == 0) {
		popped = bpf_map_pop_elem(&protocols, &top);
		peeked = bpf_map_peek_elem(&lengths, &head);
		k = 1;
		count = bpf_map_lookup_elem(&seen, &k);
		if (count)
			*count += top + head;
	}
	return (pushed == 0 ? 1 : 0) | (popped == 0 ? 0 : 2) | (peeked == 0 ? 0 : 4) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
