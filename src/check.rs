//! One run of `chlint check`: discover, lower, run the rules, settle where
//! each finding points.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use crate::clickhouse::element::Element;
use crate::clickhouse::load::{ConfigNote, Workspace};
use crate::discover::discover_each;
use crate::finding::Finding;
use crate::model::Server;
use crate::rules::{check_notes, check_server, server_notes};
use crate::source::{display_path, SourceId, Span};

pub struct Report {
    pub findings: Vec<Finding>,
    pub files_scanned: usize,
    /// Problems that stop chlint from doing its job on a named path.
    pub errors: Vec<String>,
    /// chlint's own failures on some input (a bug): reported, exit code 2.
    pub internal_errors: Vec<String>,
    /// Paths skipped without being read (FIFOs, devices, symbolic links that
    /// loop, dangle or lead outside the checked folders): printed, no finding.
    pub warnings: Vec<String>,
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
    assumed: Vec<&'static str>,
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
    for (_, mut server) in checked {
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
                    if settle(&mut f, &server, ws) {
                        settled.push(f);
                    }
                }
                settled
            })
        });
        match settled {
            Ok(found) => {
                findings.extend(found);
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
        findings.extend(check_notes(note, &mut ws.sources));
    }
    let mut sensitive_texts = Vec::new();
    if let Some(tf) = tf {
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
        lexical_secrets(source, &ws.sources.get(source).text, &mut secret_spans);
    }
    // Text embedded in another file is reported where the user can open it.
    for f in &mut findings {
        f.primary = ws.sources.to_host(f.primary);
        let mut related: Vec<crate::finding::Related> = Vec::new();
        // By span, so that a finding with many related locations (a partial
        // override of 100,000 elements) stays linear.
        let mut at: HashMap<Span, usize> = HashMap::new();
        for mut r in std::mem::take(&mut f.related) {
            r.span = ws.sources.to_host(r.span);
            if r.span == f.primary {
                continue;
            }
            // Several facts of one embedded text land on one line: one label.
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
    for s in &mut secret_spans {
        *s = ws.sources.to_host(*s);
    }
    crate::deploy::terraform::scrub(&mut findings, &sensitive_texts);
    // A file shared by trees (conf.d) or servers is reported once.
    let mut seen = HashSet::new();
    let mut unique: Vec<Finding> = Vec::with_capacity(findings.len());
    for f in findings {
        if seen.insert((f.code, f.primary, f.message.clone())) {
            unique.push(f);
        }
    }
    unique.sort_by_cached_key(|f| {
        let loc = ws.sources.locate(f.primary);
        (loc.file, loc.line, loc.column, f.code)
    });
    let mut shown = HashSet::new();
    warnings.retain(|w| shown.insert(w.clone()));
    internal_errors.dedup();
    secret_spans.sort_by_key(|s| (s.source, s.start, s.end));
    secret_spans.dedup();
    Report {
        findings: unique,
        files_scanned: discovery.files_scanned,
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
    if builtin(&f.primary) {
        let Some(i) = f.related.iter().position(|r| !builtin(&r.span)) else {
            match first_real_file(server, ws) {
                Some(source) => f.primary = Span::new(source, 0, 0),
                None => return false,
            }
            f.related.retain(|r| !builtin(&r.span));
            annotate_defaults(f, server);
            return true;
        };
        f.primary = f.related.remove(i).span;
    }
    f.related.retain(|r| !builtin(&r.span));
    annotate_defaults(f, server);
    true
}

fn annotate_defaults(f: &mut Finding, server: &Checked) {
    // File-level findings (a parse error…) do not depend on the defaults.
    let about_server = matches!(
        crate::rules::rule(f.code).check,
        crate::rules::Check::Server(_) | crate::rules::Check::Both(..)
    );
    if about_server && !server.assumed.is_empty() && f.note.is_none() {
        f.note = Some(format!(
            "no main file for this folder: checked as overrides of the shipped {}",
            server.assumed.join(" and ")
        ));
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

/// Words that make the rest of a line a possible secret in unparsed text.
const SECRET_WORDS: [&str; 7] = [
    "password",
    "secret",
    "identity",
    "key",
    "token",
    "credential",
    "passphrase",
];

/// Mask, in text that did not parse, what follows a secret-sounding key:
/// the rest of its line, and the lines after it while the value continues
/// (XML text up to the next tag; a YAML value that is empty on the key's
/// line, a block scalar or an unclosed quote: the lines indented deeper).
/// Linear in the text: the words are found with one search each, and only
/// the lines they are on (and continuations) are looked at.
fn lexical_secrets(source: SourceId, text: &str, out: &mut Vec<Span>) {
    let bytes = text.as_bytes();
    let lower = text.to_ascii_lowercase();
    // Where each word ends, in text order.
    let mut hits: Vec<usize> = SECRET_WORDS
        .iter()
        .flat_map(|w| {
            memchr::memmem::find_iter(lower.as_bytes(), w.as_bytes()).map(|i| i + w.len())
        })
        .collect();
    hits.sort_unstable();
    hits.dedup();
    let line_end =
        |from: usize| memchr::memchr(b'\n', &bytes[from..]).map_or(bytes.len(), |i| from + i);
    let content_end = |start: usize| {
        let end = line_end(start);
        let trimmed = text[start..end].trim_end_matches('\r');
        start + trimmed.len()
    };
    // Text before `done` has been masked or passed over.
    let mut done = 0;
    for &after in &hits {
        if after < done {
            continue;
        }
        let start = memchr::memrchr(b'\n', &bytes[..after]).map_or(0, |i| i + 1);
        let end = content_end(start);
        let Some(d) = text[after..end].find(['>', ':', '=']) else {
            continue;
        };
        let delimiter = after + d;
        out.push(Span::new(source, delimiter + 1, end));
        done = end;
        let rest = text[delimiter + 1..end].trim();
        let xml = bytes[delimiter] == b'>';
        let unfinished = if xml {
            !rest.contains('<')
        } else {
            rest.is_empty()
                || rest.starts_with(['|', '>'])
                || ['"', '\'']
                    .iter()
                    .any(|q| rest.starts_with(*q) && rest.matches(*q).count() % 2 == 1)
        };
        if !unfinished {
            continue;
        }
        let key_line = &text[start..end];
        let key_indent = key_line.len() - key_line.trim_start().len();
        // The lines the value continues on.
        let mut line = line_end(start) + 1;
        while line < bytes.len() {
            let end = content_end(line);
            let content = &text[line..end];
            if xml {
                match content.find('<') {
                    Some(i) => {
                        out.push(Span::new(source, line, line + i));
                        done = line + i;
                        break;
                    }
                    None => out.push(Span::new(source, line, end)),
                }
            } else {
                let indent = content.len() - content.trim_start().len();
                if !content.trim().is_empty() && indent <= key_indent {
                    done = line;
                    break;
                }
                out.push(Span::new(source, line, end));
            }
            done = end;
            line = line_end(line) + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(text: &str) -> String {
        let mut spans = Vec::new();
        lexical_secrets(SourceId(0), text, &mut spans);
        text.char_indices()
            .map(|(i, c)| {
                let secret = spans
                    .iter()
                    .any(|s| s.start as usize <= i && i < s.end as usize);
                if secret && !c.is_whitespace() {
                    '*'
                } else {
                    c
                }
            })
            .collect()
    }

    #[test]
    fn unparsed_secrets_are_masked_across_lines() {
        assert_eq!(
            masked("<password>hunter2</pasword>\n<x>ok</x>\n"),
            "<password>*****************\n<x>ok</x>\n"
        );
        assert_eq!(
            masked("<password>\n  hunter2\n</password>\n<x>ok</x>"),
            "<password>\n  *******\n</password>\n<x>ok</x>"
        );
        assert_eq!(
            masked("a:\n  password: |\n    hunter2\n    more\n  b: ok\n"),
            "a:\n  password: *\n    *******\n    ****\n  b: ok\n"
        );
        assert_eq!(
            masked("password:\n  hunter2\nb: ok\n"),
            "password:\n  *******\nb: ok\n"
        );
        assert_eq!(
            masked("secret_access_key: \"abc\n  def\"\nb: ok\n"),
            "secret_access_key: ****\n  ****\nb: ok\n"
        );
    }

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
