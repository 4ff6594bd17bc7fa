//! Kernels against an independent recomputation, across layouts, ranks and dtypes.

use normshift_kernels::*;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Shapes of every supported rank, written channels-first `(N, C, spatial…)`.
const SHAPES: &[&[usize]] = &[
    &[5, 1],
    &[7, 3],
    &[4, 3, 5],
    &[2, 4, 3, 5],
    &[3, 2, 2, 3, 4],
    &[1, 3, 4, 4],
    &[2, 1, 1, 1, 1],
];

fn random_values(rng: &mut ChaCha8Rng, len: usize, offset: f64, scale: f64) -> Vec<f64> {
    (0..len)
        .map(|_| offset + scale * (rng.gen::<f64>() * 2.0 - 1.0))
        .collect()
}

/// Channels-last shape `(N, spatial…, C)` of a channels-first shape.
fn channels_last_shape(cf: &[usize]) -> Vec<usize> {
    let mut s = vec![cf[0]];
    s.extend_from_slice(&cf[2..]);
    s.push(cf[1]);
    s
}

/// Visits every multi-index of `shape` in row-major order (an odometer), independent of
/// the kernels' canonical form.
fn for_each_index(shape: &[usize], mut f: impl FnMut(&[usize], usize)) {
    let total: usize = shape.iter().product();
    let mut idx = vec![0usize; shape.len()];
    for flat in 0..total {
        f(&idx, flat);
        for axis in (0..shape.len()).rev() {
            idx[axis] += 1;
            if idx[axis] < shape[axis] {
                break;
            }
            idx[axis] = 0;
        }
    }
}

/// Reorders a channels-first tensor into channels-last, index by index.
fn to_channels_last(data: &[f64], cf: &[usize]) -> Vec<f64> {
    let cl = channels_last_shape(cf);
    let mut out = vec![0.0; data.len()];
    for_each_index(cf, |idx, flat| {
        let mut cl_idx = vec![idx[0]];
        cl_idx.extend_from_slice(&idx[2..]);
        cl_idx.push(idx[1]);
        let offset = cl_idx.iter().zip(&cl).fold(0, |acc, (&i, &d)| acc * d + i);
        out[offset] = data[flat];
    });
    out
}

/// Per-channel mean and biased variance straight from the definition.
fn definition_moments(data: &[f64], shape: &[usize], channel_axis: usize) -> (Vec<f64>, Vec<f64>) {
    let c = shape[channel_axis];
    let mut values = vec![Vec::new(); c];
    for_each_index(shape, |idx, flat| {
        values[idx[channel_axis]].push(data[flat])
    });
    let mean: Vec<f64> = values
        .iter()
        .map(|v| v.iter().sum::<f64>() / v.len() as f64)
        .collect();
    let var = values
        .iter()
        .zip(&mean)
        .map(|(v, m)| v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64)
        .collect();
    (mean, var)
}

fn affine_params(rng: &mut ChaCha8Rng, c: usize) -> (Vec<f64>, Vec<f64>) {
    (
        random_values(rng, c, 1.0, 0.5),
        random_values(rng, c, 0.0, 2.0),
    )
}

