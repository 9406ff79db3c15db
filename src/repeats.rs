//! One problem, one finding. After the rules have run and every finding
//! points at a repository file:
//!
//! 1. one file read under several spellings (`docker/users.xml` and a
//!    compose file's `e2e/../../docker/users.xml`) is one file: its spans are
//!    moved to one source;
//! 2. one problem reached by several routes (a users file mounted by two
//!    compose files, a ConfigMap mounted by two workloads) is one finding,
//!    with the other routes' locations as related locations;
//! 3. a finding that a stronger one already states (see
//!    [`crate::rules::IMPLIED`]) is set aside; rule selection brings it back
//!    when every rule that implies it is disabled.

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};

use crate::finding::{Finding, Related};
use crate::rules::{Shared, IMPLIED};
use crate::source::{SourceId, SourceKind, SourceMap, Span};

/// Where a finding comes from, for telling routes apart.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    /// The server whose checks made it; `None` for findings about files
    /// and the repository model.
    pub server: Option<usize>,
    /// Its primary location was moved from the shipped defaults to a
    /// repository line that stands for several facts (the `listen_host`
    /// that exposes the shipped users file's `default` and its rights).
    pub settled: bool,
}

impl Origin {
    /// A finding of one server at the line its rule chose: another server
    /// reporting the same rule there reached the same problem another way.
    fn routed(self) -> Option<usize> {
        self.server.filter(|_| !self.settled)
    }
}

/// A finding set aside because stronger findings state it.
#[derive(Clone, Debug)]
pub struct Implied {
    pub finding: Finding,
    /// The codes of the findings that state it.
    pub by: Vec<&'static str>,
}

/// Most locations one finding takes from its other routes: a ConfigMap
/// mounted by a thousand workloads is still one readable finding.
const MAX_ROUTE_LOCATIONS: usize = 16;

/// Move every span of the findings (and the secret spans) in a file read
/// under several spellings to one source: the one with the shortest
/// spelling. Two sources are one file when they resolve to the same path
/// and hold the same text. Returns the sources given up.
pub fn unify_sources(
    findings: &mut [Finding],
    secrets: &mut [Span],
    sources: &SourceMap,
) -> Vec<SourceId> {
    let mut used: Vec<SourceId> = findings
        .iter()
        .flat_map(|f| {
            std::iter::once(f.primary.source).chain(f.related.iter().map(|r| r.span.source))
        })
        .filter(|s| sources.get(*s).kind == SourceKind::File)
        .collect();
    used.sort_unstable();
    used.dedup();
    // Only sources of one length can be one file: paths are resolved (a
    // few system calls each) only for those.
    let mut by_len: HashMap<usize, Vec<SourceId>> = HashMap::new();
    for s in used {
        by_len.entry(sources.get(s).text.len()).or_default().push(s);
    }
    let mut by_file: HashMap<Identity, Vec<SourceId>> = HashMap::new();
    for s in by_len.into_values().filter(|ids| ids.len() > 1).flatten() {
        by_file
            .entry(identity(&sources.get(s).path))
            .or_default()
            .push(s);
    }
    let mut to: HashMap<SourceId, SourceId> = HashMap::new();
    for mut ids in by_file.into_values().filter(|ids| ids.len() > 1) {
        ids.sort_by_cached_key(|s| spelling_rank(&sources.get(*s).path));
        for (i, &s) in ids.iter().enumerate() {
            let text = &sources.get(s).text;
            // The first earlier spelling with the same text.
            if let Some(&rep) = ids[..i].iter().find(|r| sources.get(**r).text == *text) {
                to.insert(s, *to.get(&rep).unwrap_or(&rep));
            }
        }
    }
    if to.is_empty() {
        return Vec::new();
    }
    let moved = |span: &mut Span| {
        if let Some(&rep) = to.get(&span.source) {
            span.source = rep;
        }
    };
    for f in findings.iter_mut() {
        moved(&mut f.primary);
        f.related.iter_mut().for_each(|r| moved(&mut r.span));
    }
    secrets.iter_mut().for_each(moved);
    let mut aliases: Vec<SourceId> = to.into_keys().collect();
    aliases.sort_unstable();
    aliases
}

/// What tells one file from another.
#[derive(PartialEq, Eq, Hash, Debug)]
enum Identity {
    /// Device and inode of an existing file: one `stat` however deep the
    /// path (resolving every folder of it cost a `readlink` each, 67,000
    /// on a tree of 13,000 files alike).
    Inode(u64, u64),
    /// A path that is not on disk: absolute, rid of `.` and `..`.
    Path(PathBuf),
}

/// The file a path names.
fn identity(path: &Path) -> Identity {
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(path) {
        use std::os::unix::fs::MetadataExt as _;
        return Identity::Inode(meta.dev(), meta.ino());
    }
    Identity::Path(lexical(path))
}

