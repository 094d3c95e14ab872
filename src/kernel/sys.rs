//! Raw `bpf(2)` commands with hand-written attribute structs.
//!
//! Every command has its own `#[repr(C)]` attribute struct laid out like
//! the matching member of `union bpf_attr` in
//! `include/uapi/linux/bpf.h`. The structs have *explicit* padding fields,
//! so no byte of them is implicit padding, and they are created all-zero
//! (`std::mem::zeroed`) before the used fields are set: the kernel
//! rejects with `EINVAL`/`E2BIG` any non-zero byte in a field it does not
//! expect for the command, so a stray byte would break e.g. MAP_CREATE.
//! Compile-time assertions pin each struct's size and a few offsets.
//!
//! File descriptors returned by the kernel are wrapped in [`OwnedFd`]
//! newtypes ([`ProgFd`], [`MapFd`]) so they are closed on drop. The
//! kernel creates them with `O_CLOEXEC` already.

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::OnceLock;

use super::error::{Command, KernelError};

/// Program types, numbered as `enum bpf_prog_type` in the UAPI header.
pub mod prog_type {
    /// `BPF_PROG_TYPE_UNSPEC`: invalid for loading.
    pub const UNSPEC: u32 = 0;
    /// `BPF_PROG_TYPE_SOCKET_FILTER`.
    pub const SOCKET_FILTER: u32 = 1;
    /// `BPF_PROG_TYPE_KPROBE`.
    pub const KPROBE: u32 = 2;
    /// `BPF_PROG_TYPE_SCHED_CLS` (tc classifier).
    pub const SCHED_CLS: u32 = 3;
    /// `BPF_PROG_TYPE_SCHED_ACT` (tc action).
    pub const SCHED_ACT: u32 = 4;
    /// `BPF_PROG_TYPE_TRACEPOINT`.
    pub const TRACEPOINT: u32 = 5;
    /// `BPF_PROG_TYPE_XDP`.
    pub const XDP: u32 = 6;
    /// `BPF_PROG_TYPE_PERF_EVENT`.
    pub const PERF_EVENT: u32 = 7;
    /// `BPF_PROG_TYPE_CGROUP_SKB`.
    pub const CGROUP_SKB: u32 = 8;
    /// `BPF_PROG_TYPE_CGROUP_SOCK`.
    pub const CGROUP_SOCK: u32 = 9;
    /// `BPF_PROG_TYPE_LWT_IN`.
    pub const LWT_IN: u32 = 10;
    /// `BPF_PROG_TYPE_LWT_OUT`.
    pub const LWT_OUT: u32 = 11;
    /// `BPF_PROG_TYPE_LWT_XMIT`.
    pub const LWT_XMIT: u32 = 12;
    /// `BPF_PROG_TYPE_SOCK_OPS`.
    pub const SOCK_OPS: u32 = 13;
    /// `BPF_PROG_TYPE_SK_SKB`.
    pub const SK_SKB: u32 = 14;
    /// `BPF_PROG_TYPE_CGROUP_DEVICE`.
    pub const CGROUP_DEVICE: u32 = 15;
    /// `BPF_PROG_TYPE_SK_MSG`.
    pub const SK_MSG: u32 = 16;
    /// `BPF_PROG_TYPE_RAW_TRACEPOINT`.
    pub const RAW_TRACEPOINT: u32 = 17;
    /// `BPF_PROG_TYPE_CGROUP_SOCK_ADDR`.
    pub const CGROUP_SOCK_ADDR: u32 = 18;
    /// `BPF_PROG_TYPE_LWT_SEG6LOCAL`.
    pub const LWT_SEG6LOCAL: u32 = 19;
    /// `BPF_PROG_TYPE_LIRC_MODE2`.
    pub const LIRC_MODE2: u32 = 20;
    /// `BPF_PROG_TYPE_SK_REUSEPORT`.
    pub const SK_REUSEPORT: u32 = 21;
    /// `BPF_PROG_TYPE_FLOW_DISSECTOR`.
    pub const FLOW_DISSECTOR: u32 = 22;
    /// `BPF_PROG_TYPE_CGROUP_SYSCTL`.
    pub const CGROUP_SYSCTL: u32 = 23;
    /// `BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE`.
    pub const RAW_TRACEPOINT_WRITABLE: u32 = 24;
    /// `BPF_PROG_TYPE_CGROUP_SOCKOPT`.
    pub const CGROUP_SOCKOPT: u32 = 25;
    /// `BPF_PROG_TYPE_TRACING` (fentry/fexit/...; needs BTF attach info).
    pub const TRACING: u32 = 26;
    /// `BPF_PROG_TYPE_STRUCT_OPS`.
    pub const STRUCT_OPS: u32 = 27;
    /// `BPF_PROG_TYPE_EXT` (freplace).
    pub const EXT: u32 = 28;
    /// `BPF_PROG_TYPE_LSM`.
    pub const LSM: u32 = 29;
    /// `BPF_PROG_TYPE_SK_LOOKUP`.
    pub const SK_LOOKUP: u32 = 30;
    /// `BPF_PROG_TYPE_SYSCALL` (may be sleepable; runs via test_run).
    pub const SYSCALL: u32 = 31;
}

/// Map types, numbered as `enum bpf_map_type` in the UAPI header.
pub mod map_type {
    /// `BPF_MAP_TYPE_UNSPEC`: invalid for creation.
    pub const UNSPEC: u32 = 0;
    /// `BPF_MAP_TYPE_HASH`.
    pub const HASH: u32 = 1;
    /// `BPF_MAP_TYPE_ARRAY` (key is a 4-byte index).
    pub const ARRAY: u32 = 2;
    /// `BPF_MAP_TYPE_PROG_ARRAY` (tail-call table).
    pub const PROG_ARRAY: u32 = 3;
    /// `BPF_MAP_TYPE_PERF_EVENT_ARRAY`.
    pub const PERF_EVENT_ARRAY: u32 = 4;
    /// `BPF_MAP_TYPE_PERCPU_HASH`.
    pub const PERCPU_HASH: u32 = 5;
    /// `BPF_MAP_TYPE_PERCPU_ARRAY`.
    pub const PERCPU_ARRAY: u32 = 6;
    /// `BPF_MAP_TYPE_STACK_TRACE`.
    pub const STACK_TRACE: u32 = 7;
    /// `BPF_MAP_TYPE_CGROUP_ARRAY`.
    pub const CGROUP_ARRAY: u32 = 8;
    /// `BPF_MAP_TYPE_LRU_HASH`.
    pub const LRU_HASH: u32 = 9;
    /// `BPF_MAP_TYPE_LRU_PERCPU_HASH`.
    pub const LRU_PERCPU_HASH: u32 = 10;
    /// `BPF_MAP_TYPE_LPM_TRIE`.
    pub const LPM_TRIE: u32 = 11;
    /// `BPF_MAP_TYPE_ARRAY_OF_MAPS`.
    pub const ARRAY_OF_MAPS: u32 = 12;
    /// `BPF_MAP_TYPE_HASH_OF_MAPS`.
    pub const HASH_OF_MAPS: u32 = 13;
    /// `BPF_MAP_TYPE_DEVMAP`.
    pub const DEVMAP: u32 = 14;
    /// `BPF_MAP_TYPE_SOCKMAP`.
    pub const SOCKMAP: u32 = 15;
    /// `BPF_MAP_TYPE_CPUMAP`.
    pub const CPUMAP: u32 = 16;
    /// `BPF_MAP_TYPE_XSKMAP`.
    pub const XSKMAP: u32 = 17;
    /// `BPF_MAP_TYPE_SOCKHASH`.
    pub const SOCKHASH: u32 = 18;
    /// `BPF_MAP_TYPE_CGROUP_STORAGE`.
    pub const CGROUP_STORAGE: u32 = 19;
    /// `BPF_MAP_TYPE_REUSEPORT_SOCKARRAY`.
    pub const REUSEPORT_SOCKARRAY: u32 = 20;
    /// `BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE`.
    pub const PERCPU_CGROUP_STORAGE: u32 = 21;
    /// `BPF_MAP_TYPE_QUEUE`.
    pub const QUEUE: u32 = 22;
    /// `BPF_MAP_TYPE_STACK`.
    pub const STACK: u32 = 23;
    /// `BPF_MAP_TYPE_SK_STORAGE`.
    pub const SK_STORAGE: u32 = 24;
    /// `BPF_MAP_TYPE_DEVMAP_HASH`.
    pub const DEVMAP_HASH: u32 = 25;
    /// `BPF_MAP_TYPE_STRUCT_OPS`.
    pub const STRUCT_OPS: u32 = 26;
    /// `BPF_MAP_TYPE_RINGBUF` (max_entries = size in bytes, power of two).
    pub const RINGBUF: u32 = 27;
    /// `BPF_MAP_TYPE_INODE_STORAGE`.
    pub const INODE_STORAGE: u32 = 28;
    /// `BPF_MAP_TYPE_TASK_STORAGE`.
    pub const TASK_STORAGE: u32 = 29;
    /// `BPF_MAP_TYPE_BLOOM_FILTER`.
    pub const BLOOM_FILTER: u32 = 30;
    /// `BPF_MAP_TYPE_USER_RINGBUF`.
    pub const USER_RINGBUF: u32 = 31;

