//! The CI-facing contracts of `chlint check`, through the binary: SARIF
//! (validated against the SARIF 2.1.0 schema), GitHub annotations, inline
//! suppressions, the configuration file and its JSON Schema, baselines,
//! thresholds and standard input.

mod common;

use common::snapshot::assert_snapshot;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn chlint_in(dir: &Path, args: &[&str], stdin: Option<&str>) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_chlint"));
    cmd.args(args)
        .current_dir(dir)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("chlint starts");
    if let Some(text) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().expect("chlint runs");
    Run {
        code: out.status.code().expect("exited normally"),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 output"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8 output"),
    }
}

fn chlint(args: &[&str]) -> Run {
    chlint_in(&root(), args, None)
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

/// A fresh folder under Cargo's temporary folder for integration tests.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn rules_of(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

// ---------------------------------------------------------------------------
// SARIF

fn sarif_validator() -> jsonschema::Validator {
    let schema = json(include_str!("schemas/sarif-schema-2.1.0.json"));
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles")
}

fn assert_valid_sarif(text: &str) -> Value {
    let log = json(text);
    let errors: Vec<String> = sarif_validator()
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF is invalid:\n{}",
        errors.join("\n")
    );
    log
}

/// Secret values written in the fixtures: no output format may print them.
const SECRETS: [&str; 4] = [
    "chlint-test-alice-plaintext",
    "chlint-test-interserver-plaintext",
    "chlint-test-zk-plaintext",
    "chlint-test-replica-plaintext",
];

#[test]
fn the_vendored_sarif_schema_is_the_shared_one() {
    let shared = root().join("../shared/schemas/sarif-schema-2.1.0.json");
    if std::env::var_os("CHLINT_SKIP_SHARED").is_some() && !shared.exists() {
        return;
    }
    let shared = std::fs::read_to_string(&shared).expect("../shared/schemas is present");
    assert_eq!(shared, include_str!("schemas/sarif-schema-2.1.0.json"));
}

#[test]
fn sarif_is_valid_and_complete() {
    let run = chlint(&["check", "--format", "sarif", "examples/open"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let log = assert_valid_sarif(&run.stdout);
    assert_eq!(log["version"], "2.1.0");
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "one run");
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "chlint");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    assert!(driver["informationUri"]
        .as_str()
        .unwrap()
        .starts_with("https://"));
    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), chlint::rules::RULES.len());
    for (rule, r) in chlint::rules::RULES.iter().zip(rules) {
        assert_eq!(r["id"], rule.code);
        assert_eq!(r["name"], rule.name);
        assert_eq!(r["shortDescription"]["text"], rule.summary);
        assert!(!r["fullDescription"]["text"].as_str().unwrap().is_empty());
        assert_eq!(r["help"]["markdown"], rule.page());
        assert_eq!(r["help"]["text"], rule.page());
        let uri = r["helpUri"].as_str().unwrap();
        let page = uri.rsplit("/rules/").next().unwrap();
        assert!(
            root().join("rules").join(page).is_file(),
            "{}: helpUri names rules/{page}, which does not exist",
            rule.code
        );
        let score: f64 = r["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let band = match rule.severity.as_str() {
            "critical" => 9.0..=10.0,
            "high" => 7.0..=8.9,
            "medium" => 4.0..=6.9,
            _ => 0.1..=3.9,
        };
        assert!(band.contains(&score), "{}: {score}", rule.code);
        assert!(r["properties"]["tags"]
            .as_array()
            .unwrap()
            .contains(&"security".into()));
    }
    let results = runs[0]["results"].as_array().unwrap();
    let plain = json(&chlint(&["check", "--format", "json", "examples/open"]).stdout);
    assert_eq!(results.len(), plain["findings"].as_array().unwrap().len());
    for (res, f) in results.iter().zip(plain["findings"].as_array().unwrap()) {
        assert_eq!(res["ruleId"], f["rule"]);
        let region = &res["locations"][0]["physicalLocation"]["region"];
        assert_eq!(region["startLine"], f["line"]);
        assert_eq!(region["startColumn"], f["column"]);
        assert_eq!(region["endLine"], f["end_line"]);
        assert_eq!(region["endColumn"], f["end_column"]);
        assert_eq!(
            res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            f["file"]
        );
        assert_eq!(
            res["relatedLocations"].as_array().map_or(0, Vec::len),
            f["related"].as_array().unwrap().len()
        );
        let level = match f["severity"].as_str().unwrap() {
            "critical" | "high" => "error",
            "medium" => "warning",
            _ => "note",
        };
        assert_eq!(res["level"], level);
        assert!(res["partialFingerprints"]["chlint/v1"].is_string());
    }
}

