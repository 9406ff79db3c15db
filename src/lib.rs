//! chlint: a static security linter for ClickHouse deployments.

pub mod check;
pub mod clickhouse;
pub mod deploy;
pub mod discover;
pub mod finding;
pub mod lower;
pub mod model;
pub mod repo;
pub mod report;
pub mod rule_pages;
pub mod rules;
pub mod source;
pub mod syntax;
