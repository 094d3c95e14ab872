//! Reading the kernel verifier's log: which instruction it stopped at and why, so a rejection
//! can be shown as a caret on the guilty source line.

/// The slot index of the last instruction the log shows being checked (`N: (op) insn`), which
/// for a rejection is the instruction the verifier refused. Checks made before any instruction
/// is walked name it in the message instead (`jump out of range from insn 1 to 102`,
/// `unreachable insn 4`, `back-edge from insn 3 to 1`).
pub fn guilty_pc(log: &str) -> Option<usize> {
    let walked = log.lines().rev().find_map(|line| {
        let digits = line.bytes().take_while(u8::is_ascii_digit).count();
        let rest = line.get(digits..)?;
        if digits > 0 && rest.starts_with(": (") {
            line[..digits].parse().ok()
        } else {
            None
        }
    });
    walked.or_else(|| {
        let why = reason(log)?;
        let at = why.find("insn ")? + "insn ".len();
        let digits = why[at..].bytes().take_while(u8::is_ascii_digit).count();
        why[at..at + digits].parse().ok()
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

/// What to do about a rejection, chosen from the verifier's words (the errno says little: the
/// kernel returns `EACCES` or `EINVAL` for most of them).
pub fn hint(reason: &str) -> Option<&'static str> {
    // (what the message contains, the fix), most specific first.
    const HINTS: &[(&str, &str)] = &[
        ("R0 !read_ok", "r0 is the return value: set it (e.g. `r0 = 0`) on every path before `exit`"),
        ("!read_ok", "a register is read before anything was written to it: set it first (only r1 and r10 are set at entry)"),
        ("map_value_or_null", "bpf_map_lookup_elem returns NULL when the key is missing: test `if r0 == 0 goto ...` before using the pointer"),
        ("_or_null", "this pointer may be NULL: compare it with 0 and use it only on the non-NULL branch"),
        ("invalid mem access 'scalar'", "this register holds a number, not a pointer: only pointers the verifier knows (ctx, stack, map values, packet) can be dereferenced"),
        ("div by zero", "dividing by the constant 0 is refused at load time (a register divisor that is 0 at run time gives 0, and x % 0 gives x)"),
        ("infinite loop detected", "this loop can run forever: make the loop variable move toward the exit condition on every iteration"),
        ("back-edge", "loops need privileges (CAP_BPF) or must be unrolled"),
        ("recursive call", "bpf-to-bpf calls may not recurse: turn the recursion into a bounded loop"),
        ("frames is too deep", "at most 8 frames may be live: the main program plus 7 nested bpf-to-bpf calls"),
        ("combined stack size", "all live frames together may use at most 512 bytes of stack: use less stack in the nested functions, or a map value"),
        ("jump out of range", "the jump target lies outside the program or its function: check the offset or the label"),
        ("call to invalid destination", "the call target lies outside the program: check the offset or the label"),
        ("unreachable insn", "no path reaches this instruction: remove it, or jump to it"),
        ("last insn is not an exit or jmp", "a function must end with `exit` (or an unconditional jump)"),
        ("invalid access to packet", "compare `data + N` against `data_end` before reading N bytes of the packet"),
        ("outside of the allowed memory range", "bound the offset first (compare it with the size) so the verifier knows every access stays inside"),
        ("invalid access to map value", "the access lies outside the map value: check the offset and size against value_size"),
        ("invalid access to memory", "the access lies outside the buffer: check the offset and size against its length"),
        ("invalid indirect read from stack", "the helper reads stack bytes that were never written: initialise them first"),
        ("invalid read from stack", "read only stack bytes that were written before"),
        ("invalid write to stack", "stack accesses go from r10 - 512 to r10 - 1"),
        ("invalid stack off", "stack accesses go from r10 - 512 to r10 - 1"),
        ("frame pointer is read only", "r10 is the read-only frame pointer: copy it (`r2 = r10`) and change the copy"),
        ("invalid bpf_context access", "this context field cannot be accessed with this size or offset, or not at all for this program type"),
        ("cannot write into", "this memory is read-only for the program"),
        ("unknown opcode", "not an instruction this kernel knows: check the opcode byte"),
        ("invalid func", "this helper does not exist or is not available to this program type"),
        ("unknown func", "this helper does not exist or is not available to this program type"),
        ("Unreleased reference", "a reference taken by a helper (ringbuf reserve, socket lookup) must be released on every path before `exit`"),
        ("expected=", "a helper argument has the wrong type: the message says what the helper expects"),
        ("pointer arithmetic", "this pointer arithmetic is not allowed: only adding bounded scalars to pointers is"),
        ("math between", "this pointer arithmetic is not allowed: only adding bounded scalars to pointers is"),
        ("too large", "the verifier explored too many paths: simplify the program or bound its loops more tightly"),
        ("complexity", "the verifier explored too many paths: simplify the program or bound its loops more tightly"),
    ];
    HINTS.iter().find(|(key, _)| reason.contains(key)).map(|(_, fix)| *fix)
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
    fn hints_follow_the_message_not_the_errno() {
        assert!(hint("R0 !read_ok").unwrap().contains("set it"));
        assert!(hint("R3 !read_ok").unwrap().contains("only r1 and r10"));
        assert!(hint("R0 invalid mem access 'map_value_or_null'").unwrap().contains("if r0 == 0"));
        assert!(hint("div by zero").unwrap().contains("constant 0"));
        assert!(hint("infinite loop detected at insn 1").unwrap().contains("forever"));
        assert!(hint("recursive call from insn 4 to 2").unwrap().contains("recurse"));
        assert_eq!(hint("something new"), None);
    }

    #[test]
    fn a_log_without_instructions_has_no_pc() {
        assert_eq!(guilty_pc("unknown opcode 8f\nprocessed 0 insns\n"), None);
        assert_eq!(guilty_pc("jump out of range from insn 1 to 102\nprocessed 0 insns\n"), Some(1));
        assert_eq!(reason("unknown opcode 8f\nprocessed 0 insns\n").as_deref(), Some("unknown opcode 8f"));
        assert_eq!(reason(""), None);
    }
}
