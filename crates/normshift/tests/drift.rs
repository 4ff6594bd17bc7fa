//! Drift decisions on constructed data with known answers.

use normshift::drift::{compare, ColumnData, DriftOptions, Side};
use normshift::profile::ColumnBuilder;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A side with numeric columns (exact: values kept) and optional categorical ones.
fn side(
    numeric: &[(&str, Vec<f64>)],
    categorical: &[(&str, Vec<Option<&str>>)],
    exact: bool,
) -> Side {
    let mut columns = Vec::new();
    let mut rows = 0;
    for (name, values) in numeric {
        let mut b = if exact {
            ColumnBuilder::numeric_exact(*name)
        } else {
            ColumnBuilder::numeric(*name, 200)
        };
        let valid: Vec<bool> = values
            .iter()
            .map(|v| !v.is_nan() || v.is_sign_negative())
            .collect();
        // Convention for these tests: +NaN marks a missing value, -NaN a NaN value.
        let vals: Vec<f64> = values
            .iter()
            .map(|&v| {
                if v.is_nan() && v.is_sign_negative() {
                    f64::NAN
                } else {
                    v
                }
            })
            .collect();
        b.add_numeric(&vals, Some(&valid)).unwrap();
        let (profile, sorted) = b.finish_with_values();
        rows = values.len() as u64;
        columns.push(ColumnData { profile, sorted });
    }
    for (name, labels) in categorical {
        let mut b = ColumnBuilder::categorical(*name);
        b.add_categorical(labels).unwrap();
        rows = labels.len() as u64;
        columns.push(ColumnData {
            profile: b.finish(),
            sorted: None,
        });
    }
    Side {
        source: "test".into(),
        rows,
        columns,
    }
}

fn normal(rng: &mut ChaCha8Rng, n: usize, mean: f64, sd: f64) -> Vec<f64> {
    // Box–Muller.
    (0..n)
        .map(|_| {
            let (u, v): (f64, f64) = (rng.gen::<f64>().max(1e-300), rng.gen());
            mean + sd * (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
        })
        .collect()
}

#[test]
fn seed_house_sizes_shift_is_minus_3_54_reference_sds() {
    let train = side(
        &[("size", normshift::data::HOUSE_SIZES_TRAIN.to_vec())],
        &[],
        true,
    );
    let deploy = side(
        &[("size", normshift::data::HOUSE_SIZES_DEPLOY.to_vec())],
        &[],
        true,
    );
    let r = compare(&train, &deploy, &DriftOptions::default());
    let f = &r.features[0];
    let smd = f.effect_sizes.standardized_mean_difference.unwrap();
    assert!((smd - (-500.0 / 20000f64.sqrt())).abs() < 1e-12, "{smd}");
    assert_eq!(f.effect_sizes.variance_ratio, Some(1.0));
    assert_eq!(f.effect_sizes.wasserstein, Some(500.0));
    // Five against five, fully separated: exact KS p = 2 / C(10, 5) = 2/252.
    let ks = &f.tests[0];
    assert_eq!((ks.name, ks.method, ks.statistic), ("ks", "exact", 1.0));
    assert!((ks.p_value - 2.0 / 252.0).abs() < 1e-12);
    assert!(f.drift && r.dataset_drift);
    assert_eq!(
        (f.reference.mean, f.current.mean),
        (Some(1700.0), Some(1200.0))
    );
}

#[test]
fn data_against_itself_never_drifts() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let labels: Vec<Option<&str>> = (0..500)
        .map(|i| [Some("a"), Some("b"), None][i % 3])
        .collect();
    let mut x = normal(&mut rng, 500, 10.0, 2.0);
    x[7] = f64::NAN; // one missing
    let s = side(
        &[("x", x), ("y", normal(&mut rng, 500, 0.0, 1.0))],
        &[("c", labels)],
        true,
    );
    let r = compare(&s, &s, &DriftOptions::default());
    assert!(!r.dataset_drift);
    assert_eq!(r.features_drifted, 0);
    assert!(r
        .features
        .iter()
        .all(|f| f.tests.iter().all(|t| t.p_value > 0.99)));
}

#[test]
fn a_million_rows_do_not_flag_a_trivial_shift_but_flag_a_real_one() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let n = 200_000;
    let reference = side(
        &[
            ("tiny", normal(&mut rng, n, 0.0, 1.0)),
            ("real", normal(&mut rng, n, 0.0, 1.0)),
        ],
        &[],
        true,
    );
    let current = side(
        &[
            ("tiny", normal(&mut rng, n, 0.03, 1.0)),
            ("real", normal(&mut rng, n, 0.3, 1.0)),
        ],
        &[],
        true,
    );
    let r = compare(&reference, &current, &DriftOptions::default());
    let tiny = r.features.iter().find(|f| f.name == "tiny").unwrap();
    let real = r.features.iter().find(|f| f.name == "real").unwrap();
    // Both are statistically significant at this size...
    assert!(
        tiny.tests[0].p_value_adjusted < 1e-6,
        "{}",
        tiny.tests[0].p_value_adjusted
    );
    // ...but only the real one is large enough to matter.
    assert!(!tiny.drift, "{:?}", tiny.reasons);
    assert!(real.drift);
    assert_eq!(r.features[0].name, "real", "drifted features come first");
}

