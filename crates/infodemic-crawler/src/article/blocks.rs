//! Text blocks: what remains of the page once boilerplate is dropped, as paragraphs, headings
//! and list items, each knowing how much of its text is link text.

use infodemic_core::text::collapse_whitespace;

use super::boilerplate::{is_boilerplate_element, is_content_landmark, DROPPED_TAGS};
use super::page::{FlatKind, Page};

pub(super) fn is_block_tag(tag: &str) -> bool {
    matches!(
        tag,
        "address"
            | "article"
            | "aside"
            | "blockquote"
            | "body"
            | "caption"
            | "center"
            | "dd"
            | "details"
            | "dialog"
            | "div"
            | "dl"
            | "dt"
            | "fieldset"
            | "figcaption"
            | "figure"
            | "footer"
            | "form"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "header"
            | "hgroup"
            | "hr"
            | "html"
            | "li"
            | "main"
            | "menu"
            | "nav"
            | "ol"
            | "p"
            | "pre"
            | "section"
            | "summary"
            | "table"
            | "tbody"
            | "tfoot"
            | "thead"
            | "tr"
            | "ul"
    )
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum BlockKind {
    Heading(u8),
    Item,
    Paragraph,
}

/// A run of text between block boundaries, owned by its nearest block-level element.
pub(super) struct Block {
    pub(super) owner: usize,
    pub(super) kind: BlockKind,
    pub(super) text: String,
    pub(super) chars: usize,
    pub(super) commas: usize,
    /// Non-whitespace characters, all and inside links.
    solid_chars: usize,
    link_chars: usize,
}

impl Block {
    /// A paragraph that reads like prose: 80 characters or more, few links, sentence
    /// punctuation.
    fn is_prose(&self) -> bool {
        self.kind == BlockKind::Paragraph
            && self.chars >= 80
            && self.link_density() < 0.2
            && (self.text.contains(". ") || self.text.ends_with('.'))
    }

    pub(super) fn link_density(&self) -> f64 {
        if self.solid_chars == 0 {
            0.0
        } else {
            self.link_chars as f64 / self.solid_chars as f64
        }
    }
}

/// Accumulates the text of the block being read.
#[derive(Default)]
struct BlockBuilder {
    text: String,
    solid_chars: usize,
    link_chars: usize,
    after_br: bool,
}

impl BlockBuilder {
    fn push_text(&mut self, piece: &str, in_link: bool) {
        let solid = piece.chars().filter(|c| !c.is_whitespace()).count();
        if solid > 0 {
            self.after_br = false;
        }
        self.solid_chars += solid;
        if in_link {
            self.link_chars += solid;
        }
        self.text.push_str(piece);
    }

    fn finish(&mut self, owner: usize, owner_tag: &str, blocks: &mut Vec<Block>) {
        let builder = std::mem::take(self);
        if builder.solid_chars == 0 {
            return;
        }
        let text = collapse_whitespace(&builder.text);
        let kind = match owner_tag.as_bytes() {
            [b'h', level @ b'1'..=b'6'] => BlockKind::Heading(level - b'0'),
            b"li" | b"dt" | b"dd" => BlockKind::Item,
            _ => BlockKind::Paragraph,
        };
        blocks.push(Block {
            owner,
            kind,
            chars: text.chars().count(),
            commas: text.chars().filter(|c| matches!(c, ',' | '，' | '、' | '،')).count(),
            text,
            solid_chars: builder.solid_chars,
            link_chars: builder.link_chars.min(builder.solid_chars),
        });
    }
}

/// The kept part of the page: its blocks, and per-subtree text totals.
pub(super) struct Kept {
    pub(super) dropped: Vec<bool>,
    pub(super) blocks: Vec<Block>,
    /// Prefix sums over node indices of the characters (all, and in links) of the blocks each
    /// node owns, so a subtree's total is a difference.
    chars_prefix: Vec<usize>,
    links_prefix: Vec<usize>,
    /// The same for the number of prose paragraphs (see [`Block::is_prose`]).
    pub(super) prose_prefix: Vec<usize>,
}

impl Kept {
    pub(super) fn chars_in(&self, page: &Page<'_>, index: usize) -> usize {
        let end = page.end(index).min(self.chars_prefix.len() - 1);
        self.chars_prefix[end] - self.chars_prefix[index.min(end)]
    }

    pub(super) fn link_density(&self, page: &Page<'_>, index: usize) -> f64 {
        let end = page.end(index).min(self.links_prefix.len() - 1);
        let start = index.min(end);
        let solid = self.chars_prefix[end] - self.chars_prefix[start];
        let links = self.links_prefix[end] - self.links_prefix[start];
        if solid == 0 {
            0.0
        } else {
            links as f64 / solid as f64
        }
    }
}

impl Page<'_> {
    /// Marks boilerplate subtrees; a node is dropped when it or an ancestor is boilerplate.
    fn dropped(&self) -> Vec<bool> {
        let count = self.nodes.len();
        let mut holds_landmark = vec![false; count];
        let mut holds_h1 = vec![false; count];
        for index in (0..count).rev() {
            if let Some(element) = self.element(index) {
                holds_landmark[index] |= is_content_landmark(element);
                holds_h1[index] |= element.name() == "h1";
            }
            if let Some(parent) = self.nodes[index].parent {
                holds_landmark[parent] |= holds_landmark[index];
                holds_h1[parent] |= holds_h1[index];
            }
        }
        let mut dropped = vec![false; count];
        for index in 0..count {
            if self.nodes[index].parent.is_some_and(|parent| dropped[parent]) {
                dropped[index] = true;
            } else if let Some(element) = self.element(index) {
                dropped[index] = is_boilerplate_element(element, holds_landmark[index], holds_h1[index]);
            }
        }
        dropped
    }

    pub(super) fn kept(&self) -> Kept {
        let dropped = self.dropped();
        let count = self.nodes.len();
        let body = (0..count).find(|&i| self.tag(i) == "body" && !dropped[i]);
        let (start, end) = body.map_or((0, count), |b| (b, self.end(b)));

        let mut blocks = Vec::new();
        let mut builder = BlockBuilder::default();
        let mut owners: Vec<usize> = vec![start];
        let mut open: Vec<usize> = Vec::new();
        let mut link_depth = 0usize;
        let mut index = start;
        while index <= end {
            // Close the elements that end here.
            while let Some(&top) = open.last() {
                if self.end(top) > index && index < end {
                    break;
                }
                open.pop();
                let tag = self.tag(top);
                if tag == "a" {
                    link_depth = link_depth.saturating_sub(1);
                } else if tag == "td" || tag == "th" {
                    builder.push_text(" ", false);
                } else if is_block_tag(tag) {
                    let owner = owners.pop().unwrap_or(start);
                    builder.finish(owner, self.tag(owner), &mut blocks);
                }
            }
            if index == end {
                break;
            }
            match self.nodes[index].kind {
                FlatKind::Text(piece) => {
                    if !dropped[index] {
                        builder.push_text(piece, link_depth > 0);
                    }
                    index += 1;
                }
                FlatKind::Element(element) => {
                    if dropped[index] {
                        // A dropped element still separates the words around it.
                        if is_block_tag(element.name()) || DROPPED_TAGS.contains(&element.name()) {
                            builder.push_text(" ", false);
                        }
                        index = self.end(index).max(index + 1);
                        continue;
                    }
                    let tag = element.name();
                    if tag == "br" {
                        if builder.after_br {
                            let owner = owners.last().copied().unwrap_or(start);
                            builder.finish(owner, self.tag(owner), &mut blocks);
                        } else {
                            builder.push_text(" ", false);
                            builder.after_br = true;
                        }
                    } else if tag == "a" {
                        link_depth += 1;
                    } else if tag == "td" || tag == "th" {
                        builder.push_text(" ", false);
                    } else if is_block_tag(tag) {
                        let owner = owners.last().copied().unwrap_or(start);
                        builder.finish(owner, self.tag(owner), &mut blocks);
                        owners.push(index);
                    }
                    open.push(index);
                    index += 1;
                }
            }
        }
        let owner = owners.last().copied().unwrap_or(start);
        builder.finish(owner, self.tag(owner), &mut blocks);

        let mut chars_at = vec![0usize; count];
        let mut links_at = vec![0usize; count];
        let mut prose_at = vec![0usize; count];
        for block in &blocks {
            chars_at[block.owner] += block.solid_chars;
            links_at[block.owner] += block.link_chars;
            prose_at[block.owner] += usize::from(block.is_prose());
        }
        let prefix = |values: &[usize]| {
            let mut sums = Vec::with_capacity(values.len() + 1);
            sums.push(0);
            let mut total = 0;
            for value in values {
                total += value;
                sums.push(total);
            }
            sums
        };
        Kept {
            chars_prefix: prefix(&chars_at),
            links_prefix: prefix(&links_at),
            prose_prefix: prefix(&prose_at),
            dropped,
            blocks,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is the failure report.

    use crate::article::extract;
    use crate::article::tests::url;

    #[test]
    fn line_breaks_split_paragraphs_and_inline_tags_do_not_split_words() {
        let body = "First paragraph of a forum-style post, written without p tags at all, sadly.".repeat(4);
        let html =
            format!("<body><div class=\"post\">{body}<br><br>Second im<i>mun</i>isation part.<br>{body}</div></body>");
        let article = extract(&html, &url()).unwrap();
        let parts: Vec<&str> = article.text.split("\n\n").collect();
        assert_eq!(parts.len(), 2, "{parts:?}");
        assert!(parts[1].starts_with("Second immunisation part. First"));
    }
}
