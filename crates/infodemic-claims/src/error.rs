//! The one error type of the crate: what went wrong, and on which line.

/// Why claims could not be read, or an embedding could not be indexed.
///
/// Line numbers are 1-based lines of the input (for CSV, the line where the record starts;
/// for a single JSON document, the line of the parse error).
#[derive(Debug, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum ClaimsError {
    /// The input is not valid JSON (or one JSON line is not).
    #[error("line {line}: invalid JSON: {message}")]
    Json {
        /// Line of the error.
        line: usize,
        /// The parser's message.
        message: String,
    },
    /// A JSON record is neither a ClaimReview nor a Fact Check Tools claim.
    #[error("{at}: not a ClaimReview (found {found})")]
    NotClaimReview {
        /// Where the record is.
        at: Location,
        /// What the record looked like instead (its `@type`, or its kind).
        found: String,
    },
    /// A record lacks a field it cannot do without, or has it empty.
    #[error("{at}: missing `{field}`")]
    MissingField {
        /// Where the record is.
        at: Location,
        /// The field's name.
        field: &'static str,
    },
    /// The CSV header has no column of this name.
    #[error("line 1: missing `{column}` column in the header")]
    MissingColumn {
        /// The required column.
        column: &'static str,
    },
    /// The input is empty: not even a header row.
    #[error("empty input: expected a header row")]
    Empty,
    /// A date that is neither RFC 3339 nor `YYYY-MM-DD` (optionally with a time).
    #[error("line {line}: bad date `{value}` (expected RFC 3339 or YYYY-MM-DD)")]
    BadDate {
        /// Line of the record.
        line: usize,
        /// The text found.
        value: String,
    },
    /// A `verdict` cell that names no [`crate::Verdict`].
    #[error("line {line}: unknown verdict `{value}` (expected one of {expected})", expected = crate::Verdict::NAMES.join(", "))]
    UnknownVerdict {
        /// Line of the record.
        line: usize,
        /// The text found.
        value: String,
    },
    /// A malformed CSV record (bad quoting, invalid UTF-8, wrong number of fields).
    #[error("line {line}: {message}")]
    Csv {
        /// Line of the record (0 when the reader could not tell).
        line: usize,
        /// What was wrong.
        message: String,
    },
    /// An embedding whose length is not the index's dimension.
    #[error("embedding has {found} dimensions, the index holds {expected}")]
    Dimension {
        /// The index's dimension.
        expected: usize,
        /// The embedding's length.
        found: usize,
    },
    /// An embedding with a NaN or infinite value, or of length zero.
    #[error("embedding is zero or not finite")]
    BadEmbedding,
}

/// Where a record is in the input: its line, and for an element of a JSON array, its
/// 1-based position in the array (JSON values carry no line numbers of their own).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location {
    /// 1-based line where the record (or the array holding it) starts.
    pub line: usize,
    /// 1-based position in the array on that line, if the record is an array element.
    pub element: Option<usize>,
}

impl Location {
    /// A record on `line`.
    pub fn line(line: usize) -> Self {
        Self { line, element: None }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.element {
            Some(element) => write!(f, "line {}, element {element}", self.line),
            None => write!(f, "line {}", self.line),
        }
    }
}

/// A result with [`ClaimsError`].
pub type Result<T, E = ClaimsError> = std::result::Result<T, E>;
