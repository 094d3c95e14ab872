//! The ELF reader on real clang output: the C examples and small programs are compiled with
//! clang-19 at test time; their instructions are compared with `llvm-objdump-19 -dr`, their maps
//! with what the C declares, and the linked programs are loaded (and some run) in the kernel.

use ebpf_lab::elf::{prog_type_of_section, program_from_elf};
use ebpf_lab::isa::{CallTarget, ImmSrc, Insn};
use ebpf_lab::kernel::{self, KernelInput, KernelProgram, LoadOptions};
use ebpf_lab::program::{MapDef, MapType, ProgType, Program};
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const CLANG: &str = "clang-19";
const OBJDUMP: &str = "llvm-objdump-19";

/// True when clang-19 and llvm-objdump-19 run; otherwise prints one skip line (or fails when
/// `EBPF_LAB_REQUIRE_LLVM=1`, so CI cannot skip silently).
fn llvm_or_skip(test: &str) -> bool {
    let ok = |tool: &str| Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success());
    if ok(CLANG) && ok(OBJDUMP) {
        return true;
    }
    if std::env::var("EBPF_LAB_REQUIRE_LLVM").as_deref() == Ok("1") {
        panic!("{test}: {CLANG} and {OBJDUMP} are required (EBPF_LAB_REQUIRE_LLVM=1)");
    }
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipping: {CLANG} or {OBJDUMP} not found [{test}]");
    false
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/c")
}

/// A per-process scratch directory for objects.
fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ebpf-lab-elf-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The host's multiarch include directory, where `<asm/types.h>` lives (`<linux/bpf.h>` needs it).
fn asm_include() -> Option<PathBuf> {
    std::fs::read_dir("/usr/include")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.join("asm/types.h").is_file())
}

/// Compiles C `source` (named `name`) with the README's command; returns the object's path.
fn compile_with(name: &str, source: &str, debug_info: bool) -> PathBuf {
    let dir = scratch();
    let c = dir.join(format!("{name}.c"));
    let o = dir.join(format!("{name}.o"));
    std::fs::write(&c, source).unwrap();
    let mut cmd = Command::new(CLANG);
    cmd.args(["-target", "bpf", "-O2", "-c"]).arg("-I").arg(examples());
    if let Some(inc) = asm_include() {
        cmd.arg("-I").arg(inc);
    }
    if debug_info {
        cmd.arg("-g");
    }
    let out = cmd.arg(&c).arg("-o").arg(&o).output().unwrap();
    assert!(out.status.success(), "{name}.c does not compile:\n{}", String::from_utf8_lossy(&out.stderr));
    o
}

fn compile(name: &str, source: &str) -> PathBuf {
    compile_with(name, source, true)
}

fn compile_example(file: &str) -> PathBuf {
    let source = std::fs::read_to_string(examples().join(file)).unwrap();
    compile(file.trim_end_matches(".c"), &source)
}

fn read(path: &Path, section: Option<&str>) -> Program {
    program_from_elf(&path.display().to_string(), &std::fs::read(path).unwrap(), section).unwrap()
}

fn read_err(path: &Path, section: Option<&str>) -> String {
    program_from_elf("obj.o", &std::fs::read(path).unwrap(), section).unwrap_err().to_string()
}

/// One instruction as `llvm-objdump -dr` shows it: its bytes, and the relocation on it.
#[derive(Debug)]
struct DumpInsn {
    bytes: Vec<u8>,
    reloc: Option<(String, String)>,
}

/// `llvm-objdump-19 -dr` of `obj`: the instructions of each section.
fn objdump(obj: &Path) -> Vec<(String, Vec<DumpInsn>)> {
    let out = Command::new(OBJDUMP).arg("-dr").arg(obj).output().unwrap();
    assert!(out.status.success());
    let mut sections: Vec<(String, Vec<DumpInsn>)> = Vec::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        if let Some(name) = line.strip_prefix("Disassembly of section ") {
            sections.push((name.trim_end_matches(':').to_string(), Vec::new()));
            continue;
        }
        let Some((_, insns)) = sections.last_mut() else { continue };
        let fields: Vec<&str> = line.split('\t').collect();
        if line.starts_with("\t\t") {
            // `\t\tOFFSET:  R_BPF_64_64\tsymbol`
            let kind = fields[2].split_whitespace().last().unwrap().to_string();
            insns.last_mut().unwrap().reloc = Some((kind, fields[3].to_string()));
        } else if fields.len() >= 2 && fields[0].trim_end().ends_with(':') && fields[0].trim().len() > 1 {
            let bytes = fields[1].split_whitespace().map(|b| u8::from_str_radix(b, 16).unwrap()).collect();
            insns.push(DumpInsn { bytes, reloc: None });
        }
    }
    sections
}

