//! Context layouts: offsets equal the kernel's (checked with the C compiler against the installed
//! UAPI header when both are present), access rules per program type, return-code names.

use ebpf_lab::program::ProgType;
use ebpf_lab::runtime::ctx::{
    ctx_layout, describe_return, syscall_tracepoint_layout, CtxLayout, FieldKind, SyscallTracepoint,
};
use std::process::Command;

fn layout(t: ProgType) -> &'static CtxLayout {
    ctx_layout(t).expect("has a layout")
}

#[test]
fn known_offsets() {
    let skb = layout(ProgType::Tc);
    let off = |n: &str| skb.field(n).unwrap().offset;
    assert_eq!((off("len"), off("mark"), off("cb"), off("data"), off("data_end")), (0, 8, 48, 76, 80));
    assert_eq!((off("data_meta"), off("tstamp"), off("sk"), off("hwtstamp"), skb.size), (140, 152, 168, 184, 192));
    let xdp = layout(ProgType::Xdp);
    let off = |n: &str| xdp.field(n).unwrap().offset;
    assert_eq!((off("data"), off("data_end"), off("data_meta"), off("egress_ifindex"), xdp.size), (0, 4, 8, 20, 24));
    assert_eq!(xdp.field("data_end").unwrap().kind, FieldKind::PacketEnd);
    let enter = syscall_tracepoint_layout(SyscallTracepoint::Enter);
    assert_eq!((enter.field("__syscall_nr").unwrap().offset, enter.field("args").unwrap().offset), (8, 16));
    assert_eq!(syscall_tracepoint_layout(SyscallTracepoint::Exit).field("ret").unwrap().offset, 16);
    assert!(ctx_layout(ProgType::Mem).is_none());
    // Fields are sorted, don't overlap, and stay inside the structure.
    for l in [skb, xdp, enter] {
        for w in l.fields.windows(2) {
            assert!(w[0].offset + w[0].size <= w[1].offset, "{} overlaps {}", w[0].name, w[1].name);
        }
        let last = l.fields.last().unwrap();
        assert!(last.offset + last.size <= l.size);
    }
}

