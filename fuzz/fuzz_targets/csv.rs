//! Any bytes as a CSV file: reading, profiling and exact drift reading must return data or an
//! error, never panic. Small batches and a small inference window reach the batch boundary and
//! the "word after the inferred rows" paths with short inputs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use normshift_io::{fit_profile, open, read_side, ReadOptions};
use std::io::Write;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the batch size, the inference window and the delimiter.
    let Some((&knobs, body)) = data.split_first() else {
        return;
    };
    let mut file = tempfile::Builder::new()
        .suffix(".csv")
        .tempfile_in(std::env::temp_dir())
        .expect("temporary file");
    file.write_all(body).expect("write");
    let options = ReadOptions {
        batch_rows: usize::from(knobs & 0x07) + 1,
        infer_rows: usize::from((knobs >> 3) & 0x07) + 1,
        delimiter: Some(if knobs & 0x40 != 0 { b';' } else { b',' }),
        ..ReadOptions::default()
    };
    if let Ok(mut reader) = open(file.path(), &options) {
        if let Ok(profile) = fit_profile(&mut reader, 8, &mut |_| {}) {
            // Whatever was read must survive its own JSON.
            let text = profile.to_json();
            normshift::profile::Profile::from_json(&text).expect("a fitted profile reads back");
        }
    }
    if let Ok(mut reader) = open(file.path(), &options) {
        let _ = read_side(&mut reader, knobs & 0x80 != 0, 8, &mut |_| {});
    }
});
