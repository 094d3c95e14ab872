//! The kernel backend runs a `Program` for real: verdicts, the full 64-bit r0 through the
//! wrapper, mem/xdp/socket contexts, and maps created, relocated and read back.

use ebpf_lab::isa::{BinOp, CallTarget, ImmSrc, Insn, Operand, Reg, Size, Width};
use ebpf_lab::kernel::{self, KernelInput, KernelProgram, LoadOptions};
use ebpf_lab::program::{MapDef, MapType, ProgType, Program};

fn r(n: u8) -> Reg {
    Reg::new(n).unwrap()
}

fn mov(dst: u8, imm: i32) -> Insn {
    Insn::Bin { width: Width::W64, op: BinOp::Mov, dst: r(dst), src: Operand::Imm(imm) }
}

fn prog(t: ProgType, insns: Vec<Insn>) -> Program {
    Program { prog_type: t, ..Program::from_insns(insns) }
}

#[test]
fn r0_comes_back_with_all_64_bits() {
    if !kernel::require_or_skip("r0_comes_back_with_all_64_bits") {
        return;
    }
    let p = prog(
        ProgType::Mem,
        vec![Insn::LoadImm64 { dst: Reg::R0, src: ImmSrc::Imm, imm: 0x55667788, next_imm: 0x11223344 }, Insn::Exit],
    );
    let mut k = KernelProgram::load(&p, &LoadOptions::default()).unwrap();
    assert!(k.verdict().accepted(), "{:?}", k.verdict().error);
    let run = k.run(&p, &KernelInput::default()).unwrap();
    assert_eq!((run.r0, run.r0_bits), (0x1122334455667788, 64));
}

#[test]
fn mem_programs_see_the_buffer_in_r1_and_its_length_in_r2() {
    if !kernel::require_or_skip("mem_programs_see_the_buffer") {
        return;
    }
    // r0 = buf[2] + len
    let p = prog(
        ProgType::Mem,
        vec![
            Insn::Load { size: Size::B, signed: false, dst: Reg::R0, src: Reg::R1, off: 2 },
            Insn::Bin { width: Width::W64, op: BinOp::Add, dst: Reg::R0, src: Operand::Reg(r(2)) },
            Insn::Exit,
        ],
    );
    let mut k = KernelProgram::load(&p, &LoadOptions { mem_len: 5, log_level: 2, ..Default::default() }).unwrap();
    assert!(k.verdict().accepted(), "{}", k.verdict().log);
    // The log speaks of the program's own instruction numbers.
    assert!(k.verdict().log.contains("\n0: (71) r0 = *(u8 *)(r1 +2)"), "{}", k.verdict().log);
    let run = k.run(&p, &KernelInput { ctx: Some(&[1, 2, 30, 4, 5]), packet: None }).unwrap();
    assert_eq!(run.r0, 35);
    // The length is part of what was verified: another one is refused, not silently wrong.
    assert!(k.run(&p, &KernelInput { ctx: Some(&[1, 2, 30]), packet: None }).is_err());
    // Reading past the buffer is caught by the verifier: the buffer is a map value of its size.
    let far = prog(
        ProgType::Mem,
        vec![Insn::Load { size: Size::B, signed: false, dst: Reg::R0, src: Reg::R1, off: 9 }, Insn::Exit],
    );
    let k = KernelProgram::load(&far, &LoadOptions { mem_len: 5, log_level: 1, ..Default::default() }).unwrap();
    assert!(!k.verdict().accepted());
    assert!(k.verdict().log.contains("invalid access to map value, value_size=5 off=9 size=1"), "{}", k.verdict().log);
}

#[test]
fn a_rejected_program_has_the_kernels_log_with_its_own_instruction_numbers() {
    if !kernel::require_or_skip("rejected_program_log") {
        return;
    }
    // Reads r3, which was never written.
    let p = prog(
        ProgType::Xdp,
        vec![
            mov(0, 1),
            Insn::Bin { width: Width::W64, op: BinOp::Add, dst: Reg::R0, src: Operand::Reg(r(3)) },
            Insn::Exit,
        ],
    );
    let mut k = KernelProgram::load(&p, &LoadOptions { log_level: 1, ..Default::default() }).unwrap();
    assert!(!k.verdict().accepted());
    assert!(k.verdict().log.contains("1: (0f) r0 += r3"), "{}", k.verdict().log);
    assert!(k.verdict().log.contains("R3 !read_ok"), "{}", k.verdict().log);
    assert!(k.run(&p, &KernelInput::default()).is_err());
}

