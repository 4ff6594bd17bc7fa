//! What arrow-ipc's readers do not say or check before they act: the compression of an Arrow
//! IPC input (for an output compressed alike), and the sizes its messages declare, which
//! arrow-ipc allocates before reading: a body as long as the footer says (zero-filled: a
//! 1.3 KB file declaring 4 GB took 4 GB and 12 s before failing), and a compressed buffer as
//! long as its first 8 bytes say (for LZ4 infallibly: 2^56 bytes aborted the process). In a
//! file both are checked ahead, reading only message headers and the 8-byte size at the
//! start of each compressed buffer; a stream from a pipe is checked message by message as it
//! is read ([`CheckedStream`]).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::ops::ControlFlow;

/// The largest IPC message header or footer read: larger is damage, not a schema.
const MAX_HEADER: usize = 64 << 20;

/// What a pipe holding an IPC file (not a stream) gets.
const IPC_FILE_IN_A_PIPE: &str =
    "it starts as an Arrow IPC file (`ARROW1`), whose index is at its end";

/// Most messages of a stream looked at before giving up (each costs a read and a seek).
const MAX_MESSAGES: usize = 1_000_000;

/// One pass over the messages of an Arrow IPC file or stream: refuses a message body that
/// runs past the end of the file, and a compressed buffer (of a record batch or a dictionary)
/// that declares more than `limit` bytes once decompressed (the text says which message);
/// otherwise returns the compression codec of the first record batch (`None`: uncompressed,
/// or no batch). Messages that cannot be followed are left to the reader. Leaves the file's
/// position anywhere.
pub(crate) fn probe(
    file: &mut File,
    limit: u64,
) -> Result<Option<arrow_ipc::CompressionType>, String> {
    let file_len = file.metadata().map_err(|e| e.to_string())?.len();
    let mut first_batch = None;
    let found = each_message(file, |file, message| {
        let Message {
            what,
            header,
            body,
            body_len,
        } = message;
        if let Some(batch) = header.and_then(|h| h.header_as_record_batch()) {
            first_batch.get_or_insert(batch.compression().map(|c| c.codec()));
        }
        let past_the_end =
            |len: i64| u64::try_from(len).map_or(true, |len| body.saturating_add(len) > file_len);
        let declared = [Some(body_len), header.map(|h| h.bodyLength())];
        if let Some(len) = declared.into_iter().flatten().find(|&l| past_the_end(l)) {
            return ControlFlow::Break(format!(
                "{what}: its body of {len} bytes at byte {body} runs past the end of the file \
                 ({file_len} bytes): the file is truncated or damaged"
            ));
        }
        let Some(header) = header else {
            return ControlFlow::Continue(());
        };
        let size_at = |offset: u64| {
            let mut word = [0u8; 8];
            let at = body.checked_add(offset)?;
            file.seek(SeekFrom::Start(at)).ok()?;
            file.read_exact(&mut word).ok()?;
            Some(i64::from_le_bytes(word))
        };
        match check_compressed_sizes(&header, limit, size_at) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => ControlFlow::Break(format!("{what}: {e}")),
        }
    });
    found.map_or(Ok(first_batch.flatten()), Err)
}

/// Refuses a compressed buffer of the record batch or dictionary `header` describes whose
/// declared decompressed size (`size_at(offset in the body)`, `None` if it cannot be read)
/// is above `limit`.
fn check_compressed_sizes(
    header: &arrow_ipc::Message<'_>,
    limit: u64,
    mut size_at: impl FnMut(u64) -> Option<i64>,
) -> Result<(), String> {
    let batch = header
        .header_as_record_batch()
        .or_else(|| header.header_as_dictionary_batch().and_then(|d| d.data()));
    let Some(batch) = batch.filter(|b| b.compression().is_some()) else {
        return Ok(());
    };
    for buffer in batch.buffers().iter().flatten() {
        // A compressed buffer starts with its decompressed length (-1: stored as is).
        if buffer.length() < 8 {
            continue;
        }
        let declared = u64::try_from(buffer.offset()).ok().and_then(&mut size_at);
        if let Some(declared) = declared.filter(|&d| u64::try_from(d).is_ok_and(|d| d > limit)) {
            return Err(format!(
                "a compressed buffer declares {declared} bytes once decompressed, more than \
                 this machine's memory ({limit} bytes): the file is damaged"
            ));
        }
    }
    Ok(())
}

/// An Arrow IPC stream read from a pipe (which cannot be looked at ahead), message by message,
/// each checked as [`probe`] checks a file before arrow-ipc's decoder gets it:
/// a body is read as it arrives (a declared length costs only what is sent), and compressed
/// buffers that declare more than `limit` bytes are refused.
pub(crate) struct CheckedStream<R> {
    input: R,
    decoder: arrow_ipc::reader::StreamDecoder,
    limit: u64,
    batches: usize,
    dictionaries: usize,
    /// The schema, from the first message (the decoder knows it only later, see `new`).
    schema: Option<arrow_schema::SchemaRef>,
    /// Batches decoded and not yet handed out: the decoder completes a message with an
    /// empty body only when the next one's bytes arrive, so one message's bytes can finish
    /// two batches.
    pending: std::collections::VecDeque<arrow_array::RecordBatch>,
    done: bool,
}

