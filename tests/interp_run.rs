//! Calls, the budget, runtime errors, contexts, maps, helpers and tail calls.

mod interp_common;
use ebpf_lab::interp::{ErrorKind, Input, RunOptions, SkbFields, Vm};
use ebpf_lab::program::ProgType;
use interp_common::{err, prog, r0, run_mem, run_ok, run_with};

#[test]
fn local_calls_pass_args_preserve_callee_saved_and_isolate_stacks() {
    let src = "
mov %r1, 20
mov %r6, 6
stdw [%r10-8], 111
call local f
ldxdw %r2, [%r10-8]
jne %r2, 111, bad
jne %r6, 6, bad
exit
bad:
mov %r0, -1
exit
f:
stdw [%r10-8], 222
mov %r6, 0
mov %r0, %r1
add %r0, 1
exit
";
    assert_eq!(r0(src), 21);
}

#[test]
fn call_depth_is_limited_to_eight_frames() {
    // Unbounded recursion: the 8th nested call fails (frames 0..=7 exist).
    let e = err("call local f\nexit\nf:\ncall local f\nexit\n");
    assert!(matches!(e.kind, ErrorKind::CallDepth { max: 8 }), "{e}");
    assert_eq!(e.pc, Some(2));
    // Seven nested calls (eight frames) are fine.
    let mut src = String::from("mov %r0, 0\ncall local f1\nexit\n");
    for i in 1..=7 {
        if i < 7 {
            src.push_str(&format!("f{i}:\nadd %r0, 1\ncall local f{}\nexit\n", i + 1));
        } else {
            src.push_str(&format!("f{i}:\nadd %r0, 1\nexit\n"));
        }
    }
    assert_eq!(r0(&src), 7);
}

#[test]
fn budget_ends_runaway_loops_and_counts_exactly() {
    let e = err("mov %r0, 0\nloop:\nja loop\nexit\n");
    assert!(matches!(e.kind, ErrorKind::BudgetExhausted { budget: 1_000_000 }), "{e}");
    let p = prog("mov %r0, 0\nloop:\nadd %r0, 1\njlt %r0, 10, loop\nexit\n");
    let out = run_ok(&p, &Input::mem(vec![]));
    assert_eq!(out.insns_executed, 1 + 2 * 10 + 1);
    let mut vm = Vm::with_options(&p, RunOptions { budget: 21, ..RunOptions::default() }).unwrap();
    assert!(matches!(vm.run(&Input::mem(vec![])).unwrap_err().kind, ErrorKind::BudgetExhausted { budget: 21 }));
    vm.options_mut().budget = 22;
    assert_eq!(vm.run(&Input::mem(vec![])).unwrap().r0, 10);
}

#[test]
fn memory_errors_name_the_insn_and_the_place() {
    let e = err("mov %r0, 0\nldxdw %r0, [%r10+8]\nexit\n");
    assert_eq!(e.pc, Some(1));
    assert_eq!(e.location.as_deref(), Some("t.s:2:1"));
    let text = e.to_string();
    assert!(text.contains("8 bytes past the end of the stack of frame 0"), "{text}");
    assert!(text.starts_with("insn 1 (t.s:2:1): "), "{text}");

    let e = err("mov %r1, 0\nldxw %r0, [%r1+0]\nexit\n");
    assert!(e.to_string().contains("address 0x0: null pointer dereference"), "{e}");

    let e = err("stdw [%r10-520], 1\nexit\n");
    assert!(e.to_string().contains("bytes before the start of the stack of frame 0"), "{e}");

    let e = run_mem("ldxdw %r0, [%r1+4]\nexit\n", vec![0; 8]).unwrap_err();
    assert!(e.to_string().contains("overruns the input buffer (8 bytes)"), "{e}");
}

#[test]
fn malformed_programs_are_rejected_before_running() {
    let e = err("mov %r10, 0\nexit\n");
    assert!(e.to_string().contains("frame pointer is read only"), "{e}");
    let e = err("mov %r0, 0\n");
    assert!(matches!(e.kind, ErrorKind::FellOffEnd), "{e}");
    let e = err("call 999999\nexit\n");
    assert!(matches!(e.kind, ErrorKind::UnknownHelper { id: 999999 }), "{e}");
}

