//! Tests of the raw bpf(2) layer against the running kernel.
//!
//! Every test first asks `require_or_skip`: without bpf(2) (no root, no
//! CAP_BPF, seccomp) it prints one `skipping:` line and passes, unless
//! `EBPF_LAB_REQUIRE_KERNEL=1` makes it fail instead.

use ebpf_lab::kernel::sys::{log_level, map_type, prog_flags, prog_type, update_flags};
use ebpf_lab::kernel::{
    map_create, map_delete, map_get_next_key, map_lookup, map_update, possible_cpus, prog_info, prog_load,
    prog_test_run, require_or_skip, Command, KernelError, LoadedProg, MapFd, ProgLoad, TestRun, ENOTSUPP,
};

fn kernel_or_skip(test: &str) -> bool {
    require_or_skip(test)
}

/// Encode one instruction: opcode, dst | src << 4, off (i16 LE), imm (i32 LE).
fn insn(op: u8, dst: u8, src: u8, off: i16, imm: i32) -> [u8; 8] {
    let o = off.to_le_bytes();
    let i = imm.to_le_bytes();
    [op, dst | (src << 4), o[0], o[1], i[0], i[1], i[2], i[3]]
}

fn mov64_imm(dst: u8, imm: i32) -> [u8; 8] {
    insn(0xb7, dst, 0, 0, imm)
}

fn exit() -> [u8; 8] {
    insn(0x95, 0, 0, 0, 0)
}

fn prog(insns: &[[u8; 8]]) -> Vec<u8> {
    insns.concat()
}

fn load(ty: u32, code: &[u8]) -> Result<LoadedProg, KernelError> {
    prog_load(&ProgLoad { prog_type: ty, insns: code, name: "kernel_sys_test", ..ProgLoad::default() })
}

fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd").expect("read /proc/self/fd").count()
}

#[test]
fn hand_encoded_words_match_the_documented_bytes() {
    assert_eq!(mov64_imm(0, 42), [0xb7, 0, 0, 0, 0x2a, 0, 0, 0]);
    assert_eq!(exit(), [0x95, 0, 0, 0, 0, 0, 0, 0]);
}

#[test]
fn socket_filter_returns_42() {
    if !kernel_or_skip("socket_filter_returns_42") {
        return;
    }
    let code = prog(&[mov64_imm(0, 42), exit()]);
    let p = load(prog_type::SOCKET_FILTER, &code).expect("load r0 = 42");
    assert!(p.log.is_empty(), "no log requested");
    let packet = [0u8; 64];
    let r =
        prog_test_run(&p.fd, &TestRun { data_in: Some(&packet), repeat: 3, ..TestRun::default() }).expect("test_run");
    assert_eq!(r.retval, 42);
    assert!(r.data_out.is_empty() && r.ctx_out.is_empty());
}

#[test]
fn verifier_rejection_carries_the_log() {
    if !kernel_or_skip("verifier_rejection_carries_the_log") {
        return;
    }
    let code = prog(&[exit()]);
    // With log_level 0 the library refetches the log at level 1.
    for level in [log_level::NONE, log_level::LEVEL1, log_level::LEVEL2] {
        let e = prog_load(&ProgLoad {
            prog_type: prog_type::SOCKET_FILTER,
            insns: &code,
            log_level: level,
            ..ProgLoad::default()
        })
        .expect_err("exit without r0 must be rejected");
        assert_eq!(e.cmd(), Command::ProgLoad);
        assert_eq!(e.errno(), libc::EACCES, "{e}");
        assert!(!e.is_local());
        let log = e.log().expect("verifier log attached");
        assert!(log.contains("R0 !read_ok"), "level {level}: {log}");
        let shown = e.to_string();
        assert!(shown.contains("EACCES") && shown.contains("verifier rejected"));
        assert!(shown.contains("R0 !read_ok"), "{shown}");
    }
}

