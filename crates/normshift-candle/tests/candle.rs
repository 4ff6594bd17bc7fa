//! The candle layer: outputs and gradients against a composite of candle ops and finite
//! differences, running statistics against the core layer, switches, bad input, state files,
//! recalibration.

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{Module, ModuleT};
use normshift::{BatchNormConfig, Layout, Mode};
use normshift_candle::{recalibrate, BatchNorm, PYTORCH_NAMES};

const DEV: Device = Device::Cpu;

/// Deterministic values, not symmetric, different per element.
fn values(n: usize, seed: u64, offset: f64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            offset + (s >> 11) as f64 / (1u64 << 53) as f64 * 4.0 - 2.0
        })
        .collect()
}

fn vec(t: &Tensor) -> Vec<f64> {
    t.to_dtype(DType::F64)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

fn assert_close(what: &str, a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol * (1.0 + y.abs()),
            "{what}[{i}]: {x} vs {y}"
        );
    }
}

/// Batch norm from candle tensor ops on a channels-first tensor: the independent reference.
fn composite(x: &Tensor, w: &Tensor, b: &Tensor, eps: f64) -> Tensor {
    let c = x.dim(1).unwrap();
    // (N, C, S) → (C, N·S), statistics over dim 1.
    let xt = x.transpose(0, 1).unwrap().flatten_from(1).unwrap();
    let mean = xt.mean_keepdim(1).unwrap();
    let centered = xt.broadcast_sub(&mean).unwrap();
    let var = centered.sqr().unwrap().mean_keepdim(1).unwrap();
    let xhat = centered
        .broadcast_div(&(var + eps).unwrap().sqrt().unwrap())
        .unwrap();
    let y = xhat
        .broadcast_mul(&w.reshape((c, 1)).unwrap())
        .unwrap()
        .broadcast_add(&b.reshape((c, 1)).unwrap())
        .unwrap();
    let mut dims = x.dims().to_vec();
    dims.swap(0, 1);
    y.reshape(dims).unwrap().transpose(0, 1).unwrap()
}

/// Our layer and the composite on the same data: outputs and gradients of `Σ y·dy`.
fn compare_with_composite(shape: &[usize], channels_last: bool) {
    let c = if channels_last {
        shape[shape.len() - 1]
    } else {
        shape[1]
    };
    let n: usize = shape.iter().product();
    let x_data = values(n, 1, 3.0);
    let dy_data = values(n, 2, 0.0);
    let gamma = values(c, 3, 1.0);
    let beta = values(c, 4, 0.0);

    let bn = BatchNorm::new(BatchNormConfig::new(c), DType::F64, &DEV).unwrap();
    let bn = if channels_last {
        bn.channels_last()
    } else {
        bn
    };
    bn.weight()
        .unwrap()
        .set(&Tensor::new(gamma.as_slice(), &DEV).unwrap())
        .unwrap();
    bn.bias()
        .unwrap()
        .set(&Tensor::new(beta.as_slice(), &DEV).unwrap())
        .unwrap();
    let x = Var::from_tensor(&Tensor::from_vec(x_data.clone(), shape, &DEV).unwrap()).unwrap();
    let dy = Tensor::from_vec(dy_data, shape, &DEV).unwrap();
    let y = bn.forward_t(x.as_tensor(), true).unwrap();
    let grads = (&y * &dy).unwrap().sum_all().unwrap().backward().unwrap();
    let dgamma = vec(grads.get(bn.weight().unwrap().as_tensor()).expect("dgamma"));
    let dbeta = vec(grads.get(bn.bias().unwrap().as_tensor()).expect("dbeta"));

    // The composite works channels-first: permute a channels-last tensor to it.
    let xr = Var::from_tensor(&Tensor::from_vec(x_data, shape, &DEV).unwrap()).unwrap();
    let wr = Var::new(gamma.as_slice(), &DEV).unwrap();
    let br = Var::new(beta.as_slice(), &DEV).unwrap();
    let to_cf = |t: &Tensor| -> Tensor {
        if channels_last {
            let r = t.rank();
            let mut order = vec![0, r - 1];
            order.extend(1..r - 1);
            t.permute(order).unwrap()
        } else {
            t.clone()
        }
    };
    let yr = composite(&to_cf(xr.as_tensor()), wr.as_tensor(), br.as_tensor(), 1e-5);
    let gr = (&yr * &to_cf(&dy))
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    // Compare in channels-first order.
    let ours_y_cf = vec(&to_cf(&y));
    let ours_dx_cf = vec(&to_cf(grads.get(x.as_tensor()).unwrap()));
    let what = format!("{shape:?} channels_last={channels_last}");
    assert_close(&format!("{what} y"), &ours_y_cf, &vec(&yr), 1e-12);
    let dx_ref = to_cf(gr.get(xr.as_tensor()).unwrap());
    assert_close(&format!("{what} dx"), &ours_dx_cf, &vec(&dx_ref), 1e-10);
    assert_close(
        &format!("{what} dgamma"),
        &dgamma,
        &vec(gr.get(wr.as_tensor()).unwrap()),
        1e-10,
    );
    assert_close(
        &format!("{what} dbeta"),
        &dbeta,
        &vec(gr.get(br.as_tensor()).unwrap()),
        1e-10,
    );
}

