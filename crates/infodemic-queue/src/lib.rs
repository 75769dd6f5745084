//! The work queue between a scheduler and crawl workers, in NATS JetStream.
//!
//! # Architecture
//! - This is the only crate that names `async_nats`.
//! - One work-queue stream (`INFODEMIC_CRAWL`, subject `infodemic.crawl`, for the default
//!   name `infodemic`) holds crawl jobs: a
//!   feed to poll, as a versioned JSON message ([`CrawlJobV1`]). A message leaves the stream
//!   when a worker acknowledges it, which the worker does only after the items it fetched are
//!   committed: a worker that dies before that leaves its jobs unacknowledged, and JetStream
//!   hands them to another worker once `ack_wait` has passed (at-least-once delivery). The
//!   store's uniqueness makes a second crawl of the same feed store nothing twice.
//! - Every worker pulls from one durable consumer (`crawl-workers`), so each job goes to one
//!   worker at a time. A worker busy longer than `ack_wait` says so ([`Delivery::in_progress`]),
//!   so a slow feed is not handed to a second worker.
//! - The scheduler publishes a feed once per due time: the message id is the feed and the time
//!   it became due, and JetStream drops a second publish of the same id within the duplicate
//!   window, so a scheduler that looks again (or two schedulers) do not pile up copies.
//! - A message that does not decode is terminated (never redelivered) and logged: one bad
//!   message must not loop through every worker forever.
#![deny(missing_docs)]

use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream, AckKind};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use infodemic_core::FeedSpec;
use serde::{Deserialize, Serialize};

/// The durable consumer every crawl worker pulls from.
pub const CONSUMER: &str = "crawl-workers";

/// How long a job may stay unacknowledged in a new queue.
pub const DEFAULT_ACK_WAIT: Duration = Duration::from_secs(60);

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the queue could not do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueueError {
    /// The server could not be reached.
    #[error("cannot connect to NATS at {url}: {message}")]
    Connect {
        /// The server's URL, without credentials.
        url: String,
        /// Why.
        message: String,
    },
    /// The stream or consumer could not be created or read (JetStream off, limits, rights).
    #[error("JetStream at {url}: {message}")]
    Setup {
        /// The server's URL, without credentials.
        url: String,
        /// Why.
        message: String,
    },
    /// Publishing, pulling or acknowledging failed.
    #[error("NATS: {0}")]
    Transfer(String),
}

/// Result type of this crate.
pub type Result<T, E = QueueError> = std::result::Result<T, E>;

/// Knobs of the queue.
#[derive(Clone, Debug)]
pub struct QueueConfig {
    /// The deployment's name: stream `<NAME>_CRAWL`, subject `<name>.crawl`. Deployments
    /// with different names share a server without sharing jobs. Letters, digits, `-`, `_`.
    pub name: String,
    /// How long a job may stay unacknowledged (with no progress signal) before it goes to
    /// another worker. The consumer is shared: `Some` sets it for every worker, `None` keeps
    /// what it is ([`DEFAULT_ACK_WAIT`] for a new queue).
    pub ack_wait: Option<Duration>,
    /// How long the server remembers a message id, to drop a second publish of the same job.
    pub duplicate_window: Duration,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self { name: "infodemic".to_owned(), ack_wait: None, duplicate_window: Duration::from_secs(3600) }
    }
}

impl QueueConfig {
    fn stream(&self) -> String {
        format!("{}_CRAWL", self.name.to_uppercase())
    }

    fn subject(&self) -> String {
        format!("{}.crawl", self.name)
    }

    /// Whether the name can name a stream and a subject.
    ///
    /// # Errors
    /// A message saying what is wrong with it.
    pub fn check_name(name: &str) -> std::result::Result<(), String> {
        let good = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if name.is_empty() || name.len() > 64 || !name.chars().all(good) {
            return Err(format!("queue name `{name}`: use 1 to 64 letters, digits, `-` or `_`"));
        }
        Ok(())
    }
}

/// A crawl job as it travels: version 1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CrawlJobV1 {
    /// Always 1.
    pub v: u8,
    /// The feed to poll.
    pub feed: FeedSpec,
    /// When it became due (`None`: never polled).
    pub due: Option<DateTime<Utc>>,
}

/// Jobs not yet done.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Backlog {
    /// Published, not yet handed to a worker.
    pub waiting: u64,
    /// Handed to a worker, not yet acknowledged (in progress, or held by a worker that died,
    /// until `ack_wait` passes).
    pub unacknowledged: usize,
}

