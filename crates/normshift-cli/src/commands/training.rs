//! The training measurements (normshift_candle's `study` and `houses`): run them, render them
//! as text, and draw their plots. `study` prints all of it; `demo` prints a short version.

use normshift_candle::houses::{
    self, Outcome, ADABN, NO_SHIFT, RETRAINED, RUNNING, RUNNING_BIASED,
};
use normshift_candle::study::{
    self, mean, Dataset, Run, Shift, ShiftOutcome, SweepPoint, SweepSpec,
};
use normshift_report::plot::{line_chart, Chart, Series};
use serde::Serialize;
use std::fmt::Write;

/// Trains the seed's house-price model in candle (300 full-batch steps at learning rate 0.1)
/// and prices both deployment sets every way.
pub fn house_prices() -> anyhow::Result<Vec<Outcome>> {
    Ok(houses::house_prices(300, 0.1)?)
}

/// The house-price table and what it shows.
pub fn write_house_prices(out: &mut String, rows: &[Outcome]) -> std::fmt::Result {
    let row = |shift: &str, approach: &str| {
        rows.iter()
            .find(|r| r.shift == shift && r.approach == approach)
    };
    let err = |shift: &str, approach: &str| {
        // A rounding residue of zero prints as +0.00, not -0.00.
        row(shift, approach).map_or("-".to_string(), |r| {
            format!("{:+.2}", r.mean_error + 0.0).replace("-0.00", "+0.00")
        })
    };
    writeln!(
        out,
        "   BatchNorm → Linear, trained in candle on the training houses (1500-1900 sq ft), prices"
    )?;
    writeln!(
        out,
        "   deployment houses recorded at 1000-1400 sq ft. Mean error (k$):"
    )?;
    writeln!(
        out,
        "   {:<52} {:>10} {:>15}",
        "", "real shift", "nuisance shift"
    )?;
    for approach in [RUNNING, RUNNING_BIASED, ADABN, RETRAINED] {
        writeln!(
            out,
            "   {approach:<52} {:>10} {:>15}",
            err("real", approach),
            err("nuisance", approach)
        )?;
    }
    let adabn = row("real", ADABN).map_or(f64::NAN, |r| r.mean_error);
    let own = row(NO_SHIFT, RUNNING).map_or(f64::NAN, |r| r.mean_abs_error);
    writeln!(
        out,
        "   Real shift (smaller houses): normalizing the deployment batch with its own statistics"
    )?;
    writeln!(out, "   maps the 1000 sq ft house onto the 1500 sq ft one: {adabn:+.1} k$ on average. Nuisance shift")?;
    writeln!(
        out,
        "   (same houses, a meter reading 500 sq ft low): the same re-normalization repairs it."
    )?;
    writeln!(out, "   Retraining needs deployment prices. PyTorch's unbiased running variance (25000 for five")?;
    writeln!(out, "   houses, against the 20000 training normalized with) costs {own:.1} k$ even on the training houses.")
}

/// One learning-rate sweep: its configuration, per-learning-rate summaries and every run.
#[derive(Serialize)]
pub struct Sweep {
    /// The network, e.g. `MLP 64-64-64-10` or `CNN conv16-conv32-10`.
    pub network: String,
    /// Passes over the training images.
    pub epochs: usize,
    /// Rows per step.
    pub batch_size: usize,
    /// Accuracy counted as "reached".
    pub target_accuracy: f64,
    /// Seeds.
    pub seeds: Vec<u64>,
    /// Per learning rate, with and without batch norm.
    pub sweep: Vec<SweepPoint>,
    /// Every run of the sweep, with its learning curve.
    pub runs: Vec<Run>,
}

