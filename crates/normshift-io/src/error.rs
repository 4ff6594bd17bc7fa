use std::path::PathBuf;

/// Why a file could not be read or written. Every variant names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The operating system refused (missing file, permissions, disk full…).
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A CSV problem at a known line (1-based, counting the header as line 1).
    #[error("{path}: line {line}{}: {message}", column.as_ref().map(|c| format!(", column '{c}'")).unwrap_or_default())]
    Csv {
        /// The file.
        path: PathBuf,
        /// Line where the record starts.
        line: u64,
        /// Column name, when one column is at fault.
        column: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// A Parquet or Arrow problem, with the row group or record batch when known.
    #[error("{path}: {}{message}", part.map(|p| format!("{p}: ")).unwrap_or_default())]
    Columnar {
        /// The file.
        path: PathBuf,
        /// The row group (Parquet) or record batch (Arrow IPC) at fault.
        part: Option<Part>,
        /// What is wrong.
        message: String,
    },
    /// The file's columns are unusable (no header, duplicates, unknown selections…).
    #[error("{path}: {message}")]
    Schema {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An output path would overwrite an input.
    #[error("refusing to write {path}: it is also an input; choose another output path")]
    OutputIsInput {
        /// The path.
        path: PathBuf,
    },
}

/// A part of a columnar file, 0-based, as an error names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// A Parquet row group.
    RowGroup(usize),
    /// An Arrow IPC record batch.
    RecordBatch(usize),
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Part::RowGroup(i) => write!(f, "row group {i}"),
            Part::RecordBatch(i) => write!(f, "record batch {i}"),
        }
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn csv(
        path: &std::path::Path,
        line: u64,
        column: Option<&str>,
        message: String,
    ) -> Self {
        Error::Csv {
            path: path.to_path_buf(),
            line,
            column: column.map(str::to_owned),
            message,
        }
    }

    pub(crate) fn schema(path: &std::path::Path, message: impl Into<String>) -> Self {
        Error::Schema {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}
