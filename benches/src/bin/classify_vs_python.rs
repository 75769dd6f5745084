//! Whole-command throughput of `infodemic classify` against a Python script that runs the same
//! model with onnxruntime and tokenizers (`models/train/bench_python.py`), on the same texts
//! and thread count, alternating rounds in one run. Prints texts/s of each and the ratio. The
//! peer gets the same tricks: texts prepared as the manifest says, sorted by token count and
//! batched with padding to each batch's longest text.
//!
//! ```sh
//! cargo build --release -p infodemic-cli
//! cargo run --release -p infodemic-benches --bin classify_vs_python -- --threads 2 --rounds 3
//! ```
//!
//! Corpus (realistic, mixed length, every text within the model's 128 tokens so both sides do
//! the same work): CONSTRAINT validation posts, Cheng et al. news claims (read from
//! `../shared/datasets`, never copied), and the sample feeds' articles cut to ~400 characters.
//! Both sides are timed as whole processes (start-up and model load included), which is what a
//! user waits for; the Python script's own figure (load excluded) is printed too.

#![allow(clippy::print_stdout, clippy::print_stderr)] // A bench binary reports on the terminal.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use chrono::Utc;
use infodemic_core::FeedSpec;
use infodemic_crawler::normalize::normalize_feed;
use infodemic_crawler::parse::parse_feed;
use url::Url;

struct Options {
    threads: usize,
    rounds: usize,
    batch: usize,
    model: PathBuf,
    datasets: PathBuf,
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        threads: 2,
        rounds: 3,
        batch: 32,
        model: workspace().join("models/minilm-health-v3"),
        datasets: workspace().join("../shared/datasets"),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--threads" => options.threads = value()?.parse().map_err(|e| format!("--threads: {e}"))?,
            "--rounds" => options.rounds = value()?.parse().map_err(|e| format!("--rounds: {e}"))?,
            "--batch" => options.batch = value()?.parse().map_err(|e| format!("--batch: {e}"))?,
            "--model" => options.model = PathBuf::from(value()?),
            "--datasets" => options.datasets = PathBuf::from(value()?),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(options)
}

fn cut(text: &str, max_chars: usize) -> String {
    if text.len() <= max_chars {
        return text.to_owned();
    }
    let mut end = max_chars;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let head = &text[..end];
    head.rfind(". ").map_or(head, |i| &head[..=i]).trim().to_owned()
}

fn corpus(datasets: &Path) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let mut texts = Vec::new();
    let mut val = csv::Reader::from_path(datasets.join("constraint2021/Constraint_Val.csv"))?;
    for record in val.records() {
        texts.push(record?.get(1).unwrap_or_default().to_owned());
    }
    let mut news = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(datasets.join("covid19-rumor-cheng2020/news.csv"))?;
    for record in news.records().take(1500) {
        texts.push(record?.get(2).unwrap_or_default().to_owned());
    }
    for entry in std::fs::read_dir(workspace().join("feeds/samples"))? {
        let path = entry?.path();
        let url = Url::from_file_path(&path).map_err(|()| "bad sample path")?;
        let feed = parse_feed(&std::fs::read(&path)?)?;
        let items = normalize_feed(feed, &FeedSpec::from_url(url.clone()), &url, Utc::now()).items;
        // The articles repeat so that long texts are a real share of the corpus.
        for _ in 0..10 {
            texts.extend(items.iter().map(|item| cut(&item.classifier_input(), 400)));
        }
    }
    texts.retain(|t| !t.trim().is_empty());
    Ok(texts)
}

fn time_command(command: &mut Command) -> Result<(f64, String), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let output = command.stderr(Stdio::inherit()).output()?;
    let seconds = started.elapsed().as_secs_f64();
    if !output.status.success() {
        return Err(format!("{command:?} failed: {}", output.status).into());
    }
    Ok((seconds, String::from_utf8_lossy(&output.stdout).into_owned()))
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = parse_args()?;
    let binary = workspace().join("target/release/infodemic");
    let python = workspace().join("models/train/.venv/bin/python");
    for (path, hint) in [
        (&binary, "cargo build --release -p infodemic-cli"),
        (&python, "bash models/train/build.sh (creates the Python venv)"),
    ] {
        if !path.exists() {
            return Err(format!("{} missing: run `{hint}`", path.display()).into());
        }
    }
    let texts = corpus(&options.datasets)?;
    let dir = std::env::temp_dir().join(format!("infodemic-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let input = dir.join("texts.jsonl");
    let lines: Vec<String> = texts.iter().map(|t| serde_json::json!({ "text": t }).to_string()).collect();
    std::fs::write(&input, lines.join("\n") + "\n")?;
    let chars: Vec<usize> = texts.iter().map(|t| t.chars().count()).collect();
    println!(
        "corpus: {} texts, {:.0} characters on average (min {}, max {}); threads {}, batch {}, model {}",
        texts.len(),
        chars.iter().sum::<usize>() as f64 / chars.len() as f64,
        chars.iter().min().unwrap_or(&0),
        chars.iter().max().unwrap_or(&0),
        options.threads,
        options.batch,
        options.model.display()
    );

    let threads = options.threads.to_string();
    let batch = options.batch.to_string();
    let (mut rust_rates, mut python_rates, mut python_inner) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=options.rounds {
        let (rust_seconds, _) = time_command(
            Command::new(&binary)
                .args(["classify", "--json", "--no-evidence", "--quiet", "--threads", &threads, "--batch-size", &batch])
                .arg("--model")
                .arg(&options.model)
                .arg(&input)
                .stdout(Stdio::piped()),
        )?;
        let (python_seconds, report) = time_command(
            Command::new(&python)
                .arg(workspace().join("models/train/bench_python.py"))
                .arg(&input)
                .args(["--threads", &threads, "--batch", &batch])
                .arg("--model-dir")
                .arg(&options.model)
                .stdout(Stdio::piped()),
        )?;
        let inner =
            serde_json::from_str::<serde_json::Value>(report.trim())?["texts_per_s"].as_f64().unwrap_or(f64::NAN);
        let n = texts.len() as f64;
        println!(
            "round {round}: rust {:.1} texts/s ({rust_seconds:.2} s), python {:.1} texts/s ({python_seconds:.2} s; {inner:.1} texts/s without start-up)",
            n / rust_seconds,
            n / python_seconds
        );
        rust_rates.push(n / rust_seconds);
        python_rates.push(n / python_seconds);
        python_inner.push(inner);
    }
    let (rust, python, inner) = (median(&mut rust_rates), median(&mut python_rates), median(&mut python_inner));
    println!("median: rust {rust:.1} texts/s, python {python:.1} texts/s (whole process), ratio {:.2}x", rust / python);
    println!("python without start-up: {inner:.1} texts/s; ratio against it {:.2}x", rust / inner);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
