//! Parity: the Rust classifier returns what Python onnxruntime returned for the same model
//! and texts (`tests/fixtures/parity/reference.jsonl`, written by `models/train/parity.py`).
//!
//! Tolerances, and why:
//! - One text per run (no padding, no batch-mates): 2e-3 on the score and on embedding
//!   values. Both sides run the same graph with the same ONNX Runtime build, so results agree
//!   to ~1e-6 on the machine that made the reference; the margin covers CPUs whose int8
//!   kernels differ (AVX2 vs AVX-512 VNNI).
//! - One padded batch of all texts: dynamic int8 quantisation picks one activation scale per
//!   tensor over the whole batch, so a text's outputs move with its batch-mates. The reference
//!   measured up to 0.112 on the score and cosine >= 0.979 (`batched.json`); we allow 0.15 and
//!   0.97. This is why the default batch size is 1.
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

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn classifier(batch_size: usize) -> OnnxClassifier {
    let library = std::env::var_os("INFODEMIC_ORT_LIB")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join(".ort/onnxruntime/capi/libonnxruntime.so.1.31.1"));
    let runtime = OrtRuntime::init(&library)
        .unwrap_or_else(|e| panic!("{e}: run `bash scripts/setup.sh` first (the README's test command does)"));
    let bundle = ModelBundle::load(&workspace().join("models/minilm-constraint-v1")).unwrap();
    OnnxClassifier::load(&runtime, &bundle, SessionOptions { intra_threads: 1, batch_size }).unwrap()
}

fn references() -> Vec<Reference> {
    let text = std::fs::read_to_string(workspace().join("tests/fixtures/parity/reference.jsonl")).unwrap();
    text.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

#[test]
fn single_text_runs_match_python() {
    let mut classifier = classifier(1);
    let references = references();
    assert!(references.len() >= 10);
    for reference in &references {
        let out = classifier.predict_batch(&[reference.text.as_str()]).unwrap().remove(0);
        assert!(
            (out.score - reference.score).abs() < 2e-3,
            "score {} vs python {} for {:?}",
            out.score,
            reference.score,
            reference.text
        );
        for (ours, theirs) in out.embedding.iter().zip(&reference.embedding_head) {
            assert!((ours - theirs).abs() < 2e-3, "embedding {ours} vs {theirs} for {:?}", reference.text);
        }
        let norm = out.embedding.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - reference.embedding_norm).abs() < 1e-3);
    }
}

#[test]
fn padded_batches_stay_within_the_measured_drift() {
    let references = references();
    let texts: Vec<&str> = references.iter().map(|r| r.text.as_str()).collect();
    let mut single = classifier(1);
    let mut batched = classifier(64);
    let batch = batched.predict_batch(&texts).unwrap();
    for (reference, out) in references.iter().zip(&batch) {
        let alone = single.predict_batch(&[reference.text.as_str()]).unwrap().remove(0);
        assert!((out.score - reference.score).abs() < 0.15, "{:?}", reference.text);
        assert!(cosine(&out.embedding, &alone.embedding) > 0.97, "{:?}", reference.text);
    }
}

#[test]
fn classify_keeps_input_order_and_applies_the_threshold() {
    let mut classifier = classifier(1);
    let references = references();
    let texts: Vec<String> = references.iter().map(|r| r.text.clone()).collect();
    let threshold = classifier.manifest().model.threshold;
    let results = classifier.classify(&texts).unwrap();
    assert_eq!(results.len(), texts.len());
    for (reference, result) in references.iter().zip(&results) {
        // Texts cut at the token limit are scored by windows instead (see windows.rs).
        if reference.input_ids_len < 128 {
            assert!((result.score - reference.score).abs() < 2e-3, "{:?}", reference.text);
        }
        assert_eq!(result.flagged, result.score >= threshold);
        assert_eq!(result.embedding.len(), 384);
    }
}

#[test]
fn long_texts_are_read_to_the_end_and_explained() {
    let mut classifier = classifier(1);
    let calm = "The regional health office reported 1,121 new cases and 12 deaths on Tuesday, \
                a small rise from last week. ";
    let claim = "Drinking a cup of bleach every morning cures COVID-19 and doctors are hiding it.";
    let long = format!("{}{claim}", calm.repeat(8));
    let truncated = classifier.predict_batch(&[long.as_str()]).unwrap().remove(0).score;
    let windowed = classifier.classify(std::slice::from_ref(&long)).unwrap().remove(0);
    let flag = classifier.manifest().flag_threshold();
    assert!(truncated < flag, "the first 128 tokens are calm ({truncated})");
    assert!(windowed.flagged, "the claim at the end counts ({})", windowed.score);
    assert!(windowed.score > truncated + 0.2);
    assert_eq!(windowed.evidence[0].text, claim, "{:?}", windowed.evidence);
    assert!(windowed.evidence[0].score > windowed.score, "alone, the claim scores higher");
    assert!(windowed.evidence.len() <= 2);
}

#[test]
fn languages_the_model_was_not_trained_for_are_marked() {
    let mut classifier = classifier(1);
    let spanish =
        "Beber lejía cura el coronavirus y los médicos lo ocultan a la población desde hace meses.".to_owned();
    let english =
        "Drinking bleach cures the coronavirus and doctors have hidden it from the public for months.".to_owned();
    let results = classifier.classify(&[spanish, english]).unwrap();
    assert_eq!(results[0].language.as_deref(), Some("es"));
    assert_eq!(results[1].language.as_deref(), Some("en"));
    // v1's manifest names no languages: everything counts as supported. The v2 manifest says
    // ["en"]; see `ModelManifest::supports_language` for the rule.
    assert!(results[0].language_supported == classifier.manifest().supports_language(Some("es")));
}