    /// True for map types whose user-space values hold one slot per
    /// possible CPU (see [`super::possible_cpus`]).
    pub const fn is_percpu(map_type: u32) -> bool {
        matches!(map_type, PERCPU_HASH | PERCPU_ARRAY | LRU_PERCPU_HASH | PERCPU_CGROUP_STORAGE)
    }
}

/// `prog_flags` bits for `BPF_PROG_LOAD`.
pub mod prog_flags {
    /// `BPF_F_STRICT_ALIGNMENT`: verify alignment as on strict archs.
    pub const STRICT_ALIGNMENT: u32 = 1 << 0;
    /// `BPF_F_ANY_ALIGNMENT`: skip alignment checks (testing only).
    pub const ANY_ALIGNMENT: u32 = 1 << 1;
    /// `BPF_F_TEST_RND_HI32`: poison upper 32 bits after 32-bit ops.
    pub const TEST_RND_HI32: u32 = 1 << 2;
    /// `BPF_F_TEST_STATE_FREQ`: checkpoint verifier state at every insn.
    pub const TEST_STATE_FREQ: u32 = 1 << 3;
    /// `BPF_F_SLEEPABLE`: program may sleep (tracing/LSM/syscall types).
    pub const SLEEPABLE: u32 = 1 << 4;
    /// `BPF_F_XDP_HAS_FRAGS`: XDP program understands multi-buffer frames.
    pub const XDP_HAS_FRAGS: u32 = 1 << 5;
}

/// Verifier `log_level` values for [`ProgLoad::log_level`] (may be OR-ed).
pub mod log_level {
    /// No log (the library still fetches one at level 1 on failure).
    pub const NONE: u32 = 0;
    /// `BPF_LOG_LEVEL1`: the failing path and its register state.
    pub const LEVEL1: u32 = 1;
    /// `BPF_LOG_LEVEL2`: every instruction of every explored path.
    pub const LEVEL2: u32 = 2;
    /// `BPF_LOG_STATS`: only the summary ("processed N insns ...").
    pub const STATS: u32 = 4;
}

/// `flags` for [`map_update`] (`BPF_ANY` and friends).
pub mod update_flags {
    /// `BPF_ANY`: create or overwrite.
    pub const ANY: u64 = 0;
    /// `BPF_NOEXIST`: create only; `EEXIST` if the key exists.
    pub const NOEXIST: u64 = 1;
    /// `BPF_EXIST`: overwrite only; `ENOENT` if the key is missing.
    pub const EXIST: u64 = 2;
    /// `BPF_F_LOCK`: take the value's `bpf_spin_lock` (needs BTF).
    pub const F_LOCK: u64 = 4;
}

/// `map_flags` bits for [`map_create`].
pub mod map_flags {
    /// `BPF_F_NO_PREALLOC`: allocate hash elements on demand.
    pub const NO_PREALLOC: u32 = 1 << 0;
    /// `BPF_F_NO_COMMON_LRU`: per-CPU LRU lists.
    pub const NO_COMMON_LRU: u32 = 1 << 1;
    /// `BPF_F_NUMA_NODE`: honour `numa_node` (not settable here).
    pub const NUMA_NODE: u32 = 1 << 2;
    /// `BPF_F_RDONLY`: read-only from user space.
    pub const RDONLY: u32 = 1 << 3;
    /// `BPF_F_WRONLY`: write-only from user space.
    pub const WRONLY: u32 = 1 << 4;
    /// `BPF_F_ZERO_SEED`: zero hash seed (testing).
    pub const ZERO_SEED: u32 = 1 << 6;
    /// `BPF_F_RDONLY_PROG`: read-only for programs.
    pub const RDONLY_PROG: u32 = 1 << 7;
    /// `BPF_F_WRONLY_PROG`: write-only for programs.
    pub const WRONLY_PROG: u32 = 1 << 8;
    /// `BPF_F_MMAPABLE`: array can be mmap()ed.
    pub const MMAPABLE: u32 = 1 << 10;
}

/// `flags` for [`TestRun::flags`].
pub mod test_run_flags {
    /// `BPF_F_TEST_RUN_ON_CPU`: run on [`super::TestRun::cpu`].
    pub const RUN_ON_CPU: u32 = 1 << 0;
    /// `BPF_F_TEST_XDP_LIVE_FRAMES`: XDP frames really transmitted.
    pub const XDP_LIVE_FRAMES: u32 = 1 << 1;
}

/// Default initial verifier-log buffer size (64 KiB).
pub const LOG_SIZE_DEFAULT: u32 = 64 * 1024;
/// Largest verifier-log buffer the library grows to (16 MiB).
pub const LOG_SIZE_MAX: u32 = 16 * 1024 * 1024;
/// Smallest log buffer used: kernels before 6.4 reject `log_size < 128`.
pub const LOG_SIZE_MIN: u32 = 128;
/// Longest object name the kernel stores (`BPF_OBJ_NAME_LEN` - 1).
pub const OBJ_NAME_MAX: usize = 15;

// ---------------------------------------------------------------------
// Attribute structs. Field order, sizes and offsets follow
// `union bpf_attr`; `_pad*` fields make the C padding explicit.
// ---------------------------------------------------------------------

/// Marker for the `bpf_attr` member structs below.
///
/// # Safety
/// Implementors must be `#[repr(C)]` structs made only of integers and
/// integer arrays, with no implicit padding, so that the all-zero bit
/// pattern is a valid value and every byte is a named field.
unsafe trait Attr: Sized {}

/// `BPF_MAP_CREATE` (fields up to `map_token_fd`, kernel 6.9+; older
/// kernels accept the zero tail).
#[repr(C, align(8))]
struct MapCreateAttr {
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
    inner_map_fd: u32,
    numa_node: u32,
    map_name: [u8; 16],
    map_ifindex: u32,
    btf_fd: u32,
    btf_key_type_id: u32,
    btf_value_type_id: u32,
    btf_vmlinux_value_type_id: u32,
    map_extra: u64,
    value_type_btf_obj_fd: i32,
    map_token_fd: i32,
}

