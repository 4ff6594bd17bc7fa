//! The [`BatchNorm`] layer: PyTorch's `BatchNorm{1,2,3}d` semantics, with explicit switches.

use crate::{Error, Result};
use normshift_kernels::{
    self as kernels, canonical_dims, inverse_std, Affine, Dims, Element, Execution, Layout,
    StatisticsSource,
};
use serde::{Deserialize, Serialize};

/// Which variance estimate goes into `running_var`. Normalizing a batch always uses the
/// biased (divide by `n`) batch variance; frameworks differ only in what they *store*.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum VarianceEstimator {
    /// `Σ(x − mean)² / (n − 1)`: PyTorch.
    #[default]
    Unbiased,
    /// `Σ(x − mean)² / n`: Keras, Flax, ONNX.
    Biased,
}

/// Configuration of a [`BatchNorm`] layer. Defaults follow PyTorch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchNormConfig {
    /// Number of channels (features) `C`.
    pub num_features: usize,
    /// Added to the variance before the square root. Default `1e-5`; must be finite and `> 0`.
    pub eps: f64,
    /// Weight of the *new* batch in the running average (PyTorch convention), default `0.1`:
    /// `running = (1 − momentum) · running + momentum · batch`. `None` gives a cumulative
    /// moving average (PyTorch's `momentum=None`): the weight is `1 / num_batches_tracked`.
    pub momentum: Option<f64>,
    /// Learn a scale `gamma` (initially 1) and shift `beta` (initially 0). Default `true`.
    pub affine: bool,
    /// Keep running statistics (initially mean 0, variance 1). Default `true`. Without them
    /// the layer always normalizes with batch statistics, as PyTorch does.
    pub track_running_stats: bool,
    /// Variance estimate stored in `running_var`. Default unbiased (PyTorch).
    pub running_var_estimator: VarianceEstimator,
}

impl BatchNormConfig {
    /// PyTorch's defaults for `num_features` channels.
    pub fn new(num_features: usize) -> Self {
        Self {
            num_features,
            eps: 1e-5,
            momentum: Some(0.1),
            affine: true,
            track_running_stats: true,
            running_var_estimator: VarianceEstimator::Unbiased,
        }
    }

    /// Sets `eps`.
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// Sets `momentum` (`None`: cumulative moving average).
    pub fn momentum(mut self, momentum: Option<f64>) -> Self {
        self.momentum = momentum;
        self
    }

    /// Sets `affine`.
    pub fn affine(mut self, affine: bool) -> Self {
        self.affine = affine;
        self
    }

    /// Sets `track_running_stats`.
    pub fn track_running_stats(mut self, track: bool) -> Self {
        self.track_running_stats = track;
        self
    }

    /// Sets the estimator stored in `running_var`.
    pub fn running_var_estimator(mut self, estimator: VarianceEstimator) -> Self {
        self.running_var_estimator = estimator;
        self
    }

    /// Checks every field; [`BatchNorm::new`] calls this.
    pub fn validate(&self) -> Result<()> {
        if self.num_features == 0 {
            return Err(Error::NoFeatures);
        }
        if !(self.eps.is_finite() && self.eps > 0.0) {
            return Err(Error::InvalidEps(self.eps));
        }
        if let Some(m) = self.momentum {
            if !(m.is_finite() && (0.0..=1.0).contains(&m)) {
                return Err(Error::InvalidMomentum(m));
            }
        }
        Ok(())
    }
}

/// What a forward pass does, as two independent switches (plus [`BatchNorm::freeze`]).
///
/// PyTorch ties both to one `training` flag; here they are separate because users need the
/// other combinations: batch statistics without touching the running ones (test-time
/// adaptation), or collecting running statistics while the output still uses the stored ones
/// (re-estimating statistics before deployment).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mode {
    /// Normalize with the batch's own mean and variance (otherwise the running ones).
    pub batch_statistics: bool,
    /// Fold the batch's statistics into the running statistics.
    pub update_running_stats: bool,
}

impl Mode {
    /// PyTorch's `train()`: batch statistics, running statistics updated.
    pub const TRAIN: Mode = Mode {
        batch_statistics: true,
        update_running_stats: true,
    };
    /// PyTorch's `eval()`: running statistics, nothing updated.
    pub const EVAL: Mode = Mode {
        batch_statistics: false,
        update_running_stats: false,
    };
}

