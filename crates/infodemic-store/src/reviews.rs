//! Reviewers' verdicts: an append-only log per item, and a derived head per reviewed item.
//!
//! Trees: `verdict_events` (item + sequence → event; never rewritten or removed) and
//! `reviewed` (item → the current verdict derived from its log, for queues, filters and
//! exports that must not replay every log). Both are written in one transaction per batch,
//! under a lock that keeps two batches on the same item from deriving heads from the same
//! stale log ([`ReviewStore::append_locked`]). The records and their logic are written once,
//! over the store's [`RecordTrees`]: sled's trees, or PostgreSQL's rows.

use std::sync::PoisonError;

use crate::records;
use crate::trees::{RecordTrees, TreeWrite};
use crate::{CampaignReader, ItemReader, Result, SledStore, StoreError};
use chrono::{DateTime, Utc};
use infodemic_core::review::{check_note, check_reviewer};
use infodemic_core::{
    Agreement, CampaignHead, CampaignId, CampaignRef, CampaignStatus, ItemId, ItemQuery, ModelRef, NewVerdict,
    QueueEntry, QueueOrder, QueueRequest, RecordedVerdicts, RejectedVerdict, ReviewAction, ReviewFilter,
    ReviewInputError, ReviewState, VerdictEvent, VerdictScale,
};
use serde::{Deserialize, Serialize};

/// Merges followed at most this far when resolving an item's live campaign (merges chain
/// younger into older campaigns, so chains are short; the bound guards a corrupt cycle).
const MAX_MERGE_HOPS: usize = 32;

const EVENT_VERSION: u8 = 1;
const HEAD_VERSION: u8 = 1;
/// The tree of the verdict logs: item + sequence → event; never rewritten or removed.
pub const EVENTS_TREE: &str = "verdict_events";
/// The tree of the heads: item → the verdict its log amounts to, while one stands.
pub const REVIEWED_TREE: &str = "reviewed";

/// A verdict event as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct StoredVerdictEventV1 {
    seq: u64,
    item: [u8; 8],
    /// `verdict` or `undo`.
    action: String,
    verdict: String,
    reviewer: String,
    time_us: i64,
    note: Option<String>,
    undoes: Option<u64>,
    model_id: String,
    model_version: String,
    score: Option<f32>,
}

/// What an item's log amounts to, kept beside it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct StoredReviewHeadV1 {
    current: String,
    /// `single`, `agreed` or `disagreed`.
    agreement: String,
    reviewers: u32,
    last_us: i64,
}

/// The derived state of one reviewed item, as queues and exports read it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewHead {
    /// The item.
    pub item: ItemId,
    /// Its current verdict.
    pub current: String,
    /// Whether its reviewers agree.
    pub agreement: Agreement,
    /// How many reviewers have a standing verdict.
    pub reviewers: u32,
    /// When the last of them recorded it.
    pub last: DateTime<Utc>,
}

fn event_key(item: ItemId, seq: u64) -> Vec<u8> {
    [item.as_bytes().as_slice(), &seq.to_be_bytes()].concat()
}

fn corrupt(tree: &'static str, message: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt { tree, message: message.to_string() }
}

fn encode_event(event: &VerdictEvent) -> Vec<u8> {
    let stored = StoredVerdictEventV1 {
        seq: event.seq,
        item: *event.item.as_bytes(),
        action: match event.action {
            ReviewAction::Verdict => "verdict",
            ReviewAction::Undo => "undo",
        }
        .to_owned(),
        verdict: event.verdict.clone(),
        reviewer: event.reviewer.clone(),
        time_us: event.time.timestamp_micros(),
        note: event.note.clone(),
        undoes: event.undoes,
        model_id: event.model.id.clone(),
        model_version: event.model.version.clone(),
        score: event.score,
    };
    records::encode(EVENT_VERSION, &stored)
}

