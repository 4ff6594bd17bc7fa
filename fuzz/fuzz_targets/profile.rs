//! Any text as a profile: parsing returns a profile or an error; a parsed profile writes and
//! reads back, merges with itself, and compares against itself, without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use normshift::drift::{compare, DriftOptions};
use normshift::profile::Profile;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(profile) = Profile::from_json(text) else {
        return;
    };
    let again = Profile::from_json(&profile.to_json()).expect("a parsed profile reads back");
    if let Ok(merged) = profile.merge(&again) {
        Profile::from_json(&merged.to_json()).expect("a merged profile reads back");
    }
    let side = normshift_io::side_from_profile(&profile);
    let _ = compare(&side, &side, &DriftOptions::default());
});
