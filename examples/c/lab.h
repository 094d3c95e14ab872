/* lab.h: the few definitions ebpf-lab's C examples need, without libbpf's headers.
 *
 * Build:  clang-19 -target bpf -O2 -g -I/usr/include/$(uname -m)-linux-gnu -c prog.c -o prog.o
 * (-g makes clang emit the BTF that describes the maps; the -I finds <asm/types.h>, which
 * <linux/bpf.h> includes, in the host's multiarch directory.)
 */
#ifndef EBPF_LAB_H
#define EBPF_LAB_H

#include <linux/bpf.h>

/* Put a function or variable into the named ELF section (libbpf's SEC). */
#define SEC(name) __attribute__((section(name), used))

/* BTF-defined map fields, as in libbpf's bpf_helpers.h: the value lives in the BTF type of the
 * member (an array's length, or the pointed-to type), not in the object's data. */
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name

/* libbpf's externs filled at load time from the running kernel's config (`.kconfig`): a weak
 * one reads 0 when the kernel's config lacks it; a tristate option reads one of these. */
#define __kconfig __attribute__((section(".kconfig")))
#define __weak __attribute__((weak))
enum libbpf_tristate { TRI_NO = 0, TRI_YES = 1, TRI_MODULE = 2 };

#ifndef __noinline
#define __noinline __attribute__((noinline))
#endif

/* Helpers are called by number: the "address" of each pointer is its helper id. */
static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)BPF_FUNC_map_lookup_elem;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value, __u64 flags) =
    (void *)BPF_FUNC_map_update_elem;
static long (*bpf_map_delete_elem)(void *map, const void *key) = (void *)BPF_FUNC_map_delete_elem;
static __u64 (*bpf_ktime_get_ns)(void) = (void *)BPF_FUNC_ktime_get_ns;

#endif
