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

use chrono::Utc;
use infodemic_benches::{arg, synthetic_item as item, synthetic_score as score_of};
use infodemic_core::{NewVerdict, ScoredItem, VerdictScale};
use infodemic_service::{serve, ServeOptions};
use infodemic_store::SledStore;
use tokio_util::sync::CancellationToken;

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
