//! One store test suite, run against both stores: the embedded sled store and PostgreSQL.
//!
//! PostgreSQL is a real server: `scripts/postgres.sh` (run by the test command) starts one on
//! 127.0.0.1 and exports its URL as `INFODEMIC_TEST_POSTGRES`. Without it these tests fail;
//! they never skip. Each test works in a schema of its own.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is the failure report.

use std::cmp::Reverse;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Duration, TimeZone, Utc};
use infodemic_core::{Alert, CampaignCounters, CampaignEvent, CampaignHead, CampaignId, CampaignStatus};
use infodemic_core::{Appearance, ContentHash, FeedState, ItemId, ItemQuery, Relation, ScoredItem, SourceId};
use infodemic_store::test_support::{self, all_pages, corpus, expected, queries};
use infodemic_store::test_support::{campaign, member};
use infodemic_store::{
    campaigns, reviews, CampaignCommit, CampaignReader, CampaignWriter, CommitReport, IngestStore, ItemReader,
    RecordTrees, ReviewStore, ScoreStore, SledStore, StoreError,
};
use infodemic_store_postgres::PgStore;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap()
}

/// The shared fixture item, published at `published`.
fn scored(url: &str, source: &str, published: DateTime<Utc>, score: f32) -> ScoredItem {
    let mut item = test_support::scored(url, source, 0, score);
    item.item.published = Some(published);
    item
}

fn feed_state(source: &str, error: Option<&str>) -> FeedState {
    FeedState {
        source: SourceId::new(source).unwrap(),
        url: format!("https://{source}.example.org/feed"),
        last_attempt: Some(now()),
        last_success: error.is_none().then(now),
        last_error: error.map(str::to_owned),
        consecutive_failures: u32::from(error.is_some()),
        ..FeedState::new(SourceId::new(source).unwrap(), format!("https://{source}.example.org/feed"))
    }
}

// ---- the suite: each case takes any store ----

fn commit_round_trips_items_states_and_appearances(store: &dyn IngestStore) {
    let a = scored("https://e.org/a", "s1", now() - Duration::days(1), 0.9);
    let b = scored("https://e.org/b", "s2", now() - Duration::days(2), 0.1);
    let copy = Appearance {
        item: a.item.id,
        source: SourceId::new("s3").unwrap(),
        url: "https://mirror.example.org/a".to_owned(),
        seen_at: now(),
        published: None,
        relation: Relation::NearDuplicate { distance: 3 },
    };
    let states = [feed_state("s1", None), feed_state("s2", Some("timed out"))];
    let report = store.commit(&[a.clone(), b.clone()], &states, std::slice::from_ref(&copy)).unwrap();
    assert_eq!(report, CommitReport { inserted: 2, duplicates: 0 });

    assert_eq!(store.get(a.item.id).unwrap().as_ref(), Some(&a));
    assert_eq!(store.get(b.item.id).unwrap().as_ref(), Some(&b));
    assert_eq!(store.get(ItemId([9; 8])).unwrap(), None);
    assert_eq!(store.id_for_url("https://e.org/a").unwrap(), Some(a.item.id));
    assert_eq!(store.id_for_content(b.item.content_hash).unwrap(), Some(b.item.id));
    assert_eq!(store.id_for_url("https://e.org/none").unwrap(), None);
    assert_eq!(store.appearances(a.item.id).unwrap(), vec![copy.clone()]);
    assert!(store.appearances(b.item.id).unwrap().is_empty());
    assert_eq!(store.feed_states().unwrap(), states.to_vec());
    let (readable, unreadable) = store.readable_feed_states().unwrap();
    assert_eq!((readable, unreadable.len()), (states.to_vec(), 0));

    // A copy seen again replaces its appearance; a feed's new state replaces the old one.
    let seen_again = Appearance { seen_at: now() + Duration::hours(1), ..copy };
    let recovered = feed_state("s2", None);
    store.commit(&[], std::slice::from_ref(&recovered), std::slice::from_ref(&seen_again)).unwrap();
    assert_eq!(store.appearances(a.item.id).unwrap(), vec![seen_again]);
    assert_eq!(store.feed_states().unwrap(), vec![states[0].clone(), recovered]);

    let stats = store.stats().unwrap();
    assert_eq!((stats.total.items, stats.total.flagged), (2, 1));
    assert_eq!(stats.per_source["s1"].flagged, 1);
    assert_eq!(stats.per_label["misinformation"], 1);
    assert_eq!(stats.per_label["reliable"], 1);
    assert_eq!(stats.per_language["en"].items, 2);
    assert_eq!(stats.per_day.len(), 2);
    assert_eq!((stats.feeds, stats.feeds_failing), (2, 0));
}

fn duplicates_by_url_or_content_are_skipped(store: &dyn IngestStore) {
    let a = scored("https://e.org/a", "s1", now(), 0.9);
    store.commit(std::slice::from_ref(&a), &[], &[]).unwrap();
    // Same URL, other content; other URL, same content; and a pair inside one batch.
    let mut same_url = scored("https://e.org/a", "s2", now(), 0.2);
    same_url.item.text = "another body".to_owned();
    same_url.item.content_hash = ContentHash::of(&same_url.item.title, &same_url.item.text);
    let mut same_content = scored("https://e.org/copy", "s2", now(), 0.2);
    same_content.item.content_hash = a.item.content_hash;
    let mut fresh = scored("https://e.org/fresh", "s2", now(), 0.2);
    fresh.item.content_hash = ContentHash::of("fresh", "fresh");
    let report = store.commit(&[same_url, same_content, fresh.clone(), fresh], &[], &[]).unwrap();
    assert_eq!(report, CommitReport { inserted: 1, duplicates: 3 });
    assert_eq!(store.get(a.item.id).unwrap().map(|s| s.item.source.as_str().to_owned()).as_deref(), Some("s1"));
    let stats = store.stats().unwrap();
    assert_eq!(stats.total.items, 2, "duplicates are not counted");
}

