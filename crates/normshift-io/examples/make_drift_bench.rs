//! Writes the drift benchmark's data: reference and current Parquet files of 1,000,000 rows ×
//! 20 float64 columns (seeded), with columns c00–c02 shifted in the current file.
//!
//! ```sh
//! cargo run --release -p normshift-io --example make_drift_bench -- /tmp/drift-bench [ROWS]
//! ```

use arrow_array::{ArrayRef, Float64Array, RecordBatch};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;

const COLUMNS: usize = 20;

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let (u, v): (f64, f64) = (rng.gen::<f64>().max(1e-300), rng.gen());
    (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

fn write(path: &std::path::Path, rows: usize, seed: u64, shifted: bool) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let file = std::fs::File::create(path).expect("create output");
    let mut writer = None;
    let chunk = 131_072;
    let mut done = 0;
    while done < rows {
        let n = chunk.min(rows - done);
        let columns: Vec<(String, ArrayRef)> = (0..COLUMNS)
            .map(|c| {
                // Column c: mean c, sd 1 + c/10; in the current file c00 moves by 0.5 sd,
                // c01 doubles its spread, c02 moves by 0.05 sd (significant, below the effect bar).
                let (mut mean, mut sd) = (c as f64, 1.0 + c as f64 / 10.0);
                if shifted {
                    match c {
                        0 => mean += 0.5 * sd,
                        1 => sd *= 2.0,
                        2 => mean += 0.05 * sd,
                        _ => {}
                    }
                }
                let values: Vec<f64> = (0..n).map(|_| mean + sd * normal(&mut rng)).collect();
                (
                    format!("c{c:02}"),
                    Arc::new(Float64Array::from(values)) as ArrayRef,
                )
            })
            .collect();
        let batch = RecordBatch::try_from_iter(columns).expect("batch");
        let w = writer.get_or_insert_with(|| {
            parquet::arrow::ArrowWriter::try_new(file.try_clone().unwrap(), batch.schema(), None)
                .unwrap()
        });
        w.write(&batch).expect("write");
        done += n;
    }
    writer.expect("at least one batch").close().expect("close");
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().unwrap_or_else(|| "drift-bench".into()));
    let rows: usize = args
        .next()
        .map_or(1_000_000, |r| r.parse().expect("ROWS is a number"));
    std::fs::create_dir_all(&dir).expect("create directory");
    write(&dir.join("reference.parquet"), rows, 1, false);
    write(&dir.join("current.parquet"), rows, 2, true);
    println!(
        "wrote {0}/reference.parquet and {0}/current.parquet ({rows} rows x {COLUMNS} columns)",
        dir.display()
    );
}