/// The expected linked bytecode: objdump's bytes of `sections` in order, with the map
/// relocations applied as specified (`src` = `BPF_PSEUDO_MAP_IDX`, `imm` = map index) and the
/// calls pointing at `calls[symbol]` (the callee's slot in the linked program).
fn expected(
    dump: &[(String, Vec<DumpInsn>)],
    sections: &[&str],
    maps: &[MapDef],
    callee_slot: &dyn Fn(&str, i32) -> usize,
) -> Vec<u8> {
    let mut out = Vec::new();
    for want in sections {
        let (_, insns) = dump.iter().find(|(n, _)| n == want).unwrap_or_else(|| panic!("no section {want}"));
        for insn in insns {
            let mut b = insn.bytes.clone();
            let slot = out.len() / 8;
            match &insn.reloc {
                Some((kind, sym)) if kind == "R_BPF_64_64" => {
                    let idx = maps.iter().position(|m| &m.name == sym).expect("relocated symbol is a map");
                    b[1] = (b[1] & 0x0f) | 0x50;
                    b[4..8].copy_from_slice(&(idx as i32).to_le_bytes());
                }
                Some((kind, sym)) if kind == "R_BPF_64_32" => {
                    let imm = i32::from_le_bytes(b[4..8].try_into().unwrap());
                    let rel = callee_slot(sym, imm) as i32 - slot as i32 - 1;
                    b[4..8].copy_from_slice(&rel.to_le_bytes());
                }
                Some(other) => panic!("unexpected relocation {other:?}"),
                None => {}
            }
            out.extend(b);
        }
    }
    out
}

fn map(name: &str, map_type: MapType, key_size: u32, value_size: u32, max_entries: u32) -> MapDef {
    MapDef { name: name.into(), map_type, key_size, value_size, max_entries, flags: 0, extra: Default::default() }
}

/// `def` with the BTF names of its key and value types, as the ELF reader records them.
fn typed(mut def: MapDef, key: &str, value: &str) -> MapDef {
    def.extra.key_type = Some(key.into());
    def.extra.value_type = Some(value.into());
    def
}

fn assert_accepted(test: &str, p: &Program) -> Option<KernelProgram> {
    if !kernel::require_or_skip(test) {
        return None;
    }
    let k = KernelProgram::load(p, &LoadOptions { log_level: 1, ..Default::default() }).unwrap();
    assert!(k.verdict().accepted(), "{test}: {:?}\n{}", k.verdict().error, k.verdict().log);
    Some(k)
}

#[test]
fn xdp_example_matches_objdump_and_the_kernel_accepts_it() {
    if !llvm_or_skip("xdp_example_matches_objdump") {
        return;
    }
    let obj = compile_example("xdp_count.c");
    let p = read(&obj, None);
    assert_eq!(p.prog_type, ProgType::Xdp);
    assert_eq!(p.maps, vec![typed(map("counts", MapType::Array, 4, 8, 256), "__u32", "__u64")]);
    // Compiled with -g: diagnostics quote the C file (the one compiled, still on disk).
    let c = obj.with_extension("c");
    assert_eq!(p.source.as_ref().map(|s| s.name.as_str()), Some(c.to_str().unwrap()));
    assert_eq!(p.source.as_ref().map(|s| s.text.clone()), std::fs::read_to_string(&c).ok());
    assert_eq!(p.spans.len(), p.insns.len());
    let want = expected(&objdump(&obj), &["xdp"], &p.maps, &|s, _| panic!("no call expected, got {s}"));
    assert_eq!(p.to_bytes(), want);
    assert!(p.insns.contains(&Insn::LoadImm64 {
        dst: ebpf_lab::isa::Reg::R1,
        src: ImmSrc::MapIdx,
        imm: 0,
        next_imm: 0
    }));

    // The same object through the file loader.
    assert_eq!(ebpf_lab::load::load_program(&obj, None).unwrap(), p);

    // And the kernel: accepted, and it counts a UDP packet under protocol 17.
    let Some(mut k) = assert_accepted("xdp_example_kernel", &p) else { return };
    // The object's BTF, its `.maps` and `license` DATASECs sized as libbpf does, is one the
    // kernel takes.
    let btf = p.btf.as_ref().expect("compiled with -g: BTF func info");
    if let Err(e) = ebpf_lab::kernel::sys::btf_load(&btf.blob) {
        panic!("{e}\n{}", e.log().unwrap_or(""));
    }
    let packet = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/udp.pkt")).unwrap();
    let run = k.run(&p, &KernelInput { packet: Some(&packet), ctx: None }).unwrap();
    assert_eq!(run.r0, 2, "XDP_PASS");
    let entries = k.map_entries(0).unwrap();
    let count = entries.iter().find(|(key, _)| key == &17u32.to_ne_bytes()).map(|(_, v)| v.clone());
    assert_eq!(count, Some(1u64.to_ne_bytes().to_vec()));
}

