//! `infodemic export`: datasets a researcher can cite (JSON lines, CSV, Parquet, each with a
//! card), reviewed items for publication (schema.org ClaimReview) and for training (labeled
//! JSON lines that `models/train/` reads). One scan and one set of filters serve them all.

mod dataset;
mod reviewed;

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};
use infodemic_core::{CampaignId, FeedCategory, ItemQuery, ReviewFilter, SourceId};
use infodemic_export::{SplitSpec, Thresholds};
use infodemic_pipeline::{ExportFilter, ExportScan, ExportSources};

use crate::cli::GlobalArgs;
use crate::context::Backend;
use crate::exit::Exit;

impl ExportFilters {
    /// The pipeline's filter; `reviewed_only` for formats that hold reviewed items only.
    fn filter(&self, reviewed_only: bool) -> ExportFilter {
        let review_state = if reviewed_only || self.reviewed {
            ReviewFilter::Reviewed
        } else if self.unreviewed {
            ReviewFilter::Unreviewed
        } else {
            ReviewFilter::Any
        };
        ExportFilter {
            query: ItemQuery {
                flagged_only: self.flagged,
                review_only: self.review,
                min_score: self.min_score,
                since: self.since,
                until: self.until,
                sources: self.sources.clone(),
                text: self.text.clone(),
                review_state,
                ..ItemQuery::default()
            },
            categories: self.categories.clone(),
            languages: self.languages.clone(),
            campaign: self.campaign,
            verdicts: self.verdicts.clone(),
        }
    }
}

/// A scan of `backend` with the command's filters.
fn scan<'a>(
    backend: &'a Backend,
    filters: &ExportFilters,
    reviewed_only: bool,
    thresholds: std::collections::HashMap<(String, String), Thresholds>,
) -> anyhow::Result<ExportScan<'a>> {
    let sources = ExportSources { items: backend.reader(), campaigns: backend.campaigns(), reviews: backend.reviews() };
    Ok(ExportScan::new(sources, filters.filter(reviewed_only), &backend.subscriptions()?, thresholds)?)
}

pub fn run(args: &ExportArgs, global: &GlobalArgs) -> anyhow::Result<Exit> {
    match args.format {
        ExportFormat::Jsonl | ExportFormat::Csv | ExportFormat::Parquet => dataset::run(args, global),
        ExportFormat::Claimreview | ExportFormat::Labeled => reviewed::run(args, global),
    }
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// What to write
    #[arg(long, value_enum)]
    pub format: ExportFormat,

    /// The file (jsonl, csv, parquet: the card goes beside it as FILE.card.json and
    /// FILE.card.md), or with --split the directory for train.EXT, test.EXT and card.*;
    /// claimreview and labeled write to stdout without it
    #[arg(long = "out", visible_alias = "output", short, value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// claimreview: one object per line instead of one JSON array
    #[arg(long)]
    pub jsonl: bool,

    /// claimreview: the organisation publishing the reviews (schema.org `author`; without it, a
    /// placeholder and a warning)
    #[arg(long, value_name = "NAME", env = "INFODEMIC_PUBLISHER")]
    pub publisher: Option<String>,

    /// claimreview: the organisation's web site
    #[arg(long, value_name = "URL", env = "INFODEMIC_PUBLISHER_URL")]
    pub publisher_url: Option<String>,

    /// claimreview: the address of each review's page, `{id}` standing for the item id
    /// (e.g. https://checks.example.org/items/{id})
    #[arg(long, value_name = "TEMPLATE")]
    pub review_url: Option<String>,

    /// claimreview, labeled: include items whose reviewers disagree (left out by default: not
    /// ready to publish or to train on)
    #[arg(long)]
    pub include_disputed: bool,

    #[command(flatten)]
    pub filters: ExportFilters,

    /// Replace authors, @handles and personal URLs (social posts, profiles) with keyed
    /// pseudonyms; the key is created in the data directory on first use and never exported
    #[arg(long)]
    pub pseudonymize: bool,

    /// Train/test files: time:2026-06-01 (before / from the date), random:0.8 (a share of
    /// stories for train), source[:0.2] (a share of whole sources held out); one story
    /// (campaign) never straddles the two
    #[arg(long, value_name = "SPEC", value_parser = split_arg)]
    pub split: Option<String>,

    /// The seed of random and source splits
    #[arg(long, default_value_t = 42)]
    pub seed: u64,

    /// With --split source: hold out these sources instead of a seeded choice (repeatable)
    #[arg(long = "test-source", value_name = "ID")]
    pub test_sources: Vec<String>,

    /// A licence note for the dataset card (e.g. "CC BY 4.0; items remain their publishers'")
    #[arg(long, value_name = "TEXT")]
    pub licence: Option<String>,
}

