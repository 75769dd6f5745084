//! Fixtures shared by the store tests and the store suite that runs on every store (the
//! PostgreSQL crate's `tests/store_suite.rs`): items, a corpus, queries over it, and what each
//! query must answer. Built for tests only (`cfg(test)` or the `test-support` feature).
#![allow(clippy::unwrap_used, clippy::expect_used)] // Fixtures: a panic is the failure report.

use std::cmp::Reverse;

use chrono::{Duration, TimeZone, Utc};
use std::collections::BTreeMap;

use chrono::DateTime;
use infodemic_core::{
    Campaign, CampaignEvent, CampaignId, CampaignMember, CampaignProfile, CampaignStatus, Classification, ContentHash,
    Item, ItemId, ItemQuery, ModelRef, ScoreStats, ScoredItem, SortOrder, SourceId, Technique,
};

use crate::keys;

/// An item of `source` at `url`, published `days_ago` days before 2026-11-20 noon, with
/// `score` (flagged and worth a review from 0.5).
pub fn scored(url: &str, source: &str, days_ago: i64, score: f32) -> ScoredItem {
    let now = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
    let title = format!("title of {url}");
    ScoredItem {
        item: Item {
            id: ItemId::from_canonical_url(url),
            url: url.to_owned(),
            canonical_url: url.to_owned(),
            content_hash: ContentHash::of(&title, "body"),
            title,
            text: "body".to_owned(),
            published: Some(now - Duration::days(days_ago)),
            fetched_at: now,
            author: None,
            source: SourceId::new(source).unwrap(),
            language: Some("en".to_owned()),
            links: vec!["https://shared.example.org/study".to_owned()],
            simhash: Some(0x0123_4567_89ab_cdef),
        },
        classification: Classification {
            score,
            flagged: score >= 0.5,
            review: score >= 0.5,
            embedding: vec![0.6, 0.8],
            model: ModelRef { id: "m".to_owned(), version: "1".to_owned() },
            language: Some("en".to_owned()),
            language_supported: true,
            evidence: Vec::new(),
            claim_match: None,
            claim: None,
            refute: None,
            reasons: Vec::new(),
        },
    }
}

const WORDS: [&str; 8] = ["garlic", "vaccine", "vaccination", "measles", "bleach", "ward", "oxygen", "towers"];

/// 600 items over 4 sources and 30 days of October 2026, scores spread, a third of the times
/// shared with another item (feeds with dates but no times), texts of two or three of
/// `WORDS`, one in ten in a language the model does not know, fingerprints over all 64 bits.
pub fn corpus() -> Vec<ScoredItem> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    (0..600)
        .map(|i| {
            let mut item = scored(&format!("https://e{}.org/{i}", i % 4), &format!("s{}", i % 4), 0, 0.0);
            let score = next(1000) as f32 / 1000.0;
            item.classification.score = score;
            item.classification.flagged = score >= 0.8;
            item.classification.review = score >= 0.5;
            item.classification.language_supported = next(10) > 0;
            let minutes = if i % 3 == 0 { 0 } else { next(30 * 24 * 60) as i64 };
            let day = Utc.with_ymd_and_hms(2026, 10, 1 + (next(30) as u32), 0, 0, 0).unwrap();
            item.item.published = Some(day + Duration::minutes(minutes));
            let words: Vec<&str> = (0..2 + next(2)).map(|_| WORDS[next(8) as usize]).collect();
            item.item.text = format!("Report: {}.", words.join(" "));
            item.item.title = format!("Item {i}");
            item.item.content_hash = ContentHash::of(&item.item.title, &item.item.text);
            item.item.simhash = Some(next(u64::MAX));
            item
        })
        .collect()
}

/// Every item `store` gives for `first`, page after page (`first.limit` each), newest first.
pub fn all_pages(store: &dyn crate::ItemReader, first: &ItemQuery) -> Vec<ItemId> {
    let mut paged = Vec::new();
    let mut query = first.clone();
    loop {
        let page = store.query(&query).unwrap();
        let Some(last) = page.last() else { break };
        query.after = Some(infodemic_core::ItemCursor::of(last));
        paged.extend(page.iter().map(|s| s.item.id));
    }
    paged
}

