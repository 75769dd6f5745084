//! The real classifier: HF tokenizer + ONNX graph through ort.

use infodemic_core::language::detect_language;
use infodemic_core::{Classification, DecisionPolicy, Evidence, ModelOutputs, ModelRef};
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::Tensor;
use sha2::{Digest, Sha256};
use tokenizers::{Encoding, Tokenizer};

use crate::prepare::prepare;
use crate::windows::{sentence_spans, sentence_windows};
use crate::{ClassifierError, Classify, ModelBundle, ModelManifest, OrtRuntime, Result};

/// Sentences scored one by one to find the evidence of a long text.
const MAX_EVIDENCE_CANDIDATES: usize = 16;
/// Evidence sentences kept per item.
const EVIDENCE_KEPT: usize = 2;

/// Texts per inference call for a batch-invariant model, when none is asked for.
pub const DEFAULT_BATCH: usize = 8;

/// How to run a model.
#[derive(Clone, Copy, Debug)]
pub struct SessionOptions {
    /// Threads ONNX Runtime may use for one inference.
    pub intra_threads: usize,
    /// Texts per inference call; `None` chooses from the manifest: [`DEFAULT_BATCH`] for a
    /// batch-invariant model, 1 otherwise (with per-batch quantisation scales a text's score
    /// would depend on its batch-mates, and the same text must always get the same score).
    pub batch_size: Option<usize>,
}

impl Default for SessionOptions {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        Self { intra_threads: cores, batch_size: None }
    }
}

/// A loaded model: tokenizer, ONNX session and the manifest they were verified against.
pub struct OnnxClassifier {
    session: Session,
    tokenizer: Tokenizer,
    manifest: ModelManifest,
    model: ModelRef,
    policy: DecisionPolicy,
    batch_size: usize,
    evidence: bool,
}

impl std::fmt::Debug for OnnxClassifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxClassifier")
            .field("model", &self.model)
            .field("batch_size", &self.batch_size)
            .finish_non_exhaustive()
    }
}

/// Raw outputs for one token sequence.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    /// Calibrated probability of misinformation.
    pub score: f32,
    /// L2-normalised embedding.
    pub embedding: Vec<f32>,
    /// P(states a checkable claim), when the graph has that head.
    pub claim: Option<f32>,
    /// P(refutes a claim), when the graph has that head.
    pub refute: Option<f32>,
}

/// One text being scored: its windows' token ids and, later, their predictions.
struct Document {
    language: Option<String>,
    /// Sentence spans of the text, when it had to be split (long texts) or explained.
    sentences: Vec<std::ops::Range<usize>>,
    /// Sentence index ranges of each window; empty for a text that fits in one window.
    windows: Vec<std::ops::Range<usize>>,
    units: Vec<Vec<u32>>,
}

impl OnnxClassifier {
    /// Builds the tokenizer and the ONNX session from a verified bundle and checks that the
    /// graph has the inputs and outputs the manifest names, and that the tokenizer is the
    /// one the graph was built for.
    ///
    /// # Errors
    /// A tokenizer that does not load or does not match, a graph ONNX Runtime refuses, or an
    /// interface mismatch.
    pub fn load(runtime: &OrtRuntime, bundle: &ModelBundle, options: SessionOptions) -> Result<Self> {
        let manifest = bundle.manifest.clone();
        let mut tokenizer =
            Tokenizer::from_bytes(&bundle.tokenizer).map_err(|e| ClassifierError::Tokenizer(e.to_string()))?;
        // Truncation and padding are done here, per window and per length bucket.
        tokenizer.with_truncation(None).map_err(|e| ClassifierError::Tokenizer(e.to_string()))?;
        tokenizer.with_padding(None);

        let session = Session::builder(runtime.environment())?
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(|e| ClassifierError::Onnx(e.to_string()))?
            .with_intra_threads(options.intra_threads.max(1))
            .map_err(|e| ClassifierError::Onnx(e.to_string()))?
            .commit_from_memory(&bundle.graph)?;
        check_interface(&session, &manifest)?;
        check_tokenizer(&session, &manifest, &tokenizer, &bundle.tokenizer)?;
        let model = ModelRef { id: manifest.model.id.clone(), version: manifest.model.version.clone() };
        let batch_size =
            options.batch_size.unwrap_or(if manifest.model.batch_invariant { DEFAULT_BATCH } else { 1 }).max(1);
        let policy = manifest.policy();
        Ok(Self { session, tokenizer, manifest, model, policy, batch_size, evidence: true })
    }

