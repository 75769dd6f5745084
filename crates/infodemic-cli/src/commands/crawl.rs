//! `infodemic crawl`: fetch feeds, score new items, store them, print a summary.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use infodemic_classifier::{ClassifierHandle, SessionOptions};
use infodemic_core::FeedSpec;
use infodemic_pipeline::{
    load_catalogue, run_crawl, CrawlOptions, CrawlSummary, FetchConfig, PipelineError, ScoringStore,
};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::cli::GlobalArgs;
use crate::exit::{Exit, UsageError};
use crate::output::write_json_line;
use crate::progress::CrawlProgress;

#[derive(Debug, Args)]
pub struct CrawlArgs {
    /// Feed catalogue: a TOML file of [[feed]] tables (see feeds/catalogue.toml) [default: the subscribed feeds]
    #[arg(long, value_name = "FILE")]
    pub feeds: Option<PathBuf>,

    /// A feed URL to crawl (http, https, file, or a local path); repeatable
    #[arg(long = "url", value_name = "URL", value_parser = feed_url)]
    pub urls: Vec<Url>,

    /// Feeds fetched at the same time
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=512))]
    pub concurrency: u16,

    /// Seconds allowed for each feed (connect, headers and body)
    #[arg(long, value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,

    /// Largest feed accepted, in MiB (counted after decompression)
    #[arg(long, value_name = "MIB", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub max_body_mib: u64,

    /// Texts per inference run [default: 8 for a batch-invariant model, else 1, so that a
    /// text's score never depends on what it is scored with]
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub batch_size: Option<u16>,

    /// Seconds between two requests to the same host (robots.txt Crawl-delay can raise it)
    #[arg(long, value_name = "SECS", env = "INFODEMIC_HOST_DELAY", default_value_t = 1.0, value_parser = delay_arg)]
    pub host_delay: f64,

    /// Threads for inference [default: all cores]
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,

    /// Fetch feeds whose server asked to wait (Retry-After) all the same
    #[arg(long)]
    pub force: bool,

    /// Store new items without scoring them (no model is loaded; no claim matching, claim
    /// learning or campaigns): the fastest way to backfill; `infodemic rescore` scores them
    #[arg(long, conflicts_with_all = ["batch_size", "threads"])]
    pub no_score: bool,

    /// Print the summary as one JSON object
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub alerts: crate::commands::campaigns::AlertSinkArgs,
}

/// A delay in seconds: finite, 0 to 600.
pub fn delay_arg(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(secs) if (0.0..=600.0).contains(&secs) => Ok(secs),
        _ => Err(format!("`{value}` is not a number of seconds between 0 and 600")),
    }
}

/// Accepts URLs and, for convenience, paths of local feed files.
pub fn feed_url(value: &str) -> Result<Url, String> {
    match Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https" | "file") => Ok(url),
        Ok(url) => Err(format!("unsupported scheme `{}`: use http, https or file", url.scheme())),
        Err(_) if Path::new(value).exists() => std::path::absolute(value)
            .ok()
            .and_then(|path| Url::from_file_path(path).ok())
            .ok_or_else(|| format!("cannot turn `{value}` into a file URL")),
        Err(error) => Err(format!("`{value}` is neither a URL nor an existing file ({error})")),
    }
}

pub fn run(args: &CrawlArgs, global: &GlobalArgs) -> anyhow::Result<Exit> {
    match global.open_backend(true)?.context("no store")? {
        crate::context::Backend::Local(store) => crawl_into(args, global, &store),
        crate::context::Backend::Service(client) => run_in_watch(args, global, &client),
        crate::context::Backend::Postgres(store) => {
            // Campaigns have one writer: a crawl that scores assigns them, so it must be it, or
            // hand the crawl to the watch on this store that is.
            if !args.no_score && !store.become_campaign_writer()? {
                if let Some(watch) = global.watch_serving(&store)? {
                    tracing::debug!(message = "A watch writes this store's campaigns; the crawl runs there.");
                    return run_in_watch(args, global, &watch);
                }
                return Err(infodemic_store::StoreError::NotTheWriter(
                    "another process writes campaigns to this store (a campaign worker, or a watch whose data \
                     directory this is not): crawl with --no-score and let the workers score, or stop it"
                        .to_owned(),
                )
                .into());
            }
            crawl_into(args, global, &store)
        }
    }
}

