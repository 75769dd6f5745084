//! Campaigns: one narrative pushed by several sources or accounts in a short time. The
//! grouping itself lives in `infodemic-campaigns`; these are the values it produces and the
//! store keeps.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A campaign's id: minted once, in arrival order, never reused. Shown as `c` and the number.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct CampaignId(pub u64);

impl fmt::Display for CampaignId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "c{}", self.0)
    }
}

impl fmt::Debug for CampaignId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A campaign id that is not `c` followed by a number.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a campaign id: {0:?} (expected c followed by a number, e.g. c12)")]
pub struct CampaignIdParseError(pub String);

impl FromStr for CampaignId {
    type Err = CampaignIdParseError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        let digits = trimmed.strip_prefix('c').or_else(|| trimmed.strip_prefix('C')).unwrap_or(trimmed);
        digits.parse::<u64>().map(CampaignId).map_err(|_| CampaignIdParseError(text.to_owned()))
    }
}

impl From<CampaignId> for String {
    fn from(id: CampaignId) -> Self {
        id.to_string()
    }
}

impl TryFrom<String> for CampaignId {
    type Error = CampaignIdParseError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

/// Whether a campaign still takes items.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "status")]
pub enum CampaignStatus {
    /// Takes new items.
    Active,
    /// Merged into another campaign: its id resolves to `into`.
    Merged {
        /// The successor.
        into: CampaignId,
    },
}

/// One item of a campaign, as campaigns list it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignMember {
    /// The item's id: an [`ItemId`](crate::ItemId) for crawled items, the input's own id for
    /// replayed ones.
    pub id: String,
    /// Its URL.
    pub url: String,
    /// Its title or the start of its text.
    pub text: String,
    /// When it was published (else fetched); `None` when the input had no time.
    pub time: Option<DateTime<Utc>>,
    /// Where it came from.
    pub source: String,
    /// The account that posted it, where known.
    pub account: Option<String>,
    /// The model's score, where it was scored.
    pub score: Option<f32>,
}

/// Score statistics of a campaign's items.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ScoreStats {
    /// Items with a score.
    pub count: u32,
    /// Sum of their scores.
    pub sum: f64,
    /// Lowest score.
    pub min: f32,
    /// Highest score.
    pub max: f32,
}

impl ScoreStats {
    /// Adds one score.
    pub fn add(&mut self, score: f32) {
        if self.count == 0 {
            self.min = score;
            self.max = score;
        } else {
            self.min = self.min.min(score);
            self.max = self.max.max(score);
        }
        self.count = self.count.saturating_add(1);
        self.sum += f64::from(score);
    }

    /// Mean score, `None` without scores.
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / f64::from(self.count))
    }
}

/// A DISARM technique a detector found in a campaign, with the items that show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Technique {
    /// DISARM id, e.g. `T0084.001`.
    pub id: String,
    /// DISARM name.
    pub name: String,
    /// Why, one sentence.
    pub evidence: String,
}

/// Something that happened to a campaign; the history is append-only.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "event")]
pub enum CampaignEvent {
    /// Opened by its first item.
    Opened {
        /// When (the item's time, else the time it was assigned).
        at: DateTime<Utc>,
        /// The first item.
        item: String,
    },
    /// Another campaign was merged into this one.
    Absorbed {
        /// When.
        at: DateTime<Utc>,
        /// The retired id.
        from: CampaignId,
    },
    /// Merged into another campaign and retired.
    MergedInto {
        /// When.
        at: DateTime<Utc>,
        /// The successor.
        into: CampaignId,
    },
    /// A surge alert was raised.
    Alert {
        /// When.
        at: DateTime<Utc>,
        /// What it said.
        summary: String,
    },
    /// A technique was first detected.
    Technique {
        /// When.
        at: DateTime<Utc>,
        /// DISARM id.
        id: String,
    },
}

/// A campaign: what `campaigns` lists and the store keeps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Campaign {
    /// Its id.
    pub id: CampaignId,
    /// Active or merged.
    pub status: CampaignStatus,
    /// The most central item seen so far (closest to the campaign's centre when it arrived).
    pub representative: CampaignMember,
    /// How central the representative is (cosine to the centre), 0..=1.
    pub representative_similarity: f32,
    /// Earliest item time.
    pub first_seen: DateTime<Utc>,
    /// Latest item time.
    pub last_seen: DateTime<Utc>,
    /// Items assigned.
    pub size: u32,
    /// Items per source.
    pub sources: BTreeMap<String, u32>,
    /// Items per account, where accounts are known.
    pub accounts: BTreeMap<String, u32>,
    /// Items per detected language.
    pub languages: BTreeMap<String, u32>,
    /// Items per hour (hours since the Unix epoch).
    pub hourly: BTreeMap<i64, u32>,
    /// Fact-checks the items matched: claim id to the fact-check's URL or claim text.
    pub fact_checks: BTreeMap<String, String>,
    /// Score statistics.
    pub scores: ScoreStats,
    /// DISARM techniques detected.
    pub techniques: Vec<Technique>,
    /// What happened to it, oldest first.
    pub history: Vec<CampaignEvent>,
    /// The grouping's state for this campaign (its lexical centre, fingerprints, links): owned
    /// and versioned by `infodemic-campaigns`; others keep it as it is.
    pub profile: CampaignProfile,
}

