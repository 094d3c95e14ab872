//! Calls and exits: helpers checked against their prototypes in `runtime::helpers` (argument
//! kinds, memory + size pairs, map key and value sizes, which helpers a program type may call,
//! `r1`–`r5` clobbered, what `r0` becomes, references to release), bpf-to-bpf calls (a new frame,
//! at most 8), and `exit` (from a function back to its caller, or from the program: `r0` written,
//! no reference held).

use super::alu::read_reg;
use super::explore::{verr, Env, Next, VResult};
use super::mem::helper_mem;
use super::reg::{RegKind, RegState};
use super::stack::SlotType;
use super::state::{Frame, Reference, VState};
use crate::isa::{CallTarget, Reg};
use crate::program::{MapType, ProgType};
use crate::runtime::helpers::{self, ArgType, RetType};

/// The kernel's limit on nested calls (`MAX_CALL_FRAMES`).
pub const MAX_CALL_FRAMES: usize = 8;

/// Helpers every program type may call (`bpf_base_func_proto`, as root).
const BASE: &[&str] = &[
    "map_lookup_elem",
    "map_update_elem",
    "map_delete_elem",
    "map_push_elem",
    "map_pop_elem",
    "map_peek_elem",
    "map_lookup_percpu_elem",
    "get_prandom_u32",
    "get_smp_processor_id",
    "get_numa_node_id",
    "tail_call",
    "ktime_get_ns",
    "ktime_get_boot_ns",
    "ktime_get_coarse_ns",
    "ktime_get_tai_ns",
    "ringbuf_output",
    "ringbuf_reserve",
    "ringbuf_submit",
    "ringbuf_discard",
    "ringbuf_query",
    "for_each_map_elem",
    "loop",
    "strncmp",
    "jiffies64",
    "get_current_pid_tgid",
    "get_ns_current_pid_tgid",
    "trace_printk",
    "trace_vprintk",
    "snprintf",
    "probe_read_user",
    "probe_read_kernel",
    "probe_read_user_str",
    "probe_read_kernel_str",
    "get_current_task",
    "get_current_task_btf",
    "per_cpu_ptr",
    "this_cpu_ptr",
    "spin_lock",
    "spin_unlock",
    "timer_init",
    "timer_set_callback",
    "timer_start",
    "timer_cancel",
    "kptr_xchg",
    "dynptr_from_mem",
    "dynptr_read",
    "dynptr_write",
    "dynptr_data",
    "ringbuf_reserve_dynptr",
    "ringbuf_submit_dynptr",
    "ringbuf_discard_dynptr",
    "user_ringbuf_drain",
    "cgrp_storage_get",
    "cgrp_storage_delete",
    "task_storage_get",
    "task_storage_delete",
];

/// Tracing programs add these (`bpf_tracing_func_proto`).
const TRACING: &[&str] = &[
    "get_current_uid_gid",
    "get_current_comm",
    "perf_event_output",
    "get_stackid",
    "get_stack",
    "probe_read",
    "probe_read_str",
    "get_current_cgroup_id",
    "get_current_ancestor_cgroup_id",
    "send_signal",
    "send_signal_thread",
    "perf_event_read",
    "perf_event_read_value",
    "current_task_under_cgroup",
    "get_func_ip",
    "get_attach_cookie",
    "get_task_stack",
    "find_vma",
    "get_branch_snapshot",
    "probe_write_user",
];

/// Socket filters add these (`sk_filter_func_proto`).
const SOCKET: &[&str] =
    &["skb_load_bytes", "skb_load_bytes_relative", "get_socket_cookie", "get_socket_uid", "perf_event_output"];

/// XDP programs add these (`xdp_func_proto`).
const XDP: &[&str] = &[
    "perf_event_output",
    "csum_diff",
    "xdp_adjust_head",
    "xdp_adjust_meta",
    "redirect",
    "redirect_map",
    "xdp_adjust_tail",
    "xdp_get_buff_len",
    "xdp_load_bytes",
    "xdp_store_bytes",
    "fib_lookup",
    "check_mtu",
    "sk_lookup_udp",
    "sk_lookup_tcp",
    "sk_release",
    "skc_lookup_tcp",
    "tcp_check_syncookie",
    "tcp_gen_syncookie",
];

