use crate::support::{fixture_server, infodemic, json_lines, run, stderr, stdout, workspace};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_claims_are_listed_searched_and_matched_by_crawled_items() {
    let data = tempfile::tempdir().unwrap();
    let csv = workspace().join("tests/fixtures/claims/imports/claims.csv");

    let mut import = infodemic(data.path());
    import.args(["claims", "import", csv.to_str().unwrap(), "--json"]);
    let output = run(import).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let report = json_lines(&output).remove(0);
    assert_eq!(report["read"], 5, "the repeated 5G row is deduplicated");
    assert_eq!(report["added"], 5);
    let mut again = infodemic(data.path());
    again.args(["claims", "import", csv.to_str().unwrap(), "--json"]);
    assert_eq!(json_lines(&run(again).await).remove(0)["known"], 5);

    let mut list = infodemic(data.path());
    list.args(["claims", "list", "--verdict", "false", "--json"]);
    let listed = json_lines(&run(list).await);
    assert!(listed.iter().all(|c| c["verdict"] == "false"));
    assert!(listed.iter().any(|c| c["text"].as_str().unwrap().contains("5G")));

    let mut search = infodemic(data.path());
    search.args(["claims", "match", "Cell towers with 5G are what is really spreading COVID", "--json"]);
    let nearest = json_lines(&run(search).await);
    assert!(nearest[0]["claim"]["text"].as_str().unwrap().contains("5G"), "{nearest:?}");
    assert_eq!(nearest[0]["matches"], true);

    // A crawled post repeating the claim carries the match; show explains it.
    let server = fixture_server().await;
    let mut crawl = infodemic(data.path());
    crawl.args(["crawl", "--json", "--url", &format!("{}/feeds/misinfo.xml", server.uri())]);
    let summary = json_lines(&run(crawl).await).remove(0);
    assert!(summary["items_matching_claims"].as_u64().unwrap() >= 1, "{summary}");
    let mut query = infodemic(data.path());
    query.args(["query", "--json", "--text", "5G towers"]);
    let item = json_lines(&run(query).await).remove(0);
    let matched = &item["claim_match"];
    assert_eq!(matched["claim"], "5G mobile networks spread the coronavirus");
    assert_eq!(matched["reviewer"], "PolitiMeter");
    assert!(matched["similarity"].as_f64().unwrap() >= 0.58);
    let mut show = infodemic(data.path());
    show.args(["show", item["id"].as_str().unwrap()]);
    let text = stdout(&run(show).await);
    assert!(text.contains("known claim") && text.contains("PolitiMeter"), "{text}");
}

#[test]
fn a_broken_claims_file_is_a_usage_error() {
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("bad.csv");
    std::fs::write(&file, "reviewer,url\nx,y\n").unwrap();
    let output = infodemic(data.path()).args(["claims", "import", file.to_str().unwrap()]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("claim"), "{}", stderr(&output));
}

#[test]
fn claims_another_model_embedded_are_embedded_again_before_matching() {
    let data = tempfile::tempdir().unwrap();
    let csv = workspace().join("tests/fixtures/claims/imports/claims.csv");
    let old = "models/minilm-constraint-v1";
    let claims = |args: &[&str]| {
        let output = infodemic(data.path()).arg("claims").args(args).output().unwrap();
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        json_lines(&output).remove(0)
    };
    assert_eq!(claims(&["import", csv.to_str().unwrap(), "--json", "--model", old])["added"], 5);
    let same = claims(&["reembed", "--json", "--model", old]);
    assert_eq!((same["claims"].as_u64(), same["reembedded"].as_u64()), (Some(5), Some(0)), "{same}");

    // A crawl with the default model embeds them again before matching, and says so.
    let mut crawl = infodemic(data.path());
    crawl.args(["crawl", "--feeds", "feeds/samples.toml", "--json"]);
    let summary = json_lines(&crawl.output().unwrap()).remove(0);
    assert_eq!(summary["claims_reembedded"], 5, "{summary}");
    let now = claims(&["reembed", "--json"]);
    assert_eq!(now["reembedded"], 0, "{now}");
    assert!(now["model"].as_str().unwrap().starts_with("infodemic-minilm-health@"), "{now}");

    // Back to the old model's embeddings: `claims reembed` with it, then `claims match` with
    // the default model embeds them again by itself and still finds the claim.
    assert_eq!(claims(&["reembed", "--json", "--model", old])["reembedded"], 5);
    let mut search = infodemic(data.path());
    search.args(["claims", "match", "Cell towers with 5G are what is really spreading COVID", "--json"]);
    let nearest = json_lines(&search.output().unwrap());
    assert!(nearest[0]["claim"]["text"].as_str().unwrap().contains("5G"), "{nearest:?}");
    assert_eq!(nearest[0]["matches"], true);
    assert_eq!(claims(&["reembed", "--json"])["reembedded"], 0, "match left them embedded by the default model");

    let output = infodemic(data.path()).args(["claims", "reembed"]).output().unwrap();
    assert!(stdout(&output).contains("0 of 5 claims embedded again"), "{}", stdout(&output));
}
