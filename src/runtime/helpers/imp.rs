//! Helper implementations. Each mirrors its kernel counterpart's observable behaviour: the same
//! result in `r0`, the same effect on maps and memory.

use super::printk;
use super::{HelperEnv, HelperFault};
use crate::program::MapType;
use crate::runtime::maps::ringbuf::{BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP, BPF_RINGBUF_HDR_SZ};
use crate::runtime::maps::Map;

type R = Result<u64, HelperFault>;

/// Largest buffer a helper fills in one go (no program memory region is bigger: the stack is
/// 512 bytes and map values are bounded well below this).
const MAX_HELPER_BUF: usize = 1 << 24;

/// A negative errno as `r0` holds it.
pub(super) fn neg(errno: i32) -> u64 {
    -(errno as i64) as u64
}

/// Resolves `r1` to a map, then reads its key through `key_ptr`.
fn map_and_key(env: &mut dyn HelperEnv, map_ptr: u64, key_ptr: u64) -> Result<(usize, Vec<u8>), HelperFault> {
    let (idx, map) = env.map_by_ptr(map_ptr)?;
    let key_size = map.def().key_size as usize;
    let key = env.read(key_ptr, key_size)?;
    Ok((idx, key))
}

fn require(map: &Map, helper: &'static str, ok: bool) -> Result<(), HelperFault> {
    if ok {
        Ok(())
    } else {
        Err(HelperFault::WrongMapType { helper, map_type: map.map_type().name() })
    }
}

/// `bpf_map_lookup_elem(map, key)`: pointer to the value (this CPU's copy) or NULL.
pub fn map_lookup_elem(env: &mut dyn HelperEnv, a: [u64; 5]) -> R {
    let (idx, key) = map_and_key(env, a[0], a[1])?;
    let cpu = env.cpu();
    let map = env.map_mut(idx)?;
    let t = map.map_type();
    let no_lookup = matches!(
        t,
        MapType::ProgArray
            | MapType::Ringbuf
            | MapType::Queue
            | MapType::Stack
            | MapType::PerfEventArray
            | MapType::Cpumap
    );
    require(map, "map_lookup_elem", !no_lookup)?;
    let found = map.lookup(&key, cpu);
    // A map of maps holds map indices: the lookup answers the inner map's reference.
    if let (Some(off), true) = (found, t.is_map_in_map()) {
        let index = u32::from_le_bytes(map.storage()[off..off + 4].try_into().expect("4-byte values"));
        return Ok(env.map_ref(index as usize));
    }
    Ok(match found {
        Some(off) => env.map_value_addr(idx, off),
        None => 0,
    })
}

/// `bpf_map_update_elem(map, key, value, flags)`: 0 or a negative errno.
pub fn map_update_elem(env: &mut dyn HelperEnv, a: [u64; 5]) -> R {
    let (idx, key) = map_and_key(env, a[0], a[1])?;
    let value_size = env.map_mut(idx)?.value_size();
    let value = env.read(a[2], value_size)?;
    let cpu = env.cpu();
    let map = env.map_mut(idx)?;
    require(map, "map_update_elem", !matches!(map.map_type(), MapType::ProgArray | MapType::Ringbuf))?;
    Ok(match map.update(&key, &value, a[3], cpu) {
        Ok(()) => 0,
        Err(e) => e.as_r0(),
    })
}

/// `bpf_map_delete_elem(map, key)`: 0 or a negative errno (`-EINVAL` for arrays).
pub fn map_delete_elem(env: &mut dyn HelperEnv, a: [u64; 5]) -> R {
    let (idx, key) = map_and_key(env, a[0], a[1])?;
    let map = env.map_mut(idx)?;
    require(map, "map_delete_elem", !matches!(map.map_type(), MapType::ProgArray | MapType::Ringbuf))?;
    Ok(match map.delete(&key) {
        Ok(()) => 0,
        Err(e) => e.as_r0(),
    })
}

/// `bpf_ktime_get_ns()`: `CLOCK_MONOTONIC`.
pub fn ktime_get_ns(env: &mut dyn HelperEnv, _: [u64; 5]) -> R {
    Ok(env.now_ns())
}

/// `bpf_ktime_get_boot_ns()`: `CLOCK_BOOTTIME`.
pub fn ktime_get_boot_ns(env: &mut dyn HelperEnv, _: [u64; 5]) -> R {
    Ok(env.boot_ns())
}

