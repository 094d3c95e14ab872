//! The debugger's screen: source with the current instruction, registers with the verifier's
//! knowledge, the stack frame, maps, packet bytes (the proven range shaded), the call stack and
//! the status line. Marks are letters as well as styles, so the text form (`--script`) and a
//! monochrome terminal show them too.

use super::session::Session;
use crate::interp::Input;
use ratatui::backend::TestBackend;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::{Frame, Terminal};

/// The keys, shown in the status pane's title.
pub const KEYS: &str = " s step · n next · c continue · b back · r restart · : command · q quit ";

/// Draws the whole screen.
pub fn draw(f: &mut Frame, s: &Session) {
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([Constraint::Min(8), Constraint::Length(9), Constraint::Length(5)])
        .split(f.area());
    let top = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Percentage(32), Constraint::Percentage(68)])
        .split(rows[0]);
    let mid = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([
            Constraint::Percentage(30),
            Constraint::Percentage(25),
            Constraint::Percentage(30),
            Constraint::Percentage(15),
        ])
        .split(rows[1]);
    source(f, s, top[0]);
    registers(f, s, top[1]);
    stack(f, s, mid[0]);
    maps(f, s, mid[1]);
    packet(f, s, mid[2]);
    calls(f, s, mid[3]);
    let status = Paragraph::new(s.status.clone())
        .wrap(Wrap { trim: true })
        .block(Block::default().borders(Borders::ALL).title(KEYS));
    f.render_widget(status, rows[2]);
}

fn pane(title: String) -> Block<'static> {
    Block::default().borders(Borders::ALL).title(title)
}

fn source(f: &mut Frame, s: &Session, area: Rect) {
    let pc = s.pc_at(s.pos);
    let reject = s.model.verification.error.as_ref().and_then(|e| e.insn);
    let at = pc.and_then(|p| s.model.rows.iter().position(|r| r.slot == p)).unwrap_or(s.model.rows.len());
    let height = area.height.saturating_sub(2) as usize;
    let first = at.saturating_sub(height / 3).min(s.model.rows.len().saturating_sub(height));
    let lines: Vec<Line> = s.model.rows[first..]
        .iter()
        .take(height)
        .map(|r| {
            let cur = Some(r.slot) == pc;
            let mark = format!(
                "{}{}{}",
                if cur { '>' } else { ' ' },
                if s.breaks.contains(&r.slot) { '*' } else { ' ' },
                if Some(r.slot) == reject { '!' } else { ' ' }
            );
            let text = format!("{mark}{:>3}: {}", r.slot, r.text);
            if cur {
                Line::from(Span::styled(text, Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)))
            } else {
                Line::from(text)
            }
        })
        .collect();
    let title = match pc.and_then(|p| s.line_of(p)) {
        Some(l) => format!(" source: line {l} "),
        None => " source ".into(),
    };
    f.render_widget(Paragraph::new(lines).block(pane(title)), area);
}