#[test]
fn legacy_packet_loads_only_in_socket_programs() {
    let e = err("ldabsh 12\nexit\n");
    assert!(e.to_string().contains("only allowed in socket and tc"), "{e}");
}

fn packet() -> Vec<u8> {
    let mut p = vec![0u8; 64];
    p[12] = 0x08; // IPv4
    p[14] = 0x45;
    p
}

#[test]
fn xdp_reads_and_modifies_the_packet() {
    let mut p = prog(
        "
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 14
jgt %r4, %r3, drop
ldxb %r5, [%r2+12]
stb [%r2+0], 0xaa
mov %r0, %r5
exit
drop:
mov %r0, 1
exit
",
    );
    p.prog_type = ProgType::Xdp;
    let out = run_ok(&p, &Input::xdp(packet()));
    assert_eq!(out.r0, 8);
    let pkt = out.packet_out.unwrap();
    assert_eq!(pkt.len(), 64);
    assert_eq!(pkt[0], 0xaa);
    // Too short: the bounds check in the program takes the drop branch.
    assert_eq!(Vm::new(&p).unwrap().run(&Input::xdp(vec![0; 10])).unwrap().r0, 1);
}

#[test]
fn xdp_context_is_read_only_and_checked() {
    let mut p = prog("stw [%r1+12], 1\nmov %r0, 2\nexit\n");
    p.prog_type = ProgType::Xdp;
    let e = run_with(&p, RunOptions::default(), &Input::xdp(packet())).unwrap_err();
    assert!(e.to_string().contains("context"), "{e}");
    let mut p = prog("ldxh %r0, [%r1+0]\nexit\n");
    p.prog_type = ProgType::Xdp;
    let e = run_with(&p, RunOptions::default(), &Input::xdp(packet())).unwrap_err();
    assert!(e.to_string().contains("data must be accessed with size 4"), "{e}");
}

#[test]
fn sk_buff_fields_and_ld_abs() {
    let mut p = prog(
        "
mov %r6, %r1
ldxw %r7, [%r6+8]
stw [%r6+48], 77
ldabsb 0
add %r0, %r7
exit
",
    );
    p.prog_type = ProgType::Tc;
    let fields = SkbFields { mark: 100, ..SkbFields::default() };
    let out = run_ok(&p, &Input::skb(packet(), fields.clone()));
    assert_eq!(out.r0, 100, "ld_abs reads byte 0 of the frame (0) + mark");
    let ctx = out.ctx_out.unwrap();
    assert_eq!(u32::from_le_bytes(ctx[48..52].try_into().unwrap()), 77, "cb[0] written");
    // Socket filters see the packet from the network header: byte 0 is 0x45.
    let mut q = prog("ldabsb 0\nexit\n");
    q.prog_type = ProgType::Socket;
    assert_eq!(run_ok(&q, &Input::skb(packet(), fields.clone())).r0, 0x45);
    // Out of bounds: the program ends returning 0.
    let mut q = prog("ldabsw 1000\nmov %r0, 5\nexit\n");
    q.prog_type = ProgType::Socket;
    assert_eq!(run_ok(&q, &Input::skb(packet(), fields)).r0, 0);
}

#[test]
fn input_must_match_program_type() {
    let p = prog("mov %r0, 0\nexit\n");
    let e = run_with(&p, RunOptions::default(), &Input::xdp(vec![])).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::BadInput(_)), "{e}");
}

#[test]
fn array_map_lookup_update_and_direct_value_access() {
    let src = "
.map counts array key=4 value=8 max=4
stw [%r10-4], 2
lddw %r1, map(counts)
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, out
ldxdw %r1, [%r0+0]
add %r1, 1
stxdw [%r0+0], %r1
mov %r0, %r1
out:
exit
";
    let mut vm = Vm::new(&prog(src)).unwrap();
    assert_eq!(vm.run(&Input::mem(vec![])).unwrap().r0, 1);
    assert_eq!(vm.run(&Input::mem(vec![])).unwrap().r0, 2, "map state persists between runs");
    let v = vm.map("counts").unwrap().user_lookup(&2u32.to_le_bytes()).unwrap();
    assert_eq!(v, 2u64.to_le_bytes());
    // Reading past the value is caught relative to the map's storage.
    let bad = src.replace("ldxdw %r1, [%r0+0]", "ldxdw %r1, [%r0+32]");
    let e = Vm::new(&prog(&bad)).unwrap().run(&Input::mem(vec![])).unwrap_err();
    assert!(e.to_string().contains("map `counts`"), "{e}");
}

