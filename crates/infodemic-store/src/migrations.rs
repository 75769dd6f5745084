//! Schema versions and the migrations between them. Append-only: never edit a migration
//! that has shipped, add the next one.
//!
//! | schema | what changed |
//! |---|---|
//! | 1 | first release: item records v1, feed-state records v1 |
//! | 2 | item records v2 (review flag, language support, evidence, claim match), feed-state
//! |   | records v2 (failure score, adaptive interval, next poll, body hash), `claims` tree |
//! | 3 | item records v3 (claim and refute probabilities, reasons, stance toward the matched
//! |   | claim); claim records v2 (the model that embedded the claim) |
//! | 4 | feed-state records v3 (entries in the document and entries dropped at the last read,
//! |   | the server's Retry-After);
//! |   | nothing rewritten: v2 records read with zeros, rewritten by the next crawl of the feed |
//!
//! New trees need no schema step: the campaign trees and the review trees (`verdict_events`,
//! `reviewed`) read as empty in a store that never had them, and the `counts` of `stats` are
//! built at open when `meta/counts_version` is missing (and again after any migration).
//!
//! Feed-state v1 records are read as they are (the missing fields have safe values) and
//! rewritten as v2 by the next crawl of their feed. Claim v1 records are read as embedded by an
//! unknown model and rewritten as v2 when they are embedded again (the next crawl, `claims
//! match` or `claims reembed`): which model embedded them cannot be known, so no migration
//! invents it.

use crate::records::{self, StoredItemV1, StoredItemV3};
use crate::{Result, StoreError};

/// The schema this build writes.
pub const CURRENT_SCHEMA: u32 = 4;

/// What opening found and did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchemaOutcome {
    /// A new, empty store was stamped with [`CURRENT_SCHEMA`].
    Created,
    /// The store was already current.
    Current,
    /// Migrated from an older version.
    Migrated {
        /// Version found on disk.
        from: u32,
        /// Records rewritten.
        records: u64,
    },
}

/// Runs every migration from `found` up to [`CURRENT_SCHEMA`], in order. Each step is one
/// sled transaction over the trees it touches, so a crash leaves the old or the new schema.
pub(crate) fn migrate(db: &sled::Db, found: u32) -> Result<SchemaOutcome> {
    let mut records = 0;
    if found < 2 {
        records += v1_to_v2(db)?;
    }
    if found < 3 {
        records += v2_to_v3(db)?;
    }
    Ok(SchemaOutcome::Migrated { from: found, records })
}

/// Item records v1 → v2. Reading v1 stays supported (so this is not required for
/// correctness), but rewriting keeps one format on disk and proves the path for later
/// migrations that will be required.
fn v1_to_v2(db: &sled::Db) -> Result<u64> {
    let items = db.open_tree("items")?;
    let mut batch = sled::Batch::default();
    let mut rewritten = 0;
    for entry in items.iter() {
        let (key, value) = entry?;
        if value.first() != Some(&1) {
            continue;
        }
        let v1: StoredItemV1 = postcard::from_bytes(&value[1..])
            .map_err(|e| StoreError::Corrupt { tree: "items", message: e.to_string() })?;
        let scored = v1.into_domain()?;
        batch.insert(key, records::encode_item(&scored));
        rewritten += 1;
    }
    items.apply_batch(batch)?;
    Ok(rewritten)
}

/// Item records v2 → v3. The fields v3 adds were not kept before: claim and refute are
/// unknown (`None`), there are no reasons and no stance. Records of any older version are
/// rewritten as v3 (explicitly, not as whatever is current when this runs), so the store
/// holds one item format; all of them in one batch (atomic in sled).
fn v2_to_v3(db: &sled::Db) -> Result<u64> {
    let items = db.open_tree("items")?;
    let mut batch = sled::Batch::default();
    let mut rewritten = 0;
    for entry in items.iter() {
        let (key, value) = entry?;
        if value.first().is_none_or(|version| *version >= 3) {
            continue;
        }
        let scored = records::decode_item(&value)?;
        batch.insert(key, records::encode(3, &StoredItemV3::from(&scored)));
        rewritten += 1;
    }
    items.apply_batch(batch)?;
    Ok(rewritten)
}
