//! [`Program`]: the one form every engine consumes — instructions, declared maps, program type,
//! and a source map from instruction to source span so any later error can point at its line.

use crate::isa::{self, Insn};
use std::fmt;
use std::ops::Range;

/// The kind of program, which fixes its context (what `r1` points to at entry), its return
/// convention and, in the kernel backend, the kernel program type used to run it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ProgType {
    /// The conformance convention: `r1` points to an input buffer, `r2` holds its length.
    #[default]
    Mem,
    /// XDP: `r1` is a `struct xdp_md`; returns an `XDP_*` action.
    Xdp,
    /// Socket filter: `r1` is a `struct __sk_buff`; returns the bytes to keep.
    Socket,
    /// Traffic control classifier (`BPF_PROG_TYPE_SCHED_CLS`): `r1` is a `struct __sk_buff`.
    Tc,
    /// Syscall tracepoint (`syscalls/sys_enter_*`, `sys_exit_*`): `r1` points to its arguments.
    Tracepoint,
    /// `BPF_PROG_TYPE_SYSCALL`: `r1` points to a plain context buffer.
    Syscall,
    /// `BPF_PROG_TYPE_KPROBE` (kprobes, uprobes and their return probes): `r1` is the probed
    /// task's `struct pt_regs` (x86-64 layout), read-only.
    Kprobe,
    /// `BPF_PROG_TYPE_RAW_TRACEPOINT`: `r1` points to the tracepoint's raw arguments, up to
    /// twelve `u64`s (`struct bpf_raw_tracepoint_args`).
    RawTracepoint,
    /// `BPF_PROG_TYPE_CGROUP_SKB`: a `struct __sk_buff` seen from the network header on, at a
    /// cgroup's ingress or egress; returns 1 to let the packet through, 0 to drop it.
    CgroupSkb,
    /// `BPF_PROG_TYPE_CGROUP_SOCK` attached at socket creation (`cgroup/sock_create`): `r1` is
    /// the new socket's `struct bpf_sock`; returns 1 to allow, 0 to refuse.
    CgroupSock,
    /// `BPF_PROG_TYPE_SK_LOOKUP`: `r1` is a `struct bpf_sk_lookup` describing a connection
    /// looking for a socket; returns `SK_PASS` (1) or `SK_DROP` (0).
    SkLookup,
    /// `BPF_PROG_TYPE_LWT_IN`: a lightweight tunnel's input hook; `__sk_buff` from the network
    /// header, packet read-only.
    LwtIn,
    /// `BPF_PROG_TYPE_LWT_OUT`: a lightweight tunnel's output hook (as `lwt_in`).
    LwtOut,
    /// `BPF_PROG_TYPE_LWT_XMIT`: a lightweight tunnel's transmit hook; may write the packet and
    /// change its size.
    LwtXmit,
}

impl ProgType {
    /// Every program type, in the order the CLI lists them.
    pub const ALL: [ProgType; 14] = [
        ProgType::Mem,
        ProgType::Xdp,
        ProgType::Socket,
        ProgType::Tc,
        ProgType::Tracepoint,
        ProgType::Syscall,
        ProgType::Kprobe,
        ProgType::RawTracepoint,
        ProgType::CgroupSkb,
        ProgType::CgroupSock,
        ProgType::SkLookup,
        ProgType::LwtIn,
        ProgType::LwtOut,
        ProgType::LwtXmit,
    ];

