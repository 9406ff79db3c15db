//! Finding ClickHouse configuration files and grouping them the way a server
//! reads them: a main file with its `config.d/`/`conf.d/`, its users file with
//! `users.d/`; override files without a main file over the shipped defaults.
//!
//! Which files are ClickHouse configurations (only those can have CH900 or
//! CH901 of their own; deployment files are the frontends' to decide, and
//! files they mount are read as part of their server). A file with an
//! extension ClickHouse's loader takes (`.xml`, `.conf`, `.yaml`, `.yml`:
//! ConfigProcessor::getConfigMergeFiles) is one when
//!
//! 1. a server reads it by its place: it sits in `config.d/`, `users.d/` or
//!    `keeper_config.d/`, in another `<stem>.d/` beside its main file
//!    `<stem>.xml|yaml|yml`, or in `conf.d/` beside one of ClickHouse's main
//!    files (`conf.d/` alone is nginx's as much as ClickHouse's); or it is a
//!    main file `config`/`users`/`keeper_config` with its merge folder beside;
//! 2. or a recognised configuration names it: its users file (`users_config`,
//!    a `users_xml` directory's `path`) or its `include_from`, whatever the
//!    file holds;
//! 3. or its content says so unambiguously: XML whose root is `<clickhouse>`
//!    or `<yandex>`; YAML whose top-level keys are more than half
//!    ClickHouse's and none Kubernetes', compose's or Helm's, one of them a
//!    key no other tool uses (`listen_host`, `remote_servers`…) or a
//!    generic one with a child only ClickHouse writes there (`zookeeper:
//!    {node: …}`, a user with `networks`) — generic keys alone (`logger:`,
//!    `users:`, an application's `http_port`) are not enough, nor is a name
//!    alone: `.github/ISSUE_TEMPLATE/config.yml` or a backup tool's
//!    `config.yml` is not ClickHouse's, nor clickhouse-client's own
//!    configuration (`host`, `user`, `password` at its top level, no key
//!    only a server has); a lone `clickhouse:` mapping counts
//!    by the keys inside it (the CH901 mistake), so a tool's connection
//!    section does not. Helm values (`values*.yaml`, a chart's `ci/*.yaml`)
//!    and compose files are never judged by their keys.
//!
//! A file that does not parse is judged by the same rule on what can be
//! seen: its place, the name of its first XML element, its top-level keys.
//! When nothing can be seen (binary, another encoding, empty, refused at a
//! depth or size limit), a main file's name (`config.xml`, `users.yaml`…)
//! decides: such a file is reported, not guessed away. Everything else is
//! skipped silently, as files of other tools.
//!
//! A main file that names a users file the repository does not hold (its
//! `users_config`, or `user_directories/users_xml` as the shipped
//! `config.xml` has it) is checked with the package's shipped `users.xml`
//! (and `users.d/`), as a standard install runs it, and its findings about
//! users say so. A main file that names none has its own users only: that
//! is where ClickHouse reads them from (see `group_dir`).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::clickhouse::defaults;
use crate::clickhouse::element::Element;
use crate::clickhouse::load::{
    self, is_clickhouse_root, merge_files, resolve_in_dir, Base, ConfigNote, Loaded, Workspace,
};
use crate::lower;
use crate::model::{Server, ServerKind};

/// Top-level keys of ClickHouse server, users and Keeper configurations
/// that other tools use too (`logger`, `users`, `http_port`, `path`): they
/// count towards a majority, but say ClickHouse only with a distinctive key
/// or a telltale child (see [`keys_say_clickhouse`]).
const GENERIC_KEYS: [&str; 24] = [
    "http_port",
    "https_port",
    "tcp_port",
    "mysql_port",
    "postgresql_port",
    "grpc_port",
    "users",
    "profiles",
    "quotas",
    "roles",
    "settings_profiles",
    "zookeeper",
    "macros",
    "openSSL",
    "logger",
    "max_connections",
    "prometheus",
    "include_from",
    "path",
    "tmp_path",
    "timezone",
    "display_name",
    "compression",
    "keep_alive_timeout",
];

/// Top-level keys no other tool's configuration is known to have: one of
/// them says ClickHouse.
const DISTINCTIVE_KEYS: [&str; 38] = [
    "listen_host",
    "listen_try",
    "listen_reuse_port",
    "listen_backlog",
    "tcp_port_secure",
    "tcp_with_proxy_port",
    "interserver_http_port",
    "interserver_https_port",
    "interserver_http_host",
    "interserver_listen_host",
    "interserver_http_credentials",
    "remote_servers",
    "keeper_server",
    "auxiliary_zookeepers",
    "storage_configuration",
    "user_directories",
    "users_config",
    "access_control_path",
    "max_concurrent_queries",
    "max_server_memory_usage",
    "max_server_memory_usage_to_ram_ratio",
    "mark_cache_size",
    "uncompressed_cache_size",
    "merge_tree",
    "query_log",
    "query_thread_log",
    "part_log",
    "trace_log",
    "metric_log",
    "text_log",
    "asynchronous_metric_log",
    "distributed_ddl",
    "user_files_path",
    "format_schema_path",
    "default_profile",
    "default_database",
    "dictionaries_config",
    "ldap_servers",
];

/// Generic keys with a child only ClickHouse writes there: with it, the
/// key says ClickHouse as a distinctive one does (`zookeeper: {node: …}`,
/// not Kafka's `zookeeper: {connect: …}`).
const TELLTALE_CHILDREN: [(&str, &str); 8] = [
    ("zookeeper", "node"),
    ("logger", "errorlog"),
    ("logger", "log"),
    ("macros", "replica"),
    ("macros", "shard"),
    ("openSSL", "server"),
    ("openSSL", "client"),
    ("prometheus", "endpoint"),
];

/// Top-level keys of clickhouse-client's configuration that a server's
/// has not: a file with one (and no key only a server has) is the client's.
const CLIENT_KEYS: [&str; 4] = ["host", "user", "password", "connections_credentials"];

/// Keys that mark YAML as something else (Kubernetes, compose, Helm values).
const FOREIGN_KEYS: [&str; 7] = [
    "apiVersion",
    "kind",
    "services",
    "image",
    "replicaCount",
    "version",
    "spec",
];

/// The main files a server or Keeper reads by name.
const MAIN_STEMS: [&str; 3] = ["config", "users", "keeper_config"];

/// Folders named after those main files: only ClickHouse reads them.
const MERGE_DIRS: [&str; 3] = ["config.d", "users.d", "keeper_config.d"];

