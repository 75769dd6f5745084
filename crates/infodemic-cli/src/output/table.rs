//! Human-readable tables.

use comfy_table::{ContentArrangement, LineStyle, Table, TableStyle};
use infodemic_core::{text::ellipsize, ScoredItem};

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
    let mut table = new_table(&["ID", "PUBLISHED", "SCORE", "FLAG", "SOURCE", "TITLE"]);
    for scored in items {
        let item = &scored.item;
        let published = item.published.map_or_else(|| "-".to_owned(), |t| t.format("%Y-%m-%d %H:%M").to_string());
        table.add_row(vec![
            item.id.to_string(),
            published,
            format!("{:.3}", scored.classification.score),
            if scored.classification.flagged { "FLAG".to_owned() } else { String::new() },
            ellipsize(item.source.as_str(), 32),
            ellipsize(&item.title, 90),
        ]);
    }
    table
}
