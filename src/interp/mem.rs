//! Loads and stores beyond the plain sized accesses of [`super::memory::Memory`]:
//! sign-extending loads (`BPF_MEMSX`) and the legacy packet loads (`BPF_LD | BPF_ABS/IND`).

use super::memory::{Fault, Memory, PACKET_BASE};

/// `ldxs{b,h,w}`: loads `size` bytes and sign-extends them to 64 bits.
#[inline(always)]
pub fn load_sx(mem: &mut Memory, addr: u64, size: u8) -> Result<u64, Fault> {
    Ok(match size {
        1 => mem.read::<1>(addr)? as i8 as i64 as u64,
        2 => mem.read::<2>(addr)? as i16 as i64 as u64,
        _ => mem.read::<4>(addr)? as i32 as i64 as u64,
    })
}

/// Legacy packet load: `size` bytes at `off` from the skb's `data`, **big endian** (network
/// order), as the kernel's `bpf_skb_load_helper` does. `None` when out of bounds, in which case
/// the kernel ends the program returning 0.
pub fn load_packet(mem: &Memory, off: i32, size: u8) -> Option<u64> {
    if off < 0 {
        return None; // SKF_LL_OFF / SKF_NET_OFF ancillary areas are not modelled
    }
    let (data, end) = mem.packet_fields?;
    let data = super::ctx::get_u32(&mem.ctx, data) as u64;
    let end = super::ctx::get_u32(&mem.ctx, end) as u64;
    let start = data.checked_add(off as u64)?;
    if start + size as u64 > end {
        return None;
    }
    let o = usize::try_from(start - PACKET_BASE).ok()?;
    let bytes = mem.packet.get(o..o + size as usize)?;
    Some(bytes.iter().fold(0u64, |acc, b| (acc << 8) | *b as u64))
}
