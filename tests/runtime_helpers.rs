//! Helpers through a small mock engine: map helpers, trace_printk formatting, ring buffer helpers,
//! the table's numbering.

use ebpf_lab::program::{MapDef, MapType};
use ebpf_lab::runtime::helpers::{self, call, helper, helper_by_name, ArgType, HelperEnv, HelperFault, RetType};
use ebpf_lab::runtime::maps::Map;

const STACK: u64 = 0x1000_0000;
const MAPS: u64 = 0x2000_0000;
const MAP_SPAN: u64 = 0x0100_0000;
const MAP_REF: u64 = 0xaa00_0000;

/// A toy engine: one 512-byte "stack" and the maps, each at its own address range.
struct Mock {
    stack: Vec<u8>,
    maps: Vec<Map>,
    trace: Vec<String>,
    rng: u64,
}

impl Mock {
    fn new(maps: Vec<Map>) -> Mock {
        Mock { stack: vec![0; 512], maps, trace: Vec::new(), rng: 42 }
    }

    fn put(&mut self, off: usize, data: &[u8]) -> u64 {
        self.stack[off..off + data.len()].copy_from_slice(data);
        STACK + off as u64
    }

    fn region(&self, addr: u64, len: usize) -> Option<(Option<usize>, usize)> {
        let end = addr.checked_add(len as u64)?;
        if addr >= STACK && end <= STACK + self.stack.len() as u64 {
            return Some((None, (addr - STACK) as usize));
        }
        let (idx, off) = self.map_offset_of(addr)?;
        (off + len <= self.maps[idx].storage().len()).then_some((Some(idx), off))
    }
}

impl HelperEnv for Mock {
    fn read(&self, addr: u64, len: usize) -> Result<Vec<u8>, HelperFault> {
        match self.region(addr, len) {
            Some((None, off)) => Ok(self.stack[off..off + len].to_vec()),
            Some((Some(m), off)) => Ok(self.maps[m].storage()[off..off + len].to_vec()),
            None => Err(HelperFault::BadAccess { addr, len, write: false }),
        }
    }
    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), HelperFault> {
        match self.region(addr, data.len()) {
            Some((None, off)) => self.stack[off..off + data.len()].copy_from_slice(data),
            Some((Some(m), off)) => self.maps[m].storage_mut()[off..off + data.len()].copy_from_slice(data),
            None => return Err(HelperFault::BadAccess { addr, len: data.len(), write: true }),
        }
        Ok(())
    }
    fn map_by_ptr(&mut self, map_ptr: u64) -> Result<(usize, &mut Map), HelperFault> {
        let idx = map_ptr.wrapping_sub(MAP_REF) as usize;
        match self.maps.get_mut(idx) {
            Some(m) => Ok((idx, m)),
            None => Err(HelperFault::BadMap(map_ptr)),
        }
    }
    fn map_mut(&mut self, index: usize) -> Result<&mut Map, HelperFault> {
        self.maps.get_mut(index).ok_or(HelperFault::BadMap(index as u64))
    }
    fn map_value_addr(&self, map_index: usize, offset: usize) -> u64 {
        MAPS + map_index as u64 * MAP_SPAN + offset as u64
    }
    fn map_offset_of(&self, addr: u64) -> Option<(usize, usize)> {
        let rel = addr.checked_sub(MAPS)?;
        let idx = (rel / MAP_SPAN) as usize;
        (idx < self.maps.len()).then_some((idx, (rel % MAP_SPAN) as usize))
    }
    fn cpu(&self) -> u32 {
        1
    }
    fn now_ns(&self) -> u64 {
        1_000
    }
    fn boot_ns(&self) -> u64 {
        2_000
    }
    fn prandom_u32(&mut self) -> u32 {
        // xorshift64*, seeded.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        (self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32
    }
    fn pid_tgid(&self) -> u64 {
        (100 << 32) | 101
    }
    fn uid_gid(&self) -> u64 {
        (1000 << 32) | 1001
    }
    fn comm(&self) -> [u8; 16] {
        *b"ebpf-lab\0\0\0\0\0\0\0\0"
    }
    fn trace(&mut self, message: String) {
        self.trace.push(message);
    }
}

fn def(map_type: MapType, key_size: u32, value_size: u32, max_entries: u32) -> MapDef {
    MapDef { name: "m".into(), map_type, key_size, value_size, max_entries, flags: 0, extra: Default::default() }
}

fn neg(errno: i32) -> u64 {
    -(errno as i64) as u64
}

