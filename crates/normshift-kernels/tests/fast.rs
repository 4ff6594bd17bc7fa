//! The fast kernels against the `*_reference` ones: awkward sizes (0, 1, lanes ± 1,
//! 127/128/129, the rows/interleaved switch, task boundaries), both layouts, every dtype,
//! every instruction set this CPU has, several thread counts; bit-identical results across
//! thread counts and instruction sets; the accuracy bar of the fast-kernels issue.

use half::{bf16, f16};
use normshift_kernels::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Elements whose ulp we know, for tolerances on outputs rounded to `T`.
trait Precision: Element {
    /// Unit roundoff of the storage type.
    const U: f64;
}
impl Precision for f64 {
    const U: f64 = f64::EPSILON / 2.0;
}
impl Precision for f32 {
    const U: f64 = f32::EPSILON as f64 / 2.0;
}
impl Precision for f16 {
    const U: f64 = 4.8828125e-4; // 2^-11
}
impl Precision for bf16 {
    const U: f64 = 3.90625e-3; // 2^-8
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    // Box–Muller: enough for test data, no extra dependency.
    let (u1, u2): (f64, f64) = (rng.gen::<f64>().max(1e-300), rng.gen());
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn data<T: Element>(rng: &mut ChaCha8Rng, len: usize, offset: f64, scale: f64) -> Vec<T> {
    (0..len)
        .map(|_| T::from_f64(offset + scale * normal(rng)))
        .collect()
}

/// Pools of 1..=4 threads plus the calling thread alone; parallel splitting forced even
/// for small tensors so task boundaries are exercised.
fn executions() -> Vec<(String, Execution, Option<rayon::ThreadPool>)> {
    let mut out = Vec::new();
    for level in SimdLevel::available() {
        out.push((
            format!("{} sequential", level.name()),
            Execution::sequential().with_simd(level),
            None,
        ));
        for threads in [1, 2, 3, 4] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let exec = Execution {
                parallel: true,
                parallel_min_len: 0,
                simd: level,
                huge_pages: threads % 2 == 0,
            };
            out.push((
                format!("{} {threads} threads", level.name()),
                exec,
                Some(pool),
            ));
        }
    }
    out
}

fn run<R: Send>(pool: &Option<rayon::ThreadPool>, f: impl FnOnce() -> R + Send) -> R {
    match pool {
        Some(p) => p.install(f),
        None => f(),
    }
}

/// Everything one execution computes for one tensor, widened to `f64` bit patterns.
#[derive(Debug, PartialEq)]
struct Results {
    mean: Vec<u64>,
    var: Vec<u64>,
    y_train: Vec<u64>,
    y_eval: Vec<u64>,
    dx_batch: Vec<u64>,
    dgamma: Vec<u64>,
    dbeta: Vec<u64>,
    dx_fixed: Vec<u64>,
}

fn bits<T: Element>(v: &[T]) -> Vec<u64> {
    v.iter().map(|x| x.to_f64().to_bits()).collect()
}

fn floats(v: &[u64]) -> Vec<f64> {
    v.iter().map(|&b| f64::from_bits(b)).collect()
}

struct Case<T> {
    x: Vec<T>,
    dy: Vec<T>,
    dims: Dims,
    gamma: Vec<f64>,
    beta: Vec<f64>,
    running_mean: Vec<f64>,
    running_var: Vec<f64>,
}

fn case<T: Element>(seed: u64, dims: Dims, offset: f64, scale: f64) -> Case<T> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let c = dims.channels;
    Case {
        x: data(&mut rng, dims.len(), offset, scale),
        dy: data(&mut rng, dims.len(), 0.0, 1.0),
        dims,
        gamma: (0..c).map(|_| 0.5 + rng.gen::<f64>()).collect(),
        beta: (0..c).map(|_| rng.gen::<f64>() - 0.5).collect(),
        running_mean: (0..c).map(|_| offset + scale * normal(&mut rng)).collect(),
        running_var: (0..c)
            .map(|_| scale * scale * (0.5 + rng.gen::<f64>()))
            .collect(),
    }
}

