//! The store in PostgreSQL: for more items, writers and readers than one machine's sled
//! directory serves (several crawl workers, replicas for reading).
//!
//! # Architecture
//! - This is the only crate that names `postgres`. It implements the store traits of
//!   `infodemic-store` ([`ItemReader`], [`IngestStore`]), so the ingest pipeline and the
//!   reading commands run on it unchanged.
//! - Values are the same versioned records as in sled ([`infodemic_store::records`]); the
//!   columns beside them (time, source, scores, flags, words) exist to be filtered and sorted
//!   on. A record format change is a record version, not a table migration.
//! - `items` is partitioned by day (the item's publication, else fetch, day, UTC): recent days
//!   a partition each, which retention drops, other days in blocks, so their number is
//!   bounded (`partitions.rs`); time-bounded queries read only their partitions. Uniqueness of URL
//!   and content cannot be a constraint of a partitioned table (it would have to include the
//!   day), so `item_keys`, unpartitioned, holds it: an insert there that conflicts is a
//!   duplicate, whichever process wrote the first copy.
//! - A commit is one transaction: the batch's items, its feeds' states, its appearances and
//!   the counters `stats` reads. Concurrent writers are safe: uniqueness is the database's,
//!   counters are row updates in key order, and partitions are created under an advisory lock.
//! - `infodemic_meta.schema_version` is checked at open; the schema is created when absent.
//! - Calls take a connection from a pool (r2d2), so threads of one process query at once;
//!   the campaign lock lives on a session of its own (`campaigns.rs`).
#![deny(missing_docs)]

mod campaigns;
mod partitions;
mod query;
mod reviews;
mod schema;
mod scoring;
mod tls;
mod trees;
mod verify;
mod words;

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use infodemic_core::{Appearance, ContentHash, FeedState, ItemId, ItemQuery, ScoredItem};
use infodemic_store::{
    keys, records, stats_from_counts, CommitReport, CountDelta, IngestStore, ItemReader, StoreError, StoreStats,
};
use postgres::{Client, NoTls, Statement};

pub use schema::SCHEMA_VERSION;

type Result<T, E = StoreError> = std::result::Result<T, E>;

/// How long connecting may take when the URL does not say (`connect_timeout`).
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How often a commit is tried when the server aborts it for a conflict with another writer
/// (deadlock, serialisation failure) or a partition dropped meanwhile.
const COMMIT_ATTEMPTS: usize = 3;

/// Whether `location` names a PostgreSQL database rather than a directory.
pub fn is_postgres_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

/// The lookups dedupe makes for every new item, prepared once per connection: a statement
/// prepared at each call costs a second round trip.
struct Lookups {
    id_for_url: Statement,
    id_for_content: Statement,
    day_of: Statement,
    record: Statement,
}

impl Lookups {
    fn prepare(client: &mut Client) -> Result<Self> {
        Ok(Self {
            id_for_url: client.prepare("SELECT id FROM item_keys WHERE canonical_url = $1").map_err(db)?,
            id_for_content: client.prepare("SELECT id FROM item_keys WHERE content_hash = $1").map_err(db)?,
            day_of: client.prepare("SELECT day FROM item_keys WHERE id = $1").map_err(db)?,
            record: client.prepare("SELECT record FROM items WHERE day = $1 AND id = $2").map_err(db)?,
        })
    }
}

/// The connection and what was prepared on it.
struct Connection {
    client: Client,
    lookups: Lookups,
    /// When it last came back to the pool (see [`Manager::is_valid`]).
    returned: std::time::Instant,
}

impl Connection {
    /// Whether the server closed this connection: asked after a call failed (one round trip),
    /// to tell a lost connection from a refused statement.
    fn lost(&mut self) -> bool {
        self.client.is_closed() || self.client.batch_execute("").is_err()
    }
}

impl std::ops::Deref for Connection {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl std::ops::DerefMut for Connection {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.client
    }
}

/// What connecting takes: the parsed URL and, for `sslmode=require`, the TLS connector.
struct Connector {
    config: postgres::Config,
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    /// `sslrootcert` was given (for the hint when a certificate is refused).
    private_ca: bool,
}

