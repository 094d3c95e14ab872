//! Counted loops: the JIT checks their accesses once at the entry and runs an unchecked copy
//! when that proves every access in bounds. Whichever copy runs, the outcome is the
//! interpreter's: the same r0 and packet, or the same fault at the same instruction.

mod interp_common;
use ebpf_lab::interp::{ErrorKind, Input, RunOptions};
use ebpf_lab::jit::{JitChecks, JitVm};
use interp_common::{llvm, run_with, same_on_jit};

/// Copies `n` bytes from the packet's start to `dst` bytes further (no bounds check of its own:
/// the engines' checks decide), then returns the last byte copied.
fn copy(n: u32, dst: u32) -> String {
    format!(
        ".prog xdp\nr1 = *(u32 *)(r1 + 0)\nr0 = 0\nr3 = 0\nloop:\nr4 = r1\nr4 += r3\nr5 = *(u8 *)(r4 + 0)\n\
         *(u8 *)(r4 + {dst}) = r5\nr3 += 1\nif r3 < {n} goto loop\nr0 = r5\nexit\n"
    )
}

fn filler(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + 3) as u8).collect()
}

#[test]
fn a_copy_inside_the_packet_runs_the_unchecked_loop_with_the_same_results() {
    let p = llvm(&copy(100, 100));
    let vm = JitVm::new(&p).unwrap();
    let loops: Vec<_> = vm.compiled().counted_loops.iter().map(|c| (c.head, c.back)).collect();
    assert_eq!(loops, vec![(3, 8)], "the loop's entry is guarded");
    // Exactly the bytes the loop touches, more, and each size where the last store falls out.
    for len in [200, 201, 4096, 199, 150, 100, 1, 0] {
        let out = run_with(&p, RunOptions::default(), &Input::xdp(filler(len)));
        if len >= 200 {
            let out = out.expect("in bounds");
            assert_eq!(out.r0, filler(len)[99] as u64);
        } else {
            let e = out.expect_err("out of bounds");
            assert!(matches!(e.kind, ErrorKind::OutOfBounds { .. }), "{len}: {e}");
            // The load (pc 5) faults on an empty packet, else the store (pc 6).
            assert_eq!(e.pc, Some(if len == 0 { 5 } else { 6 }), "{len}: {e}");
        }
    }
}

#[test]
fn counters_starting_at_or_past_the_bound_take_the_checked_loop() {
    // The counter starts where the body runs once (at or past the bound), or wraps to 0 and
    // runs the loop in full: neither may skip a check.
    for start in ["10", "99", "100", "5000", "-1", "-100"] {
        let src = copy(100, 100).replace("r3 = 0\nloop:", &format!("r3 = {start}\nloop:"));
        let p = llvm(&src);
        for len in [64, 200, 300, 6000] {
            let _ = run_with(&p, RunOptions::default(), &Input::xdp(filler(len)));
        }
    }
}

#[test]
fn an_early_exit_leaves_the_unchecked_loop_for_the_checked_code_after_it() {
    // strcmp of the packet's two halves: r0 = 1 + the first difference, or 0.
    let src = ".prog xdp\nr1 = *(u32 *)(r1 + 0)\nr0 = 0\nr3 = 0\nloop:\nr4 = r1\nr4 += r3\nr5 = *(u8 *)(r4 + 0)\n\
               r6 = *(u8 *)(r4 + 64)\nif r5 != r6 goto diff\nr3 += 1\nif r3 < 64 goto loop\nexit\n\
               diff:\nr0 = r3\nr0 += 1\nr0 += r6\nexit\n";
    let p = llvm(src);
    for at in [None, Some(0), Some(17), Some(63)] {
        let mut packet = [filler(64), filler(64)].concat();
        if let Some(at) = at {
            packet[64 + at] ^= 0x55;
        }
        let out = run_with(&p, RunOptions::default(), &Input::xdp(packet.clone())).unwrap();
        assert_eq!(out.r0, at.map_or(0, |at| at as u64 + 1 + packet[64 + at] as u64));
    }
    // Equal halves up to the packet's end at 100: the second load of byte 64 + 36 faults.
    let e = run_with(&p, RunOptions::default(), &Input::xdp([filler(64), filler(36)].concat())).unwrap_err();
    assert_eq!(e.pc, Some(6), "{e}");
}

#[test]
fn stack_loops_use_the_stack_window_and_stores_after_the_increment_see_the_step() {
    // Zero 8 u64 slots (the store comes after the increment: r10 - 72 + 8 * (i + 1)), then sum
    // each byte plus 1; with and without a store before the loops.
    for before in ["*(u64 *)(r10 - 8) = 7\n", ""] {
        let src = format!(
            "r0 = 0\n{before}r3 = 0\nloop:\nr3 += 1\nr4 = r3\nr4 <<= 3\nr4 += r10\n\
             *(u64 *)(r4 - 72) = 0\nif r3 <= 7 goto loop\nr3 = 0\nsum:\nr4 = r10\nr4 += r3\n\
             r5 = *(u8 *)(r4 - 64)\nr5 += 1\nr0 += r5\nr3 += 1\nif r3 < 64 goto sum\nexit\n"
        );
        let p = llvm(&src);
        // `r4 <<= 3` makes the first loop's address not affine: only the sum is guarded.
        assert_eq!(JitVm::new(&p).unwrap().compiled().counted_loops.len(), 1, "{src}");
        assert_eq!(run_with(&p, RunOptions::default(), &Input::mem(vec![])).unwrap().r0, 64);
    }
    // A loop walking off the stack's bottom faults on the same instruction.
    let p = llvm("r0 = 0\nr3 = 0\n*(u64 *)(r10 - 8) = 0\nloop:\nr4 = r10\nr4 += r3\nr5 = *(u8 *)(r4 - 1)\nr0 += r5\nr3 -= 1\nr3 += 2\nif r3 < 600 goto loop\nexit\n");
    let e = run_with(&p, RunOptions::default(), &Input::mem(vec![])).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::OutOfBounds { .. }), "{e}");
}

