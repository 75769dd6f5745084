//! `/metrics` read by the Prometheus project's own parsers (the Python `prometheus_client`
//! from `.pyref/`, which shares no code with the Rust encoder): OpenMetrics for a scraper that
//! asks for it, the 0.0.4 text format otherwise. Both must give the same families, types,
//! labels and values: the recorded crawl events and the store's counts.
//!
//! Needs `bash scripts/setup.sh --python-reference` (the README's test command runs it);
//! without Python or the package the test fails and says so.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is the failure report.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use infodemic_core::{
    CampaignCounters, Classification, ContentHash, FeedSpec, FeedState, Item, ItemId, ModelRef, ScoredItem, SourceId,
};
use infodemic_service::{serve, Metrics, ServeOptions};
use infodemic_store::{CampaignCommit, SledStore};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

const SETUP: &str = "run `bash scripts/setup.sh --python-reference`";

/// Parses stdin with the parser named by argv[1] and prints every family as ASCII JSON:
/// `{name: {"type": ..., "samples": [[name, labels, value], ...]}}`. Values become floats, `le`
/// bounds are normalised and samples sorted, since the two formats may spell `1` and `1.0`
/// differently and put a histogram's sum before or after its buckets.
const PARSE: &str = r#"
import json, sys
try:
    from prometheus_client.parser import text_string_to_metric_families as text_parser
    from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_parser
except ImportError as error:
    print(f"{error}: run `bash scripts/setup.sh --python-reference`", file=sys.stderr)
    sys.exit(3)

parse = {"openmetrics": openmetrics_parser, "text": text_parser}[sys.argv[1]]
families = {}
for family in parse(sys.stdin.read()):
    samples = []
    for sample in family.samples:
        labels = dict(sample.labels)
        if "le" in labels:
            labels["le"] = repr(float(labels["le"]))
        samples.append([sample.name, labels, float(sample.value)])
    samples.sort(key=lambda sample: (sample[0], sorted(sample[1].items())))
    if family.name in families:
        sys.exit(f"family {family.name} twice")
    families[family.name] = {"type": family.type, "samples": samples}
print(json.dumps(families, sort_keys=True))
"#;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// What `prometheus_client`'s `parser` (`text`) or `openmetrics.parser` read from `body`.
fn parse(parser: &str, body: &str) -> Value {
    let pyref = workspace().join(".pyref");
    assert!(pyref.join("prometheus_client").is_dir(), "no prometheus_client in {}: {SETUP}", pyref.display());
    let python = std::env::var("INFODEMIC_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let mut child = Command::new(&python)
        .arg("-c")
        .arg(PARSE)
        .arg(parser)
        .env("PYTHONPATH", &pyref)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {python} to parse /metrics: {e} ({SETUP})"));
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), body.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "prometheus_client's {parser} parser refused /metrics ({SETUP} if it is missing):\n{}\n--- body:\n{body}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The value of the sample `name` with exactly `labels` in `family`.
fn sample(families: &Value, family: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    let samples = families[family]["samples"].as_array().unwrap_or_else(|| panic!("no family {family}: {families}"));
    let wanted: serde_json::Map<String, Value> =
        labels.iter().map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned()))).collect();
    let found: Vec<f64> = samples
        .iter()
        .filter(|s| s[0] == name && s[1].as_object() == Some(&wanted))
        .map(|s| s[2].as_f64().unwrap())
        .collect();
    assert_eq!(found.len(), 1, "one sample {name}{labels:?} in {family}: {}", families[family]);
    found[0]
}

/// Bucket counts of a histogram series, by upper bound (as the parser wrote it), lowest first.
fn buckets(families: &Value, family: &str, outcome: Option<&str>) -> Vec<(String, f64)> {
    let mut series: Vec<(String, f64)> = families[family]["samples"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s[0].as_str().unwrap().ends_with("_bucket"))
        .filter(|s| outcome.is_none_or(|o| s[1]["outcome"] == o))
        .map(|s| (s[1]["le"].as_str().unwrap().to_owned(), s[2].as_f64().unwrap()))
        .collect();
    series.sort_by(|a, b| a.0.parse::<f64>().unwrap().total_cmp(&b.0.parse::<f64>().unwrap()));
    series
}

