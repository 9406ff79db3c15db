//! One run of `chlint check`: discover, lower, run the rules, settle where
//! each finding points.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use crate::clickhouse::element::Element;
use crate::clickhouse::load::{ConfigNote, Workspace};
use crate::discover::discover_each;
use crate::finding::{Finding, Related};
use crate::model::Server;
use crate::repeats::{self, Implied, Origin};
use crate::rules::{check_notes, check_server, server_notes};
use crate::source::{display_path, SourceId, Span};

pub struct Report {
    pub findings: Vec<Finding>,
    /// Every input file chlint read as one of its formats (JSON's
    /// `files_scanned`: configurations, deployment and Terraform files).
    pub files_scanned: usize,
    /// The files that really were ClickHouse's: a checked server's
    /// configuration comes from them or its deployment is written in them,
    /// or a finding is about them (the human summary counts these).
    pub clickhouse_files: usize,
    /// Problems that stop chlint from doing its job on a named path.
    pub errors: Vec<String>,
    /// chlint's own failures on some input (a bug): reported, exit code 2.
    pub internal_errors: Vec<String>,
    /// Paths skipped without being read (FIFOs, devices, symbolic links that
    /// loop, dangle or lead outside the checked folders): printed, no finding.
    pub warnings: Vec<String>,
    /// Findings not reported because stronger ones state them (rule
    /// selection brings them back, see `filter.rs`).
    pub implied: Vec<Implied>,
    /// Sources whose findings were moved to another spelling of the same
    /// file (see `repeats.rs`).
    pub aliases: Vec<SourceId>,
    /// Where secret values are written: never printed.
    pub secret_spans: Vec<Span>,
}

/// What checking one server leaves once the server itself is dropped.
struct Checked {
    label: String,
    /// Its findings, unsettled, or the message of the bug that stopped
    /// its checks.
    found: Result<Vec<Finding>, String>,
    notes: Vec<ConfigNote>,
    secrets: Vec<Span>,
    /// What settling its findings needs to know about the server.
    files: Vec<SourceId>,
    /// Where its deployment (compose service, workload…) is written.
    unit: Option<Span>,
    assumed: Vec<&'static str>,
    /// The deployment unit that runs the server (a compose service, a
    /// workload), to relate when several report one problem.
    route: Option<Related>,
}

/// Check one server, in any thread: the rules, and what settling needs.
fn check_one(server: Server) -> Checked {
    // A bug in one server's checks must not take the others down.
    let found = crate::guard::catch(|| check_server(&server));
    let mut secrets = Vec::new();
    if found.is_ok() {
        secrets.extend(server.deploy.literal_secrets.iter().map(|s| s.span));
        collect_secrets(&server.config.root, &mut secrets);
        if let Some(u) = &server.users_config {
            collect_secrets(&u.root, &mut secrets);
        }
    }
    Checked {
        notes: server_notes(&server).cloned().collect(),
        files: server
            .config
            .files
            .iter()
            .chain(server.users_config.iter().flat_map(|u| u.files.iter()))
            .copied()
            .collect(),
        assumed: server.assumed.clone(),
        unit: server.deploy.unit.as_ref().map(|u| u.span),
        route: server.deploy.unit.as_ref().map(|u| Related {
            span: u.span,
            message: format!("{} `{}` reads this", u.kind, u.name),
        }),
        label: server.label,
        found,
        secrets,
    }
}

