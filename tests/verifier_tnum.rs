//! Laws of the tristate numbers, checked against brute force: exhaustively over every tnum of a
//! small width (8 bits for one operand, 5 bits for two), and with proptest at 64 bits.
//!
//! Soundness: every concrete result of every member lies in the result. Optimality: the result
//! is the smallest tnum that does (the union of the concrete results). Every operation is
//! optimal except `mul`: the kernel's long multiplication treats the unknown bits of its partial
//! products as independent, so only soundness is checked there.
//!
//! A `w`-bit tnum is a 64-bit one whose upper bits are known zeros. Carries and borrows only move
//! upwards, so the low `w` bits of a 64-bit result are the `w`-bit result.

use ebpf_lab::verifier::Tnum;
use proptest::prelude::*;

/// Every tnum whose unknown and known-one bits lie in the low `w` bits.
fn all_tnums(w: u32) -> Vec<Tnum> {
    let mut out = vec![Tnum::constant(0)];
    for bit in 0..w {
        let b = 1u64 << bit;
        out = out
            .into_iter()
            .flat_map(|t| [t, Tnum { value: t.value | b, mask: t.mask }, Tnum { value: t.value, mask: t.mask | b }])
            .collect();
    }
    out
}

/// Every member of `t` (each subset of the unknown bits, set).
fn members(t: Tnum) -> Vec<u64> {
    let mut out = Vec::new();
    let mut sub = t.mask;
    loop {
        out.push(t.value | sub);
        if sub == 0 {
            return out;
        }
        sub = (sub - 1) & t.mask;
    }
}

/// The smallest tnum holding every value of `xs` (not empty).
fn best(xs: impl IntoIterator<Item = u64>) -> Tnum {
    let (mut all, mut any) = (u64::MAX, 0u64);
    for x in xs {
        all &= x;
        any |= x;
    }
    Tnum { value: all, mask: all ^ any }
}

fn low(t: Tnum, w: u32) -> Tnum {
    let keep = if w >= 64 { u64::MAX } else { (1u64 << w) - 1 };
    Tnum { value: t.value & keep, mask: t.mask & keep }
}

/// Checks `abs(a, b)` against `op` on members, truncated to `w` bits.
fn check_binary(name: &str, w: u32, optimal: bool, abs: impl Fn(Tnum, Tnum) -> Tnum, op: impl Fn(u64, u64) -> u64) {
    let keep = (1u64 << w) - 1;
    let tnums = all_tnums(w);
    let sets: Vec<Vec<u64>> = tnums.iter().map(|&t| members(t)).collect();
    for (a, ma) in tnums.iter().zip(&sets) {
        for (b, mb) in tnums.iter().zip(&sets) {
            let got = low(abs(*a, *b), w);
            let op = &op;
            let want = best(ma.iter().flat_map(|&x| mb.iter().map(move |&y| op(x, y) & keep)));
            assert!(got.contains(want), "{name}({a}, {b}) = {got} misses a member of {want}");
            if optimal {
                assert_eq!(got, want, "{name}({a}, {b}) is not optimal");
            }
            assert_eq!(got.value & got.mask, 0, "{name}({a}, {b}) = {got} is malformed");
        }
    }
}

#[test]
fn add_sub_and_or_xor_are_sound_and_optimal_at_5_bits() {
    check_binary("add", 5, true, Tnum::add, u64::wrapping_add);
    check_binary("sub", 5, true, Tnum::sub, u64::wrapping_sub);
    check_binary("and", 5, true, Tnum::and, |x, y| x & y);
    check_binary("or", 5, true, Tnum::or, |x, y| x | y);
    check_binary("xor", 5, true, Tnum::xor, |x, y| x ^ y);
}

#[test]
fn mul_is_sound_at_5_bits_and_not_always_optimal() {
    check_binary("mul", 5, false, Tnum::mul, u64::wrapping_mul);
    // The known imprecision (a kernel fact, kept): somewhere at 4 bits the answer is wider
    // than the smallest tnum of the products.
    let tnums = all_tnums(4);
    let wider = tnums.iter().any(|&a| {
        tnums.iter().any(|&b| {
            let products =
                members(a).into_iter().flat_map(|x| members(b).into_iter().map(move |y| x.wrapping_mul(y) & 0xf));
            low(a.mul(b), 4) != best(products)
        })
    });
    assert!(wider, "tnum_mul became optimal: update the comments");
}