/// Runs the training forward in dtype `T` and checks it against the definition.
fn check_forward_train<T: Element>(cf: &[usize], layout: Layout, rel_tol: f64, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let logical = random_values(&mut rng, cf.iter().product(), 3.0, 4.0);
    // Round through T first so both sides see exactly the same inputs.
    let logical: Vec<f64> = logical.iter().map(|&v| T::from_f64(v).to_f64()).collect();
    let (shape, data, channel_axis) = match layout {
        Layout::ChannelsFirst => (cf.to_vec(), logical.clone(), 1),
        Layout::ChannelsLast => {
            let s = channels_last_shape(cf);
            let axis = s.len() - 1;
            (s, to_channels_last(&logical, cf), axis)
        }
    };
    let (gamma, beta) = affine_params(&mut rng, cf[1]);
    let eps = 1e-5;
    let (mean_ref, var_ref) = definition_moments(&data, &shape, channel_axis);

    let dims = canonical_dims(&shape, layout).unwrap();
    let x: Vec<T> = data.iter().map(|&v| T::from_f64(v)).collect();
    let mut y = vec![T::from_f64(0.0); x.len()];
    let (mut mean, mut var) = (vec![0.0; cf[1]], vec![0.0; cf[1]]);
    let affine = Affine {
        gamma: &gamma,
        beta: &beta,
    };
    forward_train(&x, dims, Some(affine), eps, &mut y, &mut mean, &mut var).unwrap();
    for c in 0..cf[1] {
        assert!(
            (mean[c] - mean_ref[c]).abs() <= 1e-12 * (1.0 + mean_ref[c].abs()),
            "mean {c}"
        );
        assert!(
            (var[c] - var_ref[c]).abs() <= 1e-12 * (1.0 + var_ref[c]),
            "var {c}"
        );
    }
    for_each_index(&shape, |idx, flat| {
        let c = idx[channel_axis];
        let expected = (data[flat] - mean_ref[c]) / (var_ref[c] + eps).sqrt() * gamma[c] + beta[c];
        let got = y[flat].to_f64();
        assert!(
            (got - expected).abs() <= rel_tol * (1.0 + expected.abs()),
            "{} {layout:?} {cf:?} at {idx:?}: {got} vs {expected}",
            T::NAME
        );
    });
}

#[test]
fn forward_train_matches_definition_every_layout_rank_and_dtype() {
    for (k, cf) in SHAPES.iter().enumerate() {
        for layout in [Layout::ChannelsFirst, Layout::ChannelsLast] {
            check_forward_train::<f64>(cf, layout, 1e-12, k as u64);
            // f32 output: one rounding of an f64 result, so half an ulp (2^-24) plus slack.
            check_forward_train::<f32>(cf, layout, 1e-7, k as u64);
        }
    }
}

#[test]
fn forward_eval_matches_definition_every_layout() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for cf in SHAPES {
        let logical = random_values(&mut rng, cf.iter().product(), -2.0, 3.0);
        let c = cf[1];
        let run_mean = random_values(&mut rng, c, 0.0, 1.0);
        let run_var = random_values(&mut rng, c, 2.0, 1.0);
        let (gamma, beta) = affine_params(&mut rng, c);
        let eps = 1e-3;
        for layout in [Layout::ChannelsFirst, Layout::ChannelsLast] {
            let (shape, data, axis) = match layout {
                Layout::ChannelsFirst => (cf.to_vec(), logical.clone(), 1),
                Layout::ChannelsLast => (
                    channels_last_shape(cf),
                    to_channels_last(&logical, cf),
                    cf.len() - 1,
                ),
            };
            let dims = canonical_dims(&shape, layout).unwrap();
            let mut y = vec![0.0; data.len()];
            let affine = Affine {
                gamma: &gamma,
                beta: &beta,
            };
            forward_eval(&data, dims, &run_mean, &run_var, Some(affine), eps, &mut y).unwrap();
            for_each_index(&shape, |idx, flat| {
                let ch = idx[axis];
                let expected =
                    (data[flat] - run_mean[ch]) / (run_var[ch] + eps).sqrt() * gamma[ch] + beta[ch];
                assert!((y[flat] - expected).abs() <= 1e-12 * (1.0 + expected.abs()));
            });
        }
    }
}

#[test]
fn channels_first_and_last_agree_on_the_same_logical_tensor() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for cf in SHAPES {
        let logical = random_values(&mut rng, cf.iter().product(), 10.0, 1.0);
        let c = cf[1];
        let run = |layout: Layout, data: &[f64], shape: &[usize]| {
            let dims = canonical_dims(shape, layout).unwrap();
            let mut y = vec![0.0; data.len()];
            let (mut m, mut v) = (vec![0.0; c], vec![0.0; c]);
            forward_train(data, dims, None, 1e-5, &mut y, &mut m, &mut v).unwrap();
            (y, m, v)
        };
        let (y_cf, m_cf, v_cf) = run(Layout::ChannelsFirst, &logical, cf);
        let (y_cl, m_cl, v_cl) = run(
            Layout::ChannelsLast,
            &to_channels_last(&logical, cf),
            &channels_last_shape(cf),
        );
        let y_cf_as_cl = to_channels_last(&y_cf, cf);
        for (a, b) in y_cf_as_cl.iter().zip(&y_cl) {
            assert!((a - b).abs() <= 1e-12, "{cf:?}: {a} vs {b}");
        }
        for ch in 0..c {
            assert!((m_cf[ch] - m_cl[ch]).abs() <= 1e-12 * m_cf[ch].abs());
            assert!((v_cf[ch] - v_cl[ch]).abs() <= 1e-12 * v_cf[ch]);
        }
    }
}

