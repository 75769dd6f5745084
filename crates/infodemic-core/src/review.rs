//! Reviewers' verdicts on items: an append-only log of events per item, the verdict scale
//! they are chosen from, and the current state derived from the log.
//!
//! Two reviewers who disagree are both kept: each reviewer's latest verdict stands until that
//! reviewer replaces or undoes it, the most recent standing verdict is the item's current one,
//! and [`ReviewState::agreement`] says whether the standing verdicts agree.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{CampaignId, ItemId, ModelRef, ScoredItem};

/// The longest reviewer name, note or verdict name accepted: a note is a sentence or a
/// paragraph, never a document.
pub const MAX_REVIEWER_CHARS: usize = 64;
/// See [`MAX_REVIEWER_CHARS`].
pub const MAX_NOTE_CHARS: usize = 4000;
/// See [`MAX_REVIEWER_CHARS`].
pub const MAX_VERDICT_NAME_CHARS: usize = 32;

/// One verdict a reviewer can give, as configured.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerdictLabel {
    /// The name typed on the command line and stored (`false`, `missing-context`).
    pub name: String,
    /// One line for people: what the verdict means.
    pub description: String,
    /// The review page's keyboard shortcut (one lowercase letter or digit), if any.
    #[serde(default)]
    pub key: Option<char>,
    /// What the verdict says about the model's question (does the text assert a false or
    /// misleading health claim?): `true`, `false`, or absent when it does not answer it
    /// (`unproven`). Training exports use it as the label.
    #[serde(default)]
    pub misinformation: Option<bool>,
    /// Whether the text states a checkable claim: `false` for `not-a-claim`.
    #[serde(default = "yes")]
    pub claim: bool,
    /// ClaimReview's `reviewRating.ratingValue` on a 1 (false) to 5 (true) scale; absent for
    /// verdicts that are not ratings of a claim (`not-health`), which are not published.
    #[serde(default)]
    pub rating: Option<u8>,
}

fn yes() -> bool {
    true
}

/// The verdicts reviewers choose from. The default follows ClaimReview practice; a data
/// directory's `verdicts.toml` can replace it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerdictScale {
    /// In the order they are offered.
    #[serde(rename = "verdict")]
    pub labels: Vec<VerdictLabel>,
}

/// Why a verdict scale cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid verdict scale: {0}")]
pub struct ScaleError(pub String);

impl Default for VerdictScale {
    fn default() -> Self {
        let label =
            |name: &str, description: &str, key: char, misinformation: Option<bool>, rating: Option<u8>| VerdictLabel {
                name: name.to_owned(),
                description: description.to_owned(),
                key: Some(key),
                misinformation,
                claim: name != "not-a-claim",
                rating,
            };
        Self {
            labels: vec![
                label("false", "The claim is false.", 'f', Some(true), Some(1)),
                label("misleading", "True elements arranged to mislead.", 'm', Some(true), Some(2)),
                label("missing-context", "Leaves out what changes its meaning.", 'c', Some(true), Some(3)),
                label("true", "The claim is accurate.", 't', Some(false), Some(5)),
                label("unproven", "No evidence either way yet.", 'u', None, Some(3)),
                label("not-health", "Not about health: out of scope.", 'n', Some(false), None),
                label("not-a-claim", "States no checkable claim (news, questions, chatter).", 'x', Some(false), None),
            ],
        }
    }
}

impl VerdictScale {
    /// Checks names (unique, short, lowercase words joined by `-`), keys (unique; `j`, `k`,
    /// `o` and `?` are the page's navigation keys) and ratings (1 to 5).
    ///
    /// # Errors
    /// The first problem found.
    pub fn validate(&self) -> Result<(), ScaleError> {
        if self.labels.is_empty() {
            return Err(ScaleError("no verdicts".to_owned()));
        }
        let mut names = std::collections::HashSet::new();
        let mut keys = std::collections::HashSet::new();
        for label in &self.labels {
            let name = &label.name;
            let well_formed = !name.is_empty()
                && name.chars().count() <= MAX_VERDICT_NAME_CHARS
                && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !well_formed {
                return Err(ScaleError(format!(
                    "verdict name `{}`: use 1 to {MAX_VERDICT_NAME_CHARS} lowercase letters, digits and `-`",
                    name.escape_debug()
                )));
            }
            if !names.insert(name.as_str()) {
                return Err(ScaleError(format!("verdict `{name}` is listed twice")));
            }
            if label.description.chars().any(char::is_control) || label.description.chars().count() > 200 {
                return Err(ScaleError(format!(
                    "verdict `{name}`: the description must be one line of 200 characters"
                )));
            }
            if let Some(key) = label.key {
                if !(key.is_ascii_lowercase() || key.is_ascii_digit()) || NAVIGATION_KEYS.contains(&key) {
                    return Err(ScaleError(format!(
                        "verdict `{name}`: key `{}` must be a lowercase letter or digit other than j, k, o",
                        key.escape_debug()
                    )));
                }
                if !keys.insert(key) {
                    return Err(ScaleError(format!("verdict `{name}`: key `{key}` is used twice")));
                }
            }
            if label.rating.is_some_and(|r| !(1..=5).contains(&r)) {
                return Err(ScaleError(format!("verdict `{name}`: rating must be 1 to 5")));
            }
        }
        Ok(())
    }

