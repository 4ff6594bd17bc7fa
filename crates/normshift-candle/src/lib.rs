//! normshift's batch normalization as a [candle](https://github.com/huggingface/candle) module.
//!
//! [`BatchNorm`] implements [`candle_nn::ModuleT`]. Its forward and backward run as one
//! candle custom op over `(x, weight, bias)` whose CPU forward is normshift's layer (the same
//! kernels, PyTorch running-statistics semantics, refusal of bad batches) and whose backward
//! is normshift's backward kernel, returning the gradients for the input, gamma and beta.
//! candle's own fused norms have silently dropped gradients before (candle issues #2168,
//! #3011); this op records its backward, and the tests check every gradient against a
//! composite of candle tensor ops and against finite differences.
//!
//! ```
//! use candle_core::{DType, Device, Tensor, Var};
//! use candle_nn::ModuleT;
//! use normshift::BatchNormConfig;
//! use normshift_candle::BatchNorm;
//!
//! let dev = Device::Cpu;
//! let bn = BatchNorm::new(BatchNormConfig::new(1), DType::F64, &dev)?;
//! let x = Var::new(&[[1.0f64], [2.0], [3.0], [4.0], [5.0]], &dev)?; // (N = 5, C = 1)
//! let y = bn.forward_t(x.as_tensor(), true)?; // batch statistics; running ones updated
//! assert!((y.flatten_all()?.to_vec1::<f64>()?[0] + 1.414).abs() < 1e-3); // the seed's -1.414
//! let grads = y.sqr()?.sum_all()?.backward()?; // gradients flow to x, gamma and beta
//! assert!(grads.get(bn.weight().unwrap().as_tensor()).is_some());
//! let y_eval = bn.forward_t(x.as_tensor(), false)?; // running statistics
//! bn.save_safetensors(std::path::Path::new("bn.safetensors"), "bn.")?; // PyTorch's names
//! # std::fs::remove_file("bn.safetensors")?;
//! # let _ = y_eval;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod houses;
mod op;
mod state;
pub mod study;

pub use state::PYTORCH_NAMES;

use candle_core::{DType, Device, Tensor, Var};
use normshift::{BatchNormConfig, Layout, Mode, RunningStats};
use std::sync::{Arc, Mutex, MutexGuard};

/// A batch-normalization layer for candle models.
///
/// Channels are at dimension 1 (PyTorch's convention) by default; [`BatchNorm::channels_last`]
/// puts them last. The learnable `weight` (gamma) and `bias` (beta) are candle [`Var`]s for
/// an optimizer ([`BatchNorm::vars`]); running statistics and the mode switches live in a
/// [`normshift::BatchNorm`], so they behave exactly as the core layer's.
#[derive(Clone, Debug)]
pub struct BatchNorm {
    layer: Arc<Mutex<normshift::BatchNorm>>,
    weight: Option<Var>,
    bias: Option<Var>,
    layout: Layout,
    mode: Arc<Mutex<Option<Mode>>>,
    /// The dtype given to [`BatchNorm::new`]: the parameters', and the running statistics'
    /// in a state file.
    dtype: DType,
}

impl BatchNorm {
    /// A new layer: gamma 1, beta 0 (as `dtype` Vars on `device` when `config.affine`),
    /// running mean 0, running variance 1 (saved as `dtype`, as PyTorch saves a module's
    /// buffers in its dtype).
    pub fn new(
        config: BatchNormConfig,
        dtype: DType,
        device: &Device,
    ) -> candle_core::Result<Self> {
        let c = config.num_features;
        let affine = config.affine;
        let layer = normshift::BatchNorm::new(config).map_err(candle_core::Error::wrap)?;
        let (weight, bias) = if affine {
            (
                Some(Var::ones(c, dtype, device)?),
                Some(Var::zeros(c, dtype, device)?),
            )
        } else {
            (None, None)
        };
        Ok(Self {
            layer: Arc::new(Mutex::new(layer)),
            weight,
            bias,
            layout: Layout::ChannelsFirst,
            mode: Arc::new(Mutex::new(None)),
            dtype,
        })
    }

    /// The same layer reading inputs with channels last (`(N, …, C)`).
    pub fn channels_last(mut self) -> Self {
        self.layout = Layout::ChannelsLast;
        self
    }

    /// Gamma, if the layer has affine parameters.
    pub fn weight(&self) -> Option<&Var> {
        self.weight.as_ref()
    }

    /// Beta, if the layer has affine parameters.
    pub fn bias(&self) -> Option<&Var> {
        self.bias.as_ref()
    }

    /// The learnable parameters, for an optimizer.
    pub fn vars(&self) -> Vec<Var> {
        self.weight.iter().chain(&self.bias).cloned().collect()
    }

    /// Overrides the `train` flag of [`candle_nn::ModuleT::forward_t`] with explicit switches
    /// (normalize with batch statistics; update running statistics), or `None` to follow the
    /// flag: `true` is [`Mode::TRAIN`], `false` is [`Mode::EVAL`].
    pub fn set_mode(&self, mode: Option<Mode>) {
        *lock(&self.mode) = mode;
    }

