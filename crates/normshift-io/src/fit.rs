//! Streaming a file into a [`Profile`] or a drift [`Side`].

use crate::{ColumnChunk, ColumnKind, Reader, Result};
use normshift::drift::{ColumnData, Side};
use normshift::profile::{ColumnBuilder, Profile};
use rayon::prelude::*;

/// Reads every batch into one builder per selected column.
fn read_columns(
    reader: &mut Reader,
    builder: impl Fn(&str, ColumnKind) -> ColumnBuilder,
    progress: &mut dyn FnMut(u64),
) -> Result<(u64, Vec<ColumnBuilder>)> {
    let mut builders: Vec<ColumnBuilder> = reader
        .columns()
        .iter()
        .map(|c| builder(&c.name, c.kind))
        .collect();
    let mut rows = 0u64;
    for batch in reader.by_ref() {
        let batch = batch?;
        // Columns are independent: update them in parallel.
        builders
            .par_iter_mut()
            .zip(batch.columns.par_iter())
            .for_each(|(builder, chunk)| {
                // Kinds match by construction (both come from `reader.columns()`).
                let added = match chunk {
                    ColumnChunk::Numeric { values, valid } => {
                        builder.add_numeric(values, valid.as_deref())
                    }
                    ColumnChunk::Categorical(labels) => builder.add_categorical(labels),
                };
                added.expect("column builders follow the reader's kinds");
            });
        rows += batch.rows as u64;
        progress(rows);
    }
    Ok((rows, builders))
}

/// Reads a file into a profile with sketch parameter `k`. `progress` is called after each
/// batch with the rows read so far. Memory: one batch plus the sketches.
pub fn fit_profile(reader: &mut Reader, k: u32, progress: &mut dyn FnMut(u64)) -> Result<Profile> {
    let (rows, builders) = read_columns(
        reader,
        |name, kind| match kind {
            ColumnKind::Numeric => ColumnBuilder::numeric(name, k),
            ColumnKind::Categorical => ColumnBuilder::categorical(name),
        },
        progress,
    )?;
    let source = reader.path().display().to_string();
    Ok(Profile::new(
        vec![source],
        rows,
        builders.into_iter().map(ColumnBuilder::finish).collect(),
    ))
}

/// Reads a file for drift. `exact` keeps every finite numeric value (memory: 8 bytes per
/// value) so tests are exact; otherwise numeric columns are sketched (bounded memory).
pub fn read_side(
    reader: &mut Reader,
    exact: bool,
    k: u32,
    progress: &mut dyn FnMut(u64),
) -> Result<Side> {
    let (rows, builders) = read_columns(
        reader,
        |name, kind| match (kind, exact) {
            (ColumnKind::Numeric, true) => ColumnBuilder::numeric_exact(name),
            (ColumnKind::Numeric, false) => ColumnBuilder::numeric(name, k),
            (ColumnKind::Categorical, _) => ColumnBuilder::categorical(name),
        },
        progress,
    )?;
    // Sorting dominates finishing in exact mode: one column per task.
    let columns = builders
        .into_par_iter()
        .map(|b| {
            let (profile, sorted) = b.finish_with_values();
            ColumnData { profile, sorted }
        })
        .collect();
    Ok(Side {
        source: reader.path().display().to_string(),
        rows,
        columns,
    })
}

/// A drift side from a saved profile (sketch mode).
pub fn side_from_profile(profile: &Profile) -> Side {
    Side {
        source: profile.sources.join(" + "),
        rows: profile.rows,
        columns: profile
            .columns
            .iter()
            .map(|c| ColumnData {
                profile: c.clone(),
                sorted: None,
            })
            .collect(),
    }
}
