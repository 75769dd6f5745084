//! `infodemic query`: list stored items with filters.

use std::io::Write;

use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};
use infodemic_core::{ItemQuery, SortOrder, SourceId};

use crate::cli::GlobalArgs;
use crate::exit::Exit;
use crate::output::{items_table, write_json_line, CsvRow, Format, ItemRow};
use crate::when::when_arg;

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// Only items the model flagged as likely misinformation
    #[arg(long)]
    pub flagged: bool,

    /// Only items worth a review (score at or above the model's review threshold; includes flagged)
    #[arg(long, conflicts_with = "flagged")]
    pub review: bool,

    /// Only items scoring at least this (0..1)
    #[arg(long, value_name = "SCORE", value_parser = score_arg)]
    pub min_score: Option<f32>,

    /// Only items published at or after: a date (2026-11-01), a time (RFC 3339) or a span back from now (7d, 12h)
    #[arg(long, value_name = "WHEN", value_parser = when_arg)]
    pub since: Option<DateTime<Utc>>,

    /// Only items published before (same forms as --since)
    #[arg(long, value_name = "WHEN", value_parser = when_arg)]
    pub until: Option<DateTime<Utc>>,

    /// Only items from this source id (repeatable)
    #[arg(long = "source", value_name = "ID", value_parser = source_arg)]
    pub sources: Vec<SourceId>,

    /// Only items whose title or text contains this (case-insensitive)
    #[arg(long, value_name = "TEXT")]
    pub text: Option<String>,

    /// At most this many items
    #[arg(long, default_value_t = 50)]
    pub limit: usize,

    /// Order of results
    #[arg(long, value_enum, default_value_t = Sort::Newest)]
    pub sort: Sort,

    /// JSON lines, one item per line (for programs and exports)
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,

    /// CSV with a header row
    #[arg(long)]
    pub csv: bool,

    /// Include the sentence embedding in --json output
    #[arg(long, requires = "json")]
    pub with_embedding: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Sort {
    /// Newest first
    Newest,
    /// Highest score first
    Score,
}

pub fn score_arg(value: &str) -> Result<f32, String> {
    let score: f32 = value.parse().map_err(|_| format!("`{value}` is not a number"))?;
    if (0.0..=1.0).contains(&score) {
        Ok(score)
    } else {
        Err(format!("{score} is outside 0..1"))
    }
}

pub fn source_arg(value: &str) -> Result<SourceId, String> {
    SourceId::new(value).map_err(|e| e.to_string())
}

pub fn run(args: QueryArgs, global: &GlobalArgs) -> anyhow::Result<Exit> {
    let format = if args.json {
        Format::JsonLines
    } else if args.csv {
        Format::Csv
    } else {
        Format::Table
    };
    let query = ItemQuery {
        flagged_only: args.flagged,
        review_only: args.review,
        min_score: args.min_score,
        since: args.since,
        until: args.until,
        sources: args.sources,
        text: args.text,
        limit: Some(args.limit),
        order: match args.sort {
            Sort::Newest => SortOrder::Newest,
            Sort::Score => SortOrder::Score,
        },
        ..ItemQuery::default()
    };
    let items = match global.open_backend(false)? {
        Some(backend) => backend.reader().query(&query)?,
        None => Vec::new(),
    };
    let mut out = crate::output::stdout();
    match format {
        Format::JsonLines => {
            for scored in &items {
                write_json_line(&mut out, &ItemRow::new(scored, args.with_embedding))?;
            }
        }
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(&mut out);
            for scored in &items {
                writer.serialize(CsvRow::new(scored))?;
            }
            writer.flush()?;
        }
        Format::Table if items.is_empty() => {
            writeln!(out, "No items match. (Crawl first: infodemic crawl --feeds feeds/samples.toml)")?;
        }
        Format::Table => {
            writeln!(out, "{}", items_table(&items))?;
            writeln!(out, "{} item(s). Details: infodemic show ID", items.len())?;
        }
    }
    out.flush()?;
    Ok(Exit::Success)
}
