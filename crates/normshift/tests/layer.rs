//! The BatchNorm layer: the seed's numbers, running statistics by hand, switches, bad input.

use normshift::convention::{from_framework, to_framework, Framework};
use normshift::{
    walkthrough, BatchNorm, BatchNormConfig, Error, Layout, Mode, RunningStats, VarianceEstimator,
};

const CF: Layout = Layout::ChannelsFirst;

fn round3(v: &[f64]) -> Vec<f64> {
    v.iter()
        .map(|x| (x * 1000.0).round() / 1000.0 + 0.0)
        .collect()
}

#[test]
fn seed_batch_example() {
    let w = walkthrough(&[1.0, 2.0, 3.0, 4.0, 5.0], 1.0, 0.0, 1e-5).unwrap();
    assert_eq!(w.mean, 3.0);
    assert_eq!(w.variance, 2.0);
    assert_eq!(round3(&w.normalized), [-1.414, -0.707, 0.0, 0.707, 1.414]);
    assert_eq!(round3(&w.output), [-1.414, -0.707, 0.0, 0.707, 1.414]);
    assert_eq!(w.std, (2.0f64 + 1e-5).sqrt());

    let mut bn = BatchNorm::new(BatchNormConfig::new(1)).unwrap();
    let out = bn
        .forward(&[1.0f64, 2.0, 3.0, 4.0, 5.0], &[5, 1], CF)
        .unwrap();
    assert_eq!(round3(&out.y), [-1.414, -0.707, 0.0, 0.707, 1.414]);
    assert_eq!(out.saved.mean, [3.0]);
}

#[test]
fn seed_house_sizes() {
    let train = walkthrough(&normshift::data::HOUSE_SIZES_TRAIN, 1.0, 0.0, 1e-5).unwrap();
    let deploy = walkthrough(&normshift::data::HOUSE_SIZES_DEPLOY, 1.0, 0.0, 1e-5).unwrap();
    assert_eq!((train.mean, train.variance), (1700.0, 20000.0));
    assert_eq!((deploy.mean, deploy.variance), (1200.0, 20000.0));
    // Each set normalized with its own statistics looks the same: the seed's last example.
    assert_eq!(round3(&train.output), [-1.414, -0.707, 0.0, 0.707, 1.414]);
    assert_eq!(round3(&deploy.output), round3(&train.output));
}

/// Two channels, four rows: channel 0 = [1, 2, 3, 6], channel 1 = [10, 10, 14, 14].
const BATCH_A: [f64; 8] = [1.0, 10.0, 2.0, 10.0, 3.0, 14.0, 6.0, 14.0];
/// Channel 0 = [0, 4, 4, 8], channel 1 = [-1, 1, -1, 1].
const BATCH_B: [f64; 8] = [0.0, -1.0, 4.0, 1.0, 4.0, -1.0, 8.0, 1.0];
// By hand: A: mean [3, 12], biased var [3.5, 4], unbiased [14/3, 16/3].
//          B: mean [4, 0],  biased var [8, 1],   unbiased [32/3, 4/3].

#[test]
fn running_statistics_follow_pytorch_momentum() {
    let mut bn = BatchNorm::new(BatchNormConfig::new(2)).unwrap();
    bn.forward(&BATCH_A, &[4, 2], CF).unwrap();
    bn.forward(&BATCH_B, &[4, 2], CF).unwrap();
    let r = bn.running_stats().unwrap();
    // Step 1: mean 0.9·0 + 0.1·[3, 12] = [0.3, 1.2]; var 0.9·1 + 0.1·[14/3, 16/3].
    // Step 2: mean 0.9·[0.3, 1.2] + 0.1·[4, 0]; var 0.9·step1 + 0.1·[32/3, 4/3].
    let mean = [0.9 * 0.3 + 0.4, 0.9 * 1.2];
    let var1 = [0.9 + 0.1 * 14.0 / 3.0, 0.9 + 0.1 * 16.0 / 3.0];
    let var = [
        0.9 * var1[0] + 0.1 * 32.0 / 3.0,
        0.9 * var1[1] + 0.1 * 4.0 / 3.0,
    ];
    for k in 0..2 {
        assert!((r.running_mean[k] - mean[k]).abs() < 1e-14);
        assert!((r.running_var[k] - var[k]).abs() < 1e-14);
    }
    assert_eq!(r.num_batches_tracked, 2);
}

