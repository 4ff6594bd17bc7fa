//! The `normshift` binary: parse arguments, run a command, print, exit.
//!
//! Exit codes, the same for every command: 0 success (for `drift`: no drift), 1 drift found,
//! 2 error (bad arguments, unreadable data, an internal error), 130 interrupted (SIGINT, and
//! also SIGTERM or SIGHUP: a job killed by its scheduler must not leave partial outputs).

mod cli;
mod commands;
mod input;
mod printer;

use clap::Parser;
use std::process::ExitCode;

/// Exit code of a run that failed: bad arguments, unreadable data, or an internal error.
const EXIT_ERROR: u8 = 2;
/// Exit code of a run stopped by SIGINT (128 + 2, the shell convention).
const EXIT_INTERRUPTED: i32 = 130;

/// Setting this variable makes the binary panic on purpose, so tests can check that a user
/// sees a short message and exit code 2 instead of a Rust panic.
const PANIC_TEST_VARIABLE: &str = "NORMSHIFT_TEST_INTERNAL_ERROR";

fn main() -> ExitCode {
    install_interrupt_handler();
    install_panic_hook();
    let cli = cli::Cli::parse_from(cli::args());
    let printer = printer::Printer::new(cli.json, cli.quiet);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if std::env::var_os(PANIC_TEST_VARIABLE).is_some() {
            panic!("{PANIC_TEST_VARIABLE} is set");
        }
        commands::run(cli.command, &printer)
    }));
    match outcome {
        Ok(Ok(code)) => code,
        Ok(Err(err)) => {
            printer.error(&err);
            ExitCode::from(EXIT_ERROR)
        }
        // The hook has printed the message; unwinding has removed temporary files.
        Err(_) => ExitCode::from(EXIT_ERROR),
    }
}

/// On SIGINT (Ctrl-C), SIGTERM or SIGHUP: remove every temporary output file, so no partial
/// output is left, and exit with 130 (the handler cannot tell the signals apart).
fn install_interrupt_handler() {
    let installed = ctrlc::set_handler(|| {
        match normshift_io::remove_partial_outputs() {
            0 => printer::write_stderr("interrupted"),
            n => printer::write_stderr(&format!(
                "interrupted: removed {n} unfinished output file(s)"
            )),
        }
        std::process::exit(EXIT_INTERRUPTED);
    });
    if let Err(e) = installed {
        // Without the handler an interrupt still kills the process; only the temporary file
        // (a hidden `.normshift-*.partial` next to the output) may remain.
        printer::write_stderr(&format!(
            "warning: cannot handle Ctrl-C ({e}); an interrupted run may leave a .partial file"
        ));
    }
}

/// A panic is a bug in normshift: say so in one short message instead of Rust's panic text
/// and backtrace.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        // arrow-ipc or parquet failing on a damaged file: normshift-io catches it and reports
        // the file; it is not a bug of ours.
        if normshift_io::decoding_foreign_data() {
            return;
        }
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".to_string());
        let place = info
            .location()
            .map(|l| format!(" ({}:{})", l.file(), l.line()))
            .unwrap_or_default();
        printer::write_stderr(&format!(
            "error: internal error in normshift: {message}{place}\n  this is a bug, not a problem with your data; please report it with the command you ran"
        ));
    }));
}
