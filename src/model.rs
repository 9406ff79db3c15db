//! The model rules ask questions of: one ClickHouse server or Keeper as the
//! repository describes it — its effective configuration, its listeners and
//! its users, each fact with the span that decided it.

use std::path::PathBuf;

use crate::clickhouse::element::Element;
use crate::clickhouse::load::Loaded;
use crate::source::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerKind {
    Server,
    Keeper,
}

/// One running ClickHouse server (or Keeper).
#[derive(Debug)]
pub struct Server {
    pub kind: ServerKind,
    /// What to call it in messages: the main file, or the folder of overrides.
    pub label: String,
    pub dir: PathBuf,
    pub config: Loaded,
    /// The users tree, when users come from a separate file.
    pub users_config: Option<Loaded>,
    /// Shipped defaults that stand in for files the repository lacks.
    pub assumed: Vec<&'static str>,
    pub listeners: Vec<Listener>,
    pub users: Vec<User>,
    /// How the deployment publishes the server's ports (empty for a
    /// configuration checked on its own: nothing is known about the network).
    pub exposures: Vec<Exposure>,
    /// What a deployment format (image, compose, Kubernetes, operator, chart)
    /// says about this server beyond its configuration.
    pub deploy: DeployFacts,
}

/// An address a listener binds to; `span` is `None` for ClickHouse's own
/// default (loopback when no `listen_host` is set).
#[derive(Clone, Debug, PartialEq)]
pub struct Bind {
    pub addr: String,
    pub span: Option<Span>,
    /// Supplied from outside the repository: its address is unknown here.
    pub external: bool,
}

impl Bind {
    pub fn is_loopback(&self) -> bool {
        is_loopback(&self.addr)
    }

    /// Provably beyond loopback (an address from outside is not assumed to be).
    pub fn is_exposed(&self) -> bool {
        !self.external && !self.is_loopback()
    }
    pub fn is_wildcard(&self) -> bool {
        !self.external
            && matches!(
                self.addr.trim_matches(['[', ']']),
                "::" | "0.0.0.0" | "*" | "0:0:0:0:0:0:0:0"
            )
    }
}

pub fn is_loopback(addr: &str) -> bool {
    let a = addr.trim().trim_matches(['[', ']']).to_ascii_lowercase();
    a == "::1" || a == "localhost" || a.starts_with("127.") || a == "::ffff:127.0.0.1"
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Http,
    Https,
    Native,
    NativeSecure,
    NativeProxy,
    Mysql,
    Postgres,
    Grpc,
    Interserver,
    InterserverSecure,
    KeeperClient,
    KeeperClientSecure,
}

impl Protocol {
    /// Does a client log in with a user over it?
    pub fn is_client(self) -> bool {
        !matches!(
            self,
            Protocol::Interserver
                | Protocol::InterserverSecure
                | Protocol::KeeperClient
                | Protocol::KeeperClientSecure
        )
    }

    pub fn is_tls(self) -> bool {
        matches!(
            self,
            Protocol::Https
                | Protocol::NativeSecure
                | Protocol::InterserverSecure
                | Protocol::KeeperClientSecure
        )
    }
}

#[derive(Clone, Debug)]
pub struct Listener {
    pub protocol: Protocol,
    /// The key that opens it, e.g. `http_port`, `keeper_server/tcp_port`.
    pub key: &'static str,
    pub port: String,
    pub span: Span,
    pub binds: Vec<Bind>,
}

