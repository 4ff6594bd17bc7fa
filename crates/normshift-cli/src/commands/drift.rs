use crate::cli::{CorrectionArg, DriftArgs};
use crate::input::{finish_output, start_output};
use crate::input::{load_profile, read_options};
use crate::printer::{verdict_color, Printer, Report};
use normshift::drift::{compare, DriftOptions, DriftReport, FeatureDrift};
use normshift_io::ReadOptions;
use normshift_stats::Correction;
use serde::Serialize;
use std::fmt::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

/// Features listed in the human view without `--all`.
const TOP: usize = 20;

#[derive(Serialize)]
#[serde(transparent)]
struct Drift {
    report: DriftReport,
    #[serde(skip)]
    all: bool,
    #[serde(skip)]
    color: bool,
}

/// The drift settings the arguments give (their ranges are checked as they are parsed, in
/// `cli.rs`).
fn options(args: &DriftArgs) -> DriftOptions {
    DriftOptions {
        alpha: args.alpha,
        correction: match args.correction {
            CorrectionArg::None => Correction::None,
            CorrectionArg::Bonferroni => Correction::Bonferroni,
            CorrectionArg::Holm => Correction::Holm,
            CorrectionArg::BenjaminiHochberg => Correction::BenjaminiHochberg,
        },
        min_wasserstein_std: args.min_effect,
        min_total_variation: args.min_total_variation,
        min_rate_change: args.min_rate_change,
        dataset_share: args.dataset_share,
        psi_empty_bin: args.psi_empty_bin,
        bins: args.bins,
        ..DriftOptions::default()
    }
}

fn is_profile(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// Keeps the profile's columns the read options select.
fn select(mut side: normshift::drift::Side, read: &ReadOptions) -> normshift::drift::Side {
    side.columns.retain(|c| {
        let name = &c.profile.name;
        read.columns.as_ref().is_none_or(|cols| cols.contains(name)) && !read.exclude.contains(name)
    });
    side
}

/// One side of the comparison, opened but not read yet.
enum Opened {
    Data(Box<normshift_io::Reader>),
    Profile(normshift::drift::Side),
}

pub fn run(args: DriftArgs, printer: &Printer) -> anyhow::Result<ExitCode> {
    let mut drift_options = options(&args);
    drift_options.plot_data = args.html.is_some();
    let read = read_options(&args.read)?;
    if is_profile(&args.current) {
        anyhow::bail!(
            "{}: the current side must be a data file (CSV, TSV, Parquet or Arrow); a profile \
             can only be the reference",
            args.current.display()
        );
    }
    // The report's temporary file is opened before any reading, so a destination that cannot
    // be written (a directory, a missing directory) fails at once.
    let html = args
        .html
        .as_deref()
        .map(|html| start_output(html, &[&args.reference, &args.current]))
        .transpose()?;
    let exact = !is_profile(&args.reference);
    // Both sides are opened (header, column kinds) before either is read: a missing or
    // unreadable file is reported at once, not after the other file has been read in full.
    let reference = if exact {
        Opened::Data(Box::new(crate::input::open_data(
            &args.reference,
            &read,
            printer,
        )?))
    } else {
        let mut side = normshift_io::side_from_profile(&load_profile(&args.reference)?);
        // Name the file given, and what it was fitted on.
        side.source = format!("{} (profile of {})", args.reference.display(), side.source);
        Opened::Profile(select(side, &read))
    };
    let mut current = crate::input::open_data(&args.current, &read, printer)?;
    let bar = printer.progress("reading");
    // Set when one side fails, so the other stops instead of reading to its end first.
    let failed = AtomicBool::new(false);
    // `None`: stopped because the other side failed.
    let read_data =
        |reader: &mut normshift_io::Reader| -> anyhow::Result<Option<normshift::drift::Side>> {
            let mut seen = 0;
            let mut progress = |rows| {
                bar.inc(rows - seen);
                seen = rows;
            };
            normshift_io::read_side_unless(reader, exact, args.sketch_k, &mut progress, &failed)
                .map_err(|e| {
                    failed.store(true, Ordering::Relaxed);
                    e.into()
                })
        };
    // Both files are read at once: decoding is single-threaded per file.
    let (reference, current) = std::thread::scope(|scope| {
        let reference = scope.spawn(|| match reference {
            Opened::Data(mut reader) => read_data(&mut reader),
            Opened::Profile(side) => Ok(Some(side)),
        });
        let current = read_data(&mut current);
        (reference.join().expect("reading does not panic"), current)
    });
    let (reference, current) = match (reference, current) {
        (Ok(Some(reference)), Ok(Some(current))) => (reference, current),
        (Err(e), _) | (_, Err(e)) => return Err(e),
        (Ok(_), Ok(_)) => unreachable!("a side stops reading only after the other failed"),
    };
    bar.finish_and_clear();
    for (side, path) in [(&reference, &args.reference), (&current, &args.current)] {
        if side.rows == 0 {
            anyhow::bail!("{}: no data rows to compare", path.display());
        }
    }
    let report = compare(&reference, &current, &drift_options);
    let code = if report.dataset_drift { 1 } else { 0 };
    if let Some(html) = html {
        finish_output(html, &normshift_report::drift_html(&report))?;
    }
    printer.report(&Drift {
        report,
        all: args.all,
        color: printer.color(),
    })?;
    Ok(ExitCode::from(code))
}

fn p(v: Option<f64>) -> String {
    match v {
        // Below the smallest double: the p-value underflowed.
        Some(0.0) => "<1e-307".into(),
        Some(v) if v < 1e-4 => format!("{v:.1e}"),
        Some(v) => format!("{v:.4}"),
        None => "-".into(),
    }
}

/// A signed quantity (a change): `+0.123`, `-inf`; `-` when undefined (NaN, e.g. the mean
/// shift of a constant reference column) or absent.
fn signed(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_nan() => "-".into(),
        Some(v) if v.is_infinite() => format!("{}inf", if v > 0.0 { "+" } else { "-" }),
        Some(v) => format!("{v:+.3}"),
        None => "-".into(),
    }
}

