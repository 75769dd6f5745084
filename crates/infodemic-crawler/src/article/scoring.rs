//! Readability's candidate scoring, for pages that do not say where their content is: the
//! best scored container and its qualifying siblings.

use std::collections::HashMap;

use super::blocks::{BlockKind, Kept};
use super::boilerplate::{classify_hint, Hint};
use super::page::Page;

impl Page<'_> {
    /// The starting score of a candidate container: its tag and class hints.
    fn initial_score(&self, index: usize) -> f64 {
        let Some(element) = self.element(index) else { return 0.0 };
        let by_tag = match element.name() {
            "div" | "article" | "section" | "main" => 5.0,
            "pre" | "td" | "blockquote" => 3.0,
            "address" | "ol" | "ul" | "dl" | "dd" | "dt" | "li" | "form" => -3.0,
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "th" => -5.0,
            _ => 0.0,
        };
        let by_hint = match element.name() {
            "body" | "html" => 0.0,
            _ => match classify_hint(element) {
                Hint::Positive => 25.0,
                Hint::Strong | Hint::Weak => -25.0,
                Hint::Neutral => 0.0,
            },
        };
        by_tag + by_hint
    }

    /// Readability's scoring: each paragraph gives points to its parent, less to its
    /// grandparent and further ancestors; containers are discounted by their link density; the
    /// best one is widened to an ancestor that shares its score and joined by good siblings.
    pub(super) fn scored_content(&self, kept: &Kept, scope: usize) -> Vec<usize> {
        let mut raw: HashMap<usize, f64> = HashMap::new();
        for block in &kept.blocks {
            if block.kind != BlockKind::Paragraph || block.chars < 25 || !self.contains(scope, block.owner) {
                continue;
            }
            let points = 1.0 + block.commas as f64 + (block.chars / 100).min(3) as f64;
            let mut ancestor = self.parent(block.owner);
            for level in 0..5 {
                let Some(candidate) = ancestor.filter(|&a| self.contains(scope, a)) else { break };
                let divider = match level {
                    0 => 1.0,
                    1 => 2.0,
                    _ => level as f64 * 3.0,
                };
                *raw.entry(candidate).or_insert_with(|| self.initial_score(candidate)) += points / divider;
                ancestor = self.parent(candidate);
            }
        }
        let mut scores: Vec<(usize, f64)> =
            raw.into_iter().map(|(node, score)| (node, score * (1.0 - kept.link_density(self, node)))).collect();
        scores.sort_by_key(|(node, _)| *node);
        let score_of = |node: usize| scores.binary_search_by_key(&node, |(n, _)| *n).ok().map(|at| scores[at].1);

        let Some(&(mut top, mut top_score)) = scores.iter().fold(None, |best: Option<&(usize, f64)>, c| match best {
            Some(b) if b.1 >= c.1 => Some(b),
            _ => Some(c),
        }) else {
            return vec![scope];
        };

        // Several near-best candidates under one ancestor: the ancestor is the content.
        let mut ranked: Vec<&(usize, f64)> = scores.iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let alternatives: Vec<usize> = ranked
            .iter()
            .take(5)
            .filter(|(node, score)| *node != top && top_score > 0.0 && score / top_score >= 0.75)
            .map(|(node, _)| *node)
            .collect();
        if alternatives.len() >= 3 {
            let mut ancestor = self.parent(top);
            while let Some(candidate) = ancestor.filter(|&a| self.contains(scope, a)) {
                if alternatives.iter().filter(|&&alt| self.contains(candidate, alt)).count() >= 3 {
                    top = candidate;
                    top_score = score_of(candidate).unwrap_or(top_score);
                    break;
                }
                ancestor = self.parent(candidate);
            }
        }

        // Climb while the parent scores at least a third as well (and higher wins).
        let threshold = top_score / 3.0;
        let mut last = top_score;
        let mut ancestor = self.parent(top);
        while let Some(candidate) = ancestor.filter(|&a| self.contains(scope, a) && self.tag(a) != "body") {
            let Some(score) = score_of(candidate) else {
                ancestor = self.parent(candidate);
                continue;
            };
            if score < threshold {
                break;
            }
            if score > last {
                top = candidate;
                top_score = score;
                break;
            }
            last = score;
            ancestor = self.parent(candidate);
        }
        // A lone child stands for its parent.
        while let Some(parent) = self.parent(top).filter(|&p| self.contains(scope, p) && self.tag(p) != "body") {
            let kept_children = self.element_children(parent).into_iter().filter(|&c| !kept.dropped[c]).count();
            if kept_children != 1 {
                break;
            }
            top = parent;
            top_score = score_of(parent).unwrap_or(top_score);
        }

        let Some(parent) = self.parent(top).filter(|&p| self.contains(scope, p)) else { return vec![top] };
        let sibling_threshold = (top_score * 0.2).max(10.0);
        let top_class = self.element(top).and_then(|e| e.attr("class")).filter(|c| !c.trim().is_empty());
        let mut roots = Vec::new();
        for sibling in self.element_children(parent) {
            if kept.dropped[sibling] {
                continue;
            }
            if sibling == top {
                roots.push(sibling);
                continue;
            }
            let same_class = top_class.is_some() && self.element(sibling).and_then(|e| e.attr("class")) == top_class;
            let bonus = if same_class { top_score * 0.2 } else { 0.0 };
            let chars = kept.chars_in(self, sibling);
            let density = kept.link_density(self, sibling);
            let included = if score_of(sibling).unwrap_or(0.0) + bonus >= sibling_threshold {
                true
            } else if self.tag(sibling) == "p" {
                let text = self.text_of(sibling, 200);
                (chars > 80 && density < 0.25)
                    || (chars > 0 && density == 0.0 && (text.ends_with('.') || text.contains(". ")))
            } else {
                // A box of prose next to the body (a claim and verdict, a summary) that scored
                // little because its paragraphs sit deeper.
                chars >= 100 && density < 0.2 && self.holds_sentence_paragraph(kept, sibling)
            };
            if included {
                roots.push(sibling);
            }
        }
        roots
    }

    /// Whether a kept prose paragraph lies under `index`.
    fn holds_sentence_paragraph(&self, kept: &Kept, index: usize) -> bool {
        let end = self.end(index).min(kept.prose_prefix.len() - 1);
        kept.prose_prefix[end] > kept.prose_prefix[index.min(end)]
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is the failure report.

    use crate::article::extract;
    use crate::article::tests::{paragraphs, url};

    #[test]
    fn scored_container_without_semantic_markup() {
        let html = format!(
            "<body><div id=\"top\"><a href=\"/\">Home</a> | <a href=\"/about\">About</a></div>\
             <div id=\"wrap\"><div class=\"col-a\">{}</div><div class=\"widget-links\"><a href=\"/x\">Link one</a> <a href=\"/y\">Link two</a></div></div>\
             <div class=\"comments\"><p>Great post, I totally agree with everything you said here, thanks!</p></div></body>",
            paragraphs(4)
        );
        let article = extract(&html, &url()).unwrap();
        assert_eq!(article.text.split("\n\n").count(), 4, "{}", article.text);
        assert!(!article.text.contains("Great post"));
        assert!(!article.text.contains("Link one"));
    }
}
