//! Reading the kernel verifier's log: which instruction it stopped at and why, so a rejection
//! can be shown as a caret on the guilty source line.

/// The slot index of the last instruction the log shows being checked (`N: (op) insn`), which
/// for a rejection is the instruction the verifier refused.
pub fn guilty_pc(log: &str) -> Option<usize> {
    log.lines().rev().find_map(|line| {
        let digits = line.bytes().take_while(u8::is_ascii_digit).count();
        let rest = line.get(digits..)?;
        if digits > 0 && rest.starts_with(": (") {
            line[..digits].parse().ok()
        } else {
            None
        }
    })
}

/// The verifier's own words for a rejection: the lines after the last checked instruction,
/// without the closing statistics (`processed N insns ...`).
pub fn reason(log: &str) -> Option<String> {
    let lines: Vec<&str> = log.lines().collect();
    let last_insn = lines.iter().rposition(|l| {
        let d = l.bytes().take_while(u8::is_ascii_digit).count();
        d > 0 && l[d..].starts_with(": (")
    });
    let tail = match last_insn {
        Some(i) => &lines[i + 1..],
        None => &lines[..],
    };
    let words: Vec<&str> = tail
        .iter()
        .copied()
        .filter(|l| !l.starts_with("processed ") && !l.trim().is_empty() && !l.starts_with("verification time"))
        .filter(|l| !l.starts_with("stack depth"))
        .collect();
    (!words.is_empty()).then(|| words.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "0: R1=ctx() R10=fp0\n0: (b7) r0 = 1                        ; R0=1\n1: (07) r3 += 1\nR3 !read_ok\nprocessed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n";

    #[test]
    fn finds_the_refused_instruction_and_the_reason() {
        assert_eq!(guilty_pc(LOG), Some(1));
        assert_eq!(reason(LOG).as_deref(), Some("R3 !read_ok"));
    }

    #[test]
    fn a_log_without_instructions_has_no_pc() {
        assert_eq!(guilty_pc("unknown opcode 8f\nprocessed 0 insns\n"), None);
        assert_eq!(reason("unknown opcode 8f\nprocessed 0 insns\n").as_deref(), Some("unknown opcode 8f"));
        assert_eq!(reason(""), None);
    }
}
