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
