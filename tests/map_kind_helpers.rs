//! The helpers of queue, perf event and redirect maps, run by every engine on the same programs:
//! `r0` must agree with the kernel's for each flag and key, and ebpf-lab's engines must record
//! the same perf records and redirect target (which the kernel's test run does not report).

use ebpf_lab::asm::assemble;
use ebpf_lab::engine::{self, EngineOptions, EngineRun, MapEntries};
use ebpf_lab::interp::{Input, RunOptions, SkbFields};
use ebpf_lab::kernel;
use ebpf_lab::program::Program;

/// One engine's run: its name, what it answered, and the map it was asked to dump afterwards.
type Ran = (&'static str, EngineRun, MapEntries);

fn options() -> EngineOptions {
    EngineOptions {
        run: RunOptions { ncpus: kernel::possible_cpus() as u32, ..RunOptions::default() },
        ..Default::default()
    }
}

/// Runs `text` once on every engine (the kernel's where there is one) after the `fills`; returns
/// each engine's run and the contents of map `dump`.
fn run_all(text: &str, input: &Input, fills: &[(&str, Vec<u8>, Vec<u8>)], dump: &str) -> Vec<Ran> {
    let p: Program = assemble("t.s", text, None).unwrap_or_else(|e| panic!("{e:?}"));
    let v = ebpf_lab::verifier::verify(&p, &Default::default());
    assert!(v.accepted(), "{text}\n{:?}", v.error);
    let mut names = vec!["interp", "jit"];
    if kernel::require_or_skip("map_kind_helpers") {
        names.push("kernel");
    }
    names
        .into_iter()
        .map(|name| {
            let mut e = engine::open(name, &p, &options(), input).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
            for (map, k, v) in fills {
                e.map_update(map, k, v).unwrap_or_else(|e| panic!("{name}: {e}"));
            }
            let run = e.run(input).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
            (name, run, e.map_entries(dump).unwrap_or_default())
        })
        .collect()
}

/// Asserts every engine's r0 is `want` and the interpreter's and JIT's redirect targets agree.
fn agree(runs: &[Ran], want: u64, what: &str) {
    for (name, run, _) in runs {
        assert_eq!(run.outcome.r0 as u32 as u64, want, "{what}: {name}'s r0");
    }
    assert_eq!(runs[0].1.outcome.redirect(), runs[1].1.outcome.redirect(), "{what}: redirect, interp vs jit");
}

#[test]
fn redirect_map_answers_like_the_kernel_for_every_flag() {
    let fills = [("ports", 0u32.to_le_bytes().to_vec(), 1u32.to_le_bytes().to_vec())];
    // (flags, key, r0): a hit redirects (4); a miss answers the action in the low bits; the
    // devmap's broadcast redirects whatever the key; any other flag aborts (0).
    let cases = [
        (0, 0, 4),
        (2, 0, 4),
        (2, 1, 2),
        (1, 3, 1),
        (3, 9, 3),
        (8, 3, 4),
        (16, 1, 0),
        (16 | 2, 0, 4),
        (4, 0, 0),
        (32, 0, 0),
    ];
    for (flags, key, want) in cases {
        let text = format!(
            ".prog xdp\n.map ports devmap key=4 value=4 max=4\n  r1 = map(ports) ll\n  r2 = {key}\n  r3 = {flags}\n  call bpf_redirect_map\n  exit\n"
        );
        let runs = run_all(&text, &Input::xdp(vec![0; 60]), &fills, "ports");
        agree(&runs, want, &format!("flags {flags} key {key}"));
        let target = runs[0].1.outcome.redirect().map(String::from);
        match (want, flags & 8) {
            (4, 0) => assert_eq!(target.as_deref(), Some("devmap ports[0] (ifindex 1)")),
            (4, _) => assert_eq!(target.as_deref(), Some("devmap ports (broadcast)")),
            _ => assert_eq!(target, None, "flags {flags} key {key}: a miss redirects nothing"),
        }
    }
    // A cpumap and an xskmap take no broadcast flag; the empty xskmap misses.
    for (map, flags, want) in [("cpumap", 8, 0), ("cpumap", 2, 2), ("xskmap", 1, 1)] {
        let text = format!(
            ".prog xdp\n.map m {map} key=4 value=4 max=2\n  r1 = map(m) ll\n  r2 = 0\n  r3 = {flags}\n  call bpf_redirect_map\n  exit\n"
        );
        agree(&run_all(&text, &Input::xdp(vec![0; 60]), &[], "m"), want, &format!("{map} flags {flags}"));
    }
}

#[test]
fn redirect_answers_per_program_type() {
    for (prog, flags, want) in [("xdp", 0, 4), ("xdp", 1, 0), ("tc", 0, 7), ("tc", 1, 7), ("tc", 2, 2)] {
        let text = format!(".prog {prog}\n  r1 = 1\n  r2 = {flags}\n  call bpf_redirect\n  exit\n");
        let input = if prog == "xdp" { Input::xdp(vec![0; 60]) } else { Input::skb(vec![0; 60], SkbFields::default()) };
        let runs = run_all(&text, &input, &[], "none");
        agree(&runs, want, &format!("{prog} flags {flags}"));
        let expected = match (prog, want) {
            ("xdp", 4) => Some("ifindex 1 (bpf_redirect)"),
            ("tc", 7) if flags == 1 => Some("ifindex 1 ingress (bpf_redirect)"),
            ("tc", 7) => Some("ifindex 1 egress (bpf_redirect)"),
            _ => None,
        };
        assert_eq!(runs[0].1.outcome.redirect(), expected, "{prog} flags {flags}");
    }
}

#[test]
fn perf_event_output_answers_like_the_kernel() {
    let cpus = kernel::possible_cpus() as u64;
    // (flags, r0, record kept): the running CPU (0) by BPF_F_CURRENT_CPU or by index; another
    // CPU's event (-EOPNOTSUPP); past max_entries (-E2BIG); with packet bytes; more packet than
    // there is (-EFAULT); an unknown flag (-EINVAL).
    let mut cases: Vec<(u64, i64, Option<Vec<u8>>)> = vec![
        (0xffff_ffff, 0, Some(vec![1, 2, 3, 4, 5, 6, 7, 8])),
        (0, 0, Some(vec![1, 2, 3, 4, 5, 6, 7, 8])),
        (64, -(libc::E2BIG as i64), None),
        ((4 << 32) | 0xffff_ffff, 0, Some(vec![1, 2, 3, 4, 5, 6, 7, 8, 0xaa, 0xbb, 0xcc, 0xdd])),
        ((100 << 32) | 0xffff_ffff, -(libc::EFAULT as i64), None),
        (1 << 60, -(libc::EINVAL as i64), None),
    ];
    if cpus > 1 {
        cases.push((1, -(libc::EOPNOTSUPP as i64), None));
    }
    for (flags, want, record) in cases {
        let text = format!(
            ".prog xdp\n.map events perf_event_array key=4 value=4 max=64\n  r6 = 0x0807060504030201 ll\n  *(u64 *)(r10 - 8) = r6\n  r2 = map(events) ll\n  r3 = {flags} ll\n  r4 = r10\n  r4 += -8\n  r5 = 8\n  call bpf_perf_event_output\n  exit\n"
        );
        let mut packet = vec![0xaa, 0xbb, 0xcc, 0xdd];
        packet.resize(60, 0);
        let runs = run_all(&text, &Input::xdp(packet), &[], "events");
        agree(&runs, want as u64 as u32 as u64, &format!("flags {flags:#x}"));
        for (name, _, records) in &runs[..2] {
            let got: Vec<Vec<u8>> = records.iter().map(|(_, r)| r.clone()).collect();
            assert_eq!(got, record.clone().into_iter().collect::<Vec<_>>(), "{name}: flags {flags:#x}");
        }
    }
}

#[test]
fn queue_and_stack_helpers_agree_with_the_kernel() {
    for map in ["queue", "stack"] {
        // Push 1, 2, 3 (the third with BPF_EXIST into a map of 2, dropping 1), then pop into r0's
        // bytes: r0 = first pop * 16 + second pop, and a third pop answers -ENOENT.
        let text = format!(
            ".prog xdp\n.map m {map} key=0 value=8 max=2\n{}  r1 = map(m) ll\n  r2 = r10\n  r2 += -16\n  call bpf_map_pop_elem\n  r1 = map(m) ll\n  r2 = r10\n  r2 += -24\n  call bpf_map_pop_elem\n  r1 = map(m) ll\n  r2 = r10\n  r2 += -32\n  call bpf_map_pop_elem\n  r6 = r0\n  r0 = *(u64 *)(r10 - 16)\n  r0 *= 16\n  r1 = *(u64 *)(r10 - 24)\n  r0 += r1\n  r6 &= 0xff\n  r6 <<= 8\n  r0 |= r6\n  exit\n",
            (1..=3)
                .map(|i| format!(
                    "  r1 = {i}\n  *(u64 *)(r10 - 8) = r1\n  r1 = map(m) ll\n  r2 = r10\n  r2 += -8\n  r3 = {}\n  call bpf_map_push_elem\n",
                    if i == 3 { 2 } else { 0 }
                ))
                .collect::<String>()
        );
        let runs = run_all(&text, &Input::xdp(vec![0; 60]), &[], "m");
        let enoent = (-(libc::ENOENT as i64) as u64 & 0xff) << 8;
        let want = match map {
            "queue" => 2 * 16 + 3,
            _ => 3 * 16 + 2,
        } | enoent;
        agree(&runs, want, map);
        for (name, _, left) in &runs {
            assert!(left.is_empty(), "{name}: {map} emptied");
        }
    }
}

#[test]
fn run_shows_the_redirect_the_perf_records_and_takes_queue_and_prefix_keys() {
    let dir = std::env::temp_dir().join(format!("ebpf-lab-map-kinds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("r.s");
    std::fs::write(
        &file,
        ".prog xdp
.map ports devmap key=4 value=4 max=4
.map events perf_event_array key=4 value=4 max=4
.map q queue key=0 value=4 max=4
.map routes lpm_trie key=8 value=4 max=4 flags=1
        r6 = r1
        r1 = 0x2a
        *(u64 *)(r10 - 8) = r1
        r1 = r6
        r2 = map(events) ll
        r3 = 0xffffffff ll
        r4 = r10
        r4 += -8
        r5 = 4
        call bpf_perf_event_output
        r1 = map(q) ll
        r2 = r10
        r2 += -16
        call bpf_map_pop_elem
        r1 = map(ports) ll
        r2 = 0
        r3 = 0
        call bpf_redirect_map
        exit
",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ebpf-lab"))
        .arg("run")
        .arg(&file)
        .args([
            "--packet-hex",
            &"00".repeat(60),
            "--map",
            "ports:0=1",
            "--map",
            "q:=7",
            "--map",
            "routes:10.1.0.0/16=5",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    for line in [
        "redirect: devmap ports[0] (ifindex 1)",
        "perf events events: 1 record(s)",
        "  [0] 2a000000",
        "  [0] 7 -> (none)",
    ] {
        assert!(stdout.lines().any(|l| l == line), "missing `{line}` in:\n{stdout}");
    }
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_ebpf-lab"))
        .arg("run")
        .arg(&file)
        .args(["--packet-hex", &"00".repeat(60), "--map", "q:1=7"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("map `q` has no keys: write --map q:=VALUE"));
    std::fs::remove_dir_all(&dir).ok();
}
