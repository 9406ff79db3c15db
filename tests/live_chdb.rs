//! Current ClickHouse behaviour through chdb-core (ClickHouse 26.x embedded).
//!
//! For each fixture (`<clickhouse>` roots, `users.d`/`conf.d` overrides,
//! duplicate siblings, clusters, `from_env` on merged elements, YAML) chdb
//! loads the configuration and reports its users (`system.users`), clusters
//! (`system.clusters`), macros and selected server settings; chlint must
//! agree: `chlint inspect` for users (names, authentication kind, networks),
//! `chlint merged` (current ClickHouse, the default) for the rest.
//!
//! chdb-core is built without YAML support, so a YAML fixture is given to
//! chlint as YAML and to chdb as the equivalent XML (the documented mapping,
//! written out by hand): chlint reading the YAML must agree with ClickHouse
//! reading the XML.
//!
//! chdb always logs in as `default` without a password, so every fixture
//! keeps that user open (from `::/0`, with `access_management` to read
//! `system.users`); password and network changes are made to other users.
//! Passwords of `default` are checked live against 18.16
//! (`tests/live_ch18_exposure.rs`).
//!
//! Without `CHLINT_CHDB_PYTHON` the tests print `SKIPPED: …` and pass.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use serde_json::Value;

use chlint::clickhouse::element::Element;
use chlint::source::SourceId;
use chlint::syntax::{xml, Limits};
use common::chdb::Chdb;
use common::live;
use common::overlays::{serialize, Rng, Style, X};
use common::scratch::Scratch;

type Files = &'static [(&'static str, &'static str)];

struct Fixture {
    name: &'static str,
    /// Files both read, over the base configuration (a file of the same
    /// path replaces the base's).
    files: Files,
    /// Files only chlint reads, standing for `xml_twin`, which chdb reads.
    yaml: Files,
    xml_twin: Files,
    env: &'static [(&'static str, &'static str)],
}

const SETTINGS: &[&str] = &["max_connections", "keep_alive_timeout", "listen_backlog"];

const BASE_CONFIG: &str = r#"<clickhouse>
    <path>@DIR@/data/</path>
    <max_connections>4096</max_connections>
    <keep_alive_timeout>10</keep_alive_timeout>
    <user_directories>
        <users_xml><path>@DIR@/users.xml</path></users_xml>
    </user_directories>
    <remote_servers>
        <main>
            <shard>
                <replica><host>m1</host><port>9000</port></replica>
                <replica><host>m2</host><port>9000</port></replica>
            </shard>
        </main>
        <two>
            <shard><replica><host>t1</host><port>9000</port></replica></shard>
            <shard><replica><host>t2</host><port>9440</port></replica></shard>
        </two>
    </remote_servers>
    <macros><shard>01</shard><replica>r1</replica></macros>
</clickhouse>
"#;

const BASE_USERS: &str = r#"<clickhouse>
    <profiles><default/><readonly><readonly>1</readonly></readonly></profiles>
    <quotas><default/></quotas>
    <users>
        <default>
            <password></password>
            <networks><ip>::/0</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
            <access_management>1</access_management>
        </default>
        <readonly>
            <password></password>
            <networks><ip>::1</ip><ip>127.0.0.1</ip></networks>
            <profile>readonly</profile>
            <quota>default</quota>
        </readonly>
        <ops>
            <password_sha256_hex>855b2a791d16018d730886ecd82a059365ab81d4c4ceff3172d23671dc2d12b3</password_sha256_hex>
            <networks><ip>::1</ip><ip>10.0.0.2</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </ops>
    </users>
</clickhouse>
"#;

/// `sha256("s3cret-for-tests")`, `sha1(sha1("s3cret-for-tests"))` need not
/// be real: ClickHouse checks only their length and hex form.
const F: Fixture = Fixture {
    name: "",
    files: &[],
    yaml: &[],
    xml_twin: &[],
    env: &[],
};

