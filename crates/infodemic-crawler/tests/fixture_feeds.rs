//! Data-driven parser tests over `tests/fixtures/feeds` (the same files the end-to-end tests
//! serve over HTTP): every good fixture yields the documented items, every broken one a
//! feed error.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is the failure report.

use std::path::PathBuf;

use chrono::Utc;
use infodemic_core::FeedSpec;
use infodemic_crawler::normalize::Normalized;
use infodemic_crawler::parse::read_feed;
use infodemic_crawler::FeedError;
use url::Url;

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/feeds").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn parse(name: &str) -> Result<Normalized, FeedError> {
    let base = Url::parse(&format!("https://example.org/feeds/{name}")).unwrap();
    read_feed(&FeedSpec::from_url(base.clone()), &fixture(name), &base, Utc::now())
}

#[test]
fn good_fixtures_yield_their_items() {
    for (name, items) in [
        ("rss2.xml", 3),
        ("second-run.xml", 5),
        ("rss1.rdf", 3),
        ("atom.xml", 3),
        ("feed.json", 3),
        ("misinfo.xml", 3),
        ("reliable.xml", 3),
        ("rss-no-items.xml", 0),
    ] {
        let parsed = parse(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(parsed.items.len(), items, "{name}");
        for item in &parsed.items {
            assert!(!item.title.is_empty(), "{name}: empty title");
            assert!(item.canonical_url.starts_with("https://"), "{name}: {}", item.canonical_url);
        }
    }
}

#[test]
fn rss2_fixture_is_normalised() {
    let parsed = parse("rss2.xml").unwrap();
    assert_eq!(parsed.duplicates_in_feed, 1);
    let urls: Vec<&str> = parsed.items.iter().map(|i| i.canonical_url.as_str()).collect();
    assert!(urls.contains(&"https://example.org/news/measles-update?id=7"), "{urls:?}");
    assert!(urls.contains(&"https://example.org/news/relative-item"), "{urls:?}");
    for item in &parsed.items {
        for leaked in ["STRIPME", "alert(", "display:none", "<p>", "&amp;"] {
            assert!(!item.text.contains(leaked), "{leaked} leaked into {:?}", item.text);
        }
    }
    assert!(parsed.items.iter().any(|i| i.published.is_none()));
    assert!(parsed.items.iter().all(|i| i.author.is_some()));
}

#[test]
fn atom_and_json_fixtures_keep_language_and_authors() {
    let atom = parse("atom.xml").unwrap();
    assert!(atom.items.iter().any(|i| i.language.as_deref() == Some("fr")));
    assert!(atom.items.iter().all(|i| i.published.is_some()), "updated is the fallback");
    let json = parse("feed.json").unwrap();
    assert!(json.items.iter().all(|i| i.author.is_some() && !i.text.is_empty()));
}

#[test]
fn broken_fixtures_are_feed_errors() {
    for name in ["not-a-feed.html", "empty.xml", "garbage.bin"] {
        match parse(name) {
            Err(FeedError::Empty | FeedError::NotAFeed(_)) => {}
            other => panic!("{name}: expected a feed error, got {other:?}"),
        }
    }
}

#[test]
fn a_truncated_feed_keeps_its_whole_items_and_counts_the_one_cut_off() {
    let parsed = parse("truncated.xml").unwrap();
    let titles: Vec<&str> = parsed.items.iter().map(|i| i.title.as_str()).collect();
    assert_eq!(titles, ["Complete first item"]);
    assert_eq!(parsed.entries_dropped(), 1, "{parsed:?}");
}

#[test]
fn a_misspelt_end_tag_is_read_past() {
    let parsed = parse("malformed.xml").unwrap();
    let item = &parsed.items[0];
    assert_eq!(
        (item.title.as_str(), item.url.as_str()),
        ("Mismatched closing tag", "https://example.org/malformed/item-1")
    );
    assert!(item.published.is_some());
}

#[test]
fn youtube_channel_feeds_keep_the_video_description() {
    let parsed = parse("youtube.xml").unwrap();
    assert_eq!(parsed.items.len(), 2);
    let video = &parsed.items[0];
    assert_eq!(video.url, "https://www.youtube.com/watch?v=abcDEF12345");
    assert!(video.text.contains("vaccine schedule is dangerous"), "{:?}", video.text);
    assert_eq!(video.author.as_deref(), Some("Example Health Channel"));
}
