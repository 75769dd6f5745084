//! Parity with Python's feedparser over a corpus of real feed documents taken from public
//! parser test suites (`tests/fixtures/feeds/corpus`, see its README for sources and licences).
//!
//! Every document is read the way a crawl reads it (charset repair, dialect translation,
//! feed-rs, normalisation) and compared with feedparser 6's reading of the same bytes, recorded
//! in `expected.json`: the number of items and their titles. The floors asserted here are the
//! figures measured when the corpus was built; a change that reads fewer entries or mangles
//! titles fails. Set `INFODEMIC_FEED_CORPUS_RESULTS=PATH` to also write our results for
//! `scripts/feedparser_parity.py --compare PATH`, which prints every mismatch.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is the failure report.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::Utc;
use infodemic_core::FeedSpec;
use infodemic_crawler::charset::to_utf8;
use infodemic_crawler::html_text::html_to_text;
use infodemic_crawler::parse::read_feed;
use serde_json::{json, Value};
use url::Url;

/// Titles compared per document, as in `expected.json`.
const MAX_TITLES: usize = 20;
/// Share of well-formed documents whose item count equals feedparser's entry count (measured
/// 164/179 when the corpus was built; the rest are entries without any text, which are dropped
/// and counted, repeats of one link merged into one item, and three documents we do not read
/// as feedparser does: CDF, an RSS 0.90 item with no address, an HTML page saved by a browser).
const COUNT_PARITY_FLOOR: f64 = 0.91;
/// The same, counting every entry read (an item, or a repeat of one): measured 168/179.
const ENTRIES_READ_PARITY_FLOOR: f64 = 0.93;
/// Share of titles (first 20 per document, matched by position) that read the same: measured
/// 1569/1579.
const TITLE_FIDELITY_FLOOR: f64 = 0.99;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/feeds/corpus")
}

/// A document feedparser reads without a fatal fault, or recovers entries from.
fn well_formed(expected: &Value) -> bool {
    !expected["bozo"].as_bool().unwrap() || expected["entries"].as_u64().unwrap() > 0
}

/// A title as a reader sees it: feedparser keeps inline markup and entities a feed escaped
/// twice (`<b>Slack</b>`, `&#8217;`); rendered, they are the text we store.
fn as_read(title: &str) -> String {
    let text = html_to_text(title);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Our reading of one document, in the shape `feedparser_parity.py --compare` reads.
fn ours(name: &str, bytes: &[u8]) -> Value {
    let base = Url::parse(&format!("https://corpus.example/{name}")).unwrap();
    let spec = FeedSpec::from_url(base.clone());
    let utf8 = to_utf8(bytes, None);
    match read_feed(&spec, &utf8, &base, Utc::now()) {
        Ok(normalized) => json!({
            "entries": normalized.items.len(),
            "entries_read": normalized.items.len() + normalized.duplicates_in_feed,
            "dropped": normalized.entries_dropped(),
            "titles": normalized.items.iter().take(MAX_TITLES).map(|item| item.title.clone()).collect::<Vec<_>>(),
        }),
        Err(error) => json!({ "entries": 0, "titles": [], "error": format!("{}: {error}", error.code()) }),
    }
}

#[test]
fn real_feeds_are_read_like_feedparser_reads_them() {
    let expected: BTreeMap<String, Value> =
        serde_json::from_slice(&std::fs::read(corpus().join("expected.json")).unwrap()).unwrap();
    let mut results = BTreeMap::new();
    let (mut documents, mut counts_equal, mut titles_compared, mut titles_equal) = (0, 0, 0, 0);
    let mut entries_read_equal = 0;
    let mut mismatches = Vec::new();
    for (name, theirs) in &expected {
        let bytes = std::fs::read(corpus().join("docs").join(name)).unwrap();
        let result = ours(name, &bytes);
        if well_formed(theirs) {
            documents += 1;
            let (n_theirs, n_ours) = (theirs["entries"].as_u64().unwrap(), result["entries"].as_u64().unwrap());
            if result["entries_read"].as_u64().unwrap_or(0) == n_theirs {
                entries_read_equal += 1;
            }
            if n_theirs == n_ours {
                counts_equal += 1;
            } else {
                mismatches.push(format!("{name}: feedparser {n_theirs}, ours {n_ours} {}", result["error"]));
            }
            let their_titles = theirs["titles"].as_array().unwrap();
            let our_titles = result["titles"].as_array().unwrap();
            for (a, b) in their_titles.iter().zip(our_titles) {
                titles_compared += 1;
                if as_read(a.as_str().unwrap()) == as_read(b.as_str().unwrap()) {
                    titles_equal += 1;
                }
            }
        }
        results.insert(name.clone(), result);
    }
    if let Ok(path) = std::env::var("INFODEMIC_FEED_CORPUS_RESULTS") {
        std::fs::write(&path, serde_json::to_vec_pretty(&results).unwrap()).unwrap();
    }
    let count_parity = f64::from(counts_equal) / f64::from(documents);
    let entries_read_parity = f64::from(entries_read_equal) / f64::from(documents);
    let title_fidelity = f64::from(titles_equal) / f64::from(titles_compared);
    eprintln!(
        "count parity {counts_equal}/{documents} = {count_parity:.4}; entries read {entries_read_equal}/{documents} = \
         {entries_read_parity:.4}; title fidelity {titles_equal}/{titles_compared} = {title_fidelity:.4}"
    );
    for line in &mismatches {
        eprintln!("  {line}");
    }
    assert!(documents > 150, "the corpus shrank: {documents} well-formed documents");
    assert!(count_parity >= COUNT_PARITY_FLOOR, "count parity {count_parity:.4} < {COUNT_PARITY_FLOOR}");
    assert!(
        entries_read_parity >= ENTRIES_READ_PARITY_FLOOR,
        "entries read {entries_read_parity:.4} < {ENTRIES_READ_PARITY_FLOOR}"
    );
    assert!(title_fidelity >= TITLE_FIDELITY_FLOOR, "title fidelity {title_fidelity:.4} < {TITLE_FIDELITY_FLOOR}");
}
