//! What the JIT does its own way: tail calls between separately compiled programs, the budget
//! charged at back-edges and calls, and code of any size.

mod interp_common;
use ebpf_lab::interp::{ErrorKind, Input, RunOptions};
use ebpf_lab::jit::{JitChecks, JitVm};
use interp_common::{llvm, prog};

#[test]
fn tail_calls_jump_between_compiled_programs_and_stop_after_33() {
    let maps = ".map jt prog_array key=4 value=4 max=4\n";
    let main = format!(
        "{maps}mov %r7, 0\nmov %r6, %r1\nmov %r1, %r6\nlddw %r2, map(jt)\nmov %r3, 1\ncall 12\nmov %r0, -1\nexit\n"
    );
    let target =
        format!("{maps}add %r7, 1\nmov %r1, %r6\nlddw %r2, map(jt)\nmov %r3, 1\ncall 12\nmov %r0, %r7\nexit\n");
    let mut vm = JitVm::new(&prog(&main)).unwrap();
    let t = vm.add_program(&prog(&target)).unwrap();
    assert_eq!(vm.run(&Input::mem(vec![])).unwrap().r0, u64::MAX, "empty slot: falls through");
    vm.map_mut("jt").unwrap().user_update(&1u32.to_le_bytes(), &t.to_le_bytes(), 0).unwrap();
    assert_eq!(vm.run(&Input::mem(vec![])).unwrap().r0, 33);
}

#[test]
fn the_budget_is_charged_at_back_edges() {
    let p = prog("mov %r0, 0\nloop:\nja loop\nexit\n");
    let e = JitVm::new(&p).unwrap().run(&Input::mem(vec![])).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::BudgetExhausted { budget: 1_000_000 }), "{e}");
    assert_eq!(e.pc, Some(1), "the back-edge that ran out");
    // Ten iterations of a two-instruction loop charge 2 each.
    let p = prog("mov %r0, 0\nloop:\nadd %r0, 1\njlt %r0, 10, loop\nexit\n");
    let mut vm = JitVm::with_options(&p, RunOptions { budget: 17, ..RunOptions::default() }).unwrap();
    assert!(matches!(vm.run(&Input::mem(vec![])).unwrap_err().kind, ErrorKind::BudgetExhausted { budget: 17 }));
    vm.options_mut().budget = 18;
    assert_eq!(vm.run(&Input::mem(vec![])).unwrap().r0, 10);
    assert_eq!(vm.charged(), 18);
}

#[test]
fn programs_of_any_size_compile() {
    // 100,000 instructions: far past the 4 KiB of code where rbpf's JIT stops.
    let mut src = String::from("mov %r0, 0\n");
    for _ in 0..100_000 {
        src.push_str("add %r0, 3\n");
    }
    src.push_str("exit\n");
    let mut vm = JitVm::new(&prog(&src)).unwrap();
    assert!(vm.compiled().buf.len() > 100_000);
    assert_eq!(vm.run(&Input::mem(vec![])).unwrap().r0, 300_000);
}

#[test]
fn context_accesses_stay_checked_across_runs() {
    // Validated context accesses are remembered between runs; the answers must not be.
    let p = interp_common::llvm(".prog xdp\nr2 = *(u32 *)(r1 + 4)\nr3 = *(u32 *)(r1 + 0)\nr0 = r2\nr0 -= r3\nexit\n");
    let mut vm = JitVm::new(&p).unwrap();
    for len in [64, 20, 64, 0] {
        assert_eq!(vm.run(&Input::xdp(vec![0; len])).unwrap().r0, len as u64);
    }
    // The read is fine, the write to the same field is not, every time.
    let p = interp_common::llvm(".prog xdp\nr2 = *(u32 *)(r1 + 0)\n*(u32 *)(r1 + 0) = r2\nr0 = 0\nexit\n");
    let mut vm = JitVm::new(&p).unwrap();
    let want = ebpf_lab::interp::Vm::new(&p).unwrap().run(&Input::xdp(vec![0; 20])).unwrap_err();
    for _ in 0..3 {
        assert_eq!(vm.run(&Input::xdp(vec![0; 20])).unwrap_err(), want);
    }
}

