//! Readers on good, odd and hostile files.

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use normshift_io::{open, ColumnChunk, ColumnKind, Error, ReadOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn read_all(path: &Path, options: &ReadOptions) -> Result<Vec<ColumnChunk>, Error> {
    let reader = open(path, options)?;
    let mut columns: Vec<ColumnChunk> = Vec::new();
    for batch in reader {
        let batch = batch?;
        if columns.is_empty() {
            columns = batch.columns;
            continue;
        }
        for (acc, chunk) in columns.iter_mut().zip(batch.columns) {
            match (acc, chunk) {
                (
                    ColumnChunk::Numeric { values, valid },
                    ColumnChunk::Numeric {
                        values: v,
                        valid: m,
                    },
                ) => {
                    let n = values.len();
                    let old = valid.take().unwrap_or_else(|| vec![true; n]);
                    let new = m.unwrap_or_else(|| vec![true; v.len()]);
                    values.extend(v);
                    let all: Vec<bool> = old.into_iter().chain(new).collect();
                    *valid = if all.iter().all(|&b| b) {
                        None
                    } else {
                        Some(all)
                    };
                }
                (ColumnChunk::Categorical(a), ColumnChunk::Categorical(b)) => a.extend(b),
                _ => panic!("kinds changed between batches"),
            }
        }
    }
    Ok(columns)
}

fn err(path: &Path, options: &ReadOptions) -> String {
    read_all(path, options).unwrap_err().to_string()
}

#[test]
fn csv_kinds_missing_and_special_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        &dir,
        "a.csv",
        b"x,y,z\n1,a,1e400\n,b,NaN\n-0,NA,-inf\n2.5,c,\n",
    );
    let reader = open(&p, &ReadOptions::default()).unwrap();
    let kinds: Vec<ColumnKind> = reader.columns().iter().map(|c| c.kind).collect();
    assert_eq!(
        kinds,
        [
            ColumnKind::Numeric,
            ColumnKind::Categorical,
            ColumnKind::Numeric
        ]
    );
    let cols = read_all(
        &p,
        &ReadOptions {
            batch_rows: 3,
            ..ReadOptions::default()
        },
    )
    .unwrap();
    let ColumnChunk::Numeric { values, valid } = &cols[0] else {
        panic!()
    };
    assert_eq!(valid.as_deref(), Some(&[true, false, true, true][..]));
    assert_eq!((values[0], values[3]), (1.0, 2.5));
    assert!(values[2] == 0.0 && values[2].is_sign_negative());
    assert_eq!(
        cols[1],
        ColumnChunk::Categorical(vec![
            Some("a".into()),
            Some("b".into()),
            None,
            Some("c".into())
        ])
    );
    let ColumnChunk::Numeric { values, valid } = &cols[2] else {
        panic!()
    };
    assert_eq!(values[0], f64::INFINITY);
    assert!(values[1].is_nan());
    assert_eq!(values[2], f64::NEG_INFINITY);
    assert_eq!(valid.as_deref(), Some(&[true, true, true, false][..]));
}

