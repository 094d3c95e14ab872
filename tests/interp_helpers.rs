//! Every helper the interpreter implements, called from real programs: return values (including
//! the kernel's negative errnos), effects on maps, ring buffers and the trace output — and, where
//! the kernel can run the same bytecode, the same answers from the kernel.
//!
//! Programs are `.prog syscall` where they are cross-checked: SYSCALL programs may call every
//! helper used here (map, time, random, CPU, trace_printk and ring buffer helpers).

mod interp_common;
use ebpf_lab::interp::{ErrorKind, Input, RunOptions, Vm};
use ebpf_lab::kernel;
use interp_common::{both, llvm, run_ok, run_with, stack_string};

fn syscall_input() -> Input {
    Input::Syscall(vec![0; 8])
}

/// `bpf_map_update_elem(map, &key, &value, flags)` with the key at `r10 - 4` and the value at
/// `r10 - 16`; r0 holds the result.
fn update(map: &str, key: u32, value: u64, flags: u64) -> String {
    format!(
        "*(u32 *)(r10 - 4) = {key}
r9 = {value:#x} ll
*(u64 *)(r10 - 16) = r9
r1 = map({map}) ll
r2 = r10
r2 += -4
r3 = r10
r3 += -16
r4 = {flags}
call bpf_map_update_elem
"
    )
}

/// `bpf_map_delete_elem(map, &key)`.
fn delete(map: &str, key: u32) -> String {
    format!("*(u32 *)(r10 - 4) = {key}\nr1 = map({map}) ll\nr2 = r10\nr2 += -4\ncall bpf_map_delete_elem\n")
}

/// `bpf_map_lookup_elem(map, &key)`.
fn lookup(map: &str, key: u32) -> String {
    format!("*(u32 *)(r10 - 4) = {key}\nr1 = map({map}) ll\nr2 = r10\nr2 += -4\ncall bpf_map_lookup_elem\n")
}

const MAPS: &str = ".prog syscall
.map h hash key=4 value=8 max=2
.map a array key=4 value=8 max=4
";

/// (what, program body, r0 the kernel gives).
fn map_helper_cases() -> Vec<(&'static str, String, i64)> {
    vec![
        ("hash: insert", update("h", 1, 5, 0), 0),
        ("hash: BPF_NOEXIST on an existing key", update("h", 1, 5, 0) + &update("h", 1, 6, 1), -17),
        ("hash: BPF_EXIST on a missing key", update("h", 1, 5, 2), -2),
        ("hash: delete a missing key", delete("h", 9), -2),
        ("hash: delete a present key", update("h", 1, 5, 0) + &delete("h", 1), 0),
        ("hash: insert into a full map", update("h", 1, 5, 0) + &update("h", 2, 5, 0) + &update("h", 3, 5, 0), -7),
        ("hash: replace in a full map", update("h", 1, 5, 0) + &update("h", 2, 5, 0) + &update("h", 1, 6, 0), 0),
        ("hash: flags above BPF_EXIST", update("h", 1, 5, 3), -22),
        ("hash: BPF_F_LOCK without a spin lock in the value", update("h", 1, 5, 4), -22),
        ("array: delete", delete("a", 0), -22),
        ("array: BPF_NOEXIST", update("a", 0, 5, 1), -17),
        ("array: BPF_EXIST on an index in range", update("a", 3, 5, 2), 0),
        ("array: index out of range", update("a", 4, 5, 0), -7),
        ("array: BPF_F_LOCK without a spin lock in the value", update("a", 0, 5, 4), -22),
        // lookup: r0 becomes 1 when the value pointer is NULL, else the value read through it.
        (
            "hash: lookup a missing key",
            lookup("h", 1) + "if r0 == 0 goto +2\nr0 = *(u64 *)(r0 + 0)\ngoto +1\nr0 = 1\n",
            1,
        ),
        (
            "hash: lookup after update reads the value",
            update("h", 1, 77, 0) + &lookup("h", 1) + "if r0 == 0 goto +2\nr0 = *(u64 *)(r0 + 0)\ngoto +1\nr0 = 1\n",
            77,
        ),
        (
            "hash: lookup after delete is NULL",
            update("h", 1, 77, 0) + &delete("h", 1) + &lookup("h", 1) + "if r0 == 0 goto +2\nr0 = 2\ngoto +1\nr0 = 1\n",
            1,
        ),
        (
            "array: lookup out of range is NULL, in range is zero-filled",
            lookup("a", 4)
                + "if r0 != 0 goto out\n"
                + &lookup("a", 3)
                + "if r0 == 0 goto out\nr0 = *(u64 *)(r0 + 0)\nout:\n",
            0,
        ),
    ]
}

#[test]
fn map_helpers_return_the_kernels_errnos_in_r0() {
    for (what, body, want) in map_helper_cases() {
        let p = llvm(&format!("{MAPS}{body}exit\n"));
        let out = run_ok(&p, &syscall_input());
        assert_eq!(out.r0 as i64, want, "{what}");
    }
}

#[test]
fn map_helper_results_match_the_kernel() {
    if !kernel::require_or_skip("map_helper_results_match_the_kernel") {
        return;
    }
    for (what, body, want) in map_helper_cases() {
        let p = llvm(&format!("{MAPS}{body}exit\n"));
        let (interp, kernel) = both(&p, &syscall_input());
        assert_eq!(kernel.r0 as i64, want, "{what}: the kernel's answer");
        assert_eq!(interp.r0, kernel.r0, "{what}: interpreter and kernel disagree");
    }
}

#[test]
fn map_helpers_leave_the_maps_as_user_space_sees_them() {
    let body = update("h", 1, 10, 0) + &update("h", 2, 20, 0) + &delete("h", 1) + &update("a", 2, 30, 0);
    let p = llvm(&format!("{MAPS}{body}r0 = 0\nexit\n"));
    let mut vm = Vm::new(&p).unwrap();
    assert_eq!(vm.run(&syscall_input()).unwrap().r0, 0);
    let h = vm.map("h").unwrap();
    assert_eq!(h.entries(), vec![(2u32.to_le_bytes().to_vec(), 20u64.to_le_bytes().to_vec())]);
    assert!(h.user_lookup(&1u32.to_le_bytes()).is_err(), "key 1 was deleted");
    let a = vm.map("a").unwrap();
    assert_eq!(a.user_lookup(&2u32.to_le_bytes()).unwrap(), 30u64.to_le_bytes());
    assert_eq!(a.user_lookup(&0u32.to_le_bytes()).unwrap(), [0; 8]);
}

/// r0 = 1 when `ktime_get_ns` is non-zero and monotonic and `ktime_get_boot_ns` is not behind
/// it; otherwise 2, 3 or 4 says which check failed.
const CLOCKS: &str = ".prog syscall
call bpf_ktime_get_ns
r6 = r0
call bpf_ktime_get_boot_ns
r7 = r0
call bpf_ktime_get_ns
r8 = r0
r0 = 2
if r6 == 0 goto out
r0 = 3
if r8 < r6 goto out
r0 = 4
if r7 < r6 goto out
r0 = 1
out:
exit
";

#[test]
fn clocks_are_monotonic_and_boot_time_is_not_behind() {
    assert_eq!(run_ok(&llvm(CLOCKS), &syscall_input()).r0, 1);
    // Strictly increasing in the interpreter (every helper call advances its clock), and
    // reproducible: two fresh VMs read the same time.
    let p = llvm(".prog syscall\ncall bpf_ktime_get_ns\nr6 = r0\ncall bpf_ktime_get_ns\nr0 -= r6\nexit\n");
    assert!(run_ok(&p, &syscall_input()).r0 > 0);
    let p = llvm(".prog syscall\ncall bpf_ktime_get_ns\nexit\n");
    assert_eq!(run_ok(&p, &syscall_input()).r0, run_ok(&p, &syscall_input()).r0);
    let mut vm = Vm::new(&p).unwrap();
    let first = vm.run(&syscall_input()).unwrap().r0;
    assert!(vm.run(&syscall_input()).unwrap().r0 > first, "the clock keeps running across runs");
}

#[test]
fn clocks_behave_the_same_in_the_kernel() {
    if !kernel::require_or_skip("clocks_behave_the_same_in_the_kernel") {
        return;
    }
    let (interp, kernel) = both(&llvm(CLOCKS), &syscall_input());
    assert_eq!((interp.r0, kernel.r0), (1, 1));
}

/// Two random numbers: the first in the high half of r0, the second in the low half.
const TWO_RANDOMS: &str = ".prog syscall
call bpf_get_prandom_u32
r6 = r0
call bpf_get_prandom_u32
r6 <<= 32
r0 |= r6
exit
";

#[test]
fn prandom_is_reproducible_per_seed() {
    let p = llvm(TWO_RANDOMS);
    let with_seed = |seed| run_with(&p, RunOptions { seed, ..RunOptions::default() }, &syscall_input()).unwrap().r0;
    let a = with_seed(1);
    assert_eq!(a, with_seed(1), "same seed, same sequence");
    assert_ne!(a, with_seed(2), "another seed, another sequence");
    assert_ne!(a >> 32, a & 0xffff_ffff, "consecutive calls differ");
    // The sequence continues across runs of one VM.
    let mut vm = Vm::with_options(&p, RunOptions { seed: 1, ..RunOptions::default() }).unwrap();
    assert_eq!(vm.run(&syscall_input()).unwrap().r0, a);
    assert_ne!(vm.run(&syscall_input()).unwrap().r0, a);
}

#[test]
fn prandom_is_a_u32_in_both_engines() {
    let p = llvm(".prog syscall\ncall bpf_get_prandom_u32\nr0 >>= 32\nexit\n");
    for seed in [0, 1, u64::MAX] {
        assert_eq!(run_with(&p, RunOptions { seed, ..RunOptions::default() }, &syscall_input()).unwrap().r0, 0);
    }
    if kernel::require_or_skip("prandom_is_a_u32_in_both_engines") {
        assert_eq!(both(&p, &syscall_input()).1.r0, 0);
    }
}

#[test]
fn smp_processor_id_is_the_configured_cpu() {
    let p = llvm(".prog syscall\ncall bpf_get_smp_processor_id\nexit\n");
    for cpu in [0, 1, 3] {
        let options = RunOptions { cpu, ncpus: 4, ..RunOptions::default() };
        assert_eq!(run_with(&p, options, &syscall_input()).unwrap().r0, cpu as u64);
    }
    if kernel::require_or_skip("smp_processor_id_is_the_configured_cpu") {
        // The kernel backend pins its runs to CPU 0, the interpreter's default.
        let (interp, kernel) = both(&p, &syscall_input());
        assert_eq!((interp.r0, kernel.r0), (0, 0));
    }
}

#[test]
fn current_task_helpers_give_the_interpreters_task() {
    let p = llvm(".prog syscall\ncall bpf_get_current_pid_tgid\nexit\n");
    assert_eq!(run_ok(&p, &syscall_input()).r0, (4242 << 32) | 4242, "tgid 4242, pid 4242");
    let p = llvm(".prog syscall\ncall bpf_get_current_uid_gid\nexit\n");
    assert_eq!(run_ok(&p, &syscall_input()).r0, 0, "root: uid 0, gid 0");
    // comm into a 16-byte buffer pre-filled with 0xff: "ebpf-lab" then NULs, r0 = 0. The program
    // returns the helper's error, or the 8 buffer bytes at `r10 - at`.
    let comm = |size: u32, at: u32| {
        llvm(&format!(
            ".prog syscall
r1 = -1
*(u64 *)(r10 - 16) = r1
*(u64 *)(r10 - 8) = r1
r1 = r10
r1 += -16
r2 = {size}
call bpf_get_current_comm
if r0 != 0 goto out
r0 = *(u64 *)(r10 - {at})
out:
exit
"
        ))
    };
    assert_eq!(run_ok(&comm(16, 16), &syscall_input()).r0.to_le_bytes(), *b"ebpf-lab");
    assert_eq!(run_ok(&comm(16, 8), &syscall_input()).r0, 0, "NUL-padded to the buffer's size");
    // A 4-byte buffer gets "ebp" and a NUL; the rest keeps its 0xff bytes.
    assert_eq!(run_ok(&comm(4, 16), &syscall_input()).r0.to_le_bytes(), [b'e', b'b', b'p', 0, 0xff, 0xff, 0xff, 0xff]);
    assert_eq!(run_ok(&comm(4, 8), &syscall_input()).r0, u64::MAX);
}

/// `bpf_trace_printk(fmt, size, 42, 7, 0)` with `fmt` at `r10 - 32`.
fn printk(fmt: &[u8], size: usize) -> ebpf_lab::program::Program {
    llvm(&format!(
        ".prog syscall\n{}r1 = r10\nr1 += -32\nr2 = {size}\nr3 = 42\nr4 = 7\nr5 = 0\ncall bpf_trace_printk\nexit\n",
        stack_string(fmt, 32)
    ))
}

/// (format with its NUL, size passed, r0 the kernel gives, the trace line).
fn printk_cases() -> Vec<(&'static [u8], usize, i64, Option<&'static str>)> {
    vec![
        (b"x=%d y=%u\n\0", 11, 9, Some("x=42 y=7\n")),
        (b"%x-%03d|\0", 9, 7, Some("2a-007|")),
        (b"%q\n\0", 4, -22, None),
        // The NUL must lie within the size.
        (b"hi\0", 2, -22, None),
        // Four conversions, three arguments at most.
        (b"%d%d%d%d\0", 9, -22, None),
    ]
}

#[test]
fn trace_printk_prints_lines_and_rejects_bad_formats() {
    for (fmt, size, want, line) in printk_cases() {
        let out = run_ok(&printk(fmt, size), &syscall_input());
        let what = String::from_utf8_lossy(fmt);
        assert_eq!(out.r0 as i64, want, "{what:?}");
        assert_eq!(out.trace_lines(), line.map(String::from).into_iter().collect::<Vec<_>>(), "{what:?}");
    }
}

#[test]
fn trace_printk_returns_what_the_kernel_returns() {
    if !kernel::require_or_skip("trace_printk_returns_what_the_kernel_returns") {
        return;
    }
    for (fmt, size, want, _) in printk_cases() {
        let (interp, kernel) = both(&printk(fmt, size), &syscall_input());
        let what = String::from_utf8_lossy(fmt);
        assert_eq!(kernel.r0 as i64, want, "{what:?}: the kernel's answer");
        assert_eq!(interp.r0, kernel.r0, "{what:?}");
    }
}

/// Output one record, reserve-and-submit a second, reserve-and-discard a third; r0 is
/// `bpf_ringbuf_query(BPF_RB_AVAIL_DATA)` (or -1 when a step failed).
const RINGBUF: &str = ".prog syscall
.map rb ringbuf key=0 value=0 max=4096
r9 = 0x1122334455667788 ll
*(u64 *)(r10 - 8) = r9
r1 = map(rb) ll
r2 = r10
r2 += -8
r3 = 8
r4 = 0
call bpf_ringbuf_output
if r0 != 0 goto fail
r1 = map(rb) ll
r2 = 16
r3 = 0
call bpf_ringbuf_reserve
if r0 == 0 goto fail
*(u64 *)(r0 + 0) = 0xaa
*(u64 *)(r0 + 8) = 0xbb
r1 = r0
r2 = 0
call bpf_ringbuf_submit
r1 = map(rb) ll
r2 = 8
r3 = 0
call bpf_ringbuf_reserve
if r0 == 0 goto fail
*(u64 *)(r0 + 0) = 0xcc
r1 = r0
r2 = 0
call bpf_ringbuf_discard
r1 = map(rb) ll
r2 = 0
call bpf_ringbuf_query
exit
fail:
r0 = -1
exit
";

#[test]
fn ringbuf_records_are_visible_after_the_run_and_discards_are_not() {
    let mut vm = Vm::new(&llvm(RINGBUF)).unwrap();
    // 8-byte header + 8, + 8 + 16, + 8 + 8: discarded records still take space until consumed.
    assert_eq!(vm.run(&syscall_input()).unwrap().r0, 56);
    let rb = vm.map_mut("rb").unwrap().ringbuf_mut().expect("a ring buffer");
    let mut second = 0xaau64.to_le_bytes().to_vec();
    second.extend_from_slice(&0xbbu64.to_le_bytes());
    let want = vec![0x1122334455667788u64.to_le_bytes().to_vec(), second];
    assert_eq!(rb.records(), want);
    assert_eq!(rb.consume(), want);
    assert!(rb.records().is_empty());
    assert_eq!(rb.consumer_pos(), 56, "consuming skips the discarded record too");
}

#[test]
fn ringbuf_query_matches_the_kernel() {
    if !kernel::require_or_skip("ringbuf_query_matches_the_kernel") {
        return;
    }
    let (interp, kernel) = both(&llvm(RINGBUF), &syscall_input());
    assert_eq!((interp.r0, kernel.r0), (56, 56));
}

/// Reserves `size` bytes of a 4096-byte ring: r0 = 1 if it got a record (then discarded), else 0.
fn reserve(size: u32) -> ebpf_lab::program::Program {
    llvm(&format!(
        ".prog syscall
.map rb ringbuf key=0 value=0 max=4096
r1 = map(rb) ll
r2 = {size}
r3 = 0
call bpf_ringbuf_reserve
if r0 == 0 goto out
r1 = r0
r2 = 0
call bpf_ringbuf_discard
r0 = 1
out:
exit
"
    ))
}

/// A record takes its size plus an 8-byte header, rounded up to 8, and must stay below the
/// ring's size: 4080 + 8 fits in 4096, 4088 + 8 does not.
const RESERVE_CASES: [(u32, u64); 4] = [(8, 1), (4080, 1), (4088, 0), (8192, 0)];

#[test]
fn ringbuf_reserve_too_big_is_null() {
    for (size, want) in RESERVE_CASES {
        assert_eq!(run_ok(&reserve(size), &syscall_input()).r0, want, "reserve({size})");
    }
}

#[test]
fn ringbuf_reserve_limits_match_the_kernel() {
    if !kernel::require_or_skip("ringbuf_reserve_limits_match_the_kernel") {
        return;
    }
    for (size, want) in RESERVE_CASES {
        let (interp, kernel) = both(&reserve(size), &syscall_input());
        assert_eq!((interp.r0, kernel.r0), (want, want), "reserve({size})");
    }
}

#[test]
fn ringbuf_output_fills_the_ring_then_fails_with_eagain() {
    // 20 outputs of 256 bytes (264 with the header): 15 fit in 4096 bytes (the ring never fills
    // completely), the rest fail with -EAGAIN. r0 = successes | last error << 32.
    let src = ".prog syscall
.map rb ringbuf key=0 value=0 max=4096
r6 = 0
r7 = 0
r8 = 0
loop:
r1 = map(rb) ll
r2 = r10
r2 += -256
r3 = 256
r4 = 0
call bpf_ringbuf_output
if r0 != 0 goto failed
r7 += 1
goto next
failed:
r8 = r0
next:
r6 += 1
if r6 < 20 goto loop
r8 <<= 32
r0 = r7
r0 |= r8
exit
";
    // The buffer comes from the stack, which must be initialised for the kernel.
    let init: String = (1..=32).map(|i| format!("*(u64 *)(r10 - {}) = 0\n", 8 * i)).collect();
    let src = src.replacen("r6 = 0\n", &format!("{init}r6 = 0\n"), 1);
    let p = llvm(&src);
    let want = 15 | ((-11i64 as u64) << 32);
    let mut vm = Vm::new(&p).unwrap();
    assert_eq!(vm.run(&syscall_input()).unwrap().r0, want);
    assert_eq!(vm.map("rb").unwrap().ringbuf().unwrap().records().len(), 15);
    if kernel::require_or_skip("ringbuf_output_fills_the_ring_then_fails_with_eagain") {
        let (interp, kernel) = both(&p, &syscall_input());
        assert_eq!((interp.r0, kernel.r0), (want, want));
    }
}

#[test]
fn callx_calls_the_helper_numbered_in_a_register() {
    let p = llvm("r3 = 8\ncallx r3\nexit\n");
    let options = RunOptions { cpu: 2, ncpus: 4, ..RunOptions::default() };
    assert_eq!(run_with(&p, options, &Input::mem(vec![])).unwrap().r0, 2, "callx 8 = get_smp_processor_id");
    // The same helper as `call 7`, with the same seed: the same number.
    let by_reg = llvm("r6 = 7\ncallx r6\nexit\n");
    let by_imm = llvm("call 7\nexit\n");
    assert_eq!(run_ok(&by_reg, &Input::mem(vec![])).r0, run_ok(&by_imm, &Input::mem(vec![])).r0);
    // Arguments pass as for `call`: a map lookup through callx.
    let lookup = llvm(
        ".map a array key=4 value=8 max=2
*(u32 *)(r10 - 4) = 1
r1 = map(a) ll
r2 = r10
r2 += -4
r5 = 1
callx r5
if r0 == 0 goto out
r0 = *(u64 *)(r0 + 0)
out:
exit
",
    );
    let mut vm = Vm::new(&lookup).unwrap();
    vm.map_mut("a").unwrap().user_update(&1u32.to_le_bytes(), &99u64.to_le_bytes(), 0).unwrap();
    assert_eq!(vm.run(&Input::mem(vec![])).unwrap().r0, 99);
    // An unknown number is an error naming it.
    let e = Vm::new(&llvm("r3 = 100000\ncallx r3\nexit\n")).unwrap().run(&Input::mem(vec![])).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::UnknownHelper { id: 100000 }), "{e}");
    assert_eq!(e.pc, Some(1));
}

