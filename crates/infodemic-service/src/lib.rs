//! The local HTTP API of a running `infodemic watch`, and the client other commands use.
//!
//! # Architecture
//! sled lets one process open a store. While `watch` holds it, `query`, `show`, `stats` and
//! `feeds` in another process cannot: they find the service instead (atuin's "database or
//! daemon" split). [`serve`] binds 127.0.0.1 on a free port and writes [`ServiceInfo`] (address,
//! pid, a random bearer token) to `service.json` in the data directory, readable by the user
//! only; [`ServiceClient`] reads it and implements [`infodemic_store::ItemReader`] over HTTP, so
//! commands do not care which one they talk to. Requests without the token are refused. Store
//! calls run on the blocking pool.
#![deny(missing_docs)]

mod client;
mod info;
mod server;

pub use client::ServiceClient;
pub use info::{ServiceInfo, INFO_FILE};
pub use server::{serve, ServiceHandle};

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
