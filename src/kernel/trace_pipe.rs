//! Reading `bpf_trace_printk` output from the kernel while a program is attached.
//!
//! Each [`TracePipe`] is a private tracefs instance (`instances/ebpf_lab_PID_N`) with only the
//! `bpf_trace/bpf_trace_printk` event enabled: it sees printk lines from the moment it opens,
//! none of the other trace events, and it does not steal lines from the global `trace_pipe`
//! that other tools (or other runs) read. The instance is removed on drop.
//!
//! The trace event does not say which program printed, so [`mark_program`] makes the program
//! say it: every `call bpf_trace_printk` becomes a call to an appended subprogram that prints
//! the original line, then a per-run marker line. A program runs on one CPU without migrating,
//! so the line just before a marker on the same CPU is this program's; the pipe keeps only
//! those.

use super::attach::AttachError;
use crate::isa::{self, BinOp, CallTarget, ImmSrc, Insn, Operand, Reg, Size, Width};
use crate::program::Program;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// The tracefs mount point, mounting tracefs at `/sys/kernel/tracing` if it is nowhere.
pub fn tracefs() -> Result<PathBuf, AttachError> {
    for p in ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"] {
        if Path::new(p).join("trace_pipe").exists() {
            return Ok(PathBuf::from(p));
        }
    }
    let target = c"/sys/kernel/tracing";
    // SAFETY: constant NUL-terminated strings; no mount data.
    let r = unsafe { libc::mount(c"tracefs".as_ptr(), target.as_ptr(), c"tracefs".as_ptr(), 0, std::ptr::null()) };
    if r != 0 {
        return Err(AttachError::from_message(format!(
            "tracefs is not mounted and mounting it failed ({}); run `mount -t tracefs nodev /sys/kernel/tracing`",
            std::io::Error::last_os_error()
        )));
    }
    Ok(PathBuf::from("/sys/kernel/tracing"))
}

/// One `bpf_trace_printk` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrintkLine {
    /// The task that ran the program, as `comm-pid`.
    pub task: String,
    /// The printed text.
    pub message: String,
}

/// A private trace buffer receiving `bpf_trace_printk` lines.
#[derive(Debug)]
pub struct TracePipe {
    dir: PathBuf,
    pipe: Option<std::fs::File>,
    partial: String,
    /// Keep only lines announced by this marker (see [`mark_program`]).
    marker: Option<String>,
    /// The last unclaimed line of each CPU, waiting for a marker.
    pending: Vec<(String, PrintkLine)>,
}

/// The text of this run's marker lines: unique per process and per call.
pub fn new_marker() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!("ebpf_lab {:05}.{:02}", std::process::id() % 100_000, N.fetch_add(1, Ordering::Relaxed) % 100)
}

/// `program` with each `call bpf_trace_printk` printing `marker` first (see the module docs)
/// (unchanged when it prints nothing), or `None` when it cannot host a subprogram (legacy packet
/// loads may not mix with bpf-to-bpf calls). `marker` must be at most 22 bytes.
pub fn mark_program(program: &Program, marker: &str) -> Option<Program> {
    let printk = crate::runtime::helpers::helper_by_name("trace_printk")?.id as i32;
    let is_printk = |i: &Insn| matches!(i, Insn::Call(CallTarget::Helper(id)) if *id == printk);
    if !program.insns.iter().any(is_printk) {
        return Some(program.clone());
    }
    if marker.len() > 22 || program.insns.iter().any(|i| matches!(i, Insn::LegacyLoad { .. })) {
        return None;
    }
    let pcs = isa::slot_pcs(&program.insns);
    let sub = *pcs.last()? as i32;
    let mut out = program.clone();
    for (i, insn) in out.insns.iter_mut().enumerate() {
        if is_printk(insn) {
            *insn = Insn::Call(CallTarget::Local(sub - pcs[i] as i32 - 1));
        }
    }
    let r = |n| Reg::new(n).expect("register");
    let mov = |d: u8, s: u8| Insn::Bin { width: Width::W64, op: BinOp::Mov, dst: r(d), src: Operand::Reg(r(s)) };
    // The marker, NUL-terminated, on the subprogram's own stack at r10 - 24.
    let mut text = [0u8; 24];
    let line = format!("{marker}\n");
    text[..line.len()].copy_from_slice(line.as_bytes());
    let call = Insn::Call(CallTarget::Helper(printk));
    // The program's own line first, with its registers untouched (printk reads only the
    // arguments its format uses, which may leave r3-r5 unset), then the marker.
    let mut body = vec![call, mov(6, 0)];
    for (k, chunk) in text.chunks(8).enumerate() {
        let v = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        body.push(Insn::LoadImm64 { dst: Reg::R1, src: ImmSrc::Imm, imm: v as u32 as i32, next_imm: (v >> 32) as i32 });
        body.push(Insn::Store { size: Size::DW, dst: Reg::R10, off: -24 + 8 * k as i16, src: Operand::Reg(Reg::R1) });
    }
    body.push(mov(1, 10));
    body.push(Insn::Bin { width: Width::W64, op: BinOp::Add, dst: Reg::R1, src: Operand::Imm(-24) });
    body.push(Insn::Bin { width: Width::W64, op: BinOp::Mov, dst: r(2), src: Operand::Imm(line.len() as i32 + 1) });
    body.push(call);
    body.push(mov(0, 6));
    body.push(Insn::Exit);
    out.insns.extend(body);
    // The subprogram has no source lines; keep the spans parallel to the instructions.
    if !out.spans.is_empty() {
        let last = out.spans.last().cloned().unwrap_or(0..0);
        out.spans.resize(out.insns.len(), last);
    }
    Some(out)
}

