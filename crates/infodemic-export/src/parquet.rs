//! Apache Parquet: the rows as Arrow record batches, written by the `parquet` crate's
//! [`ArrowWriter`] into a [`PartialFile`].
//!
//! # Layout
//! - One column per name of [`COLUMNS`], in that order. Text is `Utf8` (nullable where the row's
//!   field is an `Option`), `score`, `flag_threshold` and `review_threshold` are nullable
//!   `Float32`, `flagged` and `review` are `Boolean`, `verdict_count` is `UInt32`.
//! - `published` and `fetched` stay RFC 3339 UTF-8 strings, not a timestamp type: every format
//!   (JSON lines, CSV, Parquet) holds the same columns with the same values, so a dataset reads
//!   the same whichever file a researcher picks; a reader that wants timestamps parses them
//!   (`pd.to_datetime`, DuckDB's `CAST(published AS TIMESTAMPTZ)`).
//! - Text is stored as it is: unlike CSV cells, nothing is defused for spreadsheets, since a
//!   Parquet value is typed data that no reader evaluates as a formula.
//! - A row group per [`ROW_GROUP_ROWS`] rows (and one for the rest at the end); a row group is
//!   closed early when its text passes [`ROW_GROUP_TEXT_BYTES`], which bounds memory whatever the
//!   length of the texts (and keeps Arrow's 32-bit string offsets far from overflowing).
//! - Snappy compression; the file's key-value metadata holds `infodemic.columns_version = 1`
//!   next to the Arrow schema that `ArrowWriter` embeds.
//!
//! # Memory
//! Rows are appended to Arrow column builders; every row group the builders are turned into a
//! record batch, written and emptied. Memory is bounded by one row group, not the export.

use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Float32Builder, StringBuilder, UInt32Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

use crate::row::{ExportRow, COLUMNS};
use crate::writer::{FileSummary, PartialFile, RowSink};
use crate::ExportError;

/// Rows per row group (and per record batch).
pub const ROW_GROUP_ROWS: usize = 8192;

/// Bytes of text after which a row group is closed before it has [`ROW_GROUP_ROWS`] rows.
pub const ROW_GROUP_TEXT_BYTES: usize = 128 << 20;

/// The key of the file's key-value metadata that versions the columns, and its value.
pub const COLUMNS_VERSION: (&str, &str) = ("infodemic.columns_version", "1");

/// The Arrow type of each column, in [`COLUMNS`] order, and whether it may be null.
const TYPES: [(DataType, bool); 29] = [
    (DataType::Utf8, false),    // id
    (DataType::Utf8, false),    // url
    (DataType::Utf8, false),    // title
    (DataType::Utf8, false),    // text
    (DataType::Utf8, false),    // source
    (DataType::Utf8, true),     // source_category
    (DataType::Utf8, true),     // author
    (DataType::Utf8, true),     // published
    (DataType::Utf8, false),    // fetched
    (DataType::Utf8, true),     // language
    (DataType::Utf8, false),    // model_id
    (DataType::Utf8, false),    // model_version
    (DataType::Float32, true),  // score
    (DataType::Boolean, false), // flagged
    (DataType::Boolean, false), // review
    (DataType::Float32, true),  // flag_threshold
    (DataType::Float32, true),  // review_threshold
    (DataType::Utf8, false),    // reasons
    (DataType::Utf8, true),     // evidence
    (DataType::Utf8, true),     // matched_claim
    (DataType::Utf8, true),     // matched_claim_verdict
    (DataType::Utf8, true),     // matched_claim_url
    (DataType::Utf8, true),     // campaign
    (DataType::Utf8, true),     // verdict
    (DataType::UInt32, false),  // verdict_count
    (DataType::Utf8, true),     // agreement
    (DataType::Utf8, true),     // feed_url
    (DataType::Utf8, false),    // content_hash
    (DataType::Utf8, true),     // split
];

/// The Arrow schema of the rows: [`COLUMNS`] with their types.
pub fn schema() -> Schema {
    let fields: Vec<Field> =
        COLUMNS.iter().zip(TYPES).map(|(name, (data_type, nullable))| Field::new(*name, data_type, nullable)).collect();
    Schema::new(fields)
}

/// One value of a row.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Cell<'a> {
    Text(Option<&'a str>),
    Number(Option<f32>),
    Flag(bool),
    Count(u32),
}

