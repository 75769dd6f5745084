//! [`SledStore`]: the sled-backed implementation.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use infodemic_core::{
    Appearance, ContentHash, DebunkedClaim, FeedSpec, FeedState, ItemId, ItemQuery, ScoredItem, SortOrder,
};
use sled::transaction::ConflictableTransactionError;
use sled::Transactional;

use crate::migrations::{self, SchemaOutcome, CURRENT_SCHEMA};
use crate::records::{
    self, StoredAppearanceV1, StoredClaimV1, StoredSubscriptionV1, APPEARANCE_VERSION, CLAIM_VERSION,
    SUBSCRIPTION_VERSION,
};
use crate::{keys, ItemReader, Result, StoreError, StoreStats};

const SCHEMA_KEY: &[u8] = b"schema_version";
/// Page cache of the database.
const STORE_CACHE_BYTES: u64 = 128 * 1024 * 1024;

/// Ends an index walk early (scores below the minimum).
type StopBelow = dyn Fn(&[u8]) -> bool;

/// The store, open for the life of the process (sled wants one long-lived handle per
/// database and one process per directory).
#[derive(Clone, Debug)]
pub struct SledStore {
    path: PathBuf,
    db: sled::Db,
    meta: sled::Tree,
    items: sled::Tree,
    by_url: sled::Tree,
    by_hash: sled::Tree,
    by_time: sled::Tree,
    by_score: sled::Tree,
    by_source: sled::Tree,
    feeds: sled::Tree,
    claims: sled::Tree,
    subscriptions: sled::Tree,
    by_simhash: sled::Tree,
    appearances: sled::Tree,
}

/// What a [`SledStore::commit`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CommitReport {
    /// Items written.
    pub inserted: usize,
    /// Items skipped because their URL or content was already stored.
    pub duplicates: usize,
}

impl SledStore {
    /// Opens (or creates) the store in `path`, checks its schema version and migrates older
    /// data.
    ///
    /// # Errors
    /// [`StoreError::Locked`] when another process holds the directory,
    /// [`StoreError::SchemaTooNew`] for data from a newer build, and sled failures.
    pub fn open(path: &Path) -> Result<(Self, SchemaOutcome)> {
        // sled caches 1 GiB by default; the indexes are small and the OS caches the rest.
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(STORE_CACHE_BYTES)
            .open()
            .map_err(|e| open_error(path, &e))?;
        let tree = |name: &str| db.open_tree(name);
        let store = Self {
            path: path.to_path_buf(),
            meta: tree("meta")?,
            items: tree("items")?,
            by_url: tree("idx_url")?,
            by_hash: tree("idx_hash")?,
            by_time: tree("idx_time")?,
            by_score: tree("idx_score")?,
            by_source: tree("idx_source")?,
            feeds: tree("feeds")?,
            claims: tree("claims")?,
            subscriptions: tree("subscriptions")?,
            by_simhash: tree("idx_simhash")?,
            appearances: tree("appearances")?,
            db,
        };
        let outcome = store.check_schema()?;
        Ok((store, outcome))
    }

    fn check_schema(&self) -> Result<SchemaOutcome> {
        let found = match self.meta.get(SCHEMA_KEY)? {
            Some(bytes) => {
                let array: [u8; 4] = bytes.as_ref().try_into().map_err(|_| StoreError::Corrupt {
                    tree: "meta",
                    message: "schema_version is not 4 bytes".to_owned(),
                })?;
                Some(u32::from_be_bytes(array))
            }
            None => None,
        };
        let outcome = match found {
            None if self.items.is_empty() && self.feeds.is_empty() => SchemaOutcome::Created,
            // Items without a version stamp can only come from before stamping existed.
            None => migrations::migrate(&self.db, 0)?,
            Some(v) if v == CURRENT_SCHEMA => return Ok(SchemaOutcome::Current),
            Some(v) if v > CURRENT_SCHEMA => {
                return Err(StoreError::SchemaTooNew { found: v, supported: CURRENT_SCHEMA })
            }
            Some(v) => migrations::migrate(&self.db, v)?,
        };
        self.meta.insert(SCHEMA_KEY, &CURRENT_SCHEMA.to_be_bytes())?;
        self.db.flush()?;
        Ok(outcome)
    }

