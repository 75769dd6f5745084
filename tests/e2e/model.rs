//! `model selftest` and `model verify`: does this machine score as the build machine did?
//! And `eval` on a labeled file with kinds and pairs.

use std::path::Path;

use serde_json::Value;

use crate::support::{infodemic, json_lines, stdout, vouch_for, workspace};

const SERVED: &str = "models/minilm-health-v3";

/// A copy of the served model whose recorded self-test outputs were changed by `edit`, with a
/// manifest that vouches for the changed file (so only the self-test itself can notice).
fn model_with_recorded_outputs(dir: &Path, edit: impl Fn(&mut Value)) -> std::path::PathBuf {
    let model = dir.join("model");
    std::fs::create_dir_all(&model).unwrap();
    let source = workspace().join(SERVED);
    for file in ["model.onnx", "model.toml", "tokenizer.json"] {
        std::fs::copy(source.join(file), model.join(file)).unwrap();
    }
    let mut cases: Vec<Value> = std::fs::read_to_string(source.join("selftest.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    edit(&mut cases[3]);
    let text: String = cases.iter().map(|c| format!("{c}\n")).collect();
    std::fs::write(model.join("selftest.jsonl"), &text).unwrap();
    vouch_for(&model, "selftest", "selftest.jsonl");
    model
}

#[test]
fn this_machine_scores_the_recorded_texts_as_the_build_machine_did() {
    let data = tempfile::tempdir().unwrap();
    let output = infodemic(data.path()).args(["model", "selftest", "--json"]).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let report = json_lines(&output).remove(0);
    assert_eq!(report["passed"], true, "{report}");
    assert!(report["cases"].as_u64().unwrap() >= 30, "{report}");
    let tolerance = report["tolerance"]["score"].as_f64().unwrap();
    assert!(report["max_score_deviation"].as_f64().unwrap() <= tolerance, "{report}");
    assert!(report["min_embedding_cosine"].as_f64().unwrap() >= 0.998, "{report}");

    let output = infodemic(data.path()).args(["model", "verify"]).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = stdout(&output);
    assert!(text.contains("self-test passed") && text.contains("largest score deviation"), "{text}");
}

#[test]
fn a_machine_that_scores_differently_fails_the_selftest() {
    let data = tempfile::tempdir().unwrap();
    let model = model_with_recorded_outputs(data.path(), |case| {
        let score = case["score"].as_f64().unwrap();
        case["score"] = Value::from(if score > 0.5 { score - 0.3 } else { score + 0.3 });
    });
    for command in [&["model", "selftest"][..], &["model", "verify"][..]] {
        let output = infodemic(data.path()).args(command).arg("--model").arg(&model).output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{command:?}: {output:?}");
        let text = stdout(&output);
        assert!(text.contains("self-test FAILED") && text.contains("does not score as the build machine"), "{text}");
    }
    // An embedding that moved is caught too, not only scores.
    let other = tempfile::tempdir().unwrap();
    let model = model_with_recorded_outputs(other.path(), |case| {
        let embedding = case["embedding"].as_array_mut().unwrap();
        embedding.reverse();
    });
    let output =
        infodemic(other.path()).args(["model", "selftest", "--json"]).arg("--model").arg(&model).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report = json_lines(&output).remove(0);
    assert!(report["min_embedding_cosine"].as_f64().unwrap() < 0.9, "{report}");
}

#[test]
fn a_model_without_a_recorded_selftest_says_so() {
    let data = tempfile::tempdir().unwrap();
    let output = infodemic(data.path())
        .args(["model", "selftest", "--model"])
        .arg(workspace().join("models/minilm-health-v2"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("records no self-test"), "{output:?}");
}

#[test]
fn eval_reports_flags_per_kind_and_claims_against_their_debunks() {
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("hard.jsonl");
    let rows = [
        ("Drinking bleach cures COVID-19 and doctors are hiding it.", 1, "false_claim", "p1"),
        ("No, drinking bleach does not cure COVID-19: it is a poison.", 0, "debunk", "p1"),
        ("Fluoride in tap water lowers children's IQ by 20 points.", 1, "false_claim", "p2"),
        ("Fact check: fluoride at recommended levels does not lower IQ.", 0, "debunk", "p2"),
        ("Hello everyone, happy Friday!", 0, "chatter", ""),
        ("What are the early symptoms of measles?", 0, "question", ""),
    ];
    let lines: String = rows
        .iter()
        .map(|(text, label, kind, pair)| {
            format!("{}\n", serde_json::json!({"text": text, "label": label, "kind": kind, "pair": pair}))
        })
        .collect();
    std::fs::write(&file, lines).unwrap();
    let output = infodemic(data.path()).args(["eval", "--json", "--data"]).arg(&file).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let report = json_lines(&output).remove(0);
    let kinds: Vec<&str> = report["kinds"].as_array().unwrap().iter().map(|k| k["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["chatter", "debunk", "false_claim", "question"]);
    let rate = |kind: &str| {
        report["kinds"].as_array().unwrap().iter().find(|k| k["kind"] == kind).unwrap()["flag_rate"].as_f64().unwrap()
    };
    assert_eq!(rate("false_claim"), 1.0, "{report}");
    assert_eq!((rate("debunk"), rate("chatter"), rate("question")), (0.0, 0.0, 0.0), "{report}");
    assert_eq!(report["pairs"]["pairs"], 2);
    assert_eq!(report["pairs"]["roc_auc"], 1.0, "{report}");
    let human = infodemic(data.path()).args(["eval", "--data"]).arg(&file).output().unwrap();
    let text = stdout(&human);
    assert!(text.contains("per kind") && text.contains("claims against their own debunks: 2 pairs"), "{text}");
}
