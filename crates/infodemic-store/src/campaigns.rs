//! Campaigns in the store: their summaries, the grouping's state (profiles, term statistics,
//! counters), members and alerts.
//!
//! Trees: `campaigns` (id → summary), `campaign_profiles` (id → what the grouping compares
//! with; read only to resume grouping, so listing campaigns never decodes it),
//! `campaign_members` (id + position → member), `campaign_of` (member id → campaign),
//! `campaign_terms` (term → document frequency), `alerts` (sequence → alert), and the
//! counters in `meta`. [`commit`] writes one batch of assignments in one transaction: a run
//! stopped at any point resumes with state and members that agree.
//!
//! The trees are the store's ([`RecordTrees`]): sled's own, or PostgreSQL rows keyed by tree
//! and key. Records, keys and the reading of them are written here once, for both.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use infodemic_core::{
    Alert, Campaign, CampaignCounters, CampaignEvent, CampaignHead, CampaignId, CampaignMember, CampaignProfile,
    CampaignStatus, ScoreStats, Technique,
};
use serde::{Deserialize, Serialize};

use crate::records;
use crate::trees::{RecordTrees, TreeWrite};
use crate::{Result, SledStore, StoreError};

const COUNTERS_KEY: &[u8] = b"campaign_counters";
const CAMPAIGN_VERSION: u8 = 1;
const PROFILE_VERSION: u8 = 1;
const MEMBER_VERSION: u8 = 1;
const ALERT_VERSION: u8 = 1;
const COUNTERS_VERSION: u8 = 1;
const HEAD_VERSION: u8 = 1;
/// Terms a summary keeps for listings.
const LISTED_TERMS: usize = 12;

/// One batch of grouping results to write together.
#[derive(Clone, Debug, Default)]
pub struct CampaignCommit {
    /// The counters after the batch.
    pub counters: CampaignCounters,
    /// Campaigns created or changed (summary and profile).
    pub campaigns: Vec<Campaign>,
    /// Document frequencies that changed.
    pub terms: Vec<(String, u32)>,
    /// New members: the campaign, the member, and its position in the campaign (1-based).
    pub members: Vec<(CampaignId, u32, CampaignMember)>,
    /// Alerts raised.
    pub alerts: Vec<Alert>,
}

/// Everything the grouping needs to resume.
#[derive(Clone, Debug, Default)]
pub struct GroupingSnapshot {
    /// Counters.
    pub counters: CampaignCounters,
    /// Document frequency per term.
    pub terms: Vec<(String, u32)>,
    /// Every campaign, with its profile.
    pub campaigns: Vec<Campaign>,
}

#[derive(Serialize, Deserialize)]
struct StoredCountersV1 {
    docs: u64,
    next_id: u64,
    next_alert: u64,
}

#[derive(Serialize, Deserialize)]
struct StoredMemberV1 {
    id: String,
    url: String,
    text: String,
    time_us: Option<i64>,
    source: String,
    account: Option<String>,
    score: Option<f32>,
}

#[derive(Serialize, Deserialize)]
struct StoredTechniqueV1 {
    id: String,
    name: String,
    evidence: String,
}

#[derive(Serialize, Deserialize)]
enum StoredEventV1 {
    Opened { at_us: i64, item: String },
    Absorbed { at_us: i64, from: u64 },
    MergedInto { at_us: i64, into: u64 },
    Alert { at_us: i64, summary: String },
    Technique { at_us: i64, id: String },
}

#[derive(Serialize, Deserialize)]
struct StoredCampaignV1 {
    id: u64,
    merged_into: Option<u64>,
    representative: StoredMemberV1,
    representative_similarity: f32,
    first_seen_us: i64,
    last_seen_us: i64,
    size: u32,
    sources: BTreeMap<String, u32>,
    accounts: BTreeMap<String, u32>,
    languages: BTreeMap<String, u32>,
    hourly: BTreeMap<i64, u32>,
    fact_checks: BTreeMap<String, String>,
    score_count: u32,
    score_sum: f64,
    score_min: f32,
    score_max: f32,
    techniques: Vec<StoredTechniqueV1>,
    history: Vec<StoredEventV1>,
    /// The profile's strongest terms with their weights: listings show them without decoding
    /// the profile.
    top_terms: Vec<(String, f32)>,
}

