//! libbpf's map conventions in C objects: `pinning`, `numa_node`, `map_extra`, the BTF names of
//! key and value types, maps of maps with `__array(values, ...)` and static `.values`, and an
//! object whose one map ebpf-lab cannot create still giving the programs that do not use it.

mod c_common;
use c_common::{clang_or_skip, compile_c};
use ebpf_lab::elf::program_from_elf;
use ebpf_lab::engine::{self, EngineOptions};
use ebpf_lab::interp::Input;
use ebpf_lab::kernel::{self, KernelProgram, LoadOptions};
use ebpf_lab::program::MapType;

const MAPS: &str = r#"
#include "lab.h"
#define __array(name, val) typeof(val) *name[]
struct flow { __u32 saddr, daddr; };
struct {
    __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 16);
    __type(key, struct flow); __type(value, __u64);
    __uint(pinning, 1); __uint(numa_node, 0);
} flows SEC(".maps");
struct inner { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 2); __type(key, __u32); __type(value, __u32); };
struct inner a SEC(".maps"), b SEC(".maps");
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS); __uint(max_entries, 2); __type(key, __u32);
    __array(values, struct inner);
} outer SEC(".maps") = { .values = { [1] = &b } };
struct { __uint(type, BPF_MAP_TYPE_SOCKMAP); __uint(max_entries, 2); __type(key, __u32); __type(value, __u32); } socks SEC(".maps");

SEC("xdp") int uses_outer(struct xdp_md *ctx) {
    __u32 one = 1, zero = 0;
    struct flow f = { 1, 2 };
    __u64 n = 1;
    bpf_map_update_elem(&flows, &f, &n, BPF_ANY);
    void *inner = bpf_map_lookup_elem(&outer, &one);
    if (!inner) return XDP_ABORTED;
    __u32 *v = bpf_map_lookup_elem(inner, &zero);
    if (!v) return XDP_DROP;
    *v += 7;
    return XDP_PASS;
}
SEC("xdp") int unchecked_inner(struct xdp_md *ctx) {
    __u32 zero = 0;
    void *inner = bpf_map_lookup_elem(&outer, &zero);
    return bpf_map_lookup_elem(inner, &zero) != 0;
}
SEC("xdp") int uses_socks(struct xdp_md *ctx) {
    __u32 zero = 0;
    return bpf_map_lookup_elem(&socks, &zero) != 0;
}
char LICENSE[] SEC("license") = "GPL";
"#;

#[test]
fn libbpf_map_definitions_are_read_whole() {
    if !clang_or_skip("libbpf_map_definitions_are_read_whole") {
        return;
    }
    let o = std::fs::read(compile_c("elf_maps", MAPS)).unwrap();
    let p = program_from_elf("elf_maps.o", &o, Some("uses_outer")).unwrap();
    let mut names: Vec<&str> = p.maps.iter().map(|m| m.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["a", "b", "flows", "outer"], "the sockmap is left out, not an error");
    let flows = &p.maps[p.map_index("flows").unwrap()];
    assert_eq!(
        (flows.extra.pin_by_name, flows.extra.numa_node, flows.flags & 4),
        (true, Some(0), 4),
        "LIBBPF_PIN_BY_NAME recorded; numa_node sets BPF_F_NUMA_NODE"
    );
    assert_eq!(
        (flows.extra.key_type.as_deref(), flows.extra.value_type.as_deref()),
        (Some("struct flow"), Some("__u64"))
    );
    let outer = &p.maps[p.map_index("outer").unwrap()];
    assert_eq!((outer.map_type, outer.key_size, outer.value_size), (MapType::ArrayOfMaps, 4, 4));
    let inner = outer.extra.inner.as_deref().expect("the inner map's definition");
    assert_eq!((inner.map_type, inner.key_size, inner.value_size, inner.max_entries), (MapType::Array, 4, 4, 2));
    assert_eq!(outer.extra.init, [(1, "b".to_string())]);

    // The program that uses the sockmap is the one refused, and the error says which map.
    let e = program_from_elf("elf_maps.o", &o, Some("uses_socks")).unwrap_err().to_string();
    assert!(e.contains("program `uses_socks` uses map `socks`") && e.contains("map type 15"), "{e}");
}

#[test]
fn a_map_of_maps_gives_its_inner_map_in_every_engine() {
    if !clang_or_skip("a_map_of_maps_gives_its_inner_map_in_every_engine") {
        return;
    }
    let o = std::fs::read(compile_c("elf_maps", MAPS)).unwrap();
    let p = program_from_elf("elf_maps.o", &o, Some("uses_outer")).unwrap();
    let v = ebpf_lab::verifier::verify(&p, &Default::default());
    assert!(v.accepted(), "{:?}", v.error);
    let packet = Input::xdp(vec![0; 60]);
    let mut engines = vec!["interp", "jit"];
    if kernel::require_or_skip("a_map_of_maps_gives_its_inner_map_in_every_engine") {
        engines.push("kernel");
    }
    for name in engines {
        let mut e = engine::open(name, &p, &EngineOptions::default(), &packet).unwrap();
        for _ in 0..2 {
            assert_eq!(e.run(&packet).unwrap().outcome.r0, 2, "{name}: XDP_PASS");
        }
        // `.values` put map b in slot 1, and the program counted in b[0].
        let b_index = p.map_index("b").unwrap() as u32;
        let outer = e.map_entries("outer").unwrap();
        assert_eq!(outer, [(1u32.to_le_bytes().to_vec(), b_index.to_le_bytes().to_vec())], "{name}");
        let b = e.map_entries("b").unwrap();
        assert_eq!(b[0].1, 14u32.to_le_bytes(), "{name}: b[0] after two runs");
        assert_eq!(e.map_entries("a").unwrap()[0].1, [0; 4], "{name}: a untouched");
        let flows = e.map_entries("flows").unwrap();
        assert_eq!(flows.len(), 1, "{name}");
    }
}

#[test]
fn an_unchecked_inner_map_is_refused_like_the_kernel_does() {
    if !clang_or_skip("an_unchecked_inner_map_is_refused_like_the_kernel_does") {
        return;
    }
    let o = std::fs::read(compile_c("elf_maps", MAPS)).unwrap();
    let p = program_from_elf("elf_maps.o", &o, Some("unchecked_inner")).unwrap();
    let ours = ebpf_lab::verifier::verify(&p, &Default::default());
    let ours = ours.error.expect("ebpf-lab's verifier refuses a map_value_or_null used as a map");
    assert!(ours.message.contains("type=map_ptr_or_null expected=map_ptr"), "{}", ours.message);
    if !kernel::require_or_skip("an_unchecked_inner_map_is_refused_like_the_kernel_does") {
        return;
    }
    let k = KernelProgram::load(&p, &LoadOptions::default()).unwrap();
    let reason = kernel::verifier_log::reason(&k.verdict().log).unwrap_or_default();
    assert_eq!(ours.message.lines().next().unwrap(), reason, "same first line as the kernel");
}
