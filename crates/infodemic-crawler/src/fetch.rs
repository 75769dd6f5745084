//! Getting the bytes of a feed: HTTP(S) with reqwest, or a local `file://` path.

use infodemic_core::HttpValidators;
use reqwest::header::{HeaderMap, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use reqwest::{redirect, StatusCode};
use tokio::io::AsyncReadExt;
use url::Url;

use crate::{FeedError, FetchConfig};

/// What a fetch brought back.
#[derive(Debug)]
pub enum Fetched {
    /// The server said the feed has not changed since the validators we sent.
    NotModified,
    /// A body to parse.
    Body {
        /// The (decompressed) bytes.
        bytes: Vec<u8>,
        /// Validators to send next time.
        validators: HttpValidators,
        /// The URL after redirects; relative links resolve against it.
        final_url: Url,
    },
}

/// Fetches feeds within the limits of a [`FetchConfig`]. Cheap to clone; share one per run.
#[derive(Clone, Debug)]
pub struct Fetcher {
    client: reqwest::Client,
    config: FetchConfig,
}

impl Fetcher {
    /// Builds the HTTP client.
    ///
    /// # Errors
    /// When the TLS backend cannot be initialised.
    pub fn new(config: FetchConfig) -> Result<Self, FeedError> {
        let client = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .redirect(redirect::Policy::limited(config.max_redirects))
            .build()
            .map_err(|e| FeedError::Request(error_chain(&e)))?;
        Ok(Self { client, config })
    }

    /// The limits in force.
    pub fn config(&self) -> &FetchConfig {
        &self.config
    }

    /// Fetches `url`, conditionally when `validators` holds an ETag or Last-Modified.
    ///
    /// # Errors
    /// A [`FeedError`] for every way the fetch can fail; the caller records it for the feed.
    pub async fn fetch(&self, url: &Url, validators: &HttpValidators) -> Result<Fetched, FeedError> {
        match url.scheme() {
            "http" | "https" => self.fetch_http(url, validators).await,
            "file" => self.fetch_file(url).await,
            other => Err(FeedError::UnsupportedScheme(other.to_owned())),
        }
    }

    async fn fetch_http(&self, url: &Url, validators: &HttpValidators) -> Result<Fetched, FeedError> {
        let mut request = self.client.get(url.clone());
        if let Some(etag) = &validators.etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        if let Some(last_modified) = &validators.last_modified {
            request = request.header(IF_MODIFIED_SINCE, last_modified);
        }
        let mut response = request.send().await.map_err(|e| self.request_error(&e))?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        if !status.is_success() {
            return Err(FeedError::Status { status: status.as_u16() });
        }
        let limit = self.config.max_body_bytes;
        if response.content_length().is_some_and(|len| len > limit) {
            return Err(FeedError::TooLarge { limit });
        }
        let validators = validators_from(response.headers());
        let final_url = response.url().clone();
        // Counted chunk by chunk after decompression, so neither a lying Content-Length nor a
        // compression bomb can make us hold more than the cap.
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.request_error(&e))? {
            if (bytes.len() + chunk.len()) as u64 > limit {
                return Err(FeedError::TooLarge { limit });
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Fetched::Body { bytes, validators, final_url })
    }

    async fn fetch_file(&self, url: &Url) -> Result<Fetched, FeedError> {
        let display = url.path().to_owned();
        let path = url.to_file_path().map_err(|()| FeedError::Request(format!("not a local file URL: {url}")))?;
        let file_error = |source| FeedError::File { path: display.clone(), source };
        let file = tokio::fs::File::open(&path).await.map_err(file_error)?;
        let limit = self.config.max_body_bytes;
        let mut bytes = Vec::new();
        file.take(limit + 1).read_to_end(&mut bytes).await.map_err(file_error)?;
        if bytes.len() as u64 > limit {
            return Err(FeedError::TooLarge { limit });
        }
        Ok(Fetched::Body { bytes, validators: HttpValidators::default(), final_url: url.clone() })
    }

    fn request_error(&self, error: &reqwest::Error) -> FeedError {
        if error.is_timeout() {
            FeedError::Timeout(self.config.timeout)
        } else {
            FeedError::Request(error_chain(error))
        }
    }
}

fn validators_from(headers: &HeaderMap) -> HttpValidators {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    HttpValidators { etag: header(ETAG), last_modified: header(LAST_MODIFIED) }
}

/// reqwest's top-level message is often just "error sending request"; the cause is below.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
