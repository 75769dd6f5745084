//! Full-text search over stored items: a tantivy index beside the sled database (directory
//! `<store>.search`), kept in step with it at commit.
//!
//! sled and tantivy share no transaction, so the store keeps an outbox: the transaction that
//! stores items also records their ids in `search_pending`; once tantivy has committed them
//! they leave it. Whatever a crash leaves there is indexed again at the next open or commit
//! (delete by id, then add: indexing an item twice leaves one document). A store from a build
//! without the index is indexed whole at open.
//!
//! The index holds an item's id, and what queries filter and sort on (time, score, flags,
//! source: fast fields, the same order-preserving keys as the sled indexes), and its title
//! and text, tokenized and lowercased with positions (for phrases); no text is stored twice.
//! A reclassified item goes through the outbox too, to carry its new score.

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use infodemic_core::{ItemId, ScoredItem};
use tantivy::collector::{DocSetCollector, TopDocs};
use tantivy::query::{BooleanQuery, Occur, PhrasePrefixQuery, Query, RangeQuery, RegexQuery, TermQuery, TermSetQuery};
use tantivy::schema::{Field, IndexRecordOption, NumericOptions, Schema, STRING, TEXT};
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term};

use crate::{Result, StoreError};

/// A commit of the full-text index is due when this many items wait for it...
const COMMIT_EVERY_DOCS: usize = 10_000;
/// ... or when the oldest has waited this long (a text query commits first in any case).
const COMMIT_EVERY: std::time::Duration = std::time::Duration::from_secs(5);
/// How many words the last word of a phrase may be the start of.
const PREFIX_EXPANSIONS: u32 = 1_000;
/// The writer's indexing memory: tantivy's smallest per-thread arena, and one thread, so a
/// long `watch` stays small.
const WRITER_BYTES: usize = 15_000_000;

/// The index of one store.
pub(crate) struct SearchIndex {
    dir: PathBuf,
    index: Index,
    reader: IndexReader,
    /// Opened at the first write: read-only commands never pay for it.
    writer: Mutex<Option<Writer>>,
    /// The store's outbox (`search_pending`): a commit takes out what it made searchable.
    outbox: sled::Tree,
    fields: Fields,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex").field("dir", &self.dir).finish_non_exhaustive()
    }
}

/// The writer and what it holds that no reader sees yet.
struct Writer {
    writer: IndexWriter,
    /// Added since the last commit; they leave the outbox when committed.
    uncommitted: Vec<ItemId>,
    last_commit: Instant,
}

impl Drop for SearchIndex {
    fn drop(&mut self) {
        // What was added is committed on the way out. A crash before this point loses
        // nothing either: the outbox still names it, and the next open indexes it again.
        if let Err(error) = self.commit(false) {
            tracing::warn!(message = "Full-text index not committed at close; indexed at the next open.", %error);
        }
    }
}

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    time: Field,
    score: Field,
    flagged: Field,
    review: Field,
    scored: Field,
    source: Field,
    body: Field,
}

/// The order of a search: by time or by score, each a fast field of order-preserving keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SortKey {
    /// [`crate::keys::time_key`] of the effective time.
    Time,
    /// [`crate::keys::score_key`] of the shown score (0 when none).
    Score,
}

impl SortKey {
    fn name(self) -> &'static str {
        match self {
            Self::Time => "time",
            Self::Score => "score",
        }
    }
}

/// The sort keys of an item.
pub(crate) fn time_sort_key(time: chrono::DateTime<chrono::Utc>) -> u64 {
    u64::from_be_bytes(crate::keys::time_key(time))
}

pub(crate) fn score_sort_key(score: f32) -> u64 {
    u64::from(u32::from_be_bytes(crate::keys::score_key(score)))
}

/// Words to look for, parsed once per query.
pub(crate) struct TextQuery {
    words: Box<dyn Query>,
}

/// What narrows a text search besides its words. Bounds are inclusive sort keys.
#[derive(Clone, Debug, Default)]
pub(crate) struct SearchFilter<'a> {
    pub(crate) time: (Option<u64>, Option<u64>),
    pub(crate) score: (Option<u64>, Option<u64>),
    pub(crate) flagged: bool,
    pub(crate) review: bool,
    /// Only items with a score (a language the model knows).
    pub(crate) scored: bool,
    pub(crate) sources: &'a [&'a str],
}

impl SearchFilter<'_> {
    /// The bounds of `key`.
    pub(crate) fn bounds_mut(&mut self, key: SortKey) -> &mut (Option<u64>, Option<u64>) {
        match key {
            SortKey::Time => &mut self.time,
            SortKey::Score => &mut self.score,
        }
    }
}

/// A match: the item's sort key (time or score, as asked) and its id.
pub(crate) type Hit = (u64, ItemId);