/// The extensions a main file may have (`conf` only in a merge folder).
const MAIN_EXTS: [&str; 3] = ["xml", "yaml", "yml"];

/// What a run found.
#[derive(Debug, Default)]
pub struct Discovery {
    pub servers: Vec<Server>,
    /// Files that could not be used at all (a main file that does not parse…).
    pub file_notes: Vec<ConfigNote>,
    /// ClickHouse files recognised.
    pub files_scanned: usize,
    /// The deployment files among them (compose, Kubernetes, Helm values):
    /// one that does not parse is rejected by its tool, not by ClickHouse.
    pub deployment_files: HashSet<PathBuf>,
    /// Named paths that could not be read: chlint cannot do its job (exit 2).
    pub errors: Vec<String>,
    /// Terraform configurations, tfvars and plan files.
    pub terraform: crate::deploy::terraform::Inputs,
    /// What the Terraform frontend made of them (analysed while the
    /// configuration folders are grouped), when there were any.
    pub terraform_analysis: Option<crate::deploy::terraform::Analysis>,
    /// Paths skipped without being read (FIFOs, devices, symbolic links that
    /// loop, dangle or lead outside the checked folders, folders whose ignore
    /// file is unsafe to read): printed, not findings.
    pub warnings: Vec<String>,
    /// chlint's own failures (bugs) on some file or folder: exit code 2.
    pub internal_errors: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    ServerMain,
    KeeperMain,
    UsersMain,
    ServerFragment,
    UsersFragment,
    KeeperFragment,
    /// In a `*.d` folder: merged by the main file of its parent folder.
    MergeFile,
}

fn is_config_ext(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| load::is_merge_file_name(&n.to_string_lossy()))
}

