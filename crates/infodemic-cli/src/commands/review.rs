//! `infodemic review`: the queue of unreviewed items, verdicts (one item, several, a
//! campaign, a batch file), and undo.

use std::io::{BufRead, Read, Write};
use std::path::PathBuf;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand, ValueEnum};
use infodemic_core::{
    CampaignId, ItemId, ItemQuery, NewVerdict, QueueOrder, QueueRequest, RecordedVerdicts, RejectedVerdict, SourceId,
};

use crate::cli::GlobalArgs;
use crate::commands::query::{score_arg, source_arg};
use crate::exit::{Exit, UsageError};
use crate::output::{new_table, score_cell, terminal_safe, write_json_line, ItemRow};
use crate::when::when_arg;

/// The largest batch file read, and the most rows in it: a batch is a day's work, not a dump.
const MAX_BATCH_BYTES: u64 = 64 * 1024 * 1024;
const MAX_BATCH_ROWS: usize = 100_000;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ReviewArgs {
    #[command(subcommand)]
    pub command: Option<ReviewCommand>,
    #[command(flatten)]
    pub record: RecordArgs,
}

#[derive(Debug, Subcommand)]
pub enum ReviewCommand {
    /// Unreviewed items worth a review, highest score (or largest campaign) first
    Queue(QueueArgs),
    /// Withdraw your standing verdict on items (the log keeps both events)
    Undo(UndoArgs),
}

