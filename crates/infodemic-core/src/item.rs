//! Items (one post or article) and what the classifier said about them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{ContentHash, ItemId, SourceId};

/// One article or post, normalised from whatever format it came in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Stable id, from the canonical URL.
    pub id: ItemId,
    /// The link as published.
    pub url: String,
    /// The link after canonicalisation; the dedupe key.
    pub canonical_url: String,
    /// Plain-text title.
    pub title: String,
    /// Plain-text body (summary or full content), whitespace collapsed.
    pub text: String,
    /// Publication time, if the source gave one.
    pub published: Option<DateTime<Utc>>,
    /// When infodemic fetched it.
    pub fetched_at: DateTime<Utc>,
    /// Author or account, if given.
    pub author: Option<String>,
    /// Where it came from.
    pub source: SourceId,
    /// Detected language (ISO 639-1), if detection was confident.
    pub language: Option<String>,
    /// Hash of normalised title and text; the second dedupe key.
    pub content_hash: ContentHash,
    /// Links the item shares (absolute, in order, without duplicates).
    #[serde(default)]
    pub links: Vec<String>,
    /// SimHash of title and text, to find near-duplicates (`None` for very short texts).
    #[serde(default)]
    pub simhash: Option<u64>,
}

/// How another copy relates to the item it was linked to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Relation {
    /// Same normalised title and text under another URL (syndication, mirror).
    SameContent,
    /// Nearly the same text (a repost with a line changed).
    NearDuplicate {
        /// SimHash bits that differ.
        distance: u32,
    },
}

/// Another place an item appeared: kept so that campaigns see every source, time and URL
/// of one story.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Appearance {
    /// The canonical item (the first one stored).
    pub item: ItemId,
    /// Where this copy was found.
    pub source: SourceId,
    /// This copy's URL.
    pub url: String,
    /// When this copy was fetched.
    pub seen_at: DateTime<Utc>,
    /// When this copy says it was published.
    pub published: Option<DateTime<Utc>>,
    /// How it relates to the canonical item.
    pub relation: Relation,
}

impl Item {
    /// The text the classifier reads: the title, then the body.
    pub fn classifier_input(&self) -> String {
        if self.text.is_empty() {
            self.title.clone()
        } else if self.title.is_empty() {
            self.text.clone()
        } else {
            format!("{}. {}", self.title.trim_end_matches('.'), self.text)
        }
    }

    /// The time used for ordering and filtering: publication time, else fetch time.
    pub fn effective_time(&self) -> DateTime<Utc> {
        self.published.unwrap_or(self.fetched_at)
    }
}

/// Which model produced a score.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelRef {
    /// Model id from its manifest.
    pub id: String,
    /// Model version from its manifest.
    pub version: String,
}

/// The classifier's output for one text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    /// Calibrated probability that the text is health misinformation, 0..=1. Meaningless when
    /// `language_supported` is false (the model was not trained for that language).
    pub score: f32,
    /// `score >= flag threshold`: likely misinformation.
    pub flagged: bool,
    /// `score >= review threshold`: worth a fact-checker's look (implied by `flagged`).
    pub review: bool,
    /// L2-normalised sentence embedding (for campaigns and claim matching).
    pub embedding: Vec<f32>,
    /// The model that produced it.
    pub model: ModelRef,
    /// Language detected in the text (ISO 639-1 where one exists), if detection was confident.
    pub language: Option<String>,
    /// False when the text is confidently in a language the model was not trained for: then
    /// nothing is flagged and the score is not shown as one.
    pub language_supported: bool,
    /// The sentences that drove the score, highest first (empty when nothing stood out).
    pub evidence: Vec<Evidence>,
    /// The nearest known debunked claim, when one is similar enough.
    pub claim_match: Option<ClaimMatch>,
    /// P(the text states a checkable claim, true or false), for models with a claim head.
    #[serde(default)]
    pub claim: Option<f32>,
    /// P(the text refutes a claim: a fact-check, a correction), for models with that head.
    #[serde(default)]
    pub refute: Option<f32>,
    /// Why the item was or was not flagged, one sentence each (empty for records stored
    /// before reasons were kept).
    #[serde(default)]
    pub reasons: Vec<String>,
}