/// A name chlint reads whatever the entry is (a FIFO or a link is looked
/// at, never opened): ClickHouse configuration and Terraform files.
fn is_checked_name(path: &Path) -> bool {
    use crate::deploy::terraform::{is_config_file, is_tfvars_file};
    is_config_ext(path) || is_config_file(path) || is_tfvars_file(path)
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Is this file in a folder a server merges into a main file? `config.d/`,
/// `users.d/` and `keeper_config.d/` are; another `<stem>.d/` only beside
/// its main file `<stem>.xml|yaml|yml`, and `conf.d/` (which nginx and
/// others use too) only beside one of ClickHouse's main files.
fn in_merge_dir(path: &Path) -> bool {
    let Some(dir) = path.parent() else {
        return false;
    };
    let Some(name) = dir.file_name().map(|n| n.to_string_lossy()) else {
        return false;
    };
    if MERGE_DIRS.contains(&name.as_ref()) {
        return true;
    }
    let Some(stem) = name.strip_suffix(".d") else {
        return false;
    };
    let up = dir.parent().unwrap_or(Path::new(""));
    let stems: &[&str] = if stem == "conf" { &MAIN_STEMS } else { &[stem] };
    stems.iter().any(|s| {
        MAIN_EXTS
            .iter()
            .any(|e| up.join(format!("{s}.{e}")).is_file())
    })
}

/// Named as a main file: `config`, `users` or `keeper_config` with `.xml`,
/// `.yaml` or `.yml`.
fn has_main_name(path: &Path) -> bool {
    MAIN_STEMS.contains(&stem(path).as_str())
        && path
            .extension()
            .is_some_and(|e| MAIN_EXTS.contains(&e.to_string_lossy().to_lowercase().as_str()))
}

/// A main file by its name, with the folder ClickHouse merges into it
/// beside it (`config.yaml` and `config.d/`).
fn is_main_with_merge_dir(path: &Path) -> bool {
    has_main_name(path)
        && path
            .parent()
            .is_some_and(|d| d.join(format!("{}.d", stem(path))).is_dir())
}

/// A values file of Helm's chart-testing: `ci/*.yaml` directly in a chart
/// (`ci/ct-values.yaml` beside `Chart.yaml`'s folder), whatever its name.
fn is_chart_ci_values(path: &Path) -> bool {
    let Some(ci) = path.parent() else {
        return false;
    };
    ci.file_name().is_some_and(|n| n == "ci")
        && ci
            .parent()
            .is_some_and(|chart| chart.join("Chart.yaml").is_file())
}

/// Do these top-level keys say ClickHouse unambiguously? They are more
/// than half ClickHouse's, none another format's, and one of them is one
/// no other tool uses, or has a child only ClickHouse writes there
/// (`telltale`). Generic keys alone (`logger:`, `users:`, an application's
/// `http_port` and `path`) are not enough, however many.
fn keys_say_clickhouse(keys: &BTreeSet<&str>, telltale: bool) -> bool {
    if keys.iter().any(|k| FOREIGN_KEYS.contains(k)) {
        return false;
    }
    let ours = keys
        .iter()
        .filter(|k| GENERIC_KEYS.contains(k) || DISTINCTIVE_KEYS.contains(k))
        .count();
    let distinctive = telltale || keys.iter().any(|k| DISTINCTIVE_KEYS.contains(k));
    ours * 2 > keys.len() && distinctive
}

/// Does a YAML root (converted to elements) say ClickHouse? Its keys do,
/// or it is one `clickhouse:` mapping whose keys do (the mistake CH901
/// reports; a tool's `clickhouse:` connection section is not).
fn yaml_root_says_clickhouse(root: &Element) -> bool {
    let says = |e: &Element| -> bool {
        let keys: BTreeSet<&str> = e.elements().map(|c| c.name.as_str()).collect();
        let telltale = TELLTALE_CHILDREN
            .iter()
            .any(|(key, child)| e.child(key).is_some_and(|k| k.child(child).is_some()))
            || e.child("users").is_some_and(has_clickhouse_user);
        keys_say_clickhouse(&keys, telltale)
    };
    match root.child("clickhouse") {
        Some(inner) if root.elements().all(|e| e.name == "clickhouse") => says(inner),
        _ => says(root),
    }
}

/// Is this `<clickhouse>` tree clickhouse-client's configuration (where to
/// connect, as whom), which no server reads?
fn is_client_config(root: &Element) -> bool {
    has_any(root, &CLIENT_KEYS) && !has_any(root, &DISTINCTIVE_KEYS)
}

/// Does a `users` mapping hold a user as ClickHouse writes one (with
/// `networks`, a hashed password, `no_password`, `access_management` or a
/// `quota`)?
fn has_clickhouse_user(users: &Element) -> bool {
    users.elements().any(|user| {
        user.elements().any(|e| {
            matches!(
                e.name.as_str(),
                "networks"
                    | "password_sha256_hex"
                    | "password_double_sha1_hex"
                    | "no_password"
                    | "access_management"
                    | "quota"
            )
        })
    })
}

fn has_any(root: &Element, keys: &[&str]) -> bool {
    keys.iter().any(|k| root.child(k).is_some())
}

const USERS_KEYS: [&str; 3] = ["users", "profiles", "quotas"];

/// Only users/profiles/quotas (plus harmless extras): a users file.
fn is_users_only(root: &Element) -> bool {
    has_any(root, &USERS_KEYS)
        && root.elements().all(|e| {
            USERS_KEYS.contains(&e.name.as_str())
                || e.name == "include_from"
                || e.name == "roles"
                || e.name == "settings_profiles"
        })
}

fn classify(path: &Path, root: &Element) -> Role {
    if in_merge_dir(path) {
        // Text not on disk (standard input named `users.d/x.xml`): no main
        // file will list it, so it is an override of its own.
        if path.is_file() {
            return Role::MergeFile;
        }
        match path.parent().and_then(Path::file_name) {
            Some(n) if n == "users.d" => return Role::UsersFragment,
            Some(n) if n == "keeper_config.d" => return Role::KeeperFragment,
            _ => {}
        }
    }
    let name = stem(path);
    if name.starts_with("keeper_config") {
        return Role::KeeperMain;
    }
    let keeper_only = root.child("keeper_server").is_some()
        && !has_any(
            root,
            &[
                "http_port",
                "tcp_port",
                "users",
                "remote_servers",
                "user_directories",
            ],
        );
    if keeper_only {
        return Role::KeeperFragment;
    }
    if has_any(root, &["user_directories", "users_config", "path"]) {
        return Role::ServerMain;
    }
    if is_users_only(root) {
        // A complete users file defines the profiles and quotas its users name.
        // A user without any authentication element fails to load, so such
        // a file can only be an override of a users file that has one.
        let complete_users = root
            .child("users")
            .is_none_or(|u| u.elements().all(has_auth_element));
        if name.starts_with("users")
            && has_any(root, &["profiles"])
            && has_any(root, &["quotas"])
            && complete_users
        {
            return Role::UsersMain;
        }
        return Role::UsersFragment;
    }
    Role::ServerFragment
}

/// Does every user of this (parsed) users file have an authentication element?
fn is_complete_users_file(ws: &Workspace, path: &Path) -> bool {
    ws.root_of(path).is_none_or(|r| {
        r.child("users")
            .is_none_or(|u| u.elements().all(has_auth_element))
    })
}

fn has_auth_element(user: &Element) -> bool {
    user.elements().any(|e| {
        e.name.starts_with("password")
            || matches!(
                e.name.as_str(),
                "no_password"
                    | "ldap"
                    | "kerberos"
                    | "ssl_certificates"
                    | "ssh_keys"
                    | "http_authentication"
            )
    })
}

/// Is this file a ClickHouse configuration (see the rule in the module
/// documentation)? XML by its root element or its place, YAML by its place
/// or its keys.
fn recognise(ws: &Workspace, path: &Path) -> bool {
    if !is_config_ext(path) {
        return false;
    }
    let merge_dir = in_merge_dir(path);
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    // Helm values and compose files are the deployment frontends' to read.
    let deployment_name = file_name.starts_with("values")
        || file_name.contains("compose")
        || file_name == "chart.yaml"
        || is_chart_ci_values(path);
    let read_by_name = || merge_dir || is_main_with_merge_dir(path);
    if let Some(root) = ws.root_of(path) {
        if root.span.end > 0 {
            // XML: a server's ClickHouse root, or any root where a server
            // merges it (reported as a root mismatch).
            return (is_clickhouse_root(&root.name) && !is_client_config(&root)) || merge_dir;
        }
        // YAML (the converted root has an empty span).
        if read_by_name() {
            return true;
        }
        return !deployment_name && yaml_root_says_clickhouse(&root) && !is_client_config(&root);
    }
    // Unparseable or unreadable: reported only when clearly meant for
    // ClickHouse (by its place or its beginning).
    let meant = |text: &str| {
        read_by_name()
            || xml_root_name(text).is_some_and(|n| is_clickhouse_root(&n))
            || (!text.trim_start().starts_with('<')
                && !deployment_name
                && yaml_looks_like_clickhouse(text))
    };
    // When there is no content to judge (binary, another encoding, empty,
    // refused at a limit), a main file's name decides.
    let main_name = has_main_name(path);
    match ws.failure_of(path) {
        Some(ConfigNote::Invalid { source, error }) => {
            meant(&ws.sources.get(source).text) || (main_name && content_unseen(&error.message))
        }
        Some(ConfigNote::Unreadable { .. }) => {
            main_name || meant(&ws.prefix_of(path).unwrap_or_default())
        }
        Some(ConfigNote::Internal { .. }) => true,
        _ => false,
    }
}

/// Did parsing stop before the content could be seen: at one of chlint's
/// limits (syntax/xml.rs, syntax/yaml.rs: depth, node count, alias
/// expansion) or for want of any element, rather than at a syntax error?
fn content_unseen(message: &str) -> bool {
    [
        "deeper than",
        "expand beyond",
        "more than ",
        "no root element",
    ]
    .iter()
    .any(|m| message.contains(m))
}

/// Top-level keys of YAML-like text that may not parse: lines starting in
/// the first column with `key:`; those one level down when the only one
/// is `clickhouse:`.
fn yaml_top_keys(text: &str) -> BTreeSet<&str> {
    let keys_at = |indent: usize| -> BTreeSet<&str> {
        text.lines()
            .filter_map(|line| {
                let body = line.get(indent..)?;
                let first = body.chars().next()?;
                let leading = &line[..indent];
                if !leading.chars().all(|c| c == ' ')
                    || first.is_whitespace()
                    || "#-{}[]%".contains(first)
                {
                    return None;
                }
                let (key, _) = body.split_once(':')?;
                let key = key.trim().trim_matches(['"', '\'']);
                (!key.is_empty() && !key.contains(' ')).then_some(key)
            })
            .collect()
    };
    let top = keys_at(0);
    if top.len() != 1 || !top.contains("clickhouse") {
        return top;
    }
    // The indentation of the first line below `clickhouse:` with content.
    let inner = text
        .lines()
        .skip_while(|l| !l.starts_with("clickhouse"))
        .skip(1)
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|l| l.len() - l.trim_start_matches(' ').len());
    match inner {
        Some(n) if n > 0 => keys_at(n),
        _ => top,
    }
}

