//! `watch` over 1,000 local feeds for hours of simulated polling: resident memory over time.
//!
//! ```sh
//! cargo run --release -p infodemic-benches --bin watch_soak -- [--feeds 1000] [--minutes 10] [--speed 60] [--cache-mib 32]
//! cargo run --release -p infodemic-benches --bin watch_soak -- --postgres [...]   # into PostgreSQL
//! cargo run --release -p infodemic-benches --bin watch_soak -- --dir D --prefill 1000000 --minutes 0
//! cargo run --release -p infodemic-benches --bin watch_soak -- --dir D   # the watch over that store
//! ```
//!
//! `--cache-mib` is the store's page cache (`infodemic --cache-mib`; `watch` uses 32 by default).
//! `--no-campaigns` leaves out the campaign stage (whose grouping state lives in memory).
//! `--postgres` runs the watch on a fresh database of the server `INFODEMIC_TEST_POSTGRES` names
//! (`eval "$(bash scripts/postgres.sh start)"`) instead of the embedded store: the RSS is then
//! this process's alone, the server's is its own.
//! `--dir PATH` keeps the embedded store there (else a temporary directory), and `--prefill N`
//! first stores N items of `synthetic_item` dated over the past year (a newsroom's year is
//! about a million), with `--minutes 0` then stopping: run it once to build the store, then
//! soak on it in a second process, so that the RSS is the watch's alone. On PostgreSQL the
//! same: `--postgres --prefill N --minutes 0` prints the new database's URL, and
//! `--postgres-url URL` soaks on it.
//!
//! Time runs `--speed` times faster than the clock: the polling policy's intervals are
//! divided by it (a new feed is polled every 30 s instead of every 30 min, never more often
//! than every 5 s instead of 5 min), so `--minutes 10` at 60x is 10 hours of polling. Every
//! request of a feed gets its 20 newest items, 5 of them new since the last request, so the
//! store grows all along (about 170 items/s at the defaults) and each poll does the whole job:
//! fetch, parse, dedupe against the store, score (a keyword stand-in for the model: this
//! measures the service, not inference), store, campaign stage. One local server stands for
//! the feed hosts, politeness off (as in `ingest`). Every simulated 30 minutes it prints the
//! polls so far, the items stored, and the resident memory (VmRSS) of this process, server
//! included.
#![allow(clippy::print_stdout, clippy::print_stderr)] // A bench binary reports on the terminal.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use infodemic_benches::{arg, peak_rss_mib, string_arg};
use infodemic_classifier::{ClassifierHandle, KeywordClassifier};
use infodemic_core::polling::PollPolicy;
use infodemic_core::FeedSpec;
use infodemic_crawler::FetchConfig;
use infodemic_pipeline::{
    watch, CampaignSettings, CrawlEvent, CrawlObserver, CrawlOptions, ScoringStore, WatchOptions,
};
use infodemic_service::ServedStore;
use infodemic_store::{IngestStore, ItemReader, SledStore};
use infodemic_store_postgres::PgStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const NEW_PER_POLL: usize = 5;
const ITEMS_PER_FEED: usize = 20;

/// A resident-memory field of this process now, MiB (Linux): `VmRSS`, or its parts
/// `RssAnon` (heap) and `RssFile` (mapped files, such as the full-text index's segments).
fn rss_mib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    Some(line.split_whitespace().nth(1)?.parse::<f64>().ok()? / 1024.0)
}

