//! `BPF_MAP_TYPE_ARRAY`, `BPF_MAP_TYPE_PERCPU_ARRAY` (kernel/bpf/arraymap.c) and
//! `BPF_MAP_TYPE_PROG_ARRAY` (the fd-array part of the same file).
//!
//! Keys are `u32` indices (little-endian, as on the machines eBPF runs on). Every element exists
//! from creation, zero-filled, and cannot be deleted.

use super::{access_flags_ok, check_update_flags, round8, MapError, BPF_ANY, BPF_NOEXIST};
use super::{
    BPF_F_ACCESS_MASK, BPF_F_INNER_MAP, BPF_F_MMAPABLE, BPF_F_NUMA_NODE, MAX_STORAGE_BYTES, PCPU_MIN_UNIT_SIZE,
};
use crate::program::{MapDef, MapType};
use std::ops::Range;

/// The kernel's `ARRAY_CREATE_FLAG_MASK`, less `BPF_F_PRESERVE_ELEMS` (perf event arrays only).
const ARRAY_CREATE_FLAG_MASK: u32 = BPF_F_NUMA_NODE | BPF_F_MMAPABLE | BPF_F_ACCESS_MASK | BPF_F_INNER_MAP;

fn index_of(key: &[u8]) -> Option<u32> {
    Some(u32::from_le_bytes(key.try_into().ok()?))
}

/// The kernel's `array_map_alloc_check` plus our storage bound.
fn alloc_check(def: &MapDef, percpu: bool) -> Result<(), MapError> {
    if def.max_entries == 0 {
        return Err(MapError::new(libc::EINVAL, "max_entries must not be 0"));
    }
    if def.key_size != 4 {
        return Err(MapError::new(
            libc::EINVAL,
            format!("array keys are u32: key_size must be 4, not {}", def.key_size),
        ));
    }
    if def.value_size == 0 {
        return Err(MapError::new(libc::EINVAL, "value_size must not be 0"));
    }
    if def.flags & !ARRAY_CREATE_FLAG_MASK != 0 || !access_flags_ok(def.flags) {
        return Err(MapError::new(libc::EINVAL, format!("invalid map_flags {:#x} for an array", def.flags)));
    }
    if percpu && def.flags & BPF_F_NUMA_NODE != 0 {
        return Err(MapError::new(libc::EINVAL, "per-CPU arrays take no NUMA node"));
    }
    if def.map_type != MapType::Array && def.flags & (BPF_F_MMAPABLE | BPF_F_INNER_MAP) != 0 {
        return Err(MapError::new(libc::EINVAL, "only plain arrays can be mmapable or inner maps"));
    }
    if def.value_size > i32::MAX as u32 {
        return Err(MapError::new(libc::E2BIG, "value_size too large"));
    }
    if percpu && round8(def.value_size as usize) > PCPU_MIN_UNIT_SIZE as usize {
        return Err(MapError::new(libc::E2BIG, "per-CPU values are limited to 32 KiB"));
    }
    Ok(())
}

fn storage_len(entries: usize, copies: usize, stride: usize) -> Result<usize, MapError> {
    entries
        .checked_mul(copies)
        .and_then(|n| n.checked_mul(stride))
        .filter(|&n| n <= MAX_STORAGE_BYTES)
        .ok_or_else(|| MapError::new(libc::ENOMEM, format!("map storage above ebpf-lab's {MAX_STORAGE_BYTES} bytes")))
}

/// `ARRAY` (one copy per element) or `PERCPU_ARRAY` (`ncpus` copies per element).
#[derive(Clone, Debug)]
pub struct ArrayMap {
    max_entries: u32,
    value_size: usize,
    stride: usize,
    ncpus: usize,
    data: Vec<u8>,
}

