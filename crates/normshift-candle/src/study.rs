//! The seed's training claims, measured on a real data set: does batch normalization make
//! training faster and tolerant of higher learning rates, and does re-estimating its statistics
//! on deployment data (AdaBN) repair a covariate shift that does not change what the labels
//! mean?
//!
//! The data are the UCI handwritten digits shipped in `examples/data/digits.csv` (1,797 images
//! of 8×8 pixels, 0…16, scaled here to 0…1; provenance and licence in
//! `examples/data/README.md`). Everything is deterministic given the seeds: the split, the
//! weight initialization and the batch order come from a small counter-based generator, and
//! training is single-process SGD.
//!
//! - [`lr_sweep`]: a multilayer perceptron with and without [`BatchNorm`] after each hidden
//!   linear layer, over a sweep of learning rates and several seeds: final test accuracy, steps
//!   to a target accuracy, divergences, learning curves.
//! - [`shift_study`]: a network with batch normalization (on its inputs and hidden layers)
//!   trained on clean images and deployed on shifted ones, with no adaptation (running
//!   statistics), with its statistics re-estimated on the unlabeled deployment images
//!   ([`crate::recalibrate`], AdaBN), and retrained on labeled shifted images; a network
//!   without batch normalization for reference.

use crate::{recalibrate, BatchNorm};
use candle_core::{DType, Device, Tensor, Var, D};
use candle_nn::{Module, ModuleT, Optimizer};
use normshift::{BatchNormConfig, RunningStats};
use serde::Serialize;

/// The digits data set as shipped (`examples/data/digits.csv`).
pub const DIGITS_CSV: &str = include_str!("../../../examples/data/digits.csv");

/// Pixels per digit image.
pub const DIGIT_PIXELS: usize = 64;
/// Classes (the digits 0…9).
pub const DIGIT_CLASSES: usize = 10;

/// Feature rows with integer class labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// Row-major `len × features` values.
    pub x: Vec<f32>,
    /// Class of each row.
    pub y: Vec<u32>,
    /// Values per row.
    pub features: usize,
}

impl Dataset {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// No rows.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// The rows at `rows`, in that order.
    pub fn subset(&self, rows: &[usize]) -> Dataset {
        let f = self.features;
        Dataset {
            x: rows
                .iter()
                .flat_map(|&r| &self.x[r * f..(r + 1) * f])
                .copied()
                .collect(),
            y: rows.iter().map(|&r| self.y[r]).collect(),
            features: f,
        }
    }

    /// The rows as an `(N, features)` f32 tensor and an `(N,)` u32 label tensor.
    pub fn tensors(&self, dev: &Device) -> candle_core::Result<(Tensor, Tensor)> {
        Ok((
            Tensor::from_slice(&self.x, (self.len(), self.features), dev)?,
            Tensor::from_slice(&self.y, self.len(), dev)?,
        ))
    }

    /// The same rows with every value passed through `f(feature, value)`.
    pub fn map_features(&self, f: impl Fn(usize, f32) -> f32) -> Dataset {
        let mut out = self.clone();
        for row in out.x.chunks_mut(self.features) {
            for (j, v) in row.iter_mut().enumerate() {
                *v = f(j, *v);
            }
        }
        out
    }
}

/// Parses digits CSV text (header `p0,…,p63,digit`; pixels 0…16, scaled to 0…1). Errors name
/// the line and column.
pub fn parse_digits(text: &str) -> candle_core::Result<Dataset> {
    let mut lines = text.lines().enumerate();
    let header_ok = lines
        .next()
        .is_some_and(|(_, h)| h.split(',').count() == DIGIT_PIXELS + 1);
    if !header_ok {
        return Err(candle_core::Error::msg(
            "digits CSV: line 1: expected a header of 65 columns (p0..p63,digit)",
        ));
    }
    let mut data = Dataset {
        x: Vec::new(),
        y: Vec::new(),
        features: DIGIT_PIXELS,
    };
    for (i, line) in lines {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != DIGIT_PIXELS + 1 {
            return Err(candle_core::Error::msg(format!(
                "digits CSV: line {}: {} fields, expected 65",
                i + 1,
                fields.len()
            )));
        }
        for (j, field) in fields.iter().enumerate() {
            let bad = || {
                candle_core::Error::msg(format!(
                    "digits CSV: line {}, column {}: {field:?} is not an integer in range",
                    i + 1,
                    j + 1
                ))
            };
            let v: u32 = field.trim().parse().map_err(|_| bad())?;
            if j < DIGIT_PIXELS {
                if v > 16 {
                    return Err(bad());
                }
                data.x.push(v as f32 / 16.0);
            } else if (v as usize) < DIGIT_CLASSES {
                data.y.push(v);
            } else {
                return Err(bad());
            }
        }
    }
    Ok(data)
}