impl Listener {
    /// The first bind address beyond loopback, if any.
    pub fn exposed_bind(&self) -> Option<&Bind> {
        self.binds.iter().find(|b| b.is_exposed())
    }
    pub fn is_exposed(&self) -> bool {
        self.exposed_bind().is_some()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthKind {
    /// Empty password, `no_password`, or the hash of the empty string.
    NoSecret,
    Plaintext,
    Sha256,
    DoubleSha1,
    OtherHash,
    /// Supplied from outside the repository (`from_env`, `from_zk`, `incl`).
    External,
    /// LDAP, Kerberos, certificates, SSH keys, HTTP authentication.
    Delegated,
}

/// One authentication element of a user, as written after merging.
#[derive(Clone, Debug)]
pub struct AuthElement {
    pub element: String,
    pub kind: AuthKind,
    pub span: Span,
    /// The secret as written (never printed); empty for external values.
    pub value: String,
    /// Where the value is written (an `incl` brings it from another file).
    pub value_span: Span,
    pub overridden: Vec<Span>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum NetworkEntry {
    Ip(String),
    Host(String),
    HostRegexp(String),
    /// From outside the repository: assumed restricted.
    External,
}

#[derive(Clone, Debug)]
pub struct Networks {
    /// The `<networks>` element; `None` when the user has none (any host).
    pub span: Option<Span>,
    pub entries: Vec<(NetworkEntry, Span)>,
}

impl Networks {
    /// May the user connect from anywhere?
    pub fn is_any(&self) -> bool {
        self.span.is_none() || self.any_entry().is_some()
    }

    /// The entry that opens the user to every address.
    pub fn any_entry(&self) -> Option<Span> {
        self.entries.iter().find_map(|(e, span)| {
            let any = match e {
                NetworkEntry::Ip(ip) => matches!(
                    ip.trim(),
                    "::/0"
                        | "0.0.0.0/0"
                        | "::ffff:0.0.0.0/96"
                        | "0.0.0.0/0.0.0.0"
                        | "::"
                        | "0.0.0.0"
                ),
                NetworkEntry::HostRegexp(re) => {
                    matches!(re.trim(), ".*" | "^.*$" | ".+" | "^.*" | ".*$" | "^.+$")
                }
                _ => false,
            };
            any.then_some(*span)
        })
    }

    /// May someone beyond loopback connect, as far as the repository shows?
    /// Entries supplied from outside are assumed to restrict.
    pub fn reaches_beyond_loopback(&self) -> bool {
        !self.is_loopback_only()
            && !self
                .entries
                .iter()
                .any(|(e, _)| *e == NetworkEntry::External)
    }

    /// Only loopback addresses (an empty `<networks/>` admits nobody).
    pub fn is_loopback_only(&self) -> bool {
        self.span.is_some()
            && self.entries.iter().all(|(e, _)| match e {
                NetworkEntry::Ip(ip) => {
                    let ip = ip.trim();
                    is_loopback(ip.split('/').next().unwrap_or(ip))
                }
                NetworkEntry::Host(h) => is_loopback(h),
                NetworkEntry::HostRegexp(re) => re.trim_matches(['^', '$']) == "localhost",
                NetworkEntry::External => false,
            })
    }
}

#[derive(Clone, Debug)]
pub struct User {
    pub name: String,
    pub span: Span,
    pub auth: Vec<AuthElement>,
    pub networks: Networks,
    /// `access_management` / `named_collection_control` when enabled.
    pub admin_flags: Vec<(String, Span)>,
    pub element: Element,
}

impl User {
    /// The authentication ClickHouse uses: the first element of the single
    /// kind present. `None` when the user has none.
    pub fn effective_auth(&self) -> Option<&AuthElement> {
        self.auth.first()
    }

    /// True when the user needs no secret to log in.
    pub fn needs_no_secret(&self) -> bool {
        self.effective_auth()
            .is_some_and(|a| a.kind == AuthKind::NoSecret)
    }
}

impl Server {
    /// Is this text the repository did not write: what an image or
    /// operator ships, or the package defaults standing in for a file the
    /// repository lacks?
    pub fn is_implicit(&self, span: Span) -> bool {
        self.deploy.is_shipped(span)
            || std::iter::once(&self.config)
                .chain(self.users_config.as_ref())
                .any(|t| t.defaults == Some(span.source))
    }

    /// The tree users come from.
    pub fn users_tree(&self) -> &Element {
        &self.users_config.as_ref().unwrap_or(&self.config).root
    }

    pub fn root(&self) -> &Element {
        &self.config.root
    }

    pub fn client_listeners(&self) -> impl Iterator<Item = &Listener> {
        self.listeners.iter().filter(|l| l.protocol.is_client())
    }

    /// The first client listener reachable beyond loopback.
    pub fn exposed_client_listener(&self) -> Option<&Listener> {
        self.client_listeners().find(|l| l.is_exposed())
    }

    /// Has any element its value from the shipped defaults?
    pub fn uses_defaults(&self) -> bool {
        !self.assumed.is_empty()
    }

    /// May this user connect from beyond loopback, further than an operator
    /// keeps it by default?
    pub fn user_reaches_beyond_loopback(&self, user: &User) -> bool {
        user.networks.reaches_beyond_loopback()
            && !self.deploy.only_shipped_beyond_loopback(&user.networks)
    }

    /// Exposures that publish `port` beyond the host or cluster.
    pub fn exposures_of(&self, port: &str) -> impl Iterator<Item = &Exposure> {
        let port: Option<u16> = port.trim().parse().ok();
        self.exposures
            .iter()
            .filter(move |e| port.is_some_and(|p| e.publishes(p)))
    }
}

/// How far a published port reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reach {
    /// Only the machine itself (a port published on `127.0.0.1`).
    Host,
    /// The cluster or container network, or networks an allow-list names
    /// (a `ClusterIP` Service, an internal load balancer, source ranges).
    Cluster,
    /// Beyond the host or cluster: anyone who can route to the host, a node
    /// or a load balancer (a port published on all interfaces, `hostPort`,
    /// `hostNetwork`, `NodePort`, a public `LoadBalancer`, a firewall rule
    /// open to `0.0.0.0/0`).
    Internet,
}

impl Reach {
    pub fn as_str(self) -> &'static str {
        match self {
            Reach::Host => "host",
            Reach::Cluster => "cluster",
            Reach::Internet => "internet",
        }
    }
}

/// Which ports of the server an exposure reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PortSet {
    One(u16),
    /// Inclusive.
    Range(u16, u16),
    /// Every port the server listens on (host networking, a rule for all
    /// ports).
    All,
}

