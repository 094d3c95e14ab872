//! The memory model: a handful of regions in a *virtual* address space.
//!
//! Programs never see host pointers. Every pointer a program holds is a virtual address in the
//! layout below, so runs are deterministic (the same program prints the same addresses on every
//! machine, which matters for teaching and for cross-checking engines) and every load, store and
//! atomic is checked against the region it falls in. The JIT reuses this model.
//!
//! | Address                              | Region                                          |
//! |--------------------------------------|-------------------------------------------------|
//! | `0x0` – `0xfff`                      | null page: never mapped                         |
//! | [`CTX_BASE`] `0x1000_0000`           | the context (`xdp_md`, `__sk_buff`, args...)    |
//! | [`PACKET_BASE`] `0x2000_0000`        | packet buffer; `data` = base + 256 (headroom)   |
//! | [`INPUT_BASE`] `0x3000_0000`         | the input buffer of `mem` programs              |
//! | [`CALLBACK_KEY_BASE`] `0x3c00_0000` | the key a `bpf_for_each_map_elem` callback at depth *i* sees, at base + i·64 KiB (read-only) |
//! | [`STACK_BASE`] `0x4000_0000`         | frame *i*'s 512-byte stack at base + i·64 KiB   |
//! | [`MAP_PTR_BASE`] `0x5000_0000`       | map handles (`lddw r1, map`): opaque, unmapped  |
//! | [`CODE_BASE`] `0x6000_0000`          | callback addresses (`BPF_PSEUDO_FUNC`), unmapped |
//! | [`MAP_VALUE_BASE`] `0x1_0000_0000`   | map *i*'s values at base + i·4 GiB               |
//!
//! Context, packet and stack stay below 4 GiB so the 32-bit `data`/`data_end` fields of
//! `xdp_md` and `__sk_buff` can hold real addresses (the kernel rewrites those loads into 64-bit
//! pointer loads; we get the same effect by building the context with the real addresses).
//! The gaps between stack frames are unmapped, so running off a frame is reported precisely.

use super::error::{Access, ErrorKind};
use crate::runtime::ctx::CtxLayout;
use crate::runtime::Map;

/// End of the null page: addresses below it are reported as null dereferences.
pub const NULL_PAGE_END: u64 = 0x1000;
/// Where the context structure lives.
pub const CTX_BASE: u64 = 0x1000_0000;
/// Start of the packet buffer (the headroom comes first, then the packet data).
pub const PACKET_BASE: u64 = 0x2000_0000;
/// Bytes of headroom before packet data (`XDP_PACKET_HEADROOM`), room for `data_meta`.
pub const PACKET_HEADROOM: u64 = 256;
/// `sizeof(struct xdp_frame)`: the bytes at the buffer's start `bpf_xdp_adjust_head` and
/// `bpf_xdp_adjust_meta` never hand to the program.
pub const XDP_FRAME_HEAD: u64 = 40;
/// End of the XDP buffer `bpf_xdp_adjust_tail` may grow into: a test run's 4096-byte frame less
/// the tailroom kept for `struct skb_shared_info` (320 bytes aligned, x86-64).
pub const XDP_DATA_HARD_END: u64 = PACKET_BASE + 4096 - 320;
/// Where the input buffer of `mem` programs lives.
pub const INPUT_BASE: u64 = 0x3000_0000;
/// Where the `struct bpf_sock` of a socket filter's or tc program's `__sk_buff.sk` lives.
pub const SOCK_BASE: u64 = 0x3800_0000;
/// Where the key handed to a `bpf_for_each_map_elem` callback running in frame *i* lives:
/// `CALLBACK_KEY_BASE + i * STACK_STRIDE` (one per depth, so nested iterations keep theirs).
pub const CALLBACK_KEY_BASE: u64 = 0x3c00_0000;
/// Base of the stack of frame 0.
pub const STACK_BASE: u64 = 0x4000_0000;
/// Distance between the stacks of consecutive frames (the gaps stay unmapped).
pub const STACK_STRIDE: u64 = 0x1_0000;
/// Size of one frame's stack (`MAX_BPF_STACK`).
pub const STACK_SIZE: usize = 512;
/// Maximum number of call frames (`MAX_CALL_FRAMES`).
pub const MAX_CALL_FRAMES: usize = 8;
/// Map handles: map *i* is `MAP_PTR_BASE + i * MAP_PTR_STRIDE`. Never dereferenceable.
pub const MAP_PTR_BASE: u64 = 0x5000_0000;
/// Spacing of map handles.
pub const MAP_PTR_STRIDE: u64 = 0x100;
/// Callback addresses: instruction index *i* is `CODE_BASE + 8 * i`. Never dereferenceable.
pub const CODE_BASE: u64 = 0x6000_0000;
/// Base of map value storage; map *i* is at `MAP_VALUE_BASE + i * MAP_VALUE_STRIDE`.
pub const MAP_VALUE_BASE: u64 = 0x1_0000_0000;
/// Spacing of map value windows (4 GiB each).
pub const MAP_VALUE_STRIDE: u64 = 0x1_0000_0000;

/// The names of the frames' stacks, for messages.
const STACK_NAMES: [&str; MAX_CALL_FRAMES] = [
    "stack of frame 0",
    "stack of frame 1",
    "stack of frame 2",
    "stack of frame 3",
    "stack of frame 4",
    "stack of frame 5",
    "stack of frame 6",
    "stack of frame 7",
];

