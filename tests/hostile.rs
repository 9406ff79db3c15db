//! Hostile input: every case is generated into a temporary folder at test
//! time, and `chlint check` must end within seconds (the child is killed
//! after [`TIMEOUT`] and the test fails), exit with 0, 1 or 2, never panic,
//! and report malformed configuration as CH900 with the parser's location.
//!
//! `cargo test --test hostile -- --ignored write_hostile_set` with
//! `CHLINT_HOSTILE_OUT=DIR` writes every case into DIR (to measure time and
//! memory on a release build by hand).

mod common;

use common::bounded::{self, Run};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Longest any run may take (the debug binary, two runs in parallel).
const TIMEOUT: Duration = Duration::from_secs(20);

impl Run {
    /// Findings of one rule, as (file, line, column, message).
    fn findings(&self, rule: &str) -> Vec<(String, u64, u64, String)> {
        self.json()["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["rule"] == rule)
            .map(|f| {
                (
                    f["file"].as_str().unwrap().to_string(),
                    f["line"].as_u64().unwrap(),
                    f["column"].as_u64().unwrap(),
                    f["message"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    fn ch900_for(&self, file: &str) -> (u64, u64, String) {
        let all = self.findings("CH900");
        let found = all.iter().find(|f| f.0.ends_with(file));
        let (_, line, column, message) =
            found.unwrap_or_else(|| panic!("no CH900 for {file}: {all:?}\n{}", self.stderr));
        (*line, *column, message.clone())
    }
}

/// A fresh folder for one case.
fn case_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("hostile")
        .join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, rel: &str, bytes: impl AsRef<[u8]>) {
    let path = dir.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
}

/// Run chlint with a deadline: a run that does not end is killed and fails
/// the test. Asserts no panic and an exit code of 0, 1 or 2.
fn chlint_in(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_chlint"));
    cmd.args(args)
        .current_dir(cwd)
        .env_remove("CHLINT_DEBUG_PANIC");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let what = format!("`chlint {args:?}` in {}", cwd.display());
    bounded::run(cmd, &what, TIMEOUT)
}

/// `chlint check --format json .` in a case folder.
fn check(dir: &Path) -> Run {
    chlint_in(dir, &["check", "--format", "json", "."], &[])
}

/// An open server: listens everywhere, `default` has no password (CH101).
const OPEN: &str = "<clickhouse>\n  <listen_host>0.0.0.0</listen_host>\n  <http_port>8123</http_port>\n</clickhouse>\n";

// ---------------------------------------------------------------- generators

fn entity_bomb(dir: &Path) {
    let mut doc =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol0 \"lol\">\n");
    for i in 1..10 {
        let refs = format!("&lol{};", i - 1).repeat(10);
        doc.push_str(&format!("<!ENTITY lol{i} \"{refs}\">\n"));
    }
    doc.push_str("]>\n<clickhouse>\n  <listen_host>&lol9;</listen_host>\n</clickhouse>\n");
    write(dir, "bomb/config.xml", doc);
    write(
        dir,
        "xxe/config.xml",
        "<?xml version=\"1.0\"?>\n<!DOCTYPE c [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n<clickhouse><listen_host>&xxe;</listen_host></clickhouse>\n",
    );
}

fn deep_nesting(dir: &Path) {
    let n = 200_000;
    write(
        dir,
        "xml/config.xml",
        format!(
            "<clickhouse>{}{}</clickhouse>",
            "<a>".repeat(n),
            "</a>".repeat(n)
        ),
    );
    write(
        dir,
        "yaml-flow/config.yaml",
        format!("a: {}", "[".repeat(n)),
    );
    write(
        dir,
        "yaml-map/config.yaml",
        format!("a: {}x{}\n", "{b: ".repeat(n), "}".repeat(n)),
    );
    write(
        dir,
        "yaml-block/config.yaml",
        format!("a:\n{}x\n", "- ".repeat(n)),
    );
    let mut indented = String::from("listen_host:\n");
    for i in 0..2_000 {
        indented.push_str(&" ".repeat(i + 1));
        indented.push_str(&format!("k{i}:\n"));
    }
    write(dir, "yaml-indent/config.yaml", indented);
}

/// Nesting just inside the limit, merged, included and written: every
/// recursive step after parsing must cope with it.
fn deep_within_limits(dir: &Path) {
    let n = 250;
    let open: String = (0..n).map(|i| format!("<d{i}>")).collect();
    let close: String = (0..n).rev().map(|i| format!("</d{i}>")).collect();
    write(
        dir,
        "config.xml",
        format!("<clickhouse><path>/p/</path><include_from>inc.xml</include_from>{open}<x incl=\"deep\"/>{close}</clickhouse>"),
    );
    write(
        dir,
        "config.d/o.xml",
        format!("<clickhouse>{open}<y>1</y>{close}</clickhouse>"),
    );
    write(
        dir,
        "inc.xml",
        format!("<clickhouse><deep>{open}{close}</deep></clickhouse>"),
    );
    let yaml: String = (0..n)
        .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
        .collect();
    write(dir, "config.d/p.yaml", yaml);
}

fn alias_bomb(dir: &Path) {
    let mut doc = String::from("listen_host: x\na: &a [x, x, x, x, x, x, x, x, x]\n");
    let names = "abcdefghij";
    for (prev, name) in names.chars().zip(names.chars().skip(1)) {
        let refs = vec![format!("*{prev}"); 9].join(", ");
        doc.push_str(&format!("{name}: &{name} [{refs}]\n"));
    }
    write(dir, "config.yaml", doc);
}

fn twenty_mb_lines(dir: &Path) {
    let long = "y".repeat(20 * 1024 * 1024);
    write(
        dir,
        "xml/config.xml",
        format!("<clickhouse><listen_host>0.0.0.0</listen_host><http_port>8123</http_port><display_name>{long}</display_name></clickhouse>\n"),
    );
    write(
        dir,
        "yaml/config.yaml",
        // 8 MB: unoptimised, the YAML scanner takes a second for 20 MB (a
        // release build a fraction of one; scripts/measure-hostile.sh).
        format!(
            "listen_host: 0.0.0.0\nhttp_port: 8123\ndisplay_name: {}\n",
            &long[..8 * 1024 * 1024]
        ),
    );
    // A 20 MB value that messages quote.
    write(
        dir,
        "value/config.xml",
        format!("<clickhouse><listen_host>{long}</listen_host><http_port>8123</http_port></clickhouse>\n"),
    );
    // Many findings on one long line.
    let users: String = (0..2_000)
        .map(|i| format!("<u{i}><password></password></u{i}>"))
        .collect();
    write(
        dir,
        "oneline/config.xml",
        format!("<clickhouse><path>/p/</path><listen_host>0.0.0.0</listen_host><http_port>8123</http_port><users>{users}</users><pad>{}</pad></clickhouse>", "z".repeat(1024 * 1024)),
    );
}

fn quadratic_traps(dir: &Path) {
    let n = 10_000;
    let attrs: String = (0..n).map(|i| format!(" a{i}=\"{i}\"")).collect();
    write(
        dir,
        "attrs/config.xml",
        format!("<clickhouse><x{attrs}/></clickhouse>"),
    );
    let leaves: String = (0..n).map(|i| format!("<k{i}>1</k{i}>")).collect();
    write(
        dir,
        "leaves/config.xml",
        format!("<clickhouse><path>/p/</path>{leaves}</clickhouse>"),
    );
    write(
        dir,
        "leaves/config.d/o.xml",
        format!("<clickhouse>{leaves}{leaves}</clickhouse>"),
    );
    let yaml_attrs: String = (0..n).map(|i| format!("  \"@a{i}\": v\n")).collect();
    write(
        dir,
        "yattrs/config.yaml",
        format!("listen_host:\n{yaml_attrs}"),
    );
    // Self-including content, twice per level.
    write(
        dir,
        "incl/config.xml",
        "<clickhouse><path>/p/</path><include_from>inc.xml</include_from><r incl=\"x\"/></clickhouse>",
    );
    write(
        dir,
        "incl/inc.xml",
        "<clickhouse><x><a incl=\"x\"/><b incl=\"x\"/><include incl=\"x\"/></x></clickhouse>",
    );
    // Many small files in one folder.
    for i in 0..300 {
        write(
            dir,
            &format!("many/config.d/{i:04}.xml"),
            format!("<clickhouse><k{i}>1</k{i}></clickhouse>"),
        );
    }
    write(dir, "many/config.xml", OPEN);
}

fn encodings(dir: &Path) {
    let utf16 = |text: &str, le: bool, bom: bool| -> Vec<u8> {
        let mut out = Vec::new();
        if bom {
            out.extend(if le { [0xFF, 0xFE] } else { [0xFE, 0xFF] });
        }
        for u in text.encode_utf16() {
            out.extend(if le { u.to_le_bytes() } else { u.to_be_bytes() });
        }
        out
    };
    write(dir, "utf8/config.xml", OPEN);
    write(dir, "utf8-bom/config.xml", format!("\u{feff}{OPEN}"));
    write(dir, "utf16le/config.xml", utf16(OPEN, true, true));
    write(dir, "utf16be/config.xml", utf16(OPEN, false, true));
    write(
        dir,
        "utf16-yaml/config.yaml",
        utf16("listen_host: 0.0.0.0\nhttp_port: 8123\n", true, true),
    );
    write(dir, "utf16-nobom/config.xml", utf16(OPEN, true, false));
    let mut latin1 =
        b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<clickhouse>\n<!-- caf".to_vec();
    latin1.extend([0xE9]);
    latin1.extend(b" -->\n</clickhouse>\n");
    write(dir, "latin1/config.xml", latin1);
    write(dir, "utf32/config.xml", [0xFF, 0xFE, 0, 0, b'<', 0, 0, 0]);
    let binary: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 256) as u8).collect();
    write(dir, "binary/config.xml", &binary);
    write(dir, "binary/users.d/blob.yaml", &binary);
    // Not meant for ClickHouse: skipped without a word.
    write(dir, "other/data.xml", &binary);
    write(dir, "other/notes.yaml", [0xC3, 0x28, b'\n']);
}

fn empty_files(dir: &Path) {
    write(dir, "xml/config.xml", "");
    write(dir, "yaml/config.yaml", "");
    write(dir, "dirs/config.xml", OPEN);
    write(dir, "dirs/config.d/empty.yaml", "");
    write(dir, "dirs/config.d/comment.yaml", "# nothing\n");
    write(dir, "other/empty.xml", "");
    write(dir, "other/empty.yaml", "");
}

fn malformed(dir: &Path) {
    write(
        dir,
        "xml/config.xml",
        "<clickhouse>\n  <listen_host>0.0.0.0</listen_host>\n  <http_port>8123</http_port\n</clickhouse>\n",
    );
    write(
        dir,
        "yaml/config.yaml",
        "listen_host: 0.0.0.0\nhttp_port: [8123\nusers: x\n",
    );
    write(
        dir,
        "unnamed/server.yaml",
        "listen_host: 0.0.0.0\n  http_port: 8123\n",
    );
    write(dir, "merge/config.xml", OPEN);
    write(
        dir,
        "merge/config.d/bad.xml",
        "<clickhouse><a></b></clickhouse>",
    );
    write(dir, "good/config.xml", OPEN);
}

/// Files in a temporary folder outside the case, for links to lead to.
fn outside_secret() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile-outside");
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join("secret.xml");
    fs::write(
        &path,
        "<clickhouse><listen_host>0.0.0.0</listen_host><users><default><password>OUTSIDE-SECRET-7f3a</password></default></users>\n",
    )
    .unwrap();
    path
}

#[cfg(unix)]
fn special_files(dir: &Path) {
    use std::os::unix::fs::symlink;
    let mkfifo = |rel: &str| {
        let path = dir.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let ok = Command::new("mkfifo")
            .arg(&path)
            .status()
            .unwrap()
            .success();
        assert!(ok, "mkfifo {}", path.display());
    };
    mkfifo("fifo/config.xml");
    write(dir, "fifo-d/config.xml", OPEN);
    mkfifo("fifo-d/config.d/override.xml");
    mkfifo("fifo-d/users.d/u.yaml");
    write(dir, "fifo-ignore/sub/config.xml", OPEN);
    mkfifo("fifo-ignore/sub/.gitignore");
    write(dir, "fifo-incl/config.xml", "<clickhouse><path>/p/</path><include_from>metrika.xml</include_from><listen_host incl=\"h\"/></clickhouse>");
    mkfifo("fifo-incl/metrika.xml");
    let _socket = std::os::unix::net::UnixListener::bind(dir.join("socket.xml")).unwrap();
    fs::create_dir_all(dir.join("dev")).unwrap();
    symlink("/dev/zero", dir.join("dev/config.xml")).unwrap();
    write(dir, "dev-ignore/config.xml", OPEN);
    symlink("/dev/zero", dir.join("dev-ignore/.gitignore")).unwrap();
    // Loops and dangling links, to files and folders.
    fs::create_dir_all(dir.join("links/config.d")).unwrap();
    write(dir, "links/config.xml", OPEN);
    symlink("a.xml", dir.join("links/config.d/b.xml")).unwrap();
    symlink("b.xml", dir.join("links/config.d/a.xml")).unwrap();
    symlink("self.xml", dir.join("links/self.xml")).unwrap();
    symlink("missing.xml", dir.join("links/users.xml")).unwrap();
    symlink("..", dir.join("links/up")).unwrap();
    symlink(".", dir.join("links/config.d/here")).unwrap();
    // A link inside the checked folder is followed; one outside is not.
    write(
        dir,
        "inside/real/listen.xml",
        "<clickhouse><listen_host>0.0.0.0</listen_host></clickhouse>",
    );
    write(
        dir,
        "inside/config.xml",
        "<clickhouse><path>/p/</path><http_port>8123</http_port></clickhouse>",
    );
    fs::create_dir_all(dir.join("inside/config.d")).unwrap();
    symlink("../real/listen.xml", dir.join("inside/config.d/listen.xml")).unwrap();
    fs::create_dir_all(dir.join("outside/config.d")).unwrap();
    write(dir, "outside/config.xml", OPEN);
    symlink(outside_secret(), dir.join("outside/config.d/secret.xml")).unwrap();
    symlink(outside_secret(), dir.join("outside/users.xml")).unwrap();
    symlink("/etc/passwd", dir.join("outside/keeper_config.xml")).unwrap();
    fs::create_dir_all(dir.join("outside-dir")).unwrap();
    symlink(
        outside_secret().parent().unwrap(),
        dir.join("outside-dir/config.d"),
    )
    .unwrap();
    write(dir, "outside-dir/config.xml", OPEN);
    std::mem::forget(_socket);
}

// --------------------------------------------------------------------- tests

#[test]
fn entity_bombs_and_external_entities_are_not_expanded() {
    let dir = case_dir("entities");
    entity_bomb(&dir);
    let run = check(&dir);
    assert_eq!(run.code, 1);
    for file in ["bomb/config.xml", "xxe/config.xml"] {
        let (line, column, message) = run.ch900_for(file);
        assert!(message.contains("DOCTYPE"), "{message}");
        assert!(line >= 3 && column > 1, "{file}:{line}:{column}");
    }
    assert!(!run.stdout.contains("root:"), "{}", run.stdout);
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    let dir = case_dir("deep");
    deep_nesting(&dir);
    let run = check(&dir);
    assert_eq!(run.code, 1);
    for file in [
        "xml/config.xml",
        "yaml-flow/config.yaml",
        "yaml-map/config.yaml",
        "yaml-block/config.yaml",
        "yaml-indent/config.yaml",
    ] {
        let (_, _, message) = run.ch900_for(file);
        assert!(message.contains("deeper than"), "{file}: {message}");
    }
}

#[test]
fn nesting_within_the_limit_is_merged_included_and_written() {
    let dir = case_dir("deep-ok");
    deep_within_limits(&dir);
    let run = check(&dir);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let merged = chlint_in(&dir, &["merged", "config.xml"], &[]);
    assert_eq!(merged.code, 0, "{}", merged.stderr);
    assert!(merged.stdout.contains("<d249>"));
}

#[test]
fn yaml_alias_bombs_stop_at_the_budget() {
    let dir = case_dir("aliases");
    alias_bomb(&dir);
    let run = check(&dir);
    assert_eq!(run.code, 1);
    let (line, column, message) = run.ch900_for("config.yaml");
    assert!(message.contains("aliases expand beyond"), "{message}");
    assert!(line > 2 && column > 1);
}

#[test]
fn the_file_size_limit_is_a_clear_finding() {
    let dir = case_dir("size");
    write(
        &dir,
        "big/config.xml",
        format!("{OPEN}<!--{}-->", "x".repeat(5000)),
    );
    write(
        &dir,
        "big/config.d/o.yaml",
        format!("http_port: 8123\n#{}\n", "x".repeat(5000)),
    );
    write(
        &dir,
        "data/dump.xml",
        format!("<rows>{}</rows>", "<r/>".repeat(2000)),
    );
    let run = chlint_in(
        &dir,
        &["check", "--format", "json", "--max-file-size", "2000", "."],
        &[],
    );
    assert_eq!(run.code, 1);
    for file in ["big/config.xml", "big/config.d/o.yaml"] {
        let (_, _, message) = run.ch900_for(file);
        assert!(message.contains("larger than 2000 bytes"), "{message}");
        assert!(message.contains("--max-file-size"), "{message}");
    }
    assert_eq!(run.findings("CH900").len(), 2, "{}", run.stdout);
    // The default limit reads it.
    let run = check(&dir);
    assert!(run.findings("CH900").is_empty(), "{}", run.stdout);
}

#[test]
fn twenty_megabyte_lines_are_checked_and_shown_briefly() {
    let dir = case_dir("long-lines");
    twenty_mb_lines(&dir);
    let run = check(&dir);
    assert_eq!(run.code, 1);
    assert!(run.findings("CH900").is_empty(), "{}", run.stdout);
    let ch101 = run.findings("CH101");
    assert!(ch101.iter().any(|f| f.0 == "xml/config.xml"), "{ch101:?}");
    assert!(ch101.iter().any(|f| f.0 == "yaml/config.yaml"), "{ch101:?}");
    assert!(run.findings("CH102").len() >= 2_000);
    // Messages quote at most 80 characters of a value.
    let json = run.json();
    let longest = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| {
            std::iter::once(f["message"].as_str().unwrap().len()).chain(
                f["related"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["message"].as_str().unwrap().len()),
            )
        })
        .max()
        .unwrap();
    assert!(longest < 400, "{longest}");
    assert!(json["findings"].as_array().unwrap().iter().any(
        |f| f["file"] == "value/config.xml" && f["message"].as_str().unwrap().contains("yyyy…")
    ));
    let human = chlint_in(&dir, &["check", "oneline"], &[]);
    assert_eq!(human.code, 1);
    // Each quoted line is a window, not the megabyte.
    assert!(human.stdout.lines().all(|l| l.chars().count() < 400));
    assert!(human.stdout.contains('…'));
}

