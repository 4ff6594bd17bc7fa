//! Profiles: exact moments, merge = concatenation, sketch accuracy, JSON round trip.

use normshift::profile::{ColumnBuilder, ColumnSummary, Moments, NumericSummary, Profile};
use normshift::sketch::QuantileSketch;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn numeric(profile_column: &normshift::profile::ColumnProfile) -> &NumericSummary {
    match &profile_column.summary {
        ColumnSummary::Numeric(s) => s,
        other => panic!("not numeric: {other:?}"),
    }
}

fn profile_of(values: &[f64], labels: &[Option<&str>]) -> Profile {
    let mut x = ColumnBuilder::numeric("x", 200);
    // Feed in uneven batches, as a reader would.
    for chunk in values.chunks(777) {
        x.add_numeric(chunk, None).unwrap();
    }
    let mut c = ColumnBuilder::categorical("c");
    c.add_categorical(labels).unwrap();
    Profile::new(
        vec!["test".into()],
        values.len() as u64,
        vec![x.finish(), c.finish()],
    )
}

#[test]
fn seed_house_sizes_profile() {
    let p = profile_of(&normshift::data::HOUSE_SIZES_TRAIN, &[Some("a"); 5]);
    let s = numeric(&p.columns[0]);
    assert_eq!(s.moments.mean, 1700.0);
    assert_eq!(s.variance, 20000.0);
    assert_eq!(s.sample_variance, 25000.0);
    assert_eq!((s.min, s.max), (1500.0, 1900.0));
    assert!(s.sketch.is_exact());
    assert_eq!(s.sketch.quantile(0.5), 1700.0);
}

#[test]
fn missing_and_non_finite_are_counted_not_dropped() {
    let mut b = ColumnBuilder::numeric("x", 200);
    b.add_numeric(
        &[1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, 3.0],
        Some(&[true, true, true, true, false, true]),
    )
    .unwrap();
    let col = b.finish();
    let s = numeric(&col);
    assert_eq!((col.rows, col.missing), (6, 1));
    assert_eq!(
        (s.non_finite.nan, s.non_finite.pos_inf, s.non_finite.neg_inf),
        (1, 1, 1)
    );
    assert_eq!(
        s.moments,
        Moments {
            count: 2,
            mean: 2.0,
            m2: 2.0,
            mean_rounding: 0.0
        }
    );
}

#[test]
fn merge_equals_profile_of_concatenation() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let a: Vec<f64> = (0..5000).map(|_| 1e6 + rng.gen::<f64>()).collect();
    let b: Vec<f64> = (0..3001).map(|_| 1e6 + 2.0 * rng.gen::<f64>()).collect();
    let la: Vec<Option<&str>> = (0..a.len())
        .map(|i| [Some("x"), Some("y"), None][i % 3])
        .collect();
    let lb: Vec<Option<&str>> = (0..b.len())
        .map(|i| [Some("y"), Some("z")][i % 2])
        .collect();
    let merged = profile_of(&a, &la).merge(&profile_of(&b, &lb)).unwrap();
    let whole: Vec<f64> = a.iter().chain(&b).copied().collect();
    let labels: Vec<Option<&str>> = la.iter().chain(&lb).copied().collect();
    let direct = profile_of(&whole, &labels);
    let (m, d) = (numeric(&merged.columns[0]), numeric(&direct.columns[0]));
    assert_eq!(m.moments.count, d.moments.count);
    assert!((m.moments.mean - d.moments.mean).abs() <= 1e-15 * d.moments.mean);
    assert!(
        (m.moments.m2 - d.moments.m2).abs() <= 1e-10 * d.moments.m2,
        "{} vs {}",
        m.moments.m2,
        d.moments.m2
    );
    assert_eq!((m.min, m.max), (d.min, d.max));
    assert_eq!(
        merged.columns[1], direct.columns[1],
        "categorical counts are exact"
    );
    assert_eq!(merged.rows, 8001);
    // Quantiles within the sketch bound of the truth.
    let mut sorted = whole.clone();
    sorted.sort_by(f64::total_cmp);
    let eps = m.sketch.rank_error();
    for q in [0.05, 0.25, 0.5, 0.75, 0.95] {
        let estimate = m.sketch.quantile(q);
        let rank = sorted.partition_point(|&v| v <= estimate) as f64 / sorted.len() as f64;
        assert!((rank - q).abs() <= eps, "q {q}: rank {rank}, bound {eps}");
    }
}

