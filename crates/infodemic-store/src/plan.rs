//! How a query runs: which index it walks, what it checks on index entries ([`Summary`]),
//! and when it decodes an item. Every plan decodes only the items it may return, so cost
//! follows the answer's size, not the store's:
//! - newest first: `idx_time` downwards, or one `idx_source` range per source merged newest
//!   first (each source read only as far as the merge needs);
//! - highest score: `idx_score` downwards; with a time range or sources, the entries of that
//!   range sorted by the score they carry, unless the range is large, when the score index
//!   finds the answer sooner;
//! - text: the full-text index ([`crate::search`]) gives candidates in time order, or all
//!   of them for score order; the item's own text is then checked as before.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use infodemic_core::{ItemId, ItemQuery, ReviewFilter, ScoredItem, SortOrder};

use crate::search::{score_sort_key, time_sort_key, SearchFilter, SortKey, TextQuery};
use crate::summary::Summary;
use crate::{keys, Result, SledStore, StoreError};

/// A time range with at most this many entries is sorted by score from its own entries; a
/// larger one holds enough top-scored items that the score index, whose entries carry their
/// time, finds them sooner (about the square root of 50 results times a million items).
/// Small in tests, so that they take both ways.
const TIME_RANGE_CAP: usize = if cfg!(test) { 100 } else { 10_000 };
/// The same for sources (the score index's entries carry a hash of their source).
const SOURCE_RANGE_CAP: usize = TIME_RANGE_CAP;
/// Largest page of text matches asked of the full-text index at once.
const TEXT_PAGE_MAX: usize = 10_000;

/// An index entry on its way to the answer: the item and, when the entry has one, its summary.
type Candidate = (ItemId, Option<Summary>);

/// Collects the answer: skips what the summary or the review log rules out, decodes the rest.
struct Answer<'q> {
    query: &'q ItemQuery,
    limit: usize,
    reviewed: Option<(sled::Tree, bool)>,
    items: Vec<ScoredItem>,
}

impl<'q> Answer<'q> {
    fn new(store: &SledStore, query: &'q ItemQuery) -> Result<Self> {
        let reviewed = match query.review_state {
            ReviewFilter::Any => None,
            wanted => Some((store.tree("reviewed")?, wanted == ReviewFilter::Reviewed)),
        };
        Ok(Self { query, limit: query.limit.unwrap_or(usize::MAX), reviewed, items: Vec::new() })
    }

    fn full(&self) -> bool {
        self.items.len() >= self.limit
    }

    /// Considers one candidate; returns whether the answer is complete.
    fn offer(&mut self, store: &SledStore, (id, summary): Candidate) -> Result<bool> {
        if self.full() {
            return Ok(true);
        }
        if summary.is_some_and(|summary| !summary.admits(self.query)) {
            return Ok(false);
        }
        if let Some((tree, want_reviewed)) = &self.reviewed {
            if SledStore::is_reviewed(tree, id)? != *want_reviewed {
                return Ok(false);
            }
        }
        if let Some(scored) = store.load(id)? {
            if self.query.matches(&scored) {
                self.items.push(scored);
            }
        }
        Ok(self.full())
    }

    fn offer_all(
        mut self,
        store: &SledStore,
        candidates: impl Iterator<Item = Result<Candidate>>,
    ) -> Result<Vec<ScoredItem>> {
        for candidate in candidates {
            if self.offer(store, candidate?)? {
                break;
            }
        }
        Ok(self.items)
    }
}

fn entry(entry: sled::Result<(sled::IVec, sled::IVec)>) -> Result<Candidate> {
    let (key, value) = entry?;
    let id = keys::id_suffix(&key).ok_or_else(short_key)?;
    Ok((id, Summary::decode(&value)))
}

fn short_key() -> StoreError {
    StoreError::Corrupt { tree: "indexes", message: "short index key".to_owned() }
}

/// The score order of `idx_score` (score, then id), for entries sorted outside it.
fn score_order(id: ItemId, summary: Option<&Summary>) -> ([u8; 4], ItemId) {
    (keys::score_key(summary.and_then(|s| s.score).unwrap_or(0.0)), id)
}

impl SledStore {
    /// Runs `query` (see the module docs for the plans).
    pub(crate) fn run_query(&self, query: &ItemQuery) -> Result<Vec<ScoredItem>> {
        if query.limit == Some(0) {
            return Ok(Vec::new());
        }
        if let Some(text) = query.text.as_deref() {
            if let Some(words) = self.search_index()?.prepare(text)? {
                return self.text_query(query, &words);
            }
        }
        let answer = Answer::new(self, query)?;
        match query.order {
            SortOrder::Newest if query.sources.is_empty() => {
                let (start, end) = Self::time_range(query);
                answer.offer_all(self, self.tree("idx_time")?.range(start..end).rev().map(entry))
            }
            SortOrder::Newest => answer.offer_all(self, self.newest_of_sources(query)?),
            SortOrder::Score => self.highest(query, answer),
        }
    }

