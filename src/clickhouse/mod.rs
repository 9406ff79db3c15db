//! The effective ClickHouse configuration, built the way ClickHouse builds it.

pub mod defaults;
pub mod element;
pub mod load;
pub mod merge;
pub mod substitute;
pub mod write;
pub mod yaml_map;
