use crate::error::{check_eps, check_len};
use crate::{inverse_std, moments, Affine, Dims, Element, KernelError};

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
    forward_train_reference(x, dims, affine, eps, y, mean, var)
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
    check_len("y", y.len(), dims.len())?;
    moments(x, dims, mean, var)?;
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
    forward_eval_reference(x, dims, mean, var, affine, eps, y)
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