/// `bpf_ktime_get_coarse_ns()`: `CLOCK_MONOTONIC_COARSE`; here the same clock as `ktime_get_ns`.
pub fn ktime_get_coarse_ns(env: &mut dyn HelperEnv, _: [u64; 5]) -> R {
    Ok(env.now_ns())
}

/// `bpf_trace_printk(fmt, fmt_size, a1, a2, a3)`: formats like the kernel (see [`printk`]), hands
/// the message to [`HelperEnv::trace`], returns the formatted length or `-EINVAL`.
pub fn trace_printk(env: &mut dyn HelperEnv, a: [u64; 5]) -> R {
    let size = a[1] as u32 as usize;
    if size == 0 || size > printk::MAX_FMT_SIZE {
        return Ok(neg(libc::EINVAL));
    }
    let fmt = env.read(a[0], size)?;
    match printk::format(&*env, &fmt, &a[2..5]) {
        Ok(msg) => {
            let len = msg.len();
            // bstr_printf writes into a MAX_BPRINTF_BUF buffer, keeping 1023 bytes plus NUL, but
            // returns the untruncated length.
            let shown = String::from_utf8_lossy(&msg[..len.min(printk::MAX_BPRINTF_BUF - 1)]).into_owned();
            env.trace(shown);
            Ok(len as u64)
        }
        Err(errno) => Ok(neg(errno)),
    }
}

/// `bpf_get_prandom_u32()`.
pub fn get_prandom_u32(env: &mut dyn HelperEnv, _: [u64; 5]) -> R {
    Ok(env.prandom_u32() as u64)
}

/// `bpf_get_smp_processor_id()`.
pub fn get_smp_processor_id(env: &mut dyn HelperEnv, _: [u64; 5]) -> R {
    Ok(env.cpu() as u64)
}

/// `bpf_get_numa_node_id()`: ebpf-lab has one NUMA node, 0.
pub fn get_numa_node_id(_: &mut dyn HelperEnv, _: [u64; 5]) -> R {
    Ok(0)
}

/// `bpf_get_current_pid_tgid()`: `tgid << 32 | pid`.
pub fn get_current_pid_tgid(env: &mut dyn HelperEnv, _: [u64; 5]) -> R {
    Ok(env.pid_tgid())
}

/// `bpf_get_ns_current_pid_tgid(dev, ino, nsdata, size)`: the current task's pid and tgid in
/// the pid namespace `dev`/`ino` (`struct bpf_pidns_info`, 8 bytes) and 0; `-EINVAL` with
/// `nsdata` zeroed for another size, a `dev` past 32 bits or another namespace (the kernel says
/// `-ENOENT` only for a task without one). ebpf-lab's task is the fixed one of
/// `bpf_get_current_pid_tgid` (4242), living in ebpf-lab's own pid namespace; the kernel's is the
/// thread running the test, so pid and tgid differ from it (a real difference, as for
/// `bpf_get_current_pid_tgid`).
pub fn get_ns_current_pid_tgid(env: &mut dyn HelperEnv, a: [u64; 5]) -> R {
    let size = a[3] as u32 as usize;
    if size > MAX_HELPER_BUF {
        return Err(HelperFault::BadAccess { addr: a[2], len: size, write: true });
    }
    if size != 8 || a[0] > u64::from(u32::MAX) || env.pid_ns() != (a[0], a[1]) {
        env.write(a[2], &vec![0; size])?;
        return Ok(neg(libc::EINVAL));
    }
    let pid = env.pid_tgid() as u32;
    let tgid = (env.pid_tgid() >> 32) as u32;
    env.write(a[2], &[pid.to_le_bytes(), tgid.to_le_bytes()].concat())?;
    Ok(0)
}

/// `bpf_get_current_uid_gid()`: `gid << 32 | uid`.
pub fn get_current_uid_gid(env: &mut dyn HelperEnv, _: [u64; 5]) -> R {
    Ok(env.uid_gid())
}