/// The address of frame `frame`'s stack base (lowest byte).
pub const fn stack_base(frame: usize) -> u64 {
    STACK_BASE + frame as u64 * STACK_STRIDE
}

/// The initial `r10` of frame `frame`: one past its highest byte.
pub const fn frame_pointer(frame: usize) -> u64 {
    stack_base(frame) + STACK_SIZE as u64
}

/// Where a region's bytes live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backing {
    /// The stack of one frame.
    Stack(usize),
    /// The context structure.
    Ctx,
    /// The packet buffer (offset from the buffer start, headroom included).
    Packet,
    /// The input buffer.
    Input,
    /// The flat value storage of map `i`.
    Map(usize),
    /// The key of the element a `bpf_for_each_map_elem` callback in frame `i` visits.
    CallbackKey(usize),
}

/// A mapped range of the virtual address space.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region {
    /// First address.
    pub base: u64,
    /// Length in bytes.
    pub len: u64,
    /// Stores allowed.
    pub writable: bool,
    /// Where the bytes live.
    pub backing: Backing,
    /// Offset of the region's first byte within its backing buffer.
    pub start: usize,
    /// Human name for messages ("stack of frame 0", "packet", "value of map `counts`").
    /// (Borrowed for the fixed regions, so setting up a run allocates no names.)
    pub name: std::borrow::Cow<'static, str>,
    /// Accesses must be validated against [`Memory::ctx_layout`] (the slow path).
    pub checked: bool,
}

/// How far past a checked context region's start an access still counts as a context access:
/// the reach of one instruction's 16-bit offset from the context pointer, which the kernel's
/// verifier judges with the context's rules (`invalid bpf_context access off=192 size=4`).
const CTX_REACH: u64 = 1 << 15;

impl Region {
    /// The bytes from `base` on that this region answers for: its length, or for a checked
    /// context, everything an instruction can reach from the context pointer.
    fn reach(&self) -> u64 {
        if self.checked {
            self.len.max(CTX_REACH)
        } else {
            self.len
        }
    }
}

/// A region as native code sees it: virtual `[base, base + len)` lives at host address `host`.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    /// First virtual address.
    pub base: u64,
    /// Length in bytes.
    pub len: u64,
    /// Stores allowed.
    pub writable: bool,
    /// Host address of the first byte.
    pub host: *mut u8,
    /// One frame's stack (engines may cache it apart from the other regions).
    pub stack: bool,
}

/// A faulting access, before it is tied to an instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault(pub ErrorKind);

/// The memory of one VM: engine-owned buffers plus the region table.
#[derive(Debug, Default)]
pub struct Memory {
    /// All frames' stacks, `MAX_CALL_FRAMES * STACK_SIZE` bytes.
    pub stack: Vec<u8>,
    /// The context structure.
    pub ctx: Vec<u8>,
    /// The packet buffer: headroom, then the packet.
    pub packet: Vec<u8>,
    /// The input buffer of `mem` programs (and of `tracepoint`/`syscall` contexts is `ctx`).
    pub input: Vec<u8>,
    /// The program's maps (index = map index); regions of kind `Map(i)` view their flat storage.
    pub maps: Vec<Map>,
    /// Mapped regions.
    pub regions: Vec<Region>,
    /// Per frame, the key a `bpf_for_each_map_elem` callback running there was handed.
    pub callback_keys: Vec<Vec<u8>>,
    /// The kernel's layout of the context, which accesses to `checked` regions are validated
    /// against (`None` when the context is a plain buffer: `mem`, `syscall`).
    pub ctx_layout: Option<&'static CtxLayout>,
    /// Byte offsets in [`Memory::ctx`] of the `data` and `data_end` fields, when the context
    /// has packet pointers (looked up once per run, not per `BPF_LD_ABS`).
    pub packet_fields: Option<(usize, usize)>,
    /// What skb programs' packet-changing helpers need and record (see [`super::skb`]).
    pub skb: super::skb::SkbState,
    /// Byte offset in [`Memory::ctx`] of XDP's `data_meta`, found with `packet_fields`.
    pub(super) xdp_meta_field: Option<usize>,
    /// A copy of the last-hit unchecked region: tried first, since loops hammer the same region.
    /// Kept as plain fields so the fast path reads no table and no `Vec`.
    hot: Hot,
    /// Context accesses the layout's rules allowed since the table was installed, packed by
    /// [`ctx_key`]: a program reads the same few fields on every run, and a hit skips the rules
    /// (which name the field, in a string). Installing a table forgets them.
    ctx_ok: [u32; CTX_OK_MAX],
    /// How many of `ctx_ok` are filled.
    ctx_ok_len: usize,
    /// The first `MAX_CALL_FRAMES` regions are exactly the frames' stacks, so a stack address
    /// can be resolved arithmetically (see [`Memory::stack_index`]).
    stack_mapped: bool,
    /// Counts the region tables installed (see [`Memory::table_gen`]).
    table_gen: u64,
    /// Frames `0..stack_dirty` may hold bytes from an earlier run: [`Memory::setup`] zeroes
    /// those. Every write through this type raises it ([`Memory::write`], helper writes,
    /// [`Memory::resolve`] for native code), so a run that leaves the stack alone pays nothing.
    pub stack_dirty: usize,
    /// Where `bpf_redirect` or `bpf_redirect_map` last sent the packet in this run, in words.
    pub redirect: Option<String>,
    /// The packet buffer's headroom may hold bytes from an earlier run (an XDP program moved
    /// `data`/`data_meta` into it): [`Memory::setup`] zeroes it again only then.
    pub(super) headroom_dirty: bool,
    /// The names of the map-value regions, moved out of the last table while the next one is
    /// built, so a run formats no names (index = map index).
    pub(super) map_region_names: Vec<Option<std::borrow::Cow<'static, str>>>,
    /// [`Memory::packet`] and [`Memory::ctx`] as lent to the last outcome (see
    /// [`Memory::outcome`]): they are empty from the outcome until the next setup.
    pub(super) packet_lent: super::out_bytes::Lent,
    pub(super) ctx_lent: super::out_bytes::Lent,
    /// What the last XDP setup was for, while its context and region table still stand as it
    /// left them: a run on a packet of the same length then only copies the packet in.
    /// Anything that changes the table or the context's pointers forgets it.
    pub(super) xdp_ready: Option<XdpShape>,
}

