//! The LLVM syntax on its own: error messages and spans, no panics on arbitrary text, and the
//! round trips `parse(format(insn)) == insn` for every valid encoding and
//! `assemble(disassemble(program)) == program` for whole programs.

use ebpf_lab::asm::disasm::{disassemble, FormatCtx};
use ebpf_lab::asm::helper_names::{helper_id, helper_name, helper_names};
use ebpf_lab::asm::{assemble, llvm, Syntax};
use ebpf_lab::isa::{decode_one, CallTarget, ImmSrc, Insn, RawInsn, Reg};
use ebpf_lab::program::{MapDef, MapType, Program};
use proptest::prelude::*;

fn asm(text: &str) -> Result<Program, Vec<ebpf_lab::asm::AsmError>> {
    assemble("test.s", text, Some(Syntax::Llvm)).map_err(|e| e.errors)
}

fn one(text: &str) -> Insn {
    match asm(text) {
        Ok(p) if p.insns.len() == 1 => p.insns[0],
        Ok(p) => panic!("`{text}` gave {} instructions", p.insns.len()),
        Err(e) => panic!("`{text}` failed: {e:?}"),
    }
}

/// Asserts `text` fails with `message`, its first error spanning exactly `token`, with a help
/// line containing `help` (`-`: no help line; empty: help not checked).
#[track_caller]
fn fails(text: &str, message: &str, token: &str, help: &str) {
    let errs = asm(text).expect_err(text);
    let e = &errs[0];
    assert_eq!(e.message, message, "message for `{text}`");
    assert_eq!(&text[e.span.clone()], token, "span for `{text}`");
    match (&e.help, help) {
        (_, "") | (None, "-") => {}
        (Some(h), want) if want != "-" => assert!(h.contains(want), "help for `{text}`: {h:?} lacks {want:?}"),
        (got, want) => panic!("help for `{text}`: got {got:?}, wanted {want:?}"),
    }
}

