//! Parity with CooRTweet: the port against the R code's own output on CooRTweet's bundled data
//! (`russian_coord_tweets`, 35,125 retweets), for three configurations, row for row. The data is
//! not part of the repository: set `INFODEMIC_COORTWEET_REFERENCE` to its directory (default
//! `/work/shared/datasets/coortweet-reference`; its SOURCE.txt says how it was built), or the
//! test is skipped. Also: the readers and the network's JSON on a small hand-written fixture.

// Tests: a panic is the failure report; stderr says what was skipped and how long a run took.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use infodemic_campaigns::coordination::{
    build_network, detect, detect_pairs, read_shares_csv, read_shares_jsonl, CoShare, CoordinationNetwork,
    CoordinationParams, Share,
};
use serde::Deserialize;

/// One row of an `edges_*.csv` file, as CooRTweet's graph holds it.
#[derive(Debug, Deserialize)]
struct ReferenceEdge {
    from: String,
    to: String,
    weight: u64,
    avg_time_delta: f64,
    n_content_id: u64,
    n_content_id_y: u64,
    edge_symmetry_score: f64,
    weight_threshold: u8,
    object_ids: String,
}

fn reference_dir() -> PathBuf {
    std::env::var_os("INFODEMIC_COORTWEET_REFERENCE")
        .map_or_else(|| PathBuf::from("/work/shared/datasets/coortweet-reference"), PathBuf::from)
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn read_reference_csv<T: for<'de> Deserialize<'de>>(path: &Path) -> Vec<T> {
    csv::Reader::from_reader(read(path).as_slice())
        .deserialize()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs one configuration and compares pairs, edges and summary with CooRTweet's.
fn check(tag: &str, time_window_secs: i64, min_participation: usize) {
    let dir = reference_dir();
    if !dir.is_dir() {
        eprintln!("skipped: {} not found (set INFODEMIC_COORTWEET_REFERENCE)", dir.display());
        return;
    }
    let shares = read_shares_csv(&read(&dir.join("russian_coord_tweets.csv"))).unwrap();
    assert_eq!(shares.len(), 35_125);
    let params = CoordinationParams { time_window_secs, min_participation, ..CoordinationParams::default() };

    let start = Instant::now();
    let pairs = detect_pairs(&shares, &params);
    let network = build_network(&pairs, &params);
    let elapsed = start.elapsed();
    eprintln!("{tag}: {} pairs, {} edges in {elapsed:?}", pairs.len(), network.edges.len());

    // Pairs: the same rows in the same order, the orientation of simultaneous shares included.
    let expected: Vec<CoShare> = read_reference_csv(&dir.join(format!("pairs_{tag}.csv")));
    for (index, (found, expected)) in pairs.iter().zip(&expected).enumerate() {
        assert_eq!(found, expected, "{tag}: pair row {}", index + 1);
    }
    assert_eq!(pairs.len(), expected.len(), "{tag}: pair rows");

    // Edges: the same rows in the same order; floats as written by R (15 significant digits).
    let expected: Vec<ReferenceEdge> = read_reference_csv(&dir.join(format!("edges_{tag}.csv")));
    for (found, expected) in network.edges.iter().zip(&expected) {
        let at = format!("{tag}: edge {} {}", expected.from, expected.to);
        assert_eq!(
            (found.account_a.as_str(), found.account_b.as_str()),
            (expected.from.as_str(), expected.to.as_str())
        );
        assert_eq!(found.weight, expected.weight, "{at}: weight");
        assert!((found.avg_time_delta - expected.avg_time_delta).abs() < 1e-9, "{at}: avg_time_delta");
        assert_eq!(found.n_content_id, expected.n_content_id, "{at}: n_content_id");
        assert_eq!(found.n_content_id_y, expected.n_content_id_y, "{at}: n_content_id_y");
        assert!((found.symmetry - expected.edge_symmetry_score).abs() < 1e-9, "{at}: edge_symmetry_score");
        assert_eq!(found.above_threshold, expected.weight_threshold == 1, "{at}: weight_threshold");
        assert_eq!(found.objects.join(";"), expected.object_ids, "{at}: object_ids");
        // Every content id that formed the edge is one of its pairs' (CooRTweet has no column
        // for them; the count is at least the larger side's).
        let sides = usize::try_from(found.n_content_id.max(found.n_content_id_y)).unwrap();
        assert!(found.content_ids.len() >= sides, "{at}: content_ids");
    }
    assert_eq!(network.edges.len(), expected.len(), "{tag}: edges");

    // Summary figures.
    let summary: serde_json::Value = serde_json::from_slice(&read(&dir.join("summary.json"))).unwrap();
    let summary = &summary[tag];
    let ours = network.summary();
    let number = |key: &str| summary[key].as_u64().unwrap_or_else(|| panic!("{tag}: summary.{key}"));
    let count = |n: usize| u64::try_from(n).unwrap();
    assert_eq!(count(pairs.len()), number("pair_rows"));
    assert_eq!(count(ours.objects_with_pairs), number("objects_with_pairs"));
    assert_eq!(count(ours.vertices), number("vertices"));
    assert_eq!(count(ours.edges), number("edges"));
    assert_eq!(ours.weight_sum, number("weight_sum"));
    assert_eq!(ours.max_weight, number("max_weight"));
    let histogram: Vec<(String, u64)> = ours.weight_histogram.iter().map(|(w, n)| (w.to_string(), count(*n))).collect();
    let expected_histogram: Vec<(String, u64)> = summary["weight_histogram"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(w, n)| (w.clone(), n.as_u64().unwrap()))
        .collect();
    assert_eq!(histogram, expected_histogram);
    assert!((ours.threshold - summary["p50_threshold"].as_f64().unwrap()).abs() < 1e-12, "{tag}: p50");
    assert_eq!(count(ours.edges_above_threshold), number("edges_above_threshold"));
    assert_eq!(count(ours.vertices_above_threshold), number("vertices_above_threshold"));
    assert_eq!(network.filtered().edges.len(), ours.edges_above_threshold);

    // The one-call path agrees with the two-step one.
    assert_eq!(detect(&shares, &params), network);
}

#[test]
fn coortweet_10_seconds_2_shares() {
    check("tw10_mp2", 10, 2);
}

#[test]
fn coortweet_60_seconds_2_shares() {
    check("tw60_mp2", 60, 2);
}

#[test]
fn coortweet_10_seconds_5_shares() {
    check("tw10_mp5", 10, 5);
}

fn fixture(name: &str) -> Vec<u8> {
    read(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/coordination").join(name))
}

/// The CSV and JSON-lines fixtures hold the same shares; the network is worked out by hand in
/// `network.json` (alice and bob pair twice, once at the same second: alice appears first; carol
/// pairs with each once; erin has one share; dave pairs only with himself).
#[test]
fn fixture_network() {
    let shares = read_shares_csv(&fixture("shares.csv")).unwrap();
    assert_eq!(shares.len(), 10);
    assert_eq!(read_shares_jsonl(&fixture("shares.jsonl")).unwrap(), shares);
    assert_eq!(
        shares[3],
        Share {
            object_id: "https://ex.org/vax".into(),
            account_id: "alice".into(),
            content_id: "p4".into(),
            timestamp: 1_700_001_000,
        }
    );
    let network = detect(&shares, &CoordinationParams::default());
    let expected: CoordinationNetwork = serde_json::from_slice(&fixture("network.json")).unwrap();
    assert_eq!(network, expected);
    // The JSON the CLI prints is this shape, field for field.
    let json: serde_json::Value = serde_json::to_value(&network).unwrap();
    let expected_json: serde_json::Value = serde_json::from_slice(&fixture("network.json")).unwrap();
    assert_eq!(json, expected_json);

    let pairs = detect_pairs(&shares, &CoordinationParams::default());
    let simultaneous = pairs.iter().find(|p| p.time_delta == 0).unwrap();
    assert_eq!((simultaneous.account_id.as_str(), simultaneous.account_id_y.as_str()), ("alice", "bob"));
}
