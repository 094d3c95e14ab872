//! One run, engine-neutral: what a program runs on ([`Input`]), how ([`RunOptions`]), what it
//! produced ([`RunOutcome`]), and the address space an engine builds for it
//! ([`Memory::setup`]). Every engine (interpreter, JIT, kernel backend) speaks these types, so
//! none needs another's module to describe its runs.

use super::ctx_build::{self as ctx, SkbFields};
use super::error::{ErrorKind, RuntimeError};
use super::memory::{self, Backing, Memory, Region, XdpShape, MAX_CALL_FRAMES, STACK_SIZE};
pub use super::out_bytes::OutBytes;
use crate::program::{ProgType, Program};

/// The backings of the map-value regions `prog` gets in `m`, in table order (maps with
/// storage only).
fn map_backings<'a>(m: &'a Memory, prog: &'a Program) -> impl Iterator<Item = Backing> + 'a {
    (0..prog.maps.len()).filter(|&i| m.maps.get(i).is_some_and(|m| !m.storage().is_empty())).map(Backing::Map)
}

/// Default executed-instruction budget.
pub const DEFAULT_BUDGET: u64 = 1_000_000;

/// What a program runs on; the variant must suit the program type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// `mem` programs: `r1` points to a copy of the buffer, `r2` holds its length.
    Mem(Vec<u8>),
    /// XDP: the packet; `r1` is a `struct xdp_md`.
    Xdp {
        /// Packet bytes (starting with the Ethernet header).
        packet: Vec<u8>,
        /// `ingress_ifindex`.
        ingress_ifindex: u32,
        /// `rx_queue_index`.
        rx_queue_index: u32,
    },
    /// Socket filter and tc programs: the packet and the `__sk_buff` fields.
    Skb {
        /// Packet bytes (starting with the Ethernet header).
        packet: Vec<u8>,
        /// The settable `__sk_buff` fields.
        fields: SkbFields,
    },
    /// `tracepoint` programs: the raw argument record `r1` points to (read-only).
    Tracepoint(Vec<u8>),
    /// `syscall` programs: a context buffer the program may read and write.
    Syscall(Vec<u8>),
    /// A context structure given as its bytes, in the layout of the program type's
    /// [`ctx_layout`](crate::runtime::ctx::ctx_layout): `kprobe` (`struct pt_regs`),
    /// `raw_tracepoint` (the `u64` arguments), `cgroup_sock` (`struct bpf_sock`), `sk_lookup`
    /// (`struct bpf_sk_lookup`). Shorter input is padded with zeros.
    Ctx(Vec<u8>),
}

impl Input {
    /// Input for a `mem` program.
    pub fn mem(data: Vec<u8>) -> Input {
        Input::Mem(data)
    }

    /// Input for an XDP program (interface 1, queue 0).
    pub fn xdp(packet: Vec<u8>) -> Input {
        Input::Xdp { packet, ingress_ifindex: 1, rx_queue_index: 0 }
    }

    /// Input for a socket filter or tc program.
    pub fn skb(packet: Vec<u8>, fields: SkbFields) -> Input {
        Input::Skb { packet, fields }
    }

    /// The empty input suited to `prog_type` (an empty buffer, packet or context).
    pub fn empty_for(prog_type: ProgType) -> Input {
        match prog_type {
            ProgType::Mem => Input::Mem(Vec::new()),
            ProgType::Xdp => Input::xdp(Vec::new()),
            ProgType::Socket
            | ProgType::Tc
            | ProgType::CgroupSkb
            | ProgType::LwtIn
            | ProgType::LwtOut
            | ProgType::LwtXmit => Input::skb(Vec::new(), SkbFields::default()),
            ProgType::Tracepoint => Input::Tracepoint(vec![0; 64]),
            ProgType::SkLookup => Input::Ctx(ctx::sk_lookup_default()),
            ProgType::Kprobe | ProgType::RawTracepoint | ProgType::CgroupSock => Input::Ctx(Vec::new()),
            ProgType::Syscall => Input::Syscall(Vec::new()),
        }
    }
}

