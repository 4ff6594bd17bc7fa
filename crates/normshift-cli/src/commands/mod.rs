//! One module per command; each turns arguments into library calls and hands the result to
//! the printer.

mod bench;
mod demo;
mod drift;
mod explain;
pub mod fit;
mod merge;
mod normalize;
mod study;
mod training;

use crate::cli::Command;
use crate::printer::Printer;
use std::process::ExitCode;

pub fn run(command: Command, printer: &Printer) -> anyhow::Result<ExitCode> {
    match command {
        Command::Explain(args) => explain::run(args, printer),
        Command::Demo => demo::run(printer),
        Command::Fit(args) => fit::run(args, printer),
        Command::Merge(args) => merge::run(args, printer),
        Command::Normalize(args) => normalize::run(args, printer),
        Command::Drift(args) => drift::run(args, printer),
        Command::Bench(args) => bench::run(args, printer),
        Command::Study(args) => study::run(args, printer),
    }
}
