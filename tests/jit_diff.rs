//! Differential property test: random programs run on the interpreter and on the JIT must give
//! the same r0 (all 64 bits), the same map contents, and the same error at the same instruction.
//!
//! Unlike the kernel differential, nothing here has to pass a verifier, so the programs go where
//! verified ones cannot: loads, stores and atomics of every size through any register, at offsets
//! that run off the stack, the input buffer and map values (faults must match exactly); division
//! by zero registers; helpers (map lookup and update, which hand out map-value pointers, clocks,
//! random numbers); bpf-to-bpf calls (including recursion deep enough to exceed the frames);
//! bounded loops; and legacy packet loads refused in a `mem` program.
//!
//! Both engines see the same virtual addresses, so even pointers folded into r0 must agree.
//! `EBPF_LAB_JIT_DIFF_CASES` sets the number of cases (default 1000) for a longer hunt.

use ebpf_lab::interp::{Input, RunOptions, Vm};
use ebpf_lab::isa::{AtomicOp, BinOp, CallTarget, ImmSrc, Insn, JmpCond, LegacyMode, Operand, Reg, Size, Width};
use ebpf_lab::jit::JitVm;
use ebpf_lab::program::{MapDef, MapType, ProgType, Program};
use ebpf_lab::runtime::memory::{frame_pointer, INPUT_BASE, MAP_VALUE_BASE};
use proptest::prelude::*;

mod prog_gen;
use prog_gen::{forward_jump, imm, imm64, set, unary, width, ForwardJump};

