//! What a fresh output buffer costs a kernel call, on the large benchmark shapes.
//!
//! Times, on the same data and threads, median of 15 after a warm-up:
//! - *reused*: `forward_train_with` / `backward_with` into buffers allocated once (what the
//!   kernel table of `normshift bench` measures);
//! - *fresh zeroed*: the same calls into a `vec![0.0; n]` made anew for every call (what an
//!   allocating API does when it zero-fills);
//! - *vec, 4 KiB pages*: `forward_train_vec_with` / `backward_vec_with` with
//!   `Execution::with_huge_pages(false)`: new memory, not zero-filled, ordinary pages;
//! - *vec, huge pages*: the same with `Execution::with_huge_pages(true)`, which on Linux
//!   advises outputs of 32 MiB or more for transparent huge pages.
//!
//! ```sh
//! cargo run --release -p normshift-bench --example fresh_outputs
//! ```

use normshift_kernels::{
    backward_vec_with, backward_with, canonical_dims, forward_train_vec_with, forward_train_with,
    inverse_std, Execution, Gradients, Layout, Saved, StatisticsSource,
};
use std::time::Instant;

fn median(mut f: impl FnMut()) -> f64 {
    f();
    let mut t: Vec<f64> = (0..15)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

fn main() -> Result<(), normshift_kernels::KernelError> {
    let exec = Execution::default();
    let (small_pages, huge_pages) = (exec.with_huge_pages(false), exec.with_huge_pages(true));
    println!(
        "{} threads; median ms of 15 calls\n{:<16} {:<14} {:>8} {:>13} {:>16} {:>15}",
        rayon::current_num_threads(),
        "case",
        "op",
        "reused",
        "fresh zeroed",
        "vec, 4 KiB pages",
        "vec, huge pages"
    );
    for shape in [[64usize, 64, 56, 56], [256, 256, 14, 14]] {
        let dims = canonical_dims(&shape, Layout::ChannelsFirst)?;
        let (n, c) = (dims.len(), dims.channels);
        let x: Vec<f32> = (0..n).map(|i| ((i * 7919) % 1000) as f32 * 1e-3).collect();
        let dy: Vec<f32> = (0..n)
            .map(|i| ((i * 104729) % 997) as f32 * 1e-3 - 0.5)
            .collect();
        let (mut mean, mut var) = (vec![0.0; c], vec![0.0; c]);
        let name = format!("{}x{}x{}x{}", shape[0], shape[1], shape[2], shape[3]);

        let mut y = vec![0.0f32; n];
        let reused = median(|| {
            forward_train_with(&exec, &x, dims, None, 1e-5, &mut y, &mut mean, &mut var).unwrap()
        });
        let zeroed = median(|| {
            let mut y = vec![0.0f32; n];
            forward_train_with(&exec, &x, dims, None, 1e-5, &mut y, &mut mean, &mut var).unwrap();
        });
        let mut vec_ms = |exec: &Execution| {
            median(|| {
                forward_train_vec_with(exec, &x, dims, None, 1e-5, &mut mean, &mut var)
                    .map(drop)
                    .unwrap()
            })
        };
        let (small, huge) = (vec_ms(&small_pages), vec_ms(&huge_pages));
        println!(
            "{name:<16} {:<14} {reused:>8.2} {zeroed:>13.2} {small:>16.2} {huge:>15.2}",
            "forward_train"
        );

        let invstd: Vec<f64> = var.iter().map(|&v| inverse_std(v, 1e-5)).collect();
        let saved = Saved {
            mean: &mean,
            invstd: &invstd,
            source: StatisticsSource::Batch,
        };
        let (mut dg, mut db) = (vec![0.0; c], vec![0.0; c]);
        let mut dx = vec![0.0f32; n];
        let into = |dx: &mut [f32], dg: &mut [f64], db: &mut [f64]| {
            let grads = Gradients {
                dx,
                dgamma: dg,
                dbeta: db,
            };
            backward_with(&exec, &x, &dy, dims, saved, None, grads).unwrap()
        };
        let reused = median(|| into(&mut dx, &mut dg, &mut db));
        let zeroed = median(|| into(&mut vec![0.0f32; n], &mut dg, &mut db));
        let mut vec_ms = |exec: &Execution| {
            median(|| {
                backward_vec_with(exec, &x, &dy, dims, saved, None, &mut dg, &mut db)
                    .map(drop)
                    .unwrap()
            })
        };
        let (small, huge) = (vec_ms(&small_pages), vec_ms(&huge_pages));
        println!(
            "{name:<16} {:<14} {reused:>8.2} {zeroed:>13.2} {small:>16.2} {huge:>15.2}",
            "backward"
        );
    }
    Ok(())
}
