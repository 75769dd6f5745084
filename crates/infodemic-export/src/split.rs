//! Train/test splits that do not leak: every item of one story (a campaign) lands on the same
//! side. Near-copies and syndicated copies of one item are stored as its appearances, never as
//! rows, so they cannot straddle either.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use infodemic_core::CampaignId;
use sha2::{Digest, Sha256};

use crate::ExportError;

/// How to split.
#[derive(Clone, Debug, PartialEq)]
pub enum SplitSpec {
    /// `time:2026-06-01`: train before the date (UTC midnight), test from it on.
    Time(DateTime<Utc>),
    /// `random:0.8`: a seeded share of stories for train.
    Random {
        /// Share of stories in train, in (0, 1).
        train: f64,
    },
    /// `source` or `source:0.2`: whole sources held out for test (about that share of
    /// sources, chosen by the seed).
    Source {
        /// Share of sources held out.
        test: f64,
    },
}

impl SplitSpec {
    /// Reads `time:DATE`, `random:SHARE` or `source[:SHARE]`.
    ///
    /// # Errors
    /// Anything else, with the forms that work.
    pub fn parse(text: &str) -> Result<Self, ExportError> {
        let bad = |why: &str| {
            ExportError::Split(format!("`{text}`: {why} (use time:2026-06-01, random:0.8, or source[:0.2])"))
        };
        let (kind, value) = text.split_once(':').map_or((text, None), |(k, v)| (k, Some(v)));
        let share = |value: Option<&str>, default: Option<f64>| -> Result<f64, ExportError> {
            let share = match value {
                Some(v) => v.parse::<f64>().map_err(|_| bad("the share is not a number"))?,
                None => default.ok_or_else(|| bad("a share is needed"))?,
            };
            if share > 0.0 && share < 1.0 {
                Ok(share)
            } else {
                Err(bad("the share must be between 0 and 1"))
            }
        };
        match kind {
            "time" => {
                let value = value.ok_or_else(|| bad("a date is needed"))?;
                let time = match NaiveDate::parse_from_str(value, "%Y-%m-%d") {
                    Ok(date) => date.and_hms_opt(0, 0, 0).map(|t| t.and_utc()),
                    Err(_) => DateTime::parse_from_rfc3339(value).ok().map(|t| t.with_timezone(&Utc)),
                };
                time.map(SplitSpec::Time).ok_or_else(|| bad("not a date or RFC 3339 time"))
            }
            "random" => Ok(SplitSpec::Random { train: share(value, None)? }),
            "source" => Ok(SplitSpec::Source { test: share(value, Some(0.2))? }),
            _ => Err(bad("unknown split")),
        }
    }
}

/// The two sides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
    /// Training data.
    Train,
    /// Held out.
    Test,
}

impl Side {
    /// `train` or `test`: the file's stem.
    pub fn name(self) -> &'static str {
        match self {
            Side::Train => "train",
            Side::Test => "test",
        }
    }
}

/// What a campaign needs for the split: when it started, and its sources.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StoryInfo {
    /// Its earliest item.
    pub first_seen: Option<DateTime<Utc>>,
    /// Every source among its items.
    pub sources: Vec<String>,
}

/// Assigns rows to sides.
#[derive(Debug)]
pub struct Splitter {
    spec: SplitSpec,
    seed: u64,
    stories: HashMap<CampaignId, StoryInfo>,
    test_sources: HashSet<String>,
}