impl Backlog {
    /// Whether every job published has been acknowledged.
    pub fn is_empty(&self) -> bool {
        self.waiting == 0 && self.unacknowledged == 0
    }
}

/// The crawl queue.
#[derive(Clone)]
pub struct CrawlQueue {
    jetstream: jetstream::Context,
    subject: String,
    ack_wait: Duration,
    consumer: consumer::PullConsumer,
    shown_url: String,
}

impl std::fmt::Debug for CrawlQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrawlQueue").field("url", &self.shown_url).finish_non_exhaustive()
    }
}

impl CrawlQueue {
    /// Connects to the server at `url` (`nats://host:port`), and creates the stream and the
    /// workers' consumer when they do not exist.
    ///
    /// # Errors
    /// [`QueueError::Connect`] when the server cannot be reached, [`QueueError::Setup`] when
    /// JetStream refuses (not enabled, an existing stream with other settings).
    pub async fn connect(url: &str, config: &QueueConfig) -> Result<Self> {
        let shown_url = redact(url);
        QueueConfig::check_name(&config.name)
            .map_err(|message| QueueError::Setup { url: shown_url.clone(), message })?;
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(CONNECT_TIMEOUT)
            .name("infodemic")
            .connect(url)
            .await
            .map_err(|e| QueueError::Connect { url: shown_url.clone(), message: e.to_string() })?;
        let jetstream = jetstream::new(client);
        let setup = |e: &dyn std::fmt::Display| QueueError::Setup { url: shown_url.clone(), message: e.to_string() };
        let stream = jetstream
            .get_or_create_stream(stream::Config {
                name: config.stream(),
                subjects: vec![config.subject()],
                retention: stream::RetentionPolicy::WorkQueue,
                storage: stream::StorageType::File,
                duplicate_window: config.duplicate_window,
                ..stream::Config::default()
            })
            .await
            .map_err(|e| setup(&e))?;
        let wanted = consumer::pull::Config {
            durable_name: Some(CONSUMER.to_owned()),
            ack_policy: consumer::AckPolicy::Explicit,
            ack_wait: config.ack_wait.unwrap_or(DEFAULT_ACK_WAIT),
            ..consumer::pull::Config::default()
        };
        let mut consumer: consumer::PullConsumer =
            stream.get_or_create_consumer(CONSUMER, wanted.clone()).await.map_err(|e| setup(&e))?;
        // The consumer is shared and outlives processes: a process that asks for another ack
        // wait changes it for every worker.
        if let Some(ack_wait) = config.ack_wait {
            let current = consumer.info().await.map_err(|e| setup(&e))?.config.ack_wait;
            if current != ack_wait {
                tracing::info!(message = "The queue's ack wait changed.", from = ?current, to = ?ack_wait);
                consumer = stream.update_consumer(wanted).await.map_err(|e| setup(&e))?;
            }
        }
        let ack_wait = consumer.cached_info().config.ack_wait;
        Ok(Self { jetstream, subject: config.subject(), ack_wait, consumer, shown_url })
    }

    /// How long a job may stay unacknowledged before it goes to another worker: a worker
    /// busy with a job says so well within it ([`Delivery::in_progress`]).
    pub fn ack_wait(&self) -> Duration {
        self.ack_wait
    }

    /// The server's URL, without credentials.
    pub fn shown_url(&self) -> &str {
        &self.shown_url
    }

    /// Publishes a job for `feed`, due since `due`. Returns false when the same job (feed and
    /// due time) was published already within the duplicate window.
    ///
    /// # Errors
    /// [`QueueError::Transfer`] when the server does not confirm the job.
    pub async fn enqueue(&self, feed: &FeedSpec, due: Option<DateTime<Utc>>) -> Result<bool> {
        let job = CrawlJobV1 { v: 1, feed: feed.clone(), due };
        let payload = serde_json::to_vec(&job).map_err(|e| QueueError::Transfer(e.to_string()))?;
        let id = match due {
            Some(due) => format!("{}@{}", feed.id, due.timestamp_micros()),
            None => format!("{}@new", feed.id),
        };
        let publish = jetstream::message::PublishMessage::build().payload(payload.into()).message_id(id);
        let ack = self
            .jetstream
            .send_publish(self.subject.clone(), publish)
            .await
            .map_err(|e| QueueError::Transfer(e.to_string()))?
            .await
            .map_err(|e| QueueError::Transfer(e.to_string()))?;
        Ok(!ack.duplicate)
    }

