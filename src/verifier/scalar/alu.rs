//! ALU transfer functions (`adjust_scalar_min_max_vals` and its `scalar_min_max_*` /
//! `scalar32_min_max_*` helpers): the 32-bit and the 64-bit ranges are computed separately,
//! the tnum once, then a 32-bit result is zero-extended and everything synced.

use super::ScalarValue;
use crate::isa::{BinOp, EndianOp, Width};

impl ScalarValue {
    /// `self op src` at `width`, for every binary ALU operation including the moves
    /// (`Mov` gives `src`; `MovSx*` sign-extends `src`). 32-bit results are zero-extended.
    ///
    /// Precision is the kernel's: division and modulo (by anything, even constants) give an
    /// unknown 64-bit value, as do shifts whose amount is not a constant below the width; a
    /// shift the kernel refuses outright (an immediate out of range) is the caller's to refuse
    /// first. The kernel first splits a value in `[-1, 0]` before an `And` or `Or` with a
    /// constant: see [`fork_before`](Self::fork_before).
    pub fn alu(&self, op: BinOp, width: Width, src: &ScalarValue) -> ScalarValue {
        let alu32 = width == Width::W32;
        match op {
            BinOp::Mov | BinOp::MovSx8 | BinOp::MovSx16 | BinOp::MovSx32 => return src.moved(op, alu32),
            _ => {}
        }
        if !safe_to_compute(op, alu32, src) {
            return ScalarValue::unknown();
        }
        let mut dst = *self;
        match op {
            BinOp::Add => {
                dst.add32(src);
                dst.add64(src);
                dst.var_off = dst.var_off.add(src.var_off);
            }
            BinOp::Sub => {
                dst.sub32(src);
                dst.sub64(src);
                dst.var_off = dst.var_off.sub(src.var_off);
            }
            BinOp::Mul => {
                dst.var_off = dst.var_off.mul(src.var_off);
                dst.mul32(src);
                dst.mul64(src);
            }
            BinOp::And => {
                dst.var_off = dst.var_off.and(src.var_off);
                dst.and32(src);
                dst.and64(src);
            }
            BinOp::Or => {
                dst.var_off = dst.var_off.or(src.var_off);
                dst.or32(src);
                dst.or64(src);
            }
            BinOp::Xor => {
                dst.var_off = dst.var_off.xor(src.var_off);
                dst.xor32(src);
                dst.xor64(src);
            }
            BinOp::Lsh if alu32 => dst.lsh32(src),
            BinOp::Lsh => dst.lsh64(src),
            BinOp::Rsh if alu32 => dst.rsh32(src),
            BinOp::Rsh => dst.rsh64(src),
            BinOp::Arsh if alu32 => dst.arsh32(src),
            BinOp::Arsh => dst.arsh64(src),
            _ => unreachable!("moves, divisions and modulos are handled above"),
        }
        if alu32 {
            dst.zext_32_to_64();
        }
        dst.sync_checked();
        dst
    }

    /// The kernel's split before `And` or `Or` with a constant (`maybe_fork_scalars`): a value
    /// in `[-1, 0]` (64-bit, else its low half in s32 `[-1, 0]`) becomes `-1` on the path
    /// followed now and `0` on a path pushed to redo the same instruction. `None`: no split.
    /// The operation itself is then [`alu`](Self::alu) on the first.
    pub fn fork_before(&self, op: BinOp, src: &ScalarValue) -> Option<(ScalarValue, ScalarValue)> {
        if !matches!(op, BinOp::And | BinOp::Or) || !src.var_off.is_const() {
            return None;
        }
        let (mut now, mut later) = (*self, *self);
        if self.smin == -1 && self.smax == 0 {
            now.mark_known(u64::MAX);
            later.mark_known(0);
        } else if self.s32_min == -1 && self.s32_max == 0 {
            now.mark_known32(u32::MAX);
            later.mark_known32(0);
        } else {
            return None;
        }
        Some((now, later))
    }

    /// `-self` at `width`: `0 - self` for the ranges, `tnum_neg` for the bits.
    pub fn neg(&self, width: Width) -> ScalarValue {
        let mut dst = ScalarValue::constant(0);
        dst.sub32(self);
        dst.sub64(self);
        dst.var_off = self.var_off.neg();
        if width == Width::W32 {
            dst.zext_32_to_64();
        }
        dst.sync_checked();
        dst
    }

