//! Planted campaigns in a real background, through the real campaign stage
//! (`CampaignTracker` on a temporary store): how pure the campaigns are, how many items a
//! campaign needs before it is detected, how many alerts the background raises on its own, and
//! whether ×5 to ×10 surges on long-running campaigns are caught within 2 hours.
//!
//! ```sh
//! cargo run --release -p infodemic-benches --bin planted_campaigns -- [--seed 1] [--campaigns 100] [--surges 40] [--json]
//! ```
//!
//! - **Background**: the claims Cheng et al. (`covid19-rumor-cheng2020/news.csv`) label false
//!   and the CONSTRAINT training tweets labelled fake (misinformation-like, as the items the
//!   model flags for review are), each once, arriving as a Poisson process (`--background-rate`
//!   items/h, 3 by default, so weeks of it) from sources drawn from the 200 commonest hosts of
//!   the story stream. Read from `../shared/datasets`, never copied.
//! - **Planted campaigns** (`--campaigns`): a claim held out of the background (no background
//!   text shares a quarter of its terms), 8 to 20 items over 1 to 12 hours from 3 to 10
//!   accounts: the claim, exact copies, copies with a prefix or suffix ("BREAKING:", "Share
//!   before they delete this!", hashtags, a shared link), and paraphrases (synonym swaps, word
//!   drops, clause reorderings).
//! - **Surges** (`--surges`): long-running campaigns of another held-out claim, Poisson at
//!   0.2, 0.5, 1 or 2 items/h for 7 to 10 days, then ×5 or ×10 for 6 hours, then back to the
//!   baseline for a day.
//!
//! Everything is merged in time order and assigned in batches of 1,000. Deterministic for a
//! seed (a xorshift generator; no other randomness).

#![allow(clippy::print_stdout, clippy::print_stderr)] // A bench binary reports on the terminal.

#[allow(dead_code)] // Shared with campaigns_scale, which uses the rest.
mod campaign_corpus;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use campaign_corpus::{campaign_item, default_data_dir, framed, paraphrase, Rng};
use chrono::{DateTime, Duration, Utc};
use infodemic_campaigns::evaluate::score_clustering;
use infodemic_campaigns::terms::term_counts;
use infodemic_core::{Alert, CampaignId};
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
/// Extra items in a surge's first 2 hours from which the surge rules claim ≥ 90 % (see
/// `infodemic_campaigns::surge`).
const MIN_EXTRA_ITEMS: f64 = 16.0;
/// Held-out claims share less than this share of their terms (Jaccard) with any background text.
const MAX_HELD_OUT_OVERLAP: f64 = 0.25;

struct Options {
    seed: u64,
    campaigns: usize,
    surges: usize,
    background_rate: f64,
    data: PathBuf,
    json: bool,
    explain: bool,
}

fn parse_args() -> Result<Options, String> {
    let mut options =
        Options { seed: 1, campaigns: 100, surges: 40, background_rate: 3.0, data: default_data_dir(), json: false, explain: false };
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
            other => {
                return Err(format!(
                    "unknown argument {other} (--seed N, --campaigns N, --surges N, --background-rate R, --data DIR, --json, --explain)"
                ))
            }
        }
    }
    if !(options.background_rate > 0.0) {
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
}

struct Generated {
    item: CampaignItem,
    gold: Gold,
}

struct PlantedSpec {
    items: usize,
    hours: f64,
    posters: usize,
    start: DateTime<Utc>,
}

struct SurgeSpec {
    rate: f64,
    multiplier: f64,
    surge_start: DateTime<Utc>,
    /// Items of the campaign in the surge's first 2 hours, minus the baseline's expectation.
    extra_in_deadline: f64,
    baseline_items: usize,
}

fn at(unix: f64) -> DateTime<Utc> {
    DateTime::from_timestamp(unix.floor() as i64, 0).unwrap_or_default()
}

fn hours(h: f64) -> f64 {
    h * 3600.0
}

