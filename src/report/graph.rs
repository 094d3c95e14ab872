//! The control-flow graph of the report: basic blocks, a layered layout computed here, and the
//! SVG. The layout is the classic layered one (back edges found by depth-first search and
//! reversed, each block on the layer after its deepest predecessor, blocks in a layer in program
//! order); eBPF functions are small and mostly forward-branching, so this reads well without a
//! layout crate or a Graphviz binary.

use super::model::Model;
use crate::isa::{CallTarget, Insn};
use std::fmt::Write;

/// One basic block: consecutive rows entered only at the first and left only at the last.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// Indices into [`Model::rows`], in order.
    pub rows: Vec<usize>,
    /// Layer (top to bottom) and position within it, after layout.
    pub layer: usize,
    /// Position within the layer.
    pub pos: usize,
}

/// How control passes between blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeKind {
    /// Falls through to the next instruction.
    Fall,
    /// A jump (taken branch or `goto`).
    Jump,
    /// A call of a local function.
    Call,
}

/// An edge between blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edge {
    /// Source block.
    pub from: usize,
    /// Target block.
    pub to: usize,
    /// Its kind.
    pub kind: EdgeKind,
    /// Goes back to an earlier layer (a loop).
    pub back: bool,
}

/// Blocks and edges of a program.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    /// The blocks.
    pub blocks: Vec<Block>,
    /// The edges.
    pub edges: Vec<Edge>,
}

const BLOCK_W: usize = 300;
const LINE_H: usize = 15;
const GAP_X: usize = 40;
const GAP_Y: usize = 46;
const PAD: usize = 20;

/// Slots an instruction may continue to: (slot, kind).
fn successors(insn: &Insn, slot: usize) -> Vec<(usize, EdgeKind)> {
    let target = insn.branch_offset().map(|o| (slot as i64 + o + 1) as usize);
    match insn {
        Insn::Exit => vec![],
        Insn::Ja { .. } => target.map(|t| (t, EdgeKind::Jump)).into_iter().collect(),
        Insn::Jmp { .. } => {
            let mut v = vec![(slot + 1, EdgeKind::Fall)];
            v.extend(target.map(|t| (t, EdgeKind::Jump)));
            v
        }
        Insn::Call(CallTarget::Local(_)) => {
            let mut v = vec![(slot + 1, EdgeKind::Fall)];
            v.extend(target.map(|t| (t, EdgeKind::Call)));
            v
        }
        other => vec![(slot + other.slots(), EdgeKind::Fall)],
    }
}

impl Graph {
    /// Splits the model's rows into blocks and lays them out.
    pub fn build(model: &Model) -> Graph {
        let insns = &model.program.insns;
        let slot_row = |s: usize| model.rows.iter().position(|r| r.slot == s);
        let mut leader = vec![false; insns.len()];
        if !leader.is_empty() {
            leader[0] = true;
        }
        for (i, insn) in insns.iter().enumerate() {
            let succ = successors(insn, model.rows[i].slot);
            let branches = !matches!(succ.as_slice(), [(_, EdgeKind::Fall)]);
            for (s, _) in succ {
                if let Some(r) = slot_row(s) {
                    if branches {
                        leader[r] = true;
                    }
                }
            }
            if branches && i + 1 < insns.len() {
                leader[i + 1] = true;
            }
        }
        let mut g = Graph::default();
        let mut block_of = vec![0usize; insns.len()];
        for i in 0..insns.len() {
            if leader[i] {
                g.blocks.push(Block { rows: vec![], layer: 0, pos: 0 });
            }
            let b = g.blocks.len() - 1;
            g.blocks[b].rows.push(i);
            block_of[i] = b;
        }
        for (b, block) in g.blocks.iter().enumerate() {
            let last = *block.rows.last().expect("a block has rows");
            for (s, kind) in successors(&insns[last], model.rows[last].slot) {
                if let Some(r) = slot_row(s) {
                    g.edges.push(Edge { from: b, to: block_of[r], kind, back: false });
                }
            }
        }
        g.layout();
        g
    }

