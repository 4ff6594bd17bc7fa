//! Format details fixed in the fourth 2026-11-30 session (each listed as known and not fixed
//! by the io review of the third): dictionary-encoded numeric columns, Parquet and Arrow from
//! pipes, errors naming an Arrow record batch (not a "row group"), Parquet outputs keeping
//! their input's compression, and booleans labelled alike in CSV, Parquet and Arrow.

use arrow_array::types::{Int32Type, Int8Type};
use arrow_array::{
    ArrayRef, BooleanArray, DictionaryArray, Float64Array, Int32Array, Int64Array, Int8Array,
    RecordBatch, StringArray,
};
mod common;

use normshift_io::{open, BatchWriter, ColumnChunk, ColumnKind, ReadOptions, Replacement};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Each selected column of a file, all batches concatenated, as text (`#v` for a number).
fn read_text(path: &Path, options: &ReadOptions) -> Result<common::Labels, String> {
    common::labels(path, options).map_err(|e| e.to_string())
}

fn text(values: &[Option<&str>]) -> Vec<Option<String>> {
    values.iter().map(|v| v.map(str::to_string)).collect()
}

fn write_parquet(path: &Path, batch: &RecordBatch, properties: Option<WriterProperties>) {
    let file = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), properties).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
}

fn write_ipc(path: &Path, batches: &[RecordBatch]) {
    let file = std::fs::File::create(path).unwrap();
    let mut w = arrow_ipc::writer::FileWriter::try_new(file, &batches[0].schema()).unwrap();
    for b in batches {
        w.write(b).unwrap();
    }
    w.finish().unwrap();
}

fn ipc_stream_bytes(batches: &[RecordBatch]) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut w = arrow_ipc::writer::StreamWriter::try_new(&mut bytes, &batches[0].schema()).unwrap();
    for b in batches {
        w.write(b).unwrap();
    }
    w.finish().unwrap();
    drop(w);
    bytes
}

/// A numeric column stored with dictionary encoding (pyarrow's `dictionary_encode()`, or a
/// Parquet file read back with its dictionaries kept) was left out as an unsupported type.
#[test]
fn dictionary_encoded_numbers_are_numeric_columns() {
    let dir = tempfile::tempdir().unwrap();
    // Keys with a null, and a dictionary with a null value: both rows are missing.
    let floats: ArrayRef = Arc::new(DictionaryArray::<Int32Type>::new(
        Int32Array::from(vec![Some(1), Some(0), None, Some(2), Some(1)]),
        Arc::new(Float64Array::from(vec![Some(0.5), Some(-2.0), None])),
    ));
    let ints: ArrayRef = Arc::new(DictionaryArray::<Int8Type>::new(
        Int8Array::from(vec![0, 0, 1, 1, 0]),
        Arc::new(Int64Array::from(vec![7, 9_007_199_254_740_993])),
    ));
    let batch = RecordBatch::try_from_iter([("f", floats), ("i", ints)]).unwrap();
    let arrow = dir.path().join("dict.arrow");
    write_ipc(&arrow, std::slice::from_ref(&batch));
    let parquet = dir.path().join("dict.parquet");
    write_parquet(&parquet, &batch, None);
    for path in [&arrow, &parquet] {
        let reader = open(path, &ReadOptions::default()).unwrap();
        assert!(
            reader.skipped().is_empty(),
            "{path:?}: {:?}",
            reader.skipped()
        );
        let kinds: Vec<ColumnKind> = reader.columns().iter().map(|c| c.kind).collect();
        assert_eq!(kinds, [ColumnKind::Numeric; 2], "{path:?}");
        let columns = read_text(path, &ReadOptions::default()).unwrap();
        assert_eq!(
            columns[0],
            text(&[Some("#-2"), Some("#0.5"), None, None, Some("#-2")]),
            "{path:?}"
        );
        assert_eq!(
            columns[1],
            text(&[
                Some("#7"),
                Some("#7"),
                Some("#9007199254740992"),
                Some("#9007199254740992"),
                Some("#7")
            ]),
            "{path:?}"
        );
        // As categories, the integers keep their exact digits.
        let as_categories = ReadOptions {
            categorical: vec!["i".into()],
            ..ReadOptions::default()
        };
        assert_eq!(
            read_text(path, &as_categories).unwrap()[1],
            text(&[
                Some("7"),
                Some("7"),
                Some("9007199254740993"),
                Some("9007199254740993"),
                Some("7")
            ]),
            "{path:?}"
        );
    }
}