fn compute<T: Element>(k: &Case<T>, exec: Option<&Execution>) -> Results {
    let (dims, c, len) = (k.dims, k.dims.channels, k.dims.len());
    let affine = Some(Affine {
        gamma: &k.gamma,
        beta: &k.beta,
    });
    let eps = 1e-5;
    let zero = T::from_f64(0.0);
    let (mut mean, mut var, mut y_train) = (vec![0.0; c], vec![0.0; c], vec![zero; len]);
    let mut y_eval = vec![zero; len];
    match exec {
        Some(e) => {
            forward_train_with(
                e,
                &k.x,
                dims,
                affine,
                eps,
                &mut y_train,
                &mut mean,
                &mut var,
            )
            .unwrap();
            forward_eval_with(
                e,
                &k.x,
                dims,
                &k.running_mean,
                &k.running_var,
                affine,
                eps,
                &mut y_eval,
            )
            .unwrap();
        }
        None => {
            forward_train_reference(&k.x, dims, affine, eps, &mut y_train, &mut mean, &mut var)
                .unwrap();
            forward_eval_reference(
                &k.x,
                dims,
                &k.running_mean,
                &k.running_var,
                affine,
                eps,
                &mut y_eval,
            )
            .unwrap();
        }
    }
    let invstd: Vec<f64> = var.iter().map(|&v| inverse_std(v, eps)).collect();
    let running_invstd: Vec<f64> = k.running_var.iter().map(|&v| inverse_std(v, eps)).collect();
    let grads = |source, m: &[f64], s: &[f64]| {
        let (mut dx, mut dg, mut db) = (vec![zero; len], vec![0.0; c], vec![0.0; c]);
        let saved = Saved {
            mean: m,
            invstd: s,
            source,
        };
        let g = Gradients {
            dx: &mut dx,
            dgamma: &mut dg,
            dbeta: &mut db,
        };
        match exec {
            Some(e) => backward_with(e, &k.x, &k.dy, dims, saved, Some(&k.gamma), g).unwrap(),
            None => backward_reference(&k.x, &k.dy, dims, saved, Some(&k.gamma), g).unwrap(),
        }
        (dx, dg, db)
    };
    let (dx_batch, dgamma, dbeta) = grads(StatisticsSource::Batch, &mean, &invstd);
    let (dx_fixed, _, _) = grads(StatisticsSource::Fixed, &k.running_mean, &running_invstd);
    Results {
        mean: bits(&mean),
        var: bits(&var),
        y_train: bits(&y_train),
        y_eval: bits(&y_eval),
        dx_batch: bits(&dx_batch),
        dgamma: bits(&dgamma),
        dbeta: bits(&dbeta),
        dx_fixed: bits(&dx_fixed),
    }
}

fn close(what: &str, fast: &[f64], reference: &[f64], tol: impl Fn(usize) -> f64) {
    assert_eq!(fast.len(), reference.len(), "{what}: length");
    for (i, (f, r)) in fast.iter().zip(reference).enumerate() {
        let t = tol(i);
        assert!(
            (f - r).abs() <= t,
            "{what}[{i}]: fast {f:e}, reference {r:e}, |diff| {:e} > {t:e}",
            (f - r).abs()
        );
    }
}