#[test]
fn merge_is_associative_for_counts_and_moments() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let parts: Vec<Vec<f64>> = (0..3)
        .map(|k| {
            (0..1000 + k * 37)
                .map(|_| rng.gen::<f64>() * 10.0)
                .collect()
        })
        .collect();
    let ps: Vec<Profile> = parts
        .iter()
        .map(|p| profile_of(p, &vec![Some("a"); p.len()]))
        .collect();
    let left = ps[0].merge(&ps[1]).unwrap().merge(&ps[2]).unwrap();
    let right = ps[0].merge(&ps[1].merge(&ps[2]).unwrap()).unwrap();
    let (l, r) = (numeric(&left.columns[0]), numeric(&right.columns[0]));
    assert_eq!(l.moments.count, r.moments.count);
    assert!((l.moments.mean - r.moments.mean).abs() <= 1e-14 * l.moments.mean.abs());
    assert!((l.moments.m2 - r.moments.m2).abs() <= 1e-12 * l.moments.m2);
    assert_eq!(left.columns[1], right.columns[1]);
}

#[test]
fn merge_refuses_mismatched_profiles() {
    let a = profile_of(&[1.0, 2.0], &[Some("a"), Some("b")]);
    let mut b = a.clone();
    b.columns.swap(0, 1);
    assert!(a.merge(&b).unwrap_err().contains("different columns"));
}

#[test]
fn sketch_cdf_error_stays_within_its_reported_bound() {
    // Worst CDF error over whole distributions, seeded streams of several shapes and orders.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let n = 200_000;
    let streams: Vec<(&str, Vec<f64>)> = vec![
        ("uniform", (0..n).map(|_| rng.gen::<f64>()).collect()),
        ("sorted", (0..n).map(|i| i as f64).collect()),
        ("reversed", (0..n).rev().map(|i| i as f64).collect()),
        (
            "heavy tail",
            (0..n).map(|_| 1.0 / (1e-9 + rng.gen::<f64>())).collect(),
        ),
        (
            "offset 1e8",
            (0..n).map(|_| 1e8 + rng.gen::<f64>() * 1e-3).collect(),
        ),
    ];
    for (name, values) in streams {
        let mut sketch = QuantileSketch::new(200);
        sketch.extend(&values);
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        let mut worst = 0.0f64;
        for i in (0..n).step_by(997) {
            let x = sorted[i];
            let truth = sorted.partition_point(|&v| v <= x) as f64 / n as f64;
            worst = worst.max((sketch.cdf(x) - truth).abs());
        }
        assert!(
            worst <= sketch.rank_error(),
            "{name}: worst CDF error {worst} > bound {}",
            sketch.rank_error()
        );
        assert!(
            sketch.weighted_items().len() < 1000,
            "{name}: sketch too large"
        );
    }
}

#[test]
fn json_round_trip_is_exact_including_empty_columns() {
    let mut empty = ColumnBuilder::numeric("empty", 200);
    empty.add_numeric(&[0.0; 3], Some(&[false; 3])).unwrap();
    let mut p = profile_of(
        &[0.1, 0.2, 0.30000000000000004],
        &[Some("é"), None, Some("a,b")],
    );
    p.columns.push(empty.finish());
    let text = p.to_json();
    let back = Profile::from_json(&text).unwrap();
    assert_eq!(back.columns[0], p.columns[0]);
    assert_eq!(back.columns[1], p.columns[1]);
    assert!(numeric(&back.columns[2]).variance.is_nan());
    assert_eq!(back.to_json(), text);
    assert!(Profile::from_json("{\"normshift_profile\": 99}")
        .unwrap_err()
        .contains("version 99"));
    assert!(Profile::from_json("[1, 2")
        .unwrap_err()
        .contains("not valid JSON"));
    assert!(Profile::from_json("{}")
        .unwrap_err()
        .contains("not a normshift profile"));
}

proptest! {
    #[test]
    fn chan_merge_matches_two_pass(a in proptest::collection::vec(-1e6f64..1e6, 0..50), b in proptest::collection::vec(-1e6f64..1e6, 0..50)) {
        let merged = Moments::of(&a).merge(&Moments::of(&b));
        let whole: Vec<f64> = a.iter().chain(&b).copied().collect();
        let direct = Moments::of(&whole);
        prop_assert_eq!(merged.count, direct.count);
        prop_assert!((merged.mean - direct.mean).abs() <= 1e-9 * (1.0 + direct.mean.abs()));
        prop_assert!((merged.m2 - direct.m2).abs() <= 1e-9 * (1.0 + direct.m2));
    }
}

