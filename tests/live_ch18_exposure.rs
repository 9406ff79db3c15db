//! Live exposure checks against a running ClickHouse 18.16 server.
//!
//! Fixtures stay within what 18.16 and current ClickHouse do alike. Two
//! differences keep some out: 18.16 refuses to start with neither
//! `http_port` nor `tcp_port`, and it admits a user without `<networks>`
//! from nowhere, where current ClickHouse admits it from anywhere (chlint
//! follows current ClickHouse; `tests/live_chdb.rs` checks that case).
//!
//! For each fixture (overlays on the package's shipped configuration:
//! listening on `0.0.0.0`, `::`, loopback, a specific address, no client
//! port; users with and without a password and networks) the real server is
//! started in a network namespace joined by a veth pair to a second, client
//! namespace. The test records
//! - the sockets it listens on (`ss -ltn` in the server's namespace),
//! - which ports a client beyond loopback (`10.77.0.2`) can connect to,
//! - for each user, what an attempt without a password gets over HTTP and
//!   the native protocol, from loopback and from the client namespace,
//!
//! and asserts that `chlint inspect` agrees (listeners: ports, bind
//! addresses, exposure; users: existence, whether a secret is needed, whether
//! the networks admit loopback only or any address), and that CH101 fires
//! exactly when the server accepts the `default` user without a password
//! from beyond loopback (CH102 likewise for any other user).
//!
//! The native protocol is probed with `clickhouse-client` when
//! `CHLINT_CH18_CLIENT` names it, else with a minimal Hello packet.
//! Without network namespaces only the loopback-only fixtures run (the
//! others would open the machine's network); without `CHLINT_CH18_SERVER`
//! the test prints `SKIPPED: …` and passes.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use common::ch18::{
    run_with_timeout, Ch18, Netns, Pair, RunDir, Server, Started, SERVER_V4, SERVER_V6,
};
use common::live;

struct Fixture {
    name: &'static str,
    /// Files laid over the shipped configuration, under `etc/`.
    files: &'static [(&'static str, &'static str)],
}

const LISTEN_ANY: (&str, &str) = (
    "config.d/listen.xml",
    "<yandex><listen_host>0.0.0.0</listen_host></yandex>",
);