#[test]
fn momentum_none_is_a_cumulative_average() {
    let mut bn = BatchNorm::new(BatchNormConfig::new(2).momentum(None)).unwrap();
    bn.forward(&BATCH_A, &[4, 2], CF).unwrap();
    let r = bn.running_stats().unwrap();
    // First batch replaces the initial 0 / 1 entirely (weight 1/1).
    assert_eq!(r.running_mean, [3.0, 12.0]);
    assert!((r.running_var[0] - 14.0 / 3.0).abs() < 1e-14);
    bn.forward(&BATCH_B, &[4, 2], CF).unwrap();
    let r = bn.running_stats().unwrap();
    // Second batch weight 1/2: the plain average of the two batches' statistics.
    assert_eq!(r.running_mean, [3.5, 6.0]);
    assert!((r.running_var[0] - (14.0 / 3.0 + 32.0 / 3.0) / 2.0).abs() < 1e-14);
    assert!((r.running_var[1] - (16.0 / 3.0 + 4.0 / 3.0) / 2.0).abs() < 1e-14);
}

#[test]
fn biased_estimator_stores_the_biased_variance() {
    let config = BatchNormConfig::new(2)
        .momentum(Some(1.0))
        .running_var_estimator(VarianceEstimator::Biased);
    let mut bn = BatchNorm::new(config).unwrap();
    bn.forward(&BATCH_A, &[4, 2], CF).unwrap();
    assert_eq!(bn.running_stats().unwrap().running_var, [3.5, 4.0]);
}

#[test]
fn affine_false_has_no_parameters_and_no_parameter_gradients() {
    let mut bn = BatchNorm::new(BatchNormConfig::new(2).affine(false)).unwrap();
    assert!(bn.gamma().is_none() && bn.beta().is_none());
    let out = bn.forward(&BATCH_A, &[4, 2], CF).unwrap();
    // Channel 1 = [10, 10, 14, 14]: mean 12, var 4 → ±2/sqrt(4 + 1e-5).
    assert!((out.y[1] + 2.0 / (4.0f64 + 1e-5).sqrt()).abs() < 1e-15);
    let g = bn
        .backward(&BATCH_A, &[1.0; 8], &[4, 2], CF, &out.saved)
        .unwrap();
    assert!(g.dgamma.is_none() && g.dbeta.is_none());
    // A constant upstream gradient through batch statistics gives dx = 0 exactly in theory.
    assert!(g.dx.iter().all(|v| v.abs() < 1e-12));
    assert!(matches!(
        bn.set_affine(vec![1.0; 2], vec![0.0; 2]),
        Err(Error::NotConfigured(_))
    ));
}

#[test]
fn without_running_stats_batch_statistics_are_always_used() {
    let mut bn = BatchNorm::new(BatchNormConfig::new(2).track_running_stats(false)).unwrap();
    assert!(bn.running_stats().is_none());
    let train = bn.forward(&BATCH_A, &[4, 2], CF).unwrap();
    bn.eval();
    let eval = bn.forward(&BATCH_A, &[4, 2], CF).unwrap();
    assert_eq!(train, eval);
    assert!(bn.running_stats().is_none());
}

#[test]
fn freeze_survives_train_and_blocks_every_update() {
    let mut bn = BatchNorm::new(BatchNormConfig::new(2)).unwrap();
    bn.forward(&BATCH_A, &[4, 2], CF).unwrap();
    let before = bn.running_stats().unwrap().clone();
    bn.freeze();
    bn.train();
    assert!(bn.is_frozen());
    let out = bn.forward(&BATCH_B, &[4, 2], CF).unwrap();
    assert_eq!(bn.running_stats().unwrap(), &before);
    // Still normalized with batch statistics: training output, frozen statistics.
    assert_eq!(out.saved.mean, [4.0, 0.0]);
    bn.unfreeze();
    bn.forward(&BATCH_B, &[4, 2], CF).unwrap();
    assert_eq!(bn.running_stats().unwrap().num_batches_tracked, 2);
}

