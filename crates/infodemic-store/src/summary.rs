//! What each `idx_time`, `idx_score` and `idx_source` entry says about its item: time, score,
//! flags and a hash of its source, 17 bytes. A query filters on index entries and decodes only
//! the items that can pass; a million-item store answers `--flagged` without decoding the
//! unflagged ones, and `--sort score --source X` without decoding other sources' items.
//!
//! Stores written before the summaries have empty values; they are filled once at open, and
//! until then (or for any entry that is not 17 bytes) the item is decoded, so an old or
//! damaged entry costs time, never a wrong answer.

use infodemic_core::{ItemQuery, ScoredItem};

use crate::{keys, records, Result, SledStore};

/// In `meta`: present once every index entry carries its summary.
const READY_KEY: &[u8] = b"summaries_version";
/// 2: the source hash was added.
const READY_VERSION: u8 = 2;
const LEN: usize = 17;
const FLAGGED: u8 = 1;
const REVIEW: u8 = 2;
const SCORED: u8 = 4;

/// An item's time, score and flags as its index entries carry them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Summary {
    /// [`keys::time_key`] of the item's effective time.
    pub(crate) time: [u8; 8],
    /// The score shown (none for a language the model does not know).
    pub(crate) score: Option<f32>,
    pub(crate) flagged: bool,
    pub(crate) review: bool,
    /// [`source_hash`] of the item's source.
    pub(crate) source: u32,
}

/// Four bytes of SHA-256 of a source id: equal hashes may be different sources (the item is
/// then decoded and checked), different hashes never are.
pub(crate) fn source_hash(source: &str) -> u32 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(source.as_bytes());
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

impl Summary {
    pub(crate) fn of(scored: &ScoredItem) -> Self {
        let class = &scored.classification;
        Self {
            time: keys::time_key(scored.item.effective_time()),
            score: class.shown_score(),
            flagged: class.flagged,
            review: class.review,
            source: source_hash(scored.item.source.as_str()),
        }
    }

    pub(crate) fn encode(&self) -> [u8; LEN] {
        let mut bytes = [0u8; LEN];
        bytes[..8].copy_from_slice(&self.time);
        bytes[8..12].copy_from_slice(&self.score.unwrap_or(0.0).to_be_bytes());
        bytes[12] = (u8::from(self.flagged) * FLAGGED)
            | (u8::from(self.review) * REVIEW)
            | (u8::from(self.score.is_some()) * SCORED);
        bytes[13..].copy_from_slice(&self.source.to_be_bytes());
        bytes
    }

    /// `None` for an entry without a summary (an older store's, or a damaged one).
    pub(crate) fn decode(bytes: &[u8]) -> Option<Self> {
        let bytes: &[u8; LEN] = bytes.try_into().ok()?;
        let flags = bytes[12];
        let mut time = [0u8; 8];
        time.copy_from_slice(&bytes[..8]);
        let score = f32::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        Some(Self {
            time,
            score: (flags & SCORED != 0).then_some(score),
            flagged: flags & FLAGGED != 0,
            review: flags & REVIEW != 0,
            source: u32::from_be_bytes([bytes[13], bytes[14], bytes[15], bytes[16]]),
        })
    }

    /// Whether an item with this summary can pass the filters of `query` that the summary
    /// knows about (flags, score, time, sources by hash); the others are checked on the item.
    pub(crate) fn admits(&self, query: &ItemQuery) -> bool {
        if !query.sources.is_empty() && !query.sources.iter().any(|s| source_hash(s.as_str()) == self.source) {
            return false;
        }
        if query.flagged_only && !self.flagged {
            return false;
        }
        if query.review_only && !self.review {
            return false;
        }
        if let Some(min) = query.min_score {
            if self.score.is_none_or(|score| score < min) {
                return false;
            }
        }
        if query.since.is_some_and(|since| self.time < keys::time_key(since)) {
            return false;
        }
        query.until.is_none_or(|until| self.time < keys::time_key(until))
    }
}

impl SledStore {
    /// Makes sure every index entry carries its item's summary: a store from a build without
    /// them gets them here, in one pass. Returns how many items were summarised (0 when they
    /// already were).
    pub(crate) fn ensure_summaries(&self) -> Result<u64> {
        if self.meta.get(READY_KEY)?.as_deref() == Some(&[READY_VERSION][..]) {
            return Ok(0);
        }
        let trees = [self.tree("idx_time")?, self.tree("idx_score")?, self.tree("idx_source")?];
        let mut batches: [sled::Batch; 3] = Default::default();
        let mut done = 0u64;
        for entry in self.items_tree().iter() {
            let (_, value) = entry?;
            let scored = records::decode_item(&value)?;
            let summary = Summary::of(&scored).encode();
            for (batch, key) in batches.iter_mut().zip(index_keys(&scored)) {
                batch.insert(key, &summary);
            }
            done += 1;
            self.report_upkeep("writing index summaries", done);
            // Applied in slices: a million items' worth of batches would be held in memory.
            if done.is_multiple_of(10_000) {
                for (tree, batch) in trees.iter().zip(&mut batches) {
                    tree.apply_batch(std::mem::take(batch))?;
                }
            }
        }
        for (tree, batch) in trees.iter().zip(batches) {
            tree.apply_batch(batch)?;
        }
        self.meta.insert(READY_KEY, &[READY_VERSION])?;
        self.db.flush()?;
        if done > 0 {
            tracing::info!(message = "Index summaries written for fast filters.", items = done);
        }
        Ok(done)
    }

    /// Writes every summary again (after a migration rewrote the items).
    pub(crate) fn resummarise(&self) -> Result<u64> {
        self.meta.remove(READY_KEY)?;
        self.ensure_summaries()
    }
}

/// The keys of an item in `idx_time`, `idx_score` and `idx_source`, in that order.
pub(crate) fn index_keys(scored: &ScoredItem) -> [Vec<u8>; 3] {
    let item = &scored.item;
    let time = item.effective_time();
    [
        keys::by_time(time, item.id),
        keys::by_score(crate::sled_store::index_score(scored), item.id),
        keys::by_source(item.source.as_str(), time, item.id),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sled_store::tests::scored;

    #[test]
    fn summaries_round_trip_and_filter_like_the_query() {
        let mut item = scored("https://a.example/1", "who", 3, 0.9);
        item.classification.flagged = true;
        let summary = Summary::of(&item);
        assert_eq!(Summary::decode(&summary.encode()), Some(summary));
        assert_eq!(Summary::decode(&[]), None, "an older store's empty value has no summary");

        let queries = [
            ItemQuery { flagged_only: true, ..ItemQuery::default() },
            ItemQuery { review_only: true, ..ItemQuery::default() },
            ItemQuery { min_score: Some(0.95), ..ItemQuery::default() },
            ItemQuery { min_score: Some(0.5), ..ItemQuery::default() },
            ItemQuery { since: Some(chrono::Utc::now() - chrono::Duration::days(1)), ..ItemQuery::default() },
            ItemQuery { until: Some(chrono::Utc::now() - chrono::Duration::days(1)), ..ItemQuery::default() },
            ItemQuery { sources: vec![item.item.source.clone()], ..ItemQuery::default() },
            ItemQuery { sources: vec![infodemic_core::SourceId::new("other").unwrap()], ..ItemQuery::default() },
        ];
        for unsupported in [false, true] {
            item.classification.language_supported = !unsupported;
            let summary = Summary::decode(&Summary::of(&item).encode()).unwrap();
            for query in &queries {
                assert_eq!(summary.admits(query), query.matches(&item), "{query:?}, unsupported {unsupported}");
            }
        }
    }
}
