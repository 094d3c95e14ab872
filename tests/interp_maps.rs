//! Every map type through programs: what a program's lookups, updates and deletes leave in the
//! map as user space sees it (per-CPU copies, LRU eviction, ring buffer records, tail-call
//! targets), and where the kernel can run the same program, the same answers.

mod interp_common;
use ebpf_lab::interp::{ErrorKind, Input, RunOptions, Vm};
use ebpf_lab::kernel;
use ebpf_lab::program::Program;
use interp_common::{llvm, open, run_with, u64_at};

/// Input of the keyed programs below: the key in the first 4 bytes of the buffer.
fn key_input(key: u32) -> Input {
    Input::mem(key.to_le_bytes().to_vec())
}

/// A `mem` program that copies the key from its input to `r10 - 4` and then runs `body`
/// (`r2` already points to the key).
fn keyed(maps: &str, body: &str) -> Program {
    llvm(&format!(
        "{maps}r6 = *(u32 *)(r1 + 0)
*(u32 *)(r10 - 4) = r6
r2 = r10
r2 += -4
{body}exit
"
    ))
}

/// Looks the key up and adds 1 to the u64 value (r0 = the new count), or inserts 1 when absent
/// (r0 = the update's result: 0 or a negative errno).
const COUNT: &str = "r1 = map(m) ll
call bpf_map_lookup_elem
if r0 == 0 goto insert
r1 = 1
lock *(u64 *)(r0 + 0) += r1
r0 = *(u64 *)(r0 + 0)
exit
insert:
*(u64 *)(r10 - 16) = 1
r1 = map(m) ll
r2 = r10
r2 += -4
r3 = r10
r3 += -16
r4 = 0
call bpf_map_update_elem
";

fn user_u64(vm: &Vm, map: &str, key: u32) -> Option<u64> {
    vm.map(map).unwrap().user_lookup(&key.to_le_bytes()).ok().map(|v| u64_at(&v, 0))
}

#[test]
fn array_values_are_preallocated_and_persist_between_runs() {
    let mut vm = Vm::new(&keyed(".map m array key=4 value=8 max=4\n", COUNT)).unwrap();
    for n in 1..=3 {
        assert_eq!(vm.run(&key_input(2)).unwrap().r0, n, "element 2 exists from the start: counted");
    }
    assert_eq!(vm.run(&key_input(0)).unwrap().r0, 1);
    // Out of range: the lookup is NULL and the insert fails with -E2BIG.
    assert_eq!(vm.run(&key_input(4)).unwrap().r0 as i64, -7);
    let entries = vm.map("m").unwrap().entries();
    let counts: Vec<u64> = entries.iter().map(|(_, v)| u64_at(v, 0)).collect();
    assert_eq!(counts, [1, 0, 3, 0], "an array lists every index");
}

#[test]
fn read_only_map_values_refuse_program_stores() {
    let src = ".map m array key=4 value=8 max=4 flags=0x80\n";
    let mut vm = Vm::new(&keyed(src, COUNT)).unwrap();
    let e = vm.run(&key_input(1)).unwrap_err();
    assert!(e.to_string().contains("map `m`"), "{e}");
    assert_eq!(e.pc, Some(9), "the atomic add through the value pointer");
    // Loads are fine.
    let mut vm = Vm::new(&keyed(src, "r1 = map(m) ll\ncall bpf_map_lookup_elem\nr0 = *(u64 *)(r0 + 0)\n")).unwrap();
    vm.map_mut("m").unwrap().user_update(&1u32.to_le_bytes(), &5u64.to_le_bytes(), 0).unwrap();
    assert_eq!(vm.run(&key_input(1)).unwrap().r0, 5);
}

#[test]
fn hash_elements_come_and_go_through_programs() {
    let maps = ".map m hash key=4 value=8 max=2\n";
    let mut vm = Vm::new(&keyed(maps, COUNT)).unwrap();
    assert_eq!(vm.run(&key_input(10)).unwrap().r0, 0, "inserted");
    assert_eq!(vm.run(&key_input(10)).unwrap().r0, 2, "found and counted");
    assert_eq!(vm.run(&key_input(20)).unwrap().r0, 0);
    assert_eq!(vm.run(&key_input(30)).unwrap().r0 as i64, -7, "full: -E2BIG");
    let mut keys: Vec<Vec<u8>> = vm.map("m").unwrap().entries().into_iter().map(|(k, _)| k).collect();
    keys.sort();
    assert_eq!(keys, [10u32.to_le_bytes().to_vec(), 20u32.to_le_bytes().to_vec()]);
    // A program delete frees a slot for the next insert.
    let mut del = Vm::new(&keyed(maps, "r1 = map(m) ll\ncall bpf_map_delete_elem\n")).unwrap();
    for (k, v) in vm.map("m").unwrap().entries() {
        del.map_mut("m").unwrap().user_update(&k, &v, 0).unwrap();
    }
    assert_eq!(del.run(&key_input(10)).unwrap().r0, 0);
    assert_eq!(del.run(&key_input(10)).unwrap().r0 as i64, -2, "already gone");
    assert_eq!(user_u64(&del, "m", 10), None);
    assert_eq!(user_u64(&del, "m", 20), Some(1));
}

