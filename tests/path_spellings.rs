//! One verdict however a path is spelled: every scenario of `testdata/` and
//! `examples/` checked under many spellings of the same folder (`.`, `./`,
//! absolute, from the parent, `a/../a`, through a linked folder, its files
//! listed relative, `./` or absolute, `..` from a subfolder, named twice)
//! gives the same findings (rule, canonical file, line, column, message,
//! related locations) and the same exit code. SARIF locations and
//! fingerprints and baselines do not depend on the spelling or the working
//! folder either; each file takes its own nearest `.chlint.toml`.
#![cfg(unix)]

mod common;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::scratch::Scratch;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every scenario: the scenarios, each rule's fixtures, the path cases,
/// the Terraform fixtures and the examples.
fn scenarios() -> Vec<PathBuf> {
    let children = |dir: &Path| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = fs::read_dir(dir)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.is_dir())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    let t = root().join("testdata");
    let mut out = children(&t.join("scenarios"));
    for rule in children(&t.join("rules")) {
        out.extend(children(&rule));
    }
    out.extend(children(&t.join("paths")));
    out.extend(children(&t.join("terraform")));
    out.extend(children(&root().join("examples")));
    out
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap().flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        let kind = e.file_type().unwrap();
        if kind.is_symlink() {
            symlink(fs::read_link(&src).unwrap(), &dst).unwrap();
        } else if kind.is_dir() {
            copy_dir(&src, &dst);
        } else {
            fs::copy(&src, &dst).unwrap();
        }
    }
}

/// The files under a folder, relative to it, in order.
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
        for e in fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                walk(&p, base, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().to_string_lossy().into());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn chlint_in(dir: &Path, args: &[String], stdin: Option<&str>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_chlint"))
        .args(args)
        .current_dir(dir)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chlint starts");
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
        stdout: String::from_utf8(out.stdout).expect("UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8"),
    }
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// A printed file as the file it is: relative to `base` when under it.
fn canonical_file(cwd: &Path, file: &str, base: &Path) -> String {
    let p = cwd.join(file);
    let real = p
        .canonicalize()
        .unwrap_or_else(|e| panic!("{}: printed file does not exist: {e}", p.display()));
    match real.strip_prefix(base) {
        Ok(rel) => rel.to_string_lossy().into(),
        Err(_) => real.to_string_lossy().into(),
    }
}

/// What a run found, spelling-free: exit code and each finding's rule,
/// canonical file, line, column, message and related locations, sorted.
type Verdict = (i32, Vec<String>);

fn verdict(cwd: &Path, args: &[String], base: &Path) -> Verdict {
    let mut all = strings(&["check", "--format", "json"]);
    all.extend(args.iter().cloned());
    let run = chlint_in(cwd, &all, None);
    assert_ne!(
        run.code,
        2,
        "chlint {all:?} in {}: {}",
        cwd.display(),
        run.stderr
    );
    let doc: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", run.stdout));
    let mut findings: Vec<String> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let file = |v: &Value| canonical_file(cwd, v.as_str().unwrap(), base);
            let mut related: Vec<String> = f["related"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    format!(
                        "{}:{}:{} {}",
                        file(&r["file"]),
                        r["line"],
                        r["column"],
                        r["message"]
                    )
                })
                .collect();
            related.sort();
            format!(
                "{} {}:{}:{} {} [{}]",
                f["rule"].as_str().unwrap(),
                file(&f["file"]),
                f["line"],
                f["column"],
                f["message"].as_str().unwrap(),
                related.join("; ")
            )
        })
        .collect();
    findings.sort();
    (run.code, findings)
}

/// A scenario copied to `base/a`, with `base/.git`, a link `base/link` to
/// it and an empty subfolder `a/zz-sub` to run from.
struct Copy {
    _scratch: Scratch,
    base: PathBuf,
    a: PathBuf,
}

