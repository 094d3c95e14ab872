//! The kernel/LLVM assembly syntax: `r0 = 1`, `if r1 > r2 goto +3`, `r0 = *(u64 *)(r1 + 8)`.
//!
//! [`parse_insn`] reads one instruction; [`format_insn`] prints one the way `llvm-objdump-19 -d
//! --mcpu=v4` does (hexadecimal immediates and offsets, `r` registers for plain loads and stores,
//! `w` registers for 32-bit atomics), minus objdump's `<.text+0x..>` target annotations. Every
//! form `llvm-mc-19 -triple bpfel -mcpu=v4` accepts assembles to the same bytes here; the
//! differential test `tests/llvm_mc_oracle.rs` holds us to that.
//!
//! ## Where ebpf-lab differs from llvm-mc
//! - **Immediate ranges.** llvm-mc silently truncates a 32-bit immediate that does not fit
//!   (`r1 = 0x100000000` assembles to `r1 = 0`). ebpf-lab accepts what survives truncation
//!   unchanged — signed or unsigned 32-bit values, `-2147483648..=4294967295` — and rejects the
//!   rest. As in llvm-mc, `0xffffffff` is the 32-bit pattern `-1`, so `r1 = 0xffffffff` sets
//!   r1 to -1 (the immediate is sign-extended); write `r1 = 0xffffffff ll` for 4294967295.
//! - **Registers r11–r15** are rejected (llvm-mc encodes them; the kernel does not know them).
//! - `gotol` takes any 32-bit offset (llvm-mc only parses 16-bit numbers there, labels beyond).
//! - Numbers follow llvm-mc: `0x` hex, `0b` binary, a leading `0` means octal (`010` is 8).
//!   Expressions (`1+2`) and character literals are not supported.
//!
//! ## ebpf-lab's own forms (no llvm-mc equivalent)
//! - `call bpf_map_lookup_elem`: a helper by its kernel name ([`super::helper_names`]); any other
//!   name is a label, i.e. a local call (a helper name wins over a label of the same name).
//! - `call pc+3` / `call pc-3`: a local call (`src_reg` = 1) by offset, as the kernel verifier
//!   log prints it (llvm-objdump prints a bare `call 0x3`, which would read back as helper 3).
//!   `call label` is read as llvm-mc does: a local call, `src_reg` = 1, resolved by the driver;
//!   llvm-mc resolves it the same way inside a section (checked against `clang -c` in the tests).
//! - `call kfunc(BTF_ID)` / `call kfunc(BTF_ID, OFF)`: a kernel function call (`src_reg` = 2).
//! - `r0 = *(u16 *)skb[r1 + 4]`: legacy `BPF_IND` load with a non-zero immediate (llvm's syntax
//!   `skb[r1]` can only express 0).
//! - `lddw` pseudo sources, each ending in `ll`: `r1 = map(NAME) ll` and
//!   `r1 = map_value(NAME, OFF) ll` name a `.map` (the driver turns them into
//!   `BPF_PSEUDO_MAP_IDX` / `BPF_PSEUDO_MAP_IDX_VALUE`); the raw forms `map_fd(N)` (src 1),
//!   `map_value_fd(N, OFF)` (2), `btf_id(N)` or `btf_id(N, NEXT)` (3), `func(+OFF)` or
//!   `func(label)` (4), `map_idx(N)` (5), `map_idx_value(N, OFF)` (6); and the catch-all
//!   `ld_pseudo(SRC, IMM, NEXT)` for any encoding the others cannot spell (e.g. `map_fd` with a
//!   non-zero second immediate). llvm's `ld_pseudo r1, SRC, IMM` is read too.
//!
//! The printer writes these forms in decimal (ids, fds and indices are decimal by nature);
//! everything llvm-objdump prints is printed in its hexadecimal form. `assemble(format(insn))`
//! gives back `insn` for every instruction `isa::decode` accepts.

use super::disasm::FormatCtx;
use super::helper_names::{helper_id, helper_names};
use super::{closest, is_ident, suggest, AsmError, Fixup, Stmt};
use crate::isa::{AtomicOp, BinOp, CallTarget, EndianOp, ImmSrc, Insn, JmpCond, LegacyMode, Operand, Reg, Size, Width};
use std::ops::Range;

// ---------------------------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ident,
    Num,
    Punct,
}

#[derive(Clone, Debug)]
struct Tok<'a> {
    kind: Kind,
    text: &'a str,
    span: Range<usize>,
}

/// Operators and punctuation, longest first so `<<=` wins over `<`. The signed operators start
/// with `s`, which is otherwise an identifier character; they are only recognised where a token
/// starts, so `s8` and `skb` stay identifiers.
const PUNCTS: &[&str] = &[
    "s>>=", "<<=", ">>=", "s/=", "s%=", "s>=", "s<=", "s>>", "+=", "-=", "*=", "/=", "%=", "|=", "&=", "^=", "==",
    "!=", ">=", "<=", "<<", ">>", "s>", "s<", "=", ">", "<", "&", "(", ")", "*", "+", "-", "[", "]", ",", "|", "^",
    "/", "%", "!", "~",
];

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '.' || c == '$'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '$'
}

fn lex(text: &str, offset: usize) -> Result<Vec<Tok<'_>>, AsmError> {
    let mut toks = Vec::new();
    let mut i = 0;
    while let Some(c) = text[i..].chars().next() {
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        let rest = &text[i..];
        let (kind, len) = if let Some(p) = PUNCTS.iter().find(|p| rest.starts_with(**p)) {
            (Kind::Punct, p.len())
        } else if c.is_ascii_digit() {
            (Kind::Num, rest.find(|c: char| !is_ident_char(c)).unwrap_or(rest.len()))
        } else if is_ident_start(c) {
            (Kind::Ident, rest.find(|c: char| !is_ident_char(c)).unwrap_or(rest.len()))
        } else {
            let span = offset + i..offset + i + c.len_utf8();
            return Err(AsmError::new(span, format!("unexpected character `{c}`")));
        };
        toks.push(Tok { kind, text: &rest[..len], span: offset + i..offset + i + len });
        i += len;
    }
    Ok(toks)
}

