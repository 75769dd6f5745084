//! Coordinated sharing, as CooRTweet finds it: accounts that share the same object (a link, a
//! retweeted post, a hashtag) within a few seconds of each other, again and again.
//!
//! A port of CooRTweet 2.1.3 (Righetti & Balluff, MIT) `detect_groups` followed by
//! `generate_coordinated_network(edge_weight, subgraph = 0, objects = TRUE)`. It gives the same
//! evidence pairs, edges and weight threshold as the R code, row for row: the parity test
//! (`tests/coortweet_reference.rs`) compares it with CooRTweet's own output on its bundled data.
//!
//! The rules, in order (the names are CooRTweet's):
//!
//! 1. **Pre-filter.** Accounts with fewer than `min_participation` shares (rows) are dropped.
//! 2. **Co-shares.** Within one `object_id`, every two shares at most `time_window_secs` apart
//!    (inclusive) are a pair.
//! 3. **Loops.** A pair is dropped when both shares are by one account, when both have the same
//!    `content_id`, or when the object is one of the two content ids.
//! 4. **Participation, again.** An account qualifies when at least `min_participation` of its
//!    shares are in a remaining pair; a pair stays when *either* side's content id belongs to a
//!    qualifying account.
//! 5. **Orientation.** `content_id`/`account_id` is the older share, `time_delta` the gap in
//!    seconds. Between simultaneous shares the first in CooRTweet's row order (accounts in order
//!    of first appearance, then input order) is the older one.
//! 6. **Edges.** Pairs are grouped by their two accounts: `weight` counts pairs (an object can
//!    count twice), `n_content_id`/`n_content_id_y` count the distinct older/newer content ids
//!    (by side, not by account), `symmetry` is the smaller count over the larger.
//! 7. **Threshold.** An edge is above the threshold when its weight is strictly greater than the
//!    `edge_weight_quantile` quantile (R's type 7) of all edge weights.
//!
//! ```
//! use infodemic_campaigns::coordination::{detect, CoordinationParams, Share};
//!
//! let share = |object: &str, account: &str, content: &str, timestamp| Share {
//!     object_id: object.into(),
//!     account_id: account.into(),
//!     content_id: content.into(),
//!     timestamp,
//! };
//! let shares = [
//!     share("post-1", "alice", "a1", 100),
//!     share("post-1", "bob", "b1", 104),
//!     share("post-2", "alice", "a2", 500),
//!     share("post-2", "bob", "b2", 501),
//! ];
//! let network = detect(&shares, &CoordinationParams::default());
//! assert_eq!(network.edges.len(), 1);
//! assert_eq!(network.edges[0].weight, 2);
//! assert_eq!(network.edges[0].objects, ["post-1", "post-2"]);
//! ```
//!
//! # Architecture
//!
//! Pure and synchronous: the readers parse bytes they are given, the rest is arithmetic. Ids are
//! interned once, so the pair search and the grouping compare integers; strings are compared
//! only to sort the output by byte order, as R does under the C collation. Within an object the
//! shares are sorted by time and each one is paired only with the shares inside its window, so
//! the cost is the number of pairs the window allows, not the square of the object's shares.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The most shares the readers accept from one input; a larger input is refused, not cut.
pub const MAX_SHARES: usize = 5_000_000;

/// The columns (CSV) or keys (JSON lines) the readers need; others are ignored.
const FIELDS: [&str; 4] = ["object_id", "account_id", "content_id", "timestamp_share"];

/// One share: an account posting content that carries an object, at a time.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Share {
    /// What was shared: the retweeted post, the link, the hashtag.
    pub object_id: String,
    /// Who shared it.
    pub account_id: String,
    /// The account's own post that shared it.
    pub content_id: String,
    /// When, in POSIX seconds.
    pub timestamp: i64,
}

/// CooRTweet's parameters (`time_window`, `min_participation`, `edge_weight`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CoordinationParams {
    /// The longest gap, in seconds, between two shares of one object that still makes them a
    /// pair (inclusive). A negative window finds nothing.
    pub time_window_secs: i64,
    /// The fewest shares an account needs, before and again after the pair search (0 turns the
    /// second check off, as in CooRTweet).
    pub min_participation: usize,
    /// The quantile of all edge weights (0 to 1) an edge's weight must exceed to be above the
    /// threshold.
    pub edge_weight_quantile: f64,
}

impl Default for CoordinationParams {
    /// CooRTweet's defaults: 10 s, 2 shares, the median.
    fn default() -> Self {
        Self { time_window_secs: 10, min_participation: 2, edge_weight_quantile: 0.5 }
    }
}

impl CoordinationParams {
    /// Checks what CooRTweet checks, and the window's sign.
    ///
    /// # Errors
    /// [`CoordinationError::InvalidParameter`] for a negative window or a quantile outside
    /// 0 to 1 (or NaN).
    pub fn validate(&self) -> Result<(), CoordinationError> {
        if self.time_window_secs < 0 {
            return Err(CoordinationError::InvalidParameter {
                name: "time_window_secs",
                problem: format!("{} is negative", self.time_window_secs),
            });
        }
        if !(0.0..=1.0).contains(&self.edge_weight_quantile) {
            return Err(CoordinationError::InvalidParameter {
                name: "edge_weight_quantile",
                problem: format!("{} is not between 0 and 1", self.edge_weight_quantile),
            });
        }
        Ok(())
    }
}

/// Two accounts sharing one object within the window: one row of CooRTweet's `detect_groups`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CoShare {
    /// The object both shared.
    pub object_id: String,
    /// The older share.
    pub content_id: String,
    /// The newer share.
    pub content_id_y: String,
    /// Seconds between the two (0 up to the window).
    pub time_delta: i64,
    /// The older share's account.
    pub account_id: String,
    /// The newer share's account.
    pub account_id_y: String,
}

/// Two accounts and the co-shares that link them: one edge of CooRTweet's network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoordinationEdge {
    /// The account that sorts first (byte order).
    pub account_a: String,
    /// The other account.
    pub account_b: String,
    /// How many co-shares link them (one object can count more than once).
    pub weight: u64,
    /// The mean of their co-shares' `time_delta`, in seconds.
    pub avg_time_delta: f64,
    /// Distinct content ids on the older side of the co-shares, whichever account that was.
    pub n_content_id: u64,
    /// Distinct content ids on the newer side.
    pub n_content_id_y: u64,
    /// `min(n_content_id, n_content_id_y) / max(..)`: 1 when both sides add as much.
    pub symmetry: f64,
    /// Whether `weight` is strictly greater than the network's threshold.
    pub above_threshold: bool,
    /// The objects they co-shared: distinct, in byte order.
    pub objects: Vec<String>,
    /// The content ids of both sides of the co-shares: distinct, in byte order.
    pub content_ids: Vec<String>,
}

/// CooRTweet's full network: every edge, each marked above the weight threshold or not.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CoordinationNetwork {
    /// The edges, sorted by `account_a`, then `account_b`.
    pub edges: Vec<CoordinationEdge>,
    /// The `edge_weight_quantile` quantile of the edge weights (R's type 7); 0 without edges.
    pub threshold: f64,
}

