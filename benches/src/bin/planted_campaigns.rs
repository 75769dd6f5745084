//! Planted campaigns in a real background, through the real campaign stage
//! (`CampaignTracker` on a temporary store): how pure the campaigns are, how many items a
//! campaign needs before it is detected, how many alerts the background raises on its own, and
//! whether ×5 to ×10 surges on long-running campaigns are caught within 2 hours.
//!
//! ```sh
//! cargo run --release -p infodemic-benches --bin planted_campaigns -- [--seed 1] [--json] [--explain]
//!     [--campaigns 100] [--surges 40] [--resurfacing 20] [--background-rate 3]
//!     [--opening-items K] [--opening-hours T] [--threshold X] [--no-simhash] [--data DIR]
//! ```
//!
//! - **Background**: the claims Cheng et al. (`covid19-rumor-cheng2020/news.csv`) label false
//!   and the CONSTRAINT training tweets labelled fake (misinformation-like, as the items the
//!   model flags for review are), each once, arriving as a Poisson process (`--background-rate`
//!   items/h, 3 by default, so weeks of it) from sources drawn from the 200 commonest hosts of
//!   the story stream. Read from `../shared/datasets`, never copied.
//! - **Planted campaigns** (`--campaigns`): a claim held out of the background (no text of the
//!   pool shares a quarter of its terms, and the grouper itself opens a new campaign for it),
//!   8 to 20 items over 1 to 12 hours from 3 to 10 accounts: the claim, exact copies, copies
//!   with a prefix or suffix ("BREAKING:", "Share before they delete this!", hashtags, a shared
//!   link), and paraphrases (synonym swaps, word drops, clause reorderings).
//! - **Resurfacing** (`--resurfacing`): the same kind of burst for a claim the background
//!   already carried 7 to 30 days before (reported apart: its campaign is not new).
//! - **Surges** (`--surges`): long-running campaigns of another held-out claim, Poisson at
//!   0.2, 0.5, 1 or 2 items/h for 7 to 10 days, then ×5 or ×10 for 6 hours, then back to the
//!   baseline for a day.
//!
//! Everything is merged in time order and assigned in batches of 1,000. Purity counts, for
//! each planted campaign, the share of its own items among all items of the campaigns holding
//! them (at the end, through merges). A planted campaign is detected by the first alert on a
//! campaign whose items were then mostly its own, after the number of its items fed by then; a
//! false alert is one on a campaign of background items only; a surge is detected by an EARS
//! or CUSUM alert on a campaign holding it within 2 hours of its start. `--explain` prints the
//! misses, the impure campaigns and fingerprint collisions; `--no-simhash` drops fingerprints
//! (no near-duplicate rule), to compare. Deterministic for a seed (a xorshift generator).

#![allow(clippy::print_stdout, clippy::print_stderr)] // A bench binary reports on the terminal.

#[allow(dead_code)] // Shared with campaigns_scale, which uses the rest.
mod campaign_corpus;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use campaign_corpus::{campaign_item, default_data_dir, framed, paraphrase, Rng};
use chrono::{DateTime, Duration, Utc};
use infodemic_campaigns::evaluate::score_clustering;
use infodemic_campaigns::terms::term_counts;
use infodemic_campaigns::{Grouper, GroupingConfig, GroupingInput};
use infodemic_core::{Alert, CampaignId, CampaignStatus};
use infodemic_pipeline::{CampaignItem, CampaignSettings, CampaignTracker};
use infodemic_store::SledStore;
use serde_json::{json, Value};

/// The pipeline's commit batch.
const BATCH: usize = 1000;
/// 2025-01-06T00:00:00Z.
const START_UNIX: i64 = 1_736_121_600;
/// The issue's "detected within 5 items".
const DETECT_WITHIN_ITEMS: usize = 5;
/// A campaign holding this many of a planted campaign's items detects it (the other reading).
const K_ITEMS: usize = 5;
/// Surge detection deadline.
const SURGE_DEADLINE_HOURS: i64 = 2;
/// Hours a planted surge lasts.
const SURGE_HOURS: f64 = 6.0;
/// Baseline rates (items/h) and multipliers of the surge grid.
const SURGE_RATES: [f64; 4] = [0.2, 0.5, 1.0, 2.0];
const SURGE_MULTIPLIERS: [f64; 2] = [5.0, 10.0];
/// Held-out claims share less than this share of their terms (Jaccard) with any other text.
const MAX_HELD_OUT_OVERLAP: f64 = 0.25;
/// Extra items in a surge's first 2 hours from which the surge rules claim ≥ 90 % (see
/// `infodemic_campaigns::surge`).
const MIN_EXTRA_ITEMS: f64 = 16.0;

struct Options {
    seed: u64,
    campaigns: usize,
    surges: usize,
    background_rate: f64,
    data: PathBuf,
    json: bool,
    explain: bool,
    resurfacing: usize,
    settings: CampaignSettings,
    no_simhash: bool,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        seed: 1,
        campaigns: 100,
        surges: 40,
        background_rate: 3.0,
        data: default_data_dir(),
        json: false,
        explain: false,
        resurfacing: 20,
        settings: CampaignSettings::default(),
        no_simhash: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--seed" => options.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--campaigns" => options.campaigns = value()?.parse().map_err(|e| format!("--campaigns: {e}"))?,
            "--surges" => options.surges = value()?.parse().map_err(|e| format!("--surges: {e}"))?,
            "--background-rate" => {
                options.background_rate = value()?.parse().map_err(|e| format!("--background-rate: {e}"))?;
            }
            "--data" => options.data = PathBuf::from(value()?),
            "--json" => options.json = true,
            "--explain" => options.explain = true,
            "--no-simhash" => options.no_simhash = true,
            "--resurfacing" => options.resurfacing = value()?.parse().map_err(|e| format!("--resurfacing: {e}"))?,
            "--opening-items" => {
                options.settings.surge.opening_items = value()?.parse().map_err(|e| format!("--opening-items: {e}"))?;
            }
            "--opening-hours" => {
                options.settings.surge.opening_window_hours =
                    value()?.parse().map_err(|e| format!("--opening-hours: {e}"))?;
            }
            "--threshold" => {
                options.settings.grouping.threshold = value()?.parse().map_err(|e| format!("--threshold: {e}"))?;
            }
            other => {
                return Err(format!(
                    "unknown argument {other} (--seed N, --campaigns N, --surges N, --background-rate R, --resurfacing N, --opening-items K, --opening-hours T, --threshold X, --no-simhash, --data DIR, --json, --explain)"
                ))
            }
        }
    }
    if !options.background_rate.is_finite() || options.background_rate <= 0.0 {
        return Err("--background-rate must be positive".to_owned());
    }
    Ok(options)
}

/// Who an item belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Gold {
    Background(usize),
    Planted(usize),
    Surge(usize),
    /// A planted campaign of a claim the background already holds: a narrative resurfacing.
    Resurfaced(usize),
}

impl Gold {
    /// A clustering label: background items as singletons.
    fn label(self) -> (u8, u64) {
        match self {
            Self::Background(i) => (0, i as u64),
            Self::Planted(p) => (1, p as u64),
            Self::Surge(s) => (2, s as u64),
            Self::Resurfaced(r) => (3, r as u64),
        }
    }

    /// Background items count as one group when composing campaigns.
    fn group(self) -> Self {
        match self {
            Self::Background(_) => Self::Background(0),
            other => other,
        }
    }
}

struct Generated {
    item: CampaignItem,
    gold: Gold,
}

/// A short campaign: one claim reposted over hours.
struct BurstSpec {
    items: usize,
    hours: f64,
    posters: usize,
    start: DateTime<Utc>,
}

/// A long-running campaign with a surge.
struct SurgeSpec {
    rate: f64,
    multiplier: f64,
    surge_start: DateTime<Utc>,
    /// Items of the campaign in the surge's first 2 hours, minus the baseline's expectation.
    extra_in_deadline: f64,
    baseline_items: usize,
}

struct World {
    items: Vec<Generated>,
    planted: Vec<BurstSpec>,
    resurfaced: Vec<BurstSpec>,
    surges: Vec<SurgeSpec>,
    background_items: usize,
    span_days: f64,
    /// Candidate claims the grouper put into a background campaign (not unseen).
    claims_rejected: usize,
}