fn registers(f: &mut Frame, s: &Session, area: Rect) {
    let regs = s.regs_at(s.pos);
    let pc = s.pc_at(s.pos);
    let bad: Vec<u8> = s.mismatches_at(s.pos).iter().map(|m| m.reg).collect();
    // Registers that hold nothing (zero, and unwritten for the verifier) are left out: the
    // room goes to the verifier's words.
    let lines: Vec<Line> = (0..11u8)
        .filter(|&r| r == 10 || regs[r as usize] != 0 || !s.belief(s.pos, r).starts_with("not initialised"))
        .map(|r| {
            let v = regs[r as usize];
            let knows = match pc {
                _ if r == 10 => "frame pointer".to_string(),
                Some(_) => s.belief(s.pos, r),
                None => String::new(),
            };
            let mark = if bad.contains(&r) { "!!" } else { "  " };
            let text = format!("{mark}r{r:<2} {v:#018x} {:<11} {knows}", v as i64);
            if bad.contains(&r) {
                Line::from(Span::styled(text, Style::default().add_modifier(Modifier::REVERSED)))
            } else {
                Line::from(text)
            }
        })
        .collect();
    let title = format!(" registers at step {}/{}: hex, decimal, what the verifier knows ", s.pos, s.end());
    f.render_widget(Paragraph::new(lines).block(pane(title)), area);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

fn stack(f: &mut Frame, s: &Session, area: Rect) {
    let st = s.stack_at(s.pos);
    let lines: Vec<Line> = (0..st.len() / 8)
        .map(|j| (j, &st[st.len() - 8 * (j + 1)..st.len() - 8 * j]))
        .filter(|(_, b)| b.iter().any(|&x| x != 0))
        .map(|(j, b)| Line::from(format!("fp-{:<3} {}", 8 * (j + 1), hex(b))))
        .collect();
    let lines = if lines.is_empty() { vec![Line::from("(all zero)")] } else { lines };
    f.render_widget(Paragraph::new(lines).block(pane(" stack frame ".into())), area);
}

fn maps(f: &mut Frame, s: &Session, area: Rect) {
    let snap = s.maps_at(s.pos);
    let mut lines = Vec::new();
    for (def, entries) in s.program.maps.iter().zip(snap) {
        let set: Vec<_> = entries.iter().filter(|(_, v)| v.iter().any(|&x| x != 0)).collect();
        let watched = if s.watches.iter().any(|&m| s.program.maps[m].name == def.name) { " (watched)" } else { "" };
        lines.push(Line::from(format!("{}: {} non-zero{watched}", def.name, set.len())));
        for (k, v) in set.iter().take(3) {
            lines.push(Line::from(format!(" [{}]={}", hex(k), hex(v))));
        }
    }
    if lines.is_empty() {
        lines.push(Line::from("(no maps)"));
    }
    f.render_widget(Paragraph::new(lines).block(pane(" maps ".into())), area);
}

fn packet(f: &mut Frame, s: &Session, area: Rect) {
    let (name, bytes) = match &s.input {
        Input::Xdp { packet, .. } | Input::Skb { packet, .. } => ("packet", packet.as_slice()),
        Input::Mem(d) => ("input", d.as_slice()),
        Input::Tracepoint(d) | Input::Syscall(d) | Input::Ctx(d) => ("context", d.as_slice()),
    };
    let proven = s.proven_at(s.pos);
    let per = 8;
    let lines: Vec<Line> = bytes
        .chunks(per)
        .enumerate()
        .map(|(i, c)| {
            let mut spans = vec![Span::raw(format!("{:02x}:", i * per))];
            for (j, b) in c.iter().enumerate() {
                let shaded = i * per + j < proven;
                let text = format!("{}{b:02x}", if shaded { '=' } else { ' ' });
                spans.push(if shaded {
                    Span::styled(text, Style::default().add_modifier(Modifier::REVERSED))
                } else {
                    Span::raw(text)
                });
            }
            Line::from(spans)
        })
        .collect();
    let title = format!(" {name} {}B, {proven} proven (=) ", bytes.len());
    f.render_widget(Paragraph::new(lines).block(pane(title)), area);
}

fn calls(f: &mut Frame, s: &Session, area: Rect) {
    let mut lines = vec![Line::from("#0 main")];
    for (i, c) in s.calls_at(s.pos).iter().enumerate() {
        lines.push(Line::from(format!("#{} from {c}", i + 1)));
    }
    f.render_widget(Paragraph::new(lines).block(pane(" calls ".into())), area);
}

/// The screen as text, `width` × `height` characters (trailing blanks trimmed).
pub fn text(s: &Session, width: u16, height: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(width, height)).expect("the test backend never fails");
    term.draw(|f| draw(f, s)).expect("the test backend never fails");
    let buf = term.backend().buffer();
    let mut out = String::new();
    for y in 0..height {
        let line: String = (0..width).map(|x| buf[(x, y)].symbol()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
