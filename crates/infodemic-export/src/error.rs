use std::path::{Path, PathBuf};

/// Why an export or import could not go on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// A file could not be created, written or renamed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// Serialising a row failed.
    #[error("cannot write a row: {0}")]
    Write(String),
    /// A bad `--split`.
    #[error("split {0}")]
    Split(String),
}

impl ExportError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io { path: path.to_path_buf(), source }
    }
}
