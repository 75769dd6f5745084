use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::support::{fixture_server, infodemic, json_lines, run, stderr, stdout, workspace};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_are_managed_listed_with_health_and_exported() {
    let server = fixture_server().await;
    let data = tempfile::tempdir().unwrap();
    for route in ["/feeds/reliable.xml", "/status/404"] {
        let mut add = infodemic(data.path());
        add.args(["feeds", "add", &format!("{}{route}", server.uri()), "--category", "authority"]);
        let output = run(add).await;
        assert!(output.status.success(), "{}", stderr(&output));
    }
    let mut add = infodemic(data.path());
    add.args([
        "feeds",
        "add",
        &format!("{}/feeds/misinfo.xml", server.uri()),
        "--id",
        "truth-daily",
        "--tag",
        "outlet",
    ]);
    assert!(run(add).await.status.success());

    // `crawl` with no feed argument crawls the subscriptions.
    let mut crawl = infodemic(data.path());
    crawl.args(["crawl", "--json"]);
    let summary = json_lines(&run(crawl).await).remove(0);
    assert_eq!(summary["feeds_total"], 3);
    assert_eq!(summary["items_new"], 6);

    let mut list = infodemic(data.path());
    list.args(["feeds", "list", "--json"]);
    let feeds = json_lines(&run(list).await);
    assert_eq!(feeds.len(), 3);
    let by_id = |id: &str| feeds.iter().find(|f| f["id"] == id).unwrap().clone();
    let truth = by_id("truth-daily");
    assert_eq!((truth["health"].as_str(), truth["items_stored"].as_u64()), (Some("healthy"), Some(3)));
    assert!(truth["next_poll"].is_string() && truth["last_success"].is_string());
    assert_eq!((truth["last_entries"].as_u64(), truth["last_entries_dropped"].as_u64()), (Some(3), Some(0)));
    let gone = feeds.iter().find(|f| f["url"].as_str().unwrap().ends_with("/status/404")).unwrap();
    assert_eq!(gone["health"], "failing", "a 404 is a hard failure");
    assert_eq!(gone["last_error"], "HTTP status 404");
    assert!(gone["failure_score"].as_f64().unwrap() >= 3.0);

    // OPML out, then into a fresh data dir.
    let opml = data.path().join("feeds.opml");
    let mut export = infodemic(data.path());
    export.args(["feeds", "export-opml", "--output", opml.to_str().unwrap()]);
    assert!(run(export).await.status.success());
    let fresh = tempfile::tempdir().unwrap();
    let mut import = infodemic(fresh.path());
    import.args(["feeds", "import-opml", opml.to_str().unwrap()]);
    let output = run(import).await;
    assert!(stdout(&output).contains("3 feeds") && stdout(&output).contains("3 new"), "{}", stdout(&output));

    let mut remove = infodemic(data.path());
    remove.args(["feeds", "remove", "truth-daily"]);
    assert!(run(remove).await.status.success());
    let mut remove_again = infodemic(data.path());
    remove_again.args(["feeds", "remove", "truth-daily"]);
    assert_eq!(run(remove_again).await.status.code(), Some(2));

    let mut import_catalogue = infodemic(fresh.path());
    import_catalogue.args(["feeds", "import", workspace().join("feeds/catalogue.toml").to_str().unwrap()]);
    assert!(stdout(&run(import_catalogue).await).contains("new"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_shows_what_would_be_kept_without_storing() {
    let server = fixture_server().await;
    let data = tempfile::tempdir().unwrap();
    let mut check = infodemic(data.path());
    check.args(["feeds", "check", &format!("{}/feeds/rss2.xml", server.uri()), "--json"]);
    let output = run(check).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let report = json_lines(&output).remove(0);
    assert_eq!(report["items"].as_array().unwrap().len(), 3);
    assert!(!data.path().join("store").exists(), "nothing stored");
    let mut broken = infodemic(data.path());
    broken.args(["feeds", "check", &format!("{}/feeds/not-a-feed.html", server.uri())]);
    let output = run(broken).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("not-a-feed"), "{}", stdout(&output));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_polls_until_sigterm_and_shuts_down_cleanly() {
    let server = fixture_server().await;
    let data = tempfile::tempdir().unwrap();
    let mut add = infodemic(data.path());
    add.args(["feeds", "add", &format!("{}/feeds/reliable.xml", server.uri())]);
    assert!(run(add).await.status.success());

    let mut child = KillOnDrop(
        infodemic(data.path())
            .args(["watch", "--concurrency", "2"])
            .env("INFODEMIC_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stderr_pipe = child.0.stderr.take().unwrap();
    // Synchronise on the structured log line of the first finished cycle. The pipe is closed
    // after it: the watcher must still log and stop cleanly without a reader.
    let lines = tokio::task::spawn_blocking(move || {
        let mut seen = Vec::new();
        for line in BufReader::new(stderr_pipe).lines() {
            let line = line.unwrap();
            let done = line.contains("Poll cycle finished.");
            seen.push(line);
            if done {
                break;
            }
        }
        seen
    });
    let lines = tokio::time::timeout(std::time::Duration::from_secs(120), lines).await.unwrap().unwrap();
    assert!(lines.iter().any(|l| l.contains("items_new=3")), "{lines:?}");

    // While it runs, other commands go through its local API.
    assert!(data.path().join("service.json").exists());
    let mut query = infodemic(data.path());
    query.args(["query", "--json"]);
    let output = run(query).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(json_lines(&output).len(), 3);
    let mut add = infodemic(data.path());
    add.args(["feeds", "add", &format!("{}/feeds/misinfo.xml", server.uri()), "--id", "added-while-running"]);
    let output = run(add).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let mut list = infodemic(data.path());
    list.args(["feeds", "list", "--json"]);
    assert_eq!(json_lines(&run(list).await).len(), 2);
    let status = std::process::Command::new("kill").args(["-TERM", &child.0.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.0.wait()).await.unwrap().unwrap();
    assert!(exit.success(), "{exit:?}");

    // The store is whole, the feed is scheduled, and the service is gone with the process.
    assert!(!data.path().join("service.json").exists());
    let mut list = infodemic(data.path());
    list.args(["feeds", "list", "--json"]);
    let feeds = json_lines(&run(list).await);
    let first = feeds.iter().find(|f| f["id"] != "added-while-running").unwrap();
    assert_eq!(first["items_stored"], 3);
    assert!(first["next_poll"].is_string());
    assert!(feeds.iter().any(|f| f["id"] == "added-while-running"));
}

/// Kills the child if the test fails before it exits, so no watcher outlives its test.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
