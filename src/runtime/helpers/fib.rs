//! `bpf_fib_lookup` (69) as the kernel's test run answers it: the run happens on loopback
//! (ifindex 1) in a network namespace whose forwarding is off (`net.ipv4.ip_forward` and
//! `net.ipv6.conf.all.forwarding` are 0 by default), so every well-formed lookup ends in the
//! kernel's forwarding check with `BPF_FIB_LKUP_RET_FWD_DISABLED` and `params` unchanged. The
//! argument checks come first, in the kernel's order (net/core/filter.c). ebpf-lab knows no
//! other device: another ifindex is `-ENODEV`.

use super::imp::neg;
use super::{HelperEnv, HelperFault};

/// `sizeof(struct bpf_fib_lookup)`.
const PARAMS_SIZE: u64 = 64;
/// `BPF_FIB_LOOKUP_DIRECT | OUTPUT | SKIP_NEIGH | TBID | SRC | MARK`: the flags the kernel knows.
const KNOWN_FLAGS: u64 = 0x3f;
/// `AF_INET`, `AF_INET6`.
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;
/// Loopback, the device test runs happen on.
const LOOPBACK_IFINDEX: u32 = 1;
/// `BPF_FIB_LKUP_RET_FWD_DISABLED`: forwarding is not enabled on the ingress device.
pub const BPF_FIB_LKUP_RET_FWD_DISABLED: u64 = 5;

/// `bpf_fib_lookup(ctx, params, plen, flags)`.
pub fn fib_lookup(env: &mut dyn HelperEnv, a: [u64; 5]) -> Result<u64, HelperFault> {
    if (a[2] as u32 as u64) < PARAMS_SIZE || a[3] as u32 as u64 & !KNOWN_FLAGS != 0 {
        return Ok(neg(libc::EINVAL));
    }
    let head = env.read(a[1], 12)?;
    let ifindex = u32::from_le_bytes(head[8..12].try_into().expect("4 bytes"));
    Ok(match head[0] {
        AF_INET | AF_INET6 if ifindex == LOOPBACK_IFINDEX => BPF_FIB_LKUP_RET_FWD_DISABLED,
        AF_INET | AF_INET6 => neg(libc::ENODEV),
        _ => neg(libc::EAFNOSUPPORT),
    })
}
