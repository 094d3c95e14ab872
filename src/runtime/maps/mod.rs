//! BPF maps with the kernel's semantics.
//!
//! # Addressability
//! Programs hold *pointers* into map values (`bpf_map_lookup_elem` returns one, `bpf_ringbuf_reserve`
//! too) and load/store through them. So every map keeps the bytes a program can reach in one flat
//! buffer ([`Map::storage`]) whose layout never moves once the map is created: an engine gives each
//! map a virtual address range and translates an address to `(map, byte offset into storage)`.
//!
//! Layout of that buffer, per family (`stride` = `value_size` rounded up to 8, as the kernel's
//! `elem_size`, so that every value is 8-byte aligned and 64-bit atomics on values are aligned):
//! - `ARRAY`: value `i` at `i * stride`.
//! - `PERCPU_ARRAY`: copy for `cpu` of value `i` at `(i * ncpus + cpu) * stride`.
//! - `HASH`/`LRU_HASH`: a slab of `max_entries` slots, slot `s` at `s * stride`.
//! - `PERCPU_HASH`: slot `s`, cpu `c` at `(s * ncpus + c) * stride`.
//! - `PROG_ARRAY`: entry `i` (a little-endian `u32` program index) at `i * 8`; programs never
//!   address it (the verifier only lets `bpf_tail_call` use it).
//! - `LPM_TRIE`: a slab of `max_entries` value slots, like a hash.
//! - `ARRAY_OF_MAPS`, `DEVMAP`, `CPUMAP`, `XSKMAP`: 16 bytes per slot (see [`object_array`]);
//!   `HASH_OF_MAPS` is a hash whose 4-byte values are map indices.
//! - `QUEUE`, `STACK`, `PERF_EVENT_ARRAY`: none (helpers copy values in and out).
//! - `RINGBUF`: the data area, twice the ring size (the kernel maps the data pages twice so a
//!   record that wraps is still contiguous; here the second half plays that role). See [`ringbuf`].
//!
//! Only `value_size` bytes of each `stride` belong to the value; [`Map::value_region`] tells an
//! engine which bytes of the storage an offset may legitimately touch.
//!
//! # Errors
//! Every operation that can fail returns a [`MapError`] carrying the kernel's errno as a helper
//! would return it (negative: `-EEXIST`, `-ENOENT`, …), so `bpf_map_update_elem` can hand it
//! straight back to the program in `r0`.

// The array and hash families are reached through `Map` only (which checks key and value sizes);
// the ring buffer is public because engines and the CLI drive it directly.
mod array;
mod hash;
mod lpm_trie;
mod object_array;
pub mod perf_event;
mod queue_stack;
pub mod ringbuf;

use crate::program::{MapDef, MapType};
use std::fmt;
use std::ops::Range;

use array::{ArrayMap, ProgArrayMap};
use hash::HashTable;
use lpm_trie::LpmTrie;
use object_array::ObjectArray;
use perf_event::PerfEventArray;
use queue_stack::QueueStack;
pub use ringbuf::RingBuf;

/// `BPF_ANY`: create a new element or update an existing one.
pub const BPF_ANY: u64 = 0;
/// `BPF_NOEXIST`: create a new element only if it did not exist.
pub const BPF_NOEXIST: u64 = 1;
/// `BPF_EXIST`: update an existing element only.
pub const BPF_EXIST: u64 = 2;
/// `BPF_F_LOCK`: update under the value's `bpf_spin_lock`. ebpf-lab map values never hold a spin
/// lock, so, like the kernel for such values, every update with this flag fails with `-EINVAL`.
pub const BPF_F_LOCK: u64 = 4;

