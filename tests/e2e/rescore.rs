use std::collections::HashMap;
use std::path::Path;

use infodemic_store::SledStore;
use serde_json::Value;

use crate::support::{infodemic, json_lines, stderr, stdout};

/// An older model than the default, shipped in the repository.
const OLD_MODEL: &str = "models/minilm-constraint-v1";

/// `id@version` of a model directory (`None`: the default), as items carry it.
fn model_name(data: &Path, model: Option<&str>) -> String {
    let mut info = infodemic(data);
    info.args(["model", "info", "--json"]);
    if let Some(dir) = model {
        info.args(["--model", dir]);
    }
    let manifest = json_lines(&info.output().unwrap()).remove(0);
    format!("{}@{}", manifest["model"]["id"].as_str().unwrap(), manifest["model"]["version"].as_str().unwrap())
}

fn crawl_samples(data: &Path, model: Option<&str>) -> Value {
    let mut crawl = infodemic(data);
    crawl.args(["crawl", "--feeds", "feeds/samples.toml", "--json"]);
    if let Some(dir) = model {
        crawl.args(["--model", dir]);
    }
    let output = crawl.output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    json_lines(&output).remove(0)
}

/// `infodemic rescore ARGS --json`, which must succeed.
fn rescore(data: &Path, args: &[&str]) -> Value {
    let output = infodemic(data).arg("rescore").args(args).arg("--json").output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    json_lines(&output).remove(0)
}

/// Every stored item, by id.
fn items(data: &Path, args: &[&str]) -> HashMap<String, Value> {
    let output = infodemic(data).args(["query", "--json", "--limit", "100000"]).args(args).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    json_lines(&output).into_iter().map(|item| (item["id"].as_str().unwrap().to_owned(), item)).collect()
}

/// What `infodemic classify` (the default model) says about each item's text, by item id.
fn classify(data: &Path, items: &HashMap<String, Value>) -> HashMap<String, Value> {
    let input: String = items
        .iter()
        .map(|(id, item)| {
            // What the classifier reads of an item: the title, then the body.
            let (title, text) = (item["title"].as_str().unwrap(), item["text"].as_str().unwrap());
            let read = match (title.is_empty(), text.is_empty()) {
                (_, true) => title.to_owned(),
                (true, false) => text.to_owned(),
                (false, false) => format!("{}. {text}", title.trim_end_matches('.')),
            };
            serde_json::json!({ "id": id, "text": read }).to_string() + "\n"
        })
        .collect();
    let file = data.join("texts.jsonl");
    std::fs::write(&file, input).unwrap();
    let output = infodemic(data).args(["classify", "--json"]).arg(&file).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    json_lines(&output).into_iter().map(|row| (row["id"].as_str().unwrap().to_owned(), row)).collect()
}

fn count(summary: &Value, field: &str) -> u64 {
    summary[field].as_u64().unwrap_or_else(|| panic!("{field} in {summary}"))
}

