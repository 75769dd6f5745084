//! `campaigns replay`: a JSON-lines stream assigned to campaigns as the pipeline would.

use std::io::{Read, Write};
use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, Utc};
use infodemic_classifier::SessionOptions;
use infodemic_pipeline::{CampaignItem, CampaignSettings, CampaignTracker};
use infodemic_store::CampaignWriter;
use serde::Serialize;
use serde_json::Value;

use crate::cli::GlobalArgs;
use crate::exit::{Exit, UsageError};
use crate::output::write_json_line;
use crate::progress::counter;

/// Lines assigned and committed together: a replay stopped anywhere resumes after the last
/// whole chunk (lines already assigned are recognised by id and not assigned twice).
const CHUNK: usize = 1000;
/// Larger inputs are refused: the whole file is read and checked before anything is assigned.
const MAX_LINES: usize = 5_000_000;
/// Longer texts are cut: the grouping reads the start of a text.
const MAX_TEXT_CHARS: usize = 20_000;
/// Longer ids are refused: an id is a key, not a text.
const MAX_ID_CHARS: usize = 512;
/// A line's time later than this after the replay's wall clock is implausible.
const MAX_FUTURE_DAYS: i64 = 2;
/// Bad lines listed in the error before "and N more".
const ERRORS_SHOWN: usize = 10;

#[derive(Serialize)]
struct LineJson<'a> {
    id: &'a str,
    campaign: Option<String>,
    opened: bool,
}

pub fn replay(
    global: &GlobalArgs,
    file: &Path,
    all: bool,
    json: bool,
    sinks: Vec<infodemic_pipeline::AlertSink>,
) -> anyhow::Result<Exit> {
    let mut bytes = Vec::new();
    if file.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut bytes).context("cannot read stdin")?;
    } else {
        bytes = std::fs::read(file).map_err(|e| UsageError(format!("cannot read {}: {e}", file.display())))?;
    }
    match &global.store {
        Some(url) => {
            let store = infodemic_store_postgres::PgStore::connect(url)?;
            // Campaigns have one writer: not while a campaign worker groups into this store.
            if !store.become_campaign_writer()? {
                return Err(infodemic_store::StoreError::NotTheWriter(
                    "another process writes campaigns to this store (a campaign worker, a watch, or a crawl that scores): \
                     replay once it has stopped".to_owned(),
                )
                .into());
            }
            replay_into(global, &store, &bytes, file, all, json, sinks)
        }
        None => replay_into(global, &global.open_store()?, &bytes, file, all, json, sinks),
    }
}

/// Replays `bytes` (the lines of `file`) into `store`'s campaigns.
fn replay_into<S: CampaignWriter + Clone + 'static>(
    global: &GlobalArgs,
    store: &S,
    bytes: &[u8],
    file: &Path,
    all: bool,
    json: bool,
    sinks: Vec<infodemic_pipeline::AlertSink>,
) -> anyhow::Result<Exit> {
    // The stream's clock continues from what earlier replays into this store reached.
    let resume_clock = store.campaign_heads()?.iter().map(|head| head.last_seen).max();
    let items =
        parse_lines(bytes, Utc::now(), resume_clock).map_err(|e| UsageError(format!("{}: {e}", file.display())))?;

    let mut classifier = if all {
        None
    } else {
        let mut model = global.load_model(SessionOptions::default())?.classifier;
        model.set_evidence(false);
        Some(model)
    };
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start the async runtime")?;
    let tracker =
        runtime.block_on(CampaignTracker::open(store, CampaignSettings { sinks, ..CampaignSettings::default() }))?;
    let progress = counter(global.quiet || json, "lines replayed");
    let mut out = crate::output::stdout();
    let (mut assigned, mut again, mut opened, mut skipped, mut alerts) = (0usize, 0usize, 0usize, 0usize, 0usize);
    let mut lines: Vec<(Option<infodemic_core::CampaignId>, bool)> = Vec::new();
    for chunk in items.chunks(CHUNK) {
        // Without --all, only what the model flags for review is campaign material.
        let keep: Vec<bool> = match classifier.as_mut() {
            None => vec![true; chunk.len()],
            Some(model) => {
                let texts: Vec<String> = chunk.iter().map(|item| item.text.clone()).collect();
                let policy = infodemic_classifier::Classify::policy(model);
                infodemic_classifier::Classify::classify(model, &texts)?
                    .into_iter()
                    .map(|mut classification| {
                        classification.redecide(&policy, None);
                        classification.review
                    })
                    .collect()
            }
        };
        let mut chosen: Vec<CampaignItem> = Vec::new();
        for (item, keep) in chunk.iter().zip(&keep) {
            if *keep {
                chosen.push(item.clone());
            }
        }
        let report = runtime.block_on(tracker.assign(chosen))?;
        let mut results = report.assignments.iter();
        for keep in &keep {
            let result = if *keep { results.next() } else { None };
            match result {
                Some(a) if a.already_assigned => again += 1,
                Some(_) => assigned += 1,
                None => skipped += 1,
            }
            lines.push((result.map(|a| a.campaign), result.is_some_and(|a| a.opened)));
        }
        opened += report.opened;
        alerts += report.alerts.len();
        progress.inc(chunk.len() as u64);
    }
    progress.finish_and_clear();
    // Printed once the whole file is assigned, as the campaigns stand then: a line whose
    // campaign a later line merged into another gets the successor, whatever the chunking.
    let mut campaigns = std::collections::BTreeSet::new();
    for (item, (campaign, opened)) in items.iter().zip(lines) {
        let campaign = campaign.map(|c| tracker.resolve(c));
        campaigns.extend(campaign);
        if json {
            write_json_line(&mut out, &LineJson { id: &item.id, campaign: campaign.map(|c| c.to_string()), opened })?;
        }
    }
    if !json {
        writeln!(
            out,
            "{} lines: {assigned} assigned to {} campaigns ({opened} opened), {again} assigned before, {skipped} not \
             flagged for review{}; {alerts} alerts",
            items.len(),
            campaigns.len(),
            if all { "" } else { " (--all assigns every line)" },
        )?;
    }
    Ok(Exit::Success)
}