impl<R: Read> CheckedStream<R> {
    /// Reads up to the schema (the first message).
    pub(crate) fn new(input: R, limit: u64) -> Result<Self, String> {
        let mut stream = Self {
            input,
            decoder: arrow_ipc::reader::StreamDecoder::new(),
            limit,
            batches: 0,
            dictionaries: 0,
            schema: None,
            pending: Default::default(),
            done: false,
        };
        // The schema's body is empty, and the decoder takes such a message only with the
        // next one's bytes: the schema is read from the header here, so that a damaged
        // second message is reported as a batch's error, not as an unreadable stream.
        stream.next_message()?;
        if stream.schema.is_none() {
            return Err("no schema at the start of the stream".to_string());
        }
        Ok(stream)
    }

    /// The stream's schema.
    pub(crate) fn schema(&self) -> arrow_schema::SchemaRef {
        self.schema.clone().expect("read in `new`")
    }

    /// Reads, checks and decodes one message, queueing the batches it completes; at the end
    /// of the stream sets `done`.
    fn next_message(&mut self) -> Result<(), String> {
        let mut framing = [0u8; 8];
        let mut word = [0u8; 4];
        match read_full(&mut self.input, &mut word)? {
            0 => {
                self.done = true;
                return Ok(());
            }
            4 if &word == b"ARRO" => return Err(IPC_FILE_IN_A_PIPE.to_string()),
            4 => {}
            _ => return Err("the stream ends inside a message's length".to_string()),
        }
        let mut prefix = 4;
        framing[..4].copy_from_slice(&word);
        if word == [0xff; 4] {
            // The continuation marker (format 0.15 and later) before the length.
            if read_full(&mut self.input, &mut word)? != 4 {
                return Err("the stream ends inside a message's length".to_string());
            }
            framing[4..].copy_from_slice(&word);
            prefix = 8;
        }
        let len = i32::from_le_bytes(word);
        if len == 0 {
            // The end-of-stream marker, given to the decoder too: it completes a message
            // with an empty body before it.
            self.done = true;
            return self.decode(framing[..prefix].to_vec());
        }
        let len = usize::try_from(len)
            .ok()
            .filter(|&l| l <= MAX_HEADER)
            .ok_or_else(|| format!("a message header of {len} bytes: the stream is damaged"))?;
        let mut bytes = framing[..prefix].to_vec();
        bytes.resize(prefix + len, 0);
        if read_full(&mut self.input, &mut bytes[prefix..])? != len {
            return Err("the stream ends inside a message header".to_string());
        }
        let header = arrow_ipc::root_as_message(&bytes[prefix..])
            .map_err(|e| format!("a message header that cannot be read ({e})"))?;
        if let Some(schema) = header.header_as_schema() {
            let schema = arrow_ipc::convert::try_fb_to_schema(schema)
                .map_err(|e| format!("a schema that cannot be read ({e})"))?;
            self.schema.get_or_insert(std::sync::Arc::new(schema));
        }
        let what = if header.header_as_record_batch().is_some() {
            self.batches += 1;
            format!("record batch {}", self.batches - 1)
        } else if header.header_as_dictionary_batch().is_some() {
            self.dictionaries += 1;
            format!("dictionary batch {}", self.dictionaries - 1)
        } else {
            "a message".to_string()
        };
        let body_len = u64::try_from(header.bodyLength())
            .map_err(|_| format!("{what}: a negative body length"))?;
        let body_at = bytes.len();
        // As it arrives: a lying length costs only the bytes actually sent.
        (&mut self.input)
            .take(body_len)
            .read_to_end(&mut bytes)
            .map_err(|e| e.to_string())?;
        if ((bytes.len() - body_at) as u64) < body_len {
            return Err(format!(
                "{what}: the stream ends inside its body ({} of {body_len} bytes)",
                bytes.len() - body_at
            ));
        }
        let body = &bytes[body_at..];
        // Parsed again: the first parse borrowed `bytes`, which the body has grown since.
        let header = arrow_ipc::root_as_message(&bytes[prefix..body_at])
            .map_err(|e| format!("a message header that cannot be read ({e})"))?;
        check_compressed_sizes(&header, self.limit, |offset| {
            let at = usize::try_from(offset).ok()?;
            let word = body.get(at..at.checked_add(8)?)?;
            Some(i64::from_le_bytes(word.try_into().ok()?))
        })
        .map_err(|e| format!("{what}: {e}"))?;
        self.decode(bytes)
    }

    /// Gives `bytes` to the decoder, all of them: it returns at each batch it completes.
    fn decode(&mut self, bytes: Vec<u8>) -> Result<(), String> {
        let mut buffer = arrow_buffer::Buffer::from_vec(bytes);
        while !buffer.is_empty() {
            match self.decoder.decode(&mut buffer) {
                Ok(Some(batch)) => self.pending.push_back(batch),
                Ok(None) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(())
    }
}

impl<R: Read> Iterator for CheckedStream<R> {
    type Item = Result<arrow_array::RecordBatch, arrow_schema::ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(batch) = self.pending.pop_front() {
                return Some(Ok(batch));
            }
            if self.done {
                return None;
            }
            if let Err(e) = self.next_message() {
                self.done = true;
                return Some(Err(arrow_schema::ArrowError::IpcError(e)));
            }
        }
    }
}

