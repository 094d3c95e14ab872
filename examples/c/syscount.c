/* Count system calls by number (attach point: tracepoint raw_syscalls/sys_enter).
 * The context is the tracepoint record: the syscall number is at offset 8.
 * The C twin of examples/syscount.s; `bump` is a static function, so clang emits a
 * bpf-to-bpf call into .text.
 *   clang-19 -target bpf -O2 -g -I/usr/include/$(uname -m)-linux-gnu -c syscount.c -o syscount.o
 */
#include "lab.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 512);
	__type(key, __u32);
	__type(value, __u64);
} syscalls SEC(".maps");

/* Adds one to the count of syscall `id`, creating it if needed. Returns the new count. */
static __noinline __u64 bump(__u32 id)
{
	__u64 *count = bpf_map_lookup_elem(&syscalls, &id);
	if (count)
		return __sync_fetch_and_add(count, 1) + 1;
	__u64 one = 1;
	bpf_map_update_elem(&syscalls, &id, &one, BPF_ANY);
	return 1;
}

SEC("tracepoint/raw_syscalls/sys_enter")
int syscount(void *ctx)
{
	__u32 id = *(__u32 *)((char *)ctx + 8);
	bump(id);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
