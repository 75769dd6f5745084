//! Being polite to every host: a limit on concurrent requests and a minimum delay between
//! requests per host, and robots.txt (with Crawl-delay) cached per host.
//!
//! # Architecture
//! One [`HostPool`] and one [`RobotsCache`] live inside a `Fetcher` and are shared by every
//! fetch of a run (feeds, article pages, fact-check pages), so the limits hold across them.
//! Both maps grow with the number of distinct hosts crawled, which a catalogue bounds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

/// `host:port` of a URL: the unit of politeness.
pub fn host_key(url: &Url) -> String {
    format!("{}:{}", url.host_str().unwrap_or_default(), url.port_or_known_default().unwrap_or(0))
}

#[derive(Debug)]
struct HostSlot {
    permits: Arc<Semaphore>,
    next_start: Mutex<Instant>,
}

/// Per-host concurrency and spacing.
#[derive(Debug)]
pub struct HostPool {
    per_host: usize,
    hosts: Mutex<HashMap<String, Arc<HostSlot>>>,
}

/// Held while a request to a host is in flight.
#[derive(Debug)]
pub struct HostPermit {
    // `None` only if the semaphore were closed, which this module never does.
    _permit: Option<OwnedSemaphorePermit>,
}

impl HostPool {
    /// At most `per_host` requests in flight to one host.
    pub fn new(per_host: usize) -> Self {
        Self { per_host: per_host.max(1), hosts: Mutex::new(HashMap::new()) }
    }

    /// Waits for a free slot on the host of `url`, then until at least `delay` has passed
    /// since the previous request to that host started.
    pub async fn acquire(&self, url: &Url, delay: Duration) -> HostPermit {
        let slot = {
            let mut hosts = self.hosts.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(hosts.entry(host_key(url)).or_insert_with(|| {
                Arc::new(HostSlot {
                    permits: Arc::new(Semaphore::new(self.per_host)),
                    next_start: Mutex::new(Instant::now()),
                })
            }))
        };
        let permit = Arc::clone(&slot.permits).acquire_owned().await.ok();
        let start = {
            let mut next = slot.next_start.lock().unwrap_or_else(PoisonError::into_inner);
            let start = (*next).max(Instant::now());
            *next = start + delay;
            start
        };
        tokio::time::sleep_until(start.into()).await;
        HostPermit { _permit: permit }
    }
}

/// What a host's robots.txt says for our user agent.
#[derive(Debug)]
pub enum RobotsRules {
    /// No usable robots.txt (missing, 4xx, unparseable): everything is allowed.
    AllowAll,
    /// robots.txt answered with a server error: RFC 9309 says to assume complete disallow
    /// (cached for a short while only, see [`RobotsCache::put_unreachable`]).
    Unreachable,
    /// Parsed rules.
    Rules(Box<texting_robots::Robot>),
}

impl RobotsRules {
    /// Whether `url` may be fetched.
    pub fn allowed(&self, url: &Url) -> bool {
        match self {
            RobotsRules::AllowAll => true,
            RobotsRules::Unreachable => false,
            RobotsRules::Rules(robot) => robot.allowed(url.as_str()),
        }
    }

    /// The Crawl-delay it asks for, if any.
    pub fn crawl_delay(&self) -> Option<Duration> {
        match self {
            RobotsRules::AllowAll | RobotsRules::Unreachable => None,
            RobotsRules::Rules(robot) => {
                robot.delay.filter(|d| d.is_finite() && *d > 0.0).map(|d| Duration::from_secs_f32(d.min(300.0)))
            }
        }
    }

    /// Parses a robots.txt body for `agent`; an unparseable one allows everything.
    pub fn parse(agent: &str, body: &[u8]) -> Self {
        texting_robots::Robot::new(agent, body)
            .map_or(RobotsRules::AllowAll, |robot| RobotsRules::Rules(Box::new(robot)))
    }
}

/// How long a robots.txt that answered with a server error keeps its host disallowed before
/// it is asked again.
pub const UNREACHABLE_ROBOTS_TTL: Duration = Duration::from_secs(3600);

/// robots.txt per host, kept for a while. One cache serves every run of a process (`watch`
/// shares it between its cycles), so a host's robots.txt is fetched once per `ttl`.
#[derive(Debug)]
pub struct RobotsCache {
    ttl: Duration,
    /// Per host: until when the entry holds, and the rules.
    entries: Mutex<HashMap<String, (Instant, Arc<RobotsRules>)>>,
}

impl RobotsCache {
    /// Entries are refetched after `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, entries: Mutex::new(HashMap::new()) }
    }

    /// The cached rules of the host of `url`, if fresh.
    pub fn get(&self, url: &Url) -> Option<Arc<RobotsRules>> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.get(&host_key(url)).filter(|(until, _)| Instant::now() < *until).map(|(_, rules)| Arc::clone(rules))
    }

    /// Remembers the rules of the host of `url` for the cache's `ttl`.
    pub fn put(&self, url: &Url, rules: RobotsRules) -> Arc<RobotsRules> {
        self.put_for(url, rules, self.ttl)
    }

    /// Remembers that the host's robots.txt answered with a server error, for
    /// [`UNREACHABLE_ROBOTS_TTL`] (or the cache's `ttl`, if shorter).
    pub fn put_unreachable(&self, url: &Url) -> Arc<RobotsRules> {
        self.put_for(url, RobotsRules::Unreachable, self.ttl.min(UNREACHABLE_ROBOTS_TTL))
    }

    fn put_for(&self, url: &Url, rules: RobotsRules, ttl: Duration) -> Arc<RobotsRules> {
        let rules = Arc::new(rules);
        let until = Instant::now().checked_add(ttl).unwrap_or_else(Instant::now);
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.insert(host_key(url), (until, Arc::clone(&rules)));
        rules
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robots_rules_and_crawl_delay() {
        let body = b"User-agent: *\nDisallow: /private/\nCrawl-delay: 2\n";
        let rules = RobotsRules::parse("infodemic", body);
        assert!(rules.allowed(&Url::parse("https://e.org/feed.xml").unwrap()));
        assert!(!rules.allowed(&Url::parse("https://e.org/private/feed.xml").unwrap()));
        assert_eq!(rules.crawl_delay(), Some(Duration::from_secs(2)));
        assert!(RobotsRules::parse("infodemic", b"\xff\xfe garbage").allowed(&Url::parse("https://e.org/x").unwrap()));
    }

    #[tokio::test(start_paused = true)]
    async fn requests_to_one_host_are_spaced_and_limited() {
        let pool = HostPool::new(1);
        let url = Url::parse("https://e.org/a").unwrap();
        let other = Url::parse("https://other.org/a").unwrap();
        let started = tokio::time::Instant::now();
        let first = pool.acquire(&url, Duration::from_secs(2)).await;
        drop(first);
        let _second = pool.acquire(&url, Duration::from_secs(2)).await;
        assert!(started.elapsed() >= Duration::from_secs(2), "same host waits for the delay");
        let before_other = tokio::time::Instant::now();
        let _third = pool.acquire(&other, Duration::from_secs(2)).await;
        assert!(before_other.elapsed() < Duration::from_millis(1), "other hosts do not wait");
    }
}