fn at(unix: f64) -> DateTime<Utc> {
    DateTime::from_timestamp(unix.floor() as i64, 0).unwrap_or_default()
}

fn hours(h: f64) -> f64 {
    h * 3600.0
}

fn eligible_claim(text: &str) -> bool {
    (12..=60).contains(&text.split(' ').count()) && term_counts(text).len() >= 6
}

/// Splits the pool into held-out claims and the background. A claim is held out only when no
/// other text of the pool shares [`MAX_HELD_OUT_OVERLAP`] of its terms (Jaccard) and the
/// grouper itself, holding the whole background and the claims held out before it (all at one
/// instant, so no time decay helps), opens a new campaign for it: it is unseen in the
/// grouper's own terms too. Candidates that join a held-out claim's campaign are dropped;
/// the others stay in the background.
fn split_claims(pool: &[String], wanted: usize, config: &GroupingConfig) -> (Vec<String>, Vec<String>, usize) {
    let term_sets: Vec<BTreeSet<String>> = pool.iter().map(|t| term_counts(t).into_keys().collect()).collect();
    let overlap = |a: &BTreeSet<String>, b: &BTreeSet<String>| {
        let shared = a.intersection(b).count();
        let union = a.len() + b.len() - shared;
        if union == 0 {
            0.0
        } else {
            shared as f64 / union as f64
        }
    };
    let mut candidates: Vec<usize> = Vec::new();
    let mut overlapping = 0;
    for (index, text) in pool.iter().enumerate() {
        if candidates.len() >= wanted * 3 {
            break;
        }
        if !eligible_claim(text) {
            continue;
        }
        let alone = term_sets
            .iter()
            .enumerate()
            .all(|(other, terms)| other == index || overlap(&term_sets[index], terms) < MAX_HELD_OUT_OVERLAP);
        if alone {
            candidates.push(index);
        } else {
            overlapping += 1;
        }
    }
    let candidate_set: BTreeSet<usize> = candidates.iter().copied().collect();
    let seen_at = at(START_UNIX as f64);
    let mut grouper = Grouper::new(config.clone());
    let mut assign = |text: &str| {
        grouper.assign(&GroupingInput {
            id: "",
            url: "",
            text,
            time: None,
            seen_at,
            source: "",
            account: None,
            language: None,
            links: &[],
            simhash: infodemic_core::simhash::simhash(text),
            embedding: None,
            score: None,
            fact_check: None,
        })
    };
    for (index, text) in pool.iter().enumerate() {
        if !candidate_set.contains(&index) {
            assign(text);
        }
    }
    let mut held: Vec<usize> = Vec::new();
    let mut held_campaigns: BTreeSet<CampaignId> = BTreeSet::new();
    let mut dropped: BTreeSet<usize> = BTreeSet::new();
    let mut rejected = overlapping;
    for index in candidates {
        if held.len() >= wanted {
            break;
        }
        let assignment = assign(&pool[index]);
        if assignment.opened {
            held.push(index);
            held_campaigns.insert(assignment.campaign);
        } else {
            rejected += 1;
            if held_campaigns.contains(&assignment.campaign) {
                dropped.insert(index);
            }
        }
    }
    let held_set: BTreeSet<usize> = held.iter().copied().collect();
    let claims = held.iter().map(|&i| pool[i].clone()).collect();
    let background = pool
        .iter()
        .enumerate()
        .filter(|(i, _)| !held_set.contains(i) && !dropped.contains(i))
        .map(|(_, text)| text.clone())
        .collect();
    (claims, background, rejected)
}

/// One repost of `claim`: the claim itself for the first, then exact copies, framed copies
/// and paraphrases; some carry the campaign's link.
fn repost(claim: &str, first: bool, link: Option<&str>, rng: &mut Rng) -> (String, Vec<String>) {
    let mut text = if first {
        claim.to_owned()
    } else {
        match rng.below(20) {
            0..=5 => claim.to_owned(),
            6..=10 => framed(claim, rng),
            _ => paraphrase(claim, rng),
        }
    };
    let mut links = Vec::new();
    if let Some(link) = link {
        if rng.chance(0.4) {
            text = format!("{text} {link}");
            links.push(link.to_owned());
        }
    }
    (text, links)
}

fn posters(hosts: &[String], rng: &mut Rng, campaign: &str, count: usize) -> Vec<(String, String)> {
    (0..count).map(|i| (rng.pick(hosts).clone(), format!("@{campaign}_acct{i}_{}", rng.below(10_000)))).collect()
}

/// 8 to 20 reposts of `claim` over 1 to 12 hours from 3 to 10 accounts, from `start`.
fn burst(
    claim: &str,
    name: &str,
    gold: Gold,
    start: f64,
    hosts: &[String],
    rng: &mut Rng,
) -> (Vec<Generated>, BurstSpec) {
    let n = rng.between(8, 20);
    let duration = 1.0 + 11.0 * rng.uniform();
    let n_posters = rng.between(3, 10);
    let accounts = posters(hosts, rng, name, n_posters);
    let link = rng.chance(0.5).then(|| format!("https://bit.ly/{:x}", rng.next_u64() & 0xff_ffff));
    let mut offsets: Vec<f64> = (1..n).map(|_| rng.uniform() * hours(duration)).collect();
    offsets.push(0.0);
    offsets.sort_by(f64::total_cmp);
    let mut items = Vec::new();
    for (j, offset) in offsets.into_iter().enumerate() {
        // Every account posts at least once, then at random.
        let (host, account) = if j < n_posters { &accounts[j] } else { rng.pick(&accounts) };
        let (text, links) = repost(claim, j == 0, link.as_deref(), rng);
        items.push(Generated {
            item: campaign_item(
                format!("{name}-{j:02}"),
                text,
                at(start + offset),
                format!("https://{host}/{}/status/{j}", account.trim_start_matches('@')),
                host.clone(),
                Some(account.clone()),
                links,
            ),
            gold,
        });
    }
    (items, BurstSpec { items: n, hours: duration, posters: n_posters, start: at(start) })
}