/// What an XDP run's context and region table depend on besides the packet bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct XdpShape {
    /// Packet length.
    pub(super) len: usize,
    /// `ingress_ifindex`.
    pub(super) ingress_ifindex: u32,
    /// `rx_queue_index`.
    pub(super) rx_queue_index: u32,
    /// Number of maps (their value regions are in the table).
    pub(super) maps: usize,
}

/// How many allowed context accesses [`Memory`] remembers.
const CTX_OK_MAX: usize = 8;

/// An access of `size` bytes at offset `o` into the context, a store when `write`, as one word.
fn ctx_key(o: u64, size: usize, write: bool) -> u32 {
    ((o as u32) << 5) | ((size as u32) << 1) | u32::from(write)
}

/// The bounds of the last-hit region (see [`Memory::find`]). `len == 0` never matches.
#[derive(Clone, Copy, Debug)]
struct Hot {
    base: u64,
    len: u64,
    writable: bool,
    backing: Backing,
    start: usize,
    /// Host address of the region's first byte, so a hit reads or writes with no lookup of
    /// the backing. Valid while the backing buffer is not reallocated: every place that can
    /// reallocate one (a setup, a new table, a helper call) forgets the hot region.
    host: *mut u8,
}

impl Default for Hot {
    fn default() -> Hot {
        Hot { base: 0, len: 0, writable: false, backing: Backing::Input, start: 0, host: std::ptr::null_mut() }
    }
}

impl Memory {
    /// Empty memory with zeroed stacks.
    pub fn new() -> Memory {
        Memory { stack: vec![0; MAX_CALL_FRAMES * STACK_SIZE], ..Memory::default() }
    }

    /// Installs a table whose first `MAX_CALL_FRAMES` regions are [`Memory::stack_region`]s, as
    /// [`Memory::setup`] builds it, without comparing them again.
    pub(super) fn set_regions_with_stacks(&mut self, regions: Vec<Region>) {
        self.xdp_ready = None;
        self.ctx_ok_len = 0;
        debug_assert!(regions.iter().zip((0..MAX_CALL_FRAMES).map(Memory::stack_region)).all(|(r, s)| *r == s));
        self.stack_mapped = self.stack.len() >= MAX_CALL_FRAMES * STACK_SIZE && regions.len() >= MAX_CALL_FRAMES;
        self.regions = regions;
        self.table_gen += 1;
        self.hot = Hot::default();
    }

    /// Whether the first `MAX_CALL_FRAMES` regions are the standard stacks (then a new table
    /// may keep them).
    pub(super) fn stacks_mapped(&self) -> bool {
        self.stack_mapped
    }

    /// Forgets the last-hit region: call it whenever a backing buffer may have been
    /// reallocated (the buffers behind the table were refilled, a helper ran).
    pub fn forget_hot(&mut self) {
        // A zero length never matches: one store, on every run's setup and every helper call.
        self.hot.len = 0;
    }

    /// Makes the packet bytes `[start, start + len)` of the buffer the last-hit region: the
    /// table's packet region, as an XDP setup that reuses the table knows it.
    #[inline(always)]
    pub(super) fn hot_packet(&mut self, start: usize, len: usize) {
        debug_assert!(self
            .regions
            .iter()
            .any(|r| r.backing == Backing::Packet && r.start == start && r.len == len as u64));
        self.hot = match self.packet.get_mut(start..start + len) {
            Some(bytes) => Hot {
                base: PACKET_BASE + start as u64,
                len: len as u64,
                writable: true,
                backing: Backing::Packet,
                start,
                host: bytes.as_mut_ptr(),
            },
            None => Hot::default(),
        };
    }

    /// Replaces the region table (keeps the buffers).
    pub fn set_regions(&mut self, regions: Vec<Region>) {
        self.xdp_ready = None;
        self.ctx_ok_len = 0;
        self.stack_mapped = self.stack.len() >= MAX_CALL_FRAMES * STACK_SIZE
            && regions.len() >= MAX_CALL_FRAMES
            && regions.iter().zip((0..MAX_CALL_FRAMES).map(Memory::stack_region)).all(|(r, s)| {
                (r.base, r.len, r.writable, r.backing, r.start, r.checked)
                    == (s.base, s.len, s.writable, s.backing, s.start, s.checked)
            });
        self.regions = regions;
        self.table_gen += 1;
        self.hot = Hot::default();
    }

    /// Changes whenever a new region table is installed (every table change goes through
    /// [`Memory::set_regions`]): an engine may keep what it derived from the table (which region
    /// is the packet, its limits) while this stays the same. Host addresses it must still take
    /// afresh each run, as the buffers behind the regions are refilled and lent.
    pub fn table_gen(&self) -> u64 {
        self.table_gen
    }

