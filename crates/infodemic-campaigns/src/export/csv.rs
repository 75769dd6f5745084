//! Campaigns as CSV, one row per campaign, for spreadsheets. Cells that hold feed text are
//! defused: a spreadsheet would run a cell starting with `=` as a formula.

use std::io::Write;

use chrono::{DateTime, SecondsFormat, Utc};
use infodemic_core::Campaign;

use super::{one_line, status_text, top_counts, Result};

/// The header row. `alerts` counts the surge alerts in the campaign's history.
pub const CSV_HEADER: [&str; 18] = [
    "id",
    "status",
    "size",
    "first_seen",
    "last_seen",
    "sources",
    "top_sources",
    "accounts",
    "languages",
    "representative_id",
    "representative_url",
    "representative_text",
    "mean_score",
    "max_score",
    "top_terms",
    "fact_checks",
    "techniques",
    "alerts",
];

/// Entries in the `top_sources` and `top_terms` cells.
const TOP: usize = 5;
/// Separator between entries of one cell.
const SEPARATOR: &str = "; ";

/// Writes the header and one row per campaign to `out`.
pub fn write_campaigns_csv<W: Write>(out: W, campaigns: &[Campaign]) -> Result<()> {
    let mut writer = ::csv::Writer::from_writer(out);
    writer.write_record(CSV_HEADER)?;
    for campaign in campaigns {
        writer.write_record(row(campaign))?;
    }
    writer.flush()?;
    Ok(())
}

/// [`write_campaigns_csv`] into a string.
pub fn campaigns_csv(campaigns: &[Campaign]) -> Result<String> {
    let mut out = Vec::new();
    write_campaigns_csv(&mut out, campaigns)?;
    // The writer only wrote UTF-8 strings.
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// A cell of feed text: on one line, without control characters, and with a leading `'` when
/// it starts like a formula (`infodemic_core::text::starts_like_formula`, the rule every CSV
/// writer of the project follows: `=`, `+`, `-`, `@`, tab or carriage return first). It is
/// checked on the text as given and as cleaned, since removing a control character can bring
/// a `=` to the front.
fn feed_cell(text: &str) -> String {
    let clean = one_line(text);
    use infodemic_core::text::starts_like_formula;
    if starts_like_formula(text) || starts_like_formula(&clean) {
        format!("'{clean}")
    } else {
        clean
    }
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn score(value: Option<f64>) -> String {
    value.map(|value| format!("{value:.3}")).unwrap_or_default()
}

/// `name (count)` entries; each name is cleaned here and the whole cell is defused after.
fn counted(entries: &[(&str, u32)]) -> String {
    entries.iter().map(|(name, count)| format!("{} ({count})", one_line(name))).collect::<Vec<_>>().join(SEPARATOR)
}

fn row(campaign: &Campaign) -> Vec<String> {
    let scores = &campaign.scores;
    let languages: Vec<(&str, u32)> = top_counts(&campaign.languages, usize::MAX);
    let fact_checks = campaign
        .fact_checks
        .iter()
        .map(|(claim, check)| format!("{}: {}", one_line(claim), one_line(check)))
        .collect::<Vec<_>>()
        .join(SEPARATOR);
    let techniques = campaign
        .techniques
        .iter()
        .map(|technique| format!("{} {}", one_line(&technique.id), one_line(&technique.name)))
        .collect::<Vec<_>>()
        .join(SEPARATOR);
    let alerts =
        campaign.history.iter().filter(|event| matches!(event, infodemic_core::CampaignEvent::Alert { .. })).count();
    let representative = &campaign.representative;
    vec![
        campaign.id.to_string(),
        status_text(campaign),
        campaign.size.to_string(),
        time(campaign.first_seen),
        time(campaign.last_seen),
        campaign.sources.len().to_string(),
        feed_cell(&counted(&top_counts(&campaign.sources, TOP))),
        campaign.accounts.len().to_string(),
        feed_cell(&counted(&languages)),
        feed_cell(&representative.id),
        feed_cell(&representative.url),
        feed_cell(&representative.text),
        if scores.count > 0 { score(scores.mean()) } else { String::new() },
        if scores.count > 0 { score(Some(f64::from(scores.max))) } else { String::new() },
        feed_cell(&campaign.top_terms(TOP).join(SEPARATOR)),
        feed_cell(&fact_checks),
        feed_cell(&techniques),
        alerts.to_string(),
    ]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::export::fixtures::campaign;

    fn read(text: &str) -> Vec<::csv::StringRecord> {
        ::csv::Reader::from_reader(text.as_bytes()).records().map(Result::unwrap).collect()
    }

    fn cell<'a>(record: &'a ::csv::StringRecord, column: &str) -> &'a str {
        let index = CSV_HEADER.iter().position(|name| *name == column).unwrap();
        record.get(index).unwrap()
    }

    #[test]
    fn one_row_per_campaign_with_every_column() {
        let mut merged = campaign(7, 10);
        merged.status = infodemic_core::CampaignStatus::Merged { into: infodemic_core::CampaignId(12) };
        merged.scores = infodemic_core::ScoreStats::default();
        let text = campaigns_csv(&[campaign(12, 30), merged]).unwrap();
        assert!(text.starts_with("id,status,size,first_seen,"));
        let rows = read(&text);
        assert_eq!(rows.len(), 2);
        let row = &rows[0];
        assert_eq!(row.len(), CSV_HEADER.len());
        assert_eq!(cell(row, "id"), "c12");
        assert_eq!(cell(row, "status"), "active");
        assert_eq!(cell(row, "first_seen"), "2026-03-02T00:00:00Z");
        assert_eq!(cell(row, "last_seen"), "2026-03-03T06:00:00Z");
        assert_eq!(cell(row, "sources"), "3");
        assert_eq!(cell(row, "top_sources"), "blog.example (5); news.example (5); -cmd|' /C calc'!A0 (3)");
        assert_eq!(cell(row, "accounts"), "2");
        assert_eq!(cell(row, "languages"), "en (9); de (4)");
        assert_eq!(cell(row, "mean_score"), "0.895");
        assert_eq!(cell(row, "max_score"), "0.970");
        assert_eq!(cell(row, "top_terms"), "magnets; vaccines; @shed");
        assert_eq!(cell(row, "fact_checks"), "claim-7: https://factcheck.example/7");
        assert_eq!(cell(row, "techniques"), "T0084.001 Use Copypasta; T0049 Flood Information Space");
        assert_eq!(cell(&rows[1], "status"), "merged into c12");
        assert_eq!(cell(&rows[1], "mean_score"), "");
    }

    #[test]
    fn feed_text_cannot_run_as_a_formula() {
        let text = campaigns_csv(&[campaign(12, 3)]).unwrap();
        let row = &read(&text)[0];
        assert_eq!(
            cell(row, "representative_text"),
            "'=HYPERLINK(\"http://evil\") <script>alert(1)</script> Vaccines & [2Jmagnets shed spike"
        );
        assert!(!text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\u{202e}'));
        for (raw, expected) in [
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'=1"),
            ("\r=1", "'=1"),
            ("\u{1b}=cmd", "'=cmd"),
            ("Vaccines work", "Vaccines work"),
            ("a\nb", "a b"),
        ] {
            assert_eq!(feed_cell(raw), expected, "{raw:?}");
        }
    }

    #[test]
    fn writes_into_any_writer() {
        let mut out = Vec::new();
        write_campaigns_csv(&mut out, &[]).unwrap();
        assert_eq!(String::from_utf8(out).unwrap().lines().count(), 1);
    }
}