#[test]
fn table_numbering_and_protos() {
    assert_eq!(helpers::all_helpers().len(), 212);
    for (i, h) in helpers::all_helpers().iter().enumerate() {
        assert_eq!(h.id as usize, i, "table is indexed by id");
    }
    assert_eq!(helper(1).unwrap().name, "map_lookup_elem");
    assert_eq!(helper(12).unwrap().name, "tail_call");
    assert!(helper(12).unwrap().imp.is_none(), "engines implement tail calls");
    assert_eq!(helper(125).unwrap().name, "ktime_get_boot_ns");
    assert_eq!(helper(130).unwrap().name, "ringbuf_output");
    assert_eq!(helper(133).unwrap().name, "ringbuf_discard");
    assert_eq!(helper(209).unwrap().name, "user_ringbuf_drain");
    assert_eq!(helper(211).unwrap().name, "cgrp_storage_delete");
    assert!(helper(212).is_none());
    assert_eq!(helper_by_name("bpf_trace_printk").unwrap().id, 6);
    assert_eq!(helper_by_name("get_current_comm").unwrap().id, 16);
    assert!(helper_by_name("unspec").is_none());
    let lookup = helper(1).unwrap().proto.unwrap();
    assert_eq!(lookup.ret, RetType::PtrToMapValueOrNull);
    assert_eq!(lookup.args, &[ArgType::ConstMapPtr, ArgType::PtrToMapKey]);
    let reserve = helper_by_name("ringbuf_reserve").unwrap().proto.unwrap();
    assert_eq!(reserve.ret, RetType::PtrToRingbufMemOrNull);
    assert_eq!(reserve.args[1], ArgType::ConstAllocSizeOrZero);
    assert!(helper(6).unwrap().proto.unwrap().gpl_only);
    // Every implemented helper has a prototype (the verifier needs one).
    for h in helpers::all_helpers().iter().filter(|h| h.imp.is_some()) {
        assert!(h.proto.is_some(), "{} has an implementation but no prototype", h.name);
    }
    // Cross-check the names against the installed UAPI header, when present.
    if let Ok(hdr) = std::fs::read_to_string("/usr/include/linux/bpf.h") {
        for h in helpers::all_helpers().iter().filter(|h| h.id <= 209) {
            assert!(hdr.contains(&format!("FN({}", h.name)), "{} not in bpf.h", h.name);
        }
    }
}

#[test]
fn map_helpers_lookup_update_delete() {
    let hash = Map::new(&def(MapType::Hash, 4, 8, 2), 2).unwrap();
    let arr = Map::new(&def(MapType::PercpuArray, 4, 8, 2), 2).unwrap();
    let mut env = Mock::new(vec![hash, arr]);
    let key = env.put(0, &7u32.to_le_bytes());
    let val = env.put(8, &0x1122u64.to_le_bytes());
    assert_eq!(call(&mut env, 1, [MAP_REF, key, 0, 0, 0]).unwrap(), 0, "absent → NULL");
    assert_eq!(call(&mut env, 2, [MAP_REF, key, val, 2, 0]).unwrap(), neg(libc::ENOENT));
    assert_eq!(call(&mut env, 2, [MAP_REF, key, val, 0, 0]).unwrap(), 0);
    assert_eq!(call(&mut env, 2, [MAP_REF, key, val, 1, 0]).unwrap(), neg(libc::EEXIST));
    let p = call(&mut env, 1, [MAP_REF, key, 0, 0, 0]).unwrap();
    assert_ne!(p, 0);
    assert_eq!(env.read(p, 8).unwrap(), 0x1122u64.to_le_bytes());
    // Store through the pointer, then see it from user space.
    env.write(p, &5u64.to_le_bytes()).unwrap();
    assert_eq!(env.maps[0].user_lookup(&7u32.to_le_bytes()).unwrap(), 5u64.to_le_bytes());
    assert_eq!(call(&mut env, 3, [MAP_REF, key, 0, 0, 0]).unwrap(), 0);
    assert_eq!(call(&mut env, 3, [MAP_REF, key, 0, 0, 0]).unwrap(), neg(libc::ENOENT));
    // Per-CPU array: the helper writes the current CPU's (1) copy; delete is -EINVAL.
    let k1 = env.put(16, &1u32.to_le_bytes());
    assert_eq!(call(&mut env, 2, [MAP_REF + 1, k1, val, 0, 0]).unwrap(), 0);
    let v = env.maps[1].user_lookup(&1u32.to_le_bytes()).unwrap();
    assert_eq!(&v[..8], &[0; 8]);
    assert_eq!(&v[8..], &0x1122u64.to_le_bytes());
    assert_eq!(call(&mut env, 3, [MAP_REF + 1, k1, 0, 0, 0]).unwrap(), neg(libc::EINVAL));
    // Faults: bad map reference, unreadable key.
    assert_eq!(call(&mut env, 1, [MAP_REF + 9, key, 0, 0, 0]), Err(HelperFault::BadMap(MAP_REF + 9)));
    assert!(matches!(call(&mut env, 1, [MAP_REF, 8, 0, 0, 0]), Err(HelperFault::BadAccess { .. })));
    assert_eq!(call(&mut env, 12, [0; 5]), Err(HelperFault::Unimplemented(12)));
}

