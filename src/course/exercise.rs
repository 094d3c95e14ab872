//! One exercise: a folder `exercises/NN-slug/` holding the statement and hints in each language,
//! the starter the student edits, the reference solution, and `checks.toml` — the checks as data.
//!
//! `checks.toml` (see [`super::toml`] for the syntax): top-level `section`, `title_en`,
//! `title_fr` and optionally `kernel = false` (the exercise cannot run in the kernel), then one
//! `[[check]]` table per check:
//!
//! | key | meaning |
//! |---|---|
//! | `name` | what the check proves, shown to the student |
//! | `mem`, `packet` | the input buffer / packet, hex bytes (`run --mem` / `--packet-hex`) |
//! | `ctx` | context fields, `["FIELD=VALUE", ...]` (`run --ctx`) |
//! | `map` | map entries written before the run, `["NAME:KEY=VALUE", ...]` (`run --map`) |
//! | `runs` | how many times to run the program on the same maps (default 1) |
//! | `r0` | the expected return value (of the last run) |
//! | `maps` | entries the maps must hold afterwards, `["NAME:KEY=VALUE", ...]`; `NAME:KEY=none` for an absent key |
//! | `count` | how many entries a map must hold, `["NAME=N", ...]` (entries whose value is not all zero) |
//! | `packet_out` | the packet after the run, hex |
//! | `printk` | the `bpf_trace_printk` lines of the last run, in order |
//! | `verifier` | `"accept"` or `"reject"`: what the verifiers (ebpf-lab's, the kernel's) must say |
//! | `kernel` | `false` when the kernel cannot reproduce this input (the task's name, its pid) |
//! | `reveal` | `false` hides the expected r0 in reports (the answer to a question) |

use super::toml::{self, Entry, Table, Value};
use crate::diag::Diagnostic;
use crate::load::LoadError;
use crate::program::Source;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A language of the course.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// English.
    En,
    /// French, the course's own language.
    Fr,
}

impl Lang {
    /// The file suffix (`statement.fr.md`).
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }
}

/// The title of a chapter section (`21.3`) in `lang`; empty for a section the chapter lacks.
pub fn section_title(section: &str, lang: Lang) -> &'static str {
    let (en, fr) = match section {
        "21.1" => ("What eBPF is", "Qu'est-ce qu'eBPF ?"),
        "21.2" => ("Architecture", "Architecture"),
        "21.3" => ("DevOps and observability use cases", "Cas d'usage DevOps et observabilité"),
        "21.4" => ("Toolchain", "La chaîne d'outils"),
        "21.5" => ("First program", "Premier programme"),
        "21.6" => ("The ecosystem", "L'écosystème"),
        _ => ("", ""),
    };
    if lang == Lang::En {
        en
    } else {
        fr
    }
}

/// What the verifiers must say about the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The program must load.
    Accept,
    /// The program must be refused.
    Reject,
}

/// One check: inputs, then what must come out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Check {
    /// What the check proves.
    pub name: String,
    /// Input buffer, hex.
    pub mem: Option<String>,
    /// Packet, hex.
    pub packet: Option<String>,
    /// Context fields, `FIELD=VALUE`.
    pub ctx: Vec<String>,
    /// Map entries written before the run, `NAME:KEY=VALUE`.
    pub map: Vec<String>,
    /// Runs on the same maps (at least 1).
    pub runs: u32,
    /// Expected r0 after the last run.
    pub r0: Option<u64>,
    /// Expected map entries, `NAME:KEY=VALUE` or `NAME:KEY=none`.
    pub maps: Vec<String>,
    /// Expected entry counts, `NAME=N`.
    pub count: Vec<(String, usize)>,
    /// Expected packet after the run.
    pub packet_out: Option<Vec<u8>>,
    /// Expected `bpf_trace_printk` lines.
    pub printk: Option<Vec<String>>,
    /// What the verifiers must say.
    pub verifier: Option<Verdict>,
    /// False when the kernel cannot reproduce the check.
    pub kernel: bool,
    /// False when a report must not show the expected r0 (it is the answer to a question).
    pub reveal: bool,
}

impl Check {
    /// True when the check runs the program (it expects a result), not only a verdict.
    pub fn runs_program(&self) -> bool {
        self.r0.is_some()
            || !self.maps.is_empty()
            || !self.count.is_empty()
            || self.packet_out.is_some()
            || self.printk.is_some()
    }
}

