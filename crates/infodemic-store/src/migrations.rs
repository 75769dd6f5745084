//! Schema versions and the migrations between them. Append-only: never edit a migration
//! that has shipped, add the next one.

/// The schema this build writes.
pub const CURRENT_SCHEMA: u32 = 1;

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
    },
}

/// Runs every migration from `found` up to [`CURRENT_SCHEMA`]. There are none yet: schema 1
/// is the first. A v1 → v2 migration goes here as `fn v1_to_v2(db: &sled::Db)`.
pub(crate) fn migrate(_db: &sled::Db, found: u32) -> crate::Result<SchemaOutcome> {
    debug_assert!(found < CURRENT_SCHEMA);
    Ok(SchemaOutcome::Migrated { from: found })
}
