//! The jobs that travel on the queues, each a versioned JSON message, and how each is
//! published (its message id, which the server uses to drop a second publish).

use std::collections::BTreeMap;
use std::hash::Hasher;

use chrono::{DateTime, Utc};
use infodemic_core::{FeedCategory, FeedSpec, ItemId, SourceId};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{Result, WorkQueue};

/// A kind of job: its stream, subject and consumer are named after [`Job::KIND`].
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// `crawl` or `score`.
    const KIND: &'static str;
    /// The version this build writes and reads; a message of another version is dropped
    /// (and logged), never retried.
    const VERSION: u8;
    /// The message's version.
    fn version(&self) -> u8;
}

/// A crawl job as it travels: version 1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CrawlJobV1 {
    /// Always 1.
    pub v: u8,
    /// The feed to poll.
    pub feed: FeedSpec,
    /// When it became due (`None`: never polled).
    pub due: Option<DateTime<Utc>>,
}

impl Job for CrawlJobV1 {
    const KIND: &'static str = "crawl";
    const VERSION: u8 = 1;
    fn version(&self) -> u8 {
        self.v
    }
}

/// Items a score job names at most: a score worker commits one job's scores together.
pub const SCORE_JOB_ITEMS: usize = 64;

/// A score job as it travels: version 1. Stored items to score, and the category of each
/// feed they came from (the decision to flag weighs it; a feed not named has none).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreJobV1 {
    /// Always 1.
    pub v: u8,
    /// The items, by id.
    pub items: Vec<ItemId>,
    /// The categories of the feeds the items came from.
    #[serde(default)]
    pub categories: BTreeMap<SourceId, FeedCategory>,
}

impl Job for ScoreJobV1 {
    const KIND: &'static str = "score";
    const VERSION: u8 = 1;
    fn version(&self) -> u8 {
        self.v
    }
}

/// A campaign job as it travels: version 1. Scored items worth a review, for the one process
/// that assigns items to campaigns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignJobV1 {
    /// Always 1.
    pub v: u8,
    /// The items, by id.
    pub items: Vec<ItemId>,
}

impl Job for CampaignJobV1 {
    const KIND: &'static str = "campaign";
    const VERSION: u8 = 1;
    fn version(&self) -> u8 {
        self.v
    }
}

impl WorkQueue<CrawlJobV1> {
    /// Publishes a job for `feed`, due since `due`. Returns false when the same job (feed and
    /// due time) was published already within the duplicate window.
    ///
    /// # Errors
    /// [`crate::QueueError::Transfer`] when the server does not confirm the job.
    pub async fn enqueue(&self, feed: &FeedSpec, due: Option<DateTime<Utc>>) -> Result<bool> {
        let job = CrawlJobV1 { v: 1, feed: feed.clone(), due };
        let id = match due {
            Some(due) => format!("{}@{}", feed.id, due.timestamp_micros()),
            None => format!("{}@new", feed.id),
        };
        self.publish(&job, id).await
    }
}

impl WorkQueue<ScoreJobV1> {
    /// Publishes `items` for scoring, [`SCORE_JOB_ITEMS`] to a job, with the categories of
    /// their feeds. Returns how many jobs were new (a job with the same items published within
    /// the duplicate window is dropped by the server).
    ///
    /// # Errors
    /// [`crate::QueueError::Transfer`] when the server does not confirm a job; the jobs before
    /// it are queued.
    pub async fn enqueue_items(
        &self,
        items: &[ItemId],
        categories: &BTreeMap<SourceId, FeedCategory>,
    ) -> Result<usize> {
        let mut new = 0;
        for chunk in items.chunks(SCORE_JOB_ITEMS) {
            let job = ScoreJobV1 { v: 1, items: chunk.to_vec(), categories: categories.clone() };
            new += usize::from(self.publish(&job, items_job_id("score", chunk)).await?);
        }
        Ok(new)
    }
}

impl WorkQueue<CampaignJobV1> {
    /// Publishes `items` for campaign assignment, [`SCORE_JOB_ITEMS`] to a job. Returns how
    /// many jobs were new.
    ///
    /// # Errors
    /// [`crate::QueueError::Transfer`] when the server does not confirm a job; the jobs before
    /// it are queued.
    pub async fn enqueue_items(&self, items: &[ItemId]) -> Result<usize> {
        let mut new = 0;
        for chunk in items.chunks(SCORE_JOB_ITEMS) {
            let job = CampaignJobV1 { v: 1, items: chunk.to_vec() };
            new += usize::from(self.publish(&job, items_job_id("campaign", chunk)).await?);
        }
        Ok(new)
    }
}

/// The message id of a job of `kind` about `items`: their bytes, hashed, with their count and the first of
/// them. The same items (a crawl worker publishing again after a lost confirmation) give the
/// same id in every process: SipHash-2-4 with fixed keys over the ids' bytes alone.
fn items_job_id(kind: &str, items: &[ItemId]) -> String {
    #[allow(deprecated)] // SipHasher: one fixed algorithm and key, unlike the std's random state.
    let mut hasher = std::hash::SipHasher::new();
    for item in items {
        hasher.write(item.as_bytes());
    }
    let first = items.first().map(ToString::to_string).unwrap_or_default();
    format!("{kind}:{first}:{}:{:016x}", items.len(), hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_round_trip_and_keep_their_version() {
        let feed = FeedSpec::from_url(url::Url::parse("https://example.org/feed.xml").unwrap());
        let job = CrawlJobV1 { v: 1, feed, due: None };
        let text = serde_json::to_string(&job).unwrap();
        assert!(text.starts_with(r#"{"v":1,"#), "{text}");
        assert_eq!(serde_json::from_str::<CrawlJobV1>(&text).unwrap(), job);

        let source = SourceId::new("who-news").unwrap();
        let job = ScoreJobV1 {
            v: 1,
            items: vec![ItemId::from_canonical_url("https://e.org/1")],
            categories: BTreeMap::from([(source, FeedCategory::Authority)]),
        };
        let text = serde_json::to_string(&job).unwrap();
        assert!(text.starts_with(r#"{"v":1,"items":[""#), "{text}");
        assert_eq!(serde_json::from_str::<ScoreJobV1>(&text).unwrap(), job);
    }

    #[test]
    fn a_score_job_id_names_its_items() {
        let items: Vec<ItemId> = (0..5).map(|n| ItemId::from_canonical_url(&format!("https://e.org/{n}"))).collect();
        assert_eq!(items_job_id("score", &items), items_job_id("score", &items.clone()));
        assert_ne!(items_job_id("score", &items), items_job_id("score", &items[..4]));
        let mut reordered = items.clone();
        reordered.swap(1, 2);
        assert_ne!(items_job_id("score", &items), items_job_id("score", &reordered));
        // Fixed: every process (and every build) of a deployment agrees on it.
        assert_eq!(items_job_id("score", &items[..1]), "score:795f7eca3de584ad:1:9f928ca5f389ee3a");
    }
}
