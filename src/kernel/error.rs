//! Typed, explained errors for the raw `bpf(2)` layer.
//!
//! The kernel reports every failure of `bpf(2)` as a bare errno, and the
//! same errno means very different things depending on the command
//! (`ENOENT` from `BPF_MAP_GET_NEXT_KEY` is "end of iteration", from
//! `BPF_MAP_UPDATE_ELEM` it is "BPF_EXIST and the key is missing").
//! [`KernelError`] therefore keeps the command next to the errno and
//! produces a per-command explanation, plus the verifier log for
//! `BPF_PROG_LOAD`.

use std::fmt;

/// Kernel-internal errno 524 (`ENOTSUPP`). It is not part of the
/// user-space errno set (libc has no constant for it, `strerror` says
/// "Unknown error 524"), but several BPF paths leak it to user space,
/// e.g. `BPF_PROG_TEST_RUN` on a program type without a test runner.
pub const ENOTSUPP: i32 = 524;

/// The `bpf(2)` command that failed, with the kernel's numbering
/// (`enum bpf_cmd` in `include/uapi/linux/bpf.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    /// `BPF_MAP_CREATE` (0).
    MapCreate,
    /// `BPF_MAP_LOOKUP_ELEM` (1).
    MapLookupElem,
    /// `BPF_MAP_UPDATE_ELEM` (2).
    MapUpdateElem,
    /// `BPF_MAP_DELETE_ELEM` (3).
    MapDeleteElem,
    /// `BPF_MAP_GET_NEXT_KEY` (4).
    MapGetNextKey,
    /// `BPF_PROG_LOAD` (5).
    ProgLoad,
    /// `BPF_PROG_TEST_RUN` (10), also known as `BPF_PROG_RUN`.
    ProgTestRun,
    /// `BPF_OBJ_GET_INFO_BY_FD` (15).
    ObjGetInfoByFd,
    /// `BPF_MAP_FREEZE` (22): no more writes from user space (`.rodata`).
    MapFreeze,
    /// `BPF_BTF_LOAD` (18): an object's type information, for `func_info`/`line_info`.
    BtfLoad,
    /// `BPF_MAP_LOOKUP_AND_DELETE_ELEM` (21): pops a queue or stack.
    MapLookupAndDeleteElem,
}

impl Command {
    /// The raw command number passed as the first argument of `bpf(2)`.
    pub const fn raw(self) -> u32 {
        match self {
            Command::MapCreate => 0,
            Command::MapLookupElem => 1,
            Command::MapUpdateElem => 2,
            Command::MapDeleteElem => 3,
            Command::MapGetNextKey => 4,
            Command::ProgLoad => 5,
            Command::ProgTestRun => 10,
            Command::ObjGetInfoByFd => 15,
            Command::MapFreeze => 22,
            Command::BtfLoad => 18,
            Command::MapLookupAndDeleteElem => 21,
        }
    }

