use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::support::{infodemic, json_lines, stderr, stdout, workspace};

fn fixture(name: &str) -> String {
    workspace().join("tests/fixtures/import").join(name).to_str().unwrap().to_owned()
}

fn cli(data: &Path, args: &[&str]) -> Output {
    infodemic(data).env_remove("INFODEMIC_REVIEWER").args(args).output().unwrap()
}

/// `import FILE --origin ORIGIN --json`: the summary object, with the exit code.
fn import(data: &Path, file: &str, origin: &str, extra: &[&str]) -> (Option<i32>, Value, String) {
    let output = cli(data, &[&["import", file, "--origin", origin, "--json", "-q"], extra].concat());
    let summary = serde_json::from_str(&stdout(&output)).unwrap_or(Value::Null);
    (output.status.code(), summary, stderr(&output))
}

/// Stored items whose text contains `text`.
fn find(data: &Path, text: &str) -> Vec<Value> {
    let output = cli(data, &["query", "--json", "--text", text]);
    assert!(output.status.success(), "{output:?}");
    json_lines(&output)
}

fn shown(data: &Path, id: &str) -> Value {
    let output = cli(data, &["show", id, "--json"]);
    assert!(output.status.success(), "{output:?}");
    serde_json::from_str(&stdout(&output)).unwrap()
}

fn counts(summary: &Value) -> [u64; 6] {
    ["rows_read", "items_added", "items_known", "verdicts_recorded", "verdicts_present", "rows_refused"]
        .map(|key| summary[key].as_u64().unwrap_or_else(|| panic!("no {key} in {summary}")))
}

