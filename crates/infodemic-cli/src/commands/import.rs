//! `infodemic import FILE --origin NAME`: labeled texts from elsewhere (CSV, JSON lines,
//! ClaimReview JSON) joined to the store as items with verdicts from a named origin.
//!
//! This module reads the file into rows (each with its line, or the reason it is not one);
//! [`infodemic_pipeline::import_labeled`] makes items of them, scores the new ones and records
//! the verdicts. The batch parsing follows `review --batch`: a file that cannot be read at all
//! is a usage error, a row that cannot be used is refused with its line and the others are
//! kept (unless `--strict`), and any refused row makes the exit status 2.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use clap::{Args, ValueEnum};
use infodemic_claims::import::read_claimreview_json;
use infodemic_classifier::SessionOptions;
use infodemic_core::{DebunkedClaim, Verdict, VerdictScale};
use infodemic_pipeline::{check_origin, import_labeled, LabelImport, LabelImportOptions, LabeledRow, RefusedRow};
use infodemic_store::{SledStore, StoreError};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::cli::GlobalArgs;
use crate::commands::eval::parse_label;
use crate::context::LOCK_WAIT;
use crate::exit::{Exit, UsageError};
use crate::output::{terminal_safe, write_json_line};
use crate::progress::counter;

/// The largest file read: 256 MiB.
const MAX_IMPORT_BYTES: u64 = 256 * 1024 * 1024;
/// The most rows in one file.
const MAX_IMPORT_ROWS: usize = 1_000_000;
/// Columns or fields holding the text, in the order they are looked for (as `eval` does).
const TEXT_FIELDS: &[&str] = &["text", "tweet", "content", "claim"];
/// Columns or fields holding the publication time, in the order they are looked for.
const TIME_FIELDS: &[&str] = &["published", "time", "date"];
/// Columns or fields holding the URL.
const URL_FIELDS: &[&str] = &["url", "link"];
/// Keys that make a JSON object a ClaimReview (or a Fact Check Tools claim), not a labeled row.
const CLAIMREVIEW_KEYS: &[&str] = &["@type", "@context", "@graph", "claimReviewed", "claimReview", "reviewRating"];

#[derive(Debug, Args)]
#[command(after_long_help = IMPORT_HELP)]
pub struct ImportArgs {
    /// The file (- for stdin)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Who the labels come from (healthfeedback, team-2024-labels): the reviewer of every
    /// verdict recorded, and the source `import-NAME` of rows without one. ASCII letters,
    /// digits, `.`, `_` and `-`
    #[arg(long, value_name = "NAME")]
    pub origin: String,

    /// The file's format
    #[arg(long, value_enum, default_value_t = ImportFormat::Auto)]
    pub format: ImportFormat,

    /// Column or field holding the verdict: a name of the scale (false, misleading,
    /// missing-context, true, unproven, not-health, not-a-claim, or those of verdicts.toml)
    #[arg(long, value_name = "NAME", default_value = "verdict")]
    pub verdict_field: String,

    /// Column or field holding a label, for rows without a verdict: 1/true/fake/misinformation
    /// is the verdict `false`, 0/false/real/reliable the verdict `true`
    #[arg(long, value_name = "NAME", default_value = "label")]
    pub label_field: String,

    /// Column or field holding the text [default: the first of text, tweet, content, claim]
    #[arg(long, value_name = "NAME")]
    pub text_field: Option<String>,

    /// Write nothing if any row is refused (default: import the good rows, report the bad ones)
    #[arg(long)]
    pub strict: bool,

    /// One JSON object: the counts and the rows refused
    #[arg(long)]
    pub json: bool,
}

const IMPORT_HELP: &str = "\
Rows (CSV with a header row, or JSON lines) hold a text (`text`, `tweet`, `content` or `claim`)
and a verdict (`verdict`) or a label (`label`); optionally `url`, `title`, `source`, `author`,
`published` (or `time`, `date`: RFC 3339, YYYY-MM-DD, or YYYY-MM-DD HH:MM:SS in UTC) and `note`.
A verdict may also be a ClaimReview rating name (mostly_false, mixed, mostly_true...), read as
below. `infodemic export --format labeled` output is such a file.

