//! `infodemic stats`: counts per day, source, label and language.

use std::io::Write;

use anyhow::Context;
use clap::Args;
use infodemic_store::StoreStats;

use crate::cli::GlobalArgs;
use crate::exit::Exit;
use crate::output::{new_table, write_json_line};

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Days shown in the per-day table (most recent)
    #[arg(long, default_value_t = 14)]
    pub days: usize,

    /// One JSON object with every count
    #[arg(long)]
    pub json: bool,

    /// Check the store first: every index entry points at an item and every item is indexed
    /// (exit 1 with the first inconsistency). Needs the store itself, not a running watch.
    #[arg(long)]
    pub verify: bool,
}

pub fn run(args: &StatsArgs, global: &GlobalArgs) -> anyhow::Result<Exit> {
    if args.verify {
        let verified = match &global.store {
            Some(url) => infodemic_store_postgres::PgStore::connect(url)?.verify(),
            None => global.open_store()?.verify(),
        };
        let items = verified.context("the store is inconsistent")?;
        tracing::info!(message = "Store verified.", items);
    }
    let stats = match global.open_backend(false)? {
        Some(backend) => backend.reader().stats()?,
        None => StoreStats::default(),
    };
    let mut out = crate::output::stdout();
    if args.json {
        write_json_line(&mut out, &stats)?;
        return Ok(Exit::Success);
    }
    let percent = |part: u64, whole: u64| if whole == 0 { 0.0 } else { 100.0 * part as f64 / whole as f64 };
    writeln!(
        out,
        "{} items, {} flagged ({:.1}%), from {} feeds ({} failing at their last attempt)",
        stats.total.items,
        stats.total.flagged,
        percent(stats.total.flagged, stats.total.items),
        stats.feeds,
        stats.feeds_failing
    )?;
    if stats.total.items == 0 {
        return Ok(Exit::Success);
    }
    let mut labels = new_table(&["LABEL", "ITEMS"]);
    for (label, count) in &stats.per_label {
        labels.add_row(vec![label.clone(), count.to_string()]);
    }
    writeln!(out, "\n{labels}")?;
    let mut days = new_table(&["DAY", "ITEMS", "FLAGGED"]);
    for (day, counts) in stats.per_day.iter().rev().take(args.days) {
        days.add_row(vec![day.to_string(), counts.items.to_string(), counts.flagged.to_string()]);
    }
    writeln!(out, "\n{days}")?;
    let mut sources = new_table(&["SOURCE", "ITEMS", "FLAGGED", "FLAGGED %"]);
    let mut by_source: Vec<_> = stats.per_source.iter().collect();
    by_source.sort_by(|a, b| b.1.items.cmp(&a.1.items).then(a.0.cmp(b.0)));
    for (source, counts) in by_source {
        sources.add_row(vec![
            source.clone(),
            counts.items.to_string(),
            counts.flagged.to_string(),
            format!("{:.1}", percent(counts.flagged, counts.items)),
        ]);
    }
    writeln!(out, "\n{sources}")?;
    let mut languages = new_table(&["LANGUAGE", "ITEMS", "FLAGGED"]);
    for (language, counts) in &stats.per_language {
        languages.add_row(vec![language.clone(), counts.items.to_string(), counts.flagged.to_string()]);
    }
    writeln!(out, "\n{languages}")?;
    out.flush()?;
    Ok(Exit::Success)
}
