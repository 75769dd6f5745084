//! `infodemic feeds`: the subscribed feeds and their health.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use infodemic_core::text::ellipsize;
use infodemic_core::{FeedCategory, FeedKind, FeedSpec, FeedState, RelevanceFilter, SourceId};
use infodemic_pipeline::{check_feed, feeds_from_opml, feeds_to_opml, load_catalogue, FetchConfig};
use serde::Serialize;
use url::Url;

use crate::cli::GlobalArgs;
use crate::commands::crawl::feed_url;
use crate::exit::{Exit, UsageError};
use crate::output::{new_table, write_json_line};

#[derive(Debug, Args)]
pub struct FeedsArgs {
    #[command(subcommand)]
    pub command: FeedsCommand,
}

#[derive(Debug, Subcommand)]
pub enum FeedsCommand {
    /// Subscribed feeds with their health: last success, last error, failure score, next poll, items per day
    List {
        /// One JSON object per feed
        #[arg(long)]
        json: bool,
    },
    /// Subscribe to a feed or a public source
    Add(AddArgs),
    /// Unsubscribe (stored items and history stay)
    Remove {
        /// The feed's id
        #[arg(value_name = "ID")]
        id: String,
    },
    /// Subscribe to every feed of a catalogue (TOML, see feeds/catalogue.toml)
    Import {
        /// The catalogue
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Subscribe to every feed of an OPML file
    ImportOpml {
        /// The OPML file
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Write the subscriptions as OPML (stdout, or --output)
    ExportOpml {
        /// Write here instead of stdout
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Fetch a feed now and show what would be kept (nothing is stored)
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The feed's URL (Mastodon: https://INSTANCE/tags/NAME or /@ACCOUNT; Reddit: https://www.reddit.com/r/NAME; Telegram: https://t.me/s/NAME)
    #[arg(value_name = "URL", value_parser = feed_url)]
    pub url: Url,
    /// Id used in queries [default: host and path of the URL]
    #[arg(long, value_parser = source_id)]
    pub id: Option<SourceId>,
    /// Display name
    #[arg(long)]
    pub name: Option<String>,
    /// Source kind [default: from the URL: mastodon, reddit, telegram, youtube, else rss]
    #[arg(long, value_parser = kind_arg)]
    pub kind: Option<FeedKind>,
    /// authority, medical-news, fact-checker, misinformation-outlet or other
    #[arg(long, default_value = "other", value_parser = category_arg)]
    pub category: FeedCategory,
    /// Tag (repeatable)
    #[arg(long = "tag")]
    pub tags: Vec<String>,
    /// Fetch each item's page and keep its main text (for feeds with summaries only)
    #[arg(long)]
    pub full_text: bool,
    /// Which items to keep: auto (by category), all, or health (health-related only)
    #[arg(long, default_value = "all", value_parser = relevance_arg)]
    pub relevance: RelevanceFilter,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The feed's URL
    #[arg(value_name = "URL", value_parser = feed_url)]
    pub url: Url,
    /// Source kind [default: from the URL]
    #[arg(long, value_parser = kind_arg)]
    pub kind: Option<FeedKind>,
    /// Seconds allowed
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    /// One JSON object
    #[arg(long)]
    pub json: bool,
}

fn source_id(value: &str) -> Result<SourceId, String> {
    SourceId::new(value).map_err(|e| e.to_string())
}

fn serde_enum<T: serde::de::DeserializeOwned>(value: &str, what: &str, choices: &str) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(value.to_owned()))
        .map_err(|_| format!("unknown {what} `{value}`: one of {choices}"))
}

fn kind_arg(value: &str) -> Result<FeedKind, String> {
    serde_enum(value, "kind", "rss, atom, json, youtube, mastodon, reddit, telegram, html")
}

fn category_arg(value: &str) -> Result<FeedCategory, String> {
    serde_enum(value, "category", "authority, medical-news, fact-checker, misinformation-outlet, other")
}

fn relevance_arg(value: &str) -> Result<RelevanceFilter, String> {
    serde_enum(value, "relevance filter", "auto, all, health")
}

/// The kind a URL implies.
pub fn kind_of(url: &Url) -> FeedKind {
    let host = url.host_str().unwrap_or_default();
    let path = url.path();
    if host == "t.me" || host.ends_with(".t.me") {
        FeedKind::Telegram
    } else if host.ends_with("reddit.com") && path.starts_with("/r/") && !path.ends_with(".rss") {
        FeedKind::Reddit
    } else if host.ends_with("youtube.com") && path.starts_with("/feeds/") {
        FeedKind::Youtube
    } else if path.starts_with("/tags/") || (path.starts_with("/@") && !path.contains('.')) {
        FeedKind::Mastodon
    } else {
        FeedKind::Rss
    }
}

#[derive(Serialize)]
struct FeedRow<'a> {
    id: &'a str,
    name: &'a str,
    url: &'a str,
    kind: &'static str,
    category: String,
    subscribed: bool,
    health: &'static str,
    last_success: Option<DateTime<Utc>>,
    last_attempt: Option<DateTime<Utc>>,
    last_error: Option<&'a str>,
    failure_score: f32,
    next_poll: Option<DateTime<Utc>>,
    poll_interval_secs: Option<u32>,
    items_stored: u64,
    items_per_day: Option<f64>,
    /// Entries in the document at the last read, and those that became no item.
    last_entries: u32,
    last_entries_dropped: u32,
}

