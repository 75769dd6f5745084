//! `infodemic watch`: poll the subscribed feeds on their own schedules until stopped.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use infodemic_classifier::{ClassifierHandle, SessionOptions};
use infodemic_pipeline::{watch_with_jobs, CrawlEvent, CrawlObserver, CrawlOptions, FetchConfig, WatchOptions};
use infodemic_service::{serve, Metrics, ServeOptions, ServedStore};
use infodemic_store::CampaignWriter;
use tokio_util::sync::CancellationToken;

use crate::cli::GlobalArgs;
use crate::commands::crawl::delay_arg;
use crate::exit::{Exit, UsageError};

/// How a long-running poller fetches (`watch`, crawl workers).
#[derive(Debug, Args)]
pub struct PollArgs {
    /// Feeds fetched at the same time
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=512))]
    pub concurrency: u16,
    /// Seconds allowed for each feed
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub timeout: u64,
    /// Seconds between two requests to the same host (robots.txt Crawl-delay can raise it)
    #[arg(long, value_name = "SECS", env = "INFODEMIC_HOST_DELAY", default_value_t = 1.0, value_parser = delay_arg)]
    pub host_delay: f64,
}

impl PollArgs {
    /// Crawl options with these fetch settings, campaigns as given.
    pub fn crawl_options(&self, campaigns: Option<infodemic_pipeline::CampaignSettings>) -> CrawlOptions {
        CrawlOptions {
            fetch: FetchConfig {
                timeout: Duration::from_secs(self.timeout),
                per_host_delay: Duration::from_secs_f64(self.host_delay),
                ..FetchConfig::default()
            },
            feed_concurrency: usize::from(self.concurrency),
            campaigns,
            ..CrawlOptions::default()
        }
    }
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub poll: PollArgs,

    /// Do not serve the local API (on the embedded store, other commands then cannot read it
    /// while this runs; on PostgreSQL they read it directly, but no review page or /metrics)
    #[arg(long)]
    pub no_api: bool,

    /// Where the local API and the review page listen; an address that is not loopback makes
    /// the review page ask for the token in service.json
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0", conflicts_with = "no_api")]
    pub listen: std::net::SocketAddr,

    /// Whose verdicts the review page records when the reviewer gives no name [default: the user's login name]
    #[arg(long, value_name = "NAME", env = "INFODEMIC_REVIEWER")]
    pub reviewer: Option<String>,

    /// Threads for inference [default: all cores]
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,
    #[command(flatten)]
    pub alerts: crate::commands::campaigns::AlertSinkArgs,
}

pub fn run(args: &WatchArgs, global: &GlobalArgs) -> anyhow::Result<Exit> {
    if let Some(url) = &global.store {
        let store = infodemic_store_postgres::PgStore::connect(url)?;
        // Each cycle assigns campaigns, which one process at a time writes: hold the lock for
        // as long as the watch runs (the server frees it if this process dies).
        if !store.become_campaign_writer()? {
            return Err(infodemic_store::StoreError::NotTheWriter(
                "another process writes campaigns to this store (a watch, a campaign worker, or a crawl that \
                 scores): stop it, or run crawl, score and campaign workers instead of watch"
                    .to_owned(),
            )
            .into());
        }
        let location = store.shown_url().to_owned();
        return watch_on(&store, Some(location), args, global);
    }
    let store = global.open_store()?;
    // We hold the store now, so a service.json left behind is from a watch that did not stop
    // cleanly (killed, power cut): check the store before going on.
    if infodemic_service::ServiceInfo::read(&global.data_dir()?).ok().flatten().is_some() {
        let items = store.verify().context("the last watch stopped uncleanly and the store is inconsistent")?;
        tracing::warn!(message = "The last watch stopped uncleanly; the store was verified.", items);
    }
    watch_on(&store, None, args, global)
}

