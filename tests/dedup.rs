//! One problem, one finding: the fixtures in `testdata/dedup/`.
//!
//! Each case lists every finding of the rules it is about, by code, file
//! and line; a repeat (or a lost finding) changes the list.

use std::path::{Path, PathBuf};

use chlint::check::check_paths;
use chlint::clickhouse::load::Workspace;
use chlint::settings::{CliChoices, Settings};

fn case(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/dedup")
        .join(name)
}

/// One finding as a user reads it: code, file (relative to the case),
/// line, and its related locations as `file:line`.
#[derive(Debug)]
struct Found {
    code: &'static str,
    file: String,
    line: usize,
    related: Vec<String>,
}

fn relative(dir: &Path, file: &str) -> String {
    Path::new(file)
        .strip_prefix(dir)
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .unwrap_or_else(|_| file.to_string())
}

fn check_with(dir: &Path, choices: &CliChoices) -> Vec<Found> {
    let mut ws = Workspace::default();
    let mut report = check_paths(&mut ws, &[dir.to_path_buf()]);
    let settings = Settings::resolve(None, choices).expect("valid choices");
    chlint::filter::apply(&mut report, &ws.sources, &settings, None);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    report
        .findings
        .iter()
        .map(|f| {
            let loc = ws.sources.locate(f.primary);
            Found {
                code: f.code,
                file: relative(dir, &loc.file),
                line: loc.line,
                related: f
                    .related
                    .iter()
                    .map(|r| {
                        let l = ws.sources.locate(r.span);
                        format!("{}:{}", relative(dir, &l.file), l.line)
                    })
                    .collect(),
            }
        })
        .collect()
}

fn check(dir: &Path) -> Vec<Found> {
    check_with(dir, &CliChoices::default())
}

/// The findings of these codes, as `CODE file:line`, in report order.
fn of(found: &[Found], codes: &[&str]) -> Vec<String> {
    found
        .iter()
        .filter(|f| codes.contains(&f.code))
        .map(|f| format!("{} {}:{}", f.code, f.file, f.line))
        .collect()
}

/// Two compose files mount one users file, one of them through
/// `../../../`: one CH101 at the password, both compose files related.
#[test]
fn a_file_mounted_twice_is_reported_once() {
    let dir = case("shared-mount");
    let found = check(&dir);
    assert_eq!(
        of(&found, &["CH101", "CH201"]),
        ["CH101 docker/clickhouse/users.xml:4"],
        "{found:#?}"
    );
    let ch101 = &found
        .iter()
        .find(|f| f.code == "CH101")
        .expect("CH101")
        .related;
    for route in [
        "docker/docker-compose.yml:2",
        "tests/e2e/compose/docker-compose.e2e.yml:4",
        "docker/docker-compose.yml:3",
        "tests/e2e/compose/docker-compose.e2e.yml:5",
        "tests/e2e/compose/listen.xml:4",
    ] {
        assert!(ch101.iter().any(|r| r == route), "{route} in {ch101:?}");
    }
    // No path spelled through `..` anywhere.
    for f in &found {
        assert!(!f.file.contains(".."), "{f:?}");
        assert!(f.related.iter().all(|r| !r.contains("..")), "{f:?}");
    }
}

/// Close but distinct: two copies of the same users file are two files to fix.
#[test]
fn two_copies_are_two_findings() {
    let found = check(&case("distinct-files"));
    assert_eq!(
        of(&found, &["CH101"]),
        ["CH101 a/users.xml:4", "CH101 b/users.xml:4"],
        "{found:#?}"
    );
}

/// CH101 names the `listen_host` as a link: CH201 there adds nothing.
#[test]
fn listen_host_named_by_a_user_finding_is_not_repeated() {
    let found = check(&case("listen-covered"));
    assert_eq!(
        of(&found, &["CH101", "CH201"]),
        ["CH101 users.xml:4"],
        "{found:#?}"
    );
    let ch101 = &found[found.iter().position(|f| f.code == "CH101").unwrap()];
    assert!(ch101.related.iter().any(|r| r == "config.d/listen.xml:2"));
}

