//! Reading ELF objects built by `clang -target bpf -O2 -g -c prog.c` into a [`Program`] — what
//! libbpf does before `bpf(BPF_PROG_LOAD)`, for one program:
//!
//! 1. **Pick the program.** libbpf section names (`SEC("xdp")`) name the program type; the
//!    program is the first function of the chosen executable section.
//! 2. **Collect the maps** of the `.maps` section (BTF-defined, described in `.BTF`; see
//!    [`btf`]) or of the legacy `maps` section (`struct bpf_map_def`), in section order.
//! 3. **Link the subprograms.** clang puts static (and global) non-program functions in `.text`
//!    and emits `call` instructions with `R_BPF_64_32` relocations. As libbpf's
//!    `bpf_object__relocate_calls` does, every function the program calls (transitively) is
//!    appended after it once, and each call's `imm` becomes the distance to its callee. Only
//!    called functions are appended: the kernel rejects unreachable code.
//! 4. **Relocate the maps.** An `lddw` with an `R_BPF_64_64` relocation against a map symbol
//!    becomes `lddw dst, map_by_idx(N)` (`BPF_PSEUDO_MAP_IDX`), N indexing [`Program::maps`].
//!
//! 5. **Apply CO-RE.** Each `.BTF.ext` CO-RE relocation of the linked code is resolved against
//!    the running kernel's BTF (see [`core`]); one that cannot be is an error naming the field.
//!
//! Global variables (`.data`, `.bss`, `.rodata`, `.rodata.str1.1`, ...) become one array map per
//! section, as libbpf makes them (see [`crate::global_data`]): an `lddw` relocated against one
//! becomes `lddw dst, map_idx_value(N, OFFSET)` (`BPF_PSEUDO_MAP_IDX_VALUE`). Function
//! addresses (`bpf_loop` callbacks) are linked as `BPF_PSEUDO_FUNC`; the kernel accepts them with
//! BTF `func_info`, which [`Program::btf`] carries (with `line_info`) for the kernel backend.
//!
//! With `.BTF.ext` line info, each instruction gets its C line ([`Program::c_lines`]) and the
//! program's C file becomes its [`Program::source`], so diagnostics quote C (see `c_source`).

pub mod btf;
pub mod btf_ext;
mod btf_fixup;
mod c_source;
pub mod core;
pub mod kconfig;
pub mod line_info;

use crate::global_data::{GlobalSection, GlobalVar};
use crate::isa;
use crate::program::{CLine, MapDef, ProgType, Program, ProgramBtf};
use goblin::elf::{section_header as sh, sym, Elf};
use std::collections::HashMap;
use std::fmt;

/// `EM_BPF` in `e_machine`.
const EM_BPF: u16 = 247;
/// `EM_NONE`: what old LLVM wrote in `e_machine` of BPF objects.
const EM_NONE: u16 = 0;
/// `R_BPF_64_64`: the 64-bit immediate of an `lddw` (map or function address).
const R_BPF_64_64: u32 = 1;
/// `R_BPF_64_32`: the 32-bit immediate of a `call` (a subprogram).
const R_BPF_64_32: u32 = 10;
/// Opcode of `lddw` (`BPF_LD | BPF_IMM | BPF_DW`).
const OP_LDDW: u8 = 0x18;
/// Opcode of `call` (`BPF_JMP | BPF_CALL`).
const OP_CALL: u8 = 0x85;
/// `src_reg` of a bpf-to-bpf call (`BPF_PSEUDO_CALL`).
const PSEUDO_CALL: u8 = 1;

/// Why an ELF object could not be read; the message names the section, symbol or relocation at
/// fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElfError {
    /// The file, as named by the caller.
    pub file: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

impl std::error::Error for ElfError {}

/// The program type libbpf gives a section name: its part before the first `/` (`xdp`,
/// `socket`, `tc`, `classifier`, `tcx/ingress`, `tracepoint/...`, `tp/...`, `syscall`,
/// `kprobe/...` and the other probes (`ksyscall/...`, `usdt/...`), `raw_tp/...`, `cgroup_skb/...`, `sk_lookup`, `lwt_*`, and
/// `xdp.frags`), or the whole name for `cgroup/sock` (`cgroup/sock_create`); any other section
/// runs as `mem`.
pub fn prog_type_of_section(section: &str) -> ProgType {
    let head = section.split('/').next().unwrap_or("");
    match head {
        "tcx" => ProgType::Tc,
        "xdp.frags" => ProgType::Xdp,
        // libbpf's kprobes on a syscall's wrapper and its USDT probes (uprobes).
        "ksyscall" | "kretsyscall" | "usdt" => ProgType::Kprobe,
        "cgroup" => ProgType::from_name(section).unwrap_or(ProgType::Mem),
        _ => ProgType::from_name(head).unwrap_or(ProgType::Mem),
    }
}

