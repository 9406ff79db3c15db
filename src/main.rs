//! chlint: command line → library → exit code.

mod cli;
mod cli_check;

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use chlint::clickhouse::load::{merge_files, Base, ConfigNote, Workspace};
use chlint::clickhouse::merge::Flavor;
use chlint::clickhouse::substitute::SubstNote;
use chlint::clickhouse::write::{to_xml, Options};
use chlint::report;
use chlint::rules::RULES;
use chlint::source::Span;
use cli::{Cli, Command, ListFormat, ReviewFormat, ServerVersion};

/// mimalloc instead of the system allocator: parsing allocates a node per
/// element and scalar, and glibc's malloc and free were a quarter of all
/// instructions (and contend between threads).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    no_huge_pages();
    let cli = Cli::parse();
    // Discovery runs on the thread pool (servers are checked beside it):
    // its threads get the main thread's room for deep (bounded) nesting.
    // A call on a few files (a pre-commit hook) has nothing to share out:
    // one thread, not the start of one per core.
    let few_files = match &cli.command {
        Command::Check { paths, .. } => {
            !paths.is_empty() && paths.len() <= 16 && paths.iter().all(|p| p.is_file())
        }
        _ => true,
    };
    let mut pool = rayon::ThreadPoolBuilder::new().stack_size(8 << 20);
    if few_files {
        pool = pool.num_threads(1);
    }
    let _ = pool.build_global();
    match run(cli) {
        Ok(code) => code,
        Err(message) => {
            eprintln!(
                "chlint: error: {}",
                chlint::report::human::printable(&message)
            );
            ExitCode::from(2)
        }
    }
}

/// Ask the kernel for no transparent huge pages: with them, memory grows
/// by whole 2 MiB pages the kernel must zero (a run took a third more
/// resident memory, and as much system time as user time).
fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    {
        extern "C" {
            fn prctl(option: i32, arg2: u64, arg3: u64, arg4: u64, arg5: u64) -> i32;
        }
        const PR_SET_THP_DISABLE: i32 = 41;
        // SAFETY: prctl with PR_SET_THP_DISABLE takes plain integers and
        // only sets a flag of this process; a failure changes nothing.
        unsafe {
            prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
        }
    }
}