/// `review ITEM... --verdict V`.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Item ids (16 hex characters)
    #[arg(value_name = "ITEM", value_parser = item_arg)]
    pub items: Vec<ItemId>,

    /// The verdict: false, misleading, missing-context, true, unproven, not-health, not-a-claim
    /// (or the names in the data directory's verdicts.toml)
    #[arg(long, value_name = "VERDICT")]
    pub verdict: Option<String>,

    /// Why, in your words
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,

    /// Who is reviewing [default: $INFODEMIC_REVIEWER, else the login name]
    #[arg(long, value_name = "NAME", env = "INFODEMIC_REVIEWER")]
    pub reviewer: Option<String>,

    /// Every unreviewed-or-not member of this campaign (c12), one verdict each
    #[arg(long, value_name = "CAMPAIGN", value_parser = campaign_arg)]
    pub campaign: Option<CampaignId>,

    /// Rows from a file (- for stdin): JSON lines with `id` (and optionally `verdict`, `note`,
    /// `reviewer`; `infodemic query --json` output works), CSV with an `id` column, or one id
    /// per line; --verdict fills rows without one
    #[arg(long, value_name = "FILE")]
    pub batch: Option<PathBuf>,

    /// Record nothing if any row is bad (default: record the good rows, report the bad ones)
    #[arg(long)]
    pub strict: bool,

    /// One JSON object: the events recorded and the rows refused
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct QueueArgs {
    /// Include items below the model's review threshold
    #[arg(long)]
    pub all: bool,
    /// Only items the model flagged
    #[arg(long)]
    pub flagged: bool,
    /// Only items scoring at least this (0..1)
    #[arg(long, value_name = "SCORE", value_parser = score_arg)]
    pub min_score: Option<f32>,
    /// Only items published at or after (a date, an RFC 3339 time, or a span back: 7d)
    #[arg(long, value_name = "WHEN", value_parser = when_arg)]
    pub since: Option<DateTime<Utc>>,
    /// Only items published before (same forms as --since)
    #[arg(long, value_name = "WHEN", value_parser = when_arg)]
    pub until: Option<DateTime<Utc>>,
    /// Only items from this source id (repeatable)
    #[arg(long = "source", value_name = "ID", value_parser = source_arg)]
    pub sources: Vec<SourceId>,
    /// Only items whose title or text contains this (case-insensitive)
    #[arg(long, value_name = "TEXT")]
    pub text: Option<String>,
    /// Only members of this campaign (c12)
    #[arg(long, value_name = "CAMPAIGN", value_parser = campaign_arg)]
    pub campaign: Option<CampaignId>,
    /// Order
    #[arg(long, value_enum, default_value_t = By::Score)]
    pub by: By,
    /// At most this many items
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// JSON lines: the item as `query --json` writes it, plus `campaign` and `campaign_size`
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum By {
    /// Highest score first
    Score,
    /// Members of the largest campaigns first, then the rest by score
    Campaign,
}

#[derive(Debug, Args)]
pub struct UndoArgs {
    /// Item ids
    #[arg(value_name = "ITEM", value_parser = item_arg, required_unless_present = "campaign")]
    pub items: Vec<ItemId>,
    /// Every member of this campaign
    #[arg(long, value_name = "CAMPAIGN", value_parser = campaign_arg)]
    pub campaign: Option<CampaignId>,
    /// Whose verdict [default: $INFODEMIC_REVIEWER, else the login name]
    #[arg(long, value_name = "NAME", env = "INFODEMIC_REVIEWER")]
    pub reviewer: Option<String>,
    /// One JSON object: the undo events recorded and the items refused
    #[arg(long)]
    pub json: bool,
}

fn item_arg(value: &str) -> Result<ItemId, String> {
    value.parse().map_err(|e: infodemic_core::IdParseError| e.to_string())
}

fn campaign_arg(value: &str) -> Result<CampaignId, String> {
    value.parse().map_err(|e: infodemic_core::CampaignIdParseError| e.to_string())
}

/// The reviewer: the name given, else the login name; checked as the store checks it.
pub fn reviewer_name(given: Option<&str>) -> anyhow::Result<String> {
    let name = match given {
        Some(name) => name.to_owned(),
        None => std::env::var("USER")
            .or_else(|_| std::env::var("USERNAME"))
            .ok()
            .filter(|name| !name.trim().is_empty())
            .unwrap_or_else(|| "reviewer".to_owned()),
    };
    infodemic_core::review::check_reviewer(&name).map_err(|e| UsageError(e.to_string()).into())
}

pub fn run(args: ReviewArgs, global: &GlobalArgs) -> anyhow::Result<Exit> {
    match args.command {
        Some(ReviewCommand::Queue(queue)) => run_queue(&queue, global),
        Some(ReviewCommand::Undo(undo)) => run_undo(&undo, global),
        None => run_record(&args.record, global),
    }
}

fn run_queue(args: &QueueArgs, global: &GlobalArgs) -> anyhow::Result<Exit> {
    let request = QueueRequest {
        query: ItemQuery {
            flagged_only: args.flagged,
            review_only: !args.all,
            min_score: args.min_score,
            since: args.since,
            until: args.until,
            sources: args.sources.clone(),
            text: args.text.clone(),
            limit: Some(args.limit),
            ..ItemQuery::default()
        },
        order: match args.by {
            By::Score => QueueOrder::Score,
            By::Campaign => QueueOrder::CampaignSize,
        },
        campaign: args.campaign,
    };
    let entries = match global.open_backend(false)? {
        Some(backend) => backend.reviews().review_queue(&request)?,
        None => Vec::new(),
    };
    let mut out = crate::output::stdout();
    if args.json {
        #[derive(serde::Serialize)]
        struct Row<'a> {
            #[serde(flatten)]
            item: ItemRow<'a>,
            campaign: Option<String>,
            campaign_size: Option<u32>,
        }
        for entry in &entries {
            let row = Row {
                item: ItemRow::new(&entry.scored, false),
                campaign: entry.campaign.map(|c| c.id.to_string()),
                campaign_size: entry.campaign.map(|c| c.size),
            };
            write_json_line(&mut out, &row)?;
        }
    } else if entries.is_empty() {
        writeln!(out, "Nothing to review with these filters.")?;
    } else {
        let mut table = new_table(&["id", "score", "campaign", "source", "title / evidence"]);
        for entry in &entries {
            let class = &entry.scored.classification;
            let line = class.evidence.first().map_or(entry.scored.item.title.as_str(), |e| e.text.as_str());
            let shown: String = line.chars().take(100).collect();
            table.add_row(vec![
                entry.scored.item.id.to_string(),
                score_cell(class),
                entry.campaign.map_or_else(|| "-".to_owned(), |c| format!("{} ({})", c.id, c.size)),
                entry.scored.item.source.as_str().to_owned(),
                terminal_safe(&shown).into_owned(),
            ]);
        }
        writeln!(out, "{table}")?;
        writeln!(out, "{} item(s). Record: infodemic review ID --verdict VERDICT", entries.len())?;
    }
    out.flush()?;
    Ok(Exit::Success)
}