/// A dictionary with no values at all (every key null, as an all-null categorical column is
/// written) made arrow's key lookup panic.
#[test]
fn a_dictionary_without_values_is_all_missing_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let labels: ArrayRef = Arc::new(DictionaryArray::<Int32Type>::new(
        Int32Array::from(vec![None, None, None]),
        Arc::new(StringArray::from(Vec::<&str>::new())),
    ));
    let numbers: ArrayRef = Arc::new(DictionaryArray::<Int32Type>::new(
        Int32Array::from(vec![None, None, None]),
        Arc::new(Float64Array::from(Vec::<f64>::new())),
    ));
    let x: ArrayRef = Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0]));
    let batch = RecordBatch::try_from_iter([("c", labels), ("n", numbers), ("x", x)]).unwrap();
    let arrow = dir.path().join("empty-dict.arrow");
    write_ipc(&arrow, &[batch]);
    let columns = read_text(&arrow, &ReadOptions::default()).unwrap();
    assert_eq!(columns[0], vec![None; 3]);
    assert_eq!(columns[1], vec![None; 3]);
    assert_eq!(columns[2], text(&[Some("#1"), Some("#2"), Some("#3")]));
}

/// A path naming the reading end of a new pipe that `bytes` are written into.
fn piped(bytes: Vec<u8>) -> (PathBuf, std::io::PipeReader, std::thread::JoinHandle<()>) {
    let (reader, mut writer) = std::io::pipe().unwrap();
    let path = PathBuf::from(format!(
        "/proc/self/fd/{}",
        std::os::fd::AsRawFd::as_raw_fd(&reader)
    ));
    // The reader may stop early (an error): a failed write is not the test's concern.
    let thread = std::thread::spawn(move || {
        let _ = std::io::Write::write_all(&mut writer, &bytes);
    });
    (path, reader, thread)
}

/// Parquet from a pipe failed with the parquet crate's "file size of 0 is less than footer";
/// an Arrow IPC stream from a pipe failed with "Illegal seek" after trying the file format.
#[test]
fn parquet_from_a_pipe_says_why_and_an_arrow_stream_from_a_pipe_reads() {
    let dir = tempfile::tempdir().unwrap();
    let x: ArrayRef = Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0]));
    let batch = RecordBatch::try_from_iter([("x", x)]).unwrap();
    let parquet = dir.path().join("x.parquet");
    write_parquet(&parquet, &batch, None);

    let (path, pipe, writer) = piped(std::fs::read(&parquet).unwrap());
    let options = ReadOptions {
        format: Some(normshift_io::Format::Parquet),
        ..ReadOptions::default()
    };
    let message = read_text(&path, &options).unwrap_err();
    drop(pipe);
    writer.join().unwrap();
    assert!(
        message.contains("is a pipe or device, and Parquet can only be read from a file"),
        "{message}"
    );

    let arrow = ReadOptions {
        format: Some(normshift_io::Format::ArrowIpc),
        ..ReadOptions::default()
    };
    let (path, pipe, writer) = piped(ipc_stream_bytes(&[batch.clone(), batch.clone()]));
    let read = read_text(&path, &arrow);
    drop(pipe);
    writer.join().unwrap();
    let expected = text(&[
        Some("#1"),
        Some("#2"),
        Some("#3"),
        Some("#1"),
        Some("#2"),
        Some("#3"),
    ]);
    assert_eq!(read, Ok(vec![expected]));

    // An IPC *file* through a pipe: not readable, and the message says what is.
    let ipc_file = dir.path().join("x.arrow");
    write_ipc(&ipc_file, &[batch]);
    let (path, pipe, writer) = piped(std::fs::read(&ipc_file).unwrap());
    let message = read_text(&path, &arrow).unwrap_err();
    drop(pipe);
    writer.join().unwrap();
    assert!(
        message.contains("from a pipe or device only the stream format can be read")
            && message.contains("it starts as an Arrow IPC file (`ARROW1`)"),
        "{message}"
    );
}

