//! Covariate shift: comparing a current dataset with a reference, feature by feature.
//!
//! Each side is a [`Side`]: per-column profiles, plus every finite value sorted when the raw
//! data is at hand. With raw data on both sides every test is exact; otherwise tests use the
//! quantile sketches and the report says so (`mode = "sketch"`).
//!
//! Per numeric feature: Kolmogorov–Smirnov (two-sided; exact p-value for small samples as
//! scipy's `ks_2samp`, asymptotic otherwise), Wasserstein-1 (raw and in reference standard
//! deviations), standardized mean difference (in reference standard deviations: the seed's
//! mean shift), variance ratio, PSI and Jensen–Shannon on reference-decile bins.
//! Per categorical feature: chi-square on the 2×K table, Jensen–Shannon, total variation,
//! unseen and vanished categories by name. Per feature, changes in the missing rate and the
//! non-finite rate are tested too (two-proportion z-tests): they are drift signals in their
//! own right.
//!
//! **Decision.** The p-values of all tests of all features are corrected together (Holm by
//! default), so that the chance of any false alarm in the report is held at `alpha`; a
//! test that cannot fail (a missing or non-finite rate of 0 or 1 on both sides) is not
//! made. A feature's distribution counts as drifted only when its test is significant
//! after correction **and** its effect size reaches a threshold (numeric: W1 / σ_ref ≥ 0.1;
//! categorical: total variation ≥ 0.1), so a million rows do not flag trivial differences.
//! A missing- or non-finite-rate change counts when significant and at least 0.02 in
//! absolute rate. The dataset drifts when the share of drifted features reaches
//! `dataset_share` (default: any feature), or a column appears, vanishes, or changes kind.

use crate::profile::{
    CategoricalSummary, ColumnProfile, ColumnSummary, NumericSummary, MAX_CATEGORIES,
};
use normshift_stats::{self as stats, Correction, KsMode, Method};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeSet;

/// One dataset as drift sees it.
#[derive(Clone, Debug)]
pub struct Side {
    /// Where it came from (file names).
    pub source: String,
    /// Rows.
    pub rows: u64,
    /// Columns.
    pub columns: Vec<ColumnData>,
}

/// One column: its profile, and its sorted finite values when the raw data is available.
#[derive(Clone, Debug)]
pub struct ColumnData {
    /// The profile (counts, moments, sketch or categories).
    pub profile: ColumnProfile,
    /// Every finite value, sorted ascending (numeric columns with raw data only).
    pub sorted: Option<Vec<f64>>,
}

/// Thresholds and conventions. Every field is a command-line option.
#[derive(Clone, Debug, Serialize)]
pub struct DriftOptions {
    /// Significance level after correction.
    pub alpha: f64,
    /// Multiple-testing correction across features.
    pub correction: Correction,
    /// Minimum W1 / σ_ref for a numeric feature to count as drifted.
    pub min_wasserstein_std: f64,
    /// Minimum total-variation distance for a categorical feature.
    pub min_total_variation: f64,
    /// Minimum absolute change in the missing (or non-finite) rate.
    pub min_rate_change: f64,
    /// Share of features that must drift for the dataset to drift (0 = any one).
    pub dataset_share: f64,
    /// Proportion given to empty bins in PSI (avoids log 0).
    pub psi_empty_bin: f64,
    /// Bins for PSI and JS (reference quantiles).
    pub bins: usize,
    /// KS p-value mode.
    #[serde(skip)]
    pub ks_mode: KsMode,
    /// Also compute plot data (histograms and ECDFs) for each numeric feature.
    #[serde(skip)]
    pub plot_data: bool,
}

impl Default for DriftOptions {
    fn default() -> Self {
        Self {
            alpha: 0.05,
            correction: Correction::Holm,
            min_wasserstein_std: 0.1,
            min_total_variation: 0.1,
            min_rate_change: 0.02,
            dataset_share: 0.0,
            psi_empty_bin: 1e-4,
            bins: 10,
            ks_mode: KsMode::Auto,
            plot_data: false,
        }
    }
}

