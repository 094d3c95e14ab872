//! The kernel judges the program as written: the r0 wrapper adds no frame, no stack, no
//! instruction number and no log line of its own, and every rejection names the program's own
//! instruction.

use ebpf_lab::asm;
use ebpf_lab::kernel::{self, verifier_log, KernelInput, KernelProgram, LoadOptions};
use ebpf_lab::program::{ProgType, Program};

fn program(t: ProgType, text: &str) -> Program {
    Program { prog_type: t, ..asm::assemble("t.s", text, None).unwrap() }
}

/// main + 7 nested bpf-to-bpf calls: the kernel's limit of 8 frames.
const CHAIN8: &str = "r0 = 0\ncall f1\nexit\nf1:\ncall f2\nexit\nf2:\ncall f3\nexit\nf3:\ncall f4\nexit\n\
f4:\ncall f5\nexit\nf5:\ncall f6\nexit\nf6:\ncall f7\nexit\nf7:\nr0 = 42\nexit\n";

#[test]
fn an_eight_frame_chain_is_accepted_and_runs_with_all_64_bits() {
    if !kernel::require_or_skip("an_eight_frame_chain_is_accepted") {
        return;
    }
    for t in [ProgType::Mem, ProgType::Socket, ProgType::Xdp] {
        let p = program(t, CHAIN8);
        let mut k = KernelProgram::load(&p, &LoadOptions::default()).unwrap();
        assert!(k.verdict().accepted(), "{t:?}: {}", k.verdict().log);
        let packet = [0u8; 64];
        let input = match t {
            ProgType::Mem => KernelInput::default(),
            _ => KernelInput { packet: Some(&packet), ctx: None },
        };
        let run = k.run(&p, &input).unwrap();
        assert_eq!((run.r0, run.r0_bits), (42, 64), "{t:?}");
    }
}

/// Loads a mem program that the kernel must reject; returns the log and the source line the
/// rejection points at.
fn rejection(text: &str, log_level: u32) -> (String, usize) {
    let p = program(ProgType::Mem, text);
    let k = KernelProgram::load(&p, &LoadOptions { log_level, mem_len: 8, ..Default::default() }).unwrap();
    let log = k.verdict().log.clone();
    assert!(!k.verdict().accepted(), "{log}");
    for word in ["wrapper", "0xffff", "map_value(map=ebpf_lab_r0"] {
        assert!(!log.contains(word), "the wrapper shows through ({word}):\n{log}");
    }
    let error_log = k.verdict().error.as_ref().unwrap().log().unwrap_or("").to_string();
    assert_eq!(error_log, log, "the error carries the program's log, not the wrapper's");
    let pc = verifier_log::guilty_pc(&log).unwrap_or_else(|| panic!("no instruction named:\n{log}"));
    let index = ebpf_lab::isa::insn_at_slot(&p.insns)[pc].unwrap();
    let span = p.span(index).unwrap();
    let line = text[..span.start].matches('\n').count() + 1;
    (log, line)
}

#[test]
fn every_rejection_names_the_programs_own_instruction() {
    if !kernel::require_or_skip("every_rejection_names_the_programs_own_instruction") {
        return;
    }
    // r0 never set: the kernel's words at the student's `exit`.
    let (log, line) = rejection("r1 = 5\nexit\n", 1);
    assert_eq!(line, 2, "{log}");
    assert_eq!(verifier_log::reason(&log).as_deref(), Some("R0 !read_ok"), "{log}");
    assert!(log.contains("1: (95) exit"), "{log}");
    // A jump out of range, numbered as written (instruction 1 to 102).
    let (log, line) = rejection("r0 = 0\nif r0 == 0 goto +100\nexit\n", 1);
    assert!(log.contains("jump out of range from insn 1 to 102"), "{log}");
    assert_eq!(line, 2);
    // Reading an unset register in a subprogram.
    let (log, line) = rejection("r0 = 0\ncall f\nexit\nf:\nr0 = r3\nexit\n", 1);
    assert!(log.contains("R3 !read_ok"), "{log}");
    assert_eq!(line, 5);
    // Past the buffer, with the full log: the live-registers table is renumbered too.
    let (log, line) = rejection("r0 = *(u8 *)(r1 + 9)\nexit\n", 2);
    assert!(log.contains("invalid access to map value, value_size=8 off=9 size=1"), "{log}");
    assert_eq!(line, 1);
    if log.contains("Live regs before insn:") {
        assert!(log.contains("\n      0: ") && log.contains("\n      1: ") && !log.contains("\n      2: "), "{log}");
    }
    // An infinite loop.
    let (log, line) = rejection("r0 = 0\nl:\nif r0 == 0 goto l\nexit\n", 1);
    assert!(log.contains("infinite loop detected at insn 1"), "{log}");
    assert_eq!(line, 3);
    // Dead code is the program's own: its first unreachable instruction is named.
    let (log, line) = rejection("r0 = 0\nl:\nr0 += 0\ngoto l\nexit\n", 1);
    assert!(log.contains("unreachable insn 3"), "{log}");
    assert_eq!(line, 5);
}
