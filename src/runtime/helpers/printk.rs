//! The kernel's `bpf_trace_printk` formatting: the format checks of `bpf_bprintf_prepare`
//! (kernel/bpf/helpers.c) and the output of `bstr_printf`.
//!
//! Accepted conversions (anything else is `-EINVAL`, as in the kernel):
//! `%%`; `%d %i %u %x %X` with optional `l`/`ll` (no `h`, no precision); `%c`; `%s`;
//! `%p`, `%pK`, `%px`, `%ps`, `%pS`, `%pB` (pointer values); `%pks`/`%pus` (strings);
//! `%pi4 %pI4 %pi6 %pI6` (IP addresses read from memory). Each may carry the flags `0 + - space`
//! and a width. At most 3 arguments; every byte of the format up to its NUL must be printable
//! ASCII or white space, and the NUL must lie within `fmt_size`.
//!
//! Where the kernel's output depends on kernel state ebpf-lab does not have, it is replaced:
//! `%p`/`%pK` print the raw value like `%px` (the kernel prints a hashed value), `%ps`/`%pS`/`%pB`
//! print `0x`+hex (the kernel prints a symbol name), and a `%s` whose pointer cannot be read
//! prints an empty string (as the kernel does on a fault).

use super::HelperEnv;

/// The kernel's `MAX_BPRINTF_BUF`: the formatted message is truncated to this size minus the NUL.
pub const MAX_BPRINTF_BUF: usize = 1024;
/// Longest string a `%s` copies (the kernel's `MAX_BPRINTF_BIN_ARGS` scratch space, minus the NUL).
pub const MAX_STR_LEN: usize = 511;
/// ebpf-lab's bound on `fmt_size` (the verifier bounds it by the memory region in the kernel).
pub const MAX_FMT_SIZE: usize = 1 << 16;
/// The kernel's `MAX_TRACE_PRINTK_VARARGS`.
pub const MAX_TRACE_PRINTK_VARARGS: usize = 3;

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn is_print(c: u8) -> bool {
    (0x20..=0x7e).contains(&c)
}

fn is_punct(c: u8) -> bool {
    is_print(c) && c != b' ' && !c.is_ascii_alphanumeric()
}

/// Flags and width of one conversion.
#[derive(Default, Clone, Copy)]
struct Spec {
    left: bool,
    zero: bool,
    plus: bool,
    space: bool,
    width: usize,
}

impl Spec {
    fn pad(&self, body: String, numeric: bool) -> String {
        if body.len() >= self.width {
            return body;
        }
        let fill = self.width - body.len();
        if self.left {
            format!("{body}{}", " ".repeat(fill))
        } else if self.zero && numeric {
            // Zeroes go after the sign.
            let (sign, digits) = match body.as_bytes().first() {
                Some(b'-' | b'+' | b' ') => body.split_at(1),
                _ => ("", body.as_str()),
            };
            format!("{sign}{}{digits}", "0".repeat(fill))
        } else {
            format!("{}{body}", " ".repeat(fill))
        }
    }

    fn signed(&self, v: i64) -> String {
        let body = if v < 0 {
            format!("-{}", v.unsigned_abs())
        } else if self.plus {
            format!("+{v}")
        } else if self.space {
            format!(" {v}")
        } else {
            v.to_string()
        };
        self.pad(body, true)
    }
}

