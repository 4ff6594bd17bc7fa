//! The real `normshift` binary, black-box.

mod common;

use common::*;

#[test]
fn explain_default_is_the_seed_walkthrough() {
    let out = normshift(&["explain"]);
    assert!(out.status.success());
    let expected = "\
Batch normalization of 5 values, step by step
(eps = 0.00001, gamma = 1, beta = 0)

Step 1. Mean
  mean = (1 + 2 + 3 + 4 + 5) / 5 = 3.000

Step 2. Variance (biased: divide by n)
  variance = ((1 - 3.000)² + (2 - 3.000)² + (3 - 3.000)² + (4 - 3.000)² + (5 - 3.000)²) / 5 = 2.000

Step 3. Normalize: x̂ = (x - mean) / sqrt(variance + eps)
  sqrt(2.000 + 0.00001) = 1.414
  x = 1          x̂ = (1 - 3.000) / 1.414 = -1.414
  x = 2          x̂ = (2 - 3.000) / 1.414 = -0.707
  x = 3          x̂ = (3 - 3.000) / 1.414 = 0.000
  x = 4          x̂ = (4 - 3.000) / 1.414 = 0.707
  x = 5          x̂ = (5 - 3.000) / 1.414 = 1.414

Step 4. Scale and shift: y = gamma · x̂ + beta
  y = 1 · -1.414 + 0 = -1.414
  y = 1 · -0.707 + 0 = -0.707
  y = 1 · 0.000 + 0 = 0.000
  y = 1 · 0.707 + 0 = 0.707
  y = 1 · 1.414 + 0 = 1.414

Normalized: [-1.414, -0.707, 0.000, 0.707, 1.414]
Output:     [-1.414, -0.707, 0.000, 0.707, 1.414]
";
    assert_eq!(stdout(&out), expected);
}

