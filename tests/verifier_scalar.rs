//! Laws of `ScalarValue`: every transfer function keeps every concrete result (soundness), a
//! branch edge keeps every pair of values that takes it, `branch_taken` is never wrong. Abstract
//! values are built from a few concrete values (which are then known members). The concrete
//! semantics are the interpreter's.
//!
//! Then the kernel's own words: states copied from verifier logs of Linux 6.18 on this machine
//! (`ebpf-lab check --log-level 2`), rebuilt through the same operations.

use ebpf_lab::interp::alu::{div32, div64, endian, mod32, mod64, sdiv32, sdiv64, sext, sext32, smod32, smod64};
use ebpf_lab::interp::branch::holds32;
use ebpf_lab::isa::{BinOp, EndianOp, JmpCond, Width};
use ebpf_lab::verifier::{ScalarValue, Tnum};
use proptest::prelude::*;

/// The smallest tnum holding every value.
fn tnum_of(xs: &[u64]) -> Tnum {
    let all = xs.iter().fold(u64::MAX, |a, &x| a & x);
    let any = xs.iter().fold(0, |a, &x| a | x);
    Tnum { value: all, mask: all ^ any }
}

/// Every view exactly fitted to `xs`, not synced.
fn fitted(xs: &[u64]) -> ScalarValue {
    ScalarValue {
        var_off: tnum_of(xs),
        smin: xs.iter().map(|&x| x as i64).min().unwrap(),
        smax: xs.iter().map(|&x| x as i64).max().unwrap(),
        umin: *xs.iter().min().unwrap(),
        umax: *xs.iter().max().unwrap(),
        s32_min: xs.iter().map(|&x| x as i32).min().unwrap(),
        s32_max: xs.iter().map(|&x| x as i32).max().unwrap(),
        u32_min: xs.iter().map(|&x| x as u32).min().unwrap(),
        u32_max: xs.iter().map(|&x| x as u32).max().unwrap(),
    }
}

/// The synced abstract value of `xs`.
fn abs(xs: &[u64]) -> ScalarValue {
    let mut v = fitted(xs);
    v.sync();
    v
}

/// Interesting 64-bit numbers: small, small negative, near 2^31, 2^32, 2^63, anything.
fn value() -> impl Strategy<Value = u64> {
    prop_oneof![
        0..300u64,
        (-300i64..300).prop_map(|x| x as u64),
        (0..64u32, -4i64..4).prop_map(|(k, d)| (1u64 << k).wrapping_add(d as u64)),
        (0..64u32, -4i64..4).prop_map(|(k, d)| (1u64 << k).wrapping_neg().wrapping_add(d as u64)),
        any::<u64>(),
    ]
}

/// One to four values.
fn values() -> impl Strategy<Value = Vec<u64>> {
    prop::collection::vec(value(), 1..5)
}

fn concrete_alu(op: BinOp, width: Width, x: u64, y: u64) -> u64 {
    let (a, b) = (x as u32, y as u32);
    match width {
        Width::W64 => match op {
            BinOp::Add => x.wrapping_add(y),
            BinOp::Sub => x.wrapping_sub(y),
            BinOp::Mul => x.wrapping_mul(y),
            BinOp::Div => div64(x, y),
            BinOp::SDiv => sdiv64(x, y),
            BinOp::Mod => mod64(x, y),
            BinOp::SMod => smod64(x, y),
            BinOp::Or => x | y,
            BinOp::And => x & y,
            BinOp::Lsh => x << (y & 63),
            BinOp::Rsh => x >> (y & 63),
            BinOp::Arsh => ((x as i64) >> (y & 63)) as u64,
            BinOp::Xor => x ^ y,
            BinOp::Mov => y,
            BinOp::MovSx8 => sext(y, 8),
            BinOp::MovSx16 => sext(y, 16),
            BinOp::MovSx32 => sext(y, 32),
        },
        Width::W32 => match op {
            BinOp::Add => a.wrapping_add(b) as u64,
            BinOp::Sub => a.wrapping_sub(b) as u64,
            BinOp::Mul => a.wrapping_mul(b) as u64,
            BinOp::Div => div32(x, b),
            BinOp::SDiv => sdiv32(x, b),
            BinOp::Mod => mod32(x, b),
            BinOp::SMod => smod32(x, b),
            BinOp::Or => (a | b) as u64,
            BinOp::And => (a & b) as u64,
            BinOp::Lsh => (a << (b & 31)) as u64,
            BinOp::Rsh => (a >> (b & 31)) as u64,
            BinOp::Arsh => ((a as i32) >> (b & 31)) as u32 as u64,
            BinOp::Xor => (a ^ b) as u64,
            BinOp::Mov | BinOp::MovSx32 => b as u64,
            BinOp::MovSx8 => sext32(y, 8),
            BinOp::MovSx16 => sext32(y, 16),
        },
    }
}

