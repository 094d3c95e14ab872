//! The skb helpers of tc (and lwt_xmit) code that change the packet's size or the skb's metadata:
//! `bpf_skb_change_tail` (38), `bpf_skb_change_head` (43), `bpf_skb_adjust_room` (50),
//! `bpf_skb_vlan_push` (18) / `pop` (19) and `bpf_skb_set_tunnel_key` (21), with the checks and
//! errors of net/core/filter.c as a test run meets them.

use super::imp::neg;
use super::{HelperEnv, HelperFault};

type R = Result<u64, HelperFault>;

/// `ENOTSUPP` (524): the kernel-internal errno these helpers return for unsupported cases.
const ENOTSUPP: i32 = 524;
/// `BPF_SKB_MAX_LEN` = `SKB_MAX_ALLOC`: four pages less `struct skb_shared_info` (320 bytes on
/// x86-64).
const SKB_MAX_LEN: u64 = (4096 << 2) - 320;
/// `ETH_HLEN` and `2 * ETH_ALEN`: where a VLAN tag goes.
const ETH_HLEN: u64 = 14;
const VLAN_TAG_AT: u64 = 12;
/// `VLAN_HLEN`.
const VLAN_HLEN: i64 = 4;
/// `ETH_P_8021Q` and `ETH_P_8021AD`.
const ETH_P_8021Q: u16 = 0x8100;
const ETH_P_8021AD: u16 = 0x88a8;
/// `ETH_P_IP` and `ETH_P_IPV6`.
const ETH_P_IP: u16 = 0x0800;
const ETH_P_IPV6: u16 = 0x86dd;

fn no_skb() -> HelperFault {
    HelperFault::Other("no skb in this run".into())
}

/// A be16 as the skb stores it and `__sk_buff` loads it (its bytes in network order).
fn be16_field(host: u16) -> u32 {
    u32::from(host.to_be())
}

/// `skb->protocol` in host order.
fn protocol(env: &dyn HelperEnv) -> Result<u16, HelperFault> {
    Ok(u16::from_be(env.skb_field("protocol").ok_or_else(no_skb)? as u16))
}

fn len(env: &dyn HelperEnv) -> Result<u64, HelperFault> {
    env.skb_len().ok_or_else(no_skb)
}

fn resize(env: &mut dyn HelperEnv, offset: u64, delta: i64) -> Result<(), HelperFault> {
    if env.skb_resize(offset, delta) {
        Ok(())
    } else {
        Err(HelperFault::Other(format!("cannot resize the packet by {delta} at offset {offset}")))
    }
}

/// `bpf_skb_change_tail(skb, len, flags)`: grows (with zeros) or trims the packet to `len`; 0, or
/// `-EINVAL` for flags, a length past `BPF_SKB_MAX_LEN` or one that would cut into the headers
/// before the network header.
pub fn skb_change_tail(env: &mut dyn HelperEnv, a: [u64; 5]) -> R {
    let new_len = a[1] as u32 as u64;
    let min_len = env.skb_mac_len().ok_or_else(no_skb)?;
    if a[2] != 0 || new_len > SKB_MAX_LEN || new_len < min_len {
        return Ok(neg(libc::EINVAL));
    }
    let cur = len(env)?;
    resize(env, cur.min(new_len), new_len as i64 - cur as i64)?;
    Ok(0)
}

/// `bpf_skb_change_head(skb, head_room, flags)`: pushes `head_room` zero bytes in front of the
/// packet (room for a MAC header); 0, or `-EINVAL` for flags or past `BPF_SKB_MAX_LEN`.
pub fn skb_change_head(env: &mut dyn HelperEnv, a: [u64; 5]) -> R {
    let room = a[1] as u32 as u64;
    let cur = len(env)?;
    if a[2] != 0 || cur + room > SKB_MAX_LEN {
        return Ok(neg(libc::EINVAL));
    }
    let mac_len = env.skb_mac_len().ok_or_else(no_skb)?;
    resize(env, 0, room as i64)?;
    // The MAC header is reset to the new front; the network header stays where it was.
    env.set_skb_mac_len(mac_len + room);
    Ok(0)
}

