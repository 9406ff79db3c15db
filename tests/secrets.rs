//! Property: whatever secret values a repository holds, no output format
//! prints them. A fixed-seed generator writes many configurations holding
//! random secrets in every place ClickHouse keeps one (XML and YAML users,
//! interserver credentials, ZooKeeper identity, S3 keys, cluster replicas,
//! password hashes, an include file; compose environment, a Kubernetes
//! ConfigMap, Helm values, an operator's users, Terraform literals,
//! defaults and tfvars) and malformed files holding a password; chlint runs
//! once per output format (human, JSON, SARIF, GitHub, inspect, and a
//! written baseline) over all of them, and
//! neither the secrets nor any 8-character piece of one may appear in its
//! stdout or stderr. Every secret is on a line some finding points at (its
//! primary or a related location, from the JSON report): without masking,
//! each would be quoted, so each case really tests the masking.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Fixture sets generated (each a dozen folders).
const SETS: usize = 16;
/// Shortest piece of a secret that must not appear.
const WINDOW: usize = 8;

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// A secret of 8 to 40 characters from `alphabet`.
    fn secret(&mut self, alphabet: &str) -> String {
        let chars: Vec<char> = alphabet.chars().collect();
        let len = 8 + self.below(33);
        (0..len).map(|_| chars[self.below(chars.len())]).collect()
    }
}