/// Running statistics of a layer, named as PyTorch names them in a `state_dict`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunningStats {
    /// Running mean per channel.
    pub running_mean: Vec<f64>,
    /// Running variance per channel (estimator per [`BatchNormConfig::running_var_estimator`]).
    pub running_var: Vec<f64>,
    /// Number of batches folded in (drives `momentum = None`).
    pub num_batches_tracked: u64,
}

/// Statistics a forward pass normalized with, kept for [`BatchNorm::backward`].
#[derive(Clone, Debug, PartialEq)]
pub struct SavedStatistics {
    /// Mean per channel.
    pub mean: Vec<f64>,
    /// `1 / sqrt(var + eps)` per channel.
    pub invstd: Vec<f64>,
    /// Whether these were the batch's statistics or fixed (running) ones.
    pub source: StatisticsSource,
}

impl SavedStatistics {
    /// The same statistics as the kernels take them.
    pub fn kernel_view(&self) -> kernels::Saved<'_> {
        kernels::Saved {
            mean: &self.mean,
            invstd: &self.invstd,
            source: self.source,
        }
    }
}

/// Result of [`BatchNorm::forward`].
#[derive(Clone, Debug, PartialEq)]
pub struct Forward<T> {
    /// Normalized output, same shape and layout as the input.
    pub y: Vec<T>,
    /// What backward needs.
    pub saved: SavedStatistics,
}

/// Result of [`BatchNorm::backward`].
#[derive(Clone, Debug, PartialEq)]
pub struct Gradients<T> {
    /// Gradient with respect to the input.
    pub dx: Vec<T>,
    /// Gradient with respect to gamma (`None` without affine parameters).
    pub dgamma: Option<Vec<f64>>,
    /// Gradient with respect to beta (`None` without affine parameters).
    pub dbeta: Option<Vec<f64>>,
}

/// A batch-normalization layer over any layout and rank, for `f32`, `f64`, `f16` or `bf16`
/// data.
///
/// Parameters and statistics are held in `f64` whatever the data type; reductions
/// accumulate in `f64`.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchNorm {
    config: BatchNormConfig,
    gamma: Option<Vec<f64>>,
    beta: Option<Vec<f64>>,
    running: Option<RunningStats>,
    mode: Mode,
    frozen: bool,
    exec: Execution,
    recalibration: Option<Population>,
}

/// Count-weighted population moments of the batches seen during a recalibration, per channel,
/// merged with Chan's formulas (exact for the concatenation of the batches, up to rounding).
#[derive(Clone, Debug, PartialEq)]
struct Population {
    count: f64,
    batches: u64,
    mean: Vec<f64>,
    m2: Vec<f64>,
}

impl Population {
    fn new(channels: usize) -> Self {
        Self {
            count: 0.0,
            batches: 0,
            mean: vec![0.0; channels],
            m2: vec![0.0; channels],
        }
    }

    /// Adds a batch of `n` values per channel with these means and biased variances.
    fn add(&mut self, n: usize, mean: &[f64], var: &[f64]) {
        let (n, total) = (n as f64, self.count + n as f64);
        for c in 0..self.mean.len() {
            let delta = mean[c] - self.mean[c];
            self.mean[c] += delta * n / total;
            self.m2[c] += var[c] * n + delta * delta * self.count * n / total;
        }
        self.count = total;
        self.batches += 1;
    }
}

impl BatchNorm {
    /// A new layer in training mode: gamma 1, beta 0, running mean 0, running variance 1.
    pub fn new(config: BatchNormConfig) -> Result<Self> {
        config.validate()?;
        let c = config.num_features;
        Ok(Self {
            gamma: config.affine.then(|| vec![1.0; c]),
            beta: config.affine.then(|| vec![0.0; c]),
            running: config.track_running_stats.then(|| RunningStats {
                running_mean: vec![0.0; c],
                running_var: vec![1.0; c],
                num_batches_tracked: 0,
            }),
            config,
            mode: Mode::TRAIN,
            frozen: false,
            exec: Execution::default(),
            recalibration: None,
        })
    }