    /// Maps `key` read-only for a callback running in frame `depth` (named `name` in messages)
    /// and returns its address. The previous key of that depth is replaced, so host pointers
    /// into it (native code's windows) must be dropped.
    pub fn set_callback_key(&mut self, depth: usize, key: &[u8], name: String) -> u64 {
        if self.callback_keys.len() <= depth {
            self.callback_keys.resize(depth + 1, Vec::new());
        }
        self.callback_keys[depth] = key.to_vec();
        let base = CALLBACK_KEY_BASE + depth as u64 * STACK_STRIDE;
        let region = Region {
            base,
            len: key.len() as u64,
            writable: false,
            backing: Backing::CallbackKey(depth),
            start: 0,
            name: name.into(),
            checked: false,
        };
        let mut regions = std::mem::take(&mut self.regions);
        match regions.iter_mut().find(|r| r.backing == region.backing) {
            Some(r) => *r = region,
            None => regions.push(region),
        }
        self.set_regions(regions);
        base
    }

    /// The index in [`Memory::stack`] of an `n`-byte access at `addr` when it lies wholly within
    /// one frame's stack. Frames sit `STACK_STRIDE` apart, so this is arithmetic, not a search.
    #[inline(always)]
    fn stack_index(&self, addr: u64, n: usize) -> Option<usize> {
        let o = addr.wrapping_sub(STACK_BASE);
        let within = o & (STACK_STRIDE - 1);
        if self.stack_mapped && o < MAX_CALL_FRAMES as u64 * STACK_STRIDE && within + n as u64 <= STACK_SIZE as u64 {
            Some((o / STACK_STRIDE) as usize * STACK_SIZE + within as usize)
        } else {
            None
        }
    }

    /// Where a scan for an access [`Memory::stack_index`] did not resolve may start: past the
    /// stacks when the table has the standard ones (an access it refused overruns a stack or
    /// misses them all, and the scan then finds no region either way).
    #[inline(always)]
    fn past_stacks(&self) -> usize {
        if self.stack_mapped {
            MAX_CALL_FRAMES
        } else {
            0
        }
    }

    /// The regions for the stacks of every frame.
    pub fn stack_regions() -> Vec<Region> {
        (0..MAX_CALL_FRAMES).map(Memory::stack_region).collect()
    }

    /// The region of frame `f`'s stack.
    pub fn stack_region(f: usize) -> Region {
        Region {
            base: stack_base(f),
            len: STACK_SIZE as u64,
            writable: true,
            backing: Backing::Stack(f),
            start: 0,
            name: STACK_NAMES[f].into(),
            checked: false,
        }
    }

    fn backing(&self, b: Backing) -> &[u8] {
        match b {
            Backing::Stack(f) => self.stack.get(f * STACK_SIZE..(f + 1) * STACK_SIZE).unwrap_or(&[]),
            Backing::Ctx => &self.ctx,
            Backing::Packet => &self.packet,
            Backing::Input => &self.input,
            Backing::Map(i) => self.maps.get(i).map_or(&[], |m| m.storage()),
            Backing::CallbackKey(f) => self.callback_keys.get(f).map_or(&[], Vec::as_slice),
        }
    }

    /// The host address of `len` bytes at `start` in backing `b`, when the buffer holds them:
    /// what [`Memory::window`] finds, for an engine that already knows the region (its buffer
    /// may have moved since).
    #[inline(always)]
    pub fn backing_host(&mut self, b: Backing, start: usize, len: u64) -> Option<*mut u8> {
        Some(self.backing_mut(b).get_mut(start..start.checked_add(len as usize)?)?.as_mut_ptr())
    }

    fn backing_mut(&mut self, b: Backing) -> &mut [u8] {
        match b {
            Backing::Stack(f) => self.stack.get_mut(f * STACK_SIZE..(f + 1) * STACK_SIZE).unwrap_or(&mut []),
            Backing::Ctx => &mut self.ctx,
            Backing::Packet => &mut self.packet,
            Backing::Input => &mut self.input,
            Backing::Map(i) => self.maps.get_mut(i).map_or(&mut [], |m| m.storage_mut()),
            Backing::CallbackKey(f) => self.callback_keys.get_mut(f).map_or(&mut [], Vec::as_mut_slice),
        }
    }

    /// Finds the region holding `[addr, addr + size)` and the offset of `addr` in its backing.
    /// The last-hit region is tried first; the table is small, so the miss path is a scan.
    /// (Stack accesses never get here on success: [`Memory::read`] and [`Memory::write`] resolve
    /// them arithmetically first, so a loop over a buffer that spills to the stack keeps
    /// hitting the cache for the buffer.)
    #[inline(always)]
    fn find(&mut self, addr: u64, size: usize, access: Access) -> Result<(Backing, usize), Fault> {
        let h = self.hot;
        let o = addr.wrapping_sub(h.base);
        if o < h.len && size as u64 <= h.len - o && (access == Access::Read || h.writable) {
            return Ok((h.backing, h.start + o as usize));
        }
        self.find_slow(addr, size, access, 0)
    }