/// A test's outcome for one feature.
#[derive(Clone, Debug, Serialize)]
pub struct TestOutcome {
    /// `ks`, `chi_square`, `missing_rate`, `non_finite_rate`.
    pub name: &'static str,
    /// Test statistic (D, χ², z).
    pub statistic: f64,
    /// Raw p-value.
    pub p_value: f64,
    /// p-value after the correction across features.
    pub p_value_adjusted: f64,
    /// `exact`, `asymptotic`, or `sketch` (statistic from quantile sketches).
    pub method: &'static str,
    /// Sketch tests only: how far the statistic may be from the one the raw data would give
    /// (the sum of both sketches' rank-error bounds). The p-value is computed at
    /// `statistic − statistic_error`, so it is at least the raw data's p-value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statistic_error: Option<f64>,
}

/// Effect sizes of one feature (those that apply to its kind).
#[derive(Clone, Debug, Default, Serialize)]
pub struct EffectSizes {
    /// (mean_cur − mean_ref) / σ_ref.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standardized_mean_difference: Option<f64>,
    /// var_cur / var_ref (population variances).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variance_ratio: Option<f64>,
    /// Wasserstein-1 distance in the feature's units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wasserstein: Option<f64>,
    /// Wasserstein-1 divided by σ_ref.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wasserstein_std: Option<f64>,
    /// Population stability index on reference-quantile bins.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub psi: Option<f64>,
    /// Jensen–Shannon divergence, log base 2 (in [0, 1]).
    pub js_divergence: Option<f64>,
    /// Total variation distance between category shares.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_variation: Option<f64>,
    /// Change in missing rate (current − reference).
    pub missing_rate_change: f64,
    /// Change in non-finite rate (current − reference).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub non_finite_rate_change: Option<f64>,
}

/// One side's summary of a feature.
#[derive(Clone, Debug, Serialize)]
pub struct SideSummary {
    /// Non-missing, finite values (numeric) or labelled rows (categorical).
    pub count: u64,
    /// Missing share of rows.
    pub missing_rate: f64,
    /// Mean (numeric).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    /// Population standard deviation (numeric).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub std: Option<f64>,
    /// Share per category (categorical).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shares: Option<std::collections::BTreeMap<String, f64>>,
}