const FIXTURES: &[Fixture] = &[
    // No listen_host at all: the package's configuration as shipped.
    Fixture {
        name: "listen-none-shipped",
        files: &[],
    },
    Fixture {
        name: "listen-0.0.0.0",
        files: &[LISTEN_ANY],
    },
    Fixture {
        name: "listen-::",
        files: &[(
            "config.d/listen.xml",
            "<yandex><listen_host>::</listen_host></yandex>",
        )],
    },
    Fixture {
        name: "listen-127.0.0.1",
        files: &[(
            "config.d/listen.xml",
            "<yandex><listen_host>127.0.0.1</listen_host></yandex>",
        )],
    },
    Fixture {
        name: "listen-::1",
        files: &[(
            "config.d/listen.xml",
            "<yandex><listen_host>::1</listen_host></yandex>",
        )],
    },
    Fixture {
        name: "listen-interface-address",
        files: &[(
            "config.d/listen.xml",
            "<yandex><listen_host>10.77.0.1</listen_host></yandex>",
        )],
    },
    Fixture {
        name: "listen-loopback-and-interface-v6",
        files: &[(
            "config.d/listen.xml",
            "<yandex><listen_host>127.0.0.1</listen_host><listen_host>fd77::1</listen_host></yandex>",
        )],
    },
    Fixture {
        name: "http-only-moved-port",
        files: &[(
            "config.d/listen.xml",
            "<yandex><listen_host>0.0.0.0</listen_host>\
             <http_port>8124</http_port><tcp_port remove=\"1\"/></yandex>",
        )],
    },
    Fixture {
        name: "native-only",
        files: &[(
            "config.d/listen.xml",
            "<yandex><listen_host>::</listen_host><http_port remove=\"1\"/></yandex>",
        )],
    },
    Fixture {
        name: "default-sha256-password",
        files: &[
            LISTEN_ANY,
            (
                "users.d/default.xml",
                // sha256("s3cret-for-tests")
                "<yandex><users><default><password remove=\"1\"/>\
                 <password_sha256_hex>855b2a791d16018d730886ecd82a059365ab81d4c4ceff3172d23671dc2d12b3</password_sha256_hex>\
                 </default></users></yandex>",
            ),
        ],
    },
    Fixture {
        name: "default-plaintext-password",
        files: &[
            LISTEN_ANY,
            (
                "users.d/default.xml",
                "<yandex><users><default><password>s3cret-for-tests</password></default></users></yandex>",
            ),
        ],
    },
    Fixture {
        name: "default-sha256-of-empty",
        files: &[
            LISTEN_ANY,
            (
                "users.d/default.xml",
                // sha256(""): a hash that asks for no secret at all
                "<yandex><users><default><password remove=\"1\"/>\
                 <password_sha256_hex>e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855</password_sha256_hex>\
                 </default></users></yandex>",
            ),
        ],
    },
    Fixture {
        name: "default-networks-loopback",
        files: &[
            LISTEN_ANY,
            (
                "users.d/default.xml",
                "<yandex><users><default><networks replace=\"replace\">\
                 <ip>127.0.0.1</ip><ip>::1</ip></networks></default></users></yandex>",
            ),
        ],
    },
    Fixture {
        name: "default-networks-client-subnet",
        files: &[
            LISTEN_ANY,
            (
                "users.d/default.xml",
                "<yandex><users><default><networks replace=\"replace\">\
                 <ip>10.77.0.0/24</ip></networks></default></users></yandex>",
            ),
        ],
    },
    Fixture {
        name: "default-ip-without-replace",
        // Pairs with the shipped `::/0`: the override takes its place.
        files: &[
            LISTEN_ANY,
            (
                "users.d/default.xml",
                "<yandex><users><default><networks><ip>::1</ip></networks></default></users></yandex>",
            ),
        ],
    },
    Fixture {
        name: "default-removed",
        files: &[
            LISTEN_ANY,
            (
                "users.d/default.xml",
                "<yandex><users><default remove=\"remove\"/></users></yandex>",
            ),
        ],
    },
    Fixture {
        name: "app-user-without-password",
        files: &[
            LISTEN_ANY,
            (
                "users.d/users.xml",
                "<yandex><users>\
                 <default><password>s3cret-for-tests</password></default>\
                 <app><password></password><networks><ip>::/0</ip></networks>\
                 <profile>default</profile><quota>default</quota></app>\
                 </users></yandex>",
            ),
        ],
    },
    Fixture {
        name: "readonly-opened",
        files: &[
            LISTEN_ANY,
            (
                "users.d/users.xml",
                "<yandex><users>\
                 <default><password>s3cret-for-tests</password></default>\
                 <readonly><networks replace=\"replace\"><ip>::/0</ip></networks></readonly>\
                 </users></yandex>",
            ),
        ],
    },
    Fixture {
        name: "loopback-with-open-users",
        files: &[
            (
                "config.d/listen.xml",
                "<yandex><listen_host>::1</listen_host><listen_host>127.0.0.1</listen_host></yandex>",
            ),
            (
                "users.d/users.xml",
                "<yandex><users><app><password/><profile>default</profile><quota>default</quota></app></users></yandex>",
            ),
        ],
    },
];

/// User names probed whatever chlint says, so a user chlint misses shows.
const PROBED_NAMES: &[&str] = &["default", "readonly", "app", "alice"];

