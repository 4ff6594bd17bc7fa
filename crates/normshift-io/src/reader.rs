use crate::arrow_columns::{arrow_kind, convert_column};
use crate::csv_reader::CsvBatches;
use crate::{Error, Part, Result};
use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, SchemaRef};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::metadata::ParquetMetaData;
use parquet::file::properties::WriterProperties;
use std::fs::File;
use std::path::{Path, PathBuf};

/// A file format normshift reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Comma (or other delimiter) separated values with a header row.
    Csv,
    /// Apache Parquet.
    Parquet,
    /// Arrow IPC file (`.arrow`, `.feather` v2, `.ipc`).
    ArrowIpc,
}

impl Format {
    /// The format a path's extension names (`.csv`/`.tsv`/`.txt`, `.parquet`/`.pq`,
    /// `.arrow`/`.feather`/`.ipc`), if any.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "tsv" | "txt" => Some(Format::Csv),
            "parquet" | "pq" => Some(Format::Parquet),
            "arrow" | "feather" | "ipc" => Some(Format::ArrowIpc),
            _ => None,
        }
    }
}

/// Cells (rows × columns of the file) per batch at most: a batch of a very wide file holds
/// fewer rows than `batch_rows`, so memory per batch stays near `MAX_BATCH_CELLS` values
/// (tens of MB) instead of growing with the width (65,536 rows × 5,000 columns would be
/// 2.6 GB as `f64`).
pub const MAX_BATCH_CELLS: usize = 1 << 21;

/// Rows per batch for a file of `columns` columns: `batch_rows`, capped so a batch has at
/// most [`MAX_BATCH_CELLS`] cells, and at least 1.
pub fn capped_batch_rows(batch_rows: usize, columns: usize) -> usize {
    batch_rows.min(MAX_BATCH_CELLS / columns.max(1)).max(1)
}

/// How to read a file.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Format; `None` means from the extension.
    pub format: Option<Format>,
    /// CSV delimiter (default `,`; `\t` for `.tsv` when left at the default).
    pub delimiter: Option<u8>,
    /// Rows per batch (default 65,536), capped for wide files by [`capped_batch_rows`].
    pub batch_rows: usize,
    /// Only these columns (default: all).
    pub columns: Option<Vec<String>>,
    /// Leave these columns out.
    pub exclude: Vec<String>,
    /// Treat these columns as categorical even if they look numeric.
    pub categorical: Vec<String>,
    /// CSV rows sampled to decide whether a column is numeric (default 1,000).
    pub infer_rows: usize,
    /// Bytes a CSV row may take before reading stops with an error (default 256 MiB): a quote
    /// that is never closed would otherwise read the rest of a file larger than memory into
    /// one field. A row's length is counted without its line break; every row and the header
    /// are checked, with or without quotes.
    pub max_row_bytes: u64,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            format: None,
            delimiter: None,
            batch_rows: 65_536,
            columns: None,
            exclude: Vec::new(),
            categorical: Vec::new(),
            infer_rows: 1000,
            max_row_bytes: 256 << 20,
        }
    }
}

/// How a CSV file is written: what [`BatchWriter`](crate::BatchWriter) repeats in an output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CsvStyle {
    /// Field delimiter.
    pub delimiter: u8,
    /// Lines end in `\r\n` (judged by the header line).
    pub crlf: bool,
    /// The file starts with a UTF-8 byte-order mark.
    pub bom: bool,
}

impl Default for CsvStyle {
    fn default() -> Self {
        Self {
            delimiter: b',',
            crlf: false,
            bom: false,
        }
    }
}

/// Whether a column is treated as numbers or as categories.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ColumnKind {
    /// Integers, floats, decimals: read as `f64`.
    Numeric,
    /// Strings and booleans.
    Categorical,
}

/// A selected column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnInfo {
    /// Name from the header or schema.
    pub name: String,
    /// How it is read.
    pub kind: ColumnKind,
    /// Position in the file (0-based).
    pub index: usize,
}

/// One selected column's values in a batch.
#[derive(Clone, Debug, PartialEq)]
pub enum ColumnChunk {
    /// Numbers. `valid[i] == false` marks a missing value (its `values[i]` is meaningless);
    /// `valid = None` means nothing is missing. NaN and ±inf are values, not missing.
    Numeric {
        /// The values.
        values: Vec<f64>,
        /// Validity mask, if anything is missing.
        valid: Option<Vec<bool>>,
    },
    /// Category labels; `None` is missing.
    Categorical(Vec<Option<String>>),
}