#[test]
fn switches_combine_independently() {
    // Batch statistics without updating (test-time adaptation).
    let mut bn = BatchNorm::new(BatchNormConfig::new(2)).unwrap();
    bn.set_mode(Mode {
        batch_statistics: true,
        update_running_stats: false,
    });
    let out = bn.forward(&BATCH_A, &[4, 2], CF).unwrap();
    assert_eq!(out.saved.mean, [3.0, 12.0]);
    assert_eq!(bn.running_stats().unwrap().num_batches_tracked, 0);
    assert_eq!(bn.running_stats().unwrap().running_mean, [0.0, 0.0]);

    // Running statistics for the output while collecting new ones (re-estimation pass).
    bn.set_mode(Mode {
        batch_statistics: false,
        update_running_stats: true,
    });
    let out = bn.forward(&BATCH_A, &[4, 2], CF).unwrap();
    assert_eq!(out.saved.mean, [0.0, 0.0]);
    assert_eq!(out.y[0], 1.0 / (1.0f64 + 1e-5).sqrt());
    let r = bn.running_stats().unwrap();
    assert_eq!(r.num_batches_tracked, 1);
    assert!((r.running_mean[0] - 0.3).abs() < 1e-15);
}

#[test]
fn eval_uses_running_statistics_and_changes_nothing() {
    let mut bn = BatchNorm::new(BatchNormConfig::new(2)).unwrap();
    bn.set_running_stats(RunningStats {
        running_mean: vec![1.0, -1.0],
        running_var: vec![4.0, 0.25],
        num_batches_tracked: 7,
    })
    .unwrap();
    bn.set_affine(vec![2.0, 1.0], vec![0.5, 0.0]).unwrap();
    bn.eval();
    let before = bn.clone();
    // One value per channel is fine in evaluation mode.
    let out = bn.forward(&[3.0f32, 0.0], &[1, 2], CF).unwrap();
    let expect0 = (3.0 - 1.0) / (4.0f64 + 1e-5).sqrt() * 2.0 + 0.5;
    let expect1 = (0.0 + 1.0) / (0.25f64 + 1e-5).sqrt();
    assert_eq!(out.y, [expect0 as f32, expect1 as f32]);
    assert_eq!(bn, before);
}

/// A batch count set to `u64::MAX` wrapped to 0 on the next update (a panic with overflow
/// checks on; in release `momentum = None` became 1/0 and the running statistics NaN).
#[test]
fn the_batch_count_saturates_instead_of_wrapping() {
    let mut bn = BatchNorm::new(BatchNormConfig::new(1).momentum(None)).unwrap();
    bn.set_running_stats(RunningStats {
        running_mean: vec![0.5],
        running_var: vec![2.0],
        num_batches_tracked: u64::MAX,
    })
    .unwrap();
    bn.forward(&[1.0f64, 3.0], &[2, 1], CF).unwrap();
    let r = bn.running_stats().unwrap();
    assert_eq!(r.num_batches_tracked, u64::MAX);
    // momentum 1/u64::MAX: the batch (mean 2, unbiased variance 2) moves nothing visible.
    assert_eq!((r.running_mean[0], r.running_var[0]), (0.5, 2.0));
}

#[test]
fn f32_and_f64_give_the_same_statistics_on_the_same_values() {
    let mut a = BatchNorm::new(BatchNormConfig::new(2)).unwrap();
    let mut b = a.clone();
    let x32: Vec<f32> = BATCH_A.iter().map(|&v| v as f32).collect();
    let y32 = a.forward(&x32, &[4, 2], CF).unwrap();
    let y64 = b.forward(&BATCH_A, &[4, 2], CF).unwrap();
    assert_eq!(a.running_stats(), b.running_stats());
    for (s, d) in y32.y.iter().zip(&y64.y) {
        assert_eq!(*s, *d as f32);
    }
}

