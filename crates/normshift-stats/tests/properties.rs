//! Closed-form checks (PSI, JS, degenerate cases) and property tests.

use normshift_stats::{
    adjust_p_values, chi_square_2xk, js_divergence, ks_2samp_sorted, ks_p_value, merge_statistics,
    psi, sort_total_order, two_proportion_z, wasserstein_1_sorted, wasserstein_1_weighted,
    Correction, KsMode, Method,
};
use proptest::prelude::*;

#[test]
fn psi_closed_forms() {
    // Identical proportions (different totals) give exactly 0.
    assert_eq!(psi(&[10.0, 20.0, 30.0], &[1.0, 2.0, 3.0], 1e-4), 0.0);
    // Two bins, hand-computed: p = (0.5, 0.5), q = (0.8, 0.2):
    // (0.8-0.5) ln(0.8/0.5) + (0.2-0.5) ln(0.2/0.5) = 0.3 ln 1.6 + 0.3 ln 2.5 = 0.3 ln 4.
    let got = psi(&[50.0, 50.0], &[80.0, 20.0], 1e-4);
    assert!((got - 0.3 * 4f64.ln()).abs() < 1e-15, "{got}");
    // Symmetric in its arguments.
    assert!((psi(&[80.0, 20.0], &[50.0, 50.0], 1e-4) - got).abs() < 1e-15);
    // Empty bin on one side: its proportion becomes eps (no renormalisation).
    // p = (1, 0) -> (1, eps); q = (0.5, 0.5).
    let eps = 1e-4;
    let want = (0.5 - 1.0) * (0.5f64 / 1.0).ln() + (0.5 - eps) * (0.5f64 / eps).ln();
    assert!((psi(&[10.0, 0.0], &[5.0, 5.0], eps) - want).abs() < 1e-14);
    // A bin empty on both sides contributes nothing.
    assert_eq!(psi(&[1.0, 0.0, 1.0], &[1.0, 0.0, 1.0], 0.0), 0.0);
    // Invalid input: NaN, not a panic.
    assert!(psi(&[1.0], &[1.0, 2.0], 1e-4).is_nan());
    assert!(psi(&[0.0, 0.0], &[1.0, 2.0], 1e-4).is_nan());
    assert!(psi(&[], &[], 1e-4).is_nan());
    assert!(psi(&[1.0, -1.0], &[1.0, 2.0], 1e-4).is_nan());
    assert!(psi(&[1.0, 0.0], &[1.0, 2.0], 0.0).is_nan());
}

#[test]
fn js_closed_forms() {
    assert_eq!(js_divergence(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0], 2.0), 0.0);
    // Disjoint supports: exactly 1 bit.
    let d = js_divergence(&[1.0, 0.0], &[0.0, 3.0], 2.0);
    assert!((d - 1.0).abs() < 1e-15, "{d}");
    // Natural log: ln 2 for disjoint supports.
    let d = js_divergence(&[0.0, 5.0, 5.0], &[7.0, 0.0, 0.0], std::f64::consts::E);
    assert!((d - 2f64.ln()).abs() < 1e-15);
    // Two bins, p = (1, 0), q = (1/2, 1/2): m = (3/4, 1/4);
    // JS = 1/2 [ln(4/3)] + 1/2 [1/2 ln(2/3) + 1/2 ln 2] (nats).
    let want = 0.5 * (4.0f64 / 3.0).ln() + 0.25 * (2.0f64 / 3.0).ln() + 0.25 * 2f64.ln();
    let got = js_divergence(&[4.0, 0.0], &[1.0, 1.0], std::f64::consts::E);
    assert!((got - want).abs() < 1e-15, "{got} vs {want}");
    let got2 = js_divergence(&[4.0, 0.0], &[1.0, 1.0], 2.0);
    assert!((got2 - want / 2f64.ln()).abs() < 1e-15);
    assert!(js_divergence(&[1.0], &[1.0], 1.0).is_nan());
    assert!(js_divergence(&[1.0], &[1.0, 1.0], 2.0).is_nan());
}

