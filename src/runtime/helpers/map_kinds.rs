//! Helpers of the map types beyond arrays and hashes: queues and stacks (`bpf_map_push_elem`,
//! `pop`, `peek`), perf event arrays (`bpf_perf_event_output`) and the XDP/tc redirects
//! (`bpf_redirect`, `bpf_redirect_map`), which record their target for the run's output.

use super::{HelperEnv, HelperFault};
use crate::program::MapType;
use crate::runtime::maps::perf_event::{BPF_F_CTXLEN_MASK, BPF_F_INDEX_MASK};
use crate::runtime::maps::Map;

type R = Result<u64, HelperFault>;

fn neg(errno: i32) -> u64 {
    -(errno as i64) as u64
}

fn of_type<'a>(
    env: &'a mut dyn HelperEnv,
    map_ptr: u64,
    helper: &'static str,
    ok: fn(MapType) -> bool,
) -> Result<(usize, &'a mut Map), HelperFault> {
    let (idx, map) = env.map_by_ptr(map_ptr)?;
    if !ok(map.map_type()) {
        return Err(HelperFault::WrongMapType { helper, map_type: map.map_type().name() });
    }
    Ok((idx, map))
}

fn queue_or_stack(t: MapType) -> bool {
    matches!(t, MapType::Queue | MapType::Stack)
}

/// `bpf_map_push_elem(map, value, flags)`: 0, `-E2BIG` when full (unless `BPF_EXIST`), `-EINVAL`.
pub fn map_push_elem(env: &mut dyn HelperEnv, a: [u64; 5]) -> R {
    let (idx, map) = of_type(env, a[0], "map_push_elem", queue_or_stack)?;
    let size = map.value_size();
    let value = env.read(a[1], size)?;
    Ok(match env.map_mut(idx)?.push(&value, a[2]) {
        Ok(()) => 0,
        Err(e) => e.as_r0(),
    })
}

fn pop_or_peek(env: &mut dyn HelperEnv, a: [u64; 5], take: bool) -> R {
    let name = if take { "map_pop_elem" } else { "map_peek_elem" };
    let (_, map) = of_type(env, a[0], name, queue_or_stack)?;
    match map.pop(take) {
        Ok(value) => {
            env.write(a[1], &value)?;
            Ok(0)
        }
        Err(e) => Ok(e.as_r0()),
    }
}

/// `bpf_map_pop_elem(map, value)`: copies out and removes the next value; `-ENOENT` when empty.
pub fn map_pop_elem(env: &mut dyn HelperEnv, a: [u64; 5]) -> R {
    pop_or_peek(env, a, true)
}

/// `bpf_map_peek_elem(map, value)`: copies out the next value; `-ENOENT` when empty.
pub fn map_peek_elem(env: &mut dyn HelperEnv, a: [u64; 5]) -> R {
    pop_or_peek(env, a, false)
}

/// `bpf_perf_event_output(ctx, map, flags, data, size)`: appends `data` (then, for XDP and skb
/// programs, the first `flags >> 32` packet bytes) to the event of the slot `flags` names.
/// 0, `-EINVAL` (unknown flags), `-EFAULT` (more packet than there is), `-E2BIG`, `-ENOENT`,
/// `-EOPNOTSUPP` (see [`crate::runtime::maps::perf_event::PerfEventArray::output`]).
pub fn perf_event_output(env: &mut dyn HelperEnv, a: [u64; 5]) -> R {
    let (idx, _) = of_type(env, a[1], "perf_event_output", |t| t == MapType::PerfEventArray)?;
    let flags = a[2];
    let packet_program = env.xdp_pointers().is_some() || env.skb_bytes(0, 0).is_some();
    let allowed = if packet_program { BPF_F_INDEX_MASK | BPF_F_CTXLEN_MASK } else { BPF_F_INDEX_MASK };
    if flags & !allowed != 0 {
        return Ok(neg(libc::EINVAL));
    }
    let ctx_len = ((flags & BPF_F_CTXLEN_MASK) >> 32) as usize;
    let packet = if ctx_len == 0 {
        Vec::new()
    } else if let Some([_, data, end]) = env.xdp_pointers() {
        if ctx_len as u64 > end - data {
            return Ok(neg(libc::EFAULT));
        }
        env.read(data, ctx_len)?
    } else {
        match env.skb_bytes(0, ctx_len) {
            Some(b) => b,
            None => return Ok(neg(libc::EFAULT)),
        }
    };
    let size = a[4] as u32 as usize;
    let mut record = if size > 0 { env.read(a[3], size)? } else { Vec::new() };
    record.extend_from_slice(&packet);
    let cpu = env.cpu();
    Ok(match env.map_mut(idx)?.perf_output(flags, cpu, record) {
        Ok(()) => 0,
        Err(e) => e.as_r0(),
    })
}

