//! Hostile pull requests that try to exhaust the runner or switch checks
//! off in silence (issue 16): Terraform that multiplies past every
//! per-operation cap, Services × workloads sharing one selector, a Helm
//! values file ending in an alias bomb, compose bind mounts of the
//! machine's folders. Each case is generated into a temporary folder and
//! `chlint check` runs under a deadline and an address-space limit (the
//! child is killed past either and the test fails): it must end with exit
//! 0, 1 or 2, and say what it stopped at, with a location.
//!
//! Figures (debug build, the shared 2-core machine, `/usr/bin/time -v`)
//! are in each test's comment: before the fix → after.

mod common;

use common::bounded::{self, Run};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

/// Longest any run may take (the debug binary, tests in parallel).
const TIMEOUT: Duration = Duration::from_secs(30);
/// Address space a run may use, in KiB (`ulimit -v`): 2 GiB.
const MEMORY_KIB: u64 = 2 * 1024 * 1024;

/// A finding as (rule, file, line, column, message).
type Found = (String, String, u64, u64, String);

impl Run {
    fn findings(&self) -> Vec<Found> {
        let json: Value = serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("invalid JSON ({e}):\n{}", self.stdout));
        json["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| {
                (
                    f["rule"].as_str().unwrap().to_string(),
                    f["file"].as_str().unwrap().to_string(),
                    f["line"].as_u64().unwrap(),
                    f["column"].as_u64().unwrap(),
                    f["message"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    /// The one finding of `rule` whose message contains `text`.
    fn one(&self, rule: &str, text: &str) -> Found {
        let all = self.findings();
        let hits: Vec<&Found> = all
            .iter()
            .filter(|f| f.0 == rule && f.4.contains(text))
            .collect();
        match hits.as_slice() {
            [one] => (*one).clone(),
            _ => panic!(
                "want one {rule} saying {text:?}, got {hits:?}\nall: {all:?}\n{}",
                self.stderr
            ),
        }
    }
}

/// A fresh folder for one case.
fn case_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("bounds")
        .join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, rel: &str, text: impl AsRef<[u8]>) {
    let path = dir.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// `chlint check --format json .` in `cwd`, bounded in time and memory;
/// asserts no panic, no signal and an exit code of 0, 1 or 2.
fn check(cwd: &Path) -> Run {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -v {MEMORY_KIB} && exec \"$0\" \"$@\""))
        .args([
            env!("CARGO_BIN_EXE_chlint"),
            "check",
            "--format",
            "json",
            ".",
        ])
        .current_dir(cwd);
    bounded::run(cmd, &format!("chlint in {}", cwd.display()), TIMEOUT)
}

/// The 1-based line of the first line of `file` in `dir` containing `text`.
fn line_of(dir: &Path, file: &str, text: &str) -> u64 {
    let body = fs::read_to_string(dir.join(file)).unwrap();
    let i = body
        .lines()
        .position(|l| l.contains(text))
        .unwrap_or_else(|| panic!("{text:?} not in {file}"));
    i as u64 + 1
}

/// A server that listens on every interface with `default` open.
const OPEN_XML: &str =
    "<clickhouse>\n  <listen_host>0.0.0.0</listen_host>\n  <http_port>8123</http_port>\n</clickhouse>\n";

// ------------------------------------------------------------- Terraform

/// What the Terraform budget note says.
const BUDGET: &str = "Terraform evaluation stops here";

/// A resource that makes a local's value needed.
fn needs(local: &str) -> String {
    format!(
        "resource \"null_resource\" \"use\" {{\n  triggers = {{ n = length(local.{local}) }}\n}}\n"
    )
}

/// Each root module ends with one CH900 at the expression where its budget
/// ran out. Before: `concat` doubling 1.8 GB then an allocation abort
/// (10 s), tuple bomb 3.6 GB abort (29 s), nested `for` over
/// `range(100000)` killed at 60 s. After: 0.8 s / 210 MB, 2.0 s / 300 MB,
/// 1.8 s / 130 MB.
#[test]
fn terraform_value_bombs_stop_at_the_budget_with_a_location() {
    let dir = case_dir("tf-values");
    let mut doubling = String::from("locals {\n  a0 = range(1000)\n");
    let mut tuples = String::from("locals {\n  t0 = [\"xxxxxxxxxxxxxxxx\", 1]\n");
    for i in 1..=40 {
        doubling.push_str(&format!("  a{i} = concat(local.a{0}, local.a{0})\n", i - 1));
        tuples.push_str(&format!(
            "  t{i} = [local.t{0}, local.t{0}, {{ k = local.t{0} }}]\n",
            i - 1
        ));
    }
    doubling.push_str("}\n");
    tuples.push_str("}\n");
    write(&dir, "doubling/main.tf", doubling + &needs("a40"));
    write(&dir, "tuples/main.tf", tuples + &needs("t40"));
    write(
        &dir,
        "grid/main.tf",
        "locals {\n  grid = [for i in range(100000) : [for j in range(100000) : \"${i}-${j}\"]]\n}\n"
            .to_string()
            + &needs("grid"),
    );
    // A map looked up once per key: a quadratic walk, not a value bomb.
    write(
        &dir,
        "lookups/main.tf",
        "locals {\n  m = { for i in range(100000) : tostring(i) => i }\n  x = [for k, v in local.m : local.m[k]]\n}\n"
            .to_string()
            + &needs("x"),
    );
    let run = check(&dir);
    for (case, file, line) in [
        ("doubling", "doubling/main.tf", "concat"),
        ("tuples", "tuples/main.tf", "t1 ="),
        ("grid", "grid/main.tf", "grid ="),
        ("lookups", "lookups/main.tf", "x ="),
    ] {
        let all = run.findings();
        let hits: Vec<&Found> = all
            .iter()
            .filter(|f| f.0 == "CH900" && f.1.ends_with(file) && f.4.contains(BUDGET))
            .collect();
        assert_eq!(hits.len(), 1, "{case}: {all:?}");
        let (_, _, at, column, message) = hits[0];
        // Where the budget ran out: a line of the chain, not the file's start.
        assert!(
            *at >= line_of(&dir, file, line) && *column > 1,
            "{case}: {at}:{column}"
        );
        assert!(message.contains("2000000 values"), "{case}: {message}");
    }
    assert_eq!(run.code, 1);
}

/// Many root modules, each building up to its budget, end too: past what
/// eight may build in one run, the rest stop at their first expression.
/// 20 roots: 1.6 s, 330 MB (debug).
#[test]
fn many_root_modules_share_a_run_budget() {
    let dir = case_dir("tf-roots");
    let mut doubling = String::from("locals {\n  a0 = range(1000)\n");
    for i in 1..=40 {
        doubling.push_str(&format!("  a{i} = concat(local.a{0}, local.a{0})\n", i - 1));
    }
    doubling.push_str("}\n");
    doubling.push_str(&needs("a40"));
    for i in 0..12 {
        write(&dir, &format!("r{i:02}/main.tf"), &doubling);
    }
    let run = check(&dir);
    let all = run.findings();
    let note = |i: usize| {
        let file = format!("r{i:02}/main.tf");
        let notes: Vec<&Found> = all
            .iter()
            .filter(|f| f.0 == "CH900" && f.1.ends_with(&file) && f.4.contains(BUDGET))
            .collect();
        assert_eq!(notes.len(), 1, "{file}: {all:?}");
        notes[0].4.clone()
    };
    assert!(note(0).contains("this root module builds more than 2000000 values"));
    for i in 1..11 {
        note(i);
    }
    assert!(note(11).contains("the root modules evaluated so far built what 8 root modules"));
    assert_eq!(run.code, 1);
}

/// Functions that were quadratic in their input (`distinct`, `toset`,
/// `merge`, `zipmap`, objects built by `for`, grouping, equality of large
/// objects) or built past their caps (`replace`, `formatlist`) end in
/// about a second each and need no budget. Before: `merge`/`distinct` of
/// 100,000 items did not end within 120 s. After: all of them 2.3 s.
#[test]
fn terraform_functions_stay_linear_on_large_collections() {
    let dir = case_dir("tf-functions");
    let exprs = [
        "{ for i in local.n : tostring(i) => i }",
        "{ for i in local.n : tostring(i % 7) => i... }",
        "distinct(local.n)",
        "toset(local.n)",
        "setunion(local.n, local.n)",
        "merge(local.m, local.m)",
        "local.m == local.m ? [1] : [2]",
        "zipmap([for i in local.n : tostring(i)], local.n)",
        "replace(local.big, \"x\", local.big)",
        "formatlist(\"${local.big}%s\", local.n)",
    ];
    // One root module each: each has a budget of its own.
    for (i, e) in exprs.iter().enumerate() {
        let tf = format!(
            "locals {{\n  n = range(100000)\n  m = {{ for i in local.n : tostring(i) => i }}\n  big = join(\"\", [for i in range(20000) : \"{}\"])\n  x = {e}\n}}\n{}",
            "x".repeat(50),
            needs("x")
        );
        write(&dir, &format!("f{i}/main.tf"), tf);
    }
    let run = check(&dir);
    assert_eq!(run.code, 0, "{:?}", run.findings());
}

/// Module `count`s multiplied down a chain (64 per level, 16 levels) stop
/// at the instance budget, reported at the module call. Before: 3.6 GB
/// and an allocation abort after 55 s. After: 0.1 s, 22 MB.
#[test]
fn terraform_module_count_chains_stop_at_the_instance_budget() {
    let dir = case_dir("tf-modules");
    write(
        &dir,
        "root/main.tf",
        "module \"m\" {\n  source = \"./m\"\n  count  = 64\n  depth  = 0\n}\n",
    );
    write(
        &dir,
        "root/m/main.tf",
        "variable \"depth\" {}\nmodule \"again\" {\n  source = \"./\"\n  count  = var.depth < 15 ? 64 : 0\n  depth  = var.depth + 1\n}\nresource \"null_resource\" \"r\" {\n  triggers = { d = var.depth }\n}\n",
    );
    let run = check(&dir);
    let (_, file, line, column, _) = run.one("CH900", "1000 module instances");
    assert!(file.ends_with("root/m/main.tf"), "{file}");
    assert_eq!((line, column), (2, 1));
    assert_eq!(run.code, 1);
}

// ------------------------------------------------------------------ Helm

/// YAML whose aliases expand past the parser's budget (9^10 nodes), under
/// top-level keys starting with `key` (`x-` is what compose allows).
fn alias_bomb(key: &str) -> String {
    let mut doc = format!("{key}a: &a [x, x, x, x, x, x, x, x, x]\n");
    let names = "abcdefghij";
    for (prev, name) in names.chars().zip(names.chars().skip(1)) {
        let refs = vec![format!("*{prev}"); 9].join(", ");
        doc.push_str(&format!("{key}{name}: &{name} [{refs}]\n"));
    }
    doc
}

/// Values of the Bitnami chart: a literal password, a public load balancer.
const BITNAMI_VALUES: &str = "image:\n  repository: bitnami/clickhouse\nauth:\n  username: admin\n  password: not-a-real-one\nservice:\n  type: LoadBalancer\nshards: 1\n";

/// A values file of a known chart that ends in an alias bomb was dropped
/// in silence (exit 0: every check of the chart off); it is a CH900 at the
/// alias where the budget ran out. So are compose files and manifests
/// known only by their content. Files that are none of these stay silent.
#[test]
fn a_deployment_file_ending_in_an_alias_bomb_is_ch900_not_dropped() {
    let dir = case_dir("alias-tail");
    write(
        &dir,
        "chart/Chart.yaml",
        "apiVersion: v2\nname: db\nversion: 1.0.0\n",
    );
    write(
        &dir,
        "chart/values.yaml",
        format!("{BITNAMI_VALUES}{}", alias_bomb("z")),
    );
    write(
        &dir,
        "compose/stack.yaml",
        format!(
            "services:\n  ch:\n    image: clickhouse/clickhouse-server\n    ports: [\"8123:8123\"]\n{}",
            alias_bomb("x-")
        ),
    );
    // An umbrella chart whose Chart.yaml Helm cannot read: which
    // subcharts its values configure is unknown.
    write(
        &dir,
        "umbrella/Chart.yaml",
        format!(
            "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n  - name: clickhouse\n    alias: db\n{}",
            alias_bomb("z")
        ),
    );
    let indented: String = BITNAMI_VALUES.lines().map(|l| format!("  {l}\n")).collect();
    write(
        &dir,
        "umbrella/values.yaml",
        format!("clickhouse:\n{indented}"),
    );
    // A bomb first, the chart's keys after it: a chart named for ClickHouse.
    write(
        &dir,
        "first/Chart.yaml",
        "apiVersion: v2\nname: clickhouse\nversion: 1.0.0\n",
    );
    write(
        &dir,
        "first/values.yaml",
        format!("{}{BITNAMI_VALUES}", alias_bomb("z")),
    );
    // Not a file chlint reads: its failure is none of chlint's business.
    write(
        &dir,
        "other/values.yaml",
        format!("replicas: 2\n{}", alias_bomb("z")),
    );
    let run = check(&dir);
    for file in [
        "chart/values.yaml",
        "compose/stack.yaml",
        "umbrella/Chart.yaml",
        "first/values.yaml",
    ] {
        let all = run.findings();
        let hits: Vec<&Found> = all
            .iter()
            .filter(|f| f.0 == "CH900" && f.1.ends_with(file))
            .collect();
        assert_eq!(hits.len(), 1, "{file}: {all:?}");
        let (_, _, line, column, message) = hits[0];
        assert!(message.contains("aliases expand beyond"), "{message}");
        // The alias where the budget ran out, in the bomb's last lines.
        assert!(
            *line > line_of(&dir, file, "a: &a") && *column > 1,
            "{line}:{column}"
        );
    }
    assert!(
        !run.findings().iter().any(|f| f.1.contains("other/")),
        "{:?}",
        run.findings()
    );
    assert_eq!(run.code, 1);
}

// --------------------------------------------------------------- compose

/// Bind mounts of the machine's folders into the server's configuration
/// folders: chlint listed `/etc` and warned once per file there, calling
/// each "a symbolic link". Nothing outside the checked folders is listed
/// or read now; one warning per mount says what happened, with its line.
#[test]
fn bind_mounts_from_outside_the_checked_folders_are_not_listed() {
    let dir = case_dir("bind-mounts");
    write(
        &dir,
        "app/docker-compose.yml",
        "services:\n  ch:\n    image: clickhouse/clickhouse-server:24.8\n    volumes:\n      - /etc:/etc/clickhouse-server/config.d\n      - ../../..:/etc/clickhouse-server/users.d\n      - /:/etc/clickhouse-server/conf.d\n      - ~/ch:/etc/clickhouse-server/keeper.d\n  inside:\n    image: clickhouse/clickhouse-server:24.8\n    ports: [\"8123:8123\"]\n    volumes:\n      - ./inside:/etc/clickhouse-server/config.d\n",
    );
    write(&dir, "app/inside/listen.xml", OPEN_XML);
    let run = check(&dir);
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("warning"))
        .collect();
    for (source, line) in [("/etc", 5), ("../../..", 6), ("/", 7), ("~/ch", 8)] {
        let want = format!(
            "docker-compose.yml: line {line}: bind mount source `{source}` is outside the checked folders; its files are unknown"
        );
        assert_eq!(
            warnings.iter().filter(|w| w.contains(&want)).count(),
            1,
            "{want}\n{}",
            run.stderr
        );
    }
    assert_eq!(warnings.len(), 4, "{}", run.stderr);
    // A folder inside is still read: that server listens everywhere.
    let all = run.findings();
    assert!(
        all.iter().any(|f| f.1.ends_with("app/inside/listen.xml")),
        "{all:?}"
    );
    assert!(
        !run.stdout.contains("/etc/") || run.stdout.contains("/etc/clickhouse-server"),
        "{}",
        run.stdout
    );
}