#[test]
fn syscount_example_links_its_static_function() {
    if !llvm_or_skip("syscount_example_links_its_static_function") {
        return;
    }
    let obj = compile_example("syscount.c");
    let p = read(&obj, None);
    assert_eq!(p.prog_type, ProgType::Tracepoint);
    assert_eq!(p.maps, vec![typed(map("syscalls", MapType::Hash, 4, 8, 512), "__u32", "__u64")]);
    let dump = objdump(&obj);
    let main = "tracepoint/raw_syscalls/sys_enter";
    let main_slots: usize = dump.iter().find(|(n, _)| n == main).unwrap().1.iter().map(|i| i.bytes.len() / 8).sum();
    // The call is against the `.text` section symbol with imm -1: `bump`, at .text's start,
    // which the linker places right after the program.
    let want = expected(&dump, &[main, ".text"], &p.maps, &|sym, imm| {
        assert_eq!((sym, imm), (".text", -1));
        main_slots
    });
    assert_eq!(p.to_bytes(), want);
    let calls: Vec<_> = p.insns.iter().filter(|i| matches!(i, Insn::Call(CallTarget::Local(_)))).collect();
    assert_eq!(calls.len(), 1);
    assert_accepted("syscount_example_kernel", &p);
}

/// A `syscall` program that computes `f(g(x))` through two static functions, a global one, and a
/// function nobody calls (which must not be linked: the kernel rejects unreachable code).
const CALLS: &str = r#"
#include "lab.h"
static __noinline int g(int x) { return x * 3; }
static __noinline int unused(int x) { return x - 100; }
static __noinline int f(int x) { return g(x) + 1; }
__noinline int twice(int x) { return x * 2; }
SEC("syscall")
int calls(int *ctx) { return twice(f(ctx[0])); }
"#;

#[test]
fn calls_between_functions_are_linked_and_run() {
    if !llvm_or_skip("calls_between_functions_are_linked_and_run") {
        return;
    }
    let obj = compile("calls", CALLS);
    let p = read(&obj, None);
    assert_eq!(p.prog_type, ProgType::Syscall);
    let calls = p.insns.iter().filter(|i| matches!(i, Insn::Call(CallTarget::Local(_)))).count();
    assert_eq!(calls, 3, "{:?}", p.insns);
    // `unused`'s `x - 100` is `r0 += -100` (or `w0 += -100`): it must not be in the program.
    let has_minus_100 = p.insns.iter().any(|i| matches!(i, Insn::Bin { src: ebpf_lab::isa::Operand::Imm(-100), .. }));
    assert!(!has_minus_100, "the uncalled function was linked: {:?}", p.insns);
    // Every local call lands on an instruction of the linked program.
    let pcs = p.slot_pcs();
    for (i, insn) in p.insns.iter().enumerate() {
        if let Insn::Call(CallTarget::Local(off)) = insn {
            let target = pcs[i] as i64 + 1 + i64::from(*off);
            assert!(pcs[..pcs.len() - 1].contains(&(target as usize)), "call at {i} lands at slot {target}");
        }
    }
    let Some(mut k) = assert_accepted("calls_kernel", &p) else { return };
    let run = k.run(&p, &KernelInput { ctx: Some(&5i32.to_ne_bytes()), packet: None }).unwrap();
    assert_eq!(run.r0, 32, "twice(f(5)) = 2 * (5 * 3 + 1)");
}

