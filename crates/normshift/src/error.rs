use normshift_kernels::{KernelError, Layout};

/// Everything the `normshift` library can refuse. Errors never leave a layer half-updated:
/// when a call fails, the layer's state is exactly what it was before the call, with one
/// exception: a failed [`finish_recalibration`](crate::BatchNorm::finish_recalibration) still
/// ends the recalibration, and what it had collected is dropped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `num_features` is zero.
    #[error("num_features must be at least 1")]
    NoFeatures,
    /// `eps` is not finite or not positive.
    #[error("eps must be finite and greater than 0, got {0}")]
    InvalidEps(f64),
    /// `momentum` is not a finite number in `[0, 1]`.
    #[error(
        "momentum must be a finite number in [0, 1] (or None for a cumulative average), got {0}"
    )]
    InvalidMomentum(f64),
    /// The input's channel count differs from the layer's `num_features`.
    #[error("input shape {shape:?} ({layout:?}) has {actual} channels, but the layer has num_features = {expected}")]
    FeatureMismatch {
        /// The layer's `num_features`.
        expected: usize,
        /// Channels in the input.
        actual: usize,
        /// The input's shape.
        shape: Vec<usize>,
        /// The input's layout.
        layout: Layout,
    },
    /// The batch has no values.
    #[error("the batch is empty (shape {shape:?}): there is nothing to normalize")]
    EmptyBatch {
        /// The input's shape.
        shape: Vec<usize>,
    },
    /// Batch statistics were requested from a single value per channel.
    #[error(
        "expected more than 1 value per channel when normalizing with or updating from batch statistics, \
         got 1 (shape {shape:?}): the variance of one value is 0 and its unbiased estimate undefined; \
         use a larger batch, or evaluation mode with running statistics"
    )]
    SingleValuePerChannel {
        /// The input's shape.
        shape: Vec<usize>,
    },
    /// A channel's batch statistics are NaN or infinite (the batch holds NaN, inf, or values
    /// whose squares overflow).
    #[error("channel {channel}: batch statistics are not finite (mean {mean}, variance {var}); the layer's state was not changed")]
    NonFiniteStatistics {
        /// First offending channel.
        channel: usize,
        /// Its batch mean.
        mean: f64,
        /// Its biased batch variance.
        var: f64,
    },
    /// A per-channel parameter vector has the wrong length.
    #[error("{what} has {actual} values, but the layer has num_features = {expected}")]
    ParameterLength {
        /// Which parameter.
        what: &'static str,
        /// `num_features`.
        expected: usize,
        /// Values given.
        actual: usize,
    },
    /// A parameter value is out of its domain (a NaN gamma, a negative running variance…).
    #[error("{what}[{index}] = {value} is invalid: {reason}")]
    InvalidParameter {
        /// Which parameter.
        what: &'static str,
        /// Channel index.
        index: usize,
        /// The value given.
        value: f64,
        /// What it must be.
        reason: &'static str,
    },
    /// Running statistics were set on a layer built with `track_running_stats = false`,
    /// or affine parameters on one with `affine = false`.
    #[error("{0}")]
    NotConfigured(&'static str),
    /// A value given to a walkthrough or demo is not usable.
    #[error("the value at index {index} (counting from 0) is {value}: only finite numbers can be normalized")]
    NonFiniteValue {
        /// Position in the input (0-based).
        index: usize,
        /// The value.
        value: f64,
    },
    /// A column has no finite values to take statistics from.
    #[error("column '{column}' has no finite values: there are no statistics to normalize with")]
    NoStatistics {
        /// The column.
        column: String,
    },
    /// A column's statistics cannot normalize anything: a mean or variance that overflowed
    /// `f64` (values near its limit), or a negative variance.
    #[error("column '{column}' has mean {mean} and variance {variance}: normalizing needs a finite mean and a finite variance of at least 0 (values near f64's limit overflow them; rescale the column)")]
    UnusableStatistics {
        /// The column.
        column: String,
        /// Its mean.
        mean: f64,
        /// Its population variance.
        variance: f64,
    },
    /// No values were given.
    #[error("no values given: batch normalization needs at least one value")]
    NoValues,
    /// A shape or buffer problem found by the kernels.
    #[error(transparent)]
    Kernel(#[from] KernelError),
    /// Recalibration could not produce running statistics.
    #[error("cannot finish recalibration: {0}")]
    Recalibration(&'static str),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Checks the scalars of `y = (x − mean) / sqrt(var + eps) · gamma + beta`: eps finite and
/// positive, gamma and beta finite.
pub(crate) fn check_scalars(eps: f64, gamma: f64, beta: f64) -> Result<()> {
    if !(eps.is_finite() && eps > 0.0) {
        return Err(Error::InvalidEps(eps));
    }
    for (what, value) in [("gamma", gamma), ("beta", beta)] {
        if !value.is_finite() {
            return Err(Error::InvalidParameter {
                what,
                index: 0,
                value,
                reason: "must be finite",
            });
        }
    }
    Ok(())
}
