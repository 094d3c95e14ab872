//! Attaching a loaded program to a real kernel hook, and detaching it by dropping the
//! [`Attachment`].
//!
//! | hook                       | kernel program type | how                                              |
//! |----------------------------|---------------------|--------------------------------------------------|
//! | tracepoint `CATEGORY/NAME` | `TRACEPOINT`        | `perf_event_open(PERF_TYPE_TRACEPOINT, id)` + `BPF_LINK_CREATE(BPF_PERF_EVENT)` |
//! | kprobe `FUNC`              | `KPROBE`            | `perf_event_open` on the `kprobe` PMU + `BPF_LINK_CREATE(BPF_PERF_EVENT)` |
//! | raw tracepoint `NAME`      | `RAW_TRACEPOINT`    | `BPF_RAW_TRACEPOINT_OPEN` (a link)               |
//! | XDP `IFACE`                | `XDP`               | `BPF_LINK_CREATE(BPF_XDP)` on the interface      |
//! | socket `IFACE`             | `SOCKET_FILTER`     | `SO_ATTACH_BPF` on a raw `AF_PACKET` socket bound to the interface |
//!
//! Every kernel object is held by an owned fd, so dropping the attachment (and then the
//! program) leaves nothing behind: links, perf events and sockets die with their last fd.

use super::sys::{prog_type, ProgFd};
use std::ffi::CString;
use std::fmt;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Where a program is attached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hook {
    /// A tracefs tracepoint, e.g. `syscalls/sys_enter_execve`.
    Tracepoint {
        /// The tracepoint's category (`syscalls`).
        category: String,
        /// The tracepoint's name (`sys_enter_execve`).
        name: String,
    },
    /// A raw tracepoint, e.g. `sys_enter` (the program sees `bpf_raw_tracepoint_args`).
    RawTracepoint(String),
    /// A kprobe on a kernel function.
    Kprobe(String),
    /// XDP on a network interface.
    Xdp(String),
    /// A socket filter on a raw packet socket bound to an interface.
    Socket(String),
}

impl Hook {
    /// Parses `CATEGORY/NAME` for [`Hook::Tracepoint`].
    pub fn tracepoint(spec: &str) -> Result<Hook, AttachError> {
        match spec.split_once('/') {
            Some((c, n)) if !c.is_empty() && !n.is_empty() && !n.contains('/') => {
                Ok(Hook::Tracepoint { category: c.to_string(), name: n.to_string() })
            }
            _ => Err(AttachError::new(format!(
                "tracepoint `{spec}` is not CATEGORY/NAME (e.g. syscalls/sys_enter_execve)"
            ))),
        }
    }

    /// The kernel program type a program must be loaded as to attach here.
    pub fn kernel_prog_type(&self) -> u32 {
        match self {
            Hook::Tracepoint { .. } => prog_type::TRACEPOINT,
            Hook::RawTracepoint(_) => prog_type::RAW_TRACEPOINT,
            Hook::Kprobe(_) => prog_type::KPROBE,
            Hook::Xdp(_) => prog_type::XDP,
            Hook::Socket(_) => prog_type::SOCKET_FILTER,
        }
    }
}

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hook::Tracepoint { category, name } => write!(f, "tracepoint {category}/{name}"),
            Hook::RawTracepoint(n) => write!(f, "raw tracepoint {n}"),
            Hook::Kprobe(n) => write!(f, "kprobe {n}"),
            Hook::Xdp(i) => write!(f, "XDP hook of {i}"),
            Hook::Socket(i) => write!(f, "socket filter on {i}"),
        }
    }
}

/// Why attaching failed, in words that say what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachError {
    message: String,
}

impl AttachError {
    fn new(message: impl Into<String>) -> AttachError {
        AttachError { message: message.into() }
    }

    /// An error with this message.
    pub fn from_message(message: impl Into<String>) -> AttachError {
        AttachError::new(message)
    }

    fn os(what: &str) -> AttachError {
        AttachError::new(format!("{what}: {}", std::io::Error::last_os_error()))
    }
}

impl fmt::Display for AttachError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AttachError {}

/// A program attached to a hook. Dropping it detaches the program.
#[derive(Debug)]
pub struct Attachment {
    hook: Hook,
    /// The BPF link, when the hook uses one.
    link: Option<OwnedFd>,
    /// The perf event under a tracepoint or kprobe link; closed after the link.
    perf: Option<OwnedFd>,
    /// The raw packet socket of a socket filter.
    socket: Option<OwnedFd>,
}