    /// Takes up to `max` jobs, waiting up to `wait` for the first. Messages that do not decode
    /// are terminated and left out.
    ///
    /// # Errors
    /// [`QueueError::Transfer`] when pulling fails.
    pub async fn take(&self, max: usize, wait: Duration) -> Result<Vec<Delivery>> {
        let mut batch = self
            .consumer
            .fetch()
            .max_messages(max.max(1))
            .expires(wait)
            .messages()
            .await
            .map_err(|e| QueueError::Transfer(e.to_string()))?;
        let mut out = Vec::new();
        while let Some(message) = batch.next().await {
            let message = message.map_err(|e| QueueError::Transfer(e.to_string()))?;
            let attempt = message.info().map(|info| info.delivered).unwrap_or(1);
            match serde_json::from_slice::<CrawlJobV1>(&message.payload) {
                Ok(job) if job.v == 1 => out.push(Delivery { job, attempt, message }),
                decoded => {
                    let reason = match decoded {
                        Ok(job) => format!("unknown job version {}", job.v),
                        Err(error) => error.to_string(),
                    };
                    tracing::error!(message = "A queued job cannot be read; it is dropped.", reason);
                    message.ack_with(AckKind::Term).await.map_err(|e| QueueError::Transfer(e.to_string()))?;
                }
            }
        }
        Ok(out)
    }

    /// How many jobs are waiting or unacknowledged.
    ///
    /// # Errors
    /// [`QueueError::Transfer`] when the server does not answer.
    pub async fn backlog(&self) -> Result<Backlog> {
        let mut consumer = self.consumer.clone();
        let info = consumer.info().await.map_err(|e| QueueError::Transfer(e.to_string()))?;
        Ok(Backlog { waiting: info.num_pending, unacknowledged: info.num_ack_pending })
    }
}

/// A job handed to this worker; acknowledge it once its items are committed.
#[derive(Debug)]
pub struct Delivery {
    /// The job.
    pub job: CrawlJobV1,
    /// How many times it has been handed out (1 the first time).
    pub attempt: i64,
    message: jetstream::Message,
}

impl Delivery {
    /// The job is done: it leaves the queue.
    ///
    /// # Errors
    /// [`QueueError::Transfer`]; the job is then handed out again after `ack_wait`, and the
    /// second crawl stores nothing twice.
    pub async fn ack(&self) -> Result<()> {
        // Confirmed by the server: an acknowledgement lost on the way would hand the job out
        // again, harmless but wasted.
        self.message.double_ack().await.map_err(|e| QueueError::Transfer(e.to_string()))
    }

    /// The job could not be done now: hand it out again after `delay`.
    ///
    /// # Errors
    /// [`QueueError::Transfer`]; the job is then handed out again after `ack_wait`.
    pub async fn retry_later(&self, delay: Duration) -> Result<()> {
        self.message.ack_with(AckKind::Nak(Some(delay))).await.map_err(|e| QueueError::Transfer(e.to_string()))
    }

    /// Still working on it: `ack_wait` starts again.
    ///
    /// # Errors
    /// [`QueueError::Transfer`].
    pub async fn in_progress(&self) -> Result<()> {
        self.message.ack_with(AckKind::Progress).await.map_err(|e| QueueError::Transfer(e.to_string()))
    }
}

/// `url` without credentials.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    match rest.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_not_shown() {
        assert_eq!(redact("nats://ann:s3cret@queue.local:4222"), "nats://queue.local:4222");
        assert_eq!(redact("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
    }

    #[test]
    fn names_are_checked_before_they_reach_the_server() {
        assert!(QueueConfig::check_name("infodemic").is_ok());
        assert!(QueueConfig::check_name("news-room_2").is_ok());
        for bad in ["", "a.b", "a b", "a*", "a>", &"x".repeat(65)] {
            assert!(QueueConfig::check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn jobs_round_trip_and_keep_their_version() {
        let feed = FeedSpec::from_url(url::Url::parse("https://example.org/feed.xml").unwrap());
        let job = CrawlJobV1 { v: 1, feed, due: None };
        let text = serde_json::to_string(&job).unwrap();
        assert!(text.starts_with(r#"{"v":1,"#), "{text}");
        assert_eq!(serde_json::from_str::<CrawlJobV1>(&text).unwrap(), job);
    }

    #[tokio::test]
    async fn an_unreachable_server_is_a_connect_error_naming_it() {
        // Port 1 on loopback: refused at once, no DNS.
        let error = CrawlQueue::connect("nats://ann:s3cret@127.0.0.1:1", &QueueConfig::default()).await.unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, QueueError::Connect { .. }), "{message}");
        assert!(message.contains("127.0.0.1:1") && !message.contains("s3cret"), "{message}");
    }
}