    /// The manifest the model was verified against.
    pub fn manifest(&self) -> &ModelManifest {
        &self.manifest
    }

    /// Texts per inference call in use.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Whether texts worth a review get their top sentences scored as evidence (on by
    /// default). Evidence costs one extra inference per sentence of those texts; evaluations
    /// and throughput runs turn it off.
    pub fn set_evidence(&mut self, enabled: bool) {
        self.evidence = enabled;
    }

    /// Runs the graph once on `texts` as one padded batch (each prepared as the model reads
    /// text, and truncated to its limit), in input order. For tests and benchmarks;
    /// [`Classify::classify`] is the API.
    ///
    /// # Errors
    /// Tokenizer or ONNX Runtime failures.
    pub fn predict_batch(&mut self, texts: &[&str]) -> Result<Vec<Prediction>> {
        let preparation = self.manifest.model.text_preparation.clone();
        let prepared: Vec<_> = texts.iter().map(|t| prepare(preparation.as_deref(), t)).collect();
        let prepared: Vec<&str> = prepared.iter().map(AsRef::as_ref).collect();
        let units: Vec<Vec<u32>> = self.encode(&prepared, true)?.iter().map(|e| self.truncated(e)).collect();
        let refs: Vec<&[u32]> = units.iter().map(Vec::as_slice).collect();
        self.run(&refs)
    }

    fn encode(&self, texts: &[&str], special_tokens: bool) -> Result<Vec<Encoding>> {
        self.tokenizer
            .encode_batch(texts.to_vec(), special_tokens)
            .map_err(|e| ClassifierError::Tokenizer(e.to_string()))
    }

    /// The encoding cut to the model's limit, keeping the closing special token.
    fn truncated(&self, encoding: &Encoding) -> Vec<u32> {
        let ids = encoding.get_ids();
        let max = self.manifest.model.max_tokens;
        if ids.len() <= max {
            return ids.to_vec();
        }
        let mut cut = ids[..max - 1].to_vec();
        cut.extend(ids.last());
        cut
    }

    /// Runs every unit, shortest first in batches of `batch_size`, so padding stays small;
    /// results come back in input order.
    fn infer(&mut self, units: &[Vec<u32>]) -> Result<Vec<Prediction>> {
        let mut order: Vec<usize> = (0..units.len()).collect();
        order.sort_by_key(|&i| units[i].len());
        let mut results: Vec<Option<Prediction>> = vec![None; units.len()];
        for chunk in order.chunks(self.batch_size) {
            let batch: Vec<&[u32]> = chunk.iter().map(|&i| units[i].as_slice()).collect();
            for (&index, prediction) in chunk.iter().zip(self.run(&batch)?) {
                results[index] = Some(prediction);
            }
        }
        Ok(results.into_iter().flatten().collect())
    }

    fn run(&mut self, units: &[&[u32]]) -> Result<Vec<Prediction>> {
        let batch = units.len();
        if batch == 0 {
            return Ok(Vec::new());
        }
        let seq = units.iter().map(|u| u.len()).max().unwrap_or(0).max(1);
        let mut ids = vec![0i64; batch * seq];
        let mut mask = vec![0i64; batch * seq];
        for (row, unit) in units.iter().enumerate() {
            for (col, &id) in unit.iter().enumerate() {
                ids[row * seq + col] = i64::from(id);
                mask[row * seq + col] = 1;
            }
        }
        let io = &self.manifest.io;
        let inputs = ort::inputs![
            io.input_ids.as_str() => Tensor::from_array(([batch, seq], ids))?,
            io.attention_mask.as_str() => Tensor::from_array(([batch, seq], mask))?,
        ];
        let outputs = self.session.run(inputs)?;
        let output = |name: &str| {
            outputs.get(name).ok_or_else(|| ClassifierError::GraphMismatch(format!("output `{name}` missing")))
        };
        let (_, scores) = output(&io.score)?.try_extract_tensor::<f32>()?;
        let (_, embeddings) = output(&io.embedding)?.try_extract_tensor::<f32>()?;
        let optional = |name: Option<&String>| -> Result<Option<Vec<f32>>> {
            let Some(name) = name else { return Ok(None) };
            let (_, values) = output(name)?.try_extract_tensor::<f32>()?;
            if values.len() != batch {
                return Err(ClassifierError::GraphMismatch(format!(
                    "expected {batch} values of `{name}`, got {}",
                    values.len()
                )));
            }
            Ok(Some(values.to_vec()))
        };
        let claims = optional(io.claim.as_ref())?;
        let refutes = optional(io.refute.as_ref())?;
        let dim = self.manifest.model.embedding_dim;
        if scores.len() != batch || embeddings.len() != batch * dim {
            return Err(ClassifierError::GraphMismatch(format!(
                "expected {batch} scores and {batch}x{dim} embedding values, got {} and {}",
                scores.len(),
                embeddings.len()
            )));
        }
        Ok(scores
            .iter()
            .zip(embeddings.chunks_exact(dim))
            .enumerate()
            .map(|(row, (&score, embedding))| Prediction {
                score,
                embedding: embedding.to_vec(),
                claim: claims.as_ref().map(|c| c[row]),
                refute: refutes.as_ref().map(|r| r[row]),
            })
            .collect())
    }