/// The value of a number token: `0x` hex, `0b` binary, leading-zero octal (as llvm-mc), decimal.
fn number_value(s: &str) -> Option<u128> {
    let (digits, radix) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (h, 16)
    } else if let Some(b) = s.strip_prefix("0b").or_else(|| s.strip_prefix("0B")) {
        (b, 2)
    } else if s.len() > 1 && s.starts_with('0') {
        (&s[1..], 8)
    } else {
        (s, 10)
    };
    if digits.is_empty() || digits.len() > 40 {
        return None;
    }
    u128::from_str_radix(digits, radix).ok()
}

// ---------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------

/// Words that start an instruction, for "did you mean" help.
const KEYWORDS: &[&str] = &["exit", "goto", "gotol", "call", "callx", "if", "lock", "ld_pseudo"];

/// Words that may follow `dst =`, for "did you mean" help.
const RHS_WORDS: &[&str] = &[
    "be16",
    "be32",
    "be64",
    "le16",
    "le32",
    "le64",
    "bswap16",
    "bswap32",
    "bswap64",
    "atomic_fetch_add",
    "atomic_fetch_and",
    "atomic_fetch_or",
    "atomic_fetch_xor",
    "xchg_64",
    "xchg32_32",
    "cmpxchg_64",
    "cmpxchg32_32",
];

/// uBPF mnemonics, to point a student who mixed the syntaxes at the right one.
const UBPF_WORDS: &[&str] = &[
    "mov", "mov32", "add", "add32", "sub", "sub32", "mul", "mul32", "div", "div32", "mod", "mod32", "or", "or32",
    "and", "and32", "lsh", "lsh32", "rsh", "rsh32", "arsh", "arsh32", "xor", "xor32", "neg", "neg32", "lddw", "ldxb",
    "ldxh", "ldxw", "ldxdw", "stb", "sth", "stw", "stdw", "stxb", "stxh", "stxw", "stxdw", "ja", "jeq", "jne", "jgt",
    "jge", "jlt", "jle", "jset", "jsgt", "jsge", "jslt", "jsle", "le16", "le32", "le64", "be16", "be32", "be64",
];

const ALU_OPS: &[(&str, BinOp)] = &[
    ("+=", BinOp::Add),
    ("-=", BinOp::Sub),
    ("*=", BinOp::Mul),
    ("/=", BinOp::Div),
    ("s/=", BinOp::SDiv),
    ("%=", BinOp::Mod),
    ("s%=", BinOp::SMod),
    ("|=", BinOp::Or),
    ("&=", BinOp::And),
    ("<<=", BinOp::Lsh),
    (">>=", BinOp::Rsh),
    ("s>>=", BinOp::Arsh),
    ("^=", BinOp::Xor),
];

const RANGE32: &str = "32-bit immediates range over -2147483648..=4294967295 (0xffffffff)";
const RANGE16: &str = "16-bit offsets range over -32768..=32767";

struct Parser<'a> {
    toks: Vec<Tok<'a>>,
    pos: usize,
    /// Span of the whole statement, for errors at its end.
    whole: Range<usize>,
}

