//! Map semantics against the kernel's (errnos, iteration, eviction, per-CPU isolation, ring buffer).

use ebpf_lab::program::{MapDef, MapType};
use ebpf_lab::runtime::maps::ringbuf::{BPF_RB_AVAIL_DATA, BPF_RB_PROD_POS};
use ebpf_lab::runtime::maps::{Map, BPF_ANY, BPF_EXIST, BPF_NOEXIST};

fn def(map_type: MapType, key_size: u32, value_size: u32, max_entries: u32) -> MapDef {
    MapDef { name: "m".into(), map_type, key_size, value_size, max_entries, flags: 0, extra: Default::default() }
}

fn k32(i: u32) -> [u8; 4] {
    i.to_le_bytes()
}

fn errno(r: Result<impl std::fmt::Debug, ebpf_lab::runtime::MapError>) -> i32 {
    r.expect_err("expected an error").errno()
}

#[test]
fn create_checks_like_map_alloc_check() {
    use MapType::*;
    let e = |d: MapDef| Map::new(&d, 2).expect_err("must be rejected").errno();
    assert_eq!(e(def(Array, 8, 4, 4)), libc::EINVAL, "array key_size must be 4");
    assert_eq!(e(def(Array, 4, 0, 4)), libc::EINVAL);
    assert_eq!(e(def(Array, 4, 4, 0)), libc::EINVAL);
    assert_eq!(e(def(PercpuArray, 4, 32 * 1024 + 1, 1)), libc::E2BIG);
    assert_eq!(e(def(Hash, 0, 4, 4)), libc::EINVAL);
    assert!(Map::new(&def(Hash, 513, 4, 4), 1).is_ok(), "Linux 6.18 accepts a 513-byte key");
    assert_eq!(e(def(Hash, 4 << 20, 4, 4)), libc::E2BIG);
    assert_eq!(e(def(ProgArray, 4, 8, 4)), libc::EINVAL);
    assert_eq!(e(def(Ringbuf, 0, 0, 4096 * 3)), libc::EINVAL, "not a power of two");
    assert_eq!(e(def(Ringbuf, 0, 0, 1024)), libc::EINVAL, "not a page multiple");
    assert_eq!(e(def(Ringbuf, 4, 0, 4096)), libc::EINVAL, "ringbuf has no key");
    let mut bad_flags = def(Array, 4, 4, 4);
    bad_flags.flags = 1 << 20;
    assert_eq!(e(bad_flags), libc::EINVAL);
    let mut lru_noprealloc = def(LruHash, 4, 4, 4);
    lru_noprealloc.flags = 1;
    assert_eq!(e(lru_noprealloc), 524);
    assert!(Map::new(&def(Ringbuf, 0, 0, 4096), 1).is_ok());
    assert!(Map::new(&def(Array, 4, 4, 4), 0).is_err(), "zero CPUs");
}

#[test]
fn array_update_flags_delete_and_lookup() {
    let mut m = Map::new(&def(MapType::Array, 4, 4, 3), 1).unwrap();
    assert_eq!(errno(m.update(&k32(1), &[1, 2, 3, 4], BPF_NOEXIST, 0)), libc::EEXIST);
    assert_eq!(errno(m.update(&k32(3), &[0; 4], BPF_ANY, 0)), libc::E2BIG);
    assert_eq!(errno(m.update(&k32(0), &[0; 4], 3, 0)), libc::EINVAL, "flags > BPF_EXIST");
    m.update(&k32(1), &[1, 2, 3, 4], BPF_EXIST, 0).unwrap();
    let off = m.lookup(&k32(1), 0).unwrap();
    assert_eq!(off, 8, "values are 8-byte strided");
    assert_eq!(&m.storage()[off..off + 4], &[1, 2, 3, 4]);
    assert_eq!(m.lookup(&k32(3), 0), None);
    assert_eq!(errno(m.delete(&k32(1))), libc::EINVAL);
    // Stores through the pointer are what user space sees.
    m.storage_mut()[off] = 9;
    assert_eq!(m.user_lookup(&k32(1)).unwrap(), vec![9, 2, 3, 4]);
    assert_eq!(m.value_region(off + 3), Some(8..12));
    assert_eq!(m.value_region(off + 4), None, "padding");
}