#[test]
fn union_is_optimal_at_5_bits() {
    let tnums = all_tnums(5);
    for &a in &tnums {
        for &b in &tnums {
            let want = best(members(a).into_iter().chain(members(b)));
            assert_eq!(a.union(b), want, "union({a}, {b})");
        }
    }
}

#[test]
fn intersect_overlaps_and_contains_are_exact_at_5_bits() {
    let tnums = all_tnums(5);
    for &a in &tnums {
        let ma = members(a);
        for &b in &tnums {
            let mb = members(b);
            let common: Vec<u64> = ma.iter().copied().filter(|x| mb.contains(x)).collect();
            assert_eq!(a.overlaps(b), !common.is_empty(), "overlaps({a}, {b})");
            if !common.is_empty() {
                let mut got = members(a.intersect(b));
                got.sort_unstable();
                let mut want = common;
                want.sort_unstable();
                assert_eq!(got, want, "intersect({a}, {b})");
            }
            let subset = mb.iter().all(|&x| a.contains_value(x));
            assert_eq!(a.contains(b), subset, "contains({a}, {b})");
        }
    }
}

#[test]
fn shifts_neg_and_alignment_are_sound_and_optimal_at_8_bits() {
    for t in all_tnums(8) {
        let m = members(t);
        for s in 0..8u8 {
            let want = best(m.iter().map(|&x| (x << s) & 0xff));
            assert_eq!(low(t.lshift(s), 8), want, "lshift({t}, {s})");
            let want = best(m.iter().map(|&x| x >> s));
            assert_eq!(t.rshift(s), want, "rshift({t}, {s})");
            // Arithmetic shifts: the 8 bits at the top of the 64- and 32-bit word, so their
            // highest bit is the sign bit.
            let t64 = Tnum { value: t.value << 56, mask: t.mask << 56 };
            let want = best(m.iter().map(|&x| (((x << 56) as i64) >> s) as u64));
            assert_eq!(t64.arshift(s, 64), want, "arshift64({t}, {s})");
            let t32 = Tnum { value: t.value << 24, mask: t.mask << 24 };
            let want = best(m.iter().map(|&x| (((x << 24) as u32 as i32) >> s) as u32 as u64));
            assert_eq!(t32.arshift(s, 32), want, "arshift32({t}, {s})");
        }
        let want = best(m.iter().map(|&x| x.wrapping_neg() & 0xff));
        assert_eq!(low(t.neg(), 8), want, "neg({t})");
        for size in [1u64, 2, 4, 8, 16] {
            let want = m.iter().all(|x| x % size == 0);
            assert_eq!(t.is_aligned(size), want, "is_aligned({t}, {size})");
        }
        assert!(t.is_aligned(0));
        assert_eq!(t.is_const(), m.len() == 1);
    }
}

#[test]
fn step_is_the_next_member_at_8_bits() {
    for t in all_tnums(8) {
        let m = members(t);
        let tmax = t.value | t.mask;
        for z in 0..256u64 {
            let want = if z >= tmax { tmax } else { m.iter().copied().filter(|&x| x > z).min().unwrap() };
            assert_eq!(t.step(z), want, "step({t}, {z})");
        }
    }
}

#[test]
fn bswap_reverses_the_bytes_of_every_member() {
    let t = Tnum { value: 0x0102_0304_0506_0708, mask: 0xf0 };
    assert_eq!(t.bswap(16), Tnum { value: 0x0807, mask: 0xf000 });
    assert_eq!(t.bswap(32), Tnum { value: 0x0807_0605, mask: 0xf000_0000 });
    assert_eq!(t.bswap(64), Tnum { value: 0x0807_0605_0403_0201, mask: 0xf0 << 56 });
}

