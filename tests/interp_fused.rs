//! Superinstructions: the untraced loop runs fused pairs, the traced loop one op per
//! instruction. Both must agree on the result, the instruction count, the budget and errors.

use ebpf_lab::asm::{assemble, Syntax};
use ebpf_lab::interp::{ErrorKind, Input, RunOptions, RuntimeError, Vm};

/// Runs `src` with and without tracing; returns (r0, insns executed) or the error of each.
fn both(src: &str, budget: u64, input: &[u8]) -> [Result<(u64, u64), RuntimeError>; 2] {
    let prog = assemble("t", src, Some(Syntax::Ubpf)).expect("assembles");
    [false, true].map(|trace| {
        let opts = RunOptions { budget, trace, ..RunOptions::default() };
        let mut vm = Vm::with_options(&prog, opts).expect("decodes");
        vm.run(&Input::mem(input.to_vec())).map(|o| (o.r0, o.insns_executed))
    })
}

fn agree(src: &str) -> (u64, u64) {
    let [fast, traced] = both(src, 1_000_000, &[]);
    let fast = fast.expect("fast run");
    assert_eq!(Ok(fast), traced, "fused and traced runs differ on\n{src}");
    fast
}

#[test]
fn add_and_branch_pairs_count_both_instructions() {
    // `add r1, 1; jlt r1, 10` and `sub r2, 1; jne r2, 0` fuse; each iteration is still 3 insns.
    assert_eq!(agree("mov %r0, 0\nmov %r1, 0\nl:\nadd %r0, %r1\nadd %r1, 1\njlt %r1, 10, l\nexit\n"), (45, 33));
    assert_eq!(agree("mov %r0, 0\nmov %r2, 5\nl:\nadd %r0, 2\nsub %r2, 1\njne %r2, 0, l\nexit\n"), (10, 18));
    // Register compares: `jlt r1, r3`, `jgt r3, r1` style and `jne` against a register.
    assert_eq!(agree("mov %r3, 7\nmov %r1, 0\nl:\nadd %r1, 1\njlt %r1, %r3, l\nmov %r0, %r1\nexit\n").0, 7);
    assert_eq!(agree("mov %r3, 0\nmov %r1, 9\nl:\nsub %r1, 3\njgt %r1, %r3, l\nmov %r0, %r1\nexit\n").0, 0);
    assert_eq!(agree("mov %r3, 12\nmov %r1, 0\nl:\nadd %r1, 4\njne %r1, %r3, l\nmov %r0, %r1\nexit\n").0, 12);
    // Comparing the register with itself after the add.
    assert_eq!(agree("mov %r1, 0\nadd %r1, 1\njne %r1, %r1, bad\nmov %r0, 1\nexit\nbad:\nmov %r0, 2\nexit\n").0, 1);
}

#[test]
fn mov_add_pairs_match_the_two_instructions() {
    assert_eq!(agree("mov %r1, 30\nmov %r2, 12\nmov %r0, %r1\nadd %r0, %r2\nexit\n"), (42, 5));
    assert_eq!(agree("mov %r1, 50\nmov %r0, %r1\nsub %r0, 8\nexit\n"), (42, 4));
    // `mov d, a; add d, d` doubles `a`; it must not be read as `a + old d`.
    assert_eq!(agree("mov %r1, 21\nmov %r0, 5\nmov %r0, %r1\nadd %r0, %r0\nexit\n"), (42, 5));
    // r10-relative address computation, then a store and load through it.
    let src = "mov %r1, %r10\nadd %r1, -8\nstdw [%r1+0], 42\nldxdw %r0, [%r10-8]\nexit\n";
    assert_eq!(agree(src), (42, 5));
}

#[test]
fn a_jump_into_the_second_instruction_of_a_pair_runs_it_alone() {
    // `jlt` is a jump target: entering there must not execute the preceding `add`.
    let src = "mov %r1, 5\nja mid\nl:\nadd %r1, 1\nmid:\njlt %r1, 3, l\nmov %r0, %r1\nexit\n";
    assert_eq!(agree(src), (5, 5));
    let src = "mov %r1, 1\nmov %r2, 2\nmov %r0, %r1\njeq %r2, 2, second\nmov %r0, %r1\nsecond:\nadd %r0, %r2\nexit\n";
    assert_eq!(agree(src), (3, 6));
}

