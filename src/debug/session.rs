//! The debugger's state: a program run once with every step recorded (the interpreter is
//! deterministic, so stepping back is going to an earlier step), the verifier's states per
//! instruction, a position, breakpoints and watched maps; and the commands that move it.

use crate::interp::steps::Recorded;
use crate::interp::{Input, RunOutcome, RuntimeError, Vm};
use crate::isa::{CallTarget, Insn};
use crate::program::Program;
use crate::report::Model;
use crate::verifier::explain;
use crate::verifier::reg::RegKind;
use crate::verifier::state::VState;

pub use crate::interp::steps::MapsSnapshot;

/// A register whose concrete value the verifier's states at that instruction do not admit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The register.
    pub reg: u8,
    /// Its concrete value.
    pub value: u64,
    /// What the verifier believed, in words.
    pub believed: String,
}

/// One debugging session.
pub struct Session {
    /// The program.
    pub program: Program,
    /// The verifier's report (states per instruction, verdict).
    pub model: Model,
    /// The recorded run.
    pub run: Recorded,
    /// How the run ended.
    pub result: Result<RunOutcome, RuntimeError>,
    /// The maps before the first instruction.
    pub maps_start: MapsSnapshot,
    /// The input (for the packet or buffer pane).
    pub input: Input,
    /// Position: how many instructions have run (0 = before the first).
    pub pos: usize,
    /// Breakpoints (slots).
    pub breaks: Vec<usize>,
    /// Watched maps (indices): `continue` stops after a step that changes them.
    pub watches: Vec<usize>,
    /// What the last command found.
    pub status: String,
}

impl Session {
    /// Records the run of `vm` (maps already filled) on `input`, and verifies the program.
    pub fn new(program: &Program, mut vm: Vm, input: Input) -> Session {
        let mem_len = match &input {
            Input::Mem(d) => d.len() as u32,
            _ => 0,
        };
        let model = Model::build(program, mem_len);
        let maps_start = vm.map_snapshot();
        let (result, run) = vm.run_recorded(&input);
        let mut s = Session {
            program: program.clone(),
            model,
            run,
            result,
            maps_start,
            input,
            pos: 0,
            breaks: vec![],
            watches: vec![],
            status: String::new(),
        };
        s.status = match &s.model.verification.error {
            None => "the verifier accepts this program: every value below stays within its state".into(),
            Some(e) => format!(
                "the verifier rejects this program at insn {}: {}",
                e.insn.map_or("?".into(), |i| i.to_string()),
                e.message
            ),
        };
        s
    }

    /// The last position (after the last recorded step).
    pub fn end(&self) -> usize {
        self.run.steps.len()
    }

    /// The slot about to run at position `k`; `None` once the program has exited.
    pub fn pc_at(&self, k: usize) -> Option<usize> {
        match self.run.steps.get(k) {
            Some(s) => Some(s.pc),
            None => self.result.as_ref().err().and_then(|e| e.pc),
        }
    }

    /// `r0`–`r10` at position `k`.
    pub fn regs_at(&self, k: usize) -> [u64; 11] {
        match k.checked_sub(1).and_then(|i| self.run.steps.get(i)) {
            Some(s) => s.regs,
            None => {
                let mut r = [0; 11];
                r.copy_from_slice(&self.run.start[..11]);
                r
            }
        }
    }

    /// The current frame's stack (index 0 is `fp-512`) at position `k`.
    pub fn stack_at(&self, k: usize) -> Vec<u8> {
        k.checked_sub(1).and_then(|i| self.run.steps.get(i)).map_or_else(|| vec![0; 512], |s| s.stack.clone())
    }

    /// The maps at position `k`.
    pub fn maps_at(&self, k: usize) -> &MapsSnapshot {
        self.run.steps[..k.min(self.end())].iter().rev().find_map(|s| s.maps.as_ref()).unwrap_or(&self.maps_start)
    }

    /// The call stack at position `k`: the slots of the calls that made each frame (a
    /// bpf-to-bpf call, or a helper calling back such as `bpf_loop`), outermost first. Read from
    /// the call depth of each step: a callback's `exit` that calls it again keeps its frame.
    pub fn calls_at(&self, k: usize) -> Vec<usize> {
        let mut calls = Vec::new();
        for s in &self.run.steps[..k.min(self.end())] {
            if s.depth > calls.len() {
                calls.push(s.pc);
            } else {
                calls.truncate(s.depth);
            }
        }
        calls
    }

    /// The instruction at slot `slot`.
    pub fn insn_at(&self, slot: usize) -> Option<&Insn> {
        self.model.rows.iter().position(|r| r.slot == slot).map(|i| &self.program.insns[i])
    }

