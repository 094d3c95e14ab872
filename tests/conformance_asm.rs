//! The conformance suite through the uBPF assembler: every positive program assembles (and
//! matches its `-- raw` bytecode where it has one), every `invalid_*` negative is rejected with a
//! clear message, and every `unused-*` bytecode is rejected by the decoder.

use ebpf_lab::asm::{self, Syntax};
use ebpf_lab::conformance::{self, ConformanceCase};
use ebpf_lab::isa;
use std::path::PathBuf;

fn dir(sub: &str) -> Option<PathBuf> {
    match conformance::suite_dir() {
        Some(d) => Some(d.join(sub)),
        None => {
            println!("skipped: conformance data not found at ../shared/conformance");
            None
        }
    }
}

#[test]
fn every_positive_program_assembles_and_matches_its_raw_bytes() {
    let Some(dir) = dir("bpf_conformance") else { return };
    let cases = conformance::load_dir(&dir).unwrap();
    assert_eq!(cases.len(), 313, "the suite snapshot has 313 positive programs");
    let mut failures = Vec::new();
    let mut raw_checked = 0;
    for case in &cases {
        let asm = case.asm.as_deref().expect("every positive test has an asm section");
        match asm::assemble(&case.name, asm, Some(Syntax::Ubpf)) {
            Ok(p) => {
                if let Some(words) = &case.raw {
                    let want: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
                    if p.to_bytes() != want {
                        failures.push(format!("{}: bytes differ from `-- raw`", case.name));
                    }
                    raw_checked += 1;
                }
                assert!(conformance::program(case).is_ok(), "{}: program() fails", case.name);
            }
            Err(errors) => failures.push(format!("{}: {}", case.name, errors[0].message)),
        }
    }
    println!("conformance asm: {} programs assembled, {raw_checked} raw encodings compared", cases.len());
    assert!(raw_checked >= 1, "the suite has at least one `-- raw` program (lddw)");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn syntax_detection_picks_ubpf_for_every_conformance_program() {
    let Some(dir) = dir("bpf_conformance") else { return };
    let cases = conformance::load_dir(&dir).unwrap();
    let wrong: Vec<&str> = cases
        .iter()
        .filter(|c| asm::detect_syntax(c.asm.as_deref().unwrap_or("")) != Syntax::Ubpf)
        .map(|c| c.name.as_str())
        .collect();
    assert!(wrong.is_empty(), "detected as LLVM: {wrong:?}");
}

fn read_negative(name: &str) -> Option<String> {
    let path = dir("bpf_conformance_negative")?.join(name);
    Some(std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// Each `invalid_*` file with a fragment of the message it must be rejected with.
const INVALID: [(&str, &str); 11] = [
    ("invalid_imm32_dec_range.data", "immediate `2147483648` does not fit in 32 bits"),
    ("invalid_imm32_hex_range.data", "immediate `0x100000000` does not fit in 32 bits"),
    ("invalid_label.data", "unknown label `NOT_A_LABEL`"),
    ("invalid_lock.data", "invalid number of operands for lock"),
    ("invalid_lock2.data", "invalid number of operands for lock"),
    ("invalid_mnemonic.data", "unknown mnemonic `ldxq`"),
    ("invalid_offset.data", "expected a memory operand like `[%r1+8]`, found `%r1`"),
    ("invalid_offset_range.data", "offset `+0x10000` does not fit in 16 bits"),
    ("invalid_operand_count.data", "`lddw` takes 2 operands, found 1"),
    ("invalid_register.data", "invalid register `%r50`"),
    ("invalid_unknown_directive.data", "unknown section `-- Unknown directive`"),
];

#[test]
fn every_invalid_negative_is_rejected_with_its_message() {
    let Some(neg) = dir("bpf_conformance_negative") else { return };
    // The table must cover every invalid_* file of the snapshot.
    let mut on_disk: Vec<String> = std::fs::read_dir(&neg)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("invalid_") && n.ends_with(".data"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = INVALID.iter().map(|(f, _)| f.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed);

    for (file, want) in INVALID {
        let text = read_negative(file).unwrap();
        let name = file.trim_end_matches(".data");
        let err = match conformance::parse_case(name, &text) {
            Err(e) => e,
            Ok(case) => match conformance::program(&case) {
                Err(e) => e,
                Ok(p) => panic!("{file}: accepted as {:?}", p.insns),
            },
        };
        assert!(err.contains(want), "{file}: got `{err}`, want `{want}`");
        assert!(err.starts_with(name), "{file}: message names the test: `{err}`");
    }
    println!("conformance negatives: {} invalid_* files rejected", INVALID.len());
}

#[test]
fn invalid_negatives_point_at_the_bad_token() {
    // Spans within the asm text: the error underlines exactly the offending token.
    let cases = [
        ("mov32 %r0, 2147483648\n", "2147483648"),
        ("mov32 %r0, 0x100000000\n", "0x100000000"),
        ("ldxq %r0, %r1\n", "ldxq"),
        ("ldxb %r0, %r1\n", "%r1"),
        ("ldxb %r0, [%r1+0x10000]\n", "+0x10000"),
        ("or %r0, %r50\n", "%r50"),
        ("ja NOT_A_LABEL\nexit\n", "NOT_A_LABEL"),
    ];
    for (src, token) in cases {
        let errors = asm::assemble("t", src, Some(Syntax::Ubpf)).unwrap_err();
        assert_eq!(&src[errors[0].span.clone()], token, "{src:?}");
    }
}

#[test]
fn every_unused_field_bytecode_is_rejected_by_the_decoder() {
    let Some(neg) = dir("bpf_conformance_negative") else { return };
    let mut names: Vec<String> = std::fs::read_dir(&neg)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("unused-") && n.ends_with(".data"))
        .collect();
    names.sort();
    assert!(names.len() >= 40, "expected the unused-* family, found {}", names.len());
    let mut accepted = Vec::new();
    for file in &names {
        let text = std::fs::read_to_string(neg.join(file)).unwrap();
        let case: ConformanceCase = conformance::parse_case(file, &text).unwrap();
        let words = case.raw.as_ref().unwrap_or_else(|| panic!("{file}: no raw section"));
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        match isa::decode(&bytes) {
            Err(e) => assert_eq!(e.pc, 0, "{file}: the bad field is in the first instruction ({e})"),
            Ok(insns) => accepted.push(format!("{file}: {insns:?}")),
        }
        assert!(conformance::program(&case).is_err(), "{file}");
    }
    println!("conformance negatives: {} unused-* encodings rejected", names.len());
    assert!(accepted.is_empty(), "decoder accepted:\n{}", accepted.join("\n"));
}