    /// Marks back edges (depth-first from every block in order), then layers and orders.
    fn layout(&mut self) {
        let n = self.blocks.len();
        let (mut state, mut stack) = (vec![0u8; n], Vec::new());
        for root in 0..n {
            if state[root] != 0 {
                continue;
            }
            stack.push((root, 0usize));
            state[root] = 1;
            while let Some((b, k)) = stack.pop() {
                let out: Vec<usize> = (0..self.edges.len()).filter(|&e| self.edges[e].from == b).collect();
                if let Some(&e) = out.get(k) {
                    stack.push((b, k + 1));
                    let t = self.edges[e].to;
                    match state[t] {
                        0 => {
                            state[t] = 1;
                            stack.push((t, 0));
                        }
                        1 => self.edges[e].back = true,
                        _ => {}
                    }
                } else {
                    state[b] = 2;
                }
            }
        }
        // Longest path over forward edges; blocks are numbered in program order, and forward
        // edges mostly go forward, so a few relaxation rounds settle it.
        let mut layer = vec![0usize; n];
        for _ in 0..n {
            let mut changed = false;
            for e in self.edges.iter().filter(|e| !e.back) {
                if layer[e.to] < layer[e.from] + 1 {
                    layer[e.to] = layer[e.from] + 1;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let mut count = vec![0usize; n + 1];
        for (b, block) in self.blocks.iter_mut().enumerate() {
            block.layer = layer[b];
            block.pos = count[layer[b]];
            count[layer[b]] += 1;
        }
    }

    /// Pixel box (x, y, w, h) of block `b`.
    fn rect(&self, b: usize) -> (usize, usize, usize, usize) {
        let block = &self.blocks[b];
        let top: usize = (0..block.layer).map(|l| self.layer_height(l) + GAP_Y).sum();
        (PAD + block.pos * (BLOCK_W + GAP_X), PAD + top, BLOCK_W, self.height(b))
    }

    fn height(&self, b: usize) -> usize {
        (self.blocks[b].rows.len() + 1) * LINE_H + 8
    }

    fn layer_height(&self, l: usize) -> usize {
        (0..self.blocks.len()).filter(|&b| self.blocks[b].layer == l).map(|b| self.height(b)).max().unwrap_or(0)
    }

    /// The graph as an SVG element. Blocks carry `data-slot` on each instruction line;
    /// classes mark what the verifier did: `unexplored`, `pruned`, `path`, `error`.
    pub fn svg(&self, model: &Model) -> String {
        let layers = self.blocks.iter().map(|b| b.layer + 1).max().unwrap_or(0);
        let width = self.blocks.iter().map(|b| PAD * 2 + (b.pos + 1) * (BLOCK_W + GAP_X)).max().unwrap_or(PAD * 2);
        let height = PAD * 2 + (0..layers).map(|l| self.layer_height(l) + GAP_Y).sum::<usize>();
        let mut s = String::new();
        let _ = write!(
            s,
            r#"<svg id="cfg" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="control-flow graph">"#
        );
        s.push_str(
            r#"<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>"#,
        );
        let explored = |b: usize| self.blocks[b].rows.iter().any(|&r| model.rows[r].visits > 0);
        for e in &self.edges {
            let (fx, fy, fw, fh) = self.rect(e.from);
            let (tx, ty, tw, _) = self.rect(e.to);
            let taken = explored(e.from) && explored(e.to);
            let on_path = {
                let last = model.rows[*self.blocks[e.from].rows.last().expect("rows")].slot;
                let first = model.rows[self.blocks[e.to].rows[0]].slot;
                model.path.windows(2).any(|w| w[0] == last && w[1] == first)
            };
            let mut class = match e.kind {
                EdgeKind::Fall => "edge fall".to_string(),
                EdgeKind::Jump => "edge jump".to_string(),
                EdgeKind::Call => "edge call".to_string(),
            };
            if !taken {
                class.push_str(" unexplored");
            }
            if on_path {
                class.push_str(" path");
            }
            let (x1, y1) = (fx + if e.kind == EdgeKind::Fall { fw / 3 } else { 2 * fw / 3 }, fy + fh);
            let (x2, y2) = (tx + tw / 2, ty);
            let d = if e.back {
                // Around the right side of both blocks, back up.
                let side = fx.max(tx) + BLOCK_W + GAP_X / 2;
                format!(
                    "M{x1},{y1} C{x1},{} {side},{} {side},{} S{x2},{} {x2},{y2}",
                    y1 + 20,
                    y1 + 20,
                    (y1 + y2) / 2,
                    y2 - 20
                )
            } else {
                let mid = (y1 + y2) / 2;
                format!("M{x1},{y1} C{x1},{mid} {x2},{mid} {x2},{y2}")
            };
            let label = match (e.kind, e.back) {
                (_, true) => "loop",
                (EdgeKind::Jump, _) => "taken",
                (EdgeKind::Call, _) => "call",
                (EdgeKind::Fall, _) => "",
            };
            let _ =
                write!(s, r#"<path class="{class}" d="{d}" marker-end="url(#arrow)"><title>{label}</title></path>"#);
            if !label.is_empty() {
                let _ =
                    write!(s, r#"<text class="elabel" x="{}" y="{}">{label}</text>"#, (x1 + x2) / 2 + 4, (y1 + y2) / 2);
            }
        }
        for (b, block) in self.blocks.iter().enumerate() {
            let (x, y, w, h) = self.rect(b);
            let rows: Vec<&super::Row> = block.rows.iter().map(|&r| &model.rows[r]).collect();
            let mut class = String::from("block");
            let mut tags = Vec::new();
            if !explored(b) {
                class.push_str(" unexplored");
                tags.push("never explored");
            }
            if rows.iter().any(|r| r.pruned) {
                class.push_str(" pruned");
                tags.push("pruned");
            }
            if rows.iter().any(|r| r.on_path) {
                class.push_str(" path");
            }
            if rows.iter().any(|r| r.error) {
                class.push_str(" error");
                tags.push("ERROR");
            }
            if rows.iter().any(|r| r.visits > 1) {
                tags.push("revisited");
            }
            let _ = write!(s, r#"<g class="{class}" data-block="{b}">"#);
            let _ = write!(s, r#"<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="4"/>"#);
            let head = format!(
                "{}{}",
                if rows.len() == 1 {
                    format!("insn {}", rows[0].slot)
                } else {
                    format!("insns {}–{}", rows[0].slot, rows[rows.len() - 1].slot)
                },
                if tags.is_empty() { String::new() } else { format!(" [{}]", tags.join(", ")) }
            );
            let _ = write!(s, r#"<text class="bhead" x="{}" y="{}">{}</text>"#, x + 6, y + LINE_H, esc(&head));
            for (k, r) in rows.iter().enumerate() {
                let mark = if r.error {
                    "✗ "
                } else if r.pruned {
                    "⊘ "
                } else {
                    ""
                };
                let mut text = format!("{mark}{}: {}", r.slot, r.text);
                if text.chars().count() > 40 {
                    text = text.chars().take(39).collect::<String>() + "…";
                }
                let _ = write!(
                    s,
                    r#"<text class="bl" data-slot="{}" x="{}" y="{}">{}</text>"#,
                    r.slot,
                    x + 6,
                    y + LINE_H * (k + 2),
                    esc(&text)
                );
            }
            s.push_str("</g>");
        }
        s.push_str("</svg>");
        s
    }
}

/// Escapes text for HTML and SVG.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
