//! Property tests of profiles and drift: merge is associative and equals the profile of the
//! concatenation, batch size does not change a profile, and data never drifts from itself.
//! Also the regressions of the `profile` fuzz target (`fuzz/`, see the README).

use normshift::drift::{compare, ColumnData, DriftOptions, Side};
use normshift::profile::{ColumnBuilder, ColumnProfile, ColumnSummary, Moments, Profile};
use proptest::prelude::*;

/// Values with a common offset, some ties, NaN, ±inf and missing ones (`None`).
fn column_values() -> impl Strategy<Value = Vec<Option<f64>>> {
    let value = prop_oneof![
        8 => (-1e3f64..1e3).prop_map(Some),
        2 => (0i32..5).prop_map(|v| Some(f64::from(v))),
        1 => Just(Some(f64::NAN)),
        1 => Just(Some(f64::INFINITY)),
        1 => Just(Some(f64::NEG_INFINITY)),
        1 => Just(None),
    ];
    proptest::collection::vec(value, 0..400)
}

/// The profile of `values` (offset by `offset`) read in batches of `batch` rows.
fn column(values: &[Option<f64>], offset: f64, batch: usize) -> ColumnProfile {
    let mut b = ColumnBuilder::numeric("x", 16);
    for chunk in values.chunks(batch.max(1)) {
        let v: Vec<f64> = chunk.iter().map(|v| v.unwrap_or(0.0) + offset).collect();
        let valid: Vec<bool> = chunk.iter().map(Option::is_some).collect();
        b.add_numeric(&v, Some(&valid)).unwrap();
    }
    b.finish()
}

fn labels(values: &[Option<f64>]) -> Vec<Option<String>> {
    values
        .iter()
        .map(|v| v.map(|v| format!("k{}", (v.abs() as u64) % 7)))
        .collect()
}

fn profile(values: &[Option<f64>], offset: f64, batch: usize) -> Profile {
    let mut c = ColumnBuilder::categorical("c");
    c.add_categorical(&labels(values)).unwrap();
    Profile::new(
        vec!["p".into()],
        values.len() as u64,
        vec![column(values, offset, batch), c.finish()],
    )
}

fn moments(p: &Profile) -> Moments {
    match &p.columns[0].summary {
        ColumnSummary::Numeric(s) => s.moments,
        other => panic!("not numeric: {other:?}"),
    }
}

/// `a` and `b` agree to `tol` relative to `scale` (NaN agrees with NaN).
fn close(a: f64, b: f64, scale: f64, tol: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= tol * scale
}