#[test]
fn rescore_brings_the_default_model_to_items_an_older_model_scored() {
    let data = tempfile::tempdir().unwrap();
    let data = data.path();
    let (old, current) = (model_name(data, Some(OLD_MODEL)), model_name(data, None));
    assert_ne!(old, current, "the test needs an older model than the default");

    let crawled = crawl_samples(data, Some(OLD_MODEL));
    let total = count(&crawled, "items_new");
    assert!(total > 20, "{crawled}");
    let before = items(data, &[]);
    assert_eq!(before.len() as u64, total);
    assert!(before.values().all(|item| item["model"] == old.as_str()));

    // The model that scored everything: nothing to do.
    let same = rescore(data, &["--model", OLD_MODEL]);
    assert_eq!((count(&same, "items_rescored"), count(&same, "items_current")), (0, total), "{same}");
    assert_eq!(same["model"], old.as_str());

    // A dry run counts and changes nothing.
    let dry = rescore(data, &["--dry-run"]);
    assert_eq!((dry["dry_run"].clone(), count(&dry, "items_rescored")), (Value::Bool(true), total), "{dry}");
    assert_eq!(dry["flagged_after"], Value::Null);
    let flagged_before = before.values().filter(|item| item["flagged"] == true).count() as u64;
    assert_eq!(count(&dry, "flagged_before"), flagged_before);
    assert_eq!(items(data, &[]), before, "a dry run writes nothing");

    // The default model: every item rescored, in batches.
    let summary = rescore(data, &[]);
    assert_eq!(summary["model"], current.as_str());
    assert_eq!(
        [
            count(&summary, "items_seen"),
            count(&summary, "items_rescored"),
            count(&summary, "items_current"),
            count(&summary, "items_remaining")
        ],
        [total, total, 0, 0],
        "{summary}"
    );
    assert_eq!(summary["interrupted"], false);
    let after = items(data, &[]);
    assert_eq!(after.len() as u64, total);
    assert!(after.values().all(|item| item["model"] == current.as_str()), "every item carries the default model");
    let flagged_after = after.values().filter(|item| item["flagged"] == true).count() as u64;
    assert_eq!((count(&summary, "flagged_before"), count(&summary, "flagged_after")), (flagged_before, flagged_after));
    let changed = after.iter().filter(|(id, item)| item["score"] != before[id.as_str()]["score"]).count();
    assert!(changed > total as usize / 2, "a different model gives different scores ({changed} of {total} changed)");

    // The scores are the default model's: what `classify` gives the same texts.
    let reference = classify(data, &after);
    for (id, item) in &after {
        let expected = &reference[id.as_str()];
        match (item["score"].as_f64(), expected["score"].as_f64()) {
            (Some(score), Some(want)) => assert!((score - want).abs() < 1e-4, "{id}: {score} vs {want}"),
            (score, want) => assert_eq!(score, want, "{id}: a language the model does not know"),
        }
        let sentences = |item: &Value| -> Vec<Value> {
            item["evidence"].as_array().unwrap().iter().map(|e| e["text"].clone()).collect()
        };
        assert_eq!(sentences(item), sentences(expected), "{id}");
    }

    // The score index moved with the scores: by score, highest first, and show agrees.
    let by_score = infodemic(data).args(["query", "--json", "--sort", "score", "--limit", "5"]).output().unwrap();
    let top = json_lines(&by_score);
    let mut best: Vec<f64> = after.values().filter_map(|item| item["score"].as_f64()).collect();
    best.sort_by(|a, b| b.total_cmp(a));
    let top_scores: Vec<f64> = top.iter().map(|item| item["score"].as_f64().unwrap()).collect();
    assert_eq!(top_scores, best[..5]);
    let id = top[0]["id"].as_str().unwrap();
    let shown = json_lines(&infodemic(data).args(["show", id, "--json"]).output().unwrap()).remove(0);
    assert_eq!((&shown["score"], &shown["model"]), (&top[0]["score"], &Value::String(current.clone())));
    let text = stdout(&infodemic(data).args(["show", id]).output().unwrap());
    assert!(text.contains(&current.replace('@', " ")), "{text}");

    // Nothing left to do; --all does it again.
    let again = rescore(data, &[]);
    assert_eq!((count(&again, "items_rescored"), count(&again, "items_current")), (0, total), "{again}");
    let forced = rescore(data, &["--all", "--dry-run"]);
    assert_eq!(count(&forced, "items_rescored"), total);

    let (store, _) = SledStore::open(&data.join("store")).unwrap();
    assert_eq!(store.verify().unwrap() as u64, total);
}

