//! The dataset card written beside the files: what is in them, how they were made, and how to
//! check them (sha256 of every file).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::row::ExportRow;
use crate::writer::FileSummary;

/// Counts gathered while rows are written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardCounts {
    /// Rows in all files.
    pub rows: u64,
    /// `flagged`, `review` (worth a review, not flagged), `not-flagged`.
    pub per_label: BTreeMap<String, u64>,
    /// Current verdicts (`unreviewed` for none).
    pub per_verdict: BTreeMap<String, u64>,
    /// Rows per split (`all` without a split).
    pub per_split: BTreeMap<String, u64>,
    /// Rows per source.
    pub per_source: BTreeMap<String, u64>,
    /// Rows per language (`unknown` for none).
    pub per_language: BTreeMap<String, u64>,
    /// Rows per `model_id model_version`.
    pub per_model: BTreeMap<String, u64>,
    /// Earliest publication (else fetch) time.
    pub first: Option<String>,
    /// Latest.
    pub last: Option<String>,
}

impl CardCounts {
    /// Counts one row.
    pub fn add(&mut self, row: &ExportRow) {
        let bump = |map: &mut BTreeMap<String, u64>, key: &str| *map.entry(key.to_owned()).or_default() += 1;
        self.rows += 1;
        let label = if row.flagged {
            "flagged"
        } else if row.review {
            "review"
        } else {
            "not-flagged"
        };
        bump(&mut self.per_label, label);
        bump(&mut self.per_verdict, row.verdict.as_deref().unwrap_or("unreviewed"));
        bump(&mut self.per_split, row.split.as_deref().unwrap_or("all"));
        bump(&mut self.per_source, &row.source);
        bump(&mut self.per_language, row.language.as_deref().unwrap_or("unknown"));
        bump(&mut self.per_model, &format!("{} {}", row.model_id, row.model_version));
        // RFC 3339 UTC with the same precision sorts as time.
        let time = row.published.clone().unwrap_or_else(|| row.fetched.clone());
        if self.first.as_ref().is_none_or(|first| time < *first) {
            self.first = Some(time.clone());
        }
        if self.last.as_ref().is_none_or(|last| time > *last) {
            self.last = Some(time);
        }
    }
}

/// The card, as `card.json` (this struct) and `card.md`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatasetCard {
    /// Always `infodemic-dataset-card/1`.
    pub schema: String,
    /// When the export ran.
    pub created: String,
    /// The infodemic version that wrote it.
    pub tool_version: String,
    /// The command line, as run.
    pub command: Vec<String>,
    /// The filters, as given.
    pub filters: serde_json::Value,
    /// `jsonl`, `csv` or `parquet`.
    pub format: String,
    /// The split, as given, and the held-out sources of a source split.
    pub split: Option<serde_json::Value>,
    /// Whether authors, handles and personal URLs are keyed pseudonyms.
    pub pseudonymized: bool,
    /// The licence note the user gave.
    pub licence: Option<String>,
    /// The columns, in order.
    pub columns: Vec<String>,
    /// Every file, with its rows and sha256.
    pub files: Vec<FileSummary>,
    /// What the rows hold.
    pub counts: CardCounts,
}

fn table(out: &mut String, title: &str, map: &BTreeMap<String, u64>, limit: usize) {
    use std::fmt::Write as _;
    let _ = writeln!(out, "\n### {title}\n\n| | rows |\n|---|---|");
    let mut entries: Vec<(&String, &u64)> = map.iter().collect();
    entries.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (key, count) in entries.iter().take(limit) {
        let _ = writeln!(out, "| {} | {count} |", markdown_cell(key));
    }
    if entries.len() > limit {
        let rest: u64 = entries.iter().skip(limit).map(|(_, c)| **c).sum();
        let _ = writeln!(out, "| ({} more) | {rest} |", entries.len() - limit);
    }
}

/// Text from the store or the user inside a Markdown table cell: no pipes, no line breaks, no
/// HTML.
fn markdown_cell(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .map(|c| match c {
            '|' => '¦',
            '<' => '‹',
            '>' => '›',
            other => other,
        })
        .take(200)
        .collect()
}

impl DatasetCard {
    /// The Markdown card.
    pub fn markdown(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let _ = writeln!(out, "# Dataset card\n");
        let _ = writeln!(out, "Exported by infodemic {} on {}.\n", self.tool_version, self.created);
        let _ = writeln!(out, "- Rows: {}", self.counts.rows);
        let _ = writeln!(
            out,
            "- Time range (published, else fetched): {} to {}",
            self.counts.first.as_deref().unwrap_or("-"),
            self.counts.last.as_deref().unwrap_or("-")
        );
        let _ = writeln!(out, "- Format: {}", self.format);
        let _ = writeln!(
            out,
            "- Pseudonymized: {}",
            if self.pseudonymized {
                "yes (authors, handles, personal URLs; keyed HMAC-SHA256, key kept by the exporter)"
            } else {
                "no"
            }
        );
        let split = self.split.as_ref().map_or_else(|| "none".to_owned(), |s| markdown_cell(&s.to_string()));
        let _ = writeln!(out, "- Split: {split}");
        let _ = writeln!(
            out,
            "- Licence: {}",
            self.licence.as_deref().map_or_else(|| "not given".to_owned(), markdown_cell)
        );
        let _ = writeln!(out, "- Filters: `{}`", markdown_cell(&self.filters.to_string()).replace('`', "'"));
        let command: Vec<String> = self.command.iter().map(|a| markdown_cell(a).replace('`', "'")).collect();
        let _ = writeln!(out, "- Command: `{}`", command.join(" "));
        let _ = writeln!(out, "\n## Files\n\n| file | rows | bytes | sha256 |\n|---|---|---|---|");
        for file in &self.files {
            let _ =
                writeln!(out, "| {} | {} | {} | `{}` |", markdown_cell(&file.name), file.rows, file.bytes, file.sha256);
        }
        let _ = writeln!(out, "\n## Counts");
        table(&mut out, "Label (the model's decision)", &self.counts.per_label, 10);
        table(&mut out, "Verdict (reviewers)", &self.counts.per_verdict, 20);
        table(&mut out, "Split", &self.counts.per_split, 10);
        table(&mut out, "Model", &self.counts.per_model, 10);
        table(&mut out, "Language", &self.counts.per_language, 20);
        table(&mut out, "Source", &self.counts.per_source, 50);
        let _ = writeln!(out, "\n## Columns\n\n{}", self.columns.join(", "));
        let _ = writeln!(
            out,
            "\n## Notes\n\n- `score` is the model's calibrated probability that the text asserts false or misleading \
             health information; `flagged` and `review` are its decisions at the thresholds given.\n\
             - `verdict` is the current verdict of human reviewers, with `verdict_count` reviewers and their \
             `agreement`.\n- Items of one story (a campaign) are on one side of a split; copies of an item are \
             not rows (they are its appearances in the store)."
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_cells_cannot_break_the_table_or_carry_html() {
        assert_eq!(markdown_cell("a|b<script>\n"), "a¦b‹script›");
    }
}
