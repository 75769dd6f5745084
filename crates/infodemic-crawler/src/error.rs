use std::time::Duration;

/// Why one feed could not be crawled. Recorded as that feed's state; never ends a run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FeedError {
    /// The server answered with a non-success status.
    #[error("HTTP status {status}")]
    Status {
        /// The status code.
        status: u16,
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
    /// Connection, TLS, redirect or protocol failure.
    #[error("request failed: {0}")]
    Request(String),
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
}

impl FeedError {
    /// A short stable code for summaries and JSON output.
    pub fn code(&self) -> &'static str {
        match self {
            FeedError::Status { .. } => "http-status",
            FeedError::Timeout(_) => "timeout",
            FeedError::TooLarge { .. } => "too-large",
            FeedError::Request(_) => "request",
            FeedError::File { .. } => "file",
            FeedError::UnsupportedScheme(_) => "unsupported-scheme",
            FeedError::Empty => "empty",
            FeedError::NotAFeed(_) => "not-a-feed",
        }
    }
}