/// Compares one execution against the reference with tolerances of the form
/// `unit roundoff × size factor × magnitude`.
fn check_against_reference<T: Precision>(label: &str, k: &Case<T>, fast: &Results) {
    let r = compute(k, None);
    let dims = k.dims;
    let n = dims.per_channel() as f64;
    let ch = |i: usize| -> usize { (i / dims.inner) % dims.channels };
    let (mean, var) = (floats(&r.mean), floats(&r.var));
    let f64_u = f64::EPSILON / 2.0;
    // Statistics are f64 sums of n terms: both sides err by O(n u64) relative to the scale.
    let scale: Vec<f64> = (0..dims.channels)
        .map(|c| mean[c].abs() + var[c].sqrt())
        .collect();
    close(&format!("{label} mean"), &floats(&fast.mean), &mean, |c| {
        8.0 * (n + 1.0) * f64_u * scale[c]
    });
    close(&format!("{label} var"), &floats(&fast.var), &var, |c| {
        16.0 * (n + 1.0) * f64_u * scale[c] * scale[c]
    });
    // Outputs: both round an f64 value once to T; the f64 values differ by O(n u64), so the
    // results may differ by one rounding of T at the output's magnitude.
    let out_tol = |y: &[f64]| {
        let m = y.iter().fold(0.0f64, |a, v| a.max(v.abs())) + 1.0;
        move |_: usize| 2.0 * T::U * m + 64.0 * (n + 1.0) * f64_u * m
    };
    let yt = floats(&r.y_train);
    close(
        &format!("{label} y_train"),
        &floats(&fast.y_train),
        &yt,
        out_tol(&yt),
    );
    let ye = floats(&r.y_eval);
    close(
        &format!("{label} y_eval"),
        &floats(&fast.y_eval),
        &ye,
        out_tol(&ye),
    );
    let dxf = floats(&r.dx_fixed);
    close(
        &format!("{label} dx_fixed"),
        &floats(&fast.dx_fixed),
        &dxf,
        out_tol(&dxf),
    );
    // dx with batch statistics cancels: n·dy − Σdy − x̂·Σ(dy·x̂); bound by the terms' size.
    let dy: Vec<f64> = k.dy.iter().map(|v| v.to_f64()).collect();
    let db = floats(&r.dbeta);
    let dg = floats(&r.dgamma);
    let dxb = floats(&r.dx_batch);
    let terms = |i: usize| {
        let c = ch(i);
        let invstd = inverse_std(var[c], 1e-5);
        let xhat = (k.x[i].to_f64() - mean[c]) * invstd;
        k.gamma[c] * invstd * (dy[i].abs() + (db[c].abs() + xhat.abs() * dg[c].abs()) / n)
    };
    close(
        &format!("{label} dx_batch"),
        &floats(&fast.dx_batch),
        &dxb,
        |i| 2.0 * T::U * (dxb[i].abs() + terms(i)) + 64.0 * (n + 1.0) * f64_u * terms(i),
    );
    let dy_scale = dy.iter().fold(0.0f64, |a, v| a.max(v.abs())) * n + 1.0;
    close(&format!("{label} dbeta"), &floats(&fast.dbeta), &db, |_| {
        8.0 * (n + 1.0) * f64_u * dy_scale
    });
    close(
        &format!("{label} dgamma"),
        &floats(&fast.dgamma),
        &dg,
        |_| 64.0 * (n + 1.0) * f64_u * dy_scale * (1.0 + n.sqrt()),
    );
}

/// `(outer, channels, inner)` triples around every boundary the fast kernels have.
fn awkward_dims() -> Vec<Dims> {
    let mut dims = Vec::new();
    // Per-channel counts 1, lanes ± 1, 127/128/129 in both walks.
    for count in [1usize, 2, 15, 16, 17, 127, 128, 129] {
        for channels in [1usize, 3, 7, 64] {
            dims.push(Dims::new(count, channels, 1)); // (N, C) = channels-last
            dims.push(Dims::new(1, channels, count)); // channels-first, one sample
        }
    }
    // The rows/interleaved switch (inner 63 / 64 / 65) and short runs.
    for inner in [2usize, 5, 63, 64, 65, 196] {
        dims.push(Dims::new(3, 5, inner));
    }
    // Several tasks per call (> 65536 elements), odd remainders.
    dims.push(Dims::new(1031, 3, 67));
    dims.push(Dims::new(70001, 3, 1));
    dims.push(Dims::new(20000, 7, 1));
    dims.push(Dims::new(4, 1000, 20));
    // So many channels that tasks are lengthened to bound their partial sums (20 rows of
    // 70,000 channels: 10 tasks of 2 rows instead of 20 of one).
    dims.push(Dims::new(20, 70_000, 1));
    dims
}

