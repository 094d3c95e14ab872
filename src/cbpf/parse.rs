//! Reading classic BPF text: `tcpdump -dd` output (`{ 0x28, 0, 0, 0x0000000c },` per line),
//! `tcpdump -ddd` output (the count, then `40 0 0 12` per line, as `xt_bpf` takes it) or the
//! kernel's `bpf_asm` language (`ldh [12]`, `jeq #0x800, ip, drop`, labels, `;` comments).
//! The form is chosen by the first instruction line: `{` means `-dd`, a lone number `-ddd`.

use super::insn::{class, mode, size, ClassicInsn, EXTENSIONS, SKF_AD_OFF};
use std::ops::Range;

/// A parse error with the byte range it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// What is wrong, and what would be right.
    pub message: String,
    /// Where, in bytes of the text.
    pub span: Range<usize>,
}

fn err<T>(message: impl Into<String>, span: Range<usize>) -> Result<T, ParseError> {
    Err(ParseError { message: message.into(), span })
}

/// Lines of `text` with their byte offsets, comments (`;`, `//`, `#` at the start) removed.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut at = 0;
    text.split_inclusive('\n').map(move |raw| {
        let start = at;
        at += raw.len();
        let mut l = raw.trim_end_matches(['\n', '\r']);
        for c in [";", "//"] {
            if let Some(i) = l.find(c) {
                l = &l[..i];
            }
        }
        if l.trim_start().starts_with('#') {
            l = "";
        }
        (start, l)
    })
}

/// Parses either text form into classic instructions, each with its source range.
pub fn parse(text: &str) -> Result<Vec<(ClassicInsn, Range<usize>)>, ParseError> {
    let first = lines(text).find(|(_, l)| !l.trim().is_empty());
    let out = match first {
        None => return err("no instructions (expected `tcpdump -dd` output or bpf_asm text)", 0..0),
        Some((_, l)) if l.trim_start().starts_with('{') => parse_dd(text)?,
        Some((_, l)) if l.trim().parse::<u32>().is_ok() => parse_ddd(text)?,
        Some(_) => parse_asm(text)?,
    };
    Ok(out)
}

fn number(s: &str, span: Range<usize>) -> Result<u32, ParseError> {
    let t = s.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t),
    };
    let v = match body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => body.parse::<u64>().ok(),
    };
    match v {
        Some(v) if v <= u32::MAX as u64 => Ok(if neg { (v as u32).wrapping_neg() } else { v as u32 }),
        _ => err(format!("`{t}` is not a 32-bit number"), span),
    }
}

/// The non-blank lines of `text`, trimmed, each with its byte range.
fn content_lines(text: &str) -> impl Iterator<Item = (&str, Range<usize>)> {
    lines(text).filter_map(|(start, l)| {
        let t = l.trim();
        let lead = start + (l.len() - l.trim_start().len());
        (!t.is_empty()).then(|| (t, lead..lead + t.len()))
    })
}

/// One `{code, jt, jf, k}` from four number fields.
fn numeric_insn(fields: &[&str], span: Range<usize>) -> Result<(ClassicInsn, Range<usize>), ParseError> {
    if fields.len() != 4 {
        return err(format!("expected 4 fields (code, jt, jf, k), found {}", fields.len()), span);
    }
    let mut n = [0u32; 4];
    for (slot, f) in n.iter_mut().zip(fields) {
        *slot = number(f, span.clone())?;
    }
    let [code, jt, jf, k] = n;
    if code > u16::MAX as u32 || jt > 255 || jf > 255 {
        return err("code must fit 16 bits and jt, jf 8 bits", span);
    }
    Ok((ClassicInsn { code: code as u16, jt: jt as u8, jf: jf as u8, k }, span))
}

/// `{ 0x28, 0, 0, 0x0000000c },` lines.
fn parse_dd(text: &str) -> Result<Vec<(ClassicInsn, Range<usize>)>, ParseError> {
    content_lines(text)
        .map(|(t, span)| match t.strip_prefix('{').and_then(|b| b.trim_end_matches(',').trim_end().strip_suffix('}')) {
            Some(body) => numeric_insn(&body.split(',').collect::<Vec<_>>(), span),
            None => err("expected `{ code, jt, jf, k },` as `tcpdump -dd` prints it", span),
        })
        .collect()
}