const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// Safe in XML text without escaping (no `&`, `<`, `>`).
const XML_TEXT: &str =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%()*+,-./:;=?@[]^_{|}~";
const HEX: &str = "0123456789abcdef";

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// A YAML double-quoted scalar.
fn yq(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// One set of fixtures under `dir`; returns every secret written.
fn fixtures(rng: &mut Rng, dir: &Path) -> Vec<String> {
    let mut secrets = Vec::new();
    let mut secret = |rng: &mut Rng, alphabet: &str| {
        let s = rng.secret(alphabet);
        secrets.push(s.clone());
        s
    };
    let listen =
        "<listen_host>0.0.0.0</listen_host><http_port>8123</http_port><tcp_port>9000</tcp_port>";

    // XML users file, plaintext and hashed, beside an exposed server.
    let pw = secret(rng, XML_TEXT);
    let hash = format!("{:0<64}", rng.secret(HEX));
    write(
        dir,
        "xml-users/config.xml",
        &format!("<clickhouse>\n  {listen}\n  <path>/var/lib/clickhouse/</path>\n  <users_config>users.xml</users_config>\n</clickhouse>\n"),
    );
    write(
        dir,
        "xml-users/users.xml",
        &format!(
            "<clickhouse>\n  <users>\n    <alice>\n      <password>{pw}</password>\n      <networks><ip>::/0</ip></networks>\n      <access_management>1</access_management>\n    </alice>\n    <bob><password_sha256_hex>{hash}</password_sha256_hex></bob>\n  </users>\n  <profiles><default/></profiles>\n  <quotas><default/></quotas>\n</clickhouse>\n"
        ),
    );

    // YAML users (plain, quoted and block scalars), in users.d.
    let (plain, quoted, block) = (
        secret(rng, ALNUM),
        secret(rng, XML_TEXT),
        secret(rng, ALNUM),
    );
    write(
        dir,
        "yaml-users/config.yaml",
        "listen_host: 0.0.0.0\nhttp_port: 8123\npath: /var/lib/clickhouse/\nusers_config: users.yaml\n",
    );
    write(dir, "yaml-users/users.yaml", "profiles:\n  default: {}\n");
    write(
        dir,
        "yaml-users/users.d/users.yaml",
        &format!(
            "users:\n  carol:\n    password: x{plain}\n  dave:\n    password: {}\n  erin:\n    password: |\n      {block}\n",
            yq(&quoted)
        ),
    );

    // Server secrets: interserver, ZooKeeper, S3, cluster replicas, an include file.
    let (inter, ident, s3, replica, inc) = (
        secret(rng, XML_TEXT),
        secret(rng, XML_TEXT),
        secret(rng, ALNUM),
        secret(rng, XML_TEXT),
        secret(rng, XML_TEXT),
    );
    write(
        dir,
        "server/config.xml",
        &format!(
            "<clickhouse>\n  {listen}\n  <path>/var/lib/clickhouse/</path>\n  <include_from>metrika.xml</include_from>\n  <interserver_http_port>9009</interserver_http_port>\n  <interserver_http_credentials>\n    <user>inter</user>\n    <password>{inter}</password>\n  </interserver_http_credentials>\n  <zookeeper>\n    <node><host>zk1.internal</host><port>2181</port></node>\n    <identity>user:{ident}</identity>\n  </zookeeper>\n  <storage_configuration><disks><s3><type>s3</type><endpoint>https://s3.example.com/b/</endpoint><access_key_id>AKIAEXAMPLE</access_key_id><secret_access_key>{s3}</secret_access_key></s3></disks></storage_configuration>\n  <remote_servers>\n    <c>\n      <shard>\n        <replica><host>ch2.internal</host><port>9000</port><user>default</user><password>{replica}</password></replica>\n      </shard>\n    </c>\n  </remote_servers>\n  <users><default><password incl=\"pw\"/></default></users>\n</clickhouse>\n"
        ),
    );
    write(
        dir,
        "server/metrika.xml",
        &format!("<clickhouse>\n  <pw>{inc}</pw>\n</clickhouse>\n"),
    );

    // The same in YAML.
    let (yinter, yident, ys3) = (
        secret(rng, ALNUM),
        secret(rng, XML_TEXT),
        secret(rng, ALNUM),
    );
    write(
        dir,
        "server-yaml/config.yaml",
        &format!(
            "listen_host: 0.0.0.0\nhttp_port: 8123\npath: /var/lib/clickhouse/\ninterserver_http_port: 9009\ninterserver_http_credentials:\n  user: inter\n  password: {yinter}\nzookeeper:\n  node:\n    host: zk1.internal\n  identity: {}\ns3:\n  ep:\n    endpoint: https://s3.example.com/b/\n    secret_access_key: {ys3}\n",
            yq(&format!("user:{yident}"))
        ),
    );

    // Malformed files holding a password, the error on or near its line.
    let bad = secret(rng, XML_TEXT);
    let bad_xml = match rng.below(5) {
        0 => format!("<clickhouse>\n  <users><default><password>{bad}</pasword></default></users>\n</clickhouse>\n"),
        1 => format!("<clickhouse>\n  <users><default><password>\n    {bad}</pasword>\n  </default></users>\n</clickhouse>\n"),
        2 => format!("<clickhouse>\n  <users><default><password>{bad}"),
        3 => format!("<clickhouse>\n  <users><default><password>{bad}&nope;</password></default></users>\n</clickhouse>\n"),
        _ => format!("<clickhouse>\n  <interserver_http_credentials><password>{bad}</password> <<broken\n</clickhouse>\n"),
    };
    write(dir, "bad-xml/config.xml", &bad_xml);
    let ybad = secret(rng, ALNUM);
    let bad_yaml = match rng.below(5) {
        0 => format!("users:\n  default:\n    password: {ybad}: bad\n"),
        1 => format!("users:\n  default:\n    password: \"{ybad}\n"),
        2 => format!("users:\n  default: {{password: {ybad}, ]\n"),
        3 => format!("listen_host: 0.0.0.0\nzookeeper:\n  identity: u:{ybad}: x\n"),
        _ => format!("users:\n  default:\n    password:\n      {ybad} : :\n"),
    };
    // users.d/ is read only beside the file `users_config` names.
    write(dir, "bad-yaml/users.d/u.yaml", &bad_yaml);
    write(
        dir,
        "bad-yaml/config.yaml",
        "listen_host: 0.0.0.0\npath: /p/\nusers_config: users.yaml\n",
    );
    write(dir, "bad-yaml/users.yaml", "profiles:\n  default: {}\n");

    // Deployment files: compose environment, Helm values, an operator's users.
    let (compose, compose_list, helm, chi) = (
        secret(rng, ALNUM),
        secret(rng, ALNUM),
        secret(rng, ALNUM),
        secret(rng, ALNUM),
    );
    write(
        dir,
        "compose/docker-compose.yml",
        &format!(
            "services:\n  clickhouse:\n    image: clickhouse/clickhouse-server:25.3\n    ports:\n      - \"8123:8123\"\n    environment:\n      CLICKHOUSE_USER: app\n      CLICKHOUSE_PASSWORD: {compose}\n  replica:\n    image: clickhouse/clickhouse-server:25.3\n    environment:\n      - CLICKHOUSE_PASSWORD=${{CLICKHOUSE_PASSWORD:-{compose_list}}}\n"
        ),
    );
    write(
        dir,
        "helm/Chart.yaml",
        "apiVersion: v2\nname: clickhouse\nversion: 9.4.7\n",
    );
    write(
        dir,
        "helm/values.yaml",
        &format!(
            "image:\n  repository: bitnami/clickhouse\nauth:\n  username: admin\n  password: {helm}\nservice:\n  type: LoadBalancer\n"
        ),
    );
    write(
        dir,
        "operator/chi.yaml",
        &format!(
            "apiVersion: clickhouse.altinity.com/v1\nkind: ClickHouseInstallation\nmetadata:\n  name: x\nspec:\n  configuration:\n    users:\n      app/password: {chi}\n      app/networks/ip: \"::/0\"\n    clusters:\n      - name: main\n"
        ),
    );

    // A user named after nothing secret, with a weak password (CH105).
    let weak = rng
        .pick(&["hunter22", "Tr0ub4dor", "qwertyuiop"])
        .to_string()
        + &rng.secret(HEX)[..2];
    write(
        dir,
        "weak/config.xml",
        &format!("<clickhouse>\n  {listen}\n  <path>/p/</path>\n  <users><frank><password>{weak}</password><networks><ip>::/0</ip></networks></frank></users>\n</clickhouse>\n"),
    );
    // Deployments: a Kubernetes ConfigMap embedding a users file, and
    // Terraform literals, variables and tfvars.
    let (kpw, tflit, tfdef, tfvars) = (
        secret(rng, ALNUM),
        secret(rng, ALNUM),
        secret(rng, ALNUM),
        secret(rng, ALNUM),
    );
    write(
        dir,
        "k8s/clickhouse.yaml",
        &format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ch-users\ndata:\n  app.xml: |\n    <clickhouse>\n      <users>\n        <app>\n          <password>{kpw}</password>\n          <networks><ip>::/0</ip></networks>\n        </app>\n      </users>\n    </clickhouse>\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: clickhouse\nspec:\n  selector:\n    matchLabels:\n      app: clickhouse\n  template:\n    metadata:\n      labels:\n        app: clickhouse\n    spec:\n      volumes:\n        - name: users\n          configMap:\n            name: ch-users\n      containers:\n        - name: clickhouse\n          image: clickhouse/clickhouse-server:25.3\n          volumeMounts:\n            - name: users\n              mountPath: /etc/clickhouse-server/users.d\n"
        ),
    );
    write(
        dir,
        "terraform/main.tf",
        &format!(
            "variable \"admin_password\" {{\n  type      = string\n  sensitive = true\n  default   = \"{tfdef}\"\n}}\n\nvariable \"etl_password\" {{\n  type = string\n}}\n\nresource \"clickhouse_service\" \"analytics\" {{\n  name           = \"analytics\"\n  cloud_provider = \"aws\"\n  region         = \"us-east-2\"\n  password       = \"{tflit}\"\n  ip_access      = []\n}}\n\nresource \"yandex_mdb_clickhouse_cluster\" \"events\" {{\n  name        = \"events\"\n  environment = \"PRODUCTION\"\n  network_id  = \"net\"\n  user {{\n    name     = \"admin\"\n    password = var.admin_password\n  }}\n  user {{\n    name     = \"etl\"\n    password = var.etl_password\n  }}\n}}\n"
        ),
    );
    write(
        dir,
        "terraform/terraform.tfvars",
        &format!("etl_password = \"{tfvars}\"\n"),
    );

    secrets.push(hash);
    secrets.push(weak);
    secrets
}

