//! Running `ebpf-lab check` on an assembly source from a test (included with `mod`).

use std::process::Command;

/// Runs `ebpf-lab check` on `src` (written to a scratch file `name`) with `args`, colourless,
/// from the crate root: (exit code, stdout).
pub fn check(name: &str, src: &str, args: &[&str]) -> (i32, String) {
    let dir = std::env::temp_dir().join(format!("ebpf-lab-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(name);
    std::fs::write(&file, src).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_ebpf-lab"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .arg("check")
        .arg(&file)
        .args(args)
        .output()
        .unwrap();
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stdout).into_owned())
}
