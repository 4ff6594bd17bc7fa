//! The training study from code: `cargo run --release -p normshift-candle --example digits`
//! (the quick configuration; `normshift study` runs the full one and draws the plots).
use normshift_candle::study::{digits_split, lr_sweep, shift_study, summarize, Shift, SweepSpec};

fn main() -> candle_core::Result<()> {
    let (train, test) = digits_split(500, 0)?;
    let spec = SweepSpec::quick();
    for p in summarize(&lr_sweep(&spec, &train, &test)?) {
        println!(
            "batch norm {:<5} lr {:<5} mean final accuracy {:.3}  diverged {}/{}  steps to target {:?}",
            p.batch_norm, p.lr, p.mean_accuracy, p.diverged, p.runs, p.median_steps_to_target
        );
    }
    let spec = SweepSpec {
        lrs: vec![0.1],
        ..spec
    };
    for o in shift_study(
        &spec,
        &[Shift::Sensor { seed: 1 }, Shift::MoveRight],
        &train,
        &test,
    )? {
        println!("{:<34} {:<60} {:?}", o.shift, o.approach, o.accuracy);
    }
    Ok(())
}