#[test]
fn outputs_and_every_gradient_match_a_composite_of_candle_ops() {
    compare_with_composite(&[6, 3], false);
    compare_with_composite(&[4, 3, 5], false);
    compare_with_composite(&[2, 3, 4, 5], false);
    compare_with_composite(&[2, 2, 3, 2, 3], false);
    compare_with_composite(&[2, 4, 5, 3], true);
    compare_with_composite(&[3, 7, 2], true);
}

#[test]
fn gradients_match_central_finite_differences() {
    let shape = [3usize, 2, 4];
    let n: usize = shape.iter().product();
    let x0 = values(n, 5, -1.0);
    let dy = Tensor::from_vec(values(n, 6, 0.0), &shape, &DEV).unwrap();
    let bn = BatchNorm::new(BatchNormConfig::new(2), DType::F64, &DEV).unwrap();
    bn.weight()
        .unwrap()
        .set(&Tensor::new(&[1.5f64, -0.5], &DEV).unwrap())
        .unwrap();
    bn.bias()
        .unwrap()
        .set(&Tensor::new(&[0.25f64, 2.0], &DEV).unwrap())
        .unwrap();
    let loss = |x: &[f64]| -> f64 {
        let x = Tensor::from_vec(x.to_vec(), &shape, &DEV).unwrap();
        let y = bn.forward_t(&x, true).unwrap();
        (y * &dy)
            .unwrap()
            .sum_all()
            .unwrap()
            .to_scalar::<f64>()
            .unwrap()
    };
    let xv = Var::from_tensor(&Tensor::from_vec(x0.clone(), &shape, &DEV).unwrap()).unwrap();
    let y = bn.forward_t(xv.as_tensor(), true).unwrap();
    let grads = (y * &dy).unwrap().sum_all().unwrap().backward().unwrap();
    let dx = vec(grads.get(xv.as_tensor()).unwrap());
    let h = 1e-6;
    for i in 0..n {
        let (mut up, mut down) = (x0.clone(), x0.clone());
        up[i] += h;
        down[i] -= h;
        let fd = (loss(&up) - loss(&down)) / (2.0 * h);
        assert!(
            (dx[i] - fd).abs() <= 1e-6 * (1.0 + fd.abs()),
            "dx[{i}]: {} vs {fd}",
            dx[i]
        );
    }
    // dgamma by finite differences on the weight.
    let dgamma = vec(grads.get(bn.weight().unwrap().as_tensor()).unwrap());
    let base = [1.5f64, -0.5];
    for k in 0..2 {
        let f = |delta: f64| {
            let mut g = base;
            g[k] += delta;
            bn.weight()
                .unwrap()
                .set(&Tensor::new(&g, &DEV).unwrap())
                .unwrap();
            loss(&x0)
        };
        let fd = (f(h) - f(-h)) / (2.0 * h);
        assert!(
            (dgamma[k] - fd).abs() <= 1e-6 * (1.0 + fd.abs()),
            "dgamma[{k}]"
        );
    }
}