#[test]
fn unproven_checks_skip_what_the_verifier_proved_and_change_no_result() {
    // Packet reads inside the range checked against data_end, stack stores and loads through
    // r10 and through a copy of it, and a subprogram using its own frame (which must not land
    // in its caller's).
    let p = interp_common::llvm(
        ".prog xdp\nr2 = *(u32 *)(r1 + 4)\nr1 = *(u32 *)(r1 + 0)\nr0 = 0\nr3 = r1\nr3 += 14\n\
         if r3 > r2 goto out\nr4 = *(u16 *)(r1 + 12)\n*(u64 *)(r10 - 8) = r4\nr5 = r10\nr5 += -8\n\
         r0 = *(u64 *)(r5 + 0)\nr1 = r0\ncall sub\nr1 = *(u64 *)(r10 - 8)\nr0 += r1\nout:\nexit\n\
         sub:\n*(u64 *)(r10 - 8) = r1\nr0 = *(u64 *)(r10 - 8)\nr0 *= 3\nexit\n",
    );
    let mut all = JitVm::new(&p).unwrap();
    let mut unproven = JitVm::with_checks(&p, RunOptions::default(), JitChecks::Unproven).unwrap();
    // Every access but the two context reads is proved.
    assert_eq!(all.compiled().sites, 8);
    assert_eq!(unproven.compiled().sites, 2);
    let mut interp = ebpf_lab::interp::Vm::new(&p).unwrap();
    for len in [0, 13, 14, 64, 14] {
        let packet: Vec<u8> = (0..len as u8).map(|b| b.wrapping_mul(37)).collect();
        let input = Input::xdp(packet);
        let want = interp.run(&input).unwrap();
        for (vm, mode) in [(&mut all, "checked"), (&mut unproven, "unproven")] {
            let got = vm.run(&input).unwrap();
            assert_eq!((got.r0, &got.packet_out), (want.r0, &want.packet_out), "{mode}, packet of {len}");
        }
    }
}

#[test]
fn the_packet_window_follows_each_run_s_packet() {
    // The first byte of the packet (after a 14-byte `bpf_xdp_adjust_head` when it is 1) and the
    // packet's length above it: a run on the same table reuses the window's limits, one after a
    // new length or a moved head must not.
    let p = llvm(
        "\
.prog xdp
        r6 = r1
        r2 = *(u32 *)(r6 + 0)
        r3 = *(u32 *)(r6 + 4)
        r4 = r2
        r4 += 1
        if r4 > r3 goto drop
        r5 = *(u8 *)(r2 + 0)
        if r5 != 1 goto read
        r1 = r6
        r2 = 14
        call bpf_xdp_adjust_head
        r2 = *(u32 *)(r6 + 0)
        r3 = *(u32 *)(r6 + 4)
        r4 = r2
        r4 += 1
        if r4 > r3 goto drop
read:
        r0 = *(u8 *)(r2 + 0)
        r3 -= r2
        r3 <<= 8
        r0 |= r3
        exit
drop:
        r0 = 0
        exit
",
    );
    let packet = |len: usize, first: u8| {
        let mut v: Vec<u8> = (0..len as u8).collect();
        v[0] = first;
        v
    };
    for checks in [JitChecks::All, JitChecks::Unproven] {
        let mut vm = JitVm::with_checks(&p, RunOptions::default(), checks).unwrap();
        let runs = [(60, 9, 9 | 60 << 8), (60, 5, 5 | 60 << 8), (30, 7, 7 | 30 << 8), (60, 1, 14 | 46 << 8)];
        for (len, first, want) in runs.into_iter().chain(runs) {
            let out = vm.run(&Input::xdp(packet(len, first))).unwrap();
            assert_eq!(out.r0, want, "{checks:?}: {len}-byte packet starting with {first}");
        }
    }
}

/// Whether `vm`'s main code compares an address with `CTX_BASE + o` inline (`cmp r11, imm32`):
/// a context read through a register the JIT guessed holds the context pointer.
fn reads_ctx_inline(vm: &JitVm, o: u32) -> bool {
    let buf = &vm.compiled().buf;
    // SAFETY: the code pages are readable for `buf.len()` bytes while `vm` lives.
    let code = unsafe { std::slice::from_raw_parts(buf.ptr(0), buf.len()) };
    let mut want = vec![0x49, 0x81, 0xfb];
    want.extend_from_slice(&(0x1000_0000u32 + o).to_le_bytes());
    code.windows(want.len()).any(|w| w == want)
}

