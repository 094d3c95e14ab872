//! The stack of one frame as the verifier sees it: 8-byte slots, each byte invalid (never
//! written), misc (some number), zero, or part of a spilled register, whose whole state is kept
//! so that a spilled pointer comes back as a pointer (`struct bpf_stack_state`).
//!
//! Byte `k` of slot `spi` is the byte at `fp - (8 * spi + k + 1)`, as in the kernel.

use super::reg::{RegKind, RegState};

/// What one stack byte holds (`STACK_INVALID`, `STACK_MISC`, `STACK_ZERO`, `STACK_SPILL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SlotType {
    /// Never written.
    Invalid,
    /// Some number.
    Misc,
    /// Known zero.
    Zero,
    /// Part of a spilled register.
    Spill,
}

impl SlotType {
    /// The kernel log's letter (`?`, `m`, `0`, `r`).
    pub const fn letter(self) -> char {
        match self {
            SlotType::Invalid => '?',
            SlotType::Misc => 'm',
            SlotType::Zero => '0',
            SlotType::Spill => 'r',
        }
    }
}

/// One 8-byte slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StackSlot {
    /// Per byte, see the module docs for the order.
    pub types: [SlotType; 8],
    /// The spilled register, meaningful when byte 7 is `Spill`.
    pub spilled: RegState,
}

impl StackSlot {
    fn empty() -> StackSlot {
        StackSlot { types: [SlotType::Invalid; 8], spilled: RegState::not_init() }
    }

    /// True when a register spill covers the slot's top byte (`is_spilled_reg`).
    pub fn is_spill(&self) -> bool {
        self.types[7] == SlotType::Spill
    }

    /// How many bytes of the spill, counted from the top (`spill_size`).
    pub fn spill_size(&self) -> usize {
        self.types.iter().rev().take_while(|t| **t == SlotType::Spill).count()
    }
}

/// A frame's stack.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Stack {
    /// Slots from `fp-8` downwards.
    pub slots: Vec<StackSlot>,
}

/// Slot index and byte index of the byte at `fp + off` (`off` < 0).
pub fn slot_of(off: i32) -> (usize, usize) {
    let slot = (-off - 1) as usize;
    (slot / 8, slot % 8)
}

impl Stack {
    /// Bytes in use (`allocated_stack`).
    pub fn allocated(&self) -> usize {
        self.slots.len() * 8
    }

    /// Makes room for `size` bytes below the frame pointer.
    pub fn grow(&mut self, size: usize) {
        let n = size.div_ceil(8);
        if self.slots.len() < n {
            self.slots.resize(n, StackSlot::empty());
        }
    }

    /// The type of the byte at `fp + off`.
    pub fn byte(&self, off: i32) -> SlotType {
        let (spi, k) = slot_of(off);
        self.slots.get(spi).map_or(SlotType::Invalid, |s| s.types[k])
    }

    /// A store of `size` bytes at `fp + off` (aligned, in bounds) of register `value`, or of an
    /// immediate (`BPF_ST`: `imm`), or of a number from a helper (`None`, `None`)
    /// (`check_stack_write_fixed_off`).
    pub fn write(&mut self, off: i32, size: usize, value: Option<&RegState>, imm: Option<i64>) -> Result<(), String> {
        self.grow((-off) as usize);
        let (spi, k) = slot_of(off);
        let aligned = off % 8 == 0;
        let slot = &mut self.slots[spi];
        match (value, imm) {
            (Some(reg), _) if aligned && reg.kind == RegKind::Scalar => spill(slot, reg, size),
            (None, Some(imm)) if aligned => spill(slot, &RegState::known(imm as u64), size),
            (Some(reg), _) if reg.is_pointer() => {
                if size != 8 {
                    return Err("invalid size of register spill".into());
                }
                spill(slot, reg, size)
            }
            _ => {
                let zero = value.is_some_and(RegState::is_null) || imm == Some(0);
                if slot.is_spill() {
                    // A plain write into a spill turns the rest of it into plain numbers.
                    for t in slot.types.iter_mut() {
                        if *t != SlotType::Invalid {
                            *t = SlotType::Misc;
                        }
                    }
                }
                slot.spilled = RegState::not_init();
                let ty = if zero { SlotType::Zero } else { SlotType::Misc };
                for i in 0..size {
                    slot.types[(k + 8 - i) % 8] = ty;
                }
            }
        }
        Ok(())
    }

    /// Every byte of `[off, off + size)` becomes a number (a helper wrote it, or a variable-offset
    /// store may have).
    pub fn clobber(&mut self, off: i32, size: usize) {
        for i in 0..size as i32 {
            let (spi, k) = slot_of(off + i);
            if let Some(slot) = self.slots.get_mut(spi) {
                if slot.is_spill() {
                    slot.spilled = RegState::not_init();
                    for t in slot.types.iter_mut() {
                        if *t == SlotType::Spill {
                            *t = SlotType::Misc;
                        }
                    }
                }
                slot.types[k] = SlotType::Misc;
            }
        }
    }
}

/// `save_register_state`: the top `size` bytes are the spill, the rest become numbers.
fn spill(slot: &mut StackSlot, reg: &RegState, size: usize) {
    let mut reg = *reg;
    if size < 8 && reg.kind == RegKind::Scalar && reg.var.umax >> (8 * size) != 0 {
        // A narrowing spill keeps no link to the register.
        reg.id = 0;
    }
    slot.spilled = reg;
    for i in 0..8 {
        if i >= 8 - size {
            slot.types[i] = SlotType::Spill;
        } else if slot.types[i] != SlotType::Zero && slot.types[i] != SlotType::Invalid {
            // `mark_stack_slot_misc`: zero stays zero, and as root never-written stays so.
            slot.types[i] = SlotType::Misc;
        }
    }
}