pub fn check_paths(ws: &mut Workspace, paths: &[PathBuf]) -> Report {
    // Each server is checked (on another thread) as soon as discovery has
    // built it, and dropped: its trees are not all kept to the end. The
    // results are put back in the order the servers were built.
    use std::sync::atomic::{AtomicUsize, Ordering};
    let checked = std::sync::Mutex::new(Vec::new());
    // Servers waiting for a thread: past this many, discovery checks the
    // next one itself, so that a busy machine cannot pile them up.
    const WAITING: usize = 8;
    let waiting = AtomicUsize::new(0);
    let (discovery, tf) = rayon::scope(|scope| {
        let mut next = 0;
        let (checked, waiting) = (&checked, &waiting);
        let mut spawn = |server: Server| {
            let index = next;
            next += 1;
            let keep = move |c: Checked| {
                checked
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((index, c));
            };
            if waiting.load(Ordering::Relaxed) >= WAITING {
                keep(check_one(server));
                return;
            }
            waiting.fetch_add(1, Ordering::Relaxed);
            scope.spawn(move |_| {
                waiting.fetch_sub(1, Ordering::Relaxed);
                keep(check_one(server));
            });
        };
        let mut discovery = discover_each(ws, paths, &mut spawn);
        // Terraform (analysed during discovery): its Kubernetes resources
        // and Helm releases become servers checked with the others (after
        // them); its repository model is checked below.
        crate::phases::mark("group configurations, Terraform alongside");
        let mut tf = discovery.terraform_analysis.take();
        if let Some(tf) = tf.as_mut() {
            for server in std::mem::take(&mut tf.servers) {
                spawn(server);
            }
        }
        (discovery, tf)
    });
    crate::phases::mark("servers checked");
    let mut checked = checked.into_inner().unwrap_or_else(|e| e.into_inner());
    checked.sort_by_key(|(index, _)| *index);
    let mut findings = Vec::new();
    let mut secret_spans = Vec::new();
    let mut internal_errors = discovery.internal_errors.clone();
    let mut warnings = discovery.warnings.clone();
    let mut clickhouse_files: HashSet<PathBuf> = HashSet::new();
    // Which server each finding came from (the others, added after these,
    // come from none).
    let mut origins = Vec::new();
    let mut routes: Vec<Option<Related>> = Vec::new();
    for (index, mut server) in checked {
        let spans = server.files.iter().map(|s| Span::new(*s, 0, 0));
        for span in spans.chain(server.unit) {
            let host = ws.sources.to_host(span);
            if !ws.sources.is_builtin(host) {
                clickhouse_files.insert(ws.sources.get(host.source).path.clone());
            }
        }
        routes.resize(index + 1, None);
        routes[index] = server.route.take().map(|mut r| {
            r.span = ws.sources.to_host(r.span);
            r
        });
        let found = std::mem::replace(&mut server.found, Ok(Vec::new()));
        // Settling is guarded too: a bug there is one server's.
        let settled = found.and_then(|mut found| {
            crate::guard::catch(|| {
                found.extend(
                    server
                        .notes
                        .iter()
                        .filter_map(|n| check_notes(n, &mut ws.sources)),
                );
                let mut settled = Vec::with_capacity(found.len());
                for mut f in found {
                    let from_defaults = ws.sources.is_builtin(f.primary);
                    if settle(&mut f, &server, ws) {
                        settled.push((f, from_defaults));
                    }
                }
                settled
            })
        });
        match settled {
            Ok(found) => {
                for (f, settled) in found {
                    findings.push(f);
                    origins.push(Origin {
                        server: Some(index),
                        settled,
                    });
                }
                secret_spans.append(&mut server.secrets);
            }
            Err(e) => internal_errors.push(format!(
                "internal error while checking {}: {e}",
                server.label
            )),
        }
    }
    for note in &discovery.file_notes {
        // What a deployment frontend did not read (a bind mount of the
        // machine's folders) is said, not a finding.
        if let ConfigNote::Skipped { path, reason } = note {
            warnings.push(format!("{}: {reason}", display_path(path)));
        }
        let Some(mut f) = check_notes(note, &mut ws.sources) else {
            continue;
        };
        let file = ws.sources.get(f.primary.source);
        if f.code == "CH900"
            && file.embedding().is_none()
            && discovery.deployment_files.contains(&file.path)
        {
            f.help = "fix the syntax: its tool (docker compose, kubectl, Helm) rejects this file too, and chlint checks nothing in it".into();
        }
        findings.push(f);
    }
    let mut sensitive_texts = Vec::new();
    if let Some(tf) = tf {
        // Managed ClickHouse services (ClickHouse Cloud, Aiven, Yandex…).
        for r in tf
            .resources
            .iter()
            .filter(|r| r.rtype.contains("clickhouse"))
        {
            let host = ws.sources.to_host(r.span);
            clickhouse_files.insert(ws.sources.get(host.source).path.clone());
        }
        sensitive_texts = tf.sensitive_texts;
        for note in &tf.notes {
            match note {
                ConfigNote::Skipped { path, reason } => {
                    warnings.push(format!("{}: {reason}", display_path(path)))
                }
                ConfigNote::Internal { path, message } => internal_errors.push(format!(
                    "internal error while reading {}: {message}",
                    display_path(path)
                )),
                _ => {}
            }
            if let Some(mut f) = check_notes(note, &mut ws.sources) {
                if matches!(note, ConfigNote::Invalid { .. }) {
                    f.help = "fix the syntax: Terraform cannot read this file either, and chlint checks nothing in it".into();
                }
                findings.push(f);
            }
        }
        secret_spans.extend(tf.secret_spans);
        match crate::guard::catch(|| crate::rules::check_repo(&tf.repo)) {
            Ok(found) => findings.extend(found),
            Err(e) => internal_errors.push(format!(
                "internal error while checking Terraform resources: {e}"
            )),
        }
    }
    // A file that does not parse has no elements to tell secrets by: mask
    // what follows a secret-sounding key on any of its lines.
    let unparsed: HashSet<SourceId> = findings
        .iter()
        .filter(|f| f.code == "CH900")
        .map(|f| f.primary.source)
        .collect();
    for source in unparsed {
        crate::mask::unparsed_secrets(source, &ws.sources.get(source).text, &mut secret_spans);
    }
    crate::phases::mark("mask unparsed files");
    // Text embedded in another file is reported where the user can open it.
    for f in &mut findings {
        f.primary = ws.sources.to_host(f.primary);
        for r in &mut f.related {
            r.span = ws.sources.to_host(r.span);
        }
    }
    for s in &mut secret_spans {
        *s = ws.sources.to_host(*s);
    }
    let aliases = repeats::unify_sources(&mut findings, &mut secret_spans, &ws.sources);
    findings.iter_mut().for_each(repeats::tidy_related);
    // A file shared by trees (conf.d) or servers is reported once.
    let mut unique = repeats::merge_routes(findings, &origins, &routes);
    // After merging: the labels of the routes are texts too.
    crate::deploy::terraform::scrub(&mut unique, &sensitive_texts);
    let (mut unique, mut implied) = repeats::set_aside_implied(unique);
    // Secrets no parser reports as values (in comments, in URLs), on every
    // line a finding shows, reported or set aside.
    let mut quoted: HashMap<SourceId, Vec<std::ops::Range<usize>>> = HashMap::new();
    for span in unique
        .iter()
        .chain(implied.iter().map(|i| &i.finding))
        .flat_map(|f| std::iter::once(f.primary).chain(f.related.iter().map(|r| r.span)))
    {
        let text = ws.sources.get(span.source).text.as_bytes();
        let (start, end) = (
            (span.start as usize).min(text.len()),
            (span.end as usize).min(text.len()),
        );
        let line_start = memchr::memrchr(b'\n', &text[..start]).map_or(0, |n| n + 1);
        let line_end = memchr::memchr(b'\n', &text[end..]).map_or(text.len(), |n| end + n);
        quoted
            .entry(span.source)
            .or_default()
            .push(line_start..line_end);
    }
    for (source, mut ranges) in quoted {
        ranges.sort_by_key(|r| (r.start, r.end));
        ranges.dedup();
        let text = &ws.sources.get(source).text;
        crate::mask::incidental_secrets_in(source, text, &ranges, &mut secret_spans);
    }
    implied.sort_by_cached_key(|i| {
        let loc = ws.sources.locate(i.finding.primary);
        (loc.file, loc.line, loc.column, i.finding.code)
    });
    unique.sort_by_cached_key(|f| {
        let loc = ws.sources.locate(f.primary);
        (loc.file, loc.line, loc.column, f.code)
    });
    let mut shown = HashSet::new();
    warnings.retain(|w| shown.insert(w.clone()));
    internal_errors.dedup();
    secret_spans.sort_by_key(|s| (s.source, s.start, s.end));
    secret_spans.dedup();
    for f in &unique {
        clickhouse_files.insert(ws.sources.get(f.primary.source).path.clone());
    }
    Report {
        findings: unique,
        implied,
        aliases,
        files_scanned: discovery.files_scanned,
        clickhouse_files: clickhouse_files.len(),
        errors: discovery.errors,
        internal_errors,
        warnings,
        secret_spans,
    }
}

