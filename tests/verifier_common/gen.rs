//! The random program generator of the verifier's property tests: XDP programs that touch the
//! stack, a map value and the packet — with and without NULL checks and bounds checks, through
//! pointer arithmetic with constant and variable offsets, under forward branches. A prologue
//! gives each base pointer (ctx in r6, packet data and end in r7/r8, a map lookup result in r9,
//! the frame pointer) and some scalars; the body mixes copies and arithmetic on those pointers,
//! accesses through them at offsets near their bounds, checks (`pkt + N > pkt_end`, `r9 == 0`,
//! scalar compares, masks) and forward jumps. Branches only go forward, so every program
//! terminates and is cheap to verify.

use proptest::prelude::*;

/// The map every program declares (looked up with key 0 into r9).
pub const MAP: &str = "m";
/// Its value size.
pub const VALUE_SIZE: usize = 16;

/// The registers the body computes in (r0–r5): scalars at first, pointers once copied into.
pub fn work() -> impl Strategy<Value = u8> {
    0u8..6
}

pub fn size() -> impl Strategy<Value = u8> {
    prop::sample::select(vec![1u8, 2, 4, 8])
}

pub fn size_name(size: u8) -> &'static str {
    match size {
        1 => "u8",
        2 => "u16",
        4 => "u32",
        _ => "u64",
    }
}

/// Where an access goes and at what offset: mostly near the edges of the region the base
/// register points to (the stack's top 64 bytes, the map value's 16, a packet header's first
/// bytes), sometimes through a work register that may hold anything.
pub fn place() -> impl Strategy<Value = (u8, u8, i16)> {
    let stack = (size(), 1i16..9, prop::bool::weighted(0.85)).prop_map(|(size, k, aligned)| {
        let off = if aligned { -(size as i16) * k } else { -(k * 3) - 1 };
        (10u8, size, off)
    });
    let map = (size(), -4i16..20).prop_map(|(size, off)| (9u8, size, off));
    let pkt = (size(), -2i16..50).prop_map(|(size, off)| (7u8, size, off));
    let any_base = (work(), size(), -8i16..24).prop_map(|(b, size, off)| (b, size, off));
    let odd = (prop::sample::select(vec![6u8, 10]), size(), prop::sample::select(vec![-520i16, -512, 0, 8, 24, 76]))
        .prop_map(|(b, size, off)| (b, size, off));
    prop_oneof![3 => stack, 3 => map, 3 => pkt, 1 => any_base, 1 => odd]
}

pub fn jump_cond() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["==", "!=", ">", ">=", "<", "<=", "s>", "s>=", "s<", "s<=", "&"])
}

/// One body item, as assembly lines; a jump's distance counts the items it skips.
#[derive(Clone, Debug)]
pub enum Item {
    /// Straight-line code.
    Line(String),
    /// `if COND goto` over the next `skip` items.
    Jump(String, u8),
}

