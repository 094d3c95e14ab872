//! Programs attached to real kernel hooks: they see real events, their printk lines reach the
//! trace pipe, and detaching leaves no program, map or link behind.

use ebpf_lab::kernel::attach::{self, live_ids, map_ids_of, Attachment, Hook, ObjKind};
use ebpf_lab::kernel::trace_pipe::TracePipe;
use ebpf_lab::kernel::{require_or_skip, KernelProgram, LoadOptions};
use std::net::UdpSocket;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

/// One XDP program per interface: tests attaching to `lo` take turns.
static LO: Mutex<()> = Mutex::new(());

fn load(example: &str, hook: &Hook) -> KernelProgram {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(example);
    let program = ebpf_lab::load::load_program(&path, None).expect("example assembles");
    let opts = LoadOptions { kernel_prog_type: Some(hook.kernel_prog_type()), ..LoadOptions::default() };
    let k = KernelProgram::load(&program, &opts).expect("kernel reachable");
    assert!(k.verdict().accepted(), "{example} rejected: {}", k.verdict().log);
    k
}

fn counter(k: &KernelProgram) -> u64 {
    let entries = k.map_entries(0).unwrap();
    u64::from_ne_bytes(entries[0].1[..8].try_into().unwrap())
}

/// The kernel ids of everything one attached program holds.
struct Ids {
    prog: u32,
    maps: Vec<u32>,
    link: Option<u32>,
}

fn ids(k: &KernelProgram, a: &Attachment) -> Ids {
    let fd = k.prog_fd().unwrap();
    let prog = ebpf_lab::kernel::prog_info(fd).unwrap().id;
    let ids = Ids { prog, maps: map_ids_of(fd), link: a.link_id() };
    assert!(live_ids(ObjKind::Prog).contains(&ids.prog));
    for m in &ids.maps {
        assert!(live_ids(ObjKind::Map).contains(m));
    }
    if let Some(l) = ids.link {
        assert!(live_ids(ObjKind::Link).contains(&l), "link {l} is listed while attached");
    }
    ids
}

