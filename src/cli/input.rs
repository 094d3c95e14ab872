//! Building a run's input from the command line, shared by `run` and `check`.

use crate::interp::{Input, SkbFields};
use crate::program::{ProgType, Program};
use crate::runtime::ctx::{ctx_layout, syscall_tracepoint_layout, CtxLayout, SyscallTracepoint};
use clap::Args;
use std::path::PathBuf;

/// Input options of `run` and `check`.
#[derive(Args, Debug, Clone, Default)]
pub struct InputArgs {
    /// Program type, overriding the file's `.prog` directive.
    #[arg(long = "prog-type", value_name = "TYPE")]
    pub prog_type: Option<String>,
    /// Input buffer as hex bytes (`mem` programs; the ctx buffer of `syscall` programs).
    #[arg(long, value_name = "HEX", conflicts_with = "mem_file")]
    pub mem: Option<String>,
    /// Input buffer from a file.
    #[arg(long, value_name = "FILE")]
    pub mem_file: Option<PathBuf>,
    /// Packet from a file of raw bytes (`xdp`, `socket`, `tc`).
    #[arg(long, value_name = "FILE", conflicts_with = "packet_hex")]
    pub packet: Option<PathBuf>,
    /// Packet as hex bytes.
    #[arg(long, value_name = "HEX")]
    pub packet_hex: Option<String>,
    /// A context field: `__sk_buff` fields (`mark=7`, `cb[0]=1`, `priority`, `ifindex`,
    /// `ingress_ifindex`, `tc_index`, `hash`, `vlan_tci`), `xdp_md` fields (`ingress_ifindex`,
    /// `rx_queue_index`), syscall tracepoint fields (`__syscall_nr=1`, `args[0]=3`), and any field
    /// of `struct pt_regs` (`di=3`), a raw tracepoint's `args[N]`, `struct bpf_sock` (cgroup_sock)
    /// or `struct bpf_sk_lookup` (`local_port=80`). Repeatable.
    #[arg(long = "ctx", value_name = "FIELD=VALUE")]
    pub ctx: Vec<String>,
    /// Pre-fill a map entry before the run: `NAME:KEY=VALUE`, each an integer (stored little
    /// endian in the map's key or value size) or `hex:BYTES`. Repeatable.
    #[arg(long = "map", value_name = "NAME:KEY=VALUE")]
    pub map: Vec<String>,
    /// Set a C global variable before the program is loaded: `NAME=VALUE`, an integer (little
    /// endian in the variable's size) or `hex:BYTES`; `.rodata` ones too, as libbpf's skeletons
    /// do before load. Repeatable.
    #[arg(long = "global", value_name = "NAME=VALUE")]
    pub global: Vec<String>,
}

/// A map entry to pre-fill.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapFill {
    /// Map name.
    pub map: String,
    /// Key bytes.
    pub key: Vec<u8>,
    /// Value bytes.
    pub value: Vec<u8>,
}

/// Everything a run needs besides the program.
#[derive(Clone, Debug)]
pub struct RunInput {
    /// The input for the program type.
    pub input: Input,
    /// Map entries to write before running.
    pub fills: Vec<MapFill>,
}

fn parse_int(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let v = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16),
        None => t.parse::<u64>(),
    }
    .map_err(|e| match e.kind() {
        std::num::IntErrorKind::PosOverflow => format!("`{s}` does not fit in 8 bytes"),
        _ => format!("`{s}` is not an integer"),
    })?;
    Ok(if neg { v.wrapping_neg() } else { v })
}

/// Encodes `text` as `size` little-endian bytes (an integer), or takes `hex:BYTES` as is.
fn sized_bytes(text: &str, size: usize, what: &str) -> Result<Vec<u8>, String> {
    if let Some(hex) = text.strip_prefix("hex:") {
        let bytes = crate::load::parse_hex(hex).map_err(|(_, e)| e)?;
        if bytes.len() != size {
            return Err(format!("{what} `{text}` is {} bytes, the map's {what} size is {size}", bytes.len()));
        }
        return Ok(bytes);
    }
    let v = parse_int(text).map_err(|e| format!("{what} {e}"))?;
    let bytes = v.to_le_bytes();
    if size < 8 && v >> (size * 8) != 0 && (v as i64) >= 0 {
        return Err(format!("{what} {text} does not fit in {size} bytes"));
    }
    let mut out = vec![0u8; size];
    out[..size.min(8)].copy_from_slice(&bytes[..size.min(8)]);
    Ok(out)
}