    /// The kernel's name for the command, e.g. `"BPF_PROG_LOAD"`.
    pub const fn name(self) -> &'static str {
        match self {
            Command::MapCreate => "BPF_MAP_CREATE",
            Command::MapLookupElem => "BPF_MAP_LOOKUP_ELEM",
            Command::MapUpdateElem => "BPF_MAP_UPDATE_ELEM",
            Command::MapDeleteElem => "BPF_MAP_DELETE_ELEM",
            Command::MapGetNextKey => "BPF_MAP_GET_NEXT_KEY",
            Command::ProgLoad => "BPF_PROG_LOAD",
            Command::ProgTestRun => "BPF_PROG_TEST_RUN",
            Command::ObjGetInfoByFd => "BPF_OBJ_GET_INFO_BY_FD",
            Command::MapFreeze => "BPF_MAP_FREEZE",
            Command::BtfLoad => "BPF_BTF_LOAD",
            Command::MapLookupAndDeleteElem => "BPF_MAP_LOOKUP_AND_DELETE_ELEM",
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A failed `bpf(2)` call (or a request rejected by this library before
/// the call because it would have been unsafe or certainly invalid).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelError {
    cmd: Command,
    errno: i32,
    local: bool,
    detail: Option<String>,
    log: Option<String>,
}

/// How many trailing verifier-log lines the plain `Display` shows; the
/// verdict is at the end of the log. `{:#}` prints the whole log.
const DISPLAY_LOG_LINES: usize = 20;

impl KernelError {
    /// An error the kernel returned for `cmd`.
    pub(crate) fn from_kernel(cmd: Command, errno: i32) -> Self {
        KernelError { cmd, errno, local: false, detail: None, log: None }
    }

    /// A request refused by this library before calling the kernel; it
    /// carries `EINVAL`, the errno the kernel would (at best) have given.
    pub(crate) fn invalid_input(cmd: Command, detail: impl Into<String>) -> Self {
        KernelError { cmd, errno: libc::EINVAL, local: true, detail: Some(detail.into()), log: None }
    }

    /// Attach extra context (sizes, names) to the error.
    pub(crate) fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Attach the verifier log, replacing any (none when empty).
    pub(crate) fn with_log(mut self, log: String) -> Self {
        self.log = (!log.is_empty()).then_some(log);
        self
    }

    /// The command that failed.
    pub fn cmd(&self) -> Command {
        self.cmd
    }

    /// The errno (positive), e.g. `libc::EACCES` or [`ENOTSUPP`].
    pub fn errno(&self) -> i32 {
        self.errno
    }

    /// True when this library refused the request without calling the
    /// kernel (e.g. a key slice whose length differs from the map's
    /// key_size, which would let the kernel read past the buffer).
    pub fn is_local(&self) -> bool {
        self.local
    }

    /// Extra context, if any (e.g. which buffer was too small).
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }

    /// The verifier log, when the failing command was `BPF_PROG_LOAD`
    /// and the kernel produced one.
    pub fn log(&self) -> Option<&str> {
        self.log.as_deref()
    }

    /// The symbolic errno name, e.g. `"EACCES"`, or `"errno N"`.
    pub fn errno_name(&self) -> String {
        errno_name(self.errno)
    }

    /// A human explanation of what this errno means for this command.
    pub fn explanation(&self) -> String {
        explain(self.cmd, self.errno)
    }
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.local {
            write!(f, "bpf({}): rejected before the syscall", self.cmd)?;
        } else {
            write!(
                f,
                "bpf({}) failed: {} (errno {}): {}",
                self.cmd,
                self.errno_name(),
                self.errno,
                self.explanation()
            )?;
        }
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        if let Some(log) = &self.log {
            let lines: Vec<&str> = log.lines().collect();
            if f.alternate() || lines.len() <= DISPLAY_LOG_LINES {
                write!(f, "\nverifier log:\n{}", log.trim_end())?;
            } else {
                let tail = &lines[lines.len() - DISPLAY_LOG_LINES..];
                write!(
                    f,
                    "\nverifier log (last {} of {} lines; use {{:#}} for all):\n{}",
                    DISPLAY_LOG_LINES,
                    lines.len(),
                    tail.join("\n")
                )?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for KernelError {}

impl From<KernelError> for std::io::Error {
    fn from(e: KernelError) -> Self {
        // ENOTSUPP is not a user-space errno; io::Error would print
        // "Unknown error 524", so map it to the closest public one.
        let errno = if e.errno == ENOTSUPP { libc::EOPNOTSUPP } else { e.errno };
        let kind = std::io::Error::from_raw_os_error(errno).kind();
        std::io::Error::new(kind, e)
    }
}

/// Symbolic name for the errnos `bpf(2)` commonly returns.
pub fn errno_name(errno: i32) -> String {
    let name = match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::EINTR => "EINTR",
        libc::E2BIG => "E2BIG",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::EINVAL => "EINVAL",
        libc::ENOSPC => "ENOSPC",
        libc::ERANGE => "ERANGE",
        libc::ENOSYS => "ENOSYS",
        libc::ELOOP => "ELOOP",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        ENOTSUPP => "ENOTSUPP",
        _ => return format!("errno {errno}"),
    };
    name.to_string()
}

/// Explanation of `errno` in the context of `cmd`. Command-specific
/// meanings come first, then the generic meaning of the errno.
fn explain(cmd: Command, errno: i32) -> String {
    use Command::*;
    let specific: Option<&str> = match (cmd, errno) {
        (ProgLoad, libc::EACCES) => Some(
            "the verifier rejected the program as unsafe (see the verifier log for the \
             failing instruction and register state)",
        ),
        (ProgLoad, libc::EINVAL) => Some(
            "the kernel rejected the program or its attributes: malformed instruction \
             (unknown opcode, bad register, jump out of range, missing exit), a \
             prog_type/expected_attach_type/prog_flags combination it does not accept, \
             or a name with characters other than [A-Za-z0-9_.]",
        ),
        (ProgLoad, libc::E2BIG) => Some(
            "program too large (over BPF_MAXINSNS=4096 unprivileged or 1M insns \
             privileged, or the verifier hit its complexity limit), or non-zero \
             attribute bytes past what this kernel understands",
        ),
        (ProgLoad, libc::ENOSPC) => Some(
            "the verifier log did not fit in the log buffer (the kernel keeps only the \
             tail of the log)",
        ),
        (ProgLoad, libc::EAGAIN) => Some("the verifier was interrupted by a signal; the load can be retried"),
        (MapCreate, libc::EINVAL) => Some(
            "invalid map attributes: key_size/value_size/max_entries not allowed for \
             this map type (e.g. ARRAY needs a 4-byte key, RINGBUF a power-of-two page \
             multiple), unknown map_flags, or a malformed name",
        ),
        (MapCreate, libc::E2BIG) => Some("map too large, or non-zero attribute bytes this kernel does not know"),
        (MapLookupElem | MapDeleteElem, libc::ENOENT) => Some("no element with this key"),
        (MapGetNextKey, libc::ENOENT) => Some("no further key: iteration finished"),
        (MapUpdateElem, libc::ENOENT) => Some("BPF_EXIST was requested but no element with this key exists"),
        (MapUpdateElem, libc::EEXIST) => Some("BPF_NOEXIST was requested but an element with this key already exists"),
        (MapUpdateElem, libc::E2BIG) => {
            Some("the map is full (max_entries reached) or the array index is out of range")
        }
        (MapUpdateElem, libc::EINVAL) => Some(
            "invalid update flags (BPF_ANY=0/NOEXIST=1/EXIST=2, F_LOCK needs a spin \
             lock in the value) or an operation this map type does not allow",
        ),
        (MapDeleteElem, libc::EINVAL) => Some(
            "this map type does not support deleting elements (array slots are \
             preallocated and always exist)",
        ),
        (MapLookupElem | MapGetNextKey, libc::EINVAL) => {
            Some("invalid request: wrong flags or an operation this map type does not allow")
        }
        (MapLookupElem | MapUpdateElem | MapDeleteElem | MapGetNextKey, libc::EPERM) => Some(
            "the map fd does not allow this access (map created with BPF_F_RDONLY / \
             BPF_F_WRONLY, or the map is frozen)",
        ),
        (ProgTestRun, libc::EINVAL) => Some(
            "invalid test-run attributes: input data too small or too large for this \
             program type (networking types need at least a 14-byte Ethernet header \
             and at most about a page), or a ctx/flags/repeat setting the program type \
             does not accept",
        ),
        (ProgTestRun, libc::ENOSPC) => Some(
            "an output buffer (data_out or ctx_out) is smaller than what the program \
             produced",
        ),
        (ObjGetInfoByFd, libc::EINVAL) => Some("the fd is not a BPF object, or the info struct is malformed"),
        _ => None,
    };
    if let Some(s) = specific {
        return s.to_string();
    }
    let generic = match errno {
        libc::EPERM => {
            "operation not permitted: the caller lacks CAP_BPF/CAP_SYS_ADMIN (plus \
             CAP_NET_ADMIN or CAP_PERFMON for some program types), or seccomp, an LSM \
             or kernel lockdown blocks bpf(2); kernels before 5.11 also report a too \
             low RLIMIT_MEMLOCK this way"
        }
        libc::EACCES => "permission denied for this object or operation",
        libc::EINVAL => "invalid argument: the kernel rejected the attributes",
        libc::E2BIG => {
            "argument too big, or non-zero attribute bytes past what this kernel \
             understands"
        }
        libc::ENOSPC => "no space: a buffer or table is full",
        libc::ENOENT => "no such element or object",
        libc::EEXIST => "the element or object already exists",
        libc::EFAULT => {
            "the kernel could not read or write a user-space buffer (bad pointer, or a \
             buffer shorter than the kernel expects)"
        }
        libc::ENOMEM => {
            "the kernel could not allocate memory for the object (memory cgroup limit, \
             or RLIMIT_MEMLOCK on kernels before 5.11)"
        }
        ENOTSUPP => {
            "operation not supported by the kernel for this program type/attach (e.g. \
             BPF_PROG_TEST_RUN on a type without a test runner)"
        }
        libc::EOPNOTSUPP => "operation not supported for this map or program type",
        libc::EBADF => "bad file descriptor: not open, or not a BPF map/program fd",
        libc::ENOSYS => "the bpf(2) syscall is not available (kernel without CONFIG_BPF_SYSCALL)",
        libc::EAGAIN => "resource temporarily unavailable; retrying may succeed",
        libc::EINTR => "interrupted by a signal",
        libc::EBUSY => "the object is busy",
        _ => return std::io::Error::from_raw_os_error(errno).to_string(),
    };
    generic.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explanations_depend_on_command() {
        let next = KernelError::from_kernel(Command::MapGetNextKey, libc::ENOENT);
        let upd = KernelError::from_kernel(Command::MapUpdateElem, libc::ENOENT);
        assert_ne!(next.explanation(), upd.explanation());
        assert!(next.explanation().contains("iteration"));
        assert!(upd.explanation().contains("BPF_EXIST"));
    }

    #[test]
    fn enotsupp_is_explained() {
        let e = KernelError::from_kernel(Command::ProgTestRun, ENOTSUPP);
        assert_eq!(e.errno_name(), "ENOTSUPP");
        assert!(e.to_string().contains("not supported by the kernel"));
        let io: std::io::Error = e.into();
        assert_eq!(io.kind(), std::io::ErrorKind::Unsupported);
    }

    #[test]
    fn display_shows_log_tail_and_alternate_shows_all() {
        let log: String = (0..50).map(|i| format!("line {i}\n")).collect();
        let e = KernelError::from_kernel(Command::ProgLoad, libc::EACCES).with_log(log);
        let short = e.to_string();
        assert!(short.contains("line 49") && !short.contains("line 0\n"));
        assert!(short.contains("last 20 of 50 lines"));
        let long = format!("{e:#}");
        assert!(long.contains("line 0\n") && long.contains("line 49"));
    }

    #[test]
    fn local_errors_say_so() {
        let e = KernelError::invalid_input(Command::MapLookupElem, "key is 3 bytes");
        assert!(e.is_local());
        assert_eq!(e.errno(), libc::EINVAL);
        assert!(e.to_string().contains("before the syscall"));
        assert!(e.to_string().contains("key is 3 bytes"));
    }

    #[test]
    fn unknown_errno_falls_back_to_strerror() {
        assert_eq!(errno_name(9999), "errno 9999");
        let e = KernelError::from_kernel(Command::MapCreate, libc::ENODEV);
        assert!(!e.explanation().is_empty());
    }
}
