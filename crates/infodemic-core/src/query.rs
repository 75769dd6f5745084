//! What a user can ask of the stored items.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{ReviewFilter, ScoredItem, SourceId};

/// Order of query results.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SortOrder {
    /// Newest first (publication time, else fetch time).
    #[default]
    Newest,
    /// Highest misinformation score first.
    Score,
}

/// Filters over stored items; every field narrows the result.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ItemQuery {
    /// Only items the model flagged.
    pub flagged_only: bool,
    /// Only items worth a review (flagged ones included).
    pub review_only: bool,
    /// Only items with at least this score.
    pub min_score: Option<f32>,
    /// Only items at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only items before this time.
    pub until: Option<DateTime<Utc>>,
    /// Only items from these sources (any of them).
    pub sources: Vec<SourceId>,
    /// Only items whose title or text contains this, case-insensitively, starting at the start
    /// of a word: `vaccin` finds "Vaccines", `accine` finds nothing. This is what the store's
    /// full-text index can answer (words, the last one possibly cut short).
    pub text: Option<String>,
    /// At most this many results.
    pub limit: Option<usize>,
    /// Result order.
    pub order: SortOrder,
    /// Only unreviewed (or only reviewed) items. The store applies it: [`ItemQuery::matches`]
    /// sees one item, not its review log.
    #[serde(default)]
    pub review_state: ReviewFilter,
    /// Newest-first pages: only items strictly after this one in that order (older, or as old
    /// with a smaller id). Ignored by score order.
    #[serde(default)]
    pub after: Option<ItemCursor>,
}

/// A place in the newest-first order: an item's effective time and id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemCursor {
    /// Publication time, else fetch time.
    pub time: DateTime<Utc>,
    /// The item.
    pub id: crate::ItemId,
}

impl ItemCursor {
    /// The cursor just past `scored`.
    pub fn of(scored: &ScoredItem) -> Self {
        Self { time: scored.item.effective_time(), id: scored.item.id }
    }
}

impl ItemQuery {
    /// Whether `scored` passes every filter except `limit` and `order`.
    pub fn matches(&self, scored: &ScoredItem) -> bool {
        let item = &scored.item;
        let class = &scored.classification;
        if self.flagged_only && !class.flagged {
            return false;
        }
        if self.review_only && !class.review {
            return false;
        }
        if let Some(min) = self.min_score {
            // A score for a language the model does not know is no score.
            if class.shown_score().is_none_or(|score| score < min) {
                return false;
            }
        }
        let time = item.effective_time();
        if self.since.is_some_and(|since| time < since) {
            return false;
        }
        if self.until.is_some_and(|until| time >= until) {
            return false;
        }
        if !self.sources.is_empty() && !self.sources.contains(&item.source) {
            return false;
        }
        if let Some(needle) = &self.text {
            let needle = needle.to_lowercase();
            let found = |haystack: &str| contains_at_word_start(&haystack.to_lowercase(), &needle);
            if !found(&item.title) && !found(&item.text) {
                return false;
            }
        }
        true
    }
}

/// Whether `needle` occurs in `haystack` where a word starts (or anywhere, when `needle`
/// itself does not start with a letter or digit).
fn contains_at_word_start(haystack: &str, needle: &str) -> bool {
    if !needle.starts_with(char::is_alphanumeric) {
        return haystack.contains(needle);
    }
    haystack.match_indices(needle).any(|(at, _)| !haystack[..at].chars().next_back().is_some_and(char::is_alphanumeric))
}

#[cfg(test)]
mod tests {
    use super::contains_at_word_start;

    #[test]
    fn text_matches_from_the_start_of_a_word() {
        let text = "new vaccines, antivax posts and 5g-towers";
        for found in ["vaccin", "vaccines, anti", "antivax", "5g", "towers", "5g-tow", ", anti", "-towers"] {
            assert!(contains_at_word_start(text, found), "{found}");
        }
        for missing in ["accines", "ntivax", "owers", "g-tow", "vaccines antivax"] {
            assert!(!contains_at_word_start(text, missing), "{missing}");
        }
        // A later occurrence at a word start counts though an earlier one is inside a word.
        assert!(contains_at_word_start("antivax vax", "vax"));
    }
}