/// A quantity that cannot be negative (a distance, a divergence): no sign.
fn unsigned(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_nan() => "-".into(),
        Some(v) if v.is_infinite() => "inf".into(),
        Some(v) => format!("{v:.3}"),
        None => "-".into(),
    }
}

/// Up to 8 labels, then how many more.
fn label_list(labels: &[String]) -> String {
    const SHOWN: usize = 8;
    let mut text = labels
        .iter()
        .take(SHOWN)
        .map(|l| format!("'{l}'"))
        .collect::<Vec<_>>()
        .join(", ");
    if labels.len() > SHOWN {
        text.push_str(&format!(" and {} more", labels.len() - SHOWN));
    }
    text
}

fn line(out: &mut String, f: &FeatureDrift, width: usize, color: bool) -> std::fmt::Result {
    let main = f
        .tests
        .iter()
        .find(|t| t.name == "ks" || t.name == "chi_square");
    let e = &f.effect_sizes;
    let effect = e.wasserstein_std.or(e.total_variation);
    writeln!(
        out,
        "  {:<width$} {:<11} {}  {:>10} {:>9} {:>9} {:>8} {:>8} {:>8}",
        f.name,
        f.kind,
        verdict_color(if f.drift { "DRIFT" } else { "ok   " }, f.drift, color),
        p(main.map(|t| t.p_value_adjusted)),
        unsigned(effect),
        signed(e.standardized_mean_difference),
        unsigned(e.psi),
        unsigned(e.js_divergence),
        signed(Some(e.missing_rate_change * 100.0)),
    )?;
    for reason in f.reasons.iter().chain(&f.notes) {
        writeln!(out, "      {reason}")?;
    }
    if !f.unseen_categories.is_empty() {
        writeln!(
            out,
            "      new categories: {}",
            label_list(&f.unseen_categories)
        )?;
    }
    if !f.vanished_categories.is_empty() {
        writeln!(
            out,
            "      vanished categories: {}",
            label_list(&f.vanished_categories)
        )?;
    }
    Ok(())
}

