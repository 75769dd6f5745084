//! On-disk records: `[version byte][postcard payload]`, one type per version.
//!
//! Never change a `V1` type; add a `V2`, a conversion, and a decode arm (or a migration).

use chrono::{DateTime, Utc};
use infodemic_core::{
    Appearance, ClaimId, ClaimMatch, ClaimOrigin, Classification, ContentHash, DebunkedClaim, Evidence, FeedSpec,
    FeedState, HttpValidators, Item, ItemId, ModelRef, Relation, ScoredItem, SourceId, Stance, Verdict,
};
use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::{ClaimEntry, Result, StoreError};

/// Record version written for items.
pub const ITEM_VERSION: u8 = 3;
/// Record version written for feed states.
pub const FEED_VERSION: u8 = 4;
/// Record version written for debunked claims.
pub const CLAIM_VERSION: u8 = 2;
/// Record version written for appearances.
pub const APPEARANCE_VERSION: u8 = 1;
/// Record version written for subscriptions.
pub const SUBSCRIPTION_VERSION: u8 = 1;

/// An item and its classification, as stored from schema version 1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredItemV1 {
    /// Item id bytes.
    pub id: [u8; 8],
    /// Link as published.
    pub url: String,
    /// Canonical link.
    pub canonical_url: String,
    /// Title.
    pub title: String,
    /// Plain text.
    pub text: String,
    /// Publication time, microseconds since the epoch.
    pub published_us: Option<i64>,
    /// Fetch time, microseconds since the epoch.
    pub fetched_us: i64,
    /// Author.
    pub author: Option<String>,
    /// Source id.
    pub source: String,
    /// Language code.
    pub language: Option<String>,
    /// Content hash bytes.
    pub content_hash: [u8; 16],
    /// Misinformation probability.
    pub score: f32,
    /// Flag decision at classification time.
    pub flagged: bool,
    /// Sentence embedding.
    pub embedding: Vec<f32>,
    /// Model id.
    pub model_id: String,
    /// Model version.
    pub model_version: String,
}

/// A feed's state, as stored from schema version 1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredFeedStateV1 {
    /// Source id.
    pub source: String,
    /// URL last crawled.
    pub url: String,
    /// Last attempt, microseconds.
    pub last_attempt_us: Option<i64>,
    /// Last success, microseconds.
    pub last_success_us: Option<i64>,
    /// Last error message.
    pub last_error: Option<String>,
    /// Failures since the last success.
    pub consecutive_failures: u32,
    /// ETag.
    pub etag: Option<String>,
    /// Last-Modified.
    pub last_modified: Option<String>,
    /// Items stored from this feed.
    pub items_stored: u64,
}

fn micros(time: DateTime<Utc>) -> i64 {
    time.timestamp_micros()
}

fn corrupt(tree: &'static str, message: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt { tree, message: message.to_string() }
}

fn time(tree: &'static str, us: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_micros(us).ok_or_else(|| corrupt(tree, format!("timestamp {us} out of range")))
}

/// An item and its classification, as stored from schema version 2: adds the review flag,
/// language support, evidence sentences and the matched debunked claim.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredItemV2 {
    /// Everything version 1 stored.
    pub v1: StoredItemV1,
    /// Score at or above the review threshold at classification time.
    pub review: bool,
    /// Language the classifier detected.
    pub class_language: Option<String>,
    /// Whether the model was trained for that language.
    pub language_supported: bool,
    /// Sentences that drove the score.
    pub evidence: Vec<StoredEvidenceV1>,
    /// Nearest debunked claim.
    pub claim_match: Option<StoredClaimMatchV1>,
    /// Links the item shares.
    pub links: Vec<String>,
    /// SimHash of title and text.
    pub simhash: Option<u64>,
}

/// An evidence sentence, as stored from schema version 2.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredEvidenceV1 {
    /// The sentence.
    pub text: String,
    /// Its score.
    pub score: f32,
}

/// A matched claim, as stored from schema version 2.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredClaimMatchV1 {
    /// Claim id (hex).
    pub claim_id: String,
    /// Claim text.
    pub claim: String,
    /// Verdict name.
    pub verdict: String,
    /// Reviewer.
    pub reviewer: Option<String>,
    /// Fact-check URL.
    pub review_url: Option<String>,
    /// Cosine similarity.
    pub similarity: f32,
    /// What matched.
    pub matched_text: String,
}