fn every_query_answers_what_filtering_every_item_gives(store: &dyn IngestStore) {
    let items = corpus();
    for chunk in items.chunks(50) {
        store.commit(chunk, &[], &[]).unwrap();
    }
    for query in queries() {
        let got: Vec<ItemId> = store.query(&query).unwrap().iter().map(|s| s.item.id).collect();
        assert_eq!(got, expected(&items, &query), "{query:?}");
    }
    // Newest-first pages cover every match once, in order, though many items share a time.
    for text in [None, Some("vacc".to_owned())] {
        let first = ItemQuery { text: text.clone(), limit: Some(7), ..ItemQuery::default() };
        let paged = all_pages(store, &first);
        assert_eq!(paged, expected(&items, &ItemQuery { limit: None, ..first }), "{text:?}");
    }
    // Counters agree with the items.
    let stats = store.stats().unwrap();
    assert_eq!(stats.total.items, 600);
    assert_eq!(stats.total.flagged, items.iter().filter(|s| s.classification.flagged).count() as u64);
    for source in ["s0", "s1", "s2", "s3"] {
        assert_eq!(stats.per_source[source].items, 150);
    }
    let days: u64 = stats.per_day.values().map(|c| c.items).sum();
    assert_eq!(days, 600);
}

fn recent_fingerprints_are_newest_first_from_the_bound(store: &dyn IngestStore) {
    let items = corpus();
    store.commit(&items, &[], &[]).unwrap();
    let since = Utc.with_ymd_and_hms(2026, 10, 20, 6, 30, 0).unwrap();
    let mut want: Vec<&ScoredItem> = items.iter().filter(|s| s.item.effective_time() >= since).collect();
    want.sort_by_key(|s| Reverse((s.item.effective_time(), s.item.id)));
    let want: Vec<(u64, ItemId)> = want.iter().map(|s| (s.item.simhash.unwrap(), s.item.id)).collect();
    assert!(want.iter().any(|(hash, _)| *hash >= 1 << 63), "high bits survive storage");
    assert_eq!(store.recent_fingerprints(since).unwrap(), want);
}

/// What no sane feed sends, but a hostile one or a broken import might: control characters
/// and NUL in every text field and the URL, the largest text the crawler keeps made of distinct
/// words, the earliest and a far-future time, a score that is not a number. Each store keeps it
/// whole and finds it.
fn absurd_items_are_stored_whole_and_found(store: &dyn IngestStore) {
    let mut control =
        scored("https://e.org/a\u{0}b\u{1b}[31m", "s1", Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).unwrap(), 0.7);
    control.item.title = "nul \u{0} bell \u{7} rtl \u{202e} vaccine".to_owned();
    control.item.text = "\u{0}\u{0}\r\n\t".repeat(1000);
    control.item.author = Some("\u{0}".to_owned());
    control.item.content_hash = ContentHash::of(&control.item.title, &control.item.text);
    let mut huge =
        scored("https://e.org/huge", "s2", Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(), f32::NAN);
    // 100,000 characters of distinct words: the most a crawled item carries.
    huge.item.text = (0..100_000 / 8).map(|i| format!("w{i:06x}")).collect::<Vec<_>>().join(" ");
    huge.item.content_hash = ContentHash::of(&huge.item.title, &huge.item.text);
    let report = store.commit(&[control.clone(), huge.clone()], &[], &[]).unwrap();
    assert_eq!(report.inserted, 2);
    assert_eq!(store.get(control.item.id).unwrap().as_ref(), Some(&control));
    let back = store.get(huge.item.id).unwrap().unwrap();
    assert_eq!((back.item.text.len(), back.classification.score.is_nan()), (huge.item.text.len(), true));
    assert_eq!(store.id_for_url(&control.item.canonical_url).unwrap(), Some(control.item.id));
    for (text, id) in [("vaccine", control.item.id), ("w0030d3", huge.item.id), ("w002", huge.item.id)] {
        let found = store.query(&ItemQuery { text: Some(text.to_owned()), ..ItemQuery::default() }).unwrap();
        assert_eq!(found.iter().map(|s| s.item.id).collect::<Vec<_>>(), vec![id], "{text}");
    }
    let newest = store.query(&ItemQuery { limit: Some(1), ..ItemQuery::default() }).unwrap();
    assert_eq!(newest[0].item.id, huge.item.id);
    let by_score = store.query(&ItemQuery { order: infodemic_core::SortOrder::Score, ..ItemQuery::default() }).unwrap();
    assert_eq!(by_score.iter().map(|s| s.item.id).collect::<Vec<_>>(), vec![control.item.id, huge.item.id]);
}

/// A new model's scores replace the old ones: every query, the score order and the counters
/// follow; the items themselves stay; ids not stored and repeated ids change nothing more.
fn reclassify_moves_scores_flags_and_counters<S: IngestStore + ScoreStore>(store: &S) {
    let mut items = corpus();
    store.commit(&items, &[], &[]).unwrap();
    let model = infodemic_core::ModelRef { id: "new".to_owned(), version: "2".to_owned() };
    // Every third item gets its score mirrored (flags flip across 0.5), by the new model.
    let mut updates = Vec::new();
    for scored in items.iter_mut().step_by(3) {
        let score = 1.0 - scored.classification.score;
        let mut classification = test_support::scored("https://x.org", "x", 0, score).classification;
        classification.model = model.clone();
        scored.classification = classification.clone();
        updates.push((scored.item.id, classification));
    }
    let repeated = updates[0].clone();
    updates.push(repeated);
    updates.push((ItemId([0xee; 8]), updates[1].1.clone()));
    assert_eq!(store.reclassify(&updates).unwrap(), 200);

    for scored in &items {
        assert_eq!(store.get(scored.item.id).unwrap().as_ref(), Some(scored));
    }
    for query in queries() {
        let got: Vec<ItemId> = store.query(&query).unwrap().iter().map(|s| s.item.id).collect();
        assert_eq!(got, expected(&items, &query), "{query:?}");
    }
    let stats = store.stats().unwrap();
    assert_eq!(stats.total.items, 600);
    assert_eq!(stats.total.flagged, items.iter().filter(|s| s.classification.flagged).count() as u64);
    for source in ["s0", "s1", "s2", "s3"] {
        let flagged = items.iter().filter(|s| s.item.source.as_str() == source && s.classification.flagged).count();
        assert_eq!(stats.per_source[source].flagged, flagged as u64, "{source}");
    }
}

