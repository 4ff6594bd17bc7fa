//! Benchmarks of normshift's batch-norm kernels, as `normshift bench` runs them.
//!
//! Every figure is relative to something measured in the same run: the memory bandwidth of
//! a plain parallel copy over buffers of the same size (the most a memory-bound kernel can
//! reach), and, when enabled, a peer implementation on the same data.
//!
//! ```no_run
//! let options = normshift_bench::Options { reps: 5, ..Default::default() };
//! for m in normshift_bench::run(&options, |_| {}).unwrap() {
//!     println!("{} {} {} {:.2} ms {:.1} GB/s", m.case, m.layout, m.op, m.ms, m.gbps);
//! }
//! ```
#![deny(missing_docs)]

mod cases;
#[cfg(feature = "candle")]
mod peer;
mod timing;

pub use cases::{default_cases, Case, DType, Op};
pub use timing::{copy_gbps, median_ms, paired_ms};

use normshift_kernels::{
    backward_with, canonical_dims, forward_eval_with, forward_train_with, inverse_std, Affine,
    Element, Execution, Gradients, Saved, SimdLevel, StatisticsSource,
};
use serde::Serialize;

/// Why a benchmark could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BenchError {
    /// No case matched the filters.
    #[error("no benchmark case matches {0}; cases: {1}")]
    NoCase(String, String),
    /// The thread pool could not be built.
    #[error("cannot start {threads} threads: {message}")]
    Threads {
        /// Threads requested.
        threads: usize,
        /// What rayon said.
        message: String,
    },
    /// A kernel refused its arguments (a bug in the benchmark's shapes).
    #[error(transparent)]
    Kernel(#[from] normshift_kernels::KernelError),
    /// The peer implementation failed.
    #[error("candle-nn failed: {0}")]
    Peer(String),
}

/// What to run.
#[derive(Clone, Debug)]
pub struct Options {
    /// Case names to run (as in [`Case::name`]); empty runs every default case.
    pub cases: Vec<String>,
    /// Worker threads; 0 means every core this process may use.
    pub threads: usize,
    /// Timed repetitions per measurement (the median is reported), after one warm-up.
    pub reps: usize,
    /// Instruction set for our kernels (lowered to what the CPU has).
    pub simd: SimdLevel,
    /// Also time candle-nn's `BatchNorm` on the same data (needs the `candle` feature).
    pub peer: bool,
    /// New outputs of 32 MiB or more (the candle training step's `y` and `dx`, and the
    /// do-nothing layer's copy) ask for huge pages ([`Execution::huge_pages`], off by default).
    pub huge_pages: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            cases: Vec::new(),
            threads: 0,
            reps: 15,
            simd: SimdLevel::detect(),
            peer: cfg!(feature = "candle"),
            huge_pages: false,
        }
    }
}

/// One line of results.
#[derive(Clone, Debug, Serialize)]
pub struct Measurement {
    /// Logical shape, channels-first order (`N x C x spatial…`).
    pub case: String,
    /// `channels-first` or `channels-last` storage.
    pub layout: &'static str,
    /// Element type.
    pub dtype: &'static str,
    /// `forward_train`, `forward_eval` or `backward`.
    pub op: &'static str,
    /// Median wall time of one call, milliseconds.
    pub ms: f64,
    /// Effective bandwidth: bytes the operation must move (forward: x read + y written;
    /// backward: x and dy read + dx written) per second, in GB/s (1e9 bytes).
    pub gbps: f64,
    /// Bandwidth of a parallel copy of a buffer of the same size, same threads, timed
    /// alternately with the operation (median).
    pub copy_gbps: f64,
    /// `gbps / copy_gbps`.
    pub bandwidth_ratio: f64,
    /// Worker threads used.
    pub threads: usize,
    /// Instruction set used by our kernels.
    pub simd: &'static str,
    /// Median ms of candle-nn's `BatchNorm` doing the same operation on the same data, same
    /// run (`None` when the peer is off).
    pub candle_ms: Option<f64>,
    /// `candle_ms / ms`.
    pub speedup: Option<f64>,
    /// For `candle_train_step`: median ms of the same step with a layer that does nothing
    /// (its forward copies `x`, its backward returns `dy`), which is what candle's autograd
    /// costs any layer; `None` for the other operations.
    pub floor_ms: Option<f64>,
    /// `candle_ms / floor_ms`: the largest speed-up over candle-nn any layer could show in
    /// this training step.
    pub speedup_cap: Option<f64>,
}

