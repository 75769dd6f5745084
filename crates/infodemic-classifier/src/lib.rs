//! The classifier: scores texts for likely health misinformation and returns their sentence
//! embedding in the same pass.
//!
//! # Architecture
//! - [`ModelBundle`] reads a model directory (`model.toml` + graph + tokenizer) and refuses
//!   files whose sha256 differs from the manifest.
//! - [`OrtRuntime`] loads the ONNX Runtime shared library once per process, from an explicit
//!   path (`ort` is built with `load-dynamic`: nothing is downloaded at build or run time).
//! - [`OnnxClassifier`] is the synchronous core: tokenise, batch by length, run, unpack.
//! - [`ClassifierHandle`] runs any [`Classify`] on a dedicated thread behind a bounded queue,
//!   so async callers never run inference on their runtime's workers.
//!
//! This is the only crate that names `ort` and `tokenizers`.
#![deny(missing_docs)]

mod error;
#[cfg(feature = "test-support")]
mod fake;
mod handle;
mod manifest;
mod onnx;
mod prepare;
mod runtime;
pub mod selftest;
pub mod windows;

use infodemic_core::{Classification, DecisionPolicy, ModelRef};

pub use error::ClassifierError;
#[cfg(feature = "test-support")]
pub use fake::KeywordClassifier;
pub use handle::ClassifierHandle;
pub use manifest::{FileEntry, ModelBundle, ModelFiles, ModelInfo, ModelIo, ModelManifest};
pub use onnx::{OnnxClassifier, Prediction, SessionOptions, DEFAULT_BATCH};
pub use prepare::strip_source_cues;
pub use runtime::OrtRuntime;
pub use selftest::{SelftestCase, SelftestReport, SelftestTolerance};

/// Result type of this crate.
pub type Result<T, E = ClassifierError> = std::result::Result<T, E>;

/// Anything that turns texts into classifications, one per text, in order.
pub trait Classify: Send {
    /// Classifies `texts`; the output has the same length and order.
    ///
    /// # Errors
    /// When the model cannot run (a broken session, not a bad text: every text gets a score).
    fn classify(&mut self, texts: &[String]) -> Result<Vec<Classification>>;

    /// The model behind the scores.
    fn model(&self) -> &ModelRef;

    /// How its outputs become decisions (thresholds, claim gate, source priors).
    fn policy(&self) -> DecisionPolicy;
}