/// The shipped digits, split at random (seed `seed`) into `test` rows for testing and the
/// rest for training.
pub fn digits_split(test: usize, seed: u64) -> candle_core::Result<(Dataset, Dataset)> {
    let data = parse_digits(DIGITS_CSV)?;
    let mut order: Vec<usize> = (0..data.len()).collect();
    Rng::new(seed).shuffle(&mut order);
    let test = test.min(data.len());
    Ok((data.subset(&order[test..]), data.subset(&order[..test])))
}

/// SplitMix64: a tiny deterministic generator, so runs reproduce on any machine.
#[derive(Clone, Debug)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed ^ 0x6a09_e667_f3bc_c909)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

/// The shape of a network: optional convolutional blocks over the 8×8 image, then a
/// multilayer perceptron.
#[derive(Clone, Debug, PartialEq)]
pub struct NetSpec {
    /// Output channels of each convolutional block (3×3 convolution, padding 1 → (BN) → ReLU →
    /// 2×2 max pooling); empty for a plain multilayer perceptron.
    pub conv: Vec<usize>,
    /// Width of each hidden layer.
    pub hidden: Vec<usize>,
    /// [`BatchNorm`] after each convolution and hidden linear layer (before the ReLU), as in
    /// the batch-normalization paper.
    pub batch_norm: bool,
    /// [`BatchNorm`] on the inputs too.
    pub input_norm: bool,
}

struct Conv {
    kernel: Var,
    bias: Var,
    bn: Option<BatchNorm>,
}

struct Dense {
    linear: candle_nn::Linear,
    vars: [Var; 2],
    bn: Option<BatchNorm>,
    relu: bool,
}

/// A classifier: `[BN] → (Conv → [BN] → ReLU → MaxPool)* → (Linear → [BN] → ReLU)* → Linear`.
pub struct Net {
    input_bn: Option<BatchNorm>,
    /// Side of the square image the convolutions see.
    side: usize,
    convs: Vec<Conv>,
    layers: Vec<Dense>,
}

