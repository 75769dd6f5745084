//! The work queues against a real NATS server with JetStream, started by `scripts/nats.sh`
//! (the test command does) and named by `INFODEMIC_TEST_NATS`; without it these tests fail.
//! Each test uses a queue name of its own.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is the failure report.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use infodemic_core::{FeedCategory, FeedSpec, ItemId, SourceId};
use infodemic_queue::{Backlog, CrawlQueue, QueueAuth, QueueConfig, QueueError, ScoreQueue, SCORE_JOB_ITEMS};

fn server() -> String {
    std::env::var("INFODEMIC_TEST_NATS").unwrap_or_else(|_| {
        panic!("INFODEMIC_TEST_NATS is not set: start the test server with `eval \"$(bash scripts/nats.sh start)\"`")
    })
}

fn config(ack_wait: Duration) -> QueueConfig {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let name = format!("t{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    QueueConfig { name, ack_wait: Some(ack_wait), ..QueueConfig::default() }
}

fn feed(n: usize) -> FeedSpec {
    FeedSpec::from_url(url::Url::parse(&format!("http://127.0.0.1:9/feed-{n}.xml")).unwrap())
}

#[tokio::test]
async fn a_job_is_published_once_per_due_time_and_leaves_when_acknowledged() {
    let queue = CrawlQueue::connect(&server(), &config(Duration::from_secs(30))).await.unwrap();
    let due = Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
    assert!(queue.enqueue(&feed(1), Some(due)).await.unwrap());
    assert!(!queue.enqueue(&feed(1), Some(due)).await.unwrap(), "same feed, same due time: a duplicate");
    assert!(queue.enqueue(&feed(1), Some(due + chrono::Duration::minutes(5))).await.unwrap());
    assert!(queue.enqueue(&feed(2), None).await.unwrap());
    assert_eq!(queue.backlog().await.unwrap(), Backlog { waiting: 3, unacknowledged: 0 });

    let taken = queue.take(10, Duration::from_secs(2)).await.unwrap();
    assert_eq!(taken.len(), 3);
    assert_eq!(taken[0].job.feed, feed(1));
    assert_eq!(taken[0].job.due, Some(due));
    assert_eq!(taken[2].job.due, None);
    assert!(taken.iter().all(|d| d.attempt == 1));
    assert_eq!(queue.backlog().await.unwrap(), Backlog { waiting: 0, unacknowledged: 3 });
    for delivery in &taken {
        delivery.ack().await.unwrap();
    }
    assert!(queue.backlog().await.unwrap().is_empty());
    assert!(queue.take(10, Duration::from_millis(300)).await.unwrap().is_empty());
}

/// What a worker that died held goes to another worker once `ack_wait` has passed; what it
/// reported progress on does not.
#[tokio::test]
async fn unacknowledged_jobs_are_handed_out_again() {
    let config = config(Duration::from_secs(1));
    let first = CrawlQueue::connect(&server(), &config).await.unwrap();
    for n in 0..3 {
        first.enqueue(&feed(n), None).await.unwrap();
    }
    let held = first.take(2, Duration::from_secs(2)).await.unwrap();
    assert_eq!(held.len(), 2);
    drop(first); // the worker is gone, its jobs unacknowledged

    let second = CrawlQueue::connect(&server(), &config).await.unwrap();
    let mut seen = Vec::new();
    while seen.len() < 3 {
        // Waits on the server: the dead worker's jobs come back after ack_wait.
        for delivery in second.take(3, Duration::from_secs(5)).await.unwrap() {
            seen.push((delivery.job.feed.id.to_string(), delivery.attempt));
            delivery.ack().await.unwrap();
        }
    }
    seen.sort();
    let again: Vec<i64> = seen.iter().map(|(_, attempt)| *attempt).collect();
    assert_eq!(again.iter().filter(|a| **a == 2).count(), 2, "{seen:?}");
    assert!(second.backlog().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_message_that_is_not_a_job_is_dropped_not_redelivered() {
    let config = config(Duration::from_secs(1));
    let queue = CrawlQueue::connect(&server(), &config).await.unwrap();
    let client = async_nats::connect(server()).await.unwrap();
    let jetstream = async_nats::jetstream::new(client);
    let subject = format!("{}.crawl", config.name);
    jetstream.publish(subject.clone(), "not json".into()).await.unwrap().await.unwrap();
    jetstream.publish(subject, r#"{"v":9,"feed":null}"#.into()).await.unwrap().await.unwrap();
    queue.enqueue(&feed(1), None).await.unwrap();
    let taken = queue.take(10, Duration::from_secs(2)).await.unwrap();
    assert_eq!(taken.len(), 1);
    taken[0].ack().await.unwrap();
    assert!(queue.backlog().await.unwrap().is_empty(), "the bad messages were terminated");
}

#[tokio::test]
async fn a_bad_name_is_refused_before_the_server_sees_it() {
    let config = QueueConfig { name: "a.b".to_owned(), ..QueueConfig::default() };
    let error = CrawlQueue::connect(&server(), &config).await.unwrap_err();
    assert!(error.to_string().contains("queue name"), "{error}");
}

/// The consumer outlives processes: a process connecting with another ack wait changes it,
/// one that names none (a scheduler) leaves it.
#[tokio::test]
async fn a_worker_sets_the_ack_wait_and_a_scheduler_keeps_it() {
    let long = config(Duration::from_secs(60));
    let short = QueueConfig { ack_wait: Some(Duration::from_secs(1)), ..long.clone() };
    let keep = QueueConfig { ack_wait: None, ..long.clone() };
    CrawlQueue::connect(&server(), &long).await.unwrap();
    let worker = CrawlQueue::connect(&server(), &short).await.unwrap();
    let scheduler = CrawlQueue::connect(&server(), &keep).await.unwrap();
    scheduler.enqueue(&feed(1), None).await.unwrap();
    let held = worker.take(1, Duration::from_secs(2)).await.unwrap();
    assert_eq!(held.len(), 1);
    // Handed out again after one second, not sixty (the take waits at most ten).
    let again = worker.take(1, Duration::from_secs(10)).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempt, 2);
    again[0].ack().await.unwrap();
}

/// Score jobs: items in jobs of at most `SCORE_JOB_ITEMS`, the same items published again
/// dropped by the server, and a queue of their own (a crawl worker taking from the crawl queue
/// never sees them).
#[tokio::test]
async fn items_are_queued_for_scoring_once_in_jobs_of_their_own() {
    let config = config(Duration::from_secs(30));
    let scores = ScoreQueue::connect(&server(), &config).await.unwrap();
    let crawls = CrawlQueue::connect(&server(), &config).await.unwrap();
    let items: Vec<ItemId> =
        (0..SCORE_JOB_ITEMS * 2 + 1).map(|n| ItemId::from_canonical_url(&format!("https://e.org/{n}"))).collect();
    let categories = BTreeMap::from([(SourceId::new("who").unwrap(), FeedCategory::Authority)]);
    assert_eq!(scores.enqueue_items(&items, &categories).await.unwrap(), 3);
    assert_eq!(scores.enqueue_items(&items, &categories).await.unwrap(), 0, "published again: dropped");
    assert_eq!(scores.backlog().await.unwrap(), Backlog { waiting: 3, unacknowledged: 0 });
    assert!(crawls.backlog().await.unwrap().is_empty());

    let taken = scores.take(10, Duration::from_secs(2)).await.unwrap();
    let lengths: Vec<usize> = taken.iter().map(|d| d.job.items.len()).collect();
    assert_eq!(lengths, [SCORE_JOB_ITEMS, SCORE_JOB_ITEMS, 1]);
    let back: Vec<ItemId> = taken.iter().flat_map(|d| d.job.items.clone()).collect();
    assert_eq!(back, items);
    assert!(taken.iter().all(|d| d.job.categories == categories));
    for delivery in &taken {
        delivery.ack().await.unwrap();
    }
    assert!(scores.backlog().await.unwrap().is_empty());
}

/// A `tls://` server: reached with the CA that signed its certificate, refused without it (the
/// certificate is verified), and a CA file that is not there is named.
#[tokio::test]
async fn a_tls_server_is_reached_with_its_ca_and_refused_without() {
    let (server, ca) = match (std::env::var("INFODEMIC_TEST_NATS_TLS"), std::env::var("INFODEMIC_TEST_NATS_CA")) {
        (Ok(server), Ok(ca)) => (server, std::path::PathBuf::from(ca)),
        _ => panic!("INFODEMIC_TEST_NATS_TLS and _CA are not set: start the servers with scripts/nats.sh"),
    };
    let trusted = QueueConfig { root_ca: Some(ca), ..config(Duration::from_secs(30)) };
    let queue = CrawlQueue::connect(&server, &trusted).await.unwrap();
    assert!(queue.enqueue(&feed(1), None).await.unwrap());
    let taken = queue.take(1, Duration::from_secs(2)).await.unwrap();
    assert_eq!(taken.len(), 1);
    taken[0].ack().await.unwrap();

    let untrusted = CrawlQueue::connect(&server, &config(Duration::from_secs(30))).await.unwrap_err();
    assert!(matches!(untrusted, QueueError::Connect { .. }), "{untrusted}");
    let missing = QueueConfig { root_ca: Some("/nonexistent/ca.pem".into()), ..config(Duration::from_secs(30)) };
    let error = CrawlQueue::connect(&server, &missing).await.unwrap_err();
    assert!(error.to_string().contains("/nonexistent/ca.pem"), "{error}");
}

/// A server started by `scripts/nats.sh`, by the variable that names it.
fn started(variable: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| {
        panic!("{variable} is not set: start the test servers with `eval \"$(bash scripts/nats.sh start)\"`")
    })
}

/// A file of `tests/fixtures/nats/` (public test keys from nats.rs; see SOURCE.txt there).
fn nats_fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/nats").join(name)
}

/// A server that admits one user, by NKey: with the user's seed file the queue works; without
/// it the connection is refused; a file that holds no seed, or none at all, is named.
#[tokio::test]
async fn a_user_with_an_nkey_seed_file_is_admitted_and_others_refused() {
    let server = started("INFODEMIC_TEST_NATS_NKEY");
    let admitted =
        QueueConfig { auth: QueueAuth::NkeySeed(nats_fixture("nkey.seed")), ..config(Duration::from_secs(30)) };
    let queue = CrawlQueue::connect(&server, &admitted).await.unwrap();
    assert!(queue.enqueue(&feed(1), None).await.unwrap());
    let taken = queue.take(1, Duration::from_secs(2)).await.unwrap();
    assert_eq!(taken.len(), 1);
    taken[0].ack().await.unwrap();

    let anonymous = CrawlQueue::connect(&server, &config(Duration::from_secs(30))).await.unwrap_err();
    assert!(anonymous.to_string().contains("authorization violation"), "{anonymous}");
    let dir = tempfile::tempdir().unwrap();
    for (name, text, says) in [
        ("public.nk", "UAFHG6FUD2UU4SDFVAFUL5LDFO2XM4WYM76UNXTPJYJK7EEMYRBHT2VE\n", "no user seed"),
        ("two.nk", "SUACH75SWCM5D2JMJM6EKLR2WDARVGZT4QC6LX3AGHSWOMVAKERABBBRWM\nSUACH75SWCM5D2JMJM6EKLR2WDARVGZT4QC6LX3AGHSWOMVAKERABBBRWM\n", "more than one"),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let refused = QueueConfig { auth: QueueAuth::NkeySeed(path), ..config(Duration::from_secs(30)) };
        let error = CrawlQueue::connect(&server, &refused).await.unwrap_err();
        assert!(error.to_string().contains(name) && error.to_string().contains(says), "{error}");
    }
    let missing =
        QueueConfig { auth: QueueAuth::NkeySeed("/nonexistent/user.nk".into()), ..config(Duration::from_secs(30)) };
    let error = CrawlQueue::connect(&server, &missing).await.unwrap_err();
    assert!(error.to_string().contains("/nonexistent/user.nk"), "{error}");
}

/// A server in operator mode admits the user one of its accounts issued credentials to: with
/// `TestUser.creds` the connection is authenticated, and the server goes on to say that JetStream
/// is not enabled for that account (the fixture's account has none), a setup error, not a
/// refused connection; without credentials, or with a file that holds no JWT, it is refused.
#[tokio::test]
async fn a_credentials_file_authenticates_to_a_server_in_operator_mode() {
    let server = started("INFODEMIC_TEST_NATS_OPERATOR");
    let creds =
        QueueConfig { auth: QueueAuth::Credentials(nats_fixture("TestUser.creds")), ..config(Duration::from_secs(30)) };
    let authenticated = CrawlQueue::connect(&server, &creds).await.unwrap_err();
    assert!(matches!(authenticated, QueueError::Setup { .. }), "{authenticated}");
    assert!(authenticated.to_string().contains("jetstream"), "{authenticated}");

    let anonymous = CrawlQueue::connect(&server, &config(Duration::from_secs(30))).await.unwrap_err();
    assert!(anonymous.to_string().contains("authorization violation"), "{anonymous}");
    let seed_only =
        QueueConfig { auth: QueueAuth::Credentials(nats_fixture("nkey.seed")), ..config(Duration::from_secs(30)) };
    let error = CrawlQueue::connect(&server, &seed_only).await.unwrap_err();
    assert!(matches!(error, QueueError::Connect { .. }) && error.to_string().contains("nkey.seed"), "{error}");
}
