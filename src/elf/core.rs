//! CO-RE ("compile once, run everywhere") relocations, applied as libbpf's
//! `bpf_core_apply_relo_insn` does: clang records in `.BTF.ext` each instruction whose constant
//! depends on a kernel type's layout (a field's offset or size, whether a type or enumerator
//! exists, an enumerator's value), described against the object's own BTF; the loader finds the
//! same field, type or enumerator by name in the running kernel's BTF
//! (`/sys/kernel/btf/vmlinux`) and rewrites the constant.
//!
//! A field, type or enumerator the kernel lacks is never run with the compiler's guess: as libbpf
//! does, its instruction is *poisoned* (replaced by a call of the non-existent helper
//! [`POISON_HELPER`]), so a program that guards the access with `bpf_core_field_exists` (whose
//! `*_EXISTS` relocation resolves to 0) still loads, and one that reaches it fails — in the
//! kernel's verifier, and in the interpreter with the field named. Malformed relocations are
//! errors naming the field.

use super::btf::{Btf, Kind, Member};
use super::btf_ext::{records, word, Part};
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::OnceLock;

/// Where the running kernel describes its own types.
pub const VMLINUX_BTF: &str = "/sys/kernel/btf/vmlinux";

/// `enum bpf_core_relo_kind` (include/uapi/linux/bpf.h).
const FIELD_BYTE_OFFSET: u32 = 0;
const FIELD_BYTE_SIZE: u32 = 1;
const FIELD_EXISTS: u32 = 2;
const FIELD_SIGNED: u32 = 3;
const FIELD_LSHIFT_U64: u32 = 4;
const FIELD_RSHIFT_U64: u32 = 5;
const TYPE_ID_LOCAL: u32 = 6;
const TYPE_ID_TARGET: u32 = 7;
const TYPE_EXISTS: u32 = 8;
const TYPE_SIZE: u32 = 9;
const ENUMVAL_EXISTS: u32 = 10;
const ENUMVAL_VALUE: u32 = 11;

/// The helper id of a poisoned instruction (libbpf's `0xbad2310`, "bad relo").
pub const POISON_HELPER: i32 = 0x0bad_2310;

/// The kind's name as libbpf prints it.
fn kind_name(kind: u32) -> &'static str {
    match kind {
        FIELD_BYTE_OFFSET => "byte_off",
        FIELD_BYTE_SIZE => "byte_sz",
        FIELD_EXISTS => "field_exists",
        FIELD_SIGNED => "signed",
        FIELD_LSHIFT_U64 => "lshift_u64",
        FIELD_RSHIFT_U64 => "rshift_u64",
        TYPE_ID_LOCAL => "local_type_id",
        TYPE_ID_TARGET => "target_type_id",
        TYPE_EXISTS => "type_exists",
        TYPE_SIZE => "type_size",
        ENUMVAL_EXISTS => "enumval_exists",
        ENUMVAL_VALUE => "enumval_value",
        12 => "type_matches",
        _ => "unknown",
    }
}

/// One `struct bpf_core_relo` of `.BTF.ext`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoreRelo {
    /// Byte offset of the instruction in its section.
    pub insn_off: u32,
    /// The root type, in the object's BTF.
    pub type_id: u32,
    /// The access string (`"0:1:2"`: index into the root, then member or array indices).
    pub access: String,
    /// `enum bpf_core_relo_kind`.
    pub kind: u32,
}

/// The CO-RE relocations of `.BTF.ext` by section name; `btf` is the object's `.BTF`, whose
/// strings name the sections and hold the access strings.
pub fn parse_btf_ext(ext: &[u8], btf: &Btf) -> Result<HashMap<String, Vec<CoreRelo>>, String> {
    // core_relo_off/len are at 24/28 of the header.
    let part = Part { header_field: 24, min_record: 16, what: "CO-RE relocation" };
    let mut out: HashMap<String, Vec<CoreRelo>> = HashMap::new();
    for (section, r) in records(ext, btf, &part)? {
        out.entry(section).or_default().push(CoreRelo {
            insn_off: word(r, 0)?,
            type_id: word(r, 4)?,
            access: btf.str_at(word(r, 8)?).to_string(),
            kind: word(r, 12)?,
        });
    }
    Ok(out)
}