/// Claims for the planted and surge campaigns, and the background: held-out claims share
/// under [`MAX_HELD_OUT_OVERLAP`] of their terms with every background text and each other.
fn split_claims(pool: Vec<String>, wanted: usize) -> (Vec<String>, Vec<String>) {
    let term_sets: Vec<BTreeSet<String>> = pool.iter().map(|t| term_counts(t).into_keys().collect()).collect();
    let jaccard = |a: &BTreeSet<String>, b: &BTreeSet<String>| {
        let shared = a.intersection(b).count();
        let union = a.len() + b.len() - shared;
        if union == 0 {
            0.0
        } else {
            shared as f64 / union as f64
        }
    };
    let mut held: Vec<usize> = Vec::new();
    for (index, text) in pool.iter().enumerate() {
        if held.len() >= wanted {
            break;
        }
        let words = text.split(' ').count();
        if !(12..=60).contains(&words) || term_sets[index].len() < 6 {
            continue;
        }
        let distinct = pool
            .iter()
            .enumerate()
            .all(|(other, _)| other == index || jaccard(&term_sets[index], &term_sets[other]) < MAX_HELD_OUT_OVERLAP);
        if distinct {
            held.push(index);
        }
    }
    let held_set: BTreeSet<usize> = held.iter().copied().collect();
    let claims = held.iter().map(|&i| pool[i].clone()).collect();
    let background =
        pool.into_iter().enumerate().filter(|(i, _)| !held_set.contains(i)).map(|(_, text)| text).collect();
    (claims, background)
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

fn poster(hosts: &[String], rng: &mut Rng, campaign: &str, index: usize) -> (String, String) {
    (rng.pick(hosts).clone(), format!("@{campaign}_acct{index}_{}", rng.below(10_000)))
}

struct World {
    items: Vec<Generated>,
    planted: Vec<PlantedSpec>,
    surges: Vec<SurgeSpec>,
    background_items: usize,
    span_days: f64,
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
    let (claims, background) = split_claims(pool, wanted);
    if claims.len() < wanted {
        return Err(format!("only {} claims can be held out, {wanted} wanted", claims.len()).into());
    }

    let mut items = Vec::new();
    // Background: a Poisson process.
    let mut clock = START_UNIX as f64;
    let mean_gap = 3600.0 / options.background_rate;
    for (index, text) in background.iter().enumerate() {
        clock += rng.exponential(mean_gap);
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
    let span = clock - START_UNIX as f64;
    let background_items = items.len();

    let mut planted = Vec::new();
    for p in 0..options.campaigns {
        let claim = &claims[p];
        let n = rng.between(8, 20);
        let duration = 1.0 + 11.0 * rng.uniform();
        let n_posters = rng.between(3, 10);
        let start = START_UNIX as f64 + hours(48.0) + rng.uniform() * (span - hours(72.0)).max(0.0);
        let name = format!("p{p}");
        let posters: Vec<(String, String)> = (0..n_posters).map(|i| poster(&hosts, &mut rng, &name, i)).collect();
        let link = rng.chance(0.5).then(|| format!("https://bit.ly/{:x}", rng.next_u64() & 0xff_ffff));
        let mut offsets: Vec<f64> = (1..n).map(|_| rng.uniform() * hours(duration)).collect();
        offsets.push(0.0);
        offsets.sort_by(f64::total_cmp);
        for (j, offset) in offsets.into_iter().enumerate() {
            // Every poster posts at least once, then at random.
            let (host, account) = if j < n_posters { &posters[j] } else { rng.pick(&posters) };
            let (text, links) = repost(claim, j == 0, link.as_deref(), &mut rng);
            items.push(Generated {
                item: campaign_item(
                    format!("plant-{p:03}-{j:02}"),
                    text,
                    at(start + offset),
                    format!("https://{host}/{}/status/{p}{j:02}", account.trim_start_matches('@')),
                    host.clone(),
                    Some(account.clone()),
                    links,
                ),
                gold: Gold::Planted(p),
            });
        }
        planted.push(PlantedSpec { items: n, hours: duration, posters: n_posters, start: at(start) });
    }

    let mut surges = Vec::new();
    for s in 0..options.surges {
        let claim = &claims[options.campaigns + s];
        let cell = s % (SURGE_RATES.len() * SURGE_MULTIPLIERS.len());
        let rate = SURGE_RATES[cell % SURGE_RATES.len()];
        let multiplier = SURGE_MULTIPLIERS[cell / SURGE_RATES.len()];
        let baseline_days = 7.0 + 3.0 * rng.uniform();
        let start = START_UNIX as f64 + hours(24.0) + rng.uniform() * (span - hours(24.0 * 12.0)).max(0.0);
        let surge_start = start + hours(24.0 * baseline_days);
        let surge_end = surge_start + hours(SURGE_HOURS);
        let end = surge_end + hours(24.0);
        let name = format!("s{s}");
        let n_posters = rng.between(5, 15);
        let posters: Vec<(String, String)> = (0..n_posters).map(|i| poster(&hosts, &mut rng, &name, i)).collect();
        let link = rng.chance(0.5).then(|| format!("https://bit.ly/{:x}", rng.next_u64() & 0xff_ffff));
        let mut time = start;
        let mut j = 0usize;
        let (mut in_deadline, mut baseline_items) = (0usize, 0usize);
        while time < end {
            let (host, account) = rng.pick(&posters).clone();
            let (text, links) = repost(claim, j == 0, link.as_deref(), &mut rng);
            if time >= surge_start && time < surge_start + hours(SURGE_DEADLINE_HOURS as f64) {
                in_deadline += 1;
            }
            if time < surge_start {
                baseline_items += 1;
            }
            items.push(Generated {
                item: campaign_item(
                    format!("surge-{s:03}-{j:04}"),
                    text,
                    at(time),
                    format!("https://{host}/{}/status/{s}{j:04}", account.trim_start_matches('@')),
                    host,
                    Some(account),
                    links,
                ),
                gold: Gold::Surge(s),
            });
            j += 1;
            let current = if time >= surge_start && time < surge_end { rate * multiplier } else { rate };
            let next = time + rng.exponential(3600.0 / current);
            // A gap that crosses the surge's start restarts at it (memorylessness).
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
    Ok(World { items, planted, surges, background_items, span_days: span / 86_400.0 })
}

/// An alert with the index (in feeding order) of the item that raised it.
struct RaisedAlert {
    alert: Alert,
    item: usize,
}

/// Feeds everything through the tracker; returns each item's campaign and the alerts.
async fn run(items: &[Generated]) -> Result<(Vec<CampaignId>, Vec<RaisedAlert>), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let (store, _) = SledStore::open(&dir.path().join("store"))?;
    let tracker = CampaignTracker::open(&store, CampaignSettings::default()).await?;
    let mut campaigns = Vec::with_capacity(items.len());
    let mut raised = Vec::new();
    let mut sizes: HashMap<CampaignId, u32> = HashMap::new();
    for (batch_index, batch) in items.chunks(BATCH).enumerate() {
        let report = tracker.assign(batch.iter().map(|g| g.item.clone()).collect()).await?;
        let mut alerts = report.alerts.into_iter().peekable();
        for (offset, (assignment, generated)) in report.assignments.iter().zip(batch).enumerate() {
            let size = sizes.entry(assignment.campaign).or_default();
            *size += 1;
            campaigns.push(assignment.campaign);
            // Alerts come in the order of the items that raised them, with the campaign's size
            // and the item's time.
            while let Some(alert) = alerts.peek() {
                let matches = alert.campaign == assignment.campaign
                    && Some(alert.at) == generated.item.time
                    && alert.size == *size;
                if !matches {
                    break;
                }
                if let Some(alert) = alerts.next() {
                    raised.push(RaisedAlert { alert, item: batch_index * BATCH + offset });
                }
            }
        }
        if let Some(left) = alerts.next() {
            return Err(format!("alert {} on {} not matched to an item", left.seq, left.campaign).into());
        }
    }
    drop(tracker);
    drop(store);
    Ok((campaigns, raised))
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

/// Purity and fragmentation of one gold group: the share of the items of the campaigns holding
/// its items that are its own, how many campaigns hold them, and the largest one's share.
fn group_purity(
    members: &[usize],
    campaigns: &[CampaignId],
    golds: &[Gold],
    sizes: &HashMap<CampaignId, usize>,
) -> (f64, usize, f64) {
    let gold = golds[members[0]];
    let mut mine: BTreeMap<CampaignId, usize> = BTreeMap::new();
    for &i in members {
        *mine.entry(campaigns[i]).or_default() += 1;
    }
    let total: usize = mine.keys().map(|c| sizes[c]).sum();
    let largest = mine.values().copied().max().unwrap_or(0);
    let _ = gold;
    (ratio(members.len(), total), mine.len(), ratio(largest, members.len()))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = parse_args()?;
    let world = generate(&options)?;
    let items = &world.items;
    let golds: Vec<Gold> = items.iter().map(|g| g.gold).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let started = std::time::Instant::now();
    let (campaigns, alerts) = runtime.block_on(run(items))?;
    let seconds = started.elapsed().as_secs_f64();

    let mut sizes: HashMap<CampaignId, usize> = HashMap::new();
    for c in &campaigns {
        *sizes.entry(*c).or_default() += 1;
    }
    let mut by_gold: BTreeMap<Gold, Vec<usize>> = BTreeMap::new();
    for (i, gold) in golds.iter().enumerate() {
        let key = match gold {
            Gold::Background(_) => continue,
            other => *other,
        };
        by_gold.entry(key).or_default().push(i);
    }
    // Campaigns holding planted or surge items.
    let mut planted_campaigns: BTreeSet<CampaignId> = BTreeSet::new();
    for members in by_gold.values() {
        planted_campaigns.extend(members.iter().map(|&i| campaigns[i]));
    }

    // Purity.
    let mut planted_purity = Vec::new();
    let mut planted_fragments = Vec::new();
    let mut planted_largest = Vec::new();
    let mut surge_purity = Vec::new();
    let mut surge_largest = Vec::new();
    for (gold, members) in &by_gold {
        let (purity, fragments, largest) = group_purity(members, &campaigns, &golds, &sizes);
        match gold {
            Gold::Planted(_) => {
                planted_purity.push(purity);
                planted_fragments.push(fragments as f64);
                planted_largest.push(largest);
            }
            Gold::Surge(_) => {
                surge_purity.push(purity);
                surge_largest.push(largest);
            }
            Gold::Background(_) => {}
        }
    }
    let pure_share = ratio(planted_purity.iter().filter(|&&p| p >= 0.95).count(), planted_purity.len());

    // B-cubed and friends.
    let predicted: Vec<u64> = campaigns.iter().map(|c| c.0).collect();
    let gold_singletons: Vec<(u8, u64)> = golds
        .iter()
        .map(|g| match g {
            Gold::Background(i) => (0, *i as u64),
            Gold::Planted(p) => (1, *p as u64),
            Gold::Surge(s) => (2, *s as u64),
        })
        .collect();
    let all_singletons = score_clustering(&gold_singletons, &predicted);
    let gold_own: Vec<(u8, u64)> = golds
        .iter()
        .zip(&campaigns)
        .map(|(g, c)| match g {
            Gold::Background(_) => (0, c.0),
            Gold::Planted(p) => (1, *p as u64),
            Gold::Surge(s) => (2, *s as u64),
        })
        .collect();
    let all_own = score_clustering(&gold_own, &predicted);
    let planted_only: Vec<usize> = (0..items.len()).filter(|&i| !matches!(golds[i], Gold::Background(_))).collect();
    let planted_scores = score_clustering(
        &planted_only.iter().map(|&i| gold_singletons[i]).collect::<Vec<_>>(),
        &planted_only.iter().map(|&i| predicted[i]).collect::<Vec<_>>(),
    );

    // Composition of each campaign as items arrive, to judge what an alert was about.
    // `running[k]` = counts per gold of the campaign of item k, up to item k.
    let alert_items: BTreeSet<usize> = alerts.iter().map(|a| a.item).collect();
    let mut counts: HashMap<CampaignId, HashMap<Gold, usize>> = HashMap::new();
    let mut at_alert: HashMap<usize, HashMap<Gold, usize>> = HashMap::new();
    // Per planted campaign: the item index at which some campaign first held K of its items.
    let mut k_reached: BTreeMap<usize, usize> = BTreeMap::new();
    // Planted items fed so far, per planted campaign, at each item index (for items needed).
    let mut fed: HashMap<Gold, usize> = HashMap::new();
    let mut fed_at: Vec<usize> = Vec::with_capacity(items.len());
    for (i, gold) in golds.iter().enumerate() {
        let campaign_counts = counts.entry(campaigns[i]).or_default();
        let key = match gold {
            Gold::Background(_) => Gold::Background(0),
            other => *other,
        };
        *campaign_counts.entry(key).or_default() += 1;
        let so_far = fed.entry(*gold).or_default();
        *so_far += 1;
        fed_at.push(*so_far);
        if let Gold::Planted(p) = gold {
            if campaign_counts[gold] >= K_ITEMS && !k_reached.contains_key(p) {
                k_reached.insert(*p, *so_far);
            }
        }
        if alert_items.contains(&i) {
            at_alert.insert(i, campaign_counts.clone());
        }
    }
    let planted_items_fed_by = |gold: Gold, item: usize| -> usize {
        // Items of `gold` among items[0..=item].
        golds[..=item].iter().filter(|g| **g == gold).count()
    };

    // Detection of planted campaigns: the first alert on a campaign where the planted
    // campaign's items are the majority at the time.
    struct Detection {
        opening_items: Option<usize>,
        opening_hours: Option<f64>,
        any_items: Option<usize>,
        k_items: Option<usize>,
    }
    let mut detections: Vec<Detection> = Vec::new();
    for (p, spec) in world.planted.iter().enumerate() {
        let gold = Gold::Planted(p);
        let about = |raised: &RaisedAlert| {
            let composition = &at_alert[&raised.item];
            let mine = composition.get(&gold).copied().unwrap_or(0);
            mine * 2 > raised.alert.size as usize
        };
        let opening = alerts.iter().find(|a| a.alert.kind == "opening" && about(a));
        let any = alerts.iter().find(|a| about(a));
        detections.push(Detection {
            opening_items: opening.map(|a| planted_items_fed_by(gold, a.item)),
            opening_hours: opening.map(|a| (a.alert.at - spec.start).num_seconds() as f64 / 3600.0),
            any_items: any.map(|a| planted_items_fed_by(gold, a.item)),
            k_items: k_reached.get(&p).copied(),
        });
    }
    let _ = &fed_at;
    let n_planted = detections.len();
    let within = |f: &dyn Fn(&Detection) -> Option<usize>| {
        ratio(detections.iter().filter(|d| f(d).is_some_and(|n| n <= DETECT_WITHIN_ITEMS)).count(), n_planted)
    };
    let detected = |f: &dyn Fn(&Detection) -> Option<usize>| {
        ratio(detections.iter().filter(|d| f(d).is_some()).count(), n_planted)
    };
    let opening_within = within(&|d| d.opening_items);
    let opening_detected = detected(&|d| d.opening_items);
    let any_within = within(&|d| d.any_items);
    let k_within = within(&|d| d.k_items);
    let k_detected = detected(&|d| d.k_items);
    let opening_needed: Vec<f64> = detections.iter().filter_map(|d| d.opening_items).map(|n| n as f64).collect();
    let opening_delay: Vec<f64> = detections.iter().filter_map(|d| d.opening_hours).collect();
    let k_needed: Vec<f64> = detections.iter().filter_map(|d| d.k_items).map(|n| n as f64).collect();
    let mut needed_histogram: BTreeMap<String, usize> = BTreeMap::new();
    for d in &detections {
        let key = match d.opening_items {
            Some(n) if n <= 9 => format!("{n}"),
            Some(_) => "10+".to_owned(),
            None => "never".to_owned(),
        };
        *needed_histogram.entry(key).or_default() += 1;
    }
    // By how long the campaign lasts (the opening rule looks at 6 hours) and by what the
    // first five items span.
    let mut by_duration: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (spec, d) in world.planted.iter().zip(&detections) {
        let bucket = match spec.hours {
            h if h < 4.0 => "1-4 h",
            h if h < 8.0 => "4-8 h",
            _ => "8-12 h",
        };
        let entry = by_duration.entry(bucket).or_default();
        entry.0 += 1;
        entry.1 += usize::from(d.opening_items.is_some_and(|n| n <= DETECT_WITHIN_ITEMS));
    }
    let mut fifth_item_within_window = 0usize;
    let mut fifth_ok_detected = 0usize;
    for (p, d) in detections.iter().enumerate() {
        let gold = Gold::Planted(p);
        let times: Vec<DateTime<Utc>> =
            items.iter().filter(|g| g.gold == gold).filter_map(|g| g.item.time).take(K_ITEMS).collect();
        if let (Some(first), Some(fifth)) = (times.first(), times.get(K_ITEMS - 1)) {
            // The opening window: the first item's hour and the next 5 (hour bins).
            let first_hour = first.timestamp().div_euclid(3600);
            if fifth.timestamp().div_euclid(3600) < first_hour + 6 {
                fifth_item_within_window += 1;
                fifth_ok_detected += usize::from(d.opening_items.is_some_and(|n| n <= DETECT_WITHIN_ITEMS));
            }
        }
    }

    // Alerts: on background-only campaigns (false), on planted ones, early surge alerts.
    let mut false_alerts: BTreeMap<String, usize> = BTreeMap::new();
    let mut false_examples: Vec<Value> = Vec::new();
    for raised in &alerts {
        if !planted_campaigns.contains(&raised.alert.campaign) {
            *false_alerts.entry(raised.alert.kind.clone()).or_default() += 1;
            if false_examples.len() < 5 {
                false_examples.push(json!({
                    "campaign": raised.alert.campaign.to_string(),
                    "kind": raised.alert.kind,
                    "size": raised.alert.size,
                    "summary": raised.alert.summary,
                    "final_size": sizes.get(&raised.alert.campaign).copied().unwrap_or(0),
                }));
            }
        }
    }
    let false_total: usize = false_alerts.values().sum();
    let false_per_1000 = 1000.0 * false_total as f64 / world.background_items.max(1) as f64;

    // Surges.
    struct SurgeResult {
        detected_2h: bool,
        detected_6h: bool,
        any_2h: bool,
        delay_hours: Option<f64>,
        early_alerts: usize,
    }
    let mut surge_results = Vec::new();
    for (s, spec) in world.surges.iter().enumerate() {
        let gold = Gold::Surge(s);
        let members = &by_gold[&gold];
        let holding: BTreeSet<CampaignId> = members.iter().map(|&i| campaigns[i]).collect();
        let deadline = spec.surge_start + Duration::hours(SURGE_DEADLINE_HOURS);
        let surge_alert = |raised: &&RaisedAlert| {
            holding.contains(&raised.alert.campaign) && raised.alert.kind != "opening" && {
                let composition = &at_alert[&raised.item];
                composition.get(&gold).copied().unwrap_or(0) * 2 > raised.alert.size as usize
            }
        };
        let first_after = alerts.iter().filter(surge_alert).find(|a| a.alert.at >= spec.surge_start);
        let early = alerts.iter().filter(surge_alert).filter(|a| a.alert.at < spec.surge_start).count();
        let any_2h = alerts.iter().any(|a| {
            holding.contains(&a.alert.campaign) && a.alert.at >= spec.surge_start && a.alert.at <= deadline
        });
        let delay = first_after.map(|a| (a.alert.at - spec.surge_start).num_seconds() as f64 / 3600.0);
        surge_results.push(SurgeResult {
            detected_2h: delay.is_some_and(|d| d <= SURGE_DEADLINE_HOURS as f64),
            detected_6h: delay.is_some_and(|d| d <= SURGE_HOURS),
            any_2h,
            delay_hours: delay,
            early_alerts: early,
        });
    }
    let surge_rate = |filter: &dyn Fn(&SurgeSpec) -> bool, pick: &dyn Fn(&SurgeResult) -> bool| {
        let selected: Vec<&SurgeResult> =
            world.surges.iter().zip(&surge_results).filter(|(spec, _)| filter(spec)).map(|(_, r)| r).collect();
        (selected.iter().filter(|r| pick(r)).count(), selected.len())
    };
    let (s_all_hit, s_all_n) = surge_rate(&|_| true, &|r| r.detected_2h);
    let (s_low_hit, s_low_n) = surge_rate(&|s| s.rate <= 1.0, &|r| r.detected_2h);
    let (s_big_hit, s_big_n) = surge_rate(&|s| s.extra_in_deadline >= MIN_EXTRA_ITEMS, &|r| r.detected_2h);
    let (s_6h_hit, _) = surge_rate(&|_| true, &|r| r.detected_6h);
    let (s_any_hit, _) = surge_rate(&|_| true, &|r| r.any_2h);
    let early_total: usize = surge_results.iter().map(|r| r.early_alerts).sum();
    let baseline_total: usize = world.surges.iter().map(|s| s.baseline_items).sum();
    let mut cells: Vec<Value> = Vec::new();
    for rate in SURGE_RATES {
        for multiplier in SURGE_MULTIPLIERS {
            let in_cell = |s: &SurgeSpec| (s.rate - rate).abs() < 1e-9 && (s.multiplier - multiplier).abs() < 1e-9;
            let (hit, n) = surge_rate(&in_cell, &|r| r.detected_2h);
            let (hit6, _) = surge_rate(&in_cell, &|r| r.detected_6h);
            let delays: Vec<f64> = world
                .surges
                .iter()
                .zip(&surge_results)
                .filter(|(s, _)| in_cell(s))
                .filter_map(|(_, r)| r.delay_hours)
                .collect();
            let extra: Vec<f64> =
                world.surges.iter().filter(|s| in_cell(s)).map(|s| s.extra_in_deadline).collect();
            cells.push(json!({
                "rate": rate, "multiplier": multiplier, "surges": n,
                "detected_2h": hit, "detected_6h": hit6,
                "median_delay_hours": r6(median(&delays)),
                "mean_extra_items_2h": r6(mean(&extra)),
            }));
        }
    }

    let figures = json!({
        "seed": options.seed,
        "items": items.len(),
        "background_items": world.background_items,
        "background_days": r6(world.span_days),
        "planted_campaigns": world.planted.len(),
        "planted_items": world.planted.iter().map(|p| p.items).sum::<usize>(),
        "planted_posters_mean": r6(mean(&world.planted.iter().map(|p| p.posters as f64).collect::<Vec<_>>())),
        "surge_campaigns": world.surges.len(),
        "surge_items": by_gold.iter().filter(|(g, _)| matches!(g, Gold::Surge(_))).map(|(_, m)| m.len()).sum::<usize>(),
        "campaigns": sizes.len(),
        "alerts": alerts.len(),
        "assign_seconds": r6(seconds),
        "purity": {
            "planted_mean": r6(mean(&planted_purity)),
            "planted_median": r6(median(&planted_purity)),
            "planted_min": r6(planted_purity.iter().copied().fold(f64::INFINITY, f64::min)),
            "planted_share_at_least_0_95": r6(pure_share),
            "planted_fragments_mean": r6(mean(&planted_fragments)),
            "planted_largest_share_mean": r6(mean(&planted_largest)),
            "surge_mean": r6(mean(&surge_purity)),
            "surge_largest_share_mean": r6(mean(&surge_largest)),
        },
        "clustering": {
            "background_singletons": report_json(&all_singletons),
            "background_own_campaigns": report_json(&all_own),
            "planted_and_surge_items_only": report_json(&planted_scores),
        },
        "detection": {
            "opening_alert_within_5_items": r6(opening_within),
            "opening_alert_ever": r6(opening_detected),
            "opening_items_needed_median": r6(median(&opening_needed)),
            "opening_hours_after_first_item_median": r6(median(&opening_delay)),
            "opening_items_needed_histogram": needed_histogram,
            "any_alert_within_5_items": r6(any_within),
            "k_items_within_5_items": r6(k_within),
            "k_items_ever": r6(k_detected),
            "k_items_needed_median": r6(median(&k_needed)),
            "by_duration": by_duration.iter().map(|(k, (n, hit))| (k.to_string(), json!({"campaigns": n, "within_5_items": hit}))).collect::<BTreeMap<_, _>>(),
            "fifth_item_inside_opening_window": fifth_item_within_window,
            "of_those_detected_within_5_items": fifth_ok_detected,
        },
        "false_alerts": {
            "total": false_total,
            "per_1000_background_items": r6(false_per_1000),
            "by_kind": false_alerts,
            "examples": false_examples,
        },
        "surges": {
            "detected_within_2h": s_all_hit, "surges": s_all_n,
            "rate_0_2_to_1_detected_within_2h": s_low_hit, "rate_0_2_to_1_surges": s_low_n,
            "at_least_16_extra_items_detected_within_2h": s_big_hit, "at_least_16_extra_items_surges": s_big_n,
            "detected_within_6h": s_6h_hit,
            "any_alert_on_holding_campaigns_within_2h": s_any_hit,
            "surge_alerts_before_the_surge": early_total,
            "baseline_items": baseline_total,
            "cells": cells,
        },
    });
    if options.json {
        println!("{figures}");
        return Ok(());
    }
    print_report(&figures, &options);
    if options.explain {
        let surge_detected: Vec<Option<f64>> = surge_results.iter().map(|r| r.delay_hours).collect();
        explain(items, &campaigns, &detections.iter().map(|d| d.opening_items).collect::<Vec<_>>(), &surge_detected, &world);
    }
    Ok(())
}

/// Where the items of each planted campaign the opening alert missed went, and what the
/// campaigns holding them started with.
fn explain(
    items: &[Generated],
    campaigns: &[CampaignId],
    opening: &[Option<usize>],
    surge_delays: &[Option<f64>],
    world: &World,
) {
    let mut first_item: HashMap<CampaignId, usize> = HashMap::new();
    let mut sizes: HashMap<CampaignId, usize> = HashMap::new();
    for (i, c) in campaigns.iter().enumerate() {
        first_item.entry(*c).or_insert(i);
        *sizes.entry(*c).or_default() += 1;
    }
    println!();
    println!("Planted campaigns the opening alert missed or caught after the 5th item:");
    for (p, spec) in world.planted.iter().enumerate() {
        if opening[p].is_some_and(|n| n <= DETECT_WITHIN_ITEMS) {
            continue;
        }
        println!(
            "  p{p}: {} items over {:.1} h, opening alert {:?}",
            spec.items,
            spec.hours,
            opening[p]
        );
        for (i, generated) in items.iter().enumerate().filter(|(_, g)| g.gold == Gold::Planted(p)) {
            let campaign = campaigns[i];
            let first = first_item[&campaign];
            let offset = generated.item.time.map_or(0.0, |t| (t - spec.start).num_seconds() as f64 / 3600.0);
            let opener = &items[first];
            println!(
                "    {:<14} +{offset:>5.2} h -> {campaign} (size {}, opened by {} at {}) {:.90}",
                generated.item.id,
                sizes[&campaign],
                opener.item.id,
                opener.item.time.map(|t| t.format("%m-%d %H:%M").to_string()).unwrap_or_default(),
                generated.item.text
            );
        }
    }
    println!("Surge campaigns: first surge alert after the start, and the campaigns holding their items:");
    for (s, spec) in world.surges.iter().enumerate() {
        let members: Vec<usize> = (0..items.len()).filter(|&i| items[i].gold == Gold::Surge(s)).collect();
        let mut holding: BTreeMap<CampaignId, (usize, usize)> = BTreeMap::new();
        for &i in &members {
            let entry = holding.entry(campaigns[i]).or_default();
            if items[i].item.time.is_some_and(|t| t < spec.surge_start) {
                entry.0 += 1;
            } else {
                entry.1 += 1;
            }
        }
        let parts: Vec<String> =
            holding.iter().map(|(c, (before, after))| format!("{c}: {before} before, {after} from the surge on (size {})", sizes[c])).collect();
        let delay = surge_delays[s].map_or("none".to_owned(), |d| format!("{d:.2} h"));
        println!("  s{s} rate {} x{}: {delay}; {}", spec.rate, spec.multiplier, parts.join("; "));
    }
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

fn print_report(f: &Value, options: &Options) {
    let num = |path: &str| {
        path.split('.').fold(f, |v, key| &v[key]).as_f64().unwrap_or(f64::NAN)
    };
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    println!(
        "seed {}: {} items = {} background over {:.0} days ({} items/h) + {} planted campaigns ({} items) + {} surge campaigns ({} items); {} campaigns, {} alerts; assigned in {:.1} s",
        options.seed,
        num("items"),
        num("background_items"),
        num("background_days"),
        options.background_rate,
        num("planted_campaigns"),
        num("planted_items"),
        num("surge_campaigns"),
        num("surge_items"),
        num("campaigns"),
        num("alerts"),
        num("assign_seconds"),
    );
    println!();
    println!("{:<64} {:>10} {:>10} {:>7}", "figure", "measured", "target", "");
    let row = |name: &str, value: String, target: &str, ok: Option<bool>| {
        println!("{name:<64} {value:>10} {target:>10} {:>7}", ok.map_or("", verdict));
    };
    let purity = num("purity.planted_mean");
    row("planted purity (mean over campaigns)", format!("{purity:.3}"), ">= 0.95", Some(purity >= 0.95));
    row("  median / min", format!("{:.3}/{:.3}", num("purity.planted_median"), num("purity.planted_min")), "", None);
    row("  planted campaigns with purity >= 0.95", format!("{:.1} %", 100.0 * num("purity.planted_share_at_least_0_95")), "", None);
    row(
        "  campaigns per planted campaign / largest one's share",
        format!("{:.2}/{:.2}", num("purity.planted_fragments_mean"), num("purity.planted_largest_share_mean")),
        "",
        None,
    );
    row("surge-campaign purity (mean)", format!("{:.3}", num("purity.surge_mean")), "", None);
    for (label, key) in [
        ("B-cubed P/R/F1, background as singletons", "background_singletons"),
        ("B-cubed P/R/F1, background as its own campaigns", "background_own_campaigns"),
        ("B-cubed P/R/F1, planted and surge items only", "planted_and_surge_items_only"),
    ] {
        row(
            label,
            format!(
                "{:.2}/{:.2}/{:.2}",
                num(&format!("clustering.{key}.bcubed_precision")),
                num(&format!("clustering.{key}.bcubed_recall")),
                num(&format!("clustering.{key}.bcubed_f1"))
            ),
            "",
            None,
        );
        row(
            "  ARI / purity",
            format!(
                "{:.3}/{:.3}",
                num(&format!("clustering.{key}.ari")),
                num(&format!("clustering.{key}.purity"))
            ),
            "",
            None,
        );
    }
    let within = num("detection.opening_alert_within_5_items");
    row("planted detected by the opening alert within 5 items", format!("{:.1} %", 100.0 * within), ">= 95 %", Some(within >= 0.95));
    row(
        "  opening alert ever / median items needed / median hours",
        format!(
            "{:.0} %/{:.0}/{:.1}",
            100.0 * num("detection.opening_alert_ever"),
            num("detection.opening_items_needed_median"),
            num("detection.opening_hours_after_first_item_median")
        ),
        "",
        None,
    );
    println!("    items needed: {}", f["detection"]["opening_items_needed_histogram"]);
    println!("    within 5 items by campaign duration: {}", f["detection"]["by_duration"]);
    row(
        "  of campaigns whose 5th item is inside the 6 h window",
        format!(
            "{}/{}",
            num("detection.of_those_detected_within_5_items"),
            num("detection.fifth_item_inside_opening_window")
        ),
        "",
        None,
    );
    row("  any alert (incl. surge rules) within 5 items", format!("{:.1} %", 100.0 * num("detection.any_alert_within_5_items")), "", None);
    row(
        "planted with a campaign of >= 5 of its items within 5 items",
        format!("{:.1} %", 100.0 * num("detection.k_items_within_5_items")),
        ">= 95 %",
        Some(num("detection.k_items_within_5_items") >= 0.95),
    );
    row(
        "  ever / median items needed",
        format!("{:.0} %/{:.0}", 100.0 * num("detection.k_items_ever"), num("detection.k_items_needed_median")),
        "",
        None,
    );
    let false_rate = num("false_alerts.per_1000_background_items");
    row(
        "false alerts per 1,000 background items",
        format!("{false_rate:.2}"),
        "<= 1",
        Some(false_rate <= 1.0),
    );
    println!("    by kind: {}", f["false_alerts"]["by_kind"]);
    if let Some(examples) = f["false_alerts"]["examples"].as_array() {
        for example in examples {
            println!("    e.g. {example}");
        }
    }
    let hit = num("surges.detected_within_2h");
    let n = num("surges.surges");
    row(
        "x5-x10 surges detected within 2 h (all rates)",
        format!("{:.1} %", 100.0 * hit / n),
        ">= 90 %",
        Some(hit / n >= 0.9),
    );
    let (low_hit, low_n) = (num("surges.rate_0_2_to_1_detected_within_2h"), num("surges.rate_0_2_to_1_surges"));
    row(
        "  baselines 0.2-1 item/h",
        format!("{:.1} %", 100.0 * low_hit / low_n),
        ">= 90 %",
        Some(low_hit / low_n >= 0.9),
    );
    let (big_hit, big_n) =
        (num("surges.at_least_16_extra_items_detected_within_2h"), num("surges.at_least_16_extra_items_surges"));
    row(
        &format!("  surges with >= 16 extra items in 2 h ({big_n:.0})"),
        format!("{:.1} %", 100.0 * big_hit / big_n.max(1.0)),
        ">= 90 %",
        Some(big_n > 0.0 && big_hit / big_n >= 0.9),
    );
    row("  detected within 6 h", format!("{:.1} %", 100.0 * num("surges.detected_within_6h") / n), "", None);
    row(
        "  any alert (opening too) on a holding campaign within 2 h",
        format!("{:.1} %", 100.0 * num("surges.any_alert_on_holding_campaigns_within_2h") / n),
        "",
        None,
    );
    row(
        "  surge alerts before the surge / baseline items",
        format!("{:.0}/{:.0}", num("surges.surge_alerts_before_the_surge"), num("surges.baseline_items")),
        "",
        None,
    );
    println!("    rate  mult  surges  within 2 h  within 6 h  median delay h  mean extra items in 2 h");
    if let Some(cells) = f["surges"]["cells"].as_array() {
        for cell in cells {
            let get = |k: &str| cell[k].as_f64().unwrap_or(f64::NAN);
            println!(
                "    {:>4.1}  {:>4.0}  {:>6.0}  {:>10.0}  {:>10.0}  {:>14.2}  {:>23.1}",
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