/// What a store must answer: every stored item that matches, in the order, cut to the limit.
pub fn expected(items: &[ScoredItem], query: &ItemQuery) -> Vec<ItemId> {
    let mut matching: Vec<&ScoredItem> = items
        .iter()
        .filter(|s| query.matches(s))
        .filter(|s| {
            query.order == SortOrder::Score
                || query.after.is_none_or(|after| (s.item.effective_time(), s.item.id) < (after.time, after.id))
        })
        .collect();
    match query.order {
        SortOrder::Newest => matching.sort_by_key(|s| Reverse((s.item.effective_time(), s.item.id))),
        SortOrder::Score => matching.sort_by_key(|s| Reverse((keys::score_key(keys::sort_score(s)), s.item.id))),
    }
    matching.into_iter().take(query.limit.unwrap_or(usize::MAX)).map(|s| s.item.id).collect()
}

/// Every filter and some combinations, in both orders, with and without limits, over
/// [`corpus`].
pub fn queries() -> Vec<ItemQuery> {
    let day = |d| Utc.with_ymd_and_hms(2026, 10, d, 0, 0, 0).unwrap();
    let sources = |names: &[&str]| names.iter().map(|n| SourceId::new(*n).unwrap()).collect::<Vec<_>>();
    let mut out = Vec::new();
    for order in [SortOrder::Newest, SortOrder::Score] {
        for limit in [Some(1), Some(25), None] {
            let base = ItemQuery { order, limit, ..ItemQuery::default() };
            out.extend([
                base.clone(),
                ItemQuery { flagged_only: true, ..base.clone() },
                ItemQuery { review_only: true, min_score: Some(0.6), ..base.clone() },
                ItemQuery { since: Some(day(10)), until: Some(day(12)), ..base.clone() },
                ItemQuery { sources: sources(&["s1", "s3"]), ..base.clone() },
                ItemQuery { sources: sources(&["s2", "s2"]), since: Some(day(20)), ..base.clone() },
                ItemQuery { text: Some("vaccin".to_owned()), ..base.clone() },
                ItemQuery { text: Some("GARLIC vacc".to_owned()), ..base.clone() },
                ItemQuery { text: Some("measles".to_owned()), sources: sources(&["s0"]), ..base.clone() },
                ItemQuery { text: Some("bleach".to_owned()), flagged_only: true, since: Some(day(5)), ..base.clone() },
                ItemQuery { text: Some("towers".to_owned()), until: Some(day(15)), ..base.clone() },
                ItemQuery { text: Some("absent".to_owned()), ..base.clone() },
                ItemQuery { text: Some("accine".to_owned()), ..base.clone() },
                ItemQuery { text: Some("report:".to_owned()), ..base.clone() },
                ItemQuery { text: Some(": ".to_owned()), ..base.clone() },
            ]);
        }
    }
    out
}

/// A campaign member, `id` being its item id.
pub fn member(id: &str) -> CampaignMember {
    CampaignMember {
        id: id.to_owned(),
        url: format!("https://example.org/{id}"),
        text: "bleach cures covid".to_owned(),
        time: DateTime::from_timestamp(1_700_000_000, 0),
        source: "blog".to_owned(),
        account: Some("@a".to_owned()),
        score: Some(0.9),
    }
}

/// A one-member campaign with a profile, a technique and history.
pub fn campaign(id: u64) -> Campaign {
    let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
    Campaign {
        id: CampaignId(id),
        status: CampaignStatus::Active,
        representative: member("a"),
        representative_similarity: 0.5,
        first_seen: at,
        last_seen: at,
        size: 1,
        sources: [("blog".to_owned(), 1)].into(),
        accounts: BTreeMap::new(),
        languages: BTreeMap::new(),
        hourly: [(472_222, 1)].into(),
        fact_checks: BTreeMap::new(),
        scores: ScoreStats::default(),
        techniques: vec![Technique { id: "T0084.001".into(), name: "Copypasta".into(), evidence: "3 copies".into() }],
        history: vec![CampaignEvent::Opened { at, item: "a".into() }],
        profile: CampaignProfile {
            terms: [("bleach".to_owned(), 0.7f32)].into(),
            norm_sq: 0.49,
            texts: vec![7],
            surge: "{}".into(),
            ..CampaignProfile::default()
        },
    }
}

/// Opens the store at `path` again after a handle to it was dropped. sled's flusher thread can
/// hold the file lock for a moment after the last handle goes (longer on a loaded machine), so
/// a `Locked` answer is asked again until the lock is free, for at most ten seconds.
pub fn reopen(path: &std::path::Path) -> crate::SledStore {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match crate::SledStore::open(path) {
            Ok((store, _)) => return store,
            Err(crate::StoreError::Locked { .. }) if std::time::Instant::now() < deadline => std::thread::yield_now(),
            Err(error) => panic!("cannot reopen {}: {error}", path.display()),
        }
    }
}
