//! Program contexts: what `r1` points to at entry, with the kernel's layouts
//! (include/uapi/linux/bpf.h) and access rules (the `*_is_valid_access` callbacks of
//! net/core/filter.c and kernel/trace/bpf_trace.c), plus names for return codes.
//!
//! `mem` and `syscall` programs get a plain buffer: they have no layout ([`ctx_layout`] is `None`).

use crate::program::ProgType;
use std::fmt;
use std::sync::OnceLock;

/// What a context field holds, which decides what a load from it gives the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldKind {
    /// A number.
    Scalar,
    /// `data`: loads give a pointer to the first packet byte (`PTR_TO_PACKET`).
    PacketStart,
    /// `data_end`: loads give a pointer one past the last packet byte (`PTR_TO_PACKET_END`).
    PacketEnd,
    /// `data_meta`: loads give a pointer to the metadata before the packet (`PTR_TO_PACKET_META`).
    PacketMeta,
    /// `__sk_buff.sk`: a socket pointer or NULL (`PTR_TO_SOCK_COMMON_OR_NULL`).
    SockOrNull,
}

/// How a program of the layout's type may access a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Access {
    /// Loads allowed.
    pub read: bool,
    /// Stores allowed (always of the full element size).
    pub write: bool,
    /// Loads narrower than the element (aligned to their size) allowed: the kernel's
    /// `bpf_ctx_narrow_access_ok`.
    pub narrow: bool,
    /// Narrow loads only at the field's first byte (`struct bpf_sock`'s `family`, `state`...,
    /// which `bpf_sock_is_valid_access` matches by their offset alone).
    pub narrow_at_start: bool,
}

impl Access {
    const NONE: Access = Access { read: false, write: false, narrow: false, narrow_at_start: false };
    const RO: Access = Access { read: true, write: false, narrow: true, narrow_at_start: false };
    const RW: Access = Access { read: true, write: true, narrow: true, narrow_at_start: false };
    /// Exact-size loads only (packet pointers, 64-bit fields).
    const RO_EXACT: Access = Access { read: true, write: false, narrow: false, narrow_at_start: false };
    const RW_EXACT: Access = Access { read: true, write: true, narrow: false, narrow_at_start: false };
    /// Loads of any size at the field's start, exact-size loads elsewhere.
    const RO_AT_START: Access = Access { read: true, write: false, narrow: true, narrow_at_start: true };
}

/// One field of a context structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CtxField {
    /// The C field name (`"data_end"`, `"cb"`).
    pub name: &'static str,
    /// Byte offset in the structure.
    pub offset: u32,
    /// Size in bytes (for arrays, of the whole array).
    pub size: u32,
    /// Element size: equals `size` for scalars, 4 for `__u32 cb[5]` and the IPv6 arrays.
    pub elem: u32,
    /// What it holds.
    pub kind: FieldKind,
    /// The access rules for this layout's program type.
    pub access: Access,
}

impl CtxField {
    /// `name` or `name[i]` for the element containing `offset`.
    pub fn element_name(&self, offset: u32) -> String {
        if self.elem == self.size {
            self.name.to_string()
        } else {
            format!("{}[{}]", self.name, offset.saturating_sub(self.offset) / self.elem)
        }
    }
}

/// A context structure's layout for one program type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CtxLayout {
    /// The C structure (`"struct __sk_buff"`).
    pub struct_name: &'static str,
    /// Its size in bytes.
    pub size: u32,
    /// Fields by increasing offset.
    pub fields: Vec<CtxField>,
    /// Tracepoint rule (`tp_prog_is_valid_access`): any load aligned to its size anywhere in
    /// `[8, size)` is allowed, even across fields; no stores.
    pub any_aligned_read: bool,
}

/// A context access the kernel's verifier would refuse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CtxAccessError {
    /// Offset of the access.
    pub offset: i64,
    /// Its size.
    pub size: u32,
    /// Whether it was a store.
    pub write: bool,
    /// Why, in words.
    pub reason: String,
}