/// A program on `cpu` of `ncpus`.
fn on_cpu(p: &Program, cpu: u32, ncpus: u32) -> Vm {
    Vm::with_options(p, RunOptions { cpu, ncpus, ..RunOptions::default() }).unwrap()
}

/// The per-CPU copies of a user-space value, each `stride` bytes apart, as u32s (value=4 maps).
fn copies(value: &[u8], ncpus: usize) -> Vec<u32> {
    assert_eq!(value.len(), 8 * ncpus, "each CPU's copy padded to 8 bytes");
    (0..ncpus).map(|c| u32::from_le_bytes(value[8 * c..8 * c + 4].try_into().unwrap())).collect()
}

/// Adds 5 to the u32 value of the key (per-CPU maps: this CPU's copy); inserts 9 when absent.
const ADD5: &str = "r1 = map(m) ll
call bpf_map_lookup_elem
if r0 == 0 goto insert
r1 = *(u32 *)(r0 + 0)
r1 += 5
*(u32 *)(r0 + 0) = r1
r0 = 0
exit
insert:
*(u32 *)(r10 - 16) = 9
r1 = map(m) ll
r2 = r10
r2 += -4
r3 = r10
r3 += -16
r4 = 0
call bpf_map_update_elem
";

#[test]
fn percpu_array_value_lands_in_the_running_cpus_slot() {
    let p = keyed(".map m percpu_array key=4 value=4 max=2\n", ADD5);
    let mut vm = on_cpu(&p, 2, 4);
    assert_eq!(vm.run(&key_input(1)).unwrap().r0, 0);
    let key = 1u32.to_le_bytes();
    assert_eq!(copies(&vm.map("m").unwrap().user_lookup(&key).unwrap(), 4), [0, 0, 5, 0]);
    vm.options_mut().cpu = 0;
    vm.run(&key_input(1)).unwrap();
    vm.run(&key_input(1)).unwrap();
    assert_eq!(copies(&vm.map("m").unwrap().user_lookup(&key).unwrap(), 4), [10, 0, 5, 0]);
    // Key 0 untouched on every CPU; the user view lists both indexes with four copies each.
    let entries = vm.map("m").unwrap().entries();
    assert_eq!(entries.len(), 2);
    assert_eq!(copies(&entries[0].1, 4), [0, 0, 0, 0]);
}

#[test]
fn percpu_hash_inserts_on_one_cpu_and_zeroes_the_others() {
    let p = keyed(".map m percpu_hash key=4 value=4 max=4\n", ADD5);
    let mut vm = on_cpu(&p, 3, 4);
    assert_eq!(vm.run(&key_input(7)).unwrap().r0, 0, "inserted 9 on CPU 3");
    let key = 7u32.to_le_bytes();
    assert_eq!(copies(&vm.map("m").unwrap().user_lookup(&key).unwrap(), 4), [0, 0, 0, 9]);
    vm.options_mut().cpu = 1;
    vm.run(&key_input(7)).unwrap();
    assert_eq!(copies(&vm.map("m").unwrap().user_lookup(&key).unwrap(), 4), [0, 5, 0, 9]);
    // A program update replaces only its CPU's copy.
    let set = keyed(
        ".map m percpu_hash key=4 value=4 max=4\n",
        "*(u32 *)(r10 - 16) = 1\nr1 = map(m) ll\nr3 = r10\nr3 += -16\nr4 = 0\ncall bpf_map_update_elem\n",
    );
    let mut setter = on_cpu(&set, 0, 4);
    let mut all = vec![0u8; 32];
    all[8] = 4;
    all[24] = 6;
    setter.map_mut("m").unwrap().user_update(&key, &all, 0).unwrap();
    assert_eq!(setter.run(&key_input(7)).unwrap().r0, 0);
    assert_eq!(copies(&setter.map("m").unwrap().user_lookup(&key).unwrap(), 4), [1, 4, 0, 6]);
}

