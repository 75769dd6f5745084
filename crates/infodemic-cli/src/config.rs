//! The data directory's `config.toml`: defaults for the global options, so that a deployment
//! names its PostgreSQL store, model, runtime and cache once. A flag or an environment variable
//! wins over the file.
//!
//! ```toml
//! store = "postgres://infodemic@db.internal/newsroom"
//! model = "/opt/infodemic/models/minilm-constraint-v2"   # relative paths: from the data directory
//! ort_lib = "/opt/onnxruntime/libonnxruntime.so.1.31.1"
//! cache_mib = 256
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::cli::GlobalArgs;
use crate::exit::UsageError;

/// The file's name in the data directory.
pub const CONFIG_FILE: &str = "config.toml";

/// Larger than any real configuration: a bigger file is refused before it is parsed.
const MAX_CONFIG_BYTES: u64 = 64 * 1024;

/// What the file may set. Anything else is refused, so a misspelt key is not silently ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    store: Option<String>,
    model: Option<PathBuf>,
    ort_lib: Option<PathBuf>,
    cache_mib: Option<u64>,
}

impl GlobalArgs {
    /// Fills the options that neither the command line nor the environment gave from the data
    /// directory's `config.toml`, when there is one.
    ///
    /// # Errors
    /// A file that cannot be read, is too large, is not TOML of the known keys, or holds a value
    /// out of range: the user's error (exit 2), naming the file.
    pub fn apply_config(&mut self) -> anyhow::Result<()> {
        // No data directory to be found (no home): no file either; a command that needs the
        // directory says so itself.
        let Ok(dir) = self.data_dir() else { return Ok(()) };
        let path = dir.join(CONFIG_FILE);
        let Some(config) = read(&path)? else { return Ok(()) };
        let bad = |key: &str, why: String| UsageError(format!("{}: {key}: {why}", path.display()));
        if self.store.is_none() {
            if let Some(store) = config.store {
                crate::cli::store_url(&store).map_err(|why| bad("store", why))?;
                self.store = Some(store);
            }
        }
        if self.model.is_none() {
            self.model = config.model.map(|p| from_dir(&dir, p));
        }
        if self.ort_lib.is_none() {
            self.ort_lib = config.ort_lib.map(|p| from_dir(&dir, p));
        }
        if self.cache_mib.is_none() {
            if let Some(mib) = config.cache_mib {
                if !(8..=65_536).contains(&mib) {
                    return Err(bad("cache_mib", format!("{mib} is not in 8..=65536")).into());
                }
                self.cache_mib = Some(mib);
            }
        }
        Ok(())
    }
}

/// The file, parsed; `None` when there is none.
fn read(path: &Path) -> anyhow::Result<Option<ConfigFile>> {
    let shown = path.display();
    let size = match std::fs::metadata(path) {
        Ok(meta) => meta.len(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(UsageError(format!("cannot read {shown}: {error}")).into()),
    };
    if size > MAX_CONFIG_BYTES {
        return Err(UsageError(format!("{shown} is {size} bytes; a configuration holds at most 64 KiB")).into());
    }
    let text = std::fs::read_to_string(path).map_err(|e| UsageError(format!("cannot read {shown}: {e}")))?;
    let config = toml::from_str(&text).map_err(|e| UsageError(format!("{shown}: {e}")))?;
    Ok(Some(config))
}

/// A path from the file: relative ones start at the data directory.
fn from_dir(dir: &Path, path: PathBuf) -> PathBuf {
    if path.is_relative() {
        dir.join(path)
    } else {
        path
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::Cli;

    fn global(data: &Path, args: &[&str]) -> anyhow::Result<GlobalArgs> {
        let mut argv = vec!["infodemic", "--data-dir", data.to_str().unwrap(), "stats"];
        argv.extend_from_slice(args);
        let mut global = Cli::try_parse_from(argv)?.global;
        global.apply_config()?;
        Ok(global)
    }

    #[test]
    fn the_file_fills_what_flags_leave_open() {
        let data = tempfile::tempdir().unwrap();
        assert!(global(data.path(), &[]).unwrap().store.is_none(), "no file, no store");
        std::fs::write(
            data.path().join(CONFIG_FILE),
            "store = \"postgres://ann@127.0.0.1/news\"\nmodel = \"models/v2\"\ncache_mib = 256\n",
        )
        .unwrap();
        let filled = global(data.path(), &[]).unwrap();
        assert_eq!(filled.store.as_deref(), Some("postgres://ann@127.0.0.1/news"));
        assert_eq!(filled.model, Some(data.path().join("models/v2")));
        assert_eq!(filled.cache_mib, Some(256));
        let flags = global(data.path(), &["--store", "postgres://ben@127.0.0.1/other", "--cache-mib", "64"]).unwrap();
        assert_eq!((flags.store.as_deref(), flags.cache_mib), (Some("postgres://ben@127.0.0.1/other"), Some(64)));
    }

    #[test]
    fn a_bad_file_is_the_users_error_naming_it() {
        let data = tempfile::tempdir().unwrap();
        for (text, expected) in [
            ("stor = \"postgres://x/y\"\n", "unknown field `stor`"),
            ("store = \"/var/lib/db\"\n", "store: expected a postgres:// URL"),
            ("cache_mib = 4\n", "cache_mib: 4 is not in"),
            ("store = [\n", "config.toml"),
        ] {
            std::fs::write(data.path().join(CONFIG_FILE), text).unwrap();
            let error = global(data.path(), &[]).unwrap_err();
            assert!(error.downcast_ref::<UsageError>().is_some(), "{text}: {error}");
            let message = error.to_string();
            assert!(message.contains(expected) && message.contains("config.toml"), "{text}: {message}");
        }
        std::fs::write(data.path().join(CONFIG_FILE), " ".repeat(70_000)).unwrap();
        assert!(global(data.path(), &[]).unwrap_err().to_string().contains("at most 64 KiB"));
    }
}
