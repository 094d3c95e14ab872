//! A reader of BTF, the BPF Type Format (`.BTF` section, or the kernel's own in
//! `/sys/kernel/btf/vmlinux`; layout in the kernel's `include/uapi/linux/btf.h`): enough to
//! recover the maps that libbpf-style C declares in the `.maps` section, the global variables of
//! `.data`/`.bss`/`.rodata`, and the member offsets and enumerators CO-RE relocations need.
//!
//! A BTF-defined map is a variable whose type is an anonymous struct. Its values are not stored in
//! the object's data but encoded in the *types* of the struct's members:
//! - `__uint(max_entries, 256)` is `int (*max_entries)[256]`: a pointer to an array whose length
//!   is the value;
//! - `__type(key, __u32)` is `__u32 *key`: a pointer to the key type, whose size is the key size.

use crate::program::{MapDef, MapType};

/// `BTF_MAGIC` as it reads in a little-endian file.
const MAGIC: u16 = 0xeb9f;

/// Bound on type chains (typedef of const of ...): real chains are short, and a malformed file
/// may contain a cycle.
const MAX_CHAIN: usize = 32;

/// What a BTF type is, with the kind-specific data this reader needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `BTF_KIND_FLOAT`: a scalar with a byte size.
    Scalar,
    /// `BTF_KIND_INT` with its encoding word (bit 24 set: signed; see `BTF_INT_ENCODING`).
    Int(u32),
    /// `BTF_KIND_ENUM` or `ENUM64` with its enumerators as (name offset, value).
    Enum(Vec<(u32, i64)>),
    /// `BTF_KIND_PTR` to a type.
    Ptr,
    /// `BTF_KIND_ARRAY` of `nelems` elements of type `elem`.
    Array {
        /// Element type id.
        elem: u32,
        /// Number of elements.
        nelems: u32,
    },
    /// `BTF_KIND_STRUCT` or `UNION` with its members.
    Struct(Vec<Member>),
    /// `BTF_KIND_TYPEDEF`, `VOLATILE`, `CONST`, `RESTRICT`, `TYPE_TAG`: an alias of another type.
    Alias,
    /// `BTF_KIND_VAR`: a global variable of another type.
    Var,
    /// `BTF_KIND_DATASEC`: the variables of one ELF section as (type id of the VAR, offset, size).
    Datasec(Vec<(u32, u32, u32)>),
    /// Kinds that have no size and play no part in map definitions (`FWD`, `FUNC`,
    /// `FUNC_PROTO`, `DECL_TAG`).
    Other(u32),
}

/// A member of a struct or union.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Member {
    /// Offset of the name in the string section (0: an anonymous struct or union member).
    pub name_off: u32,
    /// Its type id.
    pub ty: u32,
    /// Offset from the start of the struct, in bits.
    pub bit_offset: u32,
    /// Width of a bitfield in bits (0: not a bitfield).
    pub bitfield_size: u32,
}

/// One BTF type: its name, its kind, and the shared `size`/`type` field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Type {
    /// The `BTF_KIND_*` number (4 struct, 5 union, 6 enum, ...): CO-RE matches types of the same
    /// kind only.
    pub code: u32,
    /// The `kind_flag` bit of `info` (bitfield member offsets; a signed enum).
    pub kflag: bool,
    /// Offset of the name in the string section (0: anonymous).
    pub name_off: u32,
    /// The kind and its data.
    pub kind: Kind,
    /// `size` for sized kinds, the referenced type id for `PTR`, aliases and `VAR`.
    pub size_or_type: u32,
    /// The `vlen` of `info`: how many members, enumerators or parameters; a `FUNC`'s linkage
    /// (0 static, 1 global, 2 extern).
    pub vlen: u32,
}

/// A parsed `.BTF` section.
#[derive(Clone, Debug, Default)]
pub struct Btf {
    /// Types by id minus one (id 0 is `void` and is not stored).
    types: Vec<Type>,
    strings: Vec<u8>,
}

/// Reads little-endian u32s out of a byte slice, failing at the end instead of panicking.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn u32(&mut self) -> Result<u32, String> {
        let end = self.at.checked_add(4).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| format!("BTF type section is truncated at byte {}", self.at))?;
        let v = u32::from_le_bytes(self.bytes[self.at..end].try_into().expect("4 bytes"));
        self.at = end;
        Ok(v)
    }
}

