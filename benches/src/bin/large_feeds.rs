//! Crawl time of large real feeds (hundreds of items), end to end as `infodemic crawl` runs
//! them: fetched from a local server, parsed, deduplicated, scored by the real model (scores and
//! evidence sentences) and stored, each feed alone in a fresh store.
//!
//! Feeds: every document of the parity corpus (`tests/fixtures/feeds/corpus`) with 100 entries
//! or more, and a 500-item feed made of the corpus's distinct entries (real titles and texts,
//! mixed lengths and languages), the size the real-world feeds issue sets a 10 s target for.
//!
//! ```sh
//! bash scripts/setup.sh
//! cargo run --release -p infodemic-benches --bin large_feeds [-- --threads N --batch-size N --no-evidence --only NAME]
//! ```
//!
//! `--no-evidence` skips the evidence sentences (scores only), to see what they cost;
//! `--only NAME` runs the feeds whose name contains NAME.

#![allow(clippy::print_stdout, clippy::print_stderr)] // A bench binary reports on the terminal.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use infodemic_benches::{peak_rss_mib, serve_feeds};
use infodemic_classifier::{ClassifierHandle, SessionOptions};
use infodemic_core::{FeedSpec, Item, RelevanceFilter};
use infodemic_crawler::charset::to_utf8;
use infodemic_crawler::parse::read_feed;
use infodemic_crawler::FetchConfig;
use infodemic_pipeline::{load_model, run_crawl, CrawlOptions, NoProgress};
use infodemic_store::SledStore;
use tokio_util::sync::CancellationToken;
use url::Url;

/// Documents with at least this many entries count as large.
const LARGE: u64 = 100;
/// Items of the feed built from the corpus's entries.
const BUILT_ITEMS: usize = 500;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/feeds/corpus")
}

fn arg(name: &str) -> Option<usize> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok())
}

/// Every readable entry of the corpus, as items.
fn corpus_items() -> Result<Vec<Item>, Box<dyn std::error::Error>> {
    let mut items = Vec::new();
    let mut paths: Vec<PathBuf> =
        std::fs::read_dir(corpus().join("docs"))?.filter_map(|e| Some(e.ok()?.path())).collect();
    paths.sort();
    for path in paths {
        let bytes = std::fs::read(&path)?;
        let base = Url::parse("https://corpus.example/feed")?;
        if let Ok(normalized) = read_feed(&FeedSpec::from_url(base.clone()), &to_utf8(&bytes, None), &base, Utc::now())
        {
            items.extend(normalized.items);
        }
    }
    Ok(items)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// An RSS 2.0 feed of `count` distinct corpus entries (by text), each on its own link.
fn built_feed(items: &[Item], count: usize) -> Vec<u8> {
    let mut seen = HashSet::new();
    let mut body = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Corpus entries</title>"#,
    );
    for (n, item) in items.iter().filter(|i| !i.text.is_empty() && seen.insert(i.content_hash)).take(count).enumerate()
    {
        body.push_str(&format!(
            "<item><title>{}</title><link>https://built.example/{n}</link><description>{}</description></item>",
            escape(&item.title),
            escape(&item.text)
        ));
    }
    body.push_str("</channel></rss>");
    body.into_bytes()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let expected: BTreeMap<String, serde_json::Value> =
        serde_json::from_slice(&std::fs::read(corpus().join("expected.json"))?)?;
    let mut feeds: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, record) in &expected {
        if record["entries"].as_u64().unwrap_or(0) >= LARGE {
            feeds.push((name.clone(), std::fs::read(corpus().join("docs").join(name))?));
        }
    }
    let items = corpus_items()?;
    feeds.push((format!("built-{BUILT_ITEMS} (corpus entries)"), built_feed(&items, BUILT_ITEMS)));

    let mut options = SessionOptions::default();
    if let Some(threads) = arg("--threads") {
        options.intra_threads = threads;
    }
    options.batch_size = arg("--batch-size").or(options.batch_size);
    let loading = Instant::now();
    let mut model = load_model(None, None, options)?;
    println!("model {} loaded in {:.2} s", model.model_dir.path.display(), loading.elapsed().as_secs_f64());
    if std::env::args().any(|a| a == "--no-evidence") {
        model.classifier.set_evidence(false);
        println!("evidence sentences: off");
    }
    let classifier = ClassifierHandle::spawn(Box::new(model.classifier), 2)?;
    let only = std::env::args().skip_while(|a| a != "--only").nth(1);
    feeds.retain(|(name, _)| only.as_deref().is_none_or(|only| name.contains(only)));

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new(feeds.iter().map(|(_, body)| body.clone()).collect());
    let base = runtime.block_on(serve_feeds(Arc::clone(&bodies)))?;
    println!(
        "{:<44} {:>9} {:>7} {:>7} {:>9} {:>9} {:>8}",
        "feed", "KiB", "entries", "items", "parse ms", "crawl s", "items/s"
    );
    for (index, (name, body)) in feeds.iter().enumerate() {
        let url = Url::parse(&format!("{base}/feed/{index}.xml"))?;
        let parse_started = Instant::now();
        let parsed = read_feed(&FeedSpec::from_url(url.clone()), &to_utf8(body, None), &url, Utc::now())?;
        let parse_ms = parse_started.elapsed().as_secs_f64() * 1000.0;
        let dir = tempfile::tempdir()?;
        let (store, _) = SledStore::open(&dir.path().join("store"))?;
        let crawl_options = CrawlOptions {
            fetch: FetchConfig { per_host_delay: Duration::ZERO, ..FetchConfig::default() },
            ..CrawlOptions::default()
        };
        let started = Instant::now();
        // Every item scored, health-related or not: the worst case of a feed's crawl.
        let mut spec = FeedSpec::from_url(url);
        spec.relevance = RelevanceFilter::All;
        let summary = runtime.block_on(run_crawl(
            vec![spec],
            &store,
            &classifier,
            &crawl_options,
            &NoProgress,
            CancellationToken::new(),
        ))?;
        let seconds = started.elapsed().as_secs_f64();
        if let Some(failed) = summary.feeds_failed.first() {
            eprintln!("{name}: {}", failed.error);
        }
        println!(
            "{:<44} {:>9.0} {:>7} {:>7} {:>9.1} {:>9.2} {:>8.0}",
            name,
            body.len() as f64 / 1024.0,
            parsed.entries_in_document,
            summary.items_new,
            parse_ms,
            seconds,
            summary.items_new as f64 / seconds
        );
    }
    println!("peak RSS {:.0} MiB", peak_rss_mib().unwrap_or(f64::NAN));
    Ok(())
}