fn run(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_chlint"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("chlint runs");
    let code = out.status.code();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        matches!(code, Some(0 | 1)),
        "`chlint {args:?}` exited with {code:?}\n{stderr}"
    );
    stdout + &stderr
}

/// The first secret (or 8-character piece of one) that `output` contains:
/// every piece of every secret in a set, then one pass over the output.
fn leak(output: &str, secrets: &[String]) -> Option<(String, String)> {
    let mut pieces: HashMap<String, &str> = HashMap::new();
    for s in secrets {
        let chars: Vec<char> = s.chars().collect();
        for w in chars.windows(WINDOW.min(chars.len())) {
            pieces.insert(w.iter().collect(), s);
        }
    }
    let chars: Vec<char> = output.chars().collect();
    chars.windows(WINDOW).find_map(|w| {
        let piece: String = w.iter().collect();
        pieces.get(&piece).map(|s| (s.to_string(), piece.clone()))
    })
}

/// Every (file, line) a finding of a JSON report points at.
fn quoted_lines(json: &str) -> std::collections::HashSet<(String, u64)> {
    // The report, then whatever chlint wrote to stderr.
    let report: serde_json::Value = serde_json::Deserializer::from_str(json)
        .into_iter()
        .next()
        .expect("a JSON report")
        .expect("valid JSON");
    let mut lines = std::collections::HashSet::new();
    for f in report["findings"].as_array().expect("findings") {
        for loc in std::iter::once(f).chain(f["related"].as_array().into_iter().flatten()) {
            let file = loc["file"].as_str().unwrap_or_default().to_string();
            let first = loc["line"].as_u64().unwrap_or(0);
            let last = loc["end_line"].as_u64().unwrap_or(first).max(first);
            for line in first..=last {
                lines.insert((file.clone(), line));
            }
        }
    }
    lines
}