#[test]
fn missing_rate_change_is_a_signal_on_its_own() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let reference = normal(&mut rng, 4000, 5.0, 1.0);
    let mut current = normal(&mut rng, 4000, 5.0, 1.0);
    for v in current.iter_mut().step_by(10) {
        *v = f64::NAN; // 10% missing
    }
    let r = compare(
        &side(&[("x", reference)], &[], true),
        &side(&[("x", current)], &[], true),
        &DriftOptions::default(),
    );
    let f = &r.features[0];
    assert!(f.drift);
    assert_eq!(
        f.reasons,
        ["missing rate changed by +10.0 percentage points"]
    );
    assert!((f.effect_sizes.missing_rate_change - 0.1).abs() < 1e-12);
}

#[test]
fn non_finite_values_are_counted_and_tested() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let reference = normal(&mut rng, 3000, 0.0, 1.0);
    let mut current = normal(&mut rng, 3000, 0.0, 1.0);
    for v in current.iter_mut().step_by(20) {
        *v = -f64::NAN; // 5% NaN values
    }
    let r = compare(
        &side(&[("x", reference)], &[], true),
        &side(&[("x", current)], &[], true),
        &DriftOptions::default(),
    );
    let f = &r.features[0];
    assert!(f
        .tests
        .iter()
        .any(|t| t.name == "non_finite_rate" && t.p_value_adjusted < 1e-6));
    assert!(f
        .reasons
        .iter()
        .any(|r| r.starts_with("non-finite rate changed by +5.0")));
}

#[test]
fn categories_report_unseen_and_vanished_by_name() {
    let reference: Vec<Option<&str>> = (0..600)
        .map(|i| Some(["red", "green", "blue"][i % 3]))
        .collect();
    let current: Vec<Option<&str>> = (0..600).map(|i| Some(["red", "purple"][i % 2])).collect();
    let r = compare(
        &side(&[], &[("colour", reference)], true),
        &side(&[], &[("colour", current)], true),
        &DriftOptions::default(),
    );
    let f = &r.features[0];
    assert_eq!(f.kind, "categorical");
    assert_eq!(f.unseen_categories, ["purple"]);
    assert_eq!(f.vanished_categories, ["blue", "green"]);
    assert!(f.drift);
    // Shares 1/3,1/3,1/3,0 vs 1/2,0,0,1/2: total variation = (1/6 + 1/3 + 1/3 + 1/2) / 2 = 2/3.
    assert!((f.effect_sizes.total_variation.unwrap() - 2.0 / 3.0).abs() < 1e-12);
}

#[test]
fn more_labels_than_are_kept_are_not_tested_by_name() {
    // 12,000 labels, 5 rows each; the current side holds the same rows in another order, so
    // the two sides pool different labels beyond the first 10,000 they meet.
    let labels: Vec<String> = (0..12_000).map(|i| format!("id{i}")).collect();
    let reference: Vec<Option<&str>> = (0..60_000)
        .map(|i| Some(labels[i % 12_000].as_str()))
        .collect();
    let current: Vec<Option<&str>> = (0..60_000)
        .map(|i| Some(labels[(i * 7_919) % 60_000 % 12_000].as_str()))
        .collect();
    let mut sorted_ref = reference.clone();
    let mut sorted_cur = current.clone();
    sorted_ref.sort();
    sorted_cur.sort();
    assert_eq!(sorted_ref, sorted_cur, "the same rows");
    let r = compare(
        &side(&[], &[("id", reference.clone())], true),
        &side(&[], &[("id", current)], true),
        &DriftOptions::default(),
    );
    let f = &r.features[0];
    assert!(!f.drift, "{:?}", f.reasons);
    assert!(!r.dataset_drift);
    assert!(f.tests.iter().all(|t| t.name != "chi_square"));
    assert!(f.unseen_categories.is_empty() && f.vanished_categories.is_empty());
    assert!(
        f.notes[0].starts_with("not tested: more than 10000 distinct labels on both sides"),
        "{:?}",
        f.notes
    );
    // The current side within the limit: the reference labels it lacks are gone for sure
    // (it kept every label it saw), but its own labels may be among the reference's pooled
    // ones, so none is called new.
    let few: Vec<Option<&str>> = (0..100).map(|i| Some(["a", "b"][i % 2])).collect();
    let r = compare(
        &side(&[], &[("id", reference)], true),
        &side(&[], &[("id", few)], true),
        &DriftOptions::default(),
    );
    let f = &r.features[0];
    assert!(f.unseen_categories.is_empty());
    assert_eq!(f.vanished_categories.len(), 10_000);
    assert!(
        f.notes[0].contains("on the reference side"),
        "{:?}",
        f.notes
    );
}

