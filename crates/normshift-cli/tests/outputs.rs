//! Where results go: stdout closed early by the reader, outputs under a umask, outputs that are
//! symbolic links, and destinations or inputs that are wrong before any reading starts.

mod common;

use common::*;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Runs normshift with stdout on a pipe whose reading end is already closed, as in
/// `normshift … | head -c 0`: every write to stdout fails with EPIPE (Rust ignores SIGPIPE).
fn with_closed_stdout(args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    Command::new(env!("CARGO_BIN_EXE_normshift"))
        .args(args)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("run normshift")
}

/// A CSV of `rows` numbers `offset + i` in column `x`.
fn numbers(dir: &Path, name: &str, rows: usize, offset: usize) -> PathBuf {
    let mut text = String::from("x\n");
    for i in 0..rows {
        text.push_str(&format!("{}\n", offset + i));
    }
    write(dir, name, &text)
}

/// A CSV that reads fine for 1,500 rows (so opening it and inferring its kinds succeeds) and
/// fails on line 1502: an error naming that line shows the file was read to its end.
fn bad_at_the_end(dir: &Path) -> PathBuf {
    let mut text = String::from("x\n");
    for i in 0..1500 {
        text.push_str(&format!("{i}\n"));
    }
    text.push_str("three\n");
    write(dir, "late-error.csv", &text)
}

#[test]
fn a_closed_stdout_is_not_an_error_and_keeps_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let reference = numbers(d, "r.csv", 200, 0);
    let same = numbers(d, "same.csv", 200, 0);
    let shifted = numbers(d, "shifted.csv", 200, 1000);
    let many: Vec<String> = (1..=100_000).map(|i| i.to_string()).collect();
    let mut explain = vec!["explain", "--json"];
    explain.extend(many.iter().map(String::as_str));
    let profile = d.join("p.json");
    for (args, code) in [
        // `drift` knows its verdict before printing: a closed pipe must not change it.
        (vec!["drift", s(&reference), s(&shifted), "--json"], 1),
        (vec!["drift", s(&reference), s(&shifted)], 1),
        (vec!["drift", s(&reference), s(&same), "--json"], 0),
        (explain, 0),
        (vec!["explain", "1", "2", "3"], 0),
        (vec!["fit", s(&reference), "-o", s(&profile)], 0),
    ] {
        let o = with_closed_stdout(&args);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(code), "{:?}: {e}", &args[..2]);
        assert!(e.is_empty(), "{:?}: {e}", &args[..2]);
    }
    // The file output is written whatever happens to stdout.
    assert!(std::fs::read_to_string(&profile)
        .unwrap()
        .contains("\"normshift_profile\""));
}

#[test]
fn a_closed_stderr_changes_nothing_but_what_is_seen() {
    // `normshift … 2>&1 | head -0` style: every write to stderr fails with EPIPE. Before,
    // the first message (an error, a progress note) panicked inside the panic hook and the
    // process aborted (SIGABRT, no exit code); now the exit code is the command's own.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let reference = numbers(d, "r.csv", 200, 0);
    let shifted = numbers(d, "shifted.csv", 200, 1000);
    let missing = d.join("missing.csv");
    let profile = d.join("p.json");
    for (args, code) in [
        // An error message is the first thing written, to stderr.
        (vec!["drift", s(&reference), s(&missing)], 2),
        // A progress note on stderr, then the verdict on stdout.
        (vec!["drift", s(&reference), s(&shifted)], 1),
        (vec!["fit", s(&reference), "-o", s(&profile)], 0),
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let o = Command::new(env!("CARGO_BIN_EXE_normshift"))
            .args(&args)
            .stderr(writer)
            .stdout(Stdio::piped())
            .output()
            .expect("run normshift");
        assert_eq!(o.status.code(), Some(code), "{:?}: {o:?}", &args[..2]);
    }
    assert!(std::fs::read_to_string(&profile)
        .unwrap()
        .contains("\"normshift_profile\""));
}

