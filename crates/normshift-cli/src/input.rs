//! Turning command-line read options into library readers and writing outputs safely.

use crate::cli::{FormatArg, ReadArgs};
use crate::printer::Printer;
use anyhow::Context;
use normshift::profile::Profile;
use normshift_io::{AtomicFile, Format, ReadOptions};
use std::io::Write;
use std::path::Path;

pub fn read_options(args: &ReadArgs) -> anyhow::Result<ReadOptions> {
    let delimiter = match args.delimiter {
        Some(c) if c.is_ascii() => Some(c as u8),
        Some(c) => anyhow::bail!("--delimiter must be a single ASCII character, got '{c}'"),
        None => None,
    };
    if args.batch_rows == 0 {
        anyhow::bail!("--batch-rows must be at least 1");
    }
    Ok(ReadOptions {
        format: args.format.map(|f| match f {
            FormatArg::Csv => Format::Csv,
            FormatArg::Parquet => Format::Parquet,
            FormatArg::Arrow => Format::ArrowIpc,
        }),
        delimiter,
        batch_rows: args.batch_rows,
        columns: args.columns.clone(),
        exclude: args.exclude.clone(),
        categorical: args.categorical.clone(),
        ..ReadOptions::default()
    })
}

/// Reads a profile JSON file.
pub fn load_profile(path: &Path) -> anyhow::Result<Profile> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read profile", path.display()))?;
    Profile::from_json(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Writes text to `path` through a temporary file, never over an input.
pub fn write_atomically(path: &Path, inputs: &[&Path], text: &str) -> anyhow::Result<()> {
    finish_output(start_output(path, inputs)?, text)
}

/// Refuses an output that is an input and opens its temporary file, before any long work: an
/// unwritable destination fails at once, and an interrupt finds the temporary file to remove.
pub fn start_output(path: &Path, inputs: &[&Path]) -> anyhow::Result<AtomicFile> {
    normshift_io::check_not_input(path, inputs)?;
    Ok(AtomicFile::create(path)?)
}

/// Writes `text` into an output from [`start_output`] and renames it into place.
pub fn finish_output(mut out: AtomicFile, text: &str) -> anyhow::Result<()> {
    let path = out.path().to_path_buf();
    out.file()
        .write_all(text.as_bytes())
        .with_context(|| format!("{}: cannot write", path.display()))?;
    out.commit()?;
    Ok(())
}

/// Opens a data file, saying on stderr which columns it leaves out for their type (a date
/// column missing from a drift report without a word would look like a column without drift).
pub fn open_data(
    path: &Path,
    options: &ReadOptions,
    printer: &Printer,
) -> anyhow::Result<normshift_io::Reader> {
    let reader = normshift_io::open(path, options)?;
    // A `;`-, tab- or `|`-separated file read with commas is one column named after the
    // whole header line: valid, but almost certainly not what was meant.
    if let (Some(style), [only]) = (reader.csv_style(), reader.header()) {
        let delimiter = style.delimiter as char;
        if let Some(other) = [';', '\t', '|', ',']
            .into_iter()
            .find(|&c| c != delimiter && only.contains(c))
        {
            let shown = if other == '\t' {
                "tab".to_string()
            } else {
                format!("'{other}'")
            };
            printer.note(&format!(
                "note: {}: the header is one column, '{only}'; if the file is separated by {shown}, \
                 pass --delimiter {}",
                path.display(),
                if other == '\t' { "tab".to_string() } else { format!("'{other}'") }
            ));
        }
    }
    if !reader.skipped().is_empty() {
        printer.note(&format!(
            "note: {}: left out {} column(s) of a type normshift cannot compare (dates, times, lists, binary…): {}",
            path.display(),
            reader.skipped().len(),
            reader.skipped().join(", ")
        ));
    }
    Ok(reader)
}