// ------------------------------------------------------------ Kubernetes

/// 2,000 public Services × 2,000 ClickHouse Deployments, all selecting
/// `app: x`: indexing Services by their first label did not help (all share
/// it), so every workload got 2,000 exposures. Before: no end within
/// 300 s (debug). After: workloads alike share one search, each gets the
/// first 64 Services in written order, and the 65th gets a CH900 note;
/// 8 s and 170 MB (debug).
#[test]
fn services_times_workloads_sharing_one_selector_stay_bounded() {
    let dir = case_dir("k8s-selectors");
    let n = 2000;
    let mut services = String::new();
    let mut workloads = String::new();
    for i in 0..n {
        services.push_str(&format!(
            "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: s{i}\nspec:\n  type: LoadBalancer\n  selector:\n    app: x\n  ports:\n    - port: 8123\n"
        ));
        workloads.push_str(&format!(
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: w{i}\nspec:\n  template:\n    metadata:\n      labels:\n        app: x\n    spec:\n      containers:\n        - name: ch\n          image: clickhouse/clickhouse-server:24.8\n"
        ));
    }
    write(&dir, "k8s/services.yaml", services);
    write(&dir, "k8s/workloads.yaml", workloads);
    let run = check(&dir);
    let (_, file, line, _, message) = run.one("CH900", "more than 64 Services reach the same pods");
    assert!(file.ends_with("k8s/services.yaml"), "{file}");
    // `metadata.name` of the 65th Service (11 lines each, the name on the 5th).
    assert_eq!(line, 64 * 11 + 5, "{message}");
    // The Services checked still report what they publish.
    let published = run.findings().iter().filter(|f| f.0 == "CH250").count();
    assert_eq!(published, 64);
    assert_eq!(run.code, 1);
}