fn cases() -> u32 {
    std::env::var("EBPF_LAB_JIT_DIFF_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000)
}

fn reg(n: u8) -> Reg {
    Reg::new(n).expect("r0-r10")
}

/// Registers ALU ops write: r0–r5. r6 (stack), r7 (input) and r8 (map value) hold pointers,
/// moved only by small steps, so most accesses land near a region's edges; r9 counts loops.
fn scratch() -> impl Strategy<Value = Reg> {
    (0u8..6).prop_map(reg)
}

fn any_reg() -> impl Strategy<Value = Reg> {
    (0u8..11).prop_map(reg)
}

fn size() -> impl Strategy<Value = Size> {
    prop::sample::select(vec![Size::B, Size::H, Size::W, Size::DW])
}

fn alu() -> impl Strategy<Value = Insn> {
    let bin = (width(), prop::sample::select(BinOp::ALL.to_vec()), scratch(), any_reg(), imm(), any::<bool>())
        .prop_map(|(width, op, dst, src, imm, use_reg)| {
            let src = if use_reg || op.is_movsx() { Operand::Reg(src) } else { Operand::Imm(imm) };
            Insn::Bin { width, op, dst, src }
        });
    // Pointer registers creep by small steps, off the ends of their regions now and then.
    let creep = (prop::sample::select(vec![6u8, 7, 8]), -24i32..24).prop_map(|(r, k)| Insn::Bin {
        width: Width::W64,
        op: BinOp::Add,
        dst: reg(r),
        src: Operand::Imm(k),
    });
    prop_oneof![8 => bin, 3 => unary(scratch), 2 => creep]
}

/// A base register for an access: mostly the pointers, sometimes anything.
fn base() -> impl Strategy<Value = Reg> {
    prop_oneof![16 => prop::sample::select(vec![6u8, 7, 8, 10]).prop_map(reg), 1 => any_reg()]
}

/// Offsets near zero, mostly; from r10 mostly below it (the stack is under the frame pointer).
fn near(base: Reg, off: i16) -> i16 {
    if base == Reg::R10 && (-8..8).contains(&off) {
        off - 8
    } else {
        off
    }
}

fn mem_op() -> impl Strategy<Value = Insn> {
    let off = prop_oneof![12 => -8i16..8, 3 => -24i16..24, 1 => any::<i16>()];
    let load = (size(), any::<bool>(), scratch(), base(), off.clone()).prop_map(|(size, signed, dst, src, off)| {
        Insn::Load { size, signed: signed && size != Size::DW, dst, src, off: near(src, off) }
    });
    let store = (size(), base(), off.clone(), any_reg(), imm(), any::<bool>()).prop_map(
        |(size, dst, off, src, imm, use_reg)| Insn::Store {
            size,
            dst,
            off: near(dst, off),
            src: if use_reg { Operand::Reg(src) } else { Operand::Imm(imm) },
        },
    );
    let ops = vec![AtomicOp::Add, AtomicOp::Or, AtomicOp::And, AtomicOp::Xor, AtomicOp::Xchg, AtomicOp::CmpXchg];
    let atomic = (any::<bool>(), prop::sample::select(ops), any::<bool>(), base(), scratch(), off).prop_map(
        |(wide, op, fetch, dst, src, off)| Insn::Atomic {
            size: if wide { Size::DW } else { Size::W },
            op,
            fetch: fetch || matches!(op, AtomicOp::Xchg | AtomicOp::CmpXchg),
            dst,
            src,
            off: near(dst, off),
        },
    );
    prop_oneof![3 => load, 3 => store, 1 => atomic]
}

/// A body item; jumps, calls and loops are placed when the program is built.
#[derive(Clone, Debug)]
enum Item {
    Op(Insn),
    /// A forward conditional jump over `skip` items.
    Jump(ForwardJump),
    /// A helper call with its arguments set up: map lookup/update with a key on the stack,
    /// or an argument-free helper.
    Helper {
        id: i32,
        map: i32,
        key: i32,
    },
    /// A call of the subprogram (`deep`: the one that recurses until the frames run out).
    Local {
        deep: bool,
    },
    /// A counted loop of `n` iterations around the next `len` items (r9 is the counter).
    Loop {
        n: u8,
        len: u8,
    },
    /// `BPF_LD_ABS`, refused at run time in `mem` programs.
    LdAbs,
}

fn item() -> impl Strategy<Value = Item> {
    let jump = forward_jump(any_reg).prop_map(Item::Jump);
    let helper = (prop::sample::select(vec![1, 2, 3, 5, 7, 8]), 0i32..2, 0i32..6)
        .prop_map(|(id, map, key)| Item::Helper { id, map, key });
    prop_oneof![
        10 => alu().prop_map(Item::Op),
        8 => mem_op().prop_map(Item::Op),
        3 => jump,
        2 => helper,
        1 => prop_oneof![9 => Just(false), 1 => Just(true)].prop_map(|deep| Item::Local { deep }),
        1 => prop_oneof![9 => (1u8..5, 1u8..5).prop_map(|(n, len)| Item::Loop { n, len }), 1 => Just(Item::LdAbs)],
    ]
}

fn bin(op: BinOp, dst: u8, src: Operand) -> Insn {
    Insn::Bin { width: Width::W64, op, dst: reg(dst), src }
}

/// The instructions of one item (loops and jumps get their offsets from the items' sizes).
fn lower(it: &Item) -> Vec<Insn> {
    match *it {
        Item::Op(insn) => vec![insn],
        Item::Jump(j) => vec![j.insn(0)],
        Item::Helper { id, map, key } => {
            let mut v = Vec::new();
            if matches!(id, 1..=3) {
                v.push(Insn::LoadImm64 { dst: reg(1), src: ImmSrc::MapIdx, imm: map, next_imm: 0 });
                v.push(Insn::Store { size: Size::DW, dst: Reg::R10, off: -8, src: Operand::Imm(key) });
                v.push(bin(BinOp::Mov, 2, Operand::Reg(Reg::R10)));
                v.push(bin(BinOp::Add, 2, Operand::Imm(-8)));
                v.push(bin(BinOp::Mov, 3, Operand::Reg(Reg::R10)));
                v.push(bin(BinOp::Add, 3, Operand::Imm(-16)));
                v.push(bin(BinOp::Mov, 4, Operand::Imm(0)));
            }
            v.push(Insn::Call(CallTarget::Helper(id)));
            v
        }
        Item::Local { .. } => vec![Insn::Call(CallTarget::Local(0))],
        Item::Loop { .. } => vec![],
        Item::LdAbs => vec![Insn::LegacyLoad { mode: LegacyMode::Abs, size: Size::H, src: Reg::R0, imm: 12 }],
    }
}

/// Builds the program: pointers and values in r0–r10, the body, r1–r9 folded into r0, then
/// the subprograms.
fn build(init: &[u64], body: &[Item], sub: &[Insn]) -> Vec<Insn> {
    let mut insns: Vec<Insn> = init.iter().enumerate().map(|(n, v)| set(reg(n as u8), *v)).collect();
    insns.push(set(reg(6), frame_pointer(0) - 32));
    insns.push(set(reg(7), INPUT_BASE + 4));
    insns.push(set(reg(8), MAP_VALUE_BASE + 8));
    let slots = |v: &[Insn]| v.iter().map(|i| i.slots()).sum::<usize>();
    let lowered: Vec<Vec<Insn>> = body.iter().map(lower).collect();
    // Loops: `r9 = n` in place of the item; after the `len` items that follow,
    // `r9 -= 1; if r9 s> 0 goto <first of them>`. Only loops write r9, and a counter at or
    // below zero leaves at once, so every loop ends, nested or entered sideways.
    let mut back: Vec<Option<usize>> = vec![None; body.len()];
    let mut prefix: Vec<Option<u8>> = vec![None; body.len()];
    // Loops do not nest or overlap: an inner one would reset the counter on every round.
    let mut covered = None;
    for (i, it) in body.iter().enumerate() {
        if let Item::Loop { n, len } = *it {
            if i + 1 < body.len() && covered.is_none_or(|c| i > c) {
                let end = (i + len as usize).min(body.len() - 1);
                prefix[i] = Some(n);
                back[end] = Some(i + 1);
                covered = Some(end);
            }
        }
    }
    let size_of = |j: usize| prefix[j].map_or(0, |_| 2) + slots(&lowered[j]) + 2 * usize::from(back[j].is_some());
    let mut starts = Vec::new();
    let mut pc = slots(&insns);
    for j in 0..body.len() {
        starts.push(pc);
        pc += size_of(j);
    }
    let fold_start = pc;
    let sub_start = fold_start + 2 * 9 + 1;
    let deep_start = sub_start + slots(sub);
    for (j, it) in body.iter().enumerate() {
        if let Some(n) = prefix[j] {
            insns.push(set(reg(9), n as u64));
        }
        insns.extend(lowered[j].iter().copied());
        // Patch the item's own jump or call (always its last instruction).
        let last = insns.len() - 1;
        let last_pc = slots(&insns) - 1;
        match (it, &mut insns[last]) {
            (Item::Jump(jump), Insn::Jmp { off, .. }) => {
                let end = j + 1 + jump.skip as usize;
                let target = if end >= body.len() { fold_start } else { starts[end] };
                *off = (target - last_pc - 1) as i16;
            }
            (Item::Local { deep }, Insn::Call(CallTarget::Local(rel))) => {
                let target = if *deep { deep_start } else { sub_start };
                *rel = (target as i64 - last_pc as i64 - 1) as i32;
            }
            _ => {}
        }
        if let Some(to) = back[j] {
            insns.push(bin(BinOp::Sub, 9, Operand::Imm(1)));
            let at = slots(&insns) as i64;
            let off = (starts[to] as i64 - at - 1) as i16;
            insns.push(Insn::Jmp { width: Width::W64, cond: JmpCond::Sgt, dst: reg(9), src: Operand::Imm(0), off });
        }
    }
    for n in 1..10 {
        insns.push(bin(BinOp::Mul, 0, Operand::Imm(31)));
        insns.push(bin(BinOp::Xor, 0, Operand::Reg(reg(n))));
    }
    insns.push(Insn::Exit);
    insns.extend(sub.iter().copied());
    // The deep subprogram calls itself until the frames run out.
    insns.push(bin(BinOp::Add, 0, Operand::Imm(1)));
    insns.push(Insn::Call(CallTarget::Local(-2)));
    insns.push(Insn::Exit);
    insns
}

/// The subprogram: arithmetic and accesses to its own frame, ending in `exit`.
fn subprogram() -> impl Strategy<Value = Vec<Insn>> {
    let op = prop_oneof![
        3 => alu(),
        1 => (size(), 1i16..64, scratch()).prop_map(|(size, k, dst)| Insn::Load { size, signed: false, dst, src: Reg::R10, off: -k }),
        1 => (size(), 1i16..64, any_reg()).prop_map(|(size, k, src)| Insn::Store { size, dst: Reg::R10, off: -k, src: Operand::Reg(src) }),
    ];
    prop::collection::vec(op, 0..8).prop_map(|mut v| {
        v.retain(|i| !matches!(i, Insn::Bin { dst, .. } if *dst == reg(6) || *dst == reg(7) || *dst == reg(8)));
        v.push(Insn::Exit);
        v
    })
}

fn maps() -> Vec<MapDef> {
    vec![
        MapDef {
            name: "arr".into(),
            map_type: MapType::Array,
            key_size: 4,
            value_size: 16,
            max_entries: 4,
            flags: 0,
            extra: Default::default(),
        },
        MapDef {
            name: "h".into(),
            map_type: MapType::Hash,
            key_size: 8,
            value_size: 16,
            max_entries: 8,
            flags: 0,
            extra: Default::default(),
        },
    ]
}

/// Runs both engines; returns a description of any disagreement.
fn compare(insns: Vec<Insn>, input: Vec<u8>) -> Result<(), String> {
    let program = Program { prog_type: ProgType::Mem, maps: maps(), ..Program::from_insns(insns) };
    let options = RunOptions { budget: 100_000, ..RunOptions::default() };
    let input = Input::mem(input);
    let mut interp = Vm::with_options(&program, options.clone()).map_err(|e| format!("interpreter: {e}"))?;
    let mut jit = JitVm::with_options(&program, options).map_err(|e| format!("jit: {e}"))?;
    let text = || ebpf_lab::asm::disasm::disassemble(&program, ebpf_lab::asm::Syntax::Llvm);
    // Twice: the second run starts from the maps the first left.
    for round in 0..2 {
        let (a, b) = (interp.run(&input), jit.run(&input));
        match (&a, &b) {
            (Ok(a), Ok(b)) if a.r0 == b.r0 => {}
            (Err(a), Err(b)) if a == b => {}
            _ => return Err(format!("run {round}: interpreter {a:?}\n jit {b:?}\n{}", text())),
        }
        for m in ["arr", "h"] {
            let (a, b) = (interp.map(m).map(|m| m.entries()), jit.map(m).map(|m| m.entries()));
            if a != b {
                return Err(format!("run {round}: map {m} differs:\n interp {a:?}\n jit {b:?}\n{}", text()));
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 4000, ..ProptestConfig::default() })]

    #[test]
    fn interpreter_and_jit_agree(
        init in prop::collection::vec(imm64(), 6),
        body in prop::collection::vec(item(), 1..40),
        sub in subprogram(),
        input in prop::collection::vec(any::<u8>(), 0..40),
    ) {
        let result = compare(build(&init, &body, &sub), input);
        prop_assert!(result.is_ok(), "{}", result.unwrap_err());
    }
}
