//! The layout `.BTF.ext` shares between its parts (func info, line info, CO-RE relocations): a
//! header naming each part's offset and length, and in each part a record size followed by, per
//! ELF section, the section's name, a count, and that many records.

use super::btf::Btf;

/// A part of `.BTF.ext`: where the header holds its offset (its length follows), its smallest
/// valid record, and its name for errors.
pub struct Part {
    /// Byte offset in the header of the part's `*_off` field.
    pub header_field: usize,
    /// Size of the records this reader understands (larger ones are newer and read as a prefix).
    pub min_record: usize,
    /// What the part holds, for messages (`line`, `CO-RE`).
    pub what: &'static str,
}

/// Little-endian `u32` at `at` of `bytes`.
pub fn word(bytes: &[u8], at: usize) -> Result<u32, String> {
    bytes
        .get(at..at.saturating_add(4))
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| format!("`.BTF.ext` is truncated at byte {at}"))
}

/// The records of `part`, each with its section's name (from `btf`'s strings) and its bytes
/// (at least `part.min_record` long); none when the header is too old to have the part.
pub fn records<'a>(ext: &'a [u8], btf: &Btf, part: &Part) -> Result<Vec<(String, &'a [u8])>, String> {
    if ext.get(0..2) != Some(&[0x9f, 0xeb]) {
        return Err("`.BTF.ext` does not start with the little-endian BTF magic 0xeb9f".into());
    }
    let hdr_len = word(ext, 4)? as usize;
    let mut out = Vec::new();
    if hdr_len < part.header_field + 8 {
        return Ok(out);
    }
    let (off, len) = (word(ext, part.header_field)? as usize, word(ext, part.header_field + 4)? as usize);
    if len == 0 {
        return Ok(out);
    }
    let start = hdr_len.saturating_add(off);
    let end = start.saturating_add(len);
    if end > ext.len() {
        return Err(format!("`.BTF.ext` {} part lies outside the section", part.what));
    }
    let rec_size = word(ext, start)? as usize;
    if rec_size < part.min_record {
        return Err(format!("`.BTF.ext` {} records of {rec_size} bytes are too small", part.what));
    }
    let mut at = start + 4;
    while at < end {
        let section = btf.str_at(word(ext, at)?).to_string();
        let n = word(ext, at + 4)? as usize;
        at += 8;
        for _ in 0..n {
            if at + rec_size > end {
                return Err(format!("`.BTF.ext` {} records run past their part", part.what));
            }
            out.push((section.clone(), &ext[at..at + rec_size]));
            at += rec_size;
        }
    }
    Ok(out)
}