/// The batch as read, for writers that pass unselected columns through unchanged.
#[derive(Clone, Debug)]
pub enum RawBatch {
    /// CSV records, each with the line it starts on.
    Csv(crate::CsvRecords),
    /// An Arrow record batch (Parquet, IPC) with every column of the file.
    Arrow(RecordBatch),
}

/// Up to `batch_rows` rows of a file.
#[derive(Clone, Debug)]
pub struct Batch {
    /// Index of the batch's first row among the file's data rows (0-based).
    pub first_row: u64,
    /// Rows in this batch.
    pub rows: usize,
    /// The selected columns, in the order of [`Reader::columns`].
    pub columns: Vec<ColumnChunk>,
    /// The raw rows.
    pub raw: RawBatch,
}

/// An open file: its selected columns, and an iterator over its batches.
pub struct Reader {
    path: PathBuf,
    format: Format,
    columns: Vec<ColumnInfo>,
    header: Vec<String>,
    /// See [`Reader::output_header`].
    output_header: Vec<String>,
    /// The Arrow schema of a Parquet or Arrow IPC input.
    arrow_schema: Option<SchemaRef>,
    /// Whether an Arrow IPC input is a stream rather than a file.
    ipc_stream: bool,
    /// How a Parquet output like this Parquet input is written.
    parquet_properties: Option<WriterProperties>,
    /// The compression of an Arrow IPC input's first record batch.
    ipc_compression: Option<arrow_ipc::CompressionType>,
    bytes: u64,
    inner: Inner,
    next_row: u64,
    skipped: Vec<String>,
}

enum Inner {
    Csv(Box<CsvBatches>),
    Parquet {
        groups: std::vec::IntoIter<usize>,
        file: File,
        batch_rows: usize,
        current: Option<(
            usize,
            parquet::arrow::arrow_reader::ParquetRecordBatchReader,
        )>,
    },
    Ipc {
        /// The batches of an IPC file, or of an IPC stream.
        reader: Box<dyn Iterator<Item = std::result::Result<RecordBatch, ArrowError>> + Send>,
        index: usize,
    },
    Done,
}

thread_local! {
    /// Set while this thread runs a decoder of another crate on the user's bytes.
    static DECODING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// This machine's memory in bytes (`MemTotal`), or `u64::MAX` where it cannot be read.
fn memory_bytes() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            kib.checked_mul(1024)
        })
        .unwrap_or(u64::MAX)
}

/// Whether this thread is running arrow-ipc's or parquet's decoder on a file's bytes, where a
/// panic means a damaged file and becomes an error naming it: a panic hook can stay quiet
/// then instead of reporting a bug in normshift.
pub fn decoding_foreign_data() -> bool {
    DECODING.with(std::cell::Cell::get)
}

/// Runs `f` (which decodes file bytes with arrow-ipc or parquet) with panics caught, as their
/// message.
fn decoding<T>(f: impl FnOnce() -> T) -> std::result::Result<T, String> {
    let was = DECODING.with(|d| d.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    DECODING.with(|d| d.set(was));
    result.map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".to_string())
    })
}

/// The error text for a decoder that panicked on a file of `format`.
fn damaged(format: Format, panic: &str) -> String {
    let decoder = match format {
        Format::Parquet => "Parquet",
        _ => "Arrow IPC",
    };
    format!("damaged file: the {decoder} decoder failed on it ({panic})")
}

