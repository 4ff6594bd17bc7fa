//! Writing batches back out with some numeric columns replaced, the rest passed through.

use crate::{AtomicFile, Batch, Error, Format, RawBatch, Result};
use arrow_array::{ArrayRef, Float32Array, Float64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::file::properties::WriterProperties;
use std::path::Path;
use std::sync::Arc;

/// New values for one column of the file (by its index in the file).
pub struct Replacement {
    /// Column index in the file.
    pub index: usize,
    /// New values, one per row of the batch.
    pub values: Vec<f64>,
    /// Rows whose value is missing (kept missing in the output).
    pub valid: Option<Vec<bool>>,
}

enum Sink {
    Csv(csv::Writer<std::fs::File>),
    Parquet(parquet::arrow::ArrowWriter<std::fs::File>),
    Ipc(arrow_ipc::writer::FileWriter<std::fs::File>),
    IpcStream(arrow_ipc::writer::StreamWriter<std::fs::File>),
    Pending,
}

/// Writes a file of the same format as its input, atomically: nothing appears at the
/// destination until [`finish`](Self::finish) succeeds.
pub struct BatchWriter {
    atomic: AtomicFile,
    format: Format,
    header: Vec<String>,
    csv_style: crate::CsvStyle,
    /// For Arrow IPC: write the stream format (batches one after another) instead of a file.
    ipc_stream: bool,
    /// The input's schema, for a Parquet or Arrow output of an input without rows.
    schema: Option<SchemaRef>,
    /// How Parquet is written (default: the parquet crate's, uncompressed).
    parquet_properties: Option<WriterProperties>,
    /// How Arrow IPC is written (default: arrow-ipc's, uncompressed).
    ipc_options: Option<arrow_ipc::writer::IpcWriteOptions>,
    sink: Sink,
}

impl BatchWriter {
    /// Prepares `path`; `header` is the input's full list of column names.
    pub fn create(path: &Path, format: Format, header: &[String]) -> Result<Self> {
        Ok(Self {
            atomic: AtomicFile::create(path)?,
            format,
            header: header.to_vec(),
            csv_style: crate::CsvStyle::default(),
            ipc_stream: false,
            schema: None,
            parquet_properties: None,
            ipc_options: None,
            sink: Sink::Pending,
        })
    }

    /// A writer for an output like `reader`'s input: the same format, the header row as the
    /// file has it, CSV written the same way, Parquet with the input's compression codecs,
    /// Arrow IPC as a file or a stream as the input is (compressed as its first batch is),
    /// and the input's schema for an input
    /// without rows. Call it before reading.
    pub fn like(path: &Path, reader: &crate::Reader) -> Result<Self> {
        let mut writer = Self::create(path, reader.format(), reader.output_header())?
            .with_csv_style(reader.csv_style().unwrap_or_default());
        writer.ipc_stream = reader.is_ipc_stream();
        writer.schema = reader.arrow_schema();
        writer.parquet_properties = reader.parquet_writer_properties();
        writer.ipc_options = reader.ipc_write_options();
        Ok(writer)
    }

    /// How to write CSV (default: `,`, `\n`, no byte-order mark): the input's
    /// [`Reader::csv_style`](crate::Reader::csv_style), so that a `.tsv`, a `;`-separated or a
    /// Windows file stays one.
    pub fn with_csv_style(mut self, style: crate::CsvStyle) -> Self {
        self.csv_style = style;
        self
    }

    fn error(&self, message: String) -> Error {
        Error::Columnar {
            path: self.atomic.path().to_path_buf(),
            part: None,
            message,
        }
    }

    /// A CSV writer on the temporary file, header already written.
    fn csv_with_header(&mut self) -> Result<csv::Writer<std::fs::File>> {
        let mut file = self
            .atomic
            .file()
            .try_clone()
            .map_err(|e| Error::io(self.atomic.path(), e))?;
        if self.csv_style.bom {
            std::io::Write::write_all(&mut file, b"\xEF\xBB\xBF")
                .map_err(|e| Error::io(self.atomic.path(), e))?;
        }
        let mut w = csv::WriterBuilder::new()
            .delimiter(self.csv_style.delimiter)
            .terminator(if self.csv_style.crlf {
                csv::Terminator::CRLF
            } else {
                csv::Terminator::Any(b'\n')
            })
            .from_writer(file);
        w.write_record(&self.header)
            .map_err(|e| self.error(e.to_string()))?;
        Ok(w)
    }

    /// Writes one batch with `replacements` applied.
    pub fn write(&mut self, batch: &Batch, replacements: &[Replacement]) -> Result<()> {
        match (&batch.raw, self.format) {
            (RawBatch::Csv(records), Format::Csv) => {
                if matches!(self.sink, Sink::Pending) {
                    self.sink = Sink::Csv(self.csv_with_header()?);
                }
                let Sink::Csv(w) = &mut self.sink else {
                    unreachable!("set above")
                };
                let mut fields: Vec<String> = Vec::new();
                for (row, record) in records.iter().enumerate() {
                    fields.clear();
                    fields.extend(record.iter().map(str::to_owned));
                    for r in replacements {
                        // Missing fields keep their original text ("", "NA", …).
                        if r.valid.as_ref().is_none_or(|v| v[row]) {
                            fields[r.index] = r.values[row].to_string();
                        }
                    }
                    w.write_record(&fields).map_err(|e| Error::Columnar {
                        path: self.atomic.path().to_path_buf(),
                        part: None,
                        message: e.to_string(),
                    })?;
                }
                Ok(())
            }
            (RawBatch::Arrow(record_batch), Format::Parquet | Format::ArrowIpc) => {
                let replaced = replace_columns(record_batch, self.schema.as_deref(), replacements)
                    .map_err(|e| self.error(e))?;
                if matches!(self.sink, Sink::Pending) {
                    let file = self
                        .atomic
                        .file()
                        .try_clone()
                        .map_err(|e| Error::io(self.atomic.path(), e))?;
                    let schema = replaced.schema();
                    self.sink = match self.format {
                        Format::Parquet => Sink::Parquet(
                            parquet::arrow::ArrowWriter::try_new(
                                file,
                                schema,
                                self.parquet_properties.clone(),
                            )
                            .map_err(|e| self.error(e.to_string()))?,
                        ),
                        _ => self.ipc_sink(file, &schema)?,
                    };
                }
                let written = match &mut self.sink {
                    Sink::Parquet(w) => w.write(&replaced).map_err(|e| e.to_string()),
                    Sink::Ipc(w) => w.write(&replaced).map_err(|e| e.to_string()),
                    Sink::IpcStream(w) => w.write(&replaced).map_err(|e| e.to_string()),
                    _ => Err("internal: writer kind changed between batches".to_string()),
                };
                written.map_err(|e| self.error(e))
            }
            _ => Err(self.error(format!(
                "cannot write {:?} output from this input; use the input's format",
                self.format
            ))),
        }
    }

    fn ipc_sink(&self, file: std::fs::File, schema: &Schema) -> Result<Sink> {
        use arrow_ipc::writer::{FileWriter, StreamWriter};
        let options = self.ipc_options.clone().unwrap_or_default();
        let sink = if self.ipc_stream {
            StreamWriter::try_new_with_options(file, schema, options).map(Sink::IpcStream)
        } else {
            FileWriter::try_new_with_options(file, schema, options).map(Sink::Ipc)
        };
        sink.map_err(|e| self.error(e.to_string()))
    }

    /// Writes a Parquet or Arrow file with `schema` and no rows.
    fn finish_empty(&mut self, schema: SchemaRef) -> std::result::Result<(), String> {
        let file = self.atomic.file().try_clone().map_err(|e| e.to_string())?;
        match self.format {
            Format::Parquet => {
                parquet::arrow::ArrowWriter::try_new(file, schema, self.parquet_properties.clone())
                    .and_then(|w| w.close().map(drop))
                    .map_err(|e| e.to_string())
            }
            _ => match self.ipc_sink(file, &schema).map_err(|e| e.to_string())? {
                Sink::Ipc(mut w) => w.finish().map_err(|e| e.to_string()),
                Sink::IpcStream(mut w) => w.finish().map_err(|e| e.to_string()),
                _ => Err("internal: not an Arrow writer".to_string()),
            },
        }
    }

    /// Finishes the file and renames it into place.
    pub fn finish(mut self) -> Result<()> {
        let sink = std::mem::replace(&mut self.sink, Sink::Pending);
        let result = match sink {
            Sink::Csv(mut w) => w.flush().map_err(|e| e.to_string()),
            Sink::Parquet(w) => w.close().map(drop).map_err(|e| e.to_string()),
            Sink::Ipc(mut w) => w.finish().map_err(|e| e.to_string()),
            Sink::IpcStream(mut w) => w.finish().map_err(|e| e.to_string()),
            Sink::Pending => match (self.format, self.schema.clone()) {
                // No batch at all (a header-only CSV): still write the header.
                (Format::Csv, _) => self.csv_with_header()?.flush().map_err(|e| e.to_string()),
                // A Parquet or Arrow input without rows: an output without rows, with the
                // input's schema (its numeric columns keep their types: no value was replaced).
                (_, Some(schema)) => self.finish_empty(schema),
                (_, None) => Err("the input has no rows to write".to_string()),
            },
        };
        result.map_err(|e| self.error(e))?;
        self.atomic.commit()
    }
}

/// `batch` with the replaced columns' values. A replaced column is `float32` if it was
/// `float32` or `float16` (the input's precision is all there is), `float64` otherwise, and
/// nullable; its field keeps its metadata except an extension type, which described the old
/// values. The schema's metadata is the input's (`input_schema`): record batches from the
/// Parquet reader come without it, and with it would go pandas' index and any user keys.
fn replace_columns(
    batch: &RecordBatch,
    input_schema: Option<&Schema>,
    replacements: &[Replacement],
) -> std::result::Result<RecordBatch, String> {
    let schema = batch.schema();
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    for r in replacements {
        let old = &fields[r.index];
        let value_type = match old.data_type() {
            DataType::Dictionary(_, value) => value.as_ref(),
            other => other,
        };
        let single = matches!(value_type, DataType::Float32 | DataType::Float16);
        let (array, data_type): (ArrayRef, DataType) = match (&r.valid, single) {
            (None, false) => (
                Arc::new(Float64Array::from(r.values.clone())),
                DataType::Float64,
            ),
            (None, true) => (
                Arc::new(Float32Array::from_iter_values(
                    r.values.iter().map(|&v| v as f32),
                )),
                DataType::Float32,
            ),
            (Some(valid), false) => (
                Arc::new(Float64Array::from_iter(
                    r.values.iter().zip(valid).map(|(&v, &ok)| ok.then_some(v)),
                )),
                DataType::Float64,
            ),
            (Some(valid), true) => (
                Arc::new(Float32Array::from_iter(
                    r.values
                        .iter()
                        .zip(valid)
                        .map(|(&v, &ok)| ok.then_some(v as f32)),
                )),
                DataType::Float32,
            ),
        };
        columns[r.index] = array;
        let mut metadata = old.metadata().clone();
        metadata.retain(|key, _| !key.starts_with("ARROW:extension:"));
        fields[r.index] = old
            .clone()
            .with_data_type(data_type)
            .with_nullable(true)
            .with_metadata(metadata);
    }
    let metadata = input_schema.map_or_else(|| schema.metadata().clone(), |s| s.metadata().clone());
    let schema: SchemaRef = Arc::new(Schema::new_with_metadata(fields, metadata));
    RecordBatch::try_new(schema, columns).map_err(|e| e.to_string())
}
