//! `ebpf-lab debug`: the session's commands, the exact screen (ratatui's test backend), the
//! stop where a concrete value leaves the verifier's states, `--script`, and one run in a real
//! terminal (tmux).

use ebpf_lab::debug::{screen, Session};
use ebpf_lab::interp::{Input, Vm};
use std::path::Path;
use std::process::Command;

fn session_src(src: &str, input: Input) -> Session {
    let program = ebpf_lab::asm::assemble("t.s", src, None).map_err(|_| "assembly").expect("assembles");
    Session::new(&program, Vm::new(&program).expect("vm"), input)
}

fn session_file(path: &str, input: Input) -> Session {
    let program = ebpf_lab::load::load_program(Path::new(path), None).expect("loads");
    Session::new(&program, Vm::new(&program).expect("vm"), input)
}

/// The screen of the missing bounds check, two steps in: the rejected instruction is next,
/// r1 is a packet pointer with 0 bytes proven, and running it will fault.
#[test]
fn screen_at_the_unchecked_load_is_exact() {
    let mut s = session_file("examples/xdp_unchecked.s", Input::xdp(vec![0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66]));
    s.command("step 2");
    let expected = include_str!("debug/unchecked_step2.screen");
    assert_eq!(screen::text(&s, 100, 26), expected);
}

#[test]
fn back_replays_the_same_machine() {
    let mut s = session_file("examples/xdp_count.s", Input::xdp(std::fs::read("examples/udp.pkt").expect("pkt")));
    s.command("step 7");
    let at7 = screen::text(&s, 110, 30);
    s.command("step 3");
    assert_eq!(s.pos, 10);
    s.command("back 3");
    assert_eq!(screen::text(&s, 110, 30), at7, "stepping back shows the very same screen");
    s.command("restart");
    assert_eq!(s.pos, 0);
    assert_eq!(s.pc_at(0), Some(0));
}

#[test]
fn watch_stops_when_the_map_changes() {
    let mut s = session_file("examples/xdp_count.s", Input::xdp(std::fs::read("examples/udp.pkt").expect("pkt")));
    s.command("watch counts");
    s.command("continue");
    assert!(s.status.starts_with("map `counts` changed"), "{}", s.status);
    assert_eq!(s.pc_at(s.pos), Some(15), "stopped after the atomic add at 14");
    assert_eq!(s.maps_at(s.pos)[0].iter().filter(|(_, v)| v[0] == 1).count(), 1);
    assert_eq!(s.maps_at(s.pos - 1)[0].iter().filter(|(_, v)| v[0] == 1).count(), 0);
    s.command("continue");
    assert!(s.status.starts_with("the program exited: r0 = 0x2"), "{}", s.status);
}

#[test]
fn breakpoints_until_and_proven_range() {
    let mut s = session_file("examples/xdp_count.s", Input::xdp(std::fs::read("examples/udp.pkt").expect("pkt")));
    s.command("break 12");
    s.command("continue");
    assert_eq!(s.pc_at(s.pos), Some(12));
    assert!(s.status.starts_with("breakpoint at insn 12"), "{}", s.status);
    s.command("restart");
    s.command("until line:11");
    assert_eq!(s.pc_at(s.pos), Some(5), "line 11 is insn 5, after the bounds check");
    assert_eq!(s.proven_at(s.pos), 34, "the check proved 34 bytes on this path");
    assert!(s.belief(s.pos, 1).contains("packet pointer, offset 0; 34 bytes proven"));
    s.command("until 99");
    assert_eq!(s.status, "no instruction 99");
}

#[test]
fn next_steps_over_a_call() {
    let src = "r1 = 5\ncall f\nr0 += 1\nexit\nf:\nr0 = r1\nr0 *= 2\nexit\n";
    let mut s = session_src(src, Input::mem(vec![]));
    s.command("step");
    assert_eq!(s.pc_at(s.pos), Some(1));
    s.command("next");
    assert_eq!(s.pc_at(s.pos), Some(2), "over the call");
    assert_eq!(s.regs_at(s.pos)[0], 10);
    s.command("back");
    assert_eq!(s.pc_at(s.pos), Some(6), "back is one executed instruction: the callee's exit");
    s.command("back 3");
    assert_eq!(s.pc_at(s.pos), Some(1), "at the call again");
    s.command("step");
    assert_eq!(s.pc_at(s.pos), Some(4), "step goes into the call");
    assert_eq!(s.calls_at(s.pos), vec![1]);
    assert!(screen::text(&s, 100, 26).contains("#1 from 1"));
}

