//! `BPF_MAP_TYPE_LPM_TRIE` (kernel/bpf/lpm_trie.c): longest-prefix match.
//!
//! A key is a `struct bpf_lpm_trie_key`: a `u32` prefix length (in bits, host order) followed by
//! `key_size - 4` data bytes compared most significant bit first (network order, as an IP
//! address). An element matches a lookup key when its prefix length is at most the key's and its
//! first prefix-length bits equal the key's; a lookup answers the longest such element.
//!
//! The kernel keeps a Patricia trie; here the elements sit in a list, which gives the same
//! answers. Iteration (`get_next_key`) follows the kernel's post-order walk of its trie: a longer
//! prefix comes before a shorter one it extends, and of two prefixes that part ways, the one with
//! a 0 at the first differing bit comes first. Values live in a slab of `max_entries` slots of
//! `round_up(value_size, 8)` bytes, so lookups return stable pointers.

use super::{access_flags_ok, round8, MapError, BPF_EXIST, BPF_F_ACCESS_MASK, BPF_F_NO_PREALLOC, BPF_F_NUMA_NODE};
use super::{BPF_NOEXIST, MAX_STORAGE_BYTES};
use crate::program::MapDef;
use std::cmp::Ordering;
use std::ops::Range;

/// The kernel's `LPM_CREATE_FLAG_MASK`.
const CREATE_FLAG_MASK: u32 = BPF_F_NO_PREALLOC | BPF_F_NUMA_NODE | BPF_F_ACCESS_MASK;
/// `LPM_DATA_SIZE_MAX`: at most 256 data bytes (2048-bit prefixes).
const LPM_DATA_SIZE_MAX: u32 = 256;

/// One element: its prefix length, its data bytes as last written, and its value's slot.
#[derive(Clone, Debug)]
struct Elem {
    prefixlen: u32,
    data: Vec<u8>,
    slot: usize,
}

/// An LPM trie.
#[derive(Clone, Debug)]
pub struct LpmTrie {
    data_size: usize,
    value_size: usize,
    stride: usize,
    max_entries: usize,
    elems: Vec<Elem>,
    free: Vec<usize>,
    storage: Vec<u8>,
}

/// Bit `i` of `data`, most significant bit of byte 0 first.
fn bit(data: &[u8], i: u32) -> u8 {
    (data[(i / 8) as usize] >> (7 - i % 8)) & 1
}

/// How many leading bits `a` and `b` share, counting at most `limit`.
fn common_bits(a: &[u8], b: &[u8], limit: u32) -> u32 {
    (0..limit).find(|&i| bit(a, i) != bit(b, i)).unwrap_or(limit)
}

/// The kernel's post-order: a prefix's extensions before it, the 0 side before the 1 side.
fn postorder(a: (u32, &[u8]), b: (u32, &[u8])) -> Ordering {
    let shorter = a.0.min(b.0);
    let m = common_bits(a.1, b.1, shorter);
    if m == shorter {
        b.0.cmp(&a.0)
    } else {
        bit(a.1, m).cmp(&bit(b.1, m))
    }
}

impl LpmTrie {
    /// `trie_alloc`: `BPF_F_NO_PREALLOC` required, a key of 5 to 260 bytes, a value; otherwise
    /// `-EINVAL`.
    pub fn new(def: &MapDef) -> Result<LpmTrie, MapError> {
        if def.flags & BPF_F_NO_PREALLOC == 0 {
            return Err(MapError::new(libc::EINVAL, "an LPM trie needs map_flags BPF_F_NO_PREALLOC"));
        }
        if def.flags & !CREATE_FLAG_MASK != 0 || !access_flags_ok(def.flags) {
            return Err(MapError::new(libc::EINVAL, format!("invalid map_flags {:#x} for an LPM trie", def.flags)));
        }
        if def.max_entries == 0 || def.value_size == 0 {
            return Err(MapError::new(libc::EINVAL, "value_size and max_entries must not be 0"));
        }
        if def.key_size <= 4 || def.key_size > 4 + LPM_DATA_SIZE_MAX {
            return Err(MapError::new(
                libc::EINVAL,
                format!(
                    "an LPM trie key is a u32 prefix length then 1 to 256 data bytes: key_size {} is not 5..=260",
                    def.key_size
                ),
            ));
        }
        let stride = round8(def.value_size as usize);
        let len = (def.max_entries as usize)
            .checked_mul(stride)
            .filter(|&n| n <= MAX_STORAGE_BYTES)
            .ok_or_else(|| MapError::new(libc::ENOMEM, "map storage above ebpf-lab's bound"))?;
        Ok(LpmTrie {
            data_size: def.key_size as usize - 4,
            value_size: def.value_size as usize,
            stride,
            max_entries: def.max_entries as usize,
            elems: Vec::new(),
            free: (0..def.max_entries as usize).rev().collect(),
            storage: vec![0; len],
        })
    }

    fn max_prefixlen(&self) -> u32 {
        self.data_size as u32 * 8
    }