#[test]
fn categories_beyond_the_limit_are_pooled_so_memory_stays_bounded() {
    use normshift::profile::MAX_CATEGORIES;
    let ids: Vec<String> = (0..MAX_CATEGORIES + 500)
        .map(|i| format!("id-{i}"))
        .collect();
    let labels: Vec<Option<&str>> = ids
        .iter()
        .map(|s| Some(s.as_str()))
        .chain([Some("id-0")])
        .collect();
    let mut b = ColumnBuilder::categorical("id");
    b.add_categorical(&labels).unwrap();
    let ColumnSummary::Categorical(s) = b.finish().summary else {
        panic!()
    };
    assert_eq!(s.counts.len(), MAX_CATEGORIES);
    assert_eq!(s.other, 500);
    assert_eq!(s.counts["id-0"], 2, "labels already tracked keep counting");
    assert_eq!(
        s.counts.values().sum::<u64>() + s.other,
        labels.len() as u64
    );
}

#[test]
fn moments_keep_their_precision_under_a_huge_common_offset() {
    // 1e12 + N(0, 1) in many blocks: merging blocks by their absolute means (about 1e12, with
    // rounding near 1e-4) cost 1.2e-6 of the variance; around the column's first value the
    // blocks merge small means. Reference: the same f64 values with the offset removed exactly
    // (1e12 and the noise both sit on the grid of 2^-13, so x - 1e12 is exact).
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let values: Vec<f64> = (0..300_000)
        .map(|_| {
            let noise: f64 = rng.gen_range(-1.7..1.7);
            1e12 + noise
        })
        .collect();
    let mut b = ColumnBuilder::numeric("x", 200);
    for batch in values.chunks(65_536) {
        b.add_numeric(batch, None).unwrap();
    }
    let ColumnSummary::Numeric(s) = b.finish().summary else {
        panic!("numeric");
    };
    let deviations: Vec<f64> = values.iter().map(|v| v - 1e12).collect();
    let n = deviations.len() as f64;
    let mean = deviations.iter().sum::<f64>() / n;
    let var = deviations.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / n;
    let rel = (s.moments.variance() - var).abs() / var;
    assert!(rel < 1e-10, "relative variance error {rel:e}");
    assert!((s.moments.mean - (1e12 + mean)).abs() <= 2.0 * f64::EPSILON * 1e12);
}

/// A small profile of a numeric column `x` and a categorical column `c`, as pretty JSON.
fn two_column_json() -> String {
    let mut x = ColumnBuilder::numeric("x", 200);
    x.add_numeric(&[1.0, 2.0], None).unwrap();
    let mut c = ColumnBuilder::categorical("c");
    c.add_categorical(&[Some("a"), None]).unwrap();
    Profile::new(vec!["t".into()], 2, vec![x.finish(), c.finish()]).to_json()
}

/// The 1-based line of `text` that contains `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    1 + text.lines().position(|l| l.contains(needle)).unwrap()
}

#[test]
fn a_malformed_profile_error_names_the_column_and_the_line() {
    let text = two_column_json();
    for (from, to, column) in [
        ("\"a\": 1", "\"a\": -1", "c"),
        ("\"count\": 2", "\"count\": -2", "x"),
        ("\"mean\": 1.5", "\"mean\": \"1.5\"", "x"),
        ("\"kind\": \"categorical\"", "\"kind\": \"text\"", "c"),
    ] {
        assert!(text.contains(from), "{from}");
        let bad = text.replace(from, to);
        let e = Profile::from_json(&bad).unwrap_err();
        assert!(e.contains(&format!("column '{column}'")), "{to}: {e}");
        // The line of the bad value itself, not of the column's closing brace.
        let line = line_of(&bad, to);
        assert!(e.contains(&format!("at line {line} column")), "{to}: {e}");
    }
    // A column without a usable name is named by its place.
    let bad = text.replace("\"name\": \"c\"", "\"name\": 5");
    let e = Profile::from_json(&bad).unwrap_err();
    assert!(e.contains("column 2 of the \"columns\" list"), "{e}");
    assert!(e.contains("expected a string at line"), "{e}");
}