    /// Where the database lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The id of the item stored under this canonical URL, if any.
    ///
    /// # Errors
    /// sled failures.
    pub fn id_for_url(&self, canonical_url: &str) -> Result<Option<ItemId>> {
        Ok(self.by_url.get(canonical_url.as_bytes())?.and_then(|v| keys::id_suffix(&v)))
    }

    /// The id of the item stored with this content hash, if any.
    ///
    /// # Errors
    /// sled failures.
    pub fn id_for_content(&self, hash: ContentHash) -> Result<Option<ItemId>> {
        Ok(self.by_hash.get(hash.0)?.and_then(|v| keys::id_suffix(&v)))
    }

    /// The stored state of one feed.
    ///
    /// # Errors
    /// sled or decoding failures.
    pub fn feed_state(&self, source: &str) -> Result<Option<FeedState>> {
        self.feeds.get(source.as_bytes())?.map(|v| records::decode_feed_state(&v)).transpose()
    }

    /// Writes `items` (skipping any whose canonical URL or content hash is already stored),
    /// `feed_states` and the `appearances` of copies found in the same run, in one atomic
    /// transaction, then flushes to disk.
    ///
    /// # Errors
    /// sled failures; nothing of the batch is written then.
    pub fn commit(
        &self,
        items: &[ScoredItem],
        feed_states: &[FeedState],
        appearances: &[Appearance],
    ) -> Result<CommitReport> {
        let encoded_appearances: Vec<(Vec<u8>, Vec<u8>)> = appearances
            .iter()
            .map(|a| {
                let record = records::encode(APPEARANCE_VERSION, &StoredAppearanceV1::from(a));
                (keys::appearance(a.item, &a.url), record)
            })
            .collect();
        let encoded: Vec<(&ScoredItem, Vec<u8>)> =
            items.iter().map(|scored| (scored, records::encode_item(scored))).collect();
        let encoded_states: Vec<(Vec<u8>, Vec<u8>)> = feed_states
            .iter()
            .map(|state| {
                let record = records::encode_feed_state(state);
                (state.source.as_str().as_bytes().to_vec(), record)
            })
            .collect();
        let trees = (
            &self.items,
            &self.by_url,
            &self.by_hash,
            &self.by_time,
            &self.by_score,
            &self.by_source,
            &self.feeds,
            &self.by_simhash,
            &self.appearances,
        );
        let report = trees.transaction(
            |(items, by_url, by_hash, by_time, by_score, by_source, feeds, by_simhash, appearance_tree)| {
                let mut report = CommitReport::default();
                for (scored, record) in &encoded {
                    let item = &scored.item;
                    let id = item.id;
                    if by_url.get(item.canonical_url.as_bytes())?.is_some()
                        || by_hash.get(item.content_hash.0)?.is_some()
                    {
                        report.duplicates += 1;
                        continue;
                    }
                    let time = item.effective_time();
                    items.insert(id.as_bytes(), record.as_slice())?;
                    by_url.insert(item.canonical_url.as_bytes(), id.as_bytes())?;
                    by_hash.insert(&item.content_hash.0, id.as_bytes())?;
                    by_time.insert(keys::by_time(time, id), &[])?;
                    // Unsupported languages have no meaningful score: they sort last.
                    let score = scored.classification.shown_score().unwrap_or(0.0);
                    by_score.insert(keys::by_score(score, id), &[])?;
                    by_source.insert(keys::by_source(item.source.as_str(), time, id), &[])?;
                    if let Some(simhash) = item.simhash {
                        by_simhash.insert(keys::by_time(time, id), &simhash.to_be_bytes())?;
                    }
                    report.inserted += 1;
                }
                for (key, record) in &encoded_states {
                    feeds.insert(key.as_slice(), record.as_slice())?;
                }
                for (key, record) in &encoded_appearances {
                    appearance_tree.insert(key.as_slice(), record.as_slice())?;
                }
                Ok::<_, ConflictableTransactionError<StoreError>>(report)
            },
        )?;
        self.db.flush()?;
        Ok(report)
    }

