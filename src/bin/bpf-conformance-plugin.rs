//! A plugin for the bpf_conformance reference runner, running programs on one of ebpf-lab's engines (`--engine NAME`, the interpreter by default)
//! (the protocol and its options: [`ebpf_lab::conformance_plugin`]). Prints r0 in hex and exits
//! 0, or prints the error and exits 1.

use std::io::Read;
use std::process::ExitCode;

fn run() -> Result<u64, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let req = ebpf_lab::conformance_plugin::parse_args(&args)?;
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).map_err(|e| format!("reading stdin: {e}"))?;
    ebpf_lab::conformance_plugin::run(&req, &text)
}

fn main() -> ExitCode {
    match run() {
        Ok(r0) => {
            println!("{r0:x}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("{e}");
            ExitCode::FAILURE
        }
    }
}
