//! Differential merge tests against a running ClickHouse 18.16 server.
//!
//! For each case — generated overlays (`common::overlays`, deterministic in
//! `CHLINT_LIVE_SEED`, `CHLINT_LIVE_CASES` of them, 300 by default) and the
//! inputs of the recorded cases in `../shared/oracle/ch18-merge-cases/` — the
//! overlay files are laid over the package's shipped configuration, the real
//! server is started on it (in a network namespace of its own), and what it
//! wrote to `preprocessed_configs/config.xml` and `users.xml` is compared, as
//! element trees (comments and whitespace aside), with
//! `chlint merged --clickhouse-version 18` on the same files and environment.
//! Where the server wrote nothing because it refused the configuration (its
//! log says the merge or the preprocessing failed), chlint must refuse too
//! (exit 2). A case where the server stopped for another reason before
//! writing a file is counted as inconclusive for that file.
//!
//! A mismatch is reported with the case's files; its run folder is kept.
//! Without `CHLINT_CH18_SERVER` the tests print `SKIPPED: …` and pass.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::ch18::{Ch18, Netns, RunDir, Server};
use common::live;
use common::overlays::{generate, Case, Entry};
use common::scratch::{file_name, NOT_CONFIG, RUN_ETC};
use common::xml_compare::compare_xml;

const DEFAULT_SEED: u64 = 0x6368_6c69_6e74_0006;
const DEFAULT_CASES: usize = 300;
const MAIN_FILES: [&str; 2] = ["config.xml", "users.xml"];

#[test]
fn generated_overlays_merge_like_clickhouse_18() {
    let test = "generated_overlays_merge_like_clickhouse_18";
    let Some(ch) = Ch18::detect(test) else { return };
    let seed = seed();
    let n = live::env_usize("CHLINT_LIVE_CASES", DEFAULT_CASES);
    let cases: Vec<Case> = (0..n).map(|i| generate(seed, i)).collect();
    let summary = run_all(&ch, &cases);
    live::say(&format!(
        "{test}: seed {seed:#x}, {}",
        summary.line(&ch, cases.len())
    ));
    summary.assert_ok();
    if n >= DEFAULT_CASES {
        let wide = cases
            .iter()
            .filter(|c| c.features.contains(&"wide"))
            .count();
        assert!(
            wide >= n / 20,
            "only {wide} of {n} cases have a file of realistic width"
        );
        assert!(
            summary.trees >= 400,
            "only {} preprocessed files compared in {n} cases: the generator makes too many \
             configurations the server does not get through",
            summary.trees
        );
    }
}

#[test]
fn recorded_cases_merge_like_clickhouse_18_when_rerun() {
    let test = "recorded_cases_merge_like_clickhouse_18_when_rerun";
    let Some(ch) = Ch18::detect(test) else { return };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/oracle/ch18-merge-cases");
    if !root.is_dir() {
        if std::env::var("CHLINT_SKIP_SHARED").as_deref() == Ok("1") {
            live::skipped(
                test,
                &format!("{} is missing and CHLINT_SKIP_SHARED=1", root.display()),
            );
            return;
        }
        panic!(
            "{} is missing (set CHLINT_SKIP_SHARED=1 to skip deliberately)",
            root.display()
        );
    }
    let mut dirs: Vec<PathBuf> = fs::read_dir(&root)
        .expect("readable oracle folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("input").is_dir() && file_name(p) != "00-base")
        .collect();
    dirs.sort();
    let mut cases: Vec<Case> = dirs.iter().map(|d| recorded_case(d)).collect();
    if !ch.netns {
        // Without a namespace of its own a server would listen on the
        // machine's network: only loopback-only cases run.
        let (run, skip): (Vec<Case>, Vec<Case>) = cases.into_iter().partition(loopback_only);
        if !skip.is_empty() {
            live::skipped(
                test,
                &format!(
                    "{} recorded cases listen beyond loopback, which needs network namespaces ({}): {}",
                    skip.len(),
                    ch.isolation(),
                    skip.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
                ),
            );
        }
        cases = run;
    }
    let summary = run_all(&ch, &cases);
    live::say(&format!("{test}: {}", summary.line(&ch, cases.len())));
    summary.assert_ok();
    assert!(
        cases.len() >= 15 || !ch.netns,
        "only {} recorded cases",
        cases.len()
    );
}

/// Does every `<listen_host>` of the case name a loopback address?
fn loopback_only(case: &Case) -> bool {
    case.entries.iter().all(|e| match e {
        Entry::File { content, .. } => String::from_utf8_lossy(content)
            .split("<listen_host>")
            .skip(1)
            .filter_map(|s| s.split('<').next())
            .all(|a| a.trim() == "::1" || a.trim().starts_with("127.")),
        _ => true,
    })
}

fn seed() -> u64 {
    match std::env::var("CHLINT_LIVE_SEED") {
        Ok(v) if !v.trim().is_empty() => {
            let v = v.trim();
            let parsed = match v.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => v.parse(),
            };
            parsed.unwrap_or_else(|_| panic!("CHLINT_LIVE_SEED={v:?} is not a number"))
        }
        _ => DEFAULT_SEED,
    }
}

