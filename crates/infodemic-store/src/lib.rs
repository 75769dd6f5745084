//! The store: scored items, their indexes and feed state, in sled.
//!
//! # Architecture
//! - This is the only crate that names `sled`. Everything above it sees [`SledStore`] and the
//!   read-side trait [`ItemReader`] (which a future client of the running service implements
//!   too).
//! - Values on disk are versioned records of their own ([`records`]), never the domain types:
//!   a domain refactor cannot silently change the file format. Keys are big-endian so sled's
//!   byte order is the order we query in ([`keys`]).
//! - [`SledStore::commit`] writes a batch of items *and* the states of the feeds they came
//!   from in one transaction: a run interrupted at any point leaves either the whole batch or
//!   none of it, and a feed's ETag is never saved without its items.
//! - `meta/schema_version` is checked at open; [`migrations`] upgrade older data in place.
#![deny(missing_docs)]

pub mod campaigns;
mod counters;
mod error;
pub mod keys;
pub mod migrations;
mod plan;
pub mod records;
pub mod reviews;
mod search;
mod sled_store;
mod stats;
mod summary;
#[cfg(any(test, feature = "test-support"))]
pub mod test_support;
mod trees;

use infodemic_core::{
    Alert, Appearance, Campaign, CampaignHead, CampaignId, CampaignMember, Classification, ContentHash, DebunkedClaim,
    FeedSpec, FeedState, ItemId, ItemQuery, ModelRef, NewVerdict, QueueEntry, QueueRequest, RecordedVerdicts,
    ScoredItem, VerdictEvent, VerdictScale,
};

pub use campaigns::{CampaignCommit, GroupingSnapshot};
pub use counters::{stats_from_counts, CountDelta};
pub use trees::{RecordTrees, TreeWrite};

pub use error::StoreError;
pub use reviews::{LogView, ReviewHead, ReviewStore};
pub use sled_store::{CommitReport, SledStore, DEFAULT_CACHE_BYTES};
pub use stats::{Counts, StoreStats};

/// Result type of this crate.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// How far a long upkeep at open has come: counting, summarising or indexing every item of a
/// store that an older build wrote (minutes for a million items).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Upkeep {
    /// What runs ("counting items", "writing index summaries", "building the full-text index").
    pub task: &'static str,
    /// Items done.
    pub done: u64,
    /// Items in all, when known.
    pub total: Option<u64>,
}

/// Told about [`Upkeep`] every 10,000 items (see [`SledStore::open_reporting`]).
pub type UpkeepObserver = std::sync::Arc<dyn Fn(Upkeep) + Send + Sync>;

/// A stored debunked claim, its embedding, and the model that made the embedding.
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimEntry {
    /// The claim.
    pub claim: DebunkedClaim,
    /// Its text's embedding (L2-normalised).
    pub embedding: Vec<f32>,
    /// The model that embedded it; `None` for claims stored before models were recorded
    /// (schema 2), which count as embedded by another model.
    pub model: Option<ModelRef>,
}

impl ClaimEntry {
    /// Whether the embedding was made by `model` (same id and version): only then is it
    /// comparable with that model's embeddings of items.
    pub fn embedded_by(&self, model: &ModelRef) -> bool {
        self.model.as_ref() == Some(model)
    }
}

/// The read side of the store: what the query commands need. Implemented by [`SledStore`]
/// for direct access; a client of the running service can implement it too.
pub trait ItemReader {
    /// One item by id.
    ///
    /// # Errors
    /// Storage or decoding failures.
    fn get(&self, id: ItemId) -> Result<Option<ScoredItem>>;

    /// Several items by id, in the order asked (`None` for one not stored): one request where
    /// the store is remote.
    ///
    /// # Errors
    /// Storage or decoding failures.
    fn get_many(&self, ids: &[ItemId]) -> Result<Vec<Option<ScoredItem>>> {
        ids.iter().map(|id| self.get(*id)).collect()
    }

    /// Items matching `query`, in its order, at most its limit.
    ///
    /// # Errors
    /// Storage or decoding failures.
    fn query(&self, query: &ItemQuery) -> Result<Vec<ScoredItem>>;

    /// Counts per day, source and label.
    ///
    /// # Errors
    /// Storage or decoding failures.
    fn stats(&self) -> Result<StoreStats>;

    /// Other places the item appeared (syndicated copies, near-duplicate reposts).
    ///
    /// # Errors
    /// Storage or decoding failures.
    fn appearances(&self, id: ItemId) -> Result<Vec<Appearance>>;