/// `get_many` answers in the order asked, `None` for what is not stored, a repeat twice.
fn get_many_answers_in_the_order_asked(store: &dyn IngestStore) {
    let items = corpus();
    store.commit(&items, &[], &[]).unwrap();
    let ids = [items[7].item.id, ItemId([0xee; 8]), items[0].item.id, items[7].item.id, items[599].item.id];
    let got = store.get_many(&ids).unwrap();
    let want = [Some(&items[7]), None, Some(&items[0]), Some(&items[7]), Some(&items[599])];
    assert_eq!(got.iter().map(Option::as_ref).collect::<Vec<_>>(), want);
    assert!(store.get_many(&[]).unwrap().is_empty());
}

/// `item_ids` gives the time range and sources, newest first, whatever else the query says.
fn item_ids_are_the_time_range_and_sources_newest_first<S: IngestStore + ScoreStore>(store: &S) {
    let items = corpus();
    store.commit(&items, &[], &[]).unwrap();
    let since = Utc.with_ymd_and_hms(2026, 10, 10, 0, 0, 0).unwrap();
    let until = Utc.with_ymd_and_hms(2026, 10, 20, 0, 0, 0).unwrap();
    for sources in [vec![], vec![SourceId::new("s1").unwrap(), SourceId::new("s3").unwrap()]] {
        let query = ItemQuery {
            since: Some(since),
            until: Some(until),
            sources: sources.clone(),
            flagged_only: true,
            limit: Some(3),
            ..ItemQuery::default()
        };
        let bounds = ItemQuery { since: Some(since), until: Some(until), sources, ..ItemQuery::default() };
        assert_eq!(store.item_ids(&query).unwrap(), expected(&items, &bounds));
    }
}

/// Claims: a second put keeps what is stored; a replacement reaches stored claims only.
fn claims_are_kept_and_their_embeddings_replaced<S: ScoreStore>(store: &S) {
    use infodemic_core::{ClaimOrigin, DebunkedClaim, ModelRef, Verdict};
    let claim = |text: &str| DebunkedClaim::new(text, Verdict::False, ClaimOrigin::Dataset { name: "test".to_owned() });
    let (old, new) = (
        ModelRef { id: "m".to_owned(), version: "1".to_owned() },
        ModelRef { id: "m".to_owned(), version: "2".to_owned() },
    );
    let (a, b, c) = (claim("garlic cures covid"), claim("5g spreads the virus"), claim("bleach is a cure"));
    assert_eq!(store.put_claims(&[(a.clone(), vec![1.0, 0.0]), (b.clone(), vec![0.0, 1.0])], &old).unwrap(), 2);
    assert_eq!(store.put_claims(&[(a.clone(), vec![0.5, 0.5])], &new).unwrap(), 0, "kept as stored");
    let replaced = store.replace_claim_embeddings(&[(a.clone(), vec![0.6, 0.8]), (c, vec![0.8, 0.6])], &new);
    assert_eq!(replaced.unwrap(), 1, "a claim not stored is not added");
    let mut entries = store.claim_entries().unwrap();
    entries.sort_by_key(|entry| entry.claim.id.0);
    let mut want = vec![(a.id, vec![0.6, 0.8], new), (b.id, vec![0.0, 1.0], old)];
    want.sort_by_key(|(id, _, _)| id.0);
    let got: Vec<_> = entries.into_iter().map(|e| (e.claim.id, e.embedding, e.model.unwrap())).collect();
    assert_eq!(got, want);
}

/// A batch of grouping results reads back whole: the grouping's snapshot with profiles,
/// listings without them, heads, members (with a limit), the member index, alerts.
fn a_campaign_commit_round_trips_and_listing_skips_profiles<S: CampaignWriter + RecordTrees>(store: &S) {
    assert_eq!(campaigns::counters(store).unwrap().next_id, 1);
    let alert = Alert {
        seq: 1,
        campaign: CampaignId(3),
        at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        kind: "opening".into(),
        summary: "opened with 5 items in 2 h".into(),
        size: 5,
    };
    let commit = CampaignCommit {
        counters: CampaignCounters { docs: 2, next_id: 4, next_alert: 2 },
        campaigns: vec![campaign(3)],
        terms: vec![("bleach".into(), 2), ("cure".into(), 1)],
        members: vec![(CampaignId(3), 1, member("a")), (CampaignId(3), 2, member("b"))],
        alerts: vec![alert.clone()],
    };
    store.commit_campaigns(&commit).unwrap();
    let snapshot = store.grouping_snapshot().unwrap();
    assert_eq!(snapshot.counters, commit.counters);
    assert_eq!(snapshot.terms, commit.terms);
    assert_eq!(snapshot.campaigns, vec![campaign(3)]);
    assert_eq!(store.campaign_heads().unwrap(), vec![CampaignHead::of(&campaign(3))]);
    let listed = store.campaigns().unwrap();
    assert_eq!(listed[0].profile.terms, campaign(3).profile.terms, "the strongest terms come with a listing");
    assert!(listed[0].profile.texts.is_empty(), "the rest of the profile does not");
    assert_eq!(listed[0].techniques, campaign(3).techniques);
    assert_eq!(store.campaign_members(CampaignId(3), None).unwrap(), vec![member("a"), member("b")]);
    assert_eq!(store.campaign_members(CampaignId(3), Some(1)).unwrap().len(), 1);
    assert_eq!(store.campaign_of("b").unwrap(), Some(CampaignId(3)));
    assert_eq!(store.campaign_of("zz").unwrap(), None);
    assert_eq!(store.alerts().unwrap(), vec![alert]);
    assert!(store.campaign(CampaignId(9)).unwrap().is_none());

    // A later batch replaces what it changes and keeps the rest.
    let mut grown = campaign(3);
    grown.size = 3;
    let later = CampaignCommit {
        counters: CampaignCounters { docs: 3, next_id: 4, next_alert: 2 },
        campaigns: vec![grown.clone()],
        terms: vec![("bleach".into(), 3)],
        members: vec![(CampaignId(3), 3, member("c"))],
        alerts: Vec::new(),
    };
    store.commit_campaigns(&later).unwrap();
    let snapshot = store.grouping_snapshot().unwrap();
    assert_eq!(snapshot.terms, vec![("bleach".to_owned(), 3), ("cure".to_owned(), 1)]);
    assert_eq!(snapshot.campaigns, vec![grown]);
    assert_eq!(store.campaign_members(CampaignId(3), None).unwrap().len(), 3);
    assert_eq!(store.alerts().unwrap().len(), 1);
}

