//! Arrays whose entries name kernel objects rather than hold data: `ARRAY_OF_MAPS` (a map),
//! `DEVMAP` (a network device), `CPUMAP` (a CPU and its queue size), `XSKMAP` (an AF_XDP socket)
//! — kernel/bpf/arraymap.c, devmap.c, cpumap.c and net/xdp/xskmap.c.
//!
//! Like a prog array, every slot starts empty. Slot `i` takes 16 bytes of storage at `i * 16`:
//! the value as user space wrote it (`value_size` bytes, at most 8: a map index here where the
//! kernel takes a map fd, an `ifindex`, a `bpf_cpumap_val`), then a "present" byte. A devmap's
//! value is what a program's `bpf_map_lookup_elem` points to (read-only, as in the kernel).

use super::{access_flags_ok, MapError, BPF_ANY, BPF_EXIST, BPF_F_ACCESS_MASK, BPF_F_NUMA_NODE, BPF_NOEXIST};
use crate::program::{MapDef, MapType};
use std::ops::Range;

/// Bytes per slot in the storage.
const SLOT: usize = 16;
/// `NR_CPUS` of the usual distribution kernels: a cpumap has at most this many entries.
const NR_CPUS: u32 = 8192;
/// A cpumap entry's largest queue (the kernel refuses more with `-EOVERFLOW`).
const CPUMAP_MAX_QSIZE: u32 = 16384;

/// An array of object references.
#[derive(Clone, Debug)]
pub struct ObjectArray {
    map_type: MapType,
    max_entries: u32,
    value_size: usize,
    ncpus: usize,
    data: Vec<u8>,
}

impl ObjectArray {
    /// The kernel's creation checks for each type: `u32` keys, a value of the type's size, at
    /// least one entry, the type's flags; otherwise `-EINVAL` (`-E2BIG` for a cpumap beyond
    /// `NR_CPUS`). `ncpus` bounds a cpumap's keys.
    pub fn new(def: &MapDef, ncpus: usize) -> Result<ObjectArray, MapError> {
        let t = def.map_type;
        let sizes_ok = match t {
            MapType::Devmap | MapType::Cpumap => matches!(def.value_size, 4 | 8),
            _ => def.value_size == 4,
        };
        if def.key_size != 4 || !sizes_ok || def.max_entries == 0 {
            let want = if matches!(t, MapType::Devmap | MapType::Cpumap) { "4 or 8" } else { "4" };
            return Err(MapError::new(
                libc::EINVAL,
                format!("a {} has key_size 4, value_size {want} and max_entries above 0", t.name()),
            ));
        }
        let mask = match t {
            MapType::Cpumap => BPF_F_NUMA_NODE,
            MapType::ArrayOfMaps => BPF_F_NUMA_NODE | BPF_F_ACCESS_MASK | super::BPF_F_INNER_MAP,
            _ => BPF_F_NUMA_NODE | BPF_F_ACCESS_MASK,
        };
        if def.flags & !mask != 0 || !access_flags_ok(def.flags) {
            return Err(MapError::new(libc::EINVAL, format!("invalid map_flags {:#x} for a {}", def.flags, t.name())));
        }
        if t == MapType::Cpumap && def.max_entries > NR_CPUS {
            return Err(MapError::new(libc::E2BIG, format!("a cpumap has at most {NR_CPUS} entries")));
        }
        if t.is_map_in_map() && def.extra.inner.is_none() {
            return Err(MapError::new(
                libc::EBADF,
                "a map of maps needs its inner map's definition (in C: `__array(values, struct { ... })`)",
            ));
        }
        let len = (def.max_entries as usize)
            .checked_mul(SLOT)
            .filter(|&n| n <= super::MAX_STORAGE_BYTES)
            .ok_or_else(|| MapError::new(libc::ENOMEM, "map storage above ebpf-lab's bound"))?;
        Ok(ObjectArray {
            map_type: t,
            max_entries: def.max_entries,
            value_size: def.value_size as usize,
            ncpus,
            data: vec![0; len],
        })
    }

    /// The storage (see the module docs for its layout).
    pub fn storage(&self) -> &[u8] {
        &self.data
    }

    /// The storage, writable.
    pub fn storage_mut(&mut self) -> &mut [u8] {
        &mut self.data
    }

    /// The value containing storage offset `offset` (a devmap value a program looked up).
    pub fn value_region(&self, offset: usize) -> Option<Range<usize>> {
        if offset >= self.data.len() {
            return None;
        }
        let start = offset / SLOT * SLOT;
        (offset < start + self.value_size).then(|| start..start + self.value_size)
    }

    fn index(&self, key: &[u8]) -> Option<u32> {
        let i = u32::from_le_bytes(key.try_into().ok()?);
        (i < self.max_entries).then_some(i)
    }

    /// The storage offset of the value at `key` when the slot is set.
    pub fn lookup(&self, key: &[u8]) -> Option<usize> {
        let at = self.index(key)? as usize * SLOT;
        (self.data[at + 8] != 0).then_some(at)
    }

