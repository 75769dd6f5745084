//! Research exports at scale: items/s and peak memory of `export` to JSON lines, CSV and
//! Parquet, over a store of 100,000 items and again after it grows to 1,000,000 (flat memory
//! means the second peak is no higher than the first).
//!
//! ```sh
//! cargo run --release -p infodemic-benches --bin export_scale [-- --items 1000000 --small 100000 --formats scan,jsonl,csv,parquet]
//! ```
//!
//! `stats` times what `infodemic stats` reads (p50 of 20, in the seconds column). `scan` is
//! the baseline: the same pages and rows, nothing written. Each export runs in a
//! child process of its own (this binary with `--export`), so its peak
//! resident memory is the export's alone, not the store building's. The export is the one
//! `infodemic export` runs: `ExportScan` pages of 1,000 with their verdict and campaign
//! lookups, rows built, written and hashed, the card at the end.
#![allow(clippy::print_stdout, clippy::print_stderr)] // A bench binary reports on the terminal.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use infodemic_benches::{arg, peak_rss_mib, synthetic_item};
use infodemic_export::{CardInput, Destination, Export, Format};
use infodemic_pipeline::{write_dataset, ExportFilter, ExportScan, ExportSources};
use infodemic_store::SledStore;

const FORMATS: [(&str, Format); 3] = [("jsonl", Format::Jsonl), ("csv", Format::Csv), ("parquet", Format::Parquet)];

/// Child mode, `scan`: page through the store and build every row, writing nothing. Its peak
/// memory is the store's (sled's page cache fills up to its capacity as the store grows): the
/// baseline an export's peak is compared with.
fn scan_only(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let (store, _) = SledStore::open(&dir.join("store"))?;
    let started = Instant::now();
    let sources = ExportSources { items: &store, campaigns: &store, reviews: &store };
    let mut scan = ExportScan::new(sources, ExportFilter::default(), &store.subscriptions()?, HashMap::new())?;
    let mut rows = 0u64;
    let mut bytes = 0u64;
    loop {
        let page = scan.next_page()?;
        if page.is_empty() {
            break;
        }
        for scanned in page {
            let row = infodemic_export::ExportRow::new(&scanned.scored, &scanned.context);
            bytes += row.text.len() as u64;
            rows += 1;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({ "rows": rows, "seconds": seconds, "bytes": bytes, "peak_rss_mib": peak_rss_mib() })
    );
    Ok(())
}

/// Child mode, `stats`: what `infodemic stats` reads (the counts kept at commit), 20 times;
/// prints the p50 in the `seconds` field.
fn stats_only(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    use infodemic_store::ItemReader;
    let (store, _) = SledStore::open(&dir.join("store"))?;
    let mut times = Vec::new();
    let mut rows = 0;
    for _ in 0..20 {
        let started = Instant::now();
        rows = store.stats()?.total.items;
        times.push(started.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let p50 = times[times.len() / 2];
    println!("{}", serde_json::json!({ "rows": rows, "seconds": p50, "bytes": 0, "peak_rss_mib": peak_rss_mib() }));
    Ok(())
}

/// Child mode: export the store in `dir` to `out` in `format`; print rows, seconds, peak RSS.
fn export(dir: &Path, format: Format, out: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let (store, _) = SledStore::open(&dir.join("store"))?;
    let started = Instant::now();
    let sources = ExportSources { items: &store, campaigns: &store, reviews: &store };
    let mut scan = ExportScan::new(sources, ExportFilter::default(), &store.subscriptions()?, HashMap::new())?;
    let mut export = Export::new(format, Destination::File(out.to_path_buf()), None)?;
    write_dataset(&mut scan, &mut export, None, None, &|_| {})?;
    let card = export.finish(CardInput::default())?;
    let seconds = started.elapsed().as_secs_f64();
    let bytes: u64 = card.files.iter().map(|f| f.bytes).sum();
    println!(
        "{}",
        serde_json::json!({
            "rows": card.counts.rows,
            "seconds": seconds,
            "bytes": bytes,
            "peak_rss_mib": peak_rss_mib(),
        })
    );
    Ok(())
}

fn grow(store: &SledStore, from: usize, to: usize) -> Result<(), Box<dyn std::error::Error>> {
    for start in (from..to).step_by(1_000) {
        let batch: Vec<_> = (start..(start + 1_000).min(to)).map(synthetic_item).collect();
        store.commit(&batch, &[], &[])?;
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(position) = args.iter().position(|a| a == "--export") {
        let (Some(dir), Some(format), Some(out)) =
            (args.get(position + 1), args.get(position + 2), args.get(position + 3))
        else {
            return Err("--export DIR FORMAT OUT".into());
        };
        if format == "scan" {
            return scan_only(Path::new(dir));
        }
        if format == "stats" {
            return stats_only(Path::new(dir));
        }
        let format = FORMATS.iter().find(|(name, _)| name == format).map(|(_, f)| *f).ok_or("unknown format")?;
        return export(Path::new(dir), format, Path::new(out));
    }
    let formats: Vec<String> = args
        .iter()
        .position(|a| a == "--formats")
        .and_then(|i| args.get(i + 1))
        .map_or_else(|| "scan,jsonl,csv,parquet".to_owned(), Clone::clone)
        .split(',')
        .map(str::to_owned)
        .collect();
    let items = arg("--items", 1_000_000);
    let small = arg("--small", 100_000).min(items);
    let dir = tempfile::tempdir()?;
    let me = std::env::current_exe()?;
    println!("| store | format | rows | seconds | items/s | MiB written | peak RSS MiB |");
    println!("|---|---|---|---|---|---|---|");
    let mut built = 0;
    for size in [small, items] {
        if size <= built {
            continue;
        }
        {
            let (store, _) = SledStore::open(&dir.path().join("store"))?;
            let started = Instant::now();
            grow(&store, built, size)?;
            eprintln!("store grown to {size} items in {:.1} s", started.elapsed().as_secs_f64());
        }
        built = size;
        for name in &formats {
            let name = name.as_str();
            let out = dir.path().join(format!("export.{name}"));
            let output = std::process::Command::new(&me)
                .args(["--export", &dir.path().display().to_string(), name, &out.display().to_string()])
                .output()?;
            if !output.status.success() {
                return Err(format!("{name}: {}", String::from_utf8_lossy(&output.stderr)).into());
            }
            let figures: serde_json::Value = serde_json::from_slice(&output.stdout)?;
            let rows = figures["rows"].as_f64().unwrap_or(0.0);
            let seconds = figures["seconds"].as_f64().unwrap_or(f64::NAN);
            println!(
                "| {size} | {name} | {rows} | {seconds:.1} | {:.0} | {:.0} | {:.0} |",
                rows / seconds,
                figures["bytes"].as_f64().unwrap_or(0.0) / (1024.0 * 1024.0),
                figures["peak_rss_mib"].as_f64().unwrap_or(f64::NAN)
            );
            let _ = std::fs::remove_file(&out);
        }
    }
    Ok(())
}