    /// Adds debunked claims with their embeddings; claims already stored (same id) are kept
    /// as they are. Returns how many were new.
    ///
    /// # Errors
    /// sled failures; nothing of the batch is written then.
    pub fn put_claims(&self, claims: &[(DebunkedClaim, Vec<f32>)]) -> Result<usize> {
        let records: Vec<([u8; 8], Vec<u8>)> = claims
            .iter()
            .map(|(claim, embedding)| {
                (claim.id.0, records::encode(CLAIM_VERSION, &StoredClaimV1::new(claim, embedding)))
            })
            .collect();
        let added = self.claims.transaction(|tree| {
            let mut added = 0;
            for (key, record) in &records {
                if tree.get(key)?.is_none() {
                    tree.insert(key, record.as_slice())?;
                    added += 1;
                }
            }
            Ok::<_, ConflictableTransactionError<StoreError>>(added)
        })?;
        self.db.flush()?;
        Ok(added)
    }

    /// Every stored claim with its embedding.
    ///
    /// # Errors
    /// sled or decoding failures.
    pub fn claims(&self) -> Result<Vec<(DebunkedClaim, Vec<f32>)>> {
        self.claims.iter().map(|entry| records::decode_claim(&entry?.1)).collect()
    }

    /// Whether a claim with this id is stored.
    ///
    /// # Errors
    /// sled failures.
    pub fn has_claim(&self, id: infodemic_core::ClaimId) -> Result<bool> {
        Ok(self.claims.contains_key(id.0)?)
    }

    /// Number of stored claims.
    pub fn claim_count(&self) -> usize {
        self.claims.len()
    }

    /// Subscribes to a feed, replacing a subscription with the same id. Returns whether it
    /// is new.
    ///
    /// # Errors
    /// sled failures.
    pub fn put_subscription(&self, spec: &FeedSpec) -> Result<bool> {
        let record = records::encode(SUBSCRIPTION_VERSION, &StoredSubscriptionV1::from(spec));
        let previous = self.subscriptions.insert(spec.id.as_str().as_bytes(), record)?;
        self.db.flush()?;
        Ok(previous.is_none())
    }

    /// Unsubscribes; the feed's items and state stay. Returns whether it was subscribed.
    ///
    /// # Errors
    /// sled failures.
    pub fn remove_subscription(&self, id: &str) -> Result<bool> {
        let removed = self.subscriptions.remove(id.as_bytes())?.is_some();
        self.db.flush()?;
        Ok(removed)
    }

    /// Every subscribed feed, by id.
    ///
    /// # Errors
    /// sled or decoding failures.
    pub fn subscriptions(&self) -> Result<Vec<FeedSpec>> {
        self.subscriptions.iter().map(|entry| records::decode_subscription(&entry?.1)).collect()
    }

    /// Writes feed states alone (feeds that failed or brought nothing new).
    ///
    /// # Errors
    /// sled failures.
    pub fn put_feed_states(&self, feed_states: &[FeedState]) -> Result<()> {
        self.commit(&[], feed_states, &[]).map(|_| ())
    }

    /// SimHash fingerprints of items published (else fetched) since `since`, newest first:
    /// the candidates a new item may be a near-duplicate of.
    ///
    /// # Errors
    /// sled failures or a malformed index entry.
    pub fn recent_fingerprints(&self, since: chrono::DateTime<chrono::Utc>) -> Result<Vec<(u64, ItemId)>> {
        let start = keys::time_key(since).to_vec();
        let mut out = Vec::new();
        for entry in self.by_simhash.range(start..).rev() {
            let (key, value) = entry?;
            let id = keys::id_suffix(&key).ok_or_else(|| inconsistent("short simhash key"))?;
            let bytes: [u8; 8] = value.as_ref().try_into().map_err(|_| inconsistent("simhash value is not 8 bytes"))?;
            out.push((u64::from_be_bytes(bytes), id));
        }
        Ok(out)
    }

