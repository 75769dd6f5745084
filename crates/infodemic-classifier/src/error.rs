use std::path::PathBuf;

/// Why a model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClassifierError {
    /// The ONNX Runtime library is not where we looked.
    #[error("ONNX Runtime library not found at {}", path.display())]
    RuntimeMissing {
        /// The path tried.
        path: PathBuf,
    },
    /// The library exists but could not be loaded (wrong file, wrong version...).
    #[error("cannot load ONNX Runtime from {}: {message}", path.display())]
    RuntimeLoad {
        /// The path tried.
        path: PathBuf,
        /// What ort said.
        message: String,
    },
    /// A model file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// `model.toml` is not a valid manifest.
    #[error("invalid model manifest {}: {message}", path.display())]
    Manifest {
        /// The manifest path.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A model file differs from what the manifest promises.
    #[error("checksum mismatch for {}: manifest says {expected}, file has {actual}", path.display())]
    Checksum {
        /// The file.
        path: PathBuf,
        /// sha256 in the manifest.
        expected: String,
        /// sha256 of the file.
        actual: String,
    },
    /// The tokenizer file could not be loaded or used.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// ONNX Runtime failed to build a session or run the graph.
    #[error("onnx runtime: {0}")]
    Onnx(String),
    /// The graph's inputs or outputs do not match the manifest.
    #[error("model graph does not match its manifest: {0}")]
    GraphMismatch(String),
    /// The model's self-test file is not valid.
    #[error("self-test file: {0}")]
    Selftest(String),
    /// The classifier thread stopped.
    #[error("classifier worker stopped")]
    WorkerGone,
}

impl From<ort::Error> for ClassifierError {
    fn from(error: ort::Error) -> Self {
        ClassifierError::Onnx(error.to_string())
    }
}
