//! The uBPF / bpf_conformance syntax: one mnemonic, then comma-separated operands.
//!
//! ```text
//! mov %r0, 1              mov32 %r1, 0xffffffff     add %r1, %r2      neg32 %r3
//! movsx864 %r0, %r1       movsx1632 %r0, %r1        le16 %r1          bswap64 %r1
//! ldxw %r0, [%r1+4]       ldxsh %r0, [%r1]          stdw [%r10-8], 5  stxb [%r10-1], %r1
//! jeq %r1, 0x2, L3        jsgt32 %r1, %r2, -2       ja L1             ja32 +70000
//! call 5                  call %r2                  call local func1  call kfunc(1234)
//! exit                    lddw %r0, 0x1122334455667788              lddw %r1, map(counts)
//! lock add [%r10-8], %r1  lock fetch xor32 [%r10-4], %r2            lock cmpxchg [%r1], %r2
//! ldabsh 12               ldindw %r1, 4
//! ```
//!
//! The `%` before a register is optional. A mnemonic without a suffix (or with `64`) is the 64-bit
//! form, `32` selects the 32-bit one. The sign-extending moves are spelled as in the conformance
//! suite: `movsx` + source bits + destination width (`movsx864`, `movsx1632`, `movsx3264`, ...).
//!
//! ## Numbers
//! The suite's range rules: a decimal immediate must fit a signed 32-bit value, while a hex one
//! may be any 32-bit pattern up to `0xffffffff` (`0xffffffff` is -1). `lddw` takes any 64-bit
//! value. Memory and jump offsets are signed 16-bit values; jump offsets are written with their
//! sign (`+3`, `-2`) so they cannot be mistaken for labels.
//!
//! ## `lddw` pseudo sources (ebpf-lab's own spelling, shared with the LLVM syntax)
//! `map(NAME)` and `map_value(NAME, OFF)` refer to a `.map` by name; the raw forms are
//! `map_fd(FD)`, `map_value_fd(FD, OFF)`, `btf_id(ID[, NEXT])`, `func(LABEL|+OFF)`, `map_idx(N)`,
//! `map_idx_value(N, OFF)`, and `ld_pseudo(SRC, IMM, NEXT)` for any other combination. Calls to
//! kernel functions are `call kfunc(BTF_ID[, OFF])` (the suite's `call runtime ID` also works).

use super::disasm::FormatCtx;
use super::{closest, is_ident, suggest, AsmError, Fixup, Stmt};
use crate::isa::{AtomicOp, BinOp, CallTarget, EndianOp, ImmSrc, Insn, JmpCond, LegacyMode, Operand, Reg, Size, Width};
use std::collections::HashMap;
use std::ops::Range;
use std::sync::OnceLock;

/// A piece of the statement with its byte offset in the file, so every error can point at it.
#[derive(Clone, Copy, Debug)]
struct Tok<'a> {
    text: &'a str,
    start: usize,
}

impl<'a> Tok<'a> {
    fn span(self) -> Range<usize> {
        self.start..self.start + self.text.len()
    }

    fn trimmed(self) -> Tok<'a> {
        let lead = self.text.len() - self.text.trim_start().len();
        Tok { text: self.text.trim(), start: self.start + lead }
    }

    /// Splits off the first whitespace-separated word; the rest is trimmed.
    fn first_word(self) -> (Tok<'a>, Tok<'a>) {
        let t = self.trimmed();
        let end = t.text.find(char::is_whitespace).unwrap_or(t.text.len());
        let word = Tok { text: &t.text[..end], start: t.start };
        let rest = Tok { text: &t.text[end..], start: t.start + end }.trimmed();
        (word, rest)
    }

    fn sub(self, range: Range<usize>) -> Tok<'a> {
        Tok { text: &self.text[range.clone()], start: self.start + range.start }
    }
}

/// What a mnemonic assembles to, before its operands are read.
#[derive(Clone, Copy, Debug)]
enum Op {
    Bin(BinOp, Width),
    Neg(Width),
    Endian(EndianOp, u32),
    Load(Size, bool),
    Store(Size),
    StoreX(Size),
    Lddw,
    Ja { long: bool },
    Jmp(JmpCond, Width),
    Call,
    Callx,
    Exit,
    Legacy(LegacyMode, Size),
}

/// The binary ALU operations by their printed stem (64-bit form; `32` appended for ALU32).
const ALU_STEMS: [(&str, BinOp); 14] = [
    ("add", BinOp::Add),
    ("sub", BinOp::Sub),
    ("mul", BinOp::Mul),
    ("div", BinOp::Div),
    ("sdiv", BinOp::SDiv),
    ("mod", BinOp::Mod),
    ("smod", BinOp::SMod),
    ("or", BinOp::Or),
    ("and", BinOp::And),
    ("lsh", BinOp::Lsh),
    ("rsh", BinOp::Rsh),
    ("arsh", BinOp::Arsh),
    ("xor", BinOp::Xor),
    ("mov", BinOp::Mov),
];

/// Access sizes by their mnemonic suffix.
const SIZES: [(&str, Size); 4] = [("b", Size::B), ("h", Size::H), ("w", Size::W), ("dw", Size::DW)];

