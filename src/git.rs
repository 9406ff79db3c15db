//! Reading a repository's history with the `git` program: a commit's tree,
//! its blobs, and what changed between two commits.
//!
//! Used where the working tree cannot be trusted (a pull request's run reads
//! its configuration from the base commit). `git` is spawned with fixed
//! arguments; revisions are resolved once to a full object id, and blobs are
//! read by id, so no file name or user text is ever parsed as an option,
//! a pathspec or a revision expression.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io::Read;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A repository, by its top-level folder.
#[derive(Debug, Clone)]
pub struct Git {
    pub root: PathBuf,
}

/// One file of a commit's tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    /// `100644`, `100755`, `120000` (a symbolic link), `160000` (a submodule).
    pub mode: String,
    pub oid: String,
    pub size: u64,
    /// Relative to the repository root, `/`-separated.
    pub path: String,
}

impl TreeEntry {
    pub fn is_regular(&self) -> bool {
        self.mode == "100644" || self.mode == "100755"
    }
}

/// One changed file between two commits (`git diff --raw`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// `A`dded, `M`odified, `D`eleted, `R`enamed, `T`ype changed …
    pub status: char,
    pub old_mode: String,
    pub new_mode: String,
    /// All zeros when the file is new (or deleted, for `new_oid`).
    pub old_oid: String,
    pub new_oid: String,
    pub old_path: String,
    pub new_path: String,
}

impl Change {
    pub fn is_deleted(&self) -> bool {
        self.status == 'D'
    }

    pub fn is_new(&self) -> bool {
        is_null_oid(&self.old_oid)
    }
}

fn is_null_oid(oid: &str) -> bool {
    oid.bytes().all(|b| b == b'0')
}

/// New-side line ranges of changed files, by (old blob id, new blob id).
pub type Hunks = HashMap<(String, String), Vec<Range<usize>>>;

/// Largest output read from one `git` call that lists (trees, diffs).
const MAX_LISTING: u64 = 256 * 1024 * 1024;

impl Git {
    /// The repository holding `dir`.
    pub fn open(dir: &Path) -> Result<Git, String> {
        let out = run_git(dir, ["rev-parse", "--show-toplevel"], MAX_LISTING)?;
        let root = String::from_utf8(out)
            .map_err(|_| "git: the repository path is not UTF-8".to_string())?;
        Ok(Git {
            root: PathBuf::from(root.trim_end_matches('\n')),
        })
    }

    /// `path` relative to the repository root, `/`-separated (`""` for the
    /// root itself); `None` outside it.
    pub fn relative(&self, path: &Path) -> Option<String> {
        let abs = crate::config_file::absolute(path);
        let rel = match abs.strip_prefix(&self.root) {
            Ok(rel) => rel.to_path_buf(),
            // The root git reports is canonical; the path may go through a link.
            Err(_) => {
                let root = self.root.canonicalize().ok()?;
                real_path(&abs)?.strip_prefix(root).ok()?.to_path_buf()
            }
        };
        Some(rel.to_string_lossy().replace('\\', "/"))
    }

