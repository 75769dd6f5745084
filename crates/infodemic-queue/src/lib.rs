//! The work queues of a deployment across processes, in NATS JetStream: crawl jobs from a
//! scheduler to crawl workers, score jobs from crawl workers to score workers.
//!
//! # Architecture
//! - This is the only crate that names `async_nats`.
//! - One work-queue stream per kind of job (`INFODEMIC_CRAWL`, subject `infodemic.crawl`, and
//!   `INFODEMIC_SCORE`, subject `infodemic.score`, for the default name `infodemic`), each
//!   message a versioned JSON job ([`CrawlJobV1`]: a feed to poll; [`ScoreJobV1`]: stored
//!   items to score; [`CampaignJobV1`]: scored items worth a review, for the one process that
//!   groups campaigns). [`WorkQueue`] is any of these queues. A crawl job leaves the stream
//!   when a worker acknowledges it, which the worker does only after the items it fetched are
//!   committed: a worker that dies before that leaves its jobs unacknowledged, and JetStream
//!   hands them to another worker once `ack_wait` has passed (at-least-once delivery). The
//!   store's uniqueness makes a second crawl of the same feed store nothing twice.
//!   A score job is acknowledged once its items' scores are committed; scoring an item twice
//!   writes the same scores again, and a worker skips items the current model has scored.
//! - Every worker of a kind pulls from one durable consumer (`crawl-workers`,
//!   `score-workers`), so each job goes to one worker at a time. A worker busy longer than `ack_wait` says so ([`Delivery::in_progress`]),
//!   so a slow feed is not handed to a second worker.
//! - The scheduler publishes a feed once per due time: the message id is the feed and the time
//!   it became due, and JetStream drops a second publish of the same id within the duplicate
//!   window, so a scheduler that looks again (or two schedulers) do not pile up copies.
//! - A message that does not decode is terminated (never redelivered) and logged: one bad
//!   message must not loop through every worker forever.
#![deny(missing_docs)]

use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream, AckKind};
use futures::StreamExt;
use serde::Serialize;

mod jobs;

pub use jobs::{CampaignJobV1, CrawlJobV1, Job, ScoreJobV1, SCORE_JOB_ITEMS};

/// The queue of campaign jobs.
pub type CampaignQueue = WorkQueue<CampaignJobV1>;

/// The queue of crawl jobs.
pub type CrawlQueue = WorkQueue<CrawlJobV1>;

/// The queue of score jobs.
pub type ScoreQueue = WorkQueue<ScoreJobV1>;

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
    /// The deployment's name: streams `<NAME>_CRAWL` and `<NAME>_SCORE`, subjects
    /// `<name>.crawl` and `<name>.score`. Deployments
    /// with different names share a server without sharing jobs. Letters, digits, `-`, `_`.
    pub name: String,
    /// How long a job may stay unacknowledged (with no progress signal) before it goes to
    /// another worker. The consumer is shared: `Some` sets it for every worker, `None` keeps
    /// what it is ([`DEFAULT_ACK_WAIT`] for a new queue).
    pub ack_wait: Option<Duration>,
    /// How long the server remembers a message id, to drop a second publish of the same job.
    pub duplicate_window: Duration,
    /// A PEM file of the CA that signed the server's certificate, trusted beside the system's
    /// roots (a `tls://` server with a private CA).
    pub root_ca: Option<std::path::PathBuf>,
    /// How this process proves who it is, beside what the URL carries (`user:password@`,
    /// a token).
    pub auth: QueueAuth,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            name: "infodemic".to_owned(),
            ack_wait: None,
            duplicate_window: Duration::from_secs(3600),
            root_ca: None,
            auth: QueueAuth::Url,
        }
    }
}

/// A NATS server's ways to authenticate a client that live in files (secrets stay off the
/// command line and out of the URL).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueueAuth {
    /// Only what the URL carries, if anything.
    Url,
    /// A credentials file (a user JWT and its NKey seed, as `nsc` writes them): servers in
    /// operator mode (decentralised auth, Synadia Cloud).
    Credentials(std::path::PathBuf),
    /// A file holding a user's NKey seed (`SU...`, an `.nk` file): servers whose
    /// configuration lists the user's public NKey.
    NkeySeed(std::path::PathBuf),
}