    /// The source line of slot `slot`, when there is a source.
    pub fn line_of(&self, slot: usize) -> Option<usize> {
        self.model.row_at(slot).and_then(|r| r.source.as_ref()).map(|(l, _)| *l)
    }

    /// The verifier's states at the instruction about to run at position `k` that admit the
    /// concrete registers there (the path actually taken); all of them when none does.
    pub fn states_at(&self, k: usize) -> Vec<&VState> {
        let Some(pc) = self.pc_at(k) else { return vec![] };
        let all: Vec<&VState> =
            self.model.verification.states.as_ref().and_then(|s| s.get(pc)).map_or(vec![], |v| v.iter().collect());
        let regs = self.regs_at(k);
        let fits = |st: &&VState| {
            st.cur().regs[..10].iter().zip(regs).all(|(r, v)| r.kind != RegKind::Scalar || r.var.contains(v))
        };
        let matching: Vec<&VState> = all.iter().copied().filter(fits).collect();
        if matching.is_empty() {
            all
        } else {
            matching
        }
    }

    /// What the verifier believed of register `reg` at position `k`, in words.
    pub fn belief(&self, k: usize, reg: u8) -> String {
        let states = self.states_at(k);
        if states.is_empty() {
            return if self.pc_at(k).is_some() { "(the verifier never got here)".into() } else { String::new() };
        }
        let mut words: Vec<String> = states
            .iter()
            .map(|st| explain::describe(&st.cur().regs[reg as usize % 11], &self.model.maps, self.program.prog_type))
            .collect();
        words.dedup();
        if words.len() == 1 {
            words.remove(0)
        } else {
            format!("one of {} states: {}", states.len(), words.join(" | "))
        }
    }

    /// What the verifier believed of register `reg` at slot `slot` over all its states there.
    fn belief_all(&self, slot: usize, reg: u8) -> String {
        let Some(row) = self.model.row_at(slot) else { return String::new() };
        let mut words: Vec<String> = row
            .states
            .iter()
            .map(|st| st.regs.iter().find(|r| r.reg == reg).map_or("not initialised".into(), |r| r.words.clone()))
            .collect();
        words.dedup();
        words.join(" or ")
    }

    /// Packet bytes proven readable at position `k`, on the path taken.
    pub fn proven_at(&self, k: usize) -> usize {
        self.states_at(k)
            .iter()
            .map(|st| st.cur().regs.iter().filter(|r| r.kind.is_pkt()).map(|r| r.range.max(0)).max().unwrap_or(0))
            .min()
            .unwrap_or(0) as usize
    }

    /// Registers whose value at position `k` the verifier's states there do not admit.
    pub fn mismatches_at(&self, k: usize) -> Vec<Mismatch> {
        let Some(pc) = self.pc_at(k) else { return vec![] };
        let regs = self.regs_at(k);
        (0..10u8)
            .filter(|&r| self.model.verification.admits(pc, r, regs[r as usize]) == Some(false))
            .map(|r| Mismatch { reg: r, value: regs[r as usize], believed: self.belief_all(pc, r) })
            .collect()
    }

    /// Where a location argument points: a slot number, or `line:N` (the first slot of line N).
    fn parse_loc(&self, arg: &str) -> Result<usize, String> {
        if let Some(line) = arg.strip_prefix("line:") {
            let n: usize = line.parse().map_err(|_| format!("`{arg}`: expected line:NUMBER"))?;
            return self
                .model
                .rows
                .iter()
                .find(|r| r.source.as_ref().is_some_and(|(l, _)| *l == n))
                .map(|r| r.slot)
                .ok_or_else(|| format!("no instruction on line {n}"));
        }
        let slot: usize = arg.parse().map_err(|_| format!("`{arg}`: expected an instruction number or line:N"))?;
        self.model.row_at(slot).map(|r| r.slot).ok_or_else(|| format!("no instruction {slot}"))
    }

    /// Runs one command line; the status says what happened. Returns false for `quit`.
    pub fn command(&mut self, line: &str) -> bool {
        let mut words = line.split_whitespace();
        let Some(cmd) = words.next() else { return true };
        let arg = words.next();
        let count = arg.and_then(|a| a.parse::<usize>().ok()).unwrap_or(1);
        self.status = match cmd {
            "s" | "step" => self.go(self.pos + count),
            "n" | "next" => self.next(),
            "c" | "continue" => self.cont(None),
            "b" | "back" => self.go(self.pos.saturating_sub(count)),
            "restart" => self.go(0),
            "u" | "until" => match arg.map(|a| self.parse_loc(a)) {
                Some(Ok(slot)) => self.cont(Some(slot)),
                Some(Err(e)) => e,
                None => "until needs a place: an instruction number or line:N".into(),
            },
            "break" => match arg.map(|a| self.parse_loc(a)) {
                Some(Ok(slot)) => {
                    if let Some(i) = self.breaks.iter().position(|&b| b == slot) {
                        self.breaks.remove(i);
                        format!("breakpoint at insn {slot} removed")
                    } else {
                        self.breaks.push(slot);
                        format!("breakpoint at insn {slot}")
                    }
                }
                Some(Err(e)) => e,
                None => "break needs a place: an instruction number or line:N".into(),
            },
            "watch" => match arg.and_then(|a| self.program.map_index(a)) {
                Some(m) => {
                    self.watches.push(m);
                    format!("continue stops when map `{}` changes", self.program.maps[m].name)
                }
                None => format!("watch needs a map name; maps: {}", self.map_names()),
            },
            "q" | "quit" => return false,
            other => format!(
                "unknown command `{other}`: step [N], next, continue, back [N], until LOC, break LOC, watch MAP, restart, quit (LOC: insn number or line:N)"
            ),
        };
        true
    }

