//! Plan and state JSON (`terraform show -json`): each planned resource
//! becomes a [`ResourceInstance`] whose value is `change.after`, with what
//! is unknown until apply (`after_unknown`) marked unknown. Values in the
//! file point at their place in it; the resource address names them.
//!
//! A plan holds sensitive values in clear: the spans of every value flagged
//! in `after_sensitive`/`sensitive_values` are returned as secrets, and the
//! caller marks the whole file as one whose lines are never printed.

use super::eval::{from_json, Mode, ResourceInstance};
use super::value::{Kind, Value};
use crate::source::Span;
use crate::syntax::json::{JsonKind, JsonNode};

/// Resources of a plan (or state) document, and the spans of sensitive values.
pub fn resources(doc: &JsonNode) -> (Vec<ResourceInstance>, Vec<Span>) {
    let mut out = Vec::new();
    let mut secrets = Vec::new();
    if let Some(changes) = doc.get("resource_changes") {
        for rc in changes.as_array() {
            let Some(change) = rc.get("change") else {
                continue;
            };
            let actions: Vec<&str> = change
                .get("actions")
                .map(|a| a.as_array().iter().filter_map(JsonNode::as_str).collect())
                .unwrap_or_default();
            if actions == ["delete"] || actions == ["read"] {
                continue;
            }
            let Some(after) = change.get("after") else {
                continue;
            };
            if let Some(s) = change.get("after_sensitive") {
                sensitive(after, s, &mut secrets);
            }
            if let Some(s) = change.get("before_sensitive") {
                if let Some(before) = change.get("before") {
                    sensitive(before, s, &mut secrets);
                }
            }
            let mut value = from_json(after);
            if let Some(u) = change.get("after_unknown") {
                mark_unknown(&mut value, u);
            }
            if let Some(r) = instance(rc, value) {
                out.push(r);
            }
        }
        return (out, secrets);
    }
    // No planned changes: the planned values (or a state's values).
    let root = doc
        .get("planned_values")
        .or_else(|| doc.get("values"))
        .and_then(|v| v.get("root_module"));
    if let Some(root) = root {
        module(root, &mut out, &mut secrets, 0);
    }
    (out, secrets)
}

fn module(m: &JsonNode, out: &mut Vec<ResourceInstance>, secrets: &mut Vec<Span>, depth: usize) {
    for r in m
        .get("resources")
        .map(JsonNode::as_array)
        .unwrap_or_default()
    {
        let Some(values) = r.get("values") else {
            continue;
        };
        if let Some(s) = r.get("sensitive_values") {
            sensitive(values, s, secrets);
        }
        if let Some(inst) = instance(r, from_json(values)) {
            out.push(inst);
        }
    }
    if depth < 32 {
        for c in m
            .get("child_modules")
            .map(JsonNode::as_array)
            .unwrap_or_default()
        {
            module(c, out, secrets, depth + 1);
        }
    }
}

fn instance(r: &JsonNode, value: Value) -> Option<ResourceInstance> {
    let s = |k: &str| {
        r.get(k)
            .and_then(JsonNode::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let address = s("address");
    let rtype = s("type");
    if rtype.is_empty() {
        return None;
    }
    let mode = if s("mode") == "data" {
        Mode::Data
    } else {
        Mode::Managed
    };
    let module = s("module_address");
    let local = address
        .strip_prefix(&format!("{module}."))
        .unwrap_or(&address)
        .split('[')
        .next()
        .unwrap_or_default()
        .to_string();
    Some(ResourceInstance {
        address,
        local_address: local,
        module,
        mode,
        rtype,
        value,
        span: r.span,
        maybe: false,
        plan: true,
    })
}

/// Spans of the values that a sensitivity mask (`true` at a path) covers.
fn sensitive(value: &JsonNode, mask: &JsonNode, out: &mut Vec<Span>) {
    match (&mask.kind, &value.kind) {
        (JsonKind::Bool(true), JsonKind::Null) => {}
        (JsonKind::Bool(true), _) => out.push(value.span),
        (JsonKind::Object(m), JsonKind::Object(v)) => {
            for (k, _, sub) in m {
                if let Some((_, _, val)) = v.iter().find(|(vk, _, _)| vk == k) {
                    sensitive(val, sub, out);
                }
            }
        }
        (JsonKind::Array(m), JsonKind::Array(v)) => {
            for (sub, val) in m.iter().zip(v) {
                sensitive(val, sub, out);
            }
        }
        _ => {}
    }
}

/// Mark what `after_unknown` says is unknown until apply.
fn mark_unknown(value: &mut Value, mask: &JsonNode) {
    match &mask.kind {
        JsonKind::Bool(true) => *value = Value::unknown(value.span),
        JsonKind::Object(m) => {
            if let Kind::Object(entries) = &mut value.kind {
                for (k, ks, sub) in m {
                    match entries.iter_mut().find(|e| &e.key == k) {
                        Some(e) => mark_unknown(&mut e.value, sub),
                        None if matches!(sub.kind, JsonKind::Bool(true)) => {
                            entries.push(super::value::Entry {
                                key: k.clone(),
                                key_span: *ks,
                                value: Value::unknown(*ks),
                            })
                        }
                        None => {}
                    }
                }
            }
        }
        JsonKind::Array(m) => {
            if let Kind::List(items) = &mut value.kind {
                for (item, sub) in items.iter_mut().zip(m) {
                    mark_unknown(item, sub);
                }
            }
        }
        _ => {}
    }
}
