use crate::error::check_len;
use crate::exec::Execution;
use crate::sweep::channel_sums;
use crate::{Dims, Element, KernelError};

/// Per-channel mean and biased variance (divide by the count), written into `mean` and `var`,
/// with the default [`Execution`] (all threads of the current rayon pool, best SIMD).
pub fn moments<T: Element>(
    x: &[T],
    dims: Dims,
    mean: &mut [f64],
    var: &mut [f64],
) -> Result<(), KernelError> {
    moments_with(&Execution::default(), x, dims, mean, var)
}

/// [`moments`] with explicit threads and instruction set.
///
/// One pass over `x`: shifted sums `Σ (x − K)` and `Σ (x − K)²` in `f64`, where `K` is the
/// channel's first value, so there is no `E[x²] − E[x]²` cancellation: in the worst case the
/// variance's relative error is about `(1 + d²/σ²) · n · 2⁻⁵²`, where `d` is the distance of
/// the first value from the mean (so about `n · 2⁻⁵²` unless the first value is an extreme
/// outlier, and in practice far less), and a constant channel has mean exactly that constant
/// and variance exactly 0. Identical bits for any thread count and instruction set. NaN or infinite
/// inputs make that channel's statistics NaN or infinite; callers decide what to do with
/// them. Scratch memory: per-channel sums for each task (at most 16 MiB in all), arrays the
/// width of one row when channels are interleaved, and 16 bytes per run of at least 64
/// values of one channel when they are not (at most a quarter byte per element).
pub fn moments_with<T: Element>(
    exec: &Execution,
    x: &[T],
    dims: Dims,
    mean: &mut [f64],
    var: &mut [f64],
) -> Result<(), KernelError> {
    dims.check()?;
    check_len("x", x.len(), dims.len())?;
    check_len("mean", mean.len(), dims.channels)?;
    check_len("var", var.len(), dims.channels)?;
    let count = dims.per_channel();
    if count == 0 {
        return Err(KernelError::Empty);
    }
    let shift = moment_shifts(x, dims);
    channel_sums(exec, x, None, dims, &shift, mean, var);
    for c in 0..dims.channels {
        (mean[c], var[c]) = finish_moments(shift[c], mean[c], var[c], count);
    }
    Ok(())
}

/// The shift `K` of each channel's shifted sums: its first value.
pub(crate) fn moment_shifts<T: Element>(x: &[T], dims: Dims) -> Vec<f64> {
    (0..dims.channels)
        .map(|c| x[dims.block(0, c)].to_f64())
        .collect()
}

/// Mean and biased variance from shifted sums `s1 = Σ (x − K)`, `s2 = Σ (x − K)²` over `n`
/// values.
#[inline]
pub(crate) fn finish_moments(shift: f64, s1: f64, s2: f64, n: usize) -> (f64, f64) {
    let n = n as f64;
    let d = s1 / n;
    // Rounding can leave a tiny negative variance; clamp it, but let NaN through
    // (`f64::max` would turn NaN into 0 and hide a poisoned channel).
    let v = (s2 - s1 * d) / n;
    (shift + d, if v < 0.0 { 0.0 } else { v })
}

/// Reference moments: two passes in `f64` (mean, then the mean of squared deviations), so
/// there is no `E[x²] − E[x]²` cancellation; relative error of order `n · 2⁻⁵³`.
pub fn moments_reference<T: Element>(
    x: &[T],
    dims: Dims,
    mean: &mut [f64],
    var: &mut [f64],
) -> Result<(), KernelError> {
    dims.check()?;
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
