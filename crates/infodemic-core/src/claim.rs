//! A fact-checked claim, its stable id, and where it came from.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Verdict;

/// Stable id of a claim: the first 8 bytes of the sha256 of its normalised text and its
/// review URL (or, without one, its origin). Displayed as 16 hex digits, like
/// [`infodemic_core::ItemId`]; serialised as that hex string.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClaimId(pub [u8; 8]);

impl ClaimId {
    /// Derives the id of `text` as reviewed at `review_url`, or, when the claim has no review
    /// URL, as known from `origin`.
    ///
    /// The text is normalised with [`crate::text::fingerprint_text`] (case, spacing
    /// and punctuation do not matter). The origin's part is [`ClaimOrigin::id_key`], which
    /// leaves out an import's file name: importing the same file from another path gives the
    /// same ids.
    pub fn of(text: &str, review_url: Option<&str>, origin: &ClaimOrigin) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(crate::text::fingerprint_text(text).as_bytes());
        hasher.update([0u8]);
        match review_url {
            Some(url) => hasher.update(url.trim().as_bytes()),
            None => hasher.update(origin.id_key().as_bytes()),
        }
        let digest = hasher.finalize();
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&digest[..8]);
        Self(bytes)
    }
}

impl fmt::Display for ClaimId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for ClaimId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClaimId({self})")
    }
}

/// A string that is not a valid claim id.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid claim id `{0}`: expected 16 hexadecimal characters")]
pub struct ClaimIdParseError(pub String);

impl FromStr for ClaimId {
    type Err = ClaimIdParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut bytes = [0u8; 8];
        hex::decode_to_slice(s.trim(), &mut bytes).map_err(|_| ClaimIdParseError(s.to_owned()))?;
        Ok(Self(bytes))
    }
}

impl Serialize for ClaimId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for ClaimId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Where infodemic learned of a claim.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ClaimOrigin {
    /// Schema.org `ClaimReview` markup of a fact-checker's page.
    ClaimReview {
        /// The page the markup was found on.
        page_url: String,
    },
    /// A file imported by a user (ClaimReview JSON, Fact Check Tools export, CSV).
    Import {
        /// The file's name as given to the importer.
        file: String,
    },
    /// A published research data set.
    Dataset {
        /// The data set's short name, e.g. `cheng2020-news`.
        name: String,
    },
}

impl ClaimOrigin {
    /// The part of the origin that enters a [`ClaimId`] when the claim has no review URL.
    pub fn id_key(&self) -> String {
        match self {
            Self::ClaimReview { page_url } => page_url.clone(),
            Self::Import { .. } => "import".to_owned(),
            Self::Dataset { name } => format!("dataset:{name}"),
        }
    }
}

/// A claim that a fact-checker reviewed, with the verdict, normalised to [`Verdict`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DebunkedClaim {
    /// Stable id (see [`ClaimId::of`]).
    pub id: ClaimId,
    /// The claim as the fact-checker worded it, plain text, whitespace collapsed.
    pub text: String,
    /// The verdict on a common scale.
    pub verdict: Verdict,
    /// The publisher's own words for the verdict, e.g. "Pants on Fire".
    pub rating: Option<String>,
    /// Who reviewed it, e.g. "PolitiFact".
    pub reviewer: Option<String>,
    /// The review article.
    pub review_url: Option<String>,
    /// When the review was published.
    pub published: Option<DateTime<Utc>>,
    /// Who made the claim (a person, an account, "Social media posts").
    pub claimant: Option<String>,
    /// When the claim was made or first seen, if the review says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_date: Option<DateTime<Utc>>,
    /// Where the claim appeared (URLs of posts, videos, articles), if the review lists them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub appearances: Vec<String>,
    /// Language of the review (a BCP 47 tag as published, e.g. `en`, `es-ES`).
    pub language: Option<String>,
    /// Where infodemic learned of it.
    pub origin: ClaimOrigin,
}

