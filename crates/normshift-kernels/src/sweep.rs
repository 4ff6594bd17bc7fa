//! The fast sweeps every kernel is built from, over the canonical `outer × channels × inner`
//! form:
//!
//! - [`channel_sums`]: per channel, `Σ w` and `Σ w·(x − center)`, where `w = x − center`
//!   (moments, as shifted sums) or `w = dy` (the backward reduction);
//! - [`channel_affine`]: `y = (x − center)·scale + shift` per channel (forward, fixed-statistics
//!   backward);
//! - [`reduce_map`]: a reduction, then an affine map whose coefficients come from its sums
//!   (`dx = a·dy + b·(x − center) + d` in the batch-statistics backward).
//!
//! Two walks cover every layout. *Rows*: when a channel's values come in contiguous runs of
//! at least [`MIN_ROW`] (`inner`, channels-first), each run is one vectorized loop with
//! scalar per-channel constants. *Interleaved*: shorter runs (channels-last, `(N, C)`) are
//! walked in super-rows of `k` outer rows whose width `W = k·channels·inner` is at least 512
//! (and a multiple of 8 when one row is shorter than that), with the per-channel constants
//! expanded to `W` positions, so the loop is vectorized across positions whatever the channel
//! count (3 channels included).
//!
//! Work is cut into tasks whose boundaries depend only on the shape; partial sums of a task
//! are folded in a fixed order, and tasks are combined in index order, so the sums are
//! bit-identical for any thread count. Accumulation is in `f64` (16 independent lanes per run
//! in the rows walk, one accumulator per position in the interleaved walk).

use crate::exec::{dispatch, Execution, Task};
use crate::{Dims, Element};
use rayon::prelude::*;
use std::mem::MaybeUninit;

/// Runs of at least this many values of one channel are walked as rows.
pub(crate) const MIN_ROW: usize = 64;
/// Minimum super-row width of the interleaved walk: each vectorized loop then covers at least
/// 512 values, which amortizes its set-up (alias checks); at 64 the set-up cost about as much
/// as the work (measured). Its per-position arrays (4 coefficients, 2 accumulators, 8 bytes
/// each) stay within L1 for rows of up to about 600 values; a wider row (`channels · inner`
/// of one outer index) needs scratch in proportion to its width (over 100 bytes per value of
/// one row, counting the buffers of both passes, plus 16 per extra thread), still not in
/// proportion to the tensor.
const MIN_WIDTH: usize = 512;
/// Independent accumulators per row: enough to hide the latency of `f64` additions at
/// 512-bit vector width.
const LANES: usize = 16;
/// Elements per task: large enough that scheduling costs little (~20 µs of work each),
/// small enough to balance two or more threads on the benchmark shapes.
const TASK_ELEMS: usize = 1 << 16;
/// Bytes of per-task partial sums the interleaved walk may keep (2 `f64` per channel and
/// task): 16 MiB allows 1,024 tasks at 1,024 channels, 16 at 65,536; none of the benchmark
/// shapes reaches it.
const PARTIAL_BUDGET: usize = 16 << 20;

#[derive(Clone, Copy, Debug)]
enum Walk {
    Rows,
    /// `width` = elements per super-row (`k` outer rows of `channels · inner` each).
    Interleaved {
        width: usize,
    },
}

impl Walk {
    fn of(dims: Dims) -> Walk {
        if dims.inner >= MIN_ROW {
            return Walk::Rows;
        }
        let row = dims.channels * dims.inner;
        let mut k = if row >= MIN_WIDTH { 1 } else { 8 / gcd(row, 8) };
        while row * k < MIN_WIDTH {
            k *= 2;
        }
        Walk::Interleaved { width: row * k }
    }
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Sum of 16 lanes in a fixed pairwise order.
#[inline(always)]
fn lane_sum(a: &[f64; LANES]) -> f64 {
    let mut s = [0.0f64; 8];
    for j in 0..8 {
        s[j] = a[j] + a[j + 8];
    }
    let t = [s[0] + s[4], s[1] + s[5], s[2] + s[6], s[3] + s[7]];
    (t[0] + t[2]) + (t[1] + t[3])
}

/// `(Σ w, Σ w·(x − c))` over one contiguous run; `w = x − c` unless `WEIGHTED`.
#[inline(always)]
fn run_sums<T: Element, const WEIGHTED: bool>(x: &[T], w: &[T], c: f64) -> (f64, f64) {
    let (mut a1, mut a2) = ([0.0f64; LANES], [0.0f64; LANES]);
    let (xb, xr) = x.as_chunks::<LANES>();
    let (wb, wr) = w.as_chunks::<LANES>();
    for (xs, ws) in xb.iter().zip(wb) {
        for j in 0..LANES {
            let d = xs[j].to_f64() - c;
            let v = if WEIGHTED { ws[j].to_f64() } else { d };
            a1[j] += v;
            a2[j] += v * d;
        }
    }
    for j in 0..xr.len() {
        let d = xr[j].to_f64() - c;
        let v = if WEIGHTED { wr[j].to_f64() } else { d };
        a1[j] += v;
        a2[j] += v * d;
    }
    (lane_sum(&a1), lane_sum(&a2))
}

/// Rows walk, one task: sums of the runs `first..first + out.len()` (global run indices;
/// `x` and `w` start at run `first`).
struct RowSums<'a, T, const WEIGHTED: bool> {
    x: &'a [T],
    w: &'a [T],
    inner: usize,
    channels: usize,
    first: usize,
    center: &'a [f64],
    out: &'a mut [[f64; 2]],
}