#[test]
fn schema_changes_make_the_dataset_drift() {
    let a = side(
        &[("x", vec![1.0, 2.0, 3.0]), ("gone", vec![1.0, 2.0, 3.0])],
        &[("k", vec![Some("a"); 3])],
        true,
    );
    let b = side(
        &[
            ("x", vec![1.0, 2.0, 3.0]),
            ("k", vec![1.0, 2.0, 3.0]),
            ("new", vec![0.0; 3]),
        ],
        &[],
        true,
    );
    let r = compare(&a, &b, &DriftOptions::default());
    assert!(r.dataset_drift);
    assert_eq!(r.schema.only_in_reference, ["gone"]);
    assert_eq!(r.schema.only_in_current, ["new"]);
    assert_eq!(r.schema.kind_changed, ["k"]);
    assert_eq!(r.features_drifted, 0);
}

#[test]
fn sketch_mode_agrees_with_exact_mode_within_the_sketch_bound() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (a, b) = (
        normal(&mut rng, 50_000, 0.0, 1.0),
        normal(&mut rng, 40_000, 0.2, 1.1),
    );
    let exact = compare(
        &side(&[("x", a.clone())], &[], true),
        &side(&[("x", b.clone())], &[], true),
        &DriftOptions::default(),
    );
    let sketch = compare(
        &side(&[("x", a)], &[], false),
        &side(&[("x", b)], &[], false),
        &DriftOptions::default(),
    );
    assert_eq!((exact.mode, sketch.mode), ("exact", "sketch"));
    let (e, s) = (&exact.features[0], &sketch.features[0]);
    assert_eq!(s.tests[0].method, "sketch");
    // D from two sketches is within the sum of their rank-error bounds (1.33% each at k = 200).
    assert!(
        (e.tests[0].statistic - s.tests[0].statistic).abs() <= 2.0 * 0.0133,
        "{} vs {}",
        e.tests[0].statistic,
        s.tests[0].statistic
    );
    let (we, ws) = (
        e.effect_sizes.wasserstein_std.unwrap(),
        s.effect_sizes.wasserstein_std.unwrap(),
    );
    assert!((we - ws).abs() <= 0.03, "{we} vs {ws}");
    assert_eq!(e.drift, s.drift);
    // Moments are exact in both modes.
    assert_eq!(
        e.effect_sizes.standardized_mean_difference,
        s.effect_sizes.standardized_mean_difference
    );
}

#[test]
fn constant_reference_column_is_handled() {
    let same = compare(
        &side(&[("c", vec![3.0; 50])], &[], true),
        &side(&[("c", vec![3.0; 60])], &[], true),
        &DriftOptions::default(),
    );
    assert!(!same.dataset_drift);
    assert_eq!(same.features[0].effect_sizes.wasserstein_std, Some(0.0));
    let moved = compare(
        &side(&[("c", vec![3.0; 50])], &[], true),
        &side(&[("c", vec![4.0; 60])], &[], true),
        &DriftOptions::default(),
    );
    assert!(moved.features[0].drift);
    assert_eq!(
        moved.features[0].effect_sizes.wasserstein_std,
        Some(f64::INFINITY)
    );
}

/// One numeric column summarized by a quantile sketch of size `k` (no raw values kept), as
/// `drift` sees a profile.
fn sketched(values: &[f64], k: u32) -> Side {
    let mut b = ColumnBuilder::numeric("x", k);
    b.add_numeric(values, None).unwrap();
    Side {
        source: "sketch".into(),
        rows: values.len() as u64,
        columns: vec![ColumnData {
            profile: b.finish(),
            sorted: None,
        }],
    }
}

#[test]
fn sketches_of_one_distribution_never_drift_even_small_ones() {
    // Before the p-value allowed for the sketches' own error, two 200,000-row samples of one
    // distribution gave p ≈ 1e-7 at k = 200, and a file against its own sketch drifted at k = 8.
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let (a, b) = (
        normal(&mut rng, 200_000, 0.0, 1.0),
        normal(&mut rng, 200_000, 0.0, 1.0),
    );
    for k in [8, 50, 200] {
        for (name, current) in [("itself", &a), ("another sample", &b)] {
            let options = DriftOptions {
                min_wasserstein_std: 0.0,
                ..DriftOptions::default()
            };
            let r = compare(&sketched(&a, k), &sketched(current, k), &options);
            let ks = &r.features[0].tests[0];
            assert_eq!((ks.name, ks.method), ("ks", "sketch"));
            let error = ks.statistic_error.expect("a sketch test states its error");
            assert!(
                error > 0.0 && ks.statistic <= error,
                "k {k}, {name}: {ks:?}"
            );
            assert_eq!(ks.p_value, 1.0, "k {k}, {name}: {ks:?}");
            assert!(!r.dataset_drift, "k {k}, {name}");
        }
    }
}

