//! `infodemic worker`: one process of a deployment that spans machines. A `scheduler` puts due
//! feeds on a NATS JetStream queue; any number of `crawl` workers take them, store the items
//! (unscored) in a shared PostgreSQL store and queue them for scoring; any number of `score`
//! workers score them there and queue those worth a review; one `campaigns` worker (others wait
//! as standbys) groups them into campaigns.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, ValueEnum};
use infodemic_classifier::{ClassifierHandle, SessionOptions};
use infodemic_pipeline::{
    load_catalogue, run_campaign_worker, run_crawl_worker, run_scheduler, run_score_worker, CampaignSettings,
    CampaignWorkerOptions, NoProgress, ScheduleOptions, ScoreWorkerOptions, WorkerOptions,
};
use infodemic_queue::{CampaignQueue, CrawlQueue, QueueAuth, QueueConfig, ScoreQueue};
use infodemic_store_postgres::PgStore;
use tokio_util::sync::CancellationToken;

use crate::cli::GlobalArgs;
use crate::commands::crawl::stop_on_signals;
use crate::exit::{Exit, UsageError};
use crate::output::write_json_line;

/// What this process does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Role {
    /// Put due feeds on the queue
    Scheduler,
    /// Crawl feeds from the queue, store their items unscored
    Crawl,
    /// Score the items crawl workers stored, from the score queue
    Score,
    /// Group scored items into campaigns: one at a time per store (others wait to take over)
    Campaigns,
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// What this process does
    #[arg(long, value_enum)]
    pub role: Role,

    /// The NATS server with JetStream (nats://host:4222; tls://host:4222 requires TLS)
    #[arg(long, env = "INFODEMIC_QUEUE", value_name = "URL")]
    pub queue: String,

    /// A PEM file of the CA that signed the NATS server's certificate (trusted beside the
    /// system's roots)
    #[arg(long, env = "INFODEMIC_QUEUE_CA", value_name = "FILE")]
    pub queue_ca: Option<PathBuf>,

    /// A NATS credentials file (a user JWT and its NKey seed, as `nsc` writes them), for a
    /// server in operator mode
    #[arg(long, env = "INFODEMIC_QUEUE_CREDS", value_name = "FILE", conflicts_with = "queue_nkey")]
    pub queue_creds: Option<PathBuf>,

    /// A file holding the user's NKey seed (SU..., an .nk file), for a server that lists the
    /// user's public NKey
    #[arg(long, env = "INFODEMIC_QUEUE_NKEY", value_name = "FILE")]
    pub queue_nkey: Option<PathBuf>,

    /// The deployment's queue name: streams <NAME>_CRAWL and <NAME>_SCORE, subjects <name>.crawl
    /// and <name>.score
    #[arg(long, value_name = "NAME", default_value = "infodemic", value_parser = queue_name)]
    pub queue_name: String,

    /// Seconds a job may stay unacknowledged before another worker gets it (a worker that
    /// died); busy workers renew it. Shared by every worker of the queue: given, it is set;
    /// not given, it stays as it is (60 for a new queue)
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub ack_wait: Option<u64>,

    /// The scheduler's feeds (a catalogue, as for `crawl --feeds`)
    #[arg(long, value_name = "FILE", required_if_eq("role", "scheduler"))]
    pub feeds: Option<PathBuf>,

    /// Scheduler: queue what is due now, then exit
    #[arg(long)]
    pub once: bool,

    /// Crawl and score workers: jobs taken and done together
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub jobs: u16,

    /// Crawl and score workers: exit once the queue is empty (nothing waiting, nothing
    /// unacknowledged)
    #[arg(long)]
    pub exit_when_idle: bool,

    /// Crawl worker: queue nothing for score workers (stored items stay unscored until
    /// `infodemic rescore`)
    #[arg(long)]
    pub no_score_jobs: bool,

    /// Score worker: queue nothing for the campaign writer (scored items join no campaign)
    #[arg(long)]
    pub no_campaign_jobs: bool,

    /// Campaign writer: where alerts go besides the store
    #[command(flatten)]
    pub alerts: crate::commands::campaigns::AlertSinkArgs,

    /// Score worker: threads for inference [default: all cores]
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,

    /// Crawl worker: how to fetch
    #[command(flatten)]
    pub poll: crate::commands::watch::PollArgs,

    /// Print the summary at exit as one JSON object
    #[arg(long)]
    pub json: bool,
}