ClaimReview JSON (an object, an array, JSON lines, a Google Fact Check Tools export): the claim
is the text, its first appearance the URL, the claimant the author, and the rating a verdict:
false and mostly false are `false`, misleading and mixed `misleading`, true and mostly true
`true`, unproven `unproven`; satire and unrated reviews are refused.

Each row becomes an item, found by its URL or its text when stored already, else scored with the
current model and stored (without a URL its id comes from the origin and the text). Its verdict
is recorded with the origin as the reviewer, unless that is the origin's verdict on the item
already: importing a file again adds nothing. Rows of one file that give one item two verdicts:
the first is kept, the others are refused.

Exit status: 0 when every row was imported or present already; 2 when a row was refused (each
is named on stderr with its line and why) or the file cannot be read; 3 when the store is in use
by another process (a running `watch`: stop it first) or the model is missing.";

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    /// CSV when the name ends in .csv; ClaimReview when the data are ClaimReview; else JSON
    /// lines when it starts with `{`; else CSV
    Auto,
    /// CSV with a header row
    Csv,
    /// JSON lines, one labeled row per line
    Jsonl,
    /// schema.org ClaimReview JSON or a Fact Check Tools export
    Claimreview,
}

impl ImportFormat {
    fn name(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Csv => "csv",
            Self::Jsonl => "jsonl",
            Self::Claimreview => "claimreview",
        }
    }
}

/// Which columns or fields hold what.
struct FieldNames<'a> {
    text: Option<&'a str>,
    verdict: &'a str,
    label: &'a str,
}

/// Rows read, and the lines that are not rows.
type Parsed = (Vec<LabeledRow>, Vec<RefusedRow>);

/// The summary `--json` prints.
#[derive(Serialize)]
struct Summary<'a> {
    file: String,
    format: &'static str,
    #[serde(flatten)]
    report: &'a LabelImport,
    rows_refused: usize,
}

pub fn run(args: &ImportArgs, global: &GlobalArgs) -> anyhow::Result<Exit> {
    let origin = check_origin(&args.origin).map_err(UsageError)?;
    let scale = global.verdict_scale()?;
    // The whole file is read before the store is opened: `... | infodemic import -` may hold
    // the store in the first process until its output ends.
    let bytes = read_input(&args.file)?;
    let name = if args.file.as_os_str() == "-" { "stdin".to_owned() } else { args.file.display().to_string() };
    let format = match args.format {
        ImportFormat::Auto => detect(&args.file, &bytes),
        given => given,
    };
    let fields =
        FieldNames { text: args.text_field.as_deref(), verdict: &args.verdict_field, label: &args.label_field };
    let (rows, refused) = match format {
        ImportFormat::Csv | ImportFormat::Auto => csv_rows(&bytes, &fields, &scale)?,
        ImportFormat::Jsonl => json_rows(&bytes, &fields, &scale),
        ImportFormat::Claimreview => claimreview_rows(&bytes, &name, &scale),
    };
    let total = rows.len() + refused.len();
    if total == 0 {
        return Err(UsageError(format!("{name}: no rows")).into());
    }
    if total > MAX_IMPORT_ROWS {
        return Err(UsageError(format!("{name}: an import holds at most {MAX_IMPORT_ROWS} rows")).into());
    }

    let mut report = if rows.is_empty() || (args.strict && !refused.is_empty()) {
        // Nothing to write, or nothing may be: neither the model nor the store is needed.
        LabelImport { origin, ..LabelImport::default() }
    } else {
        let mut classifier = global.load_model(SessionOptions::default())?.classifier;
        // The rows carry their verdicts: evidence sentences (extra inference runs) are for
        // reviewers still deciding one.
        classifier.set_evidence(false);
        let options = LabelImportOptions { all_or_nothing: args.strict, ..LabelImportOptions::new(&origin) };
        let progress = counter(global.quiet || args.json, "items scored");
        let report = match &global.store {
            Some(url) => {
                let store = infodemic_store_postgres::PgStore::connect(url)?;
                import_labeled(&store, &mut classifier, &rows, &scale, &options, |n| progress.inc(n as u64))?
            }
            None => {
                let store = open_store_waiting(global)?;
                import_labeled(&store, &mut classifier, &rows, &scale, &options, |n| progress.inc(n as u64))?
            }
        };
        progress.finish_and_clear();
        report
    };
    report.rows_read = total;
    report.refused.extend(refused);
    report.refused.sort_by_key(|refused| (refused.line, refused.element));
    print_report(&report, &name, format, args.json, args.strict)
}