impl Attachment {
    /// The hook.
    pub fn hook(&self) -> &Hook {
        &self.hook
    }

    /// The kernel-wide id of the BPF link, when the hook uses one.
    pub fn link_id(&self) -> Option<u32> {
        let link = self.link.as_ref()?;
        let mut info = [0u32; 16];
        obj_info(link.as_raw_fd(), info.as_mut_ptr().cast(), std::mem::size_of_val(&info)).ok()?;
        // struct bpf_link_info: type, id, prog_id, ...
        Some(info[1])
    }

    /// Reads and discards the packets a socket filter let through, so the socket's receive
    /// queue never fills (the filter runs on every packet either way). Returns how many.
    pub fn drain(&self) -> usize {
        let Some(sock) = &self.socket else { return 0 };
        let mut buf = [0u8; 2048];
        let mut n = 0;
        loop {
            // SAFETY: buf is writable for its length; the socket is non-blocking.
            let r = unsafe { libc::recv(sock.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT) };
            if r < 0 {
                return n;
            }
            n += 1;
        }
    }
}

impl Drop for Attachment {
    fn drop(&mut self) {
        // The link goes first: it holds the program on the perf event.
        self.link.take();
        self.perf.take();
        self.socket.take();
    }
}

/// Attaches `prog` (loaded with [`Hook::kernel_prog_type`]) to `hook`.
pub fn attach(prog: &ProgFd, hook: &Hook) -> Result<Attachment, AttachError> {
    let mut a = Attachment { hook: hook.clone(), link: None, perf: None, socket: None };
    match hook {
        Hook::Tracepoint { category, name } => {
            let id = tracepoint_id(category, name)?;
            let perf = perf_event_open(PERF_TYPE_TRACEPOINT, id as u64, 0, 0)?;
            a.link = Some(link_create(prog, perf.as_raw_fd() as u32, BPF_PERF_EVENT)?);
            a.perf = Some(perf);
        }
        Hook::Kprobe(func) => {
            let pmu = std::fs::read_to_string("/sys/bus/event_source/devices/kprobe/type")
                .ok()
                .and_then(|s| s.trim().parse::<u32>().ok())
                .ok_or_else(|| AttachError::new("this kernel has no kprobe PMU (CONFIG_KPROBE_EVENTS)"))?;
            let cfunc = CString::new(func.as_str()).map_err(|_| AttachError::new("function name has a NUL byte"))?;
            let perf = perf_event_open(pmu, 0, cfunc.as_ptr() as usize as u64, 0).map_err(|e| {
                AttachError::new(format!("{e} (is `{func}` a kernel function that can be probed? see /proc/kallsyms)"))
            })?;
            a.link = Some(link_create(prog, perf.as_raw_fd() as u32, BPF_PERF_EVENT)?);
            a.perf = Some(perf);
        }
        Hook::RawTracepoint(name) => {
            let cname = CString::new(name.as_str()).map_err(|_| AttachError::new("name has a NUL byte"))?;
            let mut attr = [0u64; 3];
            attr[0] = cname.as_ptr() as usize as u64;
            attr[1] = prog.as_raw_fd() as u32 as u64;
            // SAFETY: attr is BPF_RAW_TRACEPOINT_OPEN's {name, prog_fd, cookie}; name is a live
            // NUL-terminated string.
            let fd = unsafe { bpf(BPF_RAW_TRACEPOINT_OPEN, &mut attr) }
                .map_err(|_| AttachError::os(&format!("BPF_RAW_TRACEPOINT_OPEN `{name}`")))?;
            a.link = Some(fd);
        }
        Hook::Xdp(iface) => {
            let ifindex = ifindex(iface)?;
            a.link = Some(link_create(prog, ifindex, BPF_XDP)?);
        }
        Hook::Socket(iface) => {
            let ifindex = ifindex(iface)?;
            a.socket = Some(packet_socket(prog, ifindex)?);
        }
    }
    Ok(a)
}

/// Kinds of kernel BPF objects with ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjKind {
    /// Programs (`BPF_PROG_GET_NEXT_ID`).
    Prog,
    /// Maps (`BPF_MAP_GET_NEXT_ID`).
    Map,
    /// Links (`BPF_LINK_GET_NEXT_ID`).
    Link,
}

