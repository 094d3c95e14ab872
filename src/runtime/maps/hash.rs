//! `BPF_MAP_TYPE_HASH`, `BPF_MAP_TYPE_PERCPU_HASH` and `BPF_MAP_TYPE_LRU_HASH`
//! (kernel/bpf/hashtab.c), as a preallocated slab like the kernel's default (prealloc) hash.
//!
//! - Values live in a slab of `max_entries` fixed slots; a free list (LIFO, slot 0 first) hands
//!   them out. In `HASH`/`PERCPU_HASH` a value's address never moves while its element exists: an
//!   update of an existing key rewrites the value in place (the kernel swaps in a fresh preallocated element instead; a
//!   program cannot tell the difference except through a stale pointer).
//! - Iteration order (`get_next_key`) is insertion order: deterministic, unlike the kernel's
//!   bucket order. The set of keys is the same.
//! - LRU: every update first takes a fresh slot, evicting the least recently used element when
//!   none is free — as `htab_lru_map_update_elem` does, so even replacing an existing key (or an
//!   update then refused by its flags) in a full map evicts the oldest element, and a replaced
//!   value moves to the new slot. Use is an insertion, an update or a program lookup (not a
//!   user-space lookup, as `htab_lru_map_lookup_elem_sys`). The kernel's LRU is an approximation
//!   (per-CPU free lists, reference bits, batched shrinking that can evict several elements at
//!   once in larger maps); this one is exact. Checked against Linux 6.18 for small maps.

use super::{access_flags_ok, check_update_flags, round8, MapError, BPF_EXIST, BPF_NOEXIST};
use super::{
    BPF_F_ACCESS_MASK, BPF_F_NO_COMMON_LRU, BPF_F_NO_PREALLOC, BPF_F_NUMA_NODE, BPF_F_ZERO_SEED, ENOTSUPP,
    MAX_STORAGE_BYTES, PCPU_MIN_UNIT_SIZE,
};
use crate::program::MapDef;
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

/// The kernel's `HTAB_CREATE_FLAG_MASK`.
const HTAB_CREATE_FLAG_MASK: u32 =
    BPF_F_NO_PREALLOC | BPF_F_NO_COMMON_LRU | BPF_F_NUMA_NODE | BPF_F_ACCESS_MASK | BPF_F_ZERO_SEED;

/// A hash table of any of the three hash families.
#[derive(Clone, Debug)]
pub struct HashTable {
    max_entries: usize,
    value_size: usize,
    stride: usize,
    ncpus: usize,
    lru: bool,
    data: Vec<u8>,
    /// key → slot.
    index: HashMap<Vec<u8>, usize>,
    /// slot → its key, while the slot is in use.
    slot_key: Vec<Option<Vec<u8>>>,
    /// Free slots; the next one handed out is at the end.
    free: Vec<usize>,
    /// Insertion sequence number → slot: the iteration order.
    order: BTreeMap<u64, usize>,
    /// slot → its insertion sequence number.
    slot_seq: Vec<u64>,
    /// Last-use stamp → slot (LRU only): the first entry is the eviction victim.
    recency: BTreeMap<u64, usize>,
    /// slot → its last-use stamp (LRU only).
    slot_use: Vec<u64>,
    /// Monotonic counter for sequence numbers and use stamps.
    clock: u64,
}

/// The kernel's `htab_map_alloc_check`.
fn alloc_check(def: &MapDef, percpu: bool, lru: bool) -> Result<(), MapError> {
    let prealloc = def.flags & BPF_F_NO_PREALLOC == 0;
    let percpu_lru = def.flags & BPF_F_NO_COMMON_LRU != 0;
    if def.flags & !HTAB_CREATE_FLAG_MASK != 0 || !access_flags_ok(def.flags) {
        return Err(MapError::new(libc::EINVAL, format!("invalid map_flags {:#x} for a hash", def.flags)));
    }
    if !lru && percpu_lru {
        return Err(MapError::new(libc::EINVAL, "BPF_F_NO_COMMON_LRU is for LRU maps only"));
    }
    // `lru && percpu_lru` is legal: the kernel then keeps one LRU list per CPU; ebpf-lab keeps
    // a single list either way (programs run on one CPU at a time here).
    if lru && !prealloc {
        return Err(MapError::new(ENOTSUPP, "LRU maps are always preallocated (BPF_F_NO_PREALLOC)"));
    }
    if def.flags & BPF_F_NUMA_NODE != 0 && percpu {
        return Err(MapError::new(libc::EINVAL, "per-CPU hashes take no NUMA node"));
    }
    if def.max_entries == 0 || def.key_size == 0 || def.value_size == 0 {
        return Err(MapError::new(libc::EINVAL, "key_size, value_size and max_entries must not be 0"));
    }
    // No bound on key_size alone any more (a 513-byte key is accepted by Linux 6.18); only the
    // element must stay below KMALLOC_MAX_SIZE (4 MiB on x86-64) minus the element header.
    if def.key_size as u64 + def.value_size as u64 >= (1 << 22) - 64 {
        return Err(MapError::new(libc::E2BIG, "key_size + value_size too large"));
    }
    if percpu && round8(def.value_size as usize) > PCPU_MIN_UNIT_SIZE as usize {
        return Err(MapError::new(libc::E2BIG, "per-CPU values are limited to 32 KiB"));
    }
    Ok(())
}

