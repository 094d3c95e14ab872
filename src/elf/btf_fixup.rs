//! What libbpf fixes in an object's `.BTF` before `BPF_BTF_LOAD`: clang leaves each `DATASEC`'s
//! size and its variables' offsets 0 in a `.o` (they are known only once linked), and the kernel
//! refuses a `DATASEC` of size 0. The size is the ELF section's, each offset its symbol's
//! (`.kconfig`: the size and offsets ebpf-lab laid its externs out at).

/// `BTF_KIND_DATASEC`.
const KIND_DATASEC: u32 = 15;

/// Bytes following the 12-byte common header of a type of `kind` with `vlen` members, or `None`
/// for a kind this reader does not know.
fn extra(kind: u32, vlen: usize) -> Option<usize> {
    Some(match kind {
        2 | 7..=12 | 16 | 18 => 0,
        1 | 14 | 17 => 4,
        3 => 12,
        4 | 5 | 15 | 19 => 12 * vlen,
        6 | 13 => 8 * vlen,
        _ => return None,
    })
}

/// `blob` with every `DATASEC` of size 0 given `section_size(name)` and each of its variables
/// `var_offset(section, variable)`; `None` when the BTF cannot be walked or a section or
/// variable is not in the object (the kernel would refuse it: the program loads without BTF).
pub fn fix_datasecs(
    blob: &[u8],
    section_size: impl Fn(&str) -> Option<u32>,
    var_offset: impl Fn(&str, &str) -> Option<u32>,
) -> Option<Vec<u8>> {
    let word = |b: &[u8], at: usize| Some(u32::from_le_bytes(b.get(at..at.checked_add(4)?)?.try_into().ok()?));
    let hdr_len = word(blob, 4)? as usize;
    let (type_off, type_len) = (word(blob, 8)? as usize, word(blob, 12)? as usize);
    let str_off = word(blob, 16)? as usize;
    let types = hdr_len.checked_add(type_off)?;
    let strings = hdr_len.checked_add(str_off)?;
    let name = |off: u32| -> Option<String> {
        let rest = blob.get(strings.checked_add(off as usize)?..)?;
        let end = rest.iter().position(|&b| b == 0)?;
        Some(String::from_utf8_lossy(&rest[..end]).into_owned())
    };
    // First pass: where each type starts (ids from 1), so a DATASEC can name its variables.
    let mut starts = vec![0usize];
    let mut at = types;
    while at < types.checked_add(type_len)? {
        starts.push(at);
        let info = word(blob, at + 4)?;
        at += 12 + extra((info >> 24) & 0x1f, (info & 0xffff) as usize)?;
    }
    let mut out = blob.to_vec();
    for &t in &starts[1..] {
        let info = word(blob, t + 4)?;
        if (info >> 24) & 0x1f != KIND_DATASEC || word(blob, t + 8)? != 0 {
            continue;
        }
        let sec = name(word(blob, t)?)?;
        out[t + 8..t + 12].copy_from_slice(&section_size(&sec)?.to_le_bytes());
        for i in 0..(info & 0xffff) as usize {
            let m = t + 12 + 12 * i;
            // The member's offset field must lie in the blob (a truncated BTF ends here).
            word(blob, m + 4)?;
            let var = *starts.get(word(blob, m)? as usize)?;
            let offset = var_offset(&sec, &name(word(blob, var)?)?)?;
            out[m + 4..m + 8].copy_from_slice(&offset.to_le_bytes());
            // An extern VAR (linkage 2, a `.kconfig` one) is allocated once laid out: the kernel
            // accepts static (0) and allocated global (1) linkage only.
            if word(blob, var + 12)? == 2 {
                out[var + 12..var + 16].copy_from_slice(&1u32.to_le_bytes());
            }
        }
    }
    Some(out)
}

/// `BTF_KIND_FUNC`, and its linkage in `vlen`: static (verified in its caller's context) or global
/// (verified alone, from its BTF arguments).
const KIND_FUNC: u32 = 12;
const FUNC_STATIC: u32 = 0;
const FUNC_GLOBAL: u32 = 1;

