//! Fitted profiles: per-column summaries that are small, versioned, and mergeable.
//!
//! A [`Profile`] holds for each column: counts (rows, missing, NaN, ±inf), exact moments
//! (count, mean, sum of squared deviations; merged with Chan et al.'s formulas), min, max, a
//! [`QuantileSketch`] for numeric columns and exact category counts for categorical ones.
//! Merging two profiles gives exactly the counts and moments of the concatenated data (up to
//! floating-point rounding), and quantiles within the sketch's rank-error bound.

use crate::sketch::{QuantileSketch, DEFAULT_K};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// JSON has no NaN or infinity: such values are written as `null` and read back as NaN.
mod nullable_f64 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else {
            s.serialize_none()
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

/// Version written into every profile; readers refuse other versions.
pub const PROFILE_VERSION: u32 = 1;

/// Exact streaming moments of finite values: count, mean, and `m2 = Σ (x − mean)²`.
///
/// The mean is kept as two doubles, `mean + mean_rounding` (a double-double): `mean` is the
/// nearest double, and `mean_rounding` what that rounding left out. Merging needs the
/// difference of two means; near a large common offset (`1e12 + noise`) the doubles alone
/// lose it to rounding (7.9e-7 of the variance on `1e12 + U(−1.7, 1.7)`), the pairs keep it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Moments {
    /// Finite values seen.
    pub count: u64,
    /// Their mean (finite values near `f64::MAX` can overflow it to ±inf: written as `null`).
    #[serde(with = "nullable_f64")]
    pub mean: f64,
    /// Sum of squared deviations from the mean (overflows to inf for spreads beyond about
    /// 1e154: written as `null`, read back as NaN).
    #[serde(with = "nullable_f64")]
    pub m2: f64,
    /// The mean's rounding error: the exact mean of the values is `mean + mean_rounding`, at
    /// most half a unit in the last place of `mean`. 0 when the mean is not finite, and for
    /// profiles written before this field (read as 0, which merges as those versions did).
    #[serde(default)]
    pub mean_rounding: f64,
}

/// `a + b` as a double-double: the rounded sum and its exact error (Knuth's TwoSum). A
/// non-finite sum has no error to keep: 0.
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let sum = a + b;
    if !sum.is_finite() {
        return (sum, 0.0);
    }
    let b_part = sum - a;
    let a_part = sum - b_part;
    (sum, (a - a_part) + (b - b_part))
}

impl Moments {
    /// Moments of a slice of finite values: two passes over deviations from the first value,
    /// so a large common offset (`1e8 + noise`) costs no precision in the mean or `m2`.
    pub fn of(values: &[f64]) -> Self {
        let Some(&shift) = values.first() else {
            return Self::default();
        };
        Self::around(values, shift).shifted(shift)
    }

    /// These moments of `value − pivot` as moments of the values themselves: the mean moved
    /// by `pivot`, as a double-double (no precision lost to the offset).
    pub fn shifted(&self, pivot: f64) -> Self {
        if self.count == 0 {
            return *self;
        }
        let (sum, error) = two_sum(pivot, self.mean);
        let (mean, mean_rounding) = two_sum(sum, error + self.mean_rounding);
        Self {
            mean,
            mean_rounding,
            ..*self
        }
    }

    /// Moments of `value − pivot` (the mean is relative to `pivot`, `m2` is the same as the
    /// values'): two passes over deviations from `pivot`, which should lie near the values.
    pub fn around(values: &[f64], pivot: f64) -> Self {
        if values.is_empty() {
            return Self::default();
        }
        let n = values.len() as f64;
        let mean_dev = values.iter().map(|v| v - pivot).sum::<f64>() / n;
        let m2 = values.iter().map(|v| (v - pivot - mean_dev).powi(2)).sum();
        Self {
            count: values.len() as u64,
            mean: mean_dev,
            m2,
            mean_rounding: 0.0,
        }
    }

    /// Chan, Golub & LeVeque's pairwise combination: the moments of both inputs together.
    pub fn merge(&self, other: &Moments) -> Moments {
        if other.count == 0 {
            return *self;
        }
        if self.count == 0 {
            return *other;
        }
        let (na, nb) = (self.count as f64, other.count as f64);
        let n = na + nb;
        // The difference of the doubles is exact when the means are within a factor of 2
        // of each other (Sterbenz), as under a large common offset; their rounding errors,
        // tiny, add the rest.
        let delta = (other.mean - self.mean) + (other.mean_rounding - self.mean_rounding);
        let (mean, mean_rounding) = two_sum(self.mean, self.mean_rounding + delta * nb / n);
        Moments {
            // Counts beyond u64 come only from hand-made profiles; saturate rather than wrap.
            count: self.count.saturating_add(other.count),
            mean,
            m2: self.m2 + other.m2 + delta * delta * na * nb / n,
            mean_rounding,
        }
    }

