//! A guard against markup nested too deeply for the HTML parser, checked before parsing.

/// Deeper element nesting than any real page has. The HTML parser's cost grows with the square
/// of the nesting depth (20,000 nested `<div>`s take seconds), so such pages are refused.
pub(super) const MAX_NESTING: usize = 4_000;

/// The deepest element nesting the markup asks for, estimated by a linear scan of its tags:
/// void and self-closing elements, elements the parser closes by itself (`p`, `li`, cells) and
/// the content of scripts, styles and comments do not count.
pub(super) fn nesting_estimate(html: &str) -> usize {
    const NOT_NESTING: &[&str] = &[
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr", "p",
        "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead", "tbody", "tfoot", "colgroup", "caption",
        "rb", "rt", "rp", "html", "head", "body",
    ];
    let bytes = html.as_bytes();
    let (mut depth, mut deepest, mut at) = (0usize, 0usize, 0usize);
    while let Some(found) = bytes.get(at..).and_then(|rest| rest.iter().position(|&b| b == b'<')) {
        at += found + 1;
        let rest = bytes.get(at..).unwrap_or_default();
        if rest.starts_with(b"!--") {
            at += find_bytes(rest, b"-->").map_or(rest.len(), |end| end + 3);
            continue;
        }
        let closing = rest.first() == Some(&b'/');
        let name_start = usize::from(closing);
        let name_len = rest.iter().skip(name_start).take_while(|b| b.is_ascii_alphanumeric() || **b == b'-').count();
        if name_len == 0 {
            continue;
        }
        let name = String::from_utf8_lossy(&rest[name_start..name_start + name_len]).to_ascii_lowercase();
        let tag_end = rest.iter().position(|&b| b == b'>').unwrap_or(rest.len());
        if closing {
            if !NOT_NESTING.contains(&name.as_str()) {
                depth = depth.saturating_sub(1);
            }
        } else if matches!(name.as_str(), "script" | "style" | "textarea" | "title" | "xmp" | "template") {
            let close = format!("</{name}");
            at += find_bytes(rest, close.as_bytes()).unwrap_or(rest.len());
            continue;
        } else if !NOT_NESTING.contains(&name.as_str()) && !rest[..tag_end].ends_with(b"/") {
            depth += 1;
            deepest = deepest.max(depth);
        }
        at += tag_end;
    }
    deepest
}

/// Where `needle` first occurs in `haystack`, ignoring ASCII case.
fn find_bytes(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is the failure report.

    use super::*;
    use crate::article::extract;
    use crate::article::tests::{paragraphs, url};

    #[test]
    fn pathological_nesting_is_refused_before_parsing() {
        let html = format!("{}{}", "<div><span>".repeat(100_000), paragraphs(6));
        assert!(nesting_estimate(&html) > MAX_NESTING);
        assert_eq!(extract(&html, &url()), None);
        // Unclosed paragraphs and list items, void elements and script text do not nest.
        let flat = format!(
            "<script>{}</script>{}<!-- <div> -->",
            "<div>".repeat(9_000),
            "<p>x<li>y<br><img src=a>".repeat(9_000)
        );
        assert!(nesting_estimate(&flat) < 10, "{}", nesting_estimate(&flat));
    }
}