/// The figures CooRTweet's users report about a network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkSummary {
    /// Distinct objects over all edges.
    pub objects_with_pairs: usize,
    /// Distinct accounts over all edges.
    pub vertices: usize,
    /// Edges.
    pub edges: usize,
    /// The sum of the weights: the number of co-shares.
    pub weight_sum: u64,
    /// The largest weight (0 without edges).
    pub max_weight: u64,
    /// How many edges have each weight.
    pub weight_histogram: BTreeMap<u64, usize>,
    /// The weight threshold.
    pub threshold: f64,
    /// Edges above the threshold.
    pub edges_above_threshold: usize,
    /// Distinct accounts over the edges above the threshold.
    pub vertices_above_threshold: usize,
}

impl CoordinationNetwork {
    /// The edges above the threshold (CooRTweet's `subgraph = 1`).
    pub fn edges_above_threshold(&self) -> impl Iterator<Item = &CoordinationEdge> {
        self.edges.iter().filter(|edge| edge.above_threshold)
    }

    /// The network of the edges above the threshold, with the same threshold (CooRTweet's
    /// `subgraph = 1`; accounts without such an edge drop out).
    #[must_use]
    pub fn filtered(&self) -> Self {
        Self { edges: self.edges_above_threshold().cloned().collect(), threshold: self.threshold }
    }

    /// The accounts with at least one edge, in byte order.
    pub fn vertices(&self) -> Vec<&str> {
        let mut vertices = distinct_accounts(self.edges.iter());
        vertices.sort_unstable();
        vertices
    }

    /// The number of accounts with at least one edge.
    pub fn vertex_count(&self) -> usize {
        distinct_accounts(self.edges.iter()).len()
    }

    /// Counts, weights and the threshold.
    pub fn summary(&self) -> NetworkSummary {
        let mut weight_histogram = BTreeMap::new();
        for edge in &self.edges {
            *weight_histogram.entry(edge.weight).or_insert(0) += 1;
        }
        let objects: HashSet<&str> =
            self.edges.iter().flat_map(|edge| edge.objects.iter().map(String::as_str)).collect();
        NetworkSummary {
            objects_with_pairs: objects.len(),
            vertices: self.vertex_count(),
            edges: self.edges.len(),
            weight_sum: self.edges.iter().map(|edge| edge.weight).sum(),
            max_weight: self.edges.iter().map(|edge| edge.weight).max().unwrap_or(0),
            weight_histogram,
            threshold: self.threshold,
            edges_above_threshold: self.edges_above_threshold().count(),
            vertices_above_threshold: distinct_accounts(self.edges_above_threshold()).len(),
        }
    }
}

/// Both accounts of every edge, once each, in no particular order.
fn distinct_accounts<'a>(edges: impl Iterator<Item = &'a CoordinationEdge>) -> Vec<&'a str> {
    let mut seen = HashSet::new();
    for edge in edges {
        seen.insert(edge.account_a.as_str());
        seen.insert(edge.account_b.as_str());
    }
    seen.into_iter().collect()
}

/// Why shares could not be read, or parameters are refused.
///
/// Line numbers are 1-based lines of the input: for CSV the line where the record starts (the
/// header is line 1), for JSON lines the line of the object.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CoordinationError {
    /// The CSV input has no header row.
    #[error("empty input: expected a header row")]
    Empty,
    /// The CSV header lacks a required column.
    #[error("line 1: missing `{column}` column in the header")]
    MissingColumn {
        /// The column's name.
        column: &'static str,
    },
    /// The CSV header names a required column twice, so which one counts is unclear.
    #[error("line 1: `{column}` column appears more than once in the header")]
    DuplicateColumn {
        /// The column's name.
        column: &'static str,
    },
    /// A malformed CSV record (bad quoting, invalid UTF-8).
    #[error("line {line}: {message}")]
    Csv {
        /// Line of the record (0 when the reader could not tell).
        line: usize,
        /// What was wrong.
        message: String,
    },
    /// A line that is not a JSON object.
    #[error("line {line}: invalid JSON: {message}")]
    Json {
        /// Line of the object.
        line: usize,
        /// What was wrong.
        message: String,
    },
    /// A record without an id or timestamp, or with an empty one.
    #[error("line {line}: missing or empty `{field}`")]
    MissingField {
        /// Line of the record.
        line: usize,
        /// The field's name.
        field: &'static str,
    },
    /// A JSON id that is neither a string nor a number.
    #[error("line {line}: `{field}` is {found}, expected a string or a number")]
    BadId {
        /// Line of the record.
        line: usize,
        /// The field's name.
        field: &'static str,
        /// The kind of value found.
        found: &'static str,
    },
    /// A timestamp that is neither POSIX seconds nor an RFC 3339 date-time.
    #[error("line {line}: bad timestamp_share `{value}` (expected POSIX seconds or an RFC 3339 date-time)")]
    BadTimestamp {
        /// Line of the record.
        line: usize,
        /// The value found.
        value: String,
    },
    /// The input holds more shares than the readers accept.
    #[error("line {line}: more than {limit} shares in the input")]
    TooManyShares {
        /// Line of the first share over the limit.
        line: usize,
        /// The limit, [`MAX_SHARES`].
        limit: usize,
    },
    /// A parameter out of its range.
    #[error("invalid `{name}`: {problem}")]
    InvalidParameter {
        /// The parameter's name.
        name: &'static str,
        /// What is wrong with it.
        problem: String,
    },
}

/// Reads shares from CSV with a header row: CooRTweet's columns `object_id`, `account_id`,
/// `content_id` and `timestamp_share`, found by name (any order and case; other columns are
/// ignored). Cells are trimmed. `timestamp_share` is POSIX seconds, as an integer or a number
/// (rounded down to the second), or an RFC 3339 date-time.
///
/// # Errors
/// [`CoordinationError::Empty`] without a header, [`CoordinationError::MissingColumn`] or
/// [`CoordinationError::DuplicateColumn`] for the header, and with the record's line
/// [`CoordinationError::MissingField`], [`CoordinationError::BadTimestamp`],
/// [`CoordinationError::Csv`] (bad quoting, invalid UTF-8) and
/// [`CoordinationError::TooManyShares`] past [`MAX_SHARES`].
pub fn read_shares_csv(bytes: &[u8]) -> Result<Vec<Share>, CoordinationError> {
    read_csv_limited(bytes, MAX_SHARES)
}