/// A callback passed to `bpf_loop` is a function address (`lddw` with `BPF_PSEUDO_FUNC`).
const CALLBACK: &str = r#"
#include "lab.h"
static long (*bpf_loop)(__u32 nr, void *fn, void *ctx, __u64 flags) = (void *)BPF_FUNC_loop;
static long add_index(__u32 i, void *ctx) { *(__u64 *)ctx += i; return 0; }
SEC("syscall")
int sum(void *ctx) { __u64 total = 0; bpf_loop(5, add_index, &total, 0); return total; }
"#;

#[test]
fn callback_addresses_are_linked() {
    if !llvm_or_skip("callback_addresses_are_linked") {
        return;
    }
    let p = read(&compile("callback", CALLBACK), None);
    let pcs = p.slot_pcs();
    let addrs: Vec<(usize, i32)> = p
        .insns
        .iter()
        .enumerate()
        .filter_map(|(i, insn)| match insn {
            Insn::LoadImm64 { src: ImmSrc::Func, imm, next_imm: 0, .. } => Some((pcs[i], *imm)),
            _ => None,
        })
        .collect();
    assert_eq!(addrs.len(), 1, "{:?}", p.insns);
    // `sum` is 11 slots; `add_index` follows it, and the address points at its first instruction.
    let (at, imm) = addrs[0];
    assert_eq!(at as i64 + 1 + i64::from(imm), 11);
    let callback = Program::from_bytes(&p.to_bytes()[11 * 8..]).unwrap();
    assert_eq!(callback.insns.len(), 7, "{:?}", callback.insns);
    assert_eq!(callback.insns.last(), Some(&Insn::Exit));
    // The kernel wants BTF `func_info` for programs with callbacks: one record per function.
    let btf = p.btf.as_ref().expect("compiled with -g: BTF func info");
    assert_eq!(btf.func_info.iter().map(|f| f[0]).collect::<Vec<_>>(), vec![0, 11]);
    assert_eq!(btf.line_info.first().map(|l| l[0]), Some(0));
    // ebpf-lab's verifier checks the callback as the kernel does.
    let v = ebpf_lab::verifier::verify(&p, &ebpf_lab::verifier::VerifyOptions::default());
    assert!(v.accepted(), "{:?}", v.error);
    // With it the kernel accepts the program, and its log speaks C.
    let Some(mut k) = assert_accepted("callback_kernel", &p) else { return };
    let verbose = KernelProgram::load(&p, &LoadOptions { log_level: 2, ..Default::default() }).unwrap();
    let log = &verbose.verdict().log;
    assert!(log.contains("; int sum(void *ctx) { __u64 total = 0; bpf_loop(5, add_index, &total, 0)"), "{log}");
    // Run inside the r0 wrapper, its BTF records shifted (so all 64 bits come back): 0 + 1 + 2 + 3 + 4.
    let run = k.run(&p, &KernelInput { ctx: None, packet: None }).unwrap();
    assert_eq!((run.r0, run.r0_bits), (10, 64));
}

const TWO_PROGRAMS: &str = r#"
#include "lab.h"
SEC("xdp") int pass(struct xdp_md *ctx) { return XDP_PASS; }
SEC("tc") int ok(struct __sk_buff *skb) { return 0; }
SEC("tp/syscalls/sys_enter_read") int tp(void *ctx) { return 0; }
"#;

#[test]
fn the_section_argument_picks_the_program() {
    if !llvm_or_skip("the_section_argument_picks_the_program") {
        return;
    }
    let obj = compile("two", TWO_PROGRAMS);
    assert_eq!(read(&obj, None).prog_type, ProgType::Xdp);
    assert_eq!(read(&obj, Some("tc")).prog_type, ProgType::Tc);
    assert_eq!(read(&obj, Some("tp/syscalls/sys_enter_read")).prog_type, ProgType::Tracepoint);
    // By function name too.
    assert_eq!(read(&obj, Some("ok")).prog_type, ProgType::Tc);
    let e = read_err(&obj, Some("kprobe/x"));
    assert!(e.contains("no program section or function `kprobe/x`") && e.contains("`xdp`, `tc`"), "{e}");
}

