//! Loads and stores beyond the plain sized accesses of [`super::memory::Memory`]:
//! sign-extending loads (`BPF_MEMSX`) and the legacy packet loads (`BPF_LD | BPF_ABS/IND`).

use super::memory::{Fault, Memory, PACKET_BASE, PACKET_HEADROOM};

/// `ldxs{b,h,w}`: loads `size` bytes and sign-extends them to 64 bits.
#[inline(always)]
pub fn load_sx(mem: &mut Memory, addr: u64, size: u8) -> Result<u64, Fault> {
    Ok(match size {
        1 => mem.read::<1>(addr)? as i8 as i64 as u64,
        2 => mem.read::<2>(addr)? as i16 as i64 as u64,
        _ => mem.read::<4>(addr)? as i32 as i64 as u64,
    })
}

/// `SKF_NET_OFF`: legacy packet offsets from here up to -1 count from the network header.
pub const SKF_NET_OFF: i32 = -0x10_0000;
/// `SKF_LL_OFF`: legacy packet offsets from here up to `SKF_NET_OFF` count from the link-layer
/// (Ethernet) header.
pub const SKF_LL_OFF: i32 = -0x20_0000;

/// Legacy packet load: `size` bytes at `off` from the skb's `data`, **big endian** (network
/// order), as the kernel's `bpf_skb_load_helper` does. `None` when out of bounds, in which case
/// the kernel ends the program returning 0.
///
/// Negative offsets are the classic BPF ancillary areas of `bpf_internal_load_pointer_neg_helper`:
/// `[SKF_NET_OFF, 0)` reads from the network header, `[SKF_LL_OFF, SKF_NET_OFF)` from the
/// Ethernet header, both up to the packet's tail; anything lower is out of bounds. In a test run
/// the Ethernet header is the frame's first byte and the network header follows it.
pub fn load_packet(mem: &Memory, off: i32, size: u8) -> Option<u64> {
    let (data, end) = mem.packet_fields?;
    let data = super::ctx::get_u32(&mem.ctx, data) as u64;
    let end = usize::try_from((super::ctx::get_u32(&mem.ctx, end) as u64).checked_sub(PACKET_BASE)?).ok()?;
    let start = if off >= 0 {
        usize::try_from(data.checked_add(off as u64)?.checked_sub(PACKET_BASE)?).ok()?
    } else {
        let mac = PACKET_HEADROOM as usize;
        let net = mac + super::ctx::ETH_HLEN.min(end.saturating_sub(mac));
        if off >= SKF_NET_OFF {
            net + (off - SKF_NET_OFF) as usize
        } else if off >= SKF_LL_OFF {
            mac + (off - SKF_LL_OFF) as usize
        } else {
            return None;
        }
    };
    if start + size as usize > end {
        return None;
    }
    let bytes = mem.packet.get(start..start + size as usize)?;
    Some(bytes.iter().fold(0u64, |acc, b| (acc << 8) | *b as u64))
}