#[test]
fn quadratic_traps_stay_fast() {
    let dir = case_dir("quadratic");
    quadratic_traps(&dir);
    let started = Instant::now();
    let run = check(&dir);
    assert_eq!(run.code, 1);
    assert!(run.findings("CH900").is_empty(), "{}", run.stdout);
    assert!(started.elapsed() < TIMEOUT / 2, "{:?}", started.elapsed());
}

#[test]
fn many_files_merged_into_a_large_tree_stay_fast() {
    let dir = case_dir("many-merges");
    let leaves: String = (0..5_000).map(|i| format!("<k{i}>1</k{i}>")).collect();
    write(
        &dir,
        "config.xml",
        format!("<clickhouse><path>/p/</path><http_port>8123</http_port>{leaves}</clickhouse>"),
    );
    for i in 0..500 {
        write(
            &dir,
            &format!("config.d/{i:04}.xml"),
            format!(
                "<clickhouse><listen_host>10.0.0.{}</listen_host><m{i}/></clickhouse>",
                i % 250
            ),
        );
    }
    let run = check(&dir);
    assert_eq!(run.code, 1);
    assert!(run.findings("CH900").is_empty(), "{}", run.stdout);
    assert!(run.stdout.contains("config.d/0499.xml"));
}

#[cfg(unix)]
#[test]
fn terminal_escapes_in_names_and_values_are_not_printed() {
    let dir = case_dir("escapes");
    let esc = "\u{1b}[2J\u{1b}[1A";
    write(
        &dir,
        &format!("a{esc}/config.xml"),
        format!("<clickhouse>\n<listen_host>0.0.0.0</listen_host><!-- {esc}\r -->\n<http_port>8123</http_port>\n</clickhouse>\n"),
    );
    write(
        &dir,
        "b/config.xml",
        format!("<clickhouse><a>{esc}</b></clickhouse>"),
    );
    let human = chlint_in(&dir, &["check", "."], &[]);
    assert_eq!(human.code, 1);
    assert!(!human.stdout.contains('\u{1b}') && !human.stdout.contains('\r'));
    assert!(human.stdout.contains("a\u{FFFD}[2J"), "{}", human.stdout);
    let json = check(&dir);
    assert!(!json.stdout.contains('\u{1b}'));
}

