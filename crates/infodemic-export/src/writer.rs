//! Files of rows: JSON lines and CSV here, Parquet in [`crate::parquet`]. Every writer streams
//! (memory does not grow with the number of rows), hashes what it writes, and writes to
//! `NAME.partial` until [`RowSink::finish`] renames it: an interrupted export leaves no file
//! that looks complete.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::row::{ExportRow, COLUMNS};
use crate::ExportError;

/// The file formats of a dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// One JSON object per line.
    Jsonl,
    /// RFC 4180 CSV, UTF-8, with a header; formula-like cells defused.
    Csv,
    /// Apache Parquet (one row group per 8,192 rows).
    Parquet,
}

impl Format {
    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        }
    }
}

/// A finished file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSummary {
    /// Its name, relative to the card.
    pub name: String,
    /// Rows written.
    pub rows: u64,
    /// Bytes.
    pub bytes: u64,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
}

/// Where rows go.
pub trait RowSink {
    /// Writes one row.
    ///
    /// # Errors
    /// I/O failures.
    fn write(&mut self, row: &ExportRow) -> Result<(), ExportError>;

    /// Flushes, closes and renames the file into place.
    ///
    /// # Errors
    /// I/O failures.
    fn finish(self: Box<Self>) -> Result<FileSummary, ExportError>;
}

/// Opens a sink for `path` in `format`.
///
/// # Errors
/// When the file cannot be created.
pub fn open_sink(path: &Path, format: Format) -> Result<Box<dyn RowSink>, ExportError> {
    let file = PartialFile::create(path)?;
    Ok(match format {
        Format::Jsonl => Box::new(JsonlSink { out: file, rows: 0 }),
        Format::Csv => Box::new(CsvSink::new(file)?),
        Format::Parquet => Box::new(crate::parquet::ParquetSink::new(file)?),
    })
}

/// A file written as `NAME.partial`, hashed as it is written, renamed to `NAME` when done.
pub struct PartialFile {
    out: BufWriter<File>,
    hasher: Sha256,
    bytes: u64,
    partial: PathBuf,
    path: PathBuf,
}

impl PartialFile {
    /// Creates `path.partial` (replacing one left by an interrupted export).
    ///
    /// # Errors
    /// When it cannot be created.
    pub fn create(path: &Path) -> Result<Self, ExportError> {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let partial = path.with_file_name(format!("{name}.partial"));
        let file = File::create(&partial).map_err(|e| ExportError::io(&partial, e))?;
        Ok(Self {
            out: BufWriter::with_capacity(1 << 20, file),
            hasher: Sha256::new(),
            bytes: 0,
            partial,
            path: path.to_path_buf(),
        })
    }

    /// Flushes, renames into place, and describes the file.
    ///
    /// # Errors
    /// I/O failures.
    pub fn finish(mut self, rows: u64) -> Result<FileSummary, ExportError> {
        self.out.flush().map_err(|e| ExportError::io(&self.partial, e))?;
        let file = self.out.into_inner().map_err(|e| ExportError::io(&self.partial, e.into_error()))?;
        file.sync_all().map_err(|e| ExportError::io(&self.partial, e))?;
        drop(file);
        std::fs::rename(&self.partial, &self.path).map_err(|e| ExportError::io(&self.path, e))?;
        let name = self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        Ok(FileSummary { name, rows, bytes: self.bytes, sha256: hex::encode(self.hasher.finalize()) })
    }
}

impl std::fmt::Debug for PartialFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartialFile").field("path", &self.path).field("bytes", &self.bytes).finish_non_exhaustive()
    }
}

impl Write for PartialFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self.out.write(buf)?;
        self.hasher.update(&buf[..written]);
        self.bytes += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

struct JsonlSink {
    out: PartialFile,
    rows: u64,
}