    // Out of line: a miss of the last-hit cache is rare in loops, and the scan would bloat the
    // run loop, where `read`/`write` are inlined.
    #[inline(never)]
    /// (`first`: the table index to scan from: [`Memory::read`] and [`Memory::write`] skip the
    /// stacks, which they resolve arithmetically before, when the table has the standard ones.)
    fn find_slow(&mut self, addr: u64, size: usize, access: Access, first: usize) -> Result<(Backing, usize), Fault> {
        let r = &self.regions[self.lookup_from(addr, size, access, first)?];
        let (base, len, writable, backing, start) = (r.base, r.len, r.writable, r.backing, r.start);
        if r.checked && (backing, base, start) == (Backing::Ctx, CTX_BASE, 0) && self.ctx_ok_len < CTX_OK_MAX {
            self.ctx_ok[self.ctx_ok_len] = ctx_key(addr - base, size, access == Access::Write);
            self.ctx_ok_len += 1;
        }
        if !r.checked {
            // Cached only when the whole region is in its backing (else every access takes
            // this path and reports the overrun).
            if let Some(bytes) = self.backing_mut(backing).get_mut(start..start + len as usize) {
                let host = bytes.as_mut_ptr();
                self.hot = Hot { base, len, writable, backing, start, host };
            }
        }
        Ok((backing, start + (addr - base) as usize))
    }

    /// The index of the region holding `[addr, addr + size)`, scanning the table in order.
    fn lookup(&self, addr: u64, size: usize, access: Access) -> Result<usize, Fault> {
        self.lookup_from(addr, size, access, 0)
    }

    /// [`Memory::lookup`] from table index `first` on (the regions before it cannot hold the
    /// access).
    fn lookup_from(&self, addr: u64, size: usize, access: Access, first: usize) -> Result<usize, Fault> {
        for (i, r) in self.regions.iter().enumerate().skip(first) {
            let o = addr.wrapping_sub(r.base);
            if o >= r.reach() {
                continue;
            }
            // The context's layout speaks first, as the verifier would: also for stores to a
            // read-only context and for accesses at or running past its end.
            if r.checked {
                self.check_ctx(o, size, access)?;
            }
            if o >= r.len || size as u64 > r.len - o {
                continue;
            }
            if access == Access::Write && !r.writable {
                return Err(Fault(ErrorKind::ReadOnly { addr, region: r.name.to_string() }));
            }
            return Ok(i);
        }
        Err(Fault(self.describe(addr, size, access)))
    }

    /// Resolves an access for native code: the host address of `[addr, addr + size)`, checked
    /// exactly as [`Memory::read`]/[`Memory::write`] check it, plus the region's window when
    /// native code may reuse it without asking again (not for the context, whose accesses
    /// follow the layout's rules and refuse atomics). The pointers stay valid until the
    /// buffers change: after a helper call or a new [`Memory::setup`].
    pub fn resolve(&mut self, addr: u64, size: usize, access: Access) -> Result<(*mut u8, Option<Window>), Fault> {
        let i = self.lookup(addr, size, access)?;
        let r = &self.regions[i];
        let (base, len, writable, backing, start, cacheable) =
            (r.base, r.len, r.writable, r.backing, r.start, !r.checked && r.backing != Backing::Ctx);
        let Some(bytes) = self.backing_mut(backing).get_mut(start..start + len as usize) else {
            return Err(Fault(self.describe(addr, size, access)));
        };
        let host = bytes.as_mut_ptr();
        if let Backing::Stack(f) = backing {
            self.stack_dirty = self.stack_dirty.max(f + 1);
        }
        let window =
            cacheable.then_some(Window { base, len, writable, host, stack: matches!(backing, Backing::Stack(_)) });
        // SAFETY: `lookup` placed `[addr, addr + size)` within the region's `len` bytes.
        Ok((unsafe { host.add((addr - base) as usize) }, window))
    }

    /// Validates an access at `offset` into the context with the kernel's rules for the program
    /// type ([`CtxLayout::check_access`]), worded like the verifier's refusal plus which field
    /// and why.
    #[cold]
    fn check_ctx(&self, offset: u64, size: usize, access: Access) -> Result<(), Fault> {
        let Some(layout) = self.ctx_layout else { return Ok(()) };
        let Err(e) = layout.check_access(offset as i64, size as u32, access == Access::Write) else { return Ok(()) };
        let mut reason = e.reason;
        // Name the field touched when the rule's explanation does not already (misalignment,
        // spans, the end of the structure).
        if let Some(f) = u32::try_from(offset).ok().and_then(|o| layout.field_containing(o)) {
            let name = f.element_name(offset as u32);
            if !reason.contains(f.name) {
                reason = format!("{reason}, at `{name}` in {}", layout.struct_name);
            }
        }
        Err(Fault(ErrorKind::BadCtxAccess { offset, size, access, reason }))
    }

    /// The window of region `i`, as [`Memory::resolve`] would hand it out, without the search:
    /// for engines that cache the packet or input buffer before a run. `None` for the stacks
    /// (whose use [`Memory::resolve`] records in `stack_dirty`) and the context (checked per
    /// access). Inlined: the JIT takes its first window this way on every run.
    #[inline]
    pub fn window(&mut self, i: usize) -> Option<Window> {
        let r = self.regions.get(i)?;
        if r.checked || matches!(r.backing, Backing::Stack(_) | Backing::Ctx) {
            return None;
        }
        let (base, len, writable, backing, start) = (r.base, r.len, r.writable, r.backing, r.start);
        let host = self.backing_host(backing, start, len)?;
        Some(Window { base, len, writable, host, stack: false })
    }