type PResult<T> = Result<T, AsmError>;

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&Tok<'a>> {
        self.toks.get(self.pos)
    }

    fn peek_at(&self, n: usize) -> Option<&Tok<'a>> {
        self.toks.get(self.pos + n)
    }

    fn peek_is(&self, text: &str) -> bool {
        self.peek().is_some_and(|t| t.text == text)
    }

    fn eat(&mut self, text: &str) -> bool {
        if self.peek_is(text) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn next(&mut self) -> Option<Tok<'a>> {
        let t = self.toks.get(self.pos).cloned();
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    /// Span of the end of the statement (the last token), for "found end of line" errors.
    fn end_span(&self) -> Range<usize> {
        self.toks.last().map(|t| t.span.end..t.span.end).unwrap_or(self.whole.end..self.whole.end)
    }

    /// An error at the current token: "expected {what}, found `x`".
    fn unexpected(&self, what: &str) -> AsmError {
        match self.peek() {
            Some(t) => AsmError::new(t.span.clone(), format!("expected {what}, found `{}`", t.text)),
            None => AsmError::new(self.end_span(), format!("expected {what}, found end of line")),
        }
    }

    fn expect(&mut self, text: &str) -> PResult<Tok<'a>> {
        if self.peek_is(text) {
            Ok(self.next().expect("peeked"))
        } else {
            Err(self.unexpected(&format!("`{text}`")))
        }
    }

    fn finish(&self) -> PResult<()> {
        match self.peek() {
            None => Ok(()),
            Some(t) => {
                let end = self.toks.last().map_or(t.span.end, |l| l.span.end);
                Err(AsmError::new(t.span.start..end, format!("unexpected `{}` after the instruction", t.text)))
            }
        }
    }

    /// If the current token names a register (`r0`–`r10`, `w0`–`w10`), consumes it.
    fn try_reg(&mut self) -> PResult<Option<(Reg, Width, Tok<'a>)>> {
        let Some(t) = self.peek().cloned() else { return Ok(None) };
        match reg_of(&t)? {
            Some((r, w)) => {
                self.pos += 1;
                Ok(Some((r, w, t)))
            }
            None => Ok(None),
        }
    }

    fn reg(&mut self) -> PResult<(Reg, Width, Tok<'a>)> {
        self.try_reg()?.ok_or_else(|| self.unexpected("a register"))
    }

    /// A register of the given width.
    fn reg_of_width(&mut self, width: Width) -> PResult<Reg> {
        let (r, w, t) = self.reg()?;
        check_width(r, w, width, &t)?;
        Ok(r)
    }

    /// A number with an optional sign: its value and span.
    fn int(&mut self, what: &str) -> PResult<(i128, Range<usize>)> {
        let start = self.pos;
        let neg = if self.eat("-") {
            true
        } else {
            self.eat("+");
            false
        };
        match self.peek().cloned() {
            Some(t) if t.kind == Kind::Num => {
                self.pos += 1;
                let v = number_value(t.text)
                    .ok_or_else(|| AsmError::new(t.span.clone(), format!("`{}` is not a number", t.text)))?;
                let span = self.toks[start].span.start..t.span.end;
                if v > u64::MAX as u128 {
                    return Err(AsmError::new(span, format!("`{}` does not fit in 64 bits", t.text)));
                }
                Ok((if neg { -(v as i128) } else { v as i128 }, span))
            }
            _ => Err(self.unexpected(what)),
        }
    }

    /// `reg + off` / `reg - off` (inside the parentheses of a memory operand).
    fn mem_inner(&mut self) -> PResult<(Reg, i16)> {
        let r = self.reg_of_width(Width::W64)?;
        let neg = if self.eat("-") {
            true
        } else if self.eat("+") {
            false
        } else {
            return Err(self.unexpected("`+` or `-` and an offset"));
        };
        let t = match self.peek() {
            Some(t) if t.kind == Kind::Num => self.next().expect("peeked"),
            _ => return Err(self.unexpected("an offset")),
        };
        let v = number_value(t.text)
            .ok_or_else(|| AsmError::new(t.span.clone(), format!("`{}` is not a number", t.text)))?;
        let v = if neg { -(v as i128) } else { v as i128 };
        let off = i16::try_from(v).map_err(|_| {
            let sign = if neg { "-" } else { "+" };
            AsmError::new(t.span.clone(), format!("offset `{sign}{}` does not fit in 16 bits", t.text))
                .with_help(RANGE16)
        })?;
        Ok((r, off))
    }

    /// `(reg ± off)`.
    fn mem(&mut self) -> PResult<(Reg, i16)> {
        self.expect("(")?;
        let m = self.mem_inner()?;
        self.expect(")")?;
        Ok(m)
    }

    /// `(u32 *)`: the access size and whether the type is signed.
    fn ctype(&mut self) -> PResult<(Size, bool, Tok<'a>)> {
        self.expect("(")?;
        let t = self.next().ok_or_else(|| self.unexpected("a type such as `u32`"))?;
        let ty = match t.text {
            "u8" => (Size::B, false),
            "u16" => (Size::H, false),
            "u32" => (Size::W, false),
            "u64" => (Size::DW, false),
            "s8" => (Size::B, true),
            "s16" => (Size::H, true),
            "s32" => (Size::W, true),
            "s64" => {
                return Err(AsmError::new(t.span, "there is no sign-extending 64-bit access")
                    .with_help("a 64-bit load has nothing to extend: write `u64`"))
            }
            other => {
                let mut e = AsmError::new(t.span.clone(), format!("unknown type `{other}`"));
                let types = ["u8", "u16", "u32", "u64", "s8", "s16", "s32"];
                e = match closest(other, types) {
                    Some(b) => e.with_help(format!("did you mean `{b}`?")),
                    None => e.with_help("the types are u8, u16, u32, u64 and, for loads, s8, s16, s32"),
                };
                return Err(e);
            }
        };
        self.expect("*")?;
        self.expect(")")?;
        Ok((ty.0, ty.1, t))
    }

    /// A jump target: `+3`, `-3`, `3` or a label.
    fn target(&mut self, long: bool) -> PResult<(i32, Option<Fixup>)> {
        if let Some(t) = self.peek().cloned() {
            if t.kind == Kind::Ident {
                if reg_of(&t)?.is_some() {
                    return Err(AsmError::new(t.span, format!("`{}` is a register, not a jump target", t.text))
                        .with_help("write an offset (`+3`) or a label"));
                }
                self.pos += 1;
                return Ok((0, Some(Fixup::Label { name: t.text.to_string(), span: t.span })));
            }
        }
        let (v, span) = self.int("an offset (`+3`) or a label")?;
        if long {
            let off = i32::try_from(v).map_err(|_| {
                AsmError::new(span, format!("offset {v} does not fit in 32 bits"))
                    .with_help("`gotol` offsets range over -2147483648..=2147483647")
            })?;
            Ok((off, None))
        } else {
            let off = i16::try_from(v).map_err(|_| {
                AsmError::new(span, format!("offset {v} does not fit in 16 bits"))
                    .with_help("jump offsets range over -32768..=32767; `gotol` reaches further")
            })?;
            Ok((off as i32, None))
        }
    }

    /// A comma-separated argument list in parentheses, each a number (the pseudo-source forms).
    fn int_args(&mut self, name: &Tok<'_>, count: Range<usize>) -> PResult<Vec<(i128, Range<usize>)>> {
        self.expect("(")?;
        let mut args = vec![self.int("a number")?];
        while self.eat(",") {
            args.push(self.int("a number")?);
        }
        let close = self.expect(")")?;
        if !count.contains(&args.len()) {
            let want = if count.len() == 1 {
                format!("{}", count.start)
            } else {
                format!("{} or {}", count.start, count.end - 1)
            };
            return Err(AsmError::new(
                name.span.start..close.span.end,
                format!("`{}` takes {want} arguments, found {}", name.text, args.len()),
            ));
        }
        Ok(args)
    }

    /// The `ll` that ends every `lddw` form.
    fn expect_ll(&mut self) -> PResult<()> {
        if self.eat("ll") {
            Ok(())
        } else {
            Err(self.unexpected("`ll`").with_help("64-bit loads (`lddw`) end in `ll`"))
        }
    }
}

/// A register named by `t`, if it is one; `r11`+ is an error, not a label.
fn reg_of(t: &Tok<'_>) -> PResult<Option<(Reg, Width)>> {
    if t.kind != Kind::Ident || t.text.len() < 2 {
        return Ok(None);
    }
    let (w, digits) = t.text.split_at(1);
    let width = match w {
        "r" => Width::W64,
        "w" => Width::W32,
        "R" | "W" if digits.bytes().all(|b| b.is_ascii_digit()) => {
            return Err(AsmError::new(
                t.span.clone(),
                format!("registers are written in lower case, not `{}`", t.text),
            )
            .with_help(format!("write `{}`", t.text.to_ascii_lowercase())));
        }
        _ => return Ok(None),
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    match digits.parse::<u8>().ok().and_then(Reg::new) {
        Some(r) => Ok(Some((r, width))),
        None => Err(AsmError::new(t.span.clone(), format!("there is no register `{}`", t.text))
            .with_help("eBPF has registers r0–r10")),
    }
}

fn width_name(w: Width) -> &'static str {
    match w {
        Width::W64 => "64-bit",
        Width::W32 => "32-bit",
    }
}

fn check_width(r: Reg, got: Width, want: Width, t: &Tok<'_>) -> PResult<()> {
    if got == want {
        return Ok(());
    }
    let prefix = if want == Width::W64 { 'r' } else { 'w' };
    Err(AsmError::new(t.span.clone(), format!("expected a {} register, found `{}`", width_name(want), t.text))
        .with_help(format!(
            "write `{prefix}{}`: `rN` is 64-bit, `wN` its 32-bit half, and one instruction uses one width",
            r.num()
        )))
}

