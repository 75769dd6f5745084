//! Campaigns in PostgreSQL: the trees, keys and records of `infodemic_store::campaigns`, rows
//! of `tree_records` (`trees.rs`), and the lock that makes one process the writer.
//!
//! The grouping keeps its state (profiles, term frequencies, counters) in memory and writes
//! each batch's changes; two processes grouping at once would each work from a state the other
//! changes. So a process writes campaigns only after [`PgStore::become_campaign_writer`] took a
//! session-level advisory lock on a session of its own (not one of the pool's), which the server
//! holds for it until that session ends (a process that dies frees it); its campaign commits
//! run on that session, so a commit never outlives the lock. Every other reader is unaffected.

use std::sync::atomic::Ordering;
use std::sync::PoisonError;

use infodemic_core::{Alert, Campaign, CampaignHead, CampaignId, CampaignMember};
use infodemic_store::campaigns;
use infodemic_store::{CampaignCommit, CampaignReader, CampaignWriter, GroupingSnapshot, StoreError};

use crate::{db, retry_conflicts, PgStore, Result};

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
        // On the session that holds the lock: if the server ended it, the lock is gone and so
        // is the commit, never a commit without the lock.
        let mut session = self.lock_session.lock().unwrap_or_else(PoisonError::into_inner);
        let client = match session.as_mut() {
            Some(client) if self.campaign_writer.load(Ordering::Acquire) && !client.is_closed() => client,
            _ => {
                self.campaign_writer.store(false, Ordering::Release);
                return Err(StoreError::NotTheWriter(
                    "campaigns in PostgreSQL are written by one process at a time, and this one does not hold the \
                     campaign lock (not taken, or lost with its connection)"
                        .to_owned(),
                ));
            }
        };
        let writes = campaigns::commit_writes(commit);
        let committed = retry_conflicts(client, |client| {
            let mut tx = client.transaction()?;
            crate::trees::apply(&mut tx, &writes)?;
            tx.commit()?;
            Ok(())
        });
        match committed {
            // The server ended the session (and the lock with it) under the commit.
            Err(error) if client.is_closed() => {
                self.campaign_writer.store(false, Ordering::Release);
                *session = None;
                Err(StoreError::NotTheWriter(format!("the campaign lock was lost with its connection ({error})")))
            }
            other => other,
        }
    }

    fn claim_writer(&self) -> Result<bool> {
        self.become_campaign_writer()
    }
}

impl PgStore {
    /// Tries to become the one process that writes campaigns: takes the campaign lock on a
    /// session of its own, held as long as the store (a session the server ended loses it:
    /// ask again). Returns false while another process holds it.
    ///
    /// # Errors
    /// Database failures.
    pub fn become_campaign_writer(&self) -> Result<bool> {
        let mut session = self.lock_session.lock().unwrap_or_else(PoisonError::into_inner);
        if self.campaign_writer.load(Ordering::Acquire) {
            // Asked, not assumed: an idle session the server ended looks open until used.
            if session.as_mut().is_some_and(|client| client.batch_execute("").is_ok()) {
                return Ok(true);
            }
            self.campaign_writer.store(false, Ordering::Release);
            tracing::warn!(message = "The campaign lock was lost with its connection; taking it again.", url = %self.shown_url);
        }
        let client =
            match session.as_mut() {
                Some(client) if !client.is_closed() => client,
                _ => session.insert(self.connector.connect().map_err(|message| {
                    StoreError::Database(format!("no connection to {}: {message}", self.shown_url))
                })?),
            };
        let row = client
            .query_one("SELECT pg_try_advisory_lock($1, hashtext(current_schema()))", &[&CAMPAIGN_LOCK])
            .map_err(db)?;
        let taken: bool = row.try_get(0).map_err(db)?;
        self.campaign_writer.store(taken, Ordering::Release);
        if !taken {
            // Nothing to hold: the session closes rather than wait idle for the next try.
            *session = None;
        }
        Ok(taken)
    }
}