/// Every file under `root` with its text, by path relative to `root`.
fn written_files(root: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if let Ok(text) = fs::read_to_string(&path) {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.push((rel, text));
            }
        }
    }
    out
}

/// The (file, 1-based line) of each place `secret` is written.
fn occurrences(files: &[(String, String)], secret: &str) -> Vec<(String, u64)> {
    files
        .iter()
        .flat_map(|(file, text)| {
            text.match_indices(secret)
                .map(move |(i, _)| (file.clone(), text[..i].matches('\n').count() as u64 + 1))
        })
        .collect()
}

#[test]
fn no_output_format_prints_a_secret() {
    let root: PathBuf = Path::new(env!("CARGO_TARGET_TMPDIR")).join("secrets");
    let _ = fs::remove_dir_all(&root);
    let mut rng = Rng(0x5EC2_E7C0_FFEE_0001);
    let mut secrets = Vec::new();
    for set in 0..SETS {
        secrets.extend(fixtures(&mut rng, &root.join(format!("set{set:02}"))));
    }
    let baseline = root.join("baseline.json");
    let written = run(
        &root,
        &[
            "check",
            "--write-baseline",
            baseline.to_str().expect("UTF-8 path"),
            ".",
        ],
    );
    let outputs = [
        ("human", run(&root, &["check", "."])),
        ("json", run(&root, &["check", "--format", "json", "."])),
        ("sarif", run(&root, &["check", "--format", "sarif", "."])),
        ("github", run(&root, &["check", "--format", "github", "."])),
        ("inspect", run(&root, &["inspect", "."])),
        (
            "baseline",
            written + &fs::read_to_string(&baseline).expect("baseline written"),
        ),
    ];
    // The fixtures do what they are meant to: every kind of finding is there.
    let json = &outputs[1].1;
    for rule in ["CH104", "CH105", "CH401", "CH900", "CH103", "CH450"] {
        assert!(
            json.contains(&format!("\"{rule}\"")),
            "no {rule} in\n{json}"
        );
    }
    assert!(outputs[0].1.contains('*'), "masked lines are shown");
    for (format, output) in &outputs[2..4] {
        assert!(output.contains("CH450"), "no CH450 in {format} output");
    }
    // The malformed users.d files are read (beside `users_config`) and reported.
    for set in 0..SETS {
        let file = format!("set{set:02}/bad-yaml/users.d/u.yaml");
        assert!(
            quoted_lines(json).iter().any(|(f, _)| *f == file),
            "no finding in {file}"
        );
    }
    // Each secret is on a line a finding points at (its primary or a
    // related location): unmasked, a report would quote it.
    let quoted = quoted_lines(json);
    let files = written_files(&root);
    let unquoted: Vec<Vec<(String, u64)>> = secrets
        .iter()
        .map(|secret| occurrences(&files, secret))
        .filter(|at| !at.iter().any(|l| quoted.contains(l)))
        .collect();
    assert!(
        unquoted.is_empty(),
        "secrets on no line a finding points at (so their masking is untested): {unquoted:?}"
    );
    for (format, output) in &outputs {
        if let Some((secret, piece)) = leak(output, &secrets) {
            let line = output.lines().find(|l| l.contains(&piece)).unwrap_or("");
            panic!("{format} output contains `{piece}` of secret `{secret}`:\n{line}");
        }
    }
}