/// Does text that cannot be parsed as YAML say ClickHouse by its keys?
fn yaml_looks_like_clickhouse(text: &str) -> bool {
    keys_say_clickhouse(&yaml_top_keys(text), false)
}

/// The name of the first element of an XML text, without parsing it all.
fn xml_root_name(text: &str) -> Option<String> {
    let mut rest = text;
    loop {
        let i = rest.find('<')?;
        rest = &rest[i + 1..];
        if let Some(comment) = rest.strip_prefix("!--") {
            rest = &comment[comment.find("-->")? + 3..];
            continue;
        }
        if rest.starts_with('?') || rest.starts_with('!') {
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
            .collect();
        return Some(name);
    }
}

/// Largest ignore file (`.gitignore`, `.ignore`) the walker may read.
const MAX_IGNORE_FILE: u64 = 1024 * 1024;

/// Folders files may be read from for these named paths: a named folder,
/// or the folder of a named file (its parent when that is a `*.d` folder,
/// whose main file sits beside it). Symbolic links leading elsewhere are
/// not followed.
pub fn read_roots(paths: &[PathBuf]) -> Vec<PathBuf> {
    let roots: BTreeSet<PathBuf> = paths
        .iter()
        .filter_map(|p| {
            if p.is_dir() {
                return p.canonicalize().ok();
            }
            let parent = match p.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                _ => PathBuf::from("."),
            };
            let dir = parent.canonicalize().ok()?;
            let merge_dir = dir
                .file_name()
                .is_some_and(|n| n.to_string_lossy().ends_with(".d"));
            match dir.parent() {
                Some(up) if merge_dir => Some(up.to_path_buf()),
                _ => Some(dir),
            }
        })
        .collect();
    // Each read is checked against every root: the files of one folder (a
    // pre-commit run names thousands) are one root, a folder inside
    // another none of its own.
    roots
        .iter()
        .filter(|r| !r.ancestors().skip(1).any(|a| roots.contains(a)))
        .cloned()
        .collect()
}

/// Does a path (canonical) lie in one of `roots`, as [`read_roots`] makes
/// them (sorted, none inside another)? Only the greatest root before it in
/// path order can hold it: a lookup, however many folders were named.
pub fn within_roots(roots: &[PathBuf], path: &Path) -> bool {
    let i = roots.partition_point(|r| r.as_path() <= path);
    i > 0 && path.starts_with(&roots[i - 1])
}

/// Why the walker must not read the ignore files of `dir`, if it must not:
/// it opens them without looking, so a FIFO would block it, a device or a
/// huge file exhaust memory, and a link could show text from outside.
fn unsafe_ignore_file(dir: &Path, roots: &[PathBuf]) -> Option<String> {
    for name in [".gitignore", ".ignore", ".git/info/exclude"] {
        let path = dir.join(name);
        let Ok(link) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        // A link that leads nowhere is not opened by the walker either.
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if !meta.is_file() {
            return Some(format!("`{name}` is not a regular file"));
        }
        if meta.len() > MAX_IGNORE_FILE {
            return Some(format!("`{name}` is larger than {MAX_IGNORE_FILE} bytes"));
        }
        if link.file_type().is_symlink() {
            let inside = path
                .canonicalize()
                .is_ok_and(|real| within_roots(roots, &real));
            if !inside {
                return Some(format!(
                    "`{name}` is a symbolic link to a file outside the checked folders"
                ));
            }
        }
    }
    None
}

/// The files under `path` (and anything else with a configuration's name:
/// a FIFO, a link, which reading decides on without opening what is not a
/// regular file), walked in parallel with the `ignore` crate's walker
/// (`.gitignore` and `.ignore` files apply; folders whose ignore files are
/// unsafe to read are left out with a warning). Errors on the named path
/// itself go to `errors`, those below it to `warnings`, each in the order
/// of the paths they concern.
fn walk(
    path: &Path,
    roots: &[PathBuf],
    files: &mut Vec<PathBuf>,
    inside: &mut HashSet<PathBuf>,
    errors: &mut Vec<String>,
    warnings: &Arc<Mutex<Vec<String>>>,
) {
    let found: Mutex<Walked> = Mutex::default();
    let filter_roots = roots.to_vec();
    let filter_warnings = Arc::clone(warnings);
    ignore::WalkBuilder::new(path)
        .hidden(false)
        .filter_entry(move |e| {
            let n = e.file_name().to_string_lossy();
            if e.depth() > 0 && [".git", "target", "node_modules"].contains(&n.as_ref()) {
                return false;
            }
            if e.depth() > 0 && e.file_type().is_some_and(|t| t.is_dir()) {
                if let Some(why) = unsafe_ignore_file(e.path(), &filter_roots) {
                    if let Ok(mut w) = filter_warnings.lock() {
                        w.push(format!(
                            "{}: folder not checked: {why}",
                            crate::source::display_path(e.path())
                        ));
                    }
                    return false;
                }
            }
            true
        })
        .build_parallel()
        .run(|| {
            // Each thread collects its own, then hands them over once.
            let mut mine = Collector {
                walked: Walked::default(),
                into: &found,
            };
            Box::new(move |entry| {
                match entry {
                    Ok(e) if e.file_type().is_some_and(|t| t.is_dir()) => {}
                    Ok(e) => {
                        // A regular file the walker reached without a link
                        // lies inside the walked folder: reading it needs no
                        // resolving of its path.
                        let plain =
                            !e.path_is_symlink() && e.file_type().is_some_and(|t| t.is_file());
                        if plain || is_checked_name(e.path()) {
                            mine.walked.files.push((e.into_path(), plain))
                        }
                    }
                    Err(err) => {
                        let at = error_path(&err).unwrap_or_default();
                        if err.depth().unwrap_or(1) == 0 {
                            mine.walked.errors.push((at, err.to_string()))
                        } else {
                            mine.walked.warnings.push((at, err.to_string()))
                        }
                    }
                }
                ignore::WalkState::Continue
            })
        });
    let mut walked = found.into_inner().unwrap_or_else(|e| e.into_inner());
    for (path, plain) in walked.files {
        if plain {
            inside.insert(path.clone());
        }
        files.push(path);
    }
    walked.errors.sort();
    errors.extend(walked.errors.into_iter().map(|(_, e)| e));
    walked.warnings.sort();
    if let Ok(mut w) = warnings.lock() {
        w.extend(walked.warnings.into_iter().map(|(_, e)| e));
    }
}

