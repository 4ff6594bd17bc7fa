use crate::error::{check_eps, check_len};
use crate::exec::Execution;
use crate::moments::{finish_moments, moment_shifts};
use crate::sweep::{channel_affine, reduce_map, MapCoef};
use crate::uninit::{as_uninit, filled_vec};
use crate::{inverse_std, moments_reference, Affine, Dims, Element, KernelError};
use std::mem::MaybeUninit;

/// Training-mode forward: batch statistics, then `y = (x − mean) / sqrt(var + eps) · γ + β`.
///
/// Writes the per-channel batch `mean` and biased `var` (what backward and running-statistics
/// updates need). `affine = None` means `γ = 1, β = 0`. Fails on an empty batch.
pub fn forward_train<T: Element>(
    x: &[T],
    dims: Dims,
    affine: Option<Affine<'_>>,
    eps: f64,
    y: &mut [T],
    mean: &mut [f64],
    var: &mut [f64],
) -> Result<(), KernelError> {
    forward_train_with(&Execution::default(), x, dims, affine, eps, y, mean, var)
}

/// [`forward_train`] with explicit threads and instruction set.
///
/// Two passes over memory: one for the statistics ([`moments_with`](crate::moments_with)), one that reads `x`
/// and writes `y`. Each output is `(x − mean) · (invstd · γ) + β` in `f64`, rounded once; the
/// subtraction is kept (rather than folding everything into `x · s + t`) so that a constant
/// channel gives exactly `β` (for `eps > 0`; with `eps = 0` it gives NaN, as PyTorch does) and a channel at `1e8 + noise` loses nothing. Identical bits
/// for any thread count and instruction set.
#[allow(clippy::too_many_arguments)]
pub fn forward_train_with<T: Element>(
    exec: &Execution,
    x: &[T],
    dims: Dims,
    affine: Option<Affine<'_>>,
    eps: f64,
    y: &mut [T],
    mean: &mut [f64],
    var: &mut [f64],
) -> Result<(), KernelError> {
    // SAFETY: `forward_train_into` writes only values computed from `x` into `y`.
    let y = unsafe { as_uninit(y) };
    forward_train_into(exec, x, dims, affine, eps, y, mean, var)
}

/// [`forward_train_with`] returning `y` in a new vector, written once by the kernel (not
/// zero-filled first), with huge pages when large and `exec.huge_pages` says so (see
/// [`output_vec`](crate::output_vec)). Same errors, same bits.
pub fn forward_train_vec_with<T: Element>(
    exec: &Execution,
    x: &[T],
    dims: Dims,
    affine: Option<Affine<'_>>,
    eps: f64,
    mean: &mut [f64],
    var: &mut [f64],
) -> Result<Vec<T>, KernelError> {
    // SAFETY: on `Ok`, `forward_train_into` has written all `x.len()` outputs (it checks that
    // `y` and `x` both have `dims.len()` elements, and the sweeps cover every element).
    unsafe {
        filled_vec(x.len(), exec.huge_pages, |y| {
            forward_train_into(exec, x, dims, affine, eps, y, mean, var)
        })
    }
}

/// The training forward over an output that may be uninitialized; writes every element of
/// `y` when it returns `Ok`.
#[allow(clippy::too_many_arguments)]
fn forward_train_into<T: Element>(
    exec: &Execution,
    x: &[T],
    dims: Dims,
    affine: Option<Affine<'_>>,
    eps: f64,
    y: &mut [MaybeUninit<T>],
    mean: &mut [f64],
    var: &mut [f64],
) -> Result<(), KernelError> {
    check_eps(eps)?;
    check_affine(affine, dims)?;
    dims.check()?;
    // `x` before `y`: the allocating form sizes `y` from `x`, so a short `x` must be
    // reported as such there, and both forms report the same error.
    check_len("x", x.len(), dims.len())?;
    check_len("y", y.len(), dims.len())?;
    check_len("mean", mean.len(), dims.channels)?;
    check_len("var", var.len(), dims.channels)?;
    let count = dims.per_channel();
    if count == 0 {
        return Err(KernelError::Empty);
    }
    let shift = moment_shifts(x, dims);
    let finish = |c: usize, s1: f64, s2: f64| {
        let (m, v) = finish_moments(shift[c], s1, s2, count);
        let (g, b) = affine.map_or((1.0, 0.0), |a| (a.gamma[c], a.beta[c]));
        MapCoef {
            center: m,
            a: 0.0,
            b: inverse_std(v, eps) * g,
            d: b,
        }
    };
    reduce_map(exec, x, None, dims, &shift, &finish, y, mean, var);
    for c in 0..dims.channels {
        (mean[c], var[c]) = finish_moments(shift[c], mean[c], var[c], count);
    }
    Ok(())
}

/// Per-channel `invstd · γ` and `β`.
fn fold(dims: Dims, var: &[f64], affine: Option<Affine<'_>>, eps: f64) -> (Vec<f64>, Vec<f64>) {
    (0..dims.channels)
        .map(|c| {
            let (g, b) = affine.map_or((1.0, 0.0), |a| (a.gamma[c], a.beta[c]));
            (inverse_std(var[c], eps) * g, b)
        })
        .unzip()
}