#[test]
fn error_messages_and_spans() {
    fails("r11 = 1", "there is no register `r11`", "r11", "eBPF has registers r0–r10");
    fails("r1 += r15", "there is no register `r15`", "r15", "eBPF has registers r0–r10");
    fails("R0 = 1", "registers are written in lower case, not `R0`", "R0", "write `r0`");
    fails("mov r0, 1", "unknown instruction `mov`", "mov", "uBPF");
    fails("exti", "unknown instruction `exti`", "exti", "did you mean `exit`?");
    fails("r0 = 0x100000000", "immediate 4294967296 does not fit in 32 bits", "0x100000000", "r0 = 4294967296 ll");
    fails(
        "w0 = -2147483649",
        "immediate -2147483649 does not fit in 32 bits",
        "-2147483649",
        "-2147483648..=4294967295",
    );
    fails("r0 = 99999999999999999999", "`99999999999999999999` does not fit in 64 bits", "99999999999999999999", "");
    fails("r1 = 18446744073709551616 ll", "`18446744073709551616` does not fit in 64 bits", "18446744073709551616", "");
    fails("r1 ** 2", "unknown operator `*`", "*", "did you mean `*=`?");
    fails("r1 += w2", "expected a 64-bit register, found `w2`", "w2", "write `r2`");
    fails("if w1 > r2 goto +1", "expected a 32-bit register, found `r2`", "r2", "write `w2`");
    fails("if r1 =< r2 goto +1", "unknown comparison `=`", "=", "did you mean `==`?");
    fails("if r1 > r2 goto +32768", "offset 32768 does not fit in 16 bits", "+32768", "gotol");
    fails("goto -32769", "offset -32769 does not fit in 16 bits", "-32769", "-32768..=32767");
    fails("goto", "expected an offset (`+3`) or a label, found end of line", "", "");
    fails("goto r1", "`r1` is a register, not a jump target", "r1", "label");
    fails("r0 = *(u64 *)(r1 + 32768)", "offset `+32768` does not fit in 16 bits", "32768", "-32768..=32767");
    fails("r0 = *(u64 *)(r1 * 8)", "expected `+` or `-` and an offset, found `*`", "*", "");
    fails("r0 = *(u46 *)(r1 + 0)", "unknown type `u46`", "u46", "did you mean `u16`?");
    fails("r0 = *(s64 *)(r1 + 0)", "there is no sign-extending 64-bit access", "s64", "u64");
    fails("w0 = *(u64 *)(r1 + 0)", "`*(u64 *)` cannot load into a 32-bit register", "w0", "write `r0`");
    fails("*(s32 *)(r10 - 4) = 1", "stores take an unsigned type, not `s32`", "s32", "write `u32`");
    fails("*(u64 *)(r10 - 8) = w1", "a 64-bit store needs a 64-bit register, found `w1`", "w1", "write `r1`");
    fails(
        "*(u32 *)(r10 - 4) = 0x1ffffffff",
        "immediate 8589934591 does not fit in 32 bits",
        "0x1ffffffff",
        "0xffffffff",
    );
    fails("r1 = be16 r2", "byte swaps work in place: write `r1 = be16 r1`", "r2", "-");
    fails("w1 = be16 w1", "expected a 64-bit register, found `w1`", "w1", "write `r1`");
    fails("r1 = -r2", "negation works in place: write `r1 = -r1`", "r2", "");
    fails("w1 = (s32)w2", "a 32-bit register cannot be sign-extended from 32 bits", "s32", "64-bit registers");
    fails("r1 = (u8)r2", "`(u8)` is not a sign-extending move", "u8", "(s8)");
    fails(
        "call bpf_map_lookup_elm",
        "unknown helper `bpf_map_lookup_elm`",
        "bpf_map_lookup_elm",
        "bpf_map_lookup_elem",
    );
    fails("call r1", "`call` takes a helper number, helper name or label", "r1", "callx r1");
    fails("call 0x100000000", "immediate 4294967296 does not fit in 32 bits", "0x100000000", "");
    fails("callx 1", "expected a register, found `1`", "1", "");
    fails("lock *(u8 *)(r10 - 8) += r1", "atomic operations cannot be `u8`", "u8", "`u32` or `u64`");
    fails("lock *(u64 *)(r10 - 8) -= r1", "`-=` is not an atomic operation", "-=", "");
    fails("lock *(u32 *)(r10 - 8) |= r1", "expected a 32-bit register, found `r1`", "r1", "");
    fails("r1 = cmpxchg_64(r10 - 8, r1, r2)", "cmpxchg compares with `r0`", "r1", "");
    fails("r1 = cmpxchg_64(r10 - 8, r0, r2)", "cmpxchg returns the old value in `r0`", "r1", "");
    fails(
        "r1 = atomic_fetch_add((u64 *)(r10 - 8), r2)",
        "the old value returns in the source register: expected `r1`",
        "r2",
        "",
    );
    fails("r2 = *(u8 *)skb[1]", "legacy packet loads always write `r0`", "r2", "");
    fails("r0 = *(u64 *)skb[1]", "legacy packet loads cannot be `u64`", "u64", "");
    fails("r0 = 1 2", "unexpected `2` after the instruction", "2", "-");
    fails("exit now please", "unexpected `now` after the instruction", "now please", "");
    fails("r0 = 1 @", "unexpected character `@`", "@", "-");
    fails("r1 = map_fd(1)", "expected `ll`, found end of line", "", "`ll`");
    fails("r1 = map_fd(1, 2) ll", "`map_fd` takes 1 arguments, found 2", "map_fd(1, 2)", "");
    fails("w1 = 1 ll", "expected a 64-bit register, found `w1`", "w1", "");
    fails("r1 = ld_pseudo(7, 0, 0) ll", "there is no pseudo source 7", "7", "0..=6");
    fails("r1 = mapp(m) ll", "unknown operation `mapp`", "mapp", "did you mean `map`?");
    fails("r1 = foo ll", "unknown operation `foo`", "foo", "r1 = map(NAME) ll");
    fails("r1 = bswap r1", "unknown operation `bswap`", "bswap", "");
    // Resolution errors come from the driver, with the name's span.
    fails("r1 = map(counts) ll", "unknown map `counts`", "counts", ".map");
    fails("goto nowhere", "unknown label `nowhere`", "nowhere", "");
    fails("out:\nexit\ngoto ot", "unknown label `ot`", "ot", "did you mean `out`?");
}