/// Settings of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOptions {
    /// Maximum number of instructions to execute before giving up.
    pub budget: u64,
    /// Record an execution trace (one line per executed instruction).
    pub trace: bool,
    /// Seed of `bpf_get_prandom_u32`.
    pub seed: u64,
    /// The CPU the program runs on (`bpf_get_smp_processor_id`, per-CPU maps).
    pub cpu: u32,
    /// Number of CPUs (per-CPU maps have this many copies of each value).
    pub ncpus: u32,
    /// `CLOCK_MONOTONIC` at the start, in nanoseconds (the clock then advances 1 µs per helper
    /// call, so runs are reproducible).
    pub clock_start: u64,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions { budget: DEFAULT_BUDGET, trace: false, seed: 0x5eed, cpu: 0, ncpus: 1, clock_start: 1_000_000_000 }
    }
}

/// The result of a successful run. Small (56 bytes) and cheap to drop: what most runs never
/// produce (trace lines, the step trace, a tunnel key, a redirect) sits behind one pointer,
/// allocated only when a run has any of it.
#[derive(Clone, Debug, Default)]
pub struct RunOutcome {
    /// The program's return value (all 64 bits of `r0`).
    pub r0: u64,
    /// Instructions executed (`lddw` counts once).
    pub insns_executed: u64,
    /// The packet after the run (XDP, socket, tc): from `data` to `data_end`.
    pub packet_out: Option<OutBytes>,
    /// The context after the run (`syscall` programs, `__sk_buff` of tc programs).
    pub ctx_out: Option<OutBytes>,
    /// The rare outputs; `None` when all are empty.
    pub(crate) notes: Notes,
}

/// [`RunOutcome`]'s rare outputs, boxed. Dropping an outcome without them costs one test
/// inline (the compiler's own drop of the `Option<Box<_>>` is an out-of-line call).
#[derive(Clone, Debug, Default)]
pub(crate) struct Notes(Option<Box<RunNotes>>);

impl Drop for Notes {
    #[inline(always)]
    fn drop(&mut self) {
        if let Some(notes) = self.0.take() {
            drop_notes(notes);
        }
    }
}

/// Frees notes, out of line (see [`Notes`]).
#[cold]
#[inline(never)]
fn drop_notes(notes: Box<RunNotes>) {
    drop(notes);
}

/// What a run reports besides r0 and its buffers, when it has anything to say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunNotes {
    /// Lines printed with `bpf_trace_printk`.
    pub trace_lines: Vec<String>,
    /// Per-instruction trace in the verifier log's notation, when [`RunOptions::trace`] is set.
    pub exec_trace: Vec<String>,
    /// The `struct bpf_tunnel_key` (44 bytes) the program set with `bpf_skb_set_tunnel_key`.
    pub tunnel_key: Option<Vec<u8>>,
    /// The redirect target `bpf_redirect`/`bpf_redirect_map` recorded last (`None` from the
    /// kernel, whose test run does not tell).
    pub redirect: Option<String>,
}

impl RunNotes {
    /// Whether there is nothing to report.
    fn is_empty(&self) -> bool {
        self.trace_lines.is_empty()
            && self.exec_trace.is_empty()
            && self.tunnel_key.is_none()
            && self.redirect.is_none()
    }
}

/// No notes and empty notes are the same outcome.
static NO_NOTES: RunNotes =
    RunNotes { trace_lines: Vec::new(), exec_trace: Vec::new(), tunnel_key: None, redirect: None };

impl RunOutcome {
    /// An outcome with return value `r0` and nothing else.
    pub fn new(r0: u64) -> RunOutcome {
        RunOutcome { r0, ..RunOutcome::default() }
    }

    /// The rare outputs (empty ones when the run had none).
    pub fn notes(&self) -> &RunNotes {
        self.notes.0.as_deref().unwrap_or(&NO_NOTES)
    }

    /// Sets the rare outputs (keeps no allocation when they are all empty).
    pub fn set_notes(&mut self, notes: RunNotes) {
        self.notes.0 = (!notes.is_empty()).then(|| Box::new(notes));
    }

    /// The rare outputs, to fill in (allocated on first use: call it only with something to add).
    pub fn notes_mut(&mut self) -> &mut RunNotes {
        self.notes.0.get_or_insert_with(Box::default)
    }

    /// Lines printed with `bpf_trace_printk`.
    pub fn trace_lines(&self) -> &[String] {
        &self.notes().trace_lines
    }

