//! The wiring: turns a catalogue into crawled, scored, stored items.
//!
//! # Architecture
//! [`run_crawl`] is a topology of stages, one module each under `crawl/`, connected by bounded
//! channels (capacity in brackets; N is the feed concurrency):
//!
//! ```text
//! fetch (crawl_feed, N at a time: buffer_unordered) ──[N]──▶ dedupe (relevance; run + store)
//!   ──[1]──▶ accept (feed states, next polls; batches of whole feeds)
//!   ──[1]──▶ enrich (full texts, ClaimReview pages) ──[1]──▶ score (ClassifierHandle, claims)
//!   ──[1]──▶ commit (SledStore::commit: blocking pool, one transaction)
//!   ──[1]──▶ campaign (CampaignTracker: committed items to campaigns, alerts)
//! ```
//!
//! The stages run concurrently as futures joined on the caller's task; each owns its state and
//! its part of the summary. Cancellation takes effect where the fetched feeds are received:
//! nothing more is taken, and everything taken flows through every stage. A failing stage ends
//! the run with its own error: the stages upstream stop, those downstream drain.
//!
//! A batch always holds whole feeds: the items of a feed and its new state (ETag included)
//! commit together, so an interrupted run can neither lose items behind a saved ETag nor
//! half-write a batch. This crate is the only one that knows every component crate; it never
//! prints: progress goes to a [`CrawlObserver`].
#![deny(missing_docs)]

mod campaign_worker;
mod campaigns;
mod catalogue;
mod check;
mod claims;
mod crawl;
mod error;
mod export;
mod import;
mod locate;
mod migrate;
mod model;
mod rescore;
mod score_worker;
mod watch;
mod worker;

pub use campaign_worker::{run_campaign_worker, CampaignWorkerOptions, CampaignWorkerSummary};
pub use campaigns::{
    AlertSink, CampaignAssignment, CampaignBatchReport, CampaignItem, CampaignSettings, CampaignTracker,
};
pub use catalogue::{feeds_from_opml, feeds_to_opml, load_catalogue};
pub use check::{check_feed, CheckedItem, FeedCheck};
pub use claims::{
    import_claims, import_claims_with, reembed_claims, reembed_stale_claims, ClaimImport, ClaimMatcher, ClaimReembed,
};
pub use crawl::{
    run_crawl, run_crawl_unscored, CommittedItems, CrawlEvent, CrawlObserver, CrawlOptions, CrawlSummary, DeferredFeed,
    FailedFeed, NoProgress, PartialFeed, ScoringStore, StageQueues, STAGE_QUEUES,
};
pub use error::PipelineError;
pub use export::{group_stories, write_dataset, ExportFilter, ExportScan, ExportSources, Scanned, EXPORT_PAGE};
pub use import::{
    check_origin, import_labeled, import_source, ImportStore, LabelImport, LabelImportOptions, LabeledRow, RefusedRow,
    IMPORT_BATCH, IMPORT_SCHEME, MAX_IMPORT_TEXT_CHARS, MAX_IMPORT_URL_BYTES, VERDICT_CHUNK,
};
pub use infodemic_crawler::FetchConfig;
pub use locate::{
    locate_model_dir, locate_ort_library, Located, DEFAULT_MODEL_DIR, ORT_LIBRARY_RELATIVE, SETUP_COMMAND,
};
pub use migrate::{migrate_campaigns, migrate_claims, migrate_items, migrate_reviews, MigrateSummary, MIGRATE_PAGE};
pub use model::{load_model, LoadedModel};
pub use rescore::{
    rescore, rescore_dry_run, RescoreEvent, RescoreObserver, RescoreOptions, RescoreSummary, RESCORE_BATCH,
};
pub use score_worker::{run_score_worker, ScoreWorkerOptions, ScoreWorkerSummary};
pub use watch::{due_feeds, watch, watch_with_jobs, CrawlJob, WatchOptions, WatchSummary};
pub use worker::{run_crawl_worker, run_scheduler, ScheduleOptions, ScheduleSummary, WorkerOptions, WorkerSummary};

/// Result type of this crate.
pub type Result<T, E = PipelineError> = std::result::Result<T, E>;
