//! Incremental, deterministic assignment of items to campaigns (single-pass clustering).
//!
//! Each item is compared with the campaigns that share a term with it (an inverted index, so
//! the cost follows the item's words, not the number of campaigns): the similarity is the
//! cosine between the item's TF-IDF vector and the campaign's centre, raised by a word-for-word
//! repeat, a near-duplicate fingerprint or a shared link, and lowered by the time between the
//! item and the campaign's last item. The item joins the most similar campaign at or above the
//! threshold, or opens a new one with the next id.
//!
//! Determinism: everything depends on the items and their order only. Document frequencies
//! grow as items arrive (nothing is fitted ahead), ties go to the older campaign, and every
//! number that is kept is kept exactly, so a run cut into chunks with the state saved and
//! restored in between gives the ids one run gives.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use infodemic_core::{simhash, Campaign, CampaignEvent, CampaignId, CampaignMember, CampaignProfile, CampaignStatus};
use serde::{Deserialize, Serialize};

use crate::terms::term_counts;

/// Fingerprints kept per campaign for near-duplicate matches (the most recent ones).
const MAX_SIMHASHES: usize = 64;
/// Text hashes kept per campaign for word-for-word repeats.
const MAX_TEXT_HASHES: usize = 512;
/// Links kept per campaign.
const MAX_LINKS: usize = 256;
/// Terms kept in a campaign's centre: the weakest are pruned past this (deterministically),
/// so a campaign of thousands of items stays a bounded record.
const MAX_PROFILE_TERMS: usize = 600;
/// A fingerprint match counts as a copy only with at least this lexical cosine: among
/// thousands of candidates, unrelated texts land within the fingerprint distance more often
/// than SimHash's independence assumption says (measured by `benches/src/bin/planted_campaigns.rs`).
const NEAR_DUPLICATE_MIN_LEXICAL: f64 = 0.2;
/// Terms in more than this share of the documents bring no candidates (unless the item has no
/// rarer term)...
const COMMON_TERM_SHARE: f64 = 0.03;
/// ...nor more than this many documents, whichever is larger.
const COMMON_TERM_MIN_DOCS: f64 = 50.0;
/// Candidate terms of an item all of whose terms are common: its rarest ones.
const FALLBACK_CANDIDATE_TERMS: usize = 2;
/// Characters of an item's text kept in a member record.
const MEMBER_TEXT_CHARS: usize = 280;

/// The knobs of the assignment. Defaults are the values fitted on the dev half of the COVID
/// story-clustering set (`campaigns/RESULTS.md`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupingConfig {
    /// Join the best campaign at or above this similarity.
    pub threshold: f32,
    /// No time penalty within this many days of a campaign's items.
    pub time_window_days: f32,
    /// Past the window, similarity decays by e every this many days.
    pub time_decay_days: f32,
    /// Similarity an item at least gets with a campaign holding a near-duplicate of it.
    pub near_duplicate_similarity: f32,
    /// Added to the similarity per link the item shares with the campaign (at most twice).
    pub shared_link_bonus: f32,
    /// Weight of the embedding cosine when both sides have embeddings (the lexical cosine
    /// gets the rest).
    pub embedding_weight: f32,
    /// Candidate campaigns come from the item's rarest terms, at most this many.
    pub candidate_terms: usize,
    /// When an item is similar enough to join two campaigns whose centres are at least this
    /// similar (cosine), the younger campaign is merged into the older; above 1, never.
    pub merge_threshold: f32,
}

impl Default for GroupingConfig {
    fn default() -> Self {
        Self {
            threshold: 0.35,
            time_window_days: 14.0,
            time_decay_days: 60.0,
            near_duplicate_similarity: 0.9,
            shared_link_bonus: 0.15,
            embedding_weight: 0.0,
            candidate_terms: 12,
            merge_threshold: 0.6,
        }
    }
}

/// One item to assign. Borrowed: the grouper copies what it keeps.
#[derive(Clone, Debug)]
pub struct GroupingInput<'a> {
    /// The item's id (an `ItemId` for crawled items, the input's id for replays).
    pub id: &'a str,
    /// Its URL.
    pub url: &'a str,
    /// The text compared (title and body).
    pub text: &'a str,
    /// Publication time, if known.
    pub time: Option<DateTime<Utc>>,
    /// When it was seen: the time used when `time` is missing (history, alerts).
    pub seen_at: DateTime<Utc>,
    /// Where it came from.
    pub source: &'a str,
    /// The posting account, where known.
    pub account: Option<&'a str>,
    /// Detected language.
    pub language: Option<&'a str>,
    /// Links it shares.
    pub links: &'a [String],
    /// Its near-duplicate fingerprint.
    pub simhash: Option<u64>,
    /// Its sentence embedding (L2-normalised), when scored.
    pub embedding: Option<&'a [f32]>,
    /// The model's score, when scored.
    pub score: Option<f32>,
    /// A fact-check it matched: claim id and the fact-check's URL or claim text.
    pub fact_check: Option<(&'a str, &'a str)>,
}

