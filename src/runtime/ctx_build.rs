//! Building the context a program sees in `r1`, per program type, with the real virtual
//! addresses of the packet in the `data`/`data_end`/`data_meta` fields.
//!
//! Layouts and access rules are [`crate::runtime::ctx`]'s, the one description of the kernel's
//! structures that the verifier, the kernel backend and the interpreter share: every field is
//! placed by looking its name up there, so this module holds no offsets of its own. The kernel
//! rewrites context loads into loads from the real `struct xdp_buff`/`sk_buff`; we get the same
//! observable behaviour by building the UAPI structure itself and checking each access with
//! [`CtxLayout::check_access`](crate::runtime::ctx::CtxLayout::check_access).

use super::memory::{PACKET_BASE, PACKET_HEADROOM, SOCK_BASE};
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
    /// A builder writing into `bytes` (an earlier run's buffer, so a run allocates nothing),
    /// zeroed to the layout's size first.
    fn reusing(layout: &'static CtxLayout, mut bytes: Vec<u8>) -> Builder {
        bytes.clear();
        bytes.resize(layout.size as usize, 0);
        Builder { layout, bytes }
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
    xdp_md_in(Vec::new(), layout, len, ingress_ifindex, rx_queue_index)
}

/// [`xdp_md`] built in `buf` (its old contents dropped, its allocation kept).
pub fn xdp_md_in(
    buf: Vec<u8>,
    layout: &'static CtxLayout,
    len: usize,
    ingress_ifindex: u32,
    rx_queue_index: u32,
) -> Vec<u8> {
    let data = (PACKET_BASE + PACKET_HEADROOM) as u32;
    let mut b = Builder::reusing(layout, buf);
    // (no metadata yet: `data_meta` = `data`)
    let values = [data, data + len as u32, data, ingress_ifindex, rx_queue_index];
    for (at, v) in xdp_md_offsets(layout).into_iter().zip(values) {
        if let Some(s) = at.and_then(|at| b.bytes.get_mut(at..at + 4)) {
            s.copy_from_slice(&v.to_le_bytes());
        }
    }
    b.bytes
}

/// The fields [`xdp_md`] fills, in the order of its values.
const XDP_MD_FIELDS: [&str; 5] = ["data", "data_end", "data_meta", "ingress_ifindex", "rx_queue_index"];

/// Where [`XDP_MD_FIELDS`] are in `layout`: looked up by name once (for the layout of the
/// first call, which is the one XDP layout), not on every run.
fn xdp_md_offsets(layout: &'static CtxLayout) -> [Option<usize>; 5] {
    static FIRST: std::sync::OnceLock<(usize, [Option<usize>; 5])> = std::sync::OnceLock::new();
    let find = |l: &CtxLayout| {
        XDP_MD_FIELDS.map(|n| {
            let f = l.field(n);
            debug_assert!(f.is_some_and(|f| f.elem == 4), "{} has no 4-byte field `{n}`", l.struct_name);
            f.map(|f| f.offset as usize)
        })
    };
    let key = std::ptr::from_ref(layout) as usize;
    let (first, at) = FIRST.get_or_init(|| (key, find(layout)));
    if *first == key {
        *at
    } else {
        find(layout)
    }
}

/// `PACKET_HOST`: the frame is addressed to this host.
pub const PACKET_HOST: u32 = 0;
/// `PACKET_MULTICAST`: a multicast (or, on loopback, broadcast) destination.
pub const PACKET_MULTICAST: u32 = 2;
/// `PACKET_OTHERHOST`: addressed to another host.
pub const PACKET_OTHERHOST: u32 = 3;

/// `skb->pkt_type` as `eth_type_trans` sets it in a test run, which happens on the loopback
/// device: its address and its broadcast address are both all zeros, so a zero destination is
/// `PACKET_HOST`, any group address (ff:ff:ff:ff:ff:ff included) `PACKET_MULTICAST`, anything
/// else `PACKET_OTHERHOST`.
pub fn loopback_pkt_type(frame: &[u8]) -> u32 {
    match frame.get(..6) {
        Some(dst) if dst.iter().all(|b| *b == 0) => PACKET_HOST,
        Some(dst) if dst[0] & 1 != 0 => PACKET_MULTICAST,
        Some(_) => PACKET_OTHERHOST,
        None => PACKET_HOST,
    }
}

/// `skb->protocol` as `eth_type_trans` computes it, in network byte order: the EtherType when it
/// is one (>= 0x600), else `ETH_P_802_3` for raw IPX frames (payload starting ff ff) and
/// `ETH_P_802_2` for the rest.
pub fn eth_protocol(frame: &[u8]) -> u16 {
    let Some(t) = frame.get(12..14) else { return 0 };
    let ty = u16::from_be_bytes([t[0], t[1]]);
    let host = if ty >= 0x600 {
        ty
    } else if frame.get(14..16) == Some(&[0xff, 0xff]) {
        0x0001
    } else {
        0x0004
    };
    host.to_be()
}