/// Atomic operations by their name after `lock` (without the `32` suffix).
const ATOMIC_OPS: [(&str, AtomicOp); 6] = [
    ("add", AtomicOp::Add),
    ("or", AtomicOp::Or),
    ("and", AtomicOp::And),
    ("xor", AtomicOp::Xor),
    ("xchg", AtomicOp::Xchg),
    ("cmpxchg", AtomicOp::CmpXchg),
];

/// The mnemonic table: every accepted spelling, including aliases (`add64`, `swap16`, `movsx8`).
fn mnemonics() -> &'static HashMap<String, Op> {
    static TABLE: OnceLock<HashMap<String, Op>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = HashMap::new();
        for (stem, op) in ALU_STEMS {
            t.insert(stem.to_string(), Op::Bin(op, Width::W64));
            t.insert(format!("{stem}64"), Op::Bin(op, Width::W64));
            t.insert(format!("{stem}32"), Op::Bin(op, Width::W32));
        }
        // The suite's names: source bits then destination width.
        for (name, op, width) in [
            ("movsx864", BinOp::MovSx8, Width::W64),
            ("movsx1664", BinOp::MovSx16, Width::W64),
            ("movsx3264", BinOp::MovSx32, Width::W64),
            ("movsx832", BinOp::MovSx8, Width::W32),
            ("movsx1632", BinOp::MovSx16, Width::W32),
            // Short aliases, sign-extending into all 64 bits.
            ("movsx8", BinOp::MovSx8, Width::W64),
            ("movsx16", BinOp::MovSx16, Width::W64),
            ("movsx32", BinOp::MovSx32, Width::W64),
        ] {
            t.insert(name.to_string(), Op::Bin(op, width));
        }
        t.insert("neg".into(), Op::Neg(Width::W64));
        t.insert("neg64".into(), Op::Neg(Width::W64));
        t.insert("neg32".into(), Op::Neg(Width::W32));
        for bits in [16, 32, 64] {
            t.insert(format!("le{bits}"), Op::Endian(EndianOp::ToLe, bits));
            t.insert(format!("be{bits}"), Op::Endian(EndianOp::ToBe, bits));
            t.insert(format!("bswap{bits}"), Op::Endian(EndianOp::Swap, bits));
            t.insert(format!("swap{bits}"), Op::Endian(EndianOp::Swap, bits));
        }
        for (suffix, size) in SIZES {
            t.insert(format!("ldx{suffix}"), Op::Load(size, false));
            if size != Size::DW {
                t.insert(format!("ldxs{suffix}"), Op::Load(size, true));
                t.insert(format!("ldabs{suffix}"), Op::Legacy(LegacyMode::Abs, size));
                t.insert(format!("ldind{suffix}"), Op::Legacy(LegacyMode::Ind, size));
            }
            t.insert(format!("st{suffix}"), Op::Store(size));
            t.insert(format!("stx{suffix}"), Op::StoreX(size));
        }
        t.insert("lddw".into(), Op::Lddw);
        t.insert("ja".into(), Op::Ja { long: false });
        t.insert("ja32".into(), Op::Ja { long: true });
        for cond in JmpCond::ALL {
            let m = cond.mnemonic();
            t.insert(m.to_string(), Op::Jmp(cond, Width::W64));
            t.insert(format!("{m}64"), Op::Jmp(cond, Width::W64));
            t.insert(format!("{m}32"), Op::Jmp(cond, Width::W32));
        }
        t.insert("call".into(), Op::Call);
        t.insert("callx".into(), Op::Callx);
        t.insert("exit".into(), Op::Exit);
        t
    })
}

/// Every mnemonic the parser accepts (plus `lock`), sorted — for suggestions and documentation.
pub fn mnemonic_names() -> &'static [&'static str] {
    // Built once: every unknown mnemonic of a file is compared with it.
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names: Vec<&'static str> = mnemonics().keys().map(String::as_str).collect();
        names.push("lock");
        names.sort_unstable();
        names
    })
}

