use std::time::Duration;

use chrono::{DateTime, Utc};
use infodemic_core::polling::FailureKind;

/// What kind of request failure, for failure accounting and outage detection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestKind {
    /// The host name did not resolve.
    Dns,
    /// No connection (refused, reset, unreachable).
    Connect,
    /// Too many redirects, or a redirect loop.
    Redirect,
    /// Anything else (TLS, protocol, body).
    Other,
}

/// Why one feed could not be crawled. Recorded as that feed's state; never ends a run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FeedError {
    /// The server answered with a non-success status.
    #[error("HTTP status {status}{}", retry_after.map(|t| format!(" (retry after {})", t.to_rfc3339())).unwrap_or_default())]
    Status {
        /// The status code.
        status: u16,
        /// When the server asked us to come back (Retry-After), if it did.
        retry_after: Option<DateTime<Utc>>,
    },
    /// No complete answer within the time limit.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// The body was larger than the configured cap.
    #[error("body larger than {limit} bytes")]
    TooLarge {
        /// The cap in bytes.
        limit: u64,
    },
    /// Connection, DNS, TLS, redirect or protocol failure.
    #[error("request failed: {message}")]
    Request {
        /// What failed.
        kind: RequestKind,
        /// The whole error chain.
        message: String,
    },
    /// robots.txt of the host disallows the URL for our user agent.
    #[error("robots.txt disallows {0}")]
    Disallowed(String),
    /// A URL found in content points at a private, loopback or link-local address.
    #[error("refused to fetch {0}: private or local address")]
    Blocked(String),
    /// A `file://` source could not be read.
    #[error("cannot read {path}: {source}")]
    File {
        /// The local path.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The URL's scheme is neither http, https nor file.
    #[error("unsupported URL scheme `{0}`")]
    UnsupportedScheme(String),
    /// The body was empty.
    #[error("empty body")]
    Empty,
    /// The body is not RSS, Atom or JSON Feed (HTML, truncated or malformed XML...).
    #[error("not a feed: {0}")]
    NotAFeed(String),
    /// The document holds entries, but none of them could be read.
    #[error("0 of {found} entries readable: {reason}")]
    NoReadableEntries {
        /// Entries (`item`, `entry`, JSON Feed items) in the document.
        found: usize,
        /// Why none became an item.
        reason: String,
    },
}

impl FeedError {
    /// A short stable code for summaries and JSON output.
    pub fn code(&self) -> &'static str {
        match self {
            FeedError::Status { .. } => "http-status",
            FeedError::Timeout(_) => "timeout",
            FeedError::TooLarge { .. } => "too-large",
            FeedError::Request { kind: RequestKind::Dns, .. } => "dns",
            FeedError::Request { kind: RequestKind::Connect, .. } => "connect",
            FeedError::Request { kind: RequestKind::Redirect, .. } => "redirects",
            FeedError::Request { .. } => "request",
            FeedError::Disallowed(_) => "robots",
            FeedError::Blocked(_) => "blocked",
            FeedError::File { .. } => "file",
            FeedError::UnsupportedScheme(_) => "unsupported-scheme",
            FeedError::Empty => "empty",
            FeedError::NotAFeed(_) => "not-a-feed",
            FeedError::NoReadableEntries { .. } => "no-readable-entries",
        }
    }

    /// How much this failure counts against the feed: hard errors (gone, not found, no such
    /// host, not a feed) more than transient ones.
    pub fn failure_kind(&self) -> FailureKind {
        match self {
            FeedError::Status { status: 404 | 410 | 401 | 403 | 451, .. }
            | FeedError::Request { kind: RequestKind::Dns | RequestKind::Redirect, .. }
            | FeedError::Disallowed(_)
            | FeedError::Blocked(_)
            | FeedError::UnsupportedScheme(_)
            | FeedError::TooLarge { .. }
            | FeedError::NotAFeed(_)
            | FeedError::NoReadableEntries { .. }
            | FeedError::File { .. } => FailureKind::Hard,
            _ => FailureKind::Soft,
        }
    }

    /// Whether the failure looks like our network rather than the feed: no route, no name
    /// resolution, no connection, no answer. When every host fails this way at once, the
    /// feeds are not to blame.
    pub fn is_network(&self) -> bool {
        matches!(self, FeedError::Timeout(_) | FeedError::Request { kind: RequestKind::Dns | RequestKind::Connect, .. })
    }

    /// When the server asked to be left alone until, if it did.
    pub fn retry_after(&self) -> Option<DateTime<Utc>> {
        match self {
            FeedError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}