#[test]
fn the_budget_is_charged_as_in_the_checked_loop() {
    // 100 iterations of a 6-instruction loop: 99 taken back-edges charge 6 each.
    let p = llvm(&copy(100, 100));
    let input = Input::xdp(filler(200));
    for budget in [594, 595, 600, 10_000, 593, 6, 0] {
        let options = RunOptions { budget, ..RunOptions::default() };
        let mut vm = JitVm::with_options(&p, options.clone()).unwrap();
        match vm.run(&input) {
            Ok(out) => {
                assert!(budget >= 594, "{budget}");
                assert_eq!(vm.charged(), 594);
                assert_eq!(out.r0, filler(200)[99] as u64);
            }
            Err(e) => {
                assert!(budget < 594, "{budget}: {e}");
                assert!(matches!(e.kind, ErrorKind::BudgetExhausted { .. }), "{e}");
                assert_eq!(e.pc, Some(8), "the back-edge");
            }
        }
        let interp = ebpf_lab::interp::Vm::with_options(&p, options.clone()).and_then(|mut vm| vm.run(&input));
        same_on_jit(&p, options, &input, &interp);
    }
}

#[test]
fn unproven_checks_and_loop_guards_agree() {
    let p = llvm(&copy(100, 100));
    for len in [200, 150, 0] {
        let input = Input::xdp(filler(len));
        let all = JitVm::new(&p).unwrap().run(&input);
        let unproven = JitVm::with_checks(&p, RunOptions::default(), JitChecks::Unproven).unwrap().run(&input);
        match (all, unproven) {
            (Ok(a), Ok(b)) => assert_eq!((a.r0, a.packet_out), (b.r0, b.packet_out)),
            (Err(a), Err(b)) => assert_eq!(a, b),
            (a, b) => panic!("{len}: {a:?} vs {b:?}"),
        }
    }
}

#[test]
fn leaving_the_unchecked_loop_anywhere_charges_the_back_edges_taken() {
    // A step of 2, a side exit after the increment: exits at the first zero byte at an even
    // offset from 2 on, else when the counter reaches 64. 100 bytes: the guard passes; 60: it
    // fails (byte 64 is out), and the checked loop must charge the same.
    let p = llvm(
        ".prog xdp\nr1 = *(u32 *)(r1 + 0)\nr0 = 0\nr3 = 0\nloop:\nr3 += 2\nr4 = r1\nr4 += r3\n\
         r5 = *(u8 *)(r4 + 0)\nif r5 == 0 goto out\nif r3 < 64 goto loop\nout:\nr0 = r3\nexit\n",
    );
    let span = 6;
    for (zero, taken) in [(Some(2), 0), (Some(10), 4), (Some(40), 19), (None, 31)] {
        for len in [100, 60] {
            let mut packet = vec![1; len];
            if let Some(z) = zero {
                packet[z] = 0;
            }
            let input = Input::xdp(packet);
            let mut vm = JitVm::new(&p).unwrap();
            let out = vm.run(&input);
            if len == 60 && zero.is_none() {
                assert!(out.is_err(), "reads byte 60");
                continue;
            }
            assert_eq!(out.unwrap().r0, 2 * (taken + 1), "{zero:?} {len}");
            assert_eq!(vm.charged(), span * taken, "{zero:?} {len}");
            let _ = run_with(&p, RunOptions::default(), &input);
        }
    }
}

#[test]
fn a_loop_that_touches_the_stack_first_probes_for_its_window_and_faults_only_where_the_interpreter_does() {
    // The loop's stores are the run's first stack accesses: the guard asks for the stack's
    // window. Then the same through a null or wild pointer: the probe finds no region, the
    // checked loop faults on the same instruction.
    let fill = "r0 = 0\nr3 = 0\nloop:\nr4 = r10\nr4 += r3\n*(u8 *)(r4 - 64) = r3\nr3 += 1\nif r3 < 64 goto loop\n\
                r0 = *(u64 *)(r10 - 8)\nexit\n";
    let p = llvm(fill);
    assert_eq!(JitVm::new(&p).unwrap().compiled().counted_loops.len(), 1);
    let out = run_with(&p, RunOptions::default(), &Input::mem(vec![])).unwrap();
    assert_eq!(out.r0, u64::from_le_bytes([56, 57, 58, 59, 60, 61, 62, 63]));
    for base in ["0", "0x7fff0000"] {
        let p = llvm(&fill.replace("r4 = r10\n", &format!("r4 = {base}\n")));
        let e = run_with(&p, RunOptions::default(), &Input::mem(vec![])).unwrap_err();
        assert_eq!(e.pc, Some(4), "{base}: {e}");
    }
}
