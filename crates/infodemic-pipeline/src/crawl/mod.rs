//! `run_crawl`: catalogue in, scored items in the store, a summary out.
//!
//! # Architecture
//! A run is a topology of stages, one module each, joined by bounded channels (vector's
//! sources → transforms → sinks). This module only wires them:
//!
//! ```text
//! fetch ──FeedOutcome (N)──▶ dedupe ──DedupedFeed (1)──▶ accept ──Batch (1)──▶ enrich
//!   ──EnrichedBatch (1)──▶ score ──ScoredBatch (1)──▶ commit ──committed items (1)──▶ campaign
//! ```
//!
//! - [`fetch`]: the source. `crawl_feed` for N feeds at a time (`buffer_unordered`); the
//!   receiving end is the run's only cancellation point: once `cancel` fires no outcome is taken
//!   from it and no new feed starts, and everything taken before flows through every stage.
//! - [`dedupe`]: a feed's items → those relevant and new to the run and the store; copies of
//!   known items become appearances. It comes before `accept` because a feed's next poll
//!   depends on how many of its items were new.
//! - [`accept`]: an outcome → the feed's new state and schedule, the network-failure verdict at
//!   the end of the run, and batches of whole feeds (`commit_batch` items or more).
//! - [`enrich`]: full-text pages and fact-check ClaimReview markup (new claims are stored and
//!   travel with the batch, so they match that batch's items and every later one).
//! - [`score`]: the classifier, the decision with the feed's category, claim matching.
//! - [`commit`]: the batch's items, feed states and appearances in one store transaction.
//! - [`campaign`]: committed items to campaigns (`CampaignTracker`), alerts.
//!
//! The stages are futures joined on the caller's task (they borrow the store, classifier and
//! observer; their blocking work runs on the blocking pool or the classifier's thread). Each
//! owns its state and its part of the summary; the parts are added up at the end. A stage that
//! fails ends the run with its error: no feed is taken any more, the stages upstream of it stop
//! when they find their output closed or their input ended, and those downstream finish what
//! they hold (batches already scored are committed, committed ones assigned), as on cancel. A
//! stage whose output is closed just stops, so the run's error is the failed stage's, never a
//! closed channel.

mod accept;
mod campaign;
mod commit;
mod dedupe;
mod enrich;
mod fetch;
mod score;
mod stages;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use infodemic_classifier::ClassifierHandle;
use infodemic_core::polling::PollPolicy;
use infodemic_core::{Alert, FeedSpec, FeedState, SourceId};
use infodemic_crawler::{FetchConfig, Fetcher};
use infodemic_store::{CampaignWriter, IngestStore, ScoreStore, SledStore};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use self::commit::CommittedItems;
pub use self::stages::{StageQueues, STAGE_QUEUES};
use crate::campaigns::{CampaignSettings, CampaignTracker};
use crate::claims::{reembed_stale_claims, ClaimMatcher};
use crate::{PipelineError, Result};

/// Batches waiting between two stages, besides the one each stage holds: enough to keep every
/// stage busy, few enough that memory stays a handful of batches.
const BATCHES_IN_FLIGHT: usize = 1;
/// Deduplicated feeds waiting for `accept`, which only does bookkeeping.
const DEDUPED_IN_FLIGHT: usize = 1;

/// Every feed state that can be read; each unreadable record is logged and its feed crawled as
/// a new one (its next commit replaces the record).
pub(crate) fn readable_feed_states(
    store: &dyn IngestStore,
) -> std::result::Result<Vec<FeedState>, infodemic_store::StoreError> {
    let (states, unreadable) = store.readable_feed_states()?;
    for record in unreadable {
        tracing::error!(message = "A feed state cannot be read; the feed is polled as new.", record);
    }
    Ok(states)
}

/// Knobs of a crawl run.
#[derive(Clone, Debug)]
pub struct CrawlOptions {
    /// Limits for each fetch.
    pub fetch: FetchConfig,
    /// Feeds fetched at the same time (also article pages of fact-checkers).
    pub feed_concurrency: usize,
    /// Items classified and committed together (whole feeds are never split).
    pub commit_batch: usize,
    /// Polling bounds and backoff.
    pub policy: PollPolicy,
    /// Fetch feeds whose server asked to wait (`Retry-After`) all the same.
    pub force: bool,
    /// Fetch a feed without validators when its last unconditional fetch is older than this,
    /// so a server that answers 304 for a changed feed cannot hide it for long.
    pub revalidate_after: chrono::Duration,
    /// The campaign stage: committed items worth a review are assigned to campaigns. `None`
    /// turns the stage off.
    pub campaigns: Option<CampaignSettings>,
    /// Where the depths of this crawl's stage queues are read (`/metrics`).
    pub stage_queues: StageQueues,
    /// Where the ids of committed items are recorded, for a caller that hands them on (a
    /// crawl worker queues them for score workers). `None` records nothing.
    pub committed_items: Option<CommittedItems>,
}