fn item(url: &str, flagged: bool) -> ScoredItem {
    let at = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
    ScoredItem {
        item: Item {
            id: ItemId::from_canonical_url(url),
            url: url.to_owned(),
            canonical_url: url.to_owned(),
            title: format!("title of {url}"),
            text: "A claim.".to_owned(),
            published: Some(at),
            fetched_at: at,
            author: None,
            source: SourceId::new("s").unwrap(),
            language: Some("en".to_owned()),
            content_hash: ContentHash::of(url, "x"),
            links: Vec::new(),
            simhash: None,
        },
        classification: Classification {
            score: if flagged { 0.9 } else { 0.1 },
            flagged,
            review: flagged,
            embedding: vec![1.0],
            model: ModelRef { id: "m".to_owned(), version: "1".to_owned() },
            language: Some("en".to_owned()),
            language_supported: true,
            evidence: Vec::new(),
            claim_match: None,
            claim: None,
            refute: None,
            reasons: Vec::new(),
        },
    }
}

/// A store with two items (one flagged), three subscribed feeds (one fine, one failing, one
/// never polled) and two campaigns that raised one alert.
fn populate(store: &SledStore) {
    let specs: Vec<FeedSpec> = ["ok", "failing", "new"]
        .iter()
        .map(|name| FeedSpec::from_url(url::Url::parse(&format!("http://127.0.0.1:9/{name}.xml")).unwrap()))
        .collect();
    for spec in &specs {
        assert!(store.put_subscription(spec).unwrap());
    }
    let mut fine = FeedState::new(specs[0].id.clone(), specs[0].url.to_string());
    fine.last_success = Some(Utc::now());
    let mut failing = FeedState::new(specs[1].id.clone(), specs[1].url.to_string());
    failing.last_error = Some("timeout".to_owned());
    store.commit(&[item("https://e.org/a", true), item("https://e.org/b", false)], &[fine, failing], &[]).unwrap();
    store
        .commit_campaigns(&CampaignCommit {
            counters: CampaignCounters { docs: 2, next_id: 3, next_alert: 2 },
            ..CampaignCommit::default()
        })
        .unwrap();
}

/// What a watch would have recorded: three feeds, two batches, one campaign stage, three cycles.
fn record(metrics: &Metrics) {
    metrics.record_feed_done(Duration::from_millis(20), false);
    metrics.record_feed_done(Duration::from_millis(300), false);
    metrics.record_feed_done(Duration::from_secs(12), true);
    metrics.record_batch_committed(2, 1, Some(Duration::from_millis(400)));
    // A batch of feed states only: nothing scored, no inference time.
    metrics.record_batch_committed(0, 0, None);
    metrics.record_campaigns_assigned(1, 1, 1);
    metrics.record_cycle_finished();
    metrics.record_cycle_finished();
    metrics.record_cycle_failed();
}

