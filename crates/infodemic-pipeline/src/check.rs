//! `feeds check`: fetch one feed and show what would be kept, without storing anything.

use infodemic_core::health::is_health_related;
use infodemic_core::{FeedSpec, Item};
use infodemic_crawler::{crawl_feed, FeedFetch, FetchConfig, Fetcher, Previous};
use serde::Serialize;

use crate::Result;

/// One item as the crawl would see it.
#[derive(Clone, Debug, Serialize)]
pub struct CheckedItem {
    /// The normalised item.
    pub item: Item,
    /// Whether the feed's relevance filter keeps it.
    pub kept: bool,
}

/// What a check found.
#[derive(Clone, Debug, Serialize)]
pub struct FeedCheck {
    /// The feed checked.
    pub url: String,
    /// Its kind.
    pub kind: String,
    /// Seconds the fetch and parse took.
    pub elapsed_secs: f64,
    /// Body size.
    pub bytes: usize,
    /// The error, when it failed (`code`, message).
    pub error: Option<(String, String)>,
    /// Entries that could not become items.
    pub skipped: usize,
    /// Items, in feed order.
    pub items: Vec<CheckedItem>,
    /// ETag and Last-Modified sent back.
    pub etag: Option<String>,
    /// Last-Modified.
    pub last_modified: Option<String>,
}

/// Fetches and parses `spec` once, with the usual politeness and limits.
///
/// # Errors
/// Only when the HTTP client cannot be built; a failing feed is reported in the check.
pub async fn check_feed(spec: FeedSpec, fetch: FetchConfig) -> Result<FeedCheck> {
    let fetcher = Fetcher::new(fetch)?;
    let url = spec.url.to_string();
    let kind = spec.kind.as_str().to_owned();
    let keeper = spec.clone();
    let outcome = crawl_feed(&fetcher, spec, Previous::default()).await;
    let mut check = FeedCheck {
        url,
        kind,
        elapsed_secs: outcome.elapsed.as_secs_f64(),
        bytes: 0,
        error: None,
        skipped: 0,
        items: Vec::new(),
        etag: None,
        last_modified: None,
    };
    match outcome.result {
        Ok(FeedFetch::Parsed { normalized, validators, bytes, .. }) => {
            check.bytes = bytes;
            check.skipped = normalized.skipped + normalized.duplicates_in_feed;
            check.etag = validators.etag;
            check.last_modified = validators.last_modified;
            check.items = normalized
                .items
                .into_iter()
                .map(|item| {
                    let kept = keeper.keeps(is_health_related(&item.classifier_input()));
                    CheckedItem { item, kept }
                })
                .collect();
        }
        Ok(FeedFetch::NotModified | FeedFetch::Unchanged { .. }) => {}
        Err(error) => check.error = Some((error.code().to_owned(), error.to_string())),
    }
    Ok(check)
}
