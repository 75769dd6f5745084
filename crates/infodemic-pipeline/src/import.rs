//! `import`: labeled texts from elsewhere (data sets, another team's labels, fact-checkers'
//! ClaimReview files) joined to the store as items with verdicts from a named origin, so that
//! outside labels and our own reviews make one training set.
//!
//! # Architecture
//! Reading files is the caller's: the CLI parses CSV, JSON lines and ClaimReview into
//! [`LabeledRow`]s, with their lines. [`import_labeled`] then works in two phases:
//!
//! 1. A plan, writing nothing: every row becomes an [`Item`] (text and title cleaned and
//!    bounded, URL checked and canonicalised, id derived), is matched to the item stored
//!    already under its canonical URL or content hash (or to an earlier row of the same file),
//!    and its verdict is checked against the scale and against the origin's standing verdict
//!    on that item. A row the origin's log already says is "already present" and records
//!    nothing, which is what makes a second import of the same file add nothing. A row that
//!    gives an item another verdict than an earlier row of the same file is refused: the file
//!    contradicts itself, and recording both would make every re-import record again.
//! 2. The writes, unless the plan refused a row under `all_or_nothing`: the new items are
//!    scored with the current model (batches of [`IMPORT_BATCH`], decided with their subscribed
//!    feed's category like `rescore` does, matched to known debunked claims) and committed
//!    batch by batch with `IngestStore::commit`; then the verdicts are recorded with the origin
//!    as the reviewer, in transactions of [`VERDICT_CHUNK`].
//!
//! An import interrupted between batches leaves whole batches; running it again completes it
//! (the items stored are found, the verdicts present are skipped).
//!
//! # Identity
//! An item's id is the hash of its canonical URL, as for crawled items. A row without a URL
//! gets a pseudo-URL, `import:ORIGIN/HASH`, where `HASH` is the [`ContentHash`] of its cleaned
//! title and text (sha256 of the normalised words): the same row of the same origin is the same
//! item on every import, and the same text from two origins is one item (the second finds the
//! first by its content hash) carrying both origins' verdicts.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use infodemic_classifier::Classify;
use infodemic_core::language::detect_language;
use infodemic_core::review::{check_note, check_reviewer, MAX_NOTE_CHARS};
use infodemic_core::text::{collapse_whitespace, ellipsize};
use infodemic_core::url_canon::canonicalize;
use infodemic_core::{
    ContentHash, FeedCategory, Item, ItemId, NewVerdict, ReviewState, ScoredItem, SourceId, VerdictScale,
};
use infodemic_crawler::normalize::MAX_TITLE_CHARS;
use infodemic_store::{IngestStore, ReviewStore, ScoreStore};

/// What an import of labeled items needs of a store: lookups and commits of items, claims and
/// subscriptions for scoring, and the verdict logs. The embedded store and PostgreSQL are both.
pub trait ImportStore: IngestStore + ScoreStore + ReviewStore {}

impl<S: IngestStore + ScoreStore + ReviewStore + ?Sized> ImportStore for S {}
use serde::Serialize;

use crate::claims::{reembed_claims, ClaimMatcher};
use crate::Result;

/// Items scored and committed together.
pub const IMPORT_BATCH: usize = 64;
/// Verdicts recorded per store transaction.
pub const VERDICT_CHUNK: usize = 10_000;
/// The longest text imported, in characters (after cleaning): a longer one is refused, not cut,
/// since its label may be about the part that would be cut. The crawler's bound as well.
pub const MAX_IMPORT_TEXT_CHARS: usize = infodemic_crawler::normalize::MAX_TEXT_CHARS;
/// The longest URL imported, in bytes.
pub const MAX_IMPORT_URL_BYTES: usize = 2048;
/// The longest author kept, in characters.
const MAX_AUTHOR_CHARS: usize = 200;
/// The scheme of the pseudo-URLs of rows without a URL.
pub const IMPORT_SCHEME: &str = "import";

