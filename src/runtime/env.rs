//! The helpers' view of a run ([`MemEnv`]), shared by every engine that keeps its memory in a
//! [`Memory`]: the same checked reads and writes, map lookups, deterministic clock, random
//! generator and "current task", whichever engine makes the call. Also the engine-neutral half of
//! `bpf_tail_call` (finding the target) and the helper-call wrapper turning faults into errors.

use super::error::ErrorKind;
use super::helpers::{self, HelperEnv, HelperFault};
use super::memory::{Fault, Memory, MAP_PTR_BASE, MAP_PTR_STRIDE, MAP_VALUE_BASE, MAP_VALUE_STRIDE};
use super::run::RunOptions;
use super::Map;

/// `MAX_TAIL_CALL_CNT`: a chain of tail calls may be at most this long.
pub const MAX_TAIL_CALL_CNT: u32 = 33;

/// The program's world as helpers see it: the VM's memory plus its deterministic clock,
/// random generator and "current task".
pub struct MemEnv<'a> {
    /// The run's memory (regions and maps).
    pub mem: &'a mut Memory,
    /// The run's options (CPU number).
    pub options: &'a RunOptions,
    /// `bpf_ktime_get_ns`'s answer for this call.
    pub clock: u64,
    /// State of `bpf_get_prandom_u32`.
    pub rng: &'a mut u64,
    /// Where `bpf_trace_printk` lines go.
    pub trace: &'a mut Vec<String>,
}

/// The pid namespace ebpf-lab runs in, as `stat /proc/self/ns/pid` gives it: the "current"
/// task lives there, as the process running a kernel test run does (the initial namespace when
/// it cannot be read).
fn own_pid_ns() -> (u64, u64) {
    static NS: std::sync::OnceLock<(u64, u64)> = std::sync::OnceLock::new();
    *NS.get_or_init(|| {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata("/proc/self/ns/pid").map_or((0, helpers::PROC_PID_INIT_INO), |m| (m.dev(), m.ino()))
    })
}

/// Helpers report faults in their own terms; the engine adds the instruction.
fn bad(_: Fault, write: bool, addr: u64, len: usize) -> HelperFault {
    HelperFault::BadAccess { addr, len, write }
}