/// A campaign that absorbed others lists their members after its own, each campaign once.
fn a_campaign_lists_the_members_of_the_campaigns_it_absorbed<S: CampaignWriter>(store: &S) {
    let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
    let mut kept = campaign(3);
    kept.history.push(CampaignEvent::Absorbed { at, from: CampaignId(4) });
    // A loop in the history (a corrupt record) ends: each campaign is visited once.
    kept.history.push(CampaignEvent::Absorbed { at, from: CampaignId(3) });
    let mut gone = campaign(4);
    gone.status = CampaignStatus::Merged { into: CampaignId(3) };
    // Ids whose keys share leading bytes with 3's: a prefix scan must not take them.
    let neighbour = campaign(3 + (1 << 8));
    let commit = CampaignCommit {
        campaigns: vec![kept, gone, neighbour],
        members: vec![
            (CampaignId(3), 1, member("a")),
            (CampaignId(4), 1, member("b")),
            (CampaignId(3), 3, member("c")),
            (CampaignId(3 + (1 << 8)), 1, member("n")),
        ],
        ..CampaignCommit::default()
    };
    store.commit_campaigns(&commit).unwrap();
    let ids: Vec<String> = store.campaign_members(CampaignId(3), None).unwrap().into_iter().map(|m| m.id).collect();
    assert_eq!(ids, ["a", "c", "b"]);
    assert_eq!(store.campaign_members(CampaignId(3), Some(2)).unwrap().len(), 2);
    assert_eq!(store.campaign_members(CampaignId(4), None).unwrap().len(), 1);
}

/// `scores.len()` items of one source, the first newest, stored; their ids.
fn with_items<S: IngestStore + ?Sized>(store: &S, scores: &[f32]) -> Vec<ItemId> {
    let items: Vec<ScoredItem> = scores
        .iter()
        .enumerate()
        .map(|(i, score)| test_support::scored(&format!("https://example.org/{i}"), "who", i as i64, *score))
        .collect();
    store.commit(&items, &[], &[]).unwrap();
    items.iter().map(|s| s.item.id).collect()
}

fn verdict(item: ItemId, verdict: &str, reviewer: &str) -> infodemic_core::NewVerdict {
    infodemic_core::NewVerdict { item, verdict: verdict.to_owned(), reviewer: reviewer.to_owned(), note: None }
}

fn review_time() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

fn verdicts_append_and_the_head_follows_the_log<S: IngestStore + ReviewStore>(store: &S) {
    let ids = with_items(store, &[0.9, 0.2]);
    let scale = infodemic_core::VerdictScale::default();
    let first =
        reviews::record_verdicts(store, &[verdict(ids[0], "false", "ana")], &scale, review_time(), false).unwrap();
    assert_eq!(first.recorded.len(), 1);
    assert_eq!(first.recorded[0].score, Some(0.9), "the score the reviewer saw is kept");
    reviews::record_verdicts(store, &[verdict(ids[0], "true", "ben")], &scale, review_time(), false).unwrap();
    let log = reviews::verdicts(store, ids[0]).unwrap();
    assert_eq!(log.iter().map(|e| e.verdict.as_str()).collect::<Vec<_>>(), ["false", "true"]);
    assert!(log[0].seq < log[1].seq);
    let head = reviews::review_head(store, ids[0]).unwrap().unwrap();
    assert_eq!(
        (head.current.as_str(), head.agreement, head.reviewers),
        ("true", infodemic_core::Agreement::Disagreed, 2)
    );
    assert_eq!(reviews::review_head(store, ids[1]).unwrap(), None);
}

fn bad_rows_are_reported_and_good_rows_kept_unless_all_or_nothing<S: IngestStore + ReviewStore>(store: &S) {
    let ids = with_items(store, &[0.9, 0.8]);
    let scale = infodemic_core::VerdictScale::default();
    let batch = [
        verdict(ids[0], "false", "ana"),
        verdict(ids[1], "fake-news", "ana"),
        verdict(ItemId([9; 8]), "false", "ana"),
        verdict(ids[1], "true", ""),
    ];
    let strict = reviews::record_verdicts(store, &batch, &scale, review_time(), true).unwrap();
    assert!(strict.recorded.is_empty());
    assert_eq!(reviews::reviewed_count(store).unwrap(), 0, "nothing written");
    let outcome = reviews::record_verdicts(store, &batch, &scale, review_time(), false).unwrap();
    assert_eq!(outcome.recorded.len(), 1);
    let rows: Vec<usize> = outcome.rejected.iter().map(|r| r.row).collect();
    assert_eq!(rows, [1, 2, 3]);
    assert!(outcome.rejected[0].error.contains("unknown verdict `fake-news`"), "{:?}", outcome.rejected);
    assert!(outcome.rejected[1].error.contains("no item with id 0909090909090909"));
    assert!(outcome.rejected[2].error.contains("reviewer name"));
}

