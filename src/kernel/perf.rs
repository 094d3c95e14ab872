//! Perf events behind a `PERF_EVENT_ARRAY`: what a perf buffer reader sets up before a program
//! runs, so `bpf_perf_event_output` in the kernel succeeds as it does in ebpf-lab's engines (which
//! act as if every CPU had a reader). One `PERF_COUNT_SW_BPF_OUTPUT` event per CPU slot, each with
//! a small mmapped ring (without a ring the kernel answers `-ENOSPC`). The records are not read
//! back: `check` does not compare perf output with the kernel.

use super::error::{Command, KernelError};
use super::sys::{self, MapFd};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// `PERF_TYPE_SOFTWARE`.
const PERF_TYPE_SOFTWARE: u32 = 1;
/// `PERF_COUNT_SW_BPF_OUTPUT`.
const PERF_COUNT_SW_BPF_OUTPUT: u64 = 10;
/// `PERF_SAMPLE_RAW`.
const PERF_SAMPLE_RAW: u64 = 1 << 10;
/// `PERF_FLAG_FD_CLOEXEC`.
const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 8;
/// Ring pages per event (a power of two), after the control page.
const RING_PAGES: usize = 2;

/// `struct perf_event_attr` up to `sample_max_stack` (`PERF_ATTR_SIZE_VER5`, 112 bytes): the
/// fields used here, the rest zero.
#[repr(C)]
struct PerfEventAttr {
    type_: u32,
    size: u32,
    config: u64,
    sample_period: u64,
    sample_type: u64,
    read_format: u64,
    flags: u64,
    wakeup_events: u32,
    bp_type: u32,
    bp_addr: u64,
    bp_len: u64,
    branch_sample_type: u64,
    sample_regs_user: u64,
    sample_stack_user: u32,
    clockid: i32,
    sample_regs_intr: u64,
    aux_watermark: u32,
    sample_max_stack: u16,
    _reserved: u16,
}

/// One CPU's event and its mapped ring, unmapped and closed on drop.
#[derive(Debug)]
struct Event {
    fd: OwnedFd,
    ring: *mut libc::c_void,
    len: usize,
}

impl Drop for Event {
    fn drop(&mut self) {
        // SAFETY: `ring` is the mapping of `len` bytes made in `open_event`, unmapped only here.
        unsafe {
            libc::munmap(self.ring, self.len);
        }
    }
}

/// The events of one perf event array, kept open while the program may run.
#[derive(Debug, Default)]
pub struct PerfEvents {
    _events: Vec<Event>,
}

fn page_size() -> usize {
    // SAFETY: sysconf has no memory-safety preconditions.
    usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096)
}

fn open_event(cpu: usize) -> Result<Event, KernelError> {
    let fail = |what: &str, e: std::io::Error| {
        KernelError::invalid_input(Command::MapUpdateElem, format!("perf event for CPU {cpu}: {what}: {e}"))
    };
    let attr = PerfEventAttr {
        type_: PERF_TYPE_SOFTWARE,
        size: std::mem::size_of::<PerfEventAttr>() as u32,
        config: PERF_COUNT_SW_BPF_OUTPUT,
        sample_period: 1,
        sample_type: PERF_SAMPLE_RAW,
        read_format: 0,
        flags: 0,
        wakeup_events: 1,
        bp_type: 0,
        bp_addr: 0,
        bp_len: 0,
        branch_sample_type: 0,
        sample_regs_user: 0,
        sample_stack_user: 0,
        clockid: 0,
        sample_regs_intr: 0,
        aux_watermark: 0,
        sample_max_stack: 0,
        _reserved: 0,
    };
    // SAFETY: `attr` is a valid perf_event_attr of the size it declares, read by the call only.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            &attr as *const PerfEventAttr,
            -1,
            cpu as libc::c_int,
            -1,
            PERF_FLAG_FD_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(fail("perf_event_open", std::io::Error::last_os_error()));
    }
    // SAFETY: the syscall returned a new descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    let len = page_size() * (1 + RING_PAGES);
    // SAFETY: a fresh shared mapping of the event's ring; checked for failure below.
    let ring = unsafe {
        libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED, fd.as_raw_fd(), 0)
    };
    if ring == libc::MAP_FAILED {
        return Err(fail("mmap", std::io::Error::last_os_error()));
    }
    Ok(Event { fd, ring, len })
}

impl PerfEvents {
    /// Opens an event on each CPU that has a slot in `map` and stores it there.
    pub fn attach(map: &MapFd) -> Result<PerfEvents, KernelError> {
        let mut events = Vec::new();
        for cpu in 0..(map.max_entries() as usize).min(sys::possible_cpus()) {
            // A possible CPU that is offline takes no event: its slot stays empty.
            let e = match open_event(cpu) {
                Ok(e) => e,
                Err(_) if cpu > 0 => continue,
                Err(e) => return Err(e),
            };
            sys::map_update(map, &(cpu as u32).to_ne_bytes(), &e.fd.as_raw_fd().to_ne_bytes(), 0)?;
            events.push(e);
        }
        Ok(PerfEvents { _events: events })
    }
}