const FIXTURES: &[Fixture] = &[
    Fixture { name: "base", ..F },
    Fixture {
        name: "users.d-overrides",
        files: &[
            (
                "users.d/10-readonly.xml",
                r#"<clickhouse><users><readonly>
                    <password remove="1"/>
                    <password_sha256_hex>855b2a791d16018d730886ecd82a059365ab81d4c4ceff3172d23671dc2d12b3</password_sha256_hex>
                    <networks replace="replace"><ip>10.1.2.0/24</ip></networks>
                </readonly></users></clickhouse>"#,
            ),
            (
                "users.d/20-app.xml",
                r#"<clickhouse><users>
                    <app>
                        <password_sha256_hex>855b2a791d16018d730886ecd82a059365ab81d4c4ceff3172d23671dc2d12b3</password_sha256_hex>
                        <networks><ip>10.0.0.0/8</ip><host>example.com</host><host_regexp>^app\d+\.corp$</host_regexp></networks>
                        <profile>default</profile><quota>default</quota>
                    </app>
                    <bob><no_password/><profile>default</profile></bob>
                    <carol>
                        <password_double_sha1_hex>0123456789abcdef0123456789abcdef01234567</password_double_sha1_hex>
                        <networks><ip>fd00::/8</ip></networks>
                    </carol>
                    <erin><password>plain-erin</password><networks><ip>192.168.1.1</ip></networks></erin>
                    <frank><password>plain-frank</password><networks><host_like>%.corp.example</host_like></networks></frank>
                    <gina><password>plain-gina</password><networks><host_like>%</host_like></networks></gina>
                    <!-- 26.9 reads any key starting with `host` as a host name: these are literal names. -->
                </users></clickhouse>"#,
            ),
        ],
        ..F
    },
    Fixture {
        name: "networks-pair-one-to-one",
        files: &[(
            "users.d/nets.xml",
            r#"<clickhouse><users>
                <ops><networks><ip>10.9.9.9</ip></networks></ops>
                <readonly><networks><ip>10.0.0.1</ip></networks></readonly>
            </users></clickhouse>"#,
        )],
        ..F
    },
    Fixture {
        name: "duplicate-sibling-user",
        files: &[(
            "users.d/alice.xml",
            r#"<clickhouse><users>
                <alice><password>a-secret-1</password><networks><ip>::1</ip></networks><profile>default</profile></alice>
                <alice><password>a-secret-2</password><profile>default</profile></alice>
            </users></clickhouse>"#,
        )],
        ..F
    },
    Fixture {
        name: "conf.d-reaches-both",
        files: &[(
            "conf.d/shared.xml",
            r#"<clickhouse><max_connections>2222</max_connections>
                <users><erin><password>plain-erin</password><networks><ip>::1</ip></networks><profile>default</profile><quota>default</quota></erin></users>
            </clickhouse>"#,
        )],
        ..F
    },
    Fixture {
        name: "yandex-roots-mixed-in",
        files: &[
            (
                "config.d/legacy.xml",
                "<yandex><keep_alive_timeout>7</keep_alive_timeout></yandex>",
            ),
            (
                "users.d/legacy.xml",
                r#"<yandex><users><readonly remove="1"/></users></yandex>"#,
            ),
        ],
        ..F
    },
    Fixture {
        name: "clusters-replace-merge-remove",
        files: &[
            (
                "config.d/10-clusters.xml",
                r#"<clickhouse><remote_servers>
                    <main replace="1"><shard><replica><host>n1</host><port>9440</port></replica></shard></main>
                    <two><shard><replica><host>t1b</host></replica></shard></two>
                    <three><shard><replica><host>x1</host></replica></shard></three>
                </remote_servers></clickhouse>"#,
            ),
            (
                "config.d/20-drop.xml",
                r#"<clickhouse><remote_servers><three remove="remove"/></remote_servers>
                    <macros replace="replace"><shard>02</shard></macros></clickhouse>"#,
            ),
        ],
        ..F
    },
    Fixture {
        name: "remove-and-replace-users",
        files: &[(
            "users.d/ops.xml",
            r#"<clickhouse><users>
                <readonly remove="1"/>
                <ops><networks replace="replace"><host_regexp>^ops\d+\.corp$</host_regexp><ip>10.1.0.0/16</ip></networks></ops>
            </users></clickhouse>"#,
        )],
        ..F
    },
    FROM_ENV_MERGED,
    Fixture {
        name: "yaml-users",
        yaml: &[(
            "users.d/people.yaml",
            r#"users:
  alice:
    password_sha256_hex: 855b2a791d16018d730886ecd82a059365ab81d4c4ceff3172d23671dc2d12b3
    networks:
      ip: ['::1', '10.0.0.0/8']
      host: example.com
    profile: default
    quota: default
  bob:
    password:
    profile: default
  ops:
    password_sha256_hex:
      "@remove": 1
    password_double_sha1_hex: 0123456789abcdef0123456789abcdef01234567
  readonly:
    networks:
      "@replace": replace
      ip: '::/0'
"#,
        )],
        xml_twin: &[(
            "users.d/people.xml",
            r#"<clickhouse><users>
                <alice>
                    <password_sha256_hex>855b2a791d16018d730886ecd82a059365ab81d4c4ceff3172d23671dc2d12b3</password_sha256_hex>
                    <networks><ip>::1</ip><ip>10.0.0.0/8</ip><host>example.com</host></networks>
                    <profile>default</profile><quota>default</quota>
                </alice>
                <bob><password/><profile>default</profile></bob>
                <ops>
                    <password_sha256_hex remove="1"/>
                    <password_double_sha1_hex>0123456789abcdef0123456789abcdef01234567</password_double_sha1_hex>
                </ops>
                <readonly><networks replace="replace"><ip>::/0</ip></networks></readonly>
            </users></clickhouse>"#,
        )],
        ..F
    },
    Fixture {
        name: "yaml-config.d",
        yaml: &[(
            "config.d/cluster.yaml",
            r#"max_connections: 555
remote_servers:
  yc:
    shard:
      - replica: {host: a1, port: 9000}
      - replica: {host: b1, port: 9440}
  two:
    "@remove": 1
macros:
  shard: '07'
"#,
        )],
        xml_twin: &[(
            "config.d/cluster.xml",
            r#"<clickhouse><max_connections>555</max_connections>
                <remote_servers>
                    <yc>
                        <shard><replica><host>a1</host><port>9000</port></replica></shard>
                        <shard><replica><host>b1</host><port>9440</port></replica></shard>
                    </yc>
                    <two remove="1"/>
                </remote_servers>
                <macros><shard>07</shard></macros>
            </clickhouse>"#,
        )],
        ..F
    },
    Fixture {
        name: "yaml-main-with-inert-clickhouse-key",
        yaml: &[
            (
                "config.yaml",
                r#"path: @DIR@/data/
max_connections: 3333
keep_alive_timeout: 10
user_directories:
  users_xml:
    path: @DIR@/users.xml
remote_servers:
  main:
    shard:
      replica:
        - {host: m1, port: 9000}
        - {host: m2, port: 9000}
macros: {shard: '01', replica: r1}
"#,
            ),
            (
                "config.d/trap.yaml",
                "clickhouse:\n  max_connections: 1\n",
            ),
        ],
        xml_twin: &[
            (
                "config.xml",
                r#"<clickhouse>
                    <path>@DIR@/data/</path>
                    <max_connections>3333</max_connections>
                    <keep_alive_timeout>10</keep_alive_timeout>
                    <user_directories><users_xml><path>@DIR@/users.xml</path></users_xml></user_directories>
                    <remote_servers><main><shard>
                        <replica><host>m1</host><port>9000</port></replica>
                        <replica><host>m2</host><port>9000</port></replica>
                    </shard></main></remote_servers>
                    <macros><shard>01</shard><replica>r1</replica></macros>
                </clickhouse>"#,
            ),
            (
                "config.d/trap.xml",
                "<clickhouse><clickhouse><max_connections>1</max_connections></clickhouse></clickhouse>",
            ),
        ],
        ..F
    },
];

