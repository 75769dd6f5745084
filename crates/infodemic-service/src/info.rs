//! `service.json`: how other processes find the running service.

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ServiceError;

/// The file, in the data directory.
pub const INFO_FILE: &str = "service.json";

/// Where the service listens and how to authenticate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceInfo {
    /// `127.0.0.1:PORT`.
    pub address: String,
    /// The serving process.
    pub pid: u32,
    /// Bearer token for every request.
    pub token: String,
    /// When it started.
    pub started: DateTime<Utc>,
    /// The PostgreSQL store it serves (its URL without the password); absent for the
    /// embedded store of this data directory. Commands on another store must not ask it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
}

impl ServiceInfo {
    /// Writes the file, readable and writable by the user only.
    ///
    /// # Errors
    /// I/O failures.
    pub fn write(&self, data_dir: &Path) -> Result<(), ServiceError> {
        let path = data_dir.join(INFO_FILE);
        let temp = data_dir.join(format!("{INFO_FILE}.tmp"));
        let json = serde_json::to_vec_pretty(self).map_err(|e| ServiceError::Info(e.to_string()))?;
        // A new file, never one found there: the mode below only applies to a file this call
        // creates, and an existing temporary file (or a link planted in its place) could be
        // readable by others.
        match std::fs::remove_file(&temp) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error.into()),
            _ => {}
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temp)?;
        file.write_all(&json)?;
        file.sync_all()?;
        std::fs::rename(temp, path)?;
        Ok(())
    }

    /// Reads the file; `None` when there is none.
    ///
    /// # Errors
    /// I/O failures other than absence, or a malformed file.
    pub fn read(data_dir: &Path) -> Result<Option<Self>, ServiceError> {
        match std::fs::read(data_dir.join(INFO_FILE)) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| ServiceError::Info(e.to_string())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// Removes the file (when the service stops).
    pub fn remove(data_dir: &Path) {
        let _ = std::fs::remove_file(data_dir.join(INFO_FILE));
    }
}