/// Everything but moments and the sketch must match exactly; moments within rounding of
/// Chan's formulas: relative `1e-12` of the spread plus offset (values are at most ~1e3 from
/// the offset, and there are at most 1,200 of them).
fn assert_same_summary(x: &Profile, y: &Profile, offset: f64) -> Result<(), TestCaseError> {
    prop_assert_eq!(x.rows, y.rows);
    prop_assert_eq!(&x.columns[1], &y.columns[1], "categories are exact");
    let (cx, cy) = (&x.columns[0], &y.columns[0]);
    prop_assert_eq!((cx.rows, cx.missing), (cy.rows, cy.missing));
    let (ColumnSummary::Numeric(sx), ColumnSummary::Numeric(sy)) = (&cx.summary, &cy.summary)
    else {
        panic!("numeric column expected")
    };
    prop_assert_eq!(sx.non_finite, sy.non_finite);
    prop_assert_eq!(
        (sx.min.to_bits(), sx.max.to_bits()),
        (sy.min.to_bits(), sy.max.to_bits())
    );
    let (mx, my) = (sx.moments, sy.moments);
    prop_assert_eq!(mx.count, my.count);
    prop_assert!(
        close(mx.mean, my.mean, 1e3 + offset.abs(), 1e-12),
        "mean {} vs {}",
        mx.mean,
        my.mean
    );
    let n = mx.count as f64;
    prop_assert!(
        close(mx.m2, my.m2, n * 1e6 + my.m2, 1e-10),
        "m2 {} vs {}",
        mx.m2,
        my.m2
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn merge_equals_the_profile_of_the_concatenation(
        a in column_values(),
        b in column_values(),
        offset in prop_oneof![Just(0.0), Just(1e6), Just(-1e9)],
    ) {
        let merged = profile(&a, offset, 64).merge(&profile(&b, offset, 64)).unwrap();
        let whole: Vec<Option<f64>> = a.iter().chain(&b).copied().collect();
        assert_same_summary(&merged, &profile(&whole, offset, 64), offset)?;
    }

    #[test]
    fn merge_is_associative(
        a in column_values(),
        b in column_values(),
        c in column_values(),
    ) {
        let (pa, pb, pc) = (profile(&a, 5.0, 50), profile(&b, 5.0, 50), profile(&c, 5.0, 50));
        let left = pa.merge(&pb).unwrap().merge(&pc).unwrap();
        let right = pa.merge(&pb.merge(&pc).unwrap()).unwrap();
        assert_same_summary(&left, &right, 5.0)?;
        prop_assert_eq!(&left.sources, &right.sources);
    }

    /// Moments merge over fixed blocks of values, and the sketch takes values one at a time:
    /// how a file is cut into batches leaves no trace, to the bit.
    #[test]
    fn batch_size_does_not_change_a_profile(
        values in proptest::collection::vec(
            prop_oneof![4 => (-1e3f64..1e3).prop_map(Some), 1 => Just(None)], 0..3000),
        offset in prop_oneof![Just(0.0), Just(1e8)],
        batch_a in 1usize..700,
        batch_b in 1usize..5000,
    ) {
        let (x, y) = (column(&values, offset, batch_a), column(&values, offset, batch_b));
        let (ColumnSummary::Numeric(sx), ColumnSummary::Numeric(sy)) = (&x.summary, &y.summary)
        else {
            panic!("numeric column expected")
        };
        prop_assert_eq!(sx.moments.mean.to_bits(), sy.moments.mean.to_bits());
        prop_assert_eq!(sx.moments.m2.to_bits(), sy.moments.m2.to_bits());
        // As JSON: `==` on the profiles is false for fewer than two finite values, whose
        // variances are NaN on both sides (JSON writes them as null; finite values exactly).
        prop_assert_eq!(
            serde_json::to_string(&x).unwrap(),
            serde_json::to_string(&y).unwrap()
        );
    }

    #[test]
    fn data_never_drifts_from_itself(
        values in column_values(),
        exact in any::<bool>(),
    ) {
        prop_assume!(!values.is_empty());
        let side = |values: &[Option<f64>]| {
            let mut b = if exact {
                ColumnBuilder::numeric_exact("x")
            } else {
                ColumnBuilder::numeric("x", 16)
            };
            let v: Vec<f64> = values.iter().map(|v| v.unwrap_or(0.0)).collect();
            let valid: Vec<bool> = values.iter().map(Option::is_some).collect();
            b.add_numeric(&v, Some(&valid)).unwrap();
            let (profile, sorted) = b.finish_with_values();
            let mut c = ColumnBuilder::categorical("c");
            c.add_categorical(&labels(values)).unwrap();
            Side {
                source: "self".into(),
                rows: values.len() as u64,
                columns: vec![
                    ColumnData { profile, sorted },
                    ColumnData { profile: c.finish(), sorted: None },
                ],
            }
        };
        let (reference, current) = (side(&values), side(&values));
        let report = compare(&reference, &current, &DriftOptions::default());
        prop_assert!(!report.dataset_drift, "{:?}", report.features);
        prop_assert_eq!(report.features_drifted, 0);
    }
}

#[test]
fn overflowing_moments_are_written_as_null_and_read_back() {
    // Found by the earlier fuzzing attempt: finite values near f64::MAX overflow the mean and
    // m2 to ±inf or NaN; JSON has neither, so the profile was written with `null` and could
    // not be read back ("malformed profile").
    let mut b = ColumnBuilder::numeric("huge", 16);
    b.add_numeric(&[1e308, -1e308, 1.7e308], None).unwrap();
    let p = Profile::new(vec!["huge.csv".into()], 3, vec![b.finish()]);
    let m = moments(&p);
    assert_eq!(m.count, 3);
    assert!(!m.m2.is_finite());
    let text = p.to_json();
    let back = Profile::from_json(&text).expect("reads back");
    let mb = moments(&back);
    assert_eq!(mb.count, 3);
    assert!(mb.m2.is_nan(), "null reads back as NaN");
    // And such a profile still merges and compares without panicking.
    let merged = back.merge(&back).unwrap();
    assert_eq!(moments(&merged).count, 6);
    let side = normshift::drift::Side {
        source: "huge".into(),
        rows: 3,
        columns: vec![ColumnData {
            profile: back.columns[0].clone(),
            sorted: None,
        }],
    };
    let _report = compare(&side, &side, &DriftOptions::default());
}

/// A profile of `rows` rows: a numeric column whose values are all 1.0, its sketch's levels
/// `levels` (of total weight `rows`), and a categorical column with one missing value.
fn huge_profile(rows: u64, levels: &str) -> Profile {
    Profile::from_json(&format!(
        r#"{{"normshift_profile": 1, "sources": ["huge"], "rows": {rows}, "columns": [
            {{"name": "x", "rows": {rows}, "missing": 0, "kind": "numeric",
              "moments": {{"count": {rows}, "mean": 1.0, "m2": 0.0}},
              "non_finite": {{"nan": 0, "pos_inf": 0, "neg_inf": 0}}, "min": 1.0, "max": 1.0,
              "sketch": {{"k": 200, "n": {rows}, "levels": [{levels}], "coin": 1}}}},
            {{"name": "c", "rows": {rows}, "missing": 1, "kind": "categorical",
              "counts": {{"a": {}}}, "other": 0}}]}}"#,
        rows - 1
    ))
    .expect("a consistent profile")
}

