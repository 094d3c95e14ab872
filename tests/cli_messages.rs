//! Messages that point the right way: each said once, with help chosen from what went wrong,
//! bad input named as such (exit 2), and `--json` answering in JSON also when the run fails.

use std::path::PathBuf;
use std::process::{Command, Output};

fn scratch(name: &str, content: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ebpf-lab-messages-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

fn run(args: &[&str]) -> (i32, String, String) {
    let o: Output =
        Command::new(env!("CARGO_BIN_EXE_ebpf-lab")).args(args).env("NO_COLOR", "1").output().expect("ebpf-lab runs");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

fn p(path: &std::path::Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn bad_input_exits_2_with_the_right_words() {
    let empty = scratch("empty.s", b"");
    for cmd in ["asm", "run", "disasm"] {
        let (code, _, err) = run(&[cmd, p(&empty)]);
        assert_eq!(code, 2, "{cmd}: {err}");
        assert!(err.contains("the program is empty"), "{cmd}: {err}");
    }
    let not_elf = scratch("hello.o", b"hello world\n");
    let (code, _, err) = run(&["run", p(&not_elf)]);
    assert_eq!(code, 2);
    assert!(err.contains("not an ELF object"), "{err}");
    // A `.bin` that uses a map cannot declare it.
    let with_map = scratch("map.s", b".map counts array key=4 value=8 max=4\nr1 = map(counts) ll\nr0 = 0\nexit\n");
    let bin = with_map.with_extension("bin");
    assert_eq!(run(&["asm", p(&with_map), "-o", p(&bin)]).0, 0);
    let (code, _, err) = run(&["run", p(&bin)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("uses map #0") && err.contains(".map NAME TYPE"), "{err}");
    // Reading it needs no map declarations.
    assert_eq!(run(&["disasm", p(&bin)]).0, 0);
    let two = scratch("two.s", b"r0 = 2\nexit\n");
    let two_bin = two.with_extension("bin");
    assert_eq!(run(&["asm", p(&two), "-o", p(&two_bin)]).0, 0);
    let (code, _, err) = run(&["run", "--packet-hex", "ffff", p(&two_bin)]);
    assert_eq!(code, 2);
    assert!(err.contains("--prog-type xdp"), "{err}");
    let (code, _, err) = run(&["check", "--prog-type", "xdp", "--packet-hex", "ffff", p(&two)]);
    assert_eq!(code, 2);
    assert!(err.contains("at least 14 bytes"), "{err}");
    let (code, out, _) = run(&["check", "--json", "--prog-type", "xdp", "--packet-hex", "ffff", p(&two)]);
    assert_eq!(code, 2);
    assert!(out.starts_with("{\"agree\":false,\"error\":\"the packet is 2 bytes"), "{out}");
    let (code, _, err) = run(&["run", "--mem", "123", p(&two)]);
    assert_eq!(code, 2);
    assert!(err.contains("odd number of hex digits") && !err.contains("at byte"), "{err}");
    let (code, _, err) = run(&["run", "--map", "counts:1=0x1ffffffffffffffff", p(&with_map)]);
    assert_eq!(code, 2);
    assert!(err.contains("does not fit in 8 bytes"), "{err}");
}

#[test]
fn wording() {
    let (_, _, err) = run(&["asm", p(&scratch("ml.s", b"call bpf_map_lookup\nexit\n"))]);
    assert!(err.contains("did you mean `bpf_map_lookup_elem`?"), "{err}");
    let (_, _, err) = run(&["run", p(&scratch("op.hex", b"70 00 00 00 00 00 00 00\n95 00 00 00 00 00 00 00\n"))]);
    assert!(err.contains("unknown opcode 0x70"), "{err}");
    let (_, _, err) = run(&["run", p(&scratch("alu64.hex", b"07 00 01 00 00 00 00 00\n95 00 00 00 00 00 00 00\n"))]);
    assert!(err.contains("BPF_ALU64 uses reserved fields"), "{err}");
    // Run unverified: the verifier refuses a number used as a pointer before it runs.
    let (_, _, err) =
        run(&["run", "--unverified", p(&scratch("wild.s", b"r1 = 0x44332211\nr0 = *(u8 *)(r1 + 0)\nexit\n"))]);
    assert!(err.contains("invalid read of 1 byte at 0x44332211") && err.contains("wild pointer"), "{err}");
    assert!(!err.contains("frame 7"), "{err}");
    // Said once: the message is on the first line only, not again as a header or a label.
    assert_eq!(err.matches("invalid read of 1 byte").count(), 1, "{err}");
}

#[test]
fn run_json_is_json_also_on_failure() {
    let wild = scratch("wild_json.s", b"r1 = 0x44332211\nr0 = *(u8 *)(r1 + 0)\nexit\n");
    let (code, out, _) = run(&["run", "--json", "--unverified", p(&wild)]);
    assert_eq!(code, 1);
    assert!(out.starts_with("{\"engine\":\"interp\",\"ok\":false,\"error\":\"insn 1"), "{out}");
    // Bad input too.
    let (code, out, _) = run(&["run", "--json", p(&scratch("empty_json.s", b""))]);
    assert_eq!(code, 2);
    assert!(
        out.contains("\"ok\":false") && out.contains("the program is empty") && out.contains("\"exit\":2"),
        "{out}"
    );
    if ebpf_lab::kernel::require_or_skip("run_json_is_json_also_on_failure") {
        let two = scratch("two_json.s", b"r0 = 2\nexit\n");
        let (code, out, _) = run(&["run", "--json", "--engine", "kernel", p(&two)]);
        assert_eq!(code, 0);
        assert!(out.contains("\"insns_executed\":null"), "{out}");
        let no_r0 = scratch("nor0_json.s", b"r1 = 5\nexit\n");
        let (code, out, _) = run(&["run", "--json", "--engine", "kernel", p(&no_r0)]);
        assert_eq!(code, 1);
        assert!(out.contains("\"error\":\"the kernel verifier rejected the program: R0 !read_ok\""), "{out}");
    }
}

#[test]
fn kernel_help_follows_the_message() {
    if !ebpf_lab::kernel::require_or_skip("kernel_help_follows_the_message") {
        return;
    }
    let cases: [(&[u8], &str); 4] = [
        (b"r0 = 1\nr0 /= 0\nexit\n", "constant 0"),
        (b"r0 = 0\nl:\nif r0 == 0 goto l\nexit\n", "can run forever"),
        (b"r0 = 0\ncall f\nexit\nf:\ncall f\nexit\n", "at most 8 frames"),
        (b"r0 = 0\nr0 += r3\nexit\n", "only r1 and r10"),
    ];
    for (i, (src, help)) in cases.into_iter().enumerate() {
        let (code, out, err) = run(&["check", p(&scratch(&format!("k{i}.s"), src))]);
        assert_eq!(code, 1, "{err}");
        assert!(err.contains(help), "{}: {err}", String::from_utf8_lossy(src));
        // The reason is said once on stderr; the difference list only says who rejected.
        assert!(out.contains("kernel: rejected the program"), "{out}");
        assert_eq!(err.matches("the kernel verifier rejected the program").count(), 1, "{err}");
    }
    // Structural rejections that name no instruction still point at the guilty one.
    let no_exit = scratch("noexit.s", b"r0 = 0\nr0 += 1\n");
    let (_, _, err) = run(&["check", p(&no_exit)]);
    assert!(err.contains("noexit.s:2:1: error: the kernel verifier rejected the program: last insn"), "{err}");
    let bad_call = scratch("badcall.s", b"mov %r0, 0\ncall local +5\nexit\n");
    let (_, _, err) = run(&["check", p(&bad_call)]);
    assert!(err.contains("badcall.s:2:1: error: the kernel verifier rejected the program: call to invalid"), "{err}");
}
