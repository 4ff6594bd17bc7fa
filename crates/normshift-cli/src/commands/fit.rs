use crate::cli::FitArgs;
use crate::input::{finish_output, read_options, start_output};
use crate::printer::{Printer, Report};
use normshift::profile::{ColumnSummary, Profile};
use serde::Serialize;
use std::fmt::Write;
use std::process::ExitCode;

/// What `fit` and `merge` print: the profile written and a line per column.
#[derive(Serialize)]
pub struct FitReport {
    output: String,
    rows: u64,
    columns: Vec<ColumnLine>,
}

/// One column of a [`FitReport`].
#[derive(Serialize)]
pub struct ColumnLine {
    name: String,
    kind: &'static str,
    missing: u64,
    non_finite: u64,
    mean: Option<f64>,
    std: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
    categories: Option<usize>,
}

/// The report of `profile`, written to `output`.
pub fn summarize(profile: &Profile, output: &str) -> FitReport {
    let finite = |v: f64| v.is_finite().then_some(v);
    let columns = profile
        .columns
        .iter()
        .map(|c| match &c.summary {
            ColumnSummary::Numeric(s) => ColumnLine {
                name: c.name.clone(),
                kind: "numeric",
                missing: c.missing,
                non_finite: s.non_finite.total(),
                mean: finite(s.moments.mean).filter(|_| s.moments.count > 0),
                std: finite(s.variance.sqrt()),
                min: finite(s.min),
                max: finite(s.max),
                categories: None,
            },
            ColumnSummary::Categorical(s) => ColumnLine {
                name: c.name.clone(),
                kind: "categorical",
                missing: c.missing,
                non_finite: 0,
                mean: None,
                std: None,
                min: None,
                max: None,
                categories: Some(s.counts.len()),
            },
        })
        .collect();
    FitReport {
        output: output.to_string(),
        rows: profile.rows,
        columns,
    }
}

pub fn run(args: FitArgs, printer: &Printer) -> anyhow::Result<ExitCode> {
    let options = read_options(&args.read)?;
    let out = start_output(&args.output, &[&args.data])?;
    let mut reader = crate::input::open_data(&args.data, &options, printer)?;
    let bar = printer.progress("fitting");
    let profile = normshift_io::fit_profile(&mut reader, args.sketch_k, &mut |rows| {
        bar.set_position(rows)
    })?;
    bar.finish_and_clear();
    finish_output(out, &profile.to_json())?;
    printer.report(&summarize(&profile, &args.output.display().to_string()))?;
    Ok(ExitCode::SUCCESS)
}

/// `n` with thousands separators: `300,000`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// `1 row`, `300,000 rows`.
fn count(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

fn cell(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.4}"))
}

impl Report for FitReport {
    fn human(&self, out: &mut String) -> std::fmt::Result {
        writeln!(
            out,
            "profile of {} written to {}\n",
            count(self.rows, "row", "rows"),
            self.output
        )?;
        writeln!(
            out,
            "{:<24} {:<12} {:>8} {:>10} {:>14} {:>14} {:>14} {:>14}",
            "column", "kind", "missing", "non-finite", "mean", "std", "min", "max"
        )?;
        for c in &self.columns {
            let kind = match c.categories {
                Some(n) => count(n as u64, "category", "categories"),
                None => c.kind.to_string(),
            };
            writeln!(
                out,
                "{:<24} {:<12} {:>8} {:>10} {:>14} {:>14} {:>14} {:>14}",
                c.name,
                kind,
                thousands(c.missing),
                thousands(c.non_finite),
                cell(c.mean),
                cell(c.std),
                cell(c.min),
                cell(c.max)
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{count, thousands};

    #[test]
    fn counts_have_separators_and_grammar() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(300_000), "300,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(u64::MAX), "18,446,744,073,709,551,615");
        assert_eq!(count(1, "row", "rows"), "1 row");
        assert_eq!(count(0, "row", "rows"), "0 rows");
        assert_eq!(count(2_000, "category", "categories"), "2,000 categories");
    }
}