    /// The label called `name`.
    pub fn get(&self, name: &str) -> Option<&VerdictLabel> {
        self.labels.iter().find(|label| label.name == name)
    }

    /// The names, comma-separated, for error messages.
    pub fn names(&self) -> String {
        self.labels.iter().map(|label| label.name.as_str()).collect::<Vec<_>>().join(", ")
    }

    /// `name` as a verdict of this scale.
    ///
    /// # Errors
    /// When the scale has no such verdict; the message lists the ones it has.
    pub fn parse(&self, name: &str) -> Result<String, ReviewInputError> {
        let trimmed = name.trim();
        match self.get(trimmed) {
            Some(label) => Ok(label.name.clone()),
            None => Err(ReviewInputError::UnknownVerdict { given: display_input(trimmed), known: self.names() }),
        }
    }
}

/// Keys the review page keeps for moving around.
pub const NAVIGATION_KEYS: [char; 3] = ['j', 'k', 'o'];

/// What a reviewer did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReviewAction {
    /// Gave a verdict.
    Verdict,
    /// Withdrew their standing verdict (the event `undoes`).
    Undo,
}

/// One entry of an item's review log. Never changed once written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VerdictEvent {
    /// Position in the store's log: increases with every event.
    pub seq: u64,
    /// The item reviewed.
    pub item: ItemId,
    /// What was done.
    pub action: ReviewAction,
    /// The verdict given, or for an undo, the verdict withdrawn.
    pub verdict: String,
    /// Who.
    pub reviewer: String,
    /// When it was recorded.
    pub time: DateTime<Utc>,
    /// Why, in the reviewer's words.
    pub note: Option<String>,
    /// For an undo: the `seq` of the event withdrawn.
    pub undoes: Option<u64>,
    /// The model whose score the reviewer saw.
    pub model: ModelRef,
    /// The score the reviewer saw (`None` when the model did not score the item's language).
    pub score: Option<f32>,
}

/// A verdict to record; the store gives it its `seq`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewVerdict {
    /// The item.
    pub item: ItemId,
    /// A name of the scale.
    pub verdict: String,
    /// Who.
    pub reviewer: String,
    /// Why.
    pub note: Option<String>,
}

/// A row of a batch that was not recorded, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedVerdict {
    /// Its position in the batch (0-based; the CLI adds the file's line).
    pub row: usize,
    /// The item id as given.
    pub item: String,
    /// Why, for people.
    pub error: String,
}

/// What recording a batch did: every row is in exactly one of the two lists.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RecordedVerdicts {
    /// The events written, in batch order.
    pub recorded: Vec<VerdictEvent>,
    /// The rows refused. With `all_or_nothing`, any refusal means nothing was recorded.
    pub rejected: Vec<RejectedVerdict>,
}

/// A reviewer and the verdict of theirs that stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StandingVerdict {
    /// Who.
    pub reviewer: String,
    /// Their verdict.
    pub verdict: String,
    /// The event that gave it.
    pub seq: u64,
    /// When.
    pub time: DateTime<Utc>,
}

/// Whether the standing verdicts on an item agree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Agreement {
    /// No standing verdict.
    Unreviewed,
    /// One reviewer.
    Single,
    /// Several reviewers, all with the same verdict.
    Agreed,
    /// Several reviewers, different verdicts.
    Disagreed,
}

/// What an item's log amounts to now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewState {
    /// The most recent standing verdict, if any.
    pub current: Option<String>,
    /// Every reviewer's standing verdict, oldest first.
    pub standing: Vec<StandingVerdict>,
    /// Whether they agree.
    pub agreement: Agreement,
}

