//! BPF helper functions: one table ([`helper`], [`helper_by_name`], [`all_helpers`]) with the
//! kernel's numbering, names, prototypes and — for the helpers ebpf-lab runs — implementations.
//!
//! Implementations are engine-independent: they see the program's world only through the
//! [`HelperEnv`] trait, which every engine (interpreter, JIT runtime) implements.
//!
//! Calling convention: arguments in `r1`–`r5` arrive as `[u64; 5]`; the result goes to `r0`.
//! Errors the *kernel* would return to the program (e.g. `-EEXIST` from `map_update_elem`) are
//! ordinary `Ok` results (negative errno, sign-extended); `Err(HelperFault)` is reserved for
//! situations where a verified program could not be — a bad pointer, a bad map reference — and the
//! engine turns it into a diagnostic.
//!
//! `bpf_tail_call` (12) has a prototype but no implementation: it changes control flow, so each
//! engine implements it itself (looking the target up with [`Map::prog_at`]).

mod fib;
mod flow_hash;
mod imp;
mod map_kinds;
pub mod printk;
mod probe;
mod skb;
mod table;

use super::maps::Map;
use std::fmt;

/// What a helper argument must be, after the kernel's `enum bpf_arg_type` (include/linux/bpf.h).
/// The verifier checks the register against it; the names below give the kernel's spelling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArgType {
    /// `ARG_CONST_MAP_PTR`: a map reference loaded by `lddw` (`BPF_PSEUDO_MAP_FD`/`_IDX`).
    ConstMapPtr,
    /// `ARG_PTR_TO_MAP_KEY`: pointer to `key_size` initialised bytes (stack or map value).
    PtrToMapKey,
    /// `ARG_PTR_TO_MAP_VALUE`: pointer to `value_size` initialised bytes.
    PtrToMapValue,
    /// `ARG_PTR_TO_MAP_VALUE | MEM_UNINIT` (formerly `ARG_PTR_TO_UNINIT_MAP_VALUE`): `value_size`
    /// writable bytes the helper fills.
    PtrToUninitMapValue,
    /// `ARG_PTR_TO_MEM`: pointer to initialised memory whose size is the next argument; the helper
    /// may write it.
    PtrToMem,
    /// `ARG_PTR_TO_MEM | MEM_RDONLY`: pointer to initialised memory the helper only reads.
    PtrToMemReadonly,
    /// `ARG_PTR_TO_MEM | PTR_MAYBE_NULL` (`ARG_PTR_TO_MEM_OR_NULL`).
    PtrToMemOrNull,
    /// `ARG_PTR_TO_MEM | PTR_MAYBE_NULL | MEM_RDONLY`.
    PtrToMemReadonlyOrNull,
    /// `ARG_PTR_TO_MEM | MEM_UNINIT | MEM_WRITE` (formerly `ARG_PTR_TO_UNINIT_MEM`): writable memory
    /// the helper fills; need not be initialised.
    PtrToUninitMem,
    /// `ARG_CONST_SIZE`: a known-bounded size of the preceding memory argument, > 0.
    ConstSize,
    /// `ARG_CONST_SIZE_OR_ZERO`: like `ConstSize` but may be 0.
    ConstSizeOrZero,
    /// `ARG_CONST_ALLOC_SIZE_OR_ZERO`: a constant allocation size (`bpf_ringbuf_reserve`).
    ConstAllocSizeOrZero,
    /// `ARG_PTR_TO_CTX`: the context pointer `r1` held at entry.
    PtrToCtx,
    /// `ARG_ANYTHING`: any initialised scalar (or pointer, where the helper allows it).
    Anything,
    /// `ARG_PTR_TO_RINGBUF_MEM | OBJ_RELEASE` (`ARG_PTR_TO_MEM | MEM_RINGBUF`): a record from
    /// `bpf_ringbuf_reserve`, released by the call.
    PtrToRingbufMem,
    /// `ARG_PTR_TO_CONST_STR`: pointer into a read-only map holding a NUL-terminated string.
    PtrToConstStr,
    /// `ARG_PTR_TO_FUNC`: a callback (`lddw` with `BPF_PSEUDO_FUNC`).
    PtrToFunc,
    /// `ARG_PTR_TO_STACK_OR_NULL`: a callback context on the stack, or NULL.
    PtrToStackOrNull,
}