fn fast_matches_reference<T: Precision>(offset: f64, scale: f64) {
    let execs = executions();
    for (i, dims) in awkward_dims().into_iter().enumerate() {
        let k = case::<T>(i as u64, dims, offset, scale);
        let mut first: Option<Results> = None;
        for (label, exec, pool) in &execs {
            let label = format!("{} {dims:?} {label}", T::NAME);
            let fast = run(pool, || compute(&k, Some(exec)));
            check_against_reference(&label, &k, &fast);
            // Thread count and instruction set never change a single bit.
            match &first {
                None => first = Some(fast),
                Some(f) => assert!(*f == fast, "{label}: bits differ from the first execution"),
            }
        }
    }
}

#[test]
fn fast_f64_matches_reference_everywhere() {
    fast_matches_reference::<f64>(3.0, 2.0);
}

#[test]
fn fast_f32_matches_reference_everywhere() {
    fast_matches_reference::<f32>(-1.5, 0.5);
}

#[test]
fn fast_f32_with_a_large_offset_matches_reference() {
    fast_matches_reference::<f32>(1e6, 1.0);
}

#[test]
fn fast_half_precision_matches_reference() {
    fast_matches_reference::<f16>(2.0, 1.5);
    fast_matches_reference::<bf16>(-4.0, 3.0);
}

#[test]
fn channels_first_and_channels_last_agree_in_the_fast_path() {
    // (N, C, H, W) = (3, 5, 9, 8) against its channels-last twin (3, 9, 8, 5).
    let (n, c, h, w) = (3usize, 5usize, 9usize, 8usize);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let cf: Vec<f64> = data(&mut rng, n * c * h * w, 10.0, 3.0);
    let mut cl = vec![0.0; cf.len()];
    for b in 0..n {
        for ch in 0..c {
            for s in 0..h * w {
                cl[(b * h * w + s) * c + ch] = cf[(b * c + ch) * h * w + s];
            }
        }
    }
    let dcf = canonical_dims(&[n, c, h, w], Layout::ChannelsFirst).unwrap();
    let dcl = canonical_dims(&[n, h, w, c], Layout::ChannelsLast).unwrap();
    let (mut m1, mut v1, mut m2, mut v2) = (vec![0.0; c], vec![0.0; c], vec![0.0; c], vec![0.0; c]);
    let (mut y1, mut y2) = (vec![0.0; cf.len()], vec![0.0; cf.len()]);
    forward_train(&cf, dcf, None, 1e-5, &mut y1, &mut m1, &mut v1).unwrap();
    forward_train(&cl, dcl, None, 1e-5, &mut y2, &mut m2, &mut v2).unwrap();
    for ch in 0..c {
        assert!((m1[ch] - m2[ch]).abs() <= 1e-13 * m1[ch].abs());
        assert!((v1[ch] - v2[ch]).abs() <= 1e-12 * v1[ch]);
    }
    for b in 0..n {
        for ch in 0..c {
            for s in 0..h * w {
                let (a, bb) = (y1[(b * c + ch) * h * w + s], y2[(b * h * w + s) * c + ch]);
                assert!((a - bb).abs() <= 1e-12, "{a} vs {bb}");
            }
        }
    }
}

/// The accuracy bar: f32 input, mean and variance within 1e-6 relative of an f64
/// two-pass reference on the same f32 values.
fn accuracy_bar(offset: f64, scale: f64, dims: Dims) {
    let mut rng = ChaCha8Rng::seed_from_u64(offset.to_bits() ^ scale.to_bits());
    let x: Vec<f32> = data(&mut rng, dims.len(), offset, scale);
    let c = dims.channels;
    let (mut m, mut v, mut rm, mut rv) = (vec![0.0; c], vec![0.0; c], vec![0.0; c], vec![0.0; c]);
    let mut y = vec![0.0f32; dims.len()];
    forward_train(&x, dims, None, 1e-5, &mut y, &mut m, &mut v).unwrap();
    moments_reference(&x, dims, &mut rm, &mut rv).unwrap();
    for ch in 0..c {
        let what = format!("offset {offset:e} scale {scale:e} {dims:?} channel {ch}");
        assert!(m[ch].is_finite() && v[ch].is_finite(), "{what}: not finite");
        assert!(
            (m[ch] - rm[ch]).abs() <= 1e-6 * rm[ch].abs(),
            "{what}: mean {} vs {}",
            m[ch],
            rm[ch]
        );
        assert!(
            (v[ch] - rv[ch]).abs() <= 1e-6 * rv[ch],
            "{what}: var {} vs {}",
            v[ch],
            rv[ch]
        );
        assert!(
            rv[ch] > 0.0,
            "{what}: the data must not collapse to a constant"
        );
    }
    assert!(y.iter().all(|v| v.is_finite()));
}

