//! `run_crawl`: catalogue in, scored items in the store, a summary out.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use infodemic_classifier::ClassifierHandle;
use infodemic_core::health::is_health_related;
use infodemic_core::polling::{schedule, FailureKind, PollOutcome, PollPolicy};
use infodemic_core::simhash;
use infodemic_core::{Appearance, Relation};
use infodemic_core::{
    ContentHash, DebunkedClaim, FeedCategory, FeedSpec, FeedState, Item, ItemId, ScoredItem, SourceId,
};
use infodemic_crawler::article;
use infodemic_crawler::charset::to_utf8;
use infodemic_crawler::politeness::host_key;
use infodemic_crawler::{crawl_feed, FeedFetch, FeedOutcome, FetchConfig, Fetched, Fetcher, Previous};
use url::Url;

use crate::claims::{reembed_stale_claims, ClaimMatcher};
use infodemic_store::{ItemReader, SledStore};
use serde::Serialize;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::{PipelineError, Result};

/// How far back a new item is compared with stored items for near-duplicates.
const NEAR_DUPLICATE_WINDOW: chrono::Duration = chrono::Duration::days(7);
/// Every feed state that can be read; each unreadable record is logged and its feed crawled as
/// a new one (its next commit replaces the record).
pub(crate) fn readable_feed_states(
    store: &SledStore,
) -> std::result::Result<Vec<FeedState>, infodemic_store::StoreError> {
    let (states, unreadable) = store.readable_feed_states()?;
    for record in unreadable {
        tracing::error!(message = "A feed state cannot be read; the feed is polled as new.", record);
    }
    Ok(states)
}

/// Pages found in content fetched and read together: bounds the bodies held at once (each up
/// to the body cap).
const PAGES_PER_CHUNK: usize = 16;

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
    },
    /// A batch was scored and committed.
    BatchCommitted {
        /// Items written.
        stored: usize,
        /// Of which flagged.
        flagged: usize,
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
#[derive(Clone, Debug, Serialize)]
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
#[derive(Clone, Debug, Serialize)]
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
#[derive(Clone, Debug, Default, Serialize)]
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
    /// The run stopped early on request.
    pub interrupted: bool,
    /// Every host failed for network reasons: the network looked down, and the feeds were
    /// not penalised.
    pub network_down: bool,
    /// Wall time, seconds.
    pub elapsed_secs: f64,
}

/// A feed left alone because its server asked to wait.
#[derive(Clone, Debug, Serialize)]
pub struct DeferredFeed {
    /// The feed.
    pub source: String,
    /// Until when its server asked not to be polled.
    pub until: DateTime<Utc>,
}

/// Items waiting to be scored, with the states of the feeds they came from.
#[derive(Default)]
struct PendingBatch {
    items: Vec<Item>,
    states: Vec<FeedState>,
    /// Article pages of fact-checkers' new items, read for ClaimReview markup.
    fact_check_pages: Vec<Url>,
    /// Items of feeds configured with `full_text`: their pages are fetched for the main text.
    full_text: HashSet<ItemId>,
    /// Copies of known items found in this batch.
    appearances: Vec<Appearance>,
}

struct Run<'a> {
    store: &'a SledStore,
    classifier: &'a ClassifierHandle,
    fetcher: Arc<Fetcher>,
    concurrency: usize,
    matcher: ClaimMatcher,
    policy: PollPolicy,
    /// Hosts that answered in this run.
    hosts_ok: HashSet<String>,
    /// Feeds that failed for network reasons, held until the run ends.
    network_failures: Vec<(FeedState, DateTime<Utc>, String, FailureKind)>,
    observer: &'a dyn CrawlObserver,
    states: HashMap<SourceId, FeedState>,
    /// Each feed's publisher category: the decision's source prior.
    categories: HashMap<SourceId, FeedCategory>,
    seen_urls: HashSet<String>,
    seen_hashes: HashMap<ContentHash, ItemId>,
    /// SimHash fingerprints of recent items (store and run), for near-duplicates.
    recent: Vec<(u64, ItemId)>,
    /// Texts of this run's new items, to confirm near-duplicates without the store.
    run_texts: HashMap<ItemId, String>,
    pending: PendingBatch,
    summary: CrawlSummary,
}

