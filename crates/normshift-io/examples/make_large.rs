//! Writes the large-data check's files, streaming (memory stays a few MB whatever the size):
//! `large.csv` and `large.parquet`, each at least GB gigabytes (default 2.2), with 20 float64
//! columns `c00`–`c19` and a categorical column `kind`, seeded. The Parquet file's `c00` is
//! shifted by half a standard deviation, so a drift check between them has something to find.
//!
//! ```sh
//! cargo run --release -p normshift-io --example make_large -- /tmp/normshift-large [GB]
//! ```
//! `scripts/large-data.sh` runs it and then `fit` and `drift` on the files.

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io::Write;
use std::sync::Arc;

const COLUMNS: usize = 20;
const CHUNK_ROWS: usize = 65_536;
const KINDS: [&str; 4] = ["alpha", "beta", "gamma", "delta"];

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let (u, v): (f64, f64) = (rng.gen::<f64>().max(1e-300), rng.gen());
    (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

/// One chunk of rows: column-major values and the kind of each row.
fn chunk(rng: &mut ChaCha8Rng, rows: usize, shifted: bool) -> (Vec<Vec<f64>>, Vec<&'static str>) {
    let columns = (0..COLUMNS)
        .map(|c| {
            let (mut mean, sd) = (c as f64 * 10.0, 1.0 + c as f64);
            if shifted && c == 0 {
                mean += 0.5 * sd;
            }
            (0..rows).map(|_| mean + sd * normal(rng)).collect()
        })
        .collect();
    let kinds = (0..rows)
        .map(|_| KINDS[rng.gen_range(0..KINDS.len())])
        .collect();
    (columns, kinds)
}

fn header() -> Vec<String> {
    (0..COLUMNS)
        .map(|c| format!("c{c:02}"))
        .chain(["kind".to_string()])
        .collect()
}

/// Returns the rows written.
fn write_csv(path: &std::path::Path, bytes: u64) -> u64 {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let file = std::fs::File::create(path).expect("create CSV");
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    writeln!(out, "{}", header().join(",")).expect("write");
    let (mut rows, mut written) = (0u64, 0u64);
    let mut line = String::new();
    while written < bytes {
        let (columns, kinds) = chunk(&mut rng, CHUNK_ROWS, false);
        for (r, kind) in kinds.iter().enumerate() {
            line.clear();
            for column in &columns {
                use std::fmt::Write as _;
                write!(line, "{:.6},", column[r]).expect("format");
            }
            line.push_str(kind);
            line.push('\n');
            out.write_all(line.as_bytes()).expect("write");
            written += line.len() as u64;
        }
        rows += CHUNK_ROWS as u64;
    }
    out.flush().expect("flush");
    rows
}

fn write_parquet(path: &std::path::Path, bytes: u64) -> u64 {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let file = std::fs::File::create(path).expect("create Parquet");
    let mut writer: Option<parquet::arrow::ArrowWriter<std::fs::File>> = None;
    let mut rows = 0u64;
    // Uncompressed random doubles: the file is about 8 bytes per value plus the labels.
    let per_row = (COLUMNS * 8 + 6) as u64;
    while rows * per_row < bytes {
        let (columns, kinds) = chunk(&mut rng, CHUNK_ROWS, true);
        let mut arrays: Vec<(String, ArrayRef)> = columns
            .into_iter()
            .zip(header())
            .map(|(values, name)| (name, Arc::new(Float64Array::from(values)) as ArrayRef))
            .collect();
        arrays.push((
            "kind".into(),
            Arc::new(StringArray::from(kinds)) as ArrayRef,
        ));
        let batch = RecordBatch::try_from_iter(arrays).expect("batch");
        let w = writer.get_or_insert_with(|| {
            parquet::arrow::ArrowWriter::try_new(
                file.try_clone().expect("clone handle"),
                batch.schema(),
                None,
            )
            .expect("Parquet writer")
        });
        w.write(&batch).expect("write");
        rows += CHUNK_ROWS as u64;
    }
    writer.expect("at least one chunk").close().expect("close");
    rows
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().unwrap_or_else(|| "normshift-large".into()));
    let gb: f64 = args
        .next()
        .map_or(2.2, |g| g.parse().expect("GB is a number"));
    let bytes = (gb * 1e9) as u64;
    std::fs::create_dir_all(&dir).expect("create directory");
    let csv = dir.join("large.csv");
    let rows = write_csv(&csv, bytes);
    let size = std::fs::metadata(&csv).expect("stat").len();
    println!(
        "{}: {rows} rows x {} columns, {size} bytes",
        csv.display(),
        COLUMNS + 1
    );
    let parquet = dir.join("large.parquet");
    let rows = write_parquet(&parquet, bytes);
    let size = std::fs::metadata(&parquet).expect("stat").len();
    println!(
        "{}: {rows} rows x {} columns, {size} bytes",
        parquet.display(),
        COLUMNS + 1
    );
}