impl ArrayMap {
    /// Creates the array; `ncpus` is 1 for a plain array.
    pub fn new(def: &MapDef, ncpus: usize) -> Result<ArrayMap, MapError> {
        alloc_check(def, def.map_type == MapType::PercpuArray)?;
        let stride = round8(def.value_size as usize);
        let len = storage_len(def.max_entries as usize, ncpus, stride)?;
        Ok(ArrayMap {
            max_entries: def.max_entries,
            value_size: def.value_size as usize,
            stride,
            ncpus,
            data: vec![0; len],
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

    fn offset(&self, index: u32, cpu: usize) -> usize {
        (index as usize * self.ncpus + cpu) * self.stride
    }

    /// The value (`value_size` bytes) containing storage offset `offset`, if not in padding.
    pub fn value_region(&self, offset: usize) -> Option<Range<usize>> {
        if offset >= self.data.len() {
            return None;
        }
        let start = offset / self.stride * self.stride;
        (offset < start + self.value_size).then(|| start..start + self.value_size)
    }

    /// Offset of the value at `key` on `cpu`; `None` when the index is out of range.
    pub fn lookup(&self, key: &[u8], cpu: usize) -> Option<usize> {
        let index = index_of(key)?;
        (index < self.max_entries).then(|| self.offset(index, cpu.min(self.ncpus - 1)))
    }

    /// `array_map_update_elem` / `bpf_percpu_array_update`. `cpu` = `Some(c)`: a program update
    /// of one copy, `value` is `value_size` bytes; `None`: user space, `value` holds every copy,
    /// each padded to 8 bytes (for a plain array that is just the value).
    pub fn update(&mut self, key: &[u8], value: &[u8], flags: u64, cpu: Option<usize>) -> Result<(), MapError> {
        check_update_flags(flags)?;
        let index = index_of(key).ok_or_else(|| MapError::new(libc::EINVAL, "array keys are 4 bytes"))?;
        if index >= self.max_entries {
            return Err(MapError::new(libc::E2BIG, format!("index {index} >= max_entries {}", self.max_entries)));
        }
        if flags & BPF_NOEXIST != 0 {
            return Err(MapError::new(libc::EEXIST, "array elements always exist (BPF_NOEXIST)"));
        }
        let entry = self.offset(index, 0);
        super::store_value(&mut self.data, entry, value, (self.value_size, self.stride, self.ncpus), cpu);
        Ok(())
    }

    /// User-space lookup: the value, or for per-CPU arrays every copy padded to 8 bytes.
    pub fn user_lookup(&self, key: &[u8]) -> Result<Vec<u8>, MapError> {
        let index = index_of(key).filter(|&i| i < self.max_entries).ok_or_else(|| {
            MapError::new(libc::ENOENT, format!("index out of range (max_entries {})", self.max_entries))
        })?;
        if self.ncpus == 1 {
            let off = self.offset(index, 0);
            return Ok(self.data[off..off + self.value_size].to_vec());
        }
        let start = self.offset(index, 0);
        Ok(self.data[start..start + self.ncpus * self.stride].to_vec())
    }

    /// `array_map_get_next_key`: missing or out-of-range key → index 0; last index → `-ENOENT`.
    pub fn get_next_key(&self, key: Option<&[u8]>) -> Result<Vec<u8>, MapError> {
        next_index(key, self.max_entries)
    }
}

pub(super) fn next_index(key: Option<&[u8]>, max_entries: u32) -> Result<Vec<u8>, MapError> {
    let index = key.and_then(index_of).unwrap_or(u32::MAX);
    if index >= max_entries {
        return Ok(0u32.to_le_bytes().to_vec());
    }
    if index == max_entries - 1 {
        return Err(MapError::new(libc::ENOENT, "no key after the last index"));
    }
    Ok((index + 1).to_le_bytes().to_vec())
}

/// `PROG_ARRAY`: `u32` index → program index (ebpf-lab's stand-in for a program fd; the engine
/// maps it to one of its loaded programs). Slots start empty.
#[derive(Clone, Debug)]
pub struct ProgArrayMap {
    max_entries: u32,
    /// Entry `i` at `i * 8`: little-endian `u32` program index, then a `u32` "present" flag.
    data: Vec<u8>,
}

impl ProgArrayMap {
    /// Creates the prog array (`fd_array_map_alloc_check`: `value_size` must be 4).
    pub fn new(def: &MapDef) -> Result<ProgArrayMap, MapError> {
        if def.value_size != 4 {
            return Err(MapError::new(libc::EINVAL, "prog array values are u32 program indices: value_size must be 4"));
        }
        if def.flags & BPF_F_MMAPABLE != 0 {
            return Err(MapError::new(libc::EINVAL, "a prog array cannot be mmapable"));
        }
        alloc_check(def, false)?;
        let len = storage_len(def.max_entries as usize, 1, 8)?;
        Ok(ProgArrayMap { max_entries: def.max_entries, data: vec![0; len] })
    }

    /// The storage (programs never address it).
    pub fn storage(&self) -> &[u8] {
        &self.data
    }

    /// The storage, writable.
    pub fn storage_mut(&mut self) -> &mut [u8] {
        &mut self.data
    }

    fn slot(&self, key: &[u8]) -> Result<usize, MapError> {
        match index_of(key) {
            Some(i) if i < self.max_entries => Ok(i as usize * 8),
            _ => Err(MapError::new(libc::E2BIG, format!("index out of range (max_entries {})", self.max_entries))),
        }
    }

    /// The program index at `key`; `-ENOENT` if the slot is empty or out of range.
    pub fn lookup(&self, key: &[u8]) -> Result<u32, MapError> {
        let off = self.slot(key).map_err(|e| MapError::new(libc::ENOENT, e.reason))?;
        if self.data[off + 4] == 0 {
            return Err(MapError::new(libc::ENOENT, "empty prog array slot"));
        }
        Ok(u32::from_le_bytes(self.data[off..off + 4].try_into().expect("4 bytes")))
    }

    /// `bpf_fd_array_map_update_elem`: flags must be `BPF_ANY` (`-EINVAL`), index in range (`-E2BIG`).
    pub fn update(&mut self, key: &[u8], value: &[u8], flags: u64) -> Result<(), MapError> {
        if flags != BPF_ANY {
            return Err(MapError::new(libc::EINVAL, "prog array updates take BPF_ANY only"));
        }
        let off = self.slot(key)?;
        self.data[off..off + 4].copy_from_slice(&value[..4]);
        self.data[off + 4] = 1;
        Ok(())
    }

    /// `fd_array_map_delete_elem`: `-E2BIG` out of range, `-ENOENT` if already empty.
    pub fn delete(&mut self, key: &[u8]) -> Result<(), MapError> {
        let off = self.slot(key)?;
        if self.data[off + 4] == 0 {
            return Err(MapError::new(libc::ENOENT, "prog array slot already empty"));
        }
        self.data[off..off + 8].fill(0);
        Ok(())
    }

    /// Same as arrays: every index, whether set or not.
    pub fn get_next_key(&self, key: Option<&[u8]>) -> Result<Vec<u8>, MapError> {
        next_index(key, self.max_entries)
    }

    /// Number of set slots.
    pub fn len(&self) -> usize {
        self.data.chunks(8).filter(|c| c[4] != 0).count()
    }
}
