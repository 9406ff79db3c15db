//! `chlint review-changes --base REV`: what a change does to chlint's own
//! checks, for a reviewer to see.
//!
//! A pull request can quiet chlint without fixing anything: an inline
//! `chlint: ignore[…]` comment, an `exclude` or `ignore` in `.chlint.toml`,
//! a finding recorded in the baseline, a `.gitignore` that hides files from
//! the walk. Each is legitimate once reviewed; none should pass unseen. This
//! lists every one the commits add, with its file and line, as GitHub
//! annotations or plain lines.
//!
//! The change is `git diff REV HEAD`: what HEAD has that REV has not. On
//! GitHub's pull-request merge commit (whose first parent is the base) that
//! is exactly the pull request, and it needs no history beyond the two
//! commits, so a shallow clone with the base fetched at depth 1 works.
//! Suppressions are found by chlint's own parser over the whole new file
//! (a comment over several lines counts when any of its lines is new).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::baseline;
use crate::config_file::FILE_NAME;
use crate::git::{Change, Git};
use crate::report::github::{escape_data, escape_property};
use crate::report::human::printable;
use crate::source::{SourceFile, SourceId, SourceKind};
use crate::suppress::directives;

/// What kind of change a note is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Suppression,
    Config,
    Baseline,
    IgnoreFile,
    /// A file that could not be read for review.
    Unreviewed,
}

impl Kind {
    fn title(self) -> &'static str {
        match self {
            Kind::Suppression => "chlint: suppression added",
            Kind::Config => "chlint: configuration changed",
            Kind::Baseline => "chlint: baseline grown",
            Kind::IgnoreFile => "chlint: ignored files changed",
            Kind::Unreviewed => "chlint: not reviewed",
        }
    }
}

/// One thing for a reviewer to look at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub kind: Kind,
    /// Relative to the repository root, `/`-separated.
    pub file: String,
    /// 1-based lines in the new file; `None` for a deleted file.
    pub lines: Option<Range<usize>>,
    pub message: String,
}

/// What to review.
pub struct Request<'a> {
    pub base: &'a str,
    pub head: &'a str,
    /// Configuration files named with `--config` (besides every `.chlint.toml`).
    pub configs: &'a [PathBuf],
    pub baselines: &'a [PathBuf],
    /// Largest file read.
    pub max_size: u64,
}

/// The role a path plays for chlint.
fn role(path: &str, configs: &[String], baselines: &[String]) -> Option<Kind> {
    let name = path.rsplit('/').next().unwrap_or(path);
    if name == FILE_NAME || configs.iter().any(|c| c == path) {
        Some(Kind::Config)
    } else if baselines.iter().any(|b| b == path) {
        Some(Kind::Baseline)
    } else if name == ".gitignore" || name == ".ignore" {
        Some(Kind::IgnoreFile)
    } else {
        None
    }
}

/// Every note on the changes from `base` to `head`, in file order.
pub fn review(git: &Git, req: &Request) -> Result<Vec<Note>, String> {
    let base = git.resolve_commit(req.base)?;
    let head = git.resolve_commit(req.head)?;
    let in_repo = |paths: &[PathBuf]| -> Result<Vec<String>, String> {
        paths
            .iter()
            .map(|p| {
                git.relative(p)
                    .ok_or_else(|| format!("{}: outside the repository", p.display()))
            })
            .collect()
    };
    let configs = in_repo(req.configs)?;
    let baselines = in_repo(req.baselines)?;
    let changes = git.changes(&base, &head)?;
    let hunks = git.hunks(&base, &head)?;
    let mut notes = Vec::new();
    // Files and links have blobs (submodules do not); a link's blob is its
    // target, not text chlint reads.
    let mut readable = Vec::new();
    for c in &changes {
        let old_role = role(&c.old_path, &configs, &baselines);
        if let Some(kind) = old_role.filter(|_| c.is_deleted() || c.old_path != c.new_path) {
            notes.push(removed(kind, &c.old_path));
        }
        if c.is_deleted() {
            continue;
        }
        let new_role = role(&c.new_path, &configs, &baselines);
        if c.new_mode.starts_with("100") {
            readable.push((c, new_role));
        } else if let Some(kind) = new_role {
            notes.push(Note {
                kind,
                file: c.new_path.clone(),
                lines: None,
                message: format!(
                    "this change makes {} a link or submodule (mode {}): chlint does not follow it",
                    c.new_path, c.new_mode
                ),
            });
        }
    }
    // Every new text through one `git cat-file --batch`, one at a time.
    let oids: Vec<String> = readable.iter().map(|(c, _)| c.new_oid.clone()).collect();
    git.for_each_blob(&oids, req.max_size, |i, blob| {
        let (c, role) = readable[i];
        let text = match blob.and_then(|b| crate::clickhouse::load::decode(&b)) {
            Ok(text) => text,
            // Not text, or too large: chlint cannot read it either; said
            // when the file matters to chlint's settings or is large.
            Err(why) => {
                if role.is_some() || why.starts_with("larger") {
                    notes.push(unreviewed(&c.new_path, &why));
                }
                return Ok(());
            }
        };
        let empty = Vec::new();
        let file_hunks = hunks
            .get(&(c.old_oid.clone(), c.new_oid.clone()))
            .unwrap_or(&empty);
        notes.extend(review_file(git, c, &text, role, file_hunks, req)?);
        Ok(())
    })?;
    Ok(notes)
}

