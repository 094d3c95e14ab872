//! The packet helpers of XDP and tc code (`bpf_skb_load_bytes`, `bpf_csum_diff`, ...): each
//! program runs through `ebpf-lab check`, so the interpreter, the JIT and the kernel must agree
//! on `r0`, the packet and the maps, and `r0` must be the value the kernel computes.

mod check_common;

/// Asserts every engine agrees and `r0` is `r0` in all three columns.
fn assert_agree(name: &str, src: &str, r0: &str) {
    let (code, out) = check_common::check(name, src, &["--packet", "examples/udp.pkt"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("all engines agree"), "{out}");
    let row = out.lines().find(|l| l.trim_start().starts_with("r0")).unwrap_or_else(|| panic!("{out}"));
    assert_eq!(row.matches(r0).count(), 3, "{out}");
}

#[test]
fn skb_load_bytes_copies_or_zeroes_and_faults() {
    if !ebpf_lab::kernel::require_or_skip("skb_load_bytes_copies_or_zeroes_and_faults") {
        return;
    }
    // 8 bytes from offset 12 (EtherType, IPv4 header), then 4 bytes past the end: -EFAULT and
    // a zeroed buffer (primed with ones first); the results go to r0 and a map.
    let src = "\
.prog tc
.map out array key=4 value=8 max=2
        r6 = r1
        r2 = 12
        r3 = r10
        r3 += -8
        r4 = 8
        call bpf_skb_load_bytes
        r7 = r0
        r1 = -1
        *(u32 *)(r10 - 16) = r1
        r1 = r6
        r2 = 10000
        r3 = r10
        r3 += -16
        r4 = 4
        call bpf_skb_load_bytes
        r7 <<= 8
        r7 += r0
        r0 = *(u64 *)(r10 - 8)
        r1 = *(u32 *)(r10 - 16)
        r0 ^= r1
        r0 ^= r7
        *(u64 *)(r10 - 24) = r0
        r1 = 1
        *(u32 *)(r10 - 28) = r1
        r1 = map(out) ll
        r2 = r10
        r2 += -28
        r3 = r10
        r3 += -24
        r4 = 0
        call bpf_map_update_elem
        r0 = *(u64 *)(r10 - 24)
        exit
";
    assert_agree("load_bytes.s", src, "0xffffd1ffffbafffa");
    // A socket filter's offsets count from the network header (IPv4's first 8 bytes here).
    let src = "\
.prog socket
        r2 = 0
        r3 = r10
        r3 += -8
        r4 = 8
        call bpf_skb_load_bytes
        r7 = r0
        r0 = *(u64 *)(r10 - 8)
        r0 ^= r7
        exit
";
    assert_agree("load_bytes_socket.s", src, "0x4000002e000045");
}

#[test]
fn csum_diff_pushes_pulls_and_diffs() {
    if !ebpf_lab::kernel::require_or_skip("csum_diff_pushes_pulls_and_diffs") {
        return;
    }
    // Four calls, 16 bits each in r0: diff 8 -> 12 bytes with a seed, push 8, pull 8, pull 6
    // (a size that is not a multiple of 4).
    let mut src = String::from(
        "\
.prog xdp
        r1 = 0x12345678
        *(u32 *)(r10 - 4) = r1
        r1 = 0xdeadbeef
        *(u32 *)(r10 - 8) = r1
        r1 = 0x0badf00d
        *(u32 *)(r10 - 12) = r1
        r6 = 0
",
    );
    for (from, to, seed) in
        [((-8, 8), (-12, 12), 0x1234), ((0, 0), (-8, 8), 0), ((-8, 8), (0, 0), 7), ((-8, 6), (0, 0), 7)]
    {
        for (reg, (off, size)) in [(1, from), (3, to)] {
            if size == 0 {
                src += &format!("        r{reg} = 0\n        r{} = 0\n", reg + 1);
            } else {
                src += &format!("        r{reg} = r10\n        r{reg} += {off}\n        r{} = {size}\n", reg + 1);
            }
        }
        src += &format!("        r5 = {seed}\n        call bpf_csum_diff\n        r6 <<= 16\n        r6 |= r0\n");
    }
    src += "        r0 = r6\n        exit\n";
    assert_agree("csum_diff.s", &src, "0xdef064af9bc0bf1");
    // The spelling of a zero sum: equal buffers diff to 0xffff, nothing at all to the seed.
    let zero = "\
.prog xdp
        r1 = 0x12345678
        *(u32 *)(r10 - 4) = r1
        r1 = r10
        r1 += -4
        r2 = 4
        r3 = r10
        r3 += -4
        r4 = 4
        r5 = 0
        call bpf_csum_diff
        r6 = r0
        r6 <<= 32
        r1 = 0
        r2 = 0
        r3 = 0
        r4 = 0
        r5 = 0x12345
        call bpf_csum_diff
        r0 |= r6
        exit
";
    assert_agree("csum_zero.s", zero, "0xffff00002346");
}

#[test]
fn xdp_adjust_head_and_tail_move_the_packet_within_the_frame() {
    if !ebpf_lab::kernel::require_or_skip("xdp_adjust_head_and_tail_move_the_packet_within_the_frame") {
        return;
    }
    // One byte per call (0xea = -EINVAL, 0 = done): head -217 passes the xdp_frame, +47 leaves
    // less than an Ethernet header; -216 and +200 fit; tail +10 (zeros) and -3. Then a store
    // through re-read packet pointers and the new length in the top 16 bits (83 bytes).
    let src = "\
.prog xdp
        r6 = r1
        r2 = -217
        call bpf_xdp_adjust_head
        r7 = r0
        r7 &= 0xff
        r7 <<= 8
        r1 = r6
        r2 = 47
        call bpf_xdp_adjust_head
        r0 &= 0xff
        r7 |= r0
        r7 <<= 8
        r1 = r6
        r2 = -216
        call bpf_xdp_adjust_head
        r0 &= 0xff
        r7 |= r0
        r7 <<= 8
        r1 = r6
        r2 = 200
        call bpf_xdp_adjust_head
        r0 &= 0xff
        r7 |= r0
        r7 <<= 8
        r1 = r6
        r2 = 10
        call bpf_xdp_adjust_tail
        r0 &= 0xff
        r7 |= r0
        r7 <<= 8
        r1 = r6
        r2 = -3
        call bpf_xdp_adjust_tail
        r0 &= 0xff
        r7 |= r0
        r2 = *(u32 *)(r6 + 4)
        r1 = *(u32 *)(r6 + 0)
        r3 = r1
        r3 += 4
        if r3 > r2 goto out
        r4 = 0xaa
        *(u8 *)(r1 + 3) = r4
        r0 = r2
        r0 -= r1
        r0 <<= 48
        r7 |= r0
out:
        r0 = r7
        exit
";
    assert_agree("adjust_head.s", src, "0x53eaea00000000");
    // The tail grows at most to the frame's end less the skb_shared_info tailroom (60 + 3460
    // bytes), and shrinks to no less than 14 bytes.
    let src = "\
.prog xdp
        r6 = r1
        r2 = 3461
        call bpf_xdp_adjust_tail
        r7 = r0
        r7 &= 0xff
        r7 <<= 8
        r1 = r6
        r2 = 3460
        call bpf_xdp_adjust_tail
        r0 &= 0xff
        r7 |= r0
        r7 <<= 8
        r1 = r6
        r2 = -3460
        call bpf_xdp_adjust_tail
        r0 &= 0xff
        r7 |= r0
        r7 <<= 8
        r1 = r6
        r2 = -47
        call bpf_xdp_adjust_tail
        r0 &= 0xff
        r7 |= r0
        r7 <<= 8
        r1 = r6
        r2 = -46
        call bpf_xdp_adjust_tail
        r0 &= 0xff
        r7 |= r0
        r0 = r7
        exit
";
    assert_agree("adjust_tail.s", src, "0xea0000ea00");
}

#[test]
fn xdp_adjust_meta_grows_metadata_the_run_hands_back() {
    if !ebpf_lab::kernel::require_or_skip("xdp_adjust_meta_grows_metadata_the_run_hands_back") {
        return;
    }
    // meta -36 (fits), -6 (not whole words: -EACCES), +4, -8, then head -8; the 40 metadata
    // bytes come back in front of the 68-byte packet.
    let src = "\
.prog xdp
        r6 = r1
        r2 = -36
        call bpf_xdp_adjust_meta
        r7 = r0
        r7 &= 0xff
        r7 <<= 8
        r1 = r6
        r2 = -6
        call bpf_xdp_adjust_meta
        r0 &= 0xff
        r7 |= r0
        r7 <<= 8
        r1 = r6
        r2 = 4
        call bpf_xdp_adjust_meta
        r0 &= 0xff
        r7 |= r0
        r7 <<= 8
        r1 = r6
        r2 = -8
        call bpf_xdp_adjust_meta
        r0 &= 0xff
        r7 |= r0
        r7 <<= 8
        r1 = r6
        r2 = -8
        call bpf_xdp_adjust_head
        r0 &= 0xff
        r7 |= r0
        r2 = *(u32 *)(r6 + 0)
        r1 = *(u32 *)(r6 + 8)
        r3 = r1
        r3 += 8
        if r3 > r2 goto out
        r4 = 0x11223344
        *(u32 *)(r1 + 0) = r4
        *(u32 *)(r1 + 4) = r4
out:
        r0 = r7
        exit
";
    let (code, out) = check_common::check("adjust_meta.s", src, &["--packet", "examples/udp.pkt"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("all engines agree") && out.contains("0xf3000000"), "{out}");
    assert_eq!(out.matches("108 B 4433221144332211").count(), 3, "{out}");
    // Metadata written, then the head moves: the metadata moves with it; the head cannot pass
    // the frame head plus the metadata (-EINVAL, 0xea).
    let src = "\
.prog xdp
        r6 = r1
        r2 = -8
        call bpf_xdp_adjust_meta
        r2 = *(u32 *)(r6 + 0)
        r1 = *(u32 *)(r6 + 8)
        r3 = r1
        r3 += 8
        if r3 > r2 goto out
        r4 = 0x11223344
        *(u32 *)(r1 + 0) = r4
        r4 = 0x55667788
        *(u32 *)(r1 + 4) = r4
        r1 = r6
        r2 = -12
        call bpf_xdp_adjust_head
        r7 = r0
        r1 = r6
        r2 = 20
        call bpf_xdp_adjust_head
        r7 <<= 8
        r0 &= 0xff
        r7 |= r0
        r1 = r6
        r2 = -228
        call bpf_xdp_adjust_head
        r7 <<= 8
        r0 &= 0xff
        r7 |= r0
        r0 = r7
        exit
out:
        r0 = 1
        exit
";
    let (code, out) = check_common::check("adjust_meta_head.s", src, &["--packet", "examples/udp.pkt"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("all engines agree"), "{out}");
    assert_eq!(out.matches("60 B 4433221188776655").count(), 3, "{out}");
    assert!(out.lines().any(|l| l.trim_start().starts_with("r0") && l.matches("0xea").count() == 3), "{out}");
}

#[test]
fn skb_store_bytes_writes_up_to_the_end_only() {
    if !ebpf_lab::kernel::require_or_skip("skb_store_bytes_writes_up_to_the_end_only") {
        return;
    }
    // One byte per call: at 2 with both flags (done), at 56 (the last 4 bytes: done), at 57
    // (-EFAULT, 0xf2), an unknown flag (-EINVAL, 0xea).
    let src = "\
.prog tc
        r6 = r1
        r1 = 0x11223344
        *(u32 *)(r10 - 4) = r1
        r1 = r6
        r2 = 2
        r3 = r10
        r3 += -4
        r4 = 4
        r5 = 3
        call bpf_skb_store_bytes
        r7 = r0
        r7 &= 0xff
        r7 <<= 8
        r1 = r6
        r2 = 56
        r3 = r10
        r3 += -4
        r4 = 4
        r5 = 0
        call bpf_skb_store_bytes
        r0 &= 0xff
        r7 |= r0
        r7 <<= 8
        r1 = r6
        r2 = 57
        r3 = r10
        r3 += -4
        r4 = 4
        r5 = 0
        call bpf_skb_store_bytes
        r0 &= 0xff
        r7 |= r0
        r7 <<= 8
        r1 = r6
        r2 = 0
        r3 = r10
        r3 += -4
        r4 = 4
        r5 = 4
        call bpf_skb_store_bytes
        r0 &= 0xff
        r7 |= r0
        r0 = r7
        exit
";
    let (code, out) = check_common::check("store_bytes.s", src, &["--packet", "examples/udp.pkt"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("all engines agree"), "{out}");
    assert_eq!(out.matches("0xf2ea").count(), 3, "{out}");
    assert_eq!(out.matches("60 B ffff44332211").count(), 3, "{out}");
}

#[test]
fn l3_and_l4_csum_replace_update_the_checksums_in_the_packet() {
    if !ebpf_lab::kernel::require_or_skip("l3_and_l4_csum_replace_update_the_checksums_in_the_packet") {
        return;
    }
    // Status bytes low (0, 0xea = -EINVAL, 0xf2 = -EFAULT), the IPv4 checksum after the
    // updates in the top 16 bits.
    let src = "\
.prog tc
        r6 = r1
        # IPv4 TTL/protocol word at 22 (ttl 0x40 -> 0x3f), checksum at 24: csum_replace2
        r1 = r6
        r2 = 24
        r3 = 0x1140
        r4 = 0x113f
        r5 = 2
        call bpf_l3_csum_replace
        r7 = r0
        r7 &= 0xff
        r7 <<= 8
        # source address changes (4 bytes) with csum_replace4
        r1 = r6
        r2 = 24
        r3 = 0x0100007f
        r4 = 0x0200000a
        r5 = 4
        call bpf_l3_csum_replace
        r0 &= 0xff
        r7 |= r0
        r7 <<= 8
        # a diff with from != 0: -EINVAL; odd offset: -EFAULT; size 3: -EINVAL
        r1 = r6
        r2 = 24
        r3 = 1
        r4 = 0x1234
        r5 = 0
        call bpf_l3_csum_replace
        r0 &= 0xff
        r7 |= r0
        r7 <<= 8
        r1 = r6
        r2 = 25
        r3 = 0
        r4 = 0x1234
        r5 = 0
        call bpf_l3_csum_replace
        r0 &= 0xff
        r7 |= r0
        r7 <<= 8
        r1 = r6
        r2 = 24
        r3 = 0
        r4 = 0x1234
        r5 = 3
        call bpf_l3_csum_replace
        r0 &= 0xff
        r7 |= r0
        r7 <<= 8
        # by diff
        r1 = r6
        r2 = 24
        r3 = 0
        r4 = 0xfedcba98
        r5 = 0
        call bpf_l3_csum_replace
        r0 &= 0xff
        r7 |= r0
        r2 = *(u32 *)(r6 + 80)
        r1 = *(u32 *)(r6 + 76)
        r3 = r1
        r3 += 26
        if r3 > r2 goto out
        r0 = *(u16 *)(r1 + 24)
        r0 <<= 48
        r7 |= r0
out:
        r0 = r7
        exit
";
    assert_agree("l3_csum.s", src, "0x46000000eaf2ea00");
    // The UDP checksum after three updates (top 16 bits), a zero sum left alone under
    // BPF_F_MARK_MANGLED_0 (bits 32-47), an unknown flag (-EINVAL).
    let src = "\
.prog tc
        r6 = r1
        # UDP checksum at 40: replace4, replace2 (widened), diff, with MANGLED_0 on a zeroed sum
        r1 = r6
        r2 = 40
        r3 = 0x0100007f
        r4 = 0x0200000a
        r5 = 0x14
        call bpf_l4_csum_replace
        r7 = r0
        r7 &= 0xff
        r7 <<= 8
        r1 = r6
        r2 = 40
        r3 = 0x3500
        r4 = 0x3600
        r5 = 0x82
        call bpf_l4_csum_replace
        r0 &= 0xff
        r7 |= r0
        r7 <<= 8
        r1 = r6
        r2 = 40
        r3 = 0
        r4 = 0xfedcba98
        r5 = 0
        call bpf_l4_csum_replace
        r0 &= 0xff
        r7 |= r0
        r7 <<= 8
        r1 = r6
        r2 = 40
        r3 = 0
        r4 = 0
        r5 = 0x100
        call bpf_l4_csum_replace
        r0 &= 0xff
        r7 |= r0
        r2 = *(u32 *)(r6 + 80)
        r1 = *(u32 *)(r6 + 76)
        r3 = r1
        r3 += 42
        if r3 > r2 goto out
        r0 = *(u16 *)(r1 + 40)
        r0 <<= 48
        r7 |= r0
        # a zero sum stays zero under MANGLED_0, and becomes 0xffff when it computes to 0
        r0 = 0
        *(u16 *)(r1 + 40) = r0
        r1 = r6
        r2 = 40
        r3 = 0
        r4 = 0x1234
        r5 = 0x20
        call bpf_l4_csum_replace
        r2 = *(u32 *)(r6 + 80)
        r1 = *(u32 *)(r6 + 76)
        r3 = r1
        r3 += 42
        if r3 > r2 goto out
        r0 = *(u16 *)(r1 + 40)
        r0 <<= 32
        r7 |= r0
        r1 = r6
        r2 = 40
        r3 = 0
        r4 = 0xffff
        r5 = 0x60
        call bpf_l4_csum_replace
out:
        r0 = r7
        exit
";
    assert_agree("l4_csum.s", src, "0x44ff0000000000ea");
}

/// A tc program making each call of `calls` (argument lines for r2-r5, then the helper) on the
/// skb and packing the errno of each (`-r0`, 16 bits) into r0, first call highest.
fn errno_program(calls: &[(&str, &str)]) -> String {
    let mut src = String::from(".prog tc\n        r6 = r1\n        r7 = 0\n");
    for (args, helper) in calls {
        src += "        r1 = r6\n";
        for a in args.split(';') {
            src += &format!("        {}\n", a.trim());
        }
        src += &format!(
            "        call {helper}\n        r0 = -r0\n        r0 &= 0xffff\n        r7 <<= 16\n        r7 |= r0\n"
        );
    }
    src + "        r0 = r7\n        exit\n"
}

#[test]
fn skb_resizing_helpers_refuse_like_the_kernel() {
    if !ebpf_lab::kernel::require_or_skip("skb_resizing_helpers_refuse_like_the_kernel") {
        return;
    }
    // bpf_skb_adjust_room: an unknown flag (EINVAL 22), more than 0xfff bytes (EFAULT 14), an
    // unknown mode (ENOTSUPP 524), shrinking into the IPv4 header (ENOTSUPP).
    let src = errno_program(&[
        ("r2 = 8; r3 = 0; r4 = 0x200", "bpf_skb_adjust_room"),
        ("r2 = 0x1000; r3 = 0; r4 = 0", "bpf_skb_adjust_room"),
        ("r2 = 8; r3 = 5; r4 = 0", "bpf_skb_adjust_room"),
        ("r2 = -30; r3 = 0; r4 = 0", "bpf_skb_adjust_room"),
    ]);
    assert_agree("adjust_room_errors.s", &src, "0x16000e020c020c");
    // bpf_skb_change_tail below the network header and with flags, bpf_skb_change_head with
    // flags (EINVAL each); decapsulating while growing (EINVAL).
    let src = errno_program(&[
        ("r2 = 10; r3 = 0", "bpf_skb_change_tail"),
        ("r2 = 60; r3 = 1", "bpf_skb_change_tail"),
        ("r2 = 4; r3 = 1", "bpf_skb_change_head"),
        ("r2 = 8; r3 = 1; r4 = 0x80", "bpf_skb_adjust_room"),
    ]);
    assert_agree("change_errors.s", &src, "0x16001600160016");
    // Success everywhere: grow and shrink after the IP header, then after the MAC header, with
    // the IPv4 header's length checks passing.
    let src = errno_program(&[
        ("r2 = 8; r3 = 0; r4 = 0", "bpf_skb_adjust_room"),
        ("r2 = -8; r3 = 0; r4 = 0", "bpf_skb_adjust_room"),
        ("r2 = 6; r3 = 1; r4 = 1", "bpf_skb_adjust_room"),
        ("r2 = 80; r3 = 0", "bpf_skb_change_tail"),
    ]);
    assert_agree("resize_ok.s", &src, "0x0");
}

#[test]
fn adjust_room_needs_an_ip_packet() {
    if !ebpf_lab::kernel::require_or_skip("adjust_room_needs_an_ip_packet") {
        return;
    }
    // An ARP frame: bpf_skb_adjust_room says ENOTSUPP (524), whatever the mode; change_head works.
    let mut arp = vec![0xffu8; 6];
    arp.extend_from_slice(&[2, 0, 0, 0, 0, 1, 0x08, 0x06]);
    arp.resize(60, 7);
    let hex: String = arp.iter().map(|b| format!("{b:02x}")).collect();
    let src = errno_program(&[
        ("r2 = 8; r3 = 0; r4 = 0", "bpf_skb_adjust_room"),
        ("r2 = 8; r3 = 1; r4 = 0", "bpf_skb_adjust_room"),
        ("r2 = 2; r3 = 0", "bpf_skb_change_head"),
    ]);
    let (code, out) = check_common::check("adjust_room_arp.s", &src, &["--packet-hex", &hex]);
    assert_eq!(code, 0, "{out}");
    let row = out.lines().find(|l| l.trim_start().starts_with("r0")).unwrap_or_else(|| panic!("{out}"));
    assert_eq!(row.matches("0x20c020c0000").count(), 3, "{out}");
}

#[test]
fn vlan_tags_go_to_the_skb_then_into_the_packet() {
    if !ebpf_lab::kernel::require_or_skip("vlan_tags_go_to_the_skb_then_into_the_packet") {
        return;
    }
    // Push 802.1Q tag 0x123: it lives in the skb (vlan_present, vlan_tci, vlan_proto), not the
    // packet; a second push (an unknown protocol counts as 802.1Q) writes the first into the
    // packet (len + 4, protocol 802.1Q); two pops clear the skb's tag, then take the packet's.
    let src = "\
.prog tc
        r6 = r1
        r2 = 0x0081
        r3 = 0x123
        call bpf_skb_vlan_push
        r7 = *(u32 *)(r6 + 20)
        r1 = *(u32 *)(r6 + 24)
        r7 <<= 12
        r7 |= r1
        r1 = *(u32 *)(r6 + 28)
        r7 <<= 16
        r7 |= r1
        r1 = r6
        r2 = 0x7777
        r3 = 0x456
        call bpf_skb_vlan_push
        r1 = *(u32 *)(r6 + 16)
        r7 <<= 16
        r7 |= r1
        r1 = *(u32 *)(r6 + 0)
        r7 <<= 8
        r7 |= r1
        r1 = r6
        call bpf_skb_vlan_pop
        r1 = r6
        call bpf_skb_vlan_pop
        r1 = *(u32 *)(r6 + 0)
        r7 <<= 8
        r7 |= r1
        exit
";
    let src = src.replace("        exit\n", "        r0 = r7\n        exit\n");
    assert_agree("vlan.s", &src, "0x112300810081403c");
}

#[test]
fn set_tunnel_key_checks_size_flags_and_label() {
    if !ebpf_lab::kernel::require_or_skip("set_tunnel_key_checks_size_flags_and_label") {
        return;
    }
    // The full key (0), a size that is no layout of the struct (EINVAL), an old layout's size
    // (28: up to local_ipv4) with a flow label but no BPF_F_TUNINFO_IPV6 (EINVAL), an unknown
    // flag (EINVAL), the label with the flag (0).
    let mut src = String::from(".prog tc\n        r6 = r1\n        r7 = 0\n        r1 = 0\n");
    for off in (8..=48).step_by(8) {
        src += &format!("        *(u64 *)(r10 - {off}) = r1\n");
    }
    src += "        r1 = 42\n        *(u32 *)(r10 - 48) = r1\n";
    for (size, flags, label) in [(44, 0, 0), (10, 0, 0), (28, 0, 7), (44, 0x20, 0), (44, 1, 7)] {
        src += &format!(
            "        r1 = {label}\n        *(u32 *)(r10 - 24) = r1\n        r1 = r6\n        r2 = r10\n        r2 += -48\n        \
             r3 = {size}\n        r4 = {flags}\n        call bpf_skb_set_tunnel_key\n        r0 = -r0\n        r7 <<= 8\n        \
             r7 |= r0\n"
        );
    }
    src += "        r0 = r7\n        exit\n";
    assert_agree("tunnel_key.s", &src, "0x16161600");
}