/// A damaged Arrow IPC stream: the error named a "row group", a Parquet notion.
#[test]
fn arrow_errors_name_the_record_batch() {
    let dir = tempfile::tempdir().unwrap();
    let x: ArrayRef = Arc::new(Float64Array::from(
        (0..1000).map(f64::from).collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_from_iter([("x", x)]).unwrap();
    let mut bytes = ipc_stream_bytes(&[batch.clone(), batch]);
    // Cut the stream inside the second batch's body.
    bytes.truncate(bytes.len() - 3000);
    let path = dir.path().join("cut.arrow");
    std::fs::write(&path, &bytes).unwrap();
    let message = read_text(&path, &ReadOptions::default()).unwrap_err();
    assert!(message.contains("cut.arrow: record batch 1: "), "{message}");
    assert!(!message.contains("row group"), "{message}");
}

/// Writes `input` to `output` as `normalize` does, with 48 subtracted from its first column
/// (numeric).
fn shift_first_column(input: &Path, output: &Path) {
    let mut reader = open(input, &ReadOptions::default()).unwrap();
    let mut writer = BatchWriter::like(output, &reader).unwrap();
    for batch in reader.by_ref() {
        let batch = batch.unwrap();
        let ColumnChunk::Numeric { values, valid } = &batch.columns[0] else {
            panic!("the first column is numeric")
        };
        let replacement = Replacement {
            index: 0,
            values: values.iter().map(|v| v - 48.0).collect(),
            valid: valid.clone(),
        };
        writer.write(&batch, &[replacement]).unwrap();
    }
    writer.finish().unwrap();
}

/// The schema `outputs_keep_metadata_float32_and_row_group_sizes` writes, as it must come
/// back: the schema's key, the field's unit, `x` still `float32`.
fn kept_metadata_and_float32(schema: &arrow_schema::Schema) {
    assert_eq!(
        schema.metadata().get("custom").map(String::as_str),
        Some("keep")
    );
    let x = schema.field(0);
    assert_eq!(x.metadata().get("unit").map(String::as_str), Some("m"));
    assert_eq!(x.data_type(), &arrow_schema::DataType::Float32);
}

/// The io review (fifth 2026-11-30 session): a Parquet output lost the schema's metadata
/// (pandas' index, user keys) and replaced columns their field metadata; float32 columns
/// came out float64; and the output's row groups were up to 1,048,576 rows whatever the
/// input's, all buffered in memory.
#[test]
fn outputs_keep_metadata_float32_and_row_group_sizes() {
    use std::collections::HashMap;
    let dir = tempfile::tempdir().unwrap();
    let n = 5000;
    let x: ArrayRef = Arc::new(arrow_array::Float32Array::from(
        (0..n).map(|i| (i % 97) as f32).collect::<Vec<_>>(),
    ));
    let kept: ArrayRef = Arc::new(Int64Array::from((0..n).map(i64::from).collect::<Vec<_>>()));
    let unit = HashMap::from([("unit".to_string(), "m".to_string())]);
    let schema = Arc::new(arrow_schema::Schema::new_with_metadata(
        vec![
            arrow_schema::Field::new("x", arrow_schema::DataType::Float32, false)
                .with_metadata(unit.clone()),
            arrow_schema::Field::new("kept", arrow_schema::DataType::Int64, false),
        ],
        HashMap::from([("custom".to_string(), "keep".to_string())]),
    ));
    let batch = RecordBatch::try_new(schema, vec![x, kept]).unwrap();
    let input = dir.path().join("in.parquet");
    let groups = WriterProperties::builder()
        .set_max_row_group_row_count(Some(1000))
        .build();
    write_parquet(&input, &batch, Some(groups));
    let output = dir.path().join("out.parquet");
    shift_first_column(&input, &output);
    let read = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        std::fs::File::open(&output).unwrap(),
    )
    .unwrap();
    let sizes: Vec<i64> = read
        .metadata()
        .row_groups()
        .iter()
        .map(|g| g.num_rows())
        .collect();
    assert_eq!(sizes, [1000; 5]);
    let schema = read.schema().clone();
    kept_metadata_and_float32(&schema);
    assert_eq!(schema.field(1).data_type(), &arrow_schema::DataType::Int64);
    let first = read.build().unwrap().next().unwrap().unwrap();
    let x = first
        .column(0)
        .as_any()
        .downcast_ref::<arrow_array::Float32Array>();
    assert_eq!(x.unwrap().value(50), 2.0);

    // Arrow IPC: the same types and metadata.
    let input = dir.path().join("in.arrow");
    write_ipc(&input, std::slice::from_ref(&batch));
    let output = dir.path().join("out.arrow");
    shift_first_column(&input, &output);
    let read = arrow_ipc::reader::FileReader::try_new(std::fs::File::open(&output).unwrap(), None)
        .unwrap();
    kept_metadata_and_float32(&read.schema());
}

/// `normalize` wrote every Parquet output uncompressed, whatever the input's codecs.
#[test]
fn a_parquet_output_keeps_each_columns_compression() {
    let dir = tempfile::tempdir().unwrap();
    let n = 5000;
    let x: ArrayRef = Arc::new(Float64Array::from(
        (0..n).map(|i| f64::from(i % 97)).collect::<Vec<_>>(),
    ));
    let kept: ArrayRef = Arc::new(Int64Array::from((0..n).map(i64::from).collect::<Vec<_>>()));
    let batch = RecordBatch::try_from_iter([("x", x), ("kept", kept)]).unwrap();
    let properties = WriterProperties::builder()
        .set_column_compression("x".into(), Compression::ZSTD(ZstdLevel::default()))
        .set_column_compression("kept".into(), Compression::SNAPPY)
        .build();
    let input = dir.path().join("in.parquet");
    write_parquet(&input, &batch, Some(properties));

    let output = dir.path().join("out.parquet");
    shift_first_column(&input, &output);

    let read = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        std::fs::File::open(&output).unwrap(),
    )
    .unwrap();
    let group = read.metadata().row_group(0);
    let codecs: Vec<(String, Compression)> = group
        .columns()
        .iter()
        .map(|c| (c.column_path().string(), c.compression()))
        .collect();
    assert!(
        matches!(
            codecs.as_slice(),
            [(x, Compression::ZSTD(_)), (kept, Compression::SNAPPY)] if x == "x" && kept == "kept"
        ),
        "{codecs:?}"
    );
    let rows: usize = read.build().unwrap().map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(rows, n as usize);
}

