//! The commit stage (the sink): a scored batch's items, its feeds' states and its appearances
//! in one store transaction, on the blocking pool. Committed items go on to the campaign stage.

use std::sync::Arc;

use infodemic_core::{ItemId, ScoredItem};

use infodemic_store::IngestStore;
use tokio::sync::mpsc;

use super::score::ScoredBatch;
use super::{blocking, forward, CrawlEvent, CrawlObserver, CrawlSummary};
use crate::Result;

/// Where the commit stage sends the ids of each batch it committed, as it commits it (see
/// [`super::CrawlOptions::committed_items`]). Bounded: a slow consumer slows the commits.
#[derive(Clone, Debug)]
pub struct CommittedItems(mpsc::Sender<Vec<ItemId>>);

impl CommittedItems {
    /// A sender, and the receiver of the ids of each committed batch. The receiver ends once
    /// every crawl given the sender has ended (and dropped its options).
    pub fn channel(batches_in_flight: usize) -> (Self, mpsc::Receiver<Vec<ItemId>>) {
        let (tx, rx) = mpsc::channel(batches_in_flight.max(1));
        (Self(tx), rx)
    }

    async fn record(&self, items: &[ScoredItem]) {
        // A consumer that is gone wants nothing more; the crawl goes on.
        let _ = self.0.send(items.iter().map(|scored| scored.item.id).collect()).await;
    }
}

/// Commits every batch from `input`; hands the committed items to `campaigns`, when the
/// campaign stage runs.
///
/// The store reports how many items it wrote, not which: it skips an item whose URL or content
/// was stored meanwhile (rare: dedupe checked the store). A batch of which nothing was written
/// is not handed on; otherwise the whole batch is, since the campaign stage skips items it has
/// assigned before. `record`, when given, gets the ids of such batches alike (a consumer of
/// them looks each item up, and finds an item skipped here stored under its first copy).
///
/// # Errors
/// Store failures; nothing of the failed batch is written.
pub(super) async fn run(
    store: &Arc<dyn IngestStore>,
    observer: &dyn CrawlObserver,
    mut input: mpsc::Receiver<ScoredBatch>,
    campaigns: Option<mpsc::Sender<Vec<ScoredItem>>>,
    record: Option<&CommittedItems>,
) -> Result<CrawlSummary> {
    let mut summary = CrawlSummary::default();
    while let Some(batch) = input.recv().await {
        // The campaign stage failed: its error ends the run, nothing more is committed.
        if campaigns.as_ref().is_some_and(mpsc::Sender::is_closed) {
            break;
        }
        let ScoredBatch { scored, states, appearances, scoring } = batch;
        let flagged = scored.iter().filter(|s| s.classification.flagged).count();
        let store = Arc::clone(store);
        let (report, scored) =
            blocking(move || store.commit(&scored, &states, &appearances).map(|report| (report, scored))).await??;
        summary.items_new += report.inserted;
        summary.items_duplicate += report.duplicates;
        summary.items_flagged += flagged;
        observer.on_event(&CrawlEvent::BatchCommitted { stored: report.inserted, flagged, scoring });
        tracing::info!(message = "Batch committed.", stored = report.inserted, flagged);
        if let (Some(record), true) = (record, report.inserted > 0) {
            record.record(&scored).await;
        }
        if let Some(campaigns) = &campaigns {
            if report.inserted > 0 && !forward(campaigns, scored).await {
                break;
            }
        }
    }
    Ok(summary)
}