#[test]
fn many_findings_in_every_format_stay_fast() {
    let dir = case_dir("many-findings");
    let users: String = (0..3_000)
        .map(|i| {
            let note = if i % 2 == 0 {
                "<!-- chlint: ignore[CH105] fixture -->\n"
            } else {
                ""
            };
            format!(
                "{note}<u{i}><password>pw{i}</password><networks><ip>::1</ip></networks></u{i}>\n"
            )
        })
        .collect();
    write(
        &dir,
        "config.xml",
        format!("<clickhouse><path>/p/</path><listen_host>0.0.0.0</listen_host><http_port>8123</http_port><users>\n{users}</users></clickhouse>\n"),
    );
    let started = Instant::now();
    for format in ["json", "sarif", "github", "human"] {
        let run = chlint_in(&dir, &["check", "--format", format, "."], &[]);
        assert_eq!(run.code, 1, "{format}");
    }
    let baseline = dir.join("baseline.json");
    let b = baseline.to_str().unwrap();
    assert_eq!(
        chlint_in(&dir, &["check", "--write-baseline", b, "."], &[]).code,
        0
    );
    assert_eq!(
        chlint_in(&dir, &["check", "--baseline", b, "."], &[]).code,
        0
    );
    assert!(started.elapsed() < TIMEOUT, "{:?}", started.elapsed());
}