/// The ids of every live kernel object of a kind: what `bpftool prog/map/link list` walks.
pub fn live_ids(kind: ObjKind) -> Vec<u32> {
    let cmd = match kind {
        ObjKind::Prog => BPF_PROG_GET_NEXT_ID,
        ObjKind::Map => BPF_MAP_GET_NEXT_ID,
        ObjKind::Link => BPF_LINK_GET_NEXT_ID,
    };
    let mut ids = Vec::new();
    let mut start = 0u32;
    loop {
        // {start_id, next_id, open_flags}
        let mut attr = [start, 0, 0, 0];
        // SAFETY: GET_NEXT_ID uses no pointers.
        if unsafe { bpf_raw(cmd, attr.as_mut_ptr().cast(), 16) } < 0 {
            return ids;
        }
        start = attr[1];
        ids.push(start);
    }
}

/// The kernel-wide ids of the maps a program uses.
pub fn map_ids_of(prog: &ProgFd) -> Vec<u32> {
    // struct bpf_prog_info (232 bytes): nr_map_ids at byte 52, the map_ids pointer at byte 56.
    let mut ids = [0u32; 64];
    let mut info = [0u64; 29];
    info[6] = (ids.len() as u64) << 32;
    info[7] = ids.as_mut_ptr() as usize as u64;
    if obj_info(prog.as_raw_fd(), info.as_mut_ptr().cast(), std::mem::size_of_val(&info)).is_err() {
        return Vec::new();
    }
    let n = (info[6] >> 32) as usize;
    ids[..n.min(ids.len())].to_vec()
}

// ---------------------------------------------------------------------
// Raw calls (commands the map/program layer in `sys` does not need)
// ---------------------------------------------------------------------

const BPF_OBJ_GET_INFO_BY_FD: i32 = 15;
const BPF_PROG_GET_NEXT_ID: i32 = 11;
const BPF_MAP_GET_NEXT_ID: i32 = 12;
const BPF_RAW_TRACEPOINT_OPEN: i32 = 17;
const BPF_LINK_CREATE: i32 = 28;
const BPF_LINK_GET_NEXT_ID: i32 = 31;
/// `enum bpf_attach_type`: `BPF_XDP`.
const BPF_XDP: u32 = 37;
/// `enum bpf_attach_type`: `BPF_PERF_EVENT`.
const BPF_PERF_EVENT: u32 = 41;
const PERF_TYPE_TRACEPOINT: u32 = 2;
/// `PERF_EVENT_IOC_ENABLE` = `_IO('$', 0)`.
const PERF_EVENT_IOC_ENABLE: libc::c_ulong = 0x2400;
const SO_ATTACH_BPF: libc::c_int = 50;
/// `PERF_FLAG_FD_CLOEXEC`.
const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 1 << 3;

/// `bpf(cmd, attr, size)`.
///
/// # Safety
/// Pointers inside the attribute bytes must be valid for the command.
unsafe fn bpf_raw(cmd: i32, attr: *mut libc::c_void, size: usize) -> i64 {
    // SAFETY: forwarded from the caller.
    unsafe { libc::syscall(libc::SYS_bpf, cmd, attr, size as libc::c_uint) }
}

/// `bpf` on an attribute array, returning the new fd.
///
/// # Safety
/// As [`bpf_raw`].
unsafe fn bpf<const N: usize>(cmd: i32, attr: &mut [u64; N]) -> Result<OwnedFd, ()> {
    // SAFETY: forwarded from the caller; the array is N*8 bytes.
    let r = unsafe { bpf_raw(cmd, attr.as_mut_ptr().cast(), N * 8) };
    if r < 0 {
        return Err(());
    }
    // SAFETY: the kernel just returned this new fd; we are its only owner.
    Ok(unsafe { OwnedFd::from_raw_fd(r as RawFd) })
}

/// `BPF_OBJ_GET_INFO_BY_FD` into `len` bytes at `info`, which must be writable, and whose
/// pointer fields must point to buffers of the sizes beside them.
fn obj_info(fd: RawFd, info: *mut u8, len: usize) -> Result<(), ()> {
    // {bpf_fd, info_len, info}
    let mut attr = [0u64; 2];
    attr[0] = fd as u32 as u64 | ((len as u64) << 32);
    attr[1] = info as usize as u64;
    // SAFETY: the callers pass a live buffer of `len` bytes (see above).
    let r = unsafe { bpf_raw(BPF_OBJ_GET_INFO_BY_FD, attr.as_mut_ptr().cast(), 16) };
    if r < 0 {
        Err(())
    } else {
        Ok(())
    }
}

