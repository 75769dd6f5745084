//! Campaigns in PostgreSQL: the trees, keys and records of `infodemic_store::campaigns`, rows
//! of `tree_records` (`trees.rs`), and the lock that makes one process the writer.
//!
//! The grouping keeps its state (profiles, term frequencies, counters) in memory and writes
//! each batch's changes; two processes grouping at once would each work from a state the other
//! changes. So a process writes campaigns only after [`PgStore::become_campaign_writer`] took a
//! session-level advisory lock, which the server holds for it until its connection ends (a
//! process that dies frees it); every other reader is unaffected.

use std::sync::atomic::Ordering;

use infodemic_core::{Alert, Campaign, CampaignHead, CampaignId, CampaignMember};
use infodemic_store::campaigns;
use infodemic_store::{CampaignCommit, CampaignReader, CampaignWriter, GroupingSnapshot, StoreError};

use crate::{db, PgStore, Result};

/// The advisory lock class of the campaign writer ("camp" in ASCII); the lock's other half is
/// the schema's name, hashed, so deployments in other schemas of the database have their own.
const CAMPAIGN_LOCK: i32 = 0x6361_6d70;

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

    fn claim_writer(&self) -> Result<bool> {
        self.become_campaign_writer()
    }
}

impl PgStore {
    /// Tries to become the one process that writes campaigns: takes the campaign lock for the
    /// life of this connection (a reconnection loses it: ask again). Returns false while
    /// another process holds it.
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
