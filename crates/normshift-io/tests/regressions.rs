//! Regression tests for bugs found on 2026-11-30: dictionary columns of large or view
//! strings, CSV from pipes and FIFOs, line numbers after `\r\n`, `\r` and blank lines,
//! upper-case `.TSV`, and large integers and decimals read as categories.

use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, Decimal128Array, DictionaryArray, Float64Array, Int32Array, Int64Array,
    LargeStringArray, RecordBatch, StringViewArray, UInt64Array,
};
mod common;

use common::{labels, Labels};
use normshift_io::{open, ColumnChunk, ColumnKind, CsvStyle, ReadOptions};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};
use std::time::Duration;

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn err(path: &Path, options: &ReadOptions) -> String {
    labels(path, options).unwrap_err().to_string()
}

fn some(values: &[&str]) -> Vec<Option<String>> {
    values.iter().map(|v| Some(v.to_string())).collect()
}

fn write_parquet(path: &Path, batch: &RecordBatch) {
    let file = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
}

fn write_ipc(path: &Path, batch: &RecordBatch) {
    let file = std::fs::File::create(path).unwrap();
    let mut w = arrow_ipc::writer::FileWriter::try_new(file, &batch.schema()).unwrap();
    w.write(batch).unwrap();
    w.finish().unwrap();
}

#[test]
fn dictionary_columns_of_large_and_view_strings_read_as_categories() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Int32Array::from(vec![Some(0), Some(1), None, Some(0)]);
    let large: ArrayRef = Arc::new(DictionaryArray::<Int32Type>::new(
        keys.clone(),
        Arc::new(LargeStringArray::from(vec!["a", "b"])),
    ));
    let view: ArrayRef = Arc::new(DictionaryArray::<Int32Type>::new(
        keys,
        Arc::new(StringViewArray::from(vec!["u", "v"])),
    ));
    let x: ArrayRef = Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0, 4.0]));
    let expected_large = vec![Some("a".into()), Some("b".into()), None, Some("a".into())];
    let expected_view = vec![Some("u".into()), Some("v".into()), None, Some("u".into())];

    let batch = RecordBatch::try_from_iter([("c", large.clone()), ("x", x.clone())]).unwrap();
    let parquet = dir.path().join("large.parquet");
    write_parquet(&parquet, &batch);
    let arrow = dir.path().join("large.arrow");
    write_ipc(&arrow, &batch);
    for path in [&parquet, &arrow] {
        let reader = open(path, &ReadOptions::default()).unwrap();
        assert_eq!(
            reader.columns()[0].kind,
            ColumnKind::Categorical,
            "{path:?}"
        );
        let columns = labels(path, &ReadOptions::default()).unwrap();
        assert_eq!(columns[0], expected_large, "{path:?}");
        assert_eq!(columns[1], some(&["#1", "#2", "#3", "#4"]), "{path:?}");
    }

    let batch = RecordBatch::try_from_iter([("c", view), ("x", x)]).unwrap();
    let arrow = dir.path().join("view.arrow");
    write_ipc(&arrow, &batch);
    let reader = open(&arrow, &ReadOptions::default()).unwrap();
    assert_eq!(reader.columns()[0].kind, ColumnKind::Categorical);
    assert_eq!(
        labels(&arrow, &ReadOptions::default()).unwrap()[0],
        expected_view
    );
}

/// Runs `f` on another thread and fails the test if it has not finished in 30 s (reading a
/// FIFO a second time blocks for ever).
fn within_30s<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("reading the pipe did not finish within 30 s")
}

/// Reads a CSV from a pipe-like path once, with its style.
fn read_piped(path: PathBuf) -> Result<(Labels, Option<CsvStyle>), String> {
    let options = ReadOptions {
        format: Some(normshift_io::Format::Csv),
        ..ReadOptions::default()
    };
    let reader = open(&path, &options).map_err(|e| e.to_string())?;
    // The style comes from the bytes already read (a pipe cannot be read again).
    let style = reader.csv_style();
    let mut columns: Labels = vec![Vec::new(); reader.columns().len()];
    for batch in reader {
        let batch = batch.map_err(|e| e.to_string())?;
        for (acc, chunk) in columns.iter_mut().zip(batch.columns) {
            match chunk {
                ColumnChunk::Categorical(v) => acc.extend(v),
                ColumnChunk::Numeric { values, .. } => {
                    acc.extend(values.iter().map(|v| Some(format!("#{v}"))))
                }
            }
        }
    }
    Ok((columns, style))
}