pub(crate) fn print(text: &str) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        // A closed pipe (`chlint … | head`) is not an error of ours.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        Command::Check {
            paths,
            format,
            max_file_size,
            var_files,
            filters,
        } => cli_check::run(paths, format, max_file_size, var_files, filters),
        Command::Rules { format } => {
            let text = match format {
                ListFormat::Json => {
                    let rules: Vec<_> = RULES
                        .iter()
                        .map(|r| serde_json::json!({"code": r.code, "name": r.name, "severity": r.severity.as_str(), "summary": r.summary}))
                        .collect();
                    serde_json::to_string_pretty(&rules).expect("plain data") + "\n"
                }
                ListFormat::Human => RULES
                    .iter()
                    .map(|r| {
                        format!(
                            "{}  {:<36} {:<8}  {}\n",
                            r.code,
                            r.name,
                            r.severity.as_str(),
                            r.summary
                        )
                    })
                    .collect(),
            };
            print(&text)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::ReviewChanges {
            base,
            head,
            config,
            baseline,
            format,
        } => review_changes(&base, &head, &config, &baseline, format),
        Command::Explain { rule } => {
            let r = chlint::rules::find(&rule)
                .ok_or_else(|| format!("no rule `{rule}` (see `chlint rules`)"))?;
            print(r.page())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Inspect {
            path,
            format: _,
            env,
            env_file,
        } => {
            let (root, only) = if path.is_file() {
                // A bare file name has an empty parent: the current folder.
                match path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    Some(parent) => (parent.to_path_buf(), Some(path.clone())),
                    None => (PathBuf::from("."), Some(PathBuf::from(".").join(&path))),
                }
            } else {
                (path.clone(), None)
            };
            let mut ws = Workspace::default();
            ws.env = environment(&env, env_file.as_deref())?;
            let discovery = chlint::discover::discover(&mut ws, &[root]);
            if !discovery.errors.is_empty() {
                return Err(discovery.errors.join("\n"));
            }
            let servers: Vec<_> = discovery
                .servers
                .iter()
                .filter(|s| match &only {
                    None => true,
                    Some(file) => [s.config.main, s.users_config.as_ref().and_then(|u| u.main)]
                        .into_iter()
                        .flatten()
                        .any(|id| ws.sources.get(id).path == *file),
                })
                .map(|s| report::inspect::server(s, &ws.sources))
                .collect();
            if servers.is_empty() {
                return Err(format!(
                    "{}: no ClickHouse server or Keeper configuration found",
                    path.display()
                ));
            }
            print(&(serde_json::to_string_pretty(&servers).expect("plain data") + "\n"))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Merged {
            file,
            origins,
            env,
            env_file,
            clickhouse_version,
            show_secrets,
        } => {
            let vars = environment(&env, env_file.as_deref())?;
            let flavor = match clickhouse_version {
                ServerVersion::Latest => Flavor::Modern,
                ServerVersion::V18 => Flavor::Legacy,
            };
            let mut ws = Workspace::default();
            ws.flavor = flavor;
            // Links leading outside the file's folder are not followed.
            ws.roots = Some(chlint::discover::read_roots(std::slice::from_ref(&file)));
            ws.env = vars;
            if !file.is_file() {
                return Err(format!("{}: not a file", file.display()));
            }
            let dir = file.parent().map(PathBuf::from).unwrap_or_default();
            let stem = file
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let merges = merge_files(&dir, &stem, flavor);
            let loaded = ws
                .load_tree(Base::File(&file), &merges, &dir)
                .map_err(|note| describe_note(&note, &ws))?;
            for note in &loaded.notes {
                if let ConfigNote::Skipped { .. } = note {
                    eprintln!(
                        "chlint: warning: {}",
                        report::human::printable(&describe_note(note, &ws))
                    );
                }
            }
            // ClickHouse refuses to start on these: so does `merged`.
            let fatal: Vec<String> = loaded
                .fatal_notes()
                .map(|n| describe_note(n, &ws))
                .collect();
            if !fatal.is_empty() {
                return Err(format!(
                    "ClickHouse would refuse this configuration:\n  {}",
                    fatal.join("\n  ")
                ));
            }
            let options = Options {
                origins: origins.then_some(&ws.sources),
                // ClickHouse 18.x knows no `hide_in_preprocessed`.
                hide_marked: flavor == Flavor::Modern,
                show_secrets,
            };
            print(&to_xml(&loaded.root, &options))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn review_changes(
    base: &str,
    head: &str,
    configs: &[PathBuf],
    baselines: &[PathBuf],
    format: ReviewFormat,
) -> Result<ExitCode, String> {
    use chlint::review;
    let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
    let git = chlint::git::Git::open(&cwd)?;
    let request = review::Request {
        base,
        head,
        configs,
        baselines,
        max_size: chlint::clickhouse::load::DEFAULT_MAX_FILE_SIZE,
    };
    let notes = review::review(&git, &request)?;
    print(&match format {
        ReviewFormat::Github => review::render_github(&notes),
        ReviewFormat::Human => review::render_human(&notes),
    })?;
    if format == ReviewFormat::Human {
        eprintln!("chlint: {} change(s) to review", notes.len());
    }
    Ok(if notes.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// One line on a note, with its location.
fn describe_note(note: &ConfigNote, ws: &Workspace) -> String {
    let at = |span: Span| {
        let l = ws.sources.locate(span);
        format!("{}:{}:{}", l.file, l.line, l.column)
    };
    match note {
        ConfigNote::Invalid { source, error } => format!(
            "{}: cannot be parsed: {}",
            at(Span::new(*source, error.offset, error.offset)),
            error.message
        ),
        ConfigNote::Unreadable { path, message } => format!("{}: {message}", path.display()),
        ConfigNote::Skipped { path, reason } => format!("{}: {reason}", path.display()),
        ConfigNote::Internal { path, message } => {
            format!(
                "{}: internal error (please report this bug): {message}",
                path.display()
            )
        }
        ConfigNote::Template { source } => {
            format!("{}: an unrendered template", at(Span::new(*source, 0, 0)))
        }
        ConfigNote::RootMismatch { span, root } => {
            format!("{}: root element <{root}> is not <clickhouse>", at(*span))
        }
        ConfigNote::MergeFailed(e) => format!("{}: {}", at(e.span), e.message),
        ConfigNote::Limit { span, message } => format!("{}: {message}", at(*span)),
        ConfigNote::Subst(SubstNote::Conflicting { span }) => format!(
            "{}: more than one of `incl`, `from_env`, `from_zk` on one element",
            at(*span)
        ),
        ConfigNote::Subst(SubstNote::BadEnvValue { var, span }) => format!(
            "{}: the value of `{var}` is not valid XML content",
            at(*span)
        ),
        other => format!("{other:?}"),
    }
}

/// The environment given with `--env` and `--env-file`, `None` when neither
/// is. Given, it is the server's whole environment: other variables are unset.
fn environment(
    env: &[String],
    env_file: Option<&std::path::Path>,
) -> Result<Option<HashMap<String, String>>, String> {
    if env.is_empty() && env_file.is_none() {
        return Ok(None);
    }
    let mut vars = HashMap::new();
    if let Some(path) = env_file {
        // Any regular file (no FIFO, no device), 1 MiB at most.
        let text = chlint::safe_file::read_text(path, std::path::Path::new("/"), 1 << 20)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        parse_env(text.lines(), &mut vars).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    parse_env(env.iter().map(String::as_str), &mut vars).map_err(|e| format!("--env: {e}"))?;
    Ok(Some(vars))
}

/// NAME=VALUE lines; an error gives the line's number, never its text
/// (the file is full of secrets).
fn parse_env<'a>(
    lines: impl Iterator<Item = &'a str>,
    vars: &mut HashMap<String, String>,
) -> Result<(), String> {
    for (number, line) in lines.enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, value) = line
            .split_once('=')
            .ok_or_else(|| format!("line {}: expected NAME=VALUE", number + 1))?;
        vars.insert(name.trim().to_string(), value.to_string());
    }
    Ok(())
}