    /// The name used by `.prog` and `--prog-type` (libbpf's section names where one exists).
    pub const fn name(self) -> &'static str {
        match self {
            ProgType::Mem => "mem",
            ProgType::Xdp => "xdp",
            ProgType::Socket => "socket",
            ProgType::Tc => "tc",
            ProgType::Tracepoint => "tracepoint",
            ProgType::Syscall => "syscall",
            ProgType::Kprobe => "kprobe",
            ProgType::RawTracepoint => "raw_tracepoint",
            ProgType::CgroupSkb => "cgroup_skb",
            ProgType::CgroupSock => "cgroup_sock",
            ProgType::SkLookup => "sk_lookup",
            ProgType::LwtIn => "lwt_in",
            ProgType::LwtOut => "lwt_out",
            ProgType::LwtXmit => "lwt_xmit",
        }
    }

    /// Whether `r1` is a `struct __sk_buff` over a packet.
    pub const fn is_skb(self) -> bool {
        matches!(
            self,
            ProgType::Socket
                | ProgType::Tc
                | ProgType::CgroupSkb
                | ProgType::LwtIn
                | ProgType::LwtOut
                | ProgType::LwtXmit
        )
    }

    /// Whether the program takes a packet (`--packet`).
    pub const fn takes_packet(self) -> bool {
        self.is_skb() || matches!(self, ProgType::Xdp)
    }

    /// Whether an skb program sees its packet from the network header on, as
    /// `BPF_PROG_TEST_RUN` sets up every skb type but tc's (and hands the packet back behind a
    /// zeroed Ethernet header).
    pub const fn skb_from_network_header(self) -> bool {
        self.is_skb() && !matches!(self, ProgType::Tc)
    }

    /// Parses a program type name (also accepts libbpf's aliases `classifier`, `tp`, `raw_tp`,
    /// the probe kinds that share `kprobe`'s context, and `cgroup/sock`).
    pub fn from_name(name: &str) -> Option<ProgType> {
        Some(match name {
            "mem" => ProgType::Mem,
            "xdp" => ProgType::Xdp,
            "socket" | "socket_filter" => ProgType::Socket,
            "tc" | "classifier" | "sched_cls" => ProgType::Tc,
            "tracepoint" | "tp" => ProgType::Tracepoint,
            "syscall" => ProgType::Syscall,
            "kprobe" | "kretprobe" | "uprobe" | "uretprobe" => ProgType::Kprobe,
            "raw_tracepoint" | "raw_tp" => ProgType::RawTracepoint,
            "cgroup_skb" => ProgType::CgroupSkb,
            "cgroup_sock" | "cgroup/sock" | "cgroup/sock_create" => ProgType::CgroupSock,
            "sk_lookup" => ProgType::SkLookup,
            "lwt_in" => ProgType::LwtIn,
            "lwt_out" => ProgType::LwtOut,
            "lwt_xmit" => ProgType::LwtXmit,
            _ => return None,
        })
    }
}

impl fmt::Display for ProgType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Map types ebpf-lab implements, with the kernel's `enum bpf_map_type` numbering.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MapType {
    /// `BPF_MAP_TYPE_HASH` (1).
    Hash,
    /// `BPF_MAP_TYPE_ARRAY` (2).
    Array,
    /// `BPF_MAP_TYPE_PROG_ARRAY` (3): tail-call targets.
    ProgArray,
    /// `BPF_MAP_TYPE_PERCPU_HASH` (5).
    PercpuHash,
    /// `BPF_MAP_TYPE_PERCPU_ARRAY` (6).
    PercpuArray,
    /// `BPF_MAP_TYPE_LRU_HASH` (9).
    LruHash,
    /// `BPF_MAP_TYPE_RINGBUF` (27).
    Ringbuf,
    /// `BPF_MAP_TYPE_PERF_EVENT_ARRAY` (4): per-CPU perf buffers `bpf_perf_event_output` writes to.
    PerfEventArray,
    /// `BPF_MAP_TYPE_LPM_TRIE` (11): longest-prefix match on `struct bpf_lpm_trie_key`.
    LpmTrie,
    /// `BPF_MAP_TYPE_ARRAY_OF_MAPS` (12): an array whose values are maps.
    ArrayOfMaps,
    /// `BPF_MAP_TYPE_HASH_OF_MAPS` (13): a hash whose values are maps.
    HashOfMaps,
    /// `BPF_MAP_TYPE_DEVMAP` (14): network devices, a `bpf_redirect_map` target.
    Devmap,
    /// `BPF_MAP_TYPE_CPUMAP` (16): CPUs, a `bpf_redirect_map` target.
    Cpumap,
    /// `BPF_MAP_TYPE_XSKMAP` (17): AF_XDP sockets, a `bpf_redirect_map` target.
    Xskmap,
    /// `BPF_MAP_TYPE_QUEUE` (22): FIFO of values (`bpf_map_push_elem`/`pop`/`peek`).
    Queue,
    /// `BPF_MAP_TYPE_STACK` (23): LIFO of values.
    Stack,
}