impl Default for CrawlOptions {
    fn default() -> Self {
        Self {
            fetch: FetchConfig::default(),
            feed_concurrency: 8,
            commit_batch: 64,
            policy: PollPolicy::default(),
            revalidate_after: chrono::Duration::hours(24),
            force: false,
            campaigns: Some(CampaignSettings::default()),
            stage_queues: StageQueues::default(),
            committed_items: None,
        }
    }
}

/// Progress of a run, for a progress bar or logs.
#[derive(Clone, Debug)]
pub enum CrawlEvent {
    /// The run starts with this many feeds.
    Started {
        /// Feeds to crawl.
        feeds: usize,
    },
    /// One feed was fetched and parsed (or failed).
    FeedDone {
        /// The feed.
        source: SourceId,
        /// Items in it that were new to the store.
        new_items: usize,
        /// Its error, if it failed.
        error: Option<String>,
        /// How long fetch, parse and normalise took.
        elapsed: Duration,
    },
    /// A batch was scored and committed.
    BatchCommitted {
        /// Items written.
        stored: usize,
        /// Of which flagged.
        flagged: usize,
        /// How long the classifier took over the batch's items; `None` when the batch held
        /// only feed states.
        scoring: Option<Duration>,
    },
    /// The items of a committed batch went through the campaign stage.
    CampaignsAssigned {
        /// Items assigned to a campaign (not assigned before).
        items: usize,
        /// Campaigns they opened.
        opened: usize,
        /// Alerts raised.
        alerts: Vec<Alert>,
    },
    /// Cancellation was requested; pending work is being committed.
    Stopping,
    /// A `watch` cycle ended.
    CycleFinished(Box<CrawlSummary>),
    /// A `watch` cycle failed (store or classifier); it is retried after a pause.
    CycleFailed {
        /// What went wrong.
        error: String,
    },
    /// `watch` sleeps until the next feed is due.
    Idle {
        /// When it wakes up.
        until: DateTime<Utc>,
    },
}

/// Receives [`CrawlEvent`]s. Must be cheap: it is called on the pipeline's task.
pub trait CrawlObserver: Send + Sync {
    /// Called for every event.
    fn on_event(&self, event: &CrawlEvent);
}

/// An observer that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl CrawlObserver for NoProgress {
    fn on_event(&self, _event: &CrawlEvent) {}
}

/// A feed that failed in this run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FailedFeed {
    /// The feed id.
    pub source: String,
    /// Its URL.
    pub url: String,
    /// Short error code (`http-status`, `timeout`, `not-a-feed`...).
    pub code: String,
    /// The error message.
    pub error: String,
}

/// A feed that was read, but not every entry of it became an item.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PartialFeed {
    /// The feed id.
    pub source: String,
    /// Entries the document holds.
    pub entries: usize,
    /// Items read from them.
    pub items: usize,
    /// Entries dropped: without any text, cut off, over the cap, or missed by the parser.
    pub dropped: usize,
    /// Entries repeating the link of an earlier entry of the same feed.
    pub repeated_links: usize,
}

