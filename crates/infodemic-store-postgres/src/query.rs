//! `query` in SQL: every filter but the exact text match is a `WHERE` clause the indexes serve
//! (time and day bounds prune partitions), pages follow the sort key, and the text filter's
//! candidates are checked with [`ItemQuery::matches`] until the limit is reached.

use infodemic_core::{ItemId, ItemQuery, ReviewFilter, ScoredItem, SortOrder};
use infodemic_store::reviews::REVIEWED_TREE;
use postgres::types::ToSql;
use postgres::Client;

use crate::schema::day_of;
use crate::{db, decode_item, item_id, words, Result};

/// Rows asked for at a time when the text filter may drop some, or there is no limit.
const PAGE: usize = 500;

/// Where the previous page ended, in the sort order.
enum Resume {
    Newest(i64, Vec<u8>),
    Score(f32, Vec<u8>),
}

/// A statement's text and its parameters, built together so their numbers agree.
#[derive(Default)]
struct Statement {
    clauses: Vec<String>,
    params: Vec<Box<dyn ToSql + Sync>>,
}

impl Statement {
    fn where_clause(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }

    /// Adds `clause`, in which `$` stands for the next parameter.
    fn filter(&mut self, clause: &str, value: impl ToSql + Sync + 'static) {
        self.params.push(Box::new(value));
        self.clauses.push(clause.replace('$', &format!("${}", self.params.len())));
    }

    /// Adds a clause with two parameters (`$a`, `$b`).
    fn filter2(&mut self, clause: &str, a: impl ToSql + Sync + 'static, b: impl ToSql + Sync + 'static) {
        self.params.push(Box::new(a));
        let first = self.params.len();
        self.params.push(Box::new(b));
        let clause = clause.replace("$a", &format!("${first}")).replace("$b", &format!("${}", first + 1));
        self.clauses.push(clause);
    }
}

/// Runs `query` (see the module docs).
pub(crate) fn run(client: &mut Client, query: &ItemQuery) -> Result<Vec<ScoredItem>> {
    if query.limit == Some(0) {
        return Ok(Vec::new());
    }
    // Without a text filter every row returned matches: pages are as long as what is still
    // wanted. With one, candidates are checked here, a full page at a time.
    let exact = query.text.is_none();
    let wanted = query.limit.unwrap_or(usize::MAX);
    let order = match query.order {
        SortOrder::Newest => "ORDER BY time DESC, id DESC",
        SortOrder::Score => "ORDER BY sort_score DESC, id DESC",
    };
    let mut out = Vec::new();
    let mut resume: Option<Resume> = None;
    loop {
        let mut statement = filters(query);
        match &resume {
            None => {}
            Some(Resume::Newest(time, id)) => statement.filter2("(time, id) < ($a, $b)", *time, id.clone()),
            Some(Resume::Score(score, id)) => statement.filter2("(sort_score, id) < ($a, $b)", *score, id.clone()),
        }
        let page = if exact { wanted.saturating_sub(out.len()).min(PAGE) } else { PAGE };
        let sql =
            format!("SELECT record, time, sort_score, id FROM items{} {order} LIMIT {page}", statement.where_clause());
        let params: Vec<&(dyn ToSql + Sync)> = statement.params.iter().map(|p| p.as_ref()).collect();
        let rows = client.query(sql.as_str(), &params).map_err(db)?;
        for row in &rows {
            let scored = decode_item(row, 0)?;
            if query.matches(&scored) {
                out.push(scored);
                if out.len() >= wanted {
                    return Ok(out);
                }
            }
        }
        let Some(last) = rows.last() else { return Ok(out) };
        if rows.len() < page {
            return Ok(out);
        }
        let id = item_id(last, 3)?.as_bytes().to_vec();
        resume = Some(match query.order {
            SortOrder::Newest => Resume::Newest(last.try_get(1).map_err(db)?, id),
            SortOrder::Score => Resume::Score(last.try_get(2).map_err(db)?, id),
        });
    }
}

/// Ids of the items in the query's time range and sources, newest first: the other filters,
/// the limit and the order are the caller's (see `ScoreStore::item_ids`).
pub(crate) fn ids(client: &mut Client, query: &ItemQuery) -> Result<Vec<ItemId>> {
    let bounds =
        ItemQuery { since: query.since, until: query.until, sources: query.sources.clone(), ..ItemQuery::default() };
    let statement = filters(&bounds);
    let sql = format!("SELECT id FROM items{} ORDER BY time DESC, id DESC", statement.where_clause());
    let params: Vec<&(dyn ToSql + Sync)> = statement.params.iter().map(|p| p.as_ref()).collect();
    client.query(sql.as_str(), &params).map_err(db)?.iter().map(|row| item_id(row, 0)).collect()
}

/// The query's filters as SQL (boxed parameters cannot be cloned, so each page builds them).
fn filters(query: &ItemQuery) -> Statement {
    let mut statement = Statement::default();
    if let Some(since) = query.since {
        statement.filter2("day >= $a AND time >= $b", day_of(since), since.timestamp_micros());
    }
    if let Some(until) = query.until {
        statement.filter2("day <= $a AND time < $b", day_of(until), until.timestamp_micros());
    }
    if !query.sources.is_empty() {
        let sources: Vec<String> = query.sources.iter().map(|s| s.as_str().to_owned()).collect();
        statement.filter("source = ANY($)", sources);
    }
    if query.flagged_only {
        statement.clauses.push("flagged".to_owned());
    }
    if query.review_only {
        statement.clauses.push("review".to_owned());
    }
    // Reviewed: a head stands in the `reviewed` tree (`infodemic_store::reviews`).
    match query.review_state {
        ReviewFilter::Any => {}
        ReviewFilter::Unreviewed => statement
            .filter("NOT EXISTS (SELECT 1 FROM tree_records r WHERE r.tree = $ AND r.key = items.id)", REVIEWED_TREE),
        ReviewFilter::Reviewed => statement
            .filter("EXISTS (SELECT 1 FROM tree_records r WHERE r.tree = $ AND r.key = items.id)", REVIEWED_TREE),
    }
    if let Some(min) = query.min_score {
        statement.filter("shown_score >= $", min);
    }
    if let Some(words) = query.text.as_deref().and_then(words::prefix_query) {
        statement.filter("words @@ $::text::tsquery", words);
    }
    if query.order == SortOrder::Newest {
        if let Some(after) = query.after {
            statement.filter2("(time, id) < ($a, $b)", after.time.timestamp_micros(), after.id.as_bytes().to_vec());
        }
    }
    statement
}