    /// Population variance `m2 / n` (what batch normalization divides by).
    pub fn variance(&self) -> f64 {
        if self.count == 0 {
            f64::NAN
        } else {
            self.m2 / self.count as f64
        }
    }

    /// Sample variance `m2 / (n − 1)`.
    pub fn sample_variance(&self) -> f64 {
        if self.count < 2 {
            f64::NAN
        } else {
            self.m2 / (self.count - 1) as f64
        }
    }
}

/// Non-finite values seen in a numeric column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonFinite {
    /// NaN values.
    pub nan: u64,
    /// `+inf` values (including numbers too large for `f64`, such as `1e400`).
    pub pos_inf: u64,
    /// `-inf` values.
    pub neg_inf: u64,
}

impl NonFinite {
    /// All non-finite values.
    pub fn total(&self) -> u64 {
        self.nan + self.pos_inf + self.neg_inf
    }
}

/// Summary of a numeric column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NumericSummary {
    /// Exact moments of the finite values.
    pub moments: Moments,
    /// Population variance of the finite values (`m2 / n`), for readers of the JSON. This
    /// and the other derived fields (`sample_variance`, `sketch_rank_error`, `deciles`) may
    /// be left out of a profile that is read: they are computed from the moments and the
    /// sketch, and a given value must agree with them.
    #[serde(with = "nullable_f64")]
    pub variance: f64,
    /// Sample variance (`m2 / (n − 1)`).
    #[serde(with = "nullable_f64")]
    pub sample_variance: f64,
    /// NaN and infinities (not in the moments or the sketch).
    pub non_finite: NonFinite,
    /// Smallest finite value.
    #[serde(with = "nullable_f64")]
    pub min: f64,
    /// Largest finite value.
    #[serde(with = "nullable_f64")]
    pub max: f64,
    /// Quantile sketch of the finite values.
    pub sketch: QuantileSketch,
    /// Reported rank-error bound of the sketch (0 when exact).
    pub sketch_rank_error: f64,
    /// Deciles estimated from the sketch (the bins PSI uses), for reading.
    pub deciles: Vec<f64>,
}

/// Summary of a categorical column: exact counts per category.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CategoricalSummary {
    /// Count per category label (at most [`MAX_CATEGORIES`] labels).
    pub counts: BTreeMap<String, u64>,
    /// Values whose label arrived after [`MAX_CATEGORIES`] distinct labels were already
    /// tracked: counted together so memory stays bounded for identifier-like columns.
    #[serde(default)]
    pub other: u64,
}

/// Distinct labels tracked per categorical column. Below it, counts are exact and merge
/// exactly; beyond it, new labels are pooled in [`CategoricalSummary::other`].
pub const MAX_CATEGORIES: usize = 10_000;

impl CategoricalSummary {
    /// Counts `n` more values of `label`, pooling new labels once the limit is reached.
    pub fn add(&mut self, label: &str, n: u64) {
        if let Some(count) = self.counts.get_mut(label) {
            *count = count.saturating_add(n);
        } else if self.counts.len() < MAX_CATEGORIES {
            self.counts.insert(label.to_owned(), n);
        } else {
            self.other = self.other.saturating_add(n);
        }
    }
}

/// What a column holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ColumnSummary {
    /// Numbers.
    Numeric(NumericSummary),
    /// Categories.
    Categorical(CategoricalSummary),
}

/// The profile of one column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ColumnFields")]
pub struct ColumnProfile {
    /// Column name.
    pub name: String,
    /// Rows seen (values, missing, and non-finite alike).
    pub rows: u64,
    /// Missing values (empty fields, nulls).
    pub missing: u64,
    /// The summary.
    #[serde(flatten)]
    pub summary: ColumnSummary,
}