fn generate(options: &Options) -> Result<World, Box<dyn std::error::Error>> {
    let stream = campaign_corpus::load_stream(&options.data)?;
    let hosts = campaign_corpus::host_pool(&stream, 200);
    let mut seen = BTreeSet::new();
    let mut pool: Vec<String> = campaign_corpus::load_cheng(&options.data)?
        .into_iter()
        .filter(|(label, _)| label == "F")
        .chain(campaign_corpus::load_constraint(&options.data)?.into_iter().filter(|(label, _)| label == "fake"))
        .map(|(_, text)| text)
        .filter(|text| seen.insert(text.to_lowercase()))
        .collect();
    let mut rng = Rng::new(options.seed);
    rng.shuffle(&mut pool);
    let wanted = options.campaigns + options.surges;
    let (claims, background, claims_rejected) = split_claims(&pool, wanted, &options.settings.grouping);
    if claims.len() < wanted {
        return Err(format!("only {} claims can be held out, {wanted} wanted", claims.len()).into());
    }

    let mut items = Vec::new();
    // Background: a Poisson process.
    let mut clock = START_UNIX as f64;
    let mean_gap = 3600.0 / options.background_rate;
    let mut background_times = Vec::with_capacity(background.len());
    for (index, text) in background.iter().enumerate() {
        clock += rng.exponential(mean_gap);
        background_times.push(clock);
        let host = rng.pick(&hosts).clone();
        items.push(Generated {
            item: campaign_item(
                format!("bg-{index:05}"),
                text.clone(),
                at(clock),
                format!("https://{host}/story/{index}"),
                host,
                None,
                Vec::new(),
            ),
            gold: Gold::Background(index),
        });
    }
    let end = clock;
    let span = end - START_UNIX as f64;
    let background_items = items.len();

    let mut planted = Vec::new();
    for (p, claim) in claims.iter().take(options.campaigns).enumerate() {
        let start = START_UNIX as f64 + hours(48.0) + rng.uniform() * (span - hours(72.0)).max(0.0);
        let (generated, spec) = burst(claim, &format!("plant-{p:03}"), Gold::Planted(p), start, &hosts, &mut rng);
        items.extend(generated);
        planted.push(spec);
    }

    // Resurfacing: a background claim pushed again 7 to 30 days after it appeared.
    let mut resurfaced = Vec::new();
    let mut used = BTreeSet::new();
    let mut attempts = 0;
    while resurfaced.len() < options.resurfacing && attempts < 100_000 {
        attempts += 1;
        let index = rng.below(background.len());
        let start = background_times[index] + hours(24.0 * (7.0 + 23.0 * rng.uniform()));
        if !eligible_claim(&background[index]) || start > end - hours(13.0) || !used.insert(index) {
            continue;
        }
        let r = resurfaced.len();
        let (generated, spec) =
            burst(&background[index], &format!("resurf-{r:03}"), Gold::Resurfaced(r), start, &hosts, &mut rng);
        items.extend(generated);
        resurfaced.push(spec);
    }

    let mut surges = Vec::new();
    for (s, claim) in claims.iter().skip(options.campaigns).enumerate() {
        let cell = s % (SURGE_RATES.len() * SURGE_MULTIPLIERS.len());
        let rate = SURGE_RATES[cell % SURGE_RATES.len()];
        let multiplier = SURGE_MULTIPLIERS[cell / SURGE_RATES.len()];
        let baseline_days = 7.0 + 3.0 * rng.uniform();
        let start = START_UNIX as f64 + hours(24.0) + rng.uniform() * (span - hours(24.0 * 12.0)).max(0.0);
        let surge_start = start + hours(24.0 * baseline_days);
        let surge_end = surge_start + hours(SURGE_HOURS);
        let stop = surge_end + hours(24.0);
        let name = format!("surge-{s:03}");
        let n_posters = rng.between(5, 15);
        let accounts = posters(&hosts, &mut rng, &name, n_posters);
        let link = rng.chance(0.5).then(|| format!("https://bit.ly/{:x}", rng.next_u64() & 0xff_ffff));
        let mut time = start;
        let mut j = 0usize;
        let (mut in_deadline, mut baseline_items) = (0usize, 0usize);
        while time < stop {
            let (host, account) = rng.pick(&accounts).clone();
            let (text, links) = repost(claim, j == 0, link.as_deref(), &mut rng);
            if time >= surge_start && time < surge_start + hours(SURGE_DEADLINE_HOURS as f64) {
                in_deadline += 1;
            }
            if time < surge_start {
                baseline_items += 1;
            }
            items.push(Generated {
                item: campaign_item(
                    format!("{name}-{j:04}"),
                    text,
                    at(time),
                    format!("https://{host}/{}/status/{j}", account.trim_start_matches('@')),
                    host,
                    Some(account),
                    links,
                ),
                gold: Gold::Surge(s),
            });
            j += 1;
            let current = if time >= surge_start && time < surge_end { rate * multiplier } else { rate };
            let next = time + rng.exponential(3600.0 / current);
            // A gap that crosses a change of rate restarts at it (the process is memoryless).
            time = if time < surge_start && next >= surge_start {
                surge_start + rng.exponential(3600.0 / (rate * multiplier))
            } else if time < surge_end && next >= surge_end {
                surge_end + rng.exponential(3600.0 / rate)
            } else {
                next
            };
        }
        surges.push(SurgeSpec {
            rate,
            multiplier,
            surge_start: at(surge_start),
            extra_in_deadline: in_deadline as f64 - rate * SURGE_DEADLINE_HOURS as f64,
            baseline_items,
        });
    }
    items.sort_by(|a, b| a.item.time.cmp(&b.item.time).then_with(|| a.item.id.cmp(&b.item.id)));
    if options.no_simhash {
        for generated in &mut items {
            generated.item.simhash = None;
        }
    }
    Ok(World { items, planted, resurfaced, surges, background_items, span_days: span / 86_400.0, claims_rejected })
}

/// An alert with the index (in feeding order) of the item that raised it. `alert.campaign` is
/// the campaign as it stands at the end (resolved through merges); `raised_on` the id it was
/// raised on.
struct RaisedAlert {
    alert: Alert,
    raised_on: CampaignId,
    item: usize,
}

/// What a run gives: each item's campaign at the end (resolved through merges), the alerts,
/// campaigns merged away, and alerts that could only be matched to an item by time.
struct RunOutput {
    campaigns: Vec<CampaignId>,
    /// Each item's campaign as its batch reported it (before later merges).
    batch_campaigns: Vec<CampaignId>,
    alerts: Vec<RaisedAlert>,
    merged: usize,
    loosely_matched: usize,
}

/// Retired campaign ids and their successors, from the store.
fn merge_map(store: &SledStore) -> Result<HashMap<CampaignId, CampaignId>, Box<dyn std::error::Error>> {
    Ok(store
        .campaigns()?
        .into_iter()
        .filter_map(|c| match c.status {
            CampaignStatus::Merged { into } => Some((c.id, into)),
            CampaignStatus::Active => None,
        })
        .collect())
}

fn resolve(merges: &HashMap<CampaignId, CampaignId>, id: CampaignId) -> CampaignId {
    let mut current = id;
    for _ in 0..=merges.len() {
        match merges.get(&current) {
            Some(next) => current = *next,
            None => break,
        }
    }
    current
}

/// Feeds everything through the tracker in batches.
async fn run(items: &[Generated], settings: CampaignSettings) -> Result<RunOutput, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let (store, _) = SledStore::open(&dir.path().join("store"))?;
    let tracker = CampaignTracker::open(&store, settings).await?;
    let mut campaigns = Vec::with_capacity(items.len());
    let mut raised = Vec::new();
    let mut loosely_matched = 0;
    for (batch_index, batch) in items.chunks(BATCH).enumerate() {
        let report = tracker.assign(batch.iter().map(|g| g.item.clone()).collect()).await?;
        // Assignments are reported as campaigns stand after the batch; alerts name the
        // campaign they were raised on, which a later item of the batch may have merged.
        let merges = merge_map(&store)?;
        campaigns.extend(report.assignments.iter().map(|a| a.campaign));
        // Alerts come in the order of the items that raised them, with the item's time.
        let mut cursor = 0;
        for alert in report.alerts {
            let resolved = resolve(&merges, alert.campaign);
            let time_matches = |k: &usize| batch[*k].item.time == Some(alert.at);
            let strict = (cursor..batch.len()).find(|k| time_matches(k) && report.assignments[*k].campaign == resolved);
            let found = strict.or_else(|| {
                let loose = (cursor..batch.len()).find(|k| time_matches(k));
                loosely_matched += usize::from(loose.is_some());
                loose
            });
            let Some(k) = found else {
                return Err(format!(
                    "alert {} on {} at {} matches no item of its batch",
                    alert.seq, alert.campaign, alert.at
                )
                .into());
            };
            cursor = k;
            raised.push(RaisedAlert { raised_on: alert.campaign, alert, item: batch_index * BATCH + k });
        }
    }
    let merges = merge_map(&store)?;
    let batch_campaigns = campaigns.clone();
    for campaign in &mut campaigns {
        *campaign = resolve(&merges, *campaign);
    }
    for raised in &mut raised {
        raised.alert.campaign = resolve(&merges, raised.raised_on);
    }
    drop(tracker);
    drop(store);
    Ok(RunOutput { campaigns, batch_campaigns, alerts: raised, merged: merges.len(), loosely_matched })
}

fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        f64::NAN
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        f64::NAN
    } else {
        sorted[sorted.len() / 2]
    }
}

/// Rounds for stable output (sums over hash maps can differ in the last bit).
fn r6(x: f64) -> f64 {
    if x.is_finite() {
        (x * 1e6).round() / 1e6
    } else {
        x
    }
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        f64::NAN
    } else {
        part as f64 / whole as f64
    }
}

