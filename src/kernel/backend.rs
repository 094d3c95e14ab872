//! Running a [`Program`] in the Linux kernel: create its maps, load it (the kernel's verdict and
//! log), run it with `BPF_PROG_TEST_RUN`, and read everything back.
//!
//! ## How ebpf-lab program types map to kernel program types
//! | ebpf-lab     | verified as            | run as (test_run)                                   |
//! |--------------|------------------------|-----------------------------------------------------|
//! | `mem`        | `SYSCALL` (sleepable)  | `SYSCALL`: the input buffer is element 0 of a one-element array map; the wrapper sets `r1` to that map value and `r2` to its length, so the verifier checks every access against the buffer's size |
//! | `xdp`        | `XDP`                  | `XDP`: packet in `data_in`, packet out read back    |
//! | `socket`     | `SOCKET_FILTER`        | `SOCKET_FILTER`: packet in, `__sk_buff` ctx in/out  |
//! | `tc`         | `SCHED_CLS`            | `SCHED_CLS`: packet in/out, `__sk_buff` ctx in/out  |
//! | `tracepoint` | `TRACEPOINT`           | `SYSCALL`: the kernel has no test_run for tracepoints, so the same bytecode runs with the tracepoint record as a plain ctx buffer (same layout) |
//! | `syscall`    | `SYSCALL` (sleepable)  | `SYSCALL`: ctx buffer in, written back in place     |
//! | `kprobe`     | `KPROBE`               | `SYSCALL`, as `tracepoint`: the kernel has no test_run for kprobes (ENOTSUPP); `struct pt_regs` is the ctx buffer |
//! | `cgroup_sock`| `CGROUP_SOCK`          | `SYSCALL`, as `tracepoint` (no test_run either); `struct bpf_sock` in, written back |
//! | `raw_tracepoint` | `RAW_TRACEPOINT`   | `RAW_TRACEPOINT`: the arguments as ctx in; no repeat, no ctx out |
//! | `sk_lookup`  | `SK_LOOKUP` (attach type `BPF_SK_LOOKUP`) | `SK_LOOKUP`: `struct bpf_sk_lookup` in and out |
//! | `cgroup_skb`, `lwt_in`, `lwt_out`, `lwt_xmit` | the same | as `socket`: packet from the network header, `__sk_buff` ctx in/out |
//!
//! Limits: `repeat` is always 1 (with repeat > 1 the kernel does not reset packet or ctx
//! between runs, so a cross-check would compare different things); SYSCALL programs cannot
//! repeat at all.
//!
//! ## The full 64-bit r0
//! test_run reports only the low 32 bits of r0. To see all 64, the program runs inside the
//! [`wrapper`]: every `exit` of the main program becomes a jump to a three-instruction epilogue
//! that stores r0 into a one-element array map, so the wrapper costs no frame, no stack and no
//! instruction number. `mem` programs are also verified inside it (it sets r1/r2 for them); the
//! log is turned back into the program's own. Other types are verified as written. A program the
//! wrapper cannot host (a main program with no `exit`) runs unwrapped and reports 32 bits.

use super::error::KernelError;
use super::func_btf;
use super::sys::{self, map_type as kmap, prog_flags, prog_type as kprog, MapFd, ProgFd, ProgLoad, TestRun};
use super::wrapper::{self, MemBuffer, Wrapped};
use crate::isa::{self, Insn};
use crate::program::{MapDef, MapType, ProgType, Program, ProgramBtf};
use std::os::fd::AsRawFd;

/// A map's contents as (key, value) byte pairs.
pub type MapEntries = Vec<(Vec<u8>, Vec<u8>)>;