/// Why section `section` gives no program type ebpf-lab can trust, with the `--prog-type` to
/// pass; `None` when the name is one libbpf knows (or `.text`, plain code run as `mem`).
/// Old-style names (`xdp1`, `socket1`, `xdp_prog`) ran under iproute2 or the kernel's samples'
/// own loaders, which took the type from elsewhere: guessing `mem` would run them on the wrong
/// context.
pub fn unknown_section_hint(section: &str) -> Option<String> {
    let head = section.split('/').next().unwrap_or("");
    let known = head != "cgroup" && ProgType::from_name(head).is_some();
    if section == ".text"
        || matches!(head, "tcx" | "xdp.frags")
        || known
        || prog_type_of_section(section) != ProgType::Mem
    {
        return None;
    }
    let lower = head.to_ascii_lowercase();
    let guess = [
        ("xdp", ("an XDP", "xdp")),
        ("sock", ("a socket filter", "socket")),
        ("tc", ("a tc", "tc")),
        ("cls", ("a tc", "tc")),
        ("ingress", ("a tc", "tc")),
        ("egress", ("a tc", "tc")),
    ]
    .iter()
    .find(|(prefix, _)| lower.starts_with(prefix))
    .map(|(_, t)| *t);
    let unmodelled = [
        "fentry",
        "fexit",
        "lsm",
        "cgroup",
        "perf_event",
        "iter",
        "struct_ops",
        "sockops",
        "sk_skb",
        "sk_msg",
        "flow_dissector",
        "action",
    ];
    let all: Vec<&str> = ProgType::ALL.iter().map(|t| t.name()).collect();
    Some(match guess {
        Some((what, t)) => format!(
            "section `{section}` is not a program type libbpf knows; if it is {what} program, pass --prog-type {t}"
        ),
        None if unmodelled.contains(&head) => format!(
            "section `{section}`: ebpf-lab does not model `{head}` programs yet; pass --prog-type mem to run the code on a plain buffer"
        ),
        None => format!(
            "section `{section}` names no program type; pass --prog-type TYPE (one of: {})",
            all.join(", ")
        ),
    })
}

/// A contiguous piece of code: one function (or a whole section without function symbols).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Func {
    shndx: usize,
    /// Byte range in the section.
    start: usize,
    end: usize,
    name: String,
}

/// An instruction poisoned by CO-RE: its byte position in the linked code, and what the kernel
/// lacks.
type Poisoned = (usize, String);

/// Linked code, its CO-RE-poisoned instructions, and each function with its byte position.
type Linked = (Vec<u8>, Vec<Poisoned>, Vec<(Func, usize)>);

/// A call or function address whose `imm` is fixed once the layout is known.
struct Pending {
    /// Byte position of the instruction in the linked code.
    pos: usize,
    /// Index into the layout of the callee's function, and the callee's byte offset in it.
    func: usize,
    offset: usize,
    /// True for an `lddw` of a function address (`BPF_PSEUDO_FUNC`), false for a call.
    is_addr: bool,
}

/// The parsed object and what is derived from it.
struct Object<'a> {
    file: &'a str,
    bytes: &'a [u8],
    elf: Elf<'a>,
    /// Relocation sections by the section they apply to.
    relocs: HashMap<usize, Vec<goblin::elf::Reloc>>,
    /// Maps by (section, offset of the map's symbol).
    map_at: HashMap<(usize, u64), usize>,
    /// Maps ebpf-lab cannot create, by (section, offset): name and why. Only the programs that
    /// use one fail to load.
    blocked: HashMap<(usize, u64), (String, String)>,
    maps: Vec<MapDef>,
    /// Sections of global variables, and the map of each by section index.
    globals: Vec<GlobalSection>,
    global_map: HashMap<usize, usize>,
    /// The `.kconfig` map and the offset of each extern in it.
    kconfig: Option<(usize, HashMap<String, u32>)>,
    /// The object's BTF and its CO-RE relocations by section name (empty without `.BTF.ext`).
    core: Option<(btf::Btf, HashMap<String, Vec<core::CoreRelo>>)>,
    /// `.BTF.ext` line records by section name (empty without line info).
    lines: HashMap<String, Vec<line_info::LineRecord>>,
    /// `.BTF.ext` func records by section name, and the `.BTF` they refer to.
    funcs: HashMap<String, Vec<line_info::FuncRecord>>,
    btf_blob: &'a [u8],
}

