//! Beyond one process: a scheduler puts due feeds on the crawl queue, and any number of crawl
//! workers, on any machines, take them, crawl them without scoring into a shared store, queue
//! the stored items for score workers ([`crate::score_worker`]), and acknowledge each job once
//! its items are committed and queued.
//!
//! Delivery is at least once: a worker that dies leaves its jobs unacknowledged, and they go to
//! another worker; a job crawled twice stores nothing twice (the store's URL and content
//! uniqueness), and a feed's state commits with its items, so the second crawl asks with the
//! first one's validators.
//!
//! Items are queued for scoring after their commit, so a worker that dies between the two
//! leaves them stored but not queued; the second crawl of its jobs finds them stored and
//! queues nothing. `infodemic rescore` on the shared store scores what that left.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use infodemic_core::{FeedSpec, SourceId};
use infodemic_queue::{CrawlQueue, Delivery, Job, ScoreQueue, WorkQueue};
use infodemic_store::IngestStore;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::crawl::{readable_feed_states, run_crawl_unscored, CommittedItems, CrawlObserver, CrawlOptions};
use crate::{PipelineError, Result};

/// Knobs of a crawl worker.
#[derive(Clone, Debug)]
pub struct WorkerOptions {
    /// How each batch of jobs is crawled.
    pub crawl: CrawlOptions,
    /// Jobs taken (and crawled together) at a time.
    pub jobs_per_take: usize,
    /// How long to wait for jobs before looking again.
    pub idle_wait: Duration,
    /// How often a batch in progress tells the queue it is still being worked on: well under
    /// the queue's `ack_wait`.
    pub heartbeat: Duration,
    /// Stop once the queue holds nothing, waiting or unacknowledged (a batch job, a test);
    /// otherwise wait for more until cancelled.
    pub exit_when_idle: bool,
    /// After a store or queue failure, how long before the jobs are tried again.
    pub retry_delay: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            crawl: CrawlOptions { campaigns: None, ..CrawlOptions::default() },
            jobs_per_take: 16,
            idle_wait: Duration::from_secs(5),
            heartbeat: Duration::from_secs(20),
            exit_when_idle: false,
            retry_delay: Duration::from_secs(30),
        }
    }
}

/// Totals of a worker's life.
#[derive(Clone, Debug, Default, Serialize)]
pub struct WorkerSummary {
    /// Jobs crawled and acknowledged.
    pub jobs_done: usize,
    /// Jobs handed back (a failure, or the worker stopping mid-batch).
    pub jobs_returned: usize,
    /// Jobs that had been handed out before (another worker died or failed with them).
    pub jobs_redelivered: usize,
    /// Items stored.
    pub items_new: usize,
    /// Items already stored (by this worker or another).
    pub items_duplicate: usize,
    /// Feeds whose fetch failed (recorded in their state; the job is done).
    pub feeds_failed: usize,
    /// Score jobs queued for the items stored.
    pub score_jobs: usize,
    /// Items stored but not queued for scoring (the queue failed; `rescore` scores them).
    pub items_not_queued: usize,
    /// Batches that failed (store or queue) and were handed back.
    pub failed_batches: usize,
    /// The worker was stopped.
    pub interrupted: bool,
}

