//! What a rule reports.

use serde::Serialize;

use crate::source::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s.to_ascii_lowercase().as_str() {
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }

    /// One level lower (context makes it less likely to matter).
    pub fn lower(self) -> Severity {
        match self {
            Severity::Critical => Severity::High,
            Severity::High => Severity::Medium,
            _ => Severity::Low,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Related {
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub message: String,
    pub primary: Span,
    pub related: Vec<Related>,
    pub help: String,
    /// Context worth a line of its own (e.g. which shipped defaults were assumed).
    pub note: Option<String>,
}

/// Longest value quoted in a message (between backticks); longer ones are
/// cut, so that a 20 MB value does not make a 20 MB message.
const MAX_QUOTED: usize = 80;

/// A message with every `quoted` value longer than [`MAX_QUOTED`]
/// characters cut short.
pub fn clip_quoted(message: &str) -> String {
    if message.len() <= MAX_QUOTED {
        return message.to_string();
    }
    let mut out = String::with_capacity(message.len().min(4 * MAX_QUOTED));
    for (i, part) in message.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        if i % 2 == 1 && part.chars().count() > MAX_QUOTED {
            out.extend(part.chars().take(MAX_QUOTED));
            out.push('…');
        } else {
            out.push_str(part);
        }
    }
    out
}

impl Finding {
    pub fn related(&mut self, span: Option<Span>, message: impl Into<String>) -> &mut Finding {
        if let Some(span) = span {
            if span != self.primary && !self.related.iter().any(|r| r.span == span) {
                self.related.push(Related {
                    span,
                    message: clip_quoted(&message.into()),
                });
            }
        }
        self
    }

    pub fn severity(&mut self, severity: Severity) -> &mut Finding {
        self.severity = severity;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_quoted_values_are_cut() {
        let long = "x".repeat(1000);
        let m = clip_quoted(&format!("listens on `{long}` and `::` here"));
        assert_eq!(m, format!("listens on `{}…` and `::` here", "x".repeat(80)));
        assert_eq!(clip_quoted("short `a`"), "short `a`");
    }
}