/// One row of a batch, with the line it came from.
struct Row {
    line: usize,
    verdict: NewVerdict,
}

fn run_record(args: &RecordArgs, global: &GlobalArgs) -> anyhow::Result<Exit> {
    let reviewer = reviewer_name(args.reviewer.as_deref())?;
    let given =
        usize::from(!args.items.is_empty()) + usize::from(args.campaign.is_some()) + usize::from(args.batch.is_some());
    if given == 0 {
        return Err(UsageError(
            "nothing to review: give item ids, --campaign, or --batch FILE (or `review queue` to list what waits)"
                .to_owned(),
        )
        .into());
    }
    if given > 1 {
        return Err(UsageError("give item ids, --campaign or --batch, one of them".to_owned()).into());
    }
    // The data directory's scale is the one a running service loaded too: a --verdict that is
    // not on it is the user's mistake before any row is read.
    let scale = global.verdict_scale()?;
    let verdict = args.verdict.as_deref().map(|v| scale.parse(v)).transpose().map_err(|e| UsageError(e.to_string()))?;
    // A batch is read before the store is opened: `infodemic query --json | infodemic review
    // --batch -` holds the store in the first process until its output ends.
    let (rows, unreadable) = match &args.batch {
        Some(path) => read_batch(path, verdict.as_deref(), &reviewer, args.note.as_deref())?,
        None => (Vec::new(), Vec::new()),
    };
    let Some(backend) = global.open_backend_waiting()? else {
        return Err(UsageError("the store is empty: nothing to review (crawl first)".to_owned()).into());
    };
    let rows: Vec<Row> = if args.batch.is_some() {
        rows
    } else {
        let Some(verdict) = verdict else {
            return Err(UsageError(format!("--verdict is required (one of: {})", scale.names())).into());
        };
        let items = match args.campaign {
            Some(campaign) => campaign_items(&backend, campaign)?,
            None => args.items.clone(),
        };
        items
            .into_iter()
            .enumerate()
            .map(|(index, item)| Row {
                line: index + 1,
                verdict: NewVerdict {
                    item,
                    verdict: verdict.clone(),
                    reviewer: reviewer.clone(),
                    note: args.note.clone(),
                },
            })
            .collect()
    };
    if args.strict && !unreadable.is_empty() {
        let outcome = RecordedVerdicts { recorded: Vec::new(), rejected: unreadable };
        return report(&outcome, args.json, true, true);
    }
    let batch: Vec<NewVerdict> = rows.iter().map(|row| row.verdict.clone()).collect();
    let mut outcome = backend.reviews().record_verdicts(&batch, &scale, args.strict)?;
    // Rows the store refused are numbered by their place in `batch`: give them their lines.
    for rejected in &mut outcome.rejected {
        rejected.row = rows.get(rejected.row).map_or(rejected.row, |row| row.line);
    }
    outcome.rejected.extend(unreadable);
    outcome.rejected.sort_by_key(|rejected| rejected.row);
    report(&outcome, args.json, args.strict, args.batch.is_some())
}

/// A campaign's item members.
fn campaign_items(backend: &crate::context::Backend, campaign: CampaignId) -> anyhow::Result<Vec<ItemId>> {
    if backend.campaigns().campaign(campaign)?.is_none() {
        return Err(UsageError(format!("no campaign {campaign}")).into());
    }
    let members = backend.campaigns().campaign_members(campaign, None)?;
    // Replayed inputs are campaign members without stored items: nothing to give a verdict on.
    let items: Vec<ItemId> = members.iter().filter_map(|member| member.id.parse().ok()).collect();
    if items.is_empty() {
        return Err(UsageError(format!("campaign {campaign} has no stored items (replayed inputs only)")).into());
    }
    Ok(items)
}