/// Runs the benchmark, calling `progress` with each measurement as it completes.
pub fn run(
    options: &Options,
    mut progress: impl FnMut(&Measurement),
) -> Result<Vec<Measurement>, BenchError> {
    let cases = select(&options.cases)?;
    let pool = thread_pool(options.threads)?;
    let threads = pool.current_num_threads();
    let exec = Execution::default()
        .with_simd(options.simd)
        .with_huge_pages(options.huge_pages);
    let mut out = Vec::new();
    for case in &cases {
        let reps = options.reps.max(1);
        let peer = options.peer;
        let (results, peer_ms, floor) = pool.install(|| match case.dtype {
            DType::F32 => measure_both::<f32>(case, &exec, reps, peer),
            DType::F64 => measure_both::<f64>(case, &exec, reps, peer),
        })?;
        for (i, (op, ms, bytes, copy)) in results.into_iter().enumerate() {
            let candle_ms = peer_ms.get(i).copied();
            let floor_ms = floor.filter(|_| op == Op::CandleTrainStep);
            let gbps = bytes as f64 / (ms * 1e-3) / 1e9;
            let m = Measurement {
                case: case.name(),
                layout: case.layout_name(),
                dtype: case.dtype.name(),
                op: op.name(),
                ms,
                gbps,
                copy_gbps: copy,
                bandwidth_ratio: gbps / copy,
                threads,
                simd: exec.simd.name(),
                candle_ms,
                speedup: candle_ms.map(|p| p / ms),
                floor_ms,
                speedup_cap: candle_ms.zip(floor_ms).map(|(p, f)| p / f),
            };
            progress(&m);
            out.push(m);
        }
    }
    Ok(out)
}

/// The thread pool a run uses: `threads` workers, or every core when 0.
pub fn thread_pool(threads: usize) -> Result<rayon::ThreadPool, BenchError> {
    let n = if threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        threads
    };
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .map_err(|e| BenchError::Threads {
            threads: n,
            message: e.to_string(),
        })
}

/// One size of [`threshold_sweep`].
#[derive(Clone, Debug, Serialize)]
pub struct ThresholdPoint {
    /// Elements in the tensor (`N × 64`, f32).
    pub elements: usize,
    /// Median ms on the calling thread.
    pub sequential_ms: f64,
    /// Median ms split across the pool, whatever the size.
    pub parallel_ms: f64,
}

/// Times `forward_train` on `(N, 64)` f32 tensors from 4 Ki to 4 Mi elements, on one thread
/// and split across `threads` (0: every core), to place
/// [`normshift_kernels::DEFAULT_PARALLEL_MIN_LEN`].
pub fn threshold_sweep(
    threads: usize,
    reps: usize,
    simd: SimdLevel,
) -> Result<Vec<ThresholdPoint>, BenchError> {
    let pool = thread_pool(threads)?;
    let seq = Execution::sequential().with_simd(simd);
    let par = Execution {
        parallel_min_len: 0,
        ..Execution::default().with_simd(simd)
    };
    let reps = reps.max(1) * 4;
    let mut out = Vec::new();
    for shift in 12..=22 {
        let len = 1usize << shift;
        let dims = canonical_dims(&[len / 64, 64], normshift_kernels::Layout::ChannelsFirst)?;
        let mut x = vec![0.0f32; len];
        fill(&mut x, 3, 1.0);
        let mut y = vec![0.0f32; len];
        let (mut m, mut v) = (vec![0.0; 64], vec![0.0; 64]);
        let mut time = |exec: &Execution| {
            pool.install(|| {
                median_ms(reps, || {
                    forward_train_with(exec, &x, dims, None, 1e-5, &mut y, &mut m, &mut v)
                })
            })
        };
        let sequential_ms = time(&seq)?;
        let parallel_ms = time(&par)?;
        out.push(ThresholdPoint {
            elements: len,
            sequential_ms,
            parallel_ms,
        });
    }
    Ok(out)
}

fn select(names: &[String]) -> Result<Vec<Case>, BenchError> {
    let all = default_cases();
    if names.is_empty() {
        return Ok(all);
    }
    // Every filter must select something: a mistyped one among good ones is an error, not
    // a silently shorter run.
    if let Some(unmatched) = names.iter().find(|n| !all.iter().any(|c| c.matches(n))) {
        let known: Vec<String> = all.iter().map(|c| c.id()).collect();
        return Err(BenchError::NoCase(unmatched.clone(), known.join(", ")));
    }
    Ok(all
        .into_iter()
        .filter(|c| names.iter().any(|n| c.matches(n)))
        .collect())
}

/// Deterministic test data: a cheap generator (the values only need to be ordinary floats).
fn fill<T: Element>(buf: &mut [T], seed: u64, offset: f64) {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for v in buf.iter_mut() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        *v = T::from_f64(offset + (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0);
    }
}

type OpResult = (Op, f64, usize, f64);

/// A float type both we and the peer handle.
#[cfg(feature = "candle")]
trait BenchFloat: Element + candle_core::WithDType {}
#[cfg(feature = "candle")]
impl<T: Element + candle_core::WithDType> BenchFloat for T {}
#[cfg(not(feature = "candle"))]
trait BenchFloat: Element {}
#[cfg(not(feature = "candle"))]
impl<T: Element> BenchFloat for T {}

