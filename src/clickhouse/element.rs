//! The element tree every ClickHouse configuration lives in, whatever its
//! syntax (XML, YAML, or a deployment format lowered into it).

use std::collections::HashMap;

use crate::source::Span;

#[derive(Clone, Debug, PartialEq)]
pub struct Attr {
    pub name: String,
    pub value: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Text {
    pub value: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Element(Element),
    Text(Text),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<Attr>,
    pub children: Vec<Node>,
    /// Where this element was written: a leaf element whole, the start tag of
    /// an element with children, a YAML key and its scalar.
    pub span: Span,
    /// Earlier definitions this one was merged over, oldest first.
    pub overridden: Vec<Span>,
}

/// Attributes that steer merging and substitution; they are not part of an
/// element's identity.
pub const CONTROL_ATTRS: [&str; 5] = ["replace", "remove", "incl", "from_zk", "from_env"];

impl Element {
    pub fn new(name: impl Into<String>, span: Span) -> Element {
        Element {
            name: name.into(),
            attrs: Vec::new(),
            children: Vec::new(),
            span,
            overridden: Vec::new(),
        }
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.value.as_str())
    }

    pub fn attr_entry(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().find(|a| a.name == name)
    }

    pub fn has_attr(&self, name: &str) -> bool {
        self.attrs.iter().any(|a| a.name == name)
    }

    pub fn remove_attr(&mut self, name: &str) {
        self.attrs.retain(|a| a.name != name);
    }

    pub fn set_attr(&mut self, attr: Attr) {
        match self.attrs.iter_mut().find(|a| a.name == attr.name) {
            Some(a) => *a = attr,
            None => self.attrs.push(attr),
        }
    }

    /// Set several attributes, each replacing one of the same name: linear
    /// in the number of attributes however many there are.
    pub fn set_attrs(&mut self, attrs: &[Attr]) {
        if self.attrs.len().saturating_mul(attrs.len()) <= 64 {
            for a in attrs {
                self.set_attr(a.clone());
            }
            return;
        }
        let mut index: HashMap<String, usize> = self
            .attrs
            .iter()
            .enumerate()
            .map(|(i, a)| (a.name.clone(), i))
            .collect();
        for a in attrs {
            match index.get(&a.name) {
                Some(&i) => self.attrs[i] = a.clone(),
                None => {
                    index.insert(a.name.clone(), self.attrs.len());
                    self.attrs.push(a.clone());
                }
            }
        }
    }

    /// Child elements, in document order.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    pub fn elements_mut(&mut self) -> impl Iterator<Item = &mut Element> {
        self.children.iter_mut().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    pub fn has_element_children(&self) -> bool {
        self.elements().next().is_some()
    }

    /// The first child element with this name, as Poco's `getString` sees it.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.elements().find(|e| e.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.elements().filter(move |e| e.name == name)
    }

    /// First element at a `/`-separated path below this one.
    pub fn find(&self, path: &str) -> Option<&Element> {
        path.split('/')
            .filter(|p| !p.is_empty())
            .try_fold(self, |e, part| e.child(part))
    }

    /// The element's own text (its text children joined), `None` when it has
    /// no text at all (`<password/>`).
    pub fn text(&self) -> Option<String> {
        let mut out: Option<String> = None;
        for n in &self.children {
            if let Node::Text(t) = n {
                out.get_or_insert_with(String::new).push_str(&t.value);
            }
        }
        out
    }

    /// Text with surrounding whitespace removed; empty when there is none.
    pub fn value(&self) -> String {
        self.text()
            .map(|t| t.trim().to_string())
            .unwrap_or_default()
    }

    /// Where the element's value is written: its first text node, else the element.
    pub fn value_span(&self) -> Span {
        self.children
            .iter()
            .find_map(|n| match n {
                Node::Text(t) => Some(t.span),
                Node::Element(_) => None,
            })
            .unwrap_or(self.span)
    }

    /// Name plus the non-control attributes, sorted: what the merge pairs on.
    pub fn identity(&self) -> (String, Vec<(String, String)>) {
        let mut attrs: Vec<(String, String)> = self
            .attrs
            .iter()
            .filter(|a| !CONTROL_ATTRS.contains(&a.name.as_str()))
            .map(|a| (a.name.clone(), a.value.clone()))
            .collect();
        attrs.sort();
        (self.name.clone(), attrs)
    }

    /// Is the value supplied from outside the files (environment, ZooKeeper,
    /// an include)? Such a value is treated as set and never as a literal.
    pub fn is_external(&self) -> bool {
        self.has_attr("from_env") || self.has_attr("from_zk") || self.has_attr("incl")
    }

    /// Release the room vectors keep for elements and attributes never
    /// added, in this element and all below it (trees built by appending
    /// live as long as the run).
    pub fn shrink(&mut self) {
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            e.children.shrink_to_fit();
            e.attrs.shrink_to_fit();
            stack.extend(e.elements_mut());
        }
    }

    /// Point every span of this tree at another source with the same text
    /// (a copy of a tree parsed once).
    pub fn retag(&mut self, source: crate::source::SourceId) {
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            e.span.source = source;
            for s in &mut e.overridden {
                s.source = source;
            }
            for a in &mut e.attrs {
                a.span.source = source;
            }
            for n in &mut e.children {
                match n {
                    Node::Element(c) => stack.push(c),
                    Node::Text(t) => t.span.source = source,
                }
            }
        }
    }

    /// Depth-first walk over this element and all below it.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Element)) {
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            f(e);
            let start = stack.len();
            stack.extend(e.elements());
            stack[start..].reverse();
        }
    }
}
