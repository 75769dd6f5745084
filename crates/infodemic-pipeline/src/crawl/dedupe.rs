//! The dedupe stage: a fetched feed's items → those relevant to health (where the feed asks for
//! that) and new to the run and the store. A copy of a known item under another URL becomes an
//! appearance of it.

use std::collections::{HashMap, HashSet};

use infodemic_core::health::is_health_related;
use infodemic_core::simhash;
use infodemic_core::{Appearance, ContentHash, FeedSpec, Item, ItemId, Relation};
use infodemic_crawler::{FeedFetch, FeedOutcome};
use std::sync::Arc;

use infodemic_store::{IngestStore, StoreError};
use tokio::sync::mpsc;

use super::fetch::Fetched;
use super::{blocking, forward, CrawlSummary};
use crate::Result;

/// How far back a new item is compared with stored items for near-duplicates.
pub(super) const NEAR_DUPLICATE_WINDOW: chrono::Duration = chrono::Duration::days(7);

/// What a parsed feed's document gave, counted before its items were taken for dedupe.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Reading {
    /// Items read from the document.
    pub items: usize,
    /// Entries that did not become an item (see `Normalized::entries_dropped`).
    pub dropped: usize,
}

/// A feed's outcome after dedupe. A parsed feed's items are no longer in `outcome`: the new ones
/// are in `fresh`, copies of known items in `appearances`.
pub(super) struct DedupedFeed {
    /// The fetch outcome (a parsed feed without its items).
    pub outcome: FeedOutcome,
    /// The document's counts, for a parsed feed.
    pub reading: Reading,
    /// Items new to the run and the store, in feed order.
    pub fresh: Vec<Item>,
    /// Copies of known items found in the feed.
    pub appearances: Vec<Appearance>,
}

/// What the run has seen so far, to tell new items from known ones.
pub(super) struct Deduper {
    store: Arc<dyn IngestStore>,
    /// Moved onto a blocking thread for each feed: sorting a feed's items is CPU work (the
    /// health filter, a scan of every recent fingerprint, trigram comparisons) and store reads,
    /// none of which belongs on the async runtime (the local API shares it in `watch`).
    memory: RunMemory,
    summary: CrawlSummary,
}

/// The run's items so far, and the recent stored ones.
#[derive(Default)]
struct RunMemory {
    seen_urls: HashSet<String>,
    seen_hashes: HashMap<ContentHash, ItemId>,
    /// SimHash fingerprints of recent items (store and run), for near-duplicates, apart from
    /// their ids: every new item is compared with all of them, and a plain list of numbers
    /// makes that a tight loop (the ids are read only for the few within range).
    recent: Vec<u64>,
    /// The ids of `recent`, in the same order.
    recent_ids: Vec<ItemId>,
    /// Trigrams of this run's new items, to confirm near-duplicates without the store (and
    /// without reading a text again for each comparison).
    run_shingles: HashMap<ItemId, simhash::Shingles>,
}

/// One feed's items, sorted.
#[derive(Default)]
struct Sorted {
    fresh: Vec<Item>,
    appearances: Vec<Appearance>,
    off_topic: usize,
    duplicates: usize,
    near_duplicates: usize,
}

impl Deduper {
    /// A deduper that knows the stored items' `recent` fingerprints.
    pub(super) fn new(store: Arc<dyn IngestStore>, recent: Vec<(u64, ItemId)>) -> Self {
        let memory = RunMemory {
            recent: recent.iter().map(|(fingerprint, _)| *fingerprint).collect(),
            recent_ids: recent.into_iter().map(|(_, id)| id).collect(),
            ..RunMemory::default()
        };
        Self { store, memory, summary: CrawlSummary::default() }
    }

    /// Dedupes every feed taken from `input` and hands it to `output`.
    ///
    /// # Errors
    /// Store failures.
    pub(super) async fn run(
        mut self,
        input: &mut Fetched<'_>,
        output: mpsc::Sender<DedupedFeed>,
    ) -> Result<CrawlSummary> {
        while let Some(mut outcome) = input.next().await {
            if output.is_closed() {
                break;
            }
            let mut reading = Reading::default();
            let mut sorted = Sorted::default();
            if let Ok(FeedFetch::Parsed { normalized, .. }) = &mut outcome.result {
                reading = Reading { items: normalized.items.len(), dropped: normalized.entries_dropped() };
                let items = std::mem::take(&mut normalized.items);
                let (store, spec, mut memory) =
                    (Arc::clone(&self.store), outcome.spec.clone(), std::mem::take(&mut self.memory));
                let (memory, result) = blocking(move || {
                    let result = memory.sort(store.as_ref(), &spec, items);
                    (memory, result)
                })
                .await?;
                self.memory = memory;
                sorted = result?;
                self.summary.items_off_topic += sorted.off_topic;
                self.summary.items_duplicate += sorted.duplicates;
                self.summary.items_near_duplicate += sorted.near_duplicates;
                self.summary.appearances += sorted.appearances.len();
            }
            let (fresh, appearances) = (sorted.fresh, sorted.appearances);
            if !forward(&output, DedupedFeed { outcome, reading, fresh, appearances }).await {
                break;
            }
        }
        Ok(self.summary)
    }
}