/// Crawls `feeds`, classifies new items and commits them with their feeds' states.
///
/// Per-feed failures are recorded in the summary and the store; only infrastructure failures
/// (store, classifier) are errors. When `cancel` fires, no new feed is started, the feeds
/// already fetched are scored and committed, and the summary says `interrupted`.
///
/// # Errors
/// Store or classifier failures, which end the run; batches committed before stay intact.
pub async fn run_crawl(
    feeds: Vec<FeedSpec>,
    store: &SledStore,
    classifier: &ClassifierHandle,
    options: &CrawlOptions,
    observer: &dyn CrawlObserver,
    cancel: CancellationToken,
) -> Result<CrawlSummary> {
    let started = Instant::now();
    let fetcher = Arc::new(Fetcher::new(options.fetch.clone())?);
    // Claims embedded by another model cannot be compared with this model's embeddings.
    let claims_reembedded = reembed_stale_claims(store, classifier).await?.reembedded;
    let (known_states, matcher, recent) = blocking({
        let store = store.clone();
        move || {
            let recent = store.recent_fingerprints(Utc::now() - NEAR_DUPLICATE_WINDOW)?;
            Ok::<_, PipelineError>((readable_feed_states(&store)?, ClaimMatcher::from_store(&store)?, recent))
        }
    })
    .await??;
    let states: HashMap<SourceId, FeedState> =
        known_states.into_iter().map(|state| (state.source.clone(), state)).collect();

    let concurrency = options.feed_concurrency.max(1);
    let mut run = Run {
        store,
        classifier,
        fetcher: Arc::clone(&fetcher),
        concurrency,
        matcher,
        policy: options.policy,
        hosts_ok: HashSet::new(),
        network_failures: Vec::new(),
        observer,
        states,
        categories: feeds.iter().map(|spec| (spec.id.clone(), spec.category)).collect(),
        seen_urls: HashSet::new(),
        seen_hashes: HashMap::new(),
        recent,
        run_texts: HashMap::new(),
        pending: PendingBatch::default(),
        summary: CrawlSummary { feeds_total: feeds.len(), claims_reembedded, ..CrawlSummary::default() },
    };
    observer.on_event(&CrawlEvent::Started { feeds: feeds.len() });

    let (outcomes_tx, mut outcomes) = mpsc::channel::<FeedOutcome>(concurrency);
    let now = Utc::now();
    let (feeds, deferred): (Vec<FeedSpec>, Vec<FeedSpec>) = feeds.into_iter().partition(|spec| {
        options.force
            || run.states.get(&spec.id).and_then(|state| state.server_wait_until).is_none_or(|until| until <= now)
    });
    for spec in &deferred {
        if let Some(until) = run.states.get(&spec.id).and_then(|state| state.server_wait_until) {
            tracing::info!(message = "Feed deferred: its server asked to wait.", source_id = %spec.id, %until);
            run.summary.feeds_deferred.push(DeferredFeed { source: spec.id.to_string(), until });
        }
    }
    let requests: Vec<_> = feeds
        .into_iter()
        .map(|spec| {
            let previous = run.states.get(&spec.id).map_or_else(Previous::default, |state| Previous {
                validators: state.validators.clone(),
                body_sha256: state.body_sha256.clone(),
                unconditional: state.last_full_fetch.is_none_or(|at| now - at > options.revalidate_after),
                cursor: state.cursor.clone(),
            });
            (spec, previous)
        })
        .collect();
    let producer_cancel = cancel.child_token();
    let producer = tokio::spawn({
        let cancel = producer_cancel.clone();
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
                if outcomes_tx.send(outcome).await.is_err() {
                    break;
                }
            }
        }
    });

    let mut received = 0usize;
    let result: Result<()> = async {
        loop {
            let next = tokio::select! {
                biased;
                () = cancel.cancelled() => None,
                outcome = outcomes.recv() => outcome,
            };
            let Some(outcome) = next else { break };
            received += 1;
            run.accept(outcome).await?;
            if run.pending.items.len() >= options.commit_batch {
                run.flush().await?;
            }
        }
        if cancel.is_cancelled() {
            run.summary.interrupted = true;
            observer.on_event(&CrawlEvent::Stopping);
        }
        run.settle_network_failures();
        run.flush().await
    }
    .await;
    producer_cancel.cancel();
    drop(outcomes);
    let _ = producer.await;
    result?;

    run.summary.feeds_skipped =
        run.summary.feeds_total.saturating_sub(received).saturating_sub(run.summary.feeds_deferred.len());
    run.summary.elapsed_secs = started.elapsed().as_secs_f64();
    Ok(run.summary)
}

