//! Reading a newsroom's year: p50/p99 of every kind of query, `show`, `stats` and the
//! campaign list over a store of 1,000,000 items (see [`realistic_item`]: 300 sources of
//! Zipf-skewed volume, a year of times, posts and articles, about 5% flagged, flagged items
//! grouped into campaigns by the real campaign stage).
//!
//! ```sh
//! cargo run --release -p infodemic-benches --bin query_scale -- [--items 1000000] [--runs 50] [--data DIR] [--cache-mib 128]
//! ```
//!
//! `--cache-mib` is the store's page cache when the queries run (`infodemic --cache-mib`).
//!
//! With `--data DIR` the store is built there once and reused by later runs (same
//! `--items`). Each figure is over `--runs` calls after 3 warm-up calls, on the store opened
//! afresh as the CLI opens it; queries ask for 50 items, as `infodemic query` does by default.
#![allow(clippy::print_stdout, clippy::print_stderr)] // A bench binary reports on the terminal.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use infodemic_benches::{arg, peak_rss_mib, realistic_item};
use infodemic_core::{
    growth_now, rank_campaigns, CampaignFilter, ItemQuery, ReviewFilter, ScoredItem, SortOrder, SourceId,
};
use infodemic_pipeline::{CampaignItem, CampaignSettings, CampaignTracker};
use infodemic_store::{ItemReader, SledStore};

const BATCH: usize = 1_000;

type Bench = Box<dyn Fn(&SledStore, usize) -> Result<usize, Box<dyn std::error::Error>>>;

fn build(path: &Path, items: usize) -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(async {
        let (store, _) = SledStore::open(path)?;
        let tracker = CampaignTracker::open(&store, CampaignSettings::default()).await?;
        let started = Instant::now();
        let mut campaign_seconds = 0.0;
        for start in (0..items).step_by(BATCH) {
            let batch: Vec<ScoredItem> =
                (start..(start + BATCH).min(items)).map(|i| realistic_item(i, items)).collect();
            store.commit(&batch, &[], &[])?;
            let flagged: Vec<CampaignItem> =
                batch.iter().filter(|s| s.classification.flagged).map(CampaignItem::from_scored).collect();
            let assigning = Instant::now();
            tracker.assign(flagged).await?;
            campaign_seconds += assigning.elapsed().as_secs_f64();
            if (start / BATCH + 1).is_multiple_of(100) {
                eprintln!("  {:>8} items in {:.0} s", start + BATCH, started.elapsed().as_secs_f64());
            }
        }
        eprintln!(
            "built {items} items in {:.0} s ({:.0} s of it in the campaign stage)",
            started.elapsed().as_secs_f64(),
            campaign_seconds
        );
        Ok::<_, Box<dyn std::error::Error>>(())
    })
}

fn source(rank: usize) -> SourceId {
    SourceId::new(format!("source-{rank}")).unwrap_or_else(|_| unreachable!())
}

fn query(q: ItemQuery) -> Bench {
    Box::new(move |store, _| Ok(store.query(&q)?.len()))
}