#[test]
fn a_version_field_of_the_wrong_type_is_named_as_such() {
    let text = two_column_json();
    for (version, said) in [
        ("\"1\"", "is \"1\" (a string)"),
        ("1.0", "is 1.0 (a floating-point number)"),
        ("null", "is null"),
    ] {
        let bad = text.replace(
            "\"normshift_profile\": 1,",
            &format!("\"normshift_profile\": {version},"),
        );
        let e = Profile::from_json(&bad).unwrap_err();
        assert!(
            e.contains(&format!("\"normshift_profile\" version field {said}"))
                && e.contains("must be the integer 1"),
            "{version}: {e}"
        );
    }
    assert!(Profile::from_json("[1, 2]")
        .unwrap_err()
        .contains("a profile is a JSON object"));
}

#[test]
fn a_profile_with_a_byte_order_mark_reads() {
    let text = two_column_json();
    let with_bom = format!("\u{feff}{text}");
    assert_eq!(
        Profile::from_json(&with_bom).unwrap(),
        Profile::from_json(&text).unwrap()
    );
}

#[test]
fn a_profile_with_a_column_twice_is_refused_with_its_name() {
    let mut x = ColumnBuilder::numeric("id", 200);
    x.add_numeric(&[1.0, 2.0], None).unwrap();
    let mut c = ColumnBuilder::categorical("c");
    c.add_categorical(&[Some("a"), None]).unwrap();
    let id = x.finish();
    let p = Profile::new(vec!["t".into()], 2, vec![id.clone(), c.finish(), id]);
    let e = Profile::from_json(&p.to_json()).unwrap_err();
    assert!(
        e.contains("column 'id' appears twice (columns 1 and 3"),
        "{e}"
    );
}

/// `two_column_json` with `edit` applied to its parsed JSON.
fn edited(edit: impl FnOnce(&mut serde_json::Value)) -> String {
    edited_text(&two_column_json(), edit)
}

/// `text` with `edit` applied to its parsed JSON.
fn edited_text(text: &str, edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut v: serde_json::Value = serde_json::from_str(text).unwrap();
    edit(&mut v);
    serde_json::to_string_pretty(&v).unwrap()
}

#[test]
fn derived_fields_are_computed_when_left_out_and_refused_when_they_disagree() {
    let original = Profile::from_json(&two_column_json()).unwrap();
    let without = edited(|v| {
        let x = v["columns"][0].as_object_mut().unwrap();
        for field in [
            "variance",
            "sample_variance",
            "sketch_rank_error",
            "deciles",
        ] {
            x.remove(field).unwrap();
        }
    });
    assert_eq!(Profile::from_json(&without).unwrap(), original);
    for (field, value, said) in [
        (
            "variance",
            serde_json::json!(100.0),
            "variance is 100.0, but m2 / count",
        ),
        (
            "sample_variance",
            serde_json::json!(null),
            "sample_variance is null, but",
        ),
        (
            "sketch_rank_error",
            serde_json::json!(0.5),
            "sketch_rank_error is 0.5",
        ),
        (
            "deciles",
            serde_json::json!([1.0]),
            "deciles are [1.0], but the sketch",
        ),
    ] {
        let text = edited(|v| v["columns"][0][field] = value);
        let e = Profile::from_json(&text).unwrap_err();
        assert!(e.contains("column 'x'") && e.contains(said), "{field}: {e}");
    }
}

