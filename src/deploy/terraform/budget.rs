//! What evaluating one root module (with its tfvars and local modules) may
//! build. The per-operation caps (`range`, `count`, template length) do not
//! bound what chains of them build: `concat` doubling a local forty times,
//! a tuple holding three copies of the previous one, nested `for`s, module
//! `count`s multiplied down a chain. Every evaluation step, every value
//! copied or built (its nodes and string bytes) and every module instance
//! is charged here; past the budget the values are unknown and one CH900
//! note says where evaluation stopped.

use std::cell::Cell;

use super::value::{Kind, Value};
use crate::clickhouse::load::ConfigNote;
use crate::source::Span;

/// Values (nodes of lists, objects and scalars) built or copied, and
/// evaluation steps taken.
pub const MAX_VALUES: usize = 2_000_000;
/// Bytes of strings (and object keys) built or copied.
pub const MAX_STRING_BYTES: usize = 64 << 20;
/// Module instances (every `count`/`for_each` repetition of every call).
pub const MAX_MODULE_INSTANCES: usize = 1_000;
/// Root modules' budgets spent in one run, in all: a repository of many
/// root modules each building up to its budget ends too.
const RUN_BUDGETS: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Spent {
    Values,
    Bytes,
    Instances,
    Run,
}

#[derive(Default)]
pub struct Budget {
    values: Cell<usize>,
    bytes: Cell<usize>,
    instances: Cell<usize>,
    /// Values and bytes of every root module of the run.
    run_values: Cell<usize>,
    run_bytes: Cell<usize>,
    /// The first expression (or module call) past the budget, and what ran out.
    spent: Cell<Option<(Span, Spent)>>,
}

impl Budget {
    /// A fresh budget, for the next root module (the run's goes on).
    pub fn reset(&self) {
        self.values.set(0);
        self.bytes.set(0);
        self.instances.set(0);
        self.spent.set(None);
    }

    pub fn exhausted(&self) -> bool {
        self.spent.get().is_some()
    }

    /// Charge values and bytes; false (and the budget spent at `span`) past it.
    pub fn charge(&self, values: usize, bytes: usize, span: Span) -> bool {
        if self.exhausted() {
            return false;
        }
        let v = self.values.get().saturating_add(values);
        let b = self.bytes.get().saturating_add(bytes);
        self.values.set(v);
        self.bytes.set(b);
        let rv = self.run_values.get().saturating_add(values);
        let rb = self.run_bytes.get().saturating_add(bytes);
        self.run_values.set(rv);
        self.run_bytes.set(rb);
        if rv > RUN_BUDGETS * MAX_VALUES || rb > RUN_BUDGETS * MAX_STRING_BYTES {
            self.spend(span, Spent::Run)
        } else if v > MAX_VALUES {
            self.spend(span, Spent::Values)
        } else if b > MAX_STRING_BYTES {
            self.spend(span, Spent::Bytes)
        } else {
            true
        }
    }

    /// Charge everything a value holds, walking it no further than the
    /// budget left (so the walks themselves stay within it).
    pub fn charge_value(&self, v: &Value, span: Span) -> bool {
        let mut stack = vec![v];
        while let Some(v) = stack.pop() {
            let ok = match &v.kind {
                Kind::Str(s) => self.charge(1, s.len(), span),
                Kind::List(items) => {
                    stack.extend(items);
                    self.charge(1, 0, span)
                }
                Kind::Object(entries) => {
                    let keys: usize = entries.iter().map(|e| e.key.len()).sum();
                    stack.extend(entries.iter().map(|e| &e.value));
                    self.charge(1, keys, span)
                }
                _ => self.charge(1, 0, span),
            };
            if !ok {
                return false;
            }
        }
        true
    }

    /// Charge one module instance; false past the budget.
    pub fn charge_instance(&self, span: Span) -> bool {
        if self.exhausted() {
            return false;
        }
        let n = self.instances.get() + 1;
        self.instances.set(n);
        n <= MAX_MODULE_INSTANCES || self.spend(span, Spent::Instances)
    }

    fn spend(&self, span: Span, what: Spent) -> bool {
        self.spent.set(Some((span, what)));
        false
    }

    /// The note for a spent budget (once per root module).
    pub fn note(&self) -> Option<ConfigNote> {
        let (span, what) = self.spent.get()?;
        let what = match what {
            Spent::Values => format!("this root module builds more than {MAX_VALUES} values"),
            Spent::Bytes => format!(
                "this root module builds more than {} MiB of strings",
                MAX_STRING_BYTES >> 20
            ),
            Spent::Instances => {
                format!("this root module has more than {MAX_MODULE_INSTANCES} module instances")
            }
            Spent::Run => format!(
                "the root modules evaluated so far built what {RUN_BUDGETS} root modules may build in one run"
            ),
        };
        Some(ConfigNote::Limit {
            span,
            message: format!(
                "Terraform evaluation stops here: {what}; \
                 chlint treats the values from here on as unknown, so no finding rests on them"
            ),
        })
    }
}
