//! The schema: created at first open, checked at every open, partitions made on demand (which
//! ones: `partitions.rs`).

use infodemic_store::StoreError;
use postgres::{Client, GenericClient, Transaction};

pub(crate) use crate::partitions::day_of;
use crate::partitions::{bounds_sql, partition_name, Partitions};
use crate::{db, Result};

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

/// Serialises schema and partition changes between processes (any fixed number works; this
/// one is "infodemic" in ASCII, truncated).
const DDL_LOCK: i64 = 0x696e_666f_6465_6d69;

/// Version 1. `IF NOT EXISTS` throughout: a crash half-way is finished by the next open.
const SCHEMA_V1: &str = r"
CREATE TABLE IF NOT EXISTS infodemic_meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS item_keys (
    id bytea PRIMARY KEY,
    day integer NOT NULL,
    -- Bytes, not text: PostgreSQL text refuses NUL, which a URL from outside may hold.
    canonical_url bytea NOT NULL UNIQUE,
    content_hash bytea NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS items (
    id bytea NOT NULL,
    day integer NOT NULL,
    time bigint NOT NULL,
    source text NOT NULL,
    sort_score real NOT NULL,
    shown_score real,
    flagged boolean NOT NULL,
    review boolean NOT NULL,
    simhash bigint,
    words tsvector NOT NULL,
    record bytea NOT NULL,
    PRIMARY KEY (day, id)
) PARTITION BY RANGE (day);
CREATE INDEX IF NOT EXISTS items_by_time ON items (time DESC, id DESC);
CREATE INDEX IF NOT EXISTS items_by_source ON items (source, time DESC, id DESC);
CREATE INDEX IF NOT EXISTS items_by_score ON items (sort_score DESC, id DESC);
CREATE INDEX IF NOT EXISTS items_by_word ON items USING gin (words);
CREATE TABLE IF NOT EXISTS feeds (source text PRIMARY KEY, record bytea NOT NULL);
CREATE TABLE IF NOT EXISTS appearances (
    item bytea NOT NULL,
    url_key bytea NOT NULL,
    record bytea NOT NULL,
    PRIMARY KEY (item, url_key)
);
CREATE TABLE IF NOT EXISTS counts (key bytea PRIMARY KEY, items bigint NOT NULL, flagged bigint NOT NULL);
";

/// Tables added since version 1 was first written. A build that knows only version 1 never
/// reads them, so adding them keeps the version: builds of both kinds share one database while
/// workers are upgraded one by one.
const ADDED_TO_V1: &str = r"
-- Debunked claims: id (8 bytes) and the same record as in sled (claim, embedding, model).
CREATE TABLE IF NOT EXISTS claims (id bytea PRIMARY KEY, record bytea NOT NULL);
-- Subscribed feeds: id and the same record as in sled.
CREATE TABLE IF NOT EXISTS subscriptions (id text PRIMARY KEY, record bytea NOT NULL);
-- Campaigns (members, profiles, history, alerts) and reviewers' verdicts: the same trees, keys
-- and records as in sled (`infodemic_store::campaigns`, `::reviews`), one row per entry.
CREATE TABLE IF NOT EXISTS tree_records (
    tree text NOT NULL,
    key bytea NOT NULL,
    value bytea NOT NULL,
    PRIMARY KEY (tree, key)
);
-- Sequence numbers of verdict events (`infodemic_store::reviews`).
CREATE SEQUENCE IF NOT EXISTS verdict_seq;
";

/// Creates the schema when absent (under the DDL lock, so two first opens do not race) and
/// checks the version of one that exists.
pub(crate) fn ensure(client: &mut Client) -> Result<()> {
    let mut tx = client.transaction().map_err(db)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&DDL_LOCK]).map_err(db)?;
    tx.batch_execute(SCHEMA_V1).map_err(db)?;
    tx.batch_execute(ADDED_TO_V1).map_err(db)?;
    let found: Option<String> = tx
        .query_opt("SELECT value FROM infodemic_meta WHERE key = 'schema_version'", &[])
        .map_err(db)?
        .map(|row| row.try_get(0))
        .transpose()
        .map_err(db)?;
    match found {
        None => {
            tx.execute(
                "INSERT INTO infodemic_meta (key, value) VALUES ('schema_version', $1)",
                &[&SCHEMA_VERSION.to_string()],
            )
            .map_err(db)?;
        }
        Some(found) => {
            let found: u32 = found.parse().map_err(|_| StoreError::Corrupt {
                tree: "infodemic_meta",
                message: format!("schema_version is {found:?}, not a number"),
            })?;
            if found > SCHEMA_VERSION {
                return Err(StoreError::SchemaTooNew { found, supported: SCHEMA_VERSION });
            }
        }
    }
    tx.commit().map_err(db)
}

/// The partitions that exist, from the catalogue.
pub(crate) fn partitions(client: &mut impl GenericClient) -> Result<Partitions, postgres::Error> {
    let rows = client.query(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
         WHERE i.inhparent = 'items'::regclass",
        &[],
    )?;
    let names: Vec<String> = rows.iter().map(|row| row.try_get(0)).collect::<Result<_, _>>()?;
    Ok(Partitions::from_names(names.iter().map(String::as_str)))
}

/// Creates partitions for those of `days` that none covers, inside the caller's transaction
/// (so they go with its rows, or not at all), under the DDL lock, from the partitions the
/// catalogue holds then (another process may have made some). Returns them all.
pub(crate) fn create_partitions(tx: &mut Transaction<'_>, days: &[i32]) -> Result<Partitions, postgres::Error> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&DDL_LOCK])?;
    let mut existing = partitions(tx)?;
    let today = day_of(chrono::Utc::now());
    for &day in days {
        if existing.covers(day) {
            continue;
        }
        let range = existing.range_for(day, today);
        // A name of letters, digits and `_`, and integer bounds: nothing from outside is spliced in.
        tx.batch_execute(&format!(
            "CREATE TABLE IF NOT EXISTS {} PARTITION OF items FOR VALUES {}",
            partition_name(range),
            bounds_sql(range),
        ))?;
        existing.insert(range);
    }
    Ok(existing)
}
