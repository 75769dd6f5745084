//! The flat record of an item in JSON lines and CSV: a stable export format.

use infodemic_core::ScoredItem;
use serde::Serialize;

/// One item as exported. Field names are part of the CLI's contract.
#[derive(Debug, Serialize)]
pub struct ItemRow<'a> {
    pub id: String,
    pub published: Option<String>,
    pub fetched_at: String,
    pub source: &'a str,
    pub score: f32,
    pub flagged: bool,
    pub label: &'static str,
    pub title: &'a str,
    pub url: &'a str,
    pub canonical_url: &'a str,
    pub author: Option<&'a str>,
    pub language: Option<&'a str>,
    pub model: String,
    pub content_hash: String,
    pub text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embedding: Option<&'a [f32]>,
}

impl<'a> ItemRow<'a> {
    pub fn new(scored: &'a ScoredItem, with_embedding: bool) -> Self {
        let (item, class) = (&scored.item, &scored.classification);
        Self {
            id: item.id.to_string(),
            published: item.published.map(|t| t.to_rfc3339()),
            fetched_at: item.fetched_at.to_rfc3339(),
            source: item.source.as_str(),
            score: class.score,
            flagged: class.flagged,
            label: class.label().as_str(),
            title: &item.title,
            url: &item.url,
            canonical_url: &item.canonical_url,
            author: item.author.as_deref(),
            language: item.language.as_deref(),
            model: format!("{}@{}", class.model.id, class.model.version),
            content_hash: item.content_hash.to_string(),
            text: &item.text,
            embedding: with_embedding.then_some(class.embedding.as_slice()),
        }
    }
}