impl Connector {
    /// A new session, set up as every session of the store is.
    fn connect(&self) -> std::result::Result<Client, String> {
        let connected = match &self.tls {
            Some(tls) => self.config.connect(tls.clone()),
            None => self.config.connect(NoTls),
        };
        let mut client = connected.map_err(|e| {
            let mut message = message_of(&e);
            if self.tls.is_some() && !self.private_ca && message.contains("certificate") {
                message
                    .push_str(" (a server whose certificate a private CA signed: add sslrootcert=CA.pem to the URL)");
            }
            message
        })?;
        // `CREATE ... IF NOT EXISTS` of what exists is the normal case here, not news.
        client.batch_execute("SET client_min_messages = warning").map_err(|e| message_of(&e))?;
        Ok(client)
    }
}

/// Why the pool has no connection to give.
#[derive(Debug)]
struct ConnectError(String);

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConnectError {}

/// Makes the pool's connections, each with the lookups prepared on it.
struct Manager(std::sync::Arc<Connector>);

impl r2d2::ManageConnection for Manager {
    type Connection = Connection;
    type Error = ConnectError;

    fn connect(&self) -> std::result::Result<Connection, ConnectError> {
        let mut client = self.0.connect().map_err(ConnectError)?;
        let lookups = Lookups::prepare(&mut client).map_err(|e| ConnectError(e.to_string()))?;
        Ok(Connection { client, lookups, returned: std::time::Instant::now() })
    }

    /// Asked at each checkout. A connection idle for a while may have been closed by the
    /// server (a restart, a failover, an idle timeout) without the client knowing: it is asked
    /// (one round trip) and replaced if it does not answer, so the call that follows does not
    /// fail. One in use a moment ago is taken as it is: the common case costs nothing.
    fn is_valid(&self, connection: &mut Connection) -> std::result::Result<(), ConnectError> {
        if connection.returned.elapsed() < TRUSTED_FOR && !connection.client.is_closed() {
            return Ok(());
        }
        connection.client.batch_execute("").map_err(|e| ConnectError(message_of(&e)))
    }

    /// Asked when a connection comes back to the pool: one the server closed is dropped.
    fn has_broken(&self, connection: &mut Connection) -> bool {
        connection.returned = std::time::Instant::now();
        connection.client.is_closed()
    }
}

/// How long after its last use a connection is taken from the pool without being asked
/// whether the server still has it.
const TRUSTED_FOR: Duration = Duration::from_secs(1);

/// Connections one store keeps at most: enough for a `watch`'s local API to answer while its
/// crawl commits, few enough that many workers stay well under the server's
/// `max_connections` (100 by default). The campaign lock's session is one more.
const POOL_SIZE: u32 = 4;

/// How long a call waits for a connection of the pool (all in use, or the server down).
const POOL_WAIT: Duration = Duration::from_secs(30);