/// Runs `bad` on a trained layer and checks it fails with `expected` leaving state untouched.
fn refused(
    bad: impl FnOnce(&mut BatchNorm) -> Result<(), Error>,
    expected: impl Fn(&Error) -> bool,
) {
    let mut bn = BatchNorm::new(BatchNormConfig::new(2)).unwrap();
    bn.forward(&BATCH_A, &[4, 2], CF).unwrap();
    let before = bn.clone();
    let err = bad(&mut bn).unwrap_err();
    assert!(expected(&err), "unexpected error: {err}");
    assert_eq!(bn, before, "state changed by a refused call ({err})");
}

#[test]
fn bad_input_is_refused_without_touching_state() {
    refused(
        |bn| bn.forward(&[1.0f64, 2.0], &[1, 2], CF).map(drop),
        |e| matches!(e, Error::SingleValuePerChannel { .. }),
    );
    refused(
        |bn| bn.forward(&[0.0f64; 9], &[3, 3], CF).map(drop),
        |e| {
            matches!(
                e,
                Error::FeatureMismatch {
                    expected: 2,
                    actual: 3,
                    ..
                }
            )
        },
    );
    refused(
        |bn| {
            bn.forward(&[0.0f64; 6], &[2, 3], Layout::ChannelsLast)
                .map(drop)
        },
        |e| matches!(e, Error::FeatureMismatch { .. }),
    );
    refused(
        |bn| bn.forward(&[0.0f64; 7], &[4, 2], CF).map(drop),
        |e| e.to_string().contains("x has 7 elements"),
    );
    refused(
        |bn| bn.forward::<f64>(&[], &[0, 2], CF).map(drop),
        |e| matches!(e, Error::EmptyBatch { .. }),
    );
    refused(
        |bn| bn.forward(&[0.0f64; 8], &[8], CF).map(drop),
        |e| e.to_string().contains("rank 1"),
    );
    let mut poisoned = BATCH_B;
    poisoned[3] = f64::NAN;
    refused(
        |bn| bn.forward(&poisoned, &[4, 2], CF).map(drop),
        |e| matches!(e, Error::NonFiniteStatistics { channel: 1, .. }),
    );
    poisoned[3] = f64::INFINITY;
    refused(
        |bn| bn.forward(&poisoned, &[4, 2], CF).map(drop),
        |e| matches!(e, Error::NonFiniteStatistics { channel: 1, .. }),
    );
    // Finite values whose squared deviations overflow f64.
    let huge = [1e300, 0.0, -1e300, 0.0, 1e300, 0.0, -1e300, 0.0];
    refused(
        |bn| bn.forward(&huge, &[4, 2], CF).map(drop),
        |e| matches!(e, Error::NonFiniteStatistics { channel: 0, .. }),
    );
    // A statistics-collection pass must not be poisoned either.
    refused(
        |bn| {
            bn.set_mode(Mode {
                batch_statistics: false,
                update_running_stats: true,
            });
            let r = bn.forward(&poisoned, &[4, 2], CF).map(drop);
            bn.train();
            r
        },
        |e| matches!(e, Error::NonFiniteStatistics { .. }),
    );
    refused(
        |bn| bn.set_affine(vec![1.0], vec![0.0, 0.0]),
        |e| matches!(e, Error::ParameterLength { what: "gamma", .. }),
    );
    refused(
        |bn| bn.set_affine(vec![1.0, f64::NAN], vec![0.0, 0.0]),
        |e| matches!(e, Error::InvalidParameter { index: 1, .. }),
    );
    refused(
        |bn| {
            bn.set_running_stats(RunningStats {
                running_mean: vec![0.0; 2],
                running_var: vec![1.0, -1.0],
                num_batches_tracked: 0,
            })
        },
        |e| {
            matches!(
                e,
                Error::InvalidParameter {
                    what: "running_var",
                    index: 1,
                    ..
                }
            )
        },
    );

    // Backward with a mismatched gradient: an error, and backward never mutates the layer.
    let mut bn = BatchNorm::new(BatchNormConfig::new(2)).unwrap();
    let out = bn.forward(&BATCH_A, &[4, 2], CF).unwrap();
    let err = bn
        .backward(&BATCH_A, &[0.0; 6], &[4, 2], CF, &out.saved)
        .unwrap_err();
    assert_eq!(err.to_string(), "dy has 6 elements, but the shape needs 8");
}