impl Net {
    /// Weights drawn as PyTorch's `nn.Linear` and `nn.Conv2d` draw them (uniform in
    /// ±1/√fan_in), from `seed`. With convolutions, `inputs` must be a square image.
    pub fn new(
        spec: &NetSpec,
        inputs: usize,
        classes: usize,
        seed: u64,
    ) -> candle_core::Result<Self> {
        let dev = Device::Cpu;
        let mut rng = Rng::new(seed.wrapping_mul(0x2545_f491_4f6c_dd1d).wrapping_add(1));
        let bn = |c: usize| BatchNorm::new(BatchNormConfig::new(c), DType::F32, &dev);
        let input_bn = if spec.input_norm {
            Some(bn(inputs)?)
        } else {
            None
        };
        let mut uniform = |n: usize, fan_in: usize| -> Vec<f32> {
            let bound = 1.0 / (fan_in as f64).sqrt();
            (0..n)
                .map(|_| ((2.0 * rng.uniform() - 1.0) * bound) as f32)
                .collect()
        };
        let side = (inputs as f64).sqrt().round() as usize;
        if !spec.conv.is_empty() && side * side != inputs {
            candle_core::bail!("convolutions need a square image, got {inputs} inputs");
        }
        let (mut convs, mut channels, mut size) = (Vec::new(), 1, side);
        for &out in &spec.conv {
            let fan_in = channels * 9;
            convs.push(Conv {
                kernel: Var::from_vec(uniform(out * fan_in, fan_in), (out, channels, 3, 3), &dev)?,
                bias: Var::from_vec(uniform(out, fan_in), (1, out, 1, 1), &dev)?,
                bn: if spec.batch_norm {
                    Some(bn(out)?)
                } else {
                    None
                },
            });
            (channels, size) = (out, size / 2);
        }
        let flat = if spec.conv.is_empty() {
            inputs
        } else {
            channels * size * size
        };
        let widths: Vec<usize> = std::iter::once(flat)
            .chain(spec.hidden.iter().copied())
            .chain(std::iter::once(classes))
            .collect();
        let mut layers = Vec::new();
        for (k, pair) in widths.windows(2).enumerate() {
            let (fan_in, fan_out) = (pair[0], pair[1]);
            let w = Var::from_vec(uniform(fan_in * fan_out, fan_in), (fan_out, fan_in), &dev)?;
            let b = Var::from_vec(uniform(fan_out, fan_in), fan_out, &dev)?;
            let hidden = k + 1 < widths.len() - 1;
            layers.push(Dense {
                linear: candle_nn::Linear::new(w.as_tensor().clone(), Some(b.as_tensor().clone())),
                vars: [w, b],
                bn: if hidden && spec.batch_norm {
                    Some(bn(fan_out)?)
                } else {
                    None
                },
                relu: hidden,
            });
        }
        Ok(Self {
            input_bn,
            side,
            convs,
            layers,
        })
    }

    /// Every trainable variable (linear weights and biases, batch-norm gamma and beta).
    pub fn vars(&self) -> Vec<Var> {
        let mut vars: Vec<Var> = self.batch_norms().iter().flat_map(|b| b.vars()).collect();
        vars.extend(
            self.convs
                .iter()
                .flat_map(|c| [c.kernel.clone(), c.bias.clone()]),
        );
        vars.extend(self.layers.iter().flat_map(|l| l.vars.iter().cloned()));
        vars
    }

    /// The batch-normalization layers, inputs first.
    pub fn batch_norms(&self) -> Vec<&BatchNorm> {
        self.input_bn
            .iter()
            .chain(self.convs.iter().filter_map(|c| c.bn.as_ref()))
            .chain(self.layers.iter().filter_map(|l| l.bn.as_ref()))
            .collect()
    }

    /// Test accuracy of the model in evaluation mode (running statistics).
    pub fn accuracy(&self, data: &Dataset) -> candle_core::Result<f64> {
        let (x, y) = data.tensors(&Device::Cpu)?;
        accuracy(&self.forward_t(&x, false)?, &y)
    }
}

impl ModuleT for Net {
    fn forward_t(&self, x: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        let mut h = match &self.input_bn {
            Some(bn) => bn.forward_t(x, train)?,
            None => x.clone(),
        };
        if !self.convs.is_empty() {
            h = h.reshape((h.dim(0)?, 1, self.side, self.side))?;
            for conv in &self.convs {
                h = h
                    .conv2d(conv.kernel.as_tensor(), 1, 1, 1, 1)?
                    .broadcast_add(conv.bias.as_tensor())?;
                if let Some(bn) = &conv.bn {
                    h = bn.forward_t(&h, train)?;
                }
                h = h.relu()?.max_pool2d(2)?;
            }
            h = h.flatten_from(1)?;
        }
        for layer in &self.layers {
            h = layer.linear.forward(&h)?;
            if let Some(bn) = &layer.bn {
                h = bn.forward_t(&h, train)?;
            }
            if layer.relu {
                h = h.relu()?;
            }
        }
        Ok(h)
    }
}

fn accuracy(logits: &Tensor, labels: &Tensor) -> candle_core::Result<f64> {
    let predicted = logits.argmax(D::Minus1)?;
    let hits = predicted
        .eq(labels)?
        .to_dtype(DType::F32)?
        .sum_all()?
        .to_scalar::<f32>()?;
    Ok(hits as f64 / labels.dims1()? as f64)
}

