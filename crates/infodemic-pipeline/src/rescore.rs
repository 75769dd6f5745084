//! `rescore`: the current model applied to items already stored, so that a better model
//! reaches what was crawled before it.
//!
//! # Architecture
//! A plan first (on the blocking pool): the ids of the items in the filter, newest first, and
//! which of them were scored by another model (id and version) than the current one. Then
//! batches: load, classify on the classifier's thread, decide again with the item's feed
//! category, match claims, and rewrite the batch's classifications in one store transaction
//! that moves the score index with the scores. Items already scored by the current model are
//! skipped (unless `all`), so a run that stops (a limit, Ctrl-C) leaves whole batches
//! rewritten, and the next run continues with what is left.

use std::collections::HashMap;
use std::time::Instant;

use infodemic_classifier::ClassifierHandle;
use infodemic_core::{Classification, FeedCategory, ItemId, ItemQuery, ModelRef, ScoredItem, SourceId};
use infodemic_store::{IngestStore, ScoreStore};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::claims::{reembed_stale_claims, ClaimMatcher};
use crate::crawl::{blocking, NoProgress};
use crate::{PipelineError, Result};

/// Items classified and committed together by default.
pub const RESCORE_BATCH: usize = 64;

/// Items the plan reads per request to the store.
const PLAN_PAGE: usize = 500;

/// Which items to rescore, and how.
#[derive(Clone, Debug)]
pub struct RescoreOptions {
    /// The items: `since`, `until` and `sources` (any other filter of the query applies too;
    /// its limit and order do not).
    pub filter: ItemQuery,
    /// Rescore items the current model scored already, too.
    pub all: bool,
    /// Rescore at most this many items; the others are left for a later run.
    pub limit: Option<usize>,
    /// Items classified and committed together.
    pub batch: usize,
}

impl Default for RescoreOptions {
    fn default() -> Self {
        Self { filter: ItemQuery::default(), all: false, limit: None, batch: RESCORE_BATCH }
    }
}

/// What a rescore did (or, for a dry run, would do).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RescoreSummary {
    /// The current model, `id@version`.
    pub model: String,
    /// Nothing was written: the counts say what a run would do.
    pub dry_run: bool,
    /// Items in the filter.
    pub items_seen: usize,
    /// Items rescored by the current model (dry run: that would be).
    pub items_rescored: usize,
    /// Items skipped because the current model had scored them already.
    pub items_current: usize,
    /// Items still scored by another model after this run (a limit, an interruption): the
    /// next run rescores them.
    pub items_remaining: usize,
    /// Of the rescored items, how many were flagged before.
    pub flagged_before: usize,
    /// Of the rescored items, how many are flagged now (`None` for a dry run).
    pub flagged_after: Option<usize>,
    /// Stored claims embedded again because another model had embedded them (dry run: that
    /// would be).
    pub claims_reembedded: usize,
    /// The run stopped early on request; every committed batch is whole.
    pub interrupted: bool,
    /// Wall time, seconds.
    pub elapsed_secs: f64,
}

/// Progress of a rescore, for a progress bar.
#[derive(Clone, Debug)]
pub enum RescoreEvent {
    /// This many items will be rescored.
    Started {
        /// Items to rescore.
        items: usize,
    },
    /// A batch was rescored and committed.
    BatchCommitted {
        /// Items rewritten.
        rescored: usize,
        /// Of which flagged now.
        flagged: usize,
    },
    /// Cancellation was requested: no new batch starts.
    Stopping,
}

/// Receives [`RescoreEvent`]s. Must be cheap: it is called on the rescore's task.
pub trait RescoreObserver: Send + Sync {
    /// Called for every event.
    fn on_event(&self, event: &RescoreEvent);
}

impl RescoreObserver for NoProgress {
    fn on_event(&self, _event: &RescoreEvent) {}
}

/// The items a run would rescore.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Plan {
    /// Items in the filter.
    seen: usize,
    /// Skipped: scored by the current model already.
    current: usize,
    /// To rescore in this run, newest first.
    ids: Vec<ItemId>,
    /// Of `ids`, flagged now.
    flagged: usize,
    /// To rescore, but past the limit.
    beyond_limit: usize,
}

