//! What a running `watch` does for other commands through its local API: crawls (run by the
//! watch loop between its own cycles, so one crawl at a time assigns campaigns) and claim
//! imports (embedded by the watch's model).

use std::time::Duration;

use infodemic_classifier::ClassifierHandle;
use infodemic_pipeline::{import_claims_with, reembed_stale_claims, ClaimMatcher, CrawlJob, CrawlOptions};
use infodemic_service::jobs::MatchRequest;
use infodemic_service::ServedStore;
use infodemic_service::{ClaimsRequest, CrawlRequest, JobError, Jobs};
use infodemic_store::CampaignWriter;
use tokio::sync::{mpsc, oneshot};

/// Crawls waiting for the watch loop, at most: more are refused as busy.
pub const QUEUED_CRAWLS: usize = 4;

/// The jobs of one `watch`, on its store (embedded or PostgreSQL).
#[derive(Debug)]
pub struct WatchJobs<S> {
    pub store: S,
    pub classifier: ClassifierHandle,
    /// The watch's own crawl options; a job's fetch settings replace theirs.
    pub crawl: CrawlOptions,
    pub crawls: mpsc::Sender<CrawlJob>,
}

fn failed(error: impl std::fmt::Display) -> JobError {
    JobError::Failed(error.to_string())
}

impl<S: ServedStore + CampaignWriter + Clone + std::fmt::Debug> Jobs for WatchJobs<S> {
    fn crawl(&self, request: CrawlRequest) -> infodemic_service::jobs::JobFuture {
        let (store, crawls) = (self.store.clone(), self.crawls.clone());
        let mut options = self.crawl.clone();
        options.fetch.timeout = Duration::from_secs(request.timeout_secs);
        options.fetch.max_body_bytes = request.max_body_mib.saturating_mul(1024 * 1024);
        options.fetch.per_host_delay = Duration::from_secs_f64(request.host_delay_secs);
        options.feed_concurrency = usize::from(request.concurrency);
        options.force = request.force;
        Box::pin(async move {
            let feeds = if request.feeds.is_empty() {
                tokio::task::spawn_blocking(move || infodemic_store::ScoreStore::subscriptions(&store))
                    .await
                    .map_err(failed)?
                    .map_err(failed)?
            } else {
                request.feeds
            };
            let (reply, answer) = oneshot::channel();
            crawls.try_send(CrawlJob { feeds, options, score: request.score, reply }).map_err(|error| match error {
                mpsc::error::TrySendError::Full(_) => JobError::Busy,
                mpsc::error::TrySendError::Closed(_) => failed("the watch is stopping"),
            })?;
            let summary =
                answer.await.map_err(|_| failed("the watch stopped before the crawl ran"))?.map_err(failed)?;
            serde_json::to_value(summary).map_err(failed)
        })
    }

    fn import_claims(&self, request: ClaimsRequest) -> infodemic_service::jobs::JobFuture {
        let (store, classifier) = (self.store.clone(), self.classifier.clone());
        Box::pin(async move {
            let report = import_claims_with(&store, &classifier, request.claims).await.map_err(failed)?;
            serde_json::to_value(report).map_err(failed)
        })
    }

    fn match_claims(&self, request: MatchRequest) -> infodemic_service::jobs::JobFuture {
        let (store, classifier) = (self.store.clone(), self.classifier.clone());
        Box::pin(async move {
            // Claims another model embedded are not comparable with this model's embedding.
            reembed_stale_claims(&store, &classifier).await.map_err(failed)?;
            let matcher = tokio::task::spawn_blocking(move || ClaimMatcher::from_store(&store))
                .await
                .map_err(failed)?
                .map_err(failed)?;
            let mut scored = classifier.classify(vec![request.text]).await.map_err(failed)?;
            let embedding = if scored.is_empty() { Vec::new() } else { scored.swap_remove(0).embedding };
            let nearest: Vec<serde_json::Value> = matcher
                .nearest(&embedding, request.top)
                .iter()
                .map(|(claim, similarity)| {
                    serde_json::json!({ "similarity": similarity, "claim": claim, "matches": *similarity >= matcher.threshold() })
                })
                .collect();
            Ok(serde_json::Value::Array(nearest))
        })
    }

    fn reembed_claims(&self) -> infodemic_service::jobs::JobFuture {
        let (store, classifier) = (self.store.clone(), self.classifier.clone());
        Box::pin(async move {
            let report = reembed_stale_claims(&store, &classifier).await.map_err(failed)?;
            serde_json::to_value(report).map_err(failed)
        })
    }
}
