//! Hostile and broken servers on 127.0.0.1: every case ends in bounded time and memory, with
//! the right feed state. Timeouts here are the crawler's own limits, set small; nothing sleeps
//! to synchronise.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is the failure report.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use infodemic_classifier::{ClassifierHandle, KeywordClassifier};
use infodemic_core::{FeedCategory, FeedHealth, FeedSpec, FeedState, ItemQuery};
use infodemic_crawler::FetchConfig;
use infodemic_pipeline::{run_crawl, CrawlOptions, CrawlSummary, NoProgress};
use infodemic_store::{ItemReader, SledStore};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use url::Url;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/feeds").join(name)).unwrap()
}

const LIMIT: u64 = 256 * 1024;

fn options() -> CrawlOptions {
    CrawlOptions {
        fetch: FetchConfig {
            timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(1),
            max_body_bytes: LIMIT,
            per_host_delay: Duration::ZERO,
            retry_base: Duration::from_millis(10),
            allow_private_discovered: false,
            ..FetchConfig::default()
        },
        feed_concurrency: 4,
        commit_batch: 8,
        ..CrawlOptions::default()
    }
}

struct Harness {
    _dir: tempfile::TempDir,
    store: SledStore,
    classifier: ClassifierHandle,
}

impl Harness {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = SledStore::open(&dir.path().join("db")).unwrap();
        let classifier = ClassifierHandle::spawn(Box::new(KeywordClassifier::new(&["bleach"])), 2).unwrap();
        Self { _dir: dir, store, classifier }
    }

    async fn crawl(&self, urls: &[String], options: &CrawlOptions) -> CrawlSummary {
        let feeds = urls.iter().map(|u| FeedSpec::from_url(Url::parse(u).unwrap())).collect();
        self.crawl_specs(feeds, options).await
    }

    async fn crawl_specs(&self, feeds: Vec<FeedSpec>, options: &CrawlOptions) -> CrawlSummary {
        let crawl = run_crawl(feeds, &self.store, &self.classifier, options, &NoProgress, CancellationToken::new());
        tokio::time::timeout(Duration::from_secs(60), crawl).await.expect("bounded time").unwrap()
    }

    fn state(&self, url: &str) -> FeedState {
        let id = infodemic_core::SourceId::for_url(&Url::parse(url).unwrap());
        self.store.feed_state(id.as_str()).unwrap().unwrap()
    }
}

fn code(summary: &CrawlSummary) -> Vec<String> {
    summary.feeds_failed.iter().map(|f| f.code.clone()).collect()
}

