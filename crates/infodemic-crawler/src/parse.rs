//! Bytes to feed entries, with feed-rs (RSS 0.9x/1.0/2.0, Atom, JSON Feed), after translating
//! the dialects it does not read (Atom 0.3, Netscape RSS 0.9: see [`crate::dialect`]).

use chrono::{DateTime, Utc};
use infodemic_core::FeedSpec;
use url::Url;

use crate::normalize::{normalize_feed, Normalized};
use crate::FeedError;

/// Parses a feed document. The format is detected from the content.
///
/// # Errors
/// [`FeedError::Empty`] for a blank body, [`FeedError::NotAFeed`] for anything feed-rs cannot
/// read (HTML pages, truncated or malformed XML, binary data).
pub fn parse_feed(bytes: &[u8]) -> Result<feed_rs::model::Feed, FeedError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(FeedError::Empty);
    }
    let strict = parse_dialect(bytes);
    let Err(strict_error) = strict else { return strict };
    // Not well-formed: read it loosely, as feedparser does.
    let looks_like_xml =
        bytes.iter().find(|b| !b.is_ascii_whitespace() && !matches!(b, 0xEF | 0xBB | 0xBF)) == Some(&b'<');
    let repaired =
        if looks_like_xml { crate::repair::repair_xml(bytes) } else { crate::repair::repair_json_feed(bytes) };
    match repaired {
        Some(repaired) => parse_dialect(&repaired).map_err(|_| strict_error),
        None => Err(strict_error),
    }
}

fn parse_dialect(bytes: &[u8]) -> Result<feed_rs::model::Feed, FeedError> {
    let bytes = without_late_declarations(bytes);
    let translated = crate::dialect::translate(&bytes);
    let document = translated.as_deref().unwrap_or(&bytes);
    // feed-rs (through quick-xml) has panicked on hostile input before (see below); a panic in
    // a parser is this document's error, never the crawl's end.
    std::panic::catch_unwind(|| feed_rs::parser::parse(document))
        .map_err(|_| FeedError::NotAFeed("the feed parser failed on this document".to_owned()))?
        .map_err(|e| FeedError::NotAFeed(e.to_string()))
}

/// `bytes` without XML declarations that are not at the start of the document: feed-rs hands
/// every declaration's encoding to quick-xml, which panics when the encoding changes after
/// the first bytes were read (found by `tests/fuzz.rs`). A declaration anywhere but first is
/// not XML anyway.
fn without_late_declarations(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let first = bytes.iter().position(|b| !b.is_ascii_whitespace() && !matches!(b, 0xEF | 0xBB | 0xBF)).unwrap_or(0);
    let is_declaration = |at: usize| {
        bytes[at..].starts_with(b"<?xml") && bytes.get(at + 5).is_some_and(|b| b.is_ascii_whitespace() || *b == b'?')
    };
    let late: Vec<usize> = (first + 1..bytes.len().saturating_sub(5)).filter(|at| is_declaration(*at)).collect();
    if late.is_empty() {
        return std::borrow::Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut from = 0;
    for at in late {
        if at < from {
            continue;
        }
        out.extend_from_slice(&bytes[from..at]);
        from = bytes[at..].windows(2).position(|w| w == b"?>").map_or(bytes.len(), |end| at + end + 2);
    }
    out.extend_from_slice(&bytes[from..]);
    std::borrow::Cow::Owned(out)
}

/// Reads a syndication feed's body (already UTF-8, see [`crate::charset::to_utf8`]) into items.
/// Relative links resolve against `base`, the URL the body came from.
///
/// # Errors
/// Those of [`parse_feed`], and [`FeedError::NoReadableEntries`] when the document holds
/// entries but none becomes an item: such a feed must not look empty and healthy.
pub fn read_feed(spec: &FeedSpec, body: &[u8], base: &Url, fetched_at: DateTime<Utc>) -> Result<Normalized, FeedError> {
    let feed = parse_feed(body)?;
    let parsed = feed.entries.len();
    let mut normalized = normalize_feed(feed, spec, base, fetched_at);
    // Counted apart from the parser, so that entries it misses are seen.
    normalized.entries_in_document = crate::dialect::count_entries(body).unwrap_or(parsed).max(parsed);
    if normalized.items.is_empty() && normalized.entries_in_document > 0 {
        return Err(FeedError::NoReadableEntries {
            found: normalized.entries_in_document,
            reason: if parsed == 0 {
                "the parser found none of them (an unsupported dialect?)".to_owned()
            } else {
                format!("{} without any text", normalized.skipped)
            },
        });
    }
    Ok(normalized)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_blank_bodies_are_empty() {
        assert!(matches!(parse_feed(b""), Err(FeedError::Empty)));
        assert!(matches!(parse_feed(b" \n "), Err(FeedError::Empty)));
    }

    #[test]
    fn html_is_not_a_feed() {
        let html = b"<!doctype html><html><body><p>hello</p></body></html>";
        assert!(matches!(parse_feed(html), Err(FeedError::NotAFeed(_))));
    }

    #[test]
    fn a_declaration_after_the_start_is_dropped_not_a_panic() {
        // quick-xml panicked: "set_encoding() called after prefix buffer was drained".
        let doc = br#"<!-- x --><?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><title>t</title>
            <item><title>a</title><link>https://e.org/a</link></item><?xml version="1.0" encoding="utf-16"?></channel></rss>"#;
        assert_eq!(parse_feed(doc).unwrap().entries.len(), 1);
        let first = br#"<?xml version="1.0" encoding="utf-8"?><?xml-stylesheet href="s.xsl"?><rss/>"#;
        assert!(matches!(without_late_declarations(first), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn minimal_rss_parses() {
        let rss = br#"<rss version="2.0"><channel><title>t</title>
            <item><title>a</title><link>https://e.org/a</link></item></channel></rss>"#;
        assert_eq!(parse_feed(rss).unwrap().entries.len(), 1);
    }
}
