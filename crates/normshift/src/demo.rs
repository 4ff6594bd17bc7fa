//! The seed document's examples, computed: what `normshift demo` shows.

use crate::data::{HOUSE_SIZES_DEPLOY, HOUSE_SIZES_TRAIN, SEED_BATCH};
use crate::{walkthrough, Result, Walkthrough};
use normshift_kernels::{self as kernels, Dims};
use serde::Serialize;

/// The seed's batch example and its house-size covariate shift, with what batch
/// normalization makes of each set.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SeedDemo {
    /// `[1, 2, 3, 4, 5]` normalized step by step.
    pub batch: Walkthrough,
    /// Training house sizes, normalized with their own statistics.
    pub train: Walkthrough,
    /// Deployment house sizes, normalized with their own statistics (the seed's mitigation).
    pub deploy: Walkthrough,
    /// `deploy.mean − train.mean`.
    pub mean_shift: f64,
    /// The mean shift in training standard deviations (standardized mean difference).
    pub mean_shift_in_train_sd: f64,
    /// `deploy.variance / train.variance`.
    pub variance_ratio: f64,
    /// Deployment sizes normalized with the *training* statistics (evaluation mode).
    pub deploy_with_train_statistics: Vec<f64>,
}

/// Computes the seed demo with `eps`.
pub fn seed_demo(eps: f64) -> Result<SeedDemo> {
    let batch = walkthrough(&SEED_BATCH, 1.0, 0.0, eps)?;
    let train = walkthrough(&HOUSE_SIZES_TRAIN, 1.0, 0.0, eps)?;
    let deploy = walkthrough(&HOUSE_SIZES_DEPLOY, 1.0, 0.0, eps)?;
    let mut deploy_with_train_statistics = vec![0.0; HOUSE_SIZES_DEPLOY.len()];
    kernels::forward_eval(
        &HOUSE_SIZES_DEPLOY,
        Dims::new(HOUSE_SIZES_DEPLOY.len(), 1, 1),
        &[train.mean],
        &[train.variance],
        None,
        eps,
        &mut deploy_with_train_statistics,
    )?;
    Ok(SeedDemo {
        mean_shift: deploy.mean - train.mean,
        mean_shift_in_train_sd: (deploy.mean - train.mean) / train.variance.sqrt(),
        variance_ratio: deploy.variance / train.variance,
        deploy_with_train_statistics,
        batch,
        train,
        deploy,
    })
}

/// The seed's house sizes as a drift check: training sizes against deployment sizes, exact.
pub fn house_drift(options: &crate::drift::DriftOptions) -> Result<crate::drift::DriftReport> {
    use crate::drift::{compare, ColumnData, Side};
    use crate::profile::ColumnBuilder;
    let side = |name: &str, values: &[f64]| -> Result<Side> {
        let mut b = ColumnBuilder::numeric_exact("size");
        b.add_numeric(values, None)?;
        let (profile, sorted) = b.finish_with_values();
        Ok(Side {
            source: name.to_string(),
            rows: values.len() as u64,
            columns: vec![ColumnData { profile, sorted }],
        })
    };
    Ok(compare(
        &side("seed: training sizes", &HOUSE_SIZES_TRAIN)?,
        &side("seed: deployment sizes", &HOUSE_SIZES_DEPLOY)?,
        options,
    ))
}
