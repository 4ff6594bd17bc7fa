//! CSV in batches, with the line of every record kept for error messages.

use crate::{Batch, ColumnChunk, ColumnInfo, ColumnKind, Error, RawBatch, ReadOptions, Result};
use rayon::prelude::*;
use std::collections::VecDeque;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Field values read as missing in any column.
pub(crate) const MISSING_TOKENS: &[&str] = &["", "NA", "N/A", "null", "NULL", "None"];

/// `true` or `false` for a field that spells one of them in any letter case (`True` from
/// pandas, `TRUE` from R and spreadsheets, `true`), as Parquet and Arrow booleans read, so a
/// boolean column has the same categories in every format.
fn boolean_label(field: &str) -> Option<&'static str> {
    let field = field.trim();
    if field.eq_ignore_ascii_case("true") {
        Some("true")
    } else if field.eq_ignore_ascii_case("false") {
        Some("false")
    } else {
        None
    }
}

/// `field.trim()`, without its cost in the common case: a field whose first and last bytes
/// are ASCII and not whitespace is already trimmed (Unicode whitespace outside ASCII starts
/// and ends with a byte >= 0x80). `str::trim` walks characters from both ends, and was about
/// a tenth of the time of reading a numeric CSV.
fn trimmed(field: &str) -> &str {
    let plain = |b: u8| b.is_ascii() && !matches!(b, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ');
    match field.as_bytes() {
        [] => field,
        [first, .., last] if plain(*first) && plain(*last) => field,
        [only] if plain(*only) => field,
        _ => field.trim(),
    }
}

/// Whether an already trimmed field is one of [`MISSING_TOKENS`] (each is empty or starts
/// with `N` or `n`, which no number does but `NaN`, so most fields need one comparison).
fn is_missing_trimmed(field: &str) -> bool {
    match field.as_bytes().first() {
        None => true,
        Some(b'N' | b'n') => MISSING_TOKENS.contains(&field),
        Some(_) => false,
    }
}

fn is_missing(field: &str) -> bool {
    is_missing_trimmed(trimmed(field))
}

fn parse_number(field: &str) -> Option<f64> {
    // Rust's parser takes `NaN`, `inf`, `-infinity`, and `1e400` (→ inf): non-finite values are
    // values, counted as such by the profile, never silently dropped.
    trimmed(field).parse::<f64>().ok()
}

pub(crate) struct CsvBatches {
    path: PathBuf,
    /// The file is read once, front to back, and never opened again: it may be a pipe.
    reader: csv::Reader<RowLimit>,
    /// Column names as matched: trimmed, an empty one called `Unnamed: i`.
    header: Vec<String>,
    /// The header row as the file has it (without a byte-order mark), for outputs.
    raw_header: Vec<String>,
    kinds: Vec<Option<crate::ColumnKind>>,
    /// Per column: every value sampled is `true` or `false` in some letter case.
    booleans: Vec<bool>,
    pending: VecDeque<(u64, csv::StringRecord)>,
    batch_rows: usize,
    done: bool,
    delimiter: u8,
    /// Whether a record has been read (for the check at the end).
    any_record: bool,
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
            .buffer_capacity(1 << 20)
            .from_reader(RowLimit {
                file,
                read: 0,
                record_start: 0,
                max_row_bytes: options.max_row_bytes,
                head: Vec::new(),
                kept: Vec::new(),
                kept_from: 0,
                mark: 0,
                mark_line: 1,
            });
        let mut this = Self {
            path: path.to_path_buf(),
            reader,
            header: Vec::new(),
            raw_header: Vec::new(),
            kinds: Vec::new(),
            booleans: Vec::new(),
            pending: VecDeque::new(),
            batch_rows: options.batch_rows.max(1),
            done: false,
            delimiter,
            any_record: false,
        };
        let Some((_, header)) = this.read_record()? else {
            return Err(Error::schema(
                path,
                "the file is empty: expected a header row naming the columns",
            ));
        };
        this.raw_header = header.iter().map(str::to_string).collect();
        if let Some(first) = this.raw_header.first_mut() {
            // A UTF-8 byte-order mark from spreadsheet exports is not part of the name.
            *first = first.trim_start_matches('\u{feff}').to_string();
        }
        // Names are matched trimmed; an empty one (the index column pandas' `to_csv` writes)
        // is called `Unnamed: i`, as pandas' `read_csv` calls it.
        this.header = this
            .raw_header
            .iter()
            .enumerate()
            .map(|(i, h)| match h.trim() {
                "" => format!("Unnamed: {i}"),
                name => name.to_string(),
            })
            .collect();
        this.batch_rows = crate::reader::capped_batch_rows(this.batch_rows, this.header.len());
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
        this.booleans = (0..this.header.len())
            .map(|i| {
                let mut fields = this
                    .pending
                    .iter()
                    .map(|(_, r)| r.get(i).unwrap_or(""))
                    .filter(|f| !is_missing(f))
                    .peekable();
                fields.peek().is_some() && fields.all(|f| boolean_label(f).is_some())
            })
            .collect();
        Ok(this)
    }

    pub(crate) fn style(&self) -> crate::CsvStyle {
        // The first bytes say it: a byte-order mark, and how the header line ends. They were
        // kept as the file was read (a pipe cannot be read again).
        let head = &self.reader.get_ref().head;
        let crlf = head
            .iter()
            .position(|&b| b == b'\n')
            .is_some_and(|i| i > 0 && head[i - 1] == b'\r');
        crate::CsvStyle {
            delimiter: self.delimiter,
            crlf,
            bom: head.starts_with(b"\xEF\xBB\xBF"),
        }
    }

    pub(crate) fn header(&self) -> &[String] {
        &self.header
    }

    pub(crate) fn raw_header(&self) -> &[String] {
        &self.raw_header
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
                self.check_last_record_closed()?;
                Ok(None)
            }
            Ok(true) => {
                let next = self.reader.position().byte();
                // The csv crate's own line numbers are off after `\r\n`, lone `\r` and blank
                // lines: the line is counted from the bytes instead.
                let from = bytes.position().map_or(0, |p| p.byte());
                let limit = self.reader.get_mut();
                limit.record_start = next;
                let line = limit.line_of_record_at(from);
                self.any_record = true;
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
                // An I/O error has no position of its own: the record began where the
                // last one ended (after any blank lines).
                let after_last = self.reader.get_ref().record_start;
                let line = self.reader.get_mut().line_of_record_at(after_last);
                Err(self.error(line, None, e.to_string()))
            }
        }
    }

    /// The csv crate ends a quoted field that is never closed at the end of the file, so a
    /// stray quote would silently turn the rest of the file into one field of the last record.
    /// Only the last record can have swallowed the rest, so its raw bytes (kept by
    /// [`RowLimit`] as they were read; the file is not read again) are scanned for a quote
    /// still open at the end.
    fn check_last_record_closed(&self) -> Result<()> {
        if !self.any_record {
            return Ok(());
        }
        let limit = self.reader.get_ref();
        let line = limit.mark_line;
        match open_quote(limit.kept_since_mark(), self.delimiter) {
            None => Ok(()),
            Some((field, lines_in)) => Err(self.error(
                line + lines_in,
                self.header.get(field).map(String::as_str),
                format!(
                    "field {} opens a quote that is never closed: everything after it, to the \
                     end of the file, would be read as this one field",
                    field + 1
                ),
            )),
        }
    }

    /// One numeric column of a batch of records, parsed into `values` and `valid` (one
    /// entry per record; `valid[i] == false` marks a missing value).
    fn parse_numeric(
        &self,
        column: &ColumnInfo,
        records: &[(u64, csv::StringRecord)],
        values: &mut Vec<f64>,
        valid: &mut Vec<bool>,
    ) -> Result<()> {
        for (line, record) in records {
            let field = &record[column.index];
            let text = trimmed(field);
            if is_missing_trimmed(text) {
                values.push(0.0);
                valid.push(false);
            } else if let Ok(v) = text.parse::<f64>() {
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
        Ok(())
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
        // Numeric columns are parsed in parallel (reading records stays serial), into
        // buffers allocated here: allocated on the worker threads, they would spread over
        // glibc's per-thread arenas and double the peak memory (measured: 67 -> 107-134 MB
        // on a 300 MB CSV). The first error in column order is reported, as a serial pass
        // would report it.
        let n = records.len();
        let mut numeric: Vec<(Vec<f64>, Vec<bool>)> = columns
            .iter()
            .map(|c| match c.kind {
                ColumnKind::Numeric => (Vec::with_capacity(n), Vec::with_capacity(n)),
                ColumnKind::Categorical => (Vec::new(), Vec::new()),
            })
            .collect();
        let this = &*self;
        let parsed: Vec<Result<()>> = numeric
            .par_iter_mut()
            .zip(columns.par_iter())
            .map(|((values, valid), column)| match column.kind {
                ColumnKind::Numeric => this.parse_numeric(column, &records, values, valid),
                ColumnKind::Categorical => Ok(()),
            })
            .collect();
        parsed.into_iter().collect::<Result<()>>()?;
        let chunks = numeric
            .into_iter()
            .zip(columns)
            .map(|((values, valid), column)| match column.kind {
                ColumnKind::Numeric => {
                    let valid = if valid.iter().all(|&v| v) {
                        None
                    } else {
                        Some(valid)
                    };
                    ColumnChunk::Numeric { values, valid }
                }
                ColumnKind::Categorical => {
                    let boolean = self.booleans[column.index];
                    ColumnChunk::Categorical(
                        records
                            .iter()
                            .map(|(_, r)| {
                                let f = &r[column.index];
                                let label = boolean.then(|| boolean_label(f)).flatten();
                                (!is_missing(f))
                                    .then(|| label.map_or_else(|| f.to_string(), str::to_string))
                            })
                            .collect(),
                    )
                }
            })
            .collect();
        let rows = records.len();
        Ok(Some(Batch {
            first_row,
            rows,
            columns: chunks,
            raw: RawBatch::Csv(records),
        }))
    }
}

/// The file under the CSV reader, read once front to back (it may be a pipe), refusing to
/// feed one record more than `max_row_bytes`: the csv crate buffers a whole record, so a quote
/// that is never closed near the start of a file larger than memory would otherwise exhaust
/// it.
///
/// It also keeps the bytes from the start of the last record returned (the "mark") to where
/// reading has got, which is the current record plus at most one buffer of the csv reader:
/// from them the line of the next record is counted, and at the end of the file the last
/// record is checked for a quote left open.
struct RowLimit {
    file: File,
    /// Bytes read so far.
    read: u64,
    /// Where the record being read starts (at the latest), set by [`CsvBatches`].
    record_start: u64,
    max_row_bytes: u64,
    /// The first 64 KiB of the file, for [`CsvBatches::style`].
    head: Vec<u8>,
    /// The bytes from offset `kept_from` to `read`.
    kept: Vec<u8>,
    kept_from: u64,
    /// Offset where the last record returned starts, `kept_from <= mark <= read`.
    mark: u64,
    /// The line it starts on (1-based).
    mark_line: u64,
}

impl RowLimit {
    /// The bytes from the mark to where reading has got.
    fn kept_since_mark(&self) -> &[u8] {
        &self.kept[(self.mark - self.kept_from) as usize..]
    }

    /// The line of the record the csv reader found at byte `from` (its first byte follows
    /// any line breaks there, which the csv crate skips as blank lines), and moves the mark
    /// to that first byte. `from` must not lie before the mark.
    fn line_of_record_at(&mut self, from: u64) -> u64 {
        let from = from.clamp(self.mark, self.read);
        let kept = &self.kept[(self.mark - self.kept_from) as usize..];
        let skip = kept[(from - self.mark) as usize..]
            .iter()
            .take_while(|&&b| b == b'\n' || b == b'\r')
            .count();
        let start = (from - self.mark) as usize + skip;
        // Every `\n` and `\r` ends a line, except the `\n` of a `\r\n`. The mark is the
        // first byte of a record, never a line break, so no `\r\n` straddles it.
        let between = &kept[..start];
        // Most files have no `\r`: then counting `\n` is all (a compare-and-add the compiler
        // vectorizes; this runs once per record on the reading thread, which CSV waits on).
        let newlines: usize = between.iter().map(|&b| usize::from(b == b'\n')).sum();
        let breaks = if between.contains(&b'\r') {
            let cr = between.iter().filter(|&&b| b == b'\r').count();
            let crlf = between.windows(2).filter(|w| w == b"\r\n").count();
            newlines + cr - crlf
        } else {
            newlines
        };
        self.mark += start as u64;
        self.mark_line += breaks as u64;
        self.mark_line
    }
}

impl Read for RowLimit {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let row = self.read - self.record_start.min(self.read);
        if row > self.max_row_bytes {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "this row runs on for more than {} bytes (a quote that is never closed?); \
                     reading stopped",
                    self.max_row_bytes
                ),
            ));
        }
        // Bytes before the mark are no longer needed: drop them once per read (the csv
        // reader reads in blocks of 1 MiB), not once per record.
        self.kept.drain(..(self.mark - self.kept_from) as usize);
        self.kept_from = self.mark;
        let n = self.file.read(buf)?;
        self.read += n as u64;
        self.kept.extend_from_slice(&buf[..n]);
        if self.head.len() < 1 << 16 {
            let take = n.min((1 << 16) - self.head.len());
            self.head.extend_from_slice(&buf[..take]);
        }
        Ok(n)
    }
}