    /// Starts re-estimating the running statistics from data ("precise BN"; AdaBN when the
    /// data is the deployment set). Until [`BatchNorm::finish_recalibration`], every forward
    /// normalizes with its batch statistics, as in training, and adds them to count-weighted
    /// population statistics instead of updating the running ones; gamma and beta are never
    /// touched. Works on a frozen layer too: recalibrating is an explicit request.
    pub fn begin_recalibration(&mut self) {
        self.recalibration = Some(Population::new(self.config.num_features));
    }

    /// Ends a recalibration without changing the running statistics.
    pub fn abandon_recalibration(&mut self) {
        self.recalibration = None;
    }

    /// Whether a recalibration is under way.
    pub fn is_recalibrating(&self) -> bool {
        self.recalibration.is_some()
    }

    /// Ends a recalibration: the running mean becomes the population mean of every value seen
    /// since [`BatchNorm::begin_recalibration`], the running variance their variance (with the
    /// layer's estimator: unbiased, divide by `N − 1`, as PyTorch stores it, or biased), and
    /// `num_batches_tracked` the number of batches seen. Fails, leaving the running statistics
    /// as they were, without a recalibration under way, without running statistics, with
    /// fewer than two values per channel seen, or when the statistics overflow; the
    /// recalibration is over either way.
    pub fn finish_recalibration(&mut self) -> Result<()> {
        let stats = self.recalibrated_stats();
        self.recalibration = None;
        let stats = stats?;
        if let Some(running) = self.running.as_mut() {
            *running = stats;
        }
        Ok(())
    }

    /// The running statistics [`BatchNorm::finish_recalibration`] would set now, without
    /// setting them or ending the recalibration (with its errors), so that several layers can
    /// be checked before any of them changes.
    pub fn recalibrated_stats(&self) -> Result<RunningStats> {
        let Some(population) = self.recalibration.as_ref() else {
            return Err(Error::Recalibration("no recalibration was begun"));
        };
        if self.running.is_none() {
            return Err(Error::Recalibration(
                "the layer does not track running statistics",
            ));
        }
        if population.count < 2.0 {
            return Err(Error::Recalibration(
                "fewer than two values per channel were seen",
            ));
        }
        let divisor = match self.config.running_var_estimator {
            VarianceEstimator::Unbiased => population.count - 1.0,
            VarianceEstimator::Biased => population.count,
        };
        let stats = RunningStats {
            running_mean: population.mean.clone(),
            running_var: population.m2.iter().map(|m2| m2 / divisor).collect(),
            num_batches_tracked: population.batches,
        };
        // What set_running_stats would refuse, refused here (values near the f64 limit can
        // overflow the pooled moments), so that a layer whose check passed always takes them.
        let usable = stats.running_mean.iter().all(|m| m.is_finite())
            && stats.running_var.iter().all(|v| v.is_finite() && *v >= 0.0);
        if !usable {
            return Err(Error::Recalibration(
                "the population statistics overflowed (values too large for f64)",
            ));
        }
        Ok(stats)
    }

    /// How the layer's kernels run: threads and instruction set. Results are identical for
    /// every setting; only the speed changes. Default: [`Execution::default`] (the current
    /// rayon pool above a size threshold, the best SIMD this CPU has).
    pub fn set_execution(&mut self, exec: Execution) {
        self.exec = exec;
    }

    /// The layer's [`Execution`].
    pub fn execution(&self) -> Execution {
        self.exec
    }

    /// The configuration.
    pub fn config(&self) -> &BatchNormConfig {
        &self.config
    }

    /// Training mode ([`Mode::TRAIN`]). Does not unfreeze.
    pub fn train(&mut self) {
        self.mode = Mode::TRAIN;
    }

    /// Evaluation mode ([`Mode::EVAL`]).
    pub fn eval(&mut self) {
        self.mode = Mode::EVAL;
    }

    /// Sets both switches.
    pub fn set_mode(&mut self, mode: Mode) {
        self.mode = mode;
    }

    /// The current switches.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Freezes the running statistics: no forward pass changes them (or
    /// `num_batches_tracked`), whatever the mode, until [`unfreeze`](Self::unfreeze).
    /// Unlike setting `update_running_stats = false`, this survives [`train`](Self::train),
    /// which is what fine-tuning with frozen statistics needs.
    pub fn freeze(&mut self) {
        self.frozen = true;
    }