#[test]
fn csv_from_a_fifo_is_read_once_and_never_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let text: &[u8] = b"\xEF\xBB\xBFa,b\r\n1,x\r\n2,\"y\r\nz\"\r\n";
    let expected = vec![some(&["#1", "#2"]), some(&["x", "y\r\nz"])];
    let style = CsvStyle {
        delimiter: b',',
        crlf: true,
        bom: true,
    };

    // A named FIFO: opening it a second time would wait for ever for a writer.
    let fifo = dir.path().join("data.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("run mkfifo");
    assert!(made.success());
    let writer_path = fifo.clone();
    let writer = std::thread::spawn(move || std::fs::write(writer_path, text).unwrap());
    let read = within_30s(move || read_piped(fifo));
    writer.join().unwrap();
    assert_eq!(read, Ok((expected, Some(style))));
}

#[test]
fn csv_from_an_anonymous_pipe_is_read_once_and_never_reopened() {
    let text: &[u8] = b"\xEF\xBB\xBFa,b\r\n1,x\r\n2,\"y\r\nz\"\r\n";
    let expected = vec![some(&["#1", "#2"]), some(&["x", "y\r\nz"])];
    let style = CsvStyle {
        delimiter: b',',
        crlf: true,
        bom: true,
    };
    // An anonymous pipe, as `<(cat file)` or `/dev/stdin` gives one: it cannot seek.
    let (pipe_reader, mut pipe_writer) = std::io::pipe().unwrap();
    let path = PathBuf::from(format!(
        "/proc/self/fd/{}",
        std::os::fd::AsRawFd::as_raw_fd(&pipe_reader)
    ));
    let writer = std::thread::spawn(move || {
        std::io::Write::write_all(&mut pipe_writer, text).unwrap();
    });
    let read = within_30s(move || read_piped(path));
    writer.join().unwrap();
    drop(pipe_reader);
    assert_eq!(read, Ok((expected, Some(style))));

    // A quote left open is still found at the end of a pipe.
    let (pipe_reader, mut pipe_writer) = std::io::pipe().unwrap();
    let path = PathBuf::from(format!(
        "/proc/self/fd/{}",
        std::os::fd::AsRawFd::as_raw_fd(&pipe_reader)
    ));
    let writer = std::thread::spawn(move || {
        std::io::Write::write_all(&mut pipe_writer, b"a,b\n1,x\n\n2,\"y\n3,z\n").unwrap();
    });
    let message = within_30s(move || read_piped(path)).unwrap_err();
    writer.join().unwrap();
    drop(pipe_reader);
    assert!(
        message.ends_with(
            ": line 4, column 'b': field 2 opens a quote that is never closed: everything \
             after it, to the end of the file, would be read as this one field"
        ),
        "{message}"
    );
}

#[test]
fn csv_errors_name_the_physical_line_after_crlf_cr_and_blank_lines() {
    let dir = tempfile::tempdir().unwrap();
    let opts = ReadOptions {
        infer_rows: 1,
        ..ReadOptions::default()
    };
    let ragged = |name: &str, bytes: &[u8], line: u64| {
        let p = write(&dir, name, bytes);
        let e = err(&p, &opts);
        let want = format!("{name}: line {line}: this row has 3 fields but the header has 2");
        assert!(e.ends_with(&want), "{e}\nwanted: {want}");
    };
    ragged("crlf.csv", b"a,b\r\n1,x\r\n2,y,extra\r\n", 3);
    ragged("blank.csv", b"a,b\n1,x\n\n\n2,y,extra\n", 5);
    ragged("cr.csv", b"a,b\r1,x\r2,y,z\r", 3);
    ragged("blank-crlf.csv", b"a,b\r\n\r\n1,x\r\n\r\n\r\n2,y,z\r\n", 6);
    ragged("mixed.csv", b"a,b\n1,x\r\r\n2,\"q\r\nq\"\r3,y,z\n", 6);
    // Blank lines before the header.
    ragged("lead.csv", b"\n\r\na,b\n1,x,y\n", 4);

    let p = write(&dir, "utf8.csv", b"a,b\r\n1,ok\r\n\r\n2,\xff\xfe\r\n");
    let e = err(&p, &opts);
    assert!(
        e.ends_with("utf8.csv: line 4, column 'b': field 2 is not valid UTF-8"),
        "{e}"
    );

    let p = write(
        &dir,
        "word.csv",
        b"n,s\r\n1,\"two\r\nlines\"\r\n\r\n2,y\r\nthree,z\r\n",
    );
    let e = err(&p, &opts);
    assert!(
        e.ends_with("word.csv: line 6, column 'n': 'three' is not a number, but the column looked numeric in its first rows; read it as categories with --categorical 'n'"),
        "{e}"
    );

    let p = write(&dir, "open.csv", b"a,b\r\n1,2\r\n\r\n3,\"4\r\n5,6\r\n");
    let e = err(&p, &opts);
    assert!(
        e.contains("open.csv: line 4, column 'b': field 2 opens a quote that is never closed"),
        "{e}"
    );

    // A row that runs past the limit after blank lines: the line it starts on.
    let mut text = String::from("a,b\r\n1,2\r\n\r\n\r\n3,\"4\r\n");
    while text.len() < 1 << 20 {
        text.push_str("5,6\r\n");
    }
    let p = write(&dir, "long.csv", text.as_bytes());
    let e = err(
        &p,
        &ReadOptions {
            max_row_bytes: 16 << 10,
            ..opts.clone()
        },
    );
    assert!(
        e.contains("long.csv: line 5: this row runs on for more than 16384 bytes"),
        "{e}"
    );

    // Many records over several 1 MiB reads: the line of a late error is still exact.
    let mut text = String::from("a,b\r\n");
    for i in 0..200_000 {
        text.push_str(&format!("{i},x\r\n"));
        if i % 1000 == 0 {
            text.push_str("\n\r");
        }
    }
    text.push_str("1,2,3\r\n");
    let lines = 1 + 200_000 + 2 * 200 + 1;
    let p = write(&dir, "late.csv", text.as_bytes());
    let e = err(&p, &opts);
    assert!(
        e.ends_with(&format!(
            "late.csv: line {lines}: this row has 3 fields but the header has 2"
        )),
        "{e}"
    );
}