/// The layer's backward writes `dx` over the gradient candle hands it. These graphs send the
/// gradient that reaches the layer to other tensors too (a `Var` added to the output, the
/// output used twice, two layers on one input, the output as the root, a reshaped output, a
/// broadcast gradient): every gradient must equal the composite's, so nothing else saw the
/// overwrite.
#[test]
fn gradients_written_over_dy_leave_every_other_gradient_intact() {
    let shape = [4usize, 3, 5];
    let n: usize = shape.iter().product();
    let w = Tensor::from_vec(values(n, 21, 0.0), &shape, &DEV).unwrap();
    let (gamma, beta) = (values(3, 22, 1.0), values(3, 23, 0.0));
    for graph in 0..6 {
        // One run of the graph with the given layers; returns every leaf's gradient.
        let run = |ours: bool| -> Vec<Vec<f64>> {
            let x = Var::from_tensor(&Tensor::from_vec(values(n, 24, 2.0), &shape, &DEV).unwrap())
                .unwrap();
            let v = Var::from_tensor(&Tensor::from_vec(values(n, 25, 0.0), &shape, &DEV).unwrap())
                .unwrap();
            let params: Vec<(Var, Var)> = (0..2)
                .map(|_| {
                    (
                        Var::new(gamma.as_slice(), &DEV).unwrap(),
                        Var::new(beta.as_slice(), &DEV).unwrap(),
                    )
                })
                .collect();
            let layers: Vec<BatchNorm> = params
                .iter()
                .map(|(g, b)| {
                    let bn = BatchNorm::new(BatchNormConfig::new(3), DType::F64, &DEV).unwrap();
                    bn.weight().unwrap().set(g.as_tensor()).unwrap();
                    bn.bias().unwrap().set(b.as_tensor()).unwrap();
                    bn
                })
                .collect();
            let layer = |i: usize, t: &Tensor| -> Tensor {
                if ours {
                    layers[i].forward_t(t, true).unwrap()
                } else {
                    composite(t, params[i].0.as_tensor(), params[i].1.as_tensor(), 1e-5)
                }
            };
            let xt = x.as_tensor();
            let y = layer(0, xt);
            let root = match graph {
                0 => y.clone(), // seeded with ones
                1 => ((&y + v.as_tensor()).unwrap() * &w)
                    .unwrap()
                    .sum_all()
                    .unwrap(),
                2 => (&y + v.as_tensor()).unwrap().sum_all().unwrap(), // broadcast gradient
                3 => ((&y * &w).unwrap().sum_all().unwrap() + y.sqr().unwrap().sum_all().unwrap())
                    .unwrap(),
                4 => (((&y + layer(1, xt)).unwrap() * &w).unwrap() + (xt * v.as_tensor()).unwrap())
                    .unwrap()
                    .sum_all()
                    .unwrap(),
                _ => (y.reshape((4, 15)).unwrap() + v.as_tensor().reshape((4, 15)).unwrap())
                    .unwrap()
                    .sqr()
                    .unwrap()
                    .sum_all()
                    .unwrap(),
            };
            let grads = root.backward().unwrap();
            let (w0, b0) = if ours {
                (layers[0].weight().unwrap(), layers[0].bias().unwrap())
            } else {
                (&params[0].0, &params[0].1)
            };
            let mut leaves = vec![xt.clone(), v.as_tensor().clone(), w0.as_tensor().clone()];
            leaves.push(b0.as_tensor().clone());
            leaves
                .iter()
                .map(|t| grads.get(t).map(vec).unwrap_or_default())
                .collect()
        };
        let (ours, reference) = (run(true), run(false));
        for (i, name) in ["x", "v", "gamma", "beta"].iter().enumerate() {
            assert_close(
                &format!("graph {graph}: gradient of {name}"),
                &ours[i],
                &reference[i],
                1e-9,
            );
        }
    }
}

#[test]
fn evaluation_mode_gradients_treat_running_statistics_as_constants() {
    let shape = [4usize, 3];
    let x_data = values(12, 7, 0.5);
    let bn = BatchNorm::new(BatchNormConfig::new(3), DType::F64, &DEV).unwrap();
    bn.set_running_stats(normshift::RunningStats {
        running_mean: vec![0.1, -0.2, 0.3],
        running_var: vec![2.0, 0.5, 1.0],
        num_batches_tracked: 3,
    })
    .unwrap();
    let x = Var::from_tensor(&Tensor::from_vec(x_data, &shape, &DEV).unwrap()).unwrap();
    let y = bn.forward_t(x.as_tensor(), false).unwrap();
    let grads = y.sum_all().unwrap().backward().unwrap();
    let dx = vec(grads.get(x.as_tensor()).unwrap());
    for (i, d) in dx.iter().enumerate() {
        let var = [2.0, 0.5, 1.0][i % 3];
        assert!((d - 1.0 / (var + 1e-5f64).sqrt()).abs() < 1e-12);
    }
    assert_eq!(
        bn.running_stats().unwrap().num_batches_tracked,
        3,
        "eval updates nothing"
    );
}