fn undo_withdraws_the_reviewers_verdict_and_is_itself_logged<S: IngestStore + ReviewStore>(store: &S) {
    let ids = with_items(store, &[0.9]);
    let scale = infodemic_core::VerdictScale::default();
    reviews::record_verdicts(store, &[verdict(ids[0], "false", "ana")], &scale, review_time(), false).unwrap();
    reviews::record_verdicts(store, &[verdict(ids[0], "misleading", "ana")], &scale, review_time(), false).unwrap();
    let undone = reviews::undo_verdicts(store, &ids, "ana", review_time()).unwrap();
    assert_eq!(undone.recorded[0].verdict, "misleading");
    assert_eq!(reviews::review_head(store, ids[0]).unwrap().unwrap().current, "false");
    reviews::undo_verdicts(store, &ids, "ana", review_time()).unwrap();
    assert_eq!(reviews::review_head(store, ids[0]).unwrap(), None, "nothing stands");
    assert_eq!(reviews::verdicts(store, ids[0]).unwrap().len(), 4, "the log keeps everything");
    let nothing = reviews::undo_verdicts(store, &ids, "ana", review_time()).unwrap();
    assert!(nothing.rejected[0].error.contains("no standing verdict"), "{nothing:?}");
    let unknown = reviews::undo_verdicts(store, &[ItemId([7; 8])], "ana", review_time()).unwrap();
    assert!(unknown.rejected[0].error.contains("no item"), "{unknown:?}");
}

fn the_queue_leaves_out_reviewed_items<S: IngestStore + ReviewStore>(store: &S) {
    let ids = with_items(store, &[0.9, 0.8, 0.7]);
    reviews::record_verdicts(
        store,
        &[verdict(ids[0], "false", "ana")],
        &infodemic_core::VerdictScale::default(),
        review_time(),
        false,
    )
    .unwrap();
    let query = ItemQuery {
        order: infodemic_core::SortOrder::Score,
        review_state: infodemic_core::ReviewFilter::Unreviewed,
        limit: Some(10),
        ..ItemQuery::default()
    };
    let queue: Vec<ItemId> = store.query(&query).unwrap().iter().map(|s| s.item.id).collect();
    assert_eq!(queue, [ids[1], ids[2]]);
    let request = infodemic_core::QueueRequest {
        query: ItemQuery { limit: Some(10), ..ItemQuery::default() },
        ..Default::default()
    };
    let entries: Vec<ItemId> =
        reviews::review_queue(store, &request).unwrap().iter().map(|e| e.scored.item.id).collect();
    assert_eq!(entries, [ids[1], ids[2]], "highest score first, reviewed left out");
    let reviewed = ItemQuery { review_state: infodemic_core::ReviewFilter::Reviewed, ..query };
    let done: Vec<ItemId> = store.query(&reviewed).unwrap().iter().map(|s| s.item.id).collect();
    assert_eq!(done, [ids[0]]);
}

macro_rules! on_both_stores {
    ($($case:ident),* $(,)?) => {
        mod sled {
            $(
                #[test]
                fn $case() {
                    let (_dir, store) = super::sled_store();
                    super::$case(&store);
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $case() {
                    let store = super::postgres_store();
                    assert!(store.become_campaign_writer().unwrap(), "each test has a schema, and a lock, of its own");
                    super::$case(&store);
                }
            )*
        }
    };
}

on_both_stores!(
    commit_round_trips_items_states_and_appearances,
    duplicates_by_url_or_content_are_skipped,
    every_query_answers_what_filtering_every_item_gives,
    recent_fingerprints_are_newest_first_from_the_bound,
    absurd_items_are_stored_whole_and_found,
    reclassify_moves_scores_flags_and_counters,
    get_many_answers_in_the_order_asked,
    item_ids_are_the_time_range_and_sources_newest_first,
    claims_are_kept_and_their_embeddings_replaced,
    a_campaign_commit_round_trips_and_listing_skips_profiles,
    a_campaign_lists_the_members_of_the_campaigns_it_absorbed,
    verdicts_append_and_the_head_follows_the_log,
    bad_rows_are_reported_and_good_rows_kept_unless_all_or_nothing,
    undo_withdraws_the_reviewers_verdict_and_is_itself_logged,
    the_queue_leaves_out_reviewed_items,
);

fn sled_store() -> (tempfile::TempDir, SledStore) {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = SledStore::open(&dir.path().join("store")).unwrap();
    (dir, store)
}

// ---- PostgreSQL only ----

/// The test server's URL. Missing is a failure: the suite must run against PostgreSQL.
fn server_url() -> String {
    std::env::var("INFODEMIC_TEST_POSTGRES").unwrap_or_else(|_| {
        panic!(
            "INFODEMIC_TEST_POSTGRES is not set: start the test server with \
             `eval \"$(bash scripts/postgres.sh start)\"` (scripts/test.sh does)"
        )
    })
}

/// A new, empty schema on the test server and a store in it.
fn postgres_store() -> PgStore {
    PgStore::connect(&schema_url(&fresh_schema())).unwrap()
}

fn fresh_schema() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let name = format!("t{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    let mut admin = ::postgres::Client::connect(&server_url(), ::postgres::NoTls).unwrap();
    admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}")).unwrap();
    name
}

fn schema_url(schema: &str) -> String {
    let url = server_url();
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-csearch_path%3D{schema}")
}

/// One process at a time writes campaigns to a schema: a second is refused the lock while the
/// first lives, and refused a commit without it; once the first is gone, the second takes over.
/// Another schema (another deployment) has a lock of its own.
#[test]
fn one_process_at_a_time_writes_campaigns() {
    let schema = fresh_schema();
    let first = PgStore::connect(&schema_url(&schema)).unwrap();
    let second = PgStore::connect(&schema_url(&schema)).unwrap();
    let elsewhere = postgres_store();
    assert!(first.become_campaign_writer().unwrap());
    assert!(first.become_campaign_writer().unwrap(), "asking again is fine");
    assert!(!second.become_campaign_writer().unwrap());
    assert!(elsewhere.become_campaign_writer().unwrap(), "another schema, another writer");
    let commit = CampaignCommit { campaigns: vec![campaign(1)], ..CampaignCommit::default() };
    let refused = second.commit_campaigns(&commit).unwrap_err();
    assert!(matches!(refused, StoreError::NotTheWriter(_)), "{refused}");
    assert!(second.campaigns().unwrap().is_empty());
    first.commit_campaigns(&commit).unwrap();
    assert_eq!(second.campaigns().unwrap().len(), 1, "readers are not held up");
    drop(first);
    // The server frees the lock when the connection closes, a moment after the drop.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !second.become_campaign_writer().unwrap() {
        assert!(std::time::Instant::now() < deadline, "the lock outlived its holder");
        std::thread::yield_now();
    }
    second.commit_campaigns(&commit).unwrap();
}