    /// Blobs by id, read by one `git cat-file --batch` and handed to `each`
    /// one at a time (index, bytes or why not: larger than `max`, not a
    /// blob), so that only one is held at once.
    pub fn for_each_blob(
        &self,
        oids: &[String],
        max: u64,
        mut each: impl FnMut(usize, Result<Vec<u8>, String>) -> Result<(), String>,
    ) -> Result<(), String> {
        use std::io::{BufReader, Write};
        if oids
            .iter()
            .any(|o| !o.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err("not an object id".into());
        }
        let mut child = git_command(&self.root)
            .args(["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run git: {e}"))?;
        let mut stdin = child.stdin.take().expect("piped");
        let request: String = oids.iter().map(|o| format!("{o}\n")).collect();
        // Written beside the reading, so that neither pipe can fill and stall.
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(request.as_bytes());
        });
        let mut out = BufReader::new(child.stdout.take().expect("piped"));
        let mut result = Ok(());
        for i in 0..oids.len() {
            let mut header = Vec::new();
            match read_line_capped(&mut out, &mut header, 512) {
                Ok(true) => {}
                Ok(false) => {
                    result = Err("git cat-file stopped early".into());
                    break;
                }
                Err(e) => {
                    result = Err(format!("git: {e}"));
                    break;
                }
            }
            // `<oid> <type> <size>`, or `<oid> missing`.
            let header = String::from_utf8_lossy(&header);
            let fields: Vec<&str> = header.split_whitespace().collect();
            let blob = match fields[..] {
                [_, kind, size] => match size.parse::<u64>() {
                    Ok(size) => read_object(&mut out, kind, size, max),
                    Err(_) => Err("bad cat-file output".to_string()),
                },
                _ => Err("not in the repository".to_string()),
            };
            if let Err(e) = each(i, blob) {
                result = Err(e);
                break;
            }
        }
        drop(out);
        let _ = child.kill();
        let _ = child.wait();
        let _ = writer.join();
        result
    }

    fn run<I, S>(&self, args: I, max: u64) -> Result<Vec<u8>, String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        run_git(&self.root, args, max)
    }

    /// The full object id of the commit `rev` names.
    pub fn resolve_commit(&self, rev: &str) -> Result<String, String> {
        if rev.is_empty() || rev.starts_with('-') || rev.contains(['\0', '\n']) {
            return Err(format!("`{rev}` is not a git revision"));
        }
        let out = self
            .run(
                [
                    "rev-parse",
                    "--verify",
                    "--quiet",
                    "--end-of-options",
                    &format!("{rev}^{{commit}}"),
                ],
                4096,
            )
            .map_err(|_| {
                format!("`{rev}` is no commit of this repository (a shallow clone must fetch it: `git fetch --depth=1 origin {rev}`)")
            })?;
        let oid = String::from_utf8_lossy(&out).trim().to_string();
        if oid.is_empty() || !oid.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("`{rev}` is no commit of this repository"));
        }
        Ok(oid)
    }

    /// Every file of a commit (`oid` from [`Git::resolve_commit`]).
    pub fn tree(&self, commit: &str) -> Result<Vec<TreeEntry>, String> {
        let out = self.run(
            ["ls-tree", "-r", "-z", "-l", "--full-tree", commit],
            MAX_LISTING,
        )?;
        let mut entries = Vec::new();
        for record in out.split(|&b| b == 0).filter(|r| !r.is_empty()) {
            // `<mode> SP <type> SP <oid> SP+ <size> TAB <path>`
            let text = String::from_utf8_lossy(record);
            let Some((meta, path)) = text.split_once('\t') else {
                continue;
            };
            let mut fields = meta.split_whitespace();
            let (Some(mode), Some(_kind), Some(oid), Some(size)) =
                (fields.next(), fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            entries.push(TreeEntry {
                mode: mode.to_string(),
                oid: oid.to_string(),
                size: size.parse().unwrap_or(0),
                path: path.to_string(),
            });
        }
        Ok(entries)
    }

    /// A blob's bytes, refused when larger than `max`.
    pub fn blob(&self, oid: &str, max: u64) -> Result<Vec<u8>, String> {
        if !oid.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("`{oid}` is not an object id"));
        }
        self.run(["cat-file", "blob", oid], max)
    }

    /// The files that differ between two commits, renames detected.
    pub fn changes(&self, base: &str, head: &str) -> Result<Vec<Change>, String> {
        let out = self.run(
            [
                "diff",
                "--raw",
                "-z",
                "--no-abbrev",
                "-M",
                "--no-ext-diff",
                "--no-textconv",
                base,
                head,
            ],
            MAX_LISTING,
        )?;
        Ok(parse_raw(&out))
    }

    /// The new-side line ranges of every changed file's hunks from `base`
    /// to `head` (one `git diff`, read as it comes: only hunk headers are
    /// kept), by (old blob id, new blob id).
    pub fn hunks(&self, base: &str, head: &str) -> Result<Hunks, String> {
        use std::io::BufReader;
        let mut child = git_command(&self.root)
            .args([
                "diff",
                "--unified=0",
                "--full-index",
                "--no-color",
                "--no-ext-diff",
                "--no-textconv",
                "-M",
                base,
                head,
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run git: {e}"))?;
        let mut out = BufReader::new(child.stdout.take().expect("piped"));
        let mut all = Hunks::new();
        let mut key: Option<(String, String)> = None;
        let mut line = Vec::new();
        // Lines of the files themselves are cut to this: only headers matter.
        while read_line_capped(&mut out, &mut line, 4096).map_err(|e| format!("git: {e}"))? {
            let text = String::from_utf8_lossy(&line);
            if text.starts_with("diff --git ") {
                key = None;
            } else if let Some(ids) = text.strip_prefix("index ") {
                let ids = ids.split(' ').next().unwrap_or_default();
                key = ids
                    .split_once("..")
                    .map(|(a, b)| (a.to_string(), b.to_string()));
            } else if let (Some(k), Some(range)) = (&key, hunk_range(&text)) {
                all.entry(k.clone()).or_default().push(range);
            }
        }
        let status = child.wait().map_err(|e| format!("git: {e}"))?;
        if !status.success() {
            return Err(format!("git diff {base} {head} failed"));
        }
        Ok(all)
    }
}

/// `git diff --raw -z` records: `:<old mode> <new mode> <old oid> <new oid>
/// <status>[score]` NUL `<path>` NUL [`<new path>` NUL].
fn parse_raw(out: &[u8]) -> Vec<Change> {
    let mut fields = out.split(|&b| b == 0);
    let mut changes = Vec::new();
    while let Some(meta) = fields.next() {
        let meta = String::from_utf8_lossy(meta);
        let Some(meta) = meta.strip_prefix(':') else {
            continue;
        };
        let parts: Vec<&str> = meta.split(' ').collect();
        let [old_mode, new_mode, old_oid, new_oid, status] = parts[..] else {
            continue;
        };
        let status = status.chars().next().unwrap_or('M');
        let Some(old_path) = fields.next() else { break };
        let old_path = String::from_utf8_lossy(old_path).into_owned();
        let new_path = if matches!(status, 'R' | 'C') {
            let Some(p) = fields.next() else { break };
            String::from_utf8_lossy(p).into_owned()
        } else {
            old_path.clone()
        };
        changes.push(Change {
            status,
            old_mode: old_mode.to_string(),
            new_mode: new_mode.to_string(),
            old_oid: old_oid.to_string(),
            new_oid: new_oid.to_string(),
            old_path,
            new_path,
        });
    }
    changes
}

/// The new-side line range of a unified diff's hunk header (`@@ -a,b +c,d
/// @@`). A hunk that only removes lines gives the empty range at the line
/// after which they were.
pub fn hunk_range(line: &str) -> Option<Range<usize>> {
    let rest = line.strip_prefix("@@ -")?;
    let plus = rest.split(' ').nth(1)?.strip_prefix('+')?;
    let (start, count) = match plus.split_once(',') {
        Some((s, c)) => (s.parse().ok()?, c.parse().ok()?),
        None => (plus.parse().ok()?, 1),
    };
    Some(start..start + count)
}

/// Read one line (without its `\n`) into `buf`, keeping at most `cap`
/// bytes of it; `false` at the end of the input.
fn read_line_capped(
    r: &mut impl std::io::BufRead,
    buf: &mut Vec<u8>,
    cap: usize,
) -> std::io::Result<bool> {
    buf.clear();
    let mut any = false;
    loop {
        let chunk = r.fill_buf()?;
        if chunk.is_empty() {
            return Ok(any);
        }
        any = true;
        let (part, done) = match memchr::memchr(b'\n', chunk) {
            Some(i) => (&chunk[..i], i + 1),
            None => (chunk, chunk.len()),
        };
        let room = cap.saturating_sub(buf.len());
        buf.extend_from_slice(&part[..part.len().min(room)]);
        let found = done > part.len();
        r.consume(done);
        if found {
            return Ok(true);
        }
    }
}

/// An object's content after its `cat-file --batch` header, and the newline
/// after it: kept when it is a blob of at most `max` bytes, else skipped.
fn read_object(r: &mut impl Read, kind: &str, size: u64, max: u64) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    let keep = kind == "blob" && size <= max;
    if keep {
        r.take(size).read_to_end(&mut bytes)
    } else {
        std::io::copy(&mut r.take(size), &mut std::io::sink()).map(|_| 0)
    }
    .map_err(|e| format!("git: {e}"))?;
    let mut newline = [0u8; 1];
    r.read_exact(&mut newline)
        .map_err(|e| format!("git: {e}"))?;
    match (keep, kind) {
        (true, _) => Ok(bytes),
        (false, "blob") => Err(format!("larger than {max} bytes")),
        (false, other) => Err(format!("a {other}, not a file")),
    }
}

