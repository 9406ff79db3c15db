//! `chlint inspect FILE` with FILE given in the ways people type it.

use std::path::Path;
use std::process::Command;

#[test]
fn inspect_takes_a_bare_file_name() {
    // Regression: a file name without a folder has an empty parent, which
    // made `chlint inspect config.xml` fail with "no such file or directory".
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/open");
    let out = Command::new(env!("CARGO_BIN_EXE_chlint"))
        .args(["inspect", "config.xml"])
        .current_dir(&dir)
        .output()
        .expect("chlint runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v.as_array().map(Vec::len), Some(1));
    assert!(v[0]["users"]
        .as_array()
        .is_some_and(|u| u.iter().any(|u| u["name"] == "default")));
}
