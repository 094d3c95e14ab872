//! Keeping the nine views in agreement (`reg_bounds_sync` and the kernel's helpers around it):
//! each view is narrowed by what the others prove, never widened.

use super::ScalarValue;
use crate::verifier::tnum::Tnum;

impl ScalarValue {
    /// Tightens every view from the others (`reg_bounds_sync`: `__update_reg_bounds`, three
    /// rounds of `__reg_deduce_bounds`, `__reg_bound_offset`, `__update_reg_bounds`). Never
    /// loses a member. Not always idempotent, exactly as the kernel's is not: a second call can
    /// narrow a little further.
    pub fn sync(&mut self) {
        self.update_bounds();
        self.deduce_bounds();
        self.deduce_bounds();
        self.deduce_bounds();
        self.bound_offset();
        self.update_bounds();
    }

    /// [`sync`](Self::sync), then the kernel's check after an ALU operation
    /// (`reg_bounds_sanity_check`): views that contradict each other are forgotten, the known
    /// bits kept.
    pub(super) fn sync_checked(&mut self) {
        self.sync();
        if self.violates_invariants() {
            self.mark_unbounded();
        }
    }

    /// Bounds from the known bits (`__update_reg_bounds`).
    pub(super) fn update_bounds(&mut self) {
        self.update_bounds32();
        self.update_bounds64();
    }

    /// `__update_reg32_bounds`.
    pub(super) fn update_bounds32(&mut self) {
        let t = self.var_off.subreg();
        let (v, m) = (t.value as u32, t.mask as u32);
        // The smallest signed member has the sign bit set if it may be; the largest has it
        // clear.
        self.s32_min = self.s32_min.max((v | (m & 0x8000_0000)) as i32);
        self.s32_max = self.s32_max.min((v | (m & 0x7fff_ffff)) as i32);
        self.u32_min = self.u32_min.max(v);
        self.u32_max = self.u32_max.min(v | m);
    }

    /// `__update_reg64_bounds`, with the kernel's check for a range and a tnum that share a
    /// single value (then the value is that constant).
    fn update_bounds64(&mut self) {
        let (v, m) = (self.var_off.value, self.var_off.mask);
        self.smin = self.smin.max((v | (m & (1 << 63))) as i64);
        self.smax = self.smax.min((v | (m & !(1 << 63))) as i64);
        self.umin = self.umin.max(v);
        self.umax = self.umax.min(v | m);

        let next = self.var_off.step(self.umin);
        let umin_in_tnum = self.var_off.contains_value(self.umin);
        let tmax = v | m;
        if umin_in_tnum && next > self.umax {
            self.mark_known(self.umin);
        } else if !umin_in_tnum && next == tmax {
            self.mark_known(tmax);
        } else if !umin_in_tnum && next <= self.umax && self.var_off.step(next) > self.umax {
            self.mark_known(next);
        }
    }

    /// Every view is `v` (`___mark_reg_known`).
    pub(super) fn mark_known(&mut self, v: u64) {
        *self = ScalarValue::constant(v);
    }

    /// The low 32 bits are `v`; the high half of the tnum is kept (`__mark_reg32_known`).
    pub(super) fn mark_known32(&mut self, v: u32) {
        self.var_off = self.var_off.const_subreg(v);
        self.s32_min = v as i32;
        self.s32_max = v as i32;
        self.u32_min = v;
        self.u32_max = v;
    }

    /// 64-bit ranges forgotten (`__mark_reg64_unbounded`).
    pub(super) fn mark_unbounded64(&mut self) {
        self.smin = i64::MIN;
        self.smax = i64::MAX;
        self.umin = 0;
        self.umax = u64::MAX;
    }

    /// 32-bit ranges forgotten (`__mark_reg32_unbounded`).
    pub(super) fn mark_unbounded32(&mut self) {
        self.s32_min = i32::MIN;
        self.s32_max = i32::MAX;
        self.u32_min = 0;
        self.u32_max = u32::MAX;
    }

    /// Every range forgotten, the tnum kept (`__mark_reg_unbounded`).
    pub(super) fn mark_unbounded(&mut self) {
        self.mark_unbounded64();
        self.mark_unbounded32();
    }

    /// `__reg_deduce_bounds`.
    fn deduce_bounds(&mut self) {
        self.deduce_bounds32();
        self.deduce_bounds64();
        self.deduce_mixed_bounds();
    }

