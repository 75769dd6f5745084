//! Choosing the content: the page's `articleBody`, else a dominant `<article>`, else the best
//! scored container (see `scoring`); and rendering its blocks as the main text.

use infodemic_core::text::fingerprint_text;
use scraper::node::Element;

use super::blocks::{BlockKind, Kept};
use super::boilerplate::BOILERPLATE_BLOCKS;
use super::page::{has_token, Page};
use super::MIN_ARTICLE_CHARS;

/// A page that declares itself paywalled (schema.org `isAccessibleForFree: false`, or
/// `article:content_tier` `locked`) with less text than this shows only its teaser.
const PAYWALL_TEASER_CHARS: usize = 2 * MIN_ARTICLE_CHARS;

impl Page<'_> {
    pub(super) fn main_text(&self, title: Option<&str>, paywalled: bool) -> Option<String> {
        let kept = self.kept();
        if kept.blocks.is_empty() {
            return None;
        }
        let roots = self.content_roots(&kept);
        let text = self.render(&kept, &roots, title)?;
        // A declared paywall with a short text: the teaser, not the article.
        (!paywalled || text.chars().count() >= PAYWALL_TEASER_CHARS).then_some(text)
    }

    /// The outermost kept elements that match `predicate`, in document order.
    fn outermost(&self, kept: &Kept, predicate: impl Fn(&Element) -> bool) -> Vec<usize> {
        let mut found = Vec::new();
        let mut index = 0;
        while index < self.nodes.len() {
            if kept.dropped[index] {
                index = self.end(index).max(index + 1);
                continue;
            }
            if self.element(index).is_some_and(&predicate) {
                found.push(index);
                index = self.end(index).max(index + 1);
            } else {
                index += 1;
            }
        }
        found
    }

    fn content_roots(&self, kept: &Kept) -> Vec<usize> {
        // The page says where its body is.
        let bodies = self.outermost(kept, |e| has_token(e.attr("itemprop"), "articlebody"));
        if bodies.iter().map(|&b| kept.chars_in(self, b)).sum::<usize>() >= MIN_ARTICLE_CHARS {
            return bodies;
        }
        // One article, or one that dwarfs the others (teasers, embeds).
        let mut articles: Vec<(usize, usize)> =
            self.outermost(kept, |e| e.name() == "article").into_iter().map(|a| (kept.chars_in(self, a), a)).collect();
        articles.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        if let Some(&(best_chars, best)) = articles.first() {
            let second = articles.get(1).map_or(0, |a| a.0);
            if best_chars >= MIN_ARTICLE_CHARS && best_chars >= 2 * second {
                return vec![best];
            }
        }
        // Score containers inside `main`, else inside the body.
        let scope = self
            .outermost(kept, |e| e.name() == "main" || has_token(e.attr("role"), "main"))
            .into_iter()
            .map(|m| (kept.chars_in(self, m), m))
            .filter(|(chars, _)| *chars >= MIN_ARTICLE_CHARS)
            .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))
            .map(|(_, m)| m)
            .or_else(|| (0..self.nodes.len()).find(|&i| self.tag(i) == "body" && !kept.dropped[i]))
            .unwrap_or(0);
        self.scored_content(kept, scope)
    }

    /// The text of the blocks under `roots`, or `None` when it is not an article's.
    fn render(&self, kept: &Kept, roots: &[usize], title: Option<&str>) -> Option<String> {
        let title = title.map(fingerprint_text);
        let mut paragraphs: Vec<(&str, BlockKind)> = Vec::new();
        let mut link_blocks = 0usize;
        let mut text_blocks = 0usize;
        for block in &kept.blocks {
            if !roots.iter().any(|&root| self.contains(root, block.owner)) || block.kind == BlockKind::Heading(1) {
                continue;
            }
            if block.link_density() >= 0.5 {
                if block.chars >= 10 {
                    link_blocks += 1;
                }
                continue;
            }
            let fingerprint = fingerprint_text(&block.text);
            if BOILERPLATE_BLOCKS.contains(&fingerprint.as_str()) || title.as_deref() == Some(fingerprint.as_str()) {
                continue;
            }
            if block.kind == BlockKind::Paragraph && block.chars >= 25 {
                text_blocks += 1;
            }
            paragraphs.push((&block.text, block.kind));
        }
        // A heading whose section lost all its text (to links or boilerplate) heads nothing.
        let headings: Vec<Option<u8>> = paragraphs
            .iter()
            .map(|(_, kind)| match kind {
                BlockKind::Heading(level) => Some(*level),
                _ => None,
            })
            .collect();
        let paragraphs: Vec<&str> = paragraphs
            .iter()
            .enumerate()
            .filter(|(at, _)| match headings[*at] {
                Some(level) => {
                    headings.get(at + 1).is_some_and(|next| next.is_none_or(|next_level| next_level > level))
                }
                None => true,
            })
            .map(|(_, (text, _))| *text)
            .collect();
        // Headlines that are links, one per blurb: a list of teasers.
        let listing = link_blocks >= 3 && link_blocks * 4 >= text_blocks * 3;
        let total_chars: usize = paragraphs.iter().map(|p| p.chars().count()).sum();
        (!listing && total_chars >= MIN_ARTICLE_CHARS).then(|| paragraphs.join("\n\n"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is the failure report.

    use crate::article::extract;
    use crate::article::tests::url;

    #[test]
    fn teaser_lists_are_not_articles() {
        let teasers: String = (0..12)
            .map(|i| {
                format!(
                    "<div class=\"card\"><h3><a href=\"/s/{i}\">Headline number {i} about vaccines</a></h3>\
                     <p>A two-line blurb about story {i}, with a comma, and enough words to look like prose.</p></div>"
                )
            })
            .collect();
        let html = format!("<html><body><main><h1>Health</h1>{teasers}</main></body></html>");
        assert_eq!(extract(&html, &url()), None);
    }
}