impl Campaign {
    /// Items per day (days since the Unix epoch).
    pub fn daily(&self) -> BTreeMap<i64, u32> {
        let mut days = BTreeMap::new();
        for (hour, count) in &self.hourly {
            let day = hour.div_euclid(24);
            let entry: &mut u32 = days.entry(day).or_default();
            *entry = entry.saturating_add(*count);
        }
        days
    }

    /// Items in the `hours` hours up to and including the hour of `now`: recent growth.
    pub fn recent_items(&self, now: DateTime<Utc>, hours: i64) -> u32 {
        let end = now.timestamp().div_euclid(3600);
        self.hourly.range(end.saturating_sub(hours - 1)..=end).fold(0u32, |sum, (_, n)| sum.saturating_add(*n))
    }

    /// The most frequent terms of the campaign's text, strongest first.
    pub fn top_terms(&self, count: usize) -> Vec<String> {
        let mut terms: Vec<(&String, &f32)> = self.profile.terms.iter().collect();
        terms.sort_by(|a, b| b.1.total_cmp(a.1).then_with(|| a.0.cmp(b.0)));
        terms.into_iter().take(count).map(|(term, _)| term.clone()).collect()
    }
}

/// Hours of counts a [`CampaignHead`] keeps, back from the campaign's last item: enough for
/// "items in the last 24 hours" at any moment from then on.
pub const HEAD_RECENT_HOURS: i64 = 24;

/// What listing and ranking campaigns needs, kept apart so that a list of thousands of
/// campaigns does not decode their sources, counts and history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignHead {
    /// Its id.
    pub id: CampaignId,
    /// Active or merged.
    pub status: CampaignStatus,
    /// Items.
    pub size: u32,
    /// Earliest item time.
    pub first_seen: DateTime<Utc>,
    /// Latest item time.
    pub last_seen: DateTime<Utc>,
    /// Items per hour in the [`HEAD_RECENT_HOURS`] up to `last_seen`.
    pub recent: BTreeMap<i64, u32>,
}

impl CampaignHead {
    /// The head of `campaign`.
    pub fn of(campaign: &Campaign) -> Self {
        let end = campaign.last_seen.timestamp().div_euclid(3600);
        Self {
            id: campaign.id,
            status: campaign.status,
            size: campaign.size,
            first_seen: campaign.first_seen,
            last_seen: campaign.last_seen,
            recent: campaign
                .hourly
                .range(end.saturating_sub(HEAD_RECENT_HOURS - 1)..=end)
                .map(|(h, n)| (*h, *n))
                .collect(),
        }
    }

    /// Items in the 24 hours up to and including the hour of `now` (as
    /// [`Campaign::recent_items`] with 24 hours, for any `now` at or after `last_seen`).
    pub fn recent_items(&self, now: DateTime<Utc>) -> u32 {
        let end = now.timestamp().div_euclid(3600);
        self.recent
            .range(end.saturating_sub(HEAD_RECENT_HOURS - 1)..=end)
            .fold(0u32, |sum, (_, n)| sum.saturating_add(*n))
    }
}

/// Which campaigns a listing shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CampaignFilter {
    /// Only campaigns with an item at or after this.
    pub since: Option<DateTime<Utc>>,
    /// Only campaigns with at least this many items.
    pub min_size: u32,
    /// `Some(true)`: active only; `Some(false)`: merged only; `None`: both.
    pub active: Option<bool>,
    /// At most this many (0: all).
    pub limit: usize,
}

/// The "now" of recent growth for a set of campaigns: their newest item (never later than
/// `wall_clock`), so that an archive replayed today still shows which campaigns grew last.
pub fn growth_now(heads: &[CampaignHead], wall_clock: DateTime<Utc>) -> DateTime<Utc> {
    heads.iter().map(|h| h.last_seen).max().unwrap_or(wall_clock).min(wall_clock)
}

/// The campaigns `filter` keeps, most recent growth first (then newest, largest, oldest id).
pub fn rank_campaigns(heads: &[CampaignHead], filter: &CampaignFilter, now: DateTime<Utc>) -> Vec<CampaignId> {
    let mut kept: Vec<(u32, &CampaignHead)> = heads
        .iter()
        .filter(|h| match filter.active {
            Some(true) => h.status == CampaignStatus::Active,
            Some(false) => h.status != CampaignStatus::Active,
            None => true,
        })
        .filter(|h| h.size >= filter.min_size)
        .filter(|h| filter.since.is_none_or(|since| h.last_seen >= since))
        .map(|h| (h.recent_items(now), h))
        .collect();
    kept.sort_by(|(ga, a), (gb, b)| {
        gb.cmp(ga).then(b.last_seen.cmp(&a.last_seen)).then(b.size.cmp(&a.size)).then(a.id.cmp(&b.id))
    });
    if filter.limit > 0 {
        kept.truncate(filter.limit);
    }
    kept.into_iter().map(|(_, h)| h.id).collect()
}

