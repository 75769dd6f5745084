//! The review page over a store of 100,000 items: how long `/review` takes to answer, as a
//! fact-checker's browser sees it (HTTP on loopback, the page rendered whole).
//!
//! ```sh
//! cargo run --release -p infodemic-benches --bin review_queue [-- --items 100000 --requests 200]
//! ```
//!
//! The store holds `--items` items (mixed-length health texts, scores spread over 0..1, half of
//! them worth a review), and the `--reviewed` highest-scoring ones already have verdicts: the
//! state after a team worked the top of the queue, which the queue walks past on every load.
//! Each page is requested `--requests` times after one warm-up; p50 and p99 are reported for:
//! the default queue (50 items), a text filter (read every item worth a review until 50 match),
//! a source filter, and an item page with its history.
#![allow(clippy::print_stdout, clippy::print_stderr)] // A bench binary reports on the terminal.

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use infodemic_core::{
    Classification, ContentHash, Evidence, Item, ItemId, ModelRef, NewVerdict, ScoredItem, SourceId, VerdictScale,
};
use infodemic_service::{serve, ServeOptions};
use infodemic_store::SledStore;
use tokio_util::sync::CancellationToken;

const TOPICS: [&str; 8] = [
    "Garlic water cures the virus overnight, a doctor says, and hospitals hide it.",
    "The health ministry updated its vaccination schedule for children under five.",
    "Wearing a mask for an hour lowers oxygen to dangerous levels, a post claims.",
    "Researchers report a measles outbreak in three districts; clinics extend hours.",
    "A viral video says 5G towers spread the disease; engineers explain why not.",
    "Ivermectin in high doses is promoted online as a cure; regulators warn against it.",
    "The regional hospital opens a new cardiology ward funded by the city council.",
    "Drinking diluted bleach is sold as a detox; poison centres report more calls.",
];

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A deterministic spread of scores in 0..1 (a multiplicative hash of the index).
fn score_of(index: usize) -> f32 {
    ((index as u64).wrapping_mul(2_654_435_761) % 100_000) as f32 / 100_000.0
}

fn item(index: usize) -> ScoredItem {
    let url = format!("https://outlet{}.example.org/{index}", index % 40);
    let topic = TOPICS[index % TOPICS.len()];
    // 1 to 12 paragraphs: posts to articles.
    let text = std::iter::repeat_n(topic, 1 + index % 12).collect::<Vec<_>>().join(" ");
    let score = score_of(index);
    let time = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap_or_default()
        + chrono::Duration::minutes(index as i64 * 5);
    ScoredItem {
        item: Item {
            id: ItemId::from_canonical_url(&url),
            url: url.clone(),
            canonical_url: url.clone(),
            title: format!("{} (#{index})", &topic[..topic.len().min(60)]),
            content_hash: ContentHash::of(&url, &text),
            text,
            published: Some(time),
            fetched_at: time,
            author: Some(format!("author {}", index % 500)),
            source: SourceId::new(format!("outlet-{}", index % 40)).unwrap_or_else(|_| unreachable!()),
            language: Some("en".to_owned()),
            links: Vec::new(),
            simhash: None,
        },
        classification: Classification {
            score,
            flagged: score >= 0.8,
            review: score >= 0.5,
            embedding: vec![0.0; 384],
            model: ModelRef { id: "bench".to_owned(), version: "1".to_owned() },
            language: Some("en".to_owned()),
            language_supported: true,
            evidence: vec![Evidence { text: topic.to_owned(), score, embedding: Vec::new() }],
            claim_match: None,
            claim: None,
            refute: None,
            reasons: vec![format!("score {score:.2} at or above the flag threshold 0.80")],
        },
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len().saturating_sub(1)) as f64 * p).round() as usize;
    sorted.get(index.min(sorted.len().saturating_sub(1))).map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
}

fn time_page(agent: &ureq::Agent, url: &str, requests: usize) -> Result<(f64, f64, usize), Box<dyn std::error::Error>> {
    let mut bytes = agent.get(url).call()?.body_mut().read_to_string()?.len(); // warm-up
    let mut times = Vec::with_capacity(requests);
    for _ in 0..requests {
        let started = Instant::now();
        let mut response = agent.get(url).call()?;
        bytes = response.body_mut().with_config().limit(64 * 1024 * 1024).read_to_string()?.len();
        times.push(started.elapsed());
    }
    times.sort();
    Ok((percentile(&times, 0.5), percentile(&times, 0.99), bytes))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let items = arg("--items", 100_000);
    let requests = arg("--requests", 200);
    let reviewed = arg("--reviewed", 2_000);
    let dir = tempfile::tempdir()?;
    let (store, _) = SledStore::open(&dir.path().join("store"))?;
    let building = Instant::now();
    for start in (0..items).step_by(1_000) {
        let batch: Vec<ScoredItem> = (start..(start + 1_000).min(items)).map(item).collect();
        store.commit(&batch, &[], &[])?;
    }
    // The team worked the top of the queue.
    let mut by_score: Vec<usize> = (0..items).collect();
    by_score.sort_by(|a, b| score_of(*b).total_cmp(&score_of(*a)));
    let verdicts: Vec<NewVerdict> = by_score
        .iter()
        .take(reviewed)
        .map(|index| NewVerdict {
            item: item(*index).item.id,
            verdict: "false".to_owned(),
            reviewer: "bench".to_owned(),
            note: None,
        })
        .collect();
    for chunk in verdicts.chunks(500) {
        store.record_verdicts(chunk, &VerdictScale::default(), Utc::now(), false)?;
    }
    let reviewed_item = verdicts.first().map(|v| v.item);
    eprintln!("store: {items} items, {reviewed} reviewed, built in {:.1} s", building.elapsed().as_secs_f64());

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let cancel = CancellationToken::new();
    let handle = runtime.block_on(serve(store, dir.path(), cancel.clone(), ServeOptions::default()))?;
    let base = format!("http://{}", handle.info.address);
    let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(60))).build().into();
    let mut pages = vec![
        ("queue, 50 items (default)", format!("{base}/review")),
        ("queue, text filter `bleach`", format!("{base}/review?text=bleach")),
        ("queue, one source", format!("{base}/review?source=outlet-7")),
        ("queue, 500 items", format!("{base}/review?limit=500")),
    ];
    if let Some(id) = reviewed_item {
        pages.push(("item page with history", format!("{base}/review/items/{id}")));
    }
    println!("| page | p50 ms | p99 ms | bytes |");
    println!("|---|---|---|---|");
    for (name, url) in &pages {
        let (p50, p99, bytes) = time_page(&agent, url, requests)?;
        println!("| {name} | {p50:.1} | {p99:.1} | {bytes} |");
    }
    if let Some(peak) = infodemic_benches::peak_rss_mib() {
        println!("peak RSS {peak:.0} MiB");
    }
    cancel.cancel();
    runtime.block_on(handle.stopped());
    Ok(())
}