/// `BPF_MAP_{LOOKUP,UPDATE,DELETE}_ELEM` and `BPF_MAP_GET_NEXT_KEY`.
#[repr(C, align(8))]
struct MapElemAttr {
    map_fd: u32,
    _pad0: u32,
    key: u64,
    /// `value`, or `next_key` for GET_NEXT_KEY (a union in C).
    value_or_next_key: u64,
    flags: u64,
}

/// `BPF_PROG_LOAD` (fields up to `fd_array_cnt`, kernel 6.13+; older
/// kernels accept the zero tail).
#[repr(C, align(8))]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
    prog_btf_fd: u32,
    func_info_rec_size: u32,
    func_info: u64,
    func_info_cnt: u32,
    line_info_rec_size: u32,
    line_info: u64,
    line_info_cnt: u32,
    attach_btf_id: u32,
    attach_prog_fd: u32,
    core_relo_cnt: u32,
    fd_array: u64,
    core_relos: u64,
    core_relo_rec_size: u32,
    /// Output (6.4+): full log size the verifier wanted, incl. the NUL.
    log_true_size: u32,
    prog_token_fd: i32,
    fd_array_cnt: u32,
}

/// `BPF_BTF_LOAD` (fields up to `btf_token_fd`, kernel 6.9+).
#[repr(C, align(8))]
struct BtfLoadAttr {
    btf: u64,
    btf_log_buf: u64,
    btf_size: u32,
    btf_log_size: u32,
    btf_log_level: u32,
    btf_log_true_size: u32,
    btf_flags: u32,
    btf_token_fd: i32,
}

/// `BPF_PROG_TEST_RUN`.
#[repr(C, align(8))]
struct TestRunAttr {
    prog_fd: u32,
    retval: u32,
    data_size_in: u32,
    data_size_out: u32,
    data_in: u64,
    data_out: u64,
    repeat: u32,
    duration: u32,
    ctx_size_in: u32,
    ctx_size_out: u32,
    ctx_in: u64,
    ctx_out: u64,
    flags: u32,
    cpu: u32,
    batch_size: u32,
    _pad0: u32,
}

/// `BPF_OBJ_GET_INFO_BY_FD`.
#[repr(C, align(8))]
struct InfoAttr {
    bpf_fd: u32,
    info_len: u32,
    info: u64,
}

/// `struct bpf_prog_info` (up to `attach_btf_id`; the kernel copies
/// `min(info_len, its size)` bytes, so older and newer kernels both work).
#[repr(C, align(8))]
struct BpfProgInfo {
    prog_type: u32,
    id: u32,
    tag: [u8; 8],
    jited_prog_len: u32,
    xlated_prog_len: u32,
    jited_prog_insns: u64,
    xlated_prog_insns: u64,
    load_time: u64,
    created_by_uid: u32,
    nr_map_ids: u32,
    map_ids: u64,
    name: [u8; 16],
    ifindex: u32,
    /// `gpl_compatible:1` plus 31 bits of padding in C.
    gpl_compatible_bits: u32,
    netns_dev: u64,
    netns_ino: u64,
    nr_jited_ksyms: u32,
    nr_jited_func_lens: u32,
    jited_ksyms: u64,
    jited_func_lens: u64,
    btf_id: u32,
    func_info_rec_size: u32,
    func_info: u64,
    nr_func_info: u32,
    nr_line_info: u32,
    line_info: u64,
    jited_line_info: u64,
    nr_jited_line_info: u32,
    line_info_rec_size: u32,
    jited_line_info_rec_size: u32,
    nr_prog_tags: u32,
    prog_tags: u64,
    run_time_ns: u64,
    run_cnt: u64,
    recursion_misses: u64,
    verified_insns: u32,
    attach_btf_obj_id: u32,
    attach_btf_id: u32,
    _pad0: u32,
}

/// `struct bpf_map_info` (up to `map_extra`).
#[repr(C, align(8))]
struct BpfMapInfo {
    map_type: u32,
    id: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
    name: [u8; 16],
    ifindex: u32,
    btf_vmlinux_value_type_id: u32,
    netns_dev: u64,
    netns_ino: u64,
    btf_id: u32,
    btf_key_type_id: u32,
    btf_value_type_id: u32,
    _pad0: u32,
    map_extra: u64,
}

// SAFETY: all of the following are #[repr(C)] structs of u32/i32/u64 and
// u8 arrays whose fields are laid out without gaps (checked by the size
// assertions below: each size equals the sum of its field sizes), so
// all-zero is a valid value and there is no implicit padding.
unsafe impl Attr for MapCreateAttr {}
// SAFETY: see above.
unsafe impl Attr for MapElemAttr {}
// SAFETY: see above.
unsafe impl Attr for ProgLoadAttr {}
// SAFETY: see above.
unsafe impl Attr for TestRunAttr {}
// SAFETY: see above.
unsafe impl Attr for BtfLoadAttr {}
// SAFETY: see above.
unsafe impl Attr for InfoAttr {}
// SAFETY: see above.
unsafe impl Attr for BpfProgInfo {}
// SAFETY: see above.
unsafe impl Attr for BpfMapInfo {}

// Layout pins: sizes equal the sum of the fields (no implicit padding)
// and match the UAPI offsets.
const _: () = {
    use std::mem::{offset_of, size_of};
    assert!(size_of::<MapCreateAttr>() == 80);
    assert!(offset_of!(MapCreateAttr, map_name) == 28);
    assert!(offset_of!(MapCreateAttr, map_extra) == 64);
    assert!(size_of::<MapElemAttr>() == 32);
    assert!(offset_of!(MapElemAttr, key) == 8);
    assert!(size_of::<ProgLoadAttr>() == 152);
    assert!(offset_of!(ProgLoadAttr, prog_name) == 48);
    assert!(offset_of!(ProgLoadAttr, expected_attach_type) == 68);
    assert!(offset_of!(ProgLoadAttr, fd_array) == 120);
    assert!(offset_of!(ProgLoadAttr, log_true_size) == 140);
    assert!(offset_of!(ProgLoadAttr, func_info) == 80);
    assert!(offset_of!(ProgLoadAttr, line_info) == 96);
    assert!(size_of::<BtfLoadAttr>() == 40);
    assert!(size_of::<TestRunAttr>() == 80);
    assert!(offset_of!(TestRunAttr, ctx_in) == 48);
    assert!(offset_of!(TestRunAttr, flags) == 64);
    assert!(size_of::<InfoAttr>() == 16);
    assert!(size_of::<BpfProgInfo>() == 232);
    assert!(offset_of!(BpfProgInfo, name) == 64);
    assert!(offset_of!(BpfProgInfo, verified_insns) == 216);
    assert!(size_of::<BpfMapInfo>() == 88);
    assert!(offset_of!(BpfMapInfo, map_extra) == 80);
};

/// A fully zeroed attribute struct.
fn zeroed<T: Attr>() -> T {
    // SAFETY: `Attr` guarantees the all-zero bit pattern is valid for T
    // and that T has no implicit padding, so every byte is zero.
    unsafe { std::mem::zeroed() }
}

/// Pointer to user memory as the kernel's `__aligned_u64`.
fn ptr_u64<T>(p: *const T) -> u64 {
    p as usize as u64
}

/// Pointer to a slice, or 0 (NULL) for an empty one: the kernel treats
/// NULL as "no buffer", while a dangling non-null pointer of an empty
/// Rust slice could be dereferenced when the size is not also zero.
fn slice_ptr(s: &[u8]) -> u64 {
    if s.is_empty() {
        0
    } else {
        ptr_u64(s.as_ptr())
    }
}

/// Mutable variant of [`slice_ptr`].
fn slice_ptr_mut(s: &mut [u8]) -> u64 {
    if s.is_empty() {
        0
    } else {
        ptr_u64(s.as_mut_ptr())
    }
}

/// The current thread's errno after a failed syscall.
fn last_errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)
}