/// Opens `path` and decides which columns to read. Reads only what it needs to decide
/// (a Parquet footer, an IPC schema, the first `infer_rows` CSV rows).
pub fn open(path: &Path, options: &ReadOptions) -> Result<Reader> {
    let format = match options.format.or_else(|| Format::from_path(path)) {
        Some(f) => f,
        None => {
            return Err(Error::schema(path, "cannot tell the format from the extension; use .csv, .parquet or .arrow, or pass --format"))
        }
    };
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let metadata = file.metadata().map_err(|e| Error::io(path, e))?;
    if metadata.is_dir() {
        return Err(Error::schema(path, "is a directory, not a data file"));
    }
    let bytes = metadata.len();
    let columnar = |message: String| Error::Columnar {
        path: path.to_path_buf(),
        part: None,
        message,
    };
    let mut output_header = None;
    let mut arrow_schema = None;
    let mut ipc_stream = false;
    let mut parquet_properties = None;
    let mut ipc_compression = None;
    // arrow-ipc and parquet panic on some damaged files (a buffer offset past the data, found
    // by fuzzing): what they decode is opened and read under `decoding`. CSV is read by our
    // own code, whose panics are bugs and must say so.
    let open_format = || -> Result<_> {
        Ok(match format {
            Format::Csv => {
                let delimiter = options.delimiter.unwrap_or(
                    if path
                        .extension()
                        .is_some_and(|e| e.eq_ignore_ascii_case("tsv"))
                    {
                        b'\t'
                    } else {
                        b','
                    },
                );
                let csv = CsvBatches::open(path, file, delimiter, options)?;
                output_header = Some(csv.raw_header().to_vec());
                (
                    csv.header().to_vec(),
                    csv.kinds().to_vec(),
                    Inner::Csv(Box::new(csv)),
                )
            }
            // Parquet's index is at the end of the file, so a pipe cannot be read as Parquet
            // (its own message, "file size of 0 is less than footer", would not say why).
            Format::Parquet if !metadata.is_file() => {
                return Err(Error::schema(
                    path,
                    "is a pipe or device, and Parquet can only be read from a file (its index is \
                 at the end): save the data to a file first, or send CSV or an Arrow IPC stream",
                ));
            }
            // A pipe can hold an IPC stream (batches one after another), not an IPC file (whose
            // footer is at the end), and it cannot be rewound after trying the file format.
            Format::ArrowIpc if !metadata.is_file() => {
                // Checked message by message: a pipe cannot be probed ahead as a file is.
                let stream = crate::ipc_probe::CheckedStream::new(
                    std::io::BufReader::new(file),
                    memory_bytes(),
                )
                .map_err(|e| {
                    columnar(format!(
                        "not a readable Arrow IPC stream (from a pipe or device only the stream \
                         format can be read, not the IPC file format): {e}"
                    ))
                })?;
                ipc_stream = true;
                arrow_schema = Some(stream.schema());
                let (header, kinds) = schema_columns(&stream.schema());
                (
                    header,
                    kinds,
                    Inner::Ipc {
                        reader: Box::new(stream),
                        index: 0,
                    },
                )
            }
            Format::Parquet => {
                let builder = ParquetRecordBatchReaderBuilder::try_new(
                    file.try_clone().map_err(|e| Error::io(path, e))?,
                )
                .map_err(|e| {
                    columnar(format!(
                    "not a readable Parquet file (truncated or damaged footer, or not Parquet): {e}"
                ))
                })?;
                let groups: Vec<usize> = (0..builder.metadata().num_row_groups()).collect();
                parquet_properties = Some(writer_properties_like(builder.metadata()));
                arrow_schema = Some(builder.schema().clone());
                let (header, kinds) = schema_columns(builder.schema());
                let inner = Inner::Parquet {
                    groups: groups.into_iter(),
                    file,
                    batch_rows: capped_batch_rows(options.batch_rows, header.len()),
                    current: None,
                };
                (header, kinds, inner)
            }
            Format::ArrowIpc => {
                let mut file = file;
                // arrow-ipc allocates what a compressed buffer declares before checking it
                // (LZ4: infallibly, so a damaged size aborts the process); the same pass
                // finds the compression an output like this input gets.
                ipc_compression =
                    crate::ipc_probe::probe(&mut file, memory_bytes()).map_err(columnar)?;
                std::io::Seek::rewind(&mut file).map_err(|e| Error::io(path, e))?;
                // The IPC file format (a footer indexes the batches) or, failing that, the
                // stream format (batches one after another, as `pyarrow.ipc.new_stream` writes).
                let (schema, reader): (SchemaRef, Box<dyn Iterator<Item = _> + Send>) =
                    match arrow_ipc::reader::FileReader::try_new(
                        file.try_clone().map_err(|e| Error::io(path, e))?,
                        None,
                    ) {
                        Ok(reader) => (reader.schema(), Box::new(reader)),
                        Err(file_error) => {
                            let stream = std::io::Seek::rewind(&mut file)
                                .map_err(|e| Error::io(path, e))
                                .and_then(|()| {
                                    arrow_ipc::reader::StreamReader::try_new(
                                        std::io::BufReader::new(file),
                                        None,
                                    )
                                    .map_err(|_| {
                                        columnar(format!(
                                            "not a readable Arrow IPC file or stream: {file_error}"
                                        ))
                                    })
                                })?;
                            ipc_stream = true;
                            (stream.schema(), Box::new(stream))
                        }
                    };
                arrow_schema = Some(schema.clone());
                let (header, kinds) = schema_columns(&schema);
                (header, kinds, Inner::Ipc { reader, index: 0 })
            }
        })
    };
    let opened = if format == Format::Csv {
        open_format()
    } else {
        decoding(open_format).unwrap_or_else(|panic| Err(columnar(damaged(format, &panic))))
    };
    let (header, kinds, inner) = opened?;
    let (columns, skipped) = select_columns(path, &header, &kinds, options)?;
    Ok(Reader {
        output_header: output_header.unwrap_or_else(|| header.clone()),
        arrow_schema,
        parquet_properties,
        ipc_stream,
        ipc_compression,
        path: path.to_path_buf(),
        format,
        columns,
        skipped,
        header,
        bytes,
        inner,
        next_row: 0,
    })
}