#[test]
fn log_levels_and_test_flags() {
    if !kernel_or_skip("log_levels_and_test_flags") {
        return;
    }
    let code = prog(&[mov64_imm(0, 1), exit()]);
    let with = |level: u32, flags: u32| {
        prog_load(&ProgLoad {
            prog_type: prog_type::SOCKET_FILTER,
            insns: &code,
            log_level: level,
            prog_flags: flags,
            ..ProgLoad::default()
        })
    };
    let stats = with(log_level::STATS, 0).expect("stats load");
    assert!(stats.log.contains("processed 2 insns"), "{}", stats.log);
    let verbose = with(log_level::LEVEL2, prog_flags::TEST_STATE_FREQ).expect("level 2 load");
    assert!(verbose.log.contains("r0 = 1"), "{}", verbose.log);
    assert!(verbose.log.len() > stats.log.len());
    // Sleepable socket filters do not exist: EINVAL with an explanation.
    let e = with(log_level::LEVEL1, prog_flags::SLEEPABLE).expect_err("sleepable filter");
    assert_eq!(e.errno(), libc::EINVAL, "{e:#}");
    assert!(e.log().is_some_and(|l| l.contains("sleepable")), "{e:#}");
}

#[test]
fn tiny_log_buffer_is_grown_and_retried() {
    if !kernel_or_skip("tiny_log_buffer_is_grown_and_retried") {
        return;
    }
    // 200 moves produce a level-2 log far larger than 128 bytes.
    let mut words: Vec<[u8; 8]> = (0..200).map(|i| mov64_imm(0, i)).collect();
    words.push(exit());
    let code = prog(&words);
    let p = prog_load(&ProgLoad {
        prog_type: prog_type::SOCKET_FILTER,
        insns: &code,
        log_level: log_level::LEVEL2,
        initial_log_size: 128,
        ..ProgLoad::default()
    })
    .expect("load retried with bigger log");
    assert!(p.log.len() > 4096, "log only {} bytes", p.log.len());
    // The whole log, not just its tail: first and last instructions.
    assert!(p.log.contains("0: (b7) r0 = 0"), "{}", &p.log[..200]);
    assert!(p.log.contains("processed 201 insns"), "{}", p.log);
    // A failing program's log also survives the retry.
    let mut bad: Vec<[u8; 8]> = (0..200).map(|i| mov64_imm(1, i)).collect();
    bad.push(exit());
    let e = prog_load(&ProgLoad {
        prog_type: prog_type::SOCKET_FILTER,
        insns: &prog(&bad),
        log_level: log_level::LEVEL2,
        initial_log_size: 128,
        ..ProgLoad::default()
    })
    .expect_err("r0 never set");
    assert_eq!(e.errno(), libc::EACCES, "{e}");
    let log = e.log().unwrap();
    assert!(log.contains("0: (b7) r1 = 0") && log.contains("R0 !read_ok"));
}

#[test]
fn hash_map_round_trip() {
    if !kernel_or_skip("hash_map_round_trip") {
        return;
    }
    let m = map_create(map_type::HASH, 4, 8, 16, 0, "ks_hash").expect("create hash");
    assert_eq!((m.key_size(), m.value_size(), m.max_entries()), (4, 8, 16));
    let mut v = [0u8; 8];
    assert!(!map_lookup(&m, &7u32.to_le_bytes(), &mut v).unwrap());

    for k in [1u32, 2, 3] {
        let val = u64::from(k * 100).to_le_bytes();
        map_update(&m, &k.to_le_bytes(), &val, update_flags::ANY).unwrap();
    }
    assert!(map_lookup(&m, &2u32.to_le_bytes(), &mut v).unwrap());
    assert_eq!(u64::from_le_bytes(v), 200);

    let e = map_update(&m, &2u32.to_le_bytes(), &v, update_flags::NOEXIST).unwrap_err();
    assert_eq!((e.cmd(), e.errno()), (Command::MapUpdateElem, libc::EEXIST));
    assert!(e.to_string().contains("BPF_NOEXIST"), "{e}");
    let e = map_update(&m, &9u32.to_le_bytes(), &v, update_flags::EXIST).unwrap_err();
    assert_eq!(e.errno(), libc::ENOENT);
    assert!(e.to_string().contains("BPF_EXIST"), "{e}");
    map_update(&m, &2u32.to_le_bytes(), &5u64.to_le_bytes(), update_flags::EXIST).unwrap();
    assert!(map_lookup(&m, &2u32.to_le_bytes(), &mut v).unwrap());
    assert_eq!(u64::from_le_bytes(v), 5);

    let mut keys = Vec::new();
    let mut cur: Option<[u8; 4]> = None;
    let mut next = [0u8; 4];
    while map_get_next_key(&m, cur.as_ref().map(|k| &k[..]), &mut next).unwrap() {
        keys.push(u32::from_le_bytes(next));
        cur = Some(next);
        assert!(keys.len() <= 3, "iteration does not end: {keys:?}");
    }
    keys.sort_unstable();
    assert_eq!(keys, [1, 2, 3]);

    assert!(map_delete(&m, &1u32.to_le_bytes()).unwrap());
    assert!(!map_delete(&m, &1u32.to_le_bytes()).unwrap());
    assert!(!map_lookup(&m, &1u32.to_le_bytes(), &mut v).unwrap());
}