/// Reads until `buf` is full or the input ends: how many bytes were read.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> Result<usize, String> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(filled)
}

/// One message of an IPC file or stream, as the probe sees it.
struct Message<'a> {
    /// Which it is, for messages: `record batch 3`, `dictionary batch 0`.
    what: String,
    /// Its header, unless it could not be read (a file's footer still gives the body).
    header: Option<arrow_ipc::Message<'a>>,
    /// Where its body starts.
    body: u64,
    /// Its body's length as the file's footer (or, in a stream, the header) declares it.
    body_len: i64,
}

/// Calls `visit` for each message of an Arrow IPC file (its dictionaries, then its record
/// batches, as its footer lists them) or stream (in order), until it breaks; `None` if it
/// never does or the messages cannot be followed.
fn each_message<R>(
    file: &mut File,
    mut visit: impl FnMut(&mut File, Message<'_>) -> ControlFlow<R>,
) -> Option<R> {
    file.seek(SeekFrom::Start(0)).ok()?;
    let mut magic = [0u8; 6];
    file.read_exact(&mut magic).ok()?;
    if &magic == b"ARROW1" {
        // A file: its footer says where the messages are (writers pad the start differently).
        let tail_at = file.seek(SeekFrom::End(-10)).ok()?;
        let mut tail = [0u8; 10];
        file.read_exact(&mut tail).ok()?;
        let len = arrow_ipc::reader::read_footer_length(tail).ok()?;
        if len > MAX_HEADER {
            return None;
        }
        file.seek(SeekFrom::Start(tail_at.checked_sub(len as u64)?))
            .ok()?;
        let mut footer = vec![0u8; len];
        file.read_exact(&mut footer).ok()?;
        let footer = arrow_ipc::root_as_footer(&footer).ok()?;
        let dictionaries = footer.dictionaries().into_iter().flatten();
        let batches = footer.recordBatches().into_iter().flatten();
        let blocks = (dictionaries
            .enumerate()
            .map(|(i, b)| (format!("dictionary batch {i}"), b)))
        .chain(
            batches
                .enumerate()
                .map(|(i, b)| (format!("record batch {i}"), b)),
        );
        for (what, block) in blocks {
            let Ok(offset) = u64::try_from(block.offset()) else {
                continue;
            };
            // arrow-ipc reads the body where the footer puts it, whatever the header says.
            let body = u64::try_from(block.metaDataLength())
                .ok()
                .and_then(|m| offset.checked_add(m))
                .unwrap_or(u64::MAX);
            let header = file
                .seek(SeekFrom::Start(offset))
                .ok()
                .and_then(|_| message_header(file));
            let message = Message {
                what,
                header: header
                    .as_deref()
                    .and_then(|h| arrow_ipc::root_as_message(h).ok()),
                body,
                body_len: block.bodyLength(),
            };
            if let ControlFlow::Break(r) = visit(file, message) {
                return Some(r);
            }
        }
        return None;
    }
    // A stream: messages one after another, each header followed by its body.
    let (mut at, mut batches, mut dictionaries) = (0u64, 0usize, 0usize);
    for _ in 0..MAX_MESSAGES {
        file.seek(SeekFrom::Start(at)).ok()?;
        let header = message_header(file)?;
        let body = file.stream_position().ok()?;
        let header = arrow_ipc::root_as_message(&header).ok()?;
        let what = if header.header_as_record_batch().is_some() {
            batches += 1;
            format!("record batch {}", batches - 1)
        } else if header.header_as_dictionary_batch().is_some() {
            dictionaries += 1;
            format!("dictionary batch {}", dictionaries - 1)
        } else {
            "a message".to_string()
        };
        let body_len = header.bodyLength();
        let message = Message {
            what,
            header: Some(header),
            body,
            body_len,
        };
        if let ControlFlow::Break(r) = visit(file, message) {
            return Some(r);
        }
        at = body.checked_add(u64::try_from(body_len).ok()?)?;
    }
    None
}

/// The header (flatbuffer) of the IPC message at the file's position, which is left at the
/// message's body. `None` at the end of a stream or when it cannot be read.
fn message_header(file: &mut File) -> Option<Vec<u8>> {
    let mut word = [0u8; 4];
    file.read_exact(&mut word).ok()?;
    if word == [0xff; 4] {
        // The continuation marker (format 0.15 and later) before the length.
        file.read_exact(&mut word).ok()?;
    }
    let len = usize::try_from(i32::from_le_bytes(word)).ok()?;
    if len == 0 || len > MAX_HEADER {
        return None;
    }
    let mut header = vec![0u8; len];
    file.read_exact(&mut header).ok()?;
    Some(header)
}
