//! Soundness of the verifier, as a property: whenever ebpf-lab accepts a (generated) program, the
//! interpreter runs it on random inputs without a fault — so every access the verifier let
//! through really stays inside its region, for packets of every length, with the map entry
//! present or absent — and every concrete register value before every executed instruction is
//! admitted by the abstract states the verifier recorded there (`Verification::admits`: scalars
//! are checked; pointers and unwritten registers admit anything).
//!
//! The concrete values come from the interpreter's trace, which lists after each instruction
//! the registers it changed: replaying those changes gives the registers before each step
//! (a register never written yet is not known, and not checked). Only the registers an
//! instruction reads are checked: the verifier prunes a path when an old state covers the
//! registers still live, so a dead register's value need not be admitted by the states kept.
//!
//! No kernel needed. `EBPF_LAB_VERIFIER_SOUNDNESS_CASES` sets the number of programs.

mod verifier_common;

use ebpf_lab::asm::{assemble, Syntax};
use ebpf_lab::interp::{Input, RunOptions, Vm};
use ebpf_lab::isa::{BinOp, Insn, Operand};
use ebpf_lab::program::Program;
use ebpf_lab::verifier::{Verification, VerifyOptions};
use proptest::prelude::*;
use verifier_common::gen::{build, program, MAP, VALUE_SIZE};
use verifier_common::{ebpf_lab_verify, quietly};

fn cases() -> u32 {
    std::env::var("EBPF_LAB_VERIFIER_SOUNDNESS_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000)
}

/// One run's input: the packet, and the map's entry for key 0 (absent: the lookup gives NULL).
#[derive(Clone, Debug)]
struct RunInput {
    packet: Vec<u8>,
    entry: Option<Vec<u8>>,
}

fn run_input() -> impl Strategy<Value = RunInput> {
    (
        prop_oneof![1 => prop::collection::vec(any::<u8>(), 0..16), 2 => prop::collection::vec(any::<u8>(), 0..80)],
        prop::option::weighted(0.7, prop::collection::vec(any::<u8>(), VALUE_SIZE)),
    )
        .prop_map(|(packet, entry)| RunInput { packet, entry })
}

/// The registers before each executed instruction, replayed from the trace: (slot, r0–r10 where
/// known). Trace lines read `PC: (op) text ; R1=16 R2=0x1f4` (the registers that changed).
fn steps(trace: &[String]) -> Vec<(usize, [Option<u64>; 11])> {
    let mut regs = [None; 11];
    let mut out = Vec::with_capacity(trace.len());
    for line in trace {
        let Some(pc) = line.split(':').next().and_then(|p| p.trim().parse().ok()) else { continue };
        out.push((pc, regs));
        let Some((_, changed)) = line.rsplit_once(" ; ") else { continue };
        for item in changed.split_whitespace() {
            let Some((r, v)) = item.strip_prefix('R').and_then(|x| x.split_once('=')) else { continue };
            let value = match v.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16).ok(),
                None => v.parse::<i64>().ok().map(|n| n as u64),
            };
            if let (Ok(r), Some(value)) = (r.parse::<usize>(), value) {
                if r < regs.len() {
                    regs[r] = Some(value);
                }
            }
        }
    }
    out
}

/// The registers `insn` reads (a helper call's arguments left out: they depend on the helper).
fn reads(insn: &Insn) -> Vec<u8> {
    let reg = |o: &Operand| match o {
        Operand::Reg(r) => Some(r.num()),
        Operand::Imm(_) => None,
    };
    match insn {
        Insn::Bin { op, dst, src, .. } => {
            let writes_only = *op == BinOp::Mov || op.is_movsx();
            reg(src).into_iter().chain((!writes_only).then_some(dst.num())).collect()
        }
        Insn::Neg { dst, .. } | Insn::Endian { dst, .. } | Insn::Callx { dst } => vec![dst.num()],
        Insn::Jmp { dst, src, .. } => std::iter::once(dst.num()).chain(reg(src)).collect(),
        Insn::Load { src, .. } => vec![src.num()],
        Insn::Store { dst, src, .. } => std::iter::once(dst.num()).chain(reg(src)).collect(),
        Insn::Atomic { dst, src, .. } => vec![dst.num(), src.num(), 0],
        Insn::Exit => vec![0],
        _ => Vec::new(),
    }
}

