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
    /// Builds dims directly. Nothing is checked here: kernels refuse dims whose element
    /// count does not fit in `usize` ([`KernelError::Overflow`]), as [`canonical_dims`] does.
    pub fn new(outer: usize, channels: usize, inner: usize) -> Self {
        Self {
            outer,
            channels,
            inner,
        }
    }

    /// Total number of elements, saturating at `usize::MAX` (no buffer is that long, so a
    /// length check against it fails instead of wrapping); [`checked_len`](Self::checked_len)
    /// tells overflow apart.
    pub fn len(&self) -> usize {
        self.checked_len().unwrap_or(usize::MAX)
    }

    /// Total number of elements, or `None` when it does not fit in `usize`.
    pub fn checked_len(&self) -> Option<usize> {
        self.outer
            .checked_mul(self.channels)?
            .checked_mul(self.inner)
    }

    /// True when the tensor holds no elements (any dimension is 0).
    pub fn is_empty(&self) -> bool {
        self.outer == 0 || self.channels == 0 || self.inner == 0
    }

    /// Values per channel: the count each channel's statistics are computed over (saturating
    /// like [`len`](Self::len)).
    pub fn per_channel(&self) -> usize {
        self.outer.saturating_mul(self.inner)
    }

    /// Refuses dims whose element count overflows `usize`, e.g. built by [`Dims::new`] from
    /// untrusted numbers.
    pub(crate) fn check(&self) -> Result<(), KernelError> {
        match self.checked_len() {
            Some(_) => Ok(()),
            None => Err(KernelError::Overflow {
                shape: vec![self.outer, self.channels, self.inner],
            }),
        }
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