#[test]
fn seed_worked_example() {
    let x = [1.0f64, 2.0, 3.0, 4.0, 5.0];
    let dims = canonical_dims(&[5, 1], Layout::ChannelsFirst).unwrap();
    let (mut y, mut mean, mut var) = ([0.0; 5], [0.0], [0.0]);
    forward_train(&x, dims, None, 1e-5, &mut y, &mut mean, &mut var).unwrap();
    assert_eq!(mean[0], 3.0);
    assert_eq!(var[0], 2.0);
    let rounded: Vec<f64> = y.iter().map(|v| (v * 1000.0).round() / 1000.0).collect();
    assert_eq!(rounded, [-1.414, -0.707, 0.0, 0.707, 1.414]);
    // Exact closed form: (x − 3) / sqrt(2 + 1e-5).
    for (xi, yi) in x.iter().zip(&y) {
        assert_eq!(*yi, (xi - 3.0) * (1.0 / (2.0f64 + 1e-5).sqrt()));
    }
}

/// Loss `L = Σ w · y` whose gradient with respect to `y` is `w`.
fn loss(
    x: &[f64],
    dims: Dims,
    gamma: &[f64],
    beta: &[f64],
    w: &[f64],
    fixed: Option<(&[f64], &[f64])>,
) -> f64 {
    let mut y = vec![0.0; x.len()];
    let affine = Some(Affine { gamma, beta });
    match fixed {
        None => {
            let (mut m, mut v) = (vec![0.0; dims.channels], vec![0.0; dims.channels]);
            forward_train(x, dims, affine, 1e-5, &mut y, &mut m, &mut v).unwrap();
        }
        Some((m, v)) => forward_eval(x, dims, m, v, affine, 1e-5, &mut y).unwrap(),
    }
    y.iter().zip(w).map(|(a, b)| a * b).sum()
}

fn central_difference(f: impl Fn(f64) -> f64, at: f64) -> f64 {
    let h = 1e-5 * (1.0 + at.abs());
    (f(at + h) - f(at - h)) / (2.0 * h)
}

#[test]
fn backward_matches_finite_differences_in_both_modes() {
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    for (cf, layout) in [
        (&[6usize, 3][..], Layout::ChannelsFirst),
        (&[2, 3, 4], Layout::ChannelsFirst),
        (&[2, 2, 3, 2], Layout::ChannelsLast),
        (&[2, 2, 2, 2, 2], Layout::ChannelsFirst),
    ] {
        let dims = canonical_dims(cf, layout).unwrap();
        let c = dims.channels;
        let x = random_values(&mut rng, dims.len(), 1.0, 2.0);
        let w = random_values(&mut rng, dims.len(), 0.0, 1.0);
        let (gamma, beta) = affine_params(&mut rng, c);
        let run_mean = random_values(&mut rng, c, 0.5, 0.5);
        let run_var = random_values(&mut rng, c, 1.5, 0.5);

        for source in [StatisticsSource::Batch, StatisticsSource::Fixed] {
            let fixed =
                (source == StatisticsSource::Fixed).then_some((&run_mean[..], &run_var[..]));
            let (mean, var) = match fixed {
                Some((m, v)) => (m.to_vec(), v.to_vec()),
                None => {
                    let (mut m, mut v) = (vec![0.0; c], vec![0.0; c]);
                    moments(&x, dims, &mut m, &mut v).unwrap();
                    (m, v)
                }
            };
            let invstd: Vec<f64> = var.iter().map(|v| inverse_std(*v, 1e-5)).collect();
            let (mut dx, mut dgamma, mut dbeta) = (vec![0.0; x.len()], vec![0.0; c], vec![0.0; c]);
            let saved = Saved {
                mean: &mean,
                invstd: &invstd,
                source,
            };
            let grads = Gradients {
                dx: &mut dx,
                dgamma: &mut dgamma,
                dbeta: &mut dbeta,
            };
            backward(&x, &w, dims, saved, Some(&gamma), grads).unwrap();

            let close = |analytic: f64, numeric: f64, what: &str| {
                assert!(
                    (analytic - numeric).abs() <= 1e-6 * (1.0 + numeric.abs()),
                    "{source:?} {cf:?} {what}: analytic {analytic} vs numeric {numeric}"
                );
            };
            for i in 0..x.len() {
                let numeric = central_difference(
                    |v| {
                        let mut xp = x.clone();
                        xp[i] = v;
                        loss(&xp, dims, &gamma, &beta, &w, fixed)
                    },
                    x[i],
                );
                close(dx[i], numeric, &format!("dx[{i}]"));
            }
            for ch in 0..c {
                let numeric_g = central_difference(
                    |v| {
                        let mut g = gamma.clone();
                        g[ch] = v;
                        loss(&x, dims, &g, &beta, &w, fixed)
                    },
                    gamma[ch],
                );
                close(dgamma[ch], numeric_g, &format!("dgamma[{ch}]"));
                let numeric_b = central_difference(
                    |v| {
                        let mut b = beta.clone();
                        b[ch] = v;
                        loss(&x, dims, &gamma, &b, &w, fixed)
                    },
                    beta[ch],
                );
                close(dbeta[ch], numeric_b, &format!("dbeta[{ch}]"));
            }
        }
    }
}