impl ReviewState {
    /// Replays `events` (oldest first). A verdict replaces its reviewer's earlier one; an
    /// undo withdraws the event it names, and the reviewer's verdict before that stands again.
    pub fn derive(events: &[VerdictEvent]) -> Self {
        let undone: std::collections::HashSet<u64> =
            events.iter().filter(|event| event.action == ReviewAction::Undo).filter_map(|event| event.undoes).collect();
        let mut standing: Vec<StandingVerdict> = Vec::new();
        for event in events {
            if event.action != ReviewAction::Verdict || undone.contains(&event.seq) {
                continue;
            }
            standing.retain(|s| s.reviewer != event.reviewer);
            standing.push(StandingVerdict {
                reviewer: event.reviewer.clone(),
                verdict: event.verdict.clone(),
                seq: event.seq,
                time: event.time,
            });
        }
        let current = standing.last().map(|s| s.verdict.clone());
        let agreement = match standing.as_slice() {
            [] => Agreement::Unreviewed,
            [_] => Agreement::Single,
            [first, rest @ ..] if rest.iter().all(|s| s.verdict == first.verdict) => Agreement::Agreed,
            _ => Agreement::Disagreed,
        };
        Self { current, standing, agreement }
    }

    /// The event an undo by `reviewer` withdraws: their standing verdict.
    pub fn undoable(&self, reviewer: &str) -> Option<&StandingVerdict> {
        self.standing.iter().find(|s| s.reviewer == reviewer)
    }
}

/// Which items a query keeps by review state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReviewFilter {
    /// All items.
    #[default]
    Any,
    /// Items without a standing verdict.
    Unreviewed,
    /// Items with one.
    Reviewed,
}

/// The order of the review queue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum QueueOrder {
    /// Highest score first.
    #[default]
    Score,
    /// Members of the largest campaigns first (highest score first within one), then items
    /// in no campaign by score.
    CampaignSize,
}

/// What the review queue is asked.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QueueRequest {
    /// Filters, as `query` takes them (the review state is always "unreviewed").
    pub query: crate::ItemQuery,
    /// The order.
    #[serde(default)]
    pub order: QueueOrder,
    /// Only members of this campaign (and of those it absorbed).
    #[serde(default)]
    pub campaign: Option<CampaignId>,
}

/// A campaign as the queue shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignRef {
    /// The live campaign (after merges).
    pub id: CampaignId,
    /// Its size.
    pub size: u32,
}

/// One item of the review queue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueEntry {
    /// The item.
    pub scored: ScoredItem,
    /// Its campaign, where it has one.
    pub campaign: Option<CampaignRef>,
}

/// Why a verdict cannot be recorded: the reviewer's input, never the store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReviewInputError {
    /// Not a verdict of the scale.
    #[error("unknown verdict `{given}` (known: {known})")]
    UnknownVerdict {
        /// What was given, escaped for display.
        given: String,
        /// The scale's names.
        known: String,
    },
    /// The item is not stored.
    #[error("no item with id {0}")]
    UnknownItem(String),
    /// A reviewer name that is empty, too long, or holds control characters.
    #[error("reviewer name `{0}`: use 1 to 64 characters, no control characters")]
    BadReviewer(String),
    /// A note too long or with control characters other than newlines and tabs.
    #[error("note: at most 4000 characters, no control characters but newlines and tabs")]
    BadNote,
    /// Nothing to undo.
    #[error("{reviewer} has no standing verdict on {item}")]
    NothingToUndo {
        /// Who asked.
        reviewer: String,
        /// The item.
        item: String,
    },
}

/// A value from outside shown in a message: control characters escaped, at most 80 characters.
fn display_input(value: &str) -> String {
    let shown: String = value.chars().take(80).collect();
    shown.escape_debug().to_string()
}

/// Checks a reviewer's name; returns it trimmed.
///
/// # Errors
/// Empty, over [`MAX_REVIEWER_CHARS`], or with control characters.
pub fn check_reviewer(name: &str) -> Result<String, ReviewInputError> {
    let trimmed = name.trim();
    if trimmed.is_empty() || trimmed.chars().count() > MAX_REVIEWER_CHARS || trimmed.chars().any(char::is_control) {
        return Err(ReviewInputError::BadReviewer(display_input(trimmed)));
    }
    Ok(trimmed.to_owned())
}

/// Checks a note; returns it trimmed, `None` when empty.
///
/// # Errors
/// Over [`MAX_NOTE_CHARS`], or with control characters other than `\n` and `\t`.
pub fn check_note(note: Option<&str>) -> Result<Option<String>, ReviewInputError> {
    let Some(note) = note.map(str::trim).filter(|n| !n.is_empty()) else { return Ok(None) };
    let bad_control = note.chars().any(|c| c.is_control() && c != '\n' && c != '\t');
    if bad_control || note.chars().count() > MAX_NOTE_CHARS {
        return Err(ReviewInputError::BadNote);
    }
    Ok(Some(note.to_owned()))
}

impl Agreement {
    /// The machine name, as JSON writes it (`unreviewed`, `single`, `agreed`, `disagreed`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unreviewed => "unreviewed",
            Self::Single => "single",
            Self::Agreed => "agreed",
            Self::Disagreed => "disagreed",
        }
    }
}