/// Prints what was recorded and what was refused; a refused row is a usage failure (exit 2).
/// Rejected rows carry their line in the batch (for files) or their position (for ids).
fn report(outcome: &RecordedVerdicts, json: bool, strict: bool, from_file: bool) -> anyhow::Result<Exit> {
    let mut out = crate::output::stdout();
    if json {
        write_json_line(&mut out, outcome)?;
    } else {
        for event in &outcome.recorded {
            writeln!(out, "{}  {}  {}", event.item, event.verdict, terminal_safe(&event.reviewer))?;
        }
    }
    out.flush()?;
    let mut err = std::io::stderr().lock();
    for rejected in &outcome.rejected {
        let place = if from_file { format!("line {}", rejected.row) } else { format!("item {}", rejected.item) };
        writeln!(err, "error: {place}: {}", terminal_safe(&rejected.error))?;
    }
    if outcome.rejected.is_empty() {
        if !json {
            writeln!(err, "{} verdict(s) recorded.", outcome.recorded.len())?;
        }
        return Ok(Exit::Success);
    }
    if strict {
        writeln!(err, "Nothing recorded: {} row(s) refused (--strict).", outcome.rejected.len())?;
    } else {
        writeln!(
            err,
            "{} verdict(s) recorded; {} row(s) refused and not recorded.",
            outcome.recorded.len(),
            outcome.rejected.len()
        )?;
    }
    Ok(Exit::Usage)
}

/// Rows of a batch and the lines that are not rows (numbered by line).
type BatchRows = (Vec<Row>, Vec<RejectedVerdict>);

/// Reads a batch file: the rows it holds, and each line that cannot be a row with why. A file
/// that cannot be read at all (missing, too large, not UTF-8, no rows) is the user's error.
fn read_batch(
    path: &std::path::Path,
    verdict: Option<&str>,
    reviewer: &str,
    note: Option<&str>,
) -> anyhow::Result<BatchRows> {
    let reader: Box<dyn BufRead> = if path.as_os_str() == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin().lock()))
    } else {
        let file = std::fs::File::open(path).map_err(|e| UsageError(format!("cannot open {}: {e}", path.display())))?;
        Box::new(std::io::BufReader::new(file))
    };
    let mut bytes = Vec::new();
    reader
        .take(MAX_BATCH_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() as u64 > MAX_BATCH_BYTES {
        return Err(UsageError(format!("{}: a batch holds at most 64 MiB", path.display())).into());
    }
    let text = String::from_utf8(bytes).map_err(|e| UsageError(format!("{}: not UTF-8 text: {e}", path.display())))?;
    let defaults = Defaults { verdict, reviewer, note };
    let first = text.lines().map(str::trim).find(|line| !line.is_empty() && !line.starts_with('#')).unwrap_or("");
    let (rows, rejected) = if first.is_empty() {
        (Vec::new(), Vec::new())
    } else if first.starts_with('{') {
        json_rows(&text, &defaults)
    } else if first.parse::<ItemId>().is_ok() {
        id_rows(&text, &defaults)
    } else {
        csv_rows(&text, &defaults)?
    };
    if rows.is_empty() && rejected.is_empty() {
        return Err(UsageError(format!("{}: no rows", path.display())).into());
    }
    if rows.len() + rejected.len() > MAX_BATCH_ROWS {
        return Err(UsageError(format!("{}: a batch holds at most {MAX_BATCH_ROWS} rows", path.display())).into());
    }
    Ok((rows, rejected))
}

/// What rows without their own verdict, reviewer or note get.
struct Defaults<'a> {
    verdict: Option<&'a str>,
    reviewer: &'a str,
    note: Option<&'a str>,
}

/// A row's fields, from whichever format.
struct Fields<'a> {
    id: Option<&'a str>,
    verdict: Option<&'a str>,
    reviewer: Option<&'a str>,
    note: Option<&'a str>,
}

fn row_from(line: usize, fields: &Fields<'_>, defaults: &Defaults<'_>) -> Result<Row, RejectedVerdict> {
    let given = fields.id.map(str::trim).unwrap_or("");
    let reject = |error: String| RejectedVerdict { row: line, item: given.chars().take(40).collect(), error };
    if given.is_empty() {
        return Err(reject("no `id`".to_owned()));
    }
    let item = given.parse::<ItemId>().map_err(|e| reject(e.to_string()))?;
    let verdict = fields
        .verdict
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .or(defaults.verdict)
        .ok_or_else(|| reject("no verdict (give it in the row or with --verdict)".to_owned()))?;
    Ok(Row {
        line,
        verdict: NewVerdict {
            item,
            verdict: verdict.to_owned(),
            reviewer: fields.reviewer.map(str::trim).filter(|r| !r.is_empty()).unwrap_or(defaults.reviewer).to_owned(),
            note: fields.note.or(defaults.note).map(str::to_owned),
        },
    })
}