/// How to train.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainSpec {
    /// SGD learning rate.
    pub lr: f64,
    /// Passes over the training set.
    pub epochs: usize,
    /// Rows per SGD step.
    pub batch_size: usize,
    /// Seeds the batch order.
    pub seed: u64,
    /// Test accuracy is measured every this many steps (and at the start and the end).
    pub eval_every: usize,
    /// The accuracy whose first crossing is reported as "steps to target".
    pub target_accuracy: f64,
}

/// What one training run did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Run {
    /// Learning rate.
    pub lr: f64,
    /// Seed of the weights and the batch order.
    pub seed: u64,
    /// Whether the network had batch normalization.
    pub batch_norm: bool,
    /// Steps at which the test accuracy was measured.
    pub steps: Vec<usize>,
    /// Test accuracy at those steps.
    pub test_accuracy: Vec<f64>,
    /// Mean training loss over the steps since the previous measurement (NaN at step 0).
    pub train_loss: Vec<f64>,
    /// Test accuracy at the end (`None` when the run diverged).
    pub final_accuracy: Option<f64>,
    /// First measured step with test accuracy at or above the target.
    pub steps_to_target: Option<usize>,
    /// Why and at which step training broke down: a non-finite loss, or a batch the
    /// batch-norm layer refused (non-finite statistics).
    pub diverged: Option<(usize, String)>,
}

/// Trains `model` on `train` with plain minibatch SGD on cross-entropy, measuring test accuracy
/// on `test` as it goes. A non-finite loss or a refused batch ends the run as diverged.
pub fn train(
    model: &Net,
    train: &Dataset,
    test: &Dataset,
    spec: &TrainSpec,
    batch_norm: bool,
) -> candle_core::Result<Run> {
    let dev = Device::Cpu;
    let mut sgd = candle_nn::SGD::new(model.vars(), spec.lr)?;
    let mut rng = Rng::new(spec.seed.wrapping_add(0x5151));
    let mut run = Run {
        lr: spec.lr,
        seed: spec.seed,
        batch_norm,
        steps: vec![0],
        test_accuracy: vec![model.accuracy(test)?],
        train_loss: vec![f64::NAN],
        final_accuracy: None,
        steps_to_target: None,
        diverged: None,
    };
    let (mut loss_sum, mut loss_count, mut step) = (0.0, 0usize, 0usize);
    let mut order: Vec<usize> = (0..train.len()).collect();
    'epochs: for _ in 0..spec.epochs {
        rng.shuffle(&mut order);
        // A last batch of one row has no batch statistics: it is skipped, as PyTorch users do
        // with `drop_last`.
        for rows in order.chunks(spec.batch_size).filter(|r| r.len() > 1) {
            let (x, y) = train.subset(rows).tensors(&dev)?;
            let loss = match model
                .forward_t(&x, true)
                .and_then(|logits| candle_nn::loss::cross_entropy(&logits, &y))
            {
                Ok(loss) => loss,
                Err(e) => {
                    run.diverged = Some((step, format!("refused batch: {e}")));
                    break 'epochs;
                }
            };
            let value = loss.to_scalar::<f32>()? as f64;
            if !value.is_finite() {
                run.diverged = Some((step, format!("loss {value}")));
                break 'epochs;
            }
            sgd.backward_step(&loss)?;
            step += 1;
            loss_sum += value;
            loss_count += 1;
            if step % spec.eval_every == 0 {
                if let Err(e) = record(&mut run, model, test, step, loss_sum / loss_count as f64) {
                    run.diverged = Some((step, format!("refused evaluation: {e}")));
                    break 'epochs;
                }
                (loss_sum, loss_count) = (0.0, 0);
            }
        }
    }
    if run.diverged.is_none() && run.steps.last() != Some(&step) {
        if let Err(e) = record(&mut run, model, test, step, loss_sum / loss_count as f64) {
            run.diverged = Some((step, format!("refused evaluation: {e}")));
        }
    }
    if run.diverged.is_none() {
        run.final_accuracy = run.test_accuracy.last().copied();
    }
    run.steps_to_target = run
        .steps
        .iter()
        .zip(&run.test_accuracy)
        .find(|(_, &a)| a >= spec.target_accuracy)
        .map(|(&s, _)| s);
    Ok(run)
}