/// An exercise, read from its folder.
#[derive(Clone, Debug)]
pub struct Exercise {
    /// The `NN` of `NN-slug`.
    pub number: u32,
    /// The folder name, `NN-slug`: the exercise's identity in the progress file.
    pub id: String,
    /// The folder.
    pub dir: PathBuf,
    /// The chapter section (`21.2`).
    pub section: String,
    /// Title in English.
    pub title_en: String,
    /// Title in French.
    pub title_fr: String,
    /// The file the student starts from.
    pub starter: PathBuf,
    /// The reference solution.
    pub solution: PathBuf,
    /// The checks, in order.
    pub checks: Vec<Check>,
}

impl Exercise {
    /// The title in `lang`.
    pub fn title(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.title_en,
            Lang::Fr => &self.title_fr,
        }
    }

    /// The statement in `lang`.
    pub fn statement(&self, lang: Lang) -> Result<String, String> {
        let path = self.dir.join(format!("statement.{}.md", lang.code()));
        std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The hints in `lang`, in order: `hints.LANG.md` split at lines holding only `---`.
    pub fn hints(&self, lang: Lang) -> Vec<String> {
        let path = self.dir.join(format!("hints.{}.md", lang.code()));
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let mut hints = vec![String::new()];
        for line in text.lines() {
            if line.trim() == "---" {
                hints.push(String::new());
            } else {
                let h = hints.last_mut().expect("never empty");
                h.push_str(line);
                h.push('\n');
            }
        }
        hints.into_iter().map(|h| h.trim().to_string()).filter(|h| !h.is_empty()).collect()
    }

    /// Reads the exercise in `dir` (named `NN-slug`).
    pub fn read(dir: &Path) -> Result<Exercise, LoadError> {
        let id = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let plain = |m: String| LoadError { source: None, diagnostics: vec![Diagnostic::error(m, None)] };
        let number = id
            .split('-')
            .next()
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| plain(format!("{}: an exercise folder is named NN-slug", dir.display())))?;
        let path = dir.join("checks.toml");
        let text = std::fs::read_to_string(&path).map_err(|e| plain(format!("{}: {e}", path.display())))?;
        let source = Source { name: path.display().to_string(), text };
        let at = |message: String, span: Range<usize>| LoadError {
            source: Some(source.clone()),
            diagnostics: vec![Diagnostic::error(message, Some(span))],
        };
        let doc = toml::parse(&source.text).map_err(|e| at(e.message, e.span))?;
        let mut meta = Meta::default();
        read_table(&doc.top, &mut |e| meta.set(e)).map_err(|(m, s)| at(m, s))?;
        let mut checks = Vec::new();
        for (name, table) in &doc.tables {
            if name != "check" {
                return Err(at(format!("unknown table `[[{name}]]` (only `[[check]]`)"), table.header.clone()));
            }
            let mut check = Check { runs: 1, kernel: meta.kernel, reveal: true, ..Check::default() };
            read_table(table, &mut |e| set_check(&mut check, e)).map_err(|(m, s)| at(m, s))?;
            if check.name.is_empty() {
                return Err(at("a check needs a `name`".into(), table.header.clone()));
            }
            if !check.runs_program() && check.verifier.is_none() {
                return Err(at(
                    "this check expects nothing: give `r0`, `maps`, `count`, `packet_out`, `printk` or `verifier`"
                        .into(),
                    table.header.clone(),
                ));
            }
            checks.push(check);
        }
        let missing = |what: &str| at(format!("`{what}` is missing at the top of the file"), 0..0);
        let starter = ["starter.s", "starter.c"]
            .iter()
            .map(|f| dir.join(f))
            .find(|p| p.exists())
            .ok_or_else(|| plain(format!("{}: no starter.s or starter.c", dir.display())))?;
        let ext = starter.extension().map(|e| e.to_string_lossy().into_owned()).unwrap_or_default();
        Ok(Exercise {
            number,
            dir: dir.to_path_buf(),
            section: meta.section.ok_or_else(|| missing("section"))?,
            title_en: meta.title_en.ok_or_else(|| missing("title_en"))?,
            title_fr: meta.title_fr.ok_or_else(|| missing("title_fr"))?,
            solution: dir.join(format!("solution.{ext}")),
            starter,
            checks,
            id,
        })
    }
}

/// A wrong entry: what is wrong and where.
type KeyError = (String, Range<usize>);

/// The top-level keys.
struct Meta {
    section: Option<String>,
    title_en: Option<String>,
    title_fr: Option<String>,
    kernel: bool,
}

impl Default for Meta {
    fn default() -> Meta {
        Meta { section: None, title_en: None, title_fr: None, kernel: true }
    }
}

