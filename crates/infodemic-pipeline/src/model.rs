//! Loading the classifier the way every command does: locate, verify, build.

use std::path::Path;

use infodemic_classifier::{ClassifierError, ModelBundle, OnnxClassifier, OrtRuntime, SessionOptions};

use crate::{locate_model_dir, locate_ort_library, Located, PipelineError, Result, SETUP_COMMAND};

/// A classifier ready to run, and where its parts came from.
#[derive(Debug)]
pub struct LoadedModel {
    /// The classifier.
    pub classifier: OnnxClassifier,
    /// The ONNX Runtime library used.
    pub library: Located,
    /// The model directory used.
    pub model_dir: Located,
    /// The verified self-test file of the model, when it has one (`model selftest`).
    pub selftest: Option<Vec<u8>>,
}

/// Locates the ONNX Runtime library and the model (explicit paths first), loads the runtime
/// once for the process, verifies the model files against their manifest and builds the
/// session.
///
/// # Errors
/// A missing library or model (naming the setup command), a checksum mismatch, or a graph
/// ONNX Runtime refuses.
pub fn load_model(
    ort_library: Option<&Path>,
    model_dir: Option<&Path>,
    options: SessionOptions,
) -> Result<LoadedModel> {
    let library = locate_ort_library(ort_library)?;
    let runtime = OrtRuntime::init(&library.path).map_err(|error| match error {
        ClassifierError::RuntimeMissing { path } => PipelineError::NotFound {
            what: "ONNX Runtime library",
            tried: vec![path.display().to_string()],
            setup: SETUP_COMMAND,
            flag: "--ort-lib PATH (or INFODEMIC_ORT_LIB)",
        },
        other => other.into(),
    })?;
    let model_dir = locate_model_dir(model_dir)?;
    let bundle = ModelBundle::load(&model_dir.path)?;
    let classifier = OnnxClassifier::load(&runtime, &bundle, options)?;
    tracing::debug!(
        message = "Model loaded.",
        library = %library.path.display(),
        model = %model_dir.path.display(),
        id = %bundle.manifest.model.id
    );
    Ok(LoadedModel { classifier, library, model_dir, selftest: bundle.selftest })
}
