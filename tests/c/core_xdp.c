/* CO-RE as vmlinux.h users write it: local views of kernel structs (here with a ___lab flavor
 * and only some of the fields, in another order) whose offsets the loader fixes against the
 * running kernel's BTF, an enum value taken from the kernel, and a field-existence check. */
#include "lab.h"

#define __core __attribute__((preserve_access_index))

struct ethhdr___lab { __be16 h_proto; unsigned char h_dest[6]; } __core;
struct iphdr___lab { __be32 daddr; __be32 saddr; __u8 protocol; __u8 ttl; __u32 no_such_field; } __core;
enum xdp_action___lab { XDP_DROP___lab = 100, XDP_PASS___lab = 101 };

SEC("xdp")
int core_xdp(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *data_end = (unsigned char *)(long)ctx->data_end;
	struct ethhdr___lab *eth = (void *)data;
	struct iphdr___lab *ip = (void *)(data + 14);

	if (data + 34 > data_end)
		return __builtin_preserve_enum_value(*(enum xdp_action___lab *)XDP_DROP___lab, 1);
	if (eth->h_proto != __builtin_bswap16(0x0800))
		return __builtin_preserve_enum_value(*(enum xdp_action___lab *)XDP_PASS___lab, 1);
	/* The kernel's struct iphdr has no such field: this branch is dead and the load poisoned. */
	if (__builtin_preserve_field_info(ip->no_such_field, 2))
		return ip->no_such_field;
	if (ip->ttl < 2 || eth->h_dest[0] == 0x33)
		return __builtin_preserve_enum_value(*(enum xdp_action___lab *)XDP_DROP___lab, 1);
	return (ip->protocol == 17) + (__builtin_preserve_type_info(*(struct iphdr___lab *)0, 1) == 20) * 2;
}

char LICENSE[] SEC("license") = "GPL";