/// The verdict on one feature.
#[derive(Clone, Debug, Serialize)]
pub struct FeatureDrift {
    /// Column name.
    pub name: String,
    /// `numeric` or `categorical`.
    pub kind: &'static str,
    /// Whether the feature drifted (distribution, missing rate or non-finite rate).
    pub drift: bool,
    /// Why, in words (empty when not drifted).
    pub reasons: Vec<String>,
    /// Largest effect relative to its threshold: sorts the report.
    pub severity: f64,
    /// Tests run.
    pub tests: Vec<TestOutcome>,
    /// Effect sizes.
    pub effect_sizes: EffectSizes,
    /// Reference side.
    pub reference: SideSummary,
    /// Current side.
    pub current: SideSummary,
    /// Histograms and ECDFs of both sides (numeric features, when asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution: Option<Distribution>,
    /// Categories only in the current data.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unseen_categories: Vec<String>,
    /// Categories only in the reference.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub vanished_categories: Vec<String>,
    /// What could not be tested for this feature and why (starting "not tested:"), or how far
    /// to trust a test that was made (starting "weak test:").
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Both sides of a numeric feature on a common grid, for plotting.
#[derive(Clone, Debug, Serialize)]
pub struct Distribution {
    /// Histogram bin edges (`bins + 1`, from the smaller minimum to the larger maximum).
    pub edges: Vec<f64>,
    /// Reference share of values per bin.
    pub reference_hist: Vec<f64>,
    /// Current share of values per bin.
    pub current_hist: Vec<f64>,
    /// Points where both ECDFs are evaluated.
    pub ecdf_x: Vec<f64>,
    /// Reference ECDF at `ecdf_x`.
    pub reference_ecdf: Vec<f64>,
    /// Current ECDF at `ecdf_x`.
    pub current_ecdf: Vec<f64>,
    /// Grid point where the ECDFs are furthest apart (the KS distance, on the grid).
    pub ks_at: f64,
}

/// Histogram bins and ECDF points drawn per feature.
const PLOT_BINS: usize = 40;
const ECDF_POINTS: usize = 200;

fn distribution(
    r: &NumericSummary,
    rs: Option<&[f64]>,
    c: &NumericSummary,
    cs: Option<&[f64]>,
) -> Option<Distribution> {
    let (lo, hi) = (r.min.min(c.min), r.max.max(c.max));
    if !(lo.is_finite() && hi.is_finite()) {
        return None;
    }
    let (rn, cn) = (r.moments.count as f64, c.moments.count as f64);
    // Share of values ≤ x, exact from sorted values, else from the sketch.
    let rf = |x: f64| rs.map_or_else(|| r.sketch.cdf(x), |a| sorted_cdf(a, x) / rn);
    let cf = |x: f64| cs.map_or_else(|| c.sketch.cdf(x), |b| sorted_cdf(b, x) / cn);
    let span = if hi > lo { hi - lo } else { 1.0 };
    let edges: Vec<f64> = (0..=PLOT_BINS)
        .map(|i| lo + span * i as f64 / PLOT_BINS as f64)
        .collect();
    let hist = |f: &dyn Fn(f64) -> f64| -> Vec<f64> {
        // The first bin also holds values equal to the minimum.
        (0..PLOT_BINS)
            .map(|i| f(edges[i + 1]) - if i == 0 { 0.0 } else { f(edges[i]) })
            .collect()
    };
    let ecdf_x: Vec<f64> = (0..ECDF_POINTS)
        .map(|i| lo + span * i as f64 / (ECDF_POINTS - 1) as f64)
        .collect();
    let reference_ecdf: Vec<f64> = ecdf_x.iter().map(|&x| rf(x)).collect();
    let current_ecdf: Vec<f64> = ecdf_x.iter().map(|&x| cf(x)).collect();
    let ks_at = ecdf_x
        .iter()
        .zip(reference_ecdf.iter().zip(&current_ecdf))
        .max_by(|a, b| (a.1 .0 - a.1 .1).abs().total_cmp(&(b.1 .0 - b.1 .1).abs()))
        .map_or(lo, |(&x, _)| x);
    Some(Distribution {
        reference_hist: hist(&rf),
        current_hist: hist(&cf),
        edges,
        ecdf_x,
        reference_ecdf,
        current_ecdf,
        ks_at,
    })
}

/// Columns that do not line up.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SchemaChanges {
    /// Columns only in the reference.
    pub only_in_reference: Vec<String>,
    /// Columns only in the current data.
    pub only_in_current: Vec<String>,
    /// Columns numeric on one side and categorical on the other.
    pub kind_changed: Vec<String>,
}

/// A dataset's side in the report.
#[derive(Clone, Debug, Serialize)]
pub struct SideInfo {
    /// Source.
    pub source: String,
    /// Rows.
    pub rows: u64,
}

/// The full comparison.
#[derive(Clone, Debug, Serialize)]
pub struct DriftReport {
    /// The dataset verdict.
    pub dataset_drift: bool,
    /// The rule behind it, in words.
    pub rule: String,
    /// `exact` (raw data on both sides) or `sketch`.
    pub mode: &'static str,
    /// Reference.
    pub reference: SideInfo,
    /// Current.
    pub current: SideInfo,
    /// Settings used.
    pub settings: DriftOptions,
    /// Features compared.
    pub features_compared: usize,
    /// Features that drifted.
    pub features_drifted: usize,
    /// Per feature, most severe first.
    pub features: Vec<FeatureDrift>,
    /// Columns that do not line up.
    pub schema: SchemaChanges,
}

