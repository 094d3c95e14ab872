//! `BPF_MAP_TYPE_RINGBUF` (kernel/bpf/ringbuf.c): a multi-producer single-consumer byte ring.
//!
//! Positions (`producer_pos`, `consumer_pos`) grow forever; a position maps to the ring at
//! `pos & mask` (`mask` = size − 1). Each record is an 8-byte header — `u32 len` with
//! [`BPF_RINGBUF_BUSY_BIT`] while reserved and [`BPF_RINGBUF_DISCARD_BIT`] once discarded, then
//! `u32 pg_off` — followed by the data, the whole padded to a multiple of 8.
//!
//! The kernel maps the data pages twice in a row so that a record wrapping past the end of the
//! ring is contiguous in memory. Here the storage is likewise `2 * size` bytes and a record is
//! always written contiguously from its header; since space is only reused after the consumer
//! has read it, the two halves never need to agree.
//!
//! `pg_off` is the header's page number within the data area (the kernel counts from its own
//! internal structure; user-space consumers ignore the field).

use super::{MapError, BPF_F_NUMA_NODE, MAX_STORAGE_BYTES};
use crate::program::MapDef;
use std::collections::BTreeMap;
use std::ops::Range;

/// Set in a header's `len` while the record is reserved but not yet submitted or discarded.
pub const BPF_RINGBUF_BUSY_BIT: u32 = 1 << 31;
/// Set in a header's `len` when the record was discarded (the consumer skips it).
pub const BPF_RINGBUF_DISCARD_BIT: u32 = 1 << 30;
/// Size of a record header.
pub const BPF_RINGBUF_HDR_SZ: usize = 8;
/// `BPF_RB_NO_WAKEUP`: submit/output flag, don't notify the consumer.
pub const BPF_RB_NO_WAKEUP: u64 = 1;
/// `BPF_RB_FORCE_WAKEUP`: submit/output flag, notify the consumer unconditionally.
pub const BPF_RB_FORCE_WAKEUP: u64 = 2;
/// `bpf_ringbuf_query` flag: bytes not yet consumed.
pub const BPF_RB_AVAIL_DATA: u64 = 0;
/// `bpf_ringbuf_query` flag: the ring's size.
pub const BPF_RB_RING_SIZE: u64 = 1;
/// `bpf_ringbuf_query` flag: the consumer position.
pub const BPF_RB_CONS_POS: u64 = 2;
/// `bpf_ringbuf_query` flag: the producer position.
pub const BPF_RB_PROD_POS: u64 = 3;
/// The kernel's `RINGBUF_MAX_RECORD_SZ` (`UINT_MAX / 4`): larger reservations fail.
pub const RINGBUF_MAX_RECORD_SZ: u64 = (u32::MAX / 4) as u64;

/// Page size the kernel requires `max_entries` to be a multiple of.
const PAGE_SIZE: u32 = 4096;

/// A ring buffer.
#[derive(Clone, Debug)]
pub struct RingBuf {
    mask: u64,
    consumer_pos: u64,
    producer_pos: u64,
    data: Vec<u8>,
    /// Reserved, not yet submitted records: data offset → (position of the header, data size).
    pending: BTreeMap<usize, (u64, usize)>,
}

impl RingBuf {
    /// Creates the ring (`ringbuf_map_alloc`): `key_size` and `value_size` 0, `max_entries` a power
    /// of two and a multiple of the page size, only `BPF_F_NUMA_NODE` as flag; otherwise `-EINVAL`.
    pub fn new(def: &MapDef) -> Result<RingBuf, MapError> {
        if def.flags & !BPF_F_NUMA_NODE != 0 {
            return Err(MapError::new(libc::EINVAL, format!("invalid map_flags {:#x} for a ring buffer", def.flags)));
        }
        if def.key_size != 0 || def.value_size != 0 {
            return Err(MapError::new(libc::EINVAL, "a ring buffer has key_size 0 and value_size 0"));
        }
        if !def.max_entries.is_power_of_two() || !def.max_entries.is_multiple_of(PAGE_SIZE) {
            return Err(MapError::new(
                libc::EINVAL,
                format!("ring buffer size {} must be a power of two and a multiple of 4096", def.max_entries),
            ));
        }
        let size = def.max_entries as usize;
        if size * 2 > MAX_STORAGE_BYTES {
            return Err(MapError::new(libc::ENOMEM, "ring buffer above ebpf-lab's storage bound"));
        }
        Ok(RingBuf {
            mask: size as u64 - 1,
            consumer_pos: 0,
            producer_pos: 0,
            data: vec![0; size * 2],
            pending: BTreeMap::new(),
        })
    }

    /// The ring's size in bytes (`max_entries`).
    pub fn size(&self) -> usize {
        self.mask as usize + 1
    }

    /// The storage: `2 * size` bytes (see the module docs).
    pub fn storage(&self) -> &[u8] {
        &self.data
    }

    /// The storage, writable.
    pub fn storage_mut(&mut self) -> &mut [u8] {
        &mut self.data
    }

    /// The consumer position.
    pub fn consumer_pos(&self) -> u64 {
        self.consumer_pos
    }

    /// The producer position.
    pub fn producer_pos(&self) -> u64 {
        self.producer_pos
    }

    fn header(&self, pos: u64) -> (u32, usize) {
        let off = (pos & self.mask) as usize;
        let len = u32::from_le_bytes(self.data[off..off + 4].try_into().expect("4 bytes"));
        (len, off)
    }

    fn set_len(&mut self, hdr_off: usize, len: u32) {
        self.data[hdr_off..hdr_off + 4].copy_from_slice(&len.to_le_bytes());
    }

