//! Campaigns in the store: their summaries, the grouping's state (profiles, term statistics,
//! counters), members and alerts.
//!
//! Trees: `campaigns` (id → summary), `campaign_profiles` (id → what the grouping compares
//! with; read only to resume grouping, so listing campaigns never decodes it),
//! `campaign_members` (id + position → member), `campaign_of` (member id → campaign),
//! `campaign_terms` (term → document frequency), `alerts` (sequence → alert), and the
//! counters in `meta`. [`SledStore::commit_campaigns`] writes one batch of assignments in one
//! transaction: a run stopped at any point resumes with state and members that agree.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use infodemic_core::{
    Alert, Campaign, CampaignCounters, CampaignEvent, CampaignHead, CampaignId, CampaignMember, CampaignProfile,
    CampaignStatus, ScoreStats, Technique,
};
use serde::{Deserialize, Serialize};
use sled::transaction::ConflictableTransactionError;
use sled::Transactional;

use crate::records;
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

/// A campaign's key, summary, profile and head, encoded before the transaction.
type EncodedCampaign = ([u8; 8], Vec<u8>, Vec<u8>, Vec<u8>);

/// A member's key, record, id and campaign key, encoded before the transaction.
type EncodedMember = ([u8; 12], Vec<u8>, Vec<u8>, [u8; 8]);

impl SledStore {
    fn campaign_trees(&self) -> Result<[sled::Tree; 6]> {
        Ok([
            self.tree("campaigns")?,
            self.tree("campaign_profiles")?,
            self.tree("campaign_members")?,
            self.tree("campaign_of")?,
            self.tree("campaign_terms")?,
            self.tree("alerts")?,
        ])
    }

    /// Writes one batch of grouping results in one transaction.
    ///
    /// # Errors
    /// Storage failures.
    pub fn commit_campaigns(&self, commit: &CampaignCommit) -> Result<()> {
        let [campaigns, profiles, members, member_index, terms, alerts] = self.campaign_trees()?;
        let meta = self.tree("meta")?;
        let heads = self.tree("campaign_heads")?;
        let encoded_campaigns: Vec<EncodedCampaign> = commit
            .campaigns
            .iter()
            .map(|c| {
                (
                    c.id.0.to_be_bytes(),
                    records::encode(CAMPAIGN_VERSION, &StoredCampaignV1::from(c)),
                    records::encode(PROFILE_VERSION, &StoredProfileV1::from(&c.profile)),
                    records::encode(HEAD_VERSION, &StoredHeadV1::from(&CampaignHead::of(c))),
                )
            })
            .collect();
        let encoded_members: Vec<EncodedMember> = commit
            .members
            .iter()
            .map(|(campaign, position, member)| {
                (
                    member_key(*campaign, *position),
                    records::encode(MEMBER_VERSION, &StoredMemberV1::from(member)),
                    member.id.as_bytes().to_vec(),
                    campaign.0.to_be_bytes(),
                )
            })
            .collect();
        let encoded_alerts: Vec<([u8; 8], Vec<u8>)> = commit
            .alerts
            .iter()
            .map(|a| {
                let stored = StoredAlertV1 {
                    seq: a.seq,
                    campaign: a.campaign.0,
                    at_us: micros(a.at),
                    kind: a.kind.clone(),
                    summary: a.summary.clone(),
                    size: a.size,
                };
                (a.seq.to_be_bytes(), records::encode(ALERT_VERSION, &stored))
            })
            .collect();
        let counters = records::encode(
            COUNTERS_VERSION,
            &StoredCountersV1 {
                docs: commit.counters.docs,
                next_id: commit.counters.next_id,
                next_alert: commit.counters.next_alert,
            },
        );
        [&campaigns, &profiles, &members, &member_index, &terms, &alerts, &meta, &heads]
            .transaction(|trees| {
                for (key, summary, profile, head) in &encoded_campaigns {
                    trees[0].insert(&key[..], summary.as_slice())?;
                    trees[1].insert(&key[..], profile.as_slice())?;
                    trees[7].insert(&key[..], head.as_slice())?;
                }
                for (key, member, id, campaign) in &encoded_members {
                    trees[2].insert(&key[..], member.as_slice())?;
                    trees[3].insert(id.as_slice(), &campaign[..])?;
                }
                for (term, df) in &commit.terms {
                    trees[4].insert(term.as_bytes(), &df.to_be_bytes()[..])?;
                }
                for (key, alert) in &encoded_alerts {
                    trees[5].insert(&key[..], alert.as_slice())?;
                }
                trees[6].insert(COUNTERS_KEY, counters.as_slice())?;
                Ok::<_, ConflictableTransactionError<StoreError>>(())
            })
            .map_err(StoreError::from)?;
        Ok(())
    }