fn plan<S: ScoreStore + ?Sized>(store: &S, model: &ModelRef, options: &RescoreOptions) -> Result<Plan> {
    let mut plan = Plan::default();
    let limit = options.limit.unwrap_or(usize::MAX);
    // A page of items per request: one round trip each for a remote store.
    for page in store.item_ids(&options.filter)?.chunks(PLAN_PAGE) {
        for scored in store.get_many(page)?.into_iter().flatten() {
            if !options.filter.matches(&scored) {
                continue;
            }
            plan.seen += 1;
            if !options.all && scored.classification.model == *model {
                plan.current += 1;
            } else if plan.ids.len() < limit {
                plan.ids.push(scored.item.id);
                plan.flagged += usize::from(scored.classification.flagged);
            } else {
                plan.beyond_limit += 1;
            }
        }
    }
    Ok(plan)
}

fn model_name(model: &ModelRef) -> String {
    format!("{}@{}", model.id, model.version)
}

/// What [`rescore`] would do with `model` as the current model, without a model loaded or
/// anything written.
///
/// # Errors
/// Store failures.
pub fn rescore_dry_run<S: ScoreStore + ?Sized>(
    store: &S,
    model: &ModelRef,
    options: &RescoreOptions,
) -> Result<RescoreSummary> {
    let started = Instant::now();
    let plan = plan(store, model, options)?;
    let claims_reembedded = store.claim_entries()?.iter().filter(|entry| !entry.embedded_by(model)).count();
    Ok(RescoreSummary {
        model: model_name(model),
        dry_run: true,
        items_seen: plan.seen,
        items_rescored: plan.ids.len(),
        items_current: plan.current,
        items_remaining: plan.beyond_limit,
        flagged_before: plan.flagged,
        flagged_after: None,
        claims_reembedded,
        interrupted: false,
        elapsed_secs: started.elapsed().as_secs_f64(),
    })
}

/// Each feed's category, as the crawl that stored its items decided with it: the category
/// recorded in its state at its last crawl (a catalogue's feed need not be subscribed), unless
/// it is subscribed now, when the subscription's, the user's latest word, wins. Feeds with
/// neither (items from `import`, states written before categories were recorded) have none.
///
/// # Errors
/// Storage failures (a feed state that does not decode is left out, as the crawl leaves it).
pub fn feed_categories<S: ScoreStore + IngestStore + ?Sized>(store: &S) -> Result<HashMap<SourceId, FeedCategory>> {
    let (states, _unreadable) = store.readable_feed_states()?;
    let mut categories: HashMap<SourceId, FeedCategory> =
        states.into_iter().filter_map(|state| Some((state.source, state.category?))).collect();
    categories.extend(ScoreStore::subscriptions(store)?.into_iter().map(|spec| (spec.id, spec.category)));
    Ok(categories)
}

/// Rescores the stored items of `options.filter` with `classifier`'s model: classification,
/// the decision with the item's feed category (see [`feed_categories`]), claim matching
/// (stale claims are embedded again first), then one transaction per batch. When `cancel` fires, the batch in progress is committed and no other starts.
///
/// # Errors
/// Store or classifier failures, which end the run; batches committed before stay whole.
pub async fn rescore<S: ScoreStore + IngestStore + Clone + 'static>(
    store: &S,
    classifier: &ClassifierHandle,
    options: &RescoreOptions,
    observer: &dyn RescoreObserver,
    cancel: CancellationToken,
) -> Result<RescoreSummary> {
    let started = Instant::now();
    let model = classifier.model().clone();
    let claims_reembedded = reembed_stale_claims(store, classifier).await?.reembedded;
    let (plan, matcher, categories) = blocking({
        let (store, model, options) = (store.clone(), model.clone(), options.clone());
        move || {
            let categories = feed_categories(&store)?;
            Ok::<_, PipelineError>((plan(&store, &model, &options)?, ClaimMatcher::from_store(&store)?, categories))
        }
    })
    .await??;
    let mut summary = RescoreSummary {
        model: model_name(&model),
        items_seen: plan.seen,
        items_current: plan.current,
        flagged_after: Some(0),
        claims_reembedded,
        ..RescoreSummary::default()
    };
    observer.on_event(&RescoreEvent::Started { items: plan.ids.len() });
    tracing::info!(message = "Rescore started.", model = %summary.model, items = plan.ids.len(), current = plan.current);

    let mut done = 0;
    for chunk in plan.ids.chunks(options.batch.max(1)) {
        if cancel.is_cancelled() {
            summary.interrupted = true;
            observer.on_event(&RescoreEvent::Stopping);
            break;
        }
        let items: Vec<ScoredItem> = blocking({
            let (store, ids) = (store.clone(), chunk.to_vec());
            move || store.get_many(&ids).map(|items| items.into_iter().flatten().collect::<Vec<_>>())
        })
        .await??;
        let RescoredBatch { rescored, flagged_before, flagged, .. } =
            rescore_batch(store, classifier, &matcher, &categories, items).await?;
        done += chunk.len();
        summary.items_rescored += rescored;
        summary.flagged_before += flagged_before;
        summary.flagged_after = summary.flagged_after.map(|n| n + flagged);
        observer.on_event(&RescoreEvent::BatchCommitted { rescored, flagged });
        tracing::info!(message = "Rescore batch committed.", rescored, flagged);
    }
    // A stop requested during the last batch still ends the run as interrupted (exit 130).
    summary.interrupted |= cancel.is_cancelled();
    summary.items_remaining = plan.ids.len() - done + plan.beyond_limit;
    summary.elapsed_secs = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// What [`rescore_batch`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RescoredBatch {
    /// Items rewritten.
    pub rescored: usize,
    /// Of the batch, flagged before.
    pub flagged_before: usize,
    /// Of the batch, flagged now.
    pub flagged: usize,
    /// Of the batch, the items worth a review now (campaign material).
    pub review: Vec<ItemId>,
}