/// Where an item went.
#[derive(Clone, Debug, PartialEq)]
pub struct Assignment {
    /// The campaign.
    pub campaign: CampaignId,
    /// True when the item opened it.
    pub opened: bool,
    /// Similarity to the campaign it joined (1 for an opener).
    pub similarity: f32,
    /// True when the item repeats a member word for word or nearly (a copy).
    pub repeat: bool,
    /// Campaigns the item's arrival merged into `campaign` (retired ids).
    pub merged: Vec<CampaignId>,
}

/// The grouper's global state besides the campaigns: what a store keeps to resume.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GrouperState {
    /// Items assigned so far.
    pub docs: u64,
    /// The next id to mint.
    pub next_id: u64,
}

/// What changed since the last [`Grouper::take_changes`]: what a store writes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GroupingChanges {
    /// The global state now.
    pub state: GrouperState,
    /// Campaigns created or changed, in id order.
    pub campaigns: Vec<Campaign>,
    /// Document frequencies that changed.
    pub document_frequencies: Vec<(String, u32)>,
}

/// The assignment state machine. Build it empty, or from a store with [`Grouper::restore`].
#[derive(Debug)]
pub struct Grouper {
    config: GroupingConfig,
    state: GrouperState,
    document_frequency: HashMap<String, u32>,
    campaigns: BTreeMap<CampaignId, Campaign>,
    postings: HashMap<String, BTreeSet<CampaignId>>,
    text_index: HashMap<u64, BTreeSet<CampaignId>>,
    dirty_campaigns: BTreeSet<CampaignId>,
    dirty_terms: BTreeSet<String>,
}

impl Grouper {
    /// An empty grouper.
    pub fn new(config: GroupingConfig) -> Self {
        Self {
            config,
            state: GrouperState { docs: 0, next_id: 1 },
            document_frequency: HashMap::new(),
            campaigns: BTreeMap::new(),
            postings: HashMap::new(),
            text_index: HashMap::new(),
            dirty_campaigns: BTreeSet::new(),
            dirty_terms: BTreeSet::new(),
        }
    }

    /// A grouper that continues from saved state: the global counters, the document
    /// frequencies and the campaigns (merged ones too, so their ids keep resolving).
    pub fn restore(
        config: GroupingConfig,
        state: GrouperState,
        document_frequencies: impl IntoIterator<Item = (String, u32)>,
        campaigns: impl IntoIterator<Item = Campaign>,
    ) -> Self {
        let mut grouper = Self::new(config);
        grouper.state = GrouperState { docs: state.docs, next_id: state.next_id.max(1) };
        grouper.document_frequency = document_frequencies.into_iter().collect();
        for campaign in campaigns {
            grouper.state.next_id = grouper.state.next_id.max(campaign.id.0.saturating_add(1));
            grouper.index(&campaign);
            grouper.campaigns.insert(campaign.id, campaign);
        }
        grouper
    }

    /// The configuration in use.
    pub fn config(&self) -> &GroupingConfig {
        &self.config
    }

    /// A campaign by id (merged ones included).
    pub fn campaign(&self, id: CampaignId) -> Option<&Campaign> {
        self.campaigns.get(&id)
    }

    /// Every campaign, by id.
    pub fn campaigns(&self) -> impl Iterator<Item = &Campaign> {
        self.campaigns.values()
    }

    /// Follows merges from `id` to the campaign that holds its items now.
    pub fn resolve(&self, id: CampaignId) -> CampaignId {
        let mut current = id;
        // Bounded: a merge chain cannot be longer than the number of campaigns.
        for _ in 0..=self.campaigns.len() {
            match self.campaigns.get(&current).map(|c| c.status) {
                Some(CampaignStatus::Merged { into }) => current = into,
                _ => break,
            }
        }
        current
    }