#[test]
fn inconsistent_core_fields_are_refused_naming_the_column() {
    use serde_json::json;
    type Edit = fn(&mut serde_json::Value);
    let cases: [(Edit, &str, &str); 10] = [
        (
            |v| v["columns"][0]["missing"] = json!(5),
            "x",
            "rows is 2, but its finite values (moments.count 2), missing values (5)",
        ),
        (
            |v| v["columns"][1]["counts"]["a"] = json!(7),
            "c",
            "rows is 2, but its category counts (7)",
        ),
        (
            |v| v["columns"][0]["min"] = json!(3.0),
            "x",
            "min (3.0) is larger than max (2.0)",
        ),
        (|v| v["columns"][0]["max"] = json!(null), "x", "max is null"),
        (
            |v| v["columns"][0]["moments"]["mean"] = json!(null),
            "x",
            "mean is null with 2 finite values",
        ),
        (
            |v| v["columns"][0]["moments"]["mean"] = json!(1e308),
            "x",
            "mean (1e308) lies outside min (1.0) and max (2.0)",
        ),
        (
            |v| v["columns"][0]["moments"]["m2"] = json!(-3.0),
            "x",
            "cannot be negative",
        ),
        (
            // An all-missing column with a spread.
            |v| {
                let x = &mut v["columns"][0];
                x["missing"] = json!(2);
                x["moments"] = json!({"count": 0, "mean": 0.0, "m2": 1.0});
                x["sketch"] = json!({"k": 200, "n": 0, "levels": [[]], "coin": 1});
                for f in ["min", "max", "variance", "sample_variance"] {
                    x[f] = json!(null);
                }
                x["deciles"] = json!([]);
            },
            "x",
            "m2 is 1.0, but there are no finite values (moments.count 0)",
        ),
        (
            // Three finite values counted, two in the sketch.
            |v| {
                v["rows"] = json!(3);
                v["columns"][0]["rows"] = json!(3);
                v["columns"][0]["moments"]["count"] = json!(3);
                v["columns"][1]["rows"] = json!(3);
                v["columns"][1]["missing"] = json!(2);
            },
            "x",
            "the sketch holds 2 values, but moments.count is 3",
        ),
        (
            |v| {
                v["columns"][1]["rows"] = json!(3);
                v["columns"][1]["missing"] = json!(2);
            },
            "c",
            "column 'c' has 3 rows, but the profile has 2",
        ),
    ];
    for (edit, column, said) in cases {
        let e = Profile::from_json(&edited(edit)).unwrap_err();
        assert!(
            e.contains(&format!("column '{column}'")) && e.contains(said),
            "{said}: {e}"
        );
    }
}

/// The population variance of `values` around `offset`, two-pass on the deviations (exact
/// for these values: `offset` and the noise sit on one grid, so `v - offset` is exact).
fn variance_around(values: &[f64], offset: f64) -> f64 {
    let deviations: Vec<f64> = values.iter().map(|v| v - offset).collect();
    let n = deviations.len() as f64;
    let mean = deviations.iter().sum::<f64>() / n;
    deviations.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / n
}

/// The profile of one numeric column `x`, read in batches of 4,096 rows as from a file,
/// written to JSON and read back (the precision has to survive the file).
fn fitted(values: &[f64]) -> Profile {
    let mut b = ColumnBuilder::numeric("x", 200);
    for batch in values.chunks(4096) {
        b.add_numeric(batch, None).unwrap();
    }
    let p = Profile::new(vec!["shard".into()], values.len() as u64, vec![b.finish()]);
    Profile::from_json(&p.to_json()).unwrap()
}

#[test]
fn merge_keeps_the_precision_of_fit_under_a_huge_common_offset() {
    // Two shards of 1e12 + U(-1.7, 1.7): merging by absolute means (about 1e12, rounded to
    // 1.2e-4) cost 7.9e-7 of the variance, where fit of the whole is exact.
    // Also five uneven shards, merged one after the other as `normshift merge` does.
    let two: &[usize] = &[10_000, 10_000];
    let five: &[usize] = &[1_000, 7_919, 3, 20_000, 4_096];
    for (offset, sizes, seed) in [
        (1e12, two, 31),
        (1e15, two, 32),
        (1e8, two, 33),
        (1e12, five, 34),
        (1e15, five, 35),
    ] {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let shards: Vec<Vec<f64>> = sizes
            .iter()
            .map(|&n| (0..n).map(|_| offset + rng.gen_range(-1.7..1.7)).collect())
            .collect();
        let merged = shards[1..].iter().fold(fitted(&shards[0]), |m, shard| {
            m.merge(&fitted(shard)).unwrap()
        });
        let whole: Vec<f64> = shards.concat();
        let direct = fitted(&whole);
        let (m, d) = (
            numeric(&merged.columns[0]).moments,
            numeric(&direct.columns[0]).moments,
        );
        let truth = variance_around(&whole, offset);
        let rel = |v: f64| ((v - truth) / truth).abs();
        println!(
            "offset {offset:e}, {} shards: merge {:e}, fit {:e}",
            sizes.len(),
            rel(m.variance()),
            rel(d.variance())
        );
        // The means agree to their last place, as double-doubles.
        let exact = |m: Moments| m.mean - offset + m.mean_rounding;
        assert!((exact(m) - exact(d)).abs() <= 1e-14, "mean");
        assert!(rel(d.variance()) < 1e-12, "fit: {:e}", rel(d.variance()));
        assert!(
            ((m.variance() - d.variance()) / d.variance()).abs() < 1e-10,
            "offset {offset:e}: merge {:e} against fit {:e}",
            m.variance(),
            d.variance()
        );
        assert_eq!(m.count, d.count);
    }
    // A profile written before `mean_rounding` existed reads as one whose mean was exact.
    let text = fitted(&[1e12 + 0.5, 1e12 + 0.25, 1e12]).to_json();
    let old = edited_text(&text, |v| {
        let moments = v["columns"][0]["moments"].as_object_mut().unwrap();
        moments.remove("mean_rounding").unwrap();
    });
    assert_eq!(
        numeric(&Profile::from_json(&old).unwrap().columns[0])
            .moments
            .mean_rounding,
        0.0
    );
    // A "rounding error" beyond the mean's last place is refused.
    let big = edited_text(&text, |v| {
        v["columns"][0]["moments"]["mean_rounding"] = 1e-3.into()
    });
    let e = Profile::from_json(&big).unwrap_err();
    assert!(
        e.contains("column 'x'") && e.contains("mean_rounding (0.001) is larger"),
        "{e}"
    );
}