fn copy_scenario(dir: &Path) -> Copy {
    let scratch = Scratch::new("spellings").unwrap();
    let base = scratch.path().canonicalize().unwrap();
    fs::create_dir_all(base.join(".git")).unwrap();
    let a = base.join("a");
    copy_dir(dir, &a);
    symlink(&a, base.join("link")).unwrap();
    fs::create_dir_all(a.join("zz-sub")).unwrap();
    Copy {
        _scratch: scratch,
        base,
        a,
    }
}

/// The spellings of one folder: a name, where chlint runs, its arguments.
fn spellings(c: &Copy) -> Vec<(&'static str, PathBuf, Vec<String>)> {
    let a = c.a.to_string_lossy().to_string();
    let files = files_under(&c.a);
    let sub = c.a.join("zz-sub");
    vec![
        (".", c.a.clone(), strings(&["."])),
        ("./", c.a.clone(), strings(&["./"])),
        ("absolute", c.base.clone(), vec![a.clone()]),
        ("from the parent", c.base.clone(), strings(&["a"])),
        ("a/../a", c.base.clone(), strings(&["a/../a"])),
        ("through a link", c.base.clone(), strings(&["link/"])),
        ("files", c.a.clone(), files.clone()),
        (
            "./files",
            c.a.clone(),
            files.iter().map(|f| format!("./{f}")).collect(),
        ),
        (
            "absolute files",
            sub.clone(),
            files.iter().map(|f| format!("{a}/{f}")).collect(),
        ),
        ("`..` from a subfolder", sub, strings(&[".."])),
        ("named twice", c.a.clone(), vec![".".into(), a]),
        ("in the link", c.base.join("link"), strings(&["."])),
    ]
}

/// Differences between two sorted lists, for the failure message.
fn diff(want: &[String], got: &[String]) -> String {
    let mut out = String::new();
    for w in want.iter().filter(|w| !got.contains(w)) {
        out.push_str(&format!("\n  - {w}"));
    }
    for g in got.iter().filter(|g| !want.contains(g)) {
        out.push_str(&format!("\n  + {g}"));
    }
    if out.is_empty() {
        out = format!("\n  (repeats differ: {} vs {})", want.len(), got.len());
    }
    out
}

/// The problems of one scenario, if any.
fn check_scenario(dir: &Path) -> Vec<String> {
    let c = copy_scenario(dir);
    let name = dir.strip_prefix(root()).unwrap().display().to_string();
    let mut spelled = spellings(&c).into_iter();
    let (first, cwd, args) = spelled.next().unwrap();
    let reference = verdict(&cwd, &args, &c.a);
    let mut problems = Vec::new();
    for (how, cwd, args) in spelled {
        let got = verdict(&cwd, &args, &c.a);
        if got != reference {
            problems.push(format!(
                "{name}: `{how}` differs from `{first}` (exit {} vs {}):{}",
                got.0,
                reference.0,
                diff(&reference.1, &got.1)
            ));
        }
    }
    problems
}

#[test]
fn every_scenario_has_one_verdict_under_every_spelling() {
    let all = scenarios();
    assert!(all.len() > 50, "{} scenarios", all.len());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    let problems: Vec<String> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut found = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(dir) = all.get(i) else { break };
                        found.extend(check_scenario(dir));
                    }
                    found
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The findings of a run as `RULE file:line`, files spelling-free.
fn found(cwd: &Path, args: &[&str], base: &Path) -> Vec<String> {
    let (_, findings) = verdict(cwd, &strings(args), base);
    findings
        .iter()
        .map(|f| f.split(' ').take(2).collect::<Vec<_>>().join(" "))
        .map(|f| f.rsplit_once(':').unwrap().0.to_string())
        .collect()
}

