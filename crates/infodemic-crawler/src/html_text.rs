//! Plain text out of HTML fragments (feed descriptions, content), with scraper.

use std::collections::HashSet;

use ego_tree::iter::Edge;
use scraper::{ElementRef, Html, Node};

/// Elements whose text is never content.
const SKIPPED: &[&str] = &["script", "style", "noscript", "template", "head", "iframe", "svg"];

/// Elements that separate words even without whitespace in the source.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "tr",
    "td",
    "th",
    "table",
    "section",
    "article",
    "header",
    "footer",
    "figure",
    "figcaption",
    "hr",
    "dd",
    "dt",
];

/// Links kept per item: enough for any article's references, bounded for a hostile one.
pub const MAX_LINKS: usize = 100;

/// Tags beyond which a fragment is not parsed as a tree. The HTML parser's work grows with
/// the square of the nesting (100,000 nested `<span>`s take minutes); no feed description holds
/// this many tags, a hostile one does.
pub const MAX_TAGS: usize = 10_000;

/// Converts an HTML fragment to plain text: entities decoded, scripts and styles dropped,
/// block boundaries turned into spaces, whitespace collapsed. A fragment of more than
/// [`MAX_TAGS`] tags has its tags stripped without building a tree (each tag becomes a space).
pub fn html_to_text(html: &str) -> String {
    if html.bytes().filter(|b| *b == b'<').count() > MAX_TAGS {
        return html_to_text(&strip_tags(html));
    }
    let fragment = Html::parse_fragment(html);
    let mut out = String::with_capacity(html.len());
    collect_text(fragment.root_element(), &mut out);
    infodemic_core::text::collapse_whitespace(&out)
}

