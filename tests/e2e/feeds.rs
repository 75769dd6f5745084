use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::support::{fixture_server, infodemic, json_lines, run, stderr, stdout, workspace, KillOnDrop};

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

/// While `watch` holds the store, the commands that need its model or its crawl loop (crawl,
/// claims) run in it through the local API, with the same output as alone; `classify` needs
/// no store; `/metrics` counts what the watch did, and the crawl it ran for another command.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writing_commands_run_in_a_running_watch_with_the_same_output() {
    let server = fixture_server().await;
    let misinfo = format!("{}/feeds/misinfo.xml", server.uri());
    let claims_csv = crate::support::workspace().join("tests/fixtures/claims/imports/claims.csv");
    let claims_csv = claims_csv.to_str().unwrap();

    // The same commands alone, for the output to compare with.
    let alone = tempfile::tempdir().unwrap();
    let mut import = infodemic(alone.path());
    import.args(["claims", "import", claims_csv, "--json"]);
    let import_alone = json_lines(&run(import).await).remove(0);
    let mut crawl = infodemic(alone.path());
    crawl.args(["crawl", "--json", "--url", &misinfo]);
    let crawl_alone = json_lines(&run(crawl).await).remove(0);
    let mut search = infodemic(alone.path());
    search.args(["claims", "match", "Cell towers with 5G are what is really spreading COVID", "--json"]);
    let match_alone = json_lines(&run(search).await);

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
    let first_cycle = tokio::task::spawn_blocking(move || {
        for line in BufReader::new(stderr_pipe).lines() {
            if line.unwrap().contains("Poll cycle finished.") {
                break;
            }
        }
    });
    tokio::time::timeout(std::time::Duration::from_secs(120), first_cycle).await.unwrap().unwrap();

    let mut import = infodemic(data.path());
    import.args(["claims", "import", claims_csv, "--json"]);
    let output = run(import).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(json_lines(&output).remove(0), import_alone);
    let mut list = infodemic(data.path());
    list.args(["claims", "list", "--json"]);
    assert_eq!(json_lines(&run(list).await).len(), 5);
    let mut search = infodemic(data.path());
    search.args(["claims", "match", "Cell towers with 5G are what is really spreading COVID", "--json"]);
    let output = run(search).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(json_lines(&output), match_alone);
    let mut reembed = infodemic(data.path());
    reembed.args(["claims", "reembed", "--json"]);
    let output = run(reembed).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(json_lines(&output).remove(0)["reembedded"], 0, "the watch's model embedded them");

    let mut crawl = infodemic(data.path());
    crawl.args(["crawl", "--json", "--url", &misinfo]);
    let output = run(crawl).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let crawl_watched = json_lines(&output).remove(0);
    for field in ["feeds_total", "feeds_ok", "items_seen", "items_new", "items_flagged", "items_matching_claims"] {
        assert_eq!(crawl_watched[field], crawl_alone[field], "{field}: {crawl_watched} against {crawl_alone}");
    }
    let keys = |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&crawl_watched), keys(&crawl_alone));
    let mut query = infodemic(data.path());
    query.args(["query", "--json", "--text", "5G towers"]);
    assert_eq!(json_lines(&run(query).await).len(), 1, "the crawled item is stored and searchable");

    // `classify` reads no store: it runs beside the watch.
    let output = infodemic(data.path())
        .args(["classify", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(b"Garlic cures the virus overnight.\n")?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(json_lines(&output).len(), 1);

    // What the watch did, in the Prometheus text format.
    let info: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data.path().join("service.json")).unwrap()).unwrap();
    let metrics = ureq::get(format!("http://{}/metrics", info["address"].as_str().unwrap()))
        .header("Authorization", format!("Bearer {}", info["token"].as_str().unwrap()))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let value = |name: &str| -> f64 {
        let line =
            metrics.lines().find(|l| l.starts_with(&format!("{name} "))).unwrap_or_else(|| panic!("{name}: {metrics}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    let stored = crawl_watched["items_new"].as_f64().unwrap() + 3.0;
    assert_eq!(value("infodemic_items_stored_total"), stored, "the watch's cycle and the crawl it ran");
    assert_eq!(value("infodemic_store_items"), stored);
    assert_eq!(value("infodemic_store_claims"), 5.0);
    // Every queue is reported; the crawl's stage queues are empty between crawls.
    for queue in ["feeds", "classifier", "crawl_requests"] {
        value(&format!("infodemic_queue_depth{{queue=\"{queue}\"}}"));
    }
    for queue in ["crawl_fetched", "crawl_deduped", "crawl_batched", "crawl_enriched", "crawl_scored"] {
        assert_eq!(value(&format!("infodemic_queue_depth{{queue=\"{queue}\"}}")), 0.0, "{queue}");
    }

    let status = std::process::Command::new("kill").args(["-TERM", &child.0.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.0.wait()).await.unwrap().unwrap();
    assert!(exit.success(), "{exit:?}");
}