/// What a run did.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CrawlSummary {
    /// Feeds in the run.
    pub feeds_total: usize,
    /// Feeds fetched and parsed.
    pub feeds_ok: usize,
    /// Feeds that answered "not modified".
    pub feeds_not_modified: usize,
    /// Feeds that failed, with why.
    pub feeds_failed: Vec<FailedFeed>,
    /// Feeds not reached because the run was interrupted.
    pub feeds_skipped: usize,
    /// Feeds not fetched because their server asked to wait (`Retry-After`) until a time still
    /// to come; `--force` fetches them.
    pub feeds_deferred: Vec<DeferredFeed>,
    /// Items found in the fetched feeds.
    pub items_seen: usize,
    /// Items stored for the first time.
    pub items_new: usize,
    /// Items already stored (same canonical URL or same content) or repeated in the run.
    pub items_duplicate: usize,
    /// New items the model flagged.
    pub items_flagged: usize,
    /// New items stored without scoring (`crawl --no-score`), for `rescore`.
    pub items_unscored: usize,
    /// Entries that could not become items (no text at all).
    pub entries_skipped: usize,
    /// Feeds read in part: some entries dropped or repeated (the counts per feed).
    pub feeds_partial: Vec<PartialFeed>,
    /// Items of general feeds left out by the health-relevance filter.
    pub items_off_topic: usize,
    /// Items whose summary was replaced by their page's main text.
    pub full_texts: usize,
    /// Duplicates that were near (not exact) copies of a known item.
    pub items_near_duplicate: usize,
    /// Copies recorded as appearances of a known item (same content or near-duplicate).
    pub appearances: usize,
    /// New items that matched a known debunked claim.
    pub items_matching_claims: usize,
    /// Fact-check pages fetched for their ClaimReview markup.
    pub claim_pages_fetched: usize,
    /// Debunked claims learnt from those pages.
    pub claims_added: usize,
    /// Stored claims embedded again because another model had embedded them.
    pub claims_reembedded: usize,
    /// New items assigned to a campaign.
    pub items_in_campaigns: usize,
    /// Campaigns opened by them.
    pub campaigns_opened: usize,
    /// Campaign alerts raised.
    pub alerts: Vec<Alert>,
    /// The run stopped early on request.
    pub interrupted: bool,
    /// Every host failed for network reasons: the network looked down, and the feeds were
    /// not penalised.
    pub network_down: bool,
    /// Wall time, seconds.
    pub elapsed_secs: f64,
}

impl CrawlSummary {
    /// Adds a stage's part: counts add up, lists are appended, flags are or-ed. Every field is
    /// named, so a new one cannot be left out.
    fn add(&mut self, part: CrawlSummary) {
        let CrawlSummary {
            feeds_total,
            feeds_ok,
            feeds_not_modified,
            feeds_failed,
            feeds_skipped,
            feeds_deferred,
            items_seen,
            items_new,
            items_duplicate,
            items_flagged,
            items_unscored,
            entries_skipped,
            feeds_partial,
            items_off_topic,
            full_texts,
            items_near_duplicate,
            appearances,
            items_matching_claims,
            claim_pages_fetched,
            claims_added,
            claims_reembedded,
            items_in_campaigns,
            campaigns_opened,
            alerts,
            interrupted,
            network_down,
            elapsed_secs,
        } = part;
        self.feeds_total += feeds_total;
        self.feeds_ok += feeds_ok;
        self.feeds_not_modified += feeds_not_modified;
        self.feeds_failed.extend(feeds_failed);
        self.feeds_skipped += feeds_skipped;
        self.feeds_deferred.extend(feeds_deferred);
        self.items_seen += items_seen;
        self.items_unscored += items_unscored;
        self.items_new += items_new;
        self.items_duplicate += items_duplicate;
        self.items_flagged += items_flagged;
        self.entries_skipped += entries_skipped;
        self.feeds_partial.extend(feeds_partial);
        self.items_off_topic += items_off_topic;
        self.full_texts += full_texts;
        self.items_near_duplicate += items_near_duplicate;
        self.appearances += appearances;
        self.items_matching_claims += items_matching_claims;
        self.claim_pages_fetched += claim_pages_fetched;
        self.claims_added += claims_added;
        self.claims_reembedded += claims_reembedded;
        self.items_in_campaigns += items_in_campaigns;
        self.campaigns_opened += campaigns_opened;
        self.alerts.extend(alerts);
        self.interrupted |= interrupted;
        self.network_down |= network_down;
        self.elapsed_secs = self.elapsed_secs.max(elapsed_secs);
    }
}

/// A feed left alone because its server asked to wait.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeferredFeed {
    /// The feed.
    pub source: String,
    /// Until when its server asked not to be polled.
    pub until: DateTime<Utc>,
}

/// Crawls `feeds`, classifies new items and commits them with their feeds' states, then assigns
/// the committed items to campaigns (unless `options.campaigns` is `None`).
///
/// Per-feed failures are recorded in the summary and the store; only infrastructure failures
/// (store, classifier) are errors. When `cancel` fires, no new feed is started, the feeds
/// already fetched are scored, committed and assigned, and the summary says `interrupted`.
///
/// # Errors
/// Store or classifier failures (those of the stage that failed), which end the run; batches
/// committed before stay intact, and what had passed the failed stage is still committed and
/// assigned.
pub async fn run_crawl<S: ScoringStore + Clone + 'static>(
    feeds: Vec<FeedSpec>,
    store: &S,
    classifier: &ClassifierHandle,
    options: &CrawlOptions,
    observer: &dyn CrawlObserver,
    cancel: CancellationToken,
) -> Result<CrawlSummary> {
    let scoring = Scoring { classifier, store };
    crawl(feeds, Arc::new(store.clone()), Some(scoring), options, observer, cancel).await
}

