//! Output policy in one place: human text or JSON on stdout, diagnostics on stderr.

use serde::Serialize;
use std::fmt::Write;

/// Something a command prints: JSON via serde, or a human rendering.
pub trait Report: Serialize {
    /// Writes the human view.
    fn human(&self, out: &mut String) -> std::fmt::Result;
}

pub struct Printer {
    json: bool,
    quiet: bool,
}

impl Printer {
    pub fn new(json: bool, quiet: bool) -> Self {
        Self { json, quiet }
    }

    /// A progress bar on stderr counting rows, hidden with `--quiet` or when stderr is not a
    /// terminal (pipes, CI logs).
    pub fn progress(&self, what: &str) -> indicatif::ProgressBar {
        use std::io::IsTerminal;
        if self.quiet || !std::io::stderr().is_terminal() {
            return indicatif::ProgressBar::hidden();
        }
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            progress_style().unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.set_message(what.to_string());
        bar
    }

    /// Whether the human view may use colour: stdout is a terminal and `NO_COLOR` is unset.
    pub fn color(&self) -> bool {
        use std::io::IsTerminal;
        !self.json && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
    }

    /// Prints a command's result on stdout.
    ///
    /// A reader that stops reading (`normshift … | head`) is not an error: on a broken pipe
    /// the rest of the output is dropped quietly and the command keeps its exit code (for
    /// `drift` the verdict, 0 or 1). Any other failure to write (a full disk) is an error.
    pub fn report(&self, report: &impl Report) -> anyhow::Result<()> {
        let mut out = String::new();
        if self.json {
            out = serde_json::to_string_pretty(report)?;
            out.push('\n');
        } else {
            report.human(&mut out)?;
        }
        write_stdout(out.as_bytes())
    }

    /// A note on stderr (progress, columns left out or passed through), unless `--quiet`.
    pub fn note(&self, line: &str) {
        if !self.quiet {
            write_stderr(line);
        }
    }

    /// Prints an error on stderr (never a panic or backtrace).
    pub fn error(&self, err: &anyhow::Error) {
        let mut msg = format!("error: {err}");
        for cause in err.chain().skip(1) {
            // Errors that print their source already (`path: reason`) would say it twice.
            let cause = cause.to_string();
            if !msg.contains(&cause) {
                let _ = write!(msg, "\n  caused by: {cause}");
            }
        }
        write_stderr(&msg);
    }
}

/// The progress line: rows so far, whole rows per second with thousands separators
/// (indicatif's `per_sec` prints four decimals: `1,247,563.3274/s`), time elapsed.
fn progress_style() -> Result<indicatif::ProgressStyle, indicatif::style::TemplateError> {
    indicatif::ProgressStyle::with_template("{spinner} {msg}: {human_pos} rows ({rate}, {elapsed})")
        .map(|style| {
            style.with_key(
                "rate",
                |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let rate = indicatif::HumanCount(state.per_sec().max(0.0) as u64);
                    let _ = write!(w, "{rate} rows/s");
                },
            )
        })
}

/// Writes `line` and a newline to stderr, ignoring failure: with stderr closed or full there
/// is nowhere left to report anything, and `eprintln!` would panic instead.
pub(crate) fn write_stderr(line: &str) {
    let _ = std::io::Write::write_all(
        &mut std::io::stderr().lock(),
        format!("{line}\n").as_bytes(),
    );
}

/// Writes `bytes` to stdout and flushes, treating a closed pipe as the end of the output.
/// (`print!` would panic on it, which the binary reports as an internal error.)
fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(anyhow::Error::new(e).context("cannot write the result to stdout")),
    }
}

/// A number to 3 decimals, without the "-0.000" that rounding tiny negatives gives; from
/// 1e15 up in scientific notation (`1.500e308`), which a table column can hold.
pub fn fixed3(value: f64) -> String {
    if value.abs() >= 1e15 && value.is_finite() {
        return format!("{value:.3e}");
    }
    let s = format!("{value:.3}");
    if s == "-0.000" {
        "0.000".to_string()
    } else {
        s
    }
}

/// A list of numbers to 3 decimals: `[-1.414, -0.707, 0.000]`.
pub fn list3(values: &[f64]) -> String {
    let parts: Vec<String> = values.iter().map(|&v| fixed3(v)).collect();
    format!("[{}]", parts.join(", "))
}

/// `text` in bold red (drift) or green (no drift) when `color` is on.
pub fn verdict_color(text: &str, drift: bool, color: bool) -> String {
    match (color, drift) {
        (false, _) => text.to_string(),
        (true, true) => format!("\x1b[1;31m{text}\x1b[0m"),
        (true, false) => format!("\x1b[32m{text}\x1b[0m"),
    }
}

#[cfg(test)]
mod tests {
    use super::fixed3;

    #[test]
    fn fixed3_keeps_table_columns_narrow() {
        assert_eq!(fixed3(-2.71849), "-2.718");
        assert_eq!(fixed3(-0.0001), "0.000");
        assert_eq!(fixed3(999_999_999_999_999.0), "999999999999999.000");
        assert_eq!(fixed3(1.5e308), "1.500e308");
        assert_eq!(fixed3(-2e15), "-2.000e15");
        assert_eq!(fixed3(f64::INFINITY), "inf");
    }
}
