//! The wiring: turns a catalogue into crawled, scored, stored items.
//!
//! # Architecture
//! [`run_crawl`] is a small topology of bounded stages:
//!
//! ```text
//! feeds ──(buffer_unordered, N fetches)──▶ outcomes (bounded channel)
//!       ──▶ dedupe against the run and the store ──▶ pending batch
//!       ──▶ ClassifierHandle (its own thread) ──▶ SledStore::commit (blocking pool, one transaction)
//! ```
//!
//! A batch always holds whole feeds: the items of a feed and its new state (ETag included)
//! commit together, so an interrupted run can neither lose items behind a saved ETag nor
//! half-write a batch. This crate is the only one that knows every component crate; it never
//! prints: progress goes to a [`CrawlObserver`].
#![deny(missing_docs)]

mod campaigns;
mod catalogue;
mod check;
mod claims;
mod crawl;
mod error;
mod locate;
mod model;
mod rescore;
mod watch;

pub use campaigns::{AlertSink, CampaignAssignment, CampaignBatchReport, CampaignItem, CampaignSettings, CampaignTracker};
pub use catalogue::{feeds_from_opml, feeds_to_opml, load_catalogue};
pub use check::{check_feed, CheckedItem, FeedCheck};
pub use claims::{import_claims, reembed_claims, reembed_stale_claims, ClaimImport, ClaimMatcher, ClaimReembed};
pub use crawl::{
    run_crawl, CrawlEvent, CrawlObserver, CrawlOptions, CrawlSummary, DeferredFeed, FailedFeed, NoProgress, PartialFeed,
};
pub use error::PipelineError;
pub use infodemic_crawler::FetchConfig;
pub use locate::{
    locate_model_dir, locate_ort_library, Located, DEFAULT_MODEL_DIR, ORT_LIBRARY_RELATIVE, SETUP_COMMAND,
};
pub use model::{load_model, LoadedModel};
pub use rescore::{
    rescore, rescore_dry_run, RescoreEvent, RescoreObserver, RescoreOptions, RescoreSummary, RESCORE_BATCH,
};
pub use watch::{due_feeds, watch, WatchOptions, WatchSummary};

/// Result type of this crate.
pub type Result<T, E = PipelineError> = std::result::Result<T, E>;