    /// The candidate with its summary: an entry without one (an older store's) gets its
    /// item's, to be sorted by score. `None` when the item is gone.
    fn summarised(&self, candidate: Candidate) -> Result<Option<Candidate>> {
        if candidate.1.is_some() {
            return Ok(Some(candidate));
        }
        Ok(self.load(candidate.0)?.map(|scored| (candidate.0, Some(Summary::of(&scored)))))
    }

    /// `idx_source` ranges of the query's sources, merged newest first; a source is read only
    /// as far as the merge takes from it.
    fn newest_of_sources(&self, query: &ItemQuery) -> Result<impl Iterator<Item = Result<Candidate>>> {
        let (start, end) = Self::time_range(query);
        let by_source = self.tree("idx_source")?;
        let mut sources: Vec<&str> = query.sources.iter().map(|s| s.as_str()).collect();
        sources.sort_unstable();
        sources.dedup();
        let ranges: Vec<_> = sources
            .iter()
            .map(|source| {
                let prefix = keys::source_prefix(source);
                let range = [prefix.as_slice(), &start].concat()..[prefix.as_slice(), &end].concat();
                (prefix.len(), by_source.range(range).rev())
            })
            .collect();
        Ok(SourceMerge::new(ranges))
    }

    fn highest(&self, query: &ItemQuery, answer: Answer<'_>) -> Result<Vec<ScoredItem>> {
        let narrowed = query.since.is_some() || query.until.is_some() || !query.sources.is_empty();
        if narrowed {
            let entries: Box<dyn Iterator<Item = Result<Candidate>>> = if query.sources.is_empty() {
                let (start, end) = Self::time_range(&ItemQuery { after: None, ..query.clone() });
                Box::new(self.tree("idx_time")?.range(start..end).map(entry))
            } else {
                Box::new(self.newest_of_sources(&ItemQuery { after: None, ..query.clone() })?)
            };
            let cap = if query.sources.is_empty() { TIME_RANGE_CAP } else { SOURCE_RANGE_CAP };
            let mut in_range = Vec::new();
            let mut complete = true;
            for (walked, candidate) in entries.enumerate() {
                if walked == cap {
                    complete = false;
                    break;
                }
                match self.summarised(candidate?)? {
                    Some(candidate) if candidate.1.is_some_and(|s| s.admits(query)) => in_range.push(candidate),
                    _ => {}
                }
            }
            if complete {
                in_range.sort_unstable_by_key(|(id, summary)| Reverse(score_order(*id, summary.as_ref())));
                return answer.offer_all(self, in_range.into_iter().map(Ok));
            }
        }
        let min_key = keys::score_key(query.min_score.unwrap_or(0.0));
        let entries = self
            .tree("idx_score")?
            .iter()
            .rev()
            .take_while(move |e| {
                e.as_ref().map_or(true, |(key, _)| key.get(..4).is_none_or(|k| k >= min_key.as_slice()))
            })
            .map(entry);
        answer.offer_all(self, entries)
    }