fn read_csv_limited(bytes: &[u8], limit: usize) -> Result<Vec<Share>, CoordinationError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(strip_bom(bytes));
    let headers = reader.headers().map_err(|e| csv_error(&e))?.clone();
    if headers.iter().all(|h| h.trim().is_empty()) {
        return Err(CoordinationError::Empty);
    }
    let mut columns = [0; 4];
    for (slot, column) in columns.iter_mut().zip(FIELDS) {
        let mut found = headers.iter().enumerate().filter(|(_, h)| h.trim().eq_ignore_ascii_case(column));
        *slot = found.next().ok_or(CoordinationError::MissingColumn { column })?.0;
        if found.next().is_some() {
            return Err(CoordinationError::DuplicateColumn { column });
        }
    }
    let [object_col, account_col, content_col, time_col] = columns;

    let mut shares = Vec::new();
    // One record, reused: millions of rows should not mean millions of allocations.
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record).map_err(|e| csv_error(&e))? {
        let line = record.position().map_or(0, |p| usize::try_from(p.line()).unwrap_or(usize::MAX));
        if shares.len() >= limit {
            return Err(CoordinationError::TooManyShares { line, limit });
        }
        let cell = |index: usize, field: &'static str| {
            record
                .get(index)
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .ok_or(CoordinationError::MissingField { line, field })
        };
        // Checked in the columns' order, so the first problem of a row is the one reported.
        let object_id = cell(object_col, "object_id")?.to_owned();
        let account_id = cell(account_col, "account_id")?.to_owned();
        let content_id = cell(content_col, "content_id")?.to_owned();
        let time = cell(time_col, "timestamp_share")?;
        let timestamp =
            parse_timestamp(time).ok_or_else(|| CoordinationError::BadTimestamp { line, value: time.to_owned() })?;
        shares.push(Share { object_id, account_id, content_id, timestamp });
    }
    Ok(shares)
}

/// Reads shares from JSON lines: one object per line with the keys `object_id`, `account_id`,
/// `content_id` (strings or numbers) and `timestamp_share` (POSIX seconds as a number, rounded
/// down to the second, or a string holding seconds or an RFC 3339 date-time). Other keys are
/// ignored; blank lines are skipped.
///
/// # Errors
/// With the line: [`CoordinationError::Json`] (not JSON, or not an object),
/// [`CoordinationError::MissingField`] (absent, null or empty), [`CoordinationError::BadId`],
/// [`CoordinationError::BadTimestamp`], and [`CoordinationError::TooManyShares`] past
/// [`MAX_SHARES`].
pub fn read_shares_jsonl(bytes: &[u8]) -> Result<Vec<Share>, CoordinationError> {
    read_jsonl_limited(bytes, MAX_SHARES)
}

fn read_jsonl_limited(bytes: &[u8], limit: usize) -> Result<Vec<Share>, CoordinationError> {
    let mut shares = Vec::new();
    for (index, text) in strip_bom(bytes).split(|&b| b == b'\n').enumerate() {
        let line = index + 1;
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if shares.len() >= limit {
            return Err(CoordinationError::TooManyShares { line, limit });
        }
        let value: Value =
            serde_json::from_slice(text).map_err(|e| CoordinationError::Json { line, message: strip_position(&e) })?;
        let Value::Object(object) = value else {
            return Err(CoordinationError::Json {
                line,
                message: format!("expected an object, found {}", kind_of(&value)),
            });
        };
        let id = |field: &'static str| match object.get(field) {
            None | Some(Value::Null) => Err(CoordinationError::MissingField { line, field }),
            Some(Value::String(s)) if s.trim().is_empty() => Err(CoordinationError::MissingField { line, field }),
            Some(Value::String(s)) => Ok(s.trim().to_owned()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            Some(other) => Err(CoordinationError::BadId { line, field, found: kind_of(other) }),
        };
        let (object_id, account_id, content_id) = (id("object_id")?, id("account_id")?, id("content_id")?);
        let field = "timestamp_share";
        let timestamp = match object.get(field) {
            None | Some(Value::Null) => return Err(CoordinationError::MissingField { line, field }),
            Some(Value::String(s)) if s.trim().is_empty() => {
                return Err(CoordinationError::MissingField { line, field });
            }
            Some(Value::String(s)) => {
                parse_timestamp(s.trim()).ok_or_else(|| CoordinationError::BadTimestamp { line, value: s.clone() })?
            }
            Some(Value::Number(n)) => n
                .as_i64()
                .or_else(|| n.as_f64().and_then(seconds_of_float))
                .ok_or_else(|| CoordinationError::BadTimestamp { line, value: n.to_string() })?,
            Some(other) => return Err(CoordinationError::BadTimestamp { line, value: other.to_string() }),
        };
        shares.push(Share { object_id, account_id, content_id, timestamp });
    }
    Ok(shares)
}

/// POSIX seconds from integer seconds, a decimal number, or an RFC 3339 date-time.
fn parse_timestamp(text: &str) -> Option<i64> {
    if let Ok(seconds) = text.parse::<i64>() {
        return Some(seconds);
    }
    if let Ok(seconds) = text.parse::<f64>() {
        return seconds_of_float(seconds);
    }
    chrono::DateTime::parse_from_rfc3339(text).ok().map(|time| time.timestamp())
}

/// The second a number of seconds falls in; none for NaN, infinities and values past `i64`.
fn seconds_of_float(seconds: f64) -> Option<i64> {
    // 2^63 is exact as an f64; `as` would saturate instead of refusing.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    let floor = seconds.floor();
    (floor.is_finite() && (-LIMIT..LIMIT).contains(&floor)).then_some(floor as i64)
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// A csv error with its line, when the reader knows it.
fn csv_error(error: &csv::Error) -> CoordinationError {
    let line = error.position().map_or(0, |p| usize::try_from(p.line()).unwrap_or(usize::MAX));
    let message = match error.kind() {
        csv::ErrorKind::Utf8 { err, .. } => format!("invalid UTF-8 in field {}", err.field() + 1),
        _ => error.to_string(),
    };
    CoordinationError::Csv { line, message }
}

/// A serde_json message without its " at line L column C" suffix (the line is reported apart).
fn strip_position(error: &serde_json::Error) -> String {
    let message = error.to_string();
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message,
    }
}

