//! Everything the binary writes: tables for people, JSON lines and CSV for programs.

mod item_row;
mod safe;
mod table;

pub use item_row::{CsvRow, EvidenceRow, ItemRow};
pub use safe::{csv_cell, stdout, terminal_safe};
pub use table::{items_table, new_table, score_cell};

use std::io::{self, Write};

/// Output format of listing commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    JsonLines,
    Csv,
}

/// Writes one value as a line of JSON.
pub fn write_json_line<W: Write, T: serde::Serialize>(out: &mut W, value: &T) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

/// Whether an error is a closed stdout (`infodemic query | head`): not a failure.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| cause.downcast_ref::<io::Error>().is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe))
}
