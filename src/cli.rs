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
        /// Files or folders to check.
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Largest file read, in bytes (a larger ClickHouse file is a CH900
        /// finding).
        #[arg(long, default_value_t = chlint::clickhouse::load::DEFAULT_MAX_FILE_SIZE)]
        max_file_size: u64,
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
    },
    /// Print the effective configuration of a main file as XML.
    Merged {
        /// A main configuration or users file (config.xml, users.xml, keeper_config.xml …).
        file: PathBuf,
        /// Add where each element came from (file:line).
        #[arg(long)]
        origins: bool,
        /// Resolve `from_env="NAME"` with NAME=VALUE (repeatable); without it
        /// substitutions from the environment stay unresolved.
        #[arg(long = "env", value_name = "NAME=VALUE")]
        env: Vec<String>,
        /// A file of NAME=VALUE lines for `from_env`.
        #[arg(long, value_name = "FILE")]
        env_file: Option<PathBuf>,
        /// Which server's merge to reproduce.
        #[arg(long, value_enum, default_value_t = ServerVersion::Latest)]
        clickhouse_version: ServerVersion,
    },
}
