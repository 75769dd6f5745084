//! Ordered key/value trees, as a store keeps the records of campaigns and of reviews: sled's
//! own trees, or rows keyed by tree and key in PostgreSQL. Keys compare as bytes. The records,
//! their keys and their reading are written once, over [`RecordTrees`] (`campaigns`,
//! `reviews`), so both stores keep byte-identical records and a copy moves them as they are.

use sled::transaction::ConflictableTransactionError;
use sled::Transactional;

use crate::{Result, SledStore, StoreError};

/// One change of a batch: `value` under `key` in `tree`, or the key removed (`None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeWrite {
    /// The tree's name.
    pub tree: &'static str,
    /// The key (big-endian ids and positions: byte order is id order).
    pub key: Vec<u8>,
    /// The versioned record, or `None` to remove the key.
    pub value: Option<Vec<u8>>,
}

impl TreeWrite {
    /// `value` under `key`.
    pub fn put(tree: &'static str, key: &[u8], value: Vec<u8>) -> Self {
        Self { tree, key: key.to_vec(), value: Some(value) }
    }

    /// `key` removed.
    pub fn remove(tree: &'static str, key: &[u8]) -> Self {
        Self { tree, key: key.to_vec(), value: None }
    }
}

/// Named ordered key/value trees (see the module docs).
pub trait RecordTrees {
    /// The value under `key` in `tree`.
    ///
    /// # Errors
    /// Storage failures.
    fn get_record(&self, tree: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>>;

    /// The entries of `tree` whose key starts with `prefix`, in key order, at most `limit`.
    ///
    /// # Errors
    /// Storage failures.
    fn scan_records(&self, tree: &'static str, prefix: &[u8], limit: Option<usize>) -> Result<Vec<(Vec<u8>, Vec<u8>)>>;

    /// How many entries `tree` holds.
    ///
    /// # Errors
    /// Storage failures.
    fn count_records(&self, tree: &'static str) -> Result<usize>;

    /// Applies every one of `writes`, in order, in one transaction, or none.
    ///
    /// # Errors
    /// Storage failures; nothing is written then.
    fn write_records(&self, writes: &[TreeWrite]) -> Result<()>;
}

impl RecordTrees for SledStore {
    fn get_record(&self, tree: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.tree(tree)?.get(key)?.map(|value| value.to_vec()))
    }

    fn scan_records(&self, tree: &'static str, prefix: &[u8], limit: Option<usize>) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let tree = self.tree(tree)?;
        let mut out = Vec::new();
        for entry in tree.scan_prefix(prefix).take(limit.unwrap_or(usize::MAX)) {
            let (key, value) = entry?;
            out.push((key.to_vec(), value.to_vec()));
        }
        Ok(out)
    }

    fn count_records(&self, tree: &'static str) -> Result<usize> {
        Ok(self.tree(tree)?.len())
    }

    fn write_records(&self, writes: &[TreeWrite]) -> Result<()> {
        let mut names: Vec<&'static str> = writes.iter().map(|write| write.tree).collect();
        names.sort_unstable();
        names.dedup();
        let trees = names.iter().map(|name| self.tree(name)).collect::<Result<Vec<sled::Tree>>>()?;
        trees
            .as_slice()
            .transaction(|trees| {
                for write in writes {
                    // Found: `names` holds every write's tree.
                    let Ok(at) = names.binary_search(&write.tree) else { continue };
                    let tree = &trees[at];
                    match &write.value {
                        Some(value) => tree.insert(write.key.as_slice(), value.as_slice())?,
                        None => tree.remove(write.key.as_slice())?,
                    };
                }
                Ok::<_, ConflictableTransactionError<StoreError>>(())
            })
            .map_err(StoreError::from)
    }
}
