use crate::printer::{fixed3, list3, Printer, Report};
use normshift::demo::{seed_demo, SeedDemo};
use serde::Serialize;
use std::fmt::Write;
use std::process::ExitCode;

#[derive(Serialize)]
struct Demo {
    seed: SeedDemo,
}

pub fn run(printer: &Printer) -> anyhow::Result<ExitCode> {
    printer.report(&Demo {
        seed: seed_demo(1e-5)?,
    })?;
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
        writeln!(
            out,
            "   depends on absolute size, the smaller houses will be priced like the larger ones."
        )
    }
}