#[derive(Serialize, Deserialize)]
struct StoredProfileV1 {
    terms: BTreeMap<String, f32>,
    norm_sq: f64,
    embedding: Vec<f32>,
    embedded: u32,
    simhashes: Vec<u64>,
    texts: Vec<u64>,
    repeats: u32,
    links: BTreeMap<String, u32>,
    surge: String,
}

#[derive(Serialize, Deserialize)]
struct StoredHeadV1 {
    id: u64,
    merged_into: Option<u64>,
    size: u32,
    first_seen_us: i64,
    last_seen_us: i64,
    recent: Vec<(i64, u32)>,
}

impl From<&CampaignHead> for StoredHeadV1 {
    fn from(h: &CampaignHead) -> Self {
        Self {
            id: h.id.0,
            merged_into: match h.status {
                CampaignStatus::Active => None,
                CampaignStatus::Merged { into } => Some(into.0),
            },
            size: h.size,
            first_seen_us: micros(h.first_seen),
            last_seen_us: micros(h.last_seen),
            recent: h.recent.iter().map(|(k, v)| (*k, *v)).collect(),
        }
    }
}

fn decode_head(bytes: &[u8]) -> Result<CampaignHead> {
    let stored: StoredHeadV1 = decode("campaign_heads", HEAD_VERSION, bytes)?;
    Ok(CampaignHead {
        id: CampaignId(stored.id),
        status: match stored.merged_into {
            None => CampaignStatus::Active,
            Some(into) => CampaignStatus::Merged { into: CampaignId(into) },
        },
        size: stored.size,
        first_seen: from_micros("campaign_heads", stored.first_seen_us)?,
        last_seen: from_micros("campaign_heads", stored.last_seen_us)?,
        recent: stored.recent.into_iter().collect(),
    })
}

#[derive(Serialize, Deserialize)]
struct StoredAlertV1 {
    seq: u64,
    campaign: u64,
    at_us: i64,
    kind: String,
    summary: String,
    size: u32,
}

fn corrupt(tree: &'static str, message: String) -> StoreError {
    StoreError::Corrupt { tree, message }
}

fn micros(time: DateTime<Utc>) -> i64 {
    time.timestamp_micros()
}

fn from_micros(tree: &'static str, us: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_micros(us).ok_or_else(|| corrupt(tree, format!("time out of range: {us}")))
}

impl From<&CampaignMember> for StoredMemberV1 {
    fn from(member: &CampaignMember) -> Self {
        Self {
            id: member.id.clone(),
            url: member.url.clone(),
            text: member.text.clone(),
            time_us: member.time.map(micros),
            source: member.source.clone(),
            account: member.account.clone(),
            score: member.score,
        }
    }
}

impl StoredMemberV1 {
    fn into_domain(self, tree: &'static str) -> Result<CampaignMember> {
        Ok(CampaignMember {
            id: self.id,
            url: self.url,
            text: self.text,
            time: self.time_us.map(|us| from_micros(tree, us)).transpose()?,
            source: self.source,
            account: self.account,
            score: self.score,
        })
    }
}

impl From<&CampaignEvent> for StoredEventV1 {
    fn from(event: &CampaignEvent) -> Self {
        match event {
            CampaignEvent::Opened { at, item } => Self::Opened { at_us: micros(*at), item: item.clone() },
            CampaignEvent::Absorbed { at, from } => Self::Absorbed { at_us: micros(*at), from: from.0 },
            CampaignEvent::MergedInto { at, into } => Self::MergedInto { at_us: micros(*at), into: into.0 },
            CampaignEvent::Alert { at, summary } => Self::Alert { at_us: micros(*at), summary: summary.clone() },
            CampaignEvent::Technique { at, id } => Self::Technique { at_us: micros(*at), id: id.clone() },
        }
    }
}