impl HashTable {
    /// Creates the table; `ncpus` is 1 unless per-CPU; `lru` selects LRU eviction.
    pub fn new(def: &MapDef, ncpus: usize, lru: bool) -> Result<HashTable, MapError> {
        alloc_check(def, def.map_type == crate::program::MapType::PercpuHash, lru)?;
        let max_entries = def.max_entries as usize;
        let stride = round8(def.value_size as usize);
        let len = max_entries
            .checked_mul(ncpus)
            .and_then(|n| n.checked_mul(stride))
            .filter(|&n| n <= MAX_STORAGE_BYTES)
            .ok_or_else(|| MapError::new(libc::ENOMEM, "map storage above ebpf-lab's bound"))?;
        Ok(HashTable {
            max_entries,
            value_size: def.value_size as usize,
            stride,
            ncpus,
            lru,
            data: vec![0; len],
            index: HashMap::new(),
            slot_key: vec![None; max_entries],
            free: (0..max_entries).rev().collect(),
            order: BTreeMap::new(),
            slot_seq: vec![0; max_entries],
            recency: BTreeMap::new(),
            slot_use: vec![0; max_entries],
            clock: 0,
        })
    }

    /// Distance between consecutive values in the storage.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// The storage (see the module docs of [`super`] for the layout).
    pub fn storage(&self) -> &[u8] {
        &self.data
    }

    /// The storage, writable.
    pub fn storage_mut(&mut self) -> &mut [u8] {
        &mut self.data
    }

    /// Number of elements present.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// The value (`value_size` bytes) containing storage offset `offset`, if not in padding.
    pub fn value_region(&self, offset: usize) -> Option<Range<usize>> {
        if offset >= self.data.len() {
            return None;
        }
        let start = offset / self.stride * self.stride;
        (offset < start + self.value_size).then(|| start..start + self.value_size)
    }

    fn offset(&self, slot: usize, cpu: usize) -> usize {
        (slot * self.ncpus + cpu) * self.stride
    }

    fn touch(&mut self, slot: usize) {
        if self.lru {
            self.recency.remove(&self.slot_use[slot]);
            self.clock += 1;
            self.slot_use[slot] = self.clock;
            self.recency.insert(self.clock, slot);
        }
    }

    /// Program lookup: offset of the value for `key` on `cpu`; `mark_used` makes it the most
    /// recently used element of an LRU map.
    pub fn lookup(&mut self, key: &[u8], cpu: usize, mark_used: bool) -> Option<usize> {
        let slot = *self.index.get(key)?;
        if mark_used {
            self.touch(slot);
        }
        Some(self.offset(slot, cpu.min(self.ncpus - 1)))
    }

    /// Takes a slot for a new key: a free one, or (LRU) the least recently used element's.
    fn alloc_slot(&mut self) -> Result<usize, MapError> {
        if let Some(slot) = self.free.pop() {
            return Ok(slot);
        }
        if self.lru {
            if let Some((_, &victim)) = self.recency.iter().next() {
                let key = self.slot_key[victim].clone().expect("LRU victim slot is in use");
                self.remove_slot(&key, victim);
                return Ok(self.free.pop().expect("eviction freed a slot"));
            }
        }
        Err(MapError::new(libc::E2BIG, format!("hash map is full ({} entries)", self.max_entries)))
    }

