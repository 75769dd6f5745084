//! Counts kept at commit (tree `counts`), so `stats` reads a few hundred keys instead of
//! decoding every item. Keys: `t` (total), `d` + day (`2026-11-20`), `s` + source, `g` +
//! language, `l` + label; values: items and flagged items, two big-endian u64. Every write of
//! items changes them in the same transaction; a store without them (written by an older build)
//! gets them from one pass over its items at open.

use std::collections::BTreeMap;

use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use crate::records;
use crate::stats::{Counts, StoreStats};
use crate::{Result, SledStore, StoreError};

pub(crate) const COUNTS_TREE: &str = "counts";
/// In `meta`: present once the counters hold every item.
const READY_KEY: &[u8] = b"counts_version";
const READY_VERSION: u8 = 1;

/// Changes to the counters from one batch. Every store keeps the same keys, so `stats` reads
/// the same few hundred counters whichever store holds the items.
#[derive(Debug, Default)]
pub struct CountDelta {
    changes: BTreeMap<Vec<u8>, (i64, i64)>,
}

fn keys_of(scored: &infodemic_core::ScoredItem) -> [Vec<u8>; 5] {
    let item = &scored.item;
    let prefixed = |prefix: u8, text: &str| [&[prefix][..], text.as_bytes()].concat();
    [
        b"t".to_vec(),
        prefixed(b'd', &item.effective_time().date_naive().to_string()),
        prefixed(b's', item.source.as_str()),
        prefixed(b'g', item.language.as_deref().unwrap_or("unknown")),
        prefixed(b'l', scored.classification.label().as_str()),
    ]
}

impl CountDelta {
    /// Counts `scored` in (`sign` 1) or out (`sign` -1).
    pub fn add(&mut self, scored: &infodemic_core::ScoredItem, sign: i64) {
        let flagged = i64::from(scored.classification.flagged) * sign;
        for key in keys_of(scored) {
            let entry = self.changes.entry(key).or_default();
            entry.0 += sign;
            entry.1 += flagged;
        }
    }

    /// The changes that are not zero, in key order (so concurrent writers lock rows in one
    /// order): key, items and flagged items to add.
    pub fn changes(&self) -> impl Iterator<Item = (&[u8], i64, i64)> {
        self.changes
            .iter()
            .filter(|(_, (items, flagged))| *items != 0 || *flagged != 0)
            .map(|(key, (items, flagged))| (key.as_slice(), *items, *flagged))
    }

    /// Applies the changes inside a transaction.
    pub(crate) fn apply(
        &self,
        counts: &TransactionalTree,
    ) -> std::result::Result<(), ConflictableTransactionError<StoreError>> {
        for (key, (items, flagged)) in &self.changes {
            if *items == 0 && *flagged == 0 {
                continue;
            }
            let (old_items, old_flagged) = counts.get(key)?.map_or((0, 0), |value| decode(&value));
            let items = old_items.saturating_add_signed(*items);
            let flagged = old_flagged.saturating_add_signed(*flagged);
            if items == 0 {
                counts.remove(key.as_slice())?;
            } else {
                counts.insert(key.as_slice(), encode(items, flagged).as_slice())?;
            }
        }
        Ok(())
    }
}

fn encode(items: u64, flagged: u64) -> [u8; 16] {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&items.to_be_bytes());
    bytes[8..].copy_from_slice(&flagged.to_be_bytes());
    bytes
}

fn decode(bytes: &[u8]) -> (u64, u64) {
    let read = |range: std::ops::Range<usize>| {
        bytes.get(range).and_then(|b| <[u8; 8]>::try_from(b).ok()).map_or(0, u64::from_be_bytes)
    };
    (read(0..8), read(8..16))
}

impl SledStore {
    /// Makes sure the counters hold every item: a store from a build without them is counted
    /// once, here. Returns how many items were counted (0 when they were already there).
    pub(crate) fn ensure_counters(&self) -> Result<u64> {
        if self.meta.get(READY_KEY)?.is_some() {
            return Ok(0);
        }
        let counts = self.tree(COUNTS_TREE)?;
        counts.clear()?;
        let mut delta = CountDelta::default();
        let mut counted = 0u64;
        for entry in self.items_tree().iter() {
            let (_, value) = entry?;
            delta.add(&records::decode_item(&value)?, 1);
            counted += 1;
            self.report_upkeep("counting items", counted);
        }
        counts.transaction(|tree| delta.apply(tree))?;
        self.meta.insert(READY_KEY, &[READY_VERSION])?;
        self.db.flush()?;
        if counted > 0 {
            tracing::info!(message = "Item counts built for `stats`.", items = counted);
        }
        Ok(counted)
    }

    /// Counts every item again (after a migration rewrote them).
    pub(crate) fn recount(&self) -> Result<u64> {
        self.meta.remove(READY_KEY)?;
        self.ensure_counters()
    }

    /// The counts, as `stats` shows them (feeds and claims filled by the caller).
    pub(crate) fn counted_stats(&self) -> Result<StoreStats> {
        stats_from_counts(self.tree(COUNTS_TREE)?.iter().map(|entry| {
            let (key, value) = entry?;
            let (items, flagged) = decode(&value);
            Ok((key.to_vec(), items, flagged))
        }))
    }

    /// The counts from one pass over every item (what the counters must equal).
    pub(crate) fn decoded_stats(&self) -> Result<StoreStats> {
        let mut stats = StoreStats::default();
        for entry in self.items_tree().iter() {
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
        Ok(stats)
    }
}

/// `stats` from counters (key, items, flagged items) as [`CountDelta`] keys them; feeds and
/// claims are left for the caller.
///
/// # Errors
/// Those of `rows`, and a day key that is not a date.
pub fn stats_from_counts(rows: impl IntoIterator<Item = Result<(Vec<u8>, u64, u64)>>) -> Result<StoreStats> {
    let mut stats = StoreStats::default();
    for row in rows {
        let (key, items, flagged) = row?;
        let counts = Counts { items, flagged };
        let Some((prefix, name)) = key.split_first() else { continue };
        let name = String::from_utf8_lossy(name).into_owned();
        match prefix {
            b't' => stats.total = counts,
            b'd' => {
                let day = name
                    .parse()
                    .map_err(|_| StoreError::Corrupt { tree: "counts", message: format!("not a day: {name}") })?;
                stats.per_day.insert(day, counts);
            }
            b's' => {
                stats.per_source.insert(name, counts);
            }
            b'g' => {
                stats.per_language.insert(name, counts);
            }
            b'l' => {
                stats.per_label.insert(name, items);
            }
            _ => {}
        }
    }
    Ok(stats)
}
