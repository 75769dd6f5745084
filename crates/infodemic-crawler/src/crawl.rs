//! One feed, end to end: fetch, check whether it changed, parse, normalise.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use infodemic_core::{FeedSpec, HttpValidators};
use sha2::{Digest, Sha256};

use infodemic_core::FeedKind;
use url::Url;

use crate::charset::to_utf8;
use crate::normalize::{normalize_posts, Normalized};
use crate::parse::read_feed;
use crate::sources::html_page::{self, HtmlSelectors};
use crate::sources::mastodon::{self, Timeline};
use crate::sources::{reddit, telegram, SourceError};
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
    /// Where paging resumes (Mastodon `min_id`, Reddit `before`).
    pub cursor: Option<String>,
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
        /// Where paging resumes next time.
        cursor: Option<String>,
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
    let request = source_request(fetcher, spec, previous).await?;
    let validators = if previous.unconditional { HttpValidators::default() } else { previous.validators.clone() };
    let (bytes, validators, final_url, fresh_until, content_type) = match fetcher.fetch(&request, &validators).await? {
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
    let old_cursor = previous.cursor.clone();
    // Parsing is CPU work: keep it off the async workers, and bounded in time (the caps bound
    // it already; this is the last line if a parser misbehaves on some input).
    let parsing = tokio::task::spawn_blocking(move || {
        let size = bytes.len();
        let utf8 = to_utf8(&bytes, content_type.as_deref());
        let (normalized, cursor) = parse_source(&spec, &utf8, &final_url, fetched_at, old_cursor)?;
        Ok(FeedFetch::Parsed { normalized, validators, bytes: size, body_sha256, fresh_until, cursor })
    });
    tokio::time::timeout(PARSE_TIME_LIMIT, parsing)
        .await
        .map_err(|_| FeedError::NotAFeed(format!("parsing took longer than {} s", PARSE_TIME_LIMIT.as_secs())))?
        .map_err(|join_error| FeedError::NotAFeed(format!("parser task failed: {join_error}")))?
}

/// The longest a feed's parsing may take before the feed is given up as unreadable.
const PARSE_TIME_LIMIT: Duration = Duration::from_secs(60);

/// The URL to request for a source: the feed itself, or the API behind a post source.
async fn source_request(fetcher: &Fetcher, spec: &FeedSpec, previous: &Previous) -> Result<Url, FeedError> {
    let invalid = |why: String| FeedError::NotAFeed(format!("{} source {}: {why}", spec.kind.as_str(), spec.url));
    let segments: Vec<String> =
        spec.url.path_segments().map(|s| s.filter(|p| !p.is_empty()).map(str::to_owned).collect()).unwrap_or_default();
    match spec.kind {
        FeedKind::Mastodon => {
            let timeline = match segments.as_slice() {
                [tags, tag] if tags == "tags" => Timeline::Hashtag(tag.clone()),
                [account] if account.starts_with('@') => {
                    let lookup = mastodon::lookup_url(&spec.url, account.trim_start_matches('@'));
                    let bytes = match fetcher.fetch(&lookup, &HttpValidators::default()).await? {
                        Fetched::Body { bytes, .. } => bytes,
                        Fetched::NotModified => return Err(invalid("account lookup answered 304".to_owned())),
                    };
                    Timeline::Account { id: mastodon::parse_account_id(&bytes).map_err(|e| invalid(e.to_string()))? }
                }
                _ => {
                    return Err(invalid("expected https://INSTANCE/tags/NAME or https://INSTANCE/@ACCOUNT".to_owned()))
                }
            };
            Ok(mastodon::timeline_url(&spec.url, &timeline, previous.cursor.as_deref(), mastodon::MAX_LIMIT))
        }
        FeedKind::Reddit => match segments.as_slice() {
            [r, name, ..] if r == "r" => reddit::newer_listing_url(name, previous.cursor.as_deref())
                .map(|u| same_origin(u, &spec.url))
                .map_err(|e| invalid(e.to_string())),
            _ => Err(invalid("expected https://www.reddit.com/r/NAME".to_owned())),
        },
        FeedKind::Telegram => match segments.as_slice() {
            [s, name, ..] if s == "s" => {
                telegram::channel_url(name).map(|u| same_origin(u, &spec.url)).map_err(|e| invalid(e.to_string()))
            }
            [name] => {
                telegram::channel_url(name).map(|u| same_origin(u, &spec.url)).map_err(|e| invalid(e.to_string()))
            }
            _ => Err(invalid("expected https://t.me/s/NAME".to_owned())),
        },
        _ => Ok(spec.url.clone()),
    }
}

/// `url` on the scheme, host and port of `origin`: the configured host wins (a mirror, an
/// old.reddit.com, a local test server), the path and query come from the API.
fn same_origin(mut url: Url, origin: &Url) -> Url {
    let _ = url.set_scheme(origin.scheme());
    let _ = url.set_host(origin.host_str());
    let _ = url.set_port(origin.port());
    url
}

/// Parses a source's body into items, with the paging cursor for next time.
fn parse_source(
    spec: &FeedSpec,
    body: &[u8],
    final_url: &Url,
    fetched_at: DateTime<Utc>,
    old_cursor: Option<String>,
) -> Result<(Normalized, Option<String>), FeedError> {
    let not_a_feed = |e: SourceError| FeedError::NotAFeed(e.to_string());
    let (posts, cursor) = match spec.kind {
        kind if kind.is_syndication_feed() => return Ok((read_feed(spec, body, final_url, fetched_at)?, old_cursor)),
        FeedKind::Mastodon => {
            let page = mastodon::parse_statuses(body).map_err(not_a_feed)?;
            (page.posts, page.newest_id.or(old_cursor))
        }
        // An empty page drops the cursor: the post it named may be gone, and Reddit answers
        // nothing newer than a deleted post; the next poll reads the newest page again.
        FeedKind::Reddit => {
            let page = reddit::parse_listing(body).map_err(not_a_feed)?;
            (page.posts, page.newest)
        }
        FeedKind::Telegram => (telegram::parse(&String::from_utf8_lossy(body)).map_err(not_a_feed)?, None),
        _ => {
            let selectors: HtmlSelectors = serde_json::to_value(&spec.selectors)
                .and_then(serde_json::from_value)
                .map_err(|e| FeedError::NotAFeed(format!("invalid selectors for {}: {e}", spec.id)))?;
            (html_page::parse(&String::from_utf8_lossy(body), final_url, &selectors).map_err(not_a_feed)?, None)
        }
    };
    Ok((normalize_posts(posts, spec, fetched_at), cursor))
}
