use crate::cli::ExplainArgs;
use crate::printer::{fixed3, list3, Printer, Report};
use normshift::{walkthrough, Walkthrough};
use serde::Serialize;
use std::fmt::Write;
use std::process::ExitCode;

/// Values listed one per line before the rest are summarized.
const SHOWN: usize = 10;

#[derive(Serialize)]
#[serde(transparent)]
struct Explained(Walkthrough);

pub fn run(args: ExplainArgs, printer: &Printer) -> anyhow::Result<ExitCode> {
    let values = if args.values.is_empty() {
        normshift::data::SEED_BATCH.to_vec()
    } else {
        args.values
    };
    let w = walkthrough(
        &values,
        args.affine.gamma,
        args.affine.beta,
        args.affine.eps,
    )?;
    printer.report(&Explained(w))?;
    Ok(ExitCode::SUCCESS)
}

/// `1 + 2 + 3`, or `1 + 2 + … + 9` when long.
fn sum_expression(terms: &[String]) -> String {
    if terms.len() <= 6 {
        terms.join(" + ")
    } else {
        format!(
            "{} + {} + … + {}",
            terms[0],
            terms[1],
            terms[terms.len() - 1]
        )
    }
}

impl Report for Explained {
    fn human(&self, out: &mut String) -> std::fmt::Result {
        let w = &self.0;
        let n = w.values.len();
        let m = fixed3(w.mean);
        writeln!(
            out,
            "Batch normalization of {n} value{}, step by step",
            if n == 1 { "" } else { "s" }
        )?;
        writeln!(
            out,
            "(eps = {}, gamma = {}, beta = {})\n",
            w.eps, w.gamma, w.beta
        )?;

        let terms: Vec<String> = w.values.iter().map(|v| v.to_string()).collect();
        writeln!(out, "Step 1. Mean")?;
        writeln!(out, "  mean = ({}) / {n} = {m}\n", sum_expression(&terms))?;

        let squares: Vec<String> = w.values.iter().map(|v| format!("({v} - {m})²")).collect();
        writeln!(out, "Step 2. Variance (biased: divide by n)")?;
        writeln!(
            out,
            "  variance = ({}) / {n} = {}\n",
            sum_expression(&squares),
            fixed3(w.variance)
        )?;

        let sd = fixed3(w.std);
        writeln!(
            out,
            "Step 3. Normalize: x̂ = (x - mean) / sqrt(variance + eps)"
        )?;
        writeln!(out, "  sqrt({} + {}) = {sd}", fixed3(w.variance), w.eps)?;
        for (x, xhat) in w.values.iter().zip(&w.normalized).take(SHOWN) {
            writeln!(
                out,
                "  x = {x:<10} x̂ = ({x} - {m}) / {sd} = {}",
                fixed3(*xhat)
            )?;
        }
        if n > SHOWN {
            writeln!(out, "  … {} more (--json prints every value)", n - SHOWN)?;
        }

        writeln!(out, "\nStep 4. Scale and shift: y = gamma · x̂ + beta")?;
        for (xhat, y) in w.normalized.iter().zip(&w.output).take(SHOWN) {
            writeln!(
                out,
                "  y = {} · {} + {} = {}",
                w.gamma,
                fixed3(*xhat),
                w.beta,
                fixed3(*y)
            )?;
        }
        if n > SHOWN {
            writeln!(out, "  … {} more", n - SHOWN)?;
        }
        writeln!(out, "\nNormalized: {}", list3(&w.normalized))?;
        writeln!(out, "Output:     {}", list3(&w.output))
    }
}
