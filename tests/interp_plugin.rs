//! Spawns the conformance plugin binary the way the reference runner does, on the interpreter
//! and with `--engine jit`.

use ebpf_lab::conformance::{load_dir, program, suite_dir};
use std::io::Write;
use std::process::{Command, Stdio};

fn plugin(mem: Option<&str>, program: &str) -> (bool, String) {
    plugin_on(&[], mem, program)
}

fn plugin_on(extra: &[&str], mem: Option<&str>, program: &str) -> (bool, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bpf-conformance-plugin"));
    if let Some(m) = mem {
        cmd.arg(m);
    }
    cmd.args(extra);
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("plugin starts");
    child.stdin.take().expect("stdin").write_all(program.as_bytes()).expect("write program");
    let out = child.wait_with_output().expect("plugin runs");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[test]
fn returns_r0_in_hex() {
    // mov r0, 0x2a ; exit
    assert_eq!(plugin(None, "b7 00 00 00 2a 00 00 00 95 00 00 00 00 00 00 00"), (true, "2a".into()));
}

#[test]
fn reads_memory_argument() {
    // ldxw r0, [r1+0] ; exit
    assert_eq!(plugin(Some("11223344"), "6110000000000000 9500000000000000"), (true, "44332211".into()));
}

#[test]
fn all_64_bits_of_r0() {
    // lddw r0, 0x1122334455667788 ; exit
    let prog = "18 00 00 00 88 77 66 55 00 00 00 00 44 33 22 11 95 00 00 00 00 00 00 00";
    assert_eq!(plugin(None, prog), (true, "1122334455667788".into()));
}

#[test]
fn runtime_error_exits_nonzero() {
    // ldxdw r0, [r10+0] ; exit   -> reads past the end of the stack
    let (ok, msg) = plugin(None, "79 a0 00 00 00 00 00 00 95 00 00 00 00 00 00 00");
    assert!(!ok);
    assert!(msg.contains("past the end of the stack of frame 0"), "{msg}");
}

#[test]
fn malformed_input_exits_nonzero() {
    let (ok, msg) = plugin(None, "b7 00 0");
    assert!(!ok);
    assert!(msg.contains("odd number of hex digits"), "{msg}");
    let (ok, msg) = plugin(None, "ff 00 00 00 00 00 00 00");
    assert!(!ok);
    assert!(msg.contains("unknown opcode"), "{msg}");
}

#[test]
fn the_jit_runs_through_the_plugin() {
    let prog = "18 00 00 00 88 77 66 55 00 00 00 00 44 33 22 11 95 00 00 00 00 00 00 00";
    assert_eq!(plugin_on(&["--engine", "jit"], None, prog), (true, "1122334455667788".into()));
    let (ok, msg) = plugin_on(&["--engine=jit"], None, "79 a0 00 00 00 00 00 00 95 00 00 00 00 00 00 00");
    assert!(!ok);
    assert!(msg.contains("past the end of the stack of frame 0"), "{msg}");
    let (ok, msg) = plugin_on(&["--engine", "nope"], None, prog);
    assert!(!ok && msg.contains("unknown engine `nope`"), "{msg}");
}

#[test]
fn the_whole_suite_passes_through_the_plugin_on_the_jit() {
    let Some(dir) = suite_dir() else {
        println!("skipped: conformance data not found (../shared/conformance)");
        return;
    };
    let cases = load_dir(&dir.join("bpf_conformance")).expect("suite readable");
    let mut failures = Vec::new();
    for case in &cases {
        let code = program(case).map(|p| p.to_bytes()).unwrap_or_default();
        let hex: String = code.iter().map(|b| format!("{b:02x}")).collect();
        let mem: String = case.mem.iter().map(|b| format!("{b:02x}")).collect();
        let (ok, out) = plugin_on(&["--engine", "jit"], (!mem.is_empty()).then_some(mem.as_str()), &hex);
        let good = match (&case.error, case.result) {
            (Some(_), _) => !ok,
            (None, Some(want)) => ok && u64::from_str_radix(&out, 16) == Ok(want),
            (None, None) => false,
        };
        if !good {
            failures.push(format!("{}: {ok} {out}", case.name));
        }
    }
    assert!(failures.is_empty(), "{} of {} fail:\n{}", failures.len(), cases.len(), failures.join("\n"));
}