#[test]
fn sarif_of_every_rule_fixture_is_valid_and_holds_no_secret() {
    let validator = sarif_validator();
    for rule in chlint::rules::RULES {
        let dir = format!("testdata/rules/{}/fires", rule.code);
        let run = chlint(&["check", "--format", "sarif", &dir]);
        assert_ne!(run.code, 2, "{dir}: {}", run.stderr);
        let log = json(&run.stdout);
        let errors: Vec<String> = validator
            .iter_errors(&log)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{dir}:\n{}", errors.join("\n"));
        for s in SECRETS {
            assert!(!run.stdout.contains(s), "{dir}: SARIF prints a secret");
        }
        for format in ["github", "json"] {
            let out = chlint(&["check", "--format", format, &dir]).stdout;
            for s in SECRETS {
                assert!(!out.contains(s), "{dir}: {format} prints a secret");
            }
        }
    }
}

fn fingerprints(dir: &Path) -> Vec<(String, String, u64)> {
    let run = chlint_in(dir, &["check", "--format", "sarif", "."], None);
    let log = assert_valid_sarif(&run.stdout);
    let mut out: Vec<(String, String, u64)> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap().to_string(),
                r["partialFingerprints"]["chlint/v1"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                r["locations"][0]["physicalLocation"]["region"]["startLine"]
                    .as_u64()
                    .unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Insert lines at the top of a file, after its XML declaration if any.
fn insert_lines_above(path: &Path, lines: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    let (head, rest) = match text.strip_prefix("<?xml version=\"1.0\"?>\n") {
        Some(rest) => ("<?xml version=\"1.0\"?>\n", rest),
        None => ("", text.as_str()),
    };
    std::fs::write(path, format!("{head}{lines}{rest}")).unwrap();
}

#[test]
fn fingerprints_survive_lines_added_above() {
    let dir = scratch("fingerprints");
    copy_dir(&root().join("examples/open"), &dir);
    copy_dir(
        &root().join("testdata/rules/CH104/fires"),
        &dir.join("secrets"),
    );
    let before = fingerprints(&dir);
    assert!(before.len() > 10);
    let unique: std::collections::HashSet<&String> = before.iter().map(|(_, f, _)| f).collect();
    assert_eq!(unique.len(), before.len(), "fingerprints are unique");
    for f in [
        "users.xml",
        "config.xml",
        "config.d/network.xml",
        "secrets/config.d/replication.xml",
        "secrets/users.d/alice.xml",
    ] {
        insert_lines_above(
            &dir.join(f),
            "<!-- reviewed in OPS-1234 -->\n\n<!-- another comment -->\n",
        );
    }
    let after = fingerprints(&dir);
    let strip = |v: &[(String, String, u64)]| {
        let mut s: Vec<(String, String)> =
            v.iter().map(|(r, f, _)| (r.clone(), f.clone())).collect();
        s.sort();
        s
    };
    assert_eq!(strip(&before), strip(&after));
    assert_ne!(
        before.iter().map(|x| x.2).collect::<Vec<_>>(),
        after.iter().map(|x| x.2).collect::<Vec<_>>(),
        "the lines did move"
    );
}

// ---------------------------------------------------------------------------
// GitHub annotations

#[test]
fn github_annotations_one_per_finding_escaped() {
    let run = chlint(&["check", "--format", "github", "examples/open"]);
    assert_eq!(run.code, 1);
    let plain = json(&chlint(&["check", "--format", "json", "examples/open"]).stdout);
    let findings = plain["findings"].as_array().unwrap();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), findings.len());
    for (line, f) in lines.iter().zip(findings) {
        let cmd = match f["severity"].as_str().unwrap() {
            "critical" | "high" => "error",
            "medium" => "warning",
            _ => "notice",
        };
        let want = format!(
            "::{cmd} file={},line={},col={},endColumn={},title={} {} ({})::",
            f["file"].as_str().unwrap(),
            f["line"],
            f["column"],
            f["end_column"],
            f["rule"].as_str().unwrap(),
            f["name"].as_str().unwrap(),
            f["severity"].as_str().unwrap(),
        );
        assert!(line.starts_with(&want), "{line}\nexpected {want}");
        let message = &line[want.len()..];
        assert!(message.starts_with(&f["message"].as_str().unwrap().replace('%', "%25")));
    }

    // A path with characters that are syntax in workflow commands.
    let dir = scratch("github-escaping/a,b:c%d");
    copy_dir(&root().join("examples/open"), &dir);
    let run = chlint_in(
        dir.parent().unwrap(),
        &["check", "--format", "github", "a,b:c%d"],
        None,
    );
    let first = run.stdout.lines().next().unwrap();
    assert!(
        first.contains("file=a%2Cb%3Ac%25d/config.xml,line=10,"),
        "{first}"
    );
    assert!(run.stdout.lines().all(|l| l.starts_with("::")));
}