/// The running kernel's BTF, read once.
pub fn vmlinux_btf() -> Result<&'static Btf, String> {
    static BTF: OnceLock<Result<Btf, String>> = OnceLock::new();
    BTF.get_or_init(|| {
        let bytes = std::fs::read(VMLINUX_BTF).map_err(|e| format!("cannot read {VMLINUX_BTF}: {e}"))?;
        Btf::parse(&bytes).map_err(|e| format!("{VMLINUX_BTF}: {e}"))
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// A type's name without a `___flavor` suffix (`task_struct___old` is `task_struct`).
fn essential(name: &str) -> &str {
    name.find("___").map_or(name, |i| &name[..i])
}

/// One step of a field access, by name where the local member has one.
#[derive(Clone, Debug)]
enum Step {
    Member(String),
    Index(u32),
}

/// Where a field access ends: its bit offset from the root, type, and bitfield width.
#[derive(Clone, Copy, Debug)]
struct FieldPos {
    bit_off: u64,
    ty: u32,
    bitfield: u32,
}

/// The result of a resolved relocation: the value the compiler assumed and the target's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The value computed against the object's own BTF (what the instruction holds).
    pub local: u64,
    /// The value for the running kernel.
    pub target: u64,
    /// For `FIELD_BYTE_OFFSET`: the field's byte size locally and in the kernel, so a load of
    /// the field can be resized as libbpf does.
    pub sizes: Option<(u32, u32)>,
}

/// What a relocation comes to in the running kernel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// The kernel has the field, type or enumerator: the instruction gets its value.
    Found(Resolved),
    /// It does not (the message names it): the instruction is poisoned, as libbpf does, so
    /// code behind a `bpf_core_field_exists` check still loads and code that reaches it fails.
    Missing(String),
}

