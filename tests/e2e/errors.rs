use std::path::Path;

use infodemic_store::SledStore;

use crate::support::{infodemic, stderr, vouch_for, workspace};

fn run(data: &Path, args: &[&str]) -> std::process::Output {
    infodemic(data).args(args).output().unwrap()
}

#[test]
fn misuse_is_a_one_line_message_and_exit_2() {
    let data = tempfile::tempdir().unwrap();
    for (args, needle) in [
        (&["query", "--no-such-flag"][..], "unexpected argument"),
        (&["query", "--since", "last tuesday"][..], "is not a date"),
        (&["query", "--min-score", "7"][..], "outside 0..1"),
        (&["show", "not-an-id"][..], "invalid item id"),
        (&["classify", "/definitely/missing.txt"][..], "cannot open /definitely/missing.txt"),
        (&["crawl"][..], "nothing to crawl"),
        (&["crawl", "--feeds", "/definitely/missing.toml"][..], "cannot read catalogue"),
        (&["crawl", "--url", "ftp://example.org/feed"][..], "unsupported scheme"),
        (&["frobnicate"][..], "unrecognized subcommand"),
    ] {
        let output = run(data.path(), args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
        let message = stderr(&output);
        assert!(message.contains(needle), "{args:?}: {message}");
        assert!(message.starts_with("error:"), "{args:?}: {message}");
    }
}

#[test]
fn an_unknown_id_is_exit_2() {
    let data = tempfile::tempdir().unwrap();
    let output = run(data.path(), &["show", "0011223344556677"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("no item with id 0011223344556677"));
}

#[test]
fn global_options_go_before_or_after_the_subcommand() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    for args in [&["--data-dir", dir, "stats", "--json"][..], &["stats", "--json", "--data-dir", dir][..]] {
        let output = infodemic(Path::new("/nonexistent")).args(args).output().unwrap();
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
    }
}

#[test]
fn a_held_store_lock_is_reported_clearly() {
    let data = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(data.path()).unwrap();
    let (_held, _) = SledStore::open(&data.path().join("store")).unwrap();
    let output = run(data.path(), &["query"]);
    assert_eq!(output.status.code(), Some(3));
    let message = stderr(&output);
    assert!(message.contains("in use by another infodemic process"), "{message}");
}

#[test]
fn a_missing_runtime_library_names_the_setup_command() {
    let data = tempfile::tempdir().unwrap();
    let output =
        run(data.path(), &["--ort-lib", "/nowhere/libonnxruntime.so", "crawl", "--feeds", "feeds/samples.toml"]);
    assert_eq!(output.status.code(), Some(3));
    let message = stderr(&output);
    assert!(
        message.contains("ONNX Runtime library not found") && message.contains("bash scripts/setup.sh"),
        "{message}"
    );
    assert!(!message.contains("panicked"));
}

#[test]
fn a_tampered_model_is_refused() {
    let data = tempfile::tempdir().unwrap();
    let model = data.path().join("model");
    std::fs::create_dir_all(&model).unwrap();
    let source = workspace().join("models/minilm-constraint-v1");
    for file in ["model.onnx", "model.toml", "tokenizer.json"] {
        std::fs::copy(source.join(file), model.join(file)).unwrap();
    }
    let tokenizer = model.join("tokenizer.json");
    let mut bytes = std::fs::read(&tokenizer).unwrap();
    bytes.extend_from_slice(b"\n");
    std::fs::write(&tokenizer, bytes).unwrap();
    let output = infodemic(data.path())
        .args(["classify", "--model", model.to_str().unwrap()])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert!(stderr(&output).contains("checksum mismatch"), "{}", stderr(&output));
}

#[test]
fn a_tokenizer_that_is_not_the_models_is_refused() {
    let data = tempfile::tempdir().unwrap();
    let model = data.path().join("model");
    std::fs::create_dir_all(&model).unwrap();
    let source = workspace().join("models/minilm-health-v2");
    for file in ["model.onnx", "model.toml", "tokenizer.json"] {
        std::fs::copy(source.join(file), model.join(file)).unwrap();
    }
    // Another tokenizer, with a manifest that vouches for it: only the graph's own record of
    // its tokenizer can catch the swap.
    let mut tokenizer = std::fs::read_to_string(model.join("tokenizer.json")).unwrap();
    tokenizer.push('\n');
    std::fs::write(model.join("tokenizer.json"), &tokenizer).unwrap();
    vouch_for(&model, "tokenizer", "tokenizer.json");
    let output = infodemic(data.path()).args(["model", "verify", "--model", model.to_str().unwrap()]).output().unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert!(stderr(&output).contains("tokenizer does not match the model"), "{}", stderr(&output));
}