#[test]
fn only_the_shown_unknown_labels_search_for_a_suggestion() {
    // Each search reads every label; past the 50 errors shown, none is made (linear time).
    let text = format!("out:\n{}exit\n", "goto ot\n".repeat(ebpf_lab::diag::MAX_SHOWN + 10));
    let errs = asm(&text).unwrap_err();
    assert_eq!(errs.len(), ebpf_lab::diag::MAX_SHOWN + 10);
    let helped = errs.iter().filter(|e| e.help.as_deref() == Some("did you mean `out`?")).count();
    assert_eq!(helped, ebpf_lab::diag::MAX_SHOWN);
    assert!(errs[0].help.is_some() && errs.last().unwrap().help.is_none());
}

#[test]
fn spans_count_from_the_start_of_the_file() {
    let text = "r0 = 0\n  start: 7: r0 += r11 # comment\n";
    let errs = asm(text).unwrap_err();
    assert_eq!(errs.len(), 1);
    assert_eq!(&text[errs[0].span.clone()], "r11");
    assert_eq!(errs[0].span.start, text.find("r11").unwrap());
}

#[test]
fn every_bad_line_is_reported() {
    let errs = asm("r11 = 1\nexit\nw1 += r2\nr0 = 1").unwrap_err();
    let messages: Vec<_> = errs.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(messages, ["there is no register `r11`", "expected a 32-bit register, found `r2`"]);
}

#[test]
fn forms_assemble_to_the_expected_instructions() {
    use ebpf_lab::isa::{AtomicOp, BinOp, EndianOp, JmpCond, LegacyMode, Operand, Size, Width};
    let r = |n| Reg::new(n).unwrap();
    assert_eq!(one("r0 = 1"), Insn::Bin { width: Width::W64, op: BinOp::Mov, dst: r(0), src: Operand::Imm(1) });
    // 0xffffffff is the 32-bit pattern -1, as llvm-mc reads it.
    assert_eq!(
        one("r1 = 0xffffffff"),
        Insn::Bin { width: Width::W64, op: BinOp::Mov, dst: r(1), src: Operand::Imm(-1) }
    );
    assert_eq!(one("w0 s%= 5"), Insn::Bin { width: Width::W32, op: BinOp::SMod, dst: r(0), src: Operand::Imm(5) });
    assert_eq!(one("r0 = 010"), Insn::Bin { width: Width::W64, op: BinOp::Mov, dst: r(0), src: Operand::Imm(8) });
    assert_eq!(one("r1 = bswap64 r1"), Insn::Endian { op: EndianOp::Swap, bits: 64, dst: r(1) });
    assert_eq!(
        one("if w1 s< -5 goto -2"),
        Insn::Jmp { width: Width::W32, cond: JmpCond::Slt, dst: r(1), src: Operand::Imm(-5), off: -2 }
    );
    assert_eq!(one("gotol +100000"), Insn::Ja { off: 100000, long: true });
    assert_eq!(one("call bpf_map_lookup_elem"), Insn::Call(CallTarget::Helper(1)));
    assert_eq!(one("call bpf_cgrp_storage_delete"), Insn::Call(CallTarget::Helper(211)));
    assert_eq!(one("call pc-4"), Insn::Call(CallTarget::Local(-4)));
    assert_eq!(one("call kfunc(1234, 2)"), Insn::Call(CallTarget::Kfunc { btf_id: 1234, off: 2 }));
    assert_eq!(
        one("r1 = 0x1122334455667788 ll"),
        Insn::LoadImm64 { dst: r(1), src: ImmSrc::Imm, imm: 0x55667788, next_imm: 0x11223344 }
    );
    assert_eq!(
        one("r1 = map_value_fd(3, 8) ll"),
        Insn::LoadImm64 { dst: r(1), src: ImmSrc::MapValue, imm: 3, next_imm: 8 }
    );
    assert_eq!(one("ld_pseudo r2, 3, 7"), Insn::LoadImm64 { dst: r(2), src: ImmSrc::BtfId, imm: 7, next_imm: 0 });
    assert_eq!(one("w0 = *(u8 *)(r1 - 2)"), Insn::Load { size: Size::B, signed: false, dst: r(0), src: r(1), off: -2 });
    assert_eq!(
        one("w0 = xchg32_32(r10 - 8, w0)"),
        Insn::Atomic { size: Size::W, op: AtomicOp::Xchg, fetch: true, dst: r(10), src: r(0), off: -8 }
    );
    assert_eq!(
        one("r0 = *(u16 *)skb[r3 - 4]"),
        Insn::LegacyLoad { mode: LegacyMode::Ind, size: Size::H, src: r(3), imm: -4 }
    );
}

