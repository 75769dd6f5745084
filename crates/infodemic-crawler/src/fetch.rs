//! Getting the bytes of a feed or page: HTTP(S) with reqwest, or a local `file://` path,
//! politely (robots.txt, per-host limits), resiliently (retries with backoff on transient
//! answers, Retry-After) and within limits that hold against a hostile server (timeouts, a
//! body cap after decompression, a redirect cap, and no private addresses for URLs found in
//! content).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use infodemic_core::HttpValidators;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{
    HeaderMap, CACHE_CONTROL, CONTENT_TYPE, ETAG, EXPIRES, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, RETRY_AFTER,
};
use reqwest::{redirect, StatusCode};
use tokio::io::AsyncReadExt;
use url::Url;

use crate::error::RequestKind;
use crate::politeness::{HostPool, RobotsCache, RobotsRules};
use crate::{FeedError, FetchConfig};

/// Answers worth retrying within one fetch; 500 is not among them (usually a bug, not load).
const RETRYABLE: &[u16] = &[408, 429, 502, 503, 504, 522, 524];
/// Largest robots.txt read.
const ROBOTS_MAX_BYTES: u64 = 512 * 1024;

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
        /// Until when the server says the response stays fresh (Cache-Control max-age or
        /// Expires): no point polling before.
        fresh_until: Option<DateTime<Utc>>,
        /// The Content-Type header (its charset matters for old feeds).
        content_type: Option<String>,
    },
}

struct Inner {
    client: reqwest::Client,
    /// For URLs found in content: refuses private and local addresses.
    discovered: reqwest::Client,
    config: FetchConfig,
    hosts: HostPool,
    robots: Arc<RobotsCache>,
}

/// Fetches feeds and pages within the limits of a [`FetchConfig`]. Cheap to clone; share one
/// per run so per-host limits and robots.txt hold across every fetch.
#[derive(Clone)]
pub struct Fetcher {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher").field("config", &self.inner.config).finish_non_exhaustive()
    }
}

impl Fetcher {
    /// Builds the HTTP clients.
    ///
    /// # Errors
    /// When the TLS backend cannot be initialised.
    pub fn new(config: FetchConfig) -> Result<Self, FeedError> {
        let builder = || {
            reqwest::Client::builder()
                .user_agent(config.user_agent.clone())
                .timeout(config.timeout)
                .connect_timeout(config.connect_timeout)
        };
        let build_error = |e: reqwest::Error| FeedError::Request { kind: RequestKind::Other, message: error_chain(&e) };
        let max_redirects = config.max_redirects;
        let client = builder()
            .redirect(redirect_policy(
                max_redirects,
                feed_redirect_allowed,
                "redirect from a public address to a private or local one",
            ))
            .build()
            .map_err(build_error)?;
        let discovered = if config.allow_private_discovered {
            client.clone()
        } else {
            builder()
                // A proxy would resolve the name itself, past the guard below.
                .no_proxy()
                .dns_resolver(Arc::new(PublicOnlyResolver))
                .redirect(redirect_policy(
                    max_redirects,
                    |_, next| !literal_private_host(next),
                    "redirect to a private or local address",
                ))
                .build()
                .map_err(build_error)?
        };
        let inner = Inner {
            client,
            discovered,
            hosts: HostPool::new(config.per_host_concurrency),
            robots: config.robots_cache.clone().unwrap_or_else(|| Arc::new(RobotsCache::new(config.robots_ttl))),
            config,
        };
        Ok(Self { inner: Arc::new(inner) })
    }

    /// The limits in force.
    pub fn config(&self) -> &FetchConfig {
        &self.inner.config
    }

    /// Fetches a feed the user asked for, conditionally when `validators` holds an ETag or
    /// Last-Modified.
    ///
    /// # Errors
    /// A [`FeedError`] for every way the fetch can fail; the caller records it for the feed.
    pub async fn fetch(&self, url: &Url, validators: &HttpValidators) -> Result<Fetched, FeedError> {
        match url.scheme() {
            "http" | "https" => self.fetch_http(&self.inner.client, url, validators).await,
            "file" => self.fetch_file(url).await,
            other => Err(FeedError::UnsupportedScheme(other.to_owned())),
        }
    }

