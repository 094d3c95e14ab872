//! The report's data: one [`Row`] per instruction with what the verifier knew there, taken
//! from a verification run with `keep_states` and a level-2 log.

use crate::asm::disasm::FormatCtx;
use crate::asm::kernel_log::format_insn;
use crate::isa::{CallTarget, Insn};
use crate::program::Program;
use crate::verifier::reg::{KernelReg, MapInfo, RegKind};
use crate::verifier::state::VState;
use crate::verifier::{self, explain, Verification, VerifyOptions};

/// At most this many distinct states are shown per instruction (the rest are counted).
pub const STATES_SHOWN: usize = 4;

/// At most this many log lines are kept per instruction (a loop checked a million times would
/// make a page of tens of megabytes); the rest are counted.
pub const LOG_SHOWN: usize = 8;

/// One register in one state: number, words and the kernel log's spelling.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegView {
    /// Register number.
    pub reg: u8,
    /// In words ("scalar in [0, 255]").
    pub words: String,
    /// As the kernel log prints it.
    pub kernel: String,
}

/// One abstract state, described.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateView {
    /// The written registers of the innermost frame (not r10: always that frame's pointer).
    pub regs: Vec<RegView>,
    /// Stack slots in the kernel log's notation (`fp-8=mmmmmmmm`).
    pub stack: Vec<String>,
    /// Packet bytes proven readable (the largest range of a packet pointer), when one is held.
    pub packet_range: Option<i32>,
    /// Call depth (1 for the program's own frame).
    pub frames: usize,
}

/// One instruction of the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// Slot index (the kernel log's instruction number).
    pub slot: usize,
    /// The instruction as the kernel log prints it.
    pub text: String,
    /// Source line number and text, when the program has a source.
    pub source: Option<(usize, String)>,
    /// The distinct states met on entry (at most [`STATES_SHOWN`]).
    pub states: Vec<StateView>,
    /// How many distinct states were met in all.
    pub state_count: usize,
    /// The log lines about this instruction (at most [`LOG_SHOWN`]).
    pub log: Vec<String>,
    /// Log lines about it left out.
    pub log_more: usize,
    /// Times the verifier checked it (more than one: several paths or loop iterations).
    pub visits: usize,
    /// A path ended here on an already verified state.
    pub pruned: bool,
    /// On the path to the rejection.
    pub on_path: bool,
    /// The instruction the rejection names.
    pub error: bool,
}

/// The whole report.
#[derive(Clone, Debug)]
pub struct Model {
    /// The program.
    pub program: Program,
    /// The verification (with states and a level-2 log).
    pub verification: Verification,
    /// Rows by instruction.
    pub rows: Vec<Row>,
    /// Slots of the path to the rejection, in order.
    pub path: Vec<usize>,
    /// The verifier's maps (to describe map pointers).
    pub maps: Vec<MapInfo>,
    /// The kernel's processed-instruction count for the same program, when it was loaded there.
    pub kernel_processed: Option<u64>,
}

impl Model {
    /// Verifies `program` (for `mem` programs with a `mem_len`-byte input) and gathers the report.
    pub fn build(program: &Program, mem_len: u32) -> Model {
        let options = VerifyOptions { log_level: 2, mem_len, keep_states: true, ..VerifyOptions::default() };
        let verification = verifier::verify(program, &options);
        let maps = verifier::explore::Env::new(program, &options).map(|e| e.maps).unwrap_or_default();
        Model::from_verification(program, verification, &maps)
    }

