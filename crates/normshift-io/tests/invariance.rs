//! Profiles of a file do not depend on the batch size or the thread count; very wide files
//! are read in batches capped by cells.

use normshift_io::{capped_batch_rows, fit_profile, open, ReadOptions, MAX_BATCH_CELLS};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io::Write;

fn fit_json(path: &std::path::Path, batch_rows: usize, threads: usize) -> String {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let mut reader = open(
            path,
            &ReadOptions {
                batch_rows,
                ..ReadOptions::default()
            },
        )
        .unwrap();
        fit_profile(&mut reader, 64, &mut |_| {}).unwrap().to_json()
    })
}

#[test]
fn profile_is_identical_for_every_batch_size_and_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.csv");
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(f, "offset,spread,kind").unwrap();
    for i in 0..20_000 {
        let missing = rng.gen_bool(0.01);
        let a = if missing {
            String::new()
        } else {
            format!("{}", 1e8 + rng.gen::<f64>())
        };
        writeln!(
            f,
            "{a},{},{}",
            rng.gen::<f64>() * 1e3 - 500.0,
            ["u", "v", "w"][i % 3]
        )
        .unwrap();
    }
    drop(f);
    let expected = fit_json(&path, 65_536, 1);
    for (batch_rows, threads) in [(1, 2), (7, 1), (1000, 2), (4096, 1), (65_536, 2)] {
        assert_eq!(
            fit_json(&path, batch_rows, threads),
            expected,
            "batch_rows {batch_rows}, threads {threads}"
        );
    }
}

#[test]
fn wide_files_are_read_in_batches_capped_by_cells() {
    assert_eq!(capped_batch_rows(65_536, 20), 65_536);
    assert_eq!(capped_batch_rows(65_536, 5000), MAX_BATCH_CELLS / 5000);
    assert_eq!(capped_batch_rows(65_536, usize::MAX), 1);
    assert_eq!(capped_batch_rows(10, 0), 10);
    // 5,000 columns, 600 rows: every column read, no batch over the cap.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wide.csv");
    let cols = 5000;
    let mut text: String = (0..cols)
        .map(|c| format!("c{c}"))
        .collect::<Vec<_>>()
        .join(",");
    text.push('\n');
    for r in 0..600 {
        let row: Vec<String> = (0..cols).map(|c| format!("{}", r * c % 97)).collect();
        text.push_str(&row.join(","));
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    let reader = open(&path, &ReadOptions::default()).unwrap();
    assert_eq!(reader.columns().len(), cols);
    let cap = capped_batch_rows(65_536, cols);
    let mut rows = 0;
    for batch in reader {
        let batch = batch.unwrap();
        assert!(batch.rows <= cap);
        assert_eq!(batch.columns.len(), cols);
        rows += batch.rows;
    }
    assert_eq!(rows, 600);
}