/// A Terraform module or a `file()` outside the checked folders was listed
/// (the module's folder) and refused with a warning calling it "a symbolic
/// link". It is neither listed nor read now, its values are unknown, and
/// one warning says so where it is named.
#[test]
fn terraform_modules_and_files_outside_the_checked_folders_are_not_read() {
    let base = case_dir("tf-outside");
    write(
        &base,
        "outside/main.tf",
        "variable \"x\" {\n  default = \"0.0.0.0/0\"\n}\noutput \"o\" {\n  value = var.x\n}\n",
    );
    let secret = base.join("outside/main.tf").display().to_string();
    write(
        &base,
        "repo/root/main.tf",
        format!("module \"m\" {{\n  source = \"../../outside\"\n}}\nresource \"null_resource\" \"r\" {{\n  triggers = {{ x = module.m.o, f = file(\"{secret}\") }}\n}}\n"),
    );
    let run = check(&base.join("repo"));
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("warning"))
        .collect();
    for want in [
        "root/main.tf: line 1: module source `../../outside` is outside the checked folders; its values are unknown".to_string(),
        // Printed as every path is: relative to the working folder.
        "root/main.tf: line 5: `file` of `../outside/main.tf` is outside the checked folders; its text is unknown".to_string(),
    ] {
        assert!(
            warnings.iter().any(|w| w.ends_with(&want)),
            "{want}\n{}",
            run.stderr
        );
    }
    assert_eq!(warnings.len(), 2, "{}", run.stderr);
    assert!(!run.stderr.contains("symbolic link"), "{}", run.stderr);
    assert_eq!(run.code, 0);
}