    fn index(&mut self, campaign: &Campaign) {
        if campaign.status != CampaignStatus::Active {
            return;
        }
        for term in campaign.profile.terms.keys() {
            self.postings.entry(term.clone()).or_default().insert(campaign.id);
        }
        for hash in &campaign.profile.texts {
            self.text_index.entry(*hash).or_default().insert(campaign.id);
        }
    }

    fn idf(&self, term: &str) -> f64 {
        let df = self.document_frequency.get(term).copied().unwrap_or(0);
        // scikit-learn's smooth idf: ln((1 + n) / (1 + df)) + 1.
        ((1.0 + self.state.docs as f64) / (1.0 + f64::from(df))).ln() + 1.0
    }

    /// The item's TF-IDF vector, L2-normalised, in term order.
    fn vector(&self, counts: &BTreeMap<String, u32>) -> Vec<(String, f64)> {
        let mut vector: Vec<(String, f64)> = counts
            .iter()
            .map(|(term, &count)| (term.clone(), (1.0 + f64::from(count).ln()) * self.idf(term)))
            .collect();
        let norm = vector.iter().map(|(_, w)| w * w).sum::<f64>().sqrt();
        if norm > 0.0 {
            for (_, weight) in &mut vector {
                *weight /= norm;
            }
        }
        vector
    }

    /// Assigns one item: joins the most similar campaign or opens one.
    pub fn assign(&mut self, item: &GroupingInput<'_>) -> Assignment {
        let counts = term_counts(item.text);
        self.state.docs = self.state.docs.saturating_add(1);
        for term in counts.keys() {
            let df = self.document_frequency.entry(term.clone()).or_default();
            *df = df.saturating_add(1);
            self.dirty_terms.insert(term.clone());
        }
        let vector = self.vector(&counts);
        let text_hash = text_hash(item.text);

        let (best, also_above) = self.best_campaign(item, &vector, text_hash);
        let (id, similarity, opened) = match best {
            Some((id, similarity)) if similarity >= self.config.threshold => (id, similarity, false),
            _ => {
                let id = CampaignId(self.state.next_id);
                self.state.next_id = self.state.next_id.saturating_add(1);
                (id, 1.0, true)
            }
        };
        let repeat = !opened
            && self.campaigns.get(&id).is_some_and(|c| {
                c.profile.texts.contains(&text_hash)
                    || (self.lexical(c, &vector) >= NEAR_DUPLICATE_MIN_LEXICAL
                        && is_copy(&c.profile, item.simhash, text_hash))
            });
        self.add_member(id, item, &Joining { vector: &vector, text_hash, similarity, opened, repeat });
        let mut campaign = id;
        let mut merged = Vec::new();
        if !opened {
            let at = item.time.unwrap_or(item.seen_at);
            for other in also_above {
                if self.centre_cosine(campaign, other) >= f64::from(self.config.merge_threshold) {
                    let (survivor, retired) = (campaign.min(other), campaign.max(other));
                    self.merge(survivor, retired, at);
                    merged.push(retired);
                    campaign = survivor;
                }
            }
        }
        Assignment { campaign, opened, similarity, repeat, merged }
    }

    /// Cosine of two active campaigns' lexical centres (0 when either is not active).
    fn centre_cosine(&self, a: CampaignId, b: CampaignId) -> f64 {
        let (Some(a), Some(b)) = (self.campaigns.get(&a), self.campaigns.get(&b)) else { return 0.0 };
        if a.status != CampaignStatus::Active || b.status != CampaignStatus::Active {
            return 0.0;
        }
        let (small, large) = if a.profile.terms.len() <= b.profile.terms.len() { (a, b) } else { (b, a) };
        let dot: f64 = small
            .profile
            .terms
            .iter()
            .filter_map(|(term, w)| large.profile.terms.get(term).map(|v| f64::from(*w) * f64::from(*v)))
            .sum();
        let norms = (a.profile.norm_sq * b.profile.norm_sq).sqrt();
        if norms > 0.0 {
            dot / norms
        } else {
            0.0
        }
    }