/// ClickHouse 18.16 ignores `from_env` on an element that merges into an
/// existing one (it does not copy the attribute); current ClickHouse
/// substitutes it. chlint follows current ClickHouse.
const FROM_ENV_MERGED: Fixture = Fixture {
    name: "from_env-on-merged-elements",
    files: &[
        (
            "config.d/env.xml",
            r#"<clickhouse><max_connections from_env="CHLINT_MAXCONN"/>
                <macros><replica from_env="CHLINT_REPLICA"/></macros></clickhouse>"#,
        ),
        (
            "users.d/env.xml",
            r#"<clickhouse><users><ops><networks><ip from_env="CHLINT_NET"/></networks></ops></users></clickhouse>"#,
        ),
    ],
    env: &[
        ("CHLINT_MAXCONN", "777"),
        ("CHLINT_REPLICA", "from-env"),
        ("CHLINT_NET", "10.9.0.0/16"),
    ],
    ..F
};

#[test]
fn chlint_agrees_with_current_clickhouse() {
    let test = "chlint_agrees_with_current_clickhouse";
    let Some(chdb) = Chdb::detect(test) else {
        return;
    };
    let start = Instant::now();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Result<String, String>)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..live::jobs().min(FIXTURES.len()) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(f) = FIXTURES.get(i) else { break };
                let r = check_fixture(&chdb, f);
                results.lock().expect("results").push((i, r));
            });
        }
    });
    let mut results = results.into_inner().expect("results");
    results.sort_by_key(|r| r.0);
    let mut failures = Vec::new();
    for (i, r) in results {
        match r {
            Ok(summary) => eprintln!("ok   {}: {summary}", FIXTURES[i].name),
            Err(e) => failures.push(format!("==== {}\n{e}", FIXTURES[i].name)),
        }
    }
    live::say(&format!(
        "{test}: {} fixtures in {:.1} s: users, clusters, macros and settings compared with \
         chdb-core; {} disagreements",
        FIXTURES.len(),
        start.elapsed().as_secs_f64(),
        failures.len()
    ));
    assert!(
        failures.is_empty(),
        "chlint disagrees with ClickHouse 26.x (chdb-core):\n{}",
        failures.join("\n")
    );
}