// ---------------------------------------------------------------------------
// Suppressions

#[test]
fn suppressions_hide_findings_and_no_ignores_shows_them() {
    let dir = "testdata/rules/CH990/silent";
    let with = json(&chlint(&["check", "--format", "json", dir]).stdout);
    assert!(rules_of(&with).is_empty(), "{with}");
    let run = chlint(&["check", "--format", "json", "--no-ignores", dir]);
    let without = rules_of(&json(&run.stdout));
    assert_eq!(without, ["CH203", "CH203", "CH104"], "{}", run.stdout);
    assert_eq!(run.code, 1);
    // Human output says what it did not show.
    let human = chlint(&["check", dir]);
    assert_eq!(human.code, 0);
    assert!(
        human.stderr.contains("3 suppressed inline"),
        "{}",
        human.stderr
    );
}

#[test]
fn suppression_of_a_rule_that_does_not_run_is_not_unused() {
    let dir = "testdata/rules/CH990/fires";
    let all = rules_of(&json(&chlint(&["check", "--format", "json", dir]).stdout));
    assert_eq!(all, ["CH990", "CH990", "CH990"]);
    let run = chlint(&["check", "--format", "json", "--ignore", "CH202", dir]);
    assert_eq!(rules_of(&json(&run.stdout)), ["CH990"]);
}

// ---------------------------------------------------------------------------
// Configuration file

/// The `.chlint.toml` example in README.md.
fn readme_config_example() -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme
        .find("```toml\n")
        .expect("README has a ```toml example");
    let body = &readme[start + 8..];
    body[..body.find("```").unwrap()].to_string()
}

fn config_schema() -> jsonschema::Validator {
    let schema =
        json(&std::fs::read_to_string(root().join("schemas/chlint-config.schema.json")).unwrap());
    jsonschema::draft7::meta::validate(&schema).expect("a valid draft-07 schema");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

fn toml_as_json(text: &str) -> Value {
    let v: toml::Value = toml::from_str(text).expect("TOML");
    serde_json::to_value(v).unwrap()
}

#[test]
fn the_config_schema_accepts_the_documented_example_and_rejects_mistakes() {
    let schema = config_schema();
    let example = readme_config_example();
    let instance = toml_as_json(&example);
    let errors: Vec<String> = schema
        .iter_errors(&instance)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}\n{example}");
    chlint::config_file::parse(&example).expect("chlint reads the README example");
    for bad in [
        "selct = [\"CH1\"]",
        "min-severity = \"severe\"",
        "[severity]\nCH101 = \"urgent\"",
        "exclude = \"legacy\"",
        "[per-path-ignores]\n\"dev/**\" = \"CH202\"",
    ] {
        assert!(!schema.is_valid(&toml_as_json(bad)), "schema accepts {bad}");
        let parsed = chlint::config_file::parse(bad).map(|f| {
            chlint::settings::Settings::resolve(
                Some(&chlint::config_file::Config {
                    path: "x.toml".into(),
                    dir: "/".into(),
                    file: f,
                }),
                &Default::default(),
            )
            .map(|_| ())
        });
        assert!(
            !matches!(parsed, Ok(Ok(()))),
            "chlint accepts {bad}, which the schema rejects"
        );
    }
}