/// The store's database: a pool of connections (up to [`POOL_SIZE`], opened as needed), and
/// the session that holds the campaign lock once this process takes it. Cheap to clone (the
/// pool is shared); calls from several threads run at once.
#[derive(Clone)]
pub struct PgStore {
    pool: r2d2::Pool<Manager>,
    /// The partitions known to exist: the common case takes no lock.
    partitions: std::sync::Arc<Mutex<partitions::Partitions>>,
    /// How to open the campaign lock's session.
    connector: std::sync::Arc<Connector>,
    /// The session holding the campaign lock, while this process holds it; campaigns are
    /// committed on it (see `campaigns.rs`).
    lock_session: std::sync::Arc<Mutex<Option<Client>>>,
    /// The URL without its password, for messages.
    shown_url: String,
    /// This process holds the campaign lock (see `campaigns.rs`).
    campaign_writer: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").field("url", &self.shown_url).finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to `url` (`postgres://user[:password]@host[:port]/database[?options]`),
    /// creates the schema in the connection's `search_path` when absent, and checks its
    /// version.
    ///
    /// Runs blocking network I/O: call it off the async runtime.
    ///
    /// # Errors
    /// [`StoreError::Open`] when the URL is malformed or the server cannot be reached,
    /// [`StoreError::SchemaTooNew`] for a schema from a newer infodemic, [`StoreError::Database`]
    /// when the server refuses.
    pub fn connect(url: &str) -> Result<Self> {
        let shown_url = redact(url);
        let open_error = |message: String| StoreError::Open { path: shown_url.clone().into(), message };
        let (url, root_cert) = tls::split_root_cert(url);
        let mut config: postgres::Config = url.parse().map_err(|e: postgres::Error| open_error(e.to_string()))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("infodemic");
        }
        // TLS when the URL asks for it (`sslmode=require`); otherwise plain TCP, as `prefer`
        // without a verified certificate would be no better.
        let tls = if config.get_ssl_mode() == postgres::config::SslMode::Require {
            Some(tls::connector(root_cert.as_deref()).map_err(&open_error)?)
        } else {
            None
        };
        let connector = std::sync::Arc::new(Connector { config, tls, private_ca: root_cert.is_some() });
        // The first session says whether the server is there (with the error as it gave it),
        // and sets up the schema before any other session uses it.
        let mut client = connector.connect().map_err(open_error)?;
        schema::ensure(&mut client)?;
        let partitions = schema::partitions(&mut client).map_err(db)?;
        drop(client);
        // Connections open as calls need them; a broken one is replaced when it comes back.
        let pool = r2d2::Pool::builder()
            .max_size(POOL_SIZE)
            .min_idle(Some(0))
            .connection_timeout(POOL_WAIT)
            .test_on_check_out(true)
            .build_unchecked(Manager(std::sync::Arc::clone(&connector)));
        tracing::debug!(message = "PostgreSQL store opened.", url = %shown_url, partitions = partitions.len());
        Ok(Self {
            pool,
            connector,
            lock_session: std::sync::Arc::default(),
            partitions: std::sync::Arc::new(Mutex::new(partitions)),
            shown_url,
            campaign_writer: std::sync::Arc::default(),
        })
    }

    /// The URL connected to, without its password.
    pub fn shown_url(&self) -> &str {
        &self.shown_url
    }

    /// Whether the connection is encrypted, as the server sees it.
    ///
    /// # Errors
    /// Database failures.
    pub fn encrypted(&self) -> Result<bool> {
        self.on_connection(|connection| {
            let row = connection
                .query_one("SELECT coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)", &[])
                .map_err(db)?;
            row.try_get(0).map_err(db)
        })
    }

    /// A connection of the pool, back in the pool when dropped. A panic while it was held
    /// leaves at worst an open transaction, which the server rolls back when the next
    /// statement finds it aborted or the client drops it. One the server closed is replaced
    /// (see [`Manager::is_valid`]).
    ///
    /// # Errors
    /// [`StoreError::Database`] when no connection frees up or opens within [`POOL_WAIT`].
    fn client(&self) -> Result<r2d2::PooledConnection<Manager>> {
        self.pool.get().map_err(|e| StoreError::Database(format!("no connection to {}: {e}", self.shown_url)))
    }

    /// Runs `call` on a connection of the pool; when it fails because the server had closed
    /// that connection, again on another. A connection used within [`TRUSTED_FOR`] is not
    /// asked at checkout, so after a server restart each of those meets the call that uses it
    /// first: at most [`POOL_SIZE`] of them, each dropped when it comes back. Only for calls
    /// that can run twice: reads, and writes that change nothing the second time (whose
    /// count of rows written may then tell less than was written, the first time having
    /// written them).
    fn on_connection<T>(&self, mut call: impl FnMut(&mut Connection) -> Result<T>) -> Result<T> {
        self.on_connection_until_commit(|connection, _| call(connection))
    }

    /// [`Self::on_connection`] for a transaction that is not safe to repeat once its COMMIT
    /// was sent (the server may have committed it before the connection went): `call` sets
    /// the flag it is given just before it commits, and a failure after that is not retried.
    fn on_connection_until_commit<T>(
        &self,
        mut call: impl FnMut(&mut Connection, &mut bool) -> Result<T>,
    ) -> Result<T> {
        let mut lost = 0;
        loop {
            let mut connection = self.client()?;
            let mut committing = false;
            match call(&mut connection, &mut committing) {
                Err(error) if !committing && lost < POOL_SIZE && connection.lost() => {
                    lost += 1;
                    tracing::debug!(message = "The server had closed a connection; the call runs again on another.", %error);
                }
                done => return done,
            }
        }
    }

    fn known_partitions(&self) -> MutexGuard<'_, partitions::Partitions> {
        self.partitions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn try_commit(
        &self,
        client: &mut Client,
        items: &[ScoredItem],
        feed_states: &[FeedState],
        appearances: &[Appearance],
    ) -> std::result::Result<(CommitReport, Option<partitions::Partitions>), postgres::Error> {
        let mut tx = client.transaction()?;
        let days: Vec<i32> = {
            let known = self.known_partitions();
            let mut days: Vec<i32> = items
                .iter()
                .map(|s| schema::day_of(s.item.effective_time()))
                .filter(|day| !known.covers(*day))
                .collect();
            days.sort_unstable();
            days.dedup();
            days
        };
        let created = if days.is_empty() { None } else { Some(schema::create_partitions(&mut tx, &days)?) };
        let mut report = CommitReport::default();
        let mut delta = CountDelta::default();
        if !items.is_empty() {
            let claim_key = tx.prepare(
                "INSERT INTO item_keys (id, day, canonical_url, content_hash) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO NOTHING",
            )?;
            let insert_item = tx.prepare(
                "INSERT INTO items (id, day, time, source, sort_score, shown_score, flagged, review, simhash, \
                 words, record) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, array_to_tsvector($10::text[]), $11)",
            )?;
            for scored in items {
                let item = &scored.item;
                let id = item.id.as_bytes().as_slice();
                let time = item.effective_time();
                let day = schema::day_of(time);
                let time = time.timestamp_micros();
                let claimed = tx.execute(
                    &claim_key,
                    &[&id, &day, &item.canonical_url.as_bytes(), &item.content_hash.0.as_slice()],
                )?;
                if claimed == 0 {
                    report.duplicates += 1;
                    continue;
                }
                let class = &scored.classification;
                // Bit for bit: PostgreSQL has no unsigned 64-bit integer.
                let simhash = item.simhash.map(|h| h as i64);
                let words = words::of_item(&item.title, &item.text);
                tx.execute(
                    &insert_item,
                    &[
                        &id,
                        &day,
                        &time,
                        &item.source.as_str(),
                        &keys::sort_score(scored),
                        &class.shown_score(),
                        &class.flagged,
                        &class.review,
                        &simhash,
                        &words,
                        &records::encode_item(scored),
                    ],
                )?;
                delta.add(scored, 1);
                report.inserted += 1;
            }
        }
        apply_counts(&mut tx, &delta)?;
        if !feed_states.is_empty() {
            let put_state = tx.prepare(
                "INSERT INTO feeds (source, record) VALUES ($1, $2) \
                 ON CONFLICT (source) DO UPDATE SET record = EXCLUDED.record",
            )?;
            for state in feed_states {
                tx.execute(&put_state, &[&state.source.as_str(), &records::encode_feed_state(state)])?;
            }
        }
        if !appearances.is_empty() {
            let put_appearance = tx.prepare(
                "INSERT INTO appearances (item, url_key, record) VALUES ($1, $2, $3) \
                 ON CONFLICT (item, url_key) DO UPDATE SET record = EXCLUDED.record",
            )?;
            for appearance in appearances {
                let key = keys::appearance(appearance.item, &appearance.url);
                let (item, url_key) = key.split_at(8);
                tx.execute(&put_appearance, &[&item, &url_key, &records::encode_appearance(appearance)])?;
            }
        }
        tx.commit()?;
        Ok((report, created))
    }
}

