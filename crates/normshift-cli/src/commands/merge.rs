use crate::cli::MergeArgs;
use crate::commands::fit::summarize;
use crate::input::{load_profile, write_atomically};
use crate::printer::{write_stderr, Printer};
use normshift::profile::{ColumnSummary, Profile};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn run(args: MergeArgs, printer: &Printer) -> anyhow::Result<ExitCode> {
    let mut loaded: Vec<(&PathBuf, Profile)> = Vec::with_capacity(args.profiles.len());
    for path in &args.profiles {
        loaded.push((path, load_profile(path)?));
    }
    let ((first_path, first), rest) = loaded
        .split_first()
        .ok_or_else(|| anyhow::anyhow!("merge needs at least two profiles"))?;
    let mut merged = first.clone();
    for (path, next) in rest {
        if let Some(why) = column_difference(first_path, first, path, next) {
            anyhow::bail!("cannot merge {}: {why}", path.display());
        }
        merged = merged
            .merge(next)
            .map_err(|e| anyhow::anyhow!("cannot merge {}: {e}", path.display()))?;
    }
    let inputs: Vec<&Path> = args.profiles.iter().map(|p| p.as_path()).collect();
    write_atomically(&args.output, &inputs, &merged.to_json())?;
    // After the write, so that a failed merge shows only its error.
    for warning in repeats(&loaded) {
        write_stderr(&format!("warning: {warning}"));
    }
    printer.report(&summarize(&merged, &args.output.display().to_string()))?;
    Ok(ExitCode::SUCCESS)
}

/// Why `b` (at `b_path`) cannot be merged with `a` for their columns, naming the columns
/// only one of them has; `None` when both have the same columns in the same order.
fn column_difference(a_path: &Path, a: &Profile, b_path: &Path, b: &Profile) -> Option<String> {
    let names = |p: &Profile| p.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
    let (a_names, b_names) = (names(a), names(b));
    if a_names == b_names {
        return None;
    }
    let only = |x: &[String], y: &[String]| {
        x.iter()
            .filter(|n| !y.contains(n))
            .map(|n| format!("'{n}'"))
            .collect::<Vec<_>>()
    };
    let (only_a, only_b) = (only(&a_names, &b_names), only(&b_names, &a_names));
    let mut parts = Vec::new();
    for (columns, path) in [(&only_a, a_path), (&only_b, b_path)] {
        if !columns.is_empty() {
            parts.push(format!(
                "{} {} only in {}",
                columns.join(", "),
                if columns.len() == 1 { "is" } else { "are" },
                path.display()
            ));
        }
    }
    if parts.is_empty() {
        // Same names, another order (a name twice is refused when a profile is read).
        return Some(format!(
            "it has the columns of {} in another order ({} against {}); profiles merge only \
             with their columns in the same order",
            a_path.display(),
            b_names.join(", "),
            a_names.join(", ")
        ));
    }
    Some(format!(
        "the profiles have different columns: {}; profiles merge only with the same columns",
        parts.join("; ")
    ))
}

/// Warnings for profiles given twice: the same file, or profiles of the same sources with
/// the same counts. Their rows are then counted twice, which may be meant (weighting a shard
/// double), so it is a warning, not an error.
fn repeats(loaded: &[(&PathBuf, Profile)]) -> Vec<String> {
    let mut warnings = Vec::new();
    for (i, (path, profile)) in loaded.iter().enumerate() {
        let earlier = loaded[..i].iter().find_map(|(p, q)| {
            if same_file(p, path) {
                Some(format!(
                    "{} is given more than once: its rows are counted once for each time",
                    path.display()
                ))
            } else if !profile.sources.is_empty()
                && q.sources == profile.sources
                && same_counts(q, profile)
            {
                Some(format!(
                    "{} and {} summarize the same data ({}) with the same counts: if they are \
                     the same data, its rows are counted twice",
                    p.display(),
                    path.display(),
                    profile.sources.join(", ")
                ))
            } else {
                None
            }
        });
        // One warning per repeated file, not one per pair.
        if let Some(w) = earlier {
            if !warnings.contains(&w) {
                warnings.push(w);
            }
        }
    }
    warnings
}

/// Whether two paths name the same file (also through `./`, `..` or links).
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Whether two profiles hold the same rows, missing values, moments and category counts.
fn same_counts(a: &Profile, b: &Profile) -> bool {
    a.rows == b.rows
        && a.columns.len() == b.columns.len()
        && a.columns.iter().zip(&b.columns).all(|(x, y)| {
            x.name == y.name
                && x.rows == y.rows
                && x.missing == y.missing
                && match (&x.summary, &y.summary) {
                    (ColumnSummary::Numeric(s), ColumnSummary::Numeric(t)) => {
                        s.moments == t.moments && s.non_finite == t.non_finite
                    }
                    (ColumnSummary::Categorical(s), ColumnSummary::Categorical(t)) => {
                        s.counts == t.counts && s.other == t.other
                    }
                    _ => false,
                }
        })
}