impl PortSet {
    pub fn contains(self, port: u16) -> bool {
        match self {
            PortSet::One(p) => p == port,
            PortSet::Range(lo, hi) => lo <= port && port <= hi,
            PortSet::All => true,
        }
    }

    pub fn describe(self) -> String {
        match self {
            PortSet::One(p) => p.to_string(),
            PortSet::Range(lo, hi) => format!("{lo}-{hi}"),
            PortSet::All => "every port".into(),
        }
    }
}

/// The mechanism that publishes a port; rules group on it (a port mapping of
/// a container runtime, a Kubernetes Service, a firewall rule).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExposureKind {
    /// A container runtime publishes a host port (compose `ports:`,
    /// `docker run -p`).
    PublishedPort,
    /// The container shares the host's network (compose `network_mode: host`).
    HostNetwork,
    /// A pod's `hostPort`.
    PodHostPort,
    /// A pod with `hostNetwork: true`.
    PodHostNetwork,
    /// A Service of type `ClusterIP` (in-cluster only).
    ClusterService,
    /// A Service of type `NodePort` (or the node ports of a `LoadBalancer`).
    NodePort,
    /// A Service of type `LoadBalancer`.
    LoadBalancer,
    /// A Service's `externalIPs`.
    ExternalIp,
    /// An Ingress routing to the server.
    Ingress,
    /// A firewall or security-group rule.
    Firewall,
    /// A managed service's public endpoint or IP access list.
    CloudAccess,
}

/// One way the deployment publishes a port of the server.
#[derive(Clone, Debug)]
pub struct Exposure {
    /// The server-side (container) port(s) reached.
    pub ports: PortSet,
    pub reach: Reach,
    pub kind: ExposureKind,
    /// What publishes it, for messages: "compose port `8123:8123`",
    /// "Service `ch` (LoadBalancer)".
    pub via: String,
    /// The line that publishes it (the `ports:` entry, the Service `type:`).
    pub span: Span,
    /// More locations that explain it (the Service's selector, its ports).
    pub related: Vec<(Span, String)>,
}

impl Exposure {
    /// Does this reach `port` from beyond the host or cluster?
    pub fn publishes(&self, port: u16) -> bool {
        self.reach == Reach::Internet && self.ports.contains(port)
    }
}

