//! chlint: a static security linter for ClickHouse deployments.

pub mod check;
pub mod clickhouse;
pub mod discover;
pub mod finding;
#[doc(hidden)]
pub mod fuzzing;
pub mod guard;
pub mod lower;
pub mod model;
pub mod report;
pub mod rule_pages;
pub mod rules;
pub mod source;
pub mod syntax;
