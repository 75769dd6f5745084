//! `model.toml`: what a model directory holds and the checksums that prove it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use infodemic_core::{DecisionPolicy, FeedCategory};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{ClassifierError, Result};

/// The manifest file name inside a model directory.
pub const MANIFEST_FILE: &str = "model.toml";

/// The parsed `model.toml`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelManifest {
    /// Identity, labels, threshold, limits.
    pub model: ModelInfo,
    /// The files serving needs, with their sha256.
    pub files: ModelFiles,
    /// Graph input and output names.
    pub io: ModelIo,
    /// How the model was trained (free-form, shown by `model info`).
    #[serde(default)]
    pub training: toml::Table,
    /// Validation metrics per evaluation set (free-form numbers).
    #[serde(default)]
    pub metrics: BTreeMap<String, toml::Table>,
    /// The `review` and `flag` thresholds with their validation figures (models from v2 on;
    /// without it both are `model.threshold`).
    #[serde(default)]
    pub thresholds: Option<Thresholds>,
    /// How the scores were calibrated (free-form, shown by `model info`).
    #[serde(default)]
    pub calibration: Option<toml::Table>,
    /// Logit offset per source category, applied before the thresholds and shown as a reason
    /// (`[source_prior]`, e.g. `fact-checker = -1.0`); categories not listed get 0.
    #[serde(default)]
    pub source_prior: BTreeMap<FeedCategory, f32>,
    /// How far `model selftest` may find this machine from the recorded outputs.
    #[serde(default)]
    pub selftest: Option<crate::SelftestTolerance>,
}

/// The `[thresholds]` table.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Thresholds {
    /// Worth a look: high recall.
    pub review: Threshold,
    /// Likely misinformation: high precision.
    pub flag: Threshold,
    /// Claim probability a text needs to be flagged (models with a claim head).
    #[serde(default)]
    pub claim_gate: Option<Threshold>,
}

/// One threshold and the figures that justify it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Threshold {
    /// Scores at or above this pass.
    pub value: f32,
    /// Validation precision, recall... (free-form numbers).
    #[serde(flatten)]
    pub figures: toml::Table,
}

/// The `[model]` table.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Model id.
    pub id: String,
    /// Model version.
    pub version: String,
    /// One-line description.
    #[serde(default)]
    pub description: String,
    /// Class names, negative first: `["reliable", "misinformation"]`.
    pub labels: Vec<String>,
    /// Scores at or above this are flagged.
    pub threshold: f32,
    /// Tokens per text after truncation.
    pub max_tokens: usize,
    /// Length of the embedding output.
    pub embedding_dim: usize,
    /// Languages the model was trained for (ISO 639-1); empty means "not stated".
    #[serde(default)]
    pub languages: Vec<String>,
    /// Vocabulary size the graph expects; a tokenizer of another size is refused.
    #[serde(default)]
    pub vocab_size: Option<usize>,
    /// Whether a text's outputs are independent of what it is batched with (per-token
    /// quantisation scales, or none). When false, texts are scored one at a time by default.
    #[serde(default)]
    pub batch_invariant: bool,
    /// What the graph reads: `"strip-source-cues"` for models trained on text without URLs,
    /// handles and hash marks ([`crate::strip_source_cues`]); absent: the text as it is.
    #[serde(default)]
    pub text_preparation: Option<String>,
    /// Anything else (encoder, head, quantization...), kept for `model info`.
    #[serde(flatten)]
    pub extra: toml::Table,
}

/// The `[files]` table.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelFiles {
    /// The ONNX graph.
    pub graph: FileEntry,
    /// The HF tokenizers `tokenizer.json`.
    pub tokenizer: FileEntry,
    /// Outputs the build recorded for fixed texts (`infodemic model selftest`).
    #[serde(default)]
    pub selftest: Option<FileEntry>,
}

/// A file of the model directory and its expected hash.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path relative to the model directory.
    pub path: String,
    /// Lowercase hex sha256.
    pub sha256: String,
}