/// The longest seed file read: a seed is 58 characters, a file is a few lines at most.
const MAX_SEED_FILE: u64 = 4096;

impl QueueAuth {
    /// `options` with these credentials.
    async fn apply(&self, options: async_nats::ConnectOptions, url: &str) -> Result<async_nats::ConnectOptions> {
        let refused = |message: String| QueueError::Connect { url: url.to_owned(), message };
        match self {
            QueueAuth::Url => Ok(options),
            QueueAuth::Credentials(path) => options
                .credentials_file(path)
                .await
                .map_err(|e| refused(format!("the credentials file {} cannot be used: {e}", path.display()))),
            QueueAuth::NkeySeed(path) => {
                let seed = read_seed(path).map_err(refused)?;
                Ok(options.nkey(seed))
            }
        }
    }
}

/// The user seed in `path`: the one line that is one (an `.nk` file may hold comments too).
fn read_seed(path: &std::path::Path) -> std::result::Result<String, String> {
    use std::io::Read;
    let shown = path.display();
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read the NKey seed file {shown}: {e}"))?;
    let mut text = String::new();
    file.take(MAX_SEED_FILE)
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read the NKey seed file {shown}: {e}"))?;
    // A user seed: `SU` and 56 more base32 characters (nkeys checks the rest at connect).
    let is_seed = |line: &&str| {
        line.len() == 58 && line.starts_with("SU") && line.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    };
    let mut seeds = text.lines().map(str::trim).filter(is_seed);
    match (seeds.next(), seeds.next()) {
        (Some(seed), None) => Ok(seed.to_owned()),
        (None, _) => {
            Err(format!("the NKey seed file {shown} holds no user seed (a line of 58 characters starting SU)"))
        }
        (Some(_), Some(_)) => Err(format!("the NKey seed file {shown} holds more than one user seed")),
    }
}

impl QueueConfig {
    fn stream(&self, kind: &str) -> String {
        format!("{}_{}", self.name.to_uppercase(), kind.to_uppercase())
    }

    fn subject(&self, kind: &str) -> String {
        format!("{}.{kind}", self.name)
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

/// A work queue of jobs of one kind ([`CrawlQueue`], [`ScoreQueue`]).
pub struct WorkQueue<J> {
    jetstream: jetstream::Context,
    subject: String,
    ack_wait: Duration,
    consumer: consumer::PullConsumer,
    shown_url: String,
    job: std::marker::PhantomData<fn() -> J>,
}

impl<J> Clone for WorkQueue<J> {
    fn clone(&self) -> Self {
        Self {
            jetstream: self.jetstream.clone(),
            subject: self.subject.clone(),
            ack_wait: self.ack_wait,
            consumer: self.consumer.clone(),
            shown_url: self.shown_url.clone(),
            job: std::marker::PhantomData,
        }
    }
}

impl<J: Job> std::fmt::Debug for WorkQueue<J> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkQueue").field("kind", &J::KIND).field("url", &self.shown_url).finish_non_exhaustive()
    }
}