impl Run<'_> {
    /// Records one feed's outcome and queues its new items.
    async fn accept(&mut self, outcome: FeedOutcome) -> Result<()> {
        let FeedOutcome { spec, fetched_at, unconditional, result, .. } = outcome;
        let mut state =
            self.states.remove(&spec.id).unwrap_or_else(|| FeedState::new(spec.id.clone(), spec.url.to_string()));
        state.url = spec.url.to_string();
        let mut new_items = 0;
        let mut error = None;
        match result {
            Ok(fetch) => {
                self.hosts_ok.insert(host_key(&spec.url));
                state.last_success = Some(fetched_at);
                state.last_error = None;
                state.server_wait_until = None;
                state.consecutive_failures = 0;
                if unconditional {
                    state.last_full_fetch = Some(fetched_at);
                }
                let (outcome, not_before) = match fetch {
                    FeedFetch::NotModified => {
                        self.summary.feeds_not_modified += 1;
                        (PollOutcome::Unchanged, None)
                    }
                    FeedFetch::Unchanged { validators, fresh_until } => {
                        self.summary.feeds_not_modified += 1;
                        state.validators = validators;
                        (PollOutcome::Unchanged, fresh_until)
                    }
                    FeedFetch::Parsed { normalized, validators, body_sha256, fresh_until, cursor, .. } => {
                        self.summary.feeds_ok += 1;
                        state.validators = validators;
                        state.cursor = cursor;
                        state.body_sha256 = Some(body_sha256);
                        let seen = normalized.items.len() + normalized.duplicates_in_feed;
                        self.summary.items_seen += seen;
                        self.summary.items_duplicate += normalized.duplicates_in_feed;
                        self.summary.entries_skipped += normalized.skipped;
                        let dropped = normalized.entries_dropped();
                        state.last_entries = u32::try_from(normalized.entries_in_document).unwrap_or(u32::MAX);
                        state.last_entries_dropped = u32::try_from(dropped).unwrap_or(u32::MAX);
                        if dropped + normalized.duplicates_in_feed > 0 {
                            self.summary.feeds_partial.push(PartialFeed {
                                source: spec.id.to_string(),
                                entries: normalized.entries_in_document,
                                items: normalized.items.len(),
                                dropped,
                                repeated_links: normalized.duplicates_in_feed,
                            });
                        }
                        let (relevant, off_topic): (Vec<Item>, Vec<Item>) = normalized
                            .items
                            .into_iter()
                            .partition(|item| spec.keeps(is_health_related(&item.classifier_input())));
                        self.summary.items_off_topic += off_topic.len();
                        let fresh = self.fresh_items(relevant).await?;
                        new_items = fresh.len();
                        // A feed read from a local file is read offline: the pages its items
                        // link to are not fetched (no DNS, no network for the offline samples).
                        let online = matches!(spec.url.scheme(), "http" | "https");
                        if spec.category == FeedCategory::FactChecker && online {
                            self.pending.fact_check_pages.extend(fresh.iter().filter_map(|i| Url::parse(&i.url).ok()));
                        }
                        state.items_stored += new_items as u64;
                        state.last_new_items = new_items as u32;
                        if spec.full_text && online {
                            self.pending.full_text.extend(fresh.iter().map(|item| item.id));
                        }
                        self.pending.items.extend(fresh);
                        (PollOutcome::Fetched { new: new_items, seen }, fresh_until)
                    }
                };
                schedule(&mut state, outcome, fetched_at, not_before, &self.policy);
            }
            Err(feed_error) => {
                state.last_error = Some(feed_error.to_string());
                error = Some(feed_error.to_string());
                self.summary.feeds_failed.push(FailedFeed {
                    source: spec.id.to_string(),
                    url: spec.url.to_string(),
                    code: feed_error.code().to_owned(),
                    error: feed_error.to_string(),
                });
                if feed_error.is_network() {
                    // Maybe the network, not the feed: decided when the run ends.
                    self.network_failures.push((state, fetched_at, host_key(&spec.url), feed_error.failure_kind()));
                } else {
                    state.consecutive_failures += 1;
                    // The server's request to wait, no longer than the longest backoff.
                    let longest =
                        chrono::Duration::from_std(self.policy.max_backoff).unwrap_or(chrono::Duration::days(1));
                    state.server_wait_until =
                        feed_error.retry_after().filter(|at| *at > fetched_at).map(|at| at.min(fetched_at + longest));
                    schedule(
                        &mut state,
                        PollOutcome::Failed(feed_error.failure_kind()),
                        fetched_at,
                        feed_error.retry_after(),
                        &self.policy,
                    );
                    self.pending.states.push(state);
                }
                self.observer.on_event(&CrawlEvent::FeedDone { source: spec.id.clone(), new_items, error });
                return Ok(());
            }
        }
        self.observer.on_event(&CrawlEvent::FeedDone { source: spec.id.clone(), new_items, error });
        self.pending.states.push(state);
        Ok(())
    }

    /// Settles the feeds that failed for network reasons. When no host answered and at least
    /// two hosts failed that way, the network is down: nothing is counted against the feeds,
    /// they are simply due again soon. Otherwise they are ordinary soft failures.
    fn settle_network_failures(&mut self) {
        let failures = std::mem::take(&mut self.network_failures);
        let hosts: HashSet<&String> = failures.iter().map(|(_, _, host, _)| host).collect();
        let outage = self.hosts_ok.is_empty() && hosts.len() >= 2;
        if outage {
            self.summary.network_down = true;
            tracing::warn!(
                message = "Every host failed at once: the network looks down; feeds are not penalised.",
                hosts = hosts.len()
            );
        }
        for (mut state, at, _, kind) in failures {
            if outage {
                schedule(&mut state, PollOutcome::NetworkDown, at, None, &self.policy);
            } else {
                state.consecutive_failures += 1;
                schedule(&mut state, PollOutcome::Failed(kind), at, None, &self.policy);
            }
            self.pending.states.push(state);
        }
    }

    /// Drops items already stored or already seen in this run. A copy of a known item under
    /// another URL (same content hash, or a SimHash within `NEAR_DUPLICATE_BITS`) is not a
    /// new item: it is recorded as an appearance of the first one, so every source, time and
    /// URL of a story stays known.
    async fn fresh_items(&mut self, items: Vec<Item>) -> Result<Vec<Item>> {
        let store = self.store.clone();
        let (items, known) = blocking(move || {
            let mut known = Vec::with_capacity(items.len());
            for item in &items {
                let by_url = store.id_for_url(&item.canonical_url)?.is_some();
                known.push((by_url, store.id_for_content(item.content_hash)?));
            }
            Ok::<_, infodemic_store::StoreError>((items, known))
        })
        .await??;
        let mut fresh = Vec::new();
        for (item, (url_stored, content_stored)) in items.into_iter().zip(known) {
            if url_stored || !self.seen_urls.insert(item.canonical_url.clone()) {
                self.summary.items_duplicate += 1;
                continue;
            }
            let same_content = content_stored.or_else(|| self.seen_hashes.get(&item.content_hash).copied());
            let relation = match same_content {
                Some(canonical) => Some((canonical, Relation::SameContent)),
                None => self.near_duplicate_of(&item).await?,
            };
            if let Some((canonical, relation)) = relation {
                self.summary.items_duplicate += 1;
                if matches!(relation, Relation::NearDuplicate { .. }) {
                    self.summary.items_near_duplicate += 1;
                }
                self.summary.appearances += 1;
                self.pending.appearances.push(Appearance {
                    item: canonical,
                    source: item.source.clone(),
                    url: item.url.clone(),
                    seen_at: item.fetched_at,
                    published: item.published,
                    relation,
                });
                continue;
            }
            self.seen_hashes.insert(item.content_hash, item.id);
            if let Some(fingerprint) = item.simhash {
                self.recent.push((fingerprint, item.id));
                self.run_texts.insert(item.id, item.classifier_input());
            }
            fresh.push(item);
        }
        Ok(fresh)
    }

    /// The known item `item` nearly copies: fingerprints within `NEAR_DUPLICATE_BITS`,
    /// confirmed by trigram resemblance (fingerprints of unrelated texts can be close).
    async fn near_duplicate_of(&mut self, item: &Item) -> Result<Option<(ItemId, Relation)>> {
        let Some(fingerprint) = item.simhash else { return Ok(None) };
        let mut candidates: Vec<(u32, ItemId)> = self
            .recent
            .iter()
            .map(|(other, id)| (simhash::distance(fingerprint, *other), *id))
            .filter(|(distance, _)| *distance <= simhash::NEAR_DUPLICATE_BITS)
            .collect();
        candidates.sort_unstable();
        let text = item.classifier_input();
        for (distance, id) in candidates.into_iter().take(5) {
            let other = match self.run_texts.get(&id) {
                Some(other) => other.clone(),
                None => {
                    let store = self.store.clone();
                    let stored = blocking(move || store.get(id)).await??;
                    match stored {
                        Some(scored) => scored.item.classifier_input(),
                        None => continue,
                    }
                }
            };
            if simhash::resemblance(&text, &other) >= simhash::MIN_RESEMBLANCE {
                return Ok(Some((id, Relation::NearDuplicate { distance })));
            }
        }
        Ok(None)
    }

    /// Scores the pending items and commits them with their feeds' states.
    async fn flush(&mut self) -> Result<()> {
        let mut batch = std::mem::take(&mut self.pending);
        if batch.items.is_empty() && batch.states.is_empty() {
            return Ok(());
        }
        if !batch.full_text.is_empty() {
            self.fetch_full_text(&mut batch.items, &batch.full_text).await;
        }
        if !batch.fact_check_pages.is_empty() {
            self.harvest_claims(batch.fact_check_pages).await?;
        }
        let texts: Vec<String> = batch.items.iter().map(Item::classifier_input).collect();
        let classifications = if texts.is_empty() { Vec::new() } else { self.classifier.classify(texts).await? };
        let scored: Vec<ScoredItem> = batch
            .items
            .into_iter()
            .zip(classifications)
            .map(|(item, mut classification)| {
                classification.redecide(self.classifier.policy(), self.categories.get(&item.source).copied());
                if !self.matcher.is_empty() {
                    self.matcher.apply(&item.classifier_input(), &mut classification);
                }
                ScoredItem { item, classification }
            })
            .collect();
        let flagged = scored.iter().filter(|s| s.classification.flagged).count();
        self.summary.items_matching_claims += scored.iter().filter(|s| s.classification.claim_match.is_some()).count();
        let store = self.store.clone();
        let states = batch.states;
        let appearances = batch.appearances;
        let report = blocking(move || store.commit(&scored, &states, &appearances)).await??;
        self.summary.items_new += report.inserted;
        self.summary.items_duplicate += report.duplicates;
        self.summary.items_flagged += flagged;
        self.observer.on_event(&CrawlEvent::BatchCommitted { stored: report.inserted, flagged });
        tracing::info!(message = "Batch committed.", stored = report.inserted, flagged);
        Ok(())
    }
}

