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

/// The unit a split keeps whole: the items of one story (members of one campaign, and
/// near-copies of one text), with what decides its side.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Story {
    /// A stable name (its smallest item id): what a random split hashes.
    pub key: String,
    /// Its earliest item (publication, else fetch time): what a time split compares.
    pub first_seen: DateTime<Utc>,
    /// Every source among its items: what a source split checks.
    pub sources: Vec<String>,
}

impl Story {
    /// A story of one item.
    pub fn single(id: &str, time: DateTime<Utc>, source: &str) -> Self {
        Self { key: id.to_owned(), first_seen: time, sources: vec![source.to_owned()] }
    }
}

/// SimHash bits two texts may differ by and still be grouped as one story. Four bands of 16
/// bits find every such pair (three differing bits leave one band whole), and buckets stay
/// small at a million items. Looser near-copies (up to `NEAR_DUPLICATE_BITS`, confirmed by
/// resemblance) seen within the crawler's window are already appearances, not rows.
pub const STORY_SIMHASH_BITS: u32 = 3;
const BANDS: u32 = 4;

/// Groups items into stories, item by item (a first pass over what an export will write):
/// union-find over campaign membership and near-identical SimHash fingerprints.
#[derive(Debug, Default)]
pub struct StoryGrouper {
    ids: HashMap<String, u32>,
    parent: Vec<u32>,
    /// Per item: its time and the index of its source.
    items: Vec<(DateTime<Utc>, u32)>,
    fingerprints: Vec<Option<u64>>,
    sources: Vec<String>,
    source_index: HashMap<String, u32>,
    names: Vec<String>,
    campaigns: HashMap<CampaignId, u32>,
    bands: HashMap<(u32, u16), Vec<u32>>,
}

impl StoryGrouper {
    fn root(&mut self, mut node: u32) -> u32 {
        while self.parent[node as usize] != node {
            let grand = self.parent[self.parent[node as usize] as usize];
            self.parent[node as usize] = grand;
            node = grand;
        }
        node
    }

    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.root(a), self.root(b));
        if ra != rb {
            // The smaller index wins: the result does not depend on hash map order.
            let (keep, merge) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[merge as usize] = keep;
        }
    }

    /// Adds an item; an item given twice counts once.
    pub fn add(
        &mut self,
        id: &str,
        time: DateTime<Utc>,
        source: &str,
        campaign: Option<CampaignId>,
        simhash: Option<u64>,
    ) {
        if self.ids.contains_key(id) {
            return;
        }
        let node = u32::try_from(self.parent.len()).unwrap_or(u32::MAX);
        self.ids.insert(id.to_owned(), node);
        self.parent.push(node);
        self.names.push(id.to_owned());
        let next_source = u32::try_from(self.sources.len()).unwrap_or(u32::MAX);
        let source_id = *self.source_index.entry(source.to_owned()).or_insert(next_source);
        if source_id == next_source {
            self.sources.push(source.to_owned());
        }
        self.items.push((time, source_id));
        self.fingerprints.push(simhash);
        if let Some(campaign) = campaign {
            match self.campaigns.get(&campaign).copied() {
                Some(first) => self.union(first, node),
                None => {
                    self.campaigns.insert(campaign, node);
                }
            }
        }
        if let Some(fingerprint) = simhash {
            for band in 0..BANDS {
                let value = ((fingerprint >> (band * 16)) & 0xffff) as u16;
                let bucket = self.bands.get(&(band, value)).cloned().unwrap_or_default();
                for other in bucket {
                    let near = self.fingerprints[other as usize].is_some_and(|theirs| {
                        infodemic_core::simhash::distance(theirs, fingerprint) <= STORY_SIMHASH_BITS
                    });
                    if near {
                        self.union(other, node);
                    }
                }
                self.bands.entry((band, value)).or_default().push(node);
            }
        }
    }

    /// The stories, ready to be looked up by item id.
    pub fn finish(mut self) -> StoryMap {
        let count = u32::try_from(self.parent.len()).unwrap_or(u32::MAX);
        let roots: Vec<u32> = (0..count).map(|node| self.root(node)).collect();
        let mut stories: HashMap<u32, Story> = HashMap::new();
        let mut sources: HashMap<u32, std::collections::BTreeSet<u32>> = HashMap::new();
        for (node, root) in roots.iter().enumerate() {
            let (time, source) = self.items[node];
            let name = &self.names[node];
            let story = stories.entry(*root).or_insert_with(|| Story {
                key: name.clone(),
                first_seen: time,
                sources: Vec::new(),
            });
            story.first_seen = story.first_seen.min(time);
            if *name < story.key {
                story.key.clone_from(name);
            }
            sources.entry(*root).or_default().insert(source);
        }
        for (root, story) in &mut stories {
            let indexes = sources.get(root).cloned().unwrap_or_default();
            let mut names: Vec<String> = indexes.iter().map(|s| self.sources[*s as usize].clone()).collect();
            names.sort();
            story.sources = names;
        }
        let mut all_sources = self.sources;
        all_sources.sort();
        StoryMap { ids: self.ids, roots, stories, sources: all_sources }
    }
}

/// Every item's story.
#[derive(Debug, Default)]
pub struct StoryMap {
    ids: HashMap<String, u32>,
    roots: Vec<u32>,
    stories: HashMap<u32, Story>,
    sources: Vec<String>,
}

impl StoryMap {
    /// The story of an item, if the first pass saw it.
    pub fn story(&self, id: &str) -> Option<&Story> {
        let node = self.ids.get(id)?;
        self.stories.get(self.roots.get(*node as usize)?)
    }