/// `BPF_F_ADJ_ROOM_*` flags.
const ADJ_FIXED_GSO: u64 = 1 << 0;
const ADJ_ENCAP_L3_IPV4: u64 = 1 << 1;
const ADJ_ENCAP_L3_IPV6: u64 = 1 << 2;
const ADJ_ENCAP_L4_GRE: u64 = 1 << 3;
const ADJ_ENCAP_L4_UDP: u64 = 1 << 4;
const ADJ_NO_CSUM_RESET: u64 = 1 << 5;
const ADJ_ENCAP_L2_ETH: u64 = 1 << 6;
const ADJ_DECAP_L3_IPV4: u64 = 1 << 7;
const ADJ_DECAP_L3_IPV6: u64 = 1 << 8;
/// `BPF_F_ADJ_ROOM_ENCAP_L2(len)`: the inner MAC header's length in the top byte.
const ADJ_ENCAP_L2_MASK: u64 = 0xff << 56;
const ADJ_ENCAP_L3: u64 = ADJ_ENCAP_L3_IPV4 | ADJ_ENCAP_L3_IPV6;
const ADJ_DECAP_L3: u64 = ADJ_DECAP_L3_IPV4 | ADJ_DECAP_L3_IPV6;
const ADJ_ENCAP: u64 = ADJ_ENCAP_L3 | ADJ_ENCAP_L4_GRE | ADJ_ENCAP_L4_UDP | ADJ_ENCAP_L2_ETH | ADJ_ENCAP_L2_MASK;
/// `BPF_ADJ_ROOM_NET` and `BPF_ADJ_ROOM_MAC`.
const ADJ_ROOM_NET: u64 = 0;
const ADJ_ROOM_MAC: u64 = 1;

/// `bpf_skb_adjust_room(skb, len_diff, mode, flags)`: inserts `len_diff` zero bytes (or removes
/// `-len_diff` bytes) after the MAC header (`BPF_ADJ_ROOM_MAC`) or after the IP header
/// (`BPF_ADJ_ROOM_NET`) of an IPv4 or IPv6 packet; encapsulation flags may switch
/// `skb->protocol` between the two. Errors as the kernel's: `-EINVAL` (flags), `-EFAULT` (more
/// than 0xfff bytes), `-ENOTSUPP` (not IP, unknown mode, too little left).
pub fn skb_adjust_room(env: &mut dyn HelperEnv, a: [u64; 5]) -> R {
    let diff = a[1] as u32 as i32;
    let (mode, flags) = (a[2] as u32 as u64, a[3]);
    let abs = u64::from(diff.unsigned_abs());
    let shrink = diff < 0;
    let known = ADJ_FIXED_GSO | ADJ_ENCAP | ADJ_DECAP_L3 | ADJ_NO_CSUM_RESET;
    if flags & !known != 0 {
        return Ok(neg(libc::EINVAL));
    }
    if abs > 0xfff {
        return Ok(neg(libc::EFAULT));
    }
    let proto = protocol(env)?;
    let net_base = match proto {
        ETH_P_IP => 20,
        ETH_P_IPV6 => 40,
        _ => return Ok(neg(ENOTSUPP)),
    };
    let mac_len = env.skb_mac_len().ok_or_else(no_skb)?;
    let off = match mode {
        ADJ_ROOM_NET => mac_len + net_base,
        ADJ_ROOM_MAC => mac_len,
        _ => return Ok(neg(ENOTSUPP)),
    };
    let mut len_min = net_base;
    if flags & ADJ_DECAP_L3 != 0 {
        if !shrink {
            return Ok(neg(libc::EINVAL));
        }
        len_min = match flags & ADJ_DECAP_L3 {
            ADJ_DECAP_L3_IPV4 => 20,
            ADJ_DECAP_L3_IPV6 => 40,
            _ => return Ok(neg(libc::EINVAL)),
        };
    }
    let skb_len = len(env)?;
    let len_cur = skb_len.saturating_sub(mac_len);
    if (shrink && (abs >= len_cur || len_cur - abs < len_min)) || (!shrink && skb_len + abs > SKB_MAX_LEN) {
        return Ok(neg(ENOTSUPP));
    }
    let new_proto = if shrink {
        // `bpf_skb_net_shrink`
        if flags & !(ADJ_FIXED_GSO | ADJ_DECAP_L3 | ADJ_NO_CSUM_RESET) != 0 {
            return Ok(neg(libc::EINVAL));
        }
        if off + abs > skb_len {
            return Ok(neg(libc::ENOMEM));
        }
        match (proto, flags & ADJ_DECAP_L3) {
            (ETH_P_IP, ADJ_DECAP_L3_IPV6) => ETH_P_IPV6,
            (ETH_P_IPV6, ADJ_DECAP_L3_IPV4) => ETH_P_IP,
            _ => proto,
        }
    } else {
        // `bpf_skb_net_grow`
        if flags & ADJ_ENCAP != 0 {
            let inner_mac = (flags >> 56) & 0xff;
            if flags & ADJ_ENCAP_L3 == ADJ_ENCAP_L3
                || flags & (ADJ_ENCAP_L4_GRE | ADJ_ENCAP_L4_UDP) == ADJ_ENCAP_L4_GRE | ADJ_ENCAP_L4_UDP
                || (flags & ADJ_ENCAP_L2_ETH != 0 && inner_mac != ETH_HLEN)
                || inner_mac > abs
            {
                return Ok(neg(libc::EINVAL));
            }
            if flags & (ADJ_ENCAP_L2_ETH | ADJ_ENCAP_L2_MASK) != 0 {
                return Err(HelperFault::Other(
                    "bpf_skb_adjust_room with BPF_F_ADJ_ROOM_ENCAP_L2 flags is not modelled by ebpf-lab".into(),
                ));
            }
        }
        match (proto, flags & ADJ_ENCAP_L3) {
            (ETH_P_IP, ADJ_ENCAP_L3_IPV6) => ETH_P_IPV6,
            (ETH_P_IPV6, ADJ_ENCAP_L3_IPV4) => ETH_P_IP,
            _ => proto,
        }
    };
    resize(env, off, diff as i64)?;
    env.set_skb_field("protocol", be16_field(new_proto));
    Ok(0)
}