fn le_u32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

impl Btf {
    /// Parses a `.BTF` section (header, type section, string section).
    pub fn parse(bytes: &[u8]) -> Result<Btf, String> {
        let magic = bytes.get(0..2).map(|b| u16::from_le_bytes([b[0], b[1]]));
        if magic != Some(MAGIC) {
            return Err("`.BTF` does not start with the little-endian BTF magic 0xeb9f".into());
        }
        let field = |at| le_u32(bytes, at).ok_or_else(|| "`.BTF` header is truncated".to_string());
        let hdr_len = field(4)? as usize;
        let (type_off, type_len, str_off, str_len) = (field(8)?, field(12)?, field(16)?, field(20)?);
        // Offsets count from the end of the header.
        let part = |off: u32, len: u32, what: &str| {
            let start = hdr_len.checked_add(off as usize);
            let end = start.and_then(|s| s.checked_add(len as usize));
            match (start, end) {
                (Some(s), Some(e)) if e <= bytes.len() => Ok(&bytes[s..e]),
                _ => Err(format!("`.BTF` {what} section ({len} bytes at {off}) lies outside the section")),
            }
        };
        let type_bytes = part(type_off, type_len, "type")?;
        let strings = part(str_off, str_len, "string")?.to_vec();
        let mut r = Reader { bytes: type_bytes, at: 0 };
        let mut types = Vec::new();
        while r.at < type_bytes.len() {
            let name_off = r.u32()?;
            let info = r.u32()?;
            let size_or_type = r.u32()?;
            let vlen = info & 0xffff;
            let kind_code = (info >> 24) & 0x1f;
            let kind = match kind_code {
                1 => Kind::Int(r.u32()?),
                2 => Kind::Ptr,
                3 => {
                    let elem = r.u32()?;
                    r.u32()?; // index type
                    Kind::Array { elem, nelems: r.u32()? }
                }
                4 | 5 => {
                    let kflag = info & (1 << 31) != 0;
                    let mut members = Vec::new();
                    for _ in 0..vlen {
                        let (name_off, ty, off) = (r.u32()?, r.u32()?, r.u32()?);
                        // With kind_flag, the top 8 bits are the bitfield's width.
                        let (bit_offset, bitfield_size) = if kflag { (off & 0xff_ffff, off >> 24) } else { (off, 0) };
                        members.push(Member { name_off, ty, bit_offset, bitfield_size });
                    }
                    Kind::Struct(members)
                }
                6 => {
                    let mut values = Vec::new();
                    for _ in 0..vlen {
                        let name = r.u32()?;
                        let v = r.u32()?;
                        // Signed (kind_flag) enumerators sign-extend; unsigned ones do not.
                        let v = if info & (1 << 31) != 0 { i64::from(v as i32) } else { i64::from(v) };
                        values.push((name, v));
                    }
                    Kind::Enum(values)
                }
                7 | 12 => Kind::Other(kind_code),
                8..=11 | 18 => Kind::Alias,
                13 => {
                    for _ in 0..vlen {
                        r.u32()?;
                        r.u32()?;
                    }
                    Kind::Other(kind_code)
                }
                14 => {
                    r.u32()?; // linkage
                    Kind::Var
                }
                15 => {
                    let mut vars = Vec::new();
                    for _ in 0..vlen {
                        vars.push((r.u32()?, r.u32()?, r.u32()?));
                    }
                    Kind::Datasec(vars)
                }
                16 => Kind::Scalar,
                17 => {
                    r.u32()?; // component index
                    Kind::Other(kind_code)
                }
                19 => {
                    let mut values = Vec::new();
                    for _ in 0..vlen {
                        let name = r.u32()?;
                        let (lo, hi) = (r.u32()?, r.u32()?);
                        values.push((name, (u64::from(hi) << 32 | u64::from(lo)) as i64));
                    }
                    Kind::Enum(values)
                }
                k => return Err(format!("BTF type #{} has unknown kind {k}", types.len() + 1)),
            };
            types.push(Type { code: kind_code, kflag: info & (1 << 31) != 0, name_off, kind, size_or_type, vlen });
        }
        Ok(Btf { types, strings })
    }

    /// The number of type ids (the largest id plus one, counting `void`).
    pub fn type_count(&self) -> u32 {
        self.types.len() as u32 + 1
    }