fn record(
    run: &mut Run,
    model: &Net,
    test: &Dataset,
    step: usize,
    loss: f64,
) -> candle_core::Result<()> {
    // Evaluate first: a refused evaluation must leave the three series the same length.
    let accuracy = model.accuracy(test)?;
    run.steps.push(step);
    run.test_accuracy.push(accuracy);
    run.train_loss.push(loss);
    Ok(())
}

/// A learning-rate sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepSpec {
    /// Learning rates tried.
    pub lrs: Vec<f64>,
    /// Seeds (each a different initialization and batch order).
    pub seeds: Vec<u64>,
    /// Convolutional blocks (empty: a multilayer perceptron).
    pub conv: Vec<usize>,
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// Training settings (`lr` and `seed` are overwritten by the sweep).
    pub train: TrainSpec,
}

impl SweepSpec {
    /// The configuration the README reports: two hidden layers of 64, learning rates from
    /// 0.01 to 10, five seeds, 30 epochs at batch size 64, target 95 % test accuracy.
    pub fn full() -> Self {
        Self {
            lrs: vec![0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0],
            seeds: (0..5).collect(),
            conv: Vec::new(),
            hidden: vec![64, 64],
            train: TrainSpec {
                lr: 0.0,
                epochs: 30,
                batch_size: 64,
                seed: 0,
                eval_every: 10,
                target_accuracy: 0.95,
            },
        }
    }

    /// The small convolutional network of the study: two blocks of 16 and 32 channels, then
    /// the output layer; learning rates 0.01 to 10, two seeds, five epochs (candle's CPU
    /// convolutions make each run take seconds).
    pub fn cnn() -> Self {
        Self {
            lrs: vec![0.01, 0.1, 1.0, 3.0, 10.0],
            seeds: (0..2).collect(),
            conv: vec![16, 32],
            hidden: Vec::new(),
            train: TrainSpec {
                epochs: 5,
                ..Self::full().train
            },
        }
    }

    /// A small version for `normshift demo` and tests: three learning rates, one seed,
    /// five epochs.
    pub fn quick() -> Self {
        Self {
            lrs: vec![0.03, 1.0, 10.0],
            seeds: vec![0],
            train: TrainSpec {
                epochs: 5,
                ..Self::full().train
            },
            ..Self::full()
        }
    }
}

/// Runs every learning rate and seed without and with batch normalization on the digits split
/// (`train`, `test`). Runs are ordered by batch norm (without first), learning rate, seed.
pub fn lr_sweep(
    spec: &SweepSpec,
    train_set: &Dataset,
    test: &Dataset,
) -> candle_core::Result<Vec<Run>> {
    let mut runs = Vec::new();
    for batch_norm in [false, true] {
        let mlp = NetSpec {
            conv: spec.conv.clone(),
            hidden: spec.hidden.clone(),
            batch_norm,
            input_norm: false,
        };
        for &lr in &spec.lrs {
            for &seed in &spec.seeds {
                let model = Net::new(&mlp, train_set.features, DIGIT_CLASSES, seed)?;
                let t = TrainSpec {
                    lr,
                    seed,
                    ..spec.train.clone()
                };
                runs.push(train(&model, train_set, test, &t, batch_norm)?);
            }
        }
    }
    Ok(runs)
}

/// A shift of the deployment images that leaves the labels' meaning unchanged.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shift {
    /// A recalibrated sensor: each pixel `j` reads `gain_j · v + offset_j` with gains drawn
    /// uniformly in [0.5, 1.5] and offsets in [0, 0.5] (the pixel range is 0…1), from `seed`.
    Sensor {
        /// Seeds the gains and offsets.
        seed: u64,
    },
    /// Every image moved one pixel to the right (the left column reads 0): a nuisance shift
    /// that no per-feature statistic can undo.
    MoveRight,
}

