//! Differential tests against LLVM: `llvm-mc-19 -triple bpfel -mcpu=v4` is the oracle for the
//! LLVM syntax.
//!
//! 1. A corpus covering every instruction form llvm-mc accepts is assembled by both; the bytes
//!    must be identical line by line.
//! 2. Random instructions are printed by `format_insn`, assembled by llvm-mc, and must encode to
//!    the same bytes: our printed text means the same thing to LLVM.
//! 3. The same objects, disassembled by `llvm-objdump-19`, must print our text (the printer's
//!    contract), after removing objdump's `<.text+0x..>` annotations.
//!
//! Without `llvm-mc-19` each test prints one skip line, unless `EBPF_LAB_REQUIRE_LLVM=1`.

use ebpf_lab::asm::{assemble, disasm::FormatCtx, llvm, Syntax};
use ebpf_lab::isa::{
    encode, AtomicOp, BinOp, CallTarget, EndianOp, ImmSrc, Insn, JmpCond, LegacyMode, Operand, Reg, Size, Width,
};
use std::path::PathBuf;
use std::process::Command;

fn tool_available(tool: &str) -> bool {
    match Command::new(tool).arg("--version").output() {
        Ok(o) if o.status.success() => true,
        _ => {
            if std::env::var("EBPF_LAB_REQUIRE_LLVM").as_deref() == Ok("1") {
                panic!("{tool} is required (EBPF_LAB_REQUIRE_LLVM=1) but cannot be run");
            }
            println!("skipped: {tool} not installed");
            false
        }
    }
}

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("ebpf-lab-oracle-{}-{name}", std::process::id()))
}

/// Runs `llvm-mc -show-encoding` over `lines`; returns each instruction's bytes, in order.
/// Panics with llvm-mc's messages if it rejects any line.
fn llvm_mc_encodings(lines: &[String], name: &str) -> Vec<Vec<u8>> {
    let path = temp_path(&format!("{name}.s"));
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let out = Command::new("llvm-mc-19")
        .args(["-triple", "bpfel", "-mcpu=v4", "-show-encoding"])
        .arg(&path)
        .output()
        .expect("run llvm-mc-19");
    let _ = std::fs::remove_file(&path);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.trim().is_empty(), "llvm-mc rejected part of the corpus:\n{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let encodings: Vec<Vec<u8>> = stdout
        .lines()
        .filter_map(|l| l.split_once("# encoding: [").map(|(_, rest)| rest))
        .map(|rest| {
            let list = rest.split(']').next().unwrap();
            list.split(',').map(|b| u8::from_str_radix(b.trim().trim_start_matches("0x"), 16).unwrap()).collect()
        })
        .collect();
    assert_eq!(encodings.len(), lines.len(), "llvm-mc printed a different number of instructions:\n{stdout}");
    encodings
}

fn ours(line: &str) -> Result<Vec<u8>, String> {
    assemble("corpus", line, Some(Syntax::Llvm))
        .map(|p| p.to_bytes())
        .map_err(|errs| errs.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("; "))
}

fn hex_bytes(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(" ")
}