/// A recorded case's `input/` as a case: its files (with `RUN/etc/` standing
/// for the run folder) and its `env`.
fn recorded_case(dir: &Path) -> Case {
    let input = dir.join("input");
    let mut entries = Vec::new();
    collect(&input, &input, &mut entries);
    let env = fs::read_to_string(input.join("env"))
        .map(|s| {
            s.lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.trim().to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_default();
    Case {
        name: format!("recorded/{}", file_name(dir)),
        entries,
        env,
        features: vec!["recorded"],
    }
}

fn collect(top: &Path, dir: &Path, out: &mut Vec<Entry>) {
    let mut items: Vec<_> = fs::read_dir(dir)
        .expect("readable")
        .map(|e| e.expect("entry").path())
        .collect();
    items.sort();
    for p in items {
        let rel = p
            .strip_prefix(top)
            .expect("below top")
            .to_string_lossy()
            .into_owned();
        if dir == top && NOT_CONFIG.contains(&rel.as_str()) {
            continue;
        }
        if p.is_dir() {
            collect(top, &p, out);
        } else {
            let bytes = fs::read(&p).expect("readable file");
            let content = match String::from_utf8(bytes) {
                Ok(s) => s.replace(RUN_ETC, "@ETC@/").into_bytes(),
                Err(e) => e.into_bytes(),
            };
            out.push(Entry::File { path: rel, content });
        }
    }
}

// ---------------------------------------------------------------------------
// Running cases

enum Verdict {
    /// Files compared, refusals confirmed, files the server did not get to.
    Agreed {
        trees: usize,
        refusals: usize,
        inconclusive: Vec<String>,
    },
    Mismatch(String),
}

#[derive(Default)]
struct Summary {
    trees: usize,
    refusals: usize,
    inconclusive: Vec<String>,
    mismatches: Vec<(String, String)>,
    elapsed: Duration,
}

impl Summary {
    fn line(&self, ch: &Ch18, cases: usize) -> String {
        format!(
            "{cases} cases in {:.1} s ({} at a time, {}): {} preprocessed files matched, \
             {} refusals matched, {} files inconclusive, {} cases mismatched",
            self.elapsed.as_secs_f64(),
            live::jobs(),
            ch.isolation(),
            self.trees,
            self.refusals,
            self.inconclusive.len(),
            self.mismatches.len()
        )
    }

    fn assert_ok(&self) {
        for i in &self.inconclusive {
            eprintln!("inconclusive: {i}");
        }
        if self.mismatches.is_empty() {
            return;
        }
        let mut report = String::new();
        for (name, detail) in &self.mismatches {
            report.push_str(&format!("\n==== MISMATCH {name}\n{detail}\n"));
        }
        panic!(
            "chlint merged --clickhouse-version 18 differs from the real server in {} case(s):{report}",
            self.mismatches.len()
        );
    }
}

fn run_all(ch: &Ch18, cases: &[Case]) -> Summary {
    let start = Instant::now();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Verdict)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..live::jobs().min(cases.len().max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(case) = cases.get(i) else { break };
                let verdict = run_case(ch, case).unwrap_or_else(|e| {
                    Verdict::Mismatch(format!("the case could not be run: {e}"))
                });
                results.lock().expect("results").push((i, verdict));
            });
        }
    });
    let mut results = results.into_inner().expect("results");
    results.sort_by_key(|r| r.0);
    let mut summary = Summary {
        elapsed: start.elapsed(),
        ..Summary::default()
    };
    for (i, v) in results {
        match v {
            Verdict::Agreed {
                trees,
                refusals,
                inconclusive,
            } => {
                summary.trees += trees;
                summary.refusals += refusals;
                summary.inconclusive.extend(
                    inconclusive
                        .into_iter()
                        .map(|f| format!("{}: {f}", cases[i].name)),
                );
            }
            Verdict::Mismatch(detail) => summary.mismatches.push((
                cases[i].name.clone(),
                format!("{detail}\n{}", cases[i].describe()),
            )),
        }
    }
    summary
}