#[test]
fn csv_errors_name_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let opts = ReadOptions {
        infer_rows: 2,
        ..ReadOptions::default()
    };
    // A quoted newline makes the record after it start one line later than its row number.
    let p = write(
        &dir,
        "late.csv",
        b"n,s\n1,\"two\nlines\"\n2,x\n3,y\nthree,z\n",
    );
    let e = err(&p, &opts);
    assert!(e.ends_with("late.csv: line 6, column 'n': 'three' is not a number, but the column looked numeric in its first rows; read it as categories with --categorical 'n'"), "{e}");
    // Columns are parsed in parallel; with bad values in two columns the error is still the
    // one a serial pass reports: the first column in order, here on the later line.
    let p = write(
        &dir,
        "two-bad.csv",
        b"a,b,c\n1,2,3\n4,5,6\n7,8,9\n10,eight,11\nseven,12,13\n",
    );
    for _ in 0..20 {
        let e = err(&p, &opts);
        assert!(e.ends_with("two-bad.csv: line 6, column 'a': 'seven' is not a number, but the column looked numeric in its first rows; read it as categories with --categorical 'a'"), "{e}");
    }
    let p = write(&dir, "ragged.csv", b"a,b\n1,2\n3\n");
    assert!(
        err(&p, &opts).ends_with("ragged.csv: line 3: this row has 1 fields but the header has 2")
    );
    let p = write(&dir, "bad-utf8.csv", b"a,b\n1,ok\n2,\xff\xfe\n");
    assert!(
        err(&p, &opts).ends_with("bad-utf8.csv: line 3, column 'b': field 2 is not valid UTF-8")
    );
    let p = write(&dir, "empty.csv", b"");
    assert!(err(&p, &opts)
        .ends_with("empty.csv: the file is empty: expected a header row naming the columns"));
    let p = write(&dir, "dup.csv", b"a,b,a\n1,2,3\n");
    assert!(err(&p, &opts)
        .ends_with("dup.csv: column name 'a' appears more than once; names must be unique"));
    let p = write(&dir, "ok.csv", b"a,b\n1,2\n");
    let e = err(
        &p,
        &ReadOptions {
            columns: Some(vec!["c".into()]),
            ..ReadOptions::default()
        },
    );
    assert!(
        e.ends_with("ok.csv: no column named 'c' (columns: a, b)"),
        "{e}"
    );
    let e = err(&dir.path().join("missing.csv"), &opts);
    assert!(e.contains("missing.csv: No such file"), "{e}");
}

#[test]
fn csv_header_only_bom_and_selection() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "h.csv", b"a,b\n");
    assert!(read_all(&p, &ReadOptions::default()).unwrap().is_empty());
    let p = write(&dir, "bom.csv", "\u{feff}size,kind\n1,x\n".as_bytes());
    let reader = open(&p, &ReadOptions::default()).unwrap();
    assert_eq!(reader.columns()[0].name, "size");
    let opts = ReadOptions {
        exclude: vec!["kind".into()],
        categorical: vec![],
        ..ReadOptions::default()
    };
    assert_eq!(open(&p, &opts).unwrap().columns().len(), 1);
    let opts = ReadOptions {
        categorical: vec!["size".into()],
        ..ReadOptions::default()
    };
    assert_eq!(
        open(&p, &opts).unwrap().columns()[0].kind,
        ColumnKind::Categorical
    );
    let p = write(&dir, "t.tsv", b"a\tb\n1\t2\n");
    assert_eq!(
        open(&p, &ReadOptions::default()).unwrap().columns().len(),
        2
    );
}

fn sample_batch() -> RecordBatch {
    let x: ArrayRef = Arc::new(Float64Array::from(vec![
        Some(1.0),
        None,
        Some(f64::NAN),
        Some(4.0),
    ]));
    let n: ArrayRef = Arc::new(Int64Array::from(vec![10, 20, 30, 40]));
    let s: ArrayRef = Arc::new(StringArray::from(vec![
        Some("u"),
        Some("v"),
        None,
        Some("u"),
    ]));
    RecordBatch::try_from_iter([("x", x), ("n", n), ("s", s)]).unwrap()
}

/// Writes [`sample_batch`] twice into a Parquet file with `rows_per_group` rows per row group.
fn two_sample_batches(dir: &tempfile::TempDir, name: &str, rows_per_group: usize) -> PathBuf {
    let path = dir.path().join(name);
    let file = std::fs::File::create(&path).unwrap();
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(rows_per_group))
        .build();
    let mut w =
        parquet::arrow::ArrowWriter::try_new(file, sample_batch().schema(), Some(props)).unwrap();
    w.write(&sample_batch()).unwrap();
    w.write(&sample_batch()).unwrap();
    w.close().unwrap();
    path
}