/// `bpf_get_current_comm(buf, size)`: `strscpy_pad` of the task name into `size` bytes (at most
/// `size - 1` characters, then NULs), returns 0.
pub fn get_current_comm(env: &mut dyn HelperEnv, a: [u64; 5]) -> R {
    let size = a[1] as u32 as usize;
    if size == 0 {
        return Ok(neg(libc::EINVAL));
    }
    // The verifier bounds `size` by the buffer; without one, refuse absurd sizes before allocating.
    if size > MAX_HELPER_BUF {
        return Err(HelperFault::BadAccess { addr: a[0], len: size, write: true });
    }
    let comm = env.comm();
    let name_len = comm.iter().position(|&b| b == 0).unwrap_or(comm.len());
    let mut buf = vec![0u8; size];
    let n = name_len.min(size - 1);
    buf[..n].copy_from_slice(&comm[..n]);
    env.write(a[0], &buf)?;
    Ok(0)
}

fn ringbuf_of<'a>(
    env: &'a mut dyn HelperEnv,
    map_ptr: u64,
    helper: &'static str,
) -> Result<(usize, &'a mut Map), HelperFault> {
    let (idx, map) = env.map_by_ptr(map_ptr)?;
    require(map, helper, map.map_type() == MapType::Ringbuf)?;
    Ok((idx, map))
}

/// `bpf_ringbuf_output(ringbuf, data, size, flags)`: 0, `-EINVAL` (flags) or `-EAGAIN` (full).
pub fn ringbuf_output(env: &mut dyn HelperEnv, a: [u64; 5]) -> R {
    let (idx, map) = ringbuf_of(env, a[0], "ringbuf_output")?;
    let size = map.ringbuf().map_or(0, |rb| rb.size() as u64);
    // A record that cannot fit fails reservation in the kernel (-EAGAIN); answer before copying
    // a possibly huge argument.
    if a[3] & !(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP) == 0 && a[2].saturating_add(BPF_RINGBUF_HDR_SZ as u64) >= size {
        return Ok(neg(libc::EAGAIN));
    }
    let data = env.read(a[1], a[2] as usize)?;
    let rb = env.map_mut(idx)?.ringbuf_mut().ok_or(HelperFault::BadMap(a[0]))?;
    Ok(match rb.output(&data, a[3]) {
        Ok(()) => 0,
        Err(e) => e.as_r0(),
    })
}

/// `bpf_ringbuf_reserve(ringbuf, size, flags)`: pointer to `size` bytes, or NULL.
pub fn ringbuf_reserve(env: &mut dyn HelperEnv, a: [u64; 5]) -> R {
    let (idx, map) = ringbuf_of(env, a[0], "ringbuf_reserve")?;
    let rb = map.ringbuf_mut().ok_or(HelperFault::BadMap(a[0]))?;
    Ok(match rb.reserve(a[1], a[2]) {
        Some(off) => env.map_value_addr(idx, off),
        None => 0,
    })
}

fn ringbuf_commit(env: &mut dyn HelperEnv, ptr: u64, discard: bool) -> R {
    let (idx, off) = env.map_offset_of(ptr).ok_or(HelperFault::NotRingbufRecord(ptr))?;
    let rb = env.map_mut(idx)?.ringbuf_mut().ok_or(HelperFault::NotRingbufRecord(ptr))?;
    let res = if discard { rb.discard(off) } else { rb.submit(off) };
    res.map_err(|_| HelperFault::NotRingbufRecord(ptr))?;
    // RET_VOID: the kernel leaves whatever; 0 keeps runs reproducible.
    Ok(0)
}

/// `bpf_ringbuf_submit(data, flags)`: publishes a reserved record (flags only affect wakeups).
pub fn ringbuf_submit(env: &mut dyn HelperEnv, a: [u64; 5]) -> R {
    ringbuf_commit(env, a[0], false)
}

/// `bpf_ringbuf_discard(data, flags)`: drops a reserved record.
pub fn ringbuf_discard(env: &mut dyn HelperEnv, a: [u64; 5]) -> R {
    ringbuf_commit(env, a[0], true)
}

/// `bpf_ringbuf_query(ringbuf, flags)`.
pub fn ringbuf_query(env: &mut dyn HelperEnv, a: [u64; 5]) -> R {
    let (_, map) = ringbuf_of(env, a[0], "ringbuf_query")?;
    let rb = map.ringbuf().ok_or(HelperFault::BadMap(a[0]))?;
    Ok(rb.query(a[1]))
}

