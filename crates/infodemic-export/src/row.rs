//! One exported item: the columns every format writes, in this order.

use chrono::{DateTime, SecondsFormat, Utc};
use infodemic_core::{Agreement, CampaignId, FeedCategory, ScoredItem};
use serde::{Deserialize, Serialize};

/// What the store knows about an item beyond the item itself.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RowContext {
    /// The category of the item's source, when the source is subscribed.
    pub category: Option<FeedCategory>,
    /// The feed the item was read from.
    pub feed_url: Option<String>,
    /// The item's live campaign.
    pub campaign: Option<CampaignId>,
    /// The current verdict.
    pub verdict: Option<String>,
    /// Reviewers with a standing verdict.
    pub reviewers: u32,
    /// Whether they agree.
    pub agreement: Option<Agreement>,
    /// The model's thresholds, when the manifest of the model that scored the item is known.
    pub thresholds: Option<Thresholds>,
}

/// A model's decision thresholds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Thresholds {
    /// At or above: flagged.
    pub flag: f32,
    /// At or above: worth a review.
    pub review: f32,
}

/// The columns of a dataset row. Every format writes these names, in this order; absent values
/// are JSON `null`, an empty CSV cell, a Parquet null.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExportRow {
    /// 16 hex characters.
    pub id: String,
    /// The link as published (a pseudonym when it points at an individual's post).
    pub url: String,
    /// Title.
    pub title: String,
    /// Plain text.
    pub text: String,
    /// Source id.
    pub source: String,
    /// The source's category (`authority`, `medical-news`, `fact-checker`,
    /// `misinformation-outlet`, `other`).
    pub source_category: Option<String>,
    /// The account or author (a pseudonym with `--pseudonymize`).
    pub author: Option<String>,
    /// Publication time, RFC 3339 UTC.
    pub published: Option<String>,
    /// Fetch time, RFC 3339 UTC.
    pub fetched: String,
    /// Detected language.
    pub language: Option<String>,
    /// The model that scored it.
    pub model_id: String,
    /// Its version.
    pub model_version: String,
    /// Calibrated probability of misinformation (null for an unsupported language).
    pub score: Option<f32>,
    /// Flagged as likely misinformation.
    pub flagged: bool,
    /// Worth a review.
    pub review: bool,
    /// The flag threshold of the model, when its manifest is at hand.
    pub flag_threshold: Option<f32>,
    /// The review threshold of the model, when its manifest is at hand.
    pub review_threshold: Option<f32>,
    /// Why it was (not) flagged: the decision's reasons, joined by `; `.
    pub reasons: String,
    /// The sentence that scored highest.
    pub evidence: Option<String>,
    /// The known debunked claim it matched.
    pub matched_claim: Option<String>,
    /// That claim's verdict.
    pub matched_claim_verdict: Option<String>,
    /// The fact-check of that claim.
    pub matched_claim_url: Option<String>,
    /// Its campaign (`c12`).
    pub campaign: Option<String>,
    /// The current verdict.
    pub verdict: Option<String>,
    /// Reviewers with a standing verdict.
    pub verdict_count: u32,
    /// `single`, `agreed` or `disagreed`.
    pub agreement: Option<String>,
    /// The feed it was read from.
    pub feed_url: Option<String>,
    /// SHA-256-derived hash of title and text, hex.
    pub content_hash: String,
    /// The split it was written to (`train`, `test`), or null without `--split`.
    pub split: Option<String>,
}

/// The column names, in order (what CSV's header and Parquet's schema hold).
pub const COLUMNS: [&str; 29] = [
    "id",
    "url",
    "title",
    "text",
    "source",
    "source_category",
    "author",
    "published",
    "fetched",
    "language",
    "model_id",
    "model_version",
    "score",
    "flagged",
    "review",
    "flag_threshold",
    "review_threshold",
    "reasons",
    "evidence",
    "matched_claim",
    "matched_claim_verdict",
    "matched_claim_url",
    "campaign",
    "verdict",
    "verdict_count",
    "agreement",
    "feed_url",
    "content_hash",
    "split",
];

fn time(value: DateTime<Utc>) -> String {
    value.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl ExportRow {
    /// The row of `scored` with what the store knows of it.
    pub fn new(scored: &ScoredItem, context: &RowContext) -> Self {
        let item = &scored.item;
        let class = &scored.classification;
        let claim = class.claim_match.as_ref();
        Self {
            id: item.id.to_string(),
            url: item.url.clone(),
            title: item.title.clone(),
            text: item.text.clone(),
            source: item.source.as_str().to_owned(),
            source_category: context.category.map(|c| c.as_str().to_owned()),
            author: item.author.clone(),
            published: item.published.map(time),
            fetched: time(item.fetched_at),
            language: item.language.clone(),
            model_id: class.model.id.clone(),
            model_version: class.model.version.clone(),
            score: class.shown_score(),
            flagged: class.flagged,
            review: class.review,
            flag_threshold: context.thresholds.map(|t| t.flag),
            review_threshold: context.thresholds.map(|t| t.review),
            reasons: class.reasons.join("; "),
            evidence: class.evidence.first().map(|e| e.text.clone()),
            matched_claim: claim.map(|c| c.claim.clone()),
            matched_claim_verdict: claim.map(|c| c.verdict.clone()),
            matched_claim_url: claim.and_then(|c| c.review_url.clone()),
            campaign: context.campaign.map(|c| c.to_string()),
            verdict: context.verdict.clone(),
            verdict_count: context.reviewers,
            agreement: context.agreement.filter(|a| *a != Agreement::Unreviewed).map(|a| a.as_str().to_owned()),
            feed_url: context.feed_url.clone(),
            content_hash: item.content_hash.to_string(),
            split: None,
        }
    }
}