/// Decodes a verdict event record.
///
/// # Errors
/// An unknown version or a payload that does not decode.
pub fn decode_event(bytes: &[u8]) -> Result<VerdictEvent> {
    let (version, payload) = bytes.split_first().ok_or_else(|| corrupt(EVENTS_TREE, "empty record"))?;
    if *version != EVENT_VERSION {
        return Err(corrupt(EVENTS_TREE, format!("unknown record version {version}")));
    }
    let stored: StoredVerdictEventV1 = postcard::from_bytes(payload).map_err(|e| corrupt(EVENTS_TREE, e))?;
    let action = match stored.action.as_str() {
        "verdict" => ReviewAction::Verdict,
        "undo" => ReviewAction::Undo,
        other => return Err(corrupt(EVENTS_TREE, format!("unknown action `{other}`"))),
    };
    Ok(VerdictEvent {
        seq: stored.seq,
        item: ItemId(stored.item),
        action,
        verdict: stored.verdict,
        reviewer: stored.reviewer,
        time: DateTime::from_timestamp_micros(stored.time_us)
            .ok_or_else(|| corrupt(EVENTS_TREE, "time out of range"))?,
        note: stored.note,
        undoes: stored.undoes,
        model: ModelRef { id: stored.model_id, version: stored.model_version },
        score: stored.score,
    })
}

fn decode_head(key: &[u8], bytes: &[u8]) -> Result<ReviewHead> {
    let item: [u8; 8] = key.try_into().map_err(|_| corrupt(REVIEWED_TREE, "key is not an item id"))?;
    let (version, payload) = bytes.split_first().ok_or_else(|| corrupt(REVIEWED_TREE, "empty record"))?;
    if *version != HEAD_VERSION {
        return Err(corrupt(REVIEWED_TREE, format!("unknown record version {version}")));
    }
    let stored: StoredReviewHeadV1 = postcard::from_bytes(payload).map_err(|e| corrupt(REVIEWED_TREE, e))?;
    let agreement = match stored.agreement.as_str() {
        "single" => Agreement::Single,
        "agreed" => Agreement::Agreed,
        "disagreed" => Agreement::Disagreed,
        other => return Err(corrupt(REVIEWED_TREE, format!("unknown agreement `{other}`"))),
    };
    Ok(ReviewHead {
        item: ItemId(item),
        current: stored.current,
        agreement,
        reviewers: stored.reviewers,
        last: DateTime::from_timestamp_micros(stored.last_us)
            .ok_or_else(|| corrupt(REVIEWED_TREE, "time out of range"))?,
    })
}

/// The head a log amounts to; `None` when no verdict stands.
fn head_record(state: &ReviewState) -> Option<Vec<u8>> {
    let current = state.current.clone()?;
    let last = state.standing.iter().map(|s| s.time).max()?;
    let head = StoredReviewHeadV1 {
        current,
        agreement: state.agreement.as_str().to_owned(),
        reviewers: u32::try_from(state.standing.len()).unwrap_or(u32::MAX),
        last_us: last.timestamp_micros(),
    };
    Some(records::encode(HEAD_VERSION, &head))
}

/// The logs as the writer that holds them locked sees them, inside its transaction.
pub trait LogView {
    /// Every event of an item's log, oldest first.
    ///
    /// # Errors
    /// Storage failures or a corrupt record.
    fn verdicts(&self, item: ItemId) -> Result<Vec<VerdictEvent>>;

    /// A sequence number greater than every one given before in this store.
    ///
    /// # Errors
    /// Storage failures.
    fn next_seq(&self) -> Result<u64>;
}

/// What recording verdicts needs of a store: the items, the campaigns (for the queue), the
/// log trees, and the logs locked against every other writer while a batch is derived from
/// them and written. Implemented by [`SledStore`] (a lock in the process) and by the
/// PostgreSQL store (an advisory lock in the batch's transaction, so any number of processes
/// may record verdicts).
pub trait ReviewStore: RecordTrees + ItemReader + CampaignReader {
    /// Runs `derive` with the logs locked, then applies the writes it returns, all in one
    /// transaction. `derive` may run again when the transaction conflicts with another writer:
    /// it must start from nothing each time.
    ///
    /// # Errors
    /// Storage failures, or `derive`'s; nothing is written then.
    fn append_locked(&self, derive: &mut dyn FnMut(&dyn LogView) -> Result<Vec<TreeWrite>>) -> Result<()>;
}

