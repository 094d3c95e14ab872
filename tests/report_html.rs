//! `verify --html`: the report's data for accepted and rejected programs, and the page opened
//! in a real browser (Debian's `chromium`, headless): the error instruction is marked, the state
//! rows are there, and the page's script ran without an error.

use ebpf_lab::report::{html, Model};
use std::path::{Path, PathBuf};
use std::process::Command;

fn model(path: &str) -> Model {
    let program = ebpf_lab::load::load_program(Path::new(path), None).expect("example loads");
    Model::build(&program, 0)
}

#[test]
fn rejected_program_marks_the_error_and_its_path() {
    let m = model("examples/xdp_unchecked.s");
    let err = m.verification.error.as_ref().expect("rejected");
    assert_eq!(err.insn, Some(2));
    assert_eq!(m.path, vec![0, 1, 2]);
    let row = m.row_at(2).expect("row 2");
    assert!(row.error && row.on_path);
    assert!(row.states[0].regs.iter().any(|r| r.reg == 1 && r.words.contains("packet pointer")));
    let page = html::render(&m, "xdp_unchecked.s");
    assert!(page.contains(r#"<tr class="row error path" id="insn-2""#), "error row marked");
    assert!(page.contains("✗ REJECTED"));
    assert!(page.contains("hint: prove the bytes exist first"));
    assert!(!page.contains("http://") || page.matches("http://").count() == 1, "only the SVG namespace");
    assert!(!page.contains("<script src") && !page.contains("<link"), "self-contained");
}

#[test]
fn accepted_program_shows_states_and_stats() {
    let m = model("examples/xdp_count.s");
    assert!(m.verification.accepted(), "{:?}", m.verification.error);
    assert!(m.path.is_empty());
    assert!(m.rows.iter().all(|r| !r.error));
    assert!(m.rows[0].states[0].regs.iter().any(|r| r.reg == 1 && r.words.contains("context")));
    let page = html::render(&m, "xdp_count.s");
    assert!(page.contains("✓ ACCEPTED"));
    assert!(page.contains(&format!("processed {} insns", m.verification.stats.processed)));
}

#[test]
fn loop_is_reported_as_revisited() {
    let src = "r0 = 0\nr1 = 4\nloop:\nr0 += r1\nr1 -= 1\nif r1 != 0 goto loop\nexit\n";
    let program = ebpf_lab::asm::assemble("loop.s", src, None).map_err(|_| "assembly").expect("assembles");
    let m = Model::build(&program, 0);
    assert!(m.verification.accepted());
    assert_eq!(m.row_at(2).expect("row").visits, 4, "one check per unrolled iteration");
    assert!(html::render(&m, "loop.s").contains("checked more than once"));
}

/// Debian's `chromium`, or `None` after a one-line skip (a failure when CI requires it).
fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .and_then(|p| std::env::split_paths(&p).map(|d| d.join("chromium")).find(|c| c.is_file()));
    if found.is_none() {
        if std::env::var("EBPF_LAB_REQUIRE_KERNEL").as_deref() == Ok("1") {
            panic!("chromium is required in CI (EBPF_LAB_REQUIRE_KERNEL=1) but is not installed");
        }
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "skipping: chromium not installed [report_html browser tests]");
    }
    found
}

