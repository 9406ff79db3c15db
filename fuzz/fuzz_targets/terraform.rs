#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

/// One scratch folder per fuzzing process.
fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| std::env::temp_dir().join(format!("chlint-fuzz-tf-{}", std::process::id())))
}

fuzz_target!(|data: &[u8]| chlint::fuzzing::terraform(data, scratch()));
