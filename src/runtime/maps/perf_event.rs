//! `BPF_MAP_TYPE_PERF_EVENT_ARRAY` (kernel/bpf/arraymap.c, kernel/trace/bpf_trace.c): one perf
//! event per CPU, to which `bpf_perf_event_output` appends records that user space reads from the
//! event's ring.
//!
//! ebpf-lab runs as if a reader had opened a `PERF_COUNT_SW_BPF_OUTPUT` event on every CPU and
//! put it at that CPU's index, as a perf buffer reader does; the records are kept in order, with
//! the CPU they went to. Slots past the last CPU hold no event.

use super::{access_flags_ok, MapError, BPF_F_ACCESS_MASK, BPF_F_NUMA_NODE};
use crate::program::MapDef;

/// `BPF_F_PRESERVE_ELEMS`: keep the events when the map's last user-space fd closes.
pub const BPF_F_PRESERVE_ELEMS: u32 = 1 << 11;
/// `BPF_F_INDEX_MASK`: the low 32 bits of `bpf_perf_event_output`'s flags pick the slot.
pub const BPF_F_INDEX_MASK: u64 = 0xffff_ffff;
/// `BPF_F_CURRENT_CPU`: the slot of the CPU the program runs on.
pub const BPF_F_CURRENT_CPU: u64 = BPF_F_INDEX_MASK;
/// `BPF_F_CTXLEN_MASK`: the high 32 bits ask for that many packet bytes after the data (skb and
/// XDP programs).
pub const BPF_F_CTXLEN_MASK: u64 = 0xfffff << 32;

/// The records `bpf_perf_event_output` wrote.
#[derive(Clone, Debug)]
pub struct PerfEventArray {
    max_entries: u32,
    ncpus: usize,
    records: Vec<(u32, Vec<u8>)>,
}

impl PerfEventArray {
    /// `array_map_alloc_check` for perf event arrays: `u32` keys and values (event fds).
    pub fn new(def: &MapDef, ncpus: usize) -> Result<PerfEventArray, MapError> {
        if def.key_size != 4 || def.value_size != 4 || def.max_entries == 0 {
            return Err(MapError::new(
                libc::EINVAL,
                "a perf event array has key_size 4, value_size 4 and max_entries above 0 (libbpf uses the CPU count for 0)",
            ));
        }
        let mask = BPF_F_NUMA_NODE | BPF_F_ACCESS_MASK | BPF_F_PRESERVE_ELEMS;
        if def.flags & !mask != 0 || !access_flags_ok(def.flags) {
            return Err(MapError::new(
                libc::EINVAL,
                format!("invalid map_flags {:#x} for a perf event array", def.flags),
            ));
        }
        Ok(PerfEventArray { max_entries: def.max_entries, ncpus, records: Vec::new() })
    }

    /// `bpf_perf_event_output`'s choice of event (`__bpf_perf_event_output`): the slot `flags`
    /// names must exist (`-E2BIG`), hold an event (`-ENOENT`) and be the running CPU's
    /// (`-EOPNOTSUPP`). Appends the record on success.
    pub fn output(&mut self, flags: u64, cpu: u32, record: Vec<u8>) -> Result<(), MapError> {
        let index = match flags & BPF_F_INDEX_MASK {
            BPF_F_CURRENT_CPU => cpu as u64,
            i => i,
        };
        if index >= self.max_entries as u64 {
            return Err(MapError::new(libc::E2BIG, format!("index {index} >= max_entries {}", self.max_entries)));
        }
        if index as usize >= self.ncpus {
            return Err(MapError::new(libc::ENOENT, format!("no perf event at index {index}")));
        }
        if index != cpu as u64 {
            return Err(MapError::new(libc::EOPNOTSUPP, format!("the event at index {index} is on another CPU")));
        }
        self.records.push((index as u32, record));
        Ok(())
    }

    /// Every record, in order, with the slot (CPU) it went to.
    pub fn records(&self) -> &[(u32, Vec<u8>)] {
        &self.records
    }
}
