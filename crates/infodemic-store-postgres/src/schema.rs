//! The schema: created at first open, checked at every open, partitions made on demand.

use std::collections::HashSet;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
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
-- Campaigns, their members, profiles, history and alerts: the same trees, keys and records as
-- in sled (`infodemic_store::campaigns`), one row per entry.
CREATE TABLE IF NOT EXISTS campaign_records (
    tree text NOT NULL,
    key bytea NOT NULL,
    value bytea NOT NULL,
    PRIMARY KEY (tree, key)
);
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

/// The partition key of `time`: whole days since 1970-01-01 UTC (negative before). Integers,
/// like the microseconds in `time`, cover every time an item can carry; PostgreSQL's own date
/// and timestamp types stop at 4713 BC, and a date literal past year 9999 does not parse.
pub(crate) fn day_of(time: DateTime<Utc>) -> i32 {
    // chrono's range is ±262,000 years: about ±96 million days.
    i32::try_from(time.timestamp().div_euclid(86_400)).unwrap_or(if time.timestamp() < 0 { i32::MIN } else { i32::MAX })
}

/// The date of a partition key.
fn date_of(day: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(1970, 1, 1)?.checked_add_signed(chrono::Duration::days(i64::from(day)))
}

/// The partition of `day`: `items_d20261120` for a four-digit year (what retention drops by
/// name), `items_n<day>` (`m` for a minus sign) for the rest.
fn partition_name(day: i32) -> String {
    match date_of(day) {
        Some(date) if (1000..=9999).contains(&date.year()) => format!("items_d{}", date.format("%Y%m%d")),
        _ => format!("items_n{}", day.to_string().replace('-', "m")),
    }
}

/// The day of a partition's name, for names [`partition_name`] made.
fn day_of_name(name: &str) -> Option<i32> {
    if let Some(digits) = name.strip_prefix("items_d") {
        let date = NaiveDate::parse_from_str(digits, "%Y%m%d").ok()?;
        return Some(day_of(date.and_hms_opt(0, 0, 0)?.and_utc()));
    }
    name.strip_prefix("items_n")?.replace('m', "-").parse().ok()
}

/// Days whose partition exists.
pub(crate) fn partition_days(client: &mut Client) -> Result<HashSet<i32>> {
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
        if let Some(day) = day_of_name(&name) {
            days.insert(day);
        }
    }
    Ok(days)
}

/// Creates the partitions of `days` that do not exist, inside the caller's transaction (so
/// they go with its rows, or not at all).
pub(crate) fn create_partitions(tx: &mut Transaction<'_>, days: &[i32]) -> Result<(), postgres::Error> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&DDL_LOCK])?;
    for &day in days {
        // Integers and a name of letters and digits: nothing from outside is spliced in.
        let upper = day.checked_add(1).map_or_else(|| "MAXVALUE".to_owned(), |next| next.to_string());
        tx.batch_execute(&format!(
            "CREATE TABLE IF NOT EXISTS {} PARTITION OF items FOR VALUES FROM ({day}) TO ({upper})",
            partition_name(day),
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn partition_names_are_plain_identifiers_that_read_back() {
        let at = |y, m, d| Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap();
        assert_eq!(partition_name(day_of(at(2026, 11, 20))), "items_d20261120");
        assert_eq!(day_of(at(1970, 1, 1)), 0);
        assert_eq!(day_of(at(1969, 12, 31)), -1);
        for time in [at(2026, 11, 20), at(1970, 1, 1), at(1969, 12, 31), at(10_000, 1, 1), at(-4800, 3, 1)] {
            let day = day_of(time);
            let name = partition_name(day);
            assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{name}");
            assert_eq!(day_of_name(&name), Some(day), "{name}");
        }
        for extreme in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
            assert_eq!(day_of_name(&partition_name(day_of(extreme))), Some(day_of(extreme)));
        }
    }
}