impl StoredEventV1 {
    fn into_domain(self) -> Result<CampaignEvent> {
        const TREE: &str = "campaigns";
        Ok(match self {
            Self::Opened { at_us, item } => CampaignEvent::Opened { at: from_micros(TREE, at_us)?, item },
            Self::Absorbed { at_us, from } => {
                CampaignEvent::Absorbed { at: from_micros(TREE, at_us)?, from: CampaignId(from) }
            }
            Self::MergedInto { at_us, into } => {
                CampaignEvent::MergedInto { at: from_micros(TREE, at_us)?, into: CampaignId(into) }
            }
            Self::Alert { at_us, summary } => CampaignEvent::Alert { at: from_micros(TREE, at_us)?, summary },
            Self::Technique { at_us, id } => CampaignEvent::Technique { at: from_micros(TREE, at_us)?, id },
        })
    }
}

impl From<&Campaign> for StoredCampaignV1 {
    fn from(c: &Campaign) -> Self {
        Self {
            id: c.id.0,
            merged_into: match c.status {
                CampaignStatus::Active => None,
                CampaignStatus::Merged { into } => Some(into.0),
            },
            representative: StoredMemberV1::from(&c.representative),
            representative_similarity: c.representative_similarity,
            first_seen_us: micros(c.first_seen),
            last_seen_us: micros(c.last_seen),
            size: c.size,
            sources: c.sources.clone(),
            accounts: c.accounts.clone(),
            languages: c.languages.clone(),
            hourly: c.hourly.clone(),
            fact_checks: c.fact_checks.clone(),
            score_count: c.scores.count,
            score_sum: c.scores.sum,
            score_min: c.scores.min,
            score_max: c.scores.max,
            techniques: c
                .techniques
                .iter()
                .map(|t| StoredTechniqueV1 { id: t.id.clone(), name: t.name.clone(), evidence: t.evidence.clone() })
                .collect(),
            history: c.history.iter().map(StoredEventV1::from).collect(),
            top_terms: {
                let mut terms: Vec<(String, f32)> = c.profile.terms.iter().map(|(t, w)| (t.clone(), *w)).collect();
                terms.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                terms.truncate(LISTED_TERMS);
                terms
            },
        }
    }
}

impl StoredCampaignV1 {
    fn into_domain(self, profile: CampaignProfile) -> Result<Campaign> {
        const TREE: &str = "campaigns";
        Ok(Campaign {
            id: CampaignId(self.id),
            status: match self.merged_into {
                None => CampaignStatus::Active,
                Some(into) => CampaignStatus::Merged { into: CampaignId(into) },
            },
            representative: self.representative.into_domain(TREE)?,
            representative_similarity: self.representative_similarity,
            first_seen: from_micros(TREE, self.first_seen_us)?,
            last_seen: from_micros(TREE, self.last_seen_us)?,
            size: self.size,
            sources: self.sources,
            accounts: self.accounts,
            languages: self.languages,
            hourly: self.hourly,
            fact_checks: self.fact_checks,
            scores: ScoreStats {
                count: self.score_count,
                sum: self.score_sum,
                min: self.score_min,
                max: self.score_max,
            },
            techniques: self
                .techniques
                .into_iter()
                .map(|t| Technique { id: t.id, name: t.name, evidence: t.evidence })
                .collect(),
            history: self.history.into_iter().map(StoredEventV1::into_domain).collect::<Result<_>>()?,
            profile,
        })
    }
}

impl From<&CampaignProfile> for StoredProfileV1 {
    fn from(p: &CampaignProfile) -> Self {
        Self {
            terms: p.terms.clone(),
            norm_sq: p.norm_sq,
            embedding: p.embedding.clone(),
            embedded: p.embedded,
            simhashes: p.simhashes.clone(),
            texts: p.texts.clone(),
            repeats: p.repeats,
            links: p.links.clone(),
            surge: p.surge.clone(),
        }
    }
}

