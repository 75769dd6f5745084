//! What infodemic remembers about each feed between runs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::SourceId;

/// HTTP cache validators from the last successful fetch, for conditional requests.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpValidators {
    /// The `ETag` header.
    pub etag: Option<String>,
    /// The `Last-Modified` header.
    pub last_modified: Option<String>,
}

/// The health of one feed across runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeedState {
    /// The feed.
    pub source: SourceId,
    /// The URL last crawled.
    pub url: String,
    /// When it was last tried.
    pub last_attempt: Option<DateTime<Utc>>,
    /// When it last succeeded (including "not modified").
    pub last_success: Option<DateTime<Utc>>,
    /// The last error, if the last attempt failed.
    pub last_error: Option<String>,
    /// Failures since the last success.
    pub consecutive_failures: u32,
    /// Validators for the next conditional request.
    pub validators: HttpValidators,
    /// Items from this feed stored over all runs.
    pub items_stored: u64,
    /// Weighted failures since the last success (hard errors such as 404, 410 or DNS count
    /// more than timeouts); see [`crate::polling`].
    pub failure_score: f32,
    /// The feed's own polling interval, adapted to how often it brings new items.
    pub interval_secs: u32,
    /// When it is due next.
    pub next_poll: Option<DateTime<Utc>>,
    /// SHA-256 of the last body fetched, to tell a changed feed from an unchanged one whatever
    /// its validators say.
    pub body_sha256: Option<String>,
    /// When the feed was last fetched without validators (to catch servers whose 304 lies).
    pub last_full_fetch: Option<DateTime<Utc>>,
    /// When it was first tried.
    pub first_attempt: Option<DateTime<Utc>>,
    /// New items in the last successful fetch.
    pub last_new_items: u32,
    /// Where paging resumes (the newest Mastodon status id seen, for `min_id`; the newest Reddit post, for `before`).
    pub cursor: Option<String>,
    /// Entries the document held when it was last read (0 for sources that are not feeds).
    pub last_entries: u32,
    /// Of those, entries that became no item: no text at all, or cut off (see
    /// `Normalized::entries_dropped` in the crawler).
    pub last_entries_dropped: u32,
    /// Until when the server asked not to be polled (`Retry-After` on a 429 or 503): binds
    /// every command, not only `watch`, unless the user forces a fetch.
    pub server_wait_until: Option<DateTime<Utc>>,
    /// The category the feed had when it was last crawled (from its subscription or the
    /// catalogue crawled), so that items scored again later are decided as they were, even
    /// for a feed that is not subscribed; `None` for states from before it was recorded.
    pub category: Option<crate::FeedCategory>,
}

impl FeedState {
    /// The state of a feed never crawled.
    pub fn new(source: SourceId, url: String) -> Self {
        Self {
            source,
            url,
            last_attempt: None,
            last_success: None,
            last_error: None,
            consecutive_failures: 0,
            validators: HttpValidators::default(),
            items_stored: 0,
            failure_score: 0.0,
            interval_secs: crate::polling::PollPolicy::default().base.as_secs() as u32,
            next_poll: None,
            body_sha256: None,
            last_full_fetch: None,
            first_attempt: None,
            last_new_items: 0,
            cursor: None,
            last_entries: 0,
            last_entries_dropped: 0,
            server_wait_until: None,
            category: None,
        }
    }

    /// Health as people read it.
    pub fn health(&self) -> FeedHealth {
        if self.last_attempt.is_none() {
            FeedHealth::New
        } else if self.failure_score <= 0.0 {
            FeedHealth::Healthy
        } else if self.failure_score < crate::polling::FAILING_SCORE {
            FeedHealth::Degraded
        } else {
            FeedHealth::Failing
        }
    }

    /// Stored items per day since the first attempt (`None` before a day of history).
    pub fn items_per_day(&self, now: DateTime<Utc>) -> Option<f64> {
        let days = (now - self.first_attempt?).num_seconds() as f64 / 86_400.0;
        (days >= 1.0).then(|| self.items_stored as f64 / days)
    }
}

/// A feed's health: never silently dead, always one of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedHealth {
    /// Never fetched.
    New,
    /// Last attempt succeeded.
    Healthy,
    /// Recent failures, still polled at a growing interval.
    Degraded,
    /// Failing for a while (hard errors or many soft ones); still polled, rarely.
    Failing,
}

impl FeedHealth {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            FeedHealth::New => "new",
            FeedHealth::Healthy => "healthy",
            FeedHealth::Degraded => "degraded",
            FeedHealth::Failing => "failing",
        }
    }
}