/// Fetches pages found in content (articles, fact-checks): hosts in parallel (bounded),
/// each host's pages in turn, so the per-host politeness holds and a host that fails for
/// network reasons is given up for the rest of the batch instead of costing a timeout per page.
async fn fetch_pages(
    fetcher: &Arc<Fetcher>,
    urls: Vec<(usize, Url)>,
    concurrency: usize,
) -> Vec<(usize, Url, Vec<u8>, Option<String>)> {
    let mut by_host: HashMap<String, Vec<(usize, Url)>> = HashMap::new();
    for (index, url) in urls {
        by_host.entry(host_key(&url)).or_default().push((index, url));
    }
    futures::stream::iter(by_host.into_values())
        .map(|pages| {
            let fetcher = Arc::clone(fetcher);
            async move {
                let mut fetched = Vec::new();
                for (index, url) in pages {
                    match fetcher.fetch_discovered(&url).await {
                        Ok(Fetched::Body { bytes, final_url, content_type, .. }) => {
                            fetched.push((index, final_url, bytes, content_type));
                        }
                        Ok(Fetched::NotModified) => {}
                        Err(error) => {
                            tracing::info!(message = "Page not fetched.", %url, %error);
                            if error.is_network() {
                                break;
                            }
                        }
                    }
                }
                fetched
            }
        })
        .buffer_unordered(concurrency)
        .flat_map(futures::stream::iter)
        .collect()
        .await
}