/// Issue `bpf(cmd, attr, sizeof(*attr))`. Returns the non-negative
/// result or the errno.
///
/// # Safety
/// Every pointer stored in `attr` must be either 0 or point to memory
/// that is valid for the access the kernel will do for `cmd` (reads of
/// inputs, writes of outputs) with the lengths given in `attr` or implied
/// by the object (a map's key/value size), and must stay valid for the
/// duration of the call.
unsafe fn sys_bpf<T: Attr>(cmd: Command, attr: &mut T) -> Result<i64, i32> {
    let size = std::mem::size_of::<T>() as libc::c_uint;
    let attr_ptr: *mut T = attr;
    // SAFETY: `attr` is a live, fully initialised struct of `size` bytes
    // that the kernel may read and write back; the caller vouches for the
    // pointers inside it.
    let ret = unsafe { libc::syscall(libc::SYS_bpf, cmd.raw() as libc::c_int, attr_ptr.cast::<libc::c_void>(), size) };
    if ret < 0 {
        Err(last_errno())
    } else {
        Ok(ret as i64)
    }
}

/// Wrap a new fd returned by `bpf(2)`.
fn owned_fd(ret: i64) -> Result<OwnedFd, i32> {
    let fd = RawFd::try_from(ret).map_err(|_| libc::EBADF)?;
    if fd < 0 {
        return Err(libc::EBADF);
    }
    // SAFETY: the kernel just created `fd` for us (MAP_CREATE/PROG_LOAD
    // return a new descriptor); nothing else owns it, so taking ownership
    // makes the OwnedFd its only closer.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Copy `name` into a kernel object-name field, truncated to 15 bytes
/// (as libbpf does) so the field stays NUL-terminated.
fn obj_name(name: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    let bytes = name.as_bytes();
    let n = bytes.len().min(OBJ_NAME_MAX);
    out[..n].copy_from_slice(&bytes[..n]);
    out
}

/// Text up to the first NUL of a kernel-filled byte buffer.
fn c_text(buf: &[u8]) -> String {
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

// ---------------------------------------------------------------------
// File descriptors
// ---------------------------------------------------------------------

/// An owned file descriptor referring to a loaded BPF program. Dropping
/// it closes the fd (the program is freed once nothing else, e.g. an
/// attachment or pin, holds it).
#[derive(Debug)]
pub struct ProgFd(OwnedFd);

impl ProgFd {
    /// Duplicate the descriptor (`F_DUPFD_CLOEXEC`).
    pub fn try_clone(&self) -> std::io::Result<ProgFd> {
        self.0.try_clone().map(ProgFd)
    }

    /// Give up the wrapper and keep the owned descriptor.
    pub fn into_owned_fd(self) -> OwnedFd {
        self.0
    }
}

impl From<OwnedFd> for ProgFd {
    /// Adopt an fd believed to be a BPF program (e.g. from a pin). The
    /// kernel checks the fd type on every command, so a wrong fd only
    /// yields an error, never unsafety.
    fn from(fd: OwnedFd) -> Self {
        ProgFd(fd)
    }
}

impl AsFd for ProgFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

impl AsRawFd for ProgFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

/// An owned file descriptor referring to a BPF map, together with the
/// map's geometry. The sizes are kept so that every element operation can
/// check buffer lengths first: the kernel copies `key_size`/`value_size`
/// bytes to and from the given pointers without knowing our buffer sizes.
#[derive(Debug)]
pub struct MapFd {
    fd: OwnedFd,
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
}

impl MapFd {
    /// Adopt an fd believed to be a BPF map: its geometry is queried with
    /// `BPF_OBJ_GET_INFO_BY_FD`, which fails for non-map fds.
    pub fn from_owned_fd(fd: OwnedFd) -> Result<MapFd, KernelError> {
        // OBJ_GET_INFO_BY_FD fills in whatever object the fd is, so a
        // program fd would "succeed" with a bpf_prog_info read as map
        // info. The fd's /proc fdinfo names the kind; check it first.
        let fdinfo = format!("/proc/self/fdinfo/{}", fd.as_raw_fd());
        if let Ok(text) = std::fs::read_to_string(fdinfo) {
            if !text.lines().any(|l| l.starts_with("map_type:")) {
                return Err(KernelError::invalid_input(
                    Command::ObjGetInfoByFd,
                    "the fd is not a BPF map (its fdinfo has no map_type)",
                ));
            }
        }
        let mut info: BpfMapInfo = zeroed();
        obj_info(fd.as_fd(), &mut info)?;
        Ok(MapFd {
            fd,
            map_type: info.map_type,
            key_size: info.key_size,
            value_size: info.value_size,
            max_entries: info.max_entries,
            map_flags: info.map_flags,
        })
    }

    /// The map type (see [`map_type`]).
    pub fn map_type(&self) -> u32 {
        self.map_type
    }

    /// Key size in bytes.
    pub fn key_size(&self) -> u32 {
        self.key_size
    }

    /// Value size in bytes as the kernel (and a BPF program) sees it.
    pub fn value_size(&self) -> u32 {
        self.value_size
    }

    /// Size of a value buffer in user space: `value_size` for ordinary
    /// maps, `round_up(value_size, 8) * possible_cpus()` for per-CPU maps
    /// (the kernel returns one 8-byte-aligned slot per possible CPU).
    pub fn user_value_size(&self) -> usize {
        if map_type::is_percpu(self.map_type) {
            (self.value_size as usize).div_ceil(8) * 8 * possible_cpus()
        } else {
            self.value_size as usize
        }
    }

    /// Maximum number of entries.
    pub fn max_entries(&self) -> u32 {
        self.max_entries
    }

    /// The `map_flags` the map was created with.
    pub fn map_flags(&self) -> u32 {
        self.map_flags
    }

    /// The map's kernel-wide id (what a map of maps answers for its values).
    pub fn id(&self) -> Result<u32, KernelError> {
        let mut info: BpfMapInfo = zeroed();
        obj_info(self.fd.as_fd(), &mut info)?;
        Ok(info.id)
    }

    /// Duplicate the descriptor (`F_DUPFD_CLOEXEC`), keeping the geometry.
    pub fn try_clone(&self) -> std::io::Result<MapFd> {
        Ok(MapFd { fd: self.fd.try_clone()?, ..*self })
    }

    /// Give up the wrapper and keep the owned descriptor.
    pub fn into_owned_fd(self) -> OwnedFd {
        self.fd
    }

    fn raw(&self) -> u32 {
        self.fd.as_raw_fd() as u32
    }
}

impl AsFd for MapFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for MapFd {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

// ---------------------------------------------------------------------
// BPF_PROG_LOAD
// ---------------------------------------------------------------------

/// Everything `BPF_PROG_LOAD` needs. Build with struct-update syntax:
/// `ProgLoad { prog_type: prog_type::XDP, insns: &code, ..Default::default() }`.
#[derive(Debug, Clone, Copy)]
pub struct ProgLoad<'a> {
    /// Program type (see [`prog_type`]).
    pub prog_type: u32,
    /// Raw instructions: 8-byte little-endian words (opcode, dst|src<<4,
    /// off i16, imm i32); a `lddw` takes two words. Length must be a
    /// multiple of 8.
    pub insns: &'a [u8],
    /// License string; helpers marked GPL-only need a GPL-compatible one.
    pub license: &'a str,
    /// Verifier log level (see [`log_level`]): 1, 2 or 4, or 0 for none.
    pub log_level: u32,
    /// `prog_flags` bits (see [`prog_flags`]).
    pub prog_flags: u32,
    /// `expected_attach_type` (an `enum bpf_attach_type` value), needed
    /// at load time by some types (cgroup sock_addr, sk_lookup, ...).
    pub expected_attach_type: u32,
    /// Program name; only `[A-Za-z0-9_.]`, truncated to 15 bytes.
    pub name: &'a str,
    /// Map fds for `BPF_PSEUDO_MAP_IDX` / `BPF_PSEUDO_MAP_IDX_VALUE`
    /// loads (`src_reg` 5/6 of `lddw`, imm = index into this array).
    pub fd_array: Option<&'a [RawFd]>,
    /// Initial verifier-log buffer size in bytes; 0 means
    /// [`LOG_SIZE_DEFAULT`]. On `ENOSPC` the buffer grows ×4 up to
    /// [`LOG_SIZE_MAX`].
    pub initial_log_size: u32,
    /// The program's BTF function and line info (needed for callbacks such as `bpf_loop`'s,
    /// and what puts C lines in the log); `None` loads without BTF.
    pub btf: Option<ProgBtf<'a>>,
}

/// A program's BTF for `BPF_PROG_LOAD`: the BTF object (from [`btf_load`]) and the records that
/// refer to it, with `insn_off` counted in instructions (8-byte slots).
#[derive(Debug, Clone, Copy)]
pub struct ProgBtf<'a> {
    /// The loaded BTF.
    pub btf_fd: RawFd,
    /// `struct bpf_func_info` records: (`insn_off`, `type_id`), one per function, in order.
    pub func_info: &'a [[u32; 2]],
    /// `struct bpf_line_info` records: (`insn_off`, `file_name_off`, `line_off`, `line_col`),
    /// by increasing `insn_off`; may be empty.
    pub line_info: &'a [[u32; 4]],
}

impl Default for ProgLoad<'_> {
    /// A socket filter with no instructions, GPL license, no log.
    fn default() -> Self {
        ProgLoad {
            prog_type: prog_type::SOCKET_FILTER,
            insns: &[],
            license: "GPL",
            log_level: 0,
            prog_flags: 0,
            expected_attach_type: 0,
            name: "",
            fd_array: None,
            initial_log_size: 0,
            btf: None,
        }
    }
}