#[test]
fn xdp_programs_get_the_packet_and_return_it() {
    if !kernel::require_or_skip("xdp_programs_get_the_packet") {
        return;
    }
    // data = ctx->data; data_end = ctx->data_end; if data + 1 > data_end: return 1;
    // *(u8 *)data = 0xaa; return 2 (XDP_PASS)
    let p = prog(
        ProgType::Xdp,
        vec![
            Insn::Load { size: Size::W, signed: false, dst: r(2), src: Reg::R1, off: 0 },
            Insn::Load { size: Size::W, signed: false, dst: r(3), src: Reg::R1, off: 4 },
            Insn::Bin { width: Width::W64, op: BinOp::Mov, dst: r(4), src: Operand::Reg(r(2)) },
            Insn::Bin { width: Width::W64, op: BinOp::Add, dst: r(4), src: Operand::Imm(1) },
            mov(0, 1),
            Insn::Jmp {
                width: Width::W64,
                cond: ebpf_lab::isa::JmpCond::Gt,
                dst: r(4),
                src: Operand::Reg(r(3)),
                off: 2,
            },
            Insn::Store { size: Size::B, dst: r(2), off: 0, src: Operand::Imm(0xaa) },
            mov(0, 2),
            Insn::Exit,
        ],
    );
    let mut k = KernelProgram::load(&p, &LoadOptions::default()).unwrap();
    assert!(k.verdict().accepted(), "{}", k.verdict().log);
    let packet = [0u8; 64];
    let run = k.run(&p, &KernelInput { packet: Some(&packet), ctx: None }).unwrap();
    assert_eq!(run.r0, 2);
    let out = run.data_out.unwrap();
    assert_eq!(out.len(), 64);
    assert_eq!(out[0], 0xaa);
}

#[test]
fn maps_are_created_relocated_and_read_back() {
    if !kernel::require_or_skip("maps_are_created_relocated") {
        return;
    }
    // key = 3; v = lookup(counts, &key); if v: *v += 5 (atomic); r0 = 0
    let insns = vec![
        Insn::Store { size: Size::W, dst: Reg::R10, off: -4, src: Operand::Imm(3) },
        Insn::LoadImm64 { dst: Reg::R1, src: ImmSrc::MapIdx, imm: 0, next_imm: 0 },
        Insn::Bin { width: Width::W64, op: BinOp::Mov, dst: r(2), src: Operand::Reg(Reg::R10) },
        Insn::Bin { width: Width::W64, op: BinOp::Add, dst: r(2), src: Operand::Imm(-4) },
        Insn::Call(CallTarget::Helper(1)),
        Insn::Jmp { width: Width::W64, cond: ebpf_lab::isa::JmpCond::Eq, dst: Reg::R0, src: Operand::Imm(0), off: 2 },
        mov(1, 5),
        Insn::Atomic {
            size: Size::DW,
            op: ebpf_lab::isa::AtomicOp::Add,
            fetch: false,
            dst: Reg::R0,
            src: Reg::R1,
            off: 0,
        },
        mov(0, 0),
        Insn::Exit,
    ];
    let mut p = prog(ProgType::Socket, insns);
    p.maps.push(MapDef {
        name: "counts".into(),
        map_type: MapType::Array,
        key_size: 4,
        value_size: 8,
        max_entries: 4,
        flags: 0,
        extra: Default::default(),
    });
    let mut k = KernelProgram::load(&p, &LoadOptions::default()).unwrap();
    assert!(k.verdict().accepted(), "{}", k.verdict().log);
    k.map_update(0, &3u32.to_ne_bytes(), &10u64.to_ne_bytes()).unwrap();
    let packet = [0u8; 64];
    for _ in 0..2 {
        k.run(&p, &KernelInput { packet: Some(&packet), ctx: None }).unwrap();
    }
    let entries = k.map_entries(0).unwrap();
    assert_eq!(entries.len(), 4);
    assert_eq!(entries[3], (3u32.to_ne_bytes().to_vec(), 20u64.to_ne_bytes().to_vec()));
    assert_eq!(entries[0].1, 0u64.to_ne_bytes().to_vec());
}
