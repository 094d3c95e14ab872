//! The map types beyond arrays and hashes (queue, stack, LPM trie, devmap, cpumap), driven from
//! user space in ebpf-lab's runtime and in the kernel with the same operations: every answer
//! (errno) and the contents after each step must agree. Without a kernel, the runtime's own
//! answers are still checked against the kernel's documented ones.

use ebpf_lab::kernel::{self, sys};
use ebpf_lab::program::{MapDef, MapType};
use ebpf_lab::runtime::maps::{Map, BPF_ANY, BPF_EXIST, BPF_F_NO_PREALLOC, BPF_NOEXIST};

fn def(map_type: MapType, key_size: u32, value_size: u32, max_entries: u32, flags: u32) -> MapDef {
    MapDef { name: "m".into(), map_type, key_size, value_size, max_entries, flags, extra: Default::default() }
}

/// One user-space operation.
#[derive(Clone, Debug)]
enum Op {
    Update(Vec<u8>, Vec<u8>, u64),
    Delete(Vec<u8>),
    Lookup(Vec<u8>),
    Pop,
}

/// What an operation answered: 0 or the errno, and the value read.
type Answer = (i32, Option<Vec<u8>>);

fn ours(map: &mut Map, op: &Op) -> Answer {
    let code = |r: Result<(), ebpf_lab::runtime::MapError>| r.err().map_or(0, |e| e.errno());
    match op {
        Op::Update(k, v, f) => (code(map.user_update(k, v, *f)), None),
        Op::Delete(k) => (code(map.delete(k)), None),
        Op::Lookup(k) => match map.user_lookup(k) {
            Ok(v) => (0, Some(v)),
            Err(e) => (e.errno(), None),
        },
        Op::Pop => match map.pop(true) {
            Ok(v) => (0, Some(v)),
            Err(e) => (e.errno(), None),
        },
    }
}

fn theirs(map: &sys::MapFd, op: &Op, value_size: usize) -> Answer {
    let code = |r: Result<bool, kernel::KernelError>, absent: i32| match r {
        Ok(true) => 0,
        Ok(false) => absent,
        Err(e) => e.errno(),
    };
    let mut v = vec![0u8; value_size];
    match op {
        Op::Update(k, val, f) => (code(sys::map_update(map, k, val, *f).map(|_| true), 0), None),
        Op::Delete(k) => (code(sys::map_delete(map, k), libc::ENOENT), None),
        Op::Lookup(k) => match code(sys::map_lookup(map, k, &mut v), libc::ENOENT) {
            0 => (0, Some(v)),
            e => (e, None),
        },
        Op::Pop => match code(sys::map_pop(map, &mut v), libc::ENOENT) {
            0 => (0, Some(v)),
            e => (e, None),
        },
    }
}

/// Runs `ops` on both and compares every answer; returns ebpf-lab's answers.
fn differential(d: &MapDef, ops: &[Op]) -> Vec<Answer> {
    let mut map = Map::new(d, kernel::possible_cpus()).expect("ebpf-lab creates the map");
    let answers: Vec<Answer> = ops.iter().map(|op| ours(&mut map, op)).collect();
    if kernel::require_or_skip("kernel_map_kinds") {
        let k = sys::map_create(d.map_type.kernel_id(), d.key_size, d.value_size, d.max_entries, d.flags, "m")
            .expect("the kernel creates the map");
        for (op, want) in ops.iter().zip(&answers) {
            let got = theirs(&k, op, d.value_size as usize);
            assert_eq!(&got, want, "{} {op:?}: kernel vs ebpf-lab", d.map_type.name());
        }
    }
    answers
}

/// A `struct bpf_lpm_trie_key` for an IPv4 prefix.
fn lpm_key(len: u32, ip: [u8; 4]) -> Vec<u8> {
    let mut k = len.to_le_bytes().to_vec();
    k.extend_from_slice(&ip);
    k
}

fn v32(i: u32) -> Vec<u8> {
    i.to_le_bytes().to_vec()
}

#[test]
fn queue_gives_back_the_oldest_and_drops_it_when_full_with_exist() {
    let d = def(MapType::Queue, 0, 4, 3, 0);
    let mut ops: Vec<Op> = (1..=3).map(|i| Op::Update(vec![], v32(i), BPF_ANY)).collect();
    ops.extend([
        Op::Update(vec![], v32(4), BPF_ANY),   // full: E2BIG
        Op::Update(vec![], v32(4), BPF_EXIST), // drops 1
        Op::Update(vec![], v32(5), 3),         // bad flags: EINVAL
        Op::Lookup(vec![]),                    // peek: 2
        Op::Pop,
        Op::Pop,
        Op::Pop,
        Op::Pop, // empty: ENOENT
        Op::Delete(vec![]),
    ]);
    let a = differential(&d, &ops);
    let values: Vec<Option<Vec<u8>>> = a[6..10].iter().map(|x| x.1.clone()).collect();
    assert_eq!(values, [Some(v32(2)), Some(v32(2)), Some(v32(3)), Some(v32(4))]);
    assert_eq!(a[3].0, libc::E2BIG);
    assert_eq!(a[5].0, libc::EINVAL);
    assert_eq!(a[10].0, libc::ENOENT);
}