#[test]
fn range_is_the_smallest_tnum_of_the_range_at_8_bits() {
    for min in 0..256u64 {
        for max in min..256u64 {
            assert_eq!(Tnum::range(min, max), best(min..=max), "range({min}, {max})");
        }
    }
    assert_eq!(Tnum::range(0, u64::MAX), Tnum::UNKNOWN);
    assert_eq!(Tnum::range(1 << 63, u64::MAX), Tnum { value: 1 << 63, mask: u64::MAX >> 1 });
}

#[test]
fn display_is_the_kernels_tnum_strn() {
    assert_eq!(Tnum { value: 0, mask: 0xff }.to_string(), "(0x0; 0xff)");
    assert_eq!(Tnum::constant(0x10).to_string(), "(0x10; 0x0)");
    assert_eq!(Tnum::UNKNOWN.to_string(), "(0x0; 0xffffffffffffffff)");
}

/// A well-formed 64-bit tnum.
fn tnum64() -> impl Strategy<Value = Tnum> {
    (any::<u64>(), any::<u64>(), 0..4u8).prop_map(|(v, m, sparse)| {
        // Sparse masks too, so that near-constants appear.
        let m = match sparse {
            0 => m & (m >> 7) & (m >> 13),
            1 => m & 0xff,
            _ => m,
        };
        Tnum { value: v & !m, mask: m }
    })
}

/// A tnum and a member of it.
fn tnum_member() -> impl Strategy<Value = (Tnum, u64)> {
    (tnum64(), any::<u64>()).prop_map(|(t, r)| (t, t.value | (r & t.mask)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn every_op_is_sound_at_64_bits((a, x) in tnum_member(), (b, y) in tnum_member(), s in 0..64u8) {
        prop_assert!(a.add(b).contains_value(x.wrapping_add(y)));
        prop_assert!(a.sub(b).contains_value(x.wrapping_sub(y)));
        prop_assert!(a.mul(b).contains_value(x.wrapping_mul(y)));
        prop_assert!(a.and(b).contains_value(x & y));
        prop_assert!(a.or(b).contains_value(x | y));
        prop_assert!(a.xor(b).contains_value(x ^ y));
        prop_assert!(a.union(b).contains_value(x) && a.union(b).contains_value(y));
        prop_assert!(a.neg().contains_value(x.wrapping_neg()));
        prop_assert!(a.lshift(s).contains_value(x << s));
        prop_assert!(a.rshift(s).contains_value(x >> s));
        prop_assert!(a.arshift(s, 64).contains_value(((x as i64) >> s) as u64));
        let s32 = s % 32;
        let sub = a.subreg();
        prop_assert!(sub.arshift(s32, 32).contains_value(((x as u32 as i32) >> s32) as u32 as u64));
        for size in [1u8, 2, 4, 8] {
            let keep = if size == 8 { u64::MAX } else { (1u64 << (size * 8)) - 1 };
            prop_assert!(a.cast(size).contains_value(x & keep));
        }
        prop_assert!(a.subreg().contains_value(x as u32 as u64));
        prop_assert!(a.clear_subreg().contains_value(x & !0xffff_ffff));
        prop_assert!(a.with_subreg(b).contains_value((x & !0xffff_ffff) | (y & 0xffff_ffff)));
        prop_assert!(a.const_subreg(y as u32).contains_value((x & !0xffff_ffff) | (y & 0xffff_ffff)));
        prop_assert!(a.contains(Tnum::constant(x)));
        let r = Tnum::range(x.min(y), x.max(y));
        prop_assert!(r.contains_value(x) && r.contains_value(y));
        for bits in [16u32, 32, 64] {
            let keep = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
            let swapped = (x & keep).swap_bytes() >> (64 - bits);
            prop_assert!(a.bswap(bits).contains_value(swapped));
        }
        let next = a.step(x);
        prop_assert!(a.contains_value(next));
        prop_assert!(next > x || next == a.value | a.mask);
        if a.contains_value(y) {
            prop_assert!(a.overlaps(b));
            prop_assert!(a.intersect(b).contains_value(y));
        }
    }

    #[test]
    fn subreg_is_const_means_the_low_half_is_known(a in tnum64()) {
        prop_assert_eq!(a.subreg_is_const(), a.subreg().is_const());
    }
}
