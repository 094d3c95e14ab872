//! A closed pipe (`ebpf-lab ... | head -1`) ends every printing command quietly: no
//! "Broken pipe" panic, no message, no exit code 101.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// A long program: 20,000 instructions that run (for `--trace`) and print (for `disasm`).
fn big_program() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ebpf-lab-pipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("big.s");
    // r0 set first, so the verifier accepts it (run verifies before it runs).
    let mut text = String::from("r0 = 0\n");
    text.extend((0..20000).map(|i| format!("r0 += {i}\n")));
    text.push_str("exit\n");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `ebpf-lab args`, reads one line of its output and closes the pipe.
fn head_1(args: &[&str]) -> (std::process::ExitStatus, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ebpf-lab"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    // The reader is gone: the rest of the output goes to a closed pipe.
    let out = child.wait_with_output().unwrap();
    assert!(!first.is_empty());
    (out.status, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let big = big_program();
    let big = big.to_str().unwrap();
    let mut cases = vec![vec!["disasm", big], vec!["run", "--trace", big]];
    if ebpf_lab::kernel::require_or_skip("a_closed_pipe_ends_quietly (check --log)") {
        cases.push(vec!["check", "--log", big]);
    }
    for args in cases {
        let (status, stderr) = head_1(&args);
        assert_ne!(status.code(), Some(101), "{args:?} panicked: {stderr}");
        assert!(!stderr.contains("Broken pipe") && !stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}