fn print_report(
    report: &LabelImport,
    name: &str,
    format: ImportFormat,
    json: bool,
    strict: bool,
) -> anyhow::Result<Exit> {
    let mut out = crate::output::stdout();
    if json {
        let summary =
            Summary { file: name.to_owned(), format: format.name(), report, rows_refused: report.refused.len() };
        write_json_line(&mut out, &summary)?;
    } else if report.written || !strict {
        writeln!(
            out,
            "{} row(s) read from {} ({}): {} item(s) added, {} already stored; {} verdict(s) recorded as `{}`, \
             {} already present; {} row(s) refused",
            report.rows_read,
            terminal_safe(name),
            format.name(),
            report.items_added,
            report.items_known,
            report.verdicts_recorded,
            report.origin,
            report.verdicts_present,
            report.refused.len()
        )?;
    }
    out.flush()?;
    let mut err = std::io::stderr().lock();
    for refused in &report.refused {
        writeln!(err, "error: {}: {}", refused.place(), terminal_safe(&refused.reason))?;
    }
    if report.refused.is_empty() {
        return Ok(Exit::Success);
    }
    if strict {
        writeln!(err, "Nothing imported: {} row(s) refused (--strict).", report.refused.len())?;
    }
    Ok(Exit::Usage)
}

/// The file or stdin, whole, at most [`MAX_IMPORT_BYTES`], without a UTF-8 byte-order mark.
fn read_input(path: &Path) -> anyhow::Result<Vec<u8>> {
    let reader: Box<dyn Read> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let file = std::fs::File::open(path).map_err(|e| UsageError(format!("cannot open {}: {e}", path.display())))?;
        Box::new(file)
    };
    let mut bytes = Vec::new();
    reader
        .take(MAX_IMPORT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| UsageError(format!("cannot read {}: {e}", path.display())))?;
    if bytes.len() as u64 > MAX_IMPORT_BYTES {
        return Err(UsageError(format!("{}: an import holds at most 256 MiB", path.display())).into());
    }
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    Ok(bytes)
}

