//! Streaming a file into a [`Profile`].

use crate::{ColumnChunk, ColumnKind, Reader, Result};
use normshift::profile::{ColumnBuilder, Profile};

/// Reads every batch of `reader` into a profile with sketch parameter `k`. `progress` is
/// called after each batch with the rows read so far. Memory: one batch plus the sketches.
pub fn fit_profile(reader: &mut Reader, k: u32, progress: &mut dyn FnMut(u64)) -> Result<Profile> {
    let mut builders: Vec<ColumnBuilder> = reader
        .columns()
        .iter()
        .map(|c| match c.kind {
            ColumnKind::Numeric => ColumnBuilder::numeric(&c.name, k),
            ColumnKind::Categorical => ColumnBuilder::categorical(&c.name),
        })
        .collect();
    let mut rows = 0u64;
    for batch in reader.by_ref() {
        let batch = batch?;
        for (builder, chunk) in builders.iter_mut().zip(&batch.columns) {
            // Kinds match by construction (both come from `reader.columns()`).
            let added = match chunk {
                ColumnChunk::Numeric { values, valid } => {
                    builder.add_numeric(values, valid.as_deref())
                }
                ColumnChunk::Categorical(labels) => builder.add_categorical(labels),
            };
            added.expect("column builders follow the reader's kinds");
        }
        rows += batch.rows as u64;
        progress(rows);
    }
    let source = reader.path().display().to_string();
    Ok(Profile::new(
        vec![source],
        rows,
        builders.into_iter().map(ColumnBuilder::finish).collect(),
    ))
}
