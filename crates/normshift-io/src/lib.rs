//! Streaming readers and writers for normshift.
//!
//! [`open`] reads CSV, Parquet or Arrow IPC files as an iterator of [`Batch`]es of at most
//! `batch_rows` rows, so memory stays bounded whatever the file size. Each batch carries the
//! selected columns converted to plain vectors ([`ColumnChunk`]: numbers as `f64` with a
//! validity mask, categories as strings) and the raw batch for pass-through writing.
//!
//! Errors name the file and, where it applies, the line (CSV), row group (Parquet) or record batch (Arrow IPC), and column.
//!
//! ```no_run
//! use normshift_io::{open, ReadOptions};
//! let reader = open("data.csv".as_ref(), &ReadOptions::default())?;
//! for batch in reader {
//!     let batch = batch?;
//!     println!("{} rows", batch.rows);
//! }
//! # Ok::<(), normshift_io::Error>(())
//! ```
#![deny(missing_docs)]

mod arrow_columns;
mod csv_reader;
mod csv_records;
mod error;
mod fit;
mod ipc_probe;
mod output;
mod reader;
mod writer;

pub use csv_records::{CsvRecord, CsvRecords};
pub use error::{Error, Part, Result};
pub use fit::{fit_profile, read_side, read_side_unless, side_from_profile};
pub use output::{check_not_input, remove_partial_outputs, AtomicFile};
pub use reader::{
    capped_batch_rows, decoding_foreign_data, open, Batch, ColumnChunk, ColumnInfo, ColumnKind,
    CsvStyle, Format, RawBatch, ReadOptions, Reader, MAX_BATCH_CELLS, MAX_OUTPUT_GROUP_BYTES,
};
pub use writer::{BatchWriter, Replacement};
