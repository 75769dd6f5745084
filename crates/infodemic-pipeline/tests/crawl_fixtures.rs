//! The pipeline against fixture feeds served on 127.0.0.1, with the keyword classifier:
//! what is stored, what is a duplicate, what is a feed error.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is the failure report.

use std::path::PathBuf;
use std::time::Duration;

use infodemic_classifier::{ClassifierHandle, KeywordClassifier};
use infodemic_core::{FeedCategory, FeedSpec, ItemQuery};
use infodemic_crawler::FetchConfig;
use infodemic_pipeline::{run_crawl, CrawlOptions, NoProgress};
use infodemic_store::{ItemReader, SledStore};
use tokio_util::sync::CancellationToken;
use url::Url;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/feeds").join(name);
    std::fs::read(path).unwrap()
}

async fn serve(server: &MockServer, route: &str, response: ResponseTemplate) {
    Mock::given(path(route)).respond_with(response).mount(server).await;
}

fn feed(server: &MockServer, route: &str) -> FeedSpec {
    FeedSpec::from_url(Url::parse(&format!("{}{route}", server.uri())).unwrap())
}

/// Crawls `feeds` into a new store with a keyword classifier that flags nothing; the store's
/// directory lives as long as the returned guard.
async fn crawl_into_a_new_store(
    feeds: Vec<FeedSpec>,
) -> (tempfile::TempDir, SledStore, ClassifierHandle, infodemic_pipeline::CrawlSummary) {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = SledStore::open(&dir.path().join("db")).unwrap();
    let classifier = ClassifierHandle::spawn(Box::new(KeywordClassifier::new(&[])), 2).unwrap();
    let summary =
        run_crawl(feeds, &store, &classifier, &options(), &NoProgress, CancellationToken::new()).await.unwrap();
    (dir, store, classifier, summary)
}

