//! The Terraform frontend: `.tf` and `.tf.json` configurations (with
//! variables, tfvars files, locals and local modules evaluated) and plan
//! JSON (`terraform show -json`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::clickhouse::load::{ConfigNote, Workspace};
use crate::syntax::{hcl, json};

/// What discovery found for Terraform.
#[derive(Debug, Default)]
pub struct Inputs {
    /// Folders holding `.tf`/`.tf.json` files (modules).
    pub dirs: BTreeSet<PathBuf>,
    /// `.tfvars`/`.tfvars.json` files found.
    pub tfvars: Vec<PathBuf>,
    /// Plan or state JSON files (`terraform show -json`).
    pub plans: Vec<PathBuf>,
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default()
}

/// Is this a Terraform configuration file (not a tfvars file)?
pub fn is_config_file(path: &Path) -> bool {
    let name = file_name(path);
    name.ends_with(".tf") || name.ends_with(".tf.json")
}

pub fn is_tfvars_file(path: &Path) -> bool {
    let name = file_name(path);
    name.ends_with(".tfvars") || name.ends_with(".tfvars.json")
}

/// Remove `.` and `..` components without touching the file system.
pub fn normalize(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                let last = out.components().next_back();
                if matches!(last, Some(Component::Normal(_))) {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

impl Inputs {
    /// Take a discovered file if it is Terraform's; true when taken.
    pub fn take(&mut self, ws: &mut Workspace, path: &Path) -> bool {
        if is_config_file(path) {
            let dir = path.parent().map(normalize).unwrap_or_default();
            self.dirs.insert(dir);
            return true;
        }
        if is_tfvars_file(path) {
            self.tfvars.push(path.to_path_buf());
            return true;
        }
        if file_name(path).ends_with(".json") {
            if let Ok(source) = ws.read_source(path) {
                if json::looks_like_plan(&ws.sources.get(source).text) {
                    self.plans.push(path.to_path_buf());
                    return true;
                }
            }
        }
        false
    }

    pub fn is_empty(&self) -> bool {
        self.dirs.is_empty() && self.tfvars.is_empty() && self.plans.is_empty()
    }
}

/// What the Terraform frontend made of the inputs.
#[derive(Debug, Default)]
pub struct Analysis {
    /// Files that cannot be read or parsed.
    pub notes: Vec<ConfigNote>,
}

/// Parse every Terraform file found.
pub fn analyse(ws: &mut Workspace, inputs: &Inputs) -> Analysis {
    let mut out = Analysis::default();
    let note = |n: ConfigNote, out: &mut Analysis| {
        if !out.notes.contains(&n) {
            out.notes.push(n);
        }
    };
    for dir in &inputs.dirs {
        let mut files: Vec<PathBuf> = std::fs::read_dir(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        })
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file() && is_config_file(p))
                .collect()
        })
        .unwrap_or_default();
        files.sort();
        for path in files {
            let path = normalize(&path);
            match ws.read_source(&path) {
                Err(n) => note(n, &mut out),
                Ok(source) => {
                    let text = ws.sources.get(source).text.clone();
                    let parsed = if file_name(&path).ends_with(".json") {
                        json::parse(source, &text)
                            .and_then(|d| hcl::from_json_config(source, &text, &d))
                    } else {
                        hcl::parse(source, &text)
                    };
                    if let Err(error) = parsed {
                        note(ConfigNote::Invalid { source, error }, &mut out);
                    }
                }
            }
        }
    }
    for path in inputs.tfvars.iter().chain(&inputs.plans) {
        match ws.read_source(path) {
            Err(n) => note(n, &mut out),
            Ok(source) => {
                let text = ws.sources.get(source).text.clone();
                let parsed = if file_name(path).ends_with(".json") {
                    json::parse(source, &text).map(|_| ())
                } else {
                    hcl::parse(source, &text).map(|_| ())
                };
                if let Err(error) = parsed {
                    note(ConfigNote::Invalid { source, error }, &mut out);
                }
            }
        }
    }
    out
}
