//! `campaigns coordination`, and the coordination evidence of stored campaigns.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use infodemic_campaigns::coordination::{self, CoordinationNetwork, CoordinationParams};
use infodemic_core::CampaignMember;
use serde::Serialize;

use crate::exit::{Exit, UsageError};
use crate::output::write_json_line;

#[derive(Debug, Args)]
pub struct CoordinationArgs {
    /// Shares as CSV (object_id, account_id, content_id, timestamp_share) or JSON lines with
    /// those keys (by the extension: .jsonl/.ndjson/.json, else CSV)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Time window: two shares of one object at most this far apart (10s, 1m, 2h)
    #[arg(long, default_value = "10s", value_parser = window_arg)]
    pub window: i64,
    /// Accounts need at least this many shares (CooRTweet's min_participation)
    #[arg(long, default_value_t = 2)]
    pub min_participation: usize,
    /// Quantile of edge weights an edge must exceed to be marked `weight_threshold: 1`
    /// (CooRTweet's edge_weight)
    #[arg(long, default_value_t = 0.5)]
    pub edge_weight: f64,
    /// Only the edges above that quantile (CooRTweet's subgraph = 1); by default every edge of
    /// the full network, as CooRTweet's subgraph = 0
    #[arg(long)]
    pub filtered: bool,
    /// One JSON object per edge
    #[arg(long)]
    pub json: bool,
}

/// Parses `10s`, `5m`, `2h`, `1d` or plain seconds.
pub fn window_arg(value: &str) -> Result<i64, String> {
    let value = value.trim();
    let split = value.find(|c: char| !c.is_ascii_digit()).unwrap_or(value.len());
    let (digits, unit) = value.split_at(split);
    let amount: i64 = digits.parse().map_err(|_| format!("`{value}` is not a window (10s, 5m, 2h, 1d)"))?;
    let scale = match unit {
        "" | "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("`{value}` is not a window (10s, 5m, 2h, 1d)")),
    };
    amount.checked_mul(scale).ok_or_else(|| format!("`{value}` is too long a window"))
}

/// A window for people.
pub fn describe_window(seconds: i64) -> String {
    match seconds {
        s if s % 86_400 == 0 && s > 0 => format!("{} d", s / 86_400),
        s if s % 3600 == 0 && s > 0 => format!("{} h", s / 3600),
        s if s % 60 == 0 && s > 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

#[derive(Serialize)]
struct EdgeJson<'a> {
    account_a: &'a str,
    account_b: &'a str,
    weight: u64,
    objects: &'a [String],
    avg_time_delta: f64,
    n_content_id: u64,
    n_content_id_y: u64,
    edge_symmetry_score: f64,
    weight_threshold: u8,
    content_ids: &'a [String],
}

pub fn run(args: &CoordinationArgs) -> anyhow::Result<Exit> {
    let bytes =
        std::fs::read(&args.file).map_err(|e| UsageError(format!("cannot read {}: {e}", args.file.display())))?;
    let name = args.file.display();
    let jsonl = args
        .file
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ["jsonl", "ndjson", "json"].contains(&e.to_ascii_lowercase().as_str()));
    let shares = if jsonl { coordination::read_shares_jsonl(&bytes) } else { coordination::read_shares_csv(&bytes) }
        .map_err(|e| UsageError(format!("{name}: {e}")))?;
    let params = CoordinationParams {
        time_window_secs: args.window,
        min_participation: args.min_participation,
        edge_weight_quantile: args.edge_weight,
    };
    params.validate().map_err(|e| UsageError(e.to_string()))?;
    let network = coordination::detect(&shares, &params);
    let mut out = crate::output::stdout();
    let edges: Vec<_> = network.edges.iter().filter(|e| !args.filtered || e.above_threshold).collect();
    if args.json {
        for edge in edges {
            write_json_line(
                &mut out,
                &EdgeJson {
                    account_a: &edge.account_a,
                    account_b: &edge.account_b,
                    weight: edge.weight,
                    objects: &edge.objects,
                    avg_time_delta: edge.avg_time_delta,
                    n_content_id: edge.n_content_id,
                    n_content_id_y: edge.n_content_id_y,
                    edge_symmetry_score: edge.symmetry,
                    weight_threshold: u8::from(edge.above_threshold),
                    content_ids: &edge.content_ids,
                },
            )?;
        }
        return Ok(Exit::Success);
    }
    let summary = network.summary();
    writeln!(
        out,
        "{} shares: {} coordinated edges between {} accounts; {} above the weight threshold {} (p{:.0})",
        shares.len(),
        summary.edges,
        summary.vertices,
        summary.edges_above_threshold,
        summary.threshold,
        args.edge_weight * 100.0
    )?;
    let mut table = crate::output::new_table(&["ACCOUNT A", "ACCOUNT B", "WEIGHT", "AVG Δt (s)", "OBJECTS"]);
    for edge in edges.iter().take(200) {
        table.add_row(vec![
            edge.account_a.clone(),
            edge.account_b.clone(),
            edge.weight.to_string(),
            format!("{:.1}", edge.avg_time_delta),
            infodemic_core::text::ellipsize(&edge.objects.join(", "), 60),
        ]);
    }
    if !edges.is_empty() {
        writeln!(out, "{table}")?;
    }
    if edges.len() > 200 {
        writeln!(out, "… and {} more edges (--json lists them all)", edges.len() - 200)?;
    }
    Ok(Exit::Success)
}

/// The coordination network of stored campaigns' members (objects: near-identical texts and
/// hashtags; accounts: the author, else the source).
pub fn network_of(campaigns: &[Vec<CampaignMember>], window: i64) -> CoordinationNetwork {
    let shares = infodemic_campaigns::shares::member_shares(campaigns.iter().flatten());
    let params = CoordinationParams { time_window_secs: window, min_participation: 2, edge_weight_quantile: 0.5 };
    coordination::detect(&shares, &params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_parse_with_units() {
        assert_eq!(window_arg("10s"), Ok(10));
        assert_eq!(window_arg("10"), Ok(10));
        assert_eq!(window_arg("2h"), Ok(7200));
        assert!(window_arg("soon").is_err());
        assert!(window_arg("99999999999999999d").is_err());
        assert_eq!(describe_window(3600), "1 h");
    }
}
