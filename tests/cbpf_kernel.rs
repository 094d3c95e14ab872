//! Classic BPF filters written by `tcpdump -dd` (tests/data/cbpf, compiled for raw IP so offset 0
//! is the IPv4 header, as in an ebpf-lab socket program): the kernel runs each classic program
//! itself (`SO_ATTACH_FILTER` on a datagram socket pair), and every ebpf-lab engine runs its
//! conversion on the same packets. They must agree on every packet.

use ebpf_lab::cbpf::{self, ClassicInsn};
use ebpf_lab::engine::{self, EngineError, EngineOptions};
use ebpf_lab::interp::{Input, SkbFields};
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

fn filters() -> Vec<(String, Vec<ClassicInsn>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/cbpf");
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "dd"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let insns = cbpf::parse(&text).unwrap().into_iter().map(|(i, _)| i).collect();
            (p.file_name().unwrap().to_string_lossy().into_owned(), insns)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 8, "the tcpdump filters are in {}", dir.display());
    out
}

fn checksum(h: &[u8]) -> u16 {
    let mut s: u32 = h.chunks(2).map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]) as u32).sum();
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

/// An IPv4 packet: protocol, ttl, fragment field, source, destination, then the L4 bytes.
fn ipv4(proto: u8, ttl: u8, frag: u16, src: [u8; 4], dst: [u8; 4], l4: &[u8]) -> Vec<u8> {
    let len = (20 + l4.len()) as u16;
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&len.to_be_bytes());
    p.extend_from_slice(&[0x12, 0x34]);
    p.extend_from_slice(&frag.to_be_bytes());
    p.extend_from_slice(&[ttl, proto, 0, 0]);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    let c = checksum(&p);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p.extend_from_slice(l4);
    p
}

fn udp(sport: u16, dport: u16, payload_len: usize) -> Vec<u8> {
    let mut u = sport.to_be_bytes().to_vec();
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&((8 + payload_len) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend(std::iter::repeat_n(0x61, payload_len));
    u
}

fn tcp(sport: u16, dport: u16, flags: u8) -> Vec<u8> {
    let mut t = sport.to_be_bytes().to_vec();
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    t
}

fn packets() -> Vec<(&'static str, Vec<u8>)> {
    let lo = [127, 0, 0, 1];
    let a = [10, 0, 0, 1];
    let b = [10, 0, 0, 2];
    let mut ip6 = vec![0x60, 0, 0, 0, 0, 8, 17, 64];
    ip6.extend_from_slice(&[0; 32]);
    ip6.extend(udp(1000, 53, 0));
    vec![
        ("udp to 53", ipv4(17, 64, 0, a, b, &udp(40000, 53, 12))),
        ("udp from 53", ipv4(17, 64, 0, b, a, &udp(53, 40000, 12))),
        ("udp on lo, long", ipv4(17, 64, 0, lo, lo, &udp(5000, 6000, 200))),
        ("tcp syn to 80", ipv4(6, 64, 0, a, b, &tcp(40000, 80, 0x02))),
        ("tcp ack from 80", ipv4(6, 64, 0, b, a, &tcp(80, 40000, 0x10))),
        ("tcp ack to 22", ipv4(6, 20, 0, a, b, &tcp(50000, 22, 0x10))),
        ("tcp fragment to 80", ipv4(6, 64, 0x0010, a, b, &tcp(40000, 80, 0x02))),
        ("icmp echo", ipv4(1, 64, 0, a, lo, &[8, 0, 0, 0, 0, 1, 0, 1])),
        ("ipv6 udp to 53", ip6),
        ("udp header missing", ipv4(17, 64, 0, a, b, &[])),
    ]
}

/// What a socket receives when its filter returns `r0` for a `len`-byte datagram.
fn delivered(r0: u64, len: usize) -> Option<usize> {
    (r0 as u32 != 0).then(|| len.min(r0 as u32 as usize))
}

/// Sends `packet` through a datagram socket pair whose receiver has the classic `filter`.
fn kernel_classic(filter: &[ClassicInsn], packet: &[u8]) -> Option<usize> {
    let mut fds = [0; 2];
    // SAFETY: fds has room for the two descriptors.
    assert_eq!(unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_DGRAM, 0, fds.as_mut_ptr()) }, 0);
    // SAFETY: fresh descriptors, owned here.
    let (tx, rx) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let code: Vec<libc::sock_filter> =
        filter.iter().map(|i| libc::sock_filter { code: i.code, jt: i.jt, jf: i.jf, k: i.k }).collect();
    let prog = libc::sock_fprog { len: code.len() as u16, filter: code.as_ptr() as *mut _ };
    // SAFETY: prog points to `len` sock_filter entries that outlive the call.
    let r = unsafe {
        libc::setsockopt(
            rx.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            (&prog as *const libc::sock_fprog).cast(),
            std::mem::size_of::<libc::sock_fprog>() as u32,
        )
    };
    assert_eq!(r, 0, "the kernel accepts the classic filter: {}", std::io::Error::last_os_error());
    // SAFETY: packet is readable for its length.
    let sent = unsafe { libc::send(tx.as_raw_fd(), packet.as_ptr().cast(), packet.len(), 0) };
    assert_eq!(sent, packet.len() as isize);
    let mut buf = vec![0u8; 2048];
    // SAFETY: buf is writable for its length. MSG_TRUNC returns the datagram's length as kept
    // by the filter.
    let n =
        unsafe { libc::recv(rx.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT | libc::MSG_TRUNC) };
    (n >= 0).then_some(n as usize)
}

