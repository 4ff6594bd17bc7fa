//! How a kernel runs: on how many threads and with which instruction set.
//!
//! Both are explicit settings ([`Execution`]) rather than globals, so a caller (or a test)
//! can force the scalar path or a single thread. Results do not depend on either: work is
//! cut into tasks whose boundaries depend only on the tensor's shape, partial results are
//! combined in a fixed order, and no kernel uses fused multiply-add, so every instruction
//! set performs the same roundings in the same order.

/// Instruction set a kernel is compiled for, chosen at run time (never at build time: the
/// binary runs on any x86-64 and uses what the CPU offers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SimdLevel {
    /// Portable code for the build target's baseline (SSE2 on x86-64). Always available.
    Scalar,
    /// x86-64 with AVX2 and FMA (256-bit vectors).
    Avx2,
    /// x86-64 with AVX-512F/VL (512-bit vectors).
    Avx512,
}

impl SimdLevel {
    /// The best level this CPU supports.
    pub fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512vl")
                && std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return SimdLevel::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return SimdLevel::Avx2;
            }
        }
        SimdLevel::Scalar
    }

    /// Every level this CPU supports, lowest first (always starts with `Scalar`).
    pub fn available() -> Vec<SimdLevel> {
        let best = Self::detect();
        [SimdLevel::Scalar, SimdLevel::Avx2, SimdLevel::Avx512]
            .into_iter()
            .filter(|&l| l <= best)
            .collect()
    }

    /// This level if the CPU supports it, else the best one it does.
    pub fn supported(self) -> Self {
        self.min(Self::detect())
    }

    /// Short name (`"scalar"`, `"avx2"`, `"avx512"`).
    pub fn name(self) -> &'static str {
        match self {
            SimdLevel::Scalar => "scalar",
            SimdLevel::Avx2 => "avx2",
            SimdLevel::Avx512 => "avx512",
        }
    }
}

/// Tensors with fewer elements than this run on the calling thread by default.
///
/// Measured with `normshift bench --threshold` (training forward, `(N, 64)` f32, 2 cores,
/// 2026-11-25): split across 2 threads, 131,072 and 262,144 elements ran at 0.59× and 0.65×
/// the speed of one thread; 524,288 at 1.47×, 4,194,304 at 1.91×.
pub const DEFAULT_PARALLEL_MIN_LEN: usize = 1 << 19;

/// How a kernel call executes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Execution {
    /// Run tasks on the current rayon thread pool (the global one, or the pool whose
    /// `install` the call runs inside: that is how a caller chooses the thread count).
    /// `false` runs everything on the calling thread.
    pub parallel: bool,
    /// Tensors with fewer elements than this run on the calling thread even when
    /// `parallel` is set.
    pub parallel_min_len: usize,
    /// Instruction set; a level the CPU lacks is lowered to the best it has.
    pub simd: SimdLevel,
    /// Whether the allocating entry points (`*_vec_with`) ask Linux for transparent huge
    /// pages for outputs of 32 MiB or more (see [`output_vec`](crate::output_vec)). Off by
    /// default: measured, it makes a fresh 51 MB output 1.3-2.7x cheaper and most 51-103 MB
    /// candle training steps up to a third faster, but on a VM that hands freed memory back to its
    /// host it slowed the allocations made after it elsewhere in the process (README, "A
    /// training step in candle"). No effect on other systems or on buffers you pass.
    pub huge_pages: bool,
}

impl Default for Execution {
    /// Parallel on the current rayon pool above [`DEFAULT_PARALLEL_MIN_LEN`] elements,
    /// with the best instruction set this CPU has, ordinary pages for new outputs.
    fn default() -> Self {
        Self {
            parallel: true,
            parallel_min_len: DEFAULT_PARALLEL_MIN_LEN,
            simd: SimdLevel::detect(),
            huge_pages: false,
        }
    }
}

impl Execution {
    /// Everything on the calling thread, best instruction set.
    pub fn sequential() -> Self {
        Self {
            parallel: false,
            ..Self::default()
        }
    }

    /// The same settings with another instruction set (lowered to what the CPU has).
    pub fn with_simd(self, simd: SimdLevel) -> Self {
        Self {
            simd: simd.supported(),
            ..self
        }
    }

    /// The same settings with huge pages for new outputs on or off.
    pub fn with_huge_pages(self, huge_pages: bool) -> Self {
        Self { huge_pages, ..self }
    }

    /// Whether a tensor of `len` elements is split across threads.
    pub(crate) fn splits(&self, len: usize) -> bool {
        self.parallel && len >= self.parallel_min_len && rayon::current_num_threads() > 1
    }
}

/// A unit of work whose body is compiled once per instruction set.
///
/// `run` must be `#[inline(always)]` (and so must everything it calls in its hot loops), so
/// that the body is inlined into [`dispatch`]'s per-level trampolines and vectorized with
/// that level's instructions.
pub(crate) trait Task {
    type Output;
    fn run(self) -> Self::Output;
}

/// Runs `task` compiled for `level` (which must be supported: see [`SimdLevel::supported`]).
#[inline]
pub(crate) fn dispatch<K: Task>(level: SimdLevel, task: K) -> K::Output {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2,fma")]
        fn avx2<K: Task>(task: K) -> K::Output {
            task.run()
        }
        #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
        fn avx512<K: Task>(task: K) -> K::Output {
            task.run()
        }
        // Re-checked here so that a level built by hand (not through `supported`) can
        // never run instructions the CPU lacks.
        match level.supported() {
            // SAFETY: `supported()` returns Avx512 only when `detect()` saw avx512f,
            // avx512vl, avx2 and fma on this CPU, the features `avx512` is compiled with.
            SimdLevel::Avx512 => return unsafe { avx512(task) },
            // SAFETY: `supported()` returns Avx2 only when `detect()` saw avx2 and fma.
            SimdLevel::Avx2 => return unsafe { avx2(task) },
            SimdLevel::Scalar => {}
        }
    }
    let _ = level;
    task.run()
}