/// Compiles a C program printing `offsetof`/`sizeof` for every field against
/// /usr/include/linux/bpf.h and compares with our tables.
#[test]
fn offsets_match_the_uapi_header() {
    let cc = ["cc", "gcc", "clang"].into_iter().find(|c| Command::new(c).arg("--version").output().is_ok());
    let (Some(cc), true) = (cc, std::path::Path::new("/usr/include/linux/bpf.h").exists()) else {
        println!("skipped: no C compiler or no /usr/include/linux/bpf.h");
        return;
    };
    let mut src = String::from("#include <stdio.h>\n#include <stddef.h>\n#include <linux/bpf.h>\nint main(void){\n");
    let mut expected = String::new();
    for (s, l) in [("__sk_buff", layout(ProgType::Tc)), ("xdp_md", layout(ProgType::Xdp))] {
        src += &format!("printf(\"%zu\\n\", sizeof(struct {s}));\n");
        expected += &format!("{}\n", l.size);
        for f in &l.fields {
            src += &format!(
                "printf(\"%zu %zu\\n\", offsetof(struct {s}, {n}), sizeof(((struct {s}*)0)->{n}));\n",
                n = f.name
            );
            expected += &format!("{} {}\n", f.offset, f.size);
        }
    }
    src += "return 0;}\n";
    let dir = std::env::temp_dir().join(format!("ebpf-lab-ctx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let c = dir.join("off.c");
    let exe = dir.join("off");
    std::fs::write(&c, src).unwrap();
    let out = Command::new(cc).arg(&c).arg("-o").arg(&exe).output().unwrap();
    assert!(out.status.success(), "cc failed: {}", String::from_utf8_lossy(&out.stderr));
    let run = Command::new(&exe).output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(String::from_utf8_lossy(&run.stdout), expected);
}

/// The live kernel's tracepoint format files, when tracefs is mounted.
#[test]
fn syscall_records_match_tracefs() {
    let base = "/sys/kernel/tracing/events/syscalls";
    let (Ok(enter), Ok(exit)) = (
        std::fs::read_to_string(format!("{base}/sys_enter_openat/format")),
        std::fs::read_to_string(format!("{base}/sys_exit_openat/format")),
    ) else {
        println!("skipped: tracefs syscall events not available");
        return;
    };
    assert!(enter.contains("field:int __syscall_nr;\toffset:8;\tsize:4;"));
    assert!(enter.contains("offset:16;\tsize:8;"), "first argument at 16");
    assert!(exit.contains("field:long ret;\toffset:16;\tsize:8;"));
    assert!(enter.contains("field:int common_pid;\toffset:4;\tsize:4;"));
}

#[test]
fn sk_buff_access_socket_vs_tc() {
    let sock = layout(ProgType::Socket);
    let tc = layout(ProgType::Tc);
    // Reads of ordinary fields, including narrow ones, in both.
    for l in [sock, tc] {
        assert_eq!(l.check_access(0, 4, false).unwrap().name, "len");
        assert!(l.check_access(8, 1, false).is_ok(), "narrow read of mark");
        assert!(l.check_access(9, 2, false).is_err(), "misaligned");
        assert!(l.check_access(48, 8, true).is_ok(), "8-byte store across cb[0..1]");
        assert!(l.check_access(64, 8, true).is_err(), "past cb[4]");
        assert!(l.check_access(0, 4, true).is_err(), "len is read-only");
        assert!(l.check_access(88, 4, false).is_err(), "family: sk_skb only");
        assert!(l.check_access(144, 8, false).is_err(), "flow_keys: flow dissector only");
        assert!(l.check_access(180, 1, true).is_err(), "tstamp_type is never writable");
        assert!(l.check_access(180, 2, false).is_err(), "tstamp_type is one byte");
        assert!(l.check_access(182, 2, false).is_err(), "padding");
        assert!(l.check_access(192, 4, false).is_err(), "past the end");
        assert!(l.check_access(-4, 4, false).is_err());
        assert!(l.check_access(0, 3, false).is_err());
    }
    // Socket filters: no packet pointers, only cb writable.
    assert!(sock.check_access(76, 4, false).is_err());
    assert!(sock.check_access(8, 4, true).is_err(), "mark not writable in a socket filter");
    assert!(sock.check_access(72, 4, false).is_err(), "tc_classid");
    assert!(sock.check_access(180, 1, false).is_err(), "tstamp_type: tc only");
    assert!(tc.check_access(180, 1, false).is_ok(), "tstamp_type: tc reads it, one byte");
    // tc: packet pointers (exact size), mark/priority/tc_index writable.
    assert_eq!(tc.check_access(76, 4, false).unwrap().kind, FieldKind::PacketStart);
    assert!(tc.check_access(76, 2, false).is_err(), "no narrow packet pointer loads");
    assert_eq!(tc.check_access(140, 4, false).unwrap().kind, FieldKind::PacketMeta);
    for off in [8, 32, 44, 72, 12] {
        assert!(tc.check_access(off, 4, true).is_ok(), "tc may write offset {off}");
    }
    assert!(tc.check_access(8, 2, true).is_err(), "stores are full size");
    assert!(tc.check_access(152, 8, true).is_ok(), "tstamp");
    assert!(tc.check_access(152, 4, false).is_err(), "tstamp is 8 bytes only");
    assert!(tc.check_access(184, 8, true).is_err(), "hwtstamp read-only");
    assert_eq!(tc.check_access(168, 8, false).unwrap().kind, FieldKind::SockOrNull);
    let e = sock.check_access(8, 4, true).unwrap_err();
    assert!(e.to_string().starts_with("invalid bpf_context access off=8 size=4"), "{e}");
    assert_eq!(tc.field_containing(56).unwrap().element_name(56), "cb[2]");
}

#[test]
fn xdp_and_tracepoint_access() {
    let xdp = layout(ProgType::Xdp);
    assert!(xdp.check_access(4, 4, false).is_ok());
    assert!(xdp.check_access(0, 2, false).is_err(), "xdp_md loads are 4 bytes");
    assert!(xdp.check_access(0, 4, true).is_err(), "no stores");
    assert!(xdp.check_access(20, 4, false).is_err(), "egress_ifindex: devmap programs only");
    let tp = layout(ProgType::Tracepoint);
    assert!(tp.check_access(0, 4, false).is_err(), "common header");
    assert!(tp.check_access(8, 8, false).is_ok(), "any aligned read from 8 on");
    assert!(tp.check_access(16, 1, false).is_ok());
    assert!(tp.check_access(17, 2, false).is_err(), "misaligned");
    assert!(tp.check_access(16, 8, true).is_err(), "read-only");
    assert!(tp.check_access(64, 8, false).is_err(), "past the record");
}

#[test]
fn return_codes() {
    assert_eq!(describe_return(ProgType::Xdp, 2), Some("XDP_PASS"));
    assert_eq!(describe_return(ProgType::Xdp, 1), Some("XDP_DROP"));
    assert_eq!(describe_return(ProgType::Xdp, 5), None);
    assert_eq!(describe_return(ProgType::Tc, 2), Some("TC_ACT_SHOT"));
    assert_eq!(describe_return(ProgType::Tc, u64::MAX), Some("TC_ACT_UNSPEC"));
    assert_eq!(describe_return(ProgType::Tc, 0xffff_ffff), Some("TC_ACT_UNSPEC"));
    assert_eq!(describe_return(ProgType::Socket, 0), Some("drop"));
    assert_eq!(describe_return(ProgType::Mem, 0), None);
}
