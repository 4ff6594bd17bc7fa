//! Helpers shared by the CLI tests: run the real binary, read its output, write input files.
// Each test file uses some of these; the others would warn as unused in its crate.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the `normshift` binary with `args` and waits for it.
pub fn normshift(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_normshift"))
        .args(args)
        .output()
        .expect("run normshift")
}

/// Its stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Its stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// A path as `&str`, for arguments.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The names of the files in `dir`, sorted.
pub fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