/// One row of a labeled file, as the caller read it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LabeledRow {
    /// 1-based line of the file where the row starts (for messages).
    pub line: usize,
    /// For a record inside a JSON array on that line, its 1-based position.
    pub element: Option<usize>,
    /// The text (required; control characters are dropped, whitespace collapsed).
    pub text: String,
    /// A title, if the file has one.
    pub title: String,
    /// Where the text was published (an http(s) URL), if known.
    pub url: Option<String>,
    /// The source's id; one that is not a valid [`SourceId`] gives way to `import-ORIGIN`.
    pub source: Option<String>,
    /// The author or claimant, if known.
    pub author: Option<String>,
    /// When it was published, if known.
    pub published: Option<DateTime<Utc>>,
    /// The verdict: a name of the scale.
    pub verdict: String,
    /// A note for the verdict (where the label came from, the publisher's words).
    pub note: Option<String>,
}

/// How to import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelImportOptions {
    /// Who the labels come from: the reviewer of every verdict recorded (checked like a
    /// reviewer name), and the `import-ORIGIN` source of rows without one.
    pub origin: String,
    /// Items scored and committed together.
    pub batch: usize,
    /// Write nothing if any row is refused.
    pub all_or_nothing: bool,
}

impl LabelImportOptions {
    /// Options for `origin`, with the default batch, keeping the good rows.
    pub fn new(origin: &str) -> Self {
        Self { origin: origin.to_owned(), batch: IMPORT_BATCH, all_or_nothing: false }
    }
}

/// A row not imported, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RefusedRow {
    /// 1-based line of the file.
    pub line: usize,
    /// For a record inside a JSON array, its 1-based position.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub element: Option<usize>,
    /// Why, for people.
    pub reason: String,
}

impl RefusedRow {
    /// Where the row is, as messages name it: `line 4` or `line 1, element 3`.
    pub fn place(&self) -> String {
        match self.element {
            Some(element) => format!("line {}, element {element}", self.line),
            None => format!("line {}", self.line),
        }
    }
}

/// What an import did. Every row given is counted once among the verdicts recorded, the
/// verdicts present and the rows refused.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LabelImport {
    /// The origin (the reviewer of the verdicts).
    pub origin: String,
    /// The model that scored the new items, `id@version`.
    pub model: String,
    /// Rows given.
    pub rows_read: usize,
    /// Items stored by this import.
    pub items_added: usize,
    /// Items the rows named that were stored already (crawled, or imported before).
    pub items_known: usize,
    /// Verdicts recorded.
    pub verdicts_recorded: usize,
    /// Rows whose verdict was there already: the origin's standing verdict on the item, or
    /// an earlier row of the same file.
    pub verdicts_present: usize,
    /// Rows refused, in file order.
    pub refused: Vec<RefusedRow>,
    /// Whether anything was written (false when `all_or_nothing` met a refused row).
    pub written: bool,
}

/// Checks an origin name: a reviewer name (1 to 64 characters) made of ASCII letters, digits,
/// `.`, `_` and `-`, so that it can name a source (`import-ORIGIN`) and a pseudo-URL too.
///
/// # Errors
/// A message for people.
pub fn check_origin(origin: &str) -> std::result::Result<String, String> {
    let name = check_reviewer(origin).map_err(|e| format!("origin: {e}"))?;
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
        return Err(format!(
            "origin `{}`: use ASCII letters, digits, `.`, `_` and `-` (it names the source `import-ORIGIN`)",
            name.escape_debug()
        ));
    }
    Ok(name)
}

/// The source of imported rows without a usable one of their own.
pub fn import_source(origin: &str) -> String {
    format!("import-{origin}")
}

/// Text as items keep it: control characters (newlines and tabs included) become spaces,
/// then whitespace is collapsed.
fn clean(text: &str) -> String {
    let spaced: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    collapse_whitespace(&spaced)
}

/// A note as the log keeps it: control characters other than newlines and tabs dropped,
/// bounded; `None` when empty.
fn clean_note(note: Option<&str>) -> Option<String> {
    let kept: String = note?.chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\t')).collect();
    let kept = kept.trim();
    (!kept.is_empty()).then(|| ellipsize(kept, MAX_NOTE_CHARS))
}

