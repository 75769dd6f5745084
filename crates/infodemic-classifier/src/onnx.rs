//! The real classifier: HF tokenizer + ONNX graph through ort.

use infodemic_core::{Classification, ModelRef};
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::Tensor;
use tokenizers::{Encoding, Tokenizer, TruncationParams};

use crate::{ClassifierError, Classify, ModelBundle, ModelManifest, OrtRuntime, Result};

/// How to run a model.
#[derive(Clone, Copy, Debug)]
pub struct SessionOptions {
    /// Threads ONNX Runtime may use for one inference.
    pub intra_threads: usize,
    /// Texts per inference call.
    pub batch_size: usize,
}

impl Default for SessionOptions {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        // Batch size 1: with dynamic int8 quantisation a text's score depends on its batch-mates
        // (up to ~0.1), and users must get the same score for the same text every time.
        Self { intra_threads: cores, batch_size: 1 }
    }
}

/// A loaded model: tokenizer, ONNX session and the manifest they were verified against.
pub struct OnnxClassifier {
    session: Session,
    tokenizer: Tokenizer,
    manifest: ModelManifest,
    model: ModelRef,
    batch_size: usize,
}

impl std::fmt::Debug for OnnxClassifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxClassifier")
            .field("model", &self.model)
            .field("batch_size", &self.batch_size)
            .finish_non_exhaustive()
    }
}

/// Raw outputs for one text.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    /// Probability of misinformation.
    pub score: f32,
    /// L2-normalised embedding.
    pub embedding: Vec<f32>,
}

impl OnnxClassifier {
    /// Builds the tokenizer and the ONNX session from a verified bundle and checks that the
    /// graph has the inputs and outputs the manifest names.
    ///
    /// # Errors
    /// A tokenizer that does not load, a graph ONNX Runtime refuses, or an interface mismatch.
    pub fn load(runtime: &OrtRuntime, bundle: &ModelBundle, options: SessionOptions) -> Result<Self> {
        let manifest = bundle.manifest.clone();
        let mut tokenizer =
            Tokenizer::from_bytes(&bundle.tokenizer).map_err(|e| ClassifierError::Tokenizer(e.to_string()))?;
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: manifest.model.max_tokens, ..Default::default() }))
            .map_err(|e| ClassifierError::Tokenizer(e.to_string()))?;
        // Padding is done per length bucket below, not by the tokenizer.
        tokenizer.with_padding(None);

        let session = Session::builder(runtime.environment())?
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(|e| ClassifierError::Onnx(e.to_string()))?
            .with_intra_threads(options.intra_threads.max(1))
            .map_err(|e| ClassifierError::Onnx(e.to_string()))?
            .commit_from_memory(&bundle.graph)?;
        check_interface(&session, &manifest)?;
        let model = ModelRef { id: manifest.model.id.clone(), version: manifest.model.version.clone() };
        Ok(Self { session, tokenizer, manifest, model, batch_size: options.batch_size.max(1) })
    }

    /// The manifest the model was verified against.
    pub fn manifest(&self) -> &ModelManifest {
        &self.manifest
    }

    /// Runs the graph once on `texts` as one padded batch, in input order. Most callers want
    /// [`Classify::classify`], which also buckets by length.
    ///
    /// # Errors
    /// Tokenizer or ONNX Runtime failures.
    pub fn predict_batch(&mut self, texts: &[&str]) -> Result<Vec<Prediction>> {
        let encodings = self.encode(texts)?;
        let refs: Vec<&Encoding> = encodings.iter().collect();
        self.run(&refs)
    }

    fn encode(&self, texts: &[&str]) -> Result<Vec<Encoding>> {
        self.tokenizer.encode_batch(texts.to_vec(), true).map_err(|e| ClassifierError::Tokenizer(e.to_string()))
    }

    fn run(&mut self, encodings: &[&Encoding]) -> Result<Vec<Prediction>> {
        let batch = encodings.len();
        if batch == 0 {
            return Ok(Vec::new());
        }
        let seq = encodings.iter().map(|e| e.get_ids().len()).max().unwrap_or(0).max(1);
        let mut ids = vec![0i64; batch * seq];
        let mut mask = vec![0i64; batch * seq];
        for (row, encoding) in encodings.iter().enumerate() {
            for (col, &id) in encoding.get_ids().iter().enumerate() {
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
            .map(|(&score, embedding)| Prediction { score, embedding: embedding.to_vec() })
            .collect())
    }
}

impl Classify for OnnxClassifier {
    /// Tokenises everything, sorts texts by token count and runs batches of similar length, so
    /// padding stays small; results come back in input order.
    fn classify(&mut self, texts: &[String]) -> Result<Vec<Classification>> {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let encodings = self.encode(&refs)?;
        let mut order: Vec<usize> = (0..encodings.len()).collect();
        order.sort_by_key(|&i| encodings[i].get_ids().len());
        let mut results: Vec<Option<Classification>> = vec![None; texts.len()];
        let threshold = self.manifest.model.threshold;
        for chunk in order.chunks(self.batch_size) {
            let batch: Vec<&Encoding> = chunk.iter().map(|&i| &encodings[i]).collect();
            for (&index, prediction) in chunk.iter().zip(self.run(&batch)?) {
                results[index] = Some(Classification {
                    score: prediction.score,
                    flagged: prediction.score >= threshold,
                    embedding: prediction.embedding,
                    model: self.model.clone(),
                });
            }
        }
        Ok(results.into_iter().flatten().collect())
    }

    fn model(&self) -> &ModelRef {
        &self.model
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
    for name in [&io.score, &io.embedding] {
        if !outputs.contains(&name.as_str()) {
            return Err(ClassifierError::GraphMismatch(format!("output `{name}` missing (graph has {outputs:?})")));
        }
    }
    Ok(())
}
