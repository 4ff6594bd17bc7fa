//! Two-sample Kolmogorov–Smirnov test, following `scipy.stats.ks_2samp` (two-sided).

use crate::kolmogorov::kstwo_sf;
use crate::merge::merge_statistics;
use crate::{Method, TestResult};

/// How [`ks_2samp_sorted`] and [`ks_p_value`] compute the p-value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KsMode {
    /// Exact when `max(n, m) <= 10000` (scipy's rule), asymptotic otherwise.
    Auto,
    /// The exact distribution of the two-sample statistic; falls back to asymptotic when
    /// `lcm(n, m)` does not fit scipy's 32-bit limit or the computation fails numerically
    /// (as scipy does), and also, unlike scipy, when unequal sizes would need more than
    /// 1e9 lattice cells (about a second; never the case under `Auto`).
    Exact,
    /// `kstwo.sf(D, round(n·m/(n+m)))`, the one-sample distribution at the effective size.
    Asymptotic,
}

/// scipy's `MAX_AUTO_N`: `auto` is exact up to this many observations in the larger sample.
pub const MAX_AUTO_N: u64 = 10_000;

/// The two-sample statistic `D = max |F_a(x) - F_b(x)|` of two sorted samples.
///
/// One merge over both slices, `O(n + m)` ([`merge_statistics`], which also gives the
/// Wasserstein-1 distance of the same merge). Both empirical CDFs are evaluated after all
/// copies of a tied value, so ties are handled exactly like scipy's
/// `searchsorted(side='right')`. Returns NaN when either sample is empty or contains a NaN.
pub fn ks_statistic_sorted(a: &[f64], b: &[f64]) -> f64 {
    merge_statistics(a, b).ks_statistic
}

/// Two-sided two-sample Kolmogorov–Smirnov test, as `scipy.stats.ks_2samp(a, b, method=…)`.
///
/// * `a`, `b` must be sorted ascending (not checked beyond debug builds); a NaN in either
///   gives a NaN statistic and p-value.
/// * The statistic is computed by one `O(n + m)` merge, ties handled exactly.
/// * [`KsMode::Auto`] is exact when `max(n, m) <= 10000`, asymptotic otherwise; the exact
///   path falls back to the asymptotic one where scipy does (see [`ks_p_value`]).
/// * In the exact path the reported statistic is `h / lcm(n, m)` with `h = round(D·lcm)`,
///   as scipy reports it (it differs from the merged `D` by rounding error only).
/// * An empty sample gives a NaN statistic and p-value (scipy raises an error).
/// * Unlike scipy: complete separation (`D = 1`) where the exact path is not taken gets its
///   exact p-value `2 / C(n + m, n)` (the asymptotic one is 0) unless the mode is
///   [`KsMode::Asymptotic`]; an exact p-value rounded a few ulps above 1 is 1.
pub fn ks_2samp_sorted(a: &[f64], b: &[f64], mode: KsMode) -> TestResult {
    debug_assert!(!a.windows(2).any(|w| w[0] > w[1]), "a must be sorted");
    debug_assert!(!b.windows(2).any(|w| w[0] > w[1]), "b must be sorted");
    ks_2samp_from_statistic(
        ks_statistic_sorted(a, b),
        a.len() as u64,
        b.len() as u64,
        mode,
    )
}

/// The test of [`ks_2samp_sorted`] for a statistic `d` already computed from samples of
/// sizes `n` and `m` (for instance by [`merge_statistics`], together with the Wasserstein-1
/// distance). NaN statistic and p-value when `n` or `m` is zero or `d` is NaN.
pub fn ks_2samp_from_statistic(d: f64, n: u64, m: u64, mode: KsMode) -> TestResult {
    let (statistic, p_value, method) = ks_test_from_d(d, n, m, mode);
    TestResult {
        statistic,
        p_value,
        method,
    }
}