/// A row's values, in [`COLUMNS`] order.
fn cells(row: &ExportRow) -> [Cell<'_>; 29] {
    use Cell::{Count, Flag, Number, Text};
    [
        Text(Some(&row.id)),
        Text(Some(&row.url)),
        Text(Some(&row.title)),
        Text(Some(&row.text)),
        Text(Some(&row.source)),
        Text(row.source_category.as_deref()),
        Text(row.author.as_deref()),
        Text(row.published.as_deref()),
        Text(Some(&row.fetched)),
        Text(row.language.as_deref()),
        Text(Some(&row.model_id)),
        Text(Some(&row.model_version)),
        Number(row.score),
        Flag(row.flagged),
        Flag(row.review),
        Number(row.flag_threshold),
        Number(row.review_threshold),
        Text(Some(&row.reasons)),
        Text(row.evidence.as_deref()),
        Text(row.matched_claim.as_deref()),
        Text(row.matched_claim_verdict.as_deref()),
        Text(row.matched_claim_url.as_deref()),
        Text(row.campaign.as_deref()),
        Text(row.verdict.as_deref()),
        Count(row.verdict_count),
        Text(row.agreement.as_deref()),
        Text(row.feed_url.as_deref()),
        Text(Some(&row.content_hash)),
        Text(row.split.as_deref()),
    ]
}

/// The builder of one column.
enum Builder {
    Text(StringBuilder),
    Number(Float32Builder),
    Flag(BooleanBuilder),
    Count(UInt32Builder),
}

impl Builder {
    fn new(data_type: &DataType) -> Result<Self, ExportError> {
        Ok(match data_type {
            DataType::Utf8 => Self::Text(StringBuilder::new()),
            DataType::Float32 => Self::Number(Float32Builder::new()),
            DataType::Boolean => Self::Flag(BooleanBuilder::new()),
            DataType::UInt32 => Self::Count(UInt32Builder::new()),
            other => return Err(ExportError::Write(format!("parquet: no builder for {other}"))),
        })
    }

    fn append(&mut self, cell: Cell<'_>, column: &str) -> Result<(), ExportError> {
        match (self, cell) {
            (Self::Text(builder), Cell::Text(value)) => builder.append_option(value),
            (Self::Number(builder), Cell::Number(value)) => builder.append_option(value),
            (Self::Flag(builder), Cell::Flag(value)) => builder.append_value(value),
            (Self::Count(builder), Cell::Count(value)) => builder.append_value(value),
            (_, cell) => return Err(ExportError::Write(format!("parquet: column {column} cannot hold {cell:?}"))),
        }
        Ok(())
    }

    /// The column so far; the builder is left empty.
    fn finish(&mut self) -> ArrayRef {
        match self {
            Self::Text(builder) => Arc::new(builder.finish()),
            Self::Number(builder) => Arc::new(builder.finish()),
            Self::Flag(builder) => Arc::new(builder.finish()),
            Self::Count(builder) => Arc::new(builder.finish()),
        }
    }
}

fn parquet_error(error: impl std::fmt::Display) -> ExportError {
    ExportError::Write(format!("parquet: {error}"))
}

/// Rows into a Parquet file.
pub struct ParquetSink {
    writer: ArrowWriter<PartialFile>,
    schema: SchemaRef,
    builders: Vec<Builder>,
    /// Rows in the builders.
    buffered: usize,
    /// Bytes of text in the builders.
    buffered_text: usize,
    rows: u64,
}

impl std::fmt::Debug for ParquetSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetSink")
            .field("file", self.writer.inner())
            .field("rows", &self.rows)
            .field("buffered", &self.buffered)
            .finish_non_exhaustive()
    }
}

impl ParquetSink {
    /// A sink writing into `out`.
    ///
    /// # Errors
    /// When the Parquet writer cannot be set up.
    pub fn new(out: PartialFile) -> Result<Self, ExportError> {
        let schema = Arc::new(schema());
        let builders = TYPES.iter().map(|(data_type, _)| Builder::new(data_type)).collect::<Result<Vec<_>, _>>()?;
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_key_value_metadata(Some(vec![KeyValue::new(
                COLUMNS_VERSION.0.to_owned(),
                COLUMNS_VERSION.1.to_owned(),
            )]))
            .build();
        let writer = ArrowWriter::try_new(out, Arc::clone(&schema), Some(properties)).map_err(parquet_error)?;
        Ok(Self { writer, schema, builders, buffered: 0, buffered_text: 0, rows: 0 })
    }

