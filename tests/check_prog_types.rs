//! `ebpf-lab check` on the program types the kernel cannot test-run (kprobe, cgroup/sock: its
//! BPF_PROG_TEST_RUN says ENOTSUPP) says once how the kernel column ran, and still compares; the
//! types it can run (raw tracepoint, sk_lookup, cgroup skb, lwt) say nothing of the kind.

mod check_common;
use check_common::check;

#[test]
fn check_says_once_when_the_kernel_cannot_test_run_the_type() {
    if !ebpf_lab::kernel::require_or_skip("check_says_once_when_the_kernel_cannot_test_run_the_type") {
        return;
    }
    let note = "the kernel cannot test-run";
    // pt_regs.di (112) + si (104), from --ctx.
    let src = ".prog kprobe\nr0 = *(u64 *)(r1 + 112)\nr2 = *(u64 *)(r1 + 104)\nr0 += r2\nexit\n";
    let (code, out) = check("kp.s", src, &["--ctx", "di=40", "--ctx", "si=2"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.matches(note).count(), 1, "{out}");
    assert!(out.contains("kprobe programs") && out.contains("SYSCALL"), "{out}");
    assert_eq!(out.lines().find(|l| l.trim_start().starts_with("r0")).unwrap().matches("0x2a").count(), 3, "{out}");
    // cgroup/sock: the socket's mark written back, in both engines.
    let src = ".prog cgroup_sock\nr2 = 7\n*(u32 *)(r1 + 16) = r2\nr0 = 1\nexit\n";
    let (code, out) = check("cs.s", src, &["--ctx", "protocol=17"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.matches(note).count(), 1, "{out}");
    for (t, src, args) in [
        ("raw_tracepoint", ".prog raw_tracepoint\nr0 = *(u64 *)(r1 + 8)\nexit\n", vec!["--ctx", "args[1]=59"]),
        ("sk_lookup", ".prog sk_lookup\nr0 = 1\nexit\n", vec!["--ctx", "local_port=80"]),
        (
            "cgroup_skb",
            ".prog cgroup_skb\nr0 = *(u32 *)(r1 + 0)\nr0 &= 1\nexit\n",
            vec!["--packet", "examples/udp.pkt"],
        ),
        ("lwt_out", ".prog lwt_out\nr0 = *(u32 *)(r1 + 0)\nexit\n", vec!["--packet", "examples/udp.pkt"]),
    ] {
        let (code, out) = check(&format!("{t}.s"), src, &args);
        assert_eq!(code, 0, "{t}: {out}");
        assert!(!out.contains(note), "{t}: {out}");
        assert!(out.contains("all engines agree"), "{t}: {out}");
    }
    // The raw tracepoint's r0 is its args[1]; lwt_out sees the packet from the IP header (46 bytes).
    let (_, out) = check("rt.s", ".prog raw_tracepoint\nr0 = *(u64 *)(r1 + 8)\nexit\n", &["--ctx", "args[1]=59"]);
    assert!(out.lines().any(|l| l.trim_start().starts_with("r0") && l.matches("0x3b").count() == 3), "{out}");
    let (_, out) = check("lo.s", ".prog lwt_out\nr0 = *(u32 *)(r1 + 0)\nexit\n", &["--packet", "examples/udp.pkt"]);
    assert!(out.lines().any(|l| l.trim_start().starts_with("r0") && l.matches("0x2e").count() == 3), "{out}");
}

#[test]
fn sk_lookup_input_is_refused_where_the_kernel_refuses_it() {
    // No kernel needed: `run` refuses what the kernel's test run would (exit 2, the field named).
    let dir = std::env::temp_dir().join(format!("ebpf-lab-skl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("skl.s");
    std::fs::write(&f, ".prog sk_lookup\nr0 = 1\nexit\n").unwrap();
    for (ctx, says) in
        [("family=3", "AF_INET"), ("local_port=70000", "local_port"), ("ingress_ifindex=2", "ingress_ifindex")]
    {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_ebpf-lab"))
            .env("NO_COLOR", "1")
            .arg("run")
            .arg(&f)
            .args(["--ctx", ctx])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{ctx}: {err}");
        assert!(err.contains(says), "{ctx}: {err}");
    }
}