#[test]
fn array_get_next_key() {
    let m = Map::new(&def(MapType::Array, 4, 4, 3), 1).unwrap();
    assert_eq!(m.get_next_key(None).unwrap(), k32(0));
    assert_eq!(m.get_next_key(Some(&k32(0))).unwrap(), k32(1));
    assert_eq!(m.get_next_key(Some(&k32(1))).unwrap(), k32(2));
    assert_eq!(errno(m.get_next_key(Some(&k32(2)))), libc::ENOENT);
    assert_eq!(m.get_next_key(Some(&k32(77))).unwrap(), k32(0), "out of range restarts at 0");
    assert_eq!(m.entries().len(), 3);
}

#[test]
fn percpu_array_isolation_and_user_view() {
    let mut m = Map::new(&def(MapType::PercpuArray, 4, 4, 2), 3).unwrap();
    m.update(&k32(1), &7u32.to_le_bytes(), BPF_ANY, 2).unwrap();
    let c0 = m.lookup(&k32(1), 0).unwrap();
    let c2 = m.lookup(&k32(1), 2).unwrap();
    assert_ne!(c0, c2);
    assert_eq!(&m.storage()[c0..c0 + 4], &[0; 4]);
    assert_eq!(&m.storage()[c2..c2 + 4], &7u32.to_le_bytes());
    // User space sees every CPU, each value padded to 8 bytes.
    assert_eq!(m.user_value_size(), 24);
    let v = m.user_lookup(&k32(1)).unwrap();
    assert_eq!(v, [vec![0; 8], vec![0; 8], vec![7, 0, 0, 0, 0, 0, 0, 0]].concat());
    let mut all = vec![0u8; 24];
    all[0] = 1;
    all[8] = 2;
    all[16] = 3;
    m.user_update(&k32(0), &all, BPF_ANY).unwrap();
    for cpu in 0..3 {
        let off = m.lookup(&k32(0), cpu).unwrap();
        assert_eq!(m.storage()[off], cpu as u8 + 1);
    }
    assert_eq!(errno(m.user_update(&k32(0), &[0; 4], BPF_ANY)), libc::EINVAL, "user value must cover all CPUs");
}

#[test]
fn hash_flags_full_delete_and_iteration() {
    let mut m = Map::new(&def(MapType::Hash, 4, 8, 2), 1).unwrap();
    assert_eq!(errno(m.update(&k32(5), &[0; 8], BPF_EXIST, 0)), libc::ENOENT);
    m.update(&k32(5), &[5; 8], BPF_NOEXIST, 0).unwrap();
    assert_eq!(errno(m.update(&k32(5), &[6; 8], BPF_NOEXIST, 0)), libc::EEXIST);
    m.update(&k32(5), &[6; 8], BPF_EXIST, 0).unwrap();
    m.update(&k32(9), &[9; 8], BPF_ANY, 0).unwrap();
    assert_eq!(errno(m.update(&k32(1), &[1; 8], BPF_ANY, 0)), libc::E2BIG, "full");
    m.update(&k32(9), &[8; 8], BPF_ANY, 0).expect("replacing in a full map works");
    assert_eq!(errno(m.update(&k32(1), &[0; 8], 4 | 3, 0)), libc::EINVAL);
    // Iteration: insertion order, ENOENT at the end; unknown key restarts.
    assert_eq!(m.get_next_key(None).unwrap(), k32(5));
    assert_eq!(m.get_next_key(Some(&k32(5))).unwrap(), k32(9));
    assert_eq!(errno(m.get_next_key(Some(&k32(9)))), libc::ENOENT);
    assert_eq!(m.get_next_key(Some(&k32(1234))).unwrap(), k32(5));
    assert_eq!(m.entries(), vec![(k32(5).to_vec(), vec![6; 8]), (k32(9).to_vec(), vec![8; 8])]);
    // The value address is stable across updates.
    let off = m.lookup(&k32(5), 0).unwrap();
    m.update(&k32(5), &[7; 8], BPF_ANY, 0).unwrap();
    assert_eq!(m.lookup(&k32(5), 0), Some(off));
    assert_eq!(&m.storage()[off..off + 8], &[7; 8]);
    m.delete(&k32(5)).unwrap();
    assert_eq!(errno(m.delete(&k32(5))), libc::ENOENT);
    assert_eq!(m.lookup(&k32(5), 0), None);
    assert_eq!(errno(m.user_lookup(&k32(5))), libc::ENOENT);
    assert_eq!(m.len(), 1);
    m.update(&k32(1), &[1; 8], BPF_ANY, 0).expect("room again after delete");
    assert_eq!(m.entries().iter().map(|e| e.0.clone()).collect::<Vec<_>>(), vec![k32(9).to_vec(), k32(1).to_vec()]);
    let empty = Map::new(&def(MapType::Hash, 4, 8, 2), 1).unwrap();
    assert_eq!(errno(empty.get_next_key(None)), libc::ENOENT);
}

