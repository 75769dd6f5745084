//! Human-readable tables.

use comfy_table::{ContentArrangement, LineStyle, Table, TableStyle};
use infodemic_core::{text::ellipsize, Classification, ScoredItem};

/// Header rule only: dense enough to scan hundreds of rows.
const HOUSE_STYLE: TableStyle = TableStyle::new().header_separator(LineStyle::none().fill('─').junction(' '));

/// A table in the house style, fitted to the terminal.
pub fn new_table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table.load_style(HOUSE_STYLE).set_content_arrangement(ContentArrangement::Dynamic).set_header(header);
    table
}

/// The `query` table.
pub fn items_table(items: &[ScoredItem]) -> Table {
    let mut table = new_table(&["ID", "PUBLISHED", "SCORE", "LEVEL", "SOURCE", "TITLE"]);
    for scored in items {
        let item = &scored.item;
        let published = item.published.map_or_else(|| "-".to_owned(), |t| t.format("%Y-%m-%d %H:%M").to_string());
        table.add_row(vec![
            item.id.to_string(),
            published,
            score_cell(&scored.classification),
            level_cell(&scored.classification).to_owned(),
            ellipsize(item.source.as_str(), 32),
            ellipsize(&item.title, 90),
        ]);
    }
    table
}

/// The score, or why there is none.
pub fn score_cell(class: &Classification) -> String {
    match class.shown_score() {
        Some(score) => format!("{score:.3}"),
        None => format!("n/a ({})", class.language.as_deref().unwrap_or("?")),
    }
}

/// `FLAG` (likely misinformation), `review` (worth a look) or nothing.
pub fn level_cell(class: &Classification) -> &'static str {
    if class.flagged {
        "FLAG"
    } else if class.review {
        "review"
    } else {
        ""
    }
}
