//! Profiles through the binary: what `merge` and the commands that read profiles accept
//! and refuse.

mod common;

use common::*;

/// Fits `csv` (written to `dir/name.csv`) into `dir/name.json` and returns the profile's path.
fn fit(dir: &std::path::Path, name: &str, csv: &str) -> std::path::PathBuf {
    let data = write(dir, &format!("{name}.csv"), csv);
    let profile = dir.join(format!("{name}.json"));
    let o = normshift(&["fit", s(&data), "-o", s(&profile)]);
    assert!(o.status.success(), "{}", stderr(&o));
    profile
}

#[test]
fn a_profile_with_a_column_twice_is_refused_naming_the_file_and_the_column() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = fit(d, "good", "id,x\n1,2\n3,4\n");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&good).unwrap()).unwrap();
    let first = v["columns"][0].clone();
    v["columns"].as_array_mut().unwrap().push(first);
    let dup = write(d, "dup.json", &v.to_string());
    // merge named the other file ("it has the columns of good.json in another order").
    let o = normshift(&["merge", s(&good), s(&dup), "-o", s(&d.join("m.json"))]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains(&format!("{}: column 'id' appears twice", dup.display())),
        "{e}"
    );
}

/// The profile at `path` as JSON, without what records history rather than data: the list
/// of sources and the sketches' coin-flip states.
fn summary(path: &std::path::Path) -> serde_json::Value {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v["sources"] = serde_json::Value::Null;
    for column in v["columns"].as_array_mut().unwrap() {
        if column["kind"] == "numeric" {
            column["sketch"]["coin"] = serde_json::Value::Null;
        }
    }
    v
}

#[test]
fn a_column_missing_in_every_row_of_one_shard_merges_as_the_others_kind() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The review's shards: 'z' has no value in s1 (read as numeric), text in s2.
    let s1 = fit(d, "s1", "x,z\n1,NA\n2,\n");
    let s2 = fit(d, "s2", "x,z\n3,foo\n4,bar\n");
    for (name, first, second, whole) in [
        ("m12", &s1, &s2, "x,z\n1,NA\n2,\n3,foo\n4,bar\n"),
        ("m21", &s2, &s1, "x,z\n3,foo\n4,bar\n1,NA\n2,\n"),
    ] {
        let merged = d.join(format!("{name}.json"));
        let o = normshift(&["merge", s(first), s(second), "-o", s(&merged)]);
        assert!(o.status.success(), "{}", stderr(&o));
        let direct = fit(d, &format!("{name}-whole"), whole);
        assert_eq!(summary(&merged), summary(&direct), "{name}");
        assert_eq!(summary(&direct)["columns"][1]["kind"], "categorical");
    }
}
