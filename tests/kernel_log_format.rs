//! ebpf-lab prints instructions in traces as the kernel verifier log does. Judge: the kernel's own
//! log. Every instruction line of the level-2 log of every conformance program the kernel accepts
//! must equal ebpf-lab's `(opcode) text` for that instruction.

use ebpf_lab::asm::disasm::FormatCtx;
use ebpf_lab::asm::kernel_log;
use ebpf_lab::conformance;
use ebpf_lab::isa::{self, ImmSrc, Insn};
use ebpf_lab::kernel::{self, KernelProgram, LoadOptions};

#[test]
fn instruction_text_matches_the_kernel_verifier_log() {
    let Some(dir) = conformance::suite_dir() else {
        println!("skipping: conformance data not found at ../shared/conformance");
        return;
    };
    if !kernel::require_or_skip("instruction_text_matches_the_kernel_verifier_log") {
        return;
    }
    let (mut compared, mut mismatches) = (0, Vec::new());
    for case in conformance::load_dir(&dir.join("bpf_conformance")).expect("suite readable") {
        let Ok(program) = conformance::program(&case) else { continue };
        let opts = LoadOptions { mem_len: case.mem.len() as u32, log_level: 2, ..Default::default() };
        let Ok(k) = KernelProgram::load(&program, &opts) else { continue };
        if !k.verdict().accepted() {
            continue;
        }
        let at_slot = isa::insn_at_slot(&program.insns);
        for line in k.verdict().log.lines() {
            // `12: (07) r1 += 8                  ; R1=...`
            let digits = line.bytes().take_while(u8::is_ascii_digit).count();
            let Some(rest) = line.get(digits..).and_then(|r| r.strip_prefix(": (")) else { continue };
            let Ok(pc) = line[..digits].parse::<usize>() else { continue };
            let Some(Some(index)) = at_slot.get(pc) else { continue };
            let insn = &program.insns[*index];
            // Map loads print kernel addresses, which the lab cannot know.
            if matches!(insn, Insn::LoadImm64 { src, .. } if *src != ImmSrc::Imm) {
                continue;
            }
            let kernel_text = format!("({}", rest.split(" ;").next().unwrap_or("").trim_end());
            let opcode = isa::encode_one(insn).0.opcode;
            let ours = format!("({opcode:02x}) {}", kernel_log::format_insn(insn, &FormatCtx::default()));
            compared += 1;
            if ours != kernel_text {
                mismatches.push(format!("{} pc {pc}: kernel `{kernel_text}`, ebpf-lab `{ours}`", case.name));
            }
        }
    }
    println!("verifier-log text: {compared} instruction lines compared");
    assert!(compared > 2000, "too few lines compared: {compared}");
    mismatches.dedup();
    assert!(mismatches.is_empty(), "{} mismatches:\n{}", mismatches.len(), mismatches.join("\n"));
}