    /// Merges `retired` into `survivor`: the survivor takes its counts, profile and
    /// techniques, both histories record it, and the retired id resolves to the survivor from
    /// now on. Append-only: nothing of the retired campaign's history is lost.
    fn merge(&mut self, survivor: CampaignId, retired: CampaignId, at: DateTime<Utc>) {
        let Some(mut gone) = self.campaigns.remove(&retired) else { return };
        for term in gone.profile.terms.keys() {
            if let Some(ids) = self.postings.get_mut(term) {
                ids.remove(&retired);
            }
        }
        for hash in &gone.profile.texts {
            if let Some(ids) = self.text_index.get_mut(hash) {
                ids.remove(&retired);
            }
        }
        let Some(kept) = self.campaigns.get_mut(&survivor) else {
            self.campaigns.insert(retired, gone);
            return;
        };
        kept.size = kept.size.saturating_add(gone.size);
        kept.first_seen = kept.first_seen.min(gone.first_seen);
        kept.last_seen = kept.last_seen.max(gone.last_seen);
        for (map, other) in [
            (&mut kept.sources, &gone.sources),
            (&mut kept.accounts, &gone.accounts),
            (&mut kept.languages, &gone.languages),
        ] {
            for (key, count) in other {
                let entry = map.entry(key.clone()).or_default();
                *entry = entry.saturating_add(*count);
            }
        }
        for (hour, count) in &gone.hourly {
            let entry = kept.hourly.entry(*hour).or_default();
            *entry = entry.saturating_add(*count);
        }
        for (claim, reference) in &gone.fact_checks {
            kept.fact_checks.entry(claim.clone()).or_insert_with(|| reference.clone());
        }
        if gone.scores.count > 0 {
            if kept.scores.count == 0 {
                kept.scores = gone.scores.clone();
            } else {
                kept.scores.count = kept.scores.count.saturating_add(gone.scores.count);
                kept.scores.sum += gone.scores.sum;
                kept.scores.min = kept.scores.min.min(gone.scores.min);
                kept.scores.max = kept.scores.max.max(gone.scores.max);
            }
        }
        for technique in &gone.techniques {
            if !kept.techniques.iter().any(|t| t.id == technique.id) {
                kept.techniques.push(technique.clone());
            }
        }
        let profile = &mut kept.profile;
        for (term, weight) in &gone.profile.terms {
            *profile.terms.entry(term.clone()).or_default() += *weight;
        }
        let pruned = if profile.terms.len() > MAX_PROFILE_TERMS { prune_terms(&mut profile.terms) } else { Vec::new() };
        profile.norm_sq = profile.terms.values().map(|w| f64::from(*w) * f64::from(*w)).sum();
        if profile.embedding.len() == gone.profile.embedding.len() {
            for (sum, value) in profile.embedding.iter_mut().zip(&gone.profile.embedding) {
                *sum += value;
            }
        } else if profile.embedding.is_empty() {
            profile.embedding.clone_from(&gone.profile.embedding);
        }
        profile.embedded = profile.embedded.saturating_add(gone.profile.embedded);
        profile.simhashes.extend(gone.profile.simhashes.iter().copied());
        let excess = profile.simhashes.len().saturating_sub(MAX_SIMHASHES);
        profile.simhashes.drain(..excess);
        for hash in &gone.profile.texts {
            if profile.texts.len() < MAX_TEXT_HASHES && !profile.texts.contains(hash) {
                profile.texts.push(*hash);
            }
        }
        for (link, count) in &gone.profile.links {
            if profile.links.contains_key(link) || profile.links.len() < MAX_LINKS {
                let entry = profile.links.entry(link.clone()).or_default();
                *entry = entry.saturating_add(*count);
            }
        }
        profile.repeats = profile.repeats.saturating_add(gone.profile.repeats);
        kept.history.push(CampaignEvent::Absorbed { at, from: retired });
        // The index follows the survivor's profile exactly (see `add_member`).
        let terms: Vec<String> = kept.profile.terms.keys().cloned().collect();
        let texts = kept.profile.texts.clone();
        for term in terms {
            self.postings.entry(term).or_default().insert(survivor);
        }
        for term in pruned {
            if let Some(ids) = self.postings.get_mut(&term) {
                ids.remove(&survivor);
            }
        }
        for hash in texts {
            self.text_index.entry(hash).or_default().insert(survivor);
        }
        gone.status = CampaignStatus::Merged { into: survivor };
        gone.history.push(CampaignEvent::MergedInto { at, into: survivor });
        // A retired campaign keeps its summary; its profile is never compared again.
        gone.profile = CampaignProfile { surge: std::mem::take(&mut gone.profile.surge), ..CampaignProfile::default() };
        self.campaigns.insert(retired, gone);
        self.dirty_campaigns.insert(survivor);
        self.dirty_campaigns.insert(retired);
    }

