//! Work a running `watch` does for other commands: what needs its classifier or its crawl loop
//! (a crawl, an import of debunked claims). The service knows only core and store, so it hands
//! each job to whatever implements [`Jobs`] (the CLI's `watch`, with the pipeline) and answers
//! with the job's summary as JSON: the same summary the command prints when it runs alone.

use std::future::Future;
use std::pin::Pin;

use infodemic_core::{DebunkedClaim, FeedSpec};
use serde::{Deserialize, Serialize};

/// Most claims in one import request; a client sends larger imports in several.
pub const MAX_CLAIMS_PER_REQUEST: usize = 1_000;

/// Why a job did not run to its end.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Too many jobs are waiting already; try again when they are done.
    #[error("the running watch is busy with other jobs; try again in a moment")]
    Busy,
    /// The request itself is wrong (the client's fault).
    #[error("{0}")]
    Invalid(String),
    /// The job failed.
    #[error("{0}")]
    Failed(String),
}

/// What a job answers: its summary, as the command's `--json` prints it.
pub type JobFuture = Pin<Box<dyn Future<Output = Result<serde_json::Value, JobError>> + Send>>;

/// The jobs a running `watch` takes from other commands.
pub trait Jobs: Send + Sync + std::fmt::Debug {
    /// Crawls `request.feeds` (the subscribed feeds when empty) between the watch's own
    /// cycles, so that campaign assignment keeps one writer.
    fn crawl(&self, request: CrawlRequest) -> JobFuture;

    /// Embeds and stores debunked claims.
    fn import_claims(&self, request: ClaimsRequest) -> JobFuture;

    /// The stored debunked claims nearest to a text (embedded by the watch's model), each as
    /// `{similarity, claim, matches}`.
    fn match_claims(&self, request: MatchRequest) -> JobFuture;

    /// Embeds again the claims another model embedded.
    fn reembed_claims(&self) -> JobFuture;
}

/// A text to match against the stored claims.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MatchRequest {
    /// The text.
    pub text: String,
    /// How many of the nearest claims.
    pub top: usize,
}

/// Longest text a match request may carry, bytes.
pub const MAX_MATCH_TEXT: usize = 64 * 1024;

/// A crawl asked of the running `watch`: the feeds and the command's fetch settings (the
/// model, its batch size and the alert sinks are the watch's own).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CrawlRequest {
    /// Feeds to crawl; none means the subscribed feeds.
    pub feeds: Vec<FeedSpec>,
    /// Feeds fetched at the same time.
    pub concurrency: u16,
    /// Seconds allowed for each feed.
    pub timeout_secs: u64,
    /// Largest feed accepted, MiB.
    pub max_body_mib: u64,
    /// Seconds between two requests to one host.
    pub host_delay_secs: f64,
    /// Fetch feeds whose server asked to wait all the same.
    pub force: bool,
    /// Score the new items (false: store them unscored, for `rescore`).
    #[serde(default = "scored_by_default")]
    pub score: bool,
}

fn scored_by_default() -> bool {
    true
}

impl CrawlRequest {
    /// Checks the bounds the command line enforces, for requests from anywhere.
    ///
    /// # Errors
    /// [`JobError::Invalid`] naming the setting out of bounds.
    pub fn validate(&self) -> Result<(), JobError> {
        let bad = |what: &str| Err(JobError::Invalid(format!("{what} is out of bounds")));
        if !(1..=512).contains(&self.concurrency) {
            return bad("concurrency");
        }
        if !(1..=3600).contains(&self.timeout_secs) {
            return bad("timeout_secs");
        }
        if !(1..=1024).contains(&self.max_body_mib) {
            return bad("max_body_mib");
        }
        if !(0.0..=600.0).contains(&self.host_delay_secs) {
            return bad("host_delay_secs");
        }
        if self.feeds.len() > 100_000 {
            return bad("the number of feeds");
        }
        Ok(())
    }
}

/// Debunked claims to import (at most [`MAX_CLAIMS_PER_REQUEST`]).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ClaimsRequest {
    /// The claims, parsed by the client.
    pub claims: Vec<DebunkedClaim>,
}
