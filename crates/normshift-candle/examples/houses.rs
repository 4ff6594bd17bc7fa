//! The seed's house prices under covariate shift: `cargo run --release -p normshift-candle --example houses`.
fn main() -> candle_core::Result<()> {
    for o in normshift_candle::houses::house_prices(300, 0.1)? {
        let p: Vec<String> = o.predicted.iter().map(|v| format!("{v:.1}")).collect();
        println!(
            "{:<24} {:<38} mean error {:>+8.2}  |error| {:>7.2}  predicted [{}]",
            o.shift,
            o.approach,
            o.mean_error,
            o.mean_abs_error,
            p.join(", ")
        );
    }
    Ok(())
}