    /// Per-instruction trace in the verifier log's notation, when [`RunOptions::trace`] is set.
    pub fn exec_trace(&self) -> &[String] {
        &self.notes().exec_trace
    }

    /// The `struct bpf_tunnel_key` (44 bytes) the program set with `bpf_skb_set_tunnel_key`.
    pub fn tunnel_key(&self) -> Option<&[u8]> {
        self.notes().tunnel_key.as_deref()
    }

    /// The redirect target `bpf_redirect`/`bpf_redirect_map` recorded last (`None` from the
    /// kernel, whose test run does not tell).
    pub fn redirect(&self) -> Option<&str> {
        self.notes().redirect.as_deref()
    }
}

impl PartialEq for RunOutcome {
    fn eq(&self, other: &RunOutcome) -> bool {
        (self.r0, self.insns_executed, &self.packet_out, &self.ctx_out)
            == (other.r0, other.insns_executed, &other.packet_out, &other.ctx_out)
            && self.notes() == other.notes()
    }
}

impl Eq for RunOutcome {}

impl Memory {
    /// Empty memory with the maps `prog` declares (per-CPU maps with `options.ncpus` copies).
    pub fn for_program(prog: &Program, options: &RunOptions) -> Result<Memory, RuntimeError> {
        let mut mem = Memory::new();
        let ncpus = options.ncpus.max(1) as usize;
        for (i, def) in prog.maps.iter().enumerate() {
            let map = super::Map::new(def, ncpus)
                .map_err(|e| RuntimeError::new(ErrorKind::Invalid(format!("map `{}` (#{i}): {e}", def.name))))?;
            mem.maps.push(map);
        }
        // Global variables start from their sections' bytes, as libbpf writes them before load.
        for g in &prog.globals {
            if let Some(map) = mem.maps.get_mut(g.map) {
                map.user_update(&0u32.to_le_bytes(), &g.init, 0).map_err(|e| {
                    RuntimeError::new(ErrorKind::Invalid(format!("global section `{}`: {e}", prog.maps[g.map].name)))
                })?;
            }
        }
        // Maps of maps start with their static `.values`, as libbpf stores them before load.
        for (i, def) in prog.maps.iter().enumerate() {
            for (slot, name) in &def.extra.init {
                let Some(inner) = prog.map_index(name) else { continue };
                check_inner(prog, i, inner).map_err(|e| RuntimeError::new(ErrorKind::Invalid(e)))?;
                mem.maps[i].user_update(&slot.to_le_bytes(), &(inner as u32).to_le_bytes(), 0).map_err(|e| {
                    RuntimeError::new(ErrorKind::Invalid(format!("map `{}` slot {slot}: {e}", def.name)))
                })?;
            }
        }
        Ok(mem)
    }

    /// Builds the address space of one run of `prog` on `input` (stacks zeroed, context,
    /// packet or input buffer, map values) and returns the initial `r1`. Every engine that
    /// checks accesses against these regions sees the same virtual addresses.
    #[inline(always)]
    pub fn setup(&mut self, prog: &Program, input: &Input) -> Result<u64, RuntimeError> {
        let pt = prog.prog_type;
        let m = self;
        // The last outcome's packet and context come back, when it is gone, to be refilled.
        m.packet_lent.reclaim(&mut m.packet);
        m.ctx_lent.reclaim(&mut m.ctx);
        // What the last run's helpers recorded.
        m.redirect = None;
        // tc's test run starts at the MAC header, the other skb types' at the network header.
        m.skb = super::skb::SkbState {
            mac_len: if pt == ProgType::Tc { ctx::ETH_HLEN as u32 } else { 0 },
            tunnel_key: None,
        };
        // Only the frames the last run wrote are zeroed (usually none, or frame 0).
        if m.stack_dirty > 0 {
            let dirty = (m.stack_dirty * STACK_SIZE).min(m.stack.len());
            m.stack[..dirty].fill(0);
            m.stack_dirty = 0;
        }
        if let (ProgType::Xdp, Input::Xdp { packet, ingress_ifindex, rx_queue_index }) = (pt, input) {
            let shape = XdpShape {
                len: packet.len(),
                ingress_ifindex: *ingress_ifindex,
                rx_queue_index: *rx_queue_index,
                maps: prog.maps.len(),
            };
            if m.xdp_ready == Some(shape) {
                // The context and the table are this run's already: only the bytes are new.
                m.fill_packet(packet);
                // The packet is what the program reads first (after the context's pointers).
                m.hot_packet(memory::PACKET_HEADROOM as usize, packet.len());
                return Ok(memory::CTX_BASE);
            }
        }
        m.setup_anew(prog, input)
    }

