//! The binary under hostile conditions: interrupts, internal errors, outputs that are inputs,
//! files that disagree; and the same exit codes and `--help` examples for every command.

mod common;

use common::*;

use std::path::Path;
use std::process::{Command, Stdio};

const COMMANDS: &[&str] = &[
    "explain",
    "demo",
    "fit",
    "merge",
    "normalize",
    "drift",
    "bench",
];

#[test]
fn every_command_has_help_with_an_example_and_exit_code_0() {
    for command in COMMANDS {
        let o = normshift(&[command, "--help"]);
        assert_eq!(o.status.code(), Some(0), "{command}: {}", stderr(&o));
        let help = stdout(&o);
        assert!(
            help.contains("Example"),
            "{command} --help has no example:\n{help}"
        );
        assert!(
            help.contains(&format!("normshift {command}")),
            "{command} --help shows no command line:\n{help}"
        );
    }
    let o = normshift(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).contains("Exit codes: 0 success"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn usage_errors_exit_2_for_every_command() {
    for args in [
        &["fit"][..],
        &["merge", "only-one.json", "-o", "m.json"],
        &["normalize", "d.csv"],
        &["drift", "a.csv"],
        &["explain", "not-a-number"],
        &["bench", "--threads", "many"],
        &["no-such-command"],
    ] {
        let o = normshift(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).starts_with("error:"), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{args:?}");
    }
}

#[test]
fn an_internal_error_is_a_short_message_and_exit_2_never_a_panic() {
    let o = Command::new(env!("CARGO_BIN_EXE_normshift"))
        .args(["explain"])
        .env("NORMSHIFT_TEST_INTERNAL_ERROR", "1")
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.starts_with("error: internal error in normshift: "), "{e}");
    assert!(
        e.contains("this is a bug, not a problem with your data"),
        "{e}"
    );
    assert!(
        !e.contains("panicked") && !e.contains("stack backtrace"),
        "{e}"
    );
    assert!(stdout(&o).is_empty());
}

#[test]
fn no_command_writes_over_one_of_its_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = write(d, "d.csv", "x\n1\n2\n3\n");
    let (a, b) = (d.join("a.json"), d.join("b.json"));
    for p in [&a, &b] {
        let o = normshift(&["fit", data.to_str().unwrap(), "-o", p.to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let before = |p: &Path| std::fs::read(p).unwrap();
    let (a0, d0) = (before(&a), before(&data));
    let (a_s, b_s, d_s) = (
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        data.to_str().unwrap(),
    );
    // Also through another spelling of the same path.
    let dotted = format!("{}/./a.json", d.display());
    for args in [
        vec!["merge", a_s, b_s, "-o", a_s],
        vec!["merge", a_s, b_s, "-o", &dotted],
        vec!["normalize", d_s, "--profile", a_s, "-o", a_s],
        vec!["normalize", d_s, "--profile", a_s, "-o", d_s],
        vec!["drift", a_s, d_s, "--html", a_s],
        vec!["drift", a_s, d_s, "--html", d_s],
        vec!["fit", d_s, "-o", d_s],
    ] {
        let o = normshift(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&o).starts_with("error: refusing to write"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
    assert_eq!(before(&a), a0);
    assert_eq!(before(&data), d0);
    assert_eq!(files_in(d), ["a.json", "b.json", "d.csv"]);
}

#[test]
fn a_column_numeric_in_one_file_and_text_in_the_other_is_reported_as_drift() {
    let dir = tempfile::tempdir().unwrap();
    let mut reference = String::from("size,kind\n");
    let mut current = String::from("size,kind\n");
    for i in 0..100 {
        reference.push_str(&format!("{i},a\n"));
        current.push_str(&format!("big{i},a\n"));
    }
    let r = write(dir.path(), "r.csv", &reference);
    let c = write(dir.path(), "c.csv", &current);
    let o = normshift(&["drift", r.to_str().unwrap(), c.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["dataset_drift"], true);
    assert_eq!(v["schema"]["kind_changed"], serde_json::json!(["size"]));
    let o = normshift(&["drift", r.to_str().unwrap(), c.to_str().unwrap()]);
    assert!(
        stdout(&o).contains(
            "columns numeric on one side, categorical on the other (--categorical NAME reads \
             both as categories): size"
        ),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_profile_with_overflowing_moments_is_written_and_read_back() {
    // 1e308-sized values overflow the mean and m2; the profile must still load for drift.
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "huge.csv", "x\n1e308\n-1e308\n1.7e308\n1e308\n");
    let profile = dir.path().join("huge.json");
    let o = normshift(&[
        "fit",
        data.to_str().unwrap(),
        "-o",
        profile.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = normshift(&[
        "drift",
        profile.to_str().unwrap(),
        data.to_str().unwrap(),
        "--json",
    ]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["features_compared"], 1);
}

/// SIGINT during a run: exit 130, no output, no temporary file left behind. The data comes
/// through a named pipe that the test keeps open, so `fit` is certainly still running (blocked
/// on its input, after creating its temporary output) when the signal arrives: no timing.
#[cfg(target_os = "linux")]
#[test]
fn an_interrupted_fit_leaves_no_output_and_exits_130() {
    interrupt_fit("INT");
}

#[test]
fn a_terminated_fit_leaves_no_output_either() {
    // A scheduler stopping a job sends SIGTERM; before, it left the .partial file behind.
    interrupt_fit("TERM");
}

fn interrupt_fit(signal: &str) {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("stream.csv");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    // Read-write, so opening never blocks (Linux); normshift then finds a writer at once.
    let mut pipe = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&fifo)
        .unwrap();
    let out = dir.path().join("profile.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_normshift"))
        .args(["fit", fifo.to_str().unwrap(), "-o", out.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Fewer rows than the 1,000 used to infer column kinds: fit waits for more.
    pipe.write_all(b"x,y\n1,a\n2,b\n").unwrap();
    pipe.flush().unwrap();
    let partial = |names: &[String]| names.iter().any(|n| n.ends_with(".partial"));
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !partial(&files_in(dir.path())) {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("fit ended before the interrupt: {status}");
        }
        assert!(
            std::time::Instant::now() < give_up,
            "no temporary output appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // The shell's own `kill`, so the test needs no procps.
    let killed = Command::new("sh")
        .args([
            "-c",
            &format!("kill -{signal} \"$1\""),
            "sh",
            &child.id().to_string(),
        ])
        .status()
        .unwrap();
    assert!(killed.success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert!(
        stderr(&o).starts_with("interrupted: removed 1 unfinished output file"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        files_in(dir.path()),
        ["stream.csv"],
        "no output, no leftovers"
    );
    drop(pipe);
}

#[test]
fn a_header_only_file_fits_to_an_empty_profile_but_cannot_be_compared() {
    let dir = tempfile::tempdir().unwrap();
    let header = write(dir.path(), "h.csv", "a,b\n");
    let profile = dir.path().join("h.json");
    let o = normshift(&[
        "fit",
        header.to_str().unwrap(),
        "-o",
        profile.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["rows"], 0);
    let o = normshift(&["drift", profile.to_str().unwrap(), header.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("h.json: no data rows to compare"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_quote_never_closed_is_an_error_at_its_line_not_a_shorter_file() {
    // Before, the csv reader ended the field at the end of the file: 51 rows, exit 0.
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("a,b\n");
    for i in 1..=99 {
        if i == 51 {
            text.push_str("51,\"52\n");
        } else {
            text.push_str(&format!("{i},{}\n", i + 1));
        }
    }
    let data = write(dir.path(), "quote.csv", &text);
    let out = dir.path().join("out.json");
    for args in [
        vec!["fit", data.to_str().unwrap(), "-o", out.to_str().unwrap()],
        vec!["drift", data.to_str().unwrap(), data.to_str().unwrap()],
        vec![
            "normalize",
            data.to_str().unwrap(),
            "--adapt",
            "-o",
            out.to_str().unwrap(),
        ],
    ] {
        let o = normshift(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stdout(&o));
        assert!(
            stderr(&o).contains(
                "quote.csv: line 52, column 'b': field 2 opens a quote that is never closed"
            ),
            "{args:?}: {}",
            stderr(&o)
        );
    }
    assert!(!out.exists());
    // Quoted fields that close, line breaks inside them included, still read.
    let good = write(dir.path(), "good.csv", "a,b\n1,\"2\"\n3,\"4\n\"\n5,6");
    let o = normshift(&[
        "fit",
        good.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--categorical",
        "b",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn sketch_k_below_8_is_refused() {
    let o = normshift(&["fit", "x.csv", "-o", "x.json", "--sketch-k", "3"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--sketch-k"), "{}", stderr(&o));
    let o = normshift(&["drift", "a.json", "b.csv", "--sketch-k", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--sketch-k"), "{}", stderr(&o));
}

#[test]
fn normalize_refuses_what_it_cannot_normalize() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    // A column numeric in the profile but words in the data.
    let numbers = write(dir.path(), "numbers.csv", "a,b\n1,2\n2,4\n3,6\n");
    let words = write(dir.path(), "words.csv", "a,b\n1,2\n2,x\n3,6\n");
    let profile = dir.path().join("p.json");
    let o = normshift(&[
        "fit",
        numbers.to_str().unwrap(),
        "-o",
        profile.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = normshift(&[
        "normalize",
        words.to_str().unwrap(),
        "--profile",
        profile.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("words.csv: column 'b' is numeric in the profile"),
        "{}",
        stderr(&o)
    );
    // Values whose mean and variance overflow f64.
    let huge = write(dir.path(), "huge.csv", "a\n1e308\n-1e308\n1.5e308\n1\n");
    let o = normshift(&[
        "normalize",
        huge.to_str().unwrap(),
        "--adapt",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stderr(&o).contains("column 'a' has mean"), "{}", stderr(&o));
    // A hand-edited profile with a negative m2.
    let text = std::fs::read_to_string(&profile).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["columns"][0]["moments"]["m2"] = serde_json::json!(-3.0);
    let edited = write(dir.path(), "edited.json", &v.to_string());
    let o = normshift(&[
        "normalize",
        numbers.to_str().unwrap(),
        "--profile",
        edited.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot be negative"), "{}", stderr(&o));
    assert!(!out.exists());
    // --adapt and --profile together: one set of statistics or the other, not a silent pick.
    let o = normshift(&[
        "normalize",
        numbers.to_str().unwrap(),
        "--adapt",
        "--profile",
        profile.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot be used with"), "{}", stderr(&o));
}

/// A panic of arrow-ipc on a damaged file was reported as "internal error in normshift ...
/// this is a bug, not a problem with your data": it is the data's problem, and says so.
#[test]
fn a_file_that_panics_the_arrow_decoder_is_reported_as_damaged() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../normshift-io/tests/data/damaged-buffer-offset.arrow"
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.json");
    let o = normshift(&["fit", path, "-o", s(&out)]);
    assert_eq!(o.status.code(), Some(2));
    let message = stderr(&o);
    assert!(
        message.contains("damaged file: the Arrow IPC decoder failed on it")
            && !message.contains("internal error"),
        "{message}"
    );
    assert!(files_in(dir.path()).is_empty());
}