/// A column as read from JSON: the fields of either kind, each parsed straight from the text.
/// (Deriving through `flatten` and the `kind` tag buffered the whole column first, so a bad
/// value anywhere in it was reported at the column's closing brace instead of where it is.)
#[derive(Deserialize)]
struct ColumnFields {
    name: String,
    rows: u64,
    missing: u64,
    kind: Kind,
    moments: Option<Moments>,
    #[serde(default, deserialize_with = "present_nullable")]
    variance: Option<f64>,
    #[serde(default, deserialize_with = "present_nullable")]
    sample_variance: Option<f64>,
    non_finite: Option<NonFinite>,
    #[serde(default, deserialize_with = "present_nullable")]
    min: Option<f64>,
    #[serde(default, deserialize_with = "present_nullable")]
    max: Option<f64>,
    sketch: Option<QuantileSketch>,
    sketch_rank_error: Option<f64>,
    deciles: Option<Vec<f64>>,
    counts: Option<BTreeMap<String, u64>>,
    other: Option<u64>,
}

/// The `kind` tag of a column.
#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Numeric,
    Categorical,
}

/// A field that may be `null` (read as NaN, see [`nullable_f64`]), told apart from an absent one.
fn present_nullable<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<f64>, D::Error> {
    nullable_f64::deserialize(d).map(Some)
}

impl TryFrom<ColumnFields> for ColumnProfile {
    type Error = String;

    /// The column, its derived fields recomputed. Given derived fields must agree with the
    /// recomputation: a hand-edited `variance` would otherwise be silently ignored (readers
    /// use the moments), so it is refused and the way to change it named.
    fn try_from(f: ColumnFields) -> std::result::Result<Self, String> {
        let missing = |field: &str| format!("missing field `{field}`");
        let summary = match f.kind {
            Kind::Numeric => {
                let mut s = NumericSummary {
                    moments: f.moments.ok_or_else(|| missing("moments"))?,
                    variance: f64::NAN,
                    sample_variance: f64::NAN,
                    non_finite: f.non_finite.ok_or_else(|| missing("non_finite"))?,
                    min: f.min.ok_or_else(|| missing("min"))?,
                    max: f.max.ok_or_else(|| missing("max"))?,
                    sketch: f.sketch.ok_or_else(|| missing("sketch"))?,
                    sketch_rank_error: 0.0,
                    deciles: Vec::new(),
                };
                s.refresh();
                ColumnSummary::Numeric(s)
            }
            Kind::Categorical => ColumnSummary::Categorical(CategoricalSummary {
                counts: f.counts.ok_or_else(|| missing("counts"))?,
                other: f.other.unwrap_or(0),
            }),
        };
        let column = ColumnProfile {
            name: f.name,
            rows: f.rows,
            missing: f.missing,
            summary,
        };
        // The core fields first: derived values of impossible moments say little.
        column.check()?;
        if let ColumnSummary::Numeric(s) = &column.summary {
            let from_moments = "from the moments";
            derived_agrees(
                "variance",
                f.variance,
                s.variance,
                "m2 / count",
                from_moments,
            )?;
            derived_agrees(
                "sample_variance",
                f.sample_variance,
                s.sample_variance,
                "m2 / (count - 1)",
                from_moments,
            )?;
            derived_agrees(
                "sketch_rank_error",
                f.sketch_rank_error,
                s.sketch_rank_error,
                "the bound",
                "of the sketch",
            )?;
            if let Some(given) = f.deciles {
                let same = given.len() == s.deciles.len()
                    && given.iter().zip(&s.deciles).all(|(&g, &d)| agrees(g, d));
                if !same {
                    return Err(format!(
                        "deciles are {given:?}, but the sketch gives {:?}; they are derived \
                         from the sketch (change the sketch, or leave deciles out to have them \
                         computed)",
                        s.deciles
                    ));
                }
            }
        }
        Ok(column)
    }
}

/// Whether a derived value read from a profile is the one recomputed from its core fields:
/// equal up to a relative 1e-9, so another platform's last-bit rounding (of `powf` in the
/// sketch's bound, say) is not called an edit. `null` (NaN) agrees with NaN.
fn agrees(given: f64, derived: f64) -> bool {
    (given.is_nan() && derived.is_nan())
        || given == derived
        || (given - derived).abs() <= 1e-9 * derived.abs()
}

/// Refuses a derived field given with a value other than the recomputed one, naming both.
fn derived_agrees(
    field: &str,
    given: Option<f64>,
    derived: f64,
    formula: &str,
    source: &str,
) -> std::result::Result<(), String> {
    match given {
        Some(g) if !agrees(g, derived) => {
            let shown = |v: f64| {
                if v.is_nan() {
                    "null".to_string()
                } else {
                    format!("{v:?}")
                }
            };
            Err(format!(
                "{field} is {}, but {formula} {source} is {}; {field} is derived (change the \
                 fields it comes from, or leave it out to have it computed)",
                shown(g),
                shown(derived)
            ))
        }
        _ => Ok(()),
    }
}

