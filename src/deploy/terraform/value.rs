//! Terraform values as chlint knows them: known values that remember where
//! they were written, and `Unknown` for what this repository cannot tell.

use crate::source::Span;

#[derive(Clone, Debug)]
pub struct Value {
    pub kind: Kind,
    /// Where the value was written: the literal, the variable default or
    /// the tfvars line it came from (for a composed value, the expression).
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum Kind {
    Null,
    Bool(bool),
    Number(f64),
    Str(String),
    /// Lists, tuples and sets.
    List(Vec<Value>),
    /// Objects and maps, in written order (nested blocks are lists of objects).
    Object(Vec<Entry>),
    Unknown(Unknown),
}

#[derive(Clone, Debug)]
pub struct Entry {
    pub key: String,
    /// The attribute (or block) that set it, in the resource or object.
    pub key_span: Span,
    pub value: Value,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Unknown {
    /// The resource whose attribute this is (`aws_security_group.ch`).
    pub resource: Option<String>,
    /// An evaluation error (missing key, wrong type): what `try` skips.
    pub error: bool,
    /// For a reference to a resource, the attributes and indices after its
    /// name (`metadata`, `0`, `name`): the Kubernetes bridge resolves the
    /// ones the repository writes. `None` past a splat.
    pub path: Option<Vec<String>>,
    /// A text whose known parts were recorded (a template rendered around
    /// an unknown value, `yamlencode` of an object holding one): its index
    /// in the evaluator's origins (`origin.rs`).
    pub origin: Option<usize>,
}

impl Value {
    pub fn new(kind: Kind, span: Span) -> Value {
        Value { kind, span }
    }

    pub fn unknown(span: Span) -> Value {
        Value::new(Kind::Unknown(Unknown::default()), span)
    }

    pub fn error(span: Span) -> Value {
        Value::new(
            Kind::Unknown(Unknown {
                error: true,
                ..Unknown::default()
            }),
            span,
        )
    }

    pub fn str(s: impl Into<String>, span: Span) -> Value {
        Value::new(Kind::Str(s.into()), span)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self.kind, Kind::Unknown(_))
    }

    pub fn is_error(&self) -> bool {
        matches!(&self.kind, Kind::Unknown(u) if u.error)
    }

    pub fn is_null(&self) -> bool {
        matches!(self.kind, Kind::Null)
    }

