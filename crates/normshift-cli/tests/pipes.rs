//! Data read from a pipe (`/dev/stdin`, as `<(cat file)` gives one too): read once, never
//! opened again.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn fit_reads_a_csv_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_normshift"))
        .args(["fit", "/dev/stdin", "--format", "csv", "-o"])
        .arg(&out)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run normshift");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"a,b\r\n1,x\r\n2,y\r\n3,x\r\n").unwrap();
    drop(stdin);
    // Opening a pipe again could block for ever: give up after 60 s.
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("normshift fit /dev/stdin did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let profile = std::fs::read_to_string(&out).unwrap();
    assert!(profile.contains("\"a\""), "{profile}");
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("profile of 3 rows"),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn normalize_refuses_a_pipe_rather_than_reading_parts_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("n.csv");
    let mut child = Command::new(env!("CARGO_BIN_EXE_normshift"))
        .args([
            "normalize",
            "/dev/stdin",
            "--format",
            "csv",
            "--adapt",
            "-o",
        ])
        .arg(&out)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run normshift");
    let mut stdin = child.stdin.take().unwrap();
    // The refusal may come before everything is written: a closed pipe is fine here.
    let _ = stdin.write_all(b"a,b\n1,x\n2,y\n3,x\n");
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("needs a regular file, not a pipe"),
        "{stderr}"
    );
    assert!(!out.exists());
}