#[test]
fn a_sketch_p_value_is_never_below_the_exact_one() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let a = normal(&mut rng, 30_000, 0.0, 1.0);
    for shift in [0.0, 0.02, 0.05, 0.1, 0.3] {
        let b = normal(&mut rng, 20_000, shift, 1.0);
        let exact = compare(
            &side(&[("x", a.clone())], &[], true),
            &side(&[("x", b.clone())], &[], true),
            &DriftOptions::default(),
        );
        let sketch = compare(
            &sketched(&a, 200),
            &sketched(&b, 200),
            &DriftOptions::default(),
        );
        let (e, s) = (&exact.features[0].tests[0], &sketch.features[0].tests[0]);
        assert!(
            s.p_value >= e.p_value,
            "shift {shift}: sketch {s:?}, exact {e:?}"
        );
        // The exact statistic lies within the sketch's stated error.
        assert!(
            (s.statistic - e.statistic).abs() <= s.statistic_error.unwrap(),
            "shift {shift}: sketch {s:?}, exact {e:?}"
        );
    }
    // A real shift is still found from sketches.
    let b = normal(&mut rng, 20_000, 0.3, 1.0);
    assert!(
        compare(
            &sketched(&a, 200),
            &sketched(&b, 200),
            &DriftOptions::default()
        )
        .dataset_drift
    );
}

#[test]
fn sketches_that_hold_every_value_give_the_exact_test() {
    // The seed's houses: 5 against 5, far below k, so the sketches are the data.
    let train = [1500.0, 1600.0, 1700.0, 1800.0, 1900.0];
    let deploy = [1000.0, 1100.0, 1200.0, 1300.0, 1400.0];
    let r = compare(
        &sketched(&train, 200),
        &sketched(&deploy, 200),
        &DriftOptions::default(),
    );
    let ks = &r.features[0].tests[0];
    assert_eq!(
        (ks.method, ks.statistic, ks.statistic_error),
        ("exact", 1.0, None)
    );
    // Every one of the C(10, 5) = 252 orderings is equally likely; 2 separate the samples fully.
    assert!((ks.p_value - 2.0 / 252.0).abs() < 1e-15, "{ks:?}");
}

/// With no shift at all, the dataset verdict must be a false alarm in at most `alpha` of
/// comparisons. Ten numeric features of 100 rows, each with 10% missing and 10% NaN values,
/// are drawn alike on both sides 600 times (seeded, so the count is fixed). Corrected per kind
/// of test (until 2026-11-30), each feature had three chances at alpha, and 11% of such
/// comparisons drifted in a review's simulation; the bound here is alpha plus three standard
/// errors of the count (30 + 16 of 600).
#[test]
fn false_alarm_rate_stays_within_alpha() {
    let mut rng = ChaCha8Rng::seed_from_u64(20261130);
    let (runs, features, rows) = (600, 10, 100);
    let names: Vec<String> = (0..features).map(|i| format!("f{i}")).collect();
    let draw = |rng: &mut ChaCha8Rng| -> Side {
        let columns: Vec<(&str, Vec<f64>)> = names
            .iter()
            .map(|name| {
                let values = normal(rng, rows, 0.0, 1.0)
                    .into_iter()
                    .map(|v| match rng.gen::<f64>() {
                        u if u < 0.1 => f64::NAN,  // missing (+NaN, see `side`)
                        u if u < 0.2 => -f64::NAN, // a NaN value
                        _ => v,
                    })
                    .collect();
                (name.as_str(), values)
            })
            .collect();
        side(&columns, &[], true)
    };
    let options = DriftOptions::default();
    let mut alarms = 0;
    let mut tests_per_run = 0;
    for _ in 0..runs {
        let (reference, current) = (draw(&mut rng), draw(&mut rng));
        let report = compare(&reference, &current, &options);
        tests_per_run = report.features.iter().map(|f| f.tests.len()).sum();
        alarms += usize::from(report.dataset_drift);
    }
    // Each feature has its three tests (so the bound is about all of them).
    assert_eq!(tests_per_run, 3 * features);
    let rate = alarms as f64 / runs as f64;
    println!(
        "false alarms: {alarms} of {runs} ({rate:.3}) at alpha {}",
        options.alpha
    );
    assert!(
        alarms <= 46,
        "{alarms} false alarms in {runs} runs ({rate:.3})"
    );
}
