//! A format-neutral tree of deployment values (Kubernetes objects, compose
//! files, Helm values, Terraform attributes), every node with its span.
//!
//! The frontends read this tree, not a syntax tree, so a Terraform
//! `kubernetes_service` or a `helm_release` can be lowered by the same code as
//! a YAML manifest once its HCL is converted into a [`Value`].

use crate::source::Span;
use crate::syntax::yaml::{YamlKind, YamlNode};

#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    pub kind: Kind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    Null,
    /// Any scalar, as text.
    Str(String),
    List(Vec<Value>),
    /// Entries in order; a repeated key keeps every occurrence (the last wins).
    Map(Vec<Entry>),
    /// Not known from the repository (a Terraform variable without a
    /// default, a reference to another resource): treated as set, never
    /// guessed. The text says what it is, for messages.
    External(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    pub value: Value,
}

/// How deep merge keys (`<<`) are resolved; YAML depth is bounded by the
/// parser already.
const MAX_MERGE_DEPTH: usize = 256;

impl Value {
    pub fn new(kind: Kind, span: Span) -> Value {
        Value { kind, span }
    }

    /// Convert a YAML node, resolving merge keys (`<<: *base`, `!!merge <<:`):
    /// the merged mapping's keys come after the explicit ones and never
    /// override them.
    pub fn from_yaml(node: &YamlNode) -> Value {
        from_yaml_at(node, 0)
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.kind, Kind::Null)
    }

    pub fn is_external(&self) -> bool {
        matches!(self.kind, Kind::External(_))
    }

    pub fn entries(&self) -> &[Entry] {
        match &self.kind {
            Kind::Map(m) => m,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Value] {
        match &self.kind {
            Kind::List(l) => l,
            _ => &[],
        }
    }

    pub fn is_map(&self) -> bool {
        matches!(self.kind, Kind::Map(_))
    }

    /// The value of `key` (the last occurrence, as YAML loaders keep).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entry(key).map(|e| &e.value)
    }

    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries().iter().rev().find(|e| e.key == key)
    }

    /// [`Value::get`] taking the value out of its map.
    pub fn into_value_of(self, key: &str) -> Option<Value> {
        match self.kind {
            Kind::Map(entries) => entries
                .into_iter()
                .rev()
                .find(|e| e.key == key)
                .map(|e| e.value),
            _ => None,
        }
    }

    /// [`Value::items`] taken out of the list.
    pub fn into_items(self) -> Vec<Value> {
        match self.kind {
            Kind::List(items) => items,
            _ => Vec::new(),
        }
    }

    /// The value at a `.`-separated path of keys.
    pub fn path(&self, path: &str) -> Option<&Value> {
        path.split('.').try_fold(self, |v, k| v.get(k))
    }

    /// The entry at a `.`-separated path of keys.
    pub fn path_entry(&self, path: &str) -> Option<&Entry> {
        let (parent, last) = match path.rsplit_once('.') {
            Some((p, l)) => (self.path(p)?, l),
            None => (self, path),
        };
        parent.entry(last)
    }

    /// A scalar at a path, as text.
    pub fn str_at(&self, path: &str) -> Option<&str> {
        self.path(path).and_then(Value::as_str)
    }

    /// YAML's (and Helm's) truthy scalars.
    pub fn is_true(&self) -> bool {
        self.as_str().is_some_and(|s| {
            matches!(
                s.trim().to_ascii_lowercase().as_str(),
                "true" | "yes" | "on" | "1" | "y"
            )
        })
    }

    pub fn is_false(&self) -> bool {
        self.as_str().is_some_and(|s| {
            matches!(
                s.trim().to_ascii_lowercase().as_str(),
                "false" | "no" | "off" | "0" | "n"
            )
        })
    }

    /// A boolean at a path; `None` when absent or not a boolean.
    pub fn bool_at(&self, path: &str) -> Option<bool> {
        let v = self.path(path)?;
        if v.is_true() {
            Some(true)
        } else if v.is_false() {
            Some(false)
        } else {
            None
        }
    }
}

fn from_yaml_at(node: &YamlNode, depth: usize) -> Value {
    let kind = match &node.kind {
        YamlKind::Null => Kind::Null,
        YamlKind::Scalar(s) => Kind::Str(s.clone()),
        YamlKind::Seq(items) => {
            Kind::List(items.iter().map(|i| from_yaml_at(i, depth + 1)).collect())
        }
        YamlKind::Map(entries) => {
            // Sized exactly: values are kept until lowering ends.
            let mut out: Vec<Entry> = Vec::with_capacity(entries.len());
            let mut merged: Vec<Entry> = Vec::new();
            for (k, v) in entries {
                let Some(key) = k.as_str() else {
                    continue;
                };
                if key == "<<" && depth < MAX_MERGE_DEPTH {
                    let value = from_yaml_at(v, depth + 1);
                    let sources: Vec<&Value> = match &value.kind {
                        Kind::List(l) => l.iter().collect(),
                        _ => vec![&value],
                    };
                    for src in sources {
                        for e in src.entries() {
                            if !merged.iter().any(|m| m.key == e.key) {
                                merged.push(e.clone());
                            }
                        }
                    }
                    continue;
                }
                out.push(Entry {
                    key: key.to_string(),
                    key_span: k.span,
                    value: from_yaml_at(v, depth + 1),
                });
            }
            for e in merged {
                if !out.iter().any(|o| o.key == e.key) {
                    out.push(e);
                }
            }
            Kind::Map(out)
        }
    };
    Value {
        kind,
        span: node.span,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceId;
    use crate::syntax::{yaml, Limits};

    fn parse(text: &str) -> Value {
        let docs = yaml::parse_documents(SourceId(0), text, &Limits::default()).unwrap();
        Value::from_yaml(&docs[0])
    }

    #[test]
    fn merge_keys_fill_in_without_overriding() {
        let v = parse("base: &b {image: x, ports: [1]}\nsvc:\n  <<: *b\n  image: y\nother:\n  <<: [*b, {extra: 1}]\n");
        assert_eq!(v.str_at("svc.image"), Some("y"));
        assert_eq!(v.path("svc.ports").unwrap().items().len(), 1);
        assert_eq!(v.str_at("other.extra"), Some("1"));
        assert_eq!(v.str_at("other.image"), Some("x"));
    }

    #[test]
    fn booleans_and_paths() {
        let v = parse("a: {b: 'yes', c: false, d: maybe}\n");
        assert_eq!(v.bool_at("a.b"), Some(true));
        assert_eq!(v.bool_at("a.c"), Some(false));
        assert_eq!(v.bool_at("a.d"), None);
        assert_eq!(v.path_entry("a.c").unwrap().key, "c");
    }
}
