//! Command-line arguments.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Batch normalization and covariate shift, exact and explained.
#[derive(Debug, Parser)]
#[command(
    name = "normshift",
    version,
    about,
    long_about = None,
    after_help = "Exit codes: 0 success (drift: no drift), 1 drift found, 2 error, 130 interrupted.\nEach command's --help shows examples."
)]
pub struct Cli {
    /// Print machine-readable JSON on stdout instead of the human view.
    #[arg(long, global = true)]
    pub json: bool,
    /// No progress bar.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Walk through batch normalization of a list of numbers, step by step.
    #[command(
        after_help = "Examples:\n  normshift explain                 # the seed's batch: 1 2 3 4 5\n  normshift explain 1500 1600 1700 1800 1900 --gamma 2 --beta 0.5\n  normshift explain --json -- -3 -1 4"
    )]
    Explain(ExplainArgs),
    /// Run the built-in examples: the seed's batch and its house-size covariate shift.
    #[command(after_help = "Example:\n  normshift demo\n  normshift demo --json")]
    Demo,
    /// Summarize a data file into a mergeable JSON profile (moments, quantile sketch, categories).
    #[command(
        after_help = "Examples:\n  normshift fit train.csv -o train.profile.json\n  normshift fit part-0.parquet -o p0.json --columns size,price"
    )]
    Fit(FitArgs),
    /// Merge profiles of shards into the profile of their concatenation.
    #[command(after_help = "Example:\n  normshift merge p0.json p1.json p2.json -o all.json")]
    Merge(MergeArgs),
    /// Normalize numeric columns with a profile's statistics (inference mode) or the data's own (--adapt).
    #[command(
        after_help = "Examples:\n  normshift normalize deploy.csv --profile train.json -o deploy.normalized.csv\n  normshift normalize deploy.parquet --adapt -o deploy.adapted.parquet\n\nOther columns pass through unchanged. The output is written to a temporary file and renamed into place; it may not be an input."
    )]
    Normalize(NormalizeArgs),
    /// Compare current data against a reference (data or profile), feature by feature.
    #[command(
        after_help = "Examples:\n  normshift drift train.csv deploy.csv                 # tests on both raw files\n  normshift drift train.profile.json deploy.parquet    # against a profile (sketch-based tests)\n  normshift drift train.csv deploy.csv --json --correction benjamini-hochberg\n  normshift drift train.csv deploy.csv --html report.html\n\nExit codes: 0 no drift, 1 drift found, 2 error."
    )]
    Drift(DriftArgs),
    /// Measure the batch-norm kernels: time, GB/s, share of the same run's copy bandwidth.
    #[command(
        after_help = "Examples:\n  normshift bench                                  # every case, every core\n  normshift bench --case 64x64x56x56 --threads 1   # one shape, both layouts, one thread\n  normshift bench --case 32x3x224x224/channels-last --simd scalar\n  normshift bench --json > bench.json\n  normshift bench --threshold                      # where a second thread starts to pay"
    )]
    Bench(BenchArgs),
    /// Measure the seed's training claims: learning-rate sweep with and without batch norm,
    /// covariate shift on real data (no adaptation, AdaBN, retraining), the seed's house prices.
    #[command(
        after_help = "Examples:\n  normshift study                       # the README's configuration (about a minute)\n  normshift study --quick --out /tmp/s  # three learning rates, one seed, five epochs\n  normshift study --cnn                 # also a small convolutional network\n  normshift study --seeds 10 --json > study.json\n\nWrites lr-sweep.svg and learning-curves-lr*.svg into --out (temporary file, then rename)."
    )]
    Study(StudyArgs),
}

