//! Distances between distributions: Wasserstein-1, PSI, Jensen–Shannon.

/// Wasserstein-1 (earth mover's) distance between two sorted samples,
/// `∫ |F_a(x) - F_b(x)| dx`, equal to `scipy.stats.wasserstein_distance(a, b)`.
///
/// One `O(n + m)` merge ([`merge_statistics`](crate::merge_statistics), which also gives
/// the KS statistic of the same merge); the area between the two empirical CDFs is
/// accumulated between successive merged values. Inputs must be sorted ascending. Returns
/// NaN when either sample is empty or contains a NaN.
pub fn wasserstein_1_sorted(a: &[f64], b: &[f64]) -> f64 {
    crate::merge::merge_statistics(a, b).wasserstein_1
}

/// Weighted Wasserstein-1 distance, equal to
/// `scipy.stats.wasserstein_distance(a, b, u_weights=wa, v_weights=wb)`.
///
/// `a` and `b` must be sorted ascending and NaN-free, with one weight per value. Weights are
/// normalised inside. Returns NaN when a sample is empty, a length does not match its
/// weights, a weight is negative or not finite, or a sample's weights sum to zero (scipy
/// raises an error in those cases).
pub fn wasserstein_1_weighted(a: &[f64], wa: &[f64], b: &[f64], wb: &[f64]) -> f64 {
    if a.is_empty() || b.is_empty() || a.len() != wa.len() || b.len() != wb.len() {
        return f64::NAN;
    }
    let cumulative = |w: &[f64]| -> Option<Vec<f64>> {
        let mut c = Vec::with_capacity(w.len() + 1);
        let mut s = 0.0f64;
        c.push(0.0);
        for &x in w {
            if !(x.is_finite() && x >= 0.0) {
                return None;
            }
            s += x;
            c.push(s);
        }
        (s > 0.0 && s.is_finite()).then_some(c)
    };
    let (Some(ca), Some(cb)) = (cumulative(wa), cumulative(wb)) else {
        return f64::NAN;
    };
    let (ta, tb) = (ca[a.len()], cb[b.len()]);
    merge_area(a, b, |i| ca[i] / ta, |j| cb[j] / tb)
}

/// `Σ |cdf_a(i) - cdf_b(j)| · (next - current)` over the merged sorted values, where `i`, `j`
/// count the elements of `a`, `b` at or below the current value.
fn merge_area(
    a: &[f64],
    b: &[f64],
    cdf_a: impl Fn(usize) -> f64,
    cdf_b: impl Fn(usize) -> f64,
) -> f64 {
    let (n, m) = (a.len(), b.len());
    let (mut i, mut j) = (0usize, 0usize);
    let mut current = a[0].min(b[0]);
    let mut total = 0.0f64;
    while i < n || j < m {
        let take_a = j >= m || (i < n && a[i] <= b[j]);
        let next = if take_a { a[i] } else { b[j] };
        // When the value moves, everything consumed is <= current < next <= everything left,
        // so i and j are exactly the counts at or below `current` (ties contribute 0 width).
        let delta = next - current;
        if delta != 0.0 {
            total += (cdf_a(i) - cdf_b(j)).abs() * delta;
        }
        if take_a {
            i += 1;
        } else {
            j += 1;
        }
        current = next;
    }
    total
}

/// Population stability index between two histograms over the same bins:
/// `Σ (q_i - p_i) · ln(q_i / p_i)`, with `p_i = reference_i / Σ reference` and
/// `q_i = current_i / Σ current` (natural logarithm).
///
/// **Empty bins**: a proportion that is exactly zero is replaced by `empty_bin_eps` (e.g.
/// `1e-4`) before the sum, without renormalising the other bins; a bin empty on both sides
/// therefore contributes 0. PSI is symmetric in its two arguments and zero exactly when the
/// proportions agree.
///
/// Returns NaN when the lengths differ, a histogram is empty or sums to zero, a count is
/// negative or not finite, or `empty_bin_eps` is not positive while an empty bin needs it.
pub fn psi(reference_counts: &[f64], current_counts: &[f64], empty_bin_eps: f64) -> f64 {
    let Some((p, q)) = proportions(reference_counts, current_counts) else {
        return f64::NAN;
    };
    let mut total = 0.0;
    for (&pi, &qi) in p.iter().zip(&q) {
        let pi = if pi == 0.0 { empty_bin_eps } else { pi };
        let qi = if qi == 0.0 { empty_bin_eps } else { qi };
        if pi == qi {
            continue;
        }
        if !(pi > 0.0 && qi > 0.0) {
            return f64::NAN;
        }
        total += (qi - pi) * (qi / pi).ln();
    }
    total
}

/// Jensen–Shannon divergence between two histograms over the same bins, in logarithm base
/// `base`: `½ KL(p ‖ m) + ½ KL(q ‖ m)` with `m = (p + q) / 2` after normalising each count
/// vector to proportions; `0 · ln 0 = 0`.
///
/// This is the *divergence*; `scipy.spatial.distance.jensenshannon` returns its square root.
/// With `base = 2` the value lies in `[0, 1]` (1 for disjoint supports); with `base = e` in
/// `[0, ln 2]`. Returns NaN under the same conditions as [`psi`], or when `base` is not
/// positive, finite and different from 1.
pub fn js_divergence(p_counts: &[f64], q_counts: &[f64], base: f64) -> f64 {
    if !(base > 0.0 && base.is_finite() && base != 1.0) {
        return f64::NAN;
    }
    let Some((p, q)) = proportions(p_counts, q_counts) else {
        return f64::NAN;
    };
    let mut total = 0.0;
    for (&pi, &qi) in p.iter().zip(&q) {
        let mi = 0.5 * (pi + qi);
        if pi > 0.0 {
            total += pi * (pi / mi).ln();
        }
        if qi > 0.0 {
            total += qi * (qi / mi).ln();
        }
    }
    // Rounding can leave a tiny negative value for identical inputs.
    (0.5 * total / base.ln()).max(0.0)
}

/// Normalises two count vectors to proportions; `None` when they cannot be.
fn proportions(a: &[f64], b: &[f64]) -> Option<(Vec<f64>, Vec<f64>)> {
    if a.len() != b.len() || a.is_empty() {
        return None;
    }
    let norm = |x: &[f64]| -> Option<Vec<f64>> {
        if x.iter().any(|v| !(v.is_finite() && *v >= 0.0)) {
            return None;
        }
        let s: f64 = x.iter().sum();
        (s > 0.0 && s.is_finite()).then(|| x.iter().map(|v| v / s).collect())
    };
    Some((norm(a)?, norm(b)?))
}