/// Parses one instruction statement (comments, labels and directives already removed).
/// `offset` is the byte offset of `text` in the file, for error spans.
pub fn parse_insn(text: &str, offset: usize) -> Result<Stmt, AsmError> {
    let line = Tok { text, start: offset }.trimmed();
    let (mn, rest) = line.first_word();
    if mn.text == "lock" {
        return parse_lock(line, rest).map(plain);
    }
    let Some(&op) = mnemonics().get(mn.text) else {
        return Err(unknown_mnemonic(mn, line));
    };
    let m = mn.text;
    match op {
        // `call` has space-separated forms (`call local LABEL`), so it reads its own operands.
        Op::Call => return parse_call(line, rest),
        Op::Exit => {
            expect_count(mn, line, &split_operands(rest)?, 0, "`exit`")?;
            return Ok(plain(Insn::Exit));
        }
        _ => {}
    }
    let ops = split_operands(rest)?;
    Ok(match op {
        Op::Bin(bin, width) if bin.is_movsx() => {
            expect_count(mn, line, &ops, 2, &format!("`{m} %rD, %rS`"))?;
            let dst = parse_reg(ops[0])?;
            let src = match parse_reg_or_imm(ops[1])? {
                Operand::Reg(r) => r,
                Operand::Imm(_) => {
                    return Err(AsmError::new(ops[1].span(), format!("`{m}` takes a register source")).with_help(
                        "sign extension of a constant is done by the assembler: write `mov` with the value",
                    ))
                }
            };
            if bin == BinOp::MovSx32 && width == Width::W32 {
                return Err(AsmError::new(mn.span(), "a 32-bit move cannot sign-extend from 32 bits")
                    .with_help("use `mov32`, or `movsx3264` to extend into 64 bits"));
            }
            plain(Insn::Bin { width, op: bin, dst, src: Operand::Reg(src) })
        }
        Op::Bin(bin, width) => {
            expect_count(mn, line, &ops, 2, &format!("`{m} %rD, %rS` or `{m} %rD, IMM`"))?;
            plain(Insn::Bin { width, op: bin, dst: parse_reg(ops[0])?, src: parse_reg_or_imm(ops[1])? })
        }
        Op::Neg(width) => {
            expect_count(mn, line, &ops, 1, &format!("`{m} %rD`"))?;
            plain(Insn::Neg { width, dst: parse_reg(ops[0])? })
        }
        Op::Endian(op, bits) => {
            expect_count(mn, line, &ops, 1, &format!("`{m} %rD`"))?;
            plain(Insn::Endian { op, bits, dst: parse_reg(ops[0])? })
        }
        Op::Load(size, signed) => {
            expect_count(mn, line, &ops, 2, &format!("`{m} %rD, [%rS+OFF]`"))?;
            let dst = parse_reg(ops[0])?;
            let (src, off) = parse_mem(ops[1])?;
            plain(Insn::Load { size, signed, dst, src, off })
        }
        Op::Store(size) => {
            expect_count(mn, line, &ops, 2, &format!("`{m} [%rD+OFF], IMM`"))?;
            let (dst, off) = parse_mem(ops[0])?;
            if looks_like_reg(ops[1].text) {
                return Err(AsmError::new(ops[1].span(), format!("`{m}` stores an immediate, not a register"))
                    .with_help(format!("to store a register write `stx{}`", &m[2..])));
            }
            plain(Insn::Store { size, dst, off, src: Operand::Imm(parse_imm32(ops[1])?) })
        }
        Op::StoreX(size) => {
            expect_count(mn, line, &ops, 2, &format!("`{m} [%rD+OFF], %rS`"))?;
            let (dst, off) = parse_mem(ops[0])?;
            if !looks_like_reg(ops[1].text) && parse_num(ops[1].text).is_some() {
                return Err(AsmError::new(ops[1].span(), format!("`{m}` stores a register, not an immediate"))
                    .with_help(format!("to store an immediate write `st{}`", &m[3..])));
            }
            plain(Insn::Store { size, dst, off, src: Operand::Reg(parse_reg(ops[1])?) })
        }
        Op::Lddw => {
            expect_count(mn, line, &ops, 2, "`lddw %rD, IMM64` or `lddw %rD, map(NAME)`")?;
            parse_lddw(parse_reg(ops[0])?, ops[1])?
        }
        Op::Ja { long } => {
            expect_count(mn, line, &ops, 1, &format!("`{m} LABEL` or `{m} +OFF`"))?;
            let (off, fixup) = parse_target(ops[0], if long { 32 } else { 16 })?;
            Stmt { insn: Insn::Ja { off: off as i32, long }, fixup }
        }
        Op::Jmp(cond, width) => {
            expect_count(mn, line, &ops, 3, &format!("`{m} %rD, %rS|IMM, LABEL|+OFF`"))?;
            let dst = parse_reg(ops[0])?;
            let src = parse_reg_or_imm(ops[1])?;
            let (off, fixup) = parse_target(ops[2], 16)?;
            Stmt { insn: Insn::Jmp { width, cond, dst, src, off: off as i16 }, fixup }
        }
        Op::Callx => {
            expect_count(mn, line, &ops, 1, "`callx %rN`")?;
            plain(Insn::Callx { dst: parse_reg(ops[0])? })
        }
        Op::Legacy(LegacyMode::Abs, size) => {
            expect_count(mn, line, &ops, 1, &format!("`{m} IMM`"))?;
            plain(Insn::LegacyLoad { mode: LegacyMode::Abs, size, src: Reg::R0, imm: parse_imm32(ops[0])? })
        }
        Op::Legacy(LegacyMode::Ind, size) => {
            expect_count(mn, line, &ops, 2, &format!("`{m} %rS, IMM`"))?;
            let src = parse_reg(ops[0])?;
            plain(Insn::LegacyLoad { mode: LegacyMode::Ind, size, src, imm: parse_imm32(ops[1])? })
        }
        Op::Call | Op::Exit => unreachable!("handled above"),
    })
}

fn plain(insn: Insn) -> Stmt {
    Stmt { insn, fixup: None }
}

