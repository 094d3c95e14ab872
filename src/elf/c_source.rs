//! The C source diagnostics quote for an ELF program: its main C file (the file of its first
//! line record), read from disk when it is there and still matches the object, else rebuilt from
//! the line texts `.BTF.ext` carries, each at its own line number, so `file:line:col` holds either
//! way.

use crate::program::{CLine, Source};
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

/// The C source and each instruction's span in it, or `None` without line info. Instructions
/// from another file (inlined from a header) or before any line record take the span of the
/// nearest instruction of the main file before (or else after) them.
pub(super) fn source_of(object: &str, lines: &[Option<CLine>]) -> Option<(Source, Vec<Range<usize>>)> {
    let file = lines.iter().flatten().next()?.file.clone();
    let known: BTreeMap<u32, &str> =
        lines.iter().flatten().filter(|c| c.file == file).map(|c| (c.line, c.text.as_str())).collect();
    let text = read_matching(object, &file, &known).unwrap_or_else(|| rebuild(&known));
    let starts: Vec<usize> = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
    let span_of = |c: &CLine| -> Option<Range<usize>> {
        let start = *starts.get(c.line.checked_sub(1)? as usize)?;
        let end = text[start..].find('\n').map_or(text.len(), |n| start + n);
        let line = &text[start..end];
        // The column counts characters; without one, the caret starts at the code.
        let skip = match c.col {
            0 => line.len() - line.trim_start().len(),
            col => line.char_indices().nth(col as usize - 1).map_or(line.len(), |(i, _)| i),
        };
        let end = start + line.trim_end().len().max(skip);
        Some(start + skip..end)
    };
    let own: Vec<Option<Range<usize>>> =
        lines.iter().map(|c| c.as_ref().filter(|c| c.file == file).and_then(span_of)).collect();
    let first = own.iter().flatten().next()?.clone();
    let mut last = first;
    let spans = own
        .into_iter()
        .map(|s| {
            if let Some(s) = s {
                last = s;
            }
            last.clone()
        })
        .collect();
    Some((Source { name: file, text }, spans))
}

/// The file's text when it is readable (as named, or next to the object) and its lines agree
/// with the object's line texts, so a file edited since compiling is not quoted.
fn read_matching(object: &str, file: &str, known: &BTreeMap<u32, &str>) -> Option<String> {
    let beside = Path::new(object).parent().map(|d| d.join(Path::new(file).file_name().unwrap_or_default()));
    let text = std::fs::read_to_string(file).ok().or_else(|| std::fs::read_to_string(beside?).ok())?;
    let file_lines: Vec<&str> = text.lines().collect();
    let agrees =
        known.iter().all(|(&n, &t)| file_lines.get((n as usize).wrapping_sub(1)).is_some_and(|l| l.trim() == t.trim()));
    agrees.then_some(text)
}

/// A text with each known line at its number and empty lines between.
fn rebuild(known: &BTreeMap<u32, &str>) -> String {
    let last = known.keys().next_back().copied().unwrap_or(0);
    let mut text = String::new();
    for n in 1..=last {
        text.push_str(known.get(&n).copied().unwrap_or(""));
        text.push('\n');
    }
    text
}