#[test]
fn percpu_maps_count_on_cpu_0_in_both_engines() {
    if !kernel::require_or_skip("percpu_maps_count_on_cpu_0_in_both_engines") {
        return;
    }
    // The kernel backend pins runs to CPU 0; a socket program avoids the mem buffer's map.
    let ncpus = kernel::possible_cpus();
    for ty in ["percpu_array", "percpu_hash"] {
        let src = format!(
            ".prog socket\n.map m {ty} key=4 value=4 max=4\n*(u32 *)(r10 - 4) = 1\nr2 = r10\nr2 += -4\n{ADD5}r0 = 0\nexit\n"
        );
        let p = llvm(&src);
        let input = Input::skb(vec![0; 64], Default::default());
        let options = ebpf_lab::engine::EngineOptions {
            run: RunOptions { ncpus: ncpus as u32, ..RunOptions::default() },
            ..Default::default()
        };
        let mut views = Vec::new();
        for name in ["interp", "kernel"] {
            let mut e = ebpf_lab::engine::open(name, &p, &options, &input).unwrap_or_else(|e| panic!("{name}: {e}"));
            for _ in 0..3 {
                e.run(&input).unwrap_or_else(|e| panic!("{name}: {e}"));
            }
            let mut entries = e.map_entries("m").unwrap();
            entries.retain(|(k, _)| k[..] == 1u32.to_ne_bytes());
            views.push(entries);
        }
        assert_eq!(views[0], views[1], "{ty}");
        let mut want = vec![0u32; ncpus];
        // An array element exists from the start (0 + 5 + 5 + 5); a hash element is inserted as 9.
        want[0] = if ty == "percpu_array" { 15 } else { 9 + 5 + 5 };
        assert_eq!(copies(&views[0][0].1, ncpus), want, "{ty}");
    }
}

#[test]
fn lru_hash_evicts_the_least_recently_used_when_full() {
    let maps = ".map m lru_hash key=4 value=8 max=2\n";
    let mut vm = Vm::new(&keyed(maps, COUNT)).unwrap();
    assert_eq!(vm.run(&key_input(1)).unwrap().r0, 0);
    assert_eq!(vm.run(&key_input(2)).unwrap().r0, 0);
    // Key 1 is used again (a lookup marks it), so key 2 is the least recently used...
    assert_eq!(vm.run(&key_input(1)).unwrap().r0, 2);
    // ...and inserting key 3 into the full map evicts it instead of failing with -E2BIG.
    assert_eq!(vm.run(&key_input(3)).unwrap().r0, 0);
    assert_eq!(user_u64(&vm, "m", 1), Some(2));
    assert_eq!(user_u64(&vm, "m", 2), None, "evicted");
    assert_eq!(user_u64(&vm, "m", 3), Some(1));
    // Now key 1 is the oldest use.
    assert_eq!(vm.run(&key_input(4)).unwrap().r0, 0);
    assert_eq!(user_u64(&vm, "m", 1), None, "evicted");
    assert_eq!(vm.map("m").unwrap().len(), 2);
}

#[test]
fn lru_hash_inserts_into_a_full_map_succeed_in_both_engines() {
    if !kernel::require_or_skip("lru_hash_inserts_into_a_full_map_succeed_in_both_engines") {
        return;
    }
    // Three inserts into a two-element LRU map: all succeed (r0 = 0 | 0 | 0) and the newest key
    // is present. Which older key the kernel evicts depends on its per-CPU free lists, so only
    // the newest is compared.
    let mut body = String::from("r7 = 0\n");
    for k in 1..=3 {
        body.push_str(&format!(
            "*(u32 *)(r10 - 4) = {k}\n*(u64 *)(r10 - 16) = {k}\nr1 = map(m) ll\nr2 = r10\nr2 += -4\nr3 = r10\nr3 += -16\nr4 = 0\ncall bpf_map_update_elem\nr7 |= r0\n"
        ));
    }
    let p = llvm(&format!(".prog syscall\n.map m lru_hash key=4 value=8 max=2\n{body}r0 = r7\nexit\n"));
    let input = Input::Syscall(vec![0; 8]);
    for name in ["interp", "kernel"] {
        let mut e = open(name, &p, &input);
        assert_eq!(e.run(&input).unwrap().outcome.r0, 0, "{name}");
        let entries = e.map_entries("m").unwrap();
        assert!(entries.len() <= 2, "{name}: {entries:?}");
        assert!(entries.contains(&(3u32.to_ne_bytes().to_vec(), 3u64.to_ne_bytes().to_vec())), "{name}: {entries:?}");
    }
}