impl<T: Element, const WEIGHTED: bool> Task for RowSums<'_, T, WEIGHTED> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let inner = self.inner;
        for (k, out) in self.out.iter_mut().enumerate() {
            let span = k * inner..(k + 1) * inner;
            let c = self.center[(self.first + k) % self.channels];
            // Unweighted runs pass `x` as `w` (ignored): an empty `w` would cut the zip short.
            let xs = &self.x[span.clone()];
            let ws = if WEIGHTED { &self.w[span] } else { xs };
            let (s1, s2) = run_sums::<T, WEIGHTED>(xs, ws, c);
            *out = [s1, s2];
        }
    }
}

/// Interleaved walk, one task: `x` and `w` hold whole super-rows (the last may be short);
/// `acc1`/`acc2` (`width` each) receive the position-wise sums.
struct InterleavedSums<'a, T, const WEIGHTED: bool> {
    x: &'a [T],
    w: &'a [T],
    width: usize,
    center: &'a [f64],
    acc1: &'a mut [f64],
    acc2: &'a mut [f64],
}

impl<T: Element, const WEIGHTED: bool> Task for InterleavedSums<'_, T, WEIGHTED> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        self.acc1.fill(0.0);
        self.acc2.fill(0.0);
        let width = self.width;
        // One super-row at a time (the last may be short): equal-length slices and one
        // indexed loop, the shape LLVM's loop vectorizer handles reliably. Two designs were
        // measured slower: unrolled 16-wide blocks with register accumulators (left scalar
        // by LLVM), and four super-rows per pass (four input streams 2 KiB apart defeat the
        // prefetchers: 64×64×56×56 channels-last backward at 36% of copy bandwidth against 46-50%).
        for (i, xs) in self.x.chunks(width).enumerate() {
            let n = xs.len();
            let ws = if WEIGHTED {
                &self.w[i * width..i * width + n]
            } else {
                xs
            };
            let (c, a1, a2) = (&self.center[..n], &mut self.acc1[..n], &mut self.acc2[..n]);
            for j in 0..n {
                let d = xs[j].to_f64() - c[j];
                let v = if WEIGHTED { ws[j].to_f64() } else { d };
                a1[j] += v;
                a2[j] += v * d;
            }
        }
    }
}

/// Per channel: `s1 = Σ w`, `s2 = Σ w·(x − center)`, with `w = x − center` when `w` is
/// `None`. Lengths must already be checked (`x`, `w`: `dims.len()`; the rest: channels).
pub(crate) fn channel_sums<T: Element>(
    exec: &Execution,
    x: &[T],
    w: Option<&[T]>,
    dims: Dims,
    center: &[f64],
    s1: &mut [f64],
    s2: &mut [f64],
) {
    match w {
        Some(w) => channel_sums_impl::<T, true>(exec, x, w, dims, center, s1, s2),
        None => channel_sums_impl::<T, false>(exec, x, &[], dims, center, s1, s2),
    }
}

