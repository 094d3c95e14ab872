//! Helper calls (`call imm`, `callx reg`). bpf-to-bpf calls are handled in the run loop, since
//! they only move the pc and the frame.

use super::error::ErrorKind;
use super::{State, Vm};

/// Calls helper `id` with `r1`–`r5` from `st.regs`; returns the new `r0`.
pub(crate) fn helper(vm: &mut Vm, st: &mut State, id: i64) -> Result<u64, ErrorKind> {
    let a = [st.regs[1], st.regs[2], st.regs[3], st.regs[4], st.regs[5]];
    match id {
        // bpf_ktime_get_ns: a deterministic clock that advances 1 µs per call.
        5 => {
            vm.clock += 1000;
            Ok(vm.clock)
        }
        // bpf_trace_printk(fmt, fmt_size, ...)
        6 => {
            let fmt = vm.mem.read_bytes(a[0], a[1] as usize).map_err(|f| ErrorKind::HelperFault {
                id,
                name: "bpf_trace_printk".into(),
                message: f.0.to_string(),
            })?;
            let fmt = String::from_utf8_lossy(fmt.split(|b| *b == 0).next().unwrap_or(&[])).into_owned();
            st.trace_lines.push(fmt.clone());
            Ok(fmt.len() as u64)
        }
        // bpf_get_prandom_u32: xorshift seeded by RunOptions::seed.
        7 => {
            let mut x = vm.rng.max(1);
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            vm.rng = x;
            Ok(x as u32 as u64)
        }
        // bpf_get_smp_processor_id
        8 => Ok(vm.options.cpu as u64),
        _ => Err(ErrorKind::UnknownHelper { id }),
    }
}