/// A repository with the open example in `deploy/`.
fn repo(name: &str) -> PathBuf {
    let dir = scratch(name);
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    copy_dir(&root().join("examples/open"), &dir.join("deploy/open"));
    dir
}

#[test]
fn config_is_found_upwards_and_stops_at_the_repository_root() {
    let dir = repo("config-discovery");
    write(&dir.join(".chlint.toml"), "select = [\"CH101\"]\n");
    let run = chlint_in(
        &dir.join("deploy"),
        &["check", "--format", "json", "open"],
        None,
    );
    assert_eq!(rules_of(&json(&run.stdout)), ["CH101"], "{}", run.stderr);
    // From a path given relative to the repository root, too.
    let run = chlint_in(
        &dir,
        &["check", "--format", "json", "deploy/open/users.xml"],
        None,
    );
    assert_eq!(rules_of(&json(&run.stdout)), ["CH101"]);
    // --no-config and --config.
    let run = chlint_in(
        &dir,
        &["check", "--format", "json", "--no-config", "deploy"],
        None,
    );
    assert!(rules_of(&json(&run.stdout)).len() > 5);
    write(&dir.join("other.toml"), "select = [\"CH2\"]\n");
    let run = chlint_in(
        &dir,
        &[
            "check",
            "--format",
            "json",
            "--config",
            "other.toml",
            "deploy",
        ],
        None,
    );
    assert!(rules_of(&json(&run.stdout))
        .iter()
        .all(|r| r.starts_with("CH2")));
    // A configuration above the repository root is not used.
    let nested = dir.join("deploy/vendored");
    std::fs::create_dir_all(nested.join(".git")).unwrap();
    copy_dir(&root().join("examples/open"), &nested.join("open"));
    let run = chlint_in(&nested, &["check", "--format", "json", "open"], None);
    assert!(rules_of(&json(&run.stdout)).len() > 5);
}

#[test]
fn config_errors_exit_2_with_a_clear_message() {
    let dir = repo("config-errors");
    for (text, says) in [
        ("selct = [\"CH1\"]\n", "unknown field `selct`"),
        ("ignore = [\"CH777\"]\n", "`CH777` is not a rule"),
        ("min-severity = \"severe\"\n", "`severe` is not a severity"),
        ("exclude = [\"a[\"]\n", "invalid glob"),
        ("select = \"CH1\"\n", "invalid type"),
    ] {
        write(&dir.join(".chlint.toml"), text);
        let run = chlint_in(&dir, &["check", "deploy"], None);
        assert_eq!(run.code, 2, "{text}");
        assert!(run.stdout.is_empty());
        assert!(
            run.stderr.contains(".chlint.toml") && run.stderr.contains(says),
            "{text}: {}",
            run.stderr
        );
    }
    std::fs::remove_file(dir.join(".chlint.toml")).unwrap();
    let run = chlint_in(&dir, &["check", "--config", "missing.toml", "deploy"], None);
    assert_eq!(run.code, 2);
    let run = chlint_in(&dir, &["check", "--select", "CH9999", "deploy"], None);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--select"), "{}", run.stderr);
}

