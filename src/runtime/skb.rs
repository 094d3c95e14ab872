//! What the packet-changing helpers of skb programs (`bpf_skb_change_head`/`tail`,
//! `bpf_skb_adjust_room`, `bpf_skb_vlan_push`/`pop`, `bpf_skb_set_tunnel_key`) change in a run's
//! [`Memory`]: the packet's bytes and length, the `__sk_buff` fields that follow them, and what a
//! helper records for the run's outcome (the tunnel key).
//!
//! The packet's `data` stays where [`Memory::setup`] put it: bytes added or removed move
//! `data_end`, not `data`. The kernel moves `data` back when it pushes a header; a verified
//! program reloads both pointers after any such call (the verifier forgets packet pointers across
//! it), so it cannot tell.

use super::ctx_build::get_u32;
use super::memory::{Backing, Memory, PACKET_BASE};

/// The skb-side state of a run that is not in the context structure.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SkbState {
    /// Bytes from `data` to the network header (`skb_network_offset`): the Ethernet header for tc
    /// programs, whose test run starts at the MAC header; 0 for the types that start at the
    /// network header.
    pub mac_len: u32,
    /// The `struct bpf_tunnel_key` the program last set with `bpf_skb_set_tunnel_key`, normalised
    /// to its full 44 bytes.
    pub tunnel_key: Option<Vec<u8>>,
}

impl Memory {
    /// Whether this run has an skb (a `struct __sk_buff` over a packet, not XDP's).
    fn has_skb(&self) -> bool {
        self.packet_fields.is_some() && self.xdp_fields().is_none()
    }

    /// The skb's length (`data_end - data`); `None` without an skb.
    pub fn skb_len(&self) -> Option<u64> {
        let (data, end) = self.packet_fields.filter(|_| self.has_skb())?;
        Some(u64::from(get_u32(&self.ctx, end)).saturating_sub(u64::from(get_u32(&self.ctx, data))))
    }

    /// Field `name` of the `__sk_buff` (4-byte fields); `None` without an skb.
    pub fn skb_field(&self, name: &str) -> Option<u32> {
        let f = self.ctx_layout.filter(|_| self.has_skb())?.field(name)?;
        Some(get_u32(&self.ctx, f.offset as usize))
    }

    /// Sets field `name` of the `__sk_buff` (4-byte fields), as the kernel's skb now holds it.
    pub fn set_skb_field(&mut self, name: &str, v: u32) -> Option<()> {
        let f = self.ctx_layout.filter(|_| self.has_skb())?.field(name)?;
        let at = f.offset as usize;
        self.ctx.get_mut(at..at + 4)?.copy_from_slice(&v.to_le_bytes());
        Some(())
    }

    /// Inserts `delta` zero bytes (`delta > 0`) or removes `-delta` bytes (`delta < 0`) at
    /// `offset` from the skb's `data`: the packet, `data_end`, `len` and the packet region
    /// follow. `None` without an skb or when the range passes the packet's end.
    pub fn skb_resize(&mut self, offset: u64, delta: i64) -> Option<()> {
        let (data_f, end_f) = self.packet_fields.filter(|_| self.has_skb())?;
        let data = (u64::from(get_u32(&self.ctx, data_f)) - PACKET_BASE) as usize;
        let end = (u64::from(get_u32(&self.ctx, end_f)) - PACKET_BASE) as usize;
        let at = data.checked_add(usize::try_from(offset).ok()?)?;
        self.packet.truncate(end);
        if delta >= 0 {
            if at > end {
                return None;
            }
            let n = delta as usize;
            self.packet.splice(at..at, std::iter::repeat_n(0, n));
        } else {
            let n = delta.unsigned_abs() as usize;
            if at.checked_add(n)? > end {
                return None;
            }
            self.packet.drain(at..at + n);
        }
        let new_end = self.packet.len();
        let len = (new_end - data) as u32;
        self.ctx[end_f..end_f + 4].copy_from_slice(&((PACKET_BASE as usize + new_end) as u32).to_le_bytes());
        self.set_skb_field("len", len)?;
        let mut regions = std::mem::take(&mut self.regions);
        for r in regions.iter_mut().filter(|r| r.backing == Backing::Packet) {
            r.len = (new_end - r.start) as u64;
        }
        self.set_regions(regions);
        Some(())
    }
}