#[test]
fn degenerate_inputs_do_not_panic() {
    assert!(wasserstein_1_sorted(&[], &[1.0]).is_nan());
    assert!(wasserstein_1_weighted(&[1.0], &[0.0], &[1.0], &[1.0]).is_nan());
    assert!(wasserstein_1_weighted(&[1.0], &[1.0, 2.0], &[1.0], &[1.0]).is_nan());
    assert!(ks_p_value(0.5, 0, 3, KsMode::Auto).0.is_nan());
    assert!(ks_p_value(f64::NAN, 3, 3, KsMode::Auto).0.is_nan());
    let r = chi_square_2xk(&[0.0, 0.0], &[1.0, 2.0]);
    assert!(r.statistic.is_nan() && r.p_value.is_nan());
    let r = chi_square_2xk(&[3.0, 0.0], &[5.0, 0.0]);
    assert_eq!((r.statistic, r.p_value), (0.0, 1.0));
    assert!(chi_square_2xk(&[1.0], &[1.0, 2.0]).p_value.is_nan());
    let r = two_proportion_z(0, 100, 0, 50);
    assert_eq!((r.statistic, r.p_value), (0.0, 1.0));
    assert!(two_proportion_z(1, 0, 0, 50).p_value.is_nan());
    assert!(two_proportion_z(5, 4, 0, 50).p_value.is_nan());
    assert!(adjust_p_values(&[], Correction::Holm).is_empty());
    let adj = adjust_p_values(&[0.01, f64::NAN, 0.02], Correction::Bonferroni);
    assert_eq!(adj[0], 0.02);
    assert!(adj[1].is_nan());
    assert_eq!(adj[2], 0.04);
}

#[test]
fn ks_modes_and_fallbacks() {
    // Exact requested but lcm beyond scipy's int32 limit: asymptotic.
    let (p, m) = ks_p_value(0.01, 100_003, 100_019, KsMode::Exact);
    assert_eq!(m, Method::Asymptotic);
    assert!((0.0..=1.0).contains(&p));
    // Auto above 10000 is asymptotic, at 10000 exact.
    assert_eq!(
        ks_p_value(0.02, 10_001, 500, KsMode::Auto).1,
        Method::Asymptotic
    );
    assert_eq!(ks_p_value(0.02, 10_000, 500, KsMode::Auto).1, Method::Exact);
    // Exact on large unequal sizes whose lattice recursion would take minutes: asymptotic.
    let (p, m) = ks_p_value(0.3, 2_000_000, 1_000_000, KsMode::Exact);
    assert_eq!(m, Method::Asymptotic);
    assert_eq!(p, 0.0);
    // Equal sizes stay exact (O(n)) whatever the size.
    assert_eq!(
        ks_p_value(0.001, 1_000_000, 1_000_000, KsMode::Exact).1,
        Method::Exact
    );
}

#[test]
fn nan_input_does_not_hang() {
    let r = ks_2samp_sorted(&[1.0, f64::NAN], &[f64::NAN], KsMode::Auto);
    assert!(r.statistic.is_nan() && r.p_value.is_nan());
    assert!(wasserstein_1_sorted(&[1.0, f64::NAN], &[2.0]).is_nan());
}

fn sorted_sample() -> impl Strategy<Value = Vec<f64>> {
    // Small integer grid so ties are frequent.
    prop::collection::vec((-20i32..20).prop_map(|v| f64::from(v) * 0.5), 1..60).prop_map(|mut v| {
        v.sort_by(f64::total_cmp);
        v
    })
}

fn continuous_sorted_sample() -> impl Strategy<Value = Vec<f64>> {
    // Few ties, values around a large offset, signed zeros now and then.
    prop::collection::vec(
        prop_oneof![
            8 => (-1e3f64..1e3).prop_map(|v| 1e8 + v * 1e-3),
            1 => Just(0.0),
            1 => Just(-0.0),
        ],
        1..200,
    )
    .prop_map(|mut v| {
        v.sort_by(f64::total_cmp);
        v
    })
}