    /// A text query through the full-text index, which applies every filter but the review
    /// state and gives matches in the query's order, a page at a time. A page can end inside
    /// a group of equal sort keys (items published the same second, or scored the same), so
    /// its last key is left for the next page, which starts there: no group is cut in two.
    fn text_query(&self, query: &ItemQuery, words: &TextQuery) -> Result<Vec<ScoredItem>> {
        let search = self.search_index()?;
        let sources: Vec<&str> = query.sources.iter().map(|s| s.as_str()).collect();
        let mut filter = SearchFilter {
            flagged: query.flagged_only,
            review: query.review_only,
            scored: query.min_score.is_some(),
            sources: &sources,
            ..SearchFilter::default()
        };
        filter.time.0 = query.since.map(time_sort_key);
        filter.time.1 = query.until.map(|until| time_sort_key(until).saturating_sub(1));
        filter.score.0 = query.min_score.map(score_sort_key);
        let (key, after) = match query.order {
            SortOrder::Newest => (SortKey::Time, query.after.map(|cursor| (time_sort_key(cursor.time), cursor.id))),
            SortOrder::Score => (SortKey::Score, None),
        };
        if let Some((cursor, _)) = after {
            filter.time.1 = Some(filter.time.1.map_or(cursor, |until| until.min(cursor)));
        }
        let mut answer = Answer::new(self, query)?;
        let mut page = query.limit.unwrap_or(TEXT_PAGE_MAX).saturating_mul(2).clamp(64, TEXT_PAGE_MAX);
        loop {
            let mut hits = search.top(words, &filter, key, page)?;
            let mut next_upper = None;
            if hits.len() == page {
                let lowest = hits.iter().map(|(sort, _)| *sort).min().unwrap_or(0);
                if hits.iter().all(|(sort, _)| *sort == lowest) {
                    let mut group = filter.clone();
                    *group.bounds_mut(key) = (Some(lowest), Some(lowest));
                    hits = search.all(words, &group, key)?;
                    next_upper = lowest.checked_sub(1);
                } else {
                    hits.retain(|(sort, _)| *sort > lowest);
                    next_upper = Some(lowest);
                }
            }
            // The order of the sled indexes: key, then id, both downwards.
            hits.sort_unstable_by(|a, b| b.cmp(a));
            for hit in hits {
                if after.is_some_and(|after| hit >= after) {
                    continue;
                }
                // The index has applied the filters the summary knows; the item is checked
                // again all the same (its own text, the review log).
                if answer.offer(self, (hit.1, None))? {
                    return Ok(answer.items);
                }
            }
            let bounds = filter.bounds_mut(key);
            match next_upper {
                Some(next) if bounds.0.is_none_or(|low| next >= low) => {
                    bounds.1 = Some(next);
                    page = page.saturating_mul(2).min(TEXT_PAGE_MAX);
                }
                _ => return Ok(answer.items),
            }
        }
    }
}

/// A k-way merge of per-source index ranges (each newest first) into one newest-first stream.
struct SourceMerge<I> {
    ranges: Vec<(usize, I)>,
    /// The next entry of each range, by its time-and-id suffix (the entry in `next`).
    heads: BinaryHeap<(Vec<u8>, usize)>,
    next: Vec<Option<Candidate>>,
    started: bool,
    failed: Option<StoreError>,
}

impl<I: Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>> SourceMerge<I> {
    fn new(ranges: Vec<(usize, I)>) -> Self {
        let next = vec![None; ranges.len()];
        Self { ranges, heads: BinaryHeap::new(), next, started: false, failed: None }
    }

    fn pull(&mut self, range: usize) {
        let Some((prefix_len, entries)) = self.ranges.get_mut(range) else { return };
        match entries.next() {
            None => {}
            Some(Err(error)) => self.failed = Some(error.into()),
            Some(Ok((key, value))) => match (key.get(*prefix_len..), keys::id_suffix(&key)) {
                (Some(suffix), Some(id)) => {
                    self.heads.push((suffix.to_vec(), range));
                    if let Some(slot) = self.next.get_mut(range) {
                        *slot = Some((id, Summary::decode(&value)));
                    }
                }
                _ => self.failed = Some(short_key()),
            },
        }
    }
}

impl<I: Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>> Iterator for SourceMerge<I> {
    type Item = Result<Candidate>;

    fn next(&mut self) -> Option<Self::Item> {
        if !self.started {
            self.started = true;
            for range in 0..self.ranges.len() {
                self.pull(range);
            }
        }
        if let Some(error) = self.failed.take() {
            return Some(Err(error));
        }
        let (_, range) = self.heads.pop()?;
        let candidate = self.next.get_mut(range).and_then(Option::take);
        self.pull(range);
        candidate.map(Ok)
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::test_support::{all_pages, corpus, expected, queries, scored};
    use crate::ItemReader;

    #[test]
    fn every_plan_gives_what_filtering_every_item_gives() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = SledStore::open(&dir.path().join("store")).unwrap();
        let items = corpus();
        for chunk in items.chunks(50) {
            store.commit(chunk, &[], &[]).unwrap();
        }
        for query in queries() {
            let got: Vec<ItemId> = store.query(&query).unwrap().iter().map(|s| s.item.id).collect();
            assert_eq!(got, expected(&items, &query), "{query:?}");
        }
        // Newest-first pages of a text query cover every match once, in order, though many
        // items share a time.
        let text = ItemQuery { text: Some("vacc".to_owned()), limit: Some(7), ..ItemQuery::default() };
        assert_eq!(all_pages(&store, &text), expected(&items, &ItemQuery { limit: None, ..text }));
        assert_eq!(store.verify().unwrap(), items.len());
    }

