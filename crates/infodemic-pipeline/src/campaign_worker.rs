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
use infodemic_store::{CampaignWriter, ItemReader, StoreError};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::campaigns::{CampaignSettings, CampaignTracker};
use crate::crawl::blocking;
use crate::worker::{hand_back, next_jobs, pause, with_heartbeat, Taking};
use crate::{PipelineError, Result};

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
/// Loading the grouping state; another writer taking the campaign lock after a failed batch.
/// None from a take: a failure hands the jobs back, and an unreachable store is waited for.
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
                match reopen_as_writer(store, &options.settings, options.retry_delay, &cancel).await? {
                    Some(reopened) => tracker = reopened,
                    None => break,
                }
            }
        }
    }
    summary.interrupted = cancel.is_cancelled();
    Ok(summary)
}

/// After a failed batch: takes the campaign lock again (a reconnection to the store loses it)
/// and reloads the grouping state, which may have changed for a batch the store did not take.
/// While the store cannot be reached this is tried again every `retry_delay`, so an outage
/// longer than one delay does not end the worker. `None` when `cancel` fired meanwhile.
///
/// # Errors
/// [`StoreError::NotTheWriter`] when another writer took the lock meanwhile (a standby that
/// took over): this one stops rather than write beside it. Any failure but the database's.
async fn reopen_as_writer<S: CampaignWriter + Clone + 'static>(
    store: &S,
    settings: &CampaignSettings,
    retry_delay: Duration,
    cancel: &CancellationToken,
) -> Result<Option<CampaignTracker>> {
    loop {
        if cancel.is_cancelled() {
            return Ok(None);
        }
        let reopened = match crate::campaigns::claim_campaign_writer(store, "this worker").await {
            Ok(()) => CampaignTracker::open(store, settings.clone()).await,
            Err(error) => Err(error),
        };
        match reopened {
            Ok(tracker) => return Ok(Some(tracker)),
            // The database server (down, restarting, out of connections): waited for.
            Err(PipelineError::Store(StoreError::Database(error))) => {
                tracing::warn!(message = "The store cannot be reached; trying again.", %error, retry_in = ?retry_delay);
                pause(cancel, retry_delay).await;
            }
            Err(error) => return Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use infodemic_core::{Alert, Campaign, CampaignHead, CampaignId, CampaignMember};
    use infodemic_store::{CampaignCommit, CampaignReader, GroupingSnapshot, SledStore};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    /// The embedded store, with the answers of its first claims scripted: `Err` as a database
    /// that cannot be reached, `Ok(false)` as a lock another process holds.
    #[derive(Clone)]
    struct ScriptedClaims {
        store: SledStore,
        answers: Arc<Mutex<Vec<std::result::Result<bool, String>>>>,
        asked: Arc<AtomicUsize>,
        /// Fired during this claim (1-based), as a signal arriving while the store is down.
        cancel_at: Option<(usize, CancellationToken)>,
    }

    impl ScriptedClaims {
        fn new(dir: &std::path::Path, answers: Vec<std::result::Result<bool, String>>) -> Self {
            let (store, _) = SledStore::open(dir).unwrap();
            Self { store, answers: Arc::new(Mutex::new(answers)), asked: Arc::default(), cancel_at: None }
        }
    }

    impl CampaignReader for ScriptedClaims {
        fn campaigns(&self) -> infodemic_store::Result<Vec<Campaign>> {
            self.store.campaigns()
        }
        fn campaign_heads(&self) -> infodemic_store::Result<Vec<CampaignHead>> {
            self.store.campaign_heads()
        }
        fn campaign(&self, id: CampaignId) -> infodemic_store::Result<Option<Campaign>> {
            self.store.campaign(id)
        }
        fn campaign_members(
            &self,
            id: CampaignId,
            limit: Option<usize>,
        ) -> infodemic_store::Result<Vec<CampaignMember>> {
            self.store.campaign_members(id, limit)
        }
        fn campaign_of(&self, member_id: &str) -> infodemic_store::Result<Option<CampaignId>> {
            self.store.campaign_of(member_id)
        }
        fn alerts(&self) -> infodemic_store::Result<Vec<Alert>> {
            self.store.alerts()
        }
    }

    impl CampaignWriter for ScriptedClaims {
        fn grouping_snapshot(&self) -> infodemic_store::Result<GroupingSnapshot> {
            self.store.grouping_snapshot()
        }
        fn commit_campaigns(&self, commit: &CampaignCommit) -> infodemic_store::Result<()> {
            self.store.commit_campaigns(commit)
        }
        fn claim_writer(&self) -> infodemic_store::Result<bool> {
            let asked = self.asked.fetch_add(1, Ordering::SeqCst) + 1;
            if let Some((at, cancel)) = &self.cancel_at {
                if asked == *at {
                    cancel.cancel();
                }
            }
            let mut answers = self.answers.lock().unwrap();
            if answers.is_empty() {
                return Ok(true);
            }
            answers.remove(0).map_err(StoreError::Database)
        }
    }

    #[tokio::test]
    async fn a_store_that_cannot_be_reached_is_waited_for() {
        let dir = tempfile::tempdir().unwrap();
        let down = || Err("connection refused".to_owned());
        let store = ScriptedClaims::new(dir.path(), vec![down(), down(), down()]);
        let cancel = CancellationToken::new();
        let reopened = reopen_as_writer(&store, &CampaignSettings::default(), Duration::ZERO, &cancel).await.unwrap();
        assert!(reopened.is_some(), "the worker goes on once the store answers");
        assert_eq!(store.asked.load(Ordering::SeqCst), 4, "three failed claims, then the one that took the lock");
    }

    #[tokio::test]
    async fn another_writer_taking_the_lock_meanwhile_stops_the_worker() {
        let dir = tempfile::tempdir().unwrap();
        let store = ScriptedClaims::new(dir.path(), vec![Err("connection refused".to_owned()), Ok(false)]);
        let cancel = CancellationToken::new();
        let Err(error) = reopen_as_writer(&store, &CampaignSettings::default(), Duration::ZERO, &cancel).await else {
            panic!("another process writes campaigns now");
        };
        assert!(matches!(error, PipelineError::Store(StoreError::NotTheWriter(_))), "{error}");
        assert_eq!(store.asked.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_stop_while_waiting_for_the_store_ends_the_wait() {
        let dir = tempfile::tempdir().unwrap();
        let cancel = CancellationToken::new();
        let mut store = ScriptedClaims::new(dir.path(), vec![Err("connection refused".to_owned()); 10]);
        // The stop arrives during the first claim, which fails: the hour's wait after it ends
        // at once.
        store.cancel_at = Some((1, cancel.clone()));
        let reopened =
            reopen_as_writer(&store, &CampaignSettings::default(), Duration::from_secs(3600), &cancel).await.unwrap();
        assert!(reopened.is_none());
        assert_eq!(store.asked.load(Ordering::SeqCst), 1, "no claim after the stop");
    }
}
