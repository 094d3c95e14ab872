//! The small TOML subset the exercises' `checks.toml` files are written in, read without a
//! crate: top-level `key = value` lines, `[[check]]` array-of-tables headers, and values that
//! are strings (`"..."` with `\"`, `\\`, `\n`, `\t` escapes), integers (decimal or `0x`, `_`
//! separators, a sign), booleans, and arrays of those (which may span lines). `#` starts a
//! comment. Anything else is an error with its byte span, so a teacher's typo points at its place.

use std::ops::Range;

/// A value of the subset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// A string.
    Str(String),
    /// An integer, kept as written up to 64 bits (negative numbers wrap, as `-1` = `u64::MAX`).
    Int(u64),
    /// `true` / `false`.
    Bool(bool),
    /// An array.
    Arr(Vec<Value>),
}

/// One `key = value` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The key.
    pub key: String,
    /// The key's span (for "unknown key" errors).
    pub key_span: Range<usize>,
    /// The value.
    pub value: Value,
    /// The value's span.
    pub span: Range<usize>,
}

/// A table: its entries in file order, and where its header is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    /// The `[[name]]` header's span (0..0 for the top level).
    pub header: Range<usize>,
    /// The entries.
    pub entries: Vec<Entry>,
}

/// A parsed file: the top-level table and each `[[name]]` table with its name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Document {
    /// Keys before the first header.
    pub top: Table,
    /// `[[name]]` tables in order.
    pub tables: Vec<(String, Table)>,
}

/// A syntax error: what and where (byte span).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TomlError {
    /// What is wrong.
    pub message: String,
    /// Where.
    pub span: Range<usize>,
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

fn err<T>(message: impl Into<String>, span: Range<usize>) -> Result<T, TomlError> {
    Err(TomlError { message: message.into(), span })
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    /// The byte length of the next character (0 at the end), for one-character spans.
    fn peek_len(&self) -> usize {
        self.peek().map_or(0, char::len_utf8)
    }

    /// Skips spaces and tabs (and, when `lines`, newlines and comments too).
    fn skip(&mut self, lines: bool) {
        while let Some(c) = self.peek() {
            match c {
                ' ' | '\t' | '\r' => self.pos += 1,
                '\n' if lines => self.pos += 1,
                '#' if lines => self.skip_comment(),
                _ => break,
            }
        }
    }

    fn skip_comment(&mut self) {
        self.pos = self.text[self.pos..].find('\n').map_or(self.text.len(), |n| self.pos + n);
    }

    /// After a value or header: only a comment may follow on the line.
    fn end_of_line(&mut self) -> Result<(), TomlError> {
        self.skip(false);
        match self.peek() {
            None | Some('\n') => Ok(()),
            Some('#') => {
                self.skip_comment();
                Ok(())
            }
            Some(_) => {
                let end = self.text[self.pos..].find('\n').map_or(self.text.len(), |n| self.pos + n);
                err("unexpected text after the value (one `key = value` per line)", self.pos..end)
            }
        }
    }

    fn key(&mut self) -> Result<(String, Range<usize>), TomlError> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            self.pos += 1;
        }
        if self.pos == start {
            return err(
                "expected a key (letters, digits, `_`, `-`) or a `[[table]]` header",
                start..start + self.peek_len(),
            );
        }
        Ok((self.text[start..self.pos].to_string(), start..self.pos))
    }

    fn value(&mut self) -> Result<(Value, Range<usize>), TomlError> {
        let start = self.pos;
        let value = match self.peek() {
            Some('"') => Value::Str(self.string()?),
            Some('[') => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip(true);
                    if self.peek() == Some(']') {
                        self.pos += 1;
                        break;
                    }
                    items.push(self.value()?.0);
                    self.skip(true);
                    match self.peek() {
                        Some(',') => self.pos += 1,
                        Some(']') => {
                            self.pos += 1;
                            break;
                        }
                        _ => return err("expected `,` or `]` in the array", start..self.pos + self.peek_len()),
                    }
                }
                Value::Arr(items)
            }
            _ => {
                let end = self.text[self.pos..]
                    .find(|c: char| c.is_whitespace() || c == ',' || c == ']' || c == '#')
                    .map_or(self.text.len(), |n| self.pos + n);
                let word = &self.text[start..end];
                // An empty word still gets a one-character span (never half a character).
                let first_len = self.peek_len();
                self.pos = end;
                match word {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    _ => Value::Int(integer(word).ok_or_else(|| TomlError {
                        message: format!(
                            "`{word}` is not a value (a \"string\", an integer, true/false or [an, array])"
                        ),
                        span: start..end.max(start + first_len),
                    })?),
                }
            }
        };
        Ok((value, start..self.pos))
    }

    fn string(&mut self) -> Result<String, TomlError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else { return err("unterminated string", start..self.pos) };
            self.pos += c.len_utf8();
            match c {
                '"' => return Ok(out),
                '\n' => return err("unterminated string (strings end on their line)", start..self.pos - 1),
                '\\' => {
                    let backslash = self.pos - 1;
                    let e = self.peek();
                    self.pos += e.map_or(0, char::len_utf8);
                    out.push(match e {
                        Some('n') => '\n',
                        Some('t') => '\t',
                        Some('"') => '"',
                        Some('\\') => '\\',
                        _ => return err("unknown escape (use \\n, \\t, \\\" or \\\\)", backslash..self.pos),
                    });
                }
                c => out.push(c),
            }
        }
    }
}