#[test]
fn hash_wrong_key_size_is_einval() {
    let mut m = Map::new(&def(MapType::Hash, 4, 8, 2), 1).unwrap();
    assert_eq!(errno(m.update(&[1, 2], &[0; 8], BPF_ANY, 0)), libc::EINVAL);
    assert_eq!(errno(m.update(&k32(1), &[0; 7], BPF_ANY, 0)), libc::EINVAL);
}

#[test]
fn lru_evicts_least_recently_used() {
    let mut m = Map::new(&def(MapType::LruHash, 4, 4, 3), 1).unwrap();
    let present = |m: &Map| m.entries().into_iter().map(|(k, _)| k[0]).collect::<Vec<_>>();
    for i in 1..=3 {
        m.update(&k32(i), &k32(i * 10), BPF_ANY, 0).unwrap();
    }
    // A program lookup of 1 makes 2 the least recently used; a user-space lookup of 2 does not count.
    assert!(m.lookup(&k32(1), 0).is_some());
    m.user_lookup(&k32(2)).unwrap();
    m.update(&k32(4), &k32(40), BPF_ANY, 0).expect("LRU never reports full");
    assert_eq!(present(&m), vec![1, 3, 4], "2 evicted");
    // Now 3 is the oldest use, then 1, then 4.
    m.update(&k32(5), &k32(50), BPF_NOEXIST, 0).unwrap();
    assert_eq!(present(&m), vec![1, 4, 5], "3 evicted next");
}

/// What Linux 6.18 does (observed with bpf(2) on a 3-entry LRU map): an update takes a fresh
/// element before looking at the key, so replacing a key in a full map evicts the oldest element,
/// and the replaced element's slot then becomes free.
#[test]
fn lru_replacement_in_a_full_map_evicts_like_the_kernel() {
    let mut m = Map::new(&def(MapType::LruHash, 4, 4, 3), 1).unwrap();
    let present = |m: &Map| m.entries().into_iter().map(|(k, _)| k[0]).collect::<Vec<_>>();
    for i in 1..=3 {
        m.update(&k32(i), &k32(i), BPF_ANY, 0).unwrap();
    }
    let before = m.lookup(&k32(3), 0).unwrap();
    m.user_update(&k32(3), &k32(0), BPF_ANY).unwrap();
    assert_eq!(present(&m), vec![2, 3], "1 evicted by the replacement of 3");
    assert_ne!(m.lookup(&k32(3), 0), Some(before), "the new value lives in a fresh slot");
    assert_eq!(errno(m.update(&k32(2), &k32(0), BPF_NOEXIST, 0)), libc::EEXIST);
    assert_eq!(present(&m), vec![2, 3], "a free slot existed: nothing evicted");
    m.update(&k32(4), &k32(4), BPF_ANY, 0).unwrap();
    assert_eq!(present(&m), vec![2, 3, 4]);
    // Full again: a refused update still evicted the oldest (2).
    assert_eq!(errno(m.update(&k32(4), &k32(0), BPF_NOEXIST, 0)), libc::EEXIST);
    assert_eq!(present(&m), vec![3, 4]);
}

