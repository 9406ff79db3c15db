//! Settings from a trusted commit: `chlint check --config-from-git REV`
//! reads every `.chlint.toml`, the `--config` file and the `--baseline` from
//! commit REV instead of the working tree.
//!
//! On a pull request, REV is the base commit: the pull request's own
//! changes to `.chlint.toml` (`exclude = ["**"]`) or to the baseline (a
//! finding recorded as known) cannot switch its own checks off; they take
//! effect once merged, after review (`chlint review-changes` lists them).
//! Files keep their place in the repository, so globs and baseline paths
//! mean what they mean in the working tree.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::baseline::Baseline;
use crate::config_file::{self, Config, FILE_NAME};
use crate::git::{Git, TreeEntry};

/// Largest baseline read from a commit.
const MAX_BASELINE: u64 = 64 * 1024 * 1024;

/// A commit whose configuration is trusted.
pub struct TrustedBase {
    git: Git,
    /// The full commit id.
    pub commit: String,
    files: HashMap<String, TreeEntry>,
}

impl TrustedBase {
    /// Open the repository holding the working folder at commit `rev`.
    pub fn open(rev: &str) -> Result<TrustedBase, String> {
        let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
        let git = Git::open(&cwd).map_err(|e| format!("--config-from-git: {e}"))?;
        let commit = git
            .resolve_commit(rev)
            .map_err(|e| format!("--config-from-git: {e}"))?;
        let files = git
            .tree(&commit)
            .map_err(|e| format!("--config-from-git: {e}"))?
            .into_iter()
            .map(|e| (e.path.clone(), e))
            .collect();
        Ok(TrustedBase { git, commit, files })
    }

    fn short(&self) -> &str {
        &self.commit[..self.commit.len().min(12)]
    }

    /// `path`, as named in messages: with the commit it was read from.
    fn shown(&self, path: &Path) -> PathBuf {
        PathBuf::from(format!("{} (at {})", path.display(), self.short()))
    }

    /// The text of the file at `path` in the commit; `Ok(None)` when the
    /// commit has no such file. Anything but a regular file is refused (a
    /// link is not followed).
    fn read(&self, path: &Path, max: u64) -> Result<Option<String>, String> {
        let shown = self.shown(path);
        let rel = self.git.relative(path).ok_or_else(|| {
            format!(
                "{}: outside the repository ({})",
                path.display(),
                self.git.root.display()
            )
        })?;
        let Some(entry) = self.files.get(&rel) else {
            return Ok(None);
        };
        if !entry.is_regular() {
            return Err(format!(
                "{}: not a regular file in the commit (a link is not followed)",
                shown.display()
            ));
        }
        if entry.size > max {
            return Err(format!("{}: larger than {max} bytes", shown.display()));
        }
        let bytes = self
            .git
            .blob(&entry.oid, max)
            .map_err(|e| format!("{}: {e}", shown.display()))?;
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| format!("{}: not UTF-8 text", shown.display()))
    }

    /// The configuration of a run over `paths`: `explicit` (`--config`) as
    /// the commit has it, or the `.chlint.toml` found from the paths' common
    /// folder upwards to the repository root in the commit.
    pub fn config(
        &self,
        explicit: Option<&Path>,
        paths: &[PathBuf],
    ) -> Result<Option<Config>, String> {
        if let Some(path) = explicit {
            let text = self.read(path, config_file::MAX_SIZE)?.ok_or_else(|| {
                format!(
                    "{}: no such configuration file in commit {}",
                    path.display(),
                    self.short()
                )
            })?;
            return config_file::from_text(path, &self.shown(path), &text).map(Some);
        }
        match config_file::common_ancestor(paths) {
            Some(start) => self.nearest(&start),
            None => Ok(None),
        }
    }

    /// The `.chlint.toml` that applies to the folder `dir` in the commit:
    /// the first found going up from it, not beyond the repository root
    /// (what [`config_file::discover`] does in the working tree).
    pub fn nearest(&self, dir: &Path) -> Result<Option<Config>, String> {
        for dir in dir.ancestors() {
            let candidate = dir.join(FILE_NAME);
            if let Some(text) = self.read(&candidate, config_file::MAX_SIZE)? {
                return config_file::from_text(&candidate, &self.shown(&candidate), &text)
                    .map(Some);
            }
            if self.git.relative(dir).is_some_and(|r| r.is_empty()) {
                break;
            }
        }
        Ok(None)
    }

    /// The baseline at `path` as the commit has it; `Ok(None)` when the
    /// commit has none (then no finding is excused).
    pub fn baseline(&self, path: &Path) -> Result<Option<Baseline>, String> {
        match self.read(path, MAX_BASELINE)? {
            Some(text) => Baseline::from_text(path, &self.shown(path), &text).map(Some),
            None => Ok(None),
        }
    }
}