#[test]
fn servers_from_deployment_files_are_bounded_per_run() {
    let dir = case_dir("many-services");
    let services: String = (0..40)
        .map(|i| {
            format!("  ch{i}:\n    image: clickhouse/clickhouse-server:25.3\n    ports:\n      - \"{}:8123\"\n", 8000 + i)
        })
        .collect();
    write(&dir, "docker-compose.yml", format!("services:\n{services}"));
    let docs: String = (0..40)
        .map(|i| format!("---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: ch{i}\nspec:\n  template:\n    spec:\n      containers:\n        - name: ch\n          image: clickhouse/clickhouse-server:25.3\n"))
        .collect();
    write(&dir, "k8s/all.yaml", docs);
    let mut ws = chlint::clickhouse::load::Workspace::default();
    ws.max_deploy_servers = 30;
    let report = chlint::check::check_paths(&mut ws, std::slice::from_ref(&dir));
    let not_checked: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.code == "CH900" && f.message.contains("not checked"))
        .map(|f| ws.sources.locate(f.primary).file)
        .collect();
    assert_eq!(not_checked.len(), 2, "{not_checked:?}");
    // With the default bound, all 80 are checked.
    let run = check(&dir);
    assert!(run.findings("CH900").is_empty(), "{}", run.stdout);
}

