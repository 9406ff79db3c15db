//! The rule registry. A rule is a function that asks the model a question
//! and reports what it finds; it never parses text.

mod deploy;
mod deployment;
mod listeners;
mod meta;
mod secrets;
mod tls;
mod users;

use crate::clickhouse::load::ConfigNote;
use crate::finding::{Finding, Severity};
use crate::model::Server;
use crate::repo::Repo;
use crate::source::Span;

pub use meta::check_notes;

/// How a rule is run.
#[derive(Clone, Copy)]
pub enum Check {
    /// Over one server's model.
    Server(fn(&Server, &mut Emitter)),
    /// Over the repository model (firewalls, managed services, secrets in
    /// deployment files): facts about no single server.
    Repo(fn(&Repo, &mut Emitter)),
    /// A rule with facts in both models (a Service published by a manifest
    /// lowered into a server, or by a Terraform resource in the repository
    /// model).
    Both(fn(&Server, &mut Emitter), fn(&Repo, &mut Emitter)),
    /// Over what parsing and merging noted about files.
    Notes,
    /// Over the inline suppressions, after every other rule (`suppress.rs`).
    Suppressions,
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
    rule!("CH001", "unauthenticated-access-from-outside", Critical, "A user that needs no password, open to any address, is published beyond the host or cluster.", Check::Server(deploy::unauthenticated_access_from_outside)),
    rule!("CH101", "default-user-without-password", Critical, "The `default` user needs no password and the server listens beyond loopback.", Check::Server(users::default_user_without_password)),
    rule!("CH102", "user-without-password", Critical, "A user needs no password and the server listens beyond loopback.", Check::Server(users::user_without_password)),
    rule!("CH103", "user-network-unrestricted", High, "A user may log in from any network on a server that listens beyond loopback.", Check::Server(users::user_network_unrestricted)),
    rule!("CH104", "plaintext-password", High, "A password is written in clear in the configuration.", Check::Server(secrets::plaintext_password)),
    rule!("CH105", "weak-password", High, "A password (or its hash) is short or a well-known one.", Check::Server(secrets::weak_password)),
    rule!("CH106", "access-management-on-exposed-user", High, "A user that can create users and grant rights is reachable beyond loopback.", Check::Server(users::access_management_on_exposed_user)),
    rule!("CH108", "password-override-shadowed", High, "After merging, a user has two authentication elements: the override is shadowed or the users file fails to load.", Check::Server(users::password_override_shadowed)),
    rule!("CH120", "image-skips-user-setup", Critical, "`CLICKHOUSE_SKIP_USER_SETUP=1` keeps the image's passwordless `default` user open to any address.", Check::Server(deploy::image_skips_user_setup)),
    rule!("CH121", "image-user-without-password", Critical, "The image's entrypoint creates a user with an empty password, open to any address.", Check::Server(deploy::image_user_without_password)),
    rule!("CH122", "image-default-user-open", Critical, "An image older than the 2025 entrypoint change leaves `default` without a password and open to any address.", Check::Server(deploy::image_default_user_open)),
    rule!("CH201", "listen-all-interfaces", High, "The server listens on all interfaces while some user is unprotected.", Check::Server(listeners::listen_all_interfaces)),
    rule!("CH202", "plaintext-client-port", High, "A plaintext HTTP or native port listens beyond loopback.", Check::Server(listeners::plaintext_client_port)),
    rule!("CH203", "mysql-postgres-port-enabled", Medium, "The MySQL or PostgreSQL compatibility port listens beyond loopback.", Check::Server(listeners::mysql_postgres_port_enabled)),
    rule!("CH209", "interserver-unauthenticated", High, "The replication (interserver) port listens beyond loopback without credentials.", Check::Server(listeners::interserver_unauthenticated)),
    rule!("CH210", "keeper-client-port-exposed", High, "Keeper's plaintext client port listens beyond loopback.", Check::Server(listeners::keeper_client_port_exposed)),
    rule!("CH213", "cluster-without-secret", High, "A cluster has no inter-server secret and its replicas log in without a password.", Check::Server(listeners::cluster_without_secret)),
    rule!("CH250", "service-exposed-publicly", High, "A Service, Ingress, host port or host network publishes a ClickHouse port beyond the cluster.", Check::Both(deploy::service_exposed_publicly, deployment::service_exposed_publicly)),
    rule!("CH251", "port-published-all-interfaces", High, "A container publishes a ClickHouse port on all of the host's interfaces.", Check::Server(deploy::port_published_all_interfaces)),
    rule!("CH252", "firewall-open-to-world", Critical, "A firewall or security group rule allows the whole internet to a ClickHouse or Keeper port.", Check::Repo(deployment::firewall_open_to_world)),
    rule!("CH253", "cloud-ip-access-open", High, "A managed ClickHouse service accepts connections from any address.", Check::Repo(deployment::cloud_ip_access_open)),
    rule!("CH301", "tls-port-without-certificate", High, "A TLS port is enabled but the server has no certificate or private key.", Check::Server(tls::tls_port_without_certificate)),
    rule!("CH302", "tls-legacy-protocols", Medium, "TLS is served without disabling TLS 1.0 and 1.1.", Check::Server(tls::tls_legacy_protocols)),
    rule!("CH304", "tls-verification-disabled", High, "Outgoing TLS connections do not verify certificates.", Check::Server(tls::tls_verification_disabled)),
    rule!("CH306", "cluster-plaintext-transport", Medium, "Cluster replicas on other hosts are reached over plaintext.", Check::Server(tls::cluster_plaintext_transport)),
    rule!("CH307", "zookeeper-plaintext", Medium, "ZooKeeper/Keeper on other hosts is reached over plaintext.", Check::Server(tls::zookeeper_plaintext)),
    rule!("CH350", "deployment-tls-disabled", Medium, "A chart or operator leaves TLS off while a plaintext client port is published beyond the cluster.", Check::Server(deploy::deployment_tls_disabled)),
    rule!("CH401", "storage-credentials-in-config", High, "Object-storage credentials are written in clear in the configuration.", Check::Server(secrets::storage_credentials_in_config)),
    rule!("CH450", "secret-in-deployment-file", High, "A ClickHouse password or key is written literally in a deployment file.", Check::Both(deploy::secret_in_deployment_file, deployment::secret_in_deployment_file)),
    rule!("CH511", "keeper-admin-commands-allowed", High, "Keeper answers state-changing four-letter commands, without authentication, beyond loopback.", Check::Server(listeners::keeper_admin_commands_allowed)),
    rule!("CH900", "invalid-config", High, "A ClickHouse configuration file cannot be read or parsed.", Check::Notes),
    rule!("CH901", "yaml-clickhouse-top-key", High, "A YAML config wraps everything in `clickhouse:`, so ClickHouse ignores it.", Check::Notes),
    rule!("CH903", "root-element-mismatch", Medium, "A merge file's root element is not <clickhouse>: the server refuses to start.", Check::Notes),
    rule!("CH904", "partial-override", High, "An override replaces only some of several same-named elements; the others stay in effect.", Check::Notes),
    rule!("CH906", "conflicting-merge-attributes", Medium, "An element carries both `replace` and `remove`: the server refuses to start.", Check::Notes),
    rule!("CH990", "unused-suppression", Low, "An inline `chlint: ignore[…]` comment matches no finding.", Check::Suppressions),
    rule!("CH991", "invalid-suppression", Low, "An inline suppression has no reason, names no rule, or cannot be read, so it does not apply.", Check::Suppressions),
];

