//! Score workers: any number of processes, on any machines, take score jobs (stored items that
//! crawl workers queued), classify the items with the current model, and commit the scores to
//! the shared store, as `rescore` does on one machine.
//!
//! Delivery is at least once: a worker that dies leaves its jobs unacknowledged, and another
//! worker gets them after `ack_wait`. Scoring is idempotent: an item the current model scored
//! already (a job delivered twice, or a `rescore` that got there first) is skipped, and two
//! workers that score one item at once write the same scores (the store locks the item's row,
//! so its counters move once). A job is acknowledged only after its scores are committed and
//! its items worth a review are queued for the campaign writer ([`crate::campaign_worker`]).
//! Items found scored already are queued again when worth a review: a worker that died after
//! its commit and before queueing leaves nothing behind, and the campaign writer skips items it
//! has assigned.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use infodemic_classifier::ClassifierHandle;
use infodemic_core::{FeedCategory, ItemId, ScoredItem, SourceId};
use infodemic_queue::{CampaignQueue, Delivery, ScoreJobV1, ScoreQueue};
use infodemic_store::ScoreStore;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::claims::{reembed_stale_claims, ClaimMatcher};
use crate::crawl::blocking;
use crate::rescore::{rescore_batch, RESCORE_BATCH};
use crate::worker::{hand_back, next_jobs, pause, with_heartbeat, Taking};
use crate::Result;

/// Knobs of a score worker.
#[derive(Clone, Debug)]
pub struct ScoreWorkerOptions {
    /// Jobs taken (and scored together) at a time.
    pub jobs_per_take: usize,
    /// How long to wait for jobs before looking again.
    pub idle_wait: Duration,
    /// How often jobs in progress are reported to the queue: well under its `ack_wait`.
    pub heartbeat: Duration,
    /// Stop once the queue holds nothing, waiting or unacknowledged.
    pub exit_when_idle: bool,
    /// After a store or queue failure, how long before the jobs are tried again.
    pub retry_delay: Duration,
    /// How long the debunked claims loaded from the store are used before they are loaded
    /// again (claims added meanwhile are matched from then on).
    pub claims_refresh: Duration,
}

impl Default for ScoreWorkerOptions {
    fn default() -> Self {
        Self {
            jobs_per_take: 16,
            idle_wait: Duration::from_secs(5),
            heartbeat: Duration::from_secs(20),
            exit_when_idle: false,
            retry_delay: Duration::from_secs(30),
            claims_refresh: Duration::from_secs(300),
        }
    }
}

/// Totals of a score worker's life.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ScoreWorkerSummary {
    /// The model that scored, `id@version`.
    pub model: String,
    /// Jobs scored and acknowledged.
    pub jobs_done: usize,
    /// Jobs handed back (a failure, or the worker stopping).
    pub jobs_returned: usize,
    /// Jobs that had been handed out before.
    pub jobs_redelivered: usize,
    /// Items scored and committed.
    pub items_scored: usize,
    /// Of those, flagged.
    pub items_flagged: usize,
    /// Items skipped because the current model had scored them already.
    pub items_current: usize,
    /// Items not in the store (a copy the store kept under its first id).
    pub items_missing: usize,
    /// Campaign jobs queued for the items worth a review.
    pub campaign_jobs: usize,
    /// Batches that failed (store, classifier or queue) and were handed back.
    pub failed_batches: usize,
    /// The worker was stopped.
    pub interrupted: bool,
}

/// What scoring one take of jobs did.
#[derive(Default)]
struct Take {
    scored: usize,
    flagged: usize,
    current: usize,
    missing: usize,
    /// Items worth a review, scored now or before.
    review: Vec<ItemId>,
}

/// The debunked claims to match, and when they were loaded.
struct Claims {
    matcher: ClaimMatcher,
    loaded: Instant,
}