#[test]
fn stack_gives_back_the_newest() {
    let d = def(MapType::Stack, 0, 8, 2, 0);
    let ops = [
        Op::Update(vec![], 10u64.to_le_bytes().to_vec(), BPF_ANY),
        Op::Update(vec![], 20u64.to_le_bytes().to_vec(), BPF_ANY),
        Op::Update(vec![], 30u64.to_le_bytes().to_vec(), BPF_EXIST), // drops the oldest, 10
        Op::Pop,
        Op::Pop,
        Op::Pop,
    ];
    let a = differential(&d, &ops);
    let popped: Vec<Option<Vec<u8>>> = a[3..].iter().map(|x| x.1.clone()).collect();
    assert_eq!(popped, [Some(30u64.to_le_bytes().to_vec()), Some(20u64.to_le_bytes().to_vec()), None]);
}

#[test]
fn lpm_trie_matches_the_longest_prefix_like_the_kernel() {
    let key = lpm_key;
    let d = def(MapType::LpmTrie, 8, 4, 3, BPF_F_NO_PREALLOC);
    let ops = [
        Op::Update(key(8, [10, 0, 0, 0]), v32(8), BPF_NOEXIST),
        Op::Update(key(24, [10, 1, 2, 0]), v32(24), BPF_ANY),
        Op::Update(key(24, [10, 1, 2, 9]), v32(25), BPF_NOEXIST), // same /24: EEXIST
        Op::Update(key(16, [10, 1, 0, 0]), v32(16), BPF_EXIST),   // absent: ENOENT
        Op::Update(key(33, [10, 1, 0, 0]), v32(16), BPF_ANY),     // too long: EINVAL
        Op::Lookup(key(32, [10, 1, 2, 3])),
        Op::Lookup(key(32, [10, 9, 9, 9])),
        Op::Lookup(key(32, [11, 0, 0, 0])),
        Op::Update(key(16, [10, 1, 0, 0]), v32(16), BPF_ANY),
        Op::Update(key(32, [10, 1, 2, 3]), v32(32), BPF_ANY), // full: ENOSPC
        Op::Lookup(key(32, [10, 1, 3, 3])),
        Op::Delete(key(24, [10, 1, 2, 0])),
        Op::Delete(key(24, [10, 1, 2, 0])),
        Op::Lookup(key(32, [10, 1, 2, 3])),
    ];
    let a = differential(&d, &ops);
    let value = |i: usize| a[i].1.clone().map(|v| u32::from_le_bytes(v.try_into().unwrap()));
    assert_eq!((value(5), value(6), value(7)), (Some(24), Some(8), None));
    assert_eq!((a[2].0, a[3].0, a[4].0, a[9].0), (libc::EEXIST, libc::ENOENT, libc::EINVAL, libc::ENOSPC));
    assert_eq!((value(10), value(13)), (Some(16), Some(16)));
    assert_eq!(a[12].0, libc::ENOENT);
}

#[test]
fn lpm_trie_iterates_in_the_kernels_order() {
    let key = lpm_key;
    let d = def(MapType::LpmTrie, 8, 4, 8, BPF_F_NO_PREALLOC);
    let keys = [
        key(16, [192, 168, 0, 0]),
        key(24, [192, 168, 128, 0]),
        key(24, [192, 168, 1, 0]),
        key(8, [10, 0, 0, 0]),
        key(24, [192, 168, 0, 0]),
    ];
    let mut map = Map::new(&d, 1).unwrap();
    for k in &keys {
        map.user_update(k, &v32(1), BPF_ANY).unwrap();
    }
    let ours: Vec<Vec<u8>> = map.entries().into_iter().map(|(k, _)| k).collect();
    if !kernel::require_or_skip("lpm_trie_iterates_in_the_kernels_order") {
        return;
    }
    let k = sys::map_create(d.map_type.kernel_id(), 8, 4, 8, d.flags, "m").unwrap();
    for key in &keys {
        sys::map_update(&k, key, &v32(1), 0).unwrap();
    }
    let mut theirs = Vec::new();
    let mut prev: Option<Vec<u8>> = None;
    let mut next = vec![0u8; 8];
    while sys::map_get_next_key(&k, prev.as_deref(), &mut next).unwrap() {
        theirs.push(next.clone());
        prev = Some(next.clone());
    }
    assert_eq!(ours, theirs);
}

#[test]
fn devmap_and_cpumap_slots_follow_the_kernels_rules() {
    let dev = def(MapType::Devmap, 4, 4, 2, 0);
    let ops = [
        Op::Lookup(v32(0)),                      // empty: ENOENT
        Op::Update(v32(0), v32(1), BPF_ANY),     // lo
        Op::Update(v32(2), v32(1), BPF_ANY),     // out of range: E2BIG
        Op::Update(v32(1), v32(1), BPF_NOEXIST), // EEXIST
        Op::Update(v32(1), v32(0), BPF_ANY),     // ifindex 0 empties the slot
        Op::Update(v32(1), v32(99999), BPF_ANY), // no such interface: EINVAL
        Op::Lookup(v32(0)),
        Op::Delete(v32(1)), // empty slot: fine
        Op::Delete(v32(0)),
        Op::Lookup(v32(0)),
    ];
    let a = differential(&dev, &ops);
    assert_eq!((a[5].0, a[6].clone()), (libc::EINVAL, (0, Some(v32(1)))));
    let cpu = def(MapType::Cpumap, 4, 4, 1, 0);
    let ops = [
        Op::Update(v32(0), v32(192), BPF_ANY),
        Op::Lookup(v32(0)),
        Op::Update(v32(0), v32(0), BPF_ANY), // queue size 0 removes
        Op::Lookup(v32(0)),
        Op::Update(v32(0), v32(100_000), BPF_ANY), // EOVERFLOW
    ];
    let a = differential(&cpu, &ops);
    assert_eq!((a[1].clone(), a[3].0, a[4].0), ((0, Some(v32(192))), libc::ENOENT, libc::EOVERFLOW));
}