/// A value from the file shown in a message: escaped, at most 80 characters.
fn shown(value: &str) -> String {
    ellipsize(value, 80).escape_debug().to_string()
}

/// The item a row becomes, or why it cannot.
fn item_of(row: &LabeledRow, origin: &str, fetched_at: DateTime<Utc>) -> std::result::Result<Item, String> {
    let text = clean(&row.text);
    if text.is_empty() {
        return Err("empty text".to_owned());
    }
    let chars = text.chars().count();
    if chars > MAX_IMPORT_TEXT_CHARS {
        return Err(format!("text of {chars} characters: at most {MAX_IMPORT_TEXT_CHARS}"));
    }
    let title = ellipsize(&clean(&row.title), MAX_TITLE_CHARS);
    let content_hash = ContentHash::of(&title, &text);
    // An `import:` URL is another instance's pseudo-URL (its labeled export): not a place.
    let given = row
        .url
        .as_deref()
        .map(str::trim)
        .filter(|url| !url.is_empty() && !url.to_ascii_lowercase().starts_with(&format!("{IMPORT_SCHEME}:")));
    let (url, canonical_url) = match given {
        Some(raw) => {
            if raw.len() > MAX_IMPORT_URL_BYTES {
                return Err(format!("url longer than {MAX_IMPORT_URL_BYTES} bytes"));
            }
            let parsed = url::Url::parse(raw).map_err(|e| format!("url `{}`: {e}", shown(raw)))?;
            if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
                return Err(format!("url `{}`: not an http(s) address", shown(raw)));
            }
            let canonical = canonicalize(&parsed).to_string();
            (parsed.to_string(), canonical)
        }
        None => {
            let pseudo = format!("{IMPORT_SCHEME}:{origin}/{content_hash}");
            (pseudo.clone(), pseudo)
        }
    };
    if let Some(published) = row.published {
        let latest = fetched_at + chrono::Duration::days(2);
        if published.timestamp() < 0 || published > latest {
            return Err(format!("time {} is before 1970 or in the future", published.to_rfc3339()));
        }
    }
    let source = row
        .source
        .as_deref()
        .map(str::trim)
        .and_then(|s| SourceId::new(s).ok())
        .map_or_else(|| SourceId::new(import_source(origin)), Ok)
        .map_err(|e| e.to_string())?;
    let author = row.author.as_deref().map(clean).filter(|a| !a.is_empty()).map(|a| ellipsize(&a, MAX_AUTHOR_CHARS));
    let both = format!("{title} {text}");
    Ok(Item {
        id: ItemId::from_canonical_url(&canonical_url),
        url,
        canonical_url,
        language: detect_language(&both),
        simhash: infodemic_core::simhash::simhash(&both),
        content_hash,
        title,
        text,
        published: row.published,
        fetched_at,
        author,
        source,
        links: Vec::new(),
    })
}

/// A verdict to record, with the row it came from.
struct Planned {
    line: usize,
    element: Option<usize>,
    verdict: NewVerdict,
}

/// What the first phase decided.
#[derive(Default)]
struct Plan {
    new_items: Vec<Item>,
    verdicts: Vec<Planned>,
    refused: Vec<RefusedRow>,
    items_known: usize,
    present: usize,
}

fn refuse(row: &LabeledRow, reason: String) -> RefusedRow {
    RefusedRow { line: row.line, element: row.element, reason }
}