#[test]
fn section_names_give_program_types() {
    let cases = [
        ("xdp", ProgType::Xdp),
        ("xdp.frags", ProgType::Xdp),
        ("socket", ProgType::Socket),
        ("tc", ProgType::Tc),
        ("classifier", ProgType::Tc),
        ("tcx/ingress", ProgType::Tc),
        ("tracepoint/syscalls/sys_enter_write", ProgType::Tracepoint),
        ("tp/sched/sched_switch", ProgType::Tracepoint),
        ("syscall", ProgType::Syscall),
        ("kprobe/do_sys_open", ProgType::Kprobe),
        ("kretprobe/do_sys_open", ProgType::Kprobe),
        ("uprobe//bin/sh:main", ProgType::Kprobe),
        ("ksyscall/kill", ProgType::Kprobe),
        ("kretsyscall/kill", ProgType::Kprobe),
        ("usdt/libc.so.6:libc:setjmp", ProgType::Kprobe),
        ("usdt", ProgType::Kprobe),
        ("raw_tp/sys_enter", ProgType::RawTracepoint),
        ("raw_tracepoint/sched_switch", ProgType::RawTracepoint),
        ("cgroup_skb/ingress", ProgType::CgroupSkb),
        ("cgroup/sock", ProgType::CgroupSock),
        ("cgroup/sock_create", ProgType::CgroupSock),
        ("cgroup/post_bind4", ProgType::Mem),
        ("sk_lookup", ProgType::SkLookup),
        ("lwt_in", ProgType::LwtIn),
        ("lwt_out", ProgType::LwtOut),
        ("lwt_xmit", ProgType::LwtXmit),
        ("fentry/do_sys_open", ProgType::Mem),
        (".text", ProgType::Mem),
    ];
    for (name, t) in cases {
        assert_eq!(prog_type_of_section(name), t, "{name}");
    }
}

#[test]
fn map_definitions_in_all_their_forms() {
    if !llvm_or_skip("map_definitions_in_all_their_forms") {
        return;
    }
    let source = r#"
#include "lab.h"
struct pair { __u64 a; __u32 b[3]; };
typedef const struct pair pair_t;
struct { __uint(type, BPF_MAP_TYPE_PERCPU_HASH); __uint(max_entries, 64); __uint(map_flags, BPF_F_NO_PREALLOC);
         __type(key, __u64); __type(value, pair_t); } pairs SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); } events SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_LRU_HASH); __uint(max_entries, 8); __uint(key_size, 2); __uint(value_size, 6); } raw SEC(".maps");
SEC("xdp") int use(struct xdp_md *ctx) {
    __u64 k = 0; __u16 k2 = 0;
    return bpf_map_lookup_elem(&events, &k) != 0 || bpf_map_lookup_elem(&raw, &k2) != 0 || bpf_map_lookup_elem(&pairs, &k) != 0;
}
"#;
    let p = read(&compile("maps", source), None);
    let mut pairs = typed(map("pairs", MapType::PercpuHash, 8, 24, 64), "__u64", "pair_t");
    pairs.flags = 1; // BPF_F_NO_PREALLOC
                     // Maps come in section order (clang's layout), not necessarily source order.
    let mut maps = p.maps.clone();
    maps.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(maps, vec![map("events", MapType::Ringbuf, 0, 0, 4096), pairs, map("raw", MapType::LruHash, 2, 6, 8)]);
    // Each lddw names its own map.
    let idx: Vec<i32> = p
        .insns
        .iter()
        .filter_map(|i| match i {
            Insn::LoadImm64 { src: ImmSrc::MapIdx, imm, .. } => Some(*imm),
            _ => None,
        })
        .collect();
    assert_eq!(idx.len(), 3, "{:?}", p.insns);
    let mut sorted = idx.clone();
    sorted.sort();
    assert_eq!(sorted, vec![0, 1, 2]);
}