/// A JSON value's kind, for error messages.
fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The co-shares of `shares` (CooRTweet's `detect_groups` with `remove_loops = TRUE`), sorted by
/// object, content ids, then accounts, in byte order.
///
/// `params.edge_weight_quantile` plays no part here.
pub fn detect_pairs(shares: &[Share], params: &CoordinationParams) -> Vec<CoShare> {
    let (strings, pairs) = find_pairs(shares, params);
    let ranks = Ranks::of(&strings.strings, &pairs);
    let mut keyed: Vec<([usize; 5], i64, usize)> = pairs
        .iter()
        .enumerate()
        .map(|(index, p)| {
            let key = [p.object, p.content, p.content_y, p.account, p.account_y].map(|id| ranks.rank[id]);
            (key, p.time_delta, index)
        })
        .collect();
    // The ranks sort as the strings do; the time delta only breaks ties between exact duplicates.
    keyed.sort_unstable();
    keyed
        .into_iter()
        .map(|(key, time_delta, _)| {
            let [object, content, content_y, account, account_y] = key.map(|rank| ranks.sorted[rank].to_owned());
            CoShare {
                object_id: object,
                content_id: content,
                content_id_y: content_y,
                time_delta,
                account_id: account,
                account_id_y: account_y,
            }
        })
        .collect()
}

/// CooRTweet's network of co-shares (`generate_coordinated_network` with `objects = TRUE`):
/// one edge per pair of accounts, weighted by their co-shares and marked against the
/// `params.edge_weight_quantile` quantile of all weights.
///
/// Pairs need not be sorted or come from [`detect_pairs`]; a pair of one account with itself
/// makes a loop edge. A quantile outside 0 to 1 is clamped, and NaN reads as the median:
/// [`CoordinationParams::validate`] refuses both.
pub fn build_network(pairs: &[CoShare], params: &CoordinationParams) -> CoordinationNetwork {
    let mut strings = Interner::default();
    let ids: Vec<IdPair> = pairs
        .iter()
        .map(|p| IdPair {
            object: strings.id(&p.object_id),
            content: strings.id(&p.content_id),
            content_y: strings.id(&p.content_id_y),
            account: strings.id(&p.account_id),
            account_y: strings.id(&p.account_id_y),
            time_delta: p.time_delta,
        })
        .collect();
    aggregate(&strings.strings, &ids, params.edge_weight_quantile)
}

/// [`detect_pairs`] then [`build_network`], without building the pairs' strings in between.
pub fn detect(shares: &[Share], params: &CoordinationParams) -> CoordinationNetwork {
    let (strings, pairs) = find_pairs(shares, params);
    aggregate(&strings.strings, &pairs, params.edge_weight_quantile)
}

/// Strings as small integers: equal strings, equal ids.
#[derive(Debug, Default)]
struct Interner<'a> {
    ids: HashMap<&'a str, usize>,
    strings: Vec<&'a str>,
}

impl<'a> Interner<'a> {
    fn id(&mut self, text: &'a str) -> usize {
        match self.ids.entry(text) {
            Entry::Occupied(entry) => *entry.get(),
            Entry::Vacant(entry) => {
                let id = self.strings.len();
                self.strings.push(text);
                *entry.insert(id)
            }
        }
    }
}

/// The byte order of the strings some pairs use: comparing ranks compares the strings.
#[derive(Debug)]
struct Ranks<'a> {
    /// Rank by id (`usize::MAX` for ids the pairs do not use).
    rank: Vec<usize>,
    /// The strings used, by rank.
    sorted: Vec<&'a str>,
}

impl<'a> Ranks<'a> {
    fn of(strings: &[&'a str], pairs: &[IdPair]) -> Self {
        let mut used = vec![false; strings.len()];
        for p in pairs {
            for id in [p.object, p.content, p.content_y, p.account, p.account_y] {
                used[id] = true;
            }
        }
        let mut ids: Vec<usize> = (0..strings.len()).filter(|&id| used[id]).collect();
        ids.sort_unstable_by_key(|&id| strings[id]);
        let mut rank = vec![usize::MAX; strings.len()];
        for (position, &id) in ids.iter().enumerate() {
            rank[id] = position;
        }
        Self { rank, sorted: ids.into_iter().map(|id| strings[id]).collect() }
    }
}

/// A co-share by interned ids; `content`/`account` is the older share.
#[derive(Debug, Clone, Copy)]
struct IdPair {
    object: usize,
    content: usize,
    content_y: usize,
    account: usize,
    account_y: usize,
    time_delta: i64,
}

/// Steps 1 to 5 of the module docs, unsorted; the pairs' ids are in the returned interner.
///
/// Objects and accounts are interned for every share; content ids (nearly one per share) are
/// compared as strings and interned only for the shares in pairs, so the big table is never built.
fn find_pairs<'a>(shares: &'a [Share], params: &CoordinationParams) -> (Interner<'a>, Vec<IdPair>) {
    let min = params.min_participation;
    let mut account_ids = Interner::default();
    let accounts: Vec<usize> = shares.iter().map(|share| account_ids.id(&share.account_id)).collect();

    // Step 1: the pre-filter, and CooRTweet's row order after it (its `by = account_id`
    // regrouping: accounts in order of first appearance, rows in input order within one). Only
    // simultaneous shares depend on that order: the first in it is the older one.
    let mut shares_of = vec![0_usize; account_ids.strings.len()];
    for &account in &accounts {
        shares_of[account] += 1;
    }
    let mut next_position = vec![usize::MAX; account_ids.strings.len()];
    let mut end = 0;
    let mut object_ids = Interner::default();
    let mut kept: Vec<(usize, usize, usize)> = Vec::new(); // (object, position in that order, share)
    for (index, share) in shares.iter().enumerate() {
        let account = accounts[index];
        if shares_of[account] < min {
            continue;
        }
        let next = &mut next_position[account];
        if *next == usize::MAX {
            *next = end;
            end += shares_of[account];
        }
        kept.push((object_ids.id(&share.object_id), *next, index));
        *next += 1;
    }
    drop(next_position);

    // Shares by object (a counting sort: linear), then by time and position within one.
    let mut bucket_start = vec![0_usize; object_ids.strings.len() + 1];
    for &(object, _, _) in &kept {
        bucket_start[object + 1] += 1;
    }
    for object in 0..object_ids.strings.len() {
        bucket_start[object + 1] += bucket_start[object];
    }
    let mut fill = bucket_start.clone();
    let mut by_object = vec![(0_i64, 0_usize, 0_usize); kept.len()]; // (timestamp, position, share)
    for (object, position, index) in kept {
        by_object[fill[object]] = (shares[index].timestamp, position, index);
        fill[object] += 1;
    }
    drop(fill);

    // Steps 2, 3 and 5: within an object, in time order, each share pairs with the later ones
    // inside its window; the earlier of the two is the older share. A share's strings are
    // interned when it first makes a pair, once however many pairs it makes.
    let window = params.time_window_secs;
    let mut strings = Interner::default();
    let mut pairs: Vec<IdPair> = Vec::new();
    let mut group_ids: Vec<Option<(usize, usize)>> = Vec::new(); // (content, account) by position in the group
    for bounds in bucket_start.windows(2) {
        let group = &mut by_object[bounds[0]..bounds[1]];
        group.sort_unstable();
        group_ids.clear();
        group_ids.resize(group.len(), None);
        let mut object_id = None;
        for (k, &(older_time, _, older)) in group.iter().enumerate() {
            let old = &shares[older];
            for (j, &(newer_time, _, newer)) in group.iter().enumerate().skip(k + 1) {
                // An overflow means a gap wider than any window.
                let Some(gap) = newer_time.checked_sub(older_time).filter(|&gap| gap <= window) else { break };
                let new = &shares[newer];
                let is_loop = accounts[older] == accounts[newer]
                    || old.content_id == new.content_id
                    || old.object_id == old.content_id
                    || old.object_id == new.content_id;
                if is_loop {
                    continue;
                }
                let object = *object_id.get_or_insert_with(|| strings.id(&old.object_id));
                let (content, account) =
                    *group_ids[k].get_or_insert_with(|| (strings.id(&old.content_id), strings.id(&old.account_id)));
                let (content_y, account_y) =
                    *group_ids[j].get_or_insert_with(|| (strings.id(&new.content_id), strings.id(&new.account_id)));
                pairs.push(IdPair { object, content, content_y, account, account_y, time_delta: gap });
            }
        }
    }
    drop(by_object);

    // Step 4: an account qualifies with `min` rows whose content id is in some pair; a pair stays
    // when either content id is one of a qualifying account's. CooRTweet matches content ids,
    // not rows, so a content id repeated under two accounts counts for both.
    if min >= 1 && !pairs.is_empty() {
        let mut in_pairs = vec![false; strings.strings.len()];
        for p in &pairs {
            in_pairs[p.content] = true;
            in_pairs[p.content_y] = true;
        }
        // The kept shares whose content id is in a pair: (account, content id).
        let participating: Vec<(usize, usize)> = shares
            .iter()
            .zip(&accounts)
            .filter(|&(_, &account)| shares_of[account] >= min)
            .filter_map(|(share, &account)| {
                let &content = strings.ids.get(share.content_id.as_str())?;
                in_pairs[content].then_some((account, content))
            })
            .collect();
        let mut participation = vec![0_usize; account_ids.strings.len()];
        for &(account, _) in &participating {
            participation[account] += 1;
        }
        let mut qualifying = vec![false; strings.strings.len()];
        for &(account, content) in &participating {
            if participation[account] >= min {
                qualifying[content] = true;
            }
        }
        pairs.retain(|p| qualifying[p.content] || qualifying[p.content_y]);
    }
    (strings, pairs)
}