/// tc classifiers add these (`tc_cls_act_func_proto`).
const TC: &[&str] = &[
    "skb_store_bytes",
    "skb_load_bytes",
    "skb_load_bytes_relative",
    "skb_pull_data",
    "csum_diff",
    "csum_update",
    "csum_level",
    "l3_csum_replace",
    "l4_csum_replace",
    "clone_redirect",
    "get_cgroup_classid",
    "skb_vlan_push",
    "skb_vlan_pop",
    "skb_change_proto",
    "skb_change_type",
    "skb_adjust_room",
    "skb_change_tail",
    "skb_change_head",
    "skb_get_tunnel_key",
    "skb_set_tunnel_key",
    "skb_get_tunnel_opt",
    "skb_set_tunnel_opt",
    "redirect",
    "redirect_neigh",
    "redirect_peer",
    "get_route_realm",
    "get_hash_recalc",
    "set_hash_invalid",
    "set_hash",
    "perf_event_output",
    "skb_under_cgroup",
    "get_socket_cookie",
    "get_socket_uid",
    "fib_lookup",
    "skb_get_xfrm_state",
    "skb_cgroup_classid",
    "skb_cgroup_id",
    "skb_ancestor_cgroup_id",
    "sk_fullsock",
    "sk_storage_get",
    "sk_storage_delete",
    "sk_release",
    "tcp_sock",
    "get_listener_sock",
    "skc_lookup_tcp",
    "tcp_check_syncookie",
    "skb_ecn_set_ce",
    "tcp_gen_syncookie",
    "sk_assign",
    "skb_set_tstamp",
    "check_mtu",
    "sk_lookup_tcp",
    "sk_lookup_udp",
];

/// cgroup skb programs add these to the socket filter's (`cg_skb_func_proto`).
const CGROUP_SKB: &[&str] = &[
    "get_local_storage",
    "sk_fullsock",
    "sk_storage_get",
    "sk_storage_delete",
    "skb_cgroup_id",
    "skb_ancestor_cgroup_id",
    "sk_cgroup_id",
    "sk_ancestor_cgroup_id",
    "tcp_sock",
    "get_listener_sock",
    "skb_ecn_set_ce",
];

/// cgroup/sock programs add these (`sock_filter_func_proto`).
const CGROUP_SOCK: &[&str] = &[
    "get_socket_cookie",
    "get_netns_cookie",
    "get_current_uid_gid",
    "get_current_comm",
    "get_current_cgroup_id",
    "get_current_ancestor_cgroup_id",
    "get_cgroup_classid",
    "sk_storage_get",
    "get_local_storage",
];

/// sk_lookup programs add these (`sk_lookup_func_proto`).
const SK_LOOKUP: &[&str] = &["perf_event_output", "sk_assign", "sk_release"];

/// Every lightweight tunnel program adds these (`lwt_out_func_proto`).
const LWT: &[&str] = &[
    "skb_load_bytes",
    "skb_pull_data",
    "csum_diff",
    "get_cgroup_classid",
    "get_route_realm",
    "get_hash_recalc",
    "perf_event_output",
    "skb_under_cgroup",
];

/// lwt_xmit programs add these (`lwt_xmit_func_proto`); `lwt_in` only `lwt_push_encap`.
const LWT_XMIT: &[&str] = &[
    "skb_get_tunnel_key",
    "skb_set_tunnel_key",
    "skb_get_tunnel_opt",
    "skb_set_tunnel_opt",
    "redirect",
    "clone_redirect",
    "skb_change_tail",
    "skb_change_head",
    "skb_store_bytes",
    "csum_update",
    "csum_level",
    "l3_csum_replace",
    "l4_csum_replace",
    "set_hash_invalid",
    "lwt_push_encap",
];

/// Helpers that may move packet data, so every packet pointer is stale after them
/// (`bpf_helper_changes_pkt_data`).
const CHANGES_PKT_DATA: &[&str] = &[
    "skb_store_bytes",
    "l3_csum_replace",
    "l4_csum_replace",
    "skb_vlan_push",
    "skb_vlan_pop",
    "skb_change_proto",
    "skb_change_tail",
    "skb_pull_data",
    "skb_change_head",
    "xdp_adjust_head",
    "skb_adjust_room",
    "xdp_adjust_meta",
    "xdp_adjust_tail",
    "clone_redirect",
];