/// Resolves relocation `r` of the object's BTF `local` against the kernel's `target`.
pub fn resolve(r: &CoreRelo, local: &Btf, target: &Btf) -> Result<Resolution, String> {
    let root = local.skip_aliases(r.type_id)?;
    // Candidates are found by the name the relocation gives: a typedef's own (`typedef struct
    // {...} foo_t` matches the kernel's `foo_t`), else the type's behind its qualifiers.
    let named = if local.name_of(r.type_id).is_empty() { root } else { r.type_id };
    let root_name = local.name_of(named).to_string();
    let root_code = local.get(named).map_or(0, |t| t.code);
    let access: Vec<u32> = r
        .access
        .split(':')
        .map(|a| a.parse::<u32>().map_err(|_| format!("CO-RE access string `{}` is malformed", r.access)))
        .collect::<Result<_, _>>()?;
    if root_name.is_empty() && r.kind != TYPE_ID_LOCAL {
        return Err(format!("CO-RE {} relocation on an anonymous type (#{root})", kind_name(r.kind)));
    }
    let candidates = |codes: &[u32]| -> Vec<u32> {
        (1..target.type_count())
            .filter(|&id| {
                target.get(id).is_some_and(|t| codes.contains(&t.code))
                    && essential(target.name_of(id)) == essential(&root_name)
            })
            .collect()
    };
    let kind = r.kind;
    match kind {
        FIELD_BYTE_OFFSET..=FIELD_RSHIFT_U64 => {
            let (steps, described) = local_steps(local, root, &root_name, &access)?;
            let local_pos = walk(local, root, &access, None)?;
            let local_v = field_value(local, kind, local_pos)?;
            // A struct matches a struct, a union a union.
            let mut found: Option<(u64, Option<u32>)> = None;
            for cand in candidates(&[root_code]) {
                let Ok(pos) = walk(target, cand, &access, Some(&steps)) else { continue };
                if !compatible(local, local_pos.ty, target, pos.ty) {
                    continue;
                }
                let v = field_value(target, kind, pos)?;
                match found {
                    Some((old, _)) if old != v => {
                        return Err(format!(
                            "CO-RE relocation of {described}: the kernel has several types `{root_name}` that disagree ({old} vs {v})"
                        ))
                    }
                    _ => found = Some((v, field_size(target, pos).ok())),
                }
            }
            let (target_v, target_size) = match (found, kind) {
                (Some(f), _) => f,
                (None, FIELD_EXISTS) => (0, None),
                (None, _) => {
                    return Ok(Resolution::Missing(format!(
                        "CO-RE relocation ({}) of {described}: the running kernel has no such field ({VMLINUX_BTF})",
                        kind_name(kind)
                    )))
                }
            };
            let sizes = match (kind, target_size) {
                (FIELD_BYTE_OFFSET, Some(t)) => Some((field_size(local, local_pos)?, t)),
                _ => None,
            };
            Ok(Resolution::Found(Resolved { local: local_v, target: target_v, sizes }))
        }
        TYPE_ID_LOCAL => {
            Ok(Resolution::Found(Resolved { local: u64::from(r.type_id), target: u64::from(r.type_id), sizes: None }))
        }
        TYPE_ID_TARGET | TYPE_EXISTS | TYPE_SIZE => {
            let local_v = match kind {
                TYPE_ID_TARGET => u64::from(r.type_id),
                TYPE_EXISTS => 1,
                _ => u64::from(local.size_of(root)?),
            };
            let cand = candidates(&[root_code]).into_iter().next();
            let target_v = match (cand, kind) {
                (Some(id), TYPE_ID_TARGET) => u64::from(id),
                (Some(_), TYPE_EXISTS) => 1,
                (Some(id), _) => u64::from(target.size_of(id)?),
                (None, TYPE_EXISTS) => 0,
                (None, _) => {
                    return Ok(Resolution::Missing(format!(
                    "CO-RE relocation ({}) of type `{root_name}`: the running kernel has no such type ({VMLINUX_BTF})",
                    kind_name(kind)
                )))
                }
            };
            Ok(Resolution::Found(Resolved { local: local_v, target: target_v, sizes: None }))
        }
        ENUMVAL_EXISTS | ENUMVAL_VALUE => {
            let Some(Kind::Enum(values)) = local.get(root).map(|t| &t.kind) else {
                return Err(format!("CO-RE enum relocation on `{root_name}`, which is not an enum"));
            };
            let idx = *access.first().unwrap_or(&0) as usize;
            let &(name_off, local_value) = values
                .get(idx)
                .ok_or_else(|| format!("CO-RE enum relocation: `{root_name}` has no enumerator #{idx}"))?;
            let name = local.str_at(name_off);
            let mut target_value = None;
            for cand in candidates(&[6, 19]) {
                if let Some(Kind::Enum(tv)) = target.get(cand).map(|t| &t.kind) {
                    if let Some(&(_, v)) = tv.iter().find(|(n, _)| essential(target.str_at(*n)) == essential(name)) {
                        target_value = Some(v);
                        break;
                    }
                }
            }
            let local_v = if kind == ENUMVAL_EXISTS { 1 } else { local_value as u64 };
            let target_v = match (target_value, kind) {
                (Some(_), ENUMVAL_EXISTS) => 1,
                (Some(v), _) => v as u64,
                (None, ENUMVAL_EXISTS) => 0,
                (None, _) => {
                    return Ok(Resolution::Missing(format!(
                        "CO-RE relocation (enumval_value) of `enum {root_name}::{name}`: the running kernel has no such enumerator ({VMLINUX_BTF})"
                    )))
                }
            };
            Ok(Resolution::Found(Resolved { local: local_v, target: target_v, sizes: None }))
        }
        k => Err(format!("CO-RE relocation kind {k} ({}) on `{root_name}` is not supported by ebpf-lab", kind_name(k))),
    }
}