fn printk(env: &mut Mock, fmt: &[u8], args: [u64; 3]) -> u64 {
    let p = env.put(256, fmt);
    call(env, 6, [p, fmt.len() as u64, args[0], args[1], args[2]]).unwrap()
}

#[test]
fn trace_printk_formats_like_the_kernel() {
    let mut env = Mock::new(vec![]);
    let s = env.put(200, b"str\0");
    let cases: &[(&[u8], [u64; 3], &str)] = &[
        (b"x=%d y=%u\n\0", [-5i64 as u64, 7, 0], "x=-5 y=7\n"),
        (b"%d\0", [0xffff_ffff, 0, 0], "-1"),
        (b"%ld %lld\0", [-5i64 as u64, u64::MAX, 0], "-5 -1"),
        (b"%lu %llx %x\0", [u64::MAX, 0xabc, 0x1_0000_00ff], "18446744073709551615 abc ff"),
        (b"%X|%+d|% d\0", [0xff, 3, 4], "FF|+3| 4"),
        (b"%5d|%-4u|%04x\0", [42, 7, 0xa], "   42|7   |000a"),
        (b"%05d\0", [-42i64 as u64, 0, 0], "-0042"),
        (b"%c%c\0", [b'o' as u64, b'k' as u64, 0], "ok"),
        (b"[%s]\0", [s, 0, 0], "[str]"),
        (b"[%s]\0", [0xdead, 0, 0], "[]"),
        (b"100%%\0", [0, 0, 0], "100%"),
        (b"%px\0", [0xffff_8880_1234_5678, 0, 0], "ffff888012345678"),
        (b"%i after nul\0ignored %d\0", [1, 0, 0], "1 after nul"),
    ];
    for (fmt, args, want) in cases {
        let r = printk(&mut env, fmt, *args);
        assert_eq!(env.trace.last().map(String::as_str), Some(*want), "format {:?}", String::from_utf8_lossy(fmt));
        assert_eq!(r, want.len() as u64);
    }
    // %c copies one raw byte: the count is in bytes even when the trace shows a replacement.
    assert_eq!(printk(&mut env, b"%c\0", [0xe9, 0, 0]), 1);
    assert_eq!(env.trace.last().unwrap(), "\u{fffd}");
    let ip = env.put(220, &[10, 0, 0, 1]);
    printk(&mut env, b"%pI4 %pi4\0", [ip, ip, 0]);
    assert_eq!(env.trace.last().unwrap(), "10.0.0.1 010.000.000.001");
}

#[test]
fn trace_printk_rejects_what_the_kernel_rejects() {
    let mut env = Mock::new(vec![]);
    let rejected: &[&[u8]] = &[
        b"no nul",
        b"%d %d %d %d\0",
        b"%f\0",
        b"%hd\0",
        b"%.2d\0",
        b"%lf\0",
        b"%pZ\0",
        b"%sx\0",
        b"%\0",
        b"tab\x01\0",
        b"caf\xc3\xa9\0",
    ];
    for fmt in rejected {
        let before = env.trace.len();
        assert_eq!(printk(&mut env, fmt, [1, 2, 3]), neg(libc::EINVAL), "{:?}", String::from_utf8_lossy(fmt));
        assert_eq!(env.trace.len(), before, "nothing traced");
    }
    // fmt_size 0 is rejected too.
    assert_eq!(call(&mut env, 6, [STACK, 0, 0, 0, 0]).unwrap(), neg(libc::EINVAL));
}

