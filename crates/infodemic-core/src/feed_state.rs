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
        }
    }
}
