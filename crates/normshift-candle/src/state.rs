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
    /// `running_var` (in the dtype the layer was made with) and `num_batches_tracked`
    /// (i64, zero-dimensional) when running statistics are tracked. Fails when a running
    /// statistic does not fit in that dtype (a variance above 65504 in f16, say), rather than
    /// write an infinity that no loader accepts.
    pub fn state_dict(&self, prefix: &str) -> candle_core::Result<HashMap<String, Tensor>> {
        let mut out = HashMap::new();
        let dtype = self.dtype;
        let dev = Device::Cpu;
        if let (Some(w), Some(b)) = (&self.weight, &self.bias) {
            out.insert(format!("{prefix}weight"), w.as_tensor().detach());
            out.insert(format!("{prefix}bias"), b.as_tensor().detach());
        }
        if let Some(r) = self.running_stats() {
            let name = |key: &str| format!("{prefix}{key}");
            let mean = narrowed(&name("running_mean"), &r.running_mean, dtype)?;
            let var = narrowed(&name("running_var"), &r.running_var, dtype)?;
            out.insert(name("running_mean"), mean);
            out.insert(name("running_var"), var);
            let n = i64::try_from(r.num_batches_tracked).unwrap_or(i64::MAX);
            out.insert(
                format!("{prefix}num_batches_tracked"),
                Tensor::new(n, &dev)?,
            );
        }
        Ok(out)
    }

    /// Loads a state named as [`BatchNorm::state_dict`] writes it (and PyTorch's
    /// `state_dict()`): every expected key must be present with `num_features` values, except
    /// `num_batches_tracked`, which PyTorch before 0.4.1 did not write: without it the layer
    /// keeps its own count, as PyTorch does.
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
        // gamma and beta as the Vars will hold them: finite before and after the conversion
        // (the layer refuses non-finite ones at its next forward, too late to refuse the file).
        let param = |name: &str, var: &candle_core::Var| -> candle_core::Result<Tensor> {
            let v = values(name)?;
            if let Some((i, bad)) = v.iter().enumerate().find(|(_, x)| !x.is_finite()) {
                candle_core::bail!("'{prefix}{name}'[{i}] = {bad} is invalid: must be finite");
            }
            narrowed(&format!("{prefix}{name}"), &v, var.dtype())?.to_device(var.device())
        };
        let params = match (&self.weight, &self.bias) {
            (Some(w), Some(b)) => Some((w, b, param("weight", w)?, param("bias", b)?)),
            _ => None,
        };
        let running = if self.running_stats().is_some() {
            // PyTorch before 0.4.1 wrote no num_batches_tracked; PyTorch then keeps the
            // module's own count (`_NormBase._load_from_state_dict`).
            let count = match tensors.get(&format!("{prefix}num_batches_tracked")) {
                Some(t) => batch_count(t, prefix)?,
                None => self.running_stats().map_or(0, |r| r.num_batches_tracked),
            };
            let stats = RunningStats {
                running_mean: values("running_mean")?,
                running_var: values("running_var")?,
                num_batches_tracked: count,
            };
            // Statistics the layer could not save in its dtype are refused here too.
            narrowed(
                &format!("{prefix}running_mean"),
                &stats.running_mean,
                self.dtype,
            )?;
            narrowed(
                &format!("{prefix}running_var"),
                &stats.running_var,
                self.dtype,
            )?;
            Some(stats)
        } else {
            None
        };
        // Check the statistics (finite, variances ≥ 0) before touching anything; the
        // parameters are already checked, and setting them cannot fail.
        if let Some(r) = running {
            self.set_running_stats(r)?;
        }
        if let Some((w, b, wv, bv)) = params {
            w.set(&wv)?;
            b.set(&bv)?;
        }
        Ok(())
    }

    /// Writes [`BatchNorm::state_dict`] to a safetensors file, through a temporary file in the
    /// same folder, flushed to disk and renamed into place (an existing file is replaced whole
    /// or not at all). A new file gets the mode any new file gets (0o666 less the umask), a
    /// replaced one keeps its mode, as normshift's other outputs (until 2026-11-30 the file
    /// was private, 0o600, the temporary file's mode, so a server under another user could not
    /// read it).
    pub fn save_safetensors(&self, path: &Path, prefix: &str) -> candle_core::Result<()> {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut builder = tempfile::Builder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // The kernel applies the umask to this mode when it creates the file.
            let mode = std::fs::metadata(path).map_or(0o666, |m| m.permissions().mode() & 0o777);
            builder.permissions(std::fs::Permissions::from_mode(mode));
        }
        let mut tmp = builder.tempfile_in(dir)?;
        // Serialized here and written into our temporary file: candle's `save` (safetensors
        // 0.8) writes a temporary file of its own, private (0o600), and renames it over the
        // path it is given, which would discard the mode chosen above.
        let bytes = safetensors::serialize(self.state_dict(prefix)?, None)
            .map_err(|e| candle_core::Error::Msg(format!("cannot serialize the state: {e}")))?;
        std::io::Write::write_all(tmp.as_file_mut(), &bytes)?;
        #[cfg(unix)]
        if let Ok(existing) = std::fs::metadata(path) {
            // The creation mode was masked by the umask; a replaced file keeps its own.
            std::fs::set_permissions(tmp.path(), existing.permissions())?;
        }
        tmp.as_file().sync_all()?;
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

/// `values` as a 1-D tensor of `dtype` on the CPU, refusing a finite value that the
/// conversion turns into an infinity (a variance above 65504 in f16, say).
fn narrowed(name: &str, values: &[f64], dtype: DType) -> candle_core::Result<Tensor> {
    let t = Tensor::from_vec(values.to_vec(), values.len(), &Device::Cpu)?.to_dtype(dtype)?;
    let back: Vec<f64> = t.to_dtype(DType::F64)?.to_vec1()?;
    if let Some((i, (v, _))) = values
        .iter()
        .zip(&back)
        .enumerate()
        .find(|(_, (v, b))| v.is_finite() && !b.is_finite())
    {
        candle_core::bail!("'{name}'[{i}] = {v:e} does not fit in {dtype:?}");
    }
    Ok(t)
}

/// 2^64, one past `u64::MAX` (which as an `f64` rounds up to it).
const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;

/// `num_batches_tracked`: one number, an integer >= 0 (PyTorch writes an i64; a float is
/// accepted when it holds such an integer).
fn batch_count(t: &Tensor, prefix: &str) -> candle_core::Result<u64> {
    let name = format!("{prefix}num_batches_tracked");
    let t = t.flatten_all()?;
    if t.elem_count() != 1 {
        candle_core::bail!("'{name}' must hold one number, not {}", t.elem_count());
    }
    if t.dtype().is_float() {
        let v = t.to_dtype(DType::F64)?.to_vec1::<f64>()?[0];
        if !(v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < TWO_POW_64) {
            candle_core::bail!("'{name}' is {v}: must be an integer >= 0");
        }
        return Ok(v as u64);
    }
    let n = t.to_dtype(DType::I64)?.to_vec1::<i64>()?[0];
    u64::try_from(n).map_err(|_| candle_core::Error::Msg(format!("'{name}' is {n}")))
}