impl From<&ScoredItem> for StoredItemV2 {
    fn from(scored: &ScoredItem) -> Self {
        let class = &scored.classification;
        Self {
            v1: StoredItemV1::from(scored),
            review: class.review,
            class_language: class.language.clone(),
            language_supported: class.language_supported,
            evidence: class
                .evidence
                .iter()
                .map(|e| StoredEvidenceV1 { text: e.text.clone(), score: e.score })
                .collect(),
            links: scored.item.links.clone(),
            simhash: scored.item.simhash,
            claim_match: class.claim_match.as_ref().map(|m| StoredClaimMatchV1 {
                claim_id: m.claim_id.clone(),
                claim: m.claim.clone(),
                verdict: m.verdict.clone(),
                reviewer: m.reviewer.clone(),
                review_url: m.review_url.clone(),
                similarity: m.similarity,
                matched_text: m.matched_text.clone(),
            }),
        }
    }
}

impl StoredItemV2 {
    /// Back to the domain type.
    ///
    /// # Errors
    /// Out-of-range times or an invalid source id.
    pub fn into_domain(self) -> Result<ScoredItem> {
        let mut scored = self.v1.into_domain()?;
        scored.item.links = self.links;
        scored.item.simhash = self.simhash;
        let class = &mut scored.classification;
        class.review = self.review;
        class.language = self.class_language;
        class.language_supported = self.language_supported;
        class.evidence = self
            .evidence
            .into_iter()
            .map(|e| Evidence { text: e.text, score: e.score, embedding: Vec::new() })
            .collect();
        class.claim_match = self.claim_match.map(|m| ClaimMatch {
            claim_id: m.claim_id,
            claim: m.claim,
            verdict: m.verdict,
            reviewer: m.reviewer,
            review_url: m.review_url,
            similarity: m.similarity,
            matched_text: m.matched_text,
            stance: None,
        });
        Ok(scored)
    }
}

/// An item and its classification, as stored from schema version 3: adds the model's claim
/// and refute probabilities, the reasons for the decision, and the item's stance toward its
/// matched claim.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredItemV3 {
    /// Everything version 2 stored.
    pub v2: StoredItemV2,
    /// P(the text states a checkable claim), for models with a claim head.
    pub claim: Option<f32>,
    /// P(the text refutes a claim), for models with a refute head.
    pub refute: Option<f32>,
    /// Why the item was or was not flagged, one sentence each.
    pub reasons: Vec<String>,
    /// Stance toward the matched claim (`repeats`, `refutes`, `mentions`); `None` without a
    /// match, or for a match made before stances were kept.
    pub claim_stance: Option<String>,
}

/// The on-disk name of a stance: fixed here, whatever the domain type calls it.
fn stance_name(stance: Stance) -> &'static str {
    match stance {
        Stance::Repeats => "repeats",
        Stance::Refutes => "refutes",
        Stance::Mentions => "mentions",
    }
}

fn stance_from_name(name: &str) -> Result<Stance> {
    match name {
        "repeats" => Ok(Stance::Repeats),
        "refutes" => Ok(Stance::Refutes),
        "mentions" => Ok(Stance::Mentions),
        other => Err(corrupt("items", format!("unknown stance {other:?}"))),
    }
}

impl From<&ScoredItem> for StoredItemV3 {
    fn from(scored: &ScoredItem) -> Self {
        let class = &scored.classification;
        Self {
            v2: StoredItemV2::from(scored),
            claim: class.claim,
            refute: class.refute,
            reasons: class.reasons.clone(),
            claim_stance: class.claim_match.as_ref().and_then(|m| m.stance).map(|s| stance_name(s).to_owned()),
        }
    }
}

impl StoredItemV3 {
    /// Back to the domain type.
    ///
    /// # Errors
    /// Out-of-range times, an invalid source id or an unknown stance.
    pub fn into_domain(self) -> Result<ScoredItem> {
        let stance = self.claim_stance.as_deref().map(stance_from_name).transpose()?;
        let mut scored = self.v2.into_domain()?;
        let class = &mut scored.classification;
        class.claim = self.claim;
        class.refute = self.refute;
        class.reasons = self.reasons;
        if let Some(found) = &mut class.claim_match {
            found.stance = stance;
        }
        Ok(scored)
    }
}