impl fmt::Display for CtxAccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // First part worded like the kernel verifier's message.
        write!(f, "invalid bpf_context access off={} size={}: {}", self.offset, self.size, self.reason)
    }
}

impl std::error::Error for CtxAccessError {}

impl CtxLayout {
    /// The field containing byte `offset`, if any (padding and out-of-range offsets give `None`).
    pub fn field_containing(&self, offset: u32) -> Option<&CtxField> {
        self.fields.iter().find(|f| offset >= f.offset && offset < f.offset + f.size)
    }

    /// The field a `size`-byte access at `offset` touches, if it lies within one field.
    pub fn field_at(&self, offset: u32, size: u32) -> Option<&CtxField> {
        let f = self.field_containing(offset)?;
        (offset.checked_add(size)? <= f.offset + f.size).then_some(f)
    }

    /// The field named `name`.
    pub fn field(&self, name: &str) -> Option<&CtxField> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Checks a load (`write` false) or store of `size` bytes at `offset` against the kernel's rules
    /// for this program type, giving the field touched (for tracepoints, the field at `offset`).
    pub fn check_access(&self, offset: i64, size: u32, write: bool) -> Result<&CtxField, CtxAccessError> {
        let err = |reason: &str| CtxAccessError { offset, size, write, reason: reason.to_string() };
        if !matches!(size, 1 | 2 | 4 | 8) {
            return Err(err("access size must be 1, 2, 4 or 8"));
        }
        let Ok(off) = u32::try_from(offset) else { return Err(err("negative offset")) };
        if off >= self.size || off + size > self.size {
            return Err(err(&format!("outside {} ({} bytes)", self.struct_name, self.size)));
        }
        if off % size != 0 {
            return Err(err("misaligned context access"));
        }
        if self.any_aligned_read {
            if write {
                return Err(err("tracepoint contexts are read-only"));
            }
            if off < 8 {
                return Err(err("the common_* header fields (first 8 bytes) are not readable"));
            }
            return self.field_containing(off).ok_or_else(|| err("no field at this offset"));
        }
        // A 4-byte load of a 2-byte port followed by padding (`bpf_sock.dst_port`), allowed for
        // programs written when the field was a `__u32`.
        if let Some(f) = self.field_containing(off) {
            if size == 4 && f.size == 2 && off == f.offset && f.name.ends_with("port") && f.access.read && !write {
                return Ok(f);
            }
        }
        let f = self.field_at(off, size).ok_or_else(|| err("not within one field (padding or across fields)"))?;
        let what = f.element_name(off);
        if write && !f.access.write {
            return Err(err(&format!("{what} is not writable by this program type")));
        }
        if !write && !f.access.read {
            return Err(err(&format!("{what} is not readable by this program type")));
        }
        // `cb` may be accessed with any aligned size, even 8 bytes spanning two elements.
        if f.name == "cb" {
            return Ok(f);
        }
        if (off - f.offset) % f.elem + size > f.elem {
            return Err(err(&format!("access spans two elements of {}", f.name)));
        }
        if size != f.elem && (write || !f.access.narrow) {
            return Err(err(&format!("{what} must be accessed with size {}", f.elem)));
        }
        if size != f.elem && f.access.narrow_at_start && off != f.offset {
            return Err(err(&format!("{what} may be loaded narrower only from its first byte")));
        }
        Ok(f)
    }
}

const fn fld(name: &'static str, offset: u32, size: u32, elem: u32, kind: FieldKind, access: Access) -> CtxField {
    CtxField { name, offset, size, elem, kind, access }
}

