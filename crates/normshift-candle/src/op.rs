//! The custom op: forward through normshift's layer, backward through its kernel.

use candle_core::backend::BackendStorage;
use candle_core::{
    CpuStorage, CustomOp3, DType, InplaceOp2, Layout as CandleLayout, Shape, Tensor, WithDType,
};
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
        let dev = dy.device();
        let params = |dgamma: Vec<f64>, dbeta: Vec<f64>| -> candle_core::Result<(Tensor, Tensor)> {
            Ok((
                Tensor::from_vec(dgamma, c, dev)?.to_dtype(param_dtype)?,
                Tensor::from_vec(dbeta, c, dev)?.to_dtype(param_dtype)?,
            ))
        };
        // candle's autograd hands each op a gradient that it made for this op alone (the seed
        // of ones, or the sum it accumulated) and detaches it, so nothing else can see it: dx
        // is then written over it, which spares a new tensor-sized buffer and its page faults
        // (README, "A training step in candle"). A gradient that still tracks a graph (with
        // candle's CANDLE_GRAD_DO_NOT_DETACH, for higher-order derivatives) or is a strided
        // view is left alone, and dx goes into new memory.
        if !dy.track_op()
            && dy.is_contiguous()
            && dy.dtype() == x.dtype()
            && gradients_are_private()
        {
            let over = DxOverDy {
                dims,
                saved: &saved,
                gamma,
                exec,
                sums: std::cell::RefCell::new((vec![0.0; c], vec![0.0; c])),
            };
            // Refused (by candle, if dy shared x's storage; or by the kernel's checks, made
            // before it writes anything): fall through to the separate dx, which reports any
            // real error.
            if dy.inplace_op2(&x.contiguous()?, &over).is_ok() {
                let (dgamma, dbeta) = over.sums.into_inner();
                let (dgamma, dbeta) = params(dgamma, dbeta)?;
                return Ok((dy.clone(), dgamma, dbeta));
            }
        }
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
        let (dgamma, dbeta) = params(dgamma, dbeta)?;
        Ok((
            Tensor::from_vec(dx, self.shape.as_slice(), dev)?,
            dgamma,
            dbeta,
        ))
    }
}

/// Whether the candle this is built with hands an op's backward a gradient that no other
/// tensor holds, so that writing `dx` over it is safe. candle 0.11.1 does (every gradient it
/// passes is the seed or a fresh sum); a later candle might share one, say between both
/// operands of an addition. Checked once per process on such a graph, `(y + v + y).sum()`
/// with `y = probe(x)` and `v` a `Var`, whose probe op overwrites its incoming gradient: if
/// `v`'s gradient then is not all ones, candle shared it, and `dx` always goes into new memory.
pub(crate) fn gradients_are_private() -> bool {
    static PRIVATE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *PRIVATE.get_or_init(|| probe_gradient_sharing().unwrap_or(false))
}

fn probe_gradient_sharing() -> candle_core::Result<bool> {
    let dev = candle_core::Device::Cpu;
    let x = candle_core::Var::new(&[1.0f64, 2.0, 3.0], &dev)?;
    let v = candle_core::Var::new(&[4.0f64, 5.0, 6.0], &dev)?;
    let y = x.as_tensor().apply_op1(OverwritingProbe)?;
    let grads = ((&y + v.as_tensor())? + &y)?.sum_all()?.backward()?;
    let Some(dv) = grads.get(v.as_tensor()) else {
        return Ok(false);
    };
    Ok(dv.to_vec1::<f64>()? == [1.0; 3])
}

/// The probe's op: forward copies `x`; backward overwrites the gradient it is handed (when
/// detached, as the layer's backward would) and returns it.
struct OverwritingProbe;

impl candle_core::CustomOp1 for OverwritingProbe {
    fn name(&self) -> &'static str {
        "normshift-gradient-probe"
    }

    fn cpu_fwd(
        &self,
        s: &CpuStorage,
        l: &CandleLayout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let values = slice::<f64>(s, l)?.to_vec();
        Ok((CpuStorage::F64(values), l.shape().clone()))
    }

    fn bwd(&self, _x: &Tensor, _y: &Tensor, dy: &Tensor) -> candle_core::Result<Option<Tensor>> {
        if !dy.track_op() && dy.is_contiguous() {
            dy.inplace_op1(&FillWith(7.0))?;
        }
        Ok(Some(dy.clone()))
    }
}

/// Sets every element of an f64 tensor to the value.
struct FillWith(f64);

impl candle_core::InplaceOp1 for FillWith {
    fn name(&self) -> &'static str {
        "normshift-fill"
    }

    fn cpu_fwd(&self, s: &mut CpuStorage, l: &CandleLayout) -> candle_core::Result<()> {
        let (start, end) = l
            .contiguous_offsets()
            .ok_or_else(|| candle_core::Error::Msg("fill: not contiguous".into()))?;
        match s {
            CpuStorage::F64(v) => v[start..end].fill(self.0),
            other => candle_core::bail!("fill: no {:?}", other.dtype()),
        }
        Ok(())
    }
}

/// The backward as a candle in-place op on `dy` (with `x` as its second operand): `dy`
/// becomes `dx`; the per-channel sums land in `sums` (`dgamma`, `dbeta`).
struct DxOverDy<'a> {
    dims: normshift_kernels::Dims,
    saved: &'a SavedStatistics,
    gamma: Option<&'a [f64]>,
    exec: normshift::Execution,
    sums: std::cell::RefCell<(Vec<f64>, Vec<f64>)>,
}

