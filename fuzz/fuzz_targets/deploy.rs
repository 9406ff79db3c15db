#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

/// The folder the texts are taken to be in (never created: nothing is read).
fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| std::env::temp_dir().join(format!("chlint-fuzz-deploy-{}", std::process::id())))
}

fuzz_target!(|data: &[u8]| chlint::fuzzing::deploy(data, scratch()));
