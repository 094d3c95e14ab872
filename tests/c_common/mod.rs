//! Compiling C test programs with clang-19 (included with `mod`): the README's command, into a
//! per-process scratch directory, skipping with one line where clang is absent.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The compiler CI installs.
pub const CLANG: &str = "clang-19";

/// True when clang-19 runs; otherwise prints one skip line (or fails when
/// `EBPF_LAB_REQUIRE_LLVM=1`, so CI cannot skip silently).
pub fn clang_or_skip(test: &str) -> bool {
    if Command::new(CLANG).arg("--version").output().is_ok_and(|o| o.status.success()) {
        return true;
    }
    if std::env::var("EBPF_LAB_REQUIRE_LLVM").as_deref() == Ok("1") {
        panic!("{test}: {CLANG} is required (EBPF_LAB_REQUIRE_LLVM=1)");
    }
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipping: {CLANG} not found [{test}]");
    false
}

/// examples/c, where lab.h lives.
pub fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/c")
}

/// Compiles C `source` as `name.c` with `clang-19 -target bpf -O2 -g`; returns the object.
pub fn compile_c(name: &str, source: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ebpf-lab-c-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (c, o) = (dir.join(format!("{name}.c")), dir.join(format!("{name}.o")));
    std::fs::write(&c, source).unwrap();
    let mut cmd = Command::new(CLANG);
    cmd.args(["-target", "bpf", "-O2", "-g", "-c"]).arg("-I").arg(examples());
    // The host's multiarch include directory, where <asm/types.h> lives.
    let multiarch = std::fs::read_dir("/usr/include")
        .ok()
        .and_then(|d| d.filter_map(|e| e.ok().map(|e| e.path())).find(|p| p.join("asm/types.h").is_file()));
    if let Some(inc) = multiarch {
        cmd.arg("-I").arg(inc);
    }
    let out = cmd.arg(&c).arg("-o").arg(&o).output().unwrap();
    assert!(out.status.success(), "{name}.c does not compile:\n{}", String::from_utf8_lossy(&out.stderr));
    o
}