/// Checks a 32-bit immediate: any value that survives truncation to 32 bits unchanged.
fn imm32(v: i128, span: Range<usize>) -> PResult<i32> {
    if (i32::MIN as i128..=u32::MAX as i128).contains(&v) {
        Ok(v as i64 as u32 as i32)
    } else {
        Err(AsmError::new(span, format!("immediate {v} does not fit in 32 bits")).with_help(RANGE32))
    }
}

/// Checks a signed 32-bit value (offsets, ids printed in decimal).
fn signed32(v: i128, span: Range<usize>, what: &str) -> PResult<i32> {
    i32::try_from(v).map_err(|_| {
        AsmError::new(span, format!("{what} {v} does not fit in 32 bits"))
            .with_help("the range is -2147483648..=2147483647")
    })
}

/// Parses one instruction statement (comments, labels and directives already removed).
/// `offset` is the byte offset of `text` in the file, for error spans.
pub fn parse_insn(text: &str, offset: usize) -> Result<Stmt, AsmError> {
    let toks = lex(text, offset)?;
    let mut p = Parser { toks, pos: 0, whole: offset..offset + text.len() };
    let stmt = statement(&mut p)?;
    p.finish()?;
    Ok(stmt)
}

fn plain(insn: Insn) -> PResult<Stmt> {
    Ok(Stmt { insn, fixup: None })
}

fn statement(p: &mut Parser<'_>) -> PResult<Stmt> {
    let Some(first) = p.peek().cloned() else {
        return Err(AsmError::new(p.whole.clone(), "expected an instruction"));
    };
    if first.text == "*" {
        p.pos += 1;
        return store(p);
    }
    if let Some((dst, width, dtok)) = p.try_reg()? {
        return assignment(p, dst, width, &dtok);
    }
    if first.kind != Kind::Ident {
        return Err(p.unexpected("an instruction"));
    }
    p.pos += 1;
    match first.text {
        "exit" => plain(Insn::Exit),
        "goto" | "gotol" => {
            let long = first.text == "gotol";
            let (off, fixup) = p.target(long)?;
            Ok(Stmt { insn: Insn::Ja { off, long }, fixup })
        }
        "call" => call(p),
        "callx" => {
            let dst = p.reg_of_width(Width::W64)?;
            plain(Insn::Callx { dst })
        }
        "if" => cond_jump(p),
        "lock" => lock(p),
        "ld_pseudo" => {
            // llvm's raw form: `ld_pseudo r1, SRC, IMM` (its second immediate is always 0).
            let dst = p.reg_of_width(Width::W64)?;
            p.expect(",")?;
            let (s, sspan) = p.int("a pseudo source number")?;
            p.expect(",")?;
            let (v, vspan) = p.int("an immediate")?;
            let src = pseudo_src(s, sspan)?;
            plain(Insn::LoadImm64 { dst, src, imm: imm32(v, vspan)?, next_imm: 0 })
        }
        word => {
            let mut e = AsmError::new(first.span.clone(), format!("unknown instruction `{word}`"));
            if let Some(best) = suggest(word, KEYWORDS) {
                e = e.with_help(format!("did you mean `{best}`?"));
            } else if UBPF_WORDS.contains(&word.to_ascii_lowercase().as_str()) {
                e = e.with_help("this is a uBPF mnemonic; the LLVM syntax writes assignments such as `r0 = 1`");
            } else {
                e = e.with_help(
                    "instructions start with a register (`r0 = 1`), `*`, `if`, `goto`, `call`, `lock` or `exit`",
                );
            }
            Err(e)
        }
    }
}

fn pseudo_src(v: i128, span: Range<usize>) -> PResult<ImmSrc> {
    u8::try_from(v).ok().and_then(ImmSrc::from_code).ok_or_else(|| {
        AsmError::new(span, format!("there is no pseudo source {v}")).with_help("`lddw` pseudo sources are 0..=6")
    })
}

fn call(p: &mut Parser<'_>) -> PResult<Stmt> {
    let Some(t) = p.peek().cloned() else {
        return Err(p.unexpected("a helper number, helper name or label"));
    };
    if t.kind != Kind::Ident {
        let (v, span) = p.int("a helper number, helper name or label")?;
        return plain(Insn::Call(CallTarget::Helper(imm32(v, span)?)));
    }
    if reg_of(&t)?.is_some() {
        return Err(AsmError::new(t.span, "`call` takes a helper number, helper name or label")
            .with_help(format!("to call the helper whose number is in a register, write `callx {}`", t.text)));
    }
    p.pos += 1;
    let next = p.peek().map(|n| n.text);
    if t.text == "pc" && matches!(next, Some("+" | "-")) {
        let (v, span) = p.int("an offset")?;
        return plain(Insn::Call(CallTarget::Local(signed32(v, span, "call offset")?)));
    }
    if t.text == "kfunc" && next == Some("(") {
        let args = p.int_args(&t, 1..3)?;
        let btf_id = imm32(args[0].0, args[0].1.clone())?;
        let off = match args.get(1) {
            None => 0,
            Some((v, span)) => i16::try_from(*v).map_err(|_| {
                AsmError::new(span.clone(), format!("kfunc module offset {v} does not fit in 16 bits"))
                    .with_help(RANGE16)
            })?,
        };
        return plain(Insn::Call(CallTarget::Kfunc { btf_id, off }));
    }
    if let Some(id) = helper_id(t.text) {
        return plain(Insn::Call(CallTarget::Helper(id)));
    }
    if let Some(bare) = t.text.strip_prefix("bpf_") {
        let mut e = AsmError::new(t.span.clone(), format!("unknown helper `{}`", t.text));
        // A name cut short (`bpf_map_lookup`) means the helper it begins, before any typo.
        let completion = helper_names().filter(|h| h.starts_with(bare)).min_by_key(|h| h.len());
        if let Some(best) = completion.or_else(|| closest(bare, helper_names())) {
            e = e.with_help(format!("did you mean `bpf_{best}`?"));
        }
        return Err(e);
    }
    Ok(Stmt {
        insn: Insn::Call(CallTarget::Local(0)),
        fixup: Some(Fixup::Label { name: t.text.to_string(), span: t.span }),
    })
}

