//! The repository-level model: facts about a deployment that are not about
//! one ClickHouse server — firewall rules, managed ClickHouse services,
//! published services, secrets written in deployment files. Format-neutral:
//! Terraform fills it today; other frontends can too. Each fact carries the
//! span that decides it.

use crate::source::Span;

#[derive(Debug, Default)]
pub struct Repo {
    pub firewall_rules: Vec<FirewallRule>,
    pub managed_services: Vec<ManagedService>,
    pub published_services: Vec<PublishedService>,
    pub secrets: Vec<DeploymentSecret>,
}

/// Which ports a rule opens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ports {
    All,
    Ranges(Vec<(u32, u32)>),
}

impl Ports {
    pub fn covers(&self, port: u32) -> bool {
        match self {
            Ports::All => true,
            Ports::Ranges(r) => r.iter().any(|(a, b)| *a <= port && port <= *b),
        }
    }

    /// All ports, or a range wider than a few ports.
    pub fn is_wide(&self) -> bool {
        match self {
            Ports::All => true,
            Ports::Ranges(r) => r.iter().any(|(a, b)| b.saturating_sub(*a) >= 100),
        }
    }
}

/// An inbound allow rule whose sources include the whole internet.
#[derive(Clone, Debug)]
pub struct FirewallRule {
    /// Where it is declared: a resource address, with the block when inline
    /// (`aws_security_group.ch (ingress #2)`).
    pub resource: String,
    pub ports: Ports,
    /// Where the ports were written (the rule itself when implicit).
    pub ports_span: Span,
    /// The world-wide sources (`0.0.0.0/0`, `::/0`, `*`…) and where each was written.
    pub world: Vec<(String, Span)>,
    /// The attribute of the rule that lists the sources.
    pub sources_attr: Span,
    /// The rule (or its block).
    pub span: Span,
    /// Its group or the rule names ClickHouse, Keeper or ZooKeeper.
    pub clickhouse_context: bool,
    /// Its group or the rule names something else (`minio`, `bastion`…) and not ClickHouse.
    pub other_purpose: Option<String>,
    /// The group guards a VPC interface endpoint (private addresses only).
    pub private_endpoint: bool,
}

/// A managed ClickHouse service and how it can be reached from anywhere.
#[derive(Clone, Debug)]
pub struct ManagedService {
    pub resource: String,
    /// `ClickHouse Cloud`, `Yandex Managed Service for ClickHouse`…
    pub product: &'static str,
    pub open: Vec<OpenAccess>,
}

#[derive(Clone, Debug)]
pub struct OpenAccess {
    /// What opens it, for the message (`ip_access` source `0.0.0.0`).
    pub what: String,
    /// The value that decides.
    pub span: Span,
    /// The attribute in the resource, when the value was written elsewhere.
    pub attr: Option<Span>,
    pub help: &'static str,
}

/// A Kubernetes Service (or the like) published beyond the cluster.
#[derive(Clone, Debug)]
pub struct PublishedService {
    pub resource: String,
    /// `LoadBalancer` or `NodePort`.
    pub service_type: String,
    pub type_span: Span,
    /// ClickHouse ports it publishes, with where each was written.
    pub ports: Vec<(u32, Span)>,
}

/// A secret written literally in a deployment file.
#[derive(Clone, Debug)]
pub struct DeploymentSecret {
    pub resource: String,
    /// The attribute path (`user[0].password`), never the value.
    pub attribute: String,
    /// Where the value is written.
    pub span: Span,
    /// The attribute that uses it, when the value was written elsewhere.
    pub attr: Option<Span>,
    pub kind: SecretKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretKind {
    /// A password, key or token in clear.
    Literal,
    /// A hash of a well-known password.
    WeakHash,
}

/// ClickHouse and Keeper ports (deployment-formats.md §0.1), with a name.
pub const CLICKHOUSE_PORTS: [(u32, &str); 16] = [
    (8123, "HTTP"),
    (8443, "HTTPS"),
    (9000, "native protocol"),
    (9440, "native protocol over TLS"),
    (9004, "MySQL protocol"),
    (9005, "PostgreSQL protocol"),
    (9009, "interserver (replication)"),
    (9010, "interserver over TLS"),
    (9011, "native protocol with PROXY"),
    (9100, "gRPC"),
    (9022, "SSH interface"),
    (9363, "Prometheus metrics"),
    (9181, "Keeper client"),
    (9281, "Keeper client over TLS"),
    (9234, "Keeper Raft"),
    (2181, "ZooKeeper/Keeper client"),
];

/// Ports other software commonly uses too (MinIO 9000, node_exporter 9100…).
pub const SHARED_PORTS: [u32; 5] = [9000, 8443, 9100, 2181, 9022];

pub fn port_name(port: u32) -> Option<&'static str> {
    CLICKHOUSE_PORTS
        .iter()
        .find(|(p, _)| *p == port)
        .map(|(_, n)| *n)
}

/// A source that means every address.
pub fn is_world(source: &str) -> bool {
    matches!(
        source.trim().to_ascii_lowercase().as_str(),
        "0.0.0.0/0"
            | "::/0"
            | "0.0.0.0"
            | "*"
            | "internet"
            | "any"
            | "0.0.0.0/0.0.0.0"
            | "::"
            | "0::0/0"
    )
}