/// `html` with every tag (`<` then a letter, `/`, `!` or `?`, up to `>`) replaced by a space:
/// linear, whatever the nesting.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut chars = html.chars().peekable();
    while let Some(c) = chars.next() {
        let starts_tag =
            c == '<' && chars.peek().is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, '/' | '!' | '?'));
        if starts_tag {
            for skipped in chars.by_ref() {
                if skipped == '>' {
                    break;
                }
            }
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

/// The text under `root`, walked without recursion: a document nested 100,000 deep is read
/// like a flat one instead of overflowing the stack.
fn collect_text(root: ElementRef<'_>, out: &mut String) {
    let mut skipped_subtree: Option<ego_tree::NodeId> = None;
    for edge in root.traverse() {
        match edge {
            Edge::Open(node) if skipped_subtree.is_none() => match node.value() {
                Node::Text(text) => out.push_str(text),
                Node::Element(element) if SKIPPED.contains(&element.name()) => skipped_subtree = Some(node.id()),
                Node::Element(element) if BLOCKS.contains(&element.name()) => out.push(' '),
                _ => {}
            },
            Edge::Close(node) if skipped_subtree == Some(node.id()) => skipped_subtree = None,
            Edge::Close(node) if skipped_subtree.is_none() => {
                if let Node::Element(element) = node.value() {
                    if BLOCKS.contains(&element.name()) {
                        out.push(' ');
                    }
                }
            }
            _ => {}
        }
    }
}

/// The absolute http(s) links of an HTML fragment, resolved against `base`, in order,
/// without duplicates and without `exclude` (the item's own URL); at most [`MAX_LINKS`].
/// A fragment of more than [`MAX_TAGS`] tags has its `href` attributes scanned instead of
/// parsed (the tree would cost the square of its nesting).
pub fn html_links(html: &str, base: &url::Url, exclude: &str) -> Vec<String> {
    let hrefs: Vec<String> = if html.bytes().filter(|b| *b == b'<').count() > MAX_TAGS {
        scan_hrefs(html)
    } else {
        let fragment = Html::parse_fragment(html);
        let anchors = fragment.root_element().descendants().filter_map(ElementRef::wrap);
        anchors.filter(|a| a.value().name() == "a").filter_map(|a| a.value().attr("href").map(str::to_owned)).collect()
    };
    let mut links: Vec<String> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for href in hrefs {
        if links.len() >= MAX_LINKS {
            break;
        }
        let Ok(url) = base.join(href.trim()) else { continue };
        if !matches!(url.scheme(), "http" | "https") {
            continue;
        }
        let url = url.to_string();
        if url != exclude && seen.insert(url.clone()) {
            links.push(url);
        }
    }
    links
}

/// Quoted `href` values, in order, found without parsing (at most a few times [`MAX_LINKS`]:
/// duplicates and non-http links are dropped later).
fn scan_hrefs(html: &str) -> Vec<String> {
    let mut hrefs = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find("href=") {
        rest = &rest[at + 5..];
        let Some(quote) = rest.chars().next().filter(|q| *q == '"' || *q == '\'') else { continue };
        let Some(end) = rest[1..].find(quote) else { break };
        hrefs.push(rest[1..=end].to_owned());
        rest = &rest[end + 1..];
        if hrefs.len() >= 4 * MAX_LINKS {
            break;
        }
    }
    hrefs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_tags_scripts_and_decodes_entities() {
        let html = "<p>Vaccines &amp; <b>boosters</b></p><script>alert(1)</script>\
                    <style>p{}</style><p>save&nbsp;lives</p>";
        assert_eq!(html_to_text(html), "Vaccines & boosters save lives");
    }

    #[test]
    fn inline_elements_do_not_split_words() {
        assert_eq!(html_to_text("im<i>mun</i>isation"), "immunisation");
        assert_eq!(html_to_text("one<br>two"), "one two");
    }

    #[test]
    fn links_are_absolute_unique_and_exclude_the_item() {
        let base = url::Url::parse("https://e.org/news/").unwrap();
        let html = r#"<a href="/a">a</a> <a href="https://x.org/b">b</a> <a href="/a">again</a>
            <a href="mailto:x@e.org">mail</a> <a href="https://e.org/news/self">self</a>"#;
        assert_eq!(html_links(html, &base, "https://e.org/news/self"), ["https://e.org/a", "https://x.org/b"]);
    }

    #[test]
    fn absurd_nesting_is_read_without_recursion_or_a_tree() {
        // 100,000 nested spans overflowed the stack of the recursive walk (and take minutes to
        // parse as a tree): past MAX_TAGS, tags are stripped.
        let deep = format!("{}deep text{}", "<span>".repeat(100_000), "</span>".repeat(100_000));
        assert_eq!(html_to_text(&deep), "deep text");
        let stray = format!("<div>{}</div>", "<div></x>".repeat(50_000));
        assert_eq!(html_to_text(&format!("{stray}end &amp; more")), "end & more");
        assert_eq!(html_to_text("<p>a<script>b<p>c</p></script>d</p>"), "ad", "a script is skipped whole");
        // Under the cap, the tree walk itself needs no stack: a small thread reads a deep tree.
        let nested = format!("{}inner{}", "<b>".repeat(4_000), "</b>".repeat(4_000));
        let text = std::thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(move || {
                let fragment = Html::parse_fragment(&nested);
                let mut out = String::new();
                collect_text(fragment.root_element(), &mut out);
                out
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(text, "inner");
    }

    #[test]
    fn links_of_tag_heavy_fragments_are_scanned_not_parsed() {
        let base = url::Url::parse("https://e.org/").unwrap();
        let html = format!(r#"{}<a href="/one">1</a><a href='https://x.org/two'>2</a>"#, "<div></x>".repeat(50_000));
        assert_eq!(html_links(&html, &base, ""), ["https://e.org/one", "https://x.org/two"]);
    }

    #[test]
    fn links_are_capped() {
        let base = url::Url::parse("https://e.org/").unwrap();
        let html: String = (0..5_000).map(|i| format!(r#"<a href="/p{i}">x</a>"#)).collect();
        assert_eq!(html_links(&html, &base, "").len(), MAX_LINKS);
    }

    #[test]
    fn plain_text_passes_through() {
        assert_eq!(html_to_text("  just   text "), "just text");
        assert_eq!(html_to_text("a < b and c > d"), "a < b and c > d");
    }
}
