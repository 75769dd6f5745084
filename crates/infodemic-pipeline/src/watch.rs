//! `watch`: the long-running scheduler. Each subscribed feed is polled on its own schedule
//! (see `infodemic_core::polling`); due feeds are crawled together as one run, then the
//! scheduler sleeps until the next feed is due, or until cancelled.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use infodemic_classifier::ClassifierHandle;
use infodemic_core::{FeedSpec, FeedState, SourceId};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::crawl::{run_crawl, CrawlEvent, CrawlObserver, CrawlOptions, ScoringStore};
use crate::{PipelineError, Result};

/// Knobs of the scheduler.
#[derive(Clone, Debug)]
pub struct WatchOptions {
    /// How each cycle crawls.
    pub crawl: CrawlOptions,
    /// Longest sleep between looks at the schedule, so new subscriptions are picked up.
    pub recheck: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        Self { crawl: CrawlOptions::default(), recheck: Duration::from_secs(60) }
    }
}

/// Totals of a watch session.
#[derive(Clone, Debug, Default, Serialize)]
pub struct WatchSummary {
    /// Crawl cycles run.
    pub cycles: usize,
    /// Feed polls.
    pub polls: usize,
    /// Items stored.
    pub items_new: usize,
    /// Of which flagged.
    pub items_flagged: usize,
    /// Cycles in which the network looked down.
    pub network_down_cycles: usize,
    /// Cycles that failed (store or classifier errors) and were retried.
    pub failed_cycles: usize,
}

/// The subscribed feeds due at `now`: never polled, or past their next poll.
pub fn due_feeds(
    subscriptions: Vec<FeedSpec>,
    states: &HashMap<SourceId, FeedState>,
    now: DateTime<Utc>,
) -> Vec<FeedSpec> {
    subscriptions
        .into_iter()
        .filter(|spec| states.get(&spec.id).and_then(|s| s.next_poll).is_none_or(|next| next <= now))
        .collect()
}

/// A crawl another command asked of a running watch: run between the watch's own cycles, so
/// that one crawl at a time assigns campaigns.
#[derive(Debug)]
pub struct CrawlJob {
    /// The feeds.
    pub feeds: Vec<FeedSpec>,
    /// How to crawl them (the watch's options with the command's fetch settings).
    pub options: CrawlOptions,
    /// Score new items (false: store them unscored).
    pub score: bool,
    /// Where the summary goes.
    pub reply: tokio::sync::oneshot::Sender<Result<crate::CrawlSummary>>,
}

/// Polls subscribed feeds until `cancel` fires. A cycle in progress when it fires commits
/// what it fetched (see [`run_crawl`]) before this returns. The store is the embedded one or
/// PostgreSQL (whose campaign lock the caller must hold: each cycle assigns campaigns).
///
/// # Errors
/// Store or classifier failures.
pub async fn watch<S: ScoringStore + Clone + 'static>(
    store: &S,
    classifier: &ClassifierHandle,
    options: &WatchOptions,
    observer: &dyn CrawlObserver,
    cancel: CancellationToken,
) -> Result<WatchSummary> {
    watch_with_jobs(store, classifier, options, observer, cancel, None).await
}

