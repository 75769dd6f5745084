//! `migrate`: the items of one store into another (the embedded store into PostgreSQL).
//!
//! Items go newest first, a page at a time, each page with the appearances of its items in one
//! commit of the target; feed states go first. The target skips what it holds already (its URL
//! and content uniqueness), so a migration that was interrupted is resumed by running it again:
//! the pages already moved cost a lookup per item and store nothing.

use std::collections::BTreeMap;

use infodemic_core::{Appearance, DebunkedClaim, ItemCursor, ItemQuery, ModelRef};
use infodemic_store::{IngestStore, ItemReader, RecordTrees, ScoreStore};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::Result;

/// Items (and claims, and campaign records) read and committed together.
pub const MIGRATE_PAGE: usize = 1000;

/// The model recorded with claims that an older store kept without one: no current model is
/// it, so they are embedded again before any matching, as they would have been in the source.
const UNRECORDED_MODEL: &str = "unrecorded";

/// What a migration did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct MigrateSummary {
    /// Feed states copied (a state replaces the target's).
    pub feed_states: usize,
    /// Items read from the source.
    pub items_read: usize,
    /// Of which new to the target.
    pub items_stored: usize,
    /// Of which the target held already (an earlier run, a worker).
    pub items_present: usize,
    /// Appearances (other copies of items) copied.
    pub appearances: usize,
    /// Debunked claims new to the target (with their embeddings).
    pub claims: usize,
    /// Campaigns copied (with their members, history, alerts and the grouping's state).
    pub campaigns: usize,
    /// Reviewers' verdict events copied (with the heads derived from them).
    pub verdicts: usize,
    /// Stopped before the end; run again to continue.
    pub interrupted: bool,
}

/// Copies feed states, then items with their appearances, from `source` to `target`, calling
/// `progress` with the items read so far after each page. Stops between pages when `cancel`
/// fires. Runs blocking store calls: call it off the async runtime.
///
/// # Errors
/// Store failures of either side; what was committed before stays.
pub fn migrate_items(
    source: &dyn ItemReader,
    target: &dyn IngestStore,
    progress: &dyn Fn(usize),
    cancel: &CancellationToken,
) -> Result<MigrateSummary> {
    let mut summary = MigrateSummary::default();
    let states = source.feed_states()?;
    target.commit(&[], &states, &[])?;
    summary.feed_states = states.len();
    let mut query = ItemQuery { limit: Some(MIGRATE_PAGE), ..ItemQuery::default() };
    loop {
        if cancel.is_cancelled() {
            summary.interrupted = true;
            break;
        }
        let page = source.query(&query)?;
        let Some(last) = page.last() else { break };
        query.after = Some(ItemCursor::of(last));
        let mut appearances: Vec<Appearance> = Vec::new();
        for scored in &page {
            appearances.extend(source.appearances(scored.item.id)?);
        }
        let report = target.commit(&page, &[], &appearances)?;
        summary.items_read += page.len();
        summary.items_stored += report.inserted;
        summary.items_present += report.duplicates;
        summary.appearances += appearances.len();
        progress(summary.items_read);
        if page.len() < MIGRATE_PAGE {
            break;
        }
    }
    Ok(summary)
}

/// A claim and its embedding.
type EmbeddedClaim = (DebunkedClaim, Vec<f32>);

/// Copies the debunked claims of `source` that `target` does not hold, with their embeddings
/// and the model that made each, a page per transaction. Returns how many were new.
///
/// # Errors
/// Store failures of either side; pages written before stay.
pub fn migrate_claims<S: ScoreStore + ?Sized, T: ScoreStore + ?Sized>(source: &S, target: &T) -> Result<usize> {
    let mut by_model: BTreeMap<(String, String), Vec<EmbeddedClaim>> = BTreeMap::new();
    for entry in source.claim_entries()? {
        let model = entry.model.unwrap_or(ModelRef { id: UNRECORDED_MODEL.to_owned(), version: "0".to_owned() });
        by_model.entry((model.id, model.version)).or_default().push((entry.claim, entry.embedding));
    }
    let mut added = 0;
    for ((id, version), claims) in by_model {
        let model = ModelRef { id, version };
        for page in claims.chunks(MIGRATE_PAGE) {
            added += target.put_claims(page, &model)?;
        }
    }
    Ok(added)
}

/// Copies every verdict event and review head of `source` (see
/// `infodemic_store::reviews::copy`). Returns the events copied.
///
/// # Errors
/// Store failures of either side; pages written before stay.
pub fn migrate_reviews<S: RecordTrees + ?Sized, T: RecordTrees + ?Sized>(source: &S, target: &T) -> Result<usize> {
    Ok(infodemic_store::reviews::copy(source, target, MIGRATE_PAGE)?)
}

/// Copies every campaign record of `source` (see `infodemic_store::campaigns::copy`). Returns
/// the campaigns copied.
///
/// # Errors
/// Store failures of either side; pages written before stay.
pub fn migrate_campaigns<S: RecordTrees + ?Sized, T: RecordTrees + ?Sized>(source: &S, target: &T) -> Result<usize> {
    Ok(infodemic_store::campaigns::copy(source, target, MIGRATE_PAGE)?)
}