/// A count line, then `code jt jf k` in decimal per line.
fn parse_ddd(text: &str) -> Result<Vec<(ClassicInsn, Range<usize>)>, ParseError> {
    let mut it = content_lines(text);
    let Some((first, first_span)) = it.next() else { return Ok(Vec::new()) };
    let count = number(first, first_span.clone())? as usize;
    let out = it
        .map(|(t, span)| numeric_insn(&t.split_whitespace().collect::<Vec<_>>(), span))
        .collect::<Result<Vec<_>, _>>()?;
    if count != out.len() {
        return err(format!("the first line announces {count} instructions, {} follow", out.len()), first_span);
    }
    Ok(out)
}

/// A bpf_asm instruction before labels are resolved.
struct Pending {
    insn: ClassicInsn,
    span: Range<usize>,
    /// Labels for (jt, jf), or for `ja` (jt is k).
    targets: Option<(String, Option<String>)>,
    /// `jne`/`jlt`/`jle`: the kernel's classic set has only the opposite test, with the targets swapped.
    swap: bool,
    /// `ja`: the target goes into k.
    always: bool,
}

fn parse_asm(text: &str) -> Result<Vec<(ClassicInsn, Range<usize>)>, ParseError> {
    let mut labels: Vec<(String, usize)> = Vec::new();
    let mut pending: Vec<Pending> = Vec::new();
    for (start, l) in lines(text) {
        let mut rest = l;
        let mut at = start;
        // Labels: `name:` at the start of the line.
        if let Some(colon) = rest.find(':') {
            let name = rest[..colon].trim();
            if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
                labels.push((name.to_string(), pending.len()));
                at += colon + 1;
                rest = &rest[colon + 1..];
            }
        }
        let t = rest.trim();
        if t.is_empty() {
            continue;
        }
        let lead = at + (rest.len() - rest.trim_start().len());
        let span = lead..lead + t.len();
        pending.push(parse_asm_insn(t, span)?);
    }
    let find = |name: &str, span: &Range<usize>| -> Result<usize, ParseError> {
        labels
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, i)| *i)
            .ok_or_else(|| ParseError { message: format!("no label `{name}`"), span: span.clone() })
    };
    let mut out = Vec::with_capacity(pending.len());
    for (i, p) in pending.iter().enumerate() {
        let mut insn = p.insn;
        if let Some((t, f)) = &p.targets {
            let rel = |target: usize| -> Result<u32, ParseError> {
                if target <= i {
                    return err("classic BPF jumps only forward", p.span.clone());
                }
                Ok((target - i - 1) as u32)
            };
            let jt = rel(find(t, &p.span)?)?;
            let jf = match f {
                Some(f) => rel(find(f, &p.span)?)?,
                None => 0,
            };
            if p.always {
                insn.k = jt;
            } else {
                if jt > 255 || jf > 255 {
                    return err("a conditional jump reaches at most 255 instructions ahead", p.span.clone());
                }
                let (jt, jf) = if p.swap { (jf, jt) } else { (jt, jf) };
                insn.jt = jt as u8;
                insn.jf = jf as u8;
            }
        }
        out.push((insn, p.span.clone()));
    }
    Ok(out)
}

/// `[k]`, `[x + k]`, `M[k]`, `#k`, `#len`, `#proto`..., `x`, `a`, `4*([k]&0xf)`.
enum Operand {
    Imm(u32),
    Len,
    Ext(u32),
    Abs(u32),
    Ind(u32),
    Mem(u32),
    Msh(u32),
    X,
    A,
}