    /// [`Memory::setup`] when the last run's context and table cannot be reused.
    #[inline(never)]
    fn setup_anew(&mut self, prog: &Program, input: &Input) -> Result<u64, RuntimeError> {
        let pt = prog.prog_type;
        let m = self;
        // One source of truth for contexts: the kernel's layouts and access rules. The packet
        // fields are looked up once per layout, not once per run.
        let ctx_layout = crate::runtime::ctx::ctx_layout(pt);
        if m.ctx_layout.map(std::ptr::from_ref) != ctx_layout.map(std::ptr::from_ref) || m.packet_fields.is_none() {
            m.packet_fields = ctx_layout.and_then(ctx::packet_fields);
            m.xdp_meta_field = ctx_layout.and_then(Memory::xdp_meta_of);
        }
        m.ctx_layout = ctx_layout;
        let no_layout = || RuntimeError::new(ErrorKind::Invalid(format!("no context layout for {pt} programs")));
        let headroom = memory::PACKET_HEADROOM as usize;
        let packet_region = |data_off: usize, len: usize| Region {
            base: memory::PACKET_BASE + data_off as u64,
            len: len as u64,
            writable: true,
            backing: Backing::Packet,
            start: data_off,
            name: "packet".into(),
            checked: false,
        };
        let ctx_region = |len: usize, writable: bool, checked: bool| Region {
            base: memory::CTX_BASE,
            len: len as u64,
            writable,
            backing: Backing::Ctx,
            start: 0,
            name: "context".into(),
            checked,
        };
        // The buffers are filled first, and the regions of this input (after the stacks,
        // before the map values) gathered; the table is touched only once the input is known good.
        let (r1, inputs): (u64, [Option<Region>; 3]) = match (pt, input) {
            (ProgType::Mem, Input::Mem(data)) => {
                m.input.clear();
                m.input.extend_from_slice(data);
                let buffer = Region {
                    base: memory::INPUT_BASE,
                    len: data.len() as u64,
                    writable: true,
                    backing: Backing::Input,
                    start: 0,
                    name: "input buffer".into(),
                    checked: false,
                };
                // An empty buffer is passed as a null pointer, as the conformance runners do.
                (if data.is_empty() { 0 } else { memory::INPUT_BASE }, [Some(buffer), None, None])
            }
            (ProgType::Xdp, Input::Xdp { packet, ingress_ifindex, rx_queue_index }) => {
                let layout = ctx_layout.ok_or_else(no_layout)?;
                m.ctx =
                    ctx::xdp_md_in(std::mem::take(&mut m.ctx), layout, packet.len(), *ingress_ifindex, *rx_queue_index);
                m.fill_packet(packet);
                (
                    memory::CTX_BASE,
                    [Some(packet_region(headroom, packet.len())), Some(ctx_region(m.ctx.len(), false, true)), None],
                )
            }
            (pt, Input::Skb { packet, fields }) if pt.is_skb() => {
                let layout = ctx_layout.ok_or_else(no_layout)?;
                if let Some(why) = ctx::refused_frame(packet) {
                    return Err(RuntimeError::new(ErrorKind::BadInput(why)));
                }
                let data_off = if pt.skb_from_network_header() { ctx::ETH_HLEN.min(packet.len()) } else { 0 };
                m.ctx = ctx::sk_buff_in(std::mem::take(&mut m.ctx), layout, packet, data_off, fields);
                m.fill_packet(packet);
                // `__sk_buff.sk` points here. Socket and tc programs have no input buffer, so its
                // backing holds the socket.
                m.input = ctx::test_run_sock_in(std::mem::take(&mut m.input), packet);
                let sock = Region {
                    base: memory::SOCK_BASE,
                    len: m.input.len() as u64,
                    writable: false,
                    backing: Backing::Input,
                    start: 0,
                    name: "struct bpf_sock".into(),
                    checked: false,
                };
                // The context is writable as far as the layout allows (cb; mark, priority... in tc).
                let regions = [
                    Some(packet_region(headroom + data_off, packet.len() - data_off)),
                    Some(sock),
                    Some(ctx_region(m.ctx.len(), true, true)),
                ];
                (memory::CTX_BASE, regions)
            }
            (ProgType::Tracepoint, Input::Tracepoint(args)) => {
                // The record is as long as the input says; what may be read of it (not the
                // common_* header, nothing past the sys_enter record) is the layout's rule.
                m.ctx.clear();
                m.ctx.extend_from_slice(args);
                (memory::CTX_BASE, [Some(ctx_region(args.len(), false, true)), None, None])
            }
            (
                ProgType::Kprobe | ProgType::RawTracepoint | ProgType::CgroupSock | ProgType::SkLookup,
                Input::Ctx(bytes),
            ) => {
                let layout = ctx_layout.ok_or_else(no_layout)?;
                if bytes.len() > layout.size as usize {
                    return Err(RuntimeError::new(ErrorKind::BadInput(format!(
                        "the context is {} bytes; {} has {}",
                        bytes.len(),
                        layout.struct_name,
                        layout.size
                    ))));
                }
                m.ctx.clear();
                m.ctx.extend_from_slice(bytes);
                m.ctx.resize(layout.size as usize, 0);
                if pt == ProgType::SkLookup {
                    ctx::sk_lookup_as_run(&mut m.ctx).map_err(|why| RuntimeError::new(ErrorKind::BadInput(why)))?;
                }
                // Stores are checked field by field (cgroup_sock writes `mark`...).
                (memory::CTX_BASE, [Some(ctx_region(m.ctx.len(), pt == ProgType::CgroupSock, true)), None, None])
            }
            (ProgType::Syscall, Input::Syscall(buf)) => {
                m.ctx.clear();
                m.ctx.extend_from_slice(buf);
                let r1 = if buf.is_empty() { 0 } else { memory::CTX_BASE };
                (r1, [Some(ctx_region(buf.len(), true, false)), None, None])
            }
            (pt, input) => {
                return Err(RuntimeError::new(ErrorKind::BadInput(format!(
                    "a {pt} program cannot run on {} input",
                    match input {
                        Input::Mem(_) => "mem",
                        Input::Xdp { .. } => "xdp",
                        Input::Skb { .. } => "skb",
                        Input::Tracepoint(_) => "tracepoint",
                        Input::Syscall(_) => "syscall",
                        Input::Ctx(_) => "context",
                    }
                ))))
            }
        };
        m.set_run_regions(prog, inputs);
        if let Input::Xdp { packet, ingress_ifindex, rx_queue_index } = input {
            let (ingress_ifindex, rx_queue_index) = (*ingress_ifindex, *rx_queue_index);
            m.xdp_ready = Some(XdpShape { len: packet.len(), ingress_ifindex, rx_queue_index, maps: prog.maps.len() });
        }
        Ok(r1)
    }

