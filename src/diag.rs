//! Diagnostics: every error that has a place in a source file is shown as `file:line:col` with
//! the source line and a caret under the guilty token (rendered by ariadne), plus a help line.

use crate::program::Source;
use ariadne::{Config, IndexType, Label, Report, ReportKind};
use std::ops::Range;

/// Whether to colour output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ColorChoice {
    /// Colour when standard error is a terminal and `NO_COLOR` is unset.
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

impl ColorChoice {
    /// Resolves `Auto` for a stream that is (or is not) a terminal, honouring `NO_COLOR`.
    pub fn enabled(self, is_terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }
}

/// Severity of a diagnostic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// The input is wrong.
    Error,
    /// Worth knowing, not fatal.
    Warning,
}

/// One message about a place in a source file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The message, one line.
    pub message: String,
    /// Byte range in the source it refers to, if any.
    pub span: Option<Range<usize>>,
    /// Extra words under the caret (none by default: the message is on the first line).
    pub label: Option<String>,
    /// How to fix it.
    pub help: Option<String>,
    /// Extra context (e.g. the execution path that led here).
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// An error with a message and an optional span.
    pub fn error(message: impl Into<String>, span: Option<Range<usize>>) -> Diagnostic {
        Diagnostic { severity: Severity::Error, message: message.into(), span, label: None, help: None, notes: vec![] }
    }

    /// Adds a help line.
    pub fn with_help(mut self, help: Option<String>) -> Diagnostic {
        self.help = help;
        self
    }

    /// Adds a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }
}

impl From<&crate::asm::AsmError> for Diagnostic {
    fn from(e: &crate::asm::AsmError) -> Diagnostic {
        Diagnostic::error(e.message.clone(), Some(e.span.clone())).with_help(e.help.clone())
    }
}

/// How many diagnostics of one file are shown; past this, only how many more there are. A
/// grader feeding a broken submission gets the first errors fast, not thousands of snippets.
pub const MAX_SHOWN: usize = 50;

/// Renders a diagnostic. With a source and a span: a first line `file:line:col: error: message`
/// (so editors and graders can jump to it), then ariadne's snippet with the caret. Without:
/// `error: message` plus help and notes.
pub fn render(source: Option<&Source>, d: &Diagnostic, color: bool) -> String {
    render_all(source, std::slice::from_ref(d), color)
}

/// Renders diagnostics of one source, in time linear in the source and the diagnostics: the
/// source's line index is built once for all of them. Past [`MAX_SHOWN`], says how many more.
pub fn render_all(source: Option<&Source>, diags: &[Diagnostic], color: bool) -> String {
    let mut out = String::new();
    let mut index: Option<(Vec<usize>, ariadne::Source<&str>)> = None;
    for d in diags.iter().take(MAX_SHOWN) {
        match (source, &d.span) {
            (Some(src), Some(span)) => {
                let (starts, cache) = index.get_or_insert_with(|| {
                    let starts = std::iter::once(0).chain(src.text.match_indices('\n').map(|(i, _)| i + 1)).collect();
                    (starts, ariadne::Source::from(src.text.as_str()))
                });
                render_snippet(&mut out, src, starts, cache, d, clamp(span.clone(), &src.text), color);
            }
            _ => render_plain(&mut out, d),
        }
    }
    if diags.len() > MAX_SHOWN {
        let rest = diags.len() - MAX_SHOWN;
        let what = if diags[MAX_SHOWN..].iter().all(|d| d.severity == Severity::Warning) { "warning" } else { "error" };
        out.push_str(&format!("{what}: {rest} more not shown (fix the ones above first)\n"));
    }
    out
}

fn kind_word(d: &Diagnostic) -> &'static str {
    match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn render_plain(out: &mut String, d: &Diagnostic) {
    out.push_str(&format!("{}: {}\n", kind_word(d), d.message));
    for n in &d.notes {
        out.push_str(&format!("  = note: {n}\n"));
    }
    if let Some(h) = &d.help {
        out.push_str(&format!("  = help: {h}\n"));
    }
}