impl ColumnProfile {
    /// Refuses core fields that no data could give: counts that do not add up to the rows,
    /// moments of nothing that are not zero, a negative `m2`, a `null` mean or bounds beside
    /// finite values, a minimum above the maximum, a sketch of another count. (The message
    /// does not name the column: callers add it.)
    fn check(&self) -> std::result::Result<(), String> {
        let add = |parts: &[u64]| {
            parts
                .iter()
                .try_fold(0u64, |total, &p| total.checked_add(p))
        };
        let shown =
            |sum: Option<u64>| sum.map_or("more than 2^64 - 1".to_string(), |s| s.to_string());
        match &self.summary {
            ColumnSummary::Numeric(s) => {
                let m = &s.moments;
                let nf = &s.non_finite;
                let sum = add(&[m.count, self.missing, nf.nan, nf.pos_inf, nf.neg_inf]);
                if sum != Some(self.rows) {
                    return Err(format!(
                        "rows is {}, but its finite values (moments.count {}), missing values \
                         ({}) and non-finite values ({} NaN, {} +inf, {} -inf) add up to {}",
                        self.rows,
                        m.count,
                        self.missing,
                        nf.nan,
                        nf.pos_inf,
                        nf.neg_inf,
                        shown(sum)
                    ));
                }
                if m.m2 < 0.0 {
                    return Err(format!(
                        "m2 (the sum of squared deviations) is {:?}, but it cannot be negative",
                        m.m2
                    ));
                }
                // A rounding error is below the mean's last place (TwoSum's is at most half
                // of it): anything larger would be a second, hidden mean.
                let bound = if m.mean.is_finite() {
                    m.mean.abs() * f64::EPSILON
                } else {
                    0.0
                };
                if m.mean_rounding.is_nan() || m.mean_rounding.abs() > bound {
                    return Err(format!(
                        "mean_rounding ({:?}) is larger than the rounding error of mean ({:?}) \
                         can be",
                        m.mean_rounding, m.mean
                    ));
                }
                if m.count == 0 {
                    if m.m2 != 0.0 {
                        return Err(format!(
                            "m2 is {}, but there are no finite values (moments.count 0), so it \
                             must be 0",
                            if m.m2.is_nan() {
                                "null".to_string()
                            } else {
                                format!("{:?}", m.m2)
                            }
                        ));
                    }
                } else {
                    // Only values whose spread overflows f64 make a null (non-finite) mean,
                    // and they overflow m2 too (both are then written as null).
                    if !m.mean.is_finite() && m.m2.is_finite() {
                        return Err(format!(
                            "mean is null with {} finite values (a null mean comes only with a \
                             null m2, when the values overflow both)",
                            m.count
                        ));
                    }
                    if !s.min.is_finite() || !s.max.is_finite() {
                        return Err(format!(
                            "min and max must be numbers with {} finite values, but {} null",
                            m.count,
                            if !s.min.is_finite() && !s.max.is_finite() {
                                "both are"
                            } else if !s.min.is_finite() {
                                "min is"
                            } else {
                                "max is"
                            }
                        ));
                    }
                    if s.min > s.max {
                        return Err(format!(
                            "min ({:?}) is larger than max ({:?})",
                            s.min, s.max
                        ));
                    }
                    // The mean of values lies between their bounds, up to its rounding (a
                    // relative 1e-12 of the bounds' size is thousands of roundings).
                    let slack = 1e-12 * s.min.abs().max(s.max.abs());
                    if m.mean.is_finite() && (m.mean < s.min - slack || m.mean > s.max + slack) {
                        return Err(format!(
                            "mean ({:?}) lies outside min ({:?}) and max ({:?})",
                            m.mean, s.min, s.max
                        ));
                    }
                }
                s.sketch.check()?;
                if s.sketch.count() != m.count {
                    return Err(format!(
                        "the sketch holds {} values, but moments.count is {}; both count the \
                         finite values",
                        s.sketch.count(),
                        m.count
                    ));
                }
            }
            ColumnSummary::Categorical(c) => {
                let labelled = c
                    .counts
                    .values()
                    .try_fold(0u64, |total, &n| total.checked_add(n));
                let sum = labelled.and_then(|l| add(&[l, c.other, self.missing]));
                if sum != Some(self.rows) {
                    return Err(format!(
                        "rows is {}, but its category counts ({}), pooled values (other {}) \
                         and missing values ({}) add up to {}",
                        self.rows,
                        shown(labelled),
                        c.other,
                        self.missing,
                        shown(sum)
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The profile of a dataset: one [`ColumnProfile`] per column, in file order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Always [`PROFILE_VERSION`].
    pub normshift_profile: u32,
    /// Data files summarized (merges list all of them).
    pub sources: Vec<String>,
    /// Rows summarized.
    pub rows: u64,
    /// The columns.
    #[serde(deserialize_with = "columns_noting_failures")]
    pub columns: Vec<ColumnProfile>,
}

/// Finite values per block of a column's moments. A [`ColumnBuilder`] computes the moments of
/// each run of `MOMENT_BLOCK` finite values and merges the blocks in order, so block
/// boundaries sit at fixed value counts: a column's moments are the same bits whatever batch
/// size the file was read with (and the column's thread). 512 values cost 4 KiB per column.
pub const MOMENT_BLOCK: usize = 512;

/// Builds a column's summary incrementally from batches.
#[derive(Clone, Debug)]
pub struct ColumnBuilder {
    profile: ColumnProfile,
    /// Every finite value, kept instead of sketched (exact comparisons).
    values: Option<Vec<f64>>,
    /// Finite values of the current, not yet full, moment block.
    block: Vec<f64>,
    /// The column's first finite value: the blocks' moments are taken around it and merged
    /// as such, so merging compares small means (two means near 1e12 differ by less than
    /// their rounding, which cost 1e-6 of the variance on `1e12 + N(0, 1)`).
    pivot: Option<f64>,
    /// Moments of `value − pivot` over the full blocks so far.
    around_pivot: Moments,
}

impl ColumnBuilder {
    /// A numeric column with sketch parameter `k`.
    pub fn numeric(name: impl Into<String>, k: u32) -> Self {
        Self::new(
            name,
            ColumnSummary::Numeric(NumericSummary {
                moments: Moments::default(),
                variance: f64::NAN,
                sample_variance: f64::NAN,
                non_finite: NonFinite::default(),
                min: f64::INFINITY,
                max: f64::NEG_INFINITY,
                sketch: QuantileSketch::new(k),
                sketch_rank_error: 0.0,
                deciles: Vec::new(),
            }),
        )
    }

    /// A numeric column that keeps every finite value instead of sketching them, for exact
    /// tests; [`finish_with_values`](Self::finish_with_values) returns them sorted.
    pub fn numeric_exact(name: impl Into<String>) -> Self {
        let mut builder = Self::numeric(name, DEFAULT_K);
        builder.values = Some(Vec::new());
        builder
    }

    /// A categorical column.
    pub fn categorical(name: impl Into<String>) -> Self {
        Self::new(
            name,
            ColumnSummary::Categorical(CategoricalSummary::default()),
        )
    }

    fn new(name: impl Into<String>, summary: ColumnSummary) -> Self {
        Self {
            profile: ColumnProfile {
                name: name.into(),
                rows: 0,
                missing: 0,
                summary,
            },
            values: None,
            block: Vec::new(),
            pivot: None,
            around_pivot: Moments::default(),
        }
    }

    /// Adds numeric values; `valid[i] == false` marks a missing value.
    pub fn add_numeric(&mut self, values: &[f64], valid: Option<&[bool]>) -> Result<()> {
        let ColumnSummary::Numeric(s) = &mut self.profile.summary else {
            return Err(Error::NotConfigured(
                "numbers added to a categorical column",
            ));
        };
        let mut finite = Vec::with_capacity(values.len());
        for (i, &v) in values.iter().enumerate() {
            if valid.is_some_and(|m| !m[i]) {
                self.profile.missing += 1;
            } else if v.is_finite() {
                finite.push(v);
            } else if v.is_nan() {
                s.non_finite.nan += 1;
            } else if v > 0.0 {
                s.non_finite.pos_inf += 1;
            } else {
                s.non_finite.neg_inf += 1;
            }
        }
        self.profile.rows += values.len() as u64;
        if self.pivot.is_none() {
            self.pivot = finite.first().copied();
        }
        let pivot = self.pivot.unwrap_or(0.0);
        let mut rest = finite.as_slice();
        while !rest.is_empty() {
            let take = (MOMENT_BLOCK - self.block.len()).min(rest.len());
            let (run, tail) = rest.split_at(take);
            rest = tail;
            if self.block.is_empty() && run.len() == MOMENT_BLOCK {
                self.around_pivot = self.around_pivot.merge(&Moments::around(run, pivot));
                continue;
            }
            self.block.extend_from_slice(run);
            if self.block.len() == MOMENT_BLOCK {
                self.around_pivot = self
                    .around_pivot
                    .merge(&Moments::around(&self.block, pivot));
                self.block.clear();
            }
        }
        for &v in &finite {
            s.min = s.min.min(v);
            s.max = s.max.max(v);
        }
        match &mut self.values {
            Some(kept) => kept.extend_from_slice(&finite),
            None => s.sketch.extend(&finite),
        }
        Ok(())
    }

    /// Adds category labels; `None` is missing.
    pub fn add_categorical<S: AsRef<str>>(&mut self, labels: &[Option<S>]) -> Result<()> {
        let ColumnSummary::Categorical(s) = &mut self.profile.summary else {
            return Err(Error::NotConfigured("categories added to a numeric column"));
        };
        self.profile.rows += labels.len() as u64;
        for label in labels {
            match label {
                Some(l) => s.add(l.as_ref(), 1),
                None => self.profile.missing += 1,
            }
        }
        Ok(())
    }

    /// The finished column profile.
    pub fn finish(self) -> ColumnProfile {
        self.finish_with_values().0
    }

    /// The finished profile and, for [`numeric_exact`](Self::numeric_exact) columns, every
    /// finite value sorted ascending.
    pub fn finish_with_values(mut self) -> (ColumnProfile, Option<Vec<f64>>) {
        if let ColumnSummary::Numeric(s) = &mut self.profile.summary {
            let pivot = self.pivot.unwrap_or(0.0);
            let relative = self
                .around_pivot
                .merge(&Moments::around(&self.block, pivot));
            // An empty column keeps mean 0 (`shifted` leaves count-0 moments alone).
            s.moments = relative.shifted(pivot);
            self.block = Vec::new();
        }
        let values = self.values.take().map(normshift_stats::sort_total_order);
        if values.is_none() {
            refresh(&mut self.profile);
        } else if let ColumnSummary::Numeric(s) = &mut self.profile.summary {
            // No sketch in exact mode: quantiles come from the values themselves.
            s.variance = s.moments.variance();
            s.sample_variance = s.moments.sample_variance();
        }
        (self.profile, values)
    }
}

/// Recomputes the derived fields (variances, deciles, error bound) after building or merging.
fn refresh(column: &mut ColumnProfile) {
    if let ColumnSummary::Numeric(s) = &mut column.summary {
        s.refresh();
    }
}

impl NumericSummary {
    /// Whether the column held no value at all, finite or not (every row missing).
    pub fn is_empty(&self) -> bool {
        self.moments.count == 0 && self.non_finite == NonFinite::default()
    }

    /// Recomputes the derived fields from the moments and the sketch.
    fn refresh(&mut self) {
        self.variance = self.moments.variance();
        self.sample_variance = self.moments.sample_variance();
        self.sketch_rank_error = self.sketch.rank_error();
        self.deciles = if self.moments.count == 0 {
            Vec::new()
        } else {
            (1..10)
                .map(|i| self.sketch.quantile(i as f64 / 10.0))
                .collect()
        };
    }
}

impl Profile {
    /// A profile from finished columns.
    pub fn new(sources: Vec<String>, rows: u64, columns: Vec<ColumnProfile>) -> Self {
        Self {
            normshift_profile: PROFILE_VERSION,
            sources,
            rows,
            columns,
        }
    }

    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&ColumnProfile> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Parses a profile from JSON, refusing other versions. A UTF-8 byte-order mark at the
    /// start is skipped. Errors say where: serde's line and column, and the column's name
    /// when the fault is inside one.
    pub fn from_json(text: &str) -> std::result::Result<Profile, String> {
        // Editors on Windows save UTF-8 with a byte-order mark; JSON readers may ignore it
        // (RFC 8259 §8.1), and the data readers already do.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        check_version(text)?;
        FAILED_COLUMN.with(|c| c.set(None));
        // Straight from the text, not through a `serde_json::Value`, so errors keep their
        // line and column (a 500-column profile needs them).
        let profile: Profile = serde_json::from_str(text).map_err(|e| malformed(text, &e))?;
        profile.check()?;
        Ok(profile)
    }

    /// Refuses what no data could give: a column name twice (readers look columns up by
    /// name and would silently take the first), a column of another row count than the
    /// profile's, and a column's own inconsistencies ([`ColumnProfile::check`]).
    fn check(&self) -> std::result::Result<(), String> {
        let mut seen = std::collections::HashMap::with_capacity(self.columns.len());
        for (i, column) in self.columns.iter().enumerate() {
            if column.rows != self.rows {
                return Err(format!(
                    "column '{}' has {} rows, but the profile has {}; every column of a table \
                     has its rows",
                    column.name, column.rows, self.rows
                ));
            }
            column
                .check()
                .map_err(|e| format!("column '{}': {e}", column.name))?;
            if let Some(first) = seen.insert(column.name.as_str(), i) {
                return Err(format!(
                    "column '{}' appears twice (columns {} and {} of the \"columns\" list, \
                     counting from 1); column names in a profile are unique",
                    column.name,
                    first + 1,
                    i + 1
                ));
            }
        }
        Ok(())
    }

    /// The profile as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("profiles serialize")
    }

    /// The profile of the concatenation of both datasets: columns matched by name and kind.
    /// Refused when the profiles' rows together exceed `u64::MAX`, or when a profile is one
    /// [`from_json`](Self::from_json) would refuse: a merged profile always reads back.
    pub fn merge(&self, other: &Profile) -> std::result::Result<Profile, String> {
        // Consistent inputs keep every count at most the rows, so once the rows' sum fits in
        // a u64 no count below overflows (they saturated, and the merged sketch's count then
        // no longer matched its items: a profile that could not be read back).
        for p in [self, other] {
            p.check()
                .map_err(|e| format!("a profile to merge is inconsistent: {e}"))?;
        }
        let rows = self.rows.checked_add(other.rows).ok_or_else(|| {
            format!(
                "the profiles hold {} and {} rows, more than 2^64 - 1 together, which a \
                 profile cannot count",
                self.rows, other.rows
            )
        })?;
        let names = |p: &Profile| p.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        if names(self) != names(other) {
            return Err(format!(
                "the profiles have different columns: {:?} vs {:?}",
                names(self),
                names(other)
            ));
        }
        let mut columns = Vec::with_capacity(self.columns.len());
        for (a, b) in self.columns.iter().zip(&other.columns) {
            let summary = match (&a.summary, &b.summary) {
                (ColumnSummary::Numeric(x), ColumnSummary::Numeric(y)) => {
                    if x.sketch.k() != y.sketch.k() {
                        return Err(format!(
                            "column '{}': sketches of different k ({} and {})",
                            a.name,
                            x.sketch.k(),
                            y.sketch.k()
                        ));
                    }
                    let mut sketch = x.sketch.clone();
                    sketch
                        .merge(&y.sketch)
                        .map_err(|e| format!("column '{}': {e}", a.name))?;
                    ColumnSummary::Numeric(NumericSummary {
                        moments: x.moments.merge(&y.moments),
                        non_finite: NonFinite {
                            nan: x.non_finite.nan.saturating_add(y.non_finite.nan),
                            pos_inf: x.non_finite.pos_inf.saturating_add(y.non_finite.pos_inf),
                            neg_inf: x.non_finite.neg_inf.saturating_add(y.non_finite.neg_inf),
                        },
                        min: x.min.min(y.min),
                        max: x.max.max(y.max),
                        sketch,
                        variance: f64::NAN,
                        sample_variance: f64::NAN,
                        sketch_rank_error: 0.0,
                        deciles: Vec::new(),
                    })
                }
                // A column without a single value in one shard (every row missing) is read
                // as numeric, having nothing to say otherwise: it takes the other shard's
                // kind, as it does in a fit of the concatenated data.
                (ColumnSummary::Numeric(x), ColumnSummary::Categorical(y)) if x.is_empty() => {
                    ColumnSummary::Categorical(y.clone())
                }
                (ColumnSummary::Categorical(x), ColumnSummary::Numeric(y)) if y.is_empty() => {
                    ColumnSummary::Categorical(x.clone())
                }
                (ColumnSummary::Categorical(x), ColumnSummary::Categorical(y)) => {
                    let mut merged = x.clone();
                    for (k, v) in &y.counts {
                        merged.add(k, *v);
                    }
                    merged.other = merged.other.saturating_add(y.other);
                    ColumnSummary::Categorical(merged)
                }
                _ => {
                    return Err(format!(
                        "column '{}' is numeric in one profile and categorical in the other",
                        a.name
                    ))
                }
            };
            let mut column = ColumnProfile {
                name: a.name.clone(),
                // Checked inputs: every column has the profile's rows.
                rows,
                missing: a.missing.saturating_add(b.missing),
                summary,
            };
            refresh(&mut column);
            columns.push(column);
        }
        let sources = self.sources.iter().chain(&other.sources).cloned().collect();
        let merged = Profile::new(sources, rows, columns);
        // What a reader would refuse is not returned (and so never written).
        merged
            .check()
            .map_err(|e| format!("the merged profile would be inconsistent: {e}"))?;
        Ok(merged)
    }
}

/// Checks the version field before the profile is parsed, so a file of another version (or
/// no profile at all) is named as such rather than by the first field it lacks.
fn check_version(text: &str) -> std::result::Result<(), String> {
    // The syntax first, whole: text that is not JSON is called that, wherever the fault is.
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .map_err(|e| format!("not valid JSON: {e}"))?;
    let probe: VersionProbe = serde_json::from_str(text).map_err(|e| {
        format!(
            "not a normshift profile (a profile is a JSON object with a \"normshift_profile\" \
             version field): {e}"
        )
    })?;
    let wanted = u64::from(PROFILE_VERSION);
    match probe.0 {
        None => Err("not a normshift profile (no \"normshift_profile\" version field)".into()),
        Some(v) if v.as_u64() == Some(wanted) => Ok(()),
        Some(serde_json::Value::Number(n)) if n.as_u64().is_some() => Err(format!(
            "profile version {n} is not supported (this normshift reads version {wanted})"
        )),
        Some(v) => {
            let what = match &v {
                serde_json::Value::Number(n) if n.is_f64() => " (a floating-point number)",
                serde_json::Value::Number(_) => " (a negative number)",
                serde_json::Value::String(_) => " (a string)",
                serde_json::Value::Bool(_) => " (a boolean)",
                serde_json::Value::Array(_) => " (an array)",
                serde_json::Value::Object(_) => " (an object)",
                serde_json::Value::Null => "",
            };
            Err(format!(
                "the \"normshift_profile\" version field is {v}{what}, but must be the integer \
                 {wanted}"
            ))
        }
    }
}

/// The `normshift_profile` field of a JSON object, if it has one (`Some(Null)` for `null`):
/// every other field is skipped unparsed.
struct VersionProbe(Option<serde_json::Value>);

impl<'de> Deserialize<'de> for VersionProbe {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = VersionProbe;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<VersionProbe, A::Error> {
                let mut version = None;
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    if key == "normshift_profile" {
                        version = Some(map.next_value::<serde_json::Value>()?);
                    } else {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                Ok(VersionProbe(version))
            }
        }
        // A map only: a struct would also take a JSON array, by position.
        d.deserialize_map(Visitor)
    }
}

thread_local! {
    /// The index of the column whose parsing failed, set by [`columns_noting_failures`]:
    /// serde's error keeps its line and column untouched, and [`malformed`] adds the
    /// column's name from this index.
    static FAILED_COLUMN: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// Deserializes `Profile::columns` as a plain `Vec`, noting in [`FAILED_COLUMN`] which
/// element failed.
fn columns_noting_failures<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Vec<ColumnProfile>, D::Error> {
    struct Visitor;
    impl<'de> serde::de::Visitor<'de> for Visitor {
        type Value = Vec<ColumnProfile>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an array of columns")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            let mut columns = Vec::new();
            loop {
                match seq.next_element::<ColumnProfile>() {
                    Ok(Some(c)) => columns.push(c),
                    Ok(None) => return Ok(columns),
                    Err(e) => {
                        FAILED_COLUMN.with(|c| c.set(Some(columns.len())));
                        return Err(e);
                    }
                }
            }
        }
    }
    d.deserialize_seq(Visitor)
}

/// The error for a profile that is JSON but not a valid profile: serde's message with its
/// line and column, and the column it is in, when it is in one.
fn malformed(text: &str, e: &serde_json::Error) -> String {
    let Some(index) = FAILED_COLUMN.with(|c| c.take()) else {
        return format!("malformed profile: {e}");
    };
    // Fails only for what a `Value` cannot hold either (a number beyond f64, such as 1e400):
    // the column is then named by its place.
    let name = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v["columns"][index]["name"].as_str().map(str::to_owned));
    match name {
        Some(name) => format!("malformed profile, column '{name}': {e}"),
        None => format!(
            "malformed profile, column {} of the \"columns\" list (counting from 1): {e}",
            index + 1
        ),
    }
}

/// The default sketch parameter for new profiles.
pub fn default_sketch_k() -> u32 {
    DEFAULT_K
}