fn rate(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Cumulative counts at `edges` (values ≤ edge) → counts per bin (edges split the line
/// into `edges.len() + 1` bins).
fn bin_counts(cumulative: impl Fn(f64) -> f64, total: f64, edges: &[f64]) -> Vec<f64> {
    let mut counts = Vec::with_capacity(edges.len() + 1);
    let mut previous = 0.0;
    for &e in edges {
        let c = cumulative(e).clamp(previous, total);
        counts.push(c - previous);
        previous = c;
    }
    counts.push(total - previous);
    counts
}

/// Fraction of sorted values ≤ x.
fn sorted_cdf(sorted: &[f64], x: f64) -> f64 {
    sorted.partition_point(|&v| v <= x) as f64
}

/// The Kolmogorov–Smirnov part of a numeric comparison.
struct KsOutcome {
    statistic: f64,
    p_value: f64,
    method: &'static str,
    /// Set when the statistic comes from a compacted sketch: its error bound.
    statistic_error: Option<f64>,
}

struct NumericComparison {
    ks: KsOutcome,
    effects: EffectSizes,
}

/// Every finite value of one side, sorted: the raw data when at hand, else the sketch's items
/// while the sketch still holds every value exactly. `None` once the sketch has compacted.
fn exact_values<'a>(
    summary: &NumericSummary,
    sorted: Option<&'a [f64]>,
) -> Option<std::borrow::Cow<'a, [f64]>> {
    match sorted {
        Some(values) => Some(std::borrow::Cow::Borrowed(values)),
        None if summary.sketch.is_exact() => {
            let values: Vec<f64> = summary
                .sketch
                .weighted_items()
                .into_iter()
                .map(|(v, _)| v)
                .collect();
            Some(std::borrow::Cow::Owned(stats::sort_total_order(values)))
        }
        None => None,
    }
}

fn compare_numeric(
    r: &NumericSummary,
    rs: Option<&[f64]>,
    c: &NumericSummary,
    cs: Option<&[f64]>,
    o: &DriftOptions,
) -> NumericComparison {
    let (rn, cn) = (r.moments.count, c.moments.count);
    let sd_ref = r.moments.variance().sqrt();
    let mut effects = EffectSizes::default();
    if rn == 0 || cn == 0 {
        return NumericComparison {
            ks: KsOutcome {
                statistic: f64::NAN,
                p_value: f64::NAN,
                method: "none",
                statistic_error: None,
            },
            effects,
        };
    }
    effects.standardized_mean_difference = Some((c.moments.mean - r.moments.mean) / sd_ref);
    effects.variance_ratio = Some(c.moments.variance() / r.moments.variance());
    let ks = match (exact_values(r, rs), exact_values(c, cs)) {
        // Every value of both sides is at hand (raw data, or a sketch that has not compacted
        // yet): the exact test, whatever the mode says.
        (Some(a), Some(b)) => {
            // One merge gives both the KS statistic and the Wasserstein distance.
            let merged = stats::merge_statistics(&a, &b);
            let t = stats::ks_2samp_from_statistic(
                merged.ks_statistic,
                a.len() as u64,
                b.len() as u64,
                o.ks_mode,
            );
            let method = if t.method == Method::Exact {
                "exact"
            } else {
                "asymptotic"
            };
            effects.wasserstein = Some(merged.wasserstein_1);
            KsOutcome {
                statistic: t.statistic,
                p_value: t.p_value,
                method,
                statistic_error: None,
            }
        }
        _ => {
            // D from the CDFs (a sketch's, or the raw data's): the largest gap over every
            // retained value of both. Each compacted sketch's CDF is within its rank-error
            // bound of the truth, so the true D is within `error` of this one. The p-value is
            // taken at D − error: testing the estimate itself would turn the sketches' own
            // error into significant drift on large samples (a file against its own profile).
            let cdf = |s: &NumericSummary, sorted: Option<&[f64]>, x: f64| match sorted {
                Some(values) => sorted_cdf(values, x) / s.moments.count as f64,
                None => s.sketch.cdf(x),
            };
            let error = |s: &NumericSummary, sorted: Option<&[f64]>| {
                if sorted.is_some() {
                    0.0
                } else {
                    s.sketch.rank_error()
                }
            };
            let weighted = |s: &NumericSummary, sorted: Option<&[f64]>| match sorted {
                Some(values) => values.iter().map(|&v| (v, 1)).collect(),
                None => s.sketch.weighted_items(),
            };
            let (ri, ci) = (weighted(r, rs), weighted(c, cs));
            let d = ri
                .iter()
                .chain(&ci)
                .map(|&(x, _)| (cdf(r, rs, x) - cdf(c, cs, x)).abs())
                .fold(0.0, f64::max);
            let statistic_error = error(r, rs) + error(c, cs);
            let (p, _) = stats::ks_p_value((d - statistic_error).max(0.0), rn, cn, o.ks_mode);
            let split = |items: &[(f64, u64)]| -> (Vec<f64>, Vec<f64>) {
                items.iter().map(|&(v, w)| (v, w as f64)).unzip()
            };
            let ((rv, rw), (cv, cw)) = (split(&ri), split(&ci));
            effects.wasserstein = Some(stats::wasserstein_1_weighted(&rv, &rw, &cv, &cw));
            KsOutcome {
                statistic: d,
                p_value: p,
                method: "sketch",
                statistic_error: Some(statistic_error),
            }
        }
    };
    effects.wasserstein_std = effects.wasserstein.map(|w| {
        if sd_ref > 0.0 {
            w / sd_ref
        } else if w > 0.0 {
            f64::INFINITY
        } else {
            0.0
        }
    });
    // Bins: reference quantiles (exact when the reference data is at hand).
    let quantile = |q: f64| match rs {
        Some(a) => a[((q * a.len() as f64).ceil() as usize).clamp(1, a.len()) - 1],
        None => r.sketch.quantile(q),
    };
    let mut edges: Vec<f64> = (1..o.bins)
        .map(|i| quantile(i as f64 / o.bins as f64))
        .collect();
    edges.dedup();
    let ref_counts = match rs {
        Some(a) => bin_counts(|x| sorted_cdf(a, x), rn as f64, &edges),
        None => bin_counts(|x| r.sketch.cdf(x) * rn as f64, rn as f64, &edges),
    };
    let cur_counts = match cs {
        Some(b) => bin_counts(|x| sorted_cdf(b, x), cn as f64, &edges),
        None => bin_counts(|x| c.sketch.cdf(x) * cn as f64, cn as f64, &edges),
    };
    effects.psi = Some(stats::psi(&ref_counts, &cur_counts, o.psi_empty_bin));
    effects.js_divergence = Some(stats::js_divergence(&ref_counts, &cur_counts, 2.0));
    NumericComparison { ks, effects }
}

