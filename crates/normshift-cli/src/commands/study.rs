use super::training::{self, Study};
use crate::cli::StudyArgs;
use crate::input::write_atomically;
use crate::printer::{Printer, Report};
use normshift_candle::houses::Outcome;
use normshift_candle::study::SweepSpec;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Serialize)]
struct StudyReport {
    #[serde(flatten)]
    study: Study,
    house_prices: Vec<Outcome>,
    plots: Vec<PathBuf>,
}

pub fn run(args: StudyArgs, printer: &Printer) -> anyhow::Result<ExitCode> {
    let mut spec = if args.quick {
        SweepSpec::quick()
    } else {
        SweepSpec::full()
    };
    if let Some(seeds) = args.seeds {
        anyhow::ensure!(seeds > 0, "--seeds must be at least 1");
        spec.seeds = (0..seeds as u64).collect();
    }
    if let Some(epochs) = args.epochs {
        anyhow::ensure!(epochs > 0, "--epochs must be at least 1");
        spec.train.epochs = epochs;
    }
    printer.note(&format!(
        "training {} networks on the digits ({} learning rates × {} seeds × with/without batch norm), then the shift study…",
        2 * spec.lrs.len() * spec.seeds.len(),
        spec.lrs.len(),
        spec.seeds.len()
    ));
    let cnn = args.cnn.then(|| {
        let mut cnn = SweepSpec::cnn();
        if args.seeds.is_some() {
            cnn.seeds = spec.seeds.clone();
        }
        if let Some(epochs) = args.epochs {
            cnn.train.epochs = epochs;
        }
        if args.quick {
            cnn.lrs = spec.lrs.clone();
            cnn.seeds.truncate(1);
            cnn.train.epochs = cnn.train.epochs.min(spec.train.epochs);
        }
        cnn
    });
    if let Some(cnn) = &cnn {
        printer.note(&format!(
            "and {} convolutional networks (slower: candle's CPU convolutions)…",
            2 * cnn.lrs.len() * cnn.seeds.len()
        ));
    }
    let study = training::run_study(&spec, cnn.as_ref())?;
    let house_prices = training::house_prices()?;
    std::fs::create_dir_all(&args.out)
        .map_err(|e| anyhow::anyhow!("{}: cannot create the directory: {e}", args.out.display()))?;
    let mut plots = Vec::new();
    for (sweep, tag) in [(Some(&study.mlp), ""), (study.cnn.as_ref(), "-cnn")] {
        let Some(sweep) = sweep else { continue };
        let path = args.out.join(format!("lr-sweep{tag}.svg"));
        write_atomically(&path, &[], &training::sweep_svg(sweep))?;
        plots.push(path);
        let mut lrs: Vec<f64> = sweep.sweep.iter().map(|p| p.lr).collect();
        lrs.sort_by(f64::total_cmp);
        lrs.dedup();
        for lr in lrs {
            let path = args.out.join(format!("learning-curves{tag}-lr{lr}.svg"));
            write_atomically(&path, &[], &training::curves_svg(sweep, lr))?;
            plots.push(path);
        }
    }
    printer.report(&StudyReport {
        study,
        house_prices,
        plots,
    })?;
    Ok(ExitCode::SUCCESS)
}

impl Report for StudyReport {
    fn human(&self, out: &mut String) -> std::fmt::Result {
        writeln!(
            out,
            "normshift study: the seed's training claims, measured\n"
        )?;
        writeln!(
            out,
            "1. Training speed and learning-rate tolerance, with and without batch normalization"
        )?;
        let rows = (self.study.train_rows, self.study.test_rows);
        training::write_sweep(out, &self.study.mlp, rows)?;
        if let Some(cnn) = &self.study.cnn {
            writeln!(out, "\n   The same with a small convolutional network:")?;
            training::write_sweep(out, cnn, rows)?;
        }
        writeln!(
            out,
            "\n2. Covariate shift of the nuisance kind on real data (digits)"
        )?;
        training::write_shift(out, &self.study)?;
        writeln!(
            out,
            "\n3. Covariate shift of the real kind: the seed's house prices"
        )?;
        training::write_house_prices(out, &self.house_prices)?;
        writeln!(out, "\nPlots:")?;
        for p in &self.plots {
            writeln!(out, "   {}", p.display())?;
        }
        Ok(())
    }
}