/// Every instruction form of the LLVM syntax, with edge immediates and offsets.
fn corpus() -> Vec<String> {
    let mut c = Vec::new();
    let imms =
        ["0", "1", "-1", "255", "0x7fffffff", "-0x80000000", "-2147483648", "0xffffffff", "0x80000000", "010", "0b101"];
    let ops = ["+=", "-=", "*=", "/=", "s/=", "%=", "s%=", "|=", "&=", "<<=", ">>=", "s>>=", "^=", "="];
    for (w, other) in [("r", 7), ("w", 3)] {
        for (i, op) in ops.iter().enumerate() {
            for imm in imms {
                c.push(format!("{w}{} {op} {imm}", i % 11));
            }
            for d in [0, 5, 10] {
                c.push(format!("{w}{d} {op} {w}{other}"));
            }
        }
        for d in 0..=10 {
            c.push(format!("{w}{d} = -{w}{d}"));
        }
        c.push(format!("{w}1 = (s8){w}2"));
        c.push(format!("{w}3 = (s16){w}4"));
    }
    c.push("r5 = (s32)r6".into());
    c.push("r10 = (s32)r0".into());
    for name in ["be", "le", "bswap"] {
        for bits in [16, 32, 64] {
            for r in [0, 9] {
                c.push(format!("r{r} = {name}{bits} r{r}"));
            }
        }
    }
    let conds = ["==", "!=", ">", ">=", "<", "<=", "s>", "s>=", "s<", "s<=", "&"];
    for w in ["r", "w"] {
        for (i, cond) in conds.iter().enumerate() {
            for off in ["+1", "-1", "+0", "+32767", "-32768", "5"] {
                c.push(format!("if {w}{} {cond} {w}{} goto {off}", i % 11, (i + 3) % 11));
            }
            for imm in ["0", "-1", "0x7fffffff", "0xffffffff", "-2147483648"] {
                c.push(format!("if {w}{} {cond} {imm} goto -7", (i + 1) % 11));
            }
        }
    }
    for off in ["+0", "+1", "-1", "+32767", "-32768"] {
        c.push(format!("goto {off}"));
        c.push(format!("gotol {off}"));
    }
    for n in ["0", "1", "211", "-1", "0x7fffffff"] {
        c.push(format!("call {n}"));
    }
    for r in [0, 2, 10] {
        c.push(format!("callx r{r}"));
    }
    c.push("exit".into());
    for k in [
        "0",
        "1",
        "-1",
        "0x1122334455667788",
        "0x8000000000000000",
        "18446744073709551615",
        "0xffffffff",
        "0x100000000",
        "-0x80000000",
        "-9223372036854775808",
    ] {
        c.push(format!("r3 = {k} ll"));
    }
    for src in 0..=6 {
        c.push(format!("ld_pseudo r{src}, {src}, 42"));
    }
    let offs = ["+ 0", "+ 8", "- 8", "+ 32767", "- 32768", "+ 0x10"];
    for (i, ty) in ["u8", "u16", "u32", "u64", "s8", "s16", "s32"].iter().enumerate() {
        for off in offs {
            c.push(format!("r{} = *({ty} *)(r{} {off})", i % 11, (i + 4) % 11));
        }
    }
    for ty in ["u8", "u16", "u32"] {
        c.push(format!("w2 = *({ty} *)(r1 - 4)"));
        c.push(format!("*({ty} *)(r10 - 4) = w3"));
    }
    for (i, ty) in ["u8", "u16", "u32", "u64"].iter().enumerate() {
        for off in offs {
            c.push(format!("*({ty} *)(r{} {off}) = r{}", (i + 1) % 11, (i + 5) % 11));
        }
        for imm in ["0", "7", "-1", "0x7fffffff", "0xffffffff", "-2147483648"] {
            c.push(format!("*({ty} *)(r10 - 8) = {imm}"));
        }
    }
    for (ty, w) in [("u32", "w"), ("u64", "r")] {
        for op in ["+=", "|=", "&=", "^="] {
            c.push(format!("lock *({ty} *)(r10 - 8) {op} {w}1"));
            c.push(format!("lock *({ty} *)(r3 + 32767) {op} {w}9"));
        }
        for op in ["add", "and", "or", "xor"] {
            c.push(format!("{w}0 = atomic_fetch_{op}(({ty} *)(r10 - 8), {w}0)"));
            c.push(format!("{w}7 = atomic_fetch_{op}(({ty} *)(r2 + 16), {w}7)"));
        }
    }
    c.push("lock *(u32 *)(r10 - 8) += r1".into());
    c.push("r0 = xchg_64(r10 - 8, r0)".into());
    c.push("r5 = xchg_64(r1 + 4, r5)".into());
    c.push("w0 = xchg32_32(r10 - 8, w0)".into());
    c.push("w6 = xchg32_32(r1 + 4, w6)".into());
    c.push("r0 = cmpxchg_64(r10 - 8, r0, r1)".into());
    c.push("w0 = cmpxchg32_32(r10 - 8, w0, w1)".into());
    c.push("r0 = cmpxchg_64(r4 + 0, r0, r10)".into());
    for ty in ["u8", "u16", "u32"] {
        for imm in ["0", "12", "-1", "0x7fffffff", "0xffffffff"] {
            c.push(format!("r0 = *({ty} *)skb[{imm}]"));
        }
        for r in [0, 1, 10] {
            c.push(format!("r0 = *({ty} *)skb[r{r}]"));
        }
    }
    // Spacing is free, as in llvm-mc.
    c.extend(["r1=-r1", "if r1==r2 goto+1", "r0=*(u8*)(r1+1)", "*(u64*)(r10-8)=r1", "w1+=-5"].map(String::from));
    c
}

