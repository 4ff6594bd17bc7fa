//! candle-nn's `BatchNorm` on the same data, the peer `normshift bench` compares against.
//!
//! candle-nn builds batch normalization from tensor ops (transpose, contiguous copy, means,
//! broadcast arithmetic) and differentiates them with its autograd; that is what a candle
//! user runs today. Channels-last tensors are given to it as a permuted view of the same
//! memory, as a candle user would have to (candle-nn takes channels at dimension 1).

use crate::{timing::median_ms, Case};
use candle_core::backend::BackendStorage;
use candle_core::{
    CpuStorage, CustomOp1, Device, Layout as CandleLayout, Shape, Tensor, Var, WithDType,
};
use candle_nn::{BatchNorm, ModuleT};
use normshift_kernels::Layout;
use rayon::prelude::*;

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
/// both sides and hide the layer. The input is a `Var` made once before timing, as a layer's
/// input inside a network is the previous layer's output, not a fresh copy.
///
/// Returns the median ms of normshift-candle's `BatchNorm` (which takes channels-last
/// natively), of candle-nn's (given the permuted view), and of the same step with a layer
/// that does nothing ([`Passthrough`]): what candle's autograd costs any layer, so
/// `candle-nn / floor` is the largest speed-up any layer could show in this step. The three
/// are timed in turn within each repetition.
pub(crate) fn train_step_ms<T: WithDType>(
    case: &Case,
    x: &[T],
    reps: usize,
    exec: &normshift::Execution,
) -> candle_core::Result<[f64; 3]> {
    let dev = Device::Cpu;
    let c = case.shape[1];
    let stored = Var::from_slice(x, case.storage_shape(), &dev)?;
    let dtype = stored.dtype();
    let ours = normshift_candle::BatchNorm::new(normshift::BatchNormConfig::new(c), dtype, &dev)?;
    ours.set_execution(*exec);
    let passthrough = Passthrough {
        huge_pages: exec.huge_pages,
    };
    let ours = match case.layout {
        Layout::ChannelsFirst => ours,
        Layout::ChannelsLast => ours.channels_last(),
    };
    let (w, b) = (ours.weight().expect("affine"), ours.bias().expect("affine"));
    // candle-nn, channels at dimension 1: a permuted view of the same Var.
    let x_l = match case.layout {
        Layout::ChannelsFirst => stored.as_tensor().clone(),
        Layout::ChannelsLast => {
            let rank = case.shape.len();
            let mut order: Vec<usize> = vec![0, rank - 1];
            order.extend(1..rank - 1);
            stored.as_tensor().permute(order)?
        }
    };
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
    let x = stored.as_tensor();
    // The three steps take turns, one of each per repetition (the first one untimed), so
    // that each sees the same machine and the memory state the others leave behind.
    let mut times: [Vec<f64>; 3] = Default::default();
    for rep in 0..=reps.max(1) {
        let runs: [&dyn Fn() -> candle_core::Result<()>; 3] = [
            &|| step(&ours, x, &[x, w.as_tensor(), b.as_tensor()]),
            &|| step(&theirs, &x_l, &[x, weight.as_tensor(), bias.as_tensor()]),
            &|| step(&passthrough, x, &[x]),
        ];
        for (run, times) in runs.iter().zip(&mut times) {
            let start = std::time::Instant::now();
            run()?;
            if rep > 0 {
                times.push(start.elapsed().as_secs_f64() * 1e3);
            }
        }
    }
    Ok(times.map(|mut t| {
        t.sort_by(f64::total_cmp);
        t[t.len() / 2]
    }))
}

/// Forward in training mode and `backward()` from the output; checks that every tensor in
/// `vars` (the input's `Var` and the layer's parameters) received a gradient (a layer that
/// silently drops one would be timed doing less work).
fn step(layer: &dyn ModuleT, x: &Tensor, vars: &[&Tensor]) -> candle_core::Result<()> {
    let y = layer.forward_t(x, true)?;
    let grads = y.backward()?;
    for v in vars {
        if grads.get(v).is_none() {
            candle_core::bail!("no gradient for a {:?} tensor", v.shape());
        }
    }
    Ok(())
}