    /// Lifts [`freeze`](Self::freeze).
    pub fn unfreeze(&mut self) {
        self.frozen = false;
    }

    /// Whether the running statistics are frozen.
    pub fn is_frozen(&self) -> bool {
        self.frozen
    }

    /// Scale per channel (`None` without affine parameters).
    pub fn gamma(&self) -> Option<&[f64]> {
        self.gamma.as_deref()
    }

    /// Shift per channel (`None` without affine parameters).
    pub fn beta(&self) -> Option<&[f64]> {
        self.beta.as_deref()
    }

    /// Replaces gamma and beta. Both must have `num_features` finite values.
    pub fn set_affine(&mut self, gamma: Vec<f64>, beta: Vec<f64>) -> Result<()> {
        if !self.config.affine {
            return Err(Error::NotConfigured(
                "the layer was built with affine = false: it has no gamma or beta",
            ));
        }
        self.check_values("gamma", &gamma, |v| v.is_finite(), "must be finite")?;
        self.check_values("beta", &beta, |v| v.is_finite(), "must be finite")?;
        self.gamma = Some(gamma);
        self.beta = Some(beta);
        Ok(())
    }

    /// Running statistics (`None` with `track_running_stats = false`).
    pub fn running_stats(&self) -> Option<&RunningStats> {
        self.running.as_ref()
    }

    /// Replaces the running statistics (for example loaded from a checkpoint). Means must be
    /// finite, variances finite and non-negative.
    pub fn set_running_stats(&mut self, stats: RunningStats) -> Result<()> {
        if !self.config.track_running_stats {
            return Err(Error::NotConfigured(
                "the layer was built with track_running_stats = false: it has no running statistics",
            ));
        }
        self.check_values(
            "running_mean",
            &stats.running_mean,
            |v| v.is_finite(),
            "must be finite",
        )?;
        self.check_values(
            "running_var",
            &stats.running_var,
            |v| v.is_finite() && v >= 0.0,
            "must be finite and >= 0",
        )?;
        self.running = Some(stats);
        Ok(())
    }

    fn check_values(
        &self,
        what: &'static str,
        values: &[f64],
        ok: impl Fn(f64) -> bool,
        reason: &'static str,
    ) -> Result<()> {
        if values.len() != self.config.num_features {
            return Err(Error::ParameterLength {
                what,
                expected: self.config.num_features,
                actual: values.len(),
            });
        }
        match values.iter().position(|&v| !ok(v)) {
            Some(index) => Err(Error::InvalidParameter {
                what,
                index,
                value: values[index],
                reason,
            }),
            None => Ok(()),
        }
    }

    fn dims(&self, len: usize, shape: &[usize], layout: Layout) -> Result<Dims> {
        let dims = canonical_dims(shape, layout)?;
        if dims.channels != self.config.num_features {
            return Err(Error::FeatureMismatch {
                expected: self.config.num_features,
                actual: dims.channels,
                shape: shape.to_vec(),
                layout,
            });
        }
        if len != dims.len() {
            return Err(kernels::KernelError::Length {
                buffer: "x",
                expected: dims.len(),
                actual: len,
            }
            .into());
        }
        if dims.is_empty() {
            return Err(Error::EmptyBatch {
                shape: shape.to_vec(),
            });
        }
        Ok(dims)
    }

