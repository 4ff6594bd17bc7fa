//! The seed's four steps of batch normalization on a list of numbers, every intermediate kept.

use crate::{Error, Result};
use normshift_kernels::{self as kernels, Affine, Dims};
use serde::Serialize;

/// Every intermediate of normalizing one batch of scalars.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Walkthrough {
    /// The input values.
    pub values: Vec<f64>,
    /// Epsilon added to the variance.
    pub eps: f64,
    /// Scale.
    pub gamma: f64,
    /// Shift.
    pub beta: f64,
    /// Step 1: the mean.
    pub mean: f64,
    /// Step 2: the biased variance (divide by n).
    pub variance: f64,
    /// `sqrt(variance + eps)`, the divisor of step 3: the standard deviation with eps added
    /// (`sqrt(variance)` is the standard deviation itself). Written as `std_with_eps` in JSON,
    /// so that the key says what the number is.
    #[serde(rename = "std_with_eps")]
    pub std: f64,
    /// Step 3: `(x − mean) / sqrt(variance + eps)`.
    pub normalized: Vec<f64>,
    /// Step 4: `gamma · normalized + beta`.
    pub output: Vec<f64>,
}

/// Normalizes `values` as one batch of one feature, keeping every step.
///
/// A single value is allowed here (its normalized value is 0); the layer refuses it in
/// training because a batch of one carries no information about spread.
pub fn walkthrough(values: &[f64], gamma: f64, beta: f64, eps: f64) -> Result<Walkthrough> {
    if values.is_empty() {
        return Err(Error::NoValues);
    }
    if let Some(index) = values.iter().position(|v| !v.is_finite()) {
        return Err(Error::NonFiniteValue {
            index,
            value: values[index],
        });
    }
    crate::error::check_scalars(eps, gamma, beta)?;
    let dims = Dims::new(values.len(), 1, 1);
    let (mut mean, mut variance) = ([0.0], [0.0]);
    let mut normalized = vec![0.0; values.len()];
    kernels::forward_train(
        values,
        dims,
        None,
        eps,
        &mut normalized,
        &mut mean,
        &mut variance,
    )?;
    if !(mean[0].is_finite() && variance[0].is_finite()) {
        return Err(Error::NonFiniteStatistics {
            channel: 0,
            mean: mean[0],
            var: variance[0],
        });
    }
    let mut output = vec![0.0; values.len()];
    let affine = Affine {
        gamma: &[gamma],
        beta: &[beta],
    };
    kernels::forward_eval(
        values,
        dims,
        &mean,
        &variance,
        Some(affine),
        eps,
        &mut output,
    )?;
    Ok(Walkthrough {
        values: values.to_vec(),
        eps,
        gamma,
        beta,
        mean: mean[0],
        variance: variance[0],
        std: (variance[0] + eps).sqrt(),
        normalized,
        output,
    })
}
