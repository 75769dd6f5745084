//! The Parquet export read back by two readers that share no code with the writer: pyarrow
//! (Arrow C++) and DuckDB (its own Parquet reader), both from `.pyref/`. Names, types,
//! nullability, key-value metadata and every value must come back exactly: nulls apart from
//! empty strings, formula-like text untouched, newlines, emoji, right-to-left text, the full
//! `u32` range, `f32` scores.
//!
//! Needs `bash scripts/setup.sh --python-reference` (the README's test command runs it);
//! without Python or those packages the test fails and says so.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is the failure report.

use std::path::{Path, PathBuf};
use std::process::Command;

use infodemic_export::{open_sink, ExportRow, Format, COLUMNS};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Prints what pyarrow and DuckDB read, as ASCII JSON.
const READ_BACK: &str = r#"
import json, sys
try:
    import pyarrow.parquet as pq
    import duckdb
except ImportError as error:
    print(f"{error}: run `bash scripts/setup.sh --python-reference`", file=sys.stderr)
    sys.exit(3)

path = sys.argv[1]
parquet = pq.ParquetFile(path)
table = parquet.read()
metadata = {k.decode(): v.decode() for k, v in parquet.metadata.metadata.items() if not k.startswith(b"ARROW:")}
arrow = {
    "schema": [[f.name, str(f.type), f.nullable] for f in table.schema],
    "row_groups": [parquet.metadata.row_group(i).num_rows for i in range(parquet.metadata.num_row_groups)],
    "metadata": metadata,
    "rows": table.to_pylist(),
}
connection = duckdb.connect()
relation = connection.read_parquet(path)
names = relation.columns
kv = connection.execute("SELECT key, value FROM parquet_kv_metadata(?)", [path]).fetchall()
duck = {
    "schema": [[name, str(kind)] for name, kind in zip(names, relation.types)],
    "metadata": {bytes(k).decode(): bytes(v).decode() for k, v in kv if not bytes(k).startswith(b"ARROW:")},
    "rows": [dict(zip(names, row)) for row in relation.fetchall()],
}
print(json.dumps({"pyarrow": arrow, "duckdb": duck}))
"#;

fn rows() -> Vec<ExportRow> {
    let full = ExportRow {
        id: "0123456789abcdef".to_owned(),
        url: "https://example.org/a?b=1&c=2".to_owned(),
        title: "=HYPERLINK(\"https://evil.example\",\"click\")".to_owned(),
        text: "first line\nsecond line\r\nthird, \"quoted\"\ttabbed 💉🦠 👩‍⚕️ e\u{301}".to_owned(),
        source: "who".to_owned(),
        source_category: Some("authority".to_owned()),
        author: Some("@someone".to_owned()),
        published: Some("2026-01-02T03:04:05Z".to_owned()),
        fetched: "2026-01-02T04:00:00Z".to_owned(),
        language: Some("ar".to_owned()),
        model_id: "minilm-health".to_owned(),
        model_version: "3".to_owned(),
        score: Some(0.73),
        flagged: true,
        review: true,
        flag_threshold: Some(0.8),
        review_threshold: Some(0.5),
        reasons: "matched a debunked claim; score above the review threshold".to_owned(),
        evidence: Some("اللقاح يغير الحمض النووي — החיסון משנה את ה-DNA".to_owned()),
        matched_claim: Some("+1 vaccines alter DNA".to_owned()),
        matched_claim_verdict: Some("false".to_owned()),
        matched_claim_url: Some("https://factcheck.example/dna".to_owned()),
        campaign: Some("c12".to_owned()),
        verdict: Some("misinformation".to_owned()),
        verdict_count: u32::MAX,
        agreement: Some("agreed".to_owned()),
        feed_url: Some("https://example.org/feed.xml".to_owned()),
        content_hash: "ab".repeat(32),
        split: Some("train".to_owned()),
    };
    let nulls = ExportRow {
        id: "fedcba9876543210".to_owned(),
        url: "https://example.org/b".to_owned(),
        title: "-2+3".to_owned(),
        // Empty, not null.
        text: String::new(),
        source: "blog".to_owned(),
        source_category: None,
        author: None,
        published: None,
        fetched: "2026-01-03T00:00:00Z".to_owned(),
        language: None,
        model_id: "minilm-health".to_owned(),
        model_version: "3".to_owned(),
        score: None,
        flagged: false,
        review: false,
        flag_threshold: None,
        review_threshold: None,
        reasons: String::new(),
        evidence: None,
        matched_claim: None,
        matched_claim_verdict: None,
        matched_claim_url: None,
        campaign: None,
        verdict: None,
        verdict_count: 0,
        agreement: None,
        feed_url: None,
        content_hash: "00".repeat(32),
        split: None,
    };
    let third = ExportRow {
        id: "00000000000000ff".to_owned(),
        title: "@mention and a NUL \u{0} inside".to_owned(),
        text: "Ünïcödé — 中文 — 🇫🇷".to_owned(),
        author: Some(String::new()),
        score: Some(1.0e-7),
        flagged: false,
        review: true,
        verdict_count: 1,
        split: Some("test".to_owned()),
        ..nulls.clone()
    };
    vec![full, nulls, third]
}