pub fn run(args: &FeedsArgs, global: &GlobalArgs) -> anyhow::Result<Exit> {
    match &args.command {
        FeedsCommand::List { json } => list(global, *json),
        FeedsCommand::Add(add) => {
            let mut spec = FeedSpec::from_url(add.url.clone());
            spec.kind = add.kind.unwrap_or_else(|| kind_of(&add.url));
            if spec.kind == FeedKind::Html {
                return Err(UsageError(
                    "html sources need CSS selectors: add them through a catalogue (feeds import)".to_owned(),
                )
                .into());
            }
            if let Some(id) = &add.id {
                spec.id = id.clone();
            }
            if let Some(name) = &add.name {
                spec.name = name.clone();
            }
            spec.category = add.category;
            spec.tags = add.tags.clone();
            spec.full_text = add.full_text;
            spec.relevance = add.relevance;
            let backend = global.open_backend(true)?.context("no store")?;
            let new = backend.put_subscription(&spec)?;
            let mut out = crate::output::stdout();
            writeln!(
                out,
                "{} {} ({}, {})",
                if new { "subscribed:" } else { "updated:" },
                spec.id,
                spec.kind.as_str(),
                spec.url
            )?;
            Ok(Exit::Success)
        }
        FeedsCommand::Remove { id } => {
            let backend = global.open_backend(true)?.context("no store")?;
            if !backend.remove_subscription(id)? {
                return Err(UsageError(format!("no subscription `{id}` (see infodemic feeds list)")).into());
            }
            writeln!(crate::output::stdout(), "unsubscribed: {id} (its items stay)")?;
            Ok(Exit::Success)
        }
        FeedsCommand::Import { file } => {
            let feeds = load_catalogue(file).map_err(|e| UsageError(e.to_string()))?;
            subscribe_all(global, &feeds, &file.display().to_string())
        }
        FeedsCommand::ImportOpml { file } => {
            let bytes = std::fs::read(file).map_err(|e| UsageError(format!("cannot read {}: {e}", file.display())))?;
            let feeds = feeds_from_opml(&bytes).map_err(|e| UsageError(format!("{}: {e}", file.display())))?;
            subscribe_all(global, &feeds, &file.display().to_string())
        }
        FeedsCommand::ExportOpml { output } => {
            let feeds = match global.open_backend(false)? {
                Some(backend) => backend.subscriptions()?,
                None => Vec::new(),
            };
            let document = feeds_to_opml(&feeds, "infodemic subscriptions");
            match output {
                Some(path) => {
                    std::fs::write(path, document).with_context(|| format!("cannot write {}", path.display()))?
                }
                None => crate::output::stdout().write_all(document.as_bytes())?,
            }
            Ok(Exit::Success)
        }
        FeedsCommand::Check(check) => check_one(check),
    }
}