#[test]
fn running_statistics_follow_the_core_layer_exactly() {
    let shape = [5usize, 2, 3];
    let bn = BatchNorm::new(BatchNormConfig::new(2), DType::F64, &DEV).unwrap();
    let mut core = normshift::BatchNorm::new(BatchNormConfig::new(2)).unwrap();
    for step in 0..4 {
        let data = values(30, 10 + step, step as f64);
        let x = Tensor::from_vec(data.clone(), &shape, &DEV).unwrap();
        bn.forward_t(&x, true).unwrap();
        core.forward(&data, &shape, Layout::ChannelsFirst).unwrap();
    }
    assert_eq!(bn.running_stats().as_ref(), core.running_stats());
    assert_eq!(bn.running_stats().unwrap().num_batches_tracked, 4);
}

#[test]
fn every_execution_setting_gives_the_same_outputs_and_gradients() {
    // (N=4, C=3, L=50_000): 600,000 values, above the size at which kernels split into tasks.
    let data = values(600_000, 5, 1.0);
    let run = |exec: Option<normshift::Execution>| {
        let bn = BatchNorm::new(BatchNormConfig::new(3), DType::F32, &DEV).unwrap();
        if let Some(exec) = exec {
            bn.set_execution(exec);
        }
        let x = Var::from_vec(
            data.iter().map(|&v| v as f32).collect::<Vec<_>>(),
            (4, 3, 50_000),
            &DEV,
        )
        .unwrap();
        let y = bn.forward_t(x.as_tensor(), true).unwrap();
        let grads = (&y * &y).unwrap().sum_all().unwrap().backward().unwrap();
        let dx = grads.get(x.as_tensor()).unwrap();
        let dw = grads.get(bn.weight().unwrap().as_tensor()).unwrap();
        (vec(&y), vec(dx), vec(dw))
    };
    let default = run(None);
    let sequential = normshift::Execution::sequential().with_simd(normshift::SimdLevel::Scalar);
    assert_eq!(run(Some(sequential.with_huge_pages(false))), default);
    assert_eq!(
        run(Some(normshift::Execution::default().with_huge_pages(true))),
        default
    );
}

#[test]
fn non_contiguous_inputs_give_the_same_result() {
    let data = values(24, 11, 2.0);
    // A (C=3, N=8) tensor transposed to (N=8, C=3): a strided view.
    let t = Tensor::from_vec(data, (3, 8), &DEV).unwrap();
    let view = t.t().unwrap();
    assert!(!view.is_contiguous());
    let a = BatchNorm::new(BatchNormConfig::new(3), DType::F64, &DEV).unwrap();
    let b = BatchNorm::new(BatchNormConfig::new(3), DType::F64, &DEV).unwrap();
    let ya = vec(&a.forward_t(&view, true).unwrap());
    let yb = vec(&b.forward_t(&view.contiguous().unwrap(), true).unwrap());
    assert_eq!(ya, yb);
}

#[test]
fn switches_freeze_and_bad_input_leave_the_state_alone() {
    let bn = BatchNorm::new(BatchNormConfig::new(2), DType::F32, &DEV).unwrap();
    let x = Tensor::from_vec(values(8, 12, 1.0), (4, 2), &DEV)
        .unwrap()
        .to_dtype(DType::F32)
        .unwrap();
    let before = bn.running_stats();
    // Batch statistics without updating.
    bn.set_mode(Some(Mode {
        batch_statistics: true,
        update_running_stats: false,
    }));
    bn.forward_t(&x, false).unwrap();
    assert_eq!(bn.running_stats(), before);
    bn.set_mode(None);
    bn.freeze();
    bn.forward_t(&x, true).unwrap();
    assert_eq!(bn.running_stats(), before);
    bn.unfreeze();
    // One value per channel in training, a wrong channel count, a NaN batch: errors.
    let single = Tensor::new(&[[1.0f32, 2.0]], &DEV).unwrap();
    assert!(bn.forward_t(&single, true).is_err());
    let wrong = Tensor::zeros((4, 3), DType::F32, &DEV).unwrap();
    let err = bn.forward_t(&wrong, true).unwrap_err().to_string();
    assert!(err.contains("num_features"), "{err}");
    let nan = Tensor::new(&[[1.0f32, f32::NAN], [2.0, 3.0]], &DEV).unwrap();
    let err = bn.forward_t(&nan, true).unwrap_err().to_string();
    assert!(err.contains("channel 1"), "{err}");
    assert_eq!(bn.running_stats(), before);
    bn.forward_t(&x, true).unwrap();
    assert_ne!(bn.running_stats(), before, "a good batch does update");
}