    /// Fills the packet buffer: zeroed headroom (kept from the last run unless a program moved
    /// its pointers into it), then `bytes`.
    #[inline(always)]
    fn fill_packet(&mut self, bytes: &[u8]) {
        let headroom = memory::PACKET_HEADROOM as usize;
        if !self.headroom_dirty && self.packet.len() == headroom + bytes.len() {
            // A packet of the last run's length (the buffer came back from its outcome): the
            // bytes go over the old ones, with no length bookkeeping.
            self.packet[headroom..].copy_from_slice(bytes);
            return;
        }
        if self.headroom_dirty || self.packet.len() < headroom {
            self.packet.clear();
            self.packet.resize(headroom, 0);
            self.headroom_dirty = false;
        } else {
            self.packet.truncate(headroom);
        }
        self.packet.extend_from_slice(bytes);
    }

    /// Installs the region table of a run: the stacks, `inputs` (this input's regions) and the
    /// values of `prog`'s maps. The table is rebuilt in last run's vector, so a run allocates
    /// none; when the last run had the same kinds of regions, only this input's entries are
    /// overwritten (stacks and map values never change: a map's storage keeps its length).
    fn set_run_regions(&mut self, prog: &Program, inputs: [Option<Region>; 3]) {
        let m = self;
        let n_inputs = inputs.iter().flatten().count();
        let same_kinds = m.stacks_mapped()
            && m.regions.get(MAX_CALL_FRAMES..MAX_CALL_FRAMES + n_inputs).is_some_and(|old| {
                old.iter().zip(inputs.iter().flatten()).all(|(o, n)| (o.backing, &o.name) == (n.backing, &n.name))
            })
            && m.regions[MAX_CALL_FRAMES + n_inputs..].iter().map(|r| r.backing).eq(map_backings(m, prog));
        let mut regions = std::mem::take(&mut m.regions);
        if same_kinds {
            for (slot, r) in regions[MAX_CALL_FRAMES..].iter_mut().zip(inputs.into_iter().flatten()) {
                *slot = r;
            }
        } else {
            // The map values' names move from the old table to the new one.
            let mut names = std::mem::take(&mut m.map_region_names);
            names.clear();
            names.resize(prog.maps.len(), None);
            for r in regions.iter_mut() {
                if let Backing::Map(i) = r.backing {
                    if let Some(slot) = names.get_mut(i) {
                        *slot = Some(std::mem::take(&mut r.name));
                    }
                }
            }
            regions.clear();
            regions.extend((0..MAX_CALL_FRAMES).map(Memory::stack_region));
            regions.extend(inputs.into_iter().flatten());
            for (i, def) in prog.maps.iter().enumerate() {
                let len = m.maps.get(i).map_or(0, |m| m.storage().len()) as u64;
                if len > 0 {
                    regions.push(Region {
                        base: memory::MAP_VALUE_BASE + i as u64 * memory::MAP_VALUE_STRIDE,
                        len,
                        writable: !def.read_only_to_programs(),
                        backing: Backing::Map(i),
                        start: 0,
                        name: names
                            .get_mut(i)
                            .and_then(Option::take)
                            .unwrap_or_else(|| format!("value of map `{}`", def.name).into()),
                        checked: false,
                    });
                }
            }
            m.map_region_names = names;
        }
        m.set_regions_with_stacks(regions);
    }