fn lay_out(run: &RunDir, case: &Case) -> Result<(), String> {
    let etc = run.etc.display().to_string();
    for e in &case.entries {
        match e {
            Entry::File { path, content } => {
                let content = match std::str::from_utf8(content) {
                    Ok(s) => s.replace("@ETC@", &etc).into_bytes(),
                    Err(_) => content.clone(),
                };
                run.write(path, &content)?;
            }
            Entry::Dir(path) => {
                let p = run.etc.join(path);
                fs::create_dir_all(&p).map_err(|e| format!("{}: {e}", p.display()))?;
            }
            Entry::Symlink { path, target } => {
                let p = run.etc.join(path);
                if let Some(parent) = p.parent() {
                    fs::create_dir_all(parent).map_err(|e| e.to_string())?;
                }
                std::os::unix::fs::symlink(target, &p)
                    .map_err(|e| format!("{}: {e}", p.display()))?;
            }
        }
    }
    Ok(())
}

/// Did the server refuse `main` (its merge or preprocessing failed)?
fn refused(errors: &str, main: &str, etc: &Path) -> bool {
    let etc = etc.display().to_string();
    let dirs: &[&str] = match main {
        "config.xml" => &["config.d/", "conf.d/"],
        _ => &["users.d/", "conf.d/"],
    };
    let names_merge_file = |l: &str| dirs.iter().any(|d| l.contains(&format!("{etc}/{d}")));
    errors.lines().any(|l| {
        (l.contains("Failed to preprocess config '") && l.contains(&format!("{etc}/{main}'")))
            || (l.contains("Failed to merge config with '") && names_merge_file(l))
            // A dangling symlink among the merge files.
            || (l.contains("File not found: ") && names_merge_file(l))
    })
}

fn run_case(ch: &Ch18, case: &Case) -> Result<Verdict, String> {
    let mut run = RunDir::new(ch, &case.name)?;
    lay_out(&run, case)?;
    let env_file = run.scratch.path().join("env");
    let env_text: String = case.env.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    fs::write(&env_file, env_text).map_err(|e| e.to_string())?;

    let started = {
        let ns = if ch.netns { Some(Netns::new()?) } else { None };
        let mut server = Server::start(ch, &run, &case.env, ns.as_ref())?;
        let started = server.wait_ready(&run, Duration::from_secs(15));
        server.stop();
        started
    };
    let errors = run.errors();

    let mut trees = 0;
    let mut refusals = 0;
    let mut inconclusive = Vec::new();
    let mut problems = Vec::new();
    for main in MAIN_FILES {
        let out = common::run_merged(&run.etc.join(main), "18", Some(&env_file))?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        match run.preprocessed(main) {
            Some(expected) => {
                if !out.status.success() {
                    problems.push(format!(
                        "{main}: the server merged it, but `chlint merged` exited with {:?}:\n{stderr}",
                        out.status.code()
                    ));
                    continue;
                }
                let actual = String::from_utf8_lossy(&out.stdout);
                match compare_xml(main, &expected, &actual) {
                    Ok(()) => trees += 1,
                    Err(report) => {
                        // The first line says where; both documents go to the run folder.
                        let dir = run.scratch.path();
                        let _ = fs::write(dir.join(format!("expected-{main}")), &expected);
                        let _ = fs::write(dir.join(format!("chlint-{main}")), actual.as_bytes());
                        problems.push(format!(
                            "{} (see expected-{main} and chlint-{main} in the run folder)",
                            report.lines().next().unwrap_or_default()
                        ));
                    }
                }
            }
            None if refused(&errors, main, &run.etc) => {
                if out.status.code() == Some(2) {
                    refusals += 1;
                } else {
                    problems.push(format!(
                        "{main}: the server refused it, but `chlint merged` exited with {:?}\n\
                         --- server:\n{errors}--- chlint:\n{}",
                        out.status.code(),
                        String::from_utf8_lossy(&out.stdout)
                    ));
                }
            }
            None => inconclusive.push(format!(
                "{main} not written (server {started:?}): {}",
                errors.lines().next().unwrap_or("no message")
            )),
        }
    }
    if problems.is_empty() {
        return Ok(Verdict::Agreed {
            trees,
            refusals,
            inconclusive,
        });
    }
    run.scratch.keep();
    Ok(Verdict::Mismatch(format!(
        "{}\n(server {started:?}; run folder kept: {})\n--- server messages:\n{errors}",
        problems.join("\n"),
        run.scratch.path().display()
    )))
}