/// `BPF_F_NO_PREALLOC` (`map_flags`).
pub const BPF_F_NO_PREALLOC: u32 = 1 << 0;
/// `BPF_F_NO_COMMON_LRU` (`map_flags`).
pub const BPF_F_NO_COMMON_LRU: u32 = 1 << 1;
/// `BPF_F_NUMA_NODE` (`map_flags`).
pub const BPF_F_NUMA_NODE: u32 = 1 << 2;
/// `BPF_F_RDONLY` (`map_flags`): read-only from user space.
pub const BPF_F_RDONLY: u32 = 1 << 3;
/// `BPF_F_WRONLY` (`map_flags`): write-only from user space.
pub const BPF_F_WRONLY: u32 = 1 << 4;
/// `BPF_F_ZERO_SEED` (`map_flags`, hash maps).
pub const BPF_F_ZERO_SEED: u32 = 1 << 6;
/// `BPF_F_RDONLY_PROG` (`map_flags`): read-only from programs.
pub const BPF_F_RDONLY_PROG: u32 = 1 << 7;
/// `BPF_F_WRONLY_PROG` (`map_flags`): write-only from programs.
pub const BPF_F_WRONLY_PROG: u32 = 1 << 8;
/// `BPF_F_MMAPABLE` (`map_flags`, arrays).
pub const BPF_F_MMAPABLE: u32 = 1 << 10;
/// `BPF_F_INNER_MAP` (`map_flags`, arrays).
pub const BPF_F_INNER_MAP: u32 = 1 << 12;

/// `BPF_F_ACCESS_MASK`: the four access flags.
pub(crate) const BPF_F_ACCESS_MASK: u32 = BPF_F_RDONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY | BPF_F_WRONLY_PROG;

/// The kernel's `PCPU_MIN_UNIT_SIZE` (32 KiB): bound on a per-CPU value.
pub(crate) const PCPU_MIN_UNIT_SIZE: u32 = 32 << 10;
/// ebpf-lab's own bound on one map's storage (the kernel would fail the allocation with `-ENOMEM`
/// somewhere around here on a lab machine; a fixed bound keeps runs reproducible).
pub const MAX_STORAGE_BYTES: usize = 256 << 20;

/// Kernel-internal `ENOTSUPP` (524): what the kernel returns for operations a map type lacks
/// (e.g. `bpf_map_lookup_elem` on a ring buffer). Not in libc: user space sees errno 524.
pub const ENOTSUPP: i32 = 524;

/// A map operation failed: the kernel's errno plus a human explanation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapError {
    /// The errno as a helper returns it: negative (`-libc::EEXIST` = -17, …).
    pub code: i32,
    /// Why, in words (for diagnostics; not part of the kernel's answer).
    pub reason: String,
}

impl MapError {
    /// An error with errno `errno` (positive, e.g. `libc::ENOENT`) and an explanation.
    pub fn new(errno: i32, reason: impl Into<String>) -> MapError {
        MapError { code: -errno.abs(), reason: reason.into() }
    }

    /// The positive errno (`EEXIST`, …).
    pub fn errno(&self) -> i32 {
        -self.code
    }

    /// The errno's symbolic name (`"EEXIST"`), or `"E?"` for one this module never produces.
    pub fn errno_name(&self) -> &'static str {
        errno_name(self.errno())
    }

    /// The value a helper leaves in `r0`: the negative errno, sign-extended to 64 bits.
    pub fn as_r0(&self) -> u64 {
        self.code as i64 as u64
    }
}

/// Symbolic name of the errnos map operations produce.
pub fn errno_name(errno: i32) -> &'static str {
    match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::E2BIG => "E2BIG",
        libc::ENOMEM => "ENOMEM",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::EINVAL => "EINVAL",
        libc::ENOSPC => "ENOSPC",
        libc::EAGAIN => "EAGAIN",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        ENOTSUPP => "ENOTSUPP",
        _ => "E?",
    }
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.errno_name(), self.code, self.reason)
    }
}

impl std::error::Error for MapError {}

/// `round_up(n, 8)`, the kernel's per-element stride.
/// Writes one entry's value. `entry` is the byte offset of the entry's first per-CPU copy; copies
/// are `stride` apart. A program's update (`cpu` given) writes that CPU's copy; a user-space
/// update writes every CPU's copy from consecutive `stride`-sized chunks of `value`, as `bpf(2)`
/// takes them (a single copy when there is one CPU).
pub(crate) fn store_value(
    data: &mut [u8],
    entry: usize,
    value: &[u8],
    layout: (usize, usize, usize),
    cpu: Option<usize>,
) {
    let (value_size, stride, ncpus) = layout;
    match cpu {
        Some(c) => {
            let off = entry + c.min(ncpus - 1) * stride;
            data[off..off + value_size].copy_from_slice(&value[..value_size]);
        }
        None if ncpus == 1 => data[entry..entry + value_size].copy_from_slice(&value[..value_size]),
        None => {
            for c in 0..ncpus {
                let (off, src) = (entry + c * stride, c * stride);
                data[off..off + value_size].copy_from_slice(&value[src..src + value_size]);
            }
        }
    }
}