    /// The state of every feed ever crawled.
    ///
    /// # Errors
    /// Storage or decoding failures.
    fn feed_states(&self) -> Result<Vec<FeedState>>;
}

/// The write side of an ingest (`crawl --no-score`, a crawl worker): what fetching,
/// deduplicating and committing items needs. Implemented by [`SledStore`] and by the
/// PostgreSQL store; scoring, claims and campaigns still need [`SledStore`].
pub trait IngestStore: ItemReader + Send + Sync {
    /// Every feed state that decodes, and a description of each one that does not (a feed
    /// with an unreadable state is crawled as new rather than failing the run).
    ///
    /// # Errors
    /// Storage failures.
    fn readable_feed_states(&self) -> Result<(Vec<FeedState>, Vec<String>)>;

    /// The id of the item stored under this canonical URL, if any.
    ///
    /// # Errors
    /// Storage failures.
    fn id_for_url(&self, canonical_url: &str) -> Result<Option<ItemId>>;

    /// The id of the item stored with this content hash, if any.
    ///
    /// # Errors
    /// Storage failures.
    fn id_for_content(&self, hash: ContentHash) -> Result<Option<ItemId>>;

    /// SimHash fingerprints of items published (else fetched) at or after `since`, newest
    /// first, for near-duplicate detection.
    ///
    /// # Errors
    /// Storage failures or a malformed entry.
    fn recent_fingerprints(&self, since: chrono::DateTime<chrono::Utc>) -> Result<Vec<(u64, ItemId)>>;

    /// Writes `items` (skipping any whose canonical URL or content hash is already stored),
    /// `feed_states` and `appearances` all together or not at all, durably.
    ///
    /// # Errors
    /// Storage failures; nothing of the batch is written then.
    fn commit(
        &self,
        items: &[ScoredItem],
        feed_states: &[FeedState],
        appearances: &[Appearance],
    ) -> Result<CommitReport>;
}

impl IngestStore for SledStore {
    fn readable_feed_states(&self) -> Result<(Vec<FeedState>, Vec<String>)> {
        SledStore::readable_feed_states(self)
    }

    fn id_for_url(&self, canonical_url: &str) -> Result<Option<ItemId>> {
        SledStore::id_for_url(self, canonical_url)
    }

    fn id_for_content(&self, hash: ContentHash) -> Result<Option<ItemId>> {
        SledStore::id_for_content(self, hash)
    }

    fn recent_fingerprints(&self, since: chrono::DateTime<chrono::Utc>) -> Result<Vec<(u64, ItemId)>> {
        SledStore::recent_fingerprints(self, since)
    }

    fn commit(
        &self,
        items: &[ScoredItem],
        feed_states: &[FeedState],
        appearances: &[Appearance],
    ) -> Result<CommitReport> {
        SledStore::commit(self, items, feed_states, appearances)
    }
}

/// The side of the store that scoring stored items needs (`rescore`, a score worker): which
/// items a filter holds, the classifications to replace, the debunked claims to match, and the
/// feeds' categories. Implemented by [`SledStore`] and by the PostgreSQL store.
pub trait ScoreStore: ItemReader + Send + Sync {
    /// Ids of the items in the query's time range and sources, newest first (see
    /// [`SledStore::item_ids`]); the other filters, the limit and the order are not applied.
    ///
    /// # Errors
    /// Storage failures.
    fn item_ids(&self, query: &ItemQuery) -> Result<Vec<ItemId>>;

    /// Replaces the classifications of stored items, and everything kept by classification
    /// (score order, flags, counters), in one transaction; ids not stored are left out, and
    /// of an id given twice the last classification wins. Returns how many items were
    /// rewritten.
    ///
    /// # Errors
    /// Storage failures; nothing of the batch is written then.
    fn reclassify(&self, updates: &[(ItemId, Classification)]) -> Result<usize>;

    /// Every stored claim with its embedding and the model that made it.
    ///
    /// # Errors
    /// Storage or decoding failures.
    fn claim_entries(&self) -> Result<Vec<ClaimEntry>>;

    /// Adds claims with their embeddings by `model`; claims already stored (same id) are kept
    /// as they are. Returns how many were new.
    ///
    /// # Errors
    /// Storage failures; nothing of the batch is written then.
    fn put_claims(&self, claims: &[(DebunkedClaim, Vec<f32>)], model: &ModelRef) -> Result<usize>;