/// Whether a program of type `t` may call helper `name`.
pub fn allowed(t: ProgType, name: &str) -> bool {
    if BASE.contains(&name) || name.starts_with("skc_to_") {
        return true;
    }
    match t {
        ProgType::Mem | ProgType::Syscall => {
            TRACING.contains(&name) || matches!(name, "sys_bpf" | "btf_find_by_name_kind" | "sys_close")
        }
        ProgType::Tracepoint => TRACING.contains(&name),
        ProgType::Socket => SOCKET.contains(&name),
        ProgType::Xdp => XDP.contains(&name),
        ProgType::Tc => TC.contains(&name),
        ProgType::Kprobe => TRACING.contains(&name) || name == "override_return",
        ProgType::RawTracepoint => TRACING.contains(&name),
        ProgType::CgroupSkb => SOCKET.contains(&name) || CGROUP_SKB.contains(&name),
        ProgType::CgroupSock => CGROUP_SOCK.contains(&name),
        ProgType::SkLookup => SK_LOOKUP.contains(&name),
        ProgType::LwtIn => LWT.contains(&name) || name == "lwt_push_encap",
        ProgType::LwtOut => LWT.contains(&name),
        ProgType::LwtXmit => LWT.contains(&name) || LWT_XMIT.contains(&name),
    }
}

/// `check_map_func_compatibility`: map types that only some helpers take, and helpers that
/// only take some map types.
fn map_compatible(map: MapType, name: &str) -> bool {
    let ringbuf_fn = matches!(name, "ringbuf_output" | "ringbuf_reserve" | "ringbuf_query");
    let queue_fn = matches!(name, "map_push_elem" | "map_pop_elem" | "map_peek_elem");
    let perf_fn =
        matches!(name, "perf_event_read" | "perf_event_output" | "perf_event_read_value" | "skb_output" | "xdp_output");
    // The map's side: what each special map type may be passed to.
    let map_side = match map {
        MapType::Ringbuf => ringbuf_fn,
        MapType::ProgArray => name == "tail_call",
        MapType::PerfEventArray => perf_fn,
        MapType::Queue | MapType::Stack => queue_fn,
        MapType::ArrayOfMaps | MapType::HashOfMaps => name == "map_lookup_elem",
        MapType::Devmap | MapType::Xskmap => matches!(name, "redirect_map" | "map_lookup_elem"),
        MapType::Cpumap => name == "redirect_map",
        _ => true,
    };
    // The helper's side: which map types each special helper takes.
    let func_side = match name {
        "tail_call" => map == MapType::ProgArray,
        "redirect_map" => map.is_redirect_target(),
        _ if perf_fn => map == MapType::PerfEventArray,
        _ if queue_fn => matches!(map, MapType::Queue | MapType::Stack),
        _ if ringbuf_fn => map == MapType::Ringbuf,
        _ => true,
    };
    map_side && func_side
}

fn compatible_types(arg: ArgType) -> Option<&'static [&'static str]> {
    const MEM: &[&str] =
        &["fp", "pkt", "pkt_meta", "map_key", "map_value", "mem", "ringbuf_mem", "buf", "trusted_ptr_"];
    Some(match arg {
        ArgType::ConstMapPtr => &["map_ptr"],
        ArgType::PtrToMapKey | ArgType::PtrToMapValue | ArgType::PtrToUninitMapValue => MEM,
        ArgType::PtrToMem
        | ArgType::PtrToMemReadonly
        | ArgType::PtrToMemOrNull
        | ArgType::PtrToMemReadonlyOrNull
        | ArgType::PtrToUninitMem => MEM,
        ArgType::ConstSize | ArgType::ConstSizeOrZero | ArgType::ConstAllocSizeOrZero => &["scalar"],
        ArgType::PtrToCtx => &["ctx"],
        ArgType::PtrToRingbufMem => &["ringbuf_mem"],
        ArgType::PtrToConstStr => &["map_value"],
        ArgType::PtrToFunc => &["func"],
        ArgType::PtrToStackOrNull => &["fp"],
        ArgType::Anything => return None,
    })
}

