//! `BPF_MAP_TYPE_QUEUE` and `BPF_MAP_TYPE_STACK` (kernel/bpf/queue_stack_maps.c): values without
//! keys, pushed with `bpf_map_push_elem` and taken back with `bpf_map_pop_elem` (or looked at with
//! `bpf_map_peek_elem`), oldest first for a queue, newest first for a stack.
//!
//! Programs never hold pointers into these maps (the helpers copy values in and out), so there
//! is no addressable storage: the values live in a deque, oldest at the front.

use super::{access_flags_ok, MapError, BPF_EXIST, BPF_F_ACCESS_MASK, BPF_F_NUMA_NODE};
use crate::program::MapDef;
use std::collections::VecDeque;

/// The kernel's `QUEUE_STACK_CREATE_FLAG_MASK`.
const CREATE_FLAG_MASK: u32 = BPF_F_NUMA_NODE | BPF_F_ACCESS_MASK;

/// A queue (`lifo` false) or a stack (`lifo` true).
#[derive(Clone, Debug)]
pub struct QueueStack {
    lifo: bool,
    max_entries: usize,
    /// Oldest first.
    items: VecDeque<Vec<u8>>,
}

impl QueueStack {
    /// `queue_stack_map_alloc_check`: no key, a value, at least one entry, only the NUMA and
    /// access flags; otherwise `-EINVAL`.
    pub fn new(def: &MapDef, lifo: bool) -> Result<QueueStack, MapError> {
        if def.max_entries == 0 || def.key_size != 0 || def.value_size == 0 {
            return Err(MapError::new(
                libc::EINVAL,
                "a queue or stack has key_size 0, a value_size and max_entries above 0",
            ));
        }
        if def.flags & !CREATE_FLAG_MASK != 0 || !access_flags_ok(def.flags) {
            return Err(MapError::new(
                libc::EINVAL,
                format!("invalid map_flags {:#x} for a queue or stack", def.flags),
            ));
        }
        // The kernel allocates (max_entries + 1) * value_size bytes at once.
        if (def.max_entries as u64 + 1) * def.value_size as u64 > super::MAX_STORAGE_BYTES as u64 {
            return Err(MapError::new(libc::ENOMEM, "queue above ebpf-lab's storage bound"));
        }
        Ok(QueueStack { lifo, max_entries: def.max_entries as usize, items: VecDeque::new() })
    }

    /// `bpf_map_push_elem` (and a user-space update): `-E2BIG` when full, unless `flags` is
    /// `BPF_EXIST`, which first drops the oldest value; flags above `BPF_EXIST` are `-EINVAL`.
    pub fn push(&mut self, value: &[u8], flags: u64) -> Result<(), MapError> {
        if flags > BPF_EXIST {
            return Err(MapError::new(libc::EINVAL, format!("invalid push flags {flags:#x}")));
        }
        if self.items.len() == self.max_entries {
            if flags != BPF_EXIST {
                return Err(MapError::new(libc::E2BIG, "the map is full (push with BPF_EXIST to drop the oldest)"));
            }
            self.items.pop_front();
        }
        self.items.push_back(value.to_vec());
        Ok(())
    }

    /// `bpf_map_peek_elem`: the value a pop would take, or `-ENOENT` when empty.
    pub fn peek(&self) -> Result<Vec<u8>, MapError> {
        let next = if self.lifo { self.items.back() } else { self.items.front() };
        next.cloned().ok_or_else(empty)
    }

    /// `bpf_map_pop_elem`: takes the oldest (queue) or newest (stack) value; `-ENOENT` when empty.
    pub fn pop(&mut self) -> Result<Vec<u8>, MapError> {
        let next = if self.lifo { self.items.pop_back() } else { self.items.pop_front() };
        next.ok_or_else(empty)
    }

    /// The values in the order pops would take them.
    pub fn in_pop_order(&self) -> Vec<Vec<u8>> {
        if self.lifo {
            self.items.iter().rev().cloned().collect()
        } else {
            self.items.iter().cloned().collect()
        }
    }

    /// Number of values held.
    pub fn len(&self) -> usize {
        self.items.len()
    }
}

fn empty() -> MapError {
    MapError::new(libc::ENOENT, "the map is empty")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::MapType;

    fn map(lifo: bool, max_entries: u32) -> QueueStack {
        let t = if lifo { MapType::Stack } else { MapType::Queue };
        let def = MapDef {
            name: "q".into(),
            map_type: t,
            key_size: 0,
            value_size: 1,
            max_entries,
            flags: 0,
            extra: Default::default(),
        };
        QueueStack::new(&def, lifo).unwrap()
    }

    #[test]
    fn a_queue_is_first_in_first_out_and_a_stack_last_in_first_out() {
        for (lifo, want) in [(false, [1u8, 2, 3]), (true, [3, 2, 1])] {
            let mut m = map(lifo, 3);
            for v in 1..=3u8 {
                m.push(&[v], 0).unwrap();
            }
            assert_eq!(m.in_pop_order(), want.map(|v| vec![v]));
            assert_eq!(m.peek().unwrap(), [want[0]]);
            let popped: Vec<u8> = (0..3).map(|_| m.pop().unwrap()[0]).collect();
            assert_eq!(popped, want);
            assert_eq!(m.pop().unwrap_err().errno(), libc::ENOENT);
        }
    }

    #[test]
    fn a_full_map_refuses_or_drops_its_oldest_value() {
        for lifo in [false, true] {
            let mut m = map(lifo, 2);
            m.push(&[1], 0).unwrap();
            m.push(&[2], 0).unwrap();
            assert_eq!(m.push(&[3], 0).unwrap_err().errno(), libc::E2BIG);
            assert_eq!(m.push(&[3], BPF_EXIST + 1).unwrap_err().errno(), libc::EINVAL);
            m.push(&[3], BPF_EXIST).unwrap();
            // The oldest (1) went, whichever end pops.
            let mut left: Vec<u8> = m.in_pop_order().concat();
            left.sort();
            assert_eq!(left, [2, 3]);
        }
    }
}