#[test]
fn f32_backward_agrees_with_f64_backward() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let dims = canonical_dims(&[8, 4, 9], Layout::ChannelsFirst).unwrap();
    let x64: Vec<f64> = random_values(&mut rng, dims.len(), 0.0, 3.0)
        .iter()
        .map(|&v| v as f32 as f64)
        .collect();
    let dy64: Vec<f64> = random_values(&mut rng, dims.len(), 0.0, 1.0)
        .iter()
        .map(|&v| v as f32 as f64)
        .collect();
    let (mut mean, mut var) = (vec![0.0; 4], vec![0.0; 4]);
    moments(&x64, dims, &mut mean, &mut var).unwrap();
    let invstd: Vec<f64> = var.iter().map(|v| inverse_std(*v, 1e-5)).collect();
    let saved = Saved {
        mean: &mean,
        invstd: &invstd,
        source: StatisticsSource::Batch,
    };
    let (mut dx64, mut g64, mut b64) = (vec![0.0; dims.len()], vec![0.0; 4], vec![0.0; 4]);
    backward(
        &x64,
        &dy64,
        dims,
        saved,
        None,
        Gradients {
            dx: &mut dx64,
            dgamma: &mut g64,
            dbeta: &mut b64,
        },
    )
    .unwrap();
    let x32: Vec<f32> = x64.iter().map(|&v| v as f32).collect();
    let dy32: Vec<f32> = dy64.iter().map(|&v| v as f32).collect();
    let (mut dx32, mut g32, mut b32) = (vec![0.0f32; dims.len()], vec![0.0; 4], vec![0.0; 4]);
    backward(
        &x32,
        &dy32,
        dims,
        saved,
        None,
        Gradients {
            dx: &mut dx32,
            dgamma: &mut g32,
            dbeta: &mut b32,
        },
    )
    .unwrap();
    assert_eq!(g32, g64);
    assert_eq!(b32, b64);
    for (a, b) in dx32.iter().zip(&dx64) {
        assert_eq!(*a, *b as f32);
    }
}

#[test]
fn huge_offset_keeps_full_precision() {
    // 1e8 + small noise: a one-pass E[x²] − E[x]² in f64 loses ~16 digits of 1e16 here.
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let noise = random_values(&mut rng, 1000, 0.0, 1e-3);
    let x: Vec<f64> = noise.iter().map(|n| 1e8 + n).collect();
    let (mut mean, mut var) = ([0.0], [0.0]);
    moments(&x, Dims::new(1000, 1, 1), &mut mean, &mut var).unwrap();
    let shifted: Vec<f64> = x.iter().map(|v| v - 1e8).collect();
    let (mut m2, mut v2) = ([0.0], [0.0]);
    moments(&shifted, Dims::new(1000, 1, 1), &mut m2, &mut v2).unwrap();
    assert!(
        (var[0] - v2[0]).abs() <= 1e-6 * v2[0],
        "{} vs {}",
        var[0],
        v2[0]
    );
    // The mean itself is accurate relative to its magnitude (naive f64 summation at 1e11).
    assert!((mean[0] - (1e8 + m2[0])).abs() <= 1e-12 * 1e8);
}