/// [`GlobalArgs::open_store`], waiting up to [`LOCK_WAIT`] for a short-lived command to let
/// go of it; a store still held then (a running `watch`) is the "in use" error, exit 3. The
/// import writes items, which only the process holding the store can: it does not go through
/// the running service as `review` does.
fn open_store_waiting(global: &GlobalArgs) -> anyhow::Result<SledStore> {
    let started = std::time::Instant::now();
    loop {
        match global.open_store() {
            Err(error)
                if started.elapsed() < LOCK_WAIT
                    && error.downcast_ref::<StoreError>().is_some_and(|e| matches!(e, StoreError::Locked { .. })) =>
            {
                // Another process's flock announces no release: polling is the only way to
                // wait for it. Not async code, not a test.
                #[allow(clippy::disallowed_methods)]
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

/// The format of `bytes`: CSV for a `.csv` name; ClaimReview for a JSON array or an object
/// with ClaimReview keys (`@type`, `claimReviewed`, a Fact Check Tools `claims` list...); JSON
/// lines for other objects; else CSV.
fn detect(path: &Path, bytes: &[u8]) -> ImportFormat {
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
        return ImportFormat::Csv;
    }
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => ImportFormat::Claimreview,
        Some(b'{') => {
            let first = serde_json::Deserializer::from_slice(bytes).into_iter::<Value>().next();
            match first {
                Some(Ok(Value::Object(object))) if is_claimreview(&object) => ImportFormat::Claimreview,
                _ => ImportFormat::Jsonl,
            }
        }
        _ => ImportFormat::Csv,
    }
}

fn is_claimreview(object: &Map<String, Value>) -> bool {
    CLAIMREVIEW_KEYS.iter().any(|key| object.contains_key(*key)) || object.get("claims").is_some_and(Value::is_array)
}

/// A row's fields as the file gives them.
#[derive(Default)]
struct RawRow {
    text: Option<String>,
    verdict: Option<String>,
    label: Option<Value>,
    url: Option<String>,
    title: Option<String>,
    source: Option<String>,
    author: Option<String>,
    time: Option<String>,
    note: Option<String>,
}

/// The row `raw` is, or why it is not one.
fn to_row(line: usize, raw: RawRow, fields: &FieldNames<'_>, scale: &VerdictScale) -> Result<LabeledRow, String> {
    let text = raw.text.ok_or_else(|| {
        let names = fields.text.map_or_else(|| TEXT_FIELDS.join("`, `"), str::to_owned);
        format!("no text (`{names}`)")
    })?;
    if text.trim().is_empty() {
        return Err("empty text".to_owned());
    }
    let verdict = match (raw.verdict.filter(|v| !v.trim().is_empty()), raw.label) {
        (Some(verdict), _) => verdict_name(&verdict, scale)?,
        (None, Some(label)) if !label.is_null() && label.as_str().is_none_or(|l| !l.trim().is_empty()) => {
            label_verdict(&label, scale)?
        }
        _ => return Err(format!("no verdict (`{}`) or label (`{}`)", fields.verdict, fields.label)),
    };
    let published = raw.time.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(parse_time).transpose()?;
    let nonempty = |value: Option<String>| value.filter(|v| !v.trim().is_empty());
    Ok(LabeledRow {
        line,
        element: None,
        text,
        title: raw.title.unwrap_or_default(),
        url: nonempty(raw.url),
        source: nonempty(raw.source),
        author: nonempty(raw.author),
        published,
        verdict,
        note: nonempty(raw.note),
    })
}

/// A value from the file in a message: escaped, at most 60 characters.
fn shown(value: &str) -> String {
    value.chars().take(60).collect::<String>().escape_debug().to_string()
}

/// A verdict cell: a name of the scale (any case, `_` or a space for `-`), else a ClaimReview
/// rating name ([`Verdict`]: `mostly_false`, `mixed`...) mapped as ClaimReview ratings are.
fn verdict_name(value: &str, scale: &VerdictScale) -> Result<String, String> {
    let key = value.trim().to_lowercase().replace(['_', ' '], "-");
    if let Ok(name) = scale.parse(&key) {
        return Ok(name);
    }
    match key.parse::<Verdict>() {
        Ok(rating) => scale_verdict(rating, value, scale),
        Err(_) => Err(scale
            .parse(value)
            .err()
            .map_or_else(|| format!("unknown verdict `{}`", shown(value)), |e| e.to_string())),
    }
}

/// A publisher's rating on the scale: false and mostly false are `false`, misleading and mixed
/// `misleading`, true and mostly true `true`, unproven `unproven`. Satire and unrated ratings
/// say nothing of a claim's truth: the row is refused.
fn scale_verdict(rating: Verdict, words: &str, scale: &VerdictScale) -> Result<String, String> {
    let name = match rating {
        Verdict::False | Verdict::MostlyFalse => "false",
        Verdict::Misleading | Verdict::Mixed => "misleading",
        Verdict::True | Verdict::MostlyTrue => "true",
        Verdict::Unproven => "unproven",
        Verdict::Satire => return Err(format!("rated satire (`{}`): not a verdict on a claim", shown(words))),
        Verdict::Unrated => return Err(format!("rating `{}` is not one infodemic reads", shown(words))),
    };
    scale.parse(name).map_err(|e| format!("rating `{}` is `{name}`, which the scale lacks: {e}", shown(words)))
}

/// A label (`1`/`true`/`fake`/`misinformation` or `0`/`false`/`real`/`reliable`, as `eval`
/// reads labels) as a verdict: misinformation is the scale's `false`, reliable its `true`. A
/// scale without those names gives its first verdict that says the same of misinformation.
fn label_verdict(label: &Value, scale: &VerdictScale) -> Result<String, String> {
    let shown_label = || shown(&label.as_str().map_or_else(|| label.to_string(), str::to_owned));
    let misinformation = parse_label(label).ok_or_else(|| {
        format!("label `{}` is neither 1/true/fake/misinformation nor 0/false/real/reliable", shown_label())
    })?;
    let preferred = if misinformation { "false" } else { "true" };
    let found = scale
        .get(preferred)
        .filter(|l| l.misinformation == Some(misinformation))
        .or_else(|| scale.labels.iter().find(|l| l.misinformation == Some(misinformation) && l.claim))
        .or_else(|| scale.labels.iter().find(|l| l.misinformation == Some(misinformation)));
    found
        .map(|l| l.name.clone())
        .ok_or_else(|| format!("label `{}`: the verdict scale has no verdict for it", shown_label()))
}

/// RFC 3339, `YYYY-MM-DD`, or `YYYY-MM-DD HH:MM:SS` (or with a `T`) taken as UTC.
fn parse_time(value: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(time) = DateTime::parse_from_rfc3339(value) {
        return Ok(time.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(time) = NaiveDateTime::parse_from_str(value, format) {
            return Ok(time.and_utc());
        }
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|midnight| midnight.and_utc())
        .ok_or_else(|| format!("time `{}` is neither RFC 3339 nor YYYY-MM-DD", shown(value)))
}

fn csv_rows(bytes: &[u8], fields: &FieldNames<'_>, scale: &VerdictScale) -> anyhow::Result<Parsed> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers = reader.headers().map_err(|e| UsageError(format!("line 1: not a CSV header: {e}")))?.clone();
    let column = |name: &str| headers.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
    let first = |names: &[&str]| names.iter().find_map(|name| column(name));
    let text_column = match fields.text {
        Some(name) => column(name),
        None => first(TEXT_FIELDS),
    };
    let Some(text_column) = text_column else {
        let looked = fields.text.map_or_else(|| TEXT_FIELDS.join(", "), str::to_owned);
        return Err(UsageError(format!(
            "line 1: no text column (looked for {looked}; --text-field names another, --format another format)"
        ))
        .into());
    };
    let (verdict_column, label_column) = (column(fields.verdict), column(fields.label));
    if verdict_column.is_none() && label_column.is_none() {
        return Err(UsageError(format!(
            "line 1: no `{}` or `{}` column (--verdict-field and --label-field name others)",
            fields.verdict, fields.label
        ))
        .into());
    }
    let (url, title, source) = (first(URL_FIELDS), column("title"), column("source"));
    let (author, time, note) = (column("author"), first(TIME_FIELDS), column("note"));
    let (mut rows, mut refused) = (Vec::new(), Vec::new());
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let line = error.position().map_or(0, |p| usize::try_from(p.line()).unwrap_or(usize::MAX));
                refused.push(RefusedRow { line, element: None, reason: format!("malformed CSV: {error}") });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| usize::try_from(p.line()).unwrap_or(usize::MAX));
        let get = |column: Option<usize>| column.and_then(|c| record.get(c)).map(str::to_owned);
        let raw = RawRow {
            text: get(Some(text_column)),
            verdict: get(verdict_column),
            label: get(label_column).map(Value::String),
            url: get(url),
            title: get(title),
            source: get(source),
            author: get(author),
            time: get(time),
            note: get(note),
        };
        match to_row(line, raw, fields, scale) {
            Ok(row) => rows.push(row),
            Err(reason) => refused.push(RefusedRow { line, element: None, reason }),
        }
    }
    Ok((rows, refused))
}

fn json_rows(bytes: &[u8], fields: &FieldNames<'_>, scale: &VerdictScale) -> Parsed {
    let (mut rows, mut refused) = (Vec::new(), Vec::new());
    for (index, line) in bytes.split(|b| *b == b'\n').enumerate() {
        let line_no = index + 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let refuse = |reason: String| RefusedRow { line: line_no, element: None, reason };
        let object: Map<String, Value> = match serde_json::from_slice(line) {
            Ok(object) => object,
            Err(error) => {
                refused.push(refuse(format!("not a JSON object: {error}")));
                continue;
            }
        };
        match json_row(line_no, &object, fields, scale) {
            Ok(row) => rows.push(row),
            Err(reason) => refused.push(refuse(reason)),
        }
    }
    (rows, refused)
}

fn json_row(
    line: usize,
    object: &Map<String, Value>,
    fields: &FieldNames<'_>,
    scale: &VerdictScale,
) -> Result<LabeledRow, String> {
    // Strings as they are, numbers written out; other kinds are a mistake worth naming.
    let string = |name: &str| -> Result<Option<String>, String> {
        match object.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(format!("`{name}` is not a string")),
        }
    };
    let first = |names: &[&str]| -> Result<Option<String>, String> {
        for name in names {
            if let Some(value) = string(name)? {
                return Ok(Some(value));
            }
        }
        Ok(None)
    };
    let text = match fields.text {
        Some(name) => string(name)?,
        None => first(TEXT_FIELDS)?,
    };
    let raw = RawRow {
        text,
        verdict: string(fields.verdict)?,
        label: object.get(fields.label).cloned(),
        url: first(URL_FIELDS)?,
        title: string("title")?,
        source: string("source")?,
        author: string("author")?,
        time: first(TIME_FIELDS)?,
        note: string("note")?,
    };
    to_row(line, raw, fields, scale)
}

