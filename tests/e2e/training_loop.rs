use std::process::Command;

use serde_json::Value;

use crate::support::{infodemic, json_lines, stderr, stdout, workspace};

/// The Python the parity tests use, with the runtime and reference packages of
/// `scripts/setup.sh --python-reference`.
fn python() -> Command {
    let mut command = Command::new(std::env::var("INFODEMIC_PYTHON").unwrap_or_else(|_| "python3".to_owned()));
    command.env("PYTHONPATH", ".ort:.pyref").current_dir(workspace());
    command
}

/// Verdicts are training data: items crawled, reviewed through the CLI and exported with
/// `export --format labeled` are read by `models/train/` (the v3 loader), and a head trained on
/// them separates false claims from accurate texts in held-out hand-written data. Trained on
/// flipped labels it must do worse than chance there, so an export or loader that mixed up
/// labels would fail.
#[test]
fn reviewed_items_train_a_model_through_models_train() {
    let data = tempfile::tempdir().unwrap();
    let crawl = infodemic(data.path()).args(["crawl", "--feeds", "feeds/samples.toml", "-q"]).output().unwrap();
    assert!(crawl.status.success(), "{crawl:?}");
    let items = json_lines(&infodemic(data.path()).args(["query", "--json", "--limit", "500"]).output().unwrap());
    assert!(items.len() >= 30, "{}", items.len());
    // The reviewer's judgement: the outlets' posts are false claims, the fact-checks and
    // authorities' notices are not.
    let mut batch = String::new();
    for item in &items {
        let source = item["source"].as_str().unwrap();
        let outlet = source.starts_with("sample-natural-truth") || source.starts_with("sample-health-freedom");
        let verdict = if outlet { "false" } else { "true" };
        batch.push_str(&serde_json::json!({"id": item["id"], "verdict": verdict}).to_string());
        batch.push('\n');
    }
    let batch_file = data.path().join("verdicts.jsonl");
    std::fs::write(&batch_file, batch).unwrap();
    let review = infodemic(data.path())
        .args(["review", "--batch", batch_file.to_str().unwrap(), "--reviewer", "trainer"])
        .output()
        .unwrap();
    assert!(review.status.success(), "{review:?}");

    let export = data.path().join("labeled.jsonl");
    let output = infodemic(data.path())
        .args(["export", "--format", "labeled", "-o", export.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");

    let trained = python()
        .args(["models/train/retrain_head.py", "--reviews", export.to_str().unwrap()])
        .args(["--eval", "models/train/hardcases/dev.jsonl", "--min-cv-auc", "0.7", "--min-eval-auc", "0.65"])
        .output()
        .unwrap();
    assert!(trained.status.success(), "the training script accepts the export and learns from it: {trained:?}");
    let result: Value = serde_json::from_str(stdout(&trained).lines().last().unwrap()).unwrap();
    assert_eq!(result["reviews"]["trained_on"].as_u64(), Some(items.len() as u64), "{result}");
    // Held-out hand-written texts the head never saw: what it learned from the verdicts carries.
    assert!(result["eval"]["roc_auc"].as_f64().unwrap() >= 0.65, "{result}");

    let flipped = python()
        .args(["models/train/retrain_head.py", "--reviews", export.to_str().unwrap(), "--flip-labels"])
        .args(["--eval", "models/train/hardcases/dev.jsonl"])
        .output()
        .unwrap();
    assert!(flipped.status.success(), "{flipped:?}");
    let result: Value = serde_json::from_str(stdout(&flipped).lines().last().unwrap()).unwrap();
    // Measured against the true labels, flipped training falls below chance: the export's
    // labels mean what they say.
    assert!(result["eval"]["roc_auc"].as_f64().unwrap() < 0.4, "{result}");

    let broken = data.path().join("broken.jsonl");
    std::fs::write(&broken, "{broken\n").unwrap();
    let refused =
        python().args(["models/train/retrain_head.py", "--reviews", broken.to_str().unwrap()]).output().unwrap();
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    assert!(stderr(&refused).contains(":1: skipped"), "{}", stderr(&refused));
}