/// How to load a program.
#[derive(Clone, Copy, Debug, Default)]
pub struct LoadOptions {
    /// Verifier log level for the verdict load: 0 (none), 1, 2 (every instruction) or 4 (stats).
    pub log_level: u32,
    /// Extra `prog_flags` (e.g. `BPF_F_TEST_STATE_FREQ`).
    pub prog_flags: u32,
    /// For `mem` programs: the input buffer's length, which the wrapper puts in `r2`. The
    /// verifier sees it as a constant, so it is part of what is verified.
    pub mem_len: u32,
    /// Load as this kernel program type (`sys::prog_type`) instead of the one the program's
    /// ebpf-lab type maps to: attaching to a kprobe or a raw tracepoint needs their own types.
    pub kernel_prog_type: Option<u32>,
}

/// The kernel's answer to loading a program.
#[derive(Debug)]
pub struct Verdict {
    /// The verifier log (empty when no log was asked for and the program was accepted).
    pub log: String,
    /// Instructions the verifier processed (`verified_insns`), when accepted.
    pub verified_insns: Option<u32>,
    /// The rejection, if any.
    pub error: Option<KernelError>,
}

impl Verdict {
    /// True when the kernel accepted the program.
    pub fn accepted(&self) -> bool {
        self.error.is_none()
    }
}

/// One run's results.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelRun {
    /// r0 when the program exited.
    pub r0: u64,
    /// How many low bits of `r0` the kernel reported: 64 through the wrapper, else 32.
    pub r0_bits: u32,
    /// The packet after the run (XDP, socket, tc).
    pub data_out: Option<Vec<u8>>,
    /// The context after the run (syscall ctx buffer, `__sk_buff`, `xdp_md`).
    pub ctx_out: Option<Vec<u8>>,
    /// Kernel-measured run time in nanoseconds.
    pub duration_ns: u32,
}

/// What to feed a run.
#[derive(Clone, Debug, Default)]
pub struct KernelInput<'a> {
    /// Packet (`xdp`, `socket`, `tc`).
    pub packet: Option<&'a [u8]>,
    /// Context bytes: the input buffer for `mem`, the record for `tracepoint`, the ctx buffer for
    /// `syscall`, or a `__sk_buff`/`xdp_md` for the packet types.
    pub ctx: Option<&'a [u8]>,
}

/// A program loaded into the kernel together with its maps.
#[derive(Debug)]
pub struct KernelProgram {
    prog_type: ProgType,
    mem_len: usize,
    /// The array map holding a `mem` program's buffer.
    mem_map: Option<MapFd>,
    maps: Vec<MapFd>,
    verdict: Verdict,
    runner: Option<Runner>,
    /// The program as the verdict loaded it (not for `mem`, whose verdict is the wrapper's), kept
    /// so it can be attached to a real hook.
    loaded: Option<ProgFd>,
    /// The perf events behind perf event arrays, open while the program may run.
    _perf: Vec<super::perf::PerfEvents>,
}

#[derive(Debug)]
struct Runner {
    fd: ProgFd,
    r0_map: Option<MapFd>,
}

/// Kernel program type used to verify a program of type `t`.
pub fn verify_type(t: ProgType) -> u32 {
    match t {
        ProgType::Mem | ProgType::Syscall => kprog::SYSCALL,
        ProgType::Xdp => kprog::XDP,
        ProgType::Socket => kprog::SOCKET_FILTER,
        ProgType::Tc => kprog::SCHED_CLS,
        ProgType::Tracepoint => kprog::TRACEPOINT,
        ProgType::Kprobe => kprog::KPROBE,
        ProgType::RawTracepoint => kprog::RAW_TRACEPOINT,
        ProgType::CgroupSkb => kprog::CGROUP_SKB,
        ProgType::CgroupSock => kprog::CGROUP_SOCK,
        ProgType::SkLookup => kprog::SK_LOOKUP,
        ProgType::LwtIn => kprog::LWT_IN,
        ProgType::LwtOut => kprog::LWT_OUT,
        ProgType::LwtXmit => kprog::LWT_XMIT,
    }
}