impl From<&ScoredItem> for StoredItemV1 {
    fn from(scored: &ScoredItem) -> Self {
        let (item, class) = (&scored.item, &scored.classification);
        Self {
            id: item.id.0,
            url: item.url.clone(),
            canonical_url: item.canonical_url.clone(),
            title: item.title.clone(),
            text: item.text.clone(),
            published_us: item.published.map(micros),
            fetched_us: micros(item.fetched_at),
            author: item.author.clone(),
            source: item.source.as_str().to_owned(),
            language: item.language.clone(),
            content_hash: item.content_hash.0,
            score: class.score,
            flagged: class.flagged,
            embedding: class.embedding.clone(),
            model_id: class.model.id.clone(),
            model_version: class.model.version.clone(),
        }
    }
}

impl StoredItemV1 {
    /// Back to the domain type; fields version 1 did not have take their neutral values
    /// (review = flagged, language supported, no evidence, no claim match).
    ///
    /// # Errors
    /// Out-of-range times or an invalid source id.
    pub fn into_domain(self) -> Result<ScoredItem> {
        const TREE: &str = "items";
        let language = self.language.clone();
        Ok(ScoredItem {
            item: Item {
                id: ItemId(self.id),
                url: self.url,
                canonical_url: self.canonical_url,
                title: self.title,
                text: self.text,
                published: self.published_us.map(|us| time(TREE, us)).transpose()?,
                fetched_at: time(TREE, self.fetched_us)?,
                author: self.author,
                source: SourceId::new(self.source).map_err(|e| corrupt(TREE, e))?,
                language: self.language,
                content_hash: ContentHash(self.content_hash),
                links: Vec::new(),
                simhash: None,
            },
            classification: Classification {
                score: self.score,
                flagged: self.flagged,
                review: self.flagged,
                embedding: self.embedding,
                model: ModelRef { id: self.model_id, version: self.model_version },
                language,
                language_supported: true,
                evidence: Vec::new(),
                claim_match: None,
                claim: None,
                refute: None,
                reasons: Vec::new(),
            },
        })
    }
}

impl From<&FeedState> for StoredFeedStateV1 {
    fn from(state: &FeedState) -> Self {
        Self {
            source: state.source.as_str().to_owned(),
            url: state.url.clone(),
            last_attempt_us: state.last_attempt.map(micros),
            last_success_us: state.last_success.map(micros),
            last_error: state.last_error.clone(),
            consecutive_failures: state.consecutive_failures,
            etag: state.validators.etag.clone(),
            last_modified: state.validators.last_modified.clone(),
            items_stored: state.items_stored,
        }
    }
}

/// A feed's state, as stored from schema version 2: adds polling and failure accounting.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredFeedStateV2 {
    /// Everything version 1 stored.
    pub v1: StoredFeedStateV1,
    /// Weighted failures since the last success.
    pub failure_score: f32,
    /// Adaptive polling interval, seconds.
    pub interval_secs: u32,
    /// Next poll, microseconds.
    pub next_poll_us: Option<i64>,
    /// SHA-256 (hex) of the last body.
    pub body_sha256: Option<String>,
    /// Last fetch without validators, microseconds.
    pub last_full_fetch_us: Option<i64>,
    /// First attempt, microseconds.
    pub first_attempt_us: Option<i64>,
    /// New items in the last successful fetch.
    pub last_new_items: u32,
    /// Paging cursor.
    pub cursor: Option<String>,
}

impl From<&FeedState> for StoredFeedStateV2 {
    fn from(state: &FeedState) -> Self {
        Self {
            v1: StoredFeedStateV1::from(state),
            failure_score: state.failure_score,
            interval_secs: state.interval_secs,
            next_poll_us: state.next_poll.map(micros),
            body_sha256: state.body_sha256.clone(),
            last_full_fetch_us: state.last_full_fetch.map(micros),
            first_attempt_us: state.first_attempt.map(micros),
            last_new_items: state.last_new_items,
            cursor: state.cursor.clone(),
        }
    }
}