/// Whether an EtherType is a VLAN tag's (`eth_type_vlan`).
fn is_vlan(proto: u16) -> bool {
    matches!(proto, ETH_P_8021Q | ETH_P_8021AD)
}

/// Records a VLAN tag as the skb's accelerated (out-of-packet) tag, or clears it.
fn set_hwaccel_tag(env: &mut dyn HelperEnv, tag: Option<(u16, u16)>) {
    let (proto, tci) = tag.unwrap_or((0, 0));
    env.set_skb_field("vlan_present", u32::from(tag.is_some()));
    env.set_skb_field("vlan_proto", if tag.is_some() { be16_field(proto) } else { 0 });
    env.set_skb_field("vlan_tci", u32::from(tci));
}

/// The accelerated VLAN tag, if present: `(proto, tci)`.
fn hwaccel_tag(env: &dyn HelperEnv) -> Result<Option<(u16, u16)>, HelperFault> {
    let present = env.skb_field("vlan_present").ok_or_else(no_skb)? != 0;
    let proto = u16::from_be(env.skb_field("vlan_proto").unwrap_or(0) as u16);
    let tci = env.skb_field("vlan_tci").unwrap_or(0) as u16;
    Ok(present.then_some((proto, tci)))
}

/// `bpf_skb_vlan_push(skb, vlan_proto, vlan_tci)`: the tag becomes the skb's accelerated tag
/// (outside the packet's bytes, seen in `__sk_buff.vlan_*`); a tag already there is first
/// written into the packet after the MAC addresses. A `vlan_proto` other than 802.1Q/802.1ad
/// counts as 802.1Q. Returns 0.
pub fn skb_vlan_push(env: &mut dyn HelperEnv, a: [u64; 5]) -> R {
    let mut proto = u16::from_be(a[1] as u16);
    if !is_vlan(proto) {
        proto = ETH_P_8021Q;
    }
    let tci = a[2] as u16;
    if let Some((old_proto, old_tci)) = hwaccel_tag(env)? {
        resize(env, VLAN_TAG_AT, VLAN_HLEN)?;
        let mut tag = old_proto.to_be_bytes().to_vec();
        tag.extend_from_slice(&old_tci.to_be_bytes());
        if !env.skb_store(VLAN_TAG_AT, &tag) {
            return Err(no_skb());
        }
        env.set_skb_field("protocol", be16_field(old_proto));
        let mac_len = env.skb_mac_len().ok_or_else(no_skb)?;
        env.set_skb_mac_len(mac_len + VLAN_HLEN as u64);
    }
    set_hwaccel_tag(env, Some((proto, tci)));
    Ok(0)
}

