//! Parity: the Rust classifier returns what Python onnxruntime returns for the same model and
//! texts, both run here, at test time (`models/train/reference.py` with the same ONNX Runtime
//! release, 1.31.1, from `.ort/` and numpy/tokenizers from `.pyref/`).
//!
//! Why at test time: int8 kernels differ between CPUs (VNNI, AVX-512, AVX2; without VNNI,
//! u8 x s8 products are added in saturating 16-bit pairs), so a reference recorded on one
//! machine does not hold on another for a model whose weights use all 8 bits (v1, v2). Both
//! sides here use this machine's kernels, so they agree to float rounding whatever the CPU:
//! tolerance 1e-4 on every output (measured: 0 on the machine that wrote this).
//!
//! The served model's own cross-CPU guarantee (7-bit weights: no saturation anywhere) is
//! checked against its recorded outputs by `infodemic model selftest` (see
//! `tests/e2e/model.rs`), with the tolerance measured across CPU families.
//!
//! Needs `bash scripts/setup.sh --python-reference` (the README's test command runs it);
//! without Python or those packages the test fails and says so.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is the failure report.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use infodemic_classifier::{
    strip_source_cues, Classify, ModelBundle, OnnxClassifier, OrtRuntime, Prediction, SessionOptions,
};
use serde::Deserialize;

/// Same kernels on both sides: only float summation order could differ.
const SAME_MACHINE: f32 = 1e-4;

#[derive(Deserialize)]
struct Reference {
    score: f32,
    embedding: Vec<f32>,
    claim: Option<f32>,
    refute: Option<f32>,
    n_tokens: usize,
}

const V1: &str = "models/minilm-constraint-v1";
const V2: &str = "models/minilm-health-v2";
const V3: &str = "models/minilm-health-v3";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn classifier(model: &str, batch_size: usize) -> OnnxClassifier {
    let library = std::env::var_os("INFODEMIC_ORT_LIB")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join(".ort/onnxruntime/capi/libonnxruntime.so.1.31.1"));
    let runtime = OrtRuntime::init(&library)
        .unwrap_or_else(|e| panic!("{e}: run `bash scripts/setup.sh` first (the README's test command does)"));
    let bundle = ModelBundle::load(&workspace().join(model)).unwrap();
    OnnxClassifier::load(&runtime, &bundle, SessionOptions { intra_threads: 1, batch_size: Some(batch_size) }).unwrap()
}

fn texts() -> Vec<String> {
    let lines = std::fs::read_to_string(workspace().join("tests/fixtures/parity/texts.jsonl")).unwrap();
    lines
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap()["text"].as_str().unwrap().to_owned())
        .collect()
}