/// The crawl into `store` (the embedded store, or PostgreSQL).
fn crawl_into<S: ScoringStore + Clone + 'static>(
    args: &CrawlArgs,
    global: &GlobalArgs,
    store: &S,
) -> anyhow::Result<Exit> {
    let feeds = feeds_to_crawl(args, store)?;
    if args.no_score {
        return crawl_unscored(args, global, store, feeds);
    }
    let mut options = SessionOptions { batch_size: args.batch_size.map(usize::from), ..SessionOptions::default() };
    if let Some(threads) = args.threads {
        options.intra_threads = usize::from(threads);
    }
    let model = global.load_model(options)?;
    let classifier =
        ClassifierHandle::spawn(Box::new(model.classifier), 2).context("cannot start the classifier thread")?;
    let campaigns = infodemic_pipeline::CampaignSettings {
        sinks: args.alerts.sinks()?,
        ..infodemic_pipeline::CampaignSettings::default()
    };
    let crawl_options = CrawlOptions {
        fetch: fetch_config(args),
        feed_concurrency: usize::from(args.concurrency),
        force: args.force,
        campaigns: Some(campaigns),
        ..CrawlOptions::default()
    };
    let progress = CrawlProgress::new(global.quiet || args.json);
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    let summary = runtime.block_on(async {
        let cancel = CancellationToken::new();
        tokio::spawn(stop_on_signals(cancel.clone()));
        run_crawl(feeds, store, &classifier, &crawl_options, &progress, cancel).await
    });
    progress.finish();
    report(args, &summary?)
}

/// `--no-score`: no model, no campaigns; into either store.
fn crawl_unscored<S: infodemic_store::IngestStore + Clone + 'static>(
    args: &CrawlArgs,
    global: &GlobalArgs,
    store: &S,
    feeds: Vec<FeedSpec>,
) -> anyhow::Result<Exit> {
    let crawl_options = CrawlOptions {
        fetch: fetch_config(args),
        feed_concurrency: usize::from(args.concurrency),
        force: args.force,
        campaigns: None,
        ..CrawlOptions::default()
    };
    let progress = CrawlProgress::new(global.quiet || args.json);
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    let summary = runtime.block_on(async {
        let cancel = CancellationToken::new();
        tokio::spawn(stop_on_signals(cancel.clone()));
        infodemic_pipeline::run_crawl_unscored(feeds, store, &crawl_options, &progress, cancel).await
    });
    progress.finish();
    report(args, &summary?)
}

fn fetch_config(args: &CrawlArgs) -> FetchConfig {
    FetchConfig {
        timeout: Duration::from_secs(args.timeout),
        max_body_bytes: args.max_body_mib * 1024 * 1024,
        per_host_delay: Duration::from_secs_f64(args.host_delay),
        ..FetchConfig::default()
    }
}

fn report(args: &CrawlArgs, summary: &CrawlSummary) -> anyhow::Result<Exit> {
    let mut stdout = crate::output::stdout();
    if args.json {
        write_json_line(&mut stdout, summary)?;
    } else {
        print_summary(&mut stdout, summary)?;
    }
    stdout.flush()?;
    Ok(if summary.interrupted { Exit::Interrupted } else { Exit::Success })
}

/// The crawl, run by the `watch` that holds the store (between its own cycles, with its model
/// and alert sinks, and this command's fetch settings); the same summary as a crawl of its own.
fn run_in_watch(
    args: &CrawlArgs,
    global: &GlobalArgs,
    client: &infodemic_service::ServiceClient,
) -> anyhow::Result<Exit> {
    let feeds = if args.feeds.is_none() && args.urls.is_empty() { Vec::new() } else { listed_feeds(args)? };
    if args.batch_size.is_some() || args.threads.is_some() {
        tracing::warn!(
            message =
                "A watch is running: the crawl runs there, with its model; --batch-size and --threads do not apply."
        );
    }
    let request = infodemic_service::CrawlRequest {
        feeds,
        concurrency: args.concurrency,
        timeout_secs: args.timeout,
        max_body_mib: args.max_body_mib,
        host_delay_secs: args.host_delay,
        force: args.force,
        score: !args.no_score,
    };
    let waiting = crate::progress::spinner(global.quiet || args.json, "crawling in the running watch");
    let answer = client.crawl(&request);
    waiting.finish_and_clear();
    let summary: CrawlSummary =
        serde_json::from_value(answer?).context("the running watch answered with an unreadable summary")?;
    report(args, &summary)
}

fn feeds_to_crawl<S: ScoringStore + ?Sized>(args: &CrawlArgs, store: &S) -> anyhow::Result<Vec<FeedSpec>> {
    if args.feeds.is_none() && args.urls.is_empty() {
        let subscribed = store.subscriptions()?;
        if !subscribed.is_empty() {
            return Ok(subscribed);
        }
    }
    listed_feeds(args)
}

/// The feeds of `--feeds` and `--url`.
fn listed_feeds(args: &CrawlArgs) -> anyhow::Result<Vec<FeedSpec>> {
    let mut feeds = match &args.feeds {
        Some(path) => load_catalogue(path).map_err(|error| match error {
            PipelineError::CatalogueRead { .. } | PipelineError::Catalogue { .. } => {
                anyhow::Error::new(UsageError(error.to_string()))
            }
            other => other.into(),
        })?,
        None => Vec::new(),
    };
    feeds.extend(args.urls.iter().cloned().map(FeedSpec::from_url));
    if feeds.is_empty() {
        if args.feeds.is_some() {
            return Err(UsageError("the catalogue has no [[feed]] entries".to_owned()).into());
        }
        return Err(UsageError(
            "nothing to crawl: pass --feeds FILE or --url URL (try `--feeds feeds/samples.toml`), or subscribe with `infodemic feeds add`".to_owned(),
        )
        .into());
    }
    Ok(feeds)
}

