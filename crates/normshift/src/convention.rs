//! Converting batch-normalization settings between frameworks.
//!
//! Every framework normalizes the same way at inference, `(x − mean) / sqrt(var + eps) · γ + β`,
//! so stored statistics and parameters move between them unchanged. What differs is how the
//! running statistics are *updated* in training:
//!
//! | framework | momentum means | default | running variance | default eps |
//! |---|---|---|---|---|
//! | PyTorch | weight of the new batch | 0.1 | unbiased | 1e-5 |
//! | Keras | weight of the old value | 0.99 | biased | 1e-3 |
//! | Flax | weight of the old value | 0.99 | biased | 1e-5 |
//! | ONNX (training mode) | weight of the old value | 0.9 | biased | 1e-5 |
//!
//! [`to_framework`] and [`from_framework`] translate; the result says whether the translation
//! is exact (it is not when the variance estimators differ, or for PyTorch's
//! `momentum = None`, which no other framework has).

use crate::{BatchNormConfig, Error, Result, VarianceEstimator};
use serde::{Deserialize, Serialize};

/// A framework whose batch-normalization convention normshift can translate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Framework {
    /// `torch.nn.BatchNorm{1,2,3}d`: the convention normshift uses internally.
    PyTorch,
    /// `keras.layers.BatchNormalization`.
    Keras,
    /// `flax.linen.BatchNorm`.
    Flax,
    /// ONNX `BatchNormalization` (opset 15) with `training_mode = 1`.
    Onnx,
}

/// Batch-normalization settings in one framework's own terms.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrameworkSettings {
    /// The framework.
    pub framework: Framework,
    /// Momentum in that framework's meaning (`None` only for PyTorch's cumulative average).
    pub momentum: Option<f64>,
    /// Epsilon.
    pub eps: f64,
    /// What that framework stores as running variance.
    pub running_var: VarianceEstimator,
}

impl Framework {
    /// The framework's default settings.
    pub fn defaults(self) -> FrameworkSettings {
        let (momentum, eps, running_var) = match self {
            Framework::PyTorch => (0.1, 1e-5, VarianceEstimator::Unbiased),
            Framework::Keras => (0.99, 1e-3, VarianceEstimator::Biased),
            Framework::Flax => (0.99, 1e-5, VarianceEstimator::Biased),
            Framework::Onnx => (0.9, 1e-5, VarianceEstimator::Biased),
        };
        FrameworkSettings {
            framework: self,
            momentum: Some(momentum),
            eps,
            running_var,
        }
    }

    /// True when the framework's momentum weighs the old running value (all but PyTorch).
    pub fn momentum_weighs_old_value(self) -> bool {
        self != Framework::PyTorch
    }
}

/// A translation, with whether it reproduces the other framework's training updates exactly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Translation<T> {
    /// The translated settings.
    pub value: T,
    /// Whether training with the translated settings updates running statistics exactly as
    /// the original does.
    pub exact: bool,
    /// Why not, when it is not.
    pub caveats: Vec<String>,
}

/// Translates a normshift configuration into `framework`'s settings.
///
/// Not exact when the framework stores a different variance estimate than the
/// configuration does (the two differ by the factor `n / (n − 1)` per update). Fails for
/// `momentum = None` outside PyTorch.
pub fn to_framework(
    config: &BatchNormConfig,
    framework: Framework,
) -> Result<Translation<FrameworkSettings>> {
    let native = framework.defaults();
    let momentum = match (config.momentum, framework.momentum_weighs_old_value()) {
        (None, false) => None,
        (None, true) => {
            return Err(Error::NotConfigured(
                "momentum = None (cumulative average) has no equivalent outside PyTorch",
            ))
        }
        (Some(m), flip) => Some(if flip { 1.0 - m } else { m }),
    };
    let mut caveats = Vec::new();
    if native.running_var != config.running_var_estimator {
        caveats.push(format!(
            "{framework:?} stores the {:?} running variance, this layer the {:?} one: updates differ by n/(n-1)",
            native.running_var, config.running_var_estimator
        ));
    }
    Ok(Translation {
        value: FrameworkSettings {
            framework,
            momentum,
            eps: config.eps,
            running_var: native.running_var,
        },
        exact: caveats.is_empty(),
        caveats,
    })
}

/// Builds a normshift configuration that trains exactly as `settings` does in its framework
/// (same eps, momentum translated, same stored variance estimator).
pub fn from_framework(
    num_features: usize,
    settings: &FrameworkSettings,
) -> Result<BatchNormConfig> {
    let momentum = match (
        settings.momentum,
        settings.framework.momentum_weighs_old_value(),
    ) {
        (Some(m), true) => Some(1.0 - m),
        (Some(m), false) => Some(m),
        (None, false) => None,
        // As in `to_framework`: only PyTorch has a cumulative average.
        (None, true) => {
            return Err(Error::NotConfigured(
                "momentum = None (cumulative average) has no equivalent outside PyTorch",
            ))
        }
    };
    let config = BatchNormConfig::new(num_features)
        .eps(settings.eps)
        .momentum(momentum)
        .running_var_estimator(settings.running_var);
    config.validate()?;
    Ok(config)
}