#[test]
fn f32_statistics_meet_the_accuracy_bar() {
    for dims in [
        Dims::new(65536, 3, 1),
        Dims::new(64, 4, 3136),
        Dims::new(1000, 64, 1),
    ] {
        accuracy_bar(1e6, 1.0, dims); // 1e6 + N(0, 1)
        accuracy_bar(1e8, 64.0, dims); // 1e8 + small noise (f32 spacing there is 8)
        accuracy_bar(1e30, 1e28, dims); // near 1e30: squares 1e60 stay finite in f64
        accuracy_bar(1e-30, 1e-31, dims); // near 1e-30: squares 1e-62 stay normal in f64
        accuracy_bar(0.0, 1.0, dims);
    }
}

#[test]
fn constant_channels_give_exactly_beta() {
    for dims in [
        Dims::new(1000, 3, 1),
        Dims::new(8, 2, 500),
        Dims::new(70000, 2, 1),
    ] {
        for value in [0.0f64, 1.0, -3.25, 1e8, 123456.789, 1e30] {
            let gamma = vec![1.7; dims.channels];
            let beta: Vec<f64> = (0..dims.channels).map(|c| 0.37 - c as f64).collect();
            let affine = Some(Affine {
                gamma: &gamma,
                beta: &beta,
            });
            let c = dims.channels;
            let x32 = vec![value as f32; dims.len()];
            let mut y32 = vec![0.0f32; dims.len()];
            let (mut m, mut v) = (vec![0.0; c], vec![0.0; c]);
            forward_train(&x32, dims, affine, 1e-5, &mut y32, &mut m, &mut v).unwrap();
            assert!(v.iter().all(|&v| v == 0.0), "{value}: variance {v:?}");
            for (i, y) in y32.iter().enumerate() {
                let ch = (i / dims.inner) % c;
                assert_eq!(*y, beta[ch] as f32, "{value} f32 at {i}");
            }
            let x64 = vec![value; dims.len()];
            let mut y64 = vec![0.0f64; dims.len()];
            forward_train(&x64, dims, affine, 1e-5, &mut y64, &mut m, &mut v).unwrap();
            for (i, y) in y64.iter().enumerate() {
                assert_eq!(*y, beta[(i / dims.inner) % c], "{value} f64 at {i}");
            }
        }
    }
}

#[test]
fn non_finite_values_poison_only_their_channel() {
    for dims in [Dims::new(100, 3, 1), Dims::new(2, 3, 100)] {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut x = vec![1.0f64; dims.len()];
            for (i, v) in x.iter_mut().enumerate() {
                *v += (i % 7) as f64;
            }
            // One bad value in channel 1, not at the channel's first position.
            let pos = dims.inner * dims.channels + dims.inner; // (o = 1, c = 1)
            x[pos] = bad;
            let (mut m, mut v) = (vec![0.0; 3], vec![0.0; 3]);
            moments(&x, dims, &mut m, &mut v).unwrap();
            assert!(m[0].is_finite() && v[0].is_finite() && m[2].is_finite() && v[2].is_finite());
            assert!(
                !(m[1].is_finite() && v[1].is_finite()),
                "{bad}: channel 1 must not look finite: {} {}",
                m[1],
                v[1]
            );
        }
    }
}