#[test]
fn a_stdout_that_cannot_be_written_is_an_error_not_an_internal_error() {
    let full = Path::new("/dev/full");
    if !full.exists() {
        return; // Linux only
    }
    let o = Command::new(env!("CARGO_BIN_EXE_normshift"))
        .args(["explain", "1", "2", "3"])
        .stdout(std::fs::File::create(full).unwrap())
        .output()
        .unwrap();
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(
        e.starts_with("error: cannot write the result to stdout"),
        "{e}"
    );
    assert!(!e.contains("internal error"), "{e}");
}

/// Runs normshift under `umask`, through the shell's `umask` builtin.
#[cfg(unix)]
fn with_umask(umask: &str, args: &[&str]) {
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!("umask {umask} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_normshift"))
        .args(args)
        .output()
        .expect("run sh");
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{args:?}: {}",
        stderr(&o)
    );
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

#[cfg(unix)]
#[test]
fn new_outputs_follow_the_umask_and_replaced_outputs_keep_their_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = numbers(d, "d.csv", 50, 0);
    let other = numbers(d, "e.csv", 50, 10);
    for (umask, expected) in [("077", 0o600), ("002", 0o664), ("022", 0o644)] {
        let out = d.join(umask);
        std::fs::create_dir(&out).unwrap();
        let (p, q, m, n, h) = (
            out.join("p.json"),
            out.join("q.json"),
            out.join("m.json"),
            out.join("n.csv"),
            out.join("r.html"),
        );
        with_umask(umask, &["fit", s(&data), "-o", s(&p)]);
        with_umask(umask, &["fit", s(&other), "-o", s(&q)]);
        with_umask(umask, &["merge", s(&p), s(&q), "-o", s(&m)]);
        with_umask(
            umask,
            &["normalize", s(&data), "--profile", s(&p), "-o", s(&n)],
        );
        with_umask(umask, &["drift", s(&data), s(&other), "--html", s(&h)]);
        for f in [&p, &q, &m, &n, &h] {
            assert_eq!(mode(f), expected, "umask {umask}: {}", f.display());
        }
        assert_eq!(
            files_in(&out),
            ["m.json", "n.csv", "p.json", "q.json", "r.html"]
        );
    }
    // An output that replaces a file keeps that file's mode, whatever the umask.
    let kept = d.join("kept.json");
    for (umask, existing) in [("077", 0o644), ("022", 0o600), ("000", 0o640)] {
        std::fs::write(&kept, "old").unwrap();
        std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(existing)).unwrap();
        with_umask(umask, &["fit", s(&data), "-o", s(&kept)]);
        assert_eq!(mode(&kept), existing, "umask {umask}");
        assert_ne!(std::fs::read_to_string(&kept).unwrap(), "old");
    }
}