fn unknown_mnemonic(mn: Tok, line: Tok) -> AsmError {
    let e = AsmError::new(mn.span(), format!("unknown mnemonic `{}`", mn.text));
    if line.text.contains('=') || mn.text == "if" || mn.text == "goto" || mn.text == "gotol" {
        return e.with_help("this looks like the LLVM syntax (`r0 = 1`); assemble it with `--syntax llvm`");
    }
    let lower = mn.text.to_ascii_lowercase();
    if lower == "lock" || mnemonics().contains_key(&lower) {
        return e.with_help(format!("mnemonics are lower case: `{lower}`"));
    }
    match suggest(mn.text, mnemonic_names()) {
        Some(best) => e.with_help(format!("did you mean `{best}`?")),
        None => e.with_help("uBPF mnemonics look like `mov`, `add32`, `ldxw`, `stxdw`, `jeq`, `ja`, `call`, `exit`"),
    }
}

/// Checks the operand count, pointing at the surplus operands or at the whole statement.
fn expect_count(mn: Tok, line: Tok, ops: &[Tok], n: usize, usage: &str) -> Result<(), AsmError> {
    if ops.len() == n {
        return Ok(());
    }
    let span = if ops.len() > n { ops[n].start..line.span().end } else { line.span() };
    let plural = if n == 1 { "" } else { "s" };
    Err(AsmError::new(span, format!("`{}` takes {n} operand{plural}, found {}", mn.text, ops.len()))
        .with_help(format!("usage: {usage}")))
}

