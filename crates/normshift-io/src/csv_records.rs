//! CSV records read in parallel: the file is read in blocks, each block is cut at record
//! boundaries into pieces, and the pieces are parsed by csv-core on rayon's threads.
//!
//! Splitting needs to know where records end, which depends on quotes: a line break inside a
//! quoted field is part of the field. A block without any `"` byte (most numeric files) is
//! cut at line breaks directly; otherwise one pass of the same state machine csv-core runs
//! (a quote is special only at the start of a field; `""` inside quotes is a quote) finds the
//! boundaries. Records are stored compactly, every field's text of a piece in one string,
//! instead of one allocation per record (`csv::StringRecord`).
//!
//! Lines are physical lines, counted from the bytes: every `\n`, `\r\n` or lone `\r` ends one,
//! inside quotes and on blank lines too. Pieces are never cut between a `\r` and a `\n`.

use crate::{Error, Result};
use rayon::prelude::*;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The records of one parsed piece: every field's text in one string.
#[derive(Debug)]
pub(crate) struct Chunk {
    text: String,
    /// End of each field in `text`, `ncols` per record.
    ends: Vec<usize>,
    /// The line each record starts on (1-based).
    lines: Vec<u64>,
    ncols: usize,
}

impl Chunk {
    fn field(&self, row: usize, col: usize) -> &str {
        let i = row * self.ncols + col;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }
}

/// Some consecutive records of a [`Chunk`].
#[derive(Clone, Debug)]
pub(crate) struct Rows {
    chunk: Arc<Chunk>,
    start: usize,
    end: usize,
}

impl Rows {
    fn len(&self) -> usize {
        self.end - self.start
    }

    fn records(&self) -> impl Iterator<Item = CsvRecord<'_>> + '_ {
        (self.start..self.end).map(move |row| CsvRecord {
            chunk: &self.chunk,
            row,
        })
    }
}

/// The CSV records of a batch, in file order, each with the line it starts on.
#[derive(Clone, Debug, Default)]
pub struct CsvRecords {
    parts: Vec<Rows>,
    len: usize,
}

/// One record of [`CsvRecords`].
#[derive(Clone, Copy, Debug)]
pub struct CsvRecord<'a> {
    chunk: &'a Chunk,
    row: usize,
}

impl<'a> CsvRecord<'a> {
    /// The line the record starts on (1-based; the header is on line 1 or later).
    pub fn line(&self) -> u64 {
        self.chunk.lines[self.row]
    }

    /// Number of fields (the header's).
    pub fn len(&self) -> usize {
        self.chunk.ncols
    }

    /// Whether the record has no fields (never: a record has at least one).
    pub fn is_empty(&self) -> bool {
        self.chunk.ncols == 0
    }

    /// Field `i` (0-based), unquoted, as the csv crate would give it.
    pub fn get(&self, i: usize) -> Option<&'a str> {
        (i < self.chunk.ncols).then(|| self.chunk.field(self.row, i))
    }

    /// The fields in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + 'a {
        let (chunk, row) = (self.chunk, self.row);
        (0..chunk.ncols).map(move |i| chunk.field(row, i))
    }
}

impl CsvRecords {
    /// Number of records.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The records in file order.
    pub fn iter(&self) -> impl Iterator<Item = CsvRecord<'_>> + '_ {
        self.parts.iter().flat_map(Rows::records)
    }

    fn push(&mut self, rows: Rows) {
        self.len += rows.len();
        self.parts.push(rows);
    }
}

/// Records parsed ahead of the batches that take them.
#[derive(Default)]
pub(crate) struct Pending {
    parts: std::collections::VecDeque<Rows>,
    len: usize,
}

impl Pending {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn push(&mut self, chunk: Chunk) {
        let end = chunk.lines.len();
        if end > 0 {
            self.len += end;
            self.parts.push_back(Rows {
                chunk: Arc::new(chunk),
                start: 0,
                end,
            });
        }
    }

    /// Up to `n` records from the front.
    pub(crate) fn take(&mut self, n: usize) -> CsvRecords {
        let mut out = CsvRecords::default();
        while out.len < n {
            let Some(front) = self.parts.front_mut() else {
                break;
            };
            let want = n - out.len;
            if front.len() <= want {
                let rows = self.parts.pop_front().expect("front exists");
                self.len -= rows.len();
                out.push(rows);
            } else {
                let rows = Rows {
                    chunk: front.chunk.clone(),
                    start: front.start,
                    end: front.start + want,
                };
                front.start += want;
                self.len -= want;
                out.push(rows);
            }
        }
        out
    }

    /// The records not taken yet, in order (for inferring column kinds).
    pub(crate) fn iter(&self) -> impl Iterator<Item = CsvRecord<'_>> + '_ {
        self.parts.iter().flat_map(Rows::records)
    }
}

/// Line breaks in `bytes`: every `\n` and `\r`, except the `\n` of a `\r\n`. Callers never
/// split a `\r\n` between two calls.
fn line_breaks(bytes: &[u8]) -> u64 {
    // A compare-and-add the compiler vectorizes; most files have no `\r`.
    let newlines: usize = bytes.iter().map(|&b| usize::from(b == b'\n')).sum();
    let breaks = if memchr::memchr(b'\r', bytes).is_some() {
        let cr = bytes.iter().filter(|&&b| b == b'\r').count();
        let crlf = bytes.windows(2).filter(|w| w == b"\r\n").count();
        newlines + cr - crlf
    } else {
        newlines
    };
    breaks as u64
}

