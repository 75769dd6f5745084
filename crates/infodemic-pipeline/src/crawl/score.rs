//! The score stage: a batch's items through the classifier (on its own thread), decided again
//! with their feed's category (the source prior), and matched against known debunked claims.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use infodemic_classifier::ClassifierHandle;
use infodemic_core::{Appearance, Classification, FeedCategory, FeedState, Item, ScoredItem, SourceId};
use tokio::sync::mpsc;

use super::enrich::EnrichedBatch;
use super::{forward, CrawlSummary};
use crate::claims::ClaimMatcher;
use crate::Result;

/// A batch ready for the store.
pub(super) struct ScoredBatch {
    /// New items with their classifications.
    pub scored: Vec<ScoredItem>,
    /// The new states of the feeds in the batch.
    pub states: Vec<FeedState>,
    /// Copies of known items found in this batch.
    pub appearances: Vec<Appearance>,
    /// How long the classifier took; `None` when there was nothing to score.
    pub scoring: Option<Duration>,
}

/// Classifies and matches.
pub(super) struct Scorer<'a> {
    /// `None`: items are stored unscored.
    classifier: Option<&'a ClassifierHandle>,
    matcher: ClaimMatcher,
    /// Each feed's publisher category: the decision's source prior.
    categories: HashMap<SourceId, FeedCategory>,
    summary: CrawlSummary,
}

impl<'a> Scorer<'a> {
    /// A scorer matching against `matcher`'s claims (and those batches bring).
    pub(super) fn new(
        classifier: Option<&'a ClassifierHandle>,
        matcher: ClaimMatcher,
        categories: HashMap<SourceId, FeedCategory>,
    ) -> Self {
        Self { classifier, matcher, categories, summary: CrawlSummary::default() }
    }

    /// Scores every batch from `input` and hands it to `output`.
    ///
    /// # Errors
    /// Classifier failures.
    pub(super) async fn run(
        mut self,
        mut input: mpsc::Receiver<EnrichedBatch>,
        output: mpsc::Sender<ScoredBatch>,
    ) -> Result<CrawlSummary> {
        while let Some(batch) = input.recv().await {
            if output.is_closed() {
                break;
            }
            let EnrichedBatch { items, states, appearances, claims } = batch;
            for (claim, embedding) in claims {
                self.matcher.add(claim, &embedding);
            }
            let (scored, scoring) = self.score(items).await?;
            if !forward(&output, ScoredBatch { scored, states, appearances, scoring }).await {
                break;
            }
        }
        Ok(self.summary)
    }

    /// The items scored, and how long the classifier took (`None`: no item, no call).
    async fn score(&mut self, items: Vec<Item>) -> Result<(Vec<ScoredItem>, Option<Duration>)> {
        let Some(classifier) = self.classifier else {
            self.summary.items_unscored += items.len();
            let unscored = items
                .into_iter()
                .map(|item| {
                    let classification = Classification::unscored(item.language.clone());
                    ScoredItem { item, classification }
                })
                .collect();
            return Ok((unscored, None));
        };
        let texts: Vec<String> = items.iter().map(Item::classifier_input).collect();
        let (classifications, scoring) = if texts.is_empty() {
            (Vec::new(), None)
        } else {
            let started = Instant::now();
            let classifications = classifier.classify(texts).await?;
            (classifications, Some(started.elapsed()))
        };
        let scored: Vec<ScoredItem> = items
            .into_iter()
            .zip(classifications)
            .map(|(item, mut classification)| {
                classification.redecide(classifier.policy(), self.categories.get(&item.source).copied());
                if !self.matcher.is_empty() {
                    self.matcher.apply(&item.classifier_input(), &mut classification);
                }
                ScoredItem { item, classification }
            })
            .collect();
        self.summary.items_matching_claims += scored.iter().filter(|s| s.classification.claim_match.is_some()).count();
        Ok((scored, scoring))
    }
}