/// Label under which pooled categories (beyond the profile's limit) are compared.
pub const OTHER_CATEGORIES: &str = "(other categories)";

/// Counts per label, with the pooled overflow as one more label.
fn category_counts(s: &CategoricalSummary) -> std::collections::BTreeMap<String, u64> {
    let mut counts = s.counts.clone();
    if s.other > 0 {
        *counts.entry(OTHER_CATEGORIES.to_string()).or_insert(0) += s.other;
    }
    counts
}

/// Labels `a` counted that `b` did not, when `b` kept every label it saw (none pooled).
fn unmatched(a: &CategoricalSummary, b: &CategoricalSummary) -> Vec<String> {
    if b.other > 0 {
        return Vec::new();
    }
    a.counts
        .keys()
        .filter(|k| !b.counts.contains_key(*k))
        .cloned()
        .collect()
}

fn shares(s: &CategoricalSummary) -> std::collections::BTreeMap<String, f64> {
    let counts = category_counts(s);
    let total: u64 = counts.values().sum();
    counts
        .iter()
        .map(|(k, &v)| (k.clone(), rate(v, total)))
        .collect()
}

fn side_summary(p: &ColumnProfile) -> SideSummary {
    match &p.summary {
        ColumnSummary::Numeric(s) => SideSummary {
            count: s.moments.count,
            missing_rate: rate(p.missing, p.rows),
            mean: (s.moments.count > 0).then_some(s.moments.mean),
            std: (s.moments.count > 0).then(|| s.moments.variance().sqrt()),
            shares: None,
        },
        ColumnSummary::Categorical(s) => SideSummary {
            count: s.counts.values().sum::<u64>() + s.other,
            missing_rate: rate(p.missing, p.rows),
            mean: None,
            std: None,
            shares: Some(shares(s)),
        },
    }
}

