use crate::error::check_len;
use crate::exec::Execution;
use crate::sweep::{
    channel_affine, channel_affine_in_place, channel_sums, reduce_map, reduce_map_in_place, MapCoef,
};
use crate::uninit::{as_uninit, filled_vec};
use crate::{Dims, Element, KernelError};
use std::mem::MaybeUninit;

/// Which statistics the forward pass normalized with; decides the input gradient.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatisticsSource {
    /// Batch statistics (training mode): mean and variance depend on `x`, so their
    /// gradients flow into `dx`.
    Batch,
    /// Fixed statistics (evaluation mode, running statistics): constants with respect to `x`.
    Fixed,
}

/// The per-channel statistics a forward pass normalized with.
#[derive(Clone, Copy, Debug)]
pub struct Saved<'a> {
    /// Mean per channel.
    pub mean: &'a [f64],
    /// `1 / sqrt(var + eps)` per channel.
    pub invstd: &'a [f64],
    /// Where those statistics came from.
    pub source: StatisticsSource,
}

/// Output buffers of [`backward`].
#[derive(Debug)]
pub struct Gradients<'a, T> {
    /// Gradient with respect to the input, same shape as `x`.
    pub dx: &'a mut [T],
    /// `Σ dy · x̂` per channel (the gradient for γ).
    pub dgamma: &'a mut [f64],
    /// `Σ dy` per channel (the gradient for β).
    pub dbeta: &'a mut [f64],
}

/// Backward pass of batch normalization for both statistics sources.
///
/// With `x̂ = (x − mean) · invstd` and `n` values per channel:
/// - `dβ = Σ dy`, `dγ = Σ dy · x̂`;
/// - batch statistics: `dx = γ · invstd / n · (n · dy − Σ dy − x̂ · Σ dy · x̂)`;
/// - fixed statistics: `dx = γ · invstd · dy`.
///
/// `gamma = None` means `γ = 1`. `dgamma` and `dbeta` are written either way.
pub fn backward<T: Element>(
    x: &[T],
    dy: &[T],
    dims: Dims,
    saved: Saved<'_>,
    gamma: Option<&[f64]>,
    grads: Gradients<'_, T>,
) -> Result<(), KernelError> {
    backward_with(&Execution::default(), x, dy, dims, saved, gamma, grads)
}

/// [`backward`] with explicit threads and instruction set.
///
/// Two passes over memory: one fused reduction of `Σ dy` and `Σ dy · (x − mean)` (reading `x`
/// and `dy`), then one elementwise pass, `dx = A·dy + B·(x − mean) + D` with per-channel
/// constants (batch statistics) or `dx = A·dy` (fixed statistics, which does not read `x`
/// again). Sums in `f64`; identical bits for any thread count and instruction set.
pub fn backward_with<T: Element>(
    exec: &Execution,
    x: &[T],
    dy: &[T],
    dims: Dims,
    saved: Saved<'_>,
    gamma: Option<&[f64]>,
    grads: Gradients<'_, T>,
) -> Result<(), KernelError> {
    // SAFETY: `backward_into` writes only values computed from `x` and `dy` into `dx`.
    let dx = unsafe { as_uninit(grads.dx) };
    backward_into(
        exec,
        x,
        Dx::Separate { dy, dx },
        dims,
        saved,
        gamma,
        grads.dgamma,
        grads.dbeta,
    )
}

/// [`backward_with`] returning `dx` in a new vector, written once by the kernel (not
/// zero-filled first), with huge pages when large and `exec.huge_pages` says so (see
/// [`output_vec`](crate::output_vec)); `dgamma` and `dbeta` are written as there. Same
/// errors, same bits.
#[allow(clippy::too_many_arguments)]
pub fn backward_vec_with<T: Element>(
    exec: &Execution,
    x: &[T],
    dy: &[T],
    dims: Dims,
    saved: Saved<'_>,
    gamma: Option<&[f64]>,
    dgamma: &mut [f64],
    dbeta: &mut [f64],
) -> Result<Vec<T>, KernelError> {
    // SAFETY: on `Ok`, `backward_into` has written all `x.len()` elements of `dx` (it checks
    // that `dx`, `x` and `dy` all have `dims.len()` elements; the sweeps cover every one).
    unsafe {
        filled_vec(x.len(), exec.huge_pages, |dx| {
            backward_into(
                exec,
                x,
                Dx::Separate { dy, dx },
                dims,
                saved,
                gamma,
                dgamma,
                dbeta,
            )
        })
    }
}

