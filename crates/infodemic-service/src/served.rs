//! What the local API serves from: the embedded store or PostgreSQL, whichever `watch` runs on.

use infodemic_core::{CampaignCounters, FeedSpec};
use infodemic_store::{CampaignReader, IngestStore, ReviewLog, ScoreStore, SledStore, StoreError};
use infodemic_store_postgres::PgStore;

/// A store the local API can answer from: every read the routes make, verdicts, and the
/// subscriptions `feeds add|remove` change. Its calls block; the server makes them on the
/// blocking pool.
pub trait ServedStore: IngestStore + ScoreStore + CampaignReader + ReviewLog + 'static {
    /// Subscribes; `true` when new.
    ///
    /// # Errors
    /// Storage failures.
    fn put_subscription(&self, spec: &FeedSpec) -> Result<bool, StoreError>;

    /// Unsubscribes; `true` when it was subscribed.
    ///
    /// # Errors
    /// Storage failures.
    fn remove_subscription(&self, id: &str) -> Result<bool, StoreError>;

    /// The campaign and alert counters (what `/metrics` reports).
    ///
    /// # Errors
    /// Storage or decoding failures.
    fn campaign_counters(&self) -> Result<CampaignCounters, StoreError>;
}

impl ServedStore for SledStore {
    fn put_subscription(&self, spec: &FeedSpec) -> Result<bool, StoreError> {
        SledStore::put_subscription(self, spec)
    }

    fn remove_subscription(&self, id: &str) -> Result<bool, StoreError> {
        SledStore::remove_subscription(self, id)
    }

    fn campaign_counters(&self) -> Result<CampaignCounters, StoreError> {
        infodemic_store::campaigns::counters(self)
    }
}

impl ServedStore for PgStore {
    fn put_subscription(&self, spec: &FeedSpec) -> Result<bool, StoreError> {
        PgStore::put_subscription(self, spec)
    }

    fn remove_subscription(&self, id: &str) -> Result<bool, StoreError> {
        PgStore::remove_subscription(self, id)
    }

    fn campaign_counters(&self) -> Result<CampaignCounters, StoreError> {
        infodemic_store::campaigns::counters(self)
    }
}