fn cond_jump(p: &mut Parser<'_>) -> PResult<Stmt> {
    let (dst, width, _) = p.reg()?;
    let op = p.next().ok_or_else(|| p.unexpected("a comparison such as `>`"))?;
    let cond = JmpCond::ALL.into_iter().find(|c| c.operator() == op.text).ok_or_else(|| {
        let mut e = AsmError::new(op.span.clone(), format!("unknown comparison `{}`", op.text));
        let best =
            if op.text == "=" { Some("==") } else { closest(op.text, JmpCond::ALL.iter().map(|c| c.operator())) };
        if let Some(best) = best {
            e = e.with_help(format!("did you mean `{best}`?"));
        }
        e
    })?;
    let src = operand(p, width)?;
    p.expect("goto")?;
    let (off, fixup) = p.target(false)?;
    Ok(Stmt { insn: Insn::Jmp { width, cond, dst, src, off: off as i16 }, fixup })
}

/// The second operand of ALU and JMP: a register of `width` or a 32-bit immediate.
fn operand(p: &mut Parser<'_>, width: Width) -> PResult<Operand> {
    if let Some(t) = p.peek().cloned() {
        if reg_of(&t)?.is_some() {
            return Ok(Operand::Reg(p.reg_of_width(width)?));
        }
    }
    let (v, span) = p.int("a register or a number")?;
    Ok(Operand::Imm(imm32(v, span)?))
}

fn atomic_size(size: Size, t: &Tok<'_>) -> PResult<Width> {
    match size {
        Size::W => Ok(Width::W32),
        Size::DW => Ok(Width::W64),
        _ => Err(AsmError::new(t.span.clone(), format!("atomic operations cannot be `{}`", t.text))
            .with_help("atomic operations are `u32` or `u64`")),
    }
}

fn lock(p: &mut Parser<'_>) -> PResult<Stmt> {
    p.expect("*")?;
    let (size, signed, ttok) = p.ctype()?;
    if signed {
        return Err(
            AsmError::new(ttok.span, "atomic operations take an unsigned type").with_help("write `u32` or `u64`")
        );
    }
    let width = atomic_size(size, &ttok)?;
    let (dst, off) = p.mem()?;
    let op = p.next().ok_or_else(|| p.unexpected("`+=`, `|=`, `&=` or `^=`"))?;
    let aop = match op.text {
        "+=" => AtomicOp::Add,
        "|=" => AtomicOp::Or,
        "&=" => AtomicOp::And,
        "^=" => AtomicOp::Xor,
        other => {
            return Err(AsmError::new(op.span, format!("`{other}` is not an atomic operation"))
                .with_help("`lock` takes `+=`, `|=`, `&=` or `^=`; exchanges are `xchg_64(...)`, `cmpxchg_64(...)`"))
        }
    };
    let (src, w, stok) = p.reg()?;
    // llvm-mc reads the legacy 32-bit add (XADDW) with an `r` register too.
    if !(aop == AtomicOp::Add && size == Size::W) {
        check_width(src, w, width, &stok)?;
    }
    plain(Insn::Atomic { size, op: aop, fetch: false, dst, src, off })
}

fn store(p: &mut Parser<'_>) -> PResult<Stmt> {
    let (size, signed, ttok) = p.ctype()?;
    if signed {
        return Err(AsmError::new(ttok.span, format!("stores take an unsigned type, not `{}`", ttok.text))
            .with_help(format!("write `{}`", size.c_type())));
    }
    let (dst, off) = p.mem()?;
    p.expect("=")?;
    if let Some((r, w, t)) = p.try_reg()? {
        if w == Width::W32 && size == Size::DW {
            return Err(AsmError::new(t.span, format!("a 64-bit store needs a 64-bit register, found `{}`", t.text))
                .with_help(format!("write `r{}`", r.num())));
        }
        return plain(Insn::Store { size, dst, off, src: Operand::Reg(r) });
    }
    let (v, span) = p.int("a register or a number")?;
    plain(Insn::Store { size, dst, off, src: Operand::Imm(imm32(v, span)?) })
}

fn assignment(p: &mut Parser<'_>, dst: Reg, width: Width, dtok: &Tok<'_>) -> PResult<Stmt> {
    let op = p.next().ok_or_else(|| p.unexpected("`=` or an operator such as `+=`"))?;
    if op.text != "=" {
        let Some(&(_, bin)) = ALU_OPS.iter().find(|(t, _)| *t == op.text) else {
            let mut e = AsmError::new(op.span.clone(), format!("unknown operator `{}`", op.text));
            let ops = ALU_OPS.iter().map(|(t, _)| *t).chain(["="]);
            if let Some(best) = closest(op.text, ops) {
                e = e.with_help(format!("did you mean `{best}`?"));
            }
            return Err(e);
        };
        let src = operand(p, width)?;
        return plain(Insn::Bin { width, op: bin, dst, src });
    }
    let Some(t) = p.peek().cloned() else {
        return Err(p.unexpected("a value"));
    };
    // `dst = -dst` (neg) vs `dst = -1`.
    if t.text == "-" && p.peek_at(1).is_some_and(|n| n.kind == Kind::Ident) {
        p.pos += 1;
        let (src, w, stok) = p.reg()?;
        check_width(src, w, width, &stok)?;
        if src != dst {
            return Err(AsmError::new(stok.span, format!("negation works in place: write `{0} = -{0}`", dtok.text)));
        }
        return plain(Insn::Neg { width, dst });
    }
    if t.kind == Kind::Num || t.text == "-" || t.text == "+" {
        let (v, span) = p.int("a number")?;
        if p.peek_is("ll") {
            p.pos += 1;
            check_width(dst, width, Width::W64, dtok)?;
            if !(i64::MIN as i128..=u64::MAX as i128).contains(&v) {
                return Err(AsmError::new(span, format!("{v} does not fit in 64 bits")));
            }
            let bits = v as i64 as u64;
            return plain(Insn::LoadImm64 {
                dst,
                src: ImmSrc::Imm,
                imm: bits as u32 as i32,
                next_imm: (bits >> 32) as i32,
            });
        }
        let imm = imm32(v, span.clone()).map_err(|e| {
            if width == Width::W64 && (i64::MIN as i128..=u64::MAX as i128).contains(&v) {
                e.with_help(format!("{RANGE32}; for a 64-bit constant write `{} = {} ll`", dtok.text, v))
            } else {
                e
            }
        })?;
        return plain(Insn::Bin { width, op: BinOp::Mov, dst, src: Operand::Imm(imm) });
    }
    if let Some((src, w, stok)) = p.try_reg()? {
        check_width(src, w, width, &stok)?;
        return plain(Insn::Bin { width, op: BinOp::Mov, dst, src: Operand::Reg(src) });
    }
    match t.text {
        "(" => movsx(p, dst, width),
        "*" => {
            p.pos += 1;
            load(p, dst, width, dtok)
        }
        _ if t.kind == Kind::Ident => {
            p.pos += 1;
            named_rhs(p, dst, width, dtok, &t)
        }
        _ => Err(p.unexpected("a value")),
    }
}

