//! Crawl workers against PostgreSQL and NATS JetStream: throughput of 1, 2 and 3 worker
//! processes on the same local feeds, beside one `crawl --no-score` process into PostgreSQL and
//! into the embedded store, and `migrate` of those items from the embedded store into PostgreSQL.
//! Then score workers: the items of `--score-feeds` feeds scored by the model from the score
//! queue by 1 worker (all cores) and by 2 workers (one core each), beside `rescore` in one
//! process on the same items.
//!
//! ```sh
//! eval "$(bash scripts/postgres.sh start)"; eval "$(bash scripts/nats.sh start)"
//! cargo build --release -p infodemic-cli
//! cargo run --release -p infodemic-benches --bin workers_scale -- [--feeds 1000] [--items 50] [--hosts 16] [--max-workers 3] [--score-feeds 40]
//! ```
//!
//! Feeds are served by this process from `--hosts` loopback addresses, no delay between two
//! requests to a host (two at a time per host, the default, on every side). Each run
//! gets a database of its own on the server of `INFODEMIC_TEST_POSTGRES` and a queue of its own
//! on the server of `INFODEMIC_TEST_NATS`; a scheduler queues every feed once, then the
//! workers (`infodemic worker --role crawl --exit-when-idle`, separate processes) are started
//! together and timed until the last one exits. Every run must store every item exactly once.
#![allow(clippy::print_stdout, clippy::print_stderr)] // A bench binary reports on the terminal.

use std::time::{Duration, Instant};

use infodemic_benches::{arg, serve_synthetic_feeds};
use infodemic_core::FeedSpec;
use infodemic_core::ItemQuery;
use infodemic_crawler::FetchConfig;
use infodemic_pipeline::{migrate_items, run_crawl_unscored, run_scheduler, CrawlOptions, NoProgress, ScheduleOptions};
use infodemic_queue::{CrawlQueue, QueueConfig, ScoreQueue};
use infodemic_store::{ItemReader, ScoreStore, SledStore};
use infodemic_store_postgres::PgStore;
use tokio_util::sync::CancellationToken;

type Error = Box<dyn std::error::Error>;

fn env(name: &str) -> Result<String, Error> {
    std::env::var(name).map_err(|_| {
        format!("{name} is not set: start the servers with `eval \"$(bash scripts/postgres.sh start)\"; eval \"$(bash scripts/nats.sh start)\"`").into()
    })
}

/// A new database on the server, as a URL.
fn fresh_database(server: &str, name: &str) -> Result<String, Error> {
    let mut admin = postgres::Client::connect(server, postgres::NoTls)?;
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))?;
    admin.batch_execute(&format!("CREATE DATABASE {name}"))?;
    let (base, _) = server.rsplit_once('/').ok_or("a server URL without a database")?;
    Ok(format!("{base}/{name}"))
}