/// A feed's state, as stored from schema version 4: adds what the last read of the document
/// found (entries, and entries dropped) and the server's request to wait.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredFeedStateV3 {
    /// Everything version 2 stored.
    pub v2: StoredFeedStateV2,
    /// Entries in the document at the last read.
    pub last_entries: u32,
    /// Entries of it that became no item.
    pub last_entries_dropped: u32,
    /// Until when the server asked not to be polled, microseconds.
    pub server_wait_until_us: Option<i64>,
}

impl From<&FeedState> for StoredFeedStateV3 {
    fn from(state: &FeedState) -> Self {
        Self {
            v2: StoredFeedStateV2::from(state),
            last_entries: state.last_entries,
            last_entries_dropped: state.last_entries_dropped,
            server_wait_until_us: state.server_wait_until.map(micros),
        }
    }
}

/// A feed's state, as stored from record version 4: adds the feed's category at its last
/// crawl, by name (a name this build does not know reads as none).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredFeedStateV4 {
    /// Everything version 3 stored.
    pub v3: StoredFeedStateV3,
    /// The category's kebab-case name.
    pub category: Option<String>,
}

impl From<&FeedState> for StoredFeedStateV4 {
    fn from(state: &FeedState) -> Self {
        Self {
            v3: StoredFeedStateV3::from(state),
            category: state.category.map(|category| category.as_str().to_owned()),
        }
    }
}

impl StoredFeedStateV4 {
    /// Back to the domain type.
    ///
    /// # Errors
    /// Out-of-range times or an invalid source id.
    pub fn into_domain(self) -> Result<FeedState> {
        let mut state = self.v3.into_domain()?;
        state.category = self.category.as_deref().and_then(infodemic_core::FeedCategory::from_name);
        Ok(state)
    }
}

impl StoredFeedStateV3 {
    /// Back to the domain type.
    ///
    /// # Errors
    /// Out-of-range times or an invalid source id.
    pub fn into_domain(self) -> Result<FeedState> {
        let mut state = self.v2.into_domain()?;
        state.last_entries = self.last_entries;
        state.last_entries_dropped = self.last_entries_dropped;
        state.server_wait_until = self.server_wait_until_us.map(|us| time("feeds", us)).transpose()?;
        Ok(state)
    }
}

impl StoredFeedStateV2 {
    /// Back to the domain type.
    ///
    /// # Errors
    /// Out-of-range times or an invalid source id.
    pub fn into_domain(self) -> Result<FeedState> {
        const TREE: &str = "feeds";
        let mut state = self.v1.into_domain()?;
        state.failure_score = self.failure_score;
        state.interval_secs = self.interval_secs;
        state.next_poll = self.next_poll_us.map(|us| time(TREE, us)).transpose()?;
        state.body_sha256 = self.body_sha256;
        state.last_full_fetch = self.last_full_fetch_us.map(|us| time(TREE, us)).transpose()?;
        state.first_attempt = self.first_attempt_us.map(|us| time(TREE, us)).transpose()?;
        state.last_new_items = self.last_new_items;
        state.cursor = self.cursor;
        Ok(state)
    }
}

impl StoredFeedStateV1 {
    /// Back to the domain type; version-2 fields take their values for a feed with that
    /// history (failures count soft, next poll due now).
    ///
    /// # Errors
    /// Out-of-range times or an invalid source id.
    pub fn into_domain(self) -> Result<FeedState> {
        const TREE: &str = "feeds";
        Ok(FeedState {
            source: SourceId::new(self.source).map_err(|e| corrupt(TREE, e))?,
            url: self.url,
            last_attempt: self.last_attempt_us.map(|us| time(TREE, us)).transpose()?,
            last_success: self.last_success_us.map(|us| time(TREE, us)).transpose()?,
            last_error: self.last_error,
            consecutive_failures: self.consecutive_failures,
            validators: HttpValidators { etag: self.etag, last_modified: self.last_modified },
            items_stored: self.items_stored,
            failure_score: self.consecutive_failures as f32,
            interval_secs: infodemic_core::polling::PollPolicy::default().base.as_secs() as u32,
            next_poll: None,
            body_sha256: None,
            last_full_fetch: None,
            first_attempt: self.last_attempt_us.map(|us| time(TREE, us)).transpose()?,
            last_new_items: 0,
            cursor: None,
            last_entries: 0,
            last_entries_dropped: 0,
            server_wait_until: None,
            category: None,
        })
    }
}