/// What was fed, where it went, and the alerts, with the lookups the figures need.
struct Outcome<'a> {
    golds: Vec<Gold>,
    campaigns: Vec<CampaignId>,
    alerts: Vec<RaisedAlert>,
    sizes: HashMap<CampaignId, usize>,
    members: BTreeMap<Gold, Vec<usize>>,
    /// The composition (per gold group) of the alerting campaign when each alert was raised.
    at_alert: HashMap<usize, HashMap<Gold, usize>>,
    /// Per planted or resurfaced campaign: its items fed when a campaign first held K of them.
    k_reached: HashMap<Gold, usize>,
    items: &'a [Generated],
}

impl<'a> Outcome<'a> {
    fn new(items: &'a [Generated], campaigns: Vec<CampaignId>, alerts: Vec<RaisedAlert>) -> Self {
        let golds: Vec<Gold> = items.iter().map(|g| g.gold).collect();
        let mut sizes: HashMap<CampaignId, usize> = HashMap::new();
        let mut members: BTreeMap<Gold, Vec<usize>> = BTreeMap::new();
        for (i, (campaign, gold)) in campaigns.iter().zip(&golds).enumerate() {
            *sizes.entry(*campaign).or_default() += 1;
            if !matches!(gold, Gold::Background(_)) {
                members.entry(*gold).or_default().push(i);
            }
        }
        let alert_items: BTreeSet<usize> = alerts.iter().map(|a| a.item).collect();
        let mut counts: HashMap<CampaignId, HashMap<Gold, usize>> = HashMap::new();
        let mut at_alert = HashMap::new();
        let mut k_reached = HashMap::new();
        let mut fed: HashMap<Gold, usize> = HashMap::new();
        for (i, gold) in golds.iter().enumerate() {
            let composition = counts.entry(campaigns[i]).or_default();
            let held = composition.entry(gold.group()).or_default();
            *held += 1;
            let held = *held;
            let so_far = fed.entry(*gold).or_default();
            *so_far += 1;
            if matches!(gold, Gold::Planted(_) | Gold::Resurfaced(_)) && held >= K_ITEMS {
                k_reached.entry(*gold).or_insert(*so_far);
            }
            if alert_items.contains(&i) {
                at_alert.insert(i, composition.clone());
            }
        }
        Self { golds, campaigns, alerts, sizes, members, at_alert, k_reached, items }
    }

    /// Items of `gold` among the first `item + 1`.
    fn fed_by(&self, gold: Gold, item: usize) -> usize {
        self.golds[..=item].iter().filter(|g| **g == gold).count()
    }

    /// True when `gold`'s items were the majority of the alerting campaign when it alerted.
    fn about(&self, raised: &RaisedAlert, gold: Gold) -> bool {
        let mine = self.at_alert.get(&raised.item).and_then(|c| c.get(&gold)).copied().unwrap_or(0);
        mine * 2 > raised.alert.size as usize
    }

    /// Purity and fragmentation of one gold group: the share of the items of the campaigns
    /// holding its items that are its own, how many campaigns hold them, and the largest one's
    /// share of them.
    fn purity(&self, gold: Gold) -> (f64, usize, f64) {
        let members = self.members.get(&gold).map_or(&[][..], Vec::as_slice);
        let mut mine: BTreeMap<CampaignId, usize> = BTreeMap::new();
        for &i in members {
            *mine.entry(self.campaigns[i]).or_default() += 1;
        }
        let total: usize = mine.keys().map(|c| self.sizes[c]).sum();
        let largest = mine.values().copied().max().unwrap_or(0);
        (ratio(members.len(), total), mine.len(), ratio(largest, members.len()))
    }

    fn detect(&self, gold: Gold, spec: &BurstSpec) -> Detection {
        let opening = self.alerts.iter().find(|a| a.alert.kind == "opening" && self.about(a, gold));
        let any = self.alerts.iter().find(|a| self.about(a, gold));
        let hours_after = |a: &RaisedAlert| (a.alert.at - spec.start).num_seconds() as f64 / 3600.0;
        Detection {
            opening_items: opening.map(|a| self.fed_by(gold, a.item)),
            opening_hours: opening.map(hours_after),
            any_items: any.map(|a| self.fed_by(gold, a.item)),
            any_hours: any.map(hours_after),
            k_items: self.k_reached.get(&gold).copied(),
        }
    }
}

struct Detection {
    opening_items: Option<usize>,
    opening_hours: Option<f64>,
    any_items: Option<usize>,
    any_hours: Option<f64>,
    k_items: Option<usize>,
}

struct DetectionFigures {
    campaigns: usize,
    opening_within: f64,
    opening_ever: f64,
    opening_needed_median: f64,
    opening_hours_median: f64,
    any_within: f64,
    any_ever: f64,
    any_needed_median: f64,
    any_hours_median: f64,
    k_within: f64,
    k_ever: f64,
    k_needed_median: f64,
    histogram: BTreeMap<String, usize>,
}

fn detection_figures(detections: &[Detection]) -> DetectionFigures {
    let n = detections.len();
    let within = |f: &dyn Fn(&Detection) -> Option<usize>| {
        ratio(detections.iter().filter(|d| f(d).is_some_and(|k| k <= DETECT_WITHIN_ITEMS)).count(), n)
    };
    let ever = |f: &dyn Fn(&Detection) -> Option<usize>| ratio(detections.iter().filter(|d| f(d).is_some()).count(), n);
    let median_of =
        |f: &dyn Fn(&Detection) -> Option<f64>| median(&detections.iter().filter_map(f).collect::<Vec<_>>());
    let mut histogram: BTreeMap<String, usize> = BTreeMap::new();
    for d in detections {
        let key = match d.opening_items {
            Some(k) if k <= 9 => format!("{k}"),
            Some(_) => "10+".to_owned(),
            None => "never".to_owned(),
        };
        *histogram.entry(key).or_default() += 1;
    }
    DetectionFigures {
        campaigns: n,
        opening_within: within(&|d| d.opening_items),
        opening_ever: ever(&|d| d.opening_items),
        opening_needed_median: median_of(&|d| d.opening_items.map(|k| k as f64)),
        opening_hours_median: median_of(&|d| d.opening_hours),
        any_within: within(&|d| d.any_items),
        any_ever: ever(&|d| d.any_items),
        any_needed_median: median_of(&|d| d.any_items.map(|k| k as f64)),
        any_hours_median: median_of(&|d| d.any_hours),
        k_within: within(&|d| d.k_items),
        k_ever: ever(&|d| d.k_items),
        k_needed_median: median_of(&|d| d.k_items.map(|k| k as f64)),
        histogram,
    }
}

fn detection_json(f: &DetectionFigures) -> Value {
    json!({
        "campaigns": f.campaigns,
        "opening_alert_within_5_items": r6(f.opening_within),
        "opening_alert_ever": r6(f.opening_ever),
        "opening_items_needed_median": r6(f.opening_needed_median),
        "opening_hours_after_first_item_median": r6(f.opening_hours_median),
        "opening_items_needed_histogram": f.histogram,
        "any_alert_within_5_items": r6(f.any_within),
        "any_alert_ever": r6(f.any_ever),
        "any_alert_items_needed_median": r6(f.any_needed_median),
        "any_alert_hours_after_first_item_median": r6(f.any_hours_median),
        "k_items_within_5_items": r6(f.k_within),
        "k_items_ever": r6(f.k_ever),
        "k_items_needed_median": r6(f.k_needed_median),
    })
}

struct SurgeResult {
    delay_hours: Option<f64>,
    any_2h: bool,
    early_alerts: usize,
}

fn surge_results(outcome: &Outcome<'_>, surges: &[SurgeSpec]) -> Vec<SurgeResult> {
    surges
        .iter()
        .enumerate()
        .map(|(s, spec)| {
            let gold = Gold::Surge(s);
            let holding: BTreeSet<CampaignId> = outcome
                .members
                .get(&gold)
                .map(|m| m.iter().map(|&i| outcome.campaigns[i]).collect())
                .unwrap_or_default();
            let deadline = spec.surge_start + Duration::hours(SURGE_DEADLINE_HOURS);
            let surge_alert = |raised: &&RaisedAlert| {
                holding.contains(&raised.alert.campaign)
                    && raised.alert.kind != "opening"
                    && outcome.about(raised, gold)
            };
            let first_after = outcome.alerts.iter().filter(surge_alert).find(|a| a.alert.at >= spec.surge_start);
            SurgeResult {
                delay_hours: first_after.map(|a| (a.alert.at - spec.surge_start).num_seconds() as f64 / 3600.0),
                any_2h: outcome.alerts.iter().any(|a| {
                    holding.contains(&a.alert.campaign) && a.alert.at >= spec.surge_start && a.alert.at <= deadline
                }),
                early_alerts: outcome
                    .alerts
                    .iter()
                    .filter(surge_alert)
                    .filter(|a| a.alert.at < spec.surge_start)
                    .count(),
            }
        })
        .collect()
}