#[test]
fn live_exposure_agrees_with_chlint() {
    let test = "live_exposure_agrees_with_chlint";
    let Some(ch) = Ch18::detect(test) else { return };
    let fixtures: Vec<&Fixture> = if ch.netns {
        FIXTURES.iter().collect()
    } else {
        let (run, skip): (Vec<&Fixture>, Vec<&Fixture>) =
            FIXTURES.iter().partition(|f| loopback_only(f));
        live::skipped(
            test,
            &format!(
                "{} of {} fixtures ({}) listen beyond loopback, which needs network namespaces; {}",
                skip.len(),
                FIXTURES.len(),
                skip.iter().map(|f| f.name).collect::<Vec<_>>().join(", "),
                ch.isolation()
            ),
        );
        run
    };
    let start = Instant::now();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Result<Checked, String>)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..live::jobs().min(fixtures.len()) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(f) = fixtures.get(i) else { break };
                let r = check_fixture(&ch, f);
                results.lock().expect("results").push((i, r));
            });
        }
    });
    let mut results = results.into_inner().expect("results");
    results.sort_by_key(|r| r.0);
    let mut failures = Vec::new();
    let (mut ch101_fired, mut probes) = (0, 0);
    for (i, r) in results {
        match r {
            Ok(c) => {
                ch101_fired += usize::from(c.ch101);
                probes += c.probes;
                eprintln!("ok   {}: {}", fixtures[i].name, c.summary);
            }
            Err(e) => failures.push(format!("==== {}\n{e}", fixtures[i].name)),
        }
    }
    live::say(&format!(
        "{test}: {} fixtures in {:.1} s ({}, native protocol via {}): {probes} probes, \
         CH101 fired on {ch101_fired} (each time the server let `default` in without a password \
         from beyond loopback), {} disagreements",
        fixtures.len(),
        start.elapsed().as_secs_f64(),
        ch.isolation(),
        if ch.client.is_some() {
            "clickhouse-client"
        } else {
            "a minimal Hello packet"
        },
        failures.len()
    ));
    assert!(
        failures.is_empty(),
        "chlint disagrees with the running server:\n{}",
        failures.join("\n")
    );
}

fn loopback_only(f: &Fixture) -> bool {
    f.files.iter().all(|(_, text)| {
        text.split("<listen_host>")
            .skip(1)
            .filter_map(|s| s.split('<').next())
            .all(|a| matches!(a.trim(), "127.0.0.1" | "::1"))
    })
}

struct Checked {
    ch101: bool,
    probes: usize,
    summary: String,
}

/// What an attempt to run `SELECT 1` without a password got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Accepted,
    /// 193/194: a password is needed.
    NeedsPassword,
    /// 195: not from this address.
    NotFromHere,
    /// 192: no such user.
    UnknownUser,
    /// Nothing listens there.
    NoConnection,
    Other,
}

fn classify(ok_output: &str, error: &str) -> Outcome {
    if ok_output.trim() == "1" {
        return Outcome::Accepted;
    }
    let text = format!("{ok_output}\n{error}");
    if text.contains("Code: 194") || text.contains("Code: 193") {
        Outcome::NeedsPassword
    } else if text.contains("Code: 195") {
        Outcome::NotFromHere
    } else if text.contains("Code: 192") {
        Outcome::UnknownUser
    } else if text.contains("Failed to connect")
        || text.contains("Connection refused")
        || text.contains("Code: 210")
        || text.contains("NO-CONNECTION")
    {
        Outcome::NoConnection
    } else {
        Outcome::Other
    }
}

/// Where a probe runs from, and the address it connects to.
#[derive(Clone, Copy)]
struct Vantage<'a> {
    ns: Option<&'a Netns>,
    host: &'a str,
}

struct Prober<'a> {
    ch: &'a Ch18,
    count: usize,
}

