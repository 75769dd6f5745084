use serde_json::Value;

use crate::support::{fixture_server, infodemic, json_lines, run, stdout};

fn urls(base: &str, routes: &[&str]) -> Vec<String> {
    routes.iter().flat_map(|route| ["--url".to_owned(), format!("{base}{route}")]).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl_then_query_show_stats_and_recrawl() {
    let server = fixture_server().await;
    let data = tempfile::tempdir().unwrap();
    let base = server.uri();

    let mut crawl = infodemic(data.path());
    crawl.arg("crawl").arg("--json").args(urls(
        &base,
        &[
            "/feeds/rss2.xml",
            "/feeds/misinfo.xml",
            "/feeds/reliable.xml",
            "/feeds/atom.xml",
            "/feeds/feed.json",
            "/feeds/rss1.rdf",
            "/feeds/not-a-feed.html",
            "/feeds/truncated.xml",
            "/feeds/empty.xml",
            "/feeds/garbage.bin",
            "/status/404",
            "/status/500",
        ],
    ));
    let output = run(crawl).await;
    assert!(output.status.success(), "{output:?}");
    let summary: Value = json_lines(&output).remove(0);
    assert_eq!(summary["feeds_total"], 12);
    assert_eq!(summary["feeds_ok"], 7);
    assert_eq!(summary["feeds_failed"].as_array().unwrap().len(), 5);
    // rss2 3 (+1 in-feed duplicate), misinfo 3, reliable 3, atom 3, feed.json 3, rss1 3, and
    // the one item of truncated.xml read whole before the cut.
    assert_eq!(summary["items_new"], 19);
    let partial = summary["feeds_partial"].as_array().unwrap();
    let truncated = partial.iter().find(|p| p["source"].as_str().unwrap().ends_with("truncated.xml")).unwrap();
    assert_eq!((truncated["entries"].as_u64(), truncated["dropped"].as_u64()), (Some(2), Some(1)));
    assert_eq!(summary["items_duplicate"], 1);
    let codes: Vec<&str> =
        summary["feeds_failed"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert_eq!(codes.iter().filter(|c| **c == "http-status").count(), 2, "{codes:?}");

    // Everything is stored, newest first, with a score and the model that gave it; the
    // French entry of atom.xml is marked as a language the model does not know, not scored.
    let mut query = infodemic(data.path());
    query.args(["query", "--json", "--limit", "100"]);
    let items = json_lines(&run(query).await);
    assert_eq!(items.len(), 19);
    for item in &items {
        match item["score"].as_f64() {
            Some(score) => assert!((0.0..=1.0).contains(&score) && item["language_supported"] == true),
            None => assert!(item["language_supported"] == false && item["flagged"] == false, "{item}"),
        }
        assert_eq!(item["model"], "infodemic-minilm-health@3.0.0");
        assert!(item.get("embedding").is_none());
    }
    assert_eq!(items.iter().filter(|i| i["language_supported"] == false).count(), 1);
    let times: Vec<&str> = items.iter().filter_map(|i| i["published"].as_str()).collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted, "newest first");

    // The model ranks the fixture outlet's claims above the authority's statements.
    let mean_score = |host: &str| {
        let scores: Vec<f64> = items
            .iter()
            .filter(|i| i["source"].as_str().unwrap().ends_with(host))
            .map(|i| i["score"].as_f64().unwrap())
            .collect();
        assert_eq!(scores.len(), 3, "{host}");
        scores.iter().sum::<f64>() / 3.0
    };
    assert!(mean_score("misinfo.xml") > mean_score("reliable.xml"));

    // Every flagged item is worth a review and carries the sentence that drove its score.
    for item in items.iter().filter(|i| i["flagged"] == true) {
        assert_eq!(item["review"], true);
        assert!(!item["evidence"].as_array().unwrap().is_empty() || !item["text"].as_str().unwrap().contains(". "));
    }

    // Filters: flagged only, by source, by text, CSV.
    let mut flagged = infodemic(data.path());
    flagged.args(["query", "--flagged", "--json", "--limit", "100"]);
    let flagged = json_lines(&run(flagged).await);
    assert!(flagged.iter().all(|i| i["flagged"] == true));
    assert_eq!(flagged.len(), items.iter().filter(|i| i["flagged"] == true).count());

    let source = items.iter().find(|i| i["source"].as_str().unwrap().ends_with("misinfo.xml")).unwrap()["source"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut by_source = infodemic(data.path());
    by_source.args(["query", "--json", "--source", &source]);
    assert_eq!(json_lines(&run(by_source).await).len(), 3);

    let mut by_text = infodemic(data.path());
    by_text.args(["query", "--json", "--text", "MICROCHIPS"]);
    let hits = json_lines(&run(by_text).await);
    assert_eq!(hits.len(), 1);
    assert!(hits[0]["title"].as_str().unwrap().contains("microchips"));

    let mut csv = infodemic(data.path());
    csv.args(["query", "--csv", "--limit", "5"]);
    let csv = stdout(&run(csv).await);
    assert!(
        csv.starts_with("id,published,fetched_at,source,score,flagged,review,label,claim,refute,why,title,url"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 6);

    // The default table names the items.
    let mut table = infodemic(data.path());
    table.args(["query", "--text", "microchips"]);
    let table = stdout(&run(table).await);
    assert!(table.contains("microchips") && table.contains("1 item(s)"), "{table}");

    // show: everything about one item, with its embedding in JSON.
    let id = hits[0]["id"].as_str().unwrap();
    let mut show = infodemic(data.path());
    show.args(["show", id, "--json"]);
    let shown = json_lines(&run(show).await).remove(0);
    assert_eq!(shown["id"], id);
    assert_eq!(shown["embedding"].as_array().unwrap().len(), 384);
    let mut show_text = infodemic(data.path());
    show_text.args(["show", id]);
    let text = stdout(&run(show_text).await);
    assert!(text.contains("microchips") && text.contains("score"), "{text}");

    // stats: counts per source and label.
    let mut stats = infodemic(data.path());
    stats.args(["stats", "--json"]);
    let stats = json_lines(&run(stats).await).remove(0);
    assert_eq!(stats["total"]["items"], 19);
    assert_eq!(stats["feeds"], 12);
    assert_eq!(stats["feeds_failing"], 5);
    assert_eq!(stats["per_source"].as_object().unwrap().len(), 7);

    // Second run: only the two new items of the updated feed are new.
    let mut again = infodemic(data.path());
    again.arg("crawl").arg("--json").args(urls(&base, &["/feeds/second-run.xml", "/feeds/misinfo.xml"]));
    let summary = json_lines(&run(again).await).remove(0);
    assert_eq!(summary["items_new"], 2);
    // misinfo.xml is byte for byte what it was: unchanged, not even parsed.
    assert_eq!(summary["items_duplicate"], 4);
    assert_eq!(summary["feeds_not_modified"], 1);

    // The human summary names failed feeds and their errors.
    let mut human = infodemic(data.path());
    human.arg("crawl").args(urls(&base, &["/status/404", "/feeds/rss-no-items.xml"]));
    let output = run(human).await;
    assert!(output.status.success());
    let text = stdout(&output);
    assert!(text.contains("1 ok") && text.contains("1 failed") && text.contains("HTTP status 404"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_offline_samples_crawl_without_a_network() {
    let data = tempfile::tempdir().unwrap();
    let mut crawl = infodemic(data.path());
    crawl.args(["crawl", "--feeds", "feeds/samples.toml", "--json"]);
    let output = run(crawl).await;
    assert!(output.status.success(), "{output:?}");
    let summary = json_lines(&output).remove(0);
    assert_eq!(summary["feeds_ok"], 6);
    assert!(summary["feeds_failed"].as_array().unwrap().is_empty());
    // One item appears in two feeds with the same link, one as a syndicated copy.
    assert_eq!(summary["items_duplicate"], 2);
    assert!(summary["items_flagged"].as_u64().unwrap() > 0);

    let mut flagged = infodemic(data.path());
    flagged.args(["query", "--flagged", "--since", "2026-01-01"]);
    let output = run(flagged).await;
    assert!(stdout(&output).contains("FLAG"));

    // What a flag must mean: the outlets' false claims are flagged; the fact-checks that quote
    // them to refute them, and the authorities' notices, are not; every decision says why.
    let mut all = infodemic(data.path());
    all.args(["query", "--json", "--limit", "500"]);
    let items = json_lines(&run(all).await);
    let from = |prefix: &str| -> Vec<&Value> {
        items.iter().filter(|i| i["source"].as_str().unwrap().starts_with(prefix)).collect()
    };
    let outlets = [from("sample-natural-truth"), from("sample-health-freedom")].concat();
    assert!(outlets.len() >= 12, "{}", outlets.len());
    for item in &outlets {
        assert_eq!(item["flagged"], true, "a false claim from an outlet is flagged: {item}");
    }
    for item in [from("sample-health-check"), from("sample-npha"), from("sample-eastvale")].concat() {
        assert_eq!(item["flagged"], false, "fact-checks and notices are not flagged: {item}");
        assert!(!item["reasons"].as_array().unwrap().is_empty(), "{item}");
    }
}