#[test]
fn the_nan_message_names_the_channel() {
    let mut bn = BatchNorm::new(BatchNormConfig::new(2)).unwrap();
    let err = bn
        .forward(&[1.0, f64::NAN, 2.0, 3.0], &[2, 2], CF)
        .unwrap_err();
    assert_eq!(err.to_string(), "channel 1: batch statistics are not finite (mean NaN, variance NaN); the layer's state was not changed");
}

#[test]
fn invalid_configurations_are_refused() {
    let bad = |c: BatchNormConfig| BatchNorm::new(c).unwrap_err();
    assert_eq!(bad(BatchNormConfig::new(0)), Error::NoFeatures);
    assert_eq!(
        bad(BatchNormConfig::new(1).eps(0.0)),
        Error::InvalidEps(0.0)
    );
    assert!(matches!(
        bad(BatchNormConfig::new(1).eps(f64::NAN)),
        Error::InvalidEps(_)
    ));
    assert_eq!(
        bad(BatchNormConfig::new(1).eps(-1e-5)),
        Error::InvalidEps(-1e-5)
    );
    assert_eq!(
        bad(BatchNormConfig::new(1).momentum(Some(1.5))),
        Error::InvalidMomentum(1.5)
    );
    assert!(matches!(
        bad(BatchNormConfig::new(1).momentum(Some(f64::INFINITY))),
        Error::InvalidMomentum(_)
    ));
}

#[test]
fn keras_convention_round_trips_and_reproduces_keras_updates() {
    let keras = Framework::Keras.defaults();
    let config = from_framework(3, &keras).unwrap();
    assert!((config.momentum.unwrap() - 0.01).abs() < 1e-15);
    assert_eq!(config.eps, 1e-3);
    assert_eq!(config.running_var_estimator, VarianceEstimator::Biased);
    let back = to_framework(&config, Framework::Keras).unwrap();
    assert!(back.exact);
    assert!((back.value.momentum.unwrap() - 0.99).abs() < 1e-15);

    // Keras: moving = 0.99 · moving + 0.01 · biased batch variance.
    let mut bn = BatchNorm::new(from_framework(2, &keras).unwrap()).unwrap();
    bn.forward(&BATCH_A, &[4, 2], CF).unwrap();
    let r = bn.running_stats().unwrap();
    assert!((r.running_var[0] - (0.99 + (1.0 - 0.99) * 3.5)).abs() < 1e-15);
    assert!((r.running_mean[1] - (1.0 - 0.99) * 12.0).abs() < 1e-15);
}

#[test]
fn pytorch_to_other_frameworks_says_what_is_not_exact() {
    let pytorch = BatchNormConfig::new(4);
    let onnx = to_framework(&pytorch, Framework::Onnx).unwrap();
    assert!((onnx.value.momentum.unwrap() - 0.9).abs() < 1e-15);
    assert!(!onnx.exact);
    assert!(onnx.caveats[0].contains("n/(n-1)"));
    assert!(to_framework(&pytorch, Framework::PyTorch).unwrap().exact);
    assert!(to_framework(&pytorch.clone().momentum(None), Framework::Flax).is_err());
    assert_eq!(
        from_framework(4, &Framework::PyTorch.defaults()).unwrap(),
        pytorch
    );
}