/// A successfully loaded program.
#[derive(Debug)]
pub struct LoadedProg {
    /// The program's descriptor.
    pub fd: ProgFd,
    /// The verifier log; empty unless `log_level > 0` was requested.
    pub log: String,
}

/// How often an `EAGAIN` from PROG_LOAD (verifier interrupted by a
/// signal) is retried, as libbpf does.
const PROG_LOAD_EAGAIN_RETRIES: usize = 5;

/// Load a program with `BPF_PROG_LOAD`.
///
/// With `log_level > 0` the verifier log is returned on success and
/// attached to the error on failure; a log that does not fit (`ENOSPC`)
/// is retried with a buffer 4× larger, up to 16 MiB. With `log_level == 0`
/// a rejected load (`EACCES`/`EINVAL`) is repeated once at level 1 only
/// to attach the verifier's explanation to the error.
pub fn prog_load(req: &ProgLoad<'_>) -> Result<LoadedProg, KernelError> {
    if req.insns.is_empty() || !req.insns.len().is_multiple_of(8) {
        return Err(KernelError::invalid_input(
            Command::ProgLoad,
            format!("instruction bytes must be a non-empty multiple of 8, got {}", req.insns.len()),
        ));
    }
    let insn_cnt = u32::try_from(req.insns.len() / 8)
        .map_err(|_| KernelError::invalid_input(Command::ProgLoad, "more than u32::MAX instructions"))?;
    let license = CString::new(req.license)
        .map_err(|_| KernelError::invalid_input(Command::ProgLoad, "license contains a NUL byte"))?;
    let initial = match req.initial_log_size {
        0 => LOG_SIZE_DEFAULT,
        n => n.clamp(LOG_SIZE_MIN, LOG_SIZE_MAX),
    };
    let base = LoadParams { req, insn_cnt, license: &license };
    if req.log_level != 0 {
        return base.load_with_log(req.log_level, initial);
    }
    match base.attempt(0, &mut []) {
        Ok(fd) => Ok(LoadedProg { fd: ProgFd(fd), log: String::new() }),
        Err((errno, _)) if errno == libc::EACCES || errno == libc::EINVAL => {
            // Fetch the verifier's reason like libbpf does. If the second
            // attempt fails the same way, report it with its log;
            // otherwise report the original failure.
            match base.load_with_log(log_level::LEVEL1, initial) {
                Err(e) if e.errno() == errno => Err(e),
                Ok(prog) => Ok(LoadedProg { fd: prog.fd, log: String::new() }),
                Err(_) => Err(KernelError::from_kernel(Command::ProgLoad, errno)),
            }
        }
        Err((errno, _)) => Err(KernelError::from_kernel(Command::ProgLoad, errno)),
    }
}

/// Validated, converted inputs of one `prog_load` call.
struct LoadParams<'r, 'a> {
    req: &'r ProgLoad<'a>,
    insn_cnt: u32,
    license: &'r CString,
}

impl LoadParams<'_, '_> {
    /// Load with a log buffer, growing it on ENOSPC.
    fn load_with_log(&self, level: u32, initial: u32) -> Result<LoadedProg, KernelError> {
        let mut size = initial;
        loop {
            let mut buf = vec![0u8; size as usize];
            match self.attempt(level, &mut buf) {
                Ok(fd) => return Ok(LoadedProg { fd: ProgFd(fd), log: c_text(&buf) }),
                Err((libc::ENOSPC, true_size)) if size < LOG_SIZE_MAX => {
                    // Grow ×4; when the kernel told us the full size
                    // (log_true_size, 6.4+) skip straight past it.
                    let mut next = size.saturating_mul(4);
                    while next < true_size && next < LOG_SIZE_MAX {
                        next = next.saturating_mul(4);
                    }
                    size = next.min(LOG_SIZE_MAX);
                }
                Err((errno, true_size)) => {
                    let mut err = KernelError::from_kernel(Command::ProgLoad, errno).with_log(c_text(&buf));
                    if errno == libc::ENOSPC {
                        err = err.with_detail(format!(
                            "verifier log needs {true_size} bytes, more than the {LOG_SIZE_MAX}-byte \
                             maximum; the attached log is its tail"
                        ));
                    }
                    return Err(err);
                }
            }
        }
    }

    /// One PROG_LOAD (with EAGAIN retries). `log` empty = no log buffer.
    /// On error returns (errno, log_true_size).
    fn attempt(&self, level: u32, log: &mut [u8]) -> Result<OwnedFd, (i32, u32)> {
        let req = self.req;
        let mut attr: ProgLoadAttr = zeroed();
        attr.prog_type = req.prog_type;
        attr.insn_cnt = self.insn_cnt;
        attr.insns = ptr_u64(req.insns.as_ptr());
        attr.license = ptr_u64(self.license.as_ptr());
        attr.prog_flags = req.prog_flags;
        attr.prog_name = obj_name(req.name);
        attr.expected_attach_type = req.expected_attach_type;
        if let Some(fds) = req.fd_array {
            // fd_array_cnt stays 0: it is unknown to kernels before 6.13,
            // which would reject the load with E2BIG.
            if !fds.is_empty() {
                attr.fd_array = ptr_u64(fds.as_ptr());
            }
        }
        if let Some(btf) = req.btf {
            attr.prog_btf_fd = btf.btf_fd as u32;
            attr.func_info_rec_size = 8;
            attr.func_info = ptr_u64(btf.func_info.as_ptr());
            attr.func_info_cnt = btf.func_info.len() as u32;
            if !btf.line_info.is_empty() {
                attr.line_info_rec_size = 16;
                attr.line_info = ptr_u64(btf.line_info.as_ptr());
                attr.line_info_cnt = btf.line_info.len() as u32;
            }
        }
        if !log.is_empty() {
            attr.log_level = level;
            attr.log_size = log.len() as u32;
            attr.log_buf = slice_ptr_mut(log);
        }
        let mut tries = 0;
        loop {
            attr.log_true_size = 0;
            // SAFETY: insns points to insn_cnt*8 readable bytes, license to
            // a NUL-terminated string, prog_name is inline, fd_array (if
            // set) to the caller's slice of fds, func_info/line_info (if
            // set) to their count of records of the given sizes, and log_buf
            // to `log` with log_size = its length; all outlive the call.
            match unsafe { sys_bpf(Command::ProgLoad, &mut attr) } {
                Ok(ret) => return owned_fd(ret).map_err(|e| (e, 0)),
                Err(libc::EAGAIN) if tries < PROG_LOAD_EAGAIN_RETRIES => tries += 1,
                Err(errno) => return Err((errno, attr.log_true_size)),
            }
        }
    }
}

