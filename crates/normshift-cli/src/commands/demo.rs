use super::training::{self, Study};
use crate::printer::{fixed3, list3, Printer, Report};
use normshift::demo::{house_drift, seed_demo, SeedDemo};
use normshift::drift::{compare, DriftOptions, DriftReport};
use normshift_candle::houses::Outcome;
use normshift_candle::study::SweepSpec;
use normshift_io::ReadOptions;
use serde::Serialize;
use std::fmt::Write;
use std::process::ExitCode;

/// Auto MPG (UCI, CC BY 4.0), split by model year: see examples/data/README.md.
const AUTO_MPG_EARLY: &str = include_str!("../../../../examples/data/auto-mpg-1970-1976.csv");
const AUTO_MPG_LATE: &str = include_str!("../../../../examples/data/auto-mpg-1977-1982.csv");

#[derive(Serialize)]
struct Demo {
    seed: SeedDemo,
    house_drift: DriftReport,
    auto_mpg_drift: DriftReport,
    house_prices: Vec<Outcome>,
    study: Study,
}

/// Runs the real file pipeline (CSV reader → exact drift) on the embedded Auto MPG files.
fn auto_mpg_drift(options: &DriftOptions) -> anyhow::Result<DriftReport> {
    let dir = tempfile::tempdir()?;
    let read = ReadOptions {
        exclude: vec!["model_year".into()],
        ..ReadOptions::default()
    };
    let mut sides = Vec::new();
    for (name, text) in [
        ("auto-mpg-1970-1976.csv", AUTO_MPG_EARLY),
        ("auto-mpg-1977-1982.csv", AUTO_MPG_LATE),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text)?;
        let mut side = normshift_io::read_side(
            &mut normshift_io::open(&path, &read)?,
            true,
            200,
            &mut |_| {},
        )?;
        side.source = format!("examples/data/{name}");
        sides.push(side);
    }
    Ok(compare(&sides[0], &sides[1], options))
}

pub fn run(printer: &Printer) -> anyhow::Result<ExitCode> {
    let options = DriftOptions::default();
    let demo = Demo {
        seed: seed_demo(1e-5)?,
        house_drift: house_drift(&options)?,
        auto_mpg_drift: auto_mpg_drift(&options)?,
        house_prices: training::house_prices()?,
        study: training::run_study(&SweepSpec::quick(), None)?,
    };
    printer.report(&demo)?;
    Ok(ExitCode::SUCCESS)
}

