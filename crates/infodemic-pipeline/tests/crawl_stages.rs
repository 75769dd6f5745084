//! The crawl's stages as a whole, against feeds served on 127.0.0.1: the campaign stage after
//! the commit, and a failing stage that ends the run with its own error.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is the failure report.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Duration;

use infodemic_classifier::{ClassifierError, ClassifierHandle, Classify, KeywordClassifier};
use infodemic_core::{Classification, DecisionPolicy, FeedCategory, FeedSpec, ItemQuery, ModelRef};
use infodemic_crawler::FetchConfig;
use infodemic_pipeline::{run_crawl, CrawlEvent, CrawlObserver, CrawlOptions, NoProgress, PipelineError};
use infodemic_store::{ItemReader, SledStore};
use tokio_util::sync::CancellationToken;
use url::Url;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Bounds a run that must end; a hang fails the test instead of stalling the suite.
const RUN_LIMIT: Duration = Duration::from_secs(60);

fn options() -> CrawlOptions {
    CrawlOptions {
        fetch: FetchConfig {
            timeout: Duration::from_secs(2),
            per_host_delay: Duration::ZERO,
            ..FetchConfig::default()
        },
        feed_concurrency: 2,
        commit_batch: 2,
        ..CrawlOptions::default()
    }
}

/// One claim retold: every post repeats it and links to the same page, each in its own words
/// after it, so dedupe keeps them apart (no near-duplicates) while the grouping joins them.
const CLAIM: &str = "Drinking a cup of diluted bleach every morning cures measles within two days, \
    and the doctors are hiding this bleach cure from parents.";
const RETELLINGS: [&str; 6] = [
    "My neighbour tried it with her twins last winter and both of them were back at school by the weekend.",
    "A nurse who worked at the county hospital for twenty years told our group the whole story in a video.",
    "Pharmaceutical companies lose billions every year if families learn about this simple kitchen remedy.",
    "Share this with every mother you know before the platforms delete the post again tonight.",
    "The protocol was first written down by a retired chemist who sells the kits through his website.",
    "Thousands of parents in our forum already switched and not one child needed an injection since.",
];