#[test]
fn percpu_hash_new_element_zeroes_other_cpus() {
    let mut m = Map::new(&def(MapType::PercpuHash, 4, 4, 4), 2).unwrap();
    m.update(&k32(1), &[1, 1, 1, 1], BPF_ANY, 1).unwrap();
    let v = m.user_lookup(&k32(1)).unwrap();
    assert_eq!(v, [vec![0; 8], vec![1, 1, 1, 1, 0, 0, 0, 0]].concat());
    m.update(&k32(1), &[2, 2, 2, 2], BPF_ANY, 0).unwrap();
    let v = m.user_lookup(&k32(1)).unwrap();
    assert_eq!(v, [vec![2, 2, 2, 2, 0, 0, 0, 0], vec![1, 1, 1, 1, 0, 0, 0, 0]].concat());
    // Re-used slot after a delete starts zeroed again.
    m.delete(&k32(1)).unwrap();
    m.update(&k32(2), &[3; 4], BPF_ANY, 1).unwrap();
    assert_eq!(m.user_lookup(&k32(2)).unwrap()[..8], [0; 8]);
}

#[test]
fn prog_array_semantics() {
    let mut m = Map::new(&def(MapType::ProgArray, 4, 4, 2), 1).unwrap();
    assert_eq!(m.prog_at(0), None);
    m.user_update(&k32(1), &7u32.to_le_bytes(), BPF_ANY).unwrap();
    assert_eq!(m.prog_at(1), Some(7));
    assert_eq!(m.prog_at(2), None);
    assert_eq!(errno(m.user_update(&k32(0), &7u32.to_le_bytes(), BPF_NOEXIST)), libc::EINVAL);
    assert_eq!(errno(m.user_update(&k32(2), &7u32.to_le_bytes(), BPF_ANY)), libc::E2BIG);
    assert_eq!(m.entries(), vec![(k32(1).to_vec(), 7u32.to_le_bytes().to_vec())]);
    m.delete(&k32(1)).unwrap();
    assert_eq!(errno(m.delete(&k32(1))), libc::ENOENT);
    assert_eq!(m.lookup(&k32(1), 0), None, "programs cannot look into a prog array");
}

#[test]
fn ringbuf_reserve_submit_discard_output() {
    let mut m = Map::new(&def(MapType::Ringbuf, 0, 0, 4096), 1).unwrap();
    assert_eq!(m.storage().len(), 8192);
    assert_eq!(m.lookup(&[], 0), None);
    assert_eq!(errno(m.get_next_key(None)), 524);
    let rb = m.ringbuf_mut().unwrap();
    assert_eq!(rb.reserve(8, 1), None, "flags must be 0");
    let a = rb.reserve(5, 0).unwrap();
    assert_eq!(a, 8, "after the 8-byte header");
    let b = rb.reserve(3, 0).unwrap();
    assert_eq!(b, 16 + 8, "5 data bytes + header round up to 16");
    assert_eq!(rb.record_region(a + 4), Some(a..a + 5));
    assert_eq!(rb.record_region(a + 5), None);
    rb.storage_mut()[b..b + 3].copy_from_slice(b"xyz");
    rb.submit(b).unwrap();
    assert!(rb.records().is_empty(), "a consumer stops at the busy first record");
    rb.storage_mut()[a..a + 5].copy_from_slice(b"hello");
    rb.discard(a).unwrap();
    assert!(rb.submit(a).is_err(), "already committed");
    rb.output(b"out", 0).unwrap();
    assert_eq!(rb.output(b"x", 4).unwrap_err().errno(), libc::EINVAL);
    assert_eq!(rb.records(), vec![b"xyz".to_vec(), b"out".to_vec()]);
    assert_eq!(rb.query(BPF_RB_PROD_POS), 48);
    assert_eq!(rb.consume().len(), 2);
    assert_eq!(rb.query(BPF_RB_AVAIL_DATA), 0);
    assert!(rb.records().is_empty());
}

