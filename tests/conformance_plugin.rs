//! The conformance plugin in the reference runner's three modes: plain bytecode, `--elf` (an
//! ELF object as the runner writes it) and `--xdp_prolog` (the runner's XDP prolog before the
//! program, the memory as the packet). Every case of the suite gets the same answer in all three.

use ebpf_lab::conformance::{self, ConformanceCase};
use ebpf_lab::conformance_plugin::{parse_args, run, xdp_prolog, Request};

/// A section header: (name, type, flags, offset, size, link, info, align, entsize).
type SectionHeader = (u32, u32, u64, u64, u64, u32, u32, u64, u64);

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}  ")).collect()
}

/// A relocatable BPF ELF object with `code` in section `section` and a global function `main`
/// over all of it: the layout of the runner's writer (`.symtab` names in the section-name table).
fn elf_object(section: &str, code: &[u8]) -> Vec<u8> {
    let mut names = b"\0.shstrtab\0.symtab\0main\0".to_vec();
    let section_name = names.len() as u32;
    names.extend_from_slice(section.as_bytes());
    names.push(0);
    let (shstrtab_name, symtab_name, main_name) = (1u32, 11u32, 19u32);
    let mut symtab = vec![0u8; 24];
    symtab.extend_from_slice(&main_name.to_le_bytes());
    symtab.push(0x12); // STB_GLOBAL, STT_FUNC
    symtab.push(0);
    symtab.extend_from_slice(&3u16.to_le_bytes());
    symtab.extend_from_slice(&0u64.to_le_bytes());
    symtab.extend_from_slice(&(code.len() as u64).to_le_bytes());
    let mut out = vec![0u8; 64];
    let place = |data: &[u8], out: &mut Vec<u8>| {
        while !out.len().is_multiple_of(8) {
            out.push(0);
        }
        let at = out.len() as u64;
        out.extend_from_slice(data);
        at
    };
    let names_at = place(&names, &mut out);
    let symtab_at = place(&symtab, &mut out);
    let code_at = place(code, &mut out);
    while !out.len().is_multiple_of(8) {
        out.push(0);
    }
    let shoff = out.len() as u64;
    let headers: [SectionHeader; 4] = [
        (0, 0, 0, 0, 0, 0, 0, 0, 0),
        (shstrtab_name, 3, 0, names_at, names.len() as u64, 0, 0, 1, 0),
        (symtab_name, 2, 0, symtab_at, symtab.len() as u64, 1, 1, 8, 24),
        (section_name, 1, 6, code_at, code.len() as u64, 0, 0, 8, 0),
    ];
    for (name, ty, flags, offset, size, link, info, align, entsize) in headers {
        out.extend_from_slice(&name.to_le_bytes());
        out.extend_from_slice(&ty.to_le_bytes());
        out.extend_from_slice(&flags.to_le_bytes());
        out.extend_from_slice(&0u64.to_le_bytes());
        out.extend_from_slice(&offset.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&link.to_le_bytes());
        out.extend_from_slice(&info.to_le_bytes());
        out.extend_from_slice(&align.to_le_bytes());
        out.extend_from_slice(&entsize.to_le_bytes());
    }
    out[..16].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    out[16..18].copy_from_slice(&1u16.to_le_bytes()); // ET_REL
    out[18..20].copy_from_slice(&247u16.to_le_bytes()); // EM_BPF
    out[20..24].copy_from_slice(&1u32.to_le_bytes());
    out[40..48].copy_from_slice(&shoff.to_le_bytes());
    out[52..54].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
    out[58..60].copy_from_slice(&64u16.to_le_bytes()); // e_shentsize
    out[60..62].copy_from_slice(&4u16.to_le_bytes()); // e_shnum
    out[62..64].copy_from_slice(&1u16.to_le_bytes()); // e_shstrndx
    out
}

/// The answer of the plugin in one mode, as the runner would see it.
fn answer(case: &ConformanceCase, code: &[u8], elf: bool, xdp: bool) -> Result<u64, String> {
    let mut args = Vec::new();
    if !case.mem.is_empty() {
        args.push(hex(&case.mem));
    }
    if elf {
        args.push("--elf".to_string());
    }
    let req: Request = parse_args(&args)?;
    // The runner adds the prolog only when there is memory.
    let with_prolog = xdp && !case.mem.is_empty();
    let mut program = if with_prolog { xdp_prolog(case.mem.len() as u32) } else { Vec::new() };
    program.extend_from_slice(code);
    let stdin = if elf { hex(&elf_object(if xdp { "xdp" } else { ".text" }, &program)) } else { hex(&program) };
    run(&req, &stdin)
}

#[test]
fn every_case_answers_the_same_in_every_mode() {
    let Some(dir) = conformance::suite_dir() else {
        eprintln!("skipping: no conformance suite beside the project [every_case_answers_the_same_in_every_mode]");
        return;
    };
    let cases = conformance::load_dir(&dir.join("bpf_conformance")).unwrap();
    let mut with_mem = 0;
    for case in &cases {
        let Ok(program) = conformance::program(case) else { continue };
        let code = program.to_bytes();
        let plain = answer(case, &code, false, false);
        if let Some(want) = case.result {
            if plain.as_ref().ok() != Some(&want) && case.error.is_none() {
                continue; // Not this test's business: the interpreter's conformance is tested elsewhere.
            }
        }
        with_mem += usize::from(!case.mem.is_empty());
        for (elf, xdp) in [(true, false), (false, true), (true, true)] {
            let got = answer(case, &code, elf, xdp);
            assert_eq!(got.is_ok(), plain.is_ok(), "{} (elf {elf}, xdp {xdp}): {got:?} vs {plain:?}", case.name);
            match (&got, &plain) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{} (elf {elf}, xdp {xdp})", case.name),
                // The prolog shifts instruction numbers in messages; without it they are the same.
                (Err(a), Err(b)) if !xdp => assert_eq!(a, b, "{} (elf {elf})", case.name),
                _ => {}
            }
        }
    }
    assert!(with_mem > 30, "only {with_mem} cases with memory: the xdp mode is barely tested");
}

#[test]
fn options_are_understood_or_refused() {
    assert!(parse_args(&["--elf".into()]).unwrap().elf);
    assert!(parse_args(&["--xdp_prolog".into()]).unwrap().xdp_prolog);
    assert!(parse_args(&["--frobnicate".into()]).unwrap_err().contains("unknown option `--frobnicate`"));
    let req = parse_args(&["--elf".into()]).unwrap();
    let e = run(&req, "b7 00 00 00 2a 00 00 00 95 00 00 00 00 00 00 00").unwrap_err();
    assert!(e.contains("not an ELF object"), "{e}");
    // --xdp_prolog on a program without the prolog is refused, not run with a wrong context.
    let req = parse_args(&["01 02".into(), "--xdp_prolog".into()]).unwrap();
    assert!(run(&req, "b7 00 00 00 2a 00 00 00 95 00 00 00 00 00 00 00").unwrap_err().contains("XDP prolog"));
}
