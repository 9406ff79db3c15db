//! Rule fixtures, table-driven.
//!
//! For every rule there is `testdata/rules/<CODE>/fires/` and
//! `testdata/rules/<CODE>/silent/`: a small configuration folder each. The
//! `fires` folder must yield the rule at exactly the places listed in
//! [`TABLE`] (and nowhere else); the `silent` folder is the close-but-safe
//! variant and must not yield the rule at all. Every rule in
//! `chlint::rules::RULES` must have both folders, a row in the table and a
//! page in `rules/`.
//!
//! The scenario tests at the end run several rules at once: the classic
//! incident, a hardened setup with no findings, and the binary's output,
//! which must never contain a secret value.

use std::path::{Path, PathBuf};
use std::process::Command;

use chlint::check::check_paths;
use chlint::clickhouse::load::Workspace;
use chlint::rules::RULES;
use chlint::settings::Settings;

/// Where a rule is expected in its `fires` folder: file relative to the
/// folder, 1-based line, severity, and a piece of the message ("" = any).
type Expect = (&'static str, usize, &'static str, &'static str);

/// Every rule, with where it must fire in `testdata/rules/<CODE>/fires/`.
#[rustfmt::skip]
const TABLE: &[(&str, &[Expect])] = &[
    // compose: the image's passwordless `default` kept by
    // CLICKHOUSE_SKIP_USER_SETUP, 8123 published on every interface (9000 on
    // loopback only).
    // Terraform: a StatefulSet whose users.d ConfigMap (found by reference)
    // opens `default`, behind a LoadBalancer from a variable default; the
    // Altinity chart with external access, values by yamlencode.
    ("CH001", &[
        ("docker-compose.yml", 9, "critical", "publishes `http_port` (port 8123)"),
        ("terraform-helm/main.tf", 11, "critical", "service template `service` of the Helm values of the Altinity clickhouse chart"),
        ("terraform-k8s/main.tf", 3, "critical", "Service `clickhouse` (LoadBalancer, a public load balancer) publishes `http_port`"),
    ]),
    // Stock users.xml (empty password, ::/0) and a config.d file that binds `::`.
    // Terraform: a Deployment mounts a Secret whose users.d text is file()
    // of the repository; the finding points into that file.
    ("CH101", &[
        ("terraform-secret/users/default.xml", 4, "critical", "user `default` has an empty password"),
        ("users.xml", 15, "critical", "user `default` has an empty password"),
    ]),
    // YAML main config and users file; users.d/etl.xml has the SHA-256 of ""
    // and networks 10.0.0.0/8: restricted but beyond loopback, so high (the
    // page: critical only when open to any network).
    ("CH102", &[
        ("users.d/etl.xml", 5, "high", "user `etl`"),
    ]),
    // users.d/app.xml: a hashed password and no <networks>; points at the user.
    ("CH103", &[
        ("users.d/app.xml", 3, "high", "user `app` has no `<networks>`"),
    ]),
    // An Altinity installation behind a public LoadBalancer, no cluster
    // `secure`: points at the first cluster.
    ("CH350", &[
        ("chi.yaml", 16, "medium", "`spec.configuration.clusters[].secure` defaults to false"),
    ]),
    // Clear passwords: users (XML and YAML), interserver, ZooKeeper identity, replica.
    ("CH104", &[
        ("config.d/replication.xml", 5, "high", "interserver_http_credentials/password"),
        ("config.d/replication.xml", 13, "high", "zookeeper/identity"),
        ("config.d/replication.xml", 23, "high", "remote_servers/*/shard/replica/password"),
        ("users.d/alice.xml", 4, "high", "user `alice`"),
        ("users.d/bob.yaml", 3, "high", "user `bob`"),
    ]),
    // SHA-256 of qwerty, double SHA-1 of admin (YAML), a 7-character plaintext.
    ("CH105", &[
        ("users.d/mysql-clients.yaml", 4, "high", "double SHA-1 of a well-known password"),
        ("users.d/reporting.xml", 5, "high", "SHA-256 of a well-known password"),
        ("users.d/reporting.xml", 13, "high", "shorter than 12 characters"),
    ]),
    // users.d/admin.xml: access_management on a user open to 10.0.0.0/8, listen 0.0.0.0.
    ("CH106", &[
        ("users.d/admin.xml", 10, "high", "user `admin` has `access_management`"),
    ]),
    // Over the shipped users.xml: an encrypted <password> next to the empty one,
    // and <password_sha256_hex> added to a user that has <no_password/>.
    ("CH108", &[
        ("users.d/default-password.xml", 4, "high", "two `<password>` elements"),
        ("users.d/zz-etl-password.xml", 4, "high", "both `<no_password>` and `<password_sha256_hex>`"),
    ]),
    // CLICKHOUSE_SKIP_USER_SETUP in the list form, nothing published: high.
    ("CH120", &[
        ("docker-compose.yml", 6, "high", "`CLICKHOUSE_SKIP_USER_SETUP=1`"),
    ]),
    // CLICKHOUSE_USER without a password, 8123 published (critical); Bitnami
    // ALLOW_EMPTY_PASSWORD on the compose network only (high).
    ("CH121", &[
        ("docker-compose.yml", 7, "critical", "creates user `app`"),
        ("docker-compose.yml", 16, "high", "`ALLOW_EMPTY_PASSWORD=yes`"),
    ]),
    // yandex/clickhouse-server:21.8 without variables, ports published.
    ("CH122", &[
        ("docker-compose.yml", 4, "critical", "`yandex/clickhouse-server:21.8` predates"),
    ]),
    // Over the shipped files, clients on a private address and replication
    // on every interface. CH101 names the client `listen_host` (where CH201
    // would only repeat it), not this one.
    ("CH201", &[
        ("config.d/network.xml", 3, "high", "(`::`)"),
    ]),
    // Package config.xml ports and a PROXY port, bound to a private address.
    ("CH202", &[
        ("config.d/network.xml", 4, "high", "`tcp_with_proxy_port`"),
        ("config.xml", 11, "high", "`http_port`"),
        ("config.xml", 12, "high", "`tcp_port`"),
    ]),
    // YAML listen_host over the shipped ports: the port lines are shipped, so
    // the finding points at the listen_host that exposes them, naming both.
    ("CH203", &[
        ("config.d/network.yaml", 2, "medium", "`mysql_port` (9004) and `postgresql_port` (9005) open"),
    ]),
    // Package interserver_http_port, listen_host on a private address, no credentials.
    ("CH209", &[
        ("config.xml", 15, "high", "`interserver_http_port`"),
    ]),
    // Standalone Keeper: keeper_config.xml port 9181, keeper_config.d binds 0.0.0.0.
    ("CH210", &[
        ("keeper_config.xml", 13, "high", "client port 9181"),
    ]),
    // analytics: no <secret>, replicas without password. reporting: a
    // template rendered `<secret></secret>` (an empty secret is no secret,
    // Cluster.cpp). archive: `<node>` shards (one replica each), which
    // ClickHouse reads like shard/replica.
    ("CH213", &[
        ("config.d/clusters.xml", 3, "high", "cluster `analytics`"),
        ("config.d/legacy-clusters.xml", 4, "high", "cluster `reporting`"),
        ("config.d/legacy-clusters.xml", 11, "high", "cluster `archive`"),
    ]),
    // Terraform: a LoadBalancer Service on 8123/9000 and a NodePort on Keeper's 9181.
    // A public LoadBalancer (two ports, one finding), a NodePort, a hostPort
    // and an Ingress to a ClusterIP Service.
    ("CH250", &[
        ("clickhouse.yaml", 31, "high", "`hostPort: 9000`"),
        ("clickhouse.yaml", 38, "high", "`http_port` (port 8123) and `tcp_port` (port 9000)"),
        ("clickhouse.yaml", 54, "high", "Service `clickhouse-nodeport` (NodePort"),
        ("clickhouse.yaml", 85, "high", "Ingress `clickhouse`"),
        ("terraform/main.tf", 6, "high", "`kubernetes_service.clickhouse` is a LoadBalancer Service"),
        ("terraform/main.tf", 27, "high", "`kubernetes_service_v1.keeper` is a NodePort Service"),
        // Terraform workloads lowered as manifests: host_network, a
        // host_port, a NodePort Service selecting a StatefulSet (its
        // target_port by name), a CHI in kubernetes_manifest; the Bitnami
        // chart by `set` and by a values file read with file().
        ("terraform-helm/legacy-values.yaml", 4, "high", "the per-replica Services of `externalAccess`"),
        ("terraform-helm/main.tf", 11, "high", "the chart's Service (`service.type`) (LoadBalancer"),
        ("terraform-workloads/main.tf", 21, "high", "`hostNetwork: true` of Deployment `clickhouse`"),
        ("terraform-workloads/main.tf", 60, "high", "`hostPort: 9000` of StatefulSet `replica`"),
        ("terraform-workloads/main.tf", 77, "high", "Service `replica` (NodePort"),
        ("terraform-workloads/main.tf", 103, "high", "service template `public` of ClickHouseInstallation `events`"),
    ]),
    // Short form, container port alone, long form with host_ip 0.0.0.0, and a
    // Keeper with host networking; a loopback port stays silent.
    ("CH251", &[
        ("compose.yaml", 7, "high", "`http_port` (port 8123)"),
        ("compose.yaml", 8, "high", "`tcp_port` (port 9000)"),
        ("compose.yaml", 9, "high", "`interserver_http_port` (port 9009)"),
        ("compose.yaml", 15, "high", "`network_mode: host`"),
    ]),
    // Terraform: the world from a variable default, an all-ports IPv6 rule,
    // dynamic blocks (two ports on one line: one finding), a rule linked to
    // its group, GCP, Azure, a local module's argument, and a plan file.
    ("CH252", &[
        ("terraform/main.tf", 17, "critical", "`aws_security_group.clickhouse (ingress #2)` allows `::/0` to all ports"),
        ("terraform/main.tf", 26, "critical", "`aws_security_group.clickhouse (ingress #3, ingress #4)` allows `0.0.0.0/0` to ClickHouse port 9004 (MySQL protocol) and ClickHouse port 9005"),
        ("terraform/main.tf", 37, "critical", "`aws_security_group_rule.keeper` allows `0.0.0.0/0` to ClickHouse port 9181"),
        ("terraform/main.tf", 42, "critical", "`aws_vpc_security_group_ingress_rule.native_tls`"),
        ("terraform/main.tf", 51, "critical", "`google_compute_firewall.clickhouse` allows `0.0.0.0/0` to ports 9000-9010"),
        ("terraform/main.tf", 66, "critical", "`azurerm_network_security_rule.clickhouse_http` allows `*`"),
        ("terraform/main.tf", 74, "critical", "`module.replication.aws_security_group.interserver (ingress #1)`"),
        ("terraform/plan.json", 1, "critical", "`aws_security_group_rule.http_from_plan`"),
        ("terraform/variables.tf", 3, "critical", "`aws_security_group.clickhouse (ingress #1)` allows `0.0.0.0/0` to ClickHouse port 8123"),
    ]),
    // Terraform: ClickHouse Cloud ip_access (a literal, and one from
    // terraform.tfvars), Yandex public IP without security groups, Aiven and
    // Alibaba allow lists.
    ("CH253", &[
        ("terraform/main.tf", 17, "high", "`ip_access` allows `0.0.0.0`"),
        ("terraform/main.tf", 30, "high", "`assign_public_ip = true`"),
        ("terraform/main.tf", 40, "high", "Aiven for ClickHouse `aiven_clickhouse.logs`"),
        ("terraform/main.tf", 48, "high", "`alicloud_click_house_db_cluster.dw`"),
        ("terraform/terraform.tfvars", 1, "high", "`ip_access` allows `0.0.0.0/0`"),
    ]),
    // TLS ports with the package openSSL section (certificate lines commented out).
    ("CH301", &[
        ("config.d/tls.xml", 2, "high", "`https_port`"),
        ("config.d/tls.xml", 3, "high", "`tcp_port_secure`"),
    ]),
    // TLS ports on, disableProtocols left at the package's sslv2,sslv3.
    ("CH302", &[
        ("config.xml", 29, "medium", "tlsv1 and tlsv1_1"),
    ]),
    // openSSL/client: verificationMode none and AcceptCertificateHandler.
    ("CH304", &[
        ("config.d/openssl-client.xml", 5, "high", "`verificationMode` is `none`"),
        ("config.d/openssl-client.xml", 7, "high", "AcceptCertificateHandler"),
    ]),
    // Two remote replicas on port 9000 without <secure>: one finding for the
    // cluster, at its first plaintext replica, counting both.
    ("CH306", &[
        ("config.d/clusters.xml", 8, "medium", "reaches 2 replica(s) on other hosts over plaintext, e.g. `ch-1.eu-west-1.internal`"),
    ]),
    // YAML zookeeper nodes (list of maps) and an auxiliary ZooKeeper, all
    // plaintext: one finding per section, at its first plaintext node.
    ("CH307", &[
        ("config.d/zookeeper.yaml", 3, "medium", "reaches 3 node(s) on other hosts over plaintext, e.g. `keeper-1.internal`"),
        ("config.d/zookeeper.yaml", 15, "medium", "zk-archive-1.internal"),
    ]),
    // S3 and Azure disks, and an s3 endpoint section in YAML.
    ("CH401", &[
        ("config.d/s3-endpoints.yaml", 5, "high", "`secret_access_key` under `s3`"),
        ("config.d/storage.xml", 8, "high", "`secret_access_key` under `storage_configuration`"),
        ("config.d/storage.xml", 16, "high", "`account_key` under `storage_configuration`"),
    ]),
    // Terraform: a sensitive variable's default, a provider token, a literal
    // password, the hash of "test", a Helm `set`, a container env value (as
    // the lowered Deployment reports it), and
    // a tfvars value; the plan file's password is not reported (only masked).
    // CLICKHOUSE_PASSWORD as a map value and as a compose default in the list
    // form; Bitnami's CLICKHOUSE_ADMIN_PASSWORD.
    ("CH450", &[
        ("docker-compose.yml", 6, "high", "`CLICKHOUSE_PASSWORD` in the environment of compose service `clickhouse`"),
        ("docker-compose.yml", 11, "high", "compose service `replica`"),
        ("docker-compose.yml", 15, "high", "`CLICKHOUSE_ADMIN_PASSWORD`"),
        ("terraform/main.tf", 4, "high", "`user[0].password` of `yandex_mdb_clickhouse_cluster.events`"),
        ("terraform/main.tf", 15, "high", "`token_secret` of `provider.clickhouse`"),
        ("terraform/main.tf", 22, "high", "`password` of `clickhouse_service.analytics`"),
        ("terraform/main.tf", 30, "high", "hash of a well-known password"),
        ("terraform/main.tf", 53, "high", "`set[0][name=auth.password].value` of `helm_release.clickhouse`"),
        ("terraform/main.tf", 69, "high", "`CLICKHOUSE_PASSWORD` in the environment of Deployment `clickhouse`"),
        ("terraform/secrets.auto.tfvars", 1, "high", "`user[1].password`"),
        // Helm releases: a sensitive variable's default through
        // set_sensitive, values in a heredoc, a set_sensitive literal, a
        // password in yamlencode'd values under a key the chart ignores.
        ("terraform-helm/main.tf", 7, "high", "`clickhouse.clusterSecret.value` in the Helm values"),
        ("terraform-helm/main.tf", 17, "high", "`auth.password` in the Helm values"),
        ("terraform-helm/main.tf", 28, "high", "`clickhouse.defaultUser.password` in the Helm values"),
        ("terraform-helm/main.tf", 56, "high", "`values.configuration.users.default/password` of `helm_release.altinity_values`"),
    ]),
    // keeper_config.d/network.xml over the shipped keeper_config.xml: no allow list.
    ("CH511", &[
        ("keeper_config.d/network.xml", 2, "high", "no `four_letter_word_allow_list`"),
    ]),
    // A mismatched XML closing tag and an unclosed YAML quote; an unclosed
    // HCL list and a trailing comma in Terraform JSON.
    // ... and a compose file with an unclosed quote; an unrelated broken
    // YAML file (a CI pipeline) in the silent folder stays silent.
    ("CH900", &[
        ("config.d/network.xml", 4, "high", "cannot be parsed"),
        ("docker-compose.yml", 5, "high", "cannot be parsed"),
        ("terraform/firewall.tf.json", 6, "high", "cannot be parsed"),
        ("terraform/main.tf", 7, "high", "cannot be parsed"),
        ("users.d/app.yaml", 5, "high", "cannot be parsed"),
    ]),
    // users.d YAML wrapped in `clickhouse:`.
    ("CH901", &[
        ("users.d/default-password.yaml", 2, "high", "top-level `clickhouse:`"),
    ]),
    // A config.d file with a <config> root under a <clickhouse> main file.
    ("CH903", &[
        ("config.d/network.xml", 2, "medium", "root element is <config>"),
    ]),
    // One listen_host over the image's two; one <ip> over a user's two.
    ("CH904", &[
        ("config.d/zz-network.xml", 2, "high", "`<listen_host>`"),
        ("users.d/zz-alice-networks.xml", 5, "high", "`<ip>`"),
    ]),
    // `remove` and `replace` on one element, in XML and in YAML.
    ("CH906", &[
        ("config.d/logs.xml", 3, "medium", "<query_log>"),
        ("users.d/default-networks.yaml", 3, "medium", "<networks>"),
    ]),
    // The hardened example with a MySQL port: a suppression above a line
    // with no plaintext port, one list naming a rule that fires (CH203) and
    // one that does not, and a YAML suppression of a weak password that is
    // a strong hash.
    ("CH990", &[
        ("config.xml", 10, "low", "suppression of CH202"),
        ("config.xml", 13, "low", "suppression of CH202"),
        ("users.d/app.yaml", 3, "low", "suppression of CH105"),
    ]),
    // No reason (the CH203 finding stays), a mistyped code, no brackets.
    ("CH991", &[
        ("config.xml", 10, "low", "`CH2O3`"),
        ("config.xml", 13, "low", "no reason"),
        ("users.d/app.yaml", 3, "low", "cannot be read"),
    ]),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(code: &str, variant: &str) -> PathBuf {
    root().join("testdata/rules").join(code).join(variant)
}

/// One finding, located.
#[derive(Debug)]
struct Found {
    code: &'static str,
    severity: &'static str,
    /// Relative to the folder checked when it lies inside it.
    file: String,
    line: usize,
    message: String,
}

impl std::fmt::Display for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(
            f,
            "{} {} {}:{}: {}",
            self.code, self.severity, self.file, self.line, self.message
        )
    }
}