impl From<StoredProfileV1> for CampaignProfile {
    fn from(p: StoredProfileV1) -> Self {
        Self {
            terms: p.terms,
            norm_sq: p.norm_sq,
            embedding: p.embedding,
            embedded: p.embedded,
            simhashes: p.simhashes,
            texts: p.texts,
            repeats: p.repeats,
            links: p.links,
            surge: p.surge,
        }
    }
}

fn decode<T: serde::de::DeserializeOwned>(tree: &'static str, expected: u8, bytes: &[u8]) -> Result<T> {
    match bytes.split_first() {
        Some((version, payload)) if *version == expected => {
            postcard::from_bytes(payload).map_err(|e| corrupt(tree, e.to_string()))
        }
        Some((version, _)) => Err(corrupt(tree, format!("unknown record version {version}"))),
        None => Err(corrupt(tree, "empty record".to_owned())),
    }
}

fn decode_campaign(summary: &[u8], profile: Option<&[u8]>) -> Result<Campaign> {
    let stored: StoredCampaignV1 = decode("campaigns", CAMPAIGN_VERSION, summary)?;
    let profile = match profile {
        Some(bytes) => decode::<StoredProfileV1>("campaign_profiles", PROFILE_VERSION, bytes)?.into(),
        // A listing: only the strongest terms, enough for `Campaign::top_terms`.
        None => CampaignProfile { terms: stored.top_terms.iter().cloned().collect(), ..CampaignProfile::default() },
    };
    stored.into_domain(profile)
}

fn decode_alert(bytes: &[u8]) -> Result<Alert> {
    let stored: StoredAlertV1 = decode("alerts", ALERT_VERSION, bytes)?;
    Ok(Alert {
        seq: stored.seq,
        campaign: CampaignId(stored.campaign),
        at: from_micros("alerts", stored.at_us)?,
        kind: stored.kind,
        summary: stored.summary,
        size: stored.size,
    })
}

fn member_key(campaign: CampaignId, position: u32) -> [u8; 12] {
    let mut key = [0u8; 12];
    key[..8].copy_from_slice(&campaign.0.to_be_bytes());
    key[8..].copy_from_slice(&position.to_be_bytes());
    key
}

fn campaign_from_key(tree: &'static str, bytes: &[u8]) -> Result<CampaignId> {
    let array: [u8; 8] =
        bytes.get(..8).and_then(|b| b.try_into().ok()).ok_or_else(|| corrupt(tree, "short campaign key".to_owned()))?;
    Ok(CampaignId(u64::from_be_bytes(array)))
}

/// The trees campaign records live in: summaries, profiles, members, member index, term
/// frequencies, alerts, the counters (in `meta`), heads.
pub const CAMPAIGN_TREES: [&str; 8] = [
    "campaigns",
    "campaign_profiles",
    "campaign_members",
    "campaign_of",
    "campaign_terms",
    "alerts",
    "meta",
    "campaign_heads",
];

const CAMPAIGNS: usize = 0;
const PROFILES: usize = 1;
const MEMBERS: usize = 2;
const MEMBER_INDEX: usize = 3;
const TERMS: usize = 4;
const ALERTS: usize = 5;
const META: usize = 6;
const HEADS: usize = 7;

fn write(tree: usize, key: &[u8], value: Vec<u8>) -> TreeWrite {
    TreeWrite::put(CAMPAIGN_TREES[tree], key, value)
}

