//! Command-line definitions.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "chlint",
    version,
    about = "Static security linter for ClickHouse deployments",
    long_about = "Finds every way a ClickHouse deployment described in a repository can be reached without authentication, encryption or network limits, and secrets written in clear."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    /// SARIF 2.1.0 (GitHub code scanning and other SARIF viewers).
    Sarif,
    /// GitHub Actions workflow commands (annotations).
    Github,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum SeverityArg {
    Low,
    Medium,
    High,
    Critical,
}

impl From<SeverityArg> for chlint::finding::Severity {
    fn from(s: SeverityArg) -> Self {
        use chlint::finding::Severity;
        match s {
            SeverityArg::Low => Severity::Low,
            SeverityArg::Medium => Severity::Medium,
            SeverityArg::High => Severity::High,
            SeverityArg::Critical => Severity::Critical,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ListFormat {
    Human,
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ServerVersion {
    /// Current ClickHouse.
    Latest,
    /// ClickHouse 18.x (the Debian package): different merge details.
    #[value(name = "18")]
    V18,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check files and folders (default: the current folder).
    Check {
        /// Files or folders to check; `-` reads one file from standard input.
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Largest file read, in bytes (a larger ClickHouse file is a CH900
        /// finding).
        #[arg(long, default_value_t = chlint::clickhouse::load::DEFAULT_MAX_FILE_SIZE)]
        max_file_size: u64,
        /// A Terraform variables file, as `terraform plan -var-file` takes it
        /// (repeatable; applies to every root module, after terraform.tfvars
        /// and *.auto.tfvars).
        #[arg(long = "var-file", value_name = "FILE")]
        var_files: Vec<PathBuf>,
        #[command(flatten)]
        filters: Filters,
    },
    /// List every rule.
    Rules {
        #[arg(long, value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
    },
    /// Print a rule's documentation page.
    Explain {
        /// A rule code (CH101) or name (default-user-without-password).
        rule: String,
    },
    /// Print chlint's model of the servers a file or folder describes
    /// (listeners, users) as JSON.
    Inspect {
        /// A main configuration file or a folder.
        path: PathBuf,
        #[arg(long, value_enum, default_value_t = ListFormat::Json)]
        format: ListFormat,
        /// Resolve `from_env="NAME"` with NAME=VALUE (repeatable), as for
        /// `merged`: the variables given are the server's whole environment.
        #[arg(long = "env", value_name = "NAME=VALUE")]
        env: Vec<String>,
        /// A file of NAME=VALUE lines for `from_env`.
        #[arg(long, value_name = "FILE")]
        env_file: Option<PathBuf>,
    },
    /// List what commits since REV do to chlint's own checks: suppression
    /// comments added, `.chlint.toml` and baseline changes, `.gitignore`
    /// changes (compares REV with HEAD). Exit code 1 when there is any.
    ReviewChanges {
        /// The trusted commit (a pull request's base).
        #[arg(long, value_name = "REV")]
        base: String,
        /// The commit to review.
        #[arg(long, value_name = "REV", default_value = "HEAD")]
        head: String,
        /// A configuration file the checks use besides every `.chlint.toml`
        /// (repeatable).
        #[arg(long, value_name = "FILE")]
        config: Vec<PathBuf>,
        /// The baseline file the checks use (repeatable).
        #[arg(long, value_name = "FILE")]
        baseline: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = ReviewFormat::Human)]
        format: ReviewFormat,
    },
    /// Print the effective configuration of a main file as XML.
    Merged {
        /// A main configuration or users file (config.xml, users.xml, keeper_config.xml …).
        file: PathBuf,
        /// Add where each element came from (file:line).
        #[arg(long)]
        origins: bool,
        /// Resolve `from_env="NAME"` with NAME=VALUE (repeatable). The
        /// variables given (here and in --env-file) are the server's whole
        /// environment: others are unset. Without either, substitutions from
        /// the environment stay unresolved.
        #[arg(long = "env", value_name = "NAME=VALUE")]
        env: Vec<String>,
        /// A file of NAME=VALUE lines for `from_env`.
        #[arg(long, value_name = "FILE")]
        env_file: Option<PathBuf>,
        /// Which server's merge to reproduce.
        #[arg(long, value_enum, default_value_t = ServerVersion::Latest)]
        clickhouse_version: ServerVersion,
        /// Print passwords, keys, hashes and URL userinfo as written
        /// (masked by default). Elements marked `hide_in_preprocessed` are
        /// left out either way, as ClickHouse leaves them out.
        #[arg(long)]
        show_secrets: bool,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ReviewFormat {
    Human,
    /// GitHub Actions workflow commands (annotations).
    Github,
}

/// What `check` reports and what makes it fail.
#[derive(clap::Args, Debug)]
pub struct Filters {
    /// The path standard input is checked as (it decides how the text is
    /// read and which files beside it are merged); implies `-` when no path
    /// is given.
    #[arg(long, value_name = "NAME")]
    pub stdin_filename: Option<PathBuf>,
    /// Only these rules: codes, code prefixes (CH2) or names, comma-separated
    /// (replaces the configuration file's `select`).
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub select: Option<Vec<String>>,
    /// Not these rules (added to the configuration file's `ignore`).
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub ignore: Vec<String>,
    /// Do not report findings below this severity.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub min_severity: Option<SeverityArg>,
    /// Exit with 1 only for findings at or above this severity (default: low,
    /// i.e. any finding).
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<SeverityArg>,
    /// Exit with 0 even when there are findings (2 still means chlint could
    /// not run).
    #[arg(long)]
    pub exit_zero: bool,
    /// Use this configuration file for every file instead of each file's nearest `.chlint.toml`.
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,
    /// Use no configuration file.
    #[arg(long)]
    pub no_config: bool,
    /// Read `.chlint.toml`, the `--config` file and the `--baseline` from
    /// git commit REV instead of the working tree (a pull request's base
    /// commit: the pull request cannot change its own checks). A baseline
    /// REV does not have excuses nothing.
    #[arg(
        long,
        value_name = "REV",
        conflicts_with_all = ["no_config", "write_baseline"]
    )]
    pub config_from_git: Option<String>,
    /// Disregard inline `chlint: ignore[…]` comments and the configuration
    /// file's `per-path-ignores`: show everything.
    #[arg(long)]
    pub no_ignores: bool,
    /// Report only findings that are not recorded in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Record the findings of this run in a baseline file (and exit with 0).
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
}