fn render_snippet(
    out: &mut String,
    src: &Source,
    starts: &[usize],
    cache: &ariadne::Source<&str>,
    d: &Diagnostic,
    span: Range<usize>,
    color: bool,
) {
    // Line: the last line start at or before the span; column: characters from there.
    let line = starts.partition_point(|&s| s <= span.start);
    let col = src.text[starts[line - 1]..span.start].chars().count() + 1;
    out.push_str(&format!("{}:{line}:{col}: {}: {}\n", src.name, kind_word(d), d.message));
    let name = src.name.as_str();
    let report_kind = match d.severity {
        Severity::Error => ReportKind::Error,
        Severity::Warning => ReportKind::Warning,
    };
    // The message is said once, on the first line; the snippet only shows where (its label is
    // extra words, when there are any), so ariadne's own `Error: message` header is left out.
    let label = Label::new((name, span.clone())).with_message(d.label.as_deref().unwrap_or("here"));
    let mut report = Report::build(report_kind, (name, span))
        .with_config(Config::default().with_color(color).with_index_type(IndexType::Byte))
        .with_label(label);
    for n in &d.notes {
        report = report.with_note(n);
    }
    if let Some(h) = &d.help {
        report = report.with_help(h);
    }
    let mut buf = Vec::new();
    if report.finish().write((name, cache), &mut buf).is_ok() {
        let text = String::from_utf8_lossy(&buf);
        out.push_str(text.split_once('\n').map_or("", |(_, snippet)| snippet));
    }
}

/// Keeps a span inside the text and on character boundaries (a caret at end of file is fine).
fn clamp(span: Range<usize>, text: &str) -> Range<usize> {
    let fix = |mut i: usize| {
        i = i.min(text.len());
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let (s, e) = (fix(span.start), fix(span.end));
    s..e.max(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(text: &str) -> Source {
        Source { name: "prog.s".into(), text: text.into() }
    }

    #[test]
    fn names_file_line_column_and_quotes_the_line() {
        let s = src("r0 = 1\nr11 = 2\nexit\n");
        let d = Diagnostic::error("bad register", Some(7..10)).with_help(Some("eBPF has r0-r10".into()));
        let out = render(Some(&s), &d, false);
        assert!(out.starts_with("prog.s:2:1: error: bad register\n"), "{out}");
        assert!(out.contains("r11 = 2"), "{out}");
        assert!(out.contains("eBPF has r0-r10"), "{out}");
        assert!(!out.contains('\u{1b}'), "no colour when disabled: {out}");
        assert_eq!(out.matches("bad register").count(), 1, "the message is said once: {out}");
    }

    #[test]
    fn spans_out_of_range_or_inside_a_character_do_not_panic() {
        let s = src("r0 = 1 # é\n");
        #[allow(clippy::reversed_empty_ranges)] // a reversed span is one of the bad inputs
        let spans = [0..1000, 9..10, 10..9, 100..200];
        for span in spans {
            let out = render(Some(&s), &Diagnostic::error("x", Some(span)), false);
            assert!(out.contains("error: x"), "{out}");
        }
    }

    #[test]
    fn past_fifty_errors_only_the_count_of_the_rest() {
        let text: String = (0..60).map(|i| format!("bad{i}\n")).collect();
        let s = src(&text);
        let starts: Vec<usize> = text.match_indices("bad").map(|(at, _)| at).collect();
        let diags: Vec<Diagnostic> =
            (0..60).map(|i| Diagnostic::error(format!("bad line {i}"), Some(starts[i]..starts[i] + 3))).collect();
        let out = render_all(Some(&s), &diags, false);
        assert!(out.contains("prog.s:50:1: error: bad line 49\n"), "{out}");
        assert!(!out.contains("bad line 50"), "{out}");
        assert!(out.ends_with("error: 10 more not shown (fix the ones above first)\n"), "{out}");
    }

    #[test]
    fn without_a_source_prints_message_help_and_notes() {
        let d = Diagnostic::error("kernel unavailable", None).with_help(Some("run as root".into())).with_note("EPERM");
        assert_eq!(render(None, &d, true), "error: kernel unavailable\n  = note: EPERM\n  = help: run as root\n");
    }
}