/// Compares `current` against `reference`.
pub fn compare(reference: &Side, current: &Side, options: &DriftOptions) -> DriftReport {
    let mut schema = SchemaChanges::default();
    let mut features = Vec::new();
    let exact =
        reference.columns.iter().chain(&current.columns).all(|c| {
            c.sorted.is_some() || matches!(c.profile.summary, ColumnSummary::Categorical(_))
        });
    // Features are independent: compare them in parallel, keeping reference column order.
    let outcomes: Vec<Outcome> = reference
        .columns
        .par_iter()
        .map(|rc| compare_column(rc, current, options))
        .collect();
    for outcome in outcomes {
        match outcome {
            Outcome::Feature(f) => features.push(*f),
            Outcome::Missing(name) => schema.only_in_reference.push(name),
            Outcome::KindChanged(name) => schema.kind_changed.push(name),
        }
    }
    schema.only_in_current = current
        .columns
        .iter()
        .filter(|c| {
            !reference
                .columns
                .iter()
                .any(|r| r.profile.name == c.profile.name)
        })
        .map(|c| c.profile.name.clone())
        .collect();

    // Correct every test of every feature together: the dataset drifts when any one of them
    // is significant, so the chance of a false alarm is that of the whole set. (Corrected per
    // family, as until 2026-11-30, a numeric feature with missing and non-finite values took
    // three tests at alpha each: 11% false alarms at alpha = 0.05 in a simulation.)
    let positions: Vec<(usize, usize)> = features
        .iter()
        .enumerate()
        .flat_map(|(i, f)| (0..f.tests.len()).map(move |j| (i, j)))
        .collect();
    let raw: Vec<f64> = positions
        .iter()
        .map(|&(i, j)| features[i].tests[j].p_value)
        .collect();
    for (&(i, j), adjusted) in positions
        .iter()
        .zip(stats::adjust_p_values(&raw, options.correction))
    {
        features[i].tests[j].p_value_adjusted = adjusted;
    }
    for f in &mut features {
        decide(f, options);
    }
    features.sort_by(|a, b| {
        b.drift
            .cmp(&a.drift)
            .then(b.severity.total_cmp(&a.severity))
            .then(a.name.cmp(&b.name))
    });
    let drifted = features.iter().filter(|f| f.drift).count();
    let share = rate(drifted as u64, features.len() as u64);
    let schema_changed = !(schema.only_in_reference.is_empty()
        && schema.only_in_current.is_empty()
        && schema.kind_changed.is_empty());
    let dataset_drift = schema_changed || (drifted > 0 && share >= options.dataset_share);
    let rule = if options.dataset_share > 0.0 {
        format!("dataset drift when at least {:.0}% of features drift, or a column appears, vanishes or changes kind", options.dataset_share * 100.0)
    } else {
        "dataset drift when any feature drifts, or a column appears, vanishes or changes kind"
            .to_string()
    };
    DriftReport {
        dataset_drift,
        rule,
        mode: if exact { "exact" } else { "sketch" },
        reference: SideInfo {
            source: reference.source.clone(),
            rows: reference.rows,
        },
        current: SideInfo {
            source: current.source.clone(),
            rows: current.rows,
        },
        settings: options.clone(),
        features_compared: features.len(),
        features_drifted: drifted,
        features,
        schema,
    }
}

/// "the reference side", "the current side" or "both sides", for notes.
fn sides_without(reference: bool, current: bool) -> &'static str {
    match (reference, current) {
        (true, true) => "both sides",
        (true, false) => "the reference side",
        _ => "the current side",
    }
}

/// What comparing one reference column gives.
enum Outcome {
    Feature(Box<FeatureDrift>),
    Missing(String),
    KindChanged(String),
}

