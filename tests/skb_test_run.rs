//! What `BPF_PROG_TEST_RUN` really does for socket filters and tc programs, held against the
//! running kernel: every readable `__sk_buff` field on frames that steer `eth_type_trans` down
//! each of its paths, the packet a socket filter's run hands back (the link-layer header pushed
//! back, zeroed), the dummy socket `__sk_buff.sk` points to, and the legacy packet loads'
//! negative offsets (`SKF_NET_OFF`, `SKF_LL_OFF`).

mod interp_common;
use ebpf_lab::interp::{Input, SkbFields};
use ebpf_lab::kernel;
use ebpf_lab::program::ProgType;
use ebpf_lab::runtime::ctx::{ctx_layout, FieldKind};
use interp_common::{both, llvm, open, run_ok};

/// A 60-byte frame: destination MAC `dst`, source 02:..:02, EtherType `ethertype`, then an IPv4
/// header (TTL 64, UDP, 10.0.0.1 -> 10.0.0.2) and a payload of counting bytes.
fn frame(dst: [u8; 6], ethertype: u16) -> Vec<u8> {
    let mut p: Vec<u8> = (0..60u8).collect();
    p[..6].copy_from_slice(&dst);
    p[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 2]);
    p[12..14].copy_from_slice(&ethertype.to_be_bytes());
    p[14..34].copy_from_slice(&[0x45, 0, 0, 46, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    p
}

/// Frames for every `pkt_type` and `protocol` path of `eth_type_trans` on loopback.
fn frames() -> Vec<(&'static str, Vec<u8>)> {
    let mut ipx = frame([0; 6], 0x0030);
    ipx[14..16].copy_from_slice(&[0xff, 0xff]);
    vec![
        ("to this host (zero MAC), IPv4", frame([0; 6], 0x0800)),
        ("broadcast, IPv4", frame([0xff; 6], 0x0800)),
        ("multicast, IPv6", frame([0x33, 0x33, 0, 0, 0, 1], 0x86dd)),
        ("other host, ARP", frame([2, 0, 0, 0, 0, 1], 0x0806)),
        ("802.3 length field, raw IPX", ipx),
        ("802.3 length field, LLC", frame([0; 6], 0x0030)),
    ]
}

/// `r0` = the field at `offset` of `size` bytes.
fn load_field(prog_type: ProgType, offset: u32, size: u32) -> String {
    let ty = match size {
        1 => "u8",
        2 => "u16",
        4 => "u32",
        _ => "u64",
    };
    format!(".prog {prog_type}\nr0 = *({ty} *)(r1 + {offset})\nexit\n")
}

#[test]
fn every_readable_sk_buff_field_matches_the_kernels_test_run() {
    if !kernel::require_or_skip("every_readable_sk_buff_field_matches_the_kernels_test_run") {
        return;
    }
    let set = SkbFields { mark: 7, priority: 3, ingress_ifindex: 1, cb: [1, 2, 3, 4, 5], ..SkbFields::default() };
    let mut checked = 0;
    for pt in [ProgType::Socket, ProgType::Tc] {
        let layout = ctx_layout(pt).unwrap();
        for f in layout.fields.iter().filter(|f| f.access.read && f.kind == FieldKind::Scalar) {
            for elem in 0..f.size / f.elem {
                let p = llvm(&load_field(pt, f.offset + elem * f.elem, f.elem));
                for (what, packet) in frames() {
                    for fields in [SkbFields::default(), set.clone()] {
                        let input = Input::skb(packet.clone(), fields.clone());
                        let (interp, kernel) = both(&p, &input);
                        assert_eq!(
                            interp.r0,
                            kernel.r0,
                            "{pt} {} on a frame {what} with {fields:?}: interp {:#x}, kernel {:#x}",
                            f.element_name(f.offset + elem * f.elem),
                            interp.r0,
                            kernel.r0
                        );
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked > 300, "only {checked} field reads compared");
}

#[test]
fn the_test_runs_socket_matches_the_kernels_field_by_field() {
    if !kernel::require_or_skip("the_test_runs_socket_matches_the_kernels_field_by_field") {
        return;
    }
    let sock = ebpf_lab::runtime::ctx::bpf_sock_layout();
    let mut checked = 0;
    for pt in [ProgType::Socket, ProgType::Tc] {
        let sk = ctx_layout(pt).unwrap().field("sk").unwrap().offset;
        for f in sock.fields.iter().filter(|f| f.access.read) {
            for elem in 0..f.size / f.elem {
                let off = f.offset + elem * f.elem;
                // r0 = sk ? sk->field : 0xdead (the kernel insists on the NULL check).
                let src = format!(
                    ".prog {pt}\nr2 = *(u64 *)(r1 + {sk})\nr0 = 0xdead\nif r2 == 0 goto +1\nr0 = *(u32 *)(r2 + {off})\nexit\n"
                );
                for (what, packet) in frames() {
                    let (interp, kernel) = both(&llvm(&src), &Input::skb(packet, SkbFields::default()));
                    assert_eq!(interp.r0, kernel.r0, "{pt} sk->{} on a frame {what}", f.element_name(off));
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} socket field reads compared");
}

#[test]
fn a_frame_the_test_run_refuses_is_refused_by_both_engines() {
    // An IPv4 EtherType with only 10 bytes of IP header.
    let mut short = frame([0; 6], 0x0800);
    short.truncate(24);
    let p = llvm(".prog tc\nr0 = 0\nexit\n");
    let e = ebpf_lab::interp::Vm::new(&p).unwrap().run(&Input::skb(short.clone(), SkbFields::default())).unwrap_err();
    assert!(e.to_string().contains("an IPv4 header needs 20 bytes"), "{e}");
    let mut arp = frame([0; 6], 0x0806);
    arp.truncate(24);
    assert_eq!(run_ok(&p, &Input::skb(arp, SkbFields::default())).r0, 0, "not IP: no header needed");
    if !kernel::require_or_skip("a_frame_the_test_run_refuses_is_refused_by_both_engines") {
        return;
    }
    let input = Input::skb(short, SkbFields::default());
    assert!(open("kernel", &p, &input).run(&input).is_err(), "the kernel refuses it too");
}

#[test]
fn loopback_defaults_are_the_kernels() {
    let tc = ctx_layout(ProgType::Tc).unwrap();
    let read = |name: &str, packet: Vec<u8>| {
        let f = tc.field(name).unwrap();
        run_ok(&llvm(&load_field(ProgType::Tc, f.offset, f.elem)), &Input::skb(packet, SkbFields::default())).r0
    };
    assert_eq!(read("pkt_type", frame([0xff; 6], 0x0800)), 2, "broadcast is multicast on lo");
    assert_eq!(read("pkt_type", frame([0; 6], 0x0800)), 0, "lo's own (zero) address");
    assert_eq!(read("pkt_type", frame([2, 0, 0, 0, 0, 1], 0x0800)), 3, "another host");
    assert_eq!(read("ifindex", frame([0; 6], 0x0800)), 1, "test runs happen on lo");
    assert_eq!(read("wire_len", frame([0; 6], 0x0800)), 60);
    assert_eq!(read("protocol", frame([0; 6], 0x0030)), 0x0400, "ETH_P_802_2, network order");
}

#[test]
fn a_socket_filter_gets_its_packet_back_behind_a_zeroed_ethernet_header() {
    let p = llvm(".prog socket\nr0 = 0\nexit\n");
    let packet = frame([0xff; 6], 0x0800);
    let mut want = vec![0u8; 14];
    want.extend_from_slice(&packet[14..]);
    let out = run_ok(&p, &Input::skb(packet.clone(), SkbFields::default()));
    assert_eq!(out.packet_out.as_deref(), Some(&want[..]));
    if !kernel::require_or_skip("a_socket_filter_gets_its_packet_back_behind_a_zeroed_ethernet_header") {
        return;
    }
    let (interp, kernel) = both(&p, &Input::skb(packet, SkbFields::default()));
    assert_eq!(interp.packet_out, kernel.packet_out);
}

/// One legacy load with `r6` = the context and `r7` = 4, plus 1: an out-of-bounds load ends the
/// program with r0 = 0, which the + 1 tells apart from loading a zero.
fn neg_offset_prog(prog_type: ProgType, load: &str) -> String {
    format!(".prog {prog_type}\nr6 = r1\nr7 = 4\n{load}\nr0 += 1\nexit\n")
}

#[test]
fn legacy_loads_reach_the_network_and_link_layer_headers_like_the_kernel() {
    const NET: i32 = -0x10_0000;
    const LL: i32 = -0x20_0000;
    let loads = [
        (format!("r0 = *(u8 *)skb[{}]", NET + 9), Some(17 + 1)), // IPv4 protocol: UDP
        (format!("r0 = *(u16 *)skb[{}]", LL + 12), Some(0x0800 + 1)), // EtherType, network order
        (format!("r0 = *(u32 *)skb[r7 - {}]", -(NET + 12)), Some(0x0a00_0002 + 1)), // r7 + 12: daddr, at 16
        (format!("r0 = *(u8 *)skb[{}]", LL), Some(0xff + 1)),    // first byte of the frame
        (format!("r0 = *(u8 *)skb[{}]", NET + 45), Some(59 + 1)), // the last byte
        (format!("r0 = *(u8 *)skb[{}]", NET + 46), None),        // one past the end
        (format!("r0 = *(u8 *)skb[{}]", LL - 1), None),          // below SKF_LL_OFF
        ("r0 = *(u8 *)skb[-1]".to_string(), None),               // SKF_NET_OFF + 0xfffff
    ];
    let packet = frame([0xff; 6], 0x0800);
    for pt in [ProgType::Socket, ProgType::Tc] {
        for (load, want) in &loads {
            let out = run_ok(&llvm(&neg_offset_prog(pt, load)), &Input::skb(packet.clone(), SkbFields::default()));
            assert_eq!(out.r0, want.unwrap_or(0), "{pt}: {load}");
        }
    }
    if !kernel::require_or_skip("legacy_loads_reach_the_network_and_link_layer_headers_like_the_kernel") {
        return;
    }
    for pt in [ProgType::Socket, ProgType::Tc] {
        for (load, _) in &loads {
            // Programs with legacy loads may come back with the low 32 bits of r0 only.
            let p = llvm(&neg_offset_prog(pt, load));
            let input = Input::skb(packet.clone(), SkbFields::default());
            let kernel = open("kernel", &p, &input).run(&input).unwrap();
            let interp = run_ok(&p, &input);
            let mask = if kernel.r0_bits == 64 { u64::MAX } else { (1 << kernel.r0_bits) - 1 };
            assert_eq!(interp.r0 & mask, kernel.outcome.r0 & mask, "{pt}: {load}");
        }
    }
}

#[test]
fn run_calls_a_socket_filters_packet_unchanged_despite_the_zeroed_header() {
    let dir = std::env::temp_dir().join(format!("ebpf-lab-skb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("keep.s");
    std::fs::write(&file, ".prog socket\nr0 = 0\nexit\n").unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_ebpf-lab"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("run")
        .arg(&file)
        .args(["--packet", "examples/udp.pkt"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("packet: unchanged (60 bytes; the Ethernet header comes back zeroed"), "{out}");
}
