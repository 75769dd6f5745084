//! Feed parse + normalise throughput, items/s, per format. Each feed is a fixture's items
//! repeated with distinct links up to 500 items, so per-feed overhead does not dominate.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Benchmarks: a panic is the report.

use std::path::{Path, PathBuf};

use chrono::Utc;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use infodemic_core::FeedSpec;
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
}

criterion_group!(benches, parse);
criterion_main!(benches);