#[test]
fn a_terraform_root_module_is_analysed_however_it_is_named() {
    let c = copy_scenario(&root().join("testdata/paths/terraform-modules"));
    // The root module in envs/prod calls the folder's module twice
    // (`source = "../.."`): one call publishes it on every node, the other
    // is suppressed with a reason.
    let want = vec!["CH250 envs/prod/main.tf:9".to_string()];
    for (cwd, args) in [
        (&c.a, vec!["."]),
        (&c.a, vec!["./"]),
        (&c.a, vec!["main.tf", "envs/prod/main.tf"]),
        (&c.a, vec!["./main.tf", "./envs/prod/main.tf"]),
        (&c.a.join("envs/prod"), vec!["../.."]),
        (&c.base, vec!["a"]),
    ] {
        assert_eq!(
            found(cwd, &args, &c.a),
            want,
            "{args:?} in {}",
            cwd.display()
        );
    }
    // The module alone is not deployed by anything named.
    let prod = root().join("testdata/paths/terraform-modules/main.tf");
    assert!(
        found(&c.a, &["main.tf"], &c.a).is_empty(),
        "{}",
        prod.display()
    );
}

#[test]
fn a_terraform_root_module_in_the_working_folder_is_analysed() {
    let c = copy_scenario(&root().join("testdata/rules/CH250/fires/terraform"));
    let main = c.a.join("main.tf").to_string_lossy().to_string();
    // Sorted as text: the NodePort (line 27), the LoadBalancer (line 6).
    let want = vec![
        "CH250 main.tf:27".to_string(),
        "CH250 main.tf:6".to_string(),
    ];
    // The GitHub Action's default, pre-commit's file names, and the rest.
    for args in [
        vec!["."],
        vec!["./"],
        vec!["main.tf"],
        vec!["./main.tf"],
        vec![&main],
    ] {
        assert_eq!(found(&c.a, &args, &c.a), want, "{args:?}");
    }
}

#[test]
fn compose_pwd_is_the_project_folder_wherever_chlint_runs() {
    let c = copy_scenario(&root().join("testdata/paths/compose-pwd"));
    for (cwd, arg) in [(&c.a, "."), (&c.base, "a"), (&c.a.join("zz-sub"), "..")] {
        let f = found(cwd, &[arg], &c.a);
        // The users file mounted through ${PWD} keeps its passwordless
        // default user, which the published port serves.
        assert!(
            f.contains(&"CH001 docker-compose.yml:10".to_string()),
            "{arg} in {}: {f:?}",
            cwd.display()
        );
    }
}

#[test]
fn a_file_named_inside_config_d_merges_with_the_main_files_one_folder_up() {
    let c = copy_scenario(&root().join("examples/open"));
    let whole = found(&c.a, &["."], &c.a);
    let d = c.a.join("config.d");
    assert_eq!(found(&d, &["network.xml"], &c.a), whole);
    let text = fs::read_to_string(d.join("network.xml")).unwrap();
    let run = chlint_in(
        &d,
        &strings(&[
            "check",
            "--format",
            "json",
            "--stdin-filename",
            "network.xml",
            "-",
        ]),
        Some(&text),
    );
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let mut rules: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    rules.sort();
    let mut want: Vec<&str> = whole.iter().map(|f| &f[..5]).collect();
    want.sort();
    assert_eq!(rules, want, "{}", run.stderr);
    let users = c.a.join("users.d");
    assert_eq!(found(&users, &["analytics.xml"], &c.a), whole);
}