#[test]
fn hash_map_full_is_e2big() {
    if !kernel_or_skip("hash_map_full_is_e2big") {
        return;
    }
    let m = map_create(map_type::HASH, 4, 4, 2, 0, "ks_full").unwrap();
    map_update(&m, &[1, 0, 0, 0], &[0; 4], update_flags::ANY).unwrap();
    map_update(&m, &[2, 0, 0, 0], &[0; 4], update_flags::ANY).unwrap();
    let e = map_update(&m, &[3, 0, 0, 0], &[0; 4], update_flags::ANY).unwrap_err();
    assert_eq!(e.errno(), libc::E2BIG, "{e}");
}

#[test]
fn array_map_round_trip() {
    if !kernel_or_skip("array_map_round_trip") {
        return;
    }
    let m = map_create(map_type::ARRAY, 4, 8, 4, 0, "ks_array").expect("create array");
    let mut v = [0xffu8; 8];
    // Array slots always exist and start zeroed.
    assert!(map_lookup(&m, &0u32.to_le_bytes(), &mut v).unwrap());
    assert_eq!(v, [0; 8]);
    assert!(!map_lookup(&m, &4u32.to_le_bytes(), &mut v).unwrap());

    map_update(&m, &3u32.to_le_bytes(), &9u64.to_le_bytes(), update_flags::EXIST).unwrap();
    assert!(map_lookup(&m, &3u32.to_le_bytes(), &mut v).unwrap());
    assert_eq!(u64::from_le_bytes(v), 9);

    let e = map_update(&m, &1u32.to_le_bytes(), &v, update_flags::NOEXIST).unwrap_err();
    assert_eq!(e.errno(), libc::EEXIST);
    let e = map_update(&m, &10u32.to_le_bytes(), &v, update_flags::ANY).unwrap_err();
    assert_eq!(e.errno(), libc::E2BIG, "{e}");

    let e = map_delete(&m, &0u32.to_le_bytes()).unwrap_err();
    assert_eq!((e.cmd(), e.errno()), (Command::MapDeleteElem, libc::EINVAL));
    assert!(e.to_string().contains("does not support deleting"), "{e}");

    let mut keys = Vec::new();
    let mut next = [0u8; 4];
    let mut cur: Option<[u8; 4]> = None;
    while map_get_next_key(&m, cur.as_ref().map(|k| &k[..]), &mut next).unwrap() {
        keys.push(u32::from_le_bytes(next));
        cur = Some(next);
        assert!(keys.len() <= 4);
    }
    assert_eq!(keys, [0, 1, 2, 3]);
}

#[test]
fn percpu_values_span_possible_cpus() {
    if !kernel_or_skip("percpu_values_span_possible_cpus") {
        return;
    }
    let m = map_create(map_type::PERCPU_ARRAY, 4, 4, 1, 0, "ks_percpu").unwrap();
    let cpus = possible_cpus();
    assert_eq!(m.user_value_size(), 8 * cpus);
    let mut val = vec![0u8; 8 * cpus];
    for (cpu, slot) in val.chunks_mut(8).enumerate() {
        slot[..4].copy_from_slice(&(cpu as u32 + 1).to_le_bytes());
    }
    map_update(&m, &[0; 4], &val, update_flags::ANY).unwrap();
    let mut back = vec![0u8; 8 * cpus];
    assert!(map_lookup(&m, &[0; 4], &mut back).unwrap());
    assert_eq!(back, val);
    // A kernel-sized (not per-CPU) buffer is refused before the syscall.
    let e = map_lookup(&m, &[0; 4], &mut [0u8; 4]).unwrap_err();
    assert!(e.is_local());
}

