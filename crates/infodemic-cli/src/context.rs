//! What commands share: the data dir, the store, the model.

use std::path::PathBuf;

use anyhow::Context;
use infodemic_classifier::SessionOptions;
use infodemic_core::{FeedSpec, VerdictScale};
use infodemic_pipeline::{load_model, LoadedModel};
use infodemic_service::memory::SERVICE_CACHE_MIB;
use infodemic_service::ServiceClient;
use infodemic_store::{CampaignReader, ItemReader, ReviewLog, SledStore, StoreError, Upkeep, UpkeepObserver};
use infodemic_store_postgres::PgStore;

use crate::cli::GlobalArgs;
use crate::exit::UsageError;

/// The page cache of the other commands, MiB.
pub const DEFAULT_CACHE_MIB: u64 = 128;

impl GlobalArgs {
    /// The store's page cache in bytes: `--cache-mib`, or the default of this kind of command.
    pub fn cache_bytes(&self) -> u64 {
        let default = if self.long_running { SERVICE_CACHE_MIB } else { DEFAULT_CACHE_MIB };
        self.cache_mib.unwrap_or(default).saturating_mul(1024 * 1024)
    }

    /// The data directory: `--data-dir`, else the platform's data directory.
    pub fn data_dir(&self) -> anyhow::Result<PathBuf> {
        if let Some(dir) = &self.data_dir {
            return Ok(dir.clone());
        }
        directories::ProjectDirs::from("org", "infodemic", "infodemic")
            .map(|dirs| dirs.data_dir().to_path_buf())
            .ok_or_else(|| UsageError("no home directory to put the data in; pass --data-dir DIR".to_owned()).into())
    }

    /// The data directory, created (readable by the user only) when missing.
    pub fn ensure_data_dir(&self) -> anyhow::Result<PathBuf> {
        let dir = self.data_dir()?;
        create_private_dir(&dir).with_context(|| format!("cannot create data directory {}", dir.display()))?;
        Ok(dir)
    }

    /// Opens the store, creating the data directory if needed.
    pub fn open_store(&self) -> anyhow::Result<SledStore> {
        self.embedded_only()?;
        let dir = self.ensure_data_dir()?;
        // A store an older build wrote is counted, summarised or indexed whole at open: minutes
        // for a million items, shown rather than silent.
        let bar = crate::progress::upkeep(self.quiet);
        let observer: UpkeepObserver = {
            let bar = bar.clone();
            std::sync::Arc::new(move |upkeep: Upkeep| {
                bar.set_message(upkeep.task);
                bar.set_length(upkeep.total.unwrap_or(upkeep.done).max(upkeep.done));
                bar.set_position(upkeep.done);
            })
        };
        let opened = SledStore::open_reporting(&dir.join("store"), self.cache_bytes(), Some(observer));
        bar.finish_and_clear();
        let (store, outcome) = opened?;
        tracing::debug!(message = "Store opened.", path = %dir.display(), ?outcome);
        Ok(store)
    }

    /// Refuses to open the embedded store when a PostgreSQL store was named: only `migrate`
    /// reads the embedded store then, and it is told so.
    fn embedded_only(&self) -> anyhow::Result<()> {
        if self.store.is_some() {
            return Err(UsageError(
                "this command reads the data directory's embedded store, but a PostgreSQL store is named \
                 (--store, INFODEMIC_STORE or `store` in config.toml)"
                    .to_owned(),
            )
            .into());
        }
        Ok(())
    }

    /// Opens the store for reading commands: a missing store is an empty answer, not a new
    /// directory.
    pub fn open_existing_store(&self) -> anyhow::Result<Option<SledStore>> {
        self.embedded_only()?;
        let dir = self.data_dir()?;
        if !dir.join("store").exists() {
            return Ok(None);
        }
        self.open_store().map(Some)
    }