#[test]
fn prandom_is_reproducible_and_simple_helpers() {
    let mut a = Mock::new(vec![]);
    let mut b = Mock::new(vec![]);
    let xs: Vec<u64> = (0..5).map(|_| call(&mut a, 7, [0; 5]).unwrap()).collect();
    let ys: Vec<u64> = (0..5).map(|_| call(&mut b, 7, [0; 5]).unwrap()).collect();
    assert_eq!(xs, ys);
    assert!(xs.windows(2).any(|w| w[0] != w[1]));
    assert!(xs.iter().all(|&x| x <= u32::MAX as u64));
    assert_eq!(call(&mut a, 5, [0; 5]).unwrap(), 1_000);
    assert_eq!(call(&mut a, 125, [0; 5]).unwrap(), 2_000);
    assert_eq!(call(&mut a, 8, [0; 5]).unwrap(), 1);
    assert_eq!(call(&mut a, 14, [0; 5]).unwrap(), (100 << 32) | 101);
    assert_eq!(call(&mut a, 15, [0; 5]).unwrap(), (1000 << 32) | 1001);
    // get_current_comm: strscpy_pad semantics.
    a.stack[0..16].fill(0xff);
    assert_eq!(call(&mut a, 16, [STACK, 16, 0, 0, 0]).unwrap(), 0);
    assert_eq!(&a.stack[..16], b"ebpf-lab\0\0\0\0\0\0\0\0");
    a.stack[0..8].fill(0xff);
    call(&mut a, 16, [STACK, 4, 0, 0, 0]).unwrap();
    assert_eq!(&a.stack[..5], b"ebp\0\xff", "size-1 characters, then NUL; nothing past size");
}

#[test]
fn ringbuf_helpers() {
    let rb = Map::new(&def(MapType::Ringbuf, 0, 0, 4096), 1).unwrap();
    let hash = Map::new(&def(MapType::Hash, 4, 4, 1), 1).unwrap();
    let mut env = Mock::new(vec![rb, hash]);
    let p = call(&mut env, 131, [MAP_REF, 16, 0, 0, 0]).unwrap();
    assert_ne!(p, 0);
    env.write(p, b"0123456789abcdef").unwrap();
    let q = call(&mut env, 131, [MAP_REF, 4, 0, 0, 0]).unwrap();
    assert_eq!(call(&mut env, 133, [q, 0, 0, 0, 0]).unwrap(), 0, "discard");
    assert_eq!(call(&mut env, 132, [p, 0, 0, 0, 0]).unwrap(), 0, "submit");
    assert_eq!(call(&mut env, 132, [p, 0, 0, 0, 0]), Err(HelperFault::NotRingbufRecord(p)), "double submit");
    let data = env.put(0, b"out!");
    assert_eq!(call(&mut env, 130, [MAP_REF, data, 4, 0, 0]).unwrap(), 0);
    assert_eq!(call(&mut env, 130, [MAP_REF, data, 4, 8, 0]).unwrap(), neg(libc::EINVAL));
    assert_eq!(call(&mut env, 130, [MAP_REF, data, u64::MAX, 0, 0]).unwrap(), neg(libc::EAGAIN), "cannot fit");
    assert_eq!(call(&mut env, 131, [MAP_REF, 5000, 0, 0, 0]).unwrap(), 0, "too big → NULL");
    assert_eq!(call(&mut env, 134, [MAP_REF, 1, 0, 0, 0]).unwrap(), 4096);
    assert_eq!(env.maps[0].ringbuf().unwrap().records(), vec![b"0123456789abcdef".to_vec(), b"out!".to_vec()]);
    assert!(matches!(call(&mut env, 131, [MAP_REF + 1, 8, 0, 0, 0]), Err(HelperFault::WrongMapType { .. })));
    assert!(matches!(call(&mut env, 1, [MAP_REF, STACK, 0, 0, 0]), Err(HelperFault::WrongMapType { .. })));
}

mod random_formats {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Any format bytes: no panic; either -EINVAL with nothing traced, or the message traced
        /// and its length returned.
        #[test]
        fn trace_printk_never_panics(
            fmt in proptest::collection::vec(
                prop_oneof![Just(b'%'), Just(b'l'), Just(b'd'), Just(b's'), Just(b'p'), Just(b'0'),
                            Just(b'9'), Just(b'-'), Just(b'I'), Just(b'4'), Just(0u8), any::<u8>()], 0..24),
            args in proptest::array::uniform3(any::<u64>()),
        ) {
            let mut env = Mock::new(vec![]);
            let p = env.put(256, &fmt);
            let r = call(&mut env, 6, [p, fmt.len() as u64, args[0], args[1], args[2]]).unwrap();
            if r == neg(libc::EINVAL) {
                prop_assert!(env.trace.is_empty());
            } else {
                prop_assert_eq!(env.trace.len(), 1);
                // The trace shows the bytes lossily as text; the count is of raw bytes.
                prop_assert!(env.trace[0].chars().count() as u64 <= r);
            }
        }
    }
}
