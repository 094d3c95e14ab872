//! The `ebpf-lab` command line as a user meets it: exit codes (0 ok, 1 the program is wrong,
//! 2 bad input), diagnostics that name file:line:col, nothing half-written, and the README's
//! commands working as written.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ebpf-lab"));
    c.current_dir(env!("CARGO_MANIFEST_DIR")).env("NO_COLOR", "1");
    c
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("ebpf-lab runs")
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ebpf-lab-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn write(name: &str, content: &str) -> PathBuf {
    let p = scratch(name);
    std::fs::write(&p, content).unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn asm_then_disasm_round_trips_in_both_syntaxes() {
    let bin_path = scratch("sum.bin");
    let o = run(&["asm", "examples/sum.s", "-o", s(&bin_path)]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let original = std::fs::read(&bin_path).unwrap();
    assert_eq!(original.len(), 10 * 8);
    for syntax in ["llvm", "ubpf"] {
        let o = run(&["disasm", s(&bin_path), "--syntax", syntax]);
        assert_eq!(o.status.code(), Some(0));
        let listing = write(&format!("sum.{syntax}.s"), &text(&o).0);
        let again = scratch(&format!("sum.{syntax}.bin"));
        let o = run(&["asm", s(&listing), "-o", s(&again)]);
        assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
        assert_eq!(std::fs::read(&again).unwrap(), original, "{syntax} listing did not reassemble identically");
    }
}

#[test]
fn assembly_errors_exit_2_name_the_place_and_write_nothing() {
    let src = write("bad.s", "r0 = 1\nr11 = 2\nif r0 > 1 goto nowhere\nexit\n");
    let out = scratch("bad.bin");
    let _ = std::fs::remove_file(&out);
    let o = run(&["asm", s(&src), "-o", s(&out)]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("bad.s:2:1: error:"), "{err}");
    assert!(err.contains("r11 = 2"), "the line is quoted: {err}");
    assert!(err.contains("bad.s:3:16: error: unknown label `nowhere`"), "{err}");
    assert!(!out.exists(), "a failed assembly must not leave an output file");
    assert!(!err.contains('\u{1b}'), "NO_COLOR is honoured");
}

#[test]
fn usage_and_unreadable_files_exit_2() {
    assert_eq!(run(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(run(&["run"]).status.code(), Some(2));
    let o = run(&["disasm", "/nonexistent/prog.bin"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("/nonexistent/prog.bin"));
    let odd = write("odd.bin", "");
    std::fs::write(&odd, [0x95u8, 0, 0, 0, 0, 0, 0, 0, 0x8f, 0, 0, 0, 0, 0, 0, 0]).unwrap();
    let o = run(&["disasm", s(&odd)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("insn 1: unknown opcode 8f"), "{:?}", text(&o));
    assert_eq!(run(&["--help"]).status.code(), Some(0));
}

#[test]
fn run_prints_r0_and_changed_maps() {
    let o = run(&["run", "examples/xdp_count.s", "--packet", "examples/udp.pkt"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(out.starts_with("r0 = 0x2 (2)  XDP_PASS\n"), "{out}");
    assert!(out.contains("map counts (array, key 4 B, value 8 B): 1 changed"), "{out}");
    assert!(out.contains("[17 (0x11)] 0 -> 1"), "{out}");
    let o = run(&["run", "examples/sum.s", "--mem", "01 02 03 04", "--json"]);
    let (out, _) = text(&o);
    assert!(out.contains("\"r0\":10,"), "{out}");
    assert!(out.contains("\"engine\":\"interp\""), "{out}");
}

#[test]
fn map_prefill_and_trace() {
    let o = run(&["run", "examples/xdp_count.s", "--packet", "examples/udp.pkt", "--map", "counts:17=41", "--trace"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(out.contains("[17 (0x11)] 41 (0x29) -> 42 (0x2a)"), "{out}");
    // The trace speaks the kernel verifier log's words, register values included.
    assert!(out.contains("  0: (61) r2 = *(u32 *)(r1 +4) ; R2="), "{out}");
    assert!(out.contains(": (85) call bpf_map_lookup_elem#1 ; R0="), "{out}");
    assert!(out.contains(": (b7) r0 = 2 ; R0=2"), "{out}");
    let o = run(&["run", "examples/xdp_count.s", "--map", "nope:1=2"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("no map `nope`"));
}

#[test]
fn runtime_errors_exit_1_with_a_caret_on_the_line() {
    let src = write("oob.s", "r1 = 0\nr0 = *(u64 *)(r10 - 600)\nexit\n");
    // The verifier refuses it first, as the kernel would...
    let o = run(&["run", s(&src)]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("oob.s:2:1: error: the verifier rejects the program: invalid read from stack R10 off=-600 size=8"),
        "{err}"
    );
    assert!(err.contains("not run: pass --unverified"), "{err}");
    // ... and with --unverified the interpreter's run-time check shows what would happen.
    let o = run(&["run", s(&src), "--unverified"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("oob.s:2:1: error: insn 1: invalid read of 8 bytes"), "{err}");
    assert!(err.contains("before the start of the stack of frame 0"), "{err}");
    let spin = write("spin.s", "l: goto l\n");
    let o = run(&["run", s(&spin), "--budget", "1000", "--unverified"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).1.contains("budget"), "{:?}", text(&o));
}

#[test]
fn check_agrees_on_the_examples_and_flags_rejections() {
    if !ebpf_lab::kernel::require_or_skip("check_agrees_on_the_examples") {
        return;
    }
    for args in [
        &["check", "examples/xdp_count.s", "--packet", "examples/udp.pkt"][..],
        &["check", "examples/syscount.s", "--ctx", "__syscall_nr=59"][..],
        &["check", "examples/sum.s", "--mem", "01 02 03 04"][..],
        &["check", "examples/conformance_style.s"][..],
    ] {
        let o = run(args);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(0), "{args:?}\n{out}\n{err}");
        assert!(out.contains("all engines agree"), "{out}");
    }
    // The verifier does not learn bounds from comparing two pointers, so walking the buffer to
    // an end pointer is refused where the interpreter runs it.
    let o = run(&["check", "examples/sum_ptr.s", "--mem", "01 02 03 04"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("REJECTED: invalid access to map value"), "{out}");
    assert!(err.contains("sum_ptr.s:11:9: error: the kernel verifier rejected the program"), "{err}");
    // An xdp_md with a non-default ingress interface goes to the kernel as ctx_in.
    let ifx = write("ifindex.s", ".prog xdp\nr0 = *(u32 *)(r1 + 12)\nexit\n");
    let o = run(&["check", s(&ifx), "--ctx", "ingress_ifindex=2", "--json"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    assert!(out.contains("\"agree\":true"), "{out}");
    assert_eq!(out.matches("\"r0\":2,").count(), 2, "both engines read ifindex 2: {out}");
    let src = write("uninit.s", ".prog xdp\nr0 = 1\nr0 += r3\nexit\n");
    let o = run(&["check", s(&src)]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert!(out.contains("REJECTED: R3 !read_ok"), "{out}");
    assert!(err.contains("uninit.s:3:1: error: the kernel verifier rejected the program: R3 !read_ok"), "{err}");
    let o = run(&["check", s(&src), "--json"]);
    assert!(text(&o).0.contains("\"agree\":false"));
}

#[test]
fn an_object_file_section_is_chosen_with_a_colon() {
    // Any file works for the split; a missing section names the ones there are.
    let src = write("plain.s", "r0 = 0\nexit\n");
    let o = run(&["disasm", &format!("{}:nope", s(&src))]);
    assert_eq!(o.status.code(), Some(2), "{:?}", text(&o));
    let o = run(&["disasm", "/nonexistent/x.o:xdp"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("/nonexistent/x.o:xdp"), "an unsplittable path is reported whole: {:?}", text(&o));
}

#[test]
fn check_without_privileges_exits_2_and_says_why() {
    // Needs root to drop to an unprivileged user; elsewhere the unprivileged path is the default.
    let is_root = std::fs::read_to_string("/proc/self/status")
        .map(|s| s.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false);
    if !is_root || !Path::new("/usr/bin/setpriv").exists() {
        println!("skipping: needs root and setpriv to run as an unprivileged user");
        return;
    }
    let o = Command::new("/usr/bin/setpriv")
        .args(["--reuid", "65534", "--regid", "65534", "--clear-groups", env!("CARGO_BIN_EXE_ebpf-lab")])
        .args(["check", "examples/xdp_count.s"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .expect("setpriv runs");
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("error: the kernel is unavailable: bpf(2) not permitted"), "{err}");
}