/// Splits comma-separated operands, ignoring commas inside `[...]` and `(...)`.
fn split_operands(rest: Tok) -> Result<Vec<Tok>, AsmError> {
    let rest = rest.trimmed();
    if rest.text.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    let bytes = rest.text.as_bytes();
    for i in 0..=bytes.len() {
        let c = bytes.get(i).copied();
        match c {
            Some(b'[' | b'(') => depth += 1,
            Some(b']' | b')') => depth -= 1,
            Some(b',') | None if depth <= 0 || c.is_none() => {
                let piece = rest.sub(start..i).trimmed();
                if piece.text.is_empty() {
                    // Point at the comma before the empty operand (the one ending it if it is first).
                    let at = rest.start + if i == bytes.len() { start - 1 } else { i };
                    return Err(AsmError::new(at..at + 1, "missing operand").with_help("remove the extra `,`"));
                }
                // Outside brackets, whitespace inside an operand means a forgotten comma.
                if let Some(ws) = top_level_space(piece.text) {
                    let next = piece.sub(ws..piece.text.len()).trimmed();
                    return Err(AsmError::new(next.span(), format!("expected `,` before `{}`", next.text))
                        .with_help("separate operands with commas: `add %r1, %r2`"));
                }
                out.push(piece);
                start = i + 1;
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Position of whitespace outside brackets and parentheses, if any.
fn top_level_space(s: &str) -> Option<usize> {
    let mut depth = 0i32;
    for (i, c) in s.char_indices() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => depth -= 1,
            c if c.is_whitespace() && depth <= 0 => return Some(i),
            _ => {}
        }
    }
    None
}

fn looks_like_reg(s: &str) -> bool {
    let s = s.strip_prefix('%').unwrap_or(s);
    s.len() > 1 && s.starts_with('r') && s[1..].bytes().all(|b| b.is_ascii_digit())
}

fn parse_reg(tok: Tok) -> Result<Reg, AsmError> {
    let t = tok.text;
    let bare = t.strip_prefix('%').unwrap_or(t);
    if looks_like_reg(t) {
        if let Some(r) = bare[1..].parse::<u8>().ok().and_then(Reg::new) {
            return Ok(r);
        }
        return Err(AsmError::new(tok.span(), format!("invalid register `{t}`")).with_help("eBPF has registers r0–r10"));
    }
    Err(AsmError::new(tok.span(), format!("expected a register like `%r1`, found `{t}`")))
}

fn parse_reg_or_imm(tok: Tok) -> Result<Operand, AsmError> {
    if tok.text.starts_with('%') || looks_like_reg(tok.text) {
        return parse_reg(tok).map(Operand::Reg);
    }
    if parse_num(tok.text).is_none() {
        return Err(AsmError::new(tok.span(), format!("expected a register or an immediate, found `{}`", tok.text))
            .with_help("registers are `%r0`–`%r10`; immediates are decimal (`-5`) or hex (`0xff`)"));
    }
    parse_imm32(tok).map(Operand::Imm)
}

/// A number: optional sign, then decimal digits or `0x` hex digits. Returns the value (saturated
/// far outside every range when it overflows, so range checks reject it) and whether it was hex.
fn parse_num(s: &str) -> Option<(i128, bool)> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (digits, radix) = match body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        Some(h) => (h, 16),
        None => (body, 10),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = u128::from_str_radix(digits, radix).map_or(i128::MAX, |v| v.min(i128::MAX as u128) as i128);
    Some((if neg { -v } else { v }, radix == 16))
}

/// A 32-bit immediate with the suite's rules: decimal must fit `i32`, hex is a 32-bit pattern.
fn parse_imm32(tok: Tok) -> Result<i32, AsmError> {
    let Some((v, hex)) = parse_num(tok.text) else {
        return Err(AsmError::new(tok.span(), format!("expected an immediate, found `{}`", tok.text))
            .with_help("immediates are decimal (`-5`) or hex (`0xff`)"));
    };
    let fits = if hex {
        (-(1i128 << 31)..=u32::MAX as i128).contains(&v)
    } else {
        (i32::MIN as i128..=i32::MAX as i128).contains(&v)
    };
    if !fits {
        let help = if hex {
            "hex immediates are 32-bit patterns: 0x0..=0xffffffff"
        } else {
            "decimal immediates are signed 32-bit: -2147483648..=2147483647 (write a bit pattern in hex, up to 0xffffffff)"
        };
        return Err(
            AsmError::new(tok.span(), format!("immediate `{}` does not fit in 32 bits", tok.text)).with_help(help)
        );
    }
    Ok(v as i64 as u32 as i32)
}

/// A 64-bit `lddw` constant: decimal `i64::MIN..=u64::MAX`, hex any 64-bit pattern.
fn parse_imm64(tok: Tok) -> Result<u64, AsmError> {
    let Some((v, _)) = parse_num(tok.text) else {
        return Err(AsmError::new(tok.span(), format!("expected a 64-bit constant, found `{}`", tok.text))
            .with_help("write a number (`0x1122334455667788`, `-1`) or a pseudo source such as `map(NAME)`"));
    };
    if !(i64::MIN as i128..=u64::MAX as i128).contains(&v) {
        return Err(AsmError::new(tok.span(), format!("constant `{}` does not fit in 64 bits", tok.text)));
    }
    Ok(v as u64)
}

/// A signed offset of `bits` (16 or 32) bits.
fn parse_offset(tok: Tok, bits: u32) -> Result<i64, AsmError> {
    let Some((v, _)) = parse_num(tok.text) else {
        return Err(AsmError::new(tok.span(), format!("expected an offset, found `{}`", tok.text)));
    };
    let (lo, hi) = (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1);
    if !(lo..=hi).contains(&v) {
        return Err(AsmError::new(tok.span(), format!("offset `{}` does not fit in {bits} bits", tok.text))
            .with_help(format!("offsets are signed {bits}-bit: {lo}..={hi}")));
    }
    Ok(v as i64)
}

/// A memory operand `[%rN]`, `[%rN+OFF]` or `[%rN-OFF]`.
fn parse_mem(tok: Tok) -> Result<(Reg, i16), AsmError> {
    let t = tok.text;
    if !t.starts_with('[') || !t.ends_with(']') || t.len() < 2 {
        return Err(AsmError::new(tok.span(), format!("expected a memory operand like `[%r1+8]`, found `{t}`")));
    }
    let inner = tok.sub(1..t.len() - 1).trimmed();
    let split = inner.text.find(['+', '-']).unwrap_or(inner.text.len());
    let reg = parse_reg(inner.sub(0..split).trimmed())?;
    let off_tok = inner.sub(split..inner.text.len());
    if off_tok.text.is_empty() {
        return Ok((reg, 0));
    }
    // Allow `[%r10 - 8]`: drop the spaces between sign and number.
    let compact: String = off_tok.text.chars().filter(|c| !c.is_whitespace()).collect();
    let off = parse_offset(Tok { text: &compact, start: off_tok.start }, 16)
        .map_err(|e| AsmError { span: off_tok.span(), ..e })?;
    Ok((reg, off as i16))
}

/// A branch target: a label (resolved by the driver) or a signed offset `+N`/`-N`.
fn parse_target(tok: Tok, bits: u32) -> Result<(i64, Option<Fixup>), AsmError> {
    let t = tok.text;
    if t.starts_with('+') || t.starts_with('-') {
        return Ok((parse_offset(tok, bits)?, None));
    }
    if is_ident(t) {
        return Ok((0, Some(Fixup::Label { name: t.to_string(), span: tok.span() })));
    }
    let mut e = AsmError::new(tok.span(), format!("expected a label or an offset like `+3`, found `{t}`"));
    if parse_num(t).is_some() {
        e = e.with_help(format!("a relative offset carries its sign: `+{t}`"));
    }
    Err(e)
}

/// `call N`, `call helper N`, `call %rN`, `call local LABEL|+OFF`, `call runtime ID`,
/// `call kfunc(ID[, OFF])`.
fn parse_call(line: Tok, rest: Tok) -> Result<Stmt, AsmError> {
    let usage = "usage: `call N` (helper), `call %rN`, `call local LABEL`, `call kfunc(ID[, OFF])`";
    if rest.text.is_empty() {
        return Err(AsmError::new(line.span(), "`call` needs a target").with_help(usage));
    }
    let (word, after) = rest.first_word();
    let single = |t: Tok| -> Result<(), AsmError> {
        if t.text.is_empty() {
            Err(AsmError::new(line.span(), format!("`call {}` needs a target", word.text)).with_help(usage))
        } else if let Some(i) = t.text.find(char::is_whitespace) {
            Err(AsmError::new(t.sub(i..t.text.len()).trimmed().span(), "unexpected extra operand").with_help(usage))
        } else {
            Ok(())
        }
    };
    match word.text {
        "local" => {
            single(after)?;
            let (off, fixup) = parse_target(after, 32)?;
            return Ok(Stmt { insn: Insn::Call(CallTarget::Local(off as i32)), fixup });
        }
        "helper" => {
            single(after)?;
            return Ok(plain(Insn::Call(CallTarget::Helper(parse_imm32(after)?))));
        }
        "runtime" => {
            single(after)?;
            return Ok(plain(Insn::Call(CallTarget::Kfunc { btf_id: parse_imm32(after)?, off: 0 })));
        }
        _ => {}
    }
    let ops = split_operands(rest)?;
    if ops.len() != 1 {
        return Err(AsmError::new(ops[1].start..rest.span().end, "`call` takes one target").with_help(usage));
    }
    let target = ops[0];
    if let Some((name, args)) = pseudo_call(target)? {
        if name.text != "kfunc" {
            return Err(AsmError::new(name.span(), format!("unknown call form `{}(...)`", name.text)).with_help(usage));
        }
        return match args.as_slice() {
            [id] => Ok(plain(Insn::Call(CallTarget::Kfunc { btf_id: parse_imm32(*id)?, off: 0 }))),
            [id, off] => {
                let off = parse_offset(*off, 16)? as i16;
                Ok(plain(Insn::Call(CallTarget::Kfunc { btf_id: parse_imm32(*id)?, off })))
            }
            _ => Err(AsmError::new(target.span(), "`kfunc` takes a BTF id and an optional module offset")
                .with_help("usage: `call kfunc(ID)` or `call kfunc(ID, OFF)`")),
        };
    }
    if target.text.starts_with('%') || looks_like_reg(target.text) {
        return Ok(plain(Insn::Callx { dst: parse_reg(target)? }));
    }
    if parse_num(target.text).is_none() {
        let mut e = AsmError::new(target.span(), format!("expected a helper number, found `{}`", target.text));
        e = if is_ident(target.text) {
            e.with_help(format!("to call a subprogram write `call local {}`", target.text))
        } else {
            e.with_help(usage)
        };
        return Err(e);
    }
    Ok(plain(Insn::Call(CallTarget::Helper(parse_imm32(target)?))))
}

/// Splits `name(a, b)` into its name and arguments; `None` if `tok` has no parenthesis.
fn pseudo_call(tok: Tok) -> Result<Option<(Tok, Vec<Tok>)>, AsmError> {
    let Some(open) = tok.text.find('(') else { return Ok(None) };
    if !tok.text.ends_with(')') {
        return Err(AsmError::new(tok.span(), format!("missing `)` in `{}`", tok.text)));
    }
    let name = tok.sub(0..open).trimmed();
    let inner = tok.sub(open + 1..tok.text.len() - 1);
    let args = split_operands(inner)?;
    Ok(Some((name, args)))
}

/// The second operand of `lddw`: a constant or a pseudo source.
fn parse_lddw(dst: Reg, tok: Tok) -> Result<Stmt, AsmError> {
    let Some((name, args)) = pseudo_call(tok)? else {
        let v = parse_imm64(tok)?;
        return Ok(plain(Insn::LoadImm64 { dst, src: ImmSrc::Imm, imm: v as u32 as i32, next_imm: (v >> 32) as i32 }));
    };
    let arity = |n: &[usize], usage: &str| -> Result<(), AsmError> {
        if n.contains(&args.len()) {
            Ok(())
        } else {
            Err(AsmError::new(tok.span(), format!("wrong number of arguments to `{}`", name.text))
                .with_help(format!("usage: `lddw %rD, {usage}`")))
        }
    };
    let ld = |src: ImmSrc, imm: i32, next_imm: i32| plain(Insn::LoadImm64 { dst, src, imm, next_imm });
    let map_name = |t: Tok| -> Result<Fixup, AsmError> {
        if is_ident(t.text) {
            Ok(Fixup::Map { name: t.text.to_string(), span: t.span() })
        } else {
            Err(AsmError::new(t.span(), format!("`{}` is not a map name", t.text)))
        }
    };
    Ok(match name.text {
        "map" => {
            arity(&[1], "map(NAME)")?;
            Stmt { insn: ld(ImmSrc::MapIdx, 0, 0).insn, fixup: Some(map_name(args[0])?) }
        }
        "map_value" => {
            arity(&[2], "map_value(NAME, OFF)")?;
            let fixup = Some(map_name(args[0])?);
            Stmt { insn: ld(ImmSrc::MapIdxValue, 0, parse_imm32(args[1])?).insn, fixup }
        }
        "map_fd" => {
            arity(&[1], "map_fd(FD)")?;
            ld(ImmSrc::MapFd, parse_imm32(args[0])?, 0)
        }
        "map_value_fd" => {
            arity(&[2], "map_value_fd(FD, OFF)")?;
            ld(ImmSrc::MapValue, parse_imm32(args[0])?, parse_imm32(args[1])?)
        }
        "btf_id" => {
            arity(&[1, 2], "btf_id(ID)")?;
            let next = if args.len() == 2 { parse_imm32(args[1])? } else { 0 };
            ld(ImmSrc::BtfId, parse_imm32(args[0])?, next)
        }
        "func" => {
            arity(&[1], "func(LABEL)")?;
            let (off, fixup) = parse_target(args[0], 32)?;
            Stmt { insn: ld(ImmSrc::Func, off as i32, 0).insn, fixup }
        }
        "map_idx" => {
            arity(&[1], "map_idx(N)")?;
            ld(ImmSrc::MapIdx, parse_imm32(args[0])?, 0)
        }
        "map_idx_value" => {
            arity(&[2], "map_idx_value(N, OFF)")?;
            ld(ImmSrc::MapIdxValue, parse_imm32(args[0])?, parse_imm32(args[1])?)
        }
        "ld_pseudo" => {
            arity(&[3], "ld_pseudo(SRC, IMM, NEXT)")?;
            let code = parse_imm32(args[0])?;
            let src = u8::try_from(code).ok().and_then(ImmSrc::from_code).ok_or_else(|| {
                AsmError::new(args[0].span(), format!("unknown lddw pseudo source {code}"))
                    .with_help("the kernel defines sources 0 to 6 (BPF_PSEUDO_*)")
            })?;
            ld(src, parse_imm32(args[1])?, parse_imm32(args[2])?)
        }
        other => {
            let e = AsmError::new(name.span(), format!("unknown lddw pseudo source `{other}`"));
            return Err(match closest(other, super::LDDW_PSEUDO_FORMS) {
                Some(best) => e.with_help(format!("did you mean `{best}`?")),
                None => e.with_help(format!("one of: {}", super::LDDW_PSEUDO_FORMS.join(", "))),
            });
        }
    })
}

/// `lock [fetch] OP[32] [%rD+OFF], %rS`.
fn parse_lock(line: Tok, rest: Tok) -> Result<Insn, AsmError> {
    let usage = "usage: `lock [fetch] OP [%rD+OFF], %rS` with OP one of add, or, and, xor, xchg, cmpxchg \
                 (append `32` for the 32-bit form)";
    let count_err = || AsmError::new(line.span(), "invalid number of operands for lock").with_help(usage);
    let (mut word, mut after) = rest.first_word();
    let fetch = word.text == "fetch";
    if fetch {
        (word, after) = after.first_word();
    }
    if word.text.is_empty() {
        return Err(count_err());
    }
    let (stem, size) = match word.text.strip_suffix("32") {
        Some(s) => (s, Size::W),
        None => (word.text.strip_suffix("64").unwrap_or(word.text), Size::DW),
    };
    let Some(&(_, op)) = ATOMIC_OPS.iter().find(|(n, _)| *n == stem) else {
        let names: Vec<String> = ATOMIC_OPS.iter().flat_map(|(n, _)| [n.to_string(), format!("{n}32")]).collect();
        let e = AsmError::new(word.span(), format!("unknown atomic operation `{}`", word.text));
        return Err(match closest(word.text, names.iter().map(String::as_str)) {
            Some(best) => e.with_help(format!("did you mean `{best}`?")),
            None => e.with_help(usage),
        });
    };
    let ops = split_operands(after)?;
    if ops.len() != 2 {
        return Err(count_err());
    }
    let (dst, off) = parse_mem(ops[0])?;
    let src = parse_reg(ops[1])?;
    // xchg and cmpxchg always return the old value; `fetch` is implied.
    let fetch = fetch || matches!(op, AtomicOp::Xchg | AtomicOp::CmpXchg);
    Ok(Insn::Atomic { size, op, fetch, dst, src, off })
}

// ---------------------------------------------------------------------------------------------
// Printing

fn reg(r: Reg) -> String {
    format!("%r{}", r.num())
}

/// Small values read best in decimal, bit patterns in hex; both parse back to the same `i32`.
fn imm(v: i32) -> String {
    if (-0xffff..=0xffff).contains(&v) {
        v.to_string()
    } else {
        format!("{:#x}", v as u32)
    }
}

fn signed(v: i64) -> String {
    if v < 0 {
        v.to_string()
    } else {
        format!("+{v}")
    }
}

fn mem(r: Reg, off: i16) -> String {
    if off == 0 {
        format!("[{}]", reg(r))
    } else {
        format!("[{}{}]", reg(r), signed(off as i64))
    }
}

fn size_suffix(s: Size) -> &'static str {
    match s {
        Size::B => "b",
        Size::H => "h",
        Size::W => "w",
        Size::DW => "dw",
    }
}

