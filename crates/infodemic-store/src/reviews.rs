//! Reviewers' verdicts: an append-only log per item, and a derived head per reviewed item.
//!
//! Trees: `verdict_events` (item + sequence → event; never rewritten or removed) and
//! `reviewed` (item → the current verdict derived from its log, for queues, filters and
//! exports that must not replay every log). Both are written in one transaction per batch,
//! under a lock that keeps two batches on the same item from deriving heads from the same
//! stale log.

use std::sync::PoisonError;

use chrono::{DateTime, Utc};
use infodemic_core::review::{check_note, check_reviewer};
use infodemic_core::{
    Agreement, CampaignHead, CampaignId, CampaignRef, CampaignStatus, ItemId, ItemQuery, ModelRef, NewVerdict,
    QueueEntry, QueueOrder, QueueRequest, RecordedVerdicts, RejectedVerdict, ReviewAction, ReviewFilter,
    ReviewInputError, ReviewState, VerdictEvent, VerdictScale,
};
use serde::{Deserialize, Serialize};
use sled::transaction::ConflictableTransactionError;
use sled::Transactional;

use crate::records;
use crate::{ItemReader, Result, SledStore, StoreError};

/// Merges followed at most this far when resolving an item's live campaign (merges chain
/// younger into older campaigns, so chains are short; the bound guards a corrupt cycle).
const MAX_MERGE_HOPS: usize = 32;

const EVENT_VERSION: u8 = 1;
const HEAD_VERSION: u8 = 1;
const EVENTS_TREE: &str = "verdict_events";
const REVIEWED_TREE: &str = "reviewed";

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