    /// Every source among the items, sorted.
    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    /// How many stories hold more than one item.
    pub fn multi_item_stories(&self) -> usize {
        let mut sizes: HashMap<u32, usize> = HashMap::new();
        for root in &self.roots {
            *sizes.entry(*root).or_default() += 1;
        }
        sizes.values().filter(|size| **size > 1).count()
    }
}

/// Assigns stories to sides.
#[derive(Debug)]
pub struct Splitter {
    spec: SplitSpec,
    seed: u64,
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
    /// held-out ones are chosen among them).
    pub fn new(spec: SplitSpec, seed: u64, sources: &[String]) -> Self {
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
        Self { spec, seed, test_sources }
    }

    /// A `source` split holding out exactly `test_sources` (the others are train).
    pub fn with_test_sources(spec: SplitSpec, seed: u64, test_sources: &[String]) -> Self {
        Self { spec, seed, test_sources: test_sources.iter().cloned().collect() }
    }

    /// The held-out sources of a `source` split, sorted.
    pub fn test_sources(&self) -> Vec<String> {
        let mut sources: Vec<String> = self.test_sources.iter().cloned().collect();
        sources.sort();
        sources
    }

    /// The side of a story: every item of it goes there.
    pub fn side(&self, story: &Story) -> Side {
        let train = match &self.spec {
            SplitSpec::Time(cut) => story.first_seen < *cut,
            SplitSpec::Random { train } => unit(self.seed, &story.key) < *train,
            SplitSpec::Source { .. } => !story.sources.iter().any(|s| self.test_sources.contains(s)),
        };
        if train {
            Side::Train
        } else {
            Side::Test
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

    fn story(key: &str, day: u32, sources: &[&str]) -> Story {
        Story { key: key.to_owned(), first_seen: at(day), sources: sources.iter().map(|s| (*s).to_owned()).collect() }
    }

    #[test]
    fn time_splits_go_by_the_story_start() {
        let splitter = Splitter::new(SplitSpec::Time(at(3)), 0, &[]);
        assert_eq!(splitter.side(&story("a", 2, &["s"])), Side::Train);
        assert_eq!(splitter.side(&story("a", 3, &["s"])), Side::Test);
    }

    #[test]
    fn random_splits_follow_the_seed() {
        let splitter = Splitter::new(SplitSpec::Random { train: 0.8 }, 42, &[]);
        let side = |s: &Splitter, i: usize| s.side(&story(&format!("{i}"), 1, &["s"]));
        let train = (0..10_000).filter(|i| side(&splitter, *i) == Side::Train).count();
        assert!((7_700..8_300).contains(&train), "{train}");
        let again = Splitter::new(SplitSpec::Random { train: 0.8 }, 42, &[]);
        let other = Splitter::new(SplitSpec::Random { train: 0.8 }, 43, &[]);
        assert!((0..100).all(|i| side(&splitter, i) == side(&again, i)));
        assert!((0..100).any(|i| side(&splitter, i) != side(&other, i)));
    }

    #[test]
    fn source_splits_hold_out_whole_sources_and_their_stories() {
        let sources: Vec<String> = (0..10).map(|i| format!("s{i}")).collect();
        let splitter = Splitter::new(SplitSpec::Source { test: 0.2 }, 1, &sources);
        let held = splitter.test_sources();
        assert_eq!(held.len(), 2);
        let kept = sources.iter().find(|s| !held.contains(s)).cloned().unwrap_or_default();
        assert_eq!(splitter.side(&story("a", 1, &[&held[0]])), Side::Test);
        assert_eq!(splitter.side(&story("b", 1, &[&kept])), Side::Train);
        assert_eq!(
            splitter.side(&story("c", 1, &[&kept, &held[0]])),
            Side::Test,
            "its story reached a held-out source"
        );
    }

    #[test]
    fn campaigns_and_near_copies_make_one_story() {
        let mut grouper = StoryGrouper::default();
        let base: u64 = 0x0123_4567_89ab_cdef;
        grouper.add("b", at(5), "s1", None, Some(base));
        grouper.add("c", at(2), "s2", None, Some(base ^ 0b101)); // 2 bits apart: a near copy
        grouper.add("d", at(9), "s3", None, Some(base ^ 0xffff_0000_0000_0000)); // 16 bits apart
        grouper.add("e", at(7), "s4", Some(CampaignId(4)), Some(base ^ 0x00ff_ff00_0000_0000));
        grouper.add("a", at(8), "s5", Some(CampaignId(4)), None);
        grouper.add("z", at(1), "s6", None, None);
        grouper.add("b", at(1), "s9", None, None); // given twice: counted once
        let map = grouper.finish();
        let near = map.story("b").cloned().unwrap_or_default();
        assert_eq!(map.story("c"), Some(&near));
        assert_eq!((near.key.as_str(), near.first_seen), ("b", at(2)));
        assert_eq!(near.sources, ["s1", "s2"]);
        let campaign = map.story("a").cloned().unwrap_or_default();
        assert_eq!(map.story("e"), Some(&campaign), "campaign members are one story");
        assert_eq!((campaign.key.as_str(), campaign.first_seen), ("a", at(7)));
        assert_ne!(map.story("d"), Some(&near), "16 bits apart is another story");
        assert_eq!(map.story("z").map(|s| s.key.as_str()), Some("z"));
        assert_eq!(map.story("unknown"), None);
        assert_eq!(map.multi_item_stories(), 2);
    }
}