    /// Writes the buffered rows as one record batch and closes their row group.
    fn flush(&mut self) -> Result<(), ExportError> {
        if self.buffered == 0 {
            return Ok(());
        }
        let columns: Vec<ArrayRef> = self.builders.iter_mut().map(Builder::finish).collect();
        self.buffered = 0;
        self.buffered_text = 0;
        let batch = RecordBatch::try_new(Arc::clone(&self.schema), columns).map_err(parquet_error)?;
        self.writer.write(&batch).map_err(parquet_error)?;
        self.writer.flush().map_err(parquet_error)
    }
}

impl RowSink for ParquetSink {
    fn write(&mut self, row: &ExportRow) -> Result<(), ExportError> {
        let cells = cells(row);
        let text: usize =
            cells.iter().map(|cell| if let Cell::Text(Some(value)) = cell { value.len() } else { 0 }).sum();
        if self.buffered_text + text > ROW_GROUP_TEXT_BYTES {
            self.flush()?;
        }
        for ((builder, cell), column) in self.builders.iter_mut().zip(cells).zip(COLUMNS) {
            builder.append(cell, column)?;
        }
        self.buffered += 1;
        self.buffered_text += text;
        self.rows += 1;
        if self.buffered >= ROW_GROUP_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<FileSummary, ExportError> {
        self.flush()?;
        let this = *self;
        // Writes the footer and gives the file back.
        let out = this.writer.into_inner().map_err(parquet_error)?;
        out.finish(this.rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float32Type, UInt32Type};
    use arrow_array::Array;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    fn row(i: usize) -> ExportRow {
        let even = i.is_multiple_of(2);
        ExportRow {
            id: format!("{i:016x}"),
            url: format!("https://example.org/{i}"),
            title: if i == 7 { "Vaccins 💉 et «rumeurs» — مرحبا".to_owned() } else { format!("title {i}") },
            text: format!("text {i}\nsecond line"),
            source: "example".to_owned(),
            source_category: even.then(|| "authority".to_owned()),
            author: None,
            published: even.then(|| "2026-01-02T03:04:05Z".to_owned()),
            fetched: "2026-01-02T04:00:00Z".to_owned(),
            language: Some("en".to_owned()),
            model_id: "m".to_owned(),
            model_version: "1".to_owned(),
            score: (!i.is_multiple_of(3)).then_some(i as f32 / 100_000.0),
            flagged: i.is_multiple_of(5),
            review: i.is_multiple_of(7),
            flag_threshold: even.then_some(0.8),
            review_threshold: even.then_some(0.5),
            reasons: String::new(),
            evidence: None,
            matched_claim: None,
            matched_claim_verdict: None,
            matched_claim_url: None,
            campaign: i.is_multiple_of(11).then(|| format!("c{i}")),
            verdict: None,
            verdict_count: u32::try_from(i % 4).unwrap(),
            agreement: None,
            feed_url: None,
            content_hash: format!("{:064x}", i * 31),
            split: None,
        }
    }

    fn write(path: &std::path::Path, rows: impl Iterator<Item = ExportRow>) -> FileSummary {
        let mut sink: Box<dyn RowSink> = Box::new(ParquetSink::new(PartialFile::create(path).unwrap()).unwrap());
        for row in rows {
            sink.write(&row).unwrap();
        }
        sink.finish().unwrap()
    }

    #[test]
    fn the_types_match_the_row() {
        assert_eq!(TYPES.len(), COLUMNS.len());
        let full = ExportRow {
            source_category: Some(String::new()),
            author: Some(String::new()),
            evidence: Some(String::new()),
            matched_claim: Some(String::new()),
            matched_claim_verdict: Some(String::new()),
            matched_claim_url: Some(String::new()),
            verdict: Some(String::new()),
            agreement: Some(String::new()),
            feed_url: Some(String::new()),
            split: Some(String::new()),
            ..row(2)
        };
        for row in [full, row(3)] {
            for ((cell, (data_type, nullable)), column) in cells(&row).into_iter().zip(TYPES).zip(COLUMNS) {
                let (kind, null) = match cell {
                    Cell::Text(value) => (DataType::Utf8, value.is_none()),
                    Cell::Number(value) => (DataType::Float32, value.is_none()),
                    Cell::Flag(_) => (DataType::Boolean, false),
                    Cell::Count(_) => (DataType::UInt32, false),
                };
                assert_eq!(kind, data_type, "{column}");
                assert!(nullable || !null, "{column} is null but not nullable");
            }
        }
        // The JSON field of each column is an Option exactly when the column is nullable.
        let json = serde_json::to_value(row(3)).unwrap();
        for (column, (_, nullable)) in COLUMNS.iter().zip(TYPES) {
            if !nullable {
                assert!(!json[column].is_null(), "{column} is never null");
            }
        }
    }

    #[test]
    fn twenty_thousand_rows_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rows.parquet");
        let summary = write(&path, (0..20_000).map(row));
        assert_eq!(summary.rows, 20_000);
        assert_eq!(summary.name, "rows.parquet");
        assert!(!dir.path().join("rows.parquet.partial").exists());
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(summary.bytes, bytes.len() as u64);
        assert_eq!(&bytes[..4], b"PAR1");

        let builder = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path).unwrap()).unwrap();
        let metadata = builder.metadata().clone();
        let groups: Vec<i64> = metadata.row_groups().iter().map(|g| g.num_rows()).collect();
        assert_eq!(groups, [8192, 8192, 3616]);
        assert_eq!(metadata.file_metadata().num_rows(), 20_000);
        let kv = metadata.file_metadata().key_value_metadata().unwrap();
        assert!(kv.iter().any(|kv| kv.key == COLUMNS_VERSION.0 && kv.value.as_deref() == Some("1")));
        let read_schema = builder.schema().clone();
        let names: Vec<&str> = read_schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, COLUMNS);
        for (field, (data_type, nullable)) in read_schema.fields().iter().zip(TYPES) {
            assert_eq!((field.data_type(), field.is_nullable()), (&data_type, nullable), "{}", field.name());
        }

        let mut i = 0;
        for batch in builder.build().unwrap() {
            let batch = batch.unwrap();
            let column = |name: &str| batch.column_by_name(name).unwrap().clone();
            let (id, title, published, author) = (column("id"), column("title"), column("published"), column("author"));
            let (score, flagged, review, count) =
                (column("score"), column("flagged"), column("review"), column("verdict_count"));
            let (flag_threshold, campaign) = (column("flag_threshold"), column("campaign"));
            assert_eq!(author.null_count(), batch.num_rows());
            for r in 0..batch.num_rows() {
                let expected = row(i);
                assert_eq!(id.as_string::<i32>().value(r), expected.id);
                assert_eq!(title.as_string::<i32>().value(r), expected.title);
                let published = published.as_string::<i32>();
                assert_eq!(published.is_valid(r).then(|| published.value(r)), expected.published.as_deref());
                let campaign = campaign.as_string::<i32>();
                assert_eq!(campaign.is_valid(r).then(|| campaign.value(r)), expected.campaign.as_deref());
                let score = score.as_primitive::<Float32Type>();
                assert_eq!(score.is_valid(r).then(|| score.value(r)), expected.score);
                let flag_threshold = flag_threshold.as_primitive::<Float32Type>();
                assert_eq!(flag_threshold.is_valid(r).then(|| flag_threshold.value(r)), expected.flag_threshold);
                assert_eq!(flagged.as_boolean().value(r), expected.flagged);
                assert_eq!(review.as_boolean().value(r), expected.review);
                assert_eq!(count.as_primitive::<UInt32Type>().value(r), expected.verdict_count);
                i += 1;
            }
        }
        assert_eq!(i, 20_000);
        // The emoji and right-to-left title came back byte for byte (checked above for row 7).
        assert!(row(7).title.contains('💉'));
    }

    #[test]
    fn an_empty_export_is_a_valid_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.parquet");
        let summary = write(&path, std::iter::empty());
        assert_eq!(summary.rows, 0);
        let builder = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path).unwrap()).unwrap();
        assert_eq!(builder.metadata().file_metadata().num_rows(), 0);
        assert_eq!(builder.schema().fields().len(), COLUMNS.len());
    }

    #[test]
    fn long_texts_close_row_groups_early() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("long.parquet");
        // 3 MiB of text a row: 42 rows fit under 128 MiB.
        let long = "x".repeat(3 << 20);
        let summary = write(&path, (0..50).map(|i| ExportRow { text: long.clone(), ..row(i) }));
        assert_eq!(summary.rows, 50);
        let builder = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path).unwrap()).unwrap();
        let groups: Vec<i64> = builder.metadata().row_groups().iter().map(|g| g.num_rows()).collect();
        assert_eq!(groups, [42, 8]);
    }
}