fn decode_event(bytes: &[u8]) -> Result<VerdictEvent> {
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

impl SledStore {
    /// Every event of an item's log, oldest first.
    ///
    /// # Errors
    /// sled failures or a corrupt record.
    pub fn verdicts(&self, item: ItemId) -> Result<Vec<VerdictEvent>> {
        let mut events = Vec::new();
        for entry in self.tree(EVENTS_TREE)?.scan_prefix(item.as_bytes()) {
            events.push(decode_event(&entry?.1)?);
        }
        Ok(events)
    }

    /// The derived state of every reviewed item, by item id, at most `limit`.
    ///
    /// # Errors
    /// sled failures or a corrupt record.
    pub fn review_heads(&self, limit: Option<usize>) -> Result<Vec<ReviewHead>> {
        let mut heads = Vec::new();
        for entry in self.tree(REVIEWED_TREE)?.iter().take(limit.unwrap_or(usize::MAX)) {
            let (key, value) = entry?;
            heads.push(decode_head(&key, &value)?);
        }
        Ok(heads)
    }

    /// One item's derived state, when it has a standing verdict.
    ///
    /// # Errors
    /// sled failures or a corrupt record.
    pub fn review_head(&self, item: ItemId) -> Result<Option<ReviewHead>> {
        self.tree(REVIEWED_TREE)?.get(item.as_bytes())?.map(|bytes| decode_head(item.as_bytes(), &bytes)).transpose()
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
        Ok(self.tree(REVIEWED_TREE)?.len())
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
        let _guard = self.review_lock.lock().unwrap_or_else(PoisonError::into_inner);
        let mut pending = Vec::new();
        let mut rejected = Vec::new();
        for (row, verdict) in batch.iter().enumerate() {
            match self.check_verdict(verdict, scale, now)? {
                Ok(event) => pending.push(event),
                Err(error) => {
                    rejected.push(RejectedVerdict { row, item: verdict.item.to_string(), error: error.to_string() })
                }
            }
        }
        if all_or_nothing && !rejected.is_empty() {
            return Ok(RecordedVerdicts { recorded: Vec::new(), rejected });
        }
        let recorded = self.append(pending)?;
        Ok(RecordedVerdicts { recorded, rejected })
    }

    /// Withdraws `reviewer`'s standing verdict on each of `items` (an undo event each); the
    /// item's earlier verdict by that reviewer, if any, stands again. Items where the reviewer
    /// has nothing standing are returned as rejected.
    ///
    /// # Errors
    /// sled failures or a corrupt record; nothing is written then.
    pub fn undo_verdicts(&self, items: &[ItemId], reviewer: &str, now: DateTime<Utc>) -> Result<RecordedVerdicts> {
        let _guard = self.review_lock.lock().unwrap_or_else(PoisonError::into_inner);
        let mut pending = Vec::new();
        let mut rejected = Vec::new();
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
        for (row, item) in items.iter().enumerate() {
            let state = ReviewState::derive(&self.verdicts(*item)?);
            let Some(standing) = state.undoable(&reviewer) else {
                let error = if self.items_tree().contains_key(item.as_bytes())? {
                    ReviewInputError::NothingToUndo { reviewer: reviewer.clone(), item: item.to_string() }
                } else {
                    ReviewInputError::UnknownItem(item.to_string())
                };
                rejected.push(reject(row, *item, error));
                continue;
            };
            let (model, score) = self
                .seen_by_reviewer(*item)?
                .unwrap_or_else(|| (ModelRef { id: "unknown".to_owned(), version: String::new() }, None));
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
        let recorded = self.append(pending)?;
        Ok(RecordedVerdicts { recorded, rejected })
    }

    /// The review queue: unreviewed items matching the request's query (its `review_state`
    /// is set to unreviewed), at most its limit, in its order, each with its live campaign.
    ///
    /// # Errors
    /// sled failures or a corrupt record.
    pub fn review_queue(&self, request: &QueueRequest) -> Result<Vec<QueueEntry>> {
        let query = ItemQuery { review_state: ReviewFilter::Unreviewed, ..request.query.clone() };
        let order = if request.campaign.is_some() { QueueOrder::CampaignSize } else { request.order };
        let limit = query.limit.unwrap_or(usize::MAX);
        let heads: std::collections::HashMap<CampaignId, CampaignHead> =
            self.campaign_heads()?.into_iter().map(|head| (head.id, head)).collect();
        let mut entries: Vec<QueueEntry> = Vec::new();
        if order == QueueOrder::CampaignSize {
            let reviewed = self.tree(REVIEWED_TREE)?;
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
                for member in self.campaign_members(head.id, None)? {
                    let Ok(id) = member.id.parse::<ItemId>() else { continue };
                    if Self::is_reviewed(&reviewed, id)? {
                        continue;
                    }
                    if let Some(scored) = self.get(id)? {
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
            for scored in self.query(&rest)? {
                if entries.len() >= limit {
                    break;
                }
                if seen.contains(&scored.item.id) {
                    continue;
                }
                let campaign = self.live_campaign(&scored.item.id.to_string(), &heads)?;
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
    fn live_campaign(
        &self,
        member: &str,
        heads: &std::collections::HashMap<CampaignId, CampaignHead>,
    ) -> Result<Option<CampaignRef>> {
        let Some(mut id) = self.campaign_of(member)? else { return Ok(None) };
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
    fn seen_by_reviewer(&self, item: ItemId) -> Result<Option<(ModelRef, Option<f32>)>> {
        let Some(bytes) = self.items_tree().get(item.as_bytes())? else { return Ok(None) };
        let scored = records::decode_item(&bytes)?;
        Ok(Some((scored.classification.model.clone(), scored.classification.shown_score())))
    }

    /// The event a row becomes, or why it cannot.
    fn check_verdict(
        &self,
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
        let Some((model, score)) = self.seen_by_reviewer(verdict.item)? else {
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

    /// Gives each event its sequence number and writes events and heads in one transaction.
    /// The caller holds `review_lock`, so the logs read here are the logs written over.
    fn append(&self, pending: Vec<VerdictEvent>) -> Result<Vec<VerdictEvent>> {
        if pending.is_empty() {
            return Ok(Vec::new());
        }
        let mut events: Vec<VerdictEvent> = Vec::with_capacity(pending.len());
        for mut event in pending {
            event.seq = self.db.generate_id()?;
            events.push(event);
        }
        // Each touched item's head, from its stored log and this batch's events.
        let mut heads: std::collections::BTreeMap<ItemId, Option<Vec<u8>>> = std::collections::BTreeMap::new();
        for item in events.iter().map(|e| e.item) {
            if heads.contains_key(&item) {
                continue;
            }
            let mut log = self.verdicts(item)?;
            log.extend(events.iter().filter(|e| e.item == item).cloned());
            heads.insert(item, head_record(&ReviewState::derive(&log)));
        }
        let trees = (&self.tree(EVENTS_TREE)?, &self.tree(REVIEWED_TREE)?);
        trees.transaction(|(log, reviewed)| {
            for event in &events {
                log.insert(event_key(event.item, event.seq), encode_event(event))?;
            }
            for (item, head) in &heads {
                match head {
                    Some(bytes) => reviewed.insert(item.as_bytes().as_slice(), bytes.as_slice())?,
                    None => reviewed.remove(item.as_bytes().as_slice())?,
                };
            }
            Ok::<_, ConflictableTransactionError<StoreError>>(())
        })?;
        self.db.flush()?;
        Ok(events)
    }
}

#[cfg(test)]
mod tests {
    use infodemic_core::{ItemQuery, SortOrder};

    use super::*;
    use crate::ItemReader;

    fn open_with_items(scores: &[f32]) -> (tempfile::TempDir, SledStore, Vec<ItemId>) {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = SledStore::open(&dir.path().join("store")).unwrap();
        let items: Vec<_> = scores
            .iter()
            .enumerate()
            .map(|(i, score)| {
                crate::sled_store::tests::scored(&format!("https://example.org/{i}"), "who", i as i64, *score)
            })
            .collect();
        store.commit(&items, &[], &[]).unwrap();
        let ids = items.iter().map(|s| s.item.id).collect();
        (dir, store, ids)
    }

    fn verdict(item: ItemId, verdict: &str, reviewer: &str) -> NewVerdict {
        NewVerdict { item, verdict: verdict.to_owned(), reviewer: reviewer.to_owned(), note: None }
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    #[test]
    fn verdicts_append_and_the_head_follows_the_log() {
        let (_dir, store, ids) = open_with_items(&[0.9, 0.2]);
        let scale = VerdictScale::default();
        let first = store.record_verdicts(&[verdict(ids[0], "false", "ana")], &scale, now(), false).unwrap();
        assert_eq!(first.recorded.len(), 1);
        assert_eq!(first.recorded[0].score, Some(0.9), "the score the reviewer saw is kept");
        store.record_verdicts(&[verdict(ids[0], "true", "ben")], &scale, now(), false).unwrap();
        let log = store.verdicts(ids[0]).unwrap();
        assert_eq!(log.iter().map(|e| e.verdict.as_str()).collect::<Vec<_>>(), ["false", "true"]);
        assert!(log[0].seq < log[1].seq);
        let head = store.review_head(ids[0]).unwrap().unwrap();
        assert_eq!((head.current.as_str(), head.agreement, head.reviewers), ("true", Agreement::Disagreed, 2));
        assert_eq!(store.review_head(ids[1]).unwrap(), None);
    }

    #[test]
    fn bad_rows_are_reported_and_good_rows_kept_unless_all_or_nothing() {
        let (_dir, store, ids) = open_with_items(&[0.9, 0.8]);
        let scale = VerdictScale::default();
        let batch = [
            verdict(ids[0], "false", "ana"),
            verdict(ids[1], "fake-news", "ana"),
            verdict(ItemId([9; 8]), "false", "ana"),
            verdict(ids[1], "true", ""),
        ];
        let strict = store.record_verdicts(&batch, &scale, now(), true).unwrap();
        assert!(strict.recorded.is_empty());
        assert_eq!(store.reviewed_count().unwrap(), 0, "nothing written");
        let outcome = store.record_verdicts(&batch, &scale, now(), false).unwrap();
        assert_eq!(outcome.recorded.len(), 1);
        let rows: Vec<usize> = outcome.rejected.iter().map(|r| r.row).collect();
        assert_eq!(rows, [1, 2, 3]);
        assert!(outcome.rejected[0].error.contains("unknown verdict `fake-news`"), "{:?}", outcome.rejected);
        assert!(outcome.rejected[1].error.contains("no item with id 0909090909090909"));
        assert!(outcome.rejected[2].error.contains("reviewer name"));
    }

    #[test]
    fn undo_withdraws_the_reviewers_verdict_and_is_itself_logged() {
        let (_dir, store, ids) = open_with_items(&[0.9]);
        let scale = VerdictScale::default();
        store.record_verdicts(&[verdict(ids[0], "false", "ana")], &scale, now(), false).unwrap();
        store.record_verdicts(&[verdict(ids[0], "misleading", "ana")], &scale, now(), false).unwrap();
        let undone = store.undo_verdicts(&ids, "ana", now()).unwrap();
        assert_eq!(undone.recorded[0].verdict, "misleading");
        assert_eq!(store.review_head(ids[0]).unwrap().unwrap().current, "false");
        store.undo_verdicts(&ids, "ana", now()).unwrap();
        assert_eq!(store.review_head(ids[0]).unwrap(), None, "nothing stands");
        assert_eq!(store.verdicts(ids[0]).unwrap().len(), 4, "the log keeps everything");
        let nothing = store.undo_verdicts(&ids, "ana", now()).unwrap();
        assert!(nothing.rejected[0].error.contains("no standing verdict"), "{nothing:?}");
        let unknown = store.undo_verdicts(&[ItemId([7; 8])], "ana", now()).unwrap();
        assert!(unknown.rejected[0].error.contains("no item"), "{unknown:?}");
    }

    #[test]
    fn the_queue_leaves_out_reviewed_items() {
        let (_dir, store, ids) = open_with_items(&[0.9, 0.8, 0.7]);
        store.record_verdicts(&[verdict(ids[0], "false", "ana")], &VerdictScale::default(), now(), false).unwrap();
        let query = ItemQuery {
            order: SortOrder::Score,
            review_state: infodemic_core::ReviewFilter::Unreviewed,
            limit: Some(10),
            ..ItemQuery::default()
        };
        let queue: Vec<ItemId> = store.query(&query).unwrap().iter().map(|s| s.item.id).collect();
        assert_eq!(queue, [ids[1], ids[2]]);
        let request =
            QueueRequest { query: ItemQuery { limit: Some(10), ..ItemQuery::default() }, ..Default::default() };
        let entries: Vec<ItemId> = store.review_queue(&request).unwrap().iter().map(|e| e.scored.item.id).collect();
        assert_eq!(entries, [ids[1], ids[2]], "highest score first, reviewed left out");
        let reviewed = ItemQuery { review_state: infodemic_core::ReviewFilter::Reviewed, ..query };
        let done: Vec<ItemId> = store.query(&reviewed).unwrap().iter().map(|s| s.item.id).collect();
        assert_eq!(done, [ids[0]]);
    }

    #[test]
    fn corrupt_records_are_errors_not_panics() {
        assert!(decode_event(&[]).is_err());
        assert!(decode_event(&[9, 1, 2]).is_err());
        assert!(decode_head(&[1; 8], &[HEAD_VERSION, 0xff]).is_err());
        assert!(decode_head(&[1; 3], &[HEAD_VERSION]).is_err());
    }
}