    /// A byte-order instruction on the low `bits` (16, 32 or 64), on a little-endian machine
    /// (`scalar_byte_swap`): a swap keeps only the tnum, swapped; 16 and 32 bits truncate.
    pub fn endian(&self, op: EndianOp, bits: u32) -> ScalarValue {
        let mut dst = *self;
        if matches!(op, EndianOp::ToBe | EndianOp::Swap) {
            dst.var_off = dst.var_off.bswap(bits);
            dst.mark_unbounded();
        }
        if bits == 16 || bits == 32 {
            dst.coerce_to_size((bits / 8) as u8);
        }
        dst.sync_checked();
        dst
    }

    /// `src` moved into a register by `op` (`Mov` or a `MovSx*`).
    fn moved(&self, op: BinOp, alu32: bool) -> ScalarValue {
        let mut dst = *self;
        let size = match op {
            BinOp::MovSx8 => 1,
            BinOp::MovSx16 => 2,
            BinOp::MovSx32 => 4,
            _ => 0,
        };
        if alu32 {
            // `w = (s32)w` does not exist; the decoder refuses it, so it is treated as `w = w`.
            if size == 1 || size == 2 {
                dst.coerce_subreg_to_size_sx(size);
            }
            dst.zext_32_to_64();
            dst.sync_checked();
        } else if size != 0 {
            dst.coerce_to_size_sx(size);
        }
        dst
    }

    fn add32(&mut self, src: &ScalarValue) {
        match (self.s32_min.checked_add(src.s32_min), self.s32_max.checked_add(src.s32_max)) {
            (Some(lo), Some(hi)) => (self.s32_min, self.s32_max) = (lo, hi),
            _ => (self.s32_min, self.s32_max) = (i32::MIN, i32::MAX),
        }
        // Sound when all sums overflow or none does.
        let (lo, lo_over) = self.u32_min.overflowing_add(src.u32_min);
        let (hi, hi_over) = self.u32_max.overflowing_add(src.u32_max);
        (self.u32_min, self.u32_max) = if !lo_over && hi_over { (0, u32::MAX) } else { (lo, hi) };
    }

    fn add64(&mut self, src: &ScalarValue) {
        match (self.smin.checked_add(src.smin), self.smax.checked_add(src.smax)) {
            (Some(lo), Some(hi)) => (self.smin, self.smax) = (lo, hi),
            _ => (self.smin, self.smax) = (i64::MIN, i64::MAX),
        }
        let (lo, lo_over) = self.umin.overflowing_add(src.umin);
        let (hi, hi_over) = self.umax.overflowing_add(src.umax);
        (self.umin, self.umax) = if !lo_over && hi_over { (0, u64::MAX) } else { (lo, hi) };
    }

    fn sub32(&mut self, src: &ScalarValue) {
        match (self.s32_min.checked_sub(src.s32_max), self.s32_max.checked_sub(src.s32_min)) {
            (Some(lo), Some(hi)) => (self.s32_min, self.s32_max) = (lo, hi),
            _ => (self.s32_min, self.s32_max) = (i32::MIN, i32::MAX),
        }
        // Sound when all differences underflow or none does.
        let (lo, lo_under) = self.u32_min.overflowing_sub(src.u32_max);
        let (hi, hi_under) = self.u32_max.overflowing_sub(src.u32_min);
        (self.u32_min, self.u32_max) = if lo_under && !hi_under { (0, u32::MAX) } else { (lo, hi) };
    }

    fn sub64(&mut self, src: &ScalarValue) {
        match (self.smin.checked_sub(src.smax), self.smax.checked_sub(src.smin)) {
            (Some(lo), Some(hi)) => (self.smin, self.smax) = (lo, hi),
            _ => (self.smin, self.smax) = (i64::MIN, i64::MAX),
        }
        let (lo, lo_under) = self.umin.overflowing_sub(src.umax);
        let (hi, hi_under) = self.umax.overflowing_sub(src.umin);
        (self.umin, self.umax) = if lo_under && !hi_under { (0, u64::MAX) } else { (lo, hi) };
    }

