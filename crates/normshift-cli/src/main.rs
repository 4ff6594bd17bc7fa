//! The `normshift` binary: parse arguments, run a command, print, exit.

mod cli;
mod commands;
mod input;
mod printer;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let printer = printer::Printer::new(cli.json, cli.quiet);
    match commands::run(cli.command, &printer) {
        Ok(code) => code,
        Err(err) => {
            printer.error(&err);
            ExitCode::from(2)
        }
    }
}