fn compare_column(rc: &ColumnData, current: &Side, options: &DriftOptions) -> Outcome {
    let Some(cc) = current
        .columns
        .iter()
        .find(|c| c.profile.name == rc.profile.name)
    else {
        return Outcome::Missing(rc.profile.name.clone());
    };
    let (rp, cp) = (&rc.profile, &cc.profile);
    let mut f = FeatureDrift {
        name: rp.name.clone(),
        kind: "numeric",
        drift: false,
        reasons: Vec::new(),
        severity: 0.0,
        tests: Vec::new(),
        effect_sizes: EffectSizes::default(),
        reference: side_summary(rp),
        current: side_summary(cp),
        distribution: None,
        unseen_categories: Vec::new(),
        vanished_categories: Vec::new(),
        notes: Vec::new(),
    };
    match (&rp.summary, &cp.summary) {
        (ColumnSummary::Numeric(r), ColumnSummary::Numeric(c)) => {
            let cmp = compare_numeric(r, rc.sorted.as_deref(), c, cc.sorted.as_deref(), options);
            f.effect_sizes = cmp.effects;
            if options.plot_data && r.moments.count > 0 && c.moments.count > 0 {
                f.distribution = distribution(r, rc.sorted.as_deref(), c, cc.sorted.as_deref());
            }
            let KsOutcome {
                statistic,
                p_value,
                method,
                statistic_error,
            } = cmp.ks;
            if statistic.is_nan() {
                f.notes.push(format!(
                    "not tested: no finite values on {}",
                    sides_without(r.moments.count == 0, c.moments.count == 0)
                ));
            } else {
                f.tests.push(TestOutcome {
                    name: "ks",
                    statistic,
                    p_value,
                    p_value_adjusted: p_value,
                    method,
                    statistic_error,
                });
            }
            let (rnf, cnf) = (r.non_finite.total(), c.non_finite.total());
            f.effect_sizes.non_finite_rate_change = Some(rate(cnf, cp.rows) - rate(rnf, rp.rows));
            // Only a rate strictly between 0 and 1 over both sides can differ: a test that
            // cannot fail would still count towards the correction of the others.
            if 0 < rnf + cnf && rnf + cnf < rp.rows + cp.rows {
                let t = stats::two_proportion_z(rnf, rp.rows, cnf, cp.rows);
                f.tests.push(TestOutcome {
                    name: "non_finite_rate",
                    statistic: t.statistic,
                    p_value: t.p_value,
                    p_value_adjusted: t.p_value,
                    method: "asymptotic",
                    statistic_error: None,
                });
            }
        }
        (ColumnSummary::Categorical(rs), ColumnSummary::Categorical(cs)) => {
            f.kind = "categorical";
            // A label counts as new (or gone) only where the other side kept every label
            // it saw; otherwise the label may be among that side's pooled ones.
            f.unseen_categories = unmatched(cs, rs);
            f.vanished_categories = unmatched(rs, cs);
            let overflowed: Vec<&str> = [("reference", rs), ("current", cs)]
                .into_iter()
                .filter(|(_, s)| s.other > 0)
                .map(|(side, _)| side)
                .collect();
            if !overflowed.is_empty() {
                // Beyond MAX_CATEGORIES labels, which ones are pooled depends on the order
                // of the rows (and of merged profiles), so per-label counts of the two sides
                // are not comparable: a test on them would find drift in shuffled copies.
                let sides = match overflowed.as_slice() {
                    [side] => format!("the {side} side"),
                    _ => "both sides".to_string(),
                };
                f.notes.push(format!(
                    "not tested: more than {MAX_CATEGORIES} distinct labels on {sides}; \
                     labels beyond the first {MAX_CATEGORIES} seen are pooled in an order that \
                     depends on the rows, so per-label counts cannot be compared"
                ));
            } else {
                let (r, c) = (&rs.counts, &cs.counts);
                let labels: BTreeSet<&String> = r.keys().chain(c.keys()).collect();
                let count = |m: &std::collections::BTreeMap<String, u64>, l: &String| {
                    *m.get(l).unwrap_or(&0) as f64
                };
                let rv: Vec<f64> = labels.iter().map(|l| count(r, l)).collect();
                let cv: Vec<f64> = labels.iter().map(|l| count(c, l)).collect();
                let (rt, ct): (f64, f64) = (rv.iter().sum(), cv.iter().sum());
                if rt == 0.0 || ct == 0.0 {
                    f.notes.push(format!(
                        "not tested: no labels on {}",
                        sides_without(rt == 0.0, ct == 0.0)
                    ));
                } else {
                    let t = stats::chi_square_2xk(&rv, &cv);
                    // Cochran's rule: the chi-square approximation needs most expected counts
                    // to be 5 or more. With many rare labels (an ID column, labels seen once)
                    // the test has little power: disjoint sets of unique labels give p near
                    // 0.5 although total variation is 1. Say so rather than let "ok" stand.
                    let total = rt + ct;
                    let sparse = rv
                        .iter()
                        .zip(&cv)
                        .filter(|(a, b)| **a + **b > 0.0)
                        .map(|(a, b)| {
                            let column = a + b;
                            usize::from(rt * column / total < 5.0)
                                + usize::from(ct * column / total < 5.0)
                        })
                        .sum::<usize>();
                    let cells = 2 * rv.iter().zip(&cv).filter(|(a, b)| **a + **b > 0.0).count();
                    if sparse * 5 > cells {
                        f.notes.push(format!(
                            "weak test: {sparse} of {cells} label counts are expected below 5 \
                             (many rare labels), where the chi-square test has little power; \
                             a column of mostly unique values, such as IDs, cannot show drift \
                             this way (compare total variation, JS and the new and vanished \
                             labels instead)"
                        ));
                    }
                    f.tests.push(TestOutcome {
                        name: "chi_square",
                        statistic: t.statistic,
                        p_value: t.p_value,
                        p_value_adjusted: t.p_value,
                        method: "asymptotic",
                        statistic_error: None,
                    });
                    f.effect_sizes.js_divergence = Some(stats::js_divergence(&rv, &cv, 2.0));
                    f.effect_sizes.total_variation = Some(
                        rv.iter()
                            .zip(&cv)
                            .map(|(a, b)| (a / rt - b / ct).abs())
                            .sum::<f64>()
                            / 2.0,
                    );
                }
            }
        }
        _ => return Outcome::KindChanged(rp.name.clone()),
    }
    f.effect_sizes.missing_rate_change = rate(cp.missing, cp.rows) - rate(rp.missing, rp.rows);
    if 0 < rp.missing + cp.missing && rp.missing + cp.missing < rp.rows + cp.rows {
        let t = stats::two_proportion_z(rp.missing, rp.rows, cp.missing, cp.rows);
        f.tests.push(TestOutcome {
            name: "missing_rate",
            statistic: t.statistic,
            p_value: t.p_value,
            p_value_adjusted: t.p_value,
            method: "asymptotic",
            statistic_error: None,
        });
    }
    Outcome::Feature(Box::new(f))
}

