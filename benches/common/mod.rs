//! Shared by the benchmarks (included with `mod`).

use std::time::{Duration, Instant};

/// Mean time per call over about half a second (at least 3 calls, after one warm-up call).
pub fn time_per_run(mut f: impl FnMut()) -> Duration {
    f();
    let start = Instant::now();
    let mut n = 0u32;
    while n < 3 || start.elapsed() < Duration::from_millis(500) {
        f();
        n += 1;
    }
    start.elapsed() / n
}