/// [`run_crawl`] without a model (`crawl --no-score`): items are fetched, deduplicated and
/// stored with [`Classification::unscored`] for `rescore` to score later; no claim is
/// matched or learnt from fact-checkers' pages, and no campaign assigned (both need the
/// model's embeddings). Any [`IngestStore`] takes the items: the embedded store or
/// PostgreSQL.
///
/// # Errors
/// Store failures, as for [`run_crawl`].
pub async fn run_crawl_unscored<S: IngestStore + Clone + 'static>(
    feeds: Vec<FeedSpec>,
    store: &S,
    options: &CrawlOptions,
    observer: &dyn CrawlObserver,
    cancel: CancellationToken,
) -> Result<CrawlSummary> {
    // No scoring: the scoring store's type is never used.
    crawl::<SledStore>(feeds, Arc::new(store.clone()), None, options, observer, cancel).await
}

/// What a crawl that scores needs of its store besides the items: the debunked claims to
/// match and learn, the subscriptions' categories, and the campaigns to assign to. The
/// embedded store and PostgreSQL (whose campaigns one process at a time may write) are both.
pub trait ScoringStore: IngestStore + ScoreStore + CampaignWriter {}

impl<S: IngestStore + ScoreStore + CampaignWriter + ?Sized> ScoringStore for S {}

/// What scoring needs besides the items' store: the model, and the store's claims and
/// campaigns.
#[derive(Clone)]
pub(crate) struct Scoring<'a, C> {
    pub classifier: &'a ClassifierHandle,
    pub store: &'a C,
}