#[test]
fn config_keys_take_effect() {
    let dir = repo("config-keys");
    copy_dir(&root().join("examples/open"), &dir.join("legacy/open"));
    let all = rules_of(&json(
        &chlint_in(
            &dir,
            &["check", "--format", "json", "--no-config", "deploy"],
            None,
        )
        .stdout,
    ));
    assert!(all.contains(&"CH203".to_string()) && all.contains(&"CH105".to_string()));
    write(
        &dir.join(".chlint.toml"),
        r#"
ignore = ["mysql-postgres-port-enabled"]
exclude = ["legacy/"]
min-severity = "medium"
fail-on = "critical"

[severity]
CH105 = "low"
CH209 = "critical"

[per-path-ignores]
"deploy/**/users.d/*.xml" = ["CH104"]
"#,
    );
    let run = chlint_in(&dir, &["check", "--format", "json", "."], None);
    let report = json(&run.stdout);
    let rules = rules_of(&report);
    assert!(!rules.contains(&"CH203".to_string()), "ignore: {rules:?}");
    assert!(
        !rules.contains(&"CH105".to_string()),
        "override + min-severity: {rules:?}"
    );
    assert!(!rules.contains(&"CH104".to_string()), "per-path: {rules:?}");
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["file"].as_str().unwrap().starts_with("deploy/")));
    let ch209 = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "CH209")
        .unwrap();
    assert_eq!(ch209["severity"], "critical");
    assert_eq!(run.code, 1, "CH101 and CH209 are critical");
    // The command line wins over the file.
    let run = chlint_in(
        &dir,
        &[
            "check",
            "--format",
            "json",
            "--min-severity",
            "low",
            "--select",
            "CH105",
            ".",
        ],
        None,
    );
    assert_eq!(rules_of(&json(&run.stdout)), ["CH105"]);
    assert_eq!(run.code, 0, "low is below fail-on = critical");
    // --no-ignores brings back what per-path-ignores hid, not what exclude hid.
    let run = chlint_in(
        &dir,
        &["check", "--format", "json", "--no-ignores", "."],
        None,
    );
    let report = json(&run.stdout);
    assert!(rules_of(&report).contains(&"CH104".to_string()));
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["file"].as_str().unwrap().starts_with("deploy/")));
}

// ---------------------------------------------------------------------------
// Thresholds

#[test]
fn thresholds_decide_the_exit_code() {
    let code = |args: &[&str]| chlint(args).code;
    assert_eq!(code(&["check", "examples/open"]), 1);
    assert_eq!(
        code(&["check", "--fail-on", "critical", "examples/open"]),
        1
    );
    assert_eq!(code(&["check", "--exit-zero", "examples/open"]), 0);
    // Only medium findings: below a fail threshold of high.
    let medium = ["check", "--select", "CH203", "examples/open"];
    assert_eq!(code(&medium), 1);
    assert_eq!(code(&[&medium[..], &["--fail-on", "high"]].concat()), 0);
    assert_eq!(code(&[&medium[..], &["--fail-on", "medium"]].concat()), 1);
    let run = chlint(&[
        "check",
        "--format",
        "json",
        "--min-severity",
        "critical",
        "examples/open",
    ]);
    let sev: Vec<Value> = json(&run.stdout)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["severity"].clone())
        .collect();
    assert_eq!(sev, [Value::from("critical")]);
    // A bad value is a usage error.
    assert_eq!(code(&["check", "--fail-on", "severe", "examples/open"]), 2);
    assert_eq!(code(&["check", "--exit-zero", "no/such/path"]), 2);
}

// ---------------------------------------------------------------------------
// Baseline