fn may_be_null(arg: ArgType) -> bool {
    matches!(arg, ArgType::PtrToMemOrNull | ArgType::PtrToMemReadonlyOrNull | ArgType::PtrToStackOrNull)
}

/// What the helper call learned from its arguments (`struct bpf_call_arg_meta`).
#[derive(Default)]
struct Meta {
    map: Option<u32>,
    /// The callback's first slot (`subprogno`).
    callback: Option<usize>,
    const_key: Option<u64>,
    mem_size: u32,
    release: Option<(u8, u32)>,
}

/// The constant key on the stack, for array lookups that cannot fail (`get_constant_map_key`).
fn constant_key(st: &VState, key: &RegState, key_size: u32) -> Option<u64> {
    if key.kind != RegKind::Stack {
        return None;
    }
    let at = key.off as i64 + key.var.const_value()? as i64;
    let frame = st.frames.get(key.frame as usize)?;
    let slot = (-at - 1) as usize;
    let (spi, k) = (slot / 8, slot % 8);
    let s = frame.stack.slots.get(spi)?;
    let zeros = (0..=k).rev().take_while(|&i| s.types[i] == SlotType::Zero).count();
    if zeros >= key_size as usize {
        return Some(0);
    }
    if !(s.is_spill() && s.spilled.kind == RegKind::Scalar) {
        return None;
    }
    let spills = (0..=k).rev().take_while(|&i| s.types[i] == SlotType::Spill).count();
    if spills != key_size as usize {
        return None;
    }
    s.spilled.var.const_value()
}

/// `check_mem_size_reg`: the size argument in `n` for the memory in `n - 1`.
fn mem_size_arg(env: &mut Env, st: &mut VState, n: u8, write: bool, zero_ok: bool) -> VResult<()> {
    let r = st.cur().regs[n as usize];
    if r.var.smin < 0 {
        return Err(verr(format!("R{n} min value is negative, either use unsigned or 'var &= const'"), &[n]));
    }
    if r.var.umin == 0 && !zero_ok {
        return Err(verr(format!("R{n} invalid zero-sized read: u64=[{},{}]", r.var.umin, r.var.umax), &[n]));
    }
    if r.var.umax >= 1 << 29 {
        return Err(verr(format!("R{n} unbounded memory access, use 'var &= const' or 'if (var < const)'"), &[n]));
    }
    helper_mem(env, st, n - 1, r.var.umax, write, zero_ok)
}

/// Checks a call at `pc`.
pub fn check_call(env: &mut Env, st: &mut VState, pc: usize, target: CallTarget) -> VResult<Next> {
    match target {
        CallTarget::Helper(id) => match helper_call(env, st, pc, id)? {
            // The callback's visit waits; the caller goes on after the call.
            Some((start, visit)) => Ok(Next::Fork { target: start, state: Box::new(visit) }),
            None => Ok(Next::Goto(pc + 1)),
        },
        CallTarget::Local(off) => {
            if st.curframe() + 1 >= MAX_CALL_FRAMES {
                return Err(verr(format!("the call stack of {} frames is too deep", st.curframe() + 2), &[]));
            }
            let start = (pc as i64 + off as i64 + 1) as usize;
            let sub = env.cfg.subprog_of(start);
            let mut callee = Frame::new(st.frames.len() as u8, pc, sub);
            for r in 1..=5 {
                callee.regs[r] = st.cur().regs[r];
            }
            for r in 0..=5 {
                st.cur_mut().regs[r] = RegState::not_init();
            }
            st.frames.push(callee);
            Ok(Next::Goto(start))
        }
        CallTarget::Kfunc { btf_id, .. } => Err(verr(format!("kernel btf_id {btf_id} is not a function"), &[])),
    }
}

