//! Every input that ever crashed a fuzz target (README.md, "Fuzzing"), kept as a stable test.

mod c_common;
mod interp_common;
use ebpf_lab::interp::{Input, Vm};
use interp_common::llvm;

const PROGS: &str = ".map progs prog_array key=4 value=4 max=4\n";

/// A main program that calls `depth` nested subprograms; the deepest makes the tail call (the
/// main program itself when `depth` is 0). Each caller adds 10 to r0 after its call returns.
fn tail_call_at_depth(depth: usize) -> String {
    let mut src = format!("{PROGS}r0 = 0\n");
    for i in 1..=depth {
        src.push_str(&format!("call f{i}\nr0 += 10\nexit\nf{i}:\n"));
    }
    src.push_str("r2 = map(progs) ll\nr3 = 0\ncall 12\nr0 = 99\nexit\n");
    src
}

#[test]
fn a_tail_call_from_a_subprogram_returns_to_the_subprograms_caller() {
    // The fuzz input: the callee's return point indexed the calling program, and after the tail
    // call `exit` resumed at that index in the two-op target (an out-of-bounds read).
    let main =
        llvm(&format!("{PROGS}r0 = 0\nr0 = 0\ncall sub\nexit\nsub:\nr2 = map(progs) ll\nr3 = 0\ncall 12\nexit\n"));
    let mut vm = Vm::new(&main).unwrap();
    let t = vm.add_program(&llvm("r0 = 2\nexit\n")).unwrap();
    vm.map_mut("progs").unwrap().user_update(&0u32.to_le_bytes(), &t.to_le_bytes(), 0).unwrap();
    assert_eq!(vm.run(&Input::mem(vec![])).unwrap().r0, 2);
    // Runs again from a clean state.
    assert_eq!(vm.run(&Input::mem(vec![])).unwrap().r0, 2);
}

#[test]
fn tail_calls_from_every_frame_depth() {
    // The target calls a subprogram of its own, so its frames index it, not the caller.
    let target = llvm("r0 = 1\ncall g\nexit\ng:\nr0 += 1\nexit\n");
    for depth in 0..8 {
        let mut vm = Vm::new(&llvm(&tail_call_at_depth(depth))).unwrap();
        let t = vm.add_program(&target).unwrap();
        vm.map_mut("progs").unwrap().user_update(&0u32.to_le_bytes(), &t.to_le_bytes(), 0).unwrap();
        // The target's exit returns to the caller of the frame that made the tail call.
        let want = 2 + 10 * depth as u64;
        let r0 = if depth < 7 {
            vm.run(&Input::mem(vec![])).unwrap().r0
        } else {
            // Eight frames are in use at depth 7: the target's own call is one too many.
            let e = vm.run(&Input::mem(vec![])).unwrap_err();
            assert!(matches!(e.kind, ebpf_lab::interp::ErrorKind::CallDepth { .. }), "{e}");
            want
        };
        assert_eq!(r0, want, "tail call at depth {depth}");
    }
}

#[test]
fn call_only_ubpf_listings_are_detected_as_ubpf_and_round_trip() {
    use ebpf_lab::asm::{assemble, detect_syntax, disasm::disassemble, Syntax};
    use ebpf_lab::isa::{CallTarget, Insn, Reg};
    use ebpf_lab::program::Program;
    let r1 = Reg::new(1).unwrap();
    for insns in [
        vec![Insn::Call(CallTarget::Local(0)), Insn::Exit],
        vec![Insn::Call(CallTarget::Local(-1))],
        vec![Insn::Callx { dst: r1 }, Insn::Exit],
    ] {
        let p = Program::from_insns(insns);
        let text = disassemble(&p, Syntax::Ubpf);
        assert_eq!(detect_syntax(&text), Syntax::Ubpf, "{text}");
        let back = assemble("t.s", &text, None).unwrap_or_else(|e| panic!("{text}: {e:?}"));
        assert_eq!(back.to_bytes(), p.to_bytes(), "{text}");
    }
    // A label called `local` is still LLVM syntax.
    assert_eq!(detect_syntax("call local\nexit\nlocal:\nr0 = 0\nexit\n"), Syntax::Llvm);
}

