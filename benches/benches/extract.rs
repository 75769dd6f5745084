//! Article extraction throughput, pages/s: `article::extract` over every page in
//! `tests/fixtures/articles` (hand-written replicas of real layouts, 3–18 KB each).

#![allow(clippy::unwrap_used, clippy::expect_used)] // Benchmarks: a panic is the report.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use infodemic_crawler::article::extract;
use url::Url;

fn pages() -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/articles");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "html"))
        .collect();
    paths.sort();
    paths.iter().map(|path| std::fs::read_to_string(path).unwrap()).collect()
}

fn extract_pages(c: &mut Criterion) {
    let url = Url::parse("https://news.example/health/story").unwrap();
    let pages = pages();
    assert!(pages.len() >= 14, "only {} fixture pages", pages.len());
    let bytes: usize = pages.iter().map(String::len).sum();
    let mut group = c.benchmark_group("extract");
    group.throughput(Throughput::Elements(pages.len() as u64));
    group.bench_function("fixture_pages", |b| {
        b.iter(|| {
            for page in &pages {
                black_box(extract(black_box(page), &url));
            }
        });
    });
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("fixture_bytes", |b| {
        b.iter(|| {
            for page in &pages {
                black_box(extract(black_box(page), &url));
            }
        });
    });
    group.finish();
}

criterion_group!(benches, extract_pages);
criterion_main!(benches);