fn check(dir: &Path) -> Vec<Found> {
    assert!(dir.is_dir(), "{} is not a folder", dir.display());
    let mut ws = Workspace::default();
    let mut report = check_paths(&mut ws, &[dir.to_path_buf()]);
    // What a user sees by default: inline suppressions applied (CH990/CH991).
    chlint::filter::apply(&mut report, &ws.sources, &Settings::default(), None);
    assert!(
        report.errors.is_empty(),
        "{}: {:?}",
        dir.display(),
        report.errors
    );
    // A folder chlint does not recognise would pass every "silent" check.
    assert!(
        report.files_scanned > 0,
        "{}: no ClickHouse file recognised",
        dir.display()
    );
    report
        .findings
        .iter()
        .map(|f| {
            let loc = ws.sources.locate(f.primary);
            let file = Path::new(&loc.file)
                .strip_prefix(dir)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or(loc.file.clone());
            Found {
                code: f.code,
                severity: f.severity.as_str(),
                file,
                line: loc.line,
                message: f.message.clone(),
            }
        })
        .collect()
}

fn listing(found: &[&Found]) -> String {
    if found.is_empty() {
        return "    (none)".into();
    }
    found
        .iter()
        .map(|f| format!("    {f}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn expectations(code: &str) -> &'static [Expect] {
    TABLE
        .iter()
        .find(|(c, _)| *c == code)
        .unwrap_or_else(|| panic!("{code} has no row in TABLE"))
        .1
}

/// The `fires` folder yields `code` exactly where the table says.
fn assert_fires(code: &str) {
    let dir = fixture(code, "fires");
    let all = check(&dir);
    let actual: Vec<&Found> = all.iter().filter(|f| f.code == code).collect();
    let mut used = vec![false; actual.len()];
    let mut problems = Vec::new();
    for &(file, line, severity, contains) in expectations(code) {
        let hit = actual.iter().enumerate().position(|(i, f)| {
            !used[i] && f.file == file && f.line == line && f.message.contains(contains)
        });
        match hit {
            None => problems.push(format!(
                "missing: {code} at {file}:{line} (message containing {contains:?})"
            )),
            Some(i) => {
                used[i] = true;
                if actual[i].severity != severity {
                    problems.push(format!(
                        "wrong severity: {code} at {file}:{line} is {}, expected {severity}",
                        actual[i].severity
                    ));
                }
            }
        }
    }
    for (i, f) in actual.iter().enumerate() {
        if !used[i] {
            problems.push(format!("unexpected: {f}"));
        }
    }
    assert!(
        problems.is_empty(),
        "{code} on {}:\n  {}\n  {code} findings there:\n{}",
        dir.display(),
        problems.join("\n  "),
        listing(&actual)
    );
}

/// The `silent` folder does not yield `code`.
fn assert_silent(code: &str) {
    let dir = fixture(code, "silent");
    let all = check(&dir);
    let actual: Vec<&Found> = all.iter().filter(|f| f.code == code).collect();
    assert!(
        actual.is_empty(),
        "{code} must stay silent on {}, but reported:\n{}",
        dir.display(),
        listing(&actual)
    );
}

macro_rules! rule_tests {
    ($($module:ident => $code:literal),* $(,)?) => {
        $(
            mod $module {
                #[test]
                fn fires() {
                    super::assert_fires($code);
                }
                #[test]
                fn silent() {
                    super::assert_silent($code);
                }
            }
        )*
        /// Codes that have generated tests above.
        const TESTED: &[&str] = &[$($code),*];
    };
}

rule_tests! {
    ch001 => "CH001",
    ch101 => "CH101",
    ch102 => "CH102",
    ch103 => "CH103",
    ch104 => "CH104",
    ch105 => "CH105",
    ch106 => "CH106",
    ch108 => "CH108",
    ch120 => "CH120",
    ch121 => "CH121",
    ch122 => "CH122",
    ch201 => "CH201",
    ch202 => "CH202",
    ch203 => "CH203",
    ch209 => "CH209",
    ch210 => "CH210",
    ch213 => "CH213",
    ch250 => "CH250",
    ch251 => "CH251",
    ch252 => "CH252",
    ch253 => "CH253",
    ch301 => "CH301",
    ch302 => "CH302",
    ch304 => "CH304",
    ch306 => "CH306",
    ch307 => "CH307",
    ch350 => "CH350",
    ch401 => "CH401",
    ch450 => "CH450",
    ch511 => "CH511",
    ch900 => "CH900",
    ch901 => "CH901",
    ch903 => "CH903",
    ch904 => "CH904",
    ch906 => "CH906",
    ch990 => "CH990",
    ch991 => "CH991",
}

fn has_files(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some())
}

/// A new rule cannot skip fixtures, a table row, a test or a page.
#[test]
fn every_rule_has_fixtures_a_table_row_and_a_page() {
    let pages: Vec<(String, PathBuf)> = std::fs::read_dir(root().join("rules"))
        .expect("rules/ exists")
        .flatten()
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    let mut problems = Vec::new();
    for rule in RULES {
        for variant in ["fires", "silent"] {
            let dir = fixture(rule.code, variant);
            if !has_files(&dir) {
                problems.push(format!(
                    "{}: no fixture folder {}",
                    rule.code,
                    dir.display()
                ));
            }
        }
        if !TABLE.iter().any(|(c, _)| *c == rule.code) {
            problems.push(format!("{}: no row in TABLE", rule.code));
        }
        if !TESTED.contains(&rule.code) {
            problems.push(format!("{}: not listed in rule_tests!", rule.code));
        }
        let prefix = format!("{}-", rule.code);
        let page: Vec<&(String, PathBuf)> = pages
            .iter()
            .filter(|(name, _)| name.starts_with(&prefix) && name.ends_with(".md"))
            .collect();
        match page.as_slice() {
            [(_, path)] => {
                let text = std::fs::read_to_string(path).expect("page is readable");
                let want = format!("# {} {}", rule.code, rule.name);
                let first = text.lines().next().unwrap_or("");
                if first != want {
                    problems.push(format!(
                        "{}: first line of {} is {first:?}, expected {want:?}",
                        rule.code,
                        path.display()
                    ));
                }
                if rule.page() != text {
                    problems.push(format!(
                        "{}: compiled-in page differs from {}",
                        rule.code,
                        path.display()
                    ));
                }
            }
            [] => problems.push(format!("{}: no page rules/{prefix}*.md", rule.code)),
            _ => problems.push(format!("{}: several pages rules/{prefix}*.md", rule.code)),
        }
    }
    // And nothing in the table or testdata/rules/ for a rule that does not exist.
    for (code, _) in TABLE {
        if !RULES.iter().any(|r| r.code == *code) {
            problems.push(format!("{code}: in TABLE but not a rule"));
        }
    }
    for entry in std::fs::read_dir(root().join("testdata/rules"))
        .expect("testdata/rules exists")
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !RULES.iter().any(|r| r.code == name) {
            problems.push(format!("testdata/rules/{name}: not a rule"));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------
// Scenarios: several rules at once.

fn scenario(name: &str) -> PathBuf {
    root().join("testdata/scenarios").join(name)
}

fn find<'a>(found: &'a [Found], code: &str, file: &str, line: usize) -> Option<&'a Found> {
    found
        .iter()
        .find(|f| f.code == code && f.file == file && f.line == line)
}

/// The incident: the package config.xml, no users.xml (the shipped one with
/// the empty `default` password applies), and one config.d file binding
/// 0.0.0.0. The password is not in the repository, so CH101 points at the
/// `listen_host` that exposes it.
#[test]
fn scenario_incident_listen_all_with_shipped_users() {
    let dir = scenario("incident");
    let found = check(&dir);
    let all: Vec<&Found> = found.iter().collect();
    let show = listing(&all);

    let ch101 = find(&found, "CH101", "config.d/listen.xml", 2)
        .unwrap_or_else(|| panic!("CH101 must point at the listen_host line:\n{show}"));
    assert_eq!(ch101.severity, "critical", "{show}");
    assert!(ch101.message.contains("`default`"), "{show}");
    // CH201 would say the same at the same line: one problem, one finding.
    assert!(
        find(&found, "CH201", "config.d/listen.xml", 2).is_none(),
        "CH201 repeats CH101 at the listen_host line:\n{show}"
    );
    assert!(
        find(&found, "CH202", "config.xml", 11).is_some(),
        "CH202 at http_port:\n{show}"
    );
    assert!(
        find(&found, "CH202", "config.xml", 12).is_some(),
        "CH202 at tcp_port:\n{show}"
    );
    // Nothing points into chlint's shipped defaults: every location is a
    // file of the repository.
    for f in &found {
        assert!(
            dir.join(&f.file).is_file(),
            "finding outside the repository files: {f}"
        );
    }
}

/// A hardened setup: private listen address, TLS ports only, no
/// compatibility or plaintext ports, `default` with a hashed password and
/// restricted networks, interserver credentials and cluster secret from the
/// environment, Keeper and replicas over TLS.
#[test]
fn scenario_hardened_has_no_findings() {
    let dir = scenario("hardened");
    let found = check(&dir);
    let all: Vec<&Found> = found.iter().collect();
    assert!(
        found.is_empty(),
        "hardened setup must have no findings:\n{}",
        listing(&all)
    );
}

/// Users managed with SQL only: a config.d file replaces `user_directories`
/// with a single `local_directory`. ClickHouse then loads no users file at all
/// (AccessControl::addStoragesFromMainConfig adds a users-file storage only
/// for `users_config`, `user_directories/users_xml`, or the main file when
/// there is no `user_directories`), so the shipped `default` user does not
/// exist and no user rule can fire. Plaintext ports (CH202, CH203, CH209) are
/// still open and may be reported.
#[test]
fn scenario_sql_managed_users_have_no_file_users() {
    let dir = scenario("sql-managed-users");
    let found = check(&dir);
    let users: Vec<&Found> = found
        .iter()
        .filter(|f| f.code.starts_with("CH1") || f.code == "CH201")
        .collect();
    assert!(
        users.is_empty(),
        "no users file is loaded, yet user findings are reported:\n{}",
        listing(&users)
    );
    assert!(
        find(&found, "CH202", "config.xml", 11).is_some(),
        "the exposed http_port is still reported"
    );
}

/// Clear-text values written in testdata/rules/CH104/fires.
const CH104_SECRETS: [&str; 6] = [
    "chlint-test-alice-plaintext",
    "chlint-test-bob-plaintext",
    "chlint-test-interserver-plaintext",
    "chlint-zk-user:chlint-test-zk-plaintext",
    "chlint-test-zk-plaintext",
    "chlint-test-replica-plaintext",
];

fn run_binary(format: &str, dir: &Path) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_chlint"))
        .args(["check", "--format", format])
        .arg(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run chlint");
    (
        out.status.code(),
        String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    )
}

/// Reports name where a secret is written, never the secret.
#[test]
fn binary_output_never_contains_secret_values() {
    let dir = fixture("CH104", "fires");
    // The fixture really holds the values (or this test proves nothing).
    let mut written = String::new();
    for sub in [
        "users.d/alice.xml",
        "users.d/bob.yaml",
        "config.d/replication.xml",
    ] {
        written.push_str(&std::fs::read_to_string(dir.join(sub)).expect("fixture file"));
    }
    for secret in CH104_SECRETS {
        assert!(written.contains(secret), "fixture lacks {secret}");
    }

    let (code, stdout, stderr) = run_binary("json", &dir);
    assert_eq!(code, Some(1), "findings exit 1; stderr: {stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is JSON");
    let ch104 = json["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .filter(|f| f["rule"] == "CH104")
        .count();
    assert_eq!(ch104, 5, "{stdout}");

    let (hcode, human, hstderr) = run_binary("human", &dir);
    assert_eq!(hcode, Some(1), "findings exit 1; stderr: {hstderr}");
    assert!(human.contains("CH104"), "{human}");
    // The human report prints the offending lines, masked.
    assert!(human.contains("<password>*"), "{human}");

    let mut leaks = Vec::new();
    for (format, text) in [
        ("json stdout", &stdout),
        ("json stderr", &stderr),
        ("human stdout", &human),
        ("human stderr", &hstderr),
    ] {
        for secret in CH104_SECRETS {
            if text.contains(secret) {
                leaks.push(format!("{format} contains the secret {secret:?}"));
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "{}\n\n{stdout}\n{human}",
        leaks.join("\n")
    );
}

/// Password fragments written in testdata/scenarios/unparseable-secret:
/// one password has an unescaped `&`, the other `&Xq7Leak;`, so neither
/// file parses (CH900).
const UNPARSEABLE_SECRETS: [&str; 6] = [
    "Chl1ntFixture",
    "Unescaped-Zz9Tail",
    "Zz9Tail",
    "Chl1ntReport",
    "Xq7Leak",
    "Yy8Tail",
];

/// A file that does not parse has no secret spans to mask, but its secrets
/// must stay out of the report all the same: neither the printed source
/// line nor the parser's message may carry them.
#[test]
fn binary_output_never_contains_secrets_of_unparseable_files() {
    let dir = scenario("unparseable-secret");
    let mut written = String::new();
    for sub in ["users.d/etl.xml", "users.d/reporting.xml"] {
        written.push_str(&std::fs::read_to_string(dir.join(sub)).expect("fixture file"));
    }
    for secret in UNPARSEABLE_SECRETS {
        assert!(written.contains(secret), "fixture lacks {secret}");
    }

    let (code, stdout, stderr) = run_binary("json", &dir);
    assert_eq!(code, Some(1), "findings exit 1; stderr: {stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is JSON");
    let ch900: Vec<(String, u64)> = json["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .filter(|f| f["rule"] == "CH900")
        .map(|f| {
            let file = f["file"].as_str().unwrap_or_default();
            let short = file.rsplit('/').next().unwrap_or(file).to_string();
            (short, f["line"].as_u64().unwrap_or(0))
        })
        .collect();
    assert!(
        ch900.contains(&("etl.xml".into(), 4)) && ch900.contains(&("reporting.xml".into(), 4)),
        "both files are reported at the password line: {ch900:?}"
    );

    let (_, human, hstderr) = run_binary("human", &dir);
    assert!(human.contains("CH900"), "{human}");

    let mut leaks = Vec::new();
    for (format, text) in [
        ("json stdout", &stdout),
        ("json stderr", &stderr),
        ("human stdout", &human),
        ("human stderr", &hstderr),
    ] {
        for secret in UNPARSEABLE_SECRETS {
            if text.contains(secret) {
                leaks.push(format!("{format} contains the secret fragment {secret:?}"));
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "{}\n\n{stdout}\n{human}",
        leaks.join("\n")
    );
}

/// Clear-text values written in the Terraform fixtures of CH450 (plan file
/// included, where `after_sensitive` flags the password).
const TERRAFORM_SECRETS: [&str; 7] = [
    "chlint-tf-default-Kp3x",
    "chlint-tf-token-Vb7q",
    "chlint-tf-literal-Zm2w",
    "chlint-tf-helm-Qa9e",
    "chlint-tf-env-Hs4t",
    "chlint-tf-tfvars-Wd6n",
    "chlint-tf-plan-Jc5r",
];

/// No output shows a Terraform secret: not the literals CH450 reports, not
/// the sensitive value of a plan file (whose lines are never printed).
#[test]
fn terraform_secrets_never_reach_the_output() {
    let dir = fixture("CH450", "fires");
    let mut written = String::new();
    for sub in [
        "terraform/main.tf",
        "terraform/secrets.auto.tfvars",
        "terraform/plan.json",
    ] {
        written.push_str(&std::fs::read_to_string(dir.join(sub)).expect("fixture file"));
    }
    for secret in TERRAFORM_SECRETS {
        assert!(written.contains(secret), "fixture lacks {secret}");
    }
    // A plan finding of another rule prints the plan's location only.
    let plan_dir = fixture("CH252", "fires");
    let mut outputs = Vec::new();
    for d in [&dir, &plan_dir] {
        for format in ["json", "human"] {
            let (code, stdout, stderr) = run_binary(format, d);
            assert_eq!(code, Some(1), "findings exit 1; stderr: {stderr}");
            outputs.push((format!("{format} {}", d.display()), stdout));
            outputs.push((format!("{format} stderr {}", d.display()), stderr));
        }
    }
    let human = &outputs[2].1;
    assert!(
        human.contains("CH450") && human.contains("password = ****"),
        "{human}"
    );
    let mut leaks = Vec::new();
    for (what, text) in &outputs {
        for secret in TERRAFORM_SECRETS {
            if text.contains(secret) {
                leaks.push(format!("{what} contains {secret:?}"));
            }
        }
        // No line of a plan file is ever shown.
        if text.contains("\"resource_changes\"") {
            leaks.push(format!("{what} shows a line of a plan file"));
        }
    }
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));
}