#[test]
fn wrong_buffer_sizes_are_refused_locally() {
    if !kernel_or_skip("wrong_buffer_sizes_are_refused_locally") {
        return;
    }
    let m = map_create(map_type::HASH, 8, 16, 4, 0, "ks_sizes").unwrap();
    let e = map_lookup(&m, &[0; 4], &mut [0; 16]).unwrap_err();
    assert!(e.is_local() && e.errno() == libc::EINVAL);
    assert!(e.to_string().contains("key is 4 bytes"), "{e}");
    assert!(map_update(&m, &[0; 8], &[0; 15], 0).unwrap_err().is_local());
    assert!(map_delete(&m, &[0; 9]).unwrap_err().is_local());
    assert!(map_get_next_key(&m, None, &mut [0; 4]).unwrap_err().is_local());
    // Bad map attributes come back from the kernel as EINVAL.
    let e = map_create(map_type::ARRAY, 8, 4, 4, 0, "bad_key").unwrap_err();
    assert_eq!((e.cmd(), e.errno()), (Command::MapCreate, libc::EINVAL));
    assert!(!e.is_local());
}

#[test]
fn map_fd_can_be_adopted_and_cloned() {
    if !kernel_or_skip("map_fd_can_be_adopted_and_cloned") {
        return;
    }
    let m = map_create(map_type::LRU_HASH, 4, 12, 8, 0, "ks_adopt").unwrap();
    map_update(&m, &[1; 4], &[7; 12], 0).unwrap();
    let dup = m.try_clone().unwrap();
    let adopted = MapFd::from_owned_fd(dup.into_owned_fd()).unwrap();
    assert_eq!(adopted.map_type(), map_type::LRU_HASH);
    assert_eq!((adopted.key_size(), adopted.value_size()), (4, 12));
    assert_eq!(adopted.max_entries(), 8);
    let mut v = [0u8; 12];
    assert!(map_lookup(&adopted, &[1; 4], &mut v).unwrap());
    assert_eq!(v, [7; 12]);
    // Neither a plain file nor a program fd can pass for a map.
    let file = std::fs::File::open("/proc/self/stat").unwrap();
    let e = MapFd::from_owned_fd(file.into()).unwrap_err();
    assert_eq!(e.cmd(), Command::ObjGetInfoByFd);
    let code = prog(&[mov64_imm(0, 0), exit()]);
    let p = load(prog_type::SOCKET_FILTER, &code).unwrap();
    let e = MapFd::from_owned_fd(p.fd.into_owned_fd()).unwrap_err();
    assert_eq!(e.cmd(), Command::ObjGetInfoByFd, "{e}");
}

#[test]
fn xdp_test_run_with_data_in_and_out() {
    if !kernel_or_skip("xdp_test_run_with_data_in_and_out") {
        return;
    }
    // r2 = ctx->data; r3 = ctx->data_end; if r2 + 1 <= r3: *(u8 *)r2 = 0xab;
    // return XDP_PASS (2).
    let code = prog(&[
        insn(0x61, 2, 1, 0, 0),    // r2 = *(u32 *)(r1 + 0)
        insn(0x61, 3, 1, 4, 0),    // r3 = *(u32 *)(r1 + 4)
        insn(0xbf, 4, 2, 0, 0),    // r4 = r2
        insn(0x07, 4, 0, 0, 1),    // r4 += 1
        insn(0x2d, 4, 3, 1, 0),    // if r4 > r3 goto +1
        insn(0x72, 2, 0, 0, 0xab), // *(u8 *)(r2 + 0) = 0xab
        mov64_imm(0, 2),
        exit(),
    ]);
    let p = load(prog_type::XDP, &code).expect("load xdp");
    let packet: Vec<u8> = (0..64u8).collect();
    let r = prog_test_run(&p.fd, &TestRun { data_in: Some(&packet), data_out_size: 1500, ..TestRun::default() })
        .expect("xdp test_run");
    assert_eq!(r.retval, 2);
    assert_eq!(r.data_out.len(), 64, "truncated to the reported size");
    assert_eq!(r.data_out[0], 0xab);
    assert_eq!(&r.data_out[1..], &packet[1..]);

    // An output buffer that is too small: ENOSPC with the needed size.
    let e =
        prog_test_run(&p.fd, &TestRun { data_in: Some(&packet), data_out_size: 8, ..TestRun::default() }).unwrap_err();
    assert_eq!(e.errno(), libc::ENOSPC, "{e}");
    assert!(e.detail().unwrap().contains("64 data bytes"), "{e}");

    // Too little input for an Ethernet frame: EINVAL.
    let e = prog_test_run(&p.fd, &TestRun { data_in: Some(&packet[..4]), ..TestRun::default() }).unwrap_err();
    assert_eq!(e.errno(), libc::EINVAL, "{e}");
}