/// A per-CPU map's user-space value from one CPU's value: `value` (`value_size` bytes) padded to 8
/// bytes and repeated for every CPU, so `--map` sets every CPU's copy. `None` when `value` is not
/// exactly one CPU's value (a full all-CPUs buffer is passed through unchanged by the caller).
pub fn spread_percpu(value: &[u8], value_size: usize, ncpus: usize) -> Option<Vec<u8>> {
    if value.len() != value_size {
        return None;
    }
    let mut one = value.to_vec();
    one.resize(round8(value_size), 0);
    Some(one.repeat(ncpus.max(1)))
}

pub(crate) fn round8(n: usize) -> usize {
    n.div_ceil(8) * 8
}

/// The checks the kernel's `bpf_map_flags_access_ok` does: not both read-only and write-only.
pub(crate) fn access_flags_ok(flags: u32) -> bool {
    (flags & (BPF_F_RDONLY | BPF_F_WRONLY)) != (BPF_F_RDONLY | BPF_F_WRONLY)
        && (flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)) != (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)
}

/// Update flags check shared by arrays and hashes: `(flags & ~BPF_F_LOCK) > BPF_EXIST` is `-EINVAL`,
/// and so is `BPF_F_LOCK` itself, since no ebpf-lab value has a `bpf_spin_lock` (the kernel checks
/// `btf_record_has_field(map->record, BPF_SPIN_LOCK)` in `array_map_update_elem` and
/// `htab_map_update_elem`).
pub(crate) fn check_update_flags(flags: u64) -> Result<(), MapError> {
    if flags & !BPF_F_LOCK > BPF_EXIST {
        return Err(MapError::new(libc::EINVAL, format!("invalid update flags {flags:#x}")));
    }
    if flags & BPF_F_LOCK != 0 {
        return Err(MapError::new(libc::EINVAL, "BPF_F_LOCK needs a bpf_spin_lock in the value"));
    }
    Ok(())
}

/// The storage of one map family.
#[derive(Clone, Debug)]
enum Kind {
    Array(ArrayMap),
    ProgArray(ProgArrayMap),
    Hash(HashTable),
    Ringbuf(RingBuf),
    QueueStack(QueueStack),
    Lpm(LpmTrie),
    Objects(ObjectArray),
    Perf(PerfEventArray),
}

/// One map instance: its definition, the number of CPUs it was created for, and its contents.
#[derive(Clone, Debug)]
pub struct Map {
    def: MapDef,
    ncpus: usize,
    kind: Kind,
}

impl Map {
    /// Creates a map, validating `def` like the kernel's `map_alloc_check` for its type.
    /// `ncpus` is the number of possible CPUs (per-CPU maps keep that many copies; must be ≥ 1).
    pub fn new(def: &MapDef, ncpus: usize) -> Result<Map, MapError> {
        if ncpus == 0 || ncpus > 4096 {
            return Err(MapError::new(libc::EINVAL, format!("bad CPU count {ncpus}")));
        }
        // `map_create`: map_extra is for bloom filters and arenas, which ebpf-lab does not have.
        if def.extra.map_extra != 0 {
            return Err(MapError::new(libc::EINVAL, "map_extra is only for bloom filters and arenas"));
        }
        if def.extra.numa_node.is_some_and(|n| n != 0) {
            return Err(MapError::new(libc::EINVAL, "ebpf-lab has a single NUMA node, 0"));
        }
        let kind = match def.map_type {
            MapType::Array => Kind::Array(ArrayMap::new(def, 1)?),
            MapType::PercpuArray => Kind::Array(ArrayMap::new(def, ncpus)?),
            MapType::ProgArray => Kind::ProgArray(ProgArrayMap::new(def)?),
            MapType::Hash => Kind::Hash(HashTable::new(def, 1, false)?),
            MapType::PercpuHash => Kind::Hash(HashTable::new(def, ncpus, false)?),
            MapType::LruHash => Kind::Hash(HashTable::new(def, 1, true)?),
            MapType::Ringbuf => Kind::Ringbuf(RingBuf::new(def)?),
            MapType::Queue => Kind::QueueStack(QueueStack::new(def, false)?),
            MapType::Stack => Kind::QueueStack(QueueStack::new(def, true)?),
            MapType::LpmTrie => Kind::Lpm(LpmTrie::new(def)?),
            MapType::ArrayOfMaps | MapType::Devmap | MapType::Cpumap | MapType::Xskmap => {
                Kind::Objects(ObjectArray::new(def, ncpus)?)
            }
            MapType::HashOfMaps => {
                if def.value_size != 4 || def.extra.inner.is_none() {
                    return Err(MapError::new(
                        libc::EINVAL,
                        "a hash of maps has value_size 4 and an inner map definition (in C: `__array(values, struct { ... })`)",
                    ));
                }
                Kind::Hash(HashTable::new(def, 1, false)?)
            }
            MapType::PerfEventArray => Kind::Perf(PerfEventArray::new(def, ncpus)?),
        };
        Ok(Map { def: def.clone(), ncpus, kind })
    }

