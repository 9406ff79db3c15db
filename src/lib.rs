//! chlint: a static security linter for ClickHouse deployments.

pub mod baseline;
pub mod check;
pub mod clickhouse;
pub mod config_file;
pub mod deploy;
pub mod discover;
pub mod filter;
pub mod finding;
pub mod fingerprint;
#[doc(hidden)]
pub mod fuzzing;
pub mod git;
pub mod guard;
pub mod lower;
pub mod mask;
pub mod model;
pub mod paths;
pub mod phases;
pub mod repeats;
pub mod repo;
pub mod report;
pub mod review;
pub mod rule_pages;
pub mod rules;
pub mod safe_file;
pub mod settings;
mod slots;
pub mod source;
pub mod suppress;
pub mod syntax;
pub mod trusted;
