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
    let found = each_message(file, |_, message, _, _| {
        match message.header_as_record_batch() {
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
    let mut batches = 0usize;
    let mut dictionaries = 0usize;
    let found = each_message(file, |file, message, body, body_len| {
        let (batch, what) = if let Some(batch) = message.header_as_record_batch() {
            batches += 1;
            (Some(batch), format!("record batch {}", batches - 1))
        } else if let Some(dictionary) = message.header_as_dictionary_batch() {
            dictionaries += 1;
            (
                dictionary.data(),
                format!("dictionary batch {}", dictionaries - 1),
            )
        } else {
            (None, "a message".to_string())
        };
        let past_the_end =
            |len: i64| u64::try_from(len).map_or(true, |len| body.saturating_add(len) > file_len);
        if let Some(len) = [body_len, message.bodyLength()]
            .into_iter()
            .find(|&l| past_the_end(l))
        {
            return ControlFlow::Break(format!(
                "{what}: its body of {len} bytes at byte {body} runs past the end of the file \
                 ({file_len} bytes): the file is truncated or damaged"
            ));
        }
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

/// Calls `visit(file, message, body_start, body_length)` for each message of an Arrow IPC
/// file (its dictionaries, then its record batches, as its footer lists them, with the body
/// length the footer gives) or stream (in order, with the message's own), until it breaks;
/// `None` if it never does or the messages cannot be followed.
fn each_message<R>(
    file: &mut File,
    mut visit: impl FnMut(&mut File, arrow_ipc::Message<'_>, u64, i64) -> ControlFlow<R>,
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
        let blocks = footer.dictionaries().into_iter().flatten();
        for block in blocks.chain(footer.recordBatches().into_iter().flatten()) {
            let offset = u64::try_from(block.offset()).ok()?;
            file.seek(SeekFrom::Start(offset)).ok()?;
            let header = message_header(file)?;
            let message = arrow_ipc::root_as_message(&header).ok()?;
            let body = offset.checked_add(u64::try_from(block.metaDataLength()).ok()?)?;
            if let ControlFlow::Break(r) = visit(file, message, body, block.bodyLength()) {
                return Some(r);
            }
        }
        return None;
    }
    // A stream: messages one after another, each header followed by its body.
    let mut at = 0u64;
    for _ in 0..MAX_MESSAGES {
        file.seek(SeekFrom::Start(at)).ok()?;
        let header = message_header(file)?;
        let body = file.stream_position().ok()?;
        let message = arrow_ipc::root_as_message(&header).ok()?;
        let body_len = message.bodyLength();
        if let ControlFlow::Break(r) = visit(file, message, body, body_len) {
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