/// Each SARIF result's location and fingerprint.
fn sarif(cwd: &Path, args: &[&str]) -> Vec<(String, String, String)> {
    let mut all = strings(&["check", "--format", "sarif"]);
    all.extend(strings(args));
    let run = chlint_in(cwd, &all, None);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let log: Value = serde_json::from_str(&run.stdout).unwrap();
    let mut out: Vec<(String, String, String)> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let loc = &r["locations"][0]["physicalLocation"]["artifactLocation"];
            assert_eq!(loc["uriBaseId"], "%SRCROOT%", "{loc}");
            (
                loc["uri"].as_str().unwrap().to_string(),
                r["partialFingerprints"]["chlint/v1"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                r["ruleId"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn sarif_locations_and_fingerprints_do_not_depend_on_the_spelling() {
    let c = copy_scenario(&root().join("examples/open"));
    let a = c.a.to_string_lossy().to_string();
    let reference = sarif(&c.base, &["a"]);
    assert!(reference.iter().all(|(uri, _, _)| uri.starts_with("a/")));
    for (cwd, args) in [
        (c.a.clone(), vec!["."]),
        (c.base.clone(), vec!["a/../a"]),
        (c.base.clone(), vec!["./link"]),
        (c.a.join("zz-sub"), vec![".."]),
        (PathBuf::from("/"), vec![a.as_str()]),
        (c.a.join("config.d"), vec!["network.xml"]),
    ] {
        assert_eq!(
            sarif(&cwd, &args),
            reference,
            "{args:?} in {}",
            cwd.display()
        );
    }
}

#[test]
fn a_baseline_is_portable() {
    let c = copy_scenario(&root().join("examples/open"));
    let sub = c.a.join("zz-sub");
    // Written in a subfolder, for files one folder up.
    let run = chlint_in(
        &sub,
        &strings(&["check", "..", "--write-baseline", "baseline.json"]),
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = fs::read_to_string(sub.join("baseline.json")).unwrap();
    assert!(
        !text.contains(&*c.base.to_string_lossy()),
        "absolute paths:\n{text}"
    );
    assert!(text.contains("\"../config.xml\""), "{text}");
    // Used from the root, from the parent and through a link.
    for (cwd, args) in [
        (&c.a, vec![".", "--baseline", "zz-sub/baseline.json"]),
        (&c.base, vec!["a", "--baseline", "a/zz-sub/baseline.json"]),
        (
            &c.base,
            vec!["link", "--baseline", "link/zz-sub/baseline.json"],
        ),
        (
            &c.a,
            vec!["config.xml", "--baseline", "../link/zz-sub/baseline.json"],
        ),
    ] {
        let mut all = strings(&["check", "--format", "json"]);
        all.extend(strings(&args));
        let run = chlint_in(cwd, &all, None);
        assert_eq!(run.code, 0, "{args:?}: {}{}", run.stdout, run.stderr);
    }
}

#[test]
fn each_file_takes_its_own_nearest_configuration() {
    let c = copy_scenario(&root().join("examples/open"));
    copy_dir(&root().join("examples/open"), &c.a.join("team"));
    fs::write(c.a.join(".chlint.toml"), "ignore = [\"CH101\"]\n").unwrap();
    fs::write(c.a.join("team/.chlint.toml"), "ignore = [\"CH202\"]\n").unwrap();
    let has =
        |f: &[String], rule: &str, file: &str| f.iter().any(|x| x == &format!("{rule} {file}"));
    let check = |cwd: &Path, args: &[&str]| {
        let f: Vec<String> = found(cwd, args, &c.a)
            .into_iter()
            .map(|x| x.rsplit_once(':').unwrap().0.to_string())
            .collect();
        // The top folder's file ignores CH101; the team's ignores CH202 only.
        assert!(!has(&f, "CH101", "users.xml"), "{args:?}: {f:?}");
        assert!(has(&f, "CH202", "config.xml"), "{args:?}: {f:?}");
        assert!(has(&f, "CH101", "team/users.xml"), "{args:?}: {f:?}");
        assert!(!has(&f, "CH202", "team/config.xml"), "{args:?}: {f:?}");
    };
    check(&c.a, &["."]);
    check(
        &c.a,
        &[
            "config.xml",
            "users.xml",
            "team/config.xml",
            "team/users.xml",
        ],
    );
    check(&c.a, &["team", "."]);
    check(&c.a.join("team"), &["..", "."]);
}