/// Kernel program type used to run a program of type `t` with `BPF_PROG_TEST_RUN`.
pub fn run_type(t: ProgType) -> u32 {
    match t {
        // No test_run for these (ENOTSUPP): the same bytecode runs on the context's bytes.
        ProgType::Tracepoint | ProgType::Kprobe | ProgType::CgroupSock => kprog::SYSCALL,
        other => verify_type(other),
    }
}

/// Why the kernel cannot test-run programs of type `t` as themselves, when it cannot: `check`
/// says it once, next to the kernel column that ran the bytecode as a `SYSCALL` program.
pub fn test_run_substitute(t: ProgType) -> Option<String> {
    (run_type(t) != verify_type(t) && t != ProgType::Mem).then(|| {
        format!(
            "the kernel cannot test-run {t} programs (BPF_PROG_TEST_RUN: ENOTSUPP); its column verified the program as \
             {t} and ran the same bytecode as a SYSCALL program on the same context bytes"
        )
    })
}

/// `expected_attach_type` the kernel requires at load for type `kernel_type` (`BPF_SK_LOOKUP`
/// for sk_lookup programs; 0, the default the kernel fixes up, for the rest).
fn expected_attach_type(kernel_type: u32) -> u32 {
    /// `BPF_SK_LOOKUP` in `enum bpf_attach_type`.
    const BPF_SK_LOOKUP: u32 = 36;
    if kernel_type == kprog::SK_LOOKUP {
        BPF_SK_LOOKUP
    } else {
        0
    }
}

fn flags_for(kernel_type: u32, extra: u32) -> u32 {
    // SYSCALL programs must be sleepable to be loaded at all.
    extra | if kernel_type == kprog::SYSCALL { prog_flags::SLEEPABLE } else { 0 }
}

fn kernel_map_type(t: MapType) -> u32 {
    match t {
        MapType::Hash => kmap::HASH,
        MapType::Array => kmap::ARRAY,
        MapType::ProgArray => kmap::PROG_ARRAY,
        MapType::PercpuHash => kmap::PERCPU_HASH,
        MapType::PercpuArray => kmap::PERCPU_ARRAY,
        MapType::LruHash => kmap::LRU_HASH,
        MapType::Ringbuf => kmap::RINGBUF,
        MapType::PerfEventArray => kmap::PERF_EVENT_ARRAY,
        MapType::LpmTrie => kmap::LPM_TRIE,
        MapType::ArrayOfMaps => kmap::ARRAY_OF_MAPS,
        MapType::HashOfMaps => kmap::HASH_OF_MAPS,
        MapType::Devmap => kmap::DEVMAP,
        MapType::Cpumap => kmap::CPUMAP,
        MapType::Xskmap => kmap::XSKMAP,
        MapType::Queue => kmap::QUEUE,
        MapType::Stack => kmap::STACK,
    }
}

/// Creates the kernel map for `def`, with its inner map template (made for the occasion and
/// closed again: the kernel keeps only its shape), NUMA node and `map_extra`.
fn create_map(def: &MapDef) -> Result<MapFd, KernelError> {
    let inner = match &def.extra.inner {
        Some(inner) => Some(create_map(inner)?),
        None => None,
    };
    sys::map_create_with(
        kernel_map_type(def.map_type),
        (def.key_size, def.value_size, def.max_entries),
        def.flags,
        &object_name(&def.name),
        sys::MapCreateExtra {
            inner_map_fd: inner.as_ref().map(|m| m.as_raw_fd()),
            numa_node: def.extra.numa_node.unwrap_or(0),
            map_extra: def.extra.map_extra,
        },
    )
}

/// Stores each map's static `.values` (maps of maps: the named maps' fds), as libbpf does.
fn init_values(program: &Program, maps: &[MapFd]) -> Result<(), KernelError> {
    for (def, map) in program.maps.iter().zip(maps) {
        for (slot, name) in &def.extra.init {
            let Some(inner) = program.map_index(name).and_then(|i| maps.get(i)) else { continue };
            sys::map_update(map, &slot.to_ne_bytes(), &inner.as_raw_fd().to_ne_bytes(), 0)?;
        }
    }
    Ok(())
}

