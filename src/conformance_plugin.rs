//! The bpf_conformance reference runner's plugin protocol, run on one of ebpf-lab's engines (the
//! interpreter unless `--engine jit` or `--engine kernel` says otherwise; the
//! `bpf-conformance-plugin` binary is a thin shell over [`run`]).
//!
//! `PLUGIN [HEXMEM] [OPTIONS]`, the program as hex bytes on standard input (whitespace anywhere).
//! The answer is r0 in hex, or the error text. Options:
//! - `--elf`: standard input is an ELF object (the runner writes one with the program in `.text`,
//!   or in `xdp` with its XDP prolog), read with [`crate::elf`];
//! - `--xdp_prolog`: the program starts with the runner's XDP prolog ([`xdp_prolog`]), which reads
//!   the packet bounds from an `xdp_md` context: the program runs as `xdp`, the memory being the
//!   packet. The runner passes this flag to itself, not to the plugin, so the prolog is also
//!   recognised by its exact instructions;
//! - `--engine NAME` (or `--engine=NAME`): the engine to run on;
//! - `--debug`: accepted (the runner's other plugins take it), no effect.

use crate::engine::{self, EngineOptions};
use crate::program::{ProgType, Program};
use crate::runtime::run::Input;

/// What the runner asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    /// The input memory (the packet in XDP mode).
    pub mem: Vec<u8>,
    /// Standard input is an ELF object, not bytecode.
    pub elf: bool,
    /// The program starts with the runner's XDP prolog.
    pub xdp_prolog: bool,
    /// The engine to run on (`interp` when not given).
    pub engine: Option<String>,
}

/// Parses hex bytes, ignoring whitespace anywhere (`"b7 00"`, `"b700"` and `"b 700"` are the same).
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    crate::load::parse_hex(&digits).map_err(|(_, e)| e)
}

/// Reads the command line (without the program name).
pub fn parse_args(args: &[String]) -> Result<Request, String> {
    let mut req = Request::default();
    let mut mem = None;
    let mut args = args.iter();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--engine" => req.engine = Some(args.next().ok_or("--engine needs a name (interp, jit, kernel)")?.clone()),
            other if other.starts_with("--engine=") => req.engine = Some(other["--engine=".len()..].to_string()),
            "--elf" => req.elf = true,
            "--xdp_prolog" => req.xdp_prolog = true,
            "--debug" => {}
            other if other.starts_with("--") => {
                return Err(format!(
                    "unknown option `{other}` (this plugin takes --engine, --elf, --xdp_prolog, --debug)"
                ))
            }
            other if mem.is_none() => mem = Some(other),
            other => return Err(format!("unexpected argument `{other}` after the memory")),
        }
    }
    if let Some(m) = mem {
        req.mem = parse_hex(m).map_err(|e| format!("memory: {e}"))?;
    }
    Ok(req)
}

/// The runner's XDP prolog for `size` bytes of memory: `r0 = -1; r6 = r1; r1 = data; r2 = data_end;
/// if data + size > data_end: exit; r2 = size`, then the program with r1/r2 as in memory mode.
pub fn xdp_prolog(size: u32) -> Vec<u8> {
    let insn = |op: u8, dst: u8, src: u8, off: i16, imm: i32| {
        let mut b = vec![op, dst | src << 4];
        b.extend_from_slice(&off.to_le_bytes());
        b.extend_from_slice(&imm.to_le_bytes());
        b
    };
    let size = size as i32;
    [
        insn(0xb7, 0, 0, 0, -1),
        insn(0xbf, 6, 1, 0, 0),
        insn(0x61, 1, 6, 0, 0),
        insn(0x61, 2, 6, 4, 0),
        insn(0xbf, 3, 1, 0, 0),
        insn(0x07, 3, 0, 0, size),
        insn(0xbd, 3, 2, 1, 0),
        insn(0x95, 0, 0, 0, 0),
        insn(0xb7, 2, 0, 0, size),
    ]
    .concat()
}

/// Runs one request: the program text from standard input; r0, or the error text.
pub fn run(req: &Request, stdin: &str) -> Result<u64, String> {
    let bytes = parse_hex(stdin).map_err(|e| format!("program: {e}"))?;
    let mut prog = if req.elf {
        if !bytes.starts_with(b"\x7fELF") {
            return Err("--elf: the program is not an ELF object (it does not start with 7f 45 4c 46)".into());
        }
        crate::elf::program_from_elf("<stdin>", &bytes, None).map_err(|e| e.to_string())?
    } else {
        Program::from_bytes(&bytes).map_err(|e| e.to_string())?
    };
    if prog.insns.is_empty() {
        return Err("the program has no instructions".into());
    }
    let has_prolog =
        !req.mem.is_empty() && u32::try_from(req.mem.len()).is_ok_and(|n| prog.to_bytes().starts_with(&xdp_prolog(n)));
    if req.xdp_prolog && !req.mem.is_empty() && !has_prolog {
        return Err("--xdp_prolog: the program does not start with the runner's XDP prolog".into());
    }
    let input = if has_prolog {
        prog.prog_type = ProgType::Xdp;
        Input::xdp(req.mem.clone())
    } else {
        prog.prog_type = ProgType::Mem;
        Input::mem(req.mem.clone())
    };
    let name = req.engine.as_deref().unwrap_or("interp");
    let mut vm = engine::open(name, &prog, &EngineOptions::default(), &input).map_err(|e| e.to_string())?;
    vm.run(&input).map(|r| r.outcome.r0).map_err(|e| e.to_string())
}
