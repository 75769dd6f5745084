//! One module per subcommand; each has its clap `Args` and a `run` that returns the exit code.

pub mod campaigns;
pub mod claims;
pub mod classify;
pub mod crawl;
pub mod eval;
pub mod export;
pub mod feeds;
pub mod import;
pub mod migrate;
pub mod model;
pub mod query;
pub mod rescore;
pub mod review;
pub mod show;
pub mod stats;
pub mod watch;
pub mod watch_jobs;
pub mod worker;