fn channel_sums_impl<T: Element, const WEIGHTED: bool>(
    exec: &Execution,
    x: &[T],
    w: &[T],
    dims: Dims,
    center: &[f64],
    s1: &mut [f64],
    s2: &mut [f64],
) {
    s1.fill(0.0);
    s2.fill(0.0);
    if dims.is_empty() {
        return;
    }
    let level = exec.simd.supported();
    let parallel = exec.splits(dims.len());
    match Walk::of(dims) {
        Walk::Rows => {
            let inner = dims.inner;
            let runs = dims.outer * dims.channels;
            let per_task = (TASK_ELEMS / inner).max(1);
            let mut partial = vec![[0.0f64; 2]; runs];
            let task = |(t, out): (usize, &mut [[f64; 2]])| {
                let first = t * per_task;
                let span = first * inner..(first + out.len()) * inner;
                let task = RowSums::<T, WEIGHTED> {
                    x: &x[span.clone()],
                    w: if WEIGHTED { &w[span] } else { &[] },
                    inner,
                    channels: dims.channels,
                    first,
                    center,
                    out,
                };
                dispatch(level, task);
            };
            for_each_chunk(&mut partial, per_task, parallel, task);
            // Runs of one channel are combined in outer order, whatever the task split.
            for (run, [p1, p2]) in partial.iter().enumerate() {
                let c = run % dims.channels;
                s1[c] += p1;
                s2[c] += p2;
            }
        }
        Walk::Interleaved { width } => {
            let row = dims.channels * dims.inner;
            let expanded: Vec<f64> = (0..width).map(|p| center[(p % row) / dims.inner]).collect();
            // Each task keeps 2·channels partial sums until they are combined in order; with
            // many channels and many super-rows that grew with the tensor (16 bytes per
            // element for 65,536 channels), so tasks are lengthened to keep the partials
            // within PARTIAL_BUDGET, by a rule of the shape alone (results stay
            // bit-identical for any thread count).
            let super_rows = dims.len().div_ceil(width);
            let max_tasks = (PARTIAL_BUDGET / (16 * dims.channels)).max(1);
            let per_task = (TASK_ELEMS / width)
                .max(1)
                .max(super_rows.div_ceil(max_tasks))
                * width;
            let tasks = dims.len().div_ceil(per_task);
            let mut partial = vec![0.0f64; tasks * 2 * dims.channels];
            let fold = |t: usize, out: &mut [f64], scratch: &mut Vec<f64>| {
                let span = t * per_task..((t + 1) * per_task).min(dims.len());
                scratch.resize(2 * width, 0.0);
                let (acc1, acc2) = scratch.split_at_mut(width);
                let task = InterleavedSums::<T, WEIGHTED> {
                    x: &x[span.clone()],
                    w: if WEIGHTED { &w[span] } else { &[] },
                    width,
                    center: &expanded,
                    acc1,
                    acc2,
                };
                dispatch(level, task);
                let (o1, o2) = out.split_at_mut(dims.channels);
                for p in 0..width {
                    let c = (p % row) / dims.inner;
                    o1[c] += acc1[p];
                    o2[c] += acc2[p];
                }
            };
            let chunk = 2 * dims.channels;
            if parallel {
                partial
                    .par_chunks_mut(chunk)
                    .enumerate()
                    .for_each_init(Vec::new, |scratch, (t, out)| fold(t, out, scratch));
            } else {
                let mut scratch = Vec::new();
                for (t, out) in partial.chunks_mut(chunk).enumerate() {
                    fold(t, out, &mut scratch);
                }
            }
            for out in partial.chunks(chunk) {
                let (o1, o2) = out.split_at(dims.channels);
                for c in 0..dims.channels {
                    s1[c] += o1[c];
                    s2[c] += o2[c];
                }
            }
        }
    }
}

/// The affine map that follows a reduction, for one channel: `out = a·w + b·(x − center) + d`
/// after a weighted reduction, `out = (x − center)·b + d` (`a` unused) after an unweighted one.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct MapCoef {
    pub center: f64,
    pub a: f64,
    pub b: f64,
    pub d: f64,
}

/// A reduction followed by a map whose coefficients depend on the reduction's sums
/// (training forward: moments, then normalize; backward: gradient sums, then `dx`).
///
/// `s1`, `s2` receive the sums of [`channel_sums`]; `finish(c, s1, s2)` gives channel `c`'s
/// map, applied to `x` (and `w` when given).
///
/// Both passes stream the whole tensor. Running them channel by channel, so that the second
/// pass reads a channel from L2, was tried and measured slower on the project machine (2
/// threads, f32: 64×64×56×56 channels-first training forward at 32% of copy bandwidth instead
/// of 57%, 256×256×14×14 at 18% instead of 56%): a channel's runs are strided across the
/// batch, and the prefetchers lose the sequential stream.
#[allow(clippy::too_many_arguments)]
pub(crate) fn reduce_map<T: Element>(
    exec: &Execution,
    x: &[T],
    w: Option<&[T]>,
    dims: Dims,
    sum_center: &[f64],
    finish: &dyn Fn(usize, f64, f64) -> MapCoef,
    out: &mut [MaybeUninit<T>],
    s1: &mut [f64],
    s2: &mut [f64],
) {
    channel_sums(exec, x, w, dims, sum_center, s1, s2);
    let [center, a, b, d] = map_coefficients(dims, finish, s1, s2);
    let k = Coefficients {
        center: &center,
        a: &a,
        b: &b,
        d: &d,
    };
    match w {
        Some(w) => affine_impl::<T, true>(exec, x, w, dims, k, out),
        None => affine_impl::<T, false>(exec, x, &[], dims, k, out),
    }
}