    /// The definition the map was created from.
    pub fn def(&self) -> &MapDef {
        &self.def
    }

    /// The map's type.
    pub fn map_type(&self) -> MapType {
        self.def.map_type
    }

    /// Number of CPUs the map was created for.
    pub fn ncpus(&self) -> usize {
        self.ncpus
    }

    /// Whether the map keeps one value per CPU (`PERCPU_ARRAY`, `PERCPU_HASH`).
    pub fn is_percpu(&self) -> bool {
        matches!(self.def.map_type, MapType::PercpuArray | MapType::PercpuHash)
    }

    /// Distance in the storage between consecutive values (`value_size` rounded up to 8; 8 for a
    /// prog array; 0 for a ring buffer).
    pub fn stride(&self) -> usize {
        match &self.kind {
            Kind::Array(a) => a.stride(),
            Kind::ProgArray(_) => 8,
            Kind::Hash(h) => h.stride(),
            Kind::Ringbuf(_) | Kind::QueueStack(_) | Kind::Perf(_) => 0,
            Kind::Lpm(l) => l.stride(),
            Kind::Objects(_) => 16,
        }
    }

    /// Size of the value a program sees (`value_size`).
    pub fn value_size(&self) -> usize {
        self.def.value_size as usize
    }

    /// Size of the value user space reads and writes (`bpf(2)`): `value_size`, or for per-CPU maps
    /// `round_up(value_size, 8) * ncpus` (all CPUs' copies, each padded to 8 bytes, as the kernel's
    /// `bpf_map_value_size` says).
    pub fn user_value_size(&self) -> usize {
        if self.is_percpu() {
            round8(self.value_size()) * self.ncpus
        } else {
            self.value_size()
        }
    }

    /// The flat buffer programs address. Its length and layout never change.
    pub fn storage(&self) -> &[u8] {
        match &self.kind {
            Kind::Array(a) => a.storage(),
            Kind::ProgArray(p) => p.storage(),
            Kind::Hash(h) => h.storage(),
            Kind::Ringbuf(r) => r.storage(),
            Kind::QueueStack(_) | Kind::Perf(_) => &[],
            Kind::Lpm(l) => l.storage(),
            Kind::Objects(o) => o.storage(),
        }
    }

    /// The flat buffer programs address, writable (stores through value pointers land here).
    pub fn storage_mut(&mut self) -> &mut [u8] {
        match &mut self.kind {
            Kind::Array(a) => a.storage_mut(),
            Kind::ProgArray(p) => p.storage_mut(),
            Kind::Hash(h) => h.storage_mut(),
            Kind::Ringbuf(r) => r.storage_mut(),
            Kind::QueueStack(_) | Kind::Perf(_) => &mut [],
            Kind::Lpm(l) => l.storage_mut(),
            Kind::Objects(o) => o.storage_mut(),
        }
    }