    /// Replaces the embeddings of stored claims with ones by `model`; claims not stored are
    /// left out. Returns how many were replaced.
    ///
    /// # Errors
    /// Storage failures; nothing of the batch is written then.
    fn replace_claim_embeddings(&self, claims: &[(DebunkedClaim, Vec<f32>)], model: &ModelRef) -> Result<usize>;

    /// Every subscribed feed, by id (their categories decide how an item is flagged).
    ///
    /// # Errors
    /// Storage or decoding failures.
    fn subscriptions(&self) -> Result<Vec<FeedSpec>>;
}

impl ScoreStore for SledStore {
    fn item_ids(&self, query: &ItemQuery) -> Result<Vec<ItemId>> {
        SledStore::item_ids(self, query)
    }

    fn reclassify(&self, updates: &[(ItemId, Classification)]) -> Result<usize> {
        SledStore::reclassify(self, updates)
    }

    fn claim_entries(&self) -> Result<Vec<ClaimEntry>> {
        SledStore::claim_entries(self)
    }

    fn put_claims(&self, claims: &[(DebunkedClaim, Vec<f32>)], model: &ModelRef) -> Result<usize> {
        SledStore::put_claims(self, claims, model)
    }

    fn replace_claim_embeddings(&self, claims: &[(DebunkedClaim, Vec<f32>)], model: &ModelRef) -> Result<usize> {
        SledStore::replace_claim_embeddings(self, claims, model)
    }

    fn subscriptions(&self) -> Result<Vec<FeedSpec>> {
        SledStore::subscriptions(self)
    }
}

/// The read side of campaigns: what `campaigns` and `alerts` need. Implemented by
/// [`SledStore`] and by a client of the running service.
pub trait CampaignReader {
    /// Every campaign's summary (without the grouping's profile), by id.
    ///
    /// # Errors
    /// Storage or decoding failures.
    fn campaigns(&self) -> Result<Vec<Campaign>>;

    /// Every campaign's head: what listing and ranking need.
    ///
    /// # Errors
    /// Storage or decoding failures.
    fn campaign_heads(&self) -> Result<Vec<CampaignHead>>;

    /// One campaign's summary.
    ///
    /// # Errors
    /// Storage or decoding failures.
    fn campaign(&self, id: CampaignId) -> Result<Option<Campaign>>;

    /// A campaign's members in the order they joined, at most `limit`.
    ///
    /// # Errors
    /// Storage or decoding failures.
    fn campaign_members(&self, id: CampaignId, limit: Option<usize>) -> Result<Vec<CampaignMember>>;

    /// The campaign an item was assigned to.
    ///
    /// # Errors
    /// Storage or decoding failures.
    fn campaign_of(&self, member_id: &str) -> Result<Option<CampaignId>>;

    /// [`Self::campaign_of`] for many members at once (one request to a service).
    ///
    /// # Errors
    /// Storage or decoding failures.
    fn campaigns_of(&self, member_ids: &[String]) -> Result<Vec<Option<CampaignId>>> {
        member_ids.iter().map(|id| self.campaign_of(id)).collect()
    }

    /// Every alert, oldest first.
    ///
    /// # Errors
    /// Storage or decoding failures.
    fn alerts(&self) -> Result<Vec<Alert>>;
}

impl CampaignReader for SledStore {
    fn campaigns(&self) -> Result<Vec<Campaign>> {
        SledStore::campaigns(self)
    }

    fn campaign_heads(&self) -> Result<Vec<CampaignHead>> {
        SledStore::campaign_heads(self)
    }

    fn campaign(&self, id: CampaignId) -> Result<Option<Campaign>> {
        SledStore::campaign(self, id)
    }

    fn campaign_members(&self, id: CampaignId, limit: Option<usize>) -> Result<Vec<CampaignMember>> {
        SledStore::campaign_members(self, id, limit)
    }

    fn campaign_of(&self, member_id: &str) -> Result<Option<CampaignId>> {
        SledStore::campaign_of(self, member_id)
    }

    fn alerts(&self) -> Result<Vec<Alert>> {
        SledStore::alerts(self)
    }
}

/// The write side of campaigns: what the campaign stage needs besides reading. Implemented by
/// [`SledStore`] and by the PostgreSQL store (where one process at a time may write).
pub trait CampaignWriter: CampaignReader + Send + Sync {
    /// Everything the grouping needs to resume.
    ///
    /// # Errors
    /// Storage or decoding failures.
    fn grouping_snapshot(&self) -> Result<GroupingSnapshot>;