/// The named steps of a local access path, and the field it describes in C notation
/// (`struct iphdr.daddr`, `struct s.arr[2]`).
fn local_steps(btf: &Btf, root: u32, root_name: &str, access: &[u32]) -> Result<(Vec<Step>, String), String> {
    let code = btf.get(root).map_or(0, |t| t.code);
    let keyword = match code {
        5 => "union ",
        4 if btf.name_of(root) == root_name => "struct ",
        _ => "",
    };
    let mut described = format!("`{keyword}{root_name}");
    let mut steps = Vec::new();
    let mut id = root;
    for &i in access.iter().skip(1) {
        id = btf.skip_aliases(id)?;
        match &btf.get(id).map(|t| t.kind.clone()) {
            Some(Kind::Struct(members)) => {
                let m = members
                    .get(i as usize)
                    .ok_or_else(|| format!("CO-RE access into a member #{i} that is not there"))?;
                let name = btf.str_at(m.name_off);
                if !name.is_empty() {
                    let _ = write!(described, ".{name}");
                    steps.push(Step::Member(name.to_string()));
                }
                id = m.ty;
            }
            Some(Kind::Array { elem, .. }) => {
                let _ = write!(described, "[{i}]");
                steps.push(Step::Index(i));
                id = *elem;
            }
            _ => {
                return Err(format!(
                    "CO-RE access {described}`: step {i} goes into a type that is neither struct nor array"
                ))
            }
        }
    }
    described.push('`');
    Ok((steps, described))
}

/// Follows an access path from `root`: by member index (`steps` `None`, the local side) or by the
/// local member names (the target side, looking into anonymous members as libbpf does).
fn walk(btf: &Btf, root: u32, access: &[u32], steps: Option<&[Step]>) -> Result<FieldPos, String> {
    let root = btf.skip_aliases(root)?;
    let first = u64::from(*access.first().unwrap_or(&0));
    let bits_of = |n: u64, size: u32| n.saturating_mul(u64::from(size)).saturating_mul(8);
    let mut pos = FieldPos { bit_off: bits_of(first, btf.size_of(root).unwrap_or(0)), ty: root, bitfield: 0 };
    match steps {
        None => {
            for &i in access.iter().skip(1) {
                let id = btf.skip_aliases(pos.ty)?;
                match btf.get(id).map(|t| &t.kind) {
                    Some(Kind::Struct(members)) => {
                        let m = members.get(i as usize).ok_or("member index out of range")?;
                        pos = step_member(pos, m);
                    }
                    Some(Kind::Array { elem, .. }) => {
                        pos.bit_off = pos.bit_off.saturating_add(bits_of(u64::from(i), btf.size_of(*elem)?));
                        pos.ty = *elem;
                    }
                    _ => return Err("not a struct or array".into()),
                }
            }
        }
        Some(steps) => {
            for step in steps {
                let id = btf.skip_aliases(pos.ty)?;
                match (step, btf.get(id).map(|t| &t.kind)) {
                    (Step::Member(name), Some(Kind::Struct(_))) => {
                        let (off, m) = find_member(btf, id, name, 0).ok_or("no such member")?;
                        pos.bit_off = pos.bit_off.saturating_add(off);
                        pos = step_member(pos, &m);
                    }
                    (Step::Index(i), Some(Kind::Array { elem, nelems })) => {
                        // A zero-length (flexible) array takes any index.
                        if *nelems != 0 && i >= nelems {
                            return Err("index out of the array".into());
                        }
                        pos.bit_off = pos.bit_off.saturating_add(bits_of(u64::from(*i), btf.size_of(*elem)?));
                        pos.ty = *elem;
                    }
                    _ => return Err("shape differs".into()),
                }
            }
        }
    }
    Ok(pos)
}

fn step_member(pos: FieldPos, m: &Member) -> FieldPos {
    FieldPos { bit_off: pos.bit_off.saturating_add(u64::from(m.bit_offset)), ty: m.ty, bitfield: m.bitfield_size }
}

