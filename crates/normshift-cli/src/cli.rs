//! Command-line arguments.

use crate::commands::fit::thousands;
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
    /// No progress bar and no notes on stderr (errors are still printed).
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
    /// Run the built-in examples: the seed's batch and house sizes, drift checks on them and on
    /// real data (Auto MPG), and quick training runs in candle.
    ///
    /// Sections: 1 the seed's batch normalized; 2 the house-size covariate shift; 3 what batch
    /// normalization gives each set; 4 a drift check on the house sizes; 5 a drift check on real
    /// data (Auto MPG, cars of 1970-1976 against 1977-1982); 6 training on the seed's house
    /// prices; 7 learning rates with and without batch norm and 8 a nuisance shift repaired by
    /// AdaBN (quick runs of `normshift study`).
    #[command(after_help = "Examples:\n  normshift demo\n  normshift demo --json")]
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
        after_help = "Examples:\n  normshift drift train.csv deploy.csv                 # tests on both raw files\n  normshift drift train.profile.json deploy.parquet    # against a profile (sketch-based tests)\n  normshift drift train.csv deploy.csv --json --correction benjamini-hochberg\n  normshift drift train.csv deploy.csv --html report.html\n\nExit codes: 0 no drift, 1 drift found, 2 error, 130 interrupted."
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
    /// Built-in case to run (no other shapes are accepted); the help text lists them.
    /// Repeatable; default: all.
    #[arg(long = "case", value_name = "CASE", help = case_help())]
    pub cases: Vec<String>,
    /// Worker threads (0: every core this process may use).
    #[arg(long, default_value_t = 0, allow_negative_numbers = true, value_parser = Whole::<usize>::at_least(0))]
    pub threads: usize,
    /// Timed repetitions per measurement; the median is reported.
    #[arg(long, default_value_t = 15, allow_negative_numbers = true, value_parser = Whole::<usize>::at_least(1))]
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
    /// Significance level after correction (above 0, below 1).
    #[arg(long, default_value_t = 0.05, allow_negative_numbers = true, value_parser = Bounded::open(0.0, 1.0))]
    pub alpha: f64,
    /// Multiple-testing correction across features.
    #[arg(long, value_enum, default_value_t = CorrectionArg::Holm)]
    pub correction: CorrectionArg,
    /// Minimum Wasserstein-1 distance, in reference standard deviations, for a numeric feature
    /// to drift (0 or more).
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true, value_parser = Bounded::at_least(0.0))]
    pub min_effect: f64,
    /// Minimum total-variation distance for a categorical feature to drift (0 to 1).
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true, value_parser = Bounded::closed(0.0, 1.0))]
    pub min_total_variation: f64,
    /// Minimum absolute change in missing or non-finite rate to count (0 to 1).
    #[arg(long, default_value_t = 0.02, allow_negative_numbers = true, value_parser = Bounded::closed(0.0, 1.0))]
    pub min_rate_change: f64,
    /// Share of drifted features that makes the dataset drift (0 to 1; 0: any one feature).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true, value_parser = Bounded::closed(0.0, 1.0))]
    pub dataset_share: f64,
    /// Proportion given to empty bins in PSI (above 0, below 1).
    #[arg(long, default_value_t = 1e-4, allow_negative_numbers = true, value_parser = Bounded::open(0.0, 1.0))]
    pub psi_empty_bin: f64,
    /// Bins (reference quantiles) for PSI and Jensen-Shannon (at least 2).
    #[arg(long, default_value_t = 10, allow_negative_numbers = true, value_parser = Whole::<usize>::at_least(2))]
    pub bins: usize,
    /// Sketch size for the current data when the reference is a profile (8 to 1,000,000).
    #[arg(long, default_value_t = 200, allow_negative_numbers = true, value_parser = sketch_k())]
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
    /// CSV field delimiter: one ASCII character, or `tab` or `\t` (backslash, t) for a tab
    /// [default: `,`, tab for .tsv].
    #[arg(long, value_name = "CHAR", value_parser = parse_delimiter)]
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
    #[arg(long, default_value_t = 65_536, value_name = "ROWS", allow_negative_numbers = true, value_parser = Whole::<usize>::at_least(1))]
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
    #[arg(long, default_value_t = 200, allow_negative_numbers = true, value_parser = sketch_k())]
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
    #[arg(long, default_value_t = 1e-5, allow_negative_numbers = true)]
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
fn sketch_k() -> Whole<u32> {
    Whole::between(8, 1_000_000)
}

/// The help of `bench --case`: the built-in cases, which are the only ones accepted.
fn case_help() -> String {
    let ids: Vec<String> = normshift_bench::default_cases()
        .iter()
        .map(|c| c.id())
        .collect();
    format!(
        "Built-in case to run; no other shapes are accepted: {}. A shape alone \
         (`64x64x56x56`) selects all of its cases; `/channels-first`, `/channels-last`, `/f32` \
         or `/f64` narrow it down. Repeatable; default: all",
        ids.join(", ")
    )
}

/// `--delimiter`: one ASCII character; `tab` and `\t` (a backslash and a t, as a shell passes
/// `'\t'`) name the tab.
fn parse_delimiter(text: &str) -> Result<char, String> {
    if text.eq_ignore_ascii_case("tab") || text == "\\t" {
        return Ok('\t');
    }
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii() => Ok(c),
        _ => Err(format!(
            "the delimiter must be one ASCII character, or `tab` or `\\t` for a tab; got '{text}'"
        )),
    }
}

/// The name an error gives an option: `--alpha`, or the value's name for a positional.
fn option_name(arg: Option<&clap::Arg>) -> String {
    match arg {
        Some(a) => match a.get_long() {
            Some(long) => format!("--{long}"),
            None => a.get_id().to_string(),
        },
        None => "the value".to_string(),
    }
}