fn search_error(context: &str, error: &impl std::fmt::Display) -> StoreError {
    StoreError::Search(format!("{context}: {error}"))
}

/// Where the index of the store at `store` lives.
pub(crate) fn dir_of(store: &Path) -> PathBuf {
    let mut name = store.file_name().map(std::ffi::OsStr::to_os_string).unwrap_or_default();
    name.push(".search");
    store.with_file_name(name)
}

impl SearchIndex {
    /// Opens the index in `dir`, creating it when missing.
    pub(crate) fn open(dir: &Path, outbox: sled::Tree) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| search_error(&format!("cannot create {}", dir.display()), &e))?;
        let mut builder = Schema::builder();
        let fast = || NumericOptions::default().set_indexed().set_fast();
        let id = builder.add_u64_field("id", fast());
        let time = builder.add_u64_field("time", fast());
        let score = builder.add_u64_field("score", fast());
        let flagged = builder.add_u64_field("flagged", NumericOptions::default().set_indexed());
        let review = builder.add_u64_field("review", NumericOptions::default().set_indexed());
        let scored = builder.add_u64_field("scored", NumericOptions::default().set_indexed());
        let source = builder.add_text_field("source", STRING);
        let body = builder.add_text_field("body", TEXT);
        let schema = builder.build();
        let directory = tantivy::directory::MmapDirectory::open(dir).map_err(|e| search_error("open", &e))?;
        let index = Index::open_or_create(directory, schema).map_err(|e| search_error("open", &e))?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|e| search_error("reader", &e))?;
        let fields = Fields { id, time, score, flagged, review, scored, source, body };
        Ok(Self { dir: dir.to_path_buf(), index, reader, writer: Mutex::new(None), outbox, fields })
    }

    /// The writer, opened at the first write.
    fn writer(&self) -> Result<std::sync::MutexGuard<'_, Option<Writer>>> {
        let mut guard = self.writer.lock().map_err(|_| StoreError::Search("the index writer panicked".to_owned()))?;
        if guard.is_none() {
            let writer = self.index.writer_with_num_threads(1, WRITER_BYTES).map_err(|e| search_error("writer", &e))?;
            *guard = Some(Writer { writer, uncommitted: Vec::new(), last_commit: Instant::now() });
        }
        Ok(guard)
    }

    /// Adds `items` to the writer, to be committed later (see [`Self::commit`]). With
    /// `replace`, any document of the same id goes first (items from the outbox may have been
    /// indexed before a crash, and a reclassified item has a document already).
    pub(crate) fn add<'a>(&self, items: impl IntoIterator<Item = &'a ScoredItem>, replace: bool) -> Result<usize> {
        let mut guard = self.writer()?;
        let Some(writer) = guard.as_mut() else { return Ok(0) };
        let mut added = 0;
        for scored in items {
            let item = &scored.item;
            let id = u64::from_be_bytes(*item.id.as_bytes());
            if replace {
                writer.writer.delete_term(Term::from_field_u64(self.fields.id, id));
            }
            let mut doc = TantivyDocument::default();
            doc.add_u64(self.fields.id, id);
            let class = &scored.classification;
            doc.add_u64(self.fields.time, time_sort_key(item.effective_time()));
            doc.add_u64(self.fields.score, score_sort_key(crate::sled_store::index_score(scored)));
            doc.add_u64(self.fields.flagged, u64::from(class.flagged));
            doc.add_u64(self.fields.review, u64::from(class.review));
            doc.add_u64(self.fields.scored, u64::from(class.shown_score().is_some()));
            doc.add_text(self.fields.source, item.source.as_str());
            doc.add_text(self.fields.body, &item.title);
            doc.add_text(self.fields.body, &item.text);
            writer.writer.add_document(doc).map_err(|e| search_error("add", &e))?;
            writer.uncommitted.push(item.id);
            added += 1;
        }
        Ok(added)
    }

    /// Commits what was added (`due_only`: only when enough is waiting, or it has waited long
    /// enough, since each commit writes a segment that merges later rewrite) and takes it out
    /// of the outbox. Returns how many items it made searchable.
    pub(crate) fn commit(&self, due_only: bool) -> Result<usize> {
        let mut guard = self.writer.lock().map_err(|_| StoreError::Search("the index writer panicked".to_owned()))?;
        let Some(writer) = guard.as_mut() else { return Ok(0) };
        let due = writer.uncommitted.len() >= COMMIT_EVERY_DOCS || writer.last_commit.elapsed() >= COMMIT_EVERY;
        if writer.uncommitted.is_empty() || (due_only && !due) {
            return Ok(0);
        }
        writer.writer.commit().map_err(|e| search_error("commit", &e))?;
        writer.last_commit = Instant::now();
        self.reader.reload().map_err(|e| search_error("reload", &e))?;
        let committed = std::mem::take(&mut writer.uncommitted);
        for id in &committed {
            self.outbox.remove(id.as_bytes())?;
        }
        Ok(committed.len())
    }

    /// Drops every document (before indexing a whole store again).
    pub(crate) fn clear(&self) -> Result<()> {
        let mut guard = self.writer()?;
        if let Some(writer) = guard.as_mut() {
            // delete_all_documents leaves the documents not committed yet: they go first (the
            // outbox still names them).
            writer.writer.rollback().map_err(|e| search_error("rollback", &e))?;
            writer.writer.delete_all_documents().map_err(|e| search_error("clear", &e))?;
            writer.writer.commit().map_err(|e| search_error("commit", &e))?;
            writer.uncommitted.clear();
            writer.last_commit = Instant::now();
        }
        self.reader.reload().map_err(|e| search_error("reload", &e))?;
        Ok(())
    }

    /// Documents in the index.
    pub(crate) fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// The words of `text` as the index knows them: in sequence, the last one as a word or the
    /// start of one (so `vaccin` finds `vaccine`). `None` when `text` has no word the index
    /// could hold (punctuation only): callers scan instead.
    pub(crate) fn prepare(&self, text: &str) -> Result<Option<TextQuery>> {
        let mut analyzer =
            self.index.tokenizer_for_field(self.fields.body).map_err(|e| search_error("tokenizer", &e))?;
        let mut words: Vec<String> = Vec::new();
        let mut stream = analyzer.token_stream(text);
        while let Some(token) = stream.next() {
            words.push(token.text.clone());
        }
        let body = self.fields.body;
        let words: Box<dyn Query> = match words.as_slice() {
            [] => return Ok(None),
            // The default tokenizer keeps letters and digits only, so a word needs no escaping
            // as a pattern.
            [word] if word.chars().all(char::is_alphanumeric) => {
                Box::new(RegexQuery::from_pattern(&format!("{word}.*"), body).map_err(|e| search_error("query", &e))?)
            }
            [word] => Box::new(TermQuery::new(Term::from_field_text(body, word), IndexRecordOption::Basic)),
            words => {
                let terms = words.iter().map(|word| Term::from_field_text(body, word)).collect();
                let mut phrase = PhrasePrefixQuery::new(terms);
                phrase.set_max_expansions(PREFIX_EXPANSIONS);
                Box::new(phrase)
            }
        };
        Ok(Some(TextQuery { words }))
    }

    fn filtered(&self, query: &TextQuery, filter: &SearchFilter<'_>) -> BooleanQuery {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, query.words.box_clone())];
        for (field, (low, high)) in [(self.fields.time, filter.time), (self.fields.score, filter.score)] {
            if low.is_some() || high.is_some() {
                let bound =
                    |v: Option<u64>| v.map_or(Bound::Unbounded, |v| Bound::Included(Term::from_field_u64(field, v)));
                clauses.push((Occur::Must, Box::new(RangeQuery::new(bound(low), bound(high)))));
            }
        }
        for (field, wanted) in [
            (self.fields.flagged, filter.flagged),
            (self.fields.review, filter.review),
            (self.fields.scored, filter.scored),
        ] {
            if wanted {
                let term = Term::from_field_u64(field, 1);
                clauses.push((Occur::Must, Box::new(TermQuery::new(term, IndexRecordOption::Basic))));
            }
        }
        if !filter.sources.is_empty() {
            let terms = filter.sources.iter().map(|s| Term::from_field_text(self.fields.source, s));
            clauses.push((Occur::Must, Box::new(TermSetQuery::new(terms))));
        }
        BooleanQuery::new(clauses)
    }

    /// The first `limit` matches, highest `key` first.
    pub(crate) fn top(
        &self,
        query: &TextQuery,
        filter: &SearchFilter<'_>,
        key: SortKey,
        limit: usize,
    ) -> Result<Vec<Hit>> {
        let searcher = self.reader.searcher();
        let collector = TopDocs::with_limit(limit.max(1)).order_by_fast_field::<u64>(key.name(), Order::Desc);
        let found =
            searcher.search(&self.filtered(query, filter), &collector).map_err(|e| search_error("search", &e))?;
        self.hits(&searcher, found.into_iter().map(|(_, address)| address), key)
    }

    /// Every match, in no order.
    pub(crate) fn all(&self, query: &TextQuery, filter: &SearchFilter<'_>, key: SortKey) -> Result<Vec<Hit>> {
        let searcher = self.reader.searcher();
        let found =
            searcher.search(&self.filtered(query, filter), &DocSetCollector).map_err(|e| search_error("search", &e))?;
        self.hits(&searcher, found.into_iter(), key)
    }

    fn hits(
        &self,
        searcher: &tantivy::Searcher,
        addresses: impl Iterator<Item = DocAddress>,
        key: SortKey,
    ) -> Result<Vec<Hit>> {
        let mut columns = std::collections::HashMap::new();
        let mut out = Vec::new();
        for address in addresses {
            if let std::collections::hash_map::Entry::Vacant(slot) = columns.entry(address.segment_ord) {
                let fast = searcher.segment_reader(address.segment_ord).fast_fields();
                let ids = fast.u64("id").map_err(|e| search_error("id column", &e))?;
                let times = fast.u64(key.name()).map_err(|e| search_error("sort column", &e))?;
                slot.insert((ids, times));
            }
            let Some((ids, times)) = columns.get(&address.segment_ord) else { continue };
            let (Some(id), Some(time)) = (ids.first(address.doc_id), times.first(address.doc_id)) else {
                return Err(StoreError::Search("a document without id or sort key".to_owned()));
            };
            out.push((time, ItemId(id.to_be_bytes())));
        }
        Ok(out)
    }
}