fn queue_name(value: &str) -> Result<String, String> {
    QueueConfig::check_name(value).map(|()| value.to_owned())
}

pub fn run(args: &WorkerArgs, global: &GlobalArgs) -> anyhow::Result<Exit> {
    let Some(url) = &global.store else {
        return Err(UsageError(
            "workers share a PostgreSQL store: pass --store postgres://... (or set INFODEMIC_STORE)".to_owned(),
        )
        .into());
    };
    let feeds = match (&args.feeds, args.role) {
        (Some(path), Role::Scheduler) => load_catalogue(path).map_err(|e| UsageError(e.to_string()))?,
        _ => Vec::new(),
    };
    let store = PgStore::connect(url)?;
    // Loaded before anything is taken from the queue: a model that cannot load is the
    // user's error now, not a job failing over and over.
    let classifier = match args.role {
        Role::Score => {
            let mut session = SessionOptions::default();
            if let Some(threads) = args.threads {
                session.intra_threads = usize::from(threads);
            }
            let model = global.load_model(session)?;
            Some(ClassifierHandle::spawn(Box::new(model.classifier), 2).context("cannot start the classifier thread")?)
        }
        Role::Scheduler | Role::Crawl | Role::Campaigns => None,
    };
    let sinks = args.alerts.sinks()?;
    let config = QueueConfig {
        name: args.queue_name.clone(),
        ack_wait: args.ack_wait.map(Duration::from_secs),
        root_ca: args.queue_ca.clone(),
        auth: match (&args.queue_creds, &args.queue_nkey) {
            (Some(creds), _) => QueueAuth::Credentials(creds.clone()),
            (None, Some(seed)) => QueueAuth::NkeySeed(seed.clone()),
            (None, None) => QueueAuth::Url,
        },
        ..QueueConfig::default()
    };
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let cancel = CancellationToken::new();
        tokio::spawn(stop_on_signals(cancel.clone()));
        tracing::info!(message = "Worker started.", role = ?args.role, store = store.shown_url());
        let mut stdout = crate::output::stdout();
        match args.role {
            Role::Score => {
                let classifier = classifier.as_ref().context("the score worker's classifier was not started")?;
                let queue = ScoreQueue::connect(&args.queue, &config).await?;
                let campaigns =
                    if args.no_campaign_jobs { None } else { Some(CampaignQueue::connect(&args.queue, &config).await?) };
                let options = ScoreWorkerOptions {
                    jobs_per_take: usize::from(args.jobs),
                    exit_when_idle: args.exit_when_idle,
                    idle_wait: if args.exit_when_idle { Duration::from_secs(1) } else { Duration::from_secs(5) },
                    heartbeat: queue.ack_wait().div_f64(3.0).max(Duration::from_millis(300)),
                    ..ScoreWorkerOptions::default()
                };
                let summary =
                    run_score_worker(&queue, campaigns.as_ref(), &store, classifier, &options, cancel).await?;
                if args.json {
                    write_json_line(&mut stdout, &summary)?;
                } else {
                    writeln!(
                        stdout,
                        "{} jobs done ({} handed back, {} redelivered), {} items scored with {} ({} flagged), \
                         {} scored by it already, {} not stored",
                        summary.jobs_done,
                        summary.jobs_returned,
                        summary.jobs_redelivered,
                        summary.items_scored,
                        summary.model,
                        summary.items_flagged,
                        summary.items_current,
                        summary.items_missing
                    )?;
                }
            }
            Role::Campaigns => {
                let queue = CampaignQueue::connect(&args.queue, &config).await?;
                if !wait_to_write_campaigns(&store, &cancel).await? {
                    writeln!(stdout, "Stopped while another process was writing campaigns")?;
                    stdout.flush()?;
                    return Ok(Exit::Interrupted);
                }
                let options = CampaignWorkerOptions {
                    settings: CampaignSettings { sinks: sinks.clone(), ..CampaignSettings::default() },
                    jobs_per_take: usize::from(args.jobs),
                    exit_when_idle: args.exit_when_idle,
                    idle_wait: if args.exit_when_idle { Duration::from_secs(1) } else { Duration::from_secs(5) },
                    heartbeat: queue.ack_wait().div_f64(3.0).max(Duration::from_millis(300)),
                    ..CampaignWorkerOptions::default()
                };
                let summary = run_campaign_worker(&queue, &store, &options, cancel).await?;
                if args.json {
                    write_json_line(&mut stdout, &summary)?;
                } else {
                    writeln!(
                        stdout,
                        "{} jobs done ({} handed back, {} redelivered), {} items assigned ({} skipped), \
                         {} campaigns opened, {} alerts",
                        summary.jobs_done,
                        summary.jobs_returned,
                        summary.jobs_redelivered,
                        summary.items_assigned,
                        summary.items_skipped,
                        summary.campaigns_opened,
                        summary.alerts
                    )?;
                }
            }
            Role::Scheduler => {
                let queue = CrawlQueue::connect(&args.queue, &config).await?;
                let options = ScheduleOptions { once: args.once, ..ScheduleOptions::default() };
                let summary = run_scheduler(&feeds, &queue, &store, &options, cancel).await?;
                if args.json {
                    write_json_line(&mut stdout, &summary)?;
                } else {
                    writeln!(
                        stdout,
                        "{} jobs queued ({} already in the queue) in {} rounds",
                        summary.enqueued, summary.already_queued, summary.rounds
                    )?;
                }
            }
            Role::Crawl => {
                let queue = CrawlQueue::connect(&args.queue, &config).await?;
                let score_queue =
                    if args.no_score_jobs { None } else { Some(ScoreQueue::connect(&args.queue, &config).await?) };
                let options = WorkerOptions {
                    crawl: args.poll.crawl_options(None),
                    jobs_per_take: usize::from(args.jobs),
                    exit_when_idle: args.exit_when_idle,
                    // Exiting when idle: look at the backlog soon after the last job.
                    idle_wait: if args.exit_when_idle { Duration::from_secs(1) } else { Duration::from_secs(5) },
                    // Three renewals per ack_wait: one lost on the way does not cost the job.
                    heartbeat: queue.ack_wait().div_f64(3.0).max(Duration::from_millis(300)),
                    ..WorkerOptions::default()
                };
                let summary =
                    run_crawl_worker(&queue, score_queue.as_ref(), &store, &options, &NoProgress, cancel).await?;
                if args.json {
                    write_json_line(&mut stdout, &summary)?;
                } else {
                    writeln!(
                        stdout,
                        "{} jobs done ({} handed back, {} redelivered), {} items stored, {} already stored, {} feeds failed",
                        summary.jobs_done,
                        summary.jobs_returned,
                        summary.jobs_redelivered,
                        summary.items_new,
                        summary.items_duplicate,
                        summary.feeds_failed
                    )?;
                    if summary.items_not_queued > 0 {
                        writeln!(
                            stdout,
                            "{} stored items could not be queued for scoring: run `infodemic rescore` on the store",
                            summary.items_not_queued
                        )?;
                    }
                }
            }
        }
        stdout.flush()?;
        Ok::<_, anyhow::Error>(Exit::Success)
    })
}

/// Waits until this process is the store's campaign writer (another holds the lock while it
/// lives); false when stopped first.
async fn wait_to_write_campaigns(store: &PgStore, cancel: &CancellationToken) -> anyhow::Result<bool> {
    let mut told = false;
    loop {
        let attempt = store.clone();
        if tokio::task::spawn_blocking(move || attempt.become_campaign_writer()).await?? {
            if told {
                tracing::info!(message = "This process writes campaigns now.");
            }
            return Ok(true);
        }
        if !told {
            tracing::warn!(message = "Another process writes campaigns to this store; waiting to take over.");
            told = true;
        }
        tokio::select! {
            () = cancel.cancelled() => return Ok(false),
            () = tokio::time::sleep(CAMPAIGN_LOCK_RETRY) => {}
        }
    }
}

/// How often a waiting campaign writer asks for the lock.
const CAMPAIGN_LOCK_RETRY: Duration = Duration::from_secs(2);
