//! `.chlint.toml`: project settings, each file's own: found from the file's
//! folder upwards to the repository root (the first folder holding `.git`),
//! or named with `--config` for every file. Unknown keys are errors: a misspelt `ignore` must not silently
//! turn into "check everything" or "check nothing".
//!
//! ```toml
//! select = ["CH1", "CH2", "plaintext-password"]  # default: every rule
//! ignore = ["CH203"]
//! exclude = ["testdata/**", "legacy/"]
//! min-severity = "medium"
//! fail-on = "high"
//!
//! [severity]
//! CH306 = "high"
//!
//! [per-path-ignores]
//! "dev/**" = ["CH202", "user-network-unrestricted"]
//! ```

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The file name looked for.
pub const FILE_NAME: &str = ".chlint.toml";

/// The file as written. Rule lists hold codes (`CH203`), code prefixes
/// (`CH2`) or names (`mysql-postgres-port-enabled`); severities are
/// `critical`, `high`, `medium` or `low`; globs are relative to the folder
/// holding the file.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConfigFile {
    /// Only these rules run (default: all).
    pub select: Option<Vec<String>>,
    /// These rules do not run.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Findings in files matching these globs are not reported.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Findings below this severity are not reported.
    pub min_severity: Option<String>,
    /// Findings at or above this severity make the exit code 1.
    pub fail_on: Option<String>,
    /// A severity per rule, replacing the rule's own.
    #[serde(default)]
    pub severity: BTreeMap<String, String>,
    /// Rules not reported in files matching a glob.
    #[serde(default)]
    pub per_path_ignores: BTreeMap<String, Vec<String>>,
}

/// A configuration file, read.
#[derive(Debug)]
pub struct Config {
    pub path: PathBuf,
    /// The folder globs are relative to (absolute).
    pub dir: PathBuf,
    pub file: ConfigFile,
}

/// The keys of the file, shown in parse errors (other quoted text is not).
const KEYS: [&str; 7] = [
    "select",
    "ignore",
    "exclude",
    "min-severity",
    "fail-on",
    "severity",
    "per-path-ignores",
];

/// Parse the text of a configuration file. The error gives the line, the
/// column and the parser's message, never the text: the file may be a link
/// to anything in the repository (`deploy/.env`).
pub fn parse(text: &str) -> Result<ConfigFile, String> {
    toml::from_str(text).map_err(|e| {
        let (line, column) = e
            .span()
            .map_or((1, 1), |s| crate::safe_file::line_column(text, s.start));
        crate::safe_file::parse_error(line, column, e.message(), &KEYS)
    })
}

/// Read a configuration file found in a repository (links may not leave
/// the folder it was found in); any problem is an error (exit code 2).
pub fn load(path: &Path) -> Result<Config, String> {
    let dir = absolute(path)
        .parent()
        .and_then(|d| d.canonicalize().ok())
        .unwrap_or_default();
    load_within(path, &dir)
}

/// Read the configuration file named with `--config`: a regular file
/// inside the repository (see [`crate::safe_file::repository_root`]).
pub fn load_named(path: &Path) -> Result<Config, String> {
    load_within(path, &crate::safe_file::repository_root()?)
}

fn load_within(path: &Path, root: &Path) -> Result<Config, String> {
    let text = crate::safe_file::read_text(path, root, MAX_SIZE).map_err(|e| {
        format!(
            "{}: cannot read the configuration file: {e}",
            path.display()
        )
    })?;
    from_text(path, path, &text)
}

/// A configuration file's text, read elsewhere (from a commit): its globs
/// are relative to `path`'s folder; errors name it `shown`.
pub fn from_text(path: &Path, shown: &Path, text: &str) -> Result<Config, String> {
    let file =
        parse(text).map_err(|e| format!("{}: invalid configuration file: {e}", shown.display()))?;
    let abs = absolute(path);
    let dir = abs.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok(Config {
        path: shown.to_path_buf(),
        dir,
        file,
    })
}

/// Largest configuration file read.
pub const MAX_SIZE: u64 = 1024 * 1024;

/// Is this found configuration file safe to read: a regular file, and, when
/// it is a symbolic link, one to a file inside the folder it was found in
/// (a repository's link to `/etc/shadow` would otherwise be printed in the
/// parse error).
fn safe_candidate(candidate: &Path, dir: &Path) -> bool {
    let is_link = std::fs::symlink_metadata(candidate).is_ok_and(|m| m.file_type().is_symlink());
    if !candidate.is_file() {
        return false;
    }
    if !is_link {
        return true;
    }
    match (candidate.canonicalize(), dir.canonicalize()) {
        (Ok(real), Ok(dir)) => real.starts_with(dir),
        _ => false,
    }
}

/// The `.chlint.toml` that applies to `start` (a file or folder): the
/// first one found going up from it, not beyond the folder that holds `.git`.
pub fn discover(start: &Path) -> Option<PathBuf> {
    discover_with(start, &mut HashMap::new())
}

/// [`discover`], remembering answers in `cache` (see [`discover_in`]).
pub fn discover_with(
    start: &Path,
    cache: &mut HashMap<PathBuf, Option<PathBuf>>,
) -> Option<PathBuf> {
    let start = absolute(start);
    let dir = if start.is_dir() {
        start.as_path()
    } else {
        start.parent()?
    };
    discover_in(dir, cache)
}

/// [`discover`] for a file's folder, remembering the answer for every
/// folder passed on the way up (a run asks for thousands of files, in a
/// few folders).
pub fn discover_in(dir: &Path, cache: &mut HashMap<PathBuf, Option<PathBuf>>) -> Option<PathBuf> {
    let mut passed = Vec::new();
    let mut at = Some(dir);
    let found = loop {
        let Some(d) = at else { break None };
        if let Some(known) = cache.get(d) {
            break known.clone();
        }
        passed.push(d.to_path_buf());
        let candidate = d.join(FILE_NAME);
        if safe_candidate(&candidate, d) {
            break Some(candidate);
        }
        if d.join(".git").exists() {
            break None;
        }
        at = d.parent();
    };
    for d in passed {
        cache.insert(d, found.clone());
    }
    found
}

/// An absolute, lexically normalised path (`.` and `..` resolved without
/// touching the file system, so paths that do not exist work too).
pub fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    normalise(&joined)
}

pub fn normalise(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            // `..` takes a name off; above the root it stays the root, and
            // leading ones of a relative path stay.
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_errors() {
        let e = parse("selct = [\"CH1\"]\n").unwrap_err();
        assert!(e.contains("unknown field `selct`"), "{e}");
        let e = parse("[severity]\nCH101 = 3\n").unwrap_err();
        assert!(e.contains("invalid type"), "{e}");
    }

    #[test]
    fn the_module_example_parses() {
        let doc = include_str!("config_file.rs");
        let example: String = doc
            .lines()
            .skip_while(|l| !l.starts_with("//! ```toml"))
            .skip(1)
            .take_while(|l| !l.starts_with("//! ```"))
            .map(|l| l.trim_start_matches("//!").trim_start_matches(' '))
            .collect::<Vec<_>>()
            .join("\n");
        let c = parse(&example).unwrap();
        assert_eq!(c.ignore, ["CH203"]);
        assert_eq!(c.per_path_ignores["dev/**"].len(), 2);
    }

    #[test]
    fn normalising_is_lexical() {
        assert_eq!(normalise(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        assert_eq!(normalise(Path::new("../..")), PathBuf::from("../.."));
        assert_eq!(normalise(Path::new("a/../../b")), PathBuf::from("../b"));
        assert_eq!(normalise(Path::new("/../a")), PathBuf::from("/a"));
    }
}