    /// Puts `key` in `slot` with a zeroed value (the kernel's `pcpu_init_value` zeroes every CPU's
    /// copy of a new per-CPU element), at iteration position `seq` or at the end.
    fn install(&mut self, key: &[u8], slot: usize, seq: Option<u64>) {
        self.index.insert(key.to_vec(), slot);
        self.slot_key[slot] = Some(key.to_vec());
        let seq = seq.unwrap_or_else(|| {
            self.clock += 1;
            self.clock
        });
        self.slot_seq[slot] = seq;
        self.order.insert(seq, slot);
        let start = self.offset(slot, 0);
        self.data[start..start + self.ncpus * self.stride].fill(0);
    }

    fn remove_slot(&mut self, key: &[u8], slot: usize) {
        self.index.remove(key);
        self.slot_key[slot] = None;
        self.order.remove(&self.slot_seq[slot]);
        if self.lru {
            self.recency.remove(&self.slot_use[slot]);
        }
        self.free.push(slot);
    }

    /// `htab_map_update_elem` and friends. `cpu` = `Some(c)`: a program update of one copy (`value`
    /// is `value_size` bytes); `None`: user space (`value` holds every CPU's copy, each padded to
    /// 8 bytes, for per-CPU tables).
    pub fn update(&mut self, key: &[u8], value: &[u8], flags: u64, cpu: Option<usize>) -> Result<(), MapError> {
        check_update_flags(flags)?;
        // LRU (htab_lru_map_update_elem): a fresh element is taken *first*, evicting the least
        // recently used one when none is free — even when the key exists or the flags then fail.
        // The replaced element's slot is freed afterwards, so a replacement moves the value.
        let fresh = if self.lru { Some(self.alloc_slot()?) } else { None };
        let existing = self.index.get(key).copied();
        // The kernel's check_flags(): the element's presence against NOEXIST/EXIST.
        let refused = match existing {
            Some(_) if flags & BPF_NOEXIST != 0 => {
                Some(MapError::new(libc::EEXIST, "key already exists (BPF_NOEXIST)"))
            }
            None if flags & BPF_EXIST != 0 => Some(MapError::new(libc::ENOENT, "key does not exist (BPF_EXIST)")),
            _ => None,
        };
        if let Some(e) = refused {
            if let Some(slot) = fresh {
                self.free.push(slot);
            }
            return Err(e);
        }
        let slot = match (existing, fresh) {
            (Some(old), Some(new)) => {
                // Keep the key's place in the iteration order.
                let seq = self.slot_seq[old];
                self.remove_slot(key, old);
                self.install(key, new, Some(seq));
                new
            }
            (Some(old), None) => old,
            (None, Some(new)) => {
                self.install(key, new, None);
                new
            }
            (None, None) => {
                let slot = self.alloc_slot()?;
                self.install(key, slot, None);
                slot
            }
        };
        self.touch(slot);
        let entry = self.offset(slot, 0);
        super::store_value(&mut self.data, entry, value, (self.value_size, self.stride, self.ncpus), cpu);
        Ok(())
    }

    /// `htab_map_delete_elem`: `-ENOENT` when the key is absent.
    pub fn delete(&mut self, key: &[u8]) -> Result<(), MapError> {
        let slot = *self.index.get(key).ok_or_else(|| MapError::new(libc::ENOENT, "no such key"))?;
        self.remove_slot(key, slot);
        Ok(())
    }

    /// User-space lookup: the value, or for per-CPU tables every copy padded to 8 bytes.
    /// Not an LRU use.
    pub fn user_lookup(&self, key: &[u8]) -> Result<Vec<u8>, MapError> {
        let slot = *self.index.get(key).ok_or_else(|| MapError::new(libc::ENOENT, "no such key"))?;
        let start = self.offset(slot, 0);
        let len = if self.ncpus == 1 { self.value_size } else { self.ncpus * self.stride };
        Ok(self.data[start..start + len].to_vec())
    }

    /// `htab_map_get_next_key`: the first key when `key` is `None` or absent, else the one after it
    /// in insertion order; `-ENOENT` after the last (or when empty).
    pub fn get_next_key(&self, key: Option<&[u8]>) -> Result<Vec<u8>, MapError> {
        let after = key.and_then(|k| self.index.get(k)).map(|&slot| self.slot_seq[slot]);
        let next = match after {
            Some(seq) => self.order.range(seq + 1..).next(),
            None => self.order.iter().next(),
        };
        match next {
            Some((_, &slot)) => Ok(self.slot_key[slot].clone().expect("ordered slot is in use")),
            None => Err(MapError::new(libc::ENOENT, "no more keys")),
        }
    }
}