/// The outbox: ids of items stored but maybe not yet in the full-text index.
pub(crate) const PENDING_TREE: &str = "search_pending";
/// In `meta`: present once the index holds every item stored before the outbox existed.
const READY_KEY: &[u8] = b"search_version";
const READY_VERSION: u8 = 1;
/// Items indexed per tantivy commit when a whole store is indexed.
const REBUILD_BATCH: usize = 10_000;

impl crate::SledStore {
    /// At open: a store from a build without the index is indexed whole; what a crash left in
    /// the outbox is indexed again.
    pub(crate) fn ensure_search(&self) -> Result<()> {
        if self.meta.get(READY_KEY)?.is_none() {
            self.rebuild_search()?;
        }
        self.drain_search_outbox()?;
        Ok(())
    }

    /// Indexes every stored item again, from an empty index. Returns how many.
    pub(crate) fn rebuild_search(&self) -> Result<u64> {
        if self.search.len() > 0 {
            self.search.clear()?;
        }
        let mut batch = Vec::with_capacity(REBUILD_BATCH);
        let (mut done, mut read) = (0u64, 0u64);
        for entry in self.items_tree().iter() {
            batch.push(crate::records::decode_item(&entry?.1)?);
            read += 1;
            self.report_upkeep("building the full-text index", read);
            if batch.len() == REBUILD_BATCH {
                done += self.search.add(&batch, false)? as u64;
                self.search.commit(false)?;
                batch.clear();
            }
        }
        if !batch.is_empty() {
            done += self.search.add(&batch, false)? as u64;
        }
        self.search.commit(false)?;
        self.search_pending.clear()?;
        self.meta.insert(READY_KEY, &[READY_VERSION])?;
        self.db.flush()?;
        if done > 0 {
            tracing::info!(message = "Full-text index built.", items = done);
        }
        Ok(done)
    }