/// A `--map` key for `def`: nothing for a queue or stack (`--map q:=VALUE`), `ADDRESS/LEN` for
/// an LPM trie keyed by an IPv4 or IPv6 address, otherwise as [`sized_bytes`].
fn map_key(def: &crate::program::MapDef, text: &str) -> Result<Vec<u8>, String> {
    if def.key_size == 0 {
        return match text {
            "" => Ok(Vec::new()),
            _ => Err(format!("map `{}` has no keys: write --map {}:=VALUE", def.name, def.name)),
        };
    }
    if let (crate::program::MapType::LpmTrie, Some((addr, len))) = (def.map_type, text.split_once('/')) {
        let len: u32 = len.parse().map_err(|_| format!("key `{text}`: the prefix length `{len}` is not a number"))?;
        let data: Vec<u8> = match addr.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(a)) => a.octets().to_vec(),
            Ok(std::net::IpAddr::V6(a)) => a.octets().to_vec(),
            Err(_) => return Err(format!("key `{text}`: `{addr}` is not an IPv4 or IPv6 address")),
        };
        if data.len() + 4 != def.key_size as usize {
            return Err(format!(
                "key `{text}`: a {}-byte address, but map `{}` has {} data bytes",
                data.len(),
                def.name,
                def.key_size - 4
            ));
        }
        return Ok([len.to_le_bytes().to_vec(), data].concat());
    }
    sized_bytes(text, def.key_size as usize, "key")
}

fn read_file(path: &PathBuf) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn hex(text: &str, what: &str) -> Result<Vec<u8>, String> {
    crate::load::parse_hex(text).map_err(|(at, e)| match at {
        0 => format!("--{what}: {e}"),
        _ => format!("--{what}: {e} (at character {at})"),
    })
}

/// Stores `v` (little endian, the element's size) in element `idx` of field `name` of a context
/// laid out by `layout`; `known` lists the settable fields for the error.
fn set_ctx_field(
    bytes: &mut [u8],
    layout: &CtxLayout,
    name: &str,
    idx: usize,
    v: u64,
    known: &str,
) -> Result<(), String> {
    let field = layout
        .fields
        .iter()
        .find(|f| f.name == name && !name.starts_with("common_"))
        .ok_or_else(|| format!("--ctx: `{name}` is not a field of {} ({known})", layout.struct_name))?;
    let at = (field.offset + field.elem * idx as u32) as usize;
    if at + field.elem as usize > (field.offset + field.size) as usize {
        return Err(format!("--ctx: `{name}[{idx}]` is out of range"));
    }
    bytes[at..at + field.elem as usize].copy_from_slice(&v.to_le_bytes()[..field.elem as usize]);
    Ok(())
}

/// Splits `name[idx]` into the name and the index.
fn indexed(name: &str) -> Result<(&str, usize), String> {
    match name.split_once('[') {
        Some((n, rest)) => {
            let idx = rest.strip_suffix(']').ok_or_else(|| format!("`{name}`: missing `]`"))?;
            Ok((n, idx.parse().map_err(|_| format!("`{name}`: bad index"))?))
        }
        None => Ok((name, 0)),
    }
}

/// `ETH_HLEN`: the kernel's test_run refuses a shorter packet for xdp, socket and tc programs.
const ETH_HLEN: usize = 14;

impl RunInput {
    /// Checks that the kernel can take this input: an error of the input (exit 2), not a
    /// difference between engines, when it cannot.
    pub fn check_for_kernel(&self) -> Result<(), String> {
        match &self.input {
            Input::Xdp { packet, .. } | Input::Skb { packet, .. } if packet.len() < ETH_HLEN => Err(format!(
                "the packet is {} bytes; the kernel's test run takes packets of at least {ETH_HLEN} bytes (an Ethernet \
                 header)",
                packet.len()
            )),
            _ => Ok(()),
        }
    }
}

impl InputArgs {
    /// The program type: the override, else the program's own.
    pub fn prog_type(&self, program: &Program) -> Result<ProgType, String> {
        match &self.prog_type {
            Some(name) => ProgType::from_name(name).ok_or_else(|| {
                let all: Vec<_> = ProgType::ALL.iter().map(|t| t.name()).collect();
                format!("unknown program type `{name}` (one of: {})", all.join(", "))
            }),
            None => match program.elf_section.as_deref().and_then(crate::elf::unknown_section_hint) {
                Some(hint) => Err(hint),
                None => Ok(program.prog_type),
            },
        }
    }

