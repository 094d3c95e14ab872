//! The course as students and teachers meet it: every reference solution passes all its checks
//! (on the interpreter, and on the kernel where it runs) and every starter fails one; `exercise
//! list|show|start|check|hint` with their exit codes, `--json`, the grader's many-files mode, the
//! progress file, and teachers' typos in `checks.toml` pointed at.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// A fresh working directory (the progress file lives there).
fn workdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ebpf-lab-course-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ebpf-lab"))
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("EBPF_LAB_EXERCISES")
        .env_remove("LANG")
        .args(args)
        .output()
        .expect("ebpf-lab runs")
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// The exercise folders, in order.
fn exercises() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join("exercises"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("checks.toml").is_file())
        .collect();
    dirs.sort();
    dirs
}

fn file_with_stem(dir: &Path, stem: &str) -> PathBuf {
    ["s", "c"].iter().map(|x| dir.join(format!("{stem}.{x}"))).find(|p| p.exists()).unwrap()
}

fn tool_runs(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success())
}

/// The per-file objects of a `check --json` answer, in order (the writer is ours: objects
/// start with `{"file":`).
fn file_reports(json: &str) -> Vec<&str> {
    json.split("{\"file\":").skip(1).collect()
}

#[test]
fn every_solution_passes_and_every_starter_fails() {
    let kernel = ebpf_lab::kernel::require_or_skip("every_solution_passes_and_every_starter_fails (kernel part)");
    let clang = tool_runs("clang-19");
    if !clang && std::env::var("EBPF_LAB_REQUIRE_LLVM").as_deref() == Ok("1") {
        panic!("clang-19 is required (EBPF_LAB_REQUIRE_LLVM=1)");
    }
    let all = exercises();
    assert!(all.len() >= 20, "the course has at least 20 exercises, found {}", all.len());
    let dir = workdir("all");
    for ex in &all {
        let id = ex.file_name().unwrap().to_string_lossy().into_owned();
        let (solution, starter) = (file_with_stem(ex, "solution"), file_with_stem(ex, "starter"));
        if solution.extension().is_some_and(|x| x == "c") && !clang {
            eprintln!("skipping: clang-19 not found [{id}]");
            continue;
        }
        let out =
            run_in(&dir, &["exercise", "check", &id, solution.to_str().unwrap(), starter.to_str().unwrap(), "--json"]);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{id}: the starter fails, so exit 1\n{stdout}{stderr}");
        let reports = file_reports(&stdout);
        assert_eq!(reports.len(), 2, "{id}: {stdout}");
        assert!(reports[0].contains("\"ok\":true,\"passed\""), "{id}: the solution fails a check:\n{}", reports[0]);
        assert!(!reports[0].contains("\"ok\":false"), "{id}: the solution fails a check:\n{}", reports[0]);
        assert!(
            !reports[0].contains("\"engines\":[]"),
            "{id}: a check of the solution was not judged:\n{}",
            reports[0]
        );
        assert!(
            reports[1].contains("\"ok\":false,\"passed\""),
            "{id}: the starter passes every check:\n{}",
            reports[1]
        );
        if kernel {
            let toml = std::fs::read_to_string(ex.join("checks.toml")).unwrap();
            if !toml.contains("\nkernel = false\n")
                || toml.matches("[[check]]").count() > toml.matches("kernel = false").count()
            {
                assert!(reports[0].contains("\"kernel\""), "{id}: no check ran on the kernel:\n{}", reports[0]);
            }
        }
    }
    assert!(!dir.join(".ebpf-lab-progress").exists(), "grading several files leaves the progress file alone");
}

#[test]
fn a_student_session_list_show_start_check_hint() {
    let dir = workdir("student");
    let out = run_in(&dir, &["exercise", "list"]);
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(0));
    for section in ["21.1", "21.2", "21.3", "21.4", "21.5", "21.6"] {
        assert!(stdout.contains(section), "list shows section {section}:\n{stdout}");
    }
    assert!(stdout.contains("0/22 done") || stdout.contains(&format!("0/{} done", exercises().len())));

    let (en, _) = text(&run_in(&dir, &["exercise", "show", "3", "--lang", "en"]));
    let (fr, _) = text(&run_in(&dir, &["exercise", "show", "3", "--lang", "fr"]));
    assert!(en.contains("Sum a buffer of 32-bit words") && en.contains("exercise check 3 03-sum-words.s"), "{en}");
    assert!(fr.contains("Sommer un tampon") && fr.contains("Vérifier"), "{fr}");

    let out = run_in(&dir, &["exercise", "start", "3"]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    assert!(dir.join("03-sum-words.s").exists());
    let again = run_in(&dir, &["exercise", "start", "3"]);
    assert_eq!(again.status.code(), Some(2), "start never overwrites the student's work");

    // The starter fails: exit 1, each failure with expected and got, and the first hint.
    let out = run_in(&dir, &["exercise", "check", "3", "03-sum-words.s", "--lang", "en"]);
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("✗ two words") && stdout.contains("r0: expected 3, got 0"), "{stdout}");
    assert!(stdout.contains("hint 1/3: Keep the index"), "{stdout}");
    let progress = std::fs::read_to_string(dir.join(".ebpf-lab-progress")).unwrap();
    assert!(progress.starts_with("03-sum-words 2/4 1") || progress.starts_with("03-sum-words 1/4 1"), "{progress}");

    // `hint` shows the hints seen so far and the next one.
    let (stdout, _) = text(&run_in(&dir, &["exercise", "hint", "3", "--lang", "en"]));
    assert!(stdout.contains("hint 1/3") && stdout.contains("hint 2/3") && !stdout.contains("hint 3/3"), "{stdout}");

    // The solution passes: exit 0, and the list says done.
    std::fs::copy(root().join("exercises/03-sum-words/solution.s"), dir.join("03-sum-words.s")).unwrap();
    let out = run_in(&dir, &["exercise", "check", "3", "03-sum-words.s", "--lang", "fr"]);
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("exercice 3 réussi") && !stdout.contains("indice"), "{stdout}");
    let (stdout, _) = text(&run_in(&dir, &["exercise", "list", "--json"]));
    assert!(stdout.contains("\"id\":\"03-sum-words\",\"section\":\"21.2\""), "{stdout}");
    assert!(stdout.contains("\"status\":\"done\",\"passed\":4,\"checks\":4"), "{stdout}");
}