// ---------------------------------------------------------------------
// Maps
// ---------------------------------------------------------------------

/// Create a map with `BPF_MAP_CREATE`. `name` is truncated to 15 bytes
/// and may contain only `[A-Za-z0-9_.]` (the kernel checks).
pub fn map_create(
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
    name: &str,
) -> Result<MapFd, KernelError> {
    map_create_with(map_type, (key_size, value_size, max_entries), map_flags, name, MapCreateExtra::default())
}

/// What [`map_create_with`] adds to [`map_create`]: libbpf's extra creation attributes.
#[derive(Clone, Copy, Debug, Default)]
pub struct MapCreateExtra {
    /// `inner_map_fd`: the template of a map of maps' values.
    pub inner_map_fd: Option<i32>,
    /// `numa_node` (with `BPF_F_NUMA_NODE` in the flags).
    pub numa_node: u32,
    /// `map_extra`.
    pub map_extra: u64,
}

/// [`map_create`] with an inner map, a NUMA node or `map_extra`.
pub fn map_create_with(
    map_type: u32,
    sizes: (u32, u32, u32),
    map_flags: u32,
    name: &str,
    extra: MapCreateExtra,
) -> Result<MapFd, KernelError> {
    let (key_size, value_size, max_entries) = sizes;
    let mut attr: MapCreateAttr = zeroed();
    attr.map_type = map_type;
    attr.key_size = key_size;
    attr.value_size = value_size;
    attr.max_entries = max_entries;
    attr.map_flags = map_flags;
    attr.map_name = obj_name(name);
    attr.inner_map_fd = extra.inner_map_fd.map_or(0, |fd| fd as u32);
    attr.numa_node = extra.numa_node;
    attr.map_extra = extra.map_extra;
    // SAFETY: MAP_CREATE with no BTF uses no pointers; the name is inline and inner_map_fd is
    // a plain number the kernel looks up.
    let ret = unsafe { sys_bpf(Command::MapCreate, &mut attr) }
        .map_err(|e| KernelError::from_kernel(Command::MapCreate, e))?;
    let fd = owned_fd(ret).map_err(|e| KernelError::from_kernel(Command::MapCreate, e))?;
    Ok(MapFd { fd, map_type, key_size, value_size, max_entries, map_flags })
}

/// Loads an object's BTF (`BPF_BTF_LOAD`) for [`ProgBtf`]; a refusal carries the kernel's BTF log.
pub fn btf_load(blob: &[u8]) -> Result<OwnedFd, KernelError> {
    let size =
        u32::try_from(blob.len()).map_err(|_| KernelError::invalid_input(Command::BtfLoad, "BTF larger than 4 GiB"))?;
    let mut log = vec![0u8; LOG_SIZE_DEFAULT as usize];
    let mut attr: BtfLoadAttr = zeroed();
    attr.btf = slice_ptr(blob);
    attr.btf_size = size;
    attr.btf_log_buf = slice_ptr_mut(&mut log);
    attr.btf_log_size = LOG_SIZE_DEFAULT;
    attr.btf_log_level = log_level::LEVEL1;
    // SAFETY: btf points to btf_size readable bytes and btf_log_buf to btf_log_size writable
    // ones; both outlive the call.
    let ret = unsafe { sys_bpf(Command::BtfLoad, &mut attr) }
        .map_err(|e| KernelError::from_kernel(Command::BtfLoad, e).with_log(c_text(&log)))?;
    owned_fd(ret).map_err(|e| KernelError::from_kernel(Command::BtfLoad, e))
}

/// Check that `buf` is exactly `want` bytes; the kernel would otherwise
/// read or write past its end.
fn check_len(cmd: Command, what: &str, buf: &[u8], want: usize) -> Result<(), KernelError> {
    if buf.len() == want {
        Ok(())
    } else {
        Err(KernelError::invalid_input(cmd, format!("{what} is {} bytes but the map needs {want}", buf.len())))
    }
}

/// Run one element command; `Ok(false)` when the kernel says ENOENT.
///
/// # Safety
/// As [`sys_bpf`]: `attr`'s pointers must match the map's sizes.
unsafe fn elem_cmd(cmd: Command, attr: &mut MapElemAttr) -> Result<bool, KernelError> {
    // SAFETY: forwarded from the caller.
    match unsafe { sys_bpf(cmd, attr) } {
        Ok(_) => Ok(true),
        Err(libc::ENOENT) if cmd != Command::MapUpdateElem => Ok(false),
        Err(e) => Err(KernelError::from_kernel(cmd, e)),
    }
}

/// Look `key` up (`BPF_MAP_LOOKUP_ELEM`) into `value`. Returns
/// `Ok(false)` when there is no such element. `key` must be
/// `key_size` bytes and `value` [`MapFd::user_value_size`] bytes.
pub fn map_lookup(map: &MapFd, key: &[u8], value: &mut [u8]) -> Result<bool, KernelError> {
    let cmd = Command::MapLookupElem;
    check_len(cmd, "key", key, map.key_size as usize)?;
    check_len(cmd, "value buffer", value, map.user_value_size())?;
    let mut attr: MapElemAttr = zeroed();
    attr.map_fd = map.raw();
    attr.key = slice_ptr(key);
    attr.value_or_next_key = slice_ptr_mut(value);
    // SAFETY: key has key_size readable bytes and value has the
    // user-space value size writable, as checked above.
    unsafe { elem_cmd(cmd, &mut attr) }
}

/// Store `value` under `key` (`BPF_MAP_UPDATE_ELEM`) with `flags` from
/// [`update_flags`]. `EEXIST` (NOEXIST) and `ENOENT` (EXIST) are errors.
pub fn map_update(map: &MapFd, key: &[u8], value: &[u8], flags: u64) -> Result<(), KernelError> {
    let cmd = Command::MapUpdateElem;
    check_len(cmd, "key", key, map.key_size as usize)?;
    check_len(cmd, "value", value, map.user_value_size())?;
    let mut attr: MapElemAttr = zeroed();
    attr.map_fd = map.raw();
    attr.key = slice_ptr(key);
    attr.value_or_next_key = slice_ptr(value);
    attr.flags = flags;
    // SAFETY: key and value are readable for the sizes the kernel copies,
    // as checked above; UPDATE only reads them.
    unsafe { elem_cmd(cmd, &mut attr) }.map(|_| ())
}

/// Take the next value of a queue or stack (`BPF_MAP_LOOKUP_AND_DELETE_ELEM` with no key) into
/// `value`; `Ok(false)` when it is empty.
pub fn map_pop(map: &MapFd, value: &mut [u8]) -> Result<bool, KernelError> {
    let cmd = Command::MapLookupAndDeleteElem;
    check_len(cmd, "value buffer", value, map.user_value_size())?;
    let mut attr: MapElemAttr = zeroed();
    attr.map_fd = map.raw();
    attr.value_or_next_key = slice_ptr_mut(value);
    // SAFETY: value has the map's value size writable, as checked above; no key is read.
    unsafe { elem_cmd(cmd, &mut attr) }
}

