//! `ebpf-lab verify`: exit codes, the diagnostic on the guilty line, `--json`, the log.

use std::process::Command;

fn verify(args: &[&str], text: &str) -> (i32, String, String) {
    let dir = std::env::temp_dir().join(format!("ebpf_lab_verify_cli_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("p{}.s", text.len()));
    std::fs::write(&file, text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ebpf-lab"))
        .arg("verify")
        .arg(&file)
        .args(args)
        .args(["--color", "never"])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const NO_NULL_CHECK: &str = ".prog xdp
.map m hash key=4 value=8 max=4
    *(u32 *)(r10 - 4) = 0
    r2 = r10
    r2 += -4
    r1 = map(m) ll
    call bpf_map_lookup_elem
    r1 = *(u64 *)(r0 + 0)
    r0 = 2
    exit
";

#[test]
fn a_rejection_is_one_diagnostic_on_the_guilty_line_with_words_and_a_hint() {
    let (code, _, err) = verify(&[], NO_NULL_CHECK);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(":8:5: error: the verifier rejects the program: R0 invalid mem access 'map_value_or_null'"),
        "{err}"
    );
    assert!(err.contains("r0: map value or NULL — not yet checked"), "{err}");
    assert!(err.contains("if r0 == 0 goto out"), "{err}");
}

#[test]
fn json_gives_verdict_message_instruction_and_line() {
    let (code, out, _) = verify(&["--json"], NO_NULL_CHECK);
    assert_eq!(code, 1);
    assert!(out.starts_with("{\"verdict\":\"rejected\""), "{out}");
    assert!(out.contains("\"insn\":6,\"line\":8"), "{out}");
    let (code, out, _) = verify(&["--json"], ".prog xdp\n r0 = 2\n exit\n");
    assert_eq!(code, 0);
    assert!(out.contains("\"verdict\":\"accepted\""), "{out}");
    assert!(out.contains("\"processed\":2"), "{out}");
}

#[test]
fn an_accepted_program_shows_the_kernels_stats_line_and_a_log_on_request() {
    let (code, out, _) = verify(&[], ".prog xdp\n r0 = 2\n exit\n");
    assert_eq!(code, 0);
    assert!(out.contains("accepted (xdp program)"), "{out}");
    assert!(out.contains("processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0"), "{out}");
    let (code, out, _) = verify(&["--log-level", "2"], ".prog xdp\n r0 = 2\n exit\n");
    assert_eq!(code, 0);
    assert!(out.contains("0: (b7) r0 = 2"), "{out}");
    assert!(out.contains("; R0=2"), "{out}");
}

#[test]
fn reading_unwritten_stack_is_accepted_with_a_warning() {
    let (code, _, err) = verify(&["--mem", "00"], "r0 = *(u64 *)(r10 - 8)\nexit\n");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("warning: reads 8 stack byte(s) at fp-8 never written"), "{err}");
}

#[test]
fn bad_input_is_exit_2() {
    let (code, _, err) = verify(&[], "r0 = \n");
    assert_eq!(code, 2, "{err}");
}
