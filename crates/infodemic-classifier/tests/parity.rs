//! Parity: the Rust classifier returns what Python onnxruntime returned for the same model
//! and texts (`tests/fixtures/parity/**/reference.jsonl`, written by `models/train/parity*.py`).
//!
//! Tolerances, and why:
//! - One text per run (no padding, no batch-mates): 2e-3 on the score and on embedding
//!   values. Both sides run the same graph with the same ONNX Runtime build, so results agree
//!   to ~1e-6 on the machine that made the reference; the margin covers CPUs whose int8
//!   kernels differ (AVX2 vs AVX-512 VNNI).
//! - One padded batch of all texts:
//!   - v2 (served) quantises activations per token, so a batch changes nothing beyond float
//!     summation order (the reference measured 0 on the score, 5e-7 on the logit): 1e-4.
//!   - v1 uses dynamic int8 with one activation scale per batch, so a text's outputs move with
//!     its batch-mates (measured up to 0.112 on the score, cosine >= 0.979): 0.15 and 0.97.
//!     This is why a model that is not batch-invariant is run one text at a time by default.
//!
//! Needs the ONNX Runtime library: `bash scripts/setup.sh` (the README's test command runs it).

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is the failure report.

use std::path::{Path, PathBuf};

use infodemic_classifier::{Classify, ModelBundle, OnnxClassifier, OrtRuntime, SessionOptions};
use serde::Deserialize;

#[derive(Deserialize)]
struct Reference {
    text: String,
    score: f32,
    embedding_head: Vec<f32>,
    embedding_norm: f32,
    input_ids_len: usize,
}

/// A served model and its Python reference.
struct Case {
    model: &'static str,
    reference: &'static str,
}

const V1: Case = Case { model: "models/minilm-constraint-v1", reference: "tests/fixtures/parity/reference.jsonl" };
const V2: Case = Case { model: "models/minilm-health-v2", reference: "tests/fixtures/parity/v2/reference.jsonl" };

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn classifier(case: &Case, batch_size: usize) -> OnnxClassifier {
    let library = std::env::var_os("INFODEMIC_ORT_LIB")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join(".ort/onnxruntime/capi/libonnxruntime.so.1.31.1"));
    let runtime = OrtRuntime::init(&library)
        .unwrap_or_else(|e| panic!("{e}: run `bash scripts/setup.sh` first (the README's test command does)"));
    let bundle = ModelBundle::load(&workspace().join(case.model)).unwrap();
    OnnxClassifier::load(&runtime, &bundle, SessionOptions { intra_threads: 1, batch_size: Some(batch_size) }).unwrap()
}

fn references(case: &Case) -> Vec<Reference> {
    let text = std::fs::read_to_string(workspace().join(case.reference)).unwrap();
    text.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

fn single_text_runs_match_python(case: &Case) {
    let mut classifier = classifier(case, 1);
    let references = references(case);
    assert!(references.len() >= 10);
    for reference in &references {
        let out = classifier.predict_batch(&[reference.text.as_str()]).unwrap().remove(0);
        assert!(
            (out.score - reference.score).abs() < 2e-3,
            "{}: score {} vs python {} for {:?}",
            case.model,
            out.score,
            reference.score,
            reference.text
        );
        for (ours, theirs) in out.embedding.iter().zip(&reference.embedding_head) {
            assert!(
                (ours - theirs).abs() < 2e-3,
                "{}: embedding {ours} vs {theirs} for {:?}",
                case.model,
                reference.text
            );
        }
        let norm = out.embedding.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - reference.embedding_norm).abs() < 1e-3);
    }
}

#[test]
fn v1_single_text_runs_match_python() {
    single_text_runs_match_python(&V1);
}

#[test]
fn v2_single_text_runs_match_python() {
    single_text_runs_match_python(&V2);
}

#[test]
fn v2_is_batch_invariant() {
    let references = references(&V2);
    let texts: Vec<&str> = references.iter().map(|r| r.text.as_str()).collect();
    let mut single = classifier(&V2, 1);
    let batch = classifier(&V2, 64).predict_batch(&texts).unwrap();
    for (reference, out) in references.iter().zip(&batch) {
        let alone = single.predict_batch(&[reference.text.as_str()]).unwrap().remove(0);
        assert!((out.score - alone.score).abs() < 1e-4, "{:?}: {} vs {}", reference.text, out.score, alone.score);
        assert!(cosine(&out.embedding, &alone.embedding) > 0.9999, "{:?}", reference.text);
    }
}

