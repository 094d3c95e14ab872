//! Atomic read-modify-write instructions (`BPF_ATOMIC`). The interpreter is single-threaded, so
//! "atomic" is simply read, compute, write — but the register effects follow the kernel exactly:
//! fetch forms return the old value in `src`, `cmpxchg` compares with and returns into `r0`, and
//! 32-bit forms zero-extend what they return.

use super::memory::{Fault, Memory};
use crate::isa::AtomicOp;

/// Executes one atomic on `regs` and `mem` (the fields of the decoded op, passed flat so the
/// run loop does not build a struct on its hot path).
#[inline(never)]
#[allow(clippy::too_many_arguments)]
pub fn exec(
    mem: &mut Memory,
    regs: &mut [u64; 16],
    size: u8,
    op: AtomicOp,
    fetch: bool,
    d: u8,
    s: u8,
    off: i16,
) -> Result<(), Fault> {
    let addr = regs[(d & 15) as usize].wrapping_add(off as i64 as u64);
    let wide = size == 8;
    mem.refuse_ctx_atomic(addr, if wide { 8 } else { 4 })?;
    let old = if wide { mem.read::<8>(addr)? } else { mem.read::<4>(addr)? };
    let src = regs[(s & 15) as usize];
    let new = match op {
        AtomicOp::Add => old.wrapping_add(src),
        AtomicOp::Or => old | src,
        AtomicOp::And => old & src,
        AtomicOp::Xor => old ^ src,
        AtomicOp::Xchg => src,
        AtomicOp::CmpXchg => {
            let r0 = regs[0];
            let equal = if wide { r0 == old } else { r0 as u32 == old as u32 };
            if equal {
                src
            } else {
                old
            }
        }
    };
    if wide {
        mem.write::<8>(addr, new)?;
    } else {
        mem.write::<4>(addr, new)?;
    }
    if op == AtomicOp::CmpXchg {
        regs[0] = old; // 32-bit reads are already zero-extended
    } else if fetch {
        regs[(s & 15) as usize] = old;
    }
    Ok(())
}
