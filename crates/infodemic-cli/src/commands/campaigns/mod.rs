//! `infodemic campaigns` and `infodemic alerts`: narratives pushed by several sources, their
//! coordination evidence and surge alerts.

mod coordination;
mod export;
mod replay;
mod view;

use std::io::Write;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand, ValueEnum};
use infodemic_core::{Campaign, CampaignId, CampaignStatus};
use infodemic_store::CampaignReader;

use crate::context::Backend;

use crate::cli::GlobalArgs;
use crate::exit::{Exit, UsageError};
use crate::output::write_json_line;
use crate::when::when_arg;

pub use view::CampaignJson;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct CampaignsArgs {
    #[command(subcommand)]
    pub command: Option<CampaignsCommand>,
    #[command(flatten)]
    pub list: ListArgs,
}

/// Filters of the campaign list.
#[derive(Debug, Args, Clone)]
pub struct ListArgs {
    /// Only campaigns with an item since (2026-11-01, 2026-11-01T12:00:00Z, or 12h, 7d)
    #[arg(long, value_parser = when_arg, value_name = "WHEN")]
    pub since: Option<DateTime<Utc>>,
    /// Only campaigns with at least this many items
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub min_size: u32,
    /// Only campaigns with items from this source
    #[arg(long, value_name = "SOURCE")]
    pub source: Option<String>,
    /// Active campaigns (taking items), merged ones (retired into a successor), or all
    #[arg(long, value_enum, default_value_t = StatusFilter::Active)]
    pub status: StatusFilter,
    /// At most this many (0: all)
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// One JSON object per campaign (with its items)
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StatusFilter {
    Active,
    Merged,
    All,
}

#[derive(Debug, Subcommand)]
pub enum CampaignsCommand {
    /// One campaign: summary, timeline, sources, items, coordination edges, history
    Show {
        /// The campaign id (c12) or the id of one of its items
        #[arg(value_name = "ID")]
        id: String,
        /// Coordination: accounts sharing one text or link within this window count as a pair
        #[arg(long, default_value = "1h", value_parser = coordination::window_arg)]
        window: i64,
        /// JSON
        #[arg(long)]
        json: bool,
    },
    /// A campaign's timeline as a chart for a report (SVG or PNG, by the file's extension)
    Plot {
        /// The campaign id
        #[arg(value_name = "ID")]
        id: String,
        /// The chart file: .svg or .png
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Every campaign as JSON lines, CSV, the coordination network as GEXF, or a STIX 2.1 bundle
    Export {
        /// The format
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// The file [default: stdout]
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Coordination window for the GEXF network
        #[arg(long, default_value = "1h", value_parser = coordination::window_arg)]
        window: i64,
    },
    /// Assign a JSON-lines stream (id, text, time, url, source, account, links) to campaigns in
    /// file order, as the pipeline would; state stays in the data dir, so files replayed one
    /// after another continue the same campaigns
    Replay {
        /// The JSON-lines file (`-` for stdin)
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Assign every line, not only those the model flags for review
        #[arg(long)]
        all: bool,
        /// One line per input, once the file is assigned: {"id": ..., "campaign": ..., "opened": ...}
        /// (the campaign as it stands at the end of the file, merges followed)
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        alerts: AlertSinkArgs,
    },
    /// CooRTweet-compatible coordinated sharing: pairs of accounts sharing one object within
    /// a time window, from shares given as object_id, account_id, content_id, timestamp_share
    Coordination(coordination::CoordinationArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// One JSON object per campaign per line
    Json,
    /// One row per campaign
    Csv,
    /// The coordination network between accounts (Gephi)
    Gexf,
    /// A STIX 2.1 bundle (campaigns, DISARM attack patterns)
    Stix,
}

/// Where campaign alerts go besides the store (crawl, watch, replay).
#[derive(Debug, Args, Clone, Default)]
pub struct AlertSinkArgs {
    /// Run this shell command for each alert, with the alert as JSON on stdin and
    /// INFODEMIC_ALERT_CAMPAIGN, _KIND, _SUMMARY in its environment
    #[arg(long, env = "INFODEMIC_ALERT_COMMAND", value_name = "COMMAND")]
    pub alert_command: Option<String>,
    /// POST each alert as JSON to this http(s) URL
    #[arg(long, env = "INFODEMIC_ALERT_WEBHOOK", value_name = "URL")]
    pub alert_webhook: Option<String>,
}

impl AlertSinkArgs {
    /// The configured sinks; a webhook that is not an http(s) URL is the user's error.
    pub fn sinks(&self) -> anyhow::Result<Vec<infodemic_pipeline::AlertSink>> {
        let mut sinks = Vec::new();
        if let Some(command) = self.alert_command.as_ref().filter(|c| !c.trim().is_empty()) {
            sinks.push(infodemic_pipeline::AlertSink::Command(command.clone()));
        }
        if let Some(hook) = &self.alert_webhook {
            let url = url::Url::parse(hook)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .ok_or_else(|| UsageError(format!("--alert-webhook {hook:?} is not an http(s) URL")))?;
            sinks.push(infodemic_pipeline::AlertSink::Webhook(url));
        }
        Ok(sinks)
    }
}

#[derive(Debug, Args)]
pub struct AlertsArgs {
    /// Only alerts raised since (2026-11-01, 12h, 7d)
    #[arg(long, value_parser = when_arg, value_name = "WHEN")]
    pub since: Option<DateTime<Utc>>,
    /// Only this campaign's alerts
    #[arg(long, value_name = "ID")]
    pub campaign: Option<String>,
    /// JSON lines
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &CampaignsArgs, global: &GlobalArgs) -> anyhow::Result<Exit> {
    match &args.command {
        None => view::list(global, &args.list),
        Some(CampaignsCommand::Show { id, window, json }) => view::show(global, id, *window, *json),
        Some(CampaignsCommand::Plot { id, out }) => export::plot(global, id, out),
        Some(CampaignsCommand::Export { format, out, window }) => {
            export::export(global, *format, out.as_deref(), *window)
        }
        Some(CampaignsCommand::Replay { file, all, json, alerts }) => {
            replay::replay(global, file, *all, *json, alerts.sinks()?)
        }
        Some(CampaignsCommand::Coordination(args)) => coordination::run(args),
    }
}

pub fn run_alerts(args: &AlertsArgs, global: &GlobalArgs) -> anyhow::Result<Exit> {
    let mut alerts = match open_for_reading(global)? {
        Some(backend) => backend.campaigns().alerts()?,
        None => Vec::new(),
    };
    if let Some(campaign) = &args.campaign {
        let id: CampaignId =
            campaign.parse().map_err(|e: infodemic_core::CampaignIdParseError| UsageError(e.to_string()))?;
        alerts.retain(|a| a.campaign == id);
    }
    if let Some(since) = args.since {
        alerts.retain(|a| a.at >= since);
    }
    let mut out = crate::output::stdout();
    if args.json {
        for alert in &alerts {
            write_json_line(&mut out, alert)?;
        }
        return Ok(Exit::Success);
    }
    if alerts.is_empty() {
        writeln!(out, "No alerts.")?;
        return Ok(Exit::Success);
    }
    let mut table = crate::output::new_table(&["#", "AT", "CAMPAIGN", "RULE", "SIZE", "WHAT"]);
    for alert in alerts.iter().rev() {
        table.add_row(vec![
            alert.seq.to_string(),
            alert.at.format("%Y-%m-%d %H:%M").to_string(),
            alert.campaign.to_string(),
            alert.kind.clone(),
            alert.size.to_string(),
            alert.summary.clone(),
        ]);
    }
    writeln!(out, "{table}")?;
    Ok(Exit::Success)
}

/// The store, or the running service that holds it; `None` when nothing was ever stored.
fn open_for_reading(global: &GlobalArgs) -> anyhow::Result<Option<Backend>> {
    global.open_backend(false)
}

/// Resolves a campaign id, or an item id to its campaign, following merges.
fn resolve(store: &dyn CampaignReader, id: &str) -> anyhow::Result<Campaign> {
    let campaign_id = match id.parse::<CampaignId>() {
        Ok(campaign) if id.trim().starts_with(['c', 'C']) => Some(campaign),
        _ => store.campaign_of(id.trim())?,
    };
    let Some(mut current) = campaign_id else {
        return Err(UsageError(format!("no campaign {id:?} (give a campaign id such as c12, or an item id)")).into());
    };
    // Bounded: a merge chain is shorter than the number of campaigns.
    for _ in 0..1000 {
        let Some(campaign) = store.campaign(current)? else {
            return Err(UsageError(format!("no campaign {current}")).into());
        };
        match campaign.status {
            CampaignStatus::Merged { into } => current = into,
            CampaignStatus::Active => return Ok(campaign),
        }
    }
    Err(UsageError(format!("campaign {id} has a merge chain too long to follow")).into())
}
