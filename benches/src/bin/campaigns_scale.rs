//! Campaign grouping at scale: 100,000 items through `CampaignTracker` into a fresh store, in
//! batches of 1,000 (as the pipeline commits them), then the cost of what
//! `infodemic campaigns --limit 50` (and `--json`) does on that store.
//!
//! ```sh
//! cargo run --release -p infodemic-benches --bin campaigns_scale -- \
//!     [--items 100000] [--data DIR] [--seed 1] [--json] [--phases] [--no-simhash]
//! ```
//!
//! Items are real texts, read from `../shared/datasets` (never copied): the 8,067 headlines of
//! `rumor-stories-dev/stream.jsonl`, the claims of Cheng et al.'s `news.csv` and the tweets of
//! CONSTRAINT's `Constraint_Train.csv`, shuffled once (seeded) and cycled with distinct ids.
//! The first pass is the texts as they are; later passes repost them: an exact copy, a copy
//! with a prefix or suffix, or a paraphrase (synonym swaps, word drops, clause reorderings).
//! Times are spread evenly over 60 days in arrival order; sources are the stream's hosts.
//!
//! Reported: items/s (first and last tenth apart, and seconds per 10,000 items, to show how
//! the cost grows with the state), peak RSS, the store's size on disk, campaigns; the
//! candidate sets the grouper's inverted index yields at the end (rebuilt from the stored
//! profiles: the cost of an assignment follows their size); the time to restore the grouping
//! state; and p50/p99 of the list query over 50 runs, on the store opened afresh as the CLI
//! opens it, with its phases. `--phases` also runs the pure `Grouper` on the same items (its
//! share of the time); `--no-simhash` drops the items' fingerprints (no near-duplicate rule).

#![allow(clippy::print_stdout, clippy::print_stderr)] // A bench binary reports on the terminal.

#[allow(dead_code)] // Shared with planted_campaigns, which uses the rest.
mod campaign_corpus;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use campaign_corpus::{campaign_item, default_data_dir, disk_bytes, framed, memory_mib, paraphrase, Rng};
use chrono::{DateTime, Utc};
use infodemic_campaigns::{Grouper, GrouperState, GroupingConfig};
use infodemic_core::{growth_now, rank_campaigns, Campaign, CampaignFilter, CampaignStatus};
use infodemic_pipeline::{CampaignItem, CampaignSettings, CampaignTracker};
use infodemic_store::SledStore;

/// The pipeline's commit batch.
const BATCH: usize = 1000;
/// Query repetitions.
const QUERY_RUNS: usize = 50;
/// Campaigns the CLI lists by default.
const LIST_LIMIT: usize = 50;
/// 2025-01-06T00:00:00Z.
const START_UNIX: i64 = 1_736_121_600;
/// Days the items are spread over.
const SPAN_DAYS: i64 = 60;

struct Options {
    items: usize,
    data: PathBuf,
    json: bool,
    phases: bool,
    seed: u64,
    no_simhash: bool,
}

fn parse_args() -> Result<Options, String> {
    let mut options =
        Options { items: 100_000, data: default_data_dir(), json: false, phases: false, seed: 1, no_simhash: false };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--items" => options.items = value()?.parse().map_err(|e| format!("--items: {e}"))?,
            "--data" => options.data = PathBuf::from(value()?),
            "--seed" => options.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--json" => options.json = true,
            "--phases" => options.phases = true,
            "--no-simhash" => options.no_simhash = true,
            other => {
                return Err(format!(
                    "unknown argument {other} (--items N, --data DIR, --seed N, --json, --phases, --no-simhash)"
                ))
            }
        }
    }
    Ok(options)
}

struct Base {
    text: String,
    url: Option<String>,
    host: String,
}