#[test]
fn corpus_matches_llvm_mc_byte_for_byte() {
    if !tool_available("llvm-mc-19") {
        return;
    }
    let lines = corpus();
    let theirs = llvm_mc_encodings(&lines, "corpus");
    let mut mismatches = Vec::new();
    for (line, want) in lines.iter().zip(&theirs) {
        match ours(line) {
            Ok(got) if &got == want => {}
            Ok(got) => mismatches.push(format!("{line:45} ours {}  llvm {}", hex_bytes(&got), hex_bytes(want))),
            Err(e) => mismatches.push(format!("{line:45} ours: error {e}  llvm {}", hex_bytes(want))),
        }
    }
    assert!(mismatches.is_empty(), "{} of {} lines differ:\n{}", mismatches.len(), lines.len(), mismatches.join("\n"));
    assert!(lines.len() > 500, "the corpus shrank to {} lines", lines.len());
}

/// A small deterministic generator (xorshift64*), so failures reproduce without a seed file.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
    fn reg(&mut self) -> Reg {
        Reg::new(self.below(11) as u8).unwrap()
    }
    /// Edge values half the time, anything otherwise.
    fn i32(&mut self) -> i32 {
        if self.below(2) == 0 {
            self.pick(&[0, 1, -1, i32::MAX, i32::MIN, 0x7f, 0x80, -0x80, 0xffff])
        } else {
            self.next() as i32
        }
    }
    fn i16(&mut self) -> i16 {
        if self.below(2) == 0 {
            self.pick(&[0, 1, -1, i16::MAX, i16::MIN])
        } else {
            self.next() as i16
        }
    }
}

/// A random instruction that the LLVM syntax can express (so no local or kfunc calls, no
/// pseudo `lddw` sources, no `skb[rN + imm]`, no `gotol` beyond 16 bits).
fn random_llvm_insn(g: &mut Rng) -> Insn {
    let width = g.pick(&[Width::W32, Width::W64]);
    let size = g.pick(&[Size::B, Size::H, Size::W, Size::DW]);
    match g.below(12) {
        0 | 1 => {
            let op = g.pick(&BinOp::ALL);
            let op = if op == BinOp::MovSx32 && width == Width::W32 { BinOp::MovSx16 } else { op };
            let src = if op.is_movsx() || g.below(2) == 0 { Operand::Reg(g.reg()) } else { Operand::Imm(g.i32()) };
            Insn::Bin { width, op, dst: g.reg(), src }
        }
        2 => Insn::Neg { width, dst: g.reg() },
        3 => Insn::Endian {
            op: g.pick(&[EndianOp::ToLe, EndianOp::ToBe, EndianOp::Swap]),
            bits: g.pick(&[16, 32, 64]),
            dst: g.reg(),
        },
        4 => {
            let src = if g.below(2) == 0 { Operand::Reg(g.reg()) } else { Operand::Imm(g.i32()) };
            Insn::Jmp { width, cond: g.pick(&JmpCond::ALL), dst: g.reg(), src, off: g.i16() }
        }
        5 => match g.below(4) {
            0 => Insn::Ja { off: g.i16() as i32, long: g.below(2) == 0 },
            1 => Insn::Call(CallTarget::Helper(g.i32())),
            2 => Insn::Callx { dst: g.reg() },
            _ => Insn::Exit,
        },
        6 => {
            let k = g.next();
            Insn::LoadImm64 { dst: g.reg(), src: ImmSrc::Imm, imm: k as i32, next_imm: (k >> 32) as i32 }
        }
        7 => {
            let signed = size != Size::DW && g.below(3) == 0;
            Insn::Load { size, signed, dst: g.reg(), src: g.reg(), off: g.i16() }
        }
        8 => {
            let src = if g.below(2) == 0 { Operand::Reg(g.reg()) } else { Operand::Imm(g.i32()) };
            Insn::Store { size, dst: g.reg(), off: g.i16(), src }
        }
        9 | 10 => {
            let size = g.pick(&[Size::W, Size::DW]);
            let op =
                g.pick(&[AtomicOp::Add, AtomicOp::Or, AtomicOp::And, AtomicOp::Xor, AtomicOp::Xchg, AtomicOp::CmpXchg]);
            let fetch = matches!(op, AtomicOp::Xchg | AtomicOp::CmpXchg) || g.below(2) == 0;
            Insn::Atomic { size, op, fetch, dst: g.reg(), src: g.reg(), off: g.i16() }
        }
        _ => {
            let size = g.pick(&[Size::B, Size::H, Size::W]);
            if g.below(2) == 0 {
                Insn::LegacyLoad { mode: LegacyMode::Abs, size, src: Reg::R0, imm: g.i32() }
            } else {
                Insn::LegacyLoad { mode: LegacyMode::Ind, size, src: g.reg(), imm: 0 }
            }
        }
    }
}

