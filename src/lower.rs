//! Lowering an effective ClickHouse configuration into the model: which
//! listeners it opens on which addresses, and which users it defines.

use sha1::Digest as _;

use crate::clickhouse::element::Element;
use crate::model::{
    AuthElement, AuthKind, Bind, Listener, NetworkEntry, Networks, Protocol, ServerKind, User,
};

/// Ports a server opens, by the key that opens them.
const SERVER_PORTS: [(&str, Protocol); 10] = [
    ("http_port", Protocol::Http),
    ("https_port", Protocol::Https),
    ("tcp_port", Protocol::Native),
    ("tcp_port_secure", Protocol::NativeSecure),
    ("tcp_with_proxy_port", Protocol::NativeProxy),
    ("mysql_port", Protocol::Mysql),
    ("postgresql_port", Protocol::Postgres),
    ("grpc_port", Protocol::Grpc),
    ("interserver_http_port", Protocol::Interserver),
    ("interserver_https_port", Protocol::InterserverSecure),
];

const KEEPER_PORTS: [(&str, Protocol); 2] = [
    ("keeper_server/tcp_port", Protocol::KeeperClient),
    (
        "keeper_server/tcp_port_secure",
        Protocol::KeeperClientSecure,
    ),
];

/// The addresses in `key` (repeated), or ClickHouse's loopback default.
fn bind_list(root: &Element, key: &str) -> Option<Vec<Bind>> {
    let binds: Vec<Bind> = root
        .children_named(key)
        .filter(|e| e.is_external() || !e.value().is_empty())
        .map(|e| Bind {
            addr: address(e),
            span: Some(e.value_span()),
            external: e.is_external(),
        })
        .collect();
    (!binds.is_empty()).then_some(binds)
}

/// An address as written, cut at 255 characters: no address is longer
/// (a host name is at most 253), and every listener keeps a copy.
fn address(e: &Element) -> String {
    let value = e.value();
    match value.char_indices().nth(255) {
        Some((cut, _)) => value[..cut].to_string(),
        None => value,
    }
}

fn default_binds() -> Vec<Bind> {
    ["::1", "127.0.0.1"]
        .into_iter()
        .map(|a| Bind {
            addr: a.to_string(),
            span: None,
            external: false,
        })
        .collect()
}