/// An RSS feed of `posts` (title, text), each linking to the claim's page.
fn rss(name: &str, posts: &[(String, String)]) -> String {
    let items: String = posts
        .iter()
        .enumerate()
        .map(|(i, (title, text))| {
            format!(
                "<item><title>{title}</title><link>https://{name}.example/posts/{i}</link>\
                 <description>{text} &lt;a href=\"https://cures.example/bleach-protocol\"&gt;protocol&lt;/a&gt;\
                 </description></item>"
            )
        })
        .collect();
    format!(r#"<rss version="2.0"><channel><title>{name}</title>{items}</channel></rss>"#)
}

/// Three retellings of the claim and one unrelated post per feed.
fn feed_posts(feed: usize) -> Vec<(String, String)> {
    let mut posts: Vec<(String, String)> = (0..3)
        .map(|i| {
            let telling = RETELLINGS[feed * 3 + i];
            (format!("The bleach cure, part {}", feed * 3 + i + 1), format!("{CLAIM} {telling}"))
        })
        .collect();
    let unrelated = [
        "The vaccination clinic on Harbour Road opens on Saturdays from nine to one for flu shots.",
        "Our pharmacy now offers free blood pressure checks every Tuesday afternoon for residents over sixty.",
    ];
    posts.push(("Opening hours".to_owned(), unrelated[feed].to_owned()));
    posts
}

async fn serve(server: &MockServer, route: &str, body: String) {
    Mock::given(path(route)).respond_with(ResponseTemplate::new(200).set_body_string(body)).mount(server).await;
}

fn spec(server: &MockServer, route: &str) -> FeedSpec {
    let mut spec = FeedSpec::from_url(Url::parse(&format!("{}{route}", server.uri())).unwrap());
    spec.category = FeedCategory::MisinformationOutlet;
    spec
}

/// Keeps the campaign events.
#[derive(Default)]
struct CampaignEvents(Mutex<Vec<(usize, usize, usize)>>);

impl CrawlObserver for CampaignEvents {
    fn on_event(&self, event: &CrawlEvent) {
        if let CrawlEvent::CampaignsAssigned { items, opened, alerts } = event {
            self.0.lock().unwrap().push((*items, *opened, alerts.len()));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_items_worth_a_review_join_one_campaign_once() {
    let server = MockServer::start().await;
    serve(&server, "/a.xml", rss("a", &feed_posts(0))).await;
    serve(&server, "/b.xml", rss("b", &feed_posts(1))).await;
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = SledStore::open(&dir.path().join("db")).unwrap();
    let classifier = ClassifierHandle::spawn(Box::new(KeywordClassifier::new(&["bleach"])), 2).unwrap();
    let feeds = || vec![spec(&server, "/a.xml"), spec(&server, "/b.xml")];

    let events = CampaignEvents::default();
    let summary = tokio::time::timeout(
        RUN_LIMIT,
        run_crawl(feeds(), &store, &classifier, &options(), &events, CancellationToken::new()),
    )
    .await
    .expect("the run ends")
    .unwrap();
    assert_eq!((summary.items_new, summary.appearances), (8, 0), "retellings are not copies: {summary:?}");
    assert_eq!(summary.items_flagged, 6, "{summary:?}");

    let campaigns = store.campaigns().unwrap();
    assert_eq!(campaigns.len(), 1, "{campaigns:?}");
    let members: BTreeSet<String> =
        store.campaign_members(campaigns[0].id, None).unwrap().into_iter().map(|member| member.id).collect();
    let flagged: BTreeSet<String> = store
        .query(&ItemQuery { flagged_only: true, ..ItemQuery::default() })
        .unwrap()
        .into_iter()
        .map(|scored| scored.item.id.to_string())
        .collect();
    assert_eq!(members, flagged, "the retellings, and only they");
    assert_eq!((summary.items_in_campaigns, summary.campaigns_opened), (6, 1), "{summary:?}");
    // The store keeps times to the microsecond: alerts are compared by what they say.
    let said = |alerts: &[infodemic_core::Alert]| -> Vec<(u64, String, String)> {
        alerts.iter().map(|a| (a.seq, a.campaign.to_string(), a.kind.clone())).collect()
    };
    assert_eq!(said(&summary.alerts), said(&store.alerts().unwrap()));
    let events = events.0.into_inner().unwrap();
    let (items, opened, alerts) =
        events.iter().fold((0, 0, 0), |(i, o, a), (items, opened, alerts)| (i + items, o + opened, a + alerts));
    assert_eq!((items, opened, alerts), (6, 1, summary.alerts.len()), "one event per batch: {events:?}");

    // The same feeds again, changed enough to be read again: every item is known, nothing is
    // assigned twice.
    server.reset().await;
    for (feed, name) in ["a", "b"].into_iter().enumerate() {
        let updated = rss(name, &feed_posts(feed)).replace("<channel><title>", "<channel><title>Updated: ");
        serve(&server, &format!("/{name}.xml"), updated).await;
    }
    let again = tokio::time::timeout(
        RUN_LIMIT,
        run_crawl(feeds(), &store, &classifier, &options(), &NoProgress, CancellationToken::new()),
    )
    .await
    .expect("the run ends")
    .unwrap();
    assert_eq!((again.feeds_ok, again.items_new, again.items_duplicate), (2, 0, 8), "{again:?}");
    assert_eq!((again.items_in_campaigns, again.campaigns_opened), (0, 0), "{again:?}");
    assert_eq!(store.campaigns().unwrap().len(), 1);
    assert_eq!(store.campaign_members(campaigns[0].id, None).unwrap().len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_campaign_settings_the_stage_is_off() {
    let server = MockServer::start().await;
    serve(&server, "/a.xml", rss("a", &feed_posts(0))).await;
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = SledStore::open(&dir.path().join("db")).unwrap();
    let classifier = ClassifierHandle::spawn(Box::new(KeywordClassifier::new(&["bleach"])), 2).unwrap();
    let options = CrawlOptions { campaigns: None, ..options() };
    let summary = tokio::time::timeout(
        RUN_LIMIT,
        run_crawl(vec![spec(&server, "/a.xml")], &store, &classifier, &options, &NoProgress, CancellationToken::new()),
    )
    .await
    .expect("the run ends")
    .unwrap();
    assert_eq!((summary.items_new, summary.items_flagged), (4, 3), "{summary:?}");
    assert_eq!(summary.items_in_campaigns, 0);
    assert!(store.campaigns().unwrap().is_empty());
}

/// The keyword classifier for its first `working` runs, then a broken session. The failing run
/// first waits for `loaded`: the stages upstream of the classifier are then full of work.
struct FailsAfter {
    working: usize,
    inner: KeywordClassifier,
    loaded: Option<std::sync::mpsc::Receiver<()>>,
}

impl FailsAfter {
    fn new(working: usize, loaded: std::sync::mpsc::Receiver<()>) -> Self {
        Self { working, inner: KeywordClassifier::new(&["bleach"]), loaded: Some(loaded) }
    }
}

impl Classify for FailsAfter {
    fn classify(&mut self, texts: &[String]) -> Result<Vec<Classification>, ClassifierError> {
        if self.working == 0 {
            if let Some(loaded) = self.loaded.take() {
                // Runs on the classifier's own thread; the observer signals (or is gone).
                let _ = loaded.recv();
            }
            return Err(ClassifierError::Onnx("session lost".to_owned()));
        }
        self.working -= 1;
        self.inner.classify(texts)
    }

    fn model(&self) -> &ModelRef {
        self.inner.model()
    }

    fn policy(&self) -> DecisionPolicy {
        self.inner.policy()
    }
}

/// Signals once `feeds` feeds were accepted: with one feed a batch, every stage between the
/// source and the classifier then holds a batch or waits to hand one on.
struct SignalAfter {
    feeds: usize,
    done: Mutex<(usize, Option<std::sync::mpsc::Sender<()>>)>,
}

impl SignalAfter {
    fn new(feeds: usize) -> (Self, std::sync::mpsc::Receiver<()>) {
        let (signal, loaded) = std::sync::mpsc::channel();
        (Self { feeds, done: Mutex::new((0, Some(signal))) }, loaded)
    }
}

impl CrawlObserver for SignalAfter {
    fn on_event(&self, event: &CrawlEvent) {
        if let CrawlEvent::FeedDone { .. } = event {
            let mut done = self.done.lock().unwrap();
            done.0 += 1;
            if done.0 >= self.feeds {
                if let Some(signal) = done.1.take() {
                    let _ = signal.send(());
                }
            }
        }
    }
}

/// Many feeds of a few flagged items each, served at once.
async fn many_feeds(server: &MockServer, feeds: usize) -> Vec<FeedSpec> {
    let mut specs = Vec::new();
    for feed in 0..feeds {
        let posts: Vec<(String, String)> = (0..3)
            .map(|i| {
                (
                    format!("Report {feed}-{i}"),
                    format!("Feed {feed} post {i}: {} {}", CLAIM, RETELLINGS[(feed + i) % RETELLINGS.len()]),
                )
            })
            .collect();
        let route = format!("/feed-{feed}.xml");
        serve(server, &route, rss(&format!("f{feed}"), &posts)).await;
        specs.push(spec(server, &route));
    }
    specs
}

fn is_session_lost(error: &PipelineError) -> bool {
    matches!(error, PipelineError::Classifier(ClassifierError::Onnx(message)) if message == "session lost")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_stage_ends_the_run_with_its_own_error() {
    let server = MockServer::start().await;
    let feeds = many_feeds(&server, 12).await;
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = SledStore::open(&dir.path().join("db")).unwrap();
    let (observer, loaded) = SignalAfter::new(4);
    let classifier = ClassifierHandle::spawn(Box::new(FailsAfter::new(0, loaded)), 2).unwrap();
    let options = CrawlOptions { commit_batch: 1, ..options() };
    let result = tokio::time::timeout(
        RUN_LIMIT,
        run_crawl(feeds, &store, &classifier, &options, &observer, CancellationToken::new()),
    )
    .await
    .expect("the other stages stop: no hang");
    let error = result.unwrap_err();
    assert!(is_session_lost(&error), "the classifier's error, not a closed channel: {error:?}");
    assert_eq!(store.verify().unwrap(), 0, "nothing was scored, nothing committed");
    assert!(store.feed_states().unwrap().is_empty(), "no feed state without its items");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_scored_before_a_failure_are_committed_and_assigned() {
    let server = MockServer::start().await;
    let feeds = many_feeds(&server, 12).await;
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = SledStore::open(&dir.path().join("db")).unwrap();
    // One batch (one feed: `commit_batch` is 1) is scored, then the model breaks.
    let (observer, loaded) = SignalAfter::new(4);
    let classifier = ClassifierHandle::spawn(Box::new(FailsAfter::new(1, loaded)), 2).unwrap();
    let options = CrawlOptions { commit_batch: 1, ..options() };
    let result = tokio::time::timeout(
        RUN_LIMIT,
        run_crawl(feeds, &store, &classifier, &options, &observer, CancellationToken::new()),
    )
    .await
    .expect("no hang");
    let error = result.unwrap_err();
    assert!(is_session_lost(&error), "{error:?}");
    // The scored batch went on through the store and the campaign stage: one whole feed.
    assert_eq!(store.verify().unwrap(), 3);
    assert_eq!(store.feed_states().unwrap().len(), 1);
    let campaigns = store.campaigns().unwrap();
    assert_eq!(campaigns.len(), 1, "{campaigns:?}");
    assert_eq!(store.campaign_members(campaigns[0].id, None).unwrap().len(), 3);
}