/// Paths in `Path`'s order, without repeats. Sorted by a byte key made once
/// per path: a `BTreeSet` built by inserting compared deep paths component
/// by component, about 1,000 instructions a comparison.
fn path_set(mut paths: Vec<PathBuf>) -> BTreeSet<PathBuf> {
    paths.sort_by_cached_key(|p| order_key(p));
    paths.dedup();
    // Already in order: the set is built in one pass.
    paths.into_iter().collect()
}

/// Bytes that sort as `Path`'s `Ord` sorts: component by component, each
/// component's kind first (in `Component`'s order), the components
/// separated by a byte below any of theirs.
fn order_key(path: &Path) -> Vec<u8> {
    use std::path::Component;
    let mut key = Vec::with_capacity(path.as_os_str().len() + 8);
    for (i, c) in path.components().enumerate() {
        if i > 0 {
            key.push(0);
        }
        match c {
            Component::Prefix(p) => {
                key.push(1);
                key.extend(p.as_os_str().as_encoded_bytes());
            }
            Component::RootDir => key.push(2),
            Component::CurDir => key.push(3),
            Component::ParentDir => key.push(4),
            Component::Normal(s) => {
                key.push(5);
                key.extend(s.as_encoded_bytes());
            }
        }
    }
    key
}

/// What the walker found: files, and errors with the path they concern.
#[derive(Default)]
struct Walked {
    /// Each with whether it is a regular file reached without a link.
    files: Vec<(PathBuf, bool)>,
    errors: Vec<(PathBuf, String)>,
    warnings: Vec<(PathBuf, String)>,
}

/// What one walker thread found; handed over when the thread is done.
struct Collector<'a> {
    walked: Walked,
    into: &'a Mutex<Walked>,
}

impl Drop for Collector<'_> {
    fn drop(&mut self) {
        let mut all = self.into.lock().unwrap_or_else(|e| e.into_inner());
        all.files.append(&mut self.walked.files);
        all.errors.append(&mut self.walked.errors);
        all.warnings.append(&mut self.walked.warnings);
    }
}

/// The path an error of the walker is about, to sort errors by.
fn error_path(err: &ignore::Error) -> Option<PathBuf> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        _ => None,
    }
}

/// Walk the given paths and build every server they describe.
pub fn discover(ws: &mut Workspace, paths: &[PathBuf]) -> Discovery {
    let mut servers = Vec::new();
    let mut out = discover_each(ws, paths, &mut |s| servers.push(s));
    out.servers = servers;
    out
}

/// [`discover`], handing each server to `sink` as soon as it is built, in
/// the same order, instead of keeping them all (`servers` stays empty).
pub fn discover_each(
    ws: &mut Workspace,
    paths: &[PathBuf],
    sink: &mut (dyn FnMut(Server) + Send),
) -> Discovery {
    let mut out = Discovery::default();
    let roots = ws.roots.get_or_insert_with(|| read_roots(paths)).clone();
    let mut files: Vec<PathBuf> = Vec::new();
    let mut inside: HashSet<PathBuf> = HashSet::new();
    let warnings = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut ignore_checked: std::collections::HashMap<PathBuf, Option<String>> =
        std::collections::HashMap::new();
    for path in paths {
        // Text registered under a name (standard input) is not on disk.
        if ws.has_text(path) {
            files.push(path.clone());
            continue;
        }
        if let Err(e) = std::fs::metadata(path) {
            let why = if std::fs::symlink_metadata(path).is_ok() {
                format!("a symbolic link that cannot be followed ({e})")
            } else {
                "no such file or directory".to_string()
            };
            out.errors
                .push(format!("{}: {why}", crate::source::display_path(path)));
            continue;
        }
        // The walker also reads ignore files in the folders above.
        let unsafe_above = path.canonicalize().ok().and_then(|p| {
            let start = if p.is_dir() {
                Some(p.as_path())
            } else {
                p.parent()
            };
            start.and_then(|s| {
                s.ancestors().find_map(|d| {
                    // Named files share their folders: each is looked at once.
                    let why = ignore_checked
                        .entry(d.to_path_buf())
                        .or_insert_with(|| unsafe_ignore_file(d, &roots));
                    why.clone().map(|w| (d.to_path_buf(), w))
                })
            })
        });
        if let Some((dir, why)) = unsafe_above {
            out.errors.push(format!(
                "{}: cannot be checked: {why} in {}",
                crate::source::display_path(path),
                dir.display()
            ));
            continue;
        }
        // A named regular file is checked whatever ignore files say, as the
        // walker would: without setting the walker up (reading git's global
        // configuration for its excludes file costs a one-file call more
        // than the checking).
        if std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file()) {
            files.push(path.clone());
            continue;
        }
        walk(
            path,
            &roots,
            &mut files,
            &mut inside,
            &mut out.errors,
            &warnings,
        );
    }
    // Folders left out, then errors below the named paths, in path order.
    let mut walk_warnings = warnings.lock().map(|w| w.clone()).unwrap_or_default();
    walk_warnings.sort();
    out.warnings.extend(walk_warnings);
    // Every file is read and parsed once, in parallel, before any is used
    // (through the same checked reads and budgets as reading on first use).
    let files = path_set(files);
    crate::phases::mark("walk");
    ws.walked_inside.extend(inside);
    ws.preload(&files);
    // Deployment files (compose, Kubernetes, Helm values) and the
    // configuration they mount.
    // A bug in a frontend must not take the plain configurations down.
    crate::phases::mark("read and parse configurations");
    let deployed = {
        let frontends = &mut *ws;
        let sink = &mut *sink;
        let files = &files;
        let parsing = &mut out.terraform.parsing;
        // Terraform files are parsed while the deployment files are lowered,
        // on the core lowering leaves free.
        let mut before_lowering = |ws: &Workspace| {
            *parsing = crate::deploy::terraform::parse_early(ws, files);
        };
        crate::guard::catch(move || {
            crate::deploy::discover(frontends, files, sink, &mut before_lowering)
        })
    };
    let deployed = match deployed {
        Ok(d) => d,
        Err(e) => {
            out.internal_errors.push(format!(
                "internal error while reading deployment files: {e}"
            ));
            crate::deploy::DeployOutput::default()
        }
    };
    crate::phases::mark("lower: helm values");
    out.files_scanned += deployed.files.len();
    out.deployment_files = deployed.files.clone();
    out.file_notes.extend(deployed.notes);
    // Trees are dropped once used (the servers hold what they need), so a
    // large tree does not keep every file's tree alive to the end.
    for path in &deployed.consumed {
        ws.drop_tree(path);
    }
    // Folders holding configuration, with the files directly in them.
    let mut dirs: BTreeMap<PathBuf, Vec<(PathBuf, Role)>> = BTreeMap::new();
    let mut others: Vec<PathBuf> = Vec::new();
    let mut named: HashSet<PathBuf> = HashSet::new();
    for path in files {
        if out.terraform.take(ws, &path) {
            // Not a regular file (a FIFO, a link): reading it records why it
            // is skipped, without opening it.
            if !std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
                let _ = ws.read_source(&path);
            }
            out.files_scanned += 1;
            continue;
        }
        if deployed.files.contains(&path) {
            continue;
        }
        if deployed.consumed.contains(&path) {
            out.files_scanned += 1;
            continue;
        }
        if !recognise(ws, &path) {
            // Decided below, once the files configurations name are known;
            // its tree is not kept meanwhile (parsed again if named).
            ws.drop_tree(&path);
            others.push(path);
            continue;
        }
        named.extend(named_files(ws, &path));
        add_entry(ws, path, &mut dirs);
        out.files_scanned += 1;
    }
    // A file a configuration names (its users file, its `include_from`) is
    // one whatever it holds; the others are not configurations: neither
    // their tree nor their text is kept.
    for path in others {
        if named.contains(&path) {
            add_entry(ws, path, &mut dirs);
            out.files_scanned += 1;
        } else {
            ws.release(&path);
        }
    }
    // Terraform is analysed on a thread of its own while the folders are
    // grouped here: both only read the workspace.
    let shared: &Workspace = ws;
    let mut terraform = std::mem::take(&mut out.terraform);
    out.terraform_analysis = std::thread::scope(|scope| {
        let analysis = (!terraform.is_empty())
            .then(|| scope.spawn(|| crate::deploy::terraform::analyse(shared, &mut terraform)));
        for (dir, mut entries) in dirs {
            // A bug while grouping one folder must not take the others down.
            let grouped = crate::guard::catch(|| {
                let mut part = Discovery::default();
                add_unnamed_mains(shared, &dir, &mut entries, &mut part.files_scanned);
                group_dir(shared, &dir, &entries, &mut part);
                part
            });
            match grouped {
                Ok(part) => {
                    out.files_scanned += part.files_scanned;
                    out.file_notes.extend(part.file_notes);
                    for server in part.servers {
                        sink(server);
                    }
                }
                Err(e) => out.internal_errors.push(format!(
                    "internal error while reading the folder {}: {e}",
                    crate::source::display_path(&dir)
                )),
            }
            // The servers hold what they need: the files' trees are dropped
            // (their text stays; parsed again if asked for).
            for (path, _) in &entries {
                shared.drop_tree(path);
            }
        }
        analysis.map(|a| a.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
    });
    out.terraform = terraform;
    for (path, reason) in ws.skipped() {
        if is_checked_name(&path) {
            out.warnings
                .push(format!("{}: {reason}", crate::source::display_path(&path)));
        }
    }
    for (path, message) in ws.internal_failures() {
        out.internal_errors.push(format!(
            "internal error while reading {}: {message}",
            crate::source::display_path(&path)
        ));
    }
    out
}