/// After the attachment and the program are dropped, none of their ids is live. Freeing is
/// finished by the kernel's deferred work, so the check looks again for a while before failing.
fn assert_gone(ids: &Ids) {
    let left = || {
        let mut left = Vec::new();
        if live_ids(ObjKind::Prog).contains(&ids.prog) {
            left.push(format!("program {}", ids.prog));
        }
        let maps = live_ids(ObjKind::Map);
        left.extend(ids.maps.iter().filter(|m| maps.contains(m)).map(|m| format!("map {m}")));
        if let Some(l) = ids.link.filter(|l| live_ids(ObjKind::Link).contains(l)) {
            left.push(format!("link {l}"));
        }
        left
    };
    for _ in 0..100 {
        if left().is_empty() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("left behind after detaching: {:?}", left());
}

#[test]
fn a_tracepoint_program_counts_every_execve() {
    if !require_or_skip("a_tracepoint_program_counts_every_execve") {
        return;
    }
    let hook = Hook::tracepoint("syscalls/sys_enter_execve").unwrap();
    let k = load("attach_execve.s", &hook);
    let a = attach::attach(k.prog_fd().unwrap(), &hook).unwrap();
    let ids = ids(&k, &a);
    const N: u64 = 5;
    for _ in 0..N {
        assert!(Command::new("/bin/true").status().unwrap().success());
    }
    // Other processes may exec too: at least ours are counted.
    let n = counter(&k);
    assert!(n >= N, "counted {n} execve, ran {N}");
    drop(a);
    let after = counter(&k);
    assert!(Command::new("/bin/true").status().unwrap().success());
    assert_eq!(counter(&k), after, "detached: an execve no longer counts");
    drop(k);
    assert_gone(&ids);
}

/// Sends `n` datagrams to 127.0.0.1 and returns the port they went to.
fn send_udp(n: usize) -> u16 {
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = rx.local_addr().unwrap().port();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    for _ in 0..n {
        tx.send_to(b"ebpf-lab", ("127.0.0.1", port)).unwrap();
    }
    port
}

#[test]
fn an_xdp_program_on_lo_counts_udp_to_localhost_and_prints_each_port() {
    if !require_or_skip("an_xdp_program_on_lo_counts_udp_to_localhost_and_prints_each_port") {
        return;
    }
    let _lo = LO.lock().unwrap_or_else(|e| e.into_inner());
    let hook = Hook::Xdp("lo".into());
    let k = load("attach_xdp_udp.s", &hook);
    let mut pipe = TracePipe::open().unwrap();
    let a = attach::attach(k.prog_fd().unwrap(), &hook).unwrap();
    let ids = ids(&k, &a);
    let port = send_udp(4);
    let n = counter(&k);
    assert!(n >= 4, "counted {n} datagrams, sent 4");
    drop(a);
    let mut mine = 0;
    for _ in 0..50 {
        mine += pipe.read_lines().iter().filter(|l| l.message == format!("udp port {port}")).count();
        if mine >= 4 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(mine, 4, "one printk line per datagram to port {port}");
    let instance = pipe.instance().to_path_buf();
    assert!(instance.join("trace_pipe").exists());
    drop(pipe);
    assert!(!instance.exists(), "the trace instance {} is removed", instance.display());
    let before = counter(&k);
    send_udp(2);
    assert_eq!(counter(&k), before, "detached: packets no longer counted");
    drop(k);
    assert_gone(&ids);
}

#[test]
fn a_socket_filter_on_lo_sees_the_packets() {
    if !require_or_skip("a_socket_filter_on_lo_sees_the_packets") {
        return;
    }
    let hook = Hook::Socket("lo".into());
    // The counter does not read its context, so the execve counter serves as a socket filter too.
    let k = load("attach_execve.s", &hook);
    let a = attach::attach(k.prog_fd().unwrap(), &hook).unwrap();
    let ids = ids(&k, &a);
    send_udp(3);
    let n = counter(&k);
    assert!(n >= 3, "the filter ran {n} times for 3 datagrams");
    drop(a);
    drop(k);
    assert_gone(&ids);
}

#[test]
fn a_raw_tracepoint_program_runs_on_syscalls() {
    if !require_or_skip("a_raw_tracepoint_program_runs_on_syscalls") {
        return;
    }
    let hook = Hook::RawTracepoint("sys_enter".into());
    let k = load("attach_execve.s", &hook);
    let a = attach::attach(k.prog_fd().unwrap(), &hook).unwrap();
    let ids = ids(&k, &a);
    assert!(ids.link.is_some(), "a raw tracepoint is a link");
    std::fs::metadata("/").unwrap();
    assert!(counter(&k) >= 1);
    drop(a);
    drop(k);
    assert_gone(&ids);
}

#[test]
fn attach_errors_say_what_is_wrong() {
    assert!(Hook::tracepoint("sys_enter_execve").unwrap_err().to_string().contains("CATEGORY/NAME"));
    if !require_or_skip("attach_errors_say_what_is_wrong") {
        return;
    }
    let hook = Hook::tracepoint("no_such_category/no_such_event").unwrap();
    let k = load("attach_execve.s", &hook);
    let e = attach::attach(k.prog_fd().unwrap(), &hook).unwrap_err();
    assert!(e.to_string().contains("no tracepoint no_such_category/no_such_event"), "{e}");
    let e = attach::attach(k.prog_fd().unwrap(), &Hook::Xdp("no_such_if0".into())).unwrap_err();
    assert!(e.to_string().contains("no network interface `no_such_if0`"), "{e}");
}

#[test]
fn the_cli_attaches_for_a_while_and_reports_json() {
    if !require_or_skip("the_cli_attaches_for_a_while_and_reports_json") {
        return;
    }
    let _lo = LO.lock().unwrap_or_else(|e| e.into_inner());
    let child = Command::new(env!("CARGO_BIN_EXE_ebpf-lab"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["attach", "examples/attach_xdp_udp.s", "--xdp", "lo", "--for", "1s", "--json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Keep sending until the run ends, so some datagrams arrive while it is attached.
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = rx.local_addr().unwrap().port();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let done = std::sync::atomic::AtomicBool::new(false);
    let out = std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                let _ = tx.send_to(b"x", ("127.0.0.1", port));
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        });
        let out = child.wait_with_output().unwrap();
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        out
    });
    assert!(out.status.success(), "{out:?}");
    let json = String::from_utf8(out.stdout).unwrap();
    assert!(json.starts_with("{\"hook\":\"XDP hook of lo\",\"maps\":{\"udp\":[{\"key\":\"00000000\""), "{json}");
    assert!(!json.contains("\"value\":\"0000000000000000\""), "packets were counted: {json}");
    assert!(json.contains(&format!("\"message\":\"udp port {port}\"")), "{json}");
}

#[test]
fn ctrl_c_detaches_early_and_still_reports() {
    if !require_or_skip("ctrl_c_detaches_early_and_still_reports") {
        return;
    }
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_ebpf-lab"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["attach", "examples/attach_execve.s", "--tracepoint", "syscalls/sys_enter_execve", "--for", "10m"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert!(first.starts_with("attached to the tracepoint syscalls/sys_enter_execve for 600s"), "{first}");
    assert!(Command::new("/bin/true").status().unwrap().success());
    // SAFETY: signals our own child.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(rest.starts_with("detached (interrupted); maps:\n  execs (array, 1 entries)\n    [0] "), "{rest}");
    assert!(!rest.contains("[0] 0\n"), "the execve was counted: {rest}");
}

#[test]
fn without_root_attach_exits_2_and_says_what_is_needed() {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ebpf-lab"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR")).env("NO_COLOR", "1").args([
        "attach",
        "examples/attach_execve.s",
        "--tracepoint",
        "syscalls/sys_enter_execve",
        "--for",
        "1s",
    ]);
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        cmd.uid(65534).gid(65534);
    }
    let o = cmd.output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("attaching to the tracepoint syscalls/sys_enter_execve needs root"), "{err}");
    assert!(err.contains("run it with sudo"), "{err}");
}