/// Freeze `map` (`BPF_MAP_FREEZE`): user space may no longer write it, and the verifier may
/// treat a read-only-to-programs map's contents as constants (libbpf's `.rodata`).
pub fn map_freeze(map: &MapFd) -> Result<(), KernelError> {
    let cmd = Command::MapFreeze;
    let mut attr: MapElemAttr = zeroed();
    attr.map_fd = map.raw();
    // SAFETY: MAP_FREEZE reads only map_fd; the struct holds no pointers.
    unsafe { sys_bpf(cmd, &mut attr) }.map(|_| ()).map_err(|e| KernelError::from_kernel(cmd, e))
}

/// Delete `key` (`BPF_MAP_DELETE_ELEM`). Returns `Ok(false)` when it did
/// not exist. Array maps cannot delete and fail with `EINVAL`.
pub fn map_delete(map: &MapFd, key: &[u8]) -> Result<bool, KernelError> {
    let cmd = Command::MapDeleteElem;
    check_len(cmd, "key", key, map.key_size as usize)?;
    let mut attr: MapElemAttr = zeroed();
    attr.map_fd = map.raw();
    attr.key = slice_ptr(key);
    // SAFETY: key has key_size readable bytes, as checked above.
    unsafe { elem_cmd(cmd, &mut attr) }
}

/// Fetch the key after `key` (`BPF_MAP_GET_NEXT_KEY`) into `next`; `None`
/// starts from the first key. Returns `Ok(false)` at the end.
pub fn map_get_next_key(map: &MapFd, key: Option<&[u8]>, next: &mut [u8]) -> Result<bool, KernelError> {
    let cmd = Command::MapGetNextKey;
    if let Some(k) = key {
        check_len(cmd, "key", k, map.key_size as usize)?;
    }
    check_len(cmd, "next-key buffer", next, map.key_size as usize)?;
    let mut attr: MapElemAttr = zeroed();
    attr.map_fd = map.raw();
    attr.key = key.map_or(0, slice_ptr);
    attr.value_or_next_key = slice_ptr_mut(next);
    // SAFETY: key (if any) is readable and next writable for key_size
    // bytes, as checked above.
    unsafe { elem_cmd(cmd, &mut attr) }
}

// ---------------------------------------------------------------------
// BPF_PROG_TEST_RUN
// ---------------------------------------------------------------------

/// Inputs of `BPF_PROG_TEST_RUN`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TestRun<'a> {
    /// Packet / input data (networking types need at least 14 bytes).
    pub data_in: Option<&'a [u8]>,
    /// Size of the output data buffer to provide; 0 = no data output.
    pub data_out_size: u32,
    /// Input context (e.g. `struct __sk_buff`, `struct xdp_md`).
    pub ctx_in: Option<&'a [u8]>,
    /// Size of the output context buffer; 0 = no context output.
    pub ctx_out_size: u32,
    /// Number of runs (0 counts as 1); the duration is the mean.
    pub repeat: u32,
    /// Flags (see [`test_run_flags`]).
    pub flags: u32,
    /// CPU to run on with [`test_run_flags::RUN_ON_CPU`].
    pub cpu: u32,
}

/// Results of `BPF_PROG_TEST_RUN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestRunResult {
    /// The program's return value (r0, truncated to 32 bits).
    pub retval: u32,
    /// Mean run time per repetition in nanoseconds.
    pub duration_ns: u32,
    /// Output data, truncated to the size the kernel reported.
    pub data_out: Vec<u8>,
    /// Output context, truncated to the size the kernel reported.
    pub ctx_out: Vec<u8>,
}

/// Run a loaded program once or `repeat` times in the kernel.
///
/// `ENOSPC` (an output buffer too small) is an error whose detail names
/// the size the kernel needed.
pub fn prog_test_run(prog: &ProgFd, run: &TestRun<'_>) -> Result<TestRunResult, KernelError> {
    let cmd = Command::ProgTestRun;
    let data_in = run.data_in.unwrap_or(&[]);
    let ctx_in = run.ctx_in.unwrap_or(&[]);
    let size_u32 = |what: &str, s: &[u8]| {
        u32::try_from(s.len()).map_err(|_| KernelError::invalid_input(cmd, format!("{what} larger than 4 GiB")))
    };
    let mut data_out = vec![0u8; run.data_out_size as usize];
    let mut ctx_out = vec![0u8; run.ctx_out_size as usize];

    let mut attr: TestRunAttr = zeroed();
    attr.prog_fd = prog.as_raw_fd() as u32;
    attr.data_size_in = size_u32("data_in", data_in)?;
    attr.data_in = slice_ptr(data_in);
    attr.data_size_out = run.data_out_size;
    attr.data_out = slice_ptr_mut(&mut data_out);
    attr.ctx_size_in = size_u32("ctx_in", ctx_in)?;
    attr.ctx_in = slice_ptr(ctx_in);
    attr.ctx_size_out = run.ctx_out_size;
    attr.ctx_out = slice_ptr_mut(&mut ctx_out);
    attr.repeat = run.repeat;
    attr.flags = run.flags;
    attr.cpu = run.cpu;
    // SAFETY: every input pointer is 0 or a slice of exactly the size
    // given next to it; outputs are our own buffers of the given sizes
    // (the kernel copies at most data_size_out/ctx_size_out bytes).
    match unsafe { sys_bpf(cmd, &mut attr) } {
        Ok(_) => {}
        Err(libc::ENOSPC) => {
            return Err(KernelError::from_kernel(cmd, libc::ENOSPC).with_detail(format!(
                "kernel produced {} data bytes (buffer {}) and {} ctx bytes (buffer {})",
                attr.data_size_out, run.data_out_size, attr.ctx_size_out, run.ctx_out_size
            )))
        }
        Err(e) => return Err(KernelError::from_kernel(cmd, e)),
    }
    // The kernel reports the full output size even when it wrote less
    // (or nothing, without a buffer), so keep the minimum.
    data_out.truncate((attr.data_size_out as usize).min(run.data_out_size as usize));
    ctx_out.truncate((attr.ctx_size_out as usize).min(run.ctx_out_size as usize));
    Ok(TestRunResult { retval: attr.retval, duration_ns: attr.duration, data_out, ctx_out })
}

/// Run a `BPF_PROG_TYPE_SYSCALL` program once. Such programs take no
/// packet, no `repeat` and no separate ctx output: the kernel copies `ctx`
/// in, runs the program, and writes the (possibly modified) ctx back into
/// the same user buffer, hence `&mut`. Returns the 32-bit retval.
pub fn prog_test_run_syscall(prog: &ProgFd, ctx: &mut [u8]) -> Result<u32, KernelError> {
    let cmd = Command::ProgTestRun;
    let mut attr: TestRunAttr = zeroed();
    attr.prog_fd = prog.as_raw_fd() as u32;
    attr.ctx_size_in =
        u32::try_from(ctx.len()).map_err(|_| KernelError::invalid_input(cmd, "ctx larger than 4 GiB"))?;
    attr.ctx_in = if ctx.is_empty() { 0 } else { slice_ptr_mut(ctx) };
    // SAFETY: ctx_in is 0 or our exclusively borrowed buffer of exactly
    // ctx_size_in bytes, which the kernel reads and writes back in place.
    unsafe { sys_bpf(cmd, &mut attr) }.map_err(|e| KernelError::from_kernel(cmd, e))?;
    Ok(attr.retval)
}

// ---------------------------------------------------------------------
// BPF_OBJ_GET_INFO_BY_FD
// ---------------------------------------------------------------------