/// `struct __sk_buff` for a socket filter (`sk_filter_is_valid_access`), tc classifier
/// (`tc_cls_act_is_valid_access`), cgroup skb program (`cg_skb_is_valid_access`) or lightweight
/// tunnel program (`lwt_is_valid_access`), all on top of `bpf_skb_is_valid_access`.
fn sk_buff(t: ProgType) -> CtxLayout {
    use FieldKind::*;
    let ro = Access::RO;
    let tc = t == ProgType::Tc;
    let cg = t == ProgType::CgroupSkb;
    let lwt = matches!(t, ProgType::LwtIn | ProgType::LwtOut | ProgType::LwtXmit);
    // mark and priority: writable in tc, cgroup skb and lwt; queue_mapping, tc_index in tc only.
    let rw_if = |yes: bool| if yes { Access::RW } else { Access::RO };
    let only = |yes: bool, a: Access| if yes { a } else { Access::NONE };
    let pkt = only(tc || cg || lwt, Access::RO_EXACT);
    // The socket's addresses and ports: cgroup skb programs only (through `skb->sk`).
    let sk_field = only(cg, ro);
    let fields = vec![
        fld("len", 0, 4, 4, Scalar, ro),
        fld("pkt_type", 4, 4, 4, Scalar, ro),
        fld("mark", 8, 4, 4, Scalar, rw_if(tc || cg || lwt)),
        fld("queue_mapping", 12, 4, 4, Scalar, rw_if(tc)),
        fld("protocol", 16, 4, 4, Scalar, ro),
        fld("vlan_present", 20, 4, 4, Scalar, ro),
        fld("vlan_tci", 24, 4, 4, Scalar, ro),
        fld("vlan_proto", 28, 4, 4, Scalar, ro),
        fld("priority", 32, 4, 4, Scalar, rw_if(tc || cg || lwt)),
        fld("ingress_ifindex", 36, 4, 4, Scalar, ro),
        fld("ifindex", 40, 4, 4, Scalar, ro),
        fld("tc_index", 44, 4, 4, Scalar, rw_if(tc)),
        fld("cb", 48, 20, 4, Scalar, Access::RW),
        fld("hash", 68, 4, 4, Scalar, ro),
        fld("tc_classid", 72, 4, 4, Scalar, only(tc, Access::RW)),
        fld("data", 76, 4, 4, PacketStart, pkt),
        fld("data_end", 80, 4, 4, PacketEnd, pkt),
        fld("napi_id", 84, 4, 4, Scalar, ro),
        // family … local_port: sk_skb/sock_ops programs, and cgroup skb ones.
        fld("family", 88, 4, 4, Scalar, sk_field),
        fld("remote_ip4", 92, 4, 4, Scalar, only(cg, Access::RO_EXACT)),
        fld("local_ip4", 96, 4, 4, Scalar, only(cg, Access::RO_EXACT)),
        fld("remote_ip6", 100, 16, 4, Scalar, only(cg, Access::RO_EXACT)),
        fld("local_ip6", 116, 16, 4, Scalar, only(cg, Access::RO_EXACT)),
        fld("remote_port", 132, 4, 4, Scalar, sk_field),
        fld("local_port", 136, 4, 4, Scalar, sk_field),
        fld("data_meta", 140, 4, 4, PacketMeta, only(tc, Access::RO_EXACT)),
        // flow_keys: flow dissector programs only.
        fld("flow_keys", 144, 8, 8, Scalar, Access::NONE),
        // tstamp: tc reads and writes it; cgroup skb reads it (a write needs CAP_SYS_ADMIN,
        // which root has).
        fld("tstamp", 152, 8, 8, Scalar, only(tc || cg, Access::RW_EXACT)),
        fld("wire_len", 160, 4, 4, Scalar, only(tc, ro)),
        fld("gso_segs", 164, 4, 4, Scalar, ro),
        fld("sk", 168, 8, 8, SockOrNull, Access::RO_EXACT),
        fld("gso_size", 176, 4, 4, Scalar, ro),
        // tstamp_type: tc may load it, one byte (`tc_cls_act_is_valid_access` returns
        // `size == sizeof(__u8)` before the common rules); the others not. Then 3 bytes of
        // padding.
        fld("tstamp_type", 180, 1, 1, Scalar, only(tc, Access::RO)),
        fld("hwtstamp", 184, 8, 8, Scalar, only(tc || cg, Access::RO_EXACT)),
    ];
    CtxLayout { struct_name: "struct __sk_buff", size: 192, fields, any_aligned_read: false }
}

