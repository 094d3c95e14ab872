//! An engine reused across runs: a run after a fault, or after a run that printed and called,
//! gives exactly what a fresh engine gives. (A run resets only what a clean `exit` leaves
//! behind; a fault resets everything.)

mod interp_common;
use ebpf_lab::engine::{Engine, EngineError};
use ebpf_lab::interp::{ErrorKind, Input};
use interp_common::{open, prog};

/// Prints "hi", then calls `f`. On an empty buffer `f` writes its stack and faults (a null
/// read, two frames deep); otherwise it returns the buffer's length plus that stack slot,
/// which a run that did not write it must read as 0.
const SRC: &str = "
mov %r6, %r1
mov %r7, %r2
stw [%r10-8], 0x6968
mov %r1, %r10
add %r1, -8
mov %r2, 3
call 6
mov %r1, %r6
mov %r2, %r7
call local f
exit
f:
mov %r0, %r2
jne %r2, 0, sum
stdw [%r10-8], 7
ldxb %r0, [%r1]
exit
sum:
ldxdw %r4, [%r10-8]
add %r0, %r4
exit
";

/// Ends the run with their sum unless the registers a run does not set (r3–r5, r8, r9) are 0
/// (prepended to `SRC`, before the program touches them).
const UNSET: &str = "
mov %r0, 0
add %r0, %r3
add %r0, %r4
add %r0, %r5
add %r0, %r8
add %r0, %r9
jeq %r0, 0, start
exit
start:
";

#[test]
fn a_run_after_a_fault_or_a_call_is_a_fresh_run() {
    let p = prog(&format!("{UNSET}{SRC}"));
    let ok = Input::mem(vec![1, 2, 3]);
    let bad = Input::mem(vec![]);
    for name in ["interp", "jit"] {
        let fresh = open(name, &p, &ok).run(&ok).unwrap_or_else(|e| panic!("{name}: {e}")).outcome;
        assert_eq!(fresh.r0, 3, "{name}: the length, with every unset register and stack slot 0");
        assert_eq!(fresh.trace_lines().len(), 1, "{name}: {:?}", fresh.trace_lines());
        let mut e: Box<dyn Engine> = open(name, &p, &ok);
        for round in 0..3 {
            match e.run(&bad) {
                Err(EngineError::Runtime(f)) => assert!(matches!(f.kind, ErrorKind::NullDeref { .. }), "{name}: {f}"),
                other => panic!("{name}: an empty buffer must fault, got {other:?}"),
            }
            let again = e.run(&ok).unwrap_or_else(|err| panic!("{name}, round {round}: {err}")).outcome;
            assert_eq!(again.r0, fresh.r0, "{name}, round {round}: r0");
            assert_eq!(again.trace_lines(), fresh.trace_lines(), "{name}, round {round}: only this run's line");
            assert_eq!(
                again,
                e.run(&ok).expect("runs").outcome,
                "{name}, round {round}: a clean run after a clean one"
            );
        }
    }
}
