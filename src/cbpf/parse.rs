//! Reading classic programs: the C array `tcpdump -dd` (and `bpf_asm -c`) prints,
//! `{ 0x28, 0, 0, 0x0000000c },` per line, or `bpf_asm` text (`ldh [12]`, `jeq #0x800, ip, drop`,
//! labels `ip:`, comments after `;` or `//`). Errors carry the byte span they are about.

use super::{op, ClassicInsn};
use std::collections::HashMap;
use std::ops::Range;

/// A parse error: what and where.
pub type ParseError = (String, Range<usize>);

/// A parsed program: the instructions and the source span of each.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// The instructions.
    pub insns: Vec<ClassicInsn>,
    /// The span of each instruction's line.
    pub spans: Vec<Range<usize>>,
}

/// Parses either form (the array form is recognised by its `{`).
pub fn parse(text: &str) -> Result<Parsed, ParseError> {
    let parsed = if text.contains('{') { parse_array(text)? } else { parse_asm(text)? };
    if parsed.insns.is_empty() {
        return Err(("no instructions".into(), 0..0));
    }
    Ok(parsed)
}

/// Lines with their byte offsets, comments removed.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut at = 0;
    text.split_inclusive('\n').map(move |raw| {
        let start = at;
        at += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let cut = [line.find(';'), line.find("//")].into_iter().flatten().min().unwrap_or(line.len());
        (start, &line[..cut])
    })
}

fn number(word: &str) -> Option<u32> {
    let w = word.trim();
    match w.strip_prefix("0x").or_else(|| w.strip_prefix("0X")) {
        Some(h) => u32::from_str_radix(h, 16).ok(),
        None => w.parse().ok(),
    }
}

fn parse_array(text: &str) -> Result<Parsed, ParseError> {
    let mut out = Parsed::default();
    for (start, line) in lines(text) {
        let Some(open) = line.find('{') else { continue };
        let close = line.find('}').ok_or(("missing `}`".to_string(), start..start + line.len()))?;
        let span = start + open..start + close + 1;
        let fields: Vec<&str> = line[open + 1..close].split(',').collect();
        let bad = || ("expected `{ code, jt, jf, k }`".to_string(), span.clone());
        let [code, jt, jf, k] = fields[..] else { return Err(bad()) };
        let (Some(code), Some(jt), Some(jf), Some(k)) = (number(code), number(jt), number(jf), number(k)) else {
            return Err(bad());
        };
        let (Ok(code), Ok(jt), Ok(jf)) = (u16::try_from(code), u8::try_from(jt), u8::try_from(jf)) else {
            return Err(("code must fit 16 bits, jt and jf 8 bits".into(), span));
        };
        out.insns.push(ClassicInsn { code, jt, jf, k });
        out.spans.push(span);
    }
    Ok(out)
}

/// One `bpf_asm` line before its labels are resolved.
struct Line {
    span: Range<usize>,
    mnemonic: String,
    operands: Vec<(String, Range<usize>)>,
}

fn parse_asm(text: &str) -> Result<Parsed, ParseError> {
    let mut labels: HashMap<String, usize> = HashMap::new();
    let mut body: Vec<Line> = Vec::new();
    for (start, line) in lines(text) {
        let mut rest = line;
        let mut offset = start;
        // Labels: `name:` before the instruction (several allowed).
        while let Some(colon) = rest.find(':') {
            let name = rest[..colon].trim();
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
                break;
            }
            if labels.insert(name.to_string(), body.len()).is_some() {
                return Err((format!("label `{name}` is defined twice"), offset..offset + colon));
            }
            offset += colon + 1;
            rest = &rest[colon + 1..];
        }
        let trimmed = rest.trim_start();
        offset += rest.len() - trimmed.len();
        let trimmed = trimmed.trim_end();
        if trimmed.is_empty() {
            continue;
        }
        let (mnemonic, ops) = trimmed.split_once(char::is_whitespace).unwrap_or((trimmed, ""));
        let ops_at = offset + (trimmed.len() - trimmed[mnemonic.len()..].trim_start().len());
        let mut operands = Vec::new();
        let mut at = ops_at;
        // Split on commas outside brackets (`[x + 4]` has none, but stay safe).
        for part in ops.trim().split(',') {
            let lead = part.len() - part.trim_start().len();
            if !part.trim().is_empty() {
                operands.push((part.trim().to_string(), at + lead..at + lead + part.trim().len()));
            }
            at += part.len() + 1;
        }
        body.push(Line { span: offset..offset + trimmed.len(), mnemonic: mnemonic.to_ascii_lowercase(), operands });
    }
    let mut out = Parsed::default();
    for (i, line) in body.iter().enumerate() {
        let insn = assemble(line, i, &labels)?;
        out.insns.push(insn);
        out.spans.push(line.span.clone());
    }
    Ok(out)
}