/// [`watch`], also running the [`CrawlJob`]s that arrive on `jobs` between its cycles.
///
/// # Errors
/// Store or classifier failures.
pub async fn watch_with_jobs<S: ScoringStore + Clone + 'static>(
    store: &S,
    classifier: &ClassifierHandle,
    options: &WatchOptions,
    observer: &dyn CrawlObserver,
    cancel: CancellationToken,
    mut jobs: Option<tokio::sync::mpsc::Receiver<CrawlJob>>,
) -> Result<WatchSummary> {
    let mut summary = WatchSummary::default();
    // One robots.txt cache for every cycle: a host's robots.txt is fetched once a day, not
    // once a cycle.
    let mut crawl_options = options.crawl.clone();
    if crawl_options.fetch.robots_cache.is_none() {
        let ttl = crawl_options.fetch.robots_ttl;
        crawl_options.fetch.robots_cache =
            Some(std::sync::Arc::new(infodemic_crawler::politeness::RobotsCache::new(ttl)));
    }
    let mut failures = 0u32;
    while !cancel.is_cancelled() {
        let pause = match cycle(store, classifier, &crawl_options, options, observer, &cancel, &mut summary).await {
            Ok(None) => break,
            Ok(Some(sleep)) => {
                failures = 0;
                sleep
            }
            // A store or classifier failure (a full disk, a record that does not decode) is
            // reported and retried, with a growing pause, instead of ending the service.
            Err(error) => {
                failures += 1;
                summary.failed_cycles += 1;
                let pause = options.recheck.saturating_mul(2u32.saturating_pow(failures.min(6))).min(MAX_FAILURE_PAUSE);
                tracing::error!(message = "Poll cycle failed; retrying.", %error, failures, retry_in_secs = pause.as_secs());
                observer.on_event(&CrawlEvent::CycleFailed { error: error.to_string() });
                pause
            }
        };
        let job = async {
            match jobs.as_mut() {
                Some(receiver) => receiver.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = cancel.cancelled() => break,
            () = tokio::time::sleep(pause) => {}
            job = job => match job {
                Some(job) => {
                    let mut job_options = job.options;
                    job_options.fetch.robots_cache.clone_from(&crawl_options.fetch.robots_cache);
                    let crawled = if job.score {
                        run_crawl(job.feeds, store, classifier, &job_options, observer, cancel.clone()).await
                    } else {
                        crate::run_crawl_unscored(job.feeds, store, &job_options, observer, cancel.clone()).await
                    };
                    // The asker may have gone (its request timed out): the crawl is stored all the same.
                    let _ = job.reply.send(crawled);
                }
                // Nobody can ask any more: sleep as before.
                None => jobs = None,
            },
        }
    }
    Ok(summary)
}

/// The longest pause after failed cycles.
const MAX_FAILURE_PAUSE: Duration = Duration::from_secs(600);

/// One look at the schedule: crawls the feeds due, then says how long to sleep (`None` when
/// the watch was cancelled during the crawl).
async fn cycle<S: ScoringStore + Clone + 'static>(
    store: &S,
    classifier: &ClassifierHandle,
    crawl_options: &CrawlOptions,
    options: &WatchOptions,
    observer: &dyn CrawlObserver,
    cancel: &CancellationToken,
    summary: &mut WatchSummary,
) -> Result<Option<Duration>> {
    let (subscriptions, states) = load(store).await?;
    if subscriptions.is_empty() {
        tracing::warn!(message = "No subscribed feeds; waiting for `infodemic feeds add`.");
    }
    let due = due_feeds(subscriptions.clone(), &states, Utc::now());
    if !due.is_empty() {
        // Each cycle assigns campaigns; each crawl loads the grouping state afresh, so a lock
        // taken again starts from what the store holds.
        crate::campaigns::claim_campaign_writer(store, "this watch").await?;
        tracing::info!(message = "Poll cycle started.", due = due.len(), subscribed = subscriptions.len());
        let cycle = run_crawl(due, store, classifier, crawl_options, observer, cancel.clone()).await?;
        summary.cycles += 1;
        summary.polls += cycle.feeds_total - cycle.feeds_skipped;
        summary.items_new += cycle.items_new;
        summary.items_flagged += cycle.items_flagged;
        summary.network_down_cycles += usize::from(cycle.network_down);
        tracing::info!(
            message = "Poll cycle finished.",
            feeds_ok = cycle.feeds_ok,
            not_modified = cycle.feeds_not_modified,
            failed = cycle.feeds_failed.len(),
            items_new = cycle.items_new,
            flagged = cycle.items_flagged,
            in_campaigns = cycle.items_in_campaigns,
            alerts = cycle.alerts.len(),
            network_down = cycle.network_down,
            seconds = cycle.elapsed_secs
        );
        observer.on_event(&CrawlEvent::CycleFinished(Box::new(cycle)));
        if cancel.is_cancelled() {
            return Ok(None);
        }
    }
    let (subscriptions, states) = load(store).await?;
    let now = Utc::now();
    let next_due = subscriptions.iter().filter_map(|s| states.get(&s.id).and_then(|st| st.next_poll)).min();
    let recheck = chrono::Duration::from_std(options.recheck).unwrap_or(chrono::Duration::minutes(1));
    // At least a second between looks, unless the recheck interval is shorter (clamp needs its
    // floor under its ceiling).
    let floor = chrono::Duration::seconds(1).min(recheck);
    let wake = next_due.unwrap_or(now).clamp(now + floor, now + recheck);
    observer.on_event(&CrawlEvent::Idle { until: wake });
    Ok(Some((wake - now).to_std().unwrap_or(Duration::from_secs(1))))
}

async fn load<S: ScoringStore + Clone + 'static>(store: &S) -> Result<(Vec<FeedSpec>, HashMap<SourceId, FeedState>)> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || {
        let subscriptions = store.subscriptions()?;
        let states = crate::crawl::readable_feed_states(&store)?.into_iter().map(|s| (s.source.clone(), s)).collect();
        Ok::<_, PipelineError>((subscriptions, states))
    })
    .await
    .map_err(|e| PipelineError::Task(e.to_string()))?
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use url::Url;

    use super::*;

    #[test]
    fn only_new_and_overdue_feeds_are_due() {
        let now = Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap();
        let spec = |name: &str| FeedSpec::from_url(Url::parse(&format!("https://e.org/{name}")).unwrap());
        let (new, overdue, later) = (spec("new"), spec("overdue"), spec("later"));
        let mut states = HashMap::new();
        for (feed, next) in
            [(&overdue, now - chrono::Duration::minutes(1)), (&later, now + chrono::Duration::minutes(1))]
        {
            let mut state = FeedState::new(feed.id.clone(), feed.url.to_string());
            state.next_poll = Some(next);
            states.insert(feed.id.clone(), state);
        }
        let due: Vec<String> =
            due_feeds(vec![new, overdue, later], &states, now).into_iter().map(|s| s.url.to_string()).collect();
        assert_eq!(due, ["https://e.org/new", "https://e.org/overdue"]);
    }
}
