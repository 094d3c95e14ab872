//! The verifier's decisions in a student's words: what a register holds, and the usual fix for
//! each kind of rejection.

use super::reg::{KernelReg, MapInfo, RegKind, RegState};
use super::RegNote;
use crate::program::ProgType;

/// A register's state in words: "scalar in [0, 255]", "map value or NULL — not yet checked".
pub fn describe(reg: &RegState, maps: &[MapInfo], prog_type: ProgType) -> String {
    let map_name = |m: u32| maps.get(m as usize).map_or("?".to_string(), |m| m.name.clone());
    let off = |r: &RegState| {
        let mut s = format!("offset {}", r.off);
        if r.var.const_value() != Some(0) {
            s.push_str(&format!(" + a variable part ({})", r.var.describe()));
        }
        s
    };
    match reg.kind {
        RegKind::NotInit => "not initialised on this path".into(),
        RegKind::Scalar => reg.var.describe(),
        RegKind::Ctx => {
            let name = crate::runtime::ctx::ctx_layout(prog_type).map_or("the context buffer", |l| l.struct_name);
            format!("pointer to the context ({name}), {}", off(reg))
        }
        RegKind::Stack => format!("stack pointer fp{}", reg.off),
        RegKind::MapPtr => format!("map {} (a map reference, not a pointer to its values)", map_name(reg.map)),
        RegKind::MapValue => {
            let vs = maps.get(reg.map as usize).map_or(0, |m| m.value_size);
            let base = format!("pointer into a value of map {} ({vs} bytes), {}", map_name(reg.map), off(reg));
            if reg.maybe_null {
                format!("map value or NULL — not yet checked ({base})")
            } else {
                base
            }
        }
        RegKind::Packet | RegKind::PacketMeta => {
            let what = if reg.kind == RegKind::Packet { "packet" } else { "packet metadata" };
            format!("{what} pointer, {}; {} bytes proven readable from it", off(reg), reg.range.max(0))
        }
        RegKind::PacketEnd => "data_end: one past the packet's last byte (not readable)".into(),
        RegKind::RingbufMem => {
            let base = format!("ring buffer record of {} bytes, {}", reg.mem_size, off(reg));
            if reg.maybe_null {
                format!("ring buffer record or NULL — not yet checked ({base})")
            } else {
                base
            }
        }
        RegKind::SockCommon => {
            if reg.maybe_null {
                "socket or NULL — not yet checked".into()
            } else {
                "socket".into()
            }
        }
        RegKind::Func => "pointer to a callback function".into(),
        RegKind::MapKey => format!("the key of an element of map {} (read-only)", map_name(reg.map)),
    }
}

/// Notes for the registers a rejection is about.
pub fn notes(regs: &[u8], st: &super::state::VState, maps: &[MapInfo], prog_type: ProgType) -> Vec<RegNote> {
    let mut seen = Vec::new();
    regs.iter()
        .filter(|r| {
            let new = !seen.contains(*r);
            seen.push(**r);
            new && (**r as usize) < crate::isa::Reg::COUNT
        })
        .map(|&r| {
            let reg = &st.cur().regs[r as usize];
            RegNote { reg: r, words: describe(reg, maps, prog_type), kernel: KernelReg { reg, maps }.to_string() }
        })
        .collect()
}

/// The usual fix for a rejection, from its message.
pub fn hint(message: &str) -> Option<String> {
    let h = |s: &str| Some(s.to_string());
    if message.contains("!read_ok") {
        if message.starts_with("R0") {
            return h("set r0 before `exit` (and after calls: a call's result is in r0, r1-r5 are clobbered)");
        }
        return h("write the register before reading it; after a call r1-r5 hold nothing (save values in r6-r9)");
    }
    if message.starts_with("At callback return") || message == "R0 not a scalar value" {
        return h("a callback returns 0 to go on or 1 to stop: set r0 to one of them before its exit");
    }
    if message == "callback function not static" {
        return h("declare the callback `static`: the kernel calls back only functions of this object");
    }
    if message.contains("write to change key") {
        return h("the key a callback gets is read-only: copy it to the stack to work on it");
    }
    if message.contains("callback function not allowed for map") {
        return h("bpf_for_each_map_elem visits arrays and hashes (per-CPU and LRU ones too), not this map type");
    }
    if message.contains("invalid mem access 'scalar'") {
        return h("this register holds a number here, not a pointer: the NULL side of a NULL check, or a pointer a call clobbered");
    }
    if message.contains("_or_null") {
        return h("check the pointer against NULL first: `if r0 == 0 goto out`, then use it on the other path");
    }
    if message.contains("invalid access to packet") || message.contains("outside of the packet") {
        return h("prove the bytes exist first: `r2 = r1; r2 += N; if r2 > rEND goto out` with rEND = data_end");
    }
    if message.contains("invalid access to map value") || message.contains("invalid access to memory") {
        return h("keep offset + size within the value: check a variable index against the size first");
    }
    if message.contains("min value is negative") {
        return h("make the index non-negative for sure: `if rX s< 0 goto out`, or mask it with `rX &= MASK`");
    }
    if message.contains("unbounded") {
        return h("bound the value first: `rX &= MASK` or `if rX > N goto out`");
    }
    if message.contains("stack R") || message.contains("misaligned stack") {
        return h("the stack is fp-512 .. fp-1, accessed at offsets that are multiples of the access size");
    }
    if message.contains("infinite loop") {
        return h("make the loop variable change on every iteration, and give the loop an exit the verifier can see");
    }
    if message.contains("too large") || message.contains("too complex") {
        return h("bound loops with a smaller constant, or cut the number of branch combinations");
    }
    if message.contains("unreachable insn") {
        return h("delete the dead instructions, or jump to them");
    }
    if message.contains("bpf_context access") || message.contains("modified ctx") {
        return h("read context fields at their exact offset and size, through the unmodified r1 (copy it to r6)");
    }
    if message.contains("cannot use helper") {
        return h("that helper is not available to this program type; pick another or change `.prog`");
    }
    if message.contains("invalid shift") {
        return h("shift by less than the register width (64, or 32 for w registers)");
    }
    if message.contains("div by zero") {
        return h("divide by a register you have checked, not by the constant 0");
    }
    if message.contains("Unreleased reference") {
        return h("submit or discard the ring buffer record on every path to exit");
    }
    if message.contains("type=") && message.contains("expected=") {
        return h(
            "pass the helper the kind of pointer its prototype asks for (e.g. a stack pointer `r2 = r10; r2 += -8`)",
        );
    }
    if message.contains("pointer arithmetic") || message.contains("pointer prohibited") {
        return h("only add or subtract scalars to pointers, and only 64-bit");
    }
    if message.contains("frame pointer is read only") {
        return h("copy r10 to another register and change that one");
    }
    if message.contains("jump out of range") || message.contains("last insn") || message.contains("ldimm64") {
        return h(
            "every jump must land on an instruction of the same function, and each function must end in exit or goto",
        );
    }
    None
}