    /// Refuses a `BPF_ATOMIC` on the context, as the verifier does whatever the field
    /// (`BPF_ATOMIC stores into R1 ctx is not allowed`): the kernel's context is a rewritten view
    /// of its own structures, with no memory a read-modify-write could work on. One compare on
    /// the atomics' path.
    #[inline(always)]
    pub fn refuse_ctx_atomic(&self, addr: u64, size: usize) -> Result<(), Fault> {
        let o = addr.wrapping_sub(CTX_BASE);
        if o < CTX_REACH && self.ctx_layout.is_some() {
            return Err(Fault(ErrorKind::BadCtxAccess {
                offset: o,
                size,
                access: Access::Write,
                reason: "atomic operations on the context are not allowed".into(),
            }));
        }
        Ok(())
    }

    /// Describes an unmapped address relative to the nearest region. (Only faults get here:
    /// cold and out of line, so the run loop's access paths stay short.)
    #[cold]
    #[inline(never)]
    pub fn describe(&self, addr: u64, size: usize, access: Access) -> ErrorKind {
        if addr < NULL_PAGE_END {
            return ErrorKind::NullDeref { addr, access };
        }
        let mut best: Option<(u64, String)> = None;
        for r in &self.regions {
            let end = r.base + r.len;
            let (dist, place) = if addr >= r.base && addr < end {
                (0, format!("{size}-byte access at offset {} overruns the {} ({} bytes)", addr - r.base, r.name, r.len))
            } else if addr >= end {
                (addr - end, format!("{} bytes past the end of the {}", addr - end, r.name))
            } else {
                (r.base - addr, format!("{} bytes before the start of the {}", r.base - addr, r.name))
            };
            if best.as_ref().is_none_or(|(d, _)| dist < *d) {
                best = Some((dist, place));
            }
        }
        // Near a region it is an overrun of that region; farther away (a wild pointer) naming the
        // nearest region would mislead (a program without calls has no "stack of frame 7").
        let place = match best {
            Some((d, p)) if d < STACK_STRIDE => p,
            _ => "not in any memory the program can access (a wild pointer)".to_string(),
        };
        ErrorKind::OutOfBounds { addr, size, access, place }
    }

    /// Reads `N` bytes (1, 2, 4 or 8) little endian, zero-extended.
    #[inline(always)]
    pub fn read<const N: usize>(&mut self, addr: u64) -> Result<u64, Fault> {
        if let Some(s) = self.stack_index(addr, N).and_then(|i| self.stack.get(i..i + N)) {
            let mut a = [0u8; 8];
            a[..N].copy_from_slice(s);
            return Ok(u64::from_le_bytes(a));
        }
        let h = self.hot;
        let o = addr.wrapping_sub(h.base);
        if o < h.len && N as u64 <= h.len - o {
            let mut a = [0u8; 8];
            // SAFETY: `[o, o + N)` lies within the hot region's `len` bytes, which `find_slow`
            // found in its backing buffer at `host`; that buffer has not been reallocated
            // since (whatever may reallocate one forgets the hot region).
            unsafe { std::ptr::copy_nonoverlapping(h.host.add(o as usize), a.as_mut_ptr(), N) };
            return Ok(u64::from_le_bytes(a));
        }
        if let Some(s) = self.ctx_allowed(addr, N, Access::Read).and_then(|o| self.ctx.get(o..o + N)) {
            let mut a = [0u8; 8];
            a[..N].copy_from_slice(s);
            return Ok(u64::from_le_bytes(a));
        }
        let (b, o) = self.find_slow(addr, N, Access::Read, self.past_stacks())?;
        let bytes = self.backing(b);
        let mut a = [0u8; 8];
        match bytes.get(o..o + N) {
            Some(s) => a[..N].copy_from_slice(s),
            None => return Err(Fault(self.describe(addr, N, Access::Read))),
        }
        Ok(u64::from_le_bytes(a))
    }

    /// Writes the low `N` bytes of `value` little endian.
    #[inline(always)]
    pub fn write<const N: usize>(&mut self, addr: u64, value: u64) -> Result<(), Fault> {
        let a = value.to_le_bytes();
        if let Some(i) = self.stack_index(addr, N) {
            if let Some(s) = self.stack.get_mut(i..i + N) {
                s.copy_from_slice(&a[..N]);
                // The next setup zeroes the frames written (one predictable branch here, against
                // zeroing all 4 KiB of stacks on every run).
                let frame = i / STACK_SIZE + 1;
                if frame > self.stack_dirty {
                    self.stack_dirty = frame;
                }
                return Ok(());
            }
        }
        let h = self.hot;
        let o = addr.wrapping_sub(h.base);
        if o < h.len && N as u64 <= h.len - o && h.writable {
            // SAFETY: as in `read`: `[o, o + N)` is within the hot region, alive at `host`.
            unsafe { std::ptr::copy_nonoverlapping(a.as_ptr(), h.host.add(o as usize), N) };
            return Ok(());
        }
        if let Some(o) = self.ctx_allowed(addr, N, Access::Write) {
            if let Some(s) = self.ctx.get_mut(o..o + N) {
                s.copy_from_slice(&a[..N]);
                return Ok(());
            }
        }
        let (b, o) = self.find_slow(addr, N, Access::Write, self.past_stacks())?;
        match self.backing_mut(b).get_mut(o..o + N) {
            Some(s) => {
                s.copy_from_slice(&a[..N]);
                Ok(())
            }
            None => Err(Fault(self.describe(addr, N, Access::Write))),
        }
    }