/// Point a finding at a repository file: a fact from the shipped defaults
/// gives way to the first related location in a real file. Returns false
/// when nothing in the repository can be blamed.
fn settle(f: &mut Finding, server: &Checked, ws: &Workspace) -> bool {
    let builtin = |s: &Span| ws.sources.is_builtin(*s);
    let from_defaults = builtin(&f.primary) || f.related.iter().any(|r| builtin(&r.span));
    if builtin(&f.primary) {
        let Some(i) = f.related.iter().position(|r| !builtin(&r.span)) else {
            match first_real_file(server, ws) {
                Some(source) => f.primary = Span::new(source, 0, 0),
                None => return false,
            }
            f.related.retain(|r| !builtin(&r.span));
            annotate_defaults(f, server, from_defaults);
            return true;
        };
        f.primary = f.related.remove(i).span;
    }
    f.related.retain(|r| !builtin(&r.span));
    annotate_defaults(f, server, from_defaults);
    true
}

/// Say which shipped files a finding was checked over; `from_defaults`:
/// one of its locations is in them.
fn annotate_defaults(f: &mut Finding, server: &Checked, from_defaults: bool) {
    // File-level findings (a parse error…) do not depend on the defaults.
    let about_server = matches!(
        crate::rules::rule(f.code).check,
        crate::rules::Check::Server(_) | crate::rules::Check::Both(..)
    );
    if about_server && !server.assumed.is_empty() && f.note.is_none() {
        // Only the users come from the shipped users.xml: a finding about
        // the main file alone does not depend on them.
        if server.assumed == ["users.xml"] && !from_defaults {
            return;
        }
        f.note = Some(if server.assumed == ["users.xml"] {
            "no users file for this main file in the repository: its users checked as those of the package's shipped users.xml (there `default` has no password and is open to `::/0`), with any users.d/ beside it".to_string()
        } else {
            format!(
                "no main file for this folder: checked as overrides of the shipped {}",
                server.assumed.join(" and ")
            )
        });
    }
}

