//! One path, however it is spelled: every path named on the command line is
//! resolved once to a canonical absolute path, and everything inside chlint
//! works with those. How a path is printed is decided here, at the end:
//! relative to the working folder where the input was relative, absolute
//! where it was absolute ([`display`]); SARIF and baselines use paths
//! relative to a fixed folder instead ([`relative_to`], [`repo_root`]), so
//! that neither depends on the spelling or the working folder.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

use crate::config_file::{absolute, normalise};

/// The canonical absolute form of a named path: a folder with every link
/// resolved; a file with its folder's links resolved and its own name kept
/// (a link named in `config.d/` merges as that name, wherever it leads).
/// `None` when the path does not exist (the caller reports it as given).
pub fn canonical(path: &Path) -> Option<PathBuf> {
    let meta = std::fs::metadata(path).ok();
    if meta.as_ref().is_some_and(|m| m.is_dir()) {
        return path.canonicalize().ok();
    }
    // A name that no folder holds (`..`, `/`) is not a file's.
    let name = match path.components().next_back()? {
        Component::Normal(n) => n.to_os_string(),
        _ => return path.canonicalize().ok(),
    };
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let dir = parent.canonicalize().ok()?;
    let full = dir.join(name);
    std::fs::symlink_metadata(&full).is_ok().then_some(full)
}

/// The canonical absolute form of a name that need not exist (standard
/// input's `--stdin-filename`): its folder resolved when it exists,
/// lexically otherwise.
pub fn canonical_name(path: &Path) -> PathBuf {
    if let Some(c) = canonical(path) {
        return c;
    }
    let abs = absolute(path);
    match (abs.parent(), abs.file_name()) {
        (Some(dir), Some(name)) => match dir.canonicalize() {
            Ok(dir) => dir.join(name),
            Err(_) => abs,
        },
        _ => abs,
    }
}

/// `path` relative to `base` (both absolute), with `..` where it lies
/// outside; `path` itself when they share no root (another drive).
pub fn relative_to(path: &Path, base: &Path) -> PathBuf {
    let (path, base) = (normalise(path), normalise(base));
    let mut p = path.components().peekable();
    let mut b = base.components().peekable();
    // A different root or prefix: no relative form.
    if p.peek() != b.peek() {
        return path;
    }
    while let (Some(x), Some(y)) = (p.peek(), b.peek()) {
        if x != y {
            break;
        }
        p.next();
        b.next();
    }
    let mut out: PathBuf = b.map(|_| Component::ParentDir).collect();
    out.extend(p);
    out
}

/// The repository root for `start` (a folder): the first folder from it
/// upwards that holds `.git` (a folder, or a file in a worktree).
pub fn repo_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

/// The folder SARIF locations are relative to (`%SRCROOT%`): the
/// repository holding the working folder, else the one holding the first
/// input that is in one, else the working folder.
pub fn source_root(inputs: &[PathBuf]) -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    repo_root(&cwd)
        .or_else(|| {
            inputs
                .iter()
                .filter(|p| p.is_absolute())
                .find_map(|p| repo_root(p))
        })
        .or(Some(cwd))
}

/// A named input: its canonical form, and how the user spelled it.
#[derive(Clone, Debug)]
pub struct Input {
    /// The folder the input covers (a named file's folder), canonical.
    pub root: PathBuf,
    /// The same folder as the user spelled it, lexically normalised:
    /// relative (`""` for the working folder) or absolute.
    pub shown: PathBuf,
}

impl Input {
    /// `spelled` as named; `canonical` its [`canonical`] form.
    pub fn new(spelled: &Path, canonical: &Path) -> Input {
        let named_dir = canonical.is_dir();
        let root = if named_dir {
            canonical.to_path_buf()
        } else {
            canonical
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default()
        };
        let lexical = normalise(spelled);
        let shown = if named_dir {
            lexical
        } else {
            lexical.parent().map(Path::to_path_buf).unwrap_or_default()
        };
        // `link/..` is not lexically what it is: such a spelling is printed
        // from the folder itself.
        let leads_there = absolute(&shown).canonicalize().is_ok_and(|s| s == root);
        let shown = match std::env::current_dir() {
            Ok(cwd) if !leads_there && shown.is_relative() => relative_to(&root, &cwd),
            _ if !leads_there => root.clone(),
            _ => shown,
        };
        Input { root, shown }
    }
}

/// How paths are printed in this run.
#[derive(Debug, Default)]
struct Display {
    cwd: Option<PathBuf>,
    /// Each input's folder, as spelled (the first spelling of a folder).
    shown: HashMap<PathBuf, PathBuf>,
    /// Some input was named relative.
    relative: bool,
}

static DISPLAY: OnceLock<Display> = OnceLock::new();

/// Set once, by the command line, before any path is printed: absolute
/// paths under an input are printed as its spelling shows it; others
/// relative to the working folder when under it or when an input was named
/// relative, absolute otherwise.
pub fn set_display(inputs: Vec<Input>) {
    let relative = inputs.iter().any(|i| i.shown.is_relative());
    let mut shown = HashMap::new();
    for i in inputs {
        shown.entry(i.root).or_insert(i.shown);
    }
    let cwd = std::env::current_dir().ok();
    let _ = DISPLAY.set(Display {
        cwd,
        shown,
        relative,
    });
}

/// How an absolute path is printed (see [`set_display`]); relative paths
/// (from library callers) as they are.
pub fn display(path: &Path) -> PathBuf {
    let Some(d) = DISPLAY.get() else {
        return path.to_path_buf();
    };
    if path.is_relative() {
        return path.to_path_buf();
    }
    // The deepest input holding it decides: a few lookups, however many
    // files were named.
    let holder = path
        .ancestors()
        .find_map(|a| Some((d.shown.get(a)?, path.strip_prefix(a).ok()?)));
    if let Some((shown, rest)) = holder {
        return shown.join(rest);
    }
    // A file beside the inputs (the main file one folder up from a named
    // `config.d/` file): relative when some input was named relative.
    match &d.cwd {
        Some(cwd) if d.relative || path.starts_with(cwd) => relative_to(path, cwd),
        _ => path.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_climb_with_dot_dot() {
        let r = |p: &str, b: &str| relative_to(Path::new(p), Path::new(b));
        assert_eq!(r("/a/b/c.xml", "/a"), PathBuf::from("b/c.xml"));
        assert_eq!(r("/a/b/c.xml", "/a/d/e"), PathBuf::from("../../b/c.xml"));
        assert_eq!(r("/a", "/a"), PathBuf::from(""));
        assert_eq!(r("/x.xml", "/a/b"), PathBuf::from("../../x.xml"));
    }

    #[test]
    fn a_named_file_keeps_its_own_name() {
        let dir = std::env::temp_dir().join(format!("chlint-paths-{}", std::process::id()));
        let real = dir.join("real");
        std::fs::create_dir_all(real.join("config.d")).unwrap();
        std::fs::write(real.join("a.xml"), "<clickhouse/>").unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("../a.xml", real.join("config.d/l.xml")).unwrap();
            std::os::unix::fs::symlink(&real, dir.join("link")).unwrap();
            let real = real.canonicalize().unwrap();
            // The folder's link is resolved, the file's own is not.
            assert_eq!(
                canonical(&dir.join("link/config.d/l.xml")).unwrap(),
                real.join("config.d/l.xml")
            );
            assert_eq!(canonical(&dir.join("link/./")).unwrap(), real);
            assert_eq!(
                canonical(&dir.join("link/config.d/../a.xml")).unwrap(),
                real.join("a.xml")
            );
        }
        assert_eq!(canonical(&dir.join("missing.xml")), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