#[test]
fn helper_faults_are_errors_not_return_values() {
    // A key pointer into the null page: the kernel's verifier would refuse it; the interpreter
    // stops at the call and names the helper.
    let p = llvm(".map h hash key=4 value=8 max=2\nr1 = map(h) ll\nr2 = 0\ncall bpf_map_lookup_elem\nexit\n");
    let e = run_with(&p, RunOptions::default(), &Input::mem(vec![])).unwrap_err();
    assert!(matches!(&e.kind, ErrorKind::HelperFault { id: 1, .. }), "{e}");
    assert!(e.to_string().contains("bpf_map_lookup_elem"), "{e}");
    // The ring buffer helpers refuse other maps.
    let p = llvm(".map h hash key=4 value=8 max=2\nr1 = map(h) ll\nr2 = 8\nr3 = 0\ncall bpf_ringbuf_reserve\nexit\n");
    let e = run_with(&p, RunOptions::default(), &Input::mem(vec![])).unwrap_err();
    assert!(e.to_string().contains("bpf_ringbuf_reserve cannot be used with a hash map"), "{e}");
    // Submitting something that is not a reserved record.
    let p = llvm("r1 = r10\nr1 += -8\nr2 = 0\ncall bpf_ringbuf_submit\nexit\n");
    let e = run_with(&p, RunOptions::default(), &Input::mem(vec![])).unwrap_err();
    assert!(e.to_string().contains("not a reserved ring buffer record"), "{e}");
}
