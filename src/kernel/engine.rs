//! The kernel as an [`Engine`]: the same [`Input`] the interpreter takes, translated into
//! `BPF_PROG_TEST_RUN`'s data and ctx buffers, and the results translated back.
//!
//! What the kernel can take: `__sk_buff` fields `mark`, `priority`, `ingress_ifindex`,
//! `ifindex` and `cb[]` (the kernel's `convert___skb_to_skb` refuses the others), and for XDP an
//! `xdp_md` with `ingress_ifindex`/`rx_queue_index` of an existing device (loopback is
//! ifindex 1, the default).

use super::backend::{KernelInput, KernelProgram, LoadOptions};
use super::error::KernelError;
use crate::engine::{Engine, EngineError, EngineRun, MapEntries};
use crate::program::{ProgType, Program};
use crate::runtime::ctx::ctx_layout;
use crate::runtime::run::{Input, OutBytes, RunOutcome};

/// A program loaded into the running kernel, usable as an engine.
#[derive(Debug)]
pub struct KernelEngine {
    program: Program,
    kernel: KernelProgram,
}

impl KernelEngine {
    /// Loads `program` (and creates its maps). A verifier rejection is an error carrying the log.
    /// `input` fixes the buffer length of `mem` programs, which the verifier sees as a constant.
    pub fn load(program: &Program, options: &LoadOptions, input: &Input) -> Result<KernelEngine, EngineError> {
        let mut options = *options;
        if let Input::Mem(buf) = input {
            options.mem_len = buf.len() as u32;
        }
        let kernel = KernelProgram::load(program, &options).map_err(EngineError::Kernel)?;
        if let Some(error) = &kernel.verdict().error {
            return Err(EngineError::Rejected { error: error.clone(), log: kernel.verdict().log.clone() });
        }
        Ok(KernelEngine { program: program.clone(), kernel })
    }

    /// The loaded program (its verdict, log and maps).
    pub fn kernel_program(&self) -> &KernelProgram {
        &self.kernel
    }
}

/// Writes `v` at field `name` (element `idx`) of the context layout of `prog_type`.
fn put_field(ctx: &mut [u8], prog_type: ProgType, name: &str, idx: u32, v: u32) {
    let field = ctx_layout(prog_type).and_then(|l| l.fields.iter().find(|f| f.name == name).copied());
    if let Some(f) = field {
        let at = (f.offset + idx * f.elem) as usize;
        if let Some(slot) = ctx.get_mut(at..at + 4) {
            slot.copy_from_slice(&v.to_le_bytes());
        }
    }
}

/// Packet and context bytes for `BPF_PROG_TEST_RUN`.
type Buffers = (Option<Vec<u8>>, Option<Vec<u8>>);

/// The kernel's view of `input`: owned buffers for data and ctx.
fn translate(prog_type: ProgType, input: &Input) -> Result<Buffers, EngineError> {
    let unsupported = |what: &str| EngineError::Unsupported(format!("the kernel's test_run cannot set {what}"));
    Ok(match input {
        Input::Mem(buf) | Input::Syscall(buf) | Input::Tracepoint(buf) => (None, Some(buf.clone())),
        Input::Ctx(bytes) => {
            // The whole structure, as the interpreter sees it (padded with zeros).
            let size = ctx_layout(prog_type).map_or(bytes.len(), |l| l.size as usize);
            let mut ctx = bytes.clone();
            ctx.resize(size.max(bytes.len()), 0);
            (None, Some(ctx))
        }
        Input::Xdp { packet, ingress_ifindex, rx_queue_index } => {
            let ctx = if (*ingress_ifindex, *rx_queue_index) == (1, 0) {
                None
            } else {
                // test_run takes data = 0 and data_end = the packet length in the xdp_md it is given.
                let mut md = vec![0u8; ctx_layout(ProgType::Xdp).map_or(24, |l| l.size as usize)];
                put_field(&mut md, ProgType::Xdp, "data_end", 0, packet.len() as u32);
                put_field(&mut md, ProgType::Xdp, "ingress_ifindex", 0, *ingress_ifindex);
                put_field(&mut md, ProgType::Xdp, "rx_queue_index", 0, *rx_queue_index);
                Some(md)
            };
            (Some(packet.clone()), ctx)
        }
        Input::Skb { packet, fields } => {
            if fields.tc_index != 0 {
                return Err(unsupported("__sk_buff.tc_index"));
            }
            if fields.hash != 0 {
                return Err(unsupported("__sk_buff.hash"));
            }
            if fields.vlan_tci != 0 {
                return Err(unsupported("__sk_buff.vlan_tci"));
            }
            let size = ctx_layout(prog_type).map_or(192, |l| l.size as usize);
            let mut ctx = vec![0u8; size];
            put_field(&mut ctx, ProgType::Socket, "mark", 0, fields.mark);
            put_field(&mut ctx, ProgType::Socket, "priority", 0, fields.priority);
            put_field(&mut ctx, ProgType::Socket, "ingress_ifindex", 0, fields.ingress_ifindex);
            put_field(&mut ctx, ProgType::Socket, "ifindex", 0, fields.ifindex);
            for (i, v) in fields.cb.iter().enumerate() {
                put_field(&mut ctx, ProgType::Socket, "cb", i as u32, *v);
            }
            // Always a context, even an all-zero one: with one, `convert___skb_to_skb` sets
            // `wire_len` to the skb's length (without, it stays 0), so the fields a program
            // reads do not depend on whether the user happened to set one.
            (Some(packet.clone()), Some(ctx))
        }
    })
}

fn kernel_err(e: KernelError) -> EngineError {
    EngineError::Kernel(e)
}

impl Engine for KernelEngine {
    fn name(&self) -> &'static str {
        "kernel"
    }

    fn run(&mut self, input: &Input) -> Result<EngineRun, EngineError> {
        let prog_type = self.program.prog_type;
        let (packet, ctx) = translate(prog_type, input)?;
        let run = self
            .kernel
            .run(&self.program, &KernelInput { packet: packet.as_deref(), ctx: ctx.as_deref() })
            .map_err(kernel_err)?;
        let outcome = RunOutcome {
            r0: run.r0,
            packet_out: run.data_out.map(OutBytes::new),
            // Only a syscall (or cgroup_sock, run as one) program's ctx is an output in both
            // engines; the kernel's __sk_buff out holds only the fields it converts.
            ctx_out: if matches!(prog_type, ProgType::Syscall | ProgType::CgroupSock) {
                run.ctx_out.map(OutBytes::new)
            } else {
                None
            },
            ..RunOutcome::default()
        };
        Ok(EngineRun { outcome, r0_bits: run.r0_bits })
    }

    fn map_entries(&self, name: &str) -> Option<MapEntries> {
        let idx = self.program.map_index(name)?;
        self.kernel.map_entries(idx).ok()
    }

    fn map_update(&mut self, name: &str, key: &[u8], value: &[u8]) -> Result<(), String> {
        let idx = self.program.map_index(name).ok_or_else(|| format!("no map `{name}`"))?;
        self.kernel.map_fill(idx, key, value).map_err(|e| e.to_string())
    }
}