fn subscribe_all(global: &GlobalArgs, feeds: &[FeedSpec], from: &str) -> anyhow::Result<Exit> {
    let backend = global.open_backend(true)?.context("no store")?;
    let mut added = 0;
    for spec in feeds {
        added += usize::from(backend.put_subscription(spec)?);
    }
    writeln!(crate::output::stdout(), "{} feeds in {from}: {added} new, {} updated", feeds.len(), feeds.len() - added)?;
    Ok(Exit::Success)
}

fn list(global: &GlobalArgs, json: bool) -> anyhow::Result<Exit> {
    let (subscriptions, states) = match global.open_backend(false)? {
        Some(backend) => (backend.subscriptions()?, backend.reader().feed_states()?),
        None => (Vec::new(), Vec::new()),
    };
    let mut states: HashMap<SourceId, FeedState> = states.into_iter().map(|s| (s.source.clone(), s)).collect();
    let now = Utc::now();
    // Subscriptions first, then feeds crawled once with --url or a catalogue.
    let mut rows: Vec<(Option<FeedSpec>, Option<FeedState>)> = subscriptions
        .into_iter()
        .map(|spec| (states.remove(&spec.id), spec))
        .map(|(state, spec)| (Some(spec), state))
        .collect();
    let mut others: Vec<FeedState> = states.into_values().collect();
    others.sort_by(|a, b| a.source.cmp(&b.source));
    rows.extend(others.into_iter().map(|state| (None, Some(state))));
    let mut out = crate::output::stdout();
    if json {
        for (spec, state) in &rows {
            let id =
                spec.as_ref().map(|s| s.id.as_str()).or(state.as_ref().map(|s| s.source.as_str())).unwrap_or_default();
            let row = FeedRow {
                id,
                name: spec.as_ref().map_or(id, |s| s.name.as_str()),
                url: spec
                    .as_ref()
                    .map(|s| s.url.as_str())
                    .or(state.as_ref().map(|s| s.url.as_str()))
                    .unwrap_or_default(),
                kind: spec.as_ref().map_or("rss", |s| s.kind.as_str()),
                category: spec
                    .as_ref()
                    .map_or_else(|| "other".to_owned(), |s| format!("{:?}", s.category).to_lowercase()),
                subscribed: spec.is_some(),
                health: state.as_ref().map_or("new", |s| s.health().as_str()),
                last_success: state.as_ref().and_then(|s| s.last_success),
                last_attempt: state.as_ref().and_then(|s| s.last_attempt),
                last_error: state.as_ref().and_then(|s| s.last_error.as_deref()),
                failure_score: state.as_ref().map_or(0.0, |s| s.failure_score),
                next_poll: state.as_ref().and_then(|s| s.next_poll),
                poll_interval_secs: state.as_ref().map(|s| s.interval_secs),
                items_stored: state.as_ref().map_or(0, |s| s.items_stored),
                items_per_day: state.as_ref().and_then(|s| s.items_per_day(now)),
                last_entries: state.as_ref().map_or(0, |s| s.last_entries),
                last_entries_dropped: state.as_ref().map_or(0, |s| s.last_entries_dropped),
            };
            write_json_line(&mut out, &row)?;
        }
        return Ok(Exit::Success);
    }
    if rows.is_empty() {
        writeln!(out, "No feeds. Subscribe: infodemic feeds add URL, or infodemic feeds import feeds/catalogue.toml")?;
        return Ok(Exit::Success);
    }
    let mut table = new_table(&[
        "ID",
        "KIND",
        "HEALTH",
        "LAST SUCCESS",
        "FAIL",
        "NEXT POLL",
        "ITEMS",
        "/DAY",
        "DROPPED",
        "LAST ERROR",
    ]);
    let ago = |t: Option<DateTime<Utc>>| t.map_or_else(|| "-".to_owned(), |t| relative(t, now));
    for (spec, state) in &rows {
        let id = spec
            .as_ref()
            .map(|s| s.id.to_string())
            .or(state.as_ref().map(|s| s.source.to_string()))
            .unwrap_or_default();
        let mut id = ellipsize(&id, 36);
        if spec.is_none() {
            id.push_str(" (once)");
        }
        table.add_row(vec![
            id,
            spec.as_ref().map_or("rss", |s| s.kind.as_str()).to_owned(),
            state.as_ref().map_or("new", |s| s.health().as_str()).to_owned(),
            ago(state.as_ref().and_then(|s| s.last_success)),
            state.as_ref().map_or_else(String::new, |s| {
                if s.failure_score > 0.0 {
                    format!("{:.0}", s.failure_score)
                } else {
                    String::new()
                }
            }),
            state.as_ref().and_then(|s| s.next_poll).map_or_else(|| "now".to_owned(), |t| relative(t, now)),
            state.as_ref().map_or(0, |s| s.items_stored).to_string(),
            state.as_ref().and_then(|s| s.items_per_day(now)).map_or_else(String::new, |d| format!("{d:.1}")),
            // Entries of the last read that became no item, of how many.
            state
                .as_ref()
                .filter(|s| s.last_entries_dropped > 0)
                .map_or_else(String::new, |s| format!("{} of {}", s.last_entries_dropped, s.last_entries)),
            ellipsize(state.as_ref().and_then(|s| s.last_error.as_deref()).unwrap_or(""), 40),
        ]);
    }
    writeln!(out, "{table}")?;
    Ok(Exit::Success)
}

