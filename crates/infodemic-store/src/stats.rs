//! Aggregate counts for `infodemic stats`.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Items and how many of them were flagged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// All items.
    pub items: u64,
    /// Flagged items.
    pub flagged: u64,
}

impl Counts {
    pub(crate) fn add(&mut self, flagged: bool) {
        self.items += 1;
        self.flagged += u64::from(flagged);
    }
}

/// Counts over the whole store.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StoreStats {
    /// Everything.
    pub total: Counts,
    /// Per publication (else fetch) day, UTC.
    pub per_day: BTreeMap<NaiveDate, Counts>,
    /// Per source id.
    pub per_source: BTreeMap<String, Counts>,
    /// Per label name (`reliable`, `misinformation`).
    pub per_label: BTreeMap<String, u64>,
    /// Per detected language (`unknown` when undetected).
    pub per_language: BTreeMap<String, Counts>,
    /// Number of feeds with a recorded state.
    pub feeds: u64,
    /// Feeds whose last attempt failed.
    pub feeds_failing: u64,
    /// Debunked claims known for matching.
    pub claims: u64,
}

impl StoreStats {
    /// Counts `states` into `feeds` and `feeds_failing`.
    pub fn count_feeds(&mut self, states: &[infodemic_core::FeedState]) {
        self.feeds += states.len() as u64;
        self.feeds_failing += states.iter().filter(|state| state.last_error.is_some()).count() as u64;
    }
}