fn plain(values: &[f64]) -> String {
    values
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

impl Report for Demo {
    fn human(&self, out: &mut String) -> std::fmt::Result {
        let s = &self.seed;
        writeln!(
            out,
            "normshift demo: the seed document's examples (eps = {})\n",
            s.batch.eps
        )?;

        writeln!(
            out,
            "1. Batch normalization of [{}]",
            plain(&s.batch.values)
        )?;
        writeln!(
            out,
            "   mean {}, variance {} (biased)",
            fixed3(s.batch.mean),
            fixed3(s.batch.variance)
        )?;
        writeln!(out, "   normalized {}", list3(&s.batch.normalized))?;
        writeln!(out, "   (normshift explain shows every step)\n")?;

        writeln!(out, "2. Covariate shift: house sizes (sq ft)")?;
        writeln!(
            out,
            "   {:<12} {:<28} {:>10} {:>12}",
            "", "values", "mean", "variance"
        )?;
        for (name, w) in [("training", &s.train), ("deployment", &s.deploy)] {
            writeln!(
                out,
                "   {name:<12} {:<28} {:>10} {:>12}",
                plain(&w.values),
                fixed3(w.mean),
                fixed3(w.variance)
            )?;
        }
        writeln!(
            out,
            "   the mean moved by {} sq ft = {} training standard deviations; variance ratio {}\n",
            fixed3(s.mean_shift),
            fixed3(s.mean_shift_in_train_sd),
            fixed3(s.variance_ratio)
        )?;

        writeln!(out, "3. What batch normalization gives each set")?;
        writeln!(
            out,
            "   training, its own statistics:          {}",
            list3(&s.train.normalized)
        )?;
        writeln!(
            out,
            "   deployment, its own statistics:        {}",
            list3(&s.deploy.normalized)
        )?;
        writeln!(
            out,
            "   deployment, training statistics:       {}",
            list3(&s.deploy_with_train_statistics)
        )?;
        writeln!(out, "   Normalizing each set with its own statistics (the seed's remedy) makes them identical:")?;
        writeln!(
            out,
            "   a {} sq ft deployment house lands where the {} sq ft training house was.",
            s.deploy.values[0], s.train.values[0]
        )?;
        writeln!(out, "   That removes a nuisance shift (a miscalibrated sensor) but hides a real one: if price")?;
        writeln!(out, "   depends on absolute size, the smaller houses will be priced like the larger ones.\n")?;

        let h = &self.house_drift.features[0];
        let ks = &h.tests[0];
        writeln!(
            out,
            "4. Drift check on the house sizes (normshift drift, exact tests)"
        )?;
        writeln!(
            out,
            "   KS D = {}, exact p = {:.4}; W1 = {} sq ft = {} σ; verdict: {}",
            fixed3(ks.statistic),
            ks.p_value,
            fixed3(h.effect_sizes.wasserstein.unwrap_or(f64::NAN)),
            fixed3(h.effect_sizes.wasserstein_std.unwrap_or(f64::NAN)),
            if h.drift { "DRIFT" } else { "no drift" }
        )?;
        writeln!(out, "   (five houses against five: the smallest possible p for fully separated samples is 2/252)\n")?;

        let a = &self.auto_mpg_drift;
        writeln!(out, "5. Drift check on real data: Auto MPG, cars of 1970-1976 against 1977-1982 (UCI, CC BY 4.0)")?;
        writeln!(
            out,
            "   {} of {} features drifted ({} vs {} cars); most severe first:",
            a.features_drifted, a.features_compared, a.reference.rows, a.current.rows
        )?;
        for f in &a.features {
            let what = match (
                f.effect_sizes.standardized_mean_difference,
                f.effect_sizes.total_variation,
            ) {
                (Some(smd), _) => format!(
                    "mean {:>8} → {:>8} ({:+.2} σ)",
                    fixed3(f.reference.mean.unwrap_or(f64::NAN)),
                    fixed3(f.current.mean.unwrap_or(f64::NAN)),
                    smd
                ),
                (None, Some(tv)) => format!(
                    "category shares moved by {:.1}% (total variation)",
                    tv * 100.0
                ),
                _ => String::new(),
            };
            writeln!(
                out,
                "   {:<13} {:<6} {what}",
                f.name,
                if f.drift { "DRIFT" } else { "ok" }
            )?;
        }
        writeln!(out, "   After the oil crises cars got lighter and more economical, and more of them came from Japan.")?;
        writeln!(out, "   Try: normshift drift examples/data/auto-mpg-1970-1976.csv examples/data/auto-mpg-1977-1982.csv --exclude model_year")?;
        self.human_training(out)
    }
}

impl Demo {
    fn human_training(&self, out: &mut String) -> std::fmt::Result {
        writeln!(out, "\n6. Training with batch normalization: the seed's house prices (price = 0.2 k$ per sq ft)")?;
        training::write_house_prices(out, &self.house_prices)?;
        writeln!(out, "\n7. Training speed and learning rates (quick run: `normshift study` runs the full one)")?;
        let rows = (self.study.train_rows, self.study.test_rows);
        training::write_sweep(out, &self.study.mlp, rows)?;
        writeln!(
            out,
            "\n8. A nuisance shift on real data: re-estimating the statistics (AdaBN), quick run"
        )?;
        training::write_shift(out, &self.study)
    }
}