#[test]
fn many_closing_brackets_below_their_keys_are_joined_in_one_pass() {
    // Docker Compose (Go's yaml.v3) reads a flow sequence whose bracket sits
    // below its key; saphyr does not. 300 of them once meant 300 parses.
    let dir = case_dir("closing-brackets");
    let mut text = String::from("services:\n");
    for i in 0..300 {
        let image = if i == 299 {
            "clickhouse/clickhouse-server:25.3"
        } else {
            "busybox"
        };
        text.push_str(&format!(
            "  s{i}:\n    image: {image}\n    ports: [\n        \"{}:8123\",\n    ]\n",
            8000 + i
        ));
    }
    write(&dir, "docker-compose.yml", text);
    let started = std::time::Instant::now();
    let run = check(&dir);
    assert!(run.findings("CH900").is_empty(), "{}", run.stdout);
    // The last service's published port is read.
    assert!(
        run.findings("CH251").iter().any(|f| f.1 == 1 + 299 * 5 + 4),
        "{}",
        run.stdout
    );
    assert!(started.elapsed() < TIMEOUT, "{:?}", started.elapsed());
}

#[test]
fn encodings_are_decoded_or_reported() {
    let dir = case_dir("encodings");
    encodings(&dir);
    let run = check(&dir);
    assert_eq!(run.code, 1);
    let ch101: Vec<String> = run.findings("CH101").into_iter().map(|f| f.0).collect();
    for file in [
        "utf8/config.xml",
        "utf8-bom/config.xml",
        "utf16le/config.xml",
        "utf16be/config.xml",
        "utf16-yaml/config.yaml",
    ] {
        assert!(ch101.iter().any(|f| f == file), "{file}: {ch101:?}");
    }
    // Same line and column, whatever the encoding.
    let at = |file: &str| {
        run.findings("CH101")
            .into_iter()
            .find(|f| f.0 == file)
            .map(|f| (f.1, f.2))
    };
    assert_eq!(at("utf16le/config.xml"), at("utf8/config.xml"));
    assert_eq!(at("utf8-bom/config.xml"), at("utf8/config.xml"));
    let (_, _, m) = run.ch900_for("utf16-nobom/config.xml");
    assert!(m.contains("UTF-16 without a byte order mark"), "{m}");
    let (_, _, m) = run.ch900_for("latin1/config.xml");
    assert!(m.contains("ISO-8859-1") && m.contains("line 3"), "{m}");
    let (_, _, m) = run.ch900_for("utf32/config.xml");
    assert!(m.contains("UTF-32"), "{m}");
    let (_, _, m) = run.ch900_for("binary/config.xml");
    assert!(m.contains("binary"), "{m}");
    run.ch900_for("binary/users.d/blob.yaml");
    assert!(!run.stdout.contains("other/"), "{}", run.stdout);
}