/// The version difference itself: on the same files, `merged` for 18.x
/// keeps the old value and the default (current ClickHouse) takes the
/// variable — which is what chdb reports.
#[test]
fn from_env_on_a_merged_element_follows_current_clickhouse() {
    let test = "from_env_on_a_merged_element_follows_current_clickhouse";
    let Some(chdb) = Chdb::detect(test) else {
        return;
    };
    let f = &FROM_ENV_MERGED;
    let layout = Layout::new(f, Reader::Chdb).expect("layout");
    let reported = chdb
        .probe(&layout.main, f.env, SETTINGS)
        .expect("chdb probe");
    let setting = |name: &str| {
        reported["settings"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["name"] == name)
            .and_then(|s| s["value"].as_str().map(String::from))
    };
    assert_eq!(setting("max_connections").as_deref(), Some("777"));
    let value = |version: &str| {
        let out =
            common::run_merged(&layout.main, version, Some(&layout.env_file)).expect("chlint");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tree = parse(&String::from_utf8_lossy(&out.stdout)).expect("merged XML");
        tree.child("max_connections").map(Element::value)
    };
    assert_eq!(
        value("latest").as_deref(),
        Some("777"),
        "chlint's default follows current ClickHouse"
    );
    assert_eq!(
        value("18").as_deref(),
        Some(""),
        "ClickHouse 18.x drops the attribute and the merged element is left empty"
    );
    let users = layout.chlint_users().expect("inspect");
    assert_eq!(
        users["ops"].entries,
        BTreeSet::from(["ip:10.9.0.0/16".to_string(), "ip:10.0.0.2".to_string()])
    );
}

/// Configurations current ClickHouse refuses to start with: `chlint merged`
/// must refuse them too (exit 2).
const REFUSED: &[(&str, Files)] = &[
    (
        "remove-with-replace",
        &[(
            "config.d/x.xml",
            r#"<clickhouse><macros remove="1" replace="1"/></clickhouse>"#,
        )],
    ),
    (
        "two-substitutions",
        &[(
            "config.d/x.xml",
            r#"<clickhouse><chlint_x from_env="CHLINT_V" incl="y"/></clickhouse>"#,
        )],
    ),
    (
        "env-value-not-xml",
        &[(
            "config.d/x.xml",
            r#"<clickhouse><max_connections from_env="CHLINT_BAD"/></clickhouse>"#,
        )],
    ),
    (
        "foreign-root",
        &[(
            "config.d/x.xml",
            "<foo><max_connections>1</max_connections></foo>",
        )],
    ),
    (
        "malformed",
        &[(
            "config.d/x.xml",
            "<clickhouse><max_connections>1</clickhouse>",
        )],
    ),
];