impl<J: Job> WorkQueue<J> {
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
        let mut options = async_nats::ConnectOptions::new().connection_timeout(CONNECT_TIMEOUT).name("infodemic");
        // `tls://` requires TLS (the server's certificate verified); `nats://` takes what the
        // server offers.
        if url.starts_with("tls://") {
            options = options.require_tls(true);
        }
        if let Some(ca) = &config.root_ca {
            if !ca.is_file() {
                return Err(QueueError::Connect {
                    url: shown_url,
                    message: format!("the CA file {} is not there", ca.display()),
                });
            }
            options = options.add_root_certificates(ca.clone());
        }
        let options = config.auth.apply(options, &shown_url).await?;
        let client = options
            .connect(url)
            .await
            .map_err(|e| QueueError::Connect { url: shown_url.clone(), message: e.to_string() })?;
        let jetstream = jetstream::new(client);
        let setup = |e: &dyn std::fmt::Display| QueueError::Setup { url: shown_url.clone(), message: e.to_string() };
        let stream = jetstream
            .get_or_create_stream(stream::Config {
                name: config.stream(J::KIND),
                subjects: vec![config.subject(J::KIND)],
                retention: stream::RetentionPolicy::WorkQueue,
                storage: stream::StorageType::File,
                duplicate_window: config.duplicate_window,
                ..stream::Config::default()
            })
            .await
            .map_err(|e| setup(&e))?;
        let consumer_name = format!("{}-workers", J::KIND);
        let wanted = consumer::pull::Config {
            durable_name: Some(consumer_name.clone()),
            ack_policy: consumer::AckPolicy::Explicit,
            ack_wait: config.ack_wait.unwrap_or(DEFAULT_ACK_WAIT),
            ..consumer::pull::Config::default()
        };
        let mut consumer: consumer::PullConsumer =
            stream.get_or_create_consumer(&consumer_name, wanted.clone()).await.map_err(|e| setup(&e))?;
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
        Ok(Self {
            jetstream,
            subject: config.subject(J::KIND),
            ack_wait,
            consumer,
            shown_url,
            job: std::marker::PhantomData,
        })
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

    /// Publishes `job` under `message_id`. Returns false when a job with the same id was
    /// published already within the duplicate window (the server keeps one).
    ///
    /// # Errors
    /// [`QueueError::Transfer`] when the server does not confirm the job.
    async fn publish(&self, job: &J, message_id: String) -> Result<bool> {
        let payload = serde_json::to_vec(job).map_err(|e| QueueError::Transfer(e.to_string()))?;
        let publish = jetstream::message::PublishMessage::build().payload(payload.into()).message_id(message_id);
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
    pub async fn take(&self, max: usize, wait: Duration) -> Result<Vec<Delivery<J>>> {
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
            match serde_json::from_slice::<J>(&message.payload) {
                Ok(job) if job.version() == J::VERSION => out.push(Delivery { job, attempt, message }),
                decoded => {
                    let reason = match decoded {
                        Ok(job) => format!("unknown {} job version {}", J::KIND, job.version()),
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

/// A job handed to this worker; acknowledge it once what it asked for is committed.
#[derive(Debug)]
pub struct Delivery<J> {
    /// The job.
    pub job: J,
    /// How many times it has been handed out (1 the first time).
    pub attempt: i64,
    message: jetstream::Message,
}

impl<J> Delivery<J> {
    /// The job is done: it leaves the queue.
    ///
    /// # Errors
    /// [`QueueError::Transfer`]; the job is then handed out again after `ack_wait`, and doing
    /// it again stores nothing twice.
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
    fn a_seed_file_gives_its_one_seed_line_and_is_read_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let seed = "SUACH75SWCM5D2JMJM6EKLR2WDARVGZT4QC6LX3AGHSWOMVAKERABBBRWM";
        let commented = dir.path().join("user.nk");
        std::fs::write(&commented, format!("# the newsroom's worker\r\n  {seed}  \r\n")).unwrap();
        assert_eq!(read_seed(&commented).unwrap(), seed);
        // A seed beyond the bound is not read: the file is not one of ours.
        let huge = dir.path().join("huge.nk");
        std::fs::write(&huge, format!("{}\n{seed}\n", "#".repeat(8192))).unwrap();
        assert!(read_seed(&huge).unwrap_err().contains("no user seed"));
        let lowercase = dir.path().join("lower.nk");
        std::fs::write(&lowercase, seed.to_lowercase()).unwrap();
        assert!(read_seed(&lowercase).is_err());
    }

    #[test]
    fn names_are_checked_before_they_reach_the_server() {
        assert!(QueueConfig::check_name("infodemic").is_ok());
        assert!(QueueConfig::check_name("news-room_2").is_ok());
        for bad in ["", "a.b", "a b", "a*", "a>", &"x".repeat(65)] {
            assert!(QueueConfig::check_name(bad).is_err(), "{bad}");
        }
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
