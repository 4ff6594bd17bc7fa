//! The seed's house prices under real and nuisance shift, against closed forms.

use normshift_candle::houses::*;

fn find<'a>(all: &'a [Outcome], shift: &str, approach: &str) -> &'a Outcome {
    all.iter()
        .find(|o| o.shift == shift && o.approach == approach)
        .unwrap_or_else(|| panic!("no row {shift} / {approach}"))
}

#[test]
fn renormalizing_hurts_a_real_shift_and_repairs_a_nuisance_one() {
    let all = house_prices(300, 0.1).unwrap();
    // Trained to the exact line price = 0.2 · size on the training houses (batch statistics),
    // a model normalizing a batch with its own statistics maps 1000…1400 onto 1500…1900.
    let adabn_real = find(&all, "real", ADABN);
    assert!(
        (adabn_real.mean_error - 100.0).abs() < 0.5,
        "{adabn_real:?}"
    );
    let adabn_nuisance = find(&all, "nuisance", ADABN);
    assert!(adabn_nuisance.mean_abs_error < 0.5, "{adabn_nuisance:?}");
    // With the running (training) statistics: exact in Keras' convention...
    let biased_real = find(&all, "real", RUNNING_BIASED);
    assert!(biased_real.mean_abs_error < 0.5, "{biased_real:?}");
    let biased_nuisance = find(&all, "nuisance", RUNNING_BIASED);
    assert!(
        (biased_nuisance.mean_error + 100.0).abs() < 0.5,
        "{biased_nuisance:?}"
    );
    // ...and in PyTorch's, the slope shrinks by sqrt(20000 / 25000): closed form.
    let unbiased_real = find(&all, "real", RUNNING);
    let shrink = (20000.0f64 / 25000.0).sqrt();
    for (p, s) in unbiased_real.predicted.iter().zip(DEPLOY_SIZES) {
        let expected = 340.0 + PRICE_PER_SQFT * (s - 1700.0) * shrink;
        assert!((p - expected).abs() < 0.5, "{p} vs {expected}");
    }
    let own = find(&all, NO_SHIFT, RUNNING);
    assert!(
        own.mean_abs_error > 2.0,
        "the convention costs on the training houses too"
    );
    assert!(find(&all, NO_SHIFT, RUNNING_BIASED).mean_abs_error < 0.5);
    // Retraining on labeled deployment data fits either set.
    for shift in ["real", "nuisance"] {
        assert!(find(&all, shift, RETRAINED).mean_abs_error < 0.5);
    }
}