/// Where a record whose line break is the byte at `i` ends: after it, or after the `\n` of a
/// `\r\n`. `None` for a `\r` that is the last byte of `data`: its `\n` may come with the next
/// read.
fn after_break(data: &[u8], i: usize) -> Option<usize> {
    match (data[i], data.get(i + 1)) {
        (b'\r', Some(b'\n')) => Some(i + 2),
        (b'\r', None) => None,
        _ => Some(i + 1),
    }
}

/// Where the first row of `data` (quote-free, starting at a record boundary) longer than
/// `max_row` bytes without its line break starts, if any. A row at the end without a line
/// break is measured too.
fn too_long_row(data: &[u8], max_row: u64) -> Option<usize> {
    if data.len() as u64 <= max_row {
        return None;
    }
    let mut start = 0usize;
    for i in memchr::memchr2_iter(b'\n', b'\r', data) {
        if i < start {
            continue; // the `\n` of a `\r\n`
        }
        if (i - start) as u64 > max_row {
            return Some(start);
        }
        start = after_break(data, i).unwrap_or(i + 1);
    }
    ((data.len() - start) as u64 > max_row).then_some(start)
}

/// Why a piece stopped before its end.
#[derive(Debug)]
enum PieceError {
    /// Field `field` (0-based) of the record is not valid UTF-8.
    Utf8 { field: usize },
    /// The record has `fields` fields, not the header's count.
    FieldCount { fields: usize },
}

/// A parsed piece: its records (lines relative to the piece's first line, 0-based), the
/// line breaks in the whole piece, and the error that stopped it, at the line it names.
struct Parsed {
    chunk: Chunk,
    breaks: u64,
    error: Option<(u64, PieceError)>,
}

/// Parses `bytes`, which start at a record boundary and end at one (or at the end of the
/// file), into records of `ncols` fields (`None`: take the first record's count, for the
/// header). Stops at the first record that is not valid UTF-8 or has another field count.
fn parse_piece(bytes: &[u8], delimiter: u8, ncols: Option<usize>) -> Parsed {
    let mut reader = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
    // csv-core strips a UTF-8 byte-order mark at the start of its first read; the file's own
    // mark is removed before the header is parsed, and any other is data. A blank line,
    // which csv-core skips, makes its first read.
    let _ = reader.read_record(b"\n", &mut [], &mut []);
    let mut out = vec![0u8; bytes.len()];
    let mut ends = vec![0usize; (bytes.len() / 8).max(16)];
    let (mut pos, mut nout, mut nend) = (0usize, 0usize, 0usize);
    // Output start, `ends` start and first input byte of the record being read.
    let (mut rec_out, mut rec_end) = (0usize, 0usize);
    let mut record_starts: Vec<usize> = Vec::new(); // output offset of each record
    let mut lines: Vec<u64> = Vec::new();
    let (mut line, mut prev_first) = (0u64, 0usize);
    let mut ncols = ncols;
    let mut error = None;
    let mut call_start = 0usize;
    loop {
        let (result, nin, n_out, n_end) =
            reader.read_record(&bytes[pos..], &mut out[nout..], &mut ends[nend..]);
        let at_end = pos >= bytes.len();
        pos += nin;
        nout += n_out;
        nend += n_end;
        match result {
            // Once all input is given, the next call (with none) tells csv-core the piece
            // ended, and it returns the last record or End; it never asks again.
            csv_core::ReadRecordResult::InputEmpty if at_end => break,
            csv_core::ReadRecordResult::InputEmpty => continue,
            csv_core::ReadRecordResult::OutputFull => {
                // Unquoting only removes bytes, so this cannot happen; grow to be safe.
                out.resize(out.len() * 2 + 1, 0);
                continue;
            }
            csv_core::ReadRecordResult::OutputEndsFull => {
                ends.resize(ends.len() * 2, 0);
                continue;
            }
            csv_core::ReadRecordResult::End => break,
            csv_core::ReadRecordResult::Record => {}
        }
        // A record: its first byte follows any line breaks where its reading began.
        let first = (call_start
            + bytes[call_start..]
                .iter()
                .take_while(|&&b| b == b'\n' || b == b'\r')
                .count())
        .min(bytes.len());
        line += line_breaks(&bytes[prev_first..first]);
        prev_first = first;
        // Field ends are relative to the record's output start.
        for e in &mut ends[rec_end..nend] {
            *e += rec_out;
        }
        let fields = nend - rec_end;
        record_starts.push(rec_out);
        lines.push(line);
        let expected = *ncols.get_or_insert(fields);
        if fields != expected {
            // Kept until the UTF-8 check below, which comes first for the same record.
            error = Some((line, PieceError::FieldCount { fields }));
            break;
        }
        rec_out = nout;
        rec_end = nend;
        call_start = pos;
    }
    let breaks = line + line_breaks(&bytes[prev_first..]);
    out.truncate(nout);
    // UTF-8, checked once for the whole piece, and then at every field boundary: the csv
    // crate validates each field alone, and a field ending in an incomplete character
    // followed by a field starting with its continuation (`\xdd` `\n` `\x96`) is valid as a
    // whole buffer but not field by field (found by fuzzing). The first bad field in file
    // order is reported if it comes before (or in) a field count error's record, as the csv
    // crate checks UTF-8 when it makes a record.
    let n = ncols.unwrap_or(0);
    let mut kept = lines.len() - usize::from(error.is_some());
    let count_error_fields = match &error {
        Some((_, PieceError::FieldCount { fields })) => *fields,
        _ => 0,
    };
    // (record, field) of a field end index: records before `kept` have `n` fields each.
    let locate = |i: usize| {
        if i < kept * n {
            (i / n, i % n)
        } else {
            (kept, i - kept * n)
        }
    };
    let whole = std::str::from_utf8(&out).err().map(|e| {
        let at = e.valid_up_to();
        let record = record_starts.partition_point(|&s| s <= at) - 1;
        let first = if record < kept { record * n } else { kept * n };
        let fields = if record < kept { n } else { count_error_fields };
        (
            record,
            ends[first..first + fields].partition_point(|&end| end <= at),
        )
    });
    // A field boundary inside a character: the field ending there is bad if its own bytes
    // are not UTF-8 (it ends in an incomplete character), else the one starting there (it
    // starts with a continuation byte).
    let field_ends = &ends[..kept * n + count_error_fields];
    let split = field_ends
        .iter()
        .find(|&&end| out.get(end).is_some_and(|&b| (0x80..0xC0).contains(&b)))
        .map(|&at| {
            // Empty fields may end at `at` too: the field holding the byte before it, and
            // the one holding the byte at it.
            let before = field_ends.partition_point(|&e| e < at);
            let after = field_ends.partition_point(|&e| e <= at);
            let start = if before == 0 {
                0
            } else {
                field_ends[before - 1]
            };
            if std::str::from_utf8(&out[start..at]).is_err() {
                locate(before)
            } else {
                locate(after)
            }
        });
    let bad = match (whole, split) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    if let Some((record, field)) = bad {
        if record <= kept {
            error = Some((lines[record], PieceError::Utf8 { field }));
            kept = record;
        }
    }
    let text_end = record_starts.get(kept).copied().unwrap_or(out.len());
    out.truncate(text_end);
    ends.truncate(kept * n);
    lines.truncate(kept);
    let text = String::from_utf8(out).expect("validated above");
    Parsed {
        chunk: Chunk {
            text,
            ends,
            lines,
            ncols: n,
        },
        breaks,
        error,
    }
}