/// `blob` with every global `FUNC` that `hidden(name)` says has hidden visibility made static, as
/// libbpf does: a `__hidden` function (libbpf's `usdt.bpf.h` helpers) is internal to the object,
/// and the kernel verifies it with its caller's argument types. `None` when the BTF cannot be
/// walked.
pub fn make_hidden_funcs_static(blob: &[u8], hidden: impl Fn(&str) -> bool) -> Option<Vec<u8>> {
    let word = |b: &[u8], at: usize| Some(u32::from_le_bytes(b.get(at..at.checked_add(4)?)?.try_into().ok()?));
    let hdr_len = word(blob, 4)? as usize;
    let (type_off, type_len) = (word(blob, 8)? as usize, word(blob, 12)? as usize);
    let strings = hdr_len.checked_add(word(blob, 16)? as usize)?;
    let types = hdr_len.checked_add(type_off)?;
    let mut out = blob.to_vec();
    let mut at = types;
    while at < types.checked_add(type_len)? {
        let info = word(blob, at + 4)?;
        let kind = (info >> 24) & 0x1f;
        if kind == KIND_FUNC && info & 0xffff == FUNC_GLOBAL {
            let rest = blob.get(strings.checked_add(word(blob, at)? as usize)?..)?;
            let name = String::from_utf8_lossy(&rest[..rest.iter().position(|&b| b == 0)?]);
            if hidden(&name) {
                out[at + 4..at + 8].copy_from_slice(&((info & !0xffff) | FUNC_STATIC).to_le_bytes());
            }
        }
        at += 12 + extra(kind, (info & 0xffff) as usize)?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A BTF blob of `types` (words) and `strings`.
    fn btf_of(types: &[u32], strings: &[u8]) -> Vec<u8> {
        let mut out = vec![0x9f, 0xeb, 1, 0];
        for w in [24, 0, types.len() as u32 * 4, types.len() as u32 * 4, strings.len() as u32] {
            out.extend_from_slice(&w.to_le_bytes());
        }
        types.iter().for_each(|w| out.extend_from_slice(&w.to_le_bytes()));
        out.extend_from_slice(strings);
        out
    }

    /// `int`, `VAR x: int`, and `DATASEC .data { x }` as clang leaves it: size and offset 0.
    fn object_btf() -> Vec<u8> {
        btf_of(&[1, 1 << 24, 4, 32, 5, 14 << 24, 1, 1, 7, (15 << 24) | 1, 0, 2, 0, 4], b"\0int\0x\0.data\0")
    }

    /// `int`, `int ()`, and global `FUNC`s `f` and `g` of that prototype.
    fn funcs_btf() -> Vec<u8> {
        btf_of(&[1, 1 << 24, 4, 32, 0, 13 << 24, 1, 5, (12 << 24) | 1, 2, 7, (12 << 24) | 1, 2], b"\0int\0f\0g\0")
    }

    #[test]
    fn hidden_global_funcs_become_static_and_others_stay_global() {
        let blob = funcs_btf();
        let fixed = make_hidden_funcs_static(&blob, |name| name == "f").unwrap();
        let linkage = |at: usize| u32::from_le_bytes(fixed[at..at + 4].try_into().unwrap()) & 0xffff;
        // FUNC f's info is at 24 + 16 + 12 + 4, FUNC g's 12 bytes later.
        assert_eq!((linkage(56), linkage(68)), (FUNC_STATIC, FUNC_GLOBAL));
        assert_eq!(&fixed[..56], &blob[..56]);
        for len in 0..blob.len() - 8 {
            let _ = make_hidden_funcs_static(&blob[..len], |_| true);
        }
    }

    #[test]
    fn datasec_gets_its_section_size_and_variable_offsets() {
        let blob = object_btf();
        let fixed =
            fix_datasecs(&blob, |s| (s == ".data").then_some(16), |s, v| (s == ".data" && v == "x").then_some(8))
                .unwrap();
        let word = |at: usize| u32::from_le_bytes(fixed[at..at + 4].try_into().unwrap());
        // The DATASEC is the third type: 24-byte header, then 16 + 16 bytes of types before it.
        assert_eq!((word(24 + 32 + 8), word(24 + 32 + 16)), (16, 8));
        // A section or variable the object lacks: no BTF rather than a wrong one.
        assert_eq!(fix_datasecs(&blob, |_| None, |_, _| Some(0)), None);
        assert_eq!(fix_datasecs(&blob, |_| Some(16), |_, _| None), None);
        for len in 0..blob.len() - 14 {
            let _ = fix_datasecs(&blob[..len], |_| Some(16), |_, _| Some(8));
        }
    }
}
