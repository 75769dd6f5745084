//! The flat records of an item in JSON lines and CSV: a stable export format.

use std::borrow::Cow;

use infodemic_core::{ClaimMatch, ScoredItem};
use serde::Serialize;

use super::csv_cell;

/// One item as exported in JSON. Field names are part of the CLI's contract.
#[derive(Debug, Serialize)]
pub struct ItemRow<'a> {
    pub id: String,
    pub published: Option<String>,
    pub fetched_at: String,
    pub source: &'a str,
    /// Calibrated probability of misinformation; null for a language the model does not know.
    pub score: Option<f32>,
    pub flagged: bool,
    pub review: bool,
    pub label: &'static str,
    /// P(the item states a checkable claim), for models with a claim head.
    pub claim: Option<f32>,
    /// P(the item refutes a claim), for models with a refute head.
    pub refute: Option<f32>,
    /// Why it was or was not flagged, one sentence each.
    pub reasons: &'a [String],
    pub title: &'a str,
    pub url: &'a str,
    pub canonical_url: &'a str,
    pub author: Option<&'a str>,
    pub language: Option<&'a str>,
    pub language_supported: bool,
    pub model: String,
    pub content_hash: String,
    pub evidence: Vec<EvidenceRow<'a>>,
    pub claim_match: Option<&'a ClaimMatch>,
    pub text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embedding: Option<&'a [f32]>,
}

/// An evidence sentence.
#[derive(Debug, Serialize)]
pub struct EvidenceRow<'a> {
    pub text: &'a str,
    pub score: f32,
}

impl<'a> ItemRow<'a> {
    pub fn new(scored: &'a ScoredItem, with_embedding: bool) -> Self {
        let (item, class) = (&scored.item, &scored.classification);
        Self {
            id: item.id.to_string(),
            published: item.published.map(|t| t.to_rfc3339()),
            fetched_at: item.fetched_at.to_rfc3339(),
            source: item.source.as_str(),
            score: class.shown_score(),
            flagged: class.flagged,
            review: class.review,
            label: class.label().as_str(),
            claim: class.claim,
            refute: class.refute,
            reasons: &class.reasons,
            title: &item.title,
            url: &item.url,
            canonical_url: &item.canonical_url,
            author: item.author.as_deref(),
            language: item.language.as_deref().or(class.language.as_deref()),
            language_supported: class.language_supported,
            model: format!("{}@{}", class.model.id, class.model.version),
            content_hash: item.content_hash.to_string(),
            evidence: class.evidence.iter().map(|e| EvidenceRow { text: &e.text, score: e.score }).collect(),
            claim_match: class.claim_match.as_ref(),
            text: &item.text,
            embedding: with_embedding.then_some(class.embedding.as_slice()),
        }
    }
}

/// One item as a CSV row: the JSON fields, nested ones flattened to their main value.
#[derive(Debug, Serialize)]
pub struct CsvRow<'a> {
    pub id: String,
    pub published: Option<String>,
    pub fetched_at: String,
    pub source: Cow<'a, str>,
    pub score: Option<f32>,
    pub flagged: bool,
    pub review: bool,
    pub label: &'static str,
    /// P(the item states a checkable claim), for models with a claim head.
    pub claim: Option<f32>,
    /// P(the item refutes a claim), for models with a refute head.
    pub refute: Option<f32>,
    /// Why it was or was not flagged, the reasons joined by "; ".
    pub why: String,
    pub title: Cow<'a, str>,
    pub url: Cow<'a, str>,
    pub canonical_url: Cow<'a, str>,
    pub author: Option<Cow<'a, str>>,
    pub language: Option<Cow<'a, str>>,
    pub language_supported: bool,
    pub model: String,
    pub content_hash: String,
    pub top_evidence: Option<Cow<'a, str>>,
    pub matched_claim: Option<Cow<'a, str>>,
    pub matched_claim_url: Option<Cow<'a, str>>,
    pub matched_claim_similarity: Option<f32>,
    /// The item's stance toward the matched claim: repeats, refutes or mentions.
    pub matched_claim_stance: Option<&'static str>,
    pub text: Cow<'a, str>,
}

impl<'a> CsvRow<'a> {
    pub fn new(scored: &'a ScoredItem) -> Self {
        let row = ItemRow::new(scored, false);
        let claim = row.claim_match;
        Self {
            id: row.id,
            published: row.published,
            fetched_at: row.fetched_at,
            source: csv_cell(row.source),
            score: row.score,
            flagged: row.flagged,
            review: row.review,
            label: row.label,
            claim: row.claim,
            refute: row.refute,
            why: csv_cell(&row.reasons.join("; ")).into_owned(),
            title: csv_cell(row.title),
            url: csv_cell(row.url),
            canonical_url: csv_cell(row.canonical_url),
            author: row.author.map(csv_cell),
            language: row.language.map(csv_cell),
            language_supported: row.language_supported,
            model: row.model,
            content_hash: row.content_hash,
            top_evidence: row.evidence.first().map(|e| csv_cell(e.text)),
            matched_claim: claim.map(|c| csv_cell(&c.claim)),
            matched_claim_url: claim.and_then(|c| c.review_url.as_deref()).map(csv_cell),
            matched_claim_similarity: claim.map(|c| c.similarity),
            matched_claim_stance: claim.and_then(|c| c.stance).map(infodemic_core::Stance::as_str),
            text: csv_cell(row.text),
        }
    }
}