/// Which items: the filters of `query`, and campaign, verdict and review state.
#[derive(Debug, Args, serde::Serialize)]
pub struct ExportFilters {
    /// Only items the model flagged
    #[arg(long)]
    pub flagged: bool,
    /// Only items worth a review (flagged included)
    #[arg(long, conflicts_with = "flagged")]
    pub review: bool,
    /// Only items scoring at least this (0..1)
    #[arg(long, value_name = "SCORE", value_parser = crate::commands::query::score_arg)]
    pub min_score: Option<f32>,
    /// Only items published at or after (a date, an RFC 3339 time, or a span back: 7d)
    #[arg(long, value_name = "WHEN", value_parser = crate::when::when_arg)]
    pub since: Option<DateTime<Utc>>,
    /// Only items published before
    #[arg(long, value_name = "WHEN", value_parser = crate::when::when_arg)]
    pub until: Option<DateTime<Utc>>,
    /// Only items from this source (repeatable)
    #[arg(long = "source", value_name = "ID", value_parser = crate::commands::query::source_arg)]
    #[serde(serialize_with = "source_names")]
    pub sources: Vec<SourceId>,
    /// Only items from sources of this category (authority, medical-news, fact-checker,
    /// misinformation-outlet, other; repeatable)
    #[arg(long = "category", value_name = "CATEGORY", value_parser = category_arg)]
    #[serde(serialize_with = "category_names")]
    pub categories: Vec<FeedCategory>,
    /// Only items in this language (repeatable: en, fr...)
    #[arg(long = "language", value_name = "CODE")]
    pub languages: Vec<String>,
    /// Only items whose title or text contains this (case-insensitive)
    #[arg(long, value_name = "TEXT")]
    pub text: Option<String>,
    /// Only members of this campaign (c12)
    #[arg(long, value_name = "CAMPAIGN", value_parser = campaign_arg)]
    #[serde(serialize_with = "campaign_name")]
    pub campaign: Option<CampaignId>,
    /// Only items whose current verdict is this (repeatable)
    #[arg(long = "verdict", value_name = "VERDICT")]
    pub verdicts: Vec<String>,
    /// Only reviewed items
    #[arg(long)]
    pub reviewed: bool,
    /// Only unreviewed items
    #[arg(long, conflicts_with_all = ["reviewed", "verdicts"])]
    pub unreviewed: bool,
    /// At most this many rows
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
}

fn source_names<S: serde::Serializer>(sources: &[SourceId], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(sources.iter().map(SourceId::as_str))
}

fn category_names<S: serde::Serializer>(categories: &[FeedCategory], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(categories.iter().map(|c| c.as_str()))
}

#[allow(clippy::ref_option)] // serde's serialize_with hands a reference to the field.
fn campaign_name<S: serde::Serializer>(campaign: &Option<CampaignId>, serializer: S) -> Result<S::Ok, S::Error> {
    match campaign {
        Some(id) => serializer.serialize_some(&id.to_string()),
        None => serializer.serialize_none(),
    }
}

/// A split spec, checked here and kept as typed (the card quotes it).
fn split_arg(value: &str) -> Result<String, String> {
    SplitSpec::parse(value).map(|_| value.to_owned()).map_err(|e| e.to_string())
}

fn category_arg(value: &str) -> Result<FeedCategory, String> {
    serde_json::from_value(serde_json::Value::String(value.to_owned()))
        .map_err(|_| "one of authority, medical-news, fact-checker, misinformation-outlet, other".to_owned())
}

fn campaign_arg(value: &str) -> Result<CampaignId, String> {
    value.parse().map_err(|e: infodemic_core::CampaignIdParseError| e.to_string())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// A dataset as JSON lines, with its card
    Jsonl,
    /// A dataset as CSV (UTF-8, header, RFC 4180, formula-like cells defused), with its card
    Csv,
    /// A dataset as Apache Parquet, with its card
    Parquet,
    /// schema.org ClaimReview JSON-LD of every reviewed item whose verdict rates a claim
    Claimreview,
    /// JSON lines of reviewed items with their labels (`mis`, `claim`), for models/train/
    Labeled,
}