#[test]
fn a_merge_beyond_u64_rows_is_refused_so_every_merged_profile_reads_back() {
    // 2^63 values: two items of weight 2^62 at level 62, the highest a sketch may have.
    let p = huge_profile(1 << 63, &format!("{}[1.0, 1.0]", "[], ".repeat(62)));
    // 2^63 - 1 values: one item at each level.
    let q = huge_profile((1 << 63) - 1, &vec!["[1.0]"; 63].join(", "));
    // Up to 2^64 - 1 rows a merge is written and reads back.
    let pq = p.merge(&q).unwrap();
    assert_eq!(pq.rows, u64::MAX);
    assert_eq!(Profile::from_json(&pq.to_json()).unwrap(), pq);
    // One more is refused. (Saturated, the sketch's count became u64::MAX beside items
    // of weight 2^64, and the merged profile could not be read back.)
    let e = p.merge(&p).unwrap_err();
    assert!(
        e.contains(
            "the profiles hold 9223372036854775808 and 9223372036854775808 rows, more than \
             2^64 - 1 together"
        ),
        "{e}"
    );
}

/// The crash input of the `profile` fuzz target (k = 0), and its siblings: sketches that no
/// sketch of this crate can be are refused when the profile is read, with the reason.
#[test]
fn impossible_sketches_are_refused_when_read() {
    let with_sketch = |sketch: &str| {
        format!(
            // The derived fields (variances, deciles, error bound) are left out: they are
            // computed when read.
            r#"{{"normshift_profile":1,"sources":["b.csv"],"rows":21,"columns":[{{"name":"x","rows":21,"missing":0,"kind":"numeric","moments":{{"count":18,"mean":9.5,"m2":665.0}},"non_finite":{{"nan":1,"pos_inf":0,"neg_inf":2}},"min":0.0,"max":19.0,"sketch":{sketch}}}]}}"#
        )
    };
    // Found by fuzzing: k = 0 gave an infinite error bound, written as null, unreadable.
    let fuzz_crash = with_sketch(
        r#"{"k":0,"n":20,"levels":[[18.0,19.0],[0.0,3.0,5.0,7.0],[9.0,13.0]],"coin":42}"#,
    );
    let e = Profile::from_json(&fuzz_crash).unwrap_err();
    assert!(e.contains("sketch k must be at least 8, got 0"), "{e}");
    let good = with_sketch(
        r#"{"k":8,"n":18,"levels":[[18.0,19.0],[0.0,3.0,5.0,7.0],[9.0,13.0]],"coin":42}"#,
    );
    let p = Profile::from_json(&good).expect("a consistent sketch reads");
    Profile::from_json(&p.merge(&p).unwrap().to_json()).expect("and merges");
    for (sketch, reason) in [
        (r#"{"k":8,"n":0,"levels":[],"coin":1}"#, "1 to 63 levels"),
        (
            r#"{"k":8,"n":20,"levels":[[1.0]],"coin":1}"#,
            "does not match",
        ),
        (
            r#"{"k":8,"n":1,"levels":[[1e999]],"coin":1}"#,
            "out of range",
        ),
    ] {
        let e = Profile::from_json(&with_sketch(sketch)).unwrap_err();
        assert!(e.contains(reason), "{sketch}: {e}");
    }
    let deep = format!(
        r#"{{"k":8,"n":0,"levels":[{}],"coin":1}}"#,
        vec!["[]"; 64].join(",")
    );
    assert!(Profile::from_json(&with_sketch(&deep))
        .unwrap_err()
        .contains("1 to 63 levels"));
}
