use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::support::{infodemic, json_lines, stderr, stdout};

/// A data dir with the offline samples crawled: flagged outlets' items, fact-checks, notices.
fn crawled() -> tempfile::TempDir {
    let data = tempfile::tempdir().unwrap();
    let output = infodemic(data.path()).args(["crawl", "--feeds", "feeds/samples.toml", "-q"]).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    data
}

fn cli(data: &Path, args: &[&str]) -> Output {
    infodemic(data).env_remove("INFODEMIC_REVIEWER").args(args).output().unwrap()
}

fn queue(data: &Path) -> Vec<Value> {
    let output = cli(data, &["review", "queue", "--json", "--limit", "100"]);
    assert!(output.status.success(), "{output:?}");
    json_lines(&output)
}

fn shown(data: &Path, id: &str) -> Value {
    let output = cli(data, &["show", id, "--json"]);
    assert!(output.status.success(), "{output:?}");
    serde_json::from_str(&stdout(&output)).unwrap()
}

#[test]
fn the_queue_lists_unreviewed_items_by_score_and_verdicts_follow_the_contract() {
    let data = crawled();
    let waiting = queue(data.path());
    assert!(waiting.len() >= 10, "{}", waiting.len());
    let scores: Vec<f64> = waiting.iter().map(|i| i["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "highest score first: {scores:?}");
    assert!(waiting.iter().all(|i| i["review"] == true), "only items worth a review by default");
    let first = waiting[0]["id"].as_str().unwrap().to_owned();

    let before = shown(data.path(), &first);
    assert_eq!(before["verdict"], Value::Null);
    assert_eq!(before["verdicts"], serde_json::json!([]));

    let output =
        cli(data.path(), &["review", &first, "--verdict", "false", "--reviewer", "ana", "--note", "debunked by WHO"]);
    assert!(output.status.success(), "{output:?}");
    let after = shown(data.path(), &first);
    assert_eq!(after["verdict"], "false");
    let events = after["verdicts"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["verdict"], "false");
    assert_eq!(events[0]["reviewer"], "ana");
    assert_eq!(events[0]["note"], "debunked by WHO");
    assert!(chrono::DateTime::parse_from_rfc3339(events[0]["time"].as_str().unwrap()).is_ok());
    assert!(events[0]["score"].as_f64().unwrap() > 0.5, "the score the reviewer saw is kept");

    let ids: Vec<String> = queue(data.path()).iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect();
    assert!(!ids.contains(&first), "a reviewed item leaves the queue");
    assert_eq!(ids.len(), waiting.len() - 1);

    // A second reviewer disagreeing is kept beside the first, not written over it.
    assert!(cli(data.path(), &["review", &first, "--verdict", "true", "--reviewer", "ben"]).status.success());
    let disputed = shown(data.path(), &first);
    assert_eq!(disputed["verdict"], "true");
    assert_eq!(disputed["agreement"], "disagreed");
    assert_eq!(disputed["verdicts"].as_array().unwrap().len(), 2);
    let text = stdout(&cli(data.path(), &["show", &first]));
    assert!(text.contains("reviewers disagree") && text.contains("ana: false") && text.contains("ben: true"), "{text}");

    // Undo withdraws ben's verdict; ana's stands again, and the log keeps all three events.
    assert!(cli(data.path(), &["review", "undo", &first, "--reviewer", "ben"]).status.success());
    let undone = shown(data.path(), &first);
    assert_eq!(undone["verdict"], "false");
    let events = undone["verdicts"].as_array().unwrap();
    assert_eq!(events.len(), 3);
    assert_eq!(events[2]["action"], "undo");
    let again = cli(data.path(), &["review", "undo", &first, "--reviewer", "ben"]);
    assert_eq!(again.status.code(), Some(2), "nothing left to undo: {again:?}");
    assert!(stderr(&again).contains("no standing verdict"), "{}", stderr(&again));
}

#[test]
fn bad_input_names_the_row_and_keeps_the_good_rows() {
    let data = crawled();
    let waiting = queue(data.path());
    let (a, b) = (waiting[0]["id"].as_str().unwrap(), waiting[1]["id"].as_str().unwrap());

    let unknown = cli(data.path(), &["review", a, "--verdict", "fake"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("unknown verdict `fake` (known: false, misleading, missing-context"),
        "{unknown:?}"
    );
    let missing = cli(data.path(), &["review", "00000000000000ff", "--verdict", "false"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("no item with id 00000000000000ff"), "{missing:?}");

    let batch = data.path().join("batch.csv");
    std::fs::write(
        &batch,
        format!("id,verdict,note\n{a},misleading,\"context, missing\"\nnot-an-id,false,\n{b},bogus,\n00000000000000ff,true,\n"),
    )
    .unwrap();
    let batch_arg = batch.to_str().unwrap();
    let strict = cli(data.path(), &["review", "--batch", batch_arg, "--strict", "--reviewer", "cy"]);
    assert_eq!(strict.status.code(), Some(2));
    assert!(stderr(&strict).contains("Nothing recorded"), "{strict:?}");
    assert_eq!(shown(data.path(), a)["verdict"], Value::Null, "--strict records nothing");

    let output = cli(data.path(), &["review", "--batch", batch_arg, "--reviewer", "cy", "--json"]);
    assert_eq!(output.status.code(), Some(2), "bad rows make the exit status say so: {output:?}");
    let outcome: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(outcome["recorded"].as_array().unwrap().len(), 1);
    let lines: Vec<u64> = outcome["rejected"].as_array().unwrap().iter().map(|r| r["row"].as_u64().unwrap()).collect();
    assert_eq!(lines, [3, 4, 5], "each refused row by its line in the file: {outcome}");
    let err = stderr(&output);
    assert!(err.contains("line 3: invalid item id `not-an-id`"), "{err}");
    assert!(err.contains("line 4: unknown verdict `bogus`"), "{err}");
    assert!(err.contains("line 5: no item with id 00000000000000ff"), "{err}");
    assert!(err.contains("1 verdict(s) recorded; 3 row(s) refused"), "{err}");
    let recorded = shown(data.path(), a);
    assert_eq!(recorded["verdict"], "misleading");
    assert_eq!(recorded["verdicts"][0]["note"], "context, missing");
    assert_eq!(recorded["verdicts"][0]["reviewer"], "cy");

    let garbage = data.path().join("garbage.txt");
    std::fs::write(&garbage, "hello,world\n1,2\n").unwrap();
    let output = cli(data.path(), &["review", "--batch", garbage.to_str().unwrap(), "--verdict", "false"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("`id` column"), "{output:?}");
}

#[test]
fn a_query_result_and_a_campaign_take_one_verdict_each_item() {
    let data = crawled();
    let query = cli(data.path(), &["query", "--flagged", "--json", "--limit", "3"]);
    let ids: Vec<String> = json_lines(&query).iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids.len(), 3);
    let mut review = infodemic(data.path());
    review.args(["review", "--batch", "-", "--verdict", "false", "--reviewer", "dee"]);
    review
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = review.spawn().unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), &query.stdout).unwrap();
    drop(child.stdin.take());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    for id in &ids {
        assert_eq!(shown(data.path(), id)["verdict"], "false", "{id}");
    }

    let campaigns = cli(data.path(), &["campaigns", "--json"]);
    let campaign = json_lines(&campaigns).into_iter().find(|c| c["size"].as_u64() >= Some(1)).unwrap();
    let id = campaign["id"].as_str().unwrap();
    let output =
        cli(data.path(), &["review", "--campaign", id, "--verdict", "misleading", "--reviewer", "eve", "--json"]);
    assert!(output.status.success(), "{output:?}");
    let outcome: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let recorded = outcome["recorded"].as_array().unwrap();
    assert_eq!(recorded.len() as u64, campaign["size"].as_u64().unwrap(), "one event per member: {outcome}");
    for event in recorded {
        assert_eq!(
            shown(data.path(), event["item"].as_str().unwrap())["verdicts"].as_array().unwrap().last().unwrap()
                ["reviewer"],
            "eve"
        );
    }
}

#[test]
fn reviewed_items_export_as_claimreview_and_as_labeled_rows() {
    let data = crawled();
    let waiting = queue(data.path());
    let ids: Vec<&str> = waiting.iter().take(3).map(|i| i["id"].as_str().unwrap()).collect();
    assert!(cli(data.path(), &["review", ids[0], "--verdict", "false", "--reviewer", "ana"]).status.success());
    assert!(cli(data.path(), &["review", ids[1], "--verdict", "not-a-claim", "--reviewer", "ana"]).status.success());
    assert!(cli(data.path(), &["review", ids[2], "--verdict", "false", "--reviewer", "ana"]).status.success());
    assert!(cli(data.path(), &["review", ids[2], "--verdict", "true", "--reviewer", "ben"]).status.success());

    let unnamed = cli(data.path(), &["export", "--format", "claimreview"]);
    assert!(unnamed.status.success(), "{unnamed:?}");
    assert!(stderr(&unnamed).contains("warning: no --publisher"), "{unnamed:?}");
    let placeholder: Vec<Value> = serde_json::from_str(&stdout(&unnamed)).unwrap();
    assert_eq!(placeholder[0]["@type"], "ClaimReview");
    assert!(placeholder[0]["author"]["name"].as_str().unwrap().contains("not named"));

    let output = cli(
        data.path(),
        &[
            "export",
            "--format",
            "claimreview",
            "--publisher",
            "Example Checks",
            "--review-url",
            "https://checks.example.org/{id}",
        ],
    );
    assert!(output.status.success(), "{output:?}");
    let reviews: Vec<Value> = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(reviews.len(), 1, "not-a-claim rates nothing; a disputed verdict is held back: {reviews:?}");
    let review = &reviews[0];
    assert_eq!(review["@type"], "ClaimReview");
    assert_eq!(review["url"], format!("https://checks.example.org/{}", ids[0]));
    assert_eq!(review["reviewRating"]["ratingValue"], 1);
    assert_eq!(review["author"]["name"], "Example Checks");
    assert_eq!(review["itemReviewed"]["@type"], "Claim");
    let err = stderr(&output);
    assert!(err.contains("1 item(s) left out: reviewers disagree") && err.contains("rates no claim"), "{err}");

    let lines =
        cli(data.path(), &["export", "--format", "claimreview", "--publisher", "X", "--jsonl", "--include-disputed"]);
    assert_eq!(json_lines(&lines).len(), 2);

    let file = data.path().join("labeled.jsonl");
    let output =
        cli(data.path(), &["export", "--format", "labeled", "--include-disputed", "-o", file.to_str().unwrap()]);
    assert!(output.status.success(), "{output:?}");
    let rows: Vec<Value> =
        std::fs::read_to_string(&file).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 3);
    let row = |id: &str| rows.iter().find(|r| r["id"] == id).unwrap();
    assert_eq!((row(ids[0])["mis"].as_i64(), row(ids[0])["claim"].as_i64()), (Some(1), Some(1)));
    assert_eq!((row(ids[1])["mis"].as_i64(), row(ids[1])["claim"].as_i64()), (Some(0), Some(0)));
    assert_eq!(row(ids[2])["agreement"], "disagreed");
    assert!(!row(ids[0])["text"].as_str().unwrap().is_empty());
}

#[test]
fn a_data_dirs_verdict_scale_replaces_the_default() {
    let data = crawled();
    std::fs::write(
        data.path().join("verdicts.toml"),
        "[[verdict]]\nname = \"hoax\"\ndescription = \"A hoax.\"\nkey = \"h\"\nmisinformation = true\nrating = 1\n\n\
         [[verdict]]\nname = \"fine\"\ndescription = \"Fine.\"\nmisinformation = false\nrating = 5\n",
    )
    .unwrap();
    let id = queue(data.path())[0]["id"].as_str().unwrap().to_owned();
    let output = cli(data.path(), &["review", &id, "--verdict", "false"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("(known: hoax, fine)"), "{output:?}");
    assert!(cli(data.path(), &["review", &id, "--verdict", "hoax"]).status.success());
    assert_eq!(shown(data.path(), &id)["verdict"], "hoax");

    std::fs::write(data.path().join("verdicts.toml"), "[[verdict]]\nname = \"Bad Name\"\ndescription = \"x\"\n")
        .unwrap();
    let output = cli(data.path(), &["review", &id, "--verdict", "hoax"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("verdicts.toml") && stderr(&output).contains("Bad Name"), "{output:?}");
}
