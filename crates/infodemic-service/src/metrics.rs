//! `/metrics`: what a running `watch` did and what its store holds, for Prometheus.
//!
//! # Architecture
//! The service knows core and store, not the pipeline, so [`Metrics`] has plain `record_*`
//! methods and `watch` (in the CLI) forwards the crawl's events to them. Counters and
//! histograms live as long as the process (Prometheus handles the reset at a restart). The
//! store's gauges are read at each scrape from what the store keeps counted (item counters,
//! feed states, the campaign counters: no scan of items or campaigns), into a registry made for
//! that scrape, so two scrapes never see each other's half-set gauges.
//!
//! The answer is OpenMetrics when the scraper accepts it (Prometheus does), else the Prometheus
//! text format 0.0.4 (curl, older tools).

use std::collections::HashSet;
use std::time::Duration;

use infodemic_store::StoreError;
use prometheus_client::encoding::{prometheus_text, text};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// The content type of an OpenMetrics 1.0 text answer.
pub(crate) const OPENMETRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// One label and its value (`outcome="ok"`, `health="failing"`).
type Label = [(&'static str, &'static str); 1];

/// A fetch that gave a feed (or "not modified").
const FETCH_OK: Label = [("outcome", "ok")];
/// A fetch that failed.
const FETCH_FAILED: Label = [("outcome", "failed")];