/// A kernel-safe object name: `[A-Za-z0-9_.]`, at most 15 bytes.
fn object_name(name: &str) -> String {
    name.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.').take(15).collect()
}

impl KernelProgram {
    /// Creates the program's maps and loads it. A rejection is not an `Err`: it is the verdict
    /// (see [`KernelProgram::verdict`]); `Err` means the kernel could not be asked at all (no
    /// permission, a map it would not create).
    pub fn load(program: &Program, opts: &LoadOptions) -> Result<KernelProgram, KernelError> {
        let mut maps = Vec::with_capacity(program.maps.len());
        let mut perf = Vec::new();
        for def in &program.maps {
            let map = create_map(def)?;
            if def.map_type == MapType::PerfEventArray {
                perf.push(super::perf::PerfEvents::attach(&map)?);
            }
            maps.push(map);
        }
        init_globals(program, &maps)?;
        init_values(program, &maps)?;
        let fds: Vec<i32> = maps.iter().map(|m| m.as_raw_fd()).collect();
        let name = program.source.as_ref().map(|s| s.name.rsplit('/').next().unwrap_or("").to_string());
        let name = object_name(name.as_deref().unwrap_or("ebpf_lab").trim_end_matches(".s"));
        let vtype = opts.kernel_prog_type.unwrap_or_else(|| verify_type(program.prog_type));
        let mut runner = None;
        let mut mem_map = None;
        let mut kept = None;
        let btf = func_btf::for_program(program);
        let verdict = if program.prog_type == ProgType::Mem {
            // The conformance convention (r1 = buffer, r2 = length) needs a wrapper to set it up,
            // so a mem program is verified inside it and the log is renumbered to its own pcs.
            let r0_map = sys::map_create(kmap::ARRAY, 4, 8, 1, 0, "ebpf_lab_r0")?;
            let map_fd = if opts.mem_len > 0 {
                let m = sys::map_create(kmap::ARRAY, 4, opts.mem_len, 1, 0, "ebpf_lab_mem")?;
                let fd = m.as_raw_fd();
                mem_map = Some(m);
                Some(fd)
            } else {
                None
            };
            let mem = Some(MemBuffer { map_fd, len: opts.mem_len });
            let wrapped = wrapper::wrap(&program.insns, Some(r0_map.as_raw_fd()), mem);
            let (verdict, loaded, foreign) = verdict_of(&wrapped, btf.as_ref(), vtype, opts, &name, &fds);
            if foreign && wrapped.captures_r0 {
                // The rejection speaks of the epilogue: ask again without it, so the reason is
                // the program's own.
                let bare = wrapper::wrap(&program.insns, None, mem);
                let (verdict, loaded, _) = verdict_of(&bare, btf.as_ref(), vtype, opts, &name, &fds);
                runner = loaded.map(|fd| Runner { fd, r0_map: None });
                verdict
            } else {
                runner = loaded.map(|fd| Runner { fd, r0_map: wrapped.captures_r0.then_some(r0_map) });
                verdict
            }
        } else {
            match load_with_btf(&program.insns, vtype, opts, &name, &fds, btf.as_ref()) {
                Ok(loaded) => {
                    let verified_insns = sys::prog_info(&loaded.fd).ok().map(|i| i.verified_insns);
                    kept = Some(loaded.fd);
                    Verdict { log: loaded.log, verified_insns, error: None }
                }
                Err(e) => Verdict { log: e.log().unwrap_or("").to_string(), verified_insns: None, error: Some(e) },
            }
        };
        Ok(KernelProgram {
            prog_type: program.prog_type,
            mem_len: opts.mem_len as usize,
            mem_map,
            maps,
            verdict,
            runner,
            loaded: kept,
            _perf: perf,
        })
    }

