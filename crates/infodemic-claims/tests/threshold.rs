//! `MATCH_THRESHOLD` against the data it was tuned on: the similarities the tuning script
//! wrote (`tests/fixtures/claims/pairs-v3.similarity.jsonl`, one line per line of
//! `pairs-v3.jsonl`, the pairs written for the served model)
//! and a few real embeddings (`embeddings.sample.json`). Regenerate both with
//! `models/train/.venv/bin/python crates/infodemic-claims/tune/tune_threshold.py`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is the failure report.

use std::path::PathBuf;

use infodemic_claims::{ClaimId, ClaimIndex, MATCH_THRESHOLD};
use infodemic_core::metrics::evaluate;
use serde::Deserialize;

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/claims").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

#[derive(Deserialize)]
struct Pair {
    text: String,
    claim: String,
    #[serde(rename = "match")]
    is_match: bool,
}

#[derive(Deserialize)]
struct Scored {
    line: usize,
    split: String,
    #[serde(rename = "match")]
    is_match: bool,
    similarity: f32,
}

fn scored() -> Vec<Scored> {
    let pairs: Vec<Pair> = fixture("pairs-v3.jsonl").lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let scored: Vec<Scored> =
        fixture("pairs-v3.similarity.jsonl").lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(scored.len(), pairs.len(), "pairs-v3.similarity.jsonl is stale: re-run tune_threshold.py");
    for (index, (pair, score)) in pairs.iter().zip(&scored).enumerate() {
        assert_eq!(score.line, index + 1);
        assert_eq!(score.is_match, pair.is_match, "line {}: stale similarity file", index + 1);
        assert!(!pair.text.trim().is_empty() && !pair.claim.trim().is_empty(), "line {}", index + 1);
    }
    scored
}

fn half(scored: &[Scored], split: &str) -> (Vec<f32>, Vec<bool>) {
    scored.iter().filter(|s| s.split == split).map(|s| (s.similarity, s.is_match)).unzip()
}

#[test]
fn test_half_metrics_are_the_documented_ones() {
    let scored = scored();
    let (test_sims, test_labels) = half(&scored, "test");
    let (tune_sims, _) = half(&scored, "tune");
    assert_eq!((tune_sims.len(), test_sims.len()), (100, 100));
    let report = evaluate(&test_sims, &test_labels, MATCH_THRESHOLD);
    let c = report.confusion;
    assert_eq!((c.true_positive, c.false_positive, c.false_negative, c.true_negative), (52, 7, 8, 33));
    assert!((report.precision - 0.881).abs() < 5e-4, "{report:?}");
    assert!((report.recall - 0.867).abs() < 5e-4, "{report:?}");
    assert!((report.f1 - 0.874).abs() < 5e-4, "{report:?}");
}

#[test]
fn threshold_maximises_tune_f1() {
    let scored = scored();
    let (sims, labels) = half(&scored, "tune");
    let chosen = evaluate(&sims, &labels, MATCH_THRESHOLD).f1;
    for step in 0..=100u8 {
        let threshold = f32::from(step) / 100.0;
        let f1 = evaluate(&sims, &labels, threshold).f1;
        assert!(f1 <= chosen + 1e-9, "threshold {threshold} has tune F1 {f1} > {chosen}");
    }
}

#[derive(Deserialize)]
struct Sample {
    claims: Vec<SampleClaim>,
    queries: Vec<SampleQuery>,
}

#[derive(Deserialize)]
struct SampleClaim {
    embedding: Vec<f32>,
}

#[derive(Deserialize)]
struct SampleQuery {
    text: String,
    expected: usize,
    embedding: Vec<f32>,
}

#[test]
fn real_embeddings_find_their_claim_among_hard_negatives() {
    let sample: Sample = serde_json::from_str(&fixture("embeddings.sample.json")).unwrap();
    let ids: Vec<ClaimId> = (0..sample.claims.len()).map(|i| ClaimId((i as u64).to_be_bytes())).collect();
    let mut index = ClaimIndex::default();
    for (id, claim) in ids.iter().zip(&sample.claims) {
        index.insert(*id, &claim.embedding).unwrap();
    }
    let mut matched = 0;
    for query in &sample.queries {
        let nearest = index.nearest(&query.embedding, 2);
        assert_eq!(nearest[0].0, ids[query.expected], "{}: {nearest:?}", query.text);
        match index.best_match(&query.embedding, MATCH_THRESHOLD) {
            Some(found) => {
                assert_eq!(found.claim, ids[query.expected], "{}", query.text);
                matched += 1;
            }
            None => assert!(nearest[0].1 < MATCH_THRESHOLD),
        }
    }
    // Six of the eight clear the threshold; two slangy paraphrases ("tracking chip ... arm
    // becomes magnetic", "Gardasil destroyed my daughter's ovaries") stay below it.
    assert_eq!(matched, 6);
}