#[test]
fn ringbuf_full_and_wraparound() {
    let mut m = Map::new(&def(MapType::Ringbuf, 0, 0, 4096), 1).unwrap();
    let rb = m.ringbuf_mut().unwrap();
    assert_eq!(rb.reserve(4096, 0), None, "bigger than the ring");
    // 4096-byte ring: records of 1024+8 → 1032 bytes; three fit (3096), a fourth would need 4128.
    let offs: Vec<_> = (0..3).map(|_| rb.reserve(1024, 0).unwrap()).collect();
    assert_eq!(rb.reserve(1024, 0), None, "full");
    assert_eq!(rb.output(&[0; 1024], 0).unwrap_err().errno(), libc::EAGAIN);
    for &o in &offs {
        rb.submit(o).unwrap();
    }
    assert_eq!(rb.consume().len(), 3);
    // Space is free again; the next record wraps past the end, contiguous in the double mapping.
    let o = rb.reserve(2000, 0).unwrap();
    assert_eq!(o, 3096 + 8);
    assert!(o + 2000 > 4096);
    rb.storage_mut()[o..o + 2000].fill(0xab);
    rb.submit(o).unwrap();
    assert_eq!(rb.records(), vec![vec![0xab; 2000]]);
    // Largest possible record: total length must stay below the ring size.
    rb.consume();
    assert_eq!(rb.reserve(4096 - 8, 0), None);
    assert!(rb.reserve(4096 - 16, 0).is_some());
}

mod random_ops {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Update(Vec<u8>, Vec<u8>, u64, u32),
        UserUpdate(Vec<u8>, Vec<u8>, u64),
        Lookup(Vec<u8>, u32),
        Delete(Vec<u8>),
        NextKey(Option<Vec<u8>>),
    }

    fn bytes() -> impl Strategy<Value = Vec<u8>> {
        // Mostly well-sized 4/8-byte values over a small key space, sometimes wrong sizes.
        prop_oneof![
            4 => (0u8..6).prop_map(|k| vec![k, 0, 0, 0]),
            2 => proptest::collection::vec(any::<u8>(), 8),
            1 => proptest::collection::vec(any::<u8>(), 0..20),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (bytes(), bytes(), 0u64..6, 0u32..4).prop_map(|(k, v, f, c)| Op::Update(k, v, f, c)),
            (bytes(), proptest::collection::vec(any::<u8>(), 0..40), 0u64..3)
                .prop_map(|(k, v, f)| Op::UserUpdate(k, v, f)),
            (bytes(), 0u32..4).prop_map(|(k, c)| Op::Lookup(k, c)),
            bytes().prop_map(Op::Delete),
            proptest::option::of(bytes()).prop_map(Op::NextKey),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// Any sequence of operations, including malformed ones, never panics, and the map stays
        /// consistent: at most max_entries elements, entries() agrees with len(), every program
        /// lookup lands inside a value region of the storage.
        #[test]
        fn maps_stay_consistent(t in 0usize..6, ops in proptest::collection::vec(op(), 1..40)) {
            let map_type = [MapType::Array, MapType::PercpuArray, MapType::Hash, MapType::PercpuHash,
                            MapType::LruHash, MapType::ProgArray][t];
            let value_size = if map_type == MapType::ProgArray { 4 } else { 8 };
            let mut m = Map::new(&def(map_type, 4, value_size, 4), 2).unwrap();
            let storage_len = m.storage().len();
            for op in ops {
                match op {
                    Op::Update(k, v, f, c) => { let _ = m.update(&k, &v, f, c); }
                    Op::UserUpdate(k, v, f) => { let _ = m.user_update(&k, &v, f); }
                    Op::Lookup(k, c) => {
                        if let Some(off) = m.lookup(&k, c) {
                            let r = m.value_region(off).expect("lookup points at a value");
                            prop_assert_eq!(r.start, off);
                            prop_assert_eq!(r.len(), m.value_size());
                        }
                    }
                    Op::Delete(k) => { let _ = m.delete(&k); }
                    Op::NextKey(k) => { let _ = m.get_next_key(k.as_deref()); }
                }
                prop_assert_eq!(m.storage().len(), storage_len, "storage never moves or resizes");
                prop_assert!(m.len() <= 4);
                if matches!(map_type, MapType::Hash | MapType::PercpuHash | MapType::LruHash | MapType::ProgArray) {
                    prop_assert_eq!(m.entries().len(), m.len());
                }
            }
        }
    }
}