    /// What a run that returned `r0` leaves to report: the packet between `data` (XDP:
    /// `data_meta`) and `data_end`, and the context of program types that may write it. Both
    /// are lent, not copied ([`OutBytes`]): the packet and context buffers are empty from here
    /// until the next [`Memory::setup`].
    #[inline]
    pub fn outcome(&mut self, pt: ProgType, r0: u64) -> RunOutcome {
        self.finish_run(pt, r0, 0, &mut Vec::new(), &mut Vec::new())
    }

    /// The outcome of a run that returned `r0` after `insns_executed` instructions, printing
    /// `trace_lines` and stepping through `exec_trace` (both moved out): [`Memory::outcome`]'s
    /// packet and context, and what the helpers recorded (tunnel key, redirect target).
    /// Inlined and built as one struct literal at the end, so the outcome is written straight
    /// into the caller's return slot: each copy of it through a `Result` cost a dozen
    /// instructions, on runs whose whole cost is a few hundred.
    #[inline(always)]
    pub fn finish_run(
        &mut self,
        pt: ProgType,
        r0: u64,
        insns_executed: u64,
        trace_lines: &mut Vec<String>,
        exec_trace: &mut Vec<String>,
    ) -> RunOutcome {
        // Usually nothing to note: a few tests, no allocation.
        let notes = if trace_lines.is_empty()
            && exec_trace.is_empty()
            && self.skb.tunnel_key.is_none()
            && self.redirect.is_none()
        {
            Notes::default()
        } else {
            self.notes_of(trace_lines, exec_trace)
        };
        let (packet_out, ctx_out) = self.lend_outputs(pt);
        RunOutcome { r0, insns_executed, packet_out, ctx_out, notes }
    }

