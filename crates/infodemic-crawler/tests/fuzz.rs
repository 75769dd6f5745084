//! Property-based fuzzing of everything the crawler reads from outside: feed documents (strict
//! and loose readings, dialect translation, entry counting), charsets, HTML text and links,
//! OPML, and the JSON and HTML of post sources. Each property is "ends, without a panic, within
//! the caps", over random bytes and over documents built from feed grammar fragments (which
//! reach much deeper into the parsers than random bytes do).
//!
//! Bounded in CI (proptest's default of 256 cases per property); longer from a script:
//! `PROPTEST_CASES=20000 cargo test --release -p infodemic-crawler --test fuzz`. A failure prints
//! the smallest input found; it becomes a regression test next to the code it broke.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is the failure report.

use chrono::Utc;
use infodemic_core::FeedSpec;
use infodemic_crawler::charset::{decode_declared, to_utf8};
use infodemic_crawler::dialect::{count_entries, translate};
use infodemic_crawler::html_text::{html_links, html_to_text, MAX_LINKS};
use infodemic_crawler::normalize::{MAX_ENTRIES, MAX_TEXT_CHARS, MAX_TITLE_CHARS};
use infodemic_crawler::parse::read_feed;
use infodemic_crawler::repair::{repair_json_feed, repair_xml};
use infodemic_crawler::sources::{mastodon, opml, reddit, telegram};
use proptest::prelude::*;
use url::Url;

/// Pieces of feeds, broken and whole, that random concatenation turns into hostile documents.
const FRAGMENTS: &[&str] = &[
    r#"<?xml version="1.0" encoding="utf-8"?>"#,
    r#"<?xml version="1.0" encoding="ISO-8859-1"?>"#,
    "\u{feff}",
    r#"<rss version="2.0">"#,
    r#"<rss version="0.9">"#,
    "<rss>",
    "</rss>",
    "<channel>",
    "</channel>",
    "<item>",
    "</item>",
    r#"<feed xmlns="http://www.w3.org/2005/Atom">"#,
    r#"<feed version="0.3" xmlns="http://purl.org/atom/ns#">"#,
    "</feed>",
    "<entry>",
    "</entry>",
    r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://my.netscape.com/rdf/simple/0.9/">"#,
    "</rdf:RDF>",
    r#"<item rdf:about="http://e.org/a">"#,
    "<title>",
    "</title>",
    "</titel>",
    "<dc:title>DC</dc:title>",
    "<dc:description>DC text</dc:description>",
    "<link>http://e.org/a?x=1&y=2</link>",
    r#"<link href="/relative"/>"#,
    "<link>",
    "</link>",
    "<guid>g1</guid>",
    "<id>tag:e.org,2026:1</id>",
    "<description>",
    "</description>",
    r#"<content type="html" mode="escaped">"#,
    r#"<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">"#,
    "</div></content>",
    "</content>",
    "<pubDate>Fri, 31 Dec 9999 23:59:59 GMT</pubDate>",
    "<pubDate>Mon, 01 Jan 0001 00:00:00 GMT</pubDate>",
    "<issued>2005-07-31T12:29:29Z</issued>",
    "<![CDATA[<p>cdata <b>text</b></p>]]>",
    "<![CDATA[unclosed",
    "<!-- comment -->",
    "<!DOCTYPE rss [<!ENTITY e \"x\">]>",
    "&amp;",
    "&nbsp;",
    "&",
    "&#x1F600;",
    "&#99999999;",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "\u{1b}]52;c;ZXZpbA==\u{7}",
    "\u{9b}",
    "Vaccines do not cause autism. ",
    "<itunes:category text='Health'>",
    "<media:title>Media</media:title>",
    "<span><span><span>",
    "</span></span></span>",
    "<html><body>",
    "</body></html>",
    r#"{"version":"https://jsonfeed.org/version/1.1","items":["#,
    r#"{"id":7,"url":"http://e.org/j","title":"J","tags":"a,b","author":"A"}"#,
    ",",
    "]}",
    "\0",
    "\r\n",
];

fn document() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        // Built from the fragments, with random text between them.
        prop::collection::vec((prop::sample::select(FRAGMENTS), "[a-z <>&;\"'=/]{0,8}"), 0..60).prop_map(|parts| {
            parts
                .into_iter()
                .flat_map(|(fragment, noise)| [fragment.to_owned(), noise])
                .collect::<String>()
                .into_bytes()
        }),
        // Random bytes.
        prop::collection::vec(any::<u8>(), 0..2048),
    ]
}

fn base() -> Url {
    Url::parse("https://fuzz.example/feed.xml").unwrap()
}

proptest! {
    #[test]
    fn any_document_is_read_or_refused_within_the_caps(bytes in document()) {
        let utf8 = to_utf8(&bytes, Some("text/xml; charset=iso-8859-1"));
        if let Ok(normalized) = read_feed(&FeedSpec::from_url(base()), &utf8, &base(), Utc::now()) {
            prop_assert!(normalized.items.len() <= MAX_ENTRIES);
            for item in &normalized.items {
                prop_assert!(item.title.chars().count() <= MAX_TITLE_CHARS);
                prop_assert!(item.text.chars().count() <= MAX_TEXT_CHARS);
                prop_assert!(item.links.len() <= MAX_LINKS);
                prop_assert!(item.published.is_none_or(|at| at.timestamp() >= 0));
                prop_assert!(item.url.starts_with("http"));
            }
        }
    }

    #[test]
    fn translation_repair_and_counting_end_on_any_input(bytes in document()) {
        let _ = translate(&bytes);
        let _ = count_entries(&bytes);
        if let Some(repaired) = repair_xml(&bytes) {
            // What the repair writes is well-formed enough for a strict reader to get through.
            let mut reader = quick_xml::Reader::from_reader(repaired.as_slice());
            let mut buf = Vec::new();
            loop {
                match reader.read_event_into(&mut buf) {
                    Ok(quick_xml::events::Event::Eof) => break,
                    Ok(_) => buf.clear(),
                    Err(error) => {
                        // Only text content (e.g. a DOCTYPE-declared entity) may still fail.
                        prop_assert!(!error.to_string().contains("ill-formed"), "{error}");
                        break;
                    }
                }
            }
        }
        let _ = repair_json_feed(&bytes);
        let _ = decode_declared(&bytes);
    }

    #[test]
    fn html_text_and_links_end_on_any_fragment(bytes in document()) {
        let html = String::from_utf8_lossy(&bytes);
        let _ = html_to_text(&html);
        prop_assert!(html_links(&html, &base(), "").len() <= MAX_LINKS);
    }

    #[test]
    fn post_sources_and_opml_end_on_any_input(bytes in document()) {
        let _ = opml::parse(&bytes);
        let _ = mastodon::parse_statuses(&bytes);
        let _ = mastodon::parse_account_id(&bytes);
        let _ = reddit::parse_listing(&bytes);
        let _ = telegram::parse(&String::from_utf8_lossy(&bytes));
    }
}
