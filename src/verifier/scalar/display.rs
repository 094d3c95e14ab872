//! A scalar in the kernel log's spelling (`print_scalar_ranges` in kernel/bpf/log.c) and in a
//! student's words.

use super::ScalarValue;
use std::fmt;

/// Signed numbers in `[-32768, 32767]` print in decimal, others in hex (`is_snum_decimal`).
fn snum(v: i64) -> String {
    if (i16::MIN as i64..=i16::MAX as i64).contains(&v) {
        v.to_string()
    } else {
        format!("{:#x}", v as u64)
    }
}

/// Unsigned numbers up to 65535 print in decimal, others in hex (`is_unum_decimal`).
fn unum(v: u64) -> String {
    if v <= u16::MAX as u64 {
        v.to_string()
    } else {
        format!("{v:#x}")
    }
}

impl ScalarValue {
    /// The kernel log's fields inside `scalar(...)`, comma-separated: the ranges that say
    /// something, equal ones merged (`smin=umin=0`), then `var_off` unless it is unknown. Empty
    /// for an unknown value. Pointers with a variable offset print the same fields.
    pub fn kernel_ranges(&self) -> String {
        // A 32-bit signed bound prints sign-extended when decimal, as its u32 bits when hex,
        // so that hex never looks sign-extended.
        let s32 = |v: i32| {
            let wide = v as i64;
            if (i16::MIN as i64..=i16::MAX as i64).contains(&wide) {
                wide as u64
            } else {
                v as u32 as u64
            }
        };
        let mut views = [
            ("smin", self.smin as u64, self.smin == i64::MIN),
            ("smax", self.smax as u64, self.smax == i64::MAX),
            ("umin", self.umin, self.umin == 0),
            ("umax", self.umax, self.umax == u64::MAX),
            ("smin32", s32(self.s32_min), self.s32_min == i32::MIN),
            ("smax32", s32(self.s32_max), self.s32_max == i32::MAX),
            ("umin32", self.u32_min as u64, self.u32_min == 0),
            ("umax32", self.u32_max as u64, self.u32_max == u32::MAX),
        ];
        let negative = |name: &str, v: u64| name.starts_with('s') && (v as i64) < 0;
        let mut out = String::new();
        for i in 0..views.len() {
            let (name, val, omit) = views[i];
            if omit {
                continue;
            }
            if !out.is_empty() {
                out.push(',');
            }
            out.push_str(name);
            out.push('=');
            // Minima merge with minima, maxima with maxima, never a negative with a positive.
            for j in (i + 2..views.len()).step_by(2) {
                let (name2, val2, omit2) = views[j];
                if omit2 || val2 != val || negative(name2, val2) != negative(name, val) {
                    continue;
                }
                views[j].2 = true;
                out.push_str(name2);
                out.push('=');
            }
            out.push_str(&if name.starts_with('s') { snum(val as i64) } else { unum(val) });
        }
        if !self.var_off.is_unknown() {
            if !out.is_empty() {
                out.push(',');
            }
            out.push_str(&format!("var_off={}", self.var_off));
        }
        out
    }

    /// The student's words: "0", "scalar in [0, 255]", "any scalar", "scalar in [0, 4088], a
    /// multiple of 8".
    pub fn describe(&self) -> String {
        if let Some(c) = self.const_value() {
            return number(c as i64);
        }
        let bits = self.var_off.value | self.var_off.mask;
        let align = bits.trailing_zeros().min(63);
        let multiple = (align > 0).then(|| format!(", a multiple of {}", 1u64 << align));
        let range = if self.umax <= i64::MAX as u64 && (self.umin > 0 || self.umax < i64::MAX as u64) {
            Some(format!("scalar in [{}, {}]", number(self.umin as i64), number(self.umax as i64)))
        } else if self.smin > i64::MIN || self.smax < i64::MAX {
            Some(format!("scalar in [{}, {}]", number(self.smin), number(self.smax)))
        } else if self.umin > 0 || self.umax < u64::MAX {
            Some(format!("scalar in [{:#x}, {:#x}] (unsigned)", self.umin, self.umax))
        } else if self.u32_min > 0 || self.u32_max < u32::MAX {
            Some(format!(
                "scalar whose low 32 bits are in [{}, {}]",
                number(self.u32_min as i64),
                number(self.u32_max as i64)
            ))
        } else if self.s32_min > i32::MIN || self.s32_max < i32::MAX {
            Some(format!("scalar whose low 32 bits are in [{}, {}] (signed)", self.s32_min, self.s32_max))
        } else {
            None
        };
        match (range, multiple) {
            (Some(r), m) => r + m.as_deref().unwrap_or(""),
            (None, Some(m)) => format!("any scalar{m}"),
            (None, None) if self.var_off.is_unknown() => "any scalar".to_string(),
            (None, None) => format!("scalar with known bits {}", self.var_off),
        }
    }
}

/// A number as a student reads it: decimal when short, hex when long.
fn number(v: i64) -> String {
    if v.unsigned_abs() < 1 << 32 {
        v.to_string()
    } else {
        format!("{:#x}", v as u64)
    }
}

/// The kernel log's spelling of a scalar after `Rn=`: `5`, `scalar()`,
/// `scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))` (`print_reg_state`
/// and `print_scalar_ranges`). Ids and precision marks belong to the register, not here.
impl fmt::Display for ScalarValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.const_value() {
            Some(c) => f.write_str(&snum(c as i64)),
            None => write!(f, "scalar({})", self.kernel_ranges()),
        }
    }
}