#[test]
fn grader_mode_grades_a_class_in_one_process() {
    let dir = workdir("grader");
    let sol = root().join("exercises/13-drop-udp-port/solution.s");
    let starter = root().join("exercises/13-drop-udp-port/starter.s");
    let broken = dir.join("broken.s");
    std::fs::write(&broken, ".prog xdp\n        r0 = 2\n        r0 +== 1\n        exit\n").unwrap();
    let out = run_in(
        &dir,
        &[
            "exercise",
            "check",
            "13",
            sol.to_str().unwrap(),
            starter.to_str().unwrap(),
            broken.to_str().unwrap(),
            "--json",
        ],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "a file that does not assemble makes the exit 2\n{stdout}{stderr}");
    assert!(stderr.is_empty(), "with --json everything goes in the JSON: {stderr}");
    let reports = file_reports(&stdout);
    assert_eq!(reports.len(), 3, "{stdout}");
    assert!(reports[0].contains("\"ok\":true"));
    assert!(reports[1].contains("\"ok\":false,\"passed\":5,\"total\":6"), "{}", reports[1]);
    assert!(reports[1].contains("\"message\":\"r0: expected 1, got 2\""), "{}", reports[1]);
    assert!(reports[2].contains("\"error\":\"") && reports[2].contains("broken.s:3:"), "{}", reports[2]);
    assert!(stdout.starts_with("{\"exercise\":\"13-drop-udp-port\",\"ok\":false"), "{stdout}");
    assert!(!dir.join(".ebpf-lab-progress").exists());

    // Without --json the broken file's diagnostic names its place on stderr.
    let out = run_in(&dir, &["exercise", "check", "13", broken.to_str().unwrap()]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("broken.s:3:"), "{stderr}");
}

#[test]
fn usage_errors_exit_2_and_say_what_exists() {
    let dir = workdir("usage");
    let out = run_in(&dir, &["exercise", "show", "99"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("no exercise `99`") && stderr.contains("exercises: 1.."), "{stderr}");
    let out = run_in(&dir, &["exercise", "check", "3"]);
    assert_eq!(out.status.code(), Some(2), "a check needs a file");
    let out = run_in(&dir, &["exercise", "check", "3", "missing.s"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("missing.s"), "{stderr}");
}

#[test]
fn a_teachers_typo_in_checks_toml_is_pointed_at() {
    let dir = workdir("teacher");
    let ex = dir.join("course/01-demo");
    std::fs::create_dir_all(&ex).unwrap();
    for f in ["statement.en.md", "statement.fr.md", "hints.en.md", "hints.fr.md"] {
        std::fs::write(ex.join(f), "text\n").unwrap();
    }
    std::fs::write(ex.join("starter.s"), "r0 = 0\nexit\n").unwrap();
    std::fs::write(ex.join("solution.s"), "r0 = 1\nexit\n").unwrap();
    let course = dir.join("course");
    let course = course.to_str().unwrap();
    let with = |toml: &str| {
        std::fs::write(ex.join("checks.toml"), toml).unwrap();
        run_in(&dir, &["exercise", "--exercises", course, "list"])
    };
    let head = "section = \"21.1\"\ntitle_en = \"Demo\"\ntitle_fr = \"Démo\"\n";
    let out = with(&format!("{head}[[check]]\nname = \"one\"\nr1 = 1\n"));
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("checks.toml:6:1") && stderr.contains("unknown key `r1`"), "{stderr}");
    let out = with(&format!("{head}[[check]]\nname = \"one\"\nr0 = \"1\"\n"));
    assert!(text(&out).1.contains("`r0` is an integer"), "{:?}", text(&out));
    let out = with(&format!("{head}[[check]]\nname = \"one\"\n"));
    assert!(text(&out).1.contains("this check expects nothing"), "{:?}", text(&out));
    let out = with("section = \"21.1\"\n[[check]]\nname = \"one\"\nr0 = 1\n");
    assert!(text(&out).1.contains("`title_en` is missing"), "{:?}", text(&out));

    // A good file: the solution passes, the starter fails, through --exercises.
    with(&format!("{head}[[check]]\nname = \"one\"\nr0 = 1\n"));
    let sol = ex.join("solution.s");
    let out = run_in(&dir, &["exercise", "--exercises", course, "check", "1", sol.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
}
