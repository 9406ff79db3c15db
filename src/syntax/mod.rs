//! Span-keeping parsers, one per syntax.

pub mod hcl;
pub mod json;
pub mod xml;
pub mod yaml;
mod yaml_block;

/// A syntax error with the byte offset the parser stopped at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub message: String,
    pub offset: usize,
}

impl ParseError {
    pub fn new(message: impl Into<String>, offset: usize) -> ParseError {
        ParseError {
            message: message.into(),
            offset,
        }
    }
}

/// Bounds on the work one file may cause.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Deepest element nesting accepted (ClickHouse configs use about ten).
    pub max_depth: usize,
    /// Most nodes produced by expanding YAML aliases in one document.
    pub max_alias_nodes: usize,
    /// Most nodes (elements, attributes, texts; YAML nodes) in one file, and
    /// most nodes substitutions may add to one tree: bounds memory whatever
    /// the file size (ClickHouse configurations have thousands).
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_depth: 256,
            max_alias_nodes: 100_000,
            max_nodes: 500_000,
        }
    }
}