#[test]
fn hash_map_update_from_the_program() {
    let src = "
.map h hash key=4 value=8 max=16
stw [%r10-4], 7
stdw [%r10-16], 99
lddw %r1, map(h)
mov %r2, %r10
add %r2, -4
mov %r3, %r10
add %r3, -16
mov %r4, 0
call 2
exit
";
    let mut vm = Vm::new(&prog(src)).unwrap();
    assert_eq!(vm.run(&Input::mem(vec![])).unwrap().r0, 0);
    assert_eq!(vm.map("h").unwrap().user_lookup(&7u32.to_le_bytes()).unwrap(), 99u64.to_le_bytes());
}

#[test]
fn trace_printk_and_deterministic_helpers() {
    let src = "
stw [%r10-8], 0x0a6968
mov %r1, %r10
add %r1, -8
mov %r2, 4
call 6
call 7
mov %r6, %r0
call 8
exit
";
    let p = prog(src);
    let out = run_ok(&p, &Input::mem(vec![]));
    assert_eq!(out.trace_lines().len(), 1);
    assert!(out.trace_lines()[0].starts_with("hi"), "{:?}", out.trace_lines());
    let mut vm = Vm::with_options(&p, RunOptions { cpu: 3, ..RunOptions::default() }).unwrap();
    assert_eq!(vm.run(&Input::mem(vec![])).unwrap().r0, 3);
}

#[test]
fn helper_faults_name_the_helper() {
    let e = err("mov %r1, 0\nmov %r2, 4\ncall 6\nexit\n");
    assert!(e.to_string().contains("bpf_trace_printk"), "{e}");
}

#[test]
fn tail_calls_jump_and_stop_after_33() {
    // Tail calls keep registers: the target adds 1 to r7 and tail-calls itself through slot 1,
    // so r7 counts the tail calls taken; the 34th fails and falls through.
    let maps = ".map jt prog_array key=4 value=4 max=4\n";
    let main = format!(
        "{maps}mov %r7, 0\nmov %r6, %r1\nmov %r1, %r6\nlddw %r2, map(jt)\nmov %r3, 1\ncall 12\nmov %r0, -1\nexit\n"
    );
    let target =
        format!("{maps}add %r7, 1\nmov %r1, %r6\nlddw %r2, map(jt)\nmov %r3, 1\ncall 12\nmov %r0, %r7\nexit\n");
    let mut vm = Vm::new(&prog(&main)).unwrap();
    let t = vm.add_program(&prog(&target)).unwrap();
    // Empty slot: the helper fails and execution falls through.
    assert_eq!(vm.run(&Input::mem(vec![])).unwrap().r0, u64::MAX);
    vm.map_mut("jt").unwrap().user_update(&1u32.to_le_bytes(), &t.to_le_bytes(), 0).unwrap();
    assert_eq!(vm.run(&Input::mem(vec![])).unwrap().r0, 33);
}

#[test]
fn exec_trace_in_verifier_notation() {
    let p = prog("mov %r1, 8\nadd %r1, 8\nmov %r0, %r1\nexit\n");
    let out = Vm::with_options(&p, RunOptions { trace: true, ..RunOptions::default() })
        .unwrap()
        .run(&Input::mem(vec![]))
        .unwrap();
    assert_eq!(out.exec_trace().len(), 4);
    assert_eq!(out.exec_trace()[1], "1: (07) r1 += 8 ; R1=16");
    assert_eq!(out.exec_trace()[2], "2: (bf) r0 = r1 ; R0=16");
    assert_eq!(out.exec_trace()[3], "3: (95) exit");
}