/// A value that does not parse: the same words as clap's own message.
fn not_parsed(cmd: &clap::Command, arg: Option<&clap::Arg>, text: &str, why: &str) -> clap::Error {
    let arg = arg.map_or_else(|| "the value".to_string(), |a| a.to_string());
    clap::Error::raw(
        clap::error::ErrorKind::ValueValidation,
        format!("invalid value '{text}' for '{arg}': {why}\n"),
    )
    .with_cmd(cmd)
}

/// A number option checked against its range as it is parsed, so that a negative value is
/// read as a value (not as an unknown option) and one out of range is refused with the range.
#[derive(Clone, Copy, Debug)]
struct Bounded {
    min: f64,
    min_included: bool,
    max: f64,
    max_included: bool,
}

impl Bounded {
    /// Above `min` and below `max`.
    fn open(min: f64, max: f64) -> Self {
        Self {
            min,
            min_included: false,
            max,
            max_included: false,
        }
    }

    /// From `min` to `max`, both included.
    fn closed(min: f64, max: f64) -> Self {
        Self {
            min,
            min_included: true,
            max,
            max_included: true,
        }
    }

    /// `min` or more.
    fn at_least(min: f64) -> Self {
        Self {
            min,
            min_included: true,
            max: f64::INFINITY,
            max_included: true,
        }
    }

    fn contains(&self, v: f64) -> bool {
        let above = if self.min_included {
            v >= self.min
        } else {
            v > self.min
        };
        let below = if self.max_included {
            v <= self.max
        } else {
            v < self.max
        };
        above && below
    }

    fn describe(&self) -> String {
        match (
            self.min_included,
            self.max == f64::INFINITY,
            self.max_included,
        ) {
            (true, true, _) => format!("{} or more", self.min),
            (false, true, _) => format!("greater than {}", self.min),
            (true, false, true) => format!("from {} to {}", self.min, self.max),
            (false, false, false) => {
                format!("greater than {} and less than {}", self.min, self.max)
            }
            (true, false, false) => format!("at least {} and less than {}", self.min, self.max),
            (false, false, true) => format!("greater than {} and at most {}", self.min, self.max),
        }
    }
}

impl clap::builder::TypedValueParser for Bounded {
    type Value = f64;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<f64, clap::Error> {
        let text = value.to_string_lossy();
        let v: f64 = text
            .parse()
            .map_err(|e| not_parsed(cmd, arg, &text, &format!("{e}")))?;
        if self.contains(v) {
            Ok(v)
        } else {
            Err(clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!(
                    "{} is out of range: {text} (it must be {})\n",
                    option_name(arg),
                    self.describe()
                ),
            )
            .with_cmd(cmd))
        }
    }
}

/// A whole-number option checked against its range as it is parsed (see [`Bounded`]).
#[derive(Debug)]
struct Whole<T> {
    min: u64,
    max: u64,
    kind: std::marker::PhantomData<fn() -> T>,
}

impl<T> Clone for Whole<T> {
    fn clone(&self) -> Self {
        Self {
            min: self.min,
            max: self.max,
            kind: std::marker::PhantomData,
        }
    }
}

impl<T> Whole<T> {
    /// `min` or more.
    fn at_least(min: u64) -> Self {
        Self::between(min, u64::MAX)
    }

    /// From `min` to `max`, both included.
    fn between(min: u64, max: u64) -> Self {
        Self {
            min,
            max,
            kind: std::marker::PhantomData,
        }
    }

    fn describe(&self) -> String {
        match (self.min, self.max) {
            (min, u64::MAX) => format!("a whole number, {} or more", thousands(min)),
            (min, max) => format!(
                "a whole number from {} to {}",
                thousands(min),
                thousands(max)
            ),
        }
    }
}

impl<T: TryFrom<u64> + Clone + Send + Sync + 'static> clap::builder::TypedValueParser for Whole<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        let text = value.to_string_lossy();
        let n: i128 = text
            .parse()
            .map_err(|_| not_parsed(cmd, arg, &text, "not a whole number"))?;
        let fits = u64::try_from(n)
            .ok()
            .filter(|n| (self.min..=self.max).contains(n))
            .and_then(|n| T::try_from(n).ok());
        fits.ok_or_else(|| {
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!(
                    "{} is out of range: {text} (it must be {})\n",
                    option_name(arg),
                    self.describe()
                ),
            )
            .with_cmd(cmd)
        })
    }
}

/// The command line, with `-inf`, `-infinity` and `-nan` among `explain`'s values spelled so
/// that clap reads them as values (`-1e999`, which parses to `-inf`, and `nan`): clap takes
/// an argument with a leading `-` for an option unless the rest is a number by its own rule,
/// which `inf` is not, and `explain 1 -inf` failed with "unexpected argument '-i'".
pub fn args() -> Vec<std::ffi::OsString> {
    spell_special_values(std::env::args_os())
}

fn spell_special_values(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = args.into_iter().collect();
    // The subcommand is the first argument after the program's name that is not a flag
    // (the global options take no values).
    let command = args
        .iter()
        .skip(1)
        .position(|a| !a.to_string_lossy().starts_with('-'))
        .map(|i| i + 1);
    let Some(command) = command.filter(|&i| args[i] == "explain") else {
        return args;
    };
    for arg in &mut args[command + 1..] {
        if *arg == "--" {
            break;
        }
        let spelled = match arg.to_str().map(str::to_ascii_lowercase).as_deref() {
            Some("-inf" | "-infinity") => "-1e999",
            Some("-nan") => "nan",
            _ => continue,
        };
        *arg = spelled.into();
    }
    args
}