#[test]
fn walkthrough_rejects_what_it_cannot_normalize() {
    assert_eq!(
        walkthrough(&[], 1.0, 0.0, 1e-5).unwrap_err(),
        Error::NoValues
    );
    assert!(matches!(
        walkthrough(&[1.0, f64::NAN], 1.0, 0.0, 1e-5),
        Err(Error::NonFiniteValue { index: 1, .. })
    ));
    assert!(matches!(
        walkthrough(&[1.0, 2.0], 1.0, 0.0, 0.0),
        Err(Error::InvalidEps(_))
    ));
    assert!(matches!(
        walkthrough(&[1e300, -1e300], 1.0, 0.0, 1e-5),
        Err(Error::NonFiniteStatistics { .. })
    ));
    // One value: variance 0, normalized 0, output beta.
    let one = walkthrough(&[42.0], 2.0, 0.5, 1e-5).unwrap();
    assert_eq!(
        (one.variance, one.normalized[0], one.output[0]),
        (0.0, 0.0, 0.5)
    );
    // 1e8 + small noise keeps its spread.
    let (a, b) = (1e8 + 0.001, 1e8 - 0.001);
    let half_gap: f64 = (a - b) / 2.0; // exact: a and b are within a factor 2 (Sterbenz)
    let w = walkthrough(&[a, b], 1.0, 0.0, 1e-12).unwrap();
    assert!(
        (w.variance - half_gap * half_gap).abs() <= 1e-9 * half_gap * half_gap,
        "{}",
        w.variance
    );
}

#[test]
fn backward_into_and_every_execution_give_identical_bits() {
    use normshift::{Execution, SimdLevel};
    // (N, C, L) = (64, 8, 1100): above the parallel threshold, rows walk.
    let shape = [64usize, 8, 1100];
    let len: usize = shape.iter().product();
    let x: Vec<f32> = (0..len)
        .map(|i| ((i * 7919) % 1000) as f32 * 0.01 + (i % 8) as f32)
        .collect();
    let dy: Vec<f32> = (0..len)
        .map(|i| ((i * 104729) % 997) as f32 * 1e-3 - 0.5)
        .collect();
    let run = |exec: Execution| {
        let mut bn = BatchNorm::new(BatchNormConfig::new(8)).unwrap();
        bn.set_execution(exec);
        let out = bn.forward(&x, &shape, Layout::ChannelsFirst).unwrap();
        let (y, saved) = (out.y, out.saved);
        let grads = bn
            .backward(&x, &dy, &shape, Layout::ChannelsFirst, &saved)
            .unwrap();
        let mut dx = vec![0.0f32; len];
        let (dg, db) = bn
            .backward_into(&x, &dy, &shape, Layout::ChannelsFirst, &saved, &mut dx)
            .unwrap();
        assert_eq!(dx, grads.dx);
        assert_eq!(
            (dg.as_ref(), db.as_ref()),
            (grads.dgamma.as_ref(), grads.dbeta.as_ref())
        );
        (y, grads.dx, grads.dgamma, bn.running_stats().cloned())
    };
    let parallel = run(Execution::default());
    let single = run(Execution::sequential().with_simd(SimdLevel::Scalar));
    assert!(parallel == single, "results depend on the execution");
}

/// Mean and unbiased variance of every value of each channel across batches, by definition.
fn concatenated_stats(batches: &[(Vec<f64>, [usize; 3])], c: usize) -> (Vec<f64>, Vec<f64>) {
    let mut values = vec![Vec::new(); c];
    for (x, [n, ch, l]) in batches {
        for b in 0..*n {
            for k in 0..*ch {
                values[k].extend_from_slice(&x[(b * ch + k) * l..(b * ch + k + 1) * l]);
            }
        }
    }
    let mean: Vec<f64> = values
        .iter()
        .map(|v| v.iter().sum::<f64>() / v.len() as f64)
        .collect();
    let var = values
        .iter()
        .zip(&mean)
        .map(|(v, m)| v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64)
        .collect();
    (mean, var)
}