/// A row as the readers give it: JSON's columns, with the `f32`s widened to the `f64`s Python
/// has (0.73f32 is 0.7300000190734863).
fn expected(row: &ExportRow) -> Value {
    let mut value = serde_json::to_value(row).unwrap();
    for (column, number) in
        [("score", row.score), ("flag_threshold", row.flag_threshold), ("review_threshold", row.review_threshold)]
    {
        value[column] = number.map_or(Value::Null, |n| json!(f64::from(n)));
    }
    value
}

#[test]
fn pyarrow_and_duckdb_read_back_every_value() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rows.parquet");
    let rows = rows();
    let mut sink = open_sink(&path, Format::Parquet).unwrap();
    for row in &rows {
        sink.write(row).unwrap();
    }
    let summary = sink.finish().unwrap();

    // The summary describes the bytes on disk.
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(summary.rows, rows.len() as u64);
    assert_eq!(summary.bytes, bytes.len() as u64);
    assert_eq!(summary.sha256, hex::encode(Sha256::digest(&bytes)));

    let root = workspace();
    let python = std::env::var("INFODEMIC_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let output = Command::new(&python)
        .arg("-c")
        .arg(READ_BACK)
        .arg(&path)
        .env("PYTHONPATH", root.join(".pyref"))
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {python} to read the Parquet file back: {e} (run `bash scripts/setup.sh --python-reference`)")
        });
    assert!(
        output.status.success(),
        "pyarrow/duckdb could not read the file back (run `bash scripts/setup.sh --python-reference`):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read: Value = serde_json::from_slice(&output.stdout).unwrap();
    let expected_rows: Vec<Value> = rows.iter().map(expected).collect();
    let version = json!({ "infodemic.columns_version": "1" });

    // pyarrow: Arrow types and nullability as written.
    let arrow = &read["pyarrow"];
    let arrow_type = |column: &str| match column {
        "score" | "flag_threshold" | "review_threshold" => ("float", true),
        "flagged" | "review" => ("bool", false),
        "verdict_count" => ("uint32", false),
        _ => {
            let nullable = serde_json::to_value(&rows[1]).unwrap()[column].is_null();
            ("string", nullable)
        }
    };
    let schema: Vec<Value> = COLUMNS
        .iter()
        .map(|c| {
            let (kind, nullable) = arrow_type(c);
            json!([c, kind, nullable])
        })
        .collect();
    assert_eq!(arrow["schema"], json!(schema));
    assert_eq!(arrow["row_groups"], json!([rows.len()]));
    assert_eq!(arrow["metadata"], version);
    assert_eq!(arrow["rows"], json!(expected_rows));

    // DuckDB: SQL types.
    let duck = &read["duckdb"];
    let sql_schema: Vec<Value> = COLUMNS
        .iter()
        .map(|c| {
            let kind = match arrow_type(c).0 {
                "float" => "FLOAT",
                "bool" => "BOOLEAN",
                "uint32" => "UINTEGER",
                _ => "VARCHAR",
            };
            json!([c, kind])
        })
        .collect();
    assert_eq!(duck["schema"], json!(sql_schema));
    assert_eq!(duck["metadata"], version);
    assert_eq!(duck["rows"], json!(expected_rows));
}