    /// The key's prefix length and data.
    fn split<'k>(&self, key: &'k [u8]) -> (u32, &'k [u8]) {
        let prefixlen = u32::from_le_bytes(key[..4].try_into().expect("keys are checked to be key_size bytes"));
        (prefixlen, &key[4..])
    }

    /// The element with exactly this prefix (length and bits), if any.
    fn exact(&self, prefixlen: u32, data: &[u8]) -> Option<usize> {
        self.elems.iter().position(|e| e.prefixlen == prefixlen && common_bits(&e.data, data, prefixlen) == prefixlen)
    }

    /// The storage programs address (values by slot).
    pub fn storage(&self) -> &[u8] {
        &self.storage
    }

    /// The storage, writable.
    pub fn storage_mut(&mut self) -> &mut [u8] {
        &mut self.storage
    }

    /// Distance between values in the storage.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// The value containing storage offset `offset`, if not in padding.
    pub fn value_region(&self, offset: usize) -> Option<Range<usize>> {
        if offset >= self.storage.len() {
            return None;
        }
        let start = offset / self.stride * self.stride;
        (offset < start + self.value_size).then(|| start..start + self.value_size)
    }

    /// `trie_lookup_elem`: the storage offset of the longest prefix matching `key`, or `None`.
    pub fn lookup(&self, key: &[u8]) -> Option<usize> {
        let (prefixlen, data) = self.split(key);
        if prefixlen > self.max_prefixlen() {
            return None;
        }
        self.elems
            .iter()
            .filter(|e| e.prefixlen <= prefixlen && common_bits(&e.data, data, e.prefixlen) == e.prefixlen)
            .max_by_key(|e| e.prefixlen)
            .map(|e| e.slot * self.stride)
    }

    /// `trie_update_elem`: `-EINVAL` for flags above `BPF_EXIST` or a prefix longer than the data,
    /// `-EEXIST`/`-ENOENT` for `BPF_NOEXIST`/`BPF_EXIST`, `-ENOSPC` when full. A replaced element
    /// takes the new key's bytes.
    pub fn update(&mut self, key: &[u8], value: &[u8], flags: u64) -> Result<(), MapError> {
        if flags > BPF_EXIST {
            return Err(MapError::new(libc::EINVAL, format!("invalid update flags {flags:#x}")));
        }
        let (prefixlen, data) = self.split(key);
        if prefixlen > self.max_prefixlen() {
            return Err(MapError::new(
                libc::EINVAL,
                format!("prefix length {prefixlen} above the key's {} bits", self.max_prefixlen()),
            ));
        }
        let slot = match self.exact(prefixlen, data) {
            Some(i) if flags == BPF_NOEXIST => {
                let _ = i;
                return Err(MapError::new(libc::EEXIST, "the prefix exists (BPF_NOEXIST)"));
            }
            Some(i) => {
                self.elems[i].data = data.to_vec();
                self.elems[i].slot
            }
            None if flags == BPF_EXIST => return Err(MapError::new(libc::ENOENT, "no such prefix (BPF_EXIST)")),
            None => {
                if self.elems.len() == self.max_entries {
                    return Err(MapError::new(libc::ENOSPC, "the trie is full"));
                }
                let slot = self.free.pop().expect("a free slot below max_entries");
                self.elems.push(Elem { prefixlen, data: data.to_vec(), slot });
                slot
            }
        };
        let at = slot * self.stride;
        self.storage[at..at + self.value_size].copy_from_slice(&value[..self.value_size]);
        Ok(())
    }

    /// `trie_delete_elem`: removes the exact prefix, `-ENOENT` if absent.
    pub fn delete(&mut self, key: &[u8]) -> Result<(), MapError> {
        let (prefixlen, data) = self.split(key);
        if prefixlen > self.max_prefixlen() {
            return Err(MapError::new(libc::EINVAL, "prefix length above the key's bits"));
        }
        let i = self.exact(prefixlen, data).ok_or_else(|| MapError::new(libc::ENOENT, "no such prefix"))?;
        let e = self.elems.swap_remove(i);
        let at = e.slot * self.stride;
        self.storage[at..at + self.stride].fill(0);
        self.free.push(e.slot);
        Ok(())
    }

    /// User-space lookup: the value of the longest match, `-ENOENT` if none.
    pub fn user_lookup(&self, key: &[u8]) -> Result<Vec<u8>, MapError> {
        let off = self.lookup(key).ok_or_else(|| MapError::new(libc::ENOENT, "no prefix matches"))?;
        Ok(self.storage[off..off + self.value_size].to_vec())
    }

    /// `trie_get_next_key`: the element after `key` in post-order; the first one when `key` is
    /// `None` or not an element; `-ENOENT` after the last.
    pub fn get_next_key(&self, key: Option<&[u8]>) -> Result<Vec<u8>, MapError> {
        let mut order: Vec<&Elem> = self.elems.iter().collect();
        order.sort_by(|a, b| postorder((a.prefixlen, &a.data), (b.prefixlen, &b.data)));
        let at = key
            .map(|k| self.split(k))
            .filter(|(p, _)| *p <= self.max_prefixlen())
            .and_then(|(p, d)| order.iter().position(|e| e.prefixlen == p && common_bits(&e.data, d, p) == p));
        let next = match at {
            Some(i) => order.get(i + 1),
            None => order.first(),
        };
        let e = next.ok_or_else(|| MapError::new(libc::ENOENT, "no key after the last element"))?;
        let mut out = e.prefixlen.to_le_bytes().to_vec();
        out.extend_from_slice(&e.data);
        Ok(out)
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.elems.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::MapType;

    fn trie() -> LpmTrie {
        let def = MapDef {
            name: "t".into(),
            map_type: MapType::LpmTrie,
            key_size: 8,
            value_size: 4,
            max_entries: 8,
            flags: BPF_F_NO_PREALLOC,
            extra: Default::default(),
        };
        LpmTrie::new(&def).unwrap()
    }

    fn key(prefixlen: u32, ip: [u8; 4]) -> Vec<u8> {
        let mut k = prefixlen.to_le_bytes().to_vec();
        k.extend_from_slice(&ip);
        k
    }

    fn value_at(t: &LpmTrie, k: &[u8]) -> Option<u32> {
        t.user_lookup(k).ok().map(|v| u32::from_le_bytes(v.try_into().unwrap()))
    }

    #[test]
    fn the_longest_matching_prefix_wins() {
        let mut t = trie();
        t.update(&key(8, [10, 0, 0, 0]), &1u32.to_le_bytes(), 0).unwrap();
        t.update(&key(16, [10, 1, 0, 0]), &2u32.to_le_bytes(), 0).unwrap();
        t.update(&key(24, [10, 1, 2, 0]), &3u32.to_le_bytes(), 0).unwrap();
        assert_eq!(value_at(&t, &key(32, [10, 1, 2, 3])), Some(3));
        assert_eq!(value_at(&t, &key(32, [10, 1, 3, 3])), Some(2));
        assert_eq!(value_at(&t, &key(32, [10, 9, 9, 9])), Some(1));
        assert_eq!(value_at(&t, &key(32, [11, 1, 2, 3])), None);
        // The lookup key's own prefix length bounds the match.
        assert_eq!(value_at(&t, &key(20, [10, 1, 2, 3])), Some(2));
        assert_eq!(value_at(&t, &key(33, [10, 1, 2, 3])), None);
    }

    #[test]
    fn updates_follow_flags_and_capacity() {
        let mut t = trie();
        let k = key(24, [192, 168, 1, 0]);
        assert_eq!(t.update(&k, &[1; 4], BPF_EXIST).unwrap_err().errno(), libc::ENOENT);
        t.update(&k, &[1; 4], BPF_NOEXIST).unwrap();
        // The same prefix with other bits past it is the same element.
        assert_eq!(t.update(&key(24, [192, 168, 1, 77]), &[2; 4], BPF_NOEXIST).unwrap_err().errno(), libc::EEXIST);
        assert_eq!(t.update(&key(33, [0; 4]), &[2; 4], 0).unwrap_err().errno(), libc::EINVAL);
        assert_eq!(t.update(&k, &[2; 4], 3).unwrap_err().errno(), libc::EINVAL);
        for i in 1..8u8 {
            t.update(&key(32, [1, 1, 1, i]), &[i; 4], 0).unwrap();
        }
        assert_eq!(t.update(&key(32, [2, 2, 2, 2]), &[0; 4], 0).unwrap_err().errno(), libc::ENOSPC);
        t.delete(&key(32, [1, 1, 1, 1])).unwrap();
        assert_eq!(t.delete(&key(32, [1, 1, 1, 1])).unwrap_err().errno(), libc::ENOENT);
        t.update(&key(32, [2, 2, 2, 2]), &[0; 4], 0).unwrap();
    }

    #[test]
    fn iteration_is_the_kernels_postorder() {
        // The kernel's own example: 192.168.0.0/24, 192.168.1.0/24, 192.168.128.0/24, then
        // 192.168.0.0/16, whatever the insertion order.
        let mut t = trie();
        for k in [
            key(16, [192, 168, 0, 0]),
            key(24, [192, 168, 128, 0]),
            key(24, [192, 168, 1, 0]),
            key(24, [192, 168, 0, 0]),
        ] {
            t.update(&k, &[0; 4], 0).unwrap();
        }
        let mut seen = Vec::new();
        let mut k: Option<Vec<u8>> = None;
        while let Ok(next) = t.get_next_key(k.as_deref()) {
            seen.push(next.clone());
            k = Some(next);
        }
        assert_eq!(
            seen,
            [
                key(24, [192, 168, 0, 0]),
                key(24, [192, 168, 1, 0]),
                key(24, [192, 168, 128, 0]),
                key(16, [192, 168, 0, 0])
            ]
        );
        assert_eq!(t.get_next_key(Some(&key(8, [1, 0, 0, 0]))).unwrap(), key(24, [192, 168, 0, 0]));
    }
}
