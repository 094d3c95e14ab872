//! Reading `bpf_trace_printk` output from the kernel while a program is attached.
//!
//! Each [`TracePipe`] is a private tracefs instance (`instances/ebpf_lab_PID_N`) with only the
//! `bpf_trace/bpf_trace_printk` event enabled: it sees printk lines from the moment it opens,
//! none of the other trace events, and it does not steal lines from the global `trace_pipe`
//! that other tools (or other runs) read. The instance is removed on drop.

use super::attach::AttachError;
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
        let mut tp = TracePipe { dir, pipe: None, partial: String::new() };
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
            if let Some(l) = parse_line(line.trim_end()) {
                out.push(l);
            }
        }
        out
    }
}

impl Drop for TracePipe {
    fn drop(&mut self) {
        // The instance cannot be removed while its pipe is open.
        self.pipe.take();
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// Parses a trace line: `  comm-pid  [cpu] flags  secs.usecs: bpf_trace_printk: text`.
pub fn parse_line(line: &str) -> Option<PrintkLine> {
    const EVENT: &str = ": bpf_trace_printk: ";
    let at = line.find(EVENT)?;
    let task = line[..at].split_whitespace().next().unwrap_or("").to_string();
    Some(PrintkLine { task, message: line[at + EVENT.len()..].to_string() })
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
