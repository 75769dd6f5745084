//! Scores the grouping on a story-clustering stream (JSON lines with `id`, `text`, `time`,
//! `url`, `host`, `story`), e.g. `../shared/datasets/rumor-stories-dev/stream.jsonl`:
//!
//! ```text
//! cargo run --release -p infodemic-campaigns --example story_eval -- STREAM [threshold] [window_days] [decay_days] [embedding_weight]
//! ```
//!
//! `STORY_EMB=FILE` supplies embeddings (little-endian f32, 384 per row, stream order);
//! `STORY_EVAL_OUT=FILE` writes `id, story, campaign` per row.
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Utc};
use infodemic_campaigns::evaluate::score_clustering;
use infodemic_campaigns::{Grouper, GroupingConfig, GroupingInput};

#[derive(serde::Deserialize)]
struct Row {
    id: String,
    text: String,
    time: Option<DateTime<Utc>>,
    url: String,
    host: String,
    story: String,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).expect("usage: story_eval STREAM [threshold] [window] [decay]");
    let rows: Vec<Row> =
        std::fs::read_to_string(path).unwrap().lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    let mut config = GroupingConfig::default();
    if let Some(t) = args.get(2) {
        config.threshold = t.parse().unwrap();
    }
    if let Some(w) = args.get(3) {
        config.time_window_days = w.parse().unwrap();
    }
    if let Some(d) = args.get(4) {
        config.time_decay_days = d.parse().unwrap();
    }
    if let Some(w) = args.get(5) {
        config.embedding_weight = w.parse().unwrap();
    }
    if let Ok(m) = std::env::var("MERGE") {
        config.merge_threshold = m.parse().unwrap();
    }
    // Optional: embeddings for every row, little-endian f32, 384 per row, in stream order.
    let embeddings: Option<Vec<f32>> = std::env::var("STORY_EMB").ok().map(|path| {
        std::fs::read(path).unwrap().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
    });
    let start = std::time::Instant::now();
    let mut grouper = Grouper::new(config.clone());
    let seen = DateTime::<Utc>::from_timestamp(1_600_000_000, 0).unwrap();
    let predicted: Vec<infodemic_core::CampaignId> = rows
        .iter()
        .enumerate()
        .map(|(index, row)| {
            let input = GroupingInput {
                id: &row.id,
                url: &row.url,
                text: &row.text,
                time: row.time,
                seen_at: seen,
                source: &row.host,
                account: None,
                language: None,
                links: &[],
                simhash: None,
                embedding: embeddings.as_ref().map(|e| &e[index * 384..(index + 1) * 384]),
                score: None,
                fact_check: None,
            };
            grouper.assign(&input).campaign
        })
        .collect();
    // Scored as the campaigns stand at the end: a merged campaign's items count as its
    // successor's.
    let predicted: Vec<u64> = predicted.into_iter().map(|id| grouper.resolve(id).0).collect();
    let elapsed = start.elapsed();
    if let Ok(out) = std::env::var("STORY_EVAL_OUT") {
        let lines: Vec<String> =
            rows.iter().zip(&predicted).map(|(r, p)| format!("{}\t{}\t{}", r.id, r.story, p)).collect();
        std::fs::write(out, lines.join("\n")).unwrap();
    }
    let gold: Vec<&str> = rows.iter().map(|r| r.story.as_str()).collect();
    let report = score_clustering(&gold, &predicted);
    println!(
        "threshold {} window {} decay {} embedding weight {} merge {}: B3 P {:.3} R {:.3} F1 {:.3} ARI {:.3} purity {:.3} clusters {} ({} items, {:.0} items/s)",
        config.threshold,
        config.time_window_days,
        config.time_decay_days,
        config.embedding_weight,
        config.merge_threshold,
        report.precision,
        report.recall,
        report.f1,
        report.ari,
        report.purity,
        report.predicted_clusters,
        report.items,
        report.items as f64 / elapsed.as_secs_f64()
    );
}
