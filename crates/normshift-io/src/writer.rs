//! Writing batches back out with some numeric columns replaced, the rest passed through.

use crate::{AtomicFile, Batch, Error, Format, RawBatch, Result};
use arrow_array::{ArrayRef, Float64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
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
    Pending,
}

/// Writes a file of the same format as its input, atomically: nothing appears at the
/// destination until [`finish`](Self::finish) succeeds.
pub struct BatchWriter {
    atomic: AtomicFile,
    format: Format,
    header: Vec<String>,
    csv_style: crate::CsvStyle,
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
            sink: Sink::Pending,
        })
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
            row_group: None,
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
                for (row, (_, record)) in records.iter().enumerate() {
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
                        row_group: None,
                        message: e.to_string(),
                    })?;
                }
                Ok(())
            }
            (RawBatch::Arrow(record_batch), Format::Parquet | Format::ArrowIpc) => {
                let replaced =
                    replace_columns(record_batch, replacements).map_err(|e| self.error(e))?;
                if matches!(self.sink, Sink::Pending) {
                    let file = self
                        .atomic
                        .file()
                        .try_clone()
                        .map_err(|e| Error::io(self.atomic.path(), e))?;
                    let schema = replaced.schema();
                    self.sink = match self.format {
                        Format::Parquet => Sink::Parquet(
                            parquet::arrow::ArrowWriter::try_new(file, schema, None)
                                .map_err(|e| self.error(e.to_string()))?,
                        ),
                        _ => Sink::Ipc(
                            arrow_ipc::writer::FileWriter::try_new(file, &schema)
                                .map_err(|e| self.error(e.to_string()))?,
                        ),
                    };
                }
                let written = match &mut self.sink {
                    Sink::Parquet(w) => w.write(&replaced).map_err(|e| e.to_string()),
                    Sink::Ipc(w) => w.write(&replaced).map_err(|e| e.to_string()),
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

    /// Finishes the file and renames it into place.
    pub fn finish(mut self) -> Result<()> {
        let sink = std::mem::replace(&mut self.sink, Sink::Pending);
        let result = match sink {
            Sink::Csv(mut w) => w.flush().map_err(|e| e.to_string()),
            Sink::Parquet(w) => w.close().map(drop).map_err(|e| e.to_string()),
            Sink::Ipc(mut w) => w.finish().map_err(|e| e.to_string()),
            Sink::Pending => {
                // No batch at all (a header-only CSV): still write the header.
                if self.format == Format::Csv {
                    self.csv_with_header()?.flush().map_err(|e| e.to_string())
                } else {
                    Err("the input has no rows to write".to_string())
                }
            }
        };
        result.map_err(|e| self.error(e))?;
        self.atomic.commit()
    }
}

fn replace_columns(
    batch: &RecordBatch,
    replacements: &[Replacement],
) -> std::result::Result<RecordBatch, String> {
    let schema = batch.schema();
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    for r in replacements {
        let array: Float64Array = match &r.valid {
            None => Float64Array::from(r.values.clone()),
            Some(valid) => r
                .values
                .iter()
                .zip(valid)
                .map(|(&v, &ok)| ok.then_some(v))
                .collect(),
        };
        columns[r.index] = Arc::new(array);
        fields[r.index] = Field::new(fields[r.index].name(), DataType::Float64, true);
    }
    let schema: SchemaRef = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    RecordBatch::try_new(schema, columns).map_err(|e| e.to_string())
}