    fn affine(&self) -> Option<Affine<'_>> {
        match (&self.gamma, &self.beta) {
            (Some(gamma), Some(beta)) => Some(Affine { gamma, beta }),
            _ => None,
        }
    }

    /// Forward pass; allocates the output. See [`forward_into`](Self::forward_into).
    pub fn forward<T: Element>(
        &mut self,
        x: &[T],
        shape: &[usize],
        layout: Layout,
    ) -> Result<Forward<T>> {
        let (y, saved) = self.forward_to(x, shape, layout, None)?;
        // Without a caller's buffer, forward_to returns the new one.
        let y = y.expect("forward_to allocates y when given no buffer");
        Ok(Forward { y, saved })
    }

    /// Forward pass writing into `y` (same length as `x`).
    ///
    /// - Normalizes with batch statistics when the mode says so **or** the layer has no
    ///   running statistics (PyTorch does the same).
    /// - Updates running statistics when the mode says so, the layer tracks them, and it is
    ///   not frozen: `running = (1 − m) · running + m · batch`, `m = momentum` or
    ///   `1 / num_batches_tracked`, with the configured variance estimator.
    ///
    /// Errors (state unchanged; `y` may be partly written): shape or length mismatch, empty
    /// batch, a single value per channel when batch statistics are used or collected, and
    /// non-finite batch statistics (reported with the channel).
    pub fn forward_into<T: Element>(
        &mut self,
        x: &[T],
        shape: &[usize],
        layout: Layout,
        y: &mut [T],
    ) -> Result<SavedStatistics> {
        self.forward_to(x, shape, layout, Some(y))
            .map(|(_, saved)| saved)
    }

    /// The forward pass, writing into `y` when given, otherwise into a new vector (not
    /// zero-filled first: the kernels write every element), which it returns.
    fn forward_to<T: Element>(
        &mut self,
        x: &[T],
        shape: &[usize],
        layout: Layout,
        y: Option<&mut [T]>,
    ) -> Result<(Option<Vec<T>>, SavedStatistics)> {
        let dims = self.dims(x.len(), shape, layout)?;
        let c = dims.channels;
        let eps = self.config.eps;
        let recalibrating = self.recalibration.is_some();
        let use_batch = self.mode.batch_statistics || self.running.is_none() || recalibrating;
        let update = self.mode.update_running_stats
            && !self.frozen
            && self.running.is_some()
            && !recalibrating;
        let n = dims.per_channel();
        // PyTorch refuses one value per channel whenever it normalizes with batch statistics
        // (training mode, and evaluation mode without running statistics); updating running
        // statistics from one value is refused too (its unbiased variance is undefined).
        if n == 1 && (use_batch || update) {
            return Err(Error::SingleValuePerChannel {
                shape: shape.to_vec(),
            });
        }

        let (batch, saved, y) = match &self.running {
            Some(running) if !use_batch => {
                let (mean, var) = (&running.running_mean, &running.running_var);
                let affine = self.affine();
                let y = match y {
                    Some(y) => {
                        kernels::forward_eval_with(&self.exec, x, dims, mean, var, affine, eps, y)?;
                        None
                    }
                    None => Some(kernels::forward_eval_vec_with(
                        &self.exec, x, dims, mean, var, affine, eps,
                    )?),
                };
                let saved = SavedStatistics {
                    mean: running.running_mean.clone(),
                    invstd: running
                        .running_var
                        .iter()
                        .map(|&v| inverse_std(v, eps))
                        .collect(),
                    source: StatisticsSource::Fixed,
                };
                // Collecting statistics while normalizing with the stored ones.
                let batch = if update {
                    Some(self.batch_moments(x, dims)?)
                } else {
                    None
                };
                (batch, saved, y)
            }
            _ => {
                let (mut mean, mut var) = (vec![0.0; c], vec![0.0; c]);
                let affine = self.affine();
                let (m, v) = (&mut mean, &mut var);
                let y = match y {
                    Some(y) => {
                        kernels::forward_train_with(&self.exec, x, dims, affine, eps, y, m, v)?;
                        None
                    }
                    None => Some(kernels::forward_train_vec_with(
                        &self.exec, x, dims, affine, eps, m, v,
                    )?),
                };
                check_finite(&mean, &var)?;
                let saved = SavedStatistics {
                    mean: mean.clone(),
                    invstd: var.iter().map(|&v| inverse_std(v, eps)).collect(),
                    source: StatisticsSource::Batch,
                };
                if let Some(population) = self.recalibration.as_mut() {
                    population.add(n, &mean, &var);
                }
                (Some((mean, var)), saved, y)
            }
        };

        if let (true, Some((mean, var)), Some(running)) = (update, batch, self.running.as_mut()) {
            // Saturating: a count set to u64::MAX must not wrap to 0 (1/0 momentum).
            running.num_batches_tracked = running.num_batches_tracked.saturating_add(1);
            let m = self
                .config
                .momentum
                .unwrap_or(1.0 / running.num_batches_tracked as f64);
            let correction = match self.config.running_var_estimator {
                VarianceEstimator::Unbiased => n as f64 / (n as f64 - 1.0),
                VarianceEstimator::Biased => 1.0,
            };
            for k in 0..c {
                running.running_mean[k] = (1.0 - m) * running.running_mean[k] + m * mean[k];
                running.running_var[k] =
                    (1.0 - m) * running.running_var[k] + m * var[k] * correction;
            }
        }
        Ok((y, saved))
    }

    fn batch_moments<T: Element>(&self, x: &[T], dims: Dims) -> Result<(Vec<f64>, Vec<f64>)> {
        let (mut mean, mut var) = (vec![0.0; dims.channels], vec![0.0; dims.channels]);
        kernels::moments_with(&self.exec, x, dims, &mut mean, &mut var)?;
        check_finite(&mean, &var)?;
        Ok((mean, var))
    }

    /// Backward pass for a forward that returned `saved`: gradients for the input and, with
    /// affine parameters, for gamma and beta. Uses the layer's current gamma. Allocates `dx`;
    /// [`BatchNorm::backward_into`] writes it into a buffer of yours.
    pub fn backward<T: Element>(
        &self,
        x: &[T],
        dy: &[T],
        shape: &[usize],
        layout: Layout,
        saved: &SavedStatistics,
    ) -> Result<Gradients<T>> {
        let (dx, dgamma, dbeta) = self.backward_to(x, dy, shape, layout, saved, None)?;
        // Without a caller's buffer, backward_to returns the new one.
        let dx = dx.expect("backward_to allocates dx when given no buffer");
        Ok(Gradients { dx, dgamma, dbeta })
    }

    /// [`BatchNorm::backward`] writing the input gradient into `dx` (same length as `x`);
    /// returns the gradients for gamma and beta (`None` without affine parameters).
    #[allow(clippy::type_complexity)]
    pub fn backward_into<T: Element>(
        &self,
        x: &[T],
        dy: &[T],
        shape: &[usize],
        layout: Layout,
        saved: &SavedStatistics,
        dx: &mut [T],
    ) -> Result<(Option<Vec<f64>>, Option<Vec<f64>>)> {
        self.backward_to(x, dy, shape, layout, saved, Some(dx))
            .map(|(_, dgamma, dbeta)| (dgamma, dbeta))
    }

    /// The backward pass, writing `dx` into the caller's buffer when given, otherwise into a
    /// new vector (not zero-filled first: the kernel writes every element), which it returns
    /// with the gradients for gamma and beta.
    #[allow(clippy::type_complexity)]
    fn backward_to<T: Element>(
        &self,
        x: &[T],
        dy: &[T],
        shape: &[usize],
        layout: Layout,
        saved: &SavedStatistics,
        dx: Option<&mut [T]>,
    ) -> Result<(Option<Vec<T>>, Option<Vec<f64>>, Option<Vec<f64>>)> {
        let dims = self.dims(x.len(), shape, layout)?;
        let c = dims.channels;
        let (mut dgamma, mut dbeta) = (vec![0.0; c], vec![0.0; c]);
        let (exec, stats, gamma) = (&self.exec, saved.kernel_view(), self.gamma.as_deref());
        let dx = match dx {
            Some(dx) => {
                let grads = kernels::Gradients {
                    dx,
                    dgamma: &mut dgamma,
                    dbeta: &mut dbeta,
                };
                kernels::backward_with(exec, x, dy, dims, stats, gamma, grads)?;
                None
            }
            None => Some(kernels::backward_vec_with(
                exec,
                x,
                dy,
                dims,
                stats,
                gamma,
                &mut dgamma,
                &mut dbeta,
            )?),
        };
        let affine = self.config.affine;
        Ok((dx, affine.then_some(dgamma), affine.then_some(dbeta)))
    }
}

/// The first channel whose batch statistics are NaN or infinite, as an error.
fn check_finite(mean: &[f64], var: &[f64]) -> Result<()> {
    match (0..mean.len()).find(|&k| !(mean[k].is_finite() && var[k].is_finite())) {
        Some(channel) => Err(Error::NonFiniteStatistics {
            channel,
            mean: mean[channel],
            var: var[channel],
        }),
        None => Ok(()),
    }
}