    fn map_names(&self) -> String {
        let names: Vec<&str> = self.program.maps.iter().map(|m| m.name.as_str()).collect();
        if names.is_empty() {
            "none".into()
        } else {
            names.join(", ")
        }
    }

    /// Moves to position `k` (clamped) and describes where it is.
    fn go(&mut self, k: usize) -> String {
        self.pos = k.min(self.end());
        self.describe_here()
    }

    /// The status for the current position: mismatches, the end, or the rejected instruction.
    fn describe_here(&self) -> String {
        let k = self.pos;
        let mism = self.mismatches_at(k);
        if let Some(m) = mism.first() {
            return format!(
                "STOP: r{} = {:#x} ({}) but the verifier said r{} is {} here{}",
                m.reg,
                m.value,
                m.value as i64,
                m.reg,
                m.believed,
                if self.model.verification.accepted() {
                    " — the verifier's model is unsound here (a bug to report)"
                } else {
                    " — the program was rejected; a fault follows from here"
                }
            );
        }
        let mut parts = Vec::new();
        match (self.pc_at(k), &self.result) {
            (None, Ok(out)) => {
                return format!("the program exited: r0 = {:#x} ({}), {k} insns executed", out.r0, out.r0);
            }
            (None, Err(e)) => return format!("the run stopped: {e}"),
            (Some(pc), _) => {
                parts.push(format!("at insn {pc} after {k} steps"));
                if let Some(e) = self.model.verification.error.as_ref().filter(|e| e.insn == Some(pc)) {
                    parts.push(format!("the verifier rejected this instruction: {}", e.message));
                }
                if let (true, Err(e)) = (k == self.end(), &self.result) {
                    parts.push(format!("running it FAULTS: {}", e.kind));
                }
            }
        }
        parts.join("; ")
    }

    /// bpf-to-bpf frames below the current one at position `k`.
    fn depth_at(&self, k: usize) -> usize {
        k.checked_sub(1).and_then(|i| self.run.steps.get(i)).map_or(0, |s| s.depth)
    }

    fn next(&mut self) -> String {
        let is_call = self
            .pc_at(self.pos)
            .and_then(|pc| self.insn_at(pc))
            .is_some_and(|i| matches!(i, Insn::Call(CallTarget::Local(_))));
        if !is_call {
            return self.go(self.pos + 1);
        }
        let d = self.depth_at(self.pos);
        let mut k = self.pos + 1;
        while k < self.end() && self.depth_at(k) > d {
            k += 1;
        }
        self.go(k)
    }

    /// Runs forward to `target` (a slot), a breakpoint, a watched map change, a mismatch, the
    /// rejected instruction or the end.
    fn cont(&mut self, target: Option<usize>) -> String {
        let reject_at = self.model.verification.error.as_ref().and_then(|e| e.insn);
        let mut k = self.pos;
        let mut before = self.maps_at(k);
        while k < self.end() {
            k += 1;
            let pc = self.pc_at(k);
            if let Some(maps) = &self.run.steps[k - 1].maps {
                if let Some(&m) = self.watches.iter().find(|&&m| maps.get(m) != before.get(m)) {
                    self.pos = k;
                    return format!("map `{}` changed; {}", self.program.maps[m].name, self.describe_here());
                }
                before = maps;
            }
            let hit = |s: &[usize]| pc.is_some_and(|p| s.contains(&p));
            if hit(&self.breaks)
                || (target.is_some() && pc == target)
                || pc == reject_at && pc.is_some()
                || !self.mismatches_at(k).is_empty()
            {
                break;
            }
        }
        self.pos = k;
        let here = self.describe_here();
        match self.pc_at(k) {
            Some(pc) if self.breaks.contains(&pc) && k < self.end() => format!("breakpoint at insn {pc}; {here}"),
            _ => here,
        }
    }
}
