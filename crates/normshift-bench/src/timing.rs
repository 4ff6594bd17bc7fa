use rayon::prelude::*;
use std::time::Instant;

/// Median wall time of `reps` calls of `f`, in milliseconds, after one untimed warm-up call.
pub fn median_ms<E>(reps: usize, mut f: impl FnMut() -> Result<(), E>) -> Result<f64, E> {
    f()?;
    let mut times = Vec::with_capacity(reps);
    for _ in 0..reps.max(1) {
        let start = Instant::now();
        f()?;
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    Ok(times[times.len() / 2])
}

/// Times `op` and a parallel copy `src → dst` alternately (`reps` each, after one warm-up of
/// each), so both see the same machine conditions; returns the median ms of `op` and the
/// copy's bandwidth (bytes read + written per second, GB/s).
pub fn paired_ms<T: Copy + Send + Sync, E>(
    reps: usize,
    src: &[T],
    dst: &mut [T],
    mut op: impl FnMut() -> Result<(), E>,
) -> Result<(f64, f64), E> {
    let piece = (256 * 1024 / std::mem::size_of::<T>().max(1)).max(1);
    let copy = |dst: &mut [T]| {
        let start = Instant::now();
        dst.par_chunks_mut(piece)
            .zip(src.par_chunks(piece))
            .for_each(|(d, s)| d.copy_from_slice(s));
        start.elapsed().as_secs_f64() * 1e3
    };
    op()?;
    copy(dst);
    let (mut op_ms, mut copy_ms) = (Vec::new(), Vec::new());
    for _ in 0..reps.max(1) {
        let start = Instant::now();
        op()?;
        op_ms.push(start.elapsed().as_secs_f64() * 1e3);
        copy_ms.push(copy(dst));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let bytes = 2 * std::mem::size_of_val(src);
    let gbps = bytes as f64 / (median(&mut copy_ms) * 1e-3) / 1e9;
    Ok((median(&mut op_ms), gbps))
}

/// Bandwidth of a parallel copy `src → dst` (bytes read + bytes written per second, GB/s),
/// on the current rayon pool: the ceiling for a kernel that streams the same buffers.
pub fn copy_gbps<T: Copy + Send + Sync>(src: &[T], dst: &mut [T], reps: usize) -> f64 {
    // 256 KiB pieces: large enough for full-speed streaming, enough of them to share out.
    let piece = (256 * 1024 / std::mem::size_of::<T>().max(1)).max(1);
    let ms = median_ms::<()>(reps, || {
        dst.par_chunks_mut(piece)
            .zip(src.par_chunks(piece))
            .for_each(|(d, s)| d.copy_from_slice(s));
        Ok(())
    })
    .unwrap_or(f64::NAN);
    let bytes = 2 * std::mem::size_of_val(src);
    bytes as f64 / (ms * 1e-3) / 1e9
}