fn plan<S: ImportStore + ?Sized>(
    store: &S,
    rows: &[LabeledRow],
    scale: &VerdictScale,
    origin: &str,
    now: DateTime<Utc>,
) -> Result<Plan> {
    let mut plan = Plan::default();
    // Items of this file, by canonical URL and content hash: a later row finds an earlier one.
    let mut by_url: HashMap<String, ItemId> = HashMap::new();
    let mut by_hash: HashMap<ContentHash, ItemId> = HashMap::new();
    // The verdict this file gives each item, and the line that gave it first.
    let mut wanted: HashMap<ItemId, (usize, String)> = HashMap::new();
    let mut known: HashMap<ItemId, Option<String>> = HashMap::new();
    for row in rows {
        let checked = scale
            .parse(&row.verdict)
            .and_then(|verdict| Ok((verdict, check_note(clean_note(row.note.as_deref()).as_deref())?)));
        let (verdict, note) = match checked {
            Ok(checked) => checked,
            Err(error) => {
                plan.refused.push(refuse(row, error.to_string()));
                continue;
            }
        };
        let item = match item_of(row, origin, now) {
            Ok(item) => item,
            Err(reason) => {
                plan.refused.push(refuse(row, reason));
                continue;
            }
        };
        let in_file = by_url.get(&item.canonical_url).or_else(|| by_hash.get(&item.content_hash)).copied();
        let id = match in_file {
            Some(id) => id,
            None => match store.id_for_url(&item.canonical_url)?.or(store.id_for_content(item.content_hash)?) {
                Some(id) => {
                    if let Entry::Vacant(slot) = known.entry(id) {
                        // The origin's standing verdict on it: a row repeating it records nothing.
                        let state = ReviewState::derive(&infodemic_store::reviews::verdicts(store, id)?);
                        slot.insert(state.standing.into_iter().find(|s| s.reviewer == origin).map(|s| s.verdict));
                        plan.items_known += 1;
                    }
                    by_url.insert(item.canonical_url.clone(), id);
                    by_hash.insert(item.content_hash, id);
                    id
                }
                None => {
                    let id = item.id;
                    by_url.insert(item.canonical_url.clone(), id);
                    by_hash.insert(item.content_hash, id);
                    plan.new_items.push(item);
                    id
                }
            },
        };
        match wanted.get(&id) {
            Some((_, earlier)) if *earlier == verdict => plan.present += 1,
            Some((line, earlier)) => plan.refused.push(refuse(
                row,
                format!("verdict `{verdict}` for item {id}, which line {line} gives the verdict `{earlier}`"),
            )),
            None => {
                wanted.insert(id, (row.line, verdict.clone()));
                if known.get(&id).is_some_and(|standing| standing.as_deref() == Some(verdict.as_str())) {
                    plan.present += 1;
                } else {
                    plan.verdicts.push(Planned {
                        line: row.line,
                        element: row.element,
                        verdict: NewVerdict { item: id, verdict, reviewer: origin.to_owned(), note },
                    });
                }
            }
        }
    }
    Ok(plan)
}