/// A recognised configuration file in the folder whose group reads it.
fn add_entry(ws: &Workspace, path: PathBuf, dirs: &mut BTreeMap<PathBuf, Vec<(PathBuf, Role)>>) {
    let role = ws
        .root_of(&path)
        .map(|r| classify(&path, &r))
        .unwrap_or(if in_merge_dir(&path) {
            Role::MergeFile
        } else {
            Role::ServerFragment
        });
    let dir = if role == Role::MergeFile {
        path.parent().and_then(Path::parent)
    } else {
        path.parent()
    };
    let dir = dir.map(Path::to_path_buf).unwrap_or_default();
    dirs.entry(dir).or_default().push((path, role));
}

/// The repository files a configuration names for the server to read:
/// its users file (`users_config`, a `users_xml` directory) and its
/// `include_from`.
fn named_files(ws: &Workspace, path: &Path) -> Vec<PathBuf> {
    let (Some(root), Some(dir)) = (ws.root_of(path), path.parent()) else {
        return Vec::new();
    };
    let users = match users_file(&root) {
        UsersSource::File(written) => Some(written),
        _ => None,
    };
    let include = root.child("include_from").map(|e| e.value());
    users
        .into_iter()
        .chain(include)
        .filter_map(|written| resolve_in_dir(dir, &written))
        .collect()
}

/// When only some files of a folder were named (a pre-commit hook passes
/// the changed ones), the main files beside them still decide how they merge.
fn add_unnamed_mains(
    ws: &Workspace,
    dir: &Path,
    entries: &mut Vec<(PathBuf, Role)>,
    files_scanned: &mut usize,
) {
    // A folder the walker went through is complete already (the files it
    // left out, ignore files left out): nothing to look for.
    if entries.iter().any(|(p, _)| ws.walked_inside.contains(p)) {
        return;
    }
    for stem in MAIN_STEMS {
        for ext in MAIN_EXTS {
            let path = dir.join(format!("{stem}.{ext}"));
            if entries.iter().any(|(p, _)| *p == path) || !path.is_file() || !recognise(ws, &path) {
                continue;
            }
            if let Some(root) = ws.root_of(&path) {
                let role = classify(&path, &root);
                *files_scanned += 1;
                entries.push((path, role));
            }
        }
    }
}