    /// The offset in [`Memory::ctx`] of an access the context's rules allowed before (see
    /// `ctx_ok`), if it is one.
    #[inline(always)]
    fn ctx_allowed(&self, addr: u64, size: usize, access: Access) -> Option<usize> {
        let o = addr.wrapping_sub(CTX_BASE);
        if o >= self.ctx.len() as u64 {
            return None;
        }
        let key = ctx_key(o, size, access == Access::Write);
        self.ctx_ok[..self.ctx_ok_len.min(CTX_OK_MAX)].contains(&key).then_some(o as usize)
    }

    /// Finds a region without touching the last-hit cache (for `&self` callers such as helpers).
    fn locate(&self, addr: u64, size: usize) -> Result<(Backing, usize), Fault> {
        for r in &self.regions {
            let o = addr.wrapping_sub(r.base);
            if o >= r.reach() {
                continue;
            }
            if r.checked {
                self.check_ctx(o, size, Access::Read)?;
            }
            if o < r.len && size as u64 <= r.len - o {
                return Ok((r.backing, r.start + o as usize));
            }
        }
        Err(Fault(self.describe(addr, size, Access::Read)))
    }

    /// Reads `len` bytes for a helper (within one region).
    pub fn read_bytes(&self, addr: u64, len: usize) -> Result<Vec<u8>, Fault> {
        if len == 0 {
            return Ok(Vec::new());
        }
        let (b, o) = self.locate(addr, len)?;
        let slice = self.backing(b).get(o..o + len).map(<[u8]>::to_vec);
        slice.ok_or_else(|| Fault(self.describe(addr, len, Access::Read)))
    }

    /// Writes `data` for a helper.
    pub fn write_bytes(&mut self, addr: u64, data: &[u8]) -> Result<(), Fault> {
        if !data.is_empty() {
            self.write_target(addr, data.len())?.copy_from_slice(data);
        }
        Ok(())
    }

    /// Writes `len` zero bytes at `addr` (checked as one write), without a buffer of `len`
    /// bytes: a helper's size argument may be anything an unverified program passes.
    pub fn zero_bytes(&mut self, addr: u64, len: usize) -> Result<(), Fault> {
        if len != 0 {
            self.write_target(addr, len)?.fill(0);
        }
        Ok(())
    }

    /// The `len` bytes a helper writes at `addr` (checked as one write; a stack frame written
    /// is marked for the next setup to zero).
    fn write_target(&mut self, addr: u64, len: usize) -> Result<&mut [u8], Fault> {
        let (b, o) = self.find(addr, len, Access::Write)?;
        if let Backing::Stack(f) = b {
            self.stack_dirty = self.stack_dirty.max(f + 1);
        }
        let end = o.saturating_add(len);
        if self.backing_mut(b).get(o..end).is_none() {
            return Err(Fault(self.describe(addr, len, Access::Write)));
        }
        Ok(&mut self.backing_mut(b)[o..end])
    }
}

/// `SKF_NET_OFF`: legacy packet offsets from here up to -1 count from the network header.
pub const SKF_NET_OFF: i32 = -0x10_0000;
/// `SKF_LL_OFF`: legacy packet offsets from here up to `SKF_NET_OFF` count from the link-layer
/// (Ethernet) header.
pub const SKF_LL_OFF: i32 = -0x20_0000;

/// Legacy packet load: `size` bytes at `off` from the skb's `data`, **big endian** (network
/// order), as the kernel's `bpf_skb_load_helper` does. `None` when out of bounds, in which case
/// the kernel ends the program returning 0.
///
/// Negative offsets are the classic BPF ancillary areas of `bpf_internal_load_pointer_neg_helper`:
/// `[SKF_NET_OFF, 0)` reads from the network header, `[SKF_LL_OFF, SKF_NET_OFF)` from the
/// Ethernet header, both up to the packet's tail; anything lower is out of bounds. In a test run
/// the Ethernet header is the frame's first byte and the network header follows it.
pub fn load_packet(mem: &Memory, off: i32, size: u8) -> Option<u64> {
    let (data, end) = mem.packet_fields?;
    let data = super::ctx_build::get_u32(&mem.ctx, data) as u64;
    let end = usize::try_from((super::ctx_build::get_u32(&mem.ctx, end) as u64).checked_sub(PACKET_BASE)?).ok()?;
    let start = if off >= 0 {
        usize::try_from(data.checked_add(off as u64)?.checked_sub(PACKET_BASE)?).ok()?
    } else {
        let mac = PACKET_HEADROOM as usize;
        let net = mac + super::ctx_build::ETH_HLEN.min(end.saturating_sub(mac));
        if off >= SKF_NET_OFF {
            net + (off - SKF_NET_OFF) as usize
        } else if off >= SKF_LL_OFF {
            mac + (off - SKF_LL_OFF) as usize
        } else {
            return None;
        }
    };
    if start + size as usize > end {
        return None;
    }
    let bytes = mem.packet.get(start..start + size as usize)?;
    Some(bytes.iter().fold(0u64, |acc, b| (acc << 8) | *b as u64))
}

impl Memory {
    /// `len` bytes at `offset` from the skb's `data`, up to `data_end` (a test run's skb is all
    /// linear): what `skb_header_pointer` finds. `None` without an skb or past the end.
    pub fn skb_bytes(&self, offset: u64, len: usize) -> Option<Vec<u8>> {
        let from = self.skb_range(offset, len)?;
        self.packet.get(from..from + len).map(<[u8]>::to_vec)
    }