/// What the kernel reports about a loaded program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgInfo {
    /// Program type (see [`prog_type`]).
    pub prog_type: u32,
    /// Kernel-wide program id.
    pub id: u32,
    /// First 8 bytes of the SHA-1 over the instructions (the "tag").
    pub tag: [u8; 8],
    /// Name as stored by the kernel (max 15 bytes).
    pub name: String,
    /// Instructions after the verifier's rewrites (8-byte words). Empty
    /// when the kernel hides them (`kernel.kptr_restrict`, no CAP_SYSLOG).
    pub xlated: Vec<u8>,
    /// Native JIT image; empty when the JIT is off or the image is hidden.
    pub jited: Vec<u8>,
    /// Instructions the verifier processed (5.16+; 0 on older kernels).
    pub verified_insns: u32,
}

/// Query an object with `BPF_OBJ_GET_INFO_BY_FD` into `info`, whose
/// pointer fields must be 0 or point to buffers of the sizes in `info`.
fn obj_info<T: Attr>(fd: BorrowedFd<'_>, info: &mut T) -> Result<(), KernelError> {
    let cmd = Command::ObjGetInfoByFd;
    let mut attr: InfoAttr = zeroed();
    attr.bpf_fd = fd.as_raw_fd() as u32;
    attr.info_len = std::mem::size_of::<T>() as u32;
    attr.info = ptr_u64(info as *mut T);
    // SAFETY: attr.info points to `info`, info_len bytes long; callers
    // only set pointers in `info` to buffers of the lengths stored next
    // to them (see prog_info), so the kernel's copies stay in bounds.
    unsafe { sys_bpf(cmd, &mut attr) }.map_err(|e| KernelError::from_kernel(cmd, e))?;
    Ok(())
}

/// Describe a loaded program, including its xlated and jited bytes. Uses
/// two calls: the first learns the lengths, the second fetches the bytes.
pub fn prog_info(prog: &ProgFd) -> Result<ProgInfo, KernelError> {
    let mut first: BpfProgInfo = zeroed();
    obj_info(prog.as_fd(), &mut first)?;

    let mut xlated = vec![0u8; first.xlated_prog_len as usize];
    let mut jited = vec![0u8; first.jited_prog_len as usize];
    let mut second: BpfProgInfo = zeroed();
    second.xlated_prog_len = first.xlated_prog_len;
    second.xlated_prog_insns = slice_ptr_mut(&mut xlated);
    second.jited_prog_len = first.jited_prog_len;
    second.jited_prog_insns = slice_ptr_mut(&mut jited);
    obj_info(prog.as_fd(), &mut second)?;

    // A loaded program is immutable, but the kernel may report 0 the
    // second time (e.g. kptr_restrict changed); never trust it beyond
    // our buffers.
    xlated.truncate((second.xlated_prog_len as usize).min(xlated.len()));
    jited.truncate((second.jited_prog_len as usize).min(jited.len()));
    Ok(ProgInfo {
        prog_type: second.prog_type,
        id: second.id,
        tag: second.tag,
        name: c_text(&second.name),
        xlated,
        jited,
        verified_insns: second.verified_insns,
    })
}

// ---------------------------------------------------------------------
// Availability and CPUs
// ---------------------------------------------------------------------

/// Why the kernel backend cannot be used on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable {
    /// Human-readable reason, e.g. "bpf(2) not permitted: EPERM — ...".
    pub reason: String,
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for Unavailable {}

/// Probe (once per process, cached) whether programs can be loaded:
/// loads `r0 = 0; exit` as a socket filter.
pub fn availability() -> Result<(), Unavailable> {
    static PROBE: OnceLock<Result<(), Unavailable>> = OnceLock::new();
    PROBE.get_or_init(probe).clone()
}

fn probe() -> Result<(), Unavailable> {
    // r0 = 0 (mov64 imm: b7), exit (95).
    const PROG: [u8; 16] = [
        0xb7, 0, 0, 0, 0, 0, 0, 0, //
        0x95, 0, 0, 0, 0, 0, 0, 0,
    ];
    let req =
        ProgLoad { prog_type: prog_type::SOCKET_FILTER, insns: &PROG, name: "ebpf_lab_probe", ..ProgLoad::default() };
    let e = match prog_load(&req) {
        Ok(_prog) => return Ok(()),
        Err(e) => e,
    };
    let reason = match e.errno() {
        libc::ENOSYS => "bpf(2) not available: ENOSYS — kernel built without \
                         CONFIG_BPF_SYSCALL (or a seccomp filter hides it)"
            .to_string(),
        libc::EPERM => {
            let unpriv = std::fs::read_to_string("/proc/sys/kernel/unprivileged_bpf_disabled")
                .map(|s| format!(" (kernel.unprivileged_bpf_disabled = {})", s.trim()))
                .unwrap_or_default();
            format!(
                "bpf(2) not permitted: EPERM — run as root or set CAP_BPF \
                 (a container's seccomp profile may also block bpf){unpriv}"
            )
        }
        _ => format!("loading a trivial socket filter failed: {e}"),
    };
    Err(Unavailable { reason })
}

/// Number of possible CPUs (`/sys/devices/system/cpu/possible`, e.g.
/// "0-1" → 2), which sizes per-CPU map values in user space. Cached;
/// falls back to `sysconf(_SC_NPROCESSORS_CONF)` if sysfs is unreadable.
pub fn possible_cpus() -> usize {
    static CPUS: OnceLock<usize> = OnceLock::new();
    *CPUS.get_or_init(|| {
        std::fs::read_to_string("/sys/devices/system/cpu/possible")
            .ok()
            .and_then(|s| parse_cpu_list(&s))
            .unwrap_or_else(|| {
                // SAFETY: sysconf has no memory-safety preconditions.
                let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_CONF) };
                usize::try_from(n).ok().filter(|&n| n > 0).unwrap_or(1)
            })
    })
}

/// Count the CPUs in a kernel cpu list such as "0-3,8-11" or "0".
/// `None` for malformed input.
pub(crate) fn parse_cpu_list(s: &str) -> Option<usize> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let mut count = 0usize;
    for part in s.split(',') {
        let part = part.trim();
        let n = match part.split_once('-') {
            Some((a, b)) => {
                let a: usize = a.parse().ok()?;
                let b: usize = b.parse().ok()?;
                b.checked_sub(a)? + 1
            }
            None => {
                part.parse::<usize>().ok()?;
                1
            }
        };
        count = count.checked_add(n)?;
    }
    Some(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("0-1\n"), Some(2));
        assert_eq!(parse_cpu_list("0"), Some(1));
        assert_eq!(parse_cpu_list("0-3,8-11"), Some(8));
        assert_eq!(parse_cpu_list("0,2,4"), Some(3));
        assert_eq!(parse_cpu_list(""), None);
        assert_eq!(parse_cpu_list("3-1"), None);
        assert_eq!(parse_cpu_list("x"), None);
        assert!(possible_cpus() >= 1);
    }

    #[test]
    fn names_are_truncated_and_terminated() {
        let n = obj_name("a_very_long_program_name");
        assert_eq!(&n[..15], b"a_very_long_pro");
        assert_eq!(n[15], 0);
        assert_eq!(c_text(&n), "a_very_long_pro");
    }

    #[test]
    fn zeroed_attrs_are_all_zero() {
        let a: ProgLoadAttr = zeroed();
        assert_eq!(a.prog_type, 0);
        assert_eq!(a.prog_name, [0; 16]);
        assert_eq!(a.fd_array_cnt, 0);
    }

    #[test]
    fn bad_insn_lengths_are_rejected_locally() {
        let req = ProgLoad { insns: &[0x95, 0, 0], ..ProgLoad::default() };
        let e = prog_load(&req).unwrap_err();
        assert!(e.is_local());
        let req = ProgLoad::default();
        assert!(prog_load(&req).unwrap_err().is_local());
    }
}
