//! The flattened document: a pre-order arena in which every subtree is a contiguous range of
//! indices, so no step recurses and any nesting depth is safe.

use infodemic_core::text::collapse_whitespace;
use scraper::node::Element;
use scraper::{Html, Node};

use super::blocks::is_block_tag;

/// One node of the document in pre-order; its subtree is `index..end`.
pub(super) struct Flat<'a> {
    pub(super) parent: Option<usize>,
    pub(super) end: usize,
    pub(super) kind: FlatKind<'a>,
}

pub(super) enum FlatKind<'a> {
    Element(&'a Element),
    Text(&'a str),
}

/// A step of the iterative walk that flattens the tree (generic so that the tree's node type
/// need not be named).
enum Frame<N> {
    Enter(N, Option<usize>),
    Exit(usize),
}

pub(super) struct Page<'a> {
    pub(super) nodes: Vec<Flat<'a>>,
}

impl<'a> Page<'a> {
    pub(super) fn new(document: &'a Html) -> Self {
        let mut nodes: Vec<Flat<'a>> = Vec::new();
        let mut stack = vec![Frame::Enter(document.tree.root(), None)];
        while let Some(frame) = stack.pop() {
            match frame {
                Frame::Exit(index) => {
                    let end = nodes.len();
                    if let Some(node) = nodes.get_mut(index) {
                        node.end = end;
                    }
                }
                Frame::Enter(node, parent) => match node.value() {
                    Node::Element(element) => {
                        let index = nodes.len();
                        nodes.push(Flat { parent, end: index + 1, kind: FlatKind::Element(element) });
                        stack.push(Frame::Exit(index));
                        stack.extend(node.children().rev().map(|child| Frame::Enter(child, Some(index))));
                    }
                    Node::Text(text) => {
                        let index = nodes.len();
                        nodes.push(Flat { parent, end: index + 1, kind: FlatKind::Text(text) });
                    }
                    Node::Document | Node::Fragment => {
                        stack.extend(node.children().rev().map(|child| Frame::Enter(child, parent)));
                    }
                    _ => {}
                },
            }
        }
        Page { nodes }
    }

    pub(super) fn element(&self, index: usize) -> Option<&'a Element> {
        match self.nodes.get(index)?.kind {
            FlatKind::Element(element) => Some(element),
            FlatKind::Text(_) => None,
        }
    }

    pub(super) fn tag(&self, index: usize) -> &'a str {
        self.element(index).map_or("", |element| element.name())
    }

    pub(super) fn end(&self, index: usize) -> usize {
        self.nodes.get(index).map_or(index, |node| node.end)
    }

    pub(super) fn parent(&self, index: usize) -> Option<usize> {
        self.nodes.get(index)?.parent
    }

    /// Whether `inner` lies in the subtree of `outer` (or is `outer`).
    pub(super) fn contains(&self, outer: usize, inner: usize) -> bool {
        outer <= inner && inner < self.end(outer)
    }

    /// The element children of `index`, in document order.
    pub(super) fn element_children(&self, index: usize) -> Vec<usize> {
        let mut children = Vec::new();
        let end = self.end(index);
        let mut child = index + 1;
        while child < end {
            if self.element(child).is_some() {
                children.push(child);
            }
            child = self.end(child).max(child + 1);
        }
        children
    }

    /// The collapsed text of a subtree, skipping scripts and styles; at most `max_nodes` nodes
    /// are read, so metadata lookups stay linear on pathological input.
    pub(super) fn text_of(&self, index: usize, max_nodes: usize) -> String {
        let end = self.end(index).min(index.saturating_add(max_nodes));
        let mut text = String::new();
        let mut at = index;
        while at < end {
            match self.nodes[at].kind {
                FlatKind::Text(piece) => {
                    text.push_str(piece);
                    at += 1;
                }
                FlatKind::Element(element) => {
                    if matches!(element.name(), "script" | "style" | "template" | "noscript") {
                        at = self.end(at).max(at + 1);
                    } else {
                        if is_block_tag(element.name()) || element.name() == "br" {
                            text.push(' ');
                        }
                        at += 1;
                    }
                }
            }
        }
        collapse_whitespace(&text)
    }
}

/// Whether the whitespace-separated `value` holds `token`, ignoring ASCII case.
pub(super) fn has_token(value: Option<&str>, token: &str) -> bool {
    value.is_some_and(|v| v.split_ascii_whitespace().any(|t| t.eq_ignore_ascii_case(token)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is the failure report.

    use crate::article::extract;
    use crate::article::nesting::MAX_NESTING;
    use crate::article::tests::{paragraphs, url};

    #[test]
    fn deep_nesting_does_not_overflow_the_stack() {
        let depth = MAX_NESTING - 10;
        let html = format!("{}{}{}", "<div>".repeat(depth), paragraphs(6), "</div>".repeat(depth));
        let article = extract(&html, &url()).unwrap();
        assert_eq!(article.text.split("\n\n").count(), 6);
    }
}