#[test]
fn parquet_row_groups_nulls_and_truncation() {
    let dir = tempfile::tempdir().unwrap();
    let path = two_sample_batches(&dir, "d.parquet", 3);
    let cols = read_all(
        &path,
        &ReadOptions {
            batch_rows: 2,
            ..ReadOptions::default()
        },
    )
    .unwrap();
    let ColumnChunk::Numeric { values, valid } = &cols[0] else {
        panic!()
    };
    assert_eq!(values.len(), 8);
    assert_eq!(valid.as_ref().unwrap().iter().filter(|v| !**v).count(), 2);
    assert_eq!(
        cols[1],
        ColumnChunk::Numeric {
            values: vec![10.0, 20.0, 30.0, 40.0, 10.0, 20.0, 30.0, 40.0],
            valid: None
        }
    );
    let ColumnChunk::Categorical(labels) = &cols[2] else {
        panic!()
    };
    assert_eq!(labels[2], None);

    let bytes = std::fs::read(&path).unwrap();
    let cut = write(&dir, "cut.parquet", &bytes[..bytes.len() / 2]);
    let e = err(&cut, &ReadOptions::default());
    assert!(
        e.starts_with(&format!("{}: not a readable Parquet file", cut.display())),
        "{e}"
    );
    let garbage = write(&dir, "g.parquet", b"this is not parquet at all, just text");
    assert!(err(&garbage, &ReadOptions::default()).contains("not a readable Parquet file"));
}

#[test]
fn damaged_parquet_column_chunk_names_the_row_group_and_the_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = two_sample_batches(&dir, "damaged.parquet", 4);
    // The footer stays intact; the pages of column 's' in row group 1 are zeroed, as a bad
    // disk block or an interrupted copy into place would leave them.
    let (start, len) = {
        let f = std::fs::File::open(&path).unwrap();
        let builder =
            parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f).unwrap();
        builder.metadata().row_group(1).column(2).byte_range()
    };
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[start as usize..(start + len) as usize].fill(0);
    std::fs::write(&path, &bytes).unwrap();
    let e = err(&path, &ReadOptions::default());
    assert!(
        e.starts_with(&format!("{}: row group 1: column 's': ", path.display())),
        "{e}"
    );
    // Row group 0 still reads: the error comes after its rows, not instead of them.
    let mut reader = open(&path, &ReadOptions::default()).unwrap();
    assert_eq!(reader.next().unwrap().unwrap().rows, 4);
    assert!(reader.next().unwrap().is_err());
}

#[test]
fn arrow_ipc_files_read_like_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.arrow");
    let file = std::fs::File::create(&path).unwrap();
    let mut w = arrow_ipc::writer::FileWriter::try_new(file, &sample_batch().schema()).unwrap();
    w.write(&sample_batch()).unwrap();
    w.finish().unwrap();
    let cols = read_all(&path, &ReadOptions::default()).unwrap();
    assert_eq!(cols.len(), 3);
    assert_eq!(
        cols[1],
        ColumnChunk::Numeric {
            values: vec![10.0, 20.0, 30.0, 40.0],
            valid: None
        }
    );
}

#[test]
fn unknown_extension_asks_for_a_format() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "data.bin", b"a\n1\n");
    assert!(err(&p, &ReadOptions::default()).contains("cannot tell the format from the extension"));
    let opts = ReadOptions {
        format: Some(normshift_io::Format::Csv),
        ..ReadOptions::default()
    };
    assert!(read_all(&p, &opts).is_ok());
}

#[test]
fn a_row_longer_than_the_limit_stops_reading_with_its_line() {
    // A quote opened on line 3 and never closed: the rest of a 3 MB file would be one field.
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("a,b\n1,2\n3,\"4\n");
    while text.len() < 3 << 20 {
        text.push_str("5,6\n");
    }
    let path = write(&dir, "open.csv", text.as_bytes());
    let limited = ReadOptions {
        max_row_bytes: 64 << 10,
        ..ReadOptions::default()
    };
    let message = err(&path, &limited);
    assert!(
        message.contains("open.csv: line 3: this row runs on for more than 65536 bytes"),
        "{message}"
    );
    // Under the default limit the whole file is read, and the unclosed quote is named.
    let message = err(&path, &ReadOptions::default());
    assert!(
        message
            .contains("open.csv: line 3, column 'b': field 2 opens a quote that is never closed"),
        "{message}"
    );
    // A long row that does close reads under the default limit.
    let long = format!("a,b\n1,\"{}\"\n2,y\n", "x".repeat(3 << 20));
    let path = write(&dir, "long.csv", long.as_bytes());
    match &read_all(&path, &ReadOptions::default()).unwrap()[1] {
        ColumnChunk::Categorical(b) => {
            assert_eq!((b[0].as_ref().unwrap().len(), b.len()), (3 << 20, 2))
        }
        other => panic!("{other:?}"),
    }
}