impl IngestStore for PgStore {
    fn readable_feed_states(&self) -> Result<(Vec<FeedState>, Vec<String>)> {
        let rows = self.on_connection(|connection| {
            connection.query("SELECT source, record FROM feeds ORDER BY source COLLATE \"C\"", &[]).map_err(db)
        })?;
        let mut states = Vec::new();
        let mut unreadable = Vec::new();
        for row in rows {
            let source: String = row.try_get(0).map_err(db)?;
            let record: Vec<u8> = row.try_get(1).map_err(db)?;
            match records::decode_feed_state(&record) {
                Ok(state) => states.push(state),
                Err(error) => unreadable.push(format!("{source}: {error}")),
            }
        }
        Ok((states, unreadable))
    }

    fn id_for_url(&self, canonical_url: &str) -> Result<Option<ItemId>> {
        self.on_connection(|connection| {
            let statement = connection.lookups.id_for_url.clone();
            let row = connection.client.query_opt(&statement, &[&canonical_url.as_bytes()]);
            row.map_err(db)?.map(|row| item_id(&row, 0)).transpose()
        })
    }

    fn id_for_content(&self, hash: ContentHash) -> Result<Option<ItemId>> {
        self.on_connection(|connection| {
            let statement = connection.lookups.id_for_content.clone();
            let row = connection.client.query_opt(&statement, &[&hash.0.as_slice()]);
            row.map_err(db)?.map(|row| item_id(&row, 0)).transpose()
        })
    }

