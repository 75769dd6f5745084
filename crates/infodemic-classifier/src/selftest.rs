//! Does this machine score as the machine that built the model? The model directory holds the
//! outputs its build recorded for a fixed set of texts (`[files.selftest]`); the self-test runs
//! the served graph on them here, one text at a time, and reports the largest deviations.
//!
//! Integer kernels differ between CPUs (VNNI, AVX-512, AVX2), so a model whose weights used all
//! 8 bits could score differently on another machine; models with 7-bit weights cannot
//! saturate, and their deviations are float rounding. The tolerances come from the manifest
//! (`[selftest]`), where the build records what it measured across CPU families.

use serde::{Deserialize, Serialize};

use crate::{ClassifierError, OnnxClassifier, Result};

/// One recorded text and what the build machine computed for it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SelftestCase {
    /// The text.
    pub text: String,
    /// Calibrated score.
    pub score: f32,
    /// Claim head, when the model has one.
    #[serde(default)]
    pub claim: Option<f32>,
    /// Refute head, when the model has one.
    #[serde(default)]
    pub refute: Option<f32>,
    /// The embedding.
    pub embedding: Vec<f32>,
}

/// How far this machine may stray from the recorded outputs (`[selftest]` in `model.toml`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SelftestTolerance {
    /// Largest allowed |score difference| (also for the claim and refute heads).
    pub score: f32,
    /// Smallest allowed cosine between the embeddings.
    pub embedding_cosine: f32,
}

impl Default for SelftestTolerance {
    fn default() -> Self {
        Self { score: 0.02, embedding_cosine: 0.995 }
    }
}

/// What the self-test found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SelftestReport {
    /// Texts run.
    pub cases: usize,
    /// Largest |score - recorded| over the texts (claim and refute heads included).
    pub max_score_deviation: f32,
    /// The text with that deviation.
    pub worst_text: String,
    /// Smallest cosine between an embedding and its recorded one.
    pub min_embedding_cosine: f32,
    /// Flag decisions that differ from the recorded scores' decisions (reported: a text within
    /// tolerance of the threshold may cross it).
    pub decisions_changed: usize,
    /// The tolerances applied.
    pub tolerance: SelftestTolerance,
    /// Every deviation within tolerance.
    pub passed: bool,
}

/// Parses a self-test file (JSON lines of [`SelftestCase`]).
///
/// # Errors
/// A line that is not a case.
pub fn parse_cases(bytes: &[u8]) -> Result<Vec<SelftestCase>> {
    let text = std::str::from_utf8(bytes).map_err(|e| ClassifierError::Selftest(format!("not UTF-8: {e}")))?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            serde_json::from_str(line).map_err(|e| ClassifierError::Selftest(format!("line {}: {e}", index + 1)))
        })
        .collect()
}

/// Runs every case alone (no padding, no batch-mates) and compares.
///
/// # Errors
/// When the model cannot run.
pub fn run(
    classifier: &mut OnnxClassifier,
    cases: &[SelftestCase],
    tolerance: SelftestTolerance,
) -> Result<SelftestReport> {
    let flag = classifier.manifest().flag_threshold();
    let mut report = SelftestReport {
        cases: cases.len(),
        max_score_deviation: 0.0,
        worst_text: String::new(),
        min_embedding_cosine: 1.0,
        decisions_changed: 0,
        tolerance,
        passed: true,
    };
    for case in cases {
        let ours = classifier
            .predict_batch(&[case.text.as_str()])?
            .pop()
            .ok_or_else(|| ClassifierError::GraphMismatch("no output for a self-test text".to_owned()))?;
        let heads = [(Some(ours.score), Some(case.score)), (ours.claim, case.claim), (ours.refute, case.refute)];
        let deviation = heads
            .iter()
            .map(|pair| match pair {
                (Some(a), Some(b)) => (a - b).abs(),
                (None, None) => 0.0,
                _ => f32::INFINITY, // a head present on one side only: not the same model
            })
            .fold(0.0, f32::max);
        if deviation > report.max_score_deviation || report.worst_text.is_empty() {
            report.max_score_deviation = report.max_score_deviation.max(deviation);
            report.worst_text.clone_from(&case.text);
        }
        report.min_embedding_cosine = report.min_embedding_cosine.min(cosine(&ours.embedding, &case.embedding));
        if (ours.score >= flag) != (case.score >= flag) {
            report.decisions_changed += 1;
        }
    }
    report.passed =
        report.max_score_deviation <= tolerance.score && report.min_embedding_cosine >= tolerance.embedding_cosine;
    Ok(report)
}

/// Which integer kernel family ONNX Runtime picks on this CPU, for reports (from the CPU
/// flags Linux lists in /proc/cpuinfo; `None` elsewhere).
pub fn cpu_int8_path() -> Option<&'static str> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let flags: Vec<&str> = info.lines().find(|l| l.starts_with("flags"))?.split_whitespace().collect();
    let has = |flag: &str| flags.contains(&flag);
    Some(if has("avx512_vnni") {
        "AVX-512 VNNI (no saturation)"
    } else if has("avx_vnni") {
        "AVX-VNNI (no saturation)"
    } else if has("avx512bw") {
        "AVX-512BW without VNNI (16-bit saturating pairs)"
    } else if has("avx2") {
        "AVX2 (16-bit saturating pairs)"
    } else {
        "SSE (no AVX2)"
    })
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() || a.is_empty() {
        return 0.0;
    }
    let dot: f64 = a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
    let norm = |v: &[f32]| v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    #[allow(clippy::cast_possible_truncation)] // A cosine fits an f32.
    let c = (dot / (norm(a) * norm(b)).max(f64::MIN_POSITIVE)) as f32;
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_parse_and_bad_lines_are_named() {
        let good = b"{\"text\":\"a\",\"score\":0.5,\"embedding\":[1.0,0.0]}\n\n{\"text\":\"b\",\"score\":0.1,\"claim\":0.9,\"embedding\":[0.0,1.0]}\n";
        let cases = parse_cases(good).unwrap();
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[1].claim, Some(0.9));
        let error = parse_cases(b"{\"text\":\"a\"}\n").unwrap_err().to_string();
        assert!(error.contains("line 1"), "{error}");
    }

    #[test]
    fn cosine_is_safe_on_odd_vectors() {
        assert!((cosine(&[1.0, 0.0], &[2.0, 0.0]) - 1.0).abs() < 1e-6);
        assert_eq!(cosine(&[1.0], &[1.0, 2.0]), 0.0);
        assert_eq!(cosine(&[], &[]), 0.0);
    }
}
