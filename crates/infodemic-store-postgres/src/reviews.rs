//! Reviewers' verdicts in PostgreSQL: the logs and heads of `infodemic_store::reviews`, rows of
//! `tree_records`. Any number of processes record verdicts at once: each batch is derived and
//! written in one transaction that holds the schema's review lock (an advisory lock released
//! at commit), so two batches on one item never derive its head from the same stale log.
//! Sequence numbers come from `verdict_seq`.

use std::cell::RefCell;

use chrono::Utc;
use infodemic_core::{ItemId, NewVerdict, QueueEntry, QueueRequest, RecordedVerdicts, VerdictEvent, VerdictScale};
use infodemic_store::reviews::{self, LogView, ReviewStore, EVENTS_TREE};
use infodemic_store::{ReviewHead, ReviewLog, TreeWrite};
use postgres::Transaction;

use crate::{db, retry_conflicts, trees::prefix_end, PgError, PgStore, Result};

/// The advisory lock class of verdict batches ("revw" in ASCII); the other half is the schema.
const REVIEW_LOCK: i32 = 0x7265_7677;

/// The logs as a batch's transaction sees them, under the review lock.
struct TxLogView<'a, 'b> {
    tx: RefCell<&'a mut Transaction<'b>>,
}

impl LogView for TxLogView<'_, '_> {
    fn verdicts(&self, item: ItemId) -> Result<Vec<VerdictEvent>> {
        let prefix = item.as_bytes().to_vec();
        let end = prefix_end(&prefix);
        let rows = self
            .tx
            .borrow_mut()
            .query(
                "SELECT value FROM tree_records WHERE tree = $1 AND key >= $2 AND ($3::bytea IS NULL OR key < $3) \
                 ORDER BY key",
                &[&EVENTS_TREE, &prefix, &end],
            )
            .map_err(db)?;
        rows.iter()
            .map(|row| {
                let value: &[u8] = row.try_get(0).map_err(db)?;
                reviews::decode_event(value)
            })
            .collect()
    }

    fn next_seq(&self) -> Result<u64> {
        let row = self.tx.borrow_mut().query_one("SELECT nextval('verdict_seq')", &[]).map_err(db)?;
        let seq: i64 = row.try_get(0).map_err(db)?;
        Ok(u64::try_from(seq).unwrap_or(0))
    }
}

impl ReviewStore for PgStore {
    fn append_locked(
        &self,
        derive: &mut dyn FnMut(&dyn LogView) -> infodemic_store::Result<Vec<TreeWrite>>,
    ) -> Result<()> {
        // Verdict events are appended, not put: again on another connection only when the
        // server had closed this one before the COMMIT was sent (nothing was written then).
        self.on_connection_until_commit(|connection, committing| {
            retry_conflicts(&mut connection.client, |client| {
                let mut tx = client.transaction()?;
                tx.execute("SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))", &[&REVIEW_LOCK])?;
                let writes = derive(&TxLogView { tx: RefCell::new(&mut tx) }).map_err(PgError::Store)?;
                crate::trees::apply(&mut tx, &writes)?;
                *committing = true;
                tx.commit()?;
                Ok(())
            })
        })
    }
}

impl ReviewLog for PgStore {
    fn verdict_scale(&self, local: &VerdictScale) -> Result<VerdictScale> {
        Ok(local.clone())
    }

    fn verdicts(&self, item: ItemId) -> Result<Vec<VerdictEvent>> {
        reviews::verdicts(self, item)
    }

    fn review_heads(&self, limit: Option<usize>) -> Result<Vec<ReviewHead>> {
        reviews::review_heads(self, limit)
    }

    fn review_heads_of(&self, items: &[ItemId]) -> Result<Vec<Option<ReviewHead>>> {
        items.iter().map(|item| reviews::review_head(self, *item)).collect()
    }

    fn review_queue(&self, request: &QueueRequest) -> Result<Vec<QueueEntry>> {
        reviews::review_queue(self, request)
    }

    fn record_verdicts(
        &self,
        batch: &[NewVerdict],
        scale: &VerdictScale,
        all_or_nothing: bool,
    ) -> Result<RecordedVerdicts> {
        reviews::record_verdicts(self, batch, scale, Utc::now(), all_or_nothing)
    }

    fn undo_verdicts(&self, items: &[ItemId], reviewer: &str) -> Result<RecordedVerdicts> {
        reviews::undo_verdicts(self, items, reviewer, Utc::now())
    }
}

impl PgStore {
    /// Moves the verdict sequence past every sequence number stored (after verdicts were
    /// copied in from another store), so new events sort after them.
    ///
    /// # Errors
    /// Database failures.
    pub fn sync_verdict_sequence(&self) -> Result<()> {
        // The key is the item id (8 bytes) and the sequence number, big-endian (8 bytes).
        self.on_connection(|connection| {
            connection
                .client
                .execute(
                    "SELECT setval('verdict_seq', greatest(1, coalesce((SELECT max(('x' || \
                     encode(substring(key from 9 for 8), 'hex'))::bit(64)::bigint) FROM tree_records \
                     WHERE tree = $1), 0)))",
                    &[&EVENTS_TREE],
                )
                .map_err(db)
        })?;
        Ok(())
    }
}