fn first_real_file(server: &Checked, ws: &Workspace) -> Option<SourceId> {
    server
        .files
        .iter()
        .copied()
        .find(|s| !ws.sources.get(*s).is_builtin())
}

/// Is an element's text a secret (or a hash of one)? By name: any password,
/// secret, passphrase, token or key.
pub fn is_secret_element(name: &str) -> bool {
    // Asked of every element of every server: no allocation, no searcher.
    let n = name.as_bytes();
    let contains = |word: &str| {
        n.windows(word.len())
            .any(|w| w.eq_ignore_ascii_case(word.as_bytes()))
    };
    let ends_with = |suffix: &str| {
        n.len() >= suffix.len()
            && n[n.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
    };
    ["password", "secret", "passphrase", "token", "credential"]
        .iter()
        .any(|w| contains(w))
        || [
            "identity",
            "key",
            "key_hex",
            "connection_string",
            "auth",
            "private_key",
        ]
        .iter()
        .any(|w| name.eq_ignore_ascii_case(w))
        || ["_key", "_key_hex", "_key_base64"]
            .iter()
            .any(|s| ends_with(s))
}

fn collect_secrets(root: &Element, out: &mut Vec<Span>) {
    root.walk(&mut |e| {
        if is_secret_element(&e.name) {
            for n in &e.children {
                if let crate::clickhouse::element::Node::Text(t) = n {
                    out.push(t.span);
                }
            }
        }
        for a in &e.attrs {
            if is_secret_element(&a.name) {
                out.push(a.span);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_elements_by_name() {
        for n in [
            "password",
            "sasl_password",
            "password_sha256_hex",
            "secret_access_key",
            "account_key",
            "identity",
            "privateKeyPassphrase",
            "server_side_encryption_customer_key_base64",
            "key",
            "PASSWORD",
            "Auth",
            "ssl_KEY",
            "Credentials",
            "bearer_token",
            "private_key_hex",
        ] {
            assert!(is_secret_element(n), "{n}");
        }
        for n in [
            "user",
            "listen_host",
            "keep_alive_timeout",
            "access_key_id",
            "host",
            "author",
            "keys",
            "pass",
        ] {
            assert!(!is_secret_element(n), "{n}");
        }
    }
}
