use std::collections::HashSet;
use std::process::Stdio;
use std::time::{Duration, Instant};

use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{binary, infodemic, json_lines, run, stderr};

const FEEDS: usize = 12;
const ITEMS: usize = 15;

/// Distinct words per item (splitmix64), so that no two items are near-duplicates.
fn words(seed: u64, n: usize) -> String {
    // A multiplier unlike the step below, so that seeds next to each other do not share words.
    let mut state = seed.wrapping_mul(0xa24b_aed4_963e_e407) ^ 0x5851_f42d_4c95_7f2d;
    (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (0..5).map(|i| char::from(b'a' + ((z >> (i * 8)) % 26) as u8)).collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn feed(f: usize) -> String {
    let mut body = format!(r#"<rss version="2.0"><channel><title>Crash feed {f}</title>"#);
    for i in 0..ITEMS {
        body.push_str(&format!(
            "<item><title>Vaccine clinic update {f}-{i}</title><link>https://crash.example/{f}/{i}</link>\
             <description>Health officials report on measles vaccination: {}.</description></item>",
            words((f * 1000 + i) as u64, 30)
        ));
    }
    body.push_str("</channel></rss>");
    body
}

async fn items(data: &std::path::Path) -> Vec<serde_json::Value> {
    let mut query = infodemic(data);
    query.args(["query", "--json", "--limit", "100000"]);
    let output = run(query).await;
    assert!(output.status.success(), "the store opens after a kill: {}", stderr(&output));
    json_lines(&output)
}

fn assert_no_duplicates(items: &[serde_json::Value]) {
    let ids: HashSet<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
    let urls: HashSet<&str> = items.iter().map(|i| i["canonical_url"].as_str().unwrap()).collect();
    assert_eq!((ids.len(), urls.len()), (items.len(), items.len()), "duplicate items");
}

/// `watch` is killed with SIGKILL at varied points of its work (after 1 to 12 requests to the
/// feed server: mid-fetch, mid-scoring, mid-commit), many times. After every kill the store
/// opens, verifies, holds no duplicate and has lost no item it had committed; a last crawl
/// ends where a run never killed ends. `INFODEMIC_CRASH_KILLS` sets the number of kills
/// (24 in CI; `scripts/crash.sh` runs more).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_killed_at_any_point_loses_and_duplicates_nothing() {
    let kills: usize = std::env::var("INFODEMIC_CRASH_KILLS").ok().and_then(|v| v.parse().ok()).unwrap_or(24);
    let server = MockServer::start().await;
    for f in 0..FEEDS {
        Mock::given(path(format!("/crash/{f}.xml")))
            .respond_with(ResponseTemplate::new(200).set_body_string(feed(f)))
            .mount(&server)
            .await;
    }
    let catalogue: String = (0..FEEDS)
        .map(|f| {
            format!(
                "[[feed]]\nid = \"crash-{f}\"\nurl = \"{}/crash/{f}.xml\"\ncategory = \"medical-news\"\n\n",
                server.uri()
            )
        })
        .collect();

    // The reference: the same feeds crawled once, never killed.
    let reference = tempfile::tempdir().unwrap();
    let catalogue_path = reference.path().join("crash.toml");
    std::fs::write(&catalogue_path, &catalogue).unwrap();
    let mut crawl = infodemic(reference.path());
    crawl.args(["crawl", "--json", "--feeds", catalogue_path.to_str().unwrap()]);
    let output = run(crawl).await;
    assert!(output.status.success());
    let expected = items(reference.path()).await.len();
    assert_eq!(expected, FEEDS * ITEMS, "{}", crate::support::stdout(&output));

    let data = tempfile::tempdir().unwrap();
    let mut import = infodemic(data.path());
    import.args(["feeds", "import", catalogue_path.to_str().unwrap()]);
    assert!(run(import).await.status.success());

    let mut committed = 0;
    for round in 0..kills {
        let served_before = server.received_requests().await.unwrap_or_default().len();
        let kill_after = 1 + (round * 7) % 12;
        let mut child = std::process::Command::new(binary());
        child
            .args(["watch", "--concurrency", "4"])
            .env("INFODEMIC_DATA_DIR", data.path())
            .env("INFODEMIC_HOST_DELAY", "0")
            .env_remove("INFODEMIC_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = child.spawn().unwrap();
        // Wait for the requests (the point of the kill), or for the watch to idle with every
        // feed polled; bounded either way.
        let started = Instant::now();
        loop {
            let served = server.received_requests().await.unwrap_or_default().len();
            if served >= served_before + kill_after || started.elapsed() > Duration::from_secs(60) {
                break;
            }
            if child.try_wait().unwrap().is_some() {
                panic!("watch exited on its own in round {round}");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        let now = items(data.path()).await;
        assert_no_duplicates(&now);
        assert!(now.len() >= committed, "round {round}: {} items, {committed} were committed before", now.len());
        committed = now.len();
        let mut stats = infodemic(data.path());
        stats.args(["stats", "--verify", "--json"]);
        let output = run(stats).await;
        assert!(output.status.success(), "round {round}: {}", stderr(&output));
    }

    // Crawling resumes: a last run ends where the run never killed ended.
    let mut crawl = infodemic(data.path());
    crawl.args(["crawl"]);
    let output = run(crawl).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let last = items(data.path()).await;
    assert_no_duplicates(&last);
    assert_eq!(last.len(), expected);
}