#[test]
fn recalibration_gives_the_statistics_of_all_batches_and_keeps_the_weights() {
    let c = 3;
    let mut bn = BatchNorm::new(BatchNormConfig::new(c)).unwrap();
    bn.set_affine(vec![2.0, 0.5, -1.0], vec![0.1, 0.2, 0.3])
        .unwrap();
    bn.freeze(); // recalibrating is an explicit request: it works on a frozen layer
                 // Batches of different sizes and different distributions (the shift AdaBN adapts to).
    let batches: Vec<(Vec<f64>, [usize; 3])> =
        [(4usize, 5usize, 10.0f64), (7, 3, -2.0), (2, 9, 0.5)]
            .iter()
            .enumerate()
            .map(|(i, &(n, l, offset))| {
                let x = (0..n * c * l)
                    .map(|j| offset + ((j * 37 + i * 11) % 17) as f64 * 0.25 - (j % c) as f64)
                    .collect();
                (x, [n, c, l])
            })
            .collect();
    bn.begin_recalibration();
    assert!(bn.is_recalibrating());
    for (x, shape) in &batches {
        let out = bn.forward(x, shape, CF).unwrap();
        // Normalized with the batch's own statistics, as in training.
        assert_eq!(out.saved.source, normshift::StatisticsSource::Batch);
    }
    bn.finish_recalibration().unwrap();
    let (mean, var) = concatenated_stats(&batches, c);
    let running = bn.running_stats().unwrap();
    for k in 0..c {
        assert!((running.running_mean[k] - mean[k]).abs() <= 1e-12 * (1.0 + mean[k].abs()));
        assert!((running.running_var[k] - var[k]).abs() <= 1e-12 * var[k]);
    }
    assert_eq!(running.num_batches_tracked, 3);
    assert_eq!(bn.gamma().unwrap(), [2.0, 0.5, -1.0]);
    assert_eq!(bn.beta().unwrap(), [0.1, 0.2, 0.3]);
    assert!(!bn.is_recalibrating());
}

#[test]
fn recalibration_errors_leave_the_running_statistics_alone() {
    let mut bn = BatchNorm::new(BatchNormConfig::new(2)).unwrap();
    let before = bn.running_stats().cloned();
    assert!(matches!(
        bn.finish_recalibration(),
        Err(Error::Recalibration(_))
    ));
    bn.begin_recalibration();
    // One value per channel cannot be normalized with batch statistics.
    assert!(bn.forward(&[1.0f64, 2.0], &[1, 2], CF).is_err());
    assert!(matches!(
        bn.finish_recalibration(),
        Err(Error::Recalibration(_))
    ));
    assert_eq!(bn.running_stats().cloned(), before);
    let mut untracked = BatchNorm::new(BatchNormConfig::new(2).track_running_stats(false)).unwrap();
    untracked.begin_recalibration();
    untracked
        .forward(&[1.0f64, 2.0, 3.0, 5.0], &[2, 2], CF)
        .unwrap();
    assert!(matches!(
        untracked.finish_recalibration(),
        Err(Error::Recalibration(_))
    ));
}

#[test]
fn one_value_per_channel_is_refused_whenever_batch_statistics_normalize() {
    // PyTorch: `BatchNorm1d(2, track_running_stats=False).eval()(torch.ones(1, 2))` raises
    // "Expected more than 1 value per channel when training": without running statistics
    // evaluation normalizes with batch statistics too.
    let mut untracked = BatchNorm::new(BatchNormConfig::new(2).track_running_stats(false)).unwrap();
    untracked.eval();
    assert!(matches!(
        untracked.forward(&[1.0f64, 2.0], &[1, 2], CF),
        Err(Error::SingleValuePerChannel { .. })
    ));
    // Two values per channel are fine there.
    let y = untracked
        .forward(&[1.0f64, 2.0, 3.0, 6.0], &[2, 2], CF)
        .unwrap()
        .y;
    assert_eq!(round3(&y), [-1.0, -1.0, 1.0, 1.0]);
}

#[test]
fn a_cumulative_average_does_not_translate_from_other_frameworks() {
    for framework in [Framework::Keras, Framework::Flax, Framework::Onnx] {
        let mut settings = framework.defaults();
        settings.momentum = None;
        assert!(
            matches!(from_framework(2, &settings), Err(Error::NotConfigured(_))),
            "{framework:?}"
        );
    }
    let mut pytorch = Framework::PyTorch.defaults();
    pytorch.momentum = None;
    assert_eq!(from_framework(2, &pytorch).unwrap().momentum, None);
}