/// Checks a helper call; for one that calls back, also returns the callback's visit to explore
/// (its first slot and state).
fn helper_call(env: &mut Env, st: &mut VState, pc: usize, id: i32) -> VResult<Option<(usize, VState)>> {
    let h = u32::try_from(id).ok().and_then(helpers::helper).filter(|h| h.id != 0);
    let Some(h) = h else {
        let name = u32::try_from(id).ok().and_then(helpers::helper).map_or("unknown".to_string(), |h| h.c_name());
        return Err(verr(format!("invalid func {name}#{id}"), &[]));
    };
    if !allowed(env.prog_type, h.name) {
        return Err(verr(format!("program of this type cannot use helper {}#{id}", h.c_name()), &[]));
    }
    let Some(proto) = h.proto else {
        // A helper ebpf-lab knows by name only: its arguments are not checked.
        clobber(st);
        st.cur_mut().regs[0] = RegState::unknown();
        return Ok(None);
    };
    if h.name == "tail_call" && !st.refs.is_empty() {
        return Err(verr("tail_call would lead to reference leak", &[]));
    }
    let mut meta = Meta::default();
    for (i, &arg) in proto.args.iter().enumerate() {
        let n = i as u8 + 1;
        let reg = read_reg(st, Reg::new(n).expect("r1-r5"))?;
        if arg == ArgType::Anything {
            continue;
        }
        if reg.kind.is_pkt() && env.prog_type == ProgType::Socket {
            return Err(verr("helper access to the packet is not allowed", &[n]));
        }
        let null_ok = may_be_null(arg) && reg.is_null();
        if !null_ok {
            if let Some(types) = compatible_types(arg) {
                let name = reg.kind.kernel_name();
                let flag_ok = !reg.maybe_null || may_be_null(arg);
                if !(types.contains(&name) && flag_ok && reg.is_init()) {
                    let msg = format!("R{n} type={} expected={}", reg.type_str(), types.join(", "));
                    return Err(verr(msg, &[n]));
                }
            }
            if matches!(reg.kind, RegKind::Ctx | RegKind::Func | RegKind::MapPtr) {
                super::mem::check_ptr_off(&reg, n)?;
            }
        }
        if arg == ArgType::PtrToRingbufMem {
            if reg.off != 0 || reg.var.const_value() != Some(0) {
                return Err(verr(
                    format!("R{n} must have zero offset when passed to release func or trusted arg to kfunc"),
                    &[n],
                ));
            }
            if reg.ref_id == 0 {
                return Err(verr(format!("R{n} must be referenced when passed to release function"), &[n]));
            }
            meta.release = Some((n, reg.ref_id));
        }
        match arg {
            ArgType::ConstMapPtr => meta.map = Some(reg.map),
            ArgType::PtrToFunc => meta.callback = Some(reg.mem_size as usize),
            ArgType::PtrToMapKey => {
                let Some(m) = meta.map else { return Err(verr("invalid map_ptr to access map->key", &[n])) };
                let info = env.maps[m as usize].clone();
                helper_mem(env, st, n, info.key_size as u64, false, false)?;
                if matches!(info.map_type, MapType::Array | MapType::PercpuArray) {
                    meta.const_key = constant_key(st, &reg, info.key_size);
                }
            }
            ArgType::PtrToMapValue | ArgType::PtrToUninitMapValue => {
                let Some(m) = meta.map else { return Err(verr("invalid map_ptr to access map->value", &[n])) };
                let vs = env.maps[m as usize].value_size as u64;
                helper_mem(env, st, n, vs, arg == ArgType::PtrToUninitMapValue, false)?;
            }
            ArgType::ConstSize | ArgType::ConstSizeOrZero => {
                let write = proto.args.get(i.wrapping_sub(1)) == Some(&ArgType::PtrToUninitMem);
                mem_size_arg(env, st, n, write, arg == ArgType::ConstSizeOrZero)?;
            }
            ArgType::ConstAllocSizeOrZero => match reg.const_value() {
                Some(v) => meta.mem_size = v as u32,
                None => return Err(verr(format!("R{n} is not a known constant'"), &[n])),
            },
            _ => {}
        }
    }
    if h.name == "tail_call" && meta.map.is_some_and(|m| env.maps[m as usize].map_type != MapType::ProgArray) {
        return Err(verr("expected prog array map for tail call", &[]));
    }
    if let Some((_, ref_id)) = meta.release {
        st.refs.retain(|r| r.id != ref_id);
        st.for_each_reg(|r| {
            if r.ref_id == ref_id {
                *r = RegState::unknown();
            }
        });
    }
    let visit = match meta.callback {
        Some(start) => callback_visit(env, st, pc, h.name, start, meta.map)?,
        None => None,
    };
    clobber(st);
    let r0 = match proto.ret {
        RetType::Integer => RegState::unknown(),
        RetType::Void => RegState::not_init(),
        RetType::PtrToMapValueOrNull => {
            let Some(m) = meta.map else { return Err(verr("kernel subsystem misconfigured verifier", &[])) };
            let info = &env.maps[m as usize];
            let sure = h.name == "map_lookup_elem"
                && matches!(info.map_type, MapType::Array | MapType::PercpuArray)
                && meta.const_key.is_some_and(|k| k < info.max_entries as u64);
            let mut r = match info.inner {
                // A map of maps gives the inner map (`map_ptr_or_null`, the inner template).
                Some(inner) => RegState { map: inner, maybe_null: true, ..RegState::pointer(RegKind::MapPtr) },
                None => RegState { map: m, maybe_null: !sure, ..RegState::pointer(RegKind::MapValue) },
            };
            if r.maybe_null {
                r.id = env.new_id();
            }
            r
        }
        RetType::PtrToRingbufMemOrNull => {
            // One id for "may be NULL", then the reference's own (`acquire_reference`).
            env.new_id();
            let id = env.new_id();
            st.refs.push(Reference { id, insn: pc });
            RegState {
                maybe_null: true,
                mem_size: meta.mem_size,
                id,
                ref_id: id,
                ..RegState::pointer(RegKind::RingbufMem)
            }
        }
    };
    st.cur_mut().regs[0] = r0;
    if CHANGES_PKT_DATA.contains(&h.name) {
        st.for_each_reg(|r| {
            if matches!(r.kind, RegKind::Packet | RegKind::PacketEnd | RegKind::PacketMeta) {
                *r = RegState::unknown();
            }
        });
    }
    if let Some(m) = meta.map {
        let t = env.maps[m as usize].map_type;
        if !map_compatible(t, h.name) {
            return Err(verr(format!("cannot pass map_type {} into func {}#{id}", t.kernel_id(), h.c_name()), &[]));
        }
    }
    Ok(visit)
}