#[test]
fn legacy_maps_section() {
    if !llvm_or_skip("legacy_maps_section") {
        return;
    }
    let source = r#"
#include "lab.h"
struct bpf_map_def { unsigned int type, key_size, value_size, max_entries, map_flags; };
struct bpf_map_def SEC("maps") old = { BPF_MAP_TYPE_ARRAY, 4, 16, 10, 0 };
SEC("socket") int f(struct __sk_buff *skb) { __u32 k = 0; return bpf_map_lookup_elem(&old, &k) != 0; }
"#;
    let p = read(&compile("legacy", source), None);
    assert_eq!(p.prog_type, ProgType::Socket);
    assert_eq!(p.maps, vec![map("old", MapType::Array, 4, 16, 10)]);
    assert_accepted("legacy_maps_kernel", &p);
}

#[test]
fn unsupported_features_are_named() {
    if !llvm_or_skip("unsupported_features_are_named") {
        return;
    }
    // `.kconfig` externs are read (tests/elf_globals.rs); kernel symbols (`.ksyms`) are not.
    let ksym = r#"
#include "lab.h"
extern int bpf_prog_active __attribute__((section(".ksyms")));
SEC("xdp") int f(struct xdp_md *ctx) { return bpf_prog_active > 0; }
"#;
    let e = read_err(&compile("ksym", ksym), None);
    assert!(e.contains("`bpf_prog_active`") && e.contains(".ksyms") && e.contains("does not support"), "{e}");

    let sockmap = r#"
#include "lab.h"
struct { __uint(type, BPF_MAP_TYPE_SOCKMAP); __uint(max_entries, 4); __uint(key_size, 4); __uint(value_size, 4); } st SEC(".maps");
SEC("xdp") int f(struct xdp_md *ctx) { return bpf_map_lookup_elem(&st, 0) != 0; }
"#;
    let e = read_err(&compile("sockmap", sockmap), None);
    assert!(e.contains("program `f` uses map `st`") && e.contains("map type 15 is not supported"), "{e}");

    let e = read_err(
        &compile_with("nodebug", &std::fs::read_to_string(examples().join("xdp_count.c")).unwrap(), false),
        None,
    );
    assert!(e.contains("`.maps`") && e.contains("compile with -g"), "{e}");
}

#[test]
fn non_bpf_and_non_elf_inputs_are_errors() {
    let e = program_from_elf("x", b"hello", None).unwrap_err();
    assert!(e.to_string().starts_with("x: not a readable ELF object"), "{e}");
    // This test binary is an ELF object for the host, not for BPF.
    let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
    let e = program_from_elf("exe", &exe, None).unwrap_err();
    assert!(e.message.contains("not a BPF object"), "{e}");
}

/// Old LLVM (before 3.9) wrote `e_machine = 0` in BPF objects; libbpf loads them, so do we: the
/// same object with `EM_NONE` reads into the same program.
#[test]
fn objects_with_e_machine_0_from_old_llvm_are_read() {
    if !llvm_or_skip("objects_with_e_machine_0_from_old_llvm_are_read") {
        return;
    }
    let o = compile_example("xdp_count.c");
    let bytes = std::fs::read(&o).unwrap();
    let mut old = bytes.clone();
    assert_eq!(old[18..20], 247u16.to_le_bytes(), "e_machine of a clang-19 object is EM_BPF");
    old[18..20].copy_from_slice(&0u16.to_le_bytes());
    let p = program_from_elf("old.o", &old, None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p, program_from_elf("new.o", &bytes, None).unwrap());
    // Any other machine is still not BPF.
    old[18..20].copy_from_slice(&62u16.to_le_bytes());
    assert!(program_from_elf("x86.o", &old, None).unwrap_err().message.contains("e_machine is 62"));
}

#[test]
fn a_text_only_object_is_a_mem_program() {
    if !llvm_or_skip("a_text_only_object_is_a_mem_program") {
        return;
    }
    // No SEC(), no maps, no -g: everything is in `.text`, and the call needs no relocation.
    let source = "static __attribute__((noinline)) int add7(int x) { return x + 7; }\n\
                  int entry(int *p) { return add7(p[0]) * 2; }\n";
    let p = read(&compile_with("textonly", source, false), None);
    assert_eq!((p.prog_type, p.maps.len()), (ProgType::Mem, 0));
    assert!(matches!(p.insns[0], Insn::Load { .. }), "the global function comes first: {:?}", p.insns);
    if !kernel::require_or_skip("a_text_only_object_kernel") {
        return;
    }
    let mut k = KernelProgram::load(&p, &LoadOptions { mem_len: 4, ..Default::default() }).unwrap();
    assert!(k.verdict().accepted(), "{:?}", k.verdict().error);
    let run = k.run(&p, &KernelInput { ctx: Some(&5i32.to_ne_bytes()), packet: None }).unwrap();
    assert_eq!(run.r0, 24);
}