#[test]
fn labels_and_maps_resolve() {
    let text = "\
.map counts array key=4 value=8 max=1
.map other hash key=4 value=4 max=8
start:
    r1 = map(other) ll
    r2 = map_value(counts, 8) ll
    if r1 == 0 goto out
    call helper
    r3 = func(helper) ll
    goto start
out:
    exit
helper:
    r0 = 0
    exit
";
    let p = asm(text).unwrap();
    let r = |n| Reg::new(n).unwrap();
    assert_eq!(p.insns[0], Insn::LoadImm64 { dst: r(1), src: ImmSrc::MapIdx, imm: 1, next_imm: 0 });
    assert_eq!(p.insns[1], Insn::LoadImm64 { dst: r(2), src: ImmSrc::MapIdxValue, imm: 0, next_imm: 8 });
    // Slots: lddw 0-1, lddw 2-3, if 4, call 5, lddw 6-7, goto 8, exit 9, helper 10.
    assert_eq!(p.insns[2].branch_offset(), Some(9 - 5));
    assert_eq!(p.insns[3], Insn::Call(CallTarget::Local(10 - 6)));
    assert_eq!(p.insns[4].branch_offset(), Some(10 - 7));
    assert_eq!(p.insns[5].branch_offset(), Some(-9));
    // The disassembly names the maps again and reassembles to the same program.
    let text2 = disassemble(&p, Syntax::Llvm);
    assert!(text2.contains("r1 = map(other) ll") && text2.contains("r2 = map_value(counts, 8) ll"), "{text2}");
    assert_eq!(asm(&text2).unwrap().insns, p.insns);
}

#[test]
fn helper_table_follows_the_kernel_numbering() {
    assert_eq!(helper_names().count(), 211);
    assert_eq!(helper_name(1).as_deref(), Some("bpf_map_lookup_elem"));
    assert_eq!(helper_name(6).as_deref(), Some("bpf_trace_printk"));
    assert_eq!(helper_name(12).as_deref(), Some("bpf_tail_call"));
    assert_eq!(helper_name(209).as_deref(), Some("bpf_user_ringbuf_drain"));
    assert_eq!(helper_id("bpf_ktime_get_ns"), Some(5));
    assert_eq!(helper_id("bpf_unspec"), None);
    assert_eq!(helper_id("map_lookup_elem"), None);
    assert_eq!(helper_name(2).as_deref(), Some("bpf_map_update_elem"));
    assert_eq!(helper_name(212), None);
}