/// Every event of an item's log, oldest first.
///
/// # Errors
/// Storage failures or a corrupt record.
pub fn verdicts<T: RecordTrees + ?Sized>(trees: &T, item: ItemId) -> Result<Vec<VerdictEvent>> {
    trees.scan_records(EVENTS_TREE, item.as_bytes(), None)?.iter().map(|(_, bytes)| decode_event(bytes)).collect()
}

/// The derived state of every reviewed item, by item id, at most `limit`.
///
/// # Errors
/// Storage failures or a corrupt record.
pub fn review_heads<T: RecordTrees + ?Sized>(trees: &T, limit: Option<usize>) -> Result<Vec<ReviewHead>> {
    trees.scan_records(REVIEWED_TREE, &[], limit)?.iter().map(|(key, value)| decode_head(key, value)).collect()
}

/// One item's derived state, when it has a standing verdict.
///
/// # Errors
/// Storage failures or a corrupt record.
pub fn review_head<T: RecordTrees + ?Sized>(trees: &T, item: ItemId) -> Result<Option<ReviewHead>> {
    trees.get_record(REVIEWED_TREE, item.as_bytes())?.map(|bytes| decode_head(item.as_bytes(), &bytes)).transpose()
}

/// How many items have a standing verdict.
///
/// # Errors
/// Storage failures.
pub fn reviewed_count<T: RecordTrees + ?Sized>(trees: &T) -> Result<usize> {
    trees.count_records(REVIEWED_TREE)
}

/// Records a batch of verdicts at `now` (see [`SledStore::record_verdicts`]).
///
/// # Errors
/// Storage failures or a corrupt record; nothing of the batch is written then.
pub fn record_verdicts<S: ReviewStore + ?Sized>(
    store: &S,
    batch: &[NewVerdict],
    scale: &VerdictScale,
    now: DateTime<Utc>,
    all_or_nothing: bool,
) -> Result<RecordedVerdicts> {
    let mut pending = Vec::new();
    let mut rejected = Vec::new();
    for (row, verdict) in batch.iter().enumerate() {
        match check_verdict(store, verdict, scale, now)? {
            Ok(event) => pending.push(event),
            Err(error) => {
                rejected.push(RejectedVerdict { row, item: verdict.item.to_string(), error: error.to_string() })
            }
        }
    }
    if all_or_nothing && !rejected.is_empty() {
        return Ok(RecordedVerdicts { recorded: Vec::new(), rejected });
    }
    let mut recorded = Vec::new();
    store.append_locked(&mut |view| {
        let (events, writes) = append(view, pending.clone())?;
        recorded = events;
        Ok(writes)
    })?;
    Ok(RecordedVerdicts { recorded, rejected })
}

/// Withdraws `reviewer`'s standing verdict on each of `items` (see
/// [`SledStore::undo_verdicts`]).
///
/// # Errors
/// Storage failures or a corrupt record; nothing is written then.
pub fn undo_verdicts<S: ReviewStore + ?Sized>(
    store: &S,
    items: &[ItemId],
    reviewer: &str,
    now: DateTime<Utc>,
) -> Result<RecordedVerdicts> {
    let reject = |row: usize, item: ItemId, error: ReviewInputError| RejectedVerdict {
        row,
        item: item.to_string(),
        error: error.to_string(),
    };
    let reviewer = match check_reviewer(reviewer) {
        Ok(reviewer) => reviewer,
        Err(error) => {
            let rejected = items.iter().enumerate().map(|(row, item)| reject(row, *item, error.clone())).collect();
            return Ok(RecordedVerdicts { recorded: Vec::new(), rejected });
        }
    };
    // What each item's reviewer saw, read before the lock: it does not change with the logs.
    let seen: Vec<Option<(ModelRef, Option<f32>)>> =
        items.iter().map(|item| seen_by_reviewer(store, *item)).collect::<Result<_>>()?;
    let mut outcome = RecordedVerdicts::default();
    store.append_locked(&mut |view| {
        let mut pending = Vec::new();
        let mut rejected = Vec::new();
        for (row, (item, seen)) in items.iter().zip(&seen).enumerate() {
            let state = ReviewState::derive(&view.verdicts(*item)?);
            let Some(standing) = state.undoable(&reviewer) else {
                let error = if seen.is_some() {
                    ReviewInputError::NothingToUndo { reviewer: reviewer.clone(), item: item.to_string() }
                } else {
                    ReviewInputError::UnknownItem(item.to_string())
                };
                rejected.push(reject(row, *item, error));
                continue;
            };
            let (model, score) =
                seen.clone().unwrap_or_else(|| (ModelRef { id: "unknown".to_owned(), version: String::new() }, None));
            pending.push(VerdictEvent {
                seq: 0,
                item: *item,
                action: ReviewAction::Undo,
                verdict: standing.verdict.clone(),
                reviewer: reviewer.clone(),
                time: now,
                note: None,
                undoes: Some(standing.seq),
                model,
                score,
            });
        }
        let (recorded, writes) = append(view, pending)?;
        outcome = RecordedVerdicts { recorded, rejected };
        Ok(writes)
    })?;
    Ok(outcome)
}

