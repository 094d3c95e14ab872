//! `bpf_probe_read_kernel` (113) and `bpf_probe_read_kernel_str` (115), which kprobe and
//! tracepoint code use to follow kernel pointers (`BPF_CORE_READ`). ebpf-lab has no kernel
//! memory: the program's own memory (stack, context, map values, packet) is kernel memory to the
//! kernel and is read as such; an address in the user half or a non-canonical one is refused
//! with `-ERANGE` as x86-64's `copy_from_kernel_nofault_allowed` refuses it; any other kernel
//! address reads as unmapped (`-EFAULT`). On failure the destination is zeroed, as the kernel
//! zeroes it.

use super::imp::neg;
use super::{HelperEnv, HelperFault};

type R = Result<u64, HelperFault>;

/// The lowest address `copy_from_kernel_nofault` accepts on x86-64 (`TASK_SIZE_MAX + PAGE_SIZE`).
const KERNEL_HALF: u64 = 1 << 47;
/// The start of the canonical upper half.
const CANONICAL_HIGH: u64 = 0xffff_8000_0000_0000;

/// The errno for reading `len` bytes at a kernel address ebpf-lab cannot see.
fn refusal(addr: u64) -> i32 {
    if addr < KERNEL_HALF || addr < CANONICAL_HIGH {
        libc::ERANGE
    } else {
        libc::EFAULT
    }
}

/// `bpf_probe_read_kernel(dst, size, unsafe_ptr)`: 0 and the bytes, or a negative errno and
/// `size` zeros.
pub fn probe_read_kernel(env: &mut dyn HelperEnv, a: [u64; 5]) -> R {
    let (dst, size, src) = (a[0], a[1] as u32 as usize, a[2]);
    match env.read(src, size) {
        Ok(bytes) => {
            env.write(dst, &bytes)?;
            Ok(0)
        }
        Err(_) => {
            env.zero(dst, size)?;
            Ok(neg(refusal(src)))
        }
    }
}

/// `bpf_probe_read_kernel_str(dst, size, unsafe_ptr)`: copies a NUL-terminated string of at
/// most `size` bytes (the last always NUL), returning its length with the NUL; a negative errno
/// and `size` zeros when the address cannot be read.
pub fn probe_read_kernel_str(env: &mut dyn HelperEnv, a: [u64; 5]) -> R {
    let (dst, size, src) = (a[0], a[1] as u32 as usize, a[2]);
    if size == 0 {
        return Ok(0);
    }
    // Grown as bytes are read (never sized by `size`, which an unverified program chooses).
    let mut out = Vec::new();
    for i in 0..size as u64 - 1 {
        match env.read(src.wrapping_add(i), 1) {
            Ok(b) if b[0] == 0 => break,
            Ok(b) => out.push(b[0]),
            Err(_) if i == 0 => {
                env.zero(dst, size)?;
                return Ok(neg(refusal(src)));
            }
            // Readable up to here: the kernel's copy stops with -EFAULT.
            Err(_) => {
                env.zero(dst, size)?;
                return Ok(neg(libc::EFAULT));
            }
        }
    }
    out.push(0);
    env.write(dst, &out)?;
    Ok(out.len() as u64)
}
