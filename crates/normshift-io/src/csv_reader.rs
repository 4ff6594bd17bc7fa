//! CSV in batches, with the line of every record kept for error messages.

use crate::{Batch, ColumnChunk, ColumnInfo, ColumnKind, Error, RawBatch, ReadOptions, Result};
use std::collections::VecDeque;
use std::fs::File;
use std::path::{Path, PathBuf};

/// Field values read as missing in any column.
pub(crate) const MISSING_TOKENS: &[&str] = &["", "NA", "N/A", "null", "NULL", "None"];

fn is_missing(field: &str) -> bool {
    MISSING_TOKENS.contains(&field.trim())
}

fn parse_number(field: &str) -> Option<f64> {
    // Rust's parser takes `NaN`, `inf`, `-infinity`, and `1e400` (→ inf): non-finite values are
    // values, counted as such by the profile, never silently dropped.
    field.trim().parse::<f64>().ok()
}

pub(crate) struct CsvBatches {
    path: PathBuf,
    reader: csv::Reader<std::io::BufReader<File>>,
    header: Vec<String>,
    kinds: Vec<Option<crate::ColumnKind>>,
    pending: VecDeque<(u64, csv::StringRecord)>,
    batch_rows: usize,
    done: bool,
}

impl CsvBatches {
    pub(crate) fn open(
        path: &Path,
        file: File,
        delimiter: u8,
        options: &ReadOptions,
    ) -> Result<Self> {
        let reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(std::io::BufReader::with_capacity(1 << 20, file));
        let mut this = Self {
            path: path.to_path_buf(),
            reader,
            header: Vec::new(),
            kinds: Vec::new(),
            pending: VecDeque::new(),
            batch_rows: options.batch_rows.max(1),
            done: false,
        };
        let Some((_, header)) = this.read_record()? else {
            return Err(Error::schema(
                path,
                "the file is empty: expected a header row naming the columns",
            ));
        };
        this.header = header.iter().map(|h| h.trim().to_string()).collect();
        if let Some(first) = this.header.first_mut() {
            // A UTF-8 byte-order mark from spreadsheet exports is not part of the name.
            *first = first.trim_start_matches('\u{feff}').to_string();
        }
        this.batch_rows = crate::reader::capped_batch_rows(this.batch_rows, this.header.len());
        if let Some(i) = this.header.iter().position(|h| h.is_empty()) {
            return Err(Error::Csv {
                path: path.to_path_buf(),
                line: 1,
                column: None,
                message: format!("column {} has an empty name", i + 1),
            });
        }
        while this.pending.len() < options.infer_rows.max(1) {
            match this.read_record()? {
                Some(record) => this.pending.push_back(record),
                None => break,
            }
        }
        this.kinds = (0..this.header.len())
            .map(|i| {
                let numeric = this.pending.iter().all(|(_, r)| {
                    let f = r.get(i).unwrap_or("");
                    is_missing(f) || parse_number(f).is_some()
                });
                Some(if numeric {
                    ColumnKind::Numeric
                } else {
                    ColumnKind::Categorical
                })
            })
            .collect();
        Ok(this)
    }

    pub(crate) fn header(&self) -> &[String] {
        &self.header
    }

    pub(crate) fn kinds(&self) -> &[Option<ColumnKind>] {
        &self.kinds
    }

    fn error(&self, line: u64, column: Option<&str>, message: String) -> Error {
        Error::Csv {
            path: self.path.clone(),
            line,
            column: column.map(str::to_owned),
            message,
        }
    }

    /// The next record with the line it starts on, checked for UTF-8 and field count.
    fn read_record(&mut self) -> Result<Option<(u64, csv::StringRecord)>> {
        if self.done {
            return Ok(None);
        }
        let mut bytes = csv::ByteRecord::new();
        match self.reader.read_byte_record(&mut bytes) {
            Ok(false) => {
                self.done = true;
                Ok(None)
            }
            Ok(true) => {
                let line = bytes.position().map_or(0, |p| p.line());
                let record = match csv::StringRecord::from_byte_record(bytes) {
                    Ok(r) => r,
                    Err(e) => {
                        let field = e.utf8_error().field();
                        let column = self.header.get(field).cloned();
                        return Err(self.error(
                            line,
                            column.as_deref(),
                            format!("field {} is not valid UTF-8", field + 1),
                        ));
                    }
                };
                if !self.header.is_empty() && record.len() != self.header.len() {
                    return Err(self.error(
                        line,
                        None,
                        format!(
                            "this row has {} fields but the header has {}",
                            record.len(),
                            self.header.len()
                        ),
                    ));
                }
                Ok(Some((line, record)))
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                Err(self.error(line, None, e.to_string()))
            }
        }
    }

    pub(crate) fn next_batch(
        &mut self,
        columns: &[ColumnInfo],
        first_row: u64,
    ) -> Result<Option<Batch>> {
        let mut records = Vec::with_capacity(self.batch_rows.min(self.pending.len().max(1024)));
        while records.len() < self.batch_rows {
            let next = match self.pending.pop_front() {
                Some(r) => Some(r),
                None => self.read_record()?,
            };
            match next {
                Some(r) => records.push(r),
                None => break,
            }
        }
        if records.is_empty() {
            return Ok(None);
        }
        let mut chunks = Vec::with_capacity(columns.len());
        for column in columns {
            chunks.push(match column.kind {
                ColumnKind::Numeric => {
                    let mut values = Vec::with_capacity(records.len());
                    let mut valid = Vec::with_capacity(records.len());
                    for (line, record) in &records {
                        let field = &record[column.index];
                        if is_missing(field) {
                            values.push(0.0);
                            valid.push(false);
                        } else if let Some(v) = parse_number(field) {
                            values.push(v);
                            valid.push(true);
                        } else {
                            return Err(self.error(
                                *line,
                                Some(&column.name),
                                format!(
                                    "'{field}' is not a number, but the column looked numeric in its first rows; \
                                     read it as categories with --categorical '{}'",
                                    column.name
                                ),
                            ));
                        }
                    }
                    let valid = if valid.iter().all(|&v| v) { None } else { Some(valid) };
                    ColumnChunk::Numeric { values, valid }
                }
                ColumnKind::Categorical => ColumnChunk::Categorical(
                    records
                        .iter()
                        .map(|(_, r)| {
                            let f = &r[column.index];
                            (!is_missing(f)).then(|| f.to_string())
                        })
                        .collect(),
                ),
            });
        }
        let rows = records.len();
        Ok(Some(Batch {
            first_row,
            rows,
            columns: chunks,
            raw: RawBatch::Csv(records),
        }))
    }
}