    /// Writes one batch of grouping results in one transaction.
    ///
    /// # Errors
    /// Storage failures (nothing is written then), or a store that another process writes
    /// campaigns to.
    fn commit_campaigns(&self, commit: &CampaignCommit) -> Result<()>;

    /// Makes this process the store's campaign writer, or keeps it so: true when it may
    /// commit campaigns now, false while another process does. A store that one process
    /// opens (sled) always answers true. PostgreSQL takes its campaign lock, which a
    /// reconnection loses; whoever takes it again must reload the grouping state first, since
    /// another writer may have changed it meanwhile.
    ///
    /// # Errors
    /// Storage failures.
    fn claim_writer(&self) -> Result<bool> {
        Ok(true)
    }
}

impl CampaignWriter for SledStore {
    fn grouping_snapshot(&self) -> Result<GroupingSnapshot> {
        SledStore::grouping_snapshot(self)
    }

    fn commit_campaigns(&self, commit: &CampaignCommit) -> Result<()> {
        SledStore::commit_campaigns(self, commit)
    }
}

/// Reviewers' verdicts: read the logs, append to them. Implemented by [`SledStore`] and by a
/// client of the running service (whose own scale then applies: it loaded the same data
/// directory's `verdicts.toml`).
pub trait ReviewLog {
    /// The scale verdicts are checked against.
    ///
    /// # Errors
    /// Only remote failures.
    fn verdict_scale(&self, local: &VerdictScale) -> Result<VerdictScale>;

    /// An item's log, oldest first.
    ///
    /// # Errors
    /// Storage or decoding failures.
    fn verdicts(&self, item: ItemId) -> Result<Vec<VerdictEvent>>;

    /// Every reviewed item's derived state, by item id, at most `limit`.
    ///
    /// # Errors
    /// Storage or decoding failures.
    fn review_heads(&self, limit: Option<usize>) -> Result<Vec<ReviewHead>>;

    /// The derived state of each of `items` (`None` for an unreviewed one), in order.
    ///
    /// # Errors
    /// Storage or decoding failures.
    fn review_heads_of(&self, items: &[ItemId]) -> Result<Vec<Option<ReviewHead>>>;

    /// Unreviewed items, filtered and ordered as asked.
    ///
    /// # Errors
    /// Storage or decoding failures.
    fn review_queue(&self, request: &QueueRequest) -> Result<Vec<QueueEntry>>;

    /// Records a batch now (see [`SledStore::record_verdicts`]).
    ///
    /// # Errors
    /// Storage failures; nothing is written then.
    fn record_verdicts(
        &self,
        batch: &[NewVerdict],
        scale: &VerdictScale,
        all_or_nothing: bool,
    ) -> Result<RecordedVerdicts>;

    /// Withdraws `reviewer`'s standing verdicts on `items` now.
    ///
    /// # Errors
    /// Storage failures; nothing is written then.
    fn undo_verdicts(&self, items: &[ItemId], reviewer: &str) -> Result<RecordedVerdicts>;
}

impl ReviewLog for SledStore {
    fn verdict_scale(&self, local: &VerdictScale) -> Result<VerdictScale> {
        Ok(local.clone())
    }

    fn verdicts(&self, item: ItemId) -> Result<Vec<VerdictEvent>> {
        SledStore::verdicts(self, item)
    }

    fn review_heads(&self, limit: Option<usize>) -> Result<Vec<ReviewHead>> {
        SledStore::review_heads(self, limit)
    }

    fn review_heads_of(&self, items: &[ItemId]) -> Result<Vec<Option<ReviewHead>>> {
        items.iter().map(|item| SledStore::review_head(self, *item)).collect()
    }

    fn review_queue(&self, request: &QueueRequest) -> Result<Vec<QueueEntry>> {
        SledStore::review_queue(self, request)
    }

    fn record_verdicts(
        &self,
        batch: &[NewVerdict],
        scale: &VerdictScale,
        all_or_nothing: bool,
    ) -> Result<RecordedVerdicts> {
        SledStore::record_verdicts(self, batch, scale, chrono::Utc::now(), all_or_nothing)
    }

    fn undo_verdicts(&self, items: &[ItemId], reviewer: &str) -> Result<RecordedVerdicts> {
        SledStore::undo_verdicts(self, items, reviewer, chrono::Utc::now())
    }
}