/// Upper bounds of the fetch-time buckets, seconds: a fetch of a local file takes
/// milliseconds, a slow server up to the timeout (30 s by default).
const FETCH_BUCKETS: [f64; 11] = [0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
/// Upper bounds of the inference-time buckets, seconds: a batch of 64 items takes from tens of
/// milliseconds (short texts) to minutes (long texts scored by windows on few cores).
const INFERENCE_BUCKETS: [f64; 12] = [0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0];

fn fetch_histogram() -> Histogram {
    Histogram::new(FETCH_BUCKETS)
}

/// Reads a queue's depth at scrape time.
type DepthProbe = Box<dyn Fn() -> usize + Send + Sync>;

/// The queues whose depth is read at each scrape.
#[derive(Default)]
struct Probes(std::sync::Mutex<Vec<(&'static str, DepthProbe)>>);

impl std::fmt::Debug for Probes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let probes = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f.debug_list().entries(probes.iter().map(|(name, _)| name)).finish()
    }
}

/// The queue of a cycle's feeds not polled yet.
const FEEDS_QUEUE: Label = [("queue", "feeds")];

/// What a `watch` did since it started: counters and histograms fed by its crawl events.
/// Shared (`Arc`) by the crawl's observer and the service; every method takes `&self`.
#[derive(Debug)]
pub struct Metrics {
    queue_depth: Family<Label, Gauge>,
    probes: Probes,
    registry: Registry,
    feed_fetch_duration: Family<Label, Histogram>,
    items_stored: Counter,
    items_flagged: Counter,
    inference_duration: Histogram,
    items_in_campaigns: Counter,
    campaigns_opened: Counter,
    alerts: Counter,
    cycles: Counter,
    failed_cycles: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every metric at zero.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let feed_fetch_duration =
            Family::<Label, Histogram>::new_with_constructor(fetch_histogram as fn() -> Histogram);
        // Both outcomes exist from the start, so a rate over them is defined before the first
        // failure.
        let _ = feed_fetch_duration.get_or_create(&FETCH_OK);
        let _ = feed_fetch_duration.get_or_create(&FETCH_FAILED);
        registry.register_with_unit(
            "infodemic_feed_fetch_duration",
            "Time to fetch, parse and normalise one feed, by outcome",
            Unit::Seconds,
            feed_fetch_duration.clone(),
        );
        let inference_duration = Histogram::new(INFERENCE_BUCKETS);
        registry.register_with_unit(
            "infodemic_inference_duration",
            "Time the classifier took to answer for one batch of new items, its queue included",
            Unit::Seconds,
            inference_duration.clone(),
        );
        let queue_depth = Family::<Label, Gauge>::default();
        let _ = queue_depth.get_or_create(&FEEDS_QUEUE);
        registry.register(
            "infodemic_queue_depth",
            "Work waiting, by queue: feeds of the running cycle not polled yet (feeds), batches waiting for \
             the inference thread (classifier), crawls other commands asked of the watch (crawl_requests), \
             and between the crawl's stages: fetched feeds (crawl_fetched), deduplicated feeds \
             (crawl_deduped), batches for article text (crawl_batched), for the classifier \
             (crawl_enriched), for the store (crawl_scored)",
            queue_depth.clone(),
        );
        let counter = |registry: &mut Registry, name: &str, help: &str| {
            let counter = Counter::default();
            registry.register(name, help, counter.clone());
            counter
        };
        Self {
            items_stored: counter(&mut registry, "infodemic_items_stored", "New items committed to the store"),
            items_flagged: counter(&mut registry, "infodemic_items_flagged", "New items the model flagged"),
            items_in_campaigns: counter(
                &mut registry,
                "infodemic_campaign_items",
                "Committed items assigned to a campaign",
            ),
            campaigns_opened: counter(&mut registry, "infodemic_campaigns_opened", "Campaigns opened"),
            alerts: counter(&mut registry, "infodemic_alerts", "Campaign surge alerts raised"),
            cycles: counter(&mut registry, "infodemic_watch_cycles", "Watch cycles that finished"),
            failed_cycles: counter(
                &mut registry,
                "infodemic_watch_failed_cycles",
                "Watch cycles that failed (store or classifier) and were retried",
            ),
            registry,
            feed_fetch_duration,
            inference_duration,
            queue_depth,
            probes: Probes::default(),
        }
    }

    /// Reports the depth of `queue` at every scrape, as `probe` reads it.
    pub fn watch_queue(&self, queue: &'static str, probe: impl Fn() -> usize + Send + Sync + 'static) {
        let _ = self.queue_depth.get_or_create(&[("queue", queue)]);
        self.probes.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((queue, Box::new(probe)));
    }

    /// A cycle started with `feeds` to poll.
    pub fn record_cycle_started(&self, feeds: usize) {
        self.queue_depth.get_or_create(&FEEDS_QUEUE).set(gauge_value(count(feeds)));
    }

    /// One feed was fetched and parsed (`failed`: it was not) in `elapsed`.
    pub fn record_feed_done(&self, elapsed: Duration, failed: bool) {
        let outcome = if failed { &FETCH_FAILED } else { &FETCH_OK };
        self.feed_fetch_duration.get_or_create(outcome).observe(elapsed.as_secs_f64());
        let waiting = self.queue_depth.get_or_create(&FEEDS_QUEUE);
        if waiting.get() > 0 {
            waiting.dec();
        }
    }

    /// A batch was committed: `stored` new items, `flagged` of them flagged; the classifier
    /// took `scoring` over it (`None`: the batch held only feed states, nothing was scored).
    pub fn record_batch_committed(&self, stored: usize, flagged: usize, scoring: Option<Duration>) {
        self.items_stored.inc_by(count(stored));
        self.items_flagged.inc_by(count(flagged));
        if let Some(scoring) = scoring {
            self.inference_duration.observe(scoring.as_secs_f64());
        }
    }

    /// A committed batch went through the campaign stage.
    pub fn record_campaigns_assigned(&self, items: usize, opened: usize, alerts: usize) {
        self.items_in_campaigns.inc_by(count(items));
        self.campaigns_opened.inc_by(count(opened));
        self.alerts.inc_by(count(alerts));
    }

    /// A watch cycle finished.
    pub fn record_cycle_finished(&self) {
        self.cycles.inc();
        self.queue_depth.get_or_create(&FEEDS_QUEUE).set(0);
    }

    /// A watch cycle failed; it is retried.
    pub fn record_cycle_failed(&self) {
        self.failed_cycles.inc();
        self.queue_depth.get_or_create(&FEEDS_QUEUE).set(0);
    }

    /// The exposition: these metrics, then the store's gauges, in `format`.
    pub(crate) fn encode(&self, store: &StoreSnapshot, format: Format) -> Result<String, std::fmt::Error> {
        for (queue, probe) in self.probes.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).iter() {
            self.queue_depth.get_or_create(&[("queue", queue)]).set(gauge_value(count(probe())));
        }
        let gauges = store.registry();
        let mut out = String::new();
        match format {
            Format::OpenMetrics => {
                text::encode_registry(&mut out, &self.registry)?;
                text::encode_registry(&mut out, &gauges)?;
                text::encode_eof(&mut out)?;
            }
            Format::Text => {
                prometheus_text::encode(&mut out, &self.registry)?;
                prometheus_text::encode(&mut out, &gauges)?;
            }
        }
        Ok(out)
    }
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Which text format a scraper gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// OpenMetrics 1.0 (`application/openmetrics-text`).
    OpenMetrics,
    /// The Prometheus text format 0.0.4 (`text/plain`).
    Text,
}

impl Format {
    /// OpenMetrics when `Accept` names it (Prometheus asks for it first), the older text
    /// format otherwise.
    pub(crate) fn negotiate(accept: Option<&str>) -> Self {
        if accept.is_some_and(|accept| accept.contains("application/openmetrics-text")) {
            Self::OpenMetrics
        } else {
            Self::Text
        }
    }

    /// The answer's `Content-Type`.
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Self::OpenMetrics => OPENMETRICS_CONTENT_TYPE,
            Self::Text => prometheus_text::CONTENT_TYPE,
        }
    }
}

/// The store's numbers at a scrape, read from what it keeps counted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct StoreSnapshot {
    /// Feeds whose last poll succeeded.
    pub feeds_ok: u64,
    /// Feeds whose last poll failed.
    pub feeds_failing: u64,
    /// Feed states that cannot be read (the feed is polled as new).
    pub feeds_unreadable: u64,
    /// Subscribed feeds without a state yet.
    pub feeds_never_polled: u64,
    /// Items stored.
    pub items: u64,
    /// Of which flagged.
    pub items_flagged: u64,
    /// Debunked claims known for matching.
    pub claims: u64,
    /// Campaigns stored, merged ones included (ids are never reused).
    pub campaigns: u64,
    /// Alerts stored.
    pub alerts: u64,
}

