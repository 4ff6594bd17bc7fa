//! Outputs written like their inputs: Arrow IPC streams stay streams, and Parquet or Arrow
//! inputs without rows give outputs without rows (both failed before 2026-11-30).

use arrow_array::{
    types::Int32Type, ArrayRef, DictionaryArray, Float64Array, Int64Array, RecordBatch,
};
use normshift_io::{open, BatchWriter, ReadOptions, Replacement};
use std::path::Path;
use std::sync::Arc;

/// Copies `input` to `output` through a [`BatchWriter::like`], halving column 0.
fn normalize_like(input: &Path, output: &Path) -> normshift_io::Result<()> {
    let mut reader = open(input, &ReadOptions::default())?;
    let mut writer = BatchWriter::like(output, &reader)?;
    for batch in reader.by_ref() {
        let batch = batch?;
        let normshift_io::ColumnChunk::Numeric { values, valid } = &batch.columns[0] else {
            panic!("column 0 is numeric")
        };
        let replacement = Replacement {
            index: 0,
            values: values.iter().map(|v| v / 2.0).collect(),
            valid: valid.clone(),
        };
        writer.write(&batch, &[replacement])?;
    }
    writer.finish()
}

fn batch(x: &[f64], labels: &[&str]) -> RecordBatch {
    let x: ArrayRef = Arc::new(Float64Array::from(x.to_vec()));
    let kind: DictionaryArray<Int32Type> = labels.iter().copied().collect();
    RecordBatch::try_from_iter([("x", x), ("kind", Arc::new(kind) as ArrayRef)]).unwrap()
}

#[test]
fn an_arrow_stream_is_written_as_a_stream_even_when_its_dictionaries_change() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.arrow");
    // Two batches whose dictionaries differ: a stream may replace a dictionary, a file may
    // not ("Dictionary replacement detected when writing IPC file format").
    let first = batch(&[2.0, 4.0], &["a", "b"]);
    let second = batch(&[6.0], &["c"]);
    let mut w = arrow_ipc::writer::StreamWriter::try_new(
        std::fs::File::create(&input).unwrap(),
        &first.schema(),
    )
    .unwrap();
    w.write(&first).unwrap();
    w.write(&second).unwrap();
    w.finish().unwrap();

    let output = dir.path().join("out.arrow");
    normalize_like(&input, &output).unwrap();
    let reader =
        arrow_ipc::reader::StreamReader::try_new(std::fs::File::open(&output).unwrap(), None)
            .expect("the output is a stream, as the input was");
    let batches: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
    let x: Vec<f64> = batches
        .iter()
        .flat_map(|b| {
            b.column(0)
                .as_any()
                .downcast_ref::<Float64Array>()
                .unwrap()
                .values()
                .to_vec()
        })
        .collect();
    assert_eq!(x, [1.0, 2.0, 3.0]);
    assert_eq!(batches.iter().map(RecordBatch::num_rows).sum::<usize>(), 3);
    // An IPC file stays a file.
    let file_input = dir.path().join("file.arrow");
    let mut w = arrow_ipc::writer::FileWriter::try_new(
        std::fs::File::create(&file_input).unwrap(),
        &first.schema(),
    )
    .unwrap();
    w.write(&first).unwrap();
    w.finish().unwrap();
    let file_output = dir.path().join("file-out.arrow");
    normalize_like(&file_input, &file_output).unwrap();
    arrow_ipc::reader::FileReader::try_new(std::fs::File::open(&file_output).unwrap(), None)
        .expect("the output is an IPC file, as the input was");
}

#[test]
fn inputs_without_rows_give_outputs_without_rows_and_the_same_schema() {
    let dir = tempfile::tempdir().unwrap();
    let x: ArrayRef = Arc::new(Int64Array::from(Vec::<i64>::new()));
    let empty = RecordBatch::try_from_iter([("x", x)]).unwrap();

    let parquet_in = dir.path().join("empty.parquet");
    let w = parquet::arrow::ArrowWriter::try_new(
        std::fs::File::create(&parquet_in).unwrap(),
        empty.schema(),
        None,
    )
    .unwrap();
    w.close().unwrap();
    let parquet_out = dir.path().join("out.parquet");
    normalize_like(&parquet_in, &parquet_out).unwrap();
    let read = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        std::fs::File::open(&parquet_out).unwrap(),
    )
    .unwrap();
    assert_eq!(read.metadata().file_metadata().num_rows(), 0);
    assert_eq!(read.schema().field(0).name(), "x");

    let ipc_in = dir.path().join("empty.arrow");
    let mut w = arrow_ipc::writer::FileWriter::try_new(
        std::fs::File::create(&ipc_in).unwrap(),
        &empty.schema(),
    )
    .unwrap();
    w.finish().unwrap();
    let ipc_out = dir.path().join("out.arrow");
    normalize_like(&ipc_in, &ipc_out).unwrap();
    let read = arrow_ipc::reader::FileReader::try_new(std::fs::File::open(&ipc_out).unwrap(), None)
        .unwrap();
    assert_eq!(read.schema().field(0).name(), "x");
    assert_eq!(read.map(|b| b.unwrap().num_rows()).sum::<usize>(), 0);
}
