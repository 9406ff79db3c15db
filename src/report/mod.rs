//! Renderers. They know findings and sources, nothing about rules.

pub mod human;
pub mod inspect;
pub mod json;