    fn recent_fingerprints(&self, since: DateTime<Utc>) -> Result<Vec<(u64, ItemId)>> {
        use postgres::fallible_iterator::FallibleIterator;
        let day = schema::day_of(since);
        let time = since.timestamp_micros();
        self.on_connection(|connection| {
            let params: [&(dyn postgres::types::ToSql + Sync); 2] = [&day, &time];
            // Row by row: every crawl reads the whole window (7 days of items), and a `Row`
            // costs ten times the pair kept of it.
            let mut rows = connection
                .client
                .query_raw(
                    "SELECT simhash, id FROM items WHERE day >= $1 AND time >= $2 AND simhash IS NOT NULL \
                     ORDER BY time DESC, id DESC",
                    params,
                )
                .map_err(db)?;
            let mut fingerprints = Vec::new();
            while let Some(row) = rows.next().map_err(db)? {
                let simhash: i64 = row.try_get(0).map_err(db)?;
                fingerprints.push((simhash as u64, item_id(&row, 1)?));
            }
            Ok(fingerprints)
        })
    }

    fn commit(
        &self,
        items: &[ScoredItem],
        feed_states: &[FeedState],
        appearances: &[Appearance],
    ) -> Result<CommitReport> {
        // Again on another connection if the server had closed this one: an item whose key is
        // stored already is not inserted twice (and not counted twice).
        let (report, created) = self.on_connection(|connection| {
            let mut retried = false;
            retry_conflicts(&mut connection.client, |client| {
                if retried {
                    // A partition may have been dropped (retention): look again.
                    *self.known_partitions() = schema::partitions(client)?;
                }
                retried = true;
                self.try_commit(client, items, feed_states, appearances).map_err(PgError::Db)
            })
        })?;
        if let Some(partitions) = created {
            *self.known_partitions() = partitions;
        }
        Ok(report)
    }
}

impl ItemReader for PgStore {
    fn get(&self, id: ItemId) -> Result<Option<ScoredItem>> {
        self.on_connection(|connection| {
            let (day_of, record) = (connection.lookups.day_of.clone(), connection.lookups.record.clone());
            let Some(row) = connection.client.query_opt(&day_of, &[&id.as_bytes().as_slice()]).map_err(db)? else {
                return Ok(None);
            };
            let day: i32 = row.try_get(0).map_err(db)?;
            let row = connection.client.query_opt(&record, &[&day, &id.as_bytes().as_slice()]).map_err(db)?;
            row.map(|row| decode_item(&row, 0)).transpose()
        })
    }