impl RowSink for JsonlSink {
    fn write(&mut self, row: &ExportRow) -> Result<(), ExportError> {
        serde_json::to_writer(&mut self.out, row).map_err(|e| ExportError::Write(e.to_string()))?;
        self.out.write_all(b"\n").map_err(|e| ExportError::Write(e.to_string()))?;
        self.rows += 1;
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<FileSummary, ExportError> {
        self.out.finish(self.rows)
    }
}

struct CsvSink {
    out: csv::Writer<PartialFile>,
    rows: u64,
}

impl CsvSink {
    fn new(file: PartialFile) -> Result<Self, ExportError> {
        // RFC 4180: CRLF line ends, quotes doubled, fields with separators quoted.
        let mut out = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(file);
        out.write_record(COLUMNS).map_err(|e| ExportError::Write(e.to_string()))?;
        Ok(Self { out, rows: 0 })
    }
}

/// A row as CSV cells, in [`COLUMNS`] order, every text cell defused for spreadsheets.
fn cells(row: &ExportRow) -> Vec<String> {
    let text = |value: &str| infodemic_core::text::csv_cell(value).into_owned();
    let optional = |value: &Option<String>| value.as_deref().map(text).unwrap_or_default();
    let number = |value: Option<f32>| value.map(|v| v.to_string()).unwrap_or_default();
    vec![
        text(&row.id),
        text(&row.url),
        text(&row.title),
        text(&row.text),
        text(&row.source),
        optional(&row.source_category),
        optional(&row.author),
        optional(&row.published),
        text(&row.fetched),
        optional(&row.language),
        text(&row.model_id),
        text(&row.model_version),
        number(row.score),
        row.flagged.to_string(),
        row.review.to_string(),
        number(row.flag_threshold),
        number(row.review_threshold),
        text(&row.reasons),
        optional(&row.evidence),
        optional(&row.matched_claim),
        optional(&row.matched_claim_verdict),
        optional(&row.matched_claim_url),
        optional(&row.campaign),
        optional(&row.verdict),
        row.verdict_count.to_string(),
        optional(&row.agreement),
        optional(&row.feed_url),
        text(&row.content_hash),
        optional(&row.split),
    ]
}

impl RowSink for CsvSink {
    fn write(&mut self, row: &ExportRow) -> Result<(), ExportError> {
        self.out.write_record(cells(row)).map_err(|e| ExportError::Write(e.to_string()))?;
        self.rows += 1;
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<FileSummary, ExportError> {
        let file = self.out.into_inner().map_err(|e| ExportError::Write(e.error().to_string()))?;
        file.finish(self.rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_has_a_cell() {
        let row: ExportRow = serde_json::from_value(serde_json::json!({
            "id": "0101010101010101", "url": "https://e.org", "title": "=HYPERLINK(\"x\")", "text": "t",
            "source": "s", "source_category": null, "author": "@someone", "published": null,
            "fetched": "2026-01-01T00:00:00Z", "language": "en", "model_id": "m", "model_version": "1",
            "score": 0.5, "flagged": false, "review": false, "flag_threshold": null, "review_threshold": null,
            "reasons": "", "evidence": null, "matched_claim": null, "matched_claim_verdict": null,
            "matched_claim_url": null, "campaign": null, "verdict": null, "verdict_count": 0,
            "agreement": null, "feed_url": null, "content_hash": "00", "split": null
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let cells = cells(&row);
        assert_eq!(cells.len(), COLUMNS.len());
        assert_eq!(cells[2], "'=HYPERLINK(\"x\")", "formulas are defused");
        assert_eq!(cells[6], "'@someone");
        // JSON keys are the CSV header, in order.
        let json = serde_json::to_value(&row).unwrap_or_default();
        let keys: Vec<&str> = json.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
        let mut sorted_columns: Vec<&str> = COLUMNS.to_vec();
        sorted_columns.sort_unstable();
        let mut sorted_keys = keys.clone();
        sorted_keys.sort_unstable();
        assert_eq!(sorted_keys, sorted_columns);
    }
}