impl Meta {
    fn set(&mut self, e: &Entry) -> Result<bool, KeyError> {
        match e.key.as_str() {
            "section" => self.section = Some(string(e)?),
            "title_en" => self.title_en = Some(string(e)?),
            "title_fr" => self.title_fr = Some(string(e)?),
            "kernel" => self.kernel = boolean(e)?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// Applies `set` to every entry; an entry `set` does not know is an error naming the key.
fn read_table(table: &Table, set: &mut dyn FnMut(&Entry) -> Result<bool, KeyError>) -> Result<(), KeyError> {
    for e in &table.entries {
        if !set(e)? {
            return Err((format!("unknown key `{}`", e.key), e.key_span.clone()));
        }
    }
    Ok(())
}

fn set_check(c: &mut Check, e: &Entry) -> Result<bool, KeyError> {
    match e.key.as_str() {
        "name" => c.name = string(e)?,
        "mem" => c.mem = Some(string(e)?),
        "packet" => c.packet = Some(string(e)?),
        "ctx" => c.ctx = strings(e)?,
        "map" => c.map = strings(e)?,
        "runs" => c.runs = int(e)?.clamp(1, 1000) as u32,
        "r0" => c.r0 = Some(int(e)?),
        "maps" => c.maps = strings(e)?,
        "count" => {
            c.count = strings(e)?
                .iter()
                .map(|s| {
                    let (name, n) = s.split_once('=').ok_or(("expected `NAME=N`".to_string(), e.span.clone()))?;
                    let n = n.trim().parse().map_err(|_| (format!("`{n}` is not a count"), e.span.clone()))?;
                    Ok((name.trim().to_string(), n))
                })
                .collect::<Result<_, _>>()?
        }
        "packet_out" => c.packet_out = Some(crate::load::parse_hex(&string(e)?).map_err(|(_, m)| (m, e.span.clone()))?),
        "printk" => c.printk = Some(strings(e)?),
        "verifier" => {
            c.verifier = Some(match string(e)?.as_str() {
                "accept" => Verdict::Accept,
                "reject" => Verdict::Reject,
                _ => return Err(("`verifier` is \"accept\" or \"reject\"".into(), e.span.clone())),
            })
        }
        "kernel" => c.kernel = boolean(e)?,
        "reveal" => c.reveal = boolean(e)?,
        _ => return Ok(false),
    }
    Ok(true)
}

fn string(e: &Entry) -> Result<String, KeyError> {
    match &e.value {
        Value::Str(s) => Ok(s.clone()),
        _ => Err((format!("`{}` is a \"string\"", e.key), e.span.clone())),
    }
}

fn int(e: &Entry) -> Result<u64, KeyError> {
    match &e.value {
        Value::Int(n) => Ok(*n),
        _ => Err((format!("`{}` is an integer", e.key), e.span.clone())),
    }
}

fn boolean(e: &Entry) -> Result<bool, KeyError> {
    match &e.value {
        Value::Bool(b) => Ok(*b),
        _ => Err((format!("`{}` is true or false", e.key), e.span.clone())),
    }
}

fn strings(e: &Entry) -> Result<Vec<String>, KeyError> {
    let bad = || (format!("`{}` is an array of strings: [\"...\", \"...\"]", e.key), e.span.clone());
    match &e.value {
        Value::Arr(items) => {
            items.iter().map(|v| if let Value::Str(s) = v { Ok(s.clone()) } else { Err(bad()) }).collect()
        }
        _ => Err(bad()),
    }
}

/// Every exercise under `root`, ordered by number.
pub fn all(root: &Path) -> Result<Vec<Exercise>, LoadError> {
    let entries = std::fs::read_dir(root).map_err(|e| LoadError {
        source: None,
        diagnostics: vec![Diagnostic::error(format!("{}: {e}", root.display()), None)
            .with_help(Some("point EBPF_LAB_EXERCISES at the course's `exercises` folder".into()))],
    })?;
    let mut dirs: Vec<PathBuf> =
        entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.join("checks.toml").is_file()).collect();
    dirs.sort();
    let mut out: Vec<Exercise> = dirs.iter().map(|d| Exercise::read(d)).collect::<Result<_, _>>()?;
    out.sort_by_key(|e| e.number);
    Ok(out)
}

/// Where the exercises are: `$EBPF_LAB_EXERCISES`, else the source tree's `exercises/`, so the
/// binary finds them from any directory the student works in.
pub fn default_root() -> PathBuf {
    match std::env::var_os("EBPF_LAB_EXERCISES") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("exercises"),
    }
}