/// `struct __sk_buff` (laid out by `layout`, the socket filter's or tc's) for `packet`, whose
/// data starts `data_off` bytes into the packet buffer (after the headroom), with the values
/// `BPF_PROG_TEST_RUN` gives the fields it does not take from the caller: `pkt_type` and
/// `protocol` from `eth_type_trans` on loopback, `ifindex` 1 (loopback) unless a larger one is
/// given, `wire_len` the skb's length (the kernel backend always passes a context, which makes
/// `convert___skb_to_skb` set it so).
///
/// The packet pointers are filled in for every program type, also where the program may not
/// read them (socket filters): the interpreter itself finds the packet through them
/// (`BPF_LD_ABS`, the packet returned after the run), as the kernel finds it through the skb.
pub fn sk_buff(layout: &'static CtxLayout, packet: &[u8], data_off: usize, f: &SkbFields) -> Vec<u8> {
    sk_buff_in(Vec::new(), layout, packet, data_off, f)
}

/// [`sk_buff`] built in `buf` (its old contents dropped, its allocation kept).
pub fn sk_buff_in(buf: Vec<u8>, layout: &'static CtxLayout, packet: &[u8], data_off: usize, f: &SkbFields) -> Vec<u8> {
    let data = (PACKET_BASE + PACKET_HEADROOM) as u32 + data_off as u32;
    let len = packet.len().saturating_sub(data_off) as u32;
    let mut b = Builder::reusing(layout, buf);
    b.put("len", 0, len);
    b.put("pkt_type", 0, loopback_pkt_type(packet));
    b.put("mark", 0, f.mark);
    // protocol is big endian as stored in the skb, loaded as a number: its bytes keep network
    // order.
    b.put("protocol", 0, u32::from(eth_protocol(packet)));
    b.put("vlan_present", 0, u32::from(f.vlan_tci != 0));
    b.put("vlan_tci", 0, f.vlan_tci);
    b.put("priority", 0, f.priority);
    b.put("ingress_ifindex", 0, f.ingress_ifindex);
    b.put("ifindex", 0, f.ifindex.max(1));
    b.put("tc_index", 0, f.tc_index);
    for (i, cb) in f.cb.iter().enumerate() {
        b.put("cb", i as u32, *cb);
    }
    b.put("hash", 0, f.hash);
    b.put("data", 0, data);
    b.put("data_end", 0, data + len);
    b.put("data_meta", 0, data);
    b.put("wire_len", 0, len);
    // What cgroup skb programs read of the test run's socket (see `test_run_sock`): its family
    // and addresses, the peer's being the packet's destination; no ports.
    let sock = test_run_sock(packet);
    let sock_layout = crate::runtime::ctx::bpf_sock_layout();
    let from_sock =
        |name: &str, i: u32| sock_layout.field(name).map_or(0, |f| get_u32(&sock, (f.offset + 4 * i) as usize));
    b.put("family", 0, from_sock("family", 0));
    b.put("local_ip4", 0, from_sock("src_ip4", 0));
    b.put("remote_ip4", 0, from_sock("dst_ip4", 0));
    for i in 0..4 {
        b.put("local_ip6", i, from_sock("src_ip6", i));
        b.put("remote_ip6", i, from_sock("dst_ip6", i));
    }
    // The test run's socket (`sk_alloc` in `bpf_prog_test_run_skb`): never NULL.
    if let Some(f) = layout.field("sk") {
        let at = f.offset as usize;
        b.bytes[at..at + 8].copy_from_slice(&SOCK_BASE.to_le_bytes());
    }
    b.bytes
}

/// Why `BPF_PROG_TEST_RUN` refuses `frame` for a socket filter or tc program, if it does: in
/// current kernels (a 2026 fix, also in the stable series) an IPv4 or IPv6 EtherType must be
/// followed by a whole IP header, which the test run reads to give its socket addresses.
pub fn refused_frame(frame: &[u8]) -> Option<String> {
    let (name, header) = match eth_protocol(frame).to_be() {
        0x0800 => ("IPv4", 20),
        0x86dd => ("IPv6", 40),
        _ => return None,
    };
    (frame.len() < ETH_HLEN + header).then(|| {
        format!(
            "the kernel's test run refuses this {}-byte frame: its EtherType says {name}, and an {name} header needs \
             {header} bytes after the Ethernet header",
            frame.len()
        )
    })
}

/// `AF_INET`.
const AF_INET: u32 = 2;
/// `AF_INET6`.
const AF_INET6: u32 = 10;
/// `TCP_CLOSE`: the state `sock_init_data` leaves a socket in.
const TCP_CLOSE: u32 = 7;

