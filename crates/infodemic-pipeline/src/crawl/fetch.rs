//! The source stage: fetches feeds, a bounded number at a time, until every feed is done or the
//! run is cancelled. Its receiving end ([`Fetched`]) is where cancellation takes effect.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use infodemic_core::{FeedSpec, FeedState, SourceId};
use infodemic_crawler::{crawl_feed, FeedOutcome, Fetcher, Previous};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{CrawlEvent, CrawlObserver, CrawlOptions, DeferredFeed, StageQueues};

/// The feeds to fetch, with what is known of each, and those left alone.
pub(super) struct Plan {
    /// Feeds to fetch, with their validators, last body and paging cursor.
    pub requests: Vec<(FeedSpec, Previous)>,
    /// Feeds whose server asked to wait until a time still to come (unless forced).
    pub deferred: Vec<DeferredFeed>,
}

/// Splits `feeds` into those to fetch now and those whose server asked to wait.
pub(super) fn plan(
    feeds: Vec<FeedSpec>,
    states: &HashMap<SourceId, FeedState>,
    options: &CrawlOptions,
    now: DateTime<Utc>,
) -> Plan {
    let (feeds, waiting): (Vec<FeedSpec>, Vec<FeedSpec>) = feeds.into_iter().partition(|spec| {
        options.force || states.get(&spec.id).and_then(|state| state.server_wait_until).is_none_or(|until| until <= now)
    });
    let mut deferred = Vec::new();
    for spec in &waiting {
        if let Some(until) = states.get(&spec.id).and_then(|state| state.server_wait_until) {
            tracing::info!(message = "Feed deferred: its server asked to wait.", source_id = %spec.id, %until);
            deferred.push(DeferredFeed { source: spec.id.to_string(), until });
        }
    }
    let requests = feeds
        .into_iter()
        .map(|spec| {
            let previous = states.get(&spec.id).map_or_else(Previous::default, |state| Previous {
                validators: state.validators.clone(),
                body_sha256: state.body_sha256.clone(),
                unconditional: state.last_full_fetch.is_none_or(|at| now - at > options.revalidate_after),
                cursor: state.cursor.clone(),
            });
            (spec, previous)
        })
        .collect();
    Plan { requests, deferred }
}

/// The fetching task; stopped with the run.
pub(super) struct Producer {
    task: JoinHandle<()>,
    cancel: CancellationToken,
}

impl Producer {
    /// Stops fetching (requests in flight are dropped) and waits for the task to end.
    pub(super) async fn stop(self) {
        self.cancel.cancel();
        let _ = self.task.await;
    }
}

/// Starts fetching `requests`, `concurrency` at a time, into a channel of `concurrency`
/// outcomes. Stops starting feeds when `stop` fires.
pub(super) fn spawn(
    requests: Vec<(FeedSpec, Previous)>,
    fetcher: Arc<Fetcher>,
    concurrency: usize,
    stop: &CancellationToken,
    queues: &StageQueues,
) -> (Producer, mpsc::Receiver<FeedOutcome>) {
    let (outcomes_tx, outcomes) = mpsc::channel::<FeedOutcome>(concurrency);
    queues.attach(super::stages::FETCHED, &outcomes_tx);
    let cancel = stop.child_token();
    let task = tokio::spawn({
        let cancel = cancel.clone();
        async move {
            let mut stream = futures::stream::iter(requests)
                .map(|(spec, previous)| {
                    let fetcher = Arc::clone(&fetcher);
                    async move { crawl_feed(&fetcher, spec, previous).await }
                })
                .buffer_unordered(concurrency);
            loop {
                let next = tokio::select! {
                    () = cancel.cancelled() => break,
                    next = stream.next() => next,
                };
                let Some(outcome) = next else { break };
                let sent = tokio::select! {
                    biased;
                    () = cancel.cancelled() => false,
                    sent = outcomes_tx.send(outcome) => sent.is_ok(),
                };
                if !sent {
                    break;
                }
            }
        }
    });
    (Producer { task, cancel }, outcomes)
}

/// The receiving end of the fetched feeds, and the run's cancellation point: once `stop` fires
/// (the run was cancelled, or a stage failed), no outcome is taken any more (those waiting in
/// the channel count as not reached), and the stages downstream finish what they hold.
pub(super) struct Fetched<'a> {
    outcomes: mpsc::Receiver<FeedOutcome>,
    /// Fires on `cancel`, and when a stage fails.
    stop: CancellationToken,
    /// The caller's: whether the run was interrupted on request.
    cancel: CancellationToken,
    observer: &'a dyn CrawlObserver,
    received: usize,
    interrupted: bool,
    done: bool,
}

impl<'a> Fetched<'a> {
    pub(super) fn new(
        outcomes: mpsc::Receiver<FeedOutcome>,
        stop: CancellationToken,
        cancel: CancellationToken,
        observer: &'a dyn CrawlObserver,
    ) -> Self {
        Self { outcomes, stop, cancel, observer, received: 0, interrupted: false, done: false }
    }

    /// The next fetched feed; `None` when every feed is done, or the run was cancelled or
    /// failed.
    pub(super) async fn next(&mut self) -> Option<FeedOutcome> {
        if self.done {
            return None;
        }
        let next = tokio::select! {
            biased;
            () = self.stop.cancelled() => None,
            outcome = self.outcomes.recv() => outcome,
        };
        match next {
            Some(outcome) => {
                self.received += 1;
                Some(outcome)
            }
            None => {
                self.done = true;
                if self.cancel.is_cancelled() {
                    self.interrupted = true;
                    self.observer.on_event(&CrawlEvent::Stopping);
                }
                None
            }
        }
    }

    /// Feeds taken so far.
    pub(super) fn received(&self) -> usize {
        self.received
    }

    /// Whether the run stopped on request.
    pub(super) fn interrupted(&self) -> bool {
        self.interrupted
    }
}