fn movsx(p: &mut Parser<'_>, dst: Reg, width: Width) -> PResult<Stmt> {
    p.expect("(")?;
    let t = p.next().ok_or_else(|| p.unexpected("`s8`, `s16` or `s32`"))?;
    let op = match t.text {
        "s8" => BinOp::MovSx8,
        "s16" => BinOp::MovSx16,
        "s32" if width == Width::W64 => BinOp::MovSx32,
        "s32" => {
            return Err(AsmError::new(t.span, "a 32-bit register cannot be sign-extended from 32 bits")
                .with_help("`(s32)` needs 64-bit registers: `r1 = (s32)r2`"))
        }
        other => {
            return Err(AsmError::new(t.span, format!("`({other})` is not a sign-extending move"))
                .with_help("sign-extending moves take `(s8)`, `(s16)` or `(s32)`"))
        }
    };
    p.expect(")")?;
    let src = p.reg_of_width(width)?;
    plain(Insn::Bin { width, op, dst, src: Operand::Reg(src) })
}

fn load(p: &mut Parser<'_>, dst: Reg, width: Width, dtok: &Tok<'_>) -> PResult<Stmt> {
    let (size, signed, ttok) = p.ctype()?;
    if p.peek_is("skb") {
        p.pos += 1;
        return legacy_load(p, dst, width, dtok, size, signed, &ttok);
    }
    // The alu32 form `w0 = *(u32 *)(...)` is the same instruction (loads zero-extend).
    if width == Width::W32 && (signed || size == Size::DW) {
        return Err(AsmError::new(
            dtok.span.clone(),
            format!("`*({} *)` cannot load into a 32-bit register", ttok.text),
        )
        .with_help(format!("write `r{}`", dst.num())));
    }
    let (src, off) = p.mem()?;
    plain(Insn::Load { size, signed, dst, src, off })
}

fn legacy_load(
    p: &mut Parser<'_>,
    dst: Reg,
    width: Width,
    dtok: &Tok<'_>,
    size: Size,
    signed: bool,
    ttok: &Tok<'_>,
) -> PResult<Stmt> {
    if dst != Reg::R0 || width != Width::W64 {
        return Err(AsmError::new(dtok.span.clone(), "legacy packet loads always write `r0`"));
    }
    if signed || size == Size::DW {
        return Err(AsmError::new(ttok.span.clone(), format!("legacy packet loads cannot be `{}`", ttok.text))
            .with_help("they load `u8`, `u16` or `u32`"));
    }
    p.expect("[")?;
    let stmt = if let Some((src, w, stok)) = p.try_reg()? {
        check_width(src, w, Width::W64, &stok)?;
        let imm = if p.peek_is("+") || p.peek_is("-") {
            let (v, span) = p.int("an offset")?;
            signed32(v, span, "offset")?
        } else {
            0
        };
        Insn::LegacyLoad { mode: LegacyMode::Ind, size, src, imm }
    } else {
        let (v, span) = p.int("a register or an offset")?;
        Insn::LegacyLoad { mode: LegacyMode::Abs, size, src: Reg::R0, imm: imm32(v, span)? }
    };
    p.expect("]")?;
    plain(stmt)
}

fn named_rhs(p: &mut Parser<'_>, dst: Reg, width: Width, dtok: &Tok<'_>, t: &Tok<'_>) -> PResult<Stmt> {
    let endian = match t.text {
        "be16" => Some((EndianOp::ToBe, 16)),
        "be32" => Some((EndianOp::ToBe, 32)),
        "be64" => Some((EndianOp::ToBe, 64)),
        "le16" => Some((EndianOp::ToLe, 16)),
        "le32" => Some((EndianOp::ToLe, 32)),
        "le64" => Some((EndianOp::ToLe, 64)),
        "bswap16" => Some((EndianOp::Swap, 16)),
        "bswap32" => Some((EndianOp::Swap, 32)),
        "bswap64" => Some((EndianOp::Swap, 64)),
        _ => None,
    };
    if let Some((op, bits)) = endian {
        check_width(dst, width, Width::W64, dtok)?;
        let (src, w, stok) = p.reg()?;
        check_width(src, w, Width::W64, &stok)?;
        if src != dst {
            return Err(AsmError::new(
                stok.span,
                format!("byte swaps work in place: write `{0} = {1} {0}`", dtok.text, t.text),
            ));
        }
        return plain(Insn::Endian { op, bits, dst });
    }
    let fetch_op = match t.text {
        "atomic_fetch_add" => Some(AtomicOp::Add),
        "atomic_fetch_and" => Some(AtomicOp::And),
        "atomic_fetch_or" => Some(AtomicOp::Or),
        "atomic_fetch_xor" => Some(AtomicOp::Xor),
        _ => None,
    };
    if let Some(op) = fetch_op {
        p.expect("(")?;
        let (size, signed, ttok) = p.ctype()?;
        let w = atomic_size(size, &ttok)?;
        if signed {
            return Err(AsmError::new(ttok.span, "atomic operations take an unsigned type"));
        }
        check_width(dst, width, w, dtok)?;
        let (mdst, off) = p.mem()?;
        p.expect(",")?;
        let (src, sw, stok) = p.reg()?;
        check_width(src, sw, w, &stok)?;
        p.expect(")")?;
        same_reg(dst, src, dtok, &stok)?;
        return plain(Insn::Atomic { size, op, fetch: true, dst: mdst, src, off });
    }
    let xchg = match t.text {
        "xchg_64" => Some((AtomicOp::Xchg, Size::DW)),
        "xchg32_32" => Some((AtomicOp::Xchg, Size::W)),
        "cmpxchg_64" => Some((AtomicOp::CmpXchg, Size::DW)),
        "cmpxchg32_32" => Some((AtomicOp::CmpXchg, Size::W)),
        _ => None,
    };
    if let Some((op, size)) = xchg {
        let w = if size == Size::DW { Width::W64 } else { Width::W32 };
        check_width(dst, width, w, dtok)?;
        p.expect("(")?;
        let (mdst, off) = p.mem_inner()?;
        p.expect(",")?;
        let (first, fw, ftok) = p.reg()?;
        check_width(first, fw, w, &ftok)?;
        let src = if op == AtomicOp::CmpXchg {
            // cmpxchg compares with r0 and returns the old value in r0: both are fixed.
            if first != Reg::R0 {
                return Err(AsmError::new(ftok.span, "cmpxchg compares with `r0`")
                    .with_help("write `r0 = cmpxchg_64(r10 - 8, r0, r1)`"));
            }
            if dst != Reg::R0 {
                return Err(AsmError::new(dtok.span.clone(), "cmpxchg returns the old value in `r0`")
                    .with_help("write `r0 = cmpxchg_64(r10 - 8, r0, r1)`"));
            }
            p.expect(",")?;
            let (src, sw, stok) = p.reg()?;
            check_width(src, sw, w, &stok)?;
            src
        } else {
            same_reg(dst, first, dtok, &ftok)?;
            first
        };
        p.expect(")")?;
        return plain(Insn::Atomic { size, op, fetch: true, dst: mdst, src, off });
    }
    pseudo_load(p, dst, width, dtok, t)
}