fn operand(o: Operand) -> String {
    match o {
        Operand::Reg(r) => reg(r),
        Operand::Imm(i) => imm(i),
    }
}

/// Formats one instruction in this syntax, in a form `parse_insn` reads back to the same `Insn`.
pub fn format_insn(insn: &Insn, ctx: &FormatCtx) -> String {
    let w32 = |w: Width| if w == Width::W32 { "32" } else { "" };
    match *insn {
        Insn::Bin { width, op, dst, src } => {
            let m = match op {
                BinOp::MovSx8 | BinOp::MovSx16 | BinOp::MovSx32 => {
                    let from = match op {
                        BinOp::MovSx8 => 8,
                        BinOp::MovSx16 => 16,
                        _ => 32,
                    };
                    format!("movsx{from}{}", if width == Width::W32 { 32 } else { 64 })
                }
                _ => {
                    let stem = ALU_STEMS.iter().find(|(_, o)| *o == op).map_or("?", |(s, _)| s);
                    format!("{stem}{}", w32(width))
                }
            };
            format!("{m} {}, {}", reg(dst), operand(src))
        }
        Insn::Neg { width, dst } => format!("neg{} {}", w32(width), reg(dst)),
        Insn::Endian { op, bits, dst } => {
            let m = match op {
                EndianOp::ToLe => "le",
                EndianOp::ToBe => "be",
                EndianOp::Swap => "bswap",
            };
            format!("{m}{bits} {}", reg(dst))
        }
        Insn::Ja { off, long } => format!("ja{} {}", if long { "32" } else { "" }, signed(off as i64)),
        Insn::Jmp { width, cond, dst, src, off } => {
            format!("{}{} {}, {}, {}", cond.mnemonic(), w32(width), reg(dst), operand(src), signed(off as i64))
        }
        Insn::Call(CallTarget::Helper(id)) => format!("call {id}"),
        Insn::Call(CallTarget::Local(off)) => format!("call local {}", signed(off as i64)),
        Insn::Call(CallTarget::Kfunc { btf_id, off: 0 }) => format!("call kfunc({btf_id})"),
        Insn::Call(CallTarget::Kfunc { btf_id, off }) => format!("call kfunc({btf_id}, {off})"),
        Insn::Callx { dst } => format!("call {}", reg(dst)),
        Insn::Exit => "exit".to_string(),
        Insn::LoadImm64 { dst, src, imm: lo, next_imm } => {
            format!("lddw {}, {}", reg(dst), lddw_source(src, lo, next_imm, ctx))
        }
        Insn::Load { size, signed: sx, dst, src, off } => {
            format!("ldx{}{} {}, {}", if sx { "s" } else { "" }, size_suffix(size), reg(dst), mem(src, off))
        }
        Insn::Store { size, dst, off, src: Operand::Imm(i) } => {
            format!("st{} {}, {}", size_suffix(size), mem(dst, off), imm(i))
        }
        Insn::Store { size, dst, off, src: Operand::Reg(s) } => {
            format!("stx{} {}, {}", size_suffix(size), mem(dst, off), reg(s))
        }
        Insn::Atomic { size, op, fetch, dst, src, off } => {
            let name = ATOMIC_OPS.iter().find(|(_, o)| *o == op).map_or("?", |(n, _)| n);
            let implied = matches!(op, AtomicOp::Xchg | AtomicOp::CmpXchg);
            let suffix = match size {
                Size::DW => "",
                Size::W => "32",
                Size::H => "16",
                Size::B => "8",
            };
            let f = if fetch && !implied { "fetch " } else { "" };
            format!("lock {f}{name}{suffix} {}, {}", mem(dst, off), reg(src))
        }
        Insn::LegacyLoad { mode: LegacyMode::Abs, size, imm: i, .. } => {
            format!("ldabs{} {}", size_suffix(size), imm(i))
        }
        Insn::LegacyLoad { mode: LegacyMode::Ind, size, src, imm: i } => {
            format!("ldind{} {}, {}", size_suffix(size), reg(src), imm(i))
        }
    }
}

