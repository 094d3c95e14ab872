//! Loads and stores beyond the plain sized accesses of [`super::memory::Memory`]:
//! sign-extending loads (`BPF_MEMSX`) and the legacy packet loads (`BPF_LD | BPF_ABS/IND`).

use super::memory::{Fault, Memory};

pub use crate::runtime::memory::load_packet;

/// `ldxs{b,h,w}`: loads `size` bytes and sign-extends them to 64 bits.
#[inline(always)]
pub fn load_sx(mem: &mut Memory, addr: u64, size: u8) -> Result<u64, Fault> {
    Ok(match size {
        1 => mem.read::<1>(addr)? as i8 as i64 as u64,
        2 => mem.read::<2>(addr)? as i16 as i64 as u64,
        _ => mem.read::<4>(addr)? as i32 as i64 as u64,
    })
}