fn group_dir(ws: &Workspace, dir: &Path, entries: &[(PathBuf, Role)], out: &mut Discovery) {
    let of = |role: Role| -> Vec<PathBuf> {
        entries
            .iter()
            .filter(|(_, r)| *r == role)
            .map(|(p, _)| p.clone())
            .collect()
    };
    // A file that fails to parse has no role of its own: report it directly,
    // unless a group that merges it will.
    for (path, _) in entries {
        if let Some(note @ ConfigNote::Invalid { .. }) = ws.failure_of(path) {
            if !in_merge_dir(path) || !listed_for_merge(ws, dir, path) {
                out.file_notes.push(note);
            }
        }
    }
    let parsed = |ws: &Workspace, p: &PathBuf| ws.root_of(p).is_some();
    let mut consumed_users: BTreeSet<PathBuf> = BTreeSet::new();
    let server_mains: Vec<PathBuf> = of(Role::ServerMain)
        .into_iter()
        .filter(|p| parsed(ws, p))
        .collect();
    for main in &server_mains {
        let merges = merge_files(dir, &stem(main), ws.flavor);
        let Ok(config) = ws.load_tree(Base::File(main), &merges, dir) else {
            continue;
        };
        let (users_config, assumed) = match users_file(&config.root) {
            // No `users_config` and no `user_directories`: the server reads
            // its users from the main file itself, whether or not it has
            // any, and never the users.xml beside it (modern ClickHouse:
            // addStoragesFromMainConfig; 18.16 refused to start on such a
            // file, "There is no profile 'default'", with the package's
            // users.xml beside it). A main file that names a users file the
            // repository lacks is checked over the shipped one (below).
            UsersSource::MainFile => (UsersTree::InMain, Vec::new()),
            UsersSource::NotInFiles => (UsersTree::NotInFiles, Vec::new()),
            UsersSource::File(written) => match resolve_in_dir(dir, &written) {
                Some(users_path) if !is_complete_users_file(ws, &users_path) => {
                    // Users without any authentication element: only loadable
                    // as an override (users.d/) of a users file that has one.
                    consumed_users.insert(users_path.clone());
                    let mut merges = vec![users_path.clone()];
                    merges.extend(merge_files(dir, &stem(&users_path), ws.flavor));
                    let tree = builtin_tree(ws, "users.xml", defaults::USERS_CONFIG, &merges, dir);
                    (UsersTree::File(tree), vec!["users.xml"])
                }
                Some(users_path) => {
                    consumed_users.insert(users_path.clone());
                    let merges = merge_files(dir, &stem(&users_path), ws.flavor);
                    match ws.load_tree(Base::File(&users_path), &merges, dir) {
                        Ok(tree) => (UsersTree::File(tree), Vec::new()),
                        Err(note) => {
                            out.file_notes.push(note);
                            continue;
                        }
                    }
                }
                None => {
                    let merges = merge_files(dir, "users", ws.flavor);
                    let tree = builtin_tree(ws, "users.xml", defaults::USERS_CONFIG, &merges, dir);
                    (UsersTree::File(tree), vec!["users.xml"])
                }
            },
        };
        out.servers.push(build(
            ServerKind::Server,
            main_label(main),
            dir,
            config,
            users_config,
            assumed,
        ));
    }
    for main in of(Role::KeeperMain) {
        let merges = merge_files(dir, &stem(&main), ws.flavor);
        // A Keeper main file that does not parse is reported with the folder's files.
        if let Ok(config) = ws.load_tree(Base::File(&main), &merges, dir) {
            out.servers.push(build(
                ServerKind::Keeper,
                main_label(&main),
                dir,
                config,
                UsersTree::NotInFiles,
                Vec::new(),
            ));
        }
    }

    // Override files without a main file: merged over the shipped defaults.
    let users_mains: Vec<PathBuf> = of(Role::UsersMain)
        .into_iter()
        .filter(|p| !consumed_users.contains(p))
        .collect();
    let server_fragments = of(Role::ServerFragment);
    let users_fragments = of(Role::UsersFragment);
    let flavor = ws.flavor;
    let has_merge_dir = |name: &str| !merge_files(dir, name, flavor).is_empty();
    let orphan_config_d = server_mains.is_empty() && (has_merge_dir("config"));
    let orphan_users_d =
        server_mains.is_empty() && users_mains.is_empty() && has_merge_dir("users");
    if !server_fragments.is_empty()
        || !users_fragments.is_empty()
        || !users_mains.is_empty()
        || orphan_config_d
        || orphan_users_d
    {
        let mut config_merges = server_fragments.clone();
        if server_mains.is_empty() {
            config_merges.extend(merge_files(dir, "config", ws.flavor));
        }
        let config = builtin_tree(
            ws,
            "config.xml",
            defaults::SERVER_CONFIG,
            &config_merges,
            dir,
        );
        let mut assumed = vec!["config.xml"];
        let users = match users_mains.first() {
            Some(users_path) => {
                let mut merges = users_fragments.clone();
                merges.extend(merge_files(dir, &stem(users_path), ws.flavor));
                match ws.load_tree(Base::File(users_path), &merges, dir) {
                    Ok(tree) => tree,
                    Err(note) => {
                        out.file_notes.push(note);
                        return;
                    }
                }
            }
            None => {
                let mut merges = users_fragments.clone();
                if server_mains.is_empty() {
                    merges.extend(merge_files(dir, "users", ws.flavor));
                }
                assumed.push("users.xml");
                builtin_tree(ws, "users.xml", defaults::USERS_CONFIG, &merges, dir)
            }
        };
        let label = format!(
            "{} (override files merged over the shipped {})",
            crate::source::display_path(dir),
            assumed.join(" and ")
        );
        out.servers.push(build(
            ServerKind::Server,
            label,
            dir,
            config,
            UsersTree::File(users),
            assumed,
        ));
    }
    let keeper_fragments = of(Role::KeeperFragment);
    let orphan_keeper_d = of(Role::KeeperMain).is_empty() && has_merge_dir("keeper_config");
    if !keeper_fragments.is_empty() || orphan_keeper_d {
        let mut merges = keeper_fragments;
        if of(Role::KeeperMain).is_empty() {
            merges.extend(merge_files(dir, "keeper_config", ws.flavor));
        }
        let config = builtin_tree(
            ws,
            "keeper_config.xml",
            defaults::KEEPER_CONFIG,
            &merges,
            dir,
        );
        let label = format!(
            "{} (Keeper override files merged over the shipped keeper_config.xml)",
            crate::source::display_path(dir)
        );
        out.servers.push(build(
            ServerKind::Keeper,
            label,
            dir,
            config,
            UsersTree::NotInFiles,
            vec!["keeper_config.xml"],
        ));
    }
}

/// Do the groups of `dir` merge this file of a merge folder? Only one
/// on disk is listed (text from standard input named `config.d/x.xml` is
/// not: it is reported on its own).
fn listed_for_merge(ws: &Workspace, dir: &Path, path: &Path) -> bool {
    let folder = path
        .parent()
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = match folder.strip_suffix(".d") {
        Some("conf") | None => "config",
        Some(stem) => stem,
    };
    merge_files(dir, stem, ws.flavor).iter().any(|p| p == path)
}

fn main_label(path: &Path) -> String {
    crate::source::display_path(path)
}

fn builtin_tree(ws: &Workspace, name: &str, text: &str, merges: &[PathBuf], dir: &Path) -> Loaded {
    ws.load_tree(Base::Builtin { name, text }, merges, dir)
        .expect("a builtin base always loads")
}