/// Another appearance of an item, as stored from schema version 2.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredAppearanceV1 {
    /// Canonical item id.
    pub item: [u8; 8],
    /// Source id of this copy.
    pub source: String,
    /// URL of this copy.
    pub url: String,
    /// Fetch time, microseconds.
    pub seen_us: i64,
    /// Publication time, microseconds.
    pub published_us: Option<i64>,
    /// SimHash distance; `None` for the same content.
    pub distance: Option<u32>,
}

impl From<&Appearance> for StoredAppearanceV1 {
    fn from(appearance: &Appearance) -> Self {
        Self {
            item: appearance.item.0,
            source: appearance.source.as_str().to_owned(),
            url: appearance.url.clone(),
            seen_us: micros(appearance.seen_at),
            published_us: appearance.published.map(micros),
            distance: match appearance.relation {
                Relation::SameContent => None,
                Relation::NearDuplicate { distance } => Some(distance),
            },
        }
    }
}

/// Encodes an appearance as the current record version.
pub fn encode_appearance(appearance: &Appearance) -> Vec<u8> {
    encode(APPEARANCE_VERSION, &StoredAppearanceV1::from(appearance))
}

/// Decodes an appearance record of any known version.
///
/// # Errors
/// An unknown version or a payload that does not decode.
pub fn decode_appearance(bytes: &[u8]) -> Result<Appearance> {
    const TREE: &str = "appearances";
    let record: StoredAppearanceV1 = match bytes.split_first() {
        Some((1, payload)) => decode_payload(TREE, payload)?,
        Some((version, _)) => return Err(corrupt(TREE, format!("unknown record version {version}"))),
        None => return Err(corrupt(TREE, "empty record")),
    };
    Ok(Appearance {
        item: ItemId(record.item),
        source: SourceId::new(record.source).map_err(|e| corrupt(TREE, e))?,
        url: record.url,
        seen_at: time(TREE, record.seen_us)?,
        published: record.published_us.map(|us| time(TREE, us)).transpose()?,
        relation: record.distance.map_or(Relation::SameContent, |distance| Relation::NearDuplicate { distance }),
    })
}

/// A subscribed feed (what `feeds add` and `watch` use), as stored from schema version 2.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredSubscriptionV1 {
    /// Source id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// URL.
    pub url: String,
    /// Kind name (`rss`, `mastodon`...), as in catalogues.
    pub kind: String,
    /// Category name (`authority`...), as in catalogues.
    pub category: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Expected language.
    pub language: Option<String>,
    /// Fetch full text.
    pub full_text: bool,
    /// Relevance filter name (`auto`, `all`, `health`).
    pub relevance: String,
    /// CSS selectors of an html source.
    pub selectors: Vec<(String, String)>,
}

/// Serde names of unit enums (`FeedKind::Mastodon` → `mastodon`), one format for catalogues
/// and records.
fn enum_name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn enum_value<T: DeserializeOwned>(name: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).map_err(|e| corrupt("subscriptions", e))
}

impl From<&FeedSpec> for StoredSubscriptionV1 {
    fn from(spec: &FeedSpec) -> Self {
        Self {
            id: spec.id.as_str().to_owned(),
            name: spec.name.clone(),
            url: spec.url.to_string(),
            kind: enum_name(&spec.kind),
            category: enum_name(&spec.category),
            tags: spec.tags.clone(),
            language: spec.language.clone(),
            full_text: spec.full_text,
            relevance: enum_name(&spec.relevance),
            selectors: spec.selectors.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        }
    }
}

impl StoredSubscriptionV1 {
    /// Back to the domain type.
    ///
    /// # Errors
    /// Unknown enum names, an invalid id or URL.
    pub fn into_domain(self) -> Result<FeedSpec> {
        const TREE: &str = "subscriptions";
        Ok(FeedSpec {
            id: SourceId::new(self.id).map_err(|e| corrupt(TREE, e))?,
            name: self.name,
            url: url::Url::parse(&self.url).map_err(|e| corrupt(TREE, e))?,
            kind: enum_value(&self.kind)?,
            category: enum_value(&self.category)?,
            tags: self.tags,
            language: self.language,
            full_text: self.full_text,
            relevance: enum_value(&self.relevance)?,
            selectors: self.selectors.into_iter().collect(),
        })
    }
}

