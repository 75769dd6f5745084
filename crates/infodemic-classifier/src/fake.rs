//! A deterministic stand-in for tests of the pipeline and the store: no model files needed.

use infodemic_core::{Classification, DecisionPolicy, ModelRef};

use crate::{Classify, Result};

/// Scores a text 0.9 when it contains one of its keywords (case-insensitive), else 0.1; the
/// embedding is a fixed-size bag of letters, L2-normalised.
#[derive(Debug)]
pub struct KeywordClassifier {
    keywords: Vec<String>,
    model: ModelRef,
}

impl KeywordClassifier {
    /// A classifier that flags texts containing any of `keywords`.
    pub fn new(keywords: &[&str]) -> Self {
        Self {
            keywords: keywords.iter().map(|k| k.to_lowercase()).collect(),
            model: ModelRef { id: "keyword-test".to_owned(), version: "0".to_owned() },
        }
    }
}

impl Classify for KeywordClassifier {
    fn classify(&mut self, texts: &[String]) -> Result<Vec<Classification>> {
        Ok(texts
            .iter()
            .map(|text| {
                let lower = text.to_lowercase();
                let hit = self.keywords.iter().any(|k| lower.contains(k.as_str()));
                let mut embedding = vec![0f32; 26];
                for byte in lower.bytes().filter(u8::is_ascii_lowercase) {
                    embedding[usize::from(byte - b'a')] += 1.0;
                }
                let norm = embedding.iter().map(|v| v * v).sum::<f32>().sqrt().max(f32::EPSILON);
                embedding.iter_mut().for_each(|v| *v /= norm);
                let score = if hit { 0.9 } else { 0.1 };
                Classification {
                    score,
                    flagged: hit,
                    review: hit,
                    embedding,
                    model: self.model.clone(),
                    language: None,
                    language_supported: true,
                    evidence: Vec::new(),
                    claim_match: None,
                    claim: None,
                    refute: None,
                    reasons: Vec::new(),
                }
            })
            .collect())
    }

    fn model(&self) -> &ModelRef {
        &self.model
    }

    fn policy(&self) -> DecisionPolicy {
        DecisionPolicy { review: 0.5, flag: 0.5, ..DecisionPolicy::default() }
    }
}