/// `struct bpf_sock` as `__sk_buff.sk` shows it to socket filters and tc programs: a
/// `PTR_TO_SOCK_COMMON`, whose loads `bpf_sock_common_is_valid_access` limits to the fields of
/// `struct sock_common` (not `type`, `protocol`, `mark`, `priority`).
fn bpf_sock() -> CtxLayout {
    bpf_sock_with(|name| match name {
        "type" | "protocol" | "mark" | "priority" => Access::NONE,
        _ => Access::RO,
    })
}

/// `struct bpf_sock`'s fields, with the access rules `access` gives each by name.
fn bpf_sock_with(access: impl Fn(&str) -> Access) -> CtxLayout {
    const FIELDS: [(&str, u32, u32, u32); 14] = [
        ("bound_dev_if", 0, 4, 4),
        ("family", 4, 4, 4),
        ("type", 8, 4, 4),
        ("protocol", 12, 4, 4),
        ("mark", 16, 4, 4),
        ("priority", 20, 4, 4),
        ("src_ip4", 24, 4, 4),
        ("src_ip6", 28, 16, 4),
        ("src_port", 44, 4, 4),
        // A big-endian u16 followed by 16 bits of padding no load may touch (a 4-byte load of
        // the port is allowed: see `check_access`).
        ("dst_port", 48, 2, 2),
        ("dst_ip4", 52, 4, 4),
        ("dst_ip6", 56, 16, 4),
        ("state", 72, 4, 4),
        ("rx_queue_mapping", 76, 4, 4),
    ];
    let fields =
        FIELDS.iter().map(|&(n, off, size, elem)| fld(n, off, size, elem, FieldKind::Scalar, access(n))).collect();
    CtxLayout { struct_name: "struct bpf_sock", size: 80, fields, any_aligned_read: false }
}

/// The layout of `struct bpf_sock`, what `__sk_buff.sk` points to.
pub fn bpf_sock_layout() -> &'static CtxLayout {
    static SOCK: OnceLock<CtxLayout> = OnceLock::new();
    SOCK.get_or_init(bpf_sock)
}

/// `struct xdp_md` (`xdp_is_valid_access`: 4-byte loads only, no stores; `egress_ifindex` only for
/// devmap programs, which ebpf-lab does not model).
fn xdp_md() -> CtxLayout {
    use FieldKind::*;
    let ro = Access::RO_EXACT;
    let fields = vec![
        fld("data", 0, 4, 4, PacketStart, ro),
        fld("data_end", 4, 4, 4, PacketEnd, ro),
        fld("data_meta", 8, 4, 4, PacketMeta, ro),
        fld("ingress_ifindex", 12, 4, 4, Scalar, ro),
        fld("rx_queue_index", 16, 4, 4, Scalar, ro),
        fld("egress_ifindex", 20, 4, 4, Scalar, Access::NONE),
    ];
    CtxLayout { struct_name: "struct xdp_md", size: 24, fields, any_aligned_read: false }
}

/// Which syscall tracepoint record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SyscallTracepoint {
    /// `syscalls/sys_enter_*`: `struct trace_event_raw_sys_enter`.
    Enter,
    /// `syscalls/sys_exit_*`: `struct trace_event_raw_sys_exit`.
    Exit,
}