/// Runs `p` on each input on the interpreter and on one JIT engine (so its site caches carry
/// over), both through `run` and `run_r0`, which must agree.
fn same_runs(p: &ebpf_lab::program::Program, inputs: &[Input]) -> JitVm {
    let mut interp = ebpf_lab::interp::Vm::new(p).unwrap();
    let mut jit = JitVm::new(p).unwrap();
    for (k, input) in inputs.iter().enumerate() {
        let want = interp.run(input);
        let got = jit.run(input);
        match (&want, &got) {
            (Ok(a), Ok(b)) => assert_eq!((a.r0, &a.packet_out), (b.r0, &b.packet_out), "input {k}"),
            (a, b) => assert_eq!(a.as_ref().err(), b.as_ref().err(), "input {k}: {a:?} vs {b:?}"),
        }
        assert_eq!(jit.run_r0(input).ok(), want.as_ref().ok().map(|o| o.r0), "input {k}, r0 only");
        assert_eq!(interp.run_r0(input).ok(), want.as_ref().ok().map(|o| o.r0), "input {k}, interp r0 only");
    }
    jit
}

#[test]
fn context_reads_through_a_guessed_pointer_are_checked_inline_and_a_wrong_guess_costs_nothing_else() {
    let packets: Vec<Input> = [64, 8, 0, 64, 3].iter().map(|&n| Input::xdp((0..n as u8).collect())).collect();
    // The usual prologue: both reads inline.
    let p = llvm(".prog xdp\nr2 = *(u32 *)(r1 + 4)\nr3 = *(u32 *)(r1 + 0)\nr0 = r2\nr0 -= r3\nexit\n");
    let vm = same_runs(&p, &packets);
    assert!(reads_ctx_inline(&vm, 0) && reads_ctx_inline(&vm, 4));
    // A copy moved by a constant, and a read the layout refuses (a store's neighbour, past the
    // end): the refused one takes the checked path and faults as in the interpreter.
    let p = llvm(".prog xdp\nr6 = r1\nr6 += 8\nr0 = *(u32 *)(r6 - 4)\nr2 = *(u32 *)(r6 + 40)\nexit\n");
    let vm = same_runs(&p, &packets);
    assert!(reads_ctx_inline(&vm, 4) && !reads_ctx_inline(&vm, 48));
    // A wrong guess: on the jump, r6 holds the packet where the guess (from the fall-through)
    // says context; the inline compare misses and the packet is read.
    let p = llvm(
        ".prog xdp\nr2 = *(u32 *)(r1 + 0)\nr3 = *(u32 *)(r1 + 4)\nr6 = r2\nr4 = r2\nr4 += 8\n\
         if r4 <= r3 goto read\nr6 = r1\nread:\nr0 = *(u32 *)(r6 + 4)\nexit\n",
    );
    let vm = same_runs(&p, &packets);
    assert!(reads_ctx_inline(&vm, 4));
    // The main program as its own tail-call target, entered with r1 = a stack pointer: its
    // entry's guess (r1 = the context) is wrong the second time.
    let p = llvm(
        ".prog xdp\n.map jt prog_array key=4 value=4 max=1\nr0 = *(u32 *)(r1 + 4)\nr6 = r0\n\
         r7 = *(u32 *)(r10 - 8)\nif r7 != 0 goto out\n*(u32 *)(r10 - 8) = 1\n*(u32 *)(r10 - 4) = 77\n\
         r1 = r10\nr1 += -8\nr2 = map(jt) ll\nr3 = 0\ncall bpf_tail_call\nout:\nr0 = r6\nexit\n",
    );
    let mut interp = ebpf_lab::interp::Vm::new(&p).unwrap();
    let mut jit = JitVm::new(&p).unwrap();
    for vm in [&mut interp as &mut dyn ebpf_lab::engine::Engine, &mut jit] {
        vm.map_update("jt", &0u32.to_le_bytes(), &0u32.to_le_bytes()).unwrap();
    }
    for input in &packets {
        let (a, b) = (interp.run(input), jit.run(input));
        assert_eq!(a.as_ref().map(|o| o.r0).ok(), b.as_ref().map(|o| o.r0).ok(), "{a:?} vs {b:?}");
        assert_eq!(a.err(), b.err());
    }
    assert!(reads_ctx_inline(&jit, 4));
}

#[test]
fn context_reads_checked_inline_still_stop_at_a_short_context() {
    // A tracepoint's arguments are as long as the input makes them: a read the layout allows
    // may lie past a short context's end, and must fault there as in the interpreter.
    let p = llvm(".prog tracepoint\nr0 = *(u64 *)(r1 + 16)\nr2 = *(u64 *)(r1 + 8)\nr0 += r2\nexit\n");
    let args = |n: usize| Input::Tracepoint((0..n as u8).collect());
    let vm = same_runs(&p, &[args(64), args(24), args(16), args(8), args(64), args(0), args(24)]);
    assert!(reads_ctx_inline(&vm, 16) && reads_ctx_inline(&vm, 8));
}
