use std::path::PathBuf;

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Another process has the database open.
    #[error("the data directory {} is in use by another infodemic process (sled holds an exclusive lock); stop it or use another --data-dir", path.display())]
    Locked {
        /// The database directory.
        path: PathBuf,
    },
    /// The database could not be opened for another reason.
    #[error("cannot open the store at {}: {message}", path.display())]
    Open {
        /// The database directory.
        path: PathBuf,
        /// sled's message.
        message: String,
    },
    /// The data was written by a newer infodemic.
    #[error(
        "the store has schema version {found}, newer than this infodemic understands ({supported}); upgrade infodemic"
    )]
    SchemaTooNew {
        /// Version on disk.
        found: u32,
        /// Newest version this build knows.
        supported: u32,
    },
    /// A stored record could not be decoded.
    #[error("corrupt record in `{tree}`: {message}")]
    Corrupt {
        /// The tree.
        tree: &'static str,
        /// What went wrong.
        message: String,
    },
    /// sled failed.
    #[error("storage: {0}")]
    Sled(#[from] sled::Error),
    /// The full-text index failed.
    #[error("full-text index: {0}")]
    Search(String),
    /// The PostgreSQL server failed or refused (the message says which).
    #[error("PostgreSQL: {0}")]
    Database(String),
    /// The running service answered with an error, or could not be reached.
    #[error("the running infodemic service: {0}")]
    Remote(String),
    /// Only one process at a time may do this, and this one is not it (the campaign writer).
    #[error("{0}")]
    NotTheWriter(String),
}

impl From<sled::transaction::TransactionError<StoreError>> for StoreError {
    fn from(error: sled::transaction::TransactionError<StoreError>) -> Self {
        match error {
            sled::transaction::TransactionError::Abort(inner) => inner,
            sled::transaction::TransactionError::Storage(inner) => StoreError::Sled(inner),
        }
    }
}