/// Runs headless chromium on `page` with `args`; returns its standard output.
fn browse(chromium: &Path, dir: &Path, page: &Path, args: &[&str]) -> String {
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium starts");
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ebpf-lab-report-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn browser_renders_rejected_report() {
    let Some(chromium) = chromium() else { return };
    let dir = scratch("rejected");
    let page = dir.join("report.html");
    std::fs::write(&page, html::render(&model("examples/xdp_unchecked.s"), "xdp_unchecked.s")).expect("write");
    let dom = browse(&chromium, &dir, &page, &["--dump-dom"]);
    assert!(dom.contains(r#"id="script-ok""#), "the page's script ran to the end:\n{dom}");
    // The script selected the error row on load, in both views.
    assert!(dom.contains(r#"class="row error path sel""#), "error row marked and selected");
    assert!(dom.contains(r#"class="bl sel" data-slot="2""#), "error line selected in the graph");
    assert!(dom.contains("selected insn 2"));
    assert_eq!(dom.matches("<tr class=\"row").count(), 4, "one row per instruction");
    assert!(dom.matches("class=\"reg\"").count() >= 4, "state rows present");
    let shot = dir.join("shot.png");
    browse(&chromium, &dir, &page, &[&format!("--screenshot={}", shot.display()), "--window-size=1400,700"]);
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "a real screenshot");
    if std::env::var("EBPF_LAB_UPDATE_SCREENSHOTS").as_deref() == Ok("1") {
        std::fs::write("docs/report-rejected.png", &png).expect("docs/");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn browser_renders_accepted_report() {
    let Some(chromium) = chromium() else { return };
    let dir = scratch("accepted");
    let page = dir.join("report.html");
    let m = model("examples/xdp_count.s");
    std::fs::write(&page, html::render(&m, "xdp_count.s")).expect("write");
    let dom = browse(&chromium, &dir, &page, &["--dump-dom"]);
    assert!(dom.contains(r#"id="script-ok""#), "the page's script ran to the end");
    assert!(!dom.contains("row error"), "nothing marked as an error");
    assert!(dom.contains("selected insn 0"));
    assert_eq!(dom.matches("<tr class=\"row").count(), m.rows.len());
    assert!(dom.contains("<svg id=\"cfg\""));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cli_writes_the_report_beside_the_verdict() {
    let dir = scratch("cli");
    let out = dir.join("r.html");
    let run = Command::new(env!("CARGO_BIN_EXE_ebpf-lab"))
        .args(["verify", "examples/xdp_unchecked.s", "--color", "never", "--html"])
        .arg(&out)
        .output()
        .expect("runs");
    assert_eq!(run.status.code(), Some(1), "rejected");
    assert!(String::from_utf8_lossy(&run.stderr).contains("report written to"));
    let page = std::fs::read_to_string(&out).expect("report written");
    assert!(page.contains(r#"id="insn-2""#) && page.contains("✗ REJECTED"));
    let bad = Command::new(env!("CARGO_BIN_EXE_ebpf-lab"))
        .args(["verify", "examples/xdp_count.s", "--html", "/nonexistent-dir/r.html"])
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(2), "unwritable path is bad input");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn accepted_report_shows_the_kernels_count_beside_ours() {
    if !ebpf_lab::kernel::require_or_skip("report kernel count") {
        return;
    }
    let dir = scratch("kernel");
    let out = dir.join("r.html");
    let run = Command::new(env!("CARGO_BIN_EXE_ebpf-lab"))
        .args(["verify", "examples/xdp_count.s", "--html"])
        .arg(&out)
        .output()
        .expect("runs");
    assert!(run.status.success());
    let page = std::fs::read_to_string(&out).expect("report written");
    let ours = model("examples/xdp_count.s").verification.stats.processed;
    assert!(page.contains(&format!("processed {ours} insns (limit")));
    assert!(page.contains("id=\"kernel-stats\">the kernel: processed "), "kernel count shown");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn log_lines_are_capped_per_instruction() {
    let src = "r1 = 200\nloop:\nr1 -= 1\nif r1 != 0 goto loop\nr0 = 0\nexit\n";
    let program = ebpf_lab::asm::assemble("loop.s", src, None).map_err(|_| "assembly").expect("assembles");
    let m = Model::build(&program, 0);
    let row = m.row_at(1).expect("row");
    assert_eq!(row.visits, 200);
    assert_eq!(row.log.len(), ebpf_lab::report::model::LOG_SHOWN);
    assert_eq!(row.log.len() + row.log_more, 200);
    assert!(html::render(&m, "loop.s").contains(&format!("… {} more lines", row.log_more)));
}