    /// The bytes of storage a program may access around `offset`: the whole value (`value_size`
    /// bytes) containing it, or for a ring buffer the reserved record (data only, header excluded)
    /// containing it. `None` when `offset` is in padding, in a prog array, or outside any record.
    ///
    /// Hash slots are reported whether or not their element is still present: like the kernel's
    /// preallocated elements, a pointer obtained before a delete still points to valid memory.
    pub fn value_region(&self, offset: usize) -> Option<Range<usize>> {
        match &self.kind {
            Kind::Array(a) => a.value_region(offset),
            Kind::ProgArray(_) => None,
            Kind::Hash(h) => h.value_region(offset),
            Kind::Ringbuf(r) => r.record_region(offset),
            Kind::QueueStack(_) | Kind::Perf(_) => None,
            Kind::Lpm(l) => l.value_region(offset),
            Kind::Objects(o) => o.value_region(offset),
        }
    }

    /// `bpf_map_lookup_elem` from a program: the storage offset of the value for `key` (on `cpu`
    /// for per-CPU maps), or `None` (NULL) when absent. An LRU lookup marks the element used.
    /// Prog arrays and ring buffers have no program-visible values: `None`.
    pub fn lookup(&mut self, key: &[u8], cpu: u32) -> Option<usize> {
        let cpu = (cpu as usize).min(self.ncpus - 1);
        match &mut self.kind {
            Kind::Array(a) => a.lookup(key, cpu),
            Kind::ProgArray(_) => None,
            Kind::Hash(h) => h.lookup(key, cpu, true),
            Kind::Ringbuf(_) | Kind::QueueStack(_) | Kind::Perf(_) => None,
            Kind::Lpm(l) => l.lookup(key),
            Kind::Objects(o) => o.lookup(key),
        }
    }

    /// `bpf_map_update_elem` from a program: `value` is `value_size` bytes; per-CPU maps update only
    /// `cpu`'s copy (a new per-CPU hash element gets zeroes on the other CPUs, as in the kernel).
    pub fn update(&mut self, key: &[u8], value: &[u8], flags: u64, cpu: u32) -> Result<(), MapError> {
        let cpu = (cpu as usize).min(self.ncpus - 1);
        self.check_key(key)?;
        if value.len() != self.value_size() {
            return Err(MapError::new(libc::EINVAL, "value has the wrong size"));
        }
        match &mut self.kind {
            Kind::Array(a) => a.update(key, value, flags, Some(cpu)),
            Kind::ProgArray(_) => {
                Err(MapError::new(libc::EOPNOTSUPP, "programs cannot update a prog array (bpf_tail_call only)"))
            }
            Kind::Hash(h) => h.update(key, value, flags, Some(cpu)),
            Kind::Ringbuf(_) => Err(ringbuf_no_keys()),
            Kind::Lpm(l) => l.update(key, value, flags),
            Kind::QueueStack(_) | Kind::Objects(_) | Kind::Perf(_) => Err(not_from_programs(self.def.map_type)),
        }
    }

    /// `bpf_map_delete_elem` (program or user space): arrays refuse with `-EINVAL`; a missing hash
    /// key is `-ENOENT`; a prog array entry is cleared (`-ENOENT` if already empty).
    pub fn delete(&mut self, key: &[u8]) -> Result<(), MapError> {
        self.check_key(key)?;
        match &mut self.kind {
            Kind::Array(_) => Err(MapError::new(libc::EINVAL, "array elements cannot be deleted")),
            Kind::ProgArray(p) => p.delete(key),
            Kind::Hash(h) => h.delete(key),
            Kind::Ringbuf(_) => Err(ringbuf_no_keys()),
            Kind::QueueStack(_) => Err(MapError::new(libc::EINVAL, "a queue or stack has no keys (pop instead)")),
            Kind::Lpm(l) => l.delete(key),
            Kind::Objects(o) => o.delete(key),
            Kind::Perf(_) => Err(MapError::new(libc::EOPNOTSUPP, "ebpf-lab's perf events cannot be removed")),
        }
    }

