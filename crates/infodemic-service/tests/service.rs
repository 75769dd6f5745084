//! The service and its client against a real store on 127.0.0.1.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is the failure report.

use chrono::{TimeZone, Utc};
use infodemic_core::{Classification, ContentHash, FeedSpec, Item, ItemId, ItemQuery, ModelRef, ScoredItem, SourceId};
use infodemic_service::{serve, ServiceClient, ServiceInfo};
use infodemic_store::{ItemReader, SledStore};
use tokio_util::sync::CancellationToken;

fn scored(url: &str) -> ScoredItem {
    ScoredItem {
        item: Item {
            id: ItemId::from_canonical_url(url),
            url: url.to_owned(),
            canonical_url: url.to_owned(),
            title: "Bleach cures it".to_owned(),
            text: "A false claim.".to_owned(),
            published: Some(Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap()),
            fetched_at: Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap(),
            author: None,
            source: SourceId::new("s").unwrap(),
            language: Some("en".to_owned()),
            content_hash: ContentHash::of(url, "x"),
            links: Vec::new(),
            simhash: None,
        },
        classification: Classification {
            score: 0.9,
            flagged: true,
            review: true,
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_reads_and_subscribes_through_the_running_service() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = SledStore::open(&dir.path().join("store")).unwrap();
    let item = scored("https://e.org/a");
    store.commit(std::slice::from_ref(&item), &[], &[]).unwrap();
    let cancel = CancellationToken::new();
    let handle = serve(store, dir.path(), cancel.clone()).await.unwrap();

    let data_dir = dir.path().to_path_buf();
    let expected = item.clone();
    tokio::task::spawn_blocking(move || {
        let client = ServiceClient::discover(&data_dir).unwrap().expect("service announced");
        assert_eq!(
            client.query(&ItemQuery { flagged_only: true, ..Default::default() }).unwrap(),
            vec![expected.clone()]
        );
        let id = expected.item.id;
        assert_eq!(client.get(id).unwrap(), Some(expected));
        assert_eq!(client.get(ItemId([0; 8])).unwrap(), None);
        assert_eq!(client.stats().unwrap().total.items, 1);
        let spec = FeedSpec::from_url(url::Url::parse("http://127.0.0.1:9/feeds/a.xml").unwrap());
        assert!(client.put_subscription(&spec).unwrap());
        assert_eq!(client.subscriptions().unwrap(), vec![spec.clone()]);
        assert!(client.remove_subscription(spec.id.as_str()).unwrap());
        assert!(client.subscriptions().unwrap().is_empty());
    })
    .await
    .unwrap();

    // Without the token, nothing.
    let address = handle.info.address.clone();
    let status = tokio::task::spawn_blocking(move || match ureq::get(format!("http://{address}/v1/stats")).call() {
        Err(ureq::Error::StatusCode(code)) => code,
        other => panic!("expected a refusal, got {other:?}"),
    })
    .await
    .unwrap();
    assert_eq!(status, 401);

    cancel.cancel();
    handle.stopped().await;
    assert!(ServiceInfo::read(dir.path()).unwrap().is_none(), "service.json removed on stop");
}

#[test]
fn a_stale_service_file_is_not_a_service() {
    let dir = tempfile::tempdir().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    drop(listener);
    ServiceInfo { address, pid: 1, token: "t".to_owned(), started: Utc::now() }.write(dir.path()).unwrap();
    assert!(ServiceClient::discover(dir.path()).unwrap().is_none());
}