/// `bpf_skb_load_bytes(skb, offset, to, len)`: copies packet bytes; out of range, zeroes `to` and
/// returns `-EFAULT`.
pub fn skb_load_bytes(env: &mut dyn HelperEnv, a: [u64; 5]) -> R {
    let (offset, len) = (a[1] as u32, a[3] as u32 as usize);
    if len > MAX_HELPER_BUF {
        return Err(HelperFault::BadAccess { addr: a[2], len, write: true });
    }
    // The kernel refuses offsets above INT_MAX before looking at the packet.
    let got = (offset <= i32::MAX as u32).then(|| env.skb_bytes(offset as u64, len)).flatten();
    match got {
        Some(bytes) => {
            env.write(a[2], &bytes)?;
            Ok(0)
        }
        None => {
            env.zero(a[2], len)?;
            Ok(neg(libc::EFAULT))
        }
    }
}

/// `csum_partial` as x86-64 computes it: the 32-bit ones' complement sum of `sum` and the
/// little-endian 32-bit words of `buf`, a short tail counting as zero-padded.
fn csum_partial(buf: &[u8], sum: u32) -> u32 {
    let mut acc = sum as u64;
    for w in buf.chunks(4) {
        let mut word = [0u8; 4];
        word[..w.len()].copy_from_slice(w);
        acc += u32::from_le_bytes(word) as u64;
    }
    while acc >> 32 != 0 {
        acc = (acc & 0xffff_ffff) + (acc >> 32);
    }
    acc as u32
}

/// The kernel's `csum_add`: 32-bit addition with end-around carry.
fn csum_add(a: u32, b: u32) -> u32 {
    let (s, carry) = a.overflowing_add(b);
    s.wrapping_add(carry as u32)
}

/// `bpf_csum_diff(from, from_size, to, to_size, seed)`: `seed + sum(to) - sum(from)` in ones'
/// complement, folded to 16 bits (`csum_from32to16`), as kernels since 6.13 compute it: any sizes
/// (older kernels wanted multiples of 4 and returned the unfolded 32-bit sum).
pub fn csum_diff(env: &mut dyn HelperEnv, a: [u64; 5]) -> R {
    let (from_size, to_size) = (a[1] as u32 as usize, a[3] as u32 as usize);
    // The verifier bounds both sizes by their buffers; without it, refuse absurd ones early.
    if from_size.max(to_size) > MAX_HELPER_BUF {
        return Err(HelperFault::BadAccess { addr: a[0], len: from_size.max(to_size), write: false });
    }
    let from = if from_size > 0 { env.read(a[0], from_size)? } else { Vec::new() };
    let to = if to_size > 0 { env.read(a[2], to_size)? } else { Vec::new() };
    let seed = a[4] as u32;
    // The same branches as the kernel: they differ in how a zero sum is spelled (0 or ~0).
    let sum = match (from_size > 0, to_size > 0) {
        (true, true) => csum_add(csum_partial(&to, seed), !csum_partial(&from, 0)),
        (false, true) => csum_partial(&to, seed),
        (true, false) => !csum_partial(&from, !seed),
        (false, false) => seed,
    };
    let folded = sum.wrapping_add(sum.rotate_left(16)) >> 16;
    Ok(folded as u64)
}

/// `ETH_HLEN`: an XDP packet never shrinks below an Ethernet header.
const ETH_HLEN: u64 = 14;

fn xdp_pointers(env: &dyn HelperEnv) -> Result<[u64; 3], HelperFault> {
    env.xdp_pointers().ok_or_else(|| HelperFault::Other("no XDP packet in this run".into()))
}

/// `bpf_xdp_adjust_head(xdp, delta)`: moves `data` (and the metadata with it) by `delta`; 0, or
/// `-EINVAL` when `data` would pass the frame head plus metadata or leave less than an
/// Ethernet header.
pub fn xdp_adjust_head(env: &mut dyn HelperEnv, a: [u64; 5]) -> R {
    let [meta, data, end] = xdp_pointers(env)?;
    let metalen = data - meta;
    let new_data = data.wrapping_add(a[1] as i32 as i64 as u64);
    let lowest = crate::runtime::memory::PACKET_BASE + crate::runtime::memory::XDP_FRAME_HEAD + metalen;
    if new_data < lowest || new_data > end.saturating_sub(ETH_HLEN) {
        return Ok(neg(libc::EINVAL));
    }
    let new_meta = new_data - metalen;
    if metalen > 0 {
        let bytes = env.read(meta, metalen as usize)?;
        env.set_xdp_pointers([new_meta, new_data, end])?;
        env.write(new_meta, &bytes)?;
    } else {
        env.set_xdp_pointers([new_meta, new_data, end])?;
    }
    Ok(0)
}