    /// Checks that every index entry points at a stored item and every item is indexed once
    /// in each index. Used by tests and by `infodemic` after an interrupted run.
    ///
    /// # Errors
    /// A description of the first inconsistency, as [`StoreError::Corrupt`].
    pub fn verify(&self) -> Result<usize> {
        let mut ids = HashSet::new();
        for entry in self.items.iter() {
            let (key, value) = entry?;
            let scored = records::decode_item(&value)?;
            if key.as_ref() != scored.item.id.as_bytes() {
                return Err(inconsistent("item stored under another id"));
            }
            let url_target = self.by_url.get(scored.item.canonical_url.as_bytes())?;
            if url_target.as_deref() != Some(scored.item.id.as_bytes().as_slice()) {
                return Err(inconsistent("item missing from idx_url"));
            }
            ids.insert(scored.item.id);
        }
        for (name, tree) in
            [("idx_time", &self.by_time), ("idx_score", &self.by_score), ("idx_source", &self.by_source)]
        {
            let mut seen = 0usize;
            for entry in tree.iter() {
                let (key, _) = entry?;
                let id = keys::id_suffix(&key).ok_or_else(|| inconsistent("short index key"))?;
                if !ids.contains(&id) {
                    return Err(inconsistent(&format!("{name} points at a missing item")));
                }
                seen += 1;
            }
            if seen != ids.len() {
                return Err(inconsistent(&format!("{name} has {seen} entries for {} items", ids.len())));
            }
        }
        if self.by_url.len() != ids.len() || self.by_hash.len() != ids.len() {
            return Err(inconsistent("url or hash index size differs from item count"));
        }
        Ok(ids.len())
    }

    fn load(&self, id: ItemId) -> Result<Option<ScoredItem>> {
        self.items.get(id.as_bytes())?.map(|v| records::decode_item(&v)).transpose()
    }

    /// Walks an index (newest or highest first) and keeps matching items up to the limit.
    fn collect<I>(&self, keys: I, query: &ItemQuery, stop_below: Option<&StopBelow>) -> Result<Vec<ScoredItem>>
    where
        I: Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>,
    {
        let limit = query.limit.unwrap_or(usize::MAX);
        let mut out = Vec::new();
        for entry in keys {
            if out.len() >= limit {
                break;
            }
            let (key, _) = entry?;
            if stop_below.is_some_and(|stop| stop(&key)) {
                break;
            }
            let Some(id) = keys::id_suffix(&key) else { continue };
            if let Some(scored) = self.load(id)? {
                if query.matches(&scored) {
                    out.push(scored);
                }
            }
        }
        Ok(out)
    }

    fn time_range(query: &ItemQuery) -> (Vec<u8>, Vec<u8>) {
        let start = query.since.map_or([0u8; 8], keys::time_key).to_vec();
        let end = query.until.map_or([0xffu8; 8], keys::time_key).to_vec();
        (start, end)
    }
}

fn inconsistent(message: &str) -> StoreError {
    StoreError::Corrupt { tree: "indexes", message: message.to_owned() }
}

fn open_error(path: &Path, error: &sled::Error) -> StoreError {
    if let sled::Error::Io(io) = error {
        // sled takes an exclusive advisory lock (flock) on the database file.
        let held = io.kind() == std::io::ErrorKind::WouldBlock || io.to_string().contains("lock");
        if held {
            return StoreError::Locked { path: path.to_path_buf() };
        }
    }
    StoreError::Open { path: path.to_path_buf(), message: error.to_string() }
}

impl ItemReader for SledStore {
    fn get(&self, id: ItemId) -> Result<Option<ScoredItem>> {
        self.load(id)
    }