/// The server closing the store's connections (a restart, a failover, an administrator) costs
/// no call: one that meets a closed connection runs again on a new one. The campaign lock goes with its session: commits are refused until it is
/// claimed again, which fails while another process holds it.
#[test]
fn a_closed_connection_is_replaced_and_the_campaign_lock_claimed_again() {
    let schema = fresh_schema();
    // A name of its own, to find its session among the server's.
    let url = format!("{}&application_name=reconnect_{schema}", schema_url(&schema));
    let store = PgStore::connect(&url).unwrap();
    with_items(&store, &[0.2, 0.9]);
    assert!(store.claim_writer().unwrap());
    store.commit_campaigns(&CampaignCommit { campaigns: vec![campaign(1)], ..CampaignCommit::default() }).unwrap();

    assert!(end_sessions(&format!("reconnect_{schema}")) >= 2, "the pool's session and the campaign lock's");
    // The pool's connections were in use a moment ago, so none is asked at checkout: the
    // calls that meet them run again on new ones, and none fails.
    assert_eq!(store.stats().unwrap().total.items, 2, "the store answers on a new connection");
    assert_eq!(store.campaigns().unwrap().len(), 1);
    assert!(store.id_for_url("https://example.org/none").unwrap().is_none());

    // The commit runs on the lock's session, which is gone: refused, never written unlocked.
    let again = CampaignCommit { campaigns: vec![campaign(2)], ..CampaignCommit::default() };
    let refused = store.commit_campaigns(&again).unwrap_err();
    assert!(matches!(refused, StoreError::NotTheWriter(_)), "the lock did not survive the session: {refused}");
    assert_eq!(store.campaigns().unwrap().len(), 1);
    // Another process took it meanwhile: claiming fails until that one is gone.
    let other = PgStore::connect(&schema_url(&schema)).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !other.claim_writer().unwrap() {
        assert!(std::time::Instant::now() < deadline, "the lock outlived the terminated session");
        std::thread::yield_now();
    }
    assert!(!store.claim_writer().unwrap());
    drop(other);
    while !store.claim_writer().unwrap() {
        assert!(std::time::Instant::now() < deadline + std::time::Duration::from_secs(10), "never claimed again");
        std::thread::yield_now();
    }
    store.commit_campaigns(&again).unwrap();
    assert_eq!(store.campaigns().unwrap().len(), 2);
}

/// Has the server end every session named `application_name` (as a restart or a failover
/// would), and waits until they are gone; returns how many there were.
fn end_sessions(application_name: &str) -> i64 {
    let mut admin = ::postgres::Client::connect(&server_url(), ::postgres::NoTls).unwrap();
    let ended = admin
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
            &[&application_name],
        )
        .unwrap();
    // The server ends them a moment later.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let left = admin
            .query_one("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", &[&application_name])
            .unwrap();
        if left.get::<_, i64>(0) == 0 {
            return ended.get(0);
        }
        assert!(std::time::Instant::now() < deadline, "the terminated sessions did not end");
        std::thread::yield_now();
    }
}

/// Writes that are not plain reads get through a closed connection too: a verdict (appended,
/// so retried only before its COMMIT was sent) and a subscription, each the first call after
/// the server ended the pool's sessions.
#[test]
fn a_verdict_and_a_subscription_get_through_a_closed_connection() {
    let schema = fresh_schema();
    let name = format!("rewrite_{schema}");
    let store = PgStore::connect(&format!("{}&application_name={name}", schema_url(&schema))).unwrap();
    let ids = with_items(&store, &[0.9]);
    // The log's own transaction, first after the sessions ended: a commit of nothing.
    assert!(end_sessions(&name) >= 1);
    store.append_locked(&mut |_| Ok(Vec::new())).unwrap();
    assert!(end_sessions(&name) >= 1);
    let scale = infodemic_core::VerdictScale::default();
    reviews::record_verdicts(&store, &[verdict(ids[0], "false", "ana")], &scale, review_time(), false).unwrap();
    assert_eq!(reviews::verdicts(&store, ids[0]).unwrap().len(), 1, "recorded once");
    assert!(end_sessions(&name) >= 1);
    let spec = infodemic_core::FeedSpec::from_url(url::Url::parse("https://example.org/feed.xml").unwrap());
    assert!(store.put_subscription(&spec).unwrap(), "a new subscription");
    assert_eq!(store.subscriptions().unwrap().len(), 1);
}

/// Two processes recording verdicts on one item at once: every event is logged with its own
/// sequence number, and the head is what the whole log amounts to (never derived from a log
/// that missed the other process's event).
#[test]
fn two_processes_recording_verdicts_on_one_item_keep_its_head_true_to_its_log() {
    let schema = fresh_schema();
    let store = PgStore::connect(&schema_url(&schema)).unwrap();
    let ids = with_items(&store, &[0.9]);
    std::thread::scope(|scope| {
        for reviewer in ["ana", "ben"] {
            let url = schema_url(&schema);
            let item = ids[0];
            scope.spawn(move || {
                let store = PgStore::connect(&url).unwrap();
                let scale = infodemic_core::VerdictScale::default();
                for n in 0..20 {
                    let choice = if n % 2 == 0 { "false" } else { "misleading" };
                    let batch = [verdict(item, choice, reviewer)];
                    reviews::record_verdicts(&store, &batch, &scale, review_time(), false).unwrap();
                }
            });
        }
    });
    let log = reviews::verdicts(&store, ids[0]).unwrap();
    assert_eq!(log.len(), 40);
    assert!(log.windows(2).all(|w| w[0].seq < w[1].seq), "distinct sequence numbers, in order");
    let head = reviews::review_head(&store, ids[0]).unwrap().unwrap();
    let derived = infodemic_core::ReviewState::derive(&log);
    assert_eq!((Some(head.current), head.agreement, head.reviewers), (derived.current, derived.agreement, 2));
}