/// The `lddw` operand: a constant, or the most specific pseudo form that holds every field.
fn lddw_source(src: ImmSrc, lo: i32, next: i32, ctx: &FormatCtx) -> String {
    let map = |idx: i32| usize::try_from(idx).ok().and_then(|i| ctx.maps.get(i)).map(|m| m.name.as_str());
    match (src, next) {
        (ImmSrc::Imm, _) => {
            let v = Insn::imm64(lo, next);
            if (-0xffff..=0xffff).contains(&(v as i64)) {
                (v as i64).to_string()
            } else {
                format!("{v:#x}")
            }
        }
        (ImmSrc::MapIdx, 0) => match map(lo) {
            Some(name) => format!("map({name})"),
            None => format!("map_idx({lo})"),
        },
        (ImmSrc::MapIdxValue, _) => match map(lo) {
            Some(name) => format!("map_value({name}, {})", imm(next)),
            None => format!("map_idx_value({lo}, {})", imm(next)),
        },
        (ImmSrc::MapFd, 0) => format!("map_fd({lo})"),
        (ImmSrc::MapValue, _) => format!("map_value_fd({lo}, {})", imm(next)),
        (ImmSrc::BtfId, 0) => format!("btf_id({lo})"),
        (ImmSrc::BtfId, _) => format!("btf_id({lo}, {})", imm(next)),
        (ImmSrc::Func, 0) => format!("func({})", signed(lo as i64)),
        _ => format!("ld_pseudo({}, {}, {})", src.code(), imm(lo), imm(next)),
    }
}
