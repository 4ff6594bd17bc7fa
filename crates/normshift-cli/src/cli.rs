//! Command-line arguments.

use clap::{Args, Parser, Subcommand};

/// Batch normalization and covariate shift, exact and explained.
#[derive(Debug, Parser)]
#[command(name = "normshift", version, about, long_about = None)]
pub struct Cli {
    /// Print machine-readable JSON on stdout instead of the human view.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Walk through batch normalization of a list of numbers, step by step.
    #[command(
        after_help = "Examples:\n  normshift explain                 # the seed's batch: 1 2 3 4 5\n  normshift explain 1500 1600 1700 1800 1900 --gamma 2 --beta 0.5\n  normshift explain -- -3 -1 4 --json"
    )]
    Explain(ExplainArgs),
    /// Run the built-in examples: the seed's batch and its house-size covariate shift.
    #[command(after_help = "Example:\n  normshift demo\n  normshift demo --json")]
    Demo,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The values of one feature in one batch [default: 1 2 3 4 5].
    #[arg(allow_negative_numbers = true, value_name = "VALUES")]
    pub values: Vec<f64>,
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