impl RunMemory {
    /// Sorts a feed's items: those off topic (where the feed keeps only health), those already
    /// stored or already seen in this run, and the new ones. A copy of a known item under
    /// another URL (same content hash, or a SimHash within `NEAR_DUPLICATE_BITS`) is not a new
    /// item: it is recorded as an appearance of the first one, so every source, time and URL
    /// of a story stays known.
    fn sort(
        &mut self,
        store: &dyn IngestStore,
        spec: &FeedSpec,
        items: Vec<Item>,
    ) -> std::result::Result<Sorted, StoreError> {
        let mut sorted = Sorted::default();
        for item in items {
            let text = item.classifier_input();
            if !spec.keeps(is_health_related(&text)) {
                sorted.off_topic += 1;
                continue;
            }
            if store.id_for_url(&item.canonical_url)?.is_some() || !self.seen_urls.insert(item.canonical_url.clone()) {
                sorted.duplicates += 1;
                continue;
            }
            let same_content = match store.id_for_content(item.content_hash)? {
                Some(stored) => Some(stored),
                None => self.seen_hashes.get(&item.content_hash).copied(),
            };
            // The item's trigrams, once a comparison needed them: kept for later items if it is new.
            let mut shingles = None;
            let relation = match same_content {
                Some(canonical) => Some((canonical, Relation::SameContent)),
                None => self.near_duplicate_of(store, item.simhash, &text, &mut shingles)?,
            };
            if let Some((canonical, relation)) = relation {
                sorted.duplicates += 1;
                if matches!(relation, Relation::NearDuplicate { .. }) {
                    sorted.near_duplicates += 1;
                }
                sorted.appearances.push(Appearance {
                    item: canonical,
                    source: item.source.clone(),
                    url: item.url.clone(),
                    seen_at: item.fetched_at,
                    published: item.published,
                    relation,
                });
                continue;
            }
            self.seen_hashes.insert(item.content_hash, item.id);
            if let Some(fingerprint) = item.simhash {
                self.recent.push(fingerprint);
                self.recent_ids.push(item.id);
                self.run_shingles.insert(item.id, shingles.unwrap_or_else(|| simhash::shingles(&text)));
            }
            sorted.fresh.push(item);
        }
        Ok(sorted)
    }

    /// The known item that an item with this `fingerprint` and `text` nearly copies:
    /// fingerprints within `NEAR_DUPLICATE_BITS`, confirmed by trigram resemblance
    /// (fingerprints of unrelated texts can be close). `shingles` holds the text's trigrams once
    /// computed.
    fn near_duplicate_of(
        &self,
        store: &dyn IngestStore,
        fingerprint: Option<u64>,
        text: &str,
        shingles: &mut Option<simhash::Shingles>,
    ) -> std::result::Result<Option<(ItemId, Relation)>, StoreError> {
        let Some(fingerprint) = fingerprint else { return Ok(None) };
        let mut candidates: Vec<(u32, ItemId)> = Vec::new();
        // Every new item meets the whole window, and nearly every block of it holds no
        // candidate: a block is first tested without a branch per fingerprint (which the
        // compiler vectorises), and only a block with a hit is walked again for its ids.
        const BLOCK: usize = 64;
        for (fingerprints, ids) in self.recent.chunks(BLOCK).zip(self.recent_ids.chunks(BLOCK)) {
            let any_near = fingerprints.iter().fold(false, |any, other| {
                any | (simhash::distance(fingerprint, *other) <= simhash::NEAR_DUPLICATE_BITS)
            });
            if !any_near {
                continue;
            }
            for (other, id) in fingerprints.iter().zip(ids) {
                let distance = simhash::distance(fingerprint, *other);
                if distance <= simhash::NEAR_DUPLICATE_BITS {
                    candidates.push((distance, *id));
                }
            }
        }
        candidates.sort_unstable();
        for (distance, id) in candidates.into_iter().take(5) {
            let stored;
            let theirs = match self.run_shingles.get(&id) {
                Some(theirs) => theirs,
                None => {
                    let Some(scored) = store.get(id)? else { continue };
                    stored = simhash::shingles(&scored.item.classifier_input());
                    &stored
                }
            };
            let mine = shingles.get_or_insert_with(|| simhash::shingles(text));
            if simhash::jaccard(mine, theirs) >= simhash::MIN_RESEMBLANCE {
                return Ok(Some((id, Relation::NearDuplicate { distance })));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use infodemic_store::SledStore;

    /// The window is scanned in blocks: a candidate in any block, at either edge of one, or in
    /// the last, partial block is found, and its id is the one beside its fingerprint.
    #[test]
    fn a_near_copy_is_found_wherever_it_sits_in_the_window() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let (store, _) = SledStore::open(&dir.path().join("store")).unwrap_or_else(|e| panic!("store: {e}"));
        let text = "Garlic water cures the virus overnight, a doctor says, and hospitals hide it from you.";
        let Some(fingerprint) = simhash::simhash(text) else { panic!("the text has a fingerprint") };
        // Every other fingerprint is at least 32 bits away: no candidate but the planted one.
        let far = |n: u64| fingerprint ^ (0xffff_ffff_0000_0000_u64.rotate_left((n % 32) as u32));
        for position in [0, 63, 64, 127, 130, 199] {
            let mut memory = RunMemory::default();
            for n in 0..200u64 {
                let id = ItemId::from_canonical_url(&format!("https://example.org/{n}"));
                let near = n as usize == position;
                memory.recent.push(if near { fingerprint ^ 0b111 } else { far(n) });
                memory.recent_ids.push(id);
                if near {
                    memory.run_shingles.insert(id, simhash::shingles(text));
                }
            }
            let found = memory
                .near_duplicate_of(&store, Some(fingerprint), text, &mut None)
                .unwrap_or_else(|e| panic!("store: {e}"));
            let planted = ItemId::from_canonical_url(&format!("https://example.org/{position}"));
            assert_eq!(found, Some((planted, Relation::NearDuplicate { distance: 3 })), "at {position}");
        }
    }
}