    fn mul32(&mut self, src: &ScalarValue) {
        match (self.u32_max.checked_mul(src.u32_max), self.u32_min.checked_mul(src.u32_min)) {
            (Some(hi), Some(lo)) => (self.u32_min, self.u32_max) = (lo, hi),
            _ => (self.u32_min, self.u32_max) = (0, u32::MAX),
        }
        let products = [
            self.s32_min.checked_mul(src.s32_min),
            self.s32_min.checked_mul(src.s32_max),
            self.s32_max.checked_mul(src.s32_min),
            self.s32_max.checked_mul(src.s32_max),
        ];
        (self.s32_min, self.s32_max) = min_max(products).unwrap_or((i32::MIN, i32::MAX));
    }

    fn mul64(&mut self, src: &ScalarValue) {
        match (self.umax.checked_mul(src.umax), self.umin.checked_mul(src.umin)) {
            (Some(hi), Some(lo)) => (self.umin, self.umax) = (lo, hi),
            _ => (self.umin, self.umax) = (0, u64::MAX),
        }
        let products = [
            self.smin.checked_mul(src.smin),
            self.smin.checked_mul(src.smax),
            self.smax.checked_mul(src.smin),
            self.smax.checked_mul(src.smax),
        ];
        (self.smin, self.smax) = min_max(products).unwrap_or((i64::MIN, i64::MAX));
    }

    /// The s32 range is the u32 one when that does not cross the sign bit.
    fn s32_from_u32(&mut self) {
        if (self.u32_min as i32) <= (self.u32_max as i32) {
            self.s32_min = self.u32_min as i32;
            self.s32_max = self.u32_max as i32;
        } else {
            self.s32_min = i32::MIN;
            self.s32_max = i32::MAX;
        }
    }

    /// The s64 range is the u64 one when that does not cross the sign bit.
    fn s64_from_u64(&mut self) {
        if (self.umin as i64) <= (self.umax as i64) {
            self.smin = self.umin as i64;
            self.smax = self.umax as i64;
        } else {
            self.smin = i64::MIN;
            self.smax = i64::MAX;
        }
    }

    /// Bitwise ops: when both operands are constants (the tnum already is), so is the result.
    fn both_const32(&self, src: &ScalarValue) -> bool {
        src.var_off.subreg_is_const() && self.var_off.subreg_is_const()
    }

    fn both_const64(&self, src: &ScalarValue) -> bool {
        src.var_off.is_const() && self.var_off.is_const()
    }

    // The bitwise helpers run after the tnum was updated, so `self.var_off` is the result's.

    fn and32(&mut self, src: &ScalarValue) {
        let t = self.var_off.subreg();
        if self.both_const32(src) {
            return self.mark_known32(t.value as u32);
        }
        self.u32_min = t.value as u32;
        self.u32_max = self.u32_max.min(src.u32_max);
        self.s32_from_u32();
    }

    fn and64(&mut self, src: &ScalarValue) {
        if self.both_const64(src) {
            return self.mark_known(self.var_off.value);
        }
        self.umin = self.var_off.value;
        self.umax = self.umax.min(src.umax);
        self.s64_from_u64();
        self.update_bounds();
    }

    fn or32(&mut self, src: &ScalarValue) {
        let t = self.var_off.subreg();
        if self.both_const32(src) {
            return self.mark_known32(t.value as u32);
        }
        self.u32_min = self.u32_min.max(src.u32_min);
        self.u32_max = (t.value | t.mask) as u32;
        self.s32_from_u32();
    }

    fn or64(&mut self, src: &ScalarValue) {
        if self.both_const64(src) {
            return self.mark_known(self.var_off.value);
        }
        self.umin = self.umin.max(src.umin);
        self.umax = self.var_off.value | self.var_off.mask;
        self.s64_from_u64();
        self.update_bounds();
    }

    fn xor32(&mut self, src: &ScalarValue) {
        let t = self.var_off.subreg();
        if self.both_const32(src) {
            return self.mark_known32(t.value as u32);
        }
        self.u32_min = t.value as u32;
        self.u32_max = (t.value | t.mask) as u32;
        self.s32_from_u32();
    }

    fn xor64(&mut self, src: &ScalarValue) {
        if self.both_const64(src) {
            return self.mark_known(self.var_off.value);
        }
        self.umin = self.var_off.value;
        self.umax = self.var_off.value | self.var_off.mask;
        self.s64_from_u64();
        self.update_bounds();
    }