    /// Fetches a page whose URL was found in content (an article, a fact-check). Such URLs
    /// are untrusted: private, loopback and link-local addresses are refused (unless the
    /// configuration allows them), and only http(s) is followed.
    ///
    /// # Errors
    /// [`FeedError::Blocked`] for private addresses, else as [`Fetcher::fetch`].
    pub async fn fetch_discovered(&self, url: &Url) -> Result<Fetched, FeedError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FeedError::UnsupportedScheme(url.scheme().to_owned()));
        }
        if !self.inner.config.allow_private_discovered && literal_private_host(url) {
            return Err(FeedError::Blocked(url.to_string()));
        }
        self.fetch_http(&self.inner.discovered, url, &HttpValidators::default()).await
    }

    async fn fetch_http(
        &self,
        client: &reqwest::Client,
        url: &Url,
        validators: &HttpValidators,
    ) -> Result<Fetched, FeedError> {
        let config = &self.inner.config;
        let mut delay = config.per_host_delay;
        if config.respect_robots {
            let rules = self.robots_for(client, url).await;
            if !rules.allowed(url) {
                return Err(FeedError::Disallowed(url.to_string()));
            }
            delay = delay.max(rules.crawl_delay().unwrap_or_default());
        }
        let mut attempt = 0;
        loop {
            let permit = self.inner.hosts.acquire(url, delay).await;
            let result = self.request(client, url, validators).await;
            drop(permit);
            match result {
                Err(FeedError::Status { status, retry_after })
                    if RETRYABLE.contains(&status) && attempt < config.max_retries =>
                {
                    let wait = match retry_after {
                        Some(at) => (at - Utc::now()).to_std().unwrap_or_default(),
                        None => backoff(config.retry_base, attempt),
                    };
                    if wait > config.retry_cap {
                        // The server wants a long pause: the scheduler honours it, not us.
                        return Err(FeedError::Status { status, retry_after });
                    }
                    tracing::debug!(message = "Retrying.", %url, status, wait_ms = wait.as_millis() as u64);
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// One request and its body, no retries.
    async fn request(
        &self,
        client: &reqwest::Client,
        url: &Url,
        validators: &HttpValidators,
    ) -> Result<Fetched, FeedError> {
        let mut request = client.get(url.clone());
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
            let retry_after = retry_after(response.headers(), Utc::now());
            return Err(FeedError::Status { status: status.as_u16(), retry_after });
        }
        let limit = self.inner.config.max_body_bytes;
        if response.content_length().is_some_and(|len| len > limit) {
            return Err(FeedError::TooLarge { limit });
        }
        let headers = response.headers();
        let validators = validators_from(headers);
        let fresh_until = fresh_until(headers, Utc::now());
        let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
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
        Ok(Fetched::Body { bytes, validators, final_url, fresh_until, content_type })
    }

    /// The host's robots.txt rules, fetched once per `robots_ttl`. A missing or unreadable
    /// robots.txt allows everything (RFC 9309: 4xx means no rules); a network failure also
    /// allows, but is cached only briefly.
    async fn robots_for(&self, client: &reqwest::Client, url: &Url) -> Arc<RobotsRules> {
        if let Some(rules) = self.inner.robots.get(url) {
            return rules;
        }
        let Ok(robots_url) = url.join("/robots.txt") else {
            return Arc::new(RobotsRules::AllowAll);
        };
        let permit = self.inner.hosts.acquire(url, self.inner.config.per_host_delay).await;
        let response = client.get(robots_url).send().await;
        drop(permit);
        let rules = match response {
            Ok(response) if response.status().is_success() => {
                let mut body = Vec::new();
                let mut response = response;
                while let Ok(Some(chunk)) = response.chunk().await {
                    body.extend_from_slice(&chunk);
                    if body.len() as u64 > ROBOTS_MAX_BYTES {
                        break;
                    }
                }
                RobotsRules::parse(self.inner.config.robots_agent(), &body)
            }
            // RFC 9309: a server error means "assume complete disallow".
            Ok(response) if response.status().is_server_error() => {
                tracing::info!(message = "robots.txt answered a server error; host disallowed for now.", %url);
                return self.inner.robots.put_unreachable(url);
            }
            // Not found or forbidden: no rules. A network failure is not cached: the feed's
            // own request will fail and say why.
            Ok(_) => RobotsRules::AllowAll,
            Err(_) => return Arc::new(RobotsRules::AllowAll),
        };
        self.inner.robots.put(url, rules)
    }

    async fn fetch_file(&self, url: &Url) -> Result<Fetched, FeedError> {
        let display = url.path().to_owned();
        let path = url.to_file_path().map_err(|()| FeedError::Request {
            kind: RequestKind::Other,
            message: format!("not a local file URL: {url}"),
        })?;
        let file_error = |source| FeedError::File { path: display.clone(), source };
        let file = tokio::fs::File::open(&path).await.map_err(file_error)?;
        let limit = self.inner.config.max_body_bytes;
        let mut bytes = Vec::new();
        file.take(limit + 1).read_to_end(&mut bytes).await.map_err(file_error)?;
        if bytes.len() as u64 > limit {
            return Err(FeedError::TooLarge { limit });
        }
        Ok(Fetched::Body {
            bytes,
            validators: HttpValidators::default(),
            final_url: url.clone(),
            fresh_until: None,
            content_type: None,
        })
    }

    fn request_error(&self, error: &reqwest::Error) -> FeedError {
        if error.is_timeout() {
            return FeedError::Timeout(self.inner.config.timeout);
        }
        let message = error_chain(error);
        let kind = if error.is_redirect() {
            RequestKind::Redirect
        } else if message.contains("dns error") || message.contains("failed to lookup address") {
            RequestKind::Dns
        } else if error.is_connect() {
            RequestKind::Connect
        } else {
            RequestKind::Other
        };
        if message.contains("private or local address") {
            return FeedError::Blocked(error.url().map(ToString::to_string).unwrap_or_default());
        }
        FeedError::Request { kind, message }
    }
}

/// Exponential backoff with equal jitter: half fixed, half random, so clients that failed
/// together do not retry together.
fn backoff(base: Duration, attempt: u32) -> Duration {
    let full = base.saturating_mul(2u32.saturating_pow(attempt));
    full / 2 + full.mul_f64(fastrand::f64() / 2.0)
}

fn validators_from(headers: &HeaderMap) -> HttpValidators {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    HttpValidators { etag: header(ETAG), last_modified: header(LAST_MODIFIED) }
}

/// The longest wait or freshness a server can ask for; anything longer (`max-age=99999999999999`,
/// `Expires` in 9999) is read as this. The scheduler caps it further by its own policy.
const MAX_SERVER_HORIZON_SECS: u64 = 365 * 24 * 3600;

/// `now` plus `seconds` from a server, capped at [`MAX_SERVER_HORIZON_SECS`]: never overflows.
fn after_server_seconds(now: DateTime<Utc>, seconds: u64) -> DateTime<Utc> {
    let capped = i64::try_from(seconds.min(MAX_SERVER_HORIZON_SECS)).unwrap_or(0);
    now.checked_add_signed(chrono::Duration::seconds(capped)).unwrap_or(now)
}

/// A date from a server, no later than [`MAX_SERVER_HORIZON_SECS`] from `now`.
fn server_date(value: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let at = DateTime::<Utc>::from(httpdate::parse_http_date(value).ok()?);
    Some(at.min(after_server_seconds(now, MAX_SERVER_HORIZON_SECS)))
}

/// `Retry-After` as seconds or an HTTP date. Seconds beyond any integer type are the longest
/// wait, not "no wait": a server that asks for an absurd pause gets the longest one we give.
fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(after_server_seconds(now, value.parse::<u64>().unwrap_or(u64::MAX)));
    }
    server_date(value, now)
}

