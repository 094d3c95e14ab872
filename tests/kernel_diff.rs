//! Differential property test: random programs that the kernel verifier accepts, run in the
//! real kernel, in ebpf-lab's interpreter and in its JIT; all 64 bits of r0 must agree every
//! time.
//!
//! The generator builds programs the verifier accepts by construction: every register r0–r9 and
//! the stack slots it reads are initialised first, no pointer ever leaves r10, shifts by a
//! constant stay below the width, division and modulo by a constant are never by zero,
//! stack accesses are aligned (the verifier always checks stack alignment), and branches only
//! go forward (no loops to bound). Registers as divisors or shift counts take any value, so the
//! run-time rules (x/0 = 0, x%0 = x, counts masked) are exercised.
//!
//! The JIT also runs each program a second time as XDP (its registers are all set before use,
//! so `r1` does not matter) with `--jit-checks unproven`, where the stack accesses the verifier
//! proved run unchecked: the same r0 again.
//!
//! Failures are shrunk by proptest and recorded in `tests/kernel_diff.proptest-regressions`;
//! distilled ones become the named regression tests at the bottom.

use ebpf_lab::interp::{Input, RunOptions, Vm};
use ebpf_lab::isa::{BinOp, EndianOp, ImmSrc, Insn, Operand, Reg, Size, Width};
use ebpf_lab::jit::{JitChecks, JitVm};
use ebpf_lab::kernel::{self, KernelInput, KernelProgram, LoadOptions};
use ebpf_lab::program::{ProgType, Program};
use proptest::prelude::*;

mod prog_gen;
use prog_gen::{forward_jump, imm, imm64, unary, width, ForwardJump};