/// Steps 6 and 7 of the module docs.
fn aggregate(strings: &[&str], pairs: &[IdPair], quantile: f64) -> CoordinationNetwork {
    let ranks = Ranks::of(strings, pairs);
    let rank = |id: usize| ranks.rank[id];
    let mut keyed: Vec<(usize, usize, usize)> = pairs
        .iter()
        .enumerate()
        .map(|(index, p)| {
            let (a, b) = (rank(p.account), rank(p.account_y));
            (a.min(b), a.max(b), index)
        })
        .collect();
    keyed.sort_unstable();

    let mut edges = Vec::new();
    let (mut older, mut newer, mut objects, mut contents) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for group in keyed.chunk_by(|x, y| (x.0, x.1) == (y.0, y.1)) {
        let (a, b) = (group[0].0, group[0].1);
        older.clear();
        newer.clear();
        objects.clear();
        let mut total_delta: i128 = 0;
        for &(_, _, index) in group {
            let p = &pairs[index];
            older.push(rank(p.content));
            newer.push(rank(p.content_y));
            objects.push(rank(p.object));
            total_delta += i128::from(p.time_delta);
        }
        contents.clear();
        contents.extend_from_slice(&older);
        contents.extend_from_slice(&newer);
        for ids in [&mut older, &mut newer, &mut objects, &mut contents] {
            ids.sort_unstable();
            ids.dedup();
        }
        let (n_older, n_newer) = (count(older.len()), count(newer.len()));
        let weight = count(group.len());
        let names = |ids: &[usize]| ids.iter().map(|&r| ranks.sorted[r].to_owned()).collect();
        edges.push(CoordinationEdge {
            account_a: ranks.sorted[a].to_owned(),
            account_b: ranks.sorted[b].to_owned(),
            weight,
            avg_time_delta: total_delta as f64 / weight as f64,
            n_content_id: n_older,
            n_content_id_y: n_newer,
            symmetry: n_older.min(n_newer) as f64 / n_older.max(n_newer) as f64,
            above_threshold: false,
            objects: names(&objects),
            content_ids: names(&contents),
        });
    }
    let mut weights: Vec<f64> = edges.iter().map(|edge| edge.weight as f64).collect();
    weights.sort_unstable_by(f64::total_cmp);
    let threshold = quantile_type7(&weights, quantile);
    for edge in &mut edges {
        let above = edge.weight as f64 > threshold;
        edge.above_threshold = above;
    }
    CoordinationNetwork { edges, threshold }
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// R's `quantile(x, p, type = 7)` of sorted values, computed as R computes it, so the threshold
/// is bit for bit R's; 0 for no values. `p` is clamped to 0 to 1 and NaN reads as 0.5.
fn quantile_type7(sorted: &[f64], p: f64) -> f64 {
    let p = if p.is_nan() { 0.5 } else { p.clamp(0.0, 1.0) };
    let Some(&first) = sorted.first() else { return 0.0 };
    let index = 1.0 + (sorted.len() - 1) as f64 * p;
    let (lo, hi) = (index.floor(), index.ceil());
    // 1 <= lo <= hi <= len, so the fallback is never taken.
    let at = |i: f64| sorted.get((i as usize).saturating_sub(1)).copied().unwrap_or(first);
    let (low, high) = (at(lo), at(hi));
    if index > lo && high != low {
        let h = index - lo;
        (1.0 - h) * low + h * high
    } else {
        low
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is the failure report.

    use super::*;

    fn share(object: &str, account: &str, content: &str, timestamp: i64) -> Share {
        Share { object_id: object.into(), account_id: account.into(), content_id: content.into(), timestamp }
    }

    fn params(time_window_secs: i64, min_participation: usize) -> CoordinationParams {
        CoordinationParams { time_window_secs, min_participation, ..CoordinationParams::default() }
    }

    /// (object, older content, newer content, time delta, older account, newer account).
    fn rows(pairs: &[CoShare]) -> Vec<(&str, &str, &str, i64, &str, &str)> {
        pairs
            .iter()
            .map(|p| {
                (
                    p.object_id.as_str(),
                    p.content_id.as_str(),
                    p.content_id_y.as_str(),
                    p.time_delta,
                    p.account_id.as_str(),
                    p.account_id_y.as_str(),
                )
            })
            .collect()
    }

    #[test]
    fn window_is_inclusive() {
        let shares = [share("o", "A", "a", 100), share("o", "B", "b", 110), share("o", "C", "c", 121)];
        let pairs = detect_pairs(&shares, &params(10, 1));
        // B and C are 11 s apart: out; A and B exactly 10 s: in.
        assert_eq!(rows(&pairs), [("o", "a", "b", 10, "A", "B")]);
        assert!(detect_pairs(&shares, &params(-1, 1)).is_empty(), "a negative window finds nothing");
        assert_eq!(detect_pairs(&shares, &params(11, 1)).len(), 2);
        assert_eq!(detect_pairs(&shares, &params(i64::MAX, 1)).len(), 3);
    }

    #[test]
    fn pre_filter_drops_accounts_with_too_few_shares() {
        let shares = [
            share("o1", "A", "a1", 0),
            share("o2", "A", "a2", 0),
            share("o1", "B", "b1", 1),
            share("o2", "B", "b2", 1),
            share("o1", "C", "c1", 2), // C has one share: dropped before pairing.
        ];
        let pairs = detect_pairs(&shares, &params(10, 2));
        assert_eq!(rows(&pairs), [("o1", "a1", "b1", 1, "A", "B"), ("o2", "a2", "b2", 1, "A", "B")]);
        assert_eq!(detect_pairs(&shares, &params(10, 1)).len(), 4);
        assert_eq!(detect_pairs(&shares, &params(10, 0)).len(), 4);
    }

    #[test]
    fn participation_refilter_keeps_a_pair_when_either_side_qualifies() {
        let shares = [
            // A's two shares are both in pairs: A qualifies.
            share("o1", "A", "a1", 0),
            share("o2", "A", "a2", 0),
            // B and G have one share in a pair each: neither qualifies, yet their pairs with A stay.
            share("o1", "B", "b1", 5),
            share("lone-b", "B", "b2", 0),
            share("o2", "G", "g1", 1),
            share("lone-g", "G", "g2", 0),
            // D and E: one share in a pair each, and nobody qualifying on their pair: dropped.
            share("o4", "D", "d1", 0),
            share("lone-d", "D", "d2", 0),
            share("o4", "E", "e1", 3),
            share("lone-e", "E", "e2", 0),
        ];
        let pairs = detect_pairs(&shares, &params(10, 2));
        assert_eq!(rows(&pairs), [("o1", "a1", "b1", 5, "A", "B"), ("o2", "a2", "g1", 1, "A", "G")]);
        // With the re-filter off, the D-E pair is back.
        assert_eq!(detect_pairs(&shares, &params(10, 0)).len(), 3);
    }

    #[test]
    fn participation_refilter_matches_content_ids_not_rows() {
        // The content id "x" is E's and F's (a repeated id): F qualifies, so E's pair through
        // "x" stays even though E does not qualify.
        let shares = [
            share("o1", "D", "d1", 0),
            share("lone-d", "D", "d2", 0),
            share("o1", "E", "x", 3),
            share("lone-e", "E", "e2", 0),
            share("o2", "F", "x", 0),
            share("o3", "F", "f2", 0),
            share("o2", "H", "h1", 1),
            share("o3", "H", "h2", 1),
        ];
        let pairs = detect_pairs(&shares, &params(10, 2));
        assert_eq!(
            rows(&pairs),
            [("o1", "d1", "x", 3, "D", "E"), ("o2", "x", "h1", 1, "F", "H"), ("o3", "f2", "h2", 1, "F", "H")]
        );
    }

    #[test]
    fn loops_are_removed() {
        let shares = [
            share("o", "A", "a1", 0),
            share("o", "A", "a2", 1), // A with itself: a loop.
            share("o", "B", "a1", 2), // The same content id as A's: a loop.
            share("o", "C", "o", 3),  // The object's own content: a loop with everyone.
        ];
        let pairs = detect_pairs(&shares, &params(10, 1));
        assert_eq!(rows(&pairs), [("o", "a2", "a1", 1, "A", "B")]);
    }

    #[test]
    fn older_share_comes_first_and_ties_follow_first_appearance_of_the_account() {
        let shares = [
            share("o9", "X", "x1", 50),
            share("o1", "Y", "y1", 100),
            share("o1", "X", "x2", 100),
            share("o9", "Y", "y2", 45),
        ];
        let pairs = detect_pairs(&shares, &params(10, 1));
        // On o1 both shared at 100: X appeared first in the input, so X's share counts as the
        // older, although Y's row comes first. On o9 Y's share is older by time.
        assert_eq!(rows(&pairs), [("o1", "x2", "y1", 0, "X", "Y"), ("o9", "y2", "x1", 5, "Y", "X")]);
    }

    #[test]
    fn pairs_are_sorted_by_byte_order() {
        let shares =
            [share("b", "Z", "z1", 0), share("b", "a", "a1", 1), share("B", "Z", "z2", 0), share("B", "a", "a2", 1)];
        let pairs = detect_pairs(&shares, &params(10, 1));
        let objects: Vec<&str> = pairs.iter().map(|p| p.object_id.as_str()).collect();
        assert_eq!(objects, ["B", "b"], "upper case sorts first, as in R's C collation");
    }

    #[test]
    fn weight_counts_one_object_twice_and_symmetry_counts_sides() {
        let shares = [
            // A shares o1 twice around B's share: two pairs on one object.
            share("o1", "A", "a1", 0),
            share("o1", "B", "b1", 3),
            share("o1", "A", "a2", 6),
            // B shares o2 twice after A.
            share("o2", "A", "a3", 100),
            share("o2", "B", "b2", 101),
            share("o2", "B", "b3", 102),
        ];
        let network = detect(&shares, &params(10, 1));
        assert_eq!(network.edges.len(), 1);
        let edge = &network.edges[0];
        assert_eq!((edge.account_a.as_str(), edge.account_b.as_str()), ("A", "B"));
        assert_eq!(edge.weight, 4);
        // Deltas 3, 3, 1, 2.
        assert!((edge.avg_time_delta - 2.25).abs() < 1e-12);
        // Older side: a1, b1, a3 (the older account alternates); newer side: b1, a2, b2, b3.
        assert_eq!((edge.n_content_id, edge.n_content_id_y), (3, 4));
        assert!((edge.symmetry - 0.75).abs() < 1e-12);
        assert_eq!(edge.objects, ["o1", "o2"]);
        assert_eq!(edge.content_ids, ["a1", "a2", "a3", "b1", "b2", "b3"]);
        assert_eq!(network, build_network(&detect_pairs(&shares, &params(10, 1)), &params(10, 1)));
    }

    #[test]
    fn edges_order_accounts_and_mark_the_threshold() {
        let pairs = [
            ("o1", "c1", "c2", "B", "A"),
            ("o2", "c3", "c4", "A", "B"),
            ("o1", "c1", "c5", "B", "C"),
            ("o3", "c6", "c7", "D", "C"),
        ]
        .map(|(object, content, content_y, account, account_y)| CoShare {
            object_id: object.into(),
            content_id: content.into(),
            content_id_y: content_y.into(),
            time_delta: 2,
            account_id: account.into(),
            account_id_y: account_y.into(),
        });
        let network = build_network(&pairs, &CoordinationParams::default());
        let edges: Vec<(&str, &str, u64, bool)> = network
            .edges
            .iter()
            .map(|e| (e.account_a.as_str(), e.account_b.as_str(), e.weight, e.above_threshold))
            .collect();
        assert_eq!(edges, [("A", "B", 2, true), ("B", "C", 1, false), ("C", "D", 1, false)]);
        assert!((network.threshold - 1.0).abs() < f64::EPSILON);
        assert_eq!(network.vertices(), ["A", "B", "C", "D"]);
        let filtered = network.filtered();
        assert_eq!(filtered.edges.len(), 1);
        assert_eq!(filtered.vertex_count(), 2);
        let summary = network.summary();
        assert_eq!(summary.objects_with_pairs, 3);
        assert_eq!((summary.vertices, summary.edges, summary.weight_sum, summary.max_weight), (4, 3, 4, 2));
        assert_eq!(summary.weight_histogram, BTreeMap::from([(1, 2), (2, 1)]));
        assert_eq!((summary.edges_above_threshold, summary.vertices_above_threshold), (1, 2));
    }

    #[test]
    fn quantile_is_r_type_7() {
        let q = |values: &[f64], p| quantile_type7(values, p);
        assert!((q(&[1.0, 1.0, 2.0, 3.0], 0.5) - 1.5).abs() < 1e-12);
        assert!((q(&[1.0, 2.0, 3.0, 4.0, 10.0], 0.9) - 7.6).abs() < 1e-12);
        assert!((q(&[1.0, 2.0, 3.0, 4.0, 10.0], 1.0) - 10.0).abs() < 1e-12);
        assert!((q(&[1.0, 2.0, 3.0, 4.0, 10.0], 0.0) - 1.0).abs() < 1e-12);
        assert!((q(&[5.0], 0.5) - 5.0).abs() < 1e-12);
        assert!(q(&[], 0.5).abs() < 1e-12);
        assert!((q(&[1.0, 3.0], f64::NAN) - 2.0).abs() < 1e-12, "NaN reads as the median");
        assert!((q(&[1.0, 3.0], 7.0) - 3.0).abs() < 1e-12, "clamped");
        // Strictly greater: at p = 1 no edge is above.
        let pairs = detect_pairs(
            &[share("o", "A", "a", 0), share("o", "B", "b", 1), share("p", "A", "a2", 0), share("p", "B", "b2", 0)],
            &params(10, 1),
        );
        let all = CoordinationParams { edge_weight_quantile: 1.0, ..params(10, 1) };
        assert_eq!(build_network(&pairs, &all).edges_above_threshold().count(), 0);
    }

    #[test]
    fn empty_inputs_give_empty_networks() {
        let network = detect(&[], &CoordinationParams::default());
        assert_eq!(network, CoordinationNetwork::default());
        assert_eq!(network.summary().max_weight, 0);
    }

    #[test]
    fn params_validate() {
        assert!(CoordinationParams::default().validate().is_ok());
        let bad = CoordinationParams { edge_weight_quantile: 1.5, ..CoordinationParams::default() };
        assert_eq!(
            bad.validate().unwrap_err().to_string(),
            "invalid `edge_weight_quantile`: 1.5 is not between 0 and 1"
        );
        let nan = CoordinationParams { edge_weight_quantile: f64::NAN, ..CoordinationParams::default() };
        assert!(nan.validate().is_err());
        let negative = CoordinationParams { time_window_secs: -1, ..CoordinationParams::default() };
        assert!(negative.validate().is_err());
        let parsed: CoordinationParams = serde_json::from_str(r#"{"time_window_secs": 60}"#).unwrap();
        assert_eq!(parsed, CoordinationParams { time_window_secs: 60, ..CoordinationParams::default() });
    }

    #[test]
    fn csv_reads_columns_by_name() {
        let text = "\u{feff}note,Timestamp_Share,content_id,account_id,object_id\n\
                    x, 1623881091 ,c1,a1,o1\n\
                    y,1623881092.9,c2,a2,o1\n\
                    z,2021-06-16T22:04:53+00:00,c3,a3,o1\n\
                    w,-1.5,c4,a4,o2\n";
        let shares = read_shares_csv(text.as_bytes()).unwrap();
        assert_eq!(
            shares,
            [
                share("o1", "a1", "c1", 1_623_881_091),
                share("o1", "a2", "c2", 1_623_881_092),
                share("o1", "a3", "c3", 1_623_881_093),
                share("o2", "a4", "c4", -2),
            ]
        );
    }

    #[test]
    fn csv_errors_name_the_line() {
        let header = "object_id,account_id,content_id,timestamp_share\n";
        let read = |body: &str| read_shares_csv(format!("{header}{body}").as_bytes()).unwrap_err().to_string();
        assert_eq!(
            read("o,a,c,1\no,a,c,soon\n"),
            "line 3: bad timestamp_share `soon` (expected POSIX seconds or an RFC 3339 date-time)"
        );
        assert_eq!(
            read("o,a,c,1\no,a,c,NaN\n"),
            "line 3: bad timestamp_share `NaN` (expected POSIX seconds or an RFC 3339 date-time)"
        );
        assert_eq!(
            read("o,a,c,1e300\n"),
            "line 2: bad timestamp_share `1e300` (expected POSIX seconds or an RFC 3339 date-time)"
        );
        assert_eq!(read("o,,c,1\n"), "line 2: missing or empty `account_id`");
        assert_eq!(read("o,a,c\n"), "line 2: missing or empty `timestamp_share`");
        assert_eq!(read("o,a,c,1\n\"o,a,c,1\n"), "line 3: missing or empty `account_id`");
        let invalid_utf8 = [header.as_bytes(), b"o,a\xff,c,1\n"].concat();
        assert_eq!(read_shares_csv(&invalid_utf8).unwrap_err().to_string(), "line 2: invalid UTF-8 in field 2");
        let missing = read_shares_csv(b"object_id,account_id,content_id,time\no,a,c,1\n").unwrap_err();
        assert_eq!(missing, CoordinationError::MissingColumn { column: "timestamp_share" });
        let twice = read_shares_csv(b"object_id,account_id,content_id,timestamp_share,Account_ID\n").unwrap_err();
        assert_eq!(twice, CoordinationError::DuplicateColumn { column: "account_id" });
        assert_eq!(read_shares_csv(b"").unwrap_err(), CoordinationError::Empty);
        assert_eq!(read_shares_csv(header.as_bytes()).unwrap(), []);
    }

    #[test]
    fn readers_refuse_too_many_shares() {
        let csv = "object_id,account_id,content_id,timestamp_share\no,a,c1,1\no,b,c2,2\no,c,c3,3\n";
        assert_eq!(read_csv_limited(csv.as_bytes(), 3).unwrap().len(), 3);
        assert_eq!(
            read_csv_limited(csv.as_bytes(), 2).unwrap_err().to_string(),
            "line 4: more than 2 shares in the input"
        );
        let jsonl = "{\"object_id\":1,\"account_id\":2,\"content_id\":3,\"timestamp_share\":4}\n".repeat(3);
        assert_eq!(read_jsonl_limited(jsonl.as_bytes(), 3).unwrap().len(), 3);
        assert_eq!(
            read_jsonl_limited(jsonl.as_bytes(), 2).unwrap_err(),
            CoordinationError::TooManyShares { line: 3, limit: 2 }
        );
    }

    #[test]
    fn jsonl_reads_strings_and_numbers() {
        let text = "{\"object_id\": \"o1\", \"account_id\": 12345678901234567890, \"content_id\": 7, \"timestamp_share\": 1623881091, \"text\": \"hi\"}\r\n\
                    \n   \n\
                    {\"timestamp_share\": \"2021-06-16T22:04:52Z\", \"content_id\": \"c2\", \"account_id\": \"a2\", \"object_id\": \"o1\"}\n\
                    {\"object_id\": \"o1\", \"account_id\": \"a3\", \"content_id\": \"c3\", \"timestamp_share\": 1623881093.75}\n\
                    {\"object_id\": \"o1\", \"account_id\": \"a4\", \"content_id\": \"c4\", \"timestamp_share\": \"1623881094\"}";
        let shares = read_shares_jsonl(text.as_bytes()).unwrap();
        assert_eq!(
            shares,
            [
                share("o1", "12345678901234567890", "7", 1_623_881_091),
                share("o1", "a2", "c2", 1_623_881_092),
                share("o1", "a3", "c3", 1_623_881_093),
                share("o1", "a4", "c4", 1_623_881_094),
            ]
        );
    }

    #[test]
    fn jsonl_errors_name_the_line() {
        let good = r#"{"object_id": "o", "account_id": "a", "content_id": "c", "timestamp_share": 1}"#;
        let read = |bad: &str| read_shares_jsonl(format!("{good}\n\n{bad}\n").as_bytes()).unwrap_err().to_string();
        assert_eq!(read("{\"object_id\": \"o\""), "line 3: invalid JSON: EOF while parsing an object");
        assert_eq!(read("[1, 2]"), "line 3: invalid JSON: expected an object, found an array");
        assert_eq!(
            read(r#"{"object_id": "o", "account_id": true, "content_id": "c", "timestamp_share": 1}"#),
            "line 3: `account_id` is a boolean, expected a string or a number"
        );
        assert_eq!(
            read(r#"{"object_id": "o", "account_id": "a", "content_id": null, "timestamp_share": 1}"#),
            "line 3: missing or empty `content_id`"
        );
        assert_eq!(
            read(r#"{"object_id": " ", "account_id": "a", "content_id": "c", "timestamp_share": 1}"#),
            "line 3: missing or empty `object_id`"
        );
        assert_eq!(
            read(r#"{"object_id": "o", "account_id": "a", "content_id": "c"}"#),
            "line 3: missing or empty `timestamp_share`"
        );
        assert_eq!(
            read(r#"{"object_id": "o", "account_id": "a", "content_id": "c", "timestamp_share": [1]}"#),
            "line 3: bad timestamp_share `[1]` (expected POSIX seconds or an RFC 3339 date-time)"
        );
        assert_eq!(
            read(r#"{"object_id": "o", "account_id": "a", "content_id": "c", "timestamp_share": 1e300}"#),
            "line 3: bad timestamp_share `1e+300` (expected POSIX seconds or an RFC 3339 date-time)"
        );
        assert_eq!(
            read(r#"{"object_id": "o", "account_id": "a", "content_id": "c", "timestamp_share": "soon"}"#),
            "line 3: bad timestamp_share `soon` (expected POSIX seconds or an RFC 3339 date-time)"
        );
    }

    /// CooRTweet's steps written out as the R code runs them (every pair of rows of an object,
    /// then each filter in turn), to check the windowed search against.
    fn naive_pairs(shares: &[Share], window: i64, min: usize) -> Vec<CoShare> {
        let mut per_account: Vec<(&str, Vec<&Share>)> = Vec::new();
        for s in shares {
            match per_account.iter_mut().find(|(account, _)| *account == s.account_id) {
                Some((_, rows)) => rows.push(s),
                None => per_account.push((&s.account_id, vec![s])),
            }
        }
        let x: Vec<&Share> =
            per_account.into_iter().filter(|(_, rows)| rows.len() >= min).flat_map(|(_, rows)| rows).collect();
        let mut objects: Vec<&str> = Vec::new();
        for s in &x {
            if !objects.contains(&s.object_id.as_str()) {
                objects.push(&s.object_id);
            }
        }
        // (x-side, i-side, dt) as calc_group_combinations gives them.
        let mut result: Vec<(&Share, &Share, i64)> = Vec::new();
        for object in objects {
            let group: Vec<&&Share> = x.iter().filter(|s| s.object_id == object).collect();
            for (i, first) in group.iter().enumerate() {
                for second in &group[i + 1..] {
                    let dt = first.timestamp - second.timestamp;
                    if dt.abs() <= window {
                        result.push((first, second, dt));
                    }
                }
            }
        }
        result.retain(|(a, b, _)| {
            a.object_id != a.content_id
                && a.object_id != b.content_id
                && a.content_id != b.content_id
                && a.account_id != b.account_id
        });
        if min >= 1 {
            let ids: HashSet<&str> =
                result.iter().flat_map(|(a, b, _)| [a.content_id.as_str(), b.content_id.as_str()]).collect();
            let mut counts: HashMap<&str, usize> = HashMap::new();
            for s in x.iter().filter(|s| ids.contains(s.content_id.as_str())) {
                *counts.entry(&s.account_id).or_default() += 1;
            }
            let filt: HashSet<&str> = x
                .iter()
                .filter(|s| ids.contains(s.content_id.as_str()) && counts[s.account_id.as_str()] >= min)
                .map(|s| s.content_id.as_str())
                .collect();
            result.retain(|(a, b, _)| filt.contains(a.content_id.as_str()) || filt.contains(b.content_id.as_str()));
        }
        let mut pairs: Vec<CoShare> = result
            .into_iter()
            .map(|(a, b, dt)| {
                let (older, newer) = if dt > 0 { (b, a) } else { (a, b) };
                CoShare {
                    object_id: a.object_id.clone(),
                    content_id: older.content_id.clone(),
                    content_id_y: newer.content_id.clone(),
                    time_delta: dt.abs(),
                    account_id: older.account_id.clone(),
                    account_id_y: newer.account_id.clone(),
                }
            })
            .collect();
        pairs.sort_by(|p, q| {
            (&p.object_id, &p.content_id, &p.content_id_y, &p.account_id, &p.account_id_y, p.time_delta).cmp(&(
                &q.object_id,
                &q.content_id,
                &q.content_id_y,
                &q.account_id,
                &q.account_id_y,
                q.time_delta,
            ))
        });
        pairs
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Few ids and a short time span, so that ties, repeats and loops are common.
        fn shares() -> impl Strategy<Value = Vec<Share>> {
            proptest::collection::vec((0..4_u8, 0..6_u8, 0..12_u8, 0..30_i64), 0..40).prop_map(|rows| {
                rows.into_iter()
                    .map(|(object, account, content, timestamp)| Share {
                        object_id: format!("o{object}"),
                        account_id: format!("a{account}"),
                        // Content ids share a namespace with objects, so an object can be a content.
                        content_id: if content < 2 { format!("o{content}") } else { format!("c{content}") },
                        timestamp,
                    })
                    .collect()
            })
        }

        proptest! {
            #[test]
            fn windowed_search_equals_the_naive_rules(shares in shares(), window in 0..12_i64, min in 0..4_usize) {
                let params = CoordinationParams { time_window_secs: window, min_participation: min, ..CoordinationParams::default() };
                prop_assert_eq!(detect_pairs(&shares, &params), naive_pairs(&shares, window, min));
            }

            #[test]
            fn detect_equals_build_network_of_detect_pairs(shares in shares(), window in 0..12_i64, min in 0..4_usize) {
                let params = CoordinationParams { time_window_secs: window, min_participation: min, ..CoordinationParams::default() };
                let network = detect(&shares, &params);
                prop_assert_eq!(&network, &build_network(&detect_pairs(&shares, &params), &params));
                let weight: u64 = network.edges.iter().map(|e| e.weight).sum();
                prop_assert_eq!(usize::try_from(weight).unwrap(), detect_pairs(&shares, &params).len());
            }
        }
    }
}
