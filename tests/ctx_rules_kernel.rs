//! The context access rules of `runtime::ctx` (which the interpreter enforces) against the
//! running kernel's verifier: every load and store of every size at every offset (and just past
//! the end) of
//! `__sk_buff` (socket filter, tc, cgroup skb, lwt), `xdp_md`, the `sys_enter` tracepoint record,
//! `pt_regs`, raw tracepoint arguments, `bpf_sock` (cgroup/sock) and `bpf_sk_lookup` must be
//! accepted by both or refused by both — and the interpreter, running the same program, must
//! fault with `BadCtxAccess` exactly where the kernel refuses.

use ebpf_lab::asm::{assemble, Syntax};
use ebpf_lab::interp::{ErrorKind, Input, Vm};
use ebpf_lab::kernel::{self, KernelProgram, LoadOptions};
use ebpf_lab::program::ProgType;
use ebpf_lab::runtime::ctx::ctx_layout;

/// A one-access program: a load into r0, or a store of r2 = 0, at `off` with `size` bytes.
fn access(prog_type: ProgType, off: u32, size: u32, write: bool) -> String {
    let w = match size {
        1 => "u8",
        2 => "u16",
        4 => "u32",
        _ => "u64",
    };
    let body =
        if write { format!("r2 = 0\n*({w} *)(r1 + {off}) = r2\n") } else { format!("r0 = *({w} *)(r1 + {off})\n") };
    format!(".prog {prog_type}\n{body}r0 = 0\nexit\n")
}

/// An input for `prog_type` whose context is the whole structure.
fn input(prog_type: ProgType) -> Input {
    match prog_type {
        ProgType::Tracepoint => Input::Tracepoint(vec![0; 64]),
        _ => Input::empty_for(prog_type),
    }
}

/// Disagreements between `check_access`, the interpreter and the kernel verifier for
/// `prog_type`, as lines.
fn disagreements(prog_type: ProgType) -> Vec<String> {
    let layout = ctx_layout(prog_type).expect("has a layout");
    let input = input(prog_type);
    // A little past the end too (refused), except for tracepoints: see below.
    let end = if prog_type == ProgType::Tracepoint { layout.size } else { layout.size + 8 };
    let mut out = Vec::new();
    for size in [1u32, 2, 4, 8] {
        for off in 0..end {
            for write in [false, true] {
                let src = access(prog_type, off, size, write);
                let p = assemble("t.s", &src, Some(Syntax::Llvm)).unwrap_or_else(|e| panic!("{src}: {e:?}"));
                let k = KernelProgram::load(&p, &LoadOptions::default()).unwrap_or_else(|e| panic!("{src}: {e}"));
                let kernel_ok = k.verdict().accepted();
                let ours = layout.check_access(off.into(), size, write);
                if kernel_ok != ours.is_ok() {
                    let what = if write { "store" } else { "load" };
                    let why = match ours {
                        Ok(f) => format!("we allow it ({})", f.element_name(off)),
                        Err(e) => format!("we refuse it: {e}"),
                    };
                    out.push(format!("{prog_type} {what} off={off} size={size}: kernel {kernel_ok}, {why}"));
                }
                let interp = Vm::new(&p).unwrap().run(&input);
                let interp_ok = match &interp {
                    Ok(_) => true,
                    Err(e) if matches!(e.kind, ErrorKind::BadCtxAccess { .. }) => false,
                    Err(e) => panic!("{src}: not a context error: {e}"),
                };
                if kernel_ok != interp_ok {
                    out.push(format!("{src}: kernel {kernel_ok}, interpreter {interp:?}"));
                }
            }
        }
    }
    out
}

fn assert_agrees(test: &str, prog_type: ProgType) {
    if !kernel::require_or_skip(test) {
        return;
    }
    let d = disagreements(prog_type);
    assert!(d.is_empty(), "{} disagreements:\n{}", d.len(), d.join("\n"));
}

#[test]
fn socket_filter_sk_buff_rules_match_the_kernel() {
    assert_agrees("socket_filter_sk_buff_rules_match_the_kernel", ProgType::Socket);
}

#[test]
fn tc_sk_buff_rules_match_the_kernel() {
    assert_agrees("tc_sk_buff_rules_match_the_kernel", ProgType::Tc);
}

#[test]
fn xdp_md_rules_match_the_kernel() {
    assert_agrees("xdp_md_rules_match_the_kernel", ProgType::Xdp);
}

/// Within the `sys_enter` record. (Past its end the verifier allows loads up to
/// `PERF_MAX_TRACE_SIZE`; attaching the program to the tracepoint then refuses them, which is the
/// rule `check_access` applies. Test runs cannot attach, so that part is not compared here.)
#[test]
fn tracepoint_record_rules_match_the_kernel() {
    assert_agrees("tracepoint_record_rules_match_the_kernel", ProgType::Tracepoint);
}

#[test]
fn cgroup_skb_sk_buff_rules_match_the_kernel() {
    assert_agrees("cgroup_skb_sk_buff_rules_match_the_kernel", ProgType::CgroupSkb);
}

/// The three lwt hooks share `lwt_is_valid_access`; one of them is enough.
#[test]
fn lwt_sk_buff_rules_match_the_kernel() {
    assert_agrees("lwt_sk_buff_rules_match_the_kernel", ProgType::LwtXmit);
}

#[test]
fn kprobe_pt_regs_rules_match_the_kernel() {
    assert_agrees("kprobe_pt_regs_rules_match_the_kernel", ProgType::Kprobe);
}

#[test]
fn raw_tracepoint_args_rules_match_the_kernel() {
    assert_agrees("raw_tracepoint_args_rules_match_the_kernel", ProgType::RawTracepoint);
}

#[test]
fn cgroup_sock_bpf_sock_rules_match_the_kernel() {
    assert_agrees("cgroup_sock_bpf_sock_rules_match_the_kernel", ProgType::CgroupSock);
}

#[test]
fn sk_lookup_rules_match_the_kernel() {
    assert_agrees("sk_lookup_rules_match_the_kernel", ProgType::SkLookup);
}
