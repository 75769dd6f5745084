//! `campaigns plot` and `campaigns export`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::Context;
use chrono::Utc;
use infodemic_campaigns::export::{self as render, NetworkEdge};
use infodemic_core::{growth_now, CampaignHead, CampaignId, CampaignStatus};

use super::{coordination, open_for_reading, resolve, CampaignJson, ExportFormat};
use crate::cli::GlobalArgs;
use crate::context::Backend;
use crate::exit::{Exit, UsageError};
use crate::output::write_json_line;

pub fn plot(global: &GlobalArgs, id: &str, out: &Path) -> anyhow::Result<Exit> {
    let Some(backend) = open_for_reading(global)? else {
        return Err(UsageError(format!("no campaign {id:?}: nothing is stored yet")).into());
    };
    let store = backend.campaigns();
    let campaign = resolve(store, id)?;
    let alerts: Vec<_> = store.alerts()?.into_iter().filter(|a| a.campaign == campaign.id).collect();
    let extension = out.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    let bytes = match extension.as_deref() {
        Some("svg") => render::timeline_svg(&campaign, &alerts)?.into_bytes(),
        Some("png") => render::timeline_png(&campaign, &alerts)?,
        _ => return Err(UsageError(format!("{}: the chart file must end in .svg or .png", out.display())).into()),
    };
    std::fs::write(out, bytes).with_context(|| format!("cannot write {}", out.display()))?;
    let mut stdout = crate::output::stdout();
    writeln!(stdout, "Timeline of {} ({} items) written to {}", campaign.id, campaign.size, out.display())?;
    Ok(Exit::Success)
}

pub fn export(global: &GlobalArgs, format: ExportFormat, out: Option<&Path>, window: i64) -> anyhow::Result<Exit> {
    let backend = open_for_reading(global)?;
    let store = backend.as_ref().map(Backend::campaigns);
    let campaigns = match store {
        Some(store) => store.campaigns()?,
        None => Vec::new(),
    };
    let active: Vec<_> = campaigns.iter().filter(|c| c.status == CampaignStatus::Active).cloned().collect();
    let mut buffer: Vec<u8> = Vec::new();
    match format {
        ExportFormat::Json => {
            let heads: Vec<CampaignHead> = campaigns.iter().map(CampaignHead::of).collect();
            let now = growth_now(&heads, Utc::now());
            for campaign in &campaigns {
                let members = match store {
                    Some(store) => store.campaign_members(campaign.id, None)?,
                    None => Vec::new(),
                };
                let mut value = CampaignJson::new(campaign, &members, now);
                value.history = Some(&campaign.history);
                write_json_line(&mut buffer, &value)?;
            }
        }
        ExportFormat::Csv => render::write_campaigns_csv(&mut buffer, &campaigns)?,
        ExportFormat::Stix => {
            let alerts = match store {
                Some(store) => store.alerts()?,
                None => Vec::new(),
            };
            let bundle = render::stix_bundle(&active, &alerts, Utc::now());
            serde_json::to_writer_pretty(&mut buffer, &bundle)?;
            buffer.push(b'\n');
        }
        ExportFormat::Gexf => {
            let mut members = Vec::with_capacity(active.len());
            let mut node_campaigns: BTreeMap<String, Vec<CampaignId>> = BTreeMap::new();
            if let Some(store) = store {
                for campaign in &active {
                    let list = store.campaign_members(campaign.id, None)?;
                    for member in &list {
                        let account = member.account.clone().unwrap_or_else(|| member.source.clone());
                        let ids = node_campaigns.entry(account).or_default();
                        if !ids.contains(&campaign.id) {
                            ids.push(campaign.id);
                        }
                    }
                    members.push(list);
                }
            }
            let network = coordination::network_of(&members, window);
            let edges: Vec<NetworkEdge> = network
                .edges
                .into_iter()
                .map(|edge| NetworkEdge {
                    account_a: edge.account_a,
                    account_b: edge.account_b,
                    weight: edge.weight as f64,
                    objects: edge.objects,
                    items: edge.content_ids,
                })
                .collect();
            render::write_gexf(&mut buffer, &edges, Some(&node_campaigns))?;
        }
    }
    match out {
        Some(path) => {
            std::fs::write(path, &buffer).with_context(|| format!("cannot write {}", path.display()))?;
            let mut stdout = crate::output::stdout();
            writeln!(stdout, "{} campaigns exported to {}", campaigns.len(), path.display())?;
        }
        None => crate::output::stdout().write_all(&buffer)?,
    }
    Ok(Exit::Success)
}