    /// The accepted program's fd, as loaded for the verdict (with the kernel type of
    /// [`LoadOptions::kernel_prog_type`] when set); `None` when rejected or for `mem` programs.
    pub fn prog_fd(&self) -> Option<&ProgFd> {
        self.loaded.as_ref()
    }

    /// The kernel's verdict on the program as written.
    pub fn verdict(&self) -> &Verdict {
        &self.verdict
    }

    /// The program type.
    pub fn prog_type(&self) -> ProgType {
        self.prog_type
    }

    /// Runs the program once. The first run loads the runnable form (wrapped for the 64-bit r0).
    /// Fails if the program was rejected.
    pub fn run(&mut self, program: &Program, input: &KernelInput) -> Result<KernelRun, KernelError> {
        if let Some(e) = &self.verdict.error {
            return Err(e.clone());
        }
        if self.prog_type == ProgType::Mem {
            let len = input.ctx.map_or(0, |c| c.len());
            if self.mem_len != len {
                return Err(KernelError::invalid_input(
                    super::error::Command::ProgTestRun,
                    format!("this mem program was verified for a {}-byte buffer, not {len}", self.mem_len),
                ));
            }
        }
        if self.runner.is_none() {
            self.runner = Some(self.load_runner(program)?);
        }
        let runner = self.runner.as_ref().expect("runner loaded above");
        // test_run executes on the calling thread's CPU; pin it to CPU 0 so per-CPU maps and
        // bpf_get_smp_processor_id() match the interpreter's default CPU.
        let _pin = PinnedToCpu::new(0);
        arm_r0(runner)?;
        if let Some(buf) = &self.mem_map {
            sys::map_update(buf, &0u32.to_ne_bytes(), input.ctx.unwrap_or(&[]), 0)?;
            let retval = sys::prog_test_run_syscall(&runner.fd, &mut [])?;
            let (r0, r0_bits) = read_r0(runner, retval)?;
            let mut out = vec![0u8; self.mem_len];
            sys::map_lookup(buf, &0u32.to_ne_bytes(), &mut out)?;
            return Ok(KernelRun { r0, r0_bits, data_out: None, ctx_out: Some(out), duration_ns: 0 });
        }
        if run_type(self.prog_type) == kprog::SYSCALL {
            // SYSCALL programs: ctx in, written back in place; no packet, no repeat.
            let mut ctx = input.ctx.unwrap_or(&[]).to_vec();
            let retval = sys::prog_test_run_syscall(&runner.fd, &mut ctx)?;
            let (r0, r0_bits) = read_r0(runner, retval)?;
            return Ok(KernelRun { r0, r0_bits, data_out: None, ctx_out: Some(ctx), duration_ns: 0 });
        }
        let packet_type = self.prog_type.takes_packet();
        let data_out_size = if packet_type { input.packet.map_or(0, |p| p.len() as u32 + 256) } else { 0 };
        // A raw tracepoint's test run takes its arguments in and gives nothing back but r0, and
        // refuses `repeat`.
        let raw_tp = self.prog_type == ProgType::RawTracepoint;
        let ctx_out_size = if raw_tp { 0 } else { input.ctx.map_or(0, |c| c.len() as u32) };
        let res = sys::prog_test_run(
            &runner.fd,
            &TestRun {
                data_in: input.packet,
                data_out_size,
                ctx_in: input.ctx.filter(|c| !c.is_empty()),
                ctx_out_size,
                repeat: u32::from(!raw_tp),
                ..Default::default()
            },
        )?;
        let (r0, r0_bits) = read_r0(runner, res.retval)?;
        Ok(KernelRun {
            r0,
            r0_bits,
            data_out: packet_type.then_some(res.data_out),
            ctx_out: (ctx_out_size > 0).then_some(res.ctx_out),
            duration_ns: res.duration_ns,
        })
    }

