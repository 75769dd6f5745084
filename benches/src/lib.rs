//! Benchmarks live in `benches/benches`; run them with `cargo bench -p infodemic-benches`.
//!
//! - `classify`: texts/s of the real model at batch sizes 1, 8 and 32, on the sample feeds'
//!   items (realistic, mixed-length health news and claims).
//! - `parse`: items/s of feed parsing + normalisation (RSS 2.0, Atom, JSON Feed).
//!
//! Whole-pipeline bench binaries (`cargo run --release -p infodemic-benches --bin NAME`):
//! - `ingest`: items/s of fetch + parse + dedupe + store over 1,000 local feeds, no model.
//! - `large_feeds`: seconds per large real feed (hundreds of items), fetched, parsed,
//!   scored by the real model and stored.
//! - `classify_vs_python`: the model against the Python reference, texts/s.
//! - `review_queue`: p50/p99 of the review page over a store of 100,000 items.

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves `bodies[i]` at `/feed/{i}.xml` on a local port until the runtime stops; returns the
/// base URL. A stand-in for many feed hosts: no keep-alive, no validators.
///
/// # Errors
/// When no local port can be bound.
pub async fn serve_feeds(bodies: Arc<Vec<Vec<u8>>>) -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let bodies = Arc::clone(&bodies);
            tokio::spawn(async move {
                let mut request = vec![0u8; 2048];
                let Ok(n) = socket.read(&mut request).await else { return };
                let line = String::from_utf8_lossy(&request[..n]);
                let path = line.split_whitespace().nth(1).unwrap_or("/");
                let index = path
                    .strip_prefix("/feed/")
                    .and_then(|p| p.strip_suffix(".xml"))
                    .and_then(|p| p.parse::<usize>().ok());
                let (head, body): (String, &[u8]) = match index.and_then(|i| bodies.get(i)) {
                    Some(body) => (
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        ),
                        body,
                    ),
                    None => ("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned(), &[]),
                };
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(body).await;
            });
        }
    });
    Ok(format!("http://{address}"))
}

/// Peak resident memory of this process, MiB (Linux).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

use chrono::{TimeZone, Utc};
use infodemic_core::{Classification, ContentHash, Evidence, Item, ItemId, ModelRef, ScoredItem, SourceId};

/// Health texts of the kinds feeds carry: false claims, guidance, news, debunks.
const TOPICS: [&str; 8] = [
    "Garlic water cures the virus overnight, a doctor says, and hospitals hide it.",
    "The health ministry updated its vaccination schedule for children under five.",
    "Wearing a mask for an hour lowers oxygen to dangerous levels, a post claims.",
    "Researchers report a measles outbreak in three districts; clinics extend hours.",
    "A viral video says 5G towers spread the disease; engineers explain why not.",
    "Ivermectin in high doses is promoted online as a cure; regulators warn against it.",
    "The regional hospital opens a new cardiology ward funded by the city council.",
    "Drinking diluted bleach is sold as a detox; poison centres report more calls.",
];

/// A deterministic spread of scores in 0..1 (a multiplicative hash of the index).
pub fn synthetic_score(index: usize) -> f32 {
    ((index as u64).wrapping_mul(2_654_435_761) % 100_000) as f32 / 100_000.0
}

/// Item `index` of a synthetic store: 40 sources, 500 authors, 1 to 12 paragraphs, scores
/// spread over 0..1 (half worth a review), one item every 5 minutes from 2026-01-01.
pub fn synthetic_item(index: usize) -> ScoredItem {
    let url = format!("https://outlet{}.example.org/{index}", index % 40);
    let topic = TOPICS[index % TOPICS.len()];
    // 1 to 12 paragraphs: posts to articles.
    let text = std::iter::repeat_n(topic, 1 + index % 12).collect::<Vec<_>>().join(" ");
    let score = synthetic_score(index);
    let time = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap_or_default()
        + chrono::Duration::minutes(index as i64 * 5);
    ScoredItem {
        item: Item {
            id: ItemId::from_canonical_url(&url),
            url: url.clone(),
            canonical_url: url.clone(),
            title: format!("{} (#{index})", &topic[..topic.len().min(60)]),
            content_hash: ContentHash::of(&url, &text),
            text,
            published: Some(time),
            fetched_at: time,
            author: Some(format!("author {}", index % 500)),
            source: SourceId::new(format!("outlet-{}", index % 40)).unwrap_or_else(|_| unreachable!()),
            language: Some("en".to_owned()),
            links: Vec::new(),
            simhash: None,
        },
        classification: Classification {
            score,
            flagged: score >= 0.8,
            review: score >= 0.5,
            embedding: vec![0.0; 384],
            model: ModelRef { id: "bench".to_owned(), version: "1".to_owned() },
            language: Some("en".to_owned()),
            language_supported: true,
            evidence: vec![Evidence { text: topic.to_owned(), score, embedding: Vec::new() }],
            claim_match: None,
            claim: None,
            refute: None,
            reasons: vec![format!("score {score:.2} at or above the flag threshold 0.80")],
        },
    }
}

/// The value after `name` on the command line, else `default`.
pub fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}