/// What the learning-rate sweeps and the shift study measured.
#[derive(Serialize)]
pub struct Study {
    /// Training images.
    pub train_rows: usize,
    /// Test images.
    pub test_rows: usize,
    /// The multilayer perceptron's sweep.
    #[serde(flatten)]
    pub mlp: Sweep,
    /// The convolutional network's sweep, when asked for.
    pub cnn: Option<Sweep>,
    /// Learning rate of the shift study.
    pub shift_lr: f64,
    /// Accuracy per shift and deployment approach.
    pub shift: Vec<ShiftOutcome>,
}

/// The digits split used everywhere: 500 test images, the rest for training (split seed 0).
pub fn digits() -> anyhow::Result<(Dataset, Dataset)> {
    Ok(study::digits_split(500, 0)?)
}

/// Learning rate of the shift study: one at which both networks train well in the sweep.
pub const SHIFT_LR: f64 = 0.1;

fn network(spec: &SweepSpec) -> String {
    let mut parts: Vec<String> = spec.conv.iter().map(|c| format!("conv{c}")).collect();
    if spec.conv.is_empty() {
        parts.push("64".into());
    }
    parts.extend(spec.hidden.iter().map(|h| h.to_string()));
    parts.push("10".into());
    let kind = if spec.conv.is_empty() { "MLP" } else { "CNN" };
    format!("{kind} {}", parts.join("-"))
}

/// Runs one learning-rate sweep.
pub fn run_sweep(spec: &SweepSpec, train: &Dataset, test: &Dataset) -> anyhow::Result<Sweep> {
    let runs = study::lr_sweep(spec, train, test)?;
    Ok(Sweep {
        network: network(spec),
        epochs: spec.train.epochs,
        batch_size: spec.train.batch_size,
        target_accuracy: spec.train.target_accuracy,
        seeds: spec.seeds.clone(),
        sweep: study::summarize(&runs),
        runs,
    })
}

/// Runs the multilayer perceptron's sweep with `spec`, the convolutional one with `cnn` when
/// given, and the shift study with `spec` at [`SHIFT_LR`].
pub fn run_study(spec: &SweepSpec, cnn: Option<&SweepSpec>) -> anyhow::Result<Study> {
    let (train, test) = digits()?;
    let mlp = run_sweep(spec, &train, &test)?;
    let cnn = cnn.map(|c| run_sweep(c, &train, &test)).transpose()?;
    let shift_spec = SweepSpec {
        lrs: vec![SHIFT_LR],
        ..spec.clone()
    };
    let shift = study::shift_study(
        &shift_spec,
        &[Shift::Sensor { seed: 1 }, Shift::MoveRight],
        &train,
        &test,
    )?;
    Ok(Study {
        train_rows: train.len(),
        test_rows: test.len(),
        mlp,
        cnn,
        shift_lr: SHIFT_LR,
        shift,
    })
}

