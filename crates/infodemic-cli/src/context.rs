//! What commands share: the data dir, the store, the model.

use std::path::PathBuf;

use anyhow::Context;
use infodemic_classifier::SessionOptions;
use infodemic_pipeline::{load_model, LoadedModel};
use infodemic_store::SledStore;

use crate::cli::GlobalArgs;
use crate::exit::UsageError;

impl GlobalArgs {
    /// The data directory: `--data-dir`, else the platform's data directory.
    pub fn data_dir(&self) -> anyhow::Result<PathBuf> {
        if let Some(dir) = &self.data_dir {
            return Ok(dir.clone());
        }
        directories::ProjectDirs::from("org", "infodemic", "infodemic")
            .map(|dirs| dirs.data_dir().to_path_buf())
            .ok_or_else(|| UsageError("no home directory to put the data in; pass --data-dir DIR".to_owned()).into())
    }

    /// Opens the store, creating the data directory if needed.
    pub fn open_store(&self) -> anyhow::Result<SledStore> {
        let dir = self.data_dir()?;
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create data directory {}", dir.display()))?;
        let (store, outcome) = SledStore::open(&dir.join("store"))?;
        tracing::debug!(message = "Store opened.", path = %dir.display(), ?outcome);
        Ok(store)
    }

    /// Opens the store for reading commands: a missing store is an empty answer, not a new
    /// directory.
    pub fn open_existing_store(&self) -> anyhow::Result<Option<SledStore>> {
        let dir = self.data_dir()?;
        if !dir.join("store").exists() {
            return Ok(None);
        }
        self.open_store().map(Some)
    }

    /// Locates, verifies and loads the model.
    pub fn load_model(&self, options: SessionOptions) -> anyhow::Result<LoadedModel> {
        Ok(load_model(self.ort_lib.as_deref(), self.model.as_deref(), options)?)
    }
}