#[test]
fn upper_case_tsv_extension_reads_tabs() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "UP.TSV", b"a\tb\n1\tx\n2\ty\n");
    let reader = open(&p, &ReadOptions::default()).unwrap();
    let names: Vec<&str> = reader.columns().iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(reader.csv_style().unwrap().delimiter, b'\t');
    assert_eq!(
        labels(&p, &ReadOptions::default()).unwrap(),
        vec![some(&["#1", "#2"]), some(&["x", "y"])]
    );
}

#[test]
fn large_integers_and_decimals_read_as_categories_keep_their_exact_text() {
    let dir = tempfile::tempdir().unwrap();
    let big = 1i64 << 53;
    let i: ArrayRef = Arc::new(Int64Array::from(vec![
        Some(big),
        Some(big + 1),
        Some(big + 2),
        Some(big + 3),
        None,
        Some(i64::MIN),
    ]));
    let u: ArrayRef = Arc::new(UInt64Array::from(vec![
        Some(u64::MAX),
        Some(u64::MAX - 1),
        Some(0),
        Some(1 << 60),
        Some(7),
        None,
    ]));
    let d: ArrayRef = Arc::new(
        Decimal128Array::from(vec![
            Some(12345),
            Some(-5),
            Some(0),
            Some(10i128.pow(37) + 1),
            None,
            Some(-10i128.pow(36) - 7),
        ])
        .with_precision_and_scale(38, 2)
        .unwrap(),
    );
    let e: ArrayRef = Arc::new(
        Decimal128Array::from(vec![Some(7), Some(-3), Some(0), None, Some(1), Some(12)])
            .with_precision_and_scale(10, -2)
            .unwrap(),
    );
    let batch = RecordBatch::try_from_iter([("i", i), ("u", u), ("d", d)]).unwrap();
    let parquet = dir.path().join("ids.parquet");
    write_parquet(&parquet, &batch);
    let options = ReadOptions {
        categorical: vec!["i".into(), "u".into(), "d".into()],
        ..ReadOptions::default()
    };
    let columns = labels(&parquet, &options).unwrap();
    assert_eq!(
        columns[0],
        vec![
            Some("9007199254740992".into()),
            Some("9007199254740993".into()),
            Some("9007199254740994".into()),
            Some("9007199254740995".into()),
            None,
            Some("-9223372036854775808".into()),
        ]
    );
    assert_eq!(
        columns[1],
        vec![
            Some("18446744073709551615".into()),
            Some("18446744073709551614".into()),
            Some("0".into()),
            Some("1152921504606846976".into()),
            Some("7".into()),
            None,
        ]
    );
    assert_eq!(
        columns[2],
        vec![
            Some("123.45".into()),
            Some("-0.05".into()),
            Some("0.00".into()),
            Some("100000000000000000000000000000000000.01".into()),
            None,
            Some("-10000000000000000000000000000000000.07".into()),
        ]
    );

    // A negative scale (Arrow allows it; Parquet does not): trailing zeros.
    let batch = RecordBatch::try_from_iter([("e", e)]).unwrap();
    let arrow = dir.path().join("scaled.arrow");
    write_ipc(&arrow, &batch);
    let options = ReadOptions {
        categorical: vec!["e".into()],
        ..ReadOptions::default()
    };
    assert_eq!(
        labels(&arrow, &options).unwrap()[0],
        vec![
            Some("700".into()),
            Some("-300".into()),
            Some("0".into()),
            None,
            Some("100".into()),
            Some("1200".into()),
        ]
    );
}