#[cfg(unix)]
#[test]
fn an_output_that_is_a_symbolic_link_is_written_through_the_link() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = numbers(d, "d.csv", 50, 0);
    let elsewhere = d.join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let real = write(&elsewhere, "real.json", "old");
    // A relative link into another directory, and a link to that link.
    let link = d.join("link.json");
    symlink("elsewhere/real.json", &link).unwrap();
    let chain = d.join("chain.json");
    symlink("link.json", &chain).unwrap();
    for via in [&link, &chain] {
        std::fs::write(&real, "old").unwrap();
        let o = normshift(&["fit", s(&data), "-o", s(via)]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(std::fs::symlink_metadata(via)
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(std::fs::read_to_string(&real)
            .unwrap()
            .contains("\"normshift_profile\""));
    }
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        Path::new("elsewhere/real.json")
    );
    assert_eq!(std::fs::read_link(&chain).unwrap(), Path::new("link.json"));
    // A dangling link: its target is created, as writing through it with `>` would.
    let dangling = d.join("dangling.html");
    symlink("elsewhere/report.html", &dangling).unwrap();
    let o = normshift(&["drift", s(&data), s(&data), "--html", s(&dangling)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(std::fs::read_to_string(elsewhere.join("report.html"))
        .unwrap()
        .contains("<html"));
    assert!(std::fs::symlink_metadata(&dangling)
        .unwrap()
        .file_type()
        .is_symlink());
    // No temporary file is left anywhere.
    assert_eq!(
        files_in(d),
        [
            "chain.json",
            "d.csv",
            "dangling.html",
            "elsewhere",
            "link.json"
        ]
    );
    assert_eq!(files_in(&elsewhere), ["real.json", "report.html"]);
}

#[test]
fn drift_opens_both_inputs_before_reading_either() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let late = bad_at_the_end(d);
    let missing = d.join("nosuch.csv");
    // Until the fix the reference was read to its end (and its error on line 1502 reported)
    // before the missing current file was even looked at.
    for args in [[s(&late), s(&missing)], [s(&missing), s(&late)]] {
        let o = normshift(&["drift", args[0], args[1]]);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{e}");
        assert!(
            e.starts_with(&format!("error: {}: ", missing.display())),
            "{e}"
        );
        assert!(!e.contains("1502"), "{e}");
    }
}

#[test]
fn drift_stops_reading_one_file_when_the_other_fails() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A million good rows, then a bad one: reading it to the end takes a while and fails.
    let mut text = String::from("x\n");
    for i in 0..1_000_000 {
        text.push_str(&format!("{}\n", i % 977));
    }
    text.push_str("seven\n");
    let long = write(d, "long.csv", &text);
    let late = bad_at_the_end(d);
    // The current file fails in its first batch: that error is reported, without reading
    // the reference to its end first (until the fix the reference was read in full and its
    // own error, on line 1000002, reported instead).
    let o = normshift(&["drift", s(&long), s(&late)]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(
        e.starts_with(&format!("error: {}: line 1502, column 'x'", late.display())),
        "{e}"
    );
    // The other way round: the reference's error, as before.
    let o = normshift(&["drift", s(&late), s(&long)]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(
        e.starts_with(&format!("error: {}: line 1502, column 'x'", late.display())),
        "{e}"
    );
}

#[test]
fn a_destination_that_is_a_directory_fails_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let late = bad_at_the_end(d);
    let good = numbers(d, "good.csv", 50, 0);
    let profile = d.join("p.json");
    let o = normshift(&["fit", s(&good), "-o", s(&profile)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let target = d.join("somedir");
    std::fs::create_dir(&target).unwrap();
    let link_to_dir = d.join("dirlink");
    #[cfg(unix)]
    std::os::unix::fs::symlink("somedir", &link_to_dir).unwrap();
    #[cfg(not(unix))]
    std::fs::create_dir(&link_to_dir).unwrap();
    for destination in [&target, &link_to_dir] {
        let t = s(destination);
        for args in [
            vec!["fit", s(&late), "-o", t],
            vec!["normalize", s(&late), "--adapt", "-o", t],
            vec!["normalize", s(&late), "--profile", s(&profile), "-o", t],
            vec!["drift", s(&good), s(&late), "--html", t],
            vec!["merge", s(&profile), s(&profile), "-o", t],
        ] {
            let o = normshift(&args);
            let e = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
            assert_eq!(
                e.trim_end(),
                format!("error: {t}: is a directory; name a file to write"),
                "{args:?}"
            );
        }
    }
    // Nor is a device replaced by a file (as root, renaming over /dev/null would succeed).
    let null = Path::new("/dev/null");
    if null.exists() {
        let o = normshift(&["fit", s(&late), "-o", "/dev/null"]);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{e}");
        assert!(
            e.starts_with("error: /dev/null: is not a regular file"),
            "{e}"
        );
        assert!(!std::fs::metadata(null).unwrap().is_file());
    }
    assert!(files_in(&target).is_empty());
    assert_eq!(
        files_in(d),
        ["dirlink", "good.csv", "late-error.csv", "p.json", "somedir"]
    );
}

/// The io review (fifth 2026-11-30 session) on `normalize`: a column all missing in the
/// profile (typed numeric for want of values) refused text in the data; `--adapt` on data
/// without a finite number blamed "the profile"; numeric columns the profile does not know
/// passed through without a word; a `.tsv` output of a `.csv` input was comma-separated.
#[test]
fn normalize_passes_empty_columns_names_unknown_ones_and_writes_tsv_with_tabs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let train = write(d, "tr.csv", "x,comment\n1,\n2,NA\n3,\n");
    let profile = d.join("tr.json");
    let o = normshift(&["fit", s(&train), "-o", s(&profile)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // Text where the profile has nothing: passed through.
    let deploy = write(
        d,
        "de.csv",
        "x,comment,Price\n1.5,late delivery,3\n2.5,,4\n",
    );
    let out = d.join("out.csv");
    let o = normshift(&[
        "normalize",
        s(&deploy),
        "--profile",
        s(&profile),
        "-o",
        s(&out),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.contains(",late delivery,3\n"), "{written}");
    assert!(
        stderr(&o).contains(&format!(
            "note: {}: numeric column(s) not in the profile, passed through unchanged: Price",
            s(&deploy)
        )),
        "{}",
        stderr(&o)
    );
    // --quiet drops the note.
    let o = normshift(&[
        "normalize",
        s(&deploy),
        "--profile",
        s(&profile),
        "-o",
        s(&out),
        "-q",
    ]);
    assert_eq!((o.status.code(), stderr(&o)), (Some(0), String::new()));

    // --adapt without a finite number: the data is named, not a profile.
    let empty = write(d, "empty.csv", "x,s\nNA,a\n,b\n");
    let o = normshift(&["normalize", s(&empty), "--adapt", "-o", s(&d.join("e.csv"))]);
    assert_eq!(o.status.code(), Some(2));
    let message = stderr(&o);
    assert!(
        message.contains("empty.csv: no numeric column has a finite value, so there are no statistics of its own to normalize with")
            && !message.contains("profile"),
        "{message}"
    );

    // A .tsv output is tab-separated and reads back as two numeric columns; a .csv output of
    // a .tsv input is comma-separated.
    let numbers = write(d, "n.csv", "a,b\n1,2\n3,5\n");
    let tsv = d.join("n.out.tsv");
    let o = normshift(&["normalize", s(&numbers), "--adapt", "-o", s(&tsv)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(std::fs::read_to_string(&tsv).unwrap().starts_with("a\tb\n"));
    let back = d.join("back.csv");
    let o = normshift(&["normalize", s(&tsv), "--adapt", "-o", s(&back)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(std::fs::read_to_string(&back).unwrap().starts_with("a,b\n"));
    let semi = write(d, "semi.csv", "a;b\n1;2\n3;5\n");
    let kept = d.join("semi.out.csv");
    let o = normshift(&[
        "normalize",
        s(&semi),
        "--adapt",
        "-o",
        s(&kept),
        "--delimiter",
        ";",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(std::fs::read_to_string(&kept).unwrap().starts_with("a;b\n"));
}

/// A hard link to an input was accepted as the output: the rename left the input intact
/// but cut the link the user named (io review).
#[cfg(unix)]
#[test]
fn an_output_that_is_a_hard_link_to_an_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = numbers(d, "d.csv", 50, 0);
    let profile = d.join("p.json");
    assert_eq!(
        normshift(&["fit", s(&data), "-o", s(&profile)])
            .status
            .code(),
        Some(0)
    );
    let linked = d.join("linked.csv");
    std::fs::hard_link(&data, &linked).unwrap();
    let profile_link = d.join("linked.json");
    std::fs::hard_link(&profile, &profile_link).unwrap();
    for out in [&linked, &profile_link] {
        let o = normshift(&[
            "normalize",
            s(&data),
            "--profile",
            s(&profile),
            "-o",
            s(out),
        ]);
        assert_eq!(o.status.code(), Some(2), "{}", s(out));
        assert!(stderr(&o).contains("it is also an input"), "{}", stderr(&o));
    }
    use std::os::unix::fs::MetadataExt;
    assert_eq!(std::fs::metadata(&data).unwrap().nlink(), 2);
    assert_eq!(
        files_in(d),
        ["d.csv", "linked.csv", "linked.json", "p.json"]
    );
}