/// Freshness from `Cache-Control: max-age` (or `s-maxage`), else `Expires`; nothing for
/// `no-cache`/`no-store`.
fn fresh_until(headers: &HeaderMap, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if let Some(cache_control) = headers.get(CACHE_CONTROL).and_then(|v| v.to_str().ok()) {
        let directives: Vec<String> = cache_control.split(',').map(|d| d.trim().to_ascii_lowercase()).collect();
        if directives.iter().any(|d| d == "no-cache" || d == "no-store") {
            return None;
        }
        let max_age = directives.iter().find_map(|d| {
            let value = d.strip_prefix("s-maxage=").or_else(|| d.strip_prefix("max-age="))?.trim_matches('"');
            // Digits only; a number beyond u64 is the longest freshness, not an error.
            (!value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()))
                .then(|| value.parse::<u64>().unwrap_or(u64::MAX))
        });
        if let Some(seconds) = max_age {
            return (seconds > 0).then(|| after_server_seconds(now, seconds));
        }
    }
    let expires = headers.get(EXPIRES)?.to_str().ok()?;
    server_date(expires, now).filter(|at| *at > now)
}

/// Addresses a URL found in content must not reach: private, loopback, link-local,
/// unspecified, multicast, shared (CGNAT), benchmarking, reserved and documentation space, and
/// the IPv6 forms that carry an IPv4 address (IPv4-compatible and -mapped, NAT64, 6to4) when
/// the address they carry is one of those. Teredo and site-local IPv6 are refused whole.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || (a == 100 && (64..128).contains(&b)) // 100.64.0.0/10, carrier-grade NAT
                || a == 0
                || (a == 192 && b == 0 && c == 0) // 192.0.0.0/24, IETF protocol assignments
                || (a == 198 && (b == 18 || b == 19)) // 198.18.0.0/15, benchmarking
                || a >= 240 // 240.0.0.0/4, reserved
                || (a == 192 && b == 0 && c == 2) // documentation ranges
                || (a == 198 && b == 51 && c == 100)
                || (a == 203 && b == 0 && c == 113)
        }
        IpAddr::V6(v6) => {
            let segments = v6.segments();
            let first = segments[0];
            let embedded_v4 = |high: u16, low: u16| {
                let [h1, h2] = high.to_be_bytes();
                let [l1, l2] = low.to_be_bytes();
                is_private(IpAddr::V4(std::net::Ipv4Addr::new(h1, h2, l1, l2)))
            };
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || (first & 0xffc0) == 0xfec0 // site-local (deprecated, still routed locally)
                || (first == 0x2001 && segments[1] == 0) // Teredo
                || (first == 0x2001 && segments[1] == 0x0db8) // documentation
                // ::a.b.c.d (IPv4-compatible) and ::ffff:a.b.c.d (IPv4-mapped).
                || v6.to_ipv4().is_some_and(|v4| is_private(IpAddr::V4(v4)))
                // NAT64, well-known and local-use prefixes: the IPv4 address in the last 32 bits.
                || (segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] && embedded_v4(segments[6], segments[7]))
                || (first == 0x64 && segments[1] == 0xff9b && segments[2] == 1)
                // 6to4: the IPv4 address in bits 16 to 48.
                || (first == 0x2002 && embedded_v4(segments[1], segments[2]))
        }
    }
}

