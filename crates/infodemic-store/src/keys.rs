//! Key encodings. Big-endian and order-preserving, so sled's byte order is query order.

use chrono::{DateTime, Utc};
use infodemic_core::ItemId;

/// Microseconds since the epoch, sign bit flipped: negative times sort before positive.
pub fn time_key(time: DateTime<Utc>) -> [u8; 8] {
    ((time.timestamp_micros() as u64) ^ (1 << 63)).to_be_bytes()
}

/// Inverse of [`time_key`].
pub fn time_from_key(bytes: [u8; 8]) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros((u64::from_be_bytes(bytes) ^ (1 << 63)) as i64)
}

/// Scores are probabilities: the IEEE bits of a non-negative float sort like the float.
pub fn score_key(score: f32) -> [u8; 4] {
    let clamped = if score.is_nan() { 0.0 } else { score.clamp(0.0, 1.0) };
    clamped.to_bits().to_be_bytes()
}

/// The score items are ordered by (`--sort score`): the score shown, in [0, 1]; an item without
/// one (unscored, or in a language the model does not know) sorts as 0.
pub fn sort_score(scored: &infodemic_core::ScoredItem) -> f32 {
    let score = scored.classification.shown_score().unwrap_or(0.0);
    if score.is_nan() {
        0.0
    } else {
        score.clamp(0.0, 1.0)
    }
}

/// `idx_time` key: time, then id (several items can share a microsecond).
pub fn by_time(time: DateTime<Utc>, id: ItemId) -> Vec<u8> {
    [time_key(time).as_slice(), id.as_bytes()].concat()
}

/// `idx_score` key: score, then id.
pub fn by_score(score: f32, id: ItemId) -> Vec<u8> {
    [score_key(score).as_slice(), id.as_bytes()].concat()
}

/// Prefix of one source in `idx_source`: the id, then a 0 byte (source ids have no NUL).
pub fn source_prefix(source: &str) -> Vec<u8> {
    [source.as_bytes(), &[0u8]].concat()
}

/// `idx_source` key: source prefix, time, id.
pub fn by_source(source: &str, time: DateTime<Utc>, id: ItemId) -> Vec<u8> {
    [source_prefix(source).as_slice(), time_key(time).as_slice(), id.as_bytes()].concat()
}

/// `appearances` key: the canonical item, then 8 bytes of SHA-256 of the copy's URL, so a
/// copy seen again replaces its record instead of adding one.
pub fn appearance(item: ItemId, url: &str) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(url.as_bytes());
    [item.as_bytes().as_slice(), &digest[..8]].concat()
}

/// The item id at the end of any index key.
pub fn id_suffix(key: &[u8]) -> Option<ItemId> {
    let start = key.len().checked_sub(8)?;
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&key[start..]);
    Some(ItemId(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn time_keys_sort_like_times(a in -4_000_000_000_000_000i64..4_000_000_000_000_000, b in -4_000_000_000_000_000i64..4_000_000_000_000_000) {
            let (ta, tb) = (DateTime::from_timestamp_micros(a).unwrap(), DateTime::from_timestamp_micros(b).unwrap());
            prop_assert_eq!(ta.cmp(&tb), time_key(ta).cmp(&time_key(tb)));
            prop_assert_eq!(time_from_key(time_key(ta)), Some(ta));
        }

        #[test]
        fn score_keys_sort_like_scores(a in 0f32..=1.0, b in 0f32..=1.0) {
            prop_assert_eq!(a.partial_cmp(&b).unwrap(), score_key(a).cmp(&score_key(b)));
        }
    }

    #[test]
    fn id_suffix_reads_the_last_eight_bytes() {
        let id = ItemId([1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(id_suffix(&by_source("who", Utc::now(), id)), Some(id));
        assert_eq!(id_suffix(&[1, 2]), None);
    }
}
