//! Raw opcode fields of the eBPF encoding (RFC 9669 §3, `include/uapi/linux/bpf.h`).
//!
//! The opcode byte is `class | (op or mode) | (source or size)`. These constants are the only
//! place the numbers appear; everything else speaks in terms of [`crate::isa::Insn`].

/// Instruction class: the low three bits of the opcode.
pub mod class {
    /// Non-standard loads (lddw, legacy packet access).
    pub const LD: u8 = 0x00;
    /// Register loads.
    pub const LDX: u8 = 0x01;
    /// Immediate stores.
    pub const ST: u8 = 0x02;
    /// Register stores and atomics.
    pub const STX: u8 = 0x03;
    /// 32-bit arithmetic.
    pub const ALU: u8 = 0x04;
    /// 64-bit jumps, calls and exit.
    pub const JMP: u8 = 0x05;
    /// 32-bit jumps.
    pub const JMP32: u8 = 0x06;
    /// 64-bit arithmetic.
    pub const ALU64: u8 = 0x07;
}

/// Source bit of ALU and JMP opcodes.
pub mod source {
    /// Operand is the 32-bit immediate (`BPF_K`).
    pub const K: u8 = 0x00;
    /// Operand is the source register (`BPF_X`).
    pub const X: u8 = 0x08;
}

/// Operation codes of the ALU classes (high four bits).
pub mod alu {
    pub const ADD: u8 = 0x00;
    pub const SUB: u8 = 0x10;
    pub const MUL: u8 = 0x20;
    pub const DIV: u8 = 0x30;
    pub const OR: u8 = 0x40;
    pub const AND: u8 = 0x50;
    pub const LSH: u8 = 0x60;
    pub const RSH: u8 = 0x70;
    pub const NEG: u8 = 0x80;
    pub const MOD: u8 = 0x90;
    pub const XOR: u8 = 0xa0;
    pub const MOV: u8 = 0xb0;
    pub const ARSH: u8 = 0xc0;
    pub const END: u8 = 0xd0;
}

/// Operation codes of the JMP classes (high four bits).
pub mod jmp {
    pub const JA: u8 = 0x00;
    pub const JEQ: u8 = 0x10;
    pub const JGT: u8 = 0x20;
    pub const JGE: u8 = 0x30;
    pub const JSET: u8 = 0x40;
    pub const JNE: u8 = 0x50;
    pub const JSGT: u8 = 0x60;
    pub const JSGE: u8 = 0x70;
    pub const CALL: u8 = 0x80;
    pub const EXIT: u8 = 0x90;
    pub const JLT: u8 = 0xa0;
    pub const JLE: u8 = 0xb0;
    pub const JSLT: u8 = 0xc0;
    pub const JSLE: u8 = 0xd0;
}

/// Size field of load/store opcodes (bits 3–4).
pub mod size {
    pub const W: u8 = 0x00;
    pub const H: u8 = 0x08;
    pub const B: u8 = 0x10;
    pub const DW: u8 = 0x18;
}

/// Mode field of load/store opcodes (high three bits).
pub mod mode {
    pub const IMM: u8 = 0x00;
    pub const ABS: u8 = 0x20;
    pub const IND: u8 = 0x40;
    pub const MEM: u8 = 0x60;
    pub const MEMSX: u8 = 0x80;
    pub const ATOMIC: u8 = 0xc0;
}

/// The `imm` field of atomic instructions.
pub mod atomic {
    /// Or-ed into the operation: also return the old value in `src`.
    pub const FETCH: i32 = 0x01;
    pub const ADD: i32 = 0x00;
    pub const OR: i32 = 0x40;
    pub const AND: i32 = 0x50;
    pub const XOR: i32 = 0xa0;
    /// Exchange (always fetches).
    pub const XCHG: i32 = 0xe0 | FETCH;
    /// Compare with r0 and exchange (always fetches into r0).
    pub const CMPXCHG: i32 = 0xf0 | FETCH;
}

/// `src_reg` values of `BPF_LD | BPF_IMM | BPF_DW` (the `BPF_PSEUDO_*` constants).
pub mod pseudo {
    pub const MAP_FD: u8 = 1;
    pub const MAP_VALUE: u8 = 2;
    pub const BTF_ID: u8 = 3;
    pub const FUNC: u8 = 4;
    pub const MAP_IDX: u8 = 5;
    pub const MAP_IDX_VALUE: u8 = 6;
    /// `src_reg` of a call to a BPF subprogram.
    pub const CALL: u8 = 1;
    /// `src_reg` of a call to a kernel function.
    pub const KFUNC_CALL: u8 = 2;
}

/// `BPF_TO_LE`: the source bit of `BPF_END` in the ALU class.
pub const TO_LE: u8 = source::K;
/// `BPF_TO_BE`: the source bit of `BPF_END` in the ALU class.
pub const TO_BE: u8 = source::X;

/// Extracts the class (low 3 bits) of an opcode.
pub const fn class_of(opcode: u8) -> u8 {
    opcode & 0x07
}