impl HelperEnv for MemEnv<'_> {
    fn read(&self, addr: u64, len: usize) -> Result<Vec<u8>, HelperFault> {
        self.mem.read_bytes(addr, len).map_err(|f| bad(f, false, addr, len))
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), HelperFault> {
        self.mem.write_bytes(addr, data).map_err(|f| bad(f, true, addr, data.len()))
    }

    fn zero(&mut self, addr: u64, len: usize) -> Result<(), HelperFault> {
        self.mem.zero_bytes(addr, len).map_err(|f| bad(f, true, addr, len))
    }

    fn map_by_ptr(&mut self, map_ptr: u64) -> Result<(usize, &mut Map), HelperFault> {
        let rel = map_ptr.wrapping_sub(MAP_PTR_BASE);
        if !rel.is_multiple_of(MAP_PTR_STRIDE) {
            return Err(HelperFault::BadMap(map_ptr));
        }
        let idx = (rel / MAP_PTR_STRIDE) as usize;
        match self.mem.maps.get_mut(idx) {
            Some(m) => Ok((idx, m)),
            None => Err(HelperFault::BadMap(map_ptr)),
        }
    }

    fn map_mut(&mut self, index: usize) -> Result<&mut Map, HelperFault> {
        let ptr = MAP_PTR_BASE + index as u64 * MAP_PTR_STRIDE;
        self.mem.maps.get_mut(index).ok_or(HelperFault::BadMap(ptr))
    }

    fn map_value_addr(&self, map_index: usize, offset: usize) -> u64 {
        MAP_VALUE_BASE + map_index as u64 * MAP_VALUE_STRIDE + offset as u64
    }

    fn map_offset_of(&self, addr: u64) -> Option<(usize, usize)> {
        let rel = addr.checked_sub(MAP_VALUE_BASE)?;
        let idx = (rel / MAP_VALUE_STRIDE) as usize;
        let off = (rel % MAP_VALUE_STRIDE) as usize;
        (idx < self.mem.maps.len()).then_some((idx, off))
    }

    fn set_redirect(&mut self, target: String) {
        self.mem.redirect = Some(target);
    }

    fn cpu(&self) -> u32 {
        self.options.cpu
    }

    fn now_ns(&self) -> u64 {
        self.clock
    }

    fn boot_ns(&self) -> u64 {
        // Boot time runs ahead of the monotonic clock by a fixed "suspended" second.
        self.clock + 1_000_000_000
    }

    fn prandom_u32(&mut self) -> u32 {
        // xorshift64, seeded by RunOptions::seed: reproducible runs.
        let mut x = (*self.rng).max(1);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *self.rng = x;
        (x >> 16) as u32
    }

    fn pid_tgid(&self) -> u64 {
        (4242u64 << 32) | 4242
    }

    fn pid_ns(&self) -> (u64, u64) {
        own_pid_ns()
    }

    fn hash_key(&self) -> u64 {
        self.options.seed
    }

    fn uid_gid(&self) -> u64 {
        0
    }

    fn comm(&self) -> [u8; 16] {
        *b"ebpf-lab\0\0\0\0\0\0\0\0"
    }

    fn trace(&mut self, message: String) {
        self.trace.push(message);
    }

    fn skb_bytes(&self, offset: u64, len: usize) -> Option<Vec<u8>> {
        self.mem.skb_bytes(offset, len)
    }

    fn skb_store(&mut self, offset: u64, data: &[u8]) -> bool {
        self.mem.skb_store(offset, data).is_some()
    }

    fn skb_len(&self) -> Option<u64> {
        self.mem.skb_len()
    }

    fn skb_mac_len(&self) -> Option<u64> {
        self.mem.skb_len().map(|_| u64::from(self.mem.skb.mac_len))
    }

    fn set_skb_mac_len(&mut self, mac_len: u64) {
        self.mem.skb.mac_len = mac_len as u32;
    }

    fn skb_field(&self, name: &str) -> Option<u32> {
        self.mem.skb_field(name)
    }

    fn set_skb_field(&mut self, name: &str, v: u32) -> bool {
        self.mem.set_skb_field(name, v).is_some()
    }

    fn skb_resize(&mut self, offset: u64, delta: i64) -> bool {
        self.mem.skb_resize(offset, delta).is_some()
    }

    fn set_tunnel_key(&mut self, key: Vec<u8>) {
        self.mem.skb.tunnel_key = Some(key);
    }

    fn xdp_pointers(&self) -> Option<[u64; 3]> {
        self.mem.xdp_pointers()
    }

    fn set_xdp_pointers(&mut self, pointers: [u64; 3]) -> Result<(), HelperFault> {
        self.mem.set_xdp_pointers(pointers).ok_or_else(|| HelperFault::Other("no XDP packet in this run".into()))
    }
}

impl MemEnv<'_> {
    /// Calls helper `id` (not `bpf_tail_call`, which engines do themselves) with `args`
    /// (`r1`–`r5`). Returns the new `r0`; a fault becomes the error the engine ties to its
    /// instruction.
    pub fn call(&mut self, id: i64, args: [u64; 5]) -> Result<u64, ErrorKind> {
        let Some(proto) = u32::try_from(id).ok().and_then(helpers::helper).filter(|h| h.id != 0) else {
            return Err(ErrorKind::UnknownHelper { id });
        };
        // A helper may reallocate a buffer (the packet, when an XDP program grows its tail):
        // the memory's last-hit region, which holds a host address, is forgotten.
        let r = helpers::call(self, proto.id, args);
        self.mem.forget_hot();
        r.map_err(|f| ErrorKind::HelperFault { id, name: proto.c_name(), message: f.to_string() })
    }
}

/// The program `bpf_tail_call(ctx, prog_array, index)` (`args` = `r1`–`r5`) continues in, after
/// `taken` tail calls so far with `programs` loaded programs; `None` when the call fails (empty
/// slot, bad index, the `MAX_TAIL_CALL_CNT` limit), and the helper then returns `-ENOENT`.
pub fn tail_call_target(mem: &Memory, args: [u64; 5], taken: u32, programs: usize) -> Option<usize> {
    let rel = args[1].wrapping_sub(MAP_PTR_BASE);
    let idx = (rel / MAP_PTR_STRIDE) as usize;
    let map = mem.maps.get(idx).filter(|_| rel.is_multiple_of(MAP_PTR_STRIDE))?;
    if taken >= MAX_TAIL_CALL_CNT {
        return None;
    }
    map.prog_at(args[2] as u32).map(|p| p as usize).filter(|&p| p < programs)
}

/// What a failed `bpf_tail_call` returns: `-ENOENT`.
pub const TAIL_CALL_FAILED: u64 = (-2i64) as u64;