impl Report for Drift {
    fn human(&self, out: &mut String) -> std::fmt::Result {
        let r = &self.report;
        let verdict = verdict_color(
            if r.dataset_drift { "DRIFT" } else { "no drift" },
            r.dataset_drift,
            self.color,
        );
        // "exact" mode means raw data on both sides, whose tests may still be asymptotic
        // (KS beyond 10,000 rows, the rate z-tests): each test's JSON `method` says which.
        let basis = if r.mode == "exact" {
            "tests on raw data"
        } else {
            "sketch tests"
        };
        let columns_changed = r.schema.only_in_reference.len()
            + r.schema.only_in_current.len()
            + r.schema.kind_changed.len();
        let schema = match columns_changed {
            0 => String::new(),
            1 => "; 1 column appears, vanishes or changes kind".to_string(),
            n => format!("; {n} columns appear, vanish or change kind"),
        };
        writeln!(
            out,
            "{verdict}: {} of {} features drifted ({basis}){schema}",
            r.features_drifted, r.features_compared
        )?;
        writeln!(
            out,
            "  reference: {} ({} rows)",
            r.reference.source, r.reference.rows
        )?;
        writeln!(
            out,
            "  current:   {} ({} rows)",
            r.current.source, r.current.rows
        )?;
        writeln!(out, "  rule: {}", r.rule)?;
        writeln!(
            out,
            "  a feature drifts when its test is significant at {} after {:?} correction and W1 ≥ {} σ_ref (numeric) or total variation ≥ {} (categorical); a missing/non-finite rate change counts from {} points\n",
            r.settings.alpha,
            r.settings.correction,
            r.settings.min_wasserstein_std,
            r.settings.min_total_variation,
            r.settings.min_rate_change * 100.0
        )?;
        // The largest sketch error among the KS tests: shifts below it cannot be seen.
        let sketch_error = r
            .features
            .iter()
            .flat_map(|f| &f.tests)
            .filter_map(|t| t.statistic_error)
            .fold(0.0, f64::max);
        if sketch_error > 0.0 {
            writeln!(
                out,
                "  sketch tests: D is known to ±{sketch_error:.3} and p allows for it, so a shift with D below that cannot be seen; compare two data files for exact tests\n"
            )?;
        }
        // Features whose distribution could not be tested (each says why under its line),
        // named here too, as they sort last and may fall outside the features shown.
        let untested: Vec<&str> = r
            .features
            .iter()
            .filter(|f| f.notes.iter().any(|n| n.starts_with("not tested")))
            .map(|f| f.name.as_str())
            .collect();
        if !untested.is_empty() {
            writeln!(
                out,
                "  not tested (see their notes): {}",
                untested.join(", ")
            )?;
        }
        for (what, names) in [
            ("only in the reference", &r.schema.only_in_reference),
            ("only in the current data", &r.schema.only_in_current),
            (
                "numeric on one side, categorical on the other (--categorical NAME reads both \
                 as categories)",
                &r.schema.kind_changed,
            ),
        ] {
            if !names.is_empty() {
                writeln!(out, "  columns {what}: {}", names.join(", "))?;
            }
        }
        if r.features.is_empty() {
            return Ok(());
        }
        let shown = if self.all {
            r.features.len()
        } else {
            TOP.min(r.features.len())
        };
        // As wide as the longest name shown, so long names do not push the columns apart.
        let width = r.features[..shown]
            .iter()
            .map(|f| f.name.chars().count())
            .fold(22, usize::max);
        writeln!(
            out,
            "  {:<width$} {:<11} {:<6} {:>10} {:>9} {:>9} {:>8} {:>8} {:>8}",
            "feature", "kind", "", "p (adj.)", "effect", "mean Δσ", "PSI", "JS", "miss Δ%"
        )?;
        for f in &r.features[..shown] {
            line(out, f, width, self.color)?;
        }
        if shown < r.features.len() {
            writeln!(
                out,
                "  … {} more features (--all shows every one)",
                r.features.len() - shown
            )?;
        }
        writeln!(out, "\n  effect: W1 / σ_ref (numeric) or total variation (categorical); p: KS (numeric) or chi-square (categorical)")
    }
}
