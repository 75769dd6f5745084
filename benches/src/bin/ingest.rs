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

use infodemic_benches::{peak_rss_mib, serve_feeds, synthetic_feed};
use infodemic_classifier::{ClassifierHandle, KeywordClassifier};
use infodemic_core::FeedSpec;
use infodemic_crawler::FetchConfig;
use infodemic_pipeline::{run_crawl, CrawlOptions, NoProgress};
use infodemic_store::SledStore;
use tokio_util::sync::CancellationToken;
use url::Url;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (feeds_n, items_n, concurrency) = (arg("--feeds", 1000), arg("--items", 50), arg("--concurrency", 32));
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let feeds: Arc<Vec<Vec<u8>>> = Arc::new((0..feeds_n).map(|f| synthetic_feed(f, items_n).into_bytes()).collect());
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
