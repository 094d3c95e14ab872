//! Comparing what an engine produced with what a [`Check`] expects, in words a student reads:
//! each mismatch is one line with the expected and the observed value.

use super::exercise::Check;
use crate::engine::{EngineRun, MapEntries};
use crate::program::{MapType, Program};

/// An expected map entry with its key and value encoded at the map's sizes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedEntry {
    /// Map name.
    pub map: String,
    /// Key bytes.
    pub key: Vec<u8>,
    /// Value bytes; `None` when the key must be absent.
    pub value: Option<Vec<u8>>,
}

/// What one engine showed after the check's runs.
pub struct Observed<'a> {
    /// The last run.
    pub run: &'a EngineRun,
    /// Every map's entries after the runs, in the program's map order.
    pub maps: &'a [MapEntries],
    /// Whether the engine reports `bpf_trace_printk` lines (the kernel's go to the trace pipe).
    pub sees_printk: bool,
}

/// Shows bytes as the integer they hold (little endian) when they fit in 8 bytes, else as text
/// when they are a NUL-padded name, else as hex.
pub fn show_value(bytes: &[u8]) -> String {
    if bytes.len() <= 8 && !bytes.is_empty() {
        let mut b = [0u8; 8];
        b[..bytes.len()].copy_from_slice(bytes);
        return u64::from_le_bytes(b).to_string();
    }
    let text = bytes.split(|b| *b == 0).next().unwrap_or(&[]);
    if !text.is_empty() && text.iter().all(|c| c.is_ascii_graphic()) && bytes[text.len()..].iter().all(|b| *b == 0) {
        return format!("\"{}\"", String::from_utf8_lossy(text));
    }
    hex(bytes)
}

/// Every way `observed` differs from `check` (empty when the check passes on this engine).
pub fn mismatches(program: &Program, check: &Check, entries: &[ExpectedEntry], observed: &Observed) -> Vec<String> {
    let mut out = Vec::new();
    let run = observed.run;
    if let Some(want) = check.r0 {
        let mask = if run.r0_bits >= 64 { u64::MAX } else { (1u64 << run.r0_bits) - 1 };
        if want & mask != run.outcome.r0 & mask {
            out.push(if check.reveal {
                format!("r0: expected {}, got {}", signed(want & mask), signed(run.outcome.r0 & mask))
            } else {
                format!("r0: {} is not the answer", signed(run.outcome.r0 & mask))
            });
        }
    }
    for e in entries {
        let Some(i) = program.maps.iter().position(|m| m.name == e.map) else {
            out.push(format!("map {}: the program declares no such map", e.map));
            continue;
        };
        let got = observed.maps.get(i).and_then(|m| m.iter().find(|(k, _)| *k == e.key)).map(|(_, v)| v);
        // An array's slots always exist; a zero value there is the "absent" of a hash map.
        let got = got.filter(|v| !(program.maps[i].map_type == MapType::Array && e.value.is_none() && is_zero(v)));
        if got != e.value.as_ref() {
            out.push(format!(
                "map {}[{}]: expected {}, got {}",
                e.map,
                show_value(&e.key),
                e.value.as_deref().map_or("no entry".into(), show_value),
                got.map_or("no entry".into(), |v| show_value(v))
            ));
        }
    }
    for (name, want) in &check.count {
        let Some(i) = program.maps.iter().position(|m| &m.name == name) else {
            out.push(format!("map {name}: the program declares no such map"));
            continue;
        };
        let got = observed.maps.get(i).map_or(0, |m| m.iter().filter(|(_, v)| !is_zero(v)).count());
        if got != *want {
            out.push(format!("map {name}: expected {want} non-zero entries, got {got}"));
        }
    }
    if let Some(want) = &check.packet_out {
        match &run.outcome.packet_out {
            Some(got) if got == want => {}
            Some(got) if got.len() != want.len() => {
                out.push(format!("packet: expected {} bytes, got {}", want.len(), got.len()))
            }
            Some(got) => {
                // Show the first difference and a few bytes after it, not two walls of hex.
                let at = got.iter().zip(want).position(|(g, w)| g != w).unwrap_or(0);
                let end = (at + 8).min(want.len());
                let more = if end < want.len() { "…" } else { "" };
                out.push(format!(
                    "packet: from byte {at}, expected {}{more}, got {}{more}",
                    hex(&want[at..end]),
                    hex(&got[at..end])
                ))
            }
            None => out.push("packet: expected one, the engine reports none".into()),
        }
    }
    if let (Some(want), true) = (&check.printk, observed.sees_printk) {
        let got: Vec<&str> = run.outcome.trace_lines().iter().map(|l| l.trim_end_matches('\n')).collect();
        if got != want.iter().map(String::as_str).collect::<Vec<_>>() {
            out.push(format!("printk: expected {want:?}, got {got:?}"));
        }
    }
    out
}

fn is_zero(v: &[u8]) -> bool {
    v.iter().all(|b| *b == 0)
}

/// An r0 as a student may have written it: in decimal (signed when negative), and in hex too
/// when that is not the same digits.
fn signed(v: u64) -> String {
    match v as i64 {
        n if (0..10).contains(&n) => format!("{n}"),
        n if n < 0 && n > -65536 => format!("{n} ({v:#x})"),
        n if n >= 0 => format!("{n} ({v:#x})"),
        _ => format!("{v:#x}"),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