#[test]
fn dx_over_dy_has_the_bits_of_a_separate_dx_with_non_finite_values_too() {
    for dims in [Dims::new(100, 3, 1), Dims::new(2, 3, 100)] {
        let mut k = case::<f64>(77, dims, 0.0, 1.0);
        k.x[dims.inner * dims.channels + dims.inner] = f64::NAN; // channel 1
        k.dy[3] = f64::INFINITY;
        k.dy[dims.len() - 1] = -0.0;
        let mean = [0.1, f64::NAN, -0.2];
        let invstd = [1.5, 2.0, 0.0];
        for (label, exec, pool) in executions() {
            for source in [StatisticsSource::Batch, StatisticsSource::Fixed] {
                let saved = Saved {
                    mean: &mean,
                    invstd: &invstd,
                    source,
                };
                let gamma = Some(k.gamma.as_slice());
                let ((dx1, g1, b1), (dx2, g2, b2)) = run(&pool, || {
                    let (mut g1, mut b1) = (vec![0.0; 3], vec![0.0; 3]);
                    let dx1 =
                        backward_vec_with(&exec, &k.x, &k.dy, dims, saved, gamma, &mut g1, &mut b1)
                            .unwrap();
                    let (mut dx2, mut g2, mut b2) = (k.dy.clone(), vec![0.0; 3], vec![0.0; 3]);
                    backward_in_place_with(
                        &exec, &k.x, &mut dx2, dims, saved, gamma, &mut g2, &mut b2,
                    )
                    .unwrap();
                    ((dx1, g1, b1), (dx2, g2, b2))
                });
                let what = format!("{label} {dims:?} {source:?}");
                assert!(
                    dx1.iter().any(|v| !v.is_finite()),
                    "{what}: the data must reach dx"
                );
                assert_eq!(bits(&dx1), bits(&dx2), "{what}: dx");
                assert_eq!(
                    (bits(&g1), bits(&b1)),
                    (bits(&g2), bits(&b2)),
                    "{what}: sums"
                );
            }
        }
    }
}

#[test]
fn empty_and_mismatched_inputs_are_errors_in_every_execution() {
    for (_, exec, pool) in executions() {
        run(&pool, || {
            let empty = Dims::new(0, 3, 4);
            let (mut m, mut v) = (vec![0.0; 3], vec![0.0; 3]);
            assert_eq!(
                moments_with(&exec, &[0.0f32; 0], empty, &mut m, &mut v),
                Err(KernelError::Empty)
            );
            assert_eq!(
                forward_eval_with(&exec, &[0.0f32; 0], empty, &m, &v, None, 1e-5, &mut []),
                Ok(())
            );
            let dims = Dims::new(4, 3, 2);
            let x = vec![0.5f32; 24];
            let err = moments_with(&exec, &x[..23], dims, &mut m, &mut v).unwrap_err();
            assert!(matches!(err, KernelError::Length { buffer: "x", .. }));
            let mut y = vec![0.0f32; 23];
            let err = forward_train_with(&exec, &x, dims, None, 1e-5, &mut y, &mut m, &mut v)
                .unwrap_err();
            assert!(matches!(err, KernelError::Length { buffer: "y", .. }));
        });
    }
}