    fn query(&self, query: &ItemQuery) -> Result<Vec<ScoredItem>> {
        match query.order {
            SortOrder::Newest if !query.sources.is_empty() => {
                // Per-source index ranges, merged newest first.
                let (start, end) = Self::time_range(query);
                let mut keyed: Vec<(DateTime<Utc>, ScoredItem)> = Vec::new();
                let unlimited = ItemQuery { limit: None, ..query.clone() };
                for source in &query.sources {
                    let prefix = keys::source_prefix(source.as_str());
                    let range = [prefix.as_slice(), &start].concat()..[prefix.as_slice(), &end].concat();
                    for scored in self.collect(self.by_source.range(range).rev(), &unlimited, None)? {
                        keyed.push((scored.item.effective_time(), scored));
                    }
                }
                keyed.sort_by_key(|(time, _)| std::cmp::Reverse(*time));
                Ok(keyed.into_iter().map(|(_, s)| s).take(query.limit.unwrap_or(usize::MAX)).collect())
            }
            SortOrder::Newest => {
                let (start, end) = Self::time_range(query);
                self.collect(self.by_time.range(start..end).rev(), query, None)
            }
            SortOrder::Score => {
                let min_key = keys::score_key(query.min_score.unwrap_or(0.0));
                let below = move |key: &[u8]| key.get(..4).is_some_and(|k| k < min_key.as_slice());
                self.collect(self.by_score.iter().rev(), query, Some(&below))
            }
        }
    }

    fn stats(&self) -> Result<StoreStats> {
        let mut stats = StoreStats::default();
        for entry in self.items.iter() {
            let (_, value) = entry?;
            let scored = records::decode_item(&value)?;
            let flagged = scored.classification.flagged;
            stats.total.add(flagged);
            stats.per_day.entry(scored.item.effective_time().date_naive()).or_default().add(flagged);
            stats.per_source.entry(scored.item.source.as_str().to_owned()).or_default().add(flagged);
            *stats.per_label.entry(scored.classification.label().as_str().to_owned()).or_default() += 1;
            let language = scored.item.language.clone().unwrap_or_else(|| "unknown".to_owned());
            stats.per_language.entry(language).or_default().add(flagged);
        }
        stats.claims = self.claims.len() as u64;
        for state in self.feed_states()? {
            stats.feeds += 1;
            stats.feeds_failing += u64::from(state.last_error.is_some());
        }
        Ok(stats)
    }

    fn appearances(&self, id: ItemId) -> Result<Vec<Appearance>> {
        self.appearances.scan_prefix(id.as_bytes()).map(|entry| records::decode_appearance(&entry?.1)).collect()
    }

    fn feed_states(&self) -> Result<Vec<FeedState>> {
        self.feeds.iter().map(|entry| records::decode_feed_state(&entry?.1)).collect()
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};
    use infodemic_core::{Classification, Item, ModelRef, SourceId};

    use super::*;

    fn scored(url: &str, source: &str, days_ago: i64, score: f32) -> ScoredItem {
        let now = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
        let title = format!("title of {url}");
        ScoredItem {
            item: Item {
                id: ItemId::from_canonical_url(url),
                url: url.to_owned(),
                canonical_url: url.to_owned(),
                content_hash: ContentHash::of(&title, "body"),
                title,
                text: "body".to_owned(),
                published: Some(now - Duration::days(days_ago)),
                fetched_at: now,
                author: None,
                source: SourceId::new(source).unwrap(),
                language: Some("en".to_owned()),
                links: vec!["https://shared.example.org/study".to_owned()],
                simhash: Some(0x0123_4567_89ab_cdef),
            },
            classification: Classification {
                score,
                flagged: score >= 0.5,
                review: score >= 0.5,
                embedding: vec![0.6, 0.8],
                model: ModelRef { id: "m".to_owned(), version: "1".to_owned() },
                language: Some("en".to_owned()),
                language_supported: true,
                evidence: Vec::new(),
                claim_match: None,
                claim: None,
                refute: None,
                reasons: Vec::new(),
            },
        }
    }

    fn open() -> (tempfile::TempDir, SledStore) {
        let dir = tempfile::tempdir().unwrap();
        let (store, outcome) = SledStore::open(&dir.path().join("db")).unwrap();
        assert_eq!(outcome, SchemaOutcome::Created);
        (dir, store)
    }

