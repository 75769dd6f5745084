//! One feed, end to end: fetch, parse, normalise.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use infodemic_core::{FeedSpec, HttpValidators};

use crate::normalize::{normalize_feed, Normalized};
use crate::parse::parse_feed;
use crate::{FeedError, Fetched, Fetcher};

/// What crawling one feed produced.
#[derive(Debug)]
pub enum FeedFetch {
    /// Unchanged since the last crawl (HTTP 304).
    NotModified,
    /// Parsed and normalised.
    Parsed {
        /// The items and skip counts.
        normalized: Normalized,
        /// Validators for the next conditional request.
        validators: HttpValidators,
        /// Body size in bytes.
        bytes: usize,
    },
}

/// The outcome of one feed in a run; errors are data here, not control flow.
#[derive(Debug)]
pub struct FeedOutcome {
    /// The feed.
    pub spec: FeedSpec,
    /// When the fetch started.
    pub fetched_at: DateTime<Utc>,
    /// How long fetch, parse and normalise took.
    pub elapsed: Duration,
    /// Items, "not modified", or why it failed.
    pub result: Result<FeedFetch, FeedError>,
}

/// Fetches, parses and normalises one feed. Never fails: a failure is the outcome's `result`.
pub async fn crawl_feed(fetcher: &Fetcher, spec: FeedSpec, validators: HttpValidators) -> FeedOutcome {
    let started = Instant::now();
    let fetched_at = Utc::now();
    let result = fetch_and_parse(fetcher, &spec, &validators, fetched_at).await;
    match &result {
        Ok(FeedFetch::Parsed { normalized, bytes, .. }) => tracing::debug!(
            message = "Feed crawled.",
            source_id = %spec.id,
            items = normalized.items.len(),
            bytes
        ),
        Ok(FeedFetch::NotModified) => {
            tracing::debug!(message = "Feed not modified.", source_id = %spec.id);
        }
        // Info, not warn: the failure is data (feed state, run summary), not a fault of ours.
        Err(error) => tracing::info!(
            message = "Feed crawl failed.",
            source_id = %spec.id,
            url = %spec.url,
            %error
        ),
    }
    FeedOutcome { spec, fetched_at, elapsed: started.elapsed(), result }
}

async fn fetch_and_parse(
    fetcher: &Fetcher,
    spec: &FeedSpec,
    validators: &HttpValidators,
    fetched_at: DateTime<Utc>,
) -> Result<FeedFetch, FeedError> {
    let (bytes, validators, final_url) = match fetcher.fetch(&spec.url, validators).await? {
        Fetched::NotModified => return Ok(FeedFetch::NotModified),
        Fetched::Body { bytes, validators, final_url } => (bytes, validators, final_url),
    };
    let spec = spec.clone();
    // Parsing is CPU work: keep it off the async workers.
    tokio::task::spawn_blocking(move || {
        let size = bytes.len();
        let feed = parse_feed(&bytes)?;
        let normalized = normalize_feed(feed, &spec, &final_url, fetched_at);
        Ok(FeedFetch::Parsed { normalized, validators, bytes: size })
    })
    .await
    .map_err(|join_error| FeedError::NotAFeed(format!("parser task failed: {join_error}")))?
}