/// Scans the raw bytes of CSV records as the csv crate reads them (a quote is special only at
/// the start of a field; `""` inside quotes is a quote) and returns the field index and the
/// line (counted from the first, 0-based) of a quoted field still open at the end.
fn open_quote(raw: &[u8], delimiter: u8) -> Option<(usize, u64)> {
    #[derive(PartialEq)]
    enum State {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let (mut state, mut field, mut line) = (State::FieldStart, 0usize, 0u64);
    let mut opened = (0usize, 0u64);
    let mut prev = 0u8;
    for &b in raw {
        let newline = b == b'\n' || b == b'\r';
        // Lines as the csv crate counts them: `\r\n` is one.
        if newline && !(b == b'\n' && prev == b'\r') {
            line += 1;
        }
        prev = b;
        state = match state {
            State::Quoted if b == b'"' => State::QuoteInQuoted,
            State::Quoted => State::Quoted,
            State::QuoteInQuoted if b == b'"' => State::Quoted,
            _ if b == delimiter => {
                field += 1;
                State::FieldStart
            }
            _ if newline => {
                field = 0;
                State::FieldStart
            }
            State::FieldStart if b == b'"' => {
                opened = (field, line);
                State::Quoted
            }
            _ => State::Unquoted,
        };
    }
    (state == State::Quoted).then_some(opened)
}

#[cfg(test)]
mod tests {
    use super::{is_missing, open_quote, trimmed, MISSING_TOKENS};

    #[test]
    fn trimmed_is_str_trim_and_missing_is_the_token_list() {
        use rand::{Rng, SeedableRng};
        // Every character up to U+3100 (all of Unicode's whitespace but U+FEFF, which is not
        // whitespace) at either end, alone, around a number, and next to ASCII spaces.
        let mut fields: Vec<String> = Vec::new();
        for c in (0u32..0x3100).filter_map(char::from_u32) {
            for f in [
                format!("{c}"),
                format!("{c}1.5"),
                format!("1.5{c}"),
                format!("{c}NA{c}"),
                format!(" {c}"),
                format!("{c} "),
                format!("{c}{c}"),
            ] {
                fields.push(f);
            }
        }
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let alphabet = [
            " ", "\t", "\u{a0}", "\u{2003}", "\u{3000}", "N", "A", "1", "é", ".", "/",
        ];
        for _ in 0..20_000 {
            let len = rng.gen_range(0..6);
            fields.push(
                (0..len)
                    .map(|_| alphabet[rng.gen_range(0..alphabet.len())])
                    .collect(),
            );
        }
        fields.extend(MISSING_TOKENS.iter().map(|t| format!(" {t}\u{a0}")));
        for f in &fields {
            assert_eq!(trimmed(f), f.trim(), "{f:?}");
            assert_eq!(is_missing(f), MISSING_TOKENS.contains(&f.trim()), "{f:?}");
        }
    }

    #[test]
    fn quotes_left_open_are_found_and_closed_ones_are_not() {
        assert_eq!(open_quote(b"1,2\n", b','), None);
        assert_eq!(open_quote(b"1,\"2\"\n", b','), None);
        assert_eq!(open_quote(b"1,\"a\nb\"\n", b','), None);
        assert_eq!(open_quote(b"1,\"say \"\"hi\"\"\"\n", b','), None);
        // A quote inside an unquoted field is an ordinary character.
        assert_eq!(open_quote(b"12\" pipe,3\n", b','), None);
        assert_eq!(open_quote(b"1,\"52\n53,54\n", b','), Some((1, 0)));
        assert_eq!(open_quote(b"1,\"52", b','), Some((1, 0)));
        assert_eq!(open_quote(b"1;2\r\n3;\"x\r\ny", b';'), Some((1, 1)));
        assert_eq!(open_quote(b"\"a\"\"", b','), Some((0, 0)));
    }
}
