//! Trusted configuration on a pull request: `check --config-from-git BASE`
//! runs with the base commit's `.chlint.toml` and baseline, whatever the
//! pull request changed, and `review-changes --base BASE` lists every
//! suppression, configuration and baseline change it makes, with file and
//! line. Each test builds a small git repository: a base commit, then a
//! head commit that tries to quiet chlint.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::scratch::Scratch;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/trust/deploy");

/// `git ARGS` in `dir`, isolated from the machine's git configuration.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn chlint(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chlint"))
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("chlint runs")
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn commit(dir: &Path, message: &str) -> String {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", message]);
    git(dir, &["rev-parse", "HEAD"])
}

/// (rule, file, line) of every finding of a JSON report.
fn findings(out: &Output) -> Vec<(String, String, u64)> {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["file"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn has(found: &[(String, String, u64)], rule: &str, file: &str, line: u64) -> bool {
    found
        .iter()
        .any(|(r, f, l)| r == rule && f == file && *l == line)
}

const CONFIG_A: &str = "select = [\"CH101\", \"CH106\"]\n";

/// A repository whose base commit has `deploy/`, `.chlint.toml` (config A:
/// CH101 and CH106 only) and a baseline recording CH106; returns it and the
/// base commit.
fn base_repo(label: &str) -> (Scratch, String) {
    let s = Scratch::new(label).unwrap();
    let dir = s.path();
    git(dir, &["init", "-q", "-b", "main"]);
    for name in ["config.xml", "users.xml"] {
        let text = std::fs::read_to_string(Path::new(FIXTURE).join(name)).unwrap();
        write(&dir.join("deploy").join(name), &text);
    }
    write(&dir.join(".chlint.toml"), CONFIG_A);
    let out = chlint(
        dir,
        &[
            "check",
            "--select",
            "CH106",
            "--write-baseline",
            "chlint-baseline.json",
            "deploy",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let base = commit(dir, "base");
    (s, base)
}

/// The pull request: `exclude = ["**"]`, a suppression comment in a new
/// file with an odd name, and CH101 recorded in the baseline.
fn hostile_head(dir: &Path) -> String {
    write(
        &dir.join(".chlint.toml"),
        &format!("{CONFIG_A}exclude = [\"**\"]\n"),
    );
    write(
        &dir.join("deploy/config.d/odd, name:.yaml"),
        "listen_host: 0.0.0.0\n# chlint: ignore[CH203] only the BI tool connects\nmysql_port: 9004\n",
    );
    let out = chlint(
        dir,
        &[
            "check",
            "--no-config",
            "--select",
            "CH101,CH106",
            "--write-baseline",
            "chlint-baseline.json",
            "deploy",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    commit(dir, "quiet chlint")
}

#[test]
fn the_base_commits_configuration_and_baseline_decide_the_run() {
    let (s, base) = base_repo("trust-run");
    let dir = s.path();
    hostile_head(dir);

    // The attack, without trusted configuration: nothing is reported.
    let out = chlint(
        dir,
        &[
            "check",
            "--format",
            "json",
            "--baseline",
            "chlint-baseline.json",
            "deploy",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(findings(&out).is_empty());

    // With the base's: config A (no exclude) and the base baseline (CH106
    // only), so CH101 is still reported and CH106 still excused.
    let out = chlint(
        dir,
        &[
            "check",
            "--format",
            "json",
            "--config-from-git",
            &base,
            "--baseline",
            "chlint-baseline.json",
            "deploy",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let found = findings(&out);
    assert!(has(&found, "CH101", "deploy/users.xml", 4), "{found:?}");
    assert!(
        found.iter().all(|(r, _, _)| r == "CH101"),
        "config A selects CH101 and CH106, the base baseline excuses CH106: {found:?}"
    );
}

#[test]
fn a_nested_configuration_the_pull_request_adds_is_not_used() {
    let (s, base) = base_repo("trust-nested");
    let dir = s.path();
    write(&dir.join("deploy/.chlint.toml"), "exclude = [\"**\"]\n");
    commit(dir, "nested");
    let run = |trusted: bool| {
        let mut args = vec!["check", "--format", "json"];
        if trusted {
            args.extend(["--config-from-git", base.as_str()]);
        }
        args.push("deploy");
        findings(&chlint(dir, &args))
    };
    assert!(run(false).is_empty(), "the nested file excludes all");
    let found = run(true);
    assert!(has(&found, "CH101", "deploy/users.xml", 4), "{found:?}");
    assert!(has(&found, "CH106", "deploy/users.xml", 6), "{found:?}");
}

/// Each file's own nearest `.chlint.toml`, as the base commit has it: a
/// run from the repository root uses the base's `deploy/.chlint.toml` for
/// the files under `deploy/`, not the root's, and not the pull request's.
#[test]
fn each_file_takes_its_nearest_configuration_from_the_base() {
    let (s, _) = base_repo("trust-per-file");
    let dir = s.path();
    write(&dir.join("deploy/.chlint.toml"), "ignore = [\"CH106\"]\n");
    let base = commit(dir, "nested in the base");
    write(&dir.join("deploy/.chlint.toml"), "exclude = [\"**\"]\n");
    commit(dir, "quiet deploy");
    let out = chlint(
        dir,
        &["check", "--format", "json", "--config-from-git", &base, "."],
    );
    let found = findings(&out);
    assert!(has(&found, "CH101", "deploy/users.xml", 4), "{found:?}");
    assert!(
        !found.iter().any(|(r, _, _)| r == "CH106"),
        "the base's deploy/.chlint.toml ignores CH106: {found:?}"
    );
    assert!(
        found.iter().any(|(r, _, _)| r != "CH101"),
        "the root's config A (CH101 and CH106 only) does not apply under deploy/: {found:?}"
    );
}

#[test]
fn without_a_configuration_or_baseline_in_the_base_none_is_used() {
    let s = Scratch::new("trust-none").unwrap();
    let dir = s.path();
    git(dir, &["init", "-q", "-b", "main"]);
    for name in ["config.xml", "users.xml"] {
        let text = std::fs::read_to_string(Path::new(FIXTURE).join(name)).unwrap();
        write(&dir.join("deploy").join(name), &text);
    }
    let base = commit(dir, "base");
    write(&dir.join(".chlint.toml"), "ignore = [\"CH1\"]\n");
    let out = chlint(
        dir,
        &[
            "check",
            "--no-config",
            "--write-baseline",
            "baseline.json",
            "deploy",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    commit(dir, "add config and baseline");

    let out = chlint(
        dir,
        &[
            "check",
            "--format",
            "json",
            "--config-from-git",
            &base,
            "--baseline",
            "baseline.json",
            "deploy",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(has(&findings(&out), "CH101", "deploy/users.xml", 4));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("baseline.json: not in commit") && stderr.contains("no finding is excused"),
        "a missing baseline is said, not skipped in silence: {stderr}"
    );

    let out = chlint(
        dir,
        &[
            "review-changes",
            "--base",
            &base,
            "--baseline",
            "baseline.json",
            "--format",
            "github",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("::warning file=.chlint.toml,line=1,title=chlint%3A configuration changed::"),
        "{text}"
    );
    assert!(
        text.contains("::warning file=baseline.json,line="),
        "{text}"
    );
    assert!(
        text.contains(
            "records a CH101 finding (default-user-without-password) in deploy/users.xml"
        ),
        "{text}"
    );
}

/// `::warning file=F,line=L` prefixes of the annotations.
fn annotated(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("::warning ")?;
            let props = rest.split("::").next()?;
            let mut out: Vec<&str> = props
                .split(',')
                .filter(|p| p.starts_with("file=") || p.starts_with("line="))
                .collect();
            out.sort();
            Some(out.join(" "))
        })
        .collect()
}

#[test]
fn every_change_that_quiets_chlint_is_annotated_at_its_line() {
    let (s, base) = base_repo("trust-review");
    let dir = s.path();
    let baseline_before = std::fs::read_to_string(dir.join("chlint-baseline.json")).unwrap();
    hostile_head(dir);
    let baseline_after = std::fs::read_to_string(dir.join("chlint-baseline.json")).unwrap();
    // The new entry's line: the CH101 record's fingerprint.
    let ch101_line = baseline_after
        .lines()
        .position(|l| l.contains("\"CH101\""))
        .map(|i| i + 3)
        .unwrap();
    assert!(
        !baseline_before.contains("CH101")
            && baseline_after
                .lines()
                .nth(ch101_line - 1)
                .unwrap()
                .contains("fingerprint")
    );

    let out = chlint(
        dir,
        &[
            "review-changes",
            "--base",
            &base,
            "--baseline",
            "chlint-baseline.json",
            "--format",
            "github",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut got = annotated(&text);
    got.sort();
    let mut want = vec![
        "file=.chlint.toml line=2".to_string(),
        format!("file=chlint-baseline.json line={ch101_line}"),
        "file=deploy/config.d/odd%2C name%3A.yaml line=2".to_string(),
    ];
    want.sort();
    assert_eq!(got, want, "{text}");
    assert!(
        text.contains("suppression of CH203, reason: \"only the BI tool connects\""),
        "{text}"
    );
    assert!(text.contains("title=chlint%3A suppression added::"));
    assert!(
        text.contains("Settings changed: `exclude` now [\"**\"] (was unset)"),
        "the annotation says what the configuration becomes: {text}"
    );

    // Nothing to review between a commit and itself.
    let out = chlint(
        dir,
        &["review-changes", "--base", "HEAD", "--format", "github"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
}

#[test]
fn suppressions_already_in_the_base_are_not_reported_again() {
    let (s, _) = base_repo("trust-old-suppression");
    let dir = s.path();
    let users = dir.join("deploy/users.xml");
    let text = std::fs::read_to_string(&users).unwrap();
    let with = text.replacen(
        "<default>",
        "<default> <!-- chlint: ignore[CH106] test rig -->",
        1,
    );
    write(&users, &with);
    let base = commit(dir, "a reviewed suppression");
    // The pull request moves it above and adds a new one below.
    write(
        &users,
        &format!("<!-- chlint: ignore[CH101] new -->\n{with}"),
    );
    commit(dir, "one more");
    let out = chlint(
        dir,
        &["review-changes", "--base", &base, "--format", "github"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(annotated(&text), ["file=deploy/users.xml line=1"], "{text}");
}

#[test]
fn a_shallow_clone_must_fetch_the_base_and_then_works() {
    let (origin, base) = base_repo("trust-origin");
    hostile_head(origin.path());
    git(
        origin.path(),
        &["config", "uploadpack.allowAnySHA1InWant", "true"],
    );
    let clone = Scratch::new("trust-shallow").unwrap();
    let url = format!("file://{}", origin.path().display());
    git(clone.path(), &["clone", "-q", "--depth", "1", &url, "work"]);
    let work: PathBuf = clone.path().join("work");

    let out = chlint(&work, &["check", "--config-from-git", &base, "deploy"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an absent base is an error, not a silent fallback"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("is no commit of this repository")
            && stderr.contains("git fetch --depth=1"),
        "{stderr}"
    );

    git(&work, &["fetch", "-q", "--depth=1", "origin", &base]);
    let out = chlint(
        &work,
        &[
            "check",
            "--format",
            "json",
            "--config-from-git",
            &base,
            "deploy",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(has(&findings(&out), "CH101", "deploy/users.xml", 4));
    let out = chlint(
        &work,
        &[
            "review-changes",
            "--base",
            &base,
            "--baseline",
            "chlint-baseline.json",
            "--format",
            "github",
        ],
    );
    assert_eq!(
        annotated(&String::from_utf8_lossy(&out.stdout)).len(),
        3,
        "{out:?}"
    );
}

#[test]
fn revisions_and_links_are_refused_clearly() {
    let (s, _) = base_repo("trust-refuse");
    let dir = s.path();
    for rev in ["--output=/tmp/x", "no-such-branch", ""] {
        let out = chlint(dir, &["check", "--config-from-git", rev, "deploy"]);
        assert_eq!(out.status.code(), Some(2), "{rev}: {out:?}");
        let out = chlint(dir, &["review-changes", "--base", rev]);
        assert_eq!(out.status.code(), Some(2), "{rev}: {out:?}");
    }
    // A base whose .chlint.toml is a link: not followed.
    std::fs::remove_file(dir.join(".chlint.toml")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", dir.join(".chlint.toml")).unwrap();
    let linked = commit(dir, "link");
    let out = chlint(dir, &["check", "--config-from-git", &linked, "deploy"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("not a regular file in the commit"),
        "{stderr}"
    );
    assert!(!stderr.contains("root:"), "{stderr}");
}

#[test]
fn moving_or_deleting_a_configuration_is_annotated() {
    let (s, _) = base_repo("trust-move");
    let dir = s.path();
    write(&dir.join("ci/lenient.toml"), "exclude = [\"**\"]\n");
    let base = commit(dir, "a lenient file, unused");
    git(dir, &["mv", "ci/lenient.toml", "deploy/.chlint.toml"]);
    git(dir, &["rm", "-q", ".chlint.toml"]);
    commit(dir, "move it into use");
    let out = chlint(
        dir,
        &["review-changes", "--base", &base, "--format", "github"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let mut got = annotated(&text);
    got.sort();
    assert_eq!(
        got,
        ["file=.chlint.toml", "file=deploy/.chlint.toml"],
        "{text}"
    );
    assert!(
        text.contains("deletes or moves chlint's configuration .chlint.toml"),
        "{text}"
    );
}

#[test]
fn a_named_configuration_file_is_read_from_the_base_and_its_changes_annotated() {
    let (s, _) = base_repo("trust-named");
    let dir = s.path();
    write(&dir.join("ci/chlint.toml"), "select = [\"CH101\"]\n");
    let base = commit(dir, "named config");
    write(
        &dir.join("ci/chlint.toml"),
        "select = [\"CH101\"]\nignore = [\"default-user-without-password\"]\n",
    );
    commit(dir, "quiet CH101");

    let out = chlint(
        dir,
        &[
            "check",
            "--format",
            "json",
            "--config",
            "ci/chlint.toml",
            "deploy",
        ],
    );
    assert!(
        findings(&out).is_empty(),
        "the pull request's file quiets it"
    );
    let out = chlint(
        dir,
        &[
            "check",
            "--format",
            "json",
            "--config-from-git",
            &base,
            "--config",
            "ci/chlint.toml",
            "deploy",
        ],
    );
    let found = findings(&out);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(has(&found, "CH101", "deploy/users.xml", 4), "{found:?}");

    let out = chlint(
        dir,
        &[
            "review-changes",
            "--base",
            &base,
            "--config",
            "ci/chlint.toml",
            "--format",
            "github",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(annotated(&text), ["file=ci/chlint.toml line=2"], "{text}");

    // A configuration the base lacks, or cannot parse, stops the run.
    let out = chlint(
        dir,
        &[
            "check",
            "--config-from-git",
            &base,
            "--config",
            "ci/none.toml",
            "deploy",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such configuration file in commit"));
    write(&dir.join(".chlint.toml"), "select = [\n");
    let broken = commit(dir, "broken");
    let out = chlint(dir, &["check", "--config-from-git", &broken, "deploy"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(".chlint.toml (at {})", &broken[..12])),
        "the error names the file and the commit: {stderr}"
    );
}

#[test]
fn a_file_name_cannot_start_a_workflow_command() {
    let (s, base) = base_repo("trust-name");
    let dir = s.path();
    write(
        &dir.join("deploy/x\n::error::owned.yaml"),
        "# chlint: ignore[CH101] why\nk: v\n",
    );
    commit(dir, "odd name");
    let out = chlint(
        dir,
        &["review-changes", "--base", &base, "--format", "github"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.starts_with("::warning file=deploy/x\u{FFFD}%3A%3Aerror%3A%3Aowned.yaml,line=1,"),
        "{text}"
    );
}