/// The sweep table: per learning rate, mean accuracy and steps to target, without and with BN.
pub fn write_sweep(out: &mut String, s: &Sweep, rows: (usize, usize)) -> std::fmt::Result {
    writeln!(
        out,
        "   {} (ReLU), UCI handwritten digits ({} training / {} test images), plain SGD,",
        s.network, rows.0, rows.1
    )?;
    writeln!(
        out,
        "   batch {}, {} epochs, {} seed(s). Final test accuracy: mean [min-max]; steps to {:.0}% test accuracy:",
        s.batch_size,
        s.epochs,
        s.seeds.len(),
        s.target_accuracy * 100.0
    )?;
    writeln!(
        out,
        "   median (runs that got there); diverged runs (non-finite loss) count as chance."
    )?;
    writeln!(
        out,
        "   {:>6}  {:<38} with batch norm",
        "lr", "without batch norm"
    )?;
    let cell = |p: Option<&SweepPoint>| {
        p.map_or("-".to_string(), |p| {
            let steps = match p.median_steps_to_target {
                Some(m) => format!("{m:.0} steps ({}/{})", p.reached_target, p.runs),
                None => format!("never (0/{})", p.runs),
            };
            let div = if p.diverged > 0 {
                format!(", {} diverged", p.diverged)
            } else {
                String::new()
            };
            format!(
                "{:.3} [{:.2}-{:.2}] {steps}{div}",
                p.mean_accuracy, p.accuracy_range.0, p.accuracy_range.1
            )
        })
    };
    let mut lrs: Vec<f64> = s.sweep.iter().map(|p| p.lr).collect();
    lrs.sort_by(f64::total_cmp);
    lrs.dedup();
    for lr in lrs {
        let find = |bn: bool| s.sweep.iter().find(|p| p.batch_norm == bn && p.lr == lr);
        let line = format!("   {lr:>6}  {:<38} {}", cell(find(false)), cell(find(true)));
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// The shift table: mean test accuracy per shift and deployment approach.
pub fn write_shift(out: &mut String, s: &Study) -> std::fmt::Result {
    writeln!(
        out,
        "   Trained on clean images (lr {}, {} epochs), tested on shifted ones; labels keep their meaning.",
        s.shift_lr, s.mlp.epochs
    )?;
    writeln!(
        out,
        "   The BN network ({}) normalizes its inputs and hidden layers. Mean test accuracy [min-max] over {} seed(s):",
        s.mlp.network,
        s.mlp.seeds.len()
    )?;
    let mut shifts: Vec<&str> = Vec::new();
    for o in &s.shift {
        if !shifts.contains(&o.shift) {
            shifts.push(o.shift);
        }
    }
    for shift in shifts {
        writeln!(out, "   {shift}:")?;
        for o in s.shift.iter().filter(|o| o.shift == shift) {
            let lo = o.accuracy.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = o.accuracy.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            writeln!(
                out,
                "     {:<60} {:.3} [{lo:.2}-{hi:.2}]",
                o.approach,
                mean(&o.accuracy)
            )?;
        }
    }
    Ok(())
}

/// Mean final accuracy against log10(learning rate), without and with batch norm.
pub fn sweep_svg(s: &Sweep) -> String {
    let series_data: Vec<(bool, Vec<f64>, Vec<f64>)> = [false, true]
        .into_iter()
        .map(|bn| {
            let points: Vec<&SweepPoint> = s.sweep.iter().filter(|p| p.batch_norm == bn).collect();
            (
                bn,
                points.iter().map(|p| p.lr.log10()).collect(),
                points.iter().map(|p| p.mean_accuracy).collect(),
            )
        })
        .collect();
    let series: Vec<Series> = series_data
        .iter()
        .map(|(bn, x, y)| {
            Series::new(
                if *bn {
                    "with batch norm"
                } else {
                    "without batch norm"
                },
                x,
                y,
                usize::from(*bn),
            )
        })
        .collect();
    let chart = Chart::new(
        &format!(
            "Digits {}: final test accuracy, {} seed(s)",
            s.network,
            s.seeds.len()
        ),
        "log10(learning rate)",
        "test accuracy",
    );
    line_chart(&chart, &series, &[])
}

/// Test accuracy against SGD steps for the first seed at `lr`, without and with batch norm.
pub fn curves_svg(s: &Sweep, lr: f64) -> String {
    let seed = s.seeds.first().copied().unwrap_or(0);
    let picked: Vec<&Run> = s
        .runs
        .iter()
        .filter(|r| r.lr == lr && r.seed == seed)
        .collect();
    let xs: Vec<Vec<f64>> = picked
        .iter()
        .map(|r| r.steps.iter().map(|&st| st as f64).collect())
        .collect();
    let series: Vec<Series> = picked
        .iter()
        .zip(&xs)
        .map(|(r, x)| {
            Series::new(
                if r.batch_norm {
                    "with batch norm"
                } else {
                    "without batch norm"
                },
                x,
                &r.test_accuracy,
                usize::from(r.batch_norm),
            )
        })
        .collect();
    let chart = Chart::new(
        &format!("Digits {}, learning rate {lr}, seed {seed}", s.network),
        "SGD steps",
        "test accuracy",
    );
    line_chart(&chart, &series, &[])
}