/// A number in [0, 1) from the seed and a key: the same on every machine and run.
fn unit(seed: u64, key: &str) -> f64 {
    let digest = Sha256::digest(format!("{seed}:{key}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

impl Splitter {
    /// A splitter; `sources` are every source the export may hold (for `source` splits, the
    /// held-out ones are chosen among them), `stories` what is known of campaigns.
    pub fn new(spec: SplitSpec, seed: u64, sources: &[String], stories: HashMap<CampaignId, StoryInfo>) -> Self {
        let mut test_sources = HashSet::new();
        if let SplitSpec::Source { test } = spec {
            let mut ranked: Vec<&String> = sources.iter().collect();
            ranked.sort_by(|a, b| unit(seed, a).total_cmp(&unit(seed, b)).then(a.cmp(b)));
            ranked.dedup();
            // At least one source on each side when there are two or more.
            let wanted =
                ((ranked.len() as f64 * test).round() as usize).clamp(1, ranked.len().saturating_sub(1).max(1));
            test_sources = ranked.into_iter().take(wanted).cloned().collect();
        }
        Self { spec, seed, stories, test_sources }
    }

    /// A `source` split holding out exactly `test_sources` (the others are train).
    pub fn with_test_sources(
        spec: SplitSpec,
        seed: u64,
        test_sources: &[String],
        stories: HashMap<CampaignId, StoryInfo>,
    ) -> Self {
        Self { spec, seed, stories, test_sources: test_sources.iter().cloned().collect() }
    }

    /// The held-out sources of a `source` split, sorted.
    pub fn test_sources(&self) -> Vec<String> {
        let mut sources: Vec<String> = self.test_sources.iter().cloned().collect();
        sources.sort();
        sources
    }

    /// The side of an item: by its story when it has one.
    pub fn side(&self, id: &str, time: DateTime<Utc>, source: &str, campaign: Option<CampaignId>) -> Side {
        let story = campaign.and_then(|c| self.stories.get(&c).map(|info| (c, info)));
        match &self.spec {
            SplitSpec::Time(cut) => {
                let time = story.and_then(|(_, info)| info.first_seen).map_or(time, |first| first.min(time));
                if time < *cut {
                    Side::Train
                } else {
                    Side::Test
                }
            }
            SplitSpec::Random { train } => {
                let key = story.map_or_else(|| format!("item:{id}"), |(c, _)| format!("campaign:{c}"));
                if unit(self.seed, &key) < *train {
                    Side::Train
                } else {
                    Side::Test
                }
            }
            SplitSpec::Source { .. } => {
                let held_out = self.test_sources.contains(source)
                    || story.is_some_and(|(_, info)| info.sources.iter().any(|s| self.test_sources.contains(s)));
                if held_out {
                    Side::Test
                } else {
                    Side::Train
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u32) -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(2026, 6, day)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc())
            .unwrap_or_default()
    }

    #[test]
    fn specs_parse_and_bad_ones_say_what_works() {
        assert_eq!(SplitSpec::parse("time:2026-06-01").ok(), Some(SplitSpec::Time(at(1))));
        assert_eq!(SplitSpec::parse("random:0.8").ok(), Some(SplitSpec::Random { train: 0.8 }));
        assert_eq!(SplitSpec::parse("source").ok(), Some(SplitSpec::Source { test: 0.2 }));
        for bad in ["random:1.5", "random", "time:June", "halves", "source:x"] {
            let error = SplitSpec::parse(bad).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(error.contains("time:2026-06-01"), "{bad}: {error}");
        }
    }

    #[test]
    fn a_story_never_straddles_a_time_split() {
        let mut stories = HashMap::new();
        stories
            .insert(CampaignId(1), StoryInfo { first_seen: Some(at(1) - chrono::Duration::days(2)), sources: vec![] });
        let splitter = Splitter::new(SplitSpec::Time(at(1)), 0, &[], stories);
        // A later member of a story that began before the cut goes with its story.
        assert_eq!(splitter.side("a", at(5), "s", Some(CampaignId(1))), Side::Train);
        assert_eq!(splitter.side("b", at(5), "s", None), Side::Test);
        assert_eq!(splitter.side("c", at(1) - chrono::Duration::seconds(1), "s", None), Side::Train);
    }

    #[test]
    fn random_splits_follow_the_seed_and_keep_stories_whole() {
        let mut stories = HashMap::new();
        stories.insert(CampaignId(7), StoryInfo::default());
        let splitter = Splitter::new(SplitSpec::Random { train: 0.8 }, 42, &[], stories.clone());
        let sides: HashSet<Side> =
            (0..50).map(|i| splitter.side(&format!("{i}"), at(1), "s", Some(CampaignId(7)))).collect();
        assert_eq!(sides.len(), 1, "one story, one side");
        let train = (0..10_000).filter(|i| splitter.side(&format!("{i}"), at(1), "s", None) == Side::Train).count();
        assert!((7_700..8_300).contains(&train), "{train}");
        let again = Splitter::new(SplitSpec::Random { train: 0.8 }, 42, &[], stories.clone());
        let other = Splitter::new(SplitSpec::Random { train: 0.8 }, 43, &[], stories);
        let same = (0..100)
            .all(|i| splitter.side(&format!("{i}"), at(1), "s", None) == again.side(&format!("{i}"), at(1), "s", None));
        let differs = (0..100)
            .any(|i| splitter.side(&format!("{i}"), at(1), "s", None) != other.side(&format!("{i}"), at(1), "s", None));
        assert!(same && differs);
    }

    #[test]
    fn source_splits_hold_out_whole_sources_and_their_stories() {
        let sources: Vec<String> = (0..10).map(|i| format!("s{i}")).collect();
        let mut stories = HashMap::new();
        let splitter = Splitter::new(SplitSpec::Source { test: 0.2 }, 1, &sources, HashMap::new());
        let held = splitter.test_sources();
        assert_eq!(held.len(), 2);
        let kept = sources.iter().find(|s| !held.contains(s)).cloned().unwrap_or_default();
        stories.insert(CampaignId(3), StoryInfo { first_seen: None, sources: vec![kept.clone(), held[0].clone()] });
        let splitter = Splitter::new(SplitSpec::Source { test: 0.2 }, 1, &sources, stories);
        assert_eq!(splitter.side("a", at(1), &held[0], None), Side::Test);
        assert_eq!(splitter.side("b", at(1), &kept, None), Side::Train);
        assert_eq!(
            splitter.side("c", at(1), &kept, Some(CampaignId(3))),
            Side::Test,
            "its story reached a held-out source"
        );
    }
}