    fn best_campaign(
        &self,
        item: &GroupingInput<'_>,
        vector: &[(String, f64)],
        text_hash: u64,
    ) -> (Option<(CampaignId, f32)>, Vec<CampaignId>) {
        let mut best: Option<(CampaignId, f32)> = None;
        let mut above = Vec::new();
        for id in self.candidates(vector, text_hash) {
            let Some(campaign) = self.campaigns.get(&id) else { continue };
            if campaign.status != CampaignStatus::Active {
                continue;
            }
            let similarity = self.similarity(campaign, item, vector, text_hash);
            if similarity >= self.config.threshold {
                above.push(id);
            }
            // Strictly greater: ties go to the older campaign (lower id, visited first).
            if best.is_none_or(|(_, s)| similarity > s) {
                best = Some((id, similarity));
            }
        }
        if let Some((id, _)) = best {
            above.retain(|other| *other != id);
        }
        (best, above)
    }

    /// How many campaigns a text would be compared with now (what the inverted index yields):
    /// for benchmarks that explain where assignment time goes.
    pub fn candidate_count(&self, text: &str) -> usize {
        self.candidates(&self.vector(&term_counts(text)), text_hash(text)).len()
    }

    /// The campaigns an item is compared with: those holding its text word for word, and those
    /// sharing one of its rarest terms.
    fn candidates(&self, vector: &[(String, f64)], text_hash: u64) -> BTreeSet<CampaignId> {
        let mut candidates: BTreeSet<CampaignId> = BTreeSet::new();
        if let Some(ids) = self.text_index.get(&text_hash) {
            candidates.extend(ids.iter().copied());
        }
        // Rarest terms first: common words would bring in most campaigns and decide nothing.
        let mut by_rarity: Vec<&(String, f64)> = vector.iter().collect();
        by_rarity.sort_by(|a, b| {
            let df_a = self.document_frequency.get(&a.0).copied().unwrap_or(0);
            let df_b = self.document_frequency.get(&b.0).copied().unwrap_or(0);
            df_a.cmp(&df_b).then_with(|| a.0.cmp(&b.0))
        });
        // Terms in many documents ("coronavirus" in a COVID stream) would bring in a large
        // share of all campaigns; they still count in the similarity, but bring candidates only
        // when the item has no rarer term.
        let common = (self.state.docs as f64 * COMMON_TERM_SHARE).max(COMMON_TERM_MIN_DOCS);
        let is_rare = |term: &str| f64::from(self.document_frequency.get(term).copied().unwrap_or(0)) <= common;
        let rare = by_rarity.iter().take_while(|(term, _)| is_rare(term)).count();
        let take = if rare == 0 { FALLBACK_CANDIDATE_TERMS } else { rare.min(self.config.candidate_terms) };
        for (term, _) in by_rarity.into_iter().take(take) {
            if let Some(ids) = self.postings.get(term) {
                candidates.extend(ids.iter().copied());
            }
        }
        candidates
    }

    /// Cosine of the item's vector with the campaign's centre.
    fn lexical(&self, campaign: &Campaign, vector: &[(String, f64)]) -> f64 {
        let profile = &campaign.profile;
        let dot: f64 = vector.iter().filter_map(|(term, w)| profile.terms.get(term).map(|c| w * f64::from(*c))).sum();
        if profile.norm_sq > 0.0 {
            dot / profile.norm_sq.sqrt()
        } else {
            0.0
        }
    }

    fn similarity(
        &self,
        campaign: &Campaign,
        item: &GroupingInput<'_>,
        vector: &[(String, f64)],
        text_hash: u64,
    ) -> f32 {
        let profile = &campaign.profile;
        let lexical = self.lexical(campaign, vector);
        let mut similarity = lexical as f32;
        if self.config.embedding_weight > 0.0 && profile.embedded > 0 {
            if let Some(embedding) = item.embedding {
                let cosine = cosine(embedding, &profile.embedding);
                similarity = (1.0 - self.config.embedding_weight) * similarity + self.config.embedding_weight * cosine;
            }
        }
        if profile.texts.contains(&text_hash) {
            similarity = similarity.max(1.0);
        } else if lexical >= NEAR_DUPLICATE_MIN_LEXICAL && is_copy(profile, item.simhash, text_hash) {
            similarity = similarity.max(self.config.near_duplicate_similarity);
        }
        let shared_links = item.links.iter().filter(|link| profile.links.contains_key(*link)).count().min(2);
        similarity += self.config.shared_link_bonus * shared_links as f32;

        similarity * self.time_factor(campaign, item.time)
    }

