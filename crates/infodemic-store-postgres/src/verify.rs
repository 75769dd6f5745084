//! `stats --verify` on PostgreSQL: every item, as its record says, agrees with the columns
//! queries filter and sort on (time, day, source, scores, flags, fingerprint), has its row in
//! `item_keys`, and the counters `stats` reads agree with the items.

use std::collections::BTreeMap;

use infodemic_store::{keys, records, CountDelta, StoreError};

use crate::{db, item_id, PgStore, Result};

/// Items read per query.
const PAGE: i64 = 1000;

fn inconsistent(message: String) -> StoreError {
    StoreError::Corrupt { tree: "items", message }
}

impl PgStore {
    /// Checks every item (see the module docs); returns how many there are.
    ///
    /// # Errors
    /// A description of the first inconsistency, as [`StoreError::Corrupt`]; database failures.
    pub fn verify(&self) -> Result<usize> {
        let mut client = self.client()?;
        let mut counted = CountDelta::default();
        let mut items = 0usize;
        let mut after: (i32, Vec<u8>) = (i32::MIN, Vec::new());
        loop {
            let rows = client
                .query(
                    "SELECT i.day, i.id, i.time, i.source, i.sort_score, i.shown_score, i.flagged, i.review, \
                     i.simhash, i.record, k.id IS NOT NULL \
                     FROM items i LEFT JOIN item_keys k ON k.id = i.id AND k.day = i.day \
                     WHERE (i.day, i.id) > ($1, $2) ORDER BY i.day, i.id LIMIT $3",
                    &[&after.0, &after.1, &PAGE],
                )
                .map_err(db)?;
            for row in &rows {
                let id = item_id(row, 1)?;
                let record: &[u8] = row.try_get(9).map_err(db)?;
                let scored = records::decode_item(record)?;
                let item = &scored.item;
                let class = &scored.classification;
                let day: i32 = row.try_get(0).map_err(db)?;
                let keyed: bool = row.try_get(10).map_err(db)?;
                let simhash: Option<i64> = row.try_get(8).map_err(db)?;
                let columns_agree = item.id == id
                    && day == crate::schema::day_of(item.effective_time())
                    && row.try_get::<_, i64>(2).map_err(db)? == item.effective_time().timestamp_micros()
                    && row.try_get::<_, &str>(3).map_err(db)? == item.source.as_str()
                    && row.try_get::<_, f32>(4).map_err(db)?.to_bits() == keys::sort_score(&scored).to_bits()
                    && row.try_get::<_, Option<f32>>(5).map_err(db)?.map(f32::to_bits)
                        == class.shown_score().map(f32::to_bits)
                    && row.try_get::<_, bool>(6).map_err(db)? == class.flagged
                    && row.try_get::<_, bool>(7).map_err(db)? == class.review
                    && simhash == item.simhash.map(|h| h as i64);
                if !columns_agree {
                    return Err(inconsistent(format!("item {id}: its columns disagree with its record")));
                }
                if !keyed {
                    return Err(inconsistent(format!("item {id} has no row in item_keys for its day")));
                }
                counted.add(&scored, 1);
                items += 1;
                after = (day, id.as_bytes().to_vec());
            }
            if rows.len() < usize::try_from(PAGE).unwrap_or(usize::MAX) {
                break;
            }
        }
        let keys_rows: i64 = client.query_one("SELECT count(*) FROM item_keys", &[]).map_err(db)?.get(0);
        if usize::try_from(keys_rows).unwrap_or(usize::MAX) != items {
            return Err(inconsistent(format!("item_keys holds {keys_rows} rows for {items} items")));
        }
        let mut stored: BTreeMap<Vec<u8>, (i64, i64)> = BTreeMap::new();
        for row in client.query("SELECT key, items, flagged FROM counts", &[]).map_err(db)? {
            stored.insert(row.try_get(0).map_err(db)?, (row.try_get(1).map_err(db)?, row.try_get(2).map_err(db)?));
        }
        let expected: BTreeMap<Vec<u8>, (i64, i64)> =
            counted.changes().map(|(key, items, flagged)| (key.to_vec(), (items, flagged))).collect();
        if stored != expected {
            return Err(StoreError::Corrupt {
                tree: "counts",
                message: "the counts kept for `stats` differ from the items".to_owned(),
            });
        }
        Ok(items)
    }
}
