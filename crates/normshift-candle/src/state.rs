//! Save and load under PyTorch's `state_dict` names, so a PyTorch `BatchNorm` exported to
//! safetensors loads unchanged, and the other way round.

use crate::BatchNorm;
use candle_core::{DType, Device, Tensor};
use normshift::RunningStats;
use std::collections::HashMap;
use std::path::Path;

/// PyTorch's names for a batch-norm module's state, as `state_dict()` lists them.
pub const PYTORCH_NAMES: [&str; 5] = [
    "weight",
    "bias",
    "running_mean",
    "running_var",
    "num_batches_tracked",
];

impl BatchNorm {
    /// The layer's state as PyTorch names it, each key prefixed with `prefix` (for example
    /// `"features.1."`): `weight` and `bias` (with affine parameters), `running_mean`,
    /// `running_var` (in the parameters' dtype, f32 without them) and `num_batches_tracked`
    /// (i64, zero-dimensional) when running statistics are tracked.
    pub fn state_dict(&self, prefix: &str) -> candle_core::Result<HashMap<String, Tensor>> {
        let mut out = HashMap::new();
        let dtype = self.weight.as_ref().map_or(DType::F32, |w| w.dtype());
        let dev = Device::Cpu;
        if let (Some(w), Some(b)) = (&self.weight, &self.bias) {
            out.insert(format!("{prefix}weight"), w.as_tensor().detach());
            out.insert(format!("{prefix}bias"), b.as_tensor().detach());
        }
        if let Some(r) = self.running_stats() {
            let c = r.running_mean.len();
            let v = |d: &[f64]| Tensor::from_vec(d.to_vec(), c, &dev)?.to_dtype(dtype);
            out.insert(format!("{prefix}running_mean"), v(&r.running_mean)?);
            out.insert(format!("{prefix}running_var"), v(&r.running_var)?);
            let n = i64::try_from(r.num_batches_tracked).unwrap_or(i64::MAX);
            out.insert(
                format!("{prefix}num_batches_tracked"),
                Tensor::new(n, &dev)?,
            );
        }
        Ok(out)
    }

    /// Loads a state named as [`BatchNorm::state_dict`] writes it (and PyTorch's
    /// `state_dict()`): every expected key must be present with `num_features` values.
    /// Nothing changes unless everything checks out.
    pub fn load_state_dict(
        &self,
        tensors: &HashMap<String, Tensor>,
        prefix: &str,
    ) -> candle_core::Result<()> {
        let c = self.config().num_features;
        let get = |name: &str| -> candle_core::Result<&Tensor> {
            tensors.get(&format!("{prefix}{name}")).ok_or_else(|| {
                candle_core::Error::Msg(format!("state has no tensor '{prefix}{name}'"))
            })
        };
        let values = |name: &str| -> candle_core::Result<Vec<f64>> {
            let t = get(name)?;
            if t.elem_count() != c || t.rank() != 1 {
                candle_core::bail!(
                    "'{prefix}{name}' has shape {:?}, but the layer has num_features = {c}",
                    t.dims()
                );
            }
            t.to_dtype(DType::F64)?.to_vec1()
        };
        let params = match (&self.weight, &self.bias) {
            (Some(w), Some(b)) => Some((w, b, values("weight")?, values("bias")?)),
            _ => None,
        };
        let running = if self.running_stats().is_some() {
            let n = get("num_batches_tracked")?;
            let n = n.flatten_all()?.to_dtype(DType::I64)?.to_vec1::<i64>()?;
            let [n] = n.as_slice() else {
                candle_core::bail!("'{prefix}num_batches_tracked' must hold one number");
            };
            Some(RunningStats {
                running_mean: values("running_mean")?,
                running_var: values("running_var")?,
                num_batches_tracked: u64::try_from(*n).map_err(|_| {
                    candle_core::Error::Msg(format!("'{prefix}num_batches_tracked' is {n}"))
                })?,
            })
        } else {
            None
        };
        // Check the statistics (finite, variances ≥ 0) before touching anything.
        if let Some(r) = running {
            self.set_running_stats(r)?;
        }
        if let Some((w, b, wv, bv)) = params {
            w.set(&Tensor::from_vec(wv, c, w.device())?.to_dtype(w.dtype())?)?;
            b.set(&Tensor::from_vec(bv, c, b.device())?.to_dtype(b.dtype())?)?;
        }
        Ok(())
    }

    /// Writes [`BatchNorm::state_dict`] to a safetensors file, through a temporary file in the
    /// same folder renamed into place (an existing file is replaced whole or not at all).
    pub fn save_safetensors(&self, path: &Path, prefix: &str) -> candle_core::Result<()> {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let tmp = tempfile::NamedTempFile::new_in(dir)?;
        candle_core::safetensors::save(&self.state_dict(prefix)?, tmp.path())?;
        tmp.persist(path)
            .map_err(|e| candle_core::Error::Io(e.error))?;
        Ok(())
    }

    /// Loads a safetensors file written by [`BatchNorm::save_safetensors`] or by PyTorch
    /// (`safetensors.torch.save_file(module.state_dict(), path)`).
    pub fn load_safetensors(&self, path: &Path, prefix: &str) -> candle_core::Result<()> {
        let tensors = candle_core::safetensors::load(path, &Device::Cpu)
            .map_err(|e| candle_core::Error::Msg(format!("cannot read {}: {e}", path.display())))?;
        self.load_state_dict(&tensors, prefix)
            .map_err(|e| candle_core::Error::Msg(format!("{}: {e}", path.display())))
    }
}