/// Why the records of a block stop before the end of its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    /// The record starting here has a quote still open at the end of the file.
    OpenQuote(usize),
    /// The record starting here runs on for more than the row limit.
    TooLong(usize),
}

/// Where the quote state machine is (csv-core's, reduced to what finds record ends).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum QuoteState {
    FieldStart,
    Unquoted,
    Quoted,
    QuoteInQuoted,
}

/// What one byte does in a [`QuoteState`].
enum Step {
    /// The field goes on, in this state.
    Within(QuoteState),
    /// A delimiter outside quotes: the next field starts.
    FieldEnd,
    /// A line break outside quotes: the record ends (the caller sees where, for `\r\n`).
    RecordEnd,
}

impl QuoteState {
    /// The step byte `b` makes, by csv-core's rules: a quote is special only at the start of
    /// a field, and `""` inside quotes is a quote. (Quotes and line breaks are never the
    /// delimiter: `CsvBatches::open` refuses them.)
    fn step(self, b: u8, delimiter: u8) -> Step {
        match self {
            QuoteState::Quoted if b == b'"' => Step::Within(QuoteState::QuoteInQuoted),
            QuoteState::Quoted => Step::Within(QuoteState::Quoted),
            QuoteState::QuoteInQuoted if b == b'"' => Step::Within(QuoteState::Quoted),
            _ if b == delimiter => Step::FieldEnd,
            _ if b == b'\n' || b == b'\r' => Step::RecordEnd,
            QuoteState::FieldStart if b == b'"' => Step::Within(QuoteState::Quoted),
            _ => Step::Within(QuoteState::Unquoted),
        }
    }
}

/// The file, read front to back once (it may be a pipe), with the bytes not yet handed out.
pub(crate) struct Splitter {
    path: PathBuf,
    file: std::fs::File,
    delimiter: u8,
    max_row_bytes: u64,
    /// Bytes read and not yet handed out; `buf[start..]` begins at a record boundary.
    buf: Vec<u8>,
    start: usize,
    eof: bool,
    /// The line `buf[start]` is on (1-based).
    line: u64,
    /// The first 64 KiB of the file, for the CSV style.
    pub(crate) head: Vec<u8>,
    /// Bytes read at first (for the header) and at least per read: 64 KiB (tests read less,
    /// to end reads anywhere).
    read_size: usize,
}

/// A block's pieces, parsed, in order.
pub(crate) struct Block {
    pub(crate) chunks: Vec<Chunk>,
    /// The first error, after the records before it.
    pub(crate) error: Option<Error>,
}

impl Splitter {
    pub(crate) fn new(path: &Path, file: std::fs::File, delimiter: u8, max_row_bytes: u64) -> Self {
        Self {
            path: path.to_path_buf(),
            file,
            delimiter,
            max_row_bytes,
            buf: Vec::new(),
            start: 0,
            eof: false,
            line: 1,
            head: Vec::new(),
            read_size: 64 << 10,
        }
    }

    fn error(&self, line: u64, column: Option<&str>, message: String) -> Error {
        Error::csv(&self.path, line, column, message)
    }

    /// Reads until at least `want` bytes are unhanded or the file ends.
    fn fill(&mut self, want: usize) -> Result<()> {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        while !self.eof && self.buf.len() < want {
            let old = self.buf.len();
            let grow = (want - old).max(self.read_size);
            self.buf.resize(old + grow, 0);
            let n = loop {
                match self.file.read(&mut self.buf[old..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        self.buf.truncate(old);
                        return Err(Error::io(&self.path, e));
                    }
                }
            };
            self.buf.truncate(old + n);
            if self.head.len() < 1 << 16 {
                let take = n.min((1 << 16) - self.head.len());
                self.head.extend_from_slice(&self.buf[old..old + take]);
            }
            if n == 0 {
                self.eof = true;
            }
        }
        Ok(())
    }