/// A copy of campaigns can be run again, but not over a target that has grouped since.
#[test]
fn campaigns_are_not_copied_over_a_target_that_grouped_since() {
    let (_dir, sled) = sled_store();
    let counters = |next_id| CampaignCounters { docs: next_id, next_id, next_alert: 1 };
    let first = CampaignCommit { counters: counters(2), campaigns: vec![campaign(1)], ..CampaignCommit::default() };
    sled.commit_campaigns(&first).unwrap();
    let pg = postgres_store();
    assert!(pg.become_campaign_writer().unwrap());
    assert_eq!(campaigns::copy(&sled, &pg, 10).unwrap(), 1);
    assert_eq!(campaigns::copy(&sled, &pg, 10).unwrap(), 1, "again: the same records");
    let later = CampaignCommit { counters: counters(3), campaigns: vec![campaign(2)], ..CampaignCommit::default() };
    pg.commit_campaigns(&later).unwrap();
    let refused = campaigns::copy(&sled, &pg, 10).unwrap_err();
    assert!(matches!(refused, StoreError::NotTheWriter(_)), "{refused}");
    assert_eq!(pg.grouping_snapshot().unwrap().counters, counters(3), "the target's own state stands");
}

/// `sslmode=require` encrypts the connection and verifies the server: against `sslrootcert`
/// (the test server's throwaway CA) it connects; without it the certificate is not trusted, and
/// a CA file that is not there is named. Without `sslmode=require` the connection is plain.
#[test]
fn tls_is_used_and_verified_when_the_url_requires_it() {
    let ca = std::env::var("INFODEMIC_TEST_POSTGRES_CA").unwrap_or_else(|_| {
        panic!("INFODEMIC_TEST_POSTGRES_CA is not set: start the test server with scripts/postgres.sh")
    });
    let url = server_url();
    let separator = if url.contains('?') { '&' } else { '?' };
    let secure = PgStore::connect(&format!("{url}{separator}sslmode=require&sslrootcert={ca}")).unwrap();
    assert!(secure.encrypted().unwrap());
    assert!(!PgStore::connect(&url).unwrap().encrypted().unwrap(), "plain unless asked");

    let untrusted = PgStore::connect(&format!("{url}{separator}sslmode=require")).unwrap_err();
    assert!(matches!(untrusted, StoreError::Open { .. }), "{untrusted}");
    assert!(untrusted.to_string().to_lowercase().contains("certificate"), "{untrusted}");
    let missing = PgStore::connect(&format!("{url}{separator}sslmode=require&sslrootcert=/nonexistent/ca.pem"));
    let message = missing.unwrap_err().to_string();
    assert!(message.contains("/nonexistent/ca.pem"), "{message}");
}

/// `verify` counts the items when all agree, and finds a flag column that disagrees with its
/// record, an item without its key row, and a counter that disagrees with the items.
#[test]
fn verify_finds_columns_keys_and_counters_that_disagree() {
    let schema = fresh_schema();
    let store = PgStore::connect(&schema_url(&schema)).unwrap();
    let items = corpus();
    store.commit(&items, &[], &[]).unwrap();
    let updates: Vec<_> = items
        .iter()
        .step_by(5)
        .map(|s| {
            (s.item.id, test_support::scored("https://x.org", "x", 0, 1.0 - s.classification.score).classification)
        })
        .collect();
    store.reclassify(&updates).unwrap();
    assert_eq!(store.verify().unwrap(), 600);
    let mut admin = ::postgres::Client::connect(&schema_url(&schema), ::postgres::NoTls).unwrap();
    let id = items[3].item.id.as_bytes().to_vec();
    for (break_it, mend_it) in [
        (
            "UPDATE items SET flagged = NOT flagged WHERE id = $1",
            "UPDATE items SET flagged = NOT flagged WHERE id = $1",
        ),
        ("UPDATE item_keys SET day = day + 1 WHERE id = $1", "UPDATE item_keys SET day = day - 1 WHERE id = $1"),
    ] {
        admin.execute(break_it, &[&id]).unwrap();
        let error = store.verify().unwrap_err();
        assert!(matches!(error, StoreError::Corrupt { .. }), "{break_it}: {error}");
        admin.execute(mend_it, &[&id]).unwrap();
    }
    assert_eq!(store.verify().unwrap(), 600);
    admin
        .batch_execute("UPDATE counts SET items = items + 1 WHERE key = (SELECT key FROM counts ORDER BY key LIMIT 1)")
        .unwrap();
    assert!(store.verify().unwrap_err().to_string().contains("counts"));
}

#[test]
fn subscriptions_are_put_replaced_and_removed() {
    let store = postgres_store();
    let mut spec = infodemic_core::FeedSpec::from_url(url::Url::parse("https://who.example.org/feed.xml").unwrap());
    assert!(store.put_subscription(&spec).unwrap(), "new");
    spec.category = infodemic_core::FeedCategory::FactChecker;
    assert!(!store.put_subscription(&spec).unwrap(), "replaced");
    assert_eq!(store.subscriptions().unwrap(), vec![spec.clone()]);
    assert!(store.remove_subscription(spec.id.as_str()).unwrap());
    assert!(!store.remove_subscription(spec.id.as_str()).unwrap());
    assert!(store.subscriptions().unwrap().is_empty());
}

/// Two score workers rescoring the same items at once (a job delivered twice) leave the
/// counters as one rescore does.
#[test]
fn concurrent_rescores_move_the_counters_once() {
    let schema = fresh_schema();
    let items = corpus();
    let store = PgStore::connect(&schema_url(&schema)).unwrap();
    store.commit(&items, &[], &[]).unwrap();
    let mut updates: Vec<(ItemId, infodemic_core::Classification)> = items
        .iter()
        .map(|s| {
            (s.item.id, test_support::scored("https://x.org", "x", 0, 1.0 - s.classification.score).classification)
        })
        .collect();
    updates.reverse();
    std::thread::scope(|scope| {
        for turn in 0..3 {
            let (url, mut updates) = (schema_url(&schema), updates.clone());
            if turn % 2 == 1 {
                updates.reverse();
            }
            scope.spawn(move || PgStore::connect(&url).unwrap().reclassify(&updates).unwrap());
        }
    });
    let flagged = updates.iter().filter(|(_, c)| c.flagged).count() as u64;
    let stats = store.stats().unwrap();
    assert_eq!((stats.total.items, stats.total.flagged), (600, flagged));
}