    /// `__scalar32_min_max_lsh`.
    fn lsh32_bounds(&mut self, umin_val: u64, umax_val: u64) {
        self.s32_min = i32::MIN;
        self.s32_max = i32::MAX;
        // The top bit may be shifted out: nothing is known.
        if umax_val > 31 || self.u32_max as u64 > 1u64 << (31 - umax_val) {
            self.u32_min = 0;
            self.u32_max = u32::MAX;
        } else {
            self.u32_min <<= umin_val;
            self.u32_max <<= umax_val;
        }
    }

    fn lsh32(&mut self, src: &ScalarValue) {
        let (lo, hi) = (src.u32_min as u64, src.u32_max as u64);
        let sub = self.var_off.subreg();
        self.lsh32_bounds(lo, hi);
        self.var_off = sub.lshift(lo as u8).subreg();
        self.mark_unbounded64();
        self.update_bounds32();
    }

    fn lsh64(&mut self, src: &ScalarValue) {
        let (lo, hi) = (src.umin, src.umax);
        // `x << 32` is the low half times 2^32, signed as the low half is: the `<<32 s>>32`
        // idiom keeps its bounds.
        if lo == 32 && hi == 32 {
            self.smin = (self.s32_min as i64) << 32;
            self.smax = (self.s32_max as i64) << 32;
        } else {
            self.smin = i64::MIN;
            self.smax = i64::MAX;
        }
        if self.umax > 1u64 << (63 - hi) {
            self.umin = 0;
            self.umax = u64::MAX;
        } else {
            self.umin <<= lo;
            self.umax <<= hi;
        }
        self.lsh32_bounds(lo, hi);
        self.var_off = self.var_off.lshift(lo as u8);
        self.update_bounds();
    }

    fn rsh32(&mut self, src: &ScalarValue) {
        let (lo, hi) = (src.u32_min, src.u32_max);
        let sub = self.var_off.subreg();
        self.s32_min = i32::MIN;
        self.s32_max = i32::MAX;
        self.var_off = sub.rshift(lo as u8);
        self.u32_min >>= hi;
        self.u32_max >>= lo;
        self.mark_unbounded64();
        self.update_bounds32();
    }

    fn rsh64(&mut self, src: &ScalarValue) {
        let (lo, hi) = (src.umin, src.umax);
        self.smin = i64::MIN;
        self.smax = i64::MAX;
        self.var_off = self.var_off.rshift(lo as u8);
        self.umin >>= hi;
        self.umax >>= lo;
        self.mark_unbounded32();
        self.update_bounds();
    }

    fn arsh32(&mut self, src: &ScalarValue) {
        let shift = src.u32_min;
        self.s32_min >>= shift;
        self.s32_max >>= shift;
        self.var_off = self.var_off.subreg().arshift(shift as u8, 32);
        self.u32_min = 0;
        self.u32_max = u32::MAX;
        self.mark_unbounded64();
        self.update_bounds32();
    }

    fn arsh64(&mut self, src: &ScalarValue) {
        let shift = src.umin;
        self.smin >>= shift;
        self.smax >>= shift;
        self.var_off = self.var_off.arshift(shift as u8, 64);
        self.umin = 0;
        self.umax = u64::MAX;
        self.mark_unbounded32();
        self.update_bounds();
    }
}

/// The smallest and largest of four products, unless one overflowed.
fn min_max<T: Ord + Copy>(products: [Option<T>; 4]) -> Option<(T, T)> {
    let mut out: Option<(T, T)> = None;
    for p in products {
        let p = p?;
        out = Some(out.map_or((p, p), |(lo, hi)| (lo.min(p), hi.max(p))));
    }
    out
}

/// Whether the kernel computes a range for `op` at all (`is_safe_to_compute_dst_reg_range`):
/// shifts need a constant amount below the width; division and modulo never get one.
fn safe_to_compute(op: BinOp, alu32: bool, src: &ScalarValue) -> bool {
    let (src_const, bits) = if alu32 {
        let c = src.var_off.subreg_is_const() && src.s32_min == src.s32_max && src.u32_min == src.u32_max;
        (c, 32)
    } else {
        let c = src.var_off.is_const() && src.smin == src.smax && src.umin == src.umax;
        (c, 64)
    };
    match op {
        BinOp::Add | BinOp::Sub | BinOp::And | BinOp::Xor | BinOp::Or | BinOp::Mul => true,
        BinOp::Lsh | BinOp::Rsh | BinOp::Arsh => src_const && src.umax < bits,
        _ => false,
    }
}
