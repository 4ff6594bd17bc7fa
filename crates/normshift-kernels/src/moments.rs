use crate::error::check_len;
use crate::{Dims, Element, KernelError};

/// Per-channel mean and biased variance (divide by the count), written into `mean` and `var`.
///
/// Accuracy: as [`moments_reference`]. NaN or infinite inputs make that channel's statistics
/// NaN or infinite; callers decide what to do with them.
pub fn moments<T: Element>(
    x: &[T],
    dims: Dims,
    mean: &mut [f64],
    var: &mut [f64],
) -> Result<(), KernelError> {
    moments_reference(x, dims, mean, var)
}

/// Reference moments: two passes in `f64` (mean, then the mean of squared deviations), so
/// there is no `E[x²] − E[x]²` cancellation; relative error of order `n · 2⁻⁵³`.
pub fn moments_reference<T: Element>(
    x: &[T],
    dims: Dims,
    mean: &mut [f64],
    var: &mut [f64],
) -> Result<(), KernelError> {
    check_len("x", x.len(), dims.len())?;
    check_len("mean", mean.len(), dims.channels)?;
    check_len("var", var.len(), dims.channels)?;
    let count = dims.per_channel();
    if count == 0 {
        return Err(KernelError::Empty);
    }
    for c in 0..dims.channels {
        let mut sum = 0.0f64;
        for o in 0..dims.outer {
            let start = dims.block(o, c);
            sum += x[start..start + dims.inner]
                .iter()
                .map(|v| v.to_f64())
                .sum::<f64>();
        }
        let m = sum / count as f64;
        let mut squares = 0.0f64;
        for o in 0..dims.outer {
            let start = dims.block(o, c);
            squares += x[start..start + dims.inner]
                .iter()
                .map(|v| (v.to_f64() - m).powi(2))
                .sum::<f64>();
        }
        mean[c] = m;
        var[c] = squares / count as f64;
    }
    Ok(())
}

/// `1 / sqrt(var + eps)`, the factor that normalizes a channel.
#[inline]
pub fn inverse_std(var: f64, eps: f64) -> f64 {
    1.0 / (var + eps).sqrt()
}
