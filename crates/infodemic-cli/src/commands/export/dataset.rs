//! `export --format jsonl|csv|parquet`: a dataset and its card.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use anyhow::Context;
use infodemic_export::{CardInput, Destination, Export, Format, Pseudonymizer, SplitSpec, Splitter, Thresholds};

use super::{scan, ExportArgs, ExportFormat};
use crate::cli::GlobalArgs;
use crate::exit::{Exit, UsageError};

/// The pseudonym key, in the data directory: created on first use, readable by the user only,
/// never exported.
pub const PSEUDONYM_KEY_FILE: &str = "pseudonym.key";

pub fn run(args: &ExportArgs, global: &GlobalArgs) -> anyhow::Result<Exit> {
    let format = match args.format {
        ExportFormat::Jsonl => Format::Jsonl,
        ExportFormat::Csv => Format::Csv,
        _ => Format::Parquet,
    };
    let Some(out) = args.output.as_deref() else {
        return Err(UsageError(format!(
            "--out PATH is required for --format {}: the file (or with --split, the directory) to write",
            format.extension()
        ))
        .into());
    };
    let Some(backend) = global.open_backend(false)? else {
        return Err(UsageError("the store is empty: nothing to export (crawl first)".to_owned()).into());
    };
    let pseudonymizer =
        if args.pseudonymize { Some(Pseudonymizer::new(pseudonym_key(&global.data_dir()?)?)) } else { None };
    let thresholds = model_thresholds(global);
    let mut stories = None;
    let destination = match &args.split {
        None => {
            if out.is_dir() {
                return Err(
                    UsageError(format!("{} is a directory; without --split, --out is a file", out.display())).into()
                );
            }
            Destination::File(out.to_path_buf())
        }
        Some(spec) => {
            if out.is_file() {
                return Err(
                    UsageError(format!("{} is a file; with --split, --out is a directory", out.display())).into()
                );
            }
            let spec = SplitSpec::parse(spec).map_err(|e| UsageError(e.to_string()))?;
            // A first pass groups the items into stories, so none straddles the split.
            let mut first = scan(&backend, &args.filters, false, HashMap::new())?;
            let grouped = infodemic_pipeline::group_stories(&mut first, args.filters.limit)?;
            let splitter = if args.test_sources.is_empty() {
                Splitter::new(spec, args.seed, grouped.sources())
            } else {
                Splitter::with_test_sources(spec, args.seed, &args.test_sources)
            };
            tracing::info!(message = "Stories grouped for the split.", multi_item = grouped.multi_item_stories());
            stories = Some(grouped);
            Destination::Split(out.to_path_buf(), splitter)
        }
    };
    let mut scan = scan(&backend, &args.filters, false, thresholds)?;
    let mut export = Export::new(format, destination, pseudonymizer)?;
    let progress = crate::progress::counter(global.quiet, "items");
    infodemic_pipeline::write_dataset(&mut scan, &mut export, stories.as_ref(), args.filters.limit, &|_| {
        progress.inc(1);
    })?;
    progress.finish_and_clear();
    let card = CardInput {
        command: std::env::args().collect(),
        filters: serde_json::to_value(&args.filters)?,
        split: args.split.clone(),
        licence: args.licence.clone(),
    };
    let card = export.finish(card)?;
    let mut err = std::io::stderr().lock();
    for file in &card.files {
        writeln!(err, "{}: {} row(s), sha256 {}", file.name, file.rows, file.sha256)?;
    }
    let card_at = match &args.split {
        Some(_) => out.join("card.json").display().to_string(),
        None => format!("{}.card.json", out.display()),
    };
    writeln!(err, "{} row(s) of {} read; card: {card_at} (and .md)", card.counts.rows, scan.read())?;
    Ok(Exit::Success)
}

/// The thresholds of every model in the models directory, by (id, version): rows carry the
/// thresholds of the model that scored them when it is at hand.
fn model_thresholds(global: &GlobalArgs) -> HashMap<(String, String), Thresholds> {
    let mut found = HashMap::new();
    let Ok(located) = infodemic_pipeline::locate_model_dir(global.model.as_deref()) else { return found };
    let mut dirs = vec![located.path.clone()];
    if let Some(parent) = located.path.parent() {
        if let Ok(entries) = std::fs::read_dir(parent) {
            dirs.extend(entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.join("model.toml").is_file()));
        }
    }
    for dir in dirs {
        if let Ok(manifest) = infodemic_classifier::ModelManifest::read(&dir) {
            let thresholds = Thresholds { flag: manifest.flag_threshold(), review: manifest.review_threshold() };
            found.entry((manifest.model.id.clone(), manifest.model.version.clone())).or_insert(thresholds);
        }
    }
    found
}

/// The data directory's pseudonym key, created (32 bytes from the OS, mode 0600) on first use.
fn pseudonym_key(data_dir: &Path) -> anyhow::Result<[u8; infodemic_export::pseudonym::KEY_BYTES]> {
    let path = data_dir.join(PSEUDONYM_KEY_FILE);
    let mut key = [0u8; infodemic_export::pseudonym::KEY_BYTES];
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let bytes = hex::decode(text.trim()).ok().filter(|b| b.len() == key.len()).ok_or_else(|| {
                UsageError(format!(
                    "{} is not a pseudonym key (64 hex characters); restore it from a backup",
                    path.display()
                ))
            })?;
            key.copy_from_slice(&bytes);
            Ok(key)
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("no random key: {e}"))?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&path).with_context(|| format!("cannot create {}", path.display()))?;
            file.write_all(hex::encode(key).as_bytes())?;
            file.sync_all()?;
            tracing::info!(message = "Pseudonym key created; keep it to keep pseudonyms stable.", path = %path.display());
            Ok(key)
        }
        Err(error) => Err(anyhow::Error::new(error).context(format!("cannot read {}", path.display()))),
    }
}