    /// The value at `key` as user space reads it: `-ENOENT` when empty or out of range; an
    /// AF_XDP socket cannot be read back (`-EOPNOTSUPP`, as `xsk_map_lookup_elem_sys`).
    pub fn user_lookup(&self, key: &[u8]) -> Result<Vec<u8>, MapError> {
        if self.map_type == MapType::Xskmap {
            return Err(MapError::new(libc::EOPNOTSUPP, "an xskmap's sockets cannot be read from user space"));
        }
        let at = self.lookup(key).ok_or_else(|| MapError::new(libc::ENOENT, "empty slot"))?;
        Ok(self.data[at..at + self.value_size].to_vec())
    }

    /// A user-space update, with each type's checks of flags, index and value.
    pub fn update(&mut self, key: &[u8], value: &[u8], flags: u64) -> Result<(), MapError> {
        let t = self.map_type;
        if t == MapType::ArrayOfMaps && flags != BPF_ANY {
            return Err(MapError::new(libc::EINVAL, "a map of maps takes BPF_ANY updates only"));
        }
        if flags > BPF_EXIST {
            return Err(MapError::new(libc::EINVAL, format!("invalid update flags {flags:#x}")));
        }
        let Some(i) = self.index(key) else {
            return Err(MapError::new(libc::E2BIG, format!("index out of range (max_entries {})", self.max_entries)));
        };
        if flags == BPF_NOEXIST {
            return Err(MapError::new(libc::EEXIST, format!("{} slots always exist (BPF_NOEXIST)", t.name())));
        }
        let word = u32::from_le_bytes(value[..4].try_into().expect("value_size >= 4"));
        match t {
            MapType::Devmap if word != 0 && !interface_exists(word) => {
                return Err(MapError::new(libc::EINVAL, format!("no network interface has ifindex {word}")))
            }
            MapType::Cpumap if i as usize >= self.ncpus => {
                return Err(MapError::new(libc::ENODEV, format!("CPU {i} does not exist")))
            }
            MapType::Cpumap if word > CPUMAP_MAX_QSIZE => {
                return Err(MapError::new(libc::EOVERFLOW, format!("queue size {word} above {CPUMAP_MAX_QSIZE}")))
            }
            MapType::Xskmap => {
                return Err(MapError::new(libc::EOPNOTSUPP, "ebpf-lab has no AF_XDP sockets to put in an xskmap"))
            }
            _ => {}
        }
        if self.value_size == 8 && value[4..8] != [0xff; 4] && value[4..8] != [0; 4] {
            return Err(MapError::new(libc::EOPNOTSUPP, "programs attached to devmap/cpumap entries are not modelled"));
        }
        let at = i as usize * SLOT;
        self.data[at..at + SLOT].fill(0);
        // A devmap entry of ifindex 0, or a cpumap entry of queue size 0, is a deletion.
        if matches!(t, MapType::Devmap | MapType::Cpumap) && word == 0 {
            return Ok(());
        }
        self.data[at..at + self.value_size].copy_from_slice(&value[..self.value_size]);
        if self.value_size == 8 {
            // The program id slot reads back 0: no program is attached.
            self.data[at + 4..at + 8].fill(0);
        }
        self.data[at + 8] = 1;
        Ok(())
    }

    /// `map_delete_elem`: clears the slot; out of range is `-E2BIG` (map of maps) or `-EINVAL`;
    /// an empty slot is `-ENOENT` for a map of maps and fine for the others.
    pub fn delete(&mut self, key: &[u8]) -> Result<(), MapError> {
        let Some(i) = self.index(key) else {
            let errno = if self.map_type == MapType::ArrayOfMaps { libc::E2BIG } else { libc::EINVAL };
            return Err(MapError::new(errno, "index out of range"));
        };
        let at = i as usize * SLOT;
        if self.data[at + 8] == 0 && self.map_type == MapType::ArrayOfMaps {
            return Err(MapError::new(libc::ENOENT, "empty slot"));
        }
        self.data[at..at + SLOT].fill(0);
        Ok(())
    }

    /// Like an array: every index in turn, set or not.
    pub fn get_next_key(&self, key: Option<&[u8]>) -> Result<Vec<u8>, MapError> {
        let i = key.and_then(|k| Some(u32::from_le_bytes(k.try_into().ok()?))).unwrap_or(u32::MAX);
        if i >= self.max_entries {
            return Ok(0u32.to_le_bytes().to_vec());
        }
        if i == self.max_entries - 1 {
            return Err(MapError::new(libc::ENOENT, "no key after the last index"));
        }
        Ok((i + 1).to_le_bytes().to_vec())
    }

    /// Number of set slots.
    pub fn len(&self) -> usize {
        self.data.chunks(SLOT).filter(|c| c[8] != 0).count()
    }
}

/// Whether a network interface has index `ifindex` (`dev_get_by_index`).
fn interface_exists(ifindex: u32) -> bool {
    let mut name = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: `name` has the IF_NAMESIZE bytes if_indextoname may write.
    ifindex != 0 && !unsafe { libc::if_indextoname(ifindex, name.as_mut_ptr()) }.is_null()
}