fn decide(f: &mut FeatureDrift, o: &DriftOptions) {
    let significant = |name: &str| {
        f.tests
            .iter()
            .find(|t| t.name == name)
            .is_some_and(|t| t.p_value_adjusted < o.alpha)
    };
    let mut reasons = Vec::new();
    let mut severity = 0.0f64;
    let e = &f.effect_sizes;
    if let Some(w) = e.wasserstein_std {
        severity = severity.max(w / o.min_wasserstein_std);
        if significant("ks") && w >= o.min_wasserstein_std {
            let smd = e.standardized_mean_difference.unwrap_or(0.0);
            reasons.push(format!(
                "distribution shifted: W1 = {w:.3} σ_ref, mean moved {smd:+.3} σ_ref"
            ));
        }
    }
    if let Some(tv) = e.total_variation {
        severity = severity.max(tv / o.min_total_variation);
        if significant("chi_square") && tv >= o.min_total_variation {
            reasons.push(format!("category shares shifted: total variation {tv:.3}"));
        }
    }
    let mut rate_signal = |name: &str, change: f64, what: &str| {
        severity = severity.max(change.abs() / o.min_rate_change);
        if significant(name) && change.abs() >= o.min_rate_change {
            reasons.push(format!(
                "{what} rate changed by {:+.1} percentage points",
                change * 100.0
            ));
        }
    };
    rate_signal("missing_rate", e.missing_rate_change, "missing");
    if let Some(nf) = e.non_finite_rate_change {
        rate_signal("non_finite_rate", nf, "non-finite");
    }
    f.drift = !reasons.is_empty();
    f.reasons = reasons;
    f.severity = if severity.is_finite() {
        severity
    } else {
        f64::MAX
    };
}