    /// Writes `data` at `offset` from the skb's `data`, within `data_end`; `None` without an skb
    /// or past the end.
    pub fn skb_store(&mut self, offset: u64, data: &[u8]) -> Option<()> {
        let from = self.skb_range(offset, data.len())?;
        self.packet.get_mut(from..from + data.len())?.copy_from_slice(data);
        Some(())
    }

    /// The index in [`Memory::packet`] of `len` bytes at `offset` from the skb's `data`, when
    /// they end by `data_end`.
    fn skb_range(&self, offset: u64, len: usize) -> Option<usize> {
        let (data, end) = self.packet_fields?;
        let data = super::ctx_build::get_u32(&self.ctx, data) as u64;
        let end = super::ctx_build::get_u32(&self.ctx, end) as u64;
        let start = data.checked_add(offset)?;
        if start.checked_add(len as u64)? > end {
            return None;
        }
        usize::try_from(start.checked_sub(PACKET_BASE)?).ok()
    }
}

impl Memory {
    /// The ctx offsets of an XDP program's `data_meta`, `data` and `data_end`.
    pub(super) fn xdp_fields(&self) -> Option<[usize; 3]> {
        let (data, end) = self.packet_fields?;
        Some([self.xdp_meta_field?, data, end])
    }

    /// Where `data_meta` is in `layout`, when it is XDP's `struct xdp_md` (the only context
    /// whose metadata a program may move).
    pub(super) fn xdp_meta_of(layout: &CtxLayout) -> Option<usize> {
        if layout.struct_name != "struct xdp_md" {
            return None;
        }
        Some(layout.fields.iter().find(|f| f.kind == super::ctx::FieldKind::PacketMeta)?.offset as usize)
    }

    /// `[data_meta, data, data_end]` of an XDP run.
    pub fn xdp_pointers(&self) -> Option<[u64; 3]> {
        Some(self.xdp_fields()?.map(|f| super::ctx_build::get_u32(&self.ctx, f) as u64))
    }

    /// Moves an XDP run's packet pointers within the buffer `[PACKET_BASE, XDP_DATA_HARD_END)`:
    /// the ctx fields and the packet region follow, and bytes past the old `data_end` become
    /// zeros (the kernel clears grown tailroom). `None` outside XDP or out of the buffer.
    pub fn set_xdp_pointers(&mut self, [meta, data, end]: [u64; 3]) -> Option<()> {
        let fields = self.xdp_fields()?;
        if !(PACKET_BASE <= meta && meta <= data && data <= end && end <= XDP_DATA_HARD_END) {
            return None;
        }
        let old_end = (self.xdp_pointers()?[2] - PACKET_BASE) as usize;
        let new_end = (end - PACKET_BASE) as usize;
        if self.packet.len() < new_end {
            self.packet.resize(new_end, 0);
        }
        if new_end > old_end {
            self.packet[old_end..new_end].fill(0);
        }
        // The headroom now belongs to the program: the next setup zeroes it again, and builds
        // the context and table anew (`set_regions` below forgets the XDP shape).
        self.headroom_dirty = true;
        for (f, v) in fields.into_iter().zip([meta, data, end]) {
            self.ctx[f..f + 4].copy_from_slice(&(v as u32).to_le_bytes());
        }
        let mut regions = std::mem::take(&mut self.regions);
        // The metadata in front of `data` is the program's too.
        for r in regions.iter_mut().filter(|r| r.backing == Backing::Packet) {
            r.base = meta;
            r.start = (meta - PACKET_BASE) as usize;
            r.len = end - meta;
        }
        self.set_regions(regions);
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mem() -> Memory {
        let mut m = Memory::new();
        m.set_regions(Memory::stack_regions());
        m
    }

    #[test]
    fn stack_round_trip_and_errors() {
        let mut m = mem();
        let fp = frame_pointer(0);
        m.write::<8>(fp - 8, 0x1122_3344_5566_7788).unwrap();
        assert_eq!(m.read::<4>(fp - 8).unwrap(), 0x5566_7788);
        let e = m.read::<8>(fp + 8).unwrap_err();
        assert!(e.0.to_string().contains("8 bytes past the end of the stack of frame 0"), "{}", e.0);
        let e = m.read::<8>(0).unwrap_err();
        assert!(e.0.to_string().contains("null pointer dereference"));
        let e = m.read::<8>(fp - 4).unwrap_err();
        assert!(e.0.to_string().contains("overruns the stack of frame 0"), "{}", e.0);
        // The gap between frames is unmapped; frame 7's stack is the last one.
        assert!(m.read::<1>(fp).is_err());
        m.write::<1>(frame_pointer(7) - 1, 5).unwrap();
        assert_eq!(m.read::<1>(frame_pointer(7) - 1).unwrap(), 5);
        assert!(m.read::<1>(frame_pointer(7)).is_err());
        assert!(m.read::<1>(stack_base(8)).is_err());
    }

    #[test]
    fn the_arithmetic_stack_path_needs_the_stack_regions() {
        // Without a region table nothing is mapped, not even the stack buffer.
        let mut m = Memory::new();
        assert!(m.read::<8>(frame_pointer(0) - 8).is_err());
        let mut regions = Memory::stack_regions();
        regions[3].writable = false;
        m.set_regions(regions);
        // A table that differs from the standard stacks takes the table's word for it.
        assert!(m.write::<8>(frame_pointer(3) - 8, 1).is_err());
        assert!(m.write::<8>(frame_pointer(0) - 8, 1).is_ok());
    }
}
