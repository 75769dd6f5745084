//! The ONNX Runtime environment: loaded from an explicit library path, once per process.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ort::environment::Environment;

use crate::{ClassifierError, Result};

/// ONNX Runtime allows one environment per process; it lives for the whole process.
static ENVIRONMENT: OnceLock<(Environment, PathBuf)> = OnceLock::new();
static INIT: Mutex<()> = Mutex::new(());

/// A loaded ONNX Runtime. Cheap to copy; every session is built from it.
#[derive(Clone, Copy)]
pub struct OrtRuntime {
    environment: &'static Environment,
    library: &'static Path,
}

impl std::fmt::Debug for OrtRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrtRuntime").field("library", &self.library).finish()
    }
}

impl OrtRuntime {
    /// Loads `libonnxruntime` from `library` and builds the process's environment. Later calls
    /// return the environment built by the first one.
    ///
    /// # Errors
    /// [`ClassifierError::RuntimeMissing`] when the file does not exist (the usual case on a
    /// machine that has not run the setup), [`ClassifierError::RuntimeLoad`] when it is not a
    /// loadable ONNX Runtime of a compatible version.
    pub fn init(library: &Path) -> Result<Self> {
        let _guard = INIT.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((environment, loaded)) = ENVIRONMENT.get() {
            return Ok(Self { environment, library: loaded });
        }
        if !library.is_file() {
            return Err(ClassifierError::RuntimeMissing { path: library.to_path_buf() });
        }
        // ort resolves relative paths against the executable; we mean the working directory.
        let absolute = std::path::absolute(library).unwrap_or_else(|_| library.to_path_buf());
        let load_error = |message: String| ClassifierError::RuntimeLoad { path: absolute.clone(), message };
        let environment = ort::init_from(&absolute)
            .map_err(|e| load_error(e.to_string()))?
            .with_name("infodemic")
            .build()
            .map_err(|e| load_error(e.to_string()))?;
        let (environment, loaded) = ENVIRONMENT.get_or_init(|| (environment, absolute));
        tracing::debug!(message = "ONNX Runtime loaded.", library = %loaded.display());
        Ok(Self { environment, library: loaded })
    }

    /// The library the environment was loaded from.
    pub fn library(&self) -> &Path {
        self.library
    }

    pub(crate) fn environment(&self) -> &'static Environment {
        self.environment
    }
}
