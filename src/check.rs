//! One run of `chlint check`: discover, lower, run the rules, settle where
//! each finding points.

use std::path::PathBuf;

use crate::clickhouse::element::Element;
use crate::clickhouse::load::{ConfigNote, Workspace};
use crate::discover::discover_each;
use crate::finding::Finding;
use crate::model::Server;
use crate::rules::{check_notes, check_server, server_notes};
use crate::source::{SourceId, Span};

pub struct Report {
    pub findings: Vec<Finding>,
    pub files_scanned: usize,
    /// Problems that stop chlint from doing its job on a named path.
    pub errors: Vec<String>,
    /// chlint's own failures on some input (a bug): reported, exit code 2.
    pub internal_errors: Vec<String>,
    /// Where secret values are written: never printed.
    pub secret_spans: Vec<Span>,
}

/// What checking one server leaves once the server itself is dropped.
struct Checked {
    label: String,
    /// Its findings, unsettled; `None` when the checks failed (a bug).
    found: Option<Vec<Finding>>,
    notes: Vec<ConfigNote>,
    secrets: Vec<Span>,
    /// What settling its findings needs to know about the server.
    files: Vec<SourceId>,
    assumed: Vec<&'static str>,
}

/// Check one server, in any thread: the rules, and what settling needs.
fn check_one(server: Server) -> Checked {
    // A bug in one server's checks must not take the others down.
    let found =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check_server(&server))).ok();
    let mut secrets = Vec::new();
    if found.is_some() {
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
    let discovery = rayon::scope(|scope| {
        let mut next = 0;
        let (checked, waiting) = (&checked, &waiting);
        discover_each(ws, paths, &mut |server| {
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
        })
    });
    let mut checked = checked.into_inner().unwrap_or_else(|e| e.into_inner());
    checked.sort_by_key(|(index, _)| *index);
    let mut findings = Vec::new();
    let mut secret_spans = Vec::new();
    let mut internal_errors = Vec::new();
    for (_, mut server) in checked {
        let Some(mut found) = server.found.take() else {
            internal_errors.push(format!("internal error while checking {}", server.label));
            continue;
        };
        found.extend(
            server
                .notes
                .iter()
                .filter_map(|n| check_notes(n, &mut ws.sources)),
        );
        for mut f in found {
            if settle(&mut f, &server, ws) {
                findings.push(f);
            }
        }
        secret_spans.extend(server.secrets);
    }
    for note in &discovery.file_notes {
        findings.extend(check_notes(note, &mut ws.sources));
    }
    if !discovery.terraform.is_empty() {
        let tf = crate::deploy::terraform::analyse(ws, &discovery.terraform);
        for note in &tf.notes {
            if let Some(mut f) = check_notes(note, &mut ws.sources) {
                if f.code == "CH900" {
                    f.help = "fix the syntax: Terraform cannot read this file either, and chlint checks nothing in it".into();
                }
                findings.push(f);
            }
        }
        secret_spans.extend(tf.secret_spans);
        let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            crate::rules::check_repo(&tf.repo)
        }));
        match checked {
            Ok(found) => findings.extend(found),
            Err(_) => {
                internal_errors.push("internal error while checking Terraform resources".into())
            }
        }
    }
    // A file that does not parse has no elements to tell secrets by: mask
    // what follows a secret-sounding key on any of its lines.
    for f in findings.iter().filter(|f| f.code == "CH900") {
        lexical_secrets(
            f.primary.source,
            &ws.sources.get(f.primary.source).text,
            &mut secret_spans,
        );
    }
    // Text embedded in another file is reported where the user can open it.
    for f in &mut findings {
        f.primary = ws.sources.to_host(f.primary);
        let mut related: Vec<crate::finding::Related> = Vec::new();
        for mut r in std::mem::take(&mut f.related) {
            r.span = ws.sources.to_host(r.span);
            if r.span == f.primary {
                continue;
            }
            // Several facts of one embedded text land on one line: one label.
            match related.iter_mut().find(|o| o.span == r.span) {
                Some(o) => {
                    if !o.message.contains(&r.message) {
                        o.message = format!("{}; {}", o.message, r.message);
                    }
                }
                None => related.push(r),
            }
        }
        f.related = related;
    }
    for s in &mut secret_spans {
        *s = ws.sources.to_host(*s);
    }
    // A file shared by trees (conf.d) or servers is reported once.
    let mut seen = std::collections::HashSet::new();
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
    Report {
        findings: unique,
        files_scanned: discovery.files_scanned,
        errors: discovery.errors,
        internal_errors,
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

/// Elements whose value is a secret (or a hash of one).
const SECRET_ELEMENTS: [&str; 14] = [
    "password",
    "password_sha256_hex",
    "password_double_sha1_hex",
    "password_scram_sha256_hex",
    "password_bcrypt_hash",
    "secret",
    "identity",
    "secret_access_key",
    "account_key",
    "connection_string",
    "key",
    "key_hex",
    "server_side_encryption_customer_key_base64",
    "privateKeyPassphrase",
];

fn collect_secrets(root: &Element, out: &mut Vec<Span>) {
    root.walk(&mut |e| {
        if SECRET_ELEMENTS.contains(&e.name.as_str()) {
            for n in &e.children {
                if let crate::clickhouse::element::Node::Text(t) = n {
                    out.push(t.span);
                }
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

fn lexical_secrets(source: SourceId, text: &str, out: &mut Vec<Span>) {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let lower = line.to_ascii_lowercase();
        let hit = SECRET_WORDS
            .iter()
            .filter_map(|w| lower.find(w).map(|i| i + w.len()))
            .min();
        if let Some(after) = hit {
            if let Some(d) = line[after..].find(['>', ':', '=']) {
                let start = offset + after + d + 1;
                out.push(Span::new(source, start, offset + line.trim_end().len()));
            }
        }
        offset += line.len();
    }
}