pub fn item() -> impl Strategy<Value = Item> {
    let alu = (
        work(),
        prop::sample::select(vec!["+=", "-=", "&=", "|=", "^=", "*=", "<<=", ">>=", "s>>=", "="]),
        prop_oneof![-20i32..64, Just(0xff), Just(-1), Just(0x7fff_ffff)],
        any::<bool>(),
        work(),
        any::<bool>(),
    )
        .prop_map(|(dst, op, imm, use_reg, src, w32)| {
            let imm = if op.contains("<<") || op.contains(">>") { imm.rem_euclid(32) } else { imm };
            let (d, s) = if w32 { ('w', 'w') } else { ('r', 'r') };
            Item::Line(if use_reg { format!("{d}{dst} {op} {s}{src}") } else { format!("{d}{dst} {op} {imm}") })
        });
    let copy = (work(), prop::sample::select(vec![7u8, 7, 9, 9, 10, 10, 6, 8]), prop_oneof![Just(0i32), -16i32..40])
        .prop_map(|(dst, src, add)| {
            Item::Line(if add == 0 {
                format!("r{dst} = r{src}")
            } else {
                format!("r{dst} = r{src}\n        r{dst} += {add}")
            })
        });
    let ptr_var =
        (prop::sample::select(vec![7u8, 9, 10]), work(), work(), prop::sample::select(vec![3i32, 7, 15, 63, 255]))
            .prop_map(|(p, dst, s, mask)| {
                Item::Line(format!("r{s} &= {mask}\n        r{dst} = r{p}\n        r{dst} += r{s}"))
            });
    let load = (work(), place())
        .prop_map(|(dst, (b, size, off))| Item::Line(format!("r{dst} = *({} *)(r{b} {off:+})", size_name(size))));
    let store =
        (place(), prop_oneof![work().prop_map(Some), Just(None)], -5i32..5).prop_map(|((b, size, off), src, imm)| {
            let size = size_name(size);
            match src {
                Some(s) => Item::Line(format!("*({size} *)(r{b} {off:+}) = r{s}")),
                None => Item::Line(format!("*({size} *)(r{b} {off:+}) = {imm}")),
            }
        });
    let ctx_load = (work(), prop::sample::select(vec![0i16, 4, 8, 12, 16, 24]))
        .prop_map(|(dst, off)| Item::Line(format!("r{dst} = *(u32 *)(r6 + {off})")));
    let pkt_check =
        (work(), 0i32..48, prop::sample::select(vec![">", ">=", "<", "<="]), 1u8..5).prop_map(|(t, n, cond, skip)| {
            let (a, b) = if cond.starts_with('>') {
                (format!("r{t}"), "r8".to_string())
            } else {
                ("r8".into(), format!("r{t}"))
            };
            Item::Jump(format!("r{t} = r7\n        r{t} += {n}\n        if {a} {cond} {b} goto"), skip)
        });
    let null_check = (prop::sample::select(vec!["==", "!="]), 1u8..5)
        .prop_map(|(cond, skip)| Item::Jump(format!("if r9 {cond} 0 goto"), skip));
    let branch = (work(), jump_cond(), -4i32..40, 1u8..5, any::<bool>()).prop_map(|(r, cond, imm, skip, w32)| {
        let r = if w32 { format!("w{r}") } else { format!("r{r}") };
        Item::Jump(format!("if {r} {cond} {imm} goto"), skip)
    });
    prop_oneof![
        4 => alu,
        3 => copy,
        2 => ptr_var,
        4 => load,
        3 => store,
        1 => ctx_load,
        3 => pkt_check,
        2 => null_check,
        2 => branch,
    ]
}

/// What the prologue does besides setting up the base pointers.
#[derive(Clone, Debug)]
pub struct Prologue {
    /// r2–r5: a constant, or left uninitialised.
    pub inits: [Option<i32>; 4],
    /// Check r9 against NULL up front (exit when NULL).
    pub null_checked: bool,
    /// Prove this many packet bytes up front (exit when shorter).
    pub pkt_proven: Option<i32>,
}

pub fn prologue() -> impl Strategy<Value = Prologue> {
    (
        prop::array::uniform4(prop_oneof![20 => (-8i32..64).prop_map(Some), 1 => Just(None)]),
        prop::bool::weighted(0.75),
        prop_oneof![4 => (0i32..48).prop_map(Some), 1 => Just(None)],
    )
        .prop_map(|(inits, null_checked, pkt_proven)| Prologue { inits, null_checked, pkt_proven })
}

/// The program's text: the prologue, the body with jump labels resolved, and `r0 = 2; exit`.
pub fn build(body: &[Item], pro: &Prologue) -> String {
    let mut s = format!(
        ".prog xdp
.map {MAP} hash key=4 value={VALUE_SIZE} max=4
        r6 = r1
        r7 = *(u32 *)(r6 + 0)
        r8 = *(u32 *)(r6 + 4)
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map({MAP}) ll
        call bpf_map_lookup_elem
        r9 = r0
        r0 = *(u32 *)(r6 + 12)
        r1 = *(u32 *)(r6 + 16)
"
    );
    if pro.null_checked {
        s.push_str(&format!("        if r9 == 0 goto l{}\n", body.len()));
    }
    if let Some(n) = pro.pkt_proven {
        s.push_str(&format!("        r2 = r7\n        r2 += {n}\n        if r2 > r8 goto l{}\n", body.len()));
    }
    for (i, v) in pro.inits.iter().enumerate() {
        if let Some(v) = v {
            s.push_str(&format!("        r{} = {v}\n", i + 2));
        }
    }
    for (i, it) in body.iter().enumerate() {
        s.push_str(&format!("l{i}:\n"));
        match it {
            Item::Line(l) => s.push_str(&format!("        {l}\n")),
            Item::Jump(head, skip) => {
                let to = (i + 1 + *skip as usize).min(body.len());
                s.push_str(&format!("        {head} l{to}\n"));
            }
        }
    }
    s.push_str(&format!("l{}:\n        r0 = 2\n        exit\n", body.len()));
    s
}

/// A whole program: body and prologue, as proptest generates them.
pub fn program() -> impl Strategy<Value = (Vec<Item>, Prologue)> {
    (prop::collection::vec(item(), 1..16), prologue())
}