/// Classifies `items` again on the classifier's thread, decides with each item's feed
/// category (none for a feed not in `categories`), matches claims, and commits the new
/// classifications in one store transaction on the blocking pool.
///
/// # Errors
/// Store or classifier failures; nothing of the batch is written then.
pub(crate) async fn rescore_batch<S: ScoreStore + Clone + 'static>(
    store: &S,
    classifier: &ClassifierHandle,
    matcher: &ClaimMatcher,
    categories: &HashMap<SourceId, FeedCategory>,
    items: Vec<ScoredItem>,
) -> Result<RescoredBatch> {
    if items.is_empty() {
        return Ok(RescoredBatch::default());
    }
    let texts: Vec<String> = items.iter().map(|scored| scored.item.classifier_input()).collect();
    let classifications = classifier.classify(texts).await?;
    let mut updates: Vec<(ItemId, Classification)> = Vec::with_capacity(items.len());
    let mut flagged_before = 0;
    for (scored, mut classification) in items.into_iter().zip(classifications) {
        classification.redecide(classifier.policy(), categories.get(&scored.item.source).copied());
        if !matcher.is_empty() {
            matcher.apply(&scored.item.classifier_input(), &mut classification);
        }
        flagged_before += usize::from(scored.classification.flagged);
        updates.push((scored.item.id, classification));
    }
    let flagged = updates.iter().filter(|(_, c)| c.flagged).count();
    let review = updates.iter().filter(|(_, c)| c.review).map(|(id, _)| *id).collect();
    let rescored = blocking({
        let store = store.clone();
        move || store.reclassify(&updates)
    })
    .await??;
    Ok(RescoredBatch { rescored, flagged_before, flagged, review })
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};
    use infodemic_classifier::{Classify, KeywordClassifier};
    use infodemic_core::{ContentHash, FeedSpec, Item};
    use infodemic_store::{ItemReader, SledStore};

    use super::*;

    fn item(n: usize, source: &str, text: &str) -> Item {
        let url = format!("https://e.org/{n}");
        let now = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
        Item {
            id: ItemId::from_canonical_url(&url),
            url: url.clone(),
            canonical_url: url,
            title: format!("item {n}"),
            text: text.to_owned(),
            published: Some(now - Duration::days(n as i64)),
            fetched_at: now,
            author: None,
            source: SourceId::new(source).unwrap(),
            language: Some("en".to_owned()),
            content_hash: ContentHash::of(&format!("item {n}"), text),
            links: Vec::new(),
            simhash: None,
        }
    }

    /// A store whose items were scored by an "old" model that flagged nothing.
    fn old_store(n: usize) -> (tempfile::TempDir, SledStore, Vec<Item>) {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = SledStore::open(&dir.path().join("db")).unwrap();
        let items: Vec<Item> = (0..n)
            .map(|i| item(i, if i % 2 == 0 { "even" } else { "odd" }, if i % 3 == 0 { "miracle cure" } else { "news" }))
            .collect();
        let mut old = KeywordClassifier::new(&[]);
        let texts: Vec<String> = items.iter().map(Item::classifier_input).collect();
        let mut scored: Vec<ScoredItem> = items
            .iter()
            .cloned()
            .zip(old.classify(&texts).unwrap())
            .map(|(item, classification)| ScoredItem { item, classification })
            .collect();
        for s in &mut scored {
            s.classification.model = ModelRef { id: "old".to_owned(), version: "1".to_owned() };
        }
        store.commit(&scored, &[], &[]).unwrap();
        (dir, store, items)
    }

    fn handle() -> ClassifierHandle {
        ClassifierHandle::spawn(Box::new(KeywordClassifier::new(&["miracle"])), 2).unwrap()
    }

    #[tokio::test]
    async fn rescores_what_another_model_scored_and_moves_the_indexes() {
        let (_dir, store, items) = old_store(7);
        let classifier = handle();
        let options = RescoreOptions { batch: 3, ..RescoreOptions::default() };

        let dry = rescore_dry_run(&store, classifier.model(), &options).unwrap();
        assert_eq!((dry.items_seen, dry.items_rescored, dry.items_current, dry.flagged_after), (7, 7, 0, None));

        let summary = rescore(&store, &classifier, &options, &NoProgress, CancellationToken::new()).await.unwrap();
        assert_eq!((summary.items_seen, summary.items_rescored, summary.items_current), (7, 7, 0));
        assert_eq!((summary.flagged_before, summary.flagged_after), (0, Some(3)), "items 0, 3 and 6");
        assert_eq!((summary.items_remaining, summary.interrupted), (0, false));
        assert_eq!(summary.model, "keyword-test@0");
        assert_eq!(store.verify().unwrap(), 7);
        for item in &items {
            let stored = store.get(item.id).unwrap().unwrap();
            assert_eq!(&stored.item, item, "the item itself is kept");
            assert_eq!(stored.classification.model, *classifier.model());
            assert_eq!(stored.classification.flagged, item.text.contains("miracle"));
            assert!(!stored.classification.reasons.is_empty(), "decided again, with reasons");
        }
        let top =
            store.query(&ItemQuery { order: infodemic_core::SortOrder::Score, limit: Some(3), ..ItemQuery::default() });
        assert!(top.unwrap().iter().all(|s| s.classification.flagged), "the score index moved with the scores");

        let again = rescore(&store, &classifier, &options, &NoProgress, CancellationToken::new()).await.unwrap();
        assert_eq!((again.items_rescored, again.items_current), (0, 7));
        let all = RescoreOptions { all: true, ..options };
        let forced = rescore(&store, &classifier, &all, &NoProgress, CancellationToken::new()).await.unwrap();
        assert_eq!(forced.items_rescored, 7);
    }

    #[tokio::test]
    async fn a_limited_run_is_resumed_by_the_next_one() {
        let (_dir, store, _) = old_store(10);
        let classifier = handle();
        let limited = RescoreOptions { limit: Some(4), batch: 3, ..RescoreOptions::default() };
        let first = rescore(&store, &classifier, &limited, &NoProgress, CancellationToken::new()).await.unwrap();
        assert_eq!((first.items_rescored, first.items_remaining), (4, 6));
        let rest = RescoreOptions::default();
        let second = rescore(&store, &classifier, &rest, &NoProgress, CancellationToken::new()).await.unwrap();
        assert_eq!((second.items_rescored, second.items_current, second.items_remaining), (6, 4, 0));
        assert_eq!(store.verify().unwrap(), 10);
    }

    #[tokio::test]
    async fn a_cancelled_run_commits_nothing_half_and_stops() {
        let (_dir, store, _) = old_store(5);
        let cancel = CancellationToken::new();
        cancel.cancel();
        let summary = rescore(&store, &handle(), &RescoreOptions::default(), &NoProgress, cancel).await.unwrap();
        assert!(summary.interrupted);
        assert_eq!((summary.items_rescored, summary.items_remaining), (0, 5));
        assert_eq!(store.verify().unwrap(), 5);
    }

    #[tokio::test]
    async fn only_items_in_the_filter_are_rescored() {
        let (_dir, store, _) = old_store(6);
        let classifier = handle();
        let since = Utc.with_ymd_and_hms(2026, 11, 16, 0, 0, 0).unwrap();
        let filter =
            ItemQuery { since: Some(since), sources: vec![SourceId::new("odd").unwrap()], ..ItemQuery::default() };
        let options = RescoreOptions { filter, ..RescoreOptions::default() };
        let summary = rescore(&store, &classifier, &options, &NoProgress, CancellationToken::new()).await.unwrap();
        assert_eq!((summary.items_seen, summary.items_rescored), (2, 2), "items 1 and 3");
        let all = store.query(&ItemQuery::default()).unwrap();
        let rescored: Vec<&str> = all
            .iter()
            .filter(|s| s.classification.model == *classifier.model())
            .map(|s| s.item.title.as_str())
            .collect();
        assert_eq!(rescored, ["item 1", "item 3"]);
    }

    /// The keyword classifier with source priors.
    struct WithPriors(KeywordClassifier);

    impl Classify for WithPriors {
        fn classify(&mut self, texts: &[String]) -> infodemic_classifier::Result<Vec<Classification>> {
            self.0.classify(texts)
        }
        fn model(&self) -> &ModelRef {
            self.0.model()
        }
        fn policy(&self) -> infodemic_core::DecisionPolicy {
            infodemic_core::DecisionPolicy {
                source_prior: [(FeedCategory::FactChecker, -3.0)].into_iter().collect(),
                ..self.0.policy()
            }
        }
    }

    /// Rescores everything with a keyword model ("miracle") that applies the source priors.
    async fn rescore_with_priors(store: &SledStore) -> RescoreSummary {
        let classifier =
            ClassifierHandle::spawn(Box::new(WithPriors(KeywordClassifier::new(&["miracle"]))), 2).unwrap();
        rescore(store, &classifier, &RescoreOptions::default(), &NoProgress, CancellationToken::new()).await.unwrap()
    }

    #[tokio::test]
    async fn items_are_decided_with_their_subscribed_feeds_category() {
        let (_dir, store, items) = old_store(7);
        let mut spec = FeedSpec::from_url(url::Url::parse("https://e.org/even.xml").unwrap());
        spec.id = SourceId::new("even").unwrap();
        spec.category = FeedCategory::FactChecker;
        store.put_subscription(&spec).unwrap();
        let summary = rescore_with_priors(&store).await;
        assert_eq!(summary.flagged_after, Some(1), "of 0, 3 and 6, only 3 is not from the fact-checker");
        for item in &items {
            let class = store.get(item.id).unwrap().unwrap().classification;
            let from_checker = item.source.as_str() == "even";
            assert_eq!(class.flagged, item.text.contains("miracle") && !from_checker, "{}", item.title);
            // "odd" is not subscribed: no category, no prior.
            assert_eq!(class.reasons.iter().any(|r| r.contains("fact-checker")), from_checker, "{:?}", class.reasons);
        }
    }

    /// A feed crawled from a catalogue, never subscribed, keeps the category it was crawled
    /// with; subscribing it with another category changes it.
    #[tokio::test]
    async fn an_unsubscribed_feed_is_decided_with_the_category_of_its_last_crawl() {
        let (_dir, store, items) = old_store(7);
        let mut state = infodemic_core::FeedState::new(SourceId::new("even").unwrap(), "https://e.org/even.xml".into());
        state.category = Some(FeedCategory::FactChecker);
        store.commit(&[], &[state], &[]).unwrap();
        assert_eq!(
            feed_categories(&store).unwrap().get(&SourceId::new("even").unwrap()),
            Some(&FeedCategory::FactChecker)
        );
        let summary = rescore_with_priors(&store).await;
        assert_eq!(summary.flagged_after, Some(1), "of 0, 3 and 6, only 3 is not from the fact-checker");
        let checked =
            items.iter().find(|item| item.source.as_str() == "even" && item.text.contains("miracle")).unwrap();
        let class = store.get(checked.id).unwrap().unwrap().classification;
        assert!(class.reasons.iter().any(|r| r.contains("fact-checker")), "{:?}", class.reasons);

        let mut spec = FeedSpec::from_url(url::Url::parse("https://e.org/even.xml").unwrap());
        spec.id = SourceId::new("even").unwrap();
        spec.category = FeedCategory::Other;
        store.put_subscription(&spec).unwrap();
        assert_eq!(feed_categories(&store).unwrap().get(&SourceId::new("even").unwrap()), Some(&FeedCategory::Other));
    }

    #[tokio::test]
    async fn claims_embedded_by_another_model_are_embedded_again_first() {
        use infodemic_core::{ClaimOrigin, DebunkedClaim, Verdict};
        let (_dir, store, _) = old_store(3);
        let claim = DebunkedClaim::new("miracle cure", Verdict::False, ClaimOrigin::Dataset { name: "t".into() });
        let fake = ModelRef { id: "fake".to_owned(), version: "9".to_owned() };
        store.put_claims(&[(claim, vec![1.0; 26])], &fake).unwrap();
        let classifier = handle();
        let summary = rescore(&store, &classifier, &RescoreOptions::default(), &NoProgress, CancellationToken::new())
            .await
            .unwrap();
        assert_eq!(summary.claims_reembedded, 1);
        let entry = store.claim_entries().unwrap().remove(0);
        assert_eq!(entry.model.as_ref(), Some(classifier.model()));
        // Item 0 says "miracle cure": it matches the claim under the current model's embedding.
        let first = store.query(&ItemQuery { text: Some("miracle".into()), ..ItemQuery::default() }).unwrap();
        assert!(first.iter().any(|s| s.classification.claim_match.is_some()), "{first:?}");
    }
}
