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

mod campaigns;
mod error;
pub mod keys;
pub mod migrations;
pub mod records;
mod sled_store;
mod stats;

use infodemic_core::{Appearance, DebunkedClaim, FeedState, ItemId, ItemQuery, ModelRef, ScoredItem};

pub use campaigns::{CampaignCommit, GroupingSnapshot};
pub use error::StoreError;
pub use sled_store::{CommitReport, SledStore};
pub use stats::{Counts, StoreStats};

/// Result type of this crate.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

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
