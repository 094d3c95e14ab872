//! The C corpus of `tests/c`: small programs written the way real projects write them (global
//! data, CO-RE, legacy packet loads, the test run's skb and socket, every program type ebpf-lab
//! models and the skb helpers that change the packet), compiled with clang-19 and held against
//! the kernel: the kernel accepts every program, and interpreter and kernel agree on r0, every
//! map and the packet after each of several runs on packets (or contexts made from them) of
//! every kind.

mod c_common;
use c_common::{clang_or_skip, compile_c};
use ebpf_lab::elf::program_from_elf;
use ebpf_lab::engine::{self, EngineOptions};
use ebpf_lab::interp::{Input, SkbFields};
use ebpf_lab::kernel;
use ebpf_lab::program::{MapType, ProgType};
use ebpf_lab::runtime::ctx::ctx_layout;
use std::path::Path;

/// Frames that take each program down its different paths: IPv4 UDP and TCP to other hosts,
/// IPv4 to this host, IPv6 multicast, ARP, an 802.3 LLC frame, a TTL-1 packet, a long one, and a
/// bare Ethernet header (of ARP: the test run refuses an IP EtherType without an IP header).
fn packets() -> Vec<(&'static str, Vec<u8>)> {
    let ipv4 = |dst: [u8; 6], proto: u8, ttl: u8, len: usize| {
        let mut p = vec![0u8; len];
        p[..6].copy_from_slice(&dst);
        p[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 2]);
        p[12..14].copy_from_slice(&[0x08, 0x00]);
        p[14..34].copy_from_slice(&[0x45, 0, 0, 46, 0, 0, 0x40, 0, ttl, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        p
    };
    let other = |dst: [u8; 6], ethertype: [u8; 2]| {
        let mut p: Vec<u8> = (0..60).collect();
        p[..6].copy_from_slice(&dst);
        p[12..14].copy_from_slice(&ethertype);
        p
    };
    vec![
        ("udp.pkt", std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/udp.pkt")).unwrap()),
        ("IPv4 UDP to another host", ipv4([2, 0, 0, 0, 0, 1], 17, 64, 60)),
        ("IPv4 TCP to this host", ipv4([0; 6], 6, 64, 60)),
        ("IPv4 ICMP, TTL 1", ipv4([0; 6], 1, 1, 60)),
        ("IPv4 UDP, 150 bytes", ipv4([2, 0, 0, 0, 0, 1], 17, 64, 150)),
        ("IPv6 multicast", other([0x33, 0x33, 0, 0, 0, 1], [0x86, 0xdd])),
        ("ARP broadcast", other([0xff; 6], [0x08, 0x06])),
        ("802.3 LLC", other([0; 6], [0x00, 0x30])),
        ("bare Ethernet header", other([0; 6], [0x08, 0x06])[..14].to_vec()),
        ("802.1Q-tagged IPv4", {
            let mut p = ipv4([2, 0, 0, 0, 0, 1], 17, 64, 64);
            p.splice(12..12, [0x81, 0x00, 0x00, 0x64]);
            p
        }),
    ]
}

/// A context for the program types that take one instead of a packet, made from a packet's
/// bytes so that each packet gives another: `pt_regs`, raw tracepoint arguments and `bpf_sock`
/// are the bytes themselves; an sk_lookup is a valid lookup (the kernel refuses others) whose
/// family, protocol, addresses and port come from the frame.
fn ctx_from(prog_type: ProgType, packet: &[u8]) -> Vec<u8> {
    let size = ctx_layout(prog_type).unwrap().size as usize;
    if prog_type != ProgType::SkLookup {
        let mut c: Vec<u8> = packet.iter().copied().cycle().take(size).collect();
        c.resize(size, 0);
        return c;
    }
    let byte = |i: usize| packet.get(i).copied().unwrap_or(0);
    let word = |i: usize| u32::from_le_bytes([byte(i), byte(i + 1), byte(i + 2), byte(i + 3)]);
    let mut c = vec![0u8; size];
    let v6 = byte(12) == 0x86;
    c[8..12].copy_from_slice(&(if v6 { 10u32 } else { 2 }).to_le_bytes());
    c[12..16].copy_from_slice(&(if byte(23) == 6 { 6u32 } else { 17 }).to_le_bytes());
    c[16..20].copy_from_slice(&word(26).to_le_bytes());
    c[20..36].copy_from_slice(&packet.get(22..38).map_or(vec![0; 16], <[u8]>::to_vec));
    c[36..38].copy_from_slice(&[byte(34), byte(35)]);
    c[40..44].copy_from_slice(&word(30).to_le_bytes());
    c[60..64].copy_from_slice(&u32::from(u16::from_be_bytes([byte(36), byte(37)]) % 16).to_le_bytes());
    c
}

fn input(prog_type: ProgType, packet: Vec<u8>) -> Input {
    match prog_type {
        ProgType::Xdp => Input::xdp(packet),
        t if t.is_skb() => Input::skb(packet, SkbFields::default()),
        ProgType::Kprobe | ProgType::RawTracepoint | ProgType::CgroupSock | ProgType::SkLookup => {
            Input::Ctx(ctx_from(prog_type, &packet))
        }
        other => panic!("the corpus has no {other} programs"),
    }
}

#[test]
fn every_corpus_program_is_accepted_and_every_engine_agrees() {
    if !clang_or_skip("every_corpus_program_is_accepted_and_every_engine_agrees")
        || !kernel::require_or_skip("every_corpus_program_is_accepted_and_every_engine_agrees")
    {
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "c"));
    files.sort();
    assert!(files.len() >= 13, "the corpus is in {}", dir.display());
    let mut runs = 0;
    for file in &files {
        let name = file.file_stem().unwrap().to_str().unwrap();
        let o = compile_c(name, &std::fs::read_to_string(file).unwrap());
        let p = program_from_elf(name, &std::fs::read(o).unwrap(), None).unwrap_or_else(|e| panic!("{e}"));
        let first = input(p.prog_type, packets()[0].1.clone());
        // As `check` does: per-CPU maps hold one value per possible CPU of this machine.
        let run = ebpf_lab::interp::RunOptions { ncpus: kernel::possible_cpus() as u32, ..Default::default() };
        let opts = EngineOptions { run, ..EngineOptions::default() };
        let mut interp = engine::open("interp", &p, &opts, &first).unwrap();
        let mut jit = engine::open("jit", &p, &opts, &first).unwrap();
        let mut kern = engine::open("kernel", &p, &opts, &first).unwrap_or_else(|e| panic!("{name}: {e}"));
        for (what, packet) in packets() {
            if p.prog_type != ProgType::Xdp && packet.len() < 14 {
                continue;
            }
            let inp = input(p.prog_type, packet);
            let i = interp.run(&inp).unwrap_or_else(|e| panic!("{name} on {what}: interp: {e}"));
            let k = kern.run(&inp).unwrap_or_else(|e| panic!("{name} on {what}: kernel: {e}"));
            let mask = if k.r0_bits == 64 { u64::MAX } else { (1 << k.r0_bits) - 1 };
            assert_eq!(i.outcome.r0 & mask, k.outcome.r0 & mask, "{name} on {what}: r0");
            assert_eq!(i.outcome.packet_out, k.outcome.packet_out, "{name} on {what}: packet out");
            // The JIT runs through the same helpers: it must agree with the interpreter, redirect
            // target included (the kernel's test run does not report that one).
            let j = jit.run(&inp).unwrap_or_else(|e| panic!("{name} on {what}: jit: {e}"));
            assert_eq!(j.outcome.r0, i.outcome.r0, "{name} on {what}: jit r0");
            assert_eq!(j.outcome.redirect(), i.outcome.redirect(), "{name} on {what}: jit redirect");
            // The kernel's perf event records and AF_XDP sockets are not read back.
            for m in p.maps.iter().filter(|m| !matches!(m.map_type, MapType::PerfEventArray | MapType::Xskmap)) {
                let sorted = |mut e: Vec<(Vec<u8>, Vec<u8>)>| {
                    e.sort();
                    e
                };
                assert_eq!(
                    interp.map_entries(&m.name).map(sorted),
                    kern.map_entries(&m.name).map(sorted),
                    "{name} on {what}: map {}",
                    m.name
                );
                assert_eq!(
                    interp.map_entries(&m.name),
                    jit.map_entries(&m.name),
                    "{name} on {what}: jit map {}",
                    m.name
                );
            }
            runs += 1;
        }
    }
    assert!(runs >= 100, "only {runs} runs compared");
}