/// Takes crawl jobs from `queue` until `cancel` fires (or, with `exit_when_idle`, until the
/// queue is empty), crawls each batch without scoring into `store`, queues the items it stored
/// on `score_queue` (when given), and acknowledges the jobs once that is done.
///
/// # Errors
/// None from a batch: a store or queue failure hands the batch back and is retried after
/// `retry_delay`. Only a crawl that cannot start at all (the HTTP client) ends the worker.
pub async fn run_crawl_worker<S: IngestStore + Clone + 'static>(
    queue: &CrawlQueue,
    score_queue: Option<&ScoreQueue>,
    store: &S,
    options: &WorkerOptions,
    observer: &dyn CrawlObserver,
    cancel: CancellationToken,
) -> Result<WorkerSummary> {
    let mut summary = WorkerSummary::default();
    // One robots.txt cache for the worker's life, as `watch` keeps one.
    let mut crawl_options = options.crawl.clone();
    if crawl_options.fetch.robots_cache.is_none() {
        let ttl = crawl_options.fetch.robots_ttl;
        crawl_options.fetch.robots_cache =
            Some(std::sync::Arc::new(infodemic_crawler::politeness::RobotsCache::new(ttl)));
    }
    let taking = Taking::of(options.jobs_per_take, options.idle_wait, options.exit_when_idle, options.retry_delay);
    while let Some(jobs) = next_jobs(queue, taking, &cancel, &mut summary.failed_batches).await {
        summary.jobs_redelivered += jobs.iter().filter(|job| job.attempt > 1).count();
        tracing::info!(message = "Jobs taken.", jobs = jobs.len());
        let feeds: Vec<FeedSpec> = jobs.iter().map(|delivery| delivery.job.feed.clone()).collect();
        // Each committed batch is queued for scoring as it commits, and all of them before any
        // job is acknowledged or handed back: a job crawled again finds its items stored and
        // queues nothing.
        let mut take_options = crawl_options.clone();
        let committed = score_queue.map(|_| {
            let (sender, receiver) = CommittedItems::channel(4);
            take_options.committed_items = Some(sender);
            receiver
        });
        let crawl_cancel = cancel.child_token();
        let crawl = async move {
            let outcome = run_crawl_unscored(feeds, store, &take_options, observer, crawl_cancel).await;
            // The sender goes with the options: the queueing below ends once it has all.
            drop(take_options);
            outcome
        };
        let queueing = queue_for_scoring(score_queue, committed, &jobs);
        let (outcome, (queued, not_queued)) =
            with_heartbeat(async { tokio::join!(crawl, queueing) }, &jobs, options.heartbeat).await;
        summary.score_jobs += queued;
        summary.items_not_queued += not_queued;
        match outcome {
            Ok(run) if !run.interrupted => {
                summary.items_new += run.items_new;
                summary.items_duplicate += run.items_duplicate;
                summary.feeds_failed += run.feeds_failed.len();
                for delivery in &jobs {
                    match delivery.ack().await {
                        Ok(()) => summary.jobs_done += 1,
                        // The job comes back after ack_wait; crawled again, it stores nothing twice.
                        Err(error) => tracing::warn!(message = "A job's acknowledgement was lost.", %error),
                    }
                }
                tracing::info!(message = "Jobs done.", jobs = jobs.len(), stored = run.items_new);
            }
            Ok(run) => {
                // Stopped mid-batch: what was fetched is committed, the feeds not started are
                // not. Which is which is not known here, so every job goes back (a feed crawled
                // twice stores nothing twice).
                summary.items_new += run.items_new;
                summary.items_duplicate += run.items_duplicate;
                summary.jobs_returned += hand_back(&jobs, Duration::ZERO).await;
                break;
            }
            Err(PipelineError::Crawler(error)) => return Err(PipelineError::Crawler(error)),
            Err(error) => {
                tracing::error!(message = "A batch failed; its jobs go back to the queue.", %error);
                summary.failed_batches += 1;
                summary.jobs_returned += hand_back(&jobs, options.retry_delay).await;
                pause(&cancel, options.retry_delay).await;
            }
        }
    }
    summary.interrupted = cancel.is_cancelled();
    Ok(summary)
}

/// Queues each batch of committed items that `committed` receives for score workers, with the
/// categories of the jobs' feeds, until the crawl ends. Returns the jobs queued and the items
/// that could not be (those stay unscored until `infodemic rescore`).
async fn queue_for_scoring(
    score_queue: Option<&ScoreQueue>,
    committed: Option<tokio::sync::mpsc::Receiver<Vec<infodemic_core::ItemId>>>,
    jobs: &[Delivery<infodemic_queue::CrawlJobV1>],
) -> (usize, usize) {
    let (Some(score_queue), Some(mut committed)) = (score_queue, committed) else { return (0, 0) };
    let categories = jobs.iter().map(|delivery| (delivery.job.feed.id.clone(), delivery.job.feed.category)).collect();
    let (mut queued, mut not_queued) = (0, 0);
    while let Some(items) = committed.recv().await {
        match score_queue.enqueue_items(&items, &categories).await {
            Ok(jobs) => queued += jobs,
            Err(error) => {
                tracing::error!(
                    message = "Stored items could not be queued for scoring; `infodemic rescore` scores them.",
                    items = items.len(),
                    %error
                );
                not_queued += items.len();
            }
        }
    }
    (queued, not_queued)
}

/// How a worker takes jobs: what its loop shares with the loops of other kinds of worker.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Taking {
    jobs_per_take: usize,
    idle_wait: Duration,
    exit_when_idle: bool,
    retry_delay: Duration,
}

impl Taking {
    pub(crate) fn of(jobs_per_take: usize, idle_wait: Duration, exit_when_idle: bool, retry_delay: Duration) -> Self {
        Self { jobs_per_take, idle_wait, exit_when_idle, retry_delay }
    }
}

/// The next jobs of a worker's loop, never empty; `None` when the worker is to stop (cancelled,
/// or, with `exit_when_idle`, nothing waiting or unacknowledged). A failure to take is logged,
/// counted in `failed` and waited out, and taking goes on.
pub(crate) async fn next_jobs<J: Job>(
    queue: &WorkQueue<J>,
    taking: Taking,
    cancel: &CancellationToken,
    failed: &mut usize,
) -> Option<Vec<Delivery<J>>> {
    loop {
        if cancel.is_cancelled() {
            return None;
        }
        let taken = tokio::select! {
            () = cancel.cancelled() => return None,
            taken = queue.take(taking.jobs_per_take, taking.idle_wait) => taken,
        };
        match taken {
            Ok(jobs) if !jobs.is_empty() => return Some(jobs),
            Ok(_) if taking.exit_when_idle => match queue.backlog().await {
                Ok(backlog) if backlog.is_empty() => return None,
                Ok(_) => {}
                Err(error) => tracing::warn!(message = "Cannot read the queue's backlog.", kind = J::KIND, %error),
            },
            Ok(_) => {}
            Err(error) => {
                tracing::error!(message = "Cannot take jobs; trying again.", kind = J::KIND, %error);
                *failed += 1;
                pause(cancel, taking.retry_delay).await;
            }
        }
    }
}