/// Follows at most `max` redirects, and none that `allowed(first URL, next URL)` refuses (the
/// refusal is logged and is the request's error).
fn redirect_policy(max: usize, allowed: fn(&Url, &Url) -> bool, refusal: &'static str) -> redirect::Policy {
    redirect::Policy::custom(move |attempt| {
        let refused = attempt.previous().first().is_some_and(|first| !allowed(first, attempt.url()));
        if attempt.previous().len() >= max {
            attempt.error("too many redirects")
        } else if refused {
            tracing::warn!(message = "Redirect refused.", to = %attempt.url(), reason = refusal);
            attempt.error(refusal)
        } else {
            attempt.follow()
        }
    })
}

/// Whether a redirect of a user's feed from `first` (the URL subscribed to) to `next` is
/// followed: anywhere, except from a public host to a private or local one (a public feed that
/// redirects to 127.0.0.1 or a cloud metadata address is an attack on this machine). A feed
/// the user subscribed to at a private address may redirect within private space.
pub fn feed_redirect_allowed(first: &Url, next: &Url) -> bool {
    literal_private_host(first) || !literal_private_host(next)
}

fn literal_private_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => is_private(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => is_private(IpAddr::V6(ip)),
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost") || domain.ends_with(".localhost"),
        None => true,
    }
}