#[test]
fn the_trace_pipe_keeps_only_the_marked_programs_lines() {
    if !require_or_skip("the_trace_pipe_keeps_only_the_marked_programs_lines") {
        return;
    }
    use ebpf_lab::kernel::trace_pipe::{mark_program, new_marker};
    let _lo = LO.lock().unwrap_or_else(|e| e.into_inner());
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/attach_xdp_udp.s");
    let program = ebpf_lab::load::load_program(&path, None).unwrap();
    let marker = new_marker();
    let marked = mark_program(&program, &marker).expect("the program can be marked");
    let hook = Hook::Xdp("lo".into());
    let opts = LoadOptions { kernel_prog_type: Some(hook.kernel_prog_type()), ..LoadOptions::default() };
    let k = KernelProgram::load(&marked, &opts).unwrap();
    assert!(k.verdict().accepted(), "{}", k.verdict().log);
    // Another program printing at the same time, unmarked.
    let other = ebpf_lab::asm::assemble(
        "other.s",
        ".prog syscall\nr1 = 0x74726f7020706475 ll\n*(u64 *)(r10 - 16) = r1\nr1 = 0x0a642520\n\
         *(u64 *)(r10 - 8) = r1\nr1 = r10\nr1 += -16\nr2 = 13\nr3 = 7\ncall bpf_trace_printk\nr0 = 0\nexit\n",
        Some(ebpf_lab::asm::Syntax::Llvm),
    )
    .unwrap();
    let mut other_k = KernelProgram::load(&other, &LoadOptions::default()).unwrap();
    let mut pipe = TracePipe::open().unwrap();
    pipe.only_marked(&marker);
    let a = attach::attach(k.prog_fd().unwrap(), &hook).unwrap();
    let port = send_udp(3);
    other_k.run(&other, &Default::default()).unwrap();
    send_udp(0);
    drop(a);
    let mut mine = Vec::new();
    for _ in 0..50 {
        mine.extend(pipe.read_lines().into_iter().map(|l| l.message));
        if mine.len() >= 3 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(50));
    mine.extend(pipe.read_lines().into_iter().map(|l| l.message));
    assert_eq!(mine, vec![format!("udp port {port}"); 3], "only the marked program's lines, no marker lines");
}

#[test]
fn a_program_without_prog_line_attaches_to_a_raw_tracepoint() {
    if !require_or_skip("a_program_without_prog_line_attaches_to_a_raw_tracepoint") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("ebpf-lab-attach-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let prog = dir.join("nothing.s");
    std::fs::write(&prog, "r0 = 0\nexit\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_ebpf-lab"))
        .args(["attach", prog.to_str().unwrap(), "--raw-tracepoint", "sys_enter", "--for", "100ms", "--json"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "{\"hook\":\"raw tracepoint sys_enter\",\"maps\":{},\"trace_printk\":[]}\n"
    );
}