/// Cases per run; each is one kernel load and run plus one interpreter run. Set
/// `EBPF_LAB_DIFF_CASES` for a longer hunt.
fn cases() -> u32 {
    std::env::var("EBPF_LAB_DIFF_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(3000)
}
/// Stack slots the programs use: r10-8 ... r10-64.
const STACK: i16 = 64;

fn reg(n: u8) -> Reg {
    Reg::new(n).expect("r0-r10")
}

fn gpr() -> impl Strategy<Value = Reg> {
    (0u8..10).prop_map(reg)
}

/// One ALU instruction the verifier accepts on scalar registers.
fn alu() -> impl Strategy<Value = Insn> {
    let ops = BinOp::ALL.to_vec();
    let bin = (width(), prop::sample::select(ops), gpr(), gpr(), imm(), any::<bool>()).prop_map(
        |(width, op, dst, src, imm, use_reg)| {
            let bits = if width == Width::W64 { 64 } else { 32 };
            let op = if op == BinOp::MovSx32 && width == Width::W32 { BinOp::MovSx16 } else { op };
            let src = if use_reg || op.is_movsx() {
                Operand::Reg(src)
            } else {
                match op {
                    BinOp::Lsh | BinOp::Rsh | BinOp::Arsh => Operand::Imm(imm.rem_euclid(bits)),
                    BinOp::Div | BinOp::SDiv | BinOp::Mod | BinOp::SMod if imm == 0 => Operand::Imm(7),
                    _ => Operand::Imm(imm),
                }
            };
            Insn::Bin { width, op, dst, src }
        },
    );
    prop_oneof![8 => bin, 3 => unary(gpr)]
}

fn size() -> impl Strategy<Value = Size> {
    prop::sample::select(vec![Size::B, Size::H, Size::W, Size::DW])
}

/// An aligned offset from r10 inside the initialised area for an access of `size`.
fn stack_off(size: Size, pick: u16) -> i16 {
    let n = size.bytes() as i16;
    let slots = STACK / n;
    -(n * (1 + (pick as i16).rem_euclid(slots)))
}

fn mem_op() -> impl Strategy<Value = Insn> {
    let load = (size(), any::<bool>(), gpr(), any::<u16>()).prop_map(|(size, signed, dst, pick)| Insn::Load {
        size,
        signed: signed && size != Size::DW,
        dst,
        src: Reg::R10,
        off: stack_off(size, pick),
    });
    let store =
        (size(), gpr(), imm(), any::<bool>(), any::<u16>()).prop_map(|(size, src, imm, use_reg, pick)| Insn::Store {
            size,
            dst: Reg::R10,
            off: stack_off(size, pick),
            src: if use_reg { Operand::Reg(src) } else { Operand::Imm(imm) },
        });
    prop_oneof![load, store]
}

/// A body item: an instruction, or a forward conditional jump placeholder (target fixed later).
#[derive(Clone, Debug)]
enum Item {
    Op(Insn),
    Jump(ForwardJump),
}

fn item() -> impl Strategy<Value = Item> {
    let jump = forward_jump(gpr).prop_map(Item::Jump);
    prop_oneof![6 => alu().prop_map(Item::Op), 2 => mem_op().prop_map(Item::Op), 2 => jump]
}

/// Builds the program: initialise r0–r9 and the stack, the body, then fold r1–r9 into r0 so
/// every register's final value is observable in the 64-bit result.
fn build(init: &[u64], body: &[Item]) -> Vec<Insn> {
    let mut insns = Vec::new();
    for (n, v) in init.iter().enumerate() {
        insns.push(Insn::LoadImm64 {
            dst: reg(n as u8),
            src: ImmSrc::Imm,
            imm: *v as u32 as i32,
            next_imm: (*v >> 32) as i32,
        });
    }
    for k in 1..=STACK / 8 {
        insns.push(Insn::Store { size: Size::DW, dst: Reg::R10, off: -8 * k, src: Operand::Reg(reg((k % 10) as u8)) });
    }
    // Jumps count slots; an lddw is two. Compute each item's slot span to place targets.
    let slots: Vec<usize> = body
        .iter()
        .map(|it| match it {
            Item::Op(i) => i.slots(),
            Item::Jump(_) => 1,
        })
        .collect();
    for (i, it) in body.iter().enumerate() {
        match it {
            Item::Op(insn) => insns.push(*insn),
            Item::Jump(j) => {
                let end = (i + 1 + j.skip as usize).min(body.len());
                let off: usize = slots[i + 1..end].iter().sum();
                insns.push(j.insn(off as i16));
            }
        }
    }
    for n in 1..10 {
        insns.push(Insn::Bin { width: Width::W64, op: BinOp::Mul, dst: Reg::R0, src: Operand::Imm(31) });
        insns.push(Insn::Bin { width: Width::W64, op: BinOp::Xor, dst: Reg::R0, src: Operand::Reg(reg(n)) });
    }
    insns.push(Insn::Exit);
    insns
}

/// Runs both engines; returns a description of any disagreement.
fn compare(insns: Vec<Insn>) -> Result<(), String> {
    let program = Program { prog_type: ProgType::Mem, ..Program::from_insns(insns) };
    let mut k = KernelProgram::load(&program, &LoadOptions::default()).map_err(|e| e.to_string())?;
    if let Some(e) = &k.verdict().error {
        return Err(format!("the kernel rejected a generated program ({e}):\n{}", k.verdict().log));
    }
    let kr = k.run(&program, &KernelInput::default()).map_err(|e| format!("kernel run: {e}"))?;
    assert_eq!(kr.r0_bits, 64, "the wrapper must report all 64 bits");
    let ir = Vm::new(&program)
        .and_then(|mut vm| vm.run(&Input::mem(Vec::new())))
        .map_err(|e| format!("interpreter: {e}"))?;
    let jr =
        JitVm::new(&program).and_then(|mut vm| vm.run(&Input::mem(Vec::new()))).map_err(|e| format!("jit: {e}"))?;
    let xdp = Program { prog_type: ProgType::Xdp, ..program.clone() };
    let ur = JitVm::with_checks(&xdp, RunOptions::default(), JitChecks::Unproven)
        .and_then(|mut vm| vm.run(&Input::xdp(Vec::new())))
        .map_err(|e| format!("jit, unproven checks: {e}"))?;
    if kr.r0 != ir.r0 || kr.r0 != jr.r0 || kr.r0 != ur.r0 {
        let text = ebpf_lab::asm::disasm::disassemble(&program, ebpf_lab::asm::Syntax::Llvm);
        return Err(format!(
            "r0 differs: kernel {:#x}, interpreter {:#x}, jit {:#x}, jit (unproven checks) {:#x}\n{text}",
            kr.r0, ir.r0, jr.r0, ur.r0
        ));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 2000, ..ProptestConfig::default() })]

    #[test]
    fn interpreter_jit_and_kernel_agree_on_r0(init in prop::collection::vec(imm64(), 10), body in prop::collection::vec(item(), 1..40)) {
        if !kernel::require_or_skip("interpreter_jit_and_kernel_agree_on_r0") {
            return Ok(());
        }
        let result = compare(build(&init, &body));
        prop_assert!(result.is_ok(), "{}", result.unwrap_err());
    }
}

