//! Embedding ebpf-lab: assemble, run on the interpreter, read r0 and a map.
//! Run: `cargo run --example embed`

use ebpf_lab::{asm, interp};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let src = std::fs::read_to_string("examples/xdp_count.s")?;
    let packet = std::fs::read("examples/udp.pkt")?;
    let program = asm::assemble("xdp_count.s", &src, None)?;
    let mut vm = interp::Vm::new(&program)?;
    let out = vm.run(&interp::Input::xdp(packet))?;
    println!("r0 = {} (XDP_PASS is 2)", out.r0);
    for (key, value) in vm.map("counts").ok_or("no map")?.entries() {
        let count = u64::from_le_bytes(value[..8].try_into()?);
        if count > 0 {
            println!("protocol {}: {count} packet(s)", u32::from_le_bytes(key[..4].try_into()?));
        }
    }
    Ok(())
}