fn holds(cond: JmpCond, width: Width, x: u64, y: u64) -> bool {
    match width {
        Width::W32 => holds32(cond, x as u32, y as u32),
        Width::W64 => match cond {
            JmpCond::Eq => x == y,
            JmpCond::Ne => x != y,
            JmpCond::Set => x & y != 0,
            JmpCond::Gt => x > y,
            JmpCond::Ge => x >= y,
            JmpCond::Lt => x < y,
            JmpCond::Le => x <= y,
            JmpCond::Sgt => (x as i64) > (y as i64),
            JmpCond::Sge => (x as i64) >= (y as i64),
            JmpCond::Slt => (x as i64) < (y as i64),
            JmpCond::Sle => (x as i64) <= (y as i64),
        },
    }
}

const WIDTHS: [Width; 2] = [Width::W32, Width::W64];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    #[test]
    fn sync_never_loses_a_member(xs in values()) {
        let mut v = fitted(&xs);
        v.sync();
        for &x in &xs {
            prop_assert!(v.contains(x), "{x:#x} lost from {v:?}");
        }
    }

    #[test]
    fn every_alu_op_is_sound(xs in values(), ys in values(), shift in 0..64u64) {
        // Constant shift amounts too, so that shifts are tracked rather than unknown.
        let (a, b, c) = (abs(&xs), abs(&ys), ScalarValue::constant(shift));
        for op in BinOp::ALL {
            for width in WIDTHS {
                if op == BinOp::MovSx32 && width == Width::W32 {
                    continue;
                }
                let r = a.alu(op, width, &b);
                let rc = a.alu(op, width, &c);
                for &x in &xs {
                    prop_assert!(rc.contains(concrete_alu(op, width, x, shift)),
                        "{x:#x} {op:?} {shift} at {width:?}: {rc:?}");
                    for &y in &ys {
                        let z = concrete_alu(op, width, x, y);
                        prop_assert!(r.contains(z),
                            "{x:#x} {op:?} {y:#x} = {z:#x} at {width:?} not in {r:?} (from {a:?} and {b:?})");
                    }
                }
            }
        }
    }

    #[test]
    fn neg_endian_zext_and_loads_are_sound(xs in values()) {
        let a = abs(&xs);
        for &x in &xs {
            prop_assert!(a.neg(Width::W64).contains(x.wrapping_neg()));
            prop_assert!(a.neg(Width::W32).contains((x as u32).wrapping_neg() as u64));
            for op in [EndianOp::ToLe, EndianOp::ToBe, EndianOp::Swap] {
                for bits in [16u32, 32, 64] {
                    prop_assert!(a.endian(op, bits).contains(endian(x, op, bits as u8)),
                        "{op:?}{bits} of {x:#x} in {a:?}");
                }
            }
            prop_assert!(a.zext32().contains(x as u32 as u64));
            for size in [1u8, 2, 4, 8] {
                let bits = size * 8;
                let zero = if size == 8 { x } else { x & ((1u64 << bits) - 1) };
                prop_assert!(ScalarValue::loaded(size, false).contains(zero));
                if size < 8 {
                    prop_assert!(ScalarValue::loaded(size, true).contains(sext(x, bits)));
                }
            }
        }
    }

    #[test]
    fn refine_keeps_every_pair_that_takes_the_edge(xs in values(), ys in values()) {
        let (a, b) = (abs(&xs), abs(&ys));
        for cond in JmpCond::ALL {
            for width in WIDTHS {
                let decided = a.branch_taken(cond, width, &b);
                for taken in [true, false] {
                    let edge = a.refine(cond, width, &b, taken);
                    for &x in &xs {
                        for &y in &ys {
                            if holds(cond, width, x, y) != taken {
                                continue;
                            }
                            prop_assert!(decided.is_none_or(|d| d == taken),
                                "branch_taken({cond:?}, {width:?}) wrong for {x:#x}, {y:#x}");
                            let Some((ra, rb)) = edge else {
                                return Err(TestCaseError::fail(format!(
                                    "{cond:?} {width:?} taken={taken}: edge called impossible for {x:#x}, {y:#x}")));
                            };
                            prop_assert!(ra.contains(x) && rb.contains(y),
                                "{cond:?} {width:?} taken={taken}: ({x:#x}, {y:#x}) lost: {ra:?} {rb:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn is_subset_of_implies_membership(xs in values(), extra in values(), samples in prop::collection::vec(any::<u64>(), 8)) {
        let small = abs(&xs);
        let mut all = xs.clone();
        all.extend(&extra);
        let big = abs(&all);
        prop_assert!(small.is_subset_of(&small));
        for (a, b) in [(small, big), (big, small)] {
            if a.is_subset_of(&b) {
                // Members of `a`: its generators and tnum members that lie in every view.
                let t = a.var_off;
                for x in samples.iter().map(|r| t.value | (r & t.mask)).chain(xs.iter().copied()) {
                    if a.contains(x) {
                        prop_assert!(b.contains(x), "{x:#x} in {a:?} but not in {b:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn constants_and_ranges_hold_their_values(x in value(), y in value()) {
        let c = ScalarValue::constant(x);
        prop_assert_eq!(c.const_value(), Some(x));
        prop_assert_eq!(c.const_value32(), Some(x as u32));
        prop_assert!(c.contains(x) && ScalarValue::unknown().contains(x));
        let (lo, hi) = (x.min(y), x.max(y));
        let r = ScalarValue::urange(lo, hi);
        prop_assert!(r.contains(lo) && r.contains(hi) && r.contains(lo + (hi - lo) / 2));
    }
}

/// Sync, applied twice: the kernel's `reg_bounds_sync` is not a closure operator in general,
/// but it is on values fitted to a set of numbers; a change here means the deduction changed.
#[test]
fn sync_settles_on_fitted_values() {
    let cases: [&[u64]; 5] =
        [&[0, 255], &[5, 10], &[u64::MAX, 1], &[0x7fff_ffff, 0x8000_0000], &[0xffff_ffff_0000_0005, 0x1_0000_0003]];
    for xs in cases {
        let once = abs(xs);
        let mut twice = once;
        twice.sync();
        assert_eq!(once, twice, "{xs:x?}");
    }
}

/// Two loads of the test buffer: `*(u8 *)` and `*(u32 *)`.
fn u8_load() -> ScalarValue {
    ScalarValue::loaded(1, false)
}

/// The fall-through of `if v cond imm` at `width`, with the kernel's sign-extended immediate.
fn fall(v: ScalarValue, cond: JmpCond, width: Width, imm: i32) -> ScalarValue {
    let k = ScalarValue::constant(imm as i64 as u64);
    v.refine(cond, width, &k, false).expect("reachable").0
}

fn jump(v: ScalarValue, cond: JmpCond, width: Width, imm: i32) -> ScalarValue {
    let k = ScalarValue::constant(imm as i64 as u64);
    v.refine(cond, width, &k, true).expect("reachable").0
}

fn imm(v: i32) -> ScalarValue {
    ScalarValue::constant(v as i64 as u64)
}

#[test]
fn loads_and_moves_print_as_the_kernel_logs_them() {
    let cases = [
        (u8_load(), "scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))"),
        (ScalarValue::loaded(4, false), "scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))"),
        (ScalarValue::loaded(1, true), "scalar(smin=smin32=-128,smax=smax32=127)"),
        (ScalarValue::loaded(4, true), "scalar(smin=0xffffffff80000000,smax=0x7fffffff)"),
        (ScalarValue::loaded(8, false), "scalar()"),
        (
            ScalarValue::unknown().alu(BinOp::MovSx8, Width::W64, &ScalarValue::unknown()),
            "scalar(smin=smin32=-128,smax=smax32=127)",
        ),
        (
            u8_load().alu(BinOp::MovSx16, Width::W32, &u8_load()),
            "scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))",
        ),
        (ScalarValue::constant(0), "0"),
        (imm(7).neg(Width::W32), "0xfffffff9"),
    ];
    for (v, want) in cases {
        assert_eq!(v.to_string(), want);
    }
}

#[test]
fn alu_results_print_as_the_kernel_logs_them() {
    let or8 = u8_load().alu(BinOp::Or, Width::W64, &imm(-8));
    let odd = u8_load().alu(BinOp::And, Width::W64, &imm(22)).alu(BinOp::Or, Width::W64, &imm(1));
    let cases = [
        (u8_load().neg(Width::W64), "scalar(smin=smin32=-255,smax=smax32=0)"),
        (u8_load().alu(BinOp::Add, Width::W64, &imm(-100)), "scalar(smin=smin32=-100,smax=smax32=155)"),
        (u8_load().alu(BinOp::And, Width::W64, &imm(254)), "scalar(smin=smin32=0,smax=umax=smax32=umax32=254,var_off=(0x0; 0xfe))"),
        (or8, "scalar(smin=smin32=-8,smax=smax32=-1,umin=0xfffffffffffffff8,umin32=0xfffffff8,var_off=(0xfffffffffffffff8; 0x7))"),
        (or8.alu(BinOp::And, Width::W64, &imm(-4)), "scalar(smin=smin32=-8,smax=smax32=-4,umin=0xfffffffffffffff8,umax=0xfffffffffffffffc,umin32=0xfffffff8,umax32=0xfffffffc,var_off=(0xfffffffffffffff8; 0x4))"),
        (odd, "scalar(smin=umin=smin32=umin32=1,smax=umax=smax32=umax32=23,var_off=(0x1; 0x16))"),
        (odd.alu(BinOp::Mul, Width::W64, &imm(7)), "scalar(smin=umin=smin32=umin32=7,smax=umax=smax32=umax32=161,var_off=(0x1; 0xf6))"),
        (u8_load().alu(BinOp::Div, Width::W64, &imm(3)), "scalar()"),
        (u8_load().alu(BinOp::Div, Width::W32, &imm(3)), "scalar()"),
        (imm(6).alu(BinOp::Div, Width::W64, &imm(3)), "scalar()"),
        (u8_load().alu(BinOp::Mod, Width::W64, &imm(7)), "scalar()"),
        (u8_load().endian(EndianOp::ToBe, 16), "scalar(smin=smin32=0,smax=umax=smax32=umax32=0xff00,var_off=(0x0; 0xff00))"),
        (u8_load().endian(EndianOp::Swap, 16), "scalar(smin=smin32=0,smax=umax=smax32=umax32=0xff00,var_off=(0x0; 0xff00))"),
        (u8_load().endian(EndianOp::ToLe, 16), "scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))"),
        (ScalarValue::unknown().endian(EndianOp::ToBe, 64), "scalar()"),
    ];
    for (v, want) in cases {
        assert_eq!(v.to_string(), want);
    }
}

#[test]
fn branches_refine_as_the_kernel_logs_them() {
    use JmpCond::*;
    use Width::*;
    // 32-bit: the s32 range crosses the sign boundary, the u32 range then meets one side.
    let w4 = ScalarValue::loaded(4, false);
    let a = fall(w4, Sgt, W32, 10);
    assert_eq!(a.to_string(), "scalar(smin=0,smax=umax=0xffffffff,smax32=10,var_off=(0x0; 0xffffffff))");
    let b = fall(a, Slt, W32, -10);
    assert_eq!(b.to_string(), "scalar(smin=0,smax=umax=0xffffffff,smin32=-10,smax32=10,var_off=(0x0; 0xffffffff))");
    let c = fall(b, Lt, W32, 5);
    assert_eq!(
        c.to_string(),
        "scalar(smin=umin=umin32=5,smax=umax=0xffffffff,smin32=-10,smax32=10,var_off=(0x0; 0xffffffff))"
    );
    let d = fall(c, Gt, W32, -16);
    assert_eq!(d.to_string(), "scalar(smin=umin=smin32=umin32=5,smax=umax=smax32=umax32=10,var_off=(0x0; 0xf))");
    // The same at 64 bits, and the edge where the jump is taken.
    let r = fall(ScalarValue::unknown(), Sgt, W64, 10);
    assert_eq!(r.to_string(), "scalar(smax=10)");
    let r = fall(r, Slt, W64, -10);
    assert_eq!(r.to_string(), "scalar(smin=smin32=-10,smax=smax32=10)");
    let r = fall(r, Lt, W64, 5);
    assert_eq!(r.to_string(), "scalar(smin=smin32=-10,smax=smax32=10,umin=5)");
    assert_eq!(
        fall(r, Gt, W64, -16).to_string(),
        "scalar(smin=umin=smin32=umin32=5,smax=umax=smax32=umax32=10,var_off=(0x0; 0xf))"
    );
    assert_eq!(jump(r, Gt, W64, -16).to_string(), "scalar(smin=smin32=-10,smax=smax32=-1,umin=0xfffffffffffffff6,umin32=0xfffffff6,var_off=(0xfffffffffffffff0; 0xf))");

    // Known bits settle an equality the ranges cannot.
    let even = u8_load().alu(BinOp::And, W64, &imm(0xfe));
    assert_eq!(even.branch_taken(Eq, W64, &imm(3)), Some(false));
    assert!(even.refine(Eq, W64, &imm(3), true).is_none());

    // A range and a tnum that share one value make a constant.
    let r3 = fall(fall(u8_load(), Lt, W64, 1), Gt, W64, 2);
    assert_eq!(r3.to_string(), "scalar(smin=umin=smin32=umin32=1,smax=umax=smax32=umax32=2,var_off=(0x0; 0x3))");
    assert_eq!(
        r3.endian(EndianOp::Swap, 16).to_string(),
        "scalar(smin=smin32=0,smax=umax=smax32=umax32=768,var_off=(0x0; 0x300))"
    );
    assert_eq!(r3.endian(EndianOp::ToLe, 64), r3);
    let eight = u8_load().alu(BinOp::And, W64, &imm(8));
    assert_eq!(fall(eight, Lt, W64, 2).to_string(), "8");
    assert_eq!(jump(eight, Lt, W64, 2).to_string(), "0");
    // `if r3 & 3` not taken: the kernel forgets the ranges and keeps the bits, all zero.
    assert_eq!(fall(r3, Set, W64, 3).to_string(), "0");

    // Two registers: {0, 8} == [1, 7] is not ruled out by the known bits or the ranges.
    let r8 = fall(u8_load().alu(BinOp::And, W64, &imm(7)), Lt, W64, 1);
    let (x, y) = eight.refine(Eq, W64, &r8, true).expect("the kernel follows it");
    assert_eq!((x.to_string(), y.to_string()), ("0".to_string(), "0".to_string()));
    assert_eq!(eight.refine(Eq, W64, &r8, false), Some((eight, r8)));
}

#[test]
fn describe_speaks_plainly() {
    assert_eq!(ScalarValue::constant(0).describe(), "0");
    assert_eq!(imm(-3).describe(), "-3");
    assert_eq!(ScalarValue::unknown().describe(), "any scalar");
    assert_eq!(u8_load().describe(), "scalar in [0, 255]");
    let scaled = u8_load().alu(BinOp::Lsh, Width::W64, &imm(3));
    assert_eq!(scaled.describe(), "scalar in [0, 2040], a multiple of 8");
    assert_eq!(ScalarValue::loaded(1, true).describe(), "scalar in [-128, 127]");
}
