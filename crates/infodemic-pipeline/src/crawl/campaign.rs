//! The campaign stage: committed items worth a review are assigned to campaigns, which may raise
//! alerts. It runs after the commit: only batches the store holds reach it.

use infodemic_core::ScoredItem;
use tokio::sync::mpsc;

use super::{CrawlEvent, CrawlObserver, CrawlSummary};
use crate::campaigns::CampaignTracker;
use crate::Result;

/// Assigns the items of every committed batch from `input`.
///
/// # Errors
/// Store failures (the tracker commits each batch's grouping state).
pub(super) async fn run(
    tracker: &CampaignTracker,
    observer: &dyn CrawlObserver,
    mut input: mpsc::Receiver<Vec<ScoredItem>>,
) -> Result<CrawlSummary> {
    let mut summary = CrawlSummary::default();
    while let Some(scored) = input.recv().await {
        let report = tracker.assign_scored(&scored).await?;
        let items = report.assignments.iter().filter(|assignment| !assignment.already_assigned).count();
        summary.items_in_campaigns += items;
        summary.campaigns_opened += report.opened;
        summary.alerts.extend(report.alerts.iter().cloned());
        tracing::info!(message = "Campaigns assigned.", items, opened = report.opened, alerts = report.alerts.len());
        observer.on_event(&CrawlEvent::CampaignsAssigned { items, opened: report.opened, alerts: report.alerts });
    }
    Ok(summary)
}