/// Syscall tracepoint records, as `/sys/kernel/tracing/events/syscalls/sys_enter_openat/format`
/// prints them: the common header (`u16 common_type`, `u8 common_flags`,
/// `u8 common_preempt_count`, `i32 common_pid`), `int __syscall_nr` at 8, then from 16 either six
/// `unsigned long args` (enter) or `long ret` (exit).
fn syscall_record(which: SyscallTracepoint) -> CtxLayout {
    use FieldKind::Scalar;
    let ro = Access::RO;
    let mut fields = vec![
        fld("common_type", 0, 2, 2, Scalar, Access::NONE),
        fld("common_flags", 2, 1, 1, Scalar, Access::NONE),
        fld("common_preempt_count", 3, 1, 1, Scalar, Access::NONE),
        fld("common_pid", 4, 4, 4, Scalar, Access::NONE),
        fld("__syscall_nr", 8, 4, 4, Scalar, ro),
        fld("__pad", 12, 4, 4, Scalar, ro),
    ];
    let size = match which {
        SyscallTracepoint::Enter => {
            fields.push(fld("args", 16, 48, 8, Scalar, ro));
            64
        }
        SyscallTracepoint::Exit => {
            fields.push(fld("ret", 16, 8, 8, Scalar, ro));
            24
        }
    };
    let struct_name = match which {
        SyscallTracepoint::Enter => "struct trace_event_raw_sys_enter",
        SyscallTracepoint::Exit => "struct trace_event_raw_sys_exit",
    };
    CtxLayout { struct_name, size, fields, any_aligned_read: true }
}

/// The layout of a syscall tracepoint record.
pub fn syscall_tracepoint_layout(which: SyscallTracepoint) -> &'static CtxLayout {
    static ENTER: OnceLock<CtxLayout> = OnceLock::new();
    static EXIT: OnceLock<CtxLayout> = OnceLock::new();
    match which {
        SyscallTracepoint::Enter => ENTER.get_or_init(|| syscall_record(which)),
        SyscallTracepoint::Exit => EXIT.get_or_init(|| syscall_record(which)),
    }
}

/// The context layout of a program type: `None` for `mem` and `syscall`, whose context is a plain
/// buffer. Tracepoint programs get the `sys_enter` record (see [`syscall_tracepoint_layout`] for
/// `sys_exit`).
pub fn ctx_layout(prog_type: ProgType) -> Option<&'static CtxLayout> {
    static SOCKET: OnceLock<CtxLayout> = OnceLock::new();
    static TC: OnceLock<CtxLayout> = OnceLock::new();
    static CGROUP_SKB: OnceLock<CtxLayout> = OnceLock::new();
    static LWT: OnceLock<CtxLayout> = OnceLock::new();
    static XDP: OnceLock<CtxLayout> = OnceLock::new();
    static PT_REGS: OnceLock<CtxLayout> = OnceLock::new();
    static RAW_TP: OnceLock<CtxLayout> = OnceLock::new();
    static CGROUP_SOCK: OnceLock<CtxLayout> = OnceLock::new();
    static SK_LOOKUP: OnceLock<CtxLayout> = OnceLock::new();
    match prog_type {
        ProgType::Mem | ProgType::Syscall => None,
        ProgType::Xdp => Some(XDP.get_or_init(xdp_md)),
        ProgType::Socket => Some(SOCKET.get_or_init(|| sk_buff(ProgType::Socket))),
        ProgType::Tc => Some(TC.get_or_init(|| sk_buff(ProgType::Tc))),
        ProgType::CgroupSkb => Some(CGROUP_SKB.get_or_init(|| sk_buff(ProgType::CgroupSkb))),
        // The three lwt hooks share their context rules; only packet writes differ.
        ProgType::LwtIn | ProgType::LwtOut | ProgType::LwtXmit => Some(LWT.get_or_init(|| sk_buff(ProgType::LwtIn))),
        ProgType::Tracepoint => Some(syscall_tracepoint_layout(SyscallTracepoint::Enter)),
        ProgType::Kprobe => Some(PT_REGS.get_or_init(pt_regs)),
        ProgType::RawTracepoint => Some(RAW_TP.get_or_init(raw_tracepoint_args)),
        ProgType::CgroupSock => Some(CGROUP_SOCK.get_or_init(cgroup_bpf_sock)),
        ProgType::SkLookup => Some(SK_LOOKUP.get_or_init(sk_lookup)),
    }
}