fn push(outcome: Result<Row, RejectedVerdict>, rows: &mut Vec<Row>, rejected: &mut Vec<RejectedVerdict>) {
    match outcome {
        Ok(row) => rows.push(row),
        Err(refused) => rejected.push(refused),
    }
}

fn json_rows(text: &str, defaults: &Defaults<'_>) -> BatchRows {
    #[derive(serde::Deserialize)]
    struct JsonRow {
        id: Option<String>,
        #[serde(default)]
        verdict: Option<serde_json::Value>,
        reviewer: Option<String>,
        note: Option<String>,
    }
    let (mut rows, mut rejected) = (Vec::new(), Vec::new());
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let row: JsonRow = match serde_json::from_str(line) {
            Ok(row) => row,
            Err(error) => {
                let error = format!("not a JSON object with `id`: {error}");
                rejected.push(RejectedVerdict { row: line_no, item: String::new(), error });
                continue;
            }
        };
        // `query --json` rows carry no verdict; `show --json` rows carry the current one (or null).
        let fields = Fields {
            id: row.id.as_deref(),
            verdict: row.verdict.as_ref().and_then(serde_json::Value::as_str),
            reviewer: row.reviewer.as_deref(),
            note: row.note.as_deref(),
        };
        push(row_from(line_no, &fields, defaults), &mut rows, &mut rejected);
    }
    (rows, rejected)
}

fn id_rows(text: &str, defaults: &Defaults<'_>) -> BatchRows {
    let (mut rows, mut rejected) = (Vec::new(), Vec::new());
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let fields = Fields { id: Some(trimmed), verdict: None, reviewer: None, note: None };
        push(row_from(index + 1, &fields, defaults), &mut rows, &mut rejected);
    }
    (rows, rejected)
}

fn csv_rows(text: &str, defaults: &Defaults<'_>) -> anyhow::Result<BatchRows> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| UsageError(format!("line 1: not a CSV header: {e}")))?.clone();
    let column = |name: &str| headers.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
    let Some(id_column) = column("id") else {
        return Err(UsageError(
            "line 1: a batch is JSON lines, one id per line, or CSV with an `id` column (and verdict, note, reviewer)"
                .to_owned(),
        )
        .into());
    };
    let (verdict_column, note_column, reviewer_column) = (column("verdict"), column("note"), column("reviewer"));
    let (mut rows, mut rejected) = (Vec::new(), Vec::new());
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let line = error.position().map_or(0, |p| usize::try_from(p.line()).unwrap_or(usize::MAX));
                rejected.push(RejectedVerdict {
                    row: line,
                    item: String::new(),
                    error: format!("malformed CSV: {error}"),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| usize::try_from(p.line()).unwrap_or(usize::MAX));
        let get = |column: Option<usize>| column.and_then(|c| record.get(c));
        let fields = Fields {
            id: record.get(id_column),
            verdict: get(verdict_column),
            reviewer: get(reviewer_column),
            note: get(note_column),
        };
        push(row_from(line, &fields, defaults), &mut rows, &mut rejected);
    }
    Ok((rows, rejected))
}

fn run_undo(args: &UndoArgs, global: &GlobalArgs) -> anyhow::Result<Exit> {
    let reviewer = reviewer_name(args.reviewer.as_deref())?;
    let Some(backend) = global.open_backend_waiting()? else {
        return Err(UsageError("the store is empty: nothing to undo".to_owned()).into());
    };
    let items = match args.campaign {
        Some(campaign) => campaign_items(&backend, campaign)?,
        None => args.items.clone(),
    };
    let outcome = backend.reviews().undo_verdicts(&items, &reviewer)?;
    let mut out = crate::output::stdout();
    if args.json {
        write_json_line(&mut out, &outcome)?;
    } else {
        for event in &outcome.recorded {
            writeln!(out, "{}  undid {}  {}", event.item, event.verdict, terminal_safe(&event.reviewer))?;
        }
    }
    out.flush()?;
    let mut err = std::io::stderr().lock();
    for rejected in &outcome.rejected {
        writeln!(err, "error: item {}: {}", rejected.item, terminal_safe(&rejected.error))?;
    }
    Ok(if outcome.rejected.is_empty() { Exit::Success } else { Exit::Usage })
}