    /// The name of type `id` (empty for anonymous types and `void`).
    pub fn name_of(&self, id: u32) -> &str {
        self.get(id).map_or("", |t| self.str_at(t.name_off))
    }

    /// The type with id `id` (`None` for `void` and ids past the end).
    pub fn get(&self, id: u32) -> Option<&Type> {
        (id as usize).checked_sub(1).and_then(|i| self.types.get(i))
    }

    fn ty(&self, id: u32) -> Result<&Type, String> {
        self.get(id).ok_or_else(|| format!("BTF refers to type #{id}, which does not exist"))
    }

    /// The string at `off` in the string section (empty when out of range or not UTF-8).
    pub fn str_at(&self, off: u32) -> &str {
        let rest = self.strings.get(off as usize..).unwrap_or(&[]);
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        std::str::from_utf8(&rest[..end]).unwrap_or("")
    }

    /// Follows aliases (typedef, const, volatile, ...) to the underlying type id.
    pub fn skip_aliases(&self, mut id: u32) -> Result<u32, String> {
        for _ in 0..MAX_CHAIN {
            let t = self.ty(id)?;
            if t.kind != Kind::Alias {
                return Ok(id);
            }
            id = t.size_or_type;
        }
        Err(format!("BTF type #{id}: alias chain too long (a cycle?)"))
    }

    /// The size in bytes of type `id` (`sizeof` in C).
    pub fn size_of(&self, id: u32) -> Result<u32, String> {
        self.size_of_depth(id, 0)
    }

    fn size_of_depth(&self, id: u32, depth: usize) -> Result<u32, String> {
        if depth > MAX_CHAIN {
            return Err(format!("BTF type #{id}: type chain too long (a cycle?)"));
        }
        let id = self.skip_aliases(id)?;
        let t = self.ty(id)?;
        match t.kind {
            Kind::Scalar | Kind::Int(_) | Kind::Enum(_) | Kind::Struct(_) | Kind::Datasec(_) => Ok(t.size_or_type),
            Kind::Ptr => Ok(8),
            Kind::Array { elem, nelems } => self
                .size_of_depth(elem, depth + 1)?
                .checked_mul(nelems)
                .ok_or_else(|| format!("BTF type #{id}: array size overflows")),
            _ => Err(format!("BTF type #{id} (`{}`) has no size", self.str_at(t.name_off))),
        }
    }

    /// The VAR of DATASEC `section` called `name`: its type id.
    pub fn datasec_var(&self, section: &str, name: &str) -> Option<u32> {
        self.types.iter().find_map(|t| match &t.kind {
            Kind::Datasec(vars) if self.str_at(t.name_off) == section => vars.iter().find_map(|&(var, _, _)| {
                let v = self.get(var)?;
                (v.kind == Kind::Var && self.str_at(v.name_off) == name).then_some(v.size_or_type)
            }),
            _ => None,
        })
    }

    /// The value of an `__uint(field, N)` member: `int (*field)[N]`.
    fn uint_field(&self, member_type: u32) -> Result<u32, String> {
        let ptr = self.ty(self.skip_aliases(member_type)?)?;
        if ptr.kind != Kind::Ptr {
            return Err("is not an `__uint(...)` (a pointer to an array)".into());
        }
        match self.ty(self.skip_aliases(ptr.size_or_type)?)?.kind {
            Kind::Array { nelems, .. } => Ok(nelems),
            _ => Err("is not an `__uint(...)` (a pointer to an array)".into()),
        }
    }

    /// The size of the type in an `__type(field, T)` member: `T *field`.
    fn type_field(&self, member_type: u32) -> Result<u32, String> {
        let ptr = self.ty(self.skip_aliases(member_type)?)?;
        if ptr.kind != Kind::Ptr {
            return Err("is not a `__type(...)` (a pointer to the type)".into());
        }
        self.size_of(ptr.size_or_type)
    }

    /// The C spelling of type `id` for map dumps (`struct flow`, `__u32`, `__u8[16]`).
    pub fn c_type_name(&self, id: u32) -> String {
        let Some(t) = self.get(id) else { return "void".into() };
        let name = self.str_at(t.name_off);
        match (&t.kind, t.code) {
            (Kind::Array { elem, nelems }, _) => format!("{}[{nelems}]", self.c_type_name(*elem)),
            (_, 4) => format!("struct {name}"),
            (_, 5) => format!("union {name}"),
            (_, 6 | 19) => format!("enum {name}"),
            (Kind::Alias, _) if name.is_empty() => self.c_type_name(t.size_or_type),
            _ => name.to_string(),
        }
    }