#[test]
fn a_broken_relocation_site_names_section_symbol_and_instruction() {
    if !llvm_or_skip("a_broken_relocation_site_names_section_symbol_and_instruction") {
        return;
    }
    let obj = compile_example("xdp_count.c");
    let mut bytes = std::fs::read(&obj).unwrap();
    let elf = goblin::elf::Elf::parse(&bytes).unwrap();
    let xdp = elf.section_headers.iter().find(|s| elf.shdr_strtab.get_at(s.sh_name) == Some("xdp")).unwrap();
    // The map's lddw is instruction 9 (byte 0x48, see objdump); make it a `mov` instead.
    let at = xdp.sh_offset as usize + 0x48;
    assert_eq!(bytes[at], 0x18);
    bytes[at] = 0xb7;
    let e = program_from_elf("x.o", &bytes, None).unwrap_err().to_string();
    assert!(
        e.contains("section `xdp` offset 0x48 (instruction 9 of `xdp_count`)")
            && e.contains("relocation against `counts` (R_BPF_64_64) is not on an `lddw`"),
        "{e}"
    );
    // Through the file loader, the same message.
    let broken = scratch().join("broken.o");
    std::fs::write(&broken, &bytes).unwrap();
    let e = ebpf_lab::load::load_program(&broken, None).unwrap_err().render(false);
    assert!(e.contains("is not on an `lddw`"), "{e}");
}

/// The syscount object (a program, `.text`, `.maps`, `.BTF` and relocations), compiled once.
fn sample_object() -> Option<&'static Vec<u8>> {
    static OBJ: OnceLock<Option<Vec<u8>>> = OnceLock::new();
    OBJ.get_or_init(|| llvm_or_skip("elf_mutations").then(|| std::fs::read(compile_example("syscount.c")).unwrap()))
        .as_ref()
}

#[test]
fn every_truncation_is_an_error() {
    let Some(obj) = sample_object() else { return };
    assert!(program_from_elf("s.o", obj, None).is_ok());
    // Stride through the prefixes (all of them would be slow in debug builds).
    for len in (0..obj.len()).step_by(7) {
        let _ = program_from_elf("s.o", &obj[..len], None);
    }
    // Cutting off the section headers at the end leaves no valid object.
    assert!(program_from_elf("s.o", &obj[..obj.len() - 1], None).is_err());
}

