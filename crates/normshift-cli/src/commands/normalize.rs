use crate::cli::NormalizeArgs;
use crate::input::{load_profile, read_options};
use crate::printer::{fixed3, Printer, Report};
use normshift::standardize::Standardizer;
use normshift_io::{BatchWriter, ColumnChunk, Format, Replacement};
use serde::Serialize;
use std::fmt::Write;
use std::process::ExitCode;

#[derive(Serialize)]
struct NormalizeReport {
    output: String,
    rows: u64,
    statistics: &'static str,
    standardizer: Standardizer,
}

pub fn run(args: NormalizeArgs, printer: &Printer) -> anyhow::Result<ExitCode> {
    let options = read_options(&args.read)?;
    let mut inputs = vec![args.data.as_path()];
    if let Some(p) = &args.profile {
        inputs.push(p.as_path());
    }
    // Refuses an output that is an input, and fails at once on a destination that cannot be
    // written (a directory, a missing directory) rather than after `--adapt` has read the
    // file: the temporary file opened here is removed again; the writer opens its own.
    drop(crate::input::start_output(&args.output, &inputs)?);
    // The input is opened more than once (`--adapt`'s statistics, then the output's pass):
    // a pipe would give each opening a different part of the data.
    if std::fs::metadata(&args.data).is_ok_and(|m| !m.is_file()) {
        anyhow::bail!(
            "{}: normalize reads its input more than once, so it needs a regular file, not a \
             pipe or device (save the data to a file first)",
            args.data.display()
        );
    }
    // The format as `open` decides it (an unknown one is reported when the input is opened).
    let input_format = options.format.or_else(|| Format::from_path(&args.data));
    if let (Some(input_format), Some(out_format)) = (input_format, Format::from_path(&args.output))
    {
        if out_format != input_format {
            anyhow::bail!("{}: the output must have the input's format ({input_format:?}); converting formats is not supported", args.output.display());
        }
    }

    let profile = if args.adapt {
        // The data's own statistics: one pass to measure, one to normalize.
        let mut reader = normshift_io::open(&args.data, &options)?;
        let bar = printer.progress("measuring");
        let profile =
            normshift_io::fit_profile(&mut reader, 8, &mut |rows| bar.set_position(rows))?;
        bar.finish_and_clear();
        profile
    } else {
        load_profile(
            args.profile
                .as_deref()
                .expect("clap requires --profile without --adapt"),
        )?
    };
    let mut reader = crate::input::open_data(&args.data, &options, printer)?;
    // A column the profile holds as numbers but this file reads as categories would pass
    // through unchanged: refuse it rather than report it normalized.
    // A column with no value of any kind in the profile (all missing) was typed numeric for
    // want of anything else: it says nothing against text here.
    for info in reader.columns() {
        let numeric_in_profile = profile.column(&info.name).is_some_and(|c| {
            matches!(&c.summary, normshift::profile::ColumnSummary::Numeric(s)
                if !s.is_empty())
        });
        if numeric_in_profile && info.kind != normshift_io::ColumnKind::Numeric {
            anyhow::bail!(
                "{}: column '{}' is numeric in the profile, but is read as categories here \
                 (named in --categorical, or its first rows are not all numbers), so it cannot be \
                 normalized",
                args.data.display(),
                info.name
            );
        }
    }
    // A numeric column without a single finite value in the profile (all missing, say) has
    // no statistics to normalize with: it passes through as long as this file has no finite
    // value there either.
    let without_values: Vec<String> = reader
        .columns()
        .iter()
        .filter(|info| {
            profile.column(&info.name).is_some_and(|c| {
                matches!(&c.summary, normshift::profile::ColumnSummary::Numeric(s) if s.moments.count == 0)
            })
        })
        .map(|info| info.name.clone())
        .collect();
    let statistics_source = match &args.profile {
        Some(profile) if !args.adapt => profile,
        _ => &args.data,
    };
    for name in &without_values {
        printer.note(&format!(
            "note: {}: column '{name}' has no finite values in the {}: it is left as it is",
            statistics_source.display(),
            if args.adapt { "data" } else { "profile" }
        ));
    }
    let names: Vec<String> = reader
        .columns()
        .iter()
        .map(|c| c.name.clone())
        .filter(|name| !without_values.contains(name))
        .collect();
    let standardizer = Standardizer::from_profile(
        &profile,
        Some(&names),
        args.affine.eps,
        args.affine.gamma,
        args.affine.beta,
    )
    .map_err(|e| match e {
        // A column's statistics: name the file they came from.
        normshift::Error::NoStatistics { .. } | normshift::Error::UnusableStatistics { .. } => {
            anyhow::anyhow!("{}: {e}", statistics_source.display())
        }
        other => other.into(),
    })?;
    if standardizer.columns.is_empty() {
        if args.adapt {
            anyhow::bail!(
                "{}: no numeric column has a finite value, so there are no statistics of its \
                 own to normalize with",
                args.data.display()
            );
        }
        anyhow::bail!(
            "{}: none of its numeric columns is in the profile",
            args.data.display()
        );
    }
    // Numeric columns the profile does not know pass through: say so, as a renamed column
    // (`Price` for `price`) would otherwise go unnoticed.
    let unknown: Vec<&str> = reader
        .columns()
        .iter()
        .filter(|c| {
            c.kind == normshift_io::ColumnKind::Numeric && profile.column(&c.name).is_none()
        })
        .map(|c| c.name.as_str())
        .collect();
    if !unknown.is_empty() {
        printer.note(&format!(
            "note: {}: numeric column(s) not in the profile, passed through unchanged: {}",
            args.data.display(),
            unknown.join(", ")
        ));
    }

    let mut writer = BatchWriter::like(&args.output, &reader)?;
    if let Some(style) = reader.csv_style() {
        writer = writer.with_csv_style(output_csv_style(style, &args.output));
    }
    let columns = reader.columns().to_vec();
    let bar = printer.progress("normalizing");
    let mut rows = 0u64;
    for batch in reader.by_ref() {
        let batch = batch?;
        let mut replacements = Vec::new();
        for (info, chunk) in columns.iter().zip(&batch.columns) {
            if let ColumnChunk::Numeric { values, valid } = chunk {
                if without_values.contains(&info.name) {
                    let finite = values
                        .iter()
                        .enumerate()
                        .find(|&(i, v)| v.is_finite() && valid.as_ref().is_none_or(|m| m[i]));
                    if let Some((i, v)) = finite {
                        anyhow::bail!(
                            "{}: column '{}' has the value {v} in data row {} but no finite \
                             value in the profile, so there are no statistics to normalize \
                             it with (leave it out with --exclude '{}')",
                            args.data.display(),
                            info.name,
                            batch.first_row + i as u64 + 1,
                            info.name
                        );
                    }
                }
            }
            if let (Some(stats), ColumnChunk::Numeric { values, valid }) =
                (standardizer.column(&info.name), chunk)
            {
                let mut values = values.clone();
                standardizer.apply(stats, &mut values)?;
                replacements.push(Replacement {
                    index: info.index,
                    values,
                    valid: valid.clone(),
                });
            }
        }
        writer.write(&batch, &replacements)?;
        rows += batch.rows as u64;
        bar.set_position(rows);
    }
    bar.finish_and_clear();
    writer.finish()?;
    let statistics = if args.adapt {
        "the data's own (adapted)"
    } else {
        "the reference profile's"
    };
    printer.report(&NormalizeReport {
        output: args.output.display().to_string(),
        rows,
        statistics,
        standardizer,
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The input's CSV style, with the delimiter the output's name asks for: tabs in a `.tsv`,
/// and commas in a `.csv` written from a tab-separated input (otherwise the input's, so a
/// `;`-separated `.csv` stays one). normshift reads `.tsv` as tab-separated, and would
/// misread its own output otherwise.
fn output_csv_style(
    input: normshift_io::CsvStyle,
    output: &std::path::Path,
) -> normshift_io::CsvStyle {
    let extension = output
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let delimiter = match extension.as_deref() {
        Some("tsv") => b'\t',
        Some("csv") if input.delimiter == b'\t' => b',',
        _ => input.delimiter,
    };
    normshift_io::CsvStyle { delimiter, ..input }
}

impl Report for NormalizeReport {
    fn human(&self, out: &mut String) -> std::fmt::Result {
        writeln!(
            out,
            "{} rows written to {}, normalized with {} statistics",
            self.rows, self.output, self.statistics
        )?;
        writeln!(
            out,
            "(y = (x - mean) / sqrt(variance + {}) * {} + {})\n",
            self.standardizer.eps, self.standardizer.gamma, self.standardizer.beta
        )?;
        writeln!(out, "{:<24} {:>14} {:>14}", "column", "mean", "std")?;
        for c in &self.standardizer.columns {
            writeln!(
                out,
                "{:<24} {:>14} {:>14}",
                c.name,
                fixed3(c.mean),
                fixed3(c.variance.sqrt())
            )?;
        }
        Ok(())
    }
}