/// pandas writes booleans to CSV as `True`/`False`, R and spreadsheets as `TRUE`/`FALSE`;
/// Parquet and Arrow booleans read as `true`/`false`. Comparing a CSV with a Parquet file of
/// the same data flagged every boolean column as changed categories.
#[test]
fn booleans_have_the_same_labels_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let values = [Some(true), Some(false), None, Some(true)];
    let flags: ArrayRef = Arc::new(BooleanArray::from(values.to_vec()));
    let parquet = dir.path().join("b.parquet");
    write_parquet(
        &parquet,
        &RecordBatch::try_from_iter([("flag", flags)]).unwrap(),
        None,
    );
    let expected = text(&[Some("true"), Some("false"), None, Some("true")]);
    assert_eq!(
        read_text(&parquet, &ReadOptions::default()).unwrap(),
        vec![expected.clone()]
    );
    for (name, csv) in [
        ("pandas.csv", "flag,x\nTrue,1\nFalse,2\n,3\nTrue,4\n"),
        ("r.csv", "flag,x\nTRUE,1\nFALSE,2\nNA,3\nTRUE,4\n"),
        ("lower.csv", "flag,x\ntrue,1\nfalse,2\n,3\ntrue,4\n"),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, csv).unwrap();
        let columns = read_text(&path, &ReadOptions::default()).unwrap();
        assert_eq!(columns[0], expected, "{name}");
    }
    // A text column that merely contains the word keeps its labels as written.
    let path = dir.path().join("text.csv");
    std::fs::write(&path, "answer\nTrue\nmaybe\nFalse\n").unwrap();
    assert_eq!(
        read_text(&path, &ReadOptions::default()).unwrap(),
        vec![text(&[Some("True"), Some("maybe"), Some("False")])]
    );
}