/// The records of one batch of grouping results.
pub fn commit_writes(commit: &CampaignCommit) -> Vec<TreeWrite> {
    let mut writes = Vec::new();
    for c in &commit.campaigns {
        let key = c.id.0.to_be_bytes();
        writes.push(write(CAMPAIGNS, &key, records::encode(CAMPAIGN_VERSION, &StoredCampaignV1::from(c))));
        writes.push(write(PROFILES, &key, records::encode(PROFILE_VERSION, &StoredProfileV1::from(&c.profile))));
        writes.push(write(HEADS, &key, records::encode(HEAD_VERSION, &StoredHeadV1::from(&CampaignHead::of(c)))));
    }
    for (campaign, position, member) in &commit.members {
        let record = records::encode(MEMBER_VERSION, &StoredMemberV1::from(member));
        writes.push(write(MEMBERS, &member_key(*campaign, *position), record));
        writes.push(write(MEMBER_INDEX, member.id.as_bytes(), campaign.0.to_be_bytes().to_vec()));
    }
    for (term, df) in &commit.terms {
        writes.push(write(TERMS, term.as_bytes(), df.to_be_bytes().to_vec()));
    }
    for a in &commit.alerts {
        let stored = StoredAlertV1 {
            seq: a.seq,
            campaign: a.campaign.0,
            at_us: micros(a.at),
            kind: a.kind.clone(),
            summary: a.summary.clone(),
            size: a.size,
        };
        writes.push(write(ALERTS, &a.seq.to_be_bytes(), records::encode(ALERT_VERSION, &stored)));
    }
    let counters = StoredCountersV1 {
        docs: commit.counters.docs,
        next_id: commit.counters.next_id,
        next_alert: commit.counters.next_alert,
    };
    writes.push(write(META, COUNTERS_KEY, records::encode(COUNTERS_VERSION, &counters)));
    writes
}

/// Writes one batch of grouping results in one transaction.
///
/// # Errors
/// Storage failures.
pub fn commit<T: RecordTrees + ?Sized>(trees: &T, commit: &CampaignCommit) -> Result<()> {
    trees.write_records(&commit_writes(commit))
}

/// The counters (zero for a store that never grouped).
///
/// # Errors
/// Storage or decoding failures.
pub fn counters<T: RecordTrees + ?Sized>(trees: &T) -> Result<CampaignCounters> {
    match trees.get_record(CAMPAIGN_TREES[META], COUNTERS_KEY)? {
        None => Ok(CampaignCounters { docs: 0, next_id: 1, next_alert: 1 }),
        Some(bytes) => {
            let stored: StoredCountersV1 = decode("meta", COUNTERS_VERSION, &bytes)?;
            Ok(CampaignCounters { docs: stored.docs, next_id: stored.next_id, next_alert: stored.next_alert })
        }
    }
}

/// Everything the grouping needs to resume.
///
/// # Errors
/// Storage or decoding failures.
pub fn snapshot<T: RecordTrees + ?Sized>(trees: &T) -> Result<GroupingSnapshot> {
    let mut snapshot = GroupingSnapshot { counters: counters(trees)?, ..GroupingSnapshot::default() };
    for (term, df) in trees.scan_records(CAMPAIGN_TREES[TERMS], &[], None)? {
        let array: [u8; 4] =
            df.as_slice().try_into().map_err(|_| corrupt("campaign_terms", "frequency is not 4 bytes".into()))?;
        let term = String::from_utf8(term).map_err(|e| corrupt("campaign_terms", e.to_string()))?;
        snapshot.terms.push((term, u32::from_be_bytes(array)));
    }
    let profiles: BTreeMap<Vec<u8>, Vec<u8>> =
        trees.scan_records(CAMPAIGN_TREES[PROFILES], &[], None)?.into_iter().collect();
    for (key, summary) in trees.scan_records(CAMPAIGN_TREES[CAMPAIGNS], &[], None)? {
        snapshot.campaigns.push(decode_campaign(&summary, profiles.get(&key).map(Vec::as_slice))?);
    }
    Ok(snapshot)
}