/// Rule selection: with CH101 off, CH201 says what it would have said.
#[test]
fn an_implied_finding_returns_when_its_stronger_rule_is_off() {
    let dir = case("listen-covered");
    let ignore = CliChoices {
        ignore: vec!["CH101".into()],
        ..CliChoices::default()
    };
    let select = CliChoices {
        select: Some(vec!["listen-all-interfaces".into()]),
        ..CliChoices::default()
    };
    for choices in [ignore, select] {
        let found = check_with(&dir, &choices);
        assert_eq!(
            of(&found, &["CH101", "CH201"]),
            ["CH201 config.d/listen.xml:2"],
            "{choices:?}: {found:#?}"
        );
    }
}

/// Close but distinct: the wildcard is `interserver_listen_host`, which no
/// user finding names (they name the private `listen_host`): both stay.
#[test]
fn another_wildcard_keeps_its_own_finding() {
    let found = check(&case("listen-distinct"));
    assert_eq!(
        of(&found, &["CH101", "CH201"]),
        ["CH201 config.d/listen.xml:3", "CH101 users.xml:4"],
        "{found:#?}"
    );
}

/// CH001 is reported at the port line that publishes the open user: CH251
/// stays silent there, and reports the other published port.
#[test]
fn the_chain_port_is_not_repeated() {
    let found = check(&case("port-covered"));
    assert_eq!(
        of(&found, &["CH001", "CH251"]),
        ["CH001 docker-compose.yml:7", "CH251 docker-compose.yml:8"],
        "{found:#?}"
    );
}

/// Close but distinct: without the open user, CH251 reports both ports.
#[test]
fn without_the_chain_each_port_is_reported() {
    let found = check(&case("port-distinct"));
    assert_eq!(
        of(&found, &["CH001", "CH251"]),
        ["CH251 docker-compose.yml:7", "CH251 docker-compose.yml:8"],
        "{found:#?}"
    );
}

/// A well-known password committed to the repository: two facts, two
/// findings on one line.
#[test]
fn weak_and_committed_are_two_facts() {
    let found = check(&case("weak-and-committed"));
    assert_eq!(
        of(&found, &["CH105", "CH450"]),
        ["CH105 docker-compose.yml:6", "CH450 docker-compose.yml:6"],
        "{found:#?}"
    );
}

/// The Kubernetes scenarios: CH250 at the Service line CH001 reports is a
/// repeat.
#[test]
fn the_chain_service_is_not_repeated() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/scenarios/k8s-open");
    let found = check(&dir);
    assert_eq!(
        of(&found, &["CH001", "CH250"]),
        ["CH001 clickhouse.yaml:64"],
        "{found:#?}"
    );
}

/// The shipped config.xml's ports, exposed by one `listen_host`: one
/// finding per rule at that line, naming every port.
#[test]
fn one_listen_host_exposing_shipped_ports_is_one_finding_per_rule() {
    let found = check(&case("shipped-ports"));
    assert_eq!(
        of(&found, &["CH101", "CH201", "CH202", "CH203", "CH209"]),
        [
            "CH101 config.d/listen.xml:3",
            "CH202 config.d/listen.xml:3",
            "CH203 config.d/listen.xml:3",
            "CH209 config.d/listen.xml:3"
        ],
        "{found:#?}"
    );
}

/// A suppression in a file read under two spellings applies to the one
/// finding, and is not unused under the other spelling.
#[test]
fn a_suppression_in_a_file_mounted_twice_is_used_once() {
    let found = check(&case("suppressed-mount"));
    assert_eq!(
        of(&found, &["CH101", "CH990", "CH991"]),
        Vec::<String>::new(),
        "{found:#?}"
    );
}

/// A suppression of a finding that a stronger one states is not unused:
/// the configuration it excuses is still there.
#[test]
fn a_suppression_of_an_implied_finding_is_not_unused() {
    let found = check(&case("suppressed-implied"));
    assert_eq!(
        of(&found, &["CH101", "CH201", "CH990"]),
        ["CH101 users.xml:4"],
        "{found:#?}"
    );
}
