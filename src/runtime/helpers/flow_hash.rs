//! `bpf_get_hash_recalc` (34): the skb's flow hash, recomputed. The kernel dissects the flow
//! (addresses, protocol, ports), orders the two ends so both directions hash alike
//! (`__flow_hash_consistentify`) and hashes them with siphash under a key drawn at boot — so its
//! values cannot be reproduced, only its properties: one flow, one hash, never 0 (0 means "no
//! hash"), stored in `skb->hash`. ebpf-lab keys its hash with the run's seed, so `check` sees
//! which rows depend on it (they change with the seed) and does not count them as differences.

use super::{HelperEnv, HelperFault};

/// `ETH_P_IP`, `ETH_P_IPV6`, and the L4 protocols whose ports are part of the flow.
const ETH_P_IP: u16 = 0x0800;
const ETH_P_IPV6: u16 = 0x86dd;
const PORTED: [u8; 3] = [6, 17, 132];

/// The flow of the skb as the dissector sees it: each end's address and port (ordered), the L4
/// protocol and the EtherType.
fn flow_key(env: &dyn HelperEnv) -> Result<Vec<u8>, HelperFault> {
    let no_skb = || HelperFault::Other("no skb in this run".into());
    let protocol = u16::from_be(env.skb_field("protocol").ok_or_else(no_skb)? as u16);
    let nh = env.skb_mac_len().ok_or_else(no_skb)?;
    let bytes = |off: u64, len: usize| env.skb_bytes(nh + off, len);
    let (src, dst, proto, l4) = match protocol {
        ETH_P_IP => match bytes(0, 20) {
            Some(ip) if ip[0] >> 4 == 4 => {
                // A fragment other than the first has no ports.
                let first = u16::from_be_bytes([ip[6], ip[7]]) & 0x1fff == 0;
                let l4 = first.then_some(u64::from(ip[0] & 0xf) * 4);
                (ip[12..16].to_vec(), ip[16..20].to_vec(), ip[9], l4)
            }
            _ => (Vec::new(), Vec::new(), 0, None),
        },
        ETH_P_IPV6 => match bytes(0, 40) {
            Some(ip) => (ip[8..24].to_vec(), ip[24..40].to_vec(), ip[6], Some(40)),
            None => (Vec::new(), Vec::new(), 0, None),
        },
        _ => (Vec::new(), Vec::new(), 0, None),
    };
    let ports = l4.filter(|_| PORTED.contains(&proto)).and_then(|at| bytes(at, 4)).unwrap_or_default();
    let (sport, dport) = if ports.len() == 4 { (ports[..2].to_vec(), ports[2..].to_vec()) } else { (vec![], vec![]) };
    let (mut a, mut b) = ([src, sport].concat(), [dst, dport].concat());
    if a > b {
        std::mem::swap(&mut a, &mut b);
    }
    Ok([a, b, vec![proto], protocol.to_be_bytes().to_vec()].concat())
}

/// A 32-bit keyed hash of `bytes` (FNV-1a under the key, then a 64-bit finaliser).
fn keyed_hash(key: u64, bytes: &[u8]) -> u32 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ key;
    for &b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h as u32
}

/// `bpf_get_hash_recalc(skb)`: the flow hash (never 0), also left in `skb->hash`.
pub fn get_hash_recalc(env: &mut dyn HelperEnv, _: [u64; 5]) -> Result<u64, HelperFault> {
    let hash = keyed_hash(env.hash_key(), &flow_key(env)?).max(1);
    env.set_skb_field("hash", hash);
    Ok(u64::from(hash))
}

#[cfg(test)]
mod tests {
    use super::keyed_hash;

    #[test]
    fn the_hash_depends_on_key_and_flow() {
        let flow = [10, 0, 0, 1, 10, 0, 0, 2, 17];
        assert_eq!(keyed_hash(1, &flow), keyed_hash(1, &flow));
        assert_ne!(keyed_hash(1, &flow), keyed_hash(2, &flow));
        assert_ne!(keyed_hash(1, &flow), keyed_hash(1, &flow[..8]));
    }
}