/// `struct pt_regs` of x86-64 as kprobe programs see it (`kprobe_prog_is_valid_access`): any
/// aligned load of 1, 2, 4 or 8 bytes within it, no stores. Register names are the kernel's
/// (`di` is the first argument, `ax` the return value).
fn pt_regs() -> CtxLayout {
    const REGS: [&str; 21] = [
        "r15", "r14", "r13", "r12", "bp", "bx", "r11", "r10", "r9", "r8", "ax", "cx", "dx", "si", "di", "orig_ax",
        "ip", "cs", "flags", "sp", "ss",
    ];
    let fields =
        REGS.iter().enumerate().map(|(i, n)| fld(n, 8 * i as u32, 8, 8, FieldKind::Scalar, Access::RO)).collect();
    CtxLayout { struct_name: "struct pt_regs", size: 8 * REGS.len() as u32, fields, any_aligned_read: false }
}

/// `MAX_BPF_FUNC_ARGS`: a raw tracepoint passes at most this many arguments.
pub const RAW_TP_MAX_ARGS: u32 = 12;

/// `struct bpf_raw_tracepoint_args` (`raw_tp_prog_is_valid_access`): `u64 args[]`, any aligned
/// load within the twelve arguments a tracepoint can have, no stores.
fn raw_tracepoint_args() -> CtxLayout {
    let size = 8 * RAW_TP_MAX_ARGS;
    let fields = vec![fld("args", 0, size, 8, FieldKind::Scalar, Access::RO)];
    CtxLayout { struct_name: "struct bpf_raw_tracepoint_args", size, fields, any_aligned_read: false }
}

/// `struct bpf_sock` of a `cgroup/sock_create` program (`sock_filter_is_valid_access`):
/// `bound_dev_if`, `mark` and `priority` readable and writable with 4-byte accesses; the
/// source address and port only at bind time (other attach types), so refused here.
fn cgroup_bpf_sock() -> CtxLayout {
    bpf_sock_with(|name| match name {
        "bound_dev_if" | "mark" | "priority" => Access::RW_EXACT,
        "src_ip4" | "src_ip6" | "src_port" => Access::NONE,
        "family" | "type" | "protocol" | "state" | "rx_queue_mapping" => Access::RO_AT_START,
        _ => Access::RO,
    })
}

/// `struct bpf_sk_lookup` (`sk_lookup_is_valid_access`): read-only; `sk` (the selected socket,
/// NULL until `bpf_sk_assign`) with 8-byte loads, the rest with any narrower aligned load;
/// `remote_port` is a big-endian u16 whose padding may be read with it.
fn sk_lookup() -> CtxLayout {
    use FieldKind::*;
    let ro = Access::RO;
    let fields = vec![
        fld("sk", 0, 8, 8, SockOrNull, Access::RO_EXACT),
        fld("family", 8, 4, 4, Scalar, ro),
        fld("protocol", 12, 4, 4, Scalar, ro),
        fld("remote_ip4", 16, 4, 4, Scalar, ro),
        fld("remote_ip6", 20, 16, 4, Scalar, ro),
        fld("remote_port", 36, 4, 4, Scalar, ro),
        fld("local_ip4", 40, 4, 4, Scalar, ro),
        fld("local_ip6", 44, 16, 4, Scalar, ro),
        fld("local_port", 60, 4, 4, Scalar, ro),
        fld("ingress_ifindex", 64, 4, 4, Scalar, ro),
    ];
    CtxLayout { struct_name: "struct bpf_sk_lookup", size: 72, fields, any_aligned_read: false }
}

/// `XDP_ABORTED`: error; drop and raise the `xdp_exception` tracepoint.
pub const XDP_ABORTED: u32 = 0;
/// `XDP_DROP`: drop the packet.
pub const XDP_DROP: u32 = 1;
/// `XDP_PASS`: hand the packet to the network stack.
pub const XDP_PASS: u32 = 2;
/// `XDP_TX`: bounce the packet out of the interface it came in on.
pub const XDP_TX: u32 = 3;
/// `XDP_REDIRECT`: send it where `bpf_redirect*` said.
pub const XDP_REDIRECT: u32 = 4;