/// The `[io]` table: names of the graph's inputs and outputs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelIo {
    /// int64 [batch, seq] token ids.
    pub input_ids: String,
    /// int64 [batch, seq] 1 for tokens, 0 for padding.
    pub attention_mask: String,
    /// float32 [batch] probability of misinformation.
    pub score: String,
    /// float32 [batch, embedding_dim] L2-normalised embedding.
    pub embedding: String,
    /// float32 [batch] uncalibrated logit, when the graph has one.
    #[serde(default)]
    pub logit: Option<String>,
    /// float32 [batch] P(states a checkable claim), when the graph has that head.
    #[serde(default)]
    pub claim: Option<String>,
    /// float32 [batch] P(refutes a claim), when the graph has that head.
    #[serde(default)]
    pub refute: Option<String>,
}

/// A model directory whose files matched the manifest when read. Holds the verified bytes,
/// so nothing can change between the check and their use.
#[derive(Clone)]
pub struct ModelBundle {
    /// The directory.
    pub dir: PathBuf,
    /// The manifest.
    pub manifest: ModelManifest,
    /// The verified graph bytes.
    pub graph: Vec<u8>,
    /// The verified tokenizer bytes.
    pub tokenizer: Vec<u8>,
    /// The verified self-test file, when the model has one.
    pub selftest: Option<Vec<u8>>,
}

impl std::fmt::Debug for ModelBundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelBundle")
            .field("dir", &self.dir)
            .field("id", &self.manifest.model.id)
            .field("graph_bytes", &self.graph.len())
            .finish_non_exhaustive()
    }
}

impl ModelManifest {
    /// Reads and parses `dir/model.toml` without touching the other files.
    ///
    /// # Errors
    /// When the manifest is missing or invalid.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(MANIFEST_FILE);
        let text =
            std::fs::read_to_string(&path).map_err(|source| ClassifierError::Read { path: path.clone(), source })?;
        let manifest: ModelManifest = toml::from_str(&text)
            .map_err(|e| ClassifierError::Manifest { path: path.clone(), message: e.to_string() })?;
        manifest.validate().map_err(|message| ClassifierError::Manifest { path, message })?;
        Ok(manifest)
    }

    /// Scores at or above this are flagged as likely misinformation.
    pub fn flag_threshold(&self) -> f32 {
        self.thresholds.as_ref().map_or(self.model.threshold, |t| t.flag.value)
    }

    /// Scores at or above this are worth a look; never above the flag threshold.
    pub fn review_threshold(&self) -> f32 {
        self.thresholds.as_ref().map_or(self.model.threshold, |t| t.review.value).min(self.flag_threshold())
    }

    /// The thresholds, claim gate and source priors, as the decision applies them.
    pub fn policy(&self) -> DecisionPolicy {
        DecisionPolicy {
            review: self.review_threshold(),
            flag: self.flag_threshold(),
            claim_gate: self.thresholds.as_ref().and_then(|t| t.claim_gate.as_ref()).map(|t| t.value),
            source_prior: self.source_prior.clone(),
        }
    }

    /// Whether the model was trained for `language`; unknown languages (no detection, or a
    /// manifest that names none) count as supported.
    pub fn supports_language(&self, language: Option<&str>) -> bool {
        match language {
            Some(language) if !self.model.languages.is_empty() => {
                self.model.languages.iter().any(|known| known == language)
            }
            _ => true,
        }
    }

    fn validate(&self) -> std::result::Result<(), String> {
        let model = &self.model;
        if model.labels.len() != 2 {
            return Err(format!("expected 2 labels, found {}", model.labels.len()));
        }
        if !(0.0..=1.0).contains(&model.threshold) {
            return Err(format!("threshold {} is outside 0..=1", model.threshold));
        }
        if model.max_tokens < 2 || model.embedding_dim == 0 {
            return Err("max_tokens must be at least 2 and embedding_dim positive".to_owned());
        }
        if let Some(thresholds) = &self.thresholds {
            let gate = thresholds.claim_gate.as_ref().map_or(0.5, |t| t.value);
            for (name, value) in
                [("review", thresholds.review.value), ("flag", thresholds.flag.value), ("claim_gate", gate)]
            {
                if !(0.0..=1.0).contains(&value) {
                    return Err(format!("{name} threshold {value} is outside 0..=1"));
                }
            }
        }
        if let Some(preparation) = &model.text_preparation {
            if preparation != crate::prepare::STRIP_SOURCE_CUES {
                return Err(format!(
                    "unknown text_preparation {preparation:?} (this build knows {:?})",
                    crate::prepare::STRIP_SOURCE_CUES
                ));
            }
        }
        if let Some((category, offset)) = self.source_prior.iter().find(|(_, v)| !v.is_finite() || v.abs() > 10.0) {
            return Err(format!(
                "source_prior for {} is {offset}: expected a logit offset within -10..=10",
                category.as_str()
            ));
        }
        for entry in [&self.files.graph, &self.files.tokenizer].into_iter().chain(self.files.selftest.as_ref()) {
            if entry.sha256.len() != 64 || !entry.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("sha256 of {} is not 64 hex characters", entry.path));
            }
            if Path::new(&entry.path).is_absolute() || entry.path.contains("..") {
                return Err(format!("file path {} must stay inside the model directory", entry.path));
            }
        }
        Ok(())
    }
}