impl DxOverDy<'_> {
    fn run<T: Element + WithDType>(&self, x: &[T], dy: &mut [T]) -> candle_core::Result<()> {
        let (dgamma, dbeta) = &mut *self.sums.borrow_mut();
        normshift_kernels::backward_in_place_with(
            &self.exec,
            x,
            dy,
            self.dims,
            self.saved.kernel_view(),
            self.gamma,
            dgamma,
            dbeta,
        )
        .map_err(candle_core::Error::wrap)
    }
}

impl InplaceOp2 for DxOverDy<'_> {
    fn name(&self) -> &'static str {
        "normshift-batch-norm-backward"
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &CandleLayout,
        s2: &CpuStorage,
        l2: &CandleLayout,
    ) -> candle_core::Result<()> {
        let (start, end) = l1.contiguous_offsets().ok_or_else(|| {
            candle_core::Error::Msg("normshift BatchNorm: dy not contiguous".into())
        })?;
        match s1 {
            CpuStorage::F32(dy) => self.run(slice::<f32>(s2, l2)?, &mut dy[start..end]),
            CpuStorage::F64(dy) => self.run(slice::<f64>(s2, l2)?, &mut dy[start..end]),
            CpuStorage::F16(dy) => self.run(slice::<half::f16>(s2, l2)?, &mut dy[start..end]),
            CpuStorage::BF16(dy) => self.run(slice::<half::bf16>(s2, l2)?, &mut dy[start..end]),
            other => candle_core::bail!("normshift BatchNorm: no backward for {:?}", other.dtype()),
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    /// An op that has run its forward (training mode, channels-first) on `x`.
    fn op_after_forward(x: &Tensor, gamma: &Tensor, beta: &Tensor) -> BatchNormOp {
        let config = normshift::BatchNormConfig::new(x.dim(1).unwrap());
        let layer = Arc::new(Mutex::new(normshift::BatchNorm::new(config).unwrap()));
        let op = BatchNormOp::new(
            layer,
            Mode::TRAIN,
            Layout::ChannelsFirst,
            x.dims().to_vec(),
            true,
        );
        x.apply_op3_no_bwd(gamma, beta, &op).unwrap();
        op
    }

    #[test]
    fn the_candle_we_build_with_hands_out_private_gradients() {
        // If a candle update starts sharing gradients between tensors, this fails (and the
        // layer falls back to a new dx at run time): look at the probe before updating.
        assert!(probe_gradient_sharing().unwrap());
        assert!(gradients_are_private());
    }

    #[test]
    fn dx_is_written_over_a_detached_gradient_and_never_over_a_tracked_one() {
        let dev = Device::Cpu;
        let x = Tensor::new(&[[1.0f64, -2.0, 0.5], [3.0, 4.0, -1.5]], &dev).unwrap();
        let gamma = Tensor::new(&[1.5f64, 0.5, 2.0], &dev).unwrap();
        let beta = Tensor::new(&[0.0f64, 1.0, -1.0], &dev).unwrap();
        let dy_values = [[0.3f64, -1.0, 2.0], [0.7, 0.25, -0.5]];
        let op = op_after_forward(&x, &gamma, &beta);

        // A gradient that tracks a graph (here a Var, as a gradient is with candle's
        // CANDLE_GRAD_DO_NOT_DETACH): dx goes into new memory, dy stays as it was.
        let tracked = Var::new(&dy_values, &dev).unwrap();
        let (dx_new, dg_new, db_new) = op
            .backward::<f64>(&x, tracked.as_tensor(), DType::F64)
            .unwrap();
        assert_eq!(tracked.as_tensor().to_vec2::<f64>().unwrap(), dy_values);

        // A detached gradient, as candle's autograd hands over: dx is written over it, with
        // the same values as the separate dx.
        let detached = Tensor::new(&dy_values, &dev).unwrap();
        assert!(!detached.track_op());
        let (dx, dg, db) = op.backward::<f64>(&x, &detached, DType::F64).unwrap();
        let want = dx_new.to_vec2::<f64>().unwrap();
        assert_eq!(dx.to_vec2::<f64>().unwrap(), want);
        assert_eq!(detached.to_vec2::<f64>().unwrap(), want, "dx went over dy");
        assert_ne!(want, dy_values);
        assert_eq!(
            dg.to_vec1::<f64>().unwrap(),
            dg_new.to_vec1::<f64>().unwrap()
        );
        assert_eq!(
            db.to_vec1::<f64>().unwrap(),
            db_new.to_vec1::<f64>().unwrap()
        );

        // A strided gradient: new memory, dy untouched.
        let wide = Tensor::new(&[[0.3f64, 0.7], [-1.0, 0.25], [2.0, -0.5]], &dev).unwrap();
        let strided = wide.t().unwrap();
        assert!(!strided.is_contiguous());
        let (dx_s, _, _) = op.backward::<f64>(&x, &strided, DType::F64).unwrap();
        assert_eq!(dx_s.to_vec2::<f64>().unwrap(), want);
        assert_eq!(strided.to_vec2::<f64>().unwrap(), dy_values);
    }
}