/// The watch on `store`: the embedded store, or PostgreSQL (`store_url`, without its
/// password) whose campaign lock this process holds.
fn watch_on<S>(store: &S, store_url: Option<String>, args: &WatchArgs, global: &GlobalArgs) -> anyhow::Result<Exit>
where
    S: ServedStore + CampaignWriter + Clone + std::fmt::Debug,
{
    if infodemic_store::ScoreStore::subscriptions(store)?.is_empty() {
        return Err(UsageError(
            "no subscribed feeds: infodemic feeds add URL, or infodemic feeds import feeds/catalogue.toml".to_owned(),
        )
        .into());
    }
    let data_dir = global.ensure_data_dir()?;
    if store_url.is_some() && !args.no_api {
        // The embedded store's lock keeps a second watch out of a data directory; a watch on
        // PostgreSQL must not take over the service.json of one still running.
        if let Some(running) = infodemic_service::ServiceClient::discover(&data_dir)? {
            return Err(UsageError(format!(
                "a watch already serves this data directory ({}): stop it, or give this one another --data-dir",
                running.store_url().unwrap_or("its embedded store")
            ))
            .into());
        }
    }
    let mut options = SessionOptions::default();
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
    let watch_options = WatchOptions { crawl: args.poll.crawl_options(Some(campaigns)), ..WatchOptions::default() };
    let stage_queues = watch_options.crawl.stage_queues.clone();
    let scale = global.verdict_scale()?;
    let default_reviewer = crate::commands::review::reviewer_name(args.reviewer.as_deref())?;
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    let metrics = MetricsObserver(Arc::new(Metrics::new()));
    let (crawls, crawl_jobs) = tokio::sync::mpsc::channel(crate::commands::watch_jobs::QUEUED_CRAWLS);
    metrics.0.watch_queue("classifier", classifier.queue_probe());
    for queue in infodemic_pipeline::STAGE_QUEUES {
        let queues = stage_queues.clone();
        metrics.0.watch_queue(queue, move || queues.depth(queue));
    }
    // A weak sender: the probe must not keep the channel open once the API is gone.
    let waiting_crawls = crawls.downgrade();
    metrics.0.watch_queue("crawl_requests", move || {
        waiting_crawls.upgrade().map_or(0, |crawls| crawls.max_capacity() - crawls.capacity())
    });
    let jobs = crate::commands::watch_jobs::WatchJobs {
        store: store.clone(),
        classifier: classifier.clone(),
        crawl: watch_options.crawl.clone(),
        crawls,
    };
    let shown_store = store_url.clone().unwrap_or_else(|| data_dir.join("store").display().to_string());
    let summary = runtime.block_on(async {
        let cancel = CancellationToken::new();
        tokio::spawn(crate::commands::crawl::stop_on_signals(cancel.clone()));
        // Other commands read through this while we hold the store.
        let service = if args.no_api {
            None
        } else {
            let options = ServeOptions {
                listen: args.listen,
                scale,
                default_reviewer,
                metrics: Arc::clone(&metrics.0),
                jobs: Some(Arc::new(jobs)),
                store_url,
            };
            let service = serve(store.clone(), &data_dir, cancel.clone(), options)
                .await
                .with_context(|| format!("cannot start the local API on {}", args.listen))?;
            if !args.listen.ip().is_loopback() {
                tracing::warn!(
                    message = "The local API listens beyond this machine; the review page asks for the token.",
                    address = %service.info.address
                );
            }
            tracing::info!(message = "Review page.", url = %format!("http://{}/review", service.info.address));
            Some(service)
        };
        tracing::info!(message = "Watching.", store = %shown_store);
        let jobs = (!args.no_api).then_some(crawl_jobs);
        let summary = watch_with_jobs(store, &classifier, &watch_options, &metrics, cancel.clone(), jobs).await;
        cancel.cancel();
        if let Some(service) = service {
            service.stopped().await;
        }
        Ok::<_, anyhow::Error>(summary?)
    })?;
    tracing::info!(
        message = "Stopped.",
        cycles = summary.cycles,
        polls = summary.polls,
        items_new = summary.items_new,
        flagged = summary.items_flagged
    );
    Ok(Exit::Success)
}

/// Hands the crawl's events to the local API's `/metrics` (nobody reads them with `--no-api`).
struct MetricsObserver(Arc<Metrics>);

impl CrawlObserver for MetricsObserver {
    fn on_event(&self, event: &CrawlEvent) {
        match event {
            CrawlEvent::FeedDone { error, elapsed, .. } => self.0.record_feed_done(*elapsed, error.is_some()),
            CrawlEvent::BatchCommitted { stored, flagged, scoring } => {
                self.0.record_batch_committed(*stored, *flagged, *scoring);
            }
            CrawlEvent::CampaignsAssigned { items, opened, alerts } => {
                self.0.record_campaigns_assigned(*items, *opened, alerts.len());
            }
            CrawlEvent::Started { feeds } => self.0.record_cycle_started(*feeds),
            CrawlEvent::CycleFinished(_) => self.0.record_cycle_finished(),
            CrawlEvent::CycleFailed { .. } => self.0.record_cycle_failed(),
            CrawlEvent::Stopping | CrawlEvent::Idle { .. } => {}
        }
    }
}