impl ArgType {
    /// The kernel's spelling (`"ARG_CONST_MAP_PTR"`, …) for verifier messages.
    pub const fn kernel_name(self) -> &'static str {
        match self {
            ArgType::ConstMapPtr => "ARG_CONST_MAP_PTR",
            ArgType::PtrToMapKey => "ARG_PTR_TO_MAP_KEY",
            ArgType::PtrToMapValue => "ARG_PTR_TO_MAP_VALUE",
            ArgType::PtrToUninitMapValue => "ARG_PTR_TO_UNINIT_MAP_VALUE",
            ArgType::PtrToMem => "ARG_PTR_TO_MEM",
            ArgType::PtrToMemReadonly => "ARG_PTR_TO_MEM | MEM_RDONLY",
            ArgType::PtrToMemOrNull => "ARG_PTR_TO_MEM_OR_NULL",
            ArgType::PtrToMemReadonlyOrNull => "ARG_PTR_TO_MEM | PTR_MAYBE_NULL | MEM_RDONLY",
            ArgType::PtrToUninitMem => "ARG_PTR_TO_UNINIT_MEM",
            ArgType::ConstSize => "ARG_CONST_SIZE",
            ArgType::ConstSizeOrZero => "ARG_CONST_SIZE_OR_ZERO",
            ArgType::ConstAllocSizeOrZero => "ARG_CONST_ALLOC_SIZE_OR_ZERO",
            ArgType::PtrToCtx => "ARG_PTR_TO_CTX",
            ArgType::Anything => "ARG_ANYTHING",
            ArgType::PtrToRingbufMem => "ARG_PTR_TO_RINGBUF_MEM | OBJ_RELEASE",
            ArgType::PtrToConstStr => "ARG_PTR_TO_CONST_STR",
            ArgType::PtrToFunc => "ARG_PTR_TO_FUNC",
            ArgType::PtrToStackOrNull => "ARG_PTR_TO_STACK_OR_NULL",
        }
    }

    /// Whether this argument is a size (of the memory argument just before it).
    pub const fn is_size(self) -> bool {
        matches!(self, ArgType::ConstSize | ArgType::ConstSizeOrZero)
    }
}

/// What a helper returns in `r0`, after the kernel's `enum bpf_return_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RetType {
    /// `RET_INTEGER`: a scalar.
    Integer,
    /// `RET_VOID`: nothing meaningful (`r0` is unreadable afterwards for the verifier).
    Void,
    /// `RET_PTR_TO_MAP_VALUE_OR_NULL`: a map value pointer, to be checked against NULL.
    PtrToMapValueOrNull,
    /// `RET_PTR_TO_RINGBUF_MEM_OR_NULL` (`RET_PTR_TO_MEM | MEM_RINGBUF | PTR_MAYBE_NULL`): a
    /// reserved record of the requested size that must be submitted or discarded.
    PtrToRingbufMemOrNull,
}

impl RetType {
    /// The kernel's spelling.
    pub const fn kernel_name(self) -> &'static str {
        match self {
            RetType::Integer => "RET_INTEGER",
            RetType::Void => "RET_VOID",
            RetType::PtrToMapValueOrNull => "RET_PTR_TO_MAP_VALUE_OR_NULL",
            RetType::PtrToRingbufMemOrNull => "RET_PTR_TO_RINGBUF_MEM_OR_NULL",
        }
    }
}

/// A helper's signature, as the kernel's `struct bpf_func_proto` states it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuncProto {
    /// The return type.
    pub ret: RetType,
    /// Argument types, `r1` first; arguments past the slice's end are `ARG_DONTCARE`.
    pub args: &'static [ArgType],
    /// Whether only GPL-compatible programs may call it.
    pub gpl_only: bool,
}

/// A helper implementation: the engine's environment and `r1`–`r5`, giving `r0`.
pub type HelperFn = fn(&mut dyn HelperEnv, [u64; 5]) -> Result<u64, HelperFault>;

/// One entry of the helper table.
#[derive(Clone, Copy, Debug)]
pub struct HelperProto {
    /// The kernel's `enum bpf_func_id` value (the `imm` of `call`).
    pub id: u32,
    /// The name without `bpf_` (`"map_lookup_elem"`), as in `BPF_FUNC_map_lookup_elem`.
    pub name: &'static str,
    /// The prototype, when ebpf-lab records it (`None`: known by name only).
    pub proto: Option<FuncProto>,
    /// The implementation, when ebpf-lab runs this helper. `None` for `tail_call` (engines do it)
    /// and for helpers ebpf-lab does not provide.
    pub imp: Option<HelperFn>,
}

impl HelperProto {
    /// `bpf_<name>`, the name C programs use.
    pub fn c_name(&self) -> String {
        format!("bpf_{}", self.name)
    }
}

/// The helper numbered `id`, if the kernel defines that number (0 = `unspec` is in the table but
/// is not callable).
pub fn helper(id: u32) -> Option<&'static HelperProto> {
    table::HELPERS.get(id as usize)
}