/// Errors name columns as they are matched (trimmed, an empty name `Unnamed: i`), as the
/// numeric errors do; the parallel reader named them as the header spelled them at first.
#[test]
fn csv_errors_name_columns_as_they_are_matched() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], &str); 2] = [
        (
            "empty-name.csv",
            b"a,\n1,\xff\n",
            "line 2, column 'Unnamed: 1': field 2 is not valid UTF-8",
        ),
        (
            "spaced.csv",
            b"a, b \n1,\" x",
            "line 2, column 'b': field 2 opens a quote that is never closed",
        ),
    ];
    for (name, bytes, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let message = read_text(&path, &ReadOptions::default()).unwrap_err();
        assert!(message.contains(expected), "{name}: {message}");
    }
}

/// A quote or a line break as the delimiter is refused: csv-core gives them their CSV
/// meaning first, so no reader could split such a file where csv-core ends its records.
#[test]
fn quotes_and_line_breaks_cannot_be_delimiters() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.csv");
    std::fs::write(&path, b"a\"b\n1\"2\n").unwrap();
    for delimiter in [b'"', b'\n', b'\r'] {
        let options = ReadOptions {
            delimiter: Some(delimiter),
            ..ReadOptions::default()
        };
        let message = read_text(&path, &options).unwrap_err();
        assert!(message.contains("cannot be the delimiter"), "{message}");
    }
}

/// `normalize` wrote every Arrow IPC output uncompressed, whatever the input's compression
/// (pyarrow's `write_feather` compresses with LZ4 by default).
#[test]
fn an_arrow_output_is_compressed_as_its_input() {
    use arrow_ipc::writer::{FileWriter, IpcWriteOptions, StreamWriter};
    use arrow_ipc::CompressionType;
    let dir = tempfile::tempdir().unwrap();
    let n: i32 = 5000;
    let x: ArrayRef = Arc::new(Float64Array::from(
        (0..n).map(|i| f64::from(i % 97)).collect::<Vec<_>>(),
    ));
    let kept: ArrayRef = Arc::new(Int64Array::from((0..n).map(i64::from).collect::<Vec<_>>()));
    let batch = RecordBatch::try_from_iter([("x", x), ("kept", kept)]).unwrap();
    // Written with `options`, as a stream or a file: the bytes.
    let ipc_bytes = |batches: &[RecordBatch], options: IpcWriteOptions, stream: bool| {
        let mut bytes = Vec::new();
        if stream {
            let mut w =
                StreamWriter::try_new_with_options(&mut bytes, &batches[0].schema(), options)
                    .unwrap();
            batches.iter().for_each(|b| w.write(b).unwrap());
            w.finish().unwrap();
        } else {
            let mut w = FileWriter::try_new_with_options(&mut bytes, &batches[0].schema(), options)
                .unwrap();
            batches.iter().for_each(|b| w.write(b).unwrap());
            w.finish().unwrap();
        }
        bytes
    };
    for stream in [false, true] {
        for codec in [
            Some(CompressionType::LZ4_FRAME),
            Some(CompressionType::ZSTD),
            None,
        ] {
            let options = IpcWriteOptions::default()
                .try_with_compression(codec)
                .unwrap();
            let input = dir.path().join("in.arrow");
            std::fs::write(
                &input,
                ipc_bytes(&[batch.clone(), batch.clone()], options.clone(), stream),
            )
            .unwrap();
            let output = dir.path().join("out.arrow");
            shift_first_column(&input, &output);

            // The output's batches, written again with the input's codec, give its bytes.
            let written = std::fs::read(&output).unwrap();
            let batches: Vec<RecordBatch> = if stream {
                arrow_ipc::reader::StreamReader::try_new(written.as_slice(), None)
                    .unwrap()
                    .map(Result::unwrap)
                    .collect()
            } else {
                arrow_ipc::reader::FileReader::try_new(std::io::Cursor::new(&written), None)
                    .unwrap()
                    .map(Result::unwrap)
                    .collect()
            };
            assert_eq!(
                batches.iter().map(|b| b.num_rows()).sum::<usize>(),
                2 * n as usize
            );
            let first = batches[0].column(0).as_any().downcast_ref::<Float64Array>();
            assert_eq!(first.unwrap().value(50), 2.0, "{codec:?}, stream {stream}");
            assert!(
                written == ipc_bytes(&batches, options, stream),
                "{codec:?}, stream {stream}: not written with the input's compression"
            );
        }
    }
}

