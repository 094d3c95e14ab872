//! Global variables of C programs as libbpf holds them: `.data`, `.bss`, `.rodata` and
//! `.rodata.str1.1` become one-element array maps reached through `BPF_PSEUDO_MAP_IDX_VALUE`
//! loads, `.rodata` is read-only and frozen (the verifier prunes code its constants rule out),
//! user space sets them before the run (`--global`), and interpreter and kernel agree.

mod c_common;
use c_common::{clang_or_skip, compile_c};
use ebpf_lab::elf::program_from_elf;
use ebpf_lab::engine::{self, EngineError, EngineOptions};
use ebpf_lab::global_data::set_global;
use ebpf_lab::interp::{Input, Vm};
use ebpf_lab::isa::{ImmSrc, Insn};
use ebpf_lab::kernel;
use ebpf_lab::program::{MapType, Program};
use std::process::Command;

/// A counter in `.bss` advanced by a step in `.data`, compared with a `.rodata` limit, and
/// `bpf_trace_printk` with a string literal from `.rodata.str1.1`.
const GLOBALS: &str = r#"
#include "lab.h"
static long (*bpf_trace_printk)(const char *fmt, __u32 fmt_size, ...) = (void *)BPF_FUNC_trace_printk;
__u64 counter = 0;
__u32 step = 3;
const volatile __u32 limit = 10;

