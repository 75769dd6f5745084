//! The campaign writer of a deployment across processes: five sites repeat one health claim in
//! their own words within an hour; a crawl worker stores the feeds, a score worker scores them,
//! and the campaign writer groups what is worth a review into a campaign in PostgreSQL, which
//! `campaigns` and `alerts` then list from the same store. A second campaign writer waits while
//! the first lives and takes over when it is killed.
//!
//! Servers: the test NATS and PostgreSQL (`INFODEMIC_TEST_NATS`, `INFODEMIC_TEST_POSTGRES`).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

use serde_json::Value;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::postgres::fresh_database;
use crate::support::{infodemic, json_lines, run, stderr};
use crate::workers::finish;

/// One claim, reworded by each site.
const CLAIM: [&str; 5] = [
    "Drinking a small glass of bleach every morning cures the coronavirus in hours, and doctors hide it",
    "Doctors hide that drinking bleach every morning cures the coronavirus within hours",
    "A glass of bleach each morning cures coronavirus in a few hours, doctors are hiding the cure",
    "Bleach cures the coronavirus in hours if you drink a glass every morning, the doctors hide it",
    "They hide it: drinking bleach in the morning cures the coronavirus in hours, say doctors",
];

/// Ordinary health news, one line per site.
const NEWS: [&str; 5] = [
    "The district hospital opened a new maternity ward with twenty beds and a neonatal unit",
    "Health ministry schedules free measles vaccination sessions at schools next month",
    "Nurses at the regional clinic report fewer dengue cases after the spraying campaign",
    "The pharmacy council publishes updated guidance on storing insulin during power cuts",
    "Researchers begin a trial of a shorter tuberculosis treatment at three city clinics",
];

fn feed(n: usize) -> String {
    format!(
        r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Site {n}</title>
        <item><title>{claim}</title><link>https://site{n}.example.org/claim</link>
        <pubDate>Tue, 01 Dec 2026 08:{claim_minute:02}:00 GMT</pubDate><description>{claim}</description></item>
        <item><title>{news}</title><link>https://site{n}.example.org/news</link>
        <pubDate>Tue, 01 Dec 2026 07:{claim_minute:02}:00 GMT</pubDate><description>{news}</description></item>
        </channel></rss>"#,
        claim = CLAIM[n],
        news = NEWS[n],
        claim_minute = n * 11,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn copies_of_a_claim_become_one_campaign_written_by_one_process() {
    let queue = std::env::var("INFODEMIC_TEST_NATS")
        .expect("INFODEMIC_TEST_NATS is not set: run `eval \"$(bash scripts/nats.sh start)\"` first");
    let store = tokio::task::spawn_blocking(fresh_database).await.unwrap();
    let queue_name = format!("e2e-campaigns-{}", std::process::id());
    let server = MockServer::start().await;
    let mut catalogue = String::new();
    for n in 0..CLAIM.len() {
        Mock::given(path(format!("/site/{n}.xml")))
            .respond_with(ResponseTemplate::new(200).set_body_string(feed(n)))
            .mount(&server)
            .await;
        catalogue.push_str(&format!("[[feed]]\nid = \"site-{n}\"\nurl = \"{}/site/{n}.xml\"\n\n", server.uri()));
    }
    let data = tempfile::tempdir().unwrap();
    let catalogue_path = data.path().join("feeds.toml");
    std::fs::write(&catalogue_path, catalogue).unwrap();
    let common = ["--queue", queue.as_str(), "--queue-name", queue_name.as_str(), "--store", store.as_str()];
    let worker = |role: &str, log: &str| {
        let mut command = infodemic(data.path());
        command.args(["worker", "--role", role, "--json", "--ack-wait", "5"]).args(common).env("INFODEMIC_LOG", log);
        command
    };

    let mut scheduler = worker("scheduler", "warn");
    scheduler.args(["--once", "--feeds"]).arg(&catalogue_path);
    let output = run(scheduler).await;
    assert!(output.status.success(), "{}", stderr(&output));
    for (role, extra) in [("crawl", &["--exit-when-idle", "--host-delay", "0"][..]), ("score", &["--exit-when-idle"])] {
        let mut command = worker(role, "warn");
        command.args(extra);
        let output = run(command).await;
        assert!(output.status.success(), "{role}: {}", stderr(&output));
        let summary = json_lines(&output).remove(0);
        assert_eq!(summary["jobs_done"].as_u64().map(|n| n > 0), Some(true), "{role}: {summary}");
    }

    // The first writer runs until killed; it says when it has assigned what was queued.
    let mut first = worker("campaigns", "info");
    let mut first = first.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut log = BufReader::new(first.stderr.take().unwrap()).lines();
    let assigned_line = loop {
        let line = log.next().expect("the campaign writer ended before assigning").unwrap();
        if line.contains("Campaigns assigned.") {
            break line;
        }
    };
    // A second writer waits for the first.
    let mut second = worker("campaigns", "info");
    let mut second = second.arg("--exit-when-idle").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut second_log = BufReader::new(second.stderr.take().unwrap()).lines();
    loop {
        let line = second_log.next().expect("the second writer ended without waiting").unwrap();
        assert!(!line.contains("Campaigns assigned."), "two writers at once: {line}");
        if line.contains("waiting to take over") {
            break;
        }
    }
    first.kill().unwrap();
    first.wait().unwrap();
    // The standby takes over (the server frees the lock with the connection), finds the queue
    // empty, and stops.
    let drained = std::thread::spawn(move || second_log.map_while(Result::ok).collect::<Vec<_>>());
    let output = tokio::task::spawn_blocking(move || finish(second)).await.unwrap();
    let second_lines = drained.join().unwrap();
    assert!(output.status.success(), "{}", second_lines.join("\n"));
    assert!(second_lines.iter().any(|l| l.contains("This process writes campaigns now.")), "{second_lines:?}");
    let summary = json_lines(&output).remove(0);
    assert_eq!(summary["items_assigned"], 0, "everything was assigned by the first: {summary} ({assigned_line})");

    let mut review = infodemic(data.path());
    review.args(["query", "--review", "--json", "--limit", "1000", "--store", store.as_str()]);
    let review: BTreeSet<String> =
        json_lines(&run(review).await).iter().map(|item| item["id"].as_str().unwrap().to_owned()).collect();
    let mut list = infodemic(data.path());
    list.args(["campaigns", "--json", "--limit", "0", "--store", store.as_str()]);
    let output = run(list).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let campaigns = json_lines(&output);
    let members: Vec<String> = campaigns
        .iter()
        .flat_map(|c| c["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(members.iter().cloned().collect::<BTreeSet<_>>(), review, "each item worth a review, in a campaign");
    assert_eq!(members.len(), review.len(), "each in one campaign");
    let largest: &Value = campaigns.iter().max_by_key(|c| c["size"].as_u64().unwrap()).unwrap();
    assert!(largest["size"].as_u64().unwrap() >= 3, "the copies of the claim are grouped: {largest}");
    assert!(largest["sources"].as_array().unwrap().len() >= 3, "{largest}");
    assert!(
        largest["items"].as_array().unwrap().iter().all(|i| i["text"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("bleach")),
        "{largest}"
    );
    let mut alerts = infodemic(data.path());
    alerts.args(["alerts", "--json", "--store", store.as_str()]);
    let output = run(alerts).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let listed: BTreeSet<&str> = campaigns.iter().map(|c| c["id"].as_str().unwrap()).collect();
    for alert in json_lines(&output) {
        assert!(listed.contains(alert["campaign"].as_str().unwrap()), "{alert}");
    }
}