impl TracePipe {
    /// Creates the instance and starts collecting.
    pub fn open() -> Result<TracePipe, AttachError> {
        static N: AtomicU32 = AtomicU32::new(0);
        let root = tracefs()?;
        let dir = root.join("instances").join(format!(
            "ebpf_lab_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir(&dir)
            .map_err(|e| AttachError::from_message(format!("cannot create trace instance {}: {e}", dir.display())))?;
        let mut tp = TracePipe { dir, pipe: None, partial: String::new(), marker: None, pending: Vec::new() };
        let enable = tp.dir.join("events/bpf_trace/bpf_trace_printk/enable");
        std::fs::write(&enable, "1")
            .map_err(|e| AttachError::from_message(format!("cannot enable {}: {e}", enable.display())))?;
        let pipe = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(tp.dir.join("trace_pipe"))
            .map_err(|e| AttachError::from_message(format!("cannot open the trace pipe: {e}")))?;
        tp.pipe = Some(pipe);
        Ok(tp)
    }

    /// The tracefs instance directory (removed on drop).
    pub fn instance(&self) -> &Path {
        &self.dir
    }

    /// Keeps only the lines announced by `marker` from now on.
    pub fn only_marked(&mut self, marker: &str) {
        self.marker = Some(marker.to_string());
    }

    /// The lines printed since the last call (complete lines only).
    pub fn read_lines(&mut self) -> Vec<PrintkLine> {
        let Some(pipe) = self.pipe.as_mut() else { return Vec::new() };
        let mut buf = [0u8; 8192];
        loop {
            match pipe.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => self.partial.push_str(&String::from_utf8_lossy(&buf[..n])),
            }
        }
        let mut out = Vec::new();
        while let Some(end) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=end).collect();
            let Some((cpu, l)) = parse_cpu_line(line.trim_end()) else { continue };
            match &self.marker {
                None => out.push(l),
                Some(m) if l.message.trim_end() == m => {
                    if let Some(at) = self.pending.iter().position(|(c, _)| *c == cpu) {
                        out.push(self.pending.swap_remove(at).1);
                    }
                }
                Some(_) => match self.pending.iter_mut().find(|(c, _)| *c == cpu) {
                    Some(slot) => slot.1 = l,
                    None => self.pending.push((cpu, l)),
                },
            }
        }
        out
    }
}

impl Drop for TracePipe {
    fn drop(&mut self) {
        // The instance cannot be removed while its pipe is open; the event is turned off first, and
        // the kernel may still answer EBUSY for a moment after the close (seen in CI), so retry.
        self.pipe.take();
        let _ = std::fs::write(self.dir.join("events/bpf_trace/bpf_trace_printk/enable"), "0");
        for _ in 0..100 {
            match std::fs::remove_dir(&self.dir) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    std::thread::sleep(std::time::Duration::from_millis(10))
                }
                _ => break,
            }
        }
    }
}

/// Parses a trace line: `  comm-pid  [cpu] flags  secs.usecs: bpf_trace_printk: text`.
pub fn parse_line(line: &str) -> Option<PrintkLine> {
    parse_cpu_line(line).map(|(_, l)| l)
}

/// [`parse_line`], with the `[cpu]` field.
fn parse_cpu_line(line: &str) -> Option<(String, PrintkLine)> {
    const EVENT: &str = ": bpf_trace_printk: ";
    let at = line.find(EVENT)?;
    let mut head = line[..at].split_whitespace();
    let task = head.next().unwrap_or("").to_string();
    let cpu = head.find(|w| w.starts_with('[')).unwrap_or("").to_string();
    Some((cpu, PrintkLine { task, message: line[at + EVENT.len()..].to_string() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_lines_parse() {
        let l = parse_line("            true-4242    [001] ...21  1234.567890: bpf_trace_printk: hello 7").unwrap();
        assert_eq!(l.task, "true-4242");
        assert_eq!(l.message, "hello 7");
        assert!(parse_line("# tracer: nop").is_none());
    }
}