/// Takes the VLAN header out of the packet (after the MAC addresses), giving its TCI; `Ok(None)`
/// with the errno when the packet is too short (`skb_ensure_writable`).
fn pop_from_packet(env: &mut dyn HelperEnv) -> Result<Result<u16, u64>, HelperFault> {
    let Some(hdr) = env.skb_bytes(ETH_HLEN, 4) else { return Ok(Err(neg(libc::ENOMEM))) };
    let tci = u16::from_be_bytes([hdr[0], hdr[1]]);
    let inner = u16::from_be_bytes([hdr[2], hdr[3]]);
    resize(env, VLAN_TAG_AT, -VLAN_HLEN)?;
    // The network header stays put, now 4 bytes nearer `data`, but never inside the MAC header.
    let mac_len = env.skb_mac_len().ok_or_else(no_skb)?;
    env.set_skb_mac_len(mac_len.saturating_sub(VLAN_HLEN as u64).max(ETH_HLEN));
    // `vlan_set_encap_proto`: the inner EtherType, or 802.3/802.2 for a length.
    let proto = if inner >= 0x600 {
        inner
    } else if env.skb_bytes(ETH_HLEN, 2).as_deref() == Some(&[0xff, 0xff]) {
        0x0001
    } else {
        0x0004
    };
    env.set_skb_field("protocol", be16_field(proto));
    Ok(Ok(tci))
}

/// `bpf_skb_vlan_pop(skb)`: drops the accelerated VLAN tag, or else the tag in the packet when
/// its EtherType says VLAN; a further tag in the packet then becomes the accelerated one.
/// Returns 0 (or `-ENOMEM` for a tagged packet too short for its VLAN header).
pub fn skb_vlan_pop(env: &mut dyn HelperEnv, _: [u64; 5]) -> R {
    if hwaccel_tag(env)?.is_some() {
        set_hwaccel_tag(env, None);
    } else {
        if !is_vlan(protocol(env)?) {
            return Ok(0);
        }
        if let Err(e) = pop_from_packet(env)? {
            return Ok(e);
        }
    }
    let next = protocol(env)?;
    if !is_vlan(next) {
        return Ok(0);
    }
    match pop_from_packet(env)? {
        Ok(tci) => {
            set_hwaccel_tag(env, Some((next, tci)));
            Ok(0)
        }
        Err(e) => Ok(e),
    }
}

/// `sizeof(struct bpf_tunnel_key)`, and the sizes of its older layouts the kernel still takes
/// (up to `tunnel_ext`, `tunnel_label`, `local_ipv4`).
const TUNNEL_KEY_SIZE: usize = 44;
const TUNNEL_KEY_OLD_SIZES: [usize; 3] = [22, 24, 28];
/// `BPF_F_TUNINFO_IPV6 | BPF_F_ZERO_CSUM_TX | BPF_F_DONT_FRAGMENT | BPF_F_SEQ_NUMBER |
/// BPF_F_NO_TUNNEL_KEY`.
const TUNNEL_KEY_FLAGS: u64 = 0x1f;
const BPF_F_TUNINFO_IPV6: u64 = 1;

/// `bpf_skb_set_tunnel_key(skb, key, size, flags)`: the tunnel metadata for an encapsulating
/// device to use, recorded as the run's output; 0, or `-EINVAL` for flags, a size that is no
/// layout of `struct bpf_tunnel_key`, a flow label without IPv6, or a nonzero `tunnel_ext`.
pub fn skb_set_tunnel_key(env: &mut dyn HelperEnv, a: [u64; 5]) -> R {
    let size = a[2] as u32 as usize;
    let flags = a[3];
    if flags & !TUNNEL_KEY_FLAGS != 0 {
        return Ok(neg(libc::EINVAL));
    }
    if size != TUNNEL_KEY_SIZE && !TUNNEL_KEY_OLD_SIZES.contains(&size) {
        return Ok(neg(libc::EINVAL));
    }
    let mut key = env.read(a[1], size)?;
    key.resize(TUNNEL_KEY_SIZE, 0);
    let ext = u16::from_le_bytes([key[22], key[23]]);
    let label = u32::from_le_bytes([key[24], key[25], key[26], key[27]]);
    if (flags & BPF_F_TUNINFO_IPV6 == 0 && label != 0) || ext != 0 {
        return Ok(neg(libc::EINVAL));
    }
    env.set_tunnel_key(key);
    Ok(0)
}
