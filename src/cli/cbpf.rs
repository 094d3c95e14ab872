//! `ebpf-lab cbpf FILE`: a classic BPF program (`tcpdump -dd` output or `bpf_asm` text), each
//! instruction beside the eBPF the kernel's conversion makes of it.

use super::json::Json;
use super::{Ctx, EXIT_INPUT, EXIT_PROGRAM};
use crate::asm::disasm::{format_insn, FormatCtx};
use crate::asm::Syntax;
use crate::cbpf::{self, ClassicInsn};
use crate::diag::{self, Diagnostic};
use crate::program::Source;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `cbpf`.
#[derive(Args, Debug)]
pub struct CbpfArgs {
    /// The classic program: `tcpdump -dd` output or bpf_asm text (`-` for stdin).
    file: PathBuf,
    /// Also write the converted program as eBPF assembly (a `.prog socket` file `run` and `check` take).
    #[arg(short, long, value_name = "OUT.s")]
    output: Option<PathBuf>,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
}

fn read(path: &std::path::Path) -> std::io::Result<String> {
    if path == std::path::Path::new("-") {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)?;
        Ok(s)
    } else {
        std::fs::read_to_string(path)
    }
}

fn error_out(ctx: &Ctx, json: bool, source: Option<&Source>, d: Diagnostic, code: i32) -> i32 {
    if json {
        let at = d.span.as_ref().and_then(|s| source.map(|src| src.line_col(s.start)));
        let mut fields = vec![("error", Json::str(d.message.clone()))];
        if let (Some((line, col)), Some(src)) = (at, source) {
            fields.push(("at", Json::str(format!("{}:{line}:{col}", src.name))));
        }
        println!("{}", Json::obj(fields).render());
    }
    eprint!("{}", diag::render(source, &d, ctx.color_err));
    code
}

/// Runs `cbpf`.
pub fn run(ctx: &Ctx, args: CbpfArgs) -> i32 {
    let name = args.file.display().to_string();
    let text = match read(&args.file) {
        Ok(t) => t,
        Err(e) => return error_out(ctx, args.json, None, Diagnostic::error(format!("{name}: {e}"), None), EXIT_INPUT),
    };
    let source = Source { name, text };
    let parsed = match cbpf::parse(&source.text) {
        Ok(p) => p,
        Err(e) => {
            return error_out(ctx, args.json, Some(&source), Diagnostic::error(e.message, Some(e.span)), EXIT_INPUT)
        }
    };
    let classic: Vec<ClassicInsn> = parsed.iter().map(|(i, _)| *i).collect();
    let converted = match cbpf::convert(&classic) {
        Ok(c) => c,
        Err(e) => {
            let span = parsed.get(e.index).map(|(_, s)| s.clone());
            let d = Diagnostic::error(format!("the classic checker refuses this: {}", e.message), span);
            return error_out(ctx, args.json, Some(&source), d, EXIT_PROGRAM);
        }
    };
    let program = &converted.program;
    let fctx = FormatCtx { maps: &program.maps };
    let ebpf = |r: std::ops::Range<usize>| -> Vec<(usize, String)> {
        r.map(|pc| (pc, format_insn(&program.insns[pc], Syntax::Llvm, &fctx))).collect()
    };
    if let Some(out) = &args.output {
        let text = format!(
            "# Converted from {} by `ebpf-lab cbpf` (A = r0, X = r7, ctx = r6).\n{}",
            source.name,
            crate::asm::disasm::disassemble(program, Syntax::Llvm)
        );
        if let Err(e) = super::write_atomic(out, text.as_bytes()) {
            let d = Diagnostic::error(format!("cannot write {}: {e}", out.display()), None);
            return error_out(ctx, args.json, None, d, EXIT_INPUT);
        }
    }
    if args.json {
        let insn_json =
            |(pc, text): (usize, String)| Json::obj([("pc", Json::U64(pc as u64)), ("text", Json::str(text))]);
        let classic_json = classic.iter().zip(&converted.blocks).enumerate().map(|(i, (c, b))| {
            Json::obj([
                ("index", Json::U64(i as u64)),
                ("text", Json::str(c.to_string())),
                ("code", Json::U64(c.code as u64)),
                ("jt", Json::U64(c.jt as u64)),
                ("jf", Json::U64(c.jf as u64)),
                ("k", Json::U64(c.k as u64)),
                ("ebpf", Json::Arr(ebpf(b.clone()).into_iter().map(insn_json).collect())),
            ])
        });
        let j = Json::obj([
            ("classic_insns", Json::U64(classic.len() as u64)),
            ("ebpf_insns", Json::U64(program.insns.len() as u64)),
            ("prologue", Json::Arr(ebpf(converted.prologue.clone()).into_iter().map(insn_json).collect())),
            ("classic", Json::Arr(classic_json.collect())),
        ]);
        println!("{}", j.render());
        return 0;
    }
    let mut text = format!(
        "classic BPF, {} instructions -> eBPF, {} instructions (A = r0, X = r7, ctx = r6, M[k] = *(u32 *)(r10 - (4k+4)))\n",
        classic.len(),
        program.insns.len()
    );
    text.push_str("prologue: A = X = 0, ctx kept in r6\n");
    for (pc, t) in ebpf(converted.prologue.clone()) {
        text.push_str(&format!("  {pc:>5}: {t}\n"));
    }
    for (i, (c, b)) in classic.iter().zip(&converted.blocks).enumerate() {
        text.push_str(&format!("({i:03}) {c}\n"));
        for (pc, t) in ebpf(b.clone()) {
            text.push_str(&format!("  {pc:>5}: {t}\n"));
        }
    }
    // A closed pipe (`| head`) ends quietly.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    0
}
