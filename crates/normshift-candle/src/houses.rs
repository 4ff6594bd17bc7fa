//! The seed's house prices, measured: when does normalizing deployment data with its own
//! statistics help, and when does it hurt?
//!
//! A model `BatchNorm(1) → Linear(1, 1)` is trained in candle on the seed's training houses
//! (1500…1900 sq ft at 300…380 k$: price = 0.2 k$ per sq ft) and then meets two deployment sets
//! whose recorded sizes are both 1000…1400 sq ft:
//!
//! - a **real shift**: the houses are smaller, and their prices follow (200…280 k$);
//! - a **nuisance shift**: the same kind of houses as in training (300…380 k$) measured by a
//!   meter that reads 500 sq ft low.
//!
//! Each set is priced three ways: with the running statistics kept from training (no
//! adaptation), with the deployment batch's own statistics (the seed's proposal, AdaBN), and
//! by a model retrained on labeled deployment data.

use crate::BatchNorm;
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{Module, ModuleT, Optimizer};
use normshift::{BatchNormConfig, Mode, VarianceEstimator};
use serde::Serialize;

/// The seed's training sizes (sq ft).
pub const TRAIN_SIZES: [f64; 5] = [1500.0, 1600.0, 1700.0, 1800.0, 1900.0];
/// The seed's deployment sizes (sq ft), as recorded.
pub const DEPLOY_SIZES: [f64; 5] = [1000.0, 1100.0, 1200.0, 1300.0, 1400.0];
/// Price per square foot in the seed's example (k$).
pub const PRICE_PER_SQFT: f64 = 0.2;

/// Approach: the running statistics kept from training (PyTorch's unbiased running variance).
pub const RUNNING: &str = "running statistics (unbiased running var, PyTorch)";
/// Approach: the same, keeping the biased running variance (Keras' convention).
pub const RUNNING_BIASED: &str = "running statistics (biased running var, Keras)";
/// Approach: the deployment batch's own statistics (the seed's proposal; AdaBN).
pub const ADABN: &str = "deployment batch statistics (seed, AdaBN)";
/// Approach: a model retrained on labeled deployment data (biased running variance).
pub const RETRAINED: &str = "retrained on deployment data";
/// The row that evaluates the training houses themselves.
pub const NO_SHIFT: &str = "none (training houses)";

/// Prices one deployment set one way.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Outcome {
    /// `"real"` or `"nuisance"`.
    pub shift: &'static str,
    /// How the deployment batch was normalized.
    pub approach: &'static str,
    /// Predicted prices (k$).
    pub predicted: Vec<f64>,
    /// True prices (k$).
    pub truth: Vec<f64>,
    /// Mean of predicted − true (k$).
    pub mean_error: f64,
    /// Mean absolute error (k$).
    pub mean_abs_error: f64,
}

struct Model {
    bn: BatchNorm,
    weight: Var,
    bias: Var,
}

impl Model {
    fn new(dev: &Device, estimator: VarianceEstimator) -> candle_core::Result<Self> {
        let config = BatchNormConfig::new(1).running_var_estimator(estimator);
        Ok(Self {
            bn: BatchNorm::new(config, DType::F64, dev)?,
            weight: Var::zeros((1, 1), DType::F64, dev)?,
            bias: Var::zeros(1, DType::F64, dev)?,
        })
    }

    fn forward(&self, sizes: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        let h = self.bn.forward_t(sizes, train)?;
        let lin = candle_nn::Linear::new(
            self.weight.as_tensor().clone(),
            Some(self.bias.as_tensor().clone()),
        );
        lin.forward(&h)
    }

    /// Full-batch SGD on mean squared error, prices in hundreds of k$ (so one learning rate
    /// suits every parameter).
    fn train(
        &self,
        sizes: &[f64],
        prices: &[f64],
        steps: usize,
        lr: f64,
    ) -> candle_core::Result<()> {
        let dev = Device::Cpu;
        let x = column(sizes, &dev)?;
        let y = (column(prices, &dev)? / 100.0)?;
        let mut vars = self.bn.vars();
        vars.extend([self.weight.clone(), self.bias.clone()]);
        let mut sgd = candle_nn::SGD::new(vars, lr)?;
        for _ in 0..steps {
            let loss = (self.forward(&x, true)? - &y)?.sqr()?.mean_all()?;
            sgd.backward_step(&loss)?;
        }
        Ok(())
    }

