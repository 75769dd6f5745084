//! The local HTTP API of a running `infodemic watch`, and the client other commands use.
//!
//! # Architecture
//! sled lets one process open a store. While `watch` holds it, `query`, `show`, `stats` and
//! `feeds` in another process cannot: they find the service instead (atuin's "database or
//! daemon" split). [`serve`] binds 127.0.0.1 on a free port and writes [`ServiceInfo`] (address,
//! pid, a random bearer token) to `service.json` in the data directory, readable by the user
//! only; [`ServiceClient`] reads it and implements [`infodemic_store::ItemReader`] over HTTP, so
//! commands do not care which one they talk to. Requests without the token are refused. Store
//! calls run on the blocking pool. `/metrics` (Prometheus) reports the crawl events `watch`
//! records in [`Metrics`] and the store's counts, behind the same token.
//!
//! # Security model
//! Anyone who can read the data directory can read the store and the token: the directory is
//! created readable by the user only, and `service.json` is written as a new file with mode
//! 0600 (an existing temporary file or a link planted beside it is removed, not reused). The
//! token is 32 bytes from the operating system's CSPRNG, compared in constant time. Before a
//! client sends anything to the address in `service.json`, the server must prove it holds the
//! token without the client sending it ([`health_proof`] of a fresh nonce): a process that took
//! the port of a dead service gets no query and no `feeds add`.
#![deny(missing_docs)]

mod client;
mod info;
pub mod jobs;
pub mod memory;
mod metrics;
mod review_page;
mod served;
mod server;

pub use client::ServiceClient;
pub use info::{ServiceInfo, INFO_FILE};
pub use jobs::{ClaimsRequest, CrawlRequest, JobError, Jobs};
pub use metrics::Metrics;
pub use served::ServedStore;
pub use server::{serve, ServeOptions, ServiceHandle};

/// The answer to a health check with `nonce`: SHA-256 of the token and the nonce, in hex. Only
/// a holder of the token can give it, and it reveals nothing of the token.
pub fn health_proof(token: &str, nonce: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(format!("infodemic-health:{token}:{nonce}").as_bytes()))
}

/// Why the service could not start or answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// The listening socket or the info file.
    #[error("service: {0}")]
    Io(#[from] std::io::Error),
    /// The info file is not valid JSON.
    #[error("invalid service info file: {0}")]
    Info(String),
}