fn same_reg(dst: Reg, src: Reg, dtok: &Tok<'_>, stok: &Tok<'_>) -> PResult<()> {
    if dst == src {
        Ok(())
    } else {
        Err(AsmError::new(
            stok.span.clone(),
            format!("the old value returns in the source register: expected `{}`", dtok.text),
        )
        .with_help("atomic fetches read and write the same register"))
    }
}

fn pseudo_load(p: &mut Parser<'_>, dst: Reg, width: Width, dtok: &Tok<'_>, t: &Tok<'_>) -> PResult<Stmt> {
    let known =
        ["map", "map_value", "map_fd", "map_value_fd", "btf_id", "func", "map_idx", "map_idx_value", "ld_pseudo"];
    if !known.contains(&t.text) || !p.peek_is("(") {
        let mut e = AsmError::new(t.span.clone(), format!("unknown operation `{}`", t.text));
        if let Some(best) = suggest(t.text, &[RHS_WORDS, &super::LDDW_PSEUDO_FORMS[..]].concat()) {
            e = e.with_help(format!("did you mean `{best}`?"));
        } else if p.peek_is("ll") {
            e = e.with_help("to load a map's address, declare it with `.map` and write `r1 = map(NAME) ll`");
        }
        return Err(e);
    }
    check_width(dst, width, Width::W64, dtok)?;
    let lddw = |src: ImmSrc, imm: i32, next_imm: i32| Insn::LoadImm64 { dst, src, imm, next_imm };
    let stmt = match t.text {
        "map" | "map_value" => {
            p.expect("(")?;
            let name = match p.peek().cloned() {
                // Any identifier, even one spelled like a register: `.map` accepts such names.
                Some(n) if n.kind == Kind::Ident => {
                    p.pos += 1;
                    n
                }
                _ => return Err(p.unexpected("a map name")),
            };
            let (src, next_imm) = if t.text == "map_value" {
                p.expect(",")?;
                let (v, span) = p.int("a value offset")?;
                (ImmSrc::MapIdxValue, imm32(v, span)?)
            } else {
                (ImmSrc::MapIdx, 0)
            };
            p.expect(")")?;
            Stmt {
                insn: lddw(src, 0, next_imm),
                fixup: Some(Fixup::Map { name: name.text.to_string(), span: name.span }),
            }
        }
        "func" => {
            p.expect("(")?;
            let s = match p.peek().cloned() {
                Some(n) if n.kind == Kind::Ident && reg_of(&n)?.is_none() => {
                    p.pos += 1;
                    Stmt {
                        insn: lddw(ImmSrc::Func, 0, 0),
                        fixup: Some(Fixup::Label { name: n.text.to_string(), span: n.span }),
                    }
                }
                _ => {
                    let (v, span) = p.int("an offset (`+3`) or a label")?;
                    Stmt { insn: lddw(ImmSrc::Func, signed32(v, span, "offset")?, 0), fixup: None }
                }
            };
            p.expect(")")?;
            s
        }
        "ld_pseudo" => {
            let a = p.int_args(t, 3..4)?;
            let src = pseudo_src(a[0].0, a[0].1.clone())?;
            Stmt { insn: lddw(src, imm32(a[1].0, a[1].1.clone())?, imm32(a[2].0, a[2].1.clone())?), fixup: None }
        }
        name => {
            let (src, count) = match name {
                "map_fd" => (ImmSrc::MapFd, 1..2),
                "map_value_fd" => (ImmSrc::MapValue, 2..3),
                "btf_id" => (ImmSrc::BtfId, 1..3),
                "map_idx" => (ImmSrc::MapIdx, 1..2),
                _ => (ImmSrc::MapIdxValue, 2..3),
            };
            let a = p.int_args(t, count)?;
            let imm = imm32(a[0].0, a[0].1.clone())?;
            let next_imm = match a.get(1) {
                Some((v, span)) => imm32(*v, span.clone())?,
                None => 0,
            };
            Stmt { insn: lddw(src, imm, next_imm), fixup: None }
        }
    };
    p.expect_ll()?;
    Ok(stmt)
}

// ---------------------------------------------------------------------------------------------
// Printer
// ---------------------------------------------------------------------------------------------

/// A signed value in llvm-objdump's hexadecimal style: `0x10`, `-0x10`.
fn hex(v: i64) -> String {
    if v < 0 {
        format!("-{:#x}", v.unsigned_abs())
    } else {
        format!("{v:#x}")
    }
}

/// A branch offset with its sign: `+0x3`, `-0x3`.
fn rel(v: i64) -> String {
    if v < 0 {
        hex(v)
    } else {
        format!("+{v:#x}")
    }
}

fn reg(r: Reg, width: Width) -> String {
    match width {
        Width::W64 => format!("r{}", r.num()),
        Width::W32 => format!("w{}", r.num()),
    }
}

