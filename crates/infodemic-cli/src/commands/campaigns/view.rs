//! `campaigns` (the list) and `campaigns show`.

use std::collections::BTreeMap;
use std::io::Write;

use chrono::{DateTime, Utc};
use infodemic_campaigns::coordination::CoordinationEdge;
use infodemic_campaigns::export::campaign_sparkline;
use infodemic_core::text::ellipsize;
use infodemic_core::{
    growth_now, rank_campaigns, Campaign, CampaignEvent, CampaignFilter, CampaignHead, CampaignMember, CampaignStatus,
    Technique,
};
use serde::Serialize;

use super::{coordination, open_for_reading, resolve, ListArgs, StatusFilter};
use crate::cli::GlobalArgs;
use crate::context::Backend;
use crate::exit::Exit;
use crate::output::{new_table, write_json_line};

/// Hours of "recent growth" the list is sorted by.
const GROWTH_HOURS: i64 = 24;

/// A campaign as `--json` prints it. The field names are a contract.
#[derive(Debug, Serialize)]
pub struct CampaignJson<'a> {
    pub id: String,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<String>,
    pub size: u32,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Items in the 24 hours up to the newest item of the store.
    pub recent_growth: u32,
    /// Source names, most items first.
    pub sources: Vec<&'a str>,
    pub source_counts: &'a BTreeMap<String, u32>,
    pub accounts: &'a BTreeMap<String, u32>,
    pub languages: &'a BTreeMap<String, u32>,
    pub representative: &'a CampaignMember,
    pub top_terms: Vec<String>,
    pub fact_checks: &'a BTreeMap<String, String>,
    pub score_mean: Option<f64>,
    pub score_max: Option<f32>,
    pub techniques: &'a [Technique],
    pub daily: BTreeMap<String, u32>,
    pub items: Vec<ItemJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<&'a [CampaignEvent]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edges: Option<Vec<CoordinationEdge>>,
}

/// A member as listed.
#[derive(Debug, Serialize)]
pub struct ItemJson<'a> {
    pub id: &'a str,
    pub url: &'a str,
    pub time: Option<DateTime<Utc>>,
    pub source: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<&'a str>,
    pub text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
}

impl<'a> CampaignJson<'a> {
    pub fn new(campaign: &'a Campaign, members: &'a [CampaignMember], now: DateTime<Utc>) -> Self {
        let mut sources: Vec<(&str, u32)> = campaign.sources.iter().map(|(s, n)| (s.as_str(), *n)).collect();
        sources.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        Self {
            id: campaign.id.to_string(),
            status: match campaign.status {
                CampaignStatus::Active => "active",
                CampaignStatus::Merged { .. } => "merged",
            },
            merged_into: match campaign.status {
                CampaignStatus::Merged { into } => Some(into.to_string()),
                CampaignStatus::Active => None,
            },
            size: campaign.size,
            first_seen: campaign.first_seen,
            last_seen: campaign.last_seen,
            recent_growth: campaign.recent_items(now, GROWTH_HOURS),
            sources: sources.into_iter().map(|(s, _)| s).collect(),
            source_counts: &campaign.sources,
            accounts: &campaign.accounts,
            languages: &campaign.languages,
            representative: &campaign.representative,
            top_terms: campaign.top_terms(8),
            fact_checks: &campaign.fact_checks,
            score_mean: campaign.scores.mean(),
            score_max: (campaign.scores.count > 0).then_some(campaign.scores.max),
            techniques: &campaign.techniques,
            daily: campaign
                .daily()
                .into_iter()
                .filter_map(|(day, n)| {
                    DateTime::from_timestamp(day.saturating_mul(86_400), 0)
                        .map(|d| (d.format("%Y-%m-%d").to_string(), n))
                })
                .collect(),
            items: members
                .iter()
                .map(|m| ItemJson {
                    id: &m.id,
                    url: &m.url,
                    time: m.time,
                    source: &m.source,
                    account: m.account.as_deref(),
                    text: &m.text,
                    score: m.score,
                })
                .collect(),
            history: None,
            edges: None,
        }
    }
}

