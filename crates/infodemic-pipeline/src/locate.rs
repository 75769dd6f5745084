//! Finding the ONNX Runtime library and the model without the user exporting anything.
//!
//! Order: an explicit path (flag, environment or config, resolved by the caller), then the
//! project's setup location in the directories above the running executable, the current
//! directory and the source tree the binary was built from.

use std::path::{Path, PathBuf};

use crate::{PipelineError, Result};

/// Where `scripts/setup.sh` puts the library (pip `--target .ort` of `onnxruntime==1.31.1`).
pub const ORT_LIBRARY_RELATIVE: &str = ".ort/onnxruntime/capi/libonnxruntime.so.1.31.1";
/// The model shipped in the repository.
pub const DEFAULT_MODEL_DIR: &str = "models/minilm-health-v3";
/// The command that installs what the binary needs.
pub const SETUP_COMMAND: &str = "bash scripts/setup.sh";

/// A path and how it was found, for `--verbose` output and error messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    /// The path.
    pub path: PathBuf,
    /// `explicit` or `project`.
    pub how: &'static str,
}

fn project_roots() -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = Vec::new();
    let mut push_ancestors = |start: &Path| {
        for dir in start.ancestors() {
            if !roots.iter().any(|r| r == dir) {
                roots.push(dir.to_path_buf());
            }
        }
    };
    if let Ok(exe) = std::env::current_exe().and_then(std::fs::canonicalize) {
        if let Some(dir) = exe.parent() {
            push_ancestors(dir);
        }
    }
    if let Ok(cwd) = std::env::current_dir() {
        push_ancestors(&cwd);
    }
    // The source tree this binary was built from (crates/infodemic-pipeline/../..).
    let source_root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    if let Ok(root) = std::fs::canonicalize(source_root) {
        push_ancestors(&root);
    }
    roots
}

fn locate(
    explicit: Option<&Path>,
    relative: &str,
    marker: &str,
    what: &'static str,
    flag: &'static str,
) -> Result<Located> {
    if let Some(path) = explicit {
        return Ok(Located { path: path.to_path_buf(), how: "explicit" });
    }
    let mut tried = Vec::new();
    for root in project_roots() {
        let candidate = root.join(relative);
        let probe = if marker.is_empty() { candidate.clone() } else { candidate.join(marker) };
        if probe.is_file() {
            return Ok(Located { path: candidate, how: "project" });
        }
        tried.push(candidate.display().to_string());
    }
    tried.truncate(4);
    Err(PipelineError::NotFound { what, tried, setup: SETUP_COMMAND, flag })
}

/// The ONNX Runtime shared library: `explicit` if given, else the project's `.ort/`.
///
/// # Errors
/// [`PipelineError::NotFound`] naming the setup command.
pub fn locate_ort_library(explicit: Option<&Path>) -> Result<Located> {
    locate(explicit, ORT_LIBRARY_RELATIVE, "", "ONNX Runtime library", "--ort-lib PATH (or INFODEMIC_ORT_LIB)")
}

/// The model directory: `explicit` if given, else the project's default model.
///
/// # Errors
/// [`PipelineError::NotFound`].
pub fn locate_model_dir(explicit: Option<&Path>) -> Result<Located> {
    locate(explicit, DEFAULT_MODEL_DIR, "model.toml", "model", "--model DIR (or INFODEMIC_MODEL)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_paths_win() {
        let located = locate_ort_library(Some(Path::new("/nowhere/lib.so"))).unwrap();
        assert_eq!(located, Located { path: PathBuf::from("/nowhere/lib.so"), how: "explicit" });
    }

    #[test]
    fn the_repository_model_is_found() {
        let located = locate_model_dir(None).unwrap();
        assert!(located.path.join("model.toml").is_file());
        assert_eq!(located.how, "project");
    }

    #[test]
    fn a_missing_file_names_the_setup_command() {
        let error = locate(None, "no/such/thing.so", "", "widget", "--widget").unwrap_err();
        assert!(error.to_string().contains(SETUP_COMMAND), "{error}");
    }
}