    /// 1 within the window of the campaign's span; decays past it.
    fn time_factor(&self, campaign: &Campaign, time: Option<DateTime<Utc>>) -> f32 {
        let Some(time) = time else { return 1.0 };
        let gap_secs = if time > campaign.last_seen {
            (time - campaign.last_seen).num_seconds()
        } else if time < campaign.first_seen {
            (campaign.first_seen - time).num_seconds()
        } else {
            0
        };
        let gap_days = gap_secs as f32 / 86_400.0;
        let past = gap_days - self.config.time_window_days;
        if past <= 0.0 || self.config.time_decay_days <= 0.0 {
            1.0
        } else {
            (-past / self.config.time_decay_days).exp()
        }
    }

    fn add_member(&mut self, id: CampaignId, item: &GroupingInput<'_>, joining: &Joining<'_>) {
        let Joining { vector, text_hash, similarity, opened, repeat } = *joining;
        let time = item.time.unwrap_or(item.seen_at);
        let member = CampaignMember {
            id: item.id.to_owned(),
            url: item.url.to_owned(),
            text: infodemic_core::text::ellipsize(item.text, MEMBER_TEXT_CHARS),
            time: item.time,
            source: item.source.to_owned(),
            account: item.account.map(str::to_owned),
            score: item.score,
        };
        let campaign = self.campaigns.entry(id).or_insert_with(|| Campaign {
            id,
            status: CampaignStatus::Active,
            representative: member.clone(),
            representative_similarity: 0.0,
            first_seen: time,
            last_seen: time,
            size: 0,
            sources: BTreeMap::new(),
            accounts: BTreeMap::new(),
            languages: BTreeMap::new(),
            hourly: BTreeMap::new(),
            fact_checks: BTreeMap::new(),
            scores: Default::default(),
            techniques: Vec::new(),
            history: vec![CampaignEvent::Opened { at: time, item: item.id.to_owned() }],
            profile: CampaignProfile::default(),
        });
        campaign.size = campaign.size.saturating_add(1);
        campaign.first_seen = campaign.first_seen.min(time);
        campaign.last_seen = campaign.last_seen.max(time);
        bump(&mut campaign.sources, item.source);
        if let Some(account) = item.account {
            bump(&mut campaign.accounts, account);
        }
        if let Some(language) = item.language {
            bump(&mut campaign.languages, language);
        }
        let hour = time.timestamp().div_euclid(3600);
        let count = campaign.hourly.entry(hour).or_default();
        *count = count.saturating_add(1);
        if let Some(score) = item.score {
            campaign.scores.add(score);
        }
        if let Some((claim, reference)) = item.fact_check {
            campaign.fact_checks.entry(claim.to_owned()).or_insert_with(|| reference.to_owned());
        }

        let profile = &mut campaign.profile;
        if repeat {
            profile.repeats = profile.repeats.saturating_add(1);
        }
        // |c + v|^2 = |c|^2 + 2 c.v + |v|^2, with |v| = 1 (or 0 for a text without terms).
        let dot: f64 = vector.iter().filter_map(|(term, w)| profile.terms.get(term).map(|c| w * f64::from(*c))).sum();
        let own: f64 = vector.iter().map(|(_, w)| w * w).sum();
        for (term, weight) in vector {
            *profile.terms.entry(term.clone()).or_default() += *weight as f32;
        }
        let mut pruned = Vec::new();
        if profile.terms.len() > MAX_PROFILE_TERMS {
            pruned = prune_terms(&mut profile.terms);
            profile.norm_sq = profile.terms.values().map(|w| f64::from(*w) * f64::from(*w)).sum();
        } else {
            profile.norm_sq += 2.0 * dot + own;
        }
        if let Some(embedding) = item.embedding {
            if profile.embedding.is_empty() {
                profile.embedding = embedding.to_vec();
            } else if profile.embedding.len() == embedding.len() {
                for (sum, value) in profile.embedding.iter_mut().zip(embedding) {
                    *sum += value;
                }
            }
            profile.embedded = profile.embedded.saturating_add(1);
        }
        if let Some(fingerprint) = item.simhash {
            if profile.simhashes.len() >= MAX_SIMHASHES {
                profile.simhashes.remove(0);
            }
            profile.simhashes.push(fingerprint);
        }
        if !profile.texts.contains(&text_hash) && profile.texts.len() < MAX_TEXT_HASHES {
            profile.texts.push(text_hash);
        }
        for link in item.links {
            if profile.links.contains_key(link) || profile.links.len() < MAX_LINKS {
                bump(&mut profile.links, link);
            }
        }

        // The representative is the member closest to the centre when it joined (the
        // opener until another is closer).
        let centrality = if opened { 0.0 } else { similarity.min(1.0) };
        if opened || centrality > campaign.representative_similarity {
            campaign.representative = member;
            campaign.representative_similarity = centrality;
        }

        // The index holds exactly what the profile holds, as `restore` rebuilds it: a stale
        // entry would make a candidate here that a restored run does not see.
        for (term, _) in vector {
            if campaign.profile.terms.contains_key(term) {
                self.postings.entry(term.clone()).or_default().insert(id);
            }
        }
        for term in pruned {
            if let Some(ids) = self.postings.get_mut(&term) {
                ids.remove(&id);
            }
        }
        if campaign.profile.texts.contains(&text_hash) {
            self.text_index.entry(text_hash).or_default().insert(id);
        }

        self.dirty_campaigns.insert(id);
    }