    fn get_many(&self, ids: &[ItemId]) -> Result<Vec<Option<ScoredItem>>> {
        let keys: Vec<&[u8]> = ids.iter().map(|id| id.as_bytes().as_slice()).collect();
        let rows = self.on_connection(|connection| {
            connection
                .query(
                    "SELECT i.id, i.record FROM item_keys k JOIN items i ON i.day = k.day AND i.id = k.id \
                     WHERE k.id = ANY($1)",
                    &[&keys],
                )
                .map_err(db)
        })?;
        let mut found = std::collections::HashMap::with_capacity(rows.len());
        for row in &rows {
            found.insert(item_id(row, 0)?, decode_item(row, 1)?);
        }
        Ok(ids.iter().map(|id| found.get(id).cloned()).collect())
    }

    fn query(&self, query: &ItemQuery) -> Result<Vec<ScoredItem>> {
        self.on_connection(|connection| query::run(&mut connection.client, query))
    }

    fn stats(&self) -> Result<StoreStats> {
        let rows = self
            .on_connection(|connection| connection.query("SELECT key, items, flagged FROM counts", &[]).map_err(db))?;
        let mut stats = stats_from_counts(rows.iter().map(|row| {
            let key: Vec<u8> = row.try_get(0).map_err(db)?;
            let items: i64 = row.try_get(1).map_err(db)?;
            let flagged: i64 = row.try_get(2).map_err(db)?;
            Ok((key, u64::try_from(items).unwrap_or(0), u64::try_from(flagged).unwrap_or(0)))
        }))?;
        stats.count_feeds(&self.feed_states()?);
        Ok(stats)
    }

    fn appearances(&self, id: ItemId) -> Result<Vec<Appearance>> {
        let rows = self.on_connection(|connection| {
            connection
                .query("SELECT record FROM appearances WHERE item = $1 ORDER BY url_key", &[&id.as_bytes().as_slice()])
                .map_err(db)
        })?;
        rows.iter()
            .map(|row| {
                let record: Vec<u8> = row.try_get(0).map_err(db)?;
                records::decode_appearance(&record)
            })
            .collect()
    }

    fn feed_states(&self) -> Result<Vec<FeedState>> {
        let rows = self.on_connection(|connection| {
            connection.query("SELECT record FROM feeds ORDER BY source COLLATE \"C\"", &[]).map_err(db)
        })?;
        rows.iter()
            .map(|row| {
                let record: Vec<u8> = row.try_get(0).map_err(db)?;
                records::decode_feed_state(&record)
            })
            .collect()
    }
}

/// Adds `delta` to the counters `stats` reads, inside the caller's transaction. Keys go in
/// the delta's (sorted) order, so concurrent writers lock the same rows in the same order.
fn apply_counts(tx: &mut postgres::Transaction<'_>, delta: &CountDelta) -> std::result::Result<(), postgres::Error> {
    if delta.changes().next().is_none() {
        return Ok(());
    }
    let count = tx.prepare(
        "INSERT INTO counts (key, items, flagged) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE \
         SET items = counts.items + EXCLUDED.items, flagged = counts.flagged + EXCLUDED.flagged",
    )?;
    let mut touched = Vec::new();
    for (key, items, flagged) in delta.changes() {
        tx.execute(&count, &[&key, &items, &flagged])?;
        touched.push(key);
    }
    // A key no item counts in any more is gone, as in sled (a label no item carries after a
    // rescore is not listed with 0).
    tx.execute("DELETE FROM counts WHERE key = ANY($1) AND items = 0", &[&touched])?;
    Ok(())
}

/// A failure inside a transaction that [`retry_conflicts`] runs: the server's (perhaps worth
/// another try) or the store's own (never).
enum PgError {
    Db(postgres::Error),
    Store(StoreError),
}

impl From<postgres::Error> for PgError {
    fn from(error: postgres::Error) -> Self {
        Self::Db(error)
    }
}