/// Runs `work` and, every `heartbeat` until it ends, tells the queue that `jobs` are in
/// progress (so they are not handed to another worker meanwhile).
pub(crate) async fn with_heartbeat<J, T>(
    work: impl std::future::Future<Output = T>,
    jobs: &[Delivery<J>],
    heartbeat: Duration,
) -> T {
    tokio::pin!(work);
    loop {
        tokio::select! {
            outcome = &mut work => return outcome,
            () = tokio::time::sleep(heartbeat) => {
                for delivery in jobs {
                    if let Err(error) = delivery.in_progress().await {
                        tracing::warn!(message = "Cannot tell the queue a job is in progress.", %error);
                    }
                }
            }
        }
    }
}

/// Hands `jobs` back to the queue, to be handed out again after `delay`; returns how many
/// went back.
pub(crate) async fn hand_back<J>(jobs: &[Delivery<J>], delay: Duration) -> usize {
    let mut returned = 0;
    for delivery in jobs {
        match delivery.retry_later(delay).await {
            Ok(()) => returned += 1,
            Err(error) => tracing::warn!(message = "Cannot hand a job back; it returns after ack_wait.", %error),
        }
    }
    returned
}

pub(crate) async fn pause(cancel: &CancellationToken, delay: Duration) {
    tokio::select! {
        () = cancel.cancelled() => {}
        () = tokio::time::sleep(delay) => {}
    }
}

/// Knobs of the scheduler.
#[derive(Clone, Debug)]
pub struct ScheduleOptions {
    /// Longest sleep between looks at the feeds' states.
    pub recheck: Duration,
    /// Enqueue what is due once, then stop.
    pub once: bool,
}

impl Default for ScheduleOptions {
    fn default() -> Self {
        Self { recheck: Duration::from_secs(60), once: false }
    }
}

/// Totals of a scheduler's life.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ScheduleSummary {
    /// Looks at the schedule.
    pub rounds: usize,
    /// Jobs published.
    pub enqueued: usize,
    /// Jobs the queue already held (another scheduler, or this one before a restart).
    pub already_queued: usize,
}

/// Puts each of `feeds` on `queue` whenever it is due (never polled, or past its next poll as
/// the workers recorded it in `store`), until `cancel` fires or, with `once`, after one round.
///
/// # Errors
/// Store or queue failures.
pub async fn run_scheduler<S: IngestStore + Clone + 'static>(
    feeds: &[FeedSpec],
    queue: &CrawlQueue,
    store: &S,
    options: &ScheduleOptions,
    cancel: CancellationToken,
) -> Result<ScheduleSummary> {
    let mut summary = ScheduleSummary::default();
    // The due time each feed was last published for: a feed waiting in the queue is not
    // published again at every round.
    let mut published: HashMap<SourceId, Option<DateTime<Utc>>> = HashMap::new();
    loop {
        let store = store.clone();
        let states = tokio::task::spawn_blocking(move || readable_feed_states(&store))
            .await
            .map_err(|e| PipelineError::Task(e.to_string()))??;
        let states: HashMap<SourceId, _> = states.into_iter().map(|state| (state.source.clone(), state)).collect();
        let now = Utc::now();
        summary.rounds += 1;
        for spec in crate::watch::due_feeds(feeds.to_vec(), &states, now) {
            let due = states.get(&spec.id).and_then(|state| state.next_poll);
            if published.get(&spec.id) == Some(&due) {
                continue;
            }
            if queue.enqueue(&spec, due).await? {
                summary.enqueued += 1;
            } else {
                summary.already_queued += 1;
            }
            published.insert(spec.id.clone(), due);
        }
        tracing::info!(message = "Due feeds queued.", round = summary.rounds, enqueued = summary.enqueued);
        if options.once || cancel.is_cancelled() {
            break;
        }
        let next_due = feeds.iter().filter_map(|spec| states.get(&spec.id)?.next_poll).filter(|at| *at > now).min();
        let recheck = chrono::Duration::from_std(options.recheck).unwrap_or(chrono::Duration::minutes(1));
        let floor = chrono::Duration::seconds(1).min(recheck);
        let wake = next_due.unwrap_or(now + recheck).clamp(now + floor, now + recheck);
        pause(&cancel, (wake - now).to_std().unwrap_or(Duration::from_secs(1))).await;
        if cancel.is_cancelled() {
            break;
        }
    }
    Ok(summary)
}