    /// Records an event in a campaign's history (alerts, techniques) and marks it changed.
    pub fn record_event(&mut self, id: CampaignId, event: CampaignEvent) {
        if let Some(campaign) = self.campaigns.get_mut(&id) {
            campaign.history.push(event);
            self.dirty_campaigns.insert(id);
        }
    }

    /// Mutable access for the detectors that run after an assignment (surge, techniques):
    /// the campaign is marked changed.
    pub fn campaign_mut(&mut self, id: CampaignId) -> Option<&mut Campaign> {
        let campaign = self.campaigns.get_mut(&id)?;
        self.dirty_campaigns.insert(id);
        Some(campaign)
    }

    /// What changed since the last call, for a store to write.
    pub fn take_changes(&mut self) -> GroupingChanges {
        let campaigns = std::mem::take(&mut self.dirty_campaigns)
            .into_iter()
            .filter_map(|id| self.campaigns.get(&id).cloned())
            .collect();
        let document_frequencies = std::mem::take(&mut self.dirty_terms)
            .into_iter()
            .map(|term| {
                let df = self.document_frequency.get(&term).copied().unwrap_or(0);
                (term, df)
            })
            .collect();
        GroupingChanges { state: self.state, campaigns, document_frequencies }
    }
}

/// Whether a text with this fingerprint and hash copies a member of the campaign.
fn is_copy(profile: &CampaignProfile, simhash: Option<u64>, text_hash: u64) -> bool {
    profile.texts.contains(&text_hash)
        || simhash.is_some_and(|f| profile.simhashes.iter().any(|&other| simhash::is_near_duplicate(f, other)))
}

/// How an item joins a campaign: its vector and what the assignment found.
#[derive(Clone, Copy)]
struct Joining<'v> {
    vector: &'v [(String, f64)],
    text_hash: u64,
    similarity: f32,
    opened: bool,
    repeat: bool,
}

fn bump(counts: &mut BTreeMap<String, u32>, key: &str) {
    let count = counts.entry(key.to_owned()).or_default();
    *count = count.saturating_add(1);
}

/// Keeps the strongest [`MAX_PROFILE_TERMS`] * 3/4 terms (ties by term), so pruning happens
/// once per many additions, not on every one. Returns the terms dropped.
fn prune_terms(terms: &mut BTreeMap<String, f32>) -> Vec<String> {
    let keep = MAX_PROFILE_TERMS * 3 / 4;
    let mut ranked: Vec<(String, f32)> = std::mem::take(terms).into_iter().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let dropped = ranked.split_off(keep.min(ranked.len()));
    *terms = ranked.into_iter().collect();
    dropped.into_iter().map(|(term, _)| term).collect()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() || a.is_empty() {
        return 0.0;
    }
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm_a: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let norm_b: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm_a == 0.0 || norm_b == 0.0 {
        0.0
    } else {
        dot / (norm_a * norm_b)
    }
}