    /// `BPF_MAP_GET_NEXT_KEY`: the key after `key`, or the first key when `key` is `None` or (hash)
    /// absent, or (array) out of range. `-ENOENT` after the last key.
    ///
    /// Hash iteration order is insertion order (an update of an existing key keeps its place);
    /// the kernel walks buckets instead, so only the *set* of keys matches the kernel, not the order.
    pub fn get_next_key(&self, key: Option<&[u8]>) -> Result<Vec<u8>, MapError> {
        if let Some(k) = key {
            self.check_key(k)?;
        }
        match &self.kind {
            Kind::Array(a) => a.get_next_key(key),
            Kind::ProgArray(p) => p.get_next_key(key),
            Kind::Hash(h) => h.get_next_key(key),
            Kind::Ringbuf(_) => Err(ringbuf_no_keys()),
            Kind::QueueStack(_) => Err(MapError::new(libc::EINVAL, "a queue or stack has no keys")),
            Kind::Lpm(l) => l.get_next_key(key),
            Kind::Objects(o) => o.get_next_key(key),
            Kind::Perf(_) => array::next_index(key, self.def.max_entries),
        }
    }

    /// `BPF_MAP_LOOKUP_ELEM` from user space: the value bytes ([`Map::user_value_size`] long;
    /// per-CPU: every CPU's copy, each padded to 8 bytes). Does not count as an LRU use (the
    /// kernel's `htab_lru_map_lookup_elem_sys`). A prog array answers the stored program index.
    pub fn user_lookup(&self, key: &[u8]) -> Result<Vec<u8>, MapError> {
        self.check_key(key)?;
        match &self.kind {
            Kind::Array(a) => a.user_lookup(key),
            Kind::ProgArray(p) => p.lookup(key).map(|v| v.to_le_bytes().to_vec()),
            Kind::Hash(h) => h.user_lookup(key),
            Kind::Ringbuf(_) => Err(ringbuf_no_keys()),
            Kind::QueueStack(q) => q.peek(),
            Kind::Lpm(l) => l.user_lookup(key),
            Kind::Objects(o) => o.user_lookup(key),
            Kind::Perf(_) => Err(MapError::new(libc::EOPNOTSUPP, "a perf event array's events cannot be read back")),
        }
    }

    /// A `--map` fill: [`Map::user_update`], except that one CPU's value (`value_size` bytes) for a
    /// per-CPU map is written to every CPU.
    pub fn user_fill(&mut self, key: &[u8], value: &[u8]) -> Result<(), MapError> {
        let spread = if self.is_percpu() && value.len() != self.user_value_size() {
            spread_percpu(value, self.value_size(), self.ncpus)
        } else {
            None
        };
        self.user_update(key, spread.as_deref().unwrap_or(value), 0)
    }

    /// `BPF_MAP_UPDATE_ELEM` from user space (e.g. pre-filling from the CLI): `value` is
    /// [`Map::user_value_size`] bytes; per-CPU maps get every CPU's copy written. For a prog array
    /// the value is a little-endian `u32` program index and `flags` must be `BPF_ANY`.
    pub fn user_update(&mut self, key: &[u8], value: &[u8], flags: u64) -> Result<(), MapError> {
        self.check_key(key)?;
        if value.len() != self.user_value_size() {
            return Err(MapError::new(
                libc::EINVAL,
                format!("value must be {} bytes, got {}", self.user_value_size(), value.len()),
            ));
        }
        match &mut self.kind {
            Kind::Array(a) => a.update(key, value, flags, None),
            Kind::ProgArray(p) => p.update(key, value, flags),
            Kind::Hash(h) => h.update(key, value, flags, None),
            Kind::Ringbuf(_) => Err(ringbuf_no_keys()),
            Kind::QueueStack(q) => q.push(value, flags),
            Kind::Lpm(l) => l.update(key, value, flags),
            Kind::Objects(o) => o.update(key, value, flags),
            Kind::Perf(_) => {
                Err(MapError::new(libc::EOPNOTSUPP, "ebpf-lab opens the perf events itself (one per CPU)"))
            }
        }
    }

    /// Every entry as user space would dump it (key, [`Map::user_lookup`] value), in
    /// [`Map::get_next_key`] order. Arrays list every index; prog arrays only set entries;
    /// ring buffers have no entries (see [`RingBuf::records`]).
    ///
    /// A queue or stack lists its values in pop order, and a perf event array its records in
    /// output order, each keyed by its position as a `u32`.
    pub fn entries(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let numbered = |values: Vec<Vec<u8>>| {
            values.into_iter().enumerate().map(|(i, v)| ((i as u32).to_le_bytes().to_vec(), v)).collect()
        };
        match &self.kind {
            Kind::QueueStack(q) => return numbered(q.in_pop_order()),
            Kind::Perf(p) => return numbered(p.records().iter().map(|(_, r)| r.clone()).collect()),
            _ => {}
        }
        let mut out = Vec::new();
        let mut key: Option<Vec<u8>> = None;
        // Bounded by the number of possible keys, so a bug cannot loop forever.
        for _ in 0..=self.def.max_entries {
            let Ok(next) = self.get_next_key(key.as_deref()) else { break };
            if let Ok(v) = self.user_lookup(&next) {
                out.push((next.clone(), v));
            }
            key = Some(next);
        }
        out
    }