/// Byte ranges of the object's structure, where a mutation is most likely to matter: the ELF
/// header, the section header table, and the symbol, relocation, BTF, map and code sections.
fn structural_ranges(obj: &[u8]) -> &'static Vec<std::ops::Range<usize>> {
    static RANGES: OnceLock<Vec<std::ops::Range<usize>>> = OnceLock::new();
    RANGES.get_or_init(|| {
        let elf = goblin::elf::Elf::parse(obj).unwrap();
        let shoff = elf.header.e_shoff as usize;
        let mut ranges = vec![0..64, shoff..obj.len()];
        for sh in &elf.section_headers {
            let name = elf.shdr_strtab.get_at(sh.sh_name).unwrap_or("");
            let wanted = [".BTF", ".maps", ".symtab", ".strtab", ".text", "tracepoint/raw_syscalls/sys_enter"]
                .contains(&name)
                || name.starts_with(".rel") && !name.contains("debug");
            if wanted && sh.sh_size > 0 {
                ranges.push(sh.sh_offset as usize..(sh.sh_offset + sh.sh_size) as usize);
            }
        }
        ranges
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Random byte changes (mostly in the object's structure) and truncations of a valid object
    /// give a program or an error naming the file, never a panic.
    #[test]
    fn mutated_objects_never_panic(
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let Some(obj) = sample_object() else { return Ok(()) };
        let ranges = structural_ranges(obj);
        let mut bytes = obj.clone();
        for (region, at, value) in flips {
            let r = &ranges[region.index(ranges.len())];
            bytes[r.start + at.index(r.len())] = value;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        if let Err(e) = program_from_elf("m.o", &bytes, None) {
            prop_assert!(e.to_string().starts_with("m.o: "));
        }
    }
}

/// A fuzz find: a relocation's symbol value near `i64::MAX` (or past it) overflowed the target
/// computation, on both the call and the function-address paths. It is an error naming the file.
#[test]
fn relocations_against_huge_symbol_values_are_errors() {
    if !llvm_or_skip("relocations_against_huge_symbol_values_are_errors") {
        return;
    }
    for (name, source) in [("calls_huge", CALLS), ("callback_huge", CALLBACK)] {
        let obj = std::fs::read(compile(name, source)).unwrap();
        let elf = goblin::elf::Elf::parse(&obj).unwrap();
        let symtab = elf.section_headers.iter().find(|s| s.sh_type == goblin::elf::section_header::SHT_SYMTAB).unwrap();
        let targets: Vec<usize> = elf.shdr_relocs.iter().flat_map(|(_, rs)| rs.iter().map(|r| r.r_sym)).collect();
        assert!(!targets.is_empty(), "{name}: no relocations");
        for value in [i64::MAX as u64 - 8, i64::MAX as u64, u64::MAX - 8] {
            let mut bytes = obj.clone();
            for &sym in &targets {
                // st_value is at byte 8 of an Elf64_Sym (24 bytes).
                let at = symtab.sh_offset as usize + sym * 24 + 8;
                bytes[at..at + 8].copy_from_slice(&value.to_le_bytes());
            }
            let e = program_from_elf("h.o", &bytes, None).unwrap_err().to_string();
            assert!(e.starts_with("h.o: "), "{name}: {e}");
        }
    }
}

/// A packet read the verifier refuses: nothing proves byte 20 exists. Line 8 is the read.
const UNCHECKED_READ: &str = r#"#include "lab.h"

SEC("xdp")
int prog(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    unsigned char *p = data;
    int x = p[20];
    return x & 3;
}
"#;

/// `ebpf-lab verify` on `obj`: exit code and standard error.
fn verify_cli(obj: &Path) -> (Option<i32>, String) {
    let out =
        Command::new(env!("CARGO_BIN_EXE_ebpf-lab")).args(["--color", "never", "verify"]).arg(obj).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_rejection_points_at_the_c_line() {
    if !llvm_or_skip("a_rejection_points_at_the_c_line") {
        return;
    }
    let obj = compile("unchecked_read", UNCHECKED_READ);
    let c = obj.with_extension("c");
    let p = read(&obj, None);
    let v = ebpf_lab::verifier::verify(&p, &ebpf_lab::verifier::VerifyOptions::default());
    let slot = v.error.as_ref().and_then(|e| e.insn).expect("rejected at an instruction");
    let index = p.slot_pcs().iter().position(|&s| s == slot).unwrap();
    let at = p.c_lines[index].as_ref().expect("the refused instruction has a C line");
    assert_eq!((at.line, at.col, at.text.trim()), (8, 13, "int x = p[20];"));
    assert_eq!(p.location(index), Some(format!("{}:8:13", c.display())));
    // The C file on disk: quoted by ariadne under its own name and line.
    let (code, err) = verify_cli(&obj);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.starts_with(&format!("{}:8:13: error: the verifier rejects the program", c.display())), "{err}");
    assert!(err.contains(" 8 │     int x = p[20];"), "{err}");
    // A runtime error of `run` points at the same line.
    let out = Command::new(env!("CARGO_BIN_EXE_ebpf-lab"))
        .args(["--color", "never", "run", "--unverified", "--packet-hex", "0102"])
        .arg(&obj)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with(&format!("{}:8:13: error: insn 1: invalid read", c.display())), "{err}");
    // Without the file (or with a file edited since), the line text comes from the object's BTF.
    std::fs::write(&c, UNCHECKED_READ.replace("p[20]", "p[30]")).unwrap();
    let (code, err) = verify_cli(&obj);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.starts_with(&format!("{}:8:13: error:", c.display())), "{err}");
    assert!(err.contains(" 8 │     int x = p[20];") && !err.contains("p[30]"), "{err}");
}