fn options() -> CrawlOptions {
    CrawlOptions {
        fetch: FetchConfig {
            timeout: Duration::from_secs(2),
            max_body_bytes: 64 * 1024,
            per_host_delay: Duration::ZERO,
            // Fact-check pages are served from 127.0.0.1 here.
            allow_private_discovered: true,
            ..FetchConfig::default()
        },
        feed_concurrency: 4,
        commit_batch: 4,
        ..CrawlOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl_stores_new_items_records_errors_and_dedupes_across_runs() {
    let server = MockServer::start().await;
    for name in ["rss2.xml", "misinfo.xml", "reliable.xml", "atom.xml", "not-a-feed.html", "truncated.xml", "empty.xml"]
    {
        serve(&server, &format!("/{name}"), ResponseTemplate::new(200).set_body_bytes(fixture(name))).await;
    }
    serve(&server, "/second-run.xml", ResponseTemplate::new(200).set_body_bytes(fixture("second-run.xml"))).await;
    serve(&server, "/gone.xml", ResponseTemplate::new(404)).await;
    serve(&server, "/boom.xml", ResponseTemplate::new(500)).await;
    serve(&server, "/huge.xml", ResponseTemplate::new(200).set_body_bytes(vec![b' '; 200 * 1024])).await;
    serve(
        &server,
        "/slow.xml",
        ResponseTemplate::new(200).set_body_bytes(fixture("rss2.xml")).set_delay(Duration::from_secs(10)),
    )
    .await;

    let dir = tempfile::tempdir().unwrap();
    let (store, _) = SledStore::open(&dir.path().join("db")).unwrap();
    let classifier =
        ClassifierHandle::spawn(Box::new(KeywordClassifier::new(&["microchips", "cup of bleach", "5g towers"])), 2)
            .unwrap();

    let feeds: Vec<FeedSpec> = [
        "/rss2.xml",
        "/misinfo.xml",
        "/reliable.xml",
        "/atom.xml",
        "/not-a-feed.html",
        "/truncated.xml",
        "/empty.xml",
        "/gone.xml",
        "/boom.xml",
        "/huge.xml",
        "/slow.xml",
    ]
    .iter()
    .map(|route| feed(&server, route))
    .collect();
    let summary =
        run_crawl(feeds, &store, &classifier, &options(), &NoProgress, CancellationToken::new()).await.unwrap();

    assert_eq!(summary.feeds_total, 11);
    assert_eq!(summary.feeds_ok, 5, "truncated.xml is read up to where it was cut");
    let mut codes: Vec<(String, String)> = summary
        .feeds_failed
        .iter()
        .map(|f| (f.source.rsplit('/').next().unwrap().to_owned(), f.code.clone()))
        .collect();
    codes.sort();
    assert_eq!(
        codes,
        [
            ("boom.xml", "http-status"),
            ("empty.xml", "empty"),
            ("gone.xml", "http-status"),
            ("huge.xml", "too-large"),
            ("not-a-feed.html", "not-a-feed"),
            ("slow.xml", "timeout"),
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    // rss2: 3 distinct + 1 in-feed duplicate; misinfo, reliable, atom: 3 each; truncated: the
    // one item read whole (the one cut off is counted as dropped).
    assert_eq!(summary.items_new, 13);
    assert_eq!(summary.items_duplicate, 1);
    assert_eq!(summary.items_flagged, 3);
    assert_eq!(store.verify().unwrap(), 13);
    let truncated = summary.feeds_partial.iter().find(|p| p.source.ends_with("truncated.xml")).unwrap();
    assert_eq!((truncated.entries, truncated.items, truncated.dropped), (2, 1, 1));

    let flagged = store.query(&ItemQuery { flagged_only: true, ..Default::default() }).unwrap();
    assert_eq!(flagged.len(), 3);
    assert!(flagged.iter().all(|s| s.item.source.as_str().ends_with("misinfo.xml")));

    let states = store.feed_states().unwrap();
    assert_eq!(states.len(), 11);
    let truncated = states.iter().find(|s| s.source.as_str().ends_with("truncated.xml")).unwrap();
    assert_eq!((truncated.last_entries, truncated.last_entries_dropped), (2, 1), "kept for `feeds list`");
    let gone = states.iter().find(|s| s.source.as_str().ends_with("gone.xml")).unwrap();
    assert_eq!(gone.consecutive_failures, 1);
    assert_eq!(gone.last_error.as_deref(), Some("HTTP status 404"));

    // Second run: the updated feed brings exactly its 2 new items.
    let summary = run_crawl(
        vec![feed(&server, "/second-run.xml"), feed(&server, "/misinfo.xml")],
        &store,
        &classifier,
        &options(),
        &NoProgress,
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(summary.items_new, 2);
    // second-run.xml repeats 3 stored items (+1 in-feed duplicate); misinfo.xml is byte for
    // byte what it was, so it is not even parsed.
    assert_eq!(summary.items_duplicate, 4);
    assert_eq!(summary.feeds_not_modified, 1);
    assert_eq!(store.verify().unwrap(), 15);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_run_commits_nothing_half_written() {
    let server = MockServer::start().await;
    serve(&server, "/reliable.xml", ResponseTemplate::new(200).set_body_bytes(fixture("reliable.xml"))).await;
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = SledStore::open(&dir.path().join("db")).unwrap();
    let classifier = ClassifierHandle::spawn(Box::new(KeywordClassifier::new(&["bleach"])), 2).unwrap();
    let cancel = CancellationToken::new();
    cancel.cancel();
    let summary = run_crawl(vec![feed(&server, "/reliable.xml")], &store, &classifier, &options(), &NoProgress, cancel)
        .await
        .unwrap();
    assert!(summary.interrupted);
    assert_eq!(summary.feeds_skipped, 1);
    assert_eq!(store.verify().unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fact_checkers_pages_teach_claims_that_later_items_match() {
    let server = MockServer::start().await;
    let pages = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/claims/pages");
    for page in ["politifact-like.html", "fullfact-like.html", "no-claimreview.html"] {
        let body = std::fs::read(pages.join(page)).unwrap();
        serve(&server, &format!("/pages/{page}"), ResponseTemplate::new(200).set_body_bytes(body)).await;
    }
    serve(&server, "/pages/gone.html", ResponseTemplate::new(404)).await;
    let items: String = ["politifact-like.html", "fullfact-like.html", "no-claimreview.html", "gone.html"]
        .iter()
        .map(|page| format!("<item><title>Fact check {page}</title><link>{}/pages/{page}</link></item>", server.uri()))
        .collect();
    let rss = format!(r#"<rss version="2.0"><channel><title>Checks</title>{items}</channel></rss>"#);
    serve(&server, "/checks.xml", ResponseTemplate::new(200).set_body_string(rss)).await;
    serve(&server, "/misinfo.xml", ResponseTemplate::new(200).set_body_bytes(fixture("misinfo.xml"))).await;

    let dir = tempfile::tempdir().unwrap();
    let (store, _) = SledStore::open(&dir.path().join("db")).unwrap();
    let classifier = ClassifierHandle::spawn(Box::new(KeywordClassifier::new(&["5g towers"])), 2).unwrap();
    let mut checks = feed(&server, "/checks.xml");
    checks.category = FeedCategory::FactChecker;
    let summary =
        run_crawl(vec![checks], &store, &classifier, &options(), &NoProgress, CancellationToken::new()).await.unwrap();
    assert_eq!(summary.items_new, 4);
    assert_eq!(summary.claim_pages_fetched, 3, "the 404 page is skipped");
    assert_eq!(summary.claims_added, 2);
    assert_eq!(store.claim_count(), 2);

    // Recrawling brings nothing new: no page is fetched again.
    let mut checks = feed(&server, "/checks.xml");
    checks.category = FeedCategory::FactChecker;
    let again =
        run_crawl(vec![checks], &store, &classifier, &options(), &NoProgress, CancellationToken::new()).await.unwrap();
    assert_eq!((again.claim_pages_fetched, again.claims_added), (0, 0));

    let summary = run_crawl(
        vec![feed(&server, "/misinfo.xml")],
        &store,
        &classifier,
        &options(),
        &NoProgress,
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert!(summary.items_matching_claims > 0);
    let matched = store.query(&ItemQuery::default()).unwrap();
    let with_claim = matched.iter().find(|s| s.classification.claim_match.is_some()).unwrap();
    assert!(with_claim.classification.review, "a matched debunked claim is worth a review");
}

fn post_fixture(name: &str) -> Vec<u8> {
    std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/posts").join(name)).unwrap()
}

fn source(server: &MockServer, route: &str, kind: infodemic_core::FeedKind) -> FeedSpec {
    let mut spec = feed(server, route);
    spec.kind = kind;
    spec
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_posts_beyond_rss_are_crawled_with_authors_links_and_paging() {
    use infodemic_core::FeedKind;
    use wiremock::matchers::query_param;

    let server = MockServer::start().await;
    // Mastodon: the first poll has no min_id; the second asks for what follows the newest id seen.
    Mock::given(path("/api/v1/timelines/tag/vaccines"))
        .and(query_param("min_id", "116020000000000050"))
        .respond_with(ResponseTemplate::new(200).set_body_string("[]"))
        .mount(&server)
        .await;
    Mock::given(path("/api/v1/timelines/tag/vaccines"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(post_fixture("mastodon-hashtag.json")))
        .mount(&server)
        .await;
    Mock::given(path("/r/HealthNewsDesk/new.json"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(post_fixture("reddit-new.json")))
        .mount(&server)
        .await;
    Mock::given(path("/s/vaxfacts_demo"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(post_fixture("telegram-channel.html")))
        .mount(&server)
        .await;
    Mock::given(path("/news/"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(post_fixture("html-page.html")))
        .mount(&server)
        .await;
    let selectors: std::collections::BTreeMap<String, String> =
        serde_json::from_slice(&post_fixture("html-page.selectors.json")).unwrap();
    let mut html = source(&server, "/news/", FeedKind::Html);
    html.selectors = selectors;

    let dir = tempfile::tempdir().unwrap();
    let (store, _) = SledStore::open(&dir.path().join("db")).unwrap();
    let classifier = ClassifierHandle::spawn(Box::new(KeywordClassifier::new(&["bleach"])), 2).unwrap();
    let mastodon = source(&server, "/tags/vaccines", FeedKind::Mastodon);
    let feeds = vec![
        mastodon.clone(),
        source(&server, "/r/HealthNewsDesk", FeedKind::Reddit),
        source(&server, "/s/vaxfacts_demo", FeedKind::Telegram),
        html,
    ];
    let summary =
        run_crawl(feeds, &store, &classifier, &options(), &NoProgress, CancellationToken::new()).await.unwrap();
    assert!(summary.feeds_failed.is_empty(), "{:?}", summary.feeds_failed);
    assert_eq!(summary.items_new, 6 + 6 + 6 + 5 - summary.items_duplicate);

    let items = store.query(&ItemQuery { limit: Some(100), ..Default::default() }).unwrap();
    let boost = items.iter().find(|s| s.item.url.ends_with("/@dr_amara/115990000000000123")).unwrap();
    assert_eq!(boost.item.author.as_deref(), Some("@dr_amara@health.example.org (Dr Amara Osei)"));
    assert!(!boost.item.links.is_empty());
    let reddit = items.iter().find(|s| s.item.author.as_deref() == Some("u/curious_kestrel")).unwrap();
    assert!(reddit.item.links.contains(&"https://example.org/alkaline-myth".to_owned()));
    assert!(items.iter().any(|s| s.item.author.as_deref() == Some("Natural Cures Daily")), "forwarded Telegram post");

    // Paging: the second Mastodon poll resumes after the newest status.
    let state = store.feed_state(mastodon.id.as_str()).unwrap().unwrap();
    assert_eq!(state.cursor.as_deref(), Some("116020000000000050"));
    let again = run_crawl(vec![mastodon], &store, &classifier, &options(), &NoProgress, CancellationToken::new())
        .await
        .unwrap();
    assert_eq!((again.feeds_ok, again.items_seen), (1, 0), "min_id asked for nothing older");

    // Reddit pages forward too: the next poll asks for posts newer than the newest seen (the
    // pinned post does not count); an empty answer drops the cursor (the post may be deleted).
    let reddit = source(&server, "/r/HealthNewsDesk", FeedKind::Reddit);
    let state = store.feed_state(reddit.id.as_str()).unwrap().unwrap();
    assert_eq!(state.cursor.as_deref(), Some("t3_1j4a1b2"));
    Mock::given(path("/r/HealthNewsDesk/new.json"))
        .and(query_param("before", "t3_1j4a1b2"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(r#"{"kind":"Listing","data":{"after":null,"before":null,"children":[]}}"#),
        )
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    let again = run_crawl(vec![reddit.clone()], &store, &classifier, &options(), &NoProgress, CancellationToken::new())
        .await
        .unwrap();
    assert_eq!((again.feeds_ok, again.items_seen), (1, 0), "{again:?}");
    assert_eq!(store.feed_state(reddit.id.as_str()).unwrap().unwrap().cursor, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syndicated_copies_and_reposts_become_appearances_of_one_item() {
    let story = "Health officials confirmed on Tuesday that the measles vaccination campaign will open in all \
        42 district clinics next week, with walk-in appointments for children and adults who missed their second \
        dose, and extended opening hours on Saturdays until the end of March.";
    let repost = story.replace("Tuesday", "Wednesday").replace("until the end of March", "until end of March");
    let feed_xml = |host: &str, text: &str| {
        format!(
            r#"<rss version="2.0"><channel><title>{host}</title><item><title>Measles campaign opens</title>
            <link>https://{host}/measles</link><description>{text}</description></item></channel></rss>"#
        )
    };
    let server = MockServer::start().await;
    for (route, host, text) in [
        ("/origin.xml", "agency.example.org", story),
        ("/mirror.xml", "mirror.example.net", story),
        ("/repost.xml", "blog.example.com", repost.as_str()),
    ] {
        serve(&server, route, ResponseTemplate::new(200).set_body_string(feed_xml(host, text))).await;
    }
    let (_dir, store, classifier, first) = crawl_into_a_new_store(vec![feed(&server, "/origin.xml")]).await;
    assert_eq!(first.items_new, 1);
    let copies = vec![feed(&server, "/mirror.xml"), feed(&server, "/repost.xml")];
    let summary =
        run_crawl(copies, &store, &classifier, &options(), &NoProgress, CancellationToken::new()).await.unwrap();
    assert_eq!(summary.items_new, 0, "one story, one item");
    assert_eq!((summary.appearances, summary.items_near_duplicate), (2, 1));

    let item = store.query(&ItemQuery::default()).unwrap().remove(0);
    assert_eq!(item.item.url, "https://agency.example.org/measles");
    let mut appearances = store.appearances(item.item.id).unwrap();
    appearances.sort_by(|a, b| a.url.cmp(&b.url));
    let urls: Vec<&str> = appearances.iter().map(|a| a.url.as_str()).collect();
    assert_eq!(urls, ["https://blog.example.com/measles", "https://mirror.example.net/measles"]);
    assert!(matches!(appearances[0].relation, infodemic_core::Relation::NearDuplicate { distance } if distance > 0));
    assert_eq!(appearances[1].relation, infodemic_core::Relation::SameContent);

    // Polling the copies again records nothing twice.
    let copies = vec![feed(&server, "/mirror.xml"), feed(&server, "/repost.xml")];
    run_crawl(copies, &store, &classifier, &options(), &NoProgress, CancellationToken::new()).await.unwrap();
    assert_eq!(store.appearances(item.item.id).unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_dialects_are_read_and_unreadable_entries_are_a_feed_error() {
    let server = MockServer::start().await;
    for name in ["atom03.xml", "rss090.xml", "unreadable-entries.xml", "rss-no-items.xml"] {
        serve(&server, &format!("/{name}"), ResponseTemplate::new(200).set_body_bytes(fixture(name))).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = SledStore::open(&dir.path().join("db")).unwrap();
    let classifier = ClassifierHandle::spawn(Box::new(KeywordClassifier::new(&["bleach"])), 2).unwrap();
    let feeds: Vec<FeedSpec> = ["/atom03.xml", "/rss090.xml", "/unreadable-entries.xml", "/rss-no-items.xml"]
        .iter()
        .map(|route| feed(&server, route))
        .collect();
    let summary =
        run_crawl(feeds, &store, &classifier, &options(), &NoProgress, CancellationToken::new()).await.unwrap();

    // Atom 0.3 and Netscape RSS 0.9 give their entries; a feed with no entries at all is fine.
    assert_eq!(summary.feeds_ok, 3, "{summary:?}");
    assert_eq!(summary.items_new, 4, "{summary:?}");
    let titles: Vec<String> = store
        .query(&ItemQuery { limit: Some(10), ..ItemQuery::default() })
        .unwrap()
        .into_iter()
        .map(|s| s.item.title)
        .collect();
    for title in ["Why we still recommend the flu shot in March", "Measles clinic extended to Fridays"] {
        assert!(titles.iter().any(|t| t == title), "{title}: {titles:?}");
    }
    let flu = store
        .query(&ItemQuery { text: Some("late vaccination".to_owned()), limit: Some(1), ..ItemQuery::default() })
        .unwrap();
    assert_eq!(
        flu[0].item.text, "Flu season is not over: late vaccination still protects.",
        "escaped HTML read as HTML"
    );
    assert!(flu[0].item.published.is_some(), "issued became the publication time");

    // Entries that are there but cannot be read: an error with the count, not a healthy feed.
    assert_eq!(summary.feeds_failed.len(), 1, "{summary:?}");
    let failed = &summary.feeds_failed[0];
    assert_eq!(failed.code, "no-readable-entries");
    assert!(failed.error.starts_with("0 of 3 entries readable"), "{}", failed.error);
    let state = store.feed_states().unwrap().into_iter().find(|s| s.source.as_str().contains("unreadable")).unwrap();
    assert!(state.last_error.as_deref().unwrap_or_default().contains("0 of 3 entries readable"), "{state:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_of_one_feed_sharing_text_or_a_link_are_all_counted() {
    let story = "The regional health agency extends free flu vaccination to everyone over fifty this winter, \
        with walk-in hours at every pharmacy that takes part in the programme.";
    let xml = format!(
        r#"<rss version="2.0"><channel><title>t</title>
        <item><title>Flu shots extended</title><link>https://news.example.org/flu</link><description>{story}</description></item>
        <item><title>Flu shots extended</title><link>https://news.example.org/regional/flu</link><description>{story}</description></item>
        <item><title>Flu shots extended</title><link>https://news.example.org/flu?utm_source=rss</link><description>{story}</description></item>
        <item><title>Clinic hours</title><link>https://news.example.org/flu#hours</link><description>Clinics open on Saturdays from nine to one.</description></item>
        </channel></rss>"#
    );
    let server = MockServer::start().await;
    serve(&server, "/feed.xml", ResponseTemplate::new(200).set_body_string(xml)).await;
    let (_dir, store, _classifier, summary) = crawl_into_a_new_store(vec![feed(&server, "/feed.xml")]).await;

    // Four entries: the story and a post on the same page are items; the story under a second
    // link is an appearance of the first; the same link repeated is a repeat. All counted.
    assert_eq!(summary.items_seen, 4, "{summary:?}");
    assert_eq!(summary.items_new, 2, "{summary:?}");
    assert_eq!(summary.appearances, 1, "{summary:?}");
    assert_eq!(summary.items_duplicate, 2, "{summary:?}");
    let partial = &summary.feeds_partial[0];
    assert_eq!((partial.entries, partial.items, partial.repeated_links, partial.dropped), (4, 3, 1, 0));
    let items = store.query(&ItemQuery::default()).unwrap();
    let story_item = items.iter().find(|s| s.item.title == "Flu shots extended").unwrap();
    let appearances = store.appearances(story_item.item.id).unwrap();
    assert_eq!(appearances[0].url, "https://news.example.org/regional/flu");
    assert!(items.iter().any(|s| s.item.canonical_url == "https://news.example.org/flu#hours"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_read_from_a_file_is_read_offline() {
    // A fact-checker's feed saved to a file: the pages its items link to are not fetched (the
    // offline samples must not resolve their example hosts through DNS).
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any()).respond_with(ResponseTemplate::new(200)).expect(0).mount(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("factcheck.xml");
    std::fs::write(
        &path,
        format!(
            r#"<rss version="2.0"><channel><title>Checks</title>
            <item><title>Fact check: bleach does not cure measles</title><link>{}/checks/bleach</link>
            <description>Drinking bleach does not cure measles and is dangerous, health agencies say.</description></item>
            </channel></rss>"#,
            server.uri()
        ),
    )
    .unwrap();
    let mut spec = FeedSpec::from_url(Url::from_file_path(&path).unwrap());
    spec.category = FeedCategory::FactChecker;
    spec.full_text = true;
    let (store, _) = SledStore::open(&dir.path().join("db")).unwrap();
    let classifier = ClassifierHandle::spawn(Box::new(KeywordClassifier::new(&[])), 2).unwrap();
    let summary =
        run_crawl(vec![spec], &store, &classifier, &options(), &NoProgress, CancellationToken::new()).await.unwrap();
    assert_eq!((summary.items_new, summary.claim_pages_fetched, summary.full_texts), (1, 0, 0), "{summary:?}");
}