SEC("xdp")
int globals(struct xdp_md *ctx)
{
	counter += step;
	bpf_trace_printk("limit %u", 9, limit);
	if (counter > limit)
		return XDP_DROP;
	return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
"#;

/// Reads a packet byte without a bounds check, but only when `verbose` is set: with `.rodata`
/// frozen at 0, the verifier never looks at that branch.
const RODATA_PRUNES: &str = r#"
#include "lab.h"
const volatile __u32 verbose = 0;

SEC("xdp")
int prune(struct xdp_md *ctx)
{
	if (verbose) {
		unsigned char *data = (unsigned char *)(long)ctx->data;
		return data[100];
	}
	return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
"#;

fn load(name: &str, src: &str) -> (std::path::PathBuf, Program) {
    let o = compile_c(name, src);
    let p = program_from_elf(name, &std::fs::read(&o).unwrap(), None).unwrap();
    (o, p)
}

fn counter_of(entries: &[(Vec<u8>, Vec<u8>)]) -> u64 {
    u64::from_le_bytes(entries[0].1[..8].try_into().unwrap())
}

#[test]
fn global_sections_become_array_maps_reached_by_map_value_loads() {
    if !clang_or_skip("global_sections_become_array_maps_reached_by_map_value_loads") {
        return;
    }
    let (_, p) = load("globals", GLOBALS);
    let maps: Vec<(&str, MapType, u32, u32, u32)> =
        p.maps.iter().map(|m| (m.name.as_str(), m.map_type, m.value_size, m.max_entries, m.flags)).collect();
    for want in [(".bss", 8, 0), (".data", 4, 0), (".rodata", 4, 0x80), (".rodata.str1.1", 9, 0x80)] {
        assert!(maps.contains(&(want.0, MapType::Array, want.1, 1, want.2)), "{want:?} in {maps:?}");
    }
    let names: Vec<&str> = p.globals.iter().flat_map(|g| g.vars.iter().map(|v| v.name.as_str())).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    for n in ["counter", "step", "limit"] {
        assert!(names.contains(&n), "{names:?}");
    }
    let value_loads = p.insns.iter().filter(|i| matches!(i, Insn::LoadImm64 { src: ImmSrc::MapIdxValue, .. })).count();
    assert!(value_loads >= 4, "every global is reached through a map value load: {value_loads}");

    let input = Input::xdp(vec![0; 64]);
    let mut vm = Vm::new(&p).unwrap();
    let first = vm.run(&input).unwrap();
    assert_eq!(first.r0, 2, "3 <= 10: XDP_PASS");
    assert_eq!(first.trace_lines(), ["limit 10".to_string()], "the format string comes from .rodata.str1.1");
    for _ in 0..3 {
        vm.run(&input).unwrap();
    }
    assert_eq!(counter_of(&vm.map(".bss").unwrap().entries()), 12, "four runs of += 3");
    assert_eq!(vm.run(&input).unwrap().r0, 1, "15 > 10: XDP_DROP");

    if !kernel::require_or_skip("global_sections_become_array_maps_reached_by_map_value_loads") {
        return;
    }
    let opts = EngineOptions::default();
    let mut k = engine::open("kernel", &p, &opts, &input).unwrap();
    let mut i = engine::open("interp", &p, &opts, &input).unwrap();
    for _ in 0..5 {
        let (kr, ir) = (k.run(&input).unwrap(), i.run(&input).unwrap());
        assert_eq!(kr.outcome.r0, ir.outcome.r0);
        for m in &p.maps {
            assert_eq!(k.map_entries(&m.name), i.map_entries(&m.name), "map {}", m.name);
        }
    }
    assert_eq!(counter_of(&k.map_entries(".bss").unwrap()), 15);
}

#[test]
fn rodata_is_frozen_and_the_verifier_prunes_what_its_constants_rule_out() {
    if !clang_or_skip("rodata_is_frozen_and_the_verifier_prunes_what_its_constants_rule_out")
        || !kernel::require_or_skip("rodata_is_frozen_and_the_verifier_prunes_what_its_constants_rule_out")
    {
        return;
    }
    let (_, mut p) = load("prune", RODATA_PRUNES);
    let input = Input::xdp(vec![0; 64]);
    let mut k = engine::open("kernel", &p, &EngineOptions::default(), &input)
        .unwrap_or_else(|e| panic!("verbose = 0 must prune the unchecked read: {e}"));
    assert_eq!(k.run(&input).unwrap().outcome.r0, 2);
    assert!(k.map_update(".rodata", &[0; 4], &[1, 0, 0, 0]).is_err(), "frozen: user space may not write it");
    set_global(&mut p, "verbose", &1u32.to_le_bytes()).unwrap();
    match engine::open("kernel", &p, &EngineOptions::default(), &input) {
        Err(EngineError::Rejected { log, .. }) => assert!(log.contains("invalid access to packet"), "{log}"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("verbose = 1 must expose the unchecked packet read to the verifier"),
    }
}

#[test]
fn check_sets_globals_and_shows_them_per_variable() {
    if !clang_or_skip("check_sets_globals_and_shows_them_per_variable")
        || !kernel::require_or_skip("check_sets_globals_and_shows_them_per_variable")
    {
        return;
    }
    let (o, _) = load("globals_cli", GLOBALS);
    let out = Command::new(env!("CARGO_BIN_EXE_ebpf-lab"))
        .env("NO_COLOR", "1")
        .arg("check")
        .arg(&o)
        .args(["--global", "step=5", "--global", "limit=4"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&out.stderr));
    let row = |label: &str| text.lines().find(|l| l.trim_start().starts_with(label)).unwrap_or("").to_string();
    assert_eq!(row("global counter").split_whitespace().collect::<Vec<_>>(), ["global", "counter", "5", "5", "5"]);
    assert_eq!(row("global limit").split_whitespace().collect::<Vec<_>>(), ["global", "limit", "4", "4", "4"]);
    assert!(row("r0").contains("0x1"), "5 > 4: XDP_DROP in both: {text}");
    let bad =
        Command::new(env!("CARGO_BIN_EXE_ebpf-lab")).arg("run").arg(&o).args(["--global", "nope=1"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no global variable `nope` (globals: "));
    let frozen = Command::new(env!("CARGO_BIN_EXE_ebpf-lab"))
        .arg("run")
        .arg(&o)
        .args(["--map", ".rodata:0=5"])
        .output()
        .unwrap();
    assert_eq!(frozen.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&frozen.stderr).contains("set its variables with --global"));
}

#[test]
fn kconfig_externs_are_filled_from_the_running_kernel_and_strong_unknown_ones_refuse() {
    if !clang_or_skip("kconfig_externs_are_filled_from_the_running_kernel_and_strong_unknown_ones_refuse") {
        return;
    }
    let src = r#"
#include "lab.h"
extern int LINUX_KERNEL_VERSION __kconfig;
extern _Bool CONFIG_EBPF_LAB_ABSENT __kconfig __weak;
SEC("xdp")
int k(struct xdp_md *ctx) { return LINUX_KERNEL_VERSION + CONFIG_EBPF_LAB_ABSENT; }
char LICENSE[] SEC("license") = "GPL";
"#;
    let (_, p) = load("kconfig_weak", src);
    let g = p.globals.iter().find(|g| p.maps[g.map].name == ".kconfig").expect("a .kconfig map");
    assert!(g.read_only && p.maps[g.map].read_only_to_programs());
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let v: Vec<u32> = release.split(|c: char| !c.is_ascii_digit()).take(3).map(|n| n.parse().unwrap()).collect();
    let (_, version) = ebpf_lab::global_data::find_global(&p, "LINUX_KERNEL_VERSION").unwrap();
    let expected = (v[0] << 16) + (v[1] << 8) + v[2].min(255);
    assert_eq!(g.var_bytes(version, &g.init), expected.to_le_bytes());
    let (_, absent) = ebpf_lab::global_data::find_global(&p, "CONFIG_EBPF_LAB_ABSENT").unwrap();
    assert_eq!(g.var_bytes(absent, &g.init), [0]);
    let r = Vm::new(&p).unwrap().run(&Input::xdp(vec![0; 60])).unwrap();
    assert_eq!(r.r0, u64::from(expected));

    let strong = src.replace("CONFIG_EBPF_LAB_ABSENT __kconfig __weak", "CONFIG_EBPF_LAB_ABSENT __kconfig");
    let o = compile_c("kconfig_strong", &strong);
    let e = program_from_elf("kconfig_strong", &std::fs::read(o).unwrap(), None).unwrap_err().to_string();
    assert!(e.contains("`CONFIG_EBPF_LAB_ABSENT`") && e.contains("__weak"), "{e}");
}
