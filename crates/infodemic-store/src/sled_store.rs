//! [`SledStore`]: the sled-backed implementation.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use infodemic_core::{
    Appearance, ClaimId, Classification, ContentHash, DebunkedClaim, FeedSpec, FeedState, ItemId, ItemQuery, ModelRef,
    ScoredItem,
};
use sled::transaction::ConflictableTransactionError;
use sled::Transactional;

use crate::migrations::{self, SchemaOutcome, CURRENT_SCHEMA};
use crate::records;
use crate::summary::Summary;
use crate::{keys, ClaimEntry, ItemReader, Result, StoreError, StoreStats};

const SCHEMA_KEY: &[u8] = b"schema_version";
/// Page cache of the database, by default (see [`SledStore::open_with_cache`]).
pub const DEFAULT_CACHE_BYTES: u64 = 128 * 1024 * 1024;

/// The store, open for the life of the process (sled wants one long-lived handle per
/// database and one process per directory).
#[derive(Clone, Debug)]
pub struct SledStore {
    path: PathBuf,
    pub(crate) db: sled::Db,
    pub(crate) meta: sled::Tree,
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
    counts: sled::Tree,
    pub(crate) search_pending: sled::Tree,
    pub(crate) search: std::sync::Arc<crate::search::SearchIndex>,
    /// Held while a batch of verdicts derives and writes item heads (see `reviews.rs`).
    pub(crate) review_lock: std::sync::Arc<std::sync::Mutex<()>>,
    upkeep: UpkeepHook,
}

/// Items between two [`crate::Upkeep`] reports (fewer in tests, which hold few items).
const UPKEEP_STEP: u64 = if cfg!(test) { 10 } else { 10_000 };

/// Who hears about long upkeep at open (nobody, by default).
#[derive(Clone, Default)]
struct UpkeepHook(Option<crate::UpkeepObserver>);