/// `bpf_xdp_adjust_tail(xdp, delta)`: moves `data_end` by `delta` (grown bytes are zeros); 0, or
/// `-EINVAL` past the frame's tailroom or below an Ethernet header.
pub fn xdp_adjust_tail(env: &mut dyn HelperEnv, a: [u64; 5]) -> R {
    let [meta, data, end] = xdp_pointers(env)?;
    let new_end = end.wrapping_add(a[1] as i32 as i64 as u64);
    if new_end > crate::runtime::memory::XDP_DATA_HARD_END || new_end < data + ETH_HLEN {
        return Ok(neg(libc::EINVAL));
    }
    env.set_xdp_pointers([meta, data, new_end])?;
    Ok(0)
}

/// `bpf_xdp_adjust_meta(xdp, delta)`: moves `data_meta` by `delta`; 0, `-EINVAL` outside
/// `[frame head, data]`, `-EACCES` when the metadata would not be whole 32-bit words of at most
/// 255 bytes (`skb_shared_info.meta_len` is a `u8`).
pub fn xdp_adjust_meta(env: &mut dyn HelperEnv, a: [u64; 5]) -> R {
    let [meta, data, end] = xdp_pointers(env)?;
    let new_meta = meta.wrapping_add(a[1] as i32 as i64 as u64);
    let lowest = crate::runtime::memory::PACKET_BASE + crate::runtime::memory::XDP_FRAME_HEAD;
    if new_meta < lowest || new_meta > data {
        return Ok(neg(libc::EINVAL));
    }
    let metalen = data - new_meta;
    if metalen % 4 != 0 || metalen > u8::MAX as u64 {
        return Ok(neg(libc::EACCES));
    }
    env.set_xdp_pointers([new_meta, data, end])?;
    Ok(0)
}

/// `BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH`: the flags `bpf_skb_store_bytes` takes. Both
/// only touch what a test run cannot show (`skb->csum` of a `CHECKSUM_NONE` skb, a zero hash).
const SKB_STORE_FLAGS: u64 = 1 | 2;

/// `bpf_skb_store_bytes(skb, offset, from, len, flags)`: copies `len` bytes into the packet; 0,
/// `-EINVAL` (unknown flags) or `-EFAULT` (past the packet's end).
pub fn skb_store_bytes(env: &mut dyn HelperEnv, a: [u64; 5]) -> R {
    if a[4] & !SKB_STORE_FLAGS != 0 {
        return Ok(neg(libc::EINVAL));
    }
    let (offset, len) = (a[1] as u32, a[3] as u32 as usize);
    if len > MAX_HELPER_BUF {
        return Err(HelperFault::BadAccess { addr: a[2], len, write: false });
    }
    let bytes = env.read(a[2], len)?;
    if offset > i32::MAX as u32 || !env.skb_store(offset as u64, &bytes) {
        return Ok(neg(libc::EFAULT));
    }
    Ok(0)
}

/// `BPF_F_HDR_FIELD_MASK`: the size of the replaced field (0 = `to` is a `bpf_csum_diff`).
const HDR_FIELD_MASK: u64 = 0xf;
/// `BPF_F_PSEUDO_HDR`: the field is part of the pseudo header (matters only for offloaded sums).
const F_PSEUDO_HDR: u64 = 1 << 4;
/// `BPF_F_MARK_MANGLED_0`: a UDP checksum of 0 means "none": leave it, and write a computed 0
/// as `0xffff` (`CSUM_MANGLED_0`).
const F_MARK_MANGLED_0: u64 = 1 << 5;
/// `BPF_F_MARK_ENFORCE`: update even a zero checksum.
const F_MARK_ENFORCE: u64 = 1 << 6;
/// `BPF_F_IPV6`: the pseudo header is IPv6's (matters only for offloaded sums).
const F_IPV6: u64 = 1 << 7;

/// The kernel's `csum_fold`: 32-bit sum to 16 bits, complemented.
fn csum_fold(sum: u32) -> u16 {
    let s = (sum & 0xffff) + (sum >> 16);
    let s = (s & 0xffff) + (s >> 16);
    !(s as u16)
}