    /// The counters (zero for a store that never grouped).
    ///
    /// # Errors
    /// Storage or decoding failures.
    pub fn campaign_counters(&self) -> Result<CampaignCounters> {
        match self.tree("meta")?.get(COUNTERS_KEY)? {
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
    pub fn grouping_snapshot(&self) -> Result<GroupingSnapshot> {
        let [campaigns, profiles, _, _, terms, _] = self.campaign_trees()?;
        let mut snapshot = GroupingSnapshot { counters: self.campaign_counters()?, ..GroupingSnapshot::default() };
        for entry in terms.iter() {
            let (term, df) = entry?;
            let array: [u8; 4] =
                df.as_ref().try_into().map_err(|_| corrupt("campaign_terms", "frequency is not 4 bytes".into()))?;
            let term = String::from_utf8(term.to_vec()).map_err(|e| corrupt("campaign_terms", e.to_string()))?;
            snapshot.terms.push((term, u32::from_be_bytes(array)));
        }
        for entry in campaigns.iter() {
            let (key, summary) = entry?;
            let profile = profiles.get(&key)?;
            snapshot.campaigns.push(decode_campaign(&summary, profile.as_deref())?);
        }
        Ok(snapshot)
    }

    /// Every campaign's summary (without the grouping's profile), by id.
    ///
    /// # Errors
    /// Storage or decoding failures.
    pub fn campaigns(&self) -> Result<Vec<Campaign>> {
        let campaigns = self.tree("campaigns")?;
        campaigns.iter().map(|entry| decode_campaign(&entry?.1, None)).collect()
    }

    /// Every campaign's head (what listing and ranking need), by id: much cheaper than
    /// [`SledStore::campaigns`] when there are thousands.
    ///
    /// # Errors
    /// Storage or decoding failures.
    pub fn campaign_heads(&self) -> Result<Vec<CampaignHead>> {
        let heads = self.tree("campaign_heads")?;
        let campaigns = self.tree("campaigns")?;
        // A store grouped before heads were kept has none: they come from the summaries.
        if heads.len() < campaigns.len() {
            return Ok(self.campaigns()?.iter().map(CampaignHead::of).collect());
        }
        heads.iter().map(|entry| decode_head(&entry?.1)).collect()
    }

    /// One campaign's summary.
    ///
    /// # Errors
    /// Storage or decoding failures.
    pub fn campaign(&self, id: CampaignId) -> Result<Option<Campaign>> {
        self.tree("campaigns")?.get(id.0.to_be_bytes())?.map(|bytes| decode_campaign(&bytes, None)).transpose()
    }

    /// A campaign's members in the order they joined, at most `limit` (all when `None`).
    ///
    /// # Errors
    /// Storage or decoding failures.
    ///
    /// A campaign that absorbed others lists their members too, after its own (merges are
    /// recorded as `Absorbed` events; the members stay under the id they joined).
    pub fn campaign_members(&self, id: CampaignId, limit: Option<usize>) -> Result<Vec<CampaignMember>> {
        let members = self.tree("campaign_members")?;
        let limit = limit.unwrap_or(usize::MAX);
        let mut found = Vec::new();
        let mut pending = vec![id];
        let mut visited = std::collections::BTreeSet::new();
        while let Some(current) = pending.pop() {
            // Bounded: each campaign is visited once.
            if !visited.insert(current) {
                continue;
            }
            for entry in members.scan_prefix(current.0.to_be_bytes()) {
                if found.len() >= limit {
                    return Ok(found);
                }
                let (_, bytes) = entry?;
                found.push(
                    decode::<StoredMemberV1>("campaign_members", MEMBER_VERSION, &bytes)?
                        .into_domain("campaign_members")?,
                );
            }
            if let Some(campaign) = self.campaign(current)? {
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
    pub fn campaign_of(&self, member_id: &str) -> Result<Option<CampaignId>> {
        self.tree("campaign_of")?
            .get(member_id.as_bytes())?
            .map(|bytes| campaign_from_key("campaign_of", &bytes))
            .transpose()
    }

    /// Every alert, oldest first.
    ///
    /// # Errors
    /// Storage or decoding failures.
    pub fn alerts(&self) -> Result<Vec<Alert>> {
        self.tree("alerts")?.iter().map(|entry| decode_alert(&entry?.1)).collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn member(id: &str) -> CampaignMember {
        CampaignMember {
            id: id.to_owned(),
            url: format!("https://example.org/{id}"),
            text: "bleach cures covid".to_owned(),
            time: DateTime::from_timestamp(1_700_000_000, 0),
            source: "blog".to_owned(),
            account: Some("@a".to_owned()),
            score: Some(0.9),
        }
    }

    fn campaign(id: u64) -> Campaign {
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        Campaign {
            id: CampaignId(id),
            status: CampaignStatus::Active,
            representative: member("a"),
            representative_similarity: 0.5,
            first_seen: at,
            last_seen: at,
            size: 1,
            sources: [("blog".to_owned(), 1)].into(),
            accounts: BTreeMap::new(),
            languages: BTreeMap::new(),
            hourly: [(472_222, 1)].into(),
            fact_checks: BTreeMap::new(),
            scores: ScoreStats::default(),
            techniques: vec![Technique {
                id: "T0084.001".into(),
                name: "Copypasta".into(),
                evidence: "3 copies".into(),
            }],
            history: vec![CampaignEvent::Opened { at, item: "a".into() }],
            profile: CampaignProfile {
                terms: [("bleach".to_owned(), 0.7f32)].into(),
                norm_sq: 0.49,
                texts: vec![7],
                surge: "{}".into(),
                ..CampaignProfile::default()
            },
        }
    }

    #[test]
    fn a_commit_round_trips_and_listing_skips_profiles() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = SledStore::open(dir.path()).unwrap();
        assert_eq!(store.campaign_counters().unwrap().next_id, 1);
        let alert = Alert {
            seq: 1,
            campaign: CampaignId(3),
            at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            kind: "opening".into(),
            summary: "opened with 5 items in 2 h".into(),
            size: 5,
        };
        let commit = CampaignCommit {
            counters: CampaignCounters { docs: 2, next_id: 4, next_alert: 2 },
            campaigns: vec![campaign(3)],
            terms: vec![("bleach".into(), 2)],
            members: vec![(CampaignId(3), 1, member("a")), (CampaignId(3), 2, member("b"))],
            alerts: vec![alert.clone()],
        };
        store.commit_campaigns(&commit).unwrap();
        let snapshot = store.grouping_snapshot().unwrap();
        assert_eq!(snapshot.counters, commit.counters);
        assert_eq!(snapshot.terms, commit.terms);
        assert_eq!(snapshot.campaigns, vec![campaign(3)]);
        assert_eq!(store.campaign_heads().unwrap(), vec![CampaignHead::of(&campaign(3))]);
        let listed = store.campaigns().unwrap();
        assert_eq!(listed[0].profile.terms, campaign(3).profile.terms, "the strongest terms come with a listing");
        assert!(listed[0].profile.texts.is_empty(), "the rest of the profile does not");
        assert_eq!(listed[0].techniques, campaign(3).techniques);
        assert_eq!(store.campaign_members(CampaignId(3), None).unwrap(), vec![member("a"), member("b")]);
        assert_eq!(store.campaign_members(CampaignId(3), Some(1)).unwrap().len(), 1);
        assert_eq!(store.campaign_of("b").unwrap(), Some(CampaignId(3)));
        assert_eq!(store.campaign_of("zz").unwrap(), None);
        assert_eq!(store.alerts().unwrap(), vec![alert]);
        assert!(store.campaign(CampaignId(9)).unwrap().is_none());
    }

    #[test]
    fn a_campaign_lists_the_members_of_the_campaigns_it_absorbed() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = SledStore::open(dir.path()).unwrap();
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let mut kept = campaign(3);
        kept.history.push(CampaignEvent::Absorbed { at, from: CampaignId(4) });
        let mut gone = campaign(4);
        gone.status = CampaignStatus::Merged { into: CampaignId(3) };
        let commit = CampaignCommit {
            campaigns: vec![kept, gone],
            members: vec![
                (CampaignId(3), 1, member("a")),
                (CampaignId(4), 1, member("b")),
                (CampaignId(3), 3, member("c")),
            ],
            ..CampaignCommit::default()
        };
        store.commit_campaigns(&commit).unwrap();
        let ids: Vec<String> = store.campaign_members(CampaignId(3), None).unwrap().into_iter().map(|m| m.id).collect();
        assert_eq!(ids, ["a", "c", "b"]);
        assert_eq!(store.campaign_members(CampaignId(3), Some(2)).unwrap().len(), 2);
        assert_eq!(store.campaign_members(CampaignId(4), None).unwrap().len(), 1);
    }
}
