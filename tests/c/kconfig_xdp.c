/* libbpf's kconfig externs: filled at load time from the running kernel (its config and its
 * release), the way programs test for kernel features. A weak option the config lacks reads 0. */
#include "lab.h"

extern int LINUX_KERNEL_VERSION __kconfig;
extern int CONFIG_HZ __kconfig __weak;
extern _Bool CONFIG_BPF_SYSCALL __kconfig __weak;
extern enum libbpf_tristate CONFIG_NET __kconfig __weak;
extern _Bool CONFIG_EBPF_LAB_NO_SUCH_OPTION __kconfig __weak;

SEC("xdp")
int kconfig_xdp(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *data_end = (unsigned char *)(long)ctx->data_end;

	if (CONFIG_EBPF_LAB_NO_SUCH_OPTION)
		return XDP_ABORTED;
	if (LINUX_KERNEL_VERSION < (5 << 16) || !CONFIG_BPF_SYSCALL)
		return XDP_DROP;
	if (data + 1 > data_end)
		return XDP_PASS;
	/* Odd-length frames pass or drop by how fast the kernel ticks and whether it has networking. */
	if ((data_end - data) & 1)
		return CONFIG_HZ > 100 && CONFIG_NET == TRI_YES ? XDP_PASS : XDP_DROP;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