    /// The program index stored at `index` of a prog array (what `bpf_tail_call` jumps to), or
    /// `None` if the map is not a prog array, the index is out of range or the slot is empty.
    pub fn prog_at(&self, index: u32) -> Option<u32> {
        match &self.kind {
            Kind::ProgArray(p) => p.lookup(&index.to_le_bytes()).ok(),
            _ => None,
        }
    }

    /// The ring buffer, if this map is one.
    pub fn ringbuf(&self) -> Option<&RingBuf> {
        match &self.kind {
            Kind::Ringbuf(r) => Some(r),
            _ => None,
        }
    }

    /// The ring buffer, writable, if this map is one.
    pub fn ringbuf_mut(&mut self) -> Option<&mut RingBuf> {
        match &mut self.kind {
            Kind::Ringbuf(r) => Some(r),
            _ => None,
        }
    }

    /// Number of present elements (arrays: `max_entries`; ring buffers: submitted, unconsumed
    /// records).
    pub fn len(&self) -> usize {
        match &self.kind {
            Kind::Array(_) => self.def.max_entries as usize,
            Kind::ProgArray(p) => p.len(),
            Kind::Hash(h) => h.len(),
            Kind::Ringbuf(r) => r.records().len(),
            Kind::QueueStack(q) => q.len(),
            Kind::Lpm(l) => l.len(),
            Kind::Objects(o) => o.len(),
            Kind::Perf(p) => p.records().len(),
        }
    }

    /// Whether [`Map::len`] is 0.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `bpf_map_push_elem`: appends `value` to a queue or stack (see [`QueueStack::push`]).
    pub fn push(&mut self, value: &[u8], flags: u64) -> Result<(), MapError> {
        match &mut self.kind {
            Kind::QueueStack(q) => q.push(value, flags),
            _ => Err(MapError::new(libc::EINVAL, "only queues and stacks take pushes")),
        }
    }

    /// `bpf_map_pop_elem` (`take`) or `bpf_map_peek_elem`: the next value of a queue or stack.
    pub fn pop(&mut self, take: bool) -> Result<Vec<u8>, MapError> {
        match &mut self.kind {
            Kind::QueueStack(q) if take => q.pop(),
            Kind::QueueStack(q) => q.peek(),
            _ => Err(MapError::new(libc::EINVAL, "only queues and stacks have values to pop")),
        }
    }

    /// `bpf_perf_event_output`'s delivery of `record` (see [`PerfEventArray::output`]).
    pub fn perf_output(&mut self, flags: u64, cpu: u32, record: Vec<u8>) -> Result<(), MapError> {
        match &mut self.kind {
            Kind::Perf(p) => p.output(flags, cpu, record),
            _ => Err(MapError::new(libc::EINVAL, "not a perf event array")),
        }
    }

    /// The perf event records, with the CPU each went to, if this map is a perf event array.
    pub fn perf_records(&self) -> Option<&[(u32, Vec<u8>)]> {
        match &self.kind {
            Kind::Perf(p) => Some(p.records()),
            _ => None,
        }
    }

    fn check_key(&self, key: &[u8]) -> Result<(), MapError> {
        if key.len() != self.def.key_size as usize {
            return Err(MapError::new(
                libc::EINVAL,
                format!("key must be {} bytes, got {}", self.def.key_size, key.len()),
            ));
        }
        Ok(())
    }
}

fn not_from_programs(t: MapType) -> MapError {
    MapError::new(libc::EOPNOTSUPP, format!("programs cannot update a {} map with bpf_map_update_elem", t.name()))
}

fn ringbuf_no_keys() -> MapError {
    MapError::new(ENOTSUPP, "a ring buffer has no keys or values (use the ringbuf helpers)")
}