    #[test]
    fn ties_longer_than_a_search_page_are_kept_whole() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = SledStore::open(&dir.path().join("store")).unwrap();
        // 300 items at one instant, more than the first page of 64.
        let items: Vec<ScoredItem> = (0..300)
            .map(|i| {
                let mut item = scored(&format!("https://e.org/{i}"), "s", 1, 0.3);
                item.item.text = format!("measles clinic {i}");
                item.item.content_hash = infodemic_core::ContentHash::of(&item.item.title, &item.item.text);
                item
            })
            .collect();
        store.commit(&items, &[], &[]).unwrap();
        let query = ItemQuery { text: Some("measles".to_owned()), limit: Some(20), ..ItemQuery::default() };
        let got: Vec<ItemId> = store.query(&query).unwrap().iter().map(|s| s.item.id).collect();
        assert_eq!(got, expected(&items, &query));
        let all = ItemQuery { limit: None, ..query.clone() };
        assert_eq!(store.query(&all).unwrap().len(), 300);
        // Equal scores too: the same for score order.
        for limit in [Some(20), Some(100), None] {
            let by_score = ItemQuery { order: SortOrder::Score, limit, ..query.clone() };
            let got: Vec<ItemId> = store.query(&by_score).unwrap().iter().map(|s| s.item.id).collect();
            assert_eq!(got, expected(&items, &by_score));
        }
    }

    #[test]
    fn entries_without_summaries_still_answer_and_get_them_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        let items = corpus();
        {
            let (store, _) = SledStore::open(&path).unwrap();
            store.commit(&items, &[], &[]).unwrap();
            // What a build before summaries left: empty values.
            for name in ["idx_time", "idx_score", "idx_source"] {
                let tree = store.tree(name).unwrap();
                for entry in tree.iter() {
                    let (key, _) = entry.unwrap();
                    tree.insert(key, &[]).unwrap();
                }
            }
            for query in queries() {
                let got: Vec<ItemId> = store.query(&query).unwrap().iter().map(|s| s.item.id).collect();
                assert_eq!(got, expected(&items, &query), "without summaries: {query:?}");
            }
            store.meta.remove(b"summaries_version").unwrap();
        }
        let store = crate::test_support::reopen(&path);
        assert_eq!(store.verify().unwrap(), items.len(), "summaries written at open");
    }

    #[test]
    fn items_a_crash_kept_from_the_text_index_are_indexed_once_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        let items = corpus();
        let find = |store: &SledStore| {
            let query = ItemQuery { text: Some("measles".to_owned()), ..ItemQuery::default() };
            store.query(&query).unwrap().iter().map(|s| s.item.id).collect::<Vec<_>>()
        };
        let want = expected(&items, &ItemQuery { text: Some("measles".to_owned()), ..ItemQuery::default() });
        {
            let (store, _) = SledStore::open(&path).unwrap();
            store.commit(&items[..300], &[], &[]).unwrap();
            store.commit(&items[300..], &[], &[]).unwrap();
            // A crash after the sled commit of the second batch, before tantivy's: its items
            // are in the outbox and not in the index. And one of the first batch was indexed
            // but not yet taken out of the outbox.
            store.search.clear().unwrap();
            store.search.add(&items[..300], false).unwrap();
            store.search.commit(false).unwrap();
            for scored in &items[299..] {
                store.search_pending.insert(scored.item.id.as_bytes(), &[]).unwrap();
            }
        }
        let store = crate::test_support::reopen(&path);
        assert_eq!(find(&store), want);
        assert_eq!(store.verify().unwrap(), items.len(), "each item indexed once");

        // A store from before the index is indexed whole at open.
        store.search.clear().unwrap();
        store.meta.remove(b"search_version").unwrap();
        drop(store);
        let store = crate::test_support::reopen(&path);
        assert_eq!(find(&store), want);
        assert_eq!(store.verify().unwrap(), items.len());
    }

    #[test]
    fn reclassified_items_are_found_by_their_new_scores() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = SledStore::open(&dir.path().join("store")).unwrap();
        let mut items = corpus();
        store.commit(&items, &[], &[]).unwrap();
        let updates: Vec<(ItemId, infodemic_core::Classification)> = items
            .iter_mut()
            .step_by(3)
            .map(|s| {
                s.classification.score = 1.0 - s.classification.score;
                s.classification.flagged = s.classification.score >= 0.8;
                s.classification.review = s.classification.score >= 0.5;
                (s.item.id, s.classification.clone())
            })
            .collect();
        store.reclassify(&updates).unwrap();
        for query in queries() {
            let got: Vec<ItemId> = store.query(&query).unwrap().iter().map(|s| s.item.id).collect();
            assert_eq!(got, expected(&items, &query), "{query:?}");
        }
        assert_eq!(store.verify().unwrap(), items.len());
    }
}