/// The record of a subscription.
pub fn encode_subscription(spec: &FeedSpec) -> Vec<u8> {
    encode(SUBSCRIPTION_VERSION, &StoredSubscriptionV1::from(spec))
}

/// Decodes a subscription record of any known version.
///
/// # Errors
/// An unknown version or a payload that does not decode.
pub fn decode_subscription(bytes: &[u8]) -> Result<FeedSpec> {
    match bytes.split_first() {
        Some((1, payload)) => decode_payload::<StoredSubscriptionV1>("subscriptions", payload)?.into_domain(),
        Some((version, _)) => Err(corrupt("subscriptions", format!("unknown record version {version}"))),
        None => Err(corrupt("subscriptions", "empty record")),
    }
}

/// A debunked claim and its embedding, as stored from schema version 2.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredClaimV1 {
    /// Claim id bytes.
    pub id: [u8; 8],
    /// Claim text.
    pub text: String,
    /// Verdict name (`false`, `misleading`...).
    pub verdict: String,
    /// Publisher's rating words.
    pub rating: Option<String>,
    /// Reviewer.
    pub reviewer: Option<String>,
    /// Review URL.
    pub review_url: Option<String>,
    /// Review time, microseconds.
    pub published_us: Option<i64>,
    /// Claimant.
    pub claimant: Option<String>,
    /// Claim time, microseconds.
    pub claim_date_us: Option<i64>,
    /// Where the claim appeared.
    pub appearances: Vec<String>,
    /// Review language.
    pub language: Option<String>,
    /// 0 ClaimReview page, 1 import, 2 dataset.
    pub origin_kind: u8,
    /// Page URL, file or dataset name.
    pub origin: String,
    /// The claim text's embedding (the model's, L2-normalised).
    pub embedding: Vec<f32>,
}

impl StoredClaimV1 {
    /// The record of `claim` with its embedding.
    pub fn new(claim: &DebunkedClaim, embedding: &[f32]) -> Self {
        let (origin_kind, origin) = match &claim.origin {
            ClaimOrigin::ClaimReview { page_url } => (0, page_url.clone()),
            ClaimOrigin::Import { file } => (1, file.clone()),
            ClaimOrigin::Dataset { name } => (2, name.clone()),
        };
        Self {
            id: claim.id.0,
            text: claim.text.clone(),
            verdict: claim.verdict.name().to_owned(),
            rating: claim.rating.clone(),
            reviewer: claim.reviewer.clone(),
            review_url: claim.review_url.clone(),
            published_us: claim.published.map(micros),
            claimant: claim.claimant.clone(),
            claim_date_us: claim.claim_date.map(micros),
            appearances: claim.appearances.clone(),
            language: claim.language.clone(),
            origin_kind,
            origin,
            embedding: embedding.to_vec(),
        }
    }

    /// Back to the domain type, with the embedding.
    ///
    /// # Errors
    /// An unknown verdict, origin kind or an out-of-range time.
    pub fn into_domain(self) -> Result<(DebunkedClaim, Vec<f32>)> {
        const TREE: &str = "claims";
        let origin = match self.origin_kind {
            0 => ClaimOrigin::ClaimReview { page_url: self.origin },
            1 => ClaimOrigin::Import { file: self.origin },
            2 => ClaimOrigin::Dataset { name: self.origin },
            other => return Err(corrupt(TREE, format!("unknown origin kind {other}"))),
        };
        let claim = DebunkedClaim {
            id: ClaimId(self.id),
            text: self.text,
            verdict: self.verdict.parse::<Verdict>().map_err(|e| corrupt(TREE, e))?,
            rating: self.rating,
            reviewer: self.reviewer,
            review_url: self.review_url,
            published: self.published_us.map(|us| time(TREE, us)).transpose()?,
            claimant: self.claimant,
            claim_date: self.claim_date_us.map(|us| time(TREE, us)).transpose()?,
            appearances: self.appearances,
            language: self.language,
            origin,
        };
        Ok((claim, self.embedding))
    }
}

/// A debunked claim, as stored from schema version 3: adds the model that embedded it, so
/// that claims embedded by another model can be found and embedded again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredClaimV2 {
    /// Everything version 1 stored.
    pub v1: StoredClaimV1,
    /// Id of the model that made the embedding.
    pub model_id: String,
    /// Version of that model.
    pub model_version: String,
}