/// The helper called `name`, with or without the `bpf_` prefix.
pub fn helper_by_name(name: &str) -> Option<&'static HelperProto> {
    let bare = name.strip_prefix("bpf_").unwrap_or(name);
    table::HELPERS.iter().find(|h| h.name == bare && h.id != 0)
}

/// Every helper, in id order.
pub fn all_helpers() -> &'static [HelperProto] {
    &table::HELPERS
}

/// Whether helper `id` returns something two engines cannot agree on: a clock
/// (`ktime_get_ns`, `jiffies64`, ...), a random number or key, or which CPU or NUMA node runs
/// the program. Results computed from them are not engine differences.
pub fn varies_between_runs(id: u32) -> bool {
    // ktime_get_ns, get_prandom_u32, get_smp_processor_id, get_numa_node_id, jiffies64,
    // ktime_get_boot_ns, ktime_get_coarse_ns, ktime_get_tai_ns; get_hash_recalc (a key drawn at
    // boot). The task's ids are not among them: ebpf-lab's task is a fixed one, and a value
    // computed from it is a real difference from the kernel's.
    matches!(id, 5 | 7 | 8 | 34 | 42 | 118 | 125 | 160 | 208)
}

/// `PROC_PID_INIT_INO`: the inode number of the initial pid namespace.
pub const PROC_PID_INIT_INO: u64 = 0xefff_fffc;

/// The id of `bpf_tail_call`, which engines implement themselves.
pub const BPF_FUNC_TAIL_CALL: u32 = 12;

/// A helper met a situation a verified program cannot cause; the engine reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HelperFault {
    /// Reading or writing `len` bytes at `addr` is out of bounds of any accessible region.
    BadAccess {
        /// Start address.
        addr: u64,
        /// Length of the access.
        len: usize,
        /// Whether it was a write.
        write: bool,
    },
    /// The value passed as a map reference does not designate a map.
    BadMap(u64),
    /// The map exists but is of a type this helper cannot use (e.g. `ringbuf_reserve` on a hash).
    WrongMapType {
        /// The helper.
        helper: &'static str,
        /// The map's type name.
        map_type: &'static str,
    },
    /// `ringbuf_submit`/`discard` on an address that is not a reserved record.
    NotRingbufRecord(u64),
    /// The helper has no implementation in ebpf-lab.
    Unimplemented(u32),
    /// Anything else, in words.
    Other(String),
}

