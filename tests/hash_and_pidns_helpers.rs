//! `bpf_get_hash_recalc` and `bpf_get_ns_current_pid_tgid` held against the kernel's test run
//! where their values cannot be equal (a key drawn at boot, the task running the test): the
//! properties must be — the same answers for the same flow and for its reverse, other answers
//! for another flow, `skb->hash` set; pid and tgid in the right namespace, `-EINVAL` and zeros
//! for another one or another size.

mod c_common;
use c_common::{clang_or_skip, compile_c};
use ebpf_lab::elf::program_from_elf;
use ebpf_lab::engine::{self, EngineOptions};
use ebpf_lab::interp::{Input, SkbFields};
use ebpf_lab::kernel;

/// An IPv4 UDP frame from `src:sport` to `dst:dport`.
fn udp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16) -> Vec<u8> {
    let mut p = vec![0u8; 60];
    p[12..14].copy_from_slice(&[0x08, 0x00]);
    p[14..34].copy_from_slice(&[0x45, 0, 0, 46, 0, 0, 0x40, 0, 64, 17, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    p[26..30].copy_from_slice(&src);
    p[30..34].copy_from_slice(&dst);
    p[34..36].copy_from_slice(&sport.to_be_bytes());
    p[36..38].copy_from_slice(&dport.to_be_bytes());
    p
}

fn words(v: &[u8]) -> Vec<u64> {
    v.chunks(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect()
}

#[test]
fn get_hash_recalc_hashes_a_flow_and_its_reverse_alike_on_every_engine() {
    let test = "get_hash_recalc_hashes_a_flow_and_its_reverse_alike_on_every_engine";
    if !clang_or_skip(test) || !kernel::require_or_skip(test) {
        return;
    }
    let src = r#"
#include "lab.h"
static __u32 (*bpf_get_hash_recalc)(struct __sk_buff *skb) = (void *)BPF_FUNC_get_hash_recalc;
__u64 seen_hash;
SEC("tc")
int h(struct __sk_buff *skb) { __u32 h = bpf_get_hash_recalc(skb); seen_hash = skb->hash; return h; }
char LICENSE[] SEC("license") = "GPL";
"#;
    let o = compile_c("hash_recalc", src);
    let p = program_from_elf("hash_recalc", &std::fs::read(o).unwrap(), None).unwrap();
    let forward = udp([10, 0, 0, 1], [10, 0, 0, 2], 1000, 53);
    let reverse = udp([10, 0, 0, 2], [10, 0, 0, 1], 53, 1000);
    let other = udp([10, 0, 0, 1], [10, 0, 0, 2], 1001, 53);
    let opts = EngineOptions::default();
    let first = Input::skb(forward.clone(), SkbFields::default());
    for name in ["interp", "jit", "kernel"] {
        let mut e = engine::open(name, &p, &opts, &first).unwrap();
        let mut hash = |pkt: &Vec<u8>| {
            let r = e.run(&Input::skb(pkt.clone(), SkbFields::default())).unwrap();
            let stored = words(&e.map_entries(".bss").unwrap()[0].1)[0];
            assert_eq!(stored, r.outcome.r0, "{name}: skb->hash after the call");
            r.outcome.r0
        };
        let (f, r, o) = (hash(&forward), hash(&reverse), hash(&other));
        assert_ne!(f, 0, "{name}: a hash is never 0");
        assert_eq!(f, hash(&forward), "{name}: one flow, one hash");
        assert_eq!(f, r, "{name}: both directions hash alike");
        assert_ne!(f, o, "{name}: another port, another hash");
    }
}

#[test]
fn get_ns_current_pid_tgid_answers_in_the_own_namespace_only_on_every_engine() {
    let test = "get_ns_current_pid_tgid_answers_in_the_own_namespace_only_on_every_engine";
    if !clang_or_skip(test) || !kernel::require_or_skip(test) {
        return;
    }
    use std::os::unix::fs::MetadataExt;
    let ns = std::fs::metadata("/proc/self/ns/pid").unwrap();
    let src = format!(
        r#"
#include "lab.h"
struct pidns_info {{ __u32 pid, tgid; }};
static long (*bpf_get_ns_current_pid_tgid)(__u64 dev, __u64 ino, void *nsdata, __u32 size) =
    (void *)BPF_FUNC_get_ns_current_pid_tgid;
__u64 out[6];
SEC("xdp")
int n(struct xdp_md *ctx)
{{
	struct pidns_info own = {{7, 7}}, other = {{7, 7}};
	__u32 small = 7;
	out[0] = bpf_get_ns_current_pid_tgid({dev}ULL, {ino}ULL, &own, sizeof(own));
	out[1] = own.pid;
	out[2] = own.tgid;
	out[3] = bpf_get_ns_current_pid_tgid({dev}ULL, {ino}ULL + 1, &other, sizeof(other));
	out[4] = other.pid | other.tgid;
	out[5] = bpf_get_ns_current_pid_tgid({dev}ULL, {ino}ULL, &small, sizeof(small)) + small;
	return XDP_PASS;
}}
char LICENSE[] SEC("license") = "GPL";
"#,
        dev = ns.dev(),
        ino = ns.ino()
    );
    let o = compile_c("ns_pid", &src);
    let p = program_from_elf("ns_pid", &std::fs::read(o).unwrap(), None).unwrap();
    let input = Input::xdp(udp([10, 0, 0, 1], [10, 0, 0, 2], 1, 2));
    let einval = (-22i64) as u64;
    for name in ["interp", "jit", "kernel"] {
        let mut e = engine::open(name, &p, &EngineOptions::default(), &input).unwrap();
        e.run(&input).unwrap();
        let out = words(&e.map_entries(".bss").unwrap()[0].1);
        assert_eq!(out[0], 0, "{name}: own namespace");
        // The kernel's task is the test's thread; ebpf-lab's is fixed.
        let tgid = if name == "kernel" { u64::from(std::process::id()) } else { 4242 };
        assert_eq!(out[2], tgid, "{name}: tgid");
        assert_ne!(out[1], 0, "{name}: pid");
        assert_eq!(out[3..], [einval, 0, einval], "{name}: another namespace, another size");
    }
}