#[allow(clippy::type_complexity)]
fn measure_both<T: BenchFloat>(
    case: &Case,
    exec: &Execution,
    reps: usize,
    peer: bool,
) -> Result<(Vec<OpResult>, Vec<f64>, Option<f64>), BenchError> {
    let dims = canonical_dims(&case.storage_shape(), case.layout)?;
    let zero = <T as Element>::from_f64(0.0);
    let (mut x, mut dy) = (vec![zero; dims.len()], vec![zero; dims.len()]);
    fill(&mut x, 1, 3.0);
    fill(&mut dy, 2, 0.0);
    #[allow(unused_mut)]
    let mut ours = measure(case, exec, reps, &x, &dy)?;
    #[allow(unused_mut)]
    let mut theirs = Vec::new();
    #[allow(unused_mut)]
    let mut floor = None;
    if peer {
        #[cfg(feature = "candle")]
        {
            // The peer is 1-2 orders of magnitude slower: fewer repetitions.
            let reps = (reps / 3).max(3);
            let peer_err = |e: candle_core::Error| BenchError::Peer(e.to_string());
            theirs.extend(peer::candle_ms(case, &x, &dy, reps).map_err(peer_err)?);
            let [step_ours, step_theirs, step_floor] =
                peer::train_step_ms(case, &x, reps, exec).map_err(peer_err)?;
            let bytes = std::mem::size_of::<T>() * dims.len();
            let copy = ours.first().map_or(f64::NAN, |r| r.3);
            // Forward (x read, y written) plus backward (x, dy read, dx written).
            ours.push((Op::CandleTrainStep, step_ours, 5 * bytes, copy));
            theirs.push(step_theirs);
            floor = Some(step_floor);
        }
    }
    Ok((ours, theirs, floor))
}

fn measure<T: Element>(
    case: &Case,
    exec: &Execution,
    reps: usize,
    x: &[T],
    dy: &[T],
) -> Result<Vec<OpResult>, BenchError> {
    let dims = canonical_dims(&case.storage_shape(), case.layout)?;
    let (len, c) = (dims.len(), dims.channels);
    let mut y = vec![T::from_f64(0.0); len];
    let gamma: Vec<f64> = (0..c).map(|i| 1.0 + i as f64 / c as f64).collect();
    let beta: Vec<f64> = (0..c).map(|i| i as f64 / c as f64).collect();
    let affine = Some(Affine {
        gamma: &gamma,
        beta: &beta,
    });
    let (mut mean, mut var) = (vec![0.0; c], vec![0.0; c]);
    let eps = 1e-5;
    let bytes = std::mem::size_of::<T>() * len;
    // The copy runs from `dy` into `scratch`, buffers the kernels do not write.
    let mut scratch = vec![T::from_f64(0.0); len];
    let (train, copy_train) = paired_ms(reps, dy, &mut scratch, || {
        forward_train_with(exec, x, dims, affine, eps, &mut y, &mut mean, &mut var)
    })?;
    let running_var: Vec<f64> = var.iter().map(|v| v * 1.1).collect();
    let (eval, copy_eval) = paired_ms(reps, dy, &mut scratch, || {
        forward_eval_with(exec, x, dims, &mean, &running_var, affine, eps, &mut y)
    })?;
    let invstd: Vec<f64> = var.iter().map(|&v| inverse_std(v, eps)).collect();
    let (mut dgamma, mut dbeta) = (vec![0.0; c], vec![0.0; c]);
    let (backward, copy_backward) = paired_ms(reps, dy, &mut scratch, || {
        let saved = Saved {
            mean: &mean,
            invstd: &invstd,
            source: StatisticsSource::Batch,
        };
        let grads = Gradients {
            dx: &mut y,
            dgamma: &mut dgamma,
            dbeta: &mut dbeta,
        };
        backward_with(exec, x, dy, dims, saved, Some(&gamma), grads)
    })?;
    Ok(vec![
        (Op::ForwardTrain, train, 2 * bytes, copy_train),
        (Op::ForwardEval, eval, 2 * bytes, copy_eval),
        (Op::Backward, backward, 3 * bytes, copy_backward),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_case_filter_must_select_something() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let ids = |cases: Vec<Case>| cases.iter().map(Case::id).collect::<Vec<_>>();
        assert_eq!(
            ids(select(&names(&["256x256x14x14/f32", "64x64x56x56/f64"])).unwrap()),
            // In the order of the default cases, not of the filters.
            [
                "256x256x14x14/channels-first/f32",
                "64x64x56x56/channels-first/f64"
            ]
        );
        assert_eq!(select(&[]).unwrap().len(), default_cases().len());
        match select(&names(&["64x64x56x56", "256x256x14x14/f64"])) {
            Err(BenchError::NoCase(name, known)) => {
                assert_eq!(name, "256x256x14x14/f64");
                assert!(
                    known.contains("256x256x14x14/channels-first/f32"),
                    "{known}"
                );
            }
            other => panic!("expected NoCase, got {other:?}"),
        }
    }
}
