//! The campaign writer of a deployment across processes: one process takes campaign jobs
//! (scored items worth a review, queued by score workers) and assigns their items to campaigns
//! in the shared store, as the campaign stage of a crawl does on one machine.
//!
//! The grouping keeps its state in memory, so campaigns have one writer: the store grants it
//! (PostgreSQL: an advisory lock held for the process's connection) before the state is
//! loaded, and a second process waits for it (a standby that takes over when the writer dies).
//! Delivery is at least once: an item assigned already is skipped, so a job delivered twice
//! assigns nothing twice. A job is acknowledged after its assignments are committed.

use std::time::Duration;

use infodemic_core::{ItemId, ScoredItem};
use infodemic_queue::CampaignQueue;
use infodemic_store::{CampaignWriter, ItemReader};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::campaigns::{CampaignSettings, CampaignTracker};
use crate::crawl::blocking;
use crate::worker::{hand_back, next_jobs, pause, with_heartbeat, Taking};
use crate::Result;

/// Knobs of the campaign writer.
#[derive(Clone, Debug)]
pub struct CampaignWorkerOptions {
    /// Grouping, surge detection and alert sinks.
    pub settings: CampaignSettings,
    /// Jobs taken (and assigned together) at a time.
    pub jobs_per_take: usize,
    /// How long to wait for jobs before looking again.
    pub idle_wait: Duration,
    /// How often jobs in progress are reported to the queue: well under its `ack_wait`.
    pub heartbeat: Duration,
    /// Stop once the queue holds nothing, waiting or unacknowledged.
    pub exit_when_idle: bool,
    /// After a store or queue failure, how long before the jobs are tried again.
    pub retry_delay: Duration,
}

impl Default for CampaignWorkerOptions {
    fn default() -> Self {
        Self {
            settings: CampaignSettings::default(),
            jobs_per_take: 16,
            idle_wait: Duration::from_secs(5),
            heartbeat: Duration::from_secs(20),
            exit_when_idle: false,
            retry_delay: Duration::from_secs(30),
        }
    }
}

/// Totals of a campaign writer's life.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CampaignWorkerSummary {
    /// Jobs done and acknowledged.
    pub jobs_done: usize,
    /// Jobs handed back (a failure, or the worker stopping).
    pub jobs_returned: usize,
    /// Jobs that had been handed out before.
    pub jobs_redelivered: usize,
    /// Items assigned to a campaign.
    pub items_assigned: usize,
    /// Items skipped: assigned before, no longer worth a review, or not in the store.
    pub items_skipped: usize,
    /// Campaigns opened.
    pub campaigns_opened: usize,
    /// Alerts raised.
    pub alerts: usize,
    /// Batches that failed and were handed back.
    pub failed_batches: usize,
    /// The worker was stopped.
    pub interrupted: bool,
}

/// Takes campaign jobs from `queue` until `cancel` fires (or, with `exit_when_idle`, until the
/// queue is empty) and assigns their items to campaigns in `store`, which must have made this
/// process its campaign writer.
///
/// # Errors
/// Loading the grouping state; after that none from a take: a failure hands the jobs back.
pub async fn run_campaign_worker<S: CampaignWriter + ItemReader + Clone + 'static>(
    queue: &CampaignQueue,
    store: &S,
    options: &CampaignWorkerOptions,
    cancel: CancellationToken,
) -> Result<CampaignWorkerSummary> {
    let mut tracker = CampaignTracker::open(store, options.settings.clone()).await?;
    let mut summary = CampaignWorkerSummary::default();
    let taking = Taking::of(options.jobs_per_take, options.idle_wait, options.exit_when_idle, options.retry_delay);
    while let Some(jobs) = next_jobs(queue, taking, &cancel, &mut summary.failed_batches).await {
        summary.jobs_redelivered += jobs.iter().filter(|job| job.attempt > 1).count();
        let ids: Vec<ItemId> = jobs.iter().flat_map(|delivery| delivery.job.items.iter().copied()).collect();
        let work = async {
            let mut items: Vec<ScoredItem> = blocking({
                let (store, ids) = (store.clone(), ids.clone());
                move || store.get_many(&ids).map(|items| items.into_iter().flatten().collect::<Vec<_>>())
            })
            .await??;
            // Oldest first, as a crawl's campaign stage sees a feed: surges are counted in time.
            items.sort_by_key(|scored| (scored.item.effective_time(), scored.item.id));
            tracker.assign_scored(&items).await
        };
        match with_heartbeat(work, &jobs, options.heartbeat).await {
            Ok(report) => {
                let assigned = report.assignments.iter().filter(|a| !a.already_assigned).count();
                summary.items_assigned += assigned;
                summary.items_skipped += ids.len() - assigned;
                summary.campaigns_opened += report.opened;
                summary.alerts += report.alerts.len();
                for delivery in &jobs {
                    match delivery.ack().await {
                        Ok(()) => summary.jobs_done += 1,
                        // The job comes back after ack_wait; its items are assigned by then.
                        Err(error) => tracing::warn!(message = "A campaign job's acknowledgement was lost.", %error),
                    }
                }
                tracing::info!(message = "Campaigns assigned.", items = assigned, opened = report.opened);
            }
            Err(error) => {
                tracing::error!(message = "Campaign assignment failed; the jobs go back to the queue.", %error);
                summary.failed_batches += 1;
                summary.jobs_returned += hand_back(&jobs, options.retry_delay).await;
                pause(&cancel, options.retry_delay).await;
                // A reconnection to the store loses the campaign lock: this worker takes it
                // again, unless another writer did meanwhile (a standby that took over); then
                // this one stops rather than write beside it.
                crate::campaigns::claim_campaign_writer(store, "this worker").await?;
                // The grouping may have changed its state for a batch the store did not take:
                // it starts again from what the store holds.
                tracker = CampaignTracker::open(store, options.settings.clone()).await?;
            }
        }
    }
    summary.interrupted = cancel.is_cancelled();
    Ok(summary)
}
