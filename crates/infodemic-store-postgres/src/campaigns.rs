//! Campaigns in PostgreSQL: the trees, keys and records of `infodemic_store::campaigns`, one
//! row per entry of `campaign_records`, and the lock that makes one process the writer.
//!
//! The grouping keeps its state (profiles, term frequencies, counters) in memory and writes
//! each batch's changes; two processes grouping at once would each work from a state the other
//! changes. So a process writes campaigns only after [`PgStore::become_campaign_writer`] took a
//! session-level advisory lock, which the server holds for it until its connection ends (a
//! process that dies frees it); every other reader is unaffected.

use std::sync::atomic::Ordering;

use infodemic_core::{Alert, Campaign, CampaignHead, CampaignId, CampaignMember};
use infodemic_store::campaigns::{self, CAMPAIGN_TREES};
use infodemic_store::{
    CampaignCommit, CampaignReader, CampaignTrees, CampaignWriter, GroupingSnapshot, StoreError, TreeWrite,
};

use crate::{db, retry_conflicts, PgStore, Result};

/// The advisory lock class of the campaign writer ("camp" in ASCII); the lock's other half is
/// the schema's name, hashed, so deployments in other schemas of the database have their own.
const CAMPAIGN_LOCK: i32 = 0x6361_6d70;

/// The smallest byte string greater than every string that starts with `prefix`; `None` when
/// there is none (an empty prefix, or one of 0xff bytes only).
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

impl CampaignTrees for PgStore {
    fn get_record(&self, tree: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let row = self
            .client()
            .query_opt("SELECT value FROM campaign_records WHERE tree = $1 AND key = $2", &[&tree, &key])
            .map_err(db)?;
        row.map(|row| row.try_get(0).map_err(db)).transpose()
    }

    fn scan_records(&self, tree: &'static str, prefix: &[u8], limit: Option<usize>) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let limit = limit.map_or(i64::MAX, |n| i64::try_from(n).unwrap_or(i64::MAX));
        // bytea compares byte by byte, as sled orders keys.
        let rows = match prefix_end(prefix) {
            Some(end) => self.client().query(
                "SELECT key, value FROM campaign_records WHERE tree = $1 AND key >= $2 AND key < $3 \
                 ORDER BY key LIMIT $4",
                &[&tree, &prefix, &end, &limit],
            ),
            None => self.client().query(
                "SELECT key, value FROM campaign_records WHERE tree = $1 AND key >= $2 ORDER BY key LIMIT $3",
                &[&tree, &prefix, &limit],
            ),
        };
        rows.map_err(db)?.iter().map(|row| Ok((row.try_get(0).map_err(db)?, row.try_get(1).map_err(db)?))).collect()
    }

    fn count_records(&self, tree: &'static str) -> Result<usize> {
        let row =
            self.client().query_one("SELECT count(*) FROM campaign_records WHERE tree = $1", &[&tree]).map_err(db)?;
        let count: i64 = row.try_get(0).map_err(db)?;
        Ok(usize::try_from(count).unwrap_or(0))
    }

    fn write_records(&self, writes: &[TreeWrite]) -> Result<()> {
        retry_conflicts(&mut self.client(), |client| {
            let mut tx = client.transaction()?;
            let put = tx.prepare(
                "INSERT INTO campaign_records (tree, key, value) VALUES ($1, $2, $3) \
                 ON CONFLICT (tree, key) DO UPDATE SET value = EXCLUDED.value",
            )?;
            for write in writes {
                let tree = CAMPAIGN_TREES.get(write.tree).copied().ok_or_else(|| {
                    crate::PgError::Store(StoreError::Corrupt {
                        tree: "campaign_records",
                        message: format!("no campaign tree {}", write.tree),
                    })
                })?;
                tx.execute(&put, &[&tree, &write.key, &write.value])?;
            }
            tx.commit()?;
            Ok(())
        })
    }
}

impl CampaignReader for PgStore {
    fn campaigns(&self) -> Result<Vec<Campaign>> {
        campaigns::campaigns(self)
    }

    fn campaign_heads(&self) -> Result<Vec<CampaignHead>> {
        campaigns::heads(self)
    }

    fn campaign(&self, id: CampaignId) -> Result<Option<Campaign>> {
        campaigns::campaign(self, id)
    }

    fn campaign_members(&self, id: CampaignId, limit: Option<usize>) -> Result<Vec<CampaignMember>> {
        campaigns::members(self, id, limit)
    }

    fn campaign_of(&self, member_id: &str) -> Result<Option<CampaignId>> {
        campaigns::campaign_of(self, member_id)
    }

    fn alerts(&self) -> Result<Vec<Alert>> {
        campaigns::alerts(self)
    }
}

impl CampaignWriter for PgStore {
    fn grouping_snapshot(&self) -> Result<GroupingSnapshot> {
        campaigns::snapshot(self)
    }

    fn commit_campaigns(&self, commit: &CampaignCommit) -> Result<()> {
        if !self.campaign_writer.load(Ordering::Acquire) {
            return Err(StoreError::NotTheWriter(
                "campaigns in PostgreSQL are written by one process at a time, and this one has not taken the \
                 campaign lock"
                    .to_owned(),
            ));
        }
        campaigns::commit(self, commit)
    }
}

impl PgStore {
    /// Tries to become the one process that writes campaigns: takes the campaign lock for the
    /// life of this connection. Returns false while another process holds it.
    ///
    /// # Errors
    /// Database failures.
    pub fn become_campaign_writer(&self) -> Result<bool> {
        if self.campaign_writer.load(Ordering::Acquire) {
            return Ok(true);
        }
        let row = self
            .client()
            .query_one("SELECT pg_try_advisory_lock($1, hashtext(current_schema()))", &[&CAMPAIGN_LOCK])
            .map_err(db)?;
        let taken: bool = row.try_get(0).map_err(db)?;
        self.campaign_writer.store(taken, Ordering::Release);
        Ok(taken)
    }
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