/// [`reduce_map`] after a weighted reduction, with the map written over its weights:
/// `w = a·w + b·(x − center) + d` in place (the backward's `dx` over `dy`). Same bits as
/// `reduce_map` with `Some(w)` and a separate output.
#[allow(clippy::too_many_arguments)]
pub(crate) fn reduce_map_in_place<T: Element>(
    exec: &Execution,
    x: &[T],
    w: &mut [T],
    dims: Dims,
    sum_center: &[f64],
    finish: &dyn Fn(usize, f64, f64) -> MapCoef,
    s1: &mut [f64],
    s2: &mut [f64],
) {
    channel_sums(exec, x, Some(w), dims, sum_center, s1, s2);
    let [center, a, b, d] = map_coefficients(dims, finish, s1, s2);
    let k = Coefficients {
        center: &center,
        a: &a,
        b: &b,
        d: &d,
    };
    in_place_impl::<T, true>(exec, x, w, dims, k);
}

/// The per-channel `center`, `a`, `b`, `d` that `finish` gives for the sums `s1`, `s2`.
fn map_coefficients(
    dims: Dims,
    finish: &dyn Fn(usize, f64, f64) -> MapCoef,
    s1: &[f64],
    s2: &[f64],
) -> [Vec<f64>; 4] {
    let coef: Vec<MapCoef> = (0..dims.channels)
        .map(|c| finish(c, s1[c], s2[c]))
        .collect();
    let pick = |f: fn(&MapCoef) -> f64| coef.iter().map(f).collect::<Vec<f64>>();
    [
        pick(|k| k.center),
        pick(|k| k.a),
        pick(|k| k.b),
        pick(|k| k.d),
    ]
}

/// Per-channel constants of an affine map: `out = a·u + b·(x − center) + d`.
#[derive(Clone, Copy)]
struct Coefficients<'a> {
    center: &'a [f64],
    a: &'a [f64],
    b: &'a [f64],
    d: &'a [f64],
}

/// One task of an affine map over whole runs (rows walk) or super-rows (interleaved walk).
/// `TWO_INPUTS`: `out = a·u + b·(x − center) + d`; otherwise `out = (x − center)·b + d`
/// (`u` and `a` unused).
struct AffineTask<'a, T, const TWO_INPUTS: bool> {
    x: &'a [T],
    u: &'a [T],
    out: &'a mut [MaybeUninit<T>],
    /// Rows walk: run length and the first run's channel; interleaved: `None`.
    rows: Option<(usize, usize, usize)>,
    k: Coefficients<'a>,
}

#[inline(always)]
fn affine_run<T: Element, const TWO_INPUTS: bool>(
    x: &[T],
    u: &[T],
    out: &mut [MaybeUninit<T>],
    (c, a, b, d): (f64, f64, f64, f64),
) {
    if TWO_INPUTS {
        for ((o, xv), uv) in out.iter_mut().zip(x).zip(u) {
            o.write(T::from_f64(a * uv.to_f64() + b * (xv.to_f64() - c) + d));
        }
    } else {
        for (o, xv) in out.iter_mut().zip(x) {
            o.write(T::from_f64((xv.to_f64() - c) * b + d));
        }
    }
}

impl<T: Element, const TWO_INPUTS: bool> Task for AffineTask<'_, T, TWO_INPUTS> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let k = self.k;
        match self.rows {
            Some((inner, channels, first_channel)) => {
                let mut c = first_channel;
                for (i, (xs, os)) in self
                    .x
                    .chunks(inner)
                    .zip(self.out.chunks_mut(inner))
                    .enumerate()
                {
                    let us = if TWO_INPUTS {
                        &self.u[i * inner..(i + 1) * inner]
                    } else {
                        &[]
                    };
                    let a = if TWO_INPUTS { k.a[c] } else { 0.0 };
                    affine_run::<T, TWO_INPUTS>(xs, us, os, (k.center[c], a, k.b[c], k.d[c]));
                    c += 1;
                    if c == channels {
                        c = 0;
                    }
                }
            }
            None => affine_rows::<T, TWO_INPUTS>(self.x, self.u, self.out, k),
        }
    }
}