#[test]
fn state_round_trips_under_pytorch_names() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bn.safetensors");
    let bn = BatchNorm::new(BatchNormConfig::new(3), DType::F32, &DEV).unwrap();
    bn.weight()
        .unwrap()
        .set(&Tensor::new(&[0.5f32, 1.5, -1.0], &DEV).unwrap())
        .unwrap();
    for step in 0..3 {
        let x = Tensor::from_vec(values(12, 20 + step, 1.0), (4, 3), &DEV)
            .unwrap()
            .to_dtype(DType::F32)
            .unwrap();
        bn.forward_t(&x, true).unwrap();
    }
    bn.save_safetensors(&path, "layer.1.").unwrap();
    let raw = candle_core::safetensors::load(&path, &DEV).unwrap();
    let mut names: Vec<&str> = raw
        .keys()
        .map(|k| k.strip_prefix("layer.1.").unwrap())
        .collect();
    names.sort();
    let mut expected = PYTORCH_NAMES.to_vec();
    expected.sort();
    assert_eq!(names, expected);
    assert_eq!(raw["layer.1.running_var"].dtype(), DType::F32);
    assert_eq!(raw["layer.1.num_batches_tracked"].dtype(), DType::I64);
    assert_eq!(raw["layer.1.num_batches_tracked"].rank(), 0);

    let loaded = BatchNorm::new(BatchNormConfig::new(3), DType::F32, &DEV).unwrap();
    loaded.load_safetensors(&path, "layer.1.").unwrap();
    let (a, b) = (bn.running_stats().unwrap(), loaded.running_stats().unwrap());
    assert_eq!(a.num_batches_tracked, 3);
    assert_eq!(b.num_batches_tracked, 3);
    // Stored as f32, as PyTorch stores a float32 module's buffers.
    assert_close("running_mean", &b.running_mean, &a.running_mean, 1e-6);
    assert_close("running_var", &b.running_var, &a.running_var, 1e-6);
    assert_eq!(vec(loaded.weight().unwrap().as_tensor()), [0.5, 1.5, -1.0]);

    // A file for another width, or without a key, is refused and changes nothing.
    let other = BatchNorm::new(BatchNormConfig::new(4), DType::F32, &DEV).unwrap();
    let err = other
        .load_safetensors(&path, "layer.1.")
        .unwrap_err()
        .to_string();
    assert!(err.contains("num_features = 4"), "{err}");
    let err = loaded
        .load_safetensors(&path, "nope.")
        .unwrap_err()
        .to_string();
    assert!(err.contains("nope.weight"), "{err}");
    assert_eq!(loaded.running_stats().unwrap().num_batches_tracked, 3);
}

/// A state with these weight, bias and `num_batches_tracked` (running statistics valid).
fn state(weight: &[f32], bias: &[f32], count: Tensor) -> std::collections::HashMap<String, Tensor> {
    let t = |v: &[f32]| Tensor::new(v, &DEV).unwrap();
    [
        ("weight", t(weight)),
        ("bias", t(bias)),
        ("running_mean", t(&[0.5, -0.5, 1.0])),
        ("running_var", t(&[2.0, 3.0, 4.0])),
        ("num_batches_tracked", count),
    ]
    .into_iter()
    .map(|(k, v)| (format!("p.{k}"), v))
    .collect()
}