    /// 32-bit ranges from the 64-bit ones and from each other (`__reg32_deduce_bounds`).
    fn deduce_bounds32(&mut self) {
        // When the upper halves agree across a 64-bit range, its low halves form a range too.
        if self.umin >> 32 == self.umax >> 32 {
            self.u32_min = self.u32_min.max(self.umin as u32);
            self.u32_max = self.u32_max.min(self.umax as u32);
            if (self.umin as i32) <= (self.umax as i32) {
                self.s32_min = self.s32_min.max(self.umin as i32);
                self.s32_max = self.s32_max.min(self.umax as i32);
            }
        }
        if self.smin >> 32 == self.smax >> 32 {
            if (self.smin as u32) <= (self.smax as u32) {
                self.u32_min = self.u32_min.max(self.smin as u32);
                self.u32_max = self.u32_max.min(self.smax as u32);
            }
            if (self.smin as i32) <= (self.smax as i32) {
                self.s32_min = self.s32_min.max(self.smin as i32);
                self.s32_max = self.s32_max.min(self.smax as i32);
            }
        }
        // Upper halves that are two consecutive numbers, low halves going from negative to
        // positive: still one s32 range.
        if ((self.umin >> 32) as u32).wrapping_add(1) == (self.umax >> 32) as u32
            && (self.umin as i32) < 0
            && (self.umax as i32) >= 0
        {
            self.s32_min = self.s32_min.max(self.umin as i32);
            self.s32_max = self.s32_max.min(self.umax as i32);
        }
        if ((self.smin >> 32) as u32).wrapping_add(1) == (self.smax >> 32) as u32
            && (self.smin as i32) < 0
            && (self.smax as i32) >= 0
        {
            self.s32_min = self.s32_min.max(self.smin as i32);
            self.s32_max = self.s32_max.min(self.smax as i32);
        }
        // A u32 range that does not cross the sign bit is an s32 range.
        if (self.u32_min as i32) <= (self.u32_max as i32) {
            self.s32_min = self.s32_min.max(self.u32_min as i32);
            self.s32_max = self.s32_max.min(self.u32_max as i32);
        }
        if (self.s32_min as u32) <= (self.s32_max as u32) {
            // An s32 range on one side of the sign boundary is a u32 range.
            self.u32_min = self.u32_min.max(self.s32_min as u32);
            self.u32_max = self.u32_max.min(self.s32_max as u32);
        } else if self.u32_max < self.s32_min as u32 {
            // The s32 range wraps; the u32 range meets only its non-negative part.
            self.s32_min = self.u32_min as i32;
            self.u32_max = self.u32_max.min(self.s32_max as u32);
        } else if (self.s32_max as u32) < self.u32_min {
            // ... or only its negative part.
            self.s32_max = self.u32_max as i32;
            self.u32_min = self.u32_min.max(self.s32_min as u32);
        }
    }

    /// The 64-bit ranges from each other (`__reg64_deduce_bounds`).
    fn deduce_bounds64(&mut self) {
        if (self.umin as i64) <= (self.umax as i64) {
            self.smin = self.smin.max(self.umin as i64);
            self.smax = self.smax.min(self.umax as i64);
        }
        if (self.smin as u64) <= (self.smax as u64) {
            self.umin = self.umin.max(self.smin as u64);
            self.umax = self.umax.min(self.smax as u64);
        } else if self.umax < self.smin as u64 {
            self.smin = self.umin as i64;
            self.umax = self.umax.min(self.smax as u64);
        } else if (self.smax as u64) < self.umin {
            self.smax = self.umax as i64;
            self.umin = self.umin.max(self.smin as u64);
        }
    }

    /// 64-bit ranges from the 32-bit ones (`__reg_deduce_mixed_bounds`).
    fn deduce_mixed_bounds(&mut self) {
        const HIGH: u64 = !0xffff_ffff;
        let new_umin = (self.umin & HIGH) | self.u32_min as u64;
        let new_umax = (self.umax & HIGH) | self.u32_max as u64;
        self.umin = self.umin.max(new_umin);
        self.umax = self.umax.min(new_umax);
        let new_smin = ((self.smin as u64 & HIGH) | self.u32_min as u64) as i64;
        let new_smax = ((self.smax as u64 & HIGH) | self.u32_max as u64) as i64;
        self.smin = self.smin.max(new_smin);
        self.smax = self.smax.min(new_smax);

        // After a sign-extending load of a non-negative value the 64-bit range is the s32 one.
        if self.s32_min >= 0 && self.smin >= i32::MIN as i64 && self.smax <= i32::MAX as i64 {
            self.smin = self.s32_min as i64;
            self.smax = self.s32_max as i64;
            self.umin = self.s32_min as u64;
            self.umax = self.s32_max as u64;
            self.var_off = self.var_off.intersect(Tnum::range(self.smin as u64, self.smax as u64));
        }
    }

    /// Known bits from the ranges (`__reg_bound_offset`).
    fn bound_offset(&mut self) {
        let var64 = self.var_off.intersect(Tnum::range(self.umin, self.umax));
        let var32 = var64.subreg().intersect(Tnum::range(self.u32_min as u64, self.u32_max as u64));
        self.var_off = var64.clear_subreg().or(var32);
    }

    /// The low half becomes the whole value (`zext_32_to_64`).
    pub(super) fn zext_32_to_64(&mut self) {
        self.var_off = self.var_off.subreg();
        self.umin = self.u32_min as u64;
        self.umax = self.u32_max as u64;
        if self.s32_min >= 0 && self.s32_max >= 0 {
            self.smin = self.s32_min as i64;
            self.smax = self.s32_max as i64;
        } else {
            self.smin = 0;
            self.smax = u32::MAX as i64;
        }
    }

    /// True when the views contradict each other (`reg_bounds_sanity_check`).
    pub(super) fn violates_invariants(&self) -> bool {
        if self.umin > self.umax || self.smin > self.smax || self.u32_min > self.u32_max || self.s32_min > self.s32_max
        {
            return true;
        }
        if let Some(v) = self.const_value() {
            if self.umin != v || self.umax != v || self.smin != v as i64 || self.smax != v as i64 {
                return true;
            }
        }
        if let Some(v) = self.const_value32() {
            if self.u32_min != v || self.u32_max != v || self.s32_min != v as i32 || self.s32_max != v as i32 {
                return true;
            }
        }
        false
    }
}