/// Writer settings that keep what a Parquet file's first row group says about how it was
/// written: each column's compression codec (a replaced column keeps its name, so its codec
/// too); the first column's codec for anything else. A codec's level is not recorded in a
/// Parquet file, so levels are the codec's default.
/// Encoded bytes an output row group may reach: the Parquet writer buffers a whole row group,
/// so its memory is bounded by this and not by the file.
pub const MAX_OUTPUT_GROUP_BYTES: usize = 64 << 20;

fn writer_properties_like(metadata: &ParquetMetaData) -> WriterProperties {
    // Row groups no larger than the input's, nor than the byte limit: with parquet-rs's
    // default (1,048,576 rows) a 200k-row, 100-column file of 50k-row groups took 547 MB.
    let largest = metadata
        .row_groups()
        .iter()
        .map(|g| usize::try_from(g.num_rows()).unwrap_or(usize::MAX))
        .max()
        .unwrap_or(1);
    let mut properties = WriterProperties::builder()
        .set_max_row_group_row_count(Some(largest.max(1)))
        .set_max_row_group_bytes(Some(MAX_OUTPUT_GROUP_BYTES));
    if let Some(group) = metadata.row_groups().first() {
        if let Some(first) = group.columns().first() {
            properties = properties.set_compression(first.compression());
        }
        for column in group.columns() {
            properties = properties
                .set_column_compression(column.column_path().clone(), column.compression());
        }
    }
    properties.build()
}

fn schema_columns(schema: &SchemaRef) -> (Vec<String>, Vec<Option<ColumnKind>>) {
    schema
        .fields()
        .iter()
        .map(|f| (f.name().clone(), arrow_kind(f.data_type())))
        .unzip()
}

/// Applies `columns`, `exclude` and `categorical`; refuses duplicates and unknown names.
/// Returns the columns to read and the names of those left out for their type.
fn select_columns(
    path: &Path,
    header: &[String],
    kinds: &[Option<ColumnKind>],
    options: &ReadOptions,
) -> Result<(Vec<ColumnInfo>, Vec<String>)> {
    if header.is_empty() {
        return Err(Error::schema(path, "the file has no columns"));
    }
    let mut seen = std::collections::HashSet::new();
    for name in header {
        if !seen.insert(name.as_str()) {
            return Err(Error::schema(
                path,
                format!("column name '{name}' appears more than once; names must be unique"),
            ));
        }
    }
    let find = |name: &str| header.iter().position(|h| h == name);
    let mut asked = std::collections::HashSet::new();
    for name in options.columns.iter().flatten() {
        if !asked.insert(name.as_str()) {
            return Err(Error::schema(
                path,
                format!("column '{name}' is named more than once in --columns"),
            ));
        }
    }
    for name in options
        .columns
        .iter()
        .flatten()
        .chain(&options.exclude)
        .chain(&options.categorical)
    {
        if find(name).is_none() {
            return Err(Error::schema(
                path,
                format!("no column named '{name}' (columns: {})", header.join(", ")),
            ));
        }
    }
    let wanted: Vec<usize> = match &options.columns {
        Some(names) => names.iter().filter_map(|n| find(n)).collect(),
        None => (0..header.len()).collect(),
    };
    let mut columns = Vec::new();
    let mut skipped = Vec::new();
    for index in wanted {
        let name = &header[index];
        if options.exclude.contains(name) {
            continue;
        }
        let kind = if options.categorical.contains(name) {
            if kinds[index].is_none() {
                return Err(Error::schema(
                    path,
                    format!(
                        "--categorical '{name}': the column has a type normshift cannot compare \
                         (only numbers, strings, booleans), as categories or otherwise"
                    ),
                ));
            }
            Some(ColumnKind::Categorical)
        } else {
            kinds[index]
        };
        match kind {
            Some(kind) => columns.push(ColumnInfo { name: name.clone(), kind, index }),
            // Unsupported types (dates, lists…) are skipped unless asked for by name.
            None if options.columns.is_some() => {
                return Err(Error::schema(path, format!("column '{name}' has a type normshift cannot compare (only numbers, strings, booleans)")))
            }
            None => skipped.push(name.clone()),
        }
    }
    if columns.is_empty() {
        return Err(Error::schema(
            path,
            "no numeric or categorical columns selected",
        ));
    }
    Ok((columns, skipped))
}