impl ModelBundle {
    /// Reads the manifest and every file it names, verifying each sha256.
    ///
    /// # Errors
    /// A missing file, an invalid manifest, or a [`ClassifierError::Checksum`] mismatch.
    pub fn load(dir: &Path) -> Result<Self> {
        let manifest = ModelManifest::read(dir)?;
        let graph = read_verified(dir, &manifest.files.graph)?;
        let tokenizer = read_verified(dir, &manifest.files.tokenizer)?;
        let selftest = manifest.files.selftest.as_ref().map(|entry| read_verified(dir, entry)).transpose()?;
        Ok(Self { dir: dir.to_path_buf(), manifest, graph, tokenizer, selftest })
    }
}

fn read_verified(dir: &Path, entry: &FileEntry) -> Result<Vec<u8>> {
    let path = dir.join(&entry.path);
    let bytes = std::fs::read(&path).map_err(|source| ClassifierError::Read { path: path.clone(), source })?;
    let actual = hex::encode(Sha256::digest(&bytes));
    if !actual.eq_ignore_ascii_case(&entry.sha256) {
        return Err(ClassifierError::Checksum { path, expected: entry.sha256.clone(), actual });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_model(dir: &Path, graph: &[u8], graph_sha: &str) {
        std::fs::write(dir.join("model.onnx"), graph).unwrap();
        std::fs::write(dir.join("tokenizer.json"), b"{}").unwrap();
        let tok_sha = hex::encode(Sha256::digest(b"{}"));
        let manifest = format!(
            r#"
[model]
id = "m"
version = "1"
labels = ["reliable", "misinformation"]
threshold = 0.5
max_tokens = 128
embedding_dim = 384
encoder = "x"

[files.graph]
path = "model.onnx"
sha256 = "{graph_sha}"

[files.tokenizer]
path = "tokenizer.json"
sha256 = "{tok_sha}"

[io]
input_ids = "input_ids"
attention_mask = "attention_mask"
score = "score"
embedding = "embedding"

[metrics.val]
f1 = 0.9
"#
        );
        std::fs::write(dir.join(MANIFEST_FILE), manifest).unwrap();
    }

    #[test]
    fn loads_when_checksums_match() {
        let dir = tempfile::tempdir().unwrap();
        write_model(dir.path(), b"graph", &hex::encode(Sha256::digest(b"graph")));
        let bundle = ModelBundle::load(dir.path()).unwrap();
        assert_eq!(bundle.graph, b"graph");
        assert_eq!(bundle.manifest.model.extra.get("encoder").and_then(|v| v.as_str()), Some("x"));
        assert!(bundle.manifest.metrics.contains_key("val"));
    }

    #[test]
    fn v1_manifests_use_one_threshold_for_review_and_flag() {
        let dir = tempfile::tempdir().unwrap();
        write_model(dir.path(), b"graph", &hex::encode(Sha256::digest(b"graph")));
        let manifest = ModelManifest::read(dir.path()).unwrap();
        assert_eq!((manifest.review_threshold(), manifest.flag_threshold()), (0.5, 0.5));
        assert!(manifest.supports_language(Some("fr")), "no languages stated");
    }

    #[test]
    fn v2_manifests_carry_thresholds_and_languages() {
        let dir = tempfile::tempdir().unwrap();
        write_model(dir.path(), b"graph", &hex::encode(Sha256::digest(b"graph")));
        let path = dir.path().join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("encoder = \"x\"", "encoder = \"x\"\nlanguages = [\"en\"]\nvocab_size = 30522")
            + "\n[thresholds.review]\nvalue = 0.3\ndev_recall = 0.9\n[thresholds.flag]\nvalue = 0.8\n";
        std::fs::write(&path, text).unwrap();
        let manifest = ModelManifest::read(dir.path()).unwrap();
        assert_eq!((manifest.review_threshold(), manifest.flag_threshold()), (0.3, 0.8));
        assert_eq!(manifest.model.vocab_size, Some(30522));
        assert!(manifest.supports_language(Some("en")));
        assert!(!manifest.supports_language(Some("fr")));
        assert!(manifest.supports_language(None));
    }

    #[test]
    fn v3_manifests_carry_the_claim_gate_priors_and_text_preparation() {
        let dir = tempfile::tempdir().unwrap();
        write_model(dir.path(), b"graph", &hex::encode(Sha256::digest(b"graph")));
        let path = dir.path().join(MANIFEST_FILE);
        let base = std::fs::read_to_string(&path)
            .unwrap()
            .replace("encoder = \"x\"", "encoder = \"x\"\ntext_preparation = \"strip-source-cues\"");
        let text = base.clone()
            + "\n[thresholds.review]\nvalue = 0.3\n[thresholds.flag]\nvalue = 0.8\n[thresholds.claim_gate]\nvalue = 0.5\n"
            + "[source_prior]\nfact-checker = -1.0\nmisinformation-outlet = 0.5\n";
        std::fs::write(&path, text).unwrap();
        let manifest = ModelManifest::read(dir.path()).unwrap();
        let policy = manifest.policy();
        assert_eq!((policy.review, policy.flag, policy.claim_gate), (0.3, 0.8, Some(0.5)));
        assert_eq!(policy.prior(Some(FeedCategory::FactChecker)), -1.0);
        assert_eq!(policy.prior(Some(FeedCategory::Authority)), 0.0);
        assert_eq!(manifest.model.text_preparation.as_deref(), Some("strip-source-cues"));

        std::fs::write(&path, base.replace("strip-source-cues", "lowercase")).unwrap();
        let error = ModelManifest::read(dir.path()).unwrap_err().to_string();
        assert!(error.contains("unknown text_preparation"), "{error}");
        std::fs::write(&path, base.clone() + "\n[source_prior]\nfact-checker = -99.0\n").unwrap();
        assert!(ModelManifest::read(dir.path()).is_err(), "absurd priors are refused");
        std::fs::write(&path, base + "\n[source_prior]\nblogs = 1.0\n").unwrap();
        assert!(ModelManifest::read(dir.path()).is_err(), "unknown categories are refused");
    }

    #[test]
    fn refuses_a_modified_graph() {
        let dir = tempfile::tempdir().unwrap();
        write_model(dir.path(), b"tampered", &hex::encode(Sha256::digest(b"graph")));
        let error = ModelBundle::load(dir.path()).unwrap_err();
        assert!(matches!(error, ClassifierError::Checksum { .. }), "{error}");
    }

    #[test]
    fn missing_manifest_is_a_read_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(ModelManifest::read(dir.path()), Err(ClassifierError::Read { .. })));
    }
}
