//! Two-sample statistics over plain slices, for detecting covariate shift.
//!
//! Everything here is a pure, deterministic function of its arguments: no I/O, no global
//! state, no threads. The conventions follow the references users compare against:
//!
//! | function | reference |
//! | --- | --- |
//! | [`ks_2samp_sorted`], [`ks_p_value`] | `scipy.stats.ks_2samp(a, b, method=…)`, two-sided |
//! | [`wasserstein_1_sorted`], [`wasserstein_1_weighted`] | `scipy.stats.wasserstein_distance` |
//! | [`merge_statistics`] | KS `D` and Wasserstein-1 from one merge |
//! | [`chi_square_2xk`] | `scipy.stats.chi2_contingency` (Yates only when dof = 1) |
//! | [`two_proportion_z`] | `statsmodels…proportions_ztest` (pooled, two-sided) |
//! | [`adjust_p_values`] | `statsmodels…multipletests` (`bonferroni`, `holm`, `fdr_bh`) |
//! | [`psi`], [`js_divergence`] | closed forms; empty-bin epsilon and log base are arguments |
//!
//! Sample functions take slices **already sorted ascending and free of NaN** (the caller
//! sorts once, [`sort_total_order`] is the fast way, and reuses the order), so KS and
//! Wasserstein are single `O(n + m)` merges, or one merge for both ([`merge_statistics`]).
//! Nothing panics on user data: empty inputs, mismatched lengths and invalid counts give
//! NaN results, as each function documents.
//!
//! ```
//! use normshift_stats::{ks_2samp_sorted, wasserstein_1_sorted, KsMode, Method};
//!
//! let reference = [1.0, 2.0, 3.0, 4.0, 5.0];
//! let current = [3.0, 4.0, 5.0, 6.0, 7.0];
//! let ks = ks_2samp_sorted(&reference, &current, KsMode::Auto);
//! assert_eq!(ks.statistic, 0.4);
//! assert_eq!(ks.method, Method::Exact);
//! assert!((ks.p_value - 0.873015873015873).abs() < 1e-12);
//! assert!((wasserstein_1_sorted(&reference, &current) - 2.0).abs() < 1e-12);
//! ```
#![deny(missing_docs)]

mod contingency;
mod distance;
pub mod kolmogorov;
mod ks;
mod merge;
mod multitest;
pub mod special;

pub use contingency::{chi_square_2xk, two_proportion_z};
pub use distance::{js_divergence, psi, wasserstein_1_sorted, wasserstein_1_weighted};
pub use ks::{
    ks_2samp_from_statistic, ks_2samp_sorted, ks_p_value, ks_statistic_sorted, KsMode, MAX_AUTO_N,
};
pub use merge::{merge_statistics, sort_total_order, MergeStatistics};
pub use multitest::{adjust_p_values, Correction};

/// Result of a hypothesis test.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct TestResult {
    /// The test statistic (KS `D`, chi-square, z).
    pub statistic: f64,
    /// The p-value, in `[0, 1]` (NaN only for invalid input, as documented per function).
    pub p_value: f64,
    /// How the p-value was obtained.
    pub method: Method,
}

/// How a p-value was obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// From the exact finite-sample distribution of the statistic.
    Exact,
    /// From an asymptotic (large-sample) distribution.
    Asymptotic,
}