    /// Token ids of each window of `text`: the whole text when it fits the token limit, else
    /// pairs of adjacent sentences.
    fn plan(&self, text: &str, full: &Encoding) -> Result<Document> {
        let language = detect_language(text);
        if full.get_ids().len() <= self.manifest.model.max_tokens {
            return Ok(Document {
                language,
                sentences: Vec::new(),
                windows: Vec::new(),
                units: vec![self.truncated(full)],
            });
        }
        let spans = sentence_spans(text);
        let windows = sentence_windows(spans.len());
        let window_texts: Vec<&str> =
            windows.iter().map(|window| text[spans[window.start].start..spans[window.end - 1].end].trim()).collect();
        let units = self.encode(&window_texts, true)?.iter().map(|e| self.truncated(e)).collect();
        Ok(Document { language, sentences: spans, windows, units })
    }

    /// The sentences of the best window, each scored alone, highest first.
    fn evidence(&mut self, text: &str, document: &Document, best_window: usize) -> Result<Vec<Evidence>> {
        let spans = if document.sentences.is_empty() { sentence_spans(text) } else { document.sentences.clone() };
        let window = document.windows.get(best_window).cloned().unwrap_or(0..spans.len());
        let candidates: Vec<&str> =
            spans[window].iter().map(|span| text[span.clone()].trim()).take(MAX_EVIDENCE_CANDIDATES).collect();
        if candidates.len() < 2 && document.windows.len() < 2 {
            return Ok(Vec::new()); // One sentence: the item is its own evidence.
        }
        let units: Vec<Vec<u32>> = self.encode(&candidates, true)?.iter().map(|e| self.truncated(e)).collect();
        let predictions = self.infer(&units)?;
        let mut evidence: Vec<Evidence> = candidates
            .iter()
            .zip(predictions)
            .map(|(text, p)| Evidence { text: (*text).to_owned(), score: p.score, embedding: p.embedding })
            .collect();
        evidence.sort_by(|a, b| b.score.total_cmp(&a.score));
        // The top sentence always; the next ones only if they are worth a review themselves.
        let review = self.manifest.review_threshold();
        let kept = 1 + evidence.iter().skip(1).take(EVIDENCE_KEPT - 1).filter(|e| e.score >= review).count();
        evidence.truncate(kept);
        Ok(evidence)
    }
}