/// Interleaved affine map over whole super-rows (the last may be short), one super-row per
/// vectorized loop (see `InterleavedSums` for the designs measured slower).
#[inline(always)]
fn affine_rows<T: Element, const TWO_INPUTS: bool>(
    x: &[T],
    u: &[T],
    out: &mut [MaybeUninit<T>],
    k: Coefficients<'_>,
) {
    let width = k.center.len();
    for (i, os) in out.chunks_mut(width).enumerate() {
        let n = os.len();
        let xs = &x[i * width..i * width + n];
        let us = if TWO_INPUTS {
            &u[i * width..i * width + n]
        } else {
            xs
        };
        let (c, a, b, d) = (&k.center[..n], &k.a[..n], &k.b[..n], &k.d[..n]);
        for j in 0..n {
            os[j].write(affine_value::<T, TWO_INPUTS>(
                xs[j], us[j], c[j], a[j], b[j], d[j],
            ));
        }
    }
}

#[inline(always)]
fn affine_value<T: Element, const TWO_INPUTS: bool>(
    x: T,
    u: T,
    c: f64,
    a: f64,
    b: f64,
    d: f64,
) -> T {
    T::from_f64(if TWO_INPUTS {
        a * u.to_f64() + b * (x.to_f64() - c) + d
    } else {
        (x.to_f64() - c) * b + d
    })
}

/// `y = (x − center)·scale + shift` per channel.
pub(crate) fn channel_affine<T: Element>(
    exec: &Execution,
    x: &[T],
    dims: Dims,
    center: &[f64],
    scale: &[f64],
    shift: &[f64],
    y: &mut [MaybeUninit<T>],
) {
    let zeros = vec![0.0; dims.channels];
    let k = Coefficients {
        center,
        a: &zeros,
        b: scale,
        d: shift,
    };
    affine_impl::<T, false>(exec, x, &[], dims, k, y);
}

fn affine_impl<T: Element, const TWO_INPUTS: bool>(
    exec: &Execution,
    x: &[T],
    u: &[T],
    dims: Dims,
    k: Coefficients<'_>,
    out: &mut [MaybeUninit<T>],
) {
    if dims.is_empty() {
        return;
    }
    let level = exec.simd.supported();
    let parallel = exec.splits(dims.len());
    with_plan(dims, k, |plan| {
        let task = |(t, os): (usize, &mut [MaybeUninit<T>])| {
            let start = t * plan.per_task;
            let span = start..start + os.len();
            let task = AffineTask::<T, TWO_INPUTS> {
                x: &x[span.clone()],
                u: if TWO_INPUTS { &u[span] } else { &[] },
                out: os,
                rows: plan.rows(start),
                k: plan.k,
            };
            dispatch(level, task);
        };
        for_each_chunk(out, plan.per_task, parallel, task);
    });
}

/// Calls `task((i, chunk))` for the `i`-th `per_task`-element chunk of `data`, on the current
/// rayon pool when `parallel`, else in order on this thread.
fn for_each_chunk<E: Send>(
    data: &mut [E],
    per_task: usize,
    parallel: bool,
    task: impl Fn((usize, &mut [E])) + Send + Sync,
) {
    if parallel {
        data.par_chunks_mut(per_task).enumerate().for_each(task);
    } else {
        data.chunks_mut(per_task).enumerate().for_each(task);
    }
}

/// How an affine map over `dims` is cut into tasks.
struct Plan<'a> {
    /// Elements per task (whole runs, or whole super-rows).
    per_task: usize,
    /// `Some((inner, channels))` for the rows walk.
    rows: Option<(usize, usize)>,
    /// Per channel (rows walk) or per super-row position (interleaved walk).
    k: Coefficients<'a>,
}

impl Plan<'_> {
    /// A task's `rows` argument for a task starting at element `start`.
    fn rows(&self, start: usize) -> Option<(usize, usize, usize)> {
        self.rows
            .map(|(inner, channels)| (inner, channels, (start / inner) % channels))
    }
}