#[test]
fn a_column_without_values_in_one_shard_merges_as_the_other_shards_kind() {
    // Every row missing: the reader calls such a column numeric.
    let mut empty = ColumnBuilder::numeric("z", 200);
    empty.add_numeric(&[0.0; 3], Some(&[false; 3])).unwrap();
    let labels = [Some("foo"), None, Some("bar"), Some("foo")];
    let mut text = ColumnBuilder::categorical("z");
    text.add_categorical(&labels).unwrap();
    let empty = Profile::new(vec!["a".into()], 3, vec![empty.finish()]);
    let text = Profile::new(vec!["b".into()], 4, vec![text.finish()]);
    for (first, second) in [(&empty, &text), (&text, &empty)] {
        let merged = first.merge(second).unwrap();
        // The concatenation, fitted, is categorical: its text decides.
        let mut whole = ColumnBuilder::categorical("z");
        for p in [first, second] {
            let shard: Vec<Option<&str>> = if std::ptr::eq(p, &empty) {
                vec![None; 3]
            } else {
                labels.to_vec()
            };
            whole.add_categorical(&shard).unwrap();
        }
        assert_eq!(merged.columns[0], whole.finish());
        assert_eq!(merged.rows, 7);
        Profile::from_json(&merged.to_json()).expect("reads back");
    }
    // A numeric column that held values, even only NaN, still does not merge with text.
    let mut nan = ColumnBuilder::numeric("z", 200);
    nan.add_numeric(&[f64::NAN], None).unwrap();
    let nan = Profile::new(vec!["c".into()], 1, vec![nan.finish()]);
    let e = nan.merge(&text).unwrap_err();
    assert!(e.contains("numeric in one profile and categorical"), "{e}");
}

#[test]
fn categories_beyond_the_limit_merge_as_pooled_per_shard() {
    // The README's example: each shard pools its labels past the limit on its own, so a
    // merge counts other than a fit of the concatenation (the totals agree).
    use normshift::profile::MAX_CATEGORIES;
    let a: Vec<String> = (0..MAX_CATEGORIES).map(|i| format!("a{i}")).collect();
    let b: Vec<String> = (0..MAX_CATEGORIES)
        .map(|i| format!("b{i}"))
        .chain(std::iter::repeat_n("a0".to_string(), 3))
        .collect();
    let categories = |shards: &[&[String]]| {
        let mut c = ColumnBuilder::categorical("id");
        for shard in shards {
            let labels: Vec<Option<&str>> = shard.iter().map(|l| Some(l.as_str())).collect();
            c.add_categorical(&labels).unwrap();
        }
        let rows = shards.iter().map(|s| s.len() as u64).sum();
        Profile::new(vec!["t".into()], rows, vec![c.finish()])
    };
    let counts = |p: &Profile| match &p.columns[0].summary {
        ColumnSummary::Categorical(s) => (s.counts["a0"], s.other),
        other => panic!("not categorical: {other:?}"),
    };
    let merged = categories(&[&a]).merge(&categories(&[&b])).unwrap();
    let whole = categories(&[&a, &b]);
    assert_eq!(counts(&whole), (4, 10_000));
    assert_eq!(counts(&merged), (1, 10_003));
    assert_eq!(merged.rows, whole.rows);
}
