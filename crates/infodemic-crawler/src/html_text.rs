//! Plain text out of HTML fragments (feed descriptions, content), with scraper.

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

/// Converts an HTML fragment to plain text: entities decoded, scripts and styles dropped,
/// block boundaries turned into spaces, whitespace collapsed.
pub fn html_to_text(html: &str) -> String {
    let fragment = Html::parse_fragment(html);
    let mut out = String::with_capacity(html.len());
    collect_text(fragment.root_element(), &mut out);
    infodemic_core::text::collapse_whitespace(&out)
}

fn collect_text(element: ElementRef<'_>, out: &mut String) {
    for child in element.children() {
        match child.value() {
            Node::Text(text) => out.push_str(text),
            Node::Element(el) => {
                let name = el.name();
                if SKIPPED.contains(&name) {
                    continue;
                }
                let block = BLOCKS.contains(&name);
                if block {
                    out.push(' ');
                }
                if let Some(child_element) = ElementRef::wrap(child) {
                    collect_text(child_element, out);
                }
                if block {
                    out.push(' ');
                }
            }
            _ => {}
        }
    }
}

/// The absolute http(s) links of an HTML fragment, resolved against `base`, in order,
/// without duplicates and without `exclude` (the item's own URL).
pub fn html_links(html: &str, base: &url::Url, exclude: &str) -> Vec<String> {
    let fragment = Html::parse_fragment(html);
    let mut links: Vec<String> = Vec::new();
    for element in fragment.root_element().descendants().filter_map(ElementRef::wrap) {
        if element.value().name() != "a" {
            continue;
        }
        let Some(href) = element.value().attr("href") else { continue };
        let Ok(url) = base.join(href.trim()) else { continue };
        if !matches!(url.scheme(), "http" | "https") {
            continue;
        }
        let url = url.to_string();
        if url != exclude && !links.contains(&url) {
            links.push(url);
        }
    }
    links
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
    fn plain_text_passes_through() {
        assert_eq!(html_to_text("  just   text "), "just text");
        assert_eq!(html_to_text("a < b and c > d"), "a < b and c > d");
    }
}