/// Runs the Python reference on this machine.
fn python_reference(model: &str, texts: &[String]) -> Vec<Reference> {
    let root = workspace();
    let python = std::env::var("INFODEMIC_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let path = std::env::join_paths([root.join(".ort"), root.join(".pyref")]).unwrap();
    let mut child = Command::new(&python)
        .arg(root.join("models/train/reference.py"))
        .arg(root.join(model))
        .env("PYTHONPATH", path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {python} for the Python reference: {e}"));
    let mut input = String::new();
    for text in texts {
        input.push_str(&serde_json::json!({ "text": text }).to_string());
        input.push('\n');
    }
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the Python reference failed (run `bash scripts/setup.sh --python-reference`):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let references: Vec<Reference> =
        String::from_utf8(output.stdout).unwrap().lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(references.len(), texts.len());
    references
}

fn max_abs(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

fn assert_matches(model: &str, text: &str, ours: &Prediction, theirs: &Reference, tolerance: f32) {
    let context = format!("{model}: {text:?}");
    assert!(
        (ours.score - theirs.score).abs() <= tolerance,
        "{context}: score {} vs python {}",
        ours.score,
        theirs.score
    );
    let embedding = max_abs(&ours.embedding, &theirs.embedding);
    assert!(embedding <= tolerance, "{context}: embedding differs by {embedding}");
    for (name, a, b) in [("claim", ours.claim, theirs.claim), ("refute", ours.refute, theirs.refute)] {
        match (a, b) {
            (Some(a), Some(b)) => assert!((a - b).abs() <= tolerance, "{context}: {name} {a} vs python {b}"),
            (None, None) => {}
            _ => panic!("{context}: {name} is {a:?} here and {b:?} in python"),
        }
    }
}

fn single_text_runs_match_python(model: &str) {
    let texts = texts();
    let references = python_reference(model, &texts);
    let mut classifier = classifier(model, 1);
    for (text, reference) in texts.iter().zip(&references) {
        let ours = classifier.predict_batch(&[text.as_str()]).unwrap().remove(0);
        assert_matches(model, text, &ours, reference, SAME_MACHINE);
    }
}

#[test]
fn v1_single_text_runs_match_python_on_this_machine() {
    single_text_runs_match_python(V1);
}

#[test]
fn v2_single_text_runs_match_python_on_this_machine() {
    single_text_runs_match_python(V2);
}

#[test]
fn v3_single_text_runs_match_python_on_this_machine() {
    single_text_runs_match_python(V3);
}

/// Per-token activation scales: a padded batch changes nothing beyond float summation order.
fn is_batch_invariant(model: &str) {
    let texts = texts();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let mut single = classifier(model, 1);
    let batch = classifier(model, 64).predict_batch(&refs).unwrap();
    for (text, out) in texts.iter().zip(&batch) {
        let alone = single.predict_batch(&[text.as_str()]).unwrap().remove(0);
        assert!((out.score - alone.score).abs() < 1e-4, "{text:?}: {} vs {}", out.score, alone.score);
        assert!(max_abs(&out.embedding, &alone.embedding) < 1e-4, "{text:?}");
    }
}

#[test]
fn v2_is_batch_invariant() {
    is_batch_invariant(V2);
}

#[test]
fn v3_is_batch_invariant() {
    is_batch_invariant(V3);
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

#[test]
fn classify_keeps_input_order_and_applies_the_policy() {
    let texts = texts();
    let references = python_reference(V3, &texts);
    let mut classifier = classifier(V3, 32);
    let policy = classifier.policy();
    assert!(policy.review < policy.flag && policy.claim_gate.is_some());
    let results = classifier.classify(&texts).unwrap();
    assert_eq!(results.len(), texts.len());
    for ((text, reference), result) in texts.iter().zip(&references).zip(&results) {
        // Texts cut at the token limit are scored by windows instead (see windows.rs).
        if reference.n_tokens < classifier.manifest().model.max_tokens {
            assert!((result.score - reference.score).abs() <= SAME_MACHINE, "{text:?}");
            let claim_gap = result.claim.zip(reference.claim).map(|(a, b)| (a - b).abs());
            assert!(claim_gap.is_some_and(|gap| gap <= SAME_MACHINE), "{text:?}");
        }
        let claim_ok = result.claim.zip(policy.claim_gate).is_none_or(|(c, g)| c >= g);
        if result.language_supported {
            assert_eq!(result.flagged, result.score >= policy.flag && claim_ok, "{text:?}");
            assert!(!result.reasons.is_empty(), "{text:?}: a decision always says why");
        } else {
            assert!(!result.flagged && !result.review);
        }
        assert_eq!(result.embedding.len(), 384);
    }
}

#[test]
fn source_cues_do_not_reach_the_model() {
    let mut classifier = classifier(V3, 8);
    let plain = "Fluoride in tap water lowers children's IQ.";
    let decorated = "@newsdesk Fluoride in tap water lowers children's #IQ. https://example.com/a?b=c www.example.org";
    let out = classifier.predict_batch(&[plain, decorated]).unwrap();
    assert_eq!(out[0], out[1], "links, handles and hash marks are not read");
}

#[test]
fn the_embedding_is_the_same_sentence_space_in_every_model() {
    // v2 and v3 keep the frozen encoder's embedding: claim matching and campaigns carry over
    // (compared on the text v3 reads: without links, handles and hash marks).
    let texts: Vec<String> = texts().iter().map(|t| strip_source_cues(t)).collect();
    let (v1, v2, v3) = (python_reference(V1, &texts), python_reference(V2, &texts), python_reference(V3, &texts));
    for (((text, one), two), three) in texts.iter().zip(&v1).zip(&v2).zip(&v3) {
        assert!(cosine(&one.embedding, &two.embedding) > 0.95, "{text:?}");
        assert!(cosine(&two.embedding, &three.embedding) > 0.95, "{text:?}");
    }
}

#[test]
fn long_texts_are_read_to_the_end_and_explained() {
    let mut classifier = classifier(V3, 32);
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
    let mut classifier = classifier(V3, 32);
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