/// `push_callback_call`: the visit of the callback starting at slot `start` that helper `name`
/// (called at `pc`) makes, as a state to explore: the caller as at the call, plus the callback's
/// frame with the helper's arguments (`set_loop_callback_state`, `set_map_elem_callback_state`).
/// `bpf_loop` asks for no more visits than its loop count can make (`callback_depth`).
fn callback_visit(
    env: &mut Env,
    st: &mut VState,
    pc: usize,
    name: &str,
    start: usize,
    map: Option<u32>,
) -> VResult<Option<(usize, VState)>> {
    if name == "loop" && st.cur().callback_depth >= st.cur().regs[1].var.umax {
        st.cur_mut().callback_depth = 0;
        return Ok(None);
    }
    let map = match (name, map) {
        ("for_each_map_elem", Some(m)) => {
            let t = env.maps[m as usize].map_type;
            if !matches!(
                t,
                MapType::Array | MapType::PercpuArray | MapType::Hash | MapType::PercpuHash | MapType::LruHash
            ) {
                return Err(verr("callback function not allowed for map", &[]));
            }
            Some(m)
        }
        _ => None,
    };
    if st.curframe() + 1 >= MAX_CALL_FRAMES {
        return Err(verr(format!("the call stack of {} frames is too deep", st.curframe() + 2), &[]));
    }
    let mut visit = st.clone();
    visit.callback_unroll_depth += 1;
    visit.cur_mut().callback_depth += 1;
    st.cur_mut().callback_depth = 0;
    let caller = visit.cur().regs;
    let mut callee = Frame::new(visit.frames.len() as u8, pc, env.cfg.subprog_of(start));
    callee.callback_entry = Some(std::sync::Arc::new(visit.frames.clone()));
    match map {
        None => {
            // callback(u32 index, void *ctx)
            callee.regs[1] = RegState::unknown();
            callee.regs[2] = caller[3];
        }
        Some(m) => {
            // callback(map, key, value, ctx)
            callee.regs[1] = caller[1];
            callee.regs[2] = RegState { map: m, ..RegState::pointer(RegKind::MapKey) };
            callee.regs[3] = RegState { map: m, ..RegState::pointer(RegKind::MapValue) };
            callee.regs[4] = caller[3];
        }
    }
    visit.frames.push(callee);
    Ok(Some((start, visit)))
}