impl Shift {
    /// A short name for tables.
    pub fn name(&self) -> &'static str {
        match self {
            Shift::Sensor { .. } => "sensor gain and offset per pixel",
            Shift::MoveRight => "images moved one pixel right",
        }
    }

    /// The shifted images (labels unchanged).
    pub fn apply(&self, data: &Dataset) -> Dataset {
        match *self {
            Shift::Sensor { seed } => {
                let mut rng = Rng::new(seed.wrapping_add(0xabcd));
                let gains: Vec<f32> = (0..data.features)
                    .map(|_| (0.5 + rng.uniform()) as f32)
                    .collect();
                let offsets: Vec<f32> = (0..data.features)
                    .map(|_| (0.5 * rng.uniform()) as f32)
                    .collect();
                data.map_features(|j, v| gains[j] * v + offsets[j])
            }
            Shift::MoveRight => {
                let mut out = data.clone();
                for row in out.x.chunks_mut(data.features) {
                    for image_row in row.chunks_mut(8) {
                        image_row.rotate_right(1);
                        image_row[0] = 0.0;
                    }
                }
                out
            }
        }
    }
}

/// Deployment approach: the network with batch normalization, its running statistics from
/// training.
pub const NO_ADAPTATION: &str = "BN, running statistics from training";
/// Deployment approach: the same network, statistics re-estimated on the unlabeled
/// deployment images ([`crate::recalibrate`]).
pub const ADABN: &str = "BN, statistics re-estimated on deployment images (AdaBN)";
/// Deployment approach: a network with batch normalization retrained on labeled shifted images.
pub const RETRAINED: &str = "BN, retrained on labeled shifted images";
/// Deployment approach: a network without batch normalization trained on clean images.
pub const PLAIN: &str = "no BN, trained on clean images";

/// Test accuracy of one approach under one shift, for each seed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ShiftOutcome {
    /// [`Shift::name`], or `"none"` for the clean test images.
    pub shift: &'static str,
    /// One of [`NO_ADAPTATION`], [`ADABN`], [`RETRAINED`], [`PLAIN`].
    pub approach: &'static str,
    /// Accuracy per seed.
    pub accuracy: Vec<f64>,
}

/// Trains, for each seed, a network with batch normalization on its inputs and hidden layers
/// and one without, on clean images, and measures them on the clean test images and on each
/// shift of them, deployed each way. `spec.lrs[0]` is the learning rate.
pub fn shift_study(
    spec: &SweepSpec,
    shifts: &[Shift],
    train_set: &Dataset,
    test: &Dataset,
) -> candle_core::Result<Vec<ShiftOutcome>> {
    let lr = spec.lrs.first().copied().unwrap_or(0.1);
    let mut outcomes: Vec<ShiftOutcome> = Vec::new();
    let mut push = |shift: &'static str, approach: &'static str, acc: f64| match outcomes
        .iter_mut()
        .find(|o| o.shift == shift && o.approach == approach)
    {
        Some(o) => o.accuracy.push(acc),
        None => outcomes.push(ShiftOutcome {
            shift,
            approach,
            accuracy: vec![acc],
        }),
    };
    let with_bn = NetSpec {
        conv: spec.conv.clone(),
        hidden: spec.hidden.clone(),
        batch_norm: true,
        input_norm: true,
    };
    let plain = NetSpec {
        batch_norm: false,
        input_norm: false,
        ..with_bn.clone()
    };
    for &seed in &spec.seeds {
        let t = TrainSpec {
            lr,
            seed,
            ..spec.train.clone()
        };
        let fit = |mlp: &NetSpec, data: &Dataset| -> candle_core::Result<Net> {
            let model = Net::new(mlp, data.features, DIGIT_CLASSES, seed)?;
            let run = train(&model, data, test, &t, mlp.batch_norm)?;
            if let Some((step, why)) = run.diverged {
                return Err(candle_core::Error::msg(format!(
                    "shift study: training diverged at step {step} ({why}); lower the learning rate"
                )));
            }
            Ok(model)
        };
        let model = fit(&with_bn, train_set)?;
        let reference = fit(&plain, train_set)?;
        push("none", NO_ADAPTATION, model.accuracy(test)?);
        push("none", PLAIN, reference.accuracy(test)?);
        let trained: Vec<RunningStats> = model
            .batch_norms()
            .iter()
            .filter_map(|b| b.running_stats())
            .collect();
        for shift in shifts {
            let shifted = shift.apply(test);
            push(shift.name(), NO_ADAPTATION, model.accuracy(&shifted)?);
            push(shift.name(), PLAIN, reference.accuracy(&shifted)?);
            // AdaBN: population statistics of the unlabeled deployment images, in batches.
            let batches: Vec<Tensor> = (0..shifted.len())
                .collect::<Vec<_>>()
                .chunks(t.batch_size)
                .filter(|r| r.len() > 1)
                .map(|rows| Ok(shifted.subset(rows).tensors(&Device::Cpu)?.0))
                .collect::<candle_core::Result<_>>()?;
            recalibrate(&model.batch_norms(), batches, |b| model.forward_t(b, true))?;
            push(shift.name(), ADABN, model.accuracy(&shifted)?);
            for (bn, stats) in model.batch_norms().iter().zip(&trained) {
                bn.set_running_stats(stats.clone())?;
            }
            let retrained = fit(&with_bn, &shift.apply(train_set))?;
            push(shift.name(), RETRAINED, retrained.accuracy(&shifted)?);
        }
    }
    Ok(outcomes)
}