#[test]
fn states_with_non_finite_parameters_or_counts_that_are_not_integers_are_refused() {
    let good = [1.0f32, 2.0, 3.0];
    let count = |v: f64| Tensor::new(v, &DEV).unwrap();
    let i64_count = Tensor::new(7i64, &DEV).unwrap();
    let refused = [
        (
            state(&[1.0, f32::NAN, 1.0], &good, i64_count.clone()),
            "'p.weight'[1] = NaN",
        ),
        (
            state(&good, &[1.0, f32::INFINITY, 1.0], i64_count.clone()),
            "'p.bias'[1] = inf",
        ),
        (state(&good, &good, count(3.9)), "is 3.9"),
        (state(&good, &good, count(f64::NAN)), "is NaN"),
        (state(&good, &good, count(-1.0)), "is -1"),
    ];
    for (dtype, layer_dtype) in [(DType::F32, "f32"), (DType::F64, "f64")] {
        for (s, want) in &refused {
            let bn = BatchNorm::new(BatchNormConfig::new(3), dtype, &DEV).unwrap();
            let before = (vec(bn.weight().unwrap().as_tensor()), bn.running_stats());
            let err = bn.load_state_dict(s, "p.").unwrap_err().to_string();
            assert!(err.contains(want), "{layer_dtype}: {err}");
            assert_eq!(
                (vec(bn.weight().unwrap().as_tensor()), bn.running_stats()),
                before
            );
        }
    }
    // A weight that overflows the layer's dtype (f16): refused, nothing changed.
    let bn = BatchNorm::new(BatchNormConfig::new(3), DType::F16, &DEV).unwrap();
    let err = bn
        .load_state_dict(&state(&[1e6, 1.0, 1.0], &good, i64_count.clone()), "p.")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("'p.weight'[0] = 1e6 does not fit in F16"),
        "{err}"
    );
    assert_eq!(vec(bn.weight().unwrap().as_tensor()), [1.0; 3]);
    // So is a running variance it could not save.
    let mut big_var = state(&good, &good, i64_count.clone());
    big_var.insert(
        "p.running_var".into(),
        Tensor::new(&[1.0f32, 137_253.77, 1.0], &DEV).unwrap(),
    );
    let err = bn.load_state_dict(&big_var, "p.").unwrap_err().to_string();
    assert!(
        err.contains("'p.running_var'[1] = 1.37253765625e5 does not fit in F16"),
        "{err}"
    );
    assert_eq!(bn.running_stats().unwrap().running_var, [1.0; 3]);
    // A float count of 2^64 is one past the largest count.
    let bn = BatchNorm::new(BatchNormConfig::new(3), DType::F32, &DEV).unwrap();
    let err = bn
        .load_state_dict(
            &state(&good, &good, count(18_446_744_073_709_551_616.0)),
            "p.",
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("must be an integer >= 0"), "{err}");
    // An integral float count loads (a converted file), as does PyTorch's i64.
    let bn = BatchNorm::new(BatchNormConfig::new(3), DType::F32, &DEV).unwrap();
    bn.load_state_dict(&state(&good, &good, count(3.0)), "p.")
        .unwrap();
    assert_eq!(bn.running_stats().unwrap().num_batches_tracked, 3);
    bn.load_state_dict(&state(&good, &good, i64_count), "p.")
        .unwrap();
    assert_eq!(bn.running_stats().unwrap().num_batches_tracked, 7);
    assert_eq!(vec(bn.bias().unwrap().as_tensor()), good.map(f64::from));
}

#[test]
fn a_layer_without_affine_parameters_saves_in_its_dtype_and_old_pytorch_files_load() {
    // No weight or bias: the running statistics are saved in the layer's dtype (f64 here,
    // exact), as PyTorch saves a module's buffers.
    let config = || BatchNormConfig::new(2).affine(false);
    let bn = BatchNorm::new(config(), DType::F64, &DEV).unwrap();
    let stats = normshift::RunningStats {
        running_mean: vec![0.1, 1.0 / 3.0],
        running_var: vec![2.0 / 3.0, 7.25],
        num_batches_tracked: 4,
    };
    bn.set_running_stats(stats.clone()).unwrap();
    let state = bn.state_dict("").unwrap();
    assert_eq!(state["running_var"].dtype(), DType::F64);
    let loaded = BatchNorm::new(config(), DType::F64, &DEV).unwrap();
    loaded.load_state_dict(&state, "").unwrap();
    assert_eq!(loaded.running_stats().unwrap(), stats);
    // A file from PyTorch before 0.4.1 has no num_batches_tracked: the layer keeps its count.
    let mut old = state.clone();
    old.remove("num_batches_tracked");
    old.insert(
        "running_mean".into(),
        Tensor::new(&[5.0f64, 6.0], &DEV).unwrap(),
    );
    loaded.load_state_dict(&old, "").unwrap();
    let r = loaded.running_stats().unwrap();
    assert_eq!((r.running_mean, r.num_batches_tracked), (vec![5.0, 6.0], 4));
}

#[test]
fn an_f16_layer_whose_statistics_do_not_fit_in_f16_is_not_saved() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bn.safetensors");
    let bn = BatchNorm::new(BatchNormConfig::new(1), DType::F16, &DEV).unwrap();
    bn.set_running_stats(normshift::RunningStats {
        running_mean: vec![1700.0],
        running_var: vec![137_253.77],
        num_batches_tracked: 20,
    })
    .unwrap();
    let err = bn.save_safetensors(&path, "").unwrap_err().to_string();
    assert!(
        err.contains("'running_var'[0] = 1.3725377e5 does not fit in F16"),
        "{err}"
    );
    assert!(!path.exists());
    // Within range it saves and loads back (to f16 precision).
    bn.set_running_stats(normshift::RunningStats {
        running_mean: vec![1700.0],
        running_var: vec![20_000.0],
        num_batches_tracked: 20,
    })
    .unwrap();
    bn.save_safetensors(&path, "").unwrap();
    let loaded = BatchNorm::new(BatchNormConfig::new(1), DType::F16, &DEV).unwrap();
    loaded.load_safetensors(&path, "").unwrap();
    assert_eq!(loaded.running_stats().unwrap().running_var, [20_000.0]);
}