/// Reads every line; any bad line fails the whole input before anything is assigned, naming
/// the lines, so a replay is never half-applied.
fn parse_lines(
    bytes: &[u8],
    now: DateTime<Utc>,
    resume_clock: Option<DateTime<Utc>>,
) -> Result<Vec<CampaignItem>, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    let mut items = Vec::new();
    let mut errors = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        if items.len() >= MAX_LINES {
            return Err(format!("more than {MAX_LINES} lines; split the file and replay the parts in order"));
        }
        match parse_line(line, now) {
            Ok(item) => {
                if !seen.insert(item.id.clone()) {
                    errors.push(format!("line {number}: id {:?} repeats an earlier line", item.id));
                } else {
                    items.push(item);
                }
            }
            Err(error) => errors.push(format!("line {number}: {error}")),
        }
    }
    if !errors.is_empty() {
        let more = errors.len().saturating_sub(ERRORS_SHOWN);
        let mut message = errors.into_iter().take(ERRORS_SHOWN).collect::<Vec<_>>().join("; ");
        if more > 0 {
            message.push_str(&format!("; and {more} more bad lines"));
        }
        return Err(format!("{message} (nothing was assigned)"));
    }
    // A replay runs on the stream's clock: an undated line arrives at the newest time seen so
    // far (in this file or, for a file replayed after others, in the store; before any, at the
    // first dated line's time), not at the wall-clock time of the replay, which would put
    // archive items in today's timeline and alerts.
    let mut clock = resume_clock.or_else(|| items.iter().find_map(|item| item.time)).unwrap_or(now);
    for item in &mut items {
        if let Some(time) = item.time {
            clock = clock.max(time);
        }
        item.seen_at = item.time.unwrap_or(clock);
    }
    Ok(items)
}

fn string_field(object: &serde_json::Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(format!("`{key}` must be a string, not {other}")),
    }
}