#[test]
fn a_csv_with_bad_rows_keeps_the_good_ones_names_the_bad_and_imports_once() {
    let data = tempfile::tempdir().unwrap();
    let csv = fixture("labels.csv");

    // --strict: one bad row and nothing is written (not even a store).
    let (code, summary, err) = import(data.path(), &csv, "team-2024-labels", &["--strict"]);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(summary["written"], false, "{summary}");
    assert!(err.contains("Nothing imported: 3 row(s) refused (--strict)"), "{err}");
    assert!(find(data.path(), "Garlic").is_empty(), "--strict wrote nothing");

    let (code, summary, err) = import(data.path(), &csv, "team-2024-labels", &[]);
    assert_eq!(code, Some(2), "a refused row makes the exit status say so: {err}");
    assert_eq!(counts(&summary), [6, 3, 0, 3, 0, 3], "{summary}");
    assert!(err.contains("error: line 4: unknown verdict `bogus` (known: false, misleading"), "{err}");
    assert!(err.contains("error: line 5: empty text"), "{err}");
    assert!(err.contains("error: line 6: time `last tuesday` is neither RFC 3339 nor YYYY-MM-DD"), "{err}");
    let lines: Vec<u64> = summary["refused"].as_array().unwrap().iter().map(|r| r["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [4, 5, 6]);

    // The good rows are items: scored by the model, with the origin's verdict.
    let garlic = find(data.path(), "Garlic water").remove(0);
    assert_eq!(garlic["source"], "posts.example.net", "the row's own source");
    assert!(garlic["score"].as_f64().is_some(), "scored: {}", garlic["score"]);
    let shown_garlic = shown(data.path(), garlic["id"].as_str().unwrap());
    assert_eq!(shown_garlic["verdict"], "false");
    assert_eq!(shown_garlic["canonical_url"], "https://posts.example.net/garlic", "tracking parameters dropped");
    let published = chrono::DateTime::parse_from_rfc3339(shown_garlic["published"].as_str().unwrap()).unwrap();
    assert_eq!(published.to_rfc3339(), "2024-03-01T00:00:00+00:00");
    let events = shown_garlic["verdicts"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["reviewer"], "team-2024-labels", "the origin is the reviewer");
    assert_eq!(events[0]["note"], "rated by the 2024 team");
    let vitamin = find(data.path(), "Vitamin D").remove(0);
    assert_eq!(vitamin["source"], "import-team-2024-labels", "an invalid source gives way to the origin's");
    let vitamin = shown(data.path(), vitamin["id"].as_str().unwrap());
    assert_eq!(vitamin["verdict"], "missing-context");
    assert!(vitamin["url"].as_str().unwrap().starts_with("import:team-2024-labels/"), "{}", vitamin["url"]);
    let trials = find(data.path(), "clinical trials").remove(0);
    assert_eq!(trials["title"], "Vaccine trials");

    // Again: nothing added, nothing recorded, the same rows refused.
    let (code, again, _) = import(data.path(), &csv, "team-2024-labels", &[]);
    assert_eq!(code, Some(2));
    assert_eq!(counts(&again), [6, 0, 3, 0, 3, 3], "{again}");
    let after = shown(data.path(), garlic["id"].as_str().unwrap());
    assert_eq!(after["verdicts"].as_array().unwrap().len(), 1, "no duplicate event: {}", after["verdicts"]);

    // The text summary, for people.
    let output = cli(data.path(), &["import", &csv, "--origin", "team-2024-labels", "-q"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stdout(&output).contains("6 row(s) read") && stdout(&output).contains("3 already present"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn json_lines_with_labels_and_claimreview_join_the_labeled_export() {
    let data = tempfile::tempdir().unwrap();
    let (code, summary, err) = import(data.path(), &fixture("labels.jsonl"), "dataset-x", &[]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(summary["format"], "jsonl");
    assert_eq!(counts(&summary), [4, 4, 0, 4, 0, 0], "{summary}");

    let (code, summary, err) = import(data.path(), &fixture("claimreview.json"), "healthfeedback", &[]);
    assert_eq!(code, Some(2), "the satire review is refused: {err}");
    assert_eq!(summary["format"], "claimreview");
    assert_eq!(counts(&summary), [3, 2, 0, 2, 0, 1], "{summary}");
    assert!(err.contains("error: line 1, element 3: rated satire"), "{err}");
    let lemon = find(data.path(), "hot lemon water").remove(0);
    let lemon = shown(data.path(), lemon["id"].as_str().unwrap());
    assert_eq!(lemon["verdict"], "false", "Pants on Fire");
    assert_eq!(lemon["url"], "https://social.example.com/posts/lemon-1", "the claim's appearance");
    assert_eq!(lemon["verdicts"][0]["reviewer"], "healthfeedback");
    assert!(lemon["verdicts"][0]["note"].as_str().unwrap().contains("Example Checks"), "{}", lemon["verdicts"]);
    let coffee = find(data.path(), "Coffee dehydrates").remove(0);
    assert_eq!(shown(data.path(), coffee["id"].as_str().unwrap())["verdict"], "misleading", "Mixture");
    let (_, again, _) = import(data.path(), &fixture("claimreview.json"), "healthfeedback", &[]);
    assert_eq!(counts(&again), [3, 0, 2, 0, 2, 1], "{again}");

    // Our own review of an imported item joins the origin's.
    let exercise = find(data.path(), "physical exercise").remove(0);
    let id = exercise["id"].as_str().unwrap();
    assert!(cli(data.path(), &["review", id, "--verdict", "true", "--reviewer", "ana"]).status.success());

    let output = cli(data.path(), &["export", "--format", "labeled"]);
    assert!(output.status.success(), "{output:?}");
    let rows = json_lines(&output);
    assert_eq!(rows.len(), 6, "every imported item with a verdict: {rows:?}");
    let mis = |text: &str| {
        let row = rows.iter().find(|r| r["text"].as_str().unwrap().contains(text)).unwrap();
        (row["verdict"].as_str().unwrap().to_owned(), row["mis"].as_i64().unwrap())
    };
    assert_eq!(mis("Ivermectin"), ("false".to_owned(), 1), "label 1");
    assert_eq!(mis("Wash your hands"), ("true".to_owned(), 0), "label real");
    assert_eq!(mis("onions in your socks"), ("false".to_owned(), 1), "label fake");
    assert_eq!(mis("physical exercise"), ("true".to_owned(), 0), "label 0");
    assert_eq!(mis("hot lemon water"), ("false".to_owned(), 1));
    assert_eq!(mis("Coffee dehydrates"), ("misleading".to_owned(), 1));
    let exercise = rows.iter().find(|r| r["id"] == id).unwrap();
    assert_eq!((exercise["agreement"].as_str(), exercise["reviewers"].as_u64()), (Some("agreed"), Some(2)));
}

#[test]
fn unusable_input_is_a_usage_error() {
    let data = tempfile::tempdir().unwrap();
    let no_origin = cli(data.path(), &["import", &fixture("labels.csv")]);
    assert_eq!(no_origin.status.code(), Some(2), "{no_origin:?}");
    let bad_origin = cli(data.path(), &["import", &fixture("labels.csv"), "--origin", "two words"]);
    assert_eq!(bad_origin.status.code(), Some(2));
    assert!(stderr(&bad_origin).contains("origin `two words`"), "{}", stderr(&bad_origin));
    let missing = cli(data.path(), &["import", "no/such/file.csv", "--origin", "x"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("cannot open no/such/file.csv"), "{}", stderr(&missing));
    let file = data.path().join("plain.csv");
    std::fs::write(&file, "body,stance\nhello,1\n").unwrap();
    let no_columns = cli(data.path(), &["import", file.to_str().unwrap(), "--origin", "x"]);
    assert_eq!(no_columns.status.code(), Some(2));
    assert!(stderr(&no_columns).contains("no text column"), "{}", stderr(&no_columns));
    // --text-field and --verdict-field name other columns.
    std::fs::write(&file, "body,rating\nMiracle mineral solution cures autism in children,mostly_false\n").unwrap();
    let (code, summary, err) =
        import(data.path(), file.to_str().unwrap(), "x", &["--text-field", "body", "--verdict-field", "rating"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(counts(&summary), [1, 1, 0, 1, 0, 0], "{summary}");
    let item = find(data.path(), "Miracle mineral").remove(0);
    assert_eq!(shown(data.path(), item["id"].as_str().unwrap())["verdict"], "false", "mostly_false");
}

#[test]
fn a_store_held_by_another_process_is_in_use() {
    let data = tempfile::tempdir().unwrap();
    let (_held, _) = infodemic_store::SledStore::open(&data.path().join("store")).unwrap();
    let output = cli(data.path(), &["import", &fixture("labels.jsonl"), "--origin", "x", "-q"]);
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    assert!(stderr(&output).contains("in use by another infodemic process"), "{}", stderr(&output));
}
