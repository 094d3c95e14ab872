//! libbpf's `.kconfig` externs (`extern int LINUX_KERNEL_VERSION __kconfig;`, `extern bool
//! CONFIG_X __kconfig __weak;`): undefined symbols that clang describes in a BTF `DATASEC
//! .kconfig`. As libbpf does, they become the variables of one read-only array map, `.kconfig`,
//! frozen before loading and filled from the running kernel: its config (`/proc/config.gz`, else
//! `/boot/config-$(uname -r)`) and its release (`LINUX_KERNEL_VERSION`). A weak extern the config
//! lacks reads 0; a strong one refuses the object, naming it.

use super::btf::{Btf, Kind};
use crate::global_data::GlobalVar;
use std::collections::HashMap;

/// `BTF_INT_CHAR` and `BTF_INT_BOOL`: the encoding bits of a `BTF_KIND_INT`'s data word.
const INT_CHAR: u32 = 2;
const INT_BOOL: u32 = 4;

/// One extern of `DATASEC .kconfig`: its name, weakness and BTF type.
#[derive(Clone, Debug)]
pub struct KconfigExtern {
    /// The C name (`CONFIG_HZ`).
    pub name: String,
    /// `__weak`: reads 0 when the kernel does not say.
    pub weak: bool,
    /// Its BTF type id.
    pub ty: u32,
}

/// The kernel facts externs are filled from: `CONFIG_*` lines (`y`, `m`, `n`, a number or a
/// quoted string) and the libbpf virtual externs (`LINUX_KERNEL_VERSION`, ...).
pub type KernelFacts = HashMap<String, String>;

