use std::io::Write;
use std::process::Stdio;

use crate::support::{infodemic, json_lines, stderr, stdout};

fn classify_stdin(args: &[&str], input: &str) -> std::process::Output {
    let data = tempfile::tempdir().unwrap();
    let mut child = infodemic(data.path())
        .arg("classify")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// The served model's flag threshold, as `model info --json` reports it.
fn flag_threshold() -> f64 {
    let data = tempfile::tempdir().unwrap();
    let output = infodemic(data.path()).args(["model", "info", "--json"]).output().unwrap();
    let manifest = json_lines(&output).remove(0);
    manifest["thresholds"]["flag"]["value"].as_f64().unwrap()
}

#[test]
fn plain_lines_get_one_json_object_each_in_order() {
    let input = "Drinking bleach cures coronavirus, doctors hide it.\n\n\
                 The health ministry reported 1,121 new cases and 12 deaths on Tuesday.\n\
                 5G towers spread the virus.\n";
    let output = classify_stdin(&["--json"], input);
    assert!(output.status.success(), "{}", stderr(&output));
    let results = json_lines(&output);
    let flag = flag_threshold();
    assert_eq!(results.len(), 3, "the blank line is not a text");
    assert_eq!(results.iter().map(|r| r["line"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 3, 4]);
    for result in &results {
        let score = result["score"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&score));
        assert_eq!(result["flagged"], score >= flag, "the manifest's flag threshold");
    }
    assert!(results[0]["score"].as_f64().unwrap() > results[1]["score"].as_f64().unwrap());
}

#[test]
fn json_lines_keep_ids_and_labels() {
    let input = r#"{"id": "a", "text": "Garlic water cures COVID-19 overnight", "label": "fake"}
{"id": "b", "text": "CDC reports 99031 deaths so far.", "label": 0}
"#;
    let output = classify_stdin(&["--json"], input);
    let results = json_lines(&output);
    assert_eq!(results[0]["id"], "a");
    assert_eq!(results[0]["expected"], "misinformation");
    assert_eq!(results[1]["expected"], "reliable");
}

#[test]
fn eval_prints_the_metrics() {
    let input = r#"{"text": "Garlic water cures COVID-19 overnight", "label": 1}
{"text": "Drinking bleach kills the coronavirus in your body", "label": "misinformation"}
{"text": "The CDC currently reports 99031 deaths.", "label": 0}
{"text": "States reported 1121 deaths, a small rise from last Tuesday.", "label": "real"}
"#;
    let output = classify_stdin(&["--eval"], input);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    for needle in ["precision", "recall", "F1", "ROC AUC", "confusion matrix", "4 texts (2 misinformation, 2 reliable)"]
    {
        assert!(text.contains(needle), "{needle} missing in {text}");
    }
    let output = classify_stdin(&["--eval", "--json"], input);
    let report = json_lines(&output).remove(0);
    assert_eq!(report["n"], 4);
    let cm = &report["confusion"];
    let total: u64 = ["true_positive", "false_positive", "true_negative", "false_negative"]
        .iter()
        .map(|k| cm[k].as_u64().unwrap())
        .sum();
    assert_eq!(total, 4);
    assert!(report["roc_auc"].as_f64().is_some());
}

#[test]
fn eval_without_labels_and_malformed_lines_are_usage_errors() {
    let output = classify_stdin(&["--eval"], "no label here\n");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("line 1: no label"), "{}", stderr(&output));
    let output = classify_stdin(&["--json"], "fine\n{\"txt\": 1}\n");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("line 2: no `text` field"), "{}", stderr(&output));
}
