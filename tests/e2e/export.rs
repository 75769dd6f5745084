use std::collections::HashSet;
use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::support::{infodemic, json_lines, stderr};

/// A data dir with the offline samples crawled, and a few verdicts.
fn crawled() -> tempfile::TempDir {
    let data = tempfile::tempdir().unwrap();
    let output = infodemic(data.path()).args(["crawl", "--feeds", "feeds/samples.toml", "-q"]).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    data
}

fn cli(data: &Path, args: &[&str]) -> Output {
    infodemic(data).args(args).output().unwrap()
}

fn sha256(path: &Path) -> String {
    let output = std::process::Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8(output.stdout).unwrap().split_whitespace().next().unwrap().to_owned()
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn card(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_dataset_has_every_column_a_card_with_checksums_and_spreadsheet_safe_csv() {
    let data = crawled();
    let all = json_lines(&cli(data.path(), &["query", "--json", "--limit", "500"]));
    let flagged = all.iter().find(|i| i["flagged"] == true).unwrap()["id"].as_str().unwrap().to_owned();
    assert!(cli(data.path(), &["review", &flagged, "--verdict", "false", "--reviewer", "ana"]).status.success());

    let file = data.path().join("items.jsonl");
    let output =
        cli(data.path(), &["export", "--format", "jsonl", "--out", file.to_str().unwrap(), "--licence", "CC BY 4.0"]);
    assert!(output.status.success(), "{output:?}");
    let rows = lines(&file);
    assert_eq!(rows.len(), all.len(), "every stored item, once");
    let ids: HashSet<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), rows.len());
    for column in
        ["id", "url", "title", "text", "source", "author", "published", "score", "flagged", "model_version", "verdict"]
    {
        assert!(rows.iter().all(|r| r.get(column).is_some()), "column {column}");
    }
    let row = rows.iter().find(|r| r["id"] == flagged.as_str()).unwrap();
    assert_eq!(row["verdict"], "false");
    assert_eq!(row["verdict_count"], 1);
    assert_eq!(row["agreement"], "single");
    assert!(row["campaign"].as_str().unwrap().starts_with('c'), "{row}");
    assert!(row["flag_threshold"].as_f64().is_some(), "the model's thresholds: {row}");
    assert!(row["source_category"].is_string() || row["source_category"].is_null());
    assert!(row["feed_url"].as_str().unwrap().starts_with("file://"), "{row}");

    let card = card(&data.path().join("items.jsonl.card.json"));
    assert_eq!(card["files"][0]["name"], "items.jsonl");
    assert_eq!(card["files"][0]["sha256"], sha256(&file));
    assert_eq!(card["files"][0]["rows"].as_u64(), Some(rows.len() as u64));
    assert_eq!(card["licence"], "CC BY 4.0");
    assert_eq!(card["counts"]["per_verdict"]["false"], 1);
    assert!(card["command"].as_array().unwrap().iter().any(|a| a == "--licence"));
    let markdown = std::fs::read_to_string(data.path().join("items.jsonl.card.md")).unwrap();
    assert!(markdown.contains(&sha256(&file)) && markdown.contains("CC BY 4.0"), "{markdown}");

    let csv_file = data.path().join("items.csv");
    assert!(cli(data.path(), &["export", "--format", "csv", "--out", csv_file.to_str().unwrap()]).status.success());
    let mut reader = csv::Reader::from_path(&csv_file).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(&header[..4], ["id", "url", "title", "text"]);
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), rows.len());
    for record in &records {
        for cell in record {
            assert!(!cell.starts_with(['=', '+', '-', '@']), "a formula-like cell reached the CSV: {cell}");
        }
    }
}

