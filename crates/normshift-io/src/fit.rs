//! Streaming a file into a [`Profile`] or a drift [`Side`].

use crate::{ColumnChunk, ColumnKind, Reader, Result};
use normshift::drift::{ColumnData, Side};
use normshift::profile::{ColumnBuilder, Profile};
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};

/// Reads every batch into one builder per selected column; `None` when `stop` was set before
/// the end (checked before each batch).
fn read_columns(
    reader: &mut Reader,
    builder: impl Fn(&str, ColumnKind) -> ColumnBuilder,
    progress: &mut dyn FnMut(u64),
    stop: &AtomicBool,
) -> Result<Option<(u64, Vec<ColumnBuilder>)>> {
    let mut builders: Vec<ColumnBuilder> = reader
        .columns()
        .iter()
        .map(|c| builder(&c.name, c.kind))
        .collect();
    let mut rows = 0u64;
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let Some(batch) = reader.next() else { break };
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
    Ok(Some((rows, builders)))
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
        &AtomicBool::new(false),
    )?
    .expect("reading is never stopped");
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
    Ok(
        read_side_unless(reader, exact, k, progress, &AtomicBool::new(false))?
            .expect("reading is never stopped"),
    )
}

/// [`read_side`] that gives up, returning `None`, once `stop` is set (checked before each
/// batch): when two files are read at once and one fails, the other need not be read to its
/// end before the error is reported.
pub fn read_side_unless(
    reader: &mut Reader,
    exact: bool,
    k: u32,
    progress: &mut dyn FnMut(u64),
    stop: &AtomicBool,
) -> Result<Option<Side>> {
    let Some((rows, builders)) = read_columns(
        reader,
        |name, kind| match (kind, exact) {
            (ColumnKind::Numeric, true) => ColumnBuilder::numeric_exact(name),
            (ColumnKind::Numeric, false) => ColumnBuilder::numeric(name, k),
            (ColumnKind::Categorical, _) => ColumnBuilder::categorical(name),
        },
        progress,
        stop,
    )?
    else {
        return Ok(None);
    };
    // Sorting dominates finishing in exact mode: one column per task.
    let columns = builders
        .into_par_iter()
        .map(|b| {
            let (profile, sorted) = b.finish_with_values();
            ColumnData { profile, sorted }
        })
        .collect();
    Ok(Some(Side {
        source: reader.path().display().to_string(),
        rows,
        columns,
    }))
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