impl MapType {
    /// Every map type, for tables and generators.
    pub const ALL: [MapType; 16] = [
        MapType::Hash,
        MapType::Array,
        MapType::ProgArray,
        MapType::PercpuHash,
        MapType::PercpuArray,
        MapType::LruHash,
        MapType::Ringbuf,
        MapType::PerfEventArray,
        MapType::LpmTrie,
        MapType::ArrayOfMaps,
        MapType::HashOfMaps,
        MapType::Devmap,
        MapType::Cpumap,
        MapType::Xskmap,
        MapType::Queue,
        MapType::Stack,
    ];

    /// The kernel's `enum bpf_map_type` value.
    pub const fn kernel_id(self) -> u32 {
        match self {
            MapType::Hash => 1,
            MapType::Array => 2,
            MapType::ProgArray => 3,
            MapType::PercpuHash => 5,
            MapType::PercpuArray => 6,
            MapType::LruHash => 9,
            MapType::Ringbuf => 27,
            MapType::PerfEventArray => 4,
            MapType::LpmTrie => 11,
            MapType::ArrayOfMaps => 12,
            MapType::HashOfMaps => 13,
            MapType::Devmap => 14,
            MapType::Cpumap => 16,
            MapType::Xskmap => 17,
            MapType::Queue => 22,
            MapType::Stack => 23,
        }
    }

    /// The name used in `.map` directives (libbpf's, lower case, without `BPF_MAP_TYPE_`).
    pub const fn name(self) -> &'static str {
        match self {
            MapType::Hash => "hash",
            MapType::Array => "array",
            MapType::ProgArray => "prog_array",
            MapType::PercpuHash => "percpu_hash",
            MapType::PercpuArray => "percpu_array",
            MapType::LruHash => "lru_hash",
            MapType::Ringbuf => "ringbuf",
            MapType::PerfEventArray => "perf_event_array",
            MapType::LpmTrie => "lpm_trie",
            MapType::ArrayOfMaps => "array_of_maps",
            MapType::HashOfMaps => "hash_of_maps",
            MapType::Devmap => "devmap",
            MapType::Cpumap => "cpumap",
            MapType::Xskmap => "xskmap",
            MapType::Queue => "queue",
            MapType::Stack => "stack",
        }
    }

    /// Whether values are maps (`ARRAY_OF_MAPS`, `HASH_OF_MAPS`): a lookup gives the inner map.
    pub const fn is_map_in_map(self) -> bool {
        matches!(self, MapType::ArrayOfMaps | MapType::HashOfMaps)
    }

    /// Whether the map is a `bpf_redirect_map` target (`DEVMAP`, `CPUMAP`, `XSKMAP`).
    pub const fn is_redirect_target(self) -> bool {
        matches!(self, MapType::Devmap | MapType::Cpumap | MapType::Xskmap)
    }

    /// Parses a `.map` type name.
    pub fn from_name(name: &str) -> Option<MapType> {
        MapType::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// A map the program declares (the `.map` directive), referenced from `lddw` by its index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapDef {
    /// The map's name, as written in the source.
    pub name: String,
    /// Its type.
    pub map_type: MapType,
    /// Key size in bytes (0 for ringbuf).
    pub key_size: u32,
    /// Value size in bytes (0 for ringbuf).
    pub value_size: u32,
    /// Maximum entries (for ringbuf: the buffer size in bytes, a power of two and page multiple).
    pub max_entries: u32,
    /// `map_flags` as given to `BPF_MAP_CREATE`.
    pub flags: u32,
    /// What libbpf's map definitions add (inner map, `.values`, `map_extra`, `numa_node`, BTF
    /// type names); all empty for maps declared in assembly.
    pub extra: MapExtra,
}