/// p-value of the two-sided two-sample KS test for a given statistic `d` and sizes `n`, `m`
/// (for instance when `d` comes from a quantile sketch), with the same mode rules as
/// [`ks_2samp_sorted`]. NaN when `n` or `m` is zero or `d` is NaN.
pub fn ks_p_value(d: f64, n: u64, m: u64, mode: KsMode) -> (f64, Method) {
    let (_, p, method) = ks_test_from_d(d, n, m, mode);
    (p, method)
}

/// Work limit of the exact unequal-size computation, in lattice cells (~1 s in release).
const MAX_EXACT_CELLS: f64 = 1e9;

/// Greatest common divisor.
fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Returns `(statistic, p, method)` following scipy's control flow.
fn ks_test_from_d(d: f64, n: u64, m: u64, mode: KsMode) -> (f64, f64, Method) {
    if n == 0 || m == 0 || d.is_nan() {
        return (f64::NAN, f64::NAN, Method::Asymptotic);
    }
    let g = gcd(n, m);
    let (ng, mg) = (n / g, m / g);
    let exact = match mode {
        KsMode::Auto => n.max(m) <= MAX_AUTO_N,
        // scipy: `if n1g >= np.iinfo(np.int32).max / n2g` switch to asymp.
        KsMode::Exact => (ng as f64) < (i32::MAX as f64) / (mg as f64),
        KsMode::Asymptotic => false,
    };
    if exact {
        if let Some((d_exact, p)) = exact_p_value(n, m, g, d) {
            return (d_exact, p.clamp(0.0, 1.0), Method::Exact);
        }
    }
    if d >= 1.0 && mode != KsMode::Asymptotic {
        // Complete separation: every value of one sample lies below every value of the other.
        // Its null probability is exact and simple (2 of the C(n+m, n) equally likely orders),
        // where the asymptotic distribution gives exactly 0 (scipy's too): 1 value against a
        // million gets p = 2e-6, not 0.
        return (d, separation_p_value(n, m), Method::Exact);
    }
    let (big, small) = (n.max(m) as f64, n.min(m) as f64);
    let en = big * small / (big + small);
    // numpy rounds half to even.
    let p = kstwo_sf(d, en.round_ties_even());
    (d, p.clamp(0.0, 1.0), Method::Asymptotic)
}

/// `P(D = 1) = 2 / C(n + m, n)` under the null hypothesis (continuous data, sizes >= 1): of
/// the C(n+m, n) equally likely interleavings of the two samples, two put one sample wholly
/// below the other. At most 1 (n = m = 1).
fn separation_p_value(n: u64, m: u64) -> f64 {
    let (total, k) = (n + m, n.min(m));
    // ln C(total, k): a sum of k exact-ish terms for small k, ln Γ otherwise.
    let ln_choose = if k <= 1000 {
        (1..=k)
            .map(|i| ((total - k + i) as f64 / i as f64).ln())
            .sum::<f64>()
    } else {
        crate::special::ln_gamma(total as f64 + 1.0)
            - crate::special::ln_gamma(k as f64 + 1.0)
            - crate::special::ln_gamma((total - k) as f64 + 1.0)
    };
    (std::f64::consts::LN_2 - ln_choose).exp().min(1.0)
}

/// scipy's `_attempt_exact_2kssamp` (two-sided): `None` when the computation is not usable.
fn exact_p_value(n: u64, m: u64, g: u64, d: f64) -> Option<(f64, f64)> {
    let lcm = (n / g) as f64 * m as f64;
    let h = (d * lcm).round_ties_even();
    let d = h / lcm;
    if h == 0.0 {
        return Some((d, 1.0));
    }
    let h = h as u64;
    let p = if n == m {
        prob_outside_square(n, h)
    } else {
        // Cells the lattice recursion would visit. `Auto` (sizes <= 10000) stays below 1e8;
        // beyond MAX_EXACT_CELLS (~1 s) an explicit `Exact` request falls back to the
        // asymptotic p-value instead of running for minutes (scipy would run).
        let (big, small) = (n.max(m), n.min(m));
        let window = (2.0 * h as f64 / (big / g) as f64 + 2.0).min(small as f64 + 1.0);
        if big as f64 * window > MAX_EXACT_CELLS {
            return None;
        }
        outer_prob_inside_method(n, m, g, h)
    };
    // Rounding can put a p-value of 1 a few ulps above it (7 values against 7 gave
    // 1.0000000000000002, which fell back to the asymptotic value, as scipy does).
    if p.is_finite() && (0.0..=1.0 + 1e-12).contains(&p) {
        Some((d, p.min(1.0)))
    } else {
        None
    }
}