/// One learning rate of a sweep, over its seeds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SweepPoint {
    /// Whether the network had batch normalization.
    pub batch_norm: bool,
    /// Learning rate.
    pub lr: f64,
    /// Runs (seeds).
    pub runs: usize,
    /// Runs that broke down (non-finite loss or a refused batch).
    pub diverged: usize,
    /// Mean final test accuracy, a diverged run counting as chance (0.1).
    pub mean_accuracy: f64,
    /// Lowest and highest final test accuracy (diverged runs as chance).
    pub accuracy_range: (f64, f64),
    /// Runs that reached the target accuracy.
    pub reached_target: usize,
    /// Median steps to the target over the runs that reached it.
    pub median_steps_to_target: Option<f64>,
}

/// Accuracy of a run for summaries: its final accuracy, or chance when it diverged.
pub fn final_or_chance(run: &Run) -> f64 {
    run.final_accuracy.unwrap_or(1.0 / DIGIT_CLASSES as f64)
}

/// Summarizes a sweep per (batch norm, learning rate), in the runs' order.
pub fn summarize(runs: &[Run]) -> Vec<SweepPoint> {
    let mut points: Vec<SweepPoint> = Vec::new();
    let mut keys: Vec<(bool, f64)> = Vec::new();
    for r in runs {
        if !keys.contains(&(r.batch_norm, r.lr)) {
            keys.push((r.batch_norm, r.lr));
        }
    }
    for (batch_norm, lr) in keys {
        let group: Vec<&Run> = runs
            .iter()
            .filter(|r| r.batch_norm == batch_norm && r.lr == lr)
            .collect();
        let acc: Vec<f64> = group.iter().map(|r| final_or_chance(r)).collect();
        let mut steps: Vec<f64> = group
            .iter()
            .filter_map(|r| r.steps_to_target.map(|s| s as f64))
            .collect();
        steps.sort_by(f64::total_cmp);
        let median = match steps.len() {
            0 => None,
            n if n % 2 == 1 => Some(steps[n / 2]),
            n => Some((steps[n / 2 - 1] + steps[n / 2]) / 2.0),
        };
        points.push(SweepPoint {
            batch_norm,
            lr,
            runs: group.len(),
            diverged: group.iter().filter(|r| r.diverged.is_some()).count(),
            mean_accuracy: acc.iter().sum::<f64>() / acc.len() as f64,
            accuracy_range: acc
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &a| {
                    (lo.min(a), hi.max(a))
                }),
            reached_target: steps.len(),
            median_steps_to_target: median,
        });
    }
    points
}

/// Mean of a list (NaN when empty).
pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}