/// The first concrete register value read by an instruction that the verifier's states there
/// do not admit, described.
fn inadmissible(program: &Program, v: &Verification, trace: &[String]) -> Option<String> {
    let slots = program.slot_pcs();
    steps(trace).into_iter().find_map(|(pc, regs)| {
        let insn = program.insns.get(slots.iter().position(|&s| s == pc)?)?;
        reads(insn).into_iter().find_map(|r| {
            let value = regs[r as usize]?;
            (v.admits(pc, r, value) == Some(false)).then(|| {
                format!("before insn {pc}, r{r} = {value:#x} ({}) is outside every state recorded there", value as i64)
            })
        })
    })
}

/// Verifies `text`; when accepted, runs it on every input. Describes the first problem.
fn check(text: &str, inputs: &[RunInput]) -> Result<(), String> {
    let program = assemble("gen.s", text, Some(Syntax::Llvm)).map_err(|e| format!("bad assembly: {e:?}\n{text}"))?;
    let opts = VerifyOptions { keep_states: true, ..VerifyOptions::default() };
    let v = quietly(|| ebpf_lab_verify(&program, opts)).map_err(|p| format!("ebpf-lab {p}\n{text}"))?;
    if !v.accepted() {
        return Ok(());
    }
    for input in inputs {
        let run_options = RunOptions { trace: true, ..RunOptions::default() };
        let mut vm = Vm::with_options(&program, run_options).map_err(|e| format!("interpreter: {e}"))?;
        if let Some(value) = &input.entry {
            let map = vm.map_mut(MAP).expect("the generated map");
            map.update(&0u32.to_ne_bytes(), value, 0, 0).map_err(|e| format!("map update: {e:?}"))?;
        }
        let what = format!(
            "a {}-byte packet (map entry {})",
            input.packet.len(),
            if input.entry.is_some() { "present" } else { "absent" }
        );
        match vm.run(&Input::xdp(input.packet.clone())) {
            Err(e) => return Err(format!("ebpf-lab accepted a program that faults on {what}: {e}\n{text}")),
            Ok(out) => {
                if let Some(why) = inadmissible(&program, &v, out.exec_trace()) {
                    return Err(format!("on {what}: {why}\n{text}\n{}", out.exec_trace().join("\n")));
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 4000, ..ProptestConfig::default() })]

    #[test]
    fn accepted_programs_run_without_faults(
        (body, pro) in program(),
        inputs in prop::collection::vec(run_input(), 8),
    ) {
        let result = check(&build(&body, &pro), &inputs);
        prop_assert!(result.is_ok(), "{}", result.unwrap_err());
    }
}

/// The check itself can fail: a run whose trace is doctored (r3 made 9 where the verifier knows
/// it is 7) is caught, and the true trace passes.
#[test]
fn a_value_outside_the_states_is_caught() {
    let text = ".prog xdp\n        r2 = 7\n        r3 = r2\n        r3 += 1\n        r0 = 2\n        exit\n";
    let program = assemble("t.s", text, Some(Syntax::Llvm)).expect("assembles");
    let opts = VerifyOptions { keep_states: true, ..VerifyOptions::default() };
    let v = ebpf_lab_verify(&program, opts).expect("a verdict");
    assert!(v.accepted(), "{:?}", v.error);
    let mut vm = Vm::with_options(&program, RunOptions { trace: true, ..RunOptions::default() }).expect("loads");
    let trace = vm.run(&Input::xdp(vec![0; 64])).expect("runs").exec_trace().to_vec();
    assert_eq!(steps(&trace)[2], (2, [None, None, Some(7), Some(7), None, None, None, None, None, None, None]));
    assert_eq!(inadmissible(&program, &v, &trace), None);
    let doctored: Vec<String> = trace.iter().map(|l| l.replace("R3=7", "R3=9")).collect();
    let why = inadmissible(&program, &v, &doctored).expect("the doctored value is caught");
    assert!(why.contains("before insn 2, r3 = 0x9"), "{why}");
}