#[test]
fn explain_json_carries_full_precision() {
    let out = normshift(&[
        "explain", "--json", "--gamma", "2", "--beta", "-0.5", "--", "-1", "1",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["mean"], 0.0);
    assert_eq!(v["variance"], 1.0);
    let inv = 1.0 / (1.0f64 + 1e-5).sqrt();
    assert_eq!(v["normalized"][0].as_f64().unwrap(), -inv);
    assert_eq!(v["output"][1].as_f64().unwrap(), 2.0 * inv - 0.5);
}

#[test]
fn explain_accepts_negative_values_without_a_separator() {
    let out = normshift(&["explain", "-3", "-1", "4", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["values"], serde_json::json!([-3.0, -1.0, 4.0]));
}

#[test]
fn explain_summarizes_long_batches() {
    let values: Vec<String> = (1..=25).map(|v| v.to_string()).collect();
    let mut args = vec!["explain"];
    args.extend(values.iter().map(String::as_str));
    let text = stdout(&normshift(&args));
    assert!(
        text.contains("mean = (1 + 2 + … + 25) / 25 = 13.000"),
        "{text}"
    );
    assert!(text.contains("… 15 more (--json prints every value)"));
}

#[test]
fn demo_shows_the_seed_numbers() {
    let out = normshift(&["demo"]);
    assert!(out.status.success());
    let text = stdout(&out);
    for needle in [
        "normalized [-1.414, -0.707, 0.000, 0.707, 1.414]",
        "training     1500 1600 1700 1800 1900       1700.000    20000.000",
        "deployment   1000 1100 1200 1300 1400       1200.000    20000.000",
        "the mean moved by -500.000 sq ft = -3.536 training standard deviations",
        "deployment, training statistics:       [-4.950, -4.243, -3.536, -2.828, -2.121]",
        "KS D = 1.000, exact p = 0.0079; W1 = 500.000 sq ft = 3.536 σ; verdict: DRIFT",
        "7 of 7 features drifted (223 vs 183 cars); most severe first:",
        "mpg           DRIFT  mean   19.771 →   27.958 (+1.40 σ)",
        "6. Training with batch normalization: the seed's house prices",
        "deployment batch statistics (seed, AdaBN)               +100.00           +0.00",
        "7. Training speed and learning rates (quick run: `normshift study` runs the full one)",
        "8. A nuisance shift on real data: re-estimating the statistics (AdaBN), quick run",
        "BN, statistics re-estimated on deployment images (AdaBN)",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&normshift(&["demo", "--json"]))).unwrap();
    assert_eq!(json["seed"]["train"]["mean"], 1700.0);
    assert_eq!(json["seed"]["deploy"]["variance"], 20000.0);
    assert_eq!(json["house_drift"]["dataset_drift"], true);
    assert_eq!(json["auto_mpg_drift"]["features_drifted"], 7);
    let rows = json["house_prices"].as_array().unwrap();
    let adabn_real = rows
        .iter()
        .find(|r| {
            r["shift"] == "real" && r["approach"] == "deployment batch statistics (seed, AdaBN)"
        })
        .unwrap();
    assert_eq!(adabn_real["predicted"].as_array().unwrap().len(), 5);
    assert!((adabn_real["mean_error"].as_f64().unwrap() - 100.0).abs() < 0.5);
    assert_eq!(json["study"]["sweep"].as_array().unwrap().len(), 6);
}

#[test]
fn study_writes_its_plots_and_reports_every_run() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("plots");
    let out = normshift(&[
        "study",
        "--quick",
        "--epochs",
        "2",
        "--out",
        out_dir.to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    // Three learning rates, one seed, with and without batch norm.
    assert_eq!(v["runs"].as_array().unwrap().len(), 6);
    assert_eq!(v["sweep"].as_array().unwrap().len(), 6);
    assert_eq!(v["epochs"], 2);
    for run in v["runs"].as_array().unwrap() {
        // 1297 training rows in batches of 64: 21 steps per epoch, unless the run diverged.
        let last = run["steps"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .as_u64()
            .unwrap();
        assert!(last == 42 || !run["diverged"].is_null(), "{run}");
    }
    let approaches: Vec<&str> = v["shift"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["approach"].as_str().unwrap())
        .collect();
    assert_eq!(approaches.len(), 2 + 4 + 4);
    assert!(approaches.contains(&"BN, statistics re-estimated on deployment images (AdaBN)"));
    assert_eq!(v["house_prices"].as_array().unwrap().len(), 10);
    let plots = v["plots"].as_array().unwrap();
    assert_eq!(plots.len(), 4);
    for p in plots {
        let svg = std::fs::read_to_string(p.as_str().unwrap()).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("with batch norm"));
    }
    // No temporary files left beside the plots.
    let names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| n.ends_with(".svg")), "{names:?}");
    let bad = normshift(&["study", "--seeds", "0"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("--seeds must be at least 1"));
}

#[test]
fn bad_input_exits_2_with_a_clear_message() {
    for (args, message) in [
        (
            &["explain", "1", "nan"][..],
            "error: the 2nd value is NaN: only finite numbers can be normalized\n",
        ),
        (
            &["explain", "1", "2", "--eps", "0"],
            "error: eps must be finite and greater than 0, got 0\n",
        ),
        (
            &["explain", "1", "2", "--gamma", "inf"],
            "error: gamma[0] = inf is invalid: must be finite\n",
        ),
    ] {
        let out = normshift(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), message);
        assert!(out.stdout.is_empty());
    }
    let out = normshift(&["explain", "1", "two"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid value 'two'"), "{err}");
    assert!(!err.contains("panicked"));
}

#[test]
fn bench_json_has_the_documented_fields_and_consistent_ratios() {
    let out = normshift(&[
        "bench",
        "--case",
        "32x3x224x224/channels-last",
        "--reps",
        "1",
        "--threads",
        "2",
        "--json",
        "--quiet",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let rows = rows.as_array().expect("one JSON array");
    let ops: Vec<&str> = rows.iter().map(|r| r["op"].as_str().unwrap()).collect();
    assert_eq!(
        ops,
        [
            "forward_train",
            "forward_eval",
            "backward",
            "candle_train_step"
        ]
    );
    for r in rows {
        assert_eq!(r["case"], "32x3x224x224");
        assert_eq!(r["layout"], "channels-last");
        assert_eq!(r["dtype"], "f32");
        assert_eq!(r["threads"], 2);
        let f = |k: &str| {
            r[k].as_f64()
                .unwrap_or_else(|| panic!("{k} missing in {r}"))
        };
        let (ms, gbps, copy, ratio) = (f("ms"), f("gbps"), f("copy_gbps"), f("bandwidth_ratio"));
        assert!(ms > 0.0 && gbps > 0.0 && copy > 0.0);
        assert!((ratio - gbps / copy).abs() <= 1e-9 * ratio);
        // Bytes moved: x read + y written (forward), x and dy read + dx written (backward).
        let elements = 32.0 * 3.0 * 224.0 * 224.0;
        let passes = match r["op"].as_str().unwrap() {
            "backward" => 3.0,
            "candle_train_step" => 5.0, // forward plus backward
            _ => 2.0,
        };
        let expected = passes * 4.0 * elements / (ms * 1e-3) / 1e9;
        assert!(
            (gbps - expected).abs() <= 1e-6 * expected,
            "{gbps} vs {expected}"
        );
        // The peer ran on the same data: its time and our speed-up over it.
        let (candle, speedup) = (f("candle_ms"), f("speedup"));
        assert!((speedup - candle / ms).abs() <= 1e-9 * speedup);
        // Only the training step has a floor: the same step with a do-nothing layer.
        if r["op"] == "candle_train_step" {
            let (floor, cap) = (f("floor_ms"), f("speedup_cap"));
            assert!(floor > 0.0);
            assert!((cap - candle / floor).abs() <= 1e-9 * cap);
        } else {
            assert!(r["floor_ms"].is_null() && r["speedup_cap"].is_null(), "{r}");
        }
    }
}

#[test]
fn bench_rejects_an_unknown_case_with_the_list_of_cases() {
    let out = normshift(&["bench", "--case", "7x7", "--no-candle"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no benchmark case matches 7x7"), "{err}");
    assert!(err.contains("64x64x56x56/channels-last/f32"), "{err}");
}
