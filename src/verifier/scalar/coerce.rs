//! Narrowing a value to fewer bytes, zero- or sign-extended back (`coerce_reg_to_size`,
//! `coerce_reg_to_size_sx`, `coerce_subreg_to_size_sx`): what loads, `movsx` and byte swaps do.

use super::ScalarValue;
use crate::verifier::tnum::Tnum;

impl ScalarValue {
    /// The low `size` bytes (1, 2 or 4), zero-extended, synced (`coerce_reg_to_size`).
    pub(super) fn coerce_to_size(&mut self, size: u8) {
        self.var_off = self.var_off.cast(size);
        let mask = (1u64 << (size * 8)) - 1;
        // The range survives truncation only when its ends share the dropped bits.
        if self.umin & !mask == self.umax & !mask {
            self.umin &= mask;
            self.umax &= mask;
        } else {
            self.umin = 0;
            self.umax = mask;
        }
        self.smin = self.umin as i64;
        self.smax = self.umax as i64;
        if size < 4 {
            self.mark_unbounded32();
        }
        self.sync();
    }

    /// The low `size` bytes (1, 2 or 4), sign-extended to 64 bits (`coerce_reg_to_size_sx`).
    /// Not synced, as in the kernel, except on the s32 path below.
    pub(super) fn coerce_to_size_sx(&mut self, size: u8) {
        let sext = |x: u64| -> i64 {
            match size {
                1 => x as i8 as i64,
                2 => x as i16 as i64,
                _ => x as i32 as i64,
            }
        };
        if let Some(c) = self.const_value() {
            *self = ScalarValue::constant(sext(c) as u64);
            return;
        }
        let bits = size as u32 * 8;
        let top_max = (self.smax as u64 >> bits) << bits;
        let top_min = (self.smin as u64 >> bits) << bits;
        if top_max == top_min {
            let (a, b) = (sext(self.smax as u64), sext(self.smin as u64));
            let (lo, hi) = (a.min(b), a.max(b));
            // Both ends on one side of zero: the range is exact after the extension.
            if (lo >= 0) == (hi >= 0) {
                self.smin = lo;
                self.s32_min = lo as i32;
                self.smax = hi;
                self.s32_max = hi as i32;
                self.umin = lo as u64;
                self.u32_min = lo as u32;
                self.umax = hi as u64;
                self.u32_max = hi as u32;
                self.var_off = Tnum::range(lo as u64, hi as u64);
                return;
            }
        }
        let (lo, hi) = match size {
            1 => (i8::MIN as i32, i8::MAX as i32),
            2 => (i16::MIN as i32, i16::MAX as i32),
            _ => (i32::MIN, i32::MAX),
        };
        // The live 6.18 kernel then looks at the low half: when its s32 range already lies in
        // the narrow type's, extending changes nothing there and the 64-bit value is the s32
        // one sign-extended (always so from 32 bits). Not in the 6.18 sources we could read;
        // measured against the kernel's logs (tests/verifier_scalar.rs).
        if self.s32_min >= lo && self.s32_max <= hi {
            self.smin = self.s32_min as i64;
            self.smax = self.s32_max as i64;
            self.umin = 0;
            self.umax = u64::MAX;
            self.var_off = Tnum::UNKNOWN;
            self.sync();
            return;
        }
        // `set_sext64_default_val`: every value of the narrow signed type.
        self.smin = lo as i64;
        self.s32_min = lo;
        self.smax = hi as i64;
        self.s32_max = hi;
        self.umin = 0;
        self.u32_min = 0;
        self.umax = u64::MAX;
        self.u32_max = u32::MAX;
        self.var_off = Tnum::UNKNOWN;
    }

    /// The low `size` bytes (1 or 2) of the low half, sign-extended to 32 bits; the 64-bit
    /// views are left for `zext_32_to_64` (`coerce_subreg_to_size_sx`).
    pub(super) fn coerce_subreg_to_size_sx(&mut self, size: u8) {
        let sext = |x: u32| -> i32 {
            if size == 1 {
                x as i8 as i32
            } else {
                x as i16 as i32
            }
        };
        if let Some(c) = self.const_value() {
            let v = sext(c as u32);
            self.var_off = Tnum::constant(v as i64 as u64);
            self.s32_min = v;
            self.s32_max = v;
            self.u32_min = v as u32;
            self.u32_max = v as u32;
            return;
        }
        let bits = size as u32 * 8;
        let top_max = (self.s32_max as u32 >> bits) << bits;
        let top_min = (self.s32_min as u32 >> bits) << bits;
        if top_max == top_min {
            let (a, b) = (sext(self.s32_max as u32), sext(self.s32_min as u32));
            let (lo, hi) = (a.min(b), a.max(b));
            if (lo >= 0) == (hi >= 0) {
                self.s32_min = lo;
                self.s32_max = hi;
                self.u32_min = lo as u32;
                self.u32_max = hi as u32;
                self.var_off = Tnum::range(lo as i64 as u64, hi as i64 as u64).subreg();
                return;
            }
        }
        // `set_sext32_default_val`.
        let (lo, hi) = if size == 1 { (i8::MIN as i32, i8::MAX as i32) } else { (i16::MIN as i32, i16::MAX as i32) };
        self.s32_min = lo;
        self.s32_max = hi;
        self.u32_min = 0;
        self.u32_max = u32::MAX;
        self.var_off = Tnum::UNKNOWN.subreg();
    }
}