    fn load_runner(&self, program: &Program) -> Result<Runner, KernelError> {
        let rtype = run_type(self.prog_type);
        let fds: Vec<i32> = self.maps.iter().map(|m| m.as_raw_fd()).collect();
        let opts = LoadOptions::default();
        let r0_map = sys::map_create(kmap::ARRAY, 4, 8, 1, 0, "ebpf_lab_r0")?;
        let wrapped = wrapper::wrap(&program.insns, Some(r0_map.as_raw_fd()), None);
        let btf = func_btf::for_program(program);
        if wrapped.captures_r0 {
            let shifted = btf.as_ref().map(|b| func_btf::shifted(b, wrapped.shift));
            if let Ok(loaded) = load_with_btf(&wrapped.insns, rtype, &opts, "ebpf_lab_run", &fds, shifted.as_ref()) {
                return Ok(Runner { fd: loaded.fd, r0_map: Some(r0_map) });
            }
        }
        // Unwrapped: only the low 32 bits of r0 come back.
        let loaded = load_with_btf(&program.insns, rtype, &opts, "ebpf_lab_run", &fds, btf.as_ref())?;
        Ok(Runner { fd: loaded.fd, r0_map: None })
    }

    /// The kernel map for the program's map number `index`.
    pub fn map_fd(&self, index: usize) -> Option<&MapFd> {
        self.maps.get(index)
    }

    /// Writes one entry of map `index` from user space (pre-filling before a run); for a map of
    /// maps, the value is the index of the inner map among the program's maps.
    pub fn map_update(&self, index: usize, key: &[u8], value: &[u8]) -> Result<(), KernelError> {
        let map = self.maps.get(index).ok_or_else(|| no_such_map(index))?;
        if matches!(map.map_type(), kmap::ARRAY_OF_MAPS | kmap::HASH_OF_MAPS) {
            // ebpf-lab names an inner map by its index among the program's maps; the kernel
            // takes its fd.
            let inner = value.try_into().ok().map(u32::from_le_bytes).and_then(|i| self.maps.get(i as usize));
            let inner = inner.ok_or_else(|| {
                KernelError::invalid_input(
                    super::error::Command::MapUpdateElem,
                    "a map of maps' value is the index of one of the program's maps",
                )
            })?;
            return sys::map_update(map, key, &inner.as_raw_fd().to_ne_bytes(), 0);
        }
        sys::map_update(map, key, value, 0)
    }

    /// A `--map` fill: [`KernelProgram::map_update`], except that one CPU's value for a per-CPU map is
    /// written to every CPU (as the runtime's `Map::user_fill`).
    pub fn map_fill(&self, index: usize, key: &[u8], value: &[u8]) -> Result<(), KernelError> {
        let map = self.maps.get(index).ok_or_else(|| no_such_map(index))?;
        let spread = if kmap::is_percpu(map.map_type()) && value.len() != map.user_value_size() {
            crate::runtime::maps::spread_percpu(value, map.value_size() as usize, sys::possible_cpus())
        } else {
            None
        };
        self.map_update(index, key, spread.as_deref().unwrap_or(value))
    }

