//! `ebpf-lab jit` and `run --engine jit` as a user meets them.

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ebpf-lab"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .expect("ebpf-lab runs")
}

#[test]
fn jit_lists_each_instruction_with_its_source_line_and_native_code() {
    let o = run(&["jit", "examples/sum.s"]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    // The kernel log's notation, the source line, then Intel-syntax x86-64.
    assert!(out.contains("    0: r0 = 0    ; examples/sum.s:8:9: r0 = 0"), "{out}");
    assert!(out.contains("xor eax,eax"), "r0 = 0 as the kernel JIT writes it: {out}");
    assert!(out.contains("movzx ecx,byte ptr [r11]"), "the checked byte load: {out}");
    assert!(out.contains("10 eBPF instructions -> "), "{out}");
    assert!(out.contains("compiled in"), "{out}");
}

#[test]
fn jit_json_has_native_code_size_and_compile_time() {
    let o = run(&["jit", "--json", "examples/sum.s"]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.starts_with("{\"insns\":[{\"pc\":0,\"insn\":\"r0 = 0\""), "{out}");
    assert!(out.contains("\"asm\":\"ret\""), "{out}");
    assert!(out.contains("\"code_size\":") && out.contains("\"compile_ns\":"), "{out}");
}

#[test]
fn jit_refuses_malformed_programs_with_the_place() {
    let dir = std::env::temp_dir().join(format!("ebpf-lab-cli-jit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.s");
    std::fs::write(&bad, "r10 = 1\nexit\n").unwrap();
    let o = run(&["jit", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("bad.s:1:1: error: insn 0: frame pointer is read only"));
    let o = run(&["jit", "--json", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("{\"error\":\"insn 0"));
}

#[test]
fn run_on_the_jit_gives_the_interpreters_answer() {
    let args = ["run", "examples/xdp_count.s", "--packet", "examples/udp.pkt", "--json"];
    let interp = run(&args);
    let jit = run(&[&args[..], &["--engine", "jit"]].concat());
    assert!(interp.status.success() && jit.status.success());
    let (a, b) = (String::from_utf8_lossy(&interp.stdout), String::from_utf8_lossy(&jit.stdout));
    assert!(b.contains("\"engine\":\"jit\""), "{b}");
    // Everything but the engine's name and its instruction count (the JIT does not count).
    let strip = |s: &str| {
        let (head, tail) = s.split_once("\"insns_executed\":").expect("has a count");
        format!("{}{}", head.split_once(',').map_or("", |(_, h)| h), tail.split_once(',').map_or("", |(_, t)| t))
    };
    assert_eq!(strip(&a), strip(&b), "\n{a}\n{b}");
}

#[test]
fn jit_names_the_counted_loops_it_guards() {
    let dir = std::env::temp_dir().join(format!("ebpf-lab-cli-jit-loop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("copy.s");
    let src = "r0 = 0\nr3 = 0\nloop:\nr4 = r1\nr4 += r3\nr5 = *(u8 *)(r4 + 0)\n*(u8 *)(r4 + 64) = r5\nr3 += 1\n\
               if r3 < 64 goto loop\nexit\n";
    std::fs::write(&file, src).unwrap();
    let o = run(&["jit", "--stubs", file.to_str().unwrap()]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("counted loop 2-7: the guard at"), "{out}");
    // The copy's load goes straight through the window's host offset in r10.
    assert!(out.contains("movzx r8d,byte ptr [rcx+r10]"), "{out}");
    let o = run(&["jit", "--json", file.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("\"counted_loops\":[{\"head\":2,\"back\":7,\"guard\":"), "{out}");
}