/// ClaimReview records, each read with [`read_claimreview_json`]: a top-level value, each
/// element of a top-level array, each claim of a Fact Check Tools export. A record that is not
/// a ClaimReview is refused by its line (and element); invalid JSON ends the reading there,
/// since the parser cannot tell where the next record starts.
fn claimreview_rows(bytes: &[u8], name: &str, scale: &VerdictScale) -> Parsed {
    let (mut rows, mut refused) = (Vec::new(), Vec::new());
    let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<Value>();
    loop {
        let line = line_at(bytes, stream.byte_offset());
        let value = match stream.next() {
            None => break,
            Some(Ok(value)) => value,
            Some(Err(error)) => {
                let reason = format!("invalid JSON: {error}; the rest of the file is not read");
                refused.push(RefusedRow { line: error.line().max(line), element: None, reason });
                break;
            }
        };
        let records: Vec<(Option<usize>, &Value)> = match &value {
            Value::Array(items) => items.iter().enumerate().map(|(i, item)| (Some(i + 1), item)).collect(),
            Value::Object(object) if !object.contains_key("claimReview") && is_claims_list(object) => object
                .get("claims")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
                .map(|(i, claim)| (Some(i + 1), claim))
                .collect(),
            other => vec![(None, other)],
        };
        for (element, record) in records {
            let refuse = |reason: String| RefusedRow { line, element, reason };
            let claims = serde_json::to_vec(record)
                .map_err(|e| e.to_string())
                .and_then(|one| read_claimreview_json(&one, name).map_err(|e| without_place(&e.to_string())));
            match claims {
                Ok(claims) if claims.is_empty() => refused.push(refuse("a claim without reviews".to_owned())),
                Ok(claims) => {
                    for claim in claims {
                        match claim_row(claim, scale) {
                            Ok(row) => rows.push(LabeledRow { line, element, ..row }),
                            Err(reason) => refused.push(refuse(reason)),
                        }
                    }
                }
                Err(reason) => refused.push(refuse(reason)),
            }
        }
    }
    (rows, refused)
}

