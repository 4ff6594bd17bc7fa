//! Tests on counts: chi-square homogeneity on a 2 × K table, two-proportion z-test.

use crate::special::{chi2_sf, normal_two_sided_p};
use crate::{Method, TestResult};

const NAN_RESULT: TestResult = TestResult {
    statistic: f64::NAN,
    p_value: f64::NAN,
    method: Method::Asymptotic,
};

/// Pearson chi-square test of homogeneity on the 2 × K table `[a; b]`, equal to
/// `scipy.stats.chi2_contingency([a, b])` with its default `correction=True`.
///
/// * Categories whose total over both rows is zero are dropped first (scipy would refuse the
///   table); `dof = K' - 1` with `K'` the categories left.
/// * Yates' continuity correction (each `|observed - expected|` reduced by up to 0.5) is
///   applied only when `dof == 1`, as scipy does.
/// * `dof == 0` (one category left) gives statistic 0 and p-value 1, as scipy does.
/// * NaN statistic and p-value when the lengths differ, a count is negative or not finite,
///   no category is left, or a row sums to zero (its expected counts would be zero; scipy
///   raises an error).
///
/// The p-value is `chi2.sf(statistic, dof)`; `method` is always [`Method::Asymptotic`].
pub fn chi_square_2xk(a_counts: &[f64], b_counts: &[f64]) -> TestResult {
    if a_counts.len() != b_counts.len()
        || a_counts
            .iter()
            .chain(b_counts)
            .any(|v| !(v.is_finite() && *v >= 0.0))
    {
        return NAN_RESULT;
    }
    let (a, b): (Vec<f64>, Vec<f64>) = a_counts
        .iter()
        .zip(b_counts)
        .filter(|(x, y)| **x + **y > 0.0)
        .map(|(x, y)| (*x, *y))
        .unzip();
    let k = a.len();
    let (ra, rb) = (a.iter().sum::<f64>(), b.iter().sum::<f64>());
    if k == 0 || ra == 0.0 || rb == 0.0 {
        return NAN_RESULT;
    }
    let dof = k - 1;
    if dof == 0 {
        return TestResult {
            statistic: 0.0,
            p_value: 1.0,
            method: Method::Asymptotic,
        };
    }
    let total = ra + rb;
    let mut statistic = 0.0;
    for (row, row_sum) in [(&a, ra), (&b, rb)] {
        for (c, &observed) in row.iter().enumerate() {
            let col_sum = a[c] + b[c];
            let expected = row_sum * col_sum / total;
            let mut observed = observed;
            if dof == 1 {
                let diff = expected - observed;
                observed += diff.signum() * diff.abs().min(0.5) * f64::from(diff != 0.0);
            }
            statistic += (observed - expected).powi(2) / expected;
        }
    }
    TestResult {
        statistic,
        p_value: chi2_sf(statistic, dof as f64),
        method: Method::Asymptotic,
    }
}

/// Two-sided pooled two-proportion z-test of `x1/n1` against `x2/n2`, equal to
/// `statsmodels.stats.proportion.proportions_ztest([x1, x2], [n1, n2])`.
///
/// `z = (x1/n1 - x2/n2) / sqrt(p̂ (1 - p̂) (1/n1 + 1/n2))` with the pooled `p̂ = (x1+x2)/(n1+n2)`,
/// and `p = 2 · Φ(-|z|)`. Used for "the missing rate changed".
///
/// Degenerate cases, documented rather than NaN where an answer is meaningful:
/// * `p̂ = 0` or `p̂ = 1` (both samples have no events, or only events): the rates are
///   identical, so statistic 0 and p-value 1 (statsmodels returns NaN here).
/// * `n1 == 0`, `n2 == 0`, `x1 > n1` or `x2 > n2`: NaN statistic and p-value.
pub fn two_proportion_z(x1: u64, n1: u64, x2: u64, n2: u64) -> TestResult {
    if n1 == 0 || n2 == 0 || x1 > n1 || x2 > n2 {
        return NAN_RESULT;
    }
    let (x1f, n1f, x2f, n2f) = (x1 as f64, n1 as f64, x2 as f64, n2 as f64);
    let diff = x1f / n1f - x2f / n2f;
    let pooled = (x1f + x2f) / (n1f + n2f);
    if pooled == 0.0 || pooled == 1.0 {
        return TestResult {
            statistic: 0.0,
            p_value: 1.0,
            method: Method::Asymptotic,
        };
    }
    let std = (pooled * (1.0 - pooled) * (1.0 / n1f + 1.0 / n2f)).sqrt();
    let z = diff / std;
    TestResult {
        statistic: z,
        p_value: normal_two_sided_p(z),
        method: Method::Asymptotic,
    }
}
