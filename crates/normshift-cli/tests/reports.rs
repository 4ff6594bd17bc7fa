//! What the human drift report and `normalize` tell a user in the cases a usability review
//! found unclear (2026-11-30): categories that vanish or appear, tests that cannot or can
//! barely tell anything, a report that is only a change of kind, a profile as the reference,
//! undefined and underflowing numbers, a column without values, a file read with the wrong
//! delimiter.

mod common;

use common::*;

use std::path::{Path, PathBuf};

/// A CSV with a label column `c` cycling through `labels` and a number column `x`.
fn labelled(dir: &Path, name: &str, labels: &[&str], rows: usize) -> PathBuf {
    let mut text = String::from("c,x\n");
    for i in 0..rows {
        text.push_str(&format!("{},{}\n", labels[i % labels.len()], i % 7));
    }
    write(dir, name, &text)
}

#[test]
fn vanished_and_new_categories_are_named_whether_or_not_the_feature_drifts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let abc = labelled(d, "abc.csv", &["a", "b", "c"], 300);
    let ab = labelled(d, "ab.csv", &["a", "b"], 300);
    let o = normshift(&["drift", s(&abc), s(&ab)]);
    let out = stdout(&o);
    assert!(out.contains("      vanished categories: 'c'"), "{out}");
    // One new label among many old ones: no drift, but the new label is still named.
    let abcd = labelled(
        d,
        "abcd.csv",
        &["a", "b", "c", "a", "b", "c", "a", "b", "c", "d"],
        3000,
    );
    let abc_many = labelled(d, "abc-many.csv", &["a", "b", "c"], 3000);
    let o = normshift(&["drift", s(&abc_many), s(&abcd)]);
    let out = stdout(&o);
    assert!(out.contains("      new categories: 'd'"), "{out}");
}

#[test]
fn unique_labels_get_a_weak_test_note_and_empty_columns_a_not_tested_note() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut reference = String::from("id,x,empty\n");
    let mut current = String::from("id,x,empty\n");
    for i in 0..500 {
        reference.push_str(&format!("r{i},{},\n", i % 10));
        current.push_str(&format!("c{i},{},\n", i % 10));
    }
    let r = write(d, "r.csv", &reference);
    let c = write(d, "c.csv", &current);
    let o = normshift(&["drift", s(&r), s(&c)]);
    let out = stdout(&o);
    assert!(
        out.contains("weak test: 2000 of 2000 label counts are expected below 5"),
        "{out}"
    );
    assert!(out.contains("new categories: 'c0', 'c1'"), "{out}");
    assert!(out.contains("and 492 more"), "{out}");
    assert!(
        out.contains("not tested: no finite values on both sides"),
        "{out}"
    );
    assert!(out.contains("not tested (see their notes): empty"), "{out}");
    // The JSON carries the same notes.
    let o = normshift(&["drift", s(&r), s(&c), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let id = v["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "id")
        .unwrap();
    assert!(id["notes"][0].as_str().unwrap().starts_with("weak test:"));
}

#[test]
fn a_change_of_kind_alone_is_said_in_the_headline_without_an_empty_table() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let numbers = write(d, "n.csv", "v\n1\n2\n3\n");
    let words = write(d, "w.csv", "v\none\ntwo\nthree\n");
    let o = normshift(&["drift", s(&numbers), s(&words)]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.starts_with(
            "DRIFT: 0 of 0 features drifted (tests on raw data); 1 column appears, vanishes \
             or changes kind"
        ),
        "{out}"
    );
    assert!(!out.contains("p (adj.)"), "{out}");
}

#[test]
fn a_profile_reference_is_named_by_its_file_and_its_source() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = labelled(d, "data.csv", &["a", "b"], 100);
    let profile = d.join("p.json");
    assert!(normshift(&["fit", s(&data), "-o", s(&profile)])
        .status
        .success());
    let o = normshift(&["drift", s(&profile), s(&data)]);
    let out = stdout(&o);
    assert!(
        out.contains(&format!(
            "reference: {} (profile of {}) (100 rows)",
            profile.display(),
            data.display()
        )),
        "{out}"
    );
}

#[test]
fn undefined_and_underflowing_numbers_are_shown_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut reference = String::from("x,k\n");
    let mut current = String::from("x,k\n");
    for i in 0..1000 {
        reference.push_str(&format!("{i},5\n"));
        current.push_str(&format!("{},5\n", i + 5000));
    }
    let r = write(d, "r.csv", &reference);
    let c = write(d, "c.csv", &current);
    let o = normshift(&["drift", s(&r), s(&c)]);
    let out = stdout(&o);
    let x = out
        .lines()
        .find(|l| l.trim_start().starts_with("x "))
        .unwrap();
    // p = 2 / C(2000, 1000) underflows; W1 and PSI carry no sign.
    assert!(x.contains("<1e-307"), "{x}");
    let cols: Vec<&str> = x.split_whitespace().collect();
    // W1 / σ_ref = 5000 / 288.675 unsigned; the mean shift signed; PSI and JS unsigned.
    assert_eq!(cols[4..8], ["17.321", "+17.321", "8.283", "0.758"], "{x}");
    // A constant reference column: its mean shift in σ_ref is undefined, shown as "-".
    let k = out
        .lines()
        .find(|l| l.trim_start().starts_with("k "))
        .unwrap();
    assert!(!k.contains("NaN"), "{k}");
}

#[test]
fn normalize_passes_a_column_without_values_through() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = write(d, "d.csv", "x,empty\n1,\n2,\n3,NA\n");
    let out = d.join("out.csv");
    let o = normshift(&["normalize", s(&data), "--adapt", "-o", s(&out)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("column 'empty' has no finite values in the data: it is left as it is"),
        "{}",
        stderr(&o)
    );
    let written = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        written.lines().nth(3),
        Some("1.2247356859083902,NA"),
        "{written}"
    );
    // With a profile: a value where the profile has none is an error naming row and column.
    let profile = d.join("p.json");
    assert!(normshift(&["fit", s(&data), "-o", s(&profile)])
        .status
        .success());
    let filled = write(d, "filled.csv", "x,empty\n1,\n2,4.5\n");
    let o = normshift(&[
        "normalize",
        s(&filled),
        "--profile",
        s(&profile),
        "-o",
        s(&out),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(
            "filled.csv: column 'empty' has the value 4.5 in data row 2 but no finite value in \
             the profile"
        ),
        "{}",
        stderr(&o)
    );
    // The earlier output is untouched by the failed run.
    assert_eq!(std::fs::read_to_string(&out).unwrap(), written);
}

#[test]
fn a_file_read_with_the_wrong_delimiter_gets_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let semicolons = write(d, "semi.csv", "x;y\n1;2\n3;4\n");
    let profile = d.join("p.json");
    let o = normshift(&["fit", s(&semicolons), "-o", s(&profile)]);
    assert!(
        stderr(&o).contains(
            "the header is one column, 'x;y'; if the file is separated by ';', pass --delimiter ';'"
        ),
        "{}",
        stderr(&o)
    );
    let decimal_commas = write(d, "dc.csv", "x;y\n1,5;2\n");
    let o = normshift(&["fit", s(&decimal_commas), "-o", s(&profile)]);
    assert!(
        stderr(&o).contains(
            "this row has 2 fields but the header has 1; if the file is separated by another \
             character, pass it with --delimiter"
        ),
        "{}",
        stderr(&o)
    );
}