    /// Gathers the report of a finished verification; `maps` names map references.
    pub fn from_verification(program: &Program, verification: Verification, maps: &[MapInfo]) -> Model {
        let pcs = program.slot_pcs();
        let mut logs: Vec<Vec<String>> = vec![Vec::new(); pcs.last().copied().unwrap_or(0)];
        let mut visits = vec![0usize; logs.len()];
        let mut pruned = vec![false; logs.len()];
        let mut more = vec![0usize; logs.len()];
        for line in verification.log.lines() {
            let Some((n, rest)) = line.split_once(':') else { continue };
            let Ok(slot) = n.trim().parse::<usize>() else { continue };
            let Some(l) = logs.get_mut(slot) else { continue };
            if rest.trim() == "safe" {
                pruned[slot] = true;
            } else {
                visits[slot] += 1;
            }
            if l.len() < LOG_SHOWN {
                l.push(line.to_string());
            } else {
                more[slot] += 1;
            }
        }
        let path = error_path(program, &verification);
        let error_slot = verification.error.as_ref().and_then(|e| e.insn);
        let rows = program
            .insns
            .iter()
            .enumerate()
            .map(|(i, insn)| {
                let slot = pcs[i];
                let kept: &[VState] = verification.states.as_ref().and_then(|s| s.get(slot)).map_or(&[], |v| v);
                Row {
                    slot,
                    text: format_insn(insn, &FormatCtx { maps: &program.maps }),
                    source: source_line(program, i),
                    states: kept.iter().take(STATES_SHOWN).map(|s| view(s, maps, program)).collect(),
                    state_count: kept.len(),
                    log: logs.get(slot).cloned().unwrap_or_default(),
                    log_more: more.get(slot).copied().unwrap_or(0),
                    visits: visits.get(slot).copied().unwrap_or(0),
                    pruned: pruned.get(slot).copied().unwrap_or(false),
                    on_path: path.contains(&slot),
                    error: error_slot == Some(slot),
                }
            })
            .collect();
        Model { program: program.clone(), verification, rows, path, maps: maps.to_vec(), kernel_processed: None }
    }

    /// The row of slot `slot`.
    pub fn row_at(&self, slot: usize) -> Option<&Row> {
        self.rows.iter().find(|r| r.slot == slot)
    }
}

/// The source line of instruction `index`: its number and text.
fn source_line(program: &Program, index: usize) -> Option<(usize, String)> {
    let src = program.source.as_ref()?;
    let span = program.span(index)?;
    let (line, _) = src.line_col(span.start);
    Some((line, src.text.lines().nth(line.checked_sub(1)?)?.trim().to_string()))
}

/// One state in words.
pub fn view(st: &VState, maps: &[MapInfo], program: &Program) -> StateView {
    let f = st.cur();
    let regs = f
        .regs
        .iter()
        .enumerate()
        .filter(|(i, r)| r.kind != RegKind::NotInit && *i != 10)
        .map(|(i, r)| RegView {
            reg: i as u8,
            words: explain::describe(r, maps, program.prog_type),
            kernel: KernelReg { reg: r, maps }.to_string(),
        })
        .collect();
    let stack = crate::verifier::log::state_text(st, maps, None)
        .split(' ')
        .filter(|p| p.starts_with("fp-"))
        .map(str::to_string)
        .collect();
    let packet_range = f.regs.iter().filter(|r| r.kind.is_pkt()).map(|r| r.range.max(0)).max();
    StateView { regs, stack, packet_range, frames: st.frames.len() }
}

/// The slots from the entry to the rejected instruction, following the branches the verifier
/// took on that path (every conditional jump records its direction) and the calls and returns
/// between them. Empty when the program was accepted or rejected before exploring.
pub fn error_path(program: &Program, v: &Verification) -> Vec<usize> {
    let Some(err) = &v.error else { return vec![] };
    let Some(target) = err.insn else { return vec![] };
    let Ok(cfg) = verifier::cfg::analyse(&program.insns) else { return vec![target] };
    let mut steps = err.path.iter().peekable();
    let (mut slot, mut calls, mut out) = (0usize, Vec::new(), Vec::new());
    // A path longer than the processed count cannot be the verifier's; stop there.
    for _ in 0..=v.stats.processed.max(1) {
        out.push(slot);
        if slot == target {
            return out;
        }
        let Some(insn) = cfg.insn(&program.insns, slot) else { break };
        slot = match insn {
            Insn::Jmp { .. } => match steps.peek() {
                Some(s) if s.insn == slot => steps.next().map_or(slot + 1, |s| s.to),
                _ => slot + 1,
            },
            Insn::Ja { .. } | Insn::Call(CallTarget::Local(_)) => {
                if matches!(insn, Insn::Call(_)) {
                    calls.push(slot + 1);
                }
                (slot as i64 + insn.branch_offset().unwrap_or(0) + 1) as usize
            }
            Insn::Exit => match calls.pop() {
                Some(ret) => ret,
                None => break,
            },
            other => slot + other.slots(),
        };
    }
    // The walk lost the verifier's way (e.g. a path cut by the complexity limit): mark the
    // error alone rather than a wrong path.
    vec![target]
}
