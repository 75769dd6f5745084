//! The schema: created at first open, checked at every open, partitions made on demand.

use std::collections::HashSet;

use chrono::NaiveDate;
use infodemic_store::StoreError;
use postgres::{Client, Transaction};

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
    day date NOT NULL,
    canonical_url text NOT NULL UNIQUE,
    content_hash bytea NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS items (
    id bytea NOT NULL,
    day date NOT NULL,
    time timestamptz NOT NULL,
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

/// Creates the schema when absent (under the DDL lock, so two first opens do not race) and
/// checks the version of one that exists.
pub(crate) fn ensure(client: &mut Client) -> Result<()> {
    let mut tx = client.transaction().map_err(db)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&DDL_LOCK]).map_err(db)?;
    tx.batch_execute(SCHEMA_V1).map_err(db)?;
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

/// The partition of `day`: `items_d20261120`.
fn partition_name(day: NaiveDate) -> String {
    // Days come from times the crawler bounded (1970 to two days ahead), so the year has
    // four digits and no sign; the name stays a plain identifier whatever it is.
    let digits: String = day.format("%Y%m%d").to_string().chars().filter(char::is_ascii_digit).collect();
    format!("items_d{digits}")
}

/// Days whose partition exists.
pub(crate) fn partition_days(client: &mut Client) -> Result<HashSet<NaiveDate>> {
    let rows = client
        .query(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
             WHERE i.inhparent = 'items'::regclass",
            &[],
        )
        .map_err(db)?;
    let mut days = HashSet::new();
    for row in rows {
        let name: String = row.try_get(0).map_err(db)?;
        if let Some(day) = name.strip_prefix("items_d").and_then(|d| NaiveDate::parse_from_str(d, "%Y%m%d").ok()) {
            days.insert(day);
        }
    }
    Ok(days)
}

/// Creates the partitions of `days` that do not exist, inside the caller's transaction (so
/// they go with its rows, or not at all).
pub(crate) fn create_partitions(tx: &mut Transaction<'_>, days: &[NaiveDate]) -> Result<(), postgres::Error> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&DDL_LOCK])?;
    for day in days {
        let Some(next) = day.succ_opt() else { continue };
        // Dates as ISO literals and a name of digits: nothing from outside is spliced in.
        tx.batch_execute(&format!(
            "CREATE TABLE IF NOT EXISTS {} PARTITION OF items FOR VALUES FROM ('{}') TO ('{}')",
            partition_name(*day),
            day.format("%Y-%m-%d"),
            next.format("%Y-%m-%d"),
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_names_are_plain_identifiers_that_read_back() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        assert_eq!(partition_name(day), "items_d20261120");
        let name = partition_name(day);
        let back = NaiveDate::parse_from_str(name.strip_prefix("items_d").unwrap(), "%Y%m%d").unwrap();
        assert_eq!(back, day);
    }
}