impl std::fmt::Debug for UpkeepHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "UpkeepHook(observed)" } else { "UpkeepHook(none)" })
    }
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
        Self::open_with_cache(path, DEFAULT_CACHE_BYTES)
    }

    /// [`Self::open`] with a page cache of `cache_bytes`. sled counts the cache in bytes of
    /// pages as stored, and holds them decoded, at two to three times that: a long-running
    /// process that must stay small asks for less (queries then read more from the OS's
    /// file cache).
    ///
    /// # Errors
    /// As [`Self::open`].
    pub fn open_with_cache(path: &Path, cache_bytes: u64) -> Result<(Self, SchemaOutcome)> {
        Self::open_reporting(path, cache_bytes, None)
    }

    /// [`Self::open_with_cache`], telling `upkeep` how far a long upkeep has come: a store an
    /// older build wrote is counted, summarised or indexed whole here, which takes minutes
    /// for a million items.
    ///
    /// # Errors
    /// As [`Self::open`].
    pub fn open_reporting(
        path: &Path,
        cache_bytes: u64,
        upkeep: Option<crate::UpkeepObserver>,
    ) -> Result<(Self, SchemaOutcome)> {
        // sled caches 1 GiB by default; the indexes are small and the OS caches the rest.
        let db = sled::Config::new().path(path).cache_capacity(cache_bytes).open().map_err(|e| open_error(path, &e))?;
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
            counts: tree(crate::counters::COUNTS_TREE)?,
            search_pending: tree(crate::search::PENDING_TREE)?,
            search: std::sync::Arc::new(crate::search::SearchIndex::open(
                &crate::search::dir_of(path),
                tree(crate::search::PENDING_TREE)?,
            )?),
            review_lock: std::sync::Arc::default(),
            upkeep: UpkeepHook(upkeep),
            db,
        };
        let outcome = store.check_schema()?;
        store.ensure_counters()?;
        store.ensure_summaries()?;
        store.ensure_search()?;
        Ok((store, outcome))
    }

    /// Tells the observer how far `task` has come, every [`UPKEEP_STEP`] items.
    pub(crate) fn report_upkeep(&self, task: &'static str, done: u64) {
        if let Some(observer) = &self.upkeep.0 {
            if done.is_multiple_of(UPKEEP_STEP) {
                // The counters, when they are there: a count of the items tree reads every key.
                let total = self.counted_stats().ok().map(|stats| stats.total.items).filter(|n| *n > 0);
                observer(crate::Upkeep { task, done, total });
            }
        }
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
        if matches!(outcome, SchemaOutcome::Migrated { .. }) {
            // Items were rewritten: count, summarise and index them again.
            self.recount()?;
            self.resummarise()?;
            self.rebuild_search()?;
        }
        Ok(outcome)
    }

    /// The state of every feed whose record can be read, and a description of each record that
    /// cannot (its key and why). A crawl polls a feed with an unreadable state as a new feed, and
    /// its next commit replaces the record: one corrupt record costs that feed's history, not
    /// the service.
    ///
    /// # Errors
    /// Storage failures (not decoding ones).
    pub fn readable_feed_states(&self) -> Result<(Vec<FeedState>, Vec<String>)> {
        let mut states = Vec::new();
        let mut unreadable = Vec::new();
        for entry in self.feeds.iter() {
            let (key, value) = entry?;
            match records::decode_feed_state(&value) {
                Ok(state) => states.push(state),
                Err(error) => unreadable.push(format!("{}: {error}", String::from_utf8_lossy(&key))),
            }
        }
        Ok((states, unreadable))
    }

    /// The items tree.
    pub(crate) fn items_tree(&self) -> &sled::Tree {
        &self.items
    }

    /// A tree by name (opened once by sled, then a cheap handle).
    pub(crate) fn tree(&self, name: &str) -> Result<sled::Tree> {
        Ok(self.db.open_tree(name)?)
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
        let encoded_appearances: Vec<(Vec<u8>, Vec<u8>)> =
            appearances.iter().map(|a| (keys::appearance(a.item, &a.url), records::encode_appearance(a))).collect();
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
            &self.counts,
            &self.search_pending,
        );
        let report = trees.transaction(
            |(
                items,
                by_url,
                by_hash,
                by_time,
                by_score,
                by_source,
                feeds,
                by_simhash,
                appearance_tree,
                counts,
                pending,
            )| {
                let mut report = CommitReport::default();
                let mut inserted = Vec::new();
                let mut delta = crate::counters::CountDelta::default();
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
                    let summary = Summary::of(scored).encode();
                    by_time.insert(keys::by_time(time, id), &summary)?;
                    by_score.insert(keys::by_score(index_score(scored), id), &summary)?;
                    by_source.insert(keys::by_source(item.source.as_str(), time, id), &summary)?;
                    // The outbox of the full-text index: emptied once tantivy has these.
                    pending.insert(id.as_bytes(), &[])?;
                    inserted.push(*scored);
                    if let Some(simhash) = item.simhash {
                        by_simhash.insert(keys::by_time(time, id), &simhash.to_be_bytes())?;
                    }
                    delta.add(scored, 1);
                    report.inserted += 1;
                }

                delta.apply(counts)?;
                for (key, record) in &encoded_states {
                    feeds.insert(key.as_slice(), record.as_slice())?;
                }
                for (key, record) in &encoded_appearances {
                    appearance_tree.insert(key.as_slice(), record.as_slice())?;
                }
                Ok::<_, ConflictableTransactionError<StoreError>>((report, inserted))
            },
        )?;
        let (report, inserted) = report;
        self.db.flush()?;
        self.index_committed(&inserted, false);
        Ok(report)
    }

    /// Adds debunked claims with their embeddings by `model`; claims already stored (same id)
    /// are kept as they are. Returns how many were new.
    ///
    /// # Errors
    /// sled failures; nothing of the batch is written then.
    pub fn put_claims(&self, claims: &[(DebunkedClaim, Vec<f32>)], model: &ModelRef) -> Result<usize> {
        let records: Vec<([u8; 8], Vec<u8>)> = claims
            .iter()
            .map(|(claim, embedding)| (claim.id.0, records::encode_claim(claim, embedding, model)))
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

    /// Replaces the embeddings of stored claims with ones made by `model`, in one
    /// transaction; claims not stored are left out. Returns how many were replaced.
    ///
    /// # Errors
    /// sled failures; nothing of the batch is written then.
    pub fn replace_claim_embeddings(&self, claims: &[(DebunkedClaim, Vec<f32>)], model: &ModelRef) -> Result<usize> {
        let records: Vec<([u8; 8], Vec<u8>)> = claims
            .iter()
            .map(|(claim, embedding)| (claim.id.0, records::encode_claim(claim, embedding, model)))
            .collect();
        let replaced = self.claims.transaction(|tree| {
            let mut replaced = 0;
            for (key, record) in &records {
                if tree.get(key)?.is_some() {
                    tree.insert(key, record.as_slice())?;
                    replaced += 1;
                }
            }
            Ok::<_, ConflictableTransactionError<StoreError>>(replaced)
        })?;
        self.db.flush()?;
        Ok(replaced)
    }

    /// Every stored claim with its embedding.
    ///
    /// # Errors
    /// sled or decoding failures.
    pub fn claims(&self) -> Result<Vec<(DebunkedClaim, Vec<f32>)>> {
        Ok(self.claim_entries()?.into_iter().map(|entry| (entry.claim, entry.embedding)).collect())
    }

    /// Every stored claim with its embedding and the model that made it.
    ///
    /// # Errors
    /// sled or decoding failures.
    pub fn claim_entries(&self) -> Result<Vec<ClaimEntry>> {
        self.claims.iter().map(|entry| records::decode_claim(&entry?.1)).collect()
    }

    /// The claims whose embedding was made by another model than `model` (or by a model not
    /// recorded): they must be embedded again before items scored by `model` are matched
    /// against them.
    ///
    /// # Errors
    /// sled or decoding failures.
    pub fn claims_embedded_by_others(&self, model: &ModelRef) -> Result<Vec<DebunkedClaim>> {
        let mut stale = Vec::new();
        for entry in self.claims.iter() {
            let entry = records::decode_claim(&entry?.1)?;
            if !entry.embedded_by(model) {
                stale.push(entry.claim);
            }
        }
        Ok(stale)
    }

    /// Whether a claim with this id is stored.
    ///
    /// # Errors
    /// sled failures.
    pub fn has_claim(&self, id: ClaimId) -> Result<bool> {
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
        let record = records::encode_subscription(spec);
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

    /// Ids of the items published (else fetched) in the query's time range and, when it names
    /// sources, from those sources; newest first. The other filters, the limit and the order
    /// are not applied: callers load the items and apply [`ItemQuery::matches`].
    ///
    /// # Errors
    /// sled failures or a malformed index entry.
    pub fn item_ids(&self, query: &ItemQuery) -> Result<Vec<ItemId>> {
        let (start, end) = Self::time_range(query);
        let mut keyed: Vec<Vec<u8>> = Vec::new();
        if query.sources.is_empty() {
            for entry in self.by_time.range(start..end).rev() {
                keyed.push(entry?.0.to_vec());
            }
        } else {
            let mut sources: Vec<&str> = query.sources.iter().map(|s| s.as_str()).collect();
            sources.sort_unstable();
            sources.dedup();
            for source in sources {
                let prefix = keys::source_prefix(source);
                let range = [prefix.as_slice(), &start].concat()..[prefix.as_slice(), &end].concat();
                for entry in self.by_source.range(range) {
                    // Time key and id: the same order as idx_time.
                    keyed.push(entry?.0[prefix.len()..].to_vec());
                }
            }
            keyed.sort_unstable_by(|a, b| b.cmp(a));
        }
        keyed.iter().map(|key| keys::id_suffix(key).ok_or_else(|| inconsistent("short index key"))).collect()
    }

    /// Replaces the classifications of stored items (a new model's scores), in one
    /// transaction that also moves each item in every index keyed by its classification
    /// (`idx_score`). The items themselves (text, time, source, URL) are kept as stored, so
    /// the other indexes stay as they are. Ids not stored are left out. Returns how many
    /// items were rewritten.
    ///
    /// # Errors
    /// sled or decoding failures; nothing of the batch is written then.
    pub fn reclassify(&self, updates: &[(ItemId, Classification)]) -> Result<usize> {
        let trees = (&self.items, &self.by_time, &self.by_score, &self.by_source, &self.counts, &self.search_pending);
        let rewritten = trees.transaction(|(items, by_time, by_score, by_source, counts, pending)| {
            let mut rewritten = Vec::new();
            let mut delta = crate::counters::CountDelta::default();
            for (id, classification) in updates {
                let Some(bytes) = items.get(id.as_bytes())? else { continue };
                let mut scored = records::decode_item(&bytes).map_err(ConflictableTransactionError::Abort)?;
                by_score.remove(keys::by_score(index_score(&scored), *id))?;
                delta.add(&scored, -1);
                scored.classification = classification.clone();
                delta.add(&scored, 1);
                items.insert(id.as_bytes(), records::encode_item(&scored))?;
                // The summaries in every index carry the new score and flags.
                let summary = Summary::of(&scored).encode();
                let [time_key, score_key, source_key] = crate::summary::index_keys(&scored);
                by_time.insert(time_key, &summary)?;
                by_score.insert(score_key, &summary)?;
                by_source.insert(source_key, &summary)?;
                // The full-text index sorts and filters by score and flags too.
                pending.insert(id.as_bytes(), &[])?;
                rewritten.push(scored);
            }
            delta.apply(counts)?;
            Ok::<_, ConflictableTransactionError<StoreError>>(rewritten)
        })?;
        self.db.flush()?;
        // An id given twice is one item rewritten.
        let count = rewritten.iter().map(|scored| scored.item.id).collect::<std::collections::HashSet<_>>().len();
        self.index_committed(&rewritten.iter().collect::<Vec<_>>(), true);
        Ok(count)
    }

    /// Checks that every index entry points at a stored item and every item is indexed once
    /// in each index, under the key its current record implies (a rescored item's score key
    /// moved with its score). Used by tests and by `infodemic` after an interrupted run.
    ///
    /// # Errors
    /// A description of the first inconsistency, as [`StoreError::Corrupt`].
    pub fn verify(&self) -> Result<usize> {
        let mut ids = HashSet::new();
        // The key each item must have in each index, from what the item is now.
        let mut expected: [HashMap<Vec<u8>, [u8; 17]>; 3] = Default::default();
        for entry in self.items.iter() {
            let (key, value) = entry?;
            let scored = records::decode_item(&value)?;
            let item = &scored.item;
            if key.as_ref() != item.id.as_bytes() {
                return Err(inconsistent("item stored under another id"));
            }
            let url_target = self.by_url.get(item.canonical_url.as_bytes())?;
            if url_target.as_deref() != Some(item.id.as_bytes().as_slice()) {
                return Err(inconsistent("item missing from idx_url"));
            }
            let summary = Summary::of(&scored).encode();
            for (expected, key) in expected.iter_mut().zip(crate::summary::index_keys(&scored)) {
                expected.insert(key, summary);
            }
            ids.insert(item.id);
        }
        let indexes = [("idx_time", &self.by_time), ("idx_score", &self.by_score), ("idx_source", &self.by_source)];
        for ((name, tree), expected) in indexes.into_iter().zip(&expected) {
            let mut seen = 0usize;
            for entry in tree.iter() {
                let (key, value) = entry?;
                let id = keys::id_suffix(&key).ok_or_else(|| inconsistent("short index key"))?;
                if !ids.contains(&id) {
                    return Err(inconsistent(&format!("{name} points at a missing item")));
                }
                let Some(summary) = expected.get(key.as_ref()) else {
                    return Err(inconsistent(&format!("{name} has a stale entry for item {id}")));
                };
                if value.as_ref() != summary.as_slice() {
                    return Err(inconsistent(&format!("{name} has a stale summary for item {id}")));
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
        if self.searchable_items()? != ids.len() as u64 {
            return Err(inconsistent("the full-text index differs from the items"));
        }
        if self.counted_stats()? != self.decoded_stats()? {
            return Err(inconsistent("the counts kept for `stats` differ from the items"));
        }
        Ok(ids.len())
    }

    pub(crate) fn load(&self, id: ItemId) -> Result<Option<ScoredItem>> {
        self.items.get(id.as_bytes())?.map(|v| records::decode_item(&v)).transpose()
    }

    /// The `idx_time` key range of a query: `since` to `until`, and before the page cursor.
    pub(crate) fn time_range(query: &ItemQuery) -> (Vec<u8>, Vec<u8>) {
        let start = query.since.map_or([0u8; 8], keys::time_key).to_vec();
        let mut end = query.until.map_or([0xffu8; 8], keys::time_key).to_vec();
        if let Some(after) = query.after {
            // Newest first walks keys downwards: the next page ends just below the cursor.
            end = end.min(keys::by_time(after.time, after.id));
        }
        (start, end)
    }
}

/// The score an item is indexed by: unsupported languages have no meaningful score, so they
/// sort last.
pub(crate) fn index_score(scored: &ScoredItem) -> f32 {
    scored.classification.shown_score().unwrap_or(0.0)
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
        self.run_query(query)
    }

    fn stats(&self) -> Result<StoreStats> {
        // Kept at commit: no item is decoded here.
        let mut stats = self.counted_stats()?;
        stats.claims = self.claims.len() as u64;
        stats.count_feeds(&self.feed_states()?);
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
pub(crate) mod tests {
    use chrono::{TimeZone, Utc};
    use infodemic_core::{SortOrder, SourceId};

    use super::*;

    pub(crate) use crate::test_support::scored;

    fn open() -> (tempfile::TempDir, SledStore) {
        let dir = tempfile::tempdir().unwrap();
        let (store, outcome) = SledStore::open(&dir.path().join("db")).unwrap();
        assert_eq!(outcome, SchemaOutcome::Created);
        (dir, store)
    }

    #[test]
    fn long_upkeep_is_reported_with_the_items_done_and_in_all() {
        let dir = tempfile::tempdir().unwrap();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = std::sync::Arc::clone(&seen);
        let observer: crate::UpkeepObserver = std::sync::Arc::new(move |upkeep| sink.lock().unwrap().push(upkeep));
        let (store, _) =
            SledStore::open_reporting(&dir.path().join("db"), DEFAULT_CACHE_BYTES, Some(observer)).unwrap();
        assert!(seen.lock().unwrap().is_empty(), "nothing to do for a new store");
        let items: Vec<ScoredItem> = (0..25).map(|i| scored(&format!("https://e.org/{i}"), "s", i, 0.5)).collect();
        store.commit(&items, &[], &[]).unwrap();
        store.resummarise().unwrap();
        store.rebuild_search().unwrap();
        let seen = seen.lock().unwrap().clone();
        let report = |task, done| crate::Upkeep { task, done, total: Some(25) };
        assert_eq!(
            seen,
            [
                report("writing index summaries", 10),
                report("writing index summaries", 20),
                report("building the full-text index", 10),
                report("building the full-text index", 20),
            ]
        );
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
    fn a_corrupt_feed_state_is_reported_and_the_others_read() {
        let (_dir, store) = open();
        let state = FeedState::new(SourceId::new("good").unwrap(), "https://e.org/feed".to_owned());
        store.put_feed_states(std::slice::from_ref(&state)).unwrap();
        store.feeds.insert(b"broken", &[records::FEED_VERSION, 0xff, 0xff][..]).unwrap();
        assert!(store.feed_states().is_err(), "the strict read fails on it");
        let (states, unreadable) = store.readable_feed_states().unwrap();
        assert_eq!(states, vec![state]);
        assert_eq!(unreadable.len(), 1);
        assert!(unreadable[0].starts_with("broken: "), "{unreadable:?}");
    }

    #[test]
    fn feed_state_v2_records_read_with_no_entry_counts_and_v3_keeps_them() {
        let (_dir, store) = open();
        let mut state = FeedState::new(SourceId::new("s1").unwrap(), "https://e.org/feed".to_owned());
        state.last_entries = 50;
        state.last_entries_dropped = 3;
        let v2 = records::encode(2, &records::StoredFeedStateV2::from(&state));
        store.feeds.insert(b"s1", v2).unwrap();
        let read = store.feed_state("s1").unwrap().unwrap();
        assert_eq!((read.last_entries, read.last_entries_dropped), (0, 0), "v2 did not keep them");
        store.put_feed_states(&[state.clone()]).unwrap();
        assert_eq!(store.feeds.get(b"s1").unwrap().unwrap()[0], records::FEED_VERSION);
        assert_eq!(store.feed_state("s1").unwrap(), Some(state));
    }

    #[test]
    fn feed_state_v3_records_read_with_no_category_and_v4_keeps_it() {
        let (_dir, store) = open();
        let mut state = FeedState::new(SourceId::new("s1").unwrap(), "https://e.org/feed".to_owned());
        state.category = Some(infodemic_core::FeedCategory::FactChecker);
        state.last_entries = 50;
        let v3 = records::encode(3, &records::StoredFeedStateV3::from(&state));
        store.feeds.insert(b"s1", v3).unwrap();
        let read = store.feed_state("s1").unwrap().unwrap();
        assert_eq!((read.category, read.last_entries), (None, 50), "v3 did not keep the category");
        store.put_feed_states(&[state.clone()]).unwrap();
        assert_eq!(store.feeds.get(b"s1").unwrap().unwrap()[0], records::FEED_VERSION);
        assert_eq!(store.feed_state("s1").unwrap(), Some(state));
        // A category a newer build added reads as none, not as a broken record.
        let newer = records::StoredFeedStateV4 {
            v3: records::StoredFeedStateV3::from(&FeedState::new(
                SourceId::new("s2").unwrap(),
                "https://e.org/2".to_owned(),
            )),
            category: Some("preprint-server".to_owned()),
        };
        store.feeds.insert(b"s2", records::encode(4, &newer)).unwrap();
        assert_eq!(store.feed_state("s2").unwrap().unwrap().category, None);
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
        let model = ModelRef { id: "m".to_owned(), version: "1".to_owned() };
        assert_eq!(store.put_claims(std::slice::from_ref(&entry), &model).unwrap(), 1);
        assert_eq!(store.put_claims(std::slice::from_ref(&entry), &model).unwrap(), 0);
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

    fn model(version: &str) -> ModelRef {
        ModelRef { id: "m".to_owned(), version: version.to_owned() }
    }

    /// An item with every field schema 3 added.
    fn with_schema_3_fields(mut item: ScoredItem) -> ScoredItem {
        let class = &mut item.classification;
        class.claim = Some(0.91);
        class.refute = Some(0.07);
        class.reasons = vec!["score 0.90 >= flag threshold 0.40".to_owned(), "states a checkable claim".to_owned()];
        class.evidence =
            vec![infodemic_core::Evidence { text: "Bleach cures it.".to_owned(), score: 0.97, embedding: Vec::new() }];
        class.claim_match = Some(infodemic_core::ClaimMatch {
            claim_id: "00112233aabbccdd".to_owned(),
            claim: "Drinking bleach cures COVID-19".to_owned(),
            verdict: "false".to_owned(),
            reviewer: Some("Snopes".to_owned()),
            review_url: None,
            similarity: 0.83,
            matched_text: "Bleach cures it.".to_owned(),
            stance: Some(infodemic_core::Stance::Repeats),
        });
        item
    }

    #[test]
    fn claim_refute_reasons_and_stance_round_trip() {
        let (_dir, store) = open();
        let item = with_schema_3_fields(scored("https://e.org/a", "s1", 0, 0.9));
        store.commit(std::slice::from_ref(&item), &[], &[]).unwrap();
        assert_eq!(store.items.get(item.item.id.as_bytes()).unwrap().unwrap()[0], 3);
        assert_eq!(store.get(item.item.id).unwrap(), Some(item.clone()));
        // Every stance survives, and so does a match without one (stored before stances).
        for stance in [Some(infodemic_core::Stance::Refutes), Some(infodemic_core::Stance::Mentions), None] {
            let mut changed = item.classification.clone();
            if let Some(found) = &mut changed.claim_match {
                found.stance = stance;
            }
            store.reclassify(&[(item.item.id, changed.clone())]).unwrap();
            assert_eq!(store.get(item.item.id).unwrap().unwrap().classification, changed);
        }
    }

    #[test]
    fn an_unknown_stance_is_a_corrupt_record_not_a_panic() {
        use crate::records::{decode_item, encode, StoredItemV3};
        let item = with_schema_3_fields(scored("https://e.org/a", "s1", 0, 0.9));
        let mut record = StoredItemV3::from(&item);
        record.claim_stance = Some("shrugs".to_owned());
        let error = decode_item(&encode(3, &record)).unwrap_err();
        assert!(matches!(error, StoreError::Corrupt { tree: "items", .. }), "{error}");
    }

    /// Writes `item` as a build of `schema` would have: its record version and its indexes.
    fn write_as_old_schema(store: &SledStore, item: &ScoredItem, version: u8) {
        use crate::records::{encode, StoredItemV1, StoredItemV2};
        let record = match version {
            1 => encode(1, &StoredItemV1::from(item)),
            2 => encode(2, &StoredItemV2::from(item)),
            other => panic!("no record version {other} in this test"),
        };
        let id = item.item.id;
        store.items.insert(id.as_bytes(), record).unwrap();
        store.by_url.insert(item.item.canonical_url.as_bytes(), id.as_bytes()).unwrap();
        store.by_hash.insert(item.item.content_hash.0, id.as_bytes()).unwrap();
        let time = item.item.effective_time();
        store.by_time.insert(keys::by_time(time, id), &[]).unwrap();
        store.by_score.insert(keys::by_score(index_score(item), id), &[]).unwrap();
        store.by_source.insert(keys::by_source(item.item.source.as_str(), time, id), &[]).unwrap();
    }

    #[test]
    fn schema_2_stores_become_schema_3_and_keep_every_item() {
        let (_dir, store) = open();
        // What a schema-2 build could hold: v2 records (one with a claim match), and a v1
        // record the v1 -> v2 migration left behind (it skips nothing, but v2 reads v1).
        let mut matched = with_schema_3_fields(scored("https://e.org/matched", "s1", 1, 0.9));
        let class = &mut matched.classification;
        (class.claim, class.refute, class.reasons) = (None, None, Vec::new());
        if let Some(found) = &mut class.claim_match {
            found.stance = None;
        }
        let plain = scored("https://e.org/plain", "s2", 2, 0.2);
        let mut old = scored("https://e.org/v1", "s1", 3, 0.7);
        old.item.links.clear();
        old.item.simhash = None;
        old.classification.review = old.classification.flagged;
        write_as_old_schema(&store, &matched, 2);
        write_as_old_schema(&store, &plain, 2);
        write_as_old_schema(&store, &old, 1);
        store.meta.insert(SCHEMA_KEY, &2u32.to_be_bytes()).unwrap();

        assert_eq!(store.check_schema().unwrap(), SchemaOutcome::Migrated { from: 2, records: 3 });
        assert_eq!(store.check_schema().unwrap(), SchemaOutcome::Current);
        assert_eq!(store.meta.get(SCHEMA_KEY).unwrap().unwrap().as_ref(), CURRENT_SCHEMA.to_be_bytes());
        for item in [&matched, &plain, &old] {
            let raw = store.items.get(item.item.id.as_bytes()).unwrap().unwrap();
            assert_eq!(raw[0], 3, "rewritten as v3");
            // Nothing invented: what v2 did not keep is unknown.
            assert_eq!(store.get(item.item.id).unwrap().as_ref(), Some(item));
        }
        assert_eq!(store.verify().unwrap(), 3);
    }

    #[test]
    fn reclassifying_moves_the_score_index_with_the_score() {
        let (_dir, store) = open();
        let items = [scored("https://e.org/a", "s1", 1, 0.9), scored("https://e.org/b", "s2", 2, 0.2)];
        store.commit(&items, &[], &[]).unwrap();
        let mut lower = items[0].classification.clone();
        (lower.score, lower.flagged, lower.review, lower.model) = (0.1, false, false, model("2"));
        let mut higher = items[1].classification.clone();
        (higher.score, higher.flagged, higher.review, higher.model) = (0.95, true, true, model("2"));
        let unknown = ItemId::from_canonical_url("https://e.org/never-stored");
        let updates = [(items[0].item.id, lower.clone()), (items[1].item.id, higher), (unknown, lower)];
        assert_eq!(store.reclassify(&updates).unwrap(), 2, "ids not stored are left out");
        assert_eq!(store.verify().unwrap(), 2);
        let by_score = ItemQuery { order: SortOrder::Score, ..Default::default() };
        let urls: Vec<String> = store.query(&by_score).unwrap().into_iter().map(|s| s.item.url).collect();
        assert_eq!(urls, ["https://e.org/b", "https://e.org/a"]);
        let flagged = ItemQuery { flagged_only: true, ..Default::default() };
        assert_eq!(store.query(&flagged).unwrap().len(), 1);
        // The items themselves are kept as stored.
        let rewritten = store.get(items[0].item.id).unwrap().unwrap();
        assert_eq!((rewritten.item, rewritten.classification.model), (items[0].item.clone(), model("2")));
        assert!(store.get(unknown).unwrap().is_none());
    }

    #[test]
    fn verify_finds_a_score_index_entry_left_behind() {
        let (_dir, store) = open();
        let item = scored("https://e.org/a", "s1", 1, 0.9);
        store.commit(std::slice::from_ref(&item), &[], &[]).unwrap();
        store.by_score.remove(keys::by_score(0.9, item.item.id)).unwrap();
        store.by_score.insert(keys::by_score(0.3, item.item.id), &[]).unwrap();
        let error = store.verify().unwrap_err();
        assert!(error.to_string().contains("idx_score has a stale entry"), "{error}");
    }

    #[test]
    fn stats_come_from_counts_kept_at_commit_and_reclassify() {
        let (_dir, store) = open();
        let items = [
            scored("https://e.org/a", "a", 1, 0.9),
            scored("https://e.org/b", "a", 2, 0.1),
            scored("https://e.org/c", "b", 2, 0.7),
        ];
        store.commit(&items, &[], &[]).unwrap();
        store.commit(&items[..1], &[], &[]).unwrap(); // a duplicate counts nothing
        assert_eq!(store.counted_stats().unwrap(), store.decoded_stats().unwrap());
        let stats = store.stats().unwrap();
        assert_eq!((stats.total.items, stats.total.flagged), (3, 2));
        assert_eq!(stats.per_source["a"].items, 2);
        assert_eq!(stats.per_label["misinformation"], 2);
        let mut unflagged = items[0].classification.clone();
        unflagged.flagged = false;
        unflagged.score = 0.2;
        store.reclassify(&[(items[0].item.id, unflagged)]).unwrap();
        let stats = store.stats().unwrap();
        assert_eq!((stats.total.items, stats.total.flagged), (3, 1));
        assert_eq!(stats.per_label.get("misinformation"), Some(&1));
        assert_eq!(store.counted_stats().unwrap(), store.decoded_stats().unwrap());
        store.verify().unwrap();
    }

    #[test]
    fn a_store_without_counts_gets_them_at_open() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (store, _) = SledStore::open(&dir.path().join("db")).unwrap();
            store.commit(&[scored("https://e.org/a", "a", 1, 0.9)], &[], &[]).unwrap();
            // As a build without counters left it.
            store.counts.clear().unwrap();
            store.meta.remove(b"counts_version").unwrap();
            assert!(store.verify().is_err(), "verify notices counts that disagree");
        }
        let store = crate::test_support::reopen(&dir.path().join("db"));
        assert_eq!(store.stats().unwrap().total.items, 1);
        store.verify().unwrap();
    }

    #[test]
    fn newest_first_pages_cover_every_item_once_even_at_equal_times() {
        let (_dir, store) = open();
        let mut items: Vec<ScoredItem> =
            (0..7).map(|i| scored(&format!("https://e.org/{i}"), "a", i / 3, 0.5)).collect();
        items.extend((7..10).map(|i| scored(&format!("https://e.org/{i}"), "b", 1, 0.5)));
        store.commit(&items, &[], &[]).unwrap();
        for sources in [vec![], vec![SourceId::new("a").unwrap(), SourceId::new("b").unwrap()]] {
            let mut seen = Vec::new();
            let mut after = None;
            loop {
                let page = store
                    .query(&ItemQuery { limit: Some(2), after, sources: sources.clone(), ..ItemQuery::default() })
                    .unwrap();
                let Some(last) = page.last() else { break };
                after = Some(infodemic_core::ItemCursor::of(last));
                seen.extend(page.iter().map(|s| s.item.id));
            }
            let all = store.query(&ItemQuery { sources: sources.clone(), ..ItemQuery::default() }).unwrap();
            assert_eq!(seen, all.iter().map(|s| s.item.id).collect::<Vec<_>>(), "pages = one query, in order");
            assert_eq!(seen.len(), 10);
        }
    }

    #[test]
    fn item_ids_follow_the_time_range_and_sources_newest_first() {
        let (_dir, store) = open();
        let items = [
            scored("https://e.org/old", "s1", 10, 0.9),
            scored("https://e.org/new", "s1", 0, 0.2),
            scored("https://e.org/mid", "s2", 5, 0.7),
            scored("https://e.org/other", "s3", 1, 0.7),
        ];
        store.commit(&items, &[], &[]).unwrap();
        let id = |i: usize| items[i].item.id;
        assert_eq!(store.item_ids(&ItemQuery::default()).unwrap(), [id(1), id(3), id(2), id(0)]);
        let since = Utc.with_ymd_and_hms(2026, 11, 14, 0, 0, 0).unwrap();
        let until = Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).unwrap();
        let range = ItemQuery { since: Some(since), until: Some(until), ..Default::default() };
        assert_eq!(store.item_ids(&range).unwrap(), [id(3), id(2)]);
        let sources = |names: &[&str]| names.iter().map(|n| SourceId::new(*n).unwrap()).collect::<Vec<_>>();
        let two = ItemQuery { sources: sources(&["s2", "s1", "s1"]), ..Default::default() };
        assert_eq!(store.item_ids(&two).unwrap(), [id(1), id(2), id(0)]);
        let one_in_range = ItemQuery { sources: sources(&["s1"]), since: Some(since), ..Default::default() };
        assert_eq!(store.item_ids(&one_in_range).unwrap(), [id(1)]);
    }

    #[test]
    fn claims_know_which_model_embedded_them() {
        use crate::records::{encode, StoredClaimV1};
        use infodemic_core::{ClaimOrigin, DebunkedClaim, Verdict};
        let (_dir, store) = open();
        let claim = |text: &str| DebunkedClaim::new(text, Verdict::False, ClaimOrigin::Dataset { name: "d".into() });
        let (first, second, legacy) = (claim("5G spreads COVID-19"), claim("Bleach cures it"), claim("Masks"));
        store.put_claims(&[(first.clone(), vec![1.0, 0.0]), (second.clone(), vec![0.0, 1.0])], &model("1")).unwrap();
        // A claim stored by a schema-2 build: no model recorded.
        store.claims.insert(legacy.id.0, encode(1, &StoredClaimV1::new(&legacy, &[0.6, 0.8]))).unwrap();

        let entries = store.claim_entries().unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries.iter().filter(|e| e.model.is_none()).count(), 1);
        let stale = store.claims_embedded_by_others(&model("1")).unwrap();
        assert_eq!(stale, vec![legacy.clone()]);
        assert_eq!(store.claims_embedded_by_others(&model("2")).unwrap().len(), 3);

        let fresh = [(first, vec![0.0, 1.0]), (legacy, vec![1.0, 0.0])];
        let never_stored = (claim("never stored"), vec![1.0, 0.0]);
        assert_eq!(
            store.replace_claim_embeddings(&[fresh[0].clone(), fresh[1].clone(), never_stored], &model("2")).unwrap(),
            2
        );
        assert_eq!(store.claim_count(), 3);
        let entries = store.claim_entries().unwrap();
        for (claim, embedding) in &fresh {
            let entry = entries.iter().find(|e| e.claim.id == claim.id).unwrap();
            assert_eq!((&entry.embedding, entry.model.as_ref()), (embedding, Some(&model("2"))));
        }
        assert_eq!(store.claims_embedded_by_others(&model("2")).unwrap(), vec![second]);
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