#[test]
fn printed_forms() {
    let ctx = FormatCtx::default();
    let f = |t: &str| llvm::format_insn(&one(t), &ctx);
    assert_eq!(f("r0 = 1"), "r0 = 0x1");
    assert_eq!(f("w1 = -1"), "w1 = -0x1");
    assert_eq!(f("if r1 > r2 goto +3"), "if r1 > r2 goto +0x3");
    assert_eq!(f("r0 = *(u64 *)(r1 - 8)"), "r0 = *(u64 *)(r1 - 0x8)");
    assert_eq!(f("call pc+3"), "call pc+3");
    assert_eq!(f("call kfunc(77)"), "call kfunc(77)");
    assert_eq!(f("r1 = map_fd(5) ll"), "r1 = map_fd(5) ll");
    assert_eq!(f("r1 = btf_id(5, 1) ll"), "r1 = btf_id(5, 1) ll");
    assert_eq!(f("r1 = ld_pseudo(1, 5, 1) ll"), "r1 = ld_pseudo(1, 5, 1) ll");
    assert_eq!(f("r1 = func(-2) ll"), "r1 = func(-2) ll");
    assert_eq!(f("r1 = map_idx(0) ll"), "r1 = map_idx(0) ll");
    assert_eq!(f("r0 = *(u32 *)skb[r2 + 0x10]"), "r0 = *(u32 *)skb[r2 + 0x10]");
    assert_eq!(f("r1 = -1 ll"), "r1 = -0x1 ll");
}

// ------------------------------------------------------------------------------------------
// Properties
// ------------------------------------------------------------------------------------------

/// Every opcode byte that decodes with some plausible field values.
fn valid_opcodes() -> Vec<u8> {
    let next = RawInsn::default();
    (0..=255u8)
        .filter(|&opcode| {
            [0i16, 1, 8, 16, 32].iter().any(|&off| {
                [0i32, 1, 16, 0x41].iter().any(|&imm| {
                    (0..=2u8).any(|src| decode_one(RawInsn { opcode, dst: 1, src, off, imm }, Some(next)).is_ok())
                        || decode_one(RawInsn { opcode, dst: 0, src: 0, off, imm }, Some(next)).is_ok()
                })
            })
        })
        .collect()
}

/// Raw instructions biased toward valid ones: a valid opcode (mostly), fields drawn from the
/// values instructions use (mostly), and a second slot for `lddw`.
fn raw_insn() -> impl Strategy<Value = (RawInsn, RawInsn)> {
    let opcodes = valid_opcodes();
    let opcode = prop_oneof![9 => proptest::sample::select(opcodes), 1 => any::<u8>()];
    let reg = prop_oneof![9 => 0u8..=10, 1 => 0u8..=15];
    let src = prop_oneof![6 => 0u8..=6, 3 => 0u8..=10, 1 => 0u8..=15];
    let off = prop_oneof![
        4 => Just(0i16),
        2 => proptest::sample::select(vec![1i16, 8, 16, 32, -1, i16::MIN, i16::MAX]),
        3 => any::<i16>()
    ];
    let imm = prop_oneof![
        3 => Just(0i32),
        3 => proptest::sample::select(vec![1i32, 16, 32, 64, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1, -1, i32::MIN, i32::MAX]),
        4 => any::<i32>()
    ];
    (opcode, reg, src, off, imm, prop_oneof![Just(0i32), any::<i32>()]).prop_map(
        |(opcode, dst, src, off, imm, next_imm)| {
            (RawInsn { opcode, dst, src, off, imm }, RawInsn { imm: next_imm, ..RawInsn::default() })
        },
    )
}

