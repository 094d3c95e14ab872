//! `ebpf-lab check`'s table marks a row `≠` only when it holds a counted difference, and rows that
//! differ because the program reads a clock or random numbers are marked `~` and not counted.

mod check_common;
use check_common::check;

#[test]
fn rows_that_only_differ_in_form_are_not_marked() {
    if !ebpf_lab::kernel::require_or_skip("rows_that_only_differ_in_form_are_not_marked") {
        return;
    }
    // tc: the interpreter shows its ctx out, the kernel `-`; not a difference.
    let (code, out) = check("tc7.s", ".prog tc\nr0 = 7\nexit\n", &["--packet", "examples/udp.pkt", "--ctx", "mark=3"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ctx out") && !out.contains('≠'), "{out}");
    // A socket filter's packet comes back behind a zeroed Ethernet header in both engines.
    let (code, out) = check("sock0.s", ".prog socket\nr0 = 0\nexit\n", &["--packet", "examples/udp.pkt"]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains('≠'), "{out}");
}

#[test]
fn a_real_difference_is_marked_on_its_row_only() {
    if !ebpf_lab::kernel::require_or_skip("a_real_difference_is_marked_on_its_row_only") {
        return;
    }
    // The interpreter's task is a fixed one; the kernel runs the program in ebpf-lab's own.
    let src = ".prog syscall\ncall bpf_get_current_pid_tgid\nexit\n";
    let (code, out) = check("pid.s", src, &[]);
    assert_eq!(code, 1, "{out}");
    let marked: Vec<&str> = out.lines().filter(|l| l.starts_with('≠')).collect();
    assert_eq!(marked.len(), 1, "{out}");
    assert!(marked[0].starts_with("≠ r0"), "{out}");
}

#[test]
fn clock_dependent_rows_are_said_to_be_so_not_counted() {
    if !ebpf_lab::kernel::require_or_skip("clock_dependent_rows_are_said_to_be_so_not_counted") {
        return;
    }
    let (code, out) = check("kt.s", "call bpf_ktime_get_ns\nexit\n", &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.lines().any(|l| l.starts_with("~ r0")), "{out}");
    assert!(out.contains("depend on what bpf_ktime_get_ns returns"), "{out}");
    assert!(!out.contains('≠'), "{out}");
}

#[test]
fn a_program_reading_the_clock_still_has_its_real_differences_counted() {
    if !ebpf_lab::kernel::require_or_skip("a_program_reading_the_clock_still_has_its_real_differences_counted") {
        return;
    }
    // r0 is the task's pid (a real difference: the interpreter's task is a fixed one); the clock
    // is read but does not reach r0, so the difference is counted.
    let src = ".prog syscall\ncall bpf_ktime_get_ns\ncall bpf_get_current_pid_tgid\nexit\n";
    let (code, out) = check("kt_pid.s", src, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.lines().any(|l| l.starts_with("≠ r0")), "{out}");
    // The clock reaches r0: not counted.
    let src = ".prog syscall\ncall bpf_get_current_pid_tgid\ncall bpf_ktime_get_ns\nexit\n";
    let (code, out) = check("pid_kt.s", src, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.lines().any(|l| l.starts_with("~ r0")), "{out}");
}

#[test]
fn one_value_for_a_per_cpu_map_fills_every_cpu_on_every_engine() {
    if !ebpf_lab::kernel::require_or_skip("one_value_for_a_per_cpu_map_fills_every_cpu_on_every_engine") {
        return;
    }
    // `--map counts:0=5` gives one CPU's value; the kernel wants one per possible CPU.
    let src = ".map counts percpu_array key=4 value=8 max=4\n.prog xdp\nr1 = 0\n*(u32 *)(r10 - 4) = r1\n\
               r2 = r10\nr2 += -4\nr1 = map(counts) ll\ncall bpf_map_lookup_elem\nif r0 == 0 goto out\n\
               r0 = *(u64 *)(r0 + 0)\nexit\nout:\nr0 = 7\nexit\n";
    let (code, out) = check("percpu.s", src, &["--map", "counts:0=5"]);
    assert_eq!(code, 0, "{out}");
    let r0 = out.lines().find(|l| l.trim_start().starts_with("r0")).unwrap_or_default();
    assert_eq!(r0.matches("0x5").count(), 3, "every engine reads 5: {out}");
}