/// `#k`, `#0x..`, or a bare number.
fn imm(operand: &(String, Range<usize>)) -> Result<u32, ParseError> {
    let t = operand.0.strip_prefix('#').unwrap_or(&operand.0);
    let neg = t.strip_prefix('-');
    let v = number(neg.unwrap_or(t)).ok_or((format!("`{}` is not a number", operand.0), operand.1.clone()))?;
    Ok(if neg.is_some() { v.wrapping_neg() } else { v })
}

fn assemble(line: &Line, at: usize, labels: &HashMap<String, usize>) -> Result<ClassicInsn, ParseError> {
    let m = line.mnemonic.as_str();
    let ops = &line.operands;
    let want = |n: usize| -> Result<(), ParseError> {
        if ops.len() == n {
            Ok(())
        } else {
            Err((format!("`{m}` takes {n} operand(s), got {}", ops.len()), line.span.clone()))
        }
    };
    let insn = |code: u16, k: u32| ClassicInsn { code, jt: 0, jf: 0, k };
    let target = |o: &(String, Range<usize>)| -> Result<u8, ParseError> {
        let to = *labels.get(&o.0).ok_or((format!("no label `{}`", o.0), o.1.clone()))?;
        if to <= at {
            return Err(("classic BPF jumps only forward".into(), o.1.clone()));
        }
        u8::try_from(to - at - 1)
            .map_err(|_| ("a conditional jump reaches at most 255 instructions".into(), o.1.clone()))
    };
    let x_or_k = |o: &(String, Range<usize>)| -> Result<(u16, u32), ParseError> {
        match o.0.as_str() {
            "x" | "%x" => Ok((op::X, 0)),
            _ => Ok((op::K, imm(o)?)),
        }
    };
    let size = |name: &str| match name.strip_prefix("ld").map(|s| s.trim_start_matches('x')) {
        Some("h") => op::H,
        Some("b") => op::B,
        _ => op::W,
    };
    Ok(match m {
        "ld" | "ldh" | "ldb" | "ldx" | "ldxb" | "ldi" | "ldxi" => {
            want(1)?;
            let class = if m.starts_with("ldx") { op::LDX } else { op::LD };
            let o = &ops[0];
            let t = o.0.replace(' ', "");
            if t == "#len" || t == "len" {
                insn(class | op::W | op::LEN, 0)
            } else if let Some(inner) = t.strip_prefix("M[").and_then(|s| s.strip_suffix(']')) {
                let k = number(inner).filter(|k| *k < 16).ok_or(("M[k] needs 0 <= k < 16".to_string(), o.1.clone()))?;
                insn(class | op::MEM, k)
            } else if let Some(inner) = t.strip_prefix("4*([").and_then(|s| s.strip_suffix("]&0xf)")) {
                let k = number(inner).ok_or(("expected `4*([k]&0xf)`".to_string(), o.1.clone()))?;
                insn(op::LDX | op::B | op::MSH, k)
            } else if let Some(inner) = t.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
                if class == op::LDX {
                    return Err(("ldx loads only #k, #len, M[k] and 4*([k]&0xf)".into(), o.1.clone()));
                }
                match inner.strip_prefix("x+") {
                    Some(k) => insn(op::LD | size(m) | op::IND, imm(&(k.to_string(), o.1.clone()))?),
                    None => insn(op::LD | size(m) | op::ABS, imm(&(inner.to_string(), o.1.clone()))?),
                }
            } else {
                insn(class | op::IMM, imm(o)?)
            }
        }
        "st" | "stx" => {
            want(1)?;
            let t = ops[0].0.replace(' ', "");
            let k = t
                .strip_prefix("M[")
                .and_then(|s| s.strip_suffix(']'))
                .and_then(number)
                .filter(|k| *k < 16)
                .ok_or(("expected M[k] with 0 <= k < 16".to_string(), ops[0].1.clone()))?;
            insn(if m == "st" { op::ST } else { op::STX }, k)
        }
        "neg" => {
            want(0)?;
            insn(op::ALU | 0x80, 0)
        }
        "tax" | "txa" => {
            want(0)?;
            insn(op::MISC | if m == "tax" { op::TAX } else { op::TXA }, 0)
        }
        "ret" => {
            want(1)?;
            match ops[0].0.as_str() {
                "a" | "%a" => insn(op::RET | op::A, 0),
                _ => insn(op::RET | op::K, imm(&ops[0])?),
            }
        }
        "ja" | "jmp" => {
            want(1)?;
            let to = *labels.get(&ops[0].0).ok_or((format!("no label `{}`", ops[0].0), ops[0].1.clone()))?;
            if to <= at {
                return Err(("classic BPF jumps only forward".into(), ops[0].1.clone()));
            }
            insn(op::JMP, (to - at - 1) as u32)
        }
        _ => {
            if let Some((code, _)) = op::ALU_OPS.iter().find(|(_, n)| *n == m) {
                want(1)?;
                let (src, k) = x_or_k(&ops[0])?;
                return Ok(insn(op::ALU | code | src, k));
            }
            // Conditional jumps; the negated forms swap the targets.
            let (name, swap) = match m {
                "jne" | "jneq" => ("jeq", true),
                "jlt" => ("jge", true),
                "jle" => ("jgt", true),
                other => (other, false),
            };
            let Some((code, _)) = op::JMP_OPS.iter().find(|(_, n)| *n == name && *n != "ja") else {
                return Err((format!("unknown instruction `{m}`"), line.span.clone()));
            };
            if ops.len() != 2 && ops.len() != 3 {
                return Err((format!("`{m}` takes a value and one or two labels"), line.span.clone()));
            }
            let (src, k) = x_or_k(&ops[0])?;
            let hit = target(&ops[1])?;
            let miss = if ops.len() == 3 { target(&ops[2])? } else { 0 };
            let (jt, jf) = if swap { (miss, hit) } else { (hit, miss) };
            ClassicInsn { code: op::JMP | code | src, jt, jf, k }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `tcpdump -dd 'ip and udp'`.
    const IP_UDP: &str = "{ 0x28, 0, 0, 0x0000000c },\n{ 0x15, 0, 3, 0x00000800 },\n{ 0x30, 0, 0, 0x00000017 },\n\
                          { 0x15, 0, 1, 0x00000011 },\n{ 0x6, 0, 0, 0x00040000 },\n{ 0x6, 0, 0, 0x00000000 },\n";

    #[test]
    fn both_forms_read_the_same_program() {
        let dd = parse(IP_UDP).unwrap();
        let asm = parse(
            "        ldh [12]            ; EtherType\n        jeq #0x800, ip, drop\nip:     ldb [23]\n\
             \x20       jneq #17, drop\n        ret #262144\ndrop:   ret #0\n",
        )
        .unwrap();
        assert_eq!(dd.insns, asm.insns);
        let text: Vec<String> = dd.insns.iter().enumerate().map(|(i, c)| c.text(i)).collect();
        assert_eq!(text, ["ldh [12]", "jeq #0x800, 2, 5", "ldb [23]", "jeq #0x11, 4, 5", "ret #262144", "ret #0"]);
    }

    #[test]
    fn errors_name_their_place() {
        let e = parse("ld [12]\njeq #1, nowhere\nret #0\n").unwrap_err();
        assert_eq!((e.0.as_str(), e.1.clone()), ("no label `nowhere`", 16..23));
        assert!(parse("a: ret #0\njeq #1, a\n").unwrap_err().0.contains("only forward"));
        assert!(parse("frob #1\n").unwrap_err().0.contains("unknown instruction `frob`"));
        assert!(parse("{ 0x28, 0, 0 },\n").unwrap_err().0.contains("code, jt, jf, k"));
        assert!(parse("st M[16]\n").unwrap_err().0.contains("0 <= k < 16"));
    }
}