    /// The type a `__type(field, T)` member names: `T *field`, so the pointee.
    fn pointee(&self, member_type: u32) -> Result<u32, String> {
        let ptr = self.ty(self.skip_aliases(member_type)?)?;
        if ptr.kind != Kind::Ptr {
            return Err("is not a `__type(...)` (a pointer to the type)".into());
        }
        Ok(ptr.size_or_type)
    }

    /// The map defined by the variable `name` of the `.maps` section.
    pub fn map_def(&self, name: &str) -> Result<MapDef, String> {
        let var_type = self
            .datasec_var(".maps", name)
            .ok_or_else(|| format!("map `{name}`: no BTF description in DATASEC `.maps`"))?;
        self.map_def_of(name, var_type, 0)
    }

    /// The byte offset of member `values` in the definition of map `name` (where libbpf finds
    /// `.values` initialisers), if it has one.
    pub fn values_offset(&self, name: &str) -> Option<u32> {
        let id = self.skip_aliases(self.datasec_var(".maps", name)?).ok()?;
        let Kind::Struct(members) = &self.get(id)?.kind else { return None };
        members.iter().find(|m| self.str_at(m.name_off) == "values").map(|m| m.bit_offset / 8)
    }

    /// The map described by struct type `var_type` (`depth` 1 for an inner map's definition).
    fn map_def_of(&self, name: &str, var_type: u32, depth: u32) -> Result<MapDef, String> {
        let struct_id = self.skip_aliases(var_type)?;
        let Kind::Struct(members) = &self.ty(struct_id)?.kind else {
            return Err(format!("map `{name}`: its BTF type is not a struct"));
        };
        let (mut map_type, mut max_entries, mut flags) = (None, None, 0);
        let (mut key_size, mut value_size) = (None::<u32>, None::<u32>);
        let mut extra = crate::program::MapExtra::default();
        let set = |slot: &mut Option<u32>, field: &str, v: u32| match *slot {
            Some(old) if old != v => Err(format!("map `{name}`: `{field}` says {v} but an earlier field says {old}")),
            _ => {
                *slot = Some(v);
                Ok(())
            }
        };
        for &Member { name_off, ty, .. } in members {
            let field = self.str_at(name_off);
            let bad = |e: String| format!("map `{name}`: field `{field}` {e}");
            match field {
                "type" => map_type = Some(self.uint_field(ty).map_err(bad)?),
                "max_entries" => max_entries = Some(self.uint_field(ty).map_err(bad)?),
                "map_flags" => flags = self.uint_field(ty).map_err(bad)?,
                "key_size" => set(&mut key_size, field, self.uint_field(ty).map_err(bad)?)?,
                "value_size" => set(&mut value_size, field, self.uint_field(ty).map_err(bad)?)?,
                "key" => {
                    set(&mut key_size, field, self.type_field(ty).map_err(bad)?)?;
                    extra.key_type = Some(self.c_type_name(self.pointee(ty).map_err(bad)?));
                }
                "value" => {
                    set(&mut value_size, field, self.type_field(ty).map_err(bad)?)?;
                    extra.value_type = Some(self.c_type_name(self.pointee(ty).map_err(bad)?));
                }
                // LIBBPF_PIN_NONE (0) or LIBBPF_PIN_BY_NAME (1): recorded; ebpf-lab's maps live
                // for one run and are pinned only where a command asks for it.
                "pinning" => match self.uint_field(ty).map_err(bad)? {
                    0 => {}
                    1 => extra.pin_by_name = true,
                    v => {
                        return Err(bad(format!("is {v}; libbpf knows LIBBPF_PIN_NONE (0) and LIBBPF_PIN_BY_NAME (1)")))
                    }
                },
                // libbpf: a NUMA node sets BPF_F_NUMA_NODE.
                "numa_node" => {
                    extra.numa_node = Some(self.uint_field(ty).map_err(bad)?);
                    flags |= crate::runtime::maps::BPF_F_NUMA_NODE;
                }
                "map_extra" => extra.map_extra = self.uint_field(ty).map_err(bad)? as u64,
                "values" => {
                    // `__array(values, T)`: `T *values[]`. For maps of maps T is the inner map's
                    // definition; for prog arrays a function type.
                    let arr = self.ty(self.skip_aliases(ty)?)?;
                    let Kind::Array { elem, .. } = arr.kind else {
                        return Err(bad("is not an `__array(values, ...)`".into()));
                    };
                    let inner = self.pointee(elem).map_err(bad)?;
                    if matches!(self.ty(self.skip_aliases(inner)?)?.kind, Kind::Struct(_)) {
                        if depth > 0 {
                            return Err(bad("nests maps of maps, which the kernel does not allow".into()));
                        }
                        let def = self.map_def_of(&format!("{name}.inner"), inner, depth + 1)?;
                        extra.inner = Some(Box::new(def));
                    }
                }
                other => return Err(format!("map `{name}`: field `{other}` is not supported")),
            }
        }
        let id = map_type.ok_or_else(|| format!("map `{name}`: no `type` field"))?;
        let map_type = map_type_from_id(name, id)?;
        if map_type.is_map_in_map() {
            if extra.inner.is_none() {
                return Err(format!(
                    "map `{name}`: a map of maps needs its inner map's definition: `__array(values, struct {{ ... }})`"
                ));
            }
            // libbpf: the value of a map of maps is a map fd.
            value_size.get_or_insert(4);
            key_size.get_or_insert(4);
        }
        let max_entries = max_entries.ok_or_else(|| format!("map `{name}`: no `max_entries` field"));
        Ok(MapDef {
            name: name.to_string(),
            map_type,
            key_size: key_size.unwrap_or(0),
            value_size: value_size.unwrap_or(0),
            // libbpf: a perf event array of 0 (or no) entries gets one per possible CPU.
            max_entries: match (map_type, max_entries) {
                (MapType::PerfEventArray, Ok(0) | Err(_)) => crate::kernel::possible_cpus() as u32,
                (_, m) => m?,
            },
            flags,
            extra,
        })
    }
}