#[test]
fn baseline_hides_known_findings_and_survives_unrelated_edits() {
    let dir = repo("baseline");
    let run = chlint_in(
        &dir,
        &[
            "check",
            "--write-baseline",
            ".chlint-baseline.json",
            "deploy",
        ],
        None,
    );
    assert_eq!(run.code, 0, "writing a baseline succeeds: {}", run.stderr);
    let written = std::fs::read_to_string(dir.join(".chlint-baseline.json")).unwrap();
    let base = json(&written);
    assert_eq!(base["version"], 1);
    let entries = base["findings"].as_array().unwrap();
    assert!(entries.len() > 5);
    assert!(entries.iter().all(
        |e| e["file"].as_str().unwrap().starts_with("deploy/open/") && e.get("line").is_none()
    ));

    let check = |cwd: &Path, args: &[&str]| chlint_in(cwd, args, None);
    let run = check(
        &dir,
        &["check", "--baseline", ".chlint-baseline.json", "deploy"],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stderr.contains("in the baseline"), "{}", run.stderr);
    // From another working folder, with other paths: the same files.
    let run = check(
        &dir.join("deploy/open"),
        &["check", "--baseline", "../../.chlint-baseline.json", "."],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);

    // Unrelated edits: lines added above every finding, a secret changed.
    insert_lines_above(&dir.join("deploy/open/users.xml"), "<!-- edited -->\n\n");
    insert_lines_above(&dir.join("deploy/open/config.xml"), "<!-- edited -->\n");
    let alice = dir.join("deploy/open/users.d/analytics.xml");
    let text = std::fs::read_to_string(&alice).unwrap();
    let pw = text
        .split("<password>")
        .nth(1)
        .and_then(|t| t.split("</password>").next())
        .expect("analytics.xml has a clear password");
    std::fs::write(&alice, text.replace(&format!(">{pw}<"), ">another-one<")).unwrap();
    let run = check(
        &dir,
        &[
            "check",
            "--format",
            "json",
            "--baseline",
            ".chlint-baseline.json",
            "deploy",
        ],
    );
    assert_eq!(
        rules_of(&json(&run.stdout)),
        Vec::<String>::new(),
        "{}",
        run.stdout
    );
    assert!(
        !written.contains(&format!(">{pw}<")),
        "the baseline holds no secret"
    );

    // A new problem is reported, alone.
    write(
        &dir.join("deploy/open/users.d/etl.xml"),
        "<clickhouse><users><etl><password>chlint-etl-secret-value</password></etl></users></clickhouse>\n",
    );
    let run = check(
        &dir,
        &[
            "check",
            "--format",
            "json",
            "--baseline",
            ".chlint-baseline.json",
            "deploy",
        ],
    );
    let new = json(&run.stdout);
    assert!(!rules_of(&new).is_empty());
    assert!(new["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["file"].as_str().unwrap().ends_with("users.d/etl.xml")));
    assert_eq!(run.code, 1);

    // A second finding with the same key is new too (counts, not sets): a
    // second user in analytics.xml with an identical clear-password line.
    std::fs::remove_file(dir.join("deploy/open/users.d/etl.xml")).unwrap();
    let text = std::fs::read_to_string(&alice).unwrap();
    let twin = text
        .split("<analytics>")
        .nth(1)
        .and_then(|t| t.split("</analytics>").next())
        .unwrap();
    std::fs::write(
        &alice,
        text.replace(
            "</users>",
            &format!("    <analytics2>{twin}</analytics2>\n    </users>"),
        ),
    )
    .unwrap();
    let run = check(
        &dir,
        &[
            "check",
            "--format",
            "json",
            "--select",
            "CH104",
            "--baseline",
            ".chlint-baseline.json",
            "deploy",
        ],
    );
    let report = json(&run.stdout);
    assert_eq!(rules_of(&report), ["CH104"], "{}", run.stdout);
    assert!(report["findings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("analytics2"));

    // A file that is not a baseline is a usage error.
    write(&dir.join("bad.json"), "{\"findings\": 3}");
    assert_eq!(
        check(&dir, &["check", "--baseline", "bad.json", "deploy"]).code,
        2
    );
}

// ---------------------------------------------------------------------------
// Standard input

#[test]
fn stdin_is_checked_under_its_name() {
    let users = std::fs::read_to_string(root().join("examples/open/users.xml")).unwrap();
    // Named as the file it stands for: merged with the files beside it.
    let run = chlint_in(
        &root(),
        &[
            "check",
            "--format",
            "json",
            "--stdin-filename",
            "examples/open/users.xml",
            "-",
        ],
        Some(&users.replace("<ip>::/0</ip>", "<ip>::1</ip>")),
    );
    let report = json(&run.stdout);
    let rules = rules_of(&report);
    assert!(
        !rules.contains(&"CH101".to_string()),
        "stdin's text is used: {rules:?}"
    );
    assert!(rules.contains(&"CH201".to_string()) || rules.contains(&"CH202".to_string()));
    // Unnamed: the content decides XML or YAML.
    let yaml = "listen_host: 0.0.0.0\nusers:\n  default:\n    password: ''\n";
    let run = chlint_in(&root(), &["check", "--format", "json", "-"], Some(yaml));
    let report = json(&run.stdout);
    assert!(
        rules_of(&report).contains(&"CH101".to_string()),
        "{}",
        run.stdout
    );
    assert!(report["findings"][0]["file"]
        .as_str()
        .unwrap()
        .starts_with("<stdin>"));
    // --stdin-filename alone implies `-`; suppressions in stdin apply.
    let run = chlint_in(
        &root(),
        &[
            "check",
            "--format",
            "json",
            "--stdin-filename",
            "deploy/listen.yaml",
        ],
        Some("# chlint: ignore[CH201] behind the VPN\nlisten_host: 0.0.0.0\n"),
    );
    assert!(
        !rules_of(&json(&run.stdout)).contains(&"CH201".to_string()),
        "{}",
        run.stdout
    );
    assert_eq!(
        chlint_in(&root(), &["check", "-", "-"], Some("")).code,
        2,
        "`-` once"
    );
}

// ---------------------------------------------------------------------------
// Snapshots of the exact SARIF and GitHub output (UPDATE_SNAPSHOTS=1 rewrites
// them; review the diff).

#[test]
fn sarif_and_github_snapshots_of_the_open_example() {
    let sarif = chlint(&["check", "--format", "sarif", "examples/open"]).stdout;
    let mut log = json(&sarif);
    // The folder chlint ran in differs from machine to machine.
    log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] = "file:///checkout/".into();
    // Rule pages are checked above; keep the snapshot about the results.
    for r in log["runs"][0]["tool"]["driver"]["rules"]
        .as_array_mut()
        .unwrap()
    {
        r["help"]["text"] = "<page>".into();
        r["help"]["markdown"] = "<page>".into();
    }
    assert_snapshot(
        "open.sarif",
        &(serde_json::to_string_pretty(&log).unwrap() + "\n"),
    );
    let github = chlint(&["check", "--format", "github", "examples/open"]).stdout;
    assert_snapshot("open.github.txt", &github);
}

/// What a pre-commit hook passes: only the changed merge file. The main
/// files beside its folder still decide how it merges, so the findings are
/// those of checking the whole folder (where the walker finds them).
#[test]
fn a_named_merge_file_is_merged_with_the_main_files_beside_it() {
    let found = |path: &str| -> Vec<(String, String, u64)> {
        let run = chlint(&["check", "--format", "json", path]);
        assert_eq!(run.code, 1, "{}", run.stderr);
        let mut found: Vec<_> = json(&run.stdout)["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| {
                (
                    f["rule"].as_str().unwrap_or_default().to_string(),
                    f["file"].as_str().unwrap_or_default().to_string(),
                    f["line"].as_u64().unwrap_or(0),
                )
            })
            .collect();
        found.sort();
        found
    };
    let named = found("examples/open/config.d/network.xml");
    let expected = [
        ("CH202", "examples/open/config.xml", 10),
        ("CH101", "examples/open/users.xml", 14),
        ("CH103", "examples/open/users.d/analytics.xml", 6),
    ];
    for (rule, file, line) in expected {
        let f = (rule.to_string(), file.to_string(), line);
        assert!(named.contains(&f), "{f:?} not in {named:#?}");
    }
    assert_eq!(named, found("examples/open"));
}

/// Deployment files are lowered on every core, Terraform's on a thread of
/// its own: the report is the same whatever the number of threads, and a
/// single thread does not wait for itself.
#[test]
fn the_report_does_not_depend_on_the_number_of_threads() {
    let run = |threads: &str| {
        let child = Command::new(env!("CARGO_BIN_EXE_chlint"))
            .args(["check", "--format", "json", "testdata", "examples"])
            .current_dir(root())
            .env("RAYON_NUM_THREADS", threads)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("chlint starts");
        let pid = child.id();
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || done.send(child.wait_with_output()));
        match finished.recv_timeout(std::time::Duration::from_secs(120)) {
            Ok(out) => String::from_utf8(out.expect("chlint runs").stdout).expect("UTF-8"),
            Err(_) => {
                Command::new("kill").arg(pid.to_string()).status().ok();
                panic!("chlint with {threads} thread(s) did not finish");
            }
        }
    };
    let one = run("1");
    assert!(json(&one)["findings"].as_array().unwrap().len() > 100);
    assert_eq!(one, run("2"));
    assert_eq!(one, run("4"));
}
