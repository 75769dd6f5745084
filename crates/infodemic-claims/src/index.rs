//! Nearest fact-checked claim to a sentence embedding.
//!
//! # Architecture
//! A brute-force scan over one contiguous `Vec<f32>` (row-major, one row per claim): a
//! query costs one dot product per claim, a linear read the compiler vectorises, with no
//! pointer chasing and no index to build or keep in sync. Rows and queries are L2-normalised
//! here, so the dot product is the cosine similarity whatever the caller passes.
//!
//! Why no approximate-nearest-neighbour (ANN) index, reasoned rather than benchmarked: a
//! 384-d row is 1.5 KiB, so 10,000 claims are 15 MiB and a query reads them once: about
//! 1–2 ms from main memory at a few GB/s per core, less from cache; the 384 multiply-adds per
//! row are cheaper than the read. The classifier that makes the query embedding takes about
//! 4 ms per text on the development machine (about 239 texts/s), so up to roughly 10,000
//! claims matching costs less than inference. Fact-checkers' whole ClaimReview output is in
//! the hundreds of thousands; at about 50,000 claims (75 MiB, a scan per item as slow as the
//! model) an ANN index (HNSW) or int8 rows become worth their complexity and recall loss.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::{ClaimsError, Result};
use crate::ClaimId;

/// Dimension of the embeddings of the served model (`minilm-health-v3`).
pub const EMBEDDING_DIM: usize = 384;

/// Cosine similarity from which an item's sentence is taken to be about a claim, for the
/// served model's embeddings (`minilm-health-v3`: the frozen all-MiniLM-L6-v2 branch, 7-bit
/// weights, on text without links and handles).
///
/// Tuned on 200 pairs written for it (`tests/fixtures/claims/pairs-v3.jsonl`): the best F1 on
/// the tune half; on the held-out test half (100 pairs) it gives precision 0.881, recall 0.867,
/// F1 0.874, and on the 150 older pairs (`pairs.jsonl`) 0.843 / 0.824 / 0.833. A small sample:
/// treat a match as a lead for review, and re-tune for another model. See
/// `crates/infodemic-claims/tune/RESULTS.md`.
pub const MATCH_THRESHOLD: f32 = 0.59;

/// A claim an embedding matched.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClaimMatch {
    /// The claim.
    pub claim: ClaimId,
    /// Cosine similarity of the two embeddings, in `-1.0..=1.0`.
    pub similarity: f32,
}

/// Embeddings of claims, searchable by cosine similarity.
#[derive(Clone, Debug)]
pub struct ClaimIndex {
    dim: usize,
    ids: Vec<ClaimId>,
    /// `ids.len() * dim` values, row `i` belonging to `ids[i]`.
    rows: Vec<f32>,
    positions: HashMap<ClaimId, usize>,
}

impl Default for ClaimIndex {
    fn default() -> Self {
        Self::new(EMBEDDING_DIM)
    }
}

impl ClaimIndex {
    /// An empty index of `dim`-dimensional embeddings.
    pub fn new(dim: usize) -> Self {
        Self { dim, ids: Vec::new(), rows: Vec::new(), positions: HashMap::new() }
    }

    /// An empty index with room for `capacity` claims.
    pub fn with_capacity(dim: usize, capacity: usize) -> Self {
        Self {
            dim,
            ids: Vec::with_capacity(capacity),
            rows: Vec::with_capacity(capacity.saturating_mul(dim)),
            positions: HashMap::with_capacity(capacity),
        }
    }

    /// The dimension of the embeddings.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of claims.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the index holds no claim.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Whether the index holds an embedding of `claim`.
    pub fn contains(&self, claim: ClaimId) -> bool {
        self.positions.contains_key(&claim)
    }

    /// Adds the embedding of `claim`, normalised to unit length, or replaces the one it had.
    ///
    /// # Errors
    /// [`ClaimsError::Dimension`] when the length is not [`ClaimIndex::dim`];
    /// [`ClaimsError::BadEmbedding`] when a value is not finite or all are zero.
    pub fn insert(&mut self, claim: ClaimId, embedding: &[f32]) -> Result<()> {
        let unit = self.unit(embedding)?;
        match self.positions.get(&claim) {
            Some(&position) => self.rows[position * self.dim..(position + 1) * self.dim].copy_from_slice(&unit),
            None => {
                self.positions.insert(claim, self.ids.len());
                self.ids.push(claim);
                self.rows.extend_from_slice(&unit);
            }
        }
        Ok(())
    }