/// The items, in arrival order.
fn build_items(options: &Options) -> Result<(Vec<CampaignItem>, usize), Box<dyn std::error::Error>> {
    let stream = campaign_corpus::load_stream(&options.data)?;
    let cheng = campaign_corpus::load_cheng(&options.data)?;
    let constraint = campaign_corpus::load_constraint(&options.data)?;
    let hosts = campaign_corpus::host_pool(&stream, 200);
    let mut rng = Rng::new(options.seed);
    let mut bases: Vec<Base> = stream
        .iter()
        .map(|line| Base { text: line.text.clone(), url: Some(line.url.clone()), host: line.host.clone() })
        .collect();
    for (_, text) in cheng.iter().chain(&constraint) {
        bases.push(Base { text: text.clone(), url: None, host: rng.pick(&hosts).clone() });
    }
    rng.shuffle(&mut bases);
    let span_seconds = SPAN_DAYS * 86_400;
    let n = options.items.max(1);
    let items = (0..options.items)
        .map(|i| {
            let base = &bases[i % bases.len()];
            let round = i / bases.len();
            let (text, host) = if round == 0 {
                (base.text.clone(), base.host.clone())
            } else {
                // A repost elsewhere: a third exact copies, a third framed copies, a third
                // paraphrases.
                let text = match rng.below(3) {
                    0 => base.text.clone(),
                    1 => framed(&base.text, &mut rng),
                    _ => paraphrase(&base.text, &mut rng),
                };
                (text, rng.pick(&hosts).clone())
            };
            let offset = i64::try_from(i).unwrap_or(i64::MAX).saturating_mul(span_seconds)
                / i64::try_from(n).unwrap_or(i64::MAX);
            let time = DateTime::from_timestamp(START_UNIX + offset, 0).unwrap_or_default();
            let url = match (&base.url, round) {
                (Some(url), 0) => url.clone(),
                _ => format!("https://{host}/post/{i}"),
            };
            let mut item = campaign_item(format!("scale-{i:07}"), text, time, url, host, None, Vec::new());
            if options.no_simhash {
                item.simhash = None;
            }
            item
        })
        .collect();
    Ok((items, bases.len()))
}

/// What the CLI's list does: every campaign's summary, active only, sorted by recent growth,
/// the first 50; with `--json` each one's members too (and a JSON rendering of them).
/// The phases of one run of the list query.
#[derive(Default)]
struct QueryRun {
    listed: usize,
    json_bytes: usize,
    load: Duration,
    sort: Duration,
    members: Duration,
    drop: Duration,
}