/// [`backward_with`] writing `dx` over `dy`: on `Ok`, `dy_dx` holds the input gradient, with
/// the same bits `backward_with` writes into a separate `dx`; `dgamma` and `dbeta` as there.
/// For a framework that owns the incoming gradient and no longer needs it (normshift-candle's
/// backward): no new tensor-sized buffer, so none of its page faults. On `Err` (the same
/// checks as `backward_with`, made before anything is written), `dy_dx` is unchanged.
#[allow(clippy::too_many_arguments)]
pub fn backward_in_place_with<T: Element>(
    exec: &Execution,
    x: &[T],
    dy_dx: &mut [T],
    dims: Dims,
    saved: Saved<'_>,
    gamma: Option<&[f64]>,
    dgamma: &mut [f64],
    dbeta: &mut [f64],
) -> Result<(), KernelError> {
    backward_into(
        exec,
        x,
        Dx::OverDy(dy_dx),
        dims,
        saved,
        gamma,
        dgamma,
        dbeta,
    )
}

/// With batch statistics, channel `k`'s `dx = A·dy + B·(x − mean) + D` from its sums
/// `Σ dy` and `Σ dy·(x − mean)`: `A = γ·invstd`, `B = −A·invstd·dγ/n`, `D = −A·dβ/n`, where
/// `dβ = Σ dy` and `dγ = invstd · Σ dy·(x − mean)`.
fn batch_dx_coefficients<'a>(
    dims: Dims,
    saved: Saved<'a>,
    gamma: Option<&'a [f64]>,
) -> impl Fn(usize, f64, f64) -> MapCoef + 'a {
    let n = dims.per_channel() as f64;
    move |k: usize, sum_dy: f64, sum_dy_xc: f64| {
        let a = gamma.map_or(1.0, |g| g[k]) * saved.invstd[k];
        let dgamma = sum_dy_xc * saved.invstd[k];
        MapCoef {
            center: saved.mean[k],
            a,
            b: -a * saved.invstd[k] * dgamma / n,
            d: -a * sum_dy / n,
        }
    }
}

/// Where the backward writes `dx`.
enum Dx<'a, T> {
    /// Into `dx`, which may be uninitialized; every element is written on `Ok`.
    Separate {
        dy: &'a [T],
        dx: &'a mut [MaybeUninit<T>],
    },
    /// Over `dy`.
    OverDy(&'a mut [T]),
}

