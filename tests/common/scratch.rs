//! Scratch folders and copying recorded case inputs into them.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// What `RUN/etc/` stands for in the recorded oracle files: the server's
/// config folder.
pub const RUN_ETC: &str = "RUN/etc/";
/// Files of a recorded case's `input/` that are not configuration.
pub const NOT_CONFIG: [&str; 2] = ["env", "probe"];

/// A temporary folder, deleted when dropped (unless kept).
pub struct Scratch {
    path: PathBuf,
    keep: bool,
}

impl Scratch {
    pub fn new(label: &str) -> Result<Scratch, String> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let label: String = label
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = std::env::temp_dir().join(format!(
            "chlint-test-{}-{}-{nanos}-{label}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Scratch { path, keep: false })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Leave the folder in place (to look at a failure).
    pub fn keep(&mut self) {
        self.keep = true;
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !self.keep {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// Copy `from`'s contents into `to`, pointing `RUN/etc/` at `etc`; at the top
/// level, skip the files that are not configuration (`env`, `probe`).
pub fn copy_case_tree(from: &Path, to: &Path, etc: &Path) -> Result<(), String> {
    copy_tree(from, to, etc, true)
}

fn copy_tree(from: &Path, to: &Path, etc: &Path, top: bool) -> Result<(), String> {
    let entries = fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", from.display()))?;
        let name = entry.file_name();
        if top && NOT_CONFIG.iter().any(|n| name == *n) {
            continue;
        }
        let src = entry.path();
        let dst = to.join(&name);
        if src.is_dir() {
            fs::create_dir_all(&dst).map_err(|e| format!("{}: {e}", dst.display()))?;
            copy_tree(&src, &dst, etc, false)?;
        } else {
            copy_case_file(&src, &dst, etc)?;
        }
    }
    Ok(())
}

/// Copy one file, pointing `RUN/etc/` at `etc`.
pub fn copy_case_file(src: &Path, dst: &Path, etc: &Path) -> Result<(), String> {
    let bytes = fs::read(src).map_err(|e| format!("{}: {e}", src.display()))?;
    let bytes = match String::from_utf8(bytes) {
        Ok(text) => text
            .replace(RUN_ETC, &format!("{}/", etc.display()))
            .into_bytes(),
        Err(e) => e.into_bytes(),
    };
    fs::write(dst, bytes).map_err(|e| format!("{}: {e}", dst.display()))
}

pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