#[derive(Debug, Args)]
pub struct StudyArgs {
    /// A small configuration: learning rates 0.03, 1 and 10, one seed, five epochs.
    #[arg(long)]
    pub quick: bool,
    /// Number of seeds (each a different initialization and batch order).
    #[arg(long)]
    pub seeds: Option<usize>,
    /// Passes over the training images.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Also sweep a small convolutional network (two conv blocks; learning rates 0.01 to 10,
    /// two seeds, five epochs; a few minutes).
    #[arg(long)]
    pub cnn: bool,
    /// Directory for the plots (created if missing).
    #[arg(long, default_value = "normshift-study")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Case to run: a logical shape (`64x64x56x56`), optionally narrowed with
    /// `/channels-last` or `/channels-first` and `/f32` or `/f64`. Repeatable; default: all.
    #[arg(long = "case", value_name = "CASE")]
    pub cases: Vec<String>,
    /// Worker threads (0: every core this process may use).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Timed repetitions per measurement; the median is reported.
    #[arg(long, default_value_t = 15)]
    pub reps: usize,
    /// Instruction set for normshift's kernels [default: the best this CPU has].
    #[arg(long, value_enum)]
    pub simd: Option<SimdArg>,
    /// Instead of the cases: time one thread against all over growing sizes, to place the
    /// size below which kernels stay on one thread.
    #[arg(long)]
    pub threshold: bool,
    /// Skip the candle-nn comparison (it takes most of the run's time).
    #[arg(long)]
    pub no_candle: bool,
    /// In the candle training step, ask for huge pages for new outputs of 32 MiB or more
    /// (`Execution::with_huge_pages(true)`), to measure what they change.
    #[arg(long)]
    pub huge_pages: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SimdArg {
    Scalar,
    Avx2,
    Avx512,
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    /// Reference: a data file, or a profile from `normshift fit` (.json).
    pub reference: PathBuf,
    /// Current data file.
    pub current: PathBuf,
    /// Significance level after correction.
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
    /// Multiple-testing correction across features.
    #[arg(long, value_enum, default_value_t = CorrectionArg::Holm)]
    pub correction: CorrectionArg,
    /// Minimum Wasserstein-1 distance, in reference standard deviations, for a numeric feature to drift.
    #[arg(long, default_value_t = 0.1)]
    pub min_effect: f64,
    /// Minimum total-variation distance for a categorical feature to drift.
    #[arg(long, default_value_t = 0.1)]
    pub min_total_variation: f64,
    /// Minimum absolute change in missing or non-finite rate to count.
    #[arg(long, default_value_t = 0.02)]
    pub min_rate_change: f64,
    /// Share of drifted features that makes the dataset drift (0: any one feature).
    #[arg(long, default_value_t = 0.0)]
    pub dataset_share: f64,
    /// Proportion given to empty bins in PSI.
    #[arg(long, default_value_t = 1e-4)]
    pub psi_empty_bin: f64,
    /// Bins (reference quantiles) for PSI and Jensen-Shannon.
    #[arg(long, default_value_t = 10)]
    pub bins: usize,
    /// Sketch size for the current data when the reference is a profile (8 to 1,000,000).
    #[arg(long, default_value_t = 200, value_parser = sketch_k())]
    pub sketch_k: u32,
    /// Show every feature, not only the 20 most severe.
    #[arg(long)]
    pub all: bool,
    /// Also write a self-contained HTML report with plots to this file.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    #[command(flatten)]
    pub read: ReadArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CorrectionArg {
    None,
    Bonferroni,
    Holm,
    BenjaminiHochberg,
}

#[derive(Debug, Args)]
pub struct NormalizeArgs {
    /// The data file (CSV, Parquet, Arrow IPC); the output has the same format.
    pub data: PathBuf,
    /// Reference profile (from `normshift fit`) whose means and variances are used.
    #[arg(long, required_unless_present = "adapt", conflicts_with = "adapt")]
    pub profile: Option<PathBuf>,
    /// Use the data's own statistics instead (AdaBN: the seed's re-normalization of deployment data).
    #[arg(long)]
    pub adapt: bool,
    /// Where to write the normalized file.
    #[arg(short, long)]
    pub output: PathBuf,
    #[command(flatten)]
    pub affine: AffineArgs,
    #[command(flatten)]
    pub read: ReadArgs,
}

/// How to read data files.
#[derive(Debug, Args, Clone)]
pub struct ReadArgs {
    /// File format (default: from the extension).
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// CSV field delimiter (default `,`, tab for .tsv).
    #[arg(long, value_name = "CHAR")]
    pub delimiter: Option<char>,
    /// Only these columns (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub columns: Option<Vec<String>>,
    /// Leave these columns out (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub exclude: Vec<String>,
    /// Read these columns as categories even if they look numeric (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub categorical: Vec<String>,
    /// Rows per batch: memory use is proportional to it.
    #[arg(long, default_value_t = 65_536, value_name = "ROWS")]
    pub batch_rows: usize,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Csv,
    Parquet,
    Arrow,
}

#[derive(Debug, Args)]
pub struct FitArgs {
    /// The data file (CSV, Parquet, Arrow IPC).
    pub data: PathBuf,
    /// Where to write the profile (JSON).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Quantile-sketch size k, 8 to 1,000,000: larger is more accurate (rank error ~1.3% at
    /// 200) and bigger.
    #[arg(long, default_value_t = 200, value_parser = sketch_k())]
    pub sketch_k: u32,
    #[command(flatten)]
    pub read: ReadArgs,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Profiles to merge (at least two), all with the same columns.
    #[arg(required = true, num_args = 2..)]
    pub profiles: Vec<PathBuf>,
    /// Where to write the merged profile.
    #[arg(short, long)]
    pub output: PathBuf,
}

/// The scalars of `y = (x - mean) / sqrt(var + eps) * gamma + beta`.
#[derive(Debug, Args)]
pub struct AffineArgs {
    /// Scale applied after normalizing.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub gamma: f64,
    /// Shift applied after scaling.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub beta: f64,
    /// Added to the variance before the square root; must be > 0.
    #[arg(long, default_value_t = 1e-5)]
    pub eps: f64,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The values of one feature in one batch [default: 1 2 3 4 5].
    #[arg(allow_negative_numbers = true, value_name = "VALUES")]
    pub values: Vec<f64>,
    #[command(flatten)]
    pub affine: AffineArgs,
}

/// `--sketch-k`: below 8 the sketch has no error bound; above a million it is no longer small.
fn sketch_k() -> clap::builder::RangedI64ValueParser<u32> {
    clap::value_parser!(u32).range(8..=1_000_000)
}
