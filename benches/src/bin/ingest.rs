//! Ingest throughput: fetch from a local server + parse + normalise + dedupe + store, for
//! 1,000 feeds x 50 items, classification excluded (a keyword stand-in scores the items).
//! Prints items/s and the peak resident memory of the process.
//!
//! ```sh
//! cargo run --release -p infodemic-benches --bin ingest -- [--feeds 1000] [--items 50] [--concurrency 32]
//! ```

#![allow(clippy::print_stdout, clippy::print_stderr)] // A bench binary reports on the terminal.

use std::sync::Arc;
use std::time::{Duration, Instant};

use infodemic_benches::{peak_rss_mib, serve_feeds};
use infodemic_classifier::{ClassifierHandle, KeywordClassifier};
use infodemic_core::FeedSpec;
use infodemic_crawler::FetchConfig;
use infodemic_pipeline::{run_crawl, CrawlOptions, NoProgress};
use infodemic_store::SledStore;
use tokio_util::sync::CancellationToken;
use url::Url;

/// Pseudo-random words (splitmix64), so every item's text differs enough that neither the
/// content hash nor SimHash merges them: the bench measures ingest, not dedupe.
fn words(seed: u64, n: usize) -> Vec<String> {
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    (0..n)
        .map(|_| {
            let bits = next();
            let len = 3 + (bits >> 60) as usize % 7;
            (0..len).map(|i| char::from(b'a' + ((bits >> (i * 6)) % 26) as u8)).collect()
        })
        .collect()
}

/// A feed of `items` distinct items.
fn feed(feed: usize, items: usize) -> String {
    let mut body =
        String::from(r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Bench</title>"#);
    for item in 0..items {
        let words = words((feed * 1000 + item) as u64, 60);
        body.push_str(&format!(
            "<item><title>Item {item} of feed {feed}</title><link>https://bench.example.org/{feed}/{item}</link>\
             <pubDate>Sat, 28 Nov 2026 12:{:02}:00 GMT</pubDate><description>&lt;p&gt;Feed {feed} item {item}: {}.&lt;/p&gt;</description></item>",
            item % 60,
            words.join(" ")
        ));
    }
    body.push_str("</channel></rss>");
    body
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (feeds_n, items_n, concurrency) = (arg("--feeds", 1000), arg("--items", 50), arg("--concurrency", 32));
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let feeds: Arc<Vec<Vec<u8>>> = Arc::new((0..feeds_n).map(|f| feed(f, items_n).into_bytes()).collect());
        let bytes: usize = feeds.iter().map(Vec::len).sum();
        let base = serve_feeds(Arc::clone(&feeds)).await?;
        let specs: Vec<FeedSpec> = (0..feeds_n)
            .map(|f| Url::parse(&format!("{base}/feed/{f}.xml")).map(FeedSpec::from_url))
            .collect::<Result<_, _>>()?;
        let dir = tempfile::tempdir()?;
        let (store, _) = SledStore::open(&dir.path().join("store"))?;
        let classifier = ClassifierHandle::spawn(Box::new(KeywordClassifier::new(&["bleach"])), 4)?;
        let options = CrawlOptions {
            fetch: FetchConfig {
                // One local server stands for many hosts: politeness off, limits on.
                per_host_concurrency: concurrency,
                per_host_delay: Duration::ZERO,
                ..FetchConfig::default()
            },
            feed_concurrency: concurrency,
            commit_batch: 512,
            ..CrawlOptions::default()
        };
        let started = Instant::now();
        let summary = run_crawl(specs, &store, &classifier, &options, &NoProgress, CancellationToken::new()).await?;
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "{} feeds x {} items ({:.1} MiB of feeds): {} items stored in {seconds:.2} s = {:.0} items/s, {:.1} feeds/s; \
             failed feeds {}; peak RSS {:.0} MiB",
            feeds_n,
            items_n,
            bytes as f64 / 1_048_576.0,
            summary.items_new,
            summary.items_new as f64 / seconds,
            feeds_n as f64 / seconds,
            summary.feeds_failed.len(),
            peak_rss_mib().unwrap_or(f64::NAN)
        );
        Ok::<_, Box<dyn std::error::Error>>(())
    })
}
