//! The binary on real files in a temporary directory: fit, merge, normalize, drift.

mod common;

use common::*;

use std::path::Path;
use std::process::Command;

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/data")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn fit_then_merge_equals_fit_of_the_concatenation() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let a = write(d, "a.csv", "x,k\n1,u\n2,v\n3,u\n");
    let b = write(d, "b.csv", "x,k\n10,v\n,w\n");
    let all = write(d, "all.csv", "x,k\n1,u\n2,v\n3,u\n10,v\n,w\n");
    for (input, out) in [(&a, "a.json"), (&b, "b.json"), (&all, "all.json")] {
        let o = normshift(&[
            "fit",
            input.to_str().unwrap(),
            "-o",
            d.join(out).to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let o = normshift(&[
        "merge",
        d.join("a.json").to_str().unwrap(),
        d.join("b.json").to_str().unwrap(),
        "-o",
        d.join("m.json").to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(d.join(name)).unwrap()).unwrap()
    };
    let (mut merged, mut direct) = (read("m.json"), read("all.json"));
    // Same data, same summaries; only the list of sources differs.
    merged["sources"] = serde_json::Value::Null;
    direct["sources"] = serde_json::Value::Null;
    // The sketch's coin-flip generator state records its history, not the data.
    merged["columns"][0]["sketch"]["coin"] = serde_json::Value::Null;
    direct["columns"][0]["sketch"]["coin"] = serde_json::Value::Null;
    assert_eq!(merged, direct);
    assert_eq!(direct["columns"][0]["missing"], 1);
    assert_eq!(direct["columns"][1]["counts"]["u"], 2);
}

#[test]
fn outputs_never_overwrite_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "d.csv", "x\n1\n2\n");
    let before = std::fs::read(&data).unwrap();
    let o = normshift(&["fit", data.to_str().unwrap(), "-o", data.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("refusing to write"), "{}", stderr(&o));
    let o = normshift(&[
        "normalize",
        data.to_str().unwrap(),
        "--adapt",
        "-o",
        data.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(std::fs::read(&data).unwrap(), before);
    // A failed run leaves no output and no temporary file behind.
    // Past the 1,000 rows used to decide the column's kind, a word in a numeric column.
    let mut text = String::from("x\n");
    for i in 0..1000 {
        text.push_str(&format!("{i}\n"));
    }
    text.push_str("three\n");
    let bad = write(dir.path(), "bad.csv", &text);
    let out = dir.path().join("p.json");
    let o = normshift(&["fit", bad.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("bad.csv: line 1002, column 'x': 'three' is not a number"),
        "{}",
        stderr(&o)
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 2, "{leftovers:?}");
}

#[test]
fn normalize_with_a_profile_reproduces_the_seed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let train = write(
        d,
        "train.csv",
        "size,region\n1500,a\n1600,a\n1700,a\n1800,a\n1900,a\n",
    );
    let deploy = write(
        d,
        "deploy.csv",
        "size,region\n1000,b\n1100,b\n1200,b\n1300,b\n1400,b\n",
    );
    let profile = d.join("train.json");
    assert!(normshift(&[
        "fit",
        train.to_str().unwrap(),
        "-o",
        profile.to_str().unwrap()
    ])
    .status
    .success());
    let out = d.join("with-train.csv");
    let o = normshift(&[
        "normalize",
        deploy.to_str().unwrap(),
        "--profile",
        profile.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    let first: Vec<&str> = text.lines().nth(1).unwrap().split(',').collect();
    let y: f64 = first[0].parse().unwrap();
    assert_eq!(y, (1000.0 - 1700.0) / (20000.0f64 + 1e-5).sqrt());
    assert_eq!(first[1], "b", "other columns pass through");
    // Adapted: the deployment's own statistics, the seed's −1.414 for 1000 sq ft.
    let out = d.join("adapted.csv");
    let o = normshift(&[
        "normalize",
        deploy.to_str().unwrap(),
        "--adapt",
        "-o",
        out.to_str().unwrap(),
        "--gamma",
        "2",
        "--beta",
        "1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    let y: f64 = text
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(y, 2.0 * (-200.0 / (20000.0f64 + 1e-5).sqrt()) + 1.0);
}

#[test]
fn drift_exit_codes_and_json_schema() {
    let (a, b) = (
        example("auto-mpg-1970-1976.csv"),
        example("auto-mpg-1977-1982.csv"),
    );
    let same = normshift(&["drift", &a, &a]);
    assert_eq!(same.status.code(), Some(0), "{}", stderr(&same));
    assert!(stdout(&same).starts_with("no drift: 0 of 8 features drifted (tests on raw data)"));
    let o = normshift(&["drift", &a, &b, "--json", "--exclude", "model_year"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["dataset_drift"], true);
    let features = v["features"].as_array().unwrap();
    assert_eq!(features.len(), 7);
    for f in features {
        assert!(f["name"].is_string() && f["kind"].is_string() && f["drift"].is_boolean());
        let test = &f["tests"][0];
        assert!(
            test["statistic"].is_number()
                && test["p_value"].is_number()
                && test["p_value_adjusted"].is_number()
        );
        assert!(f["effect_sizes"].is_object());
    }
    let mpg = features.iter().find(|f| f["name"] == "mpg").unwrap();
    assert_eq!(mpg["drift"], true);
    assert!(
        mpg["effect_sizes"]["standardized_mean_difference"]
            .as_f64()
            .unwrap()
            > 1.0,
        "cars got more economical"
    );
    let origin = features.iter().find(|f| f["name"] == "origin").unwrap();
    assert_eq!(origin["kind"], "categorical");
    assert_eq!(origin["tests"][0]["name"], "chi_square");
}

#[test]
fn drift_says_which_categorical_columns_it_could_not_test() {
    // 12,000 ID labels, the current file the same rows in another order: not tested by
    // label (which labels are pooled beyond 10,000 depends on the order), said in the text
    // and the JSON, and no drift.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rows = |step: usize| -> String {
        let mut text = String::from("id,x\n");
        for i in 0..60_000 {
            text.push_str(&format!("id{},{}\n", (i * step) % 60_000 % 12_000, i % 7));
        }
        text
    };
    let a = write(d, "a.csv", &rows(1));
    let b = write(d, "b.csv", &rows(7_919));
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let out = normshift(&["drift", a, b]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.contains("not tested (see their notes): id"), "{text}");
    assert!(
        text.contains("more than 10000 distinct labels on both sides"),
        "{text}"
    );
    let out = normshift(&["drift", a, b, "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = &json["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "id")
        .unwrap();
    assert!(id["notes"][0].as_str().unwrap().starts_with("not tested"));
    assert_eq!(id["drift"], false);
}

#[test]
fn drift_against_a_profile_uses_sketches_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("ref.json");
    assert!(normshift(&[
        "fit",
        &example("auto-mpg-1970-1976.csv"),
        "-o",
        profile.to_str().unwrap()
    ])
    .status
    .success());
    let o = normshift(&[
        "drift",
        profile.to_str().unwrap(),
        &example("auto-mpg-1977-1982.csv"),
        "--columns",
        "mpg,weight",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("DRIFT: 2 of 2 features drifted (sketch tests)"),
        "{}",
        stdout(&o)
    );
    // What the sketches cannot see is said. The reference's sketch (223 rows) has compacted,
    // with ε = 1.33% at k = 200; the current one (183 rows) still holds every value.
    assert!(
        stdout(&o).contains("sketch tests: D is known to ±0.013 and p allows for it"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn drift_errors_exit_2_with_file_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write(dir.path(), "empty.csv", "");
    let header = write(dir.path(), "header.csv", "mpg\n");
    let o = normshift(&[
        "drift",
        &example("auto-mpg-1970-1976.csv"),
        empty.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("empty.csv: the file is empty"),
        "{}",
        stderr(&o)
    );
    let o = normshift(&[
        "drift",
        &example("auto-mpg-1970-1976.csv"),
        header.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("header.csv: no data rows to compare"),
        "{}",
        stderr(&o)
    );
    let o = normshift(&["drift", "nope.json", header.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("error: nope.json: cannot read profile"),
        "{}",
        stderr(&o)
    );
    let o = normshift(&[
        "drift",
        header.to_str().unwrap(),
        header.to_str().unwrap(),
        "--alpha",
        "2",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--alpha is out of range: 2"));
}

#[cfg(unix)]
#[test]
fn outputs_are_ordinary_files_not_private_temporaries() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "d.csv", "x\n1\n2\n");
    let out = dir.path().join("p.json");
    // A new output gets 0o666 less the umask, as any new file (the test runner's umask may
    // differ: set the usual one; `tests/outputs.rs` tries others).
    let run = Command::new("sh")
        .arg("-c")
        .arg("umask 022 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_normshift"))
        .args(["fit", data.to_str().unwrap(), "-o", out.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(run.success());
    assert_eq!(
        std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o644
    );
    // Replacing a file keeps that file's mode.
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o640)).unwrap();
    assert!(
        normshift(&["fit", data.to_str().unwrap(), "-o", out.to_str().unwrap()])
            .status
            .success()
    );
    assert_eq!(
        std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o640
    );
}

#[test]
fn all_missing_and_constant_columns() {
    let dir = tempfile::tempdir().unwrap();
    let mut reference = String::from("gone,constant,fine\n");
    let mut current = String::from("gone,constant,fine\n");
    for i in 0..200 {
        reference.push_str(&format!("{i},7,{}\n", i % 10));
        current.push_str(&format!(",7,{}\n", i % 10));
    }
    let r = write(dir.path(), "r.csv", &reference);
    let c = write(dir.path(), "c.csv", &current);
    let o = normshift(&["drift", r.to_str().unwrap(), c.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let feature = |name: &str| {
        v["features"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap()
            .clone()
    };
    let gone = feature("gone");
    assert_eq!(gone["drift"], true);
    assert_eq!(
        gone["reasons"][0],
        "missing rate changed by +100.0 percentage points"
    );
    assert_eq!(gone["current"]["count"], 0);
    assert_eq!(feature("constant")["drift"], false);
    assert_eq!(feature("fine")["drift"], false);
    // Normalizing with a profile whose column has no values is refused with the column's name.
    let profile = dir.path().join("c.json");
    assert!(
        normshift(&["fit", c.to_str().unwrap(), "-o", profile.to_str().unwrap()])
            .status
            .success()
    );
    let o = normshift(&[
        "normalize",
        r.to_str().unwrap(),
        "--profile",
        profile.to_str().unwrap(),
        "-o",
        dir.path().join("n.csv").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("column 'gone' has no finite values"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn drift_html_report_is_written_and_never_over_an_input() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("report.html");
    let (a, b) = (
        example("auto-mpg-1970-1976.csv"),
        example("auto-mpg-1977-1982.csv"),
    );
    let o = normshift(&["drift", &a, &b, "--html", html.to_str().unwrap(), "--quiet"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(text.contains("DRIFT: 8 of 8 features drifted"));
    assert!(text.contains(r#"id="f-origin""#) && text.contains("Category shares"));
    let o = normshift(&["drift", &a, &b, "--html", &b]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("refusing to write"), "{}", stderr(&o));
}

#[test]
fn normalize_writes_csv_as_the_input_is_written() {
    // A .tsv came out comma-separated, which then read back as one column.
    let dir = tempfile::tempdir().unwrap();
    let tsv = write(dir.path(), "m.tsv", "a\tb\n1\tx\n3\ty\n");
    let out = dir.path().join("n.tsv");
    let o = normshift(&[
        "normalize",
        tsv.to_str().unwrap(),
        "--adapt",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("a\tb\n"), "{text}");
    assert!(text.contains("\tx\n") && text.contains("\ty\n"), "{text}");
    let semi = write(dir.path(), "m.csv", "a;b\n1;x\n3;y\n");
    let out = dir.path().join("n.csv");
    let o = normshift(&[
        "normalize",
        semi.to_str().unwrap(),
        "--adapt",
        "--delimiter",
        ";",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read_to_string(&out).unwrap().starts_with("a;b\n"));
    // A spreadsheet export from Windows: byte-order mark and CRLF line ends stay.
    let windows = write(dir.path(), "w.csv", "\u{feff}a,b\r\n1,x\r\n3,y\r\n");
    let out = dir.path().join("nw.csv");
    let o = normshift(&[
        "normalize",
        windows.to_str().unwrap(),
        "--adapt",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("\u{feff}a,b\r\n"), "{text:?}");
    assert_eq!(text.matches("\r\n").count(), 3, "{text:?}");
    assert_eq!(text.matches('\n').count(), 3, "{text:?}");
    // The header passes through as it was: names with spaces around them, and the empty name
    // of a pandas index column (matched as `Unnamed: 0`; it used to be refused, and names
    // used to be written back trimmed).
    let pandas = write(dir.path(), "p.csv", ",size , kind\n0,1500,a\n1,1600,b\n");
    let out = dir.path().join("np.csv");
    let o = normshift(&[
        "normalize",
        pandas.to_str().unwrap(),
        "--adapt",
        "--exclude",
        "Unnamed: 0",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with(",size , kind\n0,"), "{text:?}");
    assert!(
        text.contains("\n1,"),
        "the excluded index passes through: {text:?}"
    );
}