/// What an implied finding shares with the finding that states it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shared {
    /// Its primary location is the stronger finding's primary location
    /// (the same publishing line).
    Primary,
    /// Its primary location is one of the stronger finding's locations
    /// (the `listen_host` a user finding names as a link).
    Location,
}

/// A rule whose finding says nothing more than a stronger finding at the
/// same place: it is not reported beside one (see `repeats.rs`). Each
/// rule's page says when it stays silent this way.
pub struct Implication {
    pub code: &'static str,
    pub by: &'static [&'static str],
    pub shared: Shared,
}

pub static IMPLIED: &[Implication] = &[
    // "Listens on all interfaces while user X is weak": every user finding
    // that names this `listen_host` says so, with the user.
    Implication {
        code: "CH201",
        by: &[
            "CH001", "CH101", "CH102", "CH103", "CH120", "CH121", "CH122",
        ],
        shared: Shared::Location,
    },
    // "This line publishes a port": CH001 is reported at that very line,
    // with the rest of the chain.
    Implication {
        code: "CH250",
        by: &["CH001"],
        shared: Shared::Primary,
    },
    Implication {
        code: "CH251",
        by: &["CH001"],
        shared: Shared::Primary,
    },
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

/// Collects findings for one server (or, without one, for the repository).
pub struct Emitter<'a> {
    pub server: Option<&'a Server>,
    pub findings: Vec<Finding>,
}

impl<'a> Emitter<'a> {
    pub fn new(server: &'a Server) -> Emitter<'a> {
        Emitter {
            server: Some(server),
            findings: Vec::new(),
        }
    }

    /// For the rules over the repository model.
    pub fn repo() -> Emitter<'static> {
        Emitter {
            server: None,
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
        if let Check::Server(f) | Check::Both(f, _) = rule.check {
            f(server, &mut emit);
        }
    }
    emit.findings
}

/// Run every repository rule.
pub fn check_repo(repo: &Repo) -> Vec<Finding> {
    let mut emit = Emitter::repo();
    for rule in RULES {
        if let Check::Repo(f) | Check::Both(_, f) = rule.check {
            f(repo, &mut emit);
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