    /// How the kernels run: threads (the rayon pool the call runs in, or one), instruction
    /// set, and huge pages for large new outputs (see [`normshift::Execution`]). The results
    /// are the same bits whatever the setting.
    pub fn set_execution(&self, exec: normshift::Execution) {
        lock(&self.layer).set_execution(exec);
    }

    /// No running-statistics update, even in training.
    pub fn freeze(&self) {
        lock(&self.layer).freeze();
    }

    /// Undoes [`BatchNorm::freeze`].
    pub fn unfreeze(&self) {
        lock(&self.layer).unfreeze();
    }

    /// The running statistics (`None` without `track_running_stats`).
    pub fn running_stats(&self) -> Option<RunningStats> {
        lock(&self.layer).running_stats().cloned()
    }

    /// Replaces the running statistics (checked: lengths, finite, variances ≥ 0).
    pub fn set_running_stats(&self, stats: RunningStats) -> candle_core::Result<()> {
        lock(&self.layer)
            .set_running_stats(stats)
            .map_err(candle_core::Error::wrap)
    }

    /// The core layer's configuration.
    pub fn config(&self) -> BatchNormConfig {
        lock(&self.layer).config().clone()
    }

    /// Starts re-estimating the running statistics from data: see [`recalibrate`].
    pub fn begin_recalibration(&self) {
        lock(&self.layer).begin_recalibration();
    }

    /// Ends a recalibration: see [`normshift::BatchNorm::finish_recalibration`].
    pub fn finish_recalibration(&self) -> candle_core::Result<()> {
        lock(&self.layer)
            .finish_recalibration()
            .map_err(candle_core::Error::wrap)
    }

    fn gamma_beta(&self, x: &Tensor) -> candle_core::Result<(Tensor, Tensor)> {
        match (&self.weight, &self.bias) {
            (Some(w), Some(b)) => Ok((w.as_tensor().clone(), b.as_tensor().clone())),
            _ => {
                // Constants, no gradient: the op sees gamma 1 and beta 0.
                let c = lock(&self.layer).config().num_features;
                Ok((
                    Tensor::ones(c, DType::F64, x.device())?,
                    Tensor::zeros(c, DType::F64, x.device())?,
                ))
            }
        }
    }
}

impl candle_nn::ModuleT for BatchNorm {
    fn forward_t(&self, x: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        let mode = lock(&self.mode).unwrap_or(if train { Mode::TRAIN } else { Mode::EVAL });
        // The kernels read plain row-major memory: a strided view is copied first.
        let x = x.contiguous()?;
        let (gamma, beta) = self.gamma_beta(&x)?;
        let op = op::BatchNormOp::new(
            self.layer.clone(),
            mode,
            self.layout,
            x.dims().to_vec(),
            self.weight.is_some(),
        );
        x.apply_op3(&gamma, &beta, op)
    }
}

/// Re-estimates the running statistics of `layers` on `batches`, without touching any learned
/// weight: "precise BN" when the batches are training data, AdaBN when they are the deployment
/// data. `forward` runs the model on one batch (with `train = true` for the layers to see
/// batch statistics); each layer ends with the count-weighted mean and variance of everything
/// it saw. All or nothing: on error (from `forward`, or a layer that saw fewer than two values
/// per channel or tracks no running statistics), and if `forward` panics, every layer keeps
/// its previous statistics and leaves recalibration. A layer listed twice is recalibrated once.
///
/// Only the listed layers are recalibrated, and only they are all or nothing: any other
/// `BatchNorm` the model runs in training mode updates its running statistics by its own
/// momentum rule on every batch, as in a training step, whether recalibration then succeeds or
/// fails. List every batch-normalization layer of the model (or put the others in evaluation
/// mode inside `forward`) to leave none half-adapted.
pub fn recalibrate<I, F>(
    layers: &[&BatchNorm],
    batches: I,
    mut forward: F,
) -> candle_core::Result<()>
where
    I: IntoIterator<Item = Tensor>,
    F: FnMut(&Tensor) -> candle_core::Result<Tensor>,
{
    /// Ends every layer's recalibration when dropped, so that neither an error nor a panic in
    /// `forward` leaves a layer normalizing with batch statistics in evaluation.
    struct Abandon<'a>(&'a [&'a BatchNorm]);
    impl Drop for Abandon<'_> {
        fn drop(&mut self) {
            for layer in self.0 {
                lock(&layer.layer).abandon_recalibration();
            }
        }
    }
    let _abandon = Abandon(layers);
    for layer in layers {
        layer.begin_recalibration();
    }
    batches
        .into_iter()
        .try_for_each(|b| forward(&b).map(drop))?;
    // Check every layer before changing any.
    let stats = layers
        .iter()
        .map(|layer| lock(&layer.layer).recalibrated_stats())
        .collect::<Result<Vec<_>, _>>()
        .map_err(candle_core::Error::wrap)?;
    for (layer, stats) in layers.iter().zip(stats) {
        lock(&layer.layer)
            .set_running_stats(stats)
            .map_err(candle_core::Error::wrap)?;
    }
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while the lock was held leaves the layer's state as it was before that call
    // (the core layer changes state only after every check), so the poison can be ignored.
    m.lock().unwrap_or_else(|e| e.into_inner())
}