/// Which image a server runs, as far as the deployment says.
#[derive(Clone, Debug)]
pub struct Image {
    /// As written, e.g. `clickhouse/clickhouse-server:24.3`.
    pub reference: String,
    pub family: ImageFamily,
    /// The version the tag names (`24.3`, `25.1.3.23`), when it names one.
    pub version: Option<(u32, u32)>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageFamily {
    /// `clickhouse/clickhouse-server`, `clickhouse` (Docker library),
    /// `yandex/clickhouse-server`, `altinity/clickhouse-server`.
    Official,
    /// `clickhouse/clickhouse-keeper`.
    OfficialKeeper,
    /// `bitnami/clickhouse`.
    Bitnami,
}

/// A value a deployment gives, e.g. an environment variable.
#[derive(Clone, Debug, PartialEq)]
pub enum Given {
    /// Written in the repository.
    Literal(String),
    /// From outside the repository (a Secret, an env file, a variable
    /// without a default): treated as set, never guessed.
    External,
}

impl Given {
    pub fn is_set(&self) -> bool {
        match self {
            Given::Literal(v) => !v.is_empty(),
            Given::External => true,
        }
    }
}

/// What the image's entrypoint did about users (the official image's
/// `CLICKHOUSE_USER` / `CLICKHOUSE_PASSWORD` / `CLICKHOUSE_SKIP_USER_SETUP`
/// logic, Bitnami's `ALLOW_EMPTY_PASSWORD`).
#[derive(Clone, Debug)]
pub enum UserSetup {
    /// `CLICKHOUSE_SKIP_USER_SETUP=1`: the users the files define stay as
    /// they are (the image's `default` has no password).
    Skipped { span: Span },
    /// A user (re)created from the environment, open to `::/0`.
    Created {
        user: String,
        /// The variable that made the entrypoint create it.
        trigger: Span,
        password: Given,
        password_span: Option<Span>,
        access_management: Option<Span>,
    },
    /// A mounted file already changed `default`: left alone.
    LeftToFiles,
    /// Newer images: no variables set, so `default` is limited to loopback.
    DefaultRestricted { span: Span },
    /// Older images (before February 2025) did nothing without variables.
    OldImageNothing { span: Span },
    /// Bitnami with `ALLOW_EMPTY_PASSWORD=yes` and no password.
    EmptyPasswordAllowed { span: Span },
    /// Could not be decided from the repository (a variable from outside, an
    /// image whose version is unknown): the safe branch is assumed.
    Unknown,
}

/// A secret written literally in a deployment file (never printed).
#[derive(Clone, Debug)]
pub struct LiteralSecret {
    /// Where the value is written.
    pub span: Span,
    /// What it is, e.g. "`CLICKHOUSE_PASSWORD` in the environment of service `ch`".
    pub what: String,
    /// The value (compared with well-known passwords, never printed).
    pub value: String,
}

/// A deployment-level TLS switch (chart, operator, cloud) and its state.
#[derive(Clone, Debug)]
pub struct TlsSetting {
    pub enabled: bool,
    /// The key that sets it; `None` when it is off by the chart's default.
    pub span: Option<Span>,
    /// Where to point when the default applies (the chart values file, the CR).
    pub anchor: Span,
    /// The key, as a user would write it: `tls.enabled`, `spec.settings.tls.enabled`.
    pub key: String,
}

/// What runs the server: a compose service, a Kubernetes workload, an
/// operator resource, a chart release.
#[derive(Clone, Debug)]
pub struct Unit {
    /// "compose service", "StatefulSet", "ClickHouseInstallation", "Helm values".
    pub kind: String,
    pub name: String,
    pub span: Span,
}

/// Facts a deployment format adds to a server.
#[derive(Clone, Debug, Default)]
pub struct DeployFacts {
    pub unit: Option<Unit>,
    pub image: Option<Image>,
    pub user_setup: Option<UserSetup>,
    pub literal_secrets: Vec<LiteralSecret>,
    pub tls: Option<TlsSetting>,
    /// Inputs the repository does not show (a mounted file that is not in
    /// it, a ConfigMap or Secret defined elsewhere): what they set is unknown.
    pub unknown_inputs: Vec<(Span, String)>,
    /// Sources the image, an operator or a chart supplies (their defaults are
    /// not a choice made in the repository: rules about listen addresses and
    /// ports leave them to the exposure the deployment adds).
    pub shipped: Vec<crate::source::SourceId>,
}

impl DeployFacts {
    /// Does the image's user set-up explain how `user` is defined (so the
    /// image rules report it, not the generic users rules)?
    pub fn setup_covers(&self, user: &str) -> bool {
        match &self.user_setup {
            Some(UserSetup::Skipped { .. })
            | Some(UserSetup::OldImageNothing { .. })
            | Some(UserSetup::EmptyPasswordAllowed { .. }) => user == "default",
            Some(UserSetup::Created { user: u, .. }) => u == user,
            _ => false,
        }
    }

    pub fn is_shipped(&self, span: Span) -> bool {
        self.shipped.contains(&span.source)
    }

    /// Are all the entries beyond loopback in these networks the ones an
    /// operator adds by itself (its own pods and Services)? Such a user is
    /// as restricted as the operator keeps it.
    pub fn only_shipped_beyond_loopback(&self, networks: &Networks) -> bool {
        networks.span.is_some()
            && networks.any_entry().is_none()
            && networks
                .entries
                .iter()
                .filter(|(e, _)| match e {
                    NetworkEntry::Ip(ip) => !is_loopback(ip.split('/').next().unwrap_or(ip)),
                    NetworkEntry::Host(h) => !is_loopback(h),
                    NetworkEntry::HostRegexp(_) | NetworkEntry::External => true,
                })
                .all(|(_, span)| self.is_shipped(*span))
    }

    /// Is this span where a deployment file writes a secret literally?
    pub fn is_literal_secret(&self, span: Span) -> bool {
        self.literal_secrets.iter().any(|s| {
            s.span.source == span.source && s.span.start <= span.start && span.end <= s.span.end
        })
    }
}