    /// Applies `--global NAME=VALUE` to the image of the program's global sections.
    pub fn apply_globals(&self, program: &mut Program) -> Result<(), String> {
        for g in &self.global {
            let (name, value) = g.split_once('=').ok_or_else(|| format!("--global `{g}`: expected NAME=VALUE"))?;
            let name = name.trim();
            let (_, var) = crate::global_data::find_global(program, name).map_err(|e| format!("--global: {e}"))?;
            let bytes = sized_bytes(value, var.size as usize, "value").map_err(|e| format!("--global {name}: {e}"))?;
            crate::global_data::set_global(program, name, &bytes).map_err(|e| format!("--global: {e}"))?;
        }
        Ok(())
    }

    /// Builds the input and the map fills, checking them against the program.
    pub fn build(&self, program: &Program) -> Result<RunInput, String> {
        let prog_type = self.prog_type(program)?;
        let mem = match (&self.mem, &self.mem_file) {
            (Some(h), _) => Some(hex(h, "mem")?),
            (None, Some(f)) => Some(read_file(f)?),
            _ => None,
        };
        let packet = match (&self.packet, &self.packet_hex) {
            (Some(f), _) => Some(read_file(f)?),
            (None, Some(h)) => Some(hex(h, "packet-hex")?),
            _ => None,
        };
        if packet.is_some() && !prog_type.takes_packet() {
            return Err(format!(
                "--packet is for programs that see a packet (xdp, socket, tc, cgroup_skb, lwt_*); this one is \
                 `{prog_type}`: say which with `--prog-type xdp` (or socket, tc, ...)"
            ));
        }
        if mem.is_some() && !matches!(prog_type, ProgType::Mem | ProgType::Syscall) {
            return Err(format!("--mem is for mem and syscall programs; this one is `{prog_type}`"));
        }
        let mut fields = Vec::new();
        for c in &self.ctx {
            let (name, value) = c.split_once('=').ok_or_else(|| format!("--ctx `{c}`: expected FIELD=VALUE"))?;
            fields.push((name.trim().to_string(), parse_int(value).map_err(|e| format!("--ctx {name}: {e}"))?));
        }
        let input = match prog_type {
            ProgType::Mem => Input::mem(mem.unwrap_or_default()),
            ProgType::Syscall => Input::Syscall(mem.unwrap_or_default()),
            ProgType::Xdp => {
                let (mut ingress_ifindex, mut rx_queue_index) = (1, 0);
                for (name, v) in &fields {
                    match name.as_str() {
                        "ingress_ifindex" => ingress_ifindex = *v as u32,
                        "rx_queue_index" => rx_queue_index = *v as u32,
                        other => {
                            return Err(format!(
                                "--ctx: `{other}` is not a settable xdp_md field (ingress_ifindex, rx_queue_index)"
                            ))
                        }
                    }
                }
                Input::Xdp { packet: packet.unwrap_or_else(|| vec![0; 64]), ingress_ifindex, rx_queue_index }
            }
            ProgType::Socket
            | ProgType::Tc
            | ProgType::CgroupSkb
            | ProgType::LwtIn
            | ProgType::LwtOut
            | ProgType::LwtXmit => {
                let mut f = SkbFields::default();
                for (name, v) in &fields {
                    let v32 = *v as u32;
                    let (base, idx) = indexed(name)?;
                    match base {
                        "mark" => f.mark = v32,
                        "priority" => f.priority = v32,
                        "ingress_ifindex" => f.ingress_ifindex = v32,
                        "ifindex" => f.ifindex = v32,
                        "tc_index" => f.tc_index = v32,
                        "hash" => f.hash = v32,
                        "vlan_tci" => f.vlan_tci = v32,
                        "cb" if idx < 5 => f.cb[idx] = v32,
                        other => return Err(format!("--ctx: `{other}` is not a settable __sk_buff field (mark, priority, ingress_ifindex, ifindex, tc_index, hash, vlan_tci, cb[0..5])")),
                    }
                }
                Input::skb(packet.unwrap_or_else(|| vec![0; 64]), f)
            }
            ProgType::Tracepoint => {
                let layout = syscall_tracepoint_layout(SyscallTracepoint::Enter);
                let mut rec = vec![0u8; layout.size as usize];
                for (name, v) in &fields {
                    let (base, idx) = indexed(name)?;
                    let base = if base == "id" || base == "nr" { "__syscall_nr" } else { base };
                    set_ctx_field(&mut rec, layout, base, idx, *v, "__syscall_nr, args[0..6]")?;
                }
                Input::Tracepoint(rec)
            }
            ProgType::Kprobe | ProgType::RawTracepoint | ProgType::CgroupSock | ProgType::SkLookup => {
                let layout = ctx_layout(prog_type).ok_or_else(|| format!("no context layout for {prog_type}"))?;
                let mut bytes = match Input::empty_for(prog_type) {
                    Input::Ctx(b) => b,
                    _ => Vec::new(),
                };
                bytes.resize(layout.size as usize, 0);
                let names: Vec<&str> = layout.fields.iter().map(|f| f.name).collect();
                for (name, v) in &fields {
                    let (base, idx) = indexed(name)?;
                    set_ctx_field(&mut bytes, layout, base, idx, *v, &names.join(", "))?;
                }
                if prog_type == ProgType::SkLookup {
                    // Bad input, said before any engine runs (exit 2).
                    crate::runtime::ctx_build::sk_lookup_as_run(&mut bytes.clone())
                        .map_err(|e| format!("--ctx: {e}"))?;
                }
                Input::Ctx(bytes)
            }
        };
        if !fields.is_empty() && matches!(prog_type, ProgType::Mem | ProgType::Syscall) {
            return Err(format!("--ctx: `{prog_type}` programs have a plain buffer; use --mem"));
        }
        let mut fills = Vec::new();
        for m in &self.map {
            let (name, kv) = m.split_once(':').ok_or_else(|| format!("--map `{m}`: expected NAME:KEY=VALUE"))?;
            let (k, v) = kv.split_once('=').ok_or_else(|| format!("--map `{m}`: expected NAME:KEY=VALUE"))?;
            let def = program.maps.iter().find(|d| d.name == name).ok_or_else(|| {
                let names: Vec<_> = program.maps.iter().map(|d| d.name.as_str()).collect();
                format!(
                    "--map: the program has no map `{name}` (maps: {})",
                    if names.is_empty() { "none".into() } else { names.join(", ") }
                )
            })?;
            let index = program.map_index(name).unwrap_or(0);
            if crate::global_data::section_of_map(program, index).is_some_and(|g| g.read_only) {
                return Err(format!(
                    "--map: `{name}` is frozen before the program loads, as libbpf freezes it; set its variables with --global NAME=VALUE"
                ));
            }
            fills.push(MapFill {
                map: name.to_string(),
                key: map_key(def, k)?,
                value: sized_bytes(v, def.value_size as usize, "value")?,
            });
        }
        Ok(RunInput { input, fills })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_hex_are_sized_little_endian() {
        assert_eq!(sized_bytes("0x0102", 4, "key").unwrap(), vec![2, 1, 0, 0]);
        assert_eq!(sized_bytes("-1", 2, "key").unwrap(), vec![0xff, 0xff]);
        assert_eq!(sized_bytes("hex:aabb", 2, "key").unwrap(), vec![0xaa, 0xbb]);
        assert!(sized_bytes("70000", 2, "key").unwrap_err().contains("does not fit"));
        assert!(sized_bytes("hex:aa", 2, "value").unwrap_err().contains("1 bytes"));
        assert!(sized_bytes("x", 2, "value").is_err());
    }

    #[test]
    fn inputs_must_suit_the_program_type() {
        let p = Program { prog_type: ProgType::Xdp, ..Program::default() };
        let args = InputArgs { mem: Some("01".into()), ..Default::default() };
        assert!(args.build(&p).unwrap_err().contains("--mem is for mem and syscall"));
        let args = InputArgs { ctx: vec!["mark=1".into()], ..Default::default() };
        assert!(args.build(&p).unwrap_err().contains("not a settable xdp_md field"));
        let args = InputArgs { map: vec!["nope:1=2".into()], ..Default::default() };
        assert!(args.build(&p).unwrap_err().contains("no map `nope`"));
    }

    #[test]
    fn tracepoint_fields_land_at_their_offsets() {
        let p = Program { prog_type: ProgType::Tracepoint, ..Program::default() };
        let args = InputArgs { ctx: vec!["id=59".into(), "args[1]=7".into()], ..Default::default() };
        let Input::Tracepoint(rec) = args.build(&p).unwrap().input else { panic!("not a tracepoint input") };
        assert_eq!(rec[8], 59);
        assert_eq!(rec[24], 7);
    }
}