/// `(r1 + 0x8)` / `(r1 - 0x8)`, without the parentheses.
fn addr(r: Reg, off: i16) -> String {
    if off < 0 {
        format!("r{} - {:#x}", r.num(), off.unsigned_abs())
    } else {
        format!("r{} + {off:#x}", r.num())
    }
}

fn operand_text(src: Operand, width: Width) -> String {
    match src {
        Operand::Reg(r) => reg(r, width),
        Operand::Imm(i) => hex(i as i64),
    }
}

/// Formats one instruction the way llvm-objdump-19 prints it (see the module docs for the forms
/// objdump cannot print); `parse_insn` reads the result back to the same instruction.
pub fn format_insn(insn: &Insn, ctx: &FormatCtx) -> String {
    match *insn {
        Insn::Bin { width, op, dst, src } => {
            let d = reg(dst, width);
            let s = operand_text(src, width);
            match op {
                BinOp::MovSx8 => format!("{d} = (s8){s}"),
                BinOp::MovSx16 => format!("{d} = (s16){s}"),
                BinOp::MovSx32 => format!("{d} = (s32){s}"),
                _ => format!("{d} {} {s}", op.operator()),
            }
        }
        Insn::Neg { width, dst } => format!("{0} = -{0}", reg(dst, width)),
        Insn::Endian { op, bits, dst } => {
            let name = match op {
                EndianOp::ToLe => "le",
                EndianOp::ToBe => "be",
                EndianOp::Swap => "bswap",
            };
            format!("r{0} = {name}{bits} r{0}", dst.num())
        }
        Insn::Ja { off, long } => format!("{} {}", if long { "gotol" } else { "goto" }, rel(off as i64)),
        Insn::Jmp { width, cond, dst, src, off } => {
            format!("if {} {} {} goto {}", reg(dst, width), cond.operator(), operand_text(src, width), rel(off as i64))
        }
        Insn::Call(CallTarget::Helper(id)) => format!("call {}", hex(id as i64)),
        Insn::Call(CallTarget::Local(off)) => format!("call pc{off:+}"),
        Insn::Call(CallTarget::Kfunc { btf_id, off: 0 }) => format!("call kfunc({btf_id})"),
        Insn::Call(CallTarget::Kfunc { btf_id, off }) => format!("call kfunc({btf_id}, {off})"),
        Insn::Callx { dst } => format!("callx r{}", dst.num()),
        Insn::Exit => "exit".to_string(),
        Insn::LoadImm64 { dst, src, imm, next_imm } => {
            // By name only when the name reads back as one.
            let map_name = |i: i32| {
                usize::try_from(i).ok().and_then(|i| ctx.maps.get(i)).map(|m| m.name.as_str()).filter(|n| is_ident(n))
            };
            let value = match (src, next_imm) {
                (ImmSrc::Imm, _) => hex(Insn::imm64(imm, next_imm) as i64),
                (ImmSrc::MapFd, 0) => format!("map_fd({imm})"),
                (ImmSrc::MapValue, _) => format!("map_value_fd({imm}, {next_imm})"),
                (ImmSrc::BtfId, 0) => format!("btf_id({imm})"),
                (ImmSrc::BtfId, _) => format!("btf_id({imm}, {next_imm})"),
                (ImmSrc::Func, 0) => format!("func({imm:+})"),
                (ImmSrc::MapIdx, 0) => match map_name(imm) {
                    Some(name) => format!("map({name})"),
                    None => format!("map_idx({imm})"),
                },
                (ImmSrc::MapIdxValue, _) => match map_name(imm) {
                    Some(name) => format!("map_value({name}, {next_imm})"),
                    None => format!("map_idx_value({imm}, {next_imm})"),
                },
                _ => format!("ld_pseudo({}, {imm}, {next_imm})", src.code()),
            };
            format!("r{} = {value} ll", dst.num())
        }
        Insn::Load { size, signed, dst, src, off } => {
            let ty = if signed { size.c_stype() } else { size.c_type() };
            format!("r{} = *({ty} *)({})", dst.num(), addr(src, off))
        }
        Insn::Store { size, dst, off, src } => {
            format!("*({} *)({}) = {}", size.c_type(), addr(dst, off), operand_text(src, Width::W64))
        }
        Insn::Atomic { size, op, fetch, dst, src, off } => {
            let w = if size == Size::DW { Width::W64 } else { Width::W32 };
            let s = reg(src, w);
            let ty = size.c_type();
            let a = addr(dst, off);
            let (xchg, cmpxchg) =
                if size == Size::DW { ("xchg_64", "cmpxchg_64") } else { ("xchg32_32", "cmpxchg32_32") };
            match (op, fetch) {
                (AtomicOp::Xchg, _) => format!("{s} = {xchg}({a}, {s})"),
                (AtomicOp::CmpXchg, _) => {
                    let r0 = reg(Reg::R0, w);
                    format!("{r0} = {cmpxchg}({a}, {r0}, {s})")
                }
                (_, true) => format!("{s} = atomic_fetch_{}(({ty} *)({a}), {s})", fetch_name(op)),
                (_, false) => format!("lock *({ty} *)({a}) {} {s}", lock_op(op)),
            }
        }
        Insn::LegacyLoad { mode, size, src, imm } => {
            let ty = size.c_type();
            match mode {
                LegacyMode::Abs => format!("r0 = *({ty} *)skb[{}]", hex(imm as i64)),
                LegacyMode::Ind if imm == 0 => format!("r0 = *({ty} *)skb[r{}]", src.num()),
                LegacyMode::Ind if imm < 0 => {
                    format!("r0 = *({ty} *)skb[r{} - {:#x}]", src.num(), imm.unsigned_abs())
                }
                LegacyMode::Ind => format!("r0 = *({ty} *)skb[r{} + {imm:#x}]", src.num()),
            }
        }
    }
}

fn fetch_name(op: AtomicOp) -> &'static str {
    match op {
        AtomicOp::Add => "add",
        AtomicOp::Or => "or",
        AtomicOp::And => "and",
        _ => "xor",
    }
}

fn lock_op(op: AtomicOp) -> &'static str {
    match op {
        AtomicOp::Add => "+=",
        AtomicOp::Or => "|=",
        AtomicOp::And => "&=",
        _ => "^=",
    }
}
