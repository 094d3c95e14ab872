//! CO-RE relocations of clang-built objects, resolved against the running kernel's BTF
//! (`/sys/kernel/btf/vmlinux`): local struct and enum views whose layout differs from the
//! kernel's read the kernel's fields after relocation, in the interpreter and the kernel alike,
//! and a field the kernel lacks is an error naming it, never a run of unrelocated code.

mod c_common;
use c_common::{clang_or_skip, compile_c};
use ebpf_lab::elf::btf::Btf;
use ebpf_lab::elf::core::{parse_btf_ext, resolve, Resolution};
use ebpf_lab::elf::program_from_elf;
use ebpf_lab::interp::{Input, Vm};
use ebpf_lab::kernel;
use std::path::Path;

/// Local views of `struct iphdr` and `enum xdp_action`, with only some fields and other values:
/// unrelocated, `daddr` would be read at offset 0 and `protocol` at 4.
const CORE_XDP: &str = r#"
#include "lab.h"
struct iphdr___lab { __u32 daddr; __u8 protocol; } __attribute__((preserve_access_index));
enum xdp_action___lab { XDP_PASS___lab = 7 };

SEC("xdp")
int core_xdp(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *data_end = (unsigned char *)(long)ctx->data_end;
	if (data + 34 > data_end)
		return 0;
	struct iphdr___lab *ip = (void *)(data + 14);
	__u32 sz = __builtin_preserve_type_info(*(struct iphdr___lab *)0, 1 /* type size */);
	__u32 pass = __builtin_preserve_enum_value(*(enum xdp_action___lab *)XDP_PASS___lab, 1 /* value */);
	__u32 has = __builtin_preserve_field_info(ip->protocol, 2 /* exists */);
	__u32 off = __builtin_preserve_field_info(ip->protocol, 0 /* byte offset */);
	return (ip->daddr >> 24) << 24 | ip->protocol << 16 | sz << 8 | pass << 4 | has | off << 1;
}
char LICENSE[] SEC("license") = "GPL";
"#;

/// True when the running kernel describes its types in BTF; otherwise prints one skip line.
fn kernel_btf_or_skip(test: &str) -> bool {
    if Path::new(ebpf_lab::elf::core::VMLINUX_BTF).exists() {
        return true;
    }
    eprintln!("skipping: no {} [{test}]", ebpf_lab::elf::core::VMLINUX_BTF);
    false
}

fn udp_packet() -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/udp.pkt")).unwrap()
}

#[test]
fn fields_types_and_enumerators_are_relocated_to_the_kernels_layout() {
    if !clang_or_skip("fields_types_and_enumerators_are_relocated_to_the_kernels_layout")
        || !kernel_btf_or_skip("fields_types_and_enumerators_are_relocated_to_the_kernels_layout")
    {
        return;
    }
    let o = compile_c("core_xdp", CORE_XDP);
    let p = program_from_elf("core_xdp.o", &std::fs::read(o).unwrap(), None).unwrap();
    let input = Input::xdp(udp_packet());
    let r0 = Vm::new(&p).unwrap().run(&input).unwrap().r0;
    // daddr 10.0.0.2 (its last byte is the top of a little-endian load), protocol 17 (UDP),
    // sizeof(struct iphdr) 20, XDP_PASS 2, protocol exists (1) at byte 9 (<< 1: 18).
    assert_eq!(r0, 0x0200_0000 | 17 << 16 | 20 << 8 | 2 << 4 | 1 | 9 << 1, "{r0:#x}");
    if !kernel::require_or_skip("fields_types_and_enumerators_are_relocated_to_the_kernels_layout") {
        return;
    }
    let mut k = ebpf_lab::engine::open("kernel", &p, &Default::default(), &input).unwrap();
    assert_eq!(k.run(&input).unwrap().outcome.r0 & 0xffff_ffff, r0);
}

/// `CORE_XDP` with a field the kernel's `struct iphdr` lacks, read behind `guard`.
fn missing_field_program(name: &str, guard: &str) -> ebpf_lab::program::Program {
    let src = CORE_XDP
        .replace("__u8 protocol;", "__u8 protocol; __u32 no_such_field;")
        .replace("return (ip->daddr", &format!("if ({guard}) return 5;\n\treturn ip->no_such_field + (ip->daddr"));
    let o = compile_c(name, &src);
    program_from_elf(name, &std::fs::read(o).unwrap(), None).unwrap()
}