#[test]
fn chlint_refuses_what_current_clickhouse_refuses() {
    let test = "chlint_refuses_what_current_clickhouse_refuses";
    let Some(chdb) = Chdb::detect(test) else {
        return;
    };
    let env: &'static [(&str, &str)] = &[("CHLINT_V", "7"), ("CHLINT_BAD", "12<3")];
    let mut problems = Vec::new();
    for (name, files) in REFUSED {
        let f = Fixture {
            name,
            files,
            env,
            ..F
        };
        let layout = Layout::new(&f, Reader::Chdb).expect("layout");
        let reported = chdb.probe(&layout.main, env, &[]).expect("chdb probe");
        if reported.get("error").is_none() {
            problems.push(format!(
                "{name}: ClickHouse accepted it (the fixture is wrong)"
            ));
        }
        let out = common::run_merged(&layout.main, "latest", Some(&layout.env_file))
            .expect("chlint runs");
        if out.status.code() != Some(2) {
            problems.push(format!(
                "{name}: ClickHouse refuses it; `chlint merged` exited {:?}",
                out.status.code()
            ));
        }
    }
    live::say(&format!(
        "{test}: {} configurations ClickHouse 26.x refuses; chlint disagrees on {}",
        REFUSED.len(),
        problems.len()
    ));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------
// Laying fixtures out

#[derive(Clone, Copy, PartialEq)]
enum Reader {
    Chlint,
    Chdb,
}

struct Layout {
    dir: Scratch,
    main: PathBuf,
    env_file: PathBuf,
}

impl Layout {
    fn new(f: &Fixture, reader: Reader) -> Result<Layout, String> {
        let own = match reader {
            Reader::Chlint => f.yaml,
            Reader::Chdb => f.xml_twin,
        };
        let all: Vec<(&str, &str)> = f.files.iter().chain(own.iter()).copied().collect();
        Layout::with(f.name, &all, f.env)
    }

    /// `files` over the base configuration, and `env` as the environment.
    fn with(name: &str, all: &[(&str, &str)], env: &[(&str, &str)]) -> Result<Layout, String> {
        let dir = Scratch::new(&format!("chdb-{name}"))?;
        let root = dir.path().to_path_buf();
        let has = |p: &str| all.iter().any(|(q, _)| *q == p);
        let yaml_main = has("config.yaml");
        let mut files: Vec<(&str, &str)> = Vec::new();
        if !has("config.xml") && !yaml_main {
            files.push(("config.xml", BASE_CONFIG));
        }
        if !has("users.xml") {
            files.push(("users.xml", BASE_USERS));
        }
        files.extend(all.iter().copied());
        for (path, text) in files {
            let p = root.join(path);
            if let Some(parent) = p.parent() {
                fs::create_dir_all(parent).map_err(|e| e.to_string())?;
            }
            fs::write(&p, text.replace("@DIR@", &root.display().to_string()))
                .map_err(|e| format!("{}: {e}", p.display()))?;
        }
        let env_file = root.join("chlint.env");
        let env: String = env.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        fs::write(&env_file, env).map_err(|e| e.to_string())?;
        // The env file sits beside the configuration; it is not one.
        let main = root.join(if yaml_main {
            "config.yaml"
        } else {
            "config.xml"
        });
        Ok(Layout {
            dir,
            main,
            env_file,
        })
    }

    fn chlint_users(&self) -> Result<BTreeMap<String, UserView>, String> {
        let out = common::run_chlint([
            std::ffi::OsStr::new("inspect"),
            self.main.as_os_str(),
            std::ffi::OsStr::new("--env-file"),
            self.env_file.as_os_str(),
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
        Ok(server["users"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|u| {
                (
                    u["name"].as_str().unwrap_or_default().to_string(),
                    UserView::from_chlint(u),
                )
            })
            .collect())
    }

    fn chlint_merged(&self) -> Result<Element, String> {
        let out = common::run_merged(&self.main, "latest", Some(&self.env_file))?;
        if !out.status.success() {
            return Err(format!(
                "chlint merged failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        parse(&String::from_utf8_lossy(&out.stdout))
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

fn parse(text: &str) -> Result<Element, String> {
    xml::parse(SourceId(0), text, &Limits::default())
        .map_err(|e| format!("chlint's output does not parse: {e:?}\n{text}"))
}

// ---------------------------------------------------------------------------
// Views both sides are reduced to

/// A user as far as both can tell: ClickHouse's authentication type, and
/// its networks (any address; otherwise the entries).
#[derive(Clone, Debug, PartialEq, Eq)]
struct UserView {
    auth: String,
    any: bool,
    entries: BTreeSet<String>,
    loopback_only: bool,
}

fn norm_ip(ip: &str) -> String {
    let ip = ip.trim().to_ascii_lowercase();
    let ip = ip
        .strip_suffix("/32")
        .or_else(|| ip.strip_suffix("/128"))
        .unwrap_or(&ip)
        .to_string();
    ip
}

impl UserView {
    fn from_chlint(u: &Value) -> UserView {
        let element = u["auth"]["element"].as_str().unwrap_or("none");
        let auth = match element {
            "password" => "plaintext_password",
            "password_sha256_hex" => "sha256_password",
            "password_double_sha1_hex" => "double_sha1_password",
            "password_scram_sha256_hex" => "scram_sha256_password",
            "password_bcrypt_hash" => "bcrypt_password",
            "no_password" => "no_password",
            "ldap" => "ldap",
            "kerberos" => "kerberos",
            "ssl_certificates" => "ssl_certificate",
            "ssh_keys" => "ssh_key",
            "http_authentication" => "http",
            other => other,
        }
        .to_string();
        let any = u["networks"]["any"].as_bool().unwrap_or(false);
        let mut entries = BTreeSet::new();
        if !any {
            for e in u["networks"]["entries"].as_array().into_iter().flatten() {
                let value = e["value"].as_str().unwrap_or_default();
                entries.insert(match e["kind"].as_str().unwrap_or_default() {
                    "ip" => match norm_ip(value).as_str() {
                        "127.0.0.1" | "::1" => "host:localhost".to_string(),
                        ip => format!("ip:{ip}"),
                    },
                    "host" => format!("host:{}", value.trim().to_ascii_lowercase()),
                    "host_regexp" => format!("regexp:{}", value.trim()),
                    other => format!("{other}:{value}"),
                });
            }
        }
        UserView {
            auth,
            any,
            entries,
            loopback_only: u["networks"]["loopback_only"].as_bool().unwrap_or(false),
        }
    }

    fn from_chdb(u: &Value) -> UserView {
        let list = |k: &str| -> Vec<String> {
            u[k].as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        };
        let auth = list("auth_type").first().cloned().unwrap_or_default();
        let ips = list("host_ip");
        let any = ips.iter().any(|ip| ip == "::/0");
        let mut entries = BTreeSet::new();
        if !any {
            entries.extend(ips.iter().map(|ip| format!("ip:{}", norm_ip(ip))));
            entries.extend(
                list("host_names")
                    .iter()
                    .map(|h| format!("host:{}", h.to_ascii_lowercase())),
            );
            entries.extend(
                list("host_names_regexp")
                    .iter()
                    .map(|r| format!("regexp:{r}")),
            );
            entries.extend(list("host_names_like").iter().map(|l| format!("like:{l}")));
        }
        let loopback_only =
            !any && !entries.is_empty() && entries.iter().all(|e| e == "host:localhost");
        UserView {
            auth,
            any,
            entries,
            loopback_only,
        }
    }
}

fn chdb_users(v: &Value) -> BTreeMap<String, UserView> {
    v["users"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|u| {
            (
                u["name"].as_str().unwrap_or_default().to_string(),
                UserView::from_chdb(u),
            )
        })
        .collect()
}

/// (cluster, shard, replica) → (host, port), from chdb.
fn chdb_clusters(v: &Value) -> BTreeMap<(String, u64, u64), (String, u64)> {
    v["clusters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                (
                    c["cluster"].as_str().unwrap_or_default().to_string(),
                    c["shard_num"].as_u64().unwrap_or(0),
                    c["replica_num"].as_u64().unwrap_or(0),
                ),
                (
                    c["host_name"].as_str().unwrap_or_default().to_string(),
                    c["port"].as_u64().unwrap_or(0),
                ),
            )
        })
        .collect()
}

/// The same from chlint's merged tree: `remote_servers/CLUSTER/shard/replica`
/// in order (current ClickHouse requires a port; 0 stands for none).
fn chlint_clusters(root: &Element) -> BTreeMap<(String, u64, u64), (String, u64)> {
    let mut out = BTreeMap::new();
    let Some(rs) = root.child("remote_servers") else {
        return out;
    };
    for cluster in rs.elements() {
        for (s, shard) in cluster.children_named("shard").enumerate() {
            for (r, replica) in shard.children_named("replica").enumerate() {
                let host = replica
                    .child("host")
                    .map(Element::value)
                    .unwrap_or_default();
                let port = replica
                    .child("port")
                    .and_then(|p| p.value().parse().ok())
                    .unwrap_or(0);
                out.insert(
                    (cluster.name.clone(), s as u64 + 1, r as u64 + 1),
                    (host, port),
                );
            }
        }
    }
    out
}

fn check_fixture(chdb: &Chdb, f: &Fixture) -> Result<String, String> {
    let for_chdb = Layout::new(f, Reader::Chdb)?;
    let for_chlint = if f.yaml.is_empty() {
        None
    } else {
        Some(Layout::new(f, Reader::Chlint)?)
    };
    let reported = chdb.probe(&for_chdb.main, f.env, SETTINGS)?;
    if let Some(e) = reported.get("error") {
        return Err(format!("chdb refused the configuration: {e}"));
    }
    // chlint reads the XML layout, and the YAML one when there is one.
    let mut layouts = vec![("XML", &for_chdb)];
    if let Some(l) = &for_chlint {
        layouts.push(("YAML", l));
    }
    compare(&reported, &layouts, &for_chdb)
}

/// chlint on each layout against what chdb reported; a summary, or the
/// disagreements.
fn compare(reported: &Value, layouts: &[(&str, &Layout)], read: &Layout) -> Result<String, String> {
    let mut problems = Vec::new();
    let mut counts = (0, 0, 0);
    for (what, layout) in layouts {
        let at = |p: String| format!("[{what} layout] {p}");

        let theirs = chdb_users(reported);
        let ours = layout.chlint_users()?;
        let names = |m: &BTreeMap<String, UserView>| m.keys().cloned().collect::<BTreeSet<_>>();
        if names(&theirs) != names(&ours) {
            problems.push(at(format!(
                "users: ClickHouse has {:?}, chlint {:?}",
                names(&theirs),
                names(&ours)
            )));
        }
        for (name, t) in &theirs {
            let Some(o) = ours.get(name) else { continue };
            if t != o {
                problems.push(at(format!("user {name}: ClickHouse {t:?}, chlint {o:?}")));
            }
        }
        counts.0 = theirs.len();

        let merged = layout.chlint_merged()?;
        let (tc, oc) = (chdb_clusters(reported), chlint_clusters(&merged));
        if tc != oc {
            problems.push(at(format!(
                "clusters: ClickHouse has {tc:?}, chlint's merged remote_servers {oc:?}"
            )));
        }
        counts.1 = tc.len();

        let their_macros: BTreeMap<String, String> = reported["macros"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| {
                (
                    m["macro"].as_str().unwrap_or_default().to_string(),
                    m["substitution"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        let our_macros: BTreeMap<String, String> = merged
            .child("macros")
            .map(|m| m.elements().map(|e| (e.name.clone(), e.value())).collect())
            .unwrap_or_default();
        if their_macros != our_macros {
            problems.push(at(format!(
                "macros: ClickHouse has {their_macros:?}, chlint {our_macros:?}"
            )));
        }

        for s in reported["settings"].as_array().into_iter().flatten() {
            let name = s["name"].as_str().unwrap_or_default();
            let value = s["value"].as_str().unwrap_or_default();
            let changed = s["changed"].as_u64().unwrap_or(0) != 0;
            let ours = merged.find(&name.replace('.', "/")).map(Element::value);
            let agree = match &ours {
                Some(v) => v == value,
                None => !changed,
            };
            if !agree {
                problems.push(at(format!(
                    "setting {name}: ClickHouse has {value:?} (changed={changed}), chlint {ours:?}"
                )));
            }
            counts.2 += 1;
        }
    }
    if problems.is_empty() {
        Ok(format!(
            "{} users, {} cluster replicas, {} settings agree",
            counts.0, counts.1, counts.2
        ))
    } else {
        Err(format!(
            "{}\n(chdb read {}; chdb reported {})",
            problems.join("\n"),
            read.path().display(),
            reported
        ))
    }
}

// ---------------------------------------------------------------------------
// Generated overlays against current ClickHouse

/// Users the generated overlays add, change and remove (`default` stays as
/// chdb needs it).
const GEN_USERS: &[&str] = &["alice", "bob", "readonly", "ops"];
const GEN_IPS: &[&str] = &[
    "::/0",
    "::1",
    "127.0.0.1",
    "10.0.0.0/8",
    "192.168.1.1",
    "fd00::/8",
];
const GEN_NAMES: &[&str] = &[
    "10-a.xml", "9-a.xml", "A.xml", "a.xml", "Z.XML", "b.conf", "_u.xml", "z.xml",
];

struct GenCase {
    name: String,
    files: Vec<(String, String)>,
    env: Vec<(String, String)>,
}

fn gen_networks(rng: &mut Rng) -> X {
    let mut n = X::new("networks");
    for _ in 0..rng.range(1, 3) {
        n = match rng.below(5) {
            0 => n.kid(X::leaf("host", rng.pick(&["localhost", "example.com"]))),
            1 => n.kid(X::leaf("host_regexp", "^app\\d+\\.corp$")),
            _ => n.kid(X::leaf("ip", rng.pick(GEN_IPS))),
        };
    }
    n
}

fn gen_auth(rng: &mut Rng) -> X {
    match rng.below(5) {
        0 => X::leaf("password", "plain-secret"),
        1 => X::new("password"),
        2 => X::leaf(
            "password_sha256_hex",
            "855b2a791d16018d730886ecd82a059365ab81d4c4ceff3172d23671dc2d12b3",
        ),
        3 => X::leaf(
            "password_double_sha1_hex",
            "0123456789abcdef0123456789abcdef01234567",
        ),
        _ => X::new("no_password"),
    }
}

/// Case `index` of the modern generator: users, clusters, macros and
/// settings changed over `users.d`, `config.d` and `conf.d`.
fn gen_modern(seed: u64, index: usize) -> GenCase {
    let mut rng = Rng::new(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut env = Vec::new();
    // (dir, name) -> root element being built
    let mut files: Vec<(String, X)> = Vec::new();
    let mut put = |rng: &mut Rng, users: bool, path: &[&str], node: X| {
        let dir = match (users, rng.percent(25)) {
            (_, true) => "conf.d",
            (true, false) => "users.d",
            (false, false) => "config.d",
        };
        let file = format!("{dir}/{}", rng.pick(GEN_NAMES));
        let i = match files.iter().position(|(f, _)| *f == file) {
            Some(i) => i,
            None => {
                let root = if rng.percent(20) {
                    "yandex"
                } else {
                    "clickhouse"
                };
                files.push((file, X::new(root)));
                files.len() - 1
            }
        };
        let mut x = node;
        for p in path.iter().rev() {
            x = X::new(p).kid(x);
        }
        files[i].1.kids.push(common::overlays::K::E(x));
    };
    for _ in 0..rng.range(1, 4) {
        match rng.below(10) {
            0 | 1 => {
                let name = rng.pick(GEN_USERS);
                let mut u = X::new(name).kid(gen_auth(&mut rng));
                if rng.percent(70) {
                    u = u.kid(gen_networks(&mut rng));
                }
                put(
                    &mut rng,
                    true,
                    &["users"],
                    u.kid(X::leaf("profile", "default")),
                );
            }
            2 => {
                let name = rng.pick(GEN_USERS);
                let mut n = gen_networks(&mut rng);
                if rng.percent(50) {
                    n = n.attr("replace", "replace");
                }
                put(&mut rng, true, &["users", name], n);
            }
            3 => {
                let name = rng.pick(GEN_USERS);
                let node = match rng.below(3) {
                    0 => X::new(name).attr("remove", "1"),
                    1 => X::new(name).kid(X::new("networks").attr("remove", "1")),
                    _ => X::new(name)
                        .kid(X::new("password").attr("remove", "1"))
                        .kid(X::new("password_sha256_hex").attr("remove", "1"))
                        .kid(gen_auth(&mut rng)),
                };
                put(&mut rng, true, &["users"], node);
            }
            4 => {
                // Two siblings of one name in one file.
                let name = rng.pick(GEN_USERS);
                let a = X::new(name).kid(gen_auth(&mut rng));
                let b = X::new(name).kid(gen_auth(&mut rng));
                put(&mut rng, true, &[], X::new("users").kid(a).kid(b));
            }
            5 | 6 => {
                let cluster = rng.pick(&["main", "two", "extra"]);
                let mut c = X::new(cluster);
                for _ in 0..rng.range(1, 2) {
                    let mut shard = X::new("shard");
                    for _ in 0..rng.range(1, 2) {
                        shard = shard.kid(
                            X::new("replica")
                                .kid(X::leaf("host", rng.pick(&["h1", "h2", "h3"])))
                                .kid(X::leaf("port", rng.pick(&["9000", "9440"]))),
                        );
                    }
                    c = c.kid(shard);
                }
                match rng.below(4) {
                    0 => c = c.attr("replace", "1"),
                    1 => c = X::new(cluster).attr("remove", "1"),
                    _ => {}
                }
                put(&mut rng, false, &["remote_servers"], c);
            }
            7 => {
                let m = match rng.below(3) {
                    0 => X::new("macros")
                        .attr("replace", "1")
                        .kid(X::leaf("shard", "09")),
                    1 => X::new("macros").kid(X::leaf("replica", "r9")),
                    _ => X::new("macros").kid(X::leaf("layer", "l1")),
                };
                put(&mut rng, false, &[], m);
            }
            8 => {
                let key = rng.pick(&["max_connections", "keep_alive_timeout"]);
                let v = rng.pick(&["11", "222", "3333"]);
                let node = if rng.percent(40) {
                    let var = format!("CHLINT_GEN_{}", env.len() + 1);
                    env.push((var.clone(), v.to_string()));
                    X::new(key).attr("from_env", &var)
                } else {
                    X::leaf(key, v)
                };
                put(&mut rng, false, &[], node);
            }
            _ => {
                // from_env inside a user's networks, merged into an entry.
                let var = format!("CHLINT_GEN_{}", env.len() + 1);
                env.push((var.clone(), rng.pick(&["10.7.0.0/16", "::1"]).to_string()));
                let name = rng.pick(&["readonly", "ops"]);
                put(
                    &mut rng,
                    true,
                    &["users", name, "networks"],
                    X::new("ip").attr("from_env", &var),
                );
            }
        }
    }
    let style = Style {
        pretty: true,
        declaration: false,
    };
    GenCase {
        name: format!("modern-{index:03}"),
        files: files
            .into_iter()
            .map(|(f, x)| (f, serialize(&x, style)))
            .collect(),
        env,
    }
}

#[test]
fn generated_overlays_agree_with_current_clickhouse() {
    let test = "generated_overlays_agree_with_current_clickhouse";
    let Some(chdb) = Chdb::detect(test) else {
        return;
    };
    let seed = std::env::var("CHLINT_LIVE_SEED")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0x6368_6462);
    let n = live::env_usize("CHLINT_CHDB_CASES", 40);
    let cases: Vec<GenCase> = (0..n).map(|i| gen_modern(seed, i)).collect();
    let start = Instant::now();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Verdict)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..live::jobs().min(cases.len().max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(c) = cases.get(i) else { break };
                let r = check_generated(&chdb, c);
                results.lock().expect("results").push((i, r));
            });
        }
    });
    let mut results = results.into_inner().expect("results");
    results.sort_by_key(|r| r.0);
    let (mut agreed, mut refused) = (0, Vec::new());
    let mut failures = Vec::new();
    for (i, r) in results {
        match r {
            Ok(None) => agreed += 1,
            Ok(Some(why)) => refused.push(format!("{}: {why}", cases[i].name)),
            Err(e) => {
                let files: String = cases[i]
                    .files
                    .iter()
                    .map(|(p, t)| format!("--- {p}\n{t}"))
                    .collect();
                failures.push(format!(
                    "==== {} (env {:?})\n{e}\n{files}",
                    cases[i].name, cases[i].env
                ));
            }
        }
    }
    for r in &refused {
        eprintln!("refused by ClickHouse (not compared): {r}");
    }
    live::say(&format!(
        "{test}: seed {seed:#x}, {n} cases in {:.1} s: {agreed} agree, {} refused by ClickHouse \
         (not compared), {} disagree",
        start.elapsed().as_secs_f64(),
        refused.len(),
        failures.len()
    ));
    assert!(
        failures.is_empty(),
        "chlint disagrees with ClickHouse 26.x (chdb-core):\n{}",
        failures.join("\n")
    );
    assert!(
        agreed * 2 >= n,
        "only {agreed} of {n} generated cases were accepted by ClickHouse"
    );
}

/// `Ok(None)`: agreed; `Ok(Some(why))`: ClickHouse refused it; `Err`: a
/// disagreement.
type Verdict = Result<Option<String>, String>;

fn check_generated(chdb: &Chdb, c: &GenCase) -> Verdict {
    let files: Vec<(&str, &str)> = c
        .files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let env: Vec<(&str, &str)> = c
        .env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let layout = Layout::with(&c.name, &files, &env)?;
    let reported = chdb.probe(&layout.main, &env, SETTINGS)?;
    if let Some(e) = reported.get("error") {
        // Refused: chlint may or may not see why (not every reason is a
        // merge error); it must not claim a merge error ClickHouse lacks.
        return Ok(Some(e.to_string().chars().take(160).collect()));
    }
    let out = common::run_merged(&layout.main, "latest", Some(&layout.env_file))?;
    if out.status.code() == Some(2) {
        return Err(format!(
            "ClickHouse accepted it; `chlint merged` refused it: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    compare(&reported, &[("XML", &layout)], &layout).map(|_| None)
}