impl DebunkedClaim {
    /// A claim with the given text, verdict and origin and nothing else known; the id is
    /// derived from text and origin.
    pub fn new(text: &str, verdict: Verdict, origin: ClaimOrigin) -> Self {
        let text = crate::text::collapse_whitespace(text);
        Self {
            id: ClaimId::of(&text, None, &origin),
            text,
            verdict,
            rating: None,
            reviewer: None,
            review_url: None,
            published: None,
            claimant: None,
            claim_date: None,
            appearances: Vec::new(),
            language: None,
            origin,
        }
    }

    /// Sets the review URL and re-derives the id from it.
    #[must_use]
    pub fn with_review_url(mut self, review_url: Option<String>) -> Self {
        self.review_url = review_url;
        self.id = ClaimId::of(&self.text, self.review_url.as_deref(), &self.origin);
        self
    }
}

/// Keeps the first claim of every [`ClaimId`], in input order.
pub fn dedupe(claims: Vec<DebunkedClaim>) -> Vec<DebunkedClaim> {
    let mut seen = HashSet::with_capacity(claims.len());
    claims.into_iter().filter(|claim| seen.insert(claim.id)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn import() -> ClaimOrigin {
        ClaimOrigin::Import { file: "a.csv".into() }
    }

    #[test]
    fn id_ignores_case_spacing_and_punctuation() {
        let a = ClaimId::of("5G  spreads COVID-19!", Some("https://example.org/r/1"), &import());
        let b = ClaimId::of("5g spreads covid 19", Some("https://example.org/r/1"), &import());
        assert_eq!(a, b);
        assert_ne!(a, ClaimId::of("5g spreads covid 19", Some("https://example.org/r/2"), &import()));
    }

    #[test]
    fn id_uses_origin_without_review_url_but_not_the_file_name() {
        let text = "Garlic cures COVID-19";
        let a = ClaimId::of(text, None, &ClaimOrigin::Import { file: "a.csv".into() });
        let b = ClaimId::of(text, None, &ClaimOrigin::Import { file: "/tmp/b.csv".into() });
        assert_eq!(a, b);
        let dataset = ClaimId::of(text, None, &ClaimOrigin::Dataset { name: "x".into() });
        assert_ne!(a, dataset);
    }

    #[test]
    fn id_rejects_garbage() {
        assert!("xyz".parse::<ClaimId>().is_err());
        assert!("0011223344556677aa".parse::<ClaimId>().is_err());
    }

    #[test]
    fn dedupe_keeps_the_first() {
        let first = DebunkedClaim::new("Bleach cures it", Verdict::False, import());
        let mut second = first.clone();
        second.rating = Some("second".into());
        let other = DebunkedClaim::new("Vitamin C cures it", Verdict::False, import());
        let kept = dedupe(vec![first.clone(), second, other.clone()]);
        assert_eq!(kept, vec![first, other]);
    }

    #[test]
    fn serde_round_trip() {
        let claim = DebunkedClaim::new("Masks cause hypoxia", Verdict::False, import())
            .with_review_url(Some("https://example.org/r".into()));
        let json = serde_json::to_string(&claim).unwrap();
        assert!(json.contains(r#""origin":{"kind":"import","file":"a.csv"}"#), "{json}");
        assert!(!json.contains("appearances"), "{json}");
        assert!(json.contains(&format!(r#""id":"{}""#, claim.id)), "{json}");
        let back: DebunkedClaim = serde_json::from_str(&json).unwrap();
        assert_eq!(back, claim);
    }

    proptest! {
        #[test]
        fn id_display_round_trips(bytes in any::<[u8; 8]>()) {
            let id = ClaimId(bytes);
            prop_assert_eq!(id.to_string().parse::<ClaimId>().unwrap(), id);
            prop_assert_eq!(id.to_string().len(), 16);
        }
    }
}
