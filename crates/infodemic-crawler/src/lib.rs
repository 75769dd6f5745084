//! The crawler: fetch a feed, parse it, normalise its entries into [`infodemic_core::Item`]s.
//!
//! # Architecture
//! Three pure-ish steps, each testable alone: [`Fetcher::fetch`] (network or `file://`, with
//! timeouts and a body cap), [`parse::parse_feed`] (bytes to entries, via feed-rs) and
//! [`normalize`] (entries to items: canonical URL, plain text, language, content hash).
//! [`crawl_feed`] chains them and turns every failure into that feed's [`FeedError`]: one bad
//! feed never ends a run. This crate knows nothing of the store or the classifier.
#![deny(missing_docs)]

pub mod article;
pub mod charset;
mod config;
mod crawl;
pub mod dialect;
mod error;
mod fetch;
pub mod html_text;
pub mod normalize;
pub mod parse;
pub mod politeness;
pub mod repair;
pub mod sources;

pub use config::FetchConfig;
pub use crawl::{crawl_feed, FeedFetch, FeedOutcome, Previous};
pub use error::{FeedError, RequestKind};
pub use fetch::{Fetched, Fetcher};