/// `5m ago`, `in 2h`.
fn relative(time: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (time - now).num_seconds();
    let span = seconds.unsigned_abs();
    let text = match span {
        0..=59 => format!("{span}s"),
        60..=3599 => format!("{}m", span / 60),
        3600..=172_799 => format!("{}h", span / 3600),
        _ => format!("{}d", span / 86_400),
    };
    if seconds < 0 {
        format!("{text} ago")
    } else {
        format!("in {text}")
    }
}

fn check_one(args: &CheckArgs) -> anyhow::Result<Exit> {
    let mut spec = FeedSpec::from_url(args.url.clone());
    spec.kind = args.kind.unwrap_or_else(|| kind_of(&args.url));
    let fetch = FetchConfig { timeout: Duration::from_secs(args.timeout), ..FetchConfig::default() };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let check = runtime.block_on(check_feed(spec, fetch))?;
    let mut out = crate::output::stdout();
    if args.json {
        write_json_line(&mut out, &check)?;
        return Ok(if check.error.is_some() { Exit::Failure } else { Exit::Success });
    }
    writeln!(out, "{} ({}) in {:.2} s, {} bytes", check.url, check.kind, check.elapsed_secs, check.bytes)?;
    if let Some((code, message)) = &check.error {
        writeln!(out, "failed [{code}]: {message}")?;
        return Ok(Exit::Failure);
    }
    let kept = check.items.iter().filter(|i| i.kept).count();
    writeln!(
        out,
        "{} items ({kept} kept by the relevance filter), {} entries skipped",
        check.items.len(),
        check.skipped
    )?;
    let mut table = new_table(&["KEPT", "PUBLISHED", "LANG", "AUTHOR", "LINKS", "TITLE"]);
    for checked in &check.items {
        let item = &checked.item;
        table.add_row(vec![
            if checked.kept { "yes" } else { "no" }.to_owned(),
            item.published.map_or_else(|| "-".to_owned(), |t| t.format("%Y-%m-%d %H:%M").to_string()),
            item.language.clone().unwrap_or_default(),
            ellipsize(item.author.as_deref().unwrap_or("-"), 24),
            item.links.len().to_string(),
            ellipsize(&item.title, 80),
        ]);
    }
    writeln!(out, "{table}")?;
    Ok(Exit::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_the_url() {
        for (url, kind) in [
            ("https://mastodon.social/tags/vaccines", FeedKind::Mastodon),
            ("https://mastodon.social/@who", FeedKind::Mastodon),
            ("https://www.reddit.com/r/health/", FeedKind::Reddit),
            ("https://www.reddit.com/r/health/.rss", FeedKind::Rss),
            ("https://t.me/s/channel", FeedKind::Telegram),
            ("https://www.youtube.com/feeds/videos.xml?channel_id=x", FeedKind::Youtube),
            ("https://www.who.int/rss-feeds/news-english.xml", FeedKind::Rss),
        ] {
            assert_eq!(kind_of(&Url::parse(url).unwrap()), kind, "{url}");
        }
    }
}