/// `(status, content type, body)` of `GET /metrics`.
fn scrape(base: &str, token: Option<&str>, accept: Option<&str>) -> (u16, String, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut request = agent.get(format!("{base}/metrics"));
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    if let Some(accept) = accept {
        request = request.header("Accept", accept);
    }
    let mut response = request.call().unwrap();
    let content_type =
        response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (response.status().as_u16(), content_type, response.body_mut().read_to_string().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_parsers_read_the_recorded_events_and_the_store_counts() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = SledStore::open(&dir.path().join("store")).unwrap();
    populate(&store);
    let metrics = Arc::new(Metrics::new());
    record(&metrics);
    let cancel = CancellationToken::new();
    let options = ServeOptions { metrics: Arc::clone(&metrics), ..ServeOptions::default() };
    let handle = serve(store, dir.path(), cancel.clone(), options).await.unwrap();
    let base = format!("http://{}", handle.info.address);
    let token = handle.info.token.clone();

    tokio::task::spawn_blocking(move || {
        // Without the token (or with another), nothing.
        assert_eq!(scrape(&base, None, None).0, 401);
        assert_eq!(scrape(&base, Some("0123"), None).0, 401);

        // What Prometheus sends: OpenMetrics first.
        let prometheus_accept =
            "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.1";
        let (status, content_type, openmetrics_body) = scrape(&base, Some(&token), Some(prometheus_accept));
        assert_eq!(status, 200);
        assert_eq!(content_type, "application/openmetrics-text; version=1.0.0; charset=utf-8");
        let openmetrics = parse("openmetrics", &openmetrics_body);
        // curl and older scrapers: the 0.0.4 text format.
        let (status, content_type, text_body) = scrape(&base, Some(&token), None);
        assert_eq!(status, 200);
        assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
        let text = parse("text", &text_body);
        assert_eq!(openmetrics, text, "both formats say the same\n{openmetrics_body}\n{text_body}");

        let families = openmetrics;
        let types: Vec<(String, String)> = families
            .as_object()
            .unwrap()
            .iter()
            .map(|(name, family)| (name.clone(), family["type"].as_str().unwrap().to_owned()))
            .collect();
        let expected: Vec<(String, String)> = [
            ("infodemic_alerts", "counter"),
            ("infodemic_campaign_items", "counter"),
            ("infodemic_campaigns_opened", "counter"),
            ("infodemic_feed_fetch_duration_seconds", "histogram"),
            ("infodemic_feeds", "gauge"),
            ("infodemic_inference_duration_seconds", "histogram"),
            ("infodemic_items_flagged", "counter"),
            ("infodemic_items_stored", "counter"),
            ("infodemic_queue_depth", "gauge"),
            ("infodemic_store_alerts", "gauge"),
            ("infodemic_store_campaigns", "gauge"),
            ("infodemic_store_claims", "gauge"),
            ("infodemic_store_items", "gauge"),
            ("infodemic_store_items_flagged", "gauge"),
            ("infodemic_watch_cycles", "counter"),
            ("infodemic_watch_failed_cycles", "counter"),
        ]
        .iter()
        .map(|(name, kind)| ((*name).to_owned(), (*kind).to_owned()))
        .collect();
        assert_eq!(types, expected);

        // Counters: what was recorded.
        let counter = |family: &str| sample(&families, family, &format!("{family}_total"), &[]);
        assert_eq!(counter("infodemic_items_stored"), 2.0);
        assert_eq!(counter("infodemic_items_flagged"), 1.0);
        assert_eq!(counter("infodemic_campaign_items"), 1.0);
        assert_eq!(counter("infodemic_campaigns_opened"), 1.0);
        assert_eq!(counter("infodemic_alerts"), 1.0);
        assert_eq!(counter("infodemic_watch_cycles"), 2.0);
        assert_eq!(counter("infodemic_watch_failed_cycles"), 1.0);

        // Gauges: what the store holds.
        for (health, n) in [("ok", 1.0), ("failing", 1.0), ("never_polled", 1.0), ("unreadable", 0.0)] {
            assert_eq!(sample(&families, "infodemic_feeds", "infodemic_feeds", &[("health", health)]), n, "{health}");
        }
        let gauge = |family: &str| sample(&families, family, family, &[]);
        assert_eq!(gauge("infodemic_store_items"), 2.0);
        assert_eq!(gauge("infodemic_store_items_flagged"), 1.0);
        assert_eq!(gauge("infodemic_store_claims"), 0.0);
        assert_eq!(gauge("infodemic_store_campaigns"), 2.0);
        assert_eq!(gauge("infodemic_store_alerts"), 1.0);

        // Histograms: cumulative buckets ending in +Inf = count; sums in seconds.
        let fetch = "infodemic_feed_fetch_duration_seconds";
        for (outcome, count, sum) in [("ok", 2.0, 0.32), ("failed", 1.0, 12.0)] {
            let labels = [("outcome", outcome)];
            assert_eq!(sample(&families, fetch, &format!("{fetch}_count"), &labels), count, "{outcome}");
            assert!((sample(&families, fetch, &format!("{fetch}_sum"), &labels) - sum).abs() < 1e-9, "{outcome}");
            let series = buckets(&families, fetch, Some(outcome));
            assert!(series.windows(2).all(|pair| pair[0].1 <= pair[1].1), "cumulative: {series:?}");
            assert_eq!(series.last().unwrap(), &("inf".to_owned(), count), "{outcome}");
        }
        let ok = buckets(&families, fetch, Some("ok"));
        let at = |series: &[(String, f64)], le: &str| series.iter().find(|(bound, _)| bound == le).unwrap().1;
        assert_eq!((at(&ok, "0.01"), at(&ok, "0.05"), at(&ok, "0.25"), at(&ok, "0.5")), (0.0, 1.0, 1.0, 2.0));
        let failed = buckets(&families, fetch, Some("failed"));
        assert_eq!((at(&failed, "10.0"), at(&failed, "30.0")), (0.0, 1.0));

        let inference = "infodemic_inference_duration_seconds";
        assert_eq!(
            sample(&families, inference, &format!("{inference}_count"), &[]),
            1.0,
            "a batch without items is not timed"
        );
        assert!((sample(&families, inference, &format!("{inference}_sum"), &[]) - 0.4).abs() < 1e-9);
        let series = buckets(&families, inference, None);
        assert_eq!((at(&series, "0.25"), at(&series, "0.5"), at(&series, "inf")), (0.0, 1.0, 1.0));
    })
    .await
    .unwrap();
    cancel.cancel();
    handle.stopped().await;
}
