//! What arrow-ipc's readers do not say or check before they act: the compression of an Arrow
//! IPC input (for an output compressed alike), and the sizes its messages declare, which
//! arrow-ipc allocates before reading: a body as long as the footer says (zero-filled: a
//! 1.3 KB file declaring 4 GB took 4 GB and 12 s before failing), and a compressed buffer as
//! long as its first 8 bytes say (for LZ4 infallibly: 2^56 bytes aborted the process). Both
//! read only message headers and the 8-byte size at the start of each compressed buffer.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::ops::ControlFlow;

/// The largest IPC message header or footer read: larger is damage, not a schema.
const MAX_HEADER: usize = 64 << 20;

/// Most messages of a stream looked at before giving up (each costs a read and a seek).
const MAX_MESSAGES: usize = 1_000_000;

/// The compression codec of the first record batch of an Arrow IPC file or stream. `None`
/// when it is uncompressed, there is none, or the messages cannot be followed (the reader
/// then reports what is wrong). Leaves the file's position anywhere.
pub(crate) fn first_batch_compression(file: &mut File) -> Option<arrow_ipc::CompressionType> {
    let found = each_message(file, |_, message| {
        match message.header.and_then(|h| h.header_as_record_batch()) {
            Some(batch) => ControlFlow::Break(batch.compression().map(|c| c.codec())),
            None => ControlFlow::Continue(()),
        }
    });
    found.flatten()
}

/// Refuses a message body that runs past the end of the file, and a compressed buffer (of a
/// record batch or a dictionary) that declares more than `limit` bytes once decompressed: the
/// text says which message. Messages that cannot be followed are left to the reader. Leaves
/// the file's position anywhere.
pub(crate) fn check_declared_sizes(file: &mut File, limit: u64) -> Result<(), String> {
    let file_len = file.metadata().map_err(|e| e.to_string())?.len();
    let found = each_message(file, |file, message| {
        let Message {
            what,
            header,
            body,
            body_len,
        } = message;
        let past_the_end =
            |len: i64| u64::try_from(len).map_or(true, |len| body.saturating_add(len) > file_len);
        let declared = [Some(body_len), header.map(|h| h.bodyLength())];
        if let Some(len) = declared.into_iter().flatten().find(|&l| past_the_end(l)) {
            return ControlFlow::Break(format!(
                "{what}: its body of {len} bytes at byte {body} runs past the end of the file \
                 ({file_len} bytes): the file is truncated or damaged"
            ));
        }
        let batch = header.and_then(|h| {
            h.header_as_record_batch()
                .or_else(|| h.header_as_dictionary_batch().and_then(|d| d.data()))
        });
        let Some(batch) = batch.filter(|b| b.compression().is_some()) else {
            return ControlFlow::Continue(());
        };
        for buffer in batch.buffers().iter().flatten() {
            // A compressed buffer starts with its decompressed length (-1: stored as is).
            if buffer.length() < 8 {
                continue;
            }
            let Some(at) = u64::try_from(buffer.offset())
                .ok()
                .and_then(|o| body.checked_add(o))
            else {
                continue;
            };
            let mut word = [0u8; 8];
            if file.seek(SeekFrom::Start(at)).is_err() || file.read_exact(&mut word).is_err() {
                continue;
            }
            let declared = i64::from_le_bytes(word);
            if u64::try_from(declared).is_ok_and(|d| d > limit) {
                return ControlFlow::Break(format!(
                    "{what}: a compressed buffer declares {declared} bytes once decompressed, \
                     more than this machine's memory ({limit} bytes): the file is damaged"
                ));
            }
        }
        ControlFlow::Continue(())
    });
    found.map_or(Ok(()), Err)
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