#[test]
fn prog_array_tail_calls_reach_added_programs_that_share_the_maps() {
    // Main: tail-calls slot `input[0]`; if that fails, returns 1. Targets write their number to
    // the shared array `seen` and return 100 + it.
    let maps = ".map jt prog_array key=4 value=4 max=4\n.map seen array key=4 value=8 max=1\n";
    let main = llvm(&format!(
        "{maps}r3 = *(u8 *)(r1 + 0)
r2 = map(jt) ll
call bpf_tail_call
r0 = 1
exit
"
    ));
    let target = |n: u32| {
        llvm(&format!(
            "{maps}*(u32 *)(r10 - 4) = 0
r1 = map(seen) ll
r2 = r10
r2 += -4
call bpf_map_lookup_elem
if r0 == 0 goto out
*(u64 *)(r0 + 0) = {n}
r0 = {}
out:
exit
",
            100 + n
        ))
    };
    let mut vm = Vm::new(&main).unwrap();
    let t1 = vm.add_program(&target(1)).unwrap();
    let t2 = vm.add_program(&target(2)).unwrap();
    assert_eq!((t1, t2), (1, 2));
    let jt = vm.map_mut("jt").unwrap();
    jt.user_update(&0u32.to_le_bytes(), &t1.to_le_bytes(), 0).unwrap();
    jt.user_update(&3u32.to_le_bytes(), &t2.to_le_bytes(), 0).unwrap();
    let run = |vm: &mut Vm, slot: u8| vm.run(&Input::mem(vec![slot])).unwrap().r0;
    assert_eq!(run(&mut vm, 0), 101);
    assert_eq!(user_u64(&vm, "seen", 0), Some(1), "the target wrote the main program's map");
    assert_eq!(run(&mut vm, 3), 102);
    assert_eq!(user_u64(&vm, "seen", 0), Some(2));
    assert_eq!(run(&mut vm, 1), 1, "empty slot: falls through");
    assert_eq!(run(&mut vm, 200), 1, "index out of range: falls through");
    // Emptying the slot from user space makes the call fall through; each run starts in main.
    vm.map_mut("jt").unwrap().delete(&0u32.to_le_bytes()).unwrap();
    assert_eq!(run(&mut vm, 0), 1);
    assert_eq!(run(&mut vm, 3), 102);
}

#[test]
fn prog_array_and_ringbuf_have_no_values_for_programs() {
    for ty in ["prog_array key=4 value=4 max=4", "ringbuf key=0 value=0 max=4096"] {
        let p = llvm(&format!(
            ".map m {ty}\n*(u32 *)(r10 - 4) = 0\nr1 = map(m) ll\nr2 = r10\nr2 += -4\ncall bpf_map_lookup_elem\nexit\n"
        ));
        let e = run_with(&p, RunOptions::default(), &Input::mem(vec![])).unwrap_err();
        assert!(matches!(&e.kind, ErrorKind::HelperFault { id: 1, .. }), "{ty}: {e}");
        assert!(e.to_string().contains("cannot be used with a"), "{ty}: {e}");
    }
}

#[test]
fn ringbuf_keeps_records_across_runs_until_consumed() {
    // Each run outputs one 256-byte record (264 bytes with its header) holding the input byte;
    // r0 is the helper's result. 15 fit in a 4096-byte ring.
    let p = llvm(
        ".map rb ringbuf key=0 value=0 max=4096
r6 = *(u8 *)(r1 + 0)
r2 = r10
r2 += -256
r3 = 0
zero:
r4 = r2
r4 += r3
*(u64 *)(r4 + 0) = r6
r3 += 8
if r3 < 256 goto zero
r1 = map(rb) ll
r3 = 256
r4 = 0
call bpf_ringbuf_output
exit
",
    );
    let mut vm = Vm::new(&p).unwrap();
    for i in 0..15u8 {
        assert_eq!(vm.run(&Input::mem(vec![i])).unwrap().r0, 0, "record {i}");
    }
    assert_eq!(vm.run(&Input::mem(vec![99])).unwrap().r0 as i64, -11, "full: -EAGAIN");
    let rb = vm.map_mut("rb").unwrap().ringbuf_mut().unwrap();
    let records = rb.consume();
    assert_eq!(records.len(), 15);
    assert!(records.iter().enumerate().all(|(i, r)| r.len() == 256 && r[0] == i as u8 && r[255] == 0));
    assert_eq!(vm.run(&Input::mem(vec![42])).unwrap().r0, 0, "consuming freed the space");
    assert_eq!(vm.map("rb").unwrap().ringbuf().unwrap().records()[0][0], 42);
}
