//! The ISA codec: every encoding the decoder accepts encodes back to the same bytes, and the
//! structural errors the kernel reports are reported here too.

use ebpf_lab::isa::{self, DecodeErrorKind, Insn, RawInsn};
use proptest::prelude::*;

fn raw(opcode: u8, dst: u8, src: u8, off: i16, imm: i32) -> [u8; 8] {
    RawInsn { opcode, dst, src, off, imm }.to_bytes()
}

fn decode_err(words: &[[u8; 8]]) -> DecodeErrorKind {
    let bytes: Vec<u8> = words.concat();
    isa::decode(&bytes).expect_err("decoder accepted a malformed program").kind
}

/// Opcodes that exist, so random slots are mostly meaningful.
fn valid_opcode() -> impl Strategy<Value = u8> {
    let all: Vec<u8> = (0u8..=255)
        .filter(|&op| isa::decode_one(RawInsn { opcode: op, ..Default::default() }, Some(RawInsn::default())).is_ok())
        .collect();
    proptest::sample::select(all)
}

fn slot() -> impl Strategy<Value = RawInsn> {
    (
        valid_opcode(),
        0u8..11,
        0u8..11,
        prop_oneof![Just(0i16), Just(1), Just(8), Just(16), Just(32), any::<i16>()],
        prop_oneof![Just(0i32), Just(16), Just(32), Just(64), Just(1), any::<i32>()],
    )
        .prop_map(|(opcode, dst, src, off, imm)| RawInsn { opcode, dst, src, off, imm })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn decode_then_encode_is_identity(slots in proptest::collection::vec(slot(), 1..8)) {
        let bytes: Vec<u8> = slots.iter().flat_map(|s| s.to_bytes()).collect();
        if let Ok(insns) = isa::decode(&bytes) {
            prop_assert_eq!(isa::encode(&insns), bytes);
        }
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
        let _ = isa::decode(&bytes);
    }
}

#[test]
fn every_valid_opcode_class_is_represented() {
    // 0x18 lddw, 0x07 add64 imm, 0xbf mov64 reg, 0x61 ldxw, 0x62 stw, 0x63 stxw, 0xdb atomic dw,
    // 0x85 call, 0x95 exit, 0x06 gotol, 0xd7 bswap, 0x91 ldxsb, 0x20 ldabsw.
    for op in [0x18u8, 0x07, 0xbf, 0x61, 0x62, 0x63, 0xdb, 0x85, 0x95, 0x06, 0xd7, 0x91, 0x20] {
        let next = RawInsn::default();
        let imm = if op == 0xd7 { 16 } else { 0 };
        let r = RawInsn { opcode: op, imm, ..Default::default() };
        assert!(isa::decode_one(r, Some(next)).is_ok(), "opcode {op:#04x} rejected");
    }
}

#[test]
fn unknown_opcodes_are_named_in_hex() {
    let e = decode_err(&[raw(0x8f, 0, 0, 0, 0)]);
    assert_eq!(e, DecodeErrorKind::UnknownOpcode(0x8f));
    assert_eq!(e.to_string(), "unknown opcode 0x8f");
    // ldxdw in MEMSX mode does not exist (sign extension of 8 bytes is a no-op).
    assert_eq!(decode_err(&[raw(0x99, 0, 0, 0, 0)]), DecodeErrorKind::UnknownOpcode(0x99));
    // bswap with the TO_BE bit in ALU64 is not defined.
    assert_eq!(decode_err(&[raw(0xdf, 0, 0, 0, 16)]), DecodeErrorKind::UnknownOpcode(0xdf));
}