    fn predict(&self, sizes: &[f64]) -> candle_core::Result<Vec<f64>> {
        let out = (self.forward(&column(sizes, &Device::Cpu)?, false)? * 100.0)?;
        out.flatten_all()?.to_vec1()
    }
}

fn column(v: &[f64], dev: &Device) -> candle_core::Result<Tensor> {
    Tensor::from_vec(v.to_vec(), (v.len(), 1), dev)
}

fn outcome(
    shift: &'static str,
    approach: &'static str,
    predicted: Vec<f64>,
    truth: &[f64],
) -> Outcome {
    let n = truth.len() as f64;
    let errors: Vec<f64> = predicted.iter().zip(truth).map(|(p, t)| p - t).collect();
    Outcome {
        shift,
        approach,
        mean_error: errors.iter().sum::<f64>() / n,
        mean_abs_error: errors.iter().map(|e| e.abs()).sum::<f64>() / n,
        predicted,
        truth: truth.to_vec(),
    }
}

/// Trains on the seed's houses for `steps` SGD steps at learning rate `lr` and prices both
/// deployment sets every way. Deterministic (parameters start at zero; full-batch SGD).
pub fn house_prices(steps: usize, lr: f64) -> candle_core::Result<Vec<Outcome>> {
    let dev = Device::Cpu;
    let train_prices: Vec<f64> = TRAIN_SIZES.iter().map(|s| s * PRICE_PER_SQFT).collect();
    let model = Model::new(&dev, VarianceEstimator::Unbiased)?;
    model.train(&TRAIN_SIZES, &train_prices, steps, lr)?;
    // The same model keeping the biased running variance (Keras' convention), which is the
    // variance it normalized with in training.
    let biased = Model::new(&dev, VarianceEstimator::Biased)?;
    biased.train(&TRAIN_SIZES, &train_prices, steps, lr)?;

    let real_truth: Vec<f64> = DEPLOY_SIZES.iter().map(|s| s * PRICE_PER_SQFT).collect();
    // The meter reads 500 sq ft low: the houses are really the training kind.
    let nuisance_truth: Vec<f64> = DEPLOY_SIZES
        .iter()
        .map(|s| (s + 500.0) * PRICE_PER_SQFT)
        .collect();
    let mut out = Vec::new();
    for (shift, truth) in [("real", &real_truth), ("nuisance", &nuisance_truth)] {
        // 1. Running statistics from training.
        out.push(outcome(
            shift,
            RUNNING,
            model.predict(&DEPLOY_SIZES)?,
            truth,
        ));
        out.push(outcome(
            shift,
            RUNNING_BIASED,
            biased.predict(&DEPLOY_SIZES)?,
            truth,
        ));
        // 2. The deployment batch's own statistics (the seed's proposal; AdaBN).
        model.bn.set_mode(Some(Mode {
            batch_statistics: true,
            update_running_stats: false,
        }));
        out.push(outcome(shift, ADABN, model.predict(&DEPLOY_SIZES)?, truth));
        model.bn.set_mode(None);
        // 3. Retrained on labeled deployment data.
        let retrained = Model::new(&dev, VarianceEstimator::Biased)?;
        retrained.train(&DEPLOY_SIZES, truth, steps, lr)?;
        out.push(outcome(
            shift,
            RETRAINED,
            retrained.predict(&DEPLOY_SIZES)?,
            truth,
        ));
    }
    // Also the training houses themselves, in evaluation mode: what the running statistics
    // give on the data they came from.
    out.push(outcome(
        NO_SHIFT,
        RUNNING,
        model.predict(&TRAIN_SIZES)?,
        &train_prices,
    ));
    out.push(outcome(
        NO_SHIFT,
        RUNNING_BIASED,
        biased.predict(&TRAIN_SIZES)?,
        &train_prices,
    ));
    Ok(out)
}