#[test]
fn constant_channel_gives_exactly_beta() {
    let x = [7.25f32; 12];
    let dims = canonical_dims(&[4, 3], Layout::ChannelsFirst).unwrap();
    let (gamma, beta) = ([2.0, 3.0, 4.0], [0.5, -1.0, 0.0]);
    let (mut y, mut m, mut v) = ([0.0f32; 12], [0.0; 3], [0.0; 3]);
    forward_train(
        &x,
        dims,
        Some(Affine {
            gamma: &gamma,
            beta: &beta,
        }),
        1e-5,
        &mut y,
        &mut m,
        &mut v,
    )
    .unwrap();
    assert_eq!(v, [0.0; 3]);
    for (i, yi) in y.iter().enumerate() {
        assert_eq!(*yi as f64, beta[i % 3]);
    }
}

#[test]
fn bad_shapes_and_lengths_are_errors() {
    assert_eq!(
        canonical_dims(&[5], Layout::ChannelsFirst),
        Err(KernelError::Rank { rank: 1 })
    );
    assert!(matches!(
        canonical_dims(&[5, 0], Layout::ChannelsFirst),
        Err(KernelError::NoChannels { .. })
    ));
    assert!(matches!(
        canonical_dims(&[usize::MAX, 2, 2], Layout::ChannelsFirst),
        Err(KernelError::Overflow { .. })
    ));
    assert_eq!(
        canonical_dims(&[2, 3, 4, 5], Layout::ChannelsLast).unwrap(),
        Dims::new(24, 5, 1)
    );
    assert_eq!(
        canonical_dims(&[2, 3, 4, 5], Layout::ChannelsFirst).unwrap(),
        Dims::new(2, 3, 20)
    );

    let dims = Dims::new(2, 3, 1);
    let (mut y, mut m, mut v) = ([0.0f64; 6], [0.0; 3], [0.0; 3]);
    let err = forward_train(&[0.0f64; 5], dims, None, 1e-5, &mut y, &mut m, &mut v).unwrap_err();
    assert_eq!(
        err,
        KernelError::Length {
            buffer: "x",
            expected: 6,
            actual: 5
        }
    );
    assert_eq!(err.to_string(), "x has 5 elements, but the shape needs 6");
    let err =
        forward_train(&[0.0f64; 6], dims, None, f64::NAN, &mut y, &mut m, &mut v).unwrap_err();
    assert!(matches!(err, KernelError::Eps { .. }));
    let err = forward_train(
        &[0.0f64; 6],
        dims,
        None,
        1e-5,
        &mut y,
        &mut m,
        &mut [0.0; 2],
    )
    .unwrap_err();
    assert!(matches!(err, KernelError::Length { buffer: "var", .. }));
    let empty = Dims::new(0, 3, 1);
    assert_eq!(
        forward_train(&[0.0f64; 0], empty, None, 1e-5, &mut [], &mut m, &mut v),
        Err(KernelError::Empty)
    );
    // An empty tensor in evaluation mode has nothing to do, and that is not an error.
    assert_eq!(
        forward_eval(&[0.0f64; 0], empty, &m, &v, None, 1e-5, &mut []),
        Ok(())
    );
}

proptest! {
    #[test]
    fn normalized_channels_have_mean_zero_and_variance_one(
        outer in 2usize..40,
        channels in 1usize..5,
        inner in 1usize..6,
        offset in -1e6f64..1e6,
        log_scale in -3f64..6.0,
        seed in any::<u64>(),
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let dims = Dims::new(outer, channels, inner);
        let x = random_values(&mut rng, dims.len(), offset, 10f64.powf(log_scale));
        let (mut y, mut m, mut v) = (vec![0.0; dims.len()], vec![0.0; channels], vec![0.0; channels]);
        forward_train(&x, dims, None, 0.0, &mut y, &mut m, &mut v).unwrap();
        let (mut ym, mut yv) = (vec![0.0; channels], vec![0.0; channels]);
        moments(&y, dims, &mut ym, &mut yv).unwrap();
        let (mut rm, mut rv) = (vec![0.0; channels], vec![0.0; channels]);
        moments_reference(&x, dims, &mut rm, &mut rv).unwrap();
        for c in 0..channels {
            // With eps = 0 the output is standardized up to rounding: the mean's rounding
            // (about 2^-53 |mean|) is amplified by 1/std of the *sample*, which for a few
            // values can be far below `scale`; hence the bound in |mean| / sample std.
            let spread = |m: f64, v: f64| 1.0 + m.abs() / v.sqrt();
            let bound = 1e-15 * spread(rm[c], rv[c]) * (dims.per_channel() as f64);
            prop_assert!(ym[c].abs() <= bound.max(1e-12), "mean {}", ym[c]);
            prop_assert!((yv[c] - 1.0).abs() <= (2.0 * bound).max(1e-12), "var {}", yv[c]);
        }
    }
}

