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
}