/// The allocating entry points (`*_vec_with`, which write into fresh memory that is neither
/// zero-filled first nor, for 4 MiB and more, backed by ordinary pages) give the same bits as
/// the ones writing into a caller's zeroed buffer, for every shape, walk and execution.
fn allocating_entry_points_match<T: Element>() {
    let mut shapes = awkward_dims();
    // Several tasks per call in both walks, 4 MiB of f32 (8 of f64).
    shapes.push(Dims::new(16, 8, 8192));
    shapes.push(Dims::new(1 << 17, 8, 1));
    for (i, dims) in shapes.into_iter().enumerate() {
        let k = case::<T>(500 + i as u64, dims, 3.0, 2.0);
        let (c, len) = (dims.channels, dims.len());
        let affine = Some(Affine {
            gamma: &k.gamma,
            beta: &k.beta,
        });
        for (label, exec, pool) in executions() {
            run(&pool, || {
                let zero = T::from_f64(0.0);
                let (mut m1, mut v1, mut y1) = (vec![0.0; c], vec![0.0; c], vec![zero; len]);
                forward_train_with(&exec, &k.x, dims, affine, 1e-5, &mut y1, &mut m1, &mut v1)
                    .unwrap();
                let (mut m2, mut v2) = (vec![0.0; c], vec![0.0; c]);
                let y2 = forward_train_vec_with(&exec, &k.x, dims, affine, 1e-5, &mut m2, &mut v2)
                    .unwrap();
                assert_eq!(bits(&y1), bits(&y2), "{label} {dims:?}: training y");
                assert_eq!((bits(&m1), bits(&v1)), (bits(&m2), bits(&v2)), "{label}");

                let (rm, rv) = (&k.running_mean, &k.running_var);
                let mut e1 = vec![zero; len];
                forward_eval_with(&exec, &k.x, dims, rm, rv, affine, 1e-5, &mut e1).unwrap();
                let e2 = forward_eval_vec_with(&exec, &k.x, dims, rm, rv, affine, 1e-5).unwrap();
                assert_eq!(bits(&e1), bits(&e2), "{label} {dims:?}: evaluation y");

                let invstd: Vec<f64> = v1.iter().map(|&v| inverse_std(v, 1e-5)).collect();
                for source in [StatisticsSource::Batch, StatisticsSource::Fixed] {
                    let saved = Saved {
                        mean: &m1,
                        invstd: &invstd,
                        source,
                    };
                    let gamma = Some(k.gamma.as_slice());
                    let (mut dx1, mut dg1, mut db1) = (vec![zero; len], vec![0.0; c], vec![0.0; c]);
                    let grads = Gradients {
                        dx: &mut dx1,
                        dgamma: &mut dg1,
                        dbeta: &mut db1,
                    };
                    backward_with(&exec, &k.x, &k.dy, dims, saved, gamma, grads).unwrap();
                    let (mut dg2, mut db2) = (vec![0.0; c], vec![0.0; c]);
                    let dx2 = backward_vec_with(
                        &exec, &k.x, &k.dy, dims, saved, gamma, &mut dg2, &mut db2,
                    )
                    .unwrap();
                    assert_eq!(bits(&dx1), bits(&dx2), "{label} {dims:?} {source:?}: dx");
                    assert_eq!((bits(&dg1), bits(&db1)), (bits(&dg2), bits(&db2)));
                    // Written over dy: the same bits again.
                    let (mut dx3, mut dg3, mut db3) = (k.dy.clone(), vec![0.0; c], vec![0.0; c]);
                    backward_in_place_with(
                        &exec, &k.x, &mut dx3, dims, saved, gamma, &mut dg3, &mut db3,
                    )
                    .unwrap();
                    assert_eq!(
                        bits(&dx1),
                        bits(&dx3),
                        "{label} {dims:?} {source:?}: dx over dy"
                    );
                    assert_eq!((bits(&dg1), bits(&db1)), (bits(&dg3), bits(&db3)));
                }
            });
        }
    }
}

#[test]
fn allocating_entry_points_match_the_buffer_ones_f32() {
    allocating_entry_points_match::<f32>();
}

#[test]
fn allocating_entry_points_match_the_buffer_ones_f64_and_half() {
    allocating_entry_points_match::<f64>();
    allocating_entry_points_match::<bf16>();
}

#[test]
fn allocating_entry_points_match_with_and_without_huge_pages_on_a_33_mb_output() {
    // Above the 32 MiB at which new outputs are advised for huge pages.
    let dims = Dims::new(64, 8, 16_400);
    let k = case::<f32>(900, dims, 3.0, 2.0);
    let (c, len) = (dims.channels, dims.len());
    let (mut m1, mut v1, mut y1) = (vec![0.0; c], vec![0.0; c], vec![0.0f32; len]);
    let exec = Execution::default();
    forward_train_with(&exec, &k.x, dims, None, 1e-5, &mut y1, &mut m1, &mut v1).unwrap();
    let invstd: Vec<f64> = v1.iter().map(|&v| inverse_std(v, 1e-5)).collect();
    let saved = Saved {
        mean: &m1,
        invstd: &invstd,
        source: StatisticsSource::Batch,
    };
    let (mut dx1, mut dg1, mut db1) = (vec![0.0f32; len], vec![0.0; c], vec![0.0; c]);
    let grads = Gradients {
        dx: &mut dx1,
        dgamma: &mut dg1,
        dbeta: &mut db1,
    };
    backward_with(&exec, &k.x, &k.dy, dims, saved, None, grads).unwrap();
    for huge_pages in [true, false] {
        let exec = exec.with_huge_pages(huge_pages);
        let (mut m2, mut v2) = (vec![0.0; c], vec![0.0; c]);
        let y2 = forward_train_vec_with(&exec, &k.x, dims, None, 1e-5, &mut m2, &mut v2).unwrap();
        assert!(
            bits(&y1) == bits(&y2),
            "training y, huge pages {huge_pages}"
        );
        let e2 = forward_eval_vec_with(&exec, &k.x, dims, &m1, &v1, None, 1e-5).unwrap();
        let mut e1 = vec![0.0f32; len];
        forward_eval_with(&exec, &k.x, dims, &m1, &v1, None, 1e-5, &mut e1).unwrap();
        assert!(
            bits(&e1) == bits(&e2),
            "evaluation y, huge pages {huge_pages}"
        );
        let (mut dg2, mut db2) = (vec![0.0; c], vec![0.0; c]);
        let dx2 =
            backward_vec_with(&exec, &k.x, &k.dy, dims, saved, None, &mut dg2, &mut db2).unwrap();
        assert!(bits(&dx1) == bits(&dx2), "dx, huge pages {huge_pages}");
    }
}

