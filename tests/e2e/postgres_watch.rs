//! `watch --store postgres://`: the scheduler polls into PostgreSQL, serves its local API from
//! it, holds the campaign lock while it runs, runs other processes' scoring crawls, and outlives
//! the server closing its connection.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use crate::postgres::{fresh_database, run_json};
use crate::support::{infodemic, stderr, KillOnDrop};

/// The last value of a Prometheus sample line `name value`.
fn sample(metrics: &str, name: &str) -> f64 {
    let line = metrics.lines().find(|line| line.split_whitespace().next() == Some(name));
    line.and_then(|line| line.split_whitespace().nth(1)).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN)
}

/// `key=value` of a structured log line.
fn field(line: &str, key: &str) -> Option<u64> {
    let start = line.find(&format!("{key}="))? + key.len() + 1;
    line[start..].split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

#[test]
fn watch_on_postgres_polls_serves_and_holds_the_campaign_lock() {
    let url = fresh_database();
    let data = tempfile::tempdir().unwrap();
    let import =
        infodemic(data.path()).args(["feeds", "import", "feeds/samples.toml", "--store", &url]).output().unwrap();
    assert!(import.status.success(), "{}", stderr(&import));
    let mut watch = KillOnDrop(
        infodemic(data.path())
            .args(["watch", "--concurrency", "2", "--store", url.as_str()])
            .env("INFODEMIC_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // Synchronise on the log line of the first finished cycle; the rest of the log is kept
    // for the failure message.
    let (lines, cycles) = std::sync::mpsc::channel();
    let pipe = watch.0.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut log = Vec::new();
    let first_cycle = loop {
        match cycles.recv_timeout(Duration::from_secs(180)) {
            Ok(line) if line.contains("Poll cycle finished.") => break line,
            Ok(line) => log.push(line),
            Err(error) => panic!("no cycle finished ({error}): {log:#?}"),
        }
    };
    let polled = field(&first_cycle, "items_new").unwrap();
    assert!(polled > 0, "{first_cycle}");

    // Reading commands go to PostgreSQL itself, and find what the watch stored.
    let stored = run_json(data.path(), Some(&url), &["query", "--limit", "1000"]);
    assert_eq!(stored.len() as u64, polled);
    let stats = run_json(data.path(), Some(&url), &["stats"]);
    assert!(stats[0]["total"]["flagged"].as_u64().unwrap() > 0, "{}", stats[0]);

    // The local API answers from PostgreSQL, and says which store it serves.
    let info: Value = serde_json::from_slice(&std::fs::read(data.path().join("service.json")).unwrap()).unwrap();
    assert_eq!(info["store"].as_str(), Some(url.as_str()), "{info}");
    let scrape = |info: &Value| {
        ureq::get(format!("http://{}/metrics", info["address"].as_str().unwrap()))
            .header("Authorization", format!("Bearer {}", info["token"].as_str().unwrap()))
            .call()
            .ok()
            .map(|mut response| response.body_mut().read_to_string().unwrap())
    };
    let metrics = |info: &Value| scrape(info).unwrap();
    let before = metrics(&info);
    assert_eq!(sample(&before, "infodemic_store_items"), polled as f64, "{before}");
    assert_eq!(sample(&before, "infodemic_feeds{health=\"never_polled\"}"), 0.0, "{before}");

    // Campaigns have one writer, and the watch is it: a second watch on the store is refused,
    // whatever its data directory.
    let elsewhere = tempfile::tempdir().unwrap();
    let second = infodemic(elsewhere.path()).args(["watch", "--store", url.as_str()]).output().unwrap();
    assert!(!second.status.success());
    assert!(stderr(&second).contains("another process writes campaigns"), "{}", stderr(&second));
    assert!(!elsewhere.path().join("service.json").exists());

    // A crawl that scores cannot take the lock either, so it runs in the watch, with the same
    // summary as alone; from another data directory it is refused.
    let misinfo = "tests/fixtures/feeds/misinfo.xml";
    let crawled = run_json(data.path(), Some(&url), &["crawl", "--url", misinfo]);
    let alone = tempfile::tempdir().unwrap();
    let crawled_alone = run_json(alone.path(), None, &["crawl", "--url", misinfo]);
    for key in ["feeds_ok", "items_seen", "items_new", "items_flagged"] {
        assert_eq!(crawled[0][key], crawled_alone[0][key], "{key}: {} against {}", crawled[0], crawled_alone[0]);
    }
    let new = crawled[0]["items_new"].as_u64().unwrap();
    assert!(new > 0, "{}", crawled[0]);
    assert_eq!(run_json(data.path(), Some(&url), &["query", "--limit", "1000"]).len() as u64, polled + new);
    let after = metrics(&info);
    assert_eq!(sample(&after, "infodemic_store_items"), (polled + new) as f64, "{after}");
    assert_eq!(sample(&after, "infodemic_items_stored_total"), (polled + new) as f64, "{after}");
    let refused =
        infodemic(elsewhere.path()).args(["crawl", "--url", misinfo, "--store", url.as_str()]).output().unwrap();
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("another process writes campaigns"), "{}", stderr(&refused));

    // The server ends the watch's sessions (a restart, a failover): the API answers again on
    // new connections.
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let ended = admin
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name = 'infodemic'",
            &[],
        )
        .unwrap();
    assert!(ended.get::<_, i64>(0) >= 2, "the watch's sessions: its pool's and its campaign lock's");
    // The server ends them a moment later: wait until they are gone.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while admin
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'infodemic'",
            &[],
        )
        .unwrap()
        .get::<_, i64>(0)
        > 0
    {
        assert!(std::time::Instant::now() < deadline, "the terminated sessions did not end");
        std::thread::yield_now();
    }
    // The pool's connections were in use a moment ago (not asked at checkout): the first
    // request meets them and runs again on new ones.
    let reconnected = scrape(&info).expect("the API answers at once after the server closed its connections");
    assert_eq!(sample(&reconnected, "infodemic_store_items"), (polled + new) as f64, "{reconnected}");

    // SIGTERM: a clean stop, the announcement removed.
    let status = std::process::Command::new("kill").args(["-TERM", &watch.0.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = watch.0.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    assert!(!data.path().join("service.json").exists());
}
