//! Classic BPF: programs read in both notations, converted by the kernel's rules, and judged by
//! the kernel itself — the classic program attached with `SO_ATTACH_FILTER` to a Unix datagram
//! socket pair (the kernel converts and runs it) against ebpf-lab's conversion run on every
//! engine, message by message.

use ebpf_lab::cbpf;
use ebpf_lab::engine::{self, EngineOptions};
use ebpf_lab::interp::{Input, SkbFields};
use ebpf_lab::program::{ProgType, Program};

/// Classic programs covering every instruction family the conversion handles.
const PROGRAMS: &[(&str, &str)] = &[
    ("first byte is 0x45", "ldb [0]\njeq #0x45, keep, drop\nkeep: ret #1000\ndrop: ret #0\n"),
    ("length", "ld #len\nret a\n"),
    ("half words, jset", "ldh [2]\njset #0x8000, big\nret #3\nbig: ldh [4]\nret a\n"),
    ("word, unsigned compare with a big constant", "ld [0]\njgt #0x80000000, yes, no\nyes: ret #7\nno: ret #9\n"),
    ("header length via ldxb, indirect load", "ldxb 4*([0]&0xf)\nldb [x + 1]\nadd #1\nret a\n"),
    (
        "ALU on A and X, scratch memory",
        "ld #100\nst M[3]\nldb [1]\ntax\nld M[3]\nsub x\nmul #3\nand #0xff\nor #1\nxor #2\nlsh #1\nrsh #1\nret a\n",
    ),
    ("division by X: 0 when X is 0", "ldb [1]\ntax\nld #1000\ndiv x\nret a\n"),
    ("modulo, neg, txa", "ldb [2]\nadd #1\ntax\nld #77\nmod x\nneg\nand #0x7f\ntxa\nret a\n"),
    ("ja and jge", "ldb [3]\njge #128, high\nja low\nhigh: ret #2\nlow: ret #1\n"),
];

/// Deterministic pseudo-random messages of 1 to 48 bytes (byte 0 often 0x45).
fn messages() -> Vec<Vec<u8>> {
    let mut seed: u64 = 0x5eed;
    let mut next = || {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) as u8
    };
    (0..40)
        .map(|i| {
            let len = 1 + (next() as usize % 48);
            let mut m: Vec<u8> = (0..len).map(|_| next()).collect();
            if i % 2 == 0 {
                m[0] = 0x45;
            }
            m
        })
        .collect()
}

/// What the kernel delivers through a socket pair filtered by `prog`: `None` when dropped,
/// else the received length.
fn kernel_delivers(prog: &[cbpf::ClassicInsn], msg: &[u8]) -> Option<usize> {
    let mut fds = [0i32; 2];
    // SAFETY: socketpair writes two descriptors into `fds`.
    assert_eq!(unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_DGRAM, 0, fds.as_mut_ptr()) }, 0);
    let filter: Vec<libc::sock_filter> =
        prog.iter().map(|c| libc::sock_filter { code: c.code, jt: c.jt, jf: c.jf, k: c.k }).collect();
    let fprog = libc::sock_fprog { len: filter.len() as u16, filter: filter.as_ptr() as *mut _ };
    // SAFETY: `fprog` points at `filter`, alive for the call.
    let rc = unsafe {
        libc::setsockopt(
            fds[1],
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            &fprog as *const _ as *const libc::c_void,
            std::mem::size_of::<libc::sock_fprog>() as u32,
        )
    };
    assert_eq!(rc, 0, "SO_ATTACH_FILTER: {}", std::io::Error::last_os_error());
    // SAFETY: plain send/recv on our own descriptors with buffers of the given lengths.
    let got = unsafe {
        assert_eq!(libc::send(fds[0], msg.as_ptr() as *const _, msg.len(), 0), msg.len() as isize);
        let mut buf = [0u8; 256];
        libc::recv(fds[1], buf.as_mut_ptr() as *mut _, buf.len(), libc::MSG_DONTWAIT)
    };
    // SAFETY: closing the descriptors socketpair gave us.
    unsafe {
        libc::close(fds[0]);
        libc::close(fds[1]);
    }
    (got >= 0).then_some(got as usize)
}

#[test]
fn the_kernel_running_classic_bpf_agrees_with_ebpf_labs_conversion_on_every_engine() {
    // The classic side needs no privilege; the kernel engine does.
    let with_kernel_engine = ebpf_lab::kernel::require_or_skip("cbpf: the converted program on the kernel engine");
    let options = EngineOptions::default();
    let mut compared = 0;
    for (name, text) in PROGRAMS {
        let parsed = cbpf::parse(text).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let converted = cbpf::convert(&parsed.insns).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let program = Program { insns: converted.insns, prog_type: ProgType::Socket, ..Program::default() };
        for msg in messages() {
            let want = kernel_delivers(&parsed.insns, &msg);
            // A socket filter's packet starts after the Ethernet header: put one in front.
            let mut frame = vec![0u8; 12];
            frame.extend([0x88, 0xb5]); // the local experimental EtherType: no IP header expected
            frame.extend(&msg);
            let input = Input::skb(frame, SkbFields::default());
            for &engine_name in engine::ENGINES {
                if engine_name == "kernel" && !with_kernel_engine {
                    continue;
                }
                let run = engine::open(engine_name, &program, &options, &input)
                    .and_then(|mut e| e.run(&input))
                    .unwrap_or_else(|e| panic!("{name} on {engine_name}: {e}"));
                let r0 = run.outcome.r0 as u32 as usize;
                let ours = (r0 != 0).then(|| r0.min(msg.len()));
                assert_eq!(ours, want, "{name} on {engine_name}, message {msg:02x?}: r0 = {r0}");
                compared += 1;
            }
        }
    }
    assert!(compared >= PROGRAMS.len() * 40);
}

#[test]
fn the_cli_lists_the_conversion_and_runs_it() {
    let dir = std::env::temp_dir().join(format!("ebpf-lab-cbpf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dd = dir.join("ip_udp.dd");
    std::fs::write(
        &dd,
        "{ 0x28, 0, 0, 0x0000000c },\n{ 0x15, 0, 3, 0x00000800 },\n{ 0x30, 0, 0, 0x00000017 },\n\
         { 0x15, 0, 1, 0x00000011 },\n{ 0x6, 0, 0, 0x00040000 },\n{ 0x6, 0, 0, 0x00000000 },\n",
    )
    .unwrap();
    let out_s = dir.join("ip_udp.s");
    let udp = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/udp.pkt");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ebpf-lab"))
        .env("NO_COLOR", "1")
        .args(["cbpf", dd.to_str().unwrap(), "--packet", udp.to_str().unwrap(), "-o", out_s.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("  1: jeq #0x800, 2, 5    4: if r0 != 0x800 goto +0x4"), "{stdout}");
    assert!(stdout.contains("interp: r0 = 262144"), "{stdout}");
    let asm = std::fs::read_to_string(&out_s).unwrap();
    assert!(asm.contains(".prog tc") && asm.contains("r0 = *(u8 *)skb[0x17]"), "{asm}");

    // A bad line is named with its place, exit 2.
    std::fs::write(&dd, "ldh [12]\njeq #0x800, nowhere\nret #0\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ebpf-lab"))
        .env("NO_COLOR", "1")
        .args(["cbpf", dd.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ip_udp.dd:2:13"), "{:?}", out);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ebpf-lab"))
        .env("NO_COLOR", "1")
        .args(["cbpf", dd.to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), r#"{"error":"no label `nowhere`","line":2,"column":13}"#);
    let _ = std::fs::remove_dir_all(&dir);
}