impl Reader {
    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The selected columns.
    pub fn columns(&self) -> &[ColumnInfo] {
        &self.columns
    }

    /// Columns left out because normshift cannot compare their type (dates, times, lists,
    /// structs, binary…); naming one in `columns` is an error instead.
    pub fn skipped(&self) -> &[String] {
        &self.skipped
    }

    /// How a CSV file is written (`None` for Parquet and Arrow), so an output can match it.
    pub fn csv_style(&self) -> Option<CsvStyle> {
        match &self.inner {
            Inner::Csv(csv) => Some(csv.style()),
            _ => None,
        }
    }

    /// Every column name of the file, selected or not, in file order, as columns are matched
    /// and reported: trimmed, and for CSV an empty name called `Unnamed: i` (as pandas does).
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// The Arrow schema of a Parquet or Arrow IPC input (`None` for CSV).
    pub fn arrow_schema(&self) -> Option<SchemaRef> {
        self.arrow_schema.clone()
    }

    /// For a Parquet input, writer settings that write a Parquet output as the input was
    /// written (each column's compression codec, row groups no larger than the input's nor
    /// than [`MAX_OUTPUT_GROUP_BYTES`]); `None` for other formats.
    pub fn parquet_writer_properties(&self) -> Option<WriterProperties> {
        self.parquet_properties.clone()
    }

    /// For an Arrow IPC input read from a file, writer options that compress an Arrow output
    /// as the input's first record batch is compressed (LZ4 frame or zstd); `None` for other
    /// formats, and for an input read from a pipe (which cannot be looked at ahead of reading).
    pub fn ipc_write_options(&self) -> Option<arrow_ipc::writer::IpcWriteOptions> {
        arrow_ipc::writer::IpcWriteOptions::default()
            .try_with_compression(self.ipc_compression)
            .ok()
            .filter(|_| self.ipc_compression.is_some())
    }

    /// Whether the input is an Arrow IPC *stream* (batches one after another, no footer)
    /// rather than an IPC file.
    pub fn is_ipc_stream(&self) -> bool {
        self.ipc_stream
    }

    /// The column names an output of the same format writes: for CSV the header row exactly
    /// as the file has it (spaces and empty names kept), otherwise [`header`](Self::header).
    pub fn output_header(&self) -> &[String] {
        &self.output_header
    }

    /// File size in bytes (for progress display).
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    fn columnar_error(&self, part: Option<Part>, message: String) -> Error {
        Error::Columnar {
            path: self.path.clone(),
            part,
            message,
        }
    }

