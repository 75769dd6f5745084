//! Ingest without scoring against a Python peer, side by side on the same local feeds:
//! `crawl --no-score` (fetch, parse, normalise, dedupe by URL, content and SimHash, store with
//! every index and the full-text index) against the usual Python way (feedparser, 16 threads
//! of urllib, SQLite, dedupe by URL; `benches/python/ingest_peer.py`).
//!
//! ```sh
//! bash scripts/setup.sh --python-bench   # feedparser into .venv-bench/
//! cargo run --release -p infodemic-benches --bin ingest_vs_python -- [--feeds 1000] [--items 50] [--hosts 16] [--concurrency 32]
//! ```
//!
//! The feeds are served from `--hosts` loopback addresses (127.0.0.1, 127.0.0.2, ...), each
//! feed from one of them, so that no single host carries them all; politeness is off on both
//! sides (no delay between two requests to one host), as the peer has none. The Rust side runs
//! in this process, the peer in a child process, one after the other, each into an empty store.
#![allow(clippy::print_stdout, clippy::print_stderr)] // A bench binary reports on the terminal.

use std::io::Write;
use std::time::{Duration, Instant};

use infodemic_benches::{arg, peak_rss_mib, serve_synthetic_feeds};
use infodemic_core::FeedSpec;
use infodemic_crawler::FetchConfig;
use infodemic_pipeline::{run_crawl_unscored, CrawlOptions, NoProgress};
use infodemic_store::SledStore;
use tokio_util::sync::CancellationToken;

/// CPU seconds (user + system) this process has used so far (Linux).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // After the command name in parentheses: fields 14 and 15 are utime and stime, in ticks.
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks: f64 = fields.get(11..13).map_or(0.0, |f| f.iter().filter_map(|v| v.parse::<f64>().ok()).sum());
    ticks / 100.0
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // As the `infodemic` binary does, unless `MALLOC_ARENA_MAX` says otherwise.
    infodemic_service::memory::bound_allocator_arenas();
    let (feeds_n, items_n, hosts, concurrency) =
        (arg("--feeds", 1000), arg("--items", 50), arg("--hosts", 16).clamp(1, 250), arg("--concurrency", 32));
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = root.join(".venv-bench/bin/python");
    if !python.exists() {
        return Err(format!("{} is missing: run `bash scripts/setup.sh --python-bench`", python.display()).into());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let urls = runtime.block_on(serve_synthetic_feeds(feeds_n, items_n, hosts))?;

    // Rust: what `infodemic crawl --no-score` runs.
    let dir = tempfile::tempdir()?;
    let (store, _) = SledStore::open(&dir.path().join("store"))?;
    let specs: Vec<FeedSpec> =
        urls.iter().map(|u| url::Url::parse(u).map(FeedSpec::from_url)).collect::<Result<_, _>>()?;
    let options = CrawlOptions {
        fetch: FetchConfig {
            per_host_concurrency: concurrency,
            per_host_delay: Duration::ZERO,
            ..FetchConfig::default()
        },
        feed_concurrency: concurrency,
        commit_batch: 512,
        campaigns: None,
        ..CrawlOptions::default()
    };
    let started = Instant::now();
    let cpu_before = cpu_seconds();
    let summary =
        runtime.block_on(run_crawl_unscored(specs, &store, &options, &NoProgress, CancellationToken::new()))?;
    let rust_seconds = started.elapsed().as_secs_f64();
    let rust_cpu = cpu_seconds() - cpu_before;
    let rust_rate = summary.items_new as f64 / rust_seconds;

    // Python, against the same servers (they keep running on this process's runtime).
    let python_started = Instant::now();
    let mut child = std::process::Command::new("/usr/bin/time")
        .args(["-f", "%U %S"])
        .arg(&python)
        .arg(root.join("benches/python/ingest_peer.py"))
        .arg(dir.path().join("peer.sqlite"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(urls.join("\n").as_bytes())?;
    }
    let output = child.wait_with_output()?;
    if !output.status.success() {
        return Err("the Python peer failed".into());
    }
    let peer: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let python_wall = python_started.elapsed().as_secs_f64();
    let peer_cpu: f64 = String::from_utf8_lossy(&output.stderr)
        .lines()
        .last()
        .unwrap_or("")
        .split_whitespace()
        .filter_map(|v| v.parse::<f64>().ok())
        .sum();
    let peer_items = peer["items"].as_f64().unwrap_or(0.0);
    let peer_rate = peer_items / peer["seconds"].as_f64().unwrap_or(f64::NAN);

    println!("{feeds_n} feeds x {items_n} items on {hosts} loopback addresses\n");
    println!("| ingest | items stored | seconds | items/s | CPU seconds (process) |");
    println!("|---|---|---|---|---|");
    println!(
        "| infodemic crawl --no-score | {} | {rust_seconds:.2} | {rust_rate:.0} | {rust_cpu:.1} (feed server included) |",
        summary.items_new
    );
    println!(
        "| Python: feedparser, 16 threads, SQLite | {peer_items} | {:.2} | {peer_rate:.0} | {peer_cpu:.1} (start-up included, {python_wall:.1} s) |",
        peer["seconds"].as_f64().unwrap_or(f64::NAN)
    );
    println!(
        "\nratio {:.2}x; failed feeds: {} (Rust), {} (Python); peak RSS of this process {:.0} MiB",
        rust_rate / peer_rate,
        summary.feeds_failed.len(),
        peer["failed"],
        peak_rss_mib().unwrap_or(f64::NAN)
    );
    Ok(())
}