    /// Cuts `data` (which starts at a record boundary) at record boundaries: about every
    /// `piece` bytes, and last at the final boundary in it (at its end if `eof`). Returns the
    /// cuts (increasing; the last one ends the complete records handed out) and why the
    /// records stop there if it is not the end of the data: a record (starting at the given
    /// offset) with a quote still open at the end of the file, or longer than `max_row`.
    fn cuts(
        data: &[u8],
        piece: usize,
        eof: bool,
        delimiter: u8,
        max_row: u64,
    ) -> (Vec<usize>, Option<Stop>) {
        let mut cuts = Vec::new();
        if memchr::memchr(b'"', data).is_none() {
            // No quotes: every line break ends a record (a `\r` only if what follows is
            // known).
            let boundary_after = |i: usize| after_break(data, i).or(eof.then_some(i + 1));
            let last = if eof {
                data.len()
            } else {
                // The last break ends the last complete record, unless it is a `\r` at the
                // very end (its `\n` may come with the next read): then the break before it.
                match memchr::memrchr2(b'\n', b'\r', data) {
                    Some(i) => boundary_after(i)
                        .or_else(|| {
                            memchr::memrchr2(b'\n', b'\r', &data[..i]).and_then(boundary_after)
                        })
                        .unwrap_or(0),
                    None => 0,
                }
            };
            // Rows are measured only when one could be longer than the limit: with the
            // default limit no block is that large, and the scan costs a pass.
            let (last, stop) = match too_long_row(&data[..last], max_row) {
                Some(start) => (start, Some(Stop::TooLong(start))),
                None => (last, None),
            };
            let mut target = piece;
            while target < last {
                let Some(i) = memchr::memchr2(b'\n', b'\r', &data[target..last]) else {
                    break;
                };
                match boundary_after(target + i) {
                    Some(cut) if cut < last => {
                        cuts.push(cut);
                        target = cut + piece;
                    }
                    _ => break,
                }
            }
            if last > 0 {
                cuts.push(last);
            }
            return (cuts, stop);
        }
        // Quotes: follow csv-core's states to know which line breaks end records.
        let mut state = QuoteState::FieldStart;
        let mut last = 0usize; // the last boundary seen
        let mut record_start = 0usize;
        let mut target = piece;
        let mut stop = None;
        let mut i = 0;
        while i < data.len() {
            let b = data[i];
            match state.step(b, delimiter) {
                Step::Within(next) => state = next,
                Step::FieldEnd => state = QuoteState::FieldStart,
                Step::RecordEnd => {
                    let end = match after_break(data, i) {
                        Some(end) => end,
                        None if !eof => break,
                        None => i + 1,
                    };
                    // The row's length without its line break.
                    if (i - record_start) as u64 > max_row {
                        stop = Some(Stop::TooLong(record_start));
                        break;
                    }
                    last = end;
                    record_start = end;
                    if end >= target {
                        cuts.push(end);
                        target = end + piece;
                    }
                    i = end;
                    state = QuoteState::FieldStart;
                    continue;
                }
            }
            i += 1;
        }
        if stop.is_none() && (data.len() - record_start) as u64 > max_row {
            stop = Some(Stop::TooLong(record_start));
        }
        if stop.is_none() && eof && state == QuoteState::Quoted {
            stop = Some(Stop::OpenQuote(record_start));
        }
        let end = if eof && stop.is_none() {
            data.len()
        } else {
            last
        };
        cuts.retain(|&c| c < end);
        if end > 0 {
            cuts.push(end);
        }
        (cuts, stop)
    }

    /// Hands out the first `skip` bytes (line breaks) without parsing them, keeping a `\r`
    /// at the very end of what was read, whose `\n` may follow.
    fn skip_breaks(&mut self, skip: usize) {
        let data = &self.buf[self.start..];
        let skip = if skip == data.len() && data.last() == Some(&b'\r') {
            skip - 1
        } else {
            skip
        };
        self.line += line_breaks(&data[..skip]);
        self.start += skip;
    }

    /// How much to have read next when no record has ended in what was read: twice as much,
    /// but no more than one byte past the row limit (a row that long is refused, so the
    /// buffer never holds much more than `max_row_bytes`).
    fn grown(&self, want: usize) -> usize {
        let unhanded = self.buf.len() - self.start;
        let limit = usize::try_from(self.max_row_bytes)
            .unwrap_or(usize::MAX)
            .saturating_add(2);
        unhanded
            .saturating_mul(2)
            .max(want)
            .min(limit.max(unhanded + 1))
    }

    /// The error for the record at `offset` in the unhanded bytes.
    fn stop_error(&self, stop: Stop, header: Option<&[String]>) -> Error {
        let data = &self.buf[self.start..];
        match stop {
            Stop::TooLong(offset) => self.error(
                self.line + line_breaks(&data[..offset]),
                None,
                format!(
                    "this row runs on for more than {} bytes (a quote that is never closed?); \
                     reading stopped",
                    self.max_row_bytes
                ),
            ),
            Stop::OpenQuote(offset) => {
                let line = self.line + line_breaks(&data[..offset]);
                let (field, lines_in) =
                    open_quote(&data[offset..], self.delimiter).unwrap_or((0, 0));
                self.error(
                    line + lines_in,
                    header.and_then(|h| h.get(field)).map(String::as_str),
                    format!(
                        "field {} opens a quote that is never closed: everything after it, to \
                         the end of the file, would be read as this one field",
                        field + 1
                    ),
                )
            }
        }
    }

