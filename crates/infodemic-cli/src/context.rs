//! What commands share: the data dir, the store, the model.

use std::path::PathBuf;

use anyhow::Context;
use infodemic_classifier::SessionOptions;
use infodemic_core::FeedSpec;
use infodemic_pipeline::{load_model, LoadedModel};
use infodemic_service::ServiceClient;
use infodemic_store::{CampaignReader, ItemReader, SledStore, StoreError};

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
        create_private_dir(&dir).with_context(|| format!("cannot create data directory {}", dir.display()))?;
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

    /// The store, or the running `watch` that holds it: `None` when there is no store yet.
    pub fn open_backend(&self, create: bool) -> anyhow::Result<Option<Backend>> {
        let dir = self.data_dir()?;
        if !create && !dir.join("store").exists() {
            return Ok(None);
        }
        match self.open_store() {
            Ok(store) => Ok(Some(Backend::Local(store))),
            Err(error)
                if error.downcast_ref::<StoreError>().is_some_and(|e| matches!(e, StoreError::Locked { .. })) =>
            {
                match ServiceClient::discover(&dir)? {
                    Some(client) => {
                        tracing::debug!(message = "Store in use; asking the running service.");
                        Ok(Some(Backend::Service(client)))
                    }
                    None => Err(error),
                }
            }
            Err(error) => Err(error),
        }
    }

    /// Locates, verifies and loads the model.
    pub fn load_model(&self, options: SessionOptions) -> anyhow::Result<LoadedModel> {
        Ok(load_model(self.ort_lib.as_deref(), self.model.as_deref(), options)?)
    }
}

/// Where reading commands get their answers: the store itself, or the running service.
#[derive(Debug)]
pub enum Backend {
    /// This process opened the store.
    Local(SledStore),
    /// `watch` holds the store; its local API answers.
    Service(ServiceClient),
}

impl Backend {
    /// The read side.
    pub fn reader(&self) -> &dyn ItemReader {
        match self {
            Backend::Local(store) => store,
            Backend::Service(client) => client,
        }
    }

    /// The campaign read side.
    pub fn campaigns(&self) -> &dyn CampaignReader {
        match self {
            Backend::Local(store) => store,
            Backend::Service(client) => client,
        }
    }

    /// Subscribed feeds.
    pub fn subscriptions(&self) -> Result<Vec<FeedSpec>, StoreError> {
        match self {
            Backend::Local(store) => store.subscriptions(),
            Backend::Service(client) => client.subscriptions(),
        }
    }

    /// Subscribes; `true` when new.
    pub fn put_subscription(&self, spec: &FeedSpec) -> Result<bool, StoreError> {
        match self {
            Backend::Local(store) => store.put_subscription(spec),
            Backend::Service(client) => client.put_subscription(spec),
        }
    }

    /// Unsubscribes; `true` when it was subscribed.
    pub fn remove_subscription(&self, id: &str) -> Result<bool, StoreError> {
        match self {
            Backend::Local(store) => store.remove_subscription(id),
            Backend::Service(client) => client.remove_subscription(id),
        }
    }
}

/// Creates `dir` (and its parents) readable by the user only: it holds the store and the API
/// token. An existing directory is left as the user set it.
fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}