#[test]
fn filters_narrow_the_rows_and_bad_input_is_refused() {
    let data = crawled();
    let out = data.path().join("f.jsonl");
    let out_arg = out.to_str().unwrap();
    assert!(cli(data.path(), &["export", "--format", "jsonl", "--out", out_arg, "--flagged"]).status.success());
    let flagged = lines(&out);
    assert!(!flagged.is_empty() && flagged.iter().all(|r| r["flagged"] == true));

    let source = flagged[0]["source"].as_str().unwrap().to_owned();
    assert!(cli(data.path(), &["export", "--format", "jsonl", "--out", out_arg, "--source", &source, "--limit", "2"])
        .status
        .success());
    let limited = lines(&out);
    assert_eq!(limited.len(), 2);
    assert!(limited.iter().all(|r| r["source"] == source.as_str()));

    assert!(cli(data.path(), &["export", "--format", "jsonl", "--out", out_arg, "--category", "fact-checker"])
        .status
        .success());
    let checks = lines(&out);
    assert!(checks.iter().all(|r| r["source_category"] == "fact-checker"), "{checks:?}");

    let campaign = flagged.iter().find_map(|r| r["campaign"].as_str()).unwrap().to_owned();
    assert!(cli(data.path(), &["export", "--format", "jsonl", "--out", out_arg, "--campaign", &campaign])
        .status
        .success());
    assert!(lines(&out).iter().all(|r| r["campaign"] == campaign.as_str()));

    assert!(cli(data.path(), &["export", "--format", "jsonl", "--out", out_arg, "--reviewed"]).status.success());
    assert!(lines(&out).is_empty(), "nothing is reviewed yet");

    let missing = cli(data.path(), &["export", "--format", "csv"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("--out"), "{missing:?}");
    let bad_split = cli(data.path(), &["export", "--format", "csv", "--out", out_arg, "--split", "random:2"]);
    assert_eq!(bad_split.status.code(), Some(2));
    assert!(stderr(&bad_split).contains("between 0 and 1"), "{bad_split:?}");
}

#[test]
fn splits_write_train_and_test_and_keep_stories_whole() {
    let data = crawled();
    for spec in ["time:2026-03-05", "random:0.5", "source:0.3"] {
        let dir = data.path().join(spec.replace(':', "-"));
        let output =
            cli(data.path(), &["export", "--format", "jsonl", "--out", dir.to_str().unwrap(), "--split", spec]);
        assert!(output.status.success(), "{spec}: {output:?}");
        let train = lines(&dir.join("train.jsonl"));
        let test = lines(&dir.join("test.jsonl"));
        assert!(!train.is_empty() && !test.is_empty(), "{spec}: {} / {}", train.len(), test.len());
        assert!(train.iter().all(|r| r["split"] == "train") && test.iter().all(|r| r["split"] == "test"));
        let campaigns = |rows: &[Value]| -> HashSet<String> {
            rows.iter().filter_map(|r| r["campaign"].as_str().map(str::to_owned)).collect()
        };
        assert!(campaigns(&train).is_disjoint(&campaigns(&test)), "{spec}: a story straddles the split");
        let card = card(&dir.join("card.json"));
        let files: Vec<&str> = card["files"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
        assert_eq!(files, ["train.jsonl", "test.jsonl"]);
        assert_eq!(card["files"][0]["sha256"], sha256(&dir.join("train.jsonl")));
        assert_eq!(card["counts"]["per_split"]["test"].as_u64(), Some(test.len() as u64));
        if spec.starts_with("time") {
            let cut = "2026-03-05";
            assert!(test.iter().all(|r| r["campaign"].is_string() || r["published"].as_str().unwrap_or("9") >= cut));
        }
        if spec.starts_with("source") {
            let held: HashSet<&str> =
                card["split"]["test_sources"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
            assert!(
                train.iter().all(|r| !held.contains(r["source"].as_str().unwrap())),
                "held-out sources stay out of train"
            );
        }
    }
}

#[test]
fn pseudonyms_are_stable_with_the_key_and_hide_authors() {
    let data = crawled();
    let first = data.path().join("p1.jsonl");
    let second = data.path().join("p2.jsonl");
    for file in [&first, &second] {
        let output =
            cli(data.path(), &["export", "--format", "jsonl", "--out", file.to_str().unwrap(), "--pseudonymize"]);
        assert!(output.status.success(), "{output:?}");
    }
    let key = data.path().join("pseudonym.key");
    assert!(key.is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let plain = json_lines(&cli(data.path(), &["query", "--json", "--limit", "500"]));
    let authors: HashSet<&str> = plain.iter().filter_map(|i| i["author"].as_str()).collect();
    assert!(!authors.is_empty());
    let (a, b) = (lines(&first), lines(&second));
    assert_eq!(a, b, "the same key gives the same pseudonyms");
    for row in &a {
        if let Some(author) = row["author"].as_str() {
            assert!(author.starts_with("author:") && !authors.contains(author), "{author}");
        }
    }
    assert!(card(&data.path().join("p1.jsonl.card.json"))["pseudonymized"] == true);
}

#[test]
fn parquet_holds_the_same_rows_and_pyarrow_reads_it() {
    let data = crawled();
    let jsonl = data.path().join("items.jsonl");
    let parquet = data.path().join("items.parquet");
    assert!(cli(data.path(), &["export", "--format", "jsonl", "--out", jsonl.to_str().unwrap()]).status.success());
    let output = cli(data.path(), &["export", "--format", "parquet", "--out", parquet.to_str().unwrap()]);
    assert!(output.status.success(), "{output:?}");
    let script = "import json, sys, pyarrow.parquet as pq\n\
                  rows = pq.read_table(sys.argv[1]).to_pylist()\n\
                  print(json.dumps(rows))";
    let python = std::env::var("INFODEMIC_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let read = std::process::Command::new(python)
        .env("PYTHONPATH", crate::support::workspace().join(".pyref"))
        .args(["-c", script, parquet.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(read.status.success(), "pyarrow must read it (bash scripts/setup.sh --python-reference): {read:?}");
    let from_parquet: Vec<Value> = serde_json::from_slice(&read.stdout).unwrap();
    let from_jsonl = lines(&jsonl);
    assert_eq!(from_parquet.len(), from_jsonl.len());
    for (a, b) in from_parquet.iter().zip(&from_jsonl) {
        for column in
            ["id", "url", "title", "text", "source", "author", "published", "flagged", "model_version", "verdict"]
        {
            assert_eq!(a[column], b[column], "{column}");
        }
        match (a["score"].as_f64(), b["score"].as_f64()) {
            (Some(x), Some(y)) => assert!((x - y).abs() < 1e-6, "{x} {y}"),
            (x, y) => assert_eq!(x, y, "a null score stays null"),
        }
    }
    assert_eq!(card(&data.path().join("items.parquet.card.json"))["files"][0]["sha256"], sha256(&parquet));
}