/// From a pipe an Arrow IPC stream is read message by message with its declared sizes checked
/// (a pipe cannot be probed ahead as a file is): it must read exactly as the same bytes in a
/// file (read by arrow-ipc's own stream reader), with dictionaries (also replaced and delta
/// ones), compression, empty batches, the legacy framing without continuation markers, and
/// no end-of-stream marker; and a damaged LZ4 size must be an error, not an abort.
#[test]
fn arrow_streams_from_pipes_read_as_from_files_and_damaged_ones_are_refused() {
    use arrow_ipc::writer::{DictionaryHandling, IpcWriteOptions, StreamWriter};
    use arrow_ipc::{CompressionType, MetadataVersion};
    let dir = tempfile::tempdir().unwrap();
    let batch = |labels: &[&str], keys: Vec<Option<i32>>, x: Vec<Option<f64>>| {
        let s: ArrayRef = Arc::new(DictionaryArray::<Int32Type>::new(
            Int32Array::from(keys),
            Arc::new(StringArray::from(labels.to_vec())),
        ));
        let x: ArrayRef = Arc::new(Float64Array::from(x));
        RecordBatch::try_from_iter([("x", x), ("s", s)]).unwrap()
    };
    let batches = [
        batch(
            &["a", "b"],
            vec![Some(0), None, Some(1)],
            vec![Some(1.5), None, Some(f64::NAN)],
        ),
        batch(&["a", "b"], vec![], vec![]),
        batch(
            &["a", "b", "c"],
            vec![Some(2), Some(0)],
            vec![Some(-2.0), Some(3.0)],
        ),
        batch(&["z"], vec![Some(0)], vec![Some(4.0)]),
    ];
    let legacy = IpcWriteOptions::try_new(8, true, MetadataVersion::V4).unwrap();
    let mut variants: Vec<(String, IpcWriteOptions)> = vec![("legacy".into(), legacy)];
    for codec in [
        None,
        Some(CompressionType::LZ4_FRAME),
        Some(CompressionType::ZSTD),
    ] {
        for delta in [DictionaryHandling::Resend, DictionaryHandling::Delta] {
            let options = IpcWriteOptions::default()
                .try_with_compression(codec)
                .unwrap()
                .with_dictionary_handling(delta);
            variants.push((format!("{codec:?} {delta:?}"), options));
        }
    }
    let arrow = ReadOptions {
        format: Some(normshift_io::Format::ArrowIpc),
        ..ReadOptions::default()
    };
    for (name, options) in variants {
        let mut bytes = Vec::new();
        let mut w =
            StreamWriter::try_new_with_options(&mut bytes, &batches[0].schema(), options).unwrap();
        batches.iter().for_each(|b| w.write(b).unwrap());
        w.finish().unwrap();
        drop(w);
        // With the end-of-stream marker and without it (a writer that stopped).
        let marker = if name == "legacy" { 4 } else { 8 };
        for bytes in [bytes.clone(), bytes[..bytes.len() - marker].to_vec()] {
            let file = dir.path().join("s.arrow");
            std::fs::write(&file, &bytes).unwrap();
            let from_file = read_text(&file, &arrow);
            assert!(from_file.is_ok(), "{name}: {from_file:?}");
            let (path, pipe, writer) = piped(bytes);
            let from_pipe = read_text(&path, &arrow);
            drop(pipe);
            writer.join().unwrap();
            assert_eq!(from_pipe, from_file, "{name}");
        }
    }
    let damaged = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/damaged-lz4-size.arrow"),
    )
    .unwrap();
    let (path, pipe, writer) = piped(damaged);
    let message = read_text(&path, &arrow).unwrap_err();
    drop(pipe);
    writer.join().unwrap();
    assert!(
        message.contains("dictionary batch 0: a compressed buffer declares 72057594037927936"),
        "{message}"
    );
}