/// Reads an integer: decimal or `0x` hex, `_` separators, an optional sign.
fn integer(word: &str) -> Option<u64> {
    let clean: String = word.chars().filter(|c| *c != '_').collect();
    let (neg, digits) = match clean.strip_prefix('-') {
        Some(rest) => (true, rest.to_string()),
        None => (false, clean.strip_prefix('+').unwrap_or(&clean).to_string()),
    };
    let v = match digits.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok()?,
        None => digits.parse::<u64>().ok()?,
    };
    Some(if neg { v.wrapping_neg() } else { v })
}

/// Parses `text`.
pub fn parse(text: &str) -> Result<Document, TomlError> {
    let mut p = Parser { text, pos: 0 };
    let mut doc = Document::default();
    loop {
        p.skip(true);
        let Some(c) = p.peek() else { return Ok(doc) };
        if c == '[' {
            let start = p.pos;
            let end = text[start..].find('\n').map_or(text.len(), |n| start + n);
            let line = text[start..end].split('#').next().unwrap_or("").trim_end();
            let Some(name) = line.strip_prefix("[[").and_then(|l| l.strip_suffix("]]")) else {
                return err(
                    "expected a `[[name]]` header (plain `[tables]` are not used here)",
                    start..start + line.len(),
                );
            };
            p.pos = start + line.len();
            p.end_of_line()?;
            doc.tables.push((name.trim().to_string(), Table { header: start..start + line.len(), entries: vec![] }));
            continue;
        }
        let (key, key_span) = p.key()?;
        p.skip(false);
        if p.peek() != Some('=') {
            return err(format!("expected `=` after `{key}`"), key_span);
        }
        p.pos += 1;
        p.skip(false);
        let (value, span) = p.value()?;
        p.end_of_line()?;
        let table = doc.tables.last_mut().map_or(&mut doc.top, |(_, t)| t);
        if let Some(prev) = table.entries.iter().find(|e| e.key == key) {
            let (line, _) =
                crate::program::Source { name: String::new(), text: text.to_string() }.line_col(prev.key_span.start);
            return err(format!("`{key}` is set twice in this table (first on line {line})"), key_span);
        }
        table.entries.push(Entry { key, key_span, value, span });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_top_keys_tables_and_arrays() {
        let doc = parse(
            "section = \"21.2\" # where\nruns = 0x10\n\n[[check]]\nname = \"a \\\"b\\\"\"\nmap = [\"m:1=2\",\n  \"m:2=3\", ]\nkernel = false\nr0 = -1\n",
        )
        .unwrap();
        assert_eq!(doc.top.entries[0].value, Value::Str("21.2".into()));
        assert_eq!(doc.top.entries[1].value, Value::Int(16));
        let (name, t) = &doc.tables[0];
        assert_eq!(name, "check");
        assert_eq!(t.entries[0].value, Value::Str("a \"b\"".into()));
        assert_eq!(t.entries[1].value, Value::Arr(vec![Value::Str("m:1=2".into()), Value::Str("m:2=3".into())]));
        assert_eq!(t.entries[2].value, Value::Bool(false));
        assert_eq!(t.entries[3].value, Value::Int(u64::MAX));
    }

    #[test]
    fn errors_point_at_their_place() {
        let e = parse("a = \"x\"\nb = nope\n").unwrap_err();
        assert_eq!(e.span, 12..16);
        assert!(e.message.contains("`nope` is not a value"));
        assert!(parse("a = \"open\n").unwrap_err().message.contains("unterminated"));
        assert!(parse("[check]\n").unwrap_err().message.contains("[[name]]"));
        assert!(parse("a = 1 2\n").unwrap_err().message.contains("after the value"));
        assert!(parse("a = 1\na = 2\n").unwrap_err().message.contains("set twice"));
        assert!(parse("a 1\n").unwrap_err().message.contains("expected `=`"));
        // Found by the proptest below: a word cut short by a two-byte space.
        let text = "a=\\\u{a0}";
        let e = parse(text).unwrap_err();
        assert!(text.is_char_boundary(e.span.end), "{:?}", e.span);
    }

    proptest::proptest! {
        /// Any text: an answer, never a panic, and error spans that cut no character.
        #[test]
        fn never_panics_and_spans_are_char_aligned(text in "[a-z =\"\\\\\\[\\],#0-9x\n\u{a0}é-]{0,40}") {
            if let Err(e) = parse(&text) {
                proptest::prop_assert!(e.span.start <= e.span.end && e.span.end <= text.len());
                proptest::prop_assert!(text.is_char_boundary(e.span.start) && text.is_char_boundary(e.span.end));
            }
        }
    }
}