impl Classify for OnnxClassifier {
    /// Scores each text whole when it fits the token limit, else by windows of sentences (the
    /// text's score is its best window's). Texts worth a review get their top sentences as
    /// evidence. Texts confidently in a language the model was not trained for are marked,
    /// never flagged.
    fn classify(&mut self, texts: &[String]) -> Result<Vec<Classification>> {
        let preparation = self.manifest.model.text_preparation.clone();
        let prepared: Vec<_> = texts.iter().map(|t| prepare(preparation.as_deref(), t)).collect();
        let refs: Vec<&str> = prepared.iter().map(AsRef::as_ref).collect();
        let full = self.encode(&refs, true)?;
        let documents: Vec<Document> =
            refs.iter().zip(&full).map(|(text, encoding)| self.plan(text, encoding)).collect::<Result<_>>()?;
        let units: Vec<Vec<u32>> = documents.iter().flat_map(|d| d.units.iter().cloned()).collect();
        let mut predictions = self.infer(&units)?.into_iter();
        let review = self.manifest.review_threshold();
        let mut results = Vec::with_capacity(texts.len());
        for (text, document) in refs.iter().zip(&documents) {
            let windows: Vec<Prediction> = predictions.by_ref().take(document.units.len()).collect();
            let (best, best_score) = windows
                .iter()
                .enumerate()
                .map(|(i, p)| (i, p.score))
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .unwrap_or((0, 0.0));
            let supported = self.manifest.supports_language(document.language.as_deref());
            let evidence = if self.evidence && supported && best_score >= review {
                self.evidence(text, document, best)?
            } else {
                Vec::new()
            };
            let (claim, refute) = windows.get(best).map_or((None, None), |p| (p.claim, p.refute));
            let decision = self
                .policy
                .decide(ModelOutputs { score: best_score, claim, refute, language_supported: supported }, None);
            let embedding = windows.into_iter().next().map(|p| p.embedding).unwrap_or_default();
            results.push(Classification {
                score: best_score,
                flagged: decision.flagged,
                review: decision.review,
                embedding,
                model: self.model.clone(),
                language: document.language.clone(),
                language_supported: supported,
                evidence,
                claim_match: None,
                claim,
                refute,
                reasons: decision.reasons,
            });
        }
        Ok(results)
    }

    fn model(&self) -> &ModelRef {
        &self.model
    }

    fn policy(&self) -> DecisionPolicy {
        self.policy.clone()
    }
}

fn check_interface(session: &Session, manifest: &ModelManifest) -> Result<()> {
    let io = &manifest.io;
    let inputs: Vec<&str> = session.inputs().iter().map(|outlet| outlet.name()).collect();
    let outputs: Vec<&str> = session.outputs().iter().map(|outlet| outlet.name()).collect();
    for name in [&io.input_ids, &io.attention_mask] {
        if !inputs.contains(&name.as_str()) {
            return Err(ClassifierError::GraphMismatch(format!("input `{name}` missing (graph has {inputs:?})")));
        }
    }
    if inputs.len() != 2 {
        return Err(ClassifierError::GraphMismatch(format!("expected 2 inputs, graph has {inputs:?}")));
    }
    for name in [Some(&io.score), Some(&io.embedding), io.logit.as_ref(), io.claim.as_ref(), io.refute.as_ref()]
        .into_iter()
        .flatten()
    {
        if !outputs.contains(&name.as_str()) {
            return Err(ClassifierError::GraphMismatch(format!("output `{name}` missing (graph has {outputs:?})")));
        }
    }
    Ok(())
}

/// Refuses a tokenizer that is not the one the graph was built for: the vocabulary size must
/// match the manifest, and the graph's own record of its tokenizer (ONNX metadata
/// `infodemic.vocab_size`, `infodemic.tokenizer_sha256`) must match when present.
fn check_tokenizer(session: &Session, manifest: &ModelManifest, tokenizer: &Tokenizer, bytes: &[u8]) -> Result<()> {
    let vocab = tokenizer.get_vocab_size(true);
    let mismatch =
        |what: String| Err(ClassifierError::Tokenizer(format!("tokenizer does not match the model: {what}")));
    if let Some(expected) = manifest.model.vocab_size {
        if expected != vocab {
            return mismatch(format!("vocabulary of {vocab} tokens, the manifest says {expected}"));
        }
    }
    let metadata = session.metadata()?;
    if let Some(expected) = metadata.custom("infodemic.vocab_size").and_then(|v| v.trim().parse::<usize>().ok()) {
        if expected != vocab {
            return mismatch(format!("vocabulary of {vocab} tokens, the graph was built for {expected}"));
        }
    }
    if let Some(expected) = metadata.custom("infodemic.tokenizer_sha256") {
        let actual = hex::encode(Sha256::digest(bytes));
        if !expected.trim().eq_ignore_ascii_case(&actual) {
            return mismatch(format!("tokenizer sha256 {actual}, the graph was built with {}", expected.trim()));
        }
    }
    Ok(())
}