/// Reference for [`forward_train`]: [`moments`](crate::moments_reference) then the
/// elementwise transform, all arithmetic in `f64`, one rounding to `T` per output.
pub fn forward_train_reference<T: Element>(
    x: &[T],
    dims: Dims,
    affine: Option<Affine<'_>>,
    eps: f64,
    y: &mut [T],
    mean: &mut [f64],
    var: &mut [f64],
) -> Result<(), KernelError> {
    check_eps(eps)?;
    check_affine(affine, dims)?;
    dims.check()?;
    check_len("y", y.len(), dims.len())?;
    moments_reference(x, dims, mean, var)?;
    normalize_reference(x, dims, mean, var, affine, eps, y);
    Ok(())
}

/// Evaluation-mode forward with given statistics (usually the running ones):
/// `y = (x − mean) / sqrt(var + eps) · γ + β`. An empty tensor is a no-op.
pub fn forward_eval<T: Element>(
    x: &[T],
    dims: Dims,
    mean: &[f64],
    var: &[f64],
    affine: Option<Affine<'_>>,
    eps: f64,
    y: &mut [T],
) -> Result<(), KernelError> {
    forward_eval_with(&Execution::default(), x, dims, mean, var, affine, eps, y)
}

/// [`forward_eval`] with explicit threads and instruction set: one pass reading `x` and
/// writing `y`, each output `(x − mean) · (invstd · γ) + β` in `f64`, rounded once.
#[allow(clippy::too_many_arguments)]
pub fn forward_eval_with<T: Element>(
    exec: &Execution,
    x: &[T],
    dims: Dims,
    mean: &[f64],
    var: &[f64],
    affine: Option<Affine<'_>>,
    eps: f64,
    y: &mut [T],
) -> Result<(), KernelError> {
    // SAFETY: `forward_eval_into` writes only values computed from `x` into `y`.
    let y = unsafe { as_uninit(y) };
    forward_eval_into(exec, x, dims, mean, var, affine, eps, y)
}

/// [`forward_eval_with`] returning `y` in a new vector, written once by the kernel (not
/// zero-filled first), with huge pages when large and `exec.huge_pages` says so (see
/// [`output_vec`](crate::output_vec)). Same errors, same bits.
pub fn forward_eval_vec_with<T: Element>(
    exec: &Execution,
    x: &[T],
    dims: Dims,
    mean: &[f64],
    var: &[f64],
    affine: Option<Affine<'_>>,
    eps: f64,
) -> Result<Vec<T>, KernelError> {
    // SAFETY: on `Ok`, `forward_eval_into` has written all `x.len()` outputs (it checks that
    // `y` and `x` both have `dims.len()` elements, and the sweep covers every element).
    unsafe {
        filled_vec(x.len(), exec.huge_pages, |y| {
            forward_eval_into(exec, x, dims, mean, var, affine, eps, y)
        })
    }
}

/// The evaluation forward over an output that may be uninitialized; writes every element of
/// `y` when it returns `Ok`.
#[allow(clippy::too_many_arguments)]
fn forward_eval_into<T: Element>(
    exec: &Execution,
    x: &[T],
    dims: Dims,
    mean: &[f64],
    var: &[f64],
    affine: Option<Affine<'_>>,
    eps: f64,
    y: &mut [MaybeUninit<T>],
) -> Result<(), KernelError> {
    check_eps(eps)?;
    check_affine(affine, dims)?;
    dims.check()?;
    check_len("x", x.len(), dims.len())?;
    check_len("y", y.len(), dims.len())?;
    check_len("mean", mean.len(), dims.channels)?;
    check_len("var", var.len(), dims.channels)?;
    let (scale, shift) = fold(dims, var, affine, eps);
    channel_affine(exec, x, dims, mean, &scale, &shift, y);
    Ok(())
}

/// Reference for [`forward_eval`]: arithmetic in `f64`, one rounding per output.
pub fn forward_eval_reference<T: Element>(
    x: &[T],
    dims: Dims,
    mean: &[f64],
    var: &[f64],
    affine: Option<Affine<'_>>,
    eps: f64,
    y: &mut [T],
) -> Result<(), KernelError> {
    check_eps(eps)?;
    check_affine(affine, dims)?;
    dims.check()?;
    check_len("x", x.len(), dims.len())?;
    check_len("y", y.len(), dims.len())?;
    check_len("mean", mean.len(), dims.channels)?;
    check_len("var", var.len(), dims.channels)?;
    normalize_reference(x, dims, mean, var, affine, eps, y);
    Ok(())
}

pub(crate) fn check_affine(affine: Option<Affine<'_>>, dims: Dims) -> Result<(), KernelError> {
    if let Some(a) = affine {
        check_len("gamma", a.gamma.len(), dims.channels)?;
        check_len("beta", a.beta.len(), dims.channels)?;
    }
    Ok(())
}

fn normalize_reference<T: Element>(
    x: &[T],
    dims: Dims,
    mean: &[f64],
    var: &[f64],
    affine: Option<Affine<'_>>,
    eps: f64,
    y: &mut [T],
) {
    for c in 0..dims.channels {
        let invstd = inverse_std(var[c], eps);
        let (g, b) = affine.map_or((1.0, 0.0), |a| (a.gamma[c], a.beta[c]));
        for o in 0..dims.outer {
            let start = dims.block(o, c);
            for i in start..start + dims.inner {
                y[i] = T::from_f64((x[i].to_f64() - mean[c]) * invstd * g + b);
            }
        }
    }
}