#[test]
fn v1_padded_batches_stay_within_the_measured_drift() {
    let references = references(&V1);
    let texts: Vec<&str> = references.iter().map(|r| r.text.as_str()).collect();
    let mut single = classifier(&V1, 1);
    let batch = classifier(&V1, 64).predict_batch(&texts).unwrap();
    for (reference, out) in references.iter().zip(&batch) {
        let alone = single.predict_batch(&[reference.text.as_str()]).unwrap().remove(0);
        assert!((out.score - reference.score).abs() < 0.15, "{:?}", reference.text);
        assert!(cosine(&out.embedding, &alone.embedding) > 0.97, "{:?}", reference.text);
    }
}

#[test]
fn classify_keeps_input_order_and_applies_the_thresholds() {
    let mut classifier = classifier(&V2, 32);
    let references = references(&V2);
    let texts: Vec<String> = references.iter().map(|r| r.text.clone()).collect();
    let (review, flag) = (classifier.manifest().review_threshold(), classifier.manifest().flag_threshold());
    assert!(review < flag);
    let results = classifier.classify(&texts).unwrap();
    assert_eq!(results.len(), texts.len());
    for (reference, result) in references.iter().zip(&results) {
        // Texts cut at the token limit are scored by windows instead (see windows.rs).
        if reference.input_ids_len < 128 {
            assert!((result.score - reference.score).abs() < 2e-3, "{:?}", reference.text);
        }
        if result.language_supported {
            assert_eq!(result.flagged, result.score >= flag);
            assert_eq!(result.review, result.score >= review);
        } else {
            assert!(!result.flagged && !result.review);
        }
        assert_eq!(result.embedding.len(), 384);
    }
}

#[test]
fn the_embedding_is_the_same_sentence_space_in_both_models() {
    // v2 keeps the frozen encoder's embedding: claim matching and campaigns do not change.
    let (v1, v2) = (references(&V1), references(&V2));
    for (one, two) in v1.iter().zip(&v2) {
        assert_eq!(one.text, two.text);
        assert!(cosine(&one.embedding_head, &two.embedding_head) > 0.95, "{:?}", one.text);
    }
}

#[test]
fn long_texts_are_read_to_the_end_and_explained() {
    let mut classifier = classifier(&V2, 32);
    let calm = "The regional health office reported 1,121 new cases and 12 deaths on Tuesday, \
                a small rise from last week. ";
    let claim = "Drinking a cup of bleach every morning cures COVID-19 and doctors are hiding it.";
    let long = format!("{}{claim}", calm.repeat(8));
    let truncated = classifier.predict_batch(&[long.as_str()]).unwrap().remove(0).score;
    let windowed = classifier.classify(std::slice::from_ref(&long)).unwrap().remove(0);
    let review = classifier.manifest().review_threshold();
    assert!(truncated < review, "the first 128 tokens are calm ({truncated})");
    assert!(windowed.review, "the claim at the end counts ({})", windowed.score);
    assert!(windowed.score > truncated + 0.2);
    assert_eq!(windowed.evidence[0].text, claim, "{:?}", windowed.evidence);
    assert!(windowed.evidence[0].score >= windowed.score, "alone, the claim scores at least as high");
}

#[test]
fn languages_the_model_was_not_trained_for_are_marked_not_scored() {
    let mut classifier = classifier(&V2, 32);
    let spanish =
        "Beber lejía cura el coronavirus y los médicos lo ocultan a la población desde hace meses.".to_owned();
    let english =
        "Drinking bleach cures the coronavirus and doctors have hidden it from the public for months.".to_owned();
    let results = classifier.classify(&[spanish, english]).unwrap();
    assert_eq!(results[0].language.as_deref(), Some("es"));
    assert!(!results[0].language_supported && !results[0].flagged && results[0].shown_score().is_none());
    assert_eq!(results[1].language.as_deref(), Some("en"));
    assert!(results[1].language_supported && results[1].flagged);
}