impl Prober<'_> {
    fn command(&self, at: Vantage, program: &str) -> Command {
        match at.ns {
            Some(ns) => ns.command(program),
            None => Command::new(program),
        }
    }

    fn http(&mut self, at: Vantage, port: u16, user: &str) -> Outcome {
        self.count += 1;
        let host = if at.host.contains(':') {
            format!("[{}]", at.host)
        } else {
            at.host.to_string()
        };
        let mut cmd = self.command(at, "curl");
        cmd.args(["-sS", "-g", "-m", "3"]).arg(format!(
            "http://{host}:{port}/?user={user}&query=SELECT%201"
        ));
        match run_with_timeout(cmd, Duration::from_secs(5)) {
            Ok(out) => classify(
                &String::from_utf8_lossy(&out.stdout),
                &String::from_utf8_lossy(&out.stderr),
            ),
            Err(_) => Outcome::Other,
        }
    }

    fn native(&mut self, at: Vantage, port: u16, user: &str) -> Outcome {
        self.count += 1;
        let out = match &self.ch.client {
            Some(client) => {
                let mut cmd = self.command(at, &client.to_string_lossy());
                cmd.args(["--host", at.host, "--port", &port.to_string()])
                    .args(["--user", user, "--query", "SELECT 1"]);
                run_with_timeout(cmd, Duration::from_secs(5))
            }
            None => {
                // ClientHello: packet 0, name, version 1.1, revision 54213,
                // database "", user, password "". The server answers Hello (0)
                // once the user is let in, or Exception (2) followed by the
                // error code as a little-endian Int32.
                let mut packet = vec![0u8];
                let mut push = |s: &str| {
                    packet.push(s.len() as u8);
                    packet.extend_from_slice(s.as_bytes());
                };
                push("chlint");
                packet.extend_from_slice(&[1, 1, 0xC5, 0xA7, 0x03]);
                for s in ["", user, ""] {
                    packet.push(s.len() as u8);
                    packet.extend_from_slice(s.as_bytes());
                }
                let bytes: String = packet.iter().map(|b| format!("\\x{b:02x}")).collect();
                let script = format!(
                    "exec 3<>/dev/tcp/{}/{port} || {{ echo NO-CONNECTION; exit 1; }}; \
                     printf '{bytes}' >&3; set -- $(head -c 5 <&3 | od -An -tu1); \
                     if [ \"$1\" = 0 ]; then echo 1; \
                     elif [ \"$1\" = 2 ]; then echo \"Code: $(( $2 + $3 * 256 + $4 * 65536 ))\"; \
                     else echo other; fi",
                    at.host
                );
                let mut cmd = self.command(at, "bash");
                cmd.args(["-c", &script]);
                run_with_timeout(cmd, Duration::from_secs(5))
            }
        };
        match out {
            Ok(out) => classify(
                &String::from_utf8_lossy(&out.stdout),
                &String::from_utf8_lossy(&out.stderr),
            ),
            Err(_) => Outcome::Other,
        }
    }

    /// Can a TCP connection be made?
    fn connects(&mut self, at: Vantage, port: u16) -> bool {
        self.count += 1;
        let mut cmd = self.command(at, "bash");
        cmd.args(["-c", &format!("exec 3<>/dev/tcp/{}/{port}", at.host)]);
        run_with_timeout(cmd, Duration::from_secs(3)).is_ok_and(|o| o.status.success())
    }
}

/// chlint's view of a listener.
#[derive(Debug)]
struct ModelListener {
    key: String,
    protocol: String,
    port: u16,
    exposed: bool,
    binds: Vec<String>,
}

#[derive(Debug)]
struct ModelUser {
    auth_kind: Option<String>,
    any: bool,
    loopback_only: bool,
}

fn normalize_host(h: &str) -> String {
    let h = h.trim().trim_start_matches('[').trim_end_matches(']');
    match h {
        "*" | "::" | "0:0:0:0:0:0:0:0" => "::".to_string(),
        h => h.to_ascii_lowercase(),
    }
}