    fn next_arrow(&mut self) -> Option<Result<(Option<Part>, RecordBatch)>> {
        loop {
            match &mut self.inner {
                Inner::Parquet {
                    groups,
                    file,
                    batch_rows,
                    current,
                } => {
                    if let Some((group, reader)) = current {
                        let group = *group;
                        match reader.next() {
                            Some(Ok(batch)) => {
                                return Some(Ok((Some(Part::RowGroup(group)), batch)))
                            }
                            Some(Err(e)) => {
                                let message = match self.damaged_column(group) {
                                    Some(name) => format!("column '{name}': {e}"),
                                    None => e.to_string(),
                                };
                                return Some(Err(
                                    self.columnar_error(Some(Part::RowGroup(group)), message)
                                ));
                            }
                            None => *current = None,
                        }
                        continue;
                    }
                    let group = groups.next()?;
                    let batch_rows = *batch_rows;
                    let built = file
                        .try_clone()
                        .map_err(|e| e.to_string())
                        .and_then(|f| {
                            ParquetRecordBatchReaderBuilder::try_new(f).map_err(|e| e.to_string())
                        })
                        .and_then(|b| {
                            b.with_row_groups(vec![group])
                                .with_batch_size(batch_rows)
                                .build()
                                .map_err(|e| e.to_string())
                        });
                    match built {
                        Ok(reader) => {
                            if let Inner::Parquet { current, .. } = &mut self.inner {
                                *current = Some((group, reader));
                            }
                        }
                        Err(message) => {
                            let message = match self.damaged_column(group) {
                                Some(name) => format!("column '{name}': {message}"),
                                None => message,
                            };
                            return Some(Err(
                                self.columnar_error(Some(Part::RowGroup(group)), message)
                            ));
                        }
                    }
                }
                Inner::Ipc { reader, index } => {
                    let i = *index;
                    *index += 1;
                    let part = Some(Part::RecordBatch(i));
                    return match reader.next()? {
                        Ok(batch) => Some(Ok((part, batch))),
                        Err(e) => Some(Err(self.columnar_error(part, e.to_string()))),
                    };
                }
                Inner::Csv(_) | Inner::Done => return None,
            }
        }
    }
}

impl Reader {
    /// The row group or record batch `next_arrow` reads next (for an error raised inside it).
    fn part_being_read(&self) -> Option<Part> {
        match &self.inner {
            Inner::Parquet {
                current: Some((group, _)),
                ..
            } => Some(Part::RowGroup(*group)),
            Inner::Parquet { groups, .. } => groups.as_slice().first().map(|&g| Part::RowGroup(g)),
            // `next_arrow` counted the batch before asking for it.
            Inner::Ipc { index, .. } => Some(Part::RecordBatch(index.saturating_sub(1))),
            _ => None,
        }
    }

    /// After a row group failed to decode: the first selected column that fails on its own,
    /// so the error can name it (a damaged page belongs to one column chunk). Reads that
    /// row group once more, column by column; `None` if every column reads alone.
    fn damaged_column(&self, group: usize) -> Option<String> {
        let Inner::Parquet { file, .. } = &self.inner else {
            return None;
        };
        self.columns.iter().find_map(|column| {
            let fails = (|| -> std::result::Result<bool, parquet::errors::ParquetError> {
                let builder = ParquetRecordBatchReaderBuilder::try_new(file.try_clone()?)?;
                let mask =
                    parquet::arrow::ProjectionMask::roots(builder.parquet_schema(), [column.index]);
                let reader = builder
                    .with_row_groups(vec![group])
                    .with_projection(mask)
                    .build()?;
                for batch in reader {
                    if batch.is_err() {
                        return Ok(true);
                    }
                }
                Ok(false)
            })();
            matches!(fails, Ok(true) | Err(_)).then(|| column.name.clone())
        })
    }
}

impl Iterator for Reader {
    type Item = Result<Batch>;

    fn next(&mut self) -> Option<Result<Batch>> {
        let result = match &mut self.inner {
            Inner::Done => return None,
            Inner::Csv(csv) => {
                let batch = csv.next_batch(&self.columns, self.next_row);
                match batch {
                    Ok(Some(b)) => Ok(b),
                    Ok(None) => {
                        self.inner = Inner::Done;
                        return None;
                    }
                    Err(e) => Err(e),
                }
            }
            Inner::Parquet { .. } | Inner::Ipc { .. } => match decoding(|| self.next_arrow())
                .unwrap_or_else(|panic| {
                    let part = self.part_being_read();
                    Some(Err(self.columnar_error(part, damaged(self.format, &panic))))
                }) {
                None => {
                    self.inner = Inner::Done;
                    return None;
                }
                Some(Err(e)) => Err(e),
                Some(Ok((part, record_batch))) => {
                    let columns: Result<Vec<ColumnChunk>> = self
                        .columns
                        .iter()
                        .map(|c| {
                            convert_column(record_batch.column(c.index), c.kind).map_err(|m| {
                                self.columnar_error(part, format!("column '{}': {m}", c.name))
                            })
                        })
                        .collect();
                    columns.map(|columns| Batch {
                        first_row: self.next_row,
                        rows: record_batch.num_rows(),
                        columns,
                        raw: RawBatch::Arrow(record_batch),
                    })
                }
            },
        };
        match &result {
            Ok(b) => self.next_row += b.rows as u64,
            Err(_) => self.inner = Inner::Done,
        }
        Some(result)
    }
}