fn is_claims_list(object: &Map<String, Value>) -> bool {
    object.get("claims").is_some_and(Value::is_array)
}

/// The row a reviewed claim becomes: its text, its first http(s) appearance, its claimant as
/// the author, when it was made (else reviewed), its rating on the scale, and a note saying
/// who rated it how and where.
fn claim_row(claim: DebunkedClaim, scale: &VerdictScale) -> Result<LabeledRow, String> {
    let words = claim.rating.clone().unwrap_or_else(|| claim.verdict.name().to_owned());
    let verdict = scale_verdict(claim.verdict, &words, scale)?;
    let url = claim.appearances.iter().find(|u| u.starts_with("http://") || u.starts_with("https://")).cloned();
    let mut note = format!("Rated \"{words}\"");
    if let Some(reviewer) = &claim.reviewer {
        note.push_str(&format!(" by {reviewer}"));
    }
    if let Some(review_url) = &claim.review_url {
        note.push_str(&format!(": {review_url}"));
    }
    Ok(LabeledRow {
        text: claim.text,
        url,
        author: claim.claimant,
        published: claim.claim_date.or(claim.published),
        verdict,
        note: Some(note),
        ..LabeledRow::default()
    })
}

/// A claims error without its `line N[, element M]: ` (the place of a record read alone is
/// always its first line; the caller names the record's place in the file).
fn without_place(message: &str) -> String {
    match message.strip_prefix("line ").and_then(|rest| rest.split_once(": ")) {
        Some((_, reason)) => reason.to_owned(),
        None => message.to_owned(),
    }
}