/// Member `name` of struct/union `id`, also inside anonymous members, with the bit offset of the
/// anonymous members passed on the way.
fn find_member(btf: &Btf, id: u32, name: &str, depth: usize) -> Option<(u64, Member)> {
    let Kind::Struct(members) = &btf.get(btf.skip_aliases(id).ok()?)?.kind else { return None };
    for m in members {
        let n = btf.str_at(m.name_off);
        if n == name {
            return Some((0, *m));
        }
        if n.is_empty() && depth < 32 {
            if let Some((off, found)) = find_member(btf, m.ty, name, depth + 1) {
                return Some((off + u64::from(m.bit_offset), found));
            }
        }
    }
    None
}

/// Whether a local field type and a target field type are alike enough to relocate between
/// (libbpf's `bpf_core_fields_are_compat`, loosely: the same sort of thing, composites by name).
fn compatible(local: &Btf, l: u32, target: &Btf, t: u32) -> bool {
    compatible_depth(local, l, target, t, 0)
}

fn compatible_depth(local: &Btf, l: u32, target: &Btf, t: u32, depth: usize) -> bool {
    if depth > 32 {
        return false; // an array-of-array cycle in a malformed BTF
    }
    let (Ok(l), Ok(t)) = (local.skip_aliases(l), target.skip_aliases(t)) else { return false };
    let (Some(lt), Some(tt)) = (local.get(l), target.get(t)) else { return false };
    match (&lt.kind, &tt.kind) {
        (Kind::Int(_) | Kind::Enum(_), Kind::Int(_) | Kind::Enum(_)) => true,
        (Kind::Scalar, Kind::Scalar) | (Kind::Ptr, Kind::Ptr) => true,
        (Kind::Array { elem: le, .. }, Kind::Array { elem: te, .. }) => {
            compatible_depth(local, *le, target, *te, depth + 1)
        }
        (Kind::Struct(_), Kind::Struct(_)) => {
            lt.code == tt.code && essential(local.str_at(lt.name_off)) == essential(target.str_at(tt.name_off))
        }
        _ => false,
    }
}

/// The byte size of the field at `pos` (of its storage unit, for a bitfield).
fn field_size(btf: &Btf, pos: FieldPos) -> Result<u32, String> {
    Ok(bitfield_load(btf, pos)?.1)
}

/// For a field at `pos`: (byte offset, byte size, bit size) of the load that reads it, as libbpf
/// computes them (bitfields read through the smallest aligned unit that holds them).
fn bitfield_load(btf: &Btf, pos: FieldPos) -> Result<(u64, u32, u64), String> {
    let size = btf.size_of(pos.ty)?;
    if pos.bitfield == 0 {
        return Ok((pos.bit_off / 8, size, u64::from(size) * 8));
    }
    let bits = u64::from(pos.bitfield);
    let mut sz = u64::from(size.max(1));
    let mut off = pos.bit_off / 8 / sz * sz;
    while pos.bit_off.saturating_add(bits) - off * 8 > sz * 8 {
        if sz >= 8 {
            return Err("a bitfield wider than 8 bytes".into());
        }
        sz *= 2;
        off = pos.bit_off / 8 / sz * sz;
    }
    Ok((off, sz as u32, bits))
}

/// The value of field relocation `kind` for the field at `pos`.
fn field_value(btf: &Btf, kind: u32, pos: FieldPos) -> Result<u64, String> {
    let (off, size, bits) = bitfield_load(btf, pos)?;
    // Shifts that bring the field to the top of a u64 and back down: only for fields of up to
    // 8 bytes.
    let shift = |used: u64| 64u64.checked_sub(used).ok_or_else(|| format!("a {size}-byte field has no u64 shifts"));
    Ok(match kind {
        FIELD_BYTE_OFFSET => off,
        FIELD_BYTE_SIZE => u64::from(size),
        FIELD_EXISTS => 1,
        FIELD_SIGNED => {
            let t = btf.get(btf.skip_aliases(pos.ty)?);
            u64::from(match t.map(|t| (&t.kind, t.kflag)) {
                Some((Kind::Int(enc), _)) => enc & (1 << 24) != 0,
                Some((Kind::Enum(_), kflag)) => kflag,
                _ => false,
            })
        }
        FIELD_LSHIFT_U64 => shift(pos.bit_off.saturating_add(bits).saturating_sub(off.saturating_mul(8)))?,
        _ => shift(bits)?,
    })
}