/// The backward for either destination of `dx`.
#[allow(clippy::too_many_arguments)]
fn backward_into<T: Element>(
    exec: &Execution,
    x: &[T],
    out: Dx<'_, T>,
    dims: Dims,
    saved: Saved<'_>,
    gamma: Option<&[f64]>,
    dgamma: &mut [f64],
    dbeta: &mut [f64],
) -> Result<(), KernelError> {
    let (dy, dx_len) = match &out {
        Dx::Separate { dy, dx } => (*dy, dx.len()),
        Dx::OverDy(dy) => (&**dy, dy.len()),
    };
    check_backward(x, dy, dims, saved, gamma, dx_len, dgamma, dbeta)?;
    match saved.source {
        StatisticsSource::Batch => {
            let finish = batch_dx_coefficients(dims, saved, gamma);
            match out {
                Dx::Separate { dy, dx } => reduce_map(
                    exec,
                    x,
                    Some(dy),
                    dims,
                    saved.mean,
                    &finish,
                    dx,
                    dbeta,
                    dgamma,
                ),
                Dx::OverDy(dy) => {
                    reduce_map_in_place(exec, x, dy, dims, saved.mean, &finish, dbeta, dgamma)
                }
            }
        }
        StatisticsSource::Fixed => {
            // dx = γ·invstd·dy: the sums, then a scaling of dy alone.
            channel_sums(exec, x, Some(dy), dims, saved.mean, dbeta, dgamma);
            let scale: Vec<f64> = (0..dims.channels)
                .map(|k| gamma.map_or(1.0, |g| g[k]) * saved.invstd[k])
                .collect();
            // The map is `(dy − 0)·scale + shift`; a shift of −0.0 adds nothing to any value
            // and keeps the sign of a −0.0 gradient (+0.0 turned it into +0.0).
            let zeros = vec![0.0; dims.channels];
            let shift = vec![-0.0; dims.channels];
            match out {
                Dx::Separate { dy, dx } => {
                    channel_affine(exec, dy, dims, &zeros, &scale, &shift, dx)
                }
                Dx::OverDy(dy) => channel_affine_in_place(exec, dy, dims, &zeros, &scale, &shift),
            }
        }
    }
    for (dg, invstd) in dgamma.iter_mut().zip(saved.invstd) {
        *dg *= invstd;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn check_backward<T: Element>(
    x: &[T],
    dy: &[T],
    dims: Dims,
    saved: Saved<'_>,
    gamma: Option<&[f64]>,
    dx_len: usize,
    dgamma: &[f64],
    dbeta: &[f64],
) -> Result<(), KernelError> {
    dims.check()?;
    check_len("x", x.len(), dims.len())?;
    check_len("dy", dy.len(), dims.len())?;
    check_len("dx", dx_len, dims.len())?;
    check_len("mean", saved.mean.len(), dims.channels)?;
    check_len("invstd", saved.invstd.len(), dims.channels)?;
    check_len("dgamma", dgamma.len(), dims.channels)?;
    check_len("dbeta", dbeta.len(), dims.channels)?;
    if let Some(g) = gamma {
        check_len("gamma", g.len(), dims.channels)?;
    }
    Ok(())
}

/// Reference for [`backward`]: two passes per channel, sums in `f64`.
pub fn backward_reference<T: Element>(
    x: &[T],
    dy: &[T],
    dims: Dims,
    saved: Saved<'_>,
    gamma: Option<&[f64]>,
    grads: Gradients<'_, T>,
) -> Result<(), KernelError> {
    check_backward(
        x,
        dy,
        dims,
        saved,
        gamma,
        grads.dx.len(),
        grads.dgamma,
        grads.dbeta,
    )?;
    let n = dims.per_channel() as f64;
    for c in 0..dims.channels {
        let (mean, invstd) = (saved.mean[c], saved.invstd[c]);
        let g = gamma.map_or(1.0, |g| g[c]);
        let (mut sum_dy, mut sum_dy_xhat) = (0.0f64, 0.0f64);
        for o in 0..dims.outer {
            let start = dims.block(o, c);
            for i in start..start + dims.inner {
                let d = dy[i].to_f64();
                sum_dy += d;
                sum_dy_xhat += d * (x[i].to_f64() - mean) * invstd;
            }
        }
        grads.dbeta[c] = sum_dy;
        grads.dgamma[c] = sum_dy_xhat;
        for o in 0..dims.outer {
            let start = dims.block(o, c);
            for i in start..start + dims.inner {
                let d = dy[i].to_f64();
                grads.dx[i] = T::from_f64(match saved.source {
                    StatisticsSource::Batch => {
                        let xhat = (x[i].to_f64() - mean) * invstd;
                        g * invstd / n * (n * d - sum_dy - xhat * sum_dy_xhat)
                    }
                    StatisticsSource::Fixed => g * invstd * d,
                });
            }
        }
    }
    Ok(())
}