impl fmt::Display for Agreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unreviewed => "unreviewed",
            Self::Single => "one reviewer",
            Self::Agreed => "reviewers agree",
            Self::Disagreed => "reviewers disagree",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: u64, reviewer: &str, verdict: &str) -> VerdictEvent {
        VerdictEvent {
            seq,
            item: ItemId([1; 8]),
            action: ReviewAction::Verdict,
            verdict: verdict.to_owned(),
            reviewer: reviewer.to_owned(),
            time: DateTime::from_timestamp(1_700_000_000 + seq as i64, 0).unwrap_or_default(),
            note: None,
            undoes: None,
            model: ModelRef { id: "m".to_owned(), version: "1".to_owned() },
            score: Some(0.9),
        }
    }

    fn undo(seq: u64, reviewer: &str, of: u64) -> VerdictEvent {
        VerdictEvent { action: ReviewAction::Undo, undoes: Some(of), ..event(seq, reviewer, "false") }
    }

    #[test]
    fn the_default_scale_is_valid_and_has_the_claimreview_verdicts() {
        let scale = VerdictScale::default();
        assert_eq!(scale.validate(), Ok(()));
        assert_eq!(scale.names(), "false, misleading, missing-context, true, unproven, not-health, not-a-claim");
    }

    #[test]
    fn scales_with_duplicates_or_reserved_keys_are_refused() {
        let mut scale = VerdictScale::default();
        scale.labels[1].key = Some('f');
        assert!(scale.validate().is_err_and(|e| e.0.contains("used twice")));
        let mut scale = VerdictScale::default();
        scale.labels[0].key = Some('j');
        assert!(scale.validate().is_err());
        let mut scale = VerdictScale::default();
        scale.labels[2].name = "False".to_owned();
        assert!(scale.validate().is_err());
        let mut scale = VerdictScale::default();
        scale.labels.push(scale.labels[0].clone());
        assert!(scale.validate().is_err_and(|e| e.0.contains("listed twice")));
    }

    #[test]
    fn unknown_verdicts_name_the_known_ones() {
        let error = VerdictScale::default().parse("fals\u{1b}[31m").unwrap_err().to_string();
        assert!(error.contains("known: false, misleading"), "{error}");
        assert!(!error.contains('\u{1b}'), "control characters are escaped: {error}");
        assert_eq!(VerdictScale::default().parse(" true "), Ok("true".to_owned()));
    }

    #[test]
    fn a_reviewers_later_verdict_replaces_their_earlier_one() {
        let state = ReviewState::derive(&[event(1, "ana", "false"), event(2, "ana", "misleading")]);
        assert_eq!(state.current.as_deref(), Some("misleading"));
        assert_eq!(state.standing.len(), 1);
        assert_eq!(state.agreement, Agreement::Single);
    }

    #[test]
    fn disagreement_is_kept_and_visible() {
        let state = ReviewState::derive(&[event(1, "ana", "false"), event(2, "ben", "true")]);
        assert_eq!(state.current.as_deref(), Some("true"));
        assert_eq!(state.standing.len(), 2);
        assert_eq!(state.agreement, Agreement::Disagreed);
        let agreed = ReviewState::derive(&[event(1, "ana", "false"), event(2, "ben", "false")]);
        assert_eq!(agreed.agreement, Agreement::Agreed);
    }

    #[test]
    fn undo_brings_back_the_earlier_verdict() {
        let events = [event(1, "ana", "false"), event(2, "ana", "true"), undo(3, "ana", 2)];
        let state = ReviewState::derive(&events);
        assert_eq!(state.current.as_deref(), Some("false"));
        let all_undone = [event(1, "ana", "false"), undo(2, "ana", 1)];
        let state = ReviewState::derive(&all_undone);
        assert_eq!(state.current, None);
        assert_eq!(state.agreement, Agreement::Unreviewed);
    }

    #[test]
    fn undo_by_one_reviewer_leaves_the_others() {
        let events = [event(1, "ana", "false"), event(2, "ben", "true"), undo(3, "ben", 2)];
        let state = ReviewState::derive(&events);
        assert_eq!(state.current.as_deref(), Some("false"));
        assert_eq!(state.agreement, Agreement::Single);
    }

    #[test]
    fn reviewer_names_and_notes_are_bounded() {
        assert_eq!(check_reviewer(" ana "), Ok("ana".to_owned()));
        assert!(check_reviewer("").is_err());
        assert!(check_reviewer("a\u{7}b").is_err());
        assert!(check_reviewer(&"x".repeat(65)).is_err());
        assert_eq!(check_note(Some("  ")), Ok(None));
        assert_eq!(check_note(Some("line\nline")), Ok(Some("line\nline".to_owned())));
        assert!(check_note(Some("bell\u{7}")).is_err());
        assert!(check_note(Some(&"x".repeat(4001))).is_err());
    }
}
