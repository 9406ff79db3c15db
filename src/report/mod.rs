//! Renderers. They know findings and sources, nothing about rules.

pub mod github;
pub mod human;
pub mod inspect;
pub mod json;
pub mod sarif;