#[test]
fn test_run_without_runner_is_enotsupp() {
    if !kernel_or_skip("test_run_without_runner_is_enotsupp") {
        return;
    }
    let code = prog(&[mov64_imm(0, 0), exit()]);
    let p = load(prog_type::KPROBE, &code).expect("load kprobe");
    let e = prog_test_run(&p.fd, &TestRun::default()).unwrap_err();
    assert_eq!(e.errno(), ENOTSUPP, "{e}");
    assert!(e.to_string().contains("not supported by the kernel for this program type"), "{e}");
}

#[test]
fn prog_info_has_xlated_and_jited_images() {
    if !kernel_or_skip("prog_info_has_xlated_and_jited_images") {
        return;
    }
    let code = prog(&[mov64_imm(0, 42), exit()]);
    let p = prog_load(&ProgLoad {
        prog_type: prog_type::SOCKET_FILTER,
        insns: &code,
        name: "ks_info",
        ..ProgLoad::default()
    })
    .unwrap();
    let info = prog_info(&p.fd).expect("prog_info");
    assert_eq!(info.prog_type, prog_type::SOCKET_FILTER);
    assert_eq!(info.name, "ks_info");
    assert!(info.id > 0);
    assert_ne!(info.tag, [0; 8]);
    assert_eq!(info.xlated.len(), 2 * 8);
    assert_eq!(info.xlated, code, "nothing to rewrite in r0 = 42; exit");
    assert_eq!(info.verified_insns, 2);
    let jit_on = std::fs::read_to_string("/proc/sys/net/core/bpf_jit_enable").map(|s| s.trim() != "0").unwrap_or(false);
    if jit_on {
        assert!(!info.jited.is_empty(), "JIT enabled but no image");
    }
    // The same bytes give the same tag.
    let again = load(prog_type::SOCKET_FILTER, &code).unwrap();
    assert_eq!(prog_info(&again.fd).unwrap().tag, info.tag);
}

#[test]
fn no_fd_leak_over_10000_loads() {
    if !kernel_or_skip("no_fd_leak_over_10000_loads") {
        return;
    }
    let code = prog(&[mov64_imm(0, 1), exit()]);
    let bad = prog(&[exit()]);
    let before = fd_count();
    for i in 0..10_000 {
        let p = load(prog_type::SOCKET_FILTER, &code).expect("load");
        drop(p);
        if i % 1000 == 0 {
            // Failing loads (with the log refetch) must not leak either.
            assert!(load(prog_type::SOCKET_FILTER, &bad).is_err());
            let m = map_create(map_type::HASH, 4, 4, 1, 0, "ks_leak").unwrap();
            drop(m);
        }
    }
    let after = fd_count();
    assert!(after < before + 16, "fd count grew from {before} to {after}");
}

#[test]
fn socket_filter_ctx_in_and_out() {
    if !kernel_or_skip("socket_filter_ctx_in_and_out") {
        return;
    }
    // r0 = skb->mark; skb->cb[0] = 99; exit. `struct __sk_buff` is 192
    // bytes, `mark` at offset 8 (read-only for socket filters), `cb[0]`
    // at 48 (writable); test_run takes both from ctx_in.
    let code = prog(&[
        insn(0x61, 0, 1, 8, 0),   // r0 = *(u32 *)(r1 + 8)
        insn(0x62, 1, 0, 48, 99), // *(u32 *)(r1 + 48) = 99
        exit(),
    ]);
    let p = load(prog_type::SOCKET_FILTER, &code).expect("load");
    let mut ctx = [0u8; 192];
    ctx[8..12].copy_from_slice(&7u32.to_le_bytes());
    let packet = [0u8; 64];
    let r = prog_test_run(
        &p.fd,
        &TestRun { data_in: Some(&packet), ctx_in: Some(&ctx), ctx_out_size: 4096, ..TestRun::default() },
    )
    .expect("test_run with ctx");
    assert_eq!(r.retval, 7);
    assert_eq!(r.ctx_out.len(), 192, "truncated to the reported ctx size");
    assert_eq!(&r.ctx_out[8..12], &7u32.to_le_bytes());
    assert_eq!(&r.ctx_out[48..52], &99u32.to_le_bytes());
}