/// The model id of items stored without scoring (`crawl --no-score`): every real model
/// differs from it, so `rescore` scores them.
pub const UNSCORED_MODEL_ID: &str = "unscored";

impl Classification {
    /// What an item stored without scoring carries: no score (nothing is flagged or shown),
    /// no embedding, the language as detected, and a reason that says what to run.
    pub fn unscored(language: Option<String>) -> Self {
        Self {
            score: 0.0,
            flagged: false,
            review: false,
            embedding: Vec::new(),
            model: ModelRef { id: UNSCORED_MODEL_ID.to_owned(), version: "0".to_owned() },
            language,
            language_supported: false,
            evidence: Vec::new(),
            claim_match: None,
            claim: None,
            refute: None,
            reasons: vec!["not scored yet (crawled with --no-score): run `infodemic rescore`".to_owned()],
        }
    }

    /// Whether the item was stored without scoring.
    pub fn is_unscored(&self) -> bool {
        self.model.id == UNSCORED_MODEL_ID
    }

    /// The label the score implies.
    pub fn label(&self) -> Label {
        if self.is_unscored() {
            Label::Unscored
        } else if self.flagged {
            Label::Misinformation
        } else {
            Label::Reliable
        }
    }

    /// Decides again under `policy` for a text from a source of `category` (the classifier
    /// decides without knowing the source): flagged, review and the reasons are replaced.
    pub fn redecide(&mut self, policy: &crate::DecisionPolicy, category: Option<crate::FeedCategory>) {
        let outputs = crate::ModelOutputs {
            score: self.score,
            claim: self.claim,
            refute: self.refute,
            language_supported: self.language_supported,
        };
        let decision = policy.decide(outputs, category);
        self.flagged = decision.flagged;
        self.review = decision.review;
        self.reasons = decision.reasons;
    }

    /// The score to show people: `None` for a language the model does not know.
    pub fn shown_score(&self) -> Option<f32> {
        self.language_supported.then_some(self.score)
    }
}

/// A sentence (or window of sentences) of an item and its own score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The text, as in the item.
    pub text: String,
    /// Its calibrated score alone.
    pub score: f32,
    /// Its embedding, for claim matching at scoring time (not kept in the store).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub embedding: Vec<f32>,
}

/// A known debunked claim close to an item, with what a reviewer needs to check it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClaimMatch {
    /// Id of the claim in the local claim index (hex).
    pub claim_id: String,
    /// The claim as the fact-checker worded it.
    pub claim: String,
    /// Normalised verdict (`false`, `misleading`...).
    pub verdict: String,
    /// Who reviewed it.
    pub reviewer: Option<String>,
    /// The fact-check article.
    pub review_url: Option<String>,
    /// Cosine similarity of the embeddings, -1..=1.
    pub similarity: f32,
    /// The part of the item that matched (the whole item or an evidence sentence).
    pub matched_text: String,
    /// Whether the item repeats or refutes the claim (`None`: matched before stance was kept).
    #[serde(default)]
    pub stance: Option<crate::Stance>,
}

/// An item with its classification: what the store keeps and queries return.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoredItem {
    /// The item.
    pub item: Item,
    /// What the model said.
    pub classification: Classification,
}

/// The two classes the model tells apart, and items it has not seen yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    /// Not flagged.
    Reliable,
    /// Likely health misinformation.
    Misinformation,
    /// Stored without scoring (`crawl --no-score`), until `rescore`.
    Unscored,
}

impl Label {
    /// Lowercase name, as in manifests and exports.
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Reliable => "reliable",
            Label::Misinformation => "misinformation",
            Label::Unscored => "unscored",
        }
    }
}