/// The notes on one changed file whose new text is `text`.
fn review_file(
    git: &Git,
    c: &Change,
    text: &str,
    role: Option<Kind>,
    hunks: &[Range<usize>],
    req: &Request,
) -> Result<Vec<Note>, String> {
    let mut notes = Vec::new();
    let has_directive = text.to_ascii_lowercase().contains("chlint");
    if role.is_none() && !has_directive {
        return Ok(notes);
    }
    let added = |line: usize| hunks.iter().any(|h| h.contains(&line));
    if has_directive {
        notes.extend(added_suppressions(&c.new_path, text, &added));
    }
    match role {
        Some(Kind::Baseline) => notes.extend(grown_baseline(git, c, text, &added, req)?),
        // Moved here unchanged (a rename): the whole file is the change.
        Some(kind) if hunks.is_empty() => notes.push(Note {
            kind,
            file: c.new_path.clone(),
            lines: None,
            message: role_message(kind, &c.new_path, false),
        }),
        Some(kind) => {
            // What the settings become, once, on the first hunk.
            let mut summary = match kind {
                Kind::Config => config_summary(git, c, text, req),
                _ => None,
            };
            for h in hunks {
                let start = h.start.max(1);
                let mut message = role_message(kind, &c.new_path, h.is_empty());
                if let Some(s) = summary.take() {
                    message.push_str(&s);
                }
                notes.push(Note {
                    kind,
                    file: c.new_path.clone(),
                    lines: Some(start..h.end.max(start + 1)),
                    message,
                });
            }
        }
        None => {}
    }
    Ok(notes)
}

fn role_message(kind: Kind, path: &str, removal: bool) -> String {
    let what = if removal {
        "removes lines from"
    } else {
        "changes"
    };
    match kind {
        Kind::IgnoreFile => format!(
            "this change {what} {path}, which decides the files chlint reads (ignored files are not checked): review it"
        ),
        _ => format!(
            "this change {what} chlint's configuration {path}: it can switch checks off once merged (a run with --config-from-git uses the base commit's version): review it"
        ),
    }
}

/// The settings a configuration change sets, key by key (`exclude` now
/// `["**"]`, was unset), for the reviewer who reads only the annotation.
fn config_summary(git: &Git, c: &Change, text: &str, req: &Request) -> Option<String> {
    // No larger than chlint reads a configuration file.
    let table = |t: &str| {
        (t.len() as u64 <= crate::config_file::MAX_SIZE)
            .then(|| t.parse::<toml::Table>().ok())
            .flatten()
    };
    let new = table(text)?;
    let old = if c.is_new() {
        toml::Table::new()
    } else {
        let bytes = git.blob(&c.old_oid, req.max_size).ok()?;
        table(&String::from_utf8(bytes).ok()?).unwrap_or_default()
    };
    let show = |v: Option<&toml::Value>| match v {
        None => "unset".to_string(),
        Some(v) => {
            let s = serde_json::to_string(v).unwrap_or_default();
            match s.char_indices().nth(120) {
                Some((i, _)) => format!("{}…", &s[..i]),
                None => s,
            }
        }
    };
    let keys: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let changed: Vec<String> = keys
        .into_iter()
        .filter(|k| old.get(*k) != new.get(*k))
        .map(|k| format!("`{k}` now {} (was {})", show(new.get(k)), show(old.get(k))))
        .collect();
    (!changed.is_empty()).then(|| format!(". Settings changed: {}", changed.join("; ")))
}

