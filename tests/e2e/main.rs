//! End-to-end tests of the `infodemic` binary. Every server is local (127.0.0.1), every data
//! dir temporary, the model is the real one in `models/`.
//!
//! The binary must be built first (`cargo build -p infodemic-cli`); the README's test command
//! does it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is the failure report.

/// Running the binary, serving fixtures.
mod support;

/// Campaigns: replay, list, show, plot, export, alerts, coordination.
mod campaigns;
/// Debunked claims: import, list, match, and matches on crawled items.
mod claims;
/// `classify` on plain and JSON lines, `--eval`.
mod classify;
/// `watch` killed with SIGKILL at many points: the store survives whole.
mod crash;
/// crawl -> classify -> store -> query/show/stats, across two runs, with broken feeds.
mod crawl;
/// Misuse: unknown flags, bad dates, missing files, a held lock, a missing runtime.
mod errors;
/// Research exports: formats, filters, pseudonyms, splits, the dataset card.
mod export;
/// Subscriptions (`feeds`) and the `watch` scheduler.
mod feeds;
/// Feeds built to cost unbounded work: the binary's work stays bounded.
mod hostile_feeds;
/// Hostile text shown safely: no control character reaches a terminal, no CSV cell is a formula.
mod hostile_output;
/// `import`: outside labels and ClaimReview joining the store as items with verdicts.
mod import;
/// Ctrl-C during a crawl leaves a consistent store.
mod interrupt;
/// `model selftest` / `verify` against the recorded outputs, `eval` per kind.
mod model;
/// `--store postgres://`: crawl, rescore, query, show and stats against a real PostgreSQL server.
mod postgres;
/// `watch --store postgres://`: the scheduler, its local API and the campaign lock on PostgreSQL.
mod postgres_watch;
/// `rescore`: a newer model applied to stored items, resumable, filtered, indexes kept.
mod rescore;
/// Review: the queue, verdicts, batches, undo, `show --json`, ClaimReview and labeled exports.
mod review;
/// The review page in headless Chromium: keyboard verdicts, hostile content, CSP.
mod review_browser;
/// Verdicts exported as labeled rows train a model with `models/train/`.
mod training_loop;
/// The campaign writer of a deployment: copies of a claim grouped, one writer, a standby.
mod worker_campaigns;
/// A scheduler, three crawl workers and two score workers over NATS JetStream into PostgreSQL,
/// one of each killed.
mod workers;