    /// Indexes the items in the outbox (replacing any copy already indexed) and empties it.
    fn drain_search_outbox(&self) -> Result<usize> {
        if self.search_pending.is_empty() {
            return Ok(0);
        }
        let mut ids = Vec::new();
        let mut items = Vec::new();
        for entry in self.search_pending.iter() {
            let (key, _) = entry?;
            if let Some(id) = crate::keys::id_suffix(&key) {
                items.extend(self.load(id)?);
            }
            ids.push(key);
        }
        let indexed = self.search.add(&items, true)?;
        self.search.commit(false)?;
        for key in ids {
            self.search_pending.remove(key)?;
        }
        Ok(indexed)
    }

    /// After a commit: indexes what it stored (`replace`: what it changed); the next tantivy
    /// commit (when due, or before a text query) takes it out of the outbox. A failure is
    /// logged and leaves the items in the outbox for the next text query or open: the commit
    /// itself stands.
    pub(crate) fn index_committed(&self, items: &[&ScoredItem], replace: bool) {
        if items.is_empty() {
            return;
        }
        let indexed = self.search.add(items.iter().copied(), replace).and_then(|_| self.search.commit(true));
        if let Err(error) = indexed {
            tracing::warn!(message = "Items stored but not yet searchable; retried later.", %error, items = items.len());
        }
    }

    /// The full-text index, with the outbox drained first so that a search sees every
    /// committed item.
    pub(crate) fn search_index(&self) -> Result<&SearchIndex> {
        self.search.commit(false)?;
        self.drain_search_outbox()?;
        Ok(&self.search)
    }

    /// Documents in the full-text index (for `verify`).
    pub(crate) fn searchable_items(&self) -> Result<u64> {
        Ok(self.search_index()?.len())
    }
}