#[test]
fn rescore_stops_at_a_limit_and_the_next_run_continues() {
    let data = tempfile::tempdir().unwrap();
    let data = data.path();
    let total = count(&crawl_samples(data, Some(OLD_MODEL)), "items_new");
    let current = model_name(data, None);

    let first = rescore(data, &["--limit", "5"]);
    assert_eq!((count(&first, "items_rescored"), count(&first, "items_remaining")), (5, total - 5), "{first}");
    let scored_by =
        |data: &Path| -> usize { items(data, &[]).values().filter(|item| item["model"] == current.as_str()).count() };
    assert_eq!(scored_by(data), 5, "the first run committed what it rescored");

    // The human summary says how to continue.
    let output = infodemic(data).args(["rescore", "--limit", "7"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("Rescored 7 of") && text.contains("run `infodemic rescore` again"), "{text}");

    let rest = rescore(data, &[]);
    assert_eq!((count(&rest, "items_current"), count(&rest, "items_remaining")), (12, 0), "{rest}");
    assert_eq!(5 + 7 + count(&rest, "items_rescored"), total, "every item rescored exactly once");
    assert_eq!(scored_by(data) as u64, total);
    assert_eq!(count(&rescore(data, &[]), "items_rescored"), 0);
}

#[test]
fn rescore_filters_like_query() {
    let data = tempfile::tempdir().unwrap();
    let data = data.path();
    let total = count(&crawl_samples(data, Some(OLD_MODEL)), "items_new");
    let all = items(data, &[]);
    // A date that splits the samples.
    let mut times: Vec<&str> = all.values().filter_map(|item| item["published"].as_str()).collect();
    times.sort_unstable();
    let since = &times[times.len() / 2][..10];
    let in_range = items(data, &["--since", since]).len() as u64;
    assert!(0 < in_range && in_range < total, "{since}: {in_range} of {total}");

    let dry = rescore(data, &["--since", since, "--dry-run"]);
    assert_eq!((count(&dry, "items_seen"), count(&dry, "items_rescored")), (in_range, in_range), "{dry}");
    let summary = rescore(data, &["--since", since]);
    assert_eq!(count(&summary, "items_rescored"), in_range, "{summary}");
    let current = model_name(data, None);
    let rescored: Vec<Value> = items(data, &[]).into_values().filter(|i| i["model"] == current.as_str()).collect();
    assert_eq!(rescored.len() as u64, in_range);
    assert!(rescored.iter().all(|item| item["published"].as_str().is_some_and(|p| p >= since)));

    // By source (repeatable), and until.
    let source = all.values().filter_map(|item| item["source"].as_str()).min().unwrap().to_owned();
    let of_source = items(data, &["--source", &source]).len() as u64;
    let by_source = rescore(data, &["--all", "--dry-run", "--source", &source, "--source", &source]);
    assert_eq!(count(&by_source, "items_seen"), of_source, "{by_source}");
    let until = rescore(data, &["--all", "--dry-run", "--until", since]);
    assert_eq!(count(&until, "items_seen"), total - in_range, "{until}");

    // The rest, and nothing twice.
    let rest = rescore(data, &[]);
    assert_eq!(count(&rest, "items_rescored"), total - in_range);
}

#[test]
fn rescore_rejects_bad_input_with_exit_2() {
    let data = tempfile::tempdir().unwrap();
    for args in [
        &["rescore", "--since", "yesterdayish"][..],
        &["rescore", "--until", "7x"],
        &["rescore", "--limit", "0"],
        &["rescore", "--source", ""],
        &["rescore", "--no-such-flag"],
    ] {
        let output = infodemic(data.path()).args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
    }
    let output = infodemic(data.path()).args(["rescore", "--since", "yesterdayish"]).output().unwrap();
    assert!(stderr(&output).contains("yesterdayish"), "{}", stderr(&output));
    assert!(!data.path().join("store").exists(), "nothing created on bad input");
}

#[test]
fn rescore_of_an_empty_data_dir_does_nothing() {
    let data = tempfile::tempdir().unwrap();
    let summary = rescore(data.path(), &["--dry-run"]);
    assert_eq!((count(&summary, "items_seen"), count(&summary, "items_rescored")), (0, 0));
    assert!(!data.path().join("store").exists());
}

/// `crawl --no-score` stores items without a model: labelled unscored, no score, nothing
/// flagged; `rescore` then scores them as a crawl would have, and counts them in `stats`.
#[test]
fn items_crawled_without_scoring_are_scored_by_rescore() {
    let data = tempfile::tempdir().unwrap();
    let mut crawl = infodemic(data.path());
    crawl.args(["crawl", "--no-score", "--feeds", "feeds/samples.toml", "--json"]);
    // No model is needed: a path that holds none must not matter.
    crawl.args(["--model", "/nonexistent/model"]);
    let output = crawl.output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let summary = json_lines(&output).remove(0);
    let stored = summary["items_new"].as_u64().unwrap();
    assert!(stored > 0);
    assert_eq!(summary["items_unscored"].as_u64(), Some(stored));
    assert_eq!(summary["items_flagged"], 0);

    let items = json_lines(&infodemic(data.path()).args(["query", "--json", "--limit", "1000"]).output().unwrap());
    assert_eq!(items.len() as u64, stored);
    assert!(items.iter().all(|item| item["label"] == "unscored" && item["score"].is_null()), "{:?}", items[0]);
    let stats = json_lines(&infodemic(data.path()).args(["stats", "--json"]).output().unwrap()).remove(0);
    assert_eq!(stats["per_label"]["unscored"].as_u64(), Some(stored), "{stats}");

    let report = rescore(data.path(), &[]);
    assert_eq!(report["items_rescored"].as_u64(), Some(stored), "{report}");
    let items = json_lines(&infodemic(data.path()).args(["query", "--json", "--limit", "1000"]).output().unwrap());
    assert!(items.iter().all(|item| item["label"] != "unscored"), "{:?}", items[0]);
    assert!(items.iter().any(|item| item["label"] == "misinformation"), "the samples hold false claims");
    let stats = json_lines(&infodemic(data.path()).args(["stats", "--json"]).output().unwrap()).remove(0);
    assert!(stats["per_label"].get("unscored").is_none(), "{stats}");
}

/// Feeds crawled from a catalogue without being subscribed keep, when rescored, the category
/// they were crawled with: a fact-checker's items are decided with its prior again, and the
/// same items stay flagged.
#[test]
fn rescore_decides_a_catalogues_feeds_with_the_category_they_were_crawled_with() {
    let data = tempfile::tempdir().unwrap();
    crawl_samples(data.path(), None);
    let before = items(data.path(), &[]);
    let summary = rescore(data.path(), &["--all"]);
    assert_eq!(summary["items_rescored"].as_u64(), Some(before.len() as u64), "{summary}");
    let after = items(data.path(), &[]);
    // The fact-checker's items the model scores (one in French it does not).
    let checks: Vec<&Value> = after
        .values()
        .filter(|item| item["source"] == "sample-health-check-desk" && !item["score"].is_null())
        .collect();
    assert!(!checks.is_empty());
    for item in checks {
        let reasons = item["reasons"].as_array().unwrap();
        assert!(reasons.iter().any(|r| r.as_str().unwrap().contains("category fact-checker")), "{item}");
    }
    for (id, item) in &after {
        assert_eq!(item["flagged"], before[id]["flagged"], "{id}: {item}");
    }
}