/// Reads the program of an ELF object. `section` picks the program by its section name (e.g.
/// `xdp`, `tracepoint/syscalls/sys_enter_read`) or function name; without it the program is the
/// first function of the first executable section other than `.text` (or of `.text` if that is
/// all there is). `name` names the file in error messages.
pub fn program_from_elf(name: &str, bytes: &[u8], section: Option<&str>) -> Result<Program, ElfError> {
    let err = |message: String| ElfError { file: name.to_string(), message };
    let elf = Elf::parse(bytes).map_err(|e| err(format!("not a readable ELF object: {e}")))?;
    // LLVM before 3.9 (and some hand-made objects) left e_machine 0 (`EM_NONE`); libbpf accepts
    // them too, as long as the rest is a BPF object.
    if !matches!(elf.header.e_machine, EM_BPF | EM_NONE) {
        return Err(err(format!(
            "not a BPF object (e_machine is {}, not EM_BPF 247); compile with `clang -target bpf`",
            elf.header.e_machine
        )));
    }
    if !elf.little_endian {
        return Err(err("big-endian BPF objects (bpfeb) are not supported; compile with -target bpf".into()));
    }
    let mut relocs: HashMap<usize, Vec<goblin::elf::Reloc>> = HashMap::new();
    for (idx, rs) in &elf.shdr_relocs {
        let target = elf.section_headers.get(*idx).map_or(0, |s| s.sh_info as usize);
        relocs.entry(target).or_default().extend(rs.iter());
    }
    let mut obj = Object {
        file: name,
        bytes,
        elf,
        relocs,
        map_at: HashMap::new(),
        blocked: HashMap::new(),
        maps: Vec::new(),
        core: None,
        globals: Vec::new(),
        global_map: HashMap::new(),
        kconfig: None,
        lines: HashMap::new(),
        funcs: HashMap::new(),
        btf_blob: &[],
    };
    obj.collect_maps()?;
    obj.collect_globals()?;
    obj.collect_kconfig()?;
    obj.collect_core()?;
    let main = obj.pick_program(section)?;
    let prog_type = prog_type_of_section(obj.section_name(main.shndx));
    let section_name = obj.section_name(main.shndx).to_string();
    let (code, poisoned, placed) = obj.link(main)?;
    let insns = isa::decode(&code).map_err(|e| err(format!("instruction {}: {e}", e.pc)))?;
    let slots = isa::slot_pcs(&insns);
    let c_lines = obj.c_lines(&placed, &slots);
    let btf = obj.program_btf(&placed);
    let (source, spans) = c_source::source_of(name, &c_lines).unzip();
    let core_poisoned = poisoned
        .into_iter()
        .filter_map(|(pos, what)| Some((slots.iter().position(|&s| s == pos / 8)?, what)))
        .collect();
    Ok(Program {
        insns,
        maps: obj.maps,
        prog_type,
        source,
        spans: spans.unwrap_or_default(),
        globals: obj.globals,
        core_poisoned,
        elf_section: Some(section_name),
        c_lines,
        btf,
    })
}

impl<'a> Object<'a> {
    fn err(&self, message: String) -> ElfError {
        ElfError { file: self.file.to_string(), message }
    }

