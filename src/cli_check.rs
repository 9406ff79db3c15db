//! `chlint check`: configuration, discovery, rules, filters, output, exit code.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chlint::baseline::{self, Baseline};
use chlint::check::check_paths;
use chlint::clickhouse::load::{decode, Workspace};
use chlint::config_file::{self, Config};
use chlint::filter;
use chlint::report;
use chlint::settings::{CliChoices, PerFile, Settings};
use chlint::trusted::TrustedBase;

use crate::cli::{Filters, Format};
use crate::print;

/// Read standard input and register it under its name; returns the name.
fn read_stdin(ws: &mut Workspace, name: Option<&Path>) -> Result<PathBuf, String> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(ws.max_file_size.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| format!("standard input: {e}"))?;
    if bytes.len() as u64 > ws.max_file_size {
        return Err(format!(
            "standard input: larger than {} bytes (see --max-file-size)",
            ws.max_file_size
        ));
    }
    let text = decode(&bytes).map_err(|e| format!("standard input: {e}"))?;
    let path = match name {
        // Where the file would be: its folder's main files apply.
        Some(n) => chlint::paths::canonical_name(n),
        // Without a name, the content decides between XML and YAML.
        None if text.trim_start().starts_with('<') => PathBuf::from("<stdin>.xml"),
        None => PathBuf::from("<stdin>.yaml"),
    };
    ws.insert_text(path.clone(), text);
    Ok(path)
}

/// Every named path once, in its canonical form (a path that does not
/// exist as given, for discovery to report); standard input's name first.
/// Sets how paths are printed.
fn resolve_inputs(
    paths: Vec<PathBuf>,
    stdin: Option<PathBuf>,
    stdin_name: Option<&Path>,
) -> Vec<PathBuf> {
    use chlint::paths::{canonical, set_display, Input};
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut inputs = Vec::new();
    if let Some(name) = stdin {
        if let Some(spelled) = stdin_name {
            inputs.push(Input::new(spelled, &name));
        }
        seen.insert(name.clone());
        out.push(name);
    }
    for p in paths {
        let path = match canonical(&p) {
            Some(c) => {
                inputs.push(Input::new(&p, &c));
                c
            }
            None => p,
        };
        // The same folder or file named twice is checked once.
        if seen.insert(path.clone()) {
            out.push(path);
        }
    }
    set_display(inputs);
    out
}

