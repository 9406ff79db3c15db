//! `chlint check`: configuration, discovery, rules, filters, output, exit code.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chlint::baseline::{self, Baseline};
use chlint::check::check_paths;
use chlint::clickhouse::load::{decode, Workspace};
use chlint::config_file::{self, common_ancestor};
use chlint::filter;
use chlint::report;
use chlint::settings::{CliChoices, Settings};

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
        Some(n) => n.to_path_buf(),
        // Without a name, the content decides between XML and YAML.
        None if text.trim_start().starts_with('<') => PathBuf::from("<stdin>.xml"),
        None => PathBuf::from("<stdin>.yaml"),
    };
    ws.insert_text(path.clone(), text);
    Ok(path)
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
    if wants_stdin {
        let name = read_stdin(&mut ws, filters.stdin_filename.as_deref())?;
        paths.retain(|p| p != dash);
        paths.insert(0, name);
    }

    let config = if filters.no_config {
        None
    } else if let Some(path) = &filters.config {
        Some(config_file::load_named(path)?)
    } else {
        match common_ancestor(&paths).and_then(|d| config_file::discover(&d)) {
            Some(path) => Some(config_file::load(&path)?),
            None => None,
        }
    };
    let choices = CliChoices {
        select: filters.select.clone(),
        ignore: filters.ignore.clone(),
        min_severity: filters.min_severity.map(Into::into),
        fail_on: filters.fail_on.map(Into::into),
        exit_zero: filters.exit_zero,
        no_ignores: filters.no_ignores,
    };
    let settings = Settings::resolve(config.as_ref(), &choices)?;
    // Read the baseline before the work, so that a bad one fails fast.
    let baseline = match (&filters.baseline, &filters.write_baseline) {
        (Some(path), None) => Some(Baseline::load(path)?),
        (_, Some(path)) => {
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
    let dropped = filter::apply(&mut report, &ws.sources, &settings, baseline.as_ref());

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
            &|r| settings.severity_of(r),
            std::env::current_dir().ok().as_deref(),
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
    } else if filters.write_baseline.is_none() && filter::fails(&report, &settings) {
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