/// Found by the `jit` target (an out-of-memory): `bpf_probe_read_kernel_str` sized its buffer by
/// the size argument (4 GiB here) before looking at the addresses. An unverified program may pass
/// any size: the helpers must fault on the destination, not allocate it.
#[test]
fn probe_reads_with_a_huge_size_fault_without_allocating_it() {
    for helper in ["bpf_probe_read_kernel_str", "bpf_probe_read_kernel"] {
        for src in ["r3 = 0", "r3 = r1"] {
            let text = format!("r2 = -16744401\n{src}\ncall {helper}\nexit\n");
            let p = llvm(&text);
            let input = Input::mem(vec![0; 16]);
            let a = Vm::new(&p).unwrap().run(&input);
            let b = ebpf_lab::jit::JitVm::new(&p).unwrap().run(&input);
            if helper.ends_with("_str") && src == "r3 = r1" {
                // The string (a lone NUL) ends long before the size: copied, r0 = 1.
                assert_eq!(a.map(|o| o.r0).ok(), Some(1), "{helper}, {src}");
                assert_eq!(b.map(|o| o.r0).ok(), Some(1), "{helper}, {src}: the JIT");
                continue;
            }
            let (a, b) = (a.unwrap_err(), b.unwrap_err());
            assert_eq!((&a.kind, a.index), (&b.kind, b.index), "{helper}, {src}: interpreter vs JIT");
            assert_eq!(a.index, Some(2), "{helper}, {src}: {a}");
            assert!(a.to_string().contains("write"), "{helper}, {src}: {a}");
        }
    }
}

/// `ebpf-lab ARGS` (shell words) under an address-space limit of `kib` KiB (`ulimit -v`), as a
/// user with a small machine or a grader's sandbox meets it.
fn cli_within(kib: u64, args: &str) -> std::process::Output {
    let cmd = format!("ulimit -v {kib}; exec '{}' {args}", env!("CARGO_BIN_EXE_ebpf-lab"));
    std::process::Command::new("sh").arg("-c").arg(&cmd).output().unwrap()
}

/// The same, as a user meets it: under a 1 GiB address-space limit the 4 GiB size must not be
/// allocated by either engine (before the fix, the run aborted with "memory allocation failed").
#[test]
fn probe_reads_with_a_huge_size_fit_in_a_small_address_space() {
    let dir = std::env::temp_dir().join(format!("ebpf-lab-huge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("huge.s");
    std::fs::write(&file, "r2 = -16744401\nr3 = 0\ncall bpf_probe_read_kernel_str\nexit\n").unwrap();
    for engine in ["interp", "jit"] {
        let out = cli_within(1 << 20, &format!("run --unverified --engine {engine} --mem 00 '{}'", file.display()));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{engine}: a runtime error, not an abort: {stderr}");
        assert!(stderr.contains("write"), "{engine}: {stderr}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// The `elf` target: a 7 KB object whose `.bss` (no bytes in the file) claimed 1.5 GB made the
/// reader zero that much before anything else. Global data now stays within one map's limit,
/// in all, and a bigger claim is an error of the input (exit 2) before any allocation (a `.kconfig`
/// extern too): here
/// under a 256 MiB address-space limit.
#[test]
fn a_huge_bss_is_refused_before_it_is_allocated() {
    if !c_common::clang_or_skip("a_huge_bss_is_refused_before_it_is_allocated") {
        return;
    }
    let one = "#include \"lab.h\"\nchar big[300 << 20];\nSEC(\"xdp\") int f(void *ctx) { big[7] = 1; return 2; }\n";
    let two = "#include \"lab.h\"\nchar a[200 << 20];\n__attribute__((section(\".bss.two\"))) char b[200 << 20];\n\
               SEC(\"xdp\") int f(void *ctx) { a[7] = 1; b[7] = 1; return 2; }\n";
    for (name, src, section) in [("bss_one", one, ".bss"), ("bss_two", two, ".bss.two")] {
        let obj = c_common::compile_c(name, src);
        let out = cli_within(256 << 10, &format!("run '{}'", obj.display()));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: bad input, not an abort: {stderr}");
        assert!(stderr.contains(&format!("section `{section}`")) && stderr.contains("map limit"), "{name}: {stderr}");
    }
    // A `.kconfig` extern sizes its map by its BTF type: a weak 300 MiB array is refused alike.
    let kconfig = "#include \"lab.h\"\nextern char CONFIG_EBPF_LAB_HUGE[300 << 20] __kconfig __weak;\n\
                   SEC(\"xdp\") int f(void *ctx) { return CONFIG_EBPF_LAB_HUGE[7] ? 1 : 2; }\n";
    let obj = c_common::compile_c("kconfig_huge", kconfig);
    let out = cli_within(256 << 10, &format!("run '{}'", obj.display()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "kconfig: bad input, not an abort: {stderr}");
    assert!(stderr.contains("extern `CONFIG_EBPF_LAB_HUGE` (kconfig)") && stderr.contains("map limit"), "{stderr}");
}

/// The `elf` target's saved input for the same class: a `.data` section whose header claims
/// 2 GB that the file does not hold. An error naming the section, with nothing allocated.
#[test]
fn a_data_section_claiming_2_gib_is_refused() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/fuzz/elf_data_2gib.o");
    let bytes = std::fs::read(path).unwrap();
    let e = ebpf_lab::elf::program_from_elf("x.o", &bytes, None).expect_err("refused");
    let e = e.to_string();
    assert!(e.contains("section `.data`") && e.contains("map limit"), "{e}");
}