impl StoreSnapshot {
    /// Reads the numbers: counters and feed states (a few hundred records), never items or
    /// campaigns one by one.
    ///
    /// # Errors
    /// Storage failures.
    pub(crate) fn read(store: &dyn crate::ServedStore) -> Result<Self, StoreError> {
        let stats = store.stats()?;
        let (states, unreadable) = store.readable_feed_states()?;
        let failing = states.iter().filter(|state| state.last_error.is_some()).count();
        let known: HashSet<_> = states.iter().map(|state| &state.source).collect();
        let never_polled = store.subscriptions()?.iter().filter(|spec| !known.contains(&spec.id)).count();
        // The next id to mint, less one: campaigns and alerts are never deleted.
        let counters = store.campaign_counters()?;
        Ok(Self {
            feeds_ok: count(states.len() - failing),
            feeds_failing: count(failing),
            feeds_unreadable: count(unreadable.len()),
            feeds_never_polled: count(never_polled),
            items: stats.total.items,
            items_flagged: stats.total.flagged,
            claims: stats.claims,
            campaigns: counters.next_id.saturating_sub(1),
            alerts: counters.next_alert.saturating_sub(1),
        })
    }

    /// The numbers as gauges, in a registry of their own.
    fn registry(&self) -> Registry {
        let mut registry = Registry::default();
        let feeds = Family::<Label, Gauge>::default();
        for (health, n) in [
            ("ok", self.feeds_ok),
            ("failing", self.feeds_failing),
            ("unreadable", self.feeds_unreadable),
            ("never_polled", self.feeds_never_polled),
        ] {
            feeds.get_or_create(&[("health", health)]).set(gauge_value(n));
        }
        registry.register("infodemic_feeds", "Feeds by the outcome of their last poll", feeds);
        for (name, help, n) in [
            ("infodemic_store_items", "Items in the store", self.items),
            ("infodemic_store_items_flagged", "Items in the store that are flagged", self.items_flagged),
            ("infodemic_store_claims", "Debunked claims known for matching", self.claims),
            ("infodemic_store_campaigns", "Campaigns in the store, merged ones included", self.campaigns),
            ("infodemic_store_alerts", "Campaign surge alerts in the store", self.alerts),
        ] {
            let gauge = Gauge::<i64>::default();
            gauge.set(gauge_value(n));
            registry.register(name, help, gauge);
        }
        registry
    }
}

fn gauge_value(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_asks_for_openmetrics_and_curl_gets_text() {
        let prometheus = "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.1";
        assert_eq!(Format::negotiate(Some(prometheus)), Format::OpenMetrics);
        assert_eq!(Format::negotiate(Some("*/*")), Format::Text);
        assert_eq!(Format::negotiate(None), Format::Text);
    }

    #[test]
    fn both_formats_hold_every_family_and_openmetrics_ends_with_eof() {
        let metrics = Metrics::new();
        metrics.record_feed_done(Duration::from_millis(30), false);
        let snapshot = StoreSnapshot { items: 3, ..StoreSnapshot::default() };
        let open = metrics.encode(&snapshot, Format::OpenMetrics).unwrap_or_default();
        assert!(open.ends_with("# EOF\n"), "{open}");
        assert_eq!(open.matches("# EOF").count(), 1, "one EOF for both registries: {open}");
        assert!(open.contains("infodemic_store_items 3\n"), "{open}");
        let plain = metrics.encode(&snapshot, Format::Text).unwrap_or_default();
        assert!(!plain.contains("# EOF"), "{plain}");
        assert!(plain.contains("infodemic_feed_fetch_duration_seconds_count{outcome=\"ok\"} 1\n"), "{plain}");
    }

    #[test]
    fn queue_depths_are_read_at_each_scrape() {
        let metrics = Metrics::new();
        let depth = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(3));
        let probe = std::sync::Arc::clone(&depth);
        metrics.watch_queue("classifier", move || probe.load(std::sync::atomic::Ordering::Relaxed));
        metrics.record_cycle_started(5);
        metrics.record_feed_done(Duration::from_millis(30), false);
        let first = metrics.encode(&StoreSnapshot::default(), Format::Text).unwrap_or_default();
        assert!(first.contains("infodemic_queue_depth{queue=\"classifier\"} 3\n"), "{first}");
        assert!(first.contains("infodemic_queue_depth{queue=\"feeds\"} 4\n"), "{first}");
        depth.store(1, std::sync::atomic::Ordering::Relaxed);
        metrics.record_cycle_finished();
        let second = metrics.encode(&StoreSnapshot::default(), Format::Text).unwrap_or_default();
        assert!(second.contains("infodemic_queue_depth{queue=\"classifier\"} 1\n"), "{second}");
        assert!(second.contains("infodemic_queue_depth{queue=\"feeds\"} 0\n"), "{second}");
    }
}