/// A value outside every state the verifier kept there stops `continue` and shows both. The
/// verifier is sound on this program, so the recorded value is altered to stand for a bug.
#[test]
fn value_outside_the_verifier_state_stops_and_shows_both() {
    let src = "r0 = *(u8 *)(r1 + 0)\nr0 += 1\nexit\n";
    let mut s = session_src(src, Input::mem(vec![7]));
    assert!(s.model.verification.accepted());
    assert!(s.mismatches_at(1).is_empty());
    s.run.steps[0].regs[0] = 0x1234;
    s.command("continue");
    assert_eq!(s.pos, 1);
    let m = &s.mismatches_at(1)[0];
    assert_eq!((m.reg, m.value), (0, 0x1234));
    assert!(s.status.starts_with("STOP: r0 = 0x1234 (4660) but the verifier said r0 is"), "{}", s.status);
    assert!(s.status.contains("[0, 255]") && s.status.contains("unsound"), "{}", s.status);
    assert!(screen::text(&s, 100, 26).contains("!!r0"));
}

#[test]
fn unknown_command_lists_the_commands() {
    let mut s = session_src("r0 = 0\nexit\n", Input::mem(vec![]));
    assert!(s.command("frobnicate"));
    assert!(s.status.contains("step [N], next, continue"));
    assert!(!s.command("quit"));
}

fn ebpf_lab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ebpf-lab"))
}

#[test]
fn script_prints_each_screen_and_kernel_is_refused() {
    let dir = std::env::temp_dir().join(format!("ebpf-lab-debug-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let script = dir.join("cmds");
    std::fs::write(&script, "# find the fault\nstep 2\ncontinue\n").expect("write");
    let out = ebpf_lab()
        .args(["debug", "examples/xdp_unchecked.s", "--packet-hex", "00112233", "--script"])
        .arg(&script)
        .output()
        .expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.matches("┌ source").count(), 3, "the first screen and one per command");
    assert!(text.contains("\n$ step 2\n") && text.contains("\n$ continue\n"));
    assert!(text.contains("running it FAULTS"));
    let k = ebpf_lab().args(["debug", "examples/xdp_unchecked.s", "--engine", "kernel"]).output().expect("runs");
    assert_eq!(k.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&k.stderr).contains("the kernel engine cannot be stepped"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// One session in a real terminal: tmux runs the debugger, keys go in, the pane comes out.
#[test]
fn tmux_session_steps_and_quits() {
    let has_tmux = Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success());
    if !has_tmux {
        if std::env::var("EBPF_LAB_REQUIRE_KERNEL").as_deref() == Ok("1") {
            panic!("tmux is required in CI (EBPF_LAB_REQUIRE_KERNEL=1) but is not installed");
        }
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "skipping: tmux not installed [debug tmux test]");
        return;
    }
    let name = format!("ebpf-lab-debug-{}", std::process::id());
    let tmux = |args: &[&str]| Command::new("tmux").args(args).output().expect("tmux runs");
    let cmd = format!(
        "{} debug examples/xdp_unchecked.s --packet-hex 00112233; echo DEBUGGER-EXITED $?; sleep 30",
        env!("CARGO_BIN_EXE_ebpf-lab")
    );
    let started = tmux(&["new-session", "-d", "-s", &name, "-x", "110", "-y", "34", &cmd]);
    assert!(started.status.success(), "{}", String::from_utf8_lossy(&started.stderr));
    // Ends the session however the test ends.
    struct Kill(String);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = Command::new("tmux").args(["kill-session", "-t", &self.0]).output();
        }
    }
    let _kill = Kill(name.clone());
    // Poll the pane rather than sleep a fixed time: the machine may be slow.
    let capture = || String::from_utf8_lossy(&tmux(&["capture-pane", "-p", "-t", &name]).stdout).into_owned();
    let wait_for = |needle: &str| {
        for _ in 0..200 {
            let pane = capture();
            if pane.contains(needle) {
                return pane;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("`{needle}` never appeared:\n{}", capture());
    };
    wait_for("registers at step 0/2");
    tmux(&["send-keys", "-t", &name, "s", "s"]);
    let pane = wait_for("registers at step 2/2");
    assert!(pane.contains(">  !  2: r0 = *(u8 *)(r1 +12)") || pane.contains("> !  2: r0"), "{pane}");
    tmux(&["send-keys", "-t", &name, "b"]);
    wait_for("registers at step 1/2");
    tmux(&["send-keys", "-t", &name, "q"]);
    let pane = wait_for("DEBUGGER-EXITED 0");
    assert!(!pane.contains("panicked"));
}

/// The README's debugging transcript is what the debugger prints.
#[test]
fn readme_transcript_is_true() {
    let readme = std::fs::read_to_string("README.md").expect("README");
    let start = readme.find("$ ebpf-lab debug examples/xdp_unchecked.s").expect("the transcript");
    let block = &readme[start..];
    let block = &block[block.find("$ until line:4").expect("the command")..block.find("```").expect("block end")];
    let dir = std::env::temp_dir().join(format!("ebpf-lab-readme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("cmds"), "until line:4\n").expect("write");
    let out = ebpf_lab()
        .args(["debug", "examples/xdp_unchecked.s", "--packet-hex", "0011223344556677", "--size", "116x20", "--script"])
        .arg(dir.join("cmds"))
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(block), "README transcript differs from:\n{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