fn main() -> Result<(), Error> {
    let (feeds_n, items_n, hosts, max_workers) =
        (arg("--feeds", 1000), arg("--items", 50), arg("--hosts", 16).clamp(1, 250), arg("--max-workers", 3));
    let jobs = arg("--jobs", 64);
    let (pg_server, nats) = (env("INFODEMIC_TEST_POSTGRES")?, env("INFODEMIC_TEST_NATS")?);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let binary = root.join("target/release/infodemic");
    if !binary.exists() {
        return Err(format!("{} is missing: run `cargo build --release -p infodemic-cli`", binary.display()).into());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let urls = runtime.block_on(serve_synthetic_feeds(feeds_n, items_n, hosts))?;
    let specs: Vec<FeedSpec> =
        urls.iter().map(|u| url::Url::parse(u).map(FeedSpec::from_url)).collect::<Result<_, _>>()?;
    let expected = feeds_n * items_n;
    let concurrency = 16;
    // What `crawl --no-score --concurrency 16 --host-delay 0` runs, and what the workers get
    // from the same flags: two requests in flight per host, batches of 64 items.
    let options = CrawlOptions {
        fetch: FetchConfig { per_host_delay: Duration::ZERO, ..FetchConfig::default() },
        feed_concurrency: concurrency,
        campaigns: None,
        ..CrawlOptions::default()
    };
    let mut rows = Vec::new();

    // One process, no queue: into the embedded store, then into PostgreSQL.
    let dir = tempfile::tempdir()?;
    let (sled, _) = SledStore::open(&dir.path().join("store"))?;
    let started = Instant::now();
    let summary =
        runtime.block_on(run_crawl_unscored(specs.clone(), &sled, &options, &NoProgress, CancellationToken::new()))?;
    rows.push(("one process, embedded store (sled)".to_owned(), summary.items_new, started.elapsed().as_secs_f64()));

    // `infodemic migrate --to`: the same items out of sled into PostgreSQL, then again (a
    // resumed run: everything is there already).
    let target = PgStore::connect(&fresh_database(&pg_server, &format!("bench_migrate_{}", std::process::id()))?)?;
    let cancel = CancellationToken::new();
    for what in ["migrate sled -> PostgreSQL", "migrate again (resumed: all present)"] {
        let started = Instant::now();
        let moved = migrate_items(&sled, &target, &|_| {}, &cancel)?;
        rows.push((what.to_owned(), moved.items_read, started.elapsed().as_secs_f64()));
    }
    if target.stats()?.total.items != expected as u64 {
        return Err("the migration did not copy every item".into());
    }
    drop(sled);

    let pg = PgStore::connect(&fresh_database(&pg_server, &format!("bench_direct_{}", std::process::id()))?)?;
    let started = Instant::now();
    let summary =
        runtime.block_on(run_crawl_unscored(specs.clone(), &pg, &options, &NoProgress, CancellationToken::new()))?;
    rows.push(("one process, PostgreSQL".to_owned(), summary.items_new, started.elapsed().as_secs_f64()));
    if pg.stats()?.total.items != expected as u64 {
        return Err("the direct PostgreSQL crawl did not store every item".into());
    }

    for workers in 1..=max_workers {
        let name = format!("bench_w{workers}_{}", std::process::id());
        let store_url = fresh_database(&pg_server, &name)?;
        let store = PgStore::connect(&store_url)?;
        let config = QueueConfig { name: name.replace('_', "-"), ..QueueConfig::default() };
        runtime.block_on(async {
            let queue = CrawlQueue::connect(&nats, &config).await?;
            let options = ScheduleOptions { once: true, ..ScheduleOptions::default() };
            let store = store.clone();
            run_scheduler(&specs, &queue, &store, &options, CancellationToken::new()).await?;
            Ok::<_, Error>(())
        })?;
        let started = Instant::now();
        let children: Vec<std::process::Child> = (0..workers)
            .map(|_| {
                std::process::Command::new(&binary)
                    .args(["worker", "--role", "crawl", "--exit-when-idle", "--json", "--quiet"])
                    .args(["--jobs", &jobs.to_string(), "--concurrency", &concurrency.to_string(), "--host-delay", "0"])
                    .args([
                        "--queue",
                        nats.as_str(),
                        "--queue-name",
                        config.name.as_str(),
                        "--store",
                        store_url.as_str(),
                    ])
                    .env("INFODEMIC_LOG", "warn")
                    .stdout(std::process::Stdio::piped())
                    .spawn()
            })
            .collect::<Result<_, _>>()?;
        // The feed server lives on this process's runtime, which keeps running while we wait.
        let outputs: Vec<std::process::Output> =
            children.into_iter().map(std::process::Child::wait_with_output).collect::<Result<_, _>>()?;
        let seconds = started.elapsed().as_secs_f64();
        let mut stored = 0;
        for output in &outputs {
            if !output.status.success() {
                return Err(format!("a worker failed: {}", String::from_utf8_lossy(&output.stdout)).into());
            }
            let summary: serde_json::Value = serde_json::from_slice(&output.stdout)?;
            stored += summary["items_new"].as_u64().unwrap_or(0) as usize;
        }
        let total = store.stats()?.total.items;
        if stored != expected || total != expected as u64 {
            return Err(
                format!("{workers} workers stored {stored} items ({total} in the store), not {expected}").into()
            );
        }
        rows.push((
            format!("{workers} worker process{}, PostgreSQL + JetStream", if workers == 1 { "" } else { "es" }),
            stored,
            seconds,
        ));
    }

    let score_feeds = arg("--score-feeds", 40).min(specs.len());
    let mut score_rows = Vec::new();
    if score_feeds > 0 {
        let specs = &specs[..score_feeds];
        // (what, processes, inference threads each): 0 processes is `rescore` in one process.
        for (what, processes, threads) in [
            ("rescore, one process, 2 threads", 0, 2),
            ("1 score worker, 2 threads", 1, 2),
            ("2 score workers, 1 thread each", 2, 1),
        ] {
            let name = format!("bench_s{processes}_{}", std::process::id());
            let store_url = fresh_database(&pg_server, &name)?;
            let store = PgStore::connect(&store_url)?;
            let config = QueueConfig { name: name.replace('_', "-"), ..QueueConfig::default() };
            let crawled = runtime.block_on(run_crawl_unscored(
                specs.to_vec(),
                &store,
                &options,
                &NoProgress,
                CancellationToken::new(),
            ))?;
            let ids = store.item_ids(&ItemQuery::default())?;
            runtime.block_on(async {
                let queue = ScoreQueue::connect(&nats, &config).await?;
                queue.enqueue_items(&ids, &std::collections::BTreeMap::new()).await?;
                Ok::<_, Error>(())
            })?;
            let common = ["--store", store_url.as_str(), "--json", "--quiet", "--threads"];
            let started = Instant::now();
            let children: Vec<std::process::Child> = if processes == 0 {
                vec![std::process::Command::new(&binary)
                    .arg("rescore")
                    .args(common)
                    .arg(threads.to_string())
                    .env("INFODEMIC_LOG", "warn")
                    .stdout(std::process::Stdio::piped())
                    .spawn()?]
            } else {
                (0..processes)
                    .map(|_| {
                        std::process::Command::new(&binary)
                            .args([
                                "worker",
                                "--role",
                                "score",
                                "--exit-when-idle",
                                "--no-campaign-jobs",
                                "--jobs",
                                "4",
                            ])
                            .args(["--queue", nats.as_str(), "--queue-name", config.name.as_str()])
                            .args(common)
                            .arg(threads.to_string())
                            .env("INFODEMIC_LOG", "warn")
                            .stdout(std::process::Stdio::piped())
                            .spawn()
                    })
                    .collect::<Result<_, _>>()?
            };
            for output in children.into_iter().map(std::process::Child::wait_with_output) {
                let output = output?;
                if !output.status.success() {
                    return Err(format!("{what} failed: {}", String::from_utf8_lossy(&output.stdout)).into());
                }
            }
            let seconds = started.elapsed().as_secs_f64();
            let stats = store.stats()?;
            if stats.per_label.contains_key("unscored") || stats.total.items != crawled.items_new as u64 {
                return Err(format!("{what} left items unscored: {:?}", stats.per_label).into());
            }
            score_rows.push((what.to_owned(), crawled.items_new, seconds));
        }
    }

    println!(
        "{feeds_n} feeds x {items_n} items on {hosts} loopback addresses, {} cores\n",
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    println!("| ingest without scoring | items | seconds | items/s |");
    println!("|---|---|---|---|");
    for (what, items, seconds) in rows {
        println!("| {what} | {items} | {seconds:.2} | {:.0} |", items as f64 / seconds);
    }
    if !score_rows.is_empty() {
        println!("\n| scoring stored items (the default model, PostgreSQL) | items | seconds | items/s |");
        println!("|---|---|---|---|");
        for (what, items, seconds) in score_rows {
            println!("| {what} | {items} | {seconds:.2} | {:.0} |", items as f64 / seconds);
        }
    }
    Ok(())
}