/// `XDP_ABORTED`, `XDP_REDIRECT`, `TC_ACT_SHOT`, `TC_ACT_REDIRECT`.
const XDP_ABORTED: u64 = 0;
const XDP_REDIRECT: u64 = 4;
const TC_ACT_SHOT: u64 = 2;
const TC_ACT_REDIRECT: u64 = 7;
/// `BPF_F_INGRESS`: `bpf_redirect` from tc to the device's receive path.
const BPF_F_INGRESS: u64 = 1;
/// `XDP_ABORTED | XDP_DROP | XDP_PASS | XDP_TX`: what `bpf_redirect_map` returns on a miss.
const XDP_ACTION_MASK: u64 = 3;
/// `BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS`: the devmap-only flags.
const DEVMAP_FLAGS: u64 = 8 | 16;
const BPF_F_BROADCAST: u64 = 8;

/// `bpf_redirect(ifindex, flags)`: XDP returns `XDP_REDIRECT` (`XDP_ABORTED` for any flag), tc
/// `TC_ACT_REDIRECT` (`TC_ACT_SHOT` for a flag other than `BPF_F_INGRESS`); the target is recorded.
pub fn redirect(env: &mut dyn HelperEnv, a: [u64; 5]) -> R {
    let (ifindex, flags) = (a[0] as u32, a[1]);
    if env.xdp_pointers().is_some() {
        if flags != 0 {
            return Ok(XDP_ABORTED);
        }
        env.set_redirect(format!("ifindex {ifindex} (bpf_redirect)"));
        return Ok(XDP_REDIRECT);
    }
    if flags & !BPF_F_INGRESS != 0 {
        return Ok(TC_ACT_SHOT);
    }
    let way = if flags & BPF_F_INGRESS != 0 { "ingress" } else { "egress" };
    env.set_redirect(format!("ifindex {ifindex} {way} (bpf_redirect)"));
    Ok(TC_ACT_REDIRECT)
}

/// `bpf_redirect_map(map, key, flags)`: `XDP_REDIRECT` with the map's entry as target; on a miss
/// the low two bits of `flags` (an XDP action); `XDP_ABORTED` for unknown flags.
pub fn redirect_map(env: &mut dyn HelperEnv, a: [u64; 5]) -> R {
    let (_, map) = of_type(env, a[0], "redirect_map", MapType::is_redirect_target)?;
    let flags = a[2];
    let extra = if map.map_type() == MapType::Devmap { DEVMAP_FLAGS } else { 0 };
    if flags & !(XDP_ACTION_MASK | extra) != 0 {
        return Ok(XDP_ABORTED);
    }
    // The key is a u32: the kernel's lookup functions take one.
    let key = a[1] as u32;
    let found = map.lookup(&key.to_le_bytes(), 0);
    let name = format!("{} {}", map.map_type().name(), map.def().name);
    let target = match found {
        None if flags & BPF_F_BROADCAST == 0 => return Ok(flags & XDP_ACTION_MASK),
        _ if flags & BPF_F_BROADCAST != 0 => format!("{name} (broadcast)"),
        Some(off) if map.map_type() == MapType::Devmap => {
            let ifindex = u32::from_le_bytes(map.storage()[off..off + 4].try_into().expect("4 bytes"));
            format!("{name}[{key}] (ifindex {ifindex})")
        }
        _ => format!("{name}[{key}]"),
    };
    env.set_redirect(target);
    Ok(XDP_REDIRECT)
}