pub fn run(
    paths: Vec<PathBuf>,
    format: Format,
    max_file_size: u64,
    var_files: Vec<PathBuf>,
    filters: Filters,
) -> Result<ExitCode, String> {
    if let Some(missing) = var_files.iter().find(|f| !f.is_file()) {
        return Err(format!("{}: no such variables file", missing.display()));
    }
    let mut ws = Workspace::default();
    ws.max_file_size = max_file_size;
    ws.var_files = var_files;
    let dash = Path::new("-");
    let wants_stdin =
        paths.iter().any(|p| p == dash) || (paths.is_empty() && filters.stdin_filename.is_some());
    if paths.iter().filter(|p| *p == dash).count() > 1 {
        return Err("`-` (standard input) can be given once".into());
    }
    let mut paths = if paths.is_empty() && !wants_stdin {
        vec![PathBuf::from(".")]
    } else {
        paths
    };
    let mut stdin = None;
    if wants_stdin {
        let name = read_stdin(&mut ws, filters.stdin_filename.as_deref())?;
        paths.retain(|p| p != dash);
        stdin = Some(name);
    }
    let paths = resolve_inputs(paths, stdin, filters.stdin_filename.as_deref());

    // With --config-from-git, configuration files come from that commit.
    let trusted = match &filters.config_from_git {
        Some(rev) => Some(TrustedBase::open(rev)?),
        None => None,
    };
    // `--config` may name any regular file in the repository; a found
    // `.chlint.toml` must stay inside its own folder.
    let read = |path: &Path, named: bool| -> Result<Config, String> {
        let mut config = match &trusted {
            Some(base) => base.load(path)?,
            None if named => config_file::load_named(path)?,
            None => config_file::load(path)?,
        };
        if let Ok(dir) = config.dir.canonicalize() {
            config.dir = dir;
        }
        Ok(config)
    };
    let mut cache = std::collections::HashMap::new();
    let mut find = |dir: &Path| match &trusted {
        Some(base) => base.nearest_path(dir),
        None => config_file::discover_in(dir, &mut cache),
    };
    let choices = CliChoices {
        select: filters.select.clone(),
        ignore: filters.ignore.clone(),
        min_severity: filters.min_severity.map(Into::into),
        fail_on: filters.fail_on.map(Into::into),
        exit_zero: filters.exit_zero,
        no_ignores: filters.no_ignores,
    };
    // One configuration for every file, or each file's own: those found
    // for the named paths are read now, so that a bad one fails fast.
    let fixed = if filters.no_config {
        Some(Settings::resolve(None, &choices)?)
    } else if let Some(path) = &filters.config {
        Some(Settings::resolve(Some(&read(path, true)?), &choices)?)
    } else {
        None
    };
    let mut named_configs = Vec::new();
    if fixed.is_none() {
        for path in &paths {
            let dir = if path.is_dir() {
                Some(path.as_path())
            } else {
                path.parent()
            };
            let Some(found) = dir.and_then(&mut find) else {
                continue;
            };
            if !named_configs.contains(&found) {
                Settings::resolve(Some(&read(&found, false)?), &choices)?;
                named_configs.push(found);
            }
        }
    }
    // Read the baseline before the work, so that a bad one fails fast.
    let baseline = match (&filters.baseline, &filters.write_baseline, &trusted) {
        (Some(path), None, Some(base)) => {
            let found = base.baseline(path)?;
            if found.is_none() {
                eprintln!(
                    "chlint: warning: {}: not in commit {}: no finding is excused by a baseline",
                    path.display(),
                    base.commit
                );
            }
            found
        }
        (Some(path), None, None) => Some(Baseline::load(path)?),
        (_, Some(path), _) => {
            baseline::check_writable(path)?;
            None
        }
        _ => None,
    };

    chlint::phases::mark("start");
    let mut report = check_paths(&mut ws, &paths);
    chlint::phases::mark("settle findings");
    if !report.errors.is_empty() {
        return Err(report.errors.join("\n"));
    }
    let settings = match fixed {
        Some(s) => PerFile::fixed(s),
        None => PerFile::discover(
            &ws.sources,
            named_configs.first().map(PathBuf::as_path),
            &mut find,
            &|p: &Path| read(p, false),
            &choices,
        )?,
    };
    let dropped = filter::apply_each(
        &mut report,
        &ws.sources,
        &|s| settings.of(s),
        baseline.as_ref(),
    );

    let text = match format {
        Format::Json => {
            // Written as it is made: a large report is not held twice.
            let out = std::io::BufWriter::new(std::io::stdout().lock());
            match report::json::write(&report, &ws.sources, out) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.to_string()),
                _ => String::new(),
            }
        }
        Format::Human => {
            let color = std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            report::human::render(&report, &ws.sources, &report::human::Style { color })
        }
        Format::Sarif => report::sarif::render(
            &report,
            &ws.sources,
            &|r| settings.first().severity_of(r),
            chlint::paths::source_root(&paths).as_deref(),
        ),
        Format::Github => report::github::render(&report, &ws.sources),
    };
    chlint::phases::mark("render");
    print(&text)?;
    chlint::phases::mark("print");
    if format == Format::Human {
        if let Some(line) = filter::summary(&dropped) {
            eprintln!("chlint: {line}");
        }
    }
    for w in &report.warnings {
        eprintln!("chlint: warning: {}", report::human::printable(w));
    }
    // Not an error: a repository may have no ClickHouse yet; but a run that
    // checked nothing should not look like a clean one.
    if report.clickhouse_files == 0 {
        eprintln!("chlint: no ClickHouse configuration or deployment found in the checked paths");
    }
    for e in &report.internal_errors {
        eprintln!(
            "chlint: {} (please report this bug)",
            report::human::printable(e)
        );
    }
    if let Some(path) = &filters.write_baseline {
        let n = baseline::write(path, &report.findings, &ws.sources, &report.secret_spans)?;
        eprintln!("chlint: recorded {n} finding(s) in {}", path.display());
    }
    let code = if !report.internal_errors.is_empty() {
        ExitCode::from(2)
    } else if filters.write_baseline.is_none() && filter::fails_each(&report, &|s| settings.of(s)) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    };
    // The process ends now: freeing every tree and text one by one would
    // only cost time (a tenth of a large run).
    std::mem::forget(report);
    std::mem::forget(ws);
    Ok(code)
}
