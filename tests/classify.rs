//! Which files are ClickHouse configurations (src/discover.rs, the rule in
//! its module documentation): files of other tools give no finding however
//! broken they are, and those a server reads still do.
//!
//! `testdata/classify/not-clickhouse/` holds realistic files of other tools
//! (an issue template, traefik, an OpenTelemetry collector, a backup tool,
//! Helm CI values, nginx's `conf.d`, a broken Pod, a Terraform snippet with
//! placeholders); `clickhouse/` and `k8s-mounted/` hold the close
//! counterparts a server does read.

use std::path::Path;

use serde_json::Value;

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn chlint(args: &[&str], cwd: &Path) -> Run {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_chlint"))
        .current_dir(cwd)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("chlint runs");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn testdata() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/classify")
}

/// (rule, file, line, note) of every finding, for `chlint check --format json PATH`.
fn findings(path: &str, cwd: &Path) -> (Value, Vec<(String, String, u64, String)>) {
    let run = chlint(&["check", "--format", "json", path], cwd);
    assert!(matches!(run.code, Some(0 | 1)), "{path}: {}", run.stderr);
    let json: Value = serde_json::from_str(&run.stdout).expect("valid JSON");
    let list = json["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["file"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or_default(),
                f["note"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    (json, list)
}

#[test]
fn files_of_other_tools_give_no_finding() {
    let (_, found) = findings("not-clickhouse", &testdata());
    assert!(
        found.is_empty(),
        "findings on files ClickHouse does not read:\n{found:#?}"
    );
}

#[test]
fn files_of_other_tools_describe_no_server() {
    // Not merged as overrides over the shipped files either.
    let run = chlint(&["inspect", "not-clickhouse"], &testdata());
    assert!(
        run.stderr
            .contains("no ClickHouse server or Keeper configuration found"),
        "servers: {}\n{}",
        run.stdout,
        run.stderr
    );
}

#[test]
fn a_run_without_clickhouse_says_so_and_passes() {
    let run = chlint(&["check", "not-clickhouse"], &testdata());
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stdout.contains("No findings in 0 ClickHouse file(s)."),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("no ClickHouse configuration or deployment found"),
        "{}",
        run.stderr
    );
    // The Terraform snippet is not checked, and the user is told why.
    assert!(
        run.stderr
            .contains("main.tf: not checked: a snippet with the placeholder `<YOUR_AMI_ID>`"),
        "{}",
        run.stderr
    );
}

#[test]
fn files_a_server_reads_are_still_checked() {
    let (json, found) = findings("clickhouse", &testdata());
    let has = |rule: &str, file: &str, line: u64| {
        found
            .iter()
            .any(|(r, f, l, _)| r == rule && f == file && *l == line)
    };
    let expected = [
        // A broken config.d file beside its main file.
        ("CH900", "clickhouse/overrides/config.d/network.xml", 4),
        // Broken YAML whose keys are ClickHouse's.
        ("CH900", "clickhouse/by-content/server.yaml", 6),
        // A lone `clickhouse:` mapping of server keys.
        ("CH901", "clickhouse/wrapped/config.yaml", 1),
        // A users file named by `users_config`, whatever its keys.
        ("CH102", "clickhouse/named-users/accounts.yaml", 3),
        // A broken manifest of a ClickHouse workload, of a Service
        // publishing its HTTP port.
        ("CH900", "clickhouse/k8s/statefulset.yaml", 11),
        ("CH900", "clickhouse/k8s/service.yaml", 10),
    ];
    for (rule, file, line) in expected {
        assert!(
            has(rule, file, line),
            "{rule} {file}:{line} missing:\n{found:#?}"
        );
    }
    // And, by a telltale child: users-only/users-extra.yaml (a user with
    // `networks`), macros/macros.yaml (`macros: {shard, replica}`); and
    // users-in-main/config.xml.
    assert_eq!(json["files_scanned"], 12, "{json}");
    // Who refuses a broken file: ClickHouse, or the deployment's tool.
    let help = |file: &str| -> String {
        let list = json["findings"].as_array().expect("findings");
        let f = list
            .iter()
            .find(|f| f["rule"] == "CH900" && f["file"] == file)
            .expect("a CH900");
        f["help"].as_str().unwrap_or_default().to_string()
    };
    assert!(help("clickhouse/k8s/statefulset.yaml").contains("kubectl"));
    assert!(help("clickhouse/overrides/config.d/network.xml").contains("ClickHouse refuses"));
}

/// A main file that names a users file the repository does not hold
/// (`user_directories/users_xml`, as the shipped config.xml does) runs with
/// the package's users.xml: checked over it, and the finding says so.
#[test]
fn a_main_file_without_its_users_file_is_checked_with_the_shipped_users_file() {
    let (_, found) = findings("clickhouse/no-users", &testdata());
    let ch101: Vec<_> = found.iter().filter(|(r, ..)| r == "CH101").collect();
    assert_eq!(ch101.len(), 1, "{found:#?}");
    let (_, file, line, note) = ch101[0];
    assert_eq!(
        (file.as_str(), *line),
        ("clickhouse/no-users/config.xml", 3)
    );
    assert!(
        note.contains("the package's shipped users.xml"),
        "the finding says where the users come from: {note}"
    );
    // A finding about the main file alone does not claim the shipped users.
    let ch202 = found.iter().find(|(r, ..)| r == "CH202").expect("CH202");
    assert_eq!(ch202.3, "", "{ch202:?}");
}

/// Without `users_config` and `user_directories` ClickHouse reads users
/// from the main file itself (addStoragesFromMainConfig), not from a
/// users.xml beside it: a main file with none has no user to find fault
/// with (the real 18.16 server refuses to start on it).
#[test]
fn a_main_file_that_names_no_users_file_has_its_own_users_only() {
    let (_, found) = findings("clickhouse/users-in-main", &testdata());
    assert!(
        !found.iter().any(|(r, ..)| r.starts_with("CH1")),
        "no user finding: {found:#?}"
    );
    let ch202 = found.iter().find(|(r, ..)| r == "CH202").expect("CH202");
    assert_eq!(
        (ch202.1.as_str(), ch202.2),
        ("clickhouse/users-in-main/config.xml", 4)
    );
}

#[test]
fn secret_keys_and_notes_mounted_beside_a_configuration_are_not_configurations() {
    let dir = testdata();
    let (_, found) = findings("k8s-mounted", &dir);
    // Only the broken network.xml key; not CLICKHOUSE_PASSWORD (line 6) nor
    // README.txt (line 13), both mounted into the server's folders.
    let ch900: Vec<_> = found.iter().filter(|(r, ..)| r == "CH900").collect();
    assert_eq!(ch900.len(), 1, "{found:#?}");
    assert_eq!(
        (ch900[0].1.as_str(), ch900[0].2),
        ("k8s-mounted/clickhouse.yaml", 17)
    );
    for format in ["human", "json", "sarif", "github"] {
        let run = chlint(&["check", "--format", format, "k8s-mounted"], &dir);
        assert!(
            !run.stdout.contains("not-a-config") && !run.stderr.contains("not-a-config"),
            "{format}: the Secret's value is printed"
        );
    }
}

#[test]
fn findings_are_the_same_under_every_spelling_of_the_path() {
    let dir = testdata();
    let absolute = dir.to_string_lossy().into_owned();
    let key = |found: Vec<(String, String, u64, String)>, prefix: &str| {
        let mut v: Vec<_> = found
            .into_iter()
            .map(|(r, f, l, _)| {
                let f = f.replace('\\', "/");
                let f = f.trim_start_matches(prefix).trim_start_matches("./");
                (r, f.to_string(), l)
            })
            .collect();
        v.sort();
        v
    };
    for sub in ["clickhouse", "k8s-mounted", "not-clickhouse"] {
        let plain = key(findings(sub, &dir).1, "");
        let dotted = key(findings(&format!("./{sub}/"), &dir).1, "");
        let abs = key(
            findings(&format!("{absolute}/{sub}"), &dir).1,
            &format!("{absolute}/"),
        );
        assert_eq!(plain, dotted, "{sub}");
        assert_eq!(plain, abs, "{sub}");
    }
}

/// `chlint check --format json - --stdin-filename NAME` on `text`: (rule,
/// file, line) of each finding.
fn check_stdin(name: &str, text: &str) -> Vec<(String, String, u64)> {
    use std::io::Write as _;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_chlint"))
        .current_dir(testdata())
        .args(["check", "--format", "json", "-", "--stdin-filename", name])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("chlint runs");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(text.as_bytes()).expect("written");
    drop(stdin);
    let out = child.wait_with_output().expect("chlint ends");
    let json: Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    json["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["file"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn a_merge_file_from_standard_input_is_checked_as_an_override() {
    // Broken: reported (no group on disk lists it).
    let text = "<clickhouse>\n  <listen_host>0.0.0.0</listen_host\n</clickhouse>\n";
    let found = check_stdin("config.d/network.xml", text);
    let expected = [("CH900".to_string(), "config.d/network.xml".to_string(), 2)];
    assert_eq!(found, expected);
    // Sound: merged over the shipped files, as the same file on disk is.
    let text = "<clickhouse>\n  <listen_host>0.0.0.0</listen_host>\n</clickhouse>\n";
    let found = check_stdin("config.d/network.xml", text);
    let ch101 = ("CH101".to_string(), "config.d/network.xml".to_string(), 2);
    assert!(found.contains(&ch101), "{found:?}");
}

#[test]
fn chart_files_clickhouse_does_not_read_are_not_configurations() {
    // Bitnami's configdFiles: README.txt (broken YAML, were it read) beside
    // a broken network.xml; only the latter is ClickHouse's.
    let (_, found) = findings("helm-bitnami", &testdata());
    let ch900: Vec<_> = found
        .iter()
        .filter(|(r, ..)| r == "CH900")
        .map(|(_, f, l, _)| (f.as_str(), *l))
        .collect();
    assert_eq!(ch900, [("helm-bitnami/values.yaml", 13)], "{found:#?}");
}