impl Run<'_> {
    /// Replaces the summary of each marked item with the main text of its page, when the page
    /// yields a longer text. A page that cannot be fetched or read leaves the summary.
    async fn fetch_full_text(&mut self, items: &mut [Item], wanted: &HashSet<ItemId>) {
        let fetcher = Arc::clone(&self.fetcher);
        let targets: Vec<(usize, Url)> = items
            .iter()
            .enumerate()
            .filter(|(_, item)| wanted.contains(&item.id))
            .filter_map(|(index, item)| Url::parse(&item.url).ok().map(|url| (index, url)))
            .collect();
        let mut pages = Vec::new();
        // A chunk of pages at a time: their bodies (up to the body cap each) are read and
        // dropped before the next chunk is fetched.
        for chunk in targets.chunks(PAGES_PER_CHUNK) {
            for (index, final_url, bytes, content_type) in fetch_pages(&fetcher, chunk.to_vec(), self.concurrency).await
            {
                let html = String::from_utf8_lossy(&to_utf8(&bytes, content_type.as_deref())).into_owned();
                let text = tokio::task::spawn_blocking(move || article::extract(&html, &final_url).map(|a| a.text))
                    .await
                    .ok()
                    .flatten();
                pages.push((index, text));
            }
        }
        for (index, text) in pages {
            if let Some(text) = text {
                let item = &mut items[index];
                if text.len() > item.text.len() {
                    item.text = infodemic_core::text::collapse_whitespace(&text);
                    self.summary.full_texts += 1;
                }
            }
        }
    }

    /// Fetches fact-checkers' article pages, reads their ClaimReview markup, embeds and
    /// stores the claims not known yet, and adds them to the matcher. A page that cannot be
    /// fetched is skipped: claims are a bonus, not the feed's content.
    async fn harvest_claims(&mut self, pages: Vec<Url>) -> Result<()> {
        let fetcher = Arc::clone(&self.fetcher);
        let targets: Vec<(usize, Url)> = pages.into_iter().enumerate().collect();
        let mut claims: Vec<DebunkedClaim> = Vec::new();
        // A chunk of pages at a time, so that at most that many bodies are held at once.
        for chunk in targets.chunks(PAGES_PER_CHUNK) {
            let bodies: Vec<(Url, Vec<u8>)> = fetch_pages(&fetcher, chunk.to_vec(), self.concurrency)
                .await
                .into_iter()
                .map(|(_, url, bytes, _)| (url, bytes))
                .collect();
            self.summary.claim_pages_fetched += bodies.len();
            claims.extend(
                blocking(move || {
                    bodies
                        .iter()
                        .flat_map(|(url, bytes)| {
                            infodemic_claims::claimreview::extract(&String::from_utf8_lossy(bytes), url)
                        })
                        .collect::<Vec<_>>()
                })
                .await?,
            );
        }
        let store = self.store.clone();
        let fresh: Vec<DebunkedClaim> = blocking(move || {
            let mut fresh = Vec::new();
            for claim in infodemic_core::claim::dedupe(claims) {
                if !store.has_claim(claim.id)? {
                    fresh.push(claim);
                }
            }
            Ok::<_, infodemic_store::StoreError>(fresh)
        })
        .await??;
        if fresh.is_empty() {
            return Ok(());
        }
        let texts: Vec<String> = fresh.iter().map(|c| c.text.clone()).collect();
        let embeddings: Vec<Vec<f32>> =
            self.classifier.classify(texts).await?.into_iter().map(|c| c.embedding).collect();
        let embedded: Vec<(DebunkedClaim, Vec<f32>)> = fresh.into_iter().zip(embeddings).collect();
        let store = self.store.clone();
        let to_store = embedded.clone();
        let model = self.classifier.model().clone();
        self.summary.claims_added += blocking(move || store.put_claims(&to_store, &model)).await??;
        for (claim, embedding) in embedded {
            self.matcher.add(claim, &embedding);
        }
        Ok(())
    }
}

/// Runs `work` on the blocking pool (sled, parsing).
pub(crate) async fn blocking<T, F>(work: F) -> Result<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work).await.map_err(|e| PipelineError::Task(e.to_string()))
}