/// Calls `f` with the plan of an affine map over `dims` (not empty) with per-channel `k`.
fn with_plan<R>(dims: Dims, k: Coefficients<'_>, f: impl FnOnce(&Plan<'_>) -> R) -> R {
    match Walk::of(dims) {
        Walk::Rows => f(&Plan {
            per_task: (TASK_ELEMS / dims.inner).max(1) * dims.inner,
            rows: Some((dims.inner, dims.channels)),
            k,
        }),
        Walk::Interleaved { width } => {
            let row = dims.channels * dims.inner;
            let expand =
                |v: &[f64]| -> Vec<f64> { (0..width).map(|p| v[(p % row) / dims.inner]).collect() };
            let expanded = [expand(k.center), expand(k.a), expand(k.b), expand(k.d)];
            f(&Plan {
                per_task: (TASK_ELEMS / width).max(1) * width,
                rows: None,
                k: Coefficients {
                    center: &expanded[0],
                    a: &expanded[1],
                    b: &expanded[2],
                    d: &expanded[3],
                },
            })
        }
    }
}

/// One task of an affine map written over one of its inputs, `io`: with `TWO_INPUTS`,
/// `io = a·io + b·(x − center) + d`; otherwise `io = (io − center)·b + d` (`x` and `a`
/// unused). The same arithmetic, in the same order, as [`AffineTask`].
struct InPlaceTask<'a, T, const TWO_INPUTS: bool> {
    x: &'a [T],
    io: &'a mut [T],
    /// As in [`AffineTask`].
    rows: Option<(usize, usize, usize)>,
    k: Coefficients<'a>,
}

impl<T: Element, const TWO_INPUTS: bool> Task for InPlaceTask<'_, T, TWO_INPUTS> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let k = self.k;
        match self.rows {
            Some((inner, channels, first_channel)) => {
                let mut c = first_channel;
                for (i, ios) in self.io.chunks_mut(inner).enumerate() {
                    let (center, a, b, d) = (k.center[c], k.a[c], k.b[c], k.d[c]);
                    if TWO_INPUTS {
                        let xs = &self.x[i * inner..i * inner + ios.len()];
                        for (o, &xv) in ios.iter_mut().zip(xs) {
                            *o = affine_value::<T, true>(xv, *o, center, a, b, d);
                        }
                    } else {
                        for o in ios.iter_mut() {
                            *o = affine_value::<T, false>(*o, *o, center, a, b, d);
                        }
                    }
                    c += 1;
                    if c == channels {
                        c = 0;
                    }
                }
            }
            None => {
                let width = k.center.len();
                for (i, ios) in self.io.chunks_mut(width).enumerate() {
                    let n = ios.len();
                    let (c, a, b, d) = (&k.center[..n], &k.a[..n], &k.b[..n], &k.d[..n]);
                    if TWO_INPUTS {
                        let xs = &self.x[i * width..i * width + n];
                        for j in 0..n {
                            ios[j] = affine_value::<T, true>(xs[j], ios[j], c[j], a[j], b[j], d[j]);
                        }
                    } else {
                        for j in 0..n {
                            ios[j] =
                                affine_value::<T, false>(ios[j], ios[j], c[j], a[j], b[j], d[j]);
                        }
                    }
                }
            }
        }
    }
}

/// `y = (y − center)·scale + shift` per channel, in place.
pub(crate) fn channel_affine_in_place<T: Element>(
    exec: &Execution,
    y: &mut [T],
    dims: Dims,
    center: &[f64],
    scale: &[f64],
    shift: &[f64],
) {
    let zeros = vec![0.0; dims.channels];
    let k = Coefficients {
        center,
        a: &zeros,
        b: scale,
        d: shift,
    };
    in_place_impl::<T, false>(exec, &[], y, dims, k);
}

fn in_place_impl<T: Element, const TWO_INPUTS: bool>(
    exec: &Execution,
    x: &[T],
    io: &mut [T],
    dims: Dims,
    k: Coefficients<'_>,
) {
    if dims.is_empty() {
        return;
    }
    let level = exec.simd.supported();
    let parallel = exec.splits(dims.len());
    with_plan(dims, k, |plan| {
        let task = |(t, ios): (usize, &mut [T])| {
            let start = t * plan.per_task;
            let task = InPlaceTask::<T, TWO_INPUTS> {
                x: if TWO_INPUTS {
                    &x[start..start + ios.len()]
                } else {
                    &[]
                },
                io: ios,
                rows: plan.rows(start),
                k: plan.k,
            };
            dispatch(level, task);
        };
        for_each_chunk(io, plan.per_task, parallel, task);
    });
}
