//! Section names ebpf-lab cannot read a program type from (old-style `xdp1`, `socket1`, an
//! `fentry/...` it does not model) are never silently run as `mem`: `run` and `check` stop and
//! say which `--prog-type` to pass.

mod c_common;
use c_common::{clang_or_skip, compile_c};
use ebpf_lab::elf::unknown_section_hint;
use std::process::Command;

#[test]
fn unknown_sections_name_the_prog_type_to_pass() {
    for known in [
        "xdp",
        "socket",
        "tc",
        "classifier",
        "tcx/ingress",
        "tp/sched/x",
        "syscall",
        ".text",
        "xdp.frags",
        "kprobe/do_sys_open",
        "raw_tp/sys_enter",
        "cgroup_skb/egress",
        "cgroup/sock",
        "sk_lookup",
        "lwt_xmit",
    ] {
        assert_eq!(unknown_section_hint(known), None, "{known}");
    }
    let hint = |s: &str| unknown_section_hint(s).unwrap();
    assert!(hint("xdp1").contains("--prog-type xdp"), "{}", hint("xdp1"));
    assert!(hint("xdp_prog").contains("--prog-type xdp"));
    assert!(hint("socket1").contains("--prog-type socket"), "{}", hint("socket1"));
    assert!(hint("fentry/do_sys_open").contains("does not model `fentry`"), "{}", hint("fentry/do_sys_open"));
    assert!(hint("cgroup/connect4").contains("does not model `cgroup`"), "{}", hint("cgroup/connect4"));
    assert!(hint("prog").contains("--prog-type TYPE (one of: mem, xdp"), "{}", hint("prog"));
}

#[test]
fn run_refuses_an_unknown_section_until_told_the_type() {
    if !clang_or_skip("run_refuses_an_unknown_section_until_told_the_type") {
        return;
    }
    let o = compile_c(
        "socket1",
        "#include \"lab.h\"\nSEC(\"socket1\") int f(struct __sk_buff *skb) { return skb->len; }\nchar LICENSE[] SEC(\"license\") = \"GPL\";\n",
    );
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_ebpf-lab"))
            .env("NO_COLOR", "1")
            .arg("run")
            .arg(&o)
            .args(extra)
            .output()
            .unwrap()
    };
    let refused = run(&[]);
    assert_eq!(refused.status.code(), Some(2));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("section `socket1`") && err.contains("--prog-type socket"), "{err}");
    let ok = run(&["--prog-type", "socket", "--packet-hex", &"00".repeat(60)]);
    let out = String::from_utf8_lossy(&ok.stdout);
    assert_eq!(ok.status.code(), Some(0), "{out}{}", String::from_utf8_lossy(&ok.stderr));
    assert!(out.starts_with("r0 = 0x2e (46)"), "__sk_buff.len of a socket filter: {out}");
}

#[test]
fn pinned_maps_load_unpinned() {
    if !clang_or_skip("pinned_maps_load_unpinned") {
        return;
    }
    let src = r#"
#include "lab.h"
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, 1 /* LIBBPF_PIN_BY_NAME */);
	__uint(numa_node, 0);
} stats SEC(".maps");
SEC("xdp") int f(struct xdp_md *ctx) { __u32 k = 0; return bpf_map_lookup_elem(&stats, &k) ? XDP_PASS : XDP_DROP; }
char LICENSE[] SEC("license") = "GPL";
"#;
    let o = compile_c("pinned", src);
    let p = ebpf_lab::elf::program_from_elf("pinned.o", &std::fs::read(o).unwrap(), None).unwrap();
    assert_eq!((p.maps[0].name.as_str(), p.maps[0].max_entries), ("stats", 4));
    let bad = src.replace("__uint(pinning, 1", "__uint(pinning, 7");
    let o = compile_c("pinned_bad", &bad);
    let e = ebpf_lab::elf::program_from_elf("pinned_bad.o", &std::fs::read(o).unwrap(), None).unwrap_err();
    assert!(
        e.to_string().contains("field `pinning` is 7; libbpf knows LIBBPF_PIN_NONE (0) and LIBBPF_PIN_BY_NAME (1)"),
        "{e}"
    );
}

/// libbpf's uprobe sections hold a colon (`uprobe//proc/self/exe:func`): `FILE.o:SECTION` splits
/// at the first colon after an existing file, and the program runs as a kprobe-type program.
#[test]
fn sections_with_colons_are_picked_by_name() {
    if !clang_or_skip("sections_with_colons_are_picked_by_name") {
        return;
    }
    let o = compile_c(
        "uprobe_colon",
        "#include \"lab.h\"\nSEC(\"uprobe//proc/self/exe:add\") int a(void *ctx) { return 1; }\n\
         SEC(\"uprobe//proc/self/exe:sub\") int b(void *ctx) { return 2; }\nchar LICENSE[] SEC(\"license\") = \"GPL\";\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_ebpf-lab"))
        .env("NO_COLOR", "1")
        .args(["run", "--json"])
        .arg(format!("{}:uprobe//proc/self/exe:sub", o.display()))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("\"r0\":2"), "{stdout}");
}