/// Runs `transaction` until it succeeds, fails for good, or has conflicted with other writers
/// [`COMMIT_ATTEMPTS`] times.
fn retry_conflicts<T>(
    client: &mut Client,
    mut transaction: impl FnMut(&mut Client) -> std::result::Result<T, PgError>,
) -> Result<T> {
    let mut attempt = 1;
    loop {
        match transaction(client) {
            Ok(done) => return Ok(done),
            Err(PgError::Db(error)) if attempt < COMMIT_ATTEMPTS && retryable(&error) => {
                tracing::debug!(message = "A transaction conflicted with another writer; trying again.", attempt, error = %message_of(&error));
                attempt += 1;
            }
            Err(PgError::Db(error)) => return Err(db(error)),
            Err(PgError::Store(error)) => return Err(error),
        }
    }
}

/// The item id in column `index`.
fn item_id(row: &postgres::Row, index: usize) -> Result<ItemId> {
    let bytes: &[u8] = row.try_get(index).map_err(db)?;
    let bytes: [u8; 8] = bytes.try_into().map_err(|_| StoreError::Corrupt {
        tree: "item_keys",
        message: format!("an item id of {} bytes", bytes.len()),
    })?;
    Ok(ItemId(bytes))
}

/// The item record in column `index`.
fn decode_item(row: &postgres::Row, index: usize) -> Result<ScoredItem> {
    let record: &[u8] = row.try_get(index).map_err(db)?;
    records::decode_item(record)
}

/// Deadlocks and serialisation failures between concurrent writers, and a row without a
/// partition (one dropped since we looked): the same commit can succeed when tried again.
fn retryable(error: &postgres::Error) -> bool {
    use postgres::error::SqlState;
    error.code().is_some_and(|code| {
        *code == SqlState::T_R_DEADLOCK_DETECTED
            || *code == SqlState::T_R_SERIALIZATION_FAILURE
            || *code == SqlState::CHECK_VIOLATION
    })
}

/// What the server said: for a database error its message, detail and code (the error's own
/// `Display` is only "db error").
fn message_of(error: &postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => {
            let mut message = db.message().to_owned();
            if let Some(detail) = db.detail() {
                message.push_str(&format!(" ({detail})"));
            }
            message.push_str(&format!(" [SQLSTATE {}]", db.code().code()));
            message
        }
        None => {
            let mut message = error.to_string();
            let mut source = std::error::Error::source(error);
            while let Some(inner) = source {
                message.push_str(&format!(": {inner}"));
                source = inner.source();
            }
            message
        }
    }
}

/// For `map_err`, which hands the error over by value.
#[allow(clippy::needless_pass_by_value)]
pub(crate) fn db(error: postgres::Error) -> StoreError {
    StoreError::Database(message_of(&error))
}

/// `url` without its password.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let (authority, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((credentials, host)) => {
            let user = credentials.split_once(':').map_or(credentials, |(user, _)| user);
            format!("{scheme}://{user}@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            redact("postgres://ann:s3cret@db.local:5433/news?sslmode=disable"),
            "postgres://ann@db.local:5433/news?sslmode=disable"
        );
        assert_eq!(redact("postgresql://ann@db/news"), "postgresql://ann@db/news");
        assert_eq!(redact("postgres://db/news"), "postgres://db/news");
        // A password with an `@` in it is still all taken out.
        assert_eq!(redact("postgres://a:b@c@host/db"), "postgres://a@host/db");
    }

    #[test]
    fn urls_are_told_from_directories() {
        assert!(is_postgres_url("postgres://localhost/db"));
        assert!(is_postgres_url("postgresql://localhost/db"));
        assert!(!is_postgres_url("/var/lib/infodemic"));
        assert!(!is_postgres_url("postgres"));
    }

    #[test]
    fn an_unreachable_server_is_an_open_error_naming_it_without_the_password() {
        // Port 1 on loopback: refused at once, no DNS.
        let error = PgStore::connect("postgres://ann:s3cret@127.0.0.1:1/news?connect_timeout=2").unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, StoreError::Open { .. }), "{message}");
        assert!(message.contains("postgres://ann@127.0.0.1:1/news") && !message.contains("s3cret"), "{message}");
    }
}
