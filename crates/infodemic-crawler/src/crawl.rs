//! One feed, end to end: fetch, check whether it changed, parse, normalise.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use infodemic_core::{FeedSpec, HttpValidators};
use sha2::{Digest, Sha256};

use crate::charset::to_utf8;
use crate::normalize::{normalize_feed, Normalized};
use crate::parse::parse_feed;
use crate::{FeedError, Fetched, Fetcher};

/// What we know of a feed from its last fetch, to fetch it conditionally.
#[derive(Clone, Debug, Default)]
pub struct Previous {
    /// ETag and Last-Modified to send.
    pub validators: HttpValidators,
    /// SHA-256 (hex) of the last body: a 200 with the same body is "unchanged", whatever the
    /// validators say.
    pub body_sha256: Option<String>,
    /// Fetch without validators this time: some servers answer 304 for a feed that changed,
    /// so a periodic unconditional fetch, verified by the body hash, catches them.
    pub unconditional: bool,
}

/// What crawling one feed produced.
#[derive(Debug)]
pub enum FeedFetch {
    /// The server answered 304 Not Modified.
    NotModified,
    /// A body identical to the last one (by SHA-256): nothing to parse.
    Unchanged {
        /// Validators to send next time.
        validators: HttpValidators,
        /// Freshness the server declared.
        fresh_until: Option<DateTime<Utc>>,
    },
    /// Parsed and normalised.
    Parsed {
        /// The items and skip counts.
        normalized: Normalized,
        /// Validators for the next conditional request.
        validators: HttpValidators,
        /// Body size in bytes.
        bytes: usize,
        /// SHA-256 (hex) of the body.
        body_sha256: String,
        /// Freshness the server declared.
        fresh_until: Option<DateTime<Utc>>,
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
    /// Whether the request went out without validators.
    pub unconditional: bool,
    /// Items, "not modified", or why it failed.
    pub result: Result<FeedFetch, FeedError>,
}

/// Fetches, parses and normalises one feed. Never fails: a failure is the outcome's `result`.
pub async fn crawl_feed(fetcher: &Fetcher, spec: FeedSpec, previous: Previous) -> FeedOutcome {
    let started = Instant::now();
    let fetched_at = Utc::now();
    let unconditional = previous.unconditional || previous.validators == HttpValidators::default();
    let result = fetch_and_parse(fetcher, &spec, &previous, fetched_at).await;
    match &result {
        Ok(FeedFetch::Parsed { normalized, bytes, .. }) => tracing::debug!(
            message = "Feed crawled.",
            source_id = %spec.id,
            items = normalized.items.len(),
            bytes
        ),
        Ok(FeedFetch::NotModified | FeedFetch::Unchanged { .. }) => {
            tracing::debug!(message = "Feed unchanged.", source_id = %spec.id);
        }
        // Info, not warn: the failure is data (feed state, run summary), not a fault of ours.
        Err(error) => tracing::info!(
            message = "Feed crawl failed.",
            source_id = %spec.id,
            url = %spec.url,
            code = error.code(),
            %error
        ),
    }
    FeedOutcome { spec, fetched_at, elapsed: started.elapsed(), unconditional, result }
}

async fn fetch_and_parse(
    fetcher: &Fetcher,
    spec: &FeedSpec,
    previous: &Previous,
    fetched_at: DateTime<Utc>,
) -> Result<FeedFetch, FeedError> {
    let validators = if previous.unconditional { HttpValidators::default() } else { previous.validators.clone() };
    let (bytes, validators, final_url, fresh_until, content_type) = match fetcher.fetch(&spec.url, &validators).await? {
        Fetched::NotModified => return Ok(FeedFetch::NotModified),
        Fetched::Body { bytes, validators, final_url, fresh_until, content_type } => {
            (bytes, validators, final_url, fresh_until, content_type)
        }
    };
    let body_sha256 = hex::encode(Sha256::digest(&bytes));
    if previous.body_sha256.as_deref() == Some(body_sha256.as_str()) {
        return Ok(FeedFetch::Unchanged { validators, fresh_until });
    }
    let spec = spec.clone();
    // Parsing is CPU work: keep it off the async workers.
    tokio::task::spawn_blocking(move || {
        let size = bytes.len();
        let utf8 = to_utf8(&bytes, content_type.as_deref());
        let feed = parse_feed(&utf8)?;
        let normalized = normalize_feed(feed, &spec, &final_url, fetched_at);
        Ok(FeedFetch::Parsed { normalized, validators, bytes: size, body_sha256, fresh_until })
    })
    .await
    .map_err(|join_error| FeedError::NotAFeed(format!("parser task failed: {join_error}")))?
}