/// FNV-1a of the normalised text: stable across builds, because it is stored.
fn text_hash(text: &str) -> u64 {
    let normalised = infodemic_core::text::fingerprint_text(text);
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in normalised.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + minutes * 60, 0).unwrap()
    }

    fn input<'a>(id: &'a str, text: &'a str, minutes: i64) -> GroupingInput<'a> {
        GroupingInput {
            id,
            url: "",
            text,
            time: Some(at(minutes)),
            seen_at: at(minutes),
            source: "s",
            account: None,
            language: None,
            links: &[],
            simhash: simhash::simhash(text),
            embedding: None,
            score: None,
            fact_check: None,
        }
    }

    /// Two narratives that start apart and are bridged by items mixing both, among noise.
    const STREAM: &[&str] = &[
        "bleach cures covid in two days say doctors",
        "city council approves road budget",
        "drinking bleach cures covid doctors confirm",
        "garlic soup prevents covid infection experts claim",
        "local bakery wins national bread award",
        "garlic soup prevents covid infection",
        "bleach and garlic soup cure covid infection doctors confirm",
        "bleach garlic soup cures covid infection in two days",
        "museum opens medieval maps exhibition",
        "bleach cures covid in two days say doctors",
    ];

    fn run(grouper: &mut Grouper, range: std::ops::Range<usize>) -> Vec<Assignment> {
        range
            .map(|i| {
                let id = format!("i{i}");
                grouper.assign(&input(&id, STREAM[i], i as i64 * 10))
            })
            .collect()
    }

    #[test]
    fn copies_join_and_unrelated_items_open_campaigns_in_order() {
        let mut grouper = Grouper::new(GroupingConfig { merge_threshold: 2.0, ..GroupingConfig::default() });
        let assignments = run(&mut grouper, 0..STREAM.len());
        assert_eq!(assignments[0].campaign, CampaignId(1));
        assert!(assignments[0].opened);
        assert_eq!(assignments[1].campaign, CampaignId(2));
        assert_eq!(assignments[2].campaign, CampaignId(1), "a rewording joins");
        assert_eq!(assignments[9].campaign, CampaignId(1));
        assert!(assignments[9].repeat, "a word-for-word copy is a repeat");
        assert!(assignments[4].opened && assignments[8].opened);
        let ids: Vec<u64> = assignments.iter().filter(|a| a.opened).map(|a| a.campaign.0).collect();
        assert_eq!(ids, (1..=ids.len() as u64).collect::<Vec<_>>(), "ids are minted in arrival order");
    }

    #[test]
    fn a_restored_grouper_continues_exactly_where_a_running_one_is() {
        let config = GroupingConfig { merge_threshold: 0.3, ..GroupingConfig::default() };
        let mut whole = Grouper::new(config.clone());
        let expected = run(&mut whole, 0..STREAM.len());
        assert!(expected.iter().any(|a| !a.merged.is_empty()), "the stream should exercise a merge: {expected:?}");

        for cut in 1..STREAM.len() {
            let mut first = Grouper::new(config.clone());
            let mut got = run(&mut first, 0..cut);
            // What a store keeps: every campaign ever changed, the frequencies, the counters.
            let changes = first.take_changes();
            let mut restored =
                Grouper::restore(config.clone(), changes.state, changes.document_frequencies, changes.campaigns);
            got.extend(run(&mut restored, cut..STREAM.len()));
            assert_eq!(got, expected, "cut at {cut}");
            let mut a: Vec<&Campaign> = whole.campaigns().collect();
            let mut b: Vec<&Campaign> = restored.campaigns().collect();
            a.sort_by_key(|c| c.id);
            b.sort_by_key(|c| c.id);
            assert_eq!(a, b, "cut at {cut}");
        }
    }

    #[test]
    fn a_merge_retires_the_younger_campaign_and_its_id_resolves() {
        let mut grouper = Grouper::new(GroupingConfig { merge_threshold: 0.3, ..GroupingConfig::default() });
        let assignments = run(&mut grouper, 0..STREAM.len());
        let merge = assignments.iter().find(|a| !a.merged.is_empty()).unwrap();
        let retired = merge.merged[0];
        assert!(retired > merge.campaign, "the younger one is retired");
        assert_eq!(grouper.resolve(retired), merge.campaign);
        let gone = grouper.campaign(retired).unwrap();
        assert_eq!(gone.status, CampaignStatus::Merged { into: merge.campaign });
        assert!(matches!(gone.history.last(), Some(CampaignEvent::MergedInto { into, .. }) if *into == merge.campaign));
        let kept = grouper.campaign(merge.campaign).unwrap();
        assert!(kept.history.iter().any(|e| matches!(e, CampaignEvent::Absorbed { from, .. } if *from == retired)));
        let members = assignments.iter().filter(|a| grouper.resolve(a.campaign) == merge.campaign).count();
        assert_eq!(kept.size as usize, members, "the survivor counts every item of both");
    }
}