#[test]
fn recalibration_re_estimates_statistics_inside_a_model_without_touching_weights() {
    // Linear(2 → 3) then BatchNorm(3): the layer must end with the statistics of its inputs.
    let lin = candle_nn::Linear::new(
        Tensor::new(&[[1.0f64, 0.5], [-0.3, 2.0], [0.7, -1.1]], &DEV).unwrap(),
        Some(Tensor::new(&[0.1f64, -0.2, 3.0], &DEV).unwrap()),
    );
    let bn = BatchNorm::new(BatchNormConfig::new(3), DType::F64, &DEV).unwrap();
    let gamma_before = vec(bn.weight().unwrap().as_tensor());
    let batches: Vec<Tensor> = [5usize, 9, 3]
        .iter()
        .enumerate()
        .map(|(i, &n)| Tensor::from_vec(values(2 * n, 30 + i as u64, 5.0), (n, 2), &DEV).unwrap())
        .collect();
    recalibrate(&[&bn], batches.clone(), |b| {
        bn.forward_t(&lin.forward(b)?, true)
    })
    .unwrap();
    let all = Tensor::cat(&batches, 0).unwrap();
    let h = lin.forward(&all).unwrap();
    let mean = vec(&h.mean(0).unwrap());
    let n = h.dim(0).unwrap() as f64;
    let var: Vec<f64> = vec(&h
        .broadcast_sub(&h.mean_keepdim(0).unwrap())
        .unwrap()
        .sqr()
        .unwrap()
        .sum(0)
        .unwrap())
    .iter()
    .map(|s| s / (n - 1.0))
    .collect();
    let r = bn.running_stats().unwrap();
    assert_close("recalibrated mean", &r.running_mean, &mean, 1e-12);
    assert_close("recalibrated var", &r.running_var, &var, 1e-12);
    assert_eq!(r.num_batches_tracked, 3);
    assert_eq!(vec(bn.weight().unwrap().as_tensor()), gamma_before);
}

/// Evaluation output and running statistics: what a failed recalibration must leave as is.
fn eval_state(bn: &BatchNorm, x: &Tensor) -> (Vec<f64>, normshift::RunningStats) {
    (
        vec(&bn.forward_t(x, false).unwrap()),
        bn.running_stats().unwrap(),
    )
}

#[test]
fn a_failed_or_panicking_recalibration_changes_no_layer() {
    let x = Tensor::from_vec(values(8, 40, 1.0), (4, 2), &DEV).unwrap();
    let fresh = || BatchNorm::new(BatchNormConfig::new(2), DType::F64, &DEV).unwrap();
    // Layer b never sees a batch: a passes its check, b fails it, and neither changes.
    let (a, b) = (fresh(), fresh());
    let before = (eval_state(&a, &x), eval_state(&b, &x));
    let err = recalibrate(&[&a, &b], vec![x.clone()], |t| a.forward_t(t, true)).unwrap_err();
    assert!(err.to_string().contains("fewer than two values"), "{err}");
    assert_eq!((eval_state(&a, &x), eval_state(&b, &x)), before);
    // A layer without running statistics in the list: the same.
    let no_running = BatchNorm::new(
        BatchNormConfig::new(2).track_running_stats(false),
        DType::F64,
        &DEV,
    )
    .unwrap();
    let err = recalibrate(&[&a, &no_running], vec![x.clone()], |t| {
        no_running.forward_t(&a.forward_t(t, true)?, true)
    })
    .unwrap_err();
    assert!(err.to_string().contains("running statistics"), "{err}");
    assert_eq!(eval_state(&a, &x), before.0);
    // Listed twice: recalibrated once, as if listed once.
    let twice = fresh();
    recalibrate(&[&twice, &twice], vec![x.clone()], |t| {
        twice.forward_t(t, true)
    })
    .unwrap();
    let once = fresh();
    recalibrate(&[&once], vec![x.clone()], |t| once.forward_t(t, true)).unwrap();
    assert_eq!(eval_state(&twice, &x), eval_state(&once, &x));
    assert_ne!(eval_state(&once, &x), before.0);
    // A panic inside the model: the layer leaves recalibration with its statistics, so
    // evaluation uses them again (not batch statistics) and training updates them again.
    let c = fresh();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        recalibrate(&[&c], vec![x.clone()], |t| -> candle_core::Result<Tensor> {
            c.forward_t(t, true)?;
            panic!("the model failed");
        })
    }));
    assert!(caught.is_err());
    assert_eq!(eval_state(&c, &x), before.0);
    c.forward_t(&x, true).unwrap();
    assert_eq!(c.running_stats().unwrap().num_batches_tracked, 1);
}