/// Every campaign's summary (without the grouping's profile), by id.
///
/// # Errors
/// Storage or decoding failures.
pub fn campaigns<T: RecordTrees + ?Sized>(trees: &T) -> Result<Vec<Campaign>> {
    trees
        .scan_records(CAMPAIGN_TREES[CAMPAIGNS], &[], None)?
        .iter()
        .map(|(_, bytes)| decode_campaign(bytes, None))
        .collect()
}

/// Every campaign's head (what listing and ranking need), by id: much cheaper than
/// [`campaigns`] when there are thousands.
///
/// # Errors
/// Storage or decoding failures.
pub fn heads<T: RecordTrees + ?Sized>(trees: &T) -> Result<Vec<CampaignHead>> {
    // A store grouped before heads were kept has none: they come from the summaries.
    if trees.count_records(CAMPAIGN_TREES[HEADS])? < trees.count_records(CAMPAIGN_TREES[CAMPAIGNS])? {
        return Ok(campaigns(trees)?.iter().map(CampaignHead::of).collect());
    }
    trees.scan_records(CAMPAIGN_TREES[HEADS], &[], None)?.iter().map(|(_, bytes)| decode_head(bytes)).collect()
}

/// One campaign's summary.
///
/// # Errors
/// Storage or decoding failures.
pub fn campaign<T: RecordTrees + ?Sized>(trees: &T, id: CampaignId) -> Result<Option<Campaign>> {
    trees
        .get_record(CAMPAIGN_TREES[CAMPAIGNS], &id.0.to_be_bytes())?
        .map(|bytes| decode_campaign(&bytes, None))
        .transpose()
}

/// A campaign's members in the order they joined, at most `limit` (all when `None`).
///
/// # Errors
/// Storage or decoding failures.
///
/// A campaign that absorbed others lists their members too, after its own (merges are
/// recorded as `Absorbed` events; the members stay under the id they joined).
pub fn members<T: RecordTrees + ?Sized>(
    trees: &T,
    id: CampaignId,
    limit: Option<usize>,
) -> Result<Vec<CampaignMember>> {
    let limit = limit.unwrap_or(usize::MAX);
    let mut found = Vec::new();
    let mut pending = vec![id];
    let mut visited = std::collections::BTreeSet::new();
    while let Some(current) = pending.pop() {
        // Bounded: each campaign is visited once.
        if !visited.insert(current) {
            continue;
        }
        let wanted = limit.saturating_sub(found.len());
        if wanted == 0 {
            return Ok(found);
        }
        for (_, bytes) in trees.scan_records(CAMPAIGN_TREES[MEMBERS], &current.0.to_be_bytes(), Some(wanted))? {
            found.push(
                decode::<StoredMemberV1>("campaign_members", MEMBER_VERSION, &bytes)?
                    .into_domain("campaign_members")?,
            );
        }
        if let Some(campaign) = campaign(trees, current)? {
            let mut absorbed: Vec<CampaignId> = campaign
                .history
                .iter()
                .filter_map(|event| match event {
                    CampaignEvent::Absorbed { from, .. } => Some(*from),
                    _ => None,
                })
                .collect();
            // Popped from the end: the earliest absorbed campaign is listed first.
            absorbed.reverse();
            pending.extend(absorbed);
        }
    }
    Ok(found)
}

/// The campaign an item (or replayed input) was assigned to, if any.
///
/// # Errors
/// Storage or decoding failures.
pub fn campaign_of<T: RecordTrees + ?Sized>(trees: &T, member_id: &str) -> Result<Option<CampaignId>> {
    trees
        .get_record(CAMPAIGN_TREES[MEMBER_INDEX], member_id.as_bytes())?
        .map(|bytes| campaign_from_key("campaign_of", &bytes))
        .transpose()
}

/// Every alert, oldest first.
///
/// # Errors
/// Storage or decoding failures.
pub fn alerts<T: RecordTrees + ?Sized>(trees: &T) -> Result<Vec<Alert>> {
    trees.scan_records(CAMPAIGN_TREES[ALERTS], &[], None)?.iter().map(|(_, bytes)| decode_alert(bytes)).collect()
}