/// `dx` with fixed statistics as bits: from the reference, from `backward_with` into a
/// separate buffer, and from `backward_in_place_with` over `dy`.
fn fixed_dx_bits(
    x: &[f32],
    dy: &[f32],
    dims: Dims,
    (mean, invstd, gamma): (&[f64], &[f64], &[f64]),
) -> [Vec<u32>; 3] {
    let saved = Saved {
        mean,
        invstd,
        source: StatisticsSource::Fixed,
    };
    let c = dims.channels;
    let exec = Execution::default();
    let mut out = [vec![0.0f32; dy.len()], vec![9.0f32; dy.len()], dy.to_vec()];
    for (k, dx) in out.iter_mut().enumerate() {
        let (mut dg, mut db) = (vec![0.0; c], vec![0.0; c]);
        let grads = Gradients {
            dx,
            dgamma: &mut dg,
            dbeta: &mut db,
        };
        match k {
            0 => backward_reference(x, dy, dims, saved, Some(gamma), grads),
            1 => backward_with(&exec, x, dy, dims, saved, Some(gamma), grads),
            _ => backward_in_place_with(
                &exec,
                x,
                grads.dx,
                dims,
                saved,
                Some(gamma),
                grads.dgamma,
                grads.dbeta,
            ),
        }
        .unwrap();
    }
    out.map(|v| v.iter().map(|v| v.to_bits()).collect())
}

/// With fixed statistics `dx = γ·invstd·dy`: a −0.0 gradient stays −0.0 (times a positive
/// scale), as in the reference and PyTorch. The fast path added +0.0 and lost the sign. On
/// a tiny tensor and on ones large enough for the vectorized and threaded paths.
#[test]
fn fixed_statistics_dx_keeps_the_sign_of_zero() {
    let x = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
    let dy = [-0.0f32, 0.0, -1.5, -0.0, 2.0, 0.0];
    for gamma in [[1.5, 2.0], [-1.5, 2.0]] {
        let stats = (
            [0.5, -1.0].as_slice(),
            [2.0, 0.25].as_slice(),
            gamma.as_slice(),
        );
        let [reference, separate, in_place] = fixed_dx_bits(&x, &dy, Dims::new(3, 2, 1), stats);
        assert_eq!(separate, reference, "gamma {gamma:?}");
        assert_eq!(in_place, reference, "gamma {gamma:?}, in place");
        // The first value: −0.0 · (1.5 · 2) is −0.0; with γ < 0 it is +0.0.
        assert_eq!(reference[0], (-0.0f32 * gamma[0].signum() as f32).to_bits());
    }
    for dims in [Dims::new(64, 3, 1000), Dims::new(20_000, 3, 1)] {
        let len = dims.outer * dims.channels * dims.inner;
        let x: Vec<f32> = (0..len).map(|i| (i % 7) as f32).collect();
        let dy: Vec<f32> = (0..len)
            .map(|i| {
                if i % 3 == 0 {
                    -0.0
                } else {
                    (i % 5) as f32 - 2.0
                }
            })
            .collect();
        let stats = (
            [0.5, -1.0, 2.0].as_slice(),
            [2.0, 0.25, 1.0].as_slice(),
            [1.5, -2.0, 0.5].as_slice(),
        );
        let [reference, separate, in_place] = fixed_dx_bits(&x, &dy, dims, stats);
        assert!(separate == reference, "{dims:?}");
        assert!(in_place == reference, "{dims:?}, in place");
    }
}