fn operand(s: &str, span: &Range<usize>) -> Result<Operand, ParseError> {
    let t: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let t = t.as_str();
    let sp = span.clone();
    if let Some(v) = t.strip_prefix('#') {
        if v == "len" || v == "pktlen" {
            return Ok(Operand::Len);
        }
        if let Some((_, n)) = EXTENSIONS.iter().find(|(name, _)| *name == v) {
            return Ok(Operand::Ext(*n));
        }
        return number(v, sp).map(Operand::Imm);
    }
    if let Some(v) = t.strip_prefix("M[").and_then(|v| v.strip_suffix(']')) {
        return number(v, sp).map(Operand::Mem);
    }
    if let Some(v) = t.strip_prefix("4*([").and_then(|v| v.strip_suffix("]&0xf)")) {
        return number(v, sp).map(Operand::Msh);
    }
    if let Some(v) = t.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
        let v = v.strip_prefix('%').unwrap_or(v);
        if let Some(k) = v.strip_prefix("x+") {
            return number(k, sp).map(Operand::Ind);
        }
        if v == "x" {
            return Ok(Operand::Ind(0));
        }
        return number(v, sp).map(Operand::Abs);
    }
    match t {
        "x" | "%x" => Ok(Operand::X),
        "a" | "%a" => Ok(Operand::A),
        _ => err(format!("`{s}` is not an operand (#k, [k], [x + k], M[k], x, a)"), sp),
    }
}

