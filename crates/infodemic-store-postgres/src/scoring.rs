//! What scoring stored items needs ([`ScoreStore`]): the ids a filter holds, classifications
//! replaced in place, debunked claims and subscriptions.
//!
//! Several score workers may rescore the same item (a job delivered twice): each locks the
//! item's row before reading the classification it replaces, so the counters move once per
//! change, and rows are locked in id order, so two workers never wait on each other in a
//! circle.

use std::collections::BTreeMap;

use infodemic_core::{Classification, DebunkedClaim, FeedSpec, ItemId, ItemQuery, ModelRef};
use infodemic_store::{keys, records, ClaimEntry, CountDelta, ScoreStore};

use crate::{apply_counts, db, query, retry_conflicts, PgError, PgStore, Result};

impl ScoreStore for PgStore {
    fn item_ids(&self, query: &ItemQuery) -> Result<Vec<ItemId>> {
        self.on_connection(|connection| query::ids(&mut connection.client, query))
    }

    fn reclassify(&self, updates: &[(ItemId, Classification)]) -> Result<usize> {
        // The last classification of an id wins, as when the updates are applied in turn.
        let ordered: BTreeMap<ItemId, &Classification> = updates.iter().map(|(id, c)| (*id, c)).collect();
        // Again on another connection if the server had closed this one: each record is read
        // in the transaction, so a classification already written is moved by nothing.
        self.on_connection(|connection| {
            retry_conflicts(&mut connection.client, |client| {
                let mut tx = client.transaction()?;
                let select = tx.prepare(
                    "SELECT k.day, i.record FROM item_keys k JOIN items i ON i.day = k.day AND i.id = k.id \
                 WHERE k.id = $1 FOR UPDATE OF i",
                )?;
                let update = tx.prepare(
                    "UPDATE items SET sort_score = $3, shown_score = $4, flagged = $5, review = $6, record = $7 \
                 WHERE day = $1 AND id = $2",
                )?;
                let mut delta = CountDelta::default();
                let mut rewritten = 0;
                for (id, classification) in &ordered {
                    let id_bytes = id.as_bytes().as_slice();
                    let Some(row) = tx.query_opt(&select, &[&id_bytes])? else { continue };
                    let day: i32 = row.try_get(0)?;
                    let record: &[u8] = row.try_get(1)?;
                    let mut scored = records::decode_item(record).map_err(PgError::Store)?;
                    delta.add(&scored, -1);
                    scored.classification = (*classification).clone();
                    delta.add(&scored, 1);
                    let class = &scored.classification;
                    tx.execute(
                        &update,
                        &[
                            &day,
                            &id_bytes,
                            &keys::sort_score(&scored),
                            &class.shown_score(),
                            &class.flagged,
                            &class.review,
                            &records::encode_item(&scored),
                        ],
                    )?;
                    rewritten += 1;
                }
                apply_counts(&mut tx, &delta)?;
                tx.commit()?;
                Ok(rewritten)
            })
        })
    }

    fn claim_entries(&self) -> Result<Vec<ClaimEntry>> {
        let rows = self
            .on_connection(|connection| connection.query("SELECT record FROM claims ORDER BY id", &[]).map_err(db))?;
        rows.iter()
            .map(|row| {
                let record: &[u8] = row.try_get(0).map_err(db)?;
                records::decode_claim(record)
            })
            .collect()
    }

    fn put_claims(&self, claims: &[(DebunkedClaim, Vec<f32>)], model: &ModelRef) -> Result<usize> {
        write_claims(self, "INSERT INTO claims (id, record) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING", claims, model)
    }

    fn replace_claim_embeddings(&self, claims: &[(DebunkedClaim, Vec<f32>)], model: &ModelRef) -> Result<usize> {
        write_claims(self, "UPDATE claims SET record = $2 WHERE id = $1", claims, model)
    }

    fn subscriptions(&self) -> Result<Vec<FeedSpec>> {
        let rows = self.on_connection(|connection| {
            connection.query("SELECT record FROM subscriptions ORDER BY id COLLATE \"C\"", &[]).map_err(db)
        })?;
        rows.iter()
            .map(|row| {
                let record: &[u8] = row.try_get(0).map_err(db)?;
                records::decode_subscription(record)
            })
            .collect()
    }
}

/// Writes each claim's record with `sql` (`$1` the id, `$2` the record), one transaction;
/// returns the rows written.
fn write_claims(store: &PgStore, sql: &str, claims: &[(DebunkedClaim, Vec<f32>)], model: &ModelRef) -> Result<usize> {
    // An insert that skips ids present, or a replacement: the same again changes nothing.
    store.on_connection(|connection| {
        retry_conflicts(&mut connection.client, |client| {
            let mut tx = client.transaction()?;
            let write = tx.prepare(sql)?;
            let mut written = 0;
            for (claim, embedding) in claims {
                let record = records::encode_claim(claim, embedding, model);
                written += tx.execute(&write, &[&claim.id.0.as_slice(), &record])?;
            }
            tx.commit()?;
            Ok(usize::try_from(written).unwrap_or(usize::MAX))
        })
    })
}

impl PgStore {
    /// Subscribes to a feed, replacing a subscription with the same id. Returns whether it is
    /// new.
    ///
    /// # Errors
    /// Database failures.
    pub fn put_subscription(&self, spec: &FeedSpec) -> Result<bool> {
        // `xmax = 0` only for a row this statement inserted (an update sets it).
        // An upsert: the same again changes nothing.
        let row = self.on_connection(|connection| {
            connection
                .query_one(
                    "INSERT INTO subscriptions (id, record) VALUES ($1, $2) \
                     ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record RETURNING (xmax = 0)",
                    &[&spec.id.as_str(), &records::encode_subscription(spec)],
                )
                .map_err(db)
        })?;
        row.try_get(0).map_err(db)
    }

    /// Unsubscribes; the feed's items and state stay. Returns whether it was subscribed.
    ///
    /// # Errors
    /// Database failures.
    pub fn remove_subscription(&self, id: &str) -> Result<bool> {
        let removed = self.on_connection(|connection| {
            connection.client.execute("DELETE FROM subscriptions WHERE id = $1", &[&id]).map_err(db)
        })?;
        Ok(removed > 0)
    }
}