/// The review queue: unreviewed items matching the request's query (its `review_state` is set
/// to unreviewed), at most its limit, in its order, each with its live campaign.
///
/// # Errors
/// Storage failures or a corrupt record.
pub fn review_queue<S: ReviewStore + ?Sized>(store: &S, request: &QueueRequest) -> Result<Vec<QueueEntry>> {
    let query = ItemQuery { review_state: ReviewFilter::Unreviewed, ..request.query.clone() };
    let order = if request.campaign.is_some() { QueueOrder::CampaignSize } else { request.order };
    let limit = query.limit.unwrap_or(usize::MAX);
    let heads: std::collections::HashMap<CampaignId, CampaignHead> =
        store.campaign_heads()?.into_iter().map(|head| (head.id, head)).collect();
    let mut entries: Vec<QueueEntry> = Vec::new();
    if order == QueueOrder::CampaignSize {
        let mut live: Vec<&CampaignHead> = heads
            .values()
            .filter(|head| head.status == CampaignStatus::Active)
            .filter(|head| request.campaign.is_none_or(|wanted| head.id == wanted))
            .collect();
        live.sort_by_key(|head| (std::cmp::Reverse(head.size), head.id));
        for head in live {
            if entries.len() >= limit {
                break;
            }
            let mut members = Vec::new();
            for member in store.campaign_members(head.id, None)? {
                let Ok(id) = member.id.parse::<ItemId>() else { continue };
                if store.get_record(REVIEWED_TREE, id.as_bytes())?.is_some() {
                    continue;
                }
                if let Some(scored) = store.get(id)? {
                    if query.matches(&scored) {
                        members.push(scored);
                    }
                }
            }
            members.sort_by(|a, b| b.classification.score.total_cmp(&a.classification.score));
            let campaign = Some(CampaignRef { id: head.id, size: head.size });
            entries.extend(members.into_iter().map(|scored| QueueEntry { scored, campaign }));
        }
        entries.truncate(limit);
    }
    // A campaign's queue is its members only.
    if entries.len() < limit && request.campaign.is_none() {
        let seen: std::collections::HashSet<ItemId> = entries.iter().map(|e| e.scored.item.id).collect();
        let rest = ItemQuery {
            order: infodemic_core::SortOrder::Score,
            limit: Some(limit - entries.len() + seen.len()),
            ..query
        };
        for scored in store.query(&rest)? {
            if entries.len() >= limit {
                break;
            }
            if seen.contains(&scored.item.id) {
                continue;
            }
            let campaign = live_campaign(store, &scored.item.id.to_string(), &heads)?;
            if order == QueueOrder::CampaignSize && campaign.is_some() {
                // Listed above with its campaign, unless the filters left it out there.
                continue;
            }
            entries.push(QueueEntry { scored, campaign });
        }
    }
    Ok(entries)
}

/// The campaign an item belongs to now, following merges.
fn live_campaign<S: CampaignReader + ?Sized>(
    store: &S,
    member: &str,
    heads: &std::collections::HashMap<CampaignId, CampaignHead>,
) -> Result<Option<CampaignRef>> {
    let Some(mut id) = store.campaign_of(member)? else { return Ok(None) };
    for _ in 0..MAX_MERGE_HOPS {
        match heads.get(&id) {
            Some(head) => match head.status {
                CampaignStatus::Active => return Ok(Some(CampaignRef { id, size: head.size })),
                CampaignStatus::Merged { into } => id = into,
            },
            None => return Ok(None),
        }
    }
    Ok(None)
}