fn parse_asm_insn(t: &str, span: Range<usize>) -> Result<Pending, ParseError> {
    let (mn, args) = match t.find(char::is_whitespace) {
        Some(i) => (&t[..i], t[i..].trim()),
        None => (t, ""),
    };
    let mn = mn.to_ascii_lowercase();
    let mut p = Pending {
        insn: ClassicInsn { code: 0, jt: 0, jf: 0, k: 0 },
        span: span.clone(),
        targets: None,
        swap: false,
        always: false,
    };
    let bad = |what: &str| err(format!("`{mn}` takes {what}"), span.clone());
    let arg = || operand(args, &span);
    let set = |p: &mut Pending, code: u16, k: u32| {
        p.insn.code = code;
        p.insn.k = k;
    };
    match mn.as_str() {
        "ld" | "ldh" | "ldb" | "ldi" | "ldx" | "ldxi" | "ldxb" => {
            let x = mn.starts_with("ldx");
            let c = if x { class::LDX } else { class::LD };
            let sz = match mn.as_str() {
                "ldh" => size::H,
                "ldb" => size::B,
                _ => size::W,
            };
            match (arg()?, x) {
                (Operand::Imm(k), _) if sz == size::W => set(&mut p, c | mode::IMM, k),
                (Operand::Len, _) if sz == size::W => set(&mut p, c | size::W | mode::LEN, 0),
                (Operand::Mem(k), _) if sz == size::W => set(&mut p, c | mode::MEM, k),
                (Operand::Msh(k), true) => set(&mut p, class::LDX | size::B | mode::MSH, k),
                (Operand::Ext(n), false) => {
                    set(&mut p, class::LD | sz | mode::ABS, (SKF_AD_OFF as u32).wrapping_add(n))
                }
                (Operand::Abs(k), false) => set(&mut p, class::LD | sz | mode::ABS, k),
                (Operand::Ind(k), false) => set(&mut p, class::LD | sz | mode::IND, k),
                _ => return bad("#k, #len, M[k] (and ld: [k], [x + k], #proto...; ldxb: 4*([k]&0xf))"),
            }
        }
        "st" | "stx" => match arg()? {
            Operand::Mem(k) => set(&mut p, if mn == "st" { class::ST } else { class::STX }, k),
            _ => return bad("M[k]"),
        },
        "tax" => set(&mut p, class::MISC, 0),
        "txa" => set(&mut p, class::MISC | 0x80, 0),
        "ret" => match arg()? {
            Operand::Imm(k) => set(&mut p, class::RET, k),
            Operand::A => set(&mut p, class::RET | 0x10, 0),
            Operand::X => set(&mut p, class::RET | 0x08, 0),
            _ => return bad("#k, a or x"),
        },
        "neg" => set(&mut p, class::ALU | 0x80, 0),
        "add" | "sub" | "mul" | "div" | "mod" | "and" | "or" | "xor" | "lsh" | "rsh" => {
            let op = match mn.as_str() {
                "add" => 0x00,
                "sub" => 0x10,
                "mul" => 0x20,
                "div" => 0x30,
                "or" => 0x40,
                "and" => 0x50,
                "lsh" => 0x60,
                "rsh" => 0x70,
                "mod" => 0x90,
                _ => 0xa0,
            };
            match arg()? {
                Operand::Imm(k) => set(&mut p, class::ALU | op, k),
                Operand::X => set(&mut p, class::ALU | op | 0x08, 0),
                _ => return bad("#k or x"),
            }
        }
        "ja" | "jmp" => {
            p.insn.code = class::JMP;
            p.always = true;
            p.targets = Some((args.to_string(), None));
        }
        "jeq" | "jne" | "jneq" | "jgt" | "jge" | "jlt" | "jle" | "jset" => {
            let parts: Vec<&str> = args.split(',').map(str::trim).collect();
            if parts.len() < 2 || parts.len() > 3 {
                return bad("a value and one or two labels: `jeq #0x800, yes, no`");
            }
            let (op, swap) = match mn.as_str() {
                "jeq" => (0x10, false),
                "jne" | "jneq" => (0x10, true),
                "jgt" => (0x20, false),
                "jle" => (0x20, true),
                "jge" => (0x30, false),
                "jlt" => (0x30, true),
                _ => (0x40, false),
            };
            match operand(parts[0], &span)? {
                Operand::Imm(k) => set(&mut p, class::JMP | op, k),
                Operand::X => set(&mut p, class::JMP | op | 0x08, 0),
                _ => return bad("#k or x as the value to compare"),
            }
            p.swap = swap;
            p.targets = Some((parts[1].to_string(), parts.get(2).map(|s| s.to_string())));
            if swap && parts.len() == 2 {
                // `jne #k, L`: jump to L when different, else fall through.
                p.targets = Some((parts[1].to_string(), None));
            }
        }
        _ => return err(format!("unknown classic BPF instruction `{mn}`"), span),
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_read_the_same_program() {
        let dd = "{ 0x28, 0, 0, 0x0000000c },\n{ 0x15, 0, 1, 0x00000800 },\n{ 0x6, 0, 0, 0x00040000 },\n{ 0x6, 0, 0, 0x00000000 },\n";
        let asm = "; IPv4 only\n  ldh [12]\n  jeq #0x800, keep, drop\nkeep: ret #0x40000\ndrop: ret #0\n";
        let ddd = "4\n40 0 0 12\n21 0 1 2048\n6 0 0 262144\n6 0 0 0\n";
        let a: Vec<_> = parse(dd).unwrap().into_iter().map(|(i, _)| i).collect();
        let b: Vec<_> = parse(asm).unwrap().into_iter().map(|(i, _)| i).collect();
        let c: Vec<_> = parse(ddd).unwrap().into_iter().map(|(i, _)| i).collect();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert!(parse("3\n6 0 0 0\n").unwrap_err().message.contains("announces 3 instructions, 1 follow"));
        assert_eq!(a[1].to_string(), "jeq #0x800 jt +0 jf +1");
    }

    #[test]
    fn jne_is_jeq_with_the_targets_swapped() {
        let p = parse("ld #len\njne #4, drop\nret #-1\ndrop: ret #0\n").unwrap();
        assert_eq!(p[1].0, ClassicInsn { code: 0x15, jt: 0, jf: 1, k: 4 });
        assert_eq!(p[2].0.k, u32::MAX);
    }

    #[test]
    fn errors_point_at_the_text() {
        let e = parse("ldh [12]\njeq #1, nowhere\nret #0\n").unwrap_err();
        assert_eq!(e.message, "no label `nowhere`");
        assert_eq!(e.span, 9..24);
        let e = parse("{ 0x28, 0, 0 },\n").unwrap_err();
        assert!(e.message.contains("4 fields"), "{}", e.message);
        assert!(parse("frob #1\n").unwrap_err().message.contains("unknown classic BPF instruction `frob`"));
    }
}