#[test]
fn concurrent_writers_store_each_item_once() {
    let schema = fresh_schema();
    let items = corpus();
    // Four writers, each committing every item (in its own order, in batches): the database's
    // uniqueness decides, so each item is stored once and counted once.
    let reports: Vec<CommitReport> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|writer| {
                let (items, url) = (&items, schema_url(&schema));
                scope.spawn(move || {
                    let store = PgStore::connect(&url).unwrap();
                    let mut mine = items.clone();
                    mine.rotate_left(writer * 150);
                    let mut total = CommitReport::default();
                    for chunk in mine.chunks(40) {
                        let report = store.commit(chunk, &[], &[]).unwrap();
                        total.inserted += report.inserted;
                        total.duplicates += report.duplicates;
                    }
                    total
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(reports.iter().map(|r| r.inserted).sum::<usize>(), 600);
    assert_eq!(reports.iter().map(|r| r.duplicates).sum::<usize>(), 3 * 600);
    let store = PgStore::connect(&schema_url(&schema)).unwrap();
    assert_eq!(store.stats().unwrap().total.items, 600);
    assert_eq!(store.query(&ItemQuery::default()).unwrap().len(), 600);
}

#[test]
fn items_go_to_one_partition_per_day() {
    let schema = fresh_schema();
    let store = PgStore::connect(&schema_url(&schema)).unwrap();
    // The corpus moved to end yesterday: recent days get a partition each.
    let mut items = corpus();
    let newest = items.iter().map(|s| s.item.effective_time()).max().unwrap();
    let shift = (Utc::now() - Duration::days(1)) - newest;
    for scored in &mut items {
        scored.item.published = scored.item.published.map(|t| t + shift);
        scored.item.fetched_at += shift;
    }
    store.commit(&items, &[], &[]).unwrap();
    let days: std::collections::BTreeSet<_> = items.iter().map(|s| s.item.effective_time().date_naive()).collect();
    assert_eq!(partition_count(&schema), days.len() as i64);
    // A second process that does not know them yet commits into the same days.
    let other = PgStore::connect(&schema_url(&schema)).unwrap();
    let mut late = scored("https://e.org/late", "s9", items[0].item.effective_time(), 0.3);
    late.item.content_hash = ContentHash::of("late", "late");
    assert_eq!(other.commit(&[late], &[], &[]).unwrap().inserted, 1);
}

/// Partitions of `items` in `schema`.
fn partition_count(schema: &str) -> i64 {
    let mut admin = ::postgres::Client::connect(&server_url(), ::postgres::NoTls).unwrap();
    admin
        .query_one(
            "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'",
            &[&schema],
        )
        .unwrap()
        .get(0)
}

/// A feed dated on a different day for each of 3,000 items over 80 years, and at the ends of
/// time, makes a partition a year (or so), not one a day; every item is still found, by id and
/// by a time query. Two processes committing such days at once agree on the partitions.
#[test]
fn old_and_absurd_dates_make_a_bounded_number_of_partitions() {
    let schema = fresh_schema();
    let start = Utc.with_ymd_and_hms(1940, 1, 1, 6, 0, 0).unwrap();
    let mut items: Vec<ScoredItem> = (0..3000)
        .map(|n| {
            let mut item = scored(&format!("https://old.example/{n}"), "s1", start + Duration::days(n * 10), 0.2);
            item.item.content_hash = ContentHash::of("old", &n.to_string());
            item
        })
        .collect();
    for (n, time) in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC].into_iter().enumerate() {
        let mut item = scored(&format!("https://absurd.example/{n}"), "s2", time, 0.2);
        item.item.content_hash = ContentHash::of("absurd", &n.to_string());
        items.push(item);
    }
    let (first, second) = items.split_at(1500);
    std::thread::scope(|scope| {
        for part in [first, second] {
            let url = schema_url(&schema);
            scope.spawn(move || {
                let store = PgStore::connect(&url).unwrap();
                for chunk in part.chunks(100) {
                    store.commit(chunk, &[], &[]).unwrap();
                }
            });
        }
    });
    let partitions = partition_count(&schema);
    assert!(partitions <= 90, "{partitions} partitions for 82 years and the two ends");
    let store = PgStore::connect(&schema_url(&schema)).unwrap();
    for scored in items.iter().step_by(97) {
        assert_eq!(store.get(scored.item.id).unwrap().as_ref(), Some(scored));
    }
    let since = Utc.with_ymd_and_hms(1950, 3, 1, 0, 0, 0).unwrap();
    let until = Utc.with_ymd_and_hms(1961, 7, 1, 0, 0, 0).unwrap();
    let query = ItemQuery { since: Some(since), until: Some(until), ..ItemQuery::default() };
    let got: Vec<ItemId> = store.query(&query).unwrap().iter().map(|s| s.item.id).collect();
    assert_eq!(got, expected(&items, &query));
    assert_eq!(store.stats().unwrap().total.items, items.len() as u64);
}

#[test]
fn a_schema_from_a_newer_infodemic_is_refused() {
    let schema = fresh_schema();
    drop(PgStore::connect(&schema_url(&schema)).unwrap());
    let mut admin = ::postgres::Client::connect(&server_url(), ::postgres::NoTls).unwrap();
    admin
        .execute(&format!("UPDATE {schema}.infodemic_meta SET value = '99' WHERE key = 'schema_version'"), &[])
        .unwrap();
    let error = PgStore::connect(&schema_url(&schema)).unwrap_err();
    assert!(matches!(error, StoreError::SchemaTooNew { found: 99, .. }), "{error}");
}