    /// The store, or the running `watch` that holds it: `None` when there is no store yet.
    pub fn open_backend(&self, create: bool) -> anyhow::Result<Option<Backend>> {
        if let Some(url) = &self.store {
            let store = PgStore::connect(url)?;
            tracing::debug!(message = "PostgreSQL store opened.", url = store.shown_url());
            return Ok(Some(Backend::Postgres(store)));
        }
        let dir = self.data_dir()?;
        if !create && !dir.join("store").exists() {
            return Ok(None);
        }
        match self.open_store() {
            Ok(store) => Ok(Some(Backend::Local(store))),
            Err(error)
                if error.downcast_ref::<StoreError>().is_some_and(|e| matches!(e, StoreError::Locked { .. })) =>
            {
                // A watch on a PostgreSQL store may announce itself here too: not ours.
                match ServiceClient::discover(&dir)?.filter(|client| client.store_url().is_none()) {
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

    /// The `watch` running on PostgreSQL `store` that announced itself in the data directory,
    /// if one answers there.
    pub fn watch_serving(&self, store: &PgStore) -> anyhow::Result<Option<ServiceClient>> {
        let Some(client) = ServiceClient::discover(&self.data_dir()?)? else { return Ok(None) };
        Ok((client.store_url() == Some(store.shown_url())).then_some(client))
    }

    /// The verdicts reviewers choose from: the data directory's `verdicts.toml` when there
    /// is one, else the ClaimReview-style default.
    pub fn verdict_scale(&self) -> anyhow::Result<VerdictScale> {
        let path = self.data_dir()?.join(VERDICTS_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(VerdictScale::default()),
            Err(error) => return Err(anyhow::Error::new(error).context(format!("cannot read {}", path.display()))),
        };
        let scale: VerdictScale =
            toml::from_str(&text).map_err(|e| UsageError(format!("{}: {}", path.display(), e.message())))?;
        scale.validate().map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
        Ok(scale)
    }

    /// [`Self::open_backend`] for commands that write: a store held by a short-lived command
    /// (`infodemic query --json | infodemic review --batch -`) is waited for, up to
    /// [`LOCK_WAIT`]; a running service is used at once.
    pub fn open_backend_waiting(&self) -> anyhow::Result<Option<Backend>> {
        let started = std::time::Instant::now();
        loop {
            match self.open_backend(false) {
                Err(error)
                    if started.elapsed() < LOCK_WAIT
                        && error
                            .downcast_ref::<StoreError>()
                            .is_some_and(|e| matches!(e, StoreError::Locked { .. })) =>
                {
                    // Another process's flock announces no release: polling is the only way
                    // to wait for it. Not async code, not a test.
                    #[allow(clippy::disallowed_methods)]
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                other => return other,
            }
        }
    }

    /// Locates, verifies and loads the model.
    pub fn load_model(&self, options: SessionOptions) -> anyhow::Result<LoadedModel> {
        Ok(load_model(self.ort_lib.as_deref(), self.model.as_deref(), options)?)
    }
}

/// How long a writing command waits for another command to release the store.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The data directory's verdict scale file.
pub const VERDICTS_FILE: &str = "verdicts.toml";

/// Where reading commands get their answers: the store itself, or the running service.
#[derive(Debug)]
pub enum Backend {
    /// This process opened the store.
    Local(SledStore),
    /// `watch` holds the store; its local API answers.
    Service(ServiceClient),
    /// The store is a PostgreSQL database (`--store`).
    Postgres(PgStore),
}

impl Backend {
    /// The read side.
    pub fn reader(&self) -> &dyn ItemReader {
        match self {
            Backend::Local(store) => store,
            Backend::Service(client) => client,
            Backend::Postgres(store) => store,
        }
    }

    /// The campaign read side.
    pub fn campaigns(&self) -> &dyn CampaignReader {
        match self {
            Backend::Local(store) => store,
            Backend::Service(client) => client,
            Backend::Postgres(store) => store,
        }
    }

    /// Reviewers' verdicts.
    pub fn reviews(&self) -> &dyn ReviewLog {
        match self {
            Backend::Local(store) => store,
            Backend::Service(client) => client,
            Backend::Postgres(store) => store,
        }
    }

    /// Subscribed feeds.
    pub fn subscriptions(&self) -> Result<Vec<FeedSpec>, StoreError> {
        match self {
            Backend::Local(store) => store.subscriptions(),
            Backend::Service(client) => client.subscriptions(),
            Backend::Postgres(store) => infodemic_store::ScoreStore::subscriptions(store),
        }
    }

    /// Subscribes; `true` when new.
    pub fn put_subscription(&self, spec: &FeedSpec) -> Result<bool, StoreError> {
        match self {
            Backend::Local(store) => store.put_subscription(spec),
            Backend::Service(client) => client.put_subscription(spec),
            Backend::Postgres(store) => store.put_subscription(spec),
        }
    }

    /// Unsubscribes; `true` when it was subscribed.
    pub fn remove_subscription(&self, id: &str) -> Result<bool, StoreError> {
        match self {
            Backend::Local(store) => store.remove_subscription(id),
            Backend::Service(client) => client.remove_subscription(id),
            Backend::Postgres(store) => store.remove_subscription(id),
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

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::cli::Cli;

    fn cache_mib(args: &[&str]) -> u64 {
        let mut cli = Cli::try_parse_from(args).unwrap();
        cli.global.long_running = cli.command.is_long_running();
        cli.global.cache_bytes() / (1024 * 1024)
    }

    #[test]
    fn a_service_gets_the_small_cache_unless_told_otherwise() {
        assert_eq!(cache_mib(&["infodemic", "watch"]), infodemic_service::memory::SERVICE_CACHE_MIB);
        assert_eq!(cache_mib(&["infodemic", "query"]), super::DEFAULT_CACHE_MIB);
        assert_eq!(cache_mib(&["infodemic", "--cache-mib", "256", "watch"]), 256);
        assert_eq!(cache_mib(&["infodemic", "query", "--cache-mib", "16"]), 16);
    }
}