/// The `struct bpf_sock` of the socket `BPF_PROG_TEST_RUN` attaches to the skb: family
/// `AF_INET`/`AF_INET6` by the frame's EtherType (else 0) with the IP header's addresses as
/// its own (source) and peer (destination) ones when the header is all there, state
/// `TCP_CLOSE`, no receive queue (-1), no ports, no bound device.
pub fn test_run_sock(frame: &[u8]) -> Vec<u8> {
    test_run_sock_in(Vec::new(), frame)
}

/// [`test_run_sock`] built in `buf` (its old contents dropped, its allocation kept).
pub fn test_run_sock_in(buf: Vec<u8>, frame: &[u8]) -> Vec<u8> {
    let mut b = Builder::reusing(crate::runtime::ctx::bpf_sock_layout(), buf);
    let net = frame.get(ETH_HLEN..).unwrap_or(&[]);
    let word = |at: usize| net.get(at..at + 4).map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]));
    match eth_protocol(frame).to_be() {
        0x0800 => {
            b.put("family", 0, AF_INET);
            if net.len() >= 20 {
                b.put("src_ip4", 0, word(12));
                b.put("dst_ip4", 0, word(16));
            }
        }
        0x86dd => {
            b.put("family", 0, AF_INET6);
            if net.len() >= 40 {
                for i in 0..4 {
                    b.put("src_ip6", i, word(8 + 4 * i as usize));
                    b.put("dst_ip6", i, word(24 + 4 * i as usize));
                }
            }
        }
        _ => {}
    }
    b.put("state", 0, TCP_CLOSE);
    b.put("rx_queue_mapping", 0, u32::MAX);
    b.bytes
}

/// `IPPROTO_TCP`.
const IPPROTO_TCP: u32 = 6;

/// The `struct bpf_sk_lookup` a run takes when none is given: a TCP lookup over IPv4 (the
/// kernel's test run refuses other families).
pub fn sk_lookup_default() -> Vec<u8> {
    let layout = crate::runtime::ctx::ctx_layout(crate::program::ProgType::SkLookup).expect("sk_lookup");
    let mut b = Builder::reusing(layout, Vec::new());
    b.put("family", 0, AF_INET);
    b.put("protocol", 0, IPPROTO_TCP);
    b.bytes
}

/// Turns the `struct bpf_sk_lookup` given to a run into what the program reads, as
/// `bpf_prog_test_run_sk_lookup` builds its lookup from it: `family` and `protocol` cut to 16
/// bits, the other family's addresses and the port's padding read as zeros. Refuses what the
/// kernel refuses: a socket in `sk`, anything past `local_port`, a port past 65535, a family
/// other than `AF_INET` and `AF_INET6`.
pub fn sk_lookup_as_run(ctx: &mut [u8]) -> Result<(), String> {
    let layout = crate::runtime::ctx::ctx_layout(crate::program::ProgType::SkLookup).expect("sk_lookup");
    let at = |name: &str| layout.field(name).map_or(0, |f| f.offset as usize);
    let put = |ctx: &mut [u8], off: usize, v: u32| ctx[off..off + 4].copy_from_slice(&v.to_le_bytes());
    if ctx[at("sk")..at("sk") + 8].iter().any(|b| *b != 0) {
        return Err("`sk` must be 0: the kernel's test run of an sk_lookup program starts with no socket".into());
    }
    if ctx[at("ingress_ifindex")..].iter().any(|b| *b != 0) {
        return Err("`ingress_ifindex` must be 0: the kernel's test run of an sk_lookup program takes nothing past `local_port`".into());
    }
    let port = get_u32(ctx, at("local_port"));
    if port > u32::from(u16::MAX) {
        return Err(format!("`local_port` {port} is not a port (the kernel's test run says ERANGE)"));
    }
    let family = get_u32(ctx, at("family")) & 0xffff;
    put(ctx, at("family"), family);
    put(ctx, at("protocol"), get_u32(ctx, at("protocol")) & 0xffff);
    let (zero_ip4, zero_ip6) = match family {
        AF_INET => (false, true),
        AF_INET6 => (true, false),
        f => {
            return Err(format!(
                "`family` {f}: the kernel's test run of an sk_lookup program takes AF_INET (2) or AF_INET6 (10)"
            ))
        }
    };
    if zero_ip4 {
        put(ctx, at("remote_ip4"), 0);
        put(ctx, at("local_ip4"), 0);
    }
    if zero_ip6 {
        for f in ["remote_ip6", "local_ip6"] {
            ctx[at(f)..at(f) + 16].fill(0);
        }
    }
    // remote_port is a big-endian u16; the two bytes after it read as zeros.
    let rp = at("remote_port");
    ctx[rp + 2..rp + 4].fill(0);
    Ok(())
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