/// Without quotes a row longer than the limit was refused only when it ran past a block read
/// (2 MiB per thread): a 100 KB row among short ones passed a 64 KiB limit.
#[test]
fn a_long_row_in_a_file_without_quotes_is_refused_too() {
    let dir = tempfile::tempdir().unwrap();
    let limit = 64 << 10;
    let limited = ReadOptions {
        max_row_bytes: limit as u64,
        ..ReadOptions::default()
    };
    for ending in ["\n", "\r\n"] {
        let mut text = format!("a,b{ending}");
        for i in 0..5000 {
            text.push_str(&format!("{i},x{ending}"));
        }
        // Line 5002: exactly the limit, without its line break, passes.
        text.push_str(&format!("1,{}{ending}", "y".repeat(limit - 2)));
        let path = write(&dir, "fits.csv", text.as_bytes());
        assert!(read_all(&path, &limited).is_ok(), "{ending:?}");
        // Line 5003: one byte more, then short rows again; last, without a line break.
        for (tail, name) in [(ending, "mid.csv"), ("", "last.csv")] {
            let mut text = text.clone();
            text.push_str(&format!("1,{}{tail}", "y".repeat(limit - 1)));
            if !tail.is_empty() {
                text.push_str(&format!("2,z{ending}"));
            }
            let path = write(&dir, name, text.as_bytes());
            let message = err(&path, &limited);
            assert!(
                message.contains(&format!(
                    "{name}: line 5003: this row runs on for more than 65536 bytes"
                )),
                "{ending:?}: {message}"
            );
            assert!(read_all(&path, &ReadOptions::default()).is_ok());
        }
    }
}

#[test]
fn compressed_arrow_files_and_streams_read_like_plain_ones() {
    use arrow_ipc::writer::{FileWriter, IpcWriteOptions, StreamWriter};
    use arrow_ipc::CompressionType;
    let dir = tempfile::tempdir().unwrap();
    let plain = read_all(
        &{
            let path = dir.path().join("plain.arrow");
            let mut w = FileWriter::try_new(
                std::fs::File::create(&path).unwrap(),
                &sample_batch().schema(),
            )
            .unwrap();
            w.write(&sample_batch()).unwrap();
            w.finish().unwrap();
            path
        },
        &ReadOptions::default(),
    )
    .unwrap();
    // What pyarrow writes by default (`write_feather`: LZ4), zstd, and the stream format
    // (`pyarrow.ipc.new_stream`); each used to be refused.
    for compression in [
        Some(CompressionType::LZ4_FRAME),
        Some(CompressionType::ZSTD),
        None,
    ] {
        let options = IpcWriteOptions::default()
            .try_with_compression(compression)
            .unwrap();
        let file = dir.path().join(format!("{compression:?}.feather"));
        let mut w = FileWriter::try_new_with_options(
            std::fs::File::create(&file).unwrap(),
            &sample_batch().schema(),
            options.clone(),
        )
        .unwrap();
        w.write(&sample_batch()).unwrap();
        w.finish().unwrap();
        // Debug text, as NaN != NaN.
        assert_eq!(
            format!("{:?}", read_all(&file, &ReadOptions::default()).unwrap()),
            format!("{plain:?}"),
            "{compression:?} file"
        );
        let stream = dir.path().join(format!("{compression:?}-stream.arrow"));
        let mut w = StreamWriter::try_new_with_options(
            std::fs::File::create(&stream).unwrap(),
            &sample_batch().schema(),
            options,
        )
        .unwrap();
        w.write(&sample_batch()).unwrap();
        w.write(&sample_batch()).unwrap();
        w.finish().unwrap();
        let twice = read_all(&stream, &ReadOptions::default()).unwrap();
        match (&twice[1], &plain[1]) {
            (ColumnChunk::Numeric { values: a, .. }, ColumnChunk::Numeric { values: b, .. }) => {
                assert_eq!(a.len(), 2 * b.len(), "{compression:?} stream");
                assert_eq!(&a[..b.len()], &b[..]);
            }
            other => panic!("{other:?}"),
        }
    }
    // Neither a file nor a stream: one error that says so.
    let junk = write(&dir, "junk.arrow", b"ARROW1 but not really");
    assert!(err(&junk, &ReadOptions::default()).contains("not a readable Arrow IPC file or stream"));
}