/// Takes score jobs from `queue` until `cancel` fires (or, with `exit_when_idle`, until the
/// queue is empty), scores their items with `classifier` into `store`, queues those worth a
/// review on `campaigns` (when given), and acknowledges each take of jobs once that is done.
///
/// # Errors
/// None from a take: a store, classifier or queue failure hands the jobs back, and they are
/// tried again after `retry_delay`.
pub async fn run_score_worker<S: ScoreStore + Clone + 'static>(
    queue: &ScoreQueue,
    campaigns: Option<&CampaignQueue>,
    store: &S,
    classifier: &ClassifierHandle,
    options: &ScoreWorkerOptions,
    cancel: CancellationToken,
) -> Result<ScoreWorkerSummary> {
    let model = classifier.model().clone();
    let mut summary = ScoreWorkerSummary { model: format!("{}@{}", model.id, model.version), ..Default::default() };
    let mut claims: Option<Claims> = None;
    let taking = Taking::of(options.jobs_per_take, options.idle_wait, options.exit_when_idle, options.retry_delay);
    while let Some(jobs) = next_jobs(queue, taking, &cancel, &mut summary.failed_batches).await {
        summary.jobs_redelivered += jobs.iter().filter(|job| job.attempt > 1).count();
        tracing::info!(message = "Score jobs taken.", jobs = jobs.len());
        let mut summary_jobs = 0;
        let work = async {
            let current = match claims.take() {
                Some(current) if current.loaded.elapsed() < options.claims_refresh => current,
                _ => load_claims(store, classifier).await?,
            };
            let outcome = score_take(store, classifier, &current.matcher, &jobs, &cancel).await;
            claims = Some(current);
            let take = outcome?;
            if let (Some(campaigns), Some(take)) = (campaigns, &take) {
                summary_jobs += campaigns.enqueue_items(&take.review).await?;
            }
            Ok::<_, crate::PipelineError>(take)
        };
        let outcome = with_heartbeat(work, &jobs, options.heartbeat).await;
        summary.campaign_jobs += summary_jobs;
        match outcome {
            Ok(Some(take)) => {
                summary.items_scored += take.scored;
                summary.items_flagged += take.flagged;
                summary.items_current += take.current;
                summary.items_missing += take.missing;
                for delivery in &jobs {
                    match delivery.ack().await {
                        Ok(()) => summary.jobs_done += 1,
                        // The job comes back after ack_wait; its items are then current.
                        Err(error) => tracing::warn!(message = "A score job's acknowledgement was lost.", %error),
                    }
                }
                tracing::info!(message = "Score jobs done.", jobs = jobs.len(), scored = take.scored);
            }
            Ok(None) => {
                // Stopped between batches: what was committed is current, and skipped when the
                // jobs come back.
                summary.jobs_returned += hand_back(&jobs, Duration::ZERO).await;
                break;
            }
            Err(error) => {
                tracing::error!(message = "Scoring failed; the jobs go back to the queue.", %error);
                summary.failed_batches += 1;
                summary.jobs_returned += hand_back(&jobs, options.retry_delay).await;
                pause(&cancel, options.retry_delay).await;
            }
        }
    }
    summary.interrupted = cancel.is_cancelled();
    Ok(summary)
}

/// The stored claims, embedded again first where another model embedded them.
async fn load_claims<S: ScoreStore + Clone + 'static>(store: &S, classifier: &ClassifierHandle) -> Result<Claims> {
    reembed_stale_claims(store, classifier).await?;
    let store = store.clone();
    let matcher = blocking(move || ClaimMatcher::from_store(&store)).await??;
    Ok(Claims { matcher, loaded: Instant::now() })
}

/// Scores the items of `jobs` in batches of [`RESCORE_BATCH`]; `None` when `cancel` fired
/// between batches.
async fn score_take<S: ScoreStore + Clone + 'static>(
    store: &S,
    classifier: &ClassifierHandle,
    matcher: &ClaimMatcher,
    jobs: &[Delivery<ScoreJobV1>],
    cancel: &CancellationToken,
) -> Result<Option<Take>> {
    let mut seen = HashSet::new();
    let ids: Vec<ItemId> =
        jobs.iter().flat_map(|delivery| delivery.job.items.iter().copied()).filter(|id| seen.insert(*id)).collect();
    let categories: HashMap<SourceId, FeedCategory> =
        jobs.iter().flat_map(|delivery| delivery.job.categories.clone()).collect();
    let model = classifier.model().clone();
    let mut take = Take::default();
    for chunk in ids.chunks(RESCORE_BATCH) {
        if cancel.is_cancelled() {
            return Ok(None);
        }
        let loaded: Vec<Option<ScoredItem>> = blocking({
            let (store, chunk) = (store.clone(), chunk.to_vec());
            move || store.get_many(&chunk)
        })
        .await??;
        let mut due = Vec::with_capacity(loaded.len());
        for scored in loaded {
            match scored {
                None => take.missing += 1,
                Some(scored) if scored.classification.model == model => {
                    take.current += 1;
                    if scored.classification.review {
                        take.review.push(scored.item.id);
                    }
                }
                Some(scored) => due.push(scored),
            }
        }
        let batch = rescore_batch(store, classifier, matcher, &categories, due).await?;
        take.scored += batch.rescored;
        take.flagged += batch.flagged;
        take.review.extend(batch.review);
    }
    Ok(Some(take))
}