/// `P(D_{n,n} >= h/n)` for equal sample sizes:
/// `2 Σ_k (-1)^(k-1) C(2n, n - kh) / C(2n, n)`, evaluated Horner-style with each ratio of
/// binomials built from `h` simple factors, so there is no cancellation and no overflow.
/// Cost `O(n)`.
fn prob_outside_square(n: u64, h: u64) -> f64 {
    let mut p = 0.0f64;
    let kmax = n / h;
    let (nf, hf) = (n as f64, h as f64);
    for k in (0..=kmax).rev() {
        let kf = k as f64;
        let mut p1 = 1.0f64;
        for j in 0..h {
            let jf = j as f64;
            p1 = (nf - kf * hf - jf) * p1 / (nf + kf * hf + jf + 1.0);
        }
        p = p1 * (1.0 - p);
    }
    2.0 * p
}

/// `P(D_{n,m} >= h/lcm(n,m))` for unequal sizes: the fraction of monotone lattice paths from
/// `(0,0)` to `(m,n)` that leave the band `|x/m - y/n| < h/lcm`, computed directly (Hodges'
/// inside method rewritten for `1 - p`, Viehmann 2021) column by column over a sliding
/// window. Each cell is a probability in `[0, 1]`, so nothing overflows.
/// Cost `O(max(n,m) · window)`, `window <= min(n,m) + 1`.
fn outer_prob_inside_method(n: u64, m: u64, g: u64, h: u64) -> f64 {
    // Symmetric in the sizes; iterate over the larger one.
    let (m, n) = if n > m { (n, m) } else { (m, n) };
    let (mg, ng) = ((m / g) as i64, (n / g) as i64);
    let (mi, ni, hi) = (m as i64, n as i64, h as i64);
    let ceil_div = |a: i64, b: i64| -> i64 { -((-a).div_euclid(b)) };
    let mut minj: i64 = 0;
    let mut maxj: i64 = ceil_div(hi, mg).min(ni + 1);
    let mut curlen = maxj - minj;
    let len_a = (2 * maxj + 2).min(ni + 1) as usize;
    // Guard: the window can be wider than the first column's estimate.
    let mut a = vec![1.0f64; len_a.max((ni + 1) as usize)];
    for x in &mut a[minj as usize..maxj as usize] {
        *x = 0.0;
    }
    let recip: Vec<f64> = (0..=(mi + ni + 1)).map(|k| 1.0 / k as f64).collect();
    for i in 1..=mi {
        let (lastminj, lastlen) = (minj, curlen);
        minj = ((ng * i - hi).div_euclid(mg) + 1).max(0).min(ni);
        maxj = ceil_div(ng * i + hi, mg).min(ni + 1);
        if maxj <= minj {
            return 1.0;
        }
        let fi = i as f64;
        let mut val = if minj == 0 { 0.0 } else { 1.0 };
        // The recursion `val = (a·i + val·j) / (i + j)` is a serial chain through `val`; with
        // the weights i/(i+j), j/(i+j) formed off the chain (a multiply by a tabulated
        // reciprocal instead of a division) it runs about twice as fast. Both weights are
        // within an ulp of exact, so each cell keeps ~1e-16 relative accuracy.
        let shift = (minj - lastminj) as usize;
        let window = (maxj - minj) as usize;
        let first = (i + minj) as usize;
        for (jj, r) in recip[first..first + window].iter().enumerate() {
            let fj = (jj as i64 + minj) as f64;
            val = a[jj + shift] * (fi * r) + val * (fj * r);
            a[jj] = val;
        }
        curlen = maxj - minj;
        if lastlen > curlen {
            let start = (maxj - minj) as usize;
            let end = start + (lastlen - curlen) as usize;
            for x in &mut a[start..end] {
                *x = 1.0;
            }
        }
    }
    a[(maxj - minj - 1) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_samples_have_zero_statistic() {
        let a = [1.0, 2.0, 2.0, 3.0];
        let r = ks_2samp_sorted(&a, &a, KsMode::Auto);
        assert_eq!(r.statistic, 0.0);
        assert_eq!(r.p_value, 1.0);
        assert_eq!(r.method, Method::Exact);
    }

    #[test]
    fn disjoint_samples() {
        let a = [1.0, 2.0, 3.0];
        let b = [4.0, 5.0, 6.0];
        let r = ks_2samp_sorted(&a, &b, KsMode::Exact);
        assert_eq!(r.statistic, 1.0);
        // 2 / C(6, 3) = 0.1
        assert!((r.p_value - 0.1).abs() < 1e-15);
    }

    #[test]
    fn complete_separation_beyond_the_exact_range_has_its_exact_p_value() {
        // 1 value against 10^6: 2 / C(10^6 + 1, 1); the asymptotic value is exactly 0.
        let a = [10.0];
        let b: Vec<f64> = (0..1_000_000).map(|i| f64::from(i) * 1e-6).collect();
        let r = ks_2samp_sorted(&a, &b, KsMode::Auto);
        assert_eq!(r.method, Method::Exact);
        let expected = 2.0 / 1_000_001.0;
        assert!((r.p_value / expected - 1.0).abs() < 1e-12, "{}", r.p_value);
        // 2 against 10,001: 2 / C(10,003, 2).
        let b2 = &b[..10_001];
        let r = ks_2samp_sorted(&[5.0, 6.0], b2, KsMode::Auto);
        let expected = 2.0 / (10_003.0 * 10_002.0 / 2.0);
        assert!((r.p_value / expected - 1.0).abs() < 1e-12, "{}", r.p_value);
        // Inside the exact range the lattice computation and the closed form agree, for
        // small and for large k (ln Γ branch).
        for (n, m) in [(3u64, 9000u64), (40, 60), (1500, 1700)] {
            let (p, method) = ks_p_value(1.0, n, m, KsMode::Exact);
            assert_eq!(method, Method::Exact);
            let closed = separation_p_value(n, m);
            let tolerance = if p > 1e-300 { 1e-9 } else { 1.0 };
            assert!(
                p == closed || (p / closed - 1.0).abs() < tolerance,
                "{n} vs {m}: {p} vs {closed}"
            );
        }
        // An explicit asymptotic request stays asymptotic.
        assert_eq!(
            ks_p_value(1.0, 1, 1_000_000, KsMode::Asymptotic),
            (0.0, Method::Asymptotic)
        );
    }

    #[test]
    fn a_p_value_of_one_rounded_above_one_stays_exact() {
        // 1, 3, …, 13 against 2, 4, …, 14: D = 1/7, p = 1 exactly; the alternating sum gave
        // 1.0000000000000002 and fell back to the asymptotic 0.99996.
        let a: Vec<f64> = (0..7).map(|i| f64::from(2 * i + 1)).collect();
        let b: Vec<f64> = (0..7).map(|i| f64::from(2 * i + 2)).collect();
        let r = ks_2samp_sorted(&a, &b, KsMode::Auto);
        assert_eq!(r.method, Method::Exact);
        assert_eq!(r.p_value, 1.0);
    }

    #[test]
    fn empty_is_nan() {
        let r = ks_2samp_sorted(&[], &[1.0], KsMode::Auto);
        assert!(r.statistic.is_nan() && r.p_value.is_nan());
    }
}