    #[test]
    fn commit_round_trips_and_dedupes_by_url_and_content() {
        let (_dir, store) = open();
        let a = scored("https://e.org/a", "s1", 1, 0.9);
        let report = store.commit(std::slice::from_ref(&a), &[], &[]).unwrap();
        assert_eq!(report, CommitReport { inserted: 1, duplicates: 0 });
        assert_eq!(store.get(a.item.id).unwrap(), Some(a.clone()));

        // Same URL again, and same content under another URL: both duplicates.
        let mut copy = scored("https://mirror.org/a", "s2", 1, 0.9);
        copy.item.content_hash = a.item.content_hash;
        let report = store.commit(&[a, copy], &[], &[]).unwrap();
        assert_eq!(report, CommitReport { inserted: 0, duplicates: 2 });
        assert_eq!(store.verify().unwrap(), 1);
    }

    #[test]
    fn queries_filter_and_order() {
        let (_dir, store) = open();
        let items = [
            scored("https://e.org/old", "s1", 10, 0.95),
            scored("https://e.org/new", "s1", 0, 0.2),
            scored("https://e.org/mid", "s2", 5, 0.7),
        ];
        store.commit(&items, &[], &[]).unwrap();
        let urls = |q: &ItemQuery| -> Vec<String> { store.query(q).unwrap().into_iter().map(|s| s.item.url).collect() };
        assert_eq!(urls(&ItemQuery::default()), ["https://e.org/new", "https://e.org/mid", "https://e.org/old"]);
        assert_eq!(
            urls(&ItemQuery { flagged_only: true, ..Default::default() }),
            ["https://e.org/mid", "https://e.org/old"]
        );
        let by_score = ItemQuery { order: SortOrder::Score, min_score: Some(0.5), ..Default::default() };
        assert_eq!(urls(&by_score), ["https://e.org/old", "https://e.org/mid"]);
        let since = Utc.with_ymd_and_hms(2026, 11, 14, 0, 0, 0).unwrap();
        assert_eq!(
            urls(&ItemQuery { since: Some(since), ..Default::default() }),
            ["https://e.org/new", "https://e.org/mid"]
        );
        let source = ItemQuery { sources: vec![SourceId::new("s1").unwrap()], limit: Some(1), ..Default::default() };
        assert_eq!(urls(&source), ["https://e.org/new"]);
        let text = ItemQuery { text: Some("MID".to_owned()), ..Default::default() };
        assert_eq!(urls(&text), ["https://e.org/mid"]);
    }

    #[test]
    fn feed_states_and_stats() {
        let (_dir, store) = open();
        let mut state = FeedState::new(SourceId::new("s1").unwrap(), "https://e.org/feed".to_owned());
        state.last_error = Some("HTTP status 500".to_owned());
        store
            .commit(
                &[scored("https://e.org/a", "s1", 0, 0.9), scored("https://e.org/b", "s1", 0, 0.1)],
                &[state.clone()],
                &[],
            )
            .unwrap();
        assert_eq!(store.feed_state("s1").unwrap(), Some(state));
        let stats = store.stats().unwrap();
        assert_eq!(stats.total, crate::Counts { items: 2, flagged: 1 });
        assert_eq!(stats.per_label.get("misinformation"), Some(&1));
        assert_eq!(stats.feeds_failing, 1);
    }

    #[test]
    fn evidence_and_claim_matches_round_trip() {
        let (_dir, store) = open();
        let mut item = scored("https://e.org/a", "s1", 0, 0.9);
        item.classification.evidence =
            vec![infodemic_core::Evidence { text: "Bleach cures it.".to_owned(), score: 0.97, embedding: Vec::new() }];
        item.classification.claim_match = Some(infodemic_core::ClaimMatch {
            claim_id: "00112233aabbccdd".to_owned(),
            claim: "Drinking bleach cures COVID-19".to_owned(),
            verdict: "false".to_owned(),
            reviewer: Some("Snopes".to_owned()),
            review_url: None,
            similarity: 0.83,
            matched_text: "Bleach cures it.".to_owned(),
            stance: None,
        });
        store.commit(std::slice::from_ref(&item), &[], &[]).unwrap();
        assert_eq!(store.get(item.item.id).unwrap(), Some(item));
    }

