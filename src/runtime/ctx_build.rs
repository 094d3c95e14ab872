//! Building the context a program sees in `r1`, per program type, with the real virtual
//! addresses of the packet in the `data`/`data_end`/`data_meta` fields.
//!
//! Layouts and access rules are [`crate::runtime::ctx`]'s, the one description of the kernel's
//! structures that the verifier, the kernel backend and the interpreter share: every field is
//! placed by looking its name up there, so this module holds no offsets of its own. The kernel
//! rewrites context loads into loads from the real `struct xdp_buff`/`sk_buff`; we get the same
//! observable behaviour by building the UAPI structure itself and checking each access with
//! [`CtxLayout::check_access`](crate::runtime::ctx::CtxLayout::check_access).

use super::memory::{PACKET_BASE, PACKET_HEADROOM};
use crate::runtime::ctx::{CtxLayout, FieldKind};

/// Ethernet header length: socket filters see the packet from the network header on, as
/// `BPF_PROG_TEST_RUN` sets them up.
pub const ETH_HLEN: usize = 14;

/// Fields of `struct __sk_buff` a program may set before the run (the rest are derived).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SkbFields {
    /// `mark`.
    pub mark: u32,
    /// `priority`.
    pub priority: u32,
    /// `ingress_ifindex`.
    pub ingress_ifindex: u32,
    /// `ifindex`.
    pub ifindex: u32,
    /// `tc_index`.
    pub tc_index: u32,
    /// `cb[5]`: scratch space shared between programs.
    pub cb: [u32; 5],
    /// `hash`.
    pub hash: u32,
    /// `vlan_tci`.
    pub vlan_tci: u32,
}

/// Context bytes under construction, with the layout that places each field.
struct Builder {
    layout: &'static CtxLayout,
    bytes: Vec<u8>,
}

impl Builder {
    fn new(layout: &'static CtxLayout) -> Builder {
        Builder { layout, bytes: vec![0; layout.size as usize] }
    }

    /// Stores `v` little endian in element `idx` of field `name` (4-byte fields and arrays of
    /// them). A name the layout lacks is a bug in this module, not bad input; it is skipped in
    /// release builds rather than crashing a run.
    fn put(&mut self, name: &str, idx: u32, v: u32) {
        let Some(f) = self.layout.field(name) else {
            debug_assert!(false, "{} has no field `{name}`", self.layout.struct_name);
            return;
        };
        debug_assert!(f.elem == 4 && idx < f.size / f.elem, "{name}[{idx}] is not a 4-byte element");
        let at = (f.offset + idx * f.elem) as usize;
        if let Some(s) = self.bytes.get_mut(at..at + 4) {
            s.copy_from_slice(&v.to_le_bytes());
        }
    }
}

/// Where the packet pointers live in a context: byte offsets of the `data` and `data_end`
/// fields, found by what they hold rather than by name.
pub fn packet_fields(layout: &CtxLayout) -> Option<(usize, usize)> {
    let at = |kind| layout.fields.iter().find(|f| f.kind == kind).map(|f| f.offset as usize);
    Some((at(FieldKind::PacketStart)?, at(FieldKind::PacketEnd)?))
}

/// Reads a little-endian u32 at `off` (0 when out of range).
pub fn get_u32(buf: &[u8], off: usize) -> u32 {
    buf.get(off..off + 4).map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// `struct xdp_md` (laid out by `layout`) for a packet of `len` bytes placed after the headroom.
pub fn xdp_md(layout: &'static CtxLayout, len: usize, ingress_ifindex: u32, rx_queue_index: u32) -> Vec<u8> {
    let data = (PACKET_BASE + PACKET_HEADROOM) as u32;
    let mut b = Builder::new(layout);
    b.put("data", 0, data);
    b.put("data_end", 0, data + len as u32);
    b.put("data_meta", 0, data); // no metadata yet
    b.put("ingress_ifindex", 0, ingress_ifindex);
    b.put("rx_queue_index", 0, rx_queue_index);
    b.bytes
}

/// `struct __sk_buff` (laid out by `layout`, the socket filter's or tc's) for `packet`, whose
/// data starts `data_off` bytes into the packet buffer (after the headroom).
///
/// The packet pointers are filled in for every program type, also where the program may not
/// read them (socket filters): the interpreter itself finds the packet through them
/// (`BPF_LD_ABS`, the packet returned after the run), as the kernel finds it through the skb.
pub fn sk_buff(layout: &'static CtxLayout, packet: &[u8], data_off: usize, f: &SkbFields) -> Vec<u8> {
    let data = (PACKET_BASE + PACKET_HEADROOM) as u32 + data_off as u32;
    let len = packet.len().saturating_sub(data_off) as u32;
    let mut b = Builder::new(layout);
    b.put("len", 0, len);
    b.put("mark", 0, f.mark);
    // protocol is the big-endian EtherType as stored in the skb (BPF_PROG_TEST_RUN takes it from
    // the Ethernet header), loaded as a number: its bytes keep network order.
    if let Some(p) = packet.get(12..14) {
        b.put("protocol", 0, u32::from(u16::from_le_bytes([p[0], p[1]])));
    }
    b.put("vlan_present", 0, u32::from(f.vlan_tci != 0));
    b.put("vlan_tci", 0, f.vlan_tci);
    b.put("priority", 0, f.priority);
    b.put("ingress_ifindex", 0, f.ingress_ifindex);
    b.put("ifindex", 0, f.ifindex);
    b.put("tc_index", 0, f.tc_index);
    for (i, cb) in f.cb.iter().enumerate() {
        b.put("cb", i as u32, *cb);
    }
    b.put("hash", 0, f.hash);
    b.put("data", 0, data);
    b.put("data_end", 0, data + len);
    b.put("data_meta", 0, data);
    b.put("wire_len", 0, packet.len() as u32);
    b.bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::ProgType;
    use crate::runtime::ctx::ctx_layout;

    #[test]
    fn fields_land_where_the_layout_says() {
        let l = ctx_layout(ProgType::Tc).unwrap();
        let mut p = vec![0u8; 20];
        p[12] = 0x86;
        p[13] = 0xdd;
        let f = SkbFields { mark: 3, cb: [0, 0, 0, 0, 9], ..SkbFields::default() };
        let ctx = sk_buff(l, &p, 0, &f);
        assert_eq!(ctx.len(), l.size as usize);
        let at = |n: &str| l.field(n).unwrap().offset as usize;
        assert_eq!(get_u32(&ctx, at("mark")), 3);
        assert_eq!(get_u32(&ctx, at("cb") + 16), 9);
        assert_eq!(get_u32(&ctx, at("len")), 20);
        assert_eq!(ctx[at("protocol")..at("protocol") + 2], [0x86, 0xdd], "network order");
        let (data, end) = packet_fields(l).unwrap();
        assert_eq!(get_u32(&ctx, end) - get_u32(&ctx, data), 20);
        let x = ctx_layout(ProgType::Xdp).unwrap();
        let md = xdp_md(x, 7, 4, 2);
        let (data, end) = packet_fields(x).unwrap();
        assert_eq!(get_u32(&md, end) - get_u32(&md, data), 7);
        assert_eq!(get_u32(&md, x.field("ingress_ifindex").unwrap().offset as usize), 4);
        assert_eq!(get_u32(&md, x.field("rx_queue_index").unwrap().offset as usize), 2);
    }

    #[test]
    fn tracepoint_and_syscall_contexts_have_no_packet() {
        assert!(packet_fields(ctx_layout(ProgType::Tracepoint).unwrap()).is_none());
    }
}