fn removed(kind: Kind, path: &str) -> Note {
    let what = match kind {
        Kind::Config => "chlint's configuration",
        Kind::Baseline => "chlint's baseline",
        _ => "a file that decides what chlint reads",
    };
    Note {
        kind,
        file: path.to_string(),
        lines: None,
        message: format!("this change deletes or moves {what} {path}: review it"),
    }
}

fn unreviewed(path: &str, why: &str) -> Note {
    Note {
        kind: Kind::Unreviewed,
        file: path.to_string(),
        lines: None,
        message: format!(
            "{path} could not be read for review ({}): look at it yourself",
            printable(why)
        ),
    }
}

/// Suppression comments with a new line.
fn added_suppressions(path: &str, text: &str, added: &dyn Fn(usize) -> bool) -> Vec<Note> {
    let file = SourceFile::new(PathBuf::from(path), text.to_string(), SourceKind::File);
    directives(SourceId(0), &file)
        .into_iter()
        .filter_map(|d| {
            let (first, _) = file.line_col(d.span.start);
            let (last, _) = file.line_col(d.span.end);
            // The comment's lines: from its opener (above the directive text,
            // in a block comment) to the directive's end.
            let lines = d.lines.start.min(first)..last + 1;
            if !lines.clone().any(added) {
                return None;
            }
            let rules: Vec<String> = d
                .items
                .iter()
                .map(|i| match i.code {
                    Some(code) if !code.eq_ignore_ascii_case(&i.text) => {
                        format!("{code} ({})", i.text)
                    }
                    Some(code) => code.to_string(),
                    None => format!("`{}` (no such rule)", i.text),
                })
                .collect();
            let applies = if d.applies() {
                "It applies: findings it names on its line or the next are not reported; a reviewer should agree with the reason".to_string()
            } else {
                "It cannot apply (no reason, or malformed: CH991)".to_string()
            };
            let reason = if d.reason.is_empty() {
                String::new()
            } else {
                format!(", reason: \"{}\"", printable(&d.reason))
            };
            Some(Note {
                kind: Kind::Suppression,
                file: path.to_string(),
                lines: Some(first..last + 1),
                message: format!(
                    "this change adds a chlint suppression of {}{reason}. {applies}",
                    printable(&rules.join(", "))
                ),
            })
        })
        .collect()
}

/// Findings the new baseline records that the old one did not.
fn grown_baseline(
    git: &Git,
    c: &Change,
    text: &str,
    added: &dyn Fn(usize) -> bool,
    req: &Request,
) -> Result<Vec<Note>, String> {
    let shown = Path::new(&c.new_path);
    let new = match baseline::keys(shown, text) {
        Ok(keys) => keys,
        Err(e) => {
            return Ok(vec![Note {
                kind: Kind::Baseline,
                file: c.new_path.clone(),
                lines: Some(1..2),
                message: format!("this change makes the baseline unreadable: {e}"),
            }])
        }
    };
    let mut before: HashMap<(String, String, String), usize> = HashMap::new();
    if !c.is_new() {
        // An old baseline that cannot be read excuses nothing: all is new.
        let old = git.blob(&c.old_oid, req.max_size).ok();
        let old_text = old
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default();
        for key in baseline::keys(shown, &old_text).unwrap_or_default() {
            *before.entry(key).or_insert(0) += 1;
        }
    }
    let lines: Vec<&str> = text.lines().collect();
    let mut used = vec![false; lines.len()];
    let mut notes = Vec::new();
    for (rule, file, fingerprint) in new {
        if let Some(n) = before.get_mut(&(rule.clone(), file.clone(), fingerprint.clone())) {
            if *n > 0 {
                *n -= 1;
                continue;
            }
        }
        let line = entry_line(&lines, &fingerprint, &mut used, added);
        let name = crate::rules::find(&rule).map_or("", |r| r.name);
        notes.push(Note {
            kind: Kind::Baseline,
            file: c.new_path.clone(),
            lines: Some(line..line + 1),
            message: format!(
                "this change records a {} finding ({name}) in {} as known in the baseline: it is no longer reported once merged; review it",
                printable(&rule),
                printable(&file)
            ),
        });
    }
    Ok(notes)
}