pub fn list(global: &GlobalArgs, args: &ListArgs) -> anyhow::Result<Exit> {
    let backend = open_for_reading(global)?;
    let store = backend.as_ref().map(Backend::campaigns);
    let filter = CampaignFilter {
        since: args.since,
        min_size: args.min_size,
        active: match args.status {
            StatusFilter::Active => Some(true),
            StatusFilter::Merged => Some(false),
            StatusFilter::All => None,
        },
        limit: args.limit,
    };
    // Ranking reads only the campaigns' heads; the campaigns shown are then read whole. A
    // source filter needs every campaign's sources, so it reads them all.
    let (heads, by_source) = match (store, &args.source) {
        (None, _) => (Vec::new(), None),
        (Some(store), None) => (store.campaign_heads()?, None),
        (Some(store), Some(source)) => {
            let mut all = store.campaigns()?;
            all.retain(|c| c.sources.contains_key(source));
            (all.iter().map(CampaignHead::of).collect(), Some(all))
        }
    };
    let now = growth_now(&heads, Utc::now());
    let ranked = rank_campaigns(&heads, &filter, now);
    let mut campaigns: Vec<Campaign> = Vec::with_capacity(ranked.len());
    if let Some(mut all) = by_source {
        for id in &ranked {
            if let Some(index) = all.iter().position(|c| c.id == *id) {
                campaigns.push(all.swap_remove(index));
            }
        }
    } else if let Some(store) = store {
        for id in &ranked {
            campaigns.extend(store.campaign(*id)?);
        }
    }
    let nothing_stored = heads.is_empty() && args.source.is_none();
    let mut out = crate::output::stdout();
    if args.json {
        for campaign in &campaigns {
            let members = match store {
                Some(store) => store.campaign_members(campaign.id, None)?,
                None => Vec::new(),
            };
            write_json_line(&mut out, &CampaignJson::new(campaign, &members, now))?;
        }
        return Ok(Exit::Success);
    }
    if campaigns.is_empty() {
        writeln!(
            out,
            "No campaigns{}. Items the model flags for review are grouped as they are crawled; \
             `infodemic campaigns replay FILE` groups a JSON-lines file.",
            if nothing_stored { "" } else { " match these filters" }
        )?;
        return Ok(Exit::Success);
    }
    let mut table = new_table(&["ID", "SIZE", "24H", "SOURCES", "FIRST", "LAST", "TIMELINE", "REPRESENTATIVE"]);
    for campaign in &campaigns {
        table.add_row(vec![
            campaign.id.to_string(),
            campaign.size.to_string(),
            campaign.recent_items(now, GROWTH_HOURS).to_string(),
            campaign.sources.len().to_string(),
            campaign.first_seen.format("%Y-%m-%d").to_string(),
            campaign.last_seen.format("%Y-%m-%d %H:%M").to_string(),
            campaign_sparkline(campaign, 16),
            ellipsize(&campaign.representative.text, 70),
        ]);
    }
    writeln!(out, "{table}")?;
    Ok(Exit::Success)
}

