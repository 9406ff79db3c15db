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

    /// Where the `.chlint.toml` that applies to the folder `dir` is in the
    /// commit: the first found going up from it, not beyond the repository
    /// root (what [`config_file::discover`] does in the working tree).
    pub fn nearest_path(&self, dir: &Path) -> Option<PathBuf> {
        for dir in dir.ancestors() {
            let candidate = dir.join(FILE_NAME);
            let rel = self.git.relative(&candidate)?;
            if self.files.contains_key(&rel) {
                return Some(candidate);
            }
            if self.git.relative(dir).is_some_and(|r| r.is_empty()) {
                break;
            }
        }
        None
    }

    /// The configuration file at `path` as the commit has it.
    pub fn load(&self, path: &Path) -> Result<Config, String> {
        let text = self.read(path, config_file::MAX_SIZE)?.ok_or_else(|| {
            format!(
                "{}: no such configuration file in commit {}",
                path.display(),
                self.short()
            )
        })?;
        config_file::from_text(path, &self.shown(path), &text)
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