fn list_query(store: &SledStore, json: bool) -> Result<QueryRun, Box<dyn std::error::Error>> {
    // What `infodemic campaigns --limit 50` does: rank the heads, then read the campaigns shown.
    let started = Instant::now();
    let heads = store.campaign_heads()?;
    let load = started.elapsed();
    let now = growth_now(&heads, Utc::now());
    let filter = CampaignFilter { active: Some(true), limit: LIST_LIMIT, ..CampaignFilter::default() };
    let ranked = rank_campaigns(&heads, &filter, now);
    let mut campaigns: Vec<Campaign> = Vec::with_capacity(ranked.len());
    for id in ranked {
        campaigns.extend(store.campaign(id)?);
    }
    let sort = started.elapsed() - load;
    let mut json_bytes = 0;
    if json {
        for campaign in &campaigns {
            let members = store.campaign_members(campaign.id, None)?;
            json_bytes += serde_json::to_vec(&(campaign, &members))?.len();
        }
    }
    let members = started.elapsed() - load - sort;
    let listed = campaigns.len();
    let dropping = Instant::now();
    drop(campaigns);
    drop(heads);
    let drop = dropping.elapsed();
    Ok(QueryRun { listed, json_bytes, load, sort, members, drop })
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

struct QueryFigures {
    first_ms: f64,
    p50_ms: f64,
    p99_ms: f64,
    listed: usize,
    json_bytes: usize,
    load_p50_ms: f64,
    sort_p50_ms: f64,
    members_p50_ms: f64,
    drop_p50_ms: f64,
}

fn time_query(store: &SledStore, json: bool) -> Result<QueryFigures, Box<dyn std::error::Error>> {
    let mut times = Vec::with_capacity(QUERY_RUNS);
    let mut runs = Vec::with_capacity(QUERY_RUNS);
    for _ in 0..QUERY_RUNS {
        let started = Instant::now();
        runs.push(list_query(store, json)?);
        times.push(started.elapsed());
    }
    let first_ms = times[0].as_secs_f64() * 1000.0;
    times.sort();
    let phase = |pick: fn(&QueryRun) -> Duration| {
        let mut durations: Vec<Duration> = runs.iter().map(pick).collect();
        durations.sort();
        percentile(&durations, 0.5)
    };
    let last = runs.last().map_or((0, 0), |r| (r.listed, r.json_bytes));
    Ok(QueryFigures {
        first_ms,
        p50_ms: percentile(&times, 0.5),
        p99_ms: percentile(&times, 0.99),
        listed: last.0,
        json_bytes: last.1,
        load_p50_ms: phase(|r| r.load),
        sort_p50_ms: phase(|r| r.sort),
        members_p50_ms: phase(|r| r.members),
        drop_p50_ms: phase(|r| r.drop),
    })
}

/// The pure grouper on the same items: assignment and the per-batch `take_changes` apart.
fn grouper_phases(items: &[CampaignItem]) -> (Duration, Duration, usize) {
    let mut grouper = Grouper::new(GroupingConfig::default());
    let (mut assign, mut changes) = (Duration::ZERO, Duration::ZERO);
    for batch in items.chunks(BATCH) {
        let started = Instant::now();
        for item in batch {
            grouper.assign(&item.grouping_input());
        }
        let middle = Instant::now();
        let taken = grouper.take_changes();
        std::hint::black_box(&taken);
        changes += middle.elapsed();
        assign += middle - started;
    }
    let campaigns = grouper.campaigns().count();
    (assign, changes, campaigns)
}

/// Candidate sets as the grouper builds them, from a grouper restored from the final store
/// (what the next item would see): its own candidate rule, for the last `sample` items.
struct Candidates {
    sampled: usize,
    active_campaigns: usize,
    mean: f64,
    p50: usize,
    p99: usize,
    top_terms: Vec<(String, usize, u32)>,
}

fn candidate_diagnostic(
    store: &SledStore,
    items: &[CampaignItem],
    sample: usize,
) -> Result<Candidates, Box<dyn std::error::Error>> {
    let snapshot = store.grouping_snapshot()?;
    let df: HashMap<String, u32> = snapshot.terms.iter().cloned().collect();
    let mut postings: HashMap<&str, usize> = HashMap::new();
    let active: Vec<&Campaign> = snapshot.campaigns.iter().filter(|c| c.status == CampaignStatus::Active).collect();
    for campaign in &active {
        for term in campaign.profile.terms.keys() {
            *postings.entry(term.as_str()).or_default() += 1;
        }
    }
    let mut top: Vec<(String, usize, u32)> =
        postings.iter().map(|(term, n)| ((*term).to_owned(), *n, df.get(*term).copied().unwrap_or(0))).collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    top.truncate(8);
    let active_campaigns = active.len();
    let state = GrouperState { docs: snapshot.counters.docs, next_id: snapshot.counters.next_id };
    let grouper = Grouper::restore(GroupingConfig::default(), state, snapshot.terms, snapshot.campaigns);
    let mut sizes: Vec<usize> =
        items.iter().rev().take(sample).map(|item| grouper.candidate_count(&item.text)).collect();
    let sampled = sizes.len().max(1);
    let mean = sizes.iter().sum::<usize>() as f64 / sampled as f64;
    sizes.sort_unstable();
    let at = |p: f64| sizes.get(((sizes.len().max(1) - 1) as f64 * p).round() as usize).copied().unwrap_or(0);
    Ok(Candidates { sampled: sizes.len(), active_campaigns, mean, p50: at(0.5), p99: at(0.99), top_terms: top })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = parse_args()?;
    let build_started = Instant::now();
    let (items, distinct_texts) = build_items(&options)?;
    let build_seconds = build_started.elapsed().as_secs_f64();
    let n_items = items.len();
    if !options.json {
        println!(
            "{n_items} items from {distinct_texts} distinct texts ({} passes), built in {build_seconds:.1} s",
            n_items.div_ceil(distinct_texts.max(1))
        );
    }

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let dir = tempfile::tempdir()?;
    let store_path = dir.path().join("store");

    let mut batch_seconds: Vec<f64> = Vec::new();
    let (campaigns_opened, alerts, assign_seconds) = runtime.block_on(async {
        let (store, _) = SledStore::open(&store_path)?;
        let tracker = CampaignTracker::open(&store, CampaignSettings::default()).await?;
        let started = Instant::now();
        let (mut opened, mut alerts) = (0usize, 0usize);
        for (index, batch) in items.chunks(BATCH).enumerate() {
            let batch_started = Instant::now();
            let report = tracker.assign(batch.to_vec()).await?;
            batch_seconds.push(batch_started.elapsed().as_secs_f64());
            opened += report.opened;
            alerts += report.alerts.len();
            if !options.json && (index + 1) % 10 == 0 {
                eprintln!(
                    "  {:>7} items  {:>6} campaigns  last batch {:.2} s",
                    (index + 1) * BATCH,
                    opened,
                    batch_seconds.last().copied().unwrap_or_default()
                );
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        drop(tracker);
        drop(store);
        Ok::<_, Box<dyn std::error::Error>>((opened, alerts, seconds))
    })?;
    let (peak_after_assign, _) = memory_mib();
    let store_bytes = disk_bytes(&store_path);

    let tenth = (batch_seconds.len() / 10).max(1);
    let items_in = |batches: &[f64]| (batches.len() * BATCH) as f64 / batches.iter().sum::<f64>();
    let first_tenth = items_in(&batch_seconds[..tenth.min(batch_seconds.len())]);
    let last_tenth = items_in(&batch_seconds[batch_seconds.len().saturating_sub(tenth)..]);
    let slowest_batch = batch_seconds.iter().copied().fold(0.0, f64::max);

    // The query, on the store opened afresh (as the CLI opens it).
    let open_started = Instant::now();
    let (store, _) = SledStore::open(&store_path)?;
    let open_ms = open_started.elapsed().as_secs_f64() * 1000.0;
    let all_campaigns = store.campaigns()?;
    let campaigns_total = all_campaigns.len();
    let campaigns_active = all_campaigns.iter().filter(|c| c.status == CampaignStatus::Active).count();
    let largest_campaign = all_campaigns.iter().max_by_key(|c| (c.size, std::cmp::Reverse(c.id)));
    let largest = largest_campaign.map_or(0, |c| c.size);
    let largest_terms = largest_campaign.map(|c| c.top_terms(8).join(" ")).unwrap_or_default();
    let largest_text: String =
        largest_campaign.map(|c| c.representative.text.chars().take(100).collect()).unwrap_or_default();
    drop(all_campaigns);
    let alerts_stored = store.alerts()?.len();
    let list = time_query(&store, false)?;
    let list_json = time_query(&store, true)?;
    let candidates = candidate_diagnostic(&store, &items, 1000)?;
    // What a pipeline start costs on this store: the grouping state restored.
    let restore_started = Instant::now();
    let tracker = runtime.block_on(CampaignTracker::open(&store, CampaignSettings::default()))?;
    let restore_ms = restore_started.elapsed().as_secs_f64() * 1000.0;
    drop(tracker);
    drop(store);

    let phases = options.phases.then(|| grouper_phases(&items));
    let (peak_mib, rss_mib) = memory_mib();

    let figures = serde_json::json!({
        "items": n_items,
        "distinct_texts": distinct_texts,
        "batch": BATCH,
        "assign_seconds": assign_seconds,
        "items_per_second": n_items as f64 / assign_seconds,
        "items_per_second_first_tenth": first_tenth,
        "items_per_second_last_tenth": last_tenth,
        "slowest_batch_seconds": slowest_batch,
        "peak_rss_mib_after_assign": peak_after_assign,
        "peak_rss_mib": peak_mib,
        "rss_mib_end": rss_mib,
        "store_bytes": store_bytes,
        "campaigns": campaigns_total,
        "campaigns_active": campaigns_active,
        "largest_campaign": largest,
        "largest_campaign_top_terms": largest_terms,
        "campaigns_opened": campaigns_opened,
        "seconds_per_10_batches": batch_seconds.chunks(10).map(|c| c.iter().sum::<f64>()).collect::<Vec<_>>(),
        "alerts": alerts,
        "alerts_stored": alerts_stored,
        "store_open_ms": open_ms,
        "list": {
            "first_ms": list.first_ms, "p50_ms": list.p50_ms, "p99_ms": list.p99_ms, "listed": list.listed,
            "load_campaigns_p50_ms": list.load_p50_ms, "sort_p50_ms": list.sort_p50_ms, "free_p50_ms": list.drop_p50_ms
        },
        "list_json": {
            "first_ms": list_json.first_ms, "p50_ms": list_json.p50_ms, "p99_ms": list_json.p99_ms,
            "listed": list_json.listed, "json_bytes": list_json.json_bytes,
            "load_campaigns_p50_ms": list_json.load_p50_ms, "sort_p50_ms": list_json.sort_p50_ms,
            "members_p50_ms": list_json.members_p50_ms
        },
        "tracker_restore_ms": restore_ms,
        "candidates": {
            "sampled_items": candidates.sampled,
            "active_campaigns": candidates.active_campaigns,
            "mean": candidates.mean, "p50": candidates.p50, "p99": candidates.p99,
            "top_terms": candidates.top_terms.iter().map(|(t, n, df)| serde_json::json!({"term": t, "campaigns": n, "df": df})).collect::<Vec<_>>(),
        },
        "grouper_only": phases.map(|(assign, changes, campaigns)| serde_json::json!({
            "assign_seconds": assign.as_secs_f64(),
            "take_changes_seconds": changes.as_secs_f64(),
            "items_per_second": n_items as f64 / (assign + changes).as_secs_f64(),
            "campaigns": campaigns,
        })),
    });
    if options.json {
        println!("{figures}");
        return Ok(());
    }
    println!();
    println!("Assignment through CampaignTracker ({n_items} items, batches of {BATCH}):");
    println!(
        "  {assign_seconds:.1} s = {:.0} items/s (first tenth {first_tenth:.0} items/s, last tenth {last_tenth:.0} items/s; slowest batch {slowest_batch:.2} s)",
        n_items as f64 / assign_seconds
    );
    println!(
        "  campaigns {campaigns_total} ({campaigns_active} active, the rest merged; {campaigns_opened} opened; largest {largest} items), alerts {alerts}, store on disk {:.1} MiB, peak RSS {:.0} MiB (after assignment {:.0} MiB)",
        store_bytes as f64 / 1_048_576.0,
        peak_mib.unwrap_or(f64::NAN),
        peak_after_assign.unwrap_or(f64::NAN)
    );
    if let Some((assign, changes, campaigns)) = phases {
        let total = assign + changes;
        println!(
            "  pure Grouper on the same items: {:.1} s = {:.0} items/s (assign {:.1} s, take_changes {:.1} s; {campaigns} campaigns): {:.0} % of the tracker's time",
            total.as_secs_f64(),
            n_items as f64 / total.as_secs_f64(),
            assign.as_secs_f64(),
            changes.as_secs_f64(),
            100.0 * total.as_secs_f64() / assign_seconds
        );
    }
    println!(
        "  candidate campaigns per item at the end (last {} items, {} active campaigns): mean {:.0} ({:.1} %), p50 {}, p99 {}",
        candidates.sampled,
        candidates.active_campaigns,
        candidates.mean,
        100.0 * candidates.mean / candidates.active_campaigns.max(1) as f64,
        candidates.p50,
        candidates.p99,
    );
    let top: Vec<String> =
        candidates.top_terms.iter().map(|(t, n, df)| format!("{t} ({n} campaigns, df {df})")).collect();
    println!("  longest postings: {}", top.join(", "));
    println!("  CampaignTracker::open on this store (grouping state restored): {restore_ms:.0} ms");
    println!("  largest campaign: top terms \"{largest_terms}\"; representative \"{largest_text}\"");
    let per_10: Vec<String> = batch_seconds.chunks(10).map(|c| format!("{:.0}", c.iter().sum::<f64>())).collect();
    println!("  seconds per {} items: {}", 10 * BATCH, per_10.join(" "));
    println!("Query (`campaigns --limit {LIST_LIMIT}`), {QUERY_RUNS} runs, store reopened ({open_ms:.0} ms to open):");
    println!(
        "  list:   p50 {:.1} ms, p99 {:.1} ms (first run {:.1} ms), {} listed   [target p50 < 50 ms: {}]",
        list.p50_ms,
        list.p99_ms,
        list.first_ms,
        list.listed,
        if list.p50_ms < 50.0 { "met" } else { "MISSED" }
    );
    println!(
        "  --json: p50 {:.1} ms, p99 {:.1} ms (first run {:.1} ms), {:.1} KiB of members   [target p50 < 50 ms: {}]",
        list_json.p50_ms,
        list_json.p99_ms,
        list_json.first_ms,
        list_json.json_bytes as f64 / 1024.0,
        if list_json.p50_ms < 50.0 { "met" } else { "MISSED" }
    );
    println!(
        "  p50 by phase: store.campaign_heads() {:.1} ms, rank + read the 50 shown {:.1} ms, freeing {:.1} ms; --json: members {:.1} ms",
        list.load_p50_ms, list.sort_p50_ms, list.drop_p50_ms, list_json.members_p50_ms
    );
    Ok(())
}
