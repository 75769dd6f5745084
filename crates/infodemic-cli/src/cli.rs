//! The command line, as clap derive types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::commands::{
    campaigns, claims, classify, crawl, eval, export, feeds, import, migrate, model, query, rescore, review, show,
    stats, watch, worker,
};

/// Watch the public web for health misinformation: crawl feeds, score every item with a local
/// ONNX model, store it, and query what was flagged.
#[derive(Debug, Parser)]
#[command(name = "infodemic", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts, before or after the subcommand.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Where the store lives [default: the user's data directory, e.g. ~/.local/share/infodemic]
    #[arg(long, global = true, env = "INFODEMIC_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// The ONNX Runtime library [default: .ort/ of the project, installed by `bash scripts/setup.sh`]
    #[arg(long, global = true, env = "INFODEMIC_ORT_LIB", value_name = "PATH")]
    pub ort_lib: Option<PathBuf>,

    /// The model directory (with model.toml) [default: models/minilm-constraint-v1 of the project]
    #[arg(long, global = true, env = "INFODEMIC_MODEL", value_name = "DIR")]
    pub model: Option<PathBuf>,

    /// A PostgreSQL database to use instead of the embedded store in the data directory
    /// (postgres://user@host/db; also `store` in the data directory's config.toml). Every command
    /// but `watch` runs on it (`migrate --to` fills it)
    #[arg(long, global = true, env = "INFODEMIC_STORE", value_name = "URL", value_parser = store_url)]
    pub store: Option<String>,

    /// More log output on stderr (-v info, -vv debug); INFODEMIC_LOG overrides
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// No progress bar
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Logs as JSON lines (for `watch` under a service manager)
    #[arg(long, global = true)]
    pub log_json: bool,

    /// The store's page cache, MiB [default: 32 for `watch`, 128 for the other commands]: more
    /// makes queries on a large store faster, less keeps a long `watch` smaller (sled holds about
    /// two to three times this in memory)
    #[arg(long, global = true, env = "INFODEMIC_CACHE_MIB", value_name = "MIB",
          value_parser = clap::value_parser!(u64).range(8..=65_536))]
    pub cache_mib: Option<u64>,

    /// Whether the command runs for days (`watch`): set from the command, not from the
    /// command line, for the defaults that differ.
    #[arg(skip)]
    pub long_running: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fetch feeds once, score new items, store them
    Crawl(crawl::CrawlArgs),
    /// Poll the subscribed feeds on their own schedules until stopped (Ctrl-C, SIGTERM)
    Watch(watch::WatchArgs),
    /// Subscribed feeds: list with health, add, remove, import/export OPML, check
    Feeds(feeds::FeedsArgs),
    /// List stored items
    Query(query::QueryArgs),
    /// Everything stored about one item, its verdicts included
    Show(show::ShowArgs),
    /// Fact-checkers' verdicts: the queue of unreviewed items, record a verdict, undo
    Review(review::ReviewArgs),
    /// Reviewed items as schema.org ClaimReview JSON-LD, or as labeled rows for training
    Export(export::ExportArgs),
    /// Labeled texts from elsewhere (CSV, JSON lines, ClaimReview) as items with verdicts from an origin
    Import(import::ImportArgs),
    /// Counts per day, source, label and language
    Stats(stats::StatsArgs),
    /// Score texts from a file or stdin (plain lines or JSON lines with `text`)
    Classify(classify::ClassifyArgs),
    /// Measure the model on labeled texts: precision, recall, F1, ROC AUC, ECE
    Eval(eval::EvalArgs),
    /// Inspect or verify the model
    Model(model::ModelArgs),
    /// Narratives pushed by several sources: list, show, plot, export, replay, coordination
    Campaigns(campaigns::CampaignsArgs),
    /// Surge alerts raised on campaigns
    Alerts(campaigns::AlertsArgs),
    /// Known debunked claims: import, list, match, reembed
    Claims(claims::ClaimsArgs),
    /// Score stored items again with the current model (only those another model scored, unless --all)
    Rescore(rescore::RescoreArgs),
    /// One process of a deployment across machines: a scheduler that queues due feeds, crawl
    /// and score workers, or the campaign writer, around a shared PostgreSQL store (NATS
    /// JetStream in between)
    Worker(worker::WorkerArgs),
    /// Copy the embedded store into PostgreSQL: items, feed states, subscriptions, claims,
    /// campaigns, verdicts (resumable)
    Migrate(migrate::MigrateArgs),
}

impl Command {
    /// Whether the command runs for days, with the defaults of a service (a smaller cache).
    pub fn is_long_running(&self) -> bool {
        matches!(self, Command::Watch(_))
    }
}

/// `--store`: a PostgreSQL URL (a directory is `--data-dir`).
pub(crate) fn store_url(value: &str) -> Result<String, String> {
    if infodemic_store_postgres::is_postgres_url(value) {
        Ok(value.to_owned())
    } else {
        Err("expected a postgres:// URL (the embedded store's directory is --data-dir)".to_owned())
    }
}