#[test]
fn reserved_fields_use_the_kernels_words() {
    let cases: &[([u8; 8], &str)] = &[
        (raw(0x07, 0, 1, 0, 1), "BPF_ALU64 uses reserved fields"), // add imm with src
        (raw(0x07, 0, 0, 2, 1), "BPF_ALU64 uses reserved fields"), // add imm with off 2
        (raw(0x0f, 0, 1, 0, 5), "BPF_ALU64 uses reserved fields"), // add reg with imm
        (raw(0xbf, 0, 1, 1, 0), "BPF_MOV uses reserved fields"),   // mov reg off 1
        (raw(0xbc, 0, 1, 32, 0), "BPF_MOV uses reserved fields"),  // movsx32 in ALU32
        (raw(0x87, 0, 0, 0, 1), "BPF_NEG uses reserved fields"),   // neg with imm
        (raw(0xd4, 0, 0, 0, 8), "BPF_END uses reserved fields"),   // le8
        (raw(0x05, 1, 0, 0, 0), "BPF_JA uses reserved fields"),    // ja with dst
        (raw(0x05, 0, 0, 0, 1), "BPF_JA uses reserved fields"),    // ja with imm
        (raw(0x06, 0, 0, 1, 0), "BPF_JA uses reserved fields"),    // gotol with off
        (raw(0x95, 0, 0, 0, 1), "BPF_EXIT uses reserved fields"),  // exit with imm
        (raw(0x85, 1, 0, 0, 1), "BPF_CALL uses reserved fields"),  // call with dst
        (raw(0x85, 0, 3, 0, 1), "BPF_CALL uses reserved fields"),  // call src 3
        (raw(0x15, 0, 1, 0, 0), "BPF_JMP/JMP32 uses reserved fields"), // jeq imm with src
        (raw(0x1d, 0, 1, 0, 4), "BPF_JMP/JMP32 uses reserved fields"), // jeq reg with imm
        (raw(0x61, 0, 1, 0, 4), "BPF_LDX uses reserved fields"),
        (raw(0x62, 0, 1, 0, 4), "BPF_ST uses reserved fields"),
        (raw(0x63, 0, 1, 0, 4), "BPF_STX uses reserved fields"),
        (raw(0xdb, 0, 1, 0, 0x02), "BPF_ATOMIC uses reserved fields"),
    ];
    for (word, want) in cases {
        let e = decode_err(&[*word]).to_string();
        assert!(e.starts_with(want), "{word:02x?}: got `{e}`, want `{want}`");
    }
}

#[test]
fn registers_above_r10_are_invalid() {
    assert_eq!(decode_err(&[raw(0xb7, 11, 0, 0, 0)]), DecodeErrorKind::BadRegister(11));
    assert_eq!(decode_err(&[raw(0xbf, 0, 15, 0, 0)]).to_string(), "R15 is invalid");
}

#[test]
fn lddw_needs_a_clean_second_slot() {
    assert_eq!(decode_err(&[raw(0x18, 0, 0, 0, 1)]), DecodeErrorKind::HalfLoadImm64);
    assert_eq!(decode_err(&[raw(0x18, 0, 0, 0, 1), raw(0x07, 0, 0, 0, 0)]), DecodeErrorKind::HalfLoadImm64);
    assert_eq!(decode_err(&[raw(0x18, 0, 7, 0, 1), raw(0, 0, 0, 0, 0)]), DecodeErrorKind::BadPseudoSource(7));
    let ok = [raw(0x18, 1, 0, 0, 0x55667788), raw(0, 0, 0, 0, 0x11223344)].concat();
    let insns = isa::decode(&ok).unwrap();
    assert!(matches!(insns[..], [Insn::LoadImm64 { imm: 0x55667788, next_imm: 0x11223344, .. }]));
    assert_eq!(Insn::imm64(0x55667788, 0x11223344), 0x1122334455667788);
}

#[test]
fn trailing_bytes_are_reported() {
    let e = isa::decode(&[0x95, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3]).unwrap_err();
    assert_eq!((e.pc, e.kind), (1, DecodeErrorKind::TrailingBytes(3)));
}

#[test]
fn slot_indices_count_lddw_twice() {
    let bytes = [raw(0x18, 1, 0, 0, 1), raw(0, 0, 0, 0, 0), raw(0x95, 0, 0, 0, 0)].concat();
    let insns = isa::decode(&bytes).unwrap();
    assert_eq!(isa::slot_pcs(&insns), vec![0, 2, 3]);
    assert_eq!(isa::insn_at_slot(&insns), vec![Some(0), None, Some(1)]);
}