/// The 1-based line of a baseline entry: the first unused line holding its
/// fingerprint, a new line first.
fn entry_line(
    lines: &[&str],
    fingerprint: &str,
    used: &mut [bool],
    added: &dyn Fn(usize) -> bool,
) -> usize {
    let candidates: Vec<usize> = (0..lines.len())
        .filter(|&i| !used[i] && !fingerprint.is_empty() && lines[i].contains(fingerprint))
        .collect();
    let pick = candidates
        .iter()
        .copied()
        .find(|&i| added(i + 1))
        .or_else(|| candidates.first().copied());
    match pick {
        Some(i) => {
            used[i] = true;
            i + 1
        }
        None => 1,
    }
}

/// GitHub workflow commands: one `::warning` per note.
pub fn render_github(notes: &[Note]) -> String {
    let mut out = String::new();
    for n in notes {
        let mut props = format!("file={}", escape_property(&printable(&n.file)));
        if let Some(lines) = &n.lines {
            let _ = write!(props, ",line={}", lines.start);
            if lines.end > lines.start + 1 {
                let _ = write!(props, ",endLine={}", lines.end - 1);
            }
        }
        let _ = writeln!(
            out,
            "::warning {props},title={}::{}",
            escape_property(n.kind.title()),
            escape_data(&printable(&n.message))
        );
    }
    out
}

/// One line per note: `file:line: title: message`.
pub fn render_human(notes: &[Note]) -> String {
    let mut out = String::new();
    for n in notes {
        let at = match &n.lines {
            Some(l) => format!("{}:{}", printable(&n.file), l.start),
            None => printable(&n.file).into_owned(),
        };
        let _ = writeln!(out, "{at}: {}: {}", n.kind.title(), printable(&n.message));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_by_name_and_by_argument() {
        let configs = ["ci/strict.toml".to_string()];
        let baselines = ["chlint-baseline.json".to_string()];
        assert_eq!(
            role("a/b/.chlint.toml", &configs, &baselines),
            Some(Kind::Config)
        );
        assert_eq!(
            role("ci/strict.toml", &configs, &baselines),
            Some(Kind::Config)
        );
        assert_eq!(
            role("chlint-baseline.json", &configs, &baselines),
            Some(Kind::Baseline)
        );
        assert_eq!(
            role("deploy/.gitignore", &configs, &baselines),
            Some(Kind::IgnoreFile)
        );
        assert_eq!(role("deploy/users.xml", &configs, &baselines), None);
    }

    #[test]
    fn only_suppressions_on_new_lines() {
        let text = "<clickhouse>\n<!-- chlint: ignore[CH101] old -->\n<x/>\n<!--\n chlint: ignore[default-user-without-password] lab only\n-->\n</clickhouse>\n";
        let notes = added_suppressions("c.xml", text, &|l| l == 4);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!(notes[0].lines, Some(5..6));
        assert!(
            notes[0]
                .message
                .contains("CH101 (default-user-without-password)"),
            "{}",
            notes[0].message
        );
        assert!(notes[0].message.contains("lab only"));
        assert!(added_suppressions("c.xml", text, &|l| l == 3).is_empty());
    }

    #[test]
    fn github_commands_are_escaped() {
        let n = Note {
            kind: Kind::Config,
            file: "a,b:c.toml".into(),
            lines: Some(3..5),
            message: "x\n::error::y".into(),
        };
        assert_eq!(
            render_github(&[n]),
            "::warning file=a%2Cb%3Ac.toml,line=3,endLine=4,title=chlint%3A configuration changed::x\u{FFFD}::error::y\n"
        );
    }
}
