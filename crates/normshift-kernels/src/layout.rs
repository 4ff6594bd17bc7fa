use crate::KernelError;

/// Where the channel dimension sits in a tensor's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Layout {
    /// `(N, C, spatial…)`: PyTorch's default (`NCHW`, `NCL`, `NCDHW`).
    #[default]
    ChannelsFirst,
    /// `(N, spatial…, C)`: channel innermost (`NHWC`, `NLC`, `NDHWC`; TensorFlow's default).
    ChannelsLast,
}

/// The canonical form of any layout: `outer × channels × inner`, row-major.
///
/// Element `(o, c, i)` sits at `(o * channels + c) * inner + i`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Dims {
    /// Product of the dimensions before the channel dimension.
    pub outer: usize,
    /// Number of channels (features).
    pub channels: usize,
    /// Product of the dimensions after the channel dimension.
    pub inner: usize,
}

impl Dims {
    /// Builds dims directly; `len()` must fit in `usize` (checked by [`canonical_dims`]).
    pub fn new(outer: usize, channels: usize, inner: usize) -> Self {
        Self {
            outer,
            channels,
            inner,
        }
    }

    /// Total number of elements.
    pub fn len(&self) -> usize {
        self.outer * self.channels * self.inner
    }

    /// True when the tensor holds no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values per channel: the count each channel's statistics are computed over.
    pub fn per_channel(&self) -> usize {
        self.outer * self.inner
    }

    /// Offset of the block `(o, c, 0..inner)`.
    #[inline]
    pub(crate) fn block(&self, o: usize, c: usize) -> usize {
        (o * self.channels + c) * self.inner
    }
}

/// Reduces a shape in the given layout to canonical [`Dims`].
///
/// Any rank of at least 2 is accepted: `(N, C)`, `(N, C, L)`, `(N, C, H, W)`,
/// `(N, C, D, H, W)` and beyond, and their channels-last versions. For rank 2 both
/// layouts are the same tensor.
pub fn canonical_dims(shape: &[usize], layout: Layout) -> Result<Dims, KernelError> {
    if shape.len() < 2 {
        return Err(KernelError::Rank { rank: shape.len() });
    }
    let overflow = || KernelError::Overflow {
        shape: shape.to_vec(),
    };
    let product = |dims: &[usize]| {
        dims.iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .ok_or_else(overflow)
    };
    let (outer, channels, inner) = match layout {
        Layout::ChannelsFirst => (shape[0], shape[1], product(&shape[2..])?),
        Layout::ChannelsLast => (
            product(&shape[..shape.len() - 1])?,
            shape[shape.len() - 1],
            1,
        ),
    };
    if channels == 0 {
        return Err(KernelError::NoChannels {
            shape: shape.to_vec(),
        });
    }
    product(shape)?;
    Ok(Dims {
        outer,
        channels,
        inner,
    })
}