/// A raw server: accepts connections and hands each to `respond` (after reading the request).
async fn raw_server<F, Fut>(respond: F) -> String
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let respond = std::sync::Arc::new(respond);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let respond = std::sync::Arc::clone(&respond);
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                let _ = socket.read(&mut buffer).await;
                respond(socket).await;
            });
        }
    });
    format!("http://{address}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_drip_and_endless_bodies_hit_the_limits() {
    let drip = raw_server(|mut socket| async move {
        let _ = socket.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n\r\n<rss>").await;
        loop {
            if socket.write_all(b" ").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    let endless = raw_server(|mut socket| async move {
        let _ = socket.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n\r\n").await;
        let chunk = vec![b'x'; 16 * 1024];
        while socket.write_all(&chunk).await.is_ok() {}
    })
    .await;
    let harness = Harness::new();
    let summary = harness.crawl(&[format!("{drip}/drip.xml"), format!("{endless}/endless.xml")], &options()).await;
    let mut codes = code(&summary);
    codes.sort();
    assert_eq!(codes, ["timeout", "too-large"]);
    assert_eq!(harness.state(&format!("{endless}/endless.xml")).health(), FeedHealth::Failing, "too large is hard");
    assert_eq!(harness.state(&format!("{drip}/drip.xml")).health(), FeedHealth::Degraded, "a timeout is soft");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzip_bomb_is_stopped_after_decompression() {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&vec![b' '; 50 * 1024 * 1024]).unwrap();
    let bomb = encoder.finish().unwrap();
    assert!(bomb.len() < 200 * 1024, "small on the wire");
    let server = MockServer::start().await;
    Mock::given(path("/bomb.xml"))
        .respond_with(ResponseTemplate::new(200).insert_header("Content-Encoding", "gzip").set_body_bytes(bomb))
        .mount(&server)
        .await;
    let harness = Harness::new();
    let summary = harness.crawl(&[format!("{}/bomb.xml", server.uri())], &options()).await;
    assert_eq!(code(&summary), ["too-large"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_loops_and_bodies_that_are_no_feed_are_hard_failures() {
    let server = MockServer::start().await;
    Mock::given(path("/loop.xml"))
        .respond_with(ResponseTemplate::new(302).insert_header("Location", "/loop.xml"))
        .mount(&server)
        .await;
    Mock::given(path("/garbage.xml"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(fixture("garbage.bin")))
        .mount(&server)
        .await;
    let harness = Harness::new();
    let urls = [format!("{}/loop.xml", server.uri()), format!("{}/garbage.xml", server.uri())];
    let summary = harness.crawl(&urls, &options()).await;
    let mut codes = code(&summary);
    codes.sort();
    assert_eq!(codes, ["not-a-feed", "redirects"]);
    for url in &urls {
        assert_eq!(harness.state(url).health(), FeedHealth::Failing, "{url}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured_and_transient_answers_are_retried() {
    let server = MockServer::start().await;
    Mock::given(path("/busy.xml"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "3600"))
        .mount(&server)
        .await;
    // 503 twice, then the feed: the retries inside one fetch get it.
    Mock::given(path("/flaky.xml")).respond_with(ResponseTemplate::new(503)).up_to_n_times(2).mount(&server).await;
    Mock::given(path("/flaky.xml"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(fixture("reliable.xml")))
        .mount(&server)
        .await;
    // A plain 500 is not retried.
    Mock::given(path("/broken.xml")).respond_with(ResponseTemplate::new(500)).expect(1).mount(&server).await;
    let harness = Harness::new();
    let busy = format!("{}/busy.xml", server.uri());
    let summary = harness
        .crawl(
            &[busy.clone(), format!("{}/flaky.xml", server.uri()), format!("{}/broken.xml", server.uri())],
            &options(),
        )
        .await;
    assert_eq!(summary.feeds_ok, 1);
    assert_eq!(summary.items_new, 3);
    let state = harness.state(&busy);
    let next = state.next_poll.unwrap();
    assert!(next >= chrono::Utc::now() + chrono::Duration::minutes(59), "{next}");
    assert_eq!(state.health(), FeedHealth::Degraded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_feed_behind_an_unchanged_etag_is_still_read() {
    let server = MockServer::start().await;
    // The server sends the same ETag for two different bodies, and ignores If-None-Match.
    Mock::given(method("GET"))
        .and(path("/feed.xml"))
        .respond_with(ResponseTemplate::new(200).insert_header("ETag", "\"v1\"").set_body_bytes(fixture("rss2.xml")))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/feed.xml"))
        .respond_with(
            ResponseTemplate::new(200).insert_header("ETag", "\"v1\"").set_body_bytes(fixture("second-run.xml")),
        )
        .mount(&server)
        .await;
    let harness = Harness::new();
    let url = format!("{}/feed.xml", server.uri());
    let first = harness.crawl(std::slice::from_ref(&url), &options()).await;
    assert_eq!(first.items_new, 3);
    let second = harness.crawl(std::slice::from_ref(&url), &options()).await;
    assert_eq!(second.items_new, 2, "the body hash, not the ETag, decides");
    let third = harness.crawl(std::slice::from_ref(&url), &options()).await;
    assert_eq!((third.feeds_not_modified, third.items_seen), (1, 0), "same body: not parsed again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lying_304_is_caught_by_the_periodic_unconditional_fetch() {
    let server = MockServer::start().await;
    // The server answers 304 to our validator forever, although the feed changes.
    Mock::given(path("/feed.xml"))
        .and(header("If-None-Match", "\"v1\""))
        .respond_with(ResponseTemplate::new(304))
        .mount(&server)
        .await;
    Mock::given(path("/feed.xml"))
        .respond_with(ResponseTemplate::new(200).insert_header("ETag", "\"v1\"").set_body_bytes(fixture("rss2.xml")))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/feed.xml"))
        .respond_with(
            ResponseTemplate::new(200).insert_header("ETag", "\"v1\"").set_body_bytes(fixture("second-run.xml")),
        )
        .mount(&server)
        .await;
    let harness = Harness::new();
    let url = format!("{}/feed.xml", server.uri());
    let mut patient = options();
    patient.revalidate_after = chrono::Duration::days(1);
    assert_eq!(harness.crawl(std::slice::from_ref(&url), &patient).await.items_new, 3);
    // Conditional: the server says 304, and the change stays hidden.
    let conditional = harness.crawl(std::slice::from_ref(&url), &patient).await;
    assert_eq!((conditional.feeds_not_modified, conditional.items_new), (1, 0));
    // Past the revalidation age the request goes out without validators: the change shows.
    let mut eager = options();
    eager.revalidate_after = chrono::Duration::zero();
    let unconditional = harness.crawl(std::slice::from_ref(&url), &eager).await;
    assert_eq!(unconditional.items_new, 2);
    assert!(harness.state(&url).last_full_fetch.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_or_missing_charsets_are_decoded() {
    let latin1 = b"<rss version=\"2.0\"><channel><title>t</title><item><title>Caf\xe9 et sant\xe9 publique</title>\
        <link>https://example.org/latin1</link><description>Pr\xe9vention de la grippe</description></item></channel></rss>";
    let cp1252 = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>t</title><item>\
        <title>\x93Miracle\x94 cure debunked</title><link>https://example.org/cp1252</link></item></channel></rss>";
    let server = MockServer::start().await;
    Mock::given(path("/latin1.xml"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Content-Type", "application/rss+xml; charset=ISO-8859-1")
                .set_body_bytes(latin1.to_vec()),
        )
        .mount(&server)
        .await;
    Mock::given(path("/cp1252.xml"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(cp1252.to_vec()))
        .mount(&server)
        .await;
    let harness = Harness::new();
    let summary = harness
        .crawl(&[format!("{}/latin1.xml", server.uri()), format!("{}/cp1252.xml", server.uri())], &options())
        .await;
    assert_eq!(summary.feeds_ok, 2, "{:?}", summary.feeds_failed);
    let titles: Vec<String> =
        harness.store.query(&ItemQuery::default()).unwrap().into_iter().map(|s| s.item.title).collect();
    assert!(titles.contains(&"Café et santé publique".to_owned()), "{titles:?}");
    assert!(titles.contains(&"\u{201c}Miracle\u{201d} cure debunked".to_owned()), "{titles:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_guids_and_robots_txt() {
    let dupes = r#"<rss version="2.0"><channel><title>t</title>
        <item><guid>same</guid><title>First story about measles</title><link>https://example.org/a</link></item>
        <item><guid>same</guid><title>Second story about flu</title><link>https://example.org/b</link></item>
        <item><guid>same</guid><title>First story about measles</title><link>https://example.org/a</link></item>
        </channel></rss>"#;
    let server = MockServer::start().await;
    Mock::given(path("/robots.txt"))
        .respond_with(ResponseTemplate::new(200).set_body_string("User-agent: *\nDisallow: /private/\n"))
        .mount(&server)
        .await;
    Mock::given(path("/dupes.xml"))
        .respond_with(ResponseTemplate::new(200).set_body_string(dupes))
        .mount(&server)
        .await;
    Mock::given(path("/private/feed.xml"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(fixture("rss2.xml")))
        .expect(0)
        .mount(&server)
        .await;
    let harness = Harness::new();
    let summary = harness
        .crawl(&[format!("{}/dupes.xml", server.uri()), format!("{}/private/feed.xml", server.uri())], &options())
        .await;
    assert_eq!(summary.items_new, 2, "same GUID, different links: two items; same link: one");
    assert_eq!(code(&summary), ["robots"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_every_host_fails_the_network_is_blamed_not_the_feeds() {
    // Two ports nobody listens on: bind, note the address, close.
    let mut urls = Vec::new();
    for _ in 0..2 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        urls.push(format!("http://{}/feed.xml", listener.local_addr().unwrap()));
    }
    let harness = Harness::new();
    let summary = harness.crawl(&urls, &options()).await;
    assert!(summary.network_down);
    for url in &urls {
        let state = harness.state(url);
        assert_eq!(state.failure_score, 0.0, "not penalised");
        assert!(state.last_error.is_some(), "but the error is recorded");
    }
    // One host down while another answers: that host is to blame.
    let server = MockServer::start().await;
    Mock::given(path("/ok.xml"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(fixture("reliable.xml")))
        .mount(&server)
        .await;
    let summary = harness.crawl(&[urls[0].clone(), format!("{}/ok.xml", server.uri())], &options()).await;
    assert!(!summary.network_down);
    assert!(harness.state(&urls[0]).failure_score > 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_found_in_content_may_not_reach_private_addresses() {
    let server = MockServer::start().await;
    let page = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/claims/pages/politifact-like.html"),
    )
    .unwrap();
    Mock::given(path("/page.html"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(page))
        .expect(0)
        .mount(&server)
        .await;
    let rss = format!(
        r#"<rss version="2.0"><channel><title>c</title><item><title>Check</title><link>{}/page.html</link></item></channel></rss>"#,
        server.uri()
    );
    Mock::given(path("/checks.xml")).respond_with(ResponseTemplate::new(200).set_body_string(rss)).mount(&server).await;
    let harness = Harness::new();
    let mut checks = FeedSpec::from_url(Url::parse(&format!("{}/checks.xml", server.uri())).unwrap());
    checks.category = FeedCategory::FactChecker;
    let summary = harness.crawl_specs(vec![checks], &options()).await;
    assert_eq!(summary.items_new, 1, "the feed itself was asked for: it is read");
    assert_eq!((summary.claim_pages_fetched, summary.claims_added), (0, 0), "the page it links to is refused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_robots_txt_server_error_disallows_the_host() {
    let server = MockServer::start().await;
    Mock::given(path("/robots.txt")).respond_with(ResponseTemplate::new(503)).mount(&server).await;
    Mock::given(path("/feed.xml"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(fixture("reliable.xml")))
        .expect(0)
        .mount(&server)
        .await;
    let harness = Harness::new();
    let summary = harness.crawl(&[format!("{}/feed.xml", server.uri())], &options()).await;
    assert_eq!(code(&summary), ["robots"], "RFC 9309: a 5xx robots.txt means complete disallow");
}

/// Cancels the watch once `count` events that `counts` picks have happened.
struct StopAfter {
    count: std::sync::atomic::AtomicUsize,
    counts: fn(&infodemic_pipeline::CrawlEvent) -> bool,
    cancel: CancellationToken,
}

impl StopAfter {
    fn new(count: usize, counts: fn(&infodemic_pipeline::CrawlEvent) -> bool, cancel: &CancellationToken) -> Self {
        Self { count: std::sync::atomic::AtomicUsize::new(count), counts, cancel: cancel.clone() }
    }
}

impl infodemic_pipeline::CrawlObserver for StopAfter {
    fn on_event(&self, event: &infodemic_pipeline::CrawlEvent) {
        if (self.counts)(event) && self.count.fetch_sub(1, std::sync::atomic::Ordering::SeqCst) <= 1 {
            self.cancel.cancel();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_fetches_robots_txt_once_for_all_its_cycles() {
    let server = MockServer::start().await;
    Mock::given(path("/robots.txt"))
        .respond_with(ResponseTemplate::new(200).set_body_string("User-agent: *\nDisallow: /private/\n"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/feed.xml"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(fixture("reliable.xml")))
        .expect(3)
        .mount(&server)
        .await;
    let harness = Harness::new();
    harness
        .store
        .put_subscription(&FeedSpec::from_url(Url::parse(&format!("{}/feed.xml", server.uri())).unwrap()))
        .unwrap();
    // Every feed due again at once, so three cycles run back to back.
    let mut crawl = options();
    crawl.policy = infodemic_core::polling::PollPolicy {
        min: Duration::ZERO,
        base: Duration::ZERO,
        max: Duration::ZERO,
        max_backoff: Duration::ZERO,
    };
    let options = infodemic_pipeline::WatchOptions { crawl, recheck: Duration::from_millis(10) };
    let cancel = CancellationToken::new();
    let observer = StopAfter::new(3, |e| matches!(e, infodemic_pipeline::CrawlEvent::CycleFinished(_)), &cancel);
    let watching = infodemic_pipeline::watch(&harness.store, &harness.classifier, &options, &observer, cancel);
    let summary = tokio::time::timeout(Duration::from_secs(60), watching).await.expect("bounded time").unwrap();
    assert_eq!(summary.cycles, 3);
    // wiremock checks the expectations (one robots.txt, three feed fetches) when dropped.
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_servers_request_to_wait_binds_the_next_crawl_unless_forced() {
    let server = MockServer::start().await;
    Mock::given(path("/busy.xml"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "3600"))
        .expect(2)
        .mount(&server)
        .await;
    let harness = Harness::new();
    let url = format!("{}/busy.xml", server.uri());
    let first = harness.crawl(std::slice::from_ref(&url), &options()).await;
    assert_eq!(code(&first), ["http-status"]);
    let until = harness.state(&url).server_wait_until.expect("the wait is remembered");
    assert!(until > chrono::Utc::now() + chrono::Duration::minutes(59), "{until}");

    // The next crawl leaves it alone (one request so far), and says so.
    let second = harness.crawl(std::slice::from_ref(&url), &options()).await;
    assert_eq!(second.feeds_deferred.len(), 1, "{second:?}");
    assert_eq!(second.feeds_deferred[0].until, until);
    assert!(second.feeds_failed.is_empty() && second.feeds_skipped == 0, "{second:?}");

    // Unless the user insists.
    let forced = harness.crawl(std::slice::from_ref(&url), &CrawlOptions { force: true, ..options() }).await;
    assert!(forced.feeds_deferred.is_empty());
    assert_eq!(code(&forced), ["http-status"]);
}

/// A model whose session is broken: every run fails.
struct BrokenModel(infodemic_core::ModelRef);

impl infodemic_classifier::Classify for BrokenModel {
    fn classify(
        &mut self,
        _texts: &[String],
    ) -> Result<Vec<infodemic_core::Classification>, infodemic_classifier::ClassifierError> {
        Err(infodemic_classifier::ClassifierError::Onnx("session lost".to_owned()))
    }

    fn model(&self) -> &infodemic_core::ModelRef {
        &self.0
    }

    fn policy(&self) -> infodemic_core::DecisionPolicy {
        infodemic_core::DecisionPolicy::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_cycle_is_reported_and_retried_not_the_end_of_watch() {
    let server = MockServer::start().await;
    Mock::given(path("/feed.xml"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(fixture("reliable.xml")))
        .mount(&server)
        .await;
    let harness = Harness::new();
    harness
        .store
        .put_subscription(&FeedSpec::from_url(Url::parse(&format!("{}/feed.xml", server.uri())).unwrap()))
        .unwrap();
    let model = infodemic_core::ModelRef { id: "broken".to_owned(), version: "0".to_owned() };
    let classifier = ClassifierHandle::spawn(Box::new(BrokenModel(model)), 2).unwrap();
    let options = infodemic_pipeline::WatchOptions { crawl: options(), recheck: Duration::from_millis(10) };
    let cancel = CancellationToken::new();
    let observer = StopAfter::new(2, |e| matches!(e, infodemic_pipeline::CrawlEvent::CycleFailed { .. }), &cancel);
    let watching = infodemic_pipeline::watch(&harness.store, &classifier, &options, &observer, cancel);
    let summary = tokio::time::timeout(Duration::from_secs(60), watching).await.expect("bounded time").unwrap();
    assert_eq!(summary.failed_cycles, 2, "{summary:?}");
    assert_eq!(summary.items_new, 0);
}

/// Response headers of a served document.
type Headers = Vec<(&'static str, &'static str)>;

/// One run with every hostile document of the hardening issue beside a good feed: the run
/// ends, in bounded time, with each hostile feed in a defined state and the good feed stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_documents_in_one_run_leave_the_good_feed_stored() {
    let server = MockServer::start().await;
    let item = |i: usize, description: &str| {
        format!("<item><title>Item {i}</title><link>https://hostile.example/{i}</link><description>{description}</description></item>")
    };
    let rss = |items: String| format!(r#"<rss version="2.0"><channel><title>t</title>{items}</channel></rss>"#);
    let deep = format!("{}vaccines{}", "&lt;span&gt;".repeat(100_000), "&lt;/span&gt;".repeat(100_000));
    let stray = "&lt;div&gt;&lt;/x&gt;".repeat(50_000);
    let long = "Measles vaccination is safe. ".repeat(40_000);
    let many: String = (0..20_000).map(|i| item(i, "Vaccines work.")).collect();
    let links: String = (0..20_000).map(|i| format!("&lt;a href=\"https://l.example/{i}\"&gt;x&lt;/a&gt;")).collect();
    let documents: Vec<(&str, String, Headers)> = vec![
        ("/max-age.xml", rss(item(1, "ok")), vec![("Cache-Control", "max-age=99999999999999")]),
        ("/expires.xml", rss(item(2, "ok")), vec![("Expires", "Fri, 31 Dec 9999 23:59:59 GMT")]),
        (
            "/dates.xml",
            rss(format!(
                "{}{}",
                item(3, "ok").replace("</item>", "<pubDate>Fri, 31 Dec 9999 23:59:59 GMT</pubDate></item>"),
                item(4, "ok").replace("</item>", "<pubDate>Mon, 01 Jan 0001 00:00:00 GMT</pubDate></item>")
            )),
            vec![],
        ),
        ("/deep.xml", rss(item(5, &deep)), vec![]),
        ("/stray.xml", rss(item(6, &stray)), vec![]),
        ("/long.xml", rss(item(7, &long)), vec![]),
        ("/many.xml", rss(many), vec![]),
        ("/links.xml", rss(item(8, &links)), vec![]),
    ];
    let mut urls = Vec::new();
    for (route, body, headers) in &documents {
        let mut response = ResponseTemplate::new(200).set_body_string(body.clone());
        for (name, value) in headers {
            response = response.insert_header(*name, *value);
        }
        Mock::given(path(*route)).respond_with(response).mount(&server).await;
        urls.push(format!("{}{route}", server.uri()));
    }
    Mock::given(path("/good.xml"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(fixture("reliable.xml")))
        .mount(&server)
        .await;
    urls.push(format!("{}/good.xml", server.uri()));
    let harness = Harness::new();
    let options = CrawlOptions {
        fetch: FetchConfig { max_body_bytes: 16 * 1024 * 1024, ..options().fetch },
        policy: infodemic_core::polling::PollPolicy::default(),
        ..options()
    };
    let specs: Vec<FeedSpec> = urls
        .iter()
        .map(|u| {
            let mut spec = FeedSpec::from_url(Url::parse(u).unwrap());
            spec.category = FeedCategory::MedicalNews;
            spec
        })
        .collect();
    let summary = harness.crawl_specs(specs, &options).await;
    assert!(summary.feeds_failed.is_empty(), "{:?}", summary.feeds_failed);
    assert_eq!(summary.feeds_ok, urls.len());
    let stored = harness.store.query(&ItemQuery { limit: Some(100_000), ..ItemQuery::default() }).unwrap();
    let good = stored.iter().filter(|s| s.item.source.as_str().ends_with("good.xml")).count();
    assert_eq!(good, 3, "the good feed is stored");
    // Server times far away are capped by the polling policy, not overflowed.
    let next = harness.state(&urls[0]).next_poll.unwrap();
    assert!(next < chrono::Utc::now() + chrono::Duration::days(2), "{next}");
    // The feed of 20,000 items gives the entry cap, and says so.
    let many = summary.feeds_partial.iter().find(|p| p.source.contains("many")).unwrap();
    assert_eq!((many.items, many.entries), (infodemic_crawler::normalize::MAX_ENTRIES, 20_000));
    // Texts and links stay within their caps.
    for scored in &stored {
        assert!(scored.item.text.chars().count() <= infodemic_crawler::normalize::MAX_TEXT_CHARS);
        assert!(scored.item.links.len() <= infodemic_crawler::html_text::MAX_LINKS);
        assert!(scored
            .item
            .published
            .is_none_or(|at| at.timestamp() >= 0 && at < chrono::Utc::now() + chrono::Duration::days(3)));
    }
}