fn parse_line(line: &str, now: DateTime<Utc>) -> Result<CampaignItem, String> {
    let value: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(object) = value else { return Err("not a JSON object".to_owned()) };
    let id = string_field(&object, "id")?.filter(|s| !s.trim().is_empty()).ok_or("missing `id`")?;
    if id.chars().count() > MAX_ID_CHARS {
        return Err(format!("`id` is longer than {MAX_ID_CHARS} characters"));
    }
    let text = string_field(&object, "text")?.ok_or("missing `text`")?;
    let text: String = text.chars().take(MAX_TEXT_CHARS).collect();
    let time = match object.get("time") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(
            DateTime::parse_from_rfc3339(s.trim())
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| format!("`time` {s:?} is not RFC 3339: {e}"))?,
        ),
        Some(Value::Number(n)) => {
            let seconds = n.as_i64().ok_or_else(|| format!("`time` {n} is not whole seconds"))?;
            Some(DateTime::from_timestamp(seconds, 0).ok_or_else(|| format!("`time` {seconds} is out of range"))?)
        }
        Some(other) => return Err(format!("`time` must be a string or seconds, not {other}")),
    };
    // As the crawler reads publication times: before the Unix epoch or days in the future is a
    // broken date, read as no date rather than stretching a campaign over centuries.
    let plausible = DateTime::UNIX_EPOCH..=now + chrono::Duration::days(MAX_FUTURE_DAYS);
    let time = time.filter(|t| plausible.contains(t));
    let url = string_field(&object, "url")?.unwrap_or_default();
    // `host` is the story-clustering sets' name for the source.
    let source = match string_field(&object, "source")? {
        Some(source) => source,
        None => match string_field(&object, "host")? {
            Some(host) => host,
            None => url::Url::parse(&url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default(),
        },
    };
    let links = match object.get("links") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(values)) => values
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or_else(|| "`links` must hold strings".to_owned()))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("`links` must be an array of strings".to_owned()),
    };
    Ok(CampaignItem {
        simhash: infodemic_core::simhash::simhash(&text),
        id,
        text,
        time,
        seen_at: time.unwrap_or(now),
        url,
        source,
        account: string_field(&object, "account")?,
        language: None,
        links,
        embedding: None,
        score: None,
        fact_check: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default()
    }

    #[test]
    fn lines_parse_with_optional_fields_and_host_as_source() {
        let input = br#"{"id": "dev-1", "text": "bleach cures covid", "time": "2020-03-14T00:00:00Z", "url": "https://a.example/x", "host": "a.example", "story": "r1"}

{"id": 7, "text": "t", "time": null, "url": "https://b.example/y", "account": "@x", "links": ["https://l"]}
"#;
        let items = parse_lines(input, now(), None).unwrap_or_default();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].source, "a.example");
        assert_eq!(items[0].time.map(|t| t.timestamp()), Some(1_584_144_000));
        assert_eq!(items[1].id, "7");
        assert_eq!(items[1].source, "b.example", "the URL's host when no source is given");
        assert_eq!(items[1].seen_at.timestamp(), 1_584_144_000, "an undated line arrives on the stream's clock");
        assert_eq!(items[1].links, ["https://l"]);
    }

    #[test]
    fn undated_lines_continue_the_clock_of_earlier_replays() {
        let earlier = DateTime::from_timestamp(1_600_000_000, 0);
        let items = parse_lines(b"{\"id\": \"u\", \"text\": \"x\"}\n", now(), earlier).unwrap_or_default();
        assert_eq!(items[0].seen_at, earlier.unwrap_or_default());
        let items = parse_lines(b"{\"id\": \"u\", \"text\": \"x\"}\n", now(), None).unwrap_or_default();
        assert_eq!(items[0].seen_at, now(), "with no time anywhere, the wall clock");
    }

    #[test]
    fn implausible_times_are_undated_and_huge_ids_refused() {
        let input = br#"{"id": "old", "text": "t", "time": -8000000000}
{"id": "future", "text": "t", "time": "9999-12-31T23:59:59Z"}
{"id": "ok", "text": "t", "time": "2020-03-14T00:00:00Z"}
"#;
        let items = parse_lines(input, now(), None).unwrap_or_default();
        assert_eq!(items.iter().map(|i| i.time.is_some()).collect::<Vec<_>>(), [false, false, true]);
        let long = format!("{{\"id\": \"{}\", \"text\": \"t\"}}\n", "e".repeat(MAX_ID_CHARS + 1));
        let error = parse_lines(long.as_bytes(), now(), None).err().unwrap_or_default();
        assert!(error.contains("line 1: `id` is longer than 512 characters"), "{error}");
    }

    #[test]
    fn bad_lines_are_all_named_and_nothing_is_kept() {
        let input = b"{\"id\": \"a\", \"text\": \"x\"}\nnot json\n{\"text\": \"no id\"}\n{\"id\": \"a\", \"text\": \"again\"}\n{\"id\": \"b\", \"text\": \"x\", \"time\": \"yesterday\"}\n";
        let error = parse_lines(input, now(), None).err().unwrap_or_default();
        assert!(error.contains("line 2: not JSON"), "{error}");
        assert!(error.contains("line 3: missing `id`"), "{error}");
        assert!(error.contains("line 4: id \"a\" repeats"), "{error}");
        assert!(error.contains("line 5: `time` \"yesterday\""), "{error}");
        assert!(error.ends_with("(nothing was assigned)"), "{error}");
    }
}
