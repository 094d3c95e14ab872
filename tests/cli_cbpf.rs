//! `ebpf-lab cbpf` as a user meets it: each classic instruction beside its eBPF, a converted
//! program `run` takes, and errors that name the line.

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ebpf-lab"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .expect("ebpf-lab runs")
}

fn scratch(name: &str, content: &str) -> String {
    let dir = std::env::temp_dir().join(format!("ebpf-lab-cbpf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn cbpf_shows_each_classic_insn_with_its_ebpf_and_writes_a_runnable_program() {
    let out_s = scratch("udp53.s", "");
    let o = run(&["cbpf", "tests/data/cbpf/udp_dst_port_53.dd", "-o", &out_s]);
    assert!(o.status.success(), "{o:?}");
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("(014) ldxb 4*([0]&0xf)\n"), "{text}");
    assert!(text.contains(": r7 = r0\n"), "ldxb saves A in X first: {text}");
    assert!(text.contains("(015) ldh [x + 2]\n"), "{text}");
    assert!(text.contains("r0 = *(u16 *)skb[r7 + 0x2]"), "ld [x + k] is LD_IND: {text}");
    // The converted program runs: a UDP datagram to port 53 in an Ethernet frame.
    let mut frame = vec![0u8; 12];
    frame.extend_from_slice(&[0x08, 0x00, 0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    frame.extend_from_slice(&[0x9c, 0x40, 0, 53, 0, 8, 0, 0]);
    let pkt = scratch("udp53.pkt", "");
    std::fs::write(&pkt, &frame).unwrap();
    let o = run(&["run", &out_s, "--packet", &pkt, "--json"]);
    let json = String::from_utf8_lossy(&o.stdout);
    assert!(json.contains("\"r0\":65535"), "{json} {}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn cbpf_errors_name_the_line_and_json_says_so_too() {
    let f = scratch("bad.bpf", "ldh [12]\njeq #0x800, ok\nret #0\n");
    let o = run(&["cbpf", &f]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad.bpf:2:1") && err.contains("no label `ok`"), "{err}");
    let f = scratch("mem.bpf", "ldx #1\nld M[2]\nret a\n");
    let o = run(&["cbpf", &f, "--json"]);
    assert_eq!(o.status.code(), Some(1), "the classic checker refuses it");
    let json = String::from_utf8_lossy(&o.stdout);
    assert!(json.contains("M[2] is read before anything is stored in it") && json.contains("mem.bpf:2:1"), "{json}");
}