/// The model and score an item carries now.
fn seen_by_reviewer<S: ItemReader + ?Sized>(store: &S, item: ItemId) -> Result<Option<(ModelRef, Option<f32>)>> {
    Ok(store.get(item)?.map(|scored| (scored.classification.model.clone(), scored.classification.shown_score())))
}

/// The event a row becomes, or why it cannot.
fn check_verdict<S: ItemReader + ?Sized>(
    store: &S,
    verdict: &NewVerdict,
    scale: &VerdictScale,
    now: DateTime<Utc>,
) -> Result<std::result::Result<VerdictEvent, ReviewInputError>> {
    let checked = scale
        .parse(&verdict.verdict)
        .and_then(|name| Ok((name, check_reviewer(&verdict.reviewer)?, check_note(verdict.note.as_deref())?)));
    let (name, reviewer, note) = match checked {
        Ok(checked) => checked,
        Err(error) => return Ok(Err(error)),
    };
    let Some((model, score)) = seen_by_reviewer(store, verdict.item)? else {
        return Ok(Err(ReviewInputError::UnknownItem(verdict.item.to_string())));
    };
    Ok(Ok(VerdictEvent {
        seq: 0,
        item: verdict.item,
        action: ReviewAction::Verdict,
        verdict: name,
        reviewer,
        time: now,
        note,
        undoes: None,
        model,
        score,
    }))
}

/// Gives each event its sequence number, and derives each touched item's head from its log
/// and this batch: the events, and the writes that store them and the heads.
fn append(view: &dyn LogView, pending: Vec<VerdictEvent>) -> Result<(Vec<VerdictEvent>, Vec<TreeWrite>)> {
    if pending.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let mut events: Vec<VerdictEvent> = Vec::with_capacity(pending.len());
    for mut event in pending {
        event.seq = view.next_seq()?;
        events.push(event);
    }
    let mut writes: Vec<TreeWrite> =
        events.iter().map(|e| TreeWrite::put(EVENTS_TREE, &event_key(e.item, e.seq), encode_event(e))).collect();
    let mut done = std::collections::BTreeSet::new();
    for item in events.iter().map(|e| e.item) {
        if !done.insert(item) {
            continue;
        }
        let mut log = view.verdicts(item)?;
        log.extend(events.iter().filter(|e| e.item == item).cloned());
        writes.push(match head_record(&ReviewState::derive(&log)) {
            Some(bytes) => TreeWrite::put(REVIEWED_TREE, item.as_bytes(), bytes),
            None => TreeWrite::remove(REVIEWED_TREE, item.as_bytes()),
        });
    }
    Ok((events, writes))
}

/// Copies every verdict event of `source` into `target`, as stored, `page` entries per
/// transaction, then derives the head of each item concerned from the target's whole log (which
/// may hold verdicts recorded there since an earlier copy). Returns the events copied. A copy
/// interrupted and run again writes the same records again.
///
/// # Errors
/// Storage failures of either side; pages written before stay.
pub fn copy<S: RecordTrees + ?Sized, T: RecordTrees + ?Sized>(source: &S, target: &T, page: usize) -> Result<usize> {
    let entries = source.scan_records(EVENTS_TREE, &[], None)?;
    let mut items = std::collections::BTreeSet::new();
    for chunk in entries.chunks(page.max(1)) {
        let mut writes = Vec::with_capacity(chunk.len());
        for (key, value) in chunk {
            items.insert(decode_event(value)?.item);
            writes.push(TreeWrite::put(EVENTS_TREE, key, value.clone()));
        }
        target.write_records(&writes)?;
    }
    let items: Vec<ItemId> = items.into_iter().collect();
    for chunk in items.chunks(page.max(1)) {
        let mut writes = Vec::with_capacity(chunk.len());
        for item in chunk {
            writes.push(match head_record(&ReviewState::derive(&verdicts(target, *item)?)) {
                Some(bytes) => TreeWrite::put(REVIEWED_TREE, item.as_bytes(), bytes),
                None => TreeWrite::remove(REVIEWED_TREE, item.as_bytes()),
            });
        }
        target.write_records(&writes)?;
    }
    Ok(entries.len())
}

