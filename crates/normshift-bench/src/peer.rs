//! candle-nn's `BatchNorm` on the same data, the peer `normshift bench` compares against.
//!
//! candle-nn builds batch normalization from tensor ops (transpose, contiguous copy, means,
//! broadcast arithmetic) and differentiates them with its autograd; that is what a candle
//! user runs today. Channels-last tensors are given to it as a permuted view of the same
//! memory, as a candle user would have to (candle-nn takes channels at dimension 1).

use crate::{timing::median_ms, Case};
use candle_core::{Device, Tensor, Var, WithDType};
use candle_nn::{BatchNorm, ModuleT};
use normshift_kernels::Layout;

/// Median ms of candle-nn's training forward, evaluation forward and backward (`dx`,
/// `dgamma`, `dbeta` by autograd of `Σ y·dy`; the forward that builds the graph is untimed).
pub(crate) fn candle_ms<T: WithDType>(
    case: &Case,
    x: &[T],
    dy: &[T],
    reps: usize,
) -> candle_core::Result<[f64; 3]> {
    let dev = Device::Cpu;
    let c = case.shape[1];
    let logical = |data: &[T]| -> candle_core::Result<Tensor> {
        let t = Tensor::from_slice(data, case.storage_shape(), &dev)?;
        match case.layout {
            Layout::ChannelsFirst => Ok(t),
            Layout::ChannelsLast => {
                // (N, spatial…, C) viewed as (N, C, spatial…).
                let rank = case.shape.len();
                let mut order: Vec<usize> = vec![0, rank - 1];
                order.extend(1..rank - 1);
                t.permute(order)
            }
        }
    };
    let x = logical(x)?;
    let dy = logical(dy)?;
    let dtype = x.dtype();
    let weight = Var::ones(c, dtype, &dev)?;
    let bias = Var::zeros(c, dtype, &dev)?;
    let bn = BatchNorm::new(
        c,
        Tensor::zeros(c, dtype, &dev)?,
        Tensor::ones(c, dtype, &dev)?,
        weight.as_tensor().clone(),
        bias.as_tensor().clone(),
        1e-5,
    )?;
    let train = median_ms(reps, || bn.forward_t(&x, true).map(drop))?;
    let eval = median_ms(reps, || bn.forward_t(&x, false).map(drop))?;
    let xv = Var::from_tensor(&x)?;
    let mut times = Vec::with_capacity(reps);
    for rep in 0..=reps {
        let y = bn.forward_t(xv.as_tensor(), true)?;
        let loss = (y * &dy)?.sum_all()?;
        let start = std::time::Instant::now();
        let grads = loss.backward()?;
        let ms = start.elapsed().as_secs_f64() * 1e3;
        // Gradients for x, gamma and beta must all exist: a peer that silently drops one
        // would be timed doing less work.
        for v in [xv.as_tensor(), weight.as_tensor(), bias.as_tensor()] {
            if grads.get(v).is_none() {
                candle_core::bail!(
                    "candle-nn produced no gradient for a {:?} tensor",
                    v.shape()
                );
            }
        }
        if rep > 0 {
            times.push(ms);
        }
    }
    times.sort_by(|a, b| a.total_cmp(b));
    Ok([train, eval, times[times.len() / 2]])
}

/// One training step of a layer inside candle: forward in training mode, then autograd from
/// `y` (candle seeds it with `dy = 1`; the kernels do the same work whatever `dy` holds), for
/// dx, dgamma and dbeta. A loss such as `Σ y·dy` would add the same elementwise passes to
/// both sides and hide the layer. Returns the median ms of normshift-candle's `BatchNorm`
/// (which takes channels-last natively) and of candle-nn's (given the permuted view).
pub(crate) fn train_step_ms<T: WithDType>(
    case: &Case,
    x: &[T],
    reps: usize,
) -> candle_core::Result<[f64; 2]> {
    let dev = Device::Cpu;
    let c = case.shape[1];
    let stored = Tensor::from_slice(x, case.storage_shape(), &dev)?;
    let dtype = stored.dtype();
    let ours = normshift_candle::BatchNorm::new(normshift::BatchNormConfig::new(c), dtype, &dev)?;
    let ours = match case.layout {
        Layout::ChannelsFirst => ours,
        Layout::ChannelsLast => ours.channels_last(),
    };
    let step = |bn: &dyn ModuleT, x: &Tensor, params: [&Tensor; 2]| {
        let xv = Var::from_tensor(x)?;
        let y = bn.forward_t(xv.as_tensor(), true)?;
        let grads = y.backward()?;
        for v in [xv.as_tensor(), params[0], params[1]] {
            if grads.get(v).is_none() {
                candle_core::bail!("no gradient for a {:?} tensor", v.shape());
            }
        }
        Ok(())
    };
    let (w, b) = (ours.weight().expect("affine"), ours.bias().expect("affine"));
    let ours_ms = median_ms(reps, || {
        step(&ours, &stored, [w.as_tensor(), b.as_tensor()])
    })?;
    // candle-nn, channels at dimension 1.
    let logical = |t: &Tensor| -> candle_core::Result<Tensor> {
        match case.layout {
            Layout::ChannelsFirst => Ok(t.clone()),
            Layout::ChannelsLast => {
                let rank = case.shape.len();
                let mut order: Vec<usize> = vec![0, rank - 1];
                order.extend(1..rank - 1);
                t.permute(order)
            }
        }
    };
    let x_l = logical(&stored)?;
    let weight = Var::ones(c, dtype, &dev)?;
    let bias = Var::zeros(c, dtype, &dev)?;
    let theirs = BatchNorm::new(
        c,
        Tensor::zeros(c, dtype, &dev)?,
        Tensor::ones(c, dtype, &dev)?,
        weight.as_tensor().clone(),
        bias.as_tensor().clone(),
        1e-5,
    )?;
    let theirs_ms = median_ms(reps, || {
        step(&theirs, &x_l, [weight.as_tensor(), bias.as_tensor()])
    })?;
    Ok([ours_ms, theirs_ms])
}
