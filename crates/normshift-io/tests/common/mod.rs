//! Helpers shared by the integration tests of this crate.

use normshift_io::{open, ColumnChunk, Error, ReadOptions};
use std::path::Path;

/// Each selected column's values, as text.
pub type Labels = Vec<Vec<Option<String>>>;

/// Every batch of a file, the columns concatenated, as text (`#v` for a number, `None` for
/// a missing value).
pub fn labels(path: &Path, options: &ReadOptions) -> Result<Labels, Error> {
    let reader = open(path, options)?;
    let mut columns: Labels = vec![Vec::new(); reader.columns().len()];
    for batch in reader {
        for (acc, chunk) in columns.iter_mut().zip(batch?.columns) {
            match chunk {
                ColumnChunk::Categorical(v) => acc.extend(v),
                ColumnChunk::Numeric { values, valid } => acc.extend(
                    values
                        .iter()
                        .enumerate()
                        .map(|(i, v)| valid.as_ref().is_none_or(|m| m[i]).then(|| format!("#{v}"))),
                ),
            }
        }
    }
    Ok(columns)
}