#[test]
fn tcpdump_filters_agree_between_the_kernel_classic_run_and_every_engine() {
    let kernel =
        ebpf_lab::kernel::require_or_skip("tcpdump_filters_agree_between_the_kernel_classic_run_and_every_engine");
    let engines: Vec<&str> = engine::ENGINES.iter().copied().filter(|&e| kernel || e != "kernel").collect();
    let mut compared = 0;
    let mut accepted = 0;
    for (name, filter) in filters() {
        let converted = cbpf::convert(&filter).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        for (what, packet) in packets() {
            // ebpf-lab's socket input is an Ethernet frame whose header the kernel pulls before
            // the program runs; the filter sees the IPv4 packet at offset 0.
            let mut frame = vec![0u8; 12];
            frame.extend_from_slice(&[0x08, 0x00]);
            frame.extend_from_slice(&packet);
            let input = Input::skb(frame, SkbFields::default());
            let want = kernel.then(|| kernel_classic(&filter, &packet));
            for &e in &engines {
                let opened = engine::open(e, &converted.program, &EngineOptions::default(), &input);
                let run = match opened.and_then(|mut eng| eng.run(&input)) {
                    Ok(run) => run,
                    // An engine that says it cannot run legacy packet loads is skipped, loudly.
                    Err(EngineError::Unsupported(why)) => {
                        let _ = writeln!(std::io::stderr(), "skipping engine {e} for {name}: {why}");
                        continue;
                    }
                    Err(err) => panic!("{name}, {what}, on {e}: {err}"),
                };
                let got = delivered(run.outcome.r0, packet.len());
                if let Some(want) = want {
                    assert_eq!(got, want, "{name}, {what}: {e} vs the kernel's classic run");
                    accepted += want.is_some() as usize;
                }
                compared += 1;
            }
        }
    }
    assert!(compared >= 80, "{compared} comparisons");
    if kernel {
        // The packets are chosen so that the filters both keep and drop.
        assert!(accepted > 10 && accepted < compared / 2, "{accepted} of {compared} kept");
    }
}

#[test]
fn bpf_asm_text_converts_and_runs_like_its_tcpdump_twin() {
    let asm = "; IPv4 UDP to port 53, as bpf_asm text\n\
               ldb [0]\n and #0xf0\n jne #0x40, drop\n ldb [9]\n jneq #17, drop\n\
               ldh [6]\n jset #0x1fff, drop\n ldxb 4*([0]&0xf)\n ldh [x + 2]\n jeq #53, keep, drop\n\
               keep: ret #65535\ndrop: ret #0\n";
    let prog: Vec<ClassicInsn> = cbpf::parse(asm).unwrap().into_iter().map(|(i, _)| i).collect();
    let converted = cbpf::convert(&prog).unwrap();
    for (what, packet) in packets() {
        let mut frame = vec![0u8; 12];
        frame.extend_from_slice(&[0x08, 0x00]);
        frame.extend_from_slice(&packet);
        let input = Input::skb(frame, SkbFields::default());
        let mut vm = ebpf_lab::interp::Vm::new(&converted.program).unwrap();
        let r0 = vm.run(&input).unwrap().r0;
        let want = what == "udp to 53";
        assert_eq!(r0 == 65535, want, "{what}: r0 = {r0}");
    }
}