    /// Cuts for the next records: reads until the unhanded bytes hold at least one complete
    /// record (or a reason to stop), reading on past `want` bytes for a long record, up to
    /// the row limit. `None` when only line breaks (or nothing) are left.
    fn next_cuts(
        &mut self,
        mut want: usize,
        piece: usize,
        header: Option<&[String]>,
    ) -> Result<Option<(Vec<usize>, Option<Stop>)>> {
        loop {
            self.fill(want)?;
            let data = &self.buf[self.start..];
            let (cuts, stop) =
                Self::cuts(data, piece, self.eof, self.delimiter, self.max_row_bytes);
            if !cuts.is_empty() || stop.is_some() {
                return Ok(Some((cuts, stop)));
            }
            let skip = data
                .iter()
                .take_while(|&&b| b == b'\n' || b == b'\r')
                .count();
            if self.eof {
                // Only line breaks are left.
                self.start = self.buf.len();
                return Ok(None);
            }
            // A record longer than what has been read: read on, within the limit (a quote
            // left open near the start of a file larger than memory would otherwise be
            // read into one field).
            if (data.len() - skip) as u64 > self.max_row_bytes {
                return Err(self.stop_error(Stop::TooLong(skip), header));
            }
            // Blank lines before it are done with: a long run of them must not be held.
            self.skip_breaks(skip);
            want = self.grown(want);
        }
    }

    /// The header: the first record of the file, alone. `None` for a file without one.
    pub(crate) fn header(&mut self) -> Result<Option<Vec<String>>> {
        let mut want = self.read_size;
        // At least the three bytes a byte-order mark takes.
        self.fill(want.max(3))?;
        // A UTF-8 byte-order mark at the start of the file is not part of the header (csv-core
        // would strip it too; `head` keeps it for the style).
        if self.buf[self.start..].starts_with(b"\xEF\xBB\xBF") {
            self.start += 3;
        }
        let end = loop {
            self.fill(want)?;
            let data = &self.buf[self.start..];
            let skip = data
                .iter()
                .take_while(|&&b| b == b'\n' || b == b'\r')
                .count();
            if skip == data.len() && self.eof {
                return Ok(None);
            }
            match header_end(data, self.delimiter) {
                HeaderEnd::At(end) => {
                    // Its length without the line break, as every row is checked.
                    let ending = if data[..end].ends_with(b"\r\n") { 2 } else { 1 };
                    if (end - skip - ending) as u64 > self.max_row_bytes {
                        return Err(self.stop_error(Stop::TooLong(skip), None));
                    }
                    break end;
                }
                HeaderEnd::Open if self.eof => {
                    return Err(self.stop_error(Stop::OpenQuote(skip), None))
                }
                _ if self.eof => break data.len(),
                _ => {}
            }
            if (data.len() - skip) as u64 > self.max_row_bytes {
                return Err(self.stop_error(Stop::TooLong(skip), None));
            }
            // Blank lines before the header are done with: a long run must not be held.
            self.skip_breaks(skip);
            want = self.grown(want);
        };
        let data = &self.buf[self.start..];
        let parsed = parse_piece(&data[..end], self.delimiter, None);
        if let Some((line, PieceError::Utf8 { field })) = parsed.error {
            return Err(self.error(
                self.line + line,
                None,
                format!("field {} is not valid UTF-8", field + 1),
            ));
        }
        let chunk = parsed.chunk;
        if chunk.lines.is_empty() {
            return Ok(None);
        }
        let header = (0..chunk.ncols)
            .map(|i| chunk.field(0, i).to_string())
            .collect();
        self.line += parsed.breaks;
        self.start += end;
        Ok(Some(header))
    }

    /// The next block of records, about `pieces × piece` bytes, parsed in parallel into
    /// records of `header.len()` fields. `None` at the end of the file.
    pub(crate) fn next_block(
        &mut self,
        header: &[String],
        pieces: usize,
        piece: usize,
    ) -> Result<Option<Block>> {
        let Some((cuts, stop)) = self.next_cuts(pieces * piece, piece, Some(header))? else {
            return Ok(None);
        };
        let data = &self.buf[self.start..];
        let mut bounds = Vec::with_capacity(cuts.len() + 1);
        bounds.push(0);
        bounds.extend_from_slice(&cuts);
        let ncols = header.len();
        let delimiter = self.delimiter;
        let parsed: Vec<Parsed> = bounds
            .par_windows(2)
            .map(|w| parse_piece(&data[w[0]..w[1]], delimiter, Some(ncols)))
            .collect();
        let mut chunks = Vec::with_capacity(parsed.len());
        let mut error = None;
        let mut line = self.line;
        for p in parsed {
            let Parsed {
                mut chunk,
                breaks,
                error: piece_error,
            } = p;
            for l in &mut chunk.lines {
                *l += line;
            }
            chunks.push(chunk);
            if let Some((rel, e)) = piece_error {
                let at = line + rel;
                error = Some(match e {
                    PieceError::Utf8 { field } => self.error(
                        at,
                        header.get(field).map(String::as_str),
                        format!("field {} is not valid UTF-8", field + 1),
                    ),
                    PieceError::FieldCount { fields } => self.error(
                        at,
                        None,
                        format!(
                            "this row has {fields} fields but the header has {}{}",
                            header.len(),
                            // One header field and more in a row: most likely a file
                            // separated by something else, whose values hold this delimiter.
                            if header.len() == 1 {
                                "; if the file is separated by another character, pass it \
                                 with --delimiter"
                            } else {
                                ""
                            }
                        ),
                    ),
                });
                break;
            }
            line += breaks;
        }
        let end = cuts.last().copied().unwrap_or(0);
        if error.is_none() {
            if let Some(stop) = stop {
                // Past the records handed out: reported once they are taken.
                let offset = match stop {
                    Stop::TooLong(o) | Stop::OpenQuote(o) => o,
                };
                debug_assert!(offset >= end);
                error = Some(self.stop_error(stop, Some(header)));
            }
        }
        self.line = line;
        self.start += end;
        Ok(Some(Block { chunks, error }))
    }
}