/// `path` made absolute and rid of `.` and `..` by its text.
fn lexical(path: &Path) -> PathBuf {
    let absolute = match std::env::current_dir() {
        Ok(cwd) if path.is_relative() => cwd.join(path),
        _ => path.to_path_buf(),
    };
    let mut out = PathBuf::new();
    for c in absolute.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push(c);
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// Shorter spellings first (fewer components, no `..`), then by text, so
/// that the choice does not depend on the order files were read in.
fn spelling_rank(path: &Path) -> (usize, usize, String) {
    let ups = path
        .components()
        .filter(|c| matches!(c, Component::ParentDir))
        .count();
    (
        ups,
        path.components().count(),
        path.to_string_lossy().into_owned(),
    )
}

/// One finding per problem: findings of one rule at one primary location
/// with the same message, or from different servers at a line the rule
/// chose itself, are merged. The most severe one speaks (the first among
/// equals); the others add their related locations. Within one server, a
/// rule's findings at one line are distinct facts (two ports exposed by
/// one `listen_host`) and stay apart. When several servers report one
/// problem, the deployment unit of each (`routes`, by server) is related.
pub fn merge_routes(
    findings: Vec<Finding>,
    origins: &[Origin],
    routes: &[Option<Related>],
) -> Vec<Finding> {
    let mut groups: Vec<Vec<(Finding, Origin)>> = Vec::new();
    let mut exact: HashMap<(&'static str, Span, String), usize> = HashMap::new();
    // Per rule and line, the group other servers' findings join, and the
    // servers already in it (each finding costs one look-up).
    let mut at_line: HashMap<(&'static str, Span), (usize, HashSet<usize>)> = HashMap::new();
    for (i, f) in findings.into_iter().enumerate() {
        let origin = origins.get(i).copied().unwrap_or_default();
        let line = (f.code, f.primary);
        let key = (f.code, f.primary, f.message.clone());
        let joins = |server: usize| {
            at_line
                .get(&line)
                .filter(|(_, servers)| !servers.contains(&server))
                .map(|(g, _)| *g)
        };
        let found = exact
            .get(&key)
            .copied()
            .or_else(|| origin.routed().and_then(joins));
        let g = found.unwrap_or_else(|| {
            groups.push(Vec::new());
            let g = groups.len() - 1;
            if origin.routed().is_some() {
                at_line.insert(line, (g, HashSet::new()));
            }
            g
        });
        if let (Some(server), Some((lg, servers))) = (origin.routed(), at_line.get_mut(&line)) {
            if *lg == g {
                servers.insert(server);
            }
        }
        exact.entry(key).or_insert(g);
        groups[g].push((f, origin));
    }
    groups.into_iter().map(|g| merge_group(g, routes)).collect()
}

fn merge_group(mut group: Vec<(Finding, Origin)>, routes: &[Option<Related>]) -> Finding {
    // The deployments that read the problem, when several do.
    let mut seen = HashSet::new();
    let servers: Vec<usize> = group
        .iter()
        .filter_map(|(_, o)| o.server)
        .filter(|s| seen.insert(*s))
        .collect();
    let read_by: Vec<Related> = if servers.len() > 1 {
        servers
            .iter()
            .filter_map(|s| routes.get(*s).cloned().flatten())
            .collect()
    } else {
        Vec::new()
    };
    let speaker = (0..group.len())
        .max_by_key(|&i| (group[i].0.severity, std::cmp::Reverse(i)))
        .expect("a group has a finding");
    let (mut f, _) = group.swap_remove(speaker);
    let mut added = 0;
    let mut left_out = 0;
    let others = group.into_iter().flat_map(|(other, _)| other.related);
    for r in read_by.into_iter().chain(others) {
        if r.span == f.primary || f.related.iter().any(|o| o.span == r.span) {
            continue;
        }
        if added == MAX_ROUTE_LOCATIONS {
            left_out += 1;
            continue;
        }
        added += 1;
        f.related.push(r);
    }
    if left_out > 0 {
        if let Some(last) = f.related.last_mut() {
            last.message = format!("{} (and {left_out} more locations)", last.message);
        }
    }
    f
}

/// Drop related locations at the primary one and give each span one entry
/// (several facts of an embedded text land on one line: their labels are
/// joined). Linear in the related locations.
pub fn tidy_related(f: &mut Finding) {
    let mut related: Vec<Related> = Vec::with_capacity(f.related.len());
    let mut at: HashMap<Span, usize> = HashMap::new();
    for r in std::mem::take(&mut f.related) {
        if r.span == f.primary {
            continue;
        }
        match at.get(&r.span) {
            Some(&i) => {
                let o = &mut related[i];
                if !o.message.contains(&r.message) {
                    o.message = format!("{}; {}", o.message, r.message);
                }
            }
            None => {
                at.insert(r.span, related.len());
                related.push(r);
            }
        }
    }
    f.related = related;
}

/// Set aside the findings a stronger finding already states.
pub fn set_aside_implied(findings: Vec<Finding>) -> (Vec<Finding>, Vec<Implied>) {
    // For each relation, where its stronger findings are, and which.
    let places: Vec<HashMap<Span, Vec<&'static str>>> = IMPLIED
        .iter()
        .map(|rel| {
            let mut at: HashMap<Span, Vec<&'static str>> = HashMap::new();
            for f in findings.iter().filter(|f| rel.by.contains(&f.code)) {
                let mut spans: HashSet<Span> = HashSet::from([f.primary]);
                if rel.shared == Shared::Location {
                    spans.extend(f.related.iter().map(|r| r.span));
                }
                for s in spans {
                    let codes = at.entry(s).or_default();
                    if !codes.contains(&f.code) {
                        codes.push(f.code);
                    }
                }
            }
            at
        })
        .collect();
    let mut kept = Vec::with_capacity(findings.len());
    let mut implied = Vec::new();
    for f in findings {
        let by = IMPLIED
            .iter()
            .zip(&places)
            .find(|(rel, _)| rel.code == f.code)
            .and_then(|(_, at)| at.get(&f.primary));
        match by {
            Some(by) => implied.push(Implied {
                by: by.clone(),
                finding: f,
            }),
            None => kept.push(f),
        }
    }
    (kept, implied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;

    fn span(start: usize) -> Span {
        Span::new(SourceId(1), start, start + 1)
    }

    fn finding(message: &str, severity: Severity, related: &[usize]) -> Finding {
        Finding {
            code: "CH101",
            name: "default-user-without-password",
            severity,
            message: message.into(),
            primary: span(0),
            related: related
                .iter()
                .map(|&r| Related {
                    span: span(r),
                    message: format!("route {r}"),
                })
                .collect(),
            help: String::new(),
            note: None,
        }
    }

    fn from(server: usize, settled: bool) -> Origin {
        Origin {
            server: Some(server),
            settled,
        }
    }

    #[test]
    fn other_servers_at_one_line_are_other_routes() {
        let merged = merge_routes(
            vec![
                finding("listens on `::`", Severity::High, &[10]),
                finding("listens on `0.0.0.0`", Severity::Critical, &[20]),
                finding("listens on `::`", Severity::High, &[30]),
            ],
            &[from(0, false), from(1, false), from(2, false)],
            &[
                Some(Related {
                    span: span(40),
                    message: "compose service `a` reads this".into(),
                }),
                None,
                Some(Related {
                    span: span(50),
                    message: "compose service `c` reads this".into(),
                }),
            ],
        );
        assert_eq!(merged.len(), 1, "{merged:#?}");
        // The most severe speaks; every route is related, and the units
        // that read the problem.
        assert_eq!(merged[0].message, "listens on `0.0.0.0`");
        let related: Vec<u32> = merged[0].related.iter().map(|r| r.span.start).collect();
        assert_eq!(related, [20, 40, 50, 10, 30]);
    }

    #[test]
    fn one_server_at_one_line_states_distinct_facts() {
        let merged = merge_routes(
            vec![
                finding("port 8123", Severity::High, &[]),
                finding("port 9000", Severity::High, &[]),
                finding("port 8123", Severity::High, &[]),
            ],
            &[from(0, false), from(0, false), from(1, false)],
            &[],
        );
        let messages: Vec<&str> = merged.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(messages, ["port 8123", "port 9000"]);
    }

    #[test]
    fn a_settled_line_stands_for_several_facts() {
        let merged = merge_routes(
            vec![
                finding("port 8123", Severity::High, &[]),
                finding("port 9000", Severity::High, &[]),
            ],
            &[from(0, true), from(1, true)],
            &[],
        );
        assert_eq!(merged.len(), 2, "{merged:#?}");
    }

    #[test]
    fn routes_beyond_the_bound_are_counted() {
        let n = MAX_ROUTE_LOCATIONS + 3;
        let findings: Vec<Finding> = (0..=n)
            .map(|i| finding("same", Severity::High, &[100 + i]))
            .collect();
        let origins: Vec<Origin> = (0..=n).map(|i| from(i, false)).collect();
        let merged = merge_routes(findings, &origins, &[]);
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].related.len(), 1 + MAX_ROUTE_LOCATIONS);
        assert!(merged[0]
            .related
            .last()
            .unwrap()
            .message
            .ends_with("(and 3 more locations)"));
    }

    #[test]
    fn spellings_resolve_to_one_file() {
        let a = identity(Path::new("no-such-dir/e2e/../../no-such-dir/x.xml"));
        let b = identity(Path::new("./no-such-dir/x.xml"));
        assert_eq!(a, b);
        assert!(
            spelling_rank(Path::new("no-such-dir/x.xml"))
                < spelling_rank(Path::new("e2e/../no-such-dir/x.xml"))
        );
    }
}