/// `TC_ACT_UNSPEC` (-1): use the qdisc's default action.
pub const TC_ACT_UNSPEC: i32 = -1;
/// `TC_ACT_OK`: let the packet through.
pub const TC_ACT_OK: i32 = 0;
/// `TC_ACT_RECLASSIFY`: restart classification.
pub const TC_ACT_RECLASSIFY: i32 = 1;
/// `TC_ACT_SHOT`: drop.
pub const TC_ACT_SHOT: i32 = 2;
/// `TC_ACT_PIPE`: continue with the next action.
pub const TC_ACT_PIPE: i32 = 3;
/// `TC_ACT_STOLEN`: consumed, don't touch it any more.
pub const TC_ACT_STOLEN: i32 = 4;
/// `TC_ACT_QUEUED`: queued for later.
pub const TC_ACT_QUEUED: i32 = 5;
/// `TC_ACT_REPEAT`: run the action again.
pub const TC_ACT_REPEAT: i32 = 6;
/// `TC_ACT_REDIRECT`: send it where `bpf_redirect*` said.
pub const TC_ACT_REDIRECT: i32 = 7;
/// `TC_ACT_TRAP`: hand to the hardware's slow path.
pub const TC_ACT_TRAP: i32 = 8;

/// A name for return value `r0` of a program of type `prog_type`, where the type gives return
/// values a meaning (`"XDP_PASS"`, `"TC_ACT_SHOT"`, `"drop"` for a socket filter's 0).
pub fn describe_return(prog_type: ProgType, r0: u64) -> Option<&'static str> {
    match prog_type {
        // The kernel reads the action as a u32 (`bpf_prog_run_xdp` returns u32).
        ProgType::Xdp => match r0 as u32 {
            XDP_ABORTED => Some("XDP_ABORTED"),
            XDP_DROP => Some("XDP_DROP"),
            XDP_PASS => Some("XDP_PASS"),
            XDP_TX => Some("XDP_TX"),
            XDP_REDIRECT => Some("XDP_REDIRECT"),
            _ => None,
        },
        // tc reads an int.
        ProgType::Tc => match r0 as u32 as i32 {
            TC_ACT_UNSPEC => Some("TC_ACT_UNSPEC"),
            TC_ACT_OK => Some("TC_ACT_OK"),
            TC_ACT_RECLASSIFY => Some("TC_ACT_RECLASSIFY"),
            TC_ACT_SHOT => Some("TC_ACT_SHOT"),
            TC_ACT_PIPE => Some("TC_ACT_PIPE"),
            TC_ACT_STOLEN => Some("TC_ACT_STOLEN"),
            TC_ACT_QUEUED => Some("TC_ACT_QUEUED"),
            TC_ACT_REPEAT => Some("TC_ACT_REPEAT"),
            TC_ACT_REDIRECT => Some("TC_ACT_REDIRECT"),
            TC_ACT_TRAP => Some("TC_ACT_TRAP"),
            _ => None,
        },
        // A socket filter returns how many bytes to keep (an unsigned int); 0 drops.
        ProgType::Socket => Some(if r0 as u32 == 0 { "drop" } else { "keep (truncated to r0 bytes)" }),
        ProgType::CgroupSkb | ProgType::CgroupSock => match r0 as u32 {
            0 => Some("refuse"),
            1 => Some("allow"),
            _ => None,
        },
        ProgType::SkLookup => match r0 as u32 {
            0 => Some("SK_DROP"),
            1 => Some("SK_PASS"),
            _ => None,
        },
        // `enum bpf_ret_code`.
        ProgType::LwtIn | ProgType::LwtOut | ProgType::LwtXmit => match r0 as u32 {
            0 => Some("BPF_OK"),
            2 => Some("BPF_DROP"),
            7 => Some("BPF_REDIRECT"),
            128 => Some("BPF_LWT_REROUTE"),
            _ => None,
        },
        ProgType::Mem | ProgType::Tracepoint | ProgType::Syscall | ProgType::Kprobe | ProgType::RawTracepoint => None,
    }
}
