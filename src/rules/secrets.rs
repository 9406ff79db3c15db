//! CH104, CH105, CH401: secrets written in clear.

use super::Emitter;
use crate::clickhouse::element::Element;
use crate::lower::{double_sha1_hex, sha256_hex};
use crate::model::{AuthKind, Server};

/// Passwords other than users' that the server config holds in clear.
const CONFIG_PASSWORDS: [&str; 4] = [
    "interserver_http_credentials/password",
    "zookeeper/identity",
    "remote_servers/*/shard/replica/password",
    "auxiliary_zookeepers/*/identity",
];

/// Elements at a path where `*` matches any element name.
fn at_path<'a>(root: &'a Element, path: &str) -> Vec<&'a Element> {
    let mut current = vec![root];
    for part in path.split('/') {
        current = current
            .into_iter()
            .flat_map(|e| e.elements().filter(move |c| part == "*" || c.name == part))
            .collect();
    }
    current
}

fn literal(e: &Element) -> bool {
    !e.is_external() && !e.has_attr("encrypted_by") && !e.value().is_empty()
}

pub fn plaintext_password(server: &Server, emit: &mut Emitter) {
    for user in &server.users {
        for auth in user.auth.iter().filter(|a| {
            // A password a deployment file writes literally is CH450's.
            a.kind == AuthKind::Plaintext && !server.deploy.is_literal_secret(a.span)
        }) {
            let f = emit.report(
                "CH104",
                auth.span,
                format!("user `{}` has its password written in clear", user.name),
                "store a hash instead: `<password remove=\"1\"/>` and `<password_sha256_hex>…</password_sha256_hex>` (or `from_env` with `hide_in_preprocessed=\"true\"`)",
            );
            // Brought by `incl` from another file: show where it is written.
            if auth.value_span.source != auth.span.source {
                f.related(Some(auth.value_span), "the password is written here");
            }
        }
    }
    for path in CONFIG_PASSWORDS {
        for e in at_path(server.root(), path)
            .into_iter()
            .filter(|e| literal(e))
        {
            emit.report(
                "CH104",
                e.span,
                format!("`{path}` is written in clear (it is also copied to preprocessed_configs/)"),
                "supply it from outside: `from_env=\"VAR\"` with `hide_in_preprocessed=\"true\"`, or `encrypted_by` with a key from the environment",
            );
        }
    }
}

/// Passwords that guessing tries first.
const COMMON_PASSWORDS: [&str; 36] = [
    "password",
    "123456",
    "12345678",
    "123456789",
    "1234",
    "12345",
    "qwerty",
    "qwerty123",
    "admin",
    "clickhouse",
    "default",
    "changeme",
    "CHANGEME",
    "changeit",
    "secret",
    "letmein",
    "test",
    "root",
    "toor",
    "pass",
    "passw0rd",
    "Password1",
    "password123",
    "welcome",
    "example",
    "abc123",
    "111111",
    "123123",
    "000000",
    "iloveyou",
    "monkey",
    "dragon",
    "clickhouse123",
    "supersecret",
    "admin123",
    "P@ssw0rd",
];

/// Is this one of the passwords guessing tries first?
pub fn is_common_password(value: &str) -> bool {
    COMMON_PASSWORDS.contains(&value)
}

/// Shortest password chlint accepts as not weak.
const MIN_LENGTH: usize = 12;

/// The SHA-256 and double SHA-1 of every well-known password, computed
/// once, when a hash is first compared.
fn common_hashes() -> &'static [(String, String)] {
    static HASHES: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
    HASHES.get_or_init(|| {
        COMMON_PASSWORDS
            .iter()
            .map(|p| (sha256_hex(p), double_sha1_hex(p)))
            .collect()
    })
}

pub fn weak_password(server: &Server, emit: &mut Emitter) {
    for user in &server.users {
        for auth in &user.auth {
            let why = match auth.kind {
                AuthKind::Plaintext if COMMON_PASSWORDS.contains(&auth.value.as_str()) => {
                    "is a well-known password".to_string()
                }
                AuthKind::Plaintext if auth.value.chars().count() < MIN_LENGTH => {
                    format!("is shorter than {MIN_LENGTH} characters")
                }
                AuthKind::Sha256
                    if common_hashes()
                        .iter()
                        .any(|(sha256, _)| auth.value.eq_ignore_ascii_case(sha256)) =>
                {
                    "is the SHA-256 of a well-known password".to_string()
                }
                AuthKind::DoubleSha1
                    if common_hashes()
                        .iter()
                        .any(|(_, sha1)| auth.value.eq_ignore_ascii_case(sha1)) =>
                {
                    "is the double SHA-1 of a well-known password".to_string()
                }
                _ => continue,
            };
            emit.report(
                "CH105",
                auth.span,
                format!("the `{}` of user `{}` {why}", auth.element, user.name),
                "use a long random secret (at least 16 characters, e.g. `openssl rand -base64 24`) and store its hash",
            );
        }
    }
}

/// Object-storage secrets, by element name.
const STORAGE_SECRETS: [&str; 3] = [
    "secret_access_key",
    "account_key",
    "server_side_encryption_customer_key_base64",
];

pub fn storage_credentials_in_config(server: &Server, emit: &mut Emitter) {
    for section in ["storage_configuration", "s3", "backups"] {
        let Some(root) = server.root().child(section) else {
            continue;
        };
        root.walk(&mut |e| {
            let secret = STORAGE_SECRETS.contains(&e.name.as_str())
                || (e.name == "connection_string" && e.value().contains("AccountKey="));
            if secret && literal(e) {
                emit.report(
                    "CH401",
                    e.span,
                    format!("`{}` under `{section}` is written in clear", e.name),
                    "use `<use_environment_credentials>true</use_environment_credentials>` or an instance role, or `from_env` with `hide_in_preprocessed=\"true\"`",
                );
            }
        });
    }
}