    /// The `k` claims most similar to `query`, most similar first (ties by id). A query of
    /// another dimension, zero, or not finite matches nothing.
    pub fn nearest(&self, query: &[f32], k: usize) -> Vec<(ClaimId, f32)> {
        if k == 0 || self.is_empty() {
            return Vec::new();
        }
        let Ok(query) = self.unit(query) else {
            tracing::debug!(message = "query embedding rejected", len = query.len(), dim = self.dim);
            return Vec::new();
        };
        let mut scored: Vec<(ClaimId, f32)> =
            self.ids.iter().zip(self.rows.chunks_exact(self.dim)).map(|(&id, row)| (id, dot(row, &query))).collect();
        let by_similarity = |a: &(ClaimId, f32), b: &(ClaimId, f32)| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0));
        if k < scored.len() {
            scored.select_nth_unstable_by(k - 1, by_similarity);
            scored.truncate(k);
        }
        scored.sort_unstable_by(by_similarity);
        scored
    }

    /// The most similar claim, if its similarity reaches `threshold` (see [`MATCH_THRESHOLD`]).
    pub fn best_match(&self, query: &[f32], threshold: f32) -> Option<ClaimMatch> {
        self.nearest(query, 1)
            .into_iter()
            .find(|&(_, similarity)| similarity >= threshold)
            .map(|(claim, similarity)| ClaimMatch { claim, similarity })
    }

    /// `embedding` scaled to unit length, if it has the index's dimension and a finite,
    /// non-zero norm.
    fn unit(&self, embedding: &[f32]) -> Result<Vec<f32>> {
        if embedding.len() != self.dim {
            return Err(ClaimsError::Dimension { expected: self.dim, found: embedding.len() });
        }
        let norm = dot(embedding, embedding).sqrt();
        if !norm.is_finite() || norm == 0.0 {
            return Err(ClaimsError::BadEmbedding);
        }
        Ok(embedding.iter().map(|value| value / norm).collect())
    }
}

/// Dot product, in eight independent lanes so that the compiler can vectorise it without
/// reassociating floating-point additions itself.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (a_chunks, b_chunks) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a_chunks.remainder().iter().zip(b_chunks.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for lane in 0..8 {
            lanes[lane] += x[lane] * y[lane];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn id(n: u8) -> ClaimId {
        ClaimId([n; 8])
    }

    fn index_of(rows: &[(u8, [f32; 3])]) -> ClaimIndex {
        let mut index = ClaimIndex::new(3);
        for (n, row) in rows {
            index.insert(id(*n), row).unwrap();
        }
        index
    }

    #[test]
    fn nearest_orders_by_cosine() {
        let index =
            index_of(&[(1, [1.0, 0.0, 0.0]), (2, [0.0, 1.0, 0.0]), (3, [1.0, 1.0, 0.0]), (4, [-1.0, 0.0, 0.0])]);
        let found = index.nearest(&[2.0, 0.1, 0.0], 3);
        let ids: Vec<ClaimId> = found.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, [id(1), id(3), id(2)]);
        assert!((found[0].1 - 0.99875).abs() < 1e-4, "{found:?}");
        assert_eq!(index.nearest(&[1.0, 0.0, 0.0], 10).len(), 4);
        assert!(index.nearest(&[1.0, 0.0, 0.0], 0).is_empty());
    }

    #[test]
    fn best_match_respects_the_threshold() {
        let index = index_of(&[(1, [1.0, 0.0, 0.0]), (2, [0.0, 1.0, 0.0])]);
        let hit = index.best_match(&[0.9, 0.1, 0.0], 0.9).unwrap();
        assert_eq!(hit.claim, id(1));
        assert!(hit.similarity > 0.99);
        assert_eq!(index.best_match(&[1.0, 1.0, 0.0], 0.9), None);
        assert_eq!(ClaimIndex::new(3).best_match(&[1.0, 0.0, 0.0], 0.0), None);
    }

    #[test]
    fn insert_replaces_and_validates() {
        let mut index = index_of(&[(1, [1.0, 0.0, 0.0]), (2, [0.0, 1.0, 0.0])]);
        index.insert(id(1), &[0.0, 0.0, 5.0]).unwrap();
        assert_eq!(index.len(), 2);
        assert!(index.contains(id(1)));
        assert_eq!(index.nearest(&[0.0, 0.0, 1.0], 1)[0].0, id(1));
        assert_eq!(index.insert(id(3), &[1.0, 0.0]), Err(ClaimsError::Dimension { expected: 3, found: 2 }));
        assert_eq!(index.insert(id(3), &[0.0, 0.0, 0.0]), Err(ClaimsError::BadEmbedding));
        assert_eq!(index.insert(id(3), &[f32::NAN, 0.0, 1.0]), Err(ClaimsError::BadEmbedding));
        assert!(index.nearest(&[1.0, 0.0], 1).is_empty());
        assert!(index.nearest(&[f32::INFINITY, 0.0, 0.0], 1).is_empty());
        assert_eq!(ClaimIndex::default().dim(), EMBEDDING_DIM);
    }

    #[test]
    fn dot_handles_tails() {
        let a: Vec<f32> = (0..19).map(|i| i as f32).collect();
        let expected: f32 = a.iter().map(|x| x * x).sum();
        assert!((dot(&a, &a) - expected).abs() < 1e-3);
    }

    proptest! {
        #[test]
        fn nearest_is_sorted_and_agrees_with_a_full_sort(
            rows in proptest::collection::vec(proptest::collection::vec(-1.0f32..1.0, 5), 1..40),
            query in proptest::collection::vec(-1.0f32..1.0, 5),
            k in 1usize..10,
        ) {
            let mut index = ClaimIndex::new(5);
            for (n, row) in rows.iter().enumerate() {
                let _ = index.insert(ClaimId((n as u64).to_be_bytes()), row);
            }
            let found = index.nearest(&query, k);
            let all = index.nearest(&query, usize::MAX);
            prop_assert!(found.len() <= k);
            prop_assert!(found.windows(2).all(|w| w[0].1 >= w[1].1));
            prop_assert_eq!(&all[..found.len()], &found[..]);
            for (_, similarity) in &all {
                prop_assert!((-1.0001..=1.0001).contains(similarity));
            }
        }
    }
}