/// The facts of the running kernel: its config file's lines and libbpf's virtual externs.
/// `/proc/config.gz` is read with `gzip -dc` (ebpf-lab has no gzip decoder of its own).
pub fn running_kernel() -> KernelFacts {
    let mut facts = KernelFacts::new();
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let release = release.trim();
    let config = std::process::Command::new("gzip")
        .args(["-dc", "/proc/config.gz"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .or_else(|| std::fs::read_to_string(format!("/boot/config-{release}")).ok())
        .unwrap_or_default();
    for line in config.lines() {
        if let Some((k, v)) = line.split_once('=').filter(|(k, _)| k.starts_with("CONFIG_")) {
            facts.insert(k.to_string(), v.to_string());
        } else if let Some(k) = line.strip_prefix("# ").and_then(|l| l.strip_suffix(" is not set")) {
            facts.insert(k.to_string(), "n".into());
        }
    }
    let mut parts = release.split(|c: char| !c.is_ascii_digit()).map(|p| p.parse::<u64>().unwrap_or(0));
    let (a, b, c) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    // KERNEL_VERSION(a, b, c), with the sublevel capped at 255 as libbpf caps it.
    facts.insert("LINUX_KERNEL_VERSION".into(), ((a << 16) + (b << 8) + c.min(255)).to_string());
    // libbpf probes these two; on the kernels ebpf-lab loads into they are settled by version:
    // bpf_get_attach_cookie came in 5.15, x86-64's syscall wrappers (`__x64_sys_*`) in 4.17.
    let at_least = |x: u64, y: u64| (a, b) >= (x, y);
    facts.insert("LINUX_HAS_BPF_COOKIE".into(), if at_least(5, 15) { "y" } else { "n" }.into());
    let wrapper = cfg!(target_arch = "x86_64") && at_least(4, 17);
    facts.insert("LINUX_HAS_SYSCALL_WRAPPER".into(), if wrapper { "y" } else { "n" }.into());
    facts
}

/// The `.kconfig` externs of an object: the undefined symbols (`names`: name and weakness) that
/// its BTF places in `DATASEC .kconfig`, each with its type.
pub fn externs(btf: &Btf, names: &[(String, bool)]) -> Vec<KconfigExtern> {
    names
        .iter()
        .filter_map(|(name, weak)| {
            Some(KconfigExtern { name: name.clone(), weak: *weak, ty: btf.datasec_var(".kconfig", name)? })
        })
        .collect()
}

/// Lays the externs out (each at its alignment, largest first as libbpf does) and fills them
/// from `facts`: the map's value and its variables, or an error naming the extern.
pub fn fill(btf: &Btf, externs: &[KconfigExtern], facts: &KernelFacts) -> Result<(Vec<u8>, Vec<GlobalVar>), String> {
    let mut sized = Vec::new();
    for e in externs {
        let size = btf.size_of(e.ty).map_err(|m| format!("extern `{}` (kconfig): {m}", e.name))?;
        let align = match btf.get(btf.skip_aliases(e.ty)?).map(|t| &t.kind) {
            Some(Kind::Array { elem, .. }) => btf.size_of(*elem)?,
            _ => size,
        }
        .clamp(1, 8);
        sized.push((e, size, align));
    }
    sized.sort_by(|x, y| y.2.cmp(&x.2).then_with(|| x.0.name.cmp(&y.0.name)));
    let mut image = Vec::new();
    let mut vars = Vec::new();
    for (e, size, align) in sized {
        let offset = image.len().next_multiple_of(align as usize);
        // Sizes come from the object's BTF: bounded before anything is allocated for them.
        let limit = crate::runtime::maps::MAX_STORAGE_BYTES;
        if offset.saturating_add(size as usize) > limit {
            return Err(format!(
                "extern `{}` (kconfig): {size} bytes is more than ebpf-lab's {limit}-byte map limit",
                e.name
            ));
        }
        image.resize(offset, 0);
        let bytes = match facts.get(&e.name) {
            Some(v) => value_bytes(btf, e, size, v)?,
            None if e.weak => vec![0; size as usize],
            None => {
                return Err(format!(
                "extern `{}` (kconfig) is not in the running kernel's config; declare it `__weak` to read 0 instead",
                e.name
            ))
            }
        };
        image.extend_from_slice(&bytes);
        vars.push(GlobalVar { name: e.name.clone(), offset: offset as u32, size });
    }
    Ok((image, vars))
}

/// The bytes of config value `value` (`y`, `m`, `n`, a number or a quoted string) for an extern of
/// `size` bytes, by its C type as libbpf converts them.
fn value_bytes(btf: &Btf, e: &KconfigExtern, size: u32, value: &str) -> Result<Vec<u8>, String> {
    let bad = |why: &str| format!("extern `{}` (kconfig): value `{value}` {why}", e.name);
    let t = btf.get(btf.skip_aliases(e.ty)?).ok_or_else(|| bad("has no BTF type"))?;
    let tristate = btf.str_at(t.name_off) == "libbpf_tristate";
    let encoding = match t.kind {
        Kind::Int(word) => (word >> 24) & 0xf,
        _ => 0,
    };
    let number = |n: u64| {
        let mut b = n.to_le_bytes().to_vec();
        b.resize(size as usize, 0);
        b
    };
    match (value, &t.kind) {
        ("y" | "n" | "m", Kind::Int(_)) if encoding & INT_CHAR != 0 && size == 1 => Ok(vec![value.as_bytes()[0]]),
        ("y" | "n", Kind::Int(_)) if encoding & INT_BOOL != 0 => Ok(vec![u8::from(value == "y")]),
        ("y" | "n" | "m", Kind::Enum(_)) if tristate => Ok(number(match value {
            "n" => 0,
            "y" => 1,
            _ => 2,
        })),
        ("y" | "n" | "m", _) => Err(bad("is a tristate: declare the extern `bool` or `enum libbpf_tristate`")),
        (v, Kind::Array { .. }) if v.starts_with('"') && v.ends_with('"') && v.len() >= 2 => {
            let mut b = v.as_bytes()[1..v.len() - 1].to_vec();
            b.truncate(size.saturating_sub(1) as usize);
            b.resize(size as usize, 0);
            Ok(b)
        }
        (v, Kind::Int(_) | Kind::Enum(_)) => {
            let n = match v.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16).ok(),
                None => v.parse::<i64>().ok().map(|n| n as u64),
            }
            .ok_or_else(|| bad("is not a number"))?;
            let fits = size >= 8 || (n as i64) >> (size * 8 - 1) == 0 || (n as i64) >> (size * 8 - 1) == -1;
            if fits {
                Ok(number(n))
            } else {
                Err(bad(&format!("does not fit its {size} bytes")))
            }
        }
        _ => Err(bad("does not suit the extern's C type")),
    }
}