/// The body of feed `feed` at its `request`-th request: items `5 * request .. 5 * request + 20`.
fn feed_body(feed: usize, request: usize) -> String {
    let mut body =
        String::from(r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Soak</title>"#);
    let newest = NEW_PER_POLL * request + ITEMS_PER_FEED;
    for item in (newest - ITEMS_PER_FEED..newest).rev() {
        let seed = (feed as u64) << 32 | item as u64;
        let words: Vec<String> = (0..40)
            .map(|w| {
                let h = (seed ^ (w as u64)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                format!("w{:x}", h >> 44)
            })
            .collect();
        body.push_str(&format!(
            "<item><title>Feed {feed} item {item} about vaccines</title><link>https://soak.example.org/{feed}/{item}</link>\
             <description>Health report {item} of feed {feed}: {}.</description></item>",
            words.join(" ")
        ));
    }
    body.push_str("</channel></rss>");
    body
}

/// Serves `/feed/{i}.xml`, each request one step newer than the last.
async fn serve(feeds: usize) -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let requests: Arc<Vec<AtomicUsize>> = Arc::new((0..feeds).map(|_| AtomicUsize::new(0)).collect());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let requests = Arc::clone(&requests);
            tokio::spawn(async move {
                let mut request = vec![0u8; 2048];
                let Ok(n) = socket.read(&mut request).await else { return };
                let line = String::from_utf8_lossy(&request[..n]);
                let path = line.split_whitespace().nth(1).unwrap_or("/");
                let feed =
                    path.strip_prefix("/feed/").and_then(|p| p.strip_suffix(".xml")).and_then(|p| p.parse().ok());
                let response = match feed.and_then(|f: usize| requests.get(f).map(|count| (f, count))) {
                    Some((feed, count)) => {
                        let body = feed_body(feed, count.fetch_add(1, Ordering::Relaxed));
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        )
                    }
                    None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned(),
                };
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    Ok(format!("http://{address}"))
}

#[derive(Default)]
struct Counts {
    polls: AtomicUsize,
    failed: AtomicUsize,
    stored: AtomicUsize,
}

impl CrawlObserver for Counts {
    fn on_event(&self, event: &CrawlEvent) {
        match event {
            CrawlEvent::FeedDone { error, .. } => {
                self.polls.fetch_add(1, Ordering::Relaxed);
                self.failed.fetch_add(usize::from(error.is_some()), Ordering::Relaxed);
            }
            CrawlEvent::BatchCommitted { stored, .. } => {
                self.stored.fetch_add(*stored, Ordering::Relaxed);
            }
            _ => {}
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // As the `infodemic` binary does, unless `MALLOC_ARENA_MAX` says otherwise.
    infodemic_service::memory::bound_allocator_arenas();
    let (feeds, minutes, speed) = (arg("--feeds", 1000), arg("--minutes", 10), arg("--speed", 60).max(1) as u32);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    // The feed server runs on the runtime; the stores' setup (PostgreSQL's client blocks) on
    // this thread, outside it.
    let base = runtime.block_on(serve(feeds))?;
    let real = PollPolicy::default();
    let policy = PollPolicy {
        min: real.min / speed,
        base: real.base / speed,
        max: real.max / speed,
        max_backoff: real.max_backoff / speed,
    };
    let reused = string_arg("--postgres-url");
    if reused.is_some() || std::env::args().any(|a| a == "--postgres") {
        let url = match reused {
            Some(url) => url,
            None => fresh_database()?,
        };
        let store = PgStore::connect(&url)?;
        if !store.become_campaign_writer()? {
            return Err("another process writes this database's campaigns".into());
        }
        prefill(&store, arg("--prefill", 0))?;
        println!("store: PostgreSQL ({}), {} items before the watch", store.shown_url(), store.stats()?.total.items);
        if minutes == 0 {
            return Ok(());
        }
        subscribe(&store, &base, feeds, &policy)?;
        // Borrowed: the store is dropped here, off the runtime (its blocking client cannot close
        // inside it).
        return runtime.block_on(soak(&store, feeds, minutes, speed, policy));
    }
    let temporary = tempfile::tempdir()?;
    let dir = string_arg("--dir").map_or_else(|| temporary.path().join("store"), std::path::PathBuf::from);
    let cache = arg("--cache-mib", infodemic_service::memory::SERVICE_CACHE_MIB as usize) as u64 * 1024 * 1024;
    let (store, _) = SledStore::open_with_cache(&dir, cache)?;
    prefill(&store, arg("--prefill", 0))?;
    println!(
        "store: embedded (sled, {} MiB page cache), {} items before the watch",
        cache / (1024 * 1024),
        store.stats()?.total.items
    );
    if minutes == 0 {
        return Ok(());
    }
    subscribe(&store, &base, feeds, &policy)?;
    runtime.block_on(soak(&store, feeds, minutes, speed, policy))
}

/// Stores `count` items of `synthetic_item`, spread evenly over the year before now (so the
/// near-duplicate window holds a week of them, as in a newsroom's store), 2,000 a commit.
fn prefill<S: IngestStore>(store: &S, count: usize) -> Result<(), Box<dyn std::error::Error>> {
    if count == 0 {
        return Ok(());
    }
    let year_ago = chrono::Utc::now() - chrono::Duration::days(365);
    let step = chrono::Duration::days(365) / i32::try_from(count).unwrap_or(i32::MAX).max(1);
    let started = Instant::now();
    for first in (0..count).step_by(2000) {
        let batch: Vec<_> = (first..(first + 2000).min(count))
            .map(|index| {
                let mut scored = infodemic_benches::synthetic_item(index);
                let time = year_ago + step * i32::try_from(index).unwrap_or(i32::MAX);
                (scored.item.published, scored.item.fetched_at) = (Some(time), time);
                scored
            })
            .collect();
        store.commit(&batch, &[], &[])?;
        if (first / 2000) % 50 == 0 {
            eprintln!("prefill: {first} items ({:.0} s)", started.elapsed().as_secs_f64());
        }
    }
    Ok(())
}

/// Subscribes the feeds, each to be polled at the fast policy's base interval.
fn subscribe<S: ScoringStore + ServedStore>(
    store: &S,
    base: &str,
    feeds: usize,
    policy: &PollPolicy,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut states = Vec::with_capacity(feeds);
    for feed in 0..feeds {
        let spec = FeedSpec::from_url(url::Url::parse(&format!("{base}/feed/{feed}.xml"))?);
        ServedStore::put_subscription(store, &spec)?;
        // A new feed starts at the real policy's base interval: start it at the fast one.
        let mut state = infodemic_core::FeedState::new(spec.id.clone(), spec.url.to_string());
        state.interval_secs = policy.base.as_secs().try_into().unwrap_or(u32::MAX);
        states.push(state);
    }
    store.commit(&[], &states, &[])?;
    Ok(())
}

/// A new database on the test server, as a store URL.
fn fresh_database() -> Result<String, Box<dyn std::error::Error>> {
    let server = std::env::var("INFODEMIC_TEST_POSTGRES")
        .map_err(|_| "INFODEMIC_TEST_POSTGRES is not set: eval \"$(bash scripts/postgres.sh start)\"")?;
    let name = format!("soak_{}", std::process::id());
    let mut admin = postgres::Client::connect(&server, postgres::NoTls)?;
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))?;
    admin.batch_execute(&format!("CREATE DATABASE {name}"))?;
    let (base, _) = server.rsplit_once('/').ok_or("INFODEMIC_TEST_POSTGRES names no database")?;
    Ok(format!("{base}/{name}"))
}

/// Watches the subscribed feeds of `store` for `minutes`, and prints the samples.
async fn soak<S>(
    store: &S,
    feeds: usize,
    minutes: usize,
    speed: u32,
    policy: PollPolicy,
) -> Result<(), Box<dyn std::error::Error>>
where
    S: ScoringStore + ServedStore + Clone + 'static,
{
    let classifier = ClassifierHandle::spawn(Box::new(KeywordClassifier::new(&["bleach"])), 4)?;
    let options = WatchOptions {
        crawl: CrawlOptions {
            fetch: FetchConfig { per_host_concurrency: 32, per_host_delay: Duration::ZERO, ..FetchConfig::default() },
            feed_concurrency: 32,
            policy,
            // `--no-campaigns`: without the campaign stage, to tell its memory from the rest.
            campaigns: (!std::env::args().any(|a| a == "--no-campaigns")).then(CampaignSettings::default),
            ..CrawlOptions::default()
        },
        recheck: Duration::from_secs(1),
    };
    let counts = Arc::new(Counts::default());
    let cancel = CancellationToken::new();
    let watcher = {
        let (store, counts, cancel) = (store.clone(), Arc::clone(&counts), cancel.clone());
        tokio::spawn(async move { watch(&store, &classifier, &options, counts.as_ref(), cancel).await })
    };
    let started = Instant::now();
    let sample = Duration::from_secs(30 * 60) / speed;
    println!("{feeds} feeds, {minutes} min at {speed}x = {} simulated hours\n", minutes * speed as usize / 60);
    println!("| simulated h | polls | failed | items stored | RSS MiB | anonymous | file-backed |");
    println!("|---|---|---|---|---|---|---|");
    let mut samples = Vec::new();
    while started.elapsed() < Duration::from_secs(60 * minutes as u64) {
        tokio::time::sleep(sample).await;
        let rss = rss_mib("VmRSS:").unwrap_or(f64::NAN);
        let (anonymous, file) = (rss_mib("RssAnon:").unwrap_or(f64::NAN), rss_mib("RssFile:").unwrap_or(f64::NAN));
        samples.push(rss);
        println!(
            "| {:.1} | {} | {} | {} | {rss:.0} | {anonymous:.0} | {file:.0} |",
            started.elapsed().as_secs_f64() * f64::from(speed) / 3600.0,
            counts.polls.load(Ordering::Relaxed),
            counts.failed.load(Ordering::Relaxed),
            counts.stored.load(Ordering::Relaxed),
        );
    }
    cancel.cancel();
    let summary = watcher.await??;
    let half = samples.len() / 2;
    let max_of = |s: &[f64]| s.iter().copied().fold(f64::NAN, f64::max);
    println!(
            "\n{} cycles, {} polls, {} items; RSS: max {:.0} MiB in the first half, {:.0} MiB in the second; peak {:.0} MiB",
            summary.cycles,
            summary.polls,
            summary.items_new,
            max_of(&samples[..half]),
            max_of(&samples[half..]),
            peak_rss_mib().unwrap_or(f64::NAN)
        );
    Ok(())
}