#[test]
fn empty_files_are_fine() {
    let dir = case_dir("empty");
    empty_files(&dir);
    let run = check(&dir);
    assert_eq!(run.code, 1);
    // An empty XML file has no root element: ClickHouse refuses it too.
    let (line, column, m) = run.ch900_for("xml/config.xml");
    assert_eq!((line, column), (1, 1));
    assert!(m.contains("no root element"), "{m}");
    // Empty YAML is an empty configuration.
    assert_eq!(run.findings("CH900").len(), 1, "{}", run.stdout);
    assert!(run
        .findings("CH101")
        .iter()
        .any(|f| f.0 == "dirs/config.xml"));
    let run = check(&dir.join("other"));
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn malformed_files_are_ch900_with_a_location_and_the_rest_is_checked() {
    let dir = case_dir("malformed");
    malformed(&dir);
    let run = check(&dir);
    assert_eq!(run.code, 1);
    let (line, column, m) = run.ch900_for("xml/config.xml");
    assert_eq!((line, column), (3, 18));
    assert!(!m.contains('\n'), "{m}");
    let (line, column, _) = run.ch900_for("yaml/config.yaml");
    assert_eq!((line, column), (3, 6));
    let (line, column, _) = run.ch900_for("unnamed/server.yaml");
    assert_eq!((line, column), (2, 12));
    let (line, column, _) = run.ch900_for("merge/config.d/bad.xml");
    assert_eq!((line, column), (1, 16));
    let ch101: Vec<String> = run.findings("CH101").into_iter().map(|f| f.0).collect();
    assert!(ch101.contains(&"good/config.xml".to_string()), "{ch101:?}");
    // The human format quotes the line at the error.
    let human = chlint_in(&dir, &["check", "xml"], &[]);
    assert!(
        human
            .stdout
            .contains("xml/config.xml:3:18\n  |\n3 |   <http_port>8123</http_port\n"),
        "{}",
        human.stdout
    );
}

#[test]
fn a_bug_while_reading_one_file_is_reported_for_it_and_the_rest_is_checked() {
    if !cfg!(debug_assertions) {
        return; // the panic hook exists in debug builds only
    }
    let dir = case_dir("internal");
    write(&dir, "a/config.xml", OPEN);
    write(&dir, "b/boom.xml", OPEN);
    let run = chlint_in(
        &dir,
        &["check", "--format", "json", "."],
        &[("CHLINT_DEBUG_PANIC", "boom.xml")],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("internal error while reading b/boom.xml: CHLINT_DEBUG_PANIC"),
        "{}",
        run.stderr
    );
    assert!(run.findings("CH101").iter().any(|f| f.0 == "a/config.xml"));
}

#[cfg(unix)]
#[test]
fn fifos_sockets_devices_and_links_are_never_read_or_followed_forever() {
    let dir = case_dir("special");
    special_files(&dir);
    let run = check(&dir);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let warned = |path: &str, what: &str| {
        assert!(
            run.stderr
                .lines()
                .any(|l| l.contains(&format!("{path}: ")) && l.contains(what)),
            "no warning `{what}` for {path}:\n{}",
            run.stderr
        );
    };
    warned("fifo/config.xml", "a FIFO");
    warned("fifo-d/config.d/override.xml", "a FIFO");
    warned("fifo-d/users.d/u.yaml", "a FIFO");
    warned("fifo-incl/metrika.xml", "a FIFO");
    warned("socket.xml", "a socket");
    warned("dev/config.xml", "a device");
    warned("fifo-ignore/sub", "`.gitignore` is not a regular file");
    warned("dev-ignore", "`.gitignore` is not a regular file");
    warned("links/config.d/a.xml", "loop");
    warned("links/self.xml", "loop");
    warned("links/users.xml", "missing file");
    warned("outside/config.d/secret.xml", "outside the checked folders");
    warned("outside/users.xml", "outside the checked folders");
    warned("outside/keeper_config.xml", "outside the checked folders");
    // Nothing outside was read.
    assert!(!run.stdout.contains("OUTSIDE-SECRET") && !run.stdout.contains("root:"));
    assert!(
        run.stderr
            .lines()
            .all(|l| l.starts_with("chlint: warning: ")),
        "{}",
        run.stderr
    );
    // The servers beside them are still checked; a link inside is followed.
    let ch101: Vec<String> = run.findings("CH101").into_iter().map(|f| f.0).collect();
    for file in [
        "fifo-d/config.xml",
        "links/config.xml",
        "outside/config.xml",
    ] {
        assert!(ch101.contains(&file.to_string()), "{file}: {ch101:?}");
    }
    let listen = run.findings("CH201");
    assert!(
        run.stdout.contains("inside/config.d/listen.xml"),
        "the link inside is followed: {listen:?}"
    );
    // Deployment files and chlint's own configuration file, hostile too.
    let deploy = case_dir("special-deploy");
    fs::create_dir_all(deploy.join(".git")).unwrap();
    fs::create_dir_all(deploy.join("chart")).unwrap();
    let mkfifo_at = |path: &Path| {
        assert!(Command::new("mkfifo").arg(path).status().unwrap().success());
    };
    mkfifo_at(&deploy.join("docker-compose.yml"));
    mkfifo_at(&deploy.join("chart/Chart.yaml"));
    write(&deploy, "chart/values.yaml", "auth:\n  password: x\n");
    std::os::unix::fs::symlink("/etc/passwd", deploy.join(".chlint.toml")).unwrap();
    write(&deploy, "ch/config.xml", OPEN);
    let run = check(&deploy);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(!run.stdout.contains("root:") && !run.stderr.contains("root:"));
    let mut toml_fifo = case_dir("special-toml");
    toml_fifo.push("sub");
    fs::create_dir_all(toml_fifo.join(".git")).unwrap();
    mkfifo_at(&toml_fifo.join(".chlint.toml"));
    write(&toml_fifo, "config.xml", OPEN);
    assert_eq!(check(&toml_fifo).code, 1);
    // A FIFO named on the command line is skipped, not opened.
    let named = chlint_in(&dir, &["check", "fifo/config.xml"], &[]);
    assert_eq!(named.code, 0);
    // An unsafe ignore file above a named folder: chlint cannot do its job.
    let above = chlint_in(&dir, &["check", "fifo-ignore/sub"], &[]);
    assert_eq!(above.code, 2);
    assert!(above.stderr.contains("`.gitignore` is not a regular file"));
}

/// The deployment and Terraform frontends read through the same guards:
/// FIFOs are not opened, links leading outside are not followed (nor is a
/// path Terraform's `file()` names outside the folder), the size limit
/// holds, and the text of a deployment file stays for its findings.
#[cfg(unix)]
#[test]
fn deployment_and_terraform_files_are_read_through_the_same_guards() {
    use std::os::unix::fs::symlink;
    let dir = case_dir("frontends");
    let mkfifo = |rel: &str| {
        let path = dir.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        assert!(Command::new("mkfifo")
            .arg(&path)
            .status()
            .unwrap()
            .success());
    };
    mkfifo("compose-fifo/docker-compose.yml");
    mkfifo("tf-fifo/main.tf");
    mkfifo("tf-fifo/terraform.tfvars");
    write(
        &dir,
        "compose/docker-compose.yml",
        "services:\n  clickhouse:\n    image: clickhouse/clickhouse-server:25.3\n    environment:\n      CLICKHOUSE_PASSWORD: Literal-Compose-Pw-81\n    volumes:\n      - ./users.xml:/etc/clickhouse-server/users.d/users.xml\n",
    );
    symlink(outside_secret(), dir.join("compose/users.xml")).unwrap();
    write(
        &dir,
        "tf/main.tf",
        "resource \"clickhouse_service\" \"a\" {\n  name           = \"a\"\n  cloud_provider = \"aws\"\n  region         = \"us-east-2\"\n  password       = file(\"/etc/passwd\")\n  ip_access      = [{ source = trimspace(file(\"../../hostile-outside/secret.xml\")), description = \"x\" }]\n}\n",
    );
    symlink(outside_secret(), dir.join("tf/outside.tf")).unwrap();
    write(
        &dir,
        "tf-big/main.tf",
        format!("locals {{\n  x = \"{}\"\n}}\n", "a".repeat(2000)),
    );
    let run = chlint_in(
        &dir,
        &["check", "--format", "json", "--max-file-size", "1000", "."],
        &[],
    );
    let warned = |path: &str, what: &str| {
        assert!(
            run.stderr
                .lines()
                .any(|l| l.contains(&format!("{path}: ")) && l.contains(what)),
            "no warning `{what}` for {path}:\n{}",
            run.stderr
        );
    };
    warned("compose-fifo/docker-compose.yml", "a FIFO");
    warned("tf-fifo/main.tf", "a FIFO");
    warned("tf-fifo/terraform.tfvars", "a FIFO");
    warned("tf/outside.tf", "outside the checked folders");
    warned("users.xml", "outside the checked folders");
    assert!(
        !run.stdout.contains("OUTSIDE-SECRET") && !run.stdout.contains("root:"),
        "{}",
        run.stdout
    );
    let too_large = run.ch900_for("tf-big/main.tf");
    assert!(
        too_large.2.contains("larger than 1000 bytes"),
        "{too_large:?}"
    );
    // The compose file's own finding still shows its line.
    let human = chlint_in(&dir, &["check", "compose"], &[]);
    assert!(
        human.stdout.contains("CLICKHOUSE_PASSWORD: ***"),
        "{}",
        human.stdout
    );
}

/// Not a test: writes every case into `$CHLINT_HOSTILE_OUT` for measuring.
#[test]
#[ignore]
fn write_hostile_set() {
    let Some(out) = std::env::var_os("CHLINT_HOSTILE_OUT") else {
        panic!("set CHLINT_HOSTILE_OUT to a folder");
    };
    let out = PathBuf::from(out);
    type Make = fn(&Path);
    let make: [(&str, Make); 10] = [
        ("entities", entity_bomb),
        ("deep", deep_nesting),
        ("deep-ok", deep_within_limits),
        ("aliases", alias_bomb),
        ("long-lines", twenty_mb_lines),
        ("quadratic", quadratic_traps),
        ("encodings", encodings),
        ("empty", empty_files),
        ("malformed", malformed),
        ("special", |d| {
            #[cfg(unix)]
            special_files(d)
        }),
    ];
    for (name, f) in make {
        let dir = out.join(name);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        f(&dir);
    }
}