enum UsersSource {
    MainFile,
    File(String),
    /// `user_directories` without a users file: users live in SQL storage.
    NotInFiles,
}

/// Where a server's users are read from.
pub enum UsersTree {
    /// The main configuration itself (no `users_config`, no `user_directories`).
    InMain,
    File(Loaded),
    /// Only SQL-managed storages (local directory, replicated, LDAP): nothing
    /// in the repository defines users.
    NotInFiles,
}

/// Where users come from (AccessControl::addStoragesFromMainConfig).
fn users_file(root: &Element) -> UsersSource {
    if let Some(e) = root.child("users_config") {
        return UsersSource::File(e.value());
    }
    let Some(dirs) = root.child("user_directories") else {
        return UsersSource::MainFile;
    };
    for storage in dirs.elements() {
        let name = storage.name.split('[').next().unwrap_or_default();
        if name == "users_xml" || name == "users_config" {
            if let Some(p) = storage.child("path") {
                return UsersSource::File(p.value());
            }
        }
    }
    UsersSource::NotInFiles
}

pub fn build(
    kind: ServerKind,
    label: String,
    dir: &Path,
    config: Loaded,
    users_tree: UsersTree,
    assumed: Vec<&'static str>,
) -> Server {
    let listeners = lower::listeners(&config.root, kind);
    let (users, users_config) = match users_tree {
        UsersTree::InMain => (lower::users(&config.root), None),
        UsersTree::File(tree) => (lower::users(&tree.root), Some(tree)),
        UsersTree::NotInFiles => (Vec::new(), None),
    };
    Server {
        kind,
        label,
        dir: dir.to_path_buf(),
        config,
        users_config,
        assumed,
        listeners,
        users,
        exposures: Vec::new(),
        deploy: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(list: &[&'static str]) -> BTreeSet<&'static str> {
        list.iter().copied().collect()
    }

    #[test]
    fn keys_say_clickhouse_only_when_largely_clickhouse() {
        let says =
            |list: &[&'static str], telltale: bool| keys_say_clickhouse(&keys(list), telltale);
        // A server config, one distinctive key, a users file by its users.
        assert!(says(&["logger", "listen_host", "path"], false));
        assert!(says(&["remote_servers"], false));
        assert!(says(&["users", "profiles", "quotas"], true));
        // Generic keys only, however many: an application's own config.
        assert!(!says(&["logger"], false));
        assert!(!says(&["users", "profiles", "quotas"], false));
        assert!(!says(&["http_port", "logger", "path", "db"], false));
        // Not ClickHouse's, a minority, another format's key.
        assert!(!says(&["general", "clickhouse", "s3"], false));
        assert!(!says(&["log", "entryPoints", "providers"], false));
        assert!(!says(&["listen_host", "a", "b", "c"], false));
        assert!(!says(&["listen_host", "tcp_port", "kind"], false));
        // A generic key with a child only ClickHouse writes there.
        assert!(says(&["zookeeper"], true));
    }

    #[test]
    fn top_keys_of_broken_yaml_look_inside_a_lone_clickhouse_key() {
        let text = "clickhouse:\n  # comment\n  listen_host: '::'\n  tcp_port: 9000\n  x: [\n";
        assert_eq!(yaml_top_keys(text), keys(&["listen_host", "tcp_port", "x"]));
        assert!(yaml_looks_like_clickhouse(text));
        let backup = "general:\n  a: 1\nclickhouse:\n  host: h\n  port: [\n";
        assert!(!yaml_looks_like_clickhouse(backup));
        let tool = "clickhouse:\n  host: h\n  port: 9000\n  user: [\n";
        assert!(!yaml_looks_like_clickhouse(tool));
    }

    #[test]
    fn merge_folders_are_clickhouse_names_or_beside_a_main_file() {
        let dir = std::env::temp_dir().join(format!("chlint-merge-dirs-{}", std::process::id()));
        for sub in ["a/config.d", "b/conf.d", "c/conf.d", "d/extra.d"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        std::fs::write(dir.join("c/config.yaml"), "listen_host: '::'\n").unwrap();
        std::fs::write(dir.join("d/extra.xml"), "<clickhouse/>").unwrap();
        assert!(in_merge_dir(&dir.join("a/config.d/x.xml")));
        // nginx's conf.d: no ClickHouse main file beside it.
        assert!(!in_merge_dir(&dir.join("b/conf.d/default.conf")));
        assert!(in_merge_dir(&dir.join("c/conf.d/x.yaml")));
        assert!(in_merge_dir(&dir.join("d/extra.d/x.xml")));
        assert!(is_main_with_merge_dir(&dir.join("a/config.yaml")));
        assert!(!is_main_with_merge_dir(&dir.join("b/config.yaml")));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn roots_are_few_and_found_by_lookup() {
        let dir = std::env::temp_dir().join(format!("chlint-roots-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("a/config.d")).unwrap();
        std::fs::create_dir_all(dir.join("a-b")).unwrap();
        for f in ["a/x.xml", "a/y.xml", "a/config.d/z.xml", "a-b/w.xml"] {
            std::fs::write(dir.join(f), "").unwrap();
        }
        let named: Vec<PathBuf> = ["a/x.xml", "a/y.xml", "a/config.d/z.xml", "a", "a-b/w.xml"]
            .iter()
            .map(|f| dir.join(f))
            .collect();
        let roots = read_roots(&named);
        let real = dir.canonicalize().unwrap();
        assert_eq!(roots, vec![real.join("a"), real.join("a-b")]);
        assert!(within_roots(&roots, &real.join("a/config.d/z.xml")));
        assert!(within_roots(&roots, &real.join("a-b/w.xml")));
        assert!(!within_roots(&roots, &real.join("ab/w.xml")));
        assert!(!within_roots(&roots, &real));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn paths_sort_as_path_order_sorts() {
        let names = [
            "a", "a/b", "a-b", "a/b/c", "a.b/c", "a/b-c", "ab", "/a", "/", "./a", "../a", ".",
            "-x", "a/.b", "a/b/", "b", "B", "é", "team10/x", "team1/x", "team1-x",
        ];
        let mut expected: Vec<PathBuf> = names.iter().map(PathBuf::from).collect();
        expected.sort();
        expected.dedup();
        let set: Vec<PathBuf> = path_set(names.iter().rev().map(PathBuf::from).collect())
            .into_iter()
            .collect();
        assert_eq!(set, expected);
    }
}
