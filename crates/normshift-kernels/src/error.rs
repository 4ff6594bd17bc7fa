/// Why a kernel refused its arguments. Kernels never panic on shapes or lengths.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum KernelError {
    /// The tensor has fewer than two dimensions (batch and channels are both required).
    #[error("a tensor of rank {rank} cannot be batch-normalized: it needs at least 2 dimensions (batch, channels)")]
    Rank {
        /// The rank that was given.
        rank: usize,
    },
    /// The shape has zero channels.
    #[error("shape {shape:?} has no channels")]
    NoChannels {
        /// The shape that was given.
        shape: Vec<usize>,
    },
    /// The element count of the shape does not fit in `usize`.
    #[error("shape {shape:?} has more elements than this machine can address")]
    Overflow {
        /// The shape that was given.
        shape: Vec<usize>,
    },
    /// A buffer's length does not match what the shape needs.
    #[error("{buffer} has {actual} elements, but the shape needs {expected}")]
    Length {
        /// Which argument (`"x"`, `"dy"`, `"gamma"`, …).
        buffer: &'static str,
        /// Elements the shape needs.
        expected: usize,
        /// Elements given.
        actual: usize,
    },
    /// Statistics were requested over a batch with no values per channel.
    #[error("the batch is empty: there are no values per channel to compute statistics from")]
    Empty,
    /// `eps` is negative, NaN or infinite.
    #[error("eps must be finite and non-negative, got {eps}")]
    Eps {
        /// The value given.
        eps: f64,
    },
}

/// Checks that `buffer` holds exactly `expected` elements.
pub(crate) fn check_len(
    buffer: &'static str,
    actual: usize,
    expected: usize,
) -> Result<(), KernelError> {
    if actual == expected {
        Ok(())
    } else {
        Err(KernelError::Length {
            buffer,
            expected,
            actual,
        })
    }
}

pub(crate) fn check_eps(eps: f64) -> Result<(), KernelError> {
    if eps.is_finite() && eps >= 0.0 {
        Ok(())
    } else {
        Err(KernelError::Eps { eps })
    }
}