fn random_insns() -> Vec<Insn> {
    let mut g = Rng(0x9e37_79b9_7f4a_7c15);
    (0..600).map(|_| random_llvm_insn(&mut g)).collect()
}

#[test]
fn printed_random_insns_mean_the_same_to_llvm_mc() {
    if !tool_available("llvm-mc-19") {
        return;
    }
    let insns = random_insns();
    let ctx = FormatCtx::default();
    let lines: Vec<String> = insns.iter().map(|i| llvm::format_insn(i, &ctx)).collect();
    let theirs = llvm_mc_encodings(&lines, "random");
    let mut mismatches = Vec::new();
    for ((insn, line), want) in insns.iter().zip(&lines).zip(&theirs) {
        let got = encode(std::slice::from_ref(insn));
        if &got != want {
            mismatches.push(format!("{line:45} ours {}  llvm {}", hex_bytes(&got), hex_bytes(want)));
        }
    }
    assert!(mismatches.is_empty(), "{} of {} differ:\n{}", mismatches.len(), lines.len(), mismatches.join("\n"));
}

#[test]
fn format_matches_llvm_objdump() {
    if !tool_available("llvm-mc-19") || !tool_available("llvm-objdump-19") {
        return;
    }
    let insns = random_insns();
    let ctx = FormatCtx::default();
    let lines: Vec<String> = insns.iter().map(|i| llvm::format_insn(i, &ctx)).collect();
    let src = temp_path("objdump.s");
    let obj = temp_path("objdump.o");
    std::fs::write(&src, lines.join("\n") + "\n").unwrap();
    let mc = Command::new("llvm-mc-19")
        .args(["-triple", "bpfel", "-mcpu=v4", "-filetype=obj", "-o"])
        .arg(&obj)
        .arg(&src)
        .output()
        .expect("run llvm-mc-19");
    assert!(mc.status.success(), "{}", String::from_utf8_lossy(&mc.stderr));
    let dump =
        Command::new("llvm-objdump-19").args(["-d", "--mcpu=v4"]).arg(&obj).output().expect("run llvm-objdump-19");
    let _ = std::fs::remove_file(&src);
    let _ = std::fs::remove_file(&obj);
    let text = String::from_utf8_lossy(&dump.stdout);
    let printed: Vec<String> = text
        .lines()
        .filter(|l| {
            l.trim_start().split(':').next().is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(|l| {
            let asm = l.rsplit('\t').next().unwrap();
            let asm = asm.split(" <.text").next().unwrap();
            normalize_alu32_memory(asm)
        })
        .collect();
    assert_eq!(printed.len(), lines.len(), "objdump printed a different number of instructions:\n{text}");
    let mismatches: Vec<String> = lines
        .iter()
        .zip(&printed)
        .filter(|(a, b)| a != b)
        .map(|(ours, theirs)| format!("ours {ours:45} objdump {theirs}"))
        .collect();
    assert!(mismatches.is_empty(), "{} of {} differ:\n{}", mismatches.len(), lines.len(), mismatches.join("\n"));
}

/// `--mcpu=v4` objdump prints 8–32-bit loads and stores with `w` registers (`w0 = *(u32 *)`);
/// ebpf-lab, the kernel log and objdump's default CPU print `r`. Same encoding, same meaning.
fn normalize_alu32_memory(s: &str) -> String {
    let mut s = s.to_string();
    if s.starts_with('w') && s.contains(" = *(u") {
        s.replace_range(0..1, "r");
    }
    if s.starts_with("*(") {
        if let Some(i) = s.rfind("= w") {
            s.replace_range(i + 2..i + 3, "r");
        }
    }
    s
}

/// `clang -S` output assembles to the bytes `clang -c` produces: labels (`LBB0_2`, `.Lfunc_end0`),
/// clang's directives and comments, local calls resolved to `call pc+N`.
#[test]
fn clang_assembly_output_assembles_like_clang() {
    if !tool_available("clang-19") || !tool_available("llvm-objcopy-19") {
        return;
    }
    let c = r#"
struct ctx { unsigned len, mark; long vals[8]; };
static __attribute__((noinline)) int scale(int a, int b) { return a * 3 + b / 7 - (b % 5); }
static __attribute__((noinline)) long mix(long x) { return (x >> 3) ^ (x << 5) ^ ((unsigned long)x >> 60); }
int prog(struct ctx *c) {
    long s = 0;
    for (int i = 0; i < c->len && i < 8; i++) {
        s += c->vals[i] * c->mark;
        if (s > 100000) break;
    }
    __sync_fetch_and_add(&c->vals[0], s);
    long old = __sync_val_compare_and_swap(&c->vals[1], s, 7);
    signed char sc = (signed char)c->vals[2];
    short sh = *(short *)&c->vals[3];
    return scale((int)s, sc + sh) + (int)mix(old) + (c->len > 0xfffff ? 0x12345678 : -1) + __builtin_bswap32(c->mark);
}
"#;
    let base = temp_path("clang");
    let (src, asm_path, obj, text) =
        (base.with_extension("c"), base.with_extension("s"), base.with_extension("o"), base.with_extension("bin"));
    std::fs::write(&src, c).unwrap();
    let run = |args: &[&std::ffi::OsStr]| {
        let out = Command::new(args[0]).args(&args[1..]).output().expect("run tool");
        assert!(out.status.success(), "{:?}: {}", args, String::from_utf8_lossy(&out.stderr));
    };
    let os = |s: &'static str| std::ffi::OsStr::new(s);
    let flags = [os("-target"), os("bpf"), os("-mcpu=v4"), os("-O2")];
    let mut args = vec![os("clang-19")];
    args.extend(flags);
    run(&[&args[..], &[os("-S"), src.as_os_str(), os("-o"), asm_path.as_os_str()]].concat());
    run(&[&args[..], &[os("-c"), src.as_os_str(), os("-o"), obj.as_os_str()]].concat());
    run(&[
        os("llvm-objcopy-19"),
        os("-O"),
        os("binary"),
        os("--only-section=.text"),
        obj.as_os_str(),
        text.as_os_str(),
    ]);
    let asm_text = std::fs::read_to_string(&asm_path).unwrap();
    let want = std::fs::read(&text).unwrap();
    for p in [&src, &asm_path, &obj, &text] {
        let _ = std::fs::remove_file(p);
    }
    let program = assemble("clang.s", &asm_text, None).unwrap_or_else(|e| panic!("{e:?}\n{asm_text}"));
    assert!(program.insns.iter().any(|i| matches!(i, Insn::Call(CallTarget::Local(_)))), "{asm_text}");
    assert_eq!(hex_bytes(&program.to_bytes()), hex_bytes(&want), "{asm_text}");
}