#[test]
fn allocating_entry_points_refuse_what_the_buffer_ones_refuse() {
    let dims = Dims::new(4, 3, 2);
    let x = vec![0.5f32; 24];
    let exec = Execution::default();
    let (mut m, mut v) = (vec![0.0; 3], vec![0.0; 3]);
    let err = forward_train_vec_with(&exec, &x[..23], dims, None, 1e-5, &mut m, &mut v);
    assert!(matches!(err, Err(KernelError::Length { buffer: "x", .. })));
    // Several faults at once: the same one is reported as by the buffer form.
    let mut y = vec![0.0f32; 24];
    for eps in [f64::NAN, 1e-5] {
        let a = forward_train_vec_with(&exec, &x[..23], dims, None, eps, &mut m, &mut v[..2]);
        let b = forward_train_with(
            &exec,
            &x[..23],
            dims,
            None,
            eps,
            &mut y,
            &mut m,
            &mut v[..2],
        );
        // Compared as text: an `Eps` error holds a NaN, which is not equal to itself.
        assert_eq!(format!("{:?}", a.map(drop)), format!("{b:?}"));
    }
    let err = forward_train_vec_with(
        &exec,
        &[0.0f32; 0],
        Dims::new(0, 3, 4),
        None,
        1e-5,
        &mut m,
        &mut v,
    );
    assert_eq!(err, Err(KernelError::Empty));
    let err = forward_eval_vec_with(&exec, &x, dims, &m[..2], &v, None, 1e-5);
    assert!(matches!(
        err,
        Err(KernelError::Length { buffer: "mean", .. })
    ));
    let saved = Saved {
        mean: &m,
        invstd: &v,
        source: StatisticsSource::Batch,
    };
    let (mut dg, mut db) = (vec![0.0; 3], vec![0.0; 3]);
    let err = backward_vec_with(&exec, &x, &x[..20], dims, saved, None, &mut dg, &mut db);
    assert!(matches!(err, Err(KernelError::Length { buffer: "dy", .. })));
    // Written over dy: the same checks, and a refused call leaves dy as it was.
    let mut dy: Vec<f32> = (0..20).map(|i| i as f32).collect();
    let err = backward_in_place_with(&exec, &x, &mut dy, dims, saved, None, &mut dg, &mut db);
    assert!(matches!(err, Err(KernelError::Length { buffer: "dy", .. })));
    let mut dy: Vec<f32> = (0..24).map(|i| i as f32).collect();
    let err = backward_in_place_with(&exec, &x, &mut dy, dims, saved, None, &mut dg[..2], &mut db);
    assert!(matches!(
        err,
        Err(KernelError::Length {
            buffer: "dgamma",
            ..
        })
    ));
    assert_eq!(dy, (0..24).map(|i| i as f32).collect::<Vec<_>>());
    assert_eq!(
        forward_eval_vec_with(&exec, &[0.0f32; 0], Dims::new(0, 3, 4), &m, &v, None, 1e-5),
        Ok(vec![])
    );
}