/// Copies every campaign record of `source` into `target` (of `meta`, the counters alone), as
/// stored, `page` entries per transaction, the counters last. A copy that stopped half-way is
/// finished by running it again (it writes the same records again); nothing may group into the
/// target before that. Returns the campaigns copied.
///
/// # Errors
/// Storage failures of either side; pages written before stay.
pub fn copy<S: RecordTrees + ?Sized, T: RecordTrees + ?Sized>(source: &S, target: &T, page: usize) -> Result<usize> {
    // A target whose grouping has moved on since an earlier copy holds campaigns the source
    // does not: copying again would put the source's older state over them.
    let source_counters = source.get_record(CAMPAIGN_TREES[META], COUNTERS_KEY)?;
    if let Some(target_counters) = target.get_record(CAMPAIGN_TREES[META], COUNTERS_KEY)? {
        if Some(&target_counters) != source_counters.as_ref() {
            return Err(StoreError::NotTheWriter(
                "the target has grouped campaigns of its own since they were copied; copying them again would \
                 overwrite those"
                    .to_owned(),
            ));
        }
    }
    let mut writes = Vec::new();
    for (_, name) in CAMPAIGN_TREES.iter().enumerate().filter(|(tree, _)| *tree != META) {
        for (key, value) in source.scan_records(name, &[], None)? {
            writes.push(TreeWrite::put(name, &key, value));
            if writes.len() >= page.max(1) {
                target.write_records(&std::mem::take(&mut writes))?;
            }
        }
    }
    if let Some(value) = source_counters {
        writes.push(TreeWrite::put(CAMPAIGN_TREES[META], COUNTERS_KEY, value));
    }
    target.write_records(&writes)?;
    source.count_records(CAMPAIGN_TREES[CAMPAIGNS])
}

impl SledStore {
    /// Writes one batch of grouping results in one transaction.
    ///
    /// # Errors
    /// Storage failures.
    pub fn commit_campaigns(&self, batch: &CampaignCommit) -> Result<()> {
        commit(self, batch)
    }

    /// The counters (zero for a store that never grouped).
    ///
    /// # Errors
    /// Storage or decoding failures.
    pub fn campaign_counters(&self) -> Result<CampaignCounters> {
        counters(self)
    }

    /// Everything the grouping needs to resume.
    ///
    /// # Errors
    /// Storage or decoding failures.
    pub fn grouping_snapshot(&self) -> Result<GroupingSnapshot> {
        snapshot(self)
    }

    /// Every campaign's summary (without the grouping's profile), by id.
    ///
    /// # Errors
    /// Storage or decoding failures.
    pub fn campaigns(&self) -> Result<Vec<Campaign>> {
        campaigns(self)
    }

    /// Every campaign's head, by id (see [`heads`]).
    ///
    /// # Errors
    /// Storage or decoding failures.
    pub fn campaign_heads(&self) -> Result<Vec<CampaignHead>> {
        heads(self)
    }

    /// One campaign's summary.
    ///
    /// # Errors
    /// Storage or decoding failures.
    pub fn campaign(&self, id: CampaignId) -> Result<Option<Campaign>> {
        campaign(self, id)
    }

    /// A campaign's members in the order they joined, at most `limit` (see [`members`]).
    ///
    /// # Errors
    /// Storage or decoding failures.
    pub fn campaign_members(&self, id: CampaignId, limit: Option<usize>) -> Result<Vec<CampaignMember>> {
        members(self, id, limit)
    }

    /// The campaign an item (or replayed input) was assigned to, if any.
    ///
    /// # Errors
    /// Storage or decoding failures.
    pub fn campaign_of(&self, member_id: &str) -> Result<Option<CampaignId>> {
        campaign_of(self, member_id)
    }

    /// Every alert, oldest first.
    ///
    /// # Errors
    /// Storage or decoding failures.
    pub fn alerts(&self) -> Result<Vec<Alert>> {
        alerts(self)
    }
}