/// `r1`–`r5` are unreadable after a call.
fn clobber(st: &mut VState) {
    for r in 1..=5 {
        st.cur_mut().regs[r] = RegState::not_init();
    }
}

/// What a callback returns: a number in [0, 1] (`callback_ret_range`; 0 goes on, 1 stops).
fn callback_return(r0: &RegState) -> VResult<()> {
    if r0.kind != RegKind::Scalar {
        return Err(verr("R0 not a scalar value", &[0]));
    }
    let v = &r0.var;
    if v.smin >= 0 && v.smax <= 1 {
        return Ok(());
    }
    let mut msg = "At callback return the register R0 has".to_string();
    if v.smin > i64::MIN {
        msg.push_str(&format!(" smin={}", v.smin));
    }
    if v.smax < i64::MAX {
        msg.push_str(&format!(" smax={}", v.smax));
    }
    if v.smin == i64::MIN && v.smax == i64::MAX {
        msg.push_str(" unknown scalar value");
    }
    msg.push_str(" should have been in [0, 1]");
    Err(verr(msg, &[0]))
}

/// Checks `exit` at `pc`.
pub fn check_exit(env: &mut Env, st: &mut VState, pc: usize) -> VResult<Next> {
    let _ = pc;
    let depth = st.frames.len();
    if depth > env.base_frames + 1 || (env.base_frames == 1 && depth == 2) {
        // Back to the caller (for `mem` programs, the wrapper).
        let r0 = st.cur().regs[0];
        if r0.kind == RegKind::Stack {
            return Err(verr("cannot return stack pointer to the caller", &[0]));
        }
        if let Some(entry) = st.cur().callback_entry.clone() {
            callback_return(&r0)?;
            // Back to the helper call, which asks for another visit; see `state::widen_scalars`.
            let callee = st.frames.pop().expect("a frame");
            super::state::widen_scalars(&entry, st);
            return Ok(Next::Goto(callee.callsite));
        }
        let callee = st.frames.pop().expect("a frame");
        st.cur_mut().regs[0] = r0;
        if depth > env.base_frames + 1 {
            return Ok(Next::Goto(callee.callsite + 1));
        }
        // The wrapper stores r0 into its result map, then exits.
        read_reg(st, Reg::R0)?;
    }
    if let Some(r) = st.refs.first() {
        let at = r.insn + env.insn_shift;
        return Err(verr(format!("Unreleased reference id={} alloc_insn={at}", r.id), &[]));
    }
    let r0 = read_reg(st, Reg::R0)?;
    check_return_range(env.prog_type, &r0)?;
    Ok(Next::Done)
}

/// The values a program of type `t` may return, where the kernel enforces them
/// (`check_return_code`): cgroup skb (ingress), cgroup/sock and sk_lookup programs answer 0 or 1.
fn return_range(t: ProgType) -> Option<(i64, i64)> {
    matches!(t, ProgType::CgroupSkb | ProgType::CgroupSock | ProgType::SkLookup).then_some((0, 1))
}

/// Refuses an `r0` outside [`return_range`], in the kernel's words.
fn check_return_range(t: ProgType, r0: &RegState) -> VResult<()> {
    let Some((lo, hi)) = return_range(t) else { return Ok(()) };
    if r0.kind != RegKind::Scalar {
        return Err(verr(format!("At program exit the register R0 is not a known value ({})", r0.type_str()), &[0]));
    }
    if r0.var.smin >= lo && r0.var.smax <= hi {
        return Ok(());
    }
    let mut has = String::new();
    if r0.var.smin > i64::MIN {
        has += &format!(" smin={}", r0.var.smin);
    }
    if r0.var.smax < i64::MAX {
        has += &format!(" smax={}", r0.var.smax);
    }
    if has.is_empty() {
        has = " unknown scalar value".into();
    }
    Err(verr(format!("At program exit the register R0 has{has} should have been in [{lo}, {hi}]"), &[0]))
}