async fn crawl<C: ScoringStore + Clone + 'static>(
    feeds: Vec<FeedSpec>,
    store: Arc<dyn IngestStore>,
    scoring: Option<Scoring<'_, C>>,
    options: &CrawlOptions,
    observer: &dyn CrawlObserver,
    cancel: CancellationToken,
) -> Result<CrawlSummary> {
    let started = Instant::now();
    let fetcher = Arc::new(Fetcher::new(options.fetch.clone())?);
    let classifier = scoring.as_ref().map(|s| s.classifier);
    // Claims embedded by another model cannot be compared with this model's embeddings.
    let claims_reembedded = match &scoring {
        Some(Scoring { classifier, store }) => reembed_stale_claims(*store, classifier).await?.reembedded,
        None => 0,
    };
    let claims_store = scoring.as_ref().map(|s| s.store.clone());
    let (known_states, matcher, recent) = blocking({
        let store = Arc::clone(&store);
        move || {
            let recent = store.recent_fingerprints(Utc::now() - dedupe::NEAR_DUPLICATE_WINDOW)?;
            let matcher = match &claims_store {
                Some(claims) => ClaimMatcher::from_store(claims)?,
                None => ClaimMatcher::empty(1.0),
            };
            Ok::<_, PipelineError>((readable_feed_states(store.as_ref())?, matcher, recent))
        }
    })
    .await??;
    let tracker = match (&options.campaigns, &scoring) {
        (Some(settings), Some(scoring)) => Some(CampaignTracker::open(scoring.store, settings.clone()).await?),
        _ => None,
    };
    let states: HashMap<SourceId, FeedState> =
        known_states.into_iter().map(|state| (state.source.clone(), state)).collect();
    let feeds_total = feeds.len();
    let categories = feeds.iter().map(|spec| (spec.id.clone(), spec.category)).collect();
    observer.on_event(&CrawlEvent::Started { feeds: feeds_total });

    let concurrency = options.feed_concurrency.max(1);
    let plan = fetch::plan(feeds, &states, options, Utc::now());
    // No feed is taken any more once this fires: on request (`cancel`), or when a stage failed.
    let stop = cancel.child_token();
    let queues = &options.stage_queues;
    let (producer, outcomes) = fetch::spawn(plan.requests, Arc::clone(&fetcher), concurrency, &stop, queues);
    let mut fetched = fetch::Fetched::new(outcomes, stop.clone(), cancel, observer);
    let (deduped_tx, deduped_rx) = mpsc::channel(DEDUPED_IN_FLIGHT);
    let (batch_tx, batch_rx) = mpsc::channel(BATCHES_IN_FLIGHT);
    let (enriched_tx, enriched_rx) = mpsc::channel(BATCHES_IN_FLIGHT);
    let (scored_tx, scored_rx) = mpsc::channel(BATCHES_IN_FLIGHT);
    queues.attach(stages::DEDUPED, &deduped_tx);
    queues.attach(stages::BATCHED, &batch_tx);
    queues.attach(stages::ENRICHED, &enriched_tx);
    queues.attach(stages::SCORED, &scored_tx);
    let (committed_tx, committed_rx) = match tracker {
        Some(tracker) => {
            let (tx, rx) = mpsc::channel(BATCHES_IN_FLIGHT);
            (Some(tx), Some((rx, tracker)))
        }
        None => (None, None),
    };

    let (dedupe, accept, enrich, score, commit, campaign) = tokio::join!(
        watched(&stop, dedupe::Deduper::new(Arc::clone(&store), recent).run(&mut fetched, deduped_tx)),
        watched(&stop, accept::Acceptor::new(states, options, observer).run(deduped_rx, batch_tx)),
        watched(&stop, enrich::Enricher::new(scoring, fetcher, concurrency).run(batch_rx, enriched_tx)),
        watched(&stop, score::Scorer::new(classifier, matcher, categories).run(enriched_rx, scored_tx)),
        watched(&stop, commit::run(&store, observer, scored_rx, committed_tx, options.committed_items.as_ref())),
        watched(&stop, async {
            match committed_rx {
                Some((input, tracker)) => campaign::run(&tracker, observer, input).await,
                None => Ok(CrawlSummary::default()),
            }
        }),
    );
    // Whatever happened, the source stops here: no feed outlives the run.
    let (received, interrupted) = (fetched.received(), fetched.interrupted());
    drop(fetched);
    producer.stop().await;
    // At most the failed stage has an error (the others stopped or drained); upstream first.
    let parts = [dedupe?, accept?, enrich?, score?, commit?, campaign?];

    let deferred = plan.deferred.len();
    let mut summary = CrawlSummary {
        feeds_total,
        feeds_deferred: plan.deferred,
        claims_reembedded,
        interrupted,
        ..CrawlSummary::default()
    };
    for part in parts {
        summary.add(part);
    }
    summary.feeds_skipped = feeds_total.saturating_sub(received).saturating_sub(deferred);
    summary.elapsed_secs = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// Runs a stage; when it fails, `stop` fires, so no feed is taken any more and the stages
/// upstream of it wind down, while those downstream finish what they hold.
async fn watched(stop: &CancellationToken, stage: impl Future<Output = Result<CrawlSummary>>) -> Result<CrawlSummary> {
    let result = stage.await;
    if let Err(error) = &result {
        tracing::debug!(message = "A crawl stage failed; the run stops.", %error);
        stop.cancel();
    }
    result
}

/// Hands `value` to the next stage. False when that stage has ended, which only happens when it
/// failed: the calling stage then stops, and the failed stage's error is the run's.
async fn forward<T>(output: &mpsc::Sender<T>, value: T) -> bool {
    output.send(value).await.is_ok()
}

/// Runs `work` on the blocking pool (sled, parsing).
pub(crate) async fn blocking<T, F>(work: F) -> Result<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work).await.map_err(|e| PipelineError::Task(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_parts_add_up() {
        let mut summary = CrawlSummary { feeds_total: 3, items_new: 1, ..CrawlSummary::default() };
        summary.add(CrawlSummary { items_new: 2, items_duplicate: 1, interrupted: true, ..CrawlSummary::default() });
        summary.add(CrawlSummary {
            feeds_failed: vec![FailedFeed {
                source: "s".to_owned(),
                url: "u".to_owned(),
                code: "timeout".to_owned(),
                error: "e".to_owned(),
            }],
            items_in_campaigns: 4,
            campaigns_opened: 1,
            ..CrawlSummary::default()
        });
        assert_eq!((summary.feeds_total, summary.items_new, summary.items_duplicate), (3, 3, 1));
        assert_eq!((summary.items_in_campaigns, summary.campaigns_opened, summary.feeds_failed.len()), (4, 1, 1));
        assert!(summary.interrupted && !summary.network_down);
    }
}
