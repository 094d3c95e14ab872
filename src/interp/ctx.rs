//! Building the context a program sees in `r1`, per program type, with the real virtual
//! addresses of the packet in the `data`/`data_end`/`data_meta` fields.
//!
//! Offsets are the kernel's (`include/uapi/linux/bpf.h`). The kernel rewrites context loads
//! into loads from the real `struct xdp_buff`/`sk_buff`; we get the same observable behaviour by
//! building the UAPI structure itself and checking each access against its field table.

use super::memory::{CtxField, PACKET_BASE, PACKET_HEADROOM};

/// Size of `struct xdp_md`.
pub const XDP_MD_SIZE: usize = 24;
/// Size of `struct __sk_buff`.
pub const SK_BUFF_SIZE: usize = 192;
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

fn field(name: &'static str, offset: u32, size: u32, writable: bool) -> CtxField {
    CtxField { name, offset, size, writable, whole_only: false }
}

fn ptr_field(name: &'static str, offset: u32) -> CtxField {
    CtxField { name, offset, size: 4, writable: false, whole_only: true }
}

/// Writes `v` little endian at `off`.
pub fn put_u32(buf: &mut [u8], off: usize, v: u32) {
    if let Some(s) = buf.get_mut(off..off + 4) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

/// Reads a little-endian u32 at `off` (0 when out of range).
pub fn get_u32(buf: &[u8], off: usize) -> u32 {
    buf.get(off..off + 4).map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// `struct xdp_md` for a packet of `len` bytes placed after the headroom.
pub fn xdp_md(len: usize, ingress_ifindex: u32, rx_queue_index: u32) -> (Vec<u8>, Vec<CtxField>) {
    let data = (PACKET_BASE + PACKET_HEADROOM) as u32;
    let mut ctx = vec![0u8; XDP_MD_SIZE];
    put_u32(&mut ctx, 0, data);
    put_u32(&mut ctx, 4, data + len as u32);
    put_u32(&mut ctx, 8, data); // data_meta: no metadata yet
    put_u32(&mut ctx, 12, ingress_ifindex);
    put_u32(&mut ctx, 16, rx_queue_index);
    let fields = vec![
        ptr_field("data", 0),
        ptr_field("data_end", 4),
        ptr_field("data_meta", 8),
        field("ingress_ifindex", 12, 4, false),
        field("rx_queue_index", 16, 4, false),
        field("egress_ifindex", 20, 4, false),
    ];
    (ctx, fields)
}

/// `struct __sk_buff` for `packet`, whose data starts `data_off` bytes into the packet buffer
/// (after the headroom). `tc` selects the classifier's wider write permissions.
pub fn sk_buff(packet: &[u8], data_off: usize, f: &SkbFields, tc: bool) -> (Vec<u8>, Vec<CtxField>) {
    let data = (PACKET_BASE + PACKET_HEADROOM) as u32 + data_off as u32;
    let len = packet.len().saturating_sub(data_off) as u32;
    let mut ctx = vec![0u8; SK_BUFF_SIZE];
    put_u32(&mut ctx, 0, len);
    put_u32(&mut ctx, 8, f.mark);
    // protocol is big endian in the skb; BPF_PROG_TEST_RUN takes it from the Ethernet header.
    if let Some(p) = packet.get(12..14) {
        ctx[16] = p[0];
        ctx[17] = p[1];
    }
    put_u32(&mut ctx, 20, u32::from(f.vlan_tci != 0));
    put_u32(&mut ctx, 24, f.vlan_tci);
    put_u32(&mut ctx, 32, f.priority);
    put_u32(&mut ctx, 36, f.ingress_ifindex);
    put_u32(&mut ctx, 40, f.ifindex);
    put_u32(&mut ctx, 44, f.tc_index);
    for (i, cb) in f.cb.iter().enumerate() {
        put_u32(&mut ctx, 48 + 4 * i, *cb);
    }
    put_u32(&mut ctx, 68, f.hash);
    put_u32(&mut ctx, 76, data);
    put_u32(&mut ctx, 80, data + len);
    put_u32(&mut ctx, 140, data);
    put_u32(&mut ctx, 160, packet.len() as u32);
    let mut fields = vec![
        field("len", 0, 4, false),
        field("pkt_type", 4, 4, false),
        field("mark", 8, 4, tc),
        field("queue_mapping", 12, 4, tc),
        field("protocol", 16, 4, false),
        field("vlan_present", 20, 4, false),
        field("vlan_tci", 24, 4, false),
        field("vlan_proto", 28, 4, false),
        field("priority", 32, 4, tc),
        field("ingress_ifindex", 36, 4, false),
        field("ifindex", 40, 4, false),
        field("tc_index", 44, 4, tc),
        field("cb", 48, 20, true),
        field("hash", 68, 4, false),
        field("tc_classid", 72, 4, tc),
        ptr_field("data", 76),
        ptr_field("data_end", 80),
        field("napi_id", 84, 4, false),
        field("tstamp", 152, 8, tc),
        field("wire_len", 160, 4, false),
        field("gso_segs", 164, 4, false),
        field("gso_size", 176, 4, false),
    ];
    if tc {
        fields.push(ptr_field("data_meta", 140));
    }
    (ctx, fields)
}
