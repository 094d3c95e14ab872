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

// The reader itself, on inline files (these run without the suite data).

#[test]
fn reads_every_section_kind() {
    let text =
        "# header comment\n-- asm\nmov %r0, 1 # set\nexit\n-- mem\naa bb\n0x01 ff\n-- result\n-2\n-- c\nint x;\n";
    let case = conformance::parse_case("t", text).unwrap();
    assert_eq!(case.asm.as_deref(), Some("mov %r0, 1 # set\nexit\n"));
    assert_eq!(case.asm_line, 3);
    assert_eq!(case.mem, vec![0xaa, 0xbb, 0x01, 0xff]);
    assert_eq!(case.result, Some(-2i64 as u64));
    assert_eq!(case.error, None);
    assert_eq!(conformance::program(&case).unwrap().insns.len(), 2);
}

#[test]
fn reads_both_raw_layouts_and_prefers_raw_over_asm() {
    let words = "-- asm\nexit\n-- raw\n0x00000001000000b7\n0x0000000000000095\n-- result\n0x1\n";
    let bytes = "-- raw\nb7 00 00 00 01 00 00 00\n95 00 00 00 00 00 00 00\n-- error\nsome failure\n";
    let a = conformance::parse_case("a", words).unwrap();
    let b = conformance::parse_case("b", bytes).unwrap();
    assert_eq!(a.raw, Some(vec![0x00000001000000b7, 0x95]));
    assert_eq!(a.raw, b.raw);
    assert_eq!(b.error.as_deref(), Some("some failure"));
    assert_eq!(b.result, None);
    assert_eq!(conformance::program(&a).unwrap().insns.len(), 2, "raw wins over the one-line asm");
}

#[test]
fn parses_results_in_hex_and_decimal() {
    assert_eq!(conformance::parse_result("0x8977665544332211"), Some(0x8977665544332211));
    assert_eq!(conformance::parse_result("18446744073709551615"), Some(u64::MAX));
    assert_eq!(conformance::parse_result("-1"), Some(u64::MAX));
    assert_eq!(conformance::parse_result("0x1_0"), None);
    assert_eq!(conformance::parse_result("ten"), None);
}

#[test]
fn malformed_files_are_errors_with_line_numbers() {
    let cases = [
        ("-- asm\nexit\n-- Unknown directive\n", "t:3: unknown section `-- Unknown directive`"),
        ("-- asm\nexit\n-- mem\nzz\n-- result\n0\n", "t:4: `zz` is not a hex byte"),
        ("-- asm\nexit\n-- result\n0xg\n", "t:4: bad result `0xg`"),
        ("-- asm\nexit\n-- result\n1\n2\n", "t:5: more than one result value"),
        ("-- raw\n0xzz\n-- result\n1\n", "t:2: `0xzz` is not a 64-bit instruction word"),
        ("# only a header\n", "t: no program"),
        ("-- result\n0x0\n", "t: no program"),
        ("-- asm\nexit\n", "t: no expected outcome"),
    ];
    for (text, want) in cases {
        let err = conformance::parse_case("t", text).unwrap_err();
        assert!(err.starts_with(want), "{text:?}: got `{err}`");
    }
}

#[test]
fn program_reports_assembler_errors_at_file_lines() {
    let case = conformance::parse_case("t", "# c\n-- asm\nmov %r0, 1\nmvo %r0, 2\nexit\n-- result\n1\n").unwrap();
    let err = conformance::program(&case).unwrap_err();
    assert!(err.starts_with("t:4:1: unknown mnemonic `mvo`"), "{err}");
    let empty = conformance::parse_case("e", "-- asm\n# nothing\n-- result\n0\n").unwrap();
    assert_eq!(conformance::program(&empty).unwrap_err(), "e: the program has no instructions");
    let bad_raw = conformance::parse_case("u", "-- raw\n85 01 00 00 00 00 00 00\n-- error\nx\n").unwrap();
    assert!(conformance::program(&bad_raw).unwrap_err().starts_with("u: insn 0:"));
}
