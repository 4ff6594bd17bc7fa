//! Normalizing columns with fixed statistics: batch normalization in inference mode, per
//! column of a table.

use crate::profile::{ColumnSummary, Profile};
use crate::{Error, Result};
use normshift_kernels::{self as kernels, Affine, Dims};
use serde::Serialize;

/// The statistics one column is normalized with.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ColumnStatistics {
    /// Column name.
    pub name: String,
    /// Mean subtracted.
    pub mean: f64,
    /// Population variance (`m2 / n`) divided by, after adding eps.
    pub variance: f64,
}

/// `y = (x − mean) / sqrt(variance + eps) · gamma + beta` for chosen columns.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Standardizer {
    /// Per-column statistics.
    pub columns: Vec<ColumnStatistics>,
    /// Epsilon (> 0).
    pub eps: f64,
    /// Scale.
    pub gamma: f64,
    /// Shift.
    pub beta: f64,
}

impl Standardizer {
    /// Statistics of every numeric column of `profile` named in `columns` (all numeric columns
    /// when `columns` is `None`). Refuses columns without finite values, and statistics that
    /// cannot normalize (a mean or variance that is not finite, a negative variance).
    pub fn from_profile(
        profile: &Profile,
        columns: Option<&[String]>,
        eps: f64,
        gamma: f64,
        beta: f64,
    ) -> Result<Self> {
        crate::error::check_scalars(eps, gamma, beta)?;
        let mut out = Vec::new();
        for column in &profile.columns {
            if columns.is_some_and(|names| !names.contains(&column.name)) {
                continue;
            }
            if let ColumnSummary::Numeric(s) = &column.summary {
                if s.moments.count == 0 {
                    return Err(Error::NoStatistics {
                        column: column.name.clone(),
                    });
                }
                let (mean, variance) = (s.moments.mean, s.moments.variance());
                if !(mean.is_finite() && variance.is_finite() && variance >= 0.0) {
                    return Err(Error::UnusableStatistics {
                        column: column.name.clone(),
                        mean,
                        variance,
                    });
                }
                out.push(ColumnStatistics {
                    name: column.name.clone(),
                    mean,
                    variance,
                });
            }
        }
        Ok(Self {
            columns: out,
            eps,
            gamma,
            beta,
        })
    }

    /// The statistics for `name`, if it is normalized.
    pub fn column(&self, name: &str) -> Option<&ColumnStatistics> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Normalizes `values` of column `stats` in place (NaN stays NaN).
    pub fn apply(&self, stats: &ColumnStatistics, values: &mut [f64]) -> Result<()> {
        let input = values.to_vec();
        let affine = Affine {
            gamma: &[self.gamma],
            beta: &[self.beta],
        };
        kernels::forward_eval(
            &input,
            Dims::new(values.len(), 1, 1),
            &[stats.mean],
            &[stats.variance],
            Some(affine),
            self.eps,
            values,
        )?;
        Ok(())
    }
}
