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