impl MapDef {
    /// Whether programs may only read the map's values: `BPF_F_RDONLY_PROG`, which the kernel
    /// also sets itself on a devmap (a lookup points at the device's ifindex).
    pub fn read_only_to_programs(&self) -> bool {
        self.flags & crate::runtime::maps::BPF_F_RDONLY_PROG != 0 || self.map_type == MapType::Devmap
    }
}

/// The parts of a libbpf map definition beyond type, sizes and flags.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct MapExtra {
    /// Map-in-map: the inner map's definition (`__array(values, struct { ... })`), which every
    /// map stored in it must match.
    pub inner: Option<Box<MapDef>>,
    /// Static initialisation (`.values = { [i] = &map }`): slot and the name of the map stored there.
    pub init: Vec<(u32, String)>,
    /// `map_extra` (`BPF_MAP_CREATE`'s 64-bit extra: bloom filter hashes, arena address).
    pub map_extra: u64,
    /// `numa_node`, when given (libbpf then sets `BPF_F_NUMA_NODE`).
    pub numa_node: Option<u32>,
    /// `pinning`: `LIBBPF_PIN_BY_NAME` asks for the map to be pinned under bpffs (ebpf-lab's maps
    /// live for one run, so it is only recorded).
    pub pin_by_name: bool,
    /// The BTF names of the key and value types (`__type(key, struct flow)`), for map dumps.
    pub key_type: Option<String>,
    /// See [`MapExtra::key_type`].
    pub value_type: Option<String>,
}

/// Where a program's text came from, kept so diagnostics can quote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// File name as given by the user (or `<stdin>`, `<hex>`).
    pub name: String,
    /// The full text.
    pub text: String,
}

impl Source {
    /// 1-based line and column of a byte offset (columns count characters).
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..self.text.floor_char_boundary_compat(offset)];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }
}

/// `str::floor_char_boundary` is unstable; this is the same for our purposes.
trait FloorCharBoundary {
    fn floor_char_boundary_compat(&self, i: usize) -> usize;
}

impl FloorCharBoundary for str {
    fn floor_char_boundary_compat(&self, mut i: usize) -> usize {
        while i > 0 && !self.is_char_boundary(i) {
            i -= 1;
        }
        i
    }
}

/// The C source position of an instruction, from an ELF object's `.BTF.ext` line info.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CLine {
    /// The C file, as clang was given it.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column (0 when clang did not record one).
    pub col: u32,
    /// The line's text, as stored in the object.
    pub text: String,
}

/// An ELF program's BTF as `BPF_PROG_LOAD` takes it: the object's `.BTF` and the func and line
/// records of the linked code, `insn_off` counted in slots of [`Program::insns`].
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ProgramBtf {
    /// The `.BTF` section, loaded with `BPF_BTF_LOAD`.
    pub blob: Vec<u8>,
    /// (`insn_off`, `type_id` of its `FUNC`) of each function, in order.
    pub func_info: Vec<[u32; 2]>,
    /// (`insn_off`, `file_name_off`, `line_off`, `line_col`), by increasing `insn_off`; empty
    /// when some function lacks a line at its start (the kernel would refuse them).
    pub line_info: Vec<[u32; 4]>,
}

/// A whole eBPF program, ready for any engine.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Program {
    /// Instructions in order; `lddw` is one entry covering two slots.
    pub insns: Vec<Insn>,
    /// Declared maps; `lddw` with `ImmSrc::MapIdx`/`MapIdxValue` refers to them by index.
    pub maps: Vec<MapDef>,
    /// The program type.
    pub prog_type: ProgType,
    /// The source text, when the program was assembled.
    pub source: Option<Source>,
    /// Byte range in `source` of each instruction (parallel to `insns`; empty without source).
    pub spans: Vec<Range<usize>>,
    /// Sections of global variables (C programs), each held in one of `maps`.
    pub globals: Vec<crate::global_data::GlobalSection>,
    /// Instructions poisoned for CO-RE relocations the running kernel cannot satisfy (index into
    /// `insns`, and the field, type or enumerator it lacks), so an engine reaching one can say so.
    pub core_poisoned: Vec<(usize, String)>,
    /// The ELF section the program came from, when it came from an object (its name gave the
    /// program type).
    pub elf_section: Option<String>,
    /// C position of each instruction of an ELF program with line info (parallel to `insns`;
    /// empty otherwise). `source`/`spans` then hold the program's main C file, so diagnostics
    /// quote it; this keeps the exact file of instructions inlined from headers.
    pub c_lines: Vec<Option<CLine>>,
    /// BTF func and line info for the kernel, when the object has it for every function.
    pub btf: Option<ProgramBtf>,
}