/// The 1-based line of the first non-whitespace byte at or after `offset`.
fn line_at(bytes: &[u8], offset: usize) -> usize {
    let start = bytes[offset.min(bytes.len())..]
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(bytes.len(), |skip| offset + skip);
    1 + bytes[..start].iter().filter(|&&b| b == b'\n').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> FieldNames<'static> {
        FieldNames { text: None, verdict: "verdict", label: "label" }
    }

    #[test]
    fn labels_and_verdicts_map_onto_the_scale() {
        let scale = VerdictScale::default();
        for (label, verdict) in [("1", "false"), ("fake", "false"), ("TRUE", "false"), ("0", "true"), ("real", "true")]
        {
            assert_eq!(label_verdict(&Value::from(label), &scale).unwrap(), verdict, "{label}");
        }
        assert_eq!(label_verdict(&Value::Bool(true), &scale).unwrap(), "false");
        assert_eq!(label_verdict(&Value::from(0), &scale).unwrap(), "true");
        assert!(label_verdict(&Value::from("maybe"), &scale).unwrap_err().contains("neither"));
        assert_eq!(verdict_name(" Missing_Context ", &scale).unwrap(), "missing-context");
        assert_eq!(verdict_name("mostly_false", &scale).unwrap(), "false");
        assert_eq!(verdict_name("Mixed", &scale).unwrap(), "misleading");
        assert!(verdict_name("satire", &scale).unwrap_err().contains("satire"));
        assert!(verdict_name("bogus", &scale).unwrap_err().contains("unknown verdict `bogus` (known: false"));
    }

    #[test]
    fn csv_rows_name_their_lines() {
        let csv = "text,label,verdict,published\n\
                   \"Garlic cures COVID\",1,,2024-03-01\n\
                   ,0,,\n\
                   \"Masks work\",,true,yesterday\n\
                   \"Zinc\",,bogus,\n\
                   \"Hot water\",,misleading,2024-03-01T10:00:00+02:00\n";
        let (rows, refused) = csv_rows(csv.as_bytes(), &names(), &VerdictScale::default()).unwrap();
        assert_eq!(
            rows.iter().map(|r| (r.line, r.verdict.as_str())).collect::<Vec<_>>(),
            [(2, "false"), (6, "misleading")]
        );
        assert_eq!(rows[1].published.unwrap().to_rfc3339(), "2024-03-01T08:00:00+00:00");
        let lines: Vec<(usize, &str)> = refused.iter().map(|r| (r.line, r.reason.as_str())).collect();
        assert_eq!(lines[0], (3, "empty text"));
        assert!(lines[1].0 == 4 && lines[1].1.contains("time `yesterday`"), "{lines:?}");
        assert!(lines[2].0 == 5 && lines[2].1.contains("unknown verdict"), "{lines:?}");
        assert!(csv_rows(b"body,label\nx,1\n", &names(), &VerdictScale::default()).is_err());
        assert!(csv_rows(b"text,stance\nx,1\n", &names(), &VerdictScale::default()).is_err());
    }

    #[test]
    fn json_lines_and_formats() {
        let jsonl = "{\"tweet\": \"t1\", \"label\": true, \"url\": \"https://x.org/1\"}\n\n[1]\n{\"text\": [5], \"label\": 0}\n{\"text\": \"t\"}\n";
        let (rows, refused) = json_rows(jsonl.as_bytes(), &names(), &VerdictScale::default());
        assert_eq!(
            (rows.len(), rows[0].verdict.as_str(), rows[0].url.as_deref()),
            (1, "false", Some("https://x.org/1"))
        );
        let lines: Vec<usize> = refused.iter().map(|r| r.line).collect();
        assert_eq!(lines, [3, 4, 5], "{refused:?}");
        assert_eq!(rows[0].text, "t1");
        assert!(refused[2].reason.contains("no verdict"), "{refused:?}");

        let path = Path::new("x.json");
        assert_eq!(detect(path, b"  [{}]"), ImportFormat::Claimreview);
        assert_eq!(detect(path, br#"{"@type": "ClaimReview"}"#), ImportFormat::Claimreview);
        assert_eq!(detect(path, br#"{"claims": []}"#), ImportFormat::Claimreview);
        assert_eq!(detect(path, br#"{"text": "t", "label": 1}"#), ImportFormat::Jsonl);
        assert_eq!(detect(path, b"text,label\n"), ImportFormat::Csv);
        assert_eq!(detect(Path::new("a.CSV"), b"{"), ImportFormat::Csv);
    }

    #[test]
    fn claimreview_records_are_rows_or_refused_by_place() {
        let review = |claim: &str, rating: &str| {
            format!(
                r#"{{"@type": "ClaimReview", "claimReviewed": "{claim}", "url": "https://checks.example.org/{rating}",
                   "author": {{"name": "Checks"}}, "reviewRating": {{"alternateName": "{rating}"}},
                   "itemReviewed": {{"@type": "Claim", "appearance": [{{"url": "https://social.example.com/p/1"}}]}}}}"#
            )
        };
        let file = format!(
            "[{}, {}, {{\"@type\": \"NewsArticle\"}}]\n{}\n",
            review("Garlic cures COVID", "Pants on Fire"),
            review("The Onion says so", "Satire"),
            review("Masks work", "Mostly True").replace('\n', " ")
        );
        let (rows, refused) = claimreview_rows(file.as_bytes(), "f.json", &VerdictScale::default());
        let got: Vec<(usize, Option<usize>, &str)> =
            rows.iter().map(|r| (r.line, r.element, r.verdict.as_str())).collect();
        assert_eq!(got, [(1, Some(1), "false"), (6, None, "true")], "{refused:?}");
        assert_eq!(rows[0].url.as_deref(), Some("https://social.example.com/p/1"));
        assert!(rows[0].note.as_deref().unwrap().contains("Rated \"Pants on Fire\" by Checks"), "{:?}", rows[0].note);
        let places: Vec<String> = refused.iter().map(RefusedRow::place).collect();
        assert_eq!(places, ["line 1, element 2", "line 1, element 3"], "{refused:?}");
        assert!(refused[0].reason.contains("satire"), "{refused:?}");
        assert!(refused[1].reason.starts_with("not a ClaimReview"), "{refused:?}");

        let (_, broken) = claimreview_rows(b"{\"@type\": \"ClaimReview\",\n", "f", &VerdictScale::default());
        assert!(broken[0].reason.contains("invalid JSON"), "{broken:?}");
    }
}