fn maps() -> Vec<MapDef> {
    // `r2` is a legal map name that looks like a register.
    ["counts", "r2"]
        .iter()
        .map(|n| MapDef {
            name: n.to_string(),
            map_type: MapType::Array,
            key_size: 4,
            value_size: 8,
            max_entries: 4,
            flags: 0,
            extra: Default::default(),
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, max_global_rejects: 20000, ..ProptestConfig::default() })]

    /// `parse(format(insn)) == insn` for every instruction `isa::decode` accepts.
    #[test]
    fn format_then_parse_is_identity((raw, next) in raw_insn()) {
        let insn = decode_one(raw, Some(next));
        prop_assume!(insn.is_ok());
        let insn = insn.unwrap();
        let text = llvm::format_insn(&insn, &FormatCtx::default());
        let back = llvm::parse_insn(&text, 0).map_err(|e| format!("`{text}`: {}", e.message));
        prop_assert_eq!(back.as_ref().map(|s| s.insn), Ok(insn), "printed as `{}`", text);
        prop_assert!(back.unwrap().fixup.is_none());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, max_global_rejects: 50000, ..ProptestConfig::default() })]

    /// Whole programs, with their maps and the disassembler's `  N: ` prefixes.
    #[test]
    fn disassemble_then_assemble_is_identity(raws in proptest::collection::vec(raw_insn(), 1..40)) {
        let insns: Vec<Insn> = raws.iter().filter_map(|(r, n)| decode_one(*r, Some(*n)).ok()).collect();
        prop_assume!(!insns.is_empty());
        let mut program = Program::from_insns(insns);
        program.maps = maps();
        let text = disassemble(&program, Syntax::Llvm);
        let back = assemble("round.s", &text, None).map_err(|e| format!("{e:?}\n{text}"));
        prop_assert_eq!(back.map(|p| p.insns), Ok(program.insns.clone()));
    }

    /// Arbitrary text never panics, and every error points inside the text.
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,60}") {
        if let Err(errs) = asm(&text) {
            for e in errs {
                prop_assert!(e.span.end <= text.len() && text.is_char_boundary(e.span.start) && text.is_char_boundary(e.span.end));
            }
        }
    }

    /// Near-miss text built from the syntax's own tokens never panics either.
    #[test]
    fn token_soup_never_panics(tokens in proptest::collection::vec(proptest::sample::select(vec![
        "r0", "w1", "r10", "r11", "=", "+=", "s>>=", "-", "+", "*", "(", ")", "[", "]", ",", "u8", "u64", "s16",
        "skb", "ll", "if", "goto", "gotol", "call", "callx", "exit", "lock", "0", "1", "0x7fffffff", "-32768",
        "99999999999999999999999", "map", "map_value", "func", "kfunc", "pc", "ld_pseudo", "be16", "bswap64",
        "xchg_64", "cmpxchg32_32", "atomic_fetch_or", "label", ">", "s<=", "&", "0x", "0b2", "09",
    ]), 0..14), spaced in any::<bool>()) {
        let text = tokens.join(if spaced { " " } else { "" });
        if let Err(errs) = asm(&text) {
            for e in errs {
                prop_assert!(e.span.end <= text.len());
            }
        }
    }
}

#[test]
fn map_names_may_look_like_registers() {
    let p = asm(".map r2 array key=4 value=4 max=1\nr1 = map(r2) ll\nexit").unwrap();
    assert_eq!(p.insns[0], Insn::LoadImm64 { dst: Reg::R1, src: ImmSrc::MapIdx, imm: 0, next_imm: 0 });
    let text = disassemble(&p, Syntax::Llvm);
    assert!(text.contains("r1 = map(r2) ll"), "{text}");
    assert_eq!(asm(&text).unwrap().insns, p.insns);
}

#[test]
fn a_map_line_that_fails_is_one_error_not_one_more_per_use() {
    let text =
        ".map counts percpu_array 4 8 4\nr1 = map(counts) ll\nr1 = map(counts) ll\nr1 = map(other) ll\nr0 = 0\nexit\n";
    let errs = assemble("m.s", text, None).unwrap_err().errors;
    let messages: Vec<String> = errs.iter().map(|e| e.message.clone()).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages[0].contains("expected `key=value`"), "{messages:?}");
    assert_eq!(messages[1], "unknown map `other`", "{messages:?}");
}