#[test]
fn a_missing_field_is_poisoned_so_guarded_code_loads_and_reaching_it_names_the_field() {
    if !clang_or_skip("a_missing_field_is_poisoned_so_guarded_code_loads_and_reaching_it_names_the_field")
        || !kernel_btf_or_skip("a_missing_field_is_poisoned_so_guarded_code_loads_and_reaching_it_names_the_field")
    {
        return;
    }
    let input = Input::xdp(udp_packet());
    // Behind bpf_core_field_exists (relocated to 0), the poisoned load is dead code.
    let guarded = missing_field_program("core_guarded", "!__builtin_preserve_field_info(ip->no_such_field, 2)");
    assert_eq!(Vm::new(&guarded).unwrap().run(&input).unwrap().r0, 5);
    // Reached, it stops the run and names the field; it never reads the compiler's offset.
    let reached = missing_field_program("core_reached", "ctx->ingress_ifindex == 12345");
    let e = Vm::new(&reached).unwrap().run(&input).unwrap_err().to_string();
    assert!(e.contains("`struct iphdr___lab.no_such_field`") && e.contains("no such field"), "{e}");
    assert!(e.contains("poisoned"), "{e}");
    if !kernel::require_or_skip("a_missing_field_is_poisoned_so_guarded_code_loads_and_reaching_it_names_the_field") {
        return;
    }
    let mut k = ebpf_lab::engine::open("kernel", &guarded, &Default::default(), &input).unwrap();
    assert_eq!(k.run(&input).unwrap().outcome.r0 & 0xffff_ffff, 5);
    match ebpf_lab::engine::open("kernel", &reached, &Default::default(), &input) {
        Err(ebpf_lab::engine::EngineError::Rejected { log, .. }) => assert!(log.contains("unknown#195896080"), "{log}"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("the kernel must refuse a reachable poisoned instruction"),
    }
}

/// The bytes of section `name` of object `o`.
fn section(o: &Path, name: &str) -> Vec<u8> {
    let bytes = std::fs::read(o).unwrap();
    let elf = goblin::elf::Elf::parse(&bytes).unwrap();
    let s = elf.section_headers.iter().find(|s| elf.shdr_strtab.get_at(s.sh_name) == Some(name)).unwrap();
    bytes[s.sh_offset as usize..(s.sh_offset + s.sh_size) as usize].to_vec()
}

/// The `.BTF` and CO-RE relocations of a compiled object.
fn btf_and_relos(o: &Path) -> (Btf, Vec<ebpf_lab::elf::core::CoreRelo>) {
    let btf = Btf::parse(&section(o, ".BTF")).unwrap();
    let relos = parse_btf_ext(&section(o, ".BTF.ext"), &btf).unwrap().into_values().flatten().collect();
    (btf, relos)
}

#[test]
fn members_are_found_by_name_through_anonymous_unions_and_bitfields_keep_their_shifts() {
    if !clang_or_skip("members_are_found_by_name_through_anonymous_unions_and_bitfields_keep_their_shifts") {
        return;
    }
    // The program's view: y in an anonymous union at 4, bitfield f2 at bits 67..72 (byte 8).
    let local = compile_c(
        "core_local",
        r#"
#include "lab.h"
struct pkt { __u32 x; union { __u32 y; __u16 z; }; __u8 f1:3, f2:5; } __attribute__((preserve_access_index));
SEC("xdp") int f(struct pkt *p) {
	return p->y + __builtin_preserve_field_info(p->f2, 0) + __builtin_preserve_field_info(p->f2, 1)
	     + __builtin_preserve_field_info(p->f2, 4) + __builtin_preserve_field_info(p->f2, 5);
}
"#,
    );
    // The "kernel's" layout: f2 first in byte 8 (bits 64..69), y in an anonymous struct at 16.
    let target = compile_c(
        "core_target",
        r#"
#include "lab.h"
struct pkt { __u64 pad; __u8 f2:5, f1:3; __u32 x; struct { __u32 y; }; };
struct pkt g;
SEC("xdp") int f(struct xdp_md *ctx) { return g.x; }
"#,
    );
    let (local_btf, relos) = btf_and_relos(&local);
    let (target_btf, _) = btf_and_relos(&target);
    let mut got: Vec<(u32, u64, u64)> = relos
        .iter()
        .map(|r| match resolve(r, &local_btf, &target_btf).unwrap() {
            Resolution::Found(v) => (r.kind, v.local, v.target),
            Resolution::Missing(why) => panic!("{why}"),
        })
        .collect();
    got.sort();
    // (kind, local, target): byte offsets of y and f2, f2's byte size, and its u64 shifts.
    let want = [(0, 4, 16), (0, 8, 8), (1, 1, 1), (4, 56, 59), (5, 59, 59)];
    assert_eq!(got, want);
    // Against its own BTF every relocation keeps the compiler's value.
    for r in &relos {
        let Resolution::Found(v) = resolve(r, &local_btf, &local_btf).unwrap() else { panic!("missing") };
        assert_eq!(v.local, v.target, "{r:?}");
    }
}

#[test]
fn truncated_btf_ext_sections_are_errors_not_panics() {
    if !clang_or_skip("truncated_btf_ext_sections_are_errors_not_panics") {
        return;
    }
    let o = compile_c("core_trunc", CORE_XDP);
    let btf = Btf::parse(&section(&o, ".BTF")).unwrap();
    let ext = section(&o, ".BTF.ext");
    assert!(!parse_btf_ext(&ext, &btf).unwrap().is_empty());
    for len in 0..ext.len() {
        let _ = parse_btf_ext(&ext[..len], &btf); // Ok with fewer records, or an error
    }
}
