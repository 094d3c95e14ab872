//! [`RegState`]: what the verifier knows of one register (the kernel's `struct bpf_reg_state`):
//! its type, the fixed and variable parts of a pointer's offset, the `id` that links copies of one
//! pointer (so a NULL check or a packet bounds check refines every copy), and per-type extras.

use super::scalar::ScalarValue;
use std::fmt;

/// A register's type (the kernel's `enum bpf_reg_type`, only the kinds ebpf-lab programs meet).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegKind {
    /// Never written (`NOT_INIT`): reading it is an error.
    NotInit,
    /// A number (`SCALAR_VALUE`).
    Scalar,
    /// The context (`PTR_TO_CTX`).
    Ctx,
    /// A stack pointer: frame pointer plus offset (`PTR_TO_STACK`).
    Stack,
    /// A map reference from `lddw` (`CONST_PTR_TO_MAP`).
    MapPtr,
    /// Into a map value (`PTR_TO_MAP_VALUE`).
    MapValue,
    /// The key a `bpf_for_each_map_elem` callback is handed (`PTR_TO_MAP_KEY`): read-only.
    MapKey,
    /// Into the packet (`PTR_TO_PACKET`).
    Packet,
    /// One past the packet's last byte (`PTR_TO_PACKET_END`).
    PacketEnd,
    /// Into the packet's metadata (`PTR_TO_PACKET_META`).
    PacketMeta,
    /// A ring buffer record from `bpf_ringbuf_reserve` (`PTR_TO_MEM | MEM_RINGBUF`).
    RingbufMem,
    /// `__sk_buff.sk` (`PTR_TO_SOCK_COMMON`).
    SockCommon,
    /// A callback from `lddw` with `BPF_PSEUDO_FUNC` (`PTR_TO_FUNC`).
    Func,
}

impl RegKind {
    /// The kernel's `reg_type_str` base name.
    pub const fn kernel_name(self) -> &'static str {
        match self {
            RegKind::NotInit => "?",
            RegKind::Scalar => "scalar",
            RegKind::Ctx => "ctx",
            RegKind::Stack => "fp",
            RegKind::MapPtr => "map_ptr",
            RegKind::MapValue => "map_value",
            RegKind::MapKey => "map_key",
            RegKind::Packet => "pkt",
            RegKind::PacketEnd => "pkt_end",
            RegKind::PacketMeta => "pkt_meta",
            RegKind::RingbufMem => "ringbuf_mem",
            RegKind::SockCommon => "sock_common",
            RegKind::Func => "func",
        }
    }

    /// True for the packet pointers that carry a proven range.
    pub const fn is_pkt(self) -> bool {
        matches!(self, RegKind::Packet | RegKind::PacketMeta)
    }
}

/// One register's abstract state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RegState {
    /// The type.
    pub kind: RegKind,
    /// May still be NULL (`PTR_MAYBE_NULL`): map lookups, ringbuf reserve, `__sk_buff.sk`.
    pub maybe_null: bool,
    /// Fixed part of a pointer's offset.
    pub off: i32,
    /// A scalar's value, or a pointer's variable offset.
    pub var: ScalarValue,
    /// Links copies: registers with the same non-zero id are the same pointer (or number).
    pub id: u32,
    /// For acquired references (ringbuf records): the reference's id.
    pub ref_id: u32,
    /// Packet pointers: bytes proven readable from the pointer (`range`).
    pub range: i32,
    /// Map references and map values: index into the verifier's map list.
    pub map: u32,
    /// Ringbuf records: size in bytes. Callbacks (`Func`): the slot their function starts at.
    pub mem_size: u32,
    /// Stack pointers: which frame's stack.
    pub frame: u8,
}

impl RegState {
    /// Never written.
    pub fn not_init() -> RegState {
        RegState {
            kind: RegKind::NotInit,
            maybe_null: false,
            off: 0,
            var: ScalarValue::constant(0),
            id: 0,
            ref_id: 0,
            range: 0,
            map: 0,
            mem_size: 0,
            frame: 0,
        }
    }

    /// A scalar with value set `var`.
    pub fn scalar(var: ScalarValue) -> RegState {
        RegState { kind: RegKind::Scalar, var, ..RegState::not_init() }
    }

    /// Any number (`mark_reg_unknown`).
    pub fn unknown() -> RegState {
        RegState::scalar(ScalarValue::unknown())
    }

    /// Exactly `v`.
    pub fn known(v: u64) -> RegState {
        RegState::scalar(ScalarValue::constant(v))
    }

