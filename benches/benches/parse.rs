//! Feed parse + normalise throughput, items/s, per format. Each feed is a fixture's items
//! repeated with distinct links up to 500 items, so per-feed overhead does not dominate.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Benchmarks: a panic is the report.

use std::path::{Path, PathBuf};

use chrono::Utc;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use infodemic_core::health::is_health_related;
use infodemic_core::language::detect_language;
use infodemic_core::{simhash, FeedSpec};
use infodemic_crawler::normalize::normalize_feed;
use infodemic_crawler::parse::parse_feed;
use url::Url;

const ITEMS: usize = 500;

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/feeds").join(name);
    std::fs::read_to_string(Path::new(&path)).unwrap()
}

/// Repeats the `<open>…</close>` blocks of `document` until it holds `ITEMS` of them,
/// giving every copy a distinct link by suffixing `-N` to `example.org/` paths.
fn inflate(document: &str, open: &str, close: &str) -> String {
    let first = document.find(open).unwrap();
    let last = document.rfind(close).unwrap() + close.len();
    let block = &document[first..last];
    let copies_per_block = block.matches(open).count();
    let mut body = String::new();
    for copy in 0..ITEMS.div_ceil(copies_per_block) {
        body.push_str(&block.replace("example.org/", &format!("example.org/copy{copy}/")));
    }
    format!("{}{}{}", &document[..first], body, &document[last..])
}

fn json_feed() -> String {
    let text = fixture("feed.json");
    let start = text.find("\"items\"").unwrap();
    let open = start + text[start..].find('[').unwrap() + 1;
    let close = text.rfind(']').unwrap();
    let items = &text[open..close];
    let body: Vec<String> =
        (0..ITEMS.div_ceil(3)).map(|copy| items.replace("example.org/", &format!("example.org/copy{copy}/"))).collect();
    format!("{}{}{}", &text[..open], body.join(","), &text[close..])
}

fn parse(c: &mut Criterion) {
    let base = Url::parse("https://example.org/feed").unwrap();
    let spec = FeedSpec::from_url(base.clone());
    let feeds = [
        ("rss2", inflate(&fixture("rss2.xml"), "<item>", "</item>")),
        ("atom", inflate(&fixture("atom.xml"), "<entry", "</entry>")),
        ("json", json_feed()),
    ];
    let mut group = c.benchmark_group("parse_normalize");
    for (name, document) in &feeds {
        let items = normalize_feed(parse_feed(document.as_bytes()).unwrap(), &spec, &base, Utc::now()).items.len();
        assert!(items >= ITEMS / 2, "{name}: only {items} items");
        group.throughput(Throughput::Elements(items as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), document, |b, document| {
            b.iter(|| normalize_feed(parse_feed(document.as_bytes()).unwrap(), &spec, &base, Utc::now()));
        });
    }
    group.finish();

    // feed-rs alone, without the normalising that follows it.
    let mut group = c.benchmark_group("parse_only");
    for (name, document) in &feeds {
        let items = parse_feed(document.as_bytes()).unwrap().entries.len();
        group.throughput(Throughput::Elements(items as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), document, |b, document| {
            b.iter(|| parse_feed(document.as_bytes()).unwrap());
        });
    }
    group.finish();
}

/// What ingest spends on one item's text beside parsing, step by step, on the text of an item
/// of the synthetic feeds that `ingest_vs_python` serves (60 words): the floor under any ingest
/// rate on this machine.
fn per_item(c: &mut Criterion) {
    let feed = infodemic_benches::synthetic_feed(7, 1);
    let start = feed.find("<description>").unwrap() + "<description>".len();
    let end = feed.find("</description>").unwrap();
    let text = feed[start..end].replace("&lt;p&gt;", "").replace("&lt;/p&gt;", "");
    let mut group = c.benchmark_group("per_item");
    group.throughput(Throughput::Elements(1));
    group.bench_function("detect_language", |b| b.iter(|| detect_language(&text)));
    group.bench_function("is_health_related", |b| b.iter(|| is_health_related(&text)));
    group.bench_function("simhash", |b| b.iter(|| simhash::simhash(&text)));
    group.bench_function("shingles", |b| b.iter(|| simhash::shingles(&text)));
    group.finish();
}

criterion_group!(benches, parse, per_item);
criterion_main!(benches);