/// `git -C dir` with no pager, no prompt, no external diff program: it must
/// never wait on a terminal or run a program the repository names.
fn git_command(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(dir)
        .args(["--no-pager", "-c", "core.quotePath=false"])
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_EXTERNAL_DIFF");
    cmd
}

/// The canonical form of `path`, or of its deepest existing ancestor with
/// the rest appended (a path need not exist in the working tree).
fn real_path(path: &Path) -> Option<PathBuf> {
    let mut rest = Vec::new();
    let mut cur = path;
    loop {
        if let Ok(real) = cur.canonicalize() {
            let mut out = real;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return Some(out);
        }
        rest.push(cur.file_name()?.to_os_string());
        cur = cur.parent()?;
    }
}

/// Run `git -C dir ARGS`, reading at most `max` bytes of its output (one
/// more, so that a caller can tell it was cut).
fn run_git<I, S>(dir: &Path, args: I, max: u64) -> Result<Vec<u8>, String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut child = git_command(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run git: {e}"))?;
    // Standard error is drained beside standard output, so that neither
    // pipe can fill and stall git.
    let mut stderr = child.stderr.take().expect("piped");
    let errors = std::thread::spawn(move || {
        let mut err = Vec::new();
        let _ = (&mut stderr).take(4096).read_to_end(&mut err);
        let _ = std::io::copy(&mut stderr, &mut std::io::sink());
        err
    });
    let mut out = Vec::new();
    let stdout = child.stdout.take().expect("piped");
    let read = stdout.take(max + 1).read_to_end(&mut out);
    if out.len() as u64 > max {
        let _ = child.kill();
        let _ = child.wait();
        return Err(format!("git: more than {max} bytes of output"));
    }
    let status = child.wait().map_err(|e| format!("git: {e}"))?;
    let err = errors.join().unwrap_or_default();
    read.map_err(|e| format!("git: {e}"))?;
    if !status.success() {
        let err = String::from_utf8_lossy(&err);
        let first = err.lines().next().unwrap_or("failed").trim();
        return Err(format!("git: {}", crate::report::human::printable(first)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunks_give_the_new_side() {
        assert_eq!(hunk_range("@@ -1,0 +2,3 @@ x"), Some(2..5));
        assert_eq!(hunk_range("@@ -9 +11 @@"), Some(11..12));
        assert_eq!(hunk_range("@@ -20,2 +22,0 @@"), Some(22..22));
        assert_eq!(hunk_range("+@@ -1 +1 @@"), None);
    }

    #[test]
    fn long_lines_are_cut_not_held() {
        let text = format!("{}\nshort\n", "x".repeat(100_000));
        let mut r = std::io::BufReader::with_capacity(1000, text.as_bytes());
        let mut buf = Vec::new();
        assert!(read_line_capped(&mut r, &mut buf, 16).unwrap());
        assert_eq!(buf.len(), 16);
        assert!(read_line_capped(&mut r, &mut buf, 16).unwrap());
        assert_eq!(buf, b"short");
        assert!(!read_line_capped(&mut r, &mut buf, 16).unwrap());
    }

    #[test]
    fn raw_records_with_renames() {
        let z = "0".repeat(40);
        let a = "a".repeat(40);
        let b = "b".repeat(40);
        let raw = format!(
            ":000000 100644 {z} {a} A\0new file\0:100644 100644 {a} {b} R087\0old\0moved/here\0"
        );
        let c = parse_raw(raw.as_bytes());
        assert_eq!(c.len(), 2);
        assert!(c[0].is_new());
        assert_eq!(c[0].new_path, "new file");
        assert_eq!(
            (c[1].status, c[1].old_path.as_str(), c[1].new_path.as_str()),
            ('R', "old", "moved/here")
        );
    }
}