pub fn listeners(root: &Element, kind: ServerKind) -> Vec<Listener> {
    let listen = bind_list(root, "listen_host").unwrap_or_else(default_binds);
    let interserver = bind_list(root, "interserver_listen_host").unwrap_or_else(|| listen.clone());
    let server_ports: &[(&'static str, Protocol)] = match kind {
        ServerKind::Server => &SERVER_PORTS,
        ServerKind::Keeper => &[],
    };
    server_ports
        .iter()
        .chain(KEEPER_PORTS.iter())
        .filter_map(|&(key, protocol)| {
            let e = root.find(key)?;
            let port = e.value();
            if port.is_empty() && !e.is_external() || port == "0" {
                return None;
            }
            let protocol = match protocol {
                Protocol::Grpc if root.find("grpc/enable_ssl").is_some_and(is_true) => {
                    Protocol::Grpc
                }
                p => p,
            };
            let binds = match protocol {
                Protocol::Interserver | Protocol::InterserverSecure => interserver.clone(),
                _ => listen.clone(),
            };
            Some(Listener {
                protocol,
                key,
                port,
                span: e.span,
                binds,
            })
        })
        .collect()
}

/// Poco's boolean: a non-zero integer, or true/yes/on.
pub fn is_true(e: &Element) -> bool {
    let v = e.value().to_ascii_lowercase();
    match v.as_str() {
        "true" | "yes" | "on" => true,
        _ => parse_int(&v).is_some_and(|n| n != 0),
    }
}

fn parse_int(v: &str) -> Option<i64> {
    match v.strip_prefix("0x") {
        Some(hex) => i64::from_str_radix(hex, 16).ok(),
        None => v.parse().ok(),
    }
}

const SHA256_OF_EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const DOUBLE_SHA1_OF_EMPTY: &str = "be1bdec0aa74b4dcb079943e70528096cca985f8";

const DELEGATED: [&str; 5] = [
    "ldap",
    "kerberos",
    "ssl_certificates",
    "ssh_keys",
    "http_authentication",
];

fn auth_kind(e: &Element) -> Option<AuthKind> {
    if e.is_external() {
        let known = e.name.starts_with("password") || e.name == "no_password";
        return known.then_some(AuthKind::External);
    }
    let value = e.value();
    Some(match e.name.as_str() {
        "no_password" => AuthKind::NoSecret,
        "password" if e.has_attr("encrypted_by") => AuthKind::OtherHash,
        "password" if value.is_empty() => AuthKind::NoSecret,
        "password" => AuthKind::Plaintext,
        "password_sha256_hex" if value.eq_ignore_ascii_case(SHA256_OF_EMPTY) => AuthKind::NoSecret,
        "password_sha256_hex" => AuthKind::Sha256,
        "password_double_sha1_hex" if value.eq_ignore_ascii_case(DOUBLE_SHA1_OF_EMPTY) => {
            AuthKind::NoSecret
        }
        "password_double_sha1_hex" => AuthKind::DoubleSha1,
        "password_scram_sha256_hex" | "password_bcrypt_hash" => AuthKind::OtherHash,
        name if DELEGATED.contains(&name) => AuthKind::Delegated,
        _ => return None,
    })
}

/// `include_file_named`: the users tree has `<include_from>`. Without it,
/// ClickHouse reads `/etc/metrika.xml` only if that file exists, and the
/// packages ship none: an `incl` there finds nothing, and an element keeps
/// the entries written in it (`<networks incl="networks" replace="replace">
/// <ip>::/0</ip></networks>` in the Debian package's users.xml is open to
/// every address — checked against the real 18.16 server).
fn networks(user: &Element, include_file_named: bool) -> Networks {
    let Some(n) = user.child("networks") else {
        return Networks {
            span: None,
            entries: Vec::new(),
        };
    };
    let mut entries = Vec::new();
    let incl_finds_nothing = n.has_attr("incl")
        && !n.has_attr("from_env")
        && !n.has_attr("from_zk")
        && !include_file_named
        && n.has_element_children();
    if n.is_external() && !incl_finds_nothing {
        entries.push((NetworkEntry::External, n.span));
    }
    for e in n.elements() {
        // ClickHouse recognises entries by key prefix (ip, ip[1], host_regexp…).
        let entry = if e.is_external() {
            NetworkEntry::External
        } else if e.name.starts_with("host_regexp") {
            NetworkEntry::HostRegexp(e.value())
        } else if e.name.starts_with("host") {
            NetworkEntry::Host(e.value())
        } else if e.name.starts_with("ip") {
            NetworkEntry::Ip(e.value())
        } else {
            continue;
        };
        entries.push((entry, e.span));
    }
    Networks {
        span: Some(n.span),
        entries,
    }
}

pub fn users(tree: &Element) -> Vec<User> {
    let Some(users) = tree.child("users") else {
        return Vec::new();
    };
    let include_file_named = tree.child("include_from").is_some();
    // Repeated siblings are distinct users to ClickHouse, which names them as
    // Poco enumerates them: `alice`, `alice[1]`, `alice[2]` …
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    users
        .elements()
        .map(|u| {
            let repeat = seen.entry(u.name.as_str()).or_insert(0);
            let key = match *repeat {
                0 => u.name.clone(),
                n => format!("{}[{n}]", u.name),
            };
            *repeat += 1;
            let auth = u
                .elements()
                .filter_map(|e| {
                    Some(AuthElement {
                        element: e.name.clone(),
                        kind: auth_kind(e)?,
                        span: e.span,
                        value: if e.is_external() {
                            String::new()
                        } else {
                            e.value()
                        },
                        value_span: e.value_span(),
                        overridden: e.overridden.clone(),
                    })
                })
                .collect();
            let admin_flags = ["access_management", "named_collection_control"]
                .into_iter()
                .filter_map(|k| {
                    u.child(k)
                        .filter(|e| is_true(e))
                        .map(|e| (k.to_string(), e.span))
                })
                .collect();
            User {
                name: key.replace("\\.", "."),
                span: u.span,
                auth,
                networks: networks(u, include_file_named),
                admin_flags,
                element: u.clone(),
            }
        })
        .collect()
}

/// SHA-256 of a string, as lowercase hex (ClickHouse's `password_sha256_hex`).
pub fn sha256_hex(s: &str) -> String {
    hex(&sha2::Sha256::digest(s.as_bytes()))
}

/// SHA-1 of SHA-1 of a string, as lowercase hex (`password_double_sha1_hex`).
pub fn double_sha1_hex(s: &str) -> String {
    hex(&sha1::Sha1::digest(sha1::Sha1::digest(s.as_bytes())))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::source::SourceId;
    use crate::syntax::{xml, Limits};

    fn tree(s: &str) -> Element {
        xml::parse(SourceId(0), s, &Limits::default()).unwrap()
    }

    #[test]
    fn no_listen_host_means_loopback_and_external_binds_are_not_assumed_open() {
        let l = listeners(
            &tree("<c><http_port>8123</http_port></c>"),
            ServerKind::Server,
        );
        assert_eq!(l.len(), 1);
        assert!(!l[0].is_exposed());
        let l = listeners(
            &tree("<c><listen_host from_env=\"LH\"/><http_port>8123</http_port></c>"),
            ServerKind::Server,
        );
        assert!(
            !l[0].is_exposed(),
            "an address from the environment is unknown"
        );
        let l = listeners(
            &tree("<c><listen_host>10.1.2.3</listen_host><interserver_http_port>9009</interserver_http_port><interserver_listen_host>127.0.0.1</interserver_listen_host></c>"),
            ServerKind::Server,
        );
        assert!(!l[0].is_exposed(), "interserver binds its own list");
    }

    #[test]
    fn users_auth_and_networks() {
        let users = users(&tree(
            "<c><users>\
               <a><password/></a>\
               <b><password_sha256_hex>e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855</password_sha256_hex><networks><ip>::1</ip><host>localhost</host></networks></b>\
               <c><password from_env=\"P\"/><networks incl=\"nets\"/></c>\
               <d><ldap><server>x</server></ldap><networks><host_regexp>.*</host_regexp></networks><access_management>1</access_management></d>\
             </users></c>",
        ));
        let by = |n: &str| users.iter().find(|u| u.name == n).unwrap();
        assert!(by("a").needs_no_secret() && by("a").networks.is_any());
        assert!(by("b").needs_no_secret() && by("b").networks.is_loopback_only());
        assert_eq!(by("c").effective_auth().unwrap().kind, AuthKind::External);
        assert!(
            !by("c").networks.reaches_beyond_loopback(),
            "networks from an include are assumed to restrict"
        );
        assert_eq!(by("d").effective_auth().unwrap().kind, AuthKind::Delegated);
        assert!(by("d").networks.is_any());
        assert_eq!(by("d").admin_flags.len(), 1);
    }

    #[test]
    fn an_incl_without_an_include_file_keeps_the_entries_written() {
        // Regression (real 18.16 server, Debian's users.xml): the server
        // accepts `default` from any address.
        let debian = "<networks incl=\"networks\" replace=\"replace\"><ip>::/0</ip></networks>";
        let open = users(&tree(&format!(
            "<c><users><default><password/>{debian}</default></users></c>"
        )));
        assert!(open[0].networks.is_any() && open[0].networks.reaches_beyond_loopback());
        // With an include file named, the include may replace them.
        let unknown = users(&tree(&format!(
            "<c><include_from>/etc/clickhouse-server/metrika.xml</include_from>\
             <users><default><password/>{debian}</default></users></c>"
        )));
        assert!(!unknown[0].networks.reaches_beyond_loopback());
    }

    #[test]
    fn repeated_user_elements_are_named_as_clickhouse_names_them() {
        // Regression (chdb-core 26.9): a second `<alice>` is user `alice[1]`.
        let u = users(&tree(
            "<c><users><alice><password>x</password></alice><alice><password/></alice><bob/><alice/></users></c>",
        ));
        let names: Vec<&str> = u.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, ["alice", "alice[1]", "bob", "alice[2]"]);
    }

    #[test]
    fn empty_hashes_are_what_the_constants_say() {
        assert_eq!(sha256_hex(""), SHA256_OF_EMPTY);
        assert_eq!(double_sha1_hex(""), DOUBLE_SHA1_OF_EMPTY);
    }
}