    /// Every entry of map `index`, in the kernel's iteration order (per-CPU values are all CPUs'
    /// values concatenated, as `bpf(2)` returns them). Ringbuf, prog-array, perf event array and
    /// xskmap maps have no readable entries and return an empty list. A queue or stack lists its
    /// values in pop order keyed by position (popped and pushed back, so it is left as it was);
    /// a map of maps answers the index of each inner map among the program's maps (the kernel
    /// answers its id).
    pub fn map_entries(&self, index: usize) -> Result<MapEntries, KernelError> {
        let map = self.maps.get(index).ok_or_else(|| no_such_map(index))?;
        if matches!(map.map_type(), kmap::RINGBUF | kmap::PROG_ARRAY | kmap::PERF_EVENT_ARRAY | kmap::XSKMAP) {
            return Ok(Vec::new());
        }
        if matches!(map.map_type(), kmap::QUEUE | kmap::STACK) {
            return queue_entries(map);
        }
        let ids: Vec<u32> = if matches!(map.map_type(), kmap::ARRAY_OF_MAPS | kmap::HASH_OF_MAPS) {
            self.maps.iter().map(|m| m.id().unwrap_or(0)).collect()
        } else {
            Vec::new()
        };
        let mut out = Vec::new();
        let mut key: Option<Vec<u8>> = None;
        let mut next = vec![0u8; map.key_size() as usize];
        // Bounded: a map never has more than max_entries keys.
        for _ in 0..=map.max_entries() {
            if !sys::map_get_next_key(map, key.as_deref(), &mut next)? {
                break;
            }
            let mut value = vec![0u8; map.user_value_size()];
            if sys::map_lookup(map, &next, &mut value)? {
                if !ids.is_empty() {
                    let id = u32::from_ne_bytes(value[..4].try_into().expect("4-byte values"));
                    let index = ids.iter().position(|&i| i == id).map_or(u32::MAX, |i| i as u32);
                    value = index.to_le_bytes().to_vec();
                }
                out.push((next.clone(), value));
            }
            key = Some(next.clone());
        }
        Ok(out)
    }
}

/// A queue's or stack's values in pop order, keyed by position: popped, then pushed back in the
/// order that restores the map.
fn queue_entries(map: &MapFd) -> Result<MapEntries, KernelError> {
    let mut values = Vec::new();
    for _ in 0..map.max_entries() {
        let mut v = vec![0u8; map.user_value_size()];
        if !sys::map_pop(map, &mut v)? {
            break;
        }
        values.push(v);
    }
    // A queue gives back its oldest first, so pushing in pop order restores it; a stack its
    // newest first, so it is pushed back in reverse.
    let restore: Vec<&Vec<u8>> =
        if map.map_type() == kmap::STACK { values.iter().rev().collect() } else { values.iter().collect() };
    for v in restore {
        sys::map_update(map, &[], v, 0)?;
    }
    Ok(values.into_iter().enumerate().map(|(i, v)| ((i as u32).to_le_bytes().to_vec(), v)).collect())
}

/// Writes each global section's bytes into its map and freezes `.rodata`, as libbpf does before
/// loading, so the verifier sees read-only globals as the constants they are.
fn init_globals(program: &Program, maps: &[MapFd]) -> Result<(), KernelError> {
    for g in &program.globals {
        let Some(map) = maps.get(g.map) else { continue };
        sys::map_update(map, &0u32.to_ne_bytes(), &g.init, 0)?;
        if g.read_only {
            sys::map_freeze(map)?;
        }
    }
    Ok(())
}

/// Loads a wrapped program for its verdict. The verdict's log (and the error's) is the program's
/// own; also returns the loaded program and whether the log spoke of the wrapper (see
/// [`Wrapped::unwrap_log`]).
fn verdict_of(
    w: &Wrapped,
    btf: Option<&ProgramBtf>,
    kernel_type: u32,
    opts: &LoadOptions,
    name: &str,
    fds: &[i32],
) -> (Verdict, Option<ProgFd>, bool) {
    let btf = btf.map(|b| func_btf::shifted(b, w.shift));
    match load_with_btf(&w.insns, kernel_type, opts, name, fds, btf.as_ref()) {
        Ok(loaded) => {
            let verified_insns = sys::prog_info(&loaded.fd).ok().map(|i| i.verified_insns);
            let (log, _) = w.unwrap_log(&loaded.log);
            (Verdict { log, verified_insns, error: None }, Some(loaded.fd), false)
        }
        Err(e) => {
            let (log, foreign) = w.unwrap_log(e.log().unwrap_or(""));
            let error = e.with_log(log.clone());
            (Verdict { log, verified_insns: None, error: Some(error) }, None, foreign)
        }
    }
}