/// Imports labeled rows: items not stored yet are scored with `classifier` and stored, then
/// each row's verdict is recorded with `options.origin` as the reviewer, unless that origin's
/// standing verdict on the item is that verdict already. See the module documentation.
/// `progress` gets the number of items scored after each batch.
///
/// # Errors
/// Store or classifier failures; batches committed before stay (running the import again
/// completes it).
pub fn import_labeled<S: ImportStore + ?Sized>(
    store: &S,
    classifier: &mut dyn Classify,
    rows: &[LabeledRow],
    scale: &VerdictScale,
    options: &LabelImportOptions,
    mut progress: impl FnMut(usize),
) -> Result<LabelImport> {
    let origin = options.origin.as_str();
    let model = classifier.model().clone();
    let now = Utc::now();
    let plan = plan(store, rows, scale, origin, now)?;
    let mut report = LabelImport {
        origin: origin.to_owned(),
        model: format!("{}@{}", model.id, model.version),
        rows_read: rows.len(),
        items_known: plan.items_known,
        verdicts_present: plan.present,
        refused: plan.refused,
        ..LabelImport::default()
    };
    if options.all_or_nothing && !report.refused.is_empty() {
        return Ok(report);
    }
    report.written = true;

    if !plan.new_items.is_empty() {
        let categories: HashMap<SourceId, FeedCategory> =
            store.subscriptions()?.into_iter().map(|spec| (spec.id, spec.category)).collect();
        let matcher = if !store.claim_entries()?.is_empty() {
            // Claims another model embedded are not comparable with this model's embeddings.
            reembed_claims(store, classifier, |_| {})?;
            ClaimMatcher::from_store(store)?
        } else {
            ClaimMatcher::empty(infodemic_claims::MATCH_THRESHOLD)
        };
        let policy = classifier.policy();
        for chunk in plan.new_items.chunks(options.batch.max(1)) {
            let texts: Vec<String> = chunk.iter().map(Item::classifier_input).collect();
            let classifications = classifier.classify(&texts)?;
            let scored: Vec<ScoredItem> = chunk
                .iter()
                .zip(classifications)
                .zip(&texts)
                .map(|((item, mut classification), text)| {
                    classification.redecide(&policy, categories.get(&item.source).copied());
                    if !matcher.is_empty() {
                        matcher.apply(text, &mut classification);
                    }
                    ScoredItem { item: item.clone(), classification }
                })
                .collect();
            report.items_added += store.commit(&scored, &[], &[])?.inserted;
            progress(chunk.len());
        }
    }

    for chunk in plan.verdicts.chunks(VERDICT_CHUNK) {
        let batch: Vec<NewVerdict> = chunk.iter().map(|planned| planned.verdict.clone()).collect();
        let outcome = infodemic_store::reviews::record_verdicts(store, &batch, scale, Utc::now(), false)?;
        report.verdicts_recorded += outcome.recorded.len();
        // Checked in the plan; the store refuses only what changed since (an item gone).
        for rejected in outcome.rejected {
            let planned = &chunk[rejected.row.min(chunk.len() - 1)];
            report.refused.push(RefusedRow { line: planned.line, element: planned.element, reason: rejected.error });
        }
    }
    report.refused.sort_by_key(|refused| (refused.line, refused.element));
    tracing::info!(
        message = "Labels imported.",
        origin,
        items_added = report.items_added,
        verdicts_recorded = report.verdicts_recorded,
        refused = report.refused.len()
    );
    Ok(report)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use infodemic_classifier::KeywordClassifier;
    use infodemic_core::ItemQuery;
    use infodemic_store::{ItemReader, SledStore};

    use super::*;

    fn row(line: usize, text: &str, verdict: &str) -> LabeledRow {
        LabeledRow { line, text: text.to_owned(), verdict: verdict.to_owned(), ..LabeledRow::default() }
    }

    fn store() -> (tempfile::TempDir, SledStore) {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = SledStore::open(&dir.path().join("db")).unwrap();
        (dir, store)
    }

    fn import(store: &SledStore, rows: &[LabeledRow], origin: &str) -> LabelImport {
        let mut classifier = KeywordClassifier::new(&["miracle"]);
        let options = LabelImportOptions { batch: 2, ..LabelImportOptions::new(origin) };
        import_labeled(store, &mut classifier, rows, &VerdictScale::default(), &options, |_| {}).unwrap()
    }

    #[test]
    fn rows_become_scored_items_with_the_origins_verdicts_and_a_second_import_adds_nothing() {
        let (_dir, store) = store();
        let rows = vec![
            row(2, "A miracle cure\u{7} for\ndiabetes", "false"),
            LabeledRow {
                url: Some("https://E.org/post?utm_source=x".to_owned()),
                source: Some("e.org".to_owned()),
                title: "Vaccines".to_owned(),
                published: Some(Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap()),
                note: Some("from the 2024 set".to_owned()),
                ..row(3, "Vaccines are tested in trials", "true")
            },
            row(4, "a MIRACLE cure for diabetes!", "false"),
            row(5, "", "false"),
            row(6, "something", "bogus"),
            row(7, "A miracle cure for diabetes", "true"),
        ];
        let report = import(&store, &rows, "team-a");
        assert_eq!((report.rows_read, report.items_added, report.items_known), (6, 2, 0));
        assert_eq!((report.verdicts_recorded, report.verdicts_present), (2, 1), "line 4 repeats line 2");
        let reasons: Vec<(usize, &str)> = report.refused.iter().map(|r| (r.line, r.reason.as_str())).collect();
        assert_eq!(reasons.len(), 3, "{reasons:?}");
        assert_eq!(reasons[0], (5, "empty text"));
        assert!(reasons[1].0 == 6 && reasons[1].1.contains("unknown verdict `bogus`"), "{reasons:?}");
        assert!(reasons[2].0 == 7 && reasons[2].1.contains("line 2 gives the verdict `false`"), "{reasons:?}");
        assert!(report.written);

        let items = store.query(&ItemQuery::default()).unwrap();
        assert_eq!(items.len(), 2);
        let cure = items.iter().find(|s| s.item.text.contains("cure")).unwrap();
        assert_eq!(cure.item.text, "A miracle cure for diabetes", "control characters dropped");
        assert!(cure.item.canonical_url.starts_with("import:team-a/"), "{}", cure.item.canonical_url);
        assert_eq!(cure.item.source.as_str(), "import-team-a");
        assert!(cure.classification.flagged && cure.classification.embedding.len() == 26, "scored by the model");
        let vaccines = items.iter().find(|s| s.item.title == "Vaccines").unwrap();
        assert_eq!(vaccines.item.canonical_url, "https://e.org/post");
        assert_eq!(vaccines.item.source.as_str(), "e.org");
        let events = store.verdicts(vaccines.item.id).unwrap();
        assert_eq!((events[0].reviewer.as_str(), events[0].verdict.as_str()), ("team-a", "true"));
        assert_eq!(events[0].note.as_deref(), Some("from the 2024 set"));

        let again = import(&store, &rows, "team-a");
        assert_eq!((again.items_added, again.items_known, again.verdicts_recorded), (0, 2, 0));
        assert_eq!(again.verdicts_present, 3);
        assert_eq!(store.verdicts(cure.item.id).unwrap().len(), 1, "no duplicate event");

        // Another origin's label on the same text joins the same item, beside the first.
        let other = import(&store, &[row(1, "A miracle cure for diabetes", "misleading")], "team-b");
        assert_eq!((other.items_added, other.items_known, other.verdicts_recorded), (0, 1, 1));
        let state = ReviewState::derive(&store.verdicts(cure.item.id).unwrap());
        assert_eq!(state.standing.len(), 2);
        // A corrected label replaces the origin's earlier one.
        let corrected = import(&store, &[row(1, "A miracle cure for diabetes", "misleading")], "team-a");
        assert_eq!(corrected.verdicts_recorded, 1);
        assert_eq!(store.verify().unwrap(), 2);
    }

    #[test]
    fn all_or_nothing_writes_nothing_when_a_row_is_refused() {
        let (_dir, store) = store();
        let rows =
            [row(1, "fine", "false"), LabeledRow { url: Some("ftp://x.org/a".to_owned()), ..row(2, "x", "true") }];
        let mut classifier = KeywordClassifier::new(&[]);
        let options = LabelImportOptions { all_or_nothing: true, ..LabelImportOptions::new("o") };
        let report =
            import_labeled(&store, &mut classifier, &rows, &VerdictScale::default(), &options, |_| {}).unwrap();
        assert!(!report.written);
        assert!(report.refused[0].reason.contains("not an http(s) address"), "{:?}", report.refused);
        assert_eq!((report.items_added, report.verdicts_recorded), (0, 0));
        assert!(store.query(&ItemQuery::default()).unwrap().is_empty());
    }

    #[test]
    fn bounds_and_origins() {
        let now = Utc::now();
        let long = "x".repeat(MAX_IMPORT_TEXT_CHARS + 1);
        assert!(item_of(&row(1, &long, "false"), "o", now).unwrap_err().contains("at most 100000"));
        let future = LabeledRow { published: Some(now + chrono::Duration::days(30)), ..row(1, "t", "false") };
        assert!(item_of(&future, "o", now).unwrap_err().contains("future"));
        let bad_source = LabeledRow { source: Some("has space".to_owned()), ..row(1, "t", "false") };
        assert_eq!(item_of(&bad_source, "o", now).unwrap().source.as_str(), "import-o");
        let exported = LabeledRow { url: Some("import:elsewhere/abc".to_owned()), ..row(1, "t", "false") };
        assert!(item_of(&exported, "o", now).unwrap().url.starts_with("import:o/"));
        assert_eq!(check_origin(" healthfeedback "), Ok("healthfeedback".to_owned()));
        assert!(check_origin("team 2024").is_err());
        assert!(check_origin("").is_err());
        assert_eq!(clean_note(Some(" a\u{1b}b\nc ")), Some("ab\nc".to_owned()));
    }
}