fn report_json(report: &infodemic_campaigns::evaluate::ClusteringReport) -> Value {
    json!({
        "items": report.items,
        "gold_clusters": report.gold_clusters,
        "predicted_clusters": report.predicted_clusters,
        "bcubed_precision": r6(report.precision),
        "bcubed_recall": r6(report.recall),
        "bcubed_f1": r6(report.f1),
        "ari": r6(report.ari),
        "purity": r6(report.purity),
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = parse_args()?;
    let world = generate(&options)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let started = std::time::Instant::now();
    let output = runtime.block_on(run(&world.items, options.settings.clone()))?;
    let seconds = started.elapsed().as_secs_f64();
    let (merged, loosely_matched) = (output.merged, output.loosely_matched);
    let batch_campaigns = output.batch_campaigns;
    let outcome = Outcome::new(&world.items, output.campaigns, output.alerts);
    let mut figures = evaluate(&outcome, &world, &options, seconds);
    figures["campaigns_merged"] = json!(merged);
    figures["alerts_matched_by_time_only"] = json!(loosely_matched);
    if options.json {
        println!("{figures}");
        return Ok(());
    }
    print_report(&figures, &options);
    if options.explain {
        explain(&outcome, &world, &batch_campaigns);
    }
    Ok(())
}

fn evaluate(outcome: &Outcome<'_>, world: &World, options: &Options, seconds: f64) -> Value {
    let golds = &outcome.golds;
    // Purity of planted and surge campaigns.
    let (mut planted_purity, mut planted_fragments, mut planted_largest) = (Vec::new(), Vec::new(), Vec::new());
    for p in 0..world.planted.len() {
        let (purity, fragments, largest) = outcome.purity(Gold::Planted(p));
        planted_purity.push(purity);
        planted_fragments.push(fragments as f64);
        planted_largest.push(largest);
    }
    let (mut surge_purity, mut surge_largest) = (Vec::new(), Vec::new());
    for s in 0..world.surges.len() {
        let (purity, _, largest) = outcome.purity(Gold::Surge(s));
        surge_purity.push(purity);
        surge_largest.push(largest);
    }
    let pure_share = ratio(planted_purity.iter().filter(|&&p| p >= 0.95).count(), planted_purity.len());

    // B-cubed and friends, resurfaced items left out (their claim is in the background).
    let kept: Vec<usize> = (0..golds.len()).filter(|&i| !matches!(golds[i], Gold::Resurfaced(_))).collect();
    let predicted: Vec<u64> = kept.iter().map(|&i| outcome.campaigns[i].0).collect();
    let singletons: Vec<(u8, u64)> = kept.iter().map(|&i| golds[i].label()).collect();
    let own: Vec<(u8, u64)> = kept
        .iter()
        .map(|&i| match golds[i] {
            Gold::Background(_) => (0, outcome.campaigns[i].0),
            other => other.label(),
        })
        .collect();
    let planted_only: Vec<usize> = (0..kept.len()).filter(|&k| singletons[k].0 != 0).collect();
    let all_singletons = score_clustering(&singletons, &predicted);
    let all_own = score_clustering(&own, &predicted);
    let planted_scores = score_clustering(
        &planted_only.iter().map(|&k| singletons[k]).collect::<Vec<_>>(),
        &planted_only.iter().map(|&k| predicted[k]).collect::<Vec<_>>(),
    );

    // Detection.
    let planted_detections: Vec<Detection> =
        world.planted.iter().enumerate().map(|(p, spec)| outcome.detect(Gold::Planted(p), spec)).collect();
    let resurfaced_detections: Vec<Detection> =
        world.resurfaced.iter().enumerate().map(|(r, spec)| outcome.detect(Gold::Resurfaced(r), spec)).collect();
    let planted_figures = detection_figures(&planted_detections);
    let resurfaced_figures = detection_figures(&resurfaced_detections);
    let mut by_duration: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (spec, d) in world.planted.iter().zip(&planted_detections) {
        let bucket = match spec.hours {
            h if h < 4.0 => "1-4 h",
            h if h < 8.0 => "4-8 h",
            _ => "8-12 h",
        };
        let entry = by_duration.entry(bucket).or_default();
        entry.0 += 1;
        entry.1 += usize::from(d.opening_items.is_some_and(|n| n <= DETECT_WITHIN_ITEMS));
    }
    // Campaigns whose 5th item falls inside the opening window (the first item's hour and the
    // next opening_window_hours - 1), i.e. those the opening rule can catch by the 5th item.
    let window = i64::from(options.settings.surge.opening_window_hours);
    let (mut inside, mut inside_detected) = (0usize, 0usize);
    for (p, d) in planted_detections.iter().enumerate() {
        let times: Vec<DateTime<Utc>> = outcome
            .items
            .iter()
            .filter(|g| g.gold == Gold::Planted(p))
            .filter_map(|g| g.item.time)
            .take(K_ITEMS)
            .collect();
        if let (Some(first), Some(fifth)) = (times.first(), times.get(K_ITEMS - 1)) {
            if fifth.timestamp().div_euclid(3600) < first.timestamp().div_euclid(3600) + window {
                inside += 1;
                inside_detected += usize::from(d.opening_items.is_some_and(|n| n <= DETECT_WITHIN_ITEMS));
            }
        }
    }

    // Alerts on campaigns of background items only are false.
    let mut campaign_has_planted: BTreeSet<CampaignId> = BTreeSet::new();
    for members in outcome.members.values() {
        campaign_has_planted.extend(members.iter().map(|&i| outcome.campaigns[i]));
    }
    let mut false_alerts: BTreeMap<String, usize> = BTreeMap::new();
    let mut false_examples: Vec<Value> = Vec::new();
    for raised in outcome.alerts.iter().filter(|a| !campaign_has_planted.contains(&a.alert.campaign)) {
        *false_alerts.entry(raised.alert.kind.clone()).or_default() += 1;
        if false_examples.len() < 5 {
            false_examples.push(json!({
                "campaign": raised.alert.campaign.to_string(),
                "kind": raised.alert.kind,
                "size": raised.alert.size,
                "summary": raised.alert.summary,
                "final_size": outcome.sizes.get(&raised.alert.campaign).copied().unwrap_or(0),
            }));
        }
    }
    let false_total: usize = false_alerts.values().sum();
    let false_per_1000 = 1000.0 * false_total as f64 / world.background_items.max(1) as f64;

    // Surges.
    let results = surge_results(outcome, &world.surges);
    let count = |filter: &dyn Fn(&SurgeSpec) -> bool, pick: &dyn Fn(&SurgeResult) -> bool| {
        let selected: Vec<&SurgeResult> =
            world.surges.iter().zip(&results).filter(|(spec, _)| filter(spec)).map(|(_, r)| r).collect();
        (selected.iter().filter(|r| pick(r)).count(), selected.len())
    };
    let within_2h = |r: &SurgeResult| r.delay_hours.is_some_and(|d| d <= SURGE_DEADLINE_HOURS as f64);
    let within_6h = |r: &SurgeResult| r.delay_hours.is_some_and(|d| d <= SURGE_HOURS);
    let (all_hit, all_n) = count(&|_| true, &within_2h);
    let (low_hit, low_n) = count(&|s| s.rate <= 1.0, &within_2h);
    let (big_hit, big_n) = count(&|s| s.extra_in_deadline >= MIN_EXTRA_ITEMS, &within_2h);
    let (hit_6h, _) = count(&|_| true, &within_6h);
    let (any_hit, _) = count(&|_| true, &|r| r.any_2h);
    let early_total: usize = results.iter().map(|r| r.early_alerts).sum();
    let baseline_total: usize = world.surges.iter().map(|s| s.baseline_items).sum();
    let mut cells: Vec<Value> = Vec::new();
    for rate in SURGE_RATES {
        for multiplier in SURGE_MULTIPLIERS {
            let in_cell = |s: &SurgeSpec| (s.rate - rate).abs() < 1e-9 && (s.multiplier - multiplier).abs() < 1e-9;
            let (hit, n) = count(&in_cell, &within_2h);
            let (hit6, _) = count(&in_cell, &within_6h);
            let delays: Vec<f64> = world
                .surges
                .iter()
                .zip(&results)
                .filter(|(s, _)| in_cell(s))
                .filter_map(|(_, r)| r.delay_hours)
                .collect();
            let extra: Vec<f64> = world.surges.iter().filter(|s| in_cell(s)).map(|s| s.extra_in_deadline).collect();
            cells.push(json!({
                "rate": rate, "multiplier": multiplier, "surges": n,
                "detected_2h": hit, "detected_6h": hit6,
                "median_delay_hours": r6(median(&delays)),
                "mean_extra_items_2h": r6(mean(&extra)),
            }));
        }
    }

    let group_items = |f: &dyn Fn(Gold) -> bool| golds.iter().filter(|g| f(**g)).count();
    let mut planted_json = detection_json(&planted_figures);
    planted_json["by_duration"] = json!(by_duration
        .iter()
        .map(|(k, (n, hit))| ((*k).to_owned(), json!({"campaigns": n, "within_5_items": hit})))
        .collect::<BTreeMap<_, _>>());
    planted_json["fifth_item_inside_opening_window"] = json!(inside);
    planted_json["of_those_within_5_items"] = json!(inside_detected);
    json!({
        "seed": options.seed,
        "settings": {
            "simhash": !options.no_simhash,
            "threshold": options.settings.grouping.threshold,
            "opening_items": options.settings.surge.opening_items,
            "opening_window_hours": options.settings.surge.opening_window_hours,
        },
        "items": golds.len(),
        "background_items": world.background_items,
        "background_days": r6(world.span_days),
        "claims_rejected_as_seen": world.claims_rejected,
        "planted_campaigns": world.planted.len(),
        "planted_items": group_items(&|g| matches!(g, Gold::Planted(_))),
        "planted_posters_mean": r6(mean(&world.planted.iter().map(|p| p.posters as f64).collect::<Vec<_>>())),
        "resurfaced_campaigns": world.resurfaced.len(),
        "resurfaced_items": group_items(&|g| matches!(g, Gold::Resurfaced(_))),
        "surge_campaigns": world.surges.len(),
        "surge_items": group_items(&|g| matches!(g, Gold::Surge(_))),
        "campaigns": outcome.sizes.len(),
        "alerts": outcome.alerts.len(),
        "assign_seconds": r6(seconds),
        "purity": {
            "planted_mean": r6(mean(&planted_purity)),
            "planted_median": r6(median(&planted_purity)),
            "planted_min": r6(planted_purity.iter().copied().fold(f64::INFINITY, f64::min)),
            "planted_share_at_least_0_95": r6(pure_share),
            "planted_fragments_mean": r6(mean(&planted_fragments)),
            "planted_largest_share_mean": r6(mean(&planted_largest)),
            "surge_mean": r6(mean(&surge_purity)),
            "surge_min": r6(surge_purity.iter().copied().fold(f64::INFINITY, f64::min)),
            "surge_largest_share_mean": r6(mean(&surge_largest)),
        },
        "clustering": {
            "background_singletons": report_json(&all_singletons),
            "background_own_campaigns": report_json(&all_own),
            "planted_and_surge_items_only": report_json(&planted_scores),
        },
        "detection": planted_json,
        "resurfacing": detection_json(&resurfaced_figures),
        "false_alerts": {
            "total": false_total,
            "per_1000_background_items": r6(false_per_1000),
            "by_kind": false_alerts,
            "examples": false_examples,
        },
        "surges": {
            "detected_within_2h": all_hit, "surges": all_n,
            "rate_0_2_to_1_detected_within_2h": low_hit, "rate_0_2_to_1_surges": low_n,
            "at_least_16_extra_items_detected_within_2h": big_hit, "at_least_16_extra_items_surges": big_n,
            "detected_within_6h": hit_6h,
            "any_alert_on_holding_campaigns_within_2h": any_hit,
            "surge_alerts_before_the_surge": early_total,
            "baseline_items": baseline_total,
            "cells": cells,
        },
    })
}

fn print_report(f: &Value, options: &Options) {
    let num = |path: &str| path.split('.').fold(f, |v, key| &v[key]).as_f64().unwrap_or(f64::NAN);
    let pct = |path: &str| format!("{:.1} %", 100.0 * num(path));
    println!(
        "seed {}: {} items = {} background over {:.0} days ({} items/h) + {} planted campaigns ({} items) + {} resurfacing ({} items) + {} surge campaigns ({} items)",
        options.seed,
        num("items"),
        num("background_items"),
        num("background_days"),
        options.background_rate,
        num("planted_campaigns"),
        num("planted_items"),
        num("resurfaced_campaigns"),
        num("resurfaced_items"),
        num("surge_campaigns"),
        num("surge_items"),
    );
    println!(
        "fingerprints {}, grouping threshold {:.2}, opening rule {} items in {} h; {} campaigns ({} more merged away), {} alerts; assigned in {:.1} s; {} candidate claims refused as already seen",
        if f["settings"]["simhash"].as_bool().unwrap_or(true) { "on" } else { "off" },
        num("settings.threshold"),
        num("settings.opening_items"),
        num("settings.opening_window_hours"),
        num("campaigns"),
        num("campaigns_merged"),
        num("alerts"),
        num("assign_seconds"),
        num("claims_rejected_as_seen"),
    );
    if num("alerts_matched_by_time_only") > 0.0 {
        println!(
            "({} alerts were matched to the item that raised them by time only)",
            num("alerts_matched_by_time_only")
        );
    }
    println!();
    println!("{:<62} {:>16} {:>9} {:>6}", "figure", "measured", "target", "");
    let row = |name: &str, value: String, target: &str, ok: Option<bool>| {
        let verdict = ok.map_or("", |ok| if ok { "met" } else { "MISSED" });
        println!("{name:<62} {value:>16} {target:>9} {verdict:>6}");
    };
    let purity = num("purity.planted_mean");
    row("planted purity (mean over campaigns)", format!("{purity:.3}"), ">= 0.95", Some(purity >= 0.95));
    row("  median / min", format!("{:.3} / {:.3}", num("purity.planted_median"), num("purity.planted_min")), "", None);
    row("  planted campaigns with purity >= 0.95", pct("purity.planted_share_at_least_0_95"), "", None);
    row(
        "  campaigns holding one / largest one's share",
        format!("{:.2} / {:.3}", num("purity.planted_fragments_mean"), num("purity.planted_largest_share_mean")),
        "",
        None,
    );
    row(
        "surge-campaign purity mean / min",
        format!("{:.3} / {:.3}", num("purity.surge_mean"), num("purity.surge_min")),
        "",
        None,
    );
    for (label, key) in [
        ("B-cubed P / R / F1, background as singletons", "background_singletons"),
        ("B-cubed P / R / F1, background as its own campaigns", "background_own_campaigns"),
        ("B-cubed P / R / F1, planted and surge items only", "planted_and_surge_items_only"),
    ] {
        let get = |field: &str| num(&format!("clustering.{key}.{field}"));
        row(
            label,
            format!("{:.3}/{:.3}/{:.3}", get("bcubed_precision"), get("bcubed_recall"), get("bcubed_f1")),
            "",
            None,
        );
        row("  ARI / purity", format!("{:.3} / {:.3}", get("ari"), get("purity")), "", None);
    }
    let within = num("detection.opening_alert_within_5_items");
    row(
        "planted: opening alert within 5 items",
        pct("detection.opening_alert_within_5_items"),
        ">= 95 %",
        Some(within >= 0.95),
    );
    row(
        "  ever / median items needed / median hours",
        format!(
            "{:.0} % / {:.0} / {:.1}",
            100.0 * num("detection.opening_alert_ever"),
            num("detection.opening_items_needed_median"),
            num("detection.opening_hours_after_first_item_median")
        ),
        "",
        None,
    );
    println!("    items needed: {}", f["detection"]["opening_items_needed_histogram"]);
    println!("    within 5 items, by campaign duration: {}", f["detection"]["by_duration"]);
    row(
        "  of those whose 5th item is inside the opening window",
        format!(
            "{:.0} / {:.0}",
            num("detection.of_those_within_5_items"),
            num("detection.fifth_item_inside_opening_window")
        ),
        "",
        None,
    );
    row("  any alert (surge rules too) within 5 items", pct("detection.any_alert_within_5_items"), "", None);
    let k_within = num("detection.k_items_within_5_items");
    row(
        "planted: a campaign holds 5 of its items by its 5th item",
        pct("detection.k_items_within_5_items"),
        ">= 95 %",
        Some(k_within >= 0.95),
    );
    row(
        "  ever / median items needed",
        format!("{:.0} % / {:.0}", 100.0 * num("detection.k_items_ever"), num("detection.k_items_needed_median")),
        "",
        None,
    );
    if num("resurfaced_campaigns") > 0.0 {
        row(
            "resurfacing claims: opening alert within 5 items",
            pct("resurfacing.opening_alert_within_5_items"),
            "",
            None,
        );
        row(
            "  any alert within 5 items / ever",
            format!("{} / {}", pct("resurfacing.any_alert_within_5_items"), pct("resurfacing.any_alert_ever")),
            "",
            None,
        );
        row(
            "  median items / hours to the first alert",
            format!(
                "{:.0} / {:.1}",
                num("resurfacing.any_alert_items_needed_median"),
                num("resurfacing.any_alert_hours_after_first_item_median")
            ),
            "",
            None,
        );
        row("  a campaign holds 5 of its items by its 5th item", pct("resurfacing.k_items_within_5_items"), "", None);
    }
    let false_rate = num("false_alerts.per_1000_background_items");
    row("false alerts per 1,000 background items", format!("{false_rate:.2}"), "<= 1", Some(false_rate <= 1.0));
    println!("    by kind: {}", f["false_alerts"]["by_kind"]);
    if let Some(examples) = f["false_alerts"]["examples"].as_array() {
        for example in examples {
            println!("    e.g. {example}");
        }
    }
    let share = |hit: &str, n: &str| num(hit) / num(n).max(1.0);
    let all = share("surges.detected_within_2h", "surges.surges");
    row(
        "x5-x10 surges detected within 2 h, all baselines",
        format!("{:.1} %", 100.0 * all),
        ">= 90 %",
        Some(all >= 0.9),
    );
    let low = share("surges.rate_0_2_to_1_detected_within_2h", "surges.rate_0_2_to_1_surges");
    row("  baselines 0.2-1 item/h", format!("{:.1} %", 100.0 * low), ">= 90 %", Some(low >= 0.9));
    let big_n = num("surges.at_least_16_extra_items_surges");
    let big = share("surges.at_least_16_extra_items_detected_within_2h", "surges.at_least_16_extra_items_surges");
    row(
        &format!("  surges bringing >= 16 extra items in 2 h ({big_n:.0})"),
        format!("{:.1} %", 100.0 * big),
        ">= 90 %",
        Some(big_n > 0.0 && big >= 0.9),
    );
    row(
        "  detected within 6 h",
        format!("{:.1} %", 100.0 * share("surges.detected_within_6h", "surges.surges")),
        "",
        None,
    );
    row(
        "  any alert (opening too) on a holding campaign within 2 h",
        format!("{:.1} %", 100.0 * share("surges.any_alert_on_holding_campaigns_within_2h", "surges.surges")),
        "",
        None,
    );
    row(
        "  surge alerts before the surge / baseline items",
        format!("{:.0} / {:.0}", num("surges.surge_alerts_before_the_surge"), num("surges.baseline_items")),
        "",
        None,
    );
    println!("    rate  mult  surges  within 2 h  within 6 h  median delay (h)  mean extra items in 2 h");
    if let Some(cells) = f["surges"]["cells"].as_array() {
        for cell in cells {
            let get = |k: &str| cell[k].as_f64().unwrap_or(f64::NAN);
            println!(
                "    {:>4.1}  {:>4.0}  {:>6.0}  {:>10.0}  {:>10.0}  {:>16.2}  {:>23.1}",
                get("rate"),
                get("multiplier"),
                get("surges"),
                get("detected_2h"),
                get("detected_6h"),
                get("median_delay_hours"),
                get("mean_extra_items_2h")
            );
        }
    }
}

/// Where the items of the campaigns the opening alert missed went, and what the campaigns
/// holding them started with; where each surge campaign's items went.
fn explain(outcome: &Outcome<'_>, world: &World, batch_campaigns: &[CampaignId]) {
    let items = outcome.items;
    let mut first_item: HashMap<CampaignId, usize> = HashMap::new();
    for (i, c) in outcome.campaigns.iter().enumerate() {
        first_item.entry(*c).or_insert(i);
    }
    let bursts = world
        .planted
        .iter()
        .enumerate()
        .map(|(p, spec)| (Gold::Planted(p), spec))
        .chain(world.resurfaced.iter().enumerate().map(|(r, spec)| (Gold::Resurfaced(r), spec)));
    println!();
    println!("Campaigns the opening alert missed or caught after the 5th item:");
    for (gold, spec) in bursts {
        let detection = outcome.detect(gold, spec);
        if detection.opening_items.is_some_and(|n| n <= DETECT_WITHIN_ITEMS) {
            continue;
        }
        println!(
            "  {gold:?}: {} items over {:.1} h; opening alert at item {:?}, first alert of any kind at item {:?} ({:?} h)",
            spec.items, spec.hours, detection.opening_items, detection.any_items, detection.any_hours.map(r6)
        );
        for &i in outcome.members.get(&gold).map_or(&[][..], Vec::as_slice) {
            let generated = &items[i];
            let campaign = outcome.campaigns[i];
            let opener = &items[first_item[&campaign]];
            let offset = generated.item.time.map_or(0.0, |t| (t - spec.start).num_seconds() as f64 / 3600.0);
            println!(
                "    {:<16} +{offset:>5.2} h -> {campaign} (size {}, opened by {} at {}) {:.80}",
                generated.item.id,
                outcome.sizes[&campaign],
                opener.item.id,
                opener.item.time.map(|t| t.format("%m-%d %H:%M").to_string()).unwrap_or_default(),
                generated.item.text
            );
        }
    }
    println!("Planted and surge campaigns with purity under 0.95: what the campaigns holding them hold");
    let mut composition: HashMap<CampaignId, BTreeMap<Gold, usize>> = HashMap::new();
    for (campaign, gold) in outcome.campaigns.iter().zip(&outcome.golds) {
        *composition.entry(*campaign).or_default().entry(gold.group()).or_default() += 1;
    }
    for gold in outcome.members.keys().filter(|g| matches!(g, Gold::Planted(_) | Gold::Surge(_))) {
        let (purity, _, _) = outcome.purity(*gold);
        if purity >= 0.95 {
            continue;
        }
        let holding: BTreeSet<CampaignId> = outcome.members[gold].iter().map(|&i| outcome.campaigns[i]).collect();
        let parts: Vec<String> = holding
            .iter()
            .map(|c| {
                let opener = &items[first_item[c]];
                format!("{c} (opened by {}): {:?}", opener.item.id, composition[c])
            })
            .collect();
        println!("  {gold:?} purity {purity:.3}: {}", parts.join("; "));
        let claim = &items[outcome.members[gold][0]].item.text;
        println!("    claim: {claim:.150}");
        // The campaigns its items went to, in arrival order, as runs.
        let mut runs: Vec<(CampaignId, usize, String)> = Vec::new();
        for &i in &outcome.members[gold] {
            let campaign = outcome.campaigns[i];
            match runs.last_mut() {
                Some((last, n, _)) if *last == campaign => *n += 1,
                _ => runs.push((
                    campaign,
                    1,
                    items[i].item.time.map(|t| t.format("%m-%d %H:%M").to_string()).unwrap_or_default(),
                )),
            }
        }
        let runs: Vec<String> = runs.iter().take(30).map(|(c, n, t)| format!("{c}x{n}@{t}")).collect();
        println!("    arrivals: {}", runs.join(" "));
        for c in &holding {
            let opener = &items[first_item[c]];
            if opener.gold != *gold {
                println!("    {c} opened by {:?}: {:.150}", opener.gold, opener.item.text);
            }
        }
    }
    astray(outcome, batch_campaigns);
    fingerprint_collisions(outcome.items);
    println!("Surge campaigns: first surge alert after the start, and the campaigns holding their items:");
    let results = surge_results(outcome, &world.surges);
    for (s, (spec, result)) in world.surges.iter().zip(&results).enumerate() {
        let mut holding: BTreeMap<CampaignId, (usize, usize)> = BTreeMap::new();
        for &i in outcome.members.get(&Gold::Surge(s)).map_or(&[][..], Vec::as_slice) {
            let entry = holding.entry(outcome.campaigns[i]).or_default();
            if items[i].item.time.is_some_and(|t| t < spec.surge_start) {
                entry.0 += 1;
            } else {
                entry.1 += 1;
            }
        }
        let parts: Vec<String> = holding
            .iter()
            .map(|(c, (before, after))| {
                let opener = &items[first_item[c]];
                format!(
                    "{c} (size {}, opened by {}): {before} before, {after} from the surge on",
                    outcome.sizes[c], opener.item.id
                )
            })
            .collect();
        let delay = result.delay_hours.map_or("none".to_owned(), |d| format!("{d:.2} h"));
        if result.delay_hours.is_none_or(|d| d > SURGE_DEADLINE_HOURS as f64) {
            let alerts: Vec<String> = outcome
                .alerts
                .iter()
                .filter(|a| holding.contains_key(&a.alert.campaign))
                .map(|a| {
                    let hours = (a.alert.at - spec.surge_start).num_seconds() as f64 / 3600.0;
                    format!(
                        "{} on {} at {hours:+.1} h (size {}): {}",
                        a.alert.kind, a.raised_on, a.alert.size, a.alert.summary
                    )
                })
                .collect();
            println!("  s{s}: alerts on the campaigns holding it: {}", alerts.join(" | "));
        }
        println!(
            "  s{s} rate {} x{}: {delay}, {} early; {}",
            spec.rate,
            spec.multiplier,
            result.early_alerts,
            parts.join("; ")
        );
    }
}

/// Planted, surge and resurfacing items that joined a campaign opened by another gold group,
/// and whether a near-duplicate fingerprint (the grouper's `is_copy`: within
/// `NEAR_DUPLICATE_BITS` of one of the campaign's last 64 members) explains it.
fn astray(outcome: &Outcome<'_>, batch_campaigns: &[CampaignId]) {
    use infodemic_core::simhash::{distance, resemblance, NEAR_DUPLICATE_BITS};
    let items = outcome.items;
    let mut history: HashMap<CampaignId, Vec<usize>> = HashMap::new();
    let mut opener: HashMap<CampaignId, Gold> = HashMap::new();
    let (mut total, mut by_fingerprint) = (0usize, 0usize);
    let mut examples = Vec::new();
    for (i, generated) in items.iter().enumerate() {
        let campaign = batch_campaigns[i];
        let opened_by = *opener.entry(campaign).or_insert(generated.gold.group());
        let members = history.entry(campaign).or_default();
        if !matches!(generated.gold, Gold::Background(_)) && opened_by != generated.gold.group() && !members.is_empty()
        {
            total += 1;
            let recent = &members[members.len().saturating_sub(64)..];
            let closest = generated.item.simhash.and_then(|fingerprint| {
                recent
                    .iter()
                    .filter_map(|&j| items[j].item.simhash.map(|other| (distance(fingerprint, other), j)))
                    .min()
            });
            if let Some((bits, j)) = closest.filter(|(bits, _)| *bits <= NEAR_DUPLICATE_BITS) {
                by_fingerprint += 1;
                if examples.len() < 6 {
                    examples.push(format!(
                        "    {} -> {campaign} ({bits} bits from {}, trigram resemblance {:.2}):\n      {:.120}\n      {:.120}",
                        generated.item.id,
                        items[j].item.id,
                        resemblance(&generated.item.text, &items[j].item.text),
                        generated.item.text,
                        items[j].item.text
                    ));
                }
            }
        }
        members.push(i);
    }
    println!(
        "Planted items that joined a campaign another group opened: {total}; with a fingerprint within {NEAR_DUPLICATE_BITS} bits of one of its last 64 members: {by_fingerprint}"
    );
    for example in examples {
        println!("{example}");
    }
}

/// Pairs of items of different claims (at least one planted) whose fingerprints are within
/// `NEAR_DUPLICATE_BITS`: what the grouper's `is_copy` would take for a copy, since it checks
/// no resemblance.
fn fingerprint_collisions(items: &[Generated]) {
    use infodemic_core::simhash::{distance, resemblance, NEAR_DUPLICATE_BITS};
    let fingerprints: Vec<(u64, Gold)> =
        items.iter().filter_map(|g| g.item.simhash.map(|f| (f, g.gold.group()))).collect();
    let indexes: Vec<usize> =
        items.iter().enumerate().filter(|(_, g)| g.item.simhash.is_some()).map(|(i, _)| i).collect();
    let (mut pairs, mut colliding, mut low_resemblance) = (0u64, 0u64, 0u64);
    let mut items_hit = vec![false; fingerprints.len()];
    let mut examples = Vec::new();
    for a in 0..fingerprints.len() {
        for b in a + 1..fingerprints.len() {
            let ((fa, ga), (fb, gb)) = (fingerprints[a], fingerprints[b]);
            if ga == gb || (matches!(ga, Gold::Background(_)) && matches!(gb, Gold::Background(_))) {
                continue;
            }
            pairs += 1;
            if distance(fa, fb) <= NEAR_DUPLICATE_BITS {
                colliding += 1;
                items_hit[a] = true;
                items_hit[b] = true;
                let (ta, tb) = (&items[indexes[a]].item.text, &items[indexes[b]].item.text);
                if resemblance(ta, tb) < infodemic_core::simhash::MIN_RESEMBLANCE {
                    low_resemblance += 1;
                    if examples.len() < 4 {
                        examples.push(format!(
                            "    {} bits, resemblance {:.2}:\n      {:.110}\n      {:.110}",
                            distance(fa, fb),
                            resemblance(ta, tb),
                            ta,
                            tb
                        ));
                    }
                }
            }
        }
    }
    println!(
        "Fingerprints of different claims within {NEAR_DUPLICATE_BITS} bits: {colliding} of {pairs} pairs ({low_resemblance} with trigram resemblance under {}), touching {} of {} fingerprinted items",
        infodemic_core::simhash::MIN_RESEMBLANCE,
        items_hit.iter().filter(|h| **h).count(),
        fingerprints.len()
    );
    for example in examples {
        println!("{example}");
    }
    // The background alone: real texts, no frames added by this generator.
    let background: Vec<usize> =
        indexes.iter().copied().filter(|&i| matches!(items[i].gold, Gold::Background(_))).collect();
    let (mut pairs, mut unrelated) = (0u64, 0u64);
    for (k, &a) in background.iter().enumerate() {
        for &b in &background[k + 1..] {
            pairs += 1;
            let (Some(fa), Some(fb)) = (items[a].item.simhash, items[b].item.simhash) else { continue };
            if distance(fa, fb) <= NEAR_DUPLICATE_BITS && resemblance(&items[a].item.text, &items[b].item.text) < 0.1 {
                unrelated += 1;
            }
        }
    }
    println!(
        "Background texts alone (real, unframed): {unrelated} of {pairs} pairs within {NEAR_DUPLICATE_BITS} bits with trigram resemblance under 0.1 ({:.1e} per pair)",
        unrelated as f64 / pairs.max(1) as f64
    );
}