/// Loads `insns` with BTF func and line info laid out as they are (for a wrapped program,
/// [`func_btf::shifted`]). A BTF the kernel refuses is left out: the program is then
/// loaded as without it, and refused only if it needed it (callbacks).
fn load_with_btf(
    insns: &[Insn],
    kernel_type: u32,
    opts: &LoadOptions,
    name: &str,
    fds: &[i32],
    btf: Option<&ProgramBtf>,
) -> Result<sys::LoadedProg, KernelError> {
    let bytes = isa::encode(insns);
    let btf_fd = btf.and_then(|b| Some((sys::btf_load(&b.blob).ok()?, b)));
    sys::prog_load(&ProgLoad {
        prog_type: kernel_type,
        insns: &bytes,
        log_level: opts.log_level,
        prog_flags: flags_for(kernel_type, opts.prog_flags),
        expected_attach_type: expected_attach_type(kernel_type),
        name,
        fd_array: Some(fds),
        btf: btf_fd.as_ref().map(|(fd, b)| sys::ProgBtf {
            btf_fd: fd.as_raw_fd(),
            func_info: &b.func_info,
            line_info: &b.line_info,
        }),
        ..Default::default()
    })
}

/// What the r0 map holds before a run: its low half (all ones) differs from the 0 that a program
/// ended early by a failed `LD_ABS`/`LD_IND` returns, which never reaches the epilogue.
const R0_UNSET: u64 = u64::MAX;

/// Puts [`R0_UNSET`] in the r0 map, so a run that leaves without the epilogue is recognised.
fn arm_r0(runner: &Runner) -> Result<(), KernelError> {
    match &runner.r0_map {
        Some(m) => sys::map_update(m, &0u32.to_ne_bytes(), &R0_UNSET.to_ne_bytes(), 0),
        None => Ok(()),
    }
}

/// r0 after a run: the epilogue's 64-bit copy when the program passed it (its low half then equals
/// test_run's `retval`); otherwise the run was aborted (a legacy packet load out of bounds), which
/// sets all of r0 to `retval` (0).
fn read_r0(runner: &Runner, retval: u32) -> Result<(u64, u32), KernelError> {
    match &runner.r0_map {
        Some(m) => {
            let mut v = [0u8; 8];
            sys::map_lookup(m, &0u32.to_ne_bytes(), &mut v)?;
            let stored = u64::from_ne_bytes(v);
            Ok((if stored as u32 == retval { stored } else { retval as u64 }, 64))
        }
        None => Ok((retval as u64, 32)),
    }
}

/// Pins the calling thread to one CPU while alive, restoring its previous affinity on drop.
struct PinnedToCpu {
    previous: Option<libc::cpu_set_t>,
}

impl PinnedToCpu {
    fn new(cpu: usize) -> PinnedToCpu {
        // SAFETY: cpu_set_t is plain data; zeroed is the empty set, and the libc calls get a
        // pointer to it with its exact size. pid 0 means the calling thread.
        unsafe {
            let mut previous: libc::cpu_set_t = std::mem::zeroed();
            if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut previous) != 0 {
                return PinnedToCpu { previous: None };
            }
            let mut only: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(cpu, &mut only);
            let ok = libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &only) == 0;
            PinnedToCpu { previous: ok.then_some(previous) }
        }
    }
}

impl Drop for PinnedToCpu {
    fn drop(&mut self) {
        if let Some(previous) = &self.previous {
            // SAFETY: restores a mask the kernel gave us, with its exact size.
            unsafe {
                libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), previous);
            }
        }
    }
}

fn no_such_map(index: usize) -> KernelError {
    KernelError::invalid_input(super::error::Command::MapLookupElem, format!("the program has no map #{index}"))
}