#[test]
fn a_recalibration_whose_statistics_overflow_is_refused() {
    // Two constant batches at ±1e308: each is a valid batch (variance 0), but their pooled
    // variance is beyond f64.
    let bn = BatchNorm::new(BatchNormConfig::new(1), DType::F64, &DEV).unwrap();
    let before = bn.running_stats().unwrap();
    let batches = [1e308, -1e308].map(|v| Tensor::new(&[[v], [v], [v]], &DEV).unwrap());
    let err = recalibrate(&[&bn], batches, |t| bn.forward_t(t, true)).unwrap_err();
    assert!(err.to_string().contains("overflowed"), "{err}");
    assert_eq!(bn.running_stats().unwrap(), before);
}

fn golden_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden")
}

#[test]
fn a_pytorch_state_file_loads_unchanged_and_ours_has_its_layout() {
    let doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(golden_dir().join("pytorch_bn_state.json")).unwrap(),
    )
    .unwrap();
    let floats = |k: &str| -> Vec<f64> {
        doc[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect()
    };
    let torch_file = golden_dir().join("pytorch_bn_state.safetensors");
    let bn = BatchNorm::new(BatchNormConfig::new(4), DType::F32, &DEV).unwrap();
    bn.load_safetensors(&torch_file, "features.1.").unwrap();
    // float32 values widen to f64 exactly: equality, not closeness.
    let r = bn.running_stats().unwrap();
    assert_eq!(r.running_mean, floats("running_mean"));
    assert_eq!(r.running_var, floats("running_var"));
    assert_eq!(
        r.num_batches_tracked,
        doc["num_batches_tracked"].as_u64().unwrap()
    );
    assert_eq!(vec(bn.weight().unwrap().as_tensor()), floats("weight"));
    assert_eq!(vec(bn.bias().unwrap().as_tensor()), floats("bias"));
    // Evaluation mode reproduces PyTorch's output (f32, so within a few f32 roundings).
    let shape: Vec<usize> = doc["eval_input_shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let x = Tensor::from_vec(floats("eval_input"), shape, &DEV)
        .unwrap()
        .to_dtype(DType::F32)
        .unwrap();
    let y = vec(&bn.forward_t(&x, false).unwrap());
    assert_close(
        "eval output",
        &y,
        &floats("eval_output"),
        4.0 * f32::EPSILON as f64,
    );

    // The other way round: what we write has PyTorch's keys, dtypes and shapes, which is
    // what `load_state_dict(strict=True)` checks. (Kept in the target dir so it can be
    // loaded into torch by hand: `python tests/golden/pytorch_bn_state.py --check FILE`.)
    let ours =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("normshift_bn_state.safetensors");
    bn.save_safetensors(&ours, "features.1.").unwrap();
    let layout = |p: &std::path::Path| {
        let mut v: Vec<(String, DType, Vec<usize>)> = candle_core::safetensors::load(p, &DEV)
            .unwrap()
            .into_iter()
            .map(|(k, t)| (k, t.dtype(), t.dims().to_vec()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    assert_eq!(layout(&ours), layout(&torch_file));
}

/// A saved state file gets the mode any new file gets (here: the mode of a file written with
/// `std::fs::write` under the same umask), not the temporary file's private 0o600; a replaced
/// file keeps its mode.
#[cfg(unix)]
#[test]
fn a_saved_state_file_is_as_readable_as_any_new_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain");
    std::fs::write(&plain, b"x").unwrap();
    let expected = std::fs::metadata(&plain).unwrap().permissions().mode() & 0o777;
    let bn = BatchNorm::new(BatchNormConfig::new(2), DType::F32, &DEV).unwrap();
    let path = dir.path().join("bn.safetensors");
    bn.save_safetensors(&path, "").unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), expected);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    bn.save_safetensors(&path, "").unwrap();
    assert_eq!(mode(&path), 0o640);
    bn.load_safetensors(&path, "").unwrap();
}
