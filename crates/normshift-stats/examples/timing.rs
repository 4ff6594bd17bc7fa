//! Times the expensive paths in release mode:
//! `cargo run --release -p normshift-stats --example timing`.
//!
//! * the exact KS p-value at its worst case under `auto` (n, m <= 10000, unequal sizes,
//!   large D makes the sliding window widest; equal sizes use the O(n) formula);
//! * the asymptotic p-value for large samples in every branch of `kstwo`;
//! * sorting 1,000,000 values: `sort_unstable_by(f64::total_cmp)` against `sort_total_order`;
//! * the O(n + m) merges (KS statistic, Wasserstein-1, both from one merge) on 1,000,000 vs
//!   1,000,000 values.

use normshift_stats::{
    ks_2samp_sorted, ks_p_value, merge_statistics, sort_total_order, wasserstein_1_sorted, KsMode,
};
use std::time::Instant;

fn time<T>(label: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    println!(
        "{label:<60} {:>10.3} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    out
}

fn main() {
    for &(n, m) in &[
        (10_000u64, 9_999u64),
        (10_000, 9_000),
        (10_000, 7_919),
        (10_000, 10_000),
    ] {
        for &d in &[0.01, 0.05, 0.2, 0.5, 0.9, 1.0] {
            let (p, method) = time(&format!("exact   n={n} m={m} D={d}"), || {
                ks_p_value(d, n, m, KsMode::Exact)
            });
            println!("    p = {p:e} ({method:?})");
        }
    }
    for &n in &[20_000u64, 200_000, 1_000_000] {
        for &d in &[0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.03, 0.1] {
            let (p, method) = time(&format!("asympt  n=m={n} D={d}"), || {
                ks_p_value(d, n, n, KsMode::Asymptotic)
            });
            println!("    p = {p:e} ({method:?})");
        }
    }
    // Deterministic pseudo-random sorted samples (splitmix64), shifted by 0.01.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let a: Vec<f64> = (0..1_000_000).map(|_| next()).collect();
    let b: Vec<f64> = (0..1_000_000).map(|_| next() + 0.003).collect();
    // Each sort gets its own copy, made (and its pages touched) before the clock starts.
    let mut by_comparison = a.clone();
    time("sort_unstable_by(f64::total_cmp) 1e6", || {
        by_comparison.sort_unstable_by(f64::total_cmp)
    });
    let unsorted = a.clone();
    let a = time("sort_total_order 1e6", || sort_total_order(unsorted));
    assert!(a
        .iter()
        .zip(&by_comparison)
        .all(|(x, y)| x.to_bits() == y.to_bits()));
    let b = sort_total_order(b);
    let r = time("ks_2samp_sorted 1e6 vs 1e6 (auto -> asymptotic)", || {
        ks_2samp_sorted(&a, &b, KsMode::Auto)
    });
    println!("    D = {}, p = {:e}", r.statistic, r.p_value);
    let w = time("wasserstein_1_sorted 1e6 vs 1e6", || {
        wasserstein_1_sorted(&a, &b)
    });
    println!("    W1 = {w}");
    let both = time("merge_statistics 1e6 vs 1e6 (KS D and W1)", || {
        merge_statistics(&a, &b)
    });
    assert_eq!((both.ks_statistic, both.wasserstein_1), (r.statistic, w));
}
