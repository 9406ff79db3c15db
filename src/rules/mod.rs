//! The rule registry. A rule is a function that asks the model a question
//! and reports what it finds; it never parses text.

mod listeners;
mod meta;
mod secrets;
mod tls;
mod users;

use crate::clickhouse::load::ConfigNote;
use crate::finding::{Finding, Severity};
use crate::model::Server;
use crate::source::Span;

pub use meta::check_notes;

/// How a rule is run.
#[derive(Clone, Copy)]
pub enum Check {
    /// Over one server's model.
    Server(fn(&Server, &mut Emitter)),
    /// Over what parsing and merging noted about files.
    Notes,
}

pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    pub check: Check,
}

impl Rule {
    /// The rule's documentation page, compiled in.
    pub fn page(&self) -> &'static str {
        crate::rule_pages::page(self.code).unwrap_or("")
    }
}

macro_rules! rule {
    ($code:literal, $name:literal, $sev:ident, $summary:literal, $check:expr) => {
        Rule {
            code: $code,
            name: $name,
            severity: Severity::$sev,
            summary: $summary,
            check: $check,
        }
    };
}

pub static RULES: &[Rule] = &[
    rule!("CH101", "default-user-without-password", Critical, "The `default` user needs no password and the server listens beyond loopback.", Check::Server(users::default_user_without_password)),
    rule!("CH102", "user-without-password", Critical, "A user needs no password and the server listens beyond loopback.", Check::Server(users::user_without_password)),
    rule!("CH103", "user-network-unrestricted", High, "A user may log in from any network on a server that listens beyond loopback.", Check::Server(users::user_network_unrestricted)),
    rule!("CH104", "plaintext-password", High, "A password is written in clear in the configuration.", Check::Server(secrets::plaintext_password)),
    rule!("CH105", "weak-password", High, "A password (or its hash) is short or a well-known one.", Check::Server(secrets::weak_password)),
    rule!("CH106", "access-management-on-exposed-user", High, "A user that can create users and grant rights is reachable beyond loopback.", Check::Server(users::access_management_on_exposed_user)),
    rule!("CH108", "password-override-shadowed", High, "After merging, a user has two authentication elements: the override is shadowed or the users file fails to load.", Check::Server(users::password_override_shadowed)),
    rule!("CH201", "listen-all-interfaces", High, "The server listens on all interfaces while some user is unprotected.", Check::Server(listeners::listen_all_interfaces)),
    rule!("CH202", "plaintext-client-port", High, "A plaintext HTTP or native port listens beyond loopback.", Check::Server(listeners::plaintext_client_port)),
    rule!("CH203", "mysql-postgres-port-enabled", Medium, "The MySQL or PostgreSQL compatibility port listens beyond loopback.", Check::Server(listeners::mysql_postgres_port_enabled)),
    rule!("CH209", "interserver-unauthenticated", High, "The replication (interserver) port listens beyond loopback without credentials.", Check::Server(listeners::interserver_unauthenticated)),
    rule!("CH210", "keeper-client-port-exposed", High, "Keeper's plaintext client port listens beyond loopback.", Check::Server(listeners::keeper_client_port_exposed)),
    rule!("CH213", "cluster-without-secret", High, "A cluster has no inter-server secret and its replicas log in without a password.", Check::Server(listeners::cluster_without_secret)),
    rule!("CH301", "tls-port-without-certificate", High, "A TLS port is enabled but the server has no certificate or private key.", Check::Server(tls::tls_port_without_certificate)),
    rule!("CH302", "tls-legacy-protocols", Medium, "TLS is served without disabling TLS 1.0 and 1.1.", Check::Server(tls::tls_legacy_protocols)),
    rule!("CH304", "tls-verification-disabled", High, "Outgoing TLS connections do not verify certificates.", Check::Server(tls::tls_verification_disabled)),
    rule!("CH306", "cluster-plaintext-transport", Medium, "Cluster replicas on other hosts are reached over plaintext.", Check::Server(tls::cluster_plaintext_transport)),
    rule!("CH307", "zookeeper-plaintext", Medium, "ZooKeeper/Keeper on other hosts is reached over plaintext.", Check::Server(tls::zookeeper_plaintext)),
    rule!("CH401", "storage-credentials-in-config", High, "Object-storage credentials are written in clear in the configuration.", Check::Server(secrets::storage_credentials_in_config)),
    rule!("CH511", "keeper-admin-commands-allowed", High, "Keeper answers state-changing four-letter commands, without authentication, beyond loopback.", Check::Server(listeners::keeper_admin_commands_allowed)),
    rule!("CH900", "invalid-config", High, "A ClickHouse configuration file cannot be read or parsed.", Check::Notes),
    rule!("CH901", "yaml-clickhouse-top-key", High, "A YAML config wraps everything in `clickhouse:`, so ClickHouse ignores it.", Check::Notes),
    rule!("CH903", "root-element-mismatch", Medium, "A merge file's root element is not <clickhouse>: the server refuses to start.", Check::Notes),
    rule!("CH904", "partial-override", High, "An override replaces only some of several same-named elements; the others stay in effect.", Check::Notes),
    rule!("CH906", "conflicting-merge-attributes", Medium, "An element carries both `replace` and `remove`: the server refuses to start.", Check::Notes),
];

/// A rule by code (`CH101`) or name (`default-user-without-password`).
pub fn find(code_or_name: &str) -> Option<&'static Rule> {
    let key = code_or_name.trim();
    RULES
        .iter()
        .find(|r| r.code.eq_ignore_ascii_case(key) || r.name.eq_ignore_ascii_case(key))
}

pub fn rule(code: &str) -> &'static Rule {
    find(code).unwrap_or_else(|| panic!("unknown rule {code}"))
}

/// Collects findings for one server.
pub struct Emitter<'a> {
    pub server: &'a Server,
    pub findings: Vec<Finding>,
}

impl<'a> Emitter<'a> {
    pub fn new(server: &'a Server) -> Emitter<'a> {
        Emitter {
            server,
            findings: Vec::new(),
        }
    }

    pub fn report(
        &mut self,
        code: &str,
        primary: Span,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> &mut Finding {
        let rule = rule(code);
        self.findings.push(Finding {
            code: rule.code,
            name: rule.name,
            severity: rule.severity,
            message: crate::finding::clip_quoted(&message.into()),
            primary,
            related: Vec::new(),
            help: help.into(),
            note: None,
        });
        self.findings.last_mut().expect("just pushed")
    }
}

/// Run every server rule over one server.
pub fn check_server(server: &Server) -> Vec<Finding> {
    let mut emit = Emitter::new(server);
    for rule in RULES {
        if let Check::Server(f) = rule.check {
            f(server, &mut emit);
        }
    }
    emit.findings
}

/// Notes of every tree of a server (a `conf.d` file may be in both).
pub fn server_notes(server: &Server) -> impl Iterator<Item = &ConfigNote> {
    server
        .config
        .notes
        .iter()
        .chain(server.users_config.iter().flat_map(|u| u.notes.iter()))
}