/// Rewrites the instruction at `code[pos..]` for a resolved relocation, checking first that it
/// holds the value the compiler computed (as libbpf does, so a misread relocation cannot
/// silently change the wrong constant).
pub fn patch(code: &mut [u8], pos: usize, r: &CoreRelo, res: Resolved) -> Result<(), String> {
    let insn = code.get(pos..pos + 8).ok_or("the instruction lies outside the code")?;
    let opcode = insn[0];
    let off = i16::from_le_bytes([insn[2], insn[3]]);
    let imm = i32::from_le_bytes([insn[4], insn[5], insn[6], insn[7]]);
    let unexpected = |had: i64| {
        format!(
            "CO-RE relocation ({}) expects the instruction to hold {}, and it holds {had}",
            kind_name(r.kind),
            res.local
        )
    };
    match opcode & 7 {
        // ALU, ALU64: the constant is the immediate.
        4 | 7 => {
            if opcode & 0x08 != 0 {
                return Err("CO-RE relocation on an ALU instruction with a register source".into());
            }
            if imm as u32 as u64 != res.local & 0xffff_ffff {
                return Err(unexpected(i64::from(imm)));
            }
            // A negative enumerator is a sign-extended 32-bit immediate.
            let v = u32::try_from(res.target)
                .ok()
                .or_else(|| i32::try_from(res.target as i64).ok().map(|v| v as u32))
                .ok_or_else(|| format!("CO-RE value {} does not fit 32 bits", res.target))?;
            code[pos + 4..pos + 8].copy_from_slice(&v.to_le_bytes());
        }
        // LDX, ST, STX: the field offset is the instruction's offset.
        1..=3 => {
            if r.kind != FIELD_BYTE_OFFSET {
                return Err(format!("CO-RE relocation ({}) on a memory access", kind_name(r.kind)));
            }
            if i64::from(off) != res.local as i64 {
                return Err(unexpected(i64::from(off)));
            }
            let v =
                i16::try_from(res.target).map_err(|_| format!("CO-RE offset {} does not fit 16 bits", res.target))?;
            code[pos + 2..pos + 4].copy_from_slice(&v.to_le_bytes());
            // A field of another size in the kernel: load or store that many bytes instead.
            if let Some((l, t)) = res.sizes {
                let size_code = |n: u32| match n {
                    1 => Some(0x10u8),
                    2 => Some(0x08),
                    4 => Some(0x00),
                    8 => Some(0x18),
                    _ => None,
                };
                if l != t && size_code(l) == Some(opcode & 0x18) {
                    let new = size_code(t).ok_or_else(|| format!("the kernel's field is {t} bytes, not loadable"))?;
                    code[pos] = (opcode & !0x18) | new;
                }
            }
        }
        // LD (lddw): a 64-bit immediate.
        0 if opcode == 0x18 && code.len() >= pos + 16 => {
            let had = u64::from(imm as u32)
                | u64::from(u32::from_le_bytes(code[pos + 12..pos + 16].try_into().expect("4"))) << 32;
            if had != res.local {
                return Err(unexpected(had as i64));
            }
            code[pos + 4..pos + 8].copy_from_slice(&(res.target as u32).to_le_bytes());
            code[pos + 12..pos + 16].copy_from_slice(&((res.target >> 32) as u32).to_le_bytes());
        }
        _ => return Err(format!("CO-RE relocation on an instruction (opcode {opcode:#04x}) that holds no constant")),
    }
    Ok(())
}

/// Poisons the instruction at `code[pos..]` (both halves of an `lddw`): `call 0xbad2310`.
pub fn poison(code: &mut [u8], pos: usize) {
    let slots = if code.get(pos) == Some(&0x18) { 2 } else { 1 };
    for at in (pos..pos + 8 * slots).step_by(8) {
        if let Some(insn) = code.get_mut(at..at + 8) {
            insn[..4].copy_from_slice(&[0x85, 0, 0, 0]);
            insn[4..8].copy_from_slice(&POISON_HELPER.to_le_bytes());
        }
    }
}
