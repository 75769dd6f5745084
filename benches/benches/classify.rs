//! Classification throughput of the real int8 model, texts/s, at batch sizes 1, 8 and 32.
//!
//! Corpus: every item of `feeds/samples/` (title + text, as the crawler feeds the model), a
//! realistic mix of short claims and long articles. Needs `bash scripts/setup.sh`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Benchmarks: a panic is the report.

use std::path::{Path, PathBuf};

use chrono::Utc;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use infodemic_classifier::{Classify, ModelBundle, OnnxClassifier, OrtRuntime, SessionOptions};
use infodemic_core::FeedSpec;
use infodemic_crawler::normalize::normalize_feed;
use infodemic_crawler::parse::parse_feed;
use url::Url;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn corpus() -> Vec<String> {
    let mut texts = Vec::new();
    for entry in std::fs::read_dir(workspace().join("feeds/samples")).unwrap() {
        let path = entry.unwrap().path();
        let url = Url::from_file_path(&path).unwrap();
        let feed = parse_feed(&std::fs::read(&path).unwrap()).unwrap();
        let normalized = normalize_feed(feed, &FeedSpec::from_url(url.clone()), &url, Utc::now());
        texts.extend(normalized.items.iter().map(infodemic_core::Item::classifier_input));
    }
    texts.sort();
    texts
}

fn classify(c: &mut Criterion) {
    let library = std::env::var_os("INFODEMIC_ORT_LIB")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join(".ort/onnxruntime/capi/libonnxruntime.so.1.31.1"));
    let runtime = OrtRuntime::init(&library).expect("ONNX Runtime: run `bash scripts/setup.sh`");
    let bundle = ModelBundle::load(&workspace().join("models/minilm-health-v3")).unwrap();
    let texts = corpus();
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);

    let mut group = c.benchmark_group("classify");
    group.throughput(Throughput::Elements(texts.len() as u64));
    group.sample_size(10);
    for batch_size in [1usize, 8, 32] {
        let mut classifier = OnnxClassifier::load(
            &runtime,
            &bundle,
            SessionOptions { intra_threads: threads, batch_size: Some(batch_size) },
        )
        .unwrap();
        // Scores only: evidence sentences are extra inferences on some texts.
        classifier.set_evidence(false);
        group.bench_with_input(BenchmarkId::new("batch", batch_size), &texts, |b, texts| {
            b.iter(|| classifier.classify(texts).unwrap());
        });
    }
    group.finish();
}

criterion_group!(benches, classify);
criterion_main!(benches);