/// What the grouping compares new items with; opaque to everyone but `infodemic-campaigns`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CampaignProfile {
    /// Sum of the members' term weights (each member's vector L2-normalised when it joined).
    pub terms: BTreeMap<String, f32>,
    /// Squared norm of that sum.
    pub norm_sq: f64,
    /// Sum of the members' sentence embeddings (empty when none had one).
    pub embedding: Vec<f32>,
    /// Members that contributed an embedding.
    pub embedded: u32,
    /// Near-duplicate fingerprints of recent members.
    pub simhashes: Vec<u64>,
    /// Hashes of the members' normalised texts: a word-for-word repeat joins the campaign
    /// its text is already in.
    pub texts: Vec<u64>,
    /// Members that repeated another member word for word or nearly (copies).
    pub repeats: u32,
    /// Links the members shared, with counts.
    pub links: BTreeMap<String, u32>,
    /// Surge-detection state, serialised by `infodemic-campaigns`.
    pub surge: String,
}

/// The grouping's counters, kept with the campaigns so that a restart continues them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignCounters {
    /// Items assigned so far (the document count of the term statistics).
    pub docs: u64,
    /// The next campaign id to mint.
    pub next_id: u64,
    /// The next alert sequence number.
    pub next_alert: u64,
}

/// A surge alert on a campaign.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Sequence number, in the order alerts were raised.
    pub seq: u64,
    /// The campaign.
    pub campaign: CampaignId,
    /// When it was raised (the time of the item that raised it).
    pub at: DateTime<Utc>,
    /// `opening`, `ears-c2` or `cusum`.
    pub kind: String,
    /// One sentence for people.
    pub summary: String,
    /// The campaign's size then.
    pub size: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text_and_json() {
        let id = CampaignId(42);
        assert_eq!(id.to_string(), "c42");
        assert_eq!("c42".parse::<CampaignId>(), Ok(id));
        assert_eq!("42".parse::<CampaignId>(), Ok(id));
        assert!("cx".parse::<CampaignId>().is_err());
        assert!("".parse::<CampaignId>().is_err());
        let json = serde_json::to_string(&id).unwrap_or_default();
        assert_eq!(json, "\"c42\"");
        assert_eq!(serde_json::from_str::<CampaignId>(&json).ok(), Some(id));
    }

    #[test]
    fn heads_rank_by_growth_as_full_campaigns_would() {
        let at = |hours: i64| DateTime::from_timestamp(1_700_000_000 + hours * 3600, 0).unwrap_or_default();
        let head = |id: u64, hourly: &[(i64, u32)], size: u32| {
            let hour0 = at(0).timestamp().div_euclid(3600);
            let hourly: BTreeMap<i64, u32> = hourly.iter().map(|(h, n)| (hour0 + h, *n)).collect();
            let first = *hourly.keys().next().unwrap_or(&hour0);
            let last = *hourly.keys().last().unwrap_or(&hour0);
            let campaign_recent = hourly;
            let end = last;
            CampaignHead {
                id: CampaignId(id),
                status: CampaignStatus::Active,
                size,
                first_seen: DateTime::from_timestamp(first * 3600, 0).unwrap_or_default(),
                last_seen: DateTime::from_timestamp(last * 3600, 0).unwrap_or_default(),
                recent: campaign_recent.range(end - HEAD_RECENT_HOURS + 1..=end).map(|(h, n)| (*h, *n)).collect(),
            }
        };
        let heads = vec![
            head(1, &[(0, 50)], 50),           // big, old
            head(2, &[(90, 3), (100, 4)], 7),  // grew last day
            head(3, &[(60, 9), (100, 1)], 10), // one item last day
        ];
        let now = growth_now(&heads, at(1000));
        assert_eq!(now, heads[1].last_seen);
        assert_eq!(heads[1].recent_items(now), 7);
        let ranked = rank_campaigns(&heads, &CampaignFilter::default(), now);
        assert_eq!(ranked, [CampaignId(2), CampaignId(3), CampaignId(1)]);
        let filter = CampaignFilter { min_size: 8, limit: 1, ..CampaignFilter::default() };
        assert_eq!(rank_campaigns(&heads, &filter, now), [CampaignId(3)]);
    }

    #[test]
    fn score_stats_track_min_max_mean() {
        let mut stats = ScoreStats::default();
        assert_eq!(stats.mean(), None);
        stats.add(0.5);
        stats.add(0.9);
        assert_eq!((stats.min, stats.max, stats.count), (0.5, 0.9, 2));
        assert!((stats.mean().unwrap_or(0.0) - 0.7).abs() < 1e-6);
    }
}