/// Resolves names, then drops private addresses; a name with only private addresses fails.
/// Checking at resolution time (not before) also defeats DNS rebinding between check and use.
struct PublicOnlyResolver;

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = resolved.into_iter().filter(|addr| !is_private(addr.ip())).collect();
            if public.is_empty() {
                return Err(format!("{host} resolves to a private or local address").into());
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
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

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use reqwest::header::HeaderValue;

    use super::*;

    fn headers(pairs: &[(reqwest::header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
    }

    #[test]
    fn absurd_server_times_are_capped_not_overflowed() {
        let year = now() + chrono::Duration::seconds(i64::try_from(MAX_SERVER_HORIZON_SECS).unwrap());
        for value in ["max-age=99999999999999", "max-age=99999999999999999999999999", "s-maxage=18446744073709551615"] {
            assert_eq!(fresh_until(&headers(&[(CACHE_CONTROL, value)]), now()), Some(year), "{value}");
        }
        let far = headers(&[(EXPIRES, "Fri, 31 Dec 9999 23:59:59 GMT")]);
        assert_eq!(fresh_until(&far, now()), Some(year));
        for value in ["4294967296", "99999999999999999999999999"] {
            assert_eq!(retry_after(&headers(&[(RETRY_AFTER, value)]), now()), Some(year), "{value}");
        }
        assert_eq!(retry_after(&headers(&[(RETRY_AFTER, "-5")]), now()), None);
        assert_eq!(fresh_until(&headers(&[(CACHE_CONTROL, "max-age=-5")]), now()), None);
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        assert_eq!(retry_after(&headers(&[(RETRY_AFTER, "120")]), now()), Some(now() + chrono::Duration::seconds(120)));
        let date = headers(&[(RETRY_AFTER, "Sat, 28 Nov 2026 13:00:00 GMT")]);
        assert_eq!(retry_after(&date, now()), Some(now() + chrono::Duration::hours(1)));
        assert_eq!(retry_after(&headers(&[(RETRY_AFTER, "soon")]), now()), None);
    }

    #[test]
    fn freshness_from_cache_control_or_expires() {
        let max_age = headers(&[(CACHE_CONTROL, "public, max-age=600")]);
        assert_eq!(fresh_until(&max_age, now()), Some(now() + chrono::Duration::minutes(10)));
        let no_cache = headers(&[(CACHE_CONTROL, "no-cache, max-age=600")]);
        assert_eq!(fresh_until(&no_cache, now()), None);
        let expires = headers(&[(EXPIRES, "Sat, 28 Nov 2026 12:30:00 GMT")]);
        assert_eq!(fresh_until(&expires, now()), Some(now() + chrono::Duration::minutes(30)));
        let past = headers(&[(EXPIRES, "Sat, 28 Nov 2026 11:00:00 GMT")]);
        assert_eq!(fresh_until(&past, now()), None);
    }

    #[test]
    fn private_addresses_are_recognised() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_private(private.parse().unwrap()), "{private}");
        }
        for private in [
            "198.18.0.1",
            "198.19.255.255",
            "192.0.0.8",
            "240.0.0.1",
            "255.255.255.255",
            "::127.0.0.1",
            "::10.0.0.1",
            "64:ff9b::10.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b:1::1",
            "2002:7f00:1::1",
            "2002:a9fe:a9fe::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "fec0::1",
        ] {
            assert!(is_private(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "64:ff9b::808:808", "2002:808:808::1"] {
            assert!(!is_private(public.parse().unwrap()), "{public}");
        }
        let url = |s: &str| Url::parse(s).unwrap();
        assert!(!feed_redirect_allowed(&url("https://news.example.org/feed"), &url("http://169.254.169.254/latest")));
        assert!(!feed_redirect_allowed(&url("https://news.example.org/feed"), &url("http://localhost:8080/")));
        assert!(feed_redirect_allowed(&url("https://news.example.org/feed"), &url("https://cdn.example.net/feed")));
        assert!(feed_redirect_allowed(&url("http://127.0.0.1:8080/feed"), &url("http://127.0.0.1:8080/moved")));
        assert!(literal_private_host(&Url::parse("http://localhost:8080/x").unwrap()));
        assert!(!literal_private_host(&Url::parse("https://example.org/x").unwrap()));
    }

    #[tokio::test]
    async fn names_that_resolve_to_private_addresses_are_refused_at_resolution() {
        // `localhost` resolves from the hosts file, no DNS server involved.
        let name: Name = "localhost".parse().unwrap();
        let refused = PublicOnlyResolver.resolve(name).await;
        assert!(refused.is_err_and(|e| e.to_string().contains("private or local")));
    }

    #[test]
    fn backoff_doubles_with_jitter_within_bounds() {
        for attempt in 0..4 {
            let full = Duration::from_millis(100) * 2u32.pow(attempt);
            let wait = backoff(Duration::from_millis(100), attempt);
            assert!(wait >= full / 2 && wait <= full, "{attempt}: {wait:?}");
        }
    }
}