impl StoredClaimV2 {
    /// The record of `claim` with its embedding by `model`.
    pub fn new(claim: &DebunkedClaim, embedding: &[f32], model: &ModelRef) -> Self {
        Self {
            v1: StoredClaimV1::new(claim, embedding),
            model_id: model.id.clone(),
            model_version: model.version.clone(),
        }
    }

    /// Back to the domain type, with the embedding and its model.
    ///
    /// # Errors
    /// An unknown verdict, origin kind or an out-of-range time.
    pub fn into_domain(self) -> Result<ClaimEntry> {
        let (claim, embedding) = self.v1.into_domain()?;
        let model = Some(ModelRef { id: self.model_id, version: self.model_version });
        Ok(ClaimEntry { claim, embedding, model })
    }
}

/// Decodes a claim record of any known version. Version 1 records did not name their model:
/// theirs is `None`, which no current model matches.
///
/// # Errors
/// An unknown version or a payload that does not decode.
pub fn decode_claim(bytes: &[u8]) -> Result<ClaimEntry> {
    match bytes.split_first() {
        Some((1, payload)) => {
            let (claim, embedding) = decode_payload::<StoredClaimV1>("claims", payload)?.into_domain()?;
            Ok(ClaimEntry { claim, embedding, model: None })
        }
        Some((2, payload)) => decode_payload::<StoredClaimV2>("claims", payload)?.into_domain(),
        Some((version, _)) => Err(corrupt("claims", format!("unknown record version {version}"))),
        None => Err(corrupt("claims", "empty record")),
    }
}

/// Encodes a claim, its embedding and the model that made it as the current record version.
pub fn encode_claim(claim: &DebunkedClaim, embedding: &[f32], model: &ModelRef) -> Vec<u8> {
    encode(CLAIM_VERSION, &StoredClaimV2::new(claim, embedding, model))
}

/// `[version][postcard]`.
pub fn encode<T: Serialize>(version: u8, record: &T) -> Vec<u8> {
    let mut bytes = vec![version];
    // Serialising owned strings, floats and vectors into a Vec cannot fail.
    bytes.extend(postcard::to_allocvec(record).unwrap_or_default());
    bytes
}

fn decode_payload<T: DeserializeOwned>(tree: &'static str, payload: &[u8]) -> Result<T> {
    postcard::from_bytes(payload).map_err(|e| corrupt(tree, e))
}

/// Decodes an item record of any known version.
///
/// # Errors
/// An unknown version or a payload that does not decode.
pub fn decode_item(bytes: &[u8]) -> Result<ScoredItem> {
    match bytes.split_first() {
        Some((1, payload)) => decode_payload::<StoredItemV1>("items", payload)?.into_domain(),
        Some((2, payload)) => decode_payload::<StoredItemV2>("items", payload)?.into_domain(),
        Some((3, payload)) => decode_payload::<StoredItemV3>("items", payload)?.into_domain(),
        Some((version, _)) => Err(corrupt("items", format!("unknown record version {version}"))),
        None => Err(corrupt("items", "empty record")),
    }
}

/// Encodes an item as the current record version.
pub fn encode_item(scored: &ScoredItem) -> Vec<u8> {
    encode(ITEM_VERSION, &StoredItemV3::from(scored))
}

/// Encodes a feed state as the current record version.
pub fn encode_feed_state(state: &FeedState) -> Vec<u8> {
    encode(FEED_VERSION, &StoredFeedStateV4::from(state))
}

/// Decodes a feed-state record of any known version.
///
/// # Errors
/// An unknown version or a payload that does not decode.
pub fn decode_feed_state(bytes: &[u8]) -> Result<FeedState> {
    match bytes.split_first() {
        Some((1, payload)) => decode_payload::<StoredFeedStateV1>("feeds", payload)?.into_domain(),
        Some((2, payload)) => decode_payload::<StoredFeedStateV2>("feeds", payload)?.into_domain(),
        Some((3, payload)) => decode_payload::<StoredFeedStateV3>("feeds", payload)?.into_domain(),
        Some((4, payload)) => decode_payload::<StoredFeedStateV4>("feeds", payload)?.into_domain(),
        Some((version, _)) => Err(corrupt("feeds", format!("unknown record version {version}"))),
        None => Err(corrupt("feeds", "empty record")),
    }
}