impl Program {
    /// A program from bare instructions: no source, no maps, type `mem`.
    pub fn from_insns(insns: Vec<Insn>) -> Program {
        Program { insns, ..Program::default() }
    }

    /// Decodes raw bytecode (no source, no maps, type `mem`).
    pub fn from_bytes(bytes: &[u8]) -> Result<Program, isa::DecodeError> {
        Ok(Program::from_insns(isa::decode(bytes)?))
    }

    /// The bytecode.
    pub fn to_bytes(&self) -> Vec<u8> {
        isa::encode(&self.insns)
    }

    /// Slot index of each instruction, plus the total slot count at the end.
    pub fn slot_pcs(&self) -> Vec<usize> {
        isa::slot_pcs(&self.insns)
    }

    /// The program's slots, for resolving jumps.
    pub fn slots(&self) -> Slots {
        // One pass for both tables (every JIT compile and interpreter load builds them).
        let n = self.insns.len();
        let mut pcs = Vec::with_capacity(n + 1);
        let mut at_slot = Vec::with_capacity(n + 1);
        for (i, insn) in self.insns.iter().enumerate() {
            pcs.push(at_slot.len());
            at_slot.push(i as u32);
            if insn.slots() == 2 {
                at_slot.push(Slots::INSIDE_LDDW);
            }
        }
        pcs.push(at_slot.len());
        at_slot.push(n as u32);
        Slots { pcs, at_slot }
    }

    /// Index of the map called `name`.
    pub fn map_index(&self, name: &str) -> Option<usize> {
        self.maps.iter().position(|m| m.name == name)
    }

    /// Source span of instruction `index`, if the program has a source.
    pub fn span(&self, index: usize) -> Option<Range<usize>> {
        self.spans.get(index).cloned()
    }

    /// `file:line:col` of instruction `index`, if the program has a source (or C line info).
    pub fn location(&self, index: usize) -> Option<String> {
        if let Some(Some(c)) = self.c_lines.get(index) {
            return Some(format!("{}:{}:{}", c.file, c.line, c.col.max(1)));
        }
        let src = self.source.as_ref()?;
        let span = self.span(index)?;
        let (line, col) = src.line_col(span.start);
        Some(format!("{}:{}:{}", src.name, line, col))
    }
}

/// Which instruction each slot holds, to resolve branch offsets (counted in slots, where `lddw`
/// takes two) to instruction indices, as a loader does.
pub struct Slots {
    /// Slot pc of each instruction, plus the total slot count.
    pub pcs: Vec<usize>,
    /// The instruction starting at each slot ([`Slots::INSIDE_LDDW`] for the second slot of
    /// `lddw`); the end maps to `insns.len()`.
    at_slot: Vec<u32>,
}

impl Slots {
    /// `at_slot` of the second slot of `lddw` (programs have far fewer instructions).
    const INSIDE_LDDW: u32 = u32::MAX;

    /// The instruction a branch at instruction `i` with slot offset `rel` lands on
    /// (`insns.len()` for just past the end), or why a loader would refuse it.
    pub fn target(&self, i: usize, rel: i64) -> Result<usize, String> {
        let total = self.at_slot.len() - 1;
        let slot = self.pcs[i] as i64 + 1 + rel;
        if slot < 0 || slot > total as i64 {
            return Err(format!("jump out of range from insn {} to {}", self.pcs[i], slot));
        }
        match self.at_slot[slot as usize] {
            Slots::INSIDE_LDDW => Err(format!("jump from insn {} into the middle of lddw at {}", self.pcs[i], slot)),
            t => Ok(t as usize),
        }
    }
}