/// KS `D` and Wasserstein-1 from their definitions, without a merge: the empirical CDFs,
/// counted by binary search, at every distinct value of the pooled sample.
fn definitions(a: &[f64], b: &[f64]) -> (f64, f64) {
    let mut pooled: Vec<f64> = a.iter().chain(b).copied().collect();
    pooled.sort_by(f64::total_cmp);
    pooled.dedup_by(|x, y| x == y);
    let cdf = |s: &[f64], v: f64| s.partition_point(|x| *x <= v) as f64 / s.len() as f64;
    let gap = |v: f64| (cdf(a, v) - cdf(b, v)).abs();
    let d = pooled.iter().map(|&v| gap(v)).fold(0.0, f64::max);
    let w = pooled.windows(2).map(|w| gap(w[0]) * (w[1] - w[0])).sum();
    (d, w)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn merge_matches_the_definitions(
        (a, b) in prop_oneof![
            (sorted_sample(), sorted_sample()),
            (continuous_sorted_sample(), continuous_sorted_sample()),
        ]
    ) {
        let merged = merge_statistics(&a, &b);
        let (d, w) = definitions(&a, &b);
        // The same gaps, summed in the same order: equal to the last bit.
        prop_assert_eq!(merged.ks_statistic.to_bits(), d.to_bits());
        prop_assert_eq!(merged.wasserstein_1.to_bits(), w.to_bits());
        prop_assert_eq!(ks_2samp_sorted(&a, &b, KsMode::Asymptotic).statistic, d);
        prop_assert_eq!(wasserstein_1_sorted(&a, &b), merged.wasserstein_1);
    }

    #[test]
    fn total_order_sort_is_total_cmp_sort(v in prop::collection::vec(prop::num::f64::ANY, 0..300)) {
        let mut expected = v.clone();
        expected.sort_unstable_by(f64::total_cmp);
        let got = sort_total_order(v);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        prop_assert_eq!(bits(&got), bits(&expected));
    }

    #[test]
    fn ks_symmetric_and_bounded(a in sorted_sample(), b in sorted_sample()) {
        for mode in [KsMode::Auto, KsMode::Asymptotic] {
            let r = ks_2samp_sorted(&a, &b, mode);
            let s = ks_2samp_sorted(&b, &a, mode);
            prop_assert_eq!(r.statistic, s.statistic);
            prop_assert!((r.p_value - s.p_value).abs() <= 1e-12);
            prop_assert!((0.0..=1.0).contains(&r.statistic));
            prop_assert!((0.0..=1.0).contains(&r.p_value), "p = {}", r.p_value);
        }
        let same = ks_2samp_sorted(&a, &a, KsMode::Auto);
        prop_assert_eq!((same.statistic, same.p_value), (0.0, 1.0));
    }

    #[test]
    fn w1_translation_equivariant(a in sorted_sample(), c in -50i32..50) {
        let c = f64::from(c) * 0.25;
        let shifted: Vec<f64> = a.iter().map(|x| x + c).collect();
        let w = wasserstein_1_sorted(&a, &shifted);
        prop_assert!((w - c.abs()).abs() <= 1e-12 * (1.0 + c.abs()), "{} vs {}", w, c);
        // Unit weights give the unweighted distance.
        let ones = vec![1.0; a.len()];
        let ww = wasserstein_1_weighted(&a, &ones, &shifted, &ones);
        prop_assert!((ww - w).abs() <= 1e-12);
    }

    #[test]
    fn w1_symmetric_nonnegative(a in sorted_sample(), b in sorted_sample()) {
        let w = wasserstein_1_sorted(&a, &b);
        prop_assert!(w >= 0.0);
        prop_assert!((w - wasserstein_1_sorted(&b, &a)).abs() <= 1e-12);
    }

    #[test]
    fn adjusted_p_monotone_and_at_least_raw(p in prop::collection::vec(0.0f64..=1.0, 1..40)) {
        for correction in [Correction::Bonferroni, Correction::Holm, Correction::BenjaminiHochberg] {
            let adj = adjust_p_values(&p, correction);
            prop_assert_eq!(adj.len(), p.len());
            for (raw, a) in p.iter().zip(&adj) {
                prop_assert!(*a >= *raw && *a <= 1.0);
            }
            // Order-preserving: a smaller raw p never gets a larger adjusted p.
            for i in 0..p.len() {
                for j in 0..p.len() {
                    if p[i] < p[j] {
                        prop_assert!(adj[i] <= adj[j]);
                    }
                }
            }
        }
        // Holm is never more conservative than Bonferroni; BH never more than Holm
        // (up to one rounding: BH divides by k/m where Holm multiplies by m - k + 1).
        let bonf = adjust_p_values(&p, Correction::Bonferroni);
        let holm = adjust_p_values(&p, Correction::Holm);
        let bh = adjust_p_values(&p, Correction::BenjaminiHochberg);
        for i in 0..p.len() {
            prop_assert!(holm[i] <= bonf[i] && bh[i] <= holm[i] * (1.0 + 4.0 * f64::EPSILON));
        }
    }

    #[test]
    fn psi_js_nonnegative(
        p in prop::collection::vec(0u32..50, 1..12),
        q in prop::collection::vec(0u32..50, 1..12),
    ) {
        let n = p.len().min(q.len());
        let p: Vec<f64> = p[..n].iter().map(|&x| f64::from(x) + 1.0).collect();
        let q: Vec<f64> = q[..n].iter().map(|&x| f64::from(x)).collect();
        prop_assume!(q.iter().sum::<f64>() > 0.0);
        prop_assert!(psi(&p, &q, 1e-4) >= 0.0);
        let js = js_divergence(&p, &q, 2.0);
        prop_assert!((0.0..=1.0).contains(&js));
        prop_assert!((js - js_divergence(&q, &p, 2.0)).abs() <= 1e-15);
    }
}
