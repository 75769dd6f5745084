//! The record trees of campaigns and reviews (`infodemic_store::RecordTrees`) in PostgreSQL:
//! one row of `tree_records` per entry, keyed by tree and key. `bytea` compares byte by byte,
//! as sled orders keys.

use infodemic_store::{RecordTrees, TreeWrite};
use postgres::Transaction;

use crate::{db, retry_conflicts, PgStore, Result};

/// The smallest byte string greater than every string that starts with `prefix`; `None` when
/// there is none (an empty prefix, or one of 0xff bytes only).
pub(crate) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

impl RecordTrees for PgStore {
    fn get_record(&self, tree: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let row = self.on_connection(|connection| {
            connection
                .query_opt("SELECT value FROM tree_records WHERE tree = $1 AND key = $2", &[&tree, &key])
                .map_err(db)
        })?;
        row.map(|row| row.try_get(0).map_err(db)).transpose()
    }

    fn scan_records(&self, tree: &'static str, prefix: &[u8], limit: Option<usize>) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let limit = limit.map_or(i64::MAX, |n| i64::try_from(n).unwrap_or(i64::MAX));
        // bytea compares byte by byte, as sled orders keys.
        let end = prefix_end(prefix);
        let rows = self.on_connection(|connection| {
            match &end {
                Some(end) => connection.query(
                    "SELECT key, value FROM tree_records WHERE tree = $1 AND key >= $2 AND key < $3 \
                     ORDER BY key LIMIT $4",
                    &[&tree, &prefix, end, &limit],
                ),
                None => connection.query(
                    "SELECT key, value FROM tree_records WHERE tree = $1 AND key >= $2 ORDER BY key LIMIT $3",
                    &[&tree, &prefix, &limit],
                ),
            }
            .map_err(db)
        })?;
        rows.iter().map(|row| Ok((row.try_get(0).map_err(db)?, row.try_get(1).map_err(db)?))).collect()
    }

    fn count_records(&self, tree: &'static str) -> Result<usize> {
        let row = self.on_connection(|connection| {
            connection.query_one("SELECT count(*) FROM tree_records WHERE tree = $1", &[&tree]).map_err(db)
        })?;
        let count: i64 = row.try_get(0).map_err(db)?;
        Ok(usize::try_from(count).unwrap_or(0))
    }

    fn write_records(&self, writes: &[TreeWrite]) -> Result<()> {
        // Puts and deletes: the same again changes nothing.
        self.on_connection(|connection| {
            retry_conflicts(&mut connection.client, |client| {
                let mut tx = client.transaction()?;
                apply(&mut tx, writes)?;
                tx.commit()?;
                Ok(())
            })
        })
    }
}

/// Applies `writes`, in order, inside the caller's transaction.
pub(crate) fn apply(tx: &mut Transaction<'_>, writes: &[TreeWrite]) -> std::result::Result<(), postgres::Error> {
    if writes.is_empty() {
        return Ok(());
    }
    let put = tx.prepare(
        "INSERT INTO tree_records (tree, key, value) VALUES ($1, $2, $3) \
         ON CONFLICT (tree, key) DO UPDATE SET value = EXCLUDED.value",
    )?;
    let remove = tx.prepare("DELETE FROM tree_records WHERE tree = $1 AND key = $2")?;
    for write in writes {
        match &write.value {
            Some(value) => tx.execute(&put, &[&write.tree, &write.key, value])?,
            None => tx.execute(&remove, &[&write.tree, &write.key])?,
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_ends_at_its_successor() {
        assert_eq!(prefix_end(&[1, 2]), Some(vec![1, 3]));
        assert_eq!(prefix_end(&[1, 0xff]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xff, 0xff]), None);
        assert_eq!(prefix_end(&[]), None);
    }
}