    /// Is this value, or anything inside it, unknown?
    pub fn has_unknown(&self) -> bool {
        match &self.kind {
            Kind::Unknown(_) => true,
            Kind::List(items) => items.iter().any(Value::has_unknown),
            Kind::Object(entries) => entries.iter().any(|e| e.value.has_unknown()),
            _ => false,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match &self.kind {
            Kind::Bool(b) => Some(*b),
            Kind::Str(s) if s == "true" => Some(true),
            Kind::Str(s) if s == "false" => Some(false),
            _ => None,
        }
    }

    /// A number, also from a numeric string (Terraform converts both ways).
    pub fn as_number(&self) -> Option<f64> {
        match &self.kind {
            Kind::Number(n) => Some(*n),
            Kind::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match &self.kind {
            Kind::List(items) => Some(items),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[Entry] {
        match &self.kind {
            Kind::Object(e) => e,
            _ => &[],
        }
    }

    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries().iter().find(|e| e.key == key)
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entry(key).map(|e| &e.value)
    }

    /// A nested block (or an attribute written as blocks are: a list of
    /// objects, or one object): each object.
    pub fn blocks(&self, key: &str) -> Vec<&Value> {
        match self.get(key).map(|v| &v.kind) {
            Some(Kind::List(items)) => items.iter().collect(),
            Some(Kind::Object(_)) => vec![self.get(key).expect("just matched")],
            _ => Vec::new(),
        }
    }

    /// Items of a list; a single known value counts as a list of one (as
    /// Terraform converts); null is empty; unknown is `None`.
    pub fn items(&self) -> Option<Vec<&Value>> {
        match &self.kind {
            Kind::List(items) => Some(items.iter().collect()),
            Kind::Null => Some(Vec::new()),
            Kind::Unknown(_) => None,
            _ => Some(vec![self]),
        }
    }

    /// The value as Terraform turns it into a string, if it can be.
    pub fn to_template_string(&self) -> Option<String> {
        match &self.kind {
            Kind::Str(s) => Some(s.clone()),
            Kind::Number(n) => Some(fmt_number(*n)),
            Kind::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// Equal as values (spans aside); `None` when either side is unknown.
    pub fn same(&self, other: &Value) -> Option<bool> {
        Some(match (&self.kind, &other.kind) {
            (Kind::Unknown(_), _) | (_, Kind::Unknown(_)) => return None,
            (Kind::Null, Kind::Null) => true,
            (Kind::Bool(a), Kind::Bool(b)) => a == b,
            (Kind::Number(a), Kind::Number(b)) => a == b,
            (Kind::Str(a), Kind::Str(b)) => a == b,
            (Kind::List(a), Kind::List(b)) => {
                if a.len() != b.len() {
                    return Some(false);
                }
                for (x, y) in a.iter().zip(b) {
                    if !x.same(y)? {
                        return Some(false);
                    }
                }
                true
            }
            (Kind::Object(a), Kind::Object(b)) => {
                if a.len() != b.len() {
                    return Some(false);
                }
                // Indexed: a large object is not searched once per key.
                let b: std::collections::HashMap<&str, &Entry> =
                    b.iter().map(|f| (f.key.as_str(), f)).collect();
                for e in a {
                    match b.get(e.key.as_str()) {
                        Some(f) => {
                            if !e.value.same(&f.value)? {
                                return Some(false);
                            }
                        }
                        None => return Some(false),
                    }
                }
                true
            }
            _ => false,
        })
    }

    /// A text equal for two values exactly when [`Value::same`] says they
    /// are (sets and `distinct` hash it); `None` when anything inside is
    /// unknown or not equal to itself (NaN).
    pub fn canonical(&self) -> Option<String> {
        let mut out = String::new();
        self.write_canonical(&mut out).then_some(out)
    }

    fn write_canonical(&self, out: &mut String) -> bool {
        use std::fmt::Write;
        match &self.kind {
            Kind::Unknown(_) => return false,
            Kind::Number(n) if n.is_nan() => return false,
            Kind::Null => out.push('n'),
            Kind::Bool(b) => out.push(if *b { 't' } else { 'f' }),
            // `0.0 == -0.0`: one text for both.
            Kind::Number(n) => {
                let _ = write!(out, "d{};", if *n == 0.0 { 0.0 } else { *n });
            }
            Kind::Str(s) => {
                let _ = write!(out, "s{}:{s}", s.len());
            }
            Kind::List(items) => {
                out.push('[');
                for i in items {
                    if !i.write_canonical(out) {
                        return false;
                    }
                }
                out.push(']');
            }
            Kind::Object(entries) => {
                let mut sorted: Vec<&Entry> = entries.iter().collect();
                sorted.sort_by(|a, b| a.key.cmp(&b.key));
                out.push('{');
                for e in sorted {
                    let _ = write!(out, "{}:{}", e.key.len(), e.key);
                    if !e.value.write_canonical(out) {
                        return false;
                    }
                }
                out.push('}');
            }
        }
        true
    }

    /// Plain JSON (unknown becomes `null`), for tests and comparisons.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.kind {
            Kind::Null | Kind::Unknown(_) => J::Null,
            Kind::Bool(b) => J::Bool(*b),
            Kind::Number(n) => {
                if n.fract() == 0.0 && n.abs() < 9.0e15 {
                    J::from(*n as i64)
                } else {
                    serde_json::Number::from_f64(*n).map_or(J::Null, J::Number)
                }
            }
            Kind::Str(s) => J::String(s.clone()),
            Kind::List(items) => J::Array(items.iter().map(Value::to_json).collect()),
            Kind::Object(entries) => J::Object(
                entries
                    .iter()
                    .map(|e| (e.key.clone(), e.value.to_json()))
                    .collect(),
            ),
        }
    }
}

/// Numbers as Terraform prints them: integers without a fraction.
pub fn fmt_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e17 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// Entries with repeated keys reduced to the last of each, in the order of
/// those last ones: what writing them one by one into an object gives
/// (in one pass, for objects of any size).
pub fn keep_last(entries: Vec<Entry>) -> Vec<Entry> {
    let mut last: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        last.insert(e.key.as_str(), i);
    }
    if last.len() == entries.len() {
        return entries;
    }
    let keep: Vec<bool> = (0..entries.len())
        .map(|i| last[entries[i].key.as_str()] == i)
        .collect();
    entries
        .into_iter()
        .zip(keep)
        .filter_map(|(e, k)| k.then_some(e))
        .collect()
}