    /// A pointer of `kind` at offset 0 (`mark_reg_known_zero` then a type).
    pub fn pointer(kind: RegKind) -> RegState {
        RegState { kind, ..RegState::not_init() }
    }

    /// The frame pointer of frame `frame`.
    pub fn frame_pointer(frame: u8) -> RegState {
        RegState { frame, ..RegState::pointer(RegKind::Stack) }
    }

    /// True when the register was never written.
    pub fn is_init(&self) -> bool {
        self.kind != RegKind::NotInit
    }

    /// True for a pointer (anything initialised but a scalar).
    pub fn is_pointer(&self) -> bool {
        !matches!(self.kind, RegKind::Scalar | RegKind::NotInit)
    }

    /// The constant, for a scalar with a single possible value.
    pub fn const_value(&self) -> Option<u64> {
        if self.kind == RegKind::Scalar {
            self.var.const_value()
        } else {
            None
        }
    }

    /// True for the scalar 0 (`register_is_null`).
    pub fn is_null(&self) -> bool {
        self.const_value() == Some(0)
    }

    /// True when the pointer cannot be NULL (`reg_not_null`, for the types modelled). Only the
    /// kernel's list counts: map values and keys, sockets, ring buffer memory and map
    /// references. A stack, context or packet pointer is never NULL either, but the kernel does
    /// not decide `fp != 0`, and explores both edges.
    pub fn not_null(&self) -> bool {
        !self.maybe_null
            && matches!(
                self.kind,
                RegKind::MapValue | RegKind::MapKey | RegKind::SockCommon | RegKind::RingbufMem | RegKind::MapPtr
            )
    }

    /// The kernel's `reg_type_str`: `map_value_or_null`, `fp`, `scalar`, `ringbuf_mem_or_null`.
    pub fn type_str(&self) -> String {
        let mut s = self.kind.kernel_name().to_string();
        if self.maybe_null {
            s.push_str("_or_null");
        }
        s
    }
}

/// Map facts the printer needs (`map=NAME,ks=K,vs=V`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapInfo {
    /// The map's name.
    pub name: String,
    /// Its type.
    pub map_type: crate::program::MapType,
    /// Key size.
    pub key_size: u32,
    /// Value size.
    pub value_size: u32,
    /// Maximum entries.
    pub max_entries: u32,
    /// Maps of maps: the index in the verifier's map list of the inner map's template (the
    /// kernel's `inner_map_meta`), which a lookup gives once checked against NULL.
    pub inner: Option<u32>,
}

/// A register printed as the kernel's log prints it (`print_reg_state`), with its maps.
pub struct KernelReg<'a> {
    /// The register.
    pub reg: &'a RegState,
    /// The verifier's maps.
    pub maps: &'a [MapInfo],
}

impl fmt::Display for KernelReg<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.reg;
        match r.kind {
            RegKind::NotInit => return f.write_str("?"),
            RegKind::Scalar => return write!(f, "{}", r.var),
            RegKind::Stack if r.var.const_value() == Some(0) => return write!(f, "fp{}", r.off),
            _ => {}
        }
        let mut parts: Vec<String> = Vec::new();
        if r.id != 0 {
            parts.push(format!("id={}", r.id));
        }
        if r.ref_id != 0 {
            parts.push(format!("ref_obj_id={}", r.ref_id));
        }
        if r.off != 0 {
            parts.push(format!("off={}", r.off));
        }
        if r.kind.is_pkt() {
            parts.push(format!("r={}", r.range));
        }
        if matches!(r.kind, RegKind::MapPtr | RegKind::MapValue | RegKind::MapKey) {
            if let Some(m) = self.maps.get(r.map as usize) {
                parts.push(format!("map={},ks={},vs={}", m.name, m.key_size, m.value_size));
            }
        }
        if r.kind == RegKind::RingbufMem {
            parts.push(format!("sz={}", r.mem_size));
        }
        if r.var.const_value() != Some(0) {
            // The scalar printer's inner part: `scalar(...)` without its name.
            let v = r.var.to_string();
            let inner = v.strip_prefix("scalar(").and_then(|s| s.strip_suffix(')')).map(str::to_string);
            match inner {
                Some(i) if !i.is_empty() => parts.push(i),
                Some(_) => {}
                None => parts.push(format!("var_off={}", r.var.var_off)),
            }
        }
        write!(f, "{}({})", r.type_str(), parts.join(","))
    }
}
