//! Hostile repositories that try to make chlint print a secret, read or
//! write outside the repository, or hang on a file named on the command
//! line. Every run ends within [`TIMEOUT`] (the child is killed and the test
//! fails otherwise), exits with 0, 1 or 2, and no distinctive secret string
//! appears in its stdout, its stderr or any file it wrote.

mod common;

use common::bounded::{self, Run};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(20);

impl Run {
    fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// Fails when any of `secrets` is in the output.
    fn assert_clean(&self, secrets: &[&str]) {
        for s in secrets {
            assert!(!self.all().contains(s), "`{s}` printed:\n{}", self.all());
        }
    }

    /// (line, message) of every finding of `rule`.
    fn findings(&self, rule: &str) -> Vec<(u64, String)> {
        self.json()["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["rule"] == rule)
            .map(|f| {
                (
                    f["line"].as_u64().unwrap(),
                    f["message"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }
}

/// A fresh repository (a folder holding `.git`) for one case.
fn repo(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("leaks")
        .join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join(".git")).unwrap();
    dir
}

/// A folder outside every repository (for files a link must not reach).
fn outside(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("chlint-leaks-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

#[cfg(unix)]
fn link(target: &Path, at: &Path) {
    let _ = fs::remove_file(at);
    std::os::unix::fs::symlink(target, at).unwrap();
}

#[cfg(unix)]
fn mkfifo(at: &Path) {
    let status = Command::new("mkfifo").arg(at).status().expect("mkfifo");
    assert!(status.success());
}

fn chlint(cwd: &Path, args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_chlint"));
    cmd.args(args).current_dir(cwd);
    bounded::run(cmd, &format!("`chlint {args:?}`"), TIMEOUT)
}

const SERVER: &str = "<clickhouse>\n  <listen_host>0.0.0.0</listen_host>\n</clickhouse>\n";

// ---------------------------------------------------------------------------
// Configuration and baseline files

#[test]
fn configuration_errors_give_the_place_never_the_text() {
    let dir = repo("config-text");
    write(&dir, "config.xml", SERVER);
    write(
        &dir,
        "deploy/.env",
        "DB_PASSWORD=LeakEnvValue0001\nAPI_TOKEN=\"LeakEnvValue0002\"\n",
    );
    // The configuration file found in the repository, a link to the secrets.
    #[cfg(unix)]
    {
        link(Path::new("deploy/.env"), &dir.join(".chlint.toml"));
        let run = chlint(&dir, &["check", "."]);
        assert_eq!(run.code, 2);
        assert!(
            run.stderr.contains(".chlint.toml") && run.stderr.contains("line 1, column 13"),
            "{}",
            run.stderr
        );
        run.assert_clean(&["LeakEnvValue"]);
        fs::remove_file(dir.join(".chlint.toml")).unwrap();
    }
    // Values of the wrong type are not quoted back either.
    for (text, place) in [
        ("select = \"LeakTomlValue01\"\n", "line 1, column 10"),
        (
            "ignore = []\n[per-path-ignores]\n\"x/**\" = 'LeakTomlValue01'\n",
            "line 3",
        ),
        ("exclude = [\"LeakTomlValue01", "line 1"),
    ] {
        write(&dir, "named.toml", text);
        let run = chlint(&dir, &["check", "--config", "named.toml", "."]);
        assert_eq!(run.code, 2, "{text}");
        assert!(run.stderr.contains(place), "{text}: {}", run.stderr);
        run.assert_clean(&["LeakTomlValue01"]);
    }
}

#[test]
fn baseline_errors_give_the_place_never_the_text() {
    let dir = repo("baseline-text");
    write(&dir, "config.xml", SERVER);
    for text in [
        "{\"version\": \"LeakJsonValue01\"}",
        "{\"version\": 1, \"findings\": [{\"rule\": 7, \"file\": \"LeakJsonValue01\"}]}",
        "LeakJsonValue01",
        "{\"version\": 1, \"findings\": [], \"tool\": \"x\"} LeakJsonValue01",
    ] {
        write(&dir, "baseline.json", text);
        let run = chlint(&dir, &["check", "--baseline", "baseline.json", "."]);
        assert_eq!(run.code, 2, "{text}");
        assert!(run.stderr.contains("line 1, column"), "{}", run.stderr);
        run.assert_clean(&["LeakJsonValue01"]);
    }
}

#[cfg(unix)]
#[test]
fn named_files_are_regular_files_inside_the_repository() {
    let dir = repo("named-files");
    write(&dir, "config.xml", SERVER);
    let out = outside("named-files");
    write(&out, "secrets.toml", "LEAK_OUTSIDE = \"LeakOutside0001\"\n");
    write(&out, "baseline.json", "{\"version\": 1, \"findings\": []}");
    link(&out.join("secrets.toml"), &dir.join("cfg.toml"));
    link(Path::new("/proc/self/environ"), &dir.join("env.toml"));
    link(&out.join("baseline.json"), &dir.join("out.json"));
    link(Path::new("/dev/zero"), &dir.join("zero.json"));
    mkfifo(&dir.join("fifo.json"));
    mkfifo(&dir.join("fifo.toml"));
    let cases: [&[&str]; 8] = [
        &["--config", "cfg.toml"],
        &["--config", "env.toml"],
        &["--config", "fifo.toml"],
        &["--config", "/dev/zero"],
        &["--baseline", "out.json"],
        &["--baseline", "zero.json"],
        &["--baseline", "fifo.json"],
        &["--baseline", "/dev/stdin"],
    ];
    for args in cases {
        let mut all = vec!["check"];
        all.extend_from_slice(args);
        all.push(".");
        let run = chlint(&dir, &all);
        assert_eq!(run.code, 2, "{args:?}: {}", run.all());
        assert!(run.stderr.contains("refused"), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}: refused before the work");
        run.assert_clean(&["LeakOutside0001", "PATH="]);
    }
    // Too large: refused, not read whole.
    write(&dir, "big.json", &" ".repeat(17 << 20));
    let run = chlint(&dir, &["check", "--baseline", "big.json", "."]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("larger than"), "{}", run.stderr);
    // A link inside the repository is read.
    write(&dir, "ci/cfg.toml", "select = [\"CH2\"]\n");
    link(Path::new("ci/cfg.toml"), &dir.join("inside.toml"));
    let run = chlint(&dir, &["check", "--config", "inside.toml", "."]);
    assert_eq!(run.code, 1, "{}", run.stderr);
}

#[cfg(unix)]
#[test]
fn a_written_baseline_never_leaves_the_repository_nor_blocks() {
    let dir = repo("write-baseline");
    write(&dir, "config.xml", SERVER);
    let out = outside("write-baseline");
    write(&out, "victim.txt", "untouched\n");
    link(&out.join("victim.txt"), &dir.join("link.json"));
    mkfifo(&dir.join("fifo.json"));
    let victim = out.join("victim.txt");
    for target in [
        "link.json",
        "fifo.json",
        victim.to_str().unwrap(),
        "/dev/null",
    ] {
        let run = chlint(&dir, &["check", "--write-baseline", target, "."]);
        assert_eq!(run.code, 2, "{target}: {}", run.all());
        assert!(run.stderr.contains("refused"), "{target}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{target}: refused before the work");
    }
    assert_eq!(fs::read_to_string(&victim).unwrap(), "untouched\n");
    // Written: a new file, and through a link that stays inside.
    let run = chlint(&dir, &["check", "--write-baseline", "b.json", "."]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    link(Path::new("b.json"), &dir.join("b-link.json"));
    let run = chlint(&dir, &["check", "--write-baseline", "b-link.json", "."]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(fs::symlink_metadata(dir.join("b-link.json"))
        .unwrap()
        .file_type()
        .is_symlink());
    let run = chlint(&dir, &["check", "--baseline", "b-link.json", "."]);
    assert_eq!(run.code, 0, "{}", run.all());
    // No temporary file is left behind.
    let left: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

// ---------------------------------------------------------------------------
// Terraform `sensitive` variables

#[test]
fn sensitive_terraform_variables_are_never_shown() {
    let dir = repo("tf-sensitive");
    write(
        &dir,
        "tf/main.tf",
        "variable \"office\" {\n  type      = string\n  sensitive = true\n  default   = \"0::0/0\"\n}\n\nvariable \"conn\" {\n  type      = string\n  sensitive = true\n}\n\nresource \"clickhouse_service\" \"analytics\" {\n  name           = \"analytics\"\n  cloud_provider = \"aws\"\n  region         = \"us-east-2\"\n  password_hash  = var.conn\n  ip_access {\n    source      = var.office\n    description = \"office\"\n  }\n}\n",
    );
    write(
        &dir,
        "tf/terraform.tfvars",
        "conn = \"LeakTfSensitive01\"\n",
    );
    for format in ["json", "human", "sarif", "github"] {
        let run = chlint(&dir, &["check", "--format", format, "tf"]);
        assert_eq!(run.code, 1, "{format}: {}", run.all());
        run.assert_clean(&["0::0/0", "LeakTfSensitive01"]);
        if format == "json" {
            // The finding is really on the default's line (line 4).
            let open = run.findings("CH253");
            assert_eq!(open.len(), 1, "{}", run.stdout);
            assert_eq!(open[0].0, 4);
        }
    }
}

// ---------------------------------------------------------------------------
// Masking on quoted lines, and identities that do not depend on secrets

/// A repository holding secrets ending in `tag` in every place that is
/// masked: parsed and unparseable files, comments, URLs, Terraform.
fn secret_fixture(dir: &Path, tag: &str) {
    write(
        dir,
        "typo-open/config.xml",
        &format!("<clickhouse>\n  <users><default><pasword>LeakTypo1{tag}</password></default></users>\n</clickhouse>\n"),
    );
    write(
        dir,
        "typo-close/config.xml",
        &format!("<clickhouse>\n  <users><default><password>LeakTypo2{tag}</pasword></default></users>\n</clickhouse>\n"),
    );
    write(
        dir,
        "unclosed/config.xml",
        &format!("<clickhouse>\n  <users><u><password>LeakTypo3{tag}\n"),
    );
    write(
        dir,
        "multiline/config.xml",
        &format!("<clickhouse>\n  <users><u><pwd>\n    LeakTypo4{tag}\n  </password></u></users>\n</clickhouse>\n"),
    );
    write(
        dir,
        "parsed/config.xml",
        &format!(
            "<clickhouse><path>/p/</path>\n  <listen_host>0.0.0.0</listen_host> <!-- old <password>LeakComment{tag}</password> -->\n  <http_port>8123</http_port> <!-- https://ch:LeakUrlPass{tag}@db.internal:8443/ -->\n  <users><app><password>LeakParsed{tag}</password><networks><ip>::/0</ip></networks></app></users>\n</clickhouse>\n"
        ),
    );
    write(
        dir,
        "parsed-yaml/config.yaml",
        &format!("listen_host: 0.0.0.0 # password: LeakYamlComment{tag}\ntcp_port: 9000\n"),
    );
}

fn secrets_of(tag: &str) -> Vec<String> {
    [
        "LeakTypo1",
        "LeakTypo2",
        "LeakTypo3",
        "LeakTypo4",
        "LeakComment",
        "LeakUrlPass",
        "LeakParsed",
        "LeakYamlComment",
    ]
    .iter()
    .map(|s| format!("{s}{tag}"))
    .collect()
}

#[test]
fn secrets_on_quoted_lines_are_masked_in_every_format() {
    let dir = repo("quoted-lines");
    secret_fixture(&dir, "Aa01");
    let secrets = secrets_of("Aa01");
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let json = chlint(&dir, &["check", "--format", "json", "."]);
    // Each secret is really on a line a finding points at (its primary
    // location, or a related one: both are quoted).
    let points_at = |f: &serde_json::Value, file: &str, line: u64| {
        let at = |l: &serde_json::Value| {
            l["file"].as_str().unwrap().ends_with(file) && l["line"] == line
        };
        at(f) || f["related"].as_array().unwrap().iter().any(at)
    };
    for (rule, file, line) in [
        ("CH900", "typo-open/config.xml", 2),
        ("CH900", "typo-close/config.xml", 2),
        ("CH900", "multiline/config.xml", 4),
        ("CH103", "parsed/config.xml", 2),
        ("CH202", "parsed/config.xml", 3),
        ("CH104", "parsed/config.xml", 4),
    ] {
        let found = json.json()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == rule && points_at(f, file, line));
        assert!(found, "no {rule} at {file}:{line}\n{}", json.stdout);
    }
    json.assert_clean(&secrets);
    for format in ["human", "sarif", "github"] {
        chlint(&dir, &["check", "--format", format, "."]).assert_clean(&secrets);
    }
    let run = chlint(&dir, &["check", "--write-baseline", "b.json", "."]);
    run.assert_clean(&secrets);
    let written = fs::read_to_string(dir.join("b.json")).unwrap();
    for s in &secrets {
        assert!(!written.contains(s), "{s} in the baseline");
    }
}

/// Every `partialFingerprints` value of a SARIF report, in order.
fn fingerprints(sarif: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(sarif).unwrap();
    v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["partialFingerprints"].to_string())
        .collect()
}

#[test]
fn identities_do_not_depend_on_secret_values() {
    let (a, b) = (repo("identity-a"), repo("identity-b"));
    secret_fixture(&a, "Aa01");
    secret_fixture(&b, "Bb02-longer");
    let sarif = |dir: &Path| chlint(dir, &["check", "--format", "sarif", "."]).stdout;
    let (fa, fb) = (fingerprints(&sarif(&a)), fingerprints(&sarif(&b)));
    assert!(fa.len() >= 6, "{fa:?}");
    assert_eq!(fa, fb);
    for dir in [&a, &b] {
        let run = chlint(dir, &["check", "--write-baseline", "b.json", "."]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let entries = |dir: &Path| {
        let v: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(dir.join("b.json")).unwrap()).unwrap();
        v["findings"].clone()
    };
    assert_eq!(entries(&a), entries(&b));
    // And each baseline excuses the other repository's findings.
    fs::copy(a.join("b.json"), b.join("a.json")).unwrap();
    let run = chlint(
        &b,
        &["check", "--format", "json", "--baseline", "a.json", "."],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
}

// ---------------------------------------------------------------------------
// `chlint merged`

#[test]
fn merged_hides_marked_elements_and_masks_secrets_unless_asked() {
    let dir = repo("merged");
    write(
        &dir,
        "config.xml",
        "<clickhouse>\n  <interserver_http_credentials hide_in_preprocessed=\"true\">\n    <user>admin</user>\n    <password>LeakHidden0001</password>\n  </interserver_http_credentials>\n  <remote_servers><c><shard><replica><host>h</host><password>LeakMerged001</password></replica></shard></c></remote_servers>\n  <storage_configuration><disks><s3><endpoint>https://ak:LeakUrlUser01@s3.example.com/b/</endpoint><secret_access_key>LeakS3Key0001</secret_access_key></s3></disks></storage_configuration>\n</clickhouse>\n",
    );
    write(
        &dir,
        "config.d/hidden.yaml",
        "zookeeper:\n  \"@hide_in_preprocessed\": 1\n  identity: \"u:LeakYamlHidden1\"\nmacros:\n  \"@hide_in_preprocessed\": \"off\"\n  shard: s01\n",
    );
    let run = chlint(&dir, &["merged", "config.xml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.assert_clean(&[
        "LeakHidden0001",
        "LeakMerged001",
        "LeakUrlUser01",
        "LeakS3Key0001",
        "LeakYamlHidden1",
        "interserver_http_credentials",
        "<zookeeper",
    ]);
    for shown in [
        "<password>******</password>",
        "https://ak:******@s3.example.com/b/",
        "<shard>s01</shard>",
    ] {
        assert!(run.stdout.contains(shown), "{shown}:\n{}", run.stdout);
    }
    // Asked for, secrets are printed; hidden elements stay hidden.
    let run = chlint(&dir, &["merged", "--show-secrets", "config.xml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for shown in ["LeakMerged001", "LeakUrlUser01", "LeakS3Key0001"] {
        assert!(run.stdout.contains(shown), "{shown}:\n{}", run.stdout);
    }
    run.assert_clean(&["LeakHidden0001", "LeakYamlHidden1"]);
}

#[cfg(unix)]
#[test]
fn env_file_errors_give_the_line_never_the_text() {
    let dir = repo("env-file");
    write(
        &dir,
        "config.xml",
        "<clickhouse><x from_env=\"A\"/></clickhouse>\n",
    );
    write(&dir, "bad.env", "A=1\nLeakEnvLine0001\n");
    let run = chlint(&dir, &["merged", "--env-file", "bad.env", "config.xml"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("bad.env: line 2"), "{}", run.stderr);
    run.assert_clean(&["LeakEnvLine0001"]);
    mkfifo(&dir.join("fifo.env"));
    let run = chlint(&dir, &["merged", "--env-file", "fifo.env", "config.xml"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("FIFO"), "{}", run.stderr);
}

#[test]
fn masking_scans_stay_linear_on_hostile_text() {
    let dir = repo("masking-linear");
    // A broken file that every masking scan walks: URLs without blanks,
    // unclosed comments, `#` runs, misspelt secret tags and long lines.
    let text = format!(
        "<clickhouse><listen_host>0.0.0.0</listen_host> {} {}\n{}\nhttps://h/?{} {}\n",
        "a://".repeat(500_000),
        "<!--".repeat(200_000),
        " #".repeat(500_000),
        "p&".repeat(500_000),
        "<pasword x=\"1\">v</password>".repeat(100_000),
    );
    write(&dir, "config.xml", &text);
    let started = Instant::now();
    let run = chlint(&dir, &["check", "--format", "json", "."]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.findings("CH900").len(), 1);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}