/// How the checksum at `ptr` changes: `csum_replace_by_diff` (`size` 0), `csum_replace4`
/// (`size` 4, and `size` 2 where `wide16`: `inet_proto_csum_replace2` widens to 32 bits) or
/// `csum_replace2` (`size` 2). `None` for other sizes.
fn csum_replace(sum: u16, size: u64, from: u64, to: u64, wide16: bool) -> Option<u16> {
    let replace4 = |from: u32, to: u32| csum_fold(csum_add(csum_add(!(sum as u32), !from), to));
    Some(match size {
        0 => csum_fold(csum_add(to as u32, !(sum as u32))),
        2 if wide16 => replace4(from as u16 as u32, to as u16 as u32),
        2 => {
            let add16 = |a: u16, b: u16| {
                let (r, c) = a.overflowing_add(b);
                r.wrapping_add(c as u16)
            };
            !add16(add16(!sum, !(from as u16)), to as u16)
        }
        4 => replace4(from as u32, to as u32),
        _ => return None,
    })
}

/// Reads the 16-bit checksum at packet `offset` (even, within the packet) for the csum helpers:
/// `Err(r0)` with `-EFAULT` otherwise.
fn csum_field(env: &dyn HelperEnv, offset: u64) -> Result<u16, u64> {
    if offset > 0xffff || offset & 1 != 0 {
        return Err(neg(libc::EFAULT));
    }
    match env.skb_bytes(offset, 2) {
        Some(b) => Ok(u16::from_le_bytes([b[0], b[1]])),
        None => Err(neg(libc::EFAULT)),
    }
}

/// `bpf_l3_csum_replace(skb, offset, from, to, flags)`: updates the IP header checksum at
/// `offset` for a field changed from `from` to `to` (flags: its size, 2 or 4, or 0 with `to` a
/// `bpf_csum_diff`); 0, `-EINVAL` or `-EFAULT`.
pub fn l3_csum_replace(env: &mut dyn HelperEnv, a: [u64; 5]) -> R {
    let flags = a[4];
    if flags & !HDR_FIELD_MASK != 0 {
        return Ok(neg(libc::EINVAL));
    }
    let sum = match csum_field(env, a[1] as u32 as u64) {
        Ok(s) => s,
        Err(r0) => return Ok(r0),
    };
    if flags & HDR_FIELD_MASK == 0 && a[2] != 0 {
        return Ok(neg(libc::EINVAL));
    }
    let Some(new) = csum_replace(sum, flags & HDR_FIELD_MASK, a[2], a[3], false) else {
        return Ok(neg(libc::EINVAL));
    };
    env.skb_store(a[1] as u32 as u64, &new.to_le_bytes());
    Ok(0)
}

/// `bpf_l4_csum_replace(skb, offset, from, to, flags)`: the same for a TCP/UDP checksum, with
/// `BPF_F_MARK_MANGLED_0`/`BPF_F_MARK_ENFORCE` for UDP's "no checksum" 0. A test run's skb is
/// `CHECKSUM_NONE`, so the pseudo-header flags change nothing.
pub fn l4_csum_replace(env: &mut dyn HelperEnv, a: [u64; 5]) -> R {
    let flags = a[4];
    if flags & !(HDR_FIELD_MASK | F_PSEUDO_HDR | F_MARK_MANGLED_0 | F_MARK_ENFORCE | F_IPV6) != 0 {
        return Ok(neg(libc::EINVAL));
    }
    let sum = match csum_field(env, a[1] as u32 as u64) {
        Ok(s) => s,
        Err(r0) => return Ok(r0),
    };
    let mangled0 = flags & F_MARK_MANGLED_0 != 0;
    if mangled0 && flags & F_MARK_ENFORCE == 0 && sum == 0 {
        return Ok(0);
    }
    if flags & HDR_FIELD_MASK == 0 && a[2] != 0 {
        return Ok(neg(libc::EINVAL));
    }
    let Some(mut new) = csum_replace(sum, flags & HDR_FIELD_MASK, a[2], a[3], true) else {
        return Ok(neg(libc::EINVAL));
    };
    if mangled0 && new == 0 {
        new = 0xffff;
    }
    env.skb_store(a[1] as u32 as u64, &new.to_le_bytes());
    Ok(0)
}
