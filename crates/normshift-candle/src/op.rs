//! The custom op: forward through normshift's layer, backward through its kernel.

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp3, DType, Layout as CandleLayout, Shape, Tensor, WithDType};
use normshift::{Layout, Mode, SavedStatistics};
use normshift_kernels::{canonical_dims, Element};
use std::sync::{Arc, Mutex};

/// One application of the layer. It keeps what its backward needs: the statistics the forward
/// normalized with, and the gamma it scaled by.
pub(crate) struct BatchNormOp {
    layer: Arc<Mutex<normshift::BatchNorm>>,
    mode: Mode,
    layout: Layout,
    shape: Vec<usize>,
    affine: bool,
    saved: Mutex<Option<(SavedStatistics, Vec<f64>)>>,
}

impl BatchNormOp {
    pub(crate) fn new(
        layer: Arc<Mutex<normshift::BatchNorm>>,
        mode: Mode,
        layout: Layout,
        shape: Vec<usize>,
        affine: bool,
    ) -> Self {
        Self {
            layer,
            mode,
            layout,
            shape,
            affine,
            saved: Mutex::new(None),
        }
    }

    fn forward<T: Element + WithDType>(
        &self,
        x: &[T],
        gamma: Vec<f64>,
        beta: Vec<f64>,
    ) -> candle_core::Result<CpuStorage> {
        let mut layer = super::lock(&self.layer);
        layer.set_mode(self.mode);
        if self.affine {
            layer
                .set_affine(gamma.clone(), beta)
                .map_err(candle_core::Error::wrap)?;
        }
        // The layer allocates y itself: no zero-filling pass before the kernel writes it.
        let normshift::Forward { y, saved } = layer
            .forward(x, &self.shape, self.layout)
            .map_err(candle_core::Error::wrap)?;
        *super::lock(&self.saved) = Some((saved, gamma));
        Ok(T::to_cpu_storage_owned(y))
    }

    fn backward<T: Element + WithDType>(
        &self,
        x: &Tensor,
        dy: &Tensor,
        param_dtype: DType,
    ) -> candle_core::Result<(Tensor, Tensor, Tensor)> {
        let (saved, gamma) = super::lock(&self.saved)
            .clone()
            .ok_or_else(|| candle_core::Error::Msg("backward before forward".into()))?;
        let dims = canonical_dims(&self.shape, self.layout).map_err(candle_core::Error::wrap)?;
        let c = dims.channels;
        let (mut dgamma, mut dbeta) = (vec![0.0; c], vec![0.0; c]);
        let gamma = self.affine.then_some(gamma.as_slice());
        let exec = super::lock(&self.layer).execution();
        // Read x and dy where candle keeps them (no copies); dx goes into a new vector the
        // kernel fills (no zero-filling pass first).
        let dx = with_slice::<T, _>(x, |xs| {
            with_slice::<T, _>(dy, |dys| {
                normshift_kernels::backward_vec_with(
                    &exec,
                    xs,
                    dys,
                    dims,
                    saved.kernel_view(),
                    gamma,
                    &mut dgamma,
                    &mut dbeta,
                )
                .map_err(candle_core::Error::wrap)
            })
            .and_then(|r| r)
        })
        .and_then(|r| r)?;
        let dev = dy.device();
        Ok((
            Tensor::from_vec(dx, self.shape.as_slice(), dev)?,
            Tensor::from_vec(dgamma, c, dev)?.to_dtype(param_dtype)?,
            Tensor::from_vec(dbeta, c, dev)?.to_dtype(param_dtype)?,
        ))
    }
}

/// Calls `f` with a CPU tensor's values in row-major order, without copying them when the
/// tensor is already contiguous.
fn with_slice<T: WithDType, R>(t: &Tensor, f: impl FnOnce(&[T]) -> R) -> candle_core::Result<R> {
    let t = t.contiguous()?;
    let (storage, layout) = t.storage_and_layout();
    match &*storage {
        candle_core::Storage::Cpu(cpu) => Ok(f(slice::<T>(cpu, layout)?)),
        _ => candle_core::bail!("normshift BatchNorm runs on the CPU"),
    }
}

/// A contiguous slice of a CPU storage as `T`.
fn slice<'a, T: WithDType>(s: &'a CpuStorage, l: &CandleLayout) -> candle_core::Result<&'a [T]> {
    let (start, end) = l.contiguous_offsets().ok_or_else(|| {
        candle_core::Error::Msg("normshift BatchNorm: input not contiguous".into())
    })?;
    Ok(&s.as_slice::<T>()?[start..end])
}

/// A per-channel parameter of any float type, widened to `f64`.
fn params(s: &CpuStorage, l: &CandleLayout) -> candle_core::Result<Vec<f64>> {
    Ok(match s {
        CpuStorage::F32(_) => slice::<f32>(s, l)?.iter().map(|&v| f64::from(v)).collect(),
        CpuStorage::F64(_) => slice::<f64>(s, l)?.to_vec(),
        CpuStorage::F16(_) => slice::<half::f16>(s, l)?
            .iter()
            .map(|v| v.to_f64())
            .collect(),
        CpuStorage::BF16(_) => slice::<half::bf16>(s, l)?
            .iter()
            .map(|v| v.to_f64())
            .collect(),
        other => candle_core::bail!(
            "normshift BatchNorm: gamma and beta must be floats, got {:?}",
            other.dtype()
        ),
    })
}

impl CustomOp3 for BatchNormOp {
    fn name(&self) -> &'static str {
        "normshift-batch-norm"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &CandleLayout,
        s2: &CpuStorage,
        l2: &CandleLayout,
        s3: &CpuStorage,
        l3: &CandleLayout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (gamma, beta) = (params(s2, l2)?, params(s3, l3)?);
        let y = match s1 {
            CpuStorage::F32(_) => self.forward(slice::<f32>(s1, l1)?, gamma, beta)?,
            CpuStorage::F64(_) => self.forward(slice::<f64>(s1, l1)?, gamma, beta)?,
            CpuStorage::F16(_) => self.forward(slice::<half::f16>(s1, l1)?, gamma, beta)?,
            CpuStorage::BF16(_) => self.forward(slice::<half::bf16>(s1, l1)?, gamma, beta)?,
            other => candle_core::bail!(
                "normshift BatchNorm: input must be f32, f64, f16 or bf16, got {:?}",
                other.dtype()
            ),
        };
        Ok((y, l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        weight: &Tensor,
        _bias: &Tensor,
        _y: &Tensor,
        dy: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let param_dtype = weight.dtype();
        let (dx, dgamma, dbeta) = match x.dtype() {
            DType::F32 => self.backward::<f32>(x, dy, param_dtype)?,
            DType::F64 => self.backward::<f64>(x, dy, param_dtype)?,
            DType::F16 => self.backward::<half::f16>(x, dy, param_dtype)?,
            DType::BF16 => self.backward::<half::bf16>(x, dy, param_dtype)?,
            other => candle_core::bail!("normshift BatchNorm: no backward for {other:?}"),
        };
        if self.affine {
            Ok((Some(dx), Some(dgamma), Some(dbeta)))
        } else {
            Ok((Some(dx), None, None))
        }
    }
}