/// Edge cases worth keeping by name: each one a rule where implementations commonly differ.
#[test]
fn regressions_division_modulo_shift_and_sign_extension_edges() {
    if !kernel::require_or_skip("regressions_division_modulo_shift_edges") {
        return;
    }
    let w = |width, op, dst: u8, src| Insn::Bin { width, op, dst: reg(dst), src };
    let set = |dst: u8, v: u64| Insn::LoadImm64 {
        dst: reg(dst),
        src: ImmSrc::Imm,
        imm: v as u32 as i32,
        next_imm: (v >> 32) as i32,
    };
    let cases: Vec<Vec<Insn>> = vec![
        // 32-bit modulo by a zero register keeps the low half, zero-extended.
        vec![set(0, 0xdead_beef_1234_5678), set(1, 0), w(Width::W32, BinOp::Mod, 0, Operand::Reg(reg(1))), Insn::Exit],
        // 64-bit modulo by zero keeps dst whole.
        vec![set(0, 0xdead_beef_1234_5678), set(1, 0), w(Width::W64, BinOp::Mod, 0, Operand::Reg(reg(1))), Insn::Exit],
        // Division by zero gives zero.
        vec![set(0, 99), set(1, 0), w(Width::W64, BinOp::Div, 0, Operand::Reg(reg(1))), Insn::Exit],
        // INT_MIN / -1 and INT_MIN % -1.
        vec![set(0, i64::MIN as u64), w(Width::W64, BinOp::SDiv, 0, Operand::Imm(-1)), Insn::Exit],
        vec![set(0, i64::MIN as u64), w(Width::W64, BinOp::SMod, 0, Operand::Imm(-1)), Insn::Exit],
        vec![set(0, i32::MIN as u32 as u64), w(Width::W32, BinOp::SDiv, 0, Operand::Imm(-1)), Insn::Exit],
        // Shift counts from a register are masked.
        vec![set(0, 1), set(1, 65), w(Width::W64, BinOp::Lsh, 0, Operand::Reg(reg(1))), Insn::Exit],
        vec![set(0, 0x8000_0000), set(1, 33), w(Width::W32, BinOp::Arsh, 0, Operand::Reg(reg(1))), Insn::Exit],
        // 32-bit movsx zero-extends its 32-bit result.
        vec![set(1, 0x80), w(Width::W32, BinOp::MovSx8, 0, Operand::Reg(reg(1))), Insn::Exit],
        // Negative immediates sign-extend in 64-bit ops, and mov32 zero-extends.
        vec![set(0, 0), w(Width::W64, BinOp::Add, 0, Operand::Imm(-2)), Insn::Exit],
        vec![w(Width::W32, BinOp::Mov, 0, Operand::Imm(-2)), Insn::Exit],
        // le16 truncates, be64 swaps.
        vec![set(0, 0x1122_3344_5566_7788), Insn::Endian { op: EndianOp::ToLe, bits: 16, dst: Reg::R0 }, Insn::Exit],
        vec![set(0, 0x1122_3344_5566_7788), Insn::Endian { op: EndianOp::ToBe, bits: 64, dst: Reg::R0 }, Insn::Exit],
    ];
    for insns in cases {
        if let Err(e) = compare(insns) {
            panic!("{e}");
        }
    }
}