/// Where the first record of some bytes ends.
enum HeaderEnd {
    /// After its line break (after the `\n` of a `\r\n`), at this offset.
    At(usize),
    /// Not within the bytes; a quote is open at their end.
    Open,
    /// Not within the bytes.
    NotYet,
}

/// Where the first record of `data` ends, by csv-core's quote rules (leading blank lines
/// belong to it). A `\r` at the very end is not taken as an end: a `\n` may follow.
fn header_end(data: &[u8], delimiter: u8) -> HeaderEnd {
    let mut state = QuoteState::FieldStart;
    let mut seen = false; // a byte of the record, not of a leading blank line
    let mut i = 0;
    while i < data.len() {
        let b = data[i];
        match state.step(b, delimiter) {
            Step::Within(next) => state = next,
            Step::FieldEnd => state = QuoteState::FieldStart,
            Step::RecordEnd => {
                let Some(end) = after_break(data, i) else {
                    return HeaderEnd::NotYet;
                };
                if seen {
                    return HeaderEnd::At(end);
                }
                i = end;
                continue;
            }
        }
        seen = true;
        i += 1;
    }
    if state == QuoteState::Quoted {
        HeaderEnd::Open
    } else {
        HeaderEnd::NotYet
    }
}

/// Scans the raw bytes of CSV records as the csv crate reads them (a quote is special only at
/// the start of a field; `""` inside quotes is a quote) and returns the field index and the
/// line (counted from the first, 0-based) of a quoted field still open at the end.
pub(crate) fn open_quote(raw: &[u8], delimiter: u8) -> Option<(usize, u64)> {
    let (mut state, mut field, mut line) = (QuoteState::FieldStart, 0usize, 0u64);
    let mut opened = (0usize, 0u64);
    let mut prev = 0u8;
    for &b in raw {
        let newline = b == b'\n' || b == b'\r';
        // Lines as the csv crate counts them: `\r\n` is one.
        if newline && !(b == b'\n' && prev == b'\r') {
            line += 1;
        }
        prev = b;
        state = match state.step(b, delimiter) {
            Step::FieldEnd => {
                field += 1;
                QuoteState::FieldStart
            }
            Step::RecordEnd => {
                field = 0;
                QuoteState::FieldStart
            }
            Step::Within(QuoteState::Quoted) if state == QuoteState::FieldStart => {
                opened = (field, line);
                QuoteState::Quoted
            }
            Step::Within(next) => next,
        };
    }
    (state == QuoteState::Quoted).then_some(opened)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// What a reader made of a file: the header, the records with their lines, and the
    /// first error (its line, and the message after the line).
    type Outcome = (Option<Vec<String>>, Vec<(u64, Vec<String>)>, Option<String>);

    fn error_text(e: &Error) -> String {
        match e {
            Error::Csv {
                line,
                column,
                message,
                ..
            } => format!("line {line}, column {column:?}: {message}"),
            other => other.to_string(),
        }
    }

    /// A splitter over `bytes` (written to a file in `dir`), reading at least `read_size`
    /// bytes at a time, rows limited to `max_row` bytes.
    fn splitter(
        dir: &tempfile::TempDir,
        bytes: &[u8],
        delimiter: u8,
        read_size: usize,
        max_row: u64,
    ) -> Splitter {
        let path = dir.path().join("t.csv");
        std::fs::write(&path, bytes).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        let mut sp = Splitter::new(&path, file, delimiter, max_row);
        sp.read_size = read_size;
        sp
    }

    /// Through the splitter, with pieces of `piece` bytes, `pieces` per block, reads of at
    /// least `read_size` bytes (so reads end anywhere, inside a `\r\n` too).
    fn split(
        bytes: &[u8],
        delimiter: u8,
        pieces: usize,
        piece: usize,
        read_size: usize,
    ) -> Outcome {
        let dir = tempfile::tempdir().unwrap();
        let mut sp = splitter(&dir, bytes, delimiter, read_size, u64::MAX);
        let header = match sp.header() {
            Ok(Some(h)) => h,
            Ok(None) => return (None, Vec::new(), None),
            Err(e) => return (None, Vec::new(), Some(error_text(&e))),
        };
        let mut records = Vec::new();
        loop {
            match sp.next_block(&header, pieces, piece) {
                Ok(None) => return (Some(header), records, None),
                Err(e) => return (Some(header), records, Some(error_text(&e))),
                Ok(Some(block)) => {
                    for chunk in &block.chunks {
                        for row in 0..chunk.lines.len() {
                            let fields = (0..chunk.ncols)
                                .map(|i| chunk.field(row, i).to_string())
                                .collect();
                            records.push((chunk.lines[row], fields));
                        }
                    }
                    if let Some(e) = block.error {
                        return (Some(header), records, Some(error_text(&e)));
                    }
                }
            }
        }
    }

    /// The csv crate's records, with lines counted from its byte positions, and the checks
    /// the old reader made (UTF-8 per field, field count, a quote open at the end).
    fn reference(bytes: &[u8], delimiter: u8) -> Outcome {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes);
        // Every record with its line and first byte, then the checks in order.
        let mut raw: Vec<(u64, usize, csv::ByteRecord)> = Vec::new();
        let (mut line, mut prev_first) = (1u64, 0usize);
        loop {
            let mut record = csv::ByteRecord::new();
            match reader.read_byte_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => panic!("csv crate: {e}"),
            }
            let from = record.position().unwrap().byte() as usize;
            let first = from
                + bytes[from..]
                    .iter()
                    .take_while(|&&b| b == b'\n' || b == b'\r')
                    .count();
            line += line_breaks(&bytes[prev_first..first]);
            prev_first = first;
            raw.push((line, first, record));
        }
        let mut header: Option<Vec<String>> = None;
        let mut records = Vec::new();
        let count = raw.len();
        for (k, (line, first, record)) in raw.into_iter().enumerate() {
            // The last record, if it swallowed the rest of the file in an open quote, is
            // reported as such, before its field count or encoding.
            if k + 1 == count {
                if let Some((field, lines_in)) = open_quote(&bytes[first..], delimiter) {
                    let column = header.as_ref().and_then(|h| h.get(field)).cloned();
                    return (header, records, Some(format!(
                        "line {}, column {column:?}: field {} opens a quote that is never closed: everything after it, to the end of the file, would be read as this one field",
                        line + lines_in, field + 1
                    )));
                }
            }
            let mut fields = Vec::new();
            for (i, f) in record.iter().enumerate() {
                match std::str::from_utf8(f) {
                    Ok(s) => fields.push(s.to_string()),
                    Err(_) => {
                        let column = header.as_ref().and_then(|h| h.get(i)).cloned();
                        let message = format!("field {} is not valid UTF-8", i + 1);
                        return (
                            header,
                            records,
                            Some(format!("line {line}, column {column:?}: {message}")),
                        );
                    }
                }
            }
            match &header {
                None => header = Some(fields),
                Some(h) if h.len() != fields.len() => {
                    let message = format!(
                        "this row has {} fields but the header has {}{}",
                        fields.len(),
                        h.len(),
                        if h.len() == 1 {
                            "; if the file is separated by another character, pass it with \
                             --delimiter"
                        } else {
                            ""
                        }
                    );
                    return (
                        header,
                        records,
                        Some(format!("line {line}, column None: {message}")),
                    );
                }
                Some(_) => records.push((line, fields)),
            }
        }
        (header, records, None)
    }

    /// A random CSV: a header of `ncols` names, rows of plain, quoted (with doubled quotes and
    /// line breaks inside) and empty fields, `\n`, `\r\n` or `\r` line ends, blank lines, and
    /// sometimes a stray quote inside a field, a ragged row, invalid UTF-8 or a quote left open.
    fn random_csv(rng: &mut rand_chacha::ChaCha8Rng, delimiter: u8) -> Vec<u8> {
        let d = delimiter as char;
        let ncols = rng.gen_range(1..5);
        let ends = ["\n", "\r\n", "\r"];
        let end = |rng: &mut rand_chacha::ChaCha8Rng| ends[rng.gen_range(0..3)];
        let mut out: Vec<u8> = Vec::new();
        if rng.gen_bool(0.1) {
            out.extend_from_slice(b"\xEF\xBB\xBF");
        }
        if rng.gen_bool(0.1) {
            out.extend_from_slice(end(rng).as_bytes());
        }
        let names: Vec<String> = (0..ncols).map(|i| format!("c{i}")).collect();
        out.extend_from_slice(names.join(&d.to_string()).as_bytes());
        out.extend_from_slice(end(rng).as_bytes());
        let rows = rng.gen_range(0..60);
        for _ in 0..rows {
            if rng.gen_bool(0.05) {
                out.extend_from_slice(end(rng).as_bytes());
            }
            let n = if rng.gen_bool(0.01) { ncols + 1 } else { ncols };
            let mut fields = Vec::new();
            for _ in 0..n {
                let field = match rng.gen_range(0..10) {
                    0 => String::new(),
                    1..=2 => {
                        let inner: String = (0..rng.gen_range(0..6))
                            .map(|_| {
                                ["a", "\"\"", "\n", "\r\n", "\r", " ", "é", &d.to_string()]
                                    [rng.gen_range(0..8)]
                                .to_string()
                            })
                            .collect();
                        format!("\"{inner}\"")
                    }
                    3 if rng.gen_bool(0.2) => "12\" pipe".to_string(),
                    _ => format!("{}", rng.gen_range(-1000.0..1000.0f64)),
                };
                fields.push(field);
            }
            let mut row = fields.join(&d.to_string()).into_bytes();
            match rng.gen_range(0..400) {
                0 | 1 => row.push(0xFF),
                // A character split between two fields, or two records: valid as a whole
                // buffer, invalid field by field.
                2 => row.extend_from_slice(&[0xDD, delimiter, 0x96]),
                3 => row.push(0xDD),
                4 => row.insert(0, 0x96),
                _ => {}
            }
            out.extend_from_slice(&row);
            if rng.gen_bool(0.9) {
                out.extend_from_slice(end(rng).as_bytes());
            } else {
                out.extend_from_slice(b"\n");
            }
        }
        if rng.gen_bool(0.03) {
            out.extend_from_slice(b"1,\"open");
        }
        if rng.gen_bool(0.3) {
            // No line break after the last row.
            while out.last().is_some_and(|&b| b == b'\n' || b == b'\r') {
                out.pop();
            }
        }
        out
    }

    #[test]
    fn split_parsing_matches_the_csv_crate_for_any_piece_size() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for case in 0..1500 {
            let delimiter = [b',', b';', b'\t', b'|'][case % 4];
            let bytes = random_csv(&mut rng, delimiter);
            let expected = reference(&bytes, delimiter);
            for (pieces, piece, read_size) in [
                (1, 1, 64 << 10),
                (3, 2, 1),
                (2, 7, 3),
                (4, 64, 5),
                (1, 13, 1),
                (8, 1 << 20, 64 << 10),
            ] {
                let got = split(&bytes, delimiter, pieces, piece, read_size);
                assert_eq!(
                    got,
                    expected,
                    "case {case}, pieces {pieces} x {piece}, reads of {read_size}: {:?}",
                    String::from_utf8_lossy(&bytes)
                );
            }
        }
    }

    /// A read that ends between the `\r` and the `\n` of a `\r\n` in a file without quotes
    /// made the block's records look like one row as long as the block, and a small row
    /// limit then refused a file of 4-byte rows (a review finding).
    #[test]
    fn a_read_ending_inside_a_crlf_is_not_a_long_row() {
        let mut bytes = b"a,b\r\n".to_vec();
        for _ in 0..2000 {
            bytes.extend_from_slice(b"1,2\r\n");
        }
        // Reads of 5 + 5k + 4 bytes end on the `\r` of a row with the header read first; the
        // small ones end anywhere as blocks grow.
        let configs = (1..=3)
            .flat_map(|pieces| (1..=12).map(move |piece| (pieces, piece)))
            .zip([1, 2, 3].into_iter().cycle())
            .chain([59, 104, 1009].map(|read_size| ((1, 1), read_size)));
        for ((pieces, piece), read_size) in configs {
            let dir = tempfile::tempdir().unwrap();
            let mut sp = splitter(&dir, &bytes, b',', read_size, 10);
            let header = sp.header().unwrap().unwrap();
            let mut rows = 0;
            while let Some(block) = sp.next_block(&header, pieces, piece).unwrap() {
                assert!(block.error.is_none(), "{:?}", block.error);
                rows += block.chunks.iter().map(|c| c.lines.len()).sum::<usize>();
            }
            assert_eq!(
                rows, 2000,
                "pieces {pieces} x {piece}, reads of {read_size}"
            );
        }
    }

    /// Blank lines before the header, and runs of lone `\r` between rows, were kept in the
    /// buffer until a record came: memory grew with the run (a review finding: 1 GB for a
    /// run of 600 MB). They are handed out as they are read now.
    #[test]
    fn runs_of_blank_lines_are_not_held_in_memory() {
        let run = 300_000;
        let mut bytes = vec![b'\n'; run];
        bytes.extend_from_slice(b"a,b\n1,2\n");
        bytes.extend(std::iter::repeat_n(b'\r', run));
        bytes.extend_from_slice(b"3,4\n");
        let dir = tempfile::tempdir().unwrap();
        let mut sp = splitter(&dir, &bytes, b',', 4096, 1 << 20);
        let header = sp.header().unwrap().unwrap();
        let mut largest = sp.buf.len();
        let mut lines = Vec::new();
        while let Some(block) = sp.next_block(&header, 2, 1024).unwrap() {
            largest = largest.max(sp.buf.len());
            lines.extend(block.chunks.iter().flat_map(|c| c.lines.clone()));
        }
        assert_eq!(header, ["a", "b"]);
        // Line numbers still count every break of the runs.
        assert_eq!(lines, [run as u64 + 2, 2 * run as u64 + 3]);
        assert!(largest < 64 << 10, "the buffer reached {largest} bytes");
    }

    /// Rows are limited without their line break; the header is checked too.
    #[test]
    fn the_row_limit_counts_the_row_not_its_line_break() {
        // A file with quotes (every row checked): rows of 9 bytes pass a limit of 9.
        let bytes = b"\"a\",bcdef\n\"1\",23456\r\n\"7\",89012\n";
        let dir = tempfile::tempdir().unwrap();
        let mut sp = splitter(&dir, bytes, b',', 64 << 10, 9);
        let header = sp.header().unwrap().unwrap();
        let block = sp.next_block(&header, 1, 1 << 20).unwrap().unwrap();
        assert!(block.error.is_none(), "{:?}", block.error);
        assert_eq!(block.chunks.iter().map(|c| c.lines.len()).sum::<usize>(), 2);
        // A limit of 8 stops at the header.
        let mut sp = splitter(&dir, bytes, b',', 64 << 10, 8);
        let message = error_text(&sp.header().unwrap_err());
        assert!(
            message.starts_with("line 1, column None: this row runs on for more than 8 bytes"),
            "{message}"
        );
    }

    /// `\xdd` ending one field and `\x96` starting the next form a valid character when the
    /// piece is validated as one buffer; field by field both are invalid. Found by fuzzing:
    /// slicing the field then panicked.
    #[test]
    fn a_character_split_between_fields_is_invalid_utf8() {
        for (bytes, expected) in [
            (
                &b"a,b\n1,2\nx\xdd,\x96y\n"[..],
                "line 3, column Some(\"a\"): field 1 is not valid UTF-8",
            ),
            (
                &b"a\n1\nx\xdd\n\x96y\n"[..],
                "line 3, column Some(\"a\"): field 1 is not valid UTF-8",
            ),
        ] {
            for (pieces, piece, read_size) in [(1, 1 << 20, 64 << 10), (2, 3, 1)] {
                let got = split(bytes, b',', pieces, piece, read_size);
                assert_eq!(got.2.as_deref(), Some(expected), "{got:?}");
                assert_eq!(got, reference(bytes, b','));
            }
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

    #[test]
    fn line_breaks_count_crlf_once() {
        assert_eq!(line_breaks(b"a\nb\r\nc\rd\n\r"), 5);
        assert_eq!(line_breaks(b""), 0);
        assert_eq!(line_breaks(b"\r\n\r\n"), 2);
    }
}