    /// The storage range of a reserved (not yet submitted) record's data containing `offset`.
    pub fn record_region(&self, offset: usize) -> Option<Range<usize>> {
        let (&start, &(_, size)) = self.pending.range(..=offset).next_back()?;
        (offset < start + size).then(|| start..start + size)
    }

    /// `bpf_ringbuf_reserve(size, flags)`: the storage offset of `size` writable bytes, or `None`
    /// (NULL) when `flags` is not 0, the record is too big, or the ring lacks space. The ring never
    /// fills completely: a record must end less than `size` bytes past the oldest unconsumed byte
    /// and the oldest record still reserved, as in the kernel.
    pub fn reserve(&mut self, size: u64, flags: u64) -> Option<usize> {
        if flags != 0 || size > RINGBUF_MAX_RECORD_SZ {
            return None;
        }
        let len = (size + BPF_RINGBUF_HDR_SZ as u64).div_ceil(8) * 8;
        if len > self.mask + 1 {
            return None;
        }
        let pend_pos = self.pending.values().map(|&(pos, _)| pos).min().unwrap_or(self.producer_pos);
        let new_prod = self.producer_pos + len;
        if new_prod - self.consumer_pos > self.mask || new_prod - pend_pos > self.mask {
            return None;
        }
        let hdr_off = (self.producer_pos & self.mask) as usize;
        self.set_len(hdr_off, size as u32 | BPF_RINGBUF_BUSY_BIT);
        let pg_off = (hdr_off / PAGE_SIZE as usize) as u32;
        self.data[hdr_off + 4..hdr_off + 8].copy_from_slice(&pg_off.to_le_bytes());
        let data_off = hdr_off + BPF_RINGBUF_HDR_SZ;
        // The kernel does not clear reserved memory either, but the verifier treats it as
        // uninitialised; zeroing keeps runs reproducible.
        self.data[data_off..data_off + size as usize].fill(0);
        self.pending.insert(data_off, (self.producer_pos, size as usize));
        self.producer_pos = new_prod;
        Some(data_off)
    }

    fn commit(&mut self, data_off: usize, discard: bool) -> Result<(), MapError> {
        let (_, size) = self.pending.remove(&data_off).ok_or_else(|| {
            MapError::new(libc::EINVAL, format!("offset {data_off} is not a reserved ring buffer record"))
        })?;
        let len = size as u32 | if discard { BPF_RINGBUF_DISCARD_BIT } else { 0 };
        self.set_len(data_off - BPF_RINGBUF_HDR_SZ, len);
        Ok(())
    }

    /// `bpf_ringbuf_submit`: publishes the record whose data starts at storage offset `data_off`.
    /// `-EINVAL` if that is not a reserved record (the verifier would have rejected the program).
    pub fn submit(&mut self, data_off: usize) -> Result<(), MapError> {
        self.commit(data_off, false)
    }

    /// `bpf_ringbuf_discard`: marks the record skipped; the consumer never sees it.
    pub fn discard(&mut self, data_off: usize) -> Result<(), MapError> {
        self.commit(data_off, true)
    }

    /// `bpf_ringbuf_output(data, size, flags)`: reserve, copy, submit. `-EINVAL` for flags other than
    /// the wakeup bits, `-EAGAIN` when there is no space.
    pub fn output(&mut self, data: &[u8], flags: u64) -> Result<(), MapError> {
        if flags & !(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP) != 0 {
            return Err(MapError::new(libc::EINVAL, format!("invalid ringbuf_output flags {flags:#x}")));
        }
        let off = self.reserve(data.len() as u64, 0).ok_or_else(|| MapError::new(libc::EAGAIN, "ring buffer full"))?;
        self.data[off..off + data.len()].copy_from_slice(data);
        self.submit(off)
    }

    /// `bpf_ringbuf_query(flags)`; unknown flags give 0, as in the kernel.
    pub fn query(&self, flags: u64) -> u64 {
        match flags {
            BPF_RB_AVAIL_DATA => self.producer_pos - self.consumer_pos,
            BPF_RB_RING_SIZE => self.mask + 1,
            BPF_RB_CONS_POS => self.consumer_pos,
            BPF_RB_PROD_POS => self.producer_pos,
            _ => 0,
        }
    }

    /// Walks from the consumer position like a consumer would: the submitted records' data in
    /// order, stopping at the first record still reserved; also the position reached.
    fn walk(&self) -> (Vec<Vec<u8>>, u64) {
        let mut out = Vec::new();
        let mut pos = self.consumer_pos;
        while pos < self.producer_pos {
            let (len, off) = self.header(pos);
            if len & BPF_RINGBUF_BUSY_BIT != 0 {
                break;
            }
            let size = (len & !(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT)) as usize;
            if len & BPF_RINGBUF_DISCARD_BIT == 0 {
                let start = off + BPF_RINGBUF_HDR_SZ;
                out.push(self.data[start..start + size].to_vec());
            }
            pos += (size as u64 + BPF_RINGBUF_HDR_SZ as u64).div_ceil(8) * 8;
        }
        (out, pos)
    }

    /// The submitted records a consumer would read now, in order, without consuming them.
    pub fn records(&self) -> Vec<Vec<u8>> {
        self.walk().0
    }

    /// Reads the available records and advances the consumer position past them (and past
    /// discarded ones), freeing their space.
    pub fn consume(&mut self) -> Vec<Vec<u8>> {
        let (out, pos) = self.walk();
        self.consumer_pos = pos;
        out
    }
}