/// `ss -ltnH` local addresses as (host, port).
fn sockets(ns: Option<&Netns>, ports: &[u16]) -> Result<BTreeSet<(String, u16)>, String> {
    let mut cmd = match ns {
        Some(ns) => ns.command("ss"),
        None => Command::new("ss"),
    };
    cmd.args(["-ltnH"]);
    let out = run_with_timeout(cmd, Duration::from_secs(5))?;
    let mut set = BTreeSet::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some(local) = line.split_whitespace().nth(3) else {
            continue;
        };
        let Some((host, port)) = local.rsplit_once(':') else {
            continue;
        };
        let Ok(port) = port.parse::<u16>() else {
            continue;
        };
        let host = host.split('%').next().unwrap_or(host);
        // Outside a namespace the machine has other sockets: keep ours.
        if ns.is_some() || ports.contains(&port) {
            set.insert((normalize_host(host), port));
        }
    }
    Ok(set)
}

fn inspect(
    etc: &std::path::Path,
) -> Result<(Vec<ModelListener>, BTreeMap<String, ModelUser>), String> {
    let out = common::run_chlint([
        std::ffi::OsStr::new("inspect"),
        etc.join("config.xml").as_os_str(),
    ])?;
    if !out.status.success() {
        return Err(format!(
            "chlint inspect failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let v: Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    let server = v
        .as_array()
        .and_then(|a| a.iter().find(|s| s["kind"] == "server"))
        .ok_or("chlint inspect shows no server")?;
    let listeners = server["listeners"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| ModelListener {
            key: l["key"].as_str().unwrap_or_default().to_string(),
            protocol: l["protocol"].as_str().unwrap_or_default().to_string(),
            port: l["port"].as_str().and_then(|p| p.parse().ok()).unwrap_or(0),
            exposed: l["exposed"].as_bool().unwrap_or(false),
            binds: l["binds"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|b| b["address"].as_str().map(normalize_host))
                .collect(),
        })
        .collect();
    let users = server["users"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|u| {
            (
                u["name"].as_str().unwrap_or_default().to_string(),
                ModelUser {
                    auth_kind: u["auth"]["kind"].as_str().map(String::from),
                    any: u["networks"]["any"].as_bool().unwrap_or(false),
                    loopback_only: u["networks"]["loopback_only"].as_bool().unwrap_or(false),
                },
            )
        })
        .collect();
    Ok((listeners, users))
}

/// The users CH101/CH102 name, by rule.
fn no_password_findings(
    etc: &std::path::Path,
) -> Result<BTreeMap<String, BTreeSet<String>>, String> {
    let out = common::run_chlint([
        std::ffi::OsStr::new("check"),
        std::ffi::OsStr::new("--format"),
        std::ffi::OsStr::new("json"),
        etc.as_os_str(),
    ])?;
    let v: Value = serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "chlint check printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    let mut by_rule: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in v["findings"].as_array().into_iter().flatten() {
        let rule = f["rule"].as_str().unwrap_or_default();
        if rule != "CH101" && rule != "CH102" {
            continue;
        }
        let message = f["message"].as_str().unwrap_or_default();
        let user = message.split('`').nth(1).unwrap_or_default().to_string();
        by_rule.entry(rule.to_string()).or_default().insert(user);
    }
    Ok(by_rule)
}

fn check_fixture(ch: &Ch18, f: &Fixture) -> Result<Checked, String> {
    let mut run = RunDir::new(ch, f.name)?;
    for (path, text) in f.files {
        run.write(path, text.as_bytes())?;
    }
    let (listeners, users) = inspect(&run.etc)?;
    let findings = no_password_findings(&run.etc)?;

    let pair = if ch.netns { Some(Pair::new()?) } else { None };
    let mut server = Server::start(ch, &run, &[], pair.as_ref().map(|p| &p.server))?;
    let started = server.wait_ready(&run, Duration::from_secs(15));
    let result = (|| {
        if !matches!(started, Started::Ready) {
            return Err(format!(
                "the server did not start ({started:?}):\n{}",
                run.errors()
            ));
        }
        observe_and_compare(ch, pair.as_ref(), &run, &listeners, &users, &findings)
    })();
    server.stop();
    drop(pair);
    if result.is_err() {
        run.scratch.keep();
    }
    result.map_err(|e| {
        format!(
            "{e}\n(run folder: {})\nfiles:\n{}",
            run.scratch.path().display(),
            f.files
                .iter()
                .map(|(p, t)| format!("  etc/{p}: {t}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

fn observe_and_compare(
    ch: &Ch18,
    pair: Option<&Pair>,
    run: &RunDir,
    listeners: &[ModelListener],
    users: &BTreeMap<String, ModelUser>,
    findings: &BTreeMap<String, BTreeSet<String>>,
) -> Result<Checked, String> {
    let mut problems = Vec::new();
    let mut prober = Prober { ch, count: 0 };
    let server_ns = pair.map(|p| &p.server);

    // 1. Sockets: exactly the model's (address, port) pairs.
    let ports: Vec<u16> = listeners.iter().map(|l| l.port).collect();
    let seen = sockets(server_ns, &ports)?;
    let expected: BTreeSet<(String, u16)> = listeners
        .iter()
        .flat_map(|l| l.binds.iter().map(move |b| (b.clone(), l.port)))
        .collect();
    if seen != expected {
        problems.push(format!(
            "sockets: the server listens on {seen:?}, chlint's listeners say {expected:?}"
        ));
    }

    // 2. Reachability from the client namespace, per listener.
    let beyond: Vec<Vantage> = match pair {
        Some(p) => vec![
            Vantage {
                ns: Some(&p.client),
                host: SERVER_V4,
            },
            Vantage {
                ns: Some(&p.client),
                host: SERVER_V6,
            },
        ],
        None => Vec::new(),
    };
    if pair.is_some() {
        for l in listeners {
            let reachable = beyond.iter().any(|&at| prober.connects(at, l.port));
            if reachable != l.exposed {
                problems.push(format!(
                    "listener {} ({}): chlint says exposed={}, a client beyond loopback {} connect",
                    l.key,
                    l.port,
                    l.exposed,
                    if reachable { "can" } else { "cannot" }
                ));
            }
        }
    }

    // 3. Users: probe each name without a password, over each client protocol.
    let http = listeners
        .iter()
        .find(|l| l.protocol == "http")
        .map(|l| l.port);
    let native = listeners
        .iter()
        .find(|l| l.protocol == "native")
        .map(|l| l.port);
    let loopback = loopback_vantage(&seen, server_ns);
    let mut names: BTreeSet<String> = PROBED_NAMES.iter().map(|s| s.to_string()).collect();
    names.extend(users.keys().cloned());
    let mut accepted_beyond: BTreeSet<String> = BTreeSet::new();
    let mut notes = Vec::new();
    for name in &names {
        let mut near = Vec::new();
        let mut far = Vec::new();
        for (port, is_http) in [(http, true), (native, false)] {
            let Some(port) = port else { continue };
            let mut probe = |at: Vantage| {
                if is_http {
                    prober.http(at, port, name)
                } else {
                    prober.native(at, port, name)
                }
            };
            if let Some(at) = loopback {
                near.push(probe(at));
            }
            for &at in &beyond {
                far.push(probe(at));
            }
        }
        let known = |v: &[Outcome]| {
            v.iter().any(|o| {
                *o != Outcome::UnknownUser && *o != Outcome::NoConnection && *o != Outcome::Other
            })
        };
        let unknown = |v: &[Outcome]| v.contains(&Outcome::UnknownUser);
        if far.contains(&Outcome::Accepted) {
            accepted_beyond.insert(name.clone());
        }
        notes.push(format!("{name}: near {near:?} far {far:?}"));
        if near.iter().chain(&far).any(|o| *o == Outcome::Other) {
            problems.push(format!(
                "user {name}: a probe got an answer the test does not understand (near {near:?}, far {far:?})"
            ));
        }
        let model = users.get(name);
        match model {
            None if known(&near) || known(&far) => problems.push(format!(
                "user {name}: the server knows it (near {near:?}, far {far:?}); chlint lists no such user"
            )),
            None => continue,
            Some(_) if unknown(&near) || unknown(&far) => problems.push(format!(
                "user {name}: chlint lists it; the server says it does not exist"
            )),
            Some(_) => {}
        }
        let Some(model) = model else { continue };
        let needs_secret = match model.auth_kind.as_deref() {
            Some("no_secret") => Some(false),
            Some("plaintext" | "sha256" | "double_sha1" | "hash") => Some(true),
            _ => None,
        };
        let all: Vec<Outcome> = near.iter().chain(&far).copied().collect();
        match needs_secret {
            Some(false) if all.contains(&Outcome::NeedsPassword) => problems.push(format!(
                "user {name}: chlint says it needs no secret; the server asks for a password"
            )),
            Some(true) if all.contains(&Outcome::Accepted) => problems.push(format!(
                "user {name}: chlint says it needs a secret; the server let it in without one"
            )),
            _ => {}
        }
        // Networks: seen from beyond loopback (when something answers there).
        let answered: Vec<Outcome> = far
            .iter()
            .copied()
            .filter(|o| {
                matches!(
                    o,
                    Outcome::Accepted | Outcome::NeedsPassword | Outcome::NotFromHere
                )
            })
            .collect();
        if !answered.is_empty() {
            let refused_here = answered.iter().all(|o| *o == Outcome::NotFromHere);
            if model.any && refused_here {
                problems.push(format!(
                    "user {name}: chlint says any address may log in; the server refuses 10.77.0.2"
                ));
            }
            if model.loopback_only && !refused_here {
                problems.push(format!(
                    "user {name}: chlint says loopback only; the server answers 10.77.0.2 with {answered:?}"
                ));
            }
        }
    }

    // 4. CH101 / CH102 exactly when the server let a user in without a
    // password from beyond loopback.
    let ch101 = findings.get("CH101").is_some_and(|s| s.contains("default"));
    let default_in = accepted_beyond.contains("default");
    if ch101 != default_in {
        problems.push(format!(
            "CH101 {} but the server {} `default` in without a password from beyond loopback",
            if ch101 { "fires" } else { "is silent" },
            if default_in { "lets" } else { "does not let" }
        ));
    }
    let ch102: BTreeSet<String> = findings.get("CH102").cloned().unwrap_or_default();
    let others_in: BTreeSet<String> = accepted_beyond
        .iter()
        .filter(|n| *n != "default")
        .cloned()
        .collect();
    if pair.is_some() && ch102 != others_in {
        problems.push(format!(
            "CH102 names {ch102:?}; the server let {others_in:?} in without a password from beyond loopback"
        ));
    }

    if !problems.is_empty() {
        return Err(format!(
            "{}\n--- observed:\n  sockets {seen:?}\n  {}\n--- server messages:\n{}",
            problems.join("\n"),
            notes.join("\n  "),
            run.errors()
        ));
    }
    Ok(Checked {
        ch101,
        probes: prober.count,
        summary: format!(
            "sockets {:?}; CH101 {}; let in from beyond loopback: {:?}",
            seen,
            if ch101 { "fires" } else { "silent" },
            accepted_beyond
        ),
    })
}

/// A loopback address some socket covers, probed from the server's namespace.
fn loopback_vantage<'a>(
    seen: &BTreeSet<(String, u16)>,
    ns: Option<&'a Netns>,
) -> Option<Vantage<'a>> {
    let hosts: BTreeSet<&str> = seen.iter().map(|(h, _)| h.as_str()).collect();
    let host = if hosts.contains("127.0.0.1") || hosts.contains("0.0.0.0") || hosts.contains("::") {
        "127.0.0.1"
    } else if hosts.contains("::1") {
        "::1"
    } else {
        return None;
    };
    Some(Vantage { ns, host })
}