/// First Ctrl-C (or SIGTERM): stop starting feeds and commit what was fetched. Second: quit
/// now; every committed batch is already whole on disk.
pub async fn stop_on_signals(cancel: CancellationToken) {
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let code = stop_sequence(cancel, terminate).await;
    std::process::exit(code);
}

/// The first SIGINT or SIGTERM cancels `cancel` (a clean stop); a second one of either ends
/// the wait with the exit code it calls for, to quit at once.
async fn stop_sequence(cancel: CancellationToken, mut terminate: Option<tokio::signal::unix::Signal>) -> i32 {
    next_stop_signal(&mut terminate).await;
    cancel.cancel();
    tracing::info!(message = "Stop requested; committing the work in progress.");
    next_stop_signal(&mut terminate).await
}

/// Waits for SIGINT or SIGTERM; the exit code it calls for (130 or 143).
async fn next_stop_signal(terminate: &mut Option<tokio::signal::unix::Signal>) -> i32 {
    let term = async {
        match terminate.as_mut() {
            Some(signal) => {
                signal.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => 130,
        () = term => 143,
    }
}

fn print_summary(out: &mut impl Write, summary: &CrawlSummary) -> std::io::Result<()> {
    let failed = summary.feeds_failed.len();
    writeln!(
        out,
        "{} {} feeds in {:.1} s: {} ok, {} not modified, {} failed{}",
        if summary.interrupted { "Interrupted after" } else { "Crawled" },
        summary.feeds_total,
        summary.elapsed_secs,
        summary.feeds_ok,
        summary.feeds_not_modified,
        failed,
        if summary.feeds_skipped > 0 { format!(", {} not reached", summary.feeds_skipped) } else { String::new() }
    )?;
    writeln!(
        out,
        "Items: {} seen, {} new, {} duplicate, {} flagged",
        summary.items_seen, summary.items_new, summary.items_duplicate, summary.items_flagged
    )?;
    if summary.items_unscored > 0 {
        writeln!(out, "{} new items stored unscored: `infodemic rescore` scores them", summary.items_unscored)?;
    }
    if summary.items_in_campaigns > 0 || !summary.alerts.is_empty() {
        writeln!(
            out,
            "Campaigns: {} items assigned, {} opened, {} alerts",
            summary.items_in_campaigns,
            summary.campaigns_opened,
            summary.alerts.len()
        )?;
    }
    if failed > 0 {
        writeln!(out, "Failed feeds:")?;
        for feed in &summary.feeds_failed {
            writeln!(out, "  {}  [{}] {}  ({})", feed.source, feed.code, feed.error, feed.url)?;
        }
    }
    if !summary.feeds_partial.is_empty() {
        writeln!(out, "Feeds read in part:")?;
        for feed in &summary.feeds_partial {
            writeln!(
                out,
                "  {}  {} items from {} entries: {} dropped (no text, cut off, or over the cap), {} repeating an \
                 earlier entry",
                feed.source, feed.items, feed.entries, feed.dropped, feed.repeated_links
            )?;
        }
    }
    if !summary.feeds_deferred.is_empty() {
        writeln!(out, "Not fetched, as their servers asked (Retry-After; --force to fetch anyway):")?;
        for feed in &summary.feeds_deferred {
            writeln!(out, "  {}  until {}", feed.source, feed.until.format("%Y-%m-%d %H:%M UTC"))?;
        }
    }
    if summary.network_down {
        writeln!(out, "Every host failed at once: the network looks down; no feed was penalised.")?;
    }
    if summary.claims_reembedded > 0 {
        writeln!(out, "Claims: {} embedded again with the current model", summary.claims_reembedded)?;
    }
    if summary.items_flagged > 0 {
        writeln!(out, "See them with: infodemic query --flagged")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send_sigterm_to_self() {
        let status = std::process::Command::new("kill").args(["-TERM", &std::process::id().to_string()]).status();
        assert!(status.is_ok_and(|s| s.success()));
    }

    #[tokio::test]
    async fn a_second_sigterm_quits_at_once() {
        let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        assert!(terminate.is_some());
        let cancel = CancellationToken::new();
        let sequence = tokio::spawn(stop_sequence(cancel.clone(), terminate));
        send_sigterm_to_self();
        tokio::time::timeout(std::time::Duration::from_secs(30), cancel.cancelled()).await.unwrap();
        assert!(!sequence.is_finished(), "the first signal stops cleanly, it does not quit");
        send_sigterm_to_self();
        let code = tokio::time::timeout(std::time::Duration::from_secs(30), sequence).await.unwrap().unwrap();
        assert_eq!(code, 143);
    }
}