    /// The packet and the context after a run, as [`Memory::outcome`] describes.
    #[inline(always)]
    fn lend_outputs(&mut self, pt: ProgType) -> (Option<OutBytes>, Option<OutBytes>) {
        let mut packet_out = None;
        if let Some((data_field, end_field)) = self.packet_fields {
            let base = memory::PACKET_BASE as usize;
            // An XDP test run hands back the metadata too: from `data_meta` on.
            let data_field = self.xdp_fields().map_or(data_field, |[meta, _, _]| meta);
            let mut data = (ctx::get_u32(&self.ctx, data_field) as usize).saturating_sub(base);
            let end = (ctx::get_u32(&self.ctx, end_field) as usize).saturating_sub(base);
            if pt.skb_from_network_header() {
                // A test run from the network header hands the packet back with the link-layer
                // header pushed in front again, zeroed (`bpf_prog_test_run_skb`: `memset(__skb_push())`).
                // The buffer is refilled before the next run, so the zeros go in place.
                match data.checked_sub(ctx::ETH_HLEN).filter(|_| data <= end && end <= self.packet.len()) {
                    Some(mac) => {
                        self.packet[mac..data].fill(0);
                        data = mac;
                    }
                    None => {
                        let mut packet = vec![0; ctx::ETH_HLEN];
                        packet.extend_from_slice(self.packet.get(data..end).unwrap_or(&[]));
                        packet_out = Some(OutBytes::new(packet));
                    }
                }
            }
            if packet_out.is_none() {
                packet_out = Some(self.packet_lent.lend(&mut self.packet, data, end));
            }
        }
        let mut ctx_out = None;
        if pt.is_skb() || matches!(pt, ProgType::Syscall | ProgType::CgroupSock) {
            let len = self.ctx.len();
            ctx_out = Some(self.ctx_lent.lend(&mut self.ctx, 0, len));
        }
        (packet_out, ctx_out)
    }

    /// The notes of a run that has some: the engine's trace lines and step trace, and what
    /// the helpers recorded (moved: the next setup starts them afresh anyway). Out of line:
    /// most runs have none.
    #[cold]
    #[inline(never)]
    fn notes_of(&mut self, trace_lines: &mut Vec<String>, exec_trace: &mut Vec<String>) -> Notes {
        Notes(Some(Box::new(RunNotes {
            trace_lines: std::mem::take(trace_lines),
            exec_trace: std::mem::take(exec_trace),
            tunnel_key: self.skb.tunnel_key.take(),
            redirect: self.redirect.take(),
        })))
    }
}

/// `bpf_map_meta_equal`: map `inner` may be stored in map of maps `outer` when it has the inner
/// template's type, key and value sizes and flags (and, for arrays without `BPF_F_INNER_MAP`,
/// its size).
pub fn check_inner(prog: &Program, outer: usize, inner: usize) -> Result<(), String> {
    let (o, i) = (&prog.maps[outer], &prog.maps[inner]);
    let Some(t) = o.extra.inner.as_deref() else {
        return Err(format!("map `{}` is not a map of maps", o.name));
    };
    let same_size = t.max_entries == i.max_entries
        || (t.map_type == crate::program::MapType::Array && t.flags & super::maps::BPF_F_INNER_MAP != 0);
    if (t.map_type, t.key_size, t.value_size, t.flags) != (i.map_type, i.key_size, i.value_size, i.flags) || !same_size
    {
        return Err(format!(
            "map `{}` cannot hold map `{}`: it is not shaped like the inner map definition ({} key {} B, value {} B, {} entries, flags {:#x})",
            o.name,
            i.name,
            t.map_type.name(),
            t.key_size,
            t.value_size,
            t.max_entries,
            t.flags
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_boxed_only_when_there_are_some_and_compare_by_content() {
        assert_eq!(std::mem::size_of::<RunOutcome>(), 56, "an outcome stays seven words");
        let mut a = RunOutcome::new(7);
        a.set_notes(RunNotes::default());
        assert!(a.notes.0.is_none(), "empty notes allocate nothing");
        let mut b = RunOutcome::new(7);
        b.notes_mut();
        assert_eq!(a, b, "no notes and empty notes are the same outcome");
        b.notes_mut().redirect = Some("ifindex 2".into());
        assert_ne!(a, b);
        assert_eq!((b.redirect(), a.redirect(), a.trace_lines().len()), (Some("ifindex 2"), None, 0));
    }
}
