use crate::cli::ExplainArgs;
use crate::printer::{Printer, Report};
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
    // Said here, not by the library: its messages count from 0 and speak of a layer's channels.
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        anyhow::bail!(
            "the {} value is {}: only finite numbers can be normalized",
            ordinal(i + 1),
            values[i]
        );
    }
    let w = match walkthrough(
        &values,
        args.affine.gamma,
        args.affine.beta,
        args.affine.eps,
    ) {
        Ok(w) => w,
        Err(normshift::Error::NonFiniteStatistics { mean, .. }) => anyhow::bail!(
            "the {} of these values overflows f64 (its largest number is about 1.8e308, so \
             values must stay within about 1.3e154 of their mean); divide them by a power of \
             ten first, which changes the normalized values only through eps",
            if mean.is_finite() { "variance" } else { "mean" }
        ),
        Err(e) => return Err(e.into()),
    };
    printer.report(&Explained(w))?;
    Ok(ExitCode::SUCCESS)
}

/// `1st`, `2nd`, `3rd`, `4th`, …, `11th`, `21st`.
fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// Digits kept for numbers from 0.1 up (the seed's `-1.414, -0.707, 0.000`).
const DECIMALS: i32 = 3;
/// Significant digits kept below 0.1 and in scientific notation.
const SIGNIFICANT: i32 = 4;
/// Decimal exponent from which a number is written in scientific notation.
const HUGE: i32 = 15;
/// Decimal exponent below which a number is written in scientific notation.
const TINY: i32 = -4;

/// The power of ten of `|v|`: 0 for 1 to 9.99, -3 for 0.005.
fn exponent(v: f64) -> i32 {
    v.abs().log10().floor() as i32
}

/// Decimals for a number of exponent `e` (from [`TINY`] to [`HUGE`]): 3 from 0.1 up, else 4
/// significant digits.
fn decimals(e: i32) -> i32 {
    if e >= -1 {
        DECIMALS
    } else {
        SIGNIFICANT - 1 - e
    }
}

/// A computed number as the walkthrough shows it: 3 decimals from 0.1 up (`-0.707`,
/// `1700.000`), 4 significant digits below (`0.03162`, `0.0002000`), scientific notation
/// below 1e-4 and from 1e15 (`6.667e-9`, `1.500e20`); 0 is `0.000`.
fn number(v: f64) -> String {
    if v == 0.0 {
        return format!("{:.*}", DECIMALS as usize, 0.0);
    }
    if !v.is_finite() {
        return v.to_string();
    }
    let e = exponent(v);
    if !(TINY..HUGE).contains(&e) {
        format!("{v:.*e}", (SIGNIFICANT - 1) as usize)
    } else {
        format!("{v:.*}", decimals(e) as usize)
    }
}

/// The mean, with digits enough that `x - mean` is readable to 4 significant digits for
/// values spread by `spread` (the standard deviation): `0.00020000` for 0.0001, 0.0002,
/// 0.0003 where [`number`] would say `0.0002000`. At most 17 significant digits, what an
/// `f64` holds.
fn mean_text(mean: f64, spread: f64) -> String {
    if mean == 0.0 || !mean.is_finite() || !(spread > 0.0 && spread.is_finite()) {
        return number(mean);
    }
    let (e, s) = (exponent(mean), exponent(spread));
    if !(TINY..HUGE).contains(&e) {
        let digits = (SIGNIFICANT - 1).max(e - s + SIGNIFICANT - 1).min(16);
        format!("{mean:.*e}", digits as usize)
    } else {
        let decimals = decimals(e).max(SIGNIFICANT - 1 - s).min(16 - e);
        format!("{mean:.*}", decimals.max(0) as usize)
    }
}

/// An input value as given (`0.0001`, `1500`), in scientific notation where that would be
/// long (`1e-9`, `1e20`).
fn value_text(v: f64) -> String {
    if v != 0.0 && !(TINY..HUGE).contains(&exponent(v)) {
        format!("{v:e}")
    } else {
        v.to_string()
    }
}

/// A list of computed numbers: `[-1.414, -0.707, 0.000]`.
fn list(values: &[f64]) -> String {
    let parts: Vec<String> = values.iter().map(|&v| number(v)).collect();
    format!("[{}]", parts.join(", "))
}

/// Whether `x - mean` is only the mean's rounding: a unit or two in the last place, and less
/// than a millionth of the largest distance from the mean in the batch (`largest`). Shown as
/// 0: the digits of the mean shown cannot explain `8.6e-18` for 0.0002 in 0.0001, 0.0002,
/// 0.0003 (whose mean is 0.00019999999999999998 in `f64`).
fn is_rounding(x: f64, mean: f64, largest: f64) -> bool {
    let d = (x - mean).abs();
    d <= 2.0 * f64::EPSILON * x.abs().max(mean.abs()) && d <= 1e-6 * largest
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
        let m = mean_text(w.mean, w.variance.sqrt());
        // What steps 3 and 4 show: rounding-only differences from the mean as exactly 0.
        let largest = w
            .values
            .iter()
            .map(|x| (x - w.mean).abs())
            .fold(0.0, f64::max);
        let (normalized, output): (Vec<f64>, Vec<f64>) = w
            .values
            .iter()
            .zip(w.normalized.iter().zip(&w.output))
            .map(|(&x, (&xhat, &y))| {
                if is_rounding(x, w.mean, largest) {
                    (0.0, w.beta)
                } else {
                    (xhat, y)
                }
            })
            .unzip();
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

        let terms: Vec<String> = w.values.iter().map(|&v| value_text(v)).collect();
        writeln!(out, "Step 1. Mean")?;
        writeln!(out, "  mean = ({}) / {n} = {m}\n", sum_expression(&terms))?;

        let squares: Vec<String> = terms.iter().map(|v| format!("({v} - {m})²")).collect();
        writeln!(out, "Step 2. Variance (biased: divide by n)")?;
        writeln!(
            out,
            "  variance = ({}) / {n} = {}\n",
            sum_expression(&squares),
            number(w.variance)
        )?;

        let sd = number(w.std);
        writeln!(
            out,
            "Step 3. Normalize: x̂ = (x - mean) / sqrt(variance + eps)"
        )?;
        writeln!(out, "  sqrt({} + {}) = {sd}", number(w.variance), w.eps)?;
        for (x, xhat) in terms.iter().zip(&normalized).take(SHOWN) {
            writeln!(
                out,
                "  x = {x:<10} x̂ = ({x} - {m}) / {sd} = {}",
                number(*xhat)
            )?;
        }
        if n > SHOWN {
            writeln!(out, "  … {} more (--json prints every value)", n - SHOWN)?;
        }

        writeln!(out, "\nStep 4. Scale and shift: y = gamma · x̂ + beta")?;
        for (xhat, y) in normalized.iter().zip(&output).take(SHOWN) {
            writeln!(
                out,
                "  y = {} · {} + {} = {}",
                w.gamma,
                number(*xhat),
                w.beta,
                number(*y)
            )?;
        }
        if n > SHOWN {
            writeln!(out, "  … {} more", n - SHOWN)?;
        }
        writeln!(out, "\nNormalized: {}", list(&normalized))?;
        writeln!(out, "Output:     {}", list(&output))
    }
}
