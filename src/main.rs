//! The `ebpf-lab` binary: everything lives in the library's `cli` module.

fn main() {
    std::process::exit(ebpf_lab::cli::main());
}
