//! Maps in the kernel and in the interpreter: the same counting program runs three times on
//! each engine, and the user-space contents of every map type must be equal afterwards.

use ebpf_lab::engine::{self, EngineOptions, MapEntries};
use ebpf_lab::interp::{Input, RunOptions, SkbFields};
use ebpf_lab::kernel;

/// Counts into key 3 (and key 5 with a second map update) of map `m`.
fn counting_program(map_type: &str) -> String {
    format!(
        ".prog socket
.map m {map_type} key=4 value=8 max=8
        *(u32 *)(r10 - 4) = 3
        r1 = map(m) ll
        r2 = r10
        r2 += -4
        call bpf_map_lookup_elem
        if r0 != 0 goto bump
        *(u64 *)(r10 - 16) = 1
        r1 = map(m) ll
        r2 = r10
        r2 += -4
        r3 = r10
        r3 += -16
        r4 = 0
        call bpf_map_update_elem
        goto second
bump:
        r1 = 1
        lock *(u64 *)(r0 + 0) += r1
second:
        *(u32 *)(r10 - 4) = 5
        *(u64 *)(r10 - 16) = 77
        r1 = map(m) ll
        r2 = r10
        r2 += -4
        r3 = r10
        r3 += -16
        r4 = 0
        call bpf_map_update_elem
        r0 = 0
        exit
"
    )
}

fn contents(engine_name: &str, program: &ebpf_lab::program::Program, input: &Input) -> MapEntries {
    let options = EngineOptions {
        run: RunOptions { ncpus: kernel::possible_cpus() as u32, ..RunOptions::default() },
        ..EngineOptions::default()
    };
    let mut e = engine::open(engine_name, program, &options, input).unwrap_or_else(|e| panic!("{engine_name}: {e}"));
    for _ in 0..3 {
        let run = e.run(input).unwrap_or_else(|e| panic!("{engine_name}: {e}"));
        assert_eq!(run.outcome.r0, 0);
    }
    let mut entries = e.map_entries("m").expect("map m");
    entries.sort();
    entries
}

#[test]
fn every_map_type_counts_the_same_in_the_kernel_and_the_interpreter() {
    if !kernel::require_or_skip("every_map_type_counts_the_same") {
        return;
    }
    let input = Input::skb(vec![0; 64], SkbFields::default());
    for map_type in ["array", "hash", "percpu_array", "percpu_hash", "lru_hash"] {
        let program = ebpf_lab::asm::assemble("count.s", &counting_program(map_type), None).expect("assembles");
        let interp = contents("interp", &program, &input);
        let kernel = contents("kernel", &program, &input);
        assert_eq!(interp, kernel, "{map_type}: interpreter and kernel disagree");
        // Key 3 counts three runs (hash: inserted as 1, then bumped twice; array: bumped from 0
        // three times); key 5 holds 77.
        let value_of = |k: u32| interp.iter().find(|(key, _)| key[..] == k.to_ne_bytes()).map(|(_, v)| v.clone());
        let three = value_of(3).unwrap_or_else(|| panic!("{map_type}: key 3 missing"));
        assert_eq!(u64::from_ne_bytes(three[..8].try_into().unwrap()), 3, "{map_type}");
        assert_eq!(u64::from_ne_bytes(value_of(5).unwrap()[..8].try_into().unwrap()), 77, "{map_type}");
        if map_type.starts_with("percpu") {
            // CPU 0 got the counts (the kernel run is pinned to CPU 0); every other CPU is zero.
            assert_eq!(three.len(), 8 * kernel::possible_cpus());
            assert!(three[8..].iter().all(|b| *b == 0), "{map_type}: other CPUs touched");
        }
    }
}