    #[test]
    fn schema_1_stores_are_migrated_to_v2_records() {
        use crate::records::{encode, StoredItemV1};
        let (_dir, store) = open();
        let mut old = scored("https://e.org/old", "s1", 1, 0.9);
        old.item.links.clear(); // Schema 1 kept no links or fingerprints.
        old.item.simhash = None;
        // What a schema-1 build wrote: a v1 record and its indexes, stamped 1.
        let id = old.item.id;
        store.items.insert(id.as_bytes(), encode(1, &StoredItemV1::from(&old))).unwrap();
        store.by_url.insert(old.item.canonical_url.as_bytes(), id.as_bytes()).unwrap();
        store.by_hash.insert(old.item.content_hash.0, id.as_bytes()).unwrap();
        let time = old.item.effective_time();
        store.by_time.insert(keys::by_time(time, id), &[]).unwrap();
        store.by_score.insert(keys::by_score(0.9, id), &[]).unwrap();
        store.by_source.insert(keys::by_source("s1", time, id), &[]).unwrap();
        store.meta.insert(SCHEMA_KEY, &1u32.to_be_bytes()).unwrap();

        assert_eq!(store.check_schema().unwrap(), SchemaOutcome::Migrated { from: 1, records: 1 });
        assert_eq!(store.check_schema().unwrap(), SchemaOutcome::Current);
        let raw = store.items.get(id.as_bytes()).unwrap().unwrap();
        assert_eq!(raw[0], crate::records::ITEM_VERSION);
        // v1 had no review flag or evidence: review follows flagged, nothing else invented.
        assert_eq!(store.get(id).unwrap(), Some(old));
        assert_eq!(store.verify().unwrap(), 1);
    }

    #[test]
    fn claims_round_trip_and_are_added_once() {
        use infodemic_core::{ClaimOrigin, DebunkedClaim, Verdict};
        let (_dir, store) = open();
        let claim =
            DebunkedClaim::new("5G spreads COVID-19", Verdict::False, ClaimOrigin::Dataset { name: "d".into() })
                .with_review_url(Some("https://checks.example.org/5g".into()));
        let entry = (claim, vec![0.6, 0.8]);
        assert_eq!(store.put_claims(std::slice::from_ref(&entry)).unwrap(), 1);
        assert_eq!(store.put_claims(std::slice::from_ref(&entry)).unwrap(), 0);
        assert_eq!(store.claims().unwrap(), vec![entry]);
        assert_eq!(store.stats().unwrap().claims, 1);
    }

    #[test]
    fn subscriptions_round_trip_every_field() {
        use infodemic_core::{FeedCategory, FeedKind, RelevanceFilter};
        let (_dir, store) = open();
        let mut spec = FeedSpec::from_url(url::Url::parse("https://example.social/tags/vaccines").unwrap());
        spec.kind = FeedKind::Mastodon;
        spec.category = FeedCategory::FactChecker;
        spec.relevance = RelevanceFilter::Health;
        spec.full_text = true;
        spec.tags = vec!["a".into()];
        spec.selectors.insert("item".into(), "article".into());
        assert!(store.put_subscription(&spec).unwrap());
        assert!(!store.put_subscription(&spec).unwrap(), "same id: replaced");
        assert_eq!(store.subscriptions().unwrap(), vec![spec.clone()]);
        assert!(store.remove_subscription(spec.id.as_str()).unwrap());
        assert!(store.subscriptions().unwrap().is_empty());
    }

    #[test]
    fn a_second_open_reports_the_lock() {
        let (dir, _store) = open();
        let error = SledStore::open(&dir.path().join("db")).unwrap_err();
        assert!(matches!(error, StoreError::Locked { .. }), "{error}");
    }

    // Schema checks run on the open handle: sled must not be reopened in quick succession
    // in one process (its flusher may still hold the file lock, sled #1289).
    #[test]
    fn refuses_a_newer_schema() {
        let (_dir, store) = open();
        store.meta.insert(SCHEMA_KEY, &(CURRENT_SCHEMA + 1).to_be_bytes()).unwrap();
        let error = store.check_schema().unwrap_err();
        assert!(matches!(error, StoreError::SchemaTooNew { .. }), "{error}");
    }
}
