//! Helpers whose answers come from the world of the kernel's test run, held against it:
//! `bpf_get_hash_recalc` and `bpf_get_ns_current_pid_tgid`, whose values cannot be equal (a key
//! drawn at boot, the task running the test), by their properties — the same answers for the
//! same flow and for its reverse, other answers for another flow, `skb->hash` set; pid and tgid
//! in the right namespace, `-EINVAL` and zeros for another one or another size — and
//! `bpf_fib_lookup` by its answers, where the test run's namespace does not forward.

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

#[test]
fn fib_lookup_answers_as_the_test_run_on_loopback_without_forwarding() {
    let test = "fib_lookup_answers_as_the_test_run_on_loopback_without_forwarding";
    if !clang_or_skip(test) || !kernel::require_or_skip(test) {
        return;
    }
    let forwarding = ["/proc/sys/net/ipv4/conf/lo/forwarding", "/proc/sys/net/ipv6/conf/lo/forwarding"];
    if forwarding.iter().any(|f| std::fs::read_to_string(f).is_ok_and(|v| v.trim() != "0")) {
        println!("skipping: loopback forwards here, the kernel looks routes up [{test}]");
        return;
    }
    let src = r#"
#include "lab.h"
static long (*bpf_fib_lookup)(void *ctx, struct bpf_fib_lookup *params, int plen, __u32 flags) =
    (void *)BPF_FUNC_fib_lookup;
__u64 out[6];
__u8 after[64];
static __always_inline long look(void *ctx, __u8 family, __u32 ifindex, __u32 flags)
{
	struct bpf_fib_lookup p = {};
	p.family = family;
	p.l4_protocol = 17;
	p.tot_len = 46;
	p.ifindex = ifindex;
	p.ipv4_src = 0x0100000a;
	p.ipv4_dst = 0x08080808;
	long r = bpf_fib_lookup(ctx, &p, sizeof(p), flags);
	__builtin_memcpy(after, &p, sizeof(p));
	return r;
}
SEC("xdp")
int fib(struct xdp_md *ctx)
{
	out[1] = look(ctx, 10, 1, BPF_FIB_LOOKUP_DIRECT);
	out[2] = look(ctx, 2, 1000, 0);
	out[3] = look(ctx, 7, 1, 0);
	out[4] = look(ctx, 2, 1, 0x40);
	out[5] = look(ctx, 2, 0, 0);
	out[0] = look(ctx, 2, ctx->ingress_ifindex, 0);
	return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
"#;
    let o = compile_c("fib_lookup", src);
    let p = program_from_elf("fib_lookup", &std::fs::read(o).unwrap(), None).unwrap();
    let input = Input::xdp(udp([10, 0, 0, 1], [8, 8, 8, 8], 1, 2));
    let var = |name: &str| ebpf_lab::global_data::find_global(&p, name).unwrap().1.clone();
    let (out, after) = (var("out"), var("after"));
    let (mut answers, mut params) = (Vec::new(), Vec::new());
    for name in ["interp", "jit", "kernel"] {
        let mut e = engine::open(name, &p, &EngineOptions::default(), &input).unwrap();
        e.run(&input).unwrap();
        let bss = e.map_entries(".bss").unwrap()[0].1.clone();
        let g = &p.globals[ebpf_lab::global_data::find_global(&p, "out").unwrap().0];
        answers.push(words(g.var_bytes(&out, &bss)));
        params.push(g.var_bytes(&after, &bss).to_vec());
    }
    let (enodev, eafnosupport, einval) = ((-19i64) as u64, (-97i64) as u64, (-22i64) as u64);
    assert_eq!(answers[0], [5, 5, enodev, eafnosupport, einval, enodev], "interp: FWD_DISABLED and the errors");
    assert_eq!(answers[1], answers[0], "jit");
    assert_eq!(answers[2], answers[0], "kernel");
    assert_eq!(params[2], params[0], "params after the lookup");
}