pub fn show(global: &GlobalArgs, id: &str, window: i64, json: bool) -> anyhow::Result<Exit> {
    let Some(backend) = open_for_reading(global)? else {
        return Err(crate::exit::UsageError(format!("no campaign {id:?}: nothing is stored yet")).into());
    };
    let store = backend.campaigns();
    let campaign = resolve(store, id)?;
    let members = store.campaign_members(campaign.id, None)?;
    let network = coordination::network_of(std::slice::from_ref(&members), window);
    let now = growth_now(&store.campaign_heads()?, Utc::now());
    let mut out = crate::output::stdout();
    if json {
        let mut value = CampaignJson::new(&campaign, &members, now);
        value.history = Some(&campaign.history);
        value.edges = Some(network.edges);
        write_json_line(&mut out, &value)?;
        return Ok(Exit::Success);
    }
    write_summary(&mut out, &campaign, &members, now)?;
    if !network.edges.is_empty() {
        writeln!(
            out,
            "\nCoordination (accounts sharing one text or hashtag within {}):",
            coordination::describe_window(window)
        )?;
        for edge in network.edges.iter().take(20) {
            writeln!(
                out,
                "  {} — {}: {} co-shares, {:.0} s apart on average ({} objects)",
                edge.account_a,
                edge.account_b,
                edge.weight,
                edge.avg_time_delta,
                edge.objects.len()
            )?;
        }
    }
    writeln!(out, "\nHistory:")?;
    for event in &campaign.history {
        writeln!(out, "  {}", describe_event(event))?;
    }
    Ok(Exit::Success)
}

fn write_summary(
    out: &mut impl Write,
    campaign: &Campaign,
    members: &[CampaignMember],
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    writeln!(out, "Campaign {}: {}", campaign.id, ellipsize(&campaign.representative.text, 160))?;
    writeln!(
        out,
        "  {} items from {} sources, {} to {} ({} in the last 24 h)",
        campaign.size,
        campaign.sources.len(),
        campaign.first_seen.format("%Y-%m-%d %H:%M"),
        campaign.last_seen.format("%Y-%m-%d %H:%M"),
        campaign.recent_items(now, GROWTH_HOURS)
    )?;
    writeln!(out, "  Timeline: {}", campaign_sparkline(campaign, 40))?;
    if let Some(mean) = campaign.scores.mean() {
        writeln!(out, "  Scores: mean {mean:.2}, max {:.2}", campaign.scores.max)?;
    }
    let terms = campaign.top_terms(8);
    if !terms.is_empty() {
        writeln!(out, "  Terms: {}", terms.join(", "))?;
    }
    for technique in &campaign.techniques {
        writeln!(out, "  DISARM {} {}: {}", technique.id, technique.name, technique.evidence)?;
    }
    for (claim, reference) in &campaign.fact_checks {
        writeln!(out, "  Fact-check {claim}: {reference}")?;
    }
    let mut sources: Vec<(&String, &u32)> = campaign.sources.iter().collect();
    sources.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    writeln!(out, "\nSources:")?;
    for (source, count) in sources.iter().take(15) {
        writeln!(out, "  {count:>5}  {source}")?;
    }
    writeln!(out, "\nItems:")?;
    let mut table = new_table(&["TIME", "SOURCE", "ITEM", "TEXT"]);
    for member in members.iter().take(50) {
        table.add_row(vec![
            member.time.map_or_else(|| "-".to_owned(), |t| t.format("%Y-%m-%d %H:%M").to_string()),
            ellipsize(&member.source, 24),
            ellipsize(&member.id, 18),
            ellipsize(&member.text, 70),
        ]);
    }
    writeln!(out, "{table}")?;
    if members.len() > 50 {
        writeln!(out, "  … and {} more (--json lists them all)", members.len() - 50)?;
    }
    Ok(())
}

fn describe_event(event: &CampaignEvent) -> String {
    let time = |at: &DateTime<Utc>| at.format("%Y-%m-%d %H:%M").to_string();
    match event {
        CampaignEvent::Opened { at, item } => format!("{}  opened by {item}", time(at)),
        CampaignEvent::Absorbed { at, from } => format!("{}  absorbed {from}", time(at)),
        CampaignEvent::MergedInto { at, into } => format!("{}  merged into {into}", time(at)),
        CampaignEvent::Alert { at, summary } => format!("{}  alert: {summary}", time(at)),
        CampaignEvent::Technique { at, id } => format!("{}  technique {id}", time(at)),
    }
}