/// Reads a NUL-terminated string of at most [`MAX_STR_LEN`] bytes; empty if unreadable.
fn read_str(env: &dyn HelperEnv, addr: u64) -> String {
    let mut out = Vec::new();
    while out.len() < MAX_STR_LEN {
        match env.read(addr.wrapping_add(out.len() as u64), 1) {
            Ok(b) if b[0] != 0 => out.push(b[0]),
            Ok(_) => break,
            Err(_) => {
                out.clear();
                break;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn ip(env: &dyn HelperEnv, addr: u64, kind: u8, version: u8) -> String {
    let n = if version == b'4' { 4 } else { 16 };
    let bytes = env.read(addr, n).unwrap_or_else(|_| vec![0; n]);
    match (version, kind) {
        (b'4', b'I') => bytes.iter().map(|b| b.to_string()).collect::<Vec<_>>().join("."),
        (b'4', _) => bytes.iter().map(|b| format!("{b:03}")).collect::<Vec<_>>().join("."),
        (_, b'I') => bytes.chunks(2).map(|c| format!("{:02x}{:02x}", c[0], c[1])).collect::<Vec<_>>().join(":"),
        _ => bytes.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

/// Formats `fmt` (the raw bytes the program passed, `fmt_size` long) with `args` like
/// `bpf_trace_printk`; `Err(errno)` (positive, `EINVAL`) for a format the kernel rejects.
pub fn format(env: &dyn HelperEnv, fmt: &[u8], args: &[u64]) -> Result<String, i32> {
    let end = fmt.iter().position(|&c| c == 0).ok_or(libc::EINVAL)?;
    // Past the end the kernel's loop sees the NUL; `at` gives the same view.
    let fmt = &fmt[..end];
    let at = |i: usize| fmt.get(i).copied().unwrap_or(0);
    let mut out = String::new();
    let mut nspec = 0;
    let mut i = 0;
    while i < fmt.len() {
        let c = fmt[i];
        if (!is_print(c) && !is_space(c)) || !c.is_ascii() {
            return Err(libc::EINVAL);
        }
        if c != b'%' {
            out.push(c as char);
            i += 1;
            continue;
        }
        if at(i + 1) == b'%' {
            out.push('%');
            i += 2;
            continue;
        }
        if nspec >= args.len() {
            return Err(libc::EINVAL);
        }
        let arg = args[nspec];
        nspec += 1;
        i += 1;
        let mut spec = Spec::default();
        while matches!(at(i), b'0' | b'+' | b'-' | b' ') {
            match at(i) {
                b'0' => spec.zero = true,
                b'+' => spec.plus = true,
                b'-' => spec.left = true,
                _ => spec.space = true,
            }
            i += 1;
        }
        if (b'1'..=b'9').contains(&at(i)) {
            while at(i).is_ascii_digit() {
                spec.width = (spec.width * 10 + (at(i) - b'0') as usize).min(MAX_BPRINTF_BUF);
                i += 1;
            }
        }
        match at(i) {
            b'p' => {
                let next = at(i + 1);
                if matches!(next, b'k' | b'u') && at(i + 2) == b's' {
                    if at(i + 3) != 0 && !is_space(at(i + 3)) && !is_punct(at(i + 3)) {
                        return Err(libc::EINVAL);
                    }
                    out += &spec.pad(read_str(env, arg), false);
                    i += 3;
                } else if next == 0 || is_space(next) || is_punct(next) {
                    // Plain %p: the next character is literal text.
                    out += &spec.pad(format!("{arg:016x}"), false);
                    i += 1;
                } else if matches!(next, b'K' | b'x') {
                    out += &spec.pad(format!("{arg:016x}"), false);
                    i += 2;
                } else if matches!(next, b's' | b'S' | b'B') {
                    out += &spec.pad(format!("{arg:#x}"), false);
                    i += 2;
                } else if matches!(next, b'i' | b'I') && matches!(at(i + 2), b'4' | b'6') {
                    out += &spec.pad(ip(env, arg, next, at(i + 2)), false);
                    i += 3;
                } else {
                    return Err(libc::EINVAL);
                }
            }
            b's' => {
                if at(i + 1) != 0 && !is_space(at(i + 1)) && !is_punct(at(i + 1)) {
                    return Err(libc::EINVAL);
                }
                out += &spec.pad(read_str(env, arg), false);
                i += 1;
            }
            b'c' => {
                out += &spec.pad((arg as u8 as char).to_string(), false);
                i += 1;
            }
            _ => {
                let mut long = false;
                for _ in 0..2 {
                    if at(i) == b'l' {
                        long = true;
                        i += 1;
                    }
                }
                let v = if long { arg } else { arg as u32 as u64 };
                let body = match at(i) {
                    b'd' | b'i' => spec.signed(if long { v as i64 } else { v as u32 as i32 as i64 }),
                    b'u' => spec.pad(v.to_string(), true),
                    b'x' => spec.pad(format!("{v:x}"), true),
                    b'X' => spec.pad(format!("{v:X}"), true),
                    _ => return Err(libc::EINVAL),
                };
                out += &body;
                i += 1;
            }
        }
    }
    Ok(out)
}