fn benches(
    newest: DateTime<Utc>,
    ids: Vec<infodemic_core::ItemId>,
    window: Vec<(u64, infodemic_core::ItemId)>,
) -> Vec<(&'static str, Bench)> {
    let base = ItemQuery { limit: Some(50), ..ItemQuery::default() };
    let days = |n: i64| Some(newest - chrono::Duration::days(n));
    let score = SortOrder::Score;
    vec![
        ("query (newest)", query(base.clone())),
        ("query --flagged", query(ItemQuery { flagged_only: true, ..base.clone() })),
        ("query --min-score 0.95", query(ItemQuery { min_score: Some(0.95), ..base.clone() })),
        ("query --since 7d", query(ItemQuery { since: days(7), ..base.clone() })),
        ("query --source (largest, 16%)", query(ItemQuery { sources: vec![source(1)], ..base.clone() })),
        ("query --source (rank 200, 0.08%)", query(ItemQuery { sources: vec![source(200)], ..base.clone() })),
        (
            "query --source x3 (ranks 2, 50, 250)",
            query(ItemQuery { sources: vec![source(2), source(50), source(250)], ..base.clone() }),
        ),
        (
            "query --flagged --source (rank 200) --since 30d",
            query(ItemQuery { flagged_only: true, sources: vec![source(200)], since: days(30), ..base.clone() }),
        ),
        (
            "query --review unreviewed --flagged",
            query(ItemQuery { flagged_only: true, review_state: ReviewFilter::Unreviewed, ..base.clone() }),
        ),
        ("query --sort score", query(ItemQuery { order: score, ..base.clone() })),
        ("query --sort score --since 7d", query(ItemQuery { order: score, since: days(7), ..base.clone() })),
        ("query --sort score --since 90d", query(ItemQuery { order: score, since: days(90), ..base.clone() })),
        (
            "query --sort score --source (rank 200)",
            query(ItemQuery { order: score, sources: vec![source(200)], ..base.clone() }),
        ),
        (
            "query --sort score --source (largest)",
            query(ItemQuery { order: score, sources: vec![source(1)], ..base.clone() }),
        ),
        ("query --text vaccine (common)", query(ItemQuery { text: Some("vaccine".into()), ..base.clone() })),
        ("query --text graphene (rare)", query(ItemQuery { text: Some("graphene".into()), ..base.clone() })),
        ("query --text \"bill gates\"", query(ItemQuery { text: Some("bill gates".into()), ..base.clone() })),
        ("query --text vacc (prefix)", query(ItemQuery { text: Some("vacc".into()), ..base.clone() })),
        (
            "query --text ivermectin --flagged",
            query(ItemQuery { text: Some("ivermectin".into()), flagged_only: true, ..base.clone() }),
        ),
        (
            "query --text measles --source (rank 200)",
            query(ItemQuery { text: Some("measles".into()), sources: vec![source(200)], ..base.clone() }),
        ),
        (
            "query --text vaccine --sort score",
            query(ItemQuery { text: Some("vaccine".into()), order: score, ..base.clone() }),
        ),
        (
            "query --text graphene --sort score",
            query(ItemQuery { text: Some("graphene".into()), order: score, ..base }),
        ),
        (
            "show ID",
            Box::new(move |store, run| {
                let id = ids[run % ids.len()];
                let found = store.get(id)?.ok_or("item gone")?;
                let appearances = store.appearances(id)?;
                let verdicts = store.verdicts(id)?;
                Ok(usize::from(!found.item.text.is_empty()) + appearances.len() + verdicts.len())
            }),
        ),
        ("stats", Box::new(|store, _| Ok(store.stats()?.total.items as usize))),
        (
            "near-duplicate window: recent_fingerprints(7 days), once per crawl",
            Box::new(move |store, _| Ok(store.recent_fingerprints(newest - chrono::Duration::days(7))?.len())),
        ),
        (
            "near-duplicate candidates of one new item (scan of that window)",
            Box::new(move |_, run| {
                let probe = realistic_item(run, 1).item.simhash.unwrap_or_default();
                let close = window
                    .iter()
                    .filter(|(other, _)| {
                        infodemic_core::simhash::distance(probe, *other) <= infodemic_core::simhash::NEAR_DUPLICATE_BITS
                    })
                    .count();
                Ok(close)
            }),
        ),
        (
            "campaigns --limit 50",
            Box::new(|store, _| {
                let heads = store.campaign_heads()?;
                let filter = CampaignFilter { active: Some(true), limit: 50, ..CampaignFilter::default() };
                let mut shown = 0;
                for id in rank_campaigns(&heads, &filter, growth_now(&heads, Utc::now())) {
                    shown += usize::from(store.campaign(id)?.is_some());
                }
                Ok(shown)
            }),
        ),
    ]
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len().saturating_sub(1)) as f64 * p).round() as usize;
    sorted.get(index).map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let items = arg("--items", 1_000_000);
    let runs = arg("--runs", 50).max(1);
    let args: Vec<String> = std::env::args().collect();
    let kept = args.iter().position(|a| a == "--data").and_then(|i| args.get(i + 1)).map(std::path::PathBuf::from);
    let temp = tempfile::tempdir()?;
    let dir = kept.unwrap_or_else(|| temp.path().to_path_buf());
    let path = dir.join(format!("store-{items}"));
    let marker = dir.join(format!("store-{items}.built"));
    if !marker.exists() {
        let _ = std::fs::remove_dir_all(&path);
        let _ = std::fs::remove_dir_all(dir.join(format!("store-{items}.search")));
        std::fs::create_dir_all(&dir)?;
        build(&path, items)?;
        std::fs::write(&marker, b"")?;
    }
    let opening = Instant::now();
    let cache = arg("--cache-mib", 128) as u64 * 1024 * 1024;
    let (store, _) = SledStore::open_with_cache(&path, cache)?;
    let open_ms = opening.elapsed().as_secs_f64() * 1000.0;
    let newest = realistic_item(items - 1, items).item.effective_time();
    let ids = (0..runs).map(|run| realistic_item((run * 7_919) % items, items).item.id).collect();
    println!("{items} items; store opened in {open_ms:.0} ms; {runs} runs after 3 warm-ups\n");
    println!("| call | results | first ms | p50 ms | p99 ms |");
    println!("|---|---|---|---|---|");
    let window = store.recent_fingerprints(newest - chrono::Duration::days(7))?;
    for (name, bench) in benches(newest, ids, window) {
        let first = Instant::now();
        let results = bench(&store, 0)?;
        let first_ms = first.elapsed().as_secs_f64() * 1000.0;
        for run in 1..3 {
            bench(&store, run)?;
        }
        let mut times = Vec::with_capacity(runs);
        for run in 0..runs {
            let started = Instant::now();
            std::hint::black_box(bench(&store, run)?);
            times.push(started.elapsed());
        }
        times.sort();
        println!(
            "| {name} | {results} | {first_ms:.1} | {:.2} | {:.2} |",
            percentile(&times, 0.5),
            percentile(&times, 0.99)
        );
    }
    println!("\npeak RSS {:.0} MiB", peak_rss_mib().unwrap_or(f64::NAN));
    Ok(())
}
