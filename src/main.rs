//! The `ebpf-lab` binary: everything lives in the library's `cli` module.

fn main() {
    // A closed pipe (`ebpf-lab disasm big.s | head -1`) ends the program quietly, as Unix tools
    // do. Rust starts programs with SIGPIPE ignored, which turns every print after the reader
    // has gone into a "Broken pipe" panic; the default action ends the process instead.
    // SAFETY: setting a signal's disposition to SIG_DFL at start-up, before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    std::process::exit(ebpf_lab::cli::main());
}