fn link_create(prog: &ProgFd, target: u32, attach_type: u32) -> Result<OwnedFd, AttachError> {
    // {prog_fd, target_fd|target_ifindex, attach_type, flags, union ...}
    let mut attr = [0u64; 6];
    attr[0] = prog.as_raw_fd() as u32 as u64 | (target as u64) << 32;
    attr[1] = attach_type as u64;
    // SAFETY: no pointers for XDP and perf-event links.
    unsafe { bpf(BPF_LINK_CREATE, &mut attr) }.map_err(|_| AttachError::os("BPF_LINK_CREATE"))
}

/// The id of a tracepoint, from tracefs (mounted if needed).
fn tracepoint_id(category: &str, name: &str) -> Result<u32, AttachError> {
    let root = super::trace_pipe::tracefs()?;
    let path = root.join("events").join(category).join(name).join("id");
    std::fs::read_to_string(&path).ok().and_then(|s| s.trim().parse().ok()).ok_or_else(|| {
        AttachError::new(format!(
            "no tracepoint {category}/{name} ({} is missing; list them in {}/available_events)",
            path.display(),
            root.display()
        ))
    })
}

/// `perf_event_open` for one event on CPU 0 of every process: tracepoint and kprobe programs
/// run on every CPU once attached through any one event (they hang on the trace event itself).
fn perf_event_open(typ: u32, config: u64, config1: u64, config2: u64) -> Result<OwnedFd, AttachError> {
    // struct perf_event_attr, PERF_ATTR_SIZE_VER7 (128 bytes).
    let mut attr = [0u64; 16];
    attr[0] = typ as u64 | (128u64 << 32);
    attr[1] = config;
    attr[2] = 1; // sample_period
    attr[7] = config1;
    attr[8] = config2;
    // SAFETY: attr is a 128-byte perf_event_attr; config1 (kprobe_func) points to a live string.
    let fd =
        unsafe { libc::syscall(libc::SYS_perf_event_open, attr.as_ptr(), -1i32, 0i32, -1i32, PERF_FLAG_FD_CLOEXEC) };
    if fd < 0 {
        return Err(AttachError::os("perf_event_open"));
    }
    // SAFETY: a new fd from the kernel, owned only here.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as RawFd) };
    // SAFETY: an ioctl without an argument on our perf fd.
    unsafe { libc::ioctl(fd.as_raw_fd(), PERF_EVENT_IOC_ENABLE, 0) };
    Ok(fd)
}

fn ifindex(iface: &str) -> Result<u32, AttachError> {
    let c = CString::new(iface).map_err(|_| AttachError::new("interface name has a NUL byte"))?;
    // SAFETY: c is a NUL-terminated string.
    match unsafe { libc::if_nametoindex(c.as_ptr()) } {
        0 => Err(AttachError::new(format!("no network interface `{iface}` (see `ip link`)"))),
        i => Ok(i),
    }
}

/// A non-blocking raw `AF_PACKET` socket on `ifindex` with `prog` as its filter.
fn packet_socket(prog: &ProgFd, ifindex: u32) -> Result<OwnedFd, AttachError> {
    let proto = (libc::ETH_P_ALL as u16).to_be();
    // SAFETY: plain socket creation.
    let s = unsafe {
        libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK, proto as i32)
    };
    if s < 0 {
        return Err(AttachError::os("socket(AF_PACKET)"));
    }
    // SAFETY: a new fd owned only here.
    let sock = unsafe { OwnedFd::from_raw_fd(s) };
    let fd = prog.as_raw_fd();
    // SAFETY: SO_ATTACH_BPF reads one int, the program fd. Attached before bind so no packet
    // arrives unfiltered.
    let r = unsafe {
        libc::setsockopt(s, libc::SOL_SOCKET, SO_ATTACH_BPF, (&fd as *const RawFd).cast(), 4 as libc::socklen_t)
    };
    if r < 0 {
        return Err(AttachError::os("setsockopt(SO_ATTACH_BPF)"));
    }
    // SAFETY: sockaddr_ll is plain data; zeroed is valid.
    let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sll.sll_family = libc::AF_PACKET as u16;
    sll.sll_protocol = proto;
    sll.sll_ifindex = ifindex as i32;
    // SAFETY: sll is a sockaddr_ll of the size given.
    let r = unsafe {
        libc::bind(
            s,
            (&sll as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(AttachError::os("bind(AF_PACKET)"));
    }
    Ok(sock)
}