/// A column that is null in every row (Arrow's `Null` type, as pyarrow writes `pa.nulls(n)`
/// or an all-None pandas column) was left out as an unsupported type, so `drift` reported it
/// as a column that vanished. It is numeric and entirely missing now.
#[test]
fn an_all_null_column_is_read_as_missing_values_not_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let n = 200;
    let x: ArrayRef = Arc::new(Float64Array::from(
        (0..n).map(f64::from).collect::<Vec<_>>(),
    ));
    let filled: ArrayRef = Arc::new(Float64Array::from(vec![1.5; n as usize]));
    let nulls: ArrayRef = Arc::new(arrow_array::NullArray::new(n as usize));
    let reference = dir.path().join("reference.parquet");
    let current = dir.path().join("current.parquet");
    write_parquet(
        &reference,
        &RecordBatch::try_from_iter([("x", x.clone()), ("v", filled)]).unwrap(),
    );
    write_parquet(
        &current,
        &RecordBatch::try_from_iter_with_nullable([("x", x, false), ("v", nulls, true)]).unwrap(),
    );
    let mut reader = open(&current, &ReadOptions::default()).unwrap();
    assert!(reader.skipped().is_empty(), "{:?}", reader.skipped());
    assert_eq!(reader.columns()[1].kind, ColumnKind::Numeric);
    let batch = reader.next().unwrap().unwrap();
    let ColumnChunk::Numeric { valid, .. } = &batch.columns[1] else {
        panic!("numeric")
    };
    assert_eq!(valid.as_deref(), Some(&vec![false; n as usize][..]));
    // Read as categories, it is missing too.
    let as_categories = ReadOptions {
        categorical: vec!["v".into()],
        ..ReadOptions::default()
    };
    assert_eq!(
        labels(&current, &as_categories).unwrap()[1],
        vec![None; n as usize]
    );

    // Drift names the missing rate, not a vanished column.
    let side = |path: &Path| {
        let mut r = open(path, &ReadOptions::default()).unwrap();
        normshift_io::read_side(&mut r, true, 200, &mut |_| {}).unwrap()
    };
    let report = normshift::drift::compare(
        &side(&reference),
        &side(&current),
        &normshift::drift::DriftOptions::default(),
    );
    assert!(
        report.schema.only_in_reference.is_empty(),
        "{:?}",
        report.schema
    );
    let v = report
        .features
        .iter()
        .find(|f| f.name == "v")
        .expect("v compared");
    assert!(v.drift, "{:?}", v.reasons);
    assert!(
        v.reasons.iter().any(|r| r.contains("missing")),
        "{:?}",
        v.reasons
    );
}

/// The error reading `tests/data/NAME` gives, when it is opened or as its batches are read.
fn damaged_file_error(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    match open(&path, &ReadOptions::default()) {
        Err(e) => e.to_string(),
        Ok(_) => err(&path, &ReadOptions::default()),
    }
}

/// Damaged Arrow files found by the `columnar` fuzz target, and what reading them says:
/// - arrow-ipc panics on some (a buffer offset of 32 MiB in a 1.3 KB file): an error naming
///   the file and the record batch, not "internal error";
/// - an LZ4 dictionary buffer declaring 2^56 bytes once decompressed, which arrow-ipc
///   allocated infallibly before reading (the process aborted): sizes are checked against
///   this machine's memory first;
/// - a footer giving a record batch a 4 GB body in a 2 KB file, which arrow-ipc allocated
///   and zero-filled before finding the file too short (12 s, 4 GB): bodies are checked
///   against the file's length first, also where the message header cannot be read
///   (arrow-ipc reads the body where the footer puts it: 1.9 GB for a 1.7 KB file).
#[test]
fn damaged_arrow_files_are_errors_before_anything_large_is_allocated() {
    for (name, expected) in [
        (
            "damaged-buffer-offset.arrow",
            "damaged-buffer-offset.arrow: record batch 1: damaged file: the Arrow IPC decoder \
             failed on it",
        ),
        (
            "damaged-lz4-size.arrow",
            "damaged-lz4-size.arrow: dictionary batch 0: a compressed buffer declares \
             72057594037927936 bytes once decompressed, more than this machine's memory",
        ),
        (
            "damaged-body-length.arrow",
            "damaged-body-length.arrow: record batch 0: its body of 4177526976 bytes at byte \
             944 runs past the end of the file (2098 bytes)",
        ),
        (
            "damaged-body-length-2.arrow",
            "record batch 0: its body of 1937010277 bytes at byte 944 runs past",
        ),
    ] {
        let message = damaged_file_error(name);
        assert!(message.contains(expected), "{message}");
    }
    assert!(!normshift_io::decoding_foreign_data());
}