/// The logs of the embedded store, read while `review_lock` is held.
struct SledLogView<'a>(&'a SledStore);

impl LogView for SledLogView<'_> {
    fn verdicts(&self, item: ItemId) -> Result<Vec<VerdictEvent>> {
        verdicts(self.0, item)
    }

    fn next_seq(&self) -> Result<u64> {
        Ok(self.0.db.generate_id()?)
    }
}

impl ReviewStore for SledStore {
    fn append_locked(&self, derive: &mut dyn FnMut(&dyn LogView) -> Result<Vec<TreeWrite>>) -> Result<()> {
        // One writer per process, and sled allows one process: the logs read are the logs
        // written over.
        let _guard = self.review_lock.lock().unwrap_or_else(PoisonError::into_inner);
        let writes = derive(&SledLogView(self))?;
        if writes.is_empty() {
            return Ok(());
        }
        self.write_records(&writes)?;
        self.db.flush()?;
        Ok(())
    }
}

impl SledStore {
    /// Every event of an item's log, oldest first.
    ///
    /// # Errors
    /// sled failures or a corrupt record.
    pub fn verdicts(&self, item: ItemId) -> Result<Vec<VerdictEvent>> {
        verdicts(self, item)
    }

    /// The derived state of every reviewed item, by item id, at most `limit`.
    ///
    /// # Errors
    /// sled failures or a corrupt record.
    pub fn review_heads(&self, limit: Option<usize>) -> Result<Vec<ReviewHead>> {
        review_heads(self, limit)
    }

    /// One item's derived state, when it has a standing verdict.
    ///
    /// # Errors
    /// sled failures or a corrupt record.
    pub fn review_head(&self, item: ItemId) -> Result<Option<ReviewHead>> {
        review_head(self, item)
    }

    /// Whether the item has a standing verdict (what the queue's filter asks, item by item).
    pub(crate) fn is_reviewed(reviewed: &sled::Tree, item: ItemId) -> Result<bool> {
        Ok(reviewed.contains_key(item.as_bytes())?)
    }

    /// How many items have a standing verdict.
    ///
    /// # Errors
    /// sled failures.
    pub fn reviewed_count(&self) -> Result<usize> {
        reviewed_count(self)
    }

    /// Records a batch of verdicts at `now`. Each row is checked: the verdict must be on
    /// `scale`, the reviewer and note well formed, the item stored. The rows that pass are
    /// appended in one transaction, each with the model and score its item carries now (what
    /// the reviewer saw); the others are returned with their reasons. With `all_or_nothing`,
    /// one bad row means nothing is written.
    ///
    /// # Errors
    /// sled failures or a corrupt record; nothing of the batch is written then.
    pub fn record_verdicts(
        &self,
        batch: &[NewVerdict],
        scale: &VerdictScale,
        now: DateTime<Utc>,
        all_or_nothing: bool,
    ) -> Result<RecordedVerdicts> {
        record_verdicts(self, batch, scale, now, all_or_nothing)
    }

    /// Withdraws `reviewer`'s standing verdict on each of `items` (an undo event each); the
    /// item's earlier verdict by that reviewer, if any, stands again. Items where the reviewer
    /// has nothing standing are returned as rejected.
    ///
    /// # Errors
    /// sled failures or a corrupt record; nothing is written then.
    pub fn undo_verdicts(&self, items: &[ItemId], reviewer: &str, now: DateTime<Utc>) -> Result<RecordedVerdicts> {
        undo_verdicts(self, items, reviewer, now)
    }

    /// The review queue (see [`review_queue`]).
    ///
    /// # Errors
    /// sled failures or a corrupt record.
    pub fn review_queue(&self, request: &QueueRequest) -> Result<Vec<QueueEntry>> {
        review_queue(self, request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_records_are_errors_not_panics() {
        assert!(decode_event(&[]).is_err());
        assert!(decode_event(&[9, 1, 2]).is_err());
        assert!(decode_head(&[1; 8], &[HEAD_VERSION, 0xff]).is_err());
        assert!(decode_head(&[1; 3], &[HEAD_VERSION]).is_err());
    }
}