impl fmt::Display for HelperFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HelperFault::BadAccess { addr, len, write } => {
                let what = if *write { "write" } else { "read" };
                write!(f, "invalid {what} of {len} bytes at {addr:#x}")
            }
            HelperFault::BadMap(p) => write!(f, "{p:#x} is not a map reference"),
            HelperFault::WrongMapType { helper, map_type } => {
                write!(f, "bpf_{helper} cannot be used with a {map_type} map")
            }
            HelperFault::NotRingbufRecord(p) => write!(f, "{p:#x} is not a reserved ring buffer record"),
            HelperFault::Unimplemented(id) => match helper(*id) {
                Some(h) => write!(f, "helper bpf_{} ({id}) is not implemented in ebpf-lab", h.name),
                None => write!(f, "unknown helper {id}"),
            },
            HelperFault::Other(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for HelperFault {}

/// The program's world as helpers see it; each engine implements this.
pub trait HelperEnv {
    /// Reads `len` bytes of program-accessible memory at `addr` (bounds-checked).
    fn read(&self, addr: u64, len: usize) -> Result<Vec<u8>, HelperFault>;
    /// Writes `data` to program-accessible, writable memory at `addr` (bounds-checked).
    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), HelperFault>;
    /// Writes `len` zero bytes at `addr`, as [`HelperEnv::write`] would; engines override it so
    /// that a huge `len` from an unverified program is refused without allocating it.
    fn zero(&mut self, addr: u64, len: usize) -> Result<(), HelperFault> {
        self.write(addr, &vec![0; len])
    }
    /// The map a map reference designates (the value `lddw rX, map` put in the register), with
    /// its index in the program's map list.
    fn map_by_ptr(&mut self, map_ptr: u64) -> Result<(usize, &mut Map), HelperFault>;
    /// The map at `index` of the program's map list.
    fn map_mut(&mut self, index: usize) -> Result<&mut Map, HelperFault>;
    /// The program address of byte `offset` of map `map_index`'s storage.
    fn map_value_addr(&self, map_index: usize, offset: usize) -> u64;
    /// The `(map index, storage offset)` a program address falls in, if it is inside a map.
    fn map_offset_of(&self, addr: u64) -> Option<(usize, usize)>;
    /// The CPU the program runs on (also selects per-CPU map copies).
    fn cpu(&self) -> u32;
    /// `CLOCK_MONOTONIC` in nanoseconds.
    fn now_ns(&self) -> u64;
    /// `CLOCK_BOOTTIME` in nanoseconds.
    fn boot_ns(&self) -> u64;
    /// The next pseudo-random number (the engine seeds it so runs are reproducible).
    fn prandom_u32(&mut self) -> u32;
    /// `tgid << 32 | pid` of the "current" task.
    fn pid_tgid(&self) -> u64;
    /// The pid namespace of the "current" task, as `(dev, ino)` of its `/proc/PID/ns/pid`.
    fn pid_ns(&self) -> (u64, u64) {
        (0, PROC_PID_INIT_INO)
    }
    /// The key of `bpf_get_hash_recalc`'s flow hash (the kernel draws its key at boot).
    fn hash_key(&self) -> u64 {
        0
    }
    /// `gid << 32 | uid` of the "current" task.
    fn uid_gid(&self) -> u64;
    /// The current task's name (`task->comm`), NUL-padded.
    fn comm(&self) -> [u8; 16];
    /// One `bpf_trace_printk` message, exactly as formatted (it may or may not end with `\n`;
    /// trace_pipe shows each message on its own line).
    fn trace(&mut self, message: String);
    /// `len` bytes at `offset` from the skb's `data` (`skb_header_pointer`): `None` when the
    /// program has no skb or the range passes the packet's end.
    fn skb_bytes(&self, offset: u64, len: usize) -> Option<Vec<u8>> {
        let _ = (offset, len);
        None
    }
    /// Writes `data` at `offset` from the skb's `data` (`bpf_skb_store_bytes`); `false` when the
    /// program has no skb or the range passes the packet's end.
    fn skb_store(&mut self, offset: u64, data: &[u8]) -> bool {
        let _ = (offset, data);
        false
    }
    /// The skb's length; `None` when the program has no skb.
    fn skb_len(&self) -> Option<u64> {
        None
    }
    /// Bytes from the skb's `data` to its network header (14 for tc, 0 for the types whose test
    /// run starts at the network header); `None` without an skb.
    fn skb_mac_len(&self) -> Option<u64> {
        None
    }
    /// Moves the skb's network header to `mac_len` bytes from `data` (a helper pushed or pulled a
    /// header in front of it).
    fn set_skb_mac_len(&mut self, mac_len: u64) {
        let _ = mac_len;
    }
    /// A 4-byte `__sk_buff` field as the skb holds it now; `None` without an skb.
    fn skb_field(&self, name: &str) -> Option<u32> {
        let _ = name;
        None
    }
    /// Sets a 4-byte `__sk_buff` field (the skb's metadata a helper changed); `false` without an
    /// skb.
    fn set_skb_field(&mut self, name: &str, v: u32) -> bool {
        let _ = (name, v);
        false
    }
    /// Inserts `delta` zero bytes (or removes `-delta` bytes) at `offset` from the skb's `data`;
    /// `false` without an skb or past the packet's end.
    fn skb_resize(&mut self, offset: u64, delta: i64) -> bool {
        let _ = (offset, delta);
        false
    }
    /// Records the `struct bpf_tunnel_key` set by `bpf_skb_set_tunnel_key` as the run's output.
    fn set_tunnel_key(&mut self, key: Vec<u8>) {
        let _ = key;
    }
    /// An XDP program's packet pointers `[data_meta, data, data_end]`; `None` outside XDP.
    fn xdp_pointers(&self) -> Option<[u64; 3]> {
        None
    }
    /// The map reference (what `lddw rX, map` loads) of map `index`: what a lookup in a map of
    /// maps returns.
    fn map_ref(&self, index: usize) -> u64 {
        super::memory::MAP_PTR_BASE + index as u64 * super::memory::MAP_PTR_STRIDE
    }
    /// Records where `bpf_redirect`/`bpf_redirect_map` sent the packet (the last call wins).
    fn set_redirect(&mut self, target: String) {
        let _ = target;
    }
    /// Moves an XDP program's packet pointers (already checked against the buffer's bounds):
    /// the context fields and the packet the program may access follow; bytes newly past the
    /// old `data_end` read as zeros.
    fn set_xdp_pointers(&mut self, pointers: [u64; 3]) -> Result<(), HelperFault> {
        let _ = pointers;
        Err(HelperFault::Other("no XDP packet in this run".into()))
    }
}

/// Runs helper `id` with arguments `args`: the helper's [`HelperProto::imp`], or
/// [`HelperFault::Unimplemented`] (also for `tail_call`, which the engine must intercept first).
pub fn call(env: &mut dyn HelperEnv, id: u32, args: [u64; 5]) -> Result<u64, HelperFault> {
    match helper(id).and_then(|h| h.imp) {
        Some(f) => f(env, args),
        None => Err(HelperFault::Unimplemented(id)),
    }
}