#[test]
fn columns_of_other_types_are_left_out_and_listed() {
    use arrow_array::Date32Array;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dates.arrow");
    let x: ArrayRef = Arc::new(Float64Array::from(vec![1.0, 2.0]));
    let when: ArrayRef = Arc::new(Date32Array::from(vec![18_000, 19_000]));
    let batch = RecordBatch::try_from_iter([("x", x), ("when", when)]).unwrap();
    let mut w = arrow_ipc::writer::FileWriter::try_new(
        std::fs::File::create(&path).unwrap(),
        &batch.schema(),
    )
    .unwrap();
    w.write(&batch).unwrap();
    w.finish().unwrap();
    let reader = open(&path, &ReadOptions::default()).unwrap();
    assert_eq!(reader.columns().len(), 1);
    assert_eq!(reader.skipped(), ["when"]);
    // Named, it is an error; named twice, too.
    let named = ReadOptions {
        columns: Some(vec!["when".into()]),
        ..ReadOptions::default()
    };
    assert!(err(&path, &named).contains("column 'when' has a type normshift cannot compare"));
    let twice = ReadOptions {
        columns: Some(vec!["x".into(), "x".into()]),
        ..ReadOptions::default()
    };
    assert!(err(&path, &twice).contains("column 'x' is named more than once in --columns"));
    // Read as categories, it is refused when the file is opened, naming the flag (it used to
    // fail on the first batch with "type Date32 cannot be read as Categorical").
    let as_categories = ReadOptions {
        categorical: vec!["when".into()],
        ..ReadOptions::default()
    };
    let e = open(&path, &as_categories)
        .err()
        .expect("refused at open")
        .to_string();
    assert!(
        e.contains("--categorical 'when': the column has a type normshift cannot compare"),
        "{e}"
    );
}

#[test]
fn csv_names_are_trimmed_for_matching_but_written_back_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    // pandas' `to_csv` writes its index as a first column with an empty name.
    let p = write(&dir, "pandas.csv", b",size , kind\n0,1500,a\n1,1600,b\n");
    let reader = open(&p, &ReadOptions::default()).unwrap();
    assert_eq!(reader.header(), ["Unnamed: 0", "size", "kind"]);
    assert_eq!(reader.output_header(), ["", "size ", " kind"]);
    let names: Vec<&str> = reader.columns().iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Unnamed: 0", "size", "kind"]);
    assert_eq!(reader.columns()[0].kind, ColumnKind::Numeric);
    // The index can be left out by the name pandas gives it.
    let without_index = ReadOptions {
        exclude: vec!["Unnamed: 0".into()],
        ..ReadOptions::default()
    };
    let reader = open(&p, &without_index).unwrap();
    assert_eq!(reader.columns().len(), 2);
    // With a byte-order mark, the written header has none (the writer adds it by style).
    let p = write(&dir, "bom.csv", b"\xEF\xBB\xBF a,b\n1,2\n");
    let reader = open(&p, &ReadOptions::default()).unwrap();
    assert_eq!(reader.header(), ["a", "b"]);
    assert_eq!(reader.output_header(), [" a", "b"]);
}