    fn section_name(&self, idx: usize) -> &'a str {
        let off = self.elf.section_headers.get(idx).map_or(0, |s| s.sh_name);
        self.elf.shdr_strtab.get_at(off).unwrap_or("")
    }

    fn section_index(&self, name: &str) -> Option<usize> {
        (0..self.elf.section_headers.len()).find(|&i| self.section_name(i) == name)
    }

    /// The bytes of section `idx`, bounds-checked against the file.
    fn section_data(&self, idx: usize) -> Result<&'a [u8], ElfError> {
        let Some(s) = self.elf.section_headers.get(idx) else {
            return Err(self.err(format!("section #{idx} does not exist")));
        };
        if s.sh_type == sh::SHT_NOBITS {
            return Ok(&[]);
        }
        let range = usize::try_from(s.sh_offset)
            .ok()
            .zip(usize::try_from(s.sh_size).ok())
            .and_then(|(o, n)| Some(o..o.checked_add(n)?))
            .filter(|r| r.end <= self.bytes.len());
        match range {
            Some(r) => Ok(&self.bytes[r]),
            None => Err(self.err(format!("section `{}` lies outside the file", self.section_name(idx)))),
        }
    }

    fn is_code(&self, idx: usize) -> bool {
        self.elf.section_headers.get(idx).is_some_and(|s| {
            s.sh_type == sh::SHT_PROGBITS && s.sh_flags & u64::from(sh::SHF_EXECINSTR) != 0 && s.sh_size > 0
        })
    }

    fn sym_name(&self, s: &goblin::elf::Sym) -> &'a str {
        if s.st_type() == sym::STT_SECTION {
            return self.section_name(s.st_shndx);
        }
        self.elf.strtab.get_at(s.st_name).unwrap_or("")
    }

    /// The functions of code section `idx`, in address order; a section without function
    /// symbols is one function named after the section.
    fn functions(&self, idx: usize) -> Vec<Func> {
        let len = self.elf.section_headers.get(idx).map_or(0, |s| s.sh_size) as usize;
        let mut funcs: Vec<Func> = self
            .elf
            .syms
            .iter()
            .filter(|s| s.st_shndx == idx && s.st_type() == sym::STT_FUNC && s.st_size > 0)
            .filter_map(|s| {
                let start = usize::try_from(s.st_value).ok()?;
                let end = start.checked_add(usize::try_from(s.st_size).ok()?)?;
                Some(Func { shndx: idx, start, end, name: self.sym_name(&s).to_string() })
            })
            .collect();
        funcs.sort_by_key(|f| f.start);
        funcs.dedup_by_key(|f| f.start);
        if funcs.is_empty() {
            funcs.push(Func { shndx: idx, start: 0, end: len, name: self.section_name(idx).to_string() });
        }
        funcs
    }

    /// Finds the program: by section or function name, else by the default rule.
    fn pick_program(&self, wanted: Option<&str>) -> Result<Func, ElfError> {
        let code: Vec<usize> = (0..self.elf.section_headers.len()).filter(|&i| self.is_code(i)).collect();
        let first = |idx: usize| {
            let funcs = self.functions(idx);
            // Prefer a global function: in `.text`, static helpers may come first.
            let global = self
                .elf
                .syms
                .iter()
                .filter(|s| s.st_shndx == idx && s.st_type() == sym::STT_FUNC && s.st_bind() == sym::STB_GLOBAL)
                .map(|s| s.st_value as usize)
                .min();
            let pick = global.and_then(|g| funcs.iter().find(|f| f.start == g)).unwrap_or(&funcs[0]);
            pick.clone()
        };
        match wanted {
            Some(want) => {
                if let Some(&idx) = code.iter().find(|&&i| self.section_name(i) == want) {
                    return Ok(first(idx));
                }
                for &idx in &code {
                    if let Some(f) = self.functions(idx).into_iter().find(|f| f.name == want) {
                        return Ok(f);
                    }
                }
                let names: Vec<String> = code.iter().map(|&i| format!("`{}`", self.section_name(i))).collect();
                Err(self.err(format!(
                    "no program section or function `{want}`; the code sections are {}",
                    if names.is_empty() { "none".to_string() } else { names.join(", ") }
                )))
            }
            None => code
                .iter()
                .find(|&&i| self.section_name(i) != ".text")
                .or(code.first())
                .map(|&i| first(i))
                .ok_or_else(|| self.err("the object has no code (no executable section)".into())),
        }
    }

    /// Makes a map of each non-empty section of global variables (`.data`, `.bss`, `.rodata`, and
    /// `.data.*`, `.bss.*`, `.rodata.*` as libbpf names them), with the section's bytes as its
    /// value and the section's object symbols as its variables.
    fn collect_globals(&mut self) -> Result<(), ElfError> {
        // A `.bss` costs nothing in the file and its whole size in memory: a few bytes of header
        // must not make ebpf-lab zero gigabytes. All global data together stays within what
        // one map may hold here (the runtime would refuse a bigger map anyway).
        let limit = crate::runtime::maps::MAX_STORAGE_BYTES as u64;
        let mut total = 0u64;
        let is_global = |name: &str| {
            [".data", ".bss", ".rodata"]
                .iter()
                .any(|p| name == *p || name.strip_prefix(p).is_some_and(|r| r.starts_with('.')))
        };
        for idx in 0..self.elf.section_headers.len() {
            let name = self.section_name(idx);
            let sh = &self.elf.section_headers[idx];
            if !is_global(name) || sh.sh_size == 0 || !matches!(sh.sh_type, sh::SHT_PROGBITS | sh::SHT_NOBITS) {
                continue;
            }
            total = total.saturating_add(sh.sh_size);
            if total > limit {
                return Err(self.err(format!(
                    "section `{name}`: global data of {} bytes in all (this section: {}) is more than \
                     ebpf-lab's {limit}-byte map limit",
                    total, sh.sh_size
                )));
            }
            let Ok(size) = u32::try_from(sh.sh_size) else { continue };
            let mut init = self.section_data(idx).map(<[u8]>::to_vec).unwrap_or_default();
            init.resize(size as usize, 0);
            let mut vars: Vec<GlobalVar> = self
                .elf
                .syms
                .iter()
                .filter(|s| s.st_shndx == idx && s.st_type() == sym::STT_OBJECT && s.st_name != 0)
                .filter(|s| s.st_value.saturating_add(s.st_size) <= u64::from(size) && s.st_size > 0)
                .map(|s| GlobalVar {
                    name: self.sym_name(&s).to_string(),
                    offset: s.st_value as u32,
                    size: s.st_size as u32,
                })
                .collect();
            vars.sort_by_key(|v| v.offset);
            let read_only = name.starts_with(".rodata");
            let map = self.maps.len();
            self.maps.push(MapDef {
                name: name.to_string(),
                map_type: crate::program::MapType::Array,
                key_size: 4,
                value_size: size,
                max_entries: 1,
                // BPF_F_RDONLY_PROG: programs may not write .rodata.
                flags: if read_only { 0x80 } else { 0 },
                extra: Default::default(),
            });
            self.global_map.insert(idx, map);
            self.globals.push(GlobalSection { map, init, vars, read_only });
        }
        Ok(())
    }

    /// Makes the `.kconfig` map of libbpf's kconfig externs, filled from the running kernel (see
    /// [`kconfig`]); shown and set like the other globals.
    fn collect_kconfig(&mut self) -> Result<(), ElfError> {
        let names: Vec<(String, bool)> = self
            .elf
            .syms
            .iter()
            .filter(|s| s.st_shndx == 0 && s.st_name != 0 && s.st_type() != sym::STT_FILE)
            .map(|s| (self.sym_name(&s).to_string(), s.st_bind() == sym::STB_WEAK))
            .collect();
        let Some(idx) = self.section_index(".BTF").filter(|_| !names.is_empty()) else { return Ok(()) };
        let btf = btf::Btf::parse(self.section_data(idx)?).map_err(|e| self.err(format!("section `.BTF`: {e}")))?;
        let externs = kconfig::externs(&btf, &names);
        if externs.is_empty() {
            return Ok(());
        }
        let (init, vars) = kconfig::fill(&btf, &externs, &kconfig::running_kernel()).map_err(|e| self.err(e))?;
        let map = self.maps.len();
        self.maps.push(MapDef {
            name: ".kconfig".into(),
            map_type: crate::program::MapType::Array,
            key_size: 4,
            value_size: init.len() as u32,
            max_entries: 1,
            // BPF_F_RDONLY_PROG, as for .rodata: libbpf freezes it read-only.
            flags: 0x80,
            extra: Default::default(),
        });
        let offsets = vars.iter().map(|v| (v.name.clone(), v.offset)).collect();
        self.kconfig = Some((map, offsets));
        self.globals.push(GlobalSection { map, init, vars, read_only: true });
        Ok(())
    }

    /// Reads the CO-RE relocations and line info of `.BTF.ext`, with the `.BTF` they are
    /// described against.
    fn collect_core(&mut self) -> Result<(), ElfError> {
        let (Some(ext), Some(btf)) = (self.section_index(".BTF.ext"), self.section_index(".BTF")) else {
            return Ok(());
        };
        self.btf_blob = self.section_data(btf)?;
        let btf = btf::Btf::parse(self.btf_blob).map_err(|e| self.err(format!("section `.BTF`: {e}")))?;
        self.lines = line_info::parse_line_info(self.section_data(ext)?, &btf).map_err(|e| self.err(e))?;
        self.funcs = line_info::parse_func_info(self.section_data(ext)?, &btf).map_err(|e| self.err(e))?;
        let relos = core::parse_btf_ext(self.section_data(ext)?, &btf).map_err(|e| self.err(e))?;
        if !relos.is_empty() {
            self.core = Some((btf, relos));
        }
        Ok(())
    }

    /// Applies the CO-RE relocations of function `f`, whose body starts at `code[base..]`; the
    /// instructions poisoned for what the kernel lacks go to `poisoned` as (byte position, what).
    fn apply_core(&self, f: &Func, code: &mut [u8], base: usize, poisoned: &mut Vec<Poisoned>) -> Result<(), ElfError> {
        let Some((local, relos)) = &self.core else { return Ok(()) };
        let sec = self.section_name(f.shndx);
        let Some(relos) = relos.get(sec) else { return Ok(()) };
        for r in relos.iter().filter(|r| (f.start..f.end).contains(&(r.insn_off as usize))) {
            let at = r.insn_off as usize - f.start;
            let fail = |m: String| {
                self.err(format!(
                    "section `{sec}` offset {:#x} (instruction {} of `{}`): {m}",
                    r.insn_off,
                    at / 8,
                    f.name
                ))
            };
            let target = core::vmlinux_btf().map_err(|e| {
                fail(format!("the program has CO-RE relocations and the kernel's BTF is unavailable: {e}"))
            })?;
            match core::resolve(r, local, target).map_err(&fail)? {
                core::Resolution::Found(res) => core::patch(code, base + at, r, res).map_err(fail)?,
                core::Resolution::Missing(what) => {
                    core::poison(code, base + at);
                    poisoned.push((base + at, what));
                }
            }
        }
        Ok(())
    }

    /// Reads the maps of `.maps` (BTF) and `maps` (legacy) into `self.maps`.
    fn collect_maps(&mut self) -> Result<(), ElfError> {
        let btf_section = self.section_index(".maps");
        let legacy_section = self.section_index("maps");
        let btf = match (btf_section, self.section_index(".BTF")) {
            (Some(_), Some(idx)) => {
                Some(btf::Btf::parse(self.section_data(idx)?).map_err(|e| self.err(format!("section `.BTF`: {e}")))?)
            }
            (Some(_), None) => {
                return Err(self.err(
                    "section `.maps` needs BTF to describe its maps, and the object has no `.BTF`: compile with -g"
                        .into(),
                ))
            }
            _ => None,
        };
        for (section, is_btf) in [(btf_section, true), (legacy_section, false)] {
            let Some(idx) = section else { continue };
            let mut syms: Vec<goblin::elf::Sym> = self
                .elf
                .syms
                .iter()
                .filter(|s| s.st_shndx == idx && s.st_type() != sym::STT_SECTION && s.st_name != 0)
                .collect();
            syms.sort_by_key(|s| s.st_value);
            for s in syms {
                let name = self.sym_name(&s).to_string();
                let def = if is_btf {
                    btf.as_ref().expect("BTF parsed above for .maps").map_def(&name)
                } else {
                    self.legacy_map(idx, &name, s.st_value)
                };
                match def {
                    Ok(def) => {
                        self.map_at.insert((idx, s.st_value), self.maps.len());
                        self.maps.push(def);
                    }
                    Err(e) => {
                        self.blocked.insert((idx, s.st_value), (name, e));
                    }
                }
            }
        }
        if let (Some(idx), Some(btf)) = (btf_section, &btf) {
            self.collect_values(idx, btf);
        }
        Ok(())
    }

    /// Reads libbpf's static `.values` of the maps in `.maps` (section `idx`): each relocation
    /// in a map's `values` member puts the map it names in that slot. A prog array initialised
    /// with programs cannot be created here (ebpf-lab loads one program at a time): it is blocked.
    fn collect_values(&mut self, idx: usize, btf: &btf::Btf) {
        let Some(relocs) = self.relocs.get(&idx) else { return };
        let mut starts: Vec<(u64, usize)> =
            self.map_at.iter().filter(|(k, _)| k.0 == idx).map(|(k, &m)| (k.1, m)).collect();
        starts.sort();
        let mut blocked = Vec::new();
        for r in relocs {
            let Some(&(start, map)) = starts.iter().rev().find(|(s, _)| *s <= r.r_offset) else { continue };
            let name = self.maps[map].name.clone();
            let Some(values) = btf.values_offset(&name) else { continue };
            let Some(rel) = r.r_offset.checked_sub(start + u64::from(values)) else { continue };
            let Some(target) = self.elf.syms.get(r.r_sym) else { continue };
            let slot = (rel / 8) as u32;
            if self.is_code(target.st_shndx) {
                blocked.push((
                    start,
                    map,
                    "its `.values` initialise a prog array with programs, which ebpf-lab does not support yet"
                        .to_string(),
                ));
                continue;
            }
            let inner = self.sym_name(&target).to_string();
            self.maps[map].extra.init.push((slot, inner));
        }
        for (start, map, why) in blocked {
            let name = self.maps[map].name.clone();
            self.map_at.remove(&(idx, start));
            self.blocked.insert((idx, start), (name, format!("map `{}`: {why}", self.maps[map].name)));
        }
    }

    /// A `struct bpf_map_def { type, key_size, value_size, max_entries, map_flags }` at `offset`.
    fn legacy_map(&self, idx: usize, name: &str, offset: u64) -> Result<MapDef, String> {
        let data = self.section_data(idx).map_err(|e| e.message)?;
        let field = |i: u64| {
            let at = usize::try_from(offset.checked_add(i * 4)?).ok()?;
            Some(u32::from_le_bytes(data.get(at..at.checked_add(4)?)?.try_into().ok()?))
        };
        let f: Option<Vec<u32>> = (0..5).map(field).collect();
        let f = f.ok_or_else(|| format!("map `{name}`: its `struct bpf_map_def` runs past the section"))?;
        Ok(MapDef {
            name: name.to_string(),
            map_type: btf::map_type_from_id(name, f[0])?,
            key_size: f[1],
            value_size: f[2],
            max_entries: f[3],
            flags: f[4],
            extra: Default::default(),
        })
    }

    /// The func and line records of the code laid out as `placed`, for the kernel; `None` unless
    /// every function has its func record (the kernel refuses partial func info).
    fn program_btf(&self, placed: &[(Func, usize)]) -> Option<ProgramBtf> {
        let mut func_info = Vec::new();
        let mut line_info: Vec<[u32; 4]> = Vec::new();
        let mut lines_whole = true;
        for (f, base) in placed {
            let sec = self.section_name(f.shndx);
            let func = self.funcs.get(sec)?.iter().find(|r| r.insn_off as usize == f.start)?;
            let slot = |off: u32| u32::try_from((base + off as usize - f.start) / 8).ok();
            func_info.push([slot(func.insn_off)?, func.type_id]);
            let records = self.lines.get(sec).map_or(&[][..], |v| &v[..]);
            let mut own: Vec<[u32; 4]> = records
                .iter()
                .filter(|r| (f.start..f.end).contains(&(r.insn_off as usize)))
                .filter_map(|r| Some([slot(r.insn_off)?, r.raw[1], r.raw[2], r.raw[3]]))
                .collect();
            own.sort_by_key(|r| r[0]);
            // One record per instruction (the last wins, as for the C lines above).
            own.reverse();
            own.dedup_by_key(|r| r[0]);
            own.reverse();
            lines_whole &= own.first().is_some_and(|r| Some(r[0]) == slot(func.insn_off));
            line_info.extend(own);
        }
        if !lines_whole {
            line_info.clear();
        }
        let blob = btf_fixup::fix_datasecs(
            self.btf_blob,
            |sec| {
                if sec == ".kconfig" {
                    return Some(self.maps[self.kconfig.as_ref()?.0].value_size);
                }
                let idx = self.section_index(sec)?;
                u32::try_from(self.elf.section_headers[idx].sh_size).ok()
            },
            |sec, var| {
                if sec == ".kconfig" {
                    return self.kconfig.as_ref()?.1.get(var).copied();
                }
                let idx = self.section_index(sec)?;
                let s = self.elf.syms.iter().find(|s| s.st_shndx == idx && self.sym_name(s) == var)?;
                u32::try_from(s.st_value).ok()
            },
        )?;
        let blob = btf_fixup::make_hidden_funcs_static(&blob, |name| {
            self.elf
                .syms
                .iter()
                .any(|s| s.st_type() == sym::STT_FUNC && s.st_other & 3 == sym::STV_HIDDEN && self.sym_name(&s) == name)
        })?;
        Some(ProgramBtf { blob, func_info, line_info })
    }

    /// The C line of each instruction (`slots`: the slot pc of each) of the code laid out as
    /// `placed` (each function with its byte position): a line record covers its instruction and
    /// those after it in the same function, up to the next record.
    fn c_lines(&self, placed: &[(Func, usize)], slots: &[usize]) -> Vec<Option<CLine>> {
        let mut at_slot: HashMap<usize, CLine> = HashMap::new();
        let mut func_start: Vec<usize> = Vec::new();
        for (f, base) in placed {
            func_start.push(base / 8);
            let records = self.lines.get(self.section_name(f.shndx)).map_or(&[][..], |v| &v[..]);
            for r in records.iter().filter(|r| (f.start..f.end).contains(&(r.insn_off as usize))) {
                if r.line == 0 {
                    continue;
                }
                let slot = (base + r.insn_off as usize - f.start) / 8;
                at_slot.insert(slot, CLine { file: r.file.clone(), line: r.line, col: r.col, text: r.text.clone() });
            }
        }
        let mut current: Option<CLine> = None;
        slots
            .iter()
            .take(slots.len().saturating_sub(1))
            .map(|slot| {
                if func_start.contains(slot) {
                    current = None;
                }
                if let Some(c) = at_slot.get(slot) {
                    current = Some(c.clone());
                }
                current.clone()
            })
            .collect()
    }

    /// Lays out `main` and every function it reaches, applies relocations and returns the code,
    /// with the byte positions of instructions poisoned by CO-RE and why, and each laid-out
    /// function with its byte position in the code.
    fn link(&self, main: Func) -> Result<Linked, ElfError> {
        let mut poisoned = Vec::new();
        let mut layout = vec![main];
        let mut placed = Vec::new(); // byte position of each layout entry in `code`
        let mut code = Vec::new();
        let mut pending = Vec::new();
        let mut i = 0;
        while i < layout.len() {
            let f = layout[i].clone();
            let sec = self.section_name(f.shndx);
            let data = self.section_data(f.shndx)?;
            let body = data
                .get(f.start..f.end)
                .filter(|b| b.len().is_multiple_of(8) && f.start.is_multiple_of(8))
                .ok_or_else(|| {
                    self.err(format!(
                        "function `{}` (bytes {}..{} of section `{sec}`) is not whole instructions inside the section",
                        f.name, f.start, f.end
                    ))
                })?;
            let base = code.len();
            placed.push(base);
            code.extend_from_slice(body);
            self.apply_core(&f, &mut code, base, &mut poisoned)?;
            let mut relocated = Vec::new();
            let relocs = self.relocs.get(&f.shndx).map_or(&[][..], |v| &v[..]);
            for r in relocs.iter().filter(|r| (f.start as u64..f.end as u64).contains(&r.r_offset)) {
                let at = r.r_offset as usize - f.start;
                let pos = base + at;
                let s = self.elf.syms.get(r.r_sym).ok_or_else(|| {
                    self.err(format!(
                        "section `{sec}` offset {:#x}: relocation refers to symbol #{}, which does not exist",
                        r.r_offset, r.r_sym
                    ))
                })?;
                let sym_name = self.sym_name(&s);
                let target_sec = self.section_name(s.st_shndx);
                let what = |msg: &str| {
                    self.err(format!(
                        "section `{sec}` offset {:#x} (instruction {} of `{}`): relocation against `{sym_name}` {msg}",
                        r.r_offset,
                        at / 8,
                        f.name
                    ))
                };
                if !at.is_multiple_of(8) {
                    return Err(what("is not at an instruction boundary"));
                }
                let opcode = code[pos];
                let imm = i32::from_le_bytes(code[pos + 4..pos + 8].try_into().expect("4 bytes"));
                match r.r_type {
                    R_BPF_64_64 => {
                        if opcode != OP_LDDW || pos + 16 > code.len() {
                            return Err(what("(R_BPF_64_64) is not on an `lddw`"));
                        }
                        let sym_off = s.st_value.wrapping_add(if s.st_type() == sym::STT_SECTION {
                            imm as u32 as u64
                        } else {
                            0
                        });
                        if let Some(&map) = self.map_at.get(&(s.st_shndx, sym_off)) {
                            code[pos + 1] = (code[pos + 1] & 0x0f) | (isa::ImmSrc::MapIdx.code() << 4);
                            code[pos + 4..pos + 8].copy_from_slice(&(map as i32).to_le_bytes());
                            code[pos + 12..pos + 16].copy_from_slice(&0i32.to_le_bytes());
                        } else if let Some(&map) = self.global_map.get(&s.st_shndx) {
                            // A global variable: the section's map, at the symbol's offset plus
                            // the immediate (the offset itself for a section symbol).
                            let off = s.st_value.wrapping_add(imm as u32 as u64);
                            let off = i32::try_from(off).map_err(|_| what("has an offset past 2 GiB"))?;
                            code[pos + 1] = (code[pos + 1] & 0x0f) | (isa::ImmSrc::MapIdxValue.code() << 4);
                            code[pos + 4..pos + 8].copy_from_slice(&(map as i32).to_le_bytes());
                            code[pos + 12..pos + 16].copy_from_slice(&off.to_le_bytes());
                        } else if self.is_code(s.st_shndx) {
                            // A function's address (a callback for bpf_loop and friends): the
                            // byte offset is the symbol's plus the immediate.
                            let target = symbol_target(s.st_value, i64::from(imm)).map_err(|m| what(&m))?;
                            let (func, offset) = self.place(&mut layout, s.st_shndx, target).map_err(|m| what(&m))?;
                            pending.push(Pending { pos, func, offset, is_addr: true });
                        } else if let Some(off) = self
                            .kconfig
                            .as_ref()
                            .filter(|_| s.st_shndx == 0)
                            .and_then(|(map, offsets)| Some((*map, *offsets.get(sym_name)?)))
                        {
                            // A kconfig extern: its offset in the `.kconfig` map.
                            let (map, off) = off;
                            code[pos + 1] = (code[pos + 1] & 0x0f) | (isa::ImmSrc::MapIdxValue.code() << 4);
                            code[pos + 4..pos + 8].copy_from_slice(&(map as i32).to_le_bytes());
                            code[pos + 12..pos + 16].copy_from_slice(&(off as i32).to_le_bytes());
                        } else if s.st_shndx == 0 {
                            return Err(what(
                                "is an extern that is not a `.kconfig` one (libbpf's `.ksyms` kernel symbols), which ebpf-lab does not support",
                            ));
                        } else if let Some((map, why)) = self.blocked.get(&(s.st_shndx, sym_off)) {
                            return Err(self.err(format!(
                                "program `{}` uses map `{map}`, which ebpf-lab cannot create (programs that do not use it still load): {why}",
                                f.name
                            )));
                        } else if matches!(target_sec, ".maps" | "maps") {
                            return Err(what(&format!("points into `{target_sec}` but not at the start of a map")));
                        } else {
                            return Err(what(&format!("in section `{target_sec}` is not supported")));
                        }
                    }
                    R_BPF_64_32 => {
                        if opcode != OP_CALL || code[pos + 1] >> 4 != PSEUDO_CALL {
                            return Err(what("(R_BPF_64_32) is not on a bpf-to-bpf `call`"));
                        }
                        if !self.is_code(s.st_shndx) {
                            return Err(what(&format!("calls into section `{target_sec}`, which holds no code")));
                        }
                        // As libbpf: the callee's instruction is the symbol's plus imm + 1
                        // (imm = -1 for a call to a global function's symbol).
                        let target = symbol_target(s.st_value, (i64::from(imm) + 1) * 8).map_err(|m| what(&m))?;
                        let (func, offset) = self.place(&mut layout, s.st_shndx, target).map_err(|m| what(&m))?;
                        pending.push(Pending { pos, func, offset, is_addr: false });
                    }
                    t => return Err(what(&format!("has relocation type {t}, which is not supported in code"))),
                }
                relocated.push(pos);
            }
            // Calls inside one section need no relocation: imm is already relative to the call.
            let mut at = 0;
            while at < body.len() {
                let pos = base + at;
                if code[pos] == OP_CALL && code[pos + 1] >> 4 == PSEUDO_CALL && !relocated.contains(&pos) {
                    let imm = i32::from_le_bytes(code[pos + 4..pos + 8].try_into().expect("4 bytes"));
                    let target = (f.start + at) as i64 + (i64::from(imm) + 1) * 8;
                    let (func, offset) = self.place(&mut layout, f.shndx, target).map_err(|m| {
                        self.err(format!("section `{sec}` offset {:#x} (`{}`): call {m}", f.start + at, f.name))
                    })?;
                    pending.push(Pending { pos, func, offset, is_addr: false });
                }
                at += if code[pos] == OP_LDDW { 16 } else { 8 };
            }
            i += 1;
        }
        for p in pending {
            let target = (placed[p.func] + p.offset) / 8;
            let rel = target as i64 - (p.pos / 8) as i64 - 1;
            let rel = i32::try_from(rel).map_err(|_| self.err("the linked program is too large".into()))?;
            if p.is_addr {
                code[p.pos + 1] = (code[p.pos + 1] & 0x0f) | (isa::ImmSrc::Func.code() << 4);
                code[p.pos + 12..p.pos + 16].copy_from_slice(&0i32.to_le_bytes());
            }
            code[p.pos + 4..p.pos + 8].copy_from_slice(&rel.to_le_bytes());
        }
        Ok((code, poisoned, layout.into_iter().zip(placed).collect()))
    }

    /// The layout entry holding byte `target` of code section `shndx` (appending its function if
    /// it is not laid out yet) and the offset of `target` in it.
    fn place(&self, layout: &mut Vec<Func>, shndx: usize, target: i64) -> Result<(usize, usize), String> {
        let sec = self.section_name(shndx);
        let target = usize::try_from(target)
            .ok()
            .filter(|t| t.is_multiple_of(8))
            .ok_or_else(|| format!("targets byte {target} of section `{sec}`, which is not an instruction"))?;
        let inside = |f: &Func| f.shndx == shndx && (f.start..f.end).contains(&target);
        if let Some(i) = layout.iter().position(inside) {
            return Ok((i, target - layout[i].start));
        }
        let f = self
            .functions(shndx)
            .into_iter()
            .find(inside)
            .ok_or_else(|| format!("targets byte {target} of section `{sec}`, which is in no function"))?;
        if !f.start.is_multiple_of(8) {
            return Err(format!("targets function `{}`, which does not start at an instruction", f.name));
        }
        layout.push(f);
        Ok((layout.len() - 1, target - layout[layout.len() - 1].start))
    }
}

/// The byte a relocation aims at: the symbol's value plus `addend`, refused when it does not fit
/// (a crafted symbol value near `u64::MAX` or `i64::MAX` must not wrap into a real offset).
fn symbol_target(value: u64, addend: i64) -> Result<i64, String> {
    i64::try_from(value)
        .ok()
        .and_then(|v| v.checked_add(addend))
        .ok_or_else(|| format!("has a symbol value {value:#x} that is far outside any section"))
}