/// The lab's map type for the kernel's `enum bpf_map_type` value `id`.
pub fn map_type_from_id(name: &str, id: u32) -> Result<MapType, String> {
    MapType::ALL.into_iter().find(|t| t.kernel_id() == id).ok_or_else(|| {
        let known: Vec<String> = MapType::ALL.iter().map(|t| format!("{} ({})", t.name(), t.kernel_id())).collect();
        format!("map `{name}`: map type {id} is not supported; ebpf-lab supports {}", known.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a BTF blob from raw type words and a string table.
    fn blob(types: &[u32], strings: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&MAGIC.to_le_bytes());
        out.extend_from_slice(&[1, 0]);
        let tlen = (types.len() * 4) as u32;
        for w in [24, 0, tlen, tlen, strings.len() as u32] {
            out.extend_from_slice(&u32::to_le_bytes(w));
        }
        for w in types {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(strings);
        out
    }

    #[test]
    fn sizes_follow_typedefs_and_arrays() {
        // 1: int (4 bytes); 2: typedef u32 = 1; 3: u32[3]; 4: const 3.
        let types = [1, 1 << 24, 4, 0x0100_0020, 5, 8 << 24, 1, 0, 3 << 24, 0, 2, 1, 3, 0, 10 << 24, 3];
        let btf = Btf::parse(&blob(&types, b"\0int\0u32\0")).unwrap();
        assert_eq!(btf.size_of(2).unwrap(), 4);
        assert_eq!(btf.size_of(4).unwrap(), 12);
        assert_eq!(btf.str_at(5), "u32");
        assert!(btf.size_of(9).unwrap_err().contains("#9"));
    }

    #[test]
    fn alias_cycles_are_errors() {
        // 1: typedef -> 2; 2: typedef -> 1.
        let btf = Btf::parse(&blob(&[0, 8 << 24, 2, 0, 8 << 24, 1], b"\0")).unwrap();
        assert!(btf.size_of(1).unwrap_err().contains("cycle"));
    }

    #[test]
    fn truncated_and_foreign_sections_are_errors() {
        let good = blob(&[1, 1 << 24, 4, 32], b"\0int\0");
        assert!(Btf::parse(&good).is_ok());
        for len in 0..good.len() {
            assert!(Btf::parse(&good[..len]).is_err(), "prefix of {len} bytes");
        }
        assert!(Btf::parse(b"\xeb\x9f\x01\x00").unwrap_err().contains("magic"));
    }
}
