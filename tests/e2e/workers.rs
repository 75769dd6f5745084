//! A deployment across processes: a scheduler queues feeds on NATS JetStream, three crawl
//! workers store them in PostgreSQL, one is killed mid-run, and nothing is lost or stored twice;
//! then two score workers score what the crawl workers queued, one is killed mid-run, and every
//! item ends scored once by the current model, with counters that agree.
//!
//! The servers are the test NATS (`INFODEMIC_TEST_NATS`, `scripts/nats.sh`) and PostgreSQL
//! (`INFODEMIC_TEST_POSTGRES`, `scripts/postgres.sh`); without them this fails.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::postgres::fresh_database;
use crate::support::{infodemic, json_lines, stderr};

const FEEDS: usize = 24;
const ITEMS_PER_FEED: usize = 10;

const WORDS: [&str; 24] = [
    "measles",
    "vaccine",
    "clinic",
    "outbreak",
    "hospital",
    "nurses",
    "fever",
    "antibiotics",
    "district",
    "ward",
    "oxygen",
    "insulin",
    "asthma",
    "screening",
    "dengue",
    "malaria",
    "cholera",
    "water",
    "trial",
    "dose",
    "pharmacy",
    "midwife",
    "surgery",
    "influenza",
];

/// An item's text: its own mix of words, so no two items look like copies of each other.
fn text(n: usize, i: usize) -> String {
    let mut state = ((n * 1000 + i) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..30)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            WORDS[(state % WORDS.len() as u64) as usize]
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn feed(n: usize) -> String {
    let mut body = String::from(r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Health desk</title>"#);
    for i in 0..ITEMS_PER_FEED {
        body.push_str(&format!(
            "<item><title>Health desk {n}, report {i}</title><link>https://desk{n}.example.org/{i}</link>\
             <pubDate>Tue, 01 Dec 2026 0{}:{:02}:00 GMT</pubDate><description>{}</description></item>",
            i % 10,
            n,
            text(n, i)
        ));
    }
    body + "</channel></rss>"
}

/// Waits for a worker to exit, at most two minutes (a hung worker fails the test instead of
/// hanging it).
pub(crate) fn finish(child: Child) -> std::process::Output {
    let (done, wait) = mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output()));
    wait.recv_timeout(Duration::from_secs(120)).expect("a worker did not finish within two minutes").unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn three_workers_one_killed_store_every_item_once() {
    let queue = std::env::var("INFODEMIC_TEST_NATS")
        .expect("INFODEMIC_TEST_NATS is not set: run `eval \"$(bash scripts/nats.sh start)\"` first");
    let store = tokio::task::spawn_blocking(fresh_database).await.unwrap();
    let queue_name = format!("e2e-{}", std::process::id());
    let server = MockServer::start().await;
    let mut catalogue = String::new();
    for n in 0..FEEDS {
        // Slow enough that the killed worker is killed while its jobs are in flight.
        Mock::given(path(format!("/feed/{n}.xml")))
            .respond_with(ResponseTemplate::new(200).set_body_string(feed(n)).set_delay(Duration::from_millis(300)))
            .mount(&server)
            .await;
        catalogue.push_str(&format!("[[feed]]\nid = \"desk-{n}\"\nurl = \"{}/feed/{n}.xml\"\n\n", server.uri()));
    }
    let data = tempfile::tempdir().unwrap();
    let catalogue_path = data.path().join("feeds.toml");
    std::fs::write(&catalogue_path, catalogue).unwrap();
    let common = ["--queue", queue.as_str(), "--queue-name", queue_name.as_str(), "--store", store.as_str()];

    let mut scheduler = infodemic(data.path());
    scheduler.args(["worker", "--role", "scheduler", "--once", "--json", "--feeds"]).arg(&catalogue_path).args(common);
    let output = crate::support::run(scheduler).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(json_lines(&output)[0]["enqueued"], FEEDS);

    let spawn = |log: &str| {
        let mut worker = infodemic(data.path());
        worker
            .args(["worker", "--role", "crawl", "--exit-when-idle", "--json", "--jobs", "2", "--concurrency", "2"])
            .args(["--ack-wait", "2", "--host-delay", "0"])
            .args(common)
            .env("INFODEMIC_LOG", log)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        worker.spawn().unwrap()
    };
    let mut doomed = spawn("info");
    let survivors = [spawn("warn"), spawn("warn")];
    // Killed as soon as it says it holds jobs: they are fetched in 300 ms at the soonest.
    let mut log = BufReader::new(doomed.stderr.take().unwrap()).lines();
    loop {
        let line = log.next().expect("the worker ended before taking a job").unwrap();
        if line.contains("Jobs taken.") {
            break;
        }
    }
    doomed.kill().unwrap();
    doomed.wait().unwrap();

    let summaries: Vec<Value> = tokio::task::spawn_blocking(move || {
        survivors
            .into_iter()
            .map(|child| {
                let output = finish(child);
                assert!(output.status.success(), "{}", stderr(&output));
                json_lines(&output).remove(0)
            })
            .collect()
    })
    .await
    .unwrap();
    let sum = |field: &str| summaries.iter().map(|s| s[field].as_u64().unwrap()).sum::<u64>();
    assert!(sum("jobs_redelivered") >= 1, "the killed worker's jobs went to the others: {summaries:?}");
    assert_eq!(sum("jobs_done"), FEEDS as u64, "{summaries:?}");
    assert_eq!(sum("items_new"), (FEEDS * ITEMS_PER_FEED) as u64, "{summaries:?}");

    let mut query = infodemic(data.path());
    query.args(["query", "--json", "--limit", "100000", "--store", store.as_str()]);
    let items = json_lines(&crate::support::run(query).await);
    let ids: BTreeSet<&str> = items.iter().map(|item| item["id"].as_str().unwrap()).collect();
    assert_eq!(items.len(), FEEDS * ITEMS_PER_FEED, "every item stored");
    assert_eq!(ids.len(), items.len(), "none stored twice");
    let mut stats = infodemic(data.path());
    stats.args(["stats", "--json", "--store", store.as_str()]);
    let stats = json_lines(&crate::support::run(stats).await).remove(0);
    assert_eq!(stats["total"]["items"], FEEDS * ITEMS_PER_FEED);
    assert_eq!(stats["feeds"], FEEDS, "every feed's state was committed");
    assert_eq!(stats["per_label"]["unscored"], FEEDS * ITEMS_PER_FEED, "crawl workers do not score");
    assert!(sum("score_jobs") >= 1, "{summaries:?}");
    assert_eq!(sum("items_not_queued"), 0, "{summaries:?}");

    let spawn_scorer = |log: &str| {
        let mut worker = infodemic(data.path());
        worker
            .args(["worker", "--role", "score", "--exit-when-idle", "--json", "--jobs", "1", "--ack-wait", "2"])
            .args(common)
            .env("INFODEMIC_LOG", log)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        worker.spawn().unwrap()
    };
    let mut doomed = spawn_scorer("info");
    // Killed once it holds a job: its model is loaded, its first batch not yet committed.
    let mut log = BufReader::new(doomed.stderr.take().unwrap()).lines();
    loop {
        let line = log.next().expect("the score worker ended before taking a job").unwrap();
        if line.contains("Score jobs taken.") {
            break;
        }
    }
    doomed.kill().unwrap();
    doomed.wait().unwrap();
    let survivor = spawn_scorer("warn");
    let scored = tokio::task::spawn_blocking(move || {
        let output = finish(survivor);
        assert!(output.status.success(), "{}", stderr(&output));
        json_lines(&output).remove(0)
    })
    .await
    .unwrap();
    let total = (FEEDS * ITEMS_PER_FEED) as u64;
    let done = scored["items_scored"].as_u64().unwrap() + scored["items_current"].as_u64().unwrap();
    assert_eq!(done, total, "every queued item scored once more or found scored: {scored}");
    assert_eq!(scored["items_missing"], 0, "{scored}");
    assert!(scored["jobs_redelivered"].as_u64().unwrap() >= 1, "the killed worker's job came back: {scored}");

    let mut stats = infodemic(data.path());
    stats.args(["stats", "--json", "--store", store.as_str()]);
    let stats = json_lines(&crate::support::run(stats).await).remove(0);
    assert_eq!(stats["total"]["items"], total);
    assert!(stats["per_label"].get("unscored").is_none(), "every item scored: {}", stats["per_label"]);
    let mut flagged = infodemic(data.path());
    flagged.args(["query", "--json", "--flagged", "--limit", "100000", "--store", store.as_str()]);
    let flagged = json_lines(&crate::support::run(flagged).await).len() as u64;
    assert_eq!(stats["total"]["flagged"], flagged, "the counters moved once per item");
    let mut dry = infodemic(data.path());
    dry.args(["rescore", "--dry-run", "--json", "--store", store.as_str()]);
    let dry = json_lines(&crate::support::run(dry).await).remove(0);
    assert_eq!((dry["items_rescored"].as_u64(), dry["items_current"].as_u64()), (Some(0), Some(total)), "{dry}");
}

/// A worker proves who it is to a NATS server that admits users by NKey: with the seed file
/// (`--queue-nkey`, or `INFODEMIC_QUEUE_NKEY`) it queues, without it the server refuses it,
/// and a credentials file and a seed file together are a usage error.
#[test]
fn a_worker_authenticates_with_an_nkey_seed_file() {
    let queue = std::env::var("INFODEMIC_TEST_NATS_NKEY")
        .expect("INFODEMIC_TEST_NATS_NKEY is not set: run `eval \"$(bash scripts/nats.sh start)\"` first");
    let store = fresh_database();
    let seed = crate::support::workspace().join("tests/fixtures/nats/nkey.seed");
    let data = tempfile::tempdir().unwrap();
    let catalogue = data.path().join("feeds.toml");
    std::fs::write(&catalogue, "[[feed]]\nid = \"desk\"\nurl = \"http://127.0.0.1:9/feed.xml\"\n").unwrap();
    let queue_name = format!("e2e-nkey-{}", std::process::id());
    let scheduler = || {
        let mut command = infodemic(data.path());
        command.args(["worker", "--role", "scheduler", "--once", "--json", "--feeds"]).arg(&catalogue);
        command.args(["--queue", queue.as_str(), "--queue-name", queue_name.as_str(), "--store", store.as_str()]);
        command
    };
    let output = scheduler().arg("--queue-nkey").arg(&seed).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(json_lines(&output)[0]["enqueued"], 1);
    let output = scheduler().env("INFODEMIC_QUEUE_NKEY", &seed).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));

    let output = scheduler().output().unwrap();
    assert!(!output.status.success());
    assert!(stderr(&output).contains("authorization violation"), "{}", stderr(&output));
    let output = scheduler().arg("--queue-nkey").arg(&seed).arg("--queue-creds").arg(&seed).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
}