#[test]
fn the_budget_is_exact_across_fused_pairs() {
    let src = "mov %r0, 0\nmov %r1, 0\nl:\nadd %r0, %r1\nadd %r1, 1\njlt %r1, 100, l\nexit\n";
    let [fast, traced] = both(src, 303, &[]);
    assert_eq!(fast.unwrap(), (4950, 303));
    assert_eq!(traced.unwrap(), (4950, 303));
    let [fast, traced] = both(src, 302, &[]);
    let (fast, traced) = (fast.unwrap_err(), traced.unwrap_err());
    assert!(matches!(fast.kind, ErrorKind::BudgetExhausted { budget: 302 }), "{fast}");
    // The 303rd instruction is the `exit` (the last `jlt` falls through, charging nothing).
    assert_eq!((fast.pc, fast.index), (traced.pc, traced.index));
    assert_eq!(fast.pc, Some(5));
    // Mid-loop the budget runs out at a taken `jlt`, the second instruction of a fused pair.
    let [fast, traced] = both(src, 150, &[]);
    let (fast, traced) = (fast.unwrap_err(), traced.unwrap_err());
    assert_eq!((fast.pc, fast.index), (traced.pc, traced.index));
    assert_eq!(fast.pc, Some(4));
}

#[test]
fn faults_after_a_fused_pair_point_at_the_faulting_instruction() {
    // The address is computed by a fused `mov; add`, the load faults on its own.
    let src = "mov %r2, 4096\nmov %r3, %r1\nadd %r3, %r2\nldxw %r0, [%r3+0]\nexit\n";
    let [fast, traced] = both(src, 1000, &[1, 2, 3, 4]);
    let (fast, traced) = (fast.unwrap_err(), traced.unwrap_err());
    assert!(matches!(fast.kind, ErrorKind::OutOfBounds { .. }), "{fast}");
    assert_eq!(fast.kind, traced.kind);
    assert_eq!((fast.pc, fast.index), (Some(3), Some(3)));
}

#[test]
fn stack_accesses_in_every_frame_keep_their_bounds() {
    // r10-relative accesses go through the arithmetic stack path: the last byte is fine...
    assert_eq!(agree("stb [%r10-1], 7\nldxb %r0, [%r10-1]\nexit\n").0, 7);
    assert_eq!(agree("stdw [%r10-512], 9\nldxdw %r0, [%r10-512]\nexit\n").0, 9);
    // ...one past either end is not, and neither is a straddling access.
    for src in ["ldxb %r0, [%r10+0]\nexit\n", "ldxb %r0, [%r10-513]\nexit\n", "ldxdw %r0, [%r10-4]\nexit\n"] {
        let [fast, traced] = both(src, 1000, &[]);
        let (fast, traced) = (fast.unwrap_err(), traced.unwrap_err());
        assert!(matches!(fast.kind, ErrorKind::OutOfBounds { .. }), "{src}: {fast}");
        assert_eq!(fast.kind, traced.kind, "{src}");
    }
    // A callee's frame is a different 512 bytes: its store does not touch the caller's slot.
    let src =
        "stdw [%r10-8], 1\ncall local f\nldxdw %r0, [%r10-8]\nexit\nf:\nstdw [%r10-8], 2\nldxdw %r0, [%r10-8]\nexit\n";
    assert_eq!(agree(src).0, 1);
}

#[test]
fn load_and_store_pairs_report_faults_at_their_own_instruction() {
    // A swap through fused store and load pairs.
    let src = "stdw [%r10-16], 1\nstdw [%r10-8], 2\nmov %r1, %r10\nadd %r1, -16\nldxdw %r3, [%r1+0]\n\
               ldxdw %r4, [%r1+8]\nstxdw [%r1+0], %r4\nstxdw [%r1+8], %r3\nldxdw %r0, [%r10-16]\nexit\n";
    assert_eq!(agree(src), (2, 10));
    // The base register is the first load's destination: the second load uses the new value.
    let src = "mov %r1, %r10\nadd %r1, -16\nstdw [%r10-16], 0\nstdw [%r10-8], 9\n\
               ldxdw %r1, [%r1+8]\nldxdw %r0, [%r10-16]\nexit\n";
    assert_eq!(agree(src), (0, 7));
    // The second half of each pair runs off the stack: the error names it, not the first half.
    for (src, pc) in [
        ("ldxdw %r2, [%r10-8]\nldxdw %r3, [%r10+0]\nexit\n", 1),
        ("ldxdw %r2, [%r10+0]\nldxdw %r3, [%r10-8]\nexit\n", 0),
        ("stxdw [%r10-8], %r1\nstxdw [%r10+0], %r1\nexit\n", 1),
    ] {
        let [fast, traced] = both(src, 1000, &[]);
        let (fast, traced) = (fast.unwrap_err(), traced.unwrap_err());
        assert!(matches!(fast.kind, ErrorKind::OutOfBounds { .. }), "{src}: {fast}");
        assert_eq!(fast.kind, traced.kind, "{src}");
        assert_eq!((fast.pc, traced.pc), (Some(pc), Some(pc)), "{src}");
    }
}
