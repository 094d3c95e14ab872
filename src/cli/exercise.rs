//! `ebpf-lab exercise`: the course's exercises — list them with the student's progress, show a
//! statement, give the next hint, and check a submission against every check on every engine
//! (the interpreter always; the kernel when it can be asked; any engine added to
//! [`engine::ENGINES`] without change here).
//!
//! `check` exits 0 only when every check of every file passes, 1 when one fails, 2 when a file
//! cannot be read or built. With several files (a teacher grading a class) it grades each in the
//! same process and leaves the progress file alone.

use super::input::InputArgs;
use super::json::Json;
use super::{Ctx, EXIT_INPUT, EXIT_PROGRAM};
use crate::course::exercise::{self, Check, Exercise, Lang, Verdict};
use crate::course::expect::{self, ExpectedEntry, Observed};
use crate::course::progress::Progress;
use crate::diag::{self, Diagnostic};
use crate::engine::{self, EngineError, EngineOptions, MapEntries};
use crate::interp::RunOptions;
use crate::kernel::{self, verifier_log, LoadOptions};
use crate::load::LoadError;
use crate::program::Program;
use clap::{Args, Subcommand, ValueEnum};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Arguments of `exercise`.
#[derive(Args, Debug)]
pub struct ExerciseArgs {
    #[command(subcommand)]
    command: ExerciseCommand,
    /// The folder of exercises (default: $EBPF_LAB_EXERCISES, else the course's `exercises/`).
    #[arg(long, value_name = "DIR", global = true)]
    exercises: Option<PathBuf>,
    /// Language of statements and hints (default: French when $LANG is French, else English).
    #[arg(long, value_enum, global = true)]
    lang: Option<LangArg>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum LangArg {
    En,
    Fr,
}

#[derive(Subcommand, Debug)]
enum ExerciseCommand {
    /// Every exercise, by chapter section, with your progress.
    List {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Print an exercise's statement.
    Show {
        /// Exercise number (or folder name).
        exercise: String,
    },
    /// Copy an exercise's starter file into the current directory, to edit.
    Start {
        /// Exercise number (or folder name).
        exercise: String,
    },
    /// Check your program (or a class's programs) against the exercise's checks.
    Check {
        /// Exercise number (or folder name).
        exercise: String,
        /// The program(s): `.s`, `.c` (compiled with clang), `.o`, `.bin`.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Machine-readable output (for a grader).
        #[arg(long)]
        json: bool,
    },
    /// Print the next hint.
    Hint {
        /// Exercise number (or folder name).
        exercise: String,
    },
}

/// Writes `text` to standard output; a closed pipe ends the output quietly.
fn out(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

fn fail(ctx: &Ctx, message: String, help: Option<String>) -> i32 {
    eprint!("{}", diag::render(None, &Diagnostic::error(message, None).with_help(help), ctx.color_err));
    EXIT_INPUT
}

/// Runs `exercise`.
pub fn run(ctx: &Ctx, args: ExerciseArgs) -> i32 {
    let root = args.exercises.clone().unwrap_or_else(exercise::default_root);
    let all = match exercise::all(&root) {
        Ok(all) => all,
        Err(e) => {
            eprint!("{}", e.render(ctx.color_err));
            return EXIT_INPUT;
        }
    };
    let lang = match args.lang {
        Some(LangArg::En) => Lang::En,
        Some(LangArg::Fr) => Lang::Fr,
        None if std::env::var("LANG").is_ok_and(|l| l.starts_with("fr")) => Lang::Fr,
        None => Lang::En,
    };
    let find = |wanted: &str| -> Result<&Exercise, i32> {
        let number = wanted.parse::<u32>().ok();
        all.iter().find(|e| Some(e.number) == number || e.id == wanted).ok_or_else(|| {
            let numbers =
                all.first().zip(all.last()).map_or("none".into(), |(a, b)| format!("{}..{}", a.number, b.number));
            fail(
                ctx,
                format!("no exercise `{wanted}` (exercises: {numbers})"),
                Some("`ebpf-lab exercise list` shows them".into()),
            )
        })
    };
    let mut progress = Progress::load(Path::new("."));
    match args.command {
        ExerciseCommand::List { json } => list(&all, &progress, lang, json),
        ExerciseCommand::Show { exercise } => find(&exercise).map_or_else(|c| c, |e| show(ctx, e, lang)),
        ExerciseCommand::Start { exercise } => find(&exercise).map_or_else(|c| c, |e| start(ctx, e)),
        ExerciseCommand::Hint { exercise } => find(&exercise).map_or_else(|c| c, |e| hint(e, lang, &mut progress)),
        ExerciseCommand::Check { exercise, files, json } => match find(&exercise) {
            Ok(e) => check(ctx, e, &files, json, lang, &mut progress),
            Err(code) => code,
        },
    }
}

/// `hint N`: the hints seen so far and the next one (the progress file remembers how many).
fn hint(e: &Exercise, lang: Lang, progress: &mut Progress) -> i32 {
    let hints = e.hints(lang);
    let seen = progress.get(&e.id).hints;
    let shown = (seen + 1).min(hints.len());
    let mut text = String::new();
    for (i, h) in hints.iter().enumerate().take(shown) {
        text.push_str(&format!("hint {}/{}: {h}\n\n", i + 1, hints.len()));
    }
    if seen >= hints.len() {
        text.push_str(match lang {
            Lang::En => "(that was every hint; the solution is in the exercise's folder)\n",
            Lang::Fr => "(ce sont tous les indices ; la solution est dans le dossier de l'exercice)\n",
        });
    }
    out(&text);
    progress.update(&e.id, |r| r.hints = shown);
    let _ = progress.save();
    0
}

fn list(all: &[Exercise], progress: &Progress, lang: Lang, json: bool) -> i32 {
    if json {
        let items = all
            .iter()
            .map(|e| {
                let r = progress.get(&e.id);
                Json::obj([
                    ("number", Json::U64(e.number.into())),
                    ("id", Json::str(&e.id)),
                    ("section", Json::str(&e.section)),
                    ("title", Json::str(e.title(lang))),
                    ("status", Json::str(r.status())),
                    ("passed", Json::U64(r.passed as u64)),
                    ("checks", Json::U64(e.checks.len() as u64)),
                ])
            })
            .collect();
        out(&format!("{}\n", Json::Arr(items).render()));
        return 0;
    }
    let mut text = String::new();
    let mut section = "";
    for e in all {
        if e.section != section {
            section = &e.section;
            text.push_str(&format!(
                "{}{section}  {}\n",
                if text.is_empty() { "" } else { "\n" },
                exercise::section_title(section, lang)
            ));
        }
        let r = progress.get(&e.id);
        let score = if r.total > 0 { format!("{}/{}", r.passed, r.total) } else { String::new() };
        text.push_str(&format!("  {:>2}  {:<7} {:>5}  {}\n", e.number, r.status(), score, e.title(lang)));
    }
    let done = all.iter().filter(|e| progress.get(&e.id).status() == "done").count();
    text.push_str(&match lang {
        Lang::En => format!("\n{done}/{} done · `ebpf-lab exercise show N` to start one\n", all.len()),
        Lang::Fr => format!("\n{done}/{} terminés · `ebpf-lab exercise show N` pour en commencer un\n", all.len()),
    });
    out(&text);
    0
}

/// The file name a student works in: `NN-slug.s` in the current directory.
fn work_file(e: &Exercise) -> String {
    let ext = e.starter.extension().map_or("s".into(), |x| x.to_string_lossy().into_owned());
    format!("{}.{ext}", e.id)
}

fn show(ctx: &Ctx, e: &Exercise, lang: Lang) -> i32 {
    let statement = match e.statement(lang) {
        Ok(s) => s,
        Err(why) => return fail(ctx, why, None),
    };
    let file = work_file(e);
    let footer = match lang {
        Lang::En => format!(
            "Start: `ebpf-lab exercise start {n}` copies the starter to {file}.\nCheck: `ebpf-lab exercise check {n} {file}` · stuck? `ebpf-lab exercise hint {n}`\n",
            n = e.number
        ),
        Lang::Fr => format!(
            "Pour commencer : `ebpf-lab exercise start {n}` copie le fichier de départ dans {file}.\nVérifier : `ebpf-lab exercise check {n} {file}` · bloqué ? `ebpf-lab exercise hint {n}`\n",
            n = e.number
        ),
    };
    let head = match lang {
        Lang::En => format!("[{} · exercise {} · {} checks]", e.section, e.number, e.checks.len()),
        Lang::Fr => format!("[{} · exercice {} · {} vérifications]", e.section, e.number, e.checks.len()),
    };
    out(&format!("{head}\n\n{}\n\n{footer}", statement.trim_end()));
    0
}

fn start(ctx: &Ctx, e: &Exercise) -> i32 {
    let file = PathBuf::from(work_file(e));
    if file.exists() {
        return fail(ctx, format!("{} already exists: it is your work, left as it is", file.display()), None);
    }
    match std::fs::copy(&e.starter, &file) {
        Ok(_) => {
            out(&format!(
                "{} written; edit it, then `ebpf-lab exercise check {} {}`\n",
                file.display(),
                e.number,
                file.display()
            ));
            0
        }
        Err(err) => fail(ctx, format!("{}: {err}", file.display()), None),
    }
}

/// One check's outcome on one file.
struct CheckOutcome {
    name: String,
    /// Engines (and verifiers) that took part.
    engines: Vec<String>,
    /// Mismatches, each with the engines that showed it.
    failures: Vec<(String, Vec<String>)>,
}

impl CheckOutcome {
    fn fail(&mut self, message: String, engine: &str) {
        match self.failures.iter_mut().find(|(m, _)| *m == message) {
            Some((_, engines)) => engines.push(engine.to_string()),
            None => self.failures.push((message, vec![engine.to_string()])),
        }
    }
}

/// One file's grade.
struct Graded {
    file: PathBuf,
    /// Why the file could not be built (the rendered diagnostic).
    error: Option<String>,
    checks: Vec<CheckOutcome>,
}

impl Graded {
    fn passed(&self) -> usize {
        self.checks.iter().filter(|c| c.failures.is_empty()).count()
    }
    fn ok(&self) -> bool {
        self.error.is_none() && self.checks.iter().all(|c| c.failures.is_empty())
    }
}

fn check(ctx: &Ctx, e: &Exercise, files: &[PathBuf], json: bool, lang: Lang, progress: &mut Progress) -> i32 {
    let kernel_ok = kernel::availability().is_ok();
    let graded: Vec<Graded> = files.iter().map(|f| grade(e, f, kernel_ok, (!json).then_some(ctx.color_err))).collect();
    // A student checks one file: that run is their progress, and earns the next hint on failure.
    let mut hint = None;
    if files.len() == 1 {
        let g = &graded[0];
        let seen = progress.get(&e.id).hints;
        if !g.ok() {
            hint = e.hints(lang).get(seen).cloned().map(|h| (seen + 1, e.hints(lang).len(), h));
        }
        progress.update(&e.id, |r| {
            (r.passed, r.total) = (g.passed(), e.checks.len());
            if let Some((n, _, _)) = &hint {
                r.hints = *n;
            }
        });
        let _ = progress.save();
    }
    if json {
        let files = graded.iter().map(graded_json).collect();
        let hint = hint.as_ref().map_or(Json::Null, |(_, _, h)| Json::str(h));
        let all = Json::obj([
            ("exercise", Json::str(&e.id)),
            ("ok", Json::Bool(graded.iter().all(Graded::ok))),
            ("files", Json::Arr(files)),
            ("hint", hint),
        ]);
        out(&format!("{}\n", all.render()));
    } else {
        let mut text = String::new();
        for g in &graded {
            text.push_str(&graded_text(e, g, lang, files.len() > 1));
        }
        if files.len() > 1 {
            // The class at a glance, one line per submission.
            text.push_str(&format!("summary, exercise {}:\n", e.number));
            for g in &graded {
                let score = match &g.error {
                    Some(_) => "error".to_string(),
                    None => format!("{}/{}", g.passed(), g.checks.len()),
                };
                text.push_str(&format!("  {score:>5}  {}\n", g.file.display()));
            }
        }
        if let Some((n, total, h)) = &hint {
            text.push_str(&format!("\nhint {n}/{total}: {h}\n"));
        }
        out(&text);
    }
    if graded.iter().any(|g| g.error.is_some()) {
        EXIT_INPUT
    } else if graded.iter().all(Graded::ok) {
        0
    } else {
        EXIT_PROGRAM
    }
}

fn graded_json(g: &Graded) -> Json {
    let checks = g
        .checks
        .iter()
        .map(|c| {
            Json::obj([
                ("name", Json::str(&c.name)),
                ("ok", Json::Bool(c.failures.is_empty())),
                ("engines", Json::Arr(c.engines.iter().map(Json::str).collect())),
                (
                    "failures",
                    Json::Arr(
                        c.failures
                            .iter()
                            .map(|(m, engines)| {
                                Json::obj([
                                    ("message", Json::str(m)),
                                    ("engines", Json::Arr(engines.iter().map(Json::str).collect())),
                                ])
                            })
                            .collect(),
                    ),
                ),
            ])
        })
        .collect();
    Json::obj([
        ("file", Json::str(g.file.display().to_string())),
        ("ok", Json::Bool(g.ok())),
        ("passed", Json::U64(g.passed() as u64)),
        ("total", Json::U64(g.checks.len() as u64)),
        ("error", g.error.as_ref().map_or(Json::Null, Json::str)),
        ("checks", Json::Arr(checks)),
    ])
}

fn graded_text(e: &Exercise, g: &Graded, lang: Lang, many: bool) -> String {
    let mut text = String::new();
    if many {
        text.push_str(&format!("== {}\n", g.file.display()));
    }
    if let Some(err) = &g.error {
        // Already rendered on stderr with its place; repeat only the verdict here.
        text.push_str(&format!("{}: not checked ({})\n\n", g.file.display(), err.lines().next().unwrap_or("")));
        return text;
    }
    // A rejection fails every check the same way: say it in full once.
    let mut said: Vec<&str> = Vec::new();
    for c in &g.checks {
        let mark = if c.failures.is_empty() { "✓" } else { "✗" };
        text.push_str(&format!("{mark} {}  [{}]\n", c.name, c.engines.join(", ")));
        for (m, engines) in &c.failures {
            let shown = if m.len() > 80 && said.contains(&m.as_str()) {
                format!("{} (as above)", m.split(':').next().unwrap_or(m))
            } else {
                said.push(m);
                m.clone()
            };
            text.push_str(&format!("    {shown}  ({})\n", engines.join(", ")));
        }
    }
    let (passed, total) = (g.passed(), g.checks.len());
    text.push_str(&match (lang, passed == total) {
        (Lang::En, true) => format!("\n{total}/{total} checks pass: exercise {} done\n", e.number),
        (Lang::En, false) => format!("\n{passed}/{total} checks pass\n"),
        (Lang::Fr, true) => format!("\n{total}/{total} vérifications passent : exercice {} réussi\n", e.number),
        (Lang::Fr, false) => format!("\n{passed}/{total} vérifications passent\n"),
    });
    if many {
        text.push('\n');
    }
    text
}

/// Builds `file` (compiling C with clang) and runs every check of `e` on it. A file that does
/// not build is reported on standard error (coloured when `stderr_color` says so) unless
/// `stderr_color` is `None` (JSON output carries it instead).
fn grade(e: &Exercise, file: &Path, kernel_ok: bool, stderr_color: Option<bool>) -> Graded {
    match build(file) {
        Ok(program) => {
            let checks = e.checks.iter().map(|c| run_check(&program, c, kernel_ok)).collect();
            Graded { file: file.to_path_buf(), error: None, checks }
        }
        Err(err) => {
            if let Some(color) = stderr_color {
                eprint!("{}", err.render(color));
            }
            Graded { file: file.to_path_buf(), error: Some(err.render(false)), checks: vec![] }
        }
    }
}

/// Reads a submission: C goes through clang first (as `clang -target bpf -O2 -g`), with the
/// course's `lab.h` on the include path.
fn build(file: &Path) -> Result<Program, LoadError> {
    if file.extension().is_some_and(|x| x == "c") {
        let object =
            compile_c(file).map_err(|m| LoadError { source: None, diagnostics: vec![Diagnostic::error(m, None)] })?;
        let loaded = crate::load::load_program(&object, None);
        let _ = std::fs::remove_file(&object);
        return loaded;
    }
    crate::load::load_program(file, None)
}

fn compile_c(file: &Path) -> Result<PathBuf, String> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let object =
        std::env::temp_dir().join(format!("ebpf-lab-{}-{}.o", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
    let clang = std::env::var("CLANG").unwrap_or_else(|_| "clang-19".into());
    let lab_h = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/c");
    let multiarch = format!("/usr/include/{}-linux-gnu", std::env::consts::ARCH);
    let output = std::process::Command::new(&clang)
        .args(["-target", "bpf", "-O2", "-g", "-I"])
        .arg(&lab_h)
        .args(["-I", &multiarch, "-c"])
        .arg(file)
        .arg("-o")
        .arg(&object)
        .output()
        .map_err(|e| {
            format!("cannot run `{clang}` to compile {}: {e} (install clang-19, or set CLANG)", file.display())
        })?;
    if !output.status.success() {
        return Err(format!("{} does not compile:\n{}", file.display(), String::from_utf8_lossy(&output.stderr)));
    }
    Ok(object)
}

/// The check's inputs, as `run` would take them on its command line.
fn input_args(c: &Check) -> InputArgs {
    InputArgs {
        mem: c.mem.clone(),
        packet_hex: c.packet.clone(),
        ctx: c.ctx.clone(),
        map: c.map.clone(),
        ..InputArgs::default()
    }
}

/// The expected entries, encoded at the program's key and value sizes by the same code that
/// encodes `--map` (an absent key is encoded with a placeholder value, then marked absent).
fn expected_entries(program: &Program, c: &Check) -> Result<Vec<ExpectedEntry>, String> {
    let absent: Vec<bool> = c.maps.iter().map(|m| m.ends_with("=none")).collect();
    let map = c.maps.iter().map(|m| m.strip_suffix("=none").map_or(m.clone(), |k| format!("{k}=0"))).collect();
    let fills = InputArgs { map, prog_type: Some(program.prog_type.name().into()), ..InputArgs::default() }
        .build(program)?
        .fills;
    Ok(fills
        .into_iter()
        .zip(absent)
        .map(|(f, absent)| ExpectedEntry { map: f.map, key: f.key, value: (!absent).then_some(f.value) })
        .collect())
}

fn run_check(program: &Program, c: &Check, kernel_ok: bool) -> CheckOutcome {
    let mut outcome = CheckOutcome { name: c.name.clone(), engines: vec![], failures: vec![] };
    let built = match input_args(c).build(program) {
        Ok(b) => b,
        Err(why) => {
            outcome.fail(format!("the check's input does not fit the program: {why}"), "input");
            return outcome;
        }
    };
    let use_kernel = kernel_ok && c.kernel;
    let options = EngineOptions {
        run: RunOptions { ncpus: kernel::possible_cpus() as u32, ..RunOptions::default() },
        // Level 1 keeps the log that names the reason of a rejection.
        kernel: LoadOptions { log_level: 1, ..LoadOptions::default() },
        ..EngineOptions::default()
    };
    if let Some(want) = c.verifier {
        // ebpf-lab's own verifier judges everywhere, root or not; the kernel's where it can.
        let mem_len = match &built.input {
            crate::interp::Input::Mem(b) => b.len() as u32,
            _ => 0,
        };
        let v = crate::verifier::verify(program, &crate::verifier::VerifyOptions { mem_len, ..Default::default() });
        verdict(&mut outcome, "verifier", want, v.error.as_ref().map(|r| r.message.clone()));
        if use_kernel {
            match kernel::KernelEngine::load(program, &options.kernel, &built.input) {
                Ok(_) => verdict(&mut outcome, "kernel", want, None),
                Err(EngineError::Rejected { error, log }) => {
                    let why = verifier_log::reason(&log).unwrap_or_else(|| error.explanation());
                    verdict(&mut outcome, "kernel", want, Some(why))
                }
                Err(other) => outcome.fail(format!("the kernel could not be asked: {other}"), "kernel"),
            }
        }
    }
    if !c.runs_program() {
        return outcome;
    }
    let expected = match expected_entries(program, c) {
        Ok(e) => e,
        Err(why) => {
            outcome.fail(format!("the check's expected maps do not fit the program: {why}"), "input");
            return outcome;
        }
    };
    for &name in engine::ENGINES {
        if name == "kernel" && !use_kernel {
            continue;
        }
        if !outcome.engines.iter().any(|e| e == name) {
            outcome.engines.push(name.to_string());
        }
        let mut eng = match engine::open(name, program, &options, &built.input) {
            Ok(eng) => eng,
            Err(EngineError::Rejected { error, log }) => {
                let why = verifier_log::reason(&log).unwrap_or_else(|| error.explanation());
                outcome.fail(format!("the verifier rejected the program: {why}"), name);
                continue;
            }
            Err(e) => {
                outcome.fail(e.to_string(), name);
                continue;
            }
        };
        if let Some(why) = built.fills.iter().find_map(|f| eng.map_update(&f.map, &f.key, &f.value).err()) {
            outcome.fail(format!("pre-filling a map: {why}"), name);
            continue;
        }
        let mut last = None;
        for _ in 0..c.runs {
            match eng.run(&built.input) {
                Ok(run) => last = Some(run),
                Err(e) => {
                    outcome.fail(run_error(program, &e), name);
                    last = None;
                    break;
                }
            }
        }
        let Some(run) = last else { continue };
        let maps: Vec<MapEntries> = program.maps.iter().map(|m| eng.map_entries(&m.name).unwrap_or_default()).collect();
        // The kernel's bpf_trace_printk lines go to the trace pipe, not to test_run's results.
        let observed = Observed { run: &run, maps: &maps, sees_printk: name != "kernel" };
        for m in expect::mismatches(program, c, &expected, &observed) {
            outcome.fail(m, name);
        }
    }
    outcome
}

/// A run-time error, with the source line when there is one.
fn run_error(program: &Program, e: &EngineError) -> String {
    if let EngineError::Runtime(re) = e {
        if let (Some(span), Some(src)) = (re.index.and_then(|i| program.span(i)), &program.source) {
            let (line, _) = src.line_col(span.start);
            let text = src.text.get(span).unwrap_or("").trim();
            return format!("run-time error at line {line} (`{text}`): {}", re.kind);
        }
    }
    format!("run-time error: {e}")
}

fn verdict(outcome: &mut CheckOutcome, judge: &str, want: Verdict, rejected: Option<String>) {
    outcome.engines.push(judge.to_string());
    // Worded alike for every judge, and as the run checks word a rejection, so a report
    // says it once, with the judges that said it.
    match (want, rejected) {
        (Verdict::Accept, Some(why)) => outcome.fail(format!("the verifier rejected the program: {why}"), judge),
        (Verdict::Reject, None) => outcome.fail("the verifier accepted the program; it must refuse it".into(), judge),
        _ => {}
    }
}