/// The cheapest layer candle can train: its forward writes a copy of `x` into a new buffer
/// (in parallel, without zeroing it first; any layer must produce a new output), its backward
/// hands `dy` back unchanged. Its training step is candle's own cost: seeding the backward
/// with ones and accumulating the input's gradient into a fresh zero tensor.
pub(crate) struct Passthrough {
    /// New outputs as ours are allocated: see [`normshift::Execution::huge_pages`].
    pub(crate) huge_pages: bool,
}

impl ModuleT for Passthrough {
    fn forward_t(&self, x: &Tensor, _train: bool) -> candle_core::Result<Tensor> {
        x.apply_op1(PassthroughOp {
            huge_pages: self.huge_pages,
        })
    }
}

struct PassthroughOp {
    huge_pages: bool,
}

impl CustomOp1 for PassthroughOp {
    fn name(&self) -> &'static str {
        "passthrough"
    }

    fn cpu_fwd(
        &self,
        s: &CpuStorage,
        l: &CandleLayout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (start, end) = l
            .contiguous_offsets()
            .ok_or_else(|| candle_core::Error::Msg("passthrough: input not contiguous".into()))?;
        let y = match s {
            CpuStorage::F32(v) => CpuStorage::F32(parallel_copy(&v[start..end], self.huge_pages)),
            CpuStorage::F64(v) => CpuStorage::F64(parallel_copy(&v[start..end], self.huge_pages)),
            other => candle_core::bail!("passthrough: no {:?}", other.dtype()),
        };
        Ok((y, l.shape().clone()))
    }

    fn bwd(&self, _x: &Tensor, _y: &Tensor, dy: &Tensor) -> candle_core::Result<Option<Tensor>> {
        Ok(Some(dy.clone()))
    }
}

/// A copy of `src` in a new vector, written by the current rayon pool's threads without
/// zero-filling it first, in memory allocated as our layer allocates its outputs
/// ([`normshift_kernels::output_vec`]), so that nothing in our step is cheaper than here.
pub(crate) fn parallel_copy<T: Copy + Send + Sync>(src: &[T], huge_pages: bool) -> Vec<T> {
    let piece = (256 * 1024 / std::mem::size_of::<T>().max(1)).max(1);
    let mut out = normshift_kernels::output_vec(src.len(), huge_pages);
    out.spare_capacity_mut()[..src.len()]
        .par_chunks_mut(piece)
        .zip(src.par_chunks(piece))
        .for_each(|(d, s)| {
            for (d, &s) in d.iter_mut().zip(s) {
                d.write(s);
            }
        });
    // SAFETY: the capacity is at least `src.len()`, and the loop above wrote every one of the
    // first `src.len()` elements (the chunks of `spare[..len]` and of `src` pair up exactly).
    unsafe { out.set_len(src.len()) };
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_copy_copies_every_element() {
        // Across chunk boundaries and past the huge-page threshold of `output_vec`.
        for len in [0usize, 1, 65_535, 65_537, (5 << 20) / 4 + 3] {
            let src: Vec<f32> = (0..len).map(|i| i as f32 * 0.5).collect();
            assert_eq!(parallel_copy(&src, true), src, "length {len}");
            assert_eq!(parallel_copy(&src, false), src, "length {len}");
        }
    }

    #[test]
    fn the_floor_layer_passes_values_and_gradients_through() -> candle_core::Result<()> {
        let dev = Device::Cpu;
        let x = Var::new(&[[1.0f32, -2.0], [3.5, 4.0]], &dev)?;
        let y = Passthrough { huge_pages: true }.forward_t(x.as_tensor(), true)?;
        assert_eq!(y.to_vec2::<f32>()?, x.as_tensor().to_vec2::<f32>()?);
        let grads = (y * 3.0)?.sum_all()?.backward()?;
        let dx = grads.get(x.as_tensor()).expect("a gradient for x");
        assert_eq!(dx.to_vec2::<f32>()?, vec![vec![3.0f32; 2]; 2]);
        Ok(())
    }
}
