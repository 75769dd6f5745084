//! Apache Parquet: written by a helper (placeholder until then).

use crate::row::ExportRow;
use crate::writer::{FileSummary, PartialFile, RowSink};
use crate::ExportError;

/// Rows into a Parquet file.
#[derive(Debug)]
pub struct ParquetSink {
    out: PartialFile,
    rows: u64,
}

impl ParquetSink {
    /// A sink writing into `out`.
    ///
    /// # Errors
    /// Never yet.
    pub fn new(out: PartialFile) -> Result<Self, ExportError> {
        Ok(Self { out, rows: 0 })
    }
}

impl RowSink for ParquetSink {
    fn write(&mut self, _row: &ExportRow) -> Result<(), ExportError> {
        self.rows += 1;
        Err(ExportError::Write("parquet is not written yet".to_owned()))
    }

    fn finish(self: Box<Self>) -> Result<FileSummary, ExportError> {
        self.out.finish(self.rows)
    }
}
