//! The service and its client against a real store on 127.0.0.1.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is the failure report.

use chrono::{TimeZone, Utc};
use infodemic_core::{Classification, ContentHash, FeedSpec, Item, ItemId, ItemQuery, ModelRef, ScoredItem, SourceId};
use infodemic_service::{serve, ServeOptions, ServiceClient, ServiceInfo};
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
    let handle = serve(store, dir.path(), cancel.clone(), ServeOptions::default()).await.unwrap();

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
    ServiceInfo { address, pid: 1, token: "t".to_owned(), started: Utc::now(), store: None }.write(dir.path()).unwrap();
    assert!(ServiceClient::discover(dir.path()).unwrap().is_none());
}

/// Serves `answer` to every request on a local port, as a process that took a dead service's
/// port would; returns its address.
fn impostor(answer: &'static str) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut request = [0u8; 2048];
            let _ = stream.read(&mut request);
            let response =
                format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}", answer.len());
            let _ = stream.write_all(response.as_bytes());
        }
    });
    address
}

#[test]
fn a_process_on_the_port_of_a_dead_service_is_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let address = impostor("ok");
    ServiceInfo { address, pid: 1, token: "a".repeat(64), started: Utc::now(), store: None }.write(dir.path()).unwrap();
    assert!(ServiceClient::discover(dir.path()).unwrap().is_none(), "it answers health, but cannot prove the token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_random_and_the_info_file_is_private_even_over_a_planted_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    // A temporary file left readable by everyone, where the service writes its info first.
    let temp = dir.path().join(format!("{}.tmp", infodemic_service::INFO_FILE));
    std::fs::write(&temp, b"planted").unwrap();
    #[cfg(unix)]
    std::fs::set_permissions(&temp, std::os::unix::fs::PermissionsExt::from_mode(0o666)).unwrap();
    let (store, _) = SledStore::open(&dir.path().join("store")).unwrap();
    let cancel = CancellationToken::new();
    let handle = serve(store, dir.path(), cancel.clone(), ServeOptions::default()).await.unwrap();
    let token = handle.info.token.clone();
    assert_eq!(token.len(), 64);
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(infodemic_service::INFO_FILE)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The real service proves itself.
    let data_dir = dir.path().to_path_buf();
    let found = tokio::task::spawn_blocking(move || ServiceClient::discover(&data_dir).unwrap().is_some());
    assert!(found.await.unwrap());
    cancel.cancel();
    handle.stopped().await;

    let (store, _) = SledStore::open(&dir.path().join("store2")).unwrap();
    let cancel = CancellationToken::new();
    let again = serve(store, dir.path(), cancel.clone(), ServeOptions::default()).await.unwrap();
    assert_ne!(again.info.token, token);
    cancel.cancel();
    again.stopped().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn campaigns_and_alerts_are_read_through_the_running_service() {
    use infodemic_core::{
        Alert, Campaign, CampaignCounters, CampaignEvent, CampaignId, CampaignMember, CampaignProfile, CampaignStatus,
    };
    use infodemic_store::{CampaignCommit, CampaignReader};

    let dir = tempfile::tempdir().unwrap();
    let (store, _) = SledStore::open(&dir.path().join("store")).unwrap();
    let at = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
    let member = CampaignMember {
        id: "item/1".to_owned(),
        url: "https://e.org/a".to_owned(),
        text: "Bleach cures it".to_owned(),
        time: Some(at),
        source: "s".to_owned(),
        account: None,
        score: Some(0.9),
    };
    let campaign = Campaign {
        id: CampaignId(7),
        status: CampaignStatus::Active,
        representative: member.clone(),
        representative_similarity: 0.0,
        first_seen: at,
        last_seen: at,
        size: 1,
        sources: [("s".to_owned(), 1)].into(),
        accounts: Default::default(),
        languages: Default::default(),
        hourly: Default::default(),
        fact_checks: Default::default(),
        scores: Default::default(),
        techniques: Vec::new(),
        history: vec![CampaignEvent::Opened { at, item: member.id.clone() }],
        profile: CampaignProfile::default(),
    };
    let alert =
        Alert { seq: 1, campaign: CampaignId(7), at, kind: "opening".into(), summary: "opened".into(), size: 1 };
    store
        .commit_campaigns(&CampaignCommit {
            counters: CampaignCounters { docs: 1, next_id: 8, next_alert: 2 },
            campaigns: vec![campaign.clone()],
            terms: Vec::new(),
            members: vec![(CampaignId(7), 1, member.clone())],
            alerts: vec![alert.clone()],
        })
        .unwrap();
    let cancel = CancellationToken::new();
    let handle = serve(store, dir.path(), cancel.clone(), ServeOptions::default()).await.unwrap();
    let data_dir = dir.path().to_path_buf();
    tokio::task::spawn_blocking(move || {
        let client = ServiceClient::discover(&data_dir).unwrap().expect("service announced");
        assert_eq!(client.campaigns().unwrap(), vec![campaign.clone()]);
        assert_eq!(client.campaign_heads().unwrap(), vec![infodemic_core::CampaignHead::of(&campaign)]);
        assert_eq!(client.campaign(CampaignId(7)).unwrap(), Some(campaign));
        assert_eq!(client.campaign(CampaignId(8)).unwrap(), None);
        assert_eq!(client.campaign_members(CampaignId(7), Some(5)).unwrap(), vec![member]);
        // An id with a slash travels percent-encoded.
        assert_eq!(client.campaign_of("item/1").unwrap(), Some(CampaignId(7)));
        assert_eq!(client.campaign_of("nope").unwrap(), None);
        assert_eq!(client.alerts().unwrap(), vec![alert]);
    })
    .await
    .unwrap();
    cancel.cancel();
    handle.stopped().await;
}
