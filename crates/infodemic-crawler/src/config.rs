use std::sync::Arc;
use std::time::Duration;

use crate::politeness::RobotsCache;

/// Limits, politeness and identity for every fetch.
#[derive(Clone, Debug)]
pub struct FetchConfig {
    /// Whole-request limit: connect, headers and body.
    pub timeout: Duration,
    /// Limit for establishing the connection.
    pub connect_timeout: Duration,
    /// Largest body accepted, counted after decompression.
    pub max_body_bytes: u64,
    /// Redirects followed before giving up.
    pub max_redirects: usize,
    /// Sent with every request; names the tool and a contact URL, as polite crawlers do.
    pub user_agent: String,
    /// Requests in flight to one host at a time.
    pub per_host_concurrency: usize,
    /// Minimum time between the starts of two requests to one host (robots.txt Crawl-delay
    /// raises it).
    pub per_host_delay: Duration,
    /// Retries of 408/429/502/503/504/522/524 answers (never of 500) within one fetch.
    pub max_retries: u32,
    /// First retry waits about this long (then doubles, with jitter).
    pub retry_base: Duration,
    /// No single wait exceeds this; a longer Retry-After ends the fetch and is left to the
    /// scheduler.
    pub retry_cap: Duration,
    /// Obey robots.txt (cached per host for `robots_ttl`).
    pub respect_robots: bool,
    /// How long a host's robots.txt is trusted.
    pub robots_ttl: Duration,
    /// Allow URLs found in content (article and fact-check pages) to reach private, loopback
    /// and link-local addresses. Off by default (server-side request forgery guard); tests
    /// turn it on to serve pages from 127.0.0.1.
    pub allow_private_discovered: bool,
    /// A robots.txt cache to share between fetchers (`watch` keeps one across its cycles);
    /// `None`: each fetcher has its own.
    pub robots_cache: Option<Arc<RobotsCache>>,
}

impl Default for FetchConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_body_bytes: 10 * 1024 * 1024,
            max_redirects: 5,
            user_agent: format!(
                "infodemic/{} (+https://github.com/infodemic/infodemic; health-misinformation monitor)",
                env!("CARGO_PKG_VERSION")
            ),
            per_host_concurrency: 2,
            per_host_delay: Duration::from_secs(1),
            max_retries: 2,
            retry_base: Duration::from_millis(500),
            retry_cap: Duration::from_secs(30),
            respect_robots: true,
            robots_ttl: Duration::from_secs(24 * 3600),
            allow_private_discovered: false,
            robots_cache: None,
        }
    }
}

impl FetchConfig {
    /// The product token robots.txt rules are matched against.
    pub fn robots_agent(&self) -> &str {
        self.user_agent.split('/').next().unwrap_or("infodemic")
    }
}
