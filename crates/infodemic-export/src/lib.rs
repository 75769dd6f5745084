//! Research exports: dataset rows with provenance, keyed pseudonyms, splits that keep a story on
//! one side, JSON lines / CSV / Parquet files written as streams, and the dataset card.
//!
//! # Architecture
//! A sink: it writes files, and knows nothing of the store or the network. The caller (the CLI)
//! pages items out of the store, gives each its [`RowContext`], and hands the rows to an
//! [`Export`], which assigns splits, pseudonymizes, counts for the card, and writes.
#![deny(missing_docs)]

mod card;
mod error;
pub mod parquet;
pub mod pseudonym;
mod row;
pub mod split;
mod writer;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use card::{CardCounts, DatasetCard};
pub use error::ExportError;
pub use pseudonym::Pseudonymizer;
pub use row::{ExportRow, RowContext, Thresholds, COLUMNS};
pub use split::{Side, SplitSpec, Splitter, Story, StoryGrouper, StoryMap, STORY_SIMHASH_BITS};
pub use writer::{open_sink, FileSummary, Format, PartialFile, RowSink};

/// Where an export writes: one file, or one file per split in a directory.
#[derive(Debug)]
pub enum Destination {
    /// `PATH` is the file; the card is `PATH.card.json` and `PATH.card.md`.
    File(PathBuf),
    /// `PATH` is a directory with `train.EXT`, `test.EXT`, `card.json`, `card.md`.
    Split(PathBuf, Splitter),
}

/// An export in progress.
pub struct Export {
    format: Format,
    destination: Destination,
    pseudonymizer: Option<Pseudonymizer>,
    sinks: BTreeMap<Side, Box<dyn RowSink>>,
    single: Option<Box<dyn RowSink>>,
    counts: CardCounts,
}

impl std::fmt::Debug for Export {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Export").field("format", &self.format).field("rows", &self.counts.rows).finish_non_exhaustive()
    }
}

impl Export {
    /// Opens the files.
    ///
    /// # Errors
    /// When a file or the directory cannot be created.
    pub fn new(
        format: Format,
        destination: Destination,
        pseudonymizer: Option<Pseudonymizer>,
    ) -> Result<Self, ExportError> {
        let mut sinks = BTreeMap::new();
        let mut single = None;
        match &destination {
            Destination::File(path) => single = Some(open_sink(path, format)?),
            Destination::Split(dir, _) => {
                std::fs::create_dir_all(dir).map_err(|e| ExportError::io(dir, e))?;
                for side in [Side::Train, Side::Test] {
                    let path = dir.join(format!("{}.{}", side.name(), format.extension()));
                    sinks.insert(side, open_sink(&path, format)?);
                }
            }
        }
        Ok(Self { format, destination, pseudonymizer, sinks, single, counts: CardCounts::default() })
    }

    /// Writes one row, pseudonymized if asked. With a split, the row goes to the side of its
    /// `story` (a story of the row alone when `None`; `time` is its publication, else fetch,
    /// time).
    ///
    /// # Errors
    /// I/O failures.
    pub fn write(
        &mut self,
        mut row: ExportRow,
        time: chrono::DateTime<chrono::Utc>,
        story: Option<&Story>,
    ) -> Result<(), ExportError> {
        let sink = match &self.destination {
            Destination::File(_) => self.single.as_mut(),
            Destination::Split(_, splitter) => {
                let side = match story {
                    Some(story) => splitter.side(story),
                    None => splitter.side(&Story::single(&row.id, time, &row.source)),
                };
                row.split = Some(side.name().to_owned());
                self.sinks.get_mut(&side)
            }
        };
        if let Some(pseudonymizer) = &self.pseudonymizer {
            pseudonymizer.apply(&mut row);
        }
        self.counts.add(&row);
        match sink {
            Some(sink) => sink.write(&row),
            None => Err(ExportError::Write("no open file for the row".to_owned())),
        }
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.counts.rows
    }

    /// Closes the files and writes the card; returns it.
    ///
    /// # Errors
    /// I/O failures.
    pub fn finish(self, mut card: CardInput) -> Result<DatasetCard, ExportError> {
        let mut files = Vec::new();
        if let Some(sink) = self.single {
            files.push(sink.finish()?);
        }
        for (_, sink) in self.sinks {
            files.push(sink.finish()?);
        }
        let (json_path, md_path, split) = match &self.destination {
            Destination::File(path) => (with_suffix(path, ".card.json"), with_suffix(path, ".card.md"), None),
            Destination::Split(dir, splitter) => {
                let mut split = serde_json::json!({ "spec": card.split.take() });
                if !splitter.test_sources().is_empty() {
                    split["test_sources"] = serde_json::json!(splitter.test_sources());
                }
                (dir.join("card.json"), dir.join("card.md"), Some(split))
            }
        };
        let dataset = DatasetCard {
            schema: "infodemic-dataset-card/1".to_owned(),
            created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            command: card.command,
            filters: card.filters,
            format: self.format.extension().to_owned(),
            split,
            pseudonymized: self.pseudonymizer.is_some(),
            licence: card.licence,
            columns: COLUMNS.iter().map(|c| (*c).to_owned()).collect(),
            files,
            counts: self.counts,
        };
        let json = serde_json::to_vec_pretty(&dataset).map_err(|e| ExportError::Write(e.to_string()))?;
        write_whole(&json_path, &json)?;
        write_whole(&md_path, dataset.markdown().as_bytes())?;
        Ok(dataset)
    }
}

/// What the card says that the rows cannot: how the export was asked for.
#[derive(Clone, Debug, Default)]
pub struct CardInput {
    /// The command line.
    pub command: Vec<String>,
    /// The filters.
    pub filters: serde_json::Value,
    /// The split as given.
    pub split: Option<String>,
    /// The licence note.
    pub licence: Option<String>,
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn write_whole(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    let mut file = PartialFile::create(path)?;
    std::io::Write::write_all(&mut file, bytes).map_err(|e| ExportError::io(path, e))?;
    file.finish(0).map(|_| ())
}
