//! The accept stage: a deduplicated feed outcome → the feed's new state and next poll, and
//! batches of whole feeds for the stages downstream. Feeds that failed for network reasons are
//! held until every feed is in, then judged together: a failing feed, or a network that is down.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use infodemic_core::polling::{schedule, FailureKind, PollOutcome, PollPolicy};
use infodemic_core::{Appearance, FeedCategory, FeedState, Item, ItemId, SourceId};
use infodemic_crawler::politeness::host_key;
use infodemic_crawler::{FeedFetch, FeedOutcome};
use tokio::sync::mpsc;
use url::Url;

use super::dedupe::DedupedFeed;
use super::{forward, CrawlEvent, CrawlObserver, CrawlOptions, CrawlSummary, FailedFeed, PartialFeed};
use crate::Result;

/// Items waiting to be scored, with the states of the feeds they came from: always whole feeds,
/// so a feed's new state (its ETag) is never committed without its items.
#[derive(Default)]
pub(super) struct Batch {
    /// New items, in feed order.
    pub items: Vec<Item>,
    /// The new states of the feeds in the batch.
    pub states: Vec<FeedState>,
    /// Article pages of fact-checkers' new items, read for ClaimReview markup.
    pub fact_check_pages: Vec<Url>,
    /// Items of feeds configured with `full_text`: their pages are fetched for the main text.
    pub full_text: HashSet<ItemId>,
    /// Copies of known items found in this batch.
    pub appearances: Vec<Appearance>,
}

impl Batch {
    fn is_empty(&self) -> bool {
        self.items.is_empty() && self.states.is_empty()
    }
}

/// A feed that failed for network reasons, judged when the run ends.
struct NetworkFailure {
    state: FeedState,
    at: DateTime<Utc>,
    host: String,
    kind: FailureKind,
}

/// The feeds' states and the batch being filled.
pub(super) struct Acceptor<'a> {
    /// Stored states of the run's feeds, taken as each feed comes in.
    states: HashMap<SourceId, FeedState>,
    policy: PollPolicy,
    commit_batch: usize,
    observer: &'a dyn CrawlObserver,
    /// Hosts that answered in this run.
    hosts_ok: HashSet<String>,
    /// Feeds that failed for network reasons, held until the run ends.
    network_failures: Vec<NetworkFailure>,
    pending: Batch,
    summary: CrawlSummary,
}

impl<'a> Acceptor<'a> {
    /// An acceptor starting from the stored `states`.
    pub(super) fn new(
        states: HashMap<SourceId, FeedState>,
        options: &CrawlOptions,
        observer: &'a dyn CrawlObserver,
    ) -> Self {
        Self {
            states,
            policy: options.policy,
            commit_batch: options.commit_batch,
            observer,
            hosts_ok: HashSet::new(),
            network_failures: Vec::new(),
            pending: Batch::default(),
            summary: CrawlSummary::default(),
        }
    }

    /// Accepts every feed from `input`; hands a batch to `output` whenever it holds
    /// `commit_batch` items or more, and the rest (with the feeds that failed for network
    /// reasons) when `input` ends.
    ///
    /// # Errors
    /// None of its own; the `Result` is the stages' common shape.
    pub(super) async fn run(
        mut self,
        mut input: mpsc::Receiver<DedupedFeed>,
        output: mpsc::Sender<Batch>,
    ) -> Result<CrawlSummary> {
        while let Some(feed) = input.recv().await {
            if output.is_closed() {
                return Ok(self.summary);
            }
            self.accept(feed);
            if self.pending.items.len() >= self.commit_batch
                && !forward(&output, std::mem::take(&mut self.pending)).await
            {
                return Ok(self.summary);
            }
        }
        self.settle_network_failures();
        let last = std::mem::take(&mut self.pending);
        if !last.is_empty() {
            forward(&output, last).await;
        }
        Ok(self.summary)
    }

    /// Records one feed's outcome and queues its new items.
    fn accept(&mut self, feed: DedupedFeed) {
        let DedupedFeed { outcome, reading, fresh, appearances } = feed;
        let FeedOutcome { spec, fetched_at, elapsed, unconditional, result, .. } = outcome;
        let mut state =
            self.states.remove(&spec.id).unwrap_or_else(|| FeedState::new(spec.id.clone(), spec.url.to_string()));
        state.url = spec.url.to_string();
        state.category = Some(spec.category);
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
                        let seen = reading.items + normalized.duplicates_in_feed;
                        self.summary.items_seen += seen;
                        self.summary.items_duplicate += normalized.duplicates_in_feed;
                        self.summary.entries_skipped += normalized.skipped;
                        let dropped = reading.dropped;
                        state.last_entries = u32::try_from(normalized.entries_in_document).unwrap_or(u32::MAX);
                        state.last_entries_dropped = u32::try_from(dropped).unwrap_or(u32::MAX);
                        if dropped + normalized.duplicates_in_feed > 0 {
                            self.summary.feeds_partial.push(PartialFeed {
                                source: spec.id.to_string(),
                                entries: normalized.entries_in_document,
                                items: reading.items,
                                dropped,
                                repeated_links: normalized.duplicates_in_feed,
                            });
                        }
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
                        self.pending.appearances.extend(appearances);
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
                    self.network_failures.push(NetworkFailure {
                        state,
                        at: fetched_at,
                        host: host_key(&spec.url),
                        kind: feed_error.failure_kind(),
                    });
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
                self.observer.on_event(&CrawlEvent::FeedDone { source: spec.id.clone(), new_items, error, elapsed });
                return;
            }
        }
        self.observer.on_event(&CrawlEvent::FeedDone { source: spec.id.clone(), new_items, error, elapsed });
        self.pending.states.push(state);
    }

    /// Settles the feeds that failed for network reasons. When no host answered and at least
    /// two hosts failed that way, the network is down: nothing is counted against the feeds,
    /// they are simply due again soon. Otherwise they are ordinary soft failures.
    fn settle_network_failures(&mut self) {
        let failures = std::mem::take(&mut self.network_failures);
        let hosts: HashSet<&String> = failures.iter().map(|failure| &failure.host).collect();
        let outage = self.hosts_ok.is_empty() && hosts.len() >= 2;
        if outage {
            self.summary.network_down = true;
            tracing::warn!(
                message = "Every host failed at once: the network looks down; feeds are not penalised.",
                hosts = hosts.len()
            );
        }
        for NetworkFailure { mut state, at, kind, .. } in failures {
            if outage {
                schedule(&mut state, PollOutcome::NetworkDown, at, None, &self.policy);
            } else {
                state.consecutive_failures += 1;
                schedule(&mut state, PollOutcome::Failed(kind), at, None, &self.policy);
            }
            self.pending.states.push(state);
        }
    }
}
