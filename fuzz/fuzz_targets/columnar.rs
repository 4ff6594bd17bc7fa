//! Any bytes as a Parquet or Arrow IPC file: opening (with the IPC compression probe),
//! profiling and writing an output like the input must return data or an error, never panic;
//! Arrow bytes are also read from a pipe (the stream checked message by message).
#![no_main]

use libfuzzer_sys::fuzz_target;
use normshift_io::{fit_profile, open, BatchWriter, Format, ReadOptions};
use std::io::Write;

/// libfuzzer-sys's panic hook aborts on every panic, also one normshift-io catches: a panic
/// of arrow-ipc or parquet on damaged bytes becomes an error there (see
/// `normshift_io::decoding_foreign_data`), so only panics elsewhere abort.
fn spare_caught_decoder_panics() {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let aborting = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !normshift_io::decoding_foreign_data() {
                aborting(info);
            }
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    spare_caught_decoder_panics();
    // The first byte picks the format and the batch size.
    let Some((&knobs, body)) = data.split_first() else {
        return;
    };
    let (format, suffix) = if knobs & 1 == 0 {
        (Format::Parquet, ".parquet")
    } else {
        (Format::ArrowIpc, ".arrow")
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let input = dir.path().join(format!("in{suffix}"));
    std::fs::File::create(&input)
        .and_then(|mut f| f.write_all(body))
        .expect("write");
    let options = ReadOptions {
        format: Some(format),
        batch_rows: usize::from(knobs >> 1) + 1,
        ..ReadOptions::default()
    };
    if let Ok(mut reader) = open(&input, &options) {
        if let Ok(profile) = fit_profile(&mut reader, 8, &mut |_| {}) {
            let text = profile.to_json();
            normshift::profile::Profile::from_json(&text).expect("a fitted profile reads back");
        }
    }
    // The same bytes from a pipe, as an Arrow IPC stream (checked message by message).
    if format == Format::ArrowIpc {
        let (pipe, mut writer) = std::io::pipe().expect("pipe");
        let bytes = body.to_vec();
        let feeder = std::thread::spawn(move || {
            let _ = writer.write_all(&bytes);
        });
        let path = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&pipe));
        if let Ok(mut reader) = open(std::path::Path::new(&path), &options) {
            let _ = fit_profile(&mut reader, 8, &mut |_| {});
        }
        drop(pipe);
        feeder.join().expect("feeder");
    }
    // An output like the input, every batch passed through.
    if let Ok(mut reader) = open(&input, &options) {
        let output = dir.path().join(format!("out{suffix}"));
        if let Ok(mut writer) = BatchWriter::like(&output, &reader) {
            let mut ok = true;
            for batch in reader.by_ref() {
                match batch {
                    Ok(batch) => {
                        if writer.write(&batch, &[]).is_err() {
                            ok = false;
                            break;
                        }
                    }
                    Err(_) => {
                        ok = false;
                        break;
                    }
                }
            }
            if ok {
                let _ = writer.finish();
            }
        }
    }
});
